//! The rollup's data as L1 holds it: the batch data (docs/rollup.md, "Batch data") of every
//! proven batch, read back from the transactions that committed them, so the state can be
//! rebuilt from L1 alone (`kiln rollup reconstruct --l1-rpc`).
//!
//! The contract keeps only hashes; the data is the `batchData` argument of the
//! `finalizeBatch(bytes,uint256[2],uint256[2][2],uint256[2])` or `submitStateRoot(bytes)`
//! transaction that committed each batch. The contract's `BatchCommitted`,
//! `BatchProven` and `BatchesReverted` events, read from the deployment's block on, say
//! which transaction that is: for each batch number, its last commit that no later
//! `BatchesReverted` undid. Everything is read as of one block (the head when the read
//! starts), so a batch proven meanwhile does not mix two views of the chain.
//!
//! Only transactions that call the rollup contract directly are read (kiln's submitter
//! sends those). A batch committed by a call through another contract (a multisig, a
//! batching contract) is reported as an error naming its transaction, not followed.

use std::collections::BTreeMap;

use alloy::eips::BlockId;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, Log, TransactionTrait};
use alloy::sol_types::{SolCall, SolEvent};

use crate::artifacts::KilnRollup;
use crate::deploy::Deployment;
use crate::L1Error;

/// Most blocks asked for in one `eth_getLogs`.
const SPAN: u64 = 2_000;

/// One proven batch's data and where it was posted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBatch {
    /// The batch number.
    pub number: u64,
    /// The transaction that committed it.
    pub tx_hash: B256,
    /// The block of that transaction.
    pub block: u64,
    /// Its batch data (docs/rollup.md), as posted.
    pub data: Vec<u8>,
}

/// The rollup's proven batches as L1 holds them at one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainData {
    /// The block everything was read at.
    pub block: u64,
    /// Batches 1..=lastProven, in order.
    pub batches: Vec<ChainBatch>,
    /// The contract's `provenStateRoot()` at that block (the genesis root before any proof).
    pub proven_state_root: U256,
}

/// The data of batches 1..=lastProven of the deployment's contract, in order.
pub async fn proven_batch_data<P: Provider>(
    provider: &P,
    deployment: &Deployment,
) -> Result<Vec<Vec<u8>>, L1Error> {
    Ok(read_proven(provider, deployment)
        .await?
        .batches
        .into_iter()
        .map(|b| b.data)
        .collect())
}

/// A commit seen in the events: which transaction, in which block.
#[derive(Clone, Copy, Debug)]
struct Commit {
    tx_hash: B256,
    block: u64,
    state_root: U256,
}

/// Reads the proven batches' data, the contract's proven state root and the block they
/// were read at. Checks first that the deployment's contract is on this chain.
pub async fn read_proven<P: Provider>(
    provider: &P,
    deployment: &Deployment,
) -> Result<ChainData, L1Error> {
    let chain = provider
        .get_chain_id()
        .await
        .map_err(|e| L1Error::rpc("eth_chainId", e))?;
    if chain != deployment.l1_chain_id {
        return Err(L1Error::Config(format!(
            "the deployment is on L1 chain {}, but the node serves chain {chain}",
            deployment.l1_chain_id
        )));
    }
    let head = provider
        .get_block_number()
        .await
        .map_err(|e| L1Error::rpc("eth_blockNumber", e))?;
    let at = BlockId::number(head);
    let code = provider
        .get_code_at(deployment.rollup)
        .block_id(at)
        .await
        .map_err(|e| L1Error::rpc("eth_getCode", e))?;
    if code.is_empty() || deployment.block > head {
        return Err(L1Error::Config(format!(
            "no rollup contract at {} on L1 chain {chain} (block {head}): is it the chain the deployment was made on?",
            deployment.rollup
        )));
    }
    let rollup = KilnRollup::new(deployment.rollup, provider);
    let progress = rollup
        .progress()
        .block(at)
        .call()
        .await
        .map_err(|e| L1Error::rpc("read the rollup's progress", e))?;
    let proven_state_root = rollup
        .provenStateRoot()
        .block(at)
        .call()
        .await
        .map_err(|e| L1Error::rpc("read the rollup's proven state root", e))?;
    let last_proven = progress.lastProven;

    let commits = commits(provider, deployment.rollup, deployment.block, head).await?;
    let mut batches = Vec::with_capacity(last_proven as usize);
    for n in 1..=last_proven {
        let Some(commit) = commits.get(&n) else {
            return Err(L1Error::Config(format!(
                "the contract has proven batch {n}, but no BatchCommitted event of it stands between blocks {} and {head}",
                deployment.block
            )));
        };
        let data = commit_data(provider, deployment.rollup, n, commit).await?;
        batches.push(ChainBatch {
            number: n,
            tx_hash: commit.tx_hash,
            block: commit.block,
            data,
        });
    }
    Ok(ChainData {
        block: head,
        batches,
        proven_state_root,
    })
}

