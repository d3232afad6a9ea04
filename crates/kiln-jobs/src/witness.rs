//! Witnesses as clients send them: a `.wtns` file, or JSON decimal strings. Both are checked
//! against the circuit (length nVars, value 0 the constant 1, values below the field
//! modulus) before a job is accepted, and stored as `.wtns` files for the prover.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;

use ark_ff::One;

use kiln_algebra::curve::{Bn254, Curve};
use serde_json::value::RawValue;

use kiln_formats::codec::{from_decimal, from_integer_text};
use kiln_formats::{read_wtns, read_wtns_bytes, write_wtns, FormatError};

/// The field type witnesses hold.
pub type Fr = <Bn254 as Curve>::Fr;

/// Why a witness was refused (the message names the witness and the value).
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// The `.wtns` bytes do not parse.
    #[error("{0}")]
    Format(#[from] FormatError),
    /// A JSON value is not a decimal field element.
    #[error("{at}[{index}]: {problem}")]
    Value {
        /// Which witness (`witness` or `witnesses[3]`).
        at: String,
        /// Which value.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// Wrong number of values for the circuit.
    #[error("{at} has {got} values but circuit {circuit} expects {expected} (nVars): is it a witness for another circuit?")]
    Length {
        /// Which witness.
        at: String,
        /// The circuit id.
        circuit: String,
        /// nVars.
        expected: usize,
        /// Values sent.
        got: usize,
    },
    /// Value 0 must be 1 in a circom witness.
    #[error(
        "{at}[0] must be 1 (the constant signal of every circom witness), found another value"
    )]
    Constant {
        /// Which witness.
        at: String,
    },
}

/// Checks a decoded witness against the circuit's nVars.
fn check(values: &[Fr], n_vars: usize, at: &str, circuit: &str) -> Result<(), WitnessError> {
    if values.len() != n_vars {
        return Err(WitnessError::Length {
            at: at.to_string(),
            circuit: circuit.to_string(),
            expected: n_vars,
            got: values.len(),
        });
    }
    if !values[0].is_one() {
        return Err(WitnessError::Constant { at: at.to_string() });
    }
    Ok(())
}

/// Runs `f` on the threads that decode submitted witnesses: a pool of their own, so a
/// submission's decoding never queues behind the proofs on rayon's global pool (the MSMs
/// and NTTs). Should that pool fail to start, `f` runs where it is called.
fn on_intake_pool<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("kiln-intake-{i}"))
            .build()
            .map_err(|e| tracing::warn!(target: crate::TARGET, error = %e, "no witness intake pool; using the global one"))
            .ok()
    });
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// Checks a `.wtns` file (a request body streamed to disk) against the circuit, reading it
/// as the prover will; returns its values. Blocking.
pub fn check_wtns_file(path: &Path, n_vars: usize, circuit: &str) -> Result<Vec<Fr>, WitnessError> {
    let w = on_intake_pool(|| read_wtns::<Bn254>(path))?;
    check(&w.values, n_vars, "the .wtns witness", circuit)?;
    Ok(w.values)
}

