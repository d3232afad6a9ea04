//! The batch data `D` of `docs/rollup.md`: what is posted to L1 for each batch and all that
//! `kiln rollup reconstruct` needs to rebuild the state. Fixed-size records: a header (chain
//! id, batch number, old and new state roots, exit root), 108 bytes per L1 slot, 3 bytes per
//! fee slot and 12 bytes per transaction slot; integers big-endian, field elements 32 bytes
//! big-endian. Also the exit list's tree and the circuit's public input `sha256(D) mod r`.

use ark_ff::{BigInteger, PrimeField};
use sha2::{Digest, Sha256};

use crate::amount::{AMOUNT, FEE};
use crate::babyjub::Point;
use crate::ledger::Exit;
use crate::poseidon::hash_n;
use crate::trace::{l1_slots, L1Op, FEE_SLOTS};
use crate::tree::CAPACITY;
use crate::Fr;

/// Bytes of the header: chain id, batch number, three roots.
pub const HEADER_BYTES: usize = 8 + 8 + 3 * 32;
/// Bytes of an L1 slot.
pub const L1_RECORD_BYTES: usize = 108;
/// Bytes of a fee slot.
pub const FEE_RECORD_BYTES: usize = 3;
/// Bytes of a transaction slot.
pub const TX_RECORD_BYTES: usize = 12;

/// L1 slot kinds in the data.
const KIND_DEPOSIT: u8 = 3;
const KIND_FORCED_EXIT: u8 = 4;

/// A transaction slot as the data carries it: no token or nonce (they are the sender's), no
/// signature, no L1 recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TxRecord {
    /// The sender (0: a no-op).
    pub from: u32,
    /// The receiver (0: a withdrawal).
    pub to: u32,
    /// The amount.
    pub amount: u128,
    /// The fee.
    pub fee: u128,
}

/// A batch's data, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchData {
    /// The rollup's chain id.
    pub chain_id: u64,
    /// The batch number.
    pub number: u64,
    /// The state root before.
    pub old_root: Fr,
    /// The state root after.
    pub new_root: Fr,
    /// The exit list's root.
    pub exit_root: Fr,
    /// `l1_slots(txs.len())` slots, `None` where empty.
    pub l1: Vec<Option<L1Op>>,
    /// The fee accounts credited (0: an unused slot).
    pub fee_accounts: [u32; FEE_SLOTS],
    /// The transaction slots.
    pub txs: Vec<TxRecord>,
}

/// Bytes that are not a batch's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// No batch size gives this length.
    #[error("{0} bytes is not the length of any batch's data (header {HEADER_BYTES}, then L1, fee and transaction slots)")]
    Length(usize),
    /// A field that cannot be what it claims.
    #[error("byte {offset}: {problem}")]
    Field {
        /// Where the bad field starts.
        offset: usize,
        /// What is wrong.
        problem: String,
    },
    /// A record that cannot be written (a value too large for its field).
    #[error("{0}")]
    Unencodable(String),
}

/// The length of the data of a batch of `batch_size` transaction slots.
pub fn data_len(batch_size: usize) -> usize {
    HEADER_BYTES
        + l1_slots(batch_size) * L1_RECORD_BYTES
        + FEE_SLOTS * FEE_RECORD_BYTES
        + batch_size * TX_RECORD_BYTES
}

/// A field element as 32 bytes big-endian.
pub fn fr_bytes(x: &Fr) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&x.into_bigint().to_bytes_be());
    out
}

fn put_uint(out: &mut Vec<u8>, value: u128, bytes: usize) {
    out.extend_from_slice(&value.to_be_bytes()[16 - bytes..]);
}

fn get_uint(b: &[u8]) -> u128 {
    b.iter().fold(0u128, |acc, &x| (acc << 8) | u128::from(x))
}

/// Whether `x` is below 2^bits.
fn fits(x: &Fr, bits: u32) -> bool {
    x.into_bigint().num_bits() <= bits
}

fn get_fr(b: &[u8], offset: usize) -> Result<Fr, DataError> {
    let v = num_bigint::BigUint::from_bytes_be(b);
    if v >= num_bigint::BigUint::from_bytes_be(&Fr::MODULUS.to_bytes_be()) {
        return Err(DataError::Field {
            offset,
            problem: "not below the BN254 field modulus".into(),
        });
    }
    Ok(Fr::from_be_bytes_mod_order(b))
}

