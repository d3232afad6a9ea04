//! L1 operations as JSON, as the log and the L1 queue store them: `{"type": "deposit",
//! "index", "token", "amount", "ax", "ay", "eth_address"}` or `{"type": "forced_exit",
//! "index", "eth_address"}`, numbers as decimal strings.

use kiln_formats::codec::from_integer_text;
use kiln_rollup::babyjub::{to_biguint, Point};
use kiln_rollup::trace::L1Op;
use kiln_rollup::Fr;
use serde_json::{json, Value};

fn dec(x: &Fr) -> String {
    to_biguint(x).to_string()
}

/// The JSON of an L1 operation.
pub fn to_json(op: &L1Op) -> Value {
    match op {
        L1Op::Deposit {
            index,
            token,
            amount,
            key,
            eth_address,
        } => json!({
            "type": "deposit",
            "index": index,
            "token": token,
            "amount": amount.to_string(),
            "ax": dec(&key.x),
            "ay": dec(&key.y),
            "eth_address": dec(eth_address),
        }),
        L1Op::ForcedExit { index, eth_address } => json!({
            "type": "forced_exit",
            "index": index,
            "eth_address": dec(eth_address),
        }),
    }
}

/// An L1 operation from its JSON; the message names the field that is wrong.
pub fn from_json(v: &Value) -> Result<L1Op, String> {
    let text = |f: &str| -> Result<String, String> {
        match v.get(f) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) if n.is_u64() => Ok(n.to_string()),
            _ => Err(format!("{f}: expected a non-negative integer")),
        }
    };
    let int = |f: &str| -> Result<u128, String> {
        text(f)?
            .parse()
            .map_err(|_| format!("{f}: expected a non-negative integer"))
    };
    let small = |f: &str| -> Result<u32, String> {
        u32::try_from(int(f)?).map_err(|_| format!("{f}: expected an integer below 2^32"))
    };
    let elem = |f: &str| -> Result<Fr, String> {
        from_integer_text::<Fr>(&text(f)?)
            .filter(|_| !text(f).unwrap_or_default().starts_with("0x"))
            .ok_or_else(|| format!("{f}: expected a field element"))
    };
    match v.get("type").and_then(Value::as_str) {
        Some("deposit") => Ok(L1Op::Deposit {
            index: small("index")?,
            token: small("token")?,
            amount: int("amount")?,
            key: Point {
                x: elem("ax")?,
                y: elem("ay")?,
            },
            eth_address: elem("eth_address")?,
        }),
        Some("forced_exit") => Ok(L1Op::ForcedExit {
            index: small("index")?,
            eth_address: elem("eth_address")?,
        }),
        _ => Err("type: expected \"deposit\" or \"forced_exit\"".into()),
    }
}
