//! kiln's development powers of tau ([`kiln_groth16::ptau`]) against the real snarkjs:
//!
//! - `snarkjs powersoftau prepare phase2`, run on the file's phase-1 sections (1–7),
//!   writes exactly the file kiln wrote, byte for byte;
//! - `snarkjs groth16 setup`, `zkey contribute` and `zkey verify` accept it, for a circuit
//!   whose domain is the file's full size (H from the padded last domain of section 12) and
//!   for a small one; proofs by snarkjs and by kiln from those keys pass
//!   `snarkjs groth16 verify`;
//! - a power outside 1..=27 is refused by name, and nothing is written.
//!
//! Needs node and the npm peers that `.ci/run` installs (`KILN_NPM_BIN`, else
//! `.ci/npm/node_modules/.bin` of this repository); fails, never skips, without them.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use kiln_algebra::curve::Bn254;
use kiln_device::CpuDevice;
use kiln_formats::binfile::{write_file_header, write_section_header, FileSpec, SectionTable};
use kiln_formats::{read_wtns, Zkey};
use kiln_groth16::ptau::{write_dev_ptau, PtauError, MAX_POWER};
use kiln_groth16::snarkjs::write_proof_and_public;
use kiln_groth16::{prove, ProvingKey};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The snarkjs of the npm peers; panics with a pointer to `.ci/run` if it is missing.
fn snarkjs_bin() -> PathBuf {
    let bin = std::env::var_os("KILN_NPM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".ci/npm/node_modules/.bin"));
    let snarkjs = bin.join("snarkjs");
    assert!(
        snarkjs.exists(),
        "snarkjs not found in {}: run `bash .ci/run --install` first (it installs the npm \
         peers into .ci/npm), or point KILN_NPM_BIN at their .bin directory",
        bin.display()
    );
    snarkjs
}

/// Runs snarkjs; panics with its output unless it exits 0 without logging an error
/// (some snarkjs commands report failure only in their log). Returns stdout + stderr.
fn snarkjs<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(args: I) -> String {
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = Command::new(snarkjs_bin())
        .args(&args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run snarkjs (is node installed?): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !text.contains("[ERROR]"),
        "snarkjs {args:?} failed ({}):\n{text}",
        out.status
    );
    text
}

fn ptau_sections(bytes: &[u8]) -> Vec<(u32, &[u8])> {
    let spec = FileSpec {
        magic: "ptau",
        kind: ".ptau",
        versions: 1..=1,
    };
    let table = SectionTable::parse(bytes, Path::new("dev.ptau"), &spec).unwrap();
    table
        .sections
        .iter()
        .map(|s| (s.id, &bytes[s.range()]))
        .collect()
}

#[test]
fn snarkjs_prepare_phase2_of_the_phase1_sections_writes_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev.ptau");
    write_dev_ptau(&dev, 5, &mut ChaCha20Rng::seed_from_u64(5)).unwrap();
    let ours = std::fs::read(&dev).unwrap();

    let phase1: Vec<_> = ptau_sections(&ours)
        .into_iter()
        .filter(|(id, _)| *id <= 7)
        .collect();
    assert_eq!(phase1.len(), 7);
    let mut bytes = Vec::new();
    write_file_header(&mut bytes, "ptau", 1, 7).unwrap();
    for (id, body) in phase1 {
        write_section_header(&mut bytes, id, body.len() as u64).unwrap();
        bytes.extend_from_slice(body);
    }
    let raw = dir.path().join("phase1.ptau");
    let prepared = dir.path().join("prepared.ptau");
    std::fs::write(&raw, bytes).unwrap();
    snarkjs([
        OsStr::new("powersoftau"),
        "prepare".as_ref(),
        "phase2".as_ref(),
        raw.as_os_str(),
        prepared.as_os_str(),
    ]);
    let theirs = std::fs::read(&prepared).unwrap();
    let ids = |b: &[u8]| ptau_sections(b).iter().map(|s| s.0).collect::<Vec<_>>();
    assert_eq!(ids(&theirs), ids(&ours));
    for ((id, a), (_, b)) in ptau_sections(&ours).into_iter().zip(ptau_sections(&theirs)) {
        assert!(a == b, "section {id} differs from snarkjs's prepare phase2");
    }
    assert!(ours == theirs);
}