/// A `.wtns` body held in memory, checked while it is written: its values, and whether the
/// copy at `path` was written and synced. Blocking.
pub fn check_and_write(
    bytes: &[u8],
    path: &Path,
    n_vars: usize,
    circuit: &str,
) -> (Result<Vec<Fr>, WitnessError>, std::io::Result<()>) {
    let write = || {
        let mut f = std::fs::File::create(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    on_intake_pool(|| rayon::join(|| check_wtns_bytes(bytes, n_vars, circuit), write))
}

/// Checks a `.wtns` held in memory (a request body, "the .wtns body" in messages) against
/// the circuit, reading it as the prover reads files; returns its values.
pub fn check_wtns_bytes(
    bytes: &[u8],
    n_vars: usize,
    circuit: &str,
) -> Result<Vec<Fr>, WitnessError> {
    let w = on_intake_pool(|| read_wtns_bytes::<Bn254>(bytes, "the .wtns body"))?;
    check(&w.values, n_vars, "the .wtns witness", circuit)?;
    Ok(w.values)
}

/// Decodes and checks a JSON witness: integers below the field modulus, as decimal or
/// `0x` hex strings or as JSON integer literals (read exactly from their text, however
/// long, as snarkjs reads them).
pub fn from_json(
    values: &[Box<RawValue>],
    n_vars: usize,
    at: &str,
    circuit: &str,
) -> Result<Vec<Fr>, WitnessError> {
    if let Some(first) = values.first() {
        if first.get().starts_with('[') {
            return Err(WitnessError::Value {
                at: at.to_string(),
                index: 0,
                problem: "is a list: one witness is a flat list of values (send a batch as \
                          {\"witnesses\": [[...], [...]]})"
                    .into(),
            });
        }
    }
    if values.len() != n_vars {
        return Err(WitnessError::Length {
            at: at.to_string(),
            circuit: circuit.to_string(),
            expected: n_vars,
            got: values.len(),
        });
    }
    let out = values
        .iter()
        .enumerate()
        .map(|(index, v)| {
            json_value(v.get()).map_err(|problem| WitnessError::Value {
                at: at.to_string(),
                index,
                problem,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check(&out, n_vars, at, circuit)?;
    Ok(out)
}

/// One JSON witness value, from its literal text.
fn json_value(text: &str) -> Result<Fr, String> {
    let shown = || {
        let mut t: String = text.chars().take(80).collect();
        if t.len() < text.len() {
            t.push('…');
        }
        t
    };
    let below = || format!("{} is not below the BN254 scalar field modulus", shown());
    if text.starts_with('"') {
        let s: String = serde_json::from_str(text).map_err(|e| e.to_string())?;
        return from_integer_text::<Fr>(&s).ok_or_else(|| {
            if s.bytes().all(|c| c.is_ascii_digit()) && !s.is_empty() {
                below()
            } else {
                format!(
                    "{} is not an integer: expected decimal digits or 0x followed by hex digits",
                    shown()
                )
            }
        });
    }
    if text.bytes().all(|c| c.is_ascii_digit()) {
        return from_decimal::<Fr>(text).ok_or_else(below);
    }
    if text.starts_with('-') {
        return Err(format!(
            "{} is negative: expected its value modulo the field, 0 to p-1",
            shown()
        ));
    }
    if text.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "{} is not an integer: write field elements as integers (e.g. \"123\")",
            shown()
        ));
    }
    Err(format!("expected a decimal string, found {}", shown()))
}

/// Stores a checked witness as a `.wtns` file (written to a temp name, synced, renamed).
pub fn store(path: &Path, values: &[Fr]) -> Result<(), FormatError> {
    write_wtns::<Bn254>(path, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of a JSON array, as the API receives them.
    fn raw(json: &str) -> Vec<Box<RawValue>> {
        serde_json::from_str(json).unwrap()
    }

    fn refused(json: &str, n_vars: usize) -> String {
        from_json(&raw(json), n_vars, "witness", "c")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn json_witnesses_are_checked_value_by_value() {
        let v = from_json(&raw(r#"["1", 2, "0x3", "0XfF"]"#), 4, "witness", "c").unwrap();
        assert_eq!(v, [1u64, 2, 3, 255].map(Fr::from));
        let e = refused(r#"["1", "x", "3"]"#, 3);
        assert!(e.starts_with("witness[1]:"), "{e}");
        let e = from_json(&raw(r#"["1", "2"]"#), 3, "witnesses[4]", "c")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("witnesses[4] has 2 values") && e.contains("expects 3"),
            "{e}"
        );
        assert!(refused(r#"["2", "2", "2"]"#, 3).contains("must be 1"));
        let big = kiln_formats::codec::modulus_decimal::<Fr>();
        for (json, needle) in [
            (format!(r#"["1", "{big}", "0"]"#), "not below"),
            (format!(r#"["1", {big}, "0"]"#), "not below"),
            (r#"["1", 1.0, "0"]"#.into(), "not an integer"),
            (r#"["1", 1e3, "0"]"#.into(), "not an integer"),
            (r#"["1", -1, "0"]"#.into(), "negative"),
            (r#"["1", "-1", "0"]"#.into(), "not an integer"),
            (r#"["1", null, "0"]"#.into(), "found null"),
            (r#"["1", {"a": 1}, "0"]"#.into(), "found {"),
        ] {
            let e = refused(&json, 3);
            assert!(
                e.starts_with("witness[1]:") && e.contains(needle),
                "{json}: {e}"
            );
        }
        let e = refused(r#"[["1", "2"], ["1", "3"]]"#, 2);
        assert!(e.contains("is a list") && e.contains("witnesses"), "{e}");
    }

    #[test]
    fn big_integer_literals_are_read_exactly() {
        // p - 1 as a JSON number: an f64 would round it.
        let m: num_bigint::BigUint = <Fr as ark_ff::PrimeField>::MODULUS.into();
        let p_minus_1 = &m - 1u8;
        let v = from_json(&raw(&format!("[1, {p_minus_1}]")), 2, "w", "c").unwrap();
        assert_eq!(v[1], -Fr::one());
        let v = from_json(&raw("[1, 18446744073709551616]"), 2, "w", "c").unwrap();
        assert_eq!(v[1], Fr::from(u64::MAX) + Fr::one());
    }

    #[test]
    fn stored_witnesses_pass_the_file_check_and_garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.wtns");
        let values = vec![Fr::from(1u64), Fr::from(5u64)];
        store(&p, &values).unwrap();
        assert_eq!(check_wtns_file(&p, 2, "c").unwrap(), values);
        let e = check_wtns_file(&p, 3, "c").unwrap_err().to_string();
        assert!(e.contains("has 2 values but circuit c expects 3"), "{e}");
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(check_wtns_bytes(&bytes, 2, "c").unwrap(), values);
        let e = check_wtns_bytes(&bytes[..bytes.len() - 1], 2, "c").unwrap_err();
        assert!(e.to_string().contains("the .wtns body"), "{e}");
        let bad = dir.path().join("bad.wtns");
        for garbage in [&b"wtns garbage"[..], &bytes[..bytes.len() - 3]] {
            std::fs::write(&bad, garbage).unwrap();
            assert!(check_wtns_file(&bad, 2, "c").is_err());
        }
        store(&p, &[Fr::from(2u64), Fr::from(5u64)]).unwrap();
        let e = check_wtns_file(&p, 2, "c").unwrap_err().to_string();
        assert!(e.contains("must be 1"), "{e}");
    }
}
