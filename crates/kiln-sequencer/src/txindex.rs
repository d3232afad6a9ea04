//! The transactions' index by hash (`txindex.db` beside `rollup.db`): hash → position in
//! the log, for `GET /v1/rollup/transactions/{hash}`.
//!
//! Transaction hashes are random, so an index on them takes one B-tree page write per
//! transaction: kept in the log's commits, it made each group commit several times slower
//! than the log rows alone, and slower as the log grew. The index is therefore kept apart
//! and off the confirmation path:
//!
//! - once a log commit is durable, its transactions go into an in-memory map (read first by
//!   [`TxIndex::lookup`]) and to the index's own writer thread, before they are answered;
//! - the writer writes them in sorted runs, at most every [`FLUSH_EVERY`] or
//!   [`FLUSH_ROWS`] rows, into its own database (its own write lock, so it never holds up a
//!   log commit), then drops them from the map;
//! - the index is derived data: it records the last log position it covers, and at every
//!   start the rows after it are indexed again from the log (the index's database is
//!   written with `synchronous = NORMAL`, which in WAL mode may lose the last writes at a
//!   power cut but never corrupts; losing it, or its last writes, loses nothing, and an
//!   index that cannot be opened is rebuilt from the log).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnection, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Row};
use tokio::sync::mpsc;

use crate::log::{connect_options, spawn_connection_thread, DbError};
use crate::TARGET;

/// The longest a confirmed transaction waits in memory before it is written to the index.
pub const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// The most rows one index write takes.
pub const FLUSH_ROWS: usize = 8192;
/// Rows per INSERT statement.
const ROWS_PER_INSERT: usize = 500;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tx_index (hash TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS covered (id INTEGER PRIMARY KEY CHECK (id = 1), through INTEGER NOT NULL);
INSERT OR IGNORE INTO covered (id, through) VALUES (1, 0);
";

/// A transaction's hash and its position in the log.
pub type IndexRow = (String, i64);

/// The index: its not-yet-written rows, its writer and its reader (cheap to clone).
#[derive(Clone)]
pub struct TxIndex {
    pending: Arc<Mutex<HashMap<String, i64>>>,
    writer: mpsc::UnboundedSender<Vec<IndexRow>>,
    pool: SqlitePool,
}

/// Writes `rows` (sorted here by hash) and the position they cover, in one transaction.
async fn write(conn: &mut SqliteConnection, rows: &mut [IndexRow]) -> Result<(), sqlx::Error> {
    let Some(through) = rows.iter().map(|r| r.1).max() else {
        return Ok(());
    };
    rows.sort_unstable();
    let mut tx = conn.begin().await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut q = QueryBuilder::new("INSERT OR REPLACE INTO tx_index (hash, seq) ");
        q.push_values(chunk, |mut b, (hash, seq)| {
            b.push_bind(hash.as_str()).push_bind(*seq);
        });
        q.build().execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE covered SET through = MAX(through, ?) WHERE id = 1")
        .bind(through)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

impl TxIndex {
    /// Opens (creating if needed) the index at `path`, indexes the log rows of `log` that
    /// it does not cover yet, and starts its writer. An index that cannot be opened or
    /// read is removed and rebuilt from the log.
    pub async fn open(path: &Path, log: &SqlitePool) -> Result<TxIndex, DbError> {
        match TxIndex::open_as_is(path, log).await {
            Ok(index) => Ok(index),
            Err(e) => {
                tracing::warn!(target: TARGET, error = %e, path = %path.display(), "the transaction index cannot be used; rebuilding it from the log");
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.as_os_str().to_owned();
                    file.push(suffix);
                    match std::fs::remove_file(&file) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(DbError::Sql(sqlx::Error::Io(e))),
                    }
                }
                TxIndex::open_as_is(path, log).await
            }
        }
    }

    async fn open_as_is(path: &Path, log: &SqlitePool) -> Result<TxIndex, DbError> {
        let options = connect_options(path, SqliteSynchronous::Normal)?;
        let mut conn = SqliteConnection::connect_with(&options).await?;
        sqlx::raw_sql(SCHEMA).execute(&mut conn).await?;
        let through: i64 = sqlx::query("SELECT through FROM covered WHERE id = 1")
            .fetch_one(&mut conn)
            .await?
            .try_get("through")?;
        let mut missing: Vec<IndexRow> =
            sqlx::query("SELECT hash, seq FROM log WHERE seq > ? AND hash IS NOT NULL")
                .bind(through)
                .fetch_all(log)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("hash")?, r.try_get("seq")?)))
                .collect::<Result<_, sqlx::Error>>()?;
        if !missing.is_empty() {
            tracing::info!(target: TARGET, rows = missing.len(), "indexing the log's latest transactions");
            write(&mut conn, &mut missing).await?;
        }
        conn.close().await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options.clone())
            .await?;
        let pending = Arc::new(Mutex::new(HashMap::new()));
        let (writer, rows) = mpsc::unbounded_channel();
        let map = pending.clone();
        spawn_connection_thread("kiln-rollup-index", options, move |conn| {
            run(conn, rows, map)
        })
        .await?;
        Ok(TxIndex {
            pending,
            writer,
            pool,
        })
    }

    /// Adds rows whose log commit is durable: found by [`TxIndex::lookup`] at once, written
    /// to the index soon.
    pub fn add(&self, rows: Vec<IndexRow>) {
        if rows.is_empty() {
            return;
        }
        {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.extend(rows.iter().cloned());
        }
        // The writer stops only with the process; rows it never takes stay in the map and
        // are indexed from the log at the next start.
        let _ = self.writer.send(rows);
    }

    /// The log position of the transaction with this hash, if it is confirmed.
    pub async fn lookup(&self, hash: &str) -> Result<Option<i64>, sqlx::Error> {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(hash)
            .copied();
        if pending.is_some() {
            return Ok(pending);
        }
        // A row leaves the map only after its write: if it was in flight a moment ago, the
        // index has it now.
        sqlx::query("SELECT seq FROM tx_index WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("seq"))
            .transpose()
    }
}

