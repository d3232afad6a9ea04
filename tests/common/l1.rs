//! The rollup on an L1 (anvil) through the real binary: `kiln serve --rollup --l1-rpc`,
//! foundry's `cast` against the rollup contract, and waiting for L1 outcomes.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::chain::{Anvil, DEV_KEY};
use super::server::{Body, Server};

/// `[[a,b,c,d],…]`: groups of four decimal strings (a state or exit proof's `path`) as
/// cast takes a `uint256[4][]`.
pub fn path_arg(path: &Value) -> String {
    let groups: Vec<String> = path
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let words: Vec<&str> = g
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect();
            format!("[{}]", words.join(","))
        })
        .collect();
    format!("[{}]", groups.join(","))
}

pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `cast send` from `key`; returns whether it succeeded and cast's output.
pub fn send(chain: &Anvil, key: &str, args: &[&str]) -> (bool, String) {
    let mut all = vec!["send", "--private-key", key, "--json"];
    all.extend_from_slice(args);
    let out = chain.cast(&all);
    let text = format!("{}{}", out.stdout, out.stderr);
    let ok = out.success()
        && serde_json::from_str::<Value>(&out.stdout).is_ok_and(|r| r["status"] == "0x1");
    (ok, text)
}

pub fn cast_call(chain: &Anvil, args: &[&str]) -> String {
    let mut all = vec!["call"];
    all.extend_from_slice(args);
    let out = chain.cast(&all).ok();
    out.stdout
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

pub fn account(s: &Server, i: u64) -> Option<Value> {
    let r = s.call("GET", &format!("/v1/rollup/accounts/{i}"), None, Body::None);
    (r.status == 200).then(|| r.json())
}

/// Starts `kiln serve --rollup` on `chain` (batch size 2) and waits for its deployment;
/// returns the server and the rollup contract's address.
pub fn start(chain: &Anvil, data: &Path, genesis: &Path) -> (Server, String) {
    start_with(chain, data, genesis, &[])
}

/// [`start`] with more flags (a flag given here replaces its default).
pub fn start_with(chain: &Anvil, data: &Path, genesis: &Path, extra: &[&str]) -> (Server, String) {
    std::env::set_var("KILN_L1_PRIVATE_KEY", DEV_KEY);
    let mut args = vec![
        "--rollup",
        "--rollup-genesis",
        genesis.to_str().unwrap(),
        "--l1-rpc",
        &chain.url,
    ];
    // Defaults that `extra` may override.
    for (flag, value) in [
        ("--rollup-max-batch-size", "2"),
        ("--rollup-batch-timeout-ms", "300"),
        ("--rollup-rate-limit", "0"),
        ("--l1-confirmations", "0"),
        ("--l1-poll-ms", "200"),
        ("--l1-inclusion-deadline-s", "100"),
    ] {
        if !extra.contains(&flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    let s = Server::start(data, &args);
    let record = data.join("rollup/l1-deployment.json");
    let deployment: Value = wait_for("the deployment", 900, || {
        std::fs::read_to_string(&record)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
    });
    (s, deployment["rollup"].as_str().unwrap().to_string())
}

/// `cast rpc METHOD PARAMS…` on `chain`; returns its output.
pub fn rpc(chain: &Anvil, params: &[&str]) -> String {
    let mut all = vec!["rpc"];
    all.extend_from_slice(params);
    chain.cast(&all).ok().stdout.trim().to_string()
}

/// The batch numbers of the contract's `BatchProven` events, in chain order.
pub fn proven_events(chain: &Anvil, rollup: &str) -> Vec<(u64, u64)> {
    let out = chain
        .cast(&[
            "logs",
            "--json",
            "--from-block",
            "0",
            "--address",
            rollup,
            "BatchProven(uint256)",
        ])
        .ok();
    let logs: Vec<Value> = serde_json::from_str(&out.stdout).unwrap_or_default();
    logs.iter()
        .map(|l| {
            let n = u64::from_str_radix(
                l["topics"][1].as_str().unwrap().trim_start_matches("0x"),
                16,
            )
            .unwrap();
            let block = u64::from_str_radix(
                l["blockNumber"].as_str().unwrap().trim_start_matches("0x"),
                16,
            )
            .unwrap();
            (n, block)
        })
        .collect()
}

/// Waits until every transaction in `hashes` is `finalized`; returns their batches.
pub fn wait_finalized(s: &Server, hashes: &[String]) -> Vec<u64> {
    hashes
        .iter()
        .map(|h| {
            wait_for(&format!("{h} finalized"), 900, || {
                let r = s.call(
                    "GET",
                    &format!("/v1/rollup/transactions/{h}"),
                    None,
                    Body::None,
                );
                (r.status == 200 && r.json()["status"] == "finalized")
                    .then(|| r.json()["batch"].as_u64().unwrap())
            })
        })
        .collect()
}

/// Posts signed transactions; returns their hashes.
pub fn post(s: &Server, signed: &[(String, Value)]) -> Vec<String> {
    signed
        .iter()
        .map(|(hash, body)| {
            let r = s.call(
                "POST",
                "/v1/rollup/transactions",
                None,
                Body::Json(body.clone()),
            );
            assert_eq!(r.status, 200, "{r:?}");
            hash.clone()
        })
        .collect()
}

/// An address as the decimal number L2 writes it.
pub fn address_dec(addr: &str) -> String {
    num_bigint::BigUint::parse_bytes(addr.trim_start_matches("0x").as_bytes(), 16)
        .unwrap()
        .to_string()
}
