//! Command-line arguments (clap). rapidsnark's `prove` and snarkjs's `verify` argument orders.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// kiln: a Groth16 proving appliance (BN254; circom/snarkjs/rapidsnark compatible).
#[derive(Debug, Parser)]
#[command(name = "kiln", version, about, long_about = None)]
pub struct Cli {
    /// Log verbosity: -v info, -vv debug (also RUST_LOG).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    pub log_json: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// kiln's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Prove: <zkey> <wtns> <proof.json> <public.json> (rapidsnark's arguments).
    ///
    /// Exit 0 with both files written, 2 on bad input (nothing written), 3 on a device failure.
    Prove {
        /// Groth16 proving key (.zkey, snarkjs format).
        zkey: PathBuf,
        /// Witness (.wtns, from snarkjs wtns calculate or circom's witness generator).
        wtns: PathBuf,
        /// Where to write the proof (snarkjs proof.json).
        proof: PathBuf,
        /// Where to write the public signals (snarkjs public.json).
        public: PathBuf,
        /// Device to prove on: cpu (default), opencl:N, cuda:N, fpga:N, auto (the CPU and
        /// every accelerator present, as `kiln serve` does); or a comma list (e.g.
        /// cpu,opencl:0) to schedule the MSMs and NTTs across by measured throughput, with
        /// faulty devices' work redone on the CPU.
        #[arg(long, default_value = "cpu")]
        device: String,
    },
    /// Verify: <verification_key.json> <public.json> <proof.json> (snarkjs's order).
    ///
    /// Exit 0 valid, 1 invalid, 2 bad input.
    Verify {
        /// snarkjs verification_key.json.
        vk: PathBuf,
        /// snarkjs public.json.
        public: PathBuf,
        /// snarkjs proof.json.
        proof: PathBuf,
    },
    /// Development setup: write a circuit-specific Groth16 key for <circuit.r1cs>.
    ///
    /// NOT FOR PRODUCTION: the toxic waste is sampled by this one process.
    Setup {
        /// The circuit (.r1cs from circom).
        r1cs: PathBuf,
        /// Where to write the proving key (.zkey).
        zkey: PathBuf,
    },
    /// Inspect and export proving keys.
    Zkey {
        /// What to do with the key.
        #[command(subcommand)]
        command: ZkeyCommand,
    },
    /// Check witnesses.
    Wtns {
        /// What to do with the witness.
        #[command(subcommand)]
        command: WtnsCommand,
    },
    /// Run the proving appliance: the multi-tenant REST daemon (SQLite store; the CPU and
    /// every accelerator present).
    ///
    /// Admin key from KILN_ADMIN_KEY or the config file; with none, the first start
    /// generates one and prints it once.
    Serve(Box<kiln_server::ServeArgs>),
    /// Rollup tools: export the batch circuit, deploy the L1 contracts, reconstruct the state
    /// from batch data (files, or the L1).
    Rollup {
        /// What to do.
        #[command(subcommand)]
        command: crate::cli::rollup::RollupCommand,
    },
    /// Bench suites for hardware engineers: every device side by side against in-process
    /// baselines (arkworks for MSM and NTT, the CPU backend for proofs, in-process proving
    /// for the daemon, one-at-a-time verification for the rollup's grouped signature
    /// checks), a table, and with --out DIR JSON, CSV and plots; `compare` gates regressions.
    ///
    /// Exit 0 done, 1 `compare` found a regression, 2 bad arguments (nothing run), 3 a
    /// device failed or disagreed with its baseline.
    Bench {
        /// The suite, or compare.
        #[command(subcommand)]
        command: crate::cli::bench::BenchCommand,
    },
    /// List the devices kiln can prove on, and why any backend is missing.
    Devices {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `kiln zkey ...`
#[derive(Debug, Subcommand)]
pub enum ZkeyCommand {
    /// Print a key's curve, sizes and domain, after checking every point and coefficient.
    Info {
        /// The proving key.
        zkey: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write the key's verification_key.json (snarkjs's shape).
    ExportVk {
        /// The proving key.
        zkey: PathBuf,
        /// Where to write verification_key.json.
        vk: PathBuf,
    },
    /// Write a Solidity verifier of the key, with snarkjs's `verifyProof(uint[2],
    /// uint[2][2], uint[2], uint[N])` interface (snarkjs's calldata feeds it unchanged).
    ExportVerifier {
        /// The proving key (kiln's or snarkjs's).
        zkey: PathBuf,
        /// Where to write the contract (Verifier.sol).
        sol: PathBuf,
        /// The contract's name.
        #[arg(long, default_value = "Groth16Verifier")]
        name: String,
    },
}

/// `kiln wtns ...`
#[derive(Debug, Subcommand)]
pub enum WtnsCommand {
    /// Check that a witness satisfies a circuit; names the first unsatisfied constraint.
    ///
    /// Exit 0 satisfied, 2 not satisfied or bad input.
    Check {
        /// The circuit (.r1cs).
        r1cs: PathBuf,
        /// The witness (.wtns).
        wtns: PathBuf,
    },
}
