//! The FPGA card, emulated from its own firmware and HLS sources, through the real binary:
//! whole proofs on `fpga:0` and on `cpu,fpga:0` with snarkjs-made keys, accepted by
//! `snarkjs groth16 verify`; and with faults injected on the card (a flipped bit in a
//! result, a hung engine the host times out, a completion the card never posts) every
//! proof released is still valid, redone on the CPU.
#![cfg(feature = "fpga")]

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A proof of fixture `name` with its snarkjs key on `device`, with `env` set; returns the
/// run's output and the files to verify.
fn prove(name: &str, device: &str, env: &[(&str, &str)]) -> (Output, TestDir, [PathBuf; 3]) {
    let c = circuit(name);
    let dir = TestDir::new(&format!("fpga-{name}-{}", device.replace([',', ':'], "-")));
    let wtns = c.witness(dir.path());
    let zkey = c.snarkjs_zkey();
    let vk = dir.join("vk.json");
    snarkjs_export_vk(&zkey, &vk);
    let (out, files) = prove_with(&dir, &zkey, &wtns, vk, device, env);
    (out, dir, files)
}

/// `kiln prove zkey wtns` on `device` into `dir`, with `env` set and a fresh throughput
/// table (the card is unmeasured, so the scheduler gives it work); the run's output and
/// `[vk, public, proof]`.
fn prove_with(
    dir: &TestDir,
    zkey: &Path,
    wtns: &Path,
    vk: PathBuf,
    device: &str,
    env: &[(&str, &str)],
) -> (Output, [PathBuf; 3]) {
    let (proof, public) = (dir.join("proof.json"), dir.join("public.json"));
    let calibration = dir.join("calibration.json");
    let mut env = env.to_vec();
    env.push(("KILN_CALIBRATION", calibration.to_str().unwrap()));
    let out = run_with_env(
        env!("CARGO_BIN_EXE_kiln"),
        [
            "prove".as_ref(),
            zkey.as_os_str(),
            wtns.as_os_str(),
            proof.as_os_str(),
            public.as_os_str(),
            "--device".as_ref(),
            device.as_ref(),
        ],
        &env,
    )
    .ok();
    (out, [vk, public, proof])
}

fn verify(files: &[PathBuf; 3]) {
    let [vk, public, proof] = files;
    assert_snarkjs_verifies(vk, public, proof);
}

fn card_time(out: &Output) -> &str {
    out.stderr
        .lines()
        .find(|l| l.starts_with("fpga:") && l.contains("modelled card time"))
        .unwrap_or_else(|| panic!("no card time reported:\n{out}"))
}

#[test]
fn whole_proofs_on_the_emulated_card_verify_in_snarkjs() {
    let (out, _dir, files) = prove("eddsa", "fpga:0", &[]);
    verify(&files);
    let report = card_time(&out);
    assert!(
        report.contains("MHz") && report.contains("wall time"),
        "{report}"
    );
    // Scheduled across the CPU and the card.
    let (out, _dir, files) = prove("poseidon", "cpu,fpga:0", &[]);
    verify(&files);
    card_time(&out);
}

fn faulty_proof_is_still_valid(plan: &str, extra: &[(&str, &str)]) {
    let mut env = vec![("KILN_FPGA_EMU_FAULT", plan), ("RUST_LOG", "warn")];
    env.extend_from_slice(extra);
    let (out, _dir, files) = prove("poseidon", "cpu,fpga:0", &env);
    verify(&files);
    assert!(
        out.stderr.contains("injecting a fault"),
        "the card never injected {plan}:\n{out}"
    );
    assert!(
        out.stderr
            .lines()
            .any(|l| l.contains("fpga:0") && l.contains("device fault")),
        "the scheduler did not count the card's fault:\n{out}"
    );
}

#[test]
fn a_flipped_bit_in_a_card_result_never_reaches_a_proof() {
    faulty_proof_is_still_valid("flip-bit@1", &[]);
}

#[test]
fn a_hung_engine_is_timed_out_and_the_work_redone() {
    faulty_proof_is_still_valid("hang@1", &[("KILN_FPGA_TIMEOUT_MS", "3000")]);
}

#[test]
fn a_dropped_completion_is_timed_out_and_the_work_redone() {
    faulty_proof_is_still_valid("drop-completion@1", &[("KILN_FPGA_TIMEOUT_MS", "3000")]);
}

#[test]
fn devices_lists_the_emulated_card() {
    let out = kiln(["devices"]).ok();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("fpga:0") && l.contains("ready") && l.contains("emulated")),
        "{out}"
    );
    // A card that is not there is refused by name, before any work.
    let c = circuit("poseidon");
    let dir = TestDir::new("fpga-missing-card");
    let wtns = c.witness(dir.path());
    let out = kiln([
        "prove".as_ref(),
        c.snarkjs_zkey().as_os_str(),
        wtns.as_os_str(),
        dir.join("p.json").as_os_str(),
        dir.join("q.json").as_os_str(),
        "--device".as_ref(),
        "fpga:7".as_ref(),
    ]);
    assert_ne!(out.code, 0, "{out}");
    assert!(
        out.stderr.contains("fpga:7") && out.stderr.contains("not available"),
        "{out}"
    );
    assert!(!dir.join("p.json").exists(), "no proof is written");
}

/// The acceptance size: a proof over a 2^16 evaluation domain (the `big` fixture, 38,400
/// constraints, compiled here by circom2 with a `kiln setup` key) on the emulated card alone,
/// accepted by snarkjs.
#[test]
fn a_2_16_domain_proof_on_the_emulated_card_verifies_in_snarkjs() {
    let dir = TestDir::new("fpga-big");
    let build = dir.join("build");
    build_fixture("big", &build);
    let wtns = dir.join("big.wtns");
    snarkjs([
        "wtns".as_ref(),
        "calculate".as_ref(),
        build.join("big_js/big.wasm").as_os_str(),
        repo_root()
            .join("tests/fixtures/circuits/big.input.json")
            .as_os_str(),
        wtns.as_os_str(),
    ])
    .ok();
    let (zkey, vk) = (dir.join("big.zkey"), dir.join("vk.json"));
    kiln([
        "setup".as_ref(),
        build.join("big.r1cs").as_os_str(),
        zkey.as_os_str(),
    ])
    .ok();
    let out = kiln(["zkey", "info", zkey.to_str().unwrap()]).ok();
    assert!(out.stdout.contains("65536"), "not a 2^16 domain:\n{out}");
    kiln([
        "zkey".as_ref(),
        "export-vk".as_ref(),
        zkey.as_os_str(),
        vk.as_os_str(),
    ])
    .ok();
    let (out, files) = prove_with(&dir, &zkey, &wtns, vk, "fpga:0", &[]);
    card_time(&out);
    verify(&files);
}
