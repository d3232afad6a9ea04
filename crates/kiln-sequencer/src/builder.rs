//! The batch builder: closed batches, in order, executed on the state they started from
//! (its own copy of the ledger, one batch behind the sequencer's at most), recorded for the
//! batch circuit ([`BatchTrace`]), their roots, exit root, data and public input stored, and
//! the trace handed to the prover.

use std::sync::Arc;

use kiln_rollup::batch::{Batch, BatchRecord};
use kiln_rollup::ledger::Ledger;
use kiln_rollup::trace::BatchTrace;
use sqlx::sqlite::SqlitePool;
use sqlx::Row;
use tokio::sync::mpsc;

use crate::TARGET;

/// What proves a built batch: given its trace, it arranges the proof (and records it).
pub type ProveHook = Arc<dyn Fn(BatchTrace) + Send + Sync>;

/// Builds batches as they arrive on `closed`, starting from `base` (the genesis state).
/// Batches that already have a proof job (or are proven) are replayed without tracing.
pub async fn run(
    pool: SqlitePool,
    mut base: Ledger,
    batch_size: usize,
    mut closed: mpsc::UnboundedReceiver<Batch>,
    prove: Option<ProveHook>,
) {
    while let Some(batch) = closed.recv().await {
        let built =
            sqlx::query("SELECT status, job_id IS NOT NULL AS built FROM batches WHERE number = ?")
                .bind(batch.number as i64)
                .fetch_optional(&pool)
                .await;
        let (status, already) = match built {
            Ok(Some(r)) => (
                r.try_get::<String, _>("status").unwrap_or_default(),
                r.try_get::<bool, _>("built").unwrap_or(false),
            ),
            Ok(None) => (String::new(), false),
            Err(e) => {
                tracing::error!(target: TARGET, batch = batch.number, error = %e, "cannot read the batch's record");
                continue;
            }
        };
        // A batch with a proof job (or an end) is only replayed; the others are recorded
        // and handed to the prover (again, after a restart that came between).
        if already || matches!(status.as_str(), "proven" | "finalized" | "failed") {
            replay(&mut base, &batch);
            continue;
        }
        // Without a prover only the roots and data are kept: no state proof per write.
        // The hashing runs on a blocking thread, not on the workers that answer requests.
        let traced = prove.is_some();
        let (ledger, batch, built) = match tokio::task::spawn_blocking(move || {
            let built = if traced {
                base.execute_batch(&batch, batch_size)
                    .map(|t| (record_of(&t), Some(t)))
            } else {
                base.record_batch(&batch, batch_size).map(|r| (r, None))
            };
            (base, batch, built)
        })
        .await
        {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(target: TARGET, error = %e, "the batch builder's worker failed; batch building stops");
                return;
            }
        };
        base = ledger;
        let (record, trace) = match built {
            Ok(b) => b,
            Err(e) => {
                // The sequencer validated every transaction against the same rules: this is
                // a bug, and the builder's state is no longer the batch's. Stop building.
                tracing::error!(target: TARGET, batch = batch.number, error = %e, "a closed batch does not execute; batch building stops");
                let _ =
                    sqlx::query("UPDATE batches SET status = 'failed', error = ? WHERE number = ?")
                        .bind(e.to_string())
                        .bind(batch.number as i64)
                        .execute(&pool)
                        .await;
                return;
            }
        };
        let hex = kiln_rollup::tx::hash_hex;
        let stored = sqlx::query(
            "UPDATE batches SET old_root = ?, new_root = ?, exit_root = ?, public_input = ?, data = ?, exits = ? WHERE number = ?",
        )
        .bind(hex(&record.old_root))
        .bind(hex(&record.new_root))
        .bind(hex(&record.exit_root))
        .bind(kiln_rollup::babyjub::to_biguint(&record.public_input).to_string())
        .bind(record.data)
        .bind(exits_json(&record.exits).to_string())
        .bind(batch.number as i64)
        .execute(&pool)
        .await;
        if let Err(e) = stored {
            tracing::error!(target: TARGET, batch = batch.number, error = %e, "cannot record the built batch");
        }
        tracing::info!(target: TARGET, batch = batch.number, txs = batch.txs.len(), root = %hex(&record.new_root), "batch built");
        if let (Some(p), Some(trace)) = (&prove, trace) {
            p(trace);
        }
    }
}

/// A batch's exits as stored: `[{"position", "to", "token", "amount"}]`, numbers as
/// decimal strings (`to`: the L1 recipient's address as a number).
pub fn exits_json(exits: &[(usize, kiln_rollup::ledger::Exit)]) -> serde_json::Value {
    exits
        .iter()
        .map(|(k, e)| {
            serde_json::json!({
                "position": k,
                "from": e.from,
                "to": kiln_rollup::babyjub::to_biguint(&e.to).to_string(),
                "token": e.token,
                "amount": e.amount.to_string(),
            })
        })
        .collect()
}

/// The record part of a trace.
fn record_of(t: &BatchTrace) -> BatchRecord {
    BatchRecord {
        old_root: t.old_root,
        new_root: t.new_root,
        exit_root: t.exit_root,
        data: t.data.clone(),
        public_input: t.public_input,
        exits: t
            .l1
            .iter()
            .map(|s| s.exit.as_ref())
            .chain(t.txs.iter().map(|s| s.exit.as_ref()))
            .enumerate()
            .filter_map(|(k, e)| e.map(|e| (k, e.clone())))
            .collect(),
    }
}

/// Applies a batch already built without recording it.
fn replay(base: &mut Ledger, batch: &Batch) {
    for op in &batch.l1_ops {
        base.apply_l1(op);
    }
    for s in &batch.txs {
        if let Err(e) = base.apply_verified(s) {
            tracing::error!(target: TARGET, batch = batch.number, error = %e, "a built batch does not replay");
        }
    }
    base.close_batch();
}
