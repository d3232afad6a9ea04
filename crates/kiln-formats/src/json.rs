//! snarkjs JSON documents: `proof.json`, `public.json` and `verification_key.json`, as
//! documents of decimal strings, and the codecs of their field elements and points. The
//! prover's own types (`Proof`, `VerifyingKey`) live with the prover (`kiln-groth16`),
//! which converts them to and from these documents.
//!
//! The serde types mirror snarkjs' objects field for field and in snarkjs' key order;
//! [`to_snarkjs_string`] lays them out exactly as snarkjs does (it writes with
//! `bfj.write(file, obj, {space: 1})`: one-space indentation, `"key": value`, one array
//! element per line, empty arrays as `[` newline `]`, no trailing newline), so files
//! kiln writes are byte-for-byte what snarkjs would write for the same values.
//!
//! Field elements are written as decimal strings. Points are affine with a trailing `"1"`;
//! the point at infinity is `["0", "1", "0"]` in G1 and `[["0","0"], ["1","0"], ["0","0"]]`
//! in G2; G2 coordinates are `[c0, c1]` pairs. Reading accepts what snarkjs accepts (which
//! runs every document through `unstringifyBigInts`): field elements as decimal or
//! `0x`-hex strings or as JSON integers (read from their literal text, so big numbers are
//! exact, unlike snarkjs's f64), a missing `z`, Jacobian `z ≠ 1`, and a `proof.json`
//! without `"protocol"`/`"curve"` (snarkjs takes the curve from the verification key). It
//! refuses by JSON path anything that is not an integer below the modulus (a JSON number
//! with a fraction or exponent, such as `1.0` or `1e3`, included), not on the curve or not
//! in the subgroup, or of the wrong shape.

use std::path::Path;

use ark_ec::pairing::Pairing;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{Field, One, PrimeField, Zero};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use super::atomic::write_atomically;
use super::codec::{check_point, from_integer_text, to_decimal};
use super::error::FormatError;
use super::zkey::Groth16Header;
use kiln_algebra::curve::{Curve, G1Affine, G2Affine};

/// A Groth16 proof as snarkjs writes it (`proof.json`).
///
/// Deserializing accepts what snarkjs reads: coordinates as strings or JSON numbers (kept
/// as their literal text; `kiln_groth16::snarkjs::proof_from_json` parses and checks them),
/// and a document without `"protocol"` or `"curve"` (read as empty strings, meaning "not
/// given").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofJson {
    /// `[A]₁` as `[x, y, z]`.
    #[serde(deserialize_with = "int_texts")]
    pub pi_a: Vec<String>,
    /// `[B]₂` as `[[x.c0, x.c1], [y.c0, y.c1], [z.c0, z.c1]]`.
    #[serde(deserialize_with = "int_text_pairs")]
    pub pi_b: Vec<Vec<String>>,
    /// `[C]₁` as `[x, y, z]`.
    #[serde(deserialize_with = "int_texts")]
    pub pi_c: Vec<String>,
    /// Always `"groth16"` when written; empty if a document read did not say.
    #[serde(default)]
    pub protocol: String,
    /// The curve's snarkjs name (`"bn128"`) when written; empty if a document read did not say.
    #[serde(default)]
    pub curve: String,
}

/// A Groth16 verification key as snarkjs writes it (`verification_key.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationKeyJson {
    /// Always `"groth16"`.
    pub protocol: String,
    /// The curve's snarkjs name (`"bn128"`).
    pub curve: String,
    /// Number of public signals.
    #[serde(rename = "nPublic")]
    pub n_public: u64,
    /// `[α]₁`.
    #[serde(deserialize_with = "int_texts")]
    pub vk_alpha_1: Vec<String>,
    /// `[β]₂`.
    #[serde(deserialize_with = "int_text_pairs")]
    pub vk_beta_2: Vec<Vec<String>>,
    /// `[γ]₂`.
    #[serde(deserialize_with = "int_text_pairs")]
    pub vk_gamma_2: Vec<Vec<String>>,
    /// `[δ]₂`.
    #[serde(deserialize_with = "int_text_pairs")]
    pub vk_delta_2: Vec<Vec<String>>,
    /// `e(α, β)` in Fq12, nested as `[c0, c1]` of `[c0, c1, c2]` of `[c0, c1]`.
    #[serde(deserialize_with = "int_text_triples")]
    pub vk_alphabeta_12: Vec<Vec<Vec<String>>>,
    /// The IC points, `nPublic + 1` of them.
    #[serde(rename = "IC", deserialize_with = "int_text_pairs")]
    pub ic: Vec<Vec<String>>,
}

