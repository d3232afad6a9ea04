//! The rollup's L1 tools through the real binary: `kiln rollup reconstruct --l1-rpc` rebuilds
//! the state from the batch data that `kiln serve --rollup --l1-rpc` posted to anvil, and
//! finds the contract's proven root and the sequencer's; `kiln rollup deploy` deploys the
//! contracts for a genesis and the batch circuit's key to a fresh anvil, and refuses bad
//! arguments with exit 2 and a message naming the problem.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::chain::{Anvil, DEV_KEY};
use common::l1::*;
use common::server::*;
use common::wallet::*;
use common::*;
use serde_json::{json, Value};

/// The address of [`DEV_KEY`] (anvil's account 0).
const DEV_ADDRESS: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
/// Each genesis account's ETH (1 ETH).
const BALANCE: &str = "1000000000000000000";
/// Where the withdrawal goes (an address with no code and no balance).
const RECIPIENT: &str = "0x00000000000000000000000000000000000c0ffe";

/// `kiln args…` with `KILN_L1_PRIVATE_KEY` set to `key`, or unset.
fn kiln_key(args: &[&str], key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kiln"));
    cmd.args(args)
        .env_remove("KILN_L1_PRIVATE_KEY")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    if let Some(k) = key {
        cmd.env("KILN_L1_PRIVATE_KEY", k);
    }
    let out = cmd.output().expect("cannot start kiln");
    Output {
        cmdline: format!("kiln {}", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A genesis of accounts 1..=3 with `balance` wei each, keyed by `keys`; fees to account 1.
fn write_genesis(path: &Path, keys: &Keys, balance: &str) {
    let accounts: Vec<Value> = (1..=3usize)
        .map(|i| {
            let k = &keys.0[i - 1];
            json!({"index": i, "token": 0, "balance": balance, "ax": k["ax"], "ay": k["ay"], "eth_address": "0"})
        })
        .collect();
    write_json(
        path,
        &json!({"chain_id": CHAIN, "accounts": accounts, "fee_accounts": [{"token": 0, "index": 1}]}),
    );
}

/// `kiln rollup reconstruct --json` from L1; the exit code and the JSON.
fn reconstruct_l1(url: &str, deployment: &Path, genesis: &Path) -> (Output, Value) {
    let out = kiln([
        "rollup",
        "reconstruct",
        "--l1-rpc",
        url,
        "--deployment",
        deployment.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
        "--json",
    ]);
    let v = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("reconstruct printed no JSON ({e}):\n{out}"));
    (out, v)
}

#[test]
fn the_state_is_rebuilt_from_l1_and_kiln_rollup_deploy_deploys_the_contracts() {
    let chain = Anvil::start();
    let dir = TestDir::new("rollup-l1-cli");
    let keys = Keys(wallet("keys", "3").as_array().unwrap().clone());
    let genesis = dir.join("genesis.json");
    write_genesis(&genesis, &keys, BALANCE);
    let data = dir.join("data");
    let (s, rollup) = start(&chain, &data, &genesis);
    let record = data.join("rollup/l1-deployment.json");

    // Before any batch: nothing proven, and the genesis root is the contract's.
    let (out, r) = reconstruct_l1(&chain.url, &record, &genesis);
    assert!(out.success(), "{out}");
    assert_eq!(r["batch"], 0, "{r}");
    assert_eq!(r["matches_l1"], true, "{r}");

    // Transfers around the three accounts and a withdrawal: several batches of 2.
    let recipient = address_dec(RECIPIENT);
    let signed = sign(
        &dir,
        &[
            tx(&keys, "transfer", 1, "2", "100000000000000000", 1000, 0),
            tx(&keys, "transfer", 2, "3", "20000000000000000", 0, 0),
            tx(&keys, "transfer", 3, "1", "3000000000000000", 1000, 0),
            tx(&keys, "withdraw", 2, &recipient, "400000000000000000", 0, 1),
            tx(&keys, "transfer", 1, "3", "5000", 0, 1),
        ],
    );
    let last = *wait_finalized(&s, &post(&s, &signed)).iter().max().unwrap();
    assert!(last >= 3, "5 transactions in batches of 2: {last} batches");
    let state = s
        .call("GET", "/v1/rollup/state", None, Body::None)
        .expect(200);
    assert_eq!(state["last_batch"], last, "{state}");

    // From L1 alone: the contract's proven root, which is the sequencer's.
    let (out, r) = reconstruct_l1(&chain.url, &record, &genesis);
    assert!(out.success(), "{out}");
    let proven = cast_call(&chain, &[&rollup, "provenStateRoot()(uint256)"]);
    assert_eq!(r["batch"], last, "{r}");
    assert_eq!(r["matches_l1"], true, "{r}");
    assert_eq!(r["l1_proven_root"], json!(proven), "{r}");
    assert_eq!(r["state_root_decimal"], json!(proven), "{r}");
    assert_eq!(
        r["state_root_decimal"], state["state_root_decimal"],
        "{r} {state}"
    );
    assert_eq!(r["state_root"], state["state_root"], "{r} {state}");

    // The same report as from the batches' data files, plus the L1's fields.
    let batches: Vec<Value> = (1..=last)
        .map(|n| {
            s.call("GET", &format!("/v1/rollup/batches/{n}"), None, Body::None)
                .expect(200)
        })
        .collect();
    let files: Vec<String> = batches
        .iter()
        .map(|b| {
            let path = dir.join(format!("batch-{}.hex", b["number"]));
            std::fs::write(&path, b["data"].as_str().unwrap()).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect();
    let mut args = vec![
        "rollup",
        "reconstruct",
        "--json",
        "--genesis",
        genesis.to_str().unwrap(),
    ];
    args.extend(files.iter().map(String::as_str));
    let from_files: Value = serde_json::from_str(&kiln(&args).ok().stdout).unwrap();
    let mut from_l1 = r.clone();
    for k in ["l1_proven_root", "matches_l1", "l1_block"] {
        from_l1.as_object_mut().unwrap().remove(k);
    }
    assert_eq!(from_l1, from_files);

    // Files and L1 together, or neither, are refused.
    let out = kiln([
        "rollup",
        "reconstruct",
        "--genesis",
        genesis.to_str().unwrap(),
        "--l1-rpc",
        &chain.url,
        "--deployment",
        record.to_str().unwrap(),
        &files[0],
    ]);
    assert_bad_input(&out, &["cannot be used with"]);
    let out = kiln([
        "rollup",
        "reconstruct",
        "--genesis",
        genesis.to_str().unwrap(),
    ]);
    assert_bad_input(&out, &["BATCH_DATA"]);
    // An unreachable L1 is named.
    let out = kiln([
        "rollup",
        "reconstruct",
        "--genesis",
        genesis.to_str().unwrap(),
        "--l1-rpc",
        "http://127.0.0.1:1",
        "--deployment",
        record.to_str().unwrap(),
    ]);
    assert_bad_input(&out, &["http://127.0.0.1:1"]);

    // `kiln rollup deploy` with the server's development key, to a fresh chain.
    let zkey = std::fs::read_dir(data.join("rollup/keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "zkey"))
        .expect("the server's development key under DATA/rollup/keys");
    drop(s);
    let fresh = Anvil::start();
    let out_file = dir.join("deploy-b.json");
    let deploy_args = |url: &str, zkey: &str, batch_size: &str, out: &str| -> Vec<String> {
        [
            "rollup",
            "deploy",
            "--l1-rpc",
            url,
            "--genesis",
            genesis.to_str().unwrap(),
            "--zkey",
            zkey,
            "--batch-size",
            batch_size,
            "--out",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let deploy_run = |args: &[String], key: Option<&str>| {
        kiln_key(&args.iter().map(String::as_str).collect::<Vec<_>>(), key)
    };
    let zkey_s = zkey.to_str().unwrap();
    let out_s = out_file.to_str().unwrap();
    let out = deploy_run(&deploy_args(&fresh.url, zkey_s, "2", out_s), Some(DEV_KEY)).ok();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let printed: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(written, printed);
    assert_eq!(written["batch_size"], 2);
    assert_eq!(written["rollup_chain_id"], CHAIN);
    let rollup_b = written["rollup"].as_str().unwrap();
    let code = fresh
        .cast(&["code", rollup_b])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert!(code.len() > 1000, "no code at {rollup_b}: {code}");
    assert_eq!(
        cast_call(&fresh, &[rollup_b, "operator()(address)"]).to_lowercase(),
        DEV_ADDRESS.to_lowercase()
    );
    assert_eq!(
        cast_call(&fresh, &[rollup_b, "guardian()(address)"]).to_lowercase(),
        DEV_ADDRESS.to_lowercase()
    );
    assert_eq!(cast_call(&fresh, &[rollup_b, "batchSize()(uint256)"]), "2");
    assert_eq!(
        cast_call(&fresh, &[rollup_b, "maxPause()(uint256)"]),
        "21600"
    );
    assert_eq!(
        fresh.cast(&["balance", rollup_b]).ok().stdout.trim(),
        "3000000000000000000"
    );
    // Its genesis root is the server's genesis root: reconstruct from it agrees, and a
    // different genesis is a mismatch (exit 1) reported as such.
    let (out, r) = reconstruct_l1(&fresh.url, &out_file, &genesis);
    assert!(out.success(), "{out}");
    assert_eq!(
        (r["batch"].clone(), r["matches_l1"].clone()),
        (json!(0), json!(true))
    );
    let other = dir.join("other-genesis.json");
    write_genesis(&other, &keys, "2000000000000000000");
    let (out, r) = reconstruct_l1(&fresh.url, &out_file, &other);
    assert_eq!(out.code, 1, "{out}");
    assert_eq!(r["matches_l1"], false, "{r}");
    assert!(out.stderr.contains("not the proven state root"), "{out}");

    // Reverted commits do not count, a batch committed by submitStateRoot and proven by
    // verifyStateTransition does. Batch 1 is first committed with a forged new root, then
    // reverted by the operator, then committed with the server's data and proven with its
    // proof (the key is the same, so is the verifier).
    let send = |args: &[&str]| -> bool {
        let mut all = vec![
            "send",
            "--private-key",
            DEV_KEY,
            "--json",
            "--gas-limit",
            "5000000",
        ];
        all.extend_from_slice(args);
        let out = fresh.cast(&all);
        out.success()
            && serde_json::from_str::<Value>(&out.stdout).is_ok_and(|r| r["status"] == "0x1")
    };
    let data1 = batches[0]["data"].as_str().unwrap();
    let mut forged = data1.to_string();
    let root_at = 2 + 2 * 48; // "0x", then bytes 48..80: the new state root
    forged.replace_range(root_at..root_at + 64, &format!("{:064x}", 1));
    assert!(send(&[rollup_b, "submitStateRoot(bytes)", &forged]));
    let (out, r) = reconstruct_l1(&fresh.url, &out_file, &genesis);
    assert!(out.success(), "{out}");
    assert_eq!(r["batch"], 0, "committed is not proven: {r}");
    assert!(send(&[rollup_b, "revertBatches()"]));
    assert!(send(&[rollup_b, "submitStateRoot(bytes)", data1]));
    let proof_args = |b: &Value| -> [String; 3] {
        let p = &b["proof"];
        let x = |v: &Value| v.as_str().unwrap().to_string();
        [
            format!("[{},{}]", x(&p["pi_a"][0]), x(&p["pi_a"][1])),
            format!(
                "[[{},{}],[{},{}]]",
                x(&p["pi_b"][0][1]),
                x(&p["pi_b"][0][0]),
                x(&p["pi_b"][1][1]),
                x(&p["pi_b"][1][0])
            ),
            format!("[{},{}]", x(&p["pi_c"][0]), x(&p["pi_c"][1])),
        ]
    };
    let [a, b, c] = proof_args(&batches[0]);
    assert!(send(&[
        rollup_b,
        "verifyStateTransition(uint256,uint256[2],uint256[2][2],uint256[2])",
        "1",
        &a,
        &b,
        &c
    ]));
    let (out, r) = reconstruct_l1(&fresh.url, &out_file, &genesis);
    assert!(out.success(), "{out}");
    assert_eq!(r["batch"], 1, "{r}");
    assert_eq!(r["matches_l1"], true, "{r}");
    assert_eq!(r["state_root"], batches[0]["new_state_root"], "{r}");

    // A batch committed through another contract is not followed: an error names it.
    // The forwarder passes its calldata on to the rollup (PUSH0 ... CALL; revert on failure).
    let forwarder = fresh.deploy(&format!(
        "6028600a5f3960285ff3365f5f375f5f365f5f73{}5af1602657{}",
        rollup_b.trim_start_matches("0x").to_lowercase(),
        "5f5ffd5b00"
    ));
    assert!(send(&[rollup_b, "setOperator(address)", &forwarder]));
    let [a, b, c] = proof_args(&batches[1]);
    let calldata = run(
        npm_bin().join("cast"),
        [
            "calldata",
            "finalizeBatch(bytes,uint256[2],uint256[2][2],uint256[2])",
            batches[1]["data"].as_str().unwrap(),
            &a,
            &b,
            &c,
        ],
    )
    .ok()
    .stdout
    .trim()
    .to_string();
    assert!(send(&[&forwarder, "--data", &calldata]));
    assert_eq!(
        cast_call(&fresh, &[rollup_b, "provenStateRoot()(uint256)"]),
        address_dec(batches[1]["new_state_root"].as_str().unwrap())
    );
    let out = kiln([
        "rollup",
        "reconstruct",
        "--l1-rpc",
        &fresh.url,
        "--deployment",
        out_file.to_str().unwrap(),
        "--genesis",
        genesis.to_str().unwrap(),
    ]);
    assert_bad_input(&out, &["calls through other contracts are not followed"]);
    assert!(out.stderr.contains("batch 2"), "{out}");

    // Bad arguments: exit 2 and a message naming the problem; nothing written.
    let again = deploy_run(&deploy_args(&fresh.url, zkey_s, "2", out_s), Some(DEV_KEY));
    assert_bad_input(&again, &["exists"]);
    let b2 = dir.join("deploy-b2.json");
    let b2_s = b2.to_str().unwrap();
    let out = deploy_run(&deploy_args(&fresh.url, zkey_s, "2", b2_s), None);
    assert_bad_input(&out, &["KILN_L1_PRIVATE_KEY"]);
    let out = deploy_run(&deploy_args(&fresh.url, zkey_s, "2", b2_s), Some("0x1234"));
    assert_bad_input(&out, &["KILN_L1_PRIVATE_KEY"]);
    assert!(!out.stderr.contains("0x1234"), "the key is echoed:\n{out}");
    let missing = dir.join("missing.zkey");
    let out = deploy_run(
        &deploy_args(&fresh.url, missing.to_str().unwrap(), "2", b2_s),
        Some(DEV_KEY),
    );
    assert_bad_input(&out, &[missing.to_str().unwrap()]);
    let out = deploy_run(&deploy_args(&fresh.url, zkey_s, "3", b2_s), Some(DEV_KEY));
    assert_bad_input(&out, &["signals"]);
    let out = deploy_run(
        &deploy_args("http://127.0.0.1:1", zkey_s, "2", b2_s),
        Some(DEV_KEY),
    );
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("http://127.0.0.1:1"), "{out}");
    let mut bad_guardian = deploy_args(&fresh.url, zkey_s, "2", b2_s);
    bad_guardian.extend(["--guardian".to_string(), "0x12".to_string()]);
    assert_bad_input(&deploy_run(&bad_guardian, Some(DEV_KEY)), &["--guardian"]);
    assert!(!b2.exists());
}