impl TxRecord {
    /// The 12 bytes: from (3), to (3), the amount's code (36 bits) then the fee's (12 bits).
    pub fn encode(&self) -> Result<[u8; TX_RECORD_BYTES], DataError> {
        if self.from >= CAPACITY || self.to >= CAPACITY {
            return Err(DataError::Unencodable(format!(
                "index {} does not fit in 24 bits",
                self.from.max(self.to)
            )));
        }
        let a = AMOUNT
            .encode(self.amount)
            .map_err(|e| DataError::Unencodable(e.to_string()))?;
        let f = FEE
            .encode(self.fee)
            .map_err(|e| DataError::Unencodable(e.to_string()))?;
        let mut out = Vec::with_capacity(TX_RECORD_BYTES);
        put_uint(&mut out, self.from.into(), 3);
        put_uint(&mut out, self.to.into(), 3);
        put_uint(&mut out, (u128::from(a) << FEE.bits()) | u128::from(f), 6);
        Ok(out.try_into().expect("12 bytes"))
    }

    fn decode(b: &[u8], offset: usize) -> Result<Self, DataError> {
        let floats = get_uint(&b[6..12]) as u64;
        let bad = |what: &str| DataError::Field {
            offset: offset + 6,
            problem: format!("the {what} code overflows 128 bits"),
        };
        Ok(TxRecord {
            from: get_uint(&b[0..3]) as u32,
            to: get_uint(&b[3..6]) as u32,
            amount: AMOUNT
                .decode(floats >> FEE.bits())
                .ok_or_else(|| bad("amount"))?,
            fee: FEE
                .decode(floats & ((1 << FEE.bits()) - 1))
                .ok_or_else(|| bad("fee"))?,
        })
    }
}

/// The 108 bytes of an L1 slot: kind, index (3), token (4), amount (16), eth_address (20),
/// ax (32), ay (32).
pub fn l1_record(op: Option<&L1Op>) -> Result<[u8; L1_RECORD_BYTES], DataError> {
    let mut out = Vec::with_capacity(L1_RECORD_BYTES);
    let (kind, index, token, amount, eth, key) = match op {
        None => (
            0,
            0,
            0,
            0,
            Fr::from(0u64),
            Point {
                x: Fr::from(0u64),
                y: Fr::from(0u64),
            },
        ),
        Some(L1Op::Deposit {
            index,
            token,
            amount,
            key,
            eth_address,
        }) => (KIND_DEPOSIT, *index, *token, *amount, *eth_address, *key),
        Some(L1Op::ForcedExit { index, eth_address }) => (
            KIND_FORCED_EXIT,
            *index,
            0,
            0,
            *eth_address,
            Point {
                x: Fr::from(0u64),
                y: Fr::from(0u64),
            },
        ),
    };
    if index >= CAPACITY {
        return Err(DataError::Unencodable(format!(
            "L1 operation index {index} does not fit in 24 bits"
        )));
    }
    if !fits(&eth, 160) {
        return Err(DataError::Unencodable("an L1 address has 160 bits".into()));
    }
    out.push(kind);
    put_uint(&mut out, index.into(), 3);
    put_uint(&mut out, token.into(), 4);
    put_uint(&mut out, amount, 16);
    out.extend_from_slice(&fr_bytes(&eth)[12..]);
    out.extend_from_slice(&fr_bytes(&key.x));
    out.extend_from_slice(&fr_bytes(&key.y));
    Ok(out.try_into().expect("108 bytes"))
}

fn decode_l1(b: &[u8], offset: usize) -> Result<Option<L1Op>, DataError> {
    let index = get_uint(&b[1..4]) as u32;
    let token = get_uint(&b[4..8]) as u32;
    let amount = get_uint(&b[8..24]);
    let eth_address = Fr::from_be_bytes_mod_order(&b[24..44]);
    let key = Point {
        x: get_fr(&b[44..76], offset + 44)?,
        y: get_fr(&b[76..108], offset + 76)?,
    };
    match b[0] {
        0 if b.iter().all(|&x| x == 0) => Ok(None),
        KIND_DEPOSIT => Ok(Some(L1Op::Deposit {
            index,
            token,
            amount,
            key,
            eth_address,
        })),
        KIND_FORCED_EXIT if b[4..24].iter().chain(&b[44..]).all(|&x| x == 0) => {
            Ok(Some(L1Op::ForcedExit { index, eth_address }))
        }
        k => Err(DataError::Field {
            offset,
            problem: format!("an L1 slot of kind {k} with these fields is none of empty (0), deposit (3) or forced exit (4)"),
        }),
    }
}