/// One integer of a snarkjs JSON document as text: a JSON string as itself, a JSON number
/// as its exact literal (serde_json would round a big number through f64). Whether the
/// text is an integer in range is decided later, by JSON path ([`scalar`]).
struct IntText(String);

impl<'de> Deserialize<'de> for IntText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <Box<RawValue>>::deserialize(d)?;
        let text = raw.get();
        if text.starts_with('"') {
            serde_json::from_str::<String>(text)
                .map(IntText)
                .map_err(serde::de::Error::custom)
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            Ok(IntText(text.to_string()))
        } else {
            let shown: String = text.chars().take(40).collect();
            Err(serde::de::Error::custom(format!(
                "expected an integer (a string or a number), found {shown}"
            )))
        }
    }
}

fn int_texts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Vec::<IntText>::deserialize(d)?;
    Ok(v.into_iter().map(|t| t.0).collect())
}

fn int_text_pairs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<String>>, D::Error> {
    let v = Vec::<Vec<IntText>>::deserialize(d)?;
    Ok(v.into_iter()
        .map(|p| p.into_iter().map(|t| t.0).collect())
        .collect())
}

fn int_text_triples<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<Vec<String>>>, D::Error> {
    let v = Vec::<Vec<Vec<IntText>>>::deserialize(d)?;
    Ok(v.into_iter()
        .map(|a| {
            a.into_iter()
                .map(|p| p.into_iter().map(|t| t.0).collect())
                .collect()
        })
        .collect())
}

/// The snarkjs `"protocol"` value for Groth16.
pub const GROTH16_PROTOCOL: &str = "groth16";

/// snarkjs' `verification_key.json` for the Groth16 key `(α₁, β₂, γ₂, δ₂, IC)` (computes
/// `vk_alphabeta_12 = e(α₁, β₂)`).
pub fn verification_key_json<C: Curve>(
    alpha1: &G1Affine<C>,
    beta2: &G2Affine<C>,
    gamma2: &G2Affine<C>,
    delta2: &G2Affine<C>,
    ic: &[G1Affine<C>],
) -> VerificationKeyJson {
    let ab = C::Engine::pairing(*alpha1, *beta2).0;
    VerificationKeyJson {
        protocol: GROTH16_PROTOCOL.to_string(),
        curve: C::SNARKJS_NAME.to_string(),
        n_public: ic.len().saturating_sub(1) as u64,
        vk_alpha_1: g1_to_json::<C>(alpha1),
        vk_beta_2: g2_to_json::<C>(beta2),
        vk_gamma_2: g2_to_json::<C>(gamma2),
        vk_delta_2: g2_to_json::<C>(delta2),
        vk_alphabeta_12: fq12_to_json(&ab),
        ic: ic.iter().map(g1_to_json::<C>).collect(),
    }
}

/// snarkjs' verification key of a zkey, from its header and IC points, as
/// `snarkjs zkey export verificationkey` writes it.
pub fn vk_to_json<C: Curve>(header: &Groth16Header<C>, ic: &[G1Affine<C>]) -> VerificationKeyJson {
    verification_key_json::<C>(
        &header.alpha1,
        &header.beta2,
        &header.gamma2,
        &header.delta2,
        ic,
    )
}

/// Public signals as snarkjs writes them (`public.json`): decimal strings.
pub fn public_to_json<C: Curve>(values: &[C::Fr]) -> Vec<String> {
    values.iter().map(to_decimal).collect()
}

