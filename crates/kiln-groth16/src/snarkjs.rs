//! The prover's types in snarkjs' JSON: `proof.json` and `verification_key.json` decoded
//! into a [`Proof`] and a [`VerifyingKey`] (every point checked on the curve and in its
//! subgroup, errors named by JSON path), and written back byte for byte as snarkjs writes
//! them. The documents themselves and their codecs are `kiln_formats::json`.

use std::path::Path;

use ark_ec::pairing::Pairing;
use kiln_algebra::curve::Curve;
use kiln_formats::atomic::write_atomically;
use kiln_formats::json::{
    check_protocol_and_curve, fq12_from_json, g1_from_json, g1_to_json, g2_from_json, g2_to_json,
    public_to_json, read_json, to_snarkjs_string, verification_key_json, write_json, ProofJson,
    VerificationKeyJson, GROTH16_PROTOCOL,
};
use kiln_formats::FormatError;

use crate::types::{Proof, VerifyingKey};

/// Converts proof points to snarkjs' JSON shape.
pub fn proof_to_json<C: Curve>(p: &Proof<C>) -> ProofJson {
    ProofJson {
        pi_a: g1_to_json::<C>(&p.a),
        pi_b: g2_to_json::<C>(&p.b),
        pi_c: g1_to_json::<C>(&p.c),
        protocol: GROTH16_PROTOCOL.to_string(),
        curve: C::SNARKJS_NAME.to_string(),
    }
}

/// Decodes and checks a snarkjs proof: protocol and curve where given (snarkjs itself
/// ignores them; an empty value means the document did not say), points on the curve.
pub fn proof_from_json<C: Curve>(j: &ProofJson) -> Result<Proof<C>, FormatError> {
    check_protocol_and_curve::<C>(&j.protocol, &j.curve, true)?;
    Ok(Proof {
        a: g1_from_json::<C>(&j.pi_a, "pi_a")?,
        b: g2_from_json::<C>(&j.pi_b, "pi_b")?,
        c: g1_from_json::<C>(&j.pi_c, "pi_c")?,
    })
}

/// snarkjs' `verification_key.json` document of `vk` (computes `vk_alphabeta_12 = e(α₁, β₂)`).
pub fn verifying_key_to_json<C: Curve>(vk: &VerifyingKey<C>) -> VerificationKeyJson {
    verification_key_json::<C>(&vk.alpha1, &vk.beta2, &vk.gamma2, &vk.delta2, &vk.ic)
}

