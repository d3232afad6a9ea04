//! The submitter: posts proven batches to the rollup contract in order, with
//! `finalizeBatch(data, proof)` from the operator's key, and marks them `finalized` once
//! the contract's proven batch is `confirmations` blocks deep.
//!
//! The chain is the record of what is posted: each step reads the contract's progress and
//! works on the first batch it has not proven. A batch's transaction is signed once per fee
//! level and stored (`l1_sends`) before it is broadcast; until it is in, the stored
//! transaction is broadcast again (after a restart, or when a reorg dropped it), and past
//! `bump_after` it is signed again with the same nonce and fees raised by at least 12.5%,
//! so it replaces the stuck one. No batch can be posted twice: the contract takes batch n
//! only after batch n − 1, once.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::eips::eip2718::Encodable2718;
use alloy::eips::BlockId;
use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use sqlx::Row;

use kiln_sequencer::Sequencer;

use crate::artifacts::KilnRollup;
use crate::L1Error;

/// The submitter's settings.
#[derive(Clone, Debug)]
pub struct SubmitterConfig {
    /// The rollup contract.
    pub rollup: Address,
    /// Blocks under which a proven batch counts as `finalized`.
    pub confirmations: u64,
    /// Time between steps.
    pub poll: Duration,
    /// A batch transaction not mined after this long is replaced with higher fees.
    pub bump_after: Duration,
}

/// A proof in the contract's argument order (snarkjs's calldata order).
pub struct SolProof {
    /// π_A.
    pub a: [U256; 2],
    /// π_B, each coordinate imaginary part first.
    pub b: [[U256; 2]; 2],
    /// π_C.
    pub c: [U256; 2],
}

/// `proof` (snarkjs's `proof.json`) in the contract's argument order.
pub fn sol_proof(proof: &str) -> Result<SolProof, L1Error> {
    let bad = |m: &str| L1Error::Config(format!("a stored batch proof is not snarkjs JSON: {m}"));
    let j: serde_json::Value = serde_json::from_str(proof).map_err(|e| bad(&e.to_string()))?;
    let num = |v: &serde_json::Value| -> Result<U256, L1Error> {
        v.as_str()
            .and_then(|s| s.parse::<U256>().ok())
            .ok_or_else(|| bad("a coordinate is not a decimal string"))
    };
    let at = |k: &str, i: usize| num(&j[k][i]);
    Ok(SolProof {
        a: [at("pi_a", 0)?, at("pi_a", 1)?],
        b: [
            [num(&j["pi_b"][0][1])?, num(&j["pi_b"][0][0])?],
            [num(&j["pi_b"][1][1])?, num(&j["pi_b"][1][0])?],
        ],
        c: [at("pi_c", 0)?, at("pi_c", 1)?],
    })
}

/// The calldata of `finalizeBatch(data, proof)`.
pub fn finalize_calldata(data: &[u8], proof: &SolProof) -> Bytes {
    KilnRollup::finalizeBatchCall {
        batchData: Bytes::copy_from_slice(data),
        a: proof.a,
        b: proof.b,
        c: proof.c,
    }
    .abi_encode()
    .into()
}

/// The contract's batches committed and proven.
#[derive(Clone, Copy, Debug)]
struct Progress {
    last_committed: u64,
    last_proven: u64,
}

/// One stored send.
struct Send {
    hash: B256,
    nonce: u64,
    raw: Bytes,
    max_fee: u128,
    priority_fee: u128,
    sent_at_ms: i64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

async fn sends_for(seq: &Sequencer, batch: u64) -> Result<Vec<Send>, L1Error> {
    let rows = sqlx::query("SELECT tx_hash, nonce, raw, max_fee, priority_fee, sent_at FROM l1_sends WHERE batch = ? ORDER BY sent_at")
        .bind(batch as i64)
        .fetch_all(seq.pool())
        .await?;
    rows.iter()
        .map(|r| {
            let text = |c: &str| -> Result<String, L1Error> { Ok(r.try_get::<String, _>(c)?) };
            let bad = |c: &str| L1Error::Config(format!("l1_sends: bad {c}"));
            Ok(Send {
                hash: text("tx_hash")?.parse().map_err(|_| bad("tx_hash"))?,
                nonce: r.try_get::<i64, _>("nonce")? as u64,
                raw: text("raw")?.parse().map_err(|_| bad("raw"))?,
                max_fee: text("max_fee")?.parse().map_err(|_| bad("max_fee"))?,
                priority_fee: text("priority_fee")?
                    .parse()
                    .map_err(|_| bad("priority_fee"))?,
                sent_at_ms: r.try_get("sent_at")?,
            })
        })
        .collect()
}

/// The submitter of one rollup contract, signing with `wallet` (the operator).
pub struct Submitter<P> {
    provider: P,
    wallet: EthereumWallet,
    operator: Address,
    seq: Arc<Sequencer>,
    cfg: SubmitterConfig,
    chain_id: Option<u64>,
}

/// What a step did.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing to send.
    Idle,
    /// Batch n's transaction was signed and broadcast (the first time, or replaced).
    Sent(u64),
    /// Batch n's stored transaction was broadcast again, or is waiting to be mined.
    Waiting(u64),
}

