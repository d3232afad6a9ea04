//! Deploying the rollup's contracts: circomlib's Poseidon contracts of 3, 4 and 6 inputs,
//! the batch circuit's verifier (the compiled template patched with the key), and the
//! rollup contract over them. The result is a [`Deployment`], which the appliance keeps
//! as JSON (`l1-deployment.json` in its data dir, or where `kiln rollup deploy` writes it).

use std::path::Path;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use serde::{Deserialize, Serialize};

use kiln_algebra::curve::Bn254;
use kiln_groth16::types::VerifyingKey;

use crate::artifacts::{poseidon, verifier_bytecode, KilnRollup};
use crate::L1Error;

/// What the rollup contract is deployed with.
#[derive(Clone, Debug)]
pub struct DeployConfig {
    /// The rollup's chain id (the transactions' `chainId`).
    pub rollup_chain_id: u64,
    /// Transactions per batch (the batch circuit's N).
    pub batch_size: usize,
    /// The genesis state root.
    pub genesis_root: U256,
    /// The first account index that L1 deposits to a public key create.
    pub first_free_account: u64,
    /// Seconds a committed batch has to be proven.
    pub proof_deadline_s: u64,
    /// Seconds a queued L1 operation has to be included by a proven batch.
    pub inclusion_deadline_s: u64,
    /// Longest guardian pause, in seconds.
    pub max_pause_s: u64,
    /// The operator (who commits batches: the submitter's address).
    pub operator: Address,
    /// The guardian (who may pause).
    pub guardian: Address,
    /// Wei sent with the deployment: it backs the genesis's ETH balances.
    pub genesis_eth: U256,
}

/// The deployed contracts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The L1's chain id (Ethereum's, not the rollup's).
    pub l1_chain_id: u64,
    /// The rollup contract.
    pub rollup: Address,
    /// The batch verifier.
    pub verifier: Address,
    /// Poseidon of 3, 4 and 6 inputs.
    pub poseidon: [Address; 3],
    /// The block the rollup contract was deployed in (the follower starts there).
    pub block: u64,
    /// The rollup's chain id.
    pub rollup_chain_id: u64,
    /// Transactions per batch.
    pub batch_size: usize,
}

impl Deployment {
    /// Reads a deployment written by [`Deployment::save`].
    pub fn load(path: &Path) -> Result<Self, L1Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| L1Error::Config(format!("{}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| {
            L1Error::Config(format!("{}: not a kiln L1 deployment: {e}", path.display()))
        })
    }

    /// Writes the deployment as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<(), L1Error> {
        let text = serde_json::to_string_pretty(self).expect("a deployment serializes") + "\n";
        kiln_formats::atomic::write_atomically(path, |w| {
            std::io::Write::write_all(w, text.as_bytes())
        })
        .map_err(|e| L1Error::Config(format!("{}: {e}", path.display())))
    }
}

/// Deploys `code` from the provider's wallet; returns the new contract's address and block.
async fn create<P: Provider>(
    provider: &P,
    what: &str,
    code: Bytes,
) -> Result<(Address, u64), L1Error> {
    let tx = TransactionRequest::default().with_deploy_code(code);
    let receipt = provider
        .send_transaction(tx)
        .await
        .map_err(|e| L1Error::rpc(what, e))?
        .get_receipt()
        .await
        .map_err(|e| L1Error::rpc(what, e))?;
    if !receipt.status() {
        return Err(L1Error::Reverted {
            what: what.to_string(),
            reason: "the deployment reverted".into(),
        });
    }
    let address = receipt.contract_address.ok_or_else(|| L1Error::Reverted {
        what: what.to_string(),
        reason: "no contract address in the receipt".into(),
    })?;
    Ok((address, receipt.block_number.unwrap_or_default()))
}

/// Deploys the rollup for the batch circuit's key `vk` with `cfg`, from the provider's
/// wallet (which pays for it).
pub async fn deploy<P: Provider>(
    provider: &P,
    vk: &VerifyingKey<Bn254>,
    cfg: &DeployConfig,
) -> Result<Deployment, L1Error> {
    let l1_chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| L1Error::rpc("eth_chainId", e))?;
    let code = verifier_bytecode(vk).map_err(|e| L1Error::Config(e.to_string()))?;
    let (verifier, _) = create(provider, "deploy the batch verifier", code).await?;
    let mut hashes = [Address::ZERO; 3];
    for (slot, n) in hashes.iter_mut().zip([3, 4, 6]) {
        *slot = create(
            provider,
            &format!("deploy Poseidon{n}"),
            poseidon(n).bytecode,
        )
        .await?
        .0;
    }
    let config = KilnRollup::Config {
        verifier,
        poseidon3: hashes[0],
        poseidon4: hashes[1],
        poseidon6: hashes[2],
        rollupChainId: U256::from(cfg.rollup_chain_id),
        batchSize: U256::from(cfg.batch_size),
        genesisRoot: cfg.genesis_root,
        firstFreeAccount: U256::from(cfg.first_free_account),
        proofDeadline: U256::from(cfg.proof_deadline_s),
        inclusionDeadline: U256::from(cfg.inclusion_deadline_s),
        maxPause: U256::from(cfg.max_pause_s),
        operator: cfg.operator,
        guardian: cfg.guardian,
    };
    let mut code = KilnRollup::BYTECODE.to_vec();
    code.extend_from_slice(&alloy::sol_types::SolValue::abi_encode(&config));
    let tx = TransactionRequest::default()
        .with_deploy_code(Bytes::from(code))
        .with_value(cfg.genesis_eth);
    let receipt = provider
        .send_transaction(tx)
        .await
        .map_err(|e| L1Error::rpc("deploy the rollup contract", e))?
        .get_receipt()
        .await
        .map_err(|e| L1Error::rpc("deploy the rollup contract", e))?;
    let (Some(rollup), true) = (receipt.contract_address, receipt.status()) else {
        return Err(L1Error::Reverted {
            what: "deploy the rollup contract".into(),
            reason: "the constructor reverted (check the genesis root and settings)".into(),
        });
    };
    tracing::info!(target: crate::TARGET, %rollup, %verifier, "rollup contracts deployed");
    Ok(Deployment {
        l1_chain_id,
        rollup,
        verifier,
        poseidon: hashes,
        block: receipt.block_number.unwrap_or_default(),
        rollup_chain_id: cfg.rollup_chain_id,
        batch_size: cfg.batch_size,
    })
}
