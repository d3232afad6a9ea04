//! A built batch's exits with their proofs against its exit root: what a withdrawal's
//! recipient (or anyone for them) hands to the rollup contract's `finalizeWithdrawal`.

use serde_json::{json, Value};
use sqlx::Row;

use kiln_rollup::babyjub::to_biguint;
use kiln_rollup::batchdata::{exit_leaf, exit_proof, BatchData};
use kiln_rollup::ledger::Exit;
use kiln_rollup::Fr;

use crate::Sequencer;

fn dec(x: &Fr) -> String {
    to_biguint(x).to_string()
}

impl Sequencer {
    /// Batch `number`'s exits, each with its leaf and exit proof: `{"batch", "exit_root",
    /// "exits": [{"position", "from", "to", "token", "amount", "leaf", "path"}]}` (`path`:
    /// the groups of four children from the leaves up, decimal strings). `None` if the
    /// batch is not built yet.
    pub async fn batch_exits(&self, number: u64) -> Result<Option<Value>, sqlx::Error> {
        let Some(r) = sqlx::query("SELECT data, exits FROM batches WHERE number = ? AND data IS NOT NULL AND exits IS NOT NULL")
            .bind(number as i64)
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(None);
        };
        let data: Vec<u8> = r.try_get("data")?;
        let stored: Value =
            serde_json::from_str(&r.try_get::<String, _>("exits")?).unwrap_or_default();
        let Ok(decoded) = BatchData::decode(&data) else {
            return Ok(None);
        };
        let mut leaves = vec![Fr::from(0u64); decoded.l1.len() + decoded.txs.len()];
        let mut exits = Vec::new();
        for e in stored.as_array().into_iter().flatten() {
            let field = |k: &str| {
                e[k].as_str()
                    .map(str::to_string)
                    .or_else(|| e[k].as_u64().map(|v| v.to_string()))
            };
            let (Some(position), Some(to), Some(token), Some(amount), Some(from)) = (
                e["position"].as_u64().map(|p| p as usize),
                field("to").and_then(|t| kiln_formats::codec::from_decimal::<Fr>(&t)),
                e["token"].as_u64().and_then(|t| u32::try_from(t).ok()),
                field("amount").and_then(|a| a.parse::<u128>().ok()),
                e["from"].as_u64().and_then(|f| u32::try_from(f).ok()),
            ) else {
                continue;
            };
            if position >= leaves.len() {
                continue;
            }
            let exit = Exit {
                from,
                to,
                token,
                amount,
            };
            leaves[position] = exit_leaf(Some(&exit));
            exits.push((position, exit));
        }
        let out: Vec<Value> = exits
            .iter()
            .map(|(position, e)| {
                let path: Vec<Vec<String>> = exit_proof(&leaves, *position)
                    .iter()
                    .map(|g| g.iter().map(dec).collect())
                    .collect();
                json!({
                    "position": position,
                    "from": e.from,
                    "to": dec(&e.to),
                    "to_address": format!("0x{:0>40}", to_biguint(&e.to).to_str_radix(16)),
                    "token": e.token,
                    "amount": e.amount.to_string(),
                    "leaf": dec(&leaves[*position]),
                    "path": path,
                })
            })
            .collect();
        Ok(Some(json!({
            "batch": number,
            "exit_root": dec(&decoded.exit_root),
            "exits": out,
        })))
    }
}
