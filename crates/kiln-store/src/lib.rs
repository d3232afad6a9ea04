//! The control plane's durable state: the data dir's [`layout`], and in its database the
//! tenants, API keys, circuits, proof jobs, idempotency records and webhook deliveries,
//! behind the [`Store`] trait.
//!
//! [`sqlite::SqliteStore`] is the embedded default (one database file, WAL mode, migrations
//! from `migrations/`). A fleet backend (PostgreSQL) implements the same trait. Every
//! method that answers a client's write commits before it returns, so a 2xx answer means
//! the change survives `kill -9`.

pub mod layout;
pub mod models;
pub mod sqlite;

pub use layout::DataDirs;
pub use models::*;
pub use sqlite::SqliteStore;

/// Milliseconds since the Unix epoch: the unit of every time the store keeps.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

use async_trait::async_trait;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed the operation.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the schema migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value does not decode (a corrupted or foreign database).
    #[error("corrupt row in table {table}: {problem}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// The control plane's persistence interface.
#[async_trait]
pub trait Store: Send + Sync {
    /// A value from the settings table.
    async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Sets a value in the settings table.
    async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// Creates a tenant together with its first API key (hash only).
    async fn create_tenant(&self, tenant: &Tenant, key: &ApiKey) -> Result<(), StoreError>;
    /// One tenant.
    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError>;
    /// Every tenant, oldest first.
    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    /// Writes a tenant's name and quotas; false if there is no such tenant.
    async fn update_tenant(&self, tenant: &Tenant) -> Result<bool, StoreError>;

    /// Adds an API key to a tenant.
    async fn add_api_key(&self, key: &ApiKey) -> Result<(), StoreError>;
    /// A tenant's keys (revoked ones too), oldest first.
    async fn list_api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>, StoreError>;
    /// Revokes a tenant's key; false if the tenant has no such key.
    async fn revoke_api_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// The live (unrevoked) key with this hash.
    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError>;

    /// Records that a tenant has a circuit; false if it already had it.
    async fn add_circuit(&self, circuit: &Circuit) -> Result<bool, StoreError>;
    /// A tenant's circuit.
    async fn get_circuit(&self, tenant_id: &str, id: &str) -> Result<Option<Circuit>, StoreError>;
    /// A tenant's circuits, oldest first.
    async fn list_circuits(&self, tenant_id: &str) -> Result<Vec<Circuit>, StoreError>;
    /// Removes a tenant's circuit unless its unfinished jobs use it. Returns what happened
    /// and how many tenants still hold the same zkey.
    async fn delete_circuit(&self, tenant_id: &str, id: &str) -> Result<DeleteCircuit, StoreError>;
    /// Sum of the tenant's circuits' sizes.
    async fn stored_bytes(&self, tenant_id: &str) -> Result<u64, StoreError>;

    /// Inserts jobs (and the idempotency record answering for them) in one transaction;
    /// returns each job's insertion sequence number (its age in the queue).
    async fn insert_jobs(
        &self,
        jobs: &[NewJob],
        idem: Option<&IdempotencyRecord>,
    ) -> Result<Vec<i64>, StoreError>;
    /// A tenant's idempotency record, if made at `not_before` or later (older ones have
    /// expired: their key may be used again, replacing them).
    async fn find_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        not_before: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
    /// Deletes idempotency records made before `before`; returns how many.
    async fn purge_idempotency(&self, before: i64) -> Result<u64, StoreError>;
    /// One job.
    async fn get_job(&self, id: &str) -> Result<Option<Job>, StoreError>;
    /// A tenant's jobs, newest first.
    async fn list_jobs(&self, tenant_id: &str, filter: &JobFilter) -> Result<Vec<Job>, StoreError>;
    /// The insertion order of a tenant's job `id` (`None` if the tenant has no such job).
    async fn job_seq(&self, tenant_id: &str, id: &str) -> Result<Option<i64>, StoreError>;
    /// A tenant's (queued, running) job counts.
    async fn active_counts(&self, tenant_id: &str) -> Result<(u64, u64), StoreError>;
    /// Jobs by status over all tenants.
    async fn status_counts(&self) -> Result<Vec<(JobStatus, u64)>, StoreError>;
    /// Every queued job, oldest first (to rebuild the in-memory queue at start).
    async fn queued_jobs(&self) -> Result<Vec<QueuedJob>, StoreError>;
    /// At an orderly shutdown: puts the jobs still `running` back in the queue without
    /// counting the interrupted attempt (it did not crash). Returns their ids.
    async fn requeue_running_at_shutdown(&self) -> Result<Vec<String>, StoreError>;
    /// Puts jobs left `running` by a previous process back in the queue, except those that
    /// must not run again: asked to cancel, or already started `max_attempts` times.
    /// Returns the requeued ids and the jobs left `running` for the caller to end (with
    /// their webhooks, as any job ends).
    async fn recover_running(
        &self,
        max_attempts: u32,
    ) -> Result<(Vec<String>, Vec<Job>), StoreError>;
    /// queued → running, returning the job as it now is; `None` if the job is no longer
    /// queued (cancelled meanwhile). Needs to survive a crash of the process only (a job
    /// whose mark is lost runs again).
    async fn mark_running(&self, id: &str, now: i64) -> Result<Option<Job>, StoreError>;
    /// running → a final state, with the webhook delivery to make (same transaction).
    async fn finish_job(
        &self,
        id: &str,
        outcome: &JobOutcome,
        webhook: Option<&NewWebhook>,
    ) -> Result<(), StoreError>;
    /// queued → cancelled; false if the job was not queued.
    async fn cancel_queued(
        &self,
        id: &str,
        now: i64,
        webhook: Option<&NewWebhook>,
    ) -> Result<bool, StoreError>;
    /// Flags a running job to be cancelled when its proof returns; false if not running.
    async fn request_cancel(&self, id: &str) -> Result<bool, StoreError>;

    /// Usage per tenant (one tenant, or all).
    async fn usage(&self, tenant_id: Option<&str>) -> Result<Vec<Usage>, StoreError>;

    /// Webhook deliveries due at `now`.
    async fn due_webhooks(&self, now: i64, limit: u32) -> Result<Vec<Webhook>, StoreError>;
    /// The earliest pending delivery time, if any delivery is pending.
    async fn next_webhook_at(&self) -> Result<Option<i64>, StoreError>;
    /// Records a delivery attempt: delivered, retry at `retry_at`, or given up.
    async fn webhook_attempted(&self, id: i64, result: &WebhookAttempt) -> Result<(), StoreError>;
    /// Cheap liveness query.
    async fn ping(&self) -> Result<(), StoreError>;
}