/// Decodes public signals (decimal or `0x`-hex text, see [`from_integer_text`]), refusing
/// (by index) anything not an integer below the modulus.
pub fn public_from_json<C: Curve>(values: &[String]) -> Result<Vec<C::Fr>, FormatError> {
    values
        .iter()
        .enumerate()
        .map(|(i, s)| scalar::<C::Fr>(s, &format!("[{i}]")))
        .collect()
}

/// A G1 point as `[x, y, "1"]`, or `["0", "1", "0"]` at infinity.
pub fn g1_to_json<C: Curve>(p: &G1Affine<C>) -> Vec<String> {
    match p.xy() {
        Some((x, y)) => vec![to_decimal(&x), to_decimal(&y), "1".into()],
        None => vec!["0".into(), "1".into(), "0".into()],
    }
}

/// A G2 point as `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]`, or
/// `[["0","0"], ["1","0"], ["0","0"]]` at infinity.
pub fn g2_to_json<C: Curve>(p: &G2Affine<C>) -> Vec<Vec<String>> {
    let pair = |v: &C::Fq2| {
        let (c0, c1) = C::fq2_parts(v);
        vec![to_decimal(&c0), to_decimal(&c1)]
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    match p.xy() {
        Some((x, y)) => vec![pair(&x), pair(&y), s(&["1", "0"])],
        None => vec![s(&["0", "0"]), s(&["1", "0"]), s(&["0", "0"])],
    }
}

/// Parses a G1 point `[x, y]` or `[x, y, z]` (Jacobian; `z = 0` is infinity) and checks
/// it is on the curve. `at` is its JSON path, used in errors.
pub fn g1_from_json<C: Curve>(v: &[String], at: &str) -> Result<G1Affine<C>, FormatError> {
    if !(2..=3).contains(&v.len()) {
        return Err(FormatError::json(
            at,
            format!(
                "expected a G1 point [x, y, z] (3 decimal strings), found {} elements",
                v.len()
            ),
        ));
    }
    let x = scalar::<C::Fq>(&v[0], &format!("{at}[0]"))?;
    let y = scalar::<C::Fq>(&v[1], &format!("{at}[1]"))?;
    let z = match v.get(2) {
        Some(z) => scalar::<C::Fq>(z, &format!("{at}[2]"))?,
        None => C::Fq::one(),
    };
    point_from_jacobian::<C::G1>(x, y, z, at)
}

/// Parses a G2 point `[[x.c0, x.c1], [y.c0, y.c1], [z.c0, z.c1]]` (z optional;
/// Jacobian; `z = 0` is infinity) and checks it is on the curve and in the subgroup.
pub fn g2_from_json<C: Curve>(v: &[Vec<String>], at: &str) -> Result<G2Affine<C>, FormatError> {
    if !(2..=3).contains(&v.len()) {
        return Err(FormatError::json(
            at,
            format!(
                "expected a G2 point [[x.c0, x.c1], [y.c0, y.c1], [z.c0, z.c1]], found {} elements",
                v.len()
            ),
        ));
    }
    let fq2 = |i: usize| -> Result<C::Fq2, FormatError> {
        let p = format!("{at}[{i}]");
        let pair = &v[i];
        if pair.len() != 2 {
            return Err(FormatError::json(
                &p,
                format!(
                    "expected an Fq2 element [c0, c1] (2 decimal strings), found {} elements",
                    pair.len()
                ),
            ));
        }
        let c0 = scalar::<C::Fq>(&pair[0], &format!("{p}[0]"))?;
        let c1 = scalar::<C::Fq>(&pair[1], &format!("{p}[1]"))?;
        Ok(C::fq2_new(c0, c1))
    };
    let (x, y) = (fq2(0)?, fq2(1)?);
    let z = if v.len() == 3 { fq2(2)? } else { C::Fq2::one() };
    point_from_jacobian::<C::G2>(x, y, z, at)
}

/// Jacobian `(x, y, z)` (snarkjs' representation) to a checked affine point.
fn point_from_jacobian<P: SWCurveConfig>(
    x: P::BaseField,
    y: P::BaseField,
    z: P::BaseField,
    at: &str,
) -> Result<Affine<P>, FormatError> {
    let p = if z.is_zero() {
        Affine::<P>::zero()
    } else if z.is_one() {
        Affine::<P>::new_unchecked(x, y)
    } else {
        Projective::<P>::new_unchecked(x, y, z).into_affine()
    };
    check_point(&p).map_err(|e| FormatError::JsonPoint {
        path: Default::default(),
        json_path: at.to_string(),
        problem: e.to_string(),
    })?;
    Ok(p)
}

/// An Fq12 element nested as snarkjs does: `[c0, c1]` of Fq6 `[c0, c1, c2]` of Fq2 `[c0, c1]`.
pub fn fq12_to_json<F: Field>(x: &F) -> Vec<Vec<Vec<String>>> {
    let flat: Vec<String> = x
        .to_base_prime_field_elements()
        .map(|c| to_decimal(&c))
        .collect();
    flat.chunks(6)
        .map(|fq6| fq6.chunks(2).map(|fq2| fq2.to_vec()).collect())
        .collect()
}

/// Parses an Fq12 element in snarkjs' nesting (see [`fq12_to_json`]).
pub fn fq12_from_json<F: Field>(v: &[Vec<Vec<String>>]) -> Result<F, FormatError> {
    let at = "vk_alphabeta_12";
    let shape = || {
        FormatError::json(
            at,
            "expected an Fq12 element: 2 Fq6 elements of 3 Fq2 elements of 2 decimal strings",
        )
    };
    if v.len() != 2
        || v.iter()
            .any(|a| a.len() != 3 || a.iter().any(|b| b.len() != 2))
    {
        return Err(shape());
    }
    let mut flat = Vec::with_capacity(12);
    for (i, a) in v.iter().enumerate() {
        for (j, b) in a.iter().enumerate() {
            for (k, s) in b.iter().enumerate() {
                flat.push(scalar::<F::BasePrimeField>(
                    s,
                    &format!("{at}[{i}][{j}][{k}]"),
                )?);
            }
        }
    }
    F::from_base_prime_field_elems(flat).ok_or_else(shape)
}

/// Parses one field element (decimal, or `0x` hex; a JSON number arrives as its literal
/// text), naming `at` on failure.
fn scalar<F: PrimeField>(s: &str, at: &str) -> Result<F, FormatError> {
    from_integer_text::<F>(s).ok_or_else(|| {
        let shown: String = s.chars().take(100).collect();
        let fractional = s.contains(['.', 'e', 'E'])
            && !s.starts_with("0x")
            && s.parse::<f64>().is_ok();
        let hint = if fractional {
            ": a number must be an exact integer, without a fraction or exponent"
        } else {
            ""
        };
        FormatError::json(
            at,
            format!(
                "not an integer below the field modulus, in decimal or 0x hex (found {shown:?}{hint})"
            ),
        )
    })
}

/// Checks the document's protocol and curve names; with `optional`, an empty value (the
/// field was absent) passes.
pub fn check_protocol_and_curve<C: Curve>(
    protocol: &str,
    curve: &str,
    optional: bool,
) -> Result<(), FormatError> {
    let absent = |v: &str| optional && v.is_empty();
    if !absent(protocol) && protocol != GROTH16_PROTOCOL {
        return Err(FormatError::json(
            "protocol",
            format!("expected \"{GROTH16_PROTOCOL}\", found {protocol:?}"),
        ));
    }
    if !absent(curve) && !curve_name_matches::<C>(curve) {
        return Err(FormatError::json(
            "curve",
            format!("expected \"{}\", found {curve:?}", C::SNARKJS_NAME),
        ));
    }
    Ok(())
}

/// Whether `name` names curve `C` the way snarkjs accepts it (case-insensitive; for
/// bn128 also its aliases "bn254" and "altbn128").
fn curve_name_matches<C: Curve>(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == C::SNARKJS_NAME
        || (C::SNARKJS_NAME == "bn128" && (name == "bn254" || name == "altbn128"))
}

/// Serializes `value` exactly as snarkjs lays out JSON files (see the module docs).
/// Fails only for values JSON cannot represent (e.g. maps with non-string keys).
pub fn to_snarkjs_string<T: Serialize>(value: &T) -> Result<String, FormatError> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SnarkjsFormatter { depth: 0 });
    value
        .serialize(&mut ser)
        .map_err(|e| FormatError::json("", format!("cannot serialize as JSON: {e}")))?;
    String::from_utf8(out)
        .map_err(|e| FormatError::json("", format!("serializer produced invalid UTF-8: {e}")))
}

