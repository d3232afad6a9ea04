//! The circuit's private inputs, slot by slot: taken from a [`BatchTrace`] to make a
//! witness, or blank (all zero, keys the identity) to synthesize the shape. Nothing here is
//! trusted: a value that cannot be what the trace claims becomes one the constraints refuse
//! (an amount without an encoding decodes to 0 and breaks the signature, an `S` too large
//! for the field fails its range check), so a bad trace is named by the constraint it
//! breaks, never turned into a satisfying witness.

use ark_ff::Zero;
use kiln_rollup::account::Account;
use kiln_rollup::amount::{AMOUNT, FEE};
use kiln_rollup::babyjub::{to_biguint, Point};
use kiln_rollup::trace::{l1_slots, BatchTrace, L1Op, Touch, FEE_SLOTS};
use kiln_rollup::tree::{StateProof, CAPACITY, DEPTH};
use kiln_rollup::tx::TxKind;

use crate::cs::Fr;
use crate::CircuitError;

/// An account's fields as the circuit reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountIn {
    /// Token.
    pub token: Fr,
    /// Nonce.
    pub nonce: Fr,
    /// Balance.
    pub balance: Fr,
    /// Public key.
    pub key: Point,
    /// L1 owner.
    pub eth: Fr,
}

impl AccountIn {
    /// The stand-in for no account: zeros and the identity as key (on the curve, so the
    /// signature check of a no-op passes).
    pub fn none() -> AccountIn {
        AccountIn {
            token: Fr::zero(),
            nonce: Fr::zero(),
            balance: Fr::zero(),
            key: Point::IDENTITY,
            eth: Fr::zero(),
        }
    }

    /// An account's fields, or the stand-in.
    pub fn of(a: Option<&Account>) -> AccountIn {
        a.map_or_else(AccountIn::none, |a| AccountIn {
            token: Fr::from(a.token),
            nonce: Fr::from(a.nonce),
            balance: Fr::from(a.balance),
            key: a.key,
            eth: a.eth_address,
        })
    }
}

/// An L1 slot's inputs.
#[derive(Clone, Debug)]
pub struct L1In {
    /// A deposit.
    pub deposit: bool,
    /// A forced exit.
    pub exit: bool,
    /// The account's index (0 for an empty slot).
    pub index: u32,
    /// A deposit's token.
    pub token: u32,
    /// A deposit's amount.
    pub amount: u128,
    /// The L1 address.
    pub eth: Fr,
    /// A deposit's key.
    pub key: Point,
    /// Whether the account exists before the slot.
    pub exists: bool,
    /// The account before the slot.
    pub account: AccountIn,
    /// Its state proof.
    pub proof: StateProof,
}

/// A transaction slot's inputs.
#[derive(Clone, Debug)]
pub struct TxIn {
    /// The sender (0: a no-op).
    pub from: u32,
    /// The receiver (0: a withdrawal).
    pub to: u32,
    /// The amount's code.
    pub amount_code: u64,
    /// The fee's code.
    pub fee_code: u64,
    /// A withdrawal's L1 recipient.
    pub recipient: Fr,
    /// The sender before the slot.
    pub sender: AccountIn,
    /// Its state proof.
    pub sender_proof: StateProof,
    /// The receiver after the sender's write.
    pub receiver: AccountIn,
    /// Its state proof.
    pub receiver_proof: StateProof,
    /// The signature's `R8`.
    pub r8: Point,
    /// The signature's `S` as a field element (`p − 1`, which fails the range check, when
    /// it does not fit in 251 bits).
    pub s: Fr,
}

/// A fee slot's inputs.
#[derive(Clone, Debug)]
pub struct FeeIn {
    /// The fee account (0: unused).
    pub index: u32,
    /// Its token.
    pub token: Fr,
    /// The account before the credit.
    pub account: AccountIn,
    /// Its state proof.
    pub proof: StateProof,
}

/// Everything the circuit reads.
#[derive(Clone, Debug)]
pub struct BatchIn {
    /// The public input `sha256(D) mod r`.
    pub public_input: Fr,
    /// The chain id.
    pub chain_id: u64,
    /// The batch number.
    pub number: u64,
    /// The state root before the batch.
    pub old_root: Fr,
    /// L1 slots.
    pub l1: Vec<L1In>,
    /// Transaction slots.
    pub txs: Vec<TxIn>,
    /// Fee slots.
    pub fees: Vec<FeeIn>,
}

fn zero_proof() -> StateProof {
    [[Fr::zero(); 4]; DEPTH]
}

impl BatchIn {
    /// The blank inputs of a batch of `batch_size` slots (for the circuit's shape).
    pub fn blank(batch_size: usize) -> BatchIn {
        BatchIn {
            public_input: Fr::zero(),
            chain_id: 0,
            number: 0,
            old_root: Fr::zero(),
            l1: (0..l1_slots(batch_size))
                .map(|_| L1In {
                    deposit: false,
                    exit: false,
                    index: 0,
                    token: 0,
                    amount: 0,
                    eth: Fr::zero(),
                    key: Point {
                        x: Fr::zero(),
                        y: Fr::zero(),
                    },
                    exists: false,
                    account: AccountIn::none(),
                    proof: zero_proof(),
                })
                .collect(),
            txs: (0..batch_size)
                .map(|_| TxIn {
                    from: 0,
                    to: 0,
                    amount_code: 0,
                    fee_code: 0,
                    recipient: Fr::zero(),
                    sender: AccountIn::none(),
                    sender_proof: zero_proof(),
                    receiver: AccountIn::none(),
                    receiver_proof: zero_proof(),
                    r8: Point::IDENTITY,
                    s: Fr::zero(),
                })
                .collect(),
            fees: (0..FEE_SLOTS)
                .map(|_| FeeIn {
                    index: 0,
                    token: Fr::zero(),
                    account: AccountIn::none(),
                    proof: zero_proof(),
                })
                .collect(),
        }
    }

