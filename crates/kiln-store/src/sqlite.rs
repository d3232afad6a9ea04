//! The embedded store: one SQLite database file in WAL mode, schema from `migrations/`.
//!
//! Commits are `synchronous = FULL` (on disk before the call returns), except marking a job
//! running, which goes through a second connection with `synchronous = NORMAL`: in WAL mode
//! that commit survives a crash of the process at once and a power loss from the next full
//! commit on; if a power loss takes it, the job is simply still queued and runs again.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::Row;

use super::models::*;
use super::{Store, StoreError};

/// The SQLite-backed [`Store`].
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// One connection committing with `synchronous = NORMAL`, for [`Store::mark_running`].
    relaxed: SqlitePool,
}

const JOB_COLUMNS: &str = "seq, id, tenant_id, circuit_id, batch_id, status, priority, \
    webhook_url, witness_path, n_constraints, attempts, cancel_requested, created_at, \
    started_at, finished_at, proof, public_signals, calldata, timings, devices, error_code, \
    error_message";

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let relaxed = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.synchronous(SqliteSynchronous::Normal))
            .await?;
        Ok(SqliteStore { pool, relaxed })
    }

    /// A write transaction, holding the write lock from its start (`BEGIN IMMEDIATE`): a
    /// deferred transaction that reads and then writes fails at once with "database is
    /// locked" when another writer got in between, whatever the busy timeout; this one
    /// waits its turn instead.
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

fn u(v: i64) -> u64 {
    v.max(0) as u64
}

fn tenant_from_row(r: &SqliteRow) -> Result<Tenant, StoreError> {
    let opt =
        |c: &str| -> Result<Option<u64>, StoreError> { Ok(r.try_get::<Option<i64>, _>(c)?.map(u)) };
    Ok(Tenant {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        webhook_secret: r.try_get("webhook_secret")?,
        quotas: Quotas {
            max_queued_jobs: opt("max_queued_jobs")?,
            max_concurrent_jobs: opt("max_concurrent_jobs")?,
            max_stored_bytes: opt("max_stored_bytes")?,
        },
    })
}

fn key_from_row(r: &SqliteRow) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        key_hash: r.try_get("key_hash")?,
        prefix: r.try_get("prefix")?,
        label: r.try_get("label")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

fn circuit_from_row(r: &SqliteRow) -> Result<Circuit, StoreError> {
    Ok(Circuit {
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        curve: r.try_get("curve")?,
        n_public: u(r.try_get("n_public")?),
        n_vars: u(r.try_get("n_vars")?),
        domain_size: u(r.try_get("domain_size")?),
        n_constraints: u(r.try_get("n_constraints")?),
        size_bytes: u(r.try_get("size_bytes")?),
        created_at: r.try_get("created_at")?,
    })
}

fn status_from(s: &str) -> Result<JobStatus, StoreError> {
    JobStatus::from_str(s).map_err(|problem| StoreError::Corrupt {
        table: "jobs",
        problem,
    })
}

fn job_from_row(r: &SqliteRow) -> Result<Job, StoreError> {
    let status: String = r.try_get("status")?;
    Ok(Job {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        tenant_id: r.try_get("tenant_id")?,
        circuit_id: r.try_get("circuit_id")?,
        batch_id: r.try_get("batch_id")?,
        status: status_from(&status)?,
        priority: r.try_get("priority")?,
        webhook_url: r.try_get("webhook_url")?,
        witness_path: r.try_get("witness_path")?,
        n_constraints: u(r.try_get("n_constraints")?),
        attempts: u(r.try_get("attempts")?) as u32,
        cancel_requested: r.try_get::<i64, _>("cancel_requested")? != 0,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        proof: r.try_get("proof")?,
        public_signals: r.try_get("public_signals")?,
        calldata: r.try_get("calldata")?,
        timings: r.try_get("timings")?,
        devices: r.try_get("devices")?,
        error_code: r.try_get("error_code")?,
        error_message: r.try_get("error_message")?,
    })
}

