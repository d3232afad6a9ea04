//! The rollup on L1, end to end through the real binary: `kiln serve --rollup --l1-rpc`
//! against anvil deploys the contracts, follows deposits of ETH and of an ERC-20 made with
//! foundry's `cast`, confirms transfers and withdrawals signed by the circomlibjs wallet,
//! proves the batches and posts them; the contract's proven state root is the sequencer's,
//! transactions reach `finalized`, and `finalizeWithdrawal` pays each exit once.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::chain::{Anvil, DEV_KEY};
use common::l1::*;
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

/// anvil, a test dir, `n` wallet keys, a genesis with account 1 (key 1, the fee account)
/// and kiln serving the rollup on that chain: (chain, dir, keys, genesis, data dir, server,
/// rollup contract).
fn setup(name: &str, n: usize) -> (Anvil, TestDir, Keys, PathBuf, PathBuf, Server, String) {
    let chain = Anvil::start();
    let dir = TestDir::new(name);
    let keys = Keys(wallet("keys", &n.to_string()).as_array().unwrap().clone());
    let k1 = &keys.0[0];
    let genesis = dir.join("genesis.json");
    write_json(
        &genesis,
        &json!({"chain_id": CHAIN, "accounts": [
            {"index": 1, "token": 0, "balance": "0", "ax": k1["ax"], "ay": k1["ay"], "eth_address": "0"}],
            "fee_accounts": [{"token": 0, "index": 1}]}),
    );
    let data = dir.join("data");
    let (s, rollup) = start(&chain, &data, &genesis);
    (chain, dir, keys, genesis, data, s, rollup)
}

