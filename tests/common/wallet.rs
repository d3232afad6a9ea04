//! The rollup wallet built on circomlibjs alone (`tests/fixtures/rollup_wallet.cjs`): keys,
//! signed transactions, state checks, as rollup users' wallets make them.

use std::time::Instant;

use serde_json::{json, Value};

use super::{npm_bin, repo_root, run, write_json, TestDir};

/// The rollup chain id the tests use.
pub const CHAIN: u64 = 77;

/// Runs the circomlibjs wallet; returns its JSON.
pub fn wallet(cmd: &str, arg: &str) -> Value {
    let node_modules = npm_bin().parent().unwrap().to_path_buf();
    let script = repo_root().join("tests/fixtures/rollup_wallet.cjs");
    let out = run(
        "node",
        [
            script.as_os_str(),
            node_modules.as_os_str(),
            cmd.as_ref(),
            arg.as_ref(),
        ],
    )
    .ok();
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("wallet {cmd}: {e}: {}", out.stdout))
}

/// Signs `txs` (each with the signer's `prv`) with the circomlibjs wallet.
pub fn sign(dir: &TestDir, txs: &[Value]) -> Vec<(String, Value)> {
    let path = dir.join(format!("txs-{}.json", Instant::now().elapsed().as_nanos()));
    write_json(&path, &Value::Array(txs.to_vec()));
    let signed = wallet("sign", path.to_str().unwrap());
    signed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["hash"].as_str().unwrap().to_string(), s["body"].clone()))
        .collect()
}

/// Keys the wallet made (`wallet("keys", n)`), account i's at i − 1.
pub struct Keys(pub Vec<Value>);

impl Keys {
    /// The private key of account `index`.
    pub fn prv(&self, index: u64) -> &str {
        self.0[index as usize - 1]["prv"].as_str().unwrap()
    }
}

/// A transaction of token 0 on rollup chain [`CHAIN`] for the wallet to sign.
pub fn tx(
    keys: &Keys,
    kind: &str,
    from: u64,
    to: &str,
    amount: &str,
    fee: u64,
    nonce: u64,
) -> Value {
    json!({"prv": keys.prv(from), "chain_id": CHAIN, "type": kind, "from": from, "to": to,
           "token": 0, "amount": amount, "fee": fee, "nonce": nonce})
}
