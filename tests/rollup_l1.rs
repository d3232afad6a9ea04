//! The rollup on L1, end to end through the real binary: `kiln serve --rollup --l1-rpc`
//! against anvil deploys the contracts, follows deposits of ETH and of an ERC-20 made with
//! foundry's `cast`, confirms transfers and withdrawals signed by the circomlibjs wallet,
//! proves the batches and posts them; the contract's proven state root is the sequencer's,
//! transactions reach `finalized`, and `finalizeWithdrawal` pays each exit once.

mod common;

use std::time::{Duration, Instant};

use common::chain::{Anvil, DEV_KEY};
use common::server::*;
use common::wallet::*;
use common::*;
use serde_json::{json, Value};

/// anvil's development accounts 1 and 2: (private key, address).
const USER1: (&str, &str) = (
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
);
const USER2: (&str, &str) = (
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
);
/// Where withdrawals go (an address with no code and no balance).
const RECIPIENT: &str = "0x00000000000000000000000000000000000c0ffe";

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
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
fn send(chain: &Anvil, key: &str, args: &[&str]) -> (bool, String) {
    let mut all = vec!["send", "--private-key", key, "--json"];
    all.extend_from_slice(args);
    let out = chain.cast(&all);
    let text = format!("{}{}", out.stdout, out.stderr);
    let ok = out.success()
        && serde_json::from_str::<Value>(&out.stdout).is_ok_and(|r| r["status"] == "0x1");
    (ok, text)
}

fn call(chain: &Anvil, args: &[&str]) -> String {
    let mut all = vec!["call"];
    all.extend_from_slice(args);
    let out = chain.cast(&all).ok();
    out.stdout
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string()
}

fn account(s: &Server, i: u64) -> Option<Value> {
    let r = s.call("GET", &format!("/v1/rollup/accounts/{i}"), None, Body::None);
    (r.status == 200).then(|| r.json())
}

