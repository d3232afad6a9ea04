//! Proving rollup batches: for each batch size, a full batch of signed transfers is
//! executed, its witness computed natively (timed), the batch circuit exported as `.r1cs`
//! with a development key from `kiln setup`, and the same key and witness proven by
//! `kiln prove` and by `snarkjs groth16 prove` in the same run (median wall time of the
//! repeats, file reading included for both). Both proofs must pass `snarkjs groth16
//! verify` with the key's verification key, or nothing is reported.
//!
//! Reported per batch size: constraints, witness time and its share of kiln's proving
//! time, kiln's and snarkjs's proving times and their ratio, and proven transfers per
//! second (a full batch over witness + kiln's proof).
//!
//! `cargo bench --bench rollup_prove -- [--sizes 4,16] [--runs 2] [--out FILE]`
//! Needs the npm peers (`bash .ci/run --install`, or `KILN_NPM_BIN`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kiln_algebra::curve::Bn254;
use kiln_batch_circuit::{r1cs, witness, write_r1cs};

/// One batch size's results.
#[derive(serde::Serialize)]
struct Row {
    batch_size: usize,
    constraints: usize,
    witness_s: f64,
    kiln_prove_s: f64,
    snarkjs_prove_s: f64,
    /// snarkjs's time / kiln's time.
    speedup_over_snarkjs: f64,
    /// witness time / kiln's proving time.
    witness_share: f64,
    /// batch size / (witness + kiln's proof).
    proven_transfers_per_s: f64,
    kiln_setup_s: f64,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn snarkjs() -> PathBuf {
    let bin = std::env::var_os("KILN_NPM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/npm/node_modules/.bin")
        })
        .join("snarkjs");
    assert!(
        bin.exists(),
        "{} not found: run `bash .ci/run --install` first (it installs the npm peers)",
        bin.display()
    );
    bin
}

/// Runs a command to success; its wall time in seconds.
fn timed(cmd: &mut Command) -> f64 {
    let t = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    t.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench_size(n: usize, runs: usize, dir: &Path) -> Row {
    let kiln = env!("CARGO_BIN_EXE_kiln");
    let snarkjs = snarkjs();
    eprintln!("batch size {n}: executing a full batch and writing the circuit ...");
    let trace = kiln_bench::suites::rollup::full_batch(n)
        .expect("a full batch executes")
        .trace;
    let witness_s = median(
        (0..runs.max(3))
            .map(|_| {
                let t = Instant::now();
                let w = witness(&trace).expect("a valid batch has a witness");
                std::hint::black_box(w);
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let w = witness(&trace).expect("a witness");
    let circuit = r1cs(n).expect("the circuit");
    let constraints = circuit.constraints.len();
    let (r1cs_path, wtns, zkey, vk) = (
        dir.join(format!("batch{n}.r1cs")),
        dir.join(format!("batch{n}.wtns")),
        dir.join(format!("batch{n}.zkey")),
        dir.join(format!("batch{n}_vk.json")),
    );
    write_r1cs(&r1cs_path, &circuit).expect("write the r1cs");
    drop(circuit);
    kiln_formats::wtns::write_wtns::<Bn254>(&wtns, &w).expect("write the witness");
    eprintln!("batch size {n}: {constraints} constraints; kiln setup ...");
    let kiln_setup_s = timed(Command::new(kiln).arg("setup").arg(&r1cs_path).arg(&zkey));
    timed(
        Command::new(kiln)
            .args(["zkey", "export-vk"])
            .arg(&zkey)
            .arg(&vk),
    );

    let prove = |who: &str| -> f64 {
        let (proof, public) = (
            dir.join(format!("{who}{n}_proof.json")),
            dir.join(format!("{who}{n}_public.json")),
        );
        let times: Vec<f64> = (0..runs)
            .map(|r| {
                eprintln!("batch size {n}: {who} prove, run {} of {runs} ...", r + 1);
                let mut cmd = if who == "kiln" {
                    let mut c = Command::new(kiln);
                    c.arg("prove");
                    c
                } else {
                    let mut c = Command::new(&snarkjs);
                    c.args(["groth16", "prove"]);
                    c
                };
                timed(cmd.arg(&zkey).arg(&wtns).arg(&proof).arg(&public))
            })
            .collect();
        timed(
            Command::new(&snarkjs)
                .args(["groth16", "verify"])
                .arg(&vk)
                .arg(&public)
                .arg(&proof),
        );
        median(times)
    };
    let kiln_prove_s = prove("kiln");
    let snarkjs_prove_s = prove("snarkjs");
    for f in [&zkey, &wtns, &r1cs_path] {
        let _ = std::fs::remove_file(f);
    }
    Row {
        batch_size: n,
        constraints,
        witness_s,
        kiln_prove_s,
        snarkjs_prove_s,
        speedup_over_snarkjs: snarkjs_prove_s / kiln_prove_s,
        witness_share: witness_s / kiln_prove_s,
        proven_transfers_per_s: n as f64 / (witness_s + kiln_prove_s),
        kiln_setup_s,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = arg(&args, "--sizes")
        .unwrap_or_else(|| "4,16".into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("--sizes: comma-separated batch sizes")
        })
        .collect();
    let runs: usize = arg(&args, "--runs").map_or(2, |v| v.parse().expect("--runs N"));
    let out = arg(&args, "--out");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let rows: Vec<Row> = sizes
        .iter()
        .map(|&n| bench_size(n, runs, dir.path()))
        .collect();
    println!(
        "{:>6} {:>11} {:>10} {:>10} {:>12} {:>8} {:>14} {:>12}",
        "batch",
        "constraints",
        "witness s",
        "kiln s",
        "snarkjs s",
        "speedup",
        "witness share",
        "proven tx/s"
    );
    for r in &rows {
        println!(
            "{:>6} {:>11} {:>10.3} {:>10.2} {:>12.2} {:>7.2}x {:>13.1}% {:>12.3}",
            r.batch_size,
            r.constraints,
            r.witness_s,
            r.kiln_prove_s,
            r.snarkjs_prove_s,
            r.speedup_over_snarkjs,
            100.0 * r.witness_share,
            r.proven_transfers_per_s
        );
    }
    if let Some(path) = out {
        std::fs::write(&path, serde_json::to_string_pretty(&rows).expect("JSON"))
            .expect("write --out");
    }
}
