//! kiln's rollup on Ethereum (docs/rollup.md, "L1"): the contracts' artifacts and bindings,
//! their deployment, the follower that feeds L1 deposits and forced exits to the sequencer,
//! and the submitter that posts proven batches.
//!
//! - [`anvil`]: a development L1 the appliance starts itself.
//! - [`artifacts`]: the committed build of `contracts/`, the bindings, the verifier template.
//! - [`chain_data`]: the proven batches' data read back from L1 (the committing
//!   transactions' `batchData`), to rebuild the state from L1 alone.
//! - [`deploy`]: deploying the contracts; the [`deploy::Deployment`] record.
//! - [`follower`]: the contract's L1 queue, followed at a confirmation depth, into the
//!   sequencer's queue (each position once).
//! - [`genesis`]: what the contract is deployed with from a genesis.
//! - [`node`]: the L1 side of a running appliance (deployment, follower, submitter).
//! - [`submitter`]: proven batches to L1 in order, each signed once and re-sent (same
//!   nonce, bumped fees) until it is in; `finalized` once it is deep enough.

pub mod anvil;
pub mod artifacts;
pub mod chain_data;
pub mod deploy;
pub mod follower;
pub mod genesis;
pub mod node;
pub mod submitter;

/// The `tracing` target of the L1 side.
pub const TARGET: &str = "kiln::l1";

/// What went wrong on the L1 side.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// The L1 node did not answer, or answered an error.
    #[error("L1 node: {what}: {message}")]
    Rpc {
        /// What was being done.
        what: String,
        /// The node's or the transport's error.
        message: String,
    },
    /// A transaction reverted.
    #[error("L1: {what}: reverted: {reason}")]
    Reverted {
        /// What was being done.
        what: String,
        /// The revert reason, as far as known.
        reason: String,
    },
    /// A setting or a record is wrong.
    #[error("{0}")]
    Config(String),
    /// The rollup's database.
    #[error("rollup database: {0}")]
    Db(#[from] sqlx::Error),
}

impl L1Error {
    /// An RPC failure while doing `what`.
    pub fn rpc(what: &str, e: impl std::fmt::Display) -> Self {
        L1Error::Rpc {
            what: what.to_string(),
            message: e.to_string(),
        }
    }
}
