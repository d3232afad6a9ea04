//! The batch builder: closed batches, in order, executed on the state they started from
//! (its own copy of the ledger, one batch behind the sequencer's at most), recorded for the
//! batch circuit ([`BatchTrace`]), their roots, exit root, data and public input stored, and
//! the trace handed to the prover.

use std::sync::Arc;

use kiln_rollup::batch::Batch;
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
        let trace = match base.execute_batch(&batch, batch_size) {
            Ok(t) => t,
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
            "UPDATE batches SET old_root = ?, new_root = ?, exit_root = ?, public_input = ?, data = ? WHERE number = ?",
        )
        .bind(hex(&trace.old_root))
        .bind(hex(&trace.new_root))
        .bind(hex(&trace.exit_root))
        .bind(kiln_rollup::babyjub::to_biguint(&trace.public_input).to_string())
        .bind(trace.data.clone())
        .bind(batch.number as i64)
        .execute(&pool)
        .await;
        if let Err(e) = stored {
            tracing::error!(target: TARGET, batch = batch.number, error = %e, "cannot record the built batch");
        }
        tracing::info!(target: TARGET, batch = batch.number, txs = batch.txs.len(), root = %hex(&trace.new_root), "batch built");
        if let Some(p) = &prove {
            p(trace);
        }
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