#[test]
fn deposits_transfers_and_withdrawals_go_through_l1_and_each_exit_is_paid_once() {
    let (chain, dir, keys, _, _, s, rollup) = setup("rollup-l1", 3);

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
    assert_eq!(a2["eth_address"], json!(address_dec(USER1.1)));
    let a3 = wait_for("account 3", 120, || {
        account(&s, 3).filter(|a| a["balance"] == "700000")
    });
    assert_eq!(a3["token"], json!(1));

    // L2: a transfer, then withdrawals of ETH and of the token to RECIPIENT on L1.
    let recipient = address_dec(RECIPIENT);
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
    let hashes = post(&s, &signed);

    // Every transaction reaches `finalized`; the contract's proven root is the sequencer's.
    let batches = wait_finalized(&s, &hashes);
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
    let proven = cast_call(&chain, &[&rollup, "provenStateRoot()(uint256)"]);
    let progress = cast_call(
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
            let path = path_arg(&e["path"]);
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
    let tokens = cast_call(&chain, &[&token, "balanceOf(address)(uint256)", RECIPIENT]);
    assert_eq!(tokens, "300000");
}

/// `finalizeBatch(data, proof)` as cast arguments, from a batch as the API serves it.
fn finalize_args(batch: &Value) -> [String; 4] {
    let p = &batch["proof"];
    let s = |v: &Value| v.as_str().unwrap().to_string();
    [
        s(&batch["data"]),
        format!("[{},{}]", s(&p["pi_a"][0]), s(&p["pi_a"][1])),
        format!(
            "[[{},{}],[{},{}]]",
            s(&p["pi_b"][0][1]),
            s(&p["pi_b"][0][0]),
            s(&p["pi_b"][1][1]),
            s(&p["pi_b"][1][0])
        ),
        format!("[{},{}]", s(&p["pi_c"][0]), s(&p["pi_c"][1])),
    ]
}

/// What `finalizeBatch(args)` from the operator does at `block`: Ok, or the revert text.
fn try_finalize(chain: &Anvil, rollup: &str, block: u64, args: &[String; 4]) -> Result<(), String> {
    let mut all = vec![
        "call".to_string(),
        "--from".into(),
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".into(),
        "--block".into(),
        block.to_string(),
        rollup.into(),
        "finalizeBatch(bytes,uint256[2],uint256[2][2],uint256[2])".into(),
    ];
    all.extend(args.iter().cloned());
    let out = chain.cast(&all);
    if out.success() {
        Ok(())
    } else {
        Err(format!("{}{}", out.stdout, out.stderr))
    }
}

#[test]
fn bad_batches_revert_reorgs_and_kill_9_post_each_batch_once_and_exodus_pays_despite_the_pause() {
    let (chain, dir, keys, genesis, data, s, rollup) = setup("rollup-l1-faults", 2);
    let k2 = &keys.0[1];
    let eth = "1000000000000000000";
    let (ok, text) = send(
        &chain,
        USER1.0,
        &[
            "--value",
            eth,
            &rollup,
            "deposit(address,uint256,uint256,uint256)",
            "0x0000000000000000000000000000000000000000",
            eth,
            k2["ax"].as_str().unwrap(),
            k2["ay"].as_str().unwrap(),
        ],
    );
    assert!(ok, "{text}");
    wait_for("account 2", 120, || {
        account(&s, 2).filter(|a| a["balance"] == eth)
    });

    // Two batches of transfers, posted by the submitter.
    let hashes = post(
        &s,
        &sign(
            &dir,
            &[
                tx(&keys, "transfer", 2, "1", "1000", 0, 0),
                tx(&keys, "transfer", 2, "1", "2000", 0, 1),
                tx(&keys, "transfer", 2, "1", "3000", 0, 2),
            ],
        ),
    );
    let batches = wait_finalized(&s, &hashes);
    let (first, last) = (batches[0], *batches.iter().max().unwrap());
    assert!(
        last > first,
        "the transfers should span two batches: {batches:?}"
    );

    // Bad batches, each judged at the block before the real one was posted.
    let events = proven_events(&chain, &rollup);
    let block_of = |n: u64| events.iter().find(|(b, _)| *b == n).unwrap().1;
    let b_last = s
        .call(
            "GET",
            &format!("/v1/rollup/batches/{last}"),
            None,
            Body::None,
        )
        .expect(200);
    let good = finalize_args(&b_last);
    let before = block_of(last) - 1;
    assert_eq!(try_finalize(&chain, &rollup, before, &good), Ok(()));
    let mut tampered = good.clone();
    tampered[3] = format!(
        "[{},{}]",
        b_last["proof"]["pi_a"][0].as_str().unwrap(),
        b_last["proof"]["pi_a"][1].as_str().unwrap()
    );
    let reason = try_finalize(&chain, &rollup, before, &tampered).unwrap_err();
    assert!(
        reason.contains("proof does not verify for this batch data"),
        "{reason}"
    );
    let mut other_data = good.clone();
    let len = other_data[0].len();
    let flipped = if other_data[0].ends_with('0') {
        "1"
    } else {
        "0"
    };
    other_data[0].replace_range(len - 1.., flipped);
    let reason = try_finalize(&chain, &rollup, before, &other_data).unwrap_err();
    assert!(
        reason.contains("proof does not verify for this batch data"),
        "{reason}"
    );
    let mut wrong_root = good.clone();
    wrong_root[0].replace_range(2 + 2 * 16..2 + 2 * 17, "ff");
    let reason = try_finalize(&chain, &rollup, before, &wrong_root).unwrap_err();
    assert!(
        reason.contains("old state root is not the last committed root"),
        "{reason}"
    );
    let reason = try_finalize(&chain, &rollup, block_of(last), &good).unwrap_err();
    assert!(
        reason.contains("not the next batch number"),
        "replayed: {reason}"
    );
    let b_first = s
        .call(
            "GET",
            &format!("/v1/rollup/batches/{first}"),
            None,
            Body::None,
        )
        .expect(200);
    let reason = try_finalize(
        &chain,
        &rollup,
        block_of(first) - 1,
        &finalize_args(&b_last),
    )
    .unwrap_err();
    assert!(
        reason.contains("not the next batch number"),
        "out of order: {reason}"
    );
    assert_eq!(
        try_finalize(
            &chain,
            &rollup,
            block_of(first) - 1,
            &finalize_args(&b_first)
        ),
        Ok(())
    );

    // A reorg during submission: the chain drops the batch's transaction; it is sent again.
    let snapshot = rpc(&chain, &["evm_snapshot"]);
    let hashes = post(
        &s,
        &sign(&dir, &[tx(&keys, "transfer", 2, "1", "4000", 0, 3)]),
    );
    let proven_then = wait_for("the next batch on L1", 600, || {
        let e = proven_events(&chain, &rollup);
        (e.len() > events.len()).then_some(e.len())
    });
    assert_eq!(
        rpc(&chain, &["evm_revert", snapshot.trim_matches('"')]),
        "true"
    );
    // (The submitter may send it again before this test looks: only the end state counts.)
    wait_finalized(&s, &hashes);
    wait_for("the batch posted again", 120, || {
        (proven_events(&chain, &rollup).len() == proven_then).then_some(())
    });

    // kill -9 while batches are being proven and posted; after a restart each is posted once.
    let hashes = post(
        &s,
        &sign(
            &dir,
            &[
                tx(&keys, "transfer", 2, "1", "5000", 0, 4),
                tx(&keys, "transfer", 2, "1", "6000", 0, 5),
                tx(&keys, "transfer", 2, "1", "7000", 0, 6),
            ],
        ),
    );
    std::thread::sleep(Duration::from_millis(1500));
    s.kill9();
    let (s, _) = start(&chain, &data, &genesis);
    wait_finalized(&s, &hashes);
    let events = proven_events(&chain, &rollup);
    let numbers: Vec<u64> = events.iter().map(|(n, _)| *n).collect();
    let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "every batch proven on L1 once, in order");
    let state = s
        .call("GET", "/v1/rollup/state", None, Body::None)
        .expect(200);
    assert_eq!(
        cast_call(&chain, &[&rollup, "provenStateRoot()(uint256)"]),
        state["state_root_decimal"].as_str().unwrap()
    );

    // Censorship: the operator is gone, a forced exit waits past its deadline, the guardian
    // pauses, and still exodus is switched on and the owner takes its balance out once.
    let served = account(&s, 2).unwrap();
    s.kill9();
    // The owner's state proof comes from L1 data alone.
    let rebuilt = kiln([
        "rollup",
        "reconstruct",
        "--json",
        "--account",
        "2",
        "--l1-rpc",
        &chain.url,
        "--deployment",
        data.join("rollup/l1-deployment.json").to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ])
    .ok();
    let rebuilt: Value = serde_json::from_str(&rebuilt.stdout).unwrap();
    assert_eq!(rebuilt["matches_l1"], true, "{rebuilt}");
    let a2 = rebuilt["account"].clone();
    assert_eq!(a2["balance"], served["balance"]);
    assert_eq!(a2["nonce"].as_str().unwrap(), served["nonce"].to_string());
    let proof = json!({"path": a2["path"].clone()});
    assert!(send(&chain, USER1.0, &[&rollup, "forceExit(uint256)", "2"]).0);
    let (ok, text) = send(&chain, USER2.0, &[&rollup, "activateExodus()"]);
    assert!(
        !ok && text.contains("within its inclusion deadline"),
        "{text}"
    );
    assert!(send(&chain, DEV_KEY, &[&rollup, "pause()"]).0);
    rpc(&chain, &["evm_increaseTime", "101"]);
    rpc(&chain, &["evm_mine"]);
    let (ok, text) = send(&chain, USER2.0, &[&rollup, "activateExodus()"]);
    assert!(ok, "{text}");
    let path = path_arg(&proof["path"]);
    let sig =
        "exodusWithdraw(uint256,uint256,uint256,uint256,uint256,uint256,address,uint256[4][])";
    let balance = a2["balance"].as_str().unwrap().to_string();
    let nonce = a2["nonce"].as_str().unwrap().to_string();
    let args = |bal: &str| -> Vec<String> {
        vec![
            rollup.clone(),
            sig.into(),
            "2".into(),
            "0".into(),
            nonce.clone(),
            bal.into(),
            a2["ax"].as_str().unwrap().into(),
            a2["ay"].as_str().unwrap().into(),
            USER1.1.into(),
            path.clone(),
        ]
    };
    let wrong = args("1");
    let (ok, text) = send(
        &chain,
        USER2.0,
        &wrong.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(
        !ok && text.contains("does not match the last proven state root"),
        "{text}"
    );
    let owner_before: u128 = chain
        .cast(&["balance", USER1.1])
        .ok()
        .stdout
        .trim()
        .parse()
        .unwrap();
    let right = args(&balance);
    let (ok, text) = send(
        &chain,
        USER2.0,
        &right.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(ok, "{text}");
    let owner_after: u128 = chain
        .cast(&["balance", USER1.1])
        .ok()
        .stdout
        .trim()
        .parse()
        .unwrap();
    assert_eq!(owner_after - owner_before, balance.parse::<u128>().unwrap());
    let (ok, text) = send(
        &chain,
        USER2.0,
        &right.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(!ok && text.contains("already withdrawn"), "{text}");
}

/// The operator's pending batch transactions in anvil's pool: their maxFeePerGas.
fn pending_fees(chain: &Anvil) -> Vec<u128> {
    let pool: Value = serde_json::from_str(&rpc(chain, &["txpool_content"])).unwrap_or_default();
    let mut fees = Vec::new();
    for (from, by_nonce) in pool["pending"].as_object().into_iter().flatten() {
        if !from.eq_ignore_ascii_case("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266") {
            continue;
        }
        for tx in by_nonce.as_object().into_iter().flatten().map(|(_, t)| t) {
            let fee = tx["maxFeePerGas"]
                .as_str()
                .unwrap_or("0x0")
                .trim_start_matches("0x");
            fees.push(u128::from_str_radix(fee, 16).unwrap_or(0));
        }
    }
    fees
}

#[test]
fn a_stuck_batch_transaction_is_replaced_with_higher_fees_and_an_l1_that_goes_down_loses_nothing() {
    let dir = TestDir::new("rollup-l1-stuck");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let state = dir.join("anvil-state.json");
    let anvil_args = [
        "--port",
        &port,
        "--state",
        state.to_str().unwrap(),
        "--state-interval",
        "1",
    ];
    let chain = Anvil::start_with(&anvil_args);
    let keys = Keys(wallet("keys", "2").as_array().unwrap().clone());
    let (k1, k2) = (&keys.0[0], &keys.0[1]);
    let genesis = dir.join("genesis.json");
    write_json(
        &genesis,
        &json!({"chain_id": CHAIN, "accounts": [
            {"index": 1, "token": 0, "balance": "0", "ax": k1["ax"], "ay": k1["ay"], "eth_address": "0"},
            {"index": 2, "token": 0, "balance": "1000000", "ax": k2["ax"], "ay": k2["ay"], "eth_address": "0"}],
            "fee_accounts": [{"token": 0, "index": 1}]}),
    );
    let data = dir.join("data");
    let (s, rollup) = start_with(&chain, &data, &genesis, &["--l1-bump-after-s", "2"]);
    wait_finalized(
        &s,
        &post(
            &s,
            &sign(&dir, &[tx(&keys, "transfer", 2, "1", "10", 0, 0)]),
        ),
    );
    let posted = proven_events(&chain, &rollup).len();

    // The L1 stops mining: the batch transaction waits in the pool, and is replaced by one
    // with higher fees; once blocks come again it is in, once.
    assert_eq!(rpc(&chain, &["evm_setAutomine", "false"]), "null");
    let hashes = post(
        &s,
        &sign(&dir, &[tx(&keys, "transfer", 2, "1", "20", 0, 1)]),
    );
    let first = wait_for("a pending batch transaction", 300, || {
        pending_fees(&chain).first().copied()
    });
    let bumped = wait_for("a replacement with higher fees", 60, || {
        pending_fees(&chain).into_iter().find(|f| *f > first)
    });
    assert!(bumped >= first + first / 8, "{first} -> {bumped}");
    assert_eq!(rpc(&chain, &["evm_setAutomine", "true"]), "null");
    rpc(&chain, &["evm_mine"]);
    wait_finalized(&s, &hashes);
    assert_eq!(proven_events(&chain, &rollup).len(), posted + 1);

    // The L1 goes down: the sequencer keeps confirming; when the node is back, every batch
    // goes in, once each, in order.
    std::thread::sleep(Duration::from_millis(2500)); // the state file catches up
    drop(chain);
    let hashes = post(
        &s,
        &sign(
            &dir,
            &[
                tx(&keys, "transfer", 2, "1", "30", 0, 2),
                tx(&keys, "transfer", 2, "1", "40", 0, 3),
                tx(&keys, "transfer", 2, "1", "50", 0, 4),
            ],
        ),
    );
    std::thread::sleep(Duration::from_secs(5));
    let chain = Anvil::start_with(&anvil_args);
    wait_finalized(&s, &hashes);
    let numbers: Vec<u64> = proven_events(&chain, &rollup)
        .iter()
        .map(|(n, _)| *n)
        .collect();
    let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "every batch proven on L1 once, in order");
    let state = s
        .call("GET", "/v1/rollup/state", None, Body::None)
        .expect(200);
    assert_eq!(
        cast_call(&chain, &[&rollup, "provenStateRoot()(uint256)"]),
        state["state_root_decimal"].as_str().unwrap()
    );
}

#[test]
fn a_deposit_reorged_away_before_its_confirmations_is_never_credited_and_its_redo_once() {
    let chain = Anvil::start();
    let dir = TestDir::new("rollup-l1-deposit-reorg");
    let keys = Keys(wallet("keys", "2").as_array().unwrap().clone());
    let (k1, k2) = (&keys.0[0], &keys.0[1]);
    let genesis = dir.join("genesis.json");
    write_json(
        &genesis,
        &json!({"chain_id": CHAIN, "accounts": [
            {"index": 1, "token": 0, "balance": "0", "ax": k1["ax"], "ay": k1["ay"], "eth_address": "0"}],
            "fee_accounts": [{"token": 0, "index": 1}]}),
    );
    let data = dir.join("data");
    let (s, rollup) = start_with(&chain, &data, &genesis, &["--l1-confirmations", "2"]);
    let deposit = |amount: &str| {
        let (ok, text) = send(
            &chain,
            USER1.0,
            &[
                "--value",
                amount,
                &rollup,
                "deposit(address,uint256,uint256,uint256)",
                "0x0000000000000000000000000000000000000000",
                amount,
                k2["ax"].as_str().unwrap(),
                k2["ay"].as_str().unwrap(),
            ],
        );
        assert!(ok, "{text}");
    };
    let snapshot = rpc(&chain, &["evm_snapshot"]);
    deposit("1000");
    rpc(&chain, &["evm_mine"]); // one block over it: not yet deep enough
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        account(&s, 2).is_none(),
        "credited before its confirmations"
    );
    assert_eq!(
        rpc(&chain, &["evm_revert", snapshot.trim_matches('"')]),
        "true"
    );
    deposit("2000");
    for _ in 0..3 {
        rpc(&chain, &["evm_mine"]);
    }
    let a = wait_for("the deposit made again", 120, || account(&s, 2));
    assert_eq!(
        a["balance"], "2000",
        "credited once, with the deposit that stayed on chain"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(account(&s, 2).unwrap()["balance"], "2000");
}