#[test]
fn deposits_transfers_and_withdrawals_go_through_l1_and_each_exit_is_paid_once() {
    let chain = Anvil::start();
    let dir = TestDir::new("rollup-l1");
    let keys = Keys(wallet("keys", "3").as_array().unwrap().clone());
    let k1 = &keys.0[0];
    let genesis = dir.join("genesis.json");
    write_json(
        &genesis,
        &json!({"chain_id": CHAIN, "accounts": [
            {"index": 1, "token": 0, "balance": "0", "ax": k1["ax"], "ay": k1["ay"], "eth_address": "0"}],
            "fee_accounts": [{"token": 0, "index": 1}]}),
    );
    std::env::set_var("KILN_L1_PRIVATE_KEY", DEV_KEY);
    let data = dir.join("data");
    let s = Server::start(
        &data,
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
            "--l1-rpc",
            &chain.url,
            "--l1-confirmations",
            "0",
            "--l1-poll-ms",
            "200",
        ],
    );
    let record = data.join("rollup/l1-deployment.json");
    let deployment: Value = wait_for("the deployment", 900, || {
        std::fs::read_to_string(&record)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
    });
    let rollup = deployment["rollup"].as_str().unwrap().to_string();

    // An ERC-20, registered as token 1.
    let token_code = serde_json::from_str::<Value>(
        &std::fs::read_to_string(repo_root().join("contracts/out/TestToken.json")).unwrap(),
    )
    .unwrap()["bytecode"]
        .as_str()
        .unwrap()
        .to_string();
    let out = chain
        .cast(&[
            "send",
            "--private-key",
            DEV_KEY,
            "--json",
            "--create",
            &token_code,
            "constructor(string,string)",
            "Test",
            "TST",
        ])
        .ok();
    let token = serde_json::from_str::<Value>(&out.stdout).unwrap()["contractAddress"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        send(
            &chain,
            DEV_KEY,
            &[&rollup, "registerToken(address)", &token]
        )
        .0
    );
    assert!(
        send(
            &chain,
            USER2.0,
            &[&token, "mint(address,uint256)", USER2.1, "1000000"]
        )
        .0
    );
    assert!(
        send(
            &chain,
            USER2.0,
            &[&token, "approve(address,uint256)", &rollup, "1000000"]
        )
        .0
    );

    // Deposits naming L2 keys: user 1's ETH creates account 2, user 2's tokens account 3.
    let (k2, k3) = (&keys.0[1], &keys.0[2]);
    let eth = "1000000000000000000";
    let deposit = "deposit(address,uint256,uint256,uint256)";
    let zero = "0x0000000000000000000000000000000000000000";
    let (ok, text) = send(
        &chain,
        USER1.0,
        &[
            "--value",
            eth,
            &rollup,
            deposit,
            zero,
            eth,
            k2["ax"].as_str().unwrap(),
            k2["ay"].as_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    let (ok, text) = send(
        &chain,
        USER2.0,
        &[
            &rollup,
            deposit,
            &token,
            "700000",
            k3["ax"].as_str().unwrap(),
            k3["ay"].as_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    // A bad deposit reverts with its reason and queues nothing.
    let (ok, text) = send(
        &chain,
        USER1.0,
        &["--value", "5", &rollup, deposit, zero, "6", "1", "2"],
    );
    assert!(
        !ok && text.contains("send the ETH amount as the value"),
        "{text}"
    );

    let a2 = wait_for("account 2", 120, || {
        account(&s, 2).filter(|a| a["balance"] == eth)
    });
    assert_eq!(a2["eth_address"], json!(alloy_dec(USER1.1)));
    let a3 = wait_for("account 3", 120, || {
        account(&s, 3).filter(|a| a["balance"] == "700000")
    });
    assert_eq!(a3["token"], json!(1));

    // L2: a transfer, then withdrawals of ETH and of the token to RECIPIENT on L1.
    let recipient = alloy_dec(RECIPIENT);
    let mut t3 = tx(&keys, "withdraw", 3, &recipient, "300000", 0, 0);
    t3["token"] = json!(1);
    let signed = sign(
        &dir,
        &[
            tx(&keys, "transfer", 2, "1", "100000000000000000", 1000, 0),
            tx(&keys, "withdraw", 2, &recipient, "500000000000000000", 0, 1),
            t3,
        ],
    );
    let mut hashes = Vec::new();
    for (hash, body) in &signed {
        let r = s.call(
            "POST",
            "/v1/rollup/transactions",
            None,
            Body::Json(body.clone()),
        );
        assert_eq!(r.status, 200, "{r:?}");
        hashes.push(hash.clone());
    }

    // Every transaction reaches `finalized`; the contract's proven root is the sequencer's.
    let batches: Vec<u64> = hashes
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
        .collect();
    let last = *batches.iter().max().unwrap();
    let b = s
        .call(
            "GET",
            &format!("/v1/rollup/batches/{last}"),
            None,
            Body::None,
        )
        .expect(200);
    assert_eq!(b["status"], "finalized");
    let proven = call(&chain, &[&rollup, "provenStateRoot()(uint256)"]);
    let progress = call(
        &chain,
        &[&rollup, "progress()(uint64,uint64,uint64,uint64)"],
    );
    let root_dec = num_bigint::BigUint::parse_bytes(
        b["new_state_root"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x")
            .as_bytes(),
        16,
    )
    .unwrap()
    .to_string();
    assert!(progress.parse::<u64>().unwrap() >= last, "{progress}");
    if progress.parse::<u64>().unwrap() == last {
        assert_eq!(proven, root_dec);
    }

    // Each exit is paid once, against the batch's exit root.
    let before_eth = chain
        .cast(&["balance", RECIPIENT])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert_eq!(before_eth, "0");
    let mut paid = 0;
    for n in batches
        .iter()
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
    {
        let exits = s
            .call(
                "GET",
                &format!("/v1/rollup/batches/{n}/exits"),
                None,
                Body::None,
            )
            .expect(200);
        for e in exits["exits"].as_array().unwrap() {
            let path: Vec<String> = e["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| {
                    format!(
                        "[{}]",
                        g.as_array()
                            .unwrap()
                            .iter()
                            .map(|x| x.as_str().unwrap())
                            .collect::<Vec<_>>()
                            .join(",")
                    )
                })
                .collect();
            let path = format!("[{}]", path.join(","));
            let sig = "finalizeWithdrawal(uint256,uint256,address,uint256,uint256,uint256[4][])";
            let args = [
                n.to_string(),
                e["position"].to_string(),
                e["to_address"].as_str().unwrap().to_string(),
                e["token"].to_string(),
                e["amount"].as_str().unwrap().to_string(),
                path,
            ];
            let mut tampered = args.clone();
            tampered[4] = "1".into();
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let t: Vec<&str> = tampered.iter().map(String::as_str).collect();
            let (ok, text) = send(&chain, USER1.0, &[&[&rollup as &str, sig], &t[..]].concat());
            assert!(
                !ok && text.contains("the exit proof does not match"),
                "{text}"
            );
            let (ok, text) = send(&chain, USER1.0, &[&[&rollup as &str, sig], &a[..]].concat());
            assert!(ok, "{text}");
            let (ok, text) = send(&chain, USER1.0, &[&[&rollup as &str, sig], &a[..]].concat());
            assert!(!ok && text.contains("already paid"), "{text}");
            paid += 1;
        }
    }
    assert_eq!(paid, 2);
    let after_eth = chain
        .cast(&["balance", RECIPIENT])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert_eq!(after_eth, "500000000000000000");
    let tokens = call(&chain, &[&token, "balanceOf(address)(uint256)", RECIPIENT]);
    assert_eq!(tokens, "300000");
}

/// An address as the decimal number L2 writes it.
fn alloy_dec(addr: &str) -> String {
    num_bigint::BigUint::parse_bytes(addr.trim_start_matches("0x").as_bytes(), 16)
        .unwrap()
        .to_string()
}