    /// The inputs a trace gives. Fails only when the trace does not have the shape of a
    /// batch (slot counts), or lacks a state proof the circuit must read.
    pub fn from_trace(t: &BatchTrace) -> Result<BatchIn, CircuitError> {
        let n = t.txs.len();
        if n == 0 {
            return Err(CircuitError::BatchSize(0));
        }
        if t.l1.len() != l1_slots(n) || t.fees.len() != FEE_SLOTS {
            return Err(CircuitError::Trace(format!(
                "a batch of {n} transaction slots has {} L1 slots and {FEE_SLOTS} fee slots; the trace has {} and {}",
                l1_slots(n),
                t.l1.len(),
                t.fees.len()
            )));
        }
        let l1 =
            t.l1.iter()
                .enumerate()
                .map(|(k, s)| l1_in(k, s.op.as_ref(), &s.touch))
                .collect::<Result<Vec<_>, _>>()?;
        let txs = t.txs.iter().map(tx_in).collect();
        let fees = t
            .fees
            .iter()
            .map(|f| FeeIn {
                index: f.index,
                token: Fr::from(f.token),
                account: AccountIn::of(f.touch.before.as_ref()),
                proof: f.touch.proof,
            })
            .collect();
        Ok(BatchIn {
            public_input: t.public_input,
            chain_id: t.chain_id,
            number: t.number,
            old_root: t.old_root,
            l1,
            txs,
            fees,
        })
    }
}

fn l1_in(k: usize, op: Option<&L1Op>, touch: &Touch) -> Result<L1In, CircuitError> {
    let zero_key = Point {
        x: Fr::zero(),
        y: Fr::zero(),
    };
    let (deposit, exit, index, token, amount, eth, key) = match op {
        None => (false, false, 0, 0, 0, Fr::zero(), zero_key),
        Some(L1Op::Deposit {
            index,
            token,
            amount,
            key,
            eth_address,
        }) => (true, false, *index, *token, *amount, *eth_address, *key),
        Some(L1Op::ForcedExit { index, eth_address }) => {
            (false, true, *index, 0, 0, *eth_address, zero_key)
        }
    };
    if index >= CAPACITY {
        return Err(CircuitError::Trace(format!(
            "L1 slot {k}: index {index} does not fit in the batch data's 24 bits"
        )));
    }
    if touch.index != index {
        return Err(CircuitError::Trace(format!(
            "L1 slot {k}: the circuit reads account {index} whatever the operation does, but the trace's write is at index {} (a refunded deposit or an ignored forced exit must record a read of its index: before = after)",
            touch.index
        )));
    }
    Ok(L1In {
        deposit,
        exit,
        index,
        token,
        amount,
        eth,
        key,
        exists: touch.before.is_some(),
        account: AccountIn::of(touch.before.as_ref()),
        proof: touch.proof,
    })
}

/// `S` as a field element when it has at most 251 bits, else `p − 1` (refused by the range
/// check).
fn s_field(s: &num_bigint::BigUint) -> Fr {
    if s.bits() <= crate::eddsa::SCALAR_BITS as u64 {
        Fr::from(s.clone())
    } else {
        -Fr::from(1u64)
    }
}

fn tx_in(slot: &kiln_rollup::trace::TxSlot) -> TxIn {
    let Some(s) = &slot.tx else {
        return TxIn {
            from: 0,
            to: 0,
            amount_code: 0,
            fee_code: 0,
            recipient: Fr::zero(),
            sender: AccountIn::none(),
            sender_proof: slot.sender.proof,
            receiver: AccountIn::none(),
            receiver_proof: slot.receiver.proof,
            r8: Point::IDENTITY,
            s: Fr::zero(),
        };
    };
    let tx = &s.tx;
    let (to, recipient) = match tx.kind {
        // An index that does not fit makes the slot a withdrawal, whose signed type differs.
        TxKind::Transfer => (
            u32::try_from(to_biguint(&tx.to))
                .ok()
                .filter(|&i| i < CAPACITY)
                .unwrap_or(0),
            Fr::zero(),
        ),
        TxKind::Withdraw => (0, tx.to),
    };
    TxIn {
        from: tx.from.min(CAPACITY - 1),
        to,
        amount_code: AMOUNT.encode(tx.amount).unwrap_or(0),
        fee_code: FEE.encode(tx.fee).unwrap_or(0),
        recipient,
        sender: AccountIn::of(slot.sender.before.as_ref()),
        sender_proof: slot.sender.proof,
        receiver: AccountIn::of(slot.receiver.before.as_ref()),
        receiver_proof: slot.receiver.proof,
        r8: s.signature.r8,
        s: s_field(&s.signature.s_value()),
    }
}
