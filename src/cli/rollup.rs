//! `kiln rollup ...`: tools for rollup operators.
//!
//! - `circuit export`: the batch circuit of a batch size as a `.r1cs`, for a phase-2
//!   ceremony with snarkjs.
//! - `deploy`: deploys the rollup's contracts to an L1 for a genesis and the batch
//!   circuit's key, and writes the deployment record `kiln serve --l1-deployment` takes.
//! - `reconstruct`: rebuilds the state from a genesis and the batches' data (the data each
//!   batch posts, `docs/rollup.md`), read from files or from L1, and prints the state root,
//!   which must equal the sequencer's (and, from L1, the contract's proven root).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::primitives::Address;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use clap::Subcommand;

use super::{CliError, Outcome};
use kiln_algebra::curve::Bn254;
use kiln_formats::zkey::Zkey;
use kiln_groth16::types::VerifyingKey;
use kiln_l1::deploy::{DeployConfig, Deployment};
use kiln_l1::L1Error;
use kiln_rollup::batchdata::BatchData;
use kiln_rollup::ledger::{Genesis, Ledger};
use kiln_rollup::tx::hash_hex;

/// The environment variable holding the operator's L1 key (as for `kiln serve`).
const KEY_ENV: &str = "KILN_L1_PRIVATE_KEY";

/// How long the L1 node has to answer the first request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// `kiln rollup ...`
#[derive(Debug, Subcommand)]
pub enum RollupCommand {
    /// The batch circuit: export it for a phase-2 ceremony (snarkjs groth16 setup, zkey
    /// contribute) whose .zkey the appliance then proves with (--rollup-zkey).
    Circuit {
        /// What to do.
        #[command(subcommand)]
        command: CircuitCommand,
    },
    /// Deploy the rollup's contracts to an L1 and write the deployment record.
    ///
    /// Signs with the operator's key from KILN_L1_PRIVATE_KEY (hex; never taken on the
    /// command line), which becomes the contract's operator: run `kiln serve --rollup
    /// --l1-rpc URL --l1-deployment FILE` with the same operator key, genesis, batch size
    /// and proving key (--rollup-zkey). The deployment sends the sum of the genesis's ETH
    /// balances to the contract. The proving key must be the batch circuit's for
    /// --batch-size (its signals and its one public input are checked; that it came from a
    /// ceremony on `kiln rollup circuit export` is the operator's to know). Exit 2 when an
    /// argument, a file, the L1 node or the deployment refuses (a message says which).
    Deploy {
        /// The L1's JSON-RPC URL.
        #[arg(long, value_name = "URL")]
        l1_rpc: String,
        /// The rollup's genesis (the file given to --rollup-genesis).
        #[arg(long, value_name = "FILE")]
        genesis: PathBuf,
        /// The batch circuit's proving key (.zkey) the verifier is made for.
        #[arg(long, value_name = "FILE")]
        zkey: PathBuf,
        /// Transactions per batch (--rollup-max-batch-size); the key must be its circuit's.
        #[arg(long, value_name = "N")]
        batch_size: usize,
        /// Seconds a queued L1 operation has to be included by a proven batch before
        /// anyone may activate exodus mode. The guardian's longest pause is a quarter of it.
        #[arg(long, value_name = "S", default_value_t = 86_400)]
        inclusion_deadline_s: u64,
        /// Seconds a committed batch has to be proven before anyone may revert it.
        #[arg(long, value_name = "S", default_value_t = 3_600)]
        proof_deadline_s: u64,
        /// The guardian, who may pause commits and deposits (default: the operator).
        #[arg(long, value_name = "ADDR")]
        guardian: Option<String>,
        /// Where to write the deployment record (refused if it exists).
        #[arg(long, value_name = "FILE", default_value = "l1-deployment.json")]
        out: PathBuf,
    },
    /// Rebuild the state from batch data alone and print its root.
    ///
    /// From files: each holds one batch's data (docs/rollup.md), as raw bytes or as 0x-hex
    /// text (the `data` field of GET /v1/rollup/batches/{n}); they must follow each other
    /// from the genesis on. From L1 (--l1-rpc and --deployment): the data of every batch
    /// the contract has proven, read from the transactions that committed them (calls of
    /// finalizeBatch or submitStateRoot sent to the contract itself; calls through other
    /// contracts are not followed); the root is checked against the contract's proven
    /// state root, and a difference exits 1.
    Reconstruct {
        /// The rollup's genesis (the file given to --rollup-genesis).
        #[arg(long, value_name = "FILE")]
        genesis: PathBuf,
        /// Batch data files, in batch order (or --l1-rpc and --deployment instead).
        #[arg(
            value_name = "BATCH_DATA",
            required_unless_present = "l1_rpc",
            conflicts_with = "l1_rpc"
        )]
        batches: Vec<PathBuf>,
        /// Read the batches' data from this L1 (JSON-RPC URL) instead of files.
        #[arg(long, value_name = "URL", requires = "deployment")]
        l1_rpc: Option<String>,
        /// The deployment record (l1-deployment.json) of the rollup on that L1.
        #[arg(long, value_name = "FILE", requires = "l1_rpc")]
        deployment: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also print the account at this index in the rebuilt state with its state proof:
        /// what `exodusWithdraw` takes (`{"index", "token", "nonce", "balance", "ax", "ay",
        /// "eth_address", "path"}`, numbers as decimal strings).
        #[arg(long, value_name = "INDEX")]
        account: Option<u32>,
    },
}