/// Decodes and checks a snarkjs verification key: protocol, curve, points, `nPublic`
/// against the IC count, and `vk_alphabeta_12` against `e(α₁, β₂)`.
pub fn vk_from_json<C: Curve>(j: &VerificationKeyJson) -> Result<VerifyingKey<C>, FormatError> {
    check_protocol_and_curve::<C>(&j.protocol, &j.curve, false)?;
    let alpha1 = g1_from_json::<C>(&j.vk_alpha_1, "vk_alpha_1")?;
    let beta2 = g2_from_json::<C>(&j.vk_beta_2, "vk_beta_2")?;
    let gamma2 = g2_from_json::<C>(&j.vk_gamma_2, "vk_gamma_2")?;
    let delta2 = g2_from_json::<C>(&j.vk_delta_2, "vk_delta_2")?;
    let ic =
        j.ic.iter()
            .enumerate()
            .map(|(i, p)| g1_from_json::<C>(p, &format!("IC[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
    if ic.len() as u64 != j.n_public.saturating_add(1) {
        return Err(FormatError::json(
            "IC",
            format!(
                "expected nPublic + 1 = {} points, found {}",
                j.n_public.saturating_add(1),
                ic.len()
            ),
        ));
    }
    let ab = fq12_from_json::<<C::Engine as Pairing>::TargetField>(&j.vk_alphabeta_12)?;
    if ab != C::Engine::pairing(alpha1, beta2).0 {
        return Err(FormatError::json(
            "vk_alphabeta_12",
            "does not equal the pairing e(vk_alpha_1, vk_beta_2)",
        ));
    }
    Ok(VerifyingKey {
        alpha1,
        beta2,
        gamma2,
        delta2,
        ic,
    })
}

/// Reads and checks a `proof.json`.
pub fn read_proof<C: Curve>(path: &Path) -> Result<Proof<C>, FormatError> {
    proof_from_json::<C>(&read_json(path, "proof")?).map_err(|e| e.with_path(path))
}

/// Reads and checks a `verification_key.json`.
pub fn read_vk<C: Curve>(path: &Path) -> Result<VerifyingKey<C>, FormatError> {
    vk_from_json::<C>(&read_json(path, "verification key")?).map_err(|e| e.with_path(path))
}

/// Writes `verification_key.json` for `vk`, as snarkjs would.
pub fn write_vk<C: Curve>(vk: &VerifyingKey<C>, path: &Path) -> Result<(), FormatError> {
    write_json(path, &verifying_key_to_json(vk))
}

/// Writes `proof.json` and `public.json` as snarkjs (and rapidsnark) would. Both documents
/// are rendered before either file is touched; each file is replaced atomically.
pub fn write_proof_and_public<C: Curve>(
    proof: &Proof<C>,
    public: &[C::Fr],
    proof_path: &Path,
    public_path: &Path,
) -> Result<(), FormatError> {
    let proof_text =
        to_snarkjs_string(&proof_to_json(proof)).map_err(|e| e.with_path(proof_path))?;
    let public_text =
        to_snarkjs_string(&public_to_json::<C>(public)).map_err(|e| e.with_path(public_path))?;
    write_atomically(proof_path, |w| {
        std::io::Write::write_all(w, proof_text.as_bytes())
    })?;
    write_atomically(public_path, |w| {
        std::io::Write::write_all(w, public_text.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::pairing::Pairing;
    use ark_ec::AffineRepr;
    use kiln_algebra::curve::Bn254;
    use kiln_algebra::curve::G2Affine;
    use kiln_formats::codec::modulus_decimal;
    use kiln_formats::json::{public_from_json, read_public, vk_to_json};
    use kiln_formats::Zkey;
    use std::path::PathBuf;

    type Fr = ark_bn254::Fr;
    type Fq = ark_bn254::Fq;

    /// A file of `tests/fixtures/formats/` (see the README there for how each was made).
    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/formats"
        ))
        .join(name)
    }

    fn fixture_bytes(name: &str) -> Vec<u8> {
        std::fs::read(fixture(name)).unwrap()
    }

    fn text(name: &str) -> String {
        String::from_utf8(fixture_bytes(name)).unwrap()
    }

    fn proof_json() -> ProofJson {
        read_json(&fixture("proof.json"), "proof").unwrap()
    }

    fn vk_json() -> VerificationKeyJson {
        read_json(&fixture("verification_key.json"), "verification key").unwrap()
    }

    #[test]
    fn snarkjs_files_read_and_write_back_identically() {
        let p = proof_json();
        assert_eq!(to_snarkjs_string(&p).unwrap(), text("proof.json"));
        let points = proof_from_json::<Bn254>(&p).unwrap();
        assert_eq!(proof_to_json::<Bn254>(&points), p);

        let vk = vk_json();
        assert_eq!(
            to_snarkjs_string(&vk).unwrap(),
            text("verification_key.json")
        );
        let key = vk_from_json::<Bn254>(&vk).unwrap();
        let z = Zkey::<Bn254>::open(&fixture("mul.zkey")).unwrap();
        assert_eq!(key.ic, z.ic().unwrap());
        assert_eq!(vk_to_json(z.header(), &key.ic), vk);

        let public = read_public::<Bn254>(&fixture("public.json")).unwrap();
        assert_eq!(public, vec![Fr::from(1092u64), Fr::from(3u64)]);
        assert_eq!(
            to_snarkjs_string(&public_to_json::<Bn254>(&public)).unwrap(),
            text("public.json")
        );
    }

    #[test]
    fn the_snarkjs_proof_verifies_with_the_decoded_key() {
        // e(A, B) = e(α, β) · e(Σ pubᵢ·ICᵢ, γ) · e(C, δ): checks every decoded point.
        let key = read_vk::<Bn254>(&fixture("verification_key.json")).unwrap();
        let proof = read_proof::<Bn254>(&fixture("proof.json")).unwrap();
        let public = read_public::<Bn254>(&fixture("public.json")).unwrap();
        let mut acc = key.ic[0].into_group();
        for (x, p) in public.iter().zip(&key.ic[1..]) {
            acc += *p * x;
        }
        let lhs = ark_bn254::Bn254::pairing(proof.a, proof.b);
        let rhs = ark_bn254::Bn254::pairing(key.alpha1, key.beta2)
            + ark_bn254::Bn254::pairing(acc, key.gamma2)
            + ark_bn254::Bn254::pairing(proof.c, key.delta2);
        assert_eq!(lhs, rhs);
    }

    #[test]
    fn cli_helpers_write_what_snarkjs_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let (pp, pub_p, vk_p) = (
            dir.path().join("p.json"),
            dir.path().join("pub.json"),
            dir.path().join("vk.json"),
        );
        let proof = read_proof::<Bn254>(&fixture("proof.json")).unwrap();
        let public = read_public::<Bn254>(&fixture("public.json")).unwrap();
        write_proof_and_public::<Bn254>(&proof, &public, &pp, &pub_p).unwrap();
        assert_eq!(std::fs::read(&pp).unwrap(), fixture_bytes("proof.json"));
        assert_eq!(std::fs::read(&pub_p).unwrap(), fixture_bytes("public.json"));
        let vk: VerifyingKey<Bn254> = read_vk(&fixture("verification_key.json")).unwrap();
        assert_eq!(vk.n_public(), 2);
        write_vk(&vk, &vk_p).unwrap();
        assert_eq!(
            std::fs::read(&vk_p).unwrap(),
            fixture_bytes("verification_key.json")
        );
    }

    #[test]
    fn bad_values_are_named_by_json_path() {
        let q = modulus_decimal::<Fq>();
        let mut p = proof_json();
        p.pi_a[1] = q.clone();
        let e = proof_from_json::<Bn254>(&p).unwrap_err().to_string();
        assert!(
            e.starts_with("pi_a[1]: not an integer below the field modulus"),
            "{e}"
        );
        let mut p = proof_json();
        p.pi_b[1][0] = "12x".into();
        let e = proof_from_json::<Bn254>(&p).unwrap_err().to_string();
        assert!(e.starts_with("pi_b[1][0]: not an integer"), "{e}");
        let mut p = proof_json();
        p.pi_c[0] = "5".into();
        let e = proof_from_json::<Bn254>(&p).unwrap_err().to_string();
        assert_eq!(e, "pi_c: the point is not on the curve");
        let mut p = proof_json();
        p.pi_a.push("1".into());
        let e = proof_from_json::<Bn254>(&p).unwrap_err().to_string();
        assert!(
            e.starts_with("pi_a: expected a G1 point") && e.contains("found 4"),
            "{e}"
        );
        let mut p = proof_json();
        p.pi_b[2].pop();
        let e = proof_from_json::<Bn254>(&p).unwrap_err().to_string();
        assert!(e.starts_with("pi_b[2]: expected an Fq2 element"), "{e}");
        let mut p = proof_json();
        p.pi_b.truncate(1);
        assert!(proof_from_json::<Bn254>(&p)
            .unwrap_err()
            .to_string()
            .starts_with("pi_b: expected a G2 point"));
        let mut p = proof_json();
        p.protocol = "plonk".into();
        let e = proof_from_json::<Bn254>(&p).unwrap_err().to_string();
        assert_eq!(e, "protocol: expected \"groth16\", found \"plonk\"");
        let mut p = proof_json();
        p.curve = "bls12381".into();
        assert!(proof_from_json::<Bn254>(&p)
            .unwrap_err()
            .to_string()
            .starts_with("curve: expected \"bn128\""));
        p.curve = "BN254".into();
        assert!(proof_from_json::<Bn254>(&p).is_ok());

        let r = modulus_decimal::<Fr>();
        let e = public_from_json::<Bn254>(&["1".into(), r])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("[1]: not an integer below the field modulus"),
            "{e}"
        );
    }

    /// `value` with every all-digit string replaced by what `f` makes of it.
    fn map_ints(value: &serde_json::Value, f: &dyn Fn(&str) -> String) -> String {
        use serde_json::Value;
        fn walk(v: &Value, f: &dyn Fn(&str) -> String, out: &mut String) {
            match v {
                Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                    out.push_str(&f(s))
                }
                Value::Array(a) => {
                    out.push('[');
                    for (i, x) in a.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        walk(x, f, out);
                    }
                    out.push(']');
                }
                Value::Object(m) => {
                    out.push('{');
                    for (i, (k, x)) in m.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&serde_json::to_string(k).unwrap());
                        out.push(':');
                        walk(x, f, out);
                    }
                    out.push('}');
                }
                other => out.push_str(&other.to_string()),
            }
        }
        let mut out = String::new();
        walk(value, f, &mut out);
        out
    }

    #[test]
    fn integers_as_hex_strings_or_json_numbers_read_as_snarkjs_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let want_proof = read_proof::<Bn254>(&fixture("proof.json")).unwrap();
        let want_vk = read_vk::<Bn254>(&fixture("verification_key.json")).unwrap();
        let want_public = read_public::<Bn254>(&fixture("public.json")).unwrap();
        let proof: serde_json::Value = serde_json::from_str(&text("proof.json")).unwrap();
        let vk: serde_json::Value = serde_json::from_str(&text("verification_key.json")).unwrap();
        let hex = |s: &str| {
            format!(
                "\"0x{}\"",
                s.parse::<num_bigint::BigUint>().unwrap().to_str_radix(16)
            )
        };
        // Every coordinate as a JSON number: 77-digit literals must be read exactly.
        let number = |s: &str| s.to_string();
        for (name, f) in [
            ("hex", &hex as &dyn Fn(&str) -> String),
            ("number", &number),
        ] {
            let p = file(&format!("proof_{name}.json"), &map_ints(&proof, f));
            assert_eq!(read_proof::<Bn254>(&p).unwrap(), want_proof, "{name}");
            let p = file(&format!("vk_{name}.json"), &map_ints(&vk, f));
            assert_eq!(read_vk::<Bn254>(&p).unwrap(), want_vk, "{name}");
        }
        for text in ["[1092, 3]", "[\"0x444\", \"0X3\"]", "[\"1092\", 3]"] {
            let p = file("public.json", text);
            assert_eq!(read_public::<Bn254>(&p).unwrap(), want_public, "{text}");
        }
        // A proof without protocol and curve (snarkjs takes the curve from the vk).
        let mut bare = proof.clone();
        let obj = bare.as_object_mut().unwrap();
        obj.remove("protocol");
        obj.remove("curve");
        let p = file("bare.json", &bare.to_string());
        assert_eq!(read_proof::<Bn254>(&p).unwrap(), want_proof);
        // Non-integers are refused by JSON path, even where JS would see an integer.
        for (text, at, hint) in [
            ("[1092.0, 3]", "[0]", true),
            ("[1092, 3e0]", "[1]", true),
            ("[1092, -3]", "[1]", false),
            ("[\"0x\", 3]", "[0]", false),
        ] {
            let p = file("public.json", text);
            let e = read_public::<Bn254>(&p).unwrap_err().to_string();
            assert!(
                e.contains(&format!(
                    "public.json: {at}: not an integer below the field modulus"
                )),
                "{text}: {e}"
            );
            assert_eq!(
                e.contains("without a fraction or exponent"),
                hint,
                "{text}: {e}"
            );
        }
        let e = read_public::<Bn254>(&file("public.json", "[true]"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("public.json: not a valid snarkjs public signals JSON document: expected an integer (a string or a number), found true"),
            "{e}"
        );
        let mut p = proof;
        p["pi_c"][1] = serde_json::json!(1e3);
        let e = read_proof::<Bn254>(&file("p.json", &p.to_string()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.json: pi_c[1]: not an integer"), "{e}");
        // An explicit protocol or curve must still be right.
        let mut j = proof_json();
        j.protocol.clear();
        j.curve = "bls12381".into();
        assert!(proof_from_json::<Bn254>(&j).is_err());
        j.curve.clear();
        assert!(proof_from_json::<Bn254>(&j).is_ok());
    }

    #[test]
    fn g2_points_outside_the_subgroup_are_refused() {
        // A point on the twist whose x is small is (overwhelmingly likely) not in G2.
        let mut x = 1u64;
        let p = loop {
            let cand = ark_bn254::Fq2::new(Fq::from(x), Fq::from(0u64));
            if let Some(p) = G2Affine::<Bn254>::get_point_from_x_unchecked(cand, false) {
                break p;
            }
            x += 1;
        };
        assert!(p.is_on_curve() && !p.is_in_correct_subgroup_assuming_on_curve());
        let mut j = proof_json();
        j.pi_b = g2_to_json::<Bn254>(&p);
        let e = proof_from_json::<Bn254>(&j).unwrap_err().to_string();
        assert_eq!(e, "pi_b: the point is not in the prime-order subgroup");
    }

    #[test]
    fn inconsistent_verification_keys_are_refused() {
        let mut vk = vk_json();
        vk.n_public = 3;
        let e = vk_from_json::<Bn254>(&vk).unwrap_err().to_string();
        assert_eq!(e, "IC: expected nPublic + 1 = 4 points, found 3");
        let mut vk = vk_json();
        vk.vk_alphabeta_12[1][2][0] = "7".into();
        let e = vk_from_json::<Bn254>(&vk).unwrap_err().to_string();
        assert!(e.starts_with("vk_alphabeta_12: does not equal"), "{e}");
        let mut vk = vk_json();
        vk.vk_alphabeta_12[0].pop();
        let e = vk_from_json::<Bn254>(&vk).unwrap_err().to_string();
        assert!(
            e.starts_with("vk_alphabeta_12: expected an Fq12 element"),
            "{e}"
        );
        let mut vk = vk_json();
        vk.ic[2][1] = "x".into();
        let e = vk_from_json::<Bn254>(&vk).unwrap_err().to_string();
        assert!(e.starts_with("IC[2][1]: not an integer"), "{e}");
    }

    #[test]
    fn malformed_documents_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("proof.json");
        std::fs::write(&p, b"{\"pi_a\": [1, 2, 3]}").unwrap();
        let e = read_proof::<Bn254>(&p).unwrap_err().to_string();
        assert!(
            e.contains("proof.json: not a valid snarkjs proof JSON document")
                && e.contains("line 1"),
            "{e}"
        );
        let mut j = proof_json();
        j.pi_a[0] = "-1".into();
        write_json(&p, &j).unwrap();
        let e = read_proof::<Bn254>(&p).unwrap_err().to_string();
        assert!(e.contains("proof.json: pi_a[0]: not an integer"), "{e}");
        let missing = dir.path().join("nope.json");
        assert!(matches!(
            read_public::<Bn254>(&missing),
            Err(FormatError::Io { .. })
        ));
    }
}
