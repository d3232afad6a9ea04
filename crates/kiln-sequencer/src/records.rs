//! What becomes of closed batches, in the rollup's database: the proving key each is proven
//! with, its proof job, and its proof (or why it could not be proven).

use serde_json::Value;
use sqlx::Row;

use crate::Sequencer;

/// A batch circuit's proving key as recorded.
#[derive(Clone, Debug)]
pub struct KeyRecord {
    /// Its id (the sha256 of its zkey).
    pub id: String,
    /// The batch size it proves.
    pub batch_size: usize,
    /// The zkey file.
    pub zkey_path: String,
    /// Its snarkjs verification key.
    pub vk: Value,
}

impl Sequencer {
    /// The recorded proving key for `batch_size` most recently added, if any.
    pub async fn key_for(&self, batch_size: usize) -> Result<Option<KeyRecord>, sqlx::Error> {
        let row = sqlx::query("SELECT id, zkey_path, vk FROM circuit_keys WHERE batch_size = ? ORDER BY rowid DESC LIMIT 1")
            .bind(batch_size as i64)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(KeyRecord {
            id: r.try_get("id")?,
            batch_size,
            zkey_path: r.try_get("zkey_path")?,
            vk: serde_json::from_str(&r.try_get::<String, _>("vk")?).unwrap_or_default(),
        }))
    }

    /// Records a proving key (again: a key given anew becomes the latest for its size).
    pub async fn record_key(&self, k: &KeyRecord) -> Result<(), sqlx::Error> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM circuit_keys WHERE id = ?")
            .bind(&k.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO circuit_keys (id, batch_size, zkey_path, vk) VALUES (?, ?, ?, ?)")
            .bind(&k.id)
            .bind(k.batch_size as i64)
            .bind(&k.zkey_path)
            .bind(k.vk.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Batch `number` is being proven by `job_id` with the key `key_id`.
    pub async fn record_job(
        &self,
        number: u64,
        job_id: &str,
        key_id: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE batches SET status = 'proving', job_id = ?, key_id = ? WHERE number = ?",
        )
        .bind(job_id)
        .bind(key_id)
        .bind(number as i64)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Batch `number` is proven: its proof and public signals (snarkjs JSON); its
    /// transactions leave the backlog.
    pub async fn record_proven(
        &self,
        number: u64,
        proof: &str,
        public_signals: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE batches SET status = 'proven', proof = ?, public_signals = ?, error = NULL WHERE number = ?")
            .bind(proof)
            .bind(public_signals)
            .bind(number as i64)
            .execute(self.pool())
            .await?;
        self.proven(number);
        Ok(())
    }

    /// Batch `number` cannot be proven, for `error`.
    pub async fn record_failed(&self, number: u64, error: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE batches SET status = 'failed', error = ? WHERE number = ?")
            .bind(error)
            .bind(number as i64)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Batches whose proof job is under way: (number, job id).
    pub async fn proving_jobs(&self) -> Result<Vec<(u64, String)>, sqlx::Error> {
        let rows = sqlx::query("SELECT number, job_id FROM batches WHERE status = 'proving' AND job_id IS NOT NULL ORDER BY number")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>("number")? as u64, r.try_get("job_id")?)))
            .collect()
    }
}