impl<P: Provider> Submitter<P> {
    /// A submitter over `provider`, signing with `wallet` whose address is `operator`.
    pub fn new(
        provider: P,
        wallet: EthereumWallet,
        operator: Address,
        seq: Arc<Sequencer>,
        cfg: SubmitterConfig,
    ) -> Self {
        Submitter {
            provider,
            wallet,
            operator,
            seq,
            cfg,
            chain_id: None,
        }
    }

    async fn progress(&self, block: Option<u64>) -> Result<Progress, L1Error> {
        let rollup = KilnRollup::new(self.cfg.rollup, &self.provider);
        let mut call = rollup.progress();
        if let Some(b) = block {
            call = call.block(BlockId::number(b));
        }
        let p = call
            .call()
            .await
            .map_err(|e| L1Error::rpc("read the rollup's progress", e))?;
        Ok(Progress {
            last_committed: p.lastCommitted,
            last_proven: p.lastProven,
        })
    }

    /// One step: marks what is final, then sends or re-sends the next batch.
    pub async fn step(&mut self) -> Result<Step, L1Error> {
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(|e| L1Error::rpc("eth_blockNumber", e))?;
        let latest = self.progress(None).await?;
        let deep = match head.checked_sub(self.cfg.confirmations) {
            Some(b) if self.cfg.confirmations > 0 => self.progress(Some(b)).await?.last_proven,
            Some(_) => latest.last_proven,
            None => 0,
        };
        if deep > 0 {
            let n = self.seq.record_finalized(deep).await?;
            if n > 0 {
                tracing::info!(target: crate::TARGET, up_to = deep, batches = n, "batches finalized on L1");
            }
        }
        if latest.last_committed > latest.last_proven {
            return Err(L1Error::Config(format!(
                "batches {}..={} are committed on L1 without proofs by someone else; kiln posts with finalizeBatch only",
                latest.last_proven + 1,
                latest.last_committed
            )));
        }
        let next = latest.last_proven + 1;
        let Some((data, proof)) = self.seq.proven_batch(next).await? else {
            return Ok(Step::Idle);
        };
        let sends = sends_for(&self.seq, next).await?;
        let Some(last) = sends.last() else {
            let nonce = self
                .provider
                .get_transaction_count(self.operator)
                .pending()
                .await
                .map_err(|e| L1Error::rpc("eth_getTransactionCount", e))?;
            self.sign_and_send(next, &data, &proof, nonce, None).await?;
            return Ok(Step::Sent(next));
        };
        for s in &sends {
            let receipt = self
                .provider
                .get_transaction_receipt(s.hash)
                .await
                .map_err(|e| L1Error::rpc("eth_getTransactionReceipt", e))?;
            if let Some(r) = receipt {
                if r.status() {
                    // Mined; the contract's progress shows it once the node's head has it.
                    return Ok(Step::Waiting(next));
                }
                return Err(L1Error::Reverted {
                    what: format!("finalizeBatch of batch {next} (transaction {})", s.hash),
                    reason: self.revert_reason(&data, &proof).await,
                });
            }
        }
        let mined_nonce = self
            .provider
            .get_transaction_count(self.operator)
            .await
            .map_err(|e| L1Error::rpc("eth_getTransactionCount", e))?;
        if mined_nonce > last.nonce {
            // The nonce went to another transaction of this key: sign afresh.
            self.sign_and_send(next, &data, &proof, mined_nonce, None)
                .await?;
            return Ok(Step::Sent(next));
        }
        if now_ms() - last.sent_at_ms >= self.cfg.bump_after.as_millis() as i64 {
            self.sign_and_send(
                next,
                &data,
                &proof,
                last.nonce,
                Some((last.max_fee, last.priority_fee)),
            )
            .await?;
            return Ok(Step::Sent(next));
        }
        // Broadcast again: harmless if the node has it, needed if a reorg or restart lost it.
        if let Err(e) = self.provider.send_raw_transaction(&last.raw).await {
            tracing::debug!(target: crate::TARGET, batch = next, error = %e, "re-broadcast refused (usually: already known)");
        }
        Ok(Step::Waiting(next))
    }

