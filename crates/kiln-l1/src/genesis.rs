//! What the rollup contract is deployed with from a genesis: its state root, the first
//! index L1 deposits may create, and the ETH that backs the genesis's balances.

use alloy::primitives::U256;
use kiln_rollup::ledger::{Genesis, Ledger};

use crate::L1Error;

/// The contract's view of a genesis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisFacts {
    /// The rollup's chain id.
    pub chain_id: u64,
    /// The genesis state root.
    pub root: U256,
    /// One past the largest genesis index (1 for an empty genesis).
    pub first_free_account: u64,
    /// The sum of the genesis's ETH (token 0) balances, in wei.
    pub eth: U256,
}

/// Reads a genesis document. Balances of tokens other than ETH cannot be backed on L1 by
/// the deployment, so a genesis with any is refused.
pub fn genesis_facts(text: &str) -> Result<GenesisFacts, L1Error> {
    let g: Genesis = serde_json::from_str(text)
        .map_err(|e| L1Error::Config(format!("not a genesis document: {e}")))?;
    let mut ledger = Ledger::from_genesis(&g).map_err(|e| L1Error::Config(e.to_string()))?;
    let mut first_free = 1u64;
    let mut eth = U256::ZERO;
    for (index, a) in ledger.accounts() {
        first_free = first_free.max(u64::from(index) + 1);
        if a.token == 0 {
            eth += U256::from(a.balance);
        } else if a.balance > 0 {
            return Err(L1Error::Config(format!(
                "genesis account {index} holds {} of token {}: with an L1, genesis balances must be ETH (the deployment backs them) or 0; deposit tokens through the bridge instead",
                a.balance, a.token
            )));
        }
    }
    let root = U256::from_be_bytes(kiln_rollup::batchdata::fr_bytes(&ledger.root()));
    Ok(GenesisFacts {
        chain_id: g.chain_id,
        root,
        first_free_account: first_free,
        eth,
    })
}