/// Writes `value` to `path` in snarkjs' layout, atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), FormatError> {
    let text = to_snarkjs_string(value).map_err(|e| e.with_path(path))?;
    write_atomically(path, |w| std::io::Write::write_all(w, text.as_bytes()))
}

/// Reads and deserializes a JSON file; `what` names the document in errors ("proof").
pub fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, "cannot read", e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        FormatError::json("", format!("not a valid snarkjs {what} JSON document: {e}"))
            .with_path(path)
    })
}

/// Reads and checks a `public.json`: an array of field elements as decimal or `0x`-hex
/// strings or JSON integers.
pub fn read_public<C: Curve>(path: &Path) -> Result<Vec<C::Fr>, FormatError> {
    let v: Vec<IntText> = read_json(path, "public signals")?;
    let v: Vec<String> = v.into_iter().map(|t| t.0).collect();
    public_from_json::<C>(&v).map_err(|e| e.with_path(path))
}

/// serde_json formatter reproducing bfj's `{space: 1}` layout.
struct SnarkjsFormatter {
    depth: usize,
}

impl SnarkjsFormatter {
    fn newline<W: ?Sized + std::io::Write>(&self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.depth {
            w.write_all(b" ")?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for SnarkjsFormatter {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        w.write_all(b"[")
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth -= 1;
        self.newline(w)?;
        w.write_all(b"]")
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        Ok(())
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        w.write_all(b"{")
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth -= 1;
        self.newline(w)?;
        w.write_all(b"}")
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, _w: &mut W) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{fixture, fixture_bytes};
    use ark_ec::AffineRepr;
    use ark_ff::UniformRand;
    use kiln_algebra::curve::Bn254;

    type Fq = ark_bn254::Fq;

    fn proof_json() -> ProofJson {
        read_json(&fixture("proof.json"), "proof").unwrap()
    }

    #[test]
    fn layout_matches_bfj_for_empty_arrays_and_files() {
        assert_eq!(to_snarkjs_string(&Vec::<String>::new()).unwrap(), "[\n]");
        let mut bad = std::collections::BTreeMap::new();
        bad.insert(vec![1u8], 1u8);
        assert!(to_snarkjs_string(&bad).is_err());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("proof.json");
        write_json(&p, &proof_json()).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), fixture_bytes("proof.json"));
    }