    /// Why `finalizeBatch(data, proof)` reverts now, as far as the node says.
    async fn revert_reason(&self, data: &[u8], proof: &str) -> String {
        let Ok(p) = sol_proof(proof) else {
            return "the stored proof does not parse".into();
        };
        let tx = TransactionRequest::default()
            .with_from(self.operator)
            .with_to(self.cfg.rollup)
            .with_input(finalize_calldata(data, &p));
        match self.provider.call(tx).await {
            Ok(_) => "it reverted when mined but not when called now".into(),
            Err(e) => e.to_string(),
        }
    }

    async fn sign_and_send(
        &mut self,
        batch: u64,
        data: &[u8],
        proof: &str,
        nonce: u64,
        replacing: Option<(u128, u128)>,
    ) -> Result<(), L1Error> {
        let chain_id = match self.chain_id {
            Some(c) => c,
            None => {
                let c = self
                    .provider
                    .get_chain_id()
                    .await
                    .map_err(|e| L1Error::rpc("eth_chainId", e))?;
                self.chain_id = Some(c);
                c
            }
        };
        let input = finalize_calldata(data, &sol_proof(proof)?);
        let request = TransactionRequest::default()
            .with_from(self.operator)
            .with_to(self.cfg.rollup)
            .with_input(input);
        // At the latest block: a pending one may hold this batch's earlier transaction.
        let gas = self
            .provider
            .estimate_gas(request.clone())
            .block(BlockId::latest())
            .await
            .map_err(|e| L1Error::Reverted {
                what: format!("finalizeBatch of batch {batch}"),
                reason: e.to_string(),
            })?;
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| L1Error::rpc("fee estimate", e))?;
        let (mut max_fee, mut priority) =
            (fees.max_fee_per_gas, fees.max_priority_fee_per_gas.max(1));
        if let Some((old_max, old_priority)) = replacing {
            // Replacement needs at least +10% on both; take +12.5%.
            max_fee = max_fee.max(old_max + old_max / 8 + 1);
            priority = priority.max(old_priority + old_priority / 8 + 1);
        }
        let request = request
            .with_nonce(nonce)
            .with_chain_id(chain_id)
            .with_gas_limit(gas + gas / 4 + 20_000)
            .with_max_fee_per_gas(max_fee)
            .with_max_priority_fee_per_gas(priority.min(max_fee));
        let envelope = request
            .build(&self.wallet)
            .await
            .map_err(|e| L1Error::Config(format!("cannot sign the batch transaction: {e}")))?;
        let hash = *envelope.tx_hash();
        let raw = Bytes::from(envelope.encoded_2718());
        sqlx::query("INSERT INTO l1_sends (tx_hash, batch, nonce, raw, max_fee, priority_fee, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(hash.to_string())
            .bind(batch as i64)
            .bind(nonce as i64)
            .bind(raw.to_string())
            .bind(max_fee.to_string())
            .bind(priority.to_string())
            .bind(now_ms())
            .execute(self.seq.pool())
            .await?;
        tracing::info!(target: crate::TARGET, batch, nonce, %hash, max_fee, replacing = replacing.is_some(), "batch transaction sent");
        // A failed broadcast is retried from the stored transaction at the next step.
        self.provider
            .send_raw_transaction(&raw)
            .await
            .map(|_| ())
            .map_err(|e| L1Error::rpc("eth_sendRawTransaction", e))
    }

    /// Runs for ever: a step per poll; errors are logged and retried with backoff (30 s
    /// at most), so an L1 node that is down loses nothing.
    pub async fn run(mut self) {
        let mut backoff = self.cfg.poll;
        loop {
            match self.step().await {
                Ok(Step::Sent(_)) => {
                    backoff = self.cfg.poll;
                    continue;
                }
                Ok(_) => backoff = self.cfg.poll,
                Err(e) => {
                    tracing::warn!(target: crate::TARGET, error = %e, retry_in_ms = backoff.as_millis() as u64, "batch submission");
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
            tokio::time::sleep(backoff).await;
        }
    }
}
