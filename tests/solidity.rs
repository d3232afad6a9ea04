//! `kiln zkey export-verifier` on a real chain: kiln's Solidity verifier and snarkjs's own
//! (`snarkjs zkey export solidityverifier`), both compiled by solc-js and deployed on anvil,
//! judge the same proofs the same way: kiln's and snarkjs's proofs, under a snarkjs key and
//! under a kiln key, are accepted; tampered ones are refused. Gas of each is reported.

mod common;

use common::chain::{compile, Anvil};
use common::{kiln, repo_root, snarkjs, TestDir, FQ_MODULUS, FR_MODULUS};
use num_bigint::BigUint;

const SIG: &str = "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[2])";

/// snarkjs's Solidity calldata for a proof: `[a, b, c, input]` as integers.
type Calldata = (Vec<BigUint>, Vec<Vec<BigUint>>, Vec<BigUint>, Vec<BigUint>);

fn calldata(dir: &TestDir, proof: &str, public: &str) -> Calldata {
    let out = snarkjs([
        "zkey",
        "export",
        "soliditycalldata",
        dir.join(public).to_str().unwrap(),
        dir.join(proof).to_str().unwrap(),
    ])
    .ok();
    let v: serde_json::Value = serde_json::from_str(&format!("[{}]", out.stdout.trim()))
        .unwrap_or_else(|e| panic!("snarkjs calldata is not JSON ({e}):\n{out}"));
    let int = |x: &serde_json::Value| {
        BigUint::parse_bytes(x.as_str().unwrap().trim_start_matches("0x").as_bytes(), 16).unwrap()
    };
    let list = |x: &serde_json::Value| x.as_array().unwrap().iter().map(int).collect::<Vec<_>>();
    (
        list(&v[0]),
        v[1].as_array().unwrap().iter().map(list).collect(),
        list(&v[2]),
        list(&v[3]),
    )
}

