//! `kiln serve`: the multi-tenant REST control plane of the appliance.
//!
//! Modules, each importing only those listed before it:
//! - [`config`]: settings from flags, `KILN_*` variables and a TOML file;
//! - [`secrets`]: API keys, their stored hashes and comparison;
//! - [`metrics`]: the Prometheus registry;
//! - [`state`]: what request handlers and background tasks share ([`state::AppState`]);
//! - [`api`]: the REST routes (warp) and their OpenAPI document;
//! - [`daemon`]: start-up, recovery, serving and the orderly stop ([`run`]).
//!
//! Durable state is `kiln-store`; proof jobs (queue, runner, webhooks) are `kiln-jobs`.

#![recursion_limit = "512"]

pub mod api;
pub mod config;
pub mod daemon;
pub mod metrics;
pub mod rollup_prover;
pub mod secrets;
pub mod state;

/// The `tracing` target of this crate's events: `RUST_LOG=kiln::server=debug` shows them alone.
pub(crate) const TARGET: &str = "kiln::server";

pub use config::{ConfigError, ServeArgs, ServeConfig};
pub use daemon::{run, ServeError};