/// `kiln rollup circuit ...`
#[derive(Debug, Subcommand)]
pub enum CircuitCommand {
    /// Write the batch circuit of a batch size as a circom-compatible .r1cs (wire 0 the
    /// constant 1, wire 1 the one public input).
    Export {
        /// Transactions per batch (--rollup-max-batch-size).
        #[arg(long, value_name = "N")]
        batch_size: usize,
        /// Where to write the .r1cs.
        r1cs: PathBuf,
    },
}

/// Runs a `kiln rollup` command.
pub fn run(command: RollupCommand) -> Result<Outcome, CliError> {
    match command {
        RollupCommand::Reconstruct {
            genesis,
            batches,
            l1_rpc: Some(url),
            deployment: Some(deployment),
            json,
            account,
        } if batches.is_empty() => reconstruct_l1(&genesis, &url, &deployment, json, account),
        RollupCommand::Reconstruct {
            genesis,
            batches,
            l1_rpc: None,
            deployment: None,
            json,
            account,
        } => reconstruct(&genesis, &batches, json, account),
        RollupCommand::Reconstruct { .. } => Err(CliError::BadArgument(
            "give batch data files, or --l1-rpc and --deployment, not both".into(),
        )),
        RollupCommand::Deploy {
            l1_rpc,
            genesis,
            zkey,
            batch_size,
            inclusion_deadline_s,
            proof_deadline_s,
            guardian,
            out,
        } => deploy(&DeployArgs {
            url: l1_rpc,
            genesis,
            zkey,
            batch_size,
            inclusion_deadline_s,
            proof_deadline_s,
            guardian,
            out,
        }),
        RollupCommand::Circuit {
            command: CircuitCommand::Export { batch_size, r1cs },
        } => export(batch_size, &r1cs),
    }
}

fn bad(path: &Path, problem: impl std::fmt::Display) -> CliError {
    CliError::BadArgument(format!("{}: {problem}", path.display()))
}

/// A batch data file's bytes: raw, or 0x-hex text.
fn read_data(path: &Path) -> Result<Vec<u8>, CliError> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e))?;
    let text = std::str::from_utf8(&bytes).ok().map(str::trim);
    match text.and_then(|t| t.strip_prefix("0x")) {
        Some(hex) => {
            if hex.len() % 2 != 0 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad(path, "starts with 0x but is not hex digits in pairs"));
            }
            Ok((0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
                .collect())
        }
        None => Ok(bytes),
    }
}

fn export(batch_size: usize, out: &Path) -> Result<Outcome, CliError> {
    let circuit = kiln_batch_circuit::r1cs(batch_size)
        .map_err(|e| CliError::BadArgument(format!("--batch-size {batch_size}: {e}")))?;
    kiln_batch_circuit::write_r1cs(out, &circuit)?;
    eprintln!(
        "wrote {}: the batch circuit for {batch_size} transactions, {} constraints, {} wires, 1 public input",
        out.display(),
        circuit.constraints.len(),
        circuit.n_wires
    );
    Ok(Outcome::Ok)
}

