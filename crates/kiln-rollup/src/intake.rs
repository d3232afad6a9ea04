//! A transaction as `POST /v1/rollup/transactions` takes it, parsed and checked field by
//! field: `{"type": "transfer" | "withdraw", "from", "to", "token", "amount", "fee",
//! "nonce", "signature": {"R8x", "R8y", "S"}}` with an optional `"chain_id"` that must be
//! the rollup's. Indices, nonces, token ids and chain ids may be JSON integers or decimal
//! strings; amounts, fees, coordinates and `S` are decimal strings (JSON integers are read
//! exactly too); a withdrawal's `to` (an L1 address) may also be `0x` hex. Every error
//! names the field and says what was expected.

use num_bigint::BigUint;
use serde_json::{Map, Value};

use crate::babyjub::Point;
use crate::eddsa::Signature;
use crate::tree::check_index;
use crate::tx::{Tx, TxKind};
use crate::Fr;
use kiln_formats::codec::from_integer_text;

/// A transaction with its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx {
    /// The signed fields.
    pub tx: Tx,
    /// The sender's signature of `tx.message()`.
    pub signature: Signature,
}

/// Why a request body is not a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// Not JSON.
    #[error("the body is not valid JSON: {0}")]
    Json(String),
    /// A field missing, of the wrong kind or out of range.
    #[error("{field}: {problem}")]
    Field {
        /// The field (`signature.S` for nested ones).
        field: String,
        /// What is wrong, and what was expected.
        problem: String,
    },
}

fn field_err(field: &str, problem: impl Into<String>) -> IntakeError {
    IntakeError::Field {
        field: field.to_string(),
        problem: problem.into(),
    }
}

/// The text of an integer field: a JSON string as itself, a JSON integer as its literal.
fn int_text<'a>(
    obj: &'a Map<String, Value>,
    field: &str,
) -> Result<std::borrow::Cow<'a, str>, IntakeError> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(field_err(field, "missing")),
        Some(Value::String(s)) => Ok(s.as_str().into()),
        Some(Value::Number(n)) if n.is_u64() => Ok(n.to_string().into()),
        Some(other) => Err(field_err(
            field,
            format!("expected a non-negative integer as a decimal string, found {other}"),
        )),
    }
}

/// A non-negative decimal integer below `2^bits`.
fn uint(obj: &Map<String, Value>, field: &str, bits: u32) -> Result<u128, IntakeError> {
    let text = int_text(obj, field)?;
    let bad = || {
        field_err(
            field,
            format!(
                "expected a decimal integer from 0 to 2^{bits} - 1, found {:?}",
                shorten(&text)
            ),
        )
    };
    if text.is_empty() || text.len() > 40 || !text.bytes().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let v: u128 = text.parse().map_err(|_| bad())?;
    if bits < 128 && v >> bits != 0 {
        return Err(bad());
    }
    Ok(v)
}

/// A field element (decimal, or `0x` hex when `hex` is allowed), below the modulus.
fn element(obj: &Map<String, Value>, field: &str, hex: bool) -> Result<Fr, IntakeError> {
    let text = int_text(obj, field)?;
    let ok = hex || !text.starts_with("0x");
    ok.then(|| from_integer_text::<Fr>(&text))
        .flatten()
        .ok_or_else(|| {
            field_err(
                field,
                format!(
                    "expected a decimal integer below the BN254 field modulus, found {:?}",
                    shorten(&text)
                ),
            )
        })
}

fn shorten(s: &str) -> String {
    if s.len() > 80 {
        format!("{}…", &s[..s.floor_char_boundary(80)])
    } else {
        s.to_string()
    }
}

/// Parses a transaction body for the rollup `chain_id`.
pub fn parse_tx(body: &[u8], chain_id: u64) -> Result<SignedTx, IntakeError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| IntakeError::Json(e.to_string()))?;
    let Value::Object(obj) = &value else {
        return Err(IntakeError::Json(
            "expected a JSON object with type, from, to, token, amount, fee, nonce, signature"
                .into(),
        ));
    };
    let kind = match obj.get("type") {
        Some(Value::String(s)) if s == "transfer" => TxKind::Transfer,
        Some(Value::String(s)) if s == "withdraw" => TxKind::Withdraw,
        None => return Err(field_err("type", "missing (\"transfer\" or \"withdraw\")")),
        Some(other) => {
            return Err(field_err(
                "type",
                format!("expected \"transfer\" or \"withdraw\", found {other}"),
            ))
        }
    };
    if obj.contains_key("chain_id") {
        let given = uint(obj, "chain_id", 64)?;
        if given != u128::from(chain_id) {
            return Err(field_err(
                "chain_id",
                format!("this rollup's chain id is {chain_id}, not {given}"),
            ));
        }
    }
    let from =
        check_index(uint(obj, "from", 64)? as u64).map_err(|e| field_err("from", e.to_string()))?;
    let to = match kind {
        TxKind::Transfer => {
            let i = check_index(uint(obj, "to", 64)? as u64)
                .map_err(|e| field_err("to", e.to_string()))?;
            Fr::from(i)
        }
        TxKind::Withdraw => {
            let a = element(obj, "to", true)?;
            if BigUint::from(a) >> 160u32 != BigUint::ZERO {
                return Err(field_err("to", "an L1 address has 160 bits"));
            }
            a
        }
    };
    let token = uint(obj, "token", 32)? as u32;
    let amount = uint(obj, "amount", 128)?;
    let fee = uint(obj, "fee", 128)?;
    let nonce = uint(obj, "nonce", 64)? as u64;
    let sig = match obj.get("signature") {
        Some(Value::Object(s)) => s,
        None | Some(Value::Null) => {
            return Err(field_err(
                "signature",
                "missing ({\"R8x\", \"R8y\", \"S\"})",
            ))
        }
        Some(other) => {
            return Err(field_err(
                "signature",
                format!("expected {{\"R8x\", \"R8y\", \"S\"}}, found {other}"),
            ))
        }
    };
    let nested = |e: IntakeError| match e {
        IntakeError::Field { field, problem } => IntakeError::Field {
            field: format!("signature.{field}"),
            problem,
        },
        other => other,
    };
    let r8 = Point {
        x: element(sig, "R8x", false).map_err(nested)?,
        y: element(sig, "R8y", false).map_err(nested)?,
    };
    let s_big: BigUint = {
        let text = int_text(sig, "S").map_err(nested)?;
        if text.is_empty() || text.len() > 78 || !text.bytes().all(|c| c.is_ascii_digit()) {
            return Err(field_err(
                "signature.S",
                format!("expected a decimal integer, found {:?}", shorten(&text)),
            ));
        }
        text.parse()
            .map_err(|_| field_err("signature.S", "expected a decimal integer"))?
    };
    let signature = Signature::new(r8, &s_big)
        .ok_or_else(|| field_err("signature.S", "expected an integer below 2^256"))?;
    Ok(SignedTx {
        tx: Tx {
            chain_id,
            kind,
            from,
            to,
            token,
            amount,
            fee,
            nonce,
        },
        signature,
    })
}
