//! The rollup's L1 costs, measured on anvil through the real appliance: for each batch size
//! N, a full batch of N transfers is confirmed by `kiln serve --rollup --l1-rpc`, proven and
//! posted with `finalizeBatch`; the bench reads the gas that transaction used (calldata,
//! SHA-256 of the data, the Groth16 verification and the contract's storage together), per
//! transfer, beside the gas of verifying the same proof alone (the baseline: a batch can
//! cost no less), and the time from the last transfer's confirmation to its `finalized`.
//! At the first size it also reports the gas of a deposit naming a key, a deposit to an
//! account, a forced exit, a withdrawal paid by `finalizeWithdrawal`, and (after the
//! operator is stopped and the inclusion deadline has passed) `activateExodus` and an
//! exodus withdrawal with its state proof.
//!
//! `cargo bench --bench rollup_l1 -- [--sizes 4,16,64] [--out FILE]`; needs anvil (`bash
//! .ci/run --install`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use kiln_l1::anvil::DEV_KEY;
use kiln_l1::artifacts::KilnRollup;
use kiln_rollup::wallet::{body, genesis_account, key_from_seed, transfer, withdraw};
use serde_json::{json, Value};

const CHAIN: u64 = 9;
/// Where the withdrawal goes.
const RECIPIENT: &str = "0x00000000000000000000000000000000000c0ffe";

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn npm_bin() -> std::path::PathBuf {
    std::env::var_os("KILN_NPM_BIN")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/npm/node_modules/.bin")
        })
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `program args` and returns it with the rest of the first stdout line starting
/// with `prefix`.
fn start(mut cmd: Command, prefix: &str) -> (Proc, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start a child process (run `bash .ci/run --install`)");
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    let found = loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("{cmd:?} exited before printing {prefix:?}");
        }
        if let Some(rest) = line.trim().strip_prefix(prefix) {
            break rest.to_string();
        }
    };
    std::thread::spawn(move || for _ in out.lines() {});
    (Proc(child), found)
}

/// The development account 0 (the operator) as the genesis account's L1 owner.
fn owned(mut account: Value) -> Value {
    let dev = PrivateKeySigner::from_str(DEV_KEY).unwrap().address();
    account["eth_address"] = json!(U256::from_be_slice(dev.as_slice()).to_string());
    account
}

fn get(base: &str, path: &str) -> Option<Value> {
    ureq::get(&format!("{base}{path}"))
        .call()
        .ok()
        .and_then(|r| r.into_string().ok())
        .and_then(|t| serde_json::from_str(&t).ok())
}

fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One batch size's measurement.
#[derive(serde::Serialize)]
struct SizeRow {
    batch_size: usize,
    transfers: usize,
    finalize_gas: u64,
    gas_per_transfer: f64,
    calldata_bytes: usize,
    verify_only_gas: u64,
    /// finalize gas / verify-only gas.
    ratio_to_verify: f64,
    confirm_to_finalized_s: f64,
}

