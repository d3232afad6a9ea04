//! Black-box tests of the rollup (`kiln serve --rollup`): the real binary on loopback, a
//! wallet built on circomlibjs alone (`tests/fixtures/rollup_wallet.cjs`) making keys,
//! signing transactions and checking the state root and state proofs the API serves.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::server::*;
use common::wallet::*;
use common::*;
use serde_json::{json, Value};

fn start(data: &Path, genesis: &Path) -> Server {
    Server::start(
        data,
        &[
            "--rollup",
            "--l1-rpc",
            "none",
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
fn circomlibjs_wallets_transact_batches_are_proven_for_snarkjs_and_bad_transactions_change_nothing()
{
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
    let rebuilt = reconstruct(&genesis, &files);
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

/// Accounts 1..=`n` of token 0 holding `balance`, account i owned by kiln's wallet key
/// `key_from_seed(i)`, written as `genesis.json` in `dir` with `fee_accounts` if given.
/// Returns the file and the keys (index i's at i).
fn wallet_genesis(
    dir: &TestDir,
    n: u32,
    balance: u128,
    fee_accounts: Option<Value>,
) -> (std::path::PathBuf, Vec<kiln_rollup::eddsa::PrivateKey>) {
    let keys: Vec<_> = (0..=u64::from(n))
        .map(kiln_rollup::wallet::key_from_seed)
        .collect();
    let accounts: Vec<Value> = (1..=n)
        .map(|i| kiln_rollup::wallet::genesis_account(i, &keys[i as usize].public(), 0, balance))
        .collect();
    let mut genesis = json!({"chain_id": CHAIN, "accounts": accounts});
    if let Some(f) = fee_accounts {
        genesis["fee_accounts"] = f;
    }
    let path = dir.join("genesis.json");
    write_json(&path, &genesis);
    (path, keys)
}

/// `kiln rollup reconstruct --json --genesis G files…`: the state it rebuilds.
fn reconstruct(genesis: &Path, files: &[String]) -> Value {
    let mut args = vec![
        "rollup",
        "reconstruct",
        "--json",
        "--genesis",
        genesis.to_str().unwrap(),
    ];
    args.extend(files.iter().map(String::as_str));
    serde_json::from_str(&kiln(&args).ok().stdout).unwrap()
}

/// One client: transfers from `from` to `to` until `stop`, recording each answer.
fn client(
    base: String,
    key: kiln_rollup::eddsa::PrivateKey,
    from: u32,
    to: u32,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<(String, u16)> {
    use std::sync::atomic::Ordering;
    let mut answers = Vec::new();
    let nonce_of = || -> Option<u64> {
        let r = call(
            &base,
            "GET",
            &format!("/v1/rollup/accounts/{from}"),
            None,
            Body::None,
            &[],
        );
        (r.status == 200).then(|| r.json()["nonce"].as_u64().unwrap())
    };
    let Some(mut nonce) = nonce_of() else {
        return answers;
    };
    while !stop.load(Ordering::Relaxed) {
        let s = kiln_rollup::wallet::transfer(&key, CHAIN, from, to, 0, 1, 1, nonce);
        let hash = s.tx.hash_hex();
        let req =
            ureq::post(&format!("{base}/v1/rollup/transactions")).timeout(Duration::from_secs(10));
        match req.send_string(&kiln_rollup::wallet::body(&s).to_string()) {
            Ok(r) => {
                answers.push((hash, r.status()));
                nonce += 1;
            }
            Err(ureq::Error::Status(code, _)) => {
                answers.push((hash, code));
                if code == 503 {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            // The server died under this request: its fate is unknown (0).
            Err(_) => {
                answers.push((hash, 0));
                return answers;
            }
        }
    }
    answers
}

#[test]
fn kill_9_under_load_keeps_every_confirmed_transaction_once_in_order() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = TestDir::new("rollup-crash");
    let (genesis, keys) =
        wallet_genesis(&dir, 6, 1_000_000, Some(json!([{"token": 0, "index": 6}])));
    let data = dir.join("data");
    let g = genesis.to_str().unwrap();
    let args = [
        "--rollup",
        "--l1-rpc",
        "none",
        "--rollup-genesis",
        g,
        "--rollup-max-batch-size",
        "2",
        "--rollup-batch-timeout-ms",
        "100",
        "--rollup-rate-limit",
        "0",
        "--rollup-max-backlog",
        "64",
    ];
    let mut all: Vec<(String, u16)> = Vec::new();
    let mut seed = 0x5eedu64;
    for round in 0..5 {
        let s = Server::start(&data, &args);
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (1..=5u32)
            .map(|from| {
                let (base, key, stop) = (s.base.clone(), keys[from as usize].clone(), stop.clone());
                std::thread::spawn(move || client(base, key, from, from % 5 + 1, stop))
            })
            .collect();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(300 + (seed >> 33) % 700));
        s.kill9();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            all.extend(c.join().unwrap());
        }
        eprintln!("round {round}: {} answers so far", all.len());
    }
    let s = Server::start(&data, &args);
    let confirmed: Vec<&String> = all
        .iter()
        .filter(|(_, c)| *c == 200)
        .map(|(h, _)| h)
        .collect();
    assert!(confirmed.len() >= 10, "too little load to test: {all:?}");
    let mut positions = Vec::new();
    for (hash, code) in &all {
        let r = s.call(
            "GET",
            &format!("/v1/rollup/transactions/{hash}"),
            None,
            Body::None,
        );
        match code {
            200 => {
                assert_eq!(r.status, 200, "confirmed {hash} is lost");
                positions.push(r.json()["position"].as_i64().unwrap());
            }
            0 => assert!(r.status == 200 || r.status == 404), // in flight at the kill
            _ => assert_eq!(
                r.status, 404,
                "{hash} was refused ({code}) but is in the rollup"
            ),
        }
    }
    let mut unique = positions.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        positions.len(),
        "a confirmed transaction appears twice"
    );
    // Every closed batch is built; its roots chain, and the data alone reaches the root.
    let state = s
        .call("GET", "/v1/rollup/state", None, Body::None)
        .expect(200);
    let last = state["last_batch"].as_u64().unwrap();
    assert!(last >= 1);
    let mut files = Vec::new();
    let mut prev: Option<Value> = None;
    for n in 1..=last {
        let deadline = Instant::now() + Duration::from_secs(120);
        let b = loop {
            let b = s
                .call("GET", &format!("/v1/rollup/batches/{n}"), None, Body::None)
                .expect(200);
            if !b["data"].is_null() {
                break b;
            }
            assert!(Instant::now() < deadline, "batch {n} was never built: {b}");
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some(p) = &prev {
            assert_eq!(
                b["old_state_root"],
                p["new_state_root"],
                "batch {n} does not start where {} ended",
                n - 1
            );
        }
        let f = dir.join(format!("b{n}.hex"));
        std::fs::write(&f, b["data"].as_str().unwrap()).unwrap();
        files.push(f.to_str().unwrap().to_string());
        prev = Some(b);
    }
    let rebuilt = reconstruct(&genesis, &files);
    assert_eq!(rebuilt["state_root"], prev.unwrap()["new_state_root"]);
}

/// The operator's path to a production key: export the batch circuit, run a phase-2
/// ceremony on it with snarkjs (setup, then a contribution), give the key to kiln. kiln
/// proves with it and snarkjs verifies with the ceremony's own verification key.
#[test]
fn a_snarkjs_ceremony_key_for_the_exported_circuit_proves_batches() {
    let dir = TestDir::new("rollup-ceremony");
    let r1cs = dir.join("batch1.r1cs");
    kiln([
        "rollup",
        "circuit",
        "export",
        "--batch-size",
        "1",
        r1cs.to_str().unwrap(),
    ])
    .ok();
    let info = R1csInfo::read(&r1cs);
    let ptau = ptau(info.groth16_power());
    let (z0, z1, vk) = (
        dir.join("b0.zkey"),
        dir.join("b1.zkey"),
        dir.join("vk.json"),
    );
    snarkjs([
        "groth16",
        "setup",
        r1cs.to_str().unwrap(),
        ptau.to_str().unwrap(),
        z0.to_str().unwrap(),
    ])
    .ok();
    snarkjs([
        "zkey",
        "contribute",
        z0.to_str().unwrap(),
        z1.to_str().unwrap(),
        "--name=operator",
        "-e=kiln rollup ceremony test entropy",
    ])
    .ok();
    snarkjs([
        "zkey",
        "export",
        "verificationkey",
        z1.to_str().unwrap(),
        vk.to_str().unwrap(),
    ])
    .ok();

    let (genesis, keys) = wallet_genesis(&dir, 2, 1000, None);
    let g = genesis.to_str().unwrap();
    let zkey = z1.to_str().unwrap();
    let data = dir.join("data");
    // A key for another batch size is refused at start, naming the flag.
    let wrong = kiln([
        "serve",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--rollup",
        "--l1-rpc",
        "none",
        "--rollup-genesis",
        g,
        "--rollup-max-batch-size",
        "2",
        "--rollup-zkey",
        zkey,
    ]);
    assert_bad_input(&wrong, &["--rollup-zkey"]);
    let s = Server::start(
        &data,
        &[
            "--rollup",
            "--l1-rpc",
            "none",
            "--rollup-genesis",
            g,
            "--rollup-max-batch-size",
            "1",
            "--rollup-zkey",
            zkey,
        ],
    );
    let t = kiln_rollup::wallet::transfer(&keys[1], CHAIN, 1, 2, 0, 10, 0, 0);
    s.call(
        "POST",
        "/v1/rollup/transactions",
        None,
        Body::Json(kiln_rollup::wallet::body(&t)),
    )
    .expect(200);
    let b = wait_batch(&s, 1, "proven");
    let served_vk = s
        .call(
            "GET",
            "/v1/rollup/batches/1/verification-key",
            None,
            Body::None,
        )
        .expect(200);
    assert_eq!(
        served_vk,
        read_json(&vk),
        "the served key is the ceremony's"
    );
    let (public, proof) = (dir.join("public.json"), dir.join("proof.json"));
    write_json(&public, &b["public_signals"]);
    write_json(&proof, &b["proof"]);
    assert_snarkjs_verifies(&vk, &public, &proof);
}
