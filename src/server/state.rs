//! What every request handler and background task shares: settings, the store, the
//! scheduler, the device, resident keys and metrics.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Mutex, Notify, RwLock, Semaphore};

use super::config::ServeConfig;
use super::metrics::Metrics;
use crate::jobs::devices::ProvingDevice;
use crate::jobs::handoff::WitnessHandoff;
use crate::jobs::keycache::KeyCache;
use crate::jobs::scheduler::Scheduler;
use crate::store::Store;

/// Where the daemon keeps its files under `--data-dir`.
#[derive(Clone, Debug)]
pub struct DataDirs {
    /// The data dir itself.
    pub root: PathBuf,
    /// Accepted proving keys, `<sha256>.zkey`.
    pub circuits: PathBuf,
    /// Witnesses of unfinished jobs, `<job id>.wtns`.
    pub witnesses: PathBuf,
    /// Uploads in progress.
    pub tmp: PathBuf,
}

impl DataDirs {
    /// The layout under `root`.
    pub fn new(root: PathBuf) -> Self {
        DataDirs {
            circuits: root.join("circuits"),
            witnesses: root.join("witnesses"),
            tmp: root.join("tmp"),
            root,
        }
    }

    /// The stored zkey of circuit `id` (a sha256 hex).
    pub fn zkey(&self, id: &str) -> PathBuf {
        self.circuits.join(format!("{id}.zkey"))
    }

    /// The stored witness of job `id`.
    pub fn witness(&self, id: &str) -> PathBuf {
        self.witnesses.join(format!("{id}.wtns"))
    }
}

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
    pub sched: Scheduler,
    /// The proving device.
    pub device: ProvingDevice,
    /// Resident proving keys.
    pub keys: KeyCache,
    /// Witnesses of queued jobs, handed to the prover in memory.
    pub handoff: WitnessHandoff,
    /// Bounds the request bodies submissions hold in memory at once (KiB permits; see
    /// `api::intake`).
    pub intake: Arc<Semaphore>,
    /// Counters and histograms.
    pub metrics: Metrics,
    /// Serializes quota checks with the inserts they guard (and circuit deletion).
    pub submit_lock: Mutex<()>,
    /// Wakes the webhook sender.
    pub webhook_wake: Notify,
    /// Set once recovery is done and the workers run.
    pub ready: AtomicBool,
    /// Set when an orderly stop begins: no job starts after it, long-polls answer at once.
    pub stopping: AtomicBool,
    /// Held (read) while a job's start is recorded; an orderly stop takes it (write) before
    /// it puts running jobs back in the queue, so no start lands after that.
    pub marks: RwLock<()>,
    /// Process start.
    pub started: Instant,
}

impl AppState {
    /// How long an idempotency key stays bound to its jobs, in milliseconds.
    pub fn idempotency_ttl_ms(&self) -> i64 {
        (self.cfg.idempotency_ttl_hours as i64).saturating_mul(3_600_000)
    }
}
