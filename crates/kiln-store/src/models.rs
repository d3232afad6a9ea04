//! The rows the store keeps, as plain Rust values shared by every backend.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A job's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Accepted and waiting for a device.
    Queued,
    /// Being proved.
    Running,
    /// Proved; the proof verified.
    Succeeded,
    /// Could not be proved (the error says why).
    Failed,
    /// Cancelled by its tenant.
    Cancelled,
}

impl JobStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ];

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Whether the job has ended.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!("unknown job status {s:?}: expected queued, running, succeeded, failed or cancelled")
            })
    }
}

/// Per-tenant limits; `None` means the server default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    /// Jobs waiting in the queue.
    pub max_queued_jobs: Option<u64>,
    /// Unfinished jobs (queued + running).
    pub max_concurrent_jobs: Option<u64>,
    /// Bytes of stored proving keys.
    pub max_stored_bytes: Option<u64>,
}

/// A customer of the appliance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    /// Its id (UUID).
    pub id: String,
    /// A display name.
    pub name: String,
    /// Creation time (Unix ms).
    pub created_at: i64,
    /// The secret its webhooks are signed with.
    pub webhook_secret: String,
    /// Its quotas.
    pub quotas: Quotas,
}

/// An API key (the stored part: never the key itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// Its id (UUID), used to revoke it.
    pub id: String,
    /// The tenant it authenticates.
    pub tenant_id: String,
    /// sha256 hex of the key.
    #[serde(skip)]
    pub key_hash: String,
    /// The key's first characters.
    pub prefix: String,
    /// An optional label.
    pub label: Option<String>,
    /// Creation time (Unix ms).
    pub created_at: i64,
    /// Revocation time (Unix ms), if revoked.
    pub revoked_at: Option<i64>,
}

/// A tenant's proving key (circuit), identified by the sha256 of its zkey.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Circuit {
    /// sha256 hex of the zkey.
    pub id: String,
    /// The owning tenant.
    #[serde(skip)]
    pub tenant_id: String,
    /// snarkjs's curve name (`bn128`).
    pub curve: String,
    /// Public signals.
    pub n_public: u64,
    /// Signals (witness length).
    pub n_vars: u64,
    /// The Groth16 domain size.
    pub domain_size: u64,
    /// The circuit's own constraints (without snarkjs's per-public-input rows).
    pub n_constraints: u64,
    /// Size of the zkey in bytes.
    pub size_bytes: u64,
    /// Upload time (Unix ms).
    pub created_at: i64,
}

/// What deleting a circuit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteCircuit {
    /// The tenant has no such circuit.
    NotFound,
    /// Refused: this many unfinished jobs use it.
    InUse(u64),
    /// Deleted; this many tenants still hold the same zkey.
    Deleted {
        /// Remaining holders of the file.
        remaining_holders: u64,
    },
}

/// A job to insert.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// Its id (UUID).
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The circuit (zkey hash).
    pub circuit_id: String,
    /// The batch it belongs to, if submitted as one.
    pub batch_id: Option<String>,
    /// Queue priority (higher first).
    pub priority: i32,
    /// Where to report the result.
    pub webhook_url: Option<String>,
    /// The stored witness file.
    pub witness_path: String,
    /// The circuit's constraints, for usage.
    pub n_constraints: u64,
    /// Submission time (Unix ms).
    pub created_at: i64,
}

/// What a job ended with.
#[derive(Clone, Debug)]
pub struct JobOutcome {
    /// Succeeded, failed or cancelled.
    pub status: JobStatus,
    /// End time (Unix ms).
    pub finished_at: i64,
    /// snarkjs proof.json, as JSON text.
    pub proof: Option<String>,
    /// snarkjs public.json, as JSON text.
    pub public_signals: Option<String>,
    /// Solidity calldata.
    pub calldata: Option<String>,
    /// Timings, as JSON text.
    pub timings: Option<String>,
    /// Devices used, as JSON text.
    pub devices: Option<String>,
    /// Device time spent (ms), billed.
    pub device_ms: u64,
    /// Error code and message, for failures.
    pub error: Option<(String, String)>,
}