/// One circuit through setup, contribution, key verification and both provers.
fn groth16_round_trip(dir: &Path, ptau: &Path, name: &str, r1cs: &Path, wtns: &Path) {
    let file = |ext: &str| dir.join(format!("{name}{ext}"));
    let (zkey0, zkey, vk) = (file("_0.zkey"), file(".zkey"), file("_vk.json"));
    snarkjs([
        OsStr::new("groth16"),
        "setup".as_ref(),
        r1cs.as_os_str(),
        ptau.as_os_str(),
        zkey0.as_os_str(),
    ]);
    snarkjs([
        OsStr::new("zkey"),
        "contribute".as_ref(),
        zkey0.as_os_str(),
        zkey.as_os_str(),
        "--name=kiln dev ptau test".as_ref(),
        "-e=some entropy".as_ref(),
    ]);
    let verified = snarkjs([
        OsStr::new("zkey"),
        "verify".as_ref(),
        r1cs.as_os_str(),
        ptau.as_os_str(),
        zkey.as_os_str(),
    ]);
    assert!(verified.contains("ZKey Ok!"), "{verified}");
    snarkjs([
        OsStr::new("zkey"),
        "export".as_ref(),
        "verificationkey".as_ref(),
        zkey.as_os_str(),
        vk.as_os_str(),
    ]);

    // snarkjs proves ...
    let (proof, public) = (file("_proof.json"), file("_public.json"));
    snarkjs([
        OsStr::new("groth16"),
        "prove".as_ref(),
        zkey.as_os_str(),
        wtns.as_os_str(),
        proof.as_os_str(),
        public.as_os_str(),
    ]);
    // ... and so does kiln.
    let (kproof, kpublic) = (file("_kiln_proof.json"), file("_kiln_public.json"));
    let zk = Zkey::<Bn254>::open(&zkey).unwrap();
    let pk = ProvingKey::load(&zk, Arc::new(CpuDevice::new())).unwrap();
    let witness = read_wtns::<Bn254>(wtns).unwrap();
    let out = prove(&pk, &witness.values, &mut ChaCha20Rng::seed_from_u64(9)).unwrap();
    write_proof_and_public(&out.proof, &out.public, &kproof, &kpublic).unwrap();

    for (proof, public) in [(&proof, &public), (&kproof, &kpublic)] {
        let said = snarkjs([
            OsStr::new("groth16"),
            "verify".as_ref(),
            vk.as_os_str(),
            public.as_os_str(),
            proof.as_os_str(),
        ]);
        assert!(said.contains("OK"), "{name}: {}\n{said}", proof.display());
    }
}

#[test]
fn snarkjs_sets_up_contributes_verifies_and_proves_with_a_dev_ptau() {
    let dir = tempfile::tempdir().unwrap();
    let ptau = dir.path().join("dev.ptau");
    // poseidon's Groth16 domain is 2^11, the whole file: its H points come from section
    // 12's padded last domain. mul's (2^3) exercises the smaller domains.
    let t0 = Instant::now();
    write_dev_ptau(&ptau, 11, &mut rand::rngs::OsRng).unwrap();
    eprintln!("power 11 written in {:.2} s", t0.elapsed().as_secs_f64());

    let circuits = repo().join("tests/fixtures/circuits");
    let poseidon_wtns = dir.path().join("poseidon.wtns");
    snarkjs([
        OsStr::new("wtns"),
        "calculate".as_ref(),
        circuits.join("build/poseidon_js/poseidon.wasm").as_os_str(),
        circuits.join("poseidon.input.json").as_os_str(),
        poseidon_wtns.as_os_str(),
    ]);
    groth16_round_trip(
        dir.path(),
        &ptau,
        "poseidon",
        &circuits.join("build/poseidon.r1cs"),
        &poseidon_wtns,
    );
    let formats = repo().join("tests/fixtures/formats");
    groth16_round_trip(
        dir.path(),
        &ptau,
        "mul",
        &formats.join("mul.r1cs"),
        &formats.join("mul.wtns"),
    );
}

#[test]
fn powers_outside_1_to_27_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dev.ptau");
    for power in [0, MAX_POWER + 1] {
        let e = write_dev_ptau(&path, power, &mut rand::rngs::OsRng).unwrap_err();
        assert!(matches!(e, PtauError::Power { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("power {power}")) && msg.contains("must be 1 to 27"),
            "{msg}"
        );
    }
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Times power 17 (the rollup batch circuit's size): `cargo test --release -p kiln-groth16
/// --test dev_ptau -- --ignored --nocapture`.
#[test]
#[ignore = "a timing run: writes a 150 MB file"]
fn time_power_17() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dev17.ptau");
    let t0 = Instant::now();
    write_dev_ptau(&path, 17, &mut rand::rngs::OsRng).unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "power 17: {secs:.2} s, {size} bytes, {} threads",
        rayon::current_num_threads()
    );
}