/// A state being rebuilt batch by batch.
struct Rebuild {
    ledger: Ledger,
    last: u64,
}

impl Rebuild {
    fn from_genesis(path: &Path) -> Result<(Self, Genesis), CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| bad(path, e))?;
        let g: Genesis = serde_json::from_str(&text).map_err(|e| bad(path, e))?;
        let ledger = Ledger::from_genesis(&g).map_err(|e| bad(path, e))?;
        Ok((Rebuild { ledger, last: 0 }, g))
    }

    /// Applies the next batch's data; `what` names where it came from in messages.
    fn apply(&mut self, what: &str, bytes: &[u8]) -> Result<(), CliError> {
        let fail = |p: String| CliError::BadArgument(format!("{what}: {p}"));
        let data = BatchData::decode(bytes).map_err(|e| fail(e.to_string()))?;
        if data.number != self.last + 1 {
            return Err(fail(format!(
                "holds batch {}, but batch {} comes next",
                data.number,
                self.last + 1
            )));
        }
        self.ledger
            .replay_data(&data)
            .map_err(|e| fail(e.to_string()))?;
        self.last = data.number;
        Ok(())
    }

    /// The root, as 0x-hex and as decimal.
    fn root(&mut self) -> (String, String) {
        let root = self.ledger.root();
        (
            hash_hex(&root),
            kiln_rollup::babyjub::to_biguint(&root).to_string(),
        )
    }

    /// The JSON report of both paths.
    fn json(&mut self) -> serde_json::Value {
        let (hex, decimal) = self.root();
        serde_json::json!({"batch": self.last, "state_root": hex, "state_root_decimal": decimal, "accounts": self.ledger.len()})
    }

    /// The account at `index` with its state proof, or an error naming the index.
    fn account(&mut self, index: u32) -> Result<serde_json::Value, CliError> {
        let dec = |x: &kiln_rollup::Fr| kiln_rollup::babyjub::to_biguint(x).to_string();
        let a = self.ledger.account(index).cloned().ok_or_else(|| {
            CliError::BadArgument(format!(
                "--account {index}: no account at that index after batch {}",
                self.last
            ))
        })?;
        let path: Vec<Vec<String>> = self
            .ledger
            .proof(index)
            .iter()
            .map(|g| g.iter().map(dec).collect())
            .collect();
        Ok(serde_json::json!({
            "index": index,
            "token": a.token.to_string(),
            "nonce": a.nonce.to_string(),
            "balance": a.balance.to_string(),
            "ax": dec(&a.key.x),
            "ay": dec(&a.key.y),
            "eth_address": dec(&a.eth_address),
            "path": path,
        }))
    }

    fn text(&mut self) -> String {
        let (hex, decimal) = self.root();
        format!(
            "state root after batch {}: {hex} ({decimal}), {} accounts",
            self.last,
            self.ledger.len()
        )
    }
}

fn reconstruct(
    genesis: &Path,
    batches: &[PathBuf],
    json: bool,
    account: Option<u32>,
) -> Result<Outcome, CliError> {
    let (mut state, _) = Rebuild::from_genesis(genesis)?;
    for path in batches {
        let bytes = read_data(path)?;
        state.apply(&path.display().to_string(), &bytes)?;
    }
    let account = account.map(|i| state.account(i)).transpose()?;
    if json {
        let mut report = state.json();
        if let Some(a) = account {
            report["account"] = a;
        }
        println!("{report}");
    } else {
        println!("{}", state.text());
        if let Some(a) = account {
            println!("{a}");
        }
    }
    Ok(Outcome::Ok)
}

/// A current-thread tokio runtime for a command's L1 calls.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::BadArgument(format!("cannot start the async runtime: {e}")))
}

/// An L1 failure, naming the node's URL.
fn l1_failed(url: &str, e: L1Error) -> CliError {
    CliError::BadArgument(format!("the L1 at {url}: {e}"))
}

/// `url` as the HTTP provider takes it.
fn rpc_url(url: &str) -> Result<alloy::transports::http::reqwest::Url, CliError> {
    url.parse()
        .map_err(|e| CliError::BadArgument(format!("--l1-rpc {url}: not a URL: {e}")))
}