/// Sends `input` to `to` (value `value`) from the dev wallet; returns gas used.
async fn gas_of<P: Provider>(p: &P, to: Address, input: Bytes, value: U256, what: &str) -> u64 {
    let tx = TransactionRequest::default()
        .with_to(to)
        .with_input(input)
        .with_value(value)
        .with_gas_limit(3_000_000);
    let receipt = p
        .send_transaction(tx)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .get_receipt()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(receipt.status(), "{what} reverted");
    receipt.gas_used
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = arg(&args, "--sizes")
        .unwrap_or_else(|| "4,16,64".into())
        .split(',')
        .map(|s| s.trim().parse().expect("--sizes: comma-separated integers"))
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let mut rows = Vec::new();
    let mut once = serde_json::Map::new();
    for (k, &n) in sizes.iter().enumerate() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut anvil_cmd = Command::new(npm_bin().join("anvil"));
        anvil_cmd.args(["--port", "0", "--host", "127.0.0.1"]);
        let (_anvil, addr) = start(anvil_cmd, "Listening on ");
        let url = format!("http://{addr}");

        // Account 1 collects fees; account 2 sends N − 1 transfers and one withdrawal.
        let keys: Vec<_> = (0..=3).map(key_from_seed).collect();
        let genesis = dir.path().join("genesis.json");
        std::fs::write(
            &genesis,
            json!({"chain_id": CHAIN, "accounts": [
                genesis_account(1, &keys[1].public(), 0, 0),
                owned(genesis_account(2, &keys[2].public(), 0, 1_000_000_000_000_000_000))],
                "fee_accounts": [{"token": 0, "index": 1}]})
            .to_string(),
        )
        .expect("write the genesis");
        let data = dir.path().join("data");
        let mut serve = Command::new(env!("CARGO_BIN_EXE_kiln"));
        serve
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .arg("--rollup-genesis")
            .arg(&genesis)
            .args(["--rollup", "--rollup-rate-limit", "0", "--l1-rpc", &url])
            .args(["--l1-confirmations", "0", "--l1-poll-ms", "100"])
            .args(["--l1-inclusion-deadline-s", "3600"])
            .args(["--rollup-max-batch-size", &n.to_string()])
            .args(["--rollup-batch-timeout-ms", "600000"])
            .env("KILN_L1_PRIVATE_KEY", DEV_KEY)
            .env("KILN_ADMIN_KEY", "bench-admin-key-0123456789")
            .env("RUST_LOG", "warn");
        let (server, base) = start(serve, "kiln serve: listening on ");
        let record = data.join("rollup/l1-deployment.json");
        let deployment: Value = wait_for("the deployment", 3600, || {
            std::fs::read_to_string(&record)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
        });
        let rollup = Address::from_str(deployment["rollup"].as_str().unwrap()).unwrap();
        let verifier = Address::from_str(deployment["verifier"].as_str().unwrap()).unwrap();
        let signer = PrivateKeySigner::from_str(DEV_KEY).unwrap();
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(url.parse().unwrap());

        let mut bodies: Vec<(String, Value)> = (0..n - 1)
            .map(|i| {
                let s = transfer(&keys[2], CHAIN, 2, 1, 0, 1000 + i as u128, 1, i as u64);
                (s.tx.hash_hex(), body(&s))
            })
            .collect();
        let to = kiln_formats::codec::from_decimal(&U256::from_str(RECIPIENT).unwrap().to_string())
            .unwrap();
        let w = withdraw(
            &keys[2],
            CHAIN,
            2,
            to,
            0,
            500_000_000_000_000_000,
            0,
            (n - 1) as u64,
        );
        bodies.push((w.tx.hash_hex(), body(&w)));
        for (_, b) in &bodies {
            ureq::post(&format!("{base}/v1/rollup/transactions"))
                .set("content-type", "application/json")
                .send_string(&b.to_string())
                .expect("a confirmed transaction");
        }
        let confirmed = Instant::now();
        let last = &bodies.last().unwrap().0;
        wait_for("finalized", 3600, || {
            get(&base, &format!("/v1/rollup/transactions/{last}"))
                .filter(|v| v["status"] == "finalized")
        });
        let to_final = confirmed.elapsed().as_secs_f64();

        rt.block_on(async {
            let filter = Filter::new()
                .address(rollup)
                .event_signature(KilnRollup::BatchProven::SIGNATURE_HASH)
                .from_block(0);
            let logs = provider.get_logs(&filter).await.expect("eth_getLogs");
            let log = logs.last().expect("a BatchProven event");
            let hash = log.transaction_hash.expect("a transaction hash");
            let receipt = provider
                .get_transaction_receipt(hash)
                .await
                .unwrap()
                .expect("the batch's receipt");
            let tx = provider
                .get_transaction_by_hash(hash)
                .await
                .unwrap()
                .expect("the batch's transaction");
            let input = alloy::consensus::Transaction::input(&tx).clone();
            let call =
                <KilnRollup::finalizeBatchCall as alloy::sol_types::SolCall>::abi_decode(&input)
                    .expect("a finalizeBatch call");
            let public_input = {
                use sha2::Digest;
                let r = U256::from_str(
                    "21888242871839275222246405745257275088548364400416034343698204186575808495617",
                )
                .unwrap();
                U256::from_be_slice(&sha2::Sha256::digest(&call.batchData)) % r
            };
            let verify_input = alloy::sol_types::SolCall::abi_encode(
                &kiln_l1::artifacts::BatchVerifier::verifyProofCall {
                    a: call.a,
                    b: call.b,
                    c: call.c,
                    input: [public_input],
                },
            );
            let verify_tx = TransactionRequest::default()
                .with_to(verifier)
                .with_input(Bytes::from(verify_input));
            let accepted = provider.call(verify_tx.clone()).await.expect("verifyProof");
            assert_eq!(
                U256::from_be_slice(&accepted),
                U256::from(1),
                "the batch verifier must accept the posted proof"
            );
            let verify_gas = gas_of(
                &provider,
                verifier,
                verify_tx.input.input().cloned().unwrap_or_default(),
                U256::ZERO,
                "verifyProof as a transaction",
            )
            .await;
            let gas = receipt.gas_used;
            rows.push(SizeRow {
                batch_size: n,
                transfers: n - 1,
                finalize_gas: gas,
                gas_per_transfer: gas as f64 / n as f64,
                calldata_bytes: input.len(),
                verify_only_gas: verify_gas,
                ratio_to_verify: gas as f64 / verify_gas as f64,
                confirm_to_finalized_s: to_final,
            });

            if k == 0 {
                // The exit the withdrawal made, paid on L1.
                let number: u64 = U256::from_be_bytes(log.topics()[1].0).to();
                let exits = get(&base, &format!("/v1/rollup/batches/{number}/exits")).unwrap();
                let e = &exits["exits"][0];
                let path: Vec<[U256; 4]> = e["path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|g| {
                        std::array::from_fn(|i| U256::from_str(g[i].as_str().unwrap()).unwrap())
                    })
                    .collect();
                let pay = KilnRollup::finalizeWithdrawalCall {
                    batchNumber: U256::from(number),
                    position: U256::from(e["position"].as_u64().unwrap()),
                    recipient: Address::from_str(RECIPIENT).unwrap(),
                    token: U256::ZERO,
                    amount: U256::from_str(e["amount"].as_str().unwrap()).unwrap(),
                    path,
                };
                let enc = |c: &dyn Fn() -> Vec<u8>| Bytes::from(c());
                let g = gas_of(
                    &provider,
                    rollup,
                    enc(&|| alloy::sol_types::SolCall::abi_encode(&pay)),
                    U256::ZERO,
                    "finalizeWithdrawal",
                )
                .await;
                once.insert("finalize_withdrawal_gas".into(), json!(g));
                let proof = get(&base, "/v1/rollup/accounts/2/proof").unwrap();
                let account = get(&base, "/v1/rollup/accounts/2").unwrap();
                let key = keys[3].public();
                let (ax, ay) = (
                    U256::from_str(&kiln_rollup::babyjub::to_biguint(&key.x).to_string()).unwrap(),
                    U256::from_str(&kiln_rollup::babyjub::to_biguint(&key.y).to_string()).unwrap(),
                );
                let amount = U256::from(10u64).pow(U256::from(17));
                let dep_key = KilnRollup::deposit_1Call {
                    token: Address::ZERO,
                    amount,
                    ax,
                    ay,
                };
                let g = gas_of(
                    &provider,
                    rollup,
                    enc(&|| alloy::sol_types::SolCall::abi_encode(&dep_key)),
                    amount,
                    "deposit to a key",
                )
                .await;
                once.insert("deposit_new_key_gas".into(), json!(g));
                let dep = KilnRollup::deposit_0Call {
                    token: Address::ZERO,
                    amount,
                    l2Account: U256::from(2),
                };
                let g = gas_of(
                    &provider,
                    rollup,
                    enc(&|| alloy::sol_types::SolCall::abi_encode(&dep)),
                    amount,
                    "deposit to an account",
                )
                .await;
                once.insert("deposit_existing_gas".into(), json!(g));
                drop(server);
                let fe = KilnRollup::forceExitCall {
                    l2Account: U256::from(1),
                };
                let g = gas_of(
                    &provider,
                    rollup,
                    enc(&|| alloy::sol_types::SolCall::abi_encode(&fe)),
                    U256::ZERO,
                    "forceExit",
                )
                .await;
                once.insert("force_exit_gas".into(), json!(g));
                let _: Value = provider
                    .raw_request("evm_increaseTime".into(), [3601u64])
                    .await
                    .expect("evm_increaseTime");
                let act = KilnRollup::activateExodusCall {};
                let g = gas_of(
                    &provider,
                    rollup,
                    enc(&|| alloy::sol_types::SolCall::abi_encode(&act)),
                    U256::ZERO,
                    "activateExodus",
                )
                .await;
                once.insert("activate_exodus_gas".into(), json!(g));
                let u = |v: &Value| {
                    U256::from_str(
                        &v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                    .unwrap()
                };
                let path: Vec<[U256; 4]> = proof["path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|g| std::array::from_fn(|i| u(&g[i])))
                    .collect();
                {
                    let ex = KilnRollup::exodusWithdrawCall {
                        l2Account: U256::from(2),
                        token: u(&account["token"]),
                        nonce: u(&account["nonce"]),
                        balance: u(&account["balance"]),
                        ax: u(&account["ax"]),
                        ay: u(&account["ay"]),
                        owner: PrivateKeySigner::from_str(DEV_KEY).unwrap().address(),
                        path,
                    };
                    let g = gas_of(
                        &provider,
                        rollup,
                        enc(&|| alloy::sol_types::SolCall::abi_encode(&ex)),
                        U256::ZERO,
                        "exodusWithdraw",
                    )
                    .await;
                    once.insert("exodus_withdraw_gas".into(), json!(g));
                }
            }
        });
    }
    println!("| batch size | transfers | finalizeBatch gas | gas per slot | calldata bytes | verify-only gas | ratio | confirm → finalized |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.0} | {} | {} | {:.2} | {:.1} s |",
            r.batch_size,
            r.transfers,
            r.finalize_gas,
            r.gas_per_transfer,
            r.calldata_bytes,
            r.verify_only_gas,
            r.ratio_to_verify,
            r.confirm_to_finalized_s
        );
    }
    println!("{}", serde_json::to_string_pretty(&once).unwrap());
    if let Some(out) = arg(&args, "--out") {
        std::fs::write(out, json!({"sizes": rows, "operations": once}).to_string())
            .expect("write --out");
    }
}