/// A proof job as stored.
#[derive(Clone, Debug)]
pub struct Job {
    /// Insertion order.
    pub seq: i64,
    /// Its id.
    pub id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The circuit.
    pub circuit_id: String,
    /// Its batch, if any.
    pub batch_id: Option<String>,
    /// Its state.
    pub status: JobStatus,
    /// Queue priority.
    pub priority: i32,
    /// Webhook URL.
    pub webhook_url: Option<String>,
    /// Stored witness.
    pub witness_path: String,
    /// Constraints of its circuit.
    pub n_constraints: u64,
    /// How many times a process started proving it.
    pub attempts: u32,
    /// Cancellation asked while running.
    pub cancel_requested: bool,
    /// Submission time.
    pub created_at: i64,
    /// Start time.
    pub started_at: Option<i64>,
    /// End time.
    pub finished_at: Option<i64>,
    /// proof.json text.
    pub proof: Option<String>,
    /// public.json text.
    pub public_signals: Option<String>,
    /// Solidity calldata.
    pub calldata: Option<String>,
    /// Timings JSON text.
    pub timings: Option<String>,
    /// Devices JSON text.
    pub devices: Option<String>,
    /// Error code.
    pub error_code: Option<String>,
    /// Error message.
    pub error_message: Option<String>,
}

/// A queued job, as the job queue needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedJob {
    /// Insertion order (age).
    pub seq: i64,
    /// Job id.
    pub id: String,
    /// Tenant.
    pub tenant_id: String,
    /// The circuit it proves (so its proof can start before the job is marked running).
    pub circuit_id: String,
    /// Priority.
    pub priority: i32,
    /// Submission time (Unix ms).
    pub created_at: i64,
}

/// Filters for listing jobs.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    /// Only this status.
    pub status: Option<JobStatus>,
    /// Only this circuit.
    pub circuit_id: Option<String>,
    /// Only this batch.
    pub batch_id: Option<String>,
    /// Only jobs submitted before this one (of the same tenant): the next page.
    pub before: Option<String>,
    /// At most this many.
    pub limit: u32,
}

/// An idempotency record: the answer given to the first request with this key.
#[derive(Clone, Debug)]
pub struct IdempotencyRecord {
    /// The tenant.
    pub tenant_id: String,
    /// The client's key.
    pub key: String,
    /// sha256 of the request (circuit, body, options), to refuse a different request
    /// under the same key.
    pub request_digest: String,
    /// The JSON body of the first answer.
    pub response: String,
    /// Time (Unix ms).
    pub created_at: i64,
}

/// What a tenant has used (what a bill is made of).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Usage {
    /// The tenant.
    pub tenant_id: String,
    /// Proofs delivered.
    pub proofs: u64,
    /// Jobs that failed.
    pub failed: u64,
    /// Jobs cancelled.
    pub cancelled: u64,
    /// Sum of the constraints of the circuits proved.
    pub constraints_proven: u64,
    /// Device time spent on the tenant's jobs (all outcomes), in seconds.
    pub device_seconds: f64,
    /// Bytes of stored proving keys.
    pub stored_bytes: u64,
}

/// A webhook delivery to make.
#[derive(Clone, Debug)]
pub struct NewWebhook {
    /// The job it reports.
    pub job_id: String,
    /// The tenant (whose secret signs it).
    pub tenant_id: String,
    /// Target URL.
    pub url: String,
    /// JSON body.
    pub body: String,
    /// First attempt time (Unix ms).
    pub next_attempt_at: i64,
}

/// A pending webhook delivery.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// Delivery id.
    pub id: i64,
    /// The job it reports.
    pub job_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// Target URL.
    pub url: String,
    /// JSON body.
    pub body: String,
    /// Attempts made so far.
    pub attempts: u32,
}

/// The result of one delivery attempt.
#[derive(Clone, Debug)]
pub enum WebhookAttempt {
    /// The receiver answered 2xx.
    Delivered {
        /// When.
        at: i64,
    },
    /// Failed; try again at `retry_at`.
    Retry {
        /// Next attempt time.
        retry_at: i64,
        /// What went wrong.
        error: String,
    },
    /// Failed for the last time.
    GaveUp {
        /// When.
        at: i64,
        /// What went wrong.
        error: String,
    },
}