/// For each batch number, the last commit of it that no later `BatchesReverted` undid,
/// from the contract's events in blocks `from..=to`.
async fn commits<P: Provider>(
    provider: &P,
    rollup: Address,
    from: u64,
    to: u64,
) -> Result<BTreeMap<u64, Commit>, L1Error> {
    let mut logs: Vec<Log> = Vec::new();
    let mut start = from;
    while start <= to {
        let end = to.min(start + SPAN - 1);
        let filter = Filter::new()
            .address(rollup)
            .event_signature(vec![
                KilnRollup::BatchCommitted::SIGNATURE_HASH,
                KilnRollup::BatchProven::SIGNATURE_HASH,
                KilnRollup::BatchesReverted::SIGNATURE_HASH,
            ])
            .from_block(start)
            .to_block(end);
        logs.extend(
            provider
                .get_logs(&filter)
                .await
                .map_err(|e| L1Error::rpc("eth_getLogs", e))?
                .into_iter()
                .filter(|l| !l.removed),
        );
        start = end + 1;
    }
    logs.sort_by_key(|l| (l.block_number, l.log_index));

    let bad = |what: &str, e: alloy::sol_types::Error| {
        L1Error::Config(format!("a {what} event does not decode: {e}"))
    };
    let mut commits = BTreeMap::new();
    for log in &logs {
        match log.topic0() {
            Some(&KilnRollup::BatchCommitted::SIGNATURE_HASH) => {
                let e = KilnRollup::BatchCommitted::decode_log_data(log.data())
                    .map_err(|e| bad("BatchCommitted", e))?;
                let n = batch_number(e.batchNumber)?;
                let tx_hash = log.transaction_hash.ok_or_else(|| {
                    L1Error::Config(format!(
                        "the L1 node gave a BatchCommitted event of batch {n} without its transaction"
                    ))
                })?;
                commits.insert(
                    n,
                    Commit {
                        tx_hash,
                        block: log.block_number.unwrap_or_default(),
                        state_root: e.stateRoot,
                    },
                );
            }
            Some(&KilnRollup::BatchesReverted::SIGNATURE_HASH) => {
                let e = KilnRollup::BatchesReverted::decode_log_data(log.data())
                    .map_err(|e| bad("BatchesReverted", e))?;
                let (first, last) = (batch_number(e.fromBatch)?, batch_number(e.toBatch)?);
                commits.retain(|&n, _| n < first || n > last);
            }
            // A proof changes no data; `progress()` says how far they go.
            _ => {}
        }
    }
    Ok(commits)
}

fn batch_number(n: U256) -> Result<u64, L1Error> {
    u64::try_from(n)
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| L1Error::Config(format!("an event names batch {n}, which cannot be")))
}

/// The batch data of batch `n`, from its committing transaction's input.
async fn commit_data<P: Provider>(
    provider: &P,
    rollup: Address,
    n: u64,
    commit: &Commit,
) -> Result<Vec<u8>, L1Error> {
    let hash = commit.tx_hash;
    let tx = provider
        .get_transaction_by_hash(hash)
        .await
        .map_err(|e| L1Error::rpc(&format!("eth_getTransactionByHash {hash}"), e))?
        .ok_or_else(|| {
            L1Error::Config(format!(
                "batch {n}: the L1 node does not have its transaction {hash}"
            ))
        })?;
    let input = TransactionTrait::input(&tx);
    let not_direct = || {
        L1Error::Config(format!(
            "batch {n} was committed by transaction {hash}, which does not call finalizeBatch or submitStateRoot of {rollup} directly: batch data is read from direct calls only (calls through other contracts are not followed)"
        ))
    };
    if TransactionTrait::to(&tx) != Some(rollup) {
        return Err(not_direct());
    }
    let data = if let Ok(call) = KilnRollup::finalizeBatchCall::abi_decode(input) {
        call.batchData
    } else if let Ok(call) = KilnRollup::submitStateRootCall::abi_decode(input) {
        call.batchData
    } else {
        return Err(not_direct());
    };
    // The header (docs/rollup.md): chain id (8), number (8), old root (32), new root (32).
    let number = data
        .get(8..16)
        .map(|b| u64::from_be_bytes(b.try_into().expect("8 bytes")));
    let new_root = data.get(48..80).map(U256::from_be_slice);
    if number != Some(n) || new_root != Some(commit.state_root) {
        return Err(L1Error::Config(format!(
            "batch {n}: the data of transaction {hash} is not the batch its BatchCommitted event names (number {number:?}, new root {new_root:?})"
        )));
    }
    Ok(data.to_vec())
}
