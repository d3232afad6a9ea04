//! The follower: reads the rollup contract's `L1OpQueued` events up to a confirmation depth
//! and queues each operation in the sequencer, by its position in the contract's queue, so
//! an event seen twice (after a restart, or in a re-scan) is queued once. Only blocks at
//! least `confirmations` deep are read, so a shallow reorg cannot credit a deposit that
//! then vanishes. Errors of the L1 node are retried with backoff; nothing is skipped.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use serde_json::json;

use kiln_sequencer::Sequencer;

use crate::artifacts::KilnRollup::L1OpQueued;
use crate::L1Error;

/// Key of `meta` holding the next block to scan.
const NEXT_BLOCK: &str = "l1_follow_next_block";
/// Most blocks asked for in one `eth_getLogs`.
const SPAN: u64 = 2_000;

/// The follower's settings.
#[derive(Clone, Debug)]
pub struct FollowerConfig {
    /// The rollup contract.
    pub rollup: Address,
    /// The block it was deployed in.
    pub from_block: u64,
    /// Blocks an event must be under before it is queued.
    pub confirmations: u64,
    /// Time between polls.
    pub poll: Duration,
}

/// The L1 operation of an `L1OpQueued` event, as the sequencer's queue takes it.
pub fn op_of(e: &L1OpQueued) -> Result<kiln_rollup::trace::L1Op, L1Error> {
    let addr = alloy::primitives::U256::from_be_slice(e.ethAddress.as_slice());
    let v = match e.kind {
        3 => {
            json!({"type": "deposit", "index": e.l2Account.to_string(), "token": e.token.to_string(),
            "amount": e.amount.to_string(), "ax": e.ax.to_string(), "ay": e.ay.to_string(),
            "eth_address": addr.to_string()})
        }
        4 => {
            json!({"type": "forced_exit", "index": e.l2Account.to_string(), "eth_address": addr.to_string()})
        }
        k => {
            return Err(L1Error::Config(format!(
                "L1OpQueued {}: unknown kind {k}",
                e.queueIndex
            )))
        }
    };
    kiln_sequencer::l1json::from_json(&v)
        .map_err(|m| L1Error::Config(format!("L1OpQueued {}: {m}", e.queueIndex)))
}

/// One pass: queues every operation in confirmed blocks not scanned yet. Returns how many
/// it queued.
pub async fn poll_once<P: Provider>(
    provider: &P,
    seq: &Sequencer,
    cfg: &FollowerConfig,
) -> Result<usize, L1Error> {
    let head = provider
        .get_block_number()
        .await
        .map_err(|e| L1Error::rpc("eth_blockNumber", e))?;
    let Some(safe) = head.checked_sub(cfg.confirmations) else {
        return Ok(0);
    };
    let mut from = match seq.meta(NEXT_BLOCK).await? {
        Some(v) => v.parse().unwrap_or(cfg.from_block),
        None => cfg.from_block,
    };
    let mut queued = 0;
    while from <= safe {
        let to = safe.min(from + SPAN - 1);
        let filter = Filter::new()
            .address(cfg.rollup)
            .event_signature(L1OpQueued::SIGNATURE_HASH)
            .from_block(from)
            .to_block(to);
        let logs = provider
            .get_logs(&filter)
            .await
            .map_err(|e| L1Error::rpc("eth_getLogs", e))?;
        let mut next = seq.next_l1_index().await?;
        for log in logs {
            let e = L1OpQueued::decode_log_data(log.data()).map_err(|e| {
                L1Error::Config(format!("an L1OpQueued event does not decode: {e}"))
            })?;
            let index: u64 = e.queueIndex.try_into().unwrap_or(u64::MAX);
            if index < next {
                continue;
            }
            if index > next {
                return Err(L1Error::Config(format!(
                    "the contract's queue skips from {next} to {index}: rescanning from block {}",
                    cfg.from_block
                )));
            }
            if seq.enqueue_from_l1(index, op_of(&e)?).await? {
                tracing::info!(target: crate::TARGET, queue_index = index, kind = e.kind, "L1 operation queued");
                queued += 1;
            }
            next += 1;
        }
        from = to + 1;
        seq.set_meta(NEXT_BLOCK, &from.to_string()).await?;
    }
    Ok(queued)
}

/// Follows the L1 for ever (errors are logged and retried with backoff, up to 30 s).
pub async fn run<P: Provider>(provider: P, seq: Arc<Sequencer>, cfg: FollowerConfig) {
    let mut backoff = cfg.poll;
    loop {
        match poll_once(&provider, &seq, &cfg).await {
            Ok(_) => backoff = cfg.poll,
            Err(e) => {
                tracing::warn!(target: crate::TARGET, error = %e, retry_in_ms = backoff.as_millis() as u64, "cannot follow the L1");
                if matches!(e, L1Error::Config(_)) {
                    let _ = seq.set_meta(NEXT_BLOCK, &cfg.from_block.to_string()).await;
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
        tokio::time::sleep(backoff).await;
    }
}
