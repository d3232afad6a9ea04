//! `kiln rollup ...`: tools for rollup operators that work from files alone.
//!
//! - `circuit export`: the batch circuit of a batch size as a `.r1cs`, for a phase-2
//!   ceremony with snarkjs.
//! - `reconstruct`: rebuilds the state from a genesis and batch data files (the data each
//!   batch posts, `docs/rollup.md`) and prints the state root, which must equal the
//!   sequencer's.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::{CliError, Outcome};
use kiln_rollup::batchdata::BatchData;
use kiln_rollup::ledger::{Genesis, Ledger};
use kiln_rollup::tx::hash_hex;

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
    /// Rebuild the state from batch data alone and print its root.
    ///
    /// Each file holds one batch's data (docs/rollup.md), as raw bytes or as 0x-hex text
    /// (the `data` field of GET /v1/rollup/batches/{n}); they must follow each other from
    /// the genesis on.
    Reconstruct {
        /// The rollup's genesis (the file given to --rollup-genesis).
        #[arg(long, value_name = "FILE")]
        genesis: PathBuf,
        /// Batch data files, in batch order.
        #[arg(required = true, value_name = "BATCH_DATA")]
        batches: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
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
            json,
        } => reconstruct(&genesis, &batches, json),
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

fn reconstruct(genesis: &Path, batches: &[PathBuf], json: bool) -> Result<Outcome, CliError> {
    let text = std::fs::read_to_string(genesis).map_err(|e| bad(genesis, e))?;
    let g: Genesis = serde_json::from_str(&text).map_err(|e| bad(genesis, e))?;
    let mut ledger = Ledger::from_genesis(&g).map_err(|e| bad(genesis, e))?;
    let mut last = 0;
    for path in batches {
        let data = BatchData::decode(&read_data(path)?).map_err(|e| bad(path, e))?;
        if data.number != last + 1 {
            return Err(bad(
                path,
                format!(
                    "holds batch {}, but batch {} comes next",
                    data.number,
                    last + 1
                ),
            ));
        }
        ledger.replay_data(&data).map_err(|e| bad(path, e))?;
        last = data.number;
    }
    let root = ledger.root();
    let decimal = kiln_rollup::babyjub::to_biguint(&root).to_string();
    if json {
        println!(
            "{}",
            serde_json::json!({"batch": last, "state_root": hash_hex(&root), "state_root_decimal": decimal, "accounts": ledger.len()})
        );
    } else {
        println!(
            "state root after batch {last}: {} ({decimal}), {} accounts",
            hash_hex(&root),
            ledger.len()
        );
    }
    Ok(Outcome::Ok)
}
