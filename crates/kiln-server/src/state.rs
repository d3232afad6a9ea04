//! What every request handler and background task of the server shares: settings, the
//! store, the job queue, the device, resident keys and metrics. The job runner and the
//! webhook sender get only the handles they use ([`AppState::runner`],
//! [`AppState::deliverer`]).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Mutex, Notify, Semaphore};

use crate::config::ServeConfig;
use crate::metrics::Metrics;
use kiln_jobs::devices::ProvingDevice;
use kiln_jobs::handoff::WitnessHandoff;
use kiln_jobs::keycache::KeyCache;
use kiln_jobs::queue::JobQueue;
use kiln_jobs::runner::Runner;
use kiln_jobs::stop::StopGate;
use kiln_jobs::webhook::Deliverer;
use kiln_store::{DataDirs, Store};

/// The daemon's shared state.
pub struct AppState {
    /// Settings.
    pub cfg: ServeConfig,
    /// Files.
    pub dirs: DataDirs,
    /// Durable state.
    pub store: Arc<dyn Store>,
    /// sha256 hex of the admin key.
    pub admin_key_hash: String,
    /// Queue, running jobs, watchers.
    pub queue: Arc<JobQueue>,
    /// The proving device.
    pub device: Arc<ProvingDevice>,
    /// Resident proving keys.
    pub keys: Arc<KeyCache>,
    /// Witnesses of queued jobs, handed to the prover in memory.
    pub handoff: Arc<WitnessHandoff>,
    /// Bounds the request bodies submissions hold in memory at once (KiB permits; see
    /// `api::intake`).
    pub intake: Arc<Semaphore>,
    /// Counters and histograms.
    pub metrics: Metrics,
    /// Serializes quota checks with the inserts they guard (and circuit deletion).
    pub submit_lock: Mutex<()>,
    /// Wakes the webhook sender.
    pub webhook_wake: Arc<Notify>,
    /// Set once recovery is done and the workers run.
    pub ready: AtomicBool,
    /// The orderly stop: no job starts after it begins, long-polls answer at once.
    pub stop: Arc<StopGate>,
    /// Process start.
    pub started: Instant,
    /// The rollup, when it runs (`--rollup`).
    pub rollup: Option<crate::api::rollup::Rollup>,
}

impl AppState {
    /// How long an idempotency key stays bound to its jobs, in milliseconds.
    pub fn idempotency_ttl_ms(&self) -> i64 {
        (self.cfg.idempotency_ttl_hours as i64).saturating_mul(3_600_000)
    }

    /// The handles running jobs takes.
    pub fn runner(&self) -> Runner {
        Runner {
            store: self.store.clone(),
            queue: self.queue.clone(),
            keys: self.keys.clone(),
            device: self.device.clone(),
            dirs: self.dirs.clone(),
            handoff: self.handoff.clone(),
            metrics: self.metrics.jobs.clone(),
            webhooks: self.webhook_wake.clone(),
            stop: self.stop.clone(),
            workers: self.cfg.workers,
        }
    }

    /// The handles delivering webhooks takes.
    pub fn deliverer(&self) -> Deliverer {
        Deliverer {
            store: self.store.clone(),
            wake: self.webhook_wake.clone(),
            metrics: self.metrics.jobs.clone(),
            deny_private: self.cfg.webhook_deny_private,
            attempts: self.cfg.webhook_attempts,
            backoff_ms: self.cfg.webhook_backoff_ms,
        }
    }
}
