//! The L1 side of a running appliance: connect to the L1, find or make the deployment, and
//! run the follower and the submitter.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use alloy::network::EthereumWallet;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;

use kiln_algebra::curve::Bn254;
use kiln_formats::json::VerificationKeyJson;
use kiln_groth16::snarkjs::vk_from_json;
use kiln_groth16::types::VerifyingKey;
use kiln_sequencer::Sequencer;

use crate::deploy::{deploy, DeployConfig, Deployment};
use crate::follower::{self, FollowerConfig};
use crate::genesis::genesis_facts;
use crate::submitter::{Submitter, SubmitterConfig};
use crate::L1Error;

/// The L1 settings of `kiln serve --rollup`.
#[derive(Clone, Debug)]
pub struct L1Settings {
    /// The L1's JSON-RPC URL.
    pub url: String,
    /// The operator's private key (hex).
    pub private_key: String,
    /// The deployment record: read if it exists, written after deploying otherwise.
    pub deployment_file: PathBuf,
    /// Blocks under which L1 events are followed and batches count as finalized.
    pub confirmations: u64,
    /// Time between polls of the L1.
    pub poll: Duration,
    /// A batch transaction not mined after this long is replaced with higher fees.
    pub bump_after: Duration,
    /// For a deployment: seconds a committed batch has to be proven.
    pub proof_deadline_s: u64,
    /// For a deployment: seconds a queued L1 operation has to be included.
    pub inclusion_deadline_s: u64,
    /// For a deployment: the longest guardian pause, in seconds.
    pub max_pause_s: u64,
}

/// The batch circuit's verification key once the appliance has recorded it (the
/// development key is made at the first start, concurrently).
async fn wait_for_vk(seq: &Sequencer, batch_size: usize) -> Result<VerifyingKey<Bn254>, L1Error> {
    loop {
        if let Some(k) = seq.key_for(batch_size).await? {
            let j: VerificationKeyJson = serde_json::from_value(k.vk)
                .map_err(|e| L1Error::Config(format!("the recorded verification key: {e}")))?;
            return vk_from_json(&j)
                .map_err(|e| L1Error::Config(format!("the recorded verification key: {e}")));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Connects, loads or makes the deployment (checking that it is this rollup's on this
/// chain), then spawns the follower and the submitter. Returns the deployment.
pub async fn start(
    settings: L1Settings,
    seq: Arc<Sequencer>,
    genesis_text: &str,
    batch_size: usize,
) -> Result<Deployment, L1Error> {
    let signer = PrivateKeySigner::from_str(settings.private_key.trim())
        .map_err(|e| L1Error::Config(format!("the L1 private key: {e}")))?;
    let operator = signer.address();
    let wallet = EthereumWallet::from(signer);
    let url = settings
        .url
        .parse()
        .map_err(|e| L1Error::Config(format!("--l1-rpc {}: {e}", settings.url)))?;
    let provider = ProviderBuilder::new()
        .wallet(wallet.clone())
        .connect_http(url);
    let facts = genesis_facts(genesis_text)?;
    let chain = provider
        .get_chain_id()
        .await
        .map_err(|e| L1Error::rpc("eth_chainId", e))?;
    let deployment = if settings.deployment_file.exists() {
        let d = Deployment::load(&settings.deployment_file)?;
        let code = provider
            .get_code_at(d.rollup)
            .await
            .map_err(|e| L1Error::rpc("eth_getCode", e))?;
        if d.l1_chain_id != chain || code.is_empty() {
            return Err(L1Error::Config(format!(
                "{}: the rollup contract {} is not on the L1 at {} (chain {chain}); give the chain it was deployed on, or another --data-dir",
                settings.deployment_file.display(),
                d.rollup,
                settings.url
            )));
        }
        if d.rollup_chain_id != facts.chain_id || d.batch_size != batch_size {
            return Err(L1Error::Config(format!(
                "{}: deployed for rollup chain {} with batch size {}, not {} with {}",
                settings.deployment_file.display(),
                d.rollup_chain_id,
                d.batch_size,
                facts.chain_id,
                batch_size
            )));
        }
        d
    } else {
        let vk = wait_for_vk(&seq, batch_size).await?;
        let cfg = DeployConfig {
            rollup_chain_id: facts.chain_id,
            batch_size,
            genesis_root: facts.root,
            first_free_account: facts.first_free_account,
            proof_deadline_s: settings.proof_deadline_s,
            inclusion_deadline_s: settings.inclusion_deadline_s,
            max_pause_s: settings.max_pause_s,
            operator,
            guardian: operator,
            genesis_eth: facts.eth,
        };
        let d = deploy(&provider, &vk, &cfg).await?;
        d.save(&settings.deployment_file)?;
        d
    };
    tracing::info!(target: crate::TARGET, rollup = %deployment.rollup, l1 = %settings.url, "rollup on L1");
    tokio::spawn(follower::run(
        provider.clone(),
        seq.clone(),
        FollowerConfig {
            rollup: deployment.rollup,
            from_block: deployment.block,
            confirmations: settings.confirmations,
            poll: settings.poll,
        },
    ));
    let submitter = Submitter::new(
        provider,
        wallet,
        operator,
        seq,
        SubmitterConfig {
            rollup: deployment.rollup,
            confirmations: settings.confirmations,
            poll: settings.poll,
            bump_after: settings.bump_after,
        },
    );
    tokio::spawn(submitter.run());
    Ok(deployment)
}