async fn insert_webhook<'e, E>(exec: E, w: &NewWebhook) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(
        "INSERT INTO webhooks (job_id, tenant_id, url, body, next_attempt_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&w.job_id)
    .bind(&w.tenant_id)
    .bind(&w.url)
    .bind(&w.body)
    .bind(w.next_attempt_at)
    .execute(exec)
    .await?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn create_tenant(&self, t: &Tenant, key: &ApiKey) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO tenants (id, name, created_at, webhook_secret, max_queued_jobs, \
             max_concurrent_jobs, max_stored_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(t.created_at)
        .bind(&t.webhook_secret)
        .bind(t.quotas.max_queued_jobs.map(|v| v as i64))
        .bind(t.quotas.max_concurrent_jobs.map(|v| v as i64))
        .bind(t.quotas.max_stored_bytes.map(|v| v as i64))
        .execute(&mut *tx)
        .await?;
        insert_key(&mut *tx, key).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        sqlx::query("SELECT * FROM tenants WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| tenant_from_row(&r))
            .transpose()
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        sqlx::query("SELECT * FROM tenants ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(tenant_from_row)
            .collect()
    }

    async fn update_tenant(&self, t: &Tenant) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE tenants SET name = ?, max_queued_jobs = ?, max_concurrent_jobs = ?, \
             max_stored_bytes = ? WHERE id = ?",
        )
        .bind(&t.name)
        .bind(t.quotas.max_queued_jobs.map(|v| v as i64))
        .bind(t.quotas.max_concurrent_jobs.map(|v| v as i64))
        .bind(t.quotas.max_stored_bytes.map(|v| v as i64))
        .bind(&t.id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn add_api_key(&self, key: &ApiKey) -> Result<(), StoreError> {
        insert_key(&self.pool, key).await
    }

    async fn list_api_keys(&self, tenant_id: &str) -> Result<Vec<ApiKey>, StoreError> {
        sqlx::query("SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id")
            .bind(tenant_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(key_from_row)
            .collect()
    }

    async fn revoke_api_key(
        &self,
        tenant_id: &str,
        key_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let exists: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM api_keys WHERE tenant_id = ? AND id = ?")
                .bind(tenant_id)
                .bind(key_id)
                .fetch_optional(&self.pool)
                .await?;
        match exists {
            None => Ok(false),
            Some(Some(_)) => Ok(true),
            Some(None) => {
                sqlx::query("UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ?")
                    .bind(now)
                    .bind(tenant_id)
                    .bind(key_id)
                    .execute(&self.pool)
                    .await?;
                Ok(true)
            }
        }
    }

    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        sqlx::query("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| key_from_row(&r))
            .transpose()
    }

    async fn add_circuit(&self, c: &Circuit) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "INSERT INTO circuits (tenant_id, id, curve, n_public, n_vars, domain_size, \
             n_constraints, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(tenant_id, id) DO NOTHING",
        )
        .bind(&c.tenant_id)
        .bind(&c.id)
        .bind(&c.curve)
        .bind(c.n_public as i64)
        .bind(c.n_vars as i64)
        .bind(c.domain_size as i64)
        .bind(c.n_constraints as i64)
        .bind(c.size_bytes as i64)
        .bind(c.created_at)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    async fn get_circuit(&self, tenant_id: &str, id: &str) -> Result<Option<Circuit>, StoreError> {
        sqlx::query("SELECT * FROM circuits WHERE tenant_id = ? AND id = ?")
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| circuit_from_row(&r))
            .transpose()
    }

    async fn list_circuits(&self, tenant_id: &str) -> Result<Vec<Circuit>, StoreError> {
        sqlx::query("SELECT * FROM circuits WHERE tenant_id = ? ORDER BY created_at, id")
            .bind(tenant_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(circuit_from_row)
            .collect()
    }

    async fn delete_circuit(&self, tenant_id: &str, id: &str) -> Result<DeleteCircuit, StoreError> {
        let mut tx = self.write_tx().await?;
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM circuits WHERE tenant_id = ? AND id = ?")
                .bind(tenant_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Ok(DeleteCircuit::NotFound);
        }
        let active: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE tenant_id = ? AND circuit_id = ? \
             AND status IN ('queued', 'running')",
        )
        .bind(tenant_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if active > 0 {
            return Ok(DeleteCircuit::InUse(u(active)));
        }
        sqlx::query("DELETE FROM circuits WHERE tenant_id = ? AND id = ?")
            .bind(tenant_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM circuits WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(DeleteCircuit::Deleted {
            remaining_holders: u(remaining),
        })
    }

    async fn stored_bytes(&self, tenant_id: &str) -> Result<u64, StoreError> {
        let v: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(size_bytes), 0) FROM circuits WHERE tenant_id = ?",
        )
        .bind(tenant_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(u(v))
    }

    async fn insert_jobs(
        &self,
        jobs: &[NewJob],
        idem: Option<&IdempotencyRecord>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut seqs = Vec::with_capacity(jobs.len());
        for j in jobs {
            let res = sqlx::query(
                "INSERT INTO jobs (id, tenant_id, circuit_id, batch_id, status, priority, \
                 webhook_url, witness_path, n_constraints, created_at) \
                 VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
            )
            .bind(&j.id)
            .bind(&j.tenant_id)
            .bind(&j.circuit_id)
            .bind(&j.batch_id)
            .bind(j.priority)
            .bind(&j.webhook_url)
            .bind(&j.witness_path)
            .bind(j.n_constraints as i64)
            .bind(j.created_at)
            .execute(&mut *tx)
            .await?;
            seqs.push(res.last_insert_rowid());
        }
        if let Some(r) = idem {
            sqlx::query(
                // A record still there for this key has expired (the caller found no live
                // one under the submission lock): the key starts over.
                "INSERT OR REPLACE INTO idempotency \
                 (tenant_id, key, request_digest, response, created_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&r.tenant_id)
            .bind(&r.key)
            .bind(&r.request_digest)
            .bind(&r.response)
            .bind(r.created_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(seqs)
    }

    async fn purge_idempotency(&self, before: i64) -> Result<u64, StoreError> {
        let res = sqlx::query("DELETE FROM idempotency WHERE created_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(res.rows_affected())
    }

    async fn find_idempotency(
        &self,
        tenant_id: &str,
        key: &str,
        not_before: i64,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM idempotency WHERE tenant_id = ? AND key = ? AND created_at >= ?",
        )
        .bind(tenant_id)
        .bind(key)
        .bind(not_before)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(IdempotencyRecord {
                tenant_id: r.try_get("tenant_id")?,
                key: r.try_get("key")?,
                request_digest: r.try_get("request_digest")?,
                response: r.try_get("response")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }

    async fn get_job(&self, id: &str) -> Result<Option<Job>, StoreError> {
        sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| job_from_row(&r))
            .transpose()
    }

    async fn list_jobs(&self, tenant_id: &str, f: &JobFilter) -> Result<Vec<Job>, StoreError> {
        // Only the filters given, so the (tenant_id, seq) index serves the order and the
        // page boundary.
        let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = ?");
        let before = match &f.before {
            Some(id) => match self.job_seq(tenant_id, id).await? {
                Some(seq) => Some(seq),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        for (given, clause) in [
            (f.status.is_some(), " AND status = ?"),
            (f.circuit_id.is_some(), " AND circuit_id = ?"),
            (f.batch_id.is_some(), " AND batch_id = ?"),
            (before.is_some(), " AND seq < ?"),
        ] {
            if given {
                sql.push_str(clause);
            }
        }
        sql.push_str(" ORDER BY seq DESC LIMIT ?");
        let mut q = sqlx::query(&sql).bind(tenant_id);
        if let Some(s) = f.status {
            q = q.bind(s.as_str());
        }
        if let Some(c) = &f.circuit_id {
            q = q.bind(c);
        }
        if let Some(b) = &f.batch_id {
            q = q.bind(b);
        }
        if let Some(seq) = before {
            q = q.bind(seq);
        }
        q.bind(f.limit as i64)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(job_from_row)
            .collect()
    }

    async fn job_seq(&self, tenant_id: &str, id: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT seq FROM jobs WHERE id = ? AND tenant_id = ?")
            .bind(id)
            .bind(tenant_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("seq")).transpose()?)
    }

    async fn active_counts(&self, tenant_id: &str) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(status = 'queued'), 0) AS q, COALESCE(SUM(status = 'running'), 0) AS r \
             FROM jobs WHERE tenant_id = ? AND status IN ('queued', 'running')",
        )
        .bind(tenant_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((u(row.try_get("q")?), u(row.try_get("r")?)))
    }

    async fn status_counts(&self) -> Result<Vec<(JobStatus, u64)>, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let s: String = r.try_get("status")?;
                Ok((status_from(&s)?, u(r.try_get("n")?)))
            })
            .collect()
    }

    async fn queued_jobs(&self) -> Result<Vec<QueuedJob>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, id, tenant_id, circuit_id, priority, created_at FROM jobs \
             WHERE status = 'queued' ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(QueuedJob {
                    seq: r.try_get("seq")?,
                    id: r.try_get("id")?,
                    tenant_id: r.try_get("tenant_id")?,
                    circuit_id: r.try_get("circuit_id")?,
                    priority: r.try_get("priority")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn recover_running(
        &self,
        max_attempts: u32,
    ) -> Result<(Vec<String>, Vec<Job>), StoreError> {
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'running' ORDER BY seq"
        ))
        .fetch_all(&mut *tx)
        .await?;
        let (mut requeued, mut to_end) = (Vec::new(), Vec::new());
        for r in &rows {
            let job = job_from_row(r)?;
            if job.cancel_requested || job.attempts >= max_attempts {
                to_end.push(job);
                continue;
            }
            sqlx::query("UPDATE jobs SET status = 'queued', started_at = NULL WHERE id = ?")
                .bind(&job.id)
                .execute(&mut *tx)
                .await?;
            requeued.push(job.id);
        }
        tx.commit().await?;
        Ok((requeued, to_end))
    }

    async fn requeue_running_at_shutdown(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "UPDATE jobs SET status = 'queued', started_at = NULL, \
             attempts = MAX(attempts - 1, 0) WHERE status = 'running' RETURNING id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    async fn mark_running(&self, id: &str, now: i64) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE jobs SET status = 'running', started_at = ?, attempts = attempts + 1 \
             WHERE id = ? AND status = 'queued' RETURNING {JOB_COLUMNS}"
        ))
        .bind(now)
        .bind(id)
        .fetch_optional(&self.relaxed)
        .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn finish_job(
        &self,
        id: &str,
        o: &JobOutcome,
        webhook: Option<&NewWebhook>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let (code, message) = match &o.error {
            Some((c, m)) => (Some(c.as_str()), Some(m.as_str())),
            None => (None, None),
        };
        sqlx::query(
            "UPDATE jobs SET status = ?, finished_at = ?, proof = ?, public_signals = ?, \
             calldata = ?, timings = ?, devices = ?, device_ms = ?, error_code = ?, \
             error_message = ? WHERE id = ?",
        )
        .bind(o.status.as_str())
        .bind(o.finished_at)
        .bind(&o.proof)
        .bind(&o.public_signals)
        .bind(&o.calldata)
        .bind(&o.timings)
        .bind(&o.devices)
        .bind(o.device_ms as i64)
        .bind(code)
        .bind(message)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if let Some(w) = webhook {
            insert_webhook(&mut *tx, w).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn cancel_queued(
        &self,
        id: &str,
        now: i64,
        webhook: Option<&NewWebhook>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let res = sqlx::query(
            "UPDATE jobs SET status = 'cancelled', finished_at = ?, error_code = 'cancelled', \
             error_message = 'cancelled by the tenant before it started' \
             WHERE id = ? AND status = 'queued'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let done = res.rows_affected() == 1;
        if done {
            if let Some(w) = webhook {
                insert_webhook(&mut *tx, w).await?;
            }
        }
        tx.commit().await?;
        Ok(done)
    }

    async fn request_cancel(&self, id: &str) -> Result<bool, StoreError> {
        let res =
            sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'")
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(res.rows_affected() == 1)
    }

    async fn usage(&self, tenant_id: Option<&str>) -> Result<Vec<Usage>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id AS tenant_id, \
               (SELECT COUNT(*) FROM jobs j WHERE j.tenant_id = t.id AND j.status = 'succeeded') AS proofs, \
               (SELECT COUNT(*) FROM jobs j WHERE j.tenant_id = t.id AND j.status = 'failed') AS failed, \
               (SELECT COUNT(*) FROM jobs j WHERE j.tenant_id = t.id AND j.status = 'cancelled') AS cancelled, \
               (SELECT COALESCE(SUM(n_constraints), 0) FROM jobs j WHERE j.tenant_id = t.id AND j.status = 'succeeded') AS constraints, \
               (SELECT COALESCE(SUM(device_ms), 0) FROM jobs j WHERE j.tenant_id = t.id) AS device_ms, \
               (SELECT COALESCE(SUM(size_bytes), 0) FROM circuits c WHERE c.tenant_id = t.id) AS stored \
             FROM tenants t WHERE (? IS NULL OR t.id = ?) ORDER BY t.created_at, t.id",
        )
        .bind(tenant_id)
        .bind(tenant_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Usage {
                    tenant_id: r.try_get("tenant_id")?,
                    proofs: u(r.try_get("proofs")?),
                    failed: u(r.try_get("failed")?),
                    cancelled: u(r.try_get("cancelled")?),
                    constraints_proven: u(r.try_get("constraints")?),
                    device_seconds: u(r.try_get("device_ms")?) as f64 / 1e3,
                    stored_bytes: u(r.try_get("stored")?),
                })
            })
            .collect()
    }

    async fn due_webhooks(&self, now: i64, limit: u32) -> Result<Vec<Webhook>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, job_id, tenant_id, url, body, attempts FROM webhooks \
             WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ? \
             ORDER BY next_attempt_at, id LIMIT ?",
        )
        .bind(now)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Webhook {
                    id: r.try_get("id")?,
                    job_id: r.try_get("job_id")?,
                    tenant_id: r.try_get("tenant_id")?,
                    url: r.try_get("url")?,
                    body: r.try_get("body")?,
                    attempts: u(r.try_get("attempts")?) as u32,
                })
            })
            .collect()
    }

    async fn next_webhook_at(&self) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM webhooks WHERE delivered_at IS NULL AND gave_up_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn webhook_attempted(&self, id: i64, a: &WebhookAttempt) -> Result<(), StoreError> {
        let q = match a {
            WebhookAttempt::Delivered { at } => {
                sqlx::query("UPDATE webhooks SET attempts = attempts + 1, delivered_at = ?, last_error = NULL WHERE id = ?")
                    .bind(*at)
                    .bind(id)
            }
            WebhookAttempt::Retry { retry_at, error } => sqlx::query(
                "UPDATE webhooks SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
            )
            .bind(*retry_at)
            .bind(error.clone())
            .bind(id),
            WebhookAttempt::GaveUp { at, error } => sqlx::query(
                "UPDATE webhooks SET attempts = attempts + 1, gave_up_at = ?, last_error = ? WHERE id = ?",
            )
            .bind(*at)
            .bind(error.clone())
            .bind(id),
        };
        q.execute(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

async fn insert_key<'e, E>(exec: E, k: &ApiKey) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, key_hash, prefix, label, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&k.id)
    .bind(&k.tenant_id)
    .bind(&k.key_hash)
    .bind(&k.prefix)
    .bind(&k.label)
    .bind(k.created_at)
    .execute(exec)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(id: &str) -> (Tenant, ApiKey) {
        (
            Tenant {
                id: id.into(),
                name: format!("tenant {id}"),
                created_at: 1,
                webhook_secret: "s".into(),
                quotas: Quotas::default(),
            },
            ApiKey {
                id: format!("k-{id}"),
                tenant_id: id.into(),
                key_hash: format!("hash-{id}"),
                prefix: "kiln_".into(),
                label: None,
                created_at: 1,
                revoked_at: None,
            },
        )
    }

    fn job(id: &str, tenant: &str) -> NewJob {
        NewJob {
            id: id.into(),
            tenant_id: tenant.into(),
            circuit_id: "c".into(),
            batch_id: None,
            priority: 0,
            webhook_url: None,
            witness_path: "w".into(),
            n_constraints: 10,
            created_at: 2,
        }
    }

    #[tokio::test]
    async fn jobs_survive_a_reopen_and_running_ones_are_requeued() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kiln.db");
        {
            let s = SqliteStore::open(&db).await.unwrap();
            let (t, k) = tenant("a");
            s.create_tenant(&t, &k).await.unwrap();
            s.insert_jobs(&[job("j1", "a"), job("j2", "a")], None)
                .await
                .unwrap();
            let running = s.mark_running("j1", 3).await.unwrap().unwrap();
            assert_eq!((running.status, running.attempts), (JobStatus::Running, 1));
            assert!(
                s.mark_running("j1", 3).await.unwrap().is_none(),
                "already running"
            );
        }
        let s = SqliteStore::open(&db).await.unwrap();
        let (requeued, to_end) = s.recover_running(3).await.unwrap();
        assert_eq!(requeued, vec!["j1".to_string()]);
        assert!(to_end.is_empty());
        let q = s.queued_jobs().await.unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(s.get_job("j1").await.unwrap().unwrap().attempts, 1);
        assert_eq!(s.active_counts("a").await.unwrap(), (2, 0));
        assert!(s.find_api_key("hash-a").await.unwrap().is_some());
        assert!(s.revoke_api_key("a", "k-a", 5).await.unwrap());
        assert!(s.find_api_key("hash-a").await.unwrap().is_none());
        assert!(!s.revoke_api_key("b", "k-a", 5).await.unwrap());
    }

    /// A fresh store in a temporary directory (kept alive by the returned guard) with
    /// tenant `a`.
    async fn store_with_tenant_a() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("kiln.db"))
            .await
            .unwrap();
        let (t, k) = tenant("a");
        s.create_tenant(&t, &k).await.unwrap();
        (dir, s)
    }

    /// Transactions that read then write (deleting a circuit) while other writers commit
    /// wait their turn: a deferred transaction fails at once with "database is locked".
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn read_then_write_transactions_wait_for_other_writers() {
        let (_dir, s) = store_with_tenant_a().await;
        let circuit = |id: &str| Circuit {
            id: id.into(),
            tenant_id: "a".into(),
            curve: "bn128".into(),
            n_public: 1,
            n_vars: 3,
            domain_size: 4,
            n_constraints: 1,
            size_bytes: 10,
            created_at: 1,
        };
        let mut tasks = Vec::new();
        for t in 0..4 {
            let s = s.clone();
            let c = circuit(&format!("c{t}"));
            tasks.push(tokio::spawn(async move {
                for _ in 0..40 {
                    s.add_circuit(&c).await?;
                    s.delete_circuit("a", &c.id).await?;
                }
                Ok::<_, StoreError>(())
            }));
        }
        let writer = s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..80 {
                writer
                    .insert_jobs(&[job(&format!("j{i}"), "a")], None)
                    .await?;
            }
            Ok(())
        }));
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert!(s.list_circuits("a").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn jobs_interrupted_too_often_or_asked_to_cancel_are_left_to_end() {
        let (_dir, s) = store_with_tenant_a().await;
        s.insert_jobs(&[job("j1", "a"), job("j2", "a")], None)
            .await
            .unwrap();
        assert!(s.mark_running("j1", 3).await.unwrap().is_some());
        assert_eq!(s.recover_running(2).await.unwrap().0, ["j1"]);
        assert!(s.mark_running("j1", 3).await.unwrap().is_some());
        assert!(s.mark_running("j2", 3).await.unwrap().is_some());
        assert!(s.request_cancel("j2").await.unwrap());
        let (requeued, to_end) = s.recover_running(2).await.unwrap();
        assert!(requeued.is_empty());
        let ended: Vec<_> = to_end
            .iter()
            .map(|j| (j.id.as_str(), j.attempts, j.cancel_requested))
            .collect();
        assert_eq!(ended, [("j1", 2, false), ("j2", 1, true)]);
        assert_eq!(
            s.get_job("j1").await.unwrap().unwrap().status,
            JobStatus::Running
        );
    }

    #[tokio::test]
    async fn idempotency_records_expire_and_their_key_starts_over() {
        let (_dir, s) = store_with_tenant_a().await;
        let record = |at: i64, response: &str| IdempotencyRecord {
            tenant_id: "a".into(),
            key: "k".into(),
            request_digest: "d".into(),
            response: response.into(),
            created_at: at,
        };
        s.insert_jobs(&[job("j1", "a")], Some(&record(10, "first")))
            .await
            .unwrap();
        let live = s.find_idempotency("a", "k", 5).await.unwrap().unwrap();
        assert_eq!(live.response, "first");
        assert!(s.find_idempotency("a", "k", 11).await.unwrap().is_none());
        assert!(s.find_idempotency("b", "k", 0).await.unwrap().is_none());
        // Expired: the same key binds new jobs.
        s.insert_jobs(&[job("j2", "a")], Some(&record(30, "second")))
            .await
            .unwrap();
        let live = s.find_idempotency("a", "k", 20).await.unwrap().unwrap();
        assert_eq!(live.response, "second");
        assert_eq!(s.purge_idempotency(30).await.unwrap(), 0);
        assert_eq!(s.purge_idempotency(31).await.unwrap(), 1);
        assert!(s.find_idempotency("a", "k", 0).await.unwrap().is_none());
    }
}