/// The writer: gathers rows for up to [`FLUSH_EVERY`] (or [`FLUSH_ROWS`] of them), writes
/// them, then drops them from the map. A failed write is logged and retried with the next.
async fn run(
    mut conn: SqliteConnection,
    mut rows: mpsc::UnboundedReceiver<Vec<IndexRow>>,
    pending: Arc<Mutex<HashMap<String, i64>>>,
) {
    let mut batch: Vec<IndexRow> = Vec::new();
    loop {
        if batch.is_empty() {
            match rows.recv().await {
                Some(r) => batch.extend(r),
                None => return,
            }
        }
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        while batch.len() < FLUSH_ROWS {
            match tokio::time::timeout_at(deadline, rows.recv()).await {
                Ok(Some(r)) => batch.extend(r),
                Ok(None) | Err(_) => break,
            }
        }
        match write(&mut conn, &mut batch).await {
            Ok(()) => {
                let mut map = pending.lock().unwrap_or_else(|p| p.into_inner());
                for (hash, seq) in batch.drain(..) {
                    if map.get(&hash) == Some(&seq) {
                        map.remove(&hash);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(target: TARGET, error = %e, rows = batch.len(), "the transaction index could not be written; retrying");
                tokio::time::sleep(FLUSH_EVERY).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::open_db;

    async fn log_rows(log: &SqlitePool, rows: &[(i64, &str)]) {
        for (seq, hash) in rows {
            sqlx::query("INSERT INTO log (seq, batch, kind, hash, body) VALUES (?, 1, 1, ?, '{}')")
                .bind(seq)
                .bind(hash)
                .execute(log)
                .await
                .unwrap();
        }
    }

    fn in_memory(index: &TxIndex) -> usize {
        index.pending.lock().unwrap().len()
    }

    #[tokio::test]
    async fn rows_are_found_at_once_written_soon_and_rebuilt_from_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = open_db(&dir.path().join("rollup.db")).await.unwrap();
        let path = dir.path().join("txindex.db");
        log_rows(&log, &[(1, "0xaa"), (2, "0xbb")]).await;
        let index = TxIndex::open(&path, &log).await.unwrap();
        // The log's rows were indexed at open.
        assert_eq!(index.lookup("0xbb").await.unwrap(), Some(2));
        assert_eq!(index.lookup("0xcc").await.unwrap(), None);
        // Rows added after a log commit: found at once, from memory, then from the index.
        log_rows(&log, &[(3, "0xcc"), (4, "0xdd")]).await;
        index.add(vec![("0xcc".into(), 3), ("0xdd".into(), 4)]);
        assert_eq!(index.lookup("0xdd").await.unwrap(), Some(4));
        let start = std::time::Instant::now();
        while in_memory(&index) > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "rows never written"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(index.lookup("0xcc").await.unwrap(), Some(3));
        assert_eq!(index.lookup("0xdd").await.unwrap(), Some(4));
        // A row the log has but the index never got (a crash between the two) is indexed
        // at the next open; so is everything when the index's database is lost.
        log_rows(&log, &[(5, "0xee")]).await;
        drop(index);
        let index = TxIndex::open(&path, &log).await.unwrap();
        assert_eq!(index.lookup("0xee").await.unwrap(), Some(5));
        assert_eq!(in_memory(&index), 0);
        drop(index);
        for f in ["txindex.db", "txindex.db-wal", "txindex.db-shm"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        let index = TxIndex::open(&path, &log).await.unwrap();
        for (hash, seq) in [("0xaa", 1), ("0xcc", 3), ("0xee", 5)] {
            assert_eq!(index.lookup(hash).await.unwrap(), Some(seq), "{hash}");
        }
        // A file that is not a database at all is replaced by a rebuilt index.
        drop(index);
        for f in ["txindex.db-wal", "txindex.db-shm"] {
            let _ = std::fs::remove_file(dir.path().join(f));
        }
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let index = TxIndex::open(&path, &log).await.unwrap();
        assert_eq!(index.lookup("0xdd").await.unwrap(), Some(4));
    }
}
