//! Black-box tests of the rollup (`kiln serve --rollup`): the real binary on loopback, a
//! wallet built on circomlibjs alone (`tests/fixtures/rollup_wallet.cjs`) making keys,
//! signing transactions and checking the state root and state proofs the API serves.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::server::*;
use common::*;
use serde_json::{json, Value};

const CHAIN: u64 = 77;

/// Runs the circomlibjs wallet; returns its JSON.
fn wallet(cmd: &str, arg: &str) -> Value {
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
fn sign(dir: &TestDir, txs: &[Value]) -> Vec<(String, Value)> {
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

struct Keys(Vec<Value>);

impl Keys {
    fn prv(&self, index: u64) -> &str {
        self.0[index as usize - 1]["prv"].as_str().unwrap()
    }
}

fn tx(keys: &Keys, kind: &str, from: u64, to: &str, amount: &str, fee: u64, nonce: u64) -> Value {
    json!({"prv": keys.prv(from), "chain_id": CHAIN, "type": kind, "from": from, "to": to,
           "token": 0, "amount": amount, "fee": fee, "nonce": nonce})
}

fn start(data: &Path, genesis: &Path) -> Server {
    Server::start(
        data,
        &[
            "--rollup",
            "--rollup-genesis",
            genesis.to_str().unwrap(),
            "--rollup-max-batch-size",
            "2",
            "--rollup-batch-timeout-ms",
            "300",
            "--rollup-rate-limit",
            "0",
        ],
    )
}

/// Every account and a proof of each, as the API serves them, checked by the wallet.
fn check_state(dir: &TestDir, s: &Server, n_accounts: u64) -> String {
    let state = s
        .call("GET", "/v1/rollup/state", None, Body::None)
        .expect(200);
    let accounts: Vec<Value> = (1..=n_accounts)
        .map(|i| {
            s.call("GET", &format!("/v1/rollup/accounts/{i}"), None, Body::None)
                .expect(200)
        })
        .collect();
    let proofs: Vec<Value> = (1..=n_accounts + 1)
        .map(|i| {
            s.call(
                "GET",
                &format!("/v1/rollup/accounts/{i}/proof"),
                None,
                Body::None,
            )
            .expect(200)
        })
        .collect();
    let root = state["state_root_decimal"].as_str().unwrap().to_string();
    let path = dir.join("state.json");
    write_json(
        &path,
        &json!({"root": root, "accounts": accounts, "proofs": proofs}),
    );
    let checked = wallet("check", path.to_str().unwrap());
    assert_eq!(checked["bad"], json!([]), "{checked}");
    assert_eq!(checked["root"].as_str().unwrap(), root);
    root
}

fn wait_batch(s: &Server, n: u64, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let r = s.call("GET", &format!("/v1/rollup/batches/{n}"), None, Body::None);
        if r.status == 200 && r.json()["status"] == status && !r.json()["new_state_root"].is_null()
        {
            return r.json();
        }
        assert!(
            Instant::now() < deadline,
            "batch {n} never reached {status}: {r:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn circomlibjs_wallets_transact_batches_are_proven_for_snarkjs_and_bad_transactions_change_nothing() {
    let dir = TestDir::new("rollup-flow");
    let keys = Keys(wallet("keys", "5").as_array().unwrap().clone());
    let accounts: Vec<Value> = (1..=4u64)
        .map(|i| {
            let k = &keys.0[i as usize - 1];
            json!({"index": i, "token": 0, "balance": "1000000", "ax": k["ax"], "ay": k["ay"], "eth_address": "0"})
        })
        .collect();
    let genesis = dir.join("genesis.json");
    write_json(
        &genesis,
        &json!({"chain_id": CHAIN, "accounts": accounts, "fee_accounts": [{"token": 0, "index": 4}]}),
    );
    let data = dir.join("data");
    let s = start(&data, &genesis);
    let root0 = check_state(&dir, &s, 4);

    // Bad transactions: each a 4xx naming the problem, and nothing changes.
    let good = sign(&dir, &[tx(&keys, "transfer", 1, "2", "100", 1, 0)]);
    let (_, good_body) = &good[0];
    let mut forged = good_body.clone();
    forged["amount"] = json!("101");
    let other_key = {
        let mut t = tx(&keys, "transfer", 1, "2", "100", 1, 0);
        t["prv"] = json!(keys.prv(5));
        sign(&dir, &[t]).remove(0).1
    };
    let bad_sigs = sign(
        &dir,
        &[
            tx(&keys, "transfer", 1, "2", "100", 1, 3), // a future nonce
            tx(&keys, "transfer", 2, "3", "1000000", 1, 0), // amount + fee > balance
            tx(
                &keys,
                "transfer",
                2,
                "3",
                "340282366920938463463374607431768211455",
                0,
                0,
            ), // overflow
            tx(&keys, "transfer", 2, "9", "5", 0, 0),   // no such receiver
            tx(&keys, "transfer", 2, "3", "12345678901", 0, 0), // not writable in the data
        ],
    );
    let mut wrong_chain = good_body.clone();
    wrong_chain["chain_id"] = json!(CHAIN + 1);
    let mut missing = good_body.clone();
    missing.as_object_mut().unwrap().remove("nonce");
    let oversized = format!("{{\"pad\": \"{}\"}}", "x".repeat(20_000));
    let cases: Vec<(&str, Body, u16, &str)> = vec![
        ("forged", Body::Json(forged), 422, "bad_signature"),
        ("another key", Body::Json(other_key), 422, "bad_signature"),
        (
            "future nonce",
            Body::Json(bad_sigs[0].1.clone()),
            422,
            "bad_nonce",
        ),
        (
            "insufficient",
            Body::Json(bad_sigs[1].1.clone()),
            422,
            "insufficient_balance",
        ),
        ("overflow", Body::Json(bad_sigs[2].1.clone()), 422, ""),
        (
            "receiver",
            Body::Json(bad_sigs[3].1.clone()),
            422,
            "unknown_account",
        ),
        (
            "unencodable",
            Body::Json(bad_sigs[4].1.clone()),
            422,
            "unencodable_amount",
        ),
        ("chain", Body::Json(wrong_chain), 422, "invalid_transaction"),
        ("missing", Body::Json(missing), 422, "invalid_transaction"),
        (
            "malformed",
            Body::Bytes(b"{\"type\": \"transfer\","),
            400,
            "malformed_json",
        ),
        (
            "oversized",
            Body::Bytes(oversized.as_bytes()),
            413,
            "payload_too_large",
        ),
    ];
    for (what, body, status, code) in cases {
        let r = s.call("POST", "/v1/rollup/transactions", None, body);
        let v = r.expect(status);
        if !code.is_empty() {
            assert_eq!(v["error"]["code"], code, "{what}: {v}");
        }
        let st = s
            .call("GET", "/v1/rollup/state", None, Body::None)
            .expect(200);
        assert_eq!(
            st["state_root_decimal"].as_str().unwrap(),
            root0,
            "{what} changed the state"
        );
        assert!(st["open_batch"].is_null(), "{what} opened a batch");
    }

    // Transfers and a withdrawal, signed by circomlibjs, confirmed with the hash it computed.
    let signed = sign(
        &dir,
        &[
            tx(&keys, "transfer", 1, "2", "100", 1, 0),
            tx(&keys, "transfer", 2, "3", "50", 0, 0),
            tx(&keys, "transfer", 1, "3", "10", 2, 1),
            tx(
                &keys,
                "withdraw",
                3,
                "0x000000000000000000000000000000000000dEaD",
                "5",
                1,
                0,
            ),
            tx(&keys, "transfer", 3, "1", "7", 0, 1),
        ],
    );
    for (hash, body) in &signed {
        let c = s
            .call(
                "POST",
                "/v1/rollup/transactions",
                None,
                Body::Json(body.clone()),
            )
            .expect(200);
        assert_eq!(
            (c["hash"].as_str().unwrap(), c["status"].as_str().unwrap()),
            (hash.as_str(), "confirmed")
        );
    }
    // A replay of a confirmed transaction is refused.
    let replay = s
        .call(
            "POST",
            "/v1/rollup/transactions",
            None,
            Body::Json(signed[0].1.clone()),
        )
        .expect(422);
    assert_eq!(replay["error"]["code"], "bad_nonce");
    let a1 = s
        .call("GET", "/v1/rollup/accounts/1", None, Body::None)
        .expect(200);
    assert_eq!(
        (a1["nonce"].clone(), a1["balance"].clone()),
        (json!(2), json!((1_000_000 - 101 - 12 + 7).to_string()))
    );

    // Batches of 2 close by size, the last by time, and each is proven in the job queue.
    let batches: Vec<Value> = (1..=3).map(|n| wait_batch(&s, n, "proven")).collect();
    let counts: Vec<u64> = batches
        .iter()
        .map(|b| b["tx_count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [2, 2, 1]);
    let status = s
        .call(
            "GET",
            &format!("/v1/rollup/transactions/{}", signed[0].0),
            None,
            Body::None,
        )
        .expect(200);
    assert_eq!(
        (status["status"].as_str(), status["batch"].as_u64()),
        (Some("proven"), Some(1))
    );
    // The fee account got every batch's fees (1 + 0, 2 + 1, 0).
    let fee_account = s
        .call("GET", "/v1/rollup/accounts/4", None, Body::None)
        .expect(200);
    assert_eq!(fee_account["balance"], "1000004");
    let root = check_state(&dir, &s, 4);
    let state = s
        .call("GET", "/v1/rollup/state", None, Body::None)
        .expect(200);
    assert_eq!(batches[2]["new_state_root"], state["state_root"]);
    assert_eq!(state["last_proven_batch"], 3);
    assert_ne!(root, root0);

    // snarkjs accepts each batch proof with the verification key and public signals the API
    // serves; the one public signal is sha256(batch data) mod r; a changed signal fails.
    for b in &batches {
        let n = b["number"].as_u64().unwrap();
        let vk = s
            .call(
                "GET",
                &format!("/v1/rollup/batches/{n}/verification-key"),
                None,
                Body::None,
            )
            .expect(200);
        let (vk_path, public, proof) = (
            dir.join(format!("vk{n}.json")),
            dir.join(format!("public{n}.json")),
            dir.join(format!("proof{n}.json")),
        );
        write_json(&vk_path, &vk);
        write_json(&public, &b["public_signals"]);
        write_json(&proof, &b["proof"]);
        assert_snarkjs_verifies(&vk_path, &public, &proof);
        let data = hex_bytes(b["data"].as_str().unwrap());
        let expected =
            kiln_rollup::babyjub::to_biguint(&kiln_rollup::batchdata::public_input(&data))
                .to_string();
        assert_eq!(b["public_signals"], json!([expected]));
        assert_eq!(b["public_input"], json!(expected));
    }
    let wrong = dir.join("public-wrong.json");
    write_json(&wrong, &json!(["1"]));
    let rejected = snarkjs([
        "groth16",
        "verify",
        dir.join("vk1.json").to_str().unwrap(),
        wrong.to_str().unwrap(),
        dir.join("proof1.json").to_str().unwrap(),
    ]);
    assert!(
        !rejected.success() || !rejected.stdout.contains("OK!"),
        "snarkjs accepted a wrong public signal: {rejected}"
    );

    // The batch data alone rebuilds the same state (raw bytes or 0x-hex files).
    let mut files = Vec::new();
    for b in &batches {
        let n = b["number"].as_u64().unwrap();
        let data = b["data"].as_str().unwrap();
        let f = if n % 2 == 1 {
            let f = dir.join(format!("batch-{n}.hex"));
            std::fs::write(&f, data).unwrap();
            f
        } else {
            let f = dir.join(format!("batch-{n}.bin"));
            std::fs::write(&f, hex_bytes(data)).unwrap();
            f
        };
        files.push(f.to_str().unwrap().to_string());
    }
    let mut args = vec![
        "rollup",
        "reconstruct",
        "--json",
        "--genesis",
        genesis.to_str().unwrap(),
    ];
    args.extend(files.iter().map(String::as_str));
    let rebuilt: Value = serde_json::from_str(&kiln(&args).ok().stdout).unwrap();
    assert_eq!(
        rebuilt["state_root_decimal"].as_str().unwrap(),
        root,
        "{rebuilt}"
    );
    assert_eq!(rebuilt["batch"], 3);
    let out_of_order = kiln([
        "rollup",
        "reconstruct",
        "--genesis",
        genesis.to_str().unwrap(),
        &files[1],
    ]);
    assert_bad_input(&out_of_order, &["batch 1 comes next"]);
    let b2 = hex_bytes(batches[1]["data"].as_str().unwrap());
    std::fs::write(&files[1], &b2[..b2.len() - 1]).unwrap();
    let truncated = kiln([
        "rollup",
        "reconstruct",
        "--genesis",
        genesis.to_str().unwrap(),
        &files[0],
        &files[1],
    ]);
    assert_bad_input(&truncated, &["not the length of any batch"]);

    // The JSON-RPC face.
    let rpc = |body: Value| {
        s.call("POST", "/v1/rollup/rpc", None, Body::Json(body))
            .expect(200)
    };
    let r = rpc(json!({"jsonrpc": "2.0", "id": 1, "method": "getAccountNonce", "params": [1]}));
    assert_eq!(r["result"]["nonce"], 2, "{r}");
    let r = rpc(json!([
        {"jsonrpc": "2.0", "id": "a", "method": "getAccountBalance", "params": {"index": 4}},
        {"jsonrpc": "2.0", "id": "b", "method": "getTransactionStatus", "params": [signed[3].0]},
        {"jsonrpc": "2.0", "id": "c", "method": "verifyState", "params": {"root": root}},
        {"jsonrpc": "2.0", "id": "d", "method": "noSuchMethod"},
        {"jsonrpc": "2.0", "id": "e", "method": "sendTransaction", "params": [signed[0].1]},
        {"jsonrpc": "2.0", "id": "f", "method": "getBatchProof", "params": {"batch": 2}},
    ]));
    assert_eq!(r[0]["result"]["balance"], "1000004", "{r}");
    assert_eq!(r[1]["result"]["batch"], 2, "{r}");
    assert_eq!(r[2]["result"]["valid"], true, "{r}");
    assert_eq!(r[3]["error"]["code"], -32601, "{r}");
    assert_eq!(r[4]["error"]["data"]["code"], "bad_nonce", "{r}");
    assert_eq!(r[5]["result"]["proof"], batches[1]["proof"], "{r}");

    // kill -9 and restart: the same state, the same statuses, the same key.
    s.kill9();
    let s = start(&data, &genesis);
    assert_eq!(check_state(&dir, &s, 4), root);
    let status = s
        .call(
            "GET",
            &format!("/v1/rollup/transactions/{}", signed[4].0),
            None,
            Body::None,
        )
        .expect(200);
    assert_eq!(
        (status["batch"].as_u64(), status["status"].as_str()),
        (Some(3), Some("proven"))
    );
    assert_eq!(
        s.call("GET", "/v1/rollup/batches/1", None, Body::None)
            .expect(200)["proof"],
        batches[0]["proof"]
    );
}

fn hex_bytes(text: &str) -> Vec<u8> {
    let h = text.trim_start_matches("0x");
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}
