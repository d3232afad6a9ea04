//! Transactions: a transfer between two accounts of the same token, or a withdrawal to an
//! L1 address. The signed message is `m = H(chainId, type, from, to, token, amount, fee,
//! nonce)`, signed with the key of account `from`; the transaction's hash is `m` as `0x`
//! and 64 hex digits.

use ark_ff::{BigInteger, PrimeField};

use crate::poseidon::hash_n;
use crate::Fr;

/// What a transaction does (its `type` in the signed message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxKind {
    /// `type` 1: `amount` from account `from` to account `to`.
    Transfer = 1,
    /// `type` 2: `amount` from account `from` to the L1 address `to`.
    Withdraw = 2,
}

/// A transaction's fields, as they are signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tx {
    /// The rollup's chain id.
    pub chain_id: u64,
    /// Transfer or withdrawal.
    pub kind: TxKind,
    /// The sending account's index.
    pub from: u32,
    /// The receiving account's index (transfer) or L1 address as a number (withdrawal).
    pub to: Fr,
    /// The token (the sender's, and the receiver's for a transfer).
    pub token: u32,
    /// The amount moved.
    pub amount: u128,
    /// The fee paid to the operator.
    pub fee: u128,
    /// The sender's nonce before this transaction.
    pub nonce: u64,
}

impl Tx {
    /// The signed message `m`.
    pub fn message(&self) -> Fr {
        hash_n(self.message_inputs())
    }

    /// What the message hashes: `(chainId, type, from, to, token, amount, fee, nonce)`.
    pub fn message_inputs(&self) -> [Fr; 8] {
        [
            Fr::from(self.chain_id),
            Fr::from(self.kind as u64),
            Fr::from(self.from),
            self.to,
            Fr::from(self.token),
            Fr::from(self.amount),
            Fr::from(self.fee),
            Fr::from(self.nonce),
        ]
    }

    /// The transaction's hash: `m` as `0x` and 64 hex digits.
    pub fn hash_hex(&self) -> String {
        hash_hex(&self.message())
    }
}

/// A field element as `0x` and 64 hex digits (big-endian).
pub fn hash_hex(m: &Fr) -> String {
    let be = m.into_bigint().to_bytes_be();
    let mut s = String::with_capacity(66);
    s.push_str("0x");
    for b in be {
        s.push_str(&format!("{b:02x}"));
    }
    s
}