/// The L1's chain id, or a message naming the URL when the node cannot be reached.
async fn chain_id<P: Provider>(provider: &P, url: &str) -> Result<u64, CliError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, provider.get_chain_id()).await {
        Ok(Ok(id)) => Ok(id),
        Ok(Err(e)) => Err(CliError::BadArgument(format!(
            "cannot reach the L1 at {url}: {}",
            super::render_error(&e)
        ))),
        Err(_) => Err(CliError::BadArgument(format!(
            "cannot reach the L1 at {url}: no answer in {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

fn reconstruct_l1(
    genesis: &Path,
    url: &str,
    deployment_file: &Path,
    json: bool,
    account: Option<u32>,
) -> Result<Outcome, CliError> {
    let (mut state, g) = Rebuild::from_genesis(genesis)?;
    let deployment =
        Deployment::load(deployment_file).map_err(|e| CliError::BadArgument(e.to_string()))?;
    if deployment.rollup_chain_id != g.chain_id {
        return Err(bad(
            genesis,
            format!(
                "a genesis of rollup chain {}, but {} records a deployment of rollup chain {}",
                g.chain_id,
                deployment_file.display(),
                deployment.rollup_chain_id
            ),
        ));
    }
    let provider = ProviderBuilder::new().connect_http(rpc_url(url)?);
    let chain = runtime()?.block_on(async {
        chain_id(&provider, url).await?;
        kiln_l1::chain_data::read_proven(&provider, &deployment)
            .await
            .map_err(|e| l1_failed(url, e))
    })?;
    for b in &chain.batches {
        let what = format!("batch {} (L1 transaction {})", b.number, b.tx_hash);
        state.apply(&what, &b.data).map_err(|e| match e {
            CliError::BadArgument(m) => CliError::BadArgument(format!(
                "{m} (is {} the genesis the rollup was deployed with?)",
                genesis.display()
            )),
            e => e,
        })?;
    }
    let (_, decimal) = state.root();
    let l1_root = chain.proven_state_root.to_string();
    let matches = decimal == l1_root;
    let account = account.map(|i| state.account(i)).transpose()?;
    if json {
        let mut report = state.json();
        if let Some(a) = &account {
            report["account"] = a.clone();
        }
        report["l1_proven_root"] = serde_json::Value::String(l1_root.clone());
        report["matches_l1"] = serde_json::Value::Bool(matches);
        report["l1_block"] = serde_json::Value::from(chain.block);
        println!("{report}");
    } else {
        println!("{}", state.text());
        if let Some(a) = &account {
            println!("{a}");
        }
    }
    if !matches {
        eprintln!(
            "error: the rebuilt state root {decimal} is not the proven state root {l1_root} of the rollup contract {} (L1 block {}, {} proven batches): is {} the genesis the rollup was deployed with?",
            deployment.rollup,
            chain.block,
            chain.batches.len(),
            genesis.display()
        );
        return Ok(Outcome::Invalid);
    }
    if !json {
        println!(
            "matches the proven state root of the rollup contract {} (L1 chain {}, block {})",
            deployment.rollup, deployment.l1_chain_id, chain.block
        );
    }
    Ok(Outcome::Ok)
}

/// `kiln rollup deploy`'s arguments.
struct DeployArgs {
    url: String,
    genesis: PathBuf,
    zkey: PathBuf,
    batch_size: usize,
    inclusion_deadline_s: u64,
    proof_deadline_s: u64,
    guardian: Option<String>,
    out: PathBuf,
}

/// The operator's key from the environment (never from the command line).
fn operator_key() -> Result<PrivateKeySigner, CliError> {
    let key = std::env::var(KEY_ENV).unwrap_or_default();
    if key.trim().is_empty() {
        return Err(CliError::BadArgument(format!(
            "{KEY_ENV} is not set: kiln rollup deploy signs with the operator's L1 key from that environment variable (hex), never from the command line"
        )));
    }
    // The key's text stays out of the message.
    PrivateKeySigner::from_str(key.trim()).map_err(|_| {
        CliError::BadArgument(format!(
            "{KEY_ENV} is not a secp256k1 private key (32 bytes of hex, 0x optional)"
        ))
    })
}

/// The batch circuit's verifying key from `zkey`, checked against the circuit of
/// `batch_size` transactions: one public input and its number of signals.
fn batch_vk(zkey: &Path, batch_size: usize) -> Result<VerifyingKey<Bn254>, CliError> {
    let shape = kiln_batch_circuit::shape(batch_size)
        .map_err(|e| CliError::BadArgument(format!("--batch-size {batch_size}: {e}")))?;
    let zk = Zkey::<Bn254>::open(zkey)?;
    let h = zk.header();
    if h.n_public != 1 || h.n_vars != shape.wires {
        return Err(bad(
            zkey,
            format!(
                "a key for {} signals and {} public inputs, but the batch circuit of {batch_size} transactions has {} signals and 1 public input (export it with kiln rollup circuit export --batch-size {batch_size})",
                h.n_vars, h.n_public, shape.wires
            ),
        ));
    }
    let vk = VerifyingKey::from_zkey(&zk)?;
    if vk.ic.len() != 2 {
        return Err(bad(
            zkey,
            format!(
                "the verifying key has {} public inputs; the batch circuit has 1",
                vk.ic.len().saturating_sub(1)
            ),
        ));
    }
    Ok(vk)
}

fn deploy(a: &DeployArgs) -> Result<Outcome, CliError> {
    let signer = operator_key()?;
    let operator = signer.address();
    if !(1..=4096).contains(&a.batch_size) {
        return Err(CliError::BadArgument(format!(
            "--batch-size {}: the contract takes 1 to 4096 transactions per batch",
            a.batch_size
        )));
    }
    if a.inclusion_deadline_s < 4 {
        return Err(CliError::BadArgument(format!(
            "--inclusion-deadline-s {}: at least 4 (the guardian's longest pause is a quarter of it)",
            a.inclusion_deadline_s
        )));
    }
    if a.proof_deadline_s == 0 {
        return Err(CliError::BadArgument(
            "--proof-deadline-s 0: a committed batch needs time to be proven".into(),
        ));
    }
    let guardian = match &a.guardian {
        None => operator,
        Some(text) => Address::from_str(text.trim())
            .ok()
            .filter(|g| !g.is_zero())
            .ok_or_else(|| {
                CliError::BadArgument(format!(
                    "--guardian {text}: not a nonzero L1 address (0x and 40 hex digits)"
                ))
            })?,
    };
    if a.out.exists() {
        return Err(bad(
            &a.out,
            "exists: it may record a deployment still in use; remove it or give another --out",
        ));
    }
    let text = std::fs::read_to_string(&a.genesis).map_err(|e| bad(&a.genesis, e))?;
    let facts = kiln_l1::genesis::genesis_facts(&text).map_err(|e| bad(&a.genesis, e))?;
    let vk = batch_vk(&a.zkey, a.batch_size)?;
    let url = rpc_url(&a.url)?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url);
    let cfg = DeployConfig {
        rollup_chain_id: facts.chain_id,
        batch_size: a.batch_size,
        genesis_root: facts.root,
        first_free_account: facts.first_free_account,
        proof_deadline_s: a.proof_deadline_s,
        inclusion_deadline_s: a.inclusion_deadline_s,
        max_pause_s: a.inclusion_deadline_s / 4,
        operator,
        guardian,
        genesis_eth: facts.eth,
    };
    let deployment = runtime()?.block_on(async {
        chain_id(&provider, &a.url).await?;
        kiln_l1::deploy::deploy(&provider, &vk, &cfg)
            .await
            .map_err(|e| l1_failed(&a.url, e))
    })?;
    deployment.save(&a.out).map_err(|e| {
        CliError::BadArgument(format!(
            "the contracts are deployed (rollup {}), but the record could not be written: {e}",
            deployment.rollup
        ))
    })?;
    println!(
        "{}",
        serde_json::to_string_pretty(&deployment).expect("a deployment serializes")
    );
    eprintln!(
        "wrote {}: the rollup contract {} on L1 chain {} (block {}), operator {operator}, guardian {guardian}; serve it with kiln serve --rollup --l1-rpc {} --l1-deployment {} (with this {KEY_ENV})",
        a.out.display(),
        deployment.rollup,
        deployment.l1_chain_id,
        deployment.block,
        a.url,
        a.out.display()
    );
    Ok(Outcome::Ok)
}
