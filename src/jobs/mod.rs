//! Proof jobs: the fair queue, the scheduler state, the dispatcher and the prover threads,
//! resident proving keys, witness intake, Solidity calldata, and webhook delivery.
//!
//! - [`queue`]: priority, then age, fair across tenants (pure data structure).
//! - [`scheduler`]: the live queue, running set, cancellations and long-poll wake-ups.
//! - [`runner`]: dispatches jobs to blocking prover threads and records outcomes.
//! - [`handoff`]: accepted witnesses passed to the prover in memory.
//! - [`keycache`]: proving keys resident on the device, reused across jobs.
//! - [`devices`]: the proving device and its inventory counters.
//! - [`witness`]: `.wtns` and JSON witnesses, checked before a job is accepted.
//! - [`calldata`]: snarkjs's `soliditycalldata` string.
//! - [`webhook`]: signed, retried, persisted webhook deliveries.

pub mod calldata;
pub mod devices;
pub mod handoff;
pub mod keycache;
pub mod queue;
pub mod runner;
pub mod scheduler;
pub mod webhook;
pub mod witness;