fn words(v: &[BigUint]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

fn args(c: &Calldata) -> Vec<String> {
    vec![
        words(&c.0),
        format!(
            "[{}]",
            c.1.iter().map(|r| words(r)).collect::<Vec<_>>().join(",")
        ),
        words(&c.2),
        words(&c.3),
    ]
}

/// What `verifyProof` answers.
fn verdict(chain: &Anvil, verifier: &str, c: &Calldata) -> bool {
    let mut a = vec!["call".to_string(), verifier.into(), format!("{SIG}(bool)")];
    a.extend(args(c));
    let out = chain.cast(&a).ok();
    match out.stdout.trim() {
        "true" => true,
        "false" => false,
        _ => panic!("verifyProof answered neither true nor false:\n{out}"),
    }
}

/// The ways to spoil a valid proof, each of which a verifier must refuse.
fn tampered(c: &Calldata) -> Vec<(&'static str, Calldata)> {
    let q: BigUint = FQ_MODULUS.parse().unwrap();
    let r: BigUint = FR_MODULUS.parse().unwrap();
    let mut out = Vec::new();
    let mut t = c.clone();
    t.3[0] += 1u32;
    out.push(("another public input", t));
    let mut t = c.clone();
    t.3[1] += &r;
    out.push(("a public input plus r (the same residue)", t));
    let mut t = c.clone();
    t.0[1] = &q - &t.0[1];
    out.push(("A negated", t));
    let mut t = c.clone();
    t.0[0] += 1u32;
    out.push(("A off the curve", t));
    let mut t = c.clone();
    t.1[0].swap(0, 1);
    out.push(("B's x with real and imaginary parts swapped", t));
    let mut t = c.clone();
    t.2 = c.0.clone();
    out.push(("C replaced by A", t));
    let mut t = c.clone();
    t.2[0] += &q;
    out.push(("a coordinate of C plus q", t));
    out
}

#[test]
fn kiln_and_snarkjs_verifiers_on_anvil_judge_kiln_and_snarkjs_proofs_alike() {
    let dir = TestDir::new("solidity-verifier");
    let fixtures = repo_root().join("tests/fixtures/formats");
    let r1cs = fixtures.join("mul.r1cs");
    let wtns = fixtures.join("mul.wtns");
    // A snarkjs key (a ceremony with one contribution) and a kiln key.
    let kiln_key = dir.join("kiln.zkey");
    kiln(["setup", r1cs.to_str().unwrap(), kiln_key.to_str().unwrap()]).ok();
    let keys = [
        ("snarkjs key", fixtures.join("mul.zkey")),
        ("kiln key", kiln_key),
    ];
    let chain = Anvil::start();
    let mut gas_report = Vec::new();
    for (k, (key_name, zkey)) in keys.iter().enumerate() {
        let zkey = zkey.to_str().unwrap();
        let ours = dir.join(format!("KilnVerifier{k}.sol"));
        let theirs = dir.join(format!("SnarkjsVerifier{k}.sol"));
        kiln([
            "zkey",
            "export-verifier",
            zkey,
            ours.to_str().unwrap(),
            "--name",
            "KilnVerifier",
        ])
        .ok();
        snarkjs([
            "zkey",
            "export",
            "solidityverifier",
            zkey,
            theirs.to_str().unwrap(),
        ])
        .ok();
        let verifiers = [
            (
                "kiln's verifier",
                chain.deploy(&compile(&ours, "KilnVerifier", &dir.join("out"))),
            ),
            (
                "snarkjs's verifier",
                chain.deploy(&compile(&theirs, "Groth16Verifier", &dir.join("out"))),
            ),
        ];
        // kiln's proof and snarkjs's proof of the same witness.
        let (kp, kpub, sp, spub) = (
            format!("kproof{k}.json"),
            format!("kpublic{k}.json"),
            format!("sproof{k}.json"),
            format!("spublic{k}.json"),
        );
        kiln([
            "prove",
            zkey,
            wtns.to_str().unwrap(),
            dir.join(&kp).to_str().unwrap(),
            dir.join(&kpub).to_str().unwrap(),
        ])
        .ok();
        snarkjs([
            "groth16",
            "prove",
            zkey,
            wtns.to_str().unwrap(),
            dir.join(&sp).to_str().unwrap(),
            dir.join(&spub).to_str().unwrap(),
        ])
        .ok();
        for (proof_name, proof, public) in
            [("kiln's proof", kp, kpub), ("snarkjs's proof", sp, spub)]
        {
            let good = calldata(&dir, &proof, &public);
            for (verifier_name, address) in &verifiers {
                assert!(
                    verdict(&chain, address, &good),
                    "{verifier_name} refuses {proof_name} under the {key_name}"
                );
                for (how, bad) in tampered(&good) {
                    assert!(
                        !verdict(&chain, address, &bad),
                        "{verifier_name} accepts {proof_name} under the {key_name} with {how}"
                    );
                }
                let (ok, gas) = chain.send_gas(address, SIG, &args(&good));
                assert!(ok, "a transaction to {verifier_name} failed");
                gas_report.push((*key_name, proof_name, *verifier_name, gas));
            }
        }
    }
    for (key, proof, verifier, gas) in &gas_report {
        eprintln!("gas: {verifier}, {proof} under the {key}: {gas} (transaction total)");
    }
    // Gas is deterministic: kiln's verifier costs no more than snarkjs's plus 2%.
    for pair in gas_report.chunks(2) {
        let (ours, theirs) = (pair[0].3, pair[1].3);
        assert!(
            ours * 100 <= theirs * 102,
            "kiln's verifier uses {ours} gas against snarkjs's {theirs}"
        );
    }
    // Bad input: a key with no public inputs, a name that is no Solidity identifier.
    let bad_name = kiln([
        "zkey",
        "export-verifier",
        keys[0].1.to_str().unwrap(),
        dir.join("x.sol").to_str().unwrap(),
        "--name",
        "9lives",
    ]);
    common::assert_bad_input(&bad_name, &["--name"]);
    assert!(!dir.join("x.sol").exists());
    let not_a_key = kiln([
        "zkey",
        "export-verifier",
        r1cs.to_str().unwrap(),
        dir.join("y.sol").to_str().unwrap(),
    ]);
    assert_eq!(not_a_key.code, 2, "{not_a_key}");
    assert!(!dir.join("y.sol").exists());
}