    #[test]
    fn infinity_and_jacobian_points() {
        let inf1 = G1Affine::<Bn254>::zero();
        let inf2 = G2Affine::<Bn254>::zero();
        assert_eq!(g1_to_json::<Bn254>(&inf1), ["0", "1", "0"]);
        assert_eq!(
            g2_to_json::<Bn254>(&inf2),
            [["0", "0"], ["1", "0"], ["0", "0"]]
        );
        assert_eq!(
            g1_from_json::<Bn254>(&g1_to_json::<Bn254>(&inf1), "p").unwrap(),
            inf1
        );
        assert_eq!(
            g2_from_json::<Bn254>(&g2_to_json::<Bn254>(&inf2), "p").unwrap(),
            inf2
        );
        // Jacobian (X, Y, Z) = (x·z², y·z³, z), as snarkjs' fromObject accepts.
        let mut rng = ark_std::test_rng();
        let p = ark_bn254::G1Projective::rand(&mut rng).into_affine();
        let (x, y) = p.xy().unwrap();
        let z = Fq::rand(&mut rng);
        let s = |v: Fq| to_decimal(&v);
        let j = vec![s(x * z * z), s(y * z * z * z), s(z)];
        assert_eq!(g1_from_json::<Bn254>(&j, "p").unwrap(), p);
        // A missing z means affine.
        assert_eq!(g1_from_json::<Bn254>(&[s(x), s(y)], "p").unwrap(), p);
    }
}
