//! Proof jobs for `kiln serve`: the live queue, the dispatcher and the prover threads,
//! resident proving keys, witness intake, Solidity calldata, and webhook delivery. Each
//! part takes the narrow handles it uses (store, queue, keys, device, signer), never the
//! server's whole state, so the server and the rollup can both run jobs through it.
//!
//! - [`fair_queue`]: which waiting job runs next (priority, age, fairness across tenants).
//! - [`queue`]: the live job queue, running set, cancellations and long-poll wake-ups.
//! - [`runner`]: dispatches jobs to blocking prover threads and records outcomes.
//! - [`stop`]: the orderly stop's gate on job starts.
//! - [`handoff`]: accepted witnesses passed to the prover in memory.
//! - [`keycache`]: proving keys resident on the device, reused across jobs.
//! - [`devices`]: the proving device and its inventory counters.
//! - [`witness`]: `.wtns` and JSON witnesses, checked before a job is accepted.
//! - [`calldata`]: snarkjs's `soliditycalldata` string.
//! - [`view`]: a job as the API and its webhooks show it.
//! - [`webhook`]: signed, retried, persisted webhook deliveries.
//! - [`metrics`]: the jobs' Prometheus metrics.

pub mod calldata;
pub mod devices;
pub mod fair_queue;
pub mod handoff;
pub mod keycache;
pub mod metrics;
pub mod queue;
pub mod runner;
pub mod stop;
pub mod view;
pub mod webhook;
pub mod witness;

/// The `tracing` target of this crate's events: `RUST_LOG=kiln::jobs=debug` shows them alone.
pub(crate) const TARGET: &str = "kiln::jobs";