impl BatchData {
    /// The bytes `D`.
    pub fn encode(&self) -> Result<Vec<u8>, DataError> {
        if self.l1.len() != l1_slots(self.txs.len()) {
            return Err(DataError::Unencodable(format!(
                "a batch of {} transaction slots has {} L1 slots, not {}",
                self.txs.len(),
                l1_slots(self.txs.len()),
                self.l1.len()
            )));
        }
        let mut out = Vec::with_capacity(data_len(self.txs.len()));
        put_uint(&mut out, self.chain_id.into(), 8);
        put_uint(&mut out, self.number.into(), 8);
        for r in [&self.old_root, &self.new_root, &self.exit_root] {
            out.extend_from_slice(&fr_bytes(r));
        }
        for op in &self.l1 {
            out.extend_from_slice(&l1_record(op.as_ref())?);
        }
        for &f in &self.fee_accounts {
            if f >= CAPACITY {
                return Err(DataError::Unencodable(format!(
                    "fee account {f} does not fit in 24 bits"
                )));
            }
            put_uint(&mut out, f.into(), 3);
        }
        for t in &self.txs {
            out.extend_from_slice(&t.encode()?);
        }
        Ok(out)
    }

    /// Decodes `D`, finding the batch size from its length.
    pub fn decode(bytes: &[u8]) -> Result<Self, DataError> {
        let n = (0..=bytes.len() / TX_RECORD_BYTES)
            .find(|&n| data_len(n) == bytes.len())
            .ok_or(DataError::Length(bytes.len()))?;
        let mut at = HEADER_BYTES;
        let mut l1 = Vec::new();
        for _ in 0..l1_slots(n) {
            l1.push(decode_l1(&bytes[at..at + L1_RECORD_BYTES], at)?);
            at += L1_RECORD_BYTES;
        }
        let mut fee_accounts = [0u32; FEE_SLOTS];
        for f in &mut fee_accounts {
            *f = get_uint(&bytes[at..at + 3]) as u32;
            at += 3;
        }
        let mut txs = Vec::with_capacity(n);
        for _ in 0..n {
            txs.push(TxRecord::decode(&bytes[at..at + TX_RECORD_BYTES], at)?);
            at += TX_RECORD_BYTES;
        }
        Ok(BatchData {
            chain_id: get_uint(&bytes[0..8]) as u64,
            number: get_uint(&bytes[8..16]) as u64,
            old_root: get_fr(&bytes[16..48], 16)?,
            new_root: get_fr(&bytes[48..80], 48)?,
            exit_root: get_fr(&bytes[80..112], 80)?,
            l1,
            fee_accounts,
            txs,
        })
    }
}

/// The batch circuit's public input: `uint256(sha256(data)) mod r`.
pub fn public_input(data: &[u8]) -> Fr {
    Fr::from_be_bytes_mod_order(&Sha256::digest(data))
}

/// An exit's leaf: `H(to, token, amount)`; 0 for a slot without one.
pub fn exit_leaf(exit: Option<&Exit>) -> Fr {
    exit.map_or(Fr::from(0u64), |e| {
        hash_n([e.to, Fr::from(e.token), Fr::from(e.amount)])
    })
}

/// The levels of the exit tree over `leaves` (padded with 0 to a power of 4, at least 4):
/// level 0 the leaves, the last one the root alone.
fn exit_levels(leaves: &[Fr]) -> Vec<Vec<Fr>> {
    let mut width = 4;
    while width < leaves.len() {
        width *= 4;
    }
    let mut level: Vec<Fr> = leaves.to_vec();
    level.resize(width, Fr::from(0u64));
    let mut levels = vec![level];
    while levels.last().expect("one level").len() > 1 {
        let next = levels
            .last()
            .expect("one level")
            .chunks(4)
            .map(|c| {
                // Groups of empty subtrees (most slots exit nothing) are known hashes.
                let k = levels.len() - 1;
                let empty = crate::tree::empty_hashes();
                if k + 1 < empty.len() && c.iter().all(|x| *x == empty[k]) {
                    empty[k + 1]
                } else {
                    hash_n([c[0], c[1], c[2], c[3]])
                }
            })
            .collect();
        levels.push(next);
    }
    levels
}

/// The exit root over the slots' exit leaves (L1 slots first).
pub fn exit_root(leaves: &[Fr]) -> Fr {
    exit_levels(leaves).last().expect("a root")[0]
}

/// The proof of the exit leaf at `position`: the groups of four children along its path,
/// leaves first (checked as state proofs are).
pub fn exit_proof(leaves: &[Fr], position: usize) -> Vec<[Fr; 4]> {
    let levels = exit_levels(leaves);
    let mut pos = position;
    let mut proof = Vec::new();
    for level in &levels[..levels.len() - 1] {
        let first = pos & !3;
        proof.push([
            level[first],
            level[first + 1],
            level[first + 2],
            level[first + 3],
        ]);
        pos >>= 2;
    }
    proof
}
