//! `cargo bench --bench suites -- [SUITE] [kiln bench options]`: runs `kiln bench` (the one
//! implementation of kiln's device suites, in the shipped binary) from the binary this
//! build made. With no arguments: `kiln bench all --sizes 12..20 --out bench/out/suites`.
//! Everything after `--` is passed on: `cargo bench --bench suites -- msm --sizes 12..16
//! --device all --out bench/out/msm`.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    // cargo passes `--bench` to every bench target; kiln bench does not take it.
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.is_empty() {
        args = ["all", "--sizes", "12..20", "--out", "bench/out/suites"]
            .map(String::from)
            .to_vec();
    }
    let kiln = env!("CARGO_BIN_EXE_kiln");
    match Command::new(kiln)
        .arg("bench")
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
    {
        Ok(status) => ExitCode::from(status.code().unwrap_or(3).clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("cannot run {kiln}: {e}");
            ExitCode::from(3)
        }
    }
}
