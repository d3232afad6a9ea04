//! kiln's own wallet, for test clients and the benchmarks: deterministic keys, signed
//! transactions and the JSON bodies `POST /v1/rollup/transactions` takes. (Wallets of the
//! rollup's users are built on circomlibjs; tests check that it agrees with this one.)

use serde_json::{json, Value};

use crate::babyjub::Point;
use crate::eddsa::PrivateKey;
use crate::intake::SignedTx;
use crate::tx::{Tx, TxKind};
use crate::Fr;

/// A private key made from a seed: byte k is byte `k mod 8` of the seed (little-endian)
/// XOR k, so that tests in other languages can make the same key.
pub fn key_from_seed(seed: u64) -> PrivateKey {
    let mut prv = [0u8; 32];
    for (k, b) in prv.iter_mut().enumerate() {
        *b = seed.to_le_bytes()[k % 8] ^ (k as u8);
    }
    PrivateKey(prv)
}

/// Signs `tx` with `key`.
pub fn sign(key: &PrivateKey, tx: Tx) -> SignedTx {
    let signature = key.sign(&tx.message());
    SignedTx { tx, signature }
}

/// A signed transfer.
#[allow(clippy::too_many_arguments)]
pub fn transfer(
    key: &PrivateKey,
    chain_id: u64,
    from: u32,
    to: u32,
    token: u32,
    amount: u128,
    fee: u128,
    nonce: u64,
) -> SignedTx {
    sign(
        key,
        Tx {
            chain_id,
            kind: TxKind::Transfer,
            from,
            to: Fr::from(to),
            token,
            amount,
            fee,
            nonce,
        },
    )
}

/// A signed withdrawal to the L1 address `to` (as a number).
#[allow(clippy::too_many_arguments)]
pub fn withdraw(
    key: &PrivateKey,
    chain_id: u64,
    from: u32,
    to: Fr,
    token: u32,
    amount: u128,
    fee: u128,
    nonce: u64,
) -> SignedTx {
    sign(
        key,
        Tx {
            chain_id,
            kind: TxKind::Withdraw,
            from,
            to,
            token,
            amount,
            fee,
            nonce,
        },
    )
}

fn dec(x: &Fr) -> String {
    crate::babyjub::to_biguint(x).to_string()
}

/// The JSON body of `POST /v1/rollup/transactions` for `s`.
pub fn body(s: &SignedTx) -> Value {
    json!({
        "type": match s.tx.kind { TxKind::Transfer => "transfer", TxKind::Withdraw => "withdraw" },
        "chain_id": s.tx.chain_id,
        "from": s.tx.from,
        "to": dec(&s.tx.to),
        "token": s.tx.token,
        "amount": s.tx.amount.to_string(),
        "fee": s.tx.fee.to_string(),
        "nonce": s.tx.nonce,
        "signature": {
            "R8x": dec(&s.signature.r8.x),
            "R8y": dec(&s.signature.r8.y),
            "S": s.signature.s_value().to_string(),
        },
    })
}

/// A genesis account entry for `key` (`--rollup-genesis`).
pub fn genesis_account(index: u32, key: &Point, token: u32, balance: u128) -> Value {
    json!({
        "index": index,
        "token": token,
        "balance": balance.to_string(),
        "ax": dec(&key.x),
        "ay": dec(&key.y),
        "eth_address": "0",
    })
}
