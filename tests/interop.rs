//! Interop tests: the `kiln` binary against snarkjs, in every direction, on circuits
//! compiled by circom2 from circomlib templates (Poseidon, EdDSA-Poseidon, SMT), and the
//! CLI's refusal of bad input.
//!
//! CLI contract under test:
//!   kiln prove <zkey> <wtns> <proof.json> <public.json> [--device cpu]
//!   kiln verify <vk.json> <public.json> <proof.json>     (0 valid, 1 invalid, 2 bad input)
//!   kiln setup <r1cs> <out.zkey>
//!   kiln zkey info <zkey> | kiln zkey export-vk <zkey> <vk.json>
//!   kiln wtns check <r1cs> <wtns>
//!   kiln devices
//! Exit code 2 for bad input everywhere.
//!
//! Needs the npm peers from `.ci/run`; fails (never skips) without them.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use num_bigint::BigUint;
use serde_json::Value;

macro_rules! args {
    ($($a:expr),* $(,)?) => {
        vec![$(::std::ffi::OsString::from(AsRef::<::std::ffi::OsStr>::as_ref(&$a))),*]
    };
}

// ---------------------------------------------------------------------------------------
// Helpers local to these tests

/// The byte-level shape of a snarkjs JSON file: every all-digit string replaced by "N".
/// Two files with equal shapes differ only in their numbers.
fn json_shape(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(q) = rest.find('"') {
        out.push_str(&rest[..=q]);
        rest = &rest[q + 1..];
        let end = rest.find('"').expect("unterminated string");
        let s = &rest[..end];
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            out.push('N');
        } else {
            out.push_str(s);
        }
        out.push('"');
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whitespace/punctuation-separated words of a text, for matching whole numbers.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '^'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `(s + 1) mod m` for a decimal string.
fn plus_one_mod(s: &str, m: &str) -> String {
    let v: BigUint = s
        .parse()
        .unwrap_or_else(|_| panic!("not a decimal number: {s:?}"));
    let m: BigUint = m.parse().unwrap();
    ((v + 1u32) % m).to_string()
}

/// `(m - s) mod m` for a decimal string.
fn neg_mod(s: &str, m: &str) -> String {
    let v: BigUint = s
        .parse()
        .unwrap_or_else(|_| panic!("not a decimal number: {s:?}"));
    let m: BigUint = m.parse().unwrap();
    ((&m - v % &m) % &m).to_string()
}

fn read_text(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `kiln prove` with a good poseidon witness and key (from snarkjs), into `dir`.
struct Proved {
    zkey: PathBuf,
    wtns: PathBuf,
    vk: PathBuf,
    proof: PathBuf,
    public: PathBuf,
}

fn kiln_prove_with_snarkjs_key(c: &Circuit, dir: &TestDir, device: Option<&str>) -> Proved {
    let wtns = c.witness(dir.path());
    let zkey = c.snarkjs_zkey();
    let vk = dir.join("vk.json");
    snarkjs_export_vk(&zkey, &vk);
    let proof = dir.join("proof.json");
    let public = dir.join("public.json");
    let mut a = args!["prove", zkey, wtns, proof, public];
    if let Some(d) = device {
        a.extend(args!["--device", d]);
    }
    kiln(a).ok();
    Proved {
        zkey,
        wtns,
        vk,
        proof,
        public,
    }
}

// ---------------------------------------------------------------------------------------
// The fixtures and peers themselves (no kiln involved): if these fail, the problem is in
// the test setup, not in kiln.

/// The committed build of fixture `name` is what circom2 makes of its source today.
fn assert_build_is_fresh(c: &Circuit, dir: &TestDir) {
    let name = &c.name;
    let fresh = dir.join("build");
    build_fixture(name, &fresh);
    for f in [format!("{name}.r1cs"), format!("{name}_js/{name}.wasm")] {
        assert!(
            read(&fresh.join(&f)) == read(&c.r1cs.parent().unwrap().join(&f)),
            "tests/fixtures/circuits/build/{f} is stale: rerun tests/fixtures/circuits/build.sh and commit"
        );
    }
}

fn peers_selftest(name: &str) {
    let c = circuit(name);
    let info = c.info();
    let dir = TestDir::new(&format!("{name}-peers"));
    assert_build_is_fresh(&c, &dir);
    let wtns = c.witness(dir.path());
    let w = Wtns::read(&wtns);
    assert_eq!(w.n, info.n_wires, "witness length vs r1cs wires");
    assert_eq!(
        first_unsatisfied(&c.r1cs, &w),
        None,
        "the fixture input does not satisfy {name}"
    );
    snarkjs(args!["wtns", "check", c.r1cs, wtns]).ok();

    // The tampering helper and snarkjs agree on the first broken constraint.
    let bad = dir.join("bad.wtns");
    let first = tamper_witness(&c.r1cs, &wtns, &bad);
    let out = snarkjs(args!["wtns", "check", c.r1cs, bad]);
    assert!(
        !out.success() && out.stdout.contains(&format!("at constraint {first}\n")),
        "snarkjs should report constraint {first}:\n{out}"
    );

    // snarkjs proves and verifies with the cached key; the public inputs are the input's.
    let zkey = c.snarkjs_zkey();
    let vk = dir.join("vk.json");
    snarkjs_export_vk(&zkey, &vk);
    let (proof, public) = (dir.join("proof.json"), dir.join("public.json"));
    snarkjs_prove(&zkey, &wtns, &proof, &public);
    assert_snarkjs_verifies(&vk, &public, &proof);
    let public = read_json(&public);
    let public = public.as_array().unwrap();
    assert_eq!(public.len(), info.n_public());
    let input = read_json(&c.input);
    let names: &[&str] = match name {
        "poseidon" => &["a", "b", "e"],
        "eddsa" => &["Ax", "Ay", "M"],
        "smt" => &["root", "key", "value"],
        _ => unreachable!(),
    };
    for (k, n) in names.iter().enumerate() {
        assert_eq!(
            public[info.n_pub_out + k],
            input[n],
            "public input {n} of {name}"
        );
    }
}

#[test]
fn peers_poseidon() {
    peers_selftest("poseidon");
}

#[test]
fn peers_eddsa() {
    peers_selftest("eddsa");
}

#[test]
fn peers_smt() {
    peers_selftest("smt");
}

/// The pruned fixture is what it claims: circom --O2 eliminated private input b, so the
/// header counts more inputs than there are wires for them, and snarkjs reads, checks and
/// proves it all the same.
#[test]
fn peers_pruned() {
    let c = circuit("pruned");
    let dir = TestDir::new("pruned-peers");
    assert_build_is_fresh(&c, &dir);
    let info = c.info();
    assert_eq!(
        (info.n_wires, info.n_pub_out, info.n_pub_in, info.n_prv_in),
        (5, 2, 0, 3)
    );
    assert!(1 + info.n_public() + info.n_prv_in > info.n_wires);
    snarkjs(args!["r1cs", "info", c.r1cs]).ok();
    let wtns = c.witness(dir.path());
    snarkjs(args!["wtns", "check", c.r1cs, wtns]).ok();
    // Wires 1, y; 2, z; 3, a; 4, x: the one constraint is a·x = y.
    let mut w = Wtns::read(&wtns);
    assert_eq!(first_unsatisfied(&c.r1cs, &w), None);
    w.set(1, w.value(1) + ark_bn254::Fr::from(1u64));
    assert_eq!(first_unsatisfied(&c.r1cs, &w), Some(0));
    let zkey = c.snarkjs_zkey();
    let vk = dir.join("vk.json");
    snarkjs_export_vk(&zkey, &vk);
    let (proof, public) = (dir.join("proof.json"), dir.join("public.json"));
    snarkjs_prove(&zkey, &wtns, &proof, &public);
    assert_snarkjs_verifies(&vk, &public, &proof);
}

// ---------------------------------------------------------------------------------------
// snarkjs key -> kiln prove -> snarkjs verify, kiln verify; public.json as snarkjs writes it

fn snarkjs_key_kiln_proof(name: &str, device: Option<&str>) {
    let c = circuit(name);
    let dir = TestDir::new(&format!("{name}-snarkjs-key"));
    let p = kiln_prove_with_snarkjs_key(&c, &dir, device);

    assert_snarkjs_verifies(&p.vk, &p.public, &p.proof);
    kiln(args!["verify", p.vk, p.public, p.proof]).expect_code(0);

    // snarkjs's own proof of the same witness: identical public.json, same JSON layout.
    let sproof = dir.join("snarkjs_proof.json");
    let spublic = dir.join("snarkjs_public.json");
    snarkjs_prove(&p.zkey, &p.wtns, &sproof, &spublic);
    let public: Value = read_json(&p.public);
    assert_eq!(
        public.as_array().map(Vec::len),
        Some(c.info().n_public()),
        "public.json should list the {} public signals (outputs, then public inputs)",
        c.info().n_public()
    );
    assert_eq!(
        read_json(&p.public),
        read_json(&spublic),
        "public.json values differ from snarkjs's"
    );
    assert_eq!(
        read_text(&p.public),
        read_text(&spublic),
        "public.json is not byte-identical to snarkjs's"
    );
    assert_eq!(
        json_shape(&p.proof),
        json_shape(&sproof),
        "proof.json is not laid out as snarkjs's"
    );

    // And kiln accepts snarkjs's proof.
    kiln(args!["verify", p.vk, spublic, sproof]).expect_code(0);
}

#[test]
fn poseidon_snarkjs_key_kiln_proof() {
    snarkjs_key_kiln_proof("poseidon", None);
}

#[test]
fn eddsa_snarkjs_key_kiln_proof() {
    snarkjs_key_kiln_proof("eddsa", None);
}

#[test]
fn smt_snarkjs_key_kiln_proof() {
    snarkjs_key_kiln_proof("smt", Some("cpu"));
}

/// The whole proof on the first OpenCL device (PoCL's CPU device in CI): every MSM and NTT
/// runs in kiln's kernels, and snarkjs accepts the result.
#[cfg(feature = "opencl")]
#[test]
fn eddsa_snarkjs_key_opencl_proof() {
    if !opencl_device_present() {
        return;
    }
    snarkjs_key_kiln_proof("eddsa", Some("opencl:0"));
    // And scheduled across the CPU and the OpenCL device.
    snarkjs_key_kiln_proof("poseidon", Some("cpu,opencl:0"));
}

// ---------------------------------------------------------------------------------------
// kiln setup -> snarkjs prove -> kiln verify, snarkjs verify; kiln prove on kiln's key

fn kiln_key_snarkjs_proof(name: &str) {
    let c = circuit(name);
    let dir = TestDir::new(&format!("{name}-kiln-key"));
    let wtns = c.witness(dir.path());
    let zkey = dir.join("kiln.zkey");
    kiln(args!["setup", c.r1cs, zkey]).ok();

    let proof = dir.join("p.json");
    let public = dir.join("pub.json");
    snarkjs_prove(&zkey, &wtns, &proof, &public);

    let vk = dir.join("vk.json");
    kiln(args!["zkey", "export-vk", zkey, vk]).ok();
    kiln(args!["verify", vk, public, proof]).expect_code(0);
    assert_snarkjs_verifies(&vk, &public, &proof);

    // snarkjs reads the same verification key out of kiln's zkey.
    let svk = dir.join("snarkjs_vk.json");
    snarkjs_export_vk(&zkey, &svk);
    assert_eq!(
        read_json(&vk),
        read_json(&svk),
        "kiln's vk.json differs from snarkjs's export of kiln's key"
    );

    // kiln proves with its own key, and snarkjs accepts that too.
    let kproof = dir.join("kiln_proof.json");
    let kpublic = dir.join("kiln_public.json");
    kiln(args!["prove", zkey, wtns, kproof, kpublic]).ok();
    assert_eq!(
        read_text(&kpublic),
        read_text(&public),
        "public.json differs between kiln and snarkjs"
    );
    assert_snarkjs_verifies(&vk, &kpublic, &kproof);
    kiln(args!["verify", vk, kpublic, kproof]).expect_code(0);
}

#[test]
fn poseidon_kiln_key_snarkjs_proof() {
    kiln_key_snarkjs_proof("poseidon");
}

#[test]
fn eddsa_kiln_key_snarkjs_proof() {
    kiln_key_snarkjs_proof("eddsa");
}

#[test]
fn smt_kiln_key_snarkjs_proof() {
    kiln_key_snarkjs_proof("smt");
}

// ---------------------------------------------------------------------------------------
// A circuit whose r1cs lists a private input circom --O2 eliminated (nPrvIn counts it,
// nWires does not have it): snarkjs reads such files, and so must every kiln command.

#[test]
fn pruned_private_input_wtns_check_setup_prove_and_verify() {
    let c = circuit("pruned");
    let dir = TestDir::new("pruned");
    let wtns = c.witness(dir.path());
    let out = kiln(args!["wtns", "check", c.r1cs, wtns]).ok();
    assert!(out.stdout.contains("OK"), "{out}");
    kiln_key_snarkjs_proof("pruned");

    // And a snarkjs key for it proves with kiln.
    let p = kiln_prove_with_snarkjs_key(&c, &dir, None);
    assert_snarkjs_verifies(&p.vk, &p.public, &p.proof);
    kiln(args!["verify", p.vk, p.public, p.proof]).expect_code(0);
    // y = a·x = 3·5, z = a + b = 3 + 11.
    assert_eq!(read_json(&p.public), serde_json::json!(["15", "14"]));
}

/// Logs carry one `tracing` target per area, so `RUST_LOG` picks an area's events: the
/// prover's (`kiln::groth16`) appear when asked for and only then.
#[test]
fn log_targets_filter_by_area() {
    let c = circuit("pruned");
    let dir = TestDir::new("log-targets");
    let wtns = c.witness(dir.path());
    let zkey = dir.join("k.zkey");
    kiln(args!["setup", c.r1cs, zkey]).ok();
    let prove_with = |filter: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
            .arg("prove")
            .args([zkey.as_os_str(), wtns.as_os_str()])
            .arg(dir.join("proof.json"))
            .arg(dir.join("public.json"))
            .arg("--device=cpu")
            .env("RUST_LOG", filter)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let prover = prove_with("kiln::groth16=debug");
    assert!(
        prover.contains(" kiln::groth16: msm done"),
        "no prover events:\n{prover}"
    );
    assert!(!prover.contains("kiln::cli"), "{prover}");
    let cli = prove_with("kiln::cli=info");
    assert!(cli.contains(" kiln::cli: proving key loaded"), "{cli}");
    assert!(!cli.contains("kiln::groth16"), "{cli}");
}

// ---------------------------------------------------------------------------------------
// kiln verify reads what snarkjs groth16 verify reads

/// `value` with every decimal string (a field element) replaced by `f` of it; `f` returns
/// the JSON text to put there.
fn rewrite_ints(value: &Value, f: &dyn Fn(&str) -> String) -> String {
    match value {
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => f(s),
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|x| rewrite_ints(x, f))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, x)| format!("{}: {}", Value::String(k.clone()), rewrite_ints(x, f)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn hex_string(decimal: &str) -> String {
    let v: BigUint = decimal.parse().unwrap();
    format!("\"0x{}\"", v.to_str_radix(16))
}

#[test]
fn verify_accepts_hex_numbers_and_a_proof_without_protocol_like_snarkjs() {
    // The pruned circuit's public signals (15, 14) are small enough for snarkjs to read
    // exactly as JSON numbers (it parses them as f64).
    let c = circuit("pruned");
    let dir = TestDir::new("verify-variants");
    let p = kiln_prove_with_snarkjs_key(&c, &dir, None);
    let (proof, public) = (read_json(&p.proof), read_json(&p.public));
    let mut bare = proof.clone();
    bare.as_object_mut().unwrap().remove("protocol");
    bare.as_object_mut().unwrap().remove("curve");
    let number = |s: &str| s.to_string();
    let publics = [
        ("public_hex", rewrite_ints(&public, &hex_string)),
        ("public_numbers", rewrite_ints(&public, &number)),
        ("public_mixed", format!("[{}, \"14\"]", hex_string("15"))),
    ];
    let proofs = [
        ("proof_hex", rewrite_ints(&proof, &hex_string)),
        ("proof_bare", bare.to_string()),
        ("proof_bare_hex", rewrite_ints(&bare, &hex_string)),
    ];
    let write = |name: &str, text: &str| {
        let f = dir.join(format!("{name}.json"));
        fs::write(&f, text).unwrap();
        f
    };
    for (name, text) in &publics {
        let f = write(name, text);
        assert_snarkjs_verifies(&p.vk, &f, &p.proof);
        kiln(args!["verify", p.vk, f, p.proof]).expect_code(0);
    }
    for (name, text) in &proofs {
        let f = write(name, text);
        assert_snarkjs_verifies(&p.vk, &p.public, &f);
        kiln(args!["verify", p.vk, p.public, f]).expect_code(0);
    }
    let (pub_hex, proof_hex) = (
        write("all_pub", &publics[0].1),
        write("all_proof", &proofs[2].1),
    );
    assert_snarkjs_verifies(&p.vk, &pub_hex, &proof_hex);
    kiln(args!["verify", p.vk, pub_hex, proof_hex]).expect_code(0);

    // The values are read, not skipped: a changed hex or number signal is invalid.
    for text in [
        format!("[{}, 14]", hex_string("16")),
        "[15, 13]".to_string(),
    ] {
        let f = write("changed", &text);
        kiln(args!["verify", p.vk, f, p.proof]).expect_code(1);
    }
    // Numbers that are not integers are refused by JSON path (snarkjs, reading them as
    // JavaScript numbers, would take 15.0 as 15; kiln asks for an exact integer).
    for (text, at) in [("[15.0, 14]", "[0]"), ("[15, 1.4e1]", "[1]")] {
        let f = write("fraction", text);
        let out = kiln(args!["verify", p.vk, f, p.proof]);
        assert_bad_input(&out, &["fraction.json"]);
        assert!(
            out.stderr
                .contains(&format!("fraction.json: {at}: not an integer")),
            "{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Verification keys

/// `kiln zkey export-vk` writes snarkjs's verification_key.json byte for byte.
#[test]
fn export_vk_matches_snarkjs_byte_for_byte() {
    let c = circuit("poseidon");
    let dir = TestDir::new("export-vk");
    let zkey = c.snarkjs_zkey();
    let (kvk, svk) = (dir.join("kiln_vk.json"), dir.join("snarkjs_vk.json"));
    kiln(args!["zkey", "export-vk", zkey, kvk]).ok();
    snarkjs_export_vk(&zkey, &svk);
    assert_eq!(
        read_json(&kvk),
        read_json(&svk),
        "vk values differ from snarkjs's"
    );
    assert_eq!(
        read_text(&kvk),
        read_text(&svk),
        "vk.json is not byte-identical to snarkjs's"
    );
}

// ---------------------------------------------------------------------------------------
// Tampering: kiln verify rejects any changed coordinate or public signal

#[test]
fn verify_rejects_any_changed_coordinate_or_public_signal() {
    let c = circuit("poseidon");
    let dir = TestDir::new("tamper");
    let p = kiln_prove_with_snarkjs_key(&c, &dir, None);
    kiln(args!["verify", p.vk, p.public, p.proof]).expect_code(0);

    let proof = read_json(&p.proof);
    let public = read_json(&p.public);
    let mut coords: Vec<(String, Vec<usize>)> = vec![];
    for i in 0..2 {
        coords.push((format!("pi_a[{i}]"), vec![0, i]));
        coords.push((format!("pi_c[{i}]"), vec![2, i]));
        for j in 0..2 {
            coords.push((format!("pi_b[{i}][{j}]"), vec![1, i, j]));
        }
    }

    let mut failures = vec![];
    let bad_proof = dir.join("bad_proof.json");
    for (label, path) in &coords {
        let mut t = proof.clone();
        let field = ["pi_a", "pi_b", "pi_c"][path[0]];
        let mut v = &mut t[field];
        for &k in &path[1..] {
            v = &mut v[k];
        }
        let old = v
            .as_str()
            .unwrap_or_else(|| panic!("{label} is not a string in proof.json"));
        *v = Value::String(plus_one_mod(old, FQ_MODULUS));
        write_json(&bad_proof, &t);
        let out = kiln(args!["verify", p.vk, p.public, bad_proof]);
        if out.code != 1 {
            failures.push(format!("{label} + 1 (mod q): expected exit 1\n{out}"));
        }
    }

    // Negated points stay on their curves: a well-formed proof that must simply fail.
    for (field, ys) in [
        ("pi_a", vec![vec![1]]),
        ("pi_b", vec![vec![1, 0], vec![1, 1]]),
        ("pi_c", vec![vec![1]]),
    ] {
        let mut t = proof.clone();
        for y in &ys {
            let mut v = &mut t[field];
            for &k in y {
                v = &mut v[k];
            }
            *v = Value::String(neg_mod(
                v.as_str().expect("coordinates are strings"),
                FQ_MODULUS,
            ));
        }
        write_json(&bad_proof, &t);
        let out = kiln(args!["verify", p.vk, p.public, bad_proof]);
        if out.code != 1 {
            failures.push(format!("-{field} (negated point): expected exit 1\n{out}"));
        }
    }

    let bad_public = dir.join("bad_public.json");
    let n = public.as_array().expect("public.json is an array").len();
    for i in 0..n {
        let mut t = public.clone();
        let old = t[i]
            .as_str()
            .expect("public signals are strings")
            .to_string();
        t[i] = Value::String(plus_one_mod(&old, FR_MODULUS));
        write_json(&bad_public, &t);
        let out = kiln(args!["verify", p.vk, bad_public, p.proof]);
        if out.code != 1 {
            failures.push(format!("public[{i}] + 1 (mod r): expected exit 1\n{out}"));
        }
    }
    assert!(
        failures.is_empty(),
        "kiln verify did not answer \"invalid\" (exit 1) for tampered input:\n{}",
        failures.join("\n")
    );
}

#[test]
fn verify_refuses_unreadable_input() {
    let c = circuit("poseidon");
    let dir = TestDir::new("verify-bad-input");
    let p = kiln_prove_with_snarkjs_key(&c, &dir, None);

    let missing = dir.join("missing_vk.json");
    let out = kiln(args!["verify", missing, p.public, p.proof]);
    assert_bad_input(&out, &["missing_vk.json"]);

    let garbage = dir.join("garbage.json");
    fs::write(&garbage, "{ this is not json").unwrap();
    assert_bad_input(
        &kiln(args!["verify", p.vk, p.public, garbage]),
        &["garbage.json"],
    );
    assert_bad_input(
        &kiln(args!["verify", garbage, p.public, p.proof]),
        &["garbage.json"],
    );

    let not_number = dir.join("not_number.json");
    let mut public = read_json(&p.public);
    public[0] = Value::String("twelve".into());
    write_json(&not_number, &public);
    assert_bad_input(
        &kiln(args!["verify", p.vk, not_number, p.proof]),
        &["not_number.json", "twelve"],
    );
}

// ---------------------------------------------------------------------------------------
// zkey info, wtns check, devices, help

#[test]
fn zkey_info_reports_the_header() {
    let c = circuit("poseidon");
    let info = c.info();
    let zkey = c.snarkjs_zkey();
    let out = kiln(args!["zkey", "info", zkey]).ok();
    let text = out.stdout.to_lowercase();
    let w = words(&text);
    assert!(
        text.contains("bn128") || text.contains("bn254"),
        "curve missing:\n{out}"
    );
    assert!(text.contains("groth16"), "protocol missing:\n{out}");
    for (what, n) in [("nVars", info.n_wires), ("nPublic", info.n_public())] {
        assert!(w.contains(&n.to_string()), "{what} = {n} missing:\n{out}");
    }
    let domain = info.domain_size();
    assert!(
        w.contains(&domain.to_string()) || w.contains(&format!("2^{}", info.groth16_power())),
        "domain size {domain} missing:\n{out}"
    );
}

fn wtns_check(name: &str) {
    let c = circuit(name);
    let dir = TestDir::new(&format!("{name}-wtns-check"));
    let good = c.witness(dir.path());
    kiln(args!["wtns", "check", c.r1cs, good]).expect_code(0);

    let bad = dir.join("bad.wtns");
    let first = tamper_witness(&c.r1cs, &good, &bad);
    let out = kiln(args!["wtns", "check", c.r1cs, bad]);
    assert_bad_input(&out, &["constraint"]);
    let text = format!("{}\n{}", out.stdout, out.stderr);
    assert!(
        words(&text).contains(&first.to_string()),
        "should name the first unsatisfied constraint, #{first} (0-based):\n{out}"
    );
}

#[test]
fn poseidon_wtns_check() {
    wtns_check("poseidon");
}

#[test]
fn eddsa_wtns_check() {
    wtns_check("eddsa");
}

#[test]
fn smt_wtns_check() {
    wtns_check("smt");
}

#[test]
fn devices_lists_the_cpu() {
    let out = kiln(args!["devices"]).ok();
    assert!(
        out.stdout.to_lowercase().contains("cpu"),
        "no cpu device listed:\n{out}"
    );
}

/// The default build carries the GPU backends: on a machine without their drivers (here an
/// OpenCL ICD loader that finds no vendor, and no libcuda unless the machine has a GPU),
/// `kiln devices` lists each as absent with the reason, never as "not built".
#[test]
fn devices_without_drivers_say_why_each_gpu_backend_is_absent() {
    let no_vendors = TestDir::new("no-opencl-vendors");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["devices", "--json"])
        .env("OCL_ICD_VENDORS", no_vendors.path())
        .env_remove("OCL_ICD_FILENAMES")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let reports: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let absent = |kind: &str| {
        reports
            .iter()
            .find(|r| r["state"] == "absent" && r["kind"] == kind)
            .map(|r| r["reason"].as_str().unwrap_or_default().to_string())
    };
    let opencl = absent("opencl").expect("opencl is listed as absent");
    assert!(opencl.contains("no OpenCL driver"), "{opencl}");
    let cuda_ready = reports.iter().any(|r| {
        r["state"] == "ready"
            && r["info"]["spec"]
                .as_str()
                .unwrap_or("")
                .starts_with("cuda:")
    });
    match absent("cuda") {
        Some(reason) => assert!(reason.contains("CUDA"), "{reason}"),
        None => assert!(cuda_ready, "cuda is neither ready nor absent: {reports:?}"),
    }
    for r in &reports {
        let reason = r["reason"].as_str().unwrap_or_default();
        let kind = r["kind"].as_str().unwrap_or_default();
        assert!(
            !(reason.contains("not built") && (kind == "opencl" || kind == "cuda")),
            "the default build lacks {kind}: {reason}"
        );
    }
}

#[test]
fn help_on_every_command() {
    for cmd in [
        &["--help"][..],
        &["prove", "--help"],
        &["verify", "--help"],
        &["setup", "--help"],
        &["zkey", "--help"],
        &["zkey", "info", "--help"],
        &["zkey", "export-vk", "--help"],
        &["wtns", "--help"],
        &["wtns", "check", "--help"],
        &["devices", "--help"],
    ] {
        let out = kiln(cmd).ok();
        assert!(
            out.stdout.to_lowercase().contains("usage"),
            "no usage text:\n{out}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Bad input to kiln prove: exit 2, a message naming the problem, no proof or public file

/// Runs `kiln prove zkey wtns` into a fresh dir and asserts it refused: exit 2, stderr
/// mentions one of `needles`, and neither output file exists.
#[track_caller]
fn assert_prove_refuses(dir: &TestDir, zkey: &Path, wtns: &Path, needles: &[&str]) {
    let proof = dir.join("proof.json");
    let public = dir.join("public.json");
    let _ = fs::remove_file(&proof);
    let _ = fs::remove_file(&public);
    let out = kiln(args!["prove", zkey, wtns, proof, public]);
    assert_bad_input(&out, needles);
    assert!(
        !proof.exists(),
        "proof.json was written despite bad input:\n{out}"
    );
    assert!(
        !public.exists(),
        "public.json was written despite bad input:\n{out}"
    );
}

/// A good poseidon witness and a copy of its snarkjs key's bytes, in a fresh dir.
fn bad_input_setup(test: &str) -> (TestDir, PathBuf, Vec<u8>) {
    let c = circuit("poseidon");
    let dir = TestDir::new(test);
    let wtns = c.witness(dir.path());
    let zkey = read(&c.snarkjs_zkey());
    (dir, wtns, zkey)
}

fn write_file(dir: &TestDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn prove_refuses_truncated_zkey() {
    let (dir, wtns, zkey) = bad_input_setup("truncated-zkey");
    let secs = sections(&zkey, b"zkey");
    let mut cuts = vec![
        0,
        3,
        10,
        12,
        secs[1].data_at + 2,
        zkey.len() / 2,
        zkey.len() - 1,
    ];
    cuts.dedup();
    for cut in cuts {
        let f = write_file(&dir, &format!("cut{cut}.zkey"), &zkey[..cut]);
        assert_prove_refuses(&dir, &f, &wtns, &[&format!("cut{cut}.zkey")]);
    }
}

#[test]
fn prove_refuses_wrong_magic_zkey() {
    let (dir, wtns, mut zkey) = bad_input_setup("magic-zkey");
    zkey[..4].copy_from_slice(b"zkex");
    let f = write_file(&dir, "magic.zkey", &zkey);
    assert_prove_refuses(&dir, &f, &wtns, &["magic"]);
    // A witness file where the key should be.
    assert_prove_refuses(&dir, &wtns, &wtns, &["magic"]);
}

#[test]
fn prove_refuses_wrong_version_zkey() {
    let (dir, wtns, mut zkey) = bad_input_setup("version-zkey");
    zkey[4..8].copy_from_slice(&2u32.to_le_bytes());
    let f = write_file(&dir, "version.zkey", &zkey);
    assert_prove_refuses(&dir, &f, &wtns, &["version"]);
}

#[test]
fn prove_refuses_section_past_eof() {
    let (dir, wtns, zkey) = bad_input_setup("section-eof-zkey");
    let secs = sections(&zkey, b"zkey");
    // The first section claims the whole file; the last one claims one byte more.
    let mut first = zkey.clone();
    first[secs[0].header_at + 4..secs[0].header_at + 12]
        .copy_from_slice(&(zkey.len() as u64).to_le_bytes());
    let f = write_file(&dir, "first.zkey", &first);
    assert_prove_refuses(&dir, &f, &wtns, &["section"]);

    let last = secs.last().unwrap();
    let mut tail = zkey.clone();
    tail[last.header_at + 4..last.header_at + 12]
        .copy_from_slice(&(last.len as u64 + 1).to_le_bytes());
    let f = write_file(&dir, "last.zkey", &tail);
    assert_prove_refuses(&dir, &f, &wtns, &["section"]);
}

#[test]
fn prove_refuses_wrong_curve_zkey() {
    let (dir, wtns, mut zkey) = bad_input_setup("curve-zkey");
    // Groth16 header (section 2): u32 n8q, q, u32 n8r, r, ... ; change q.
    let h = section(&zkey, b"zkey", 2).data_at;
    zkey[h + 4] ^= 0x02;
    let f = write_file(&dir, "curve.zkey", &zkey);
    assert_prove_refuses(&dir, &f, &wtns, &["curve", "prime", "modulus", "field"]);
}

#[test]
fn prove_refuses_plonk_zkey() {
    let c = circuit("poseidon");
    let dir = TestDir::new("plonk-zkey");
    let wtns = c.witness(dir.path());
    let plonk = snarkjs_plonk_zkey(&c.r1cs);
    assert_prove_refuses(&dir, &plonk, &wtns, &["plonk"]);
}

#[test]
fn prove_refuses_witness_of_another_circuit() {
    let (dir, _wtns, zkey) = bad_input_setup("other-circuit-wtns");
    let zkey = write_file(&dir, "poseidon.zkey", &zkey);
    let other = circuit("eddsa").witness(dir.path());
    assert_prove_refuses(&dir, &zkey, &other, &["eddsa.wtns", "witness", "length"]);
}

#[test]
fn prove_refuses_unsatisfying_witness() {
    let c = circuit("poseidon");
    let (dir, wtns, _) = bad_input_setup("unsatisfying-wtns");
    let bad = dir.join("bad.wtns");
    tamper_witness(&c.r1cs, &wtns, &bad);
    let zkey = c.snarkjs_zkey();
    assert_prove_refuses(&dir, &zkey, &bad, &["satisf"]);
    // The message names both files and both possible causes.
    let out = kiln(args![
        "prove",
        zkey,
        bad,
        dir.join("p.json"),
        dir.join("pub.json")
    ]);
    for want in [
        bad.display().to_string(),
        zkey.display().to_string(),
        "did not verify".into(),
        "kiln wtns check".into(),
        "corrupt".into(),
    ] {
        assert!(
            out.stderr.contains(&want),
            "stderr should say {want:?}:\n{out}"
        );
    }
}

#[test]
fn prove_names_the_witness_whose_constant_is_not_one() {
    let c = circuit("poseidon");
    let (dir, wtns, _) = bad_input_setup("constant-wtns");
    let mut w = Wtns::read(&wtns);
    w.set(0, ark_bn254::Fr::from(2u64));
    let f = dir.join("two.wtns");
    w.write(&f);
    assert_prove_refuses(&dir, &c.snarkjs_zkey(), &f, &["two.wtns"]);
    let out = kiln(args![
        "prove",
        c.snarkjs_zkey(),
        f,
        dir.join("p.json"),
        dir.join("pub.json")
    ]);
    assert!(
        out.stderr.contains("two.wtns") && out.stderr.contains("witness value 0"),
        "{out}"
    );
}

/// One bit flipped in a point of a snarkjs key's table sections: `kiln prove` and
/// `kiln zkey info` refuse the key (exit 2) naming the section, point and byte offset,
/// instead of proving and blaming the witness. A changed coefficient (section 4) cannot
/// be seen by format checks; the pairing self-check names the key as a possible cause.
#[test]
fn prove_and_zkey_info_refuse_a_corrupted_key() {
    let (dir, wtns, zkey) = bad_input_setup("corrupt-zkey");
    let tables = [
        (3, "IC point", 64),
        (5, "A point", 64),
        (6, "B1 point", 64),
        (7, "B2 point", 128),
        (8, "C point", 64),
        (9, "H point", 64),
    ];
    for (id, name, len) in tables {
        let s = section(&zkey, b"zkey", id);
        let n = s.len / len;
        // A point that is not at infinity, about the middle of the table.
        let i = (n / 2..n)
            .chain(0..n / 2)
            .find(|i| {
                zkey[s.data_at + i * len..s.data_at + (i + 1) * len]
                    .iter()
                    .any(|&b| b != 0)
            })
            .unwrap();
        let at = s.data_at + i * len;
        let mut b = zkey.clone();
        b[at + 1] ^= 0x04;
        let f = write_file(&dir, &format!("flip{id}.zkey"), &b);
        let want =
            format!("section {id}, byte offset {at}: {name} {i}: the point is not on the curve");
        assert_prove_refuses(&dir, &f, &wtns, &[&want]);
        let out = kiln(args!["zkey", "info", f]);
        assert_bad_input(&out, &[&want]);
    }

    // A coefficient of the constant signal changed but still in range.
    let s = section(&zkey, b"zkey", 4);
    let entry = 12 + 32;
    let n = u32_at(&zkey, s.data_at) as usize;
    let k = (0..n)
        .find(|k| u32_at(&zkey, s.data_at + 4 + k * entry + 8) == 0)
        .expect("a coefficient of signal 0");
    let mut b = zkey.clone();
    b[s.data_at + 4 + k * entry + 12] ^= 0x01;
    let f = write_file(&dir, "coeff.zkey", &b);
    assert_prove_refuses(&dir, &f, &wtns, &["corrupt"]);
}

#[test]
fn prove_refuses_an_unknown_device_as_bad_input() {
    let (dir, wtns, _) = bad_input_setup("bogus-device");
    let zkey = circuit("poseidon").snarkjs_zkey();
    for spec in ["bogus", "cpu,gpu:0", "opencl:x"] {
        let out = kiln(args![
            "prove",
            zkey,
            wtns,
            dir.join("p.json"),
            dir.join("pub.json"),
            "--device",
            spec
        ]);
        assert_bad_input(&out, &["bad device spec"]);
        assert!(!dir.join("p.json").exists(), "{out}");
    }
}

#[test]
fn prove_refuses_witness_value_not_below_modulus() {
    let c = circuit("poseidon");
    let (dir, wtns, _) = bad_input_setup("modulus-wtns");
    let good = Wtns::read(&wtns);
    let i = good.n / 2;
    for (label, raw) in [
        ("r", modulus_plus(FR_MODULUS, 0, good.n8)),
        ("max", vec![0xff; good.n8]),
    ] {
        let mut w = good.clone();
        w.set_raw(i, &raw);
        let f = dir.join(format!("value_{label}.wtns"));
        w.write(&f);
        assert_prove_refuses(
            &dir,
            &c.snarkjs_zkey(),
            &f,
            &[
                "modulus",
                "range",
                "field",
                "canonical",
                "reduced",
                ">=",
                "≥",
            ],
        );
    }
}

#[test]
fn prove_refuses_bad_wtns_files() {
    let c = circuit("poseidon");
    let (dir, wtns, _) = bad_input_setup("bad-wtns");
    let zkey = c.snarkjs_zkey();
    let bytes = read(&wtns);

    let f = write_file(&dir, "short.wtns", &bytes[..bytes.len() - 7]);
    assert_prove_refuses(&dir, &zkey, &f, &["short.wtns"]);

    let mut magic = bytes.clone();
    magic[..4].copy_from_slice(b"wtnz");
    let f = write_file(&dir, "magic.wtns", &magic);
    assert_prove_refuses(&dir, &zkey, &f, &["magic"]);

    // Section 1: u32 n8, prime, u32 nWitness; change the prime.
    let mut curve = bytes.clone();
    let h = section(&bytes, b"wtns", 1).data_at;
    curve[h + 4] ^= 0x02;
    let f = write_file(&dir, "curve.wtns", &curve);
    assert_prove_refuses(&dir, &zkey, &f, &["curve", "prime", "modulus", "field"]);
}

#[test]
fn prove_refuses_nonexistent_files() {
    let c = circuit("poseidon");
    let (dir, wtns, _) = bad_input_setup("missing-files");
    let zkey = c.snarkjs_zkey();
    assert_prove_refuses(&dir, &dir.join("nope.zkey"), &wtns, &["nope.zkey"]);
    assert_prove_refuses(&dir, &zkey, &dir.join("nope.wtns"), &["nope.wtns"]);
}

/// Each cause is printed once: an error whose message includes the OS error must not be
/// followed by the same OS error as the next link of its chain.
#[test]
fn os_errors_are_printed_once() {
    let dir = TestDir::new("os-error-once");
    let c = circuit("poseidon");
    let enoent = std::io::Error::from_raw_os_error(2).to_string();
    let missing = dir.join("nonexist.wtns");
    let runs = [
        args![
            "prove",
            c.snarkjs_zkey(),
            missing,
            dir.join("p.json"),
            dir.join("pub.json")
        ],
        args!["verify", dir.join("nonexist_vk.json"), missing, missing],
        args!["wtns", "check", c.r1cs, missing],
        args!["zkey", "info", dir.join("nonexist.zkey")],
        args!["serve", "--config", dir.join("nonexist.toml")],
        args![
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "/proc/nonexist/kiln-data"
        ],
    ];
    for a in runs {
        let out = kiln(a);
        assert_ne!(out.code, 0, "{out}");
        assert_eq!(
            out.stderr.matches(&enoent).count(),
            1,
            "the OS error {enoent:?} should appear exactly once:\n{out}"
        );
    }
}
