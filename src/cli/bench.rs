//! `kiln bench`: the bench suites (msm, ntt, prove, serve, rollup, all) and `compare`, on
//! top of the `kiln-bench` crate.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use kiln_bench::spec::{parse_groups, parse_precompute, parse_windows};
use kiln_bench::{BenchError, BuildInfo, CompareOptions, Metric, RunConfig, Sizes, Suite};

use super::{CliError, Outcome};

/// `kiln bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// MSMs over resident tables (G1, G2), every device and kernel variant against arkworks.
    Msm(RunArgs),
    /// Batched NTTs (forward, and domain→coset as the prover runs it) against ark-poly.
    Ntt(RunArgs),
    /// Whole Groth16 proofs of a synthetic circuit (2^size domain, development key made
    /// in-process) on every device against the CPU backend.
    Prove(RunArgs),
    /// Whole proofs through the daemon: for each device a `kiln serve --device SPEC` is
    /// started, the synthetic circuit's key uploaded, and each proof posted as a .wtns,
    /// long-polled and checked, against the same proof made in-process by the CPU backend.
    Serve(RunArgs),
    /// The rollup at 2^N transfers per batch (--batch-sizes): the batch proven on every
    /// device against the CPU backend, and its signatures checked as the sequencer groups
    /// them (on cpu:0) against bare one-at-a-time verification.
    Rollup(RunArgs),
    /// Every suite: msm, ntt, prove, serve, rollup.
    All(RunArgs),
    /// Compare two runs' bench.json: per row the change and its noise band; exit 1 when any
    /// row regressed beyond its band (for CI gates), 0 otherwise.
    Compare(CompareArgs),
}

/// Options of a suite run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Sizes as log2: a range with both ends included (12..16), one size (14), or a list
    /// (12,14,16).
    #[arg(long, default_value = "12..16")]
    sizes: String,
    /// Batch sizes of the rollup suite only, as log2 of the transfers per batch: a range
    /// (0..2), one (2: 4 transfers) or a list (0,2); 0 is one transfer, 12 (4096) the most.
    #[arg(long, default_value = "2")]
    batch_sizes: String,
    /// Devices: all (every device found, the emulated FPGA card and PoCL included), or a
    /// comma list (cpu,opencl:0,fpga:0).
    #[arg(long, default_value = "all")]
    device: String,
    /// MSM groups: g1, g2 or g1,g2.
    #[arg(long, default_value = "g1,g2")]
    groups: String,
    /// MSM window widths to sweep as kernel variants: auto (each device's own choice)
    /// and/or widths in bits (auto,12,16); a device runs the widths its engines accept.
    #[arg(long, default_value = "auto")]
    windows: String,
    /// The CPU backend's precomputed tables as variants: on, off or on,off.
    #[arg(long, default_value = "on")]
    precompute: String,
    /// Timed repeats per row (min/median/max are over these).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Write bench.json (schema kiln-bench/1), bench.csv and plots (SVG and PNG) here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bar (it is drawn only on a terminal anyway).
    #[arg(long)]
    no_progress: bool,
}

/// Options of `kiln bench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The earlier run's bench.json.
    old: PathBuf,
    /// The later run's bench.json.
    new: PathBuf,
    /// What to compare: speedup (over the in-process baseline; robust to machine load) or
    /// wall (seconds).
    #[arg(long, default_value = "speedup", value_parser = ["speedup", "wall"])]
    metric: String,
    /// The smallest noise band, as a fraction (0.1 = 10 %); a row's band is the larger of
    /// this and its repeats' relative spread in either run.
    #[arg(long, default_value_t = 0.10)]
    min_band: f64,
    /// Accept rows of the old run that the new one does not have (by default a row that
    /// disappeared, such as a device that stopped working, is a regression).
    #[arg(long)]
    allow_missing: bool,
}

/// The cargo features this binary was built with.
fn features() -> Vec<String> {
    [
        ("opencl", cfg!(feature = "opencl")),
        ("cuda", cfg!(feature = "cuda")),
        ("fpga", cfg!(feature = "fpga")),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(f, _)| f.to_string())
    .collect()
}

/// Runs `kiln bench ...`.
pub fn run(cmd: BenchCommand) -> Result<Outcome, CliError> {
    let (suites, args) = match cmd {
        BenchCommand::Compare(args) => return compare(args),
        BenchCommand::Msm(a) => (vec![Suite::Msm], a),
        BenchCommand::Ntt(a) => (vec![Suite::Ntt], a),
        BenchCommand::Prove(a) => (vec![Suite::Prove], a),
        BenchCommand::Serve(a) => (vec![Suite::Serve], a),
        BenchCommand::Rollup(a) => (vec![Suite::Rollup], a),
        BenchCommand::All(a) => (Suite::ALL.to_vec(), a),
    };
    let cfg = RunConfig {
        suites,
        sizes: args.sizes.parse()?,
        batch_sizes: Sizes::parse_batch_sizes(&args.batch_sizes)?,
        groups: parse_groups(&args.groups)?,
        devices: args.device.parse()?,
        windows: parse_windows(&args.windows)?,
        precompute: parse_precompute(&args.precompute)?,
        repeats: args.repeats,
        out: args.out,
        progress: !args.no_progress,
        command: std::env::args().collect(),
        build: BuildInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            features: features(),
        },
    };
    let outcome = kiln_bench::run(&cfg)?;
    for path in &outcome.written {
        println!("wrote {}", path.display());
    }
    if !outcome.problems.is_empty() {
        return Err(BenchError::Mismatch(format!(
            "{} device runs failed or disagreed with their baseline:\n  {}",
            outcome.problems.len(),
            outcome.problems.join("\n  ")
        ))
        .into());
    }
    Ok(Outcome::Ok)
}

fn compare(args: CompareArgs) -> Result<Outcome, CliError> {
    let old = kiln_bench::report::Report::read(&args.old)?;
    let new = kiln_bench::report::Report::read(&args.new)?;
    let opts = CompareOptions {
        metric: if args.metric == "wall" {
            Metric::Wall
        } else {
            Metric::Speedup
        },
        min_band: args.min_band,
        allow_missing: args.allow_missing,
    };
    let c = kiln_bench::compare(&old, &new, opts)?;
    print!("{}", c.render());
    Ok(if c.regressions() > 0 {
        Outcome::Invalid
    } else {
        Outcome::Ok
    })
}
