//! Witnesses as clients send them: a `.wtns` file, or JSON decimal strings. Both are checked
//! against the circuit (length nVars, value 0 the constant 1, values below the field
//! modulus) before a job is accepted, and stored as `.wtns` files for the prover.

use std::path::Path;

use ark_ff::One;

use crate::curve::{Bn254, Curve};
use crate::formats::codec::from_decimal;
use crate::formats::{read_wtns, write_wtns, FormatError};

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

/// Checks a `.wtns` file (a request body streamed to disk) against the circuit, reading it
/// as the prover will; returns its values.
pub fn check_wtns_file(path: &Path, n_vars: usize, circuit: &str) -> Result<Vec<Fr>, WitnessError> {
    let w = read_wtns::<Bn254>(path)?;
    check(&w.values, n_vars, "the .wtns witness", circuit)?;
    Ok(w.values)
}

/// Decodes and checks a JSON witness: decimal strings (or non-negative integers).
pub fn from_json(
    values: &[serde_json::Value],
    n_vars: usize,
    at: &str,
    circuit: &str,
) -> Result<Vec<Fr>, WitnessError> {
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
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) if n.is_u64() => n.to_string(),
                other => {
                    return Err(WitnessError::Value {
                        at: at.to_string(),
                        index,
                        problem: format!("expected a decimal string, found {other}"),
                    })
                }
            };
            from_decimal::<Fr>(&text).ok_or_else(|| WitnessError::Value {
                at: at.to_string(),
                index,
                problem: format!(
                    "{text:?} is not a decimal number below the BN254 scalar field modulus"
                ),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check(&out, n_vars, at, circuit)?;
    Ok(out)
}

/// Stores a checked witness as a `.wtns` file (written to a temp name, synced, renamed).
pub fn store(path: &Path, values: &[Fr]) -> Result<(), FormatError> {
    write_wtns::<Bn254>(path, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_witnesses_are_checked_value_by_value() {
        let ok = json!(["1", 2, "3"]);
        let v = from_json(ok.as_array().unwrap(), 3, "witness", "c").unwrap();
        assert_eq!(v[1], Fr::from(2u64));
        let e = from_json(
            json!(["1", "x", "3"]).as_array().unwrap(),
            3,
            "witness",
            "c",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("witness[1]:"), "{e}");
        let e = from_json(
            json!(["1", "2"]).as_array().unwrap(),
            3,
            "witnesses[4]",
            "c",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("witnesses[4] has 2 values") && e.contains("expects 3"),
            "{e}"
        );
        let e = from_json(
            json!(["2", "2", "2"]).as_array().unwrap(),
            3,
            "witness",
            "c",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("must be 1"), "{e}");
        let big = crate::formats::codec::modulus_decimal::<Fr>();
        assert!(from_json(json!(["1", big, "0"]).as_array().unwrap(), 3, "w", "c").is_err());
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
