//! The rollup's durable log in its SQLite database (`rollup.db` in the data dir, WAL mode,
//! `synchronous = FULL`), written with group commit: every entry that arrives while a
//! commit is on disk goes into the next one, so one fsync confirms them all.
//!
//! The writer has a thread and a connection of its own (a single-threaded runtime drives
//! the connection), so that its commits never queue behind the request handlers on the
//! server's runtime: under load, each await there could wait behind hundreds of ready
//! connections' tasks.
//!
//! Entries are written in the order they are sent; a transaction's sender is answered only
//! after the commit that holds it. A failed commit poisons the log: every waiter and every
//! later write gets the error (the process must restart and replay what is durable).

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Row};
use tokio::sync::{mpsc, oneshot};

use kiln_rollup::batch::Batch;

use crate::txindex::TxIndex;

/// The most entries one commit takes.
const MAX_GROUP: usize = 4096;
/// Rows per INSERT statement (SQLite's bound-parameter limit is 32766; 5 per row).
const ROWS_PER_INSERT: usize = 500;

/// Log entry kinds, as stored.
pub mod kind {
    /// A transaction.
    pub const TX: i64 = 1;
    /// An L1 operation.
    pub const L1: i64 = 2;
    /// A batch close.
    pub const CLOSE: i64 = 3;
}

/// The log failed; nothing after the failure is durable.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the rollup's log cannot be written: {0}")]
pub struct LogError(pub String);

/// Opening or reading the database failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database refused or failed the operation.
    #[error("rollup database: {0}")]
    Sql(#[from] sqlx::Error),
    /// Applying the schema failed.
    #[error("rollup database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// How connections to the rollup's databases are made: WAL mode, with `synchronous` as
/// given (`Full` for the log, whose every commit must be durable).
pub(crate) fn connect_options(
    path: &Path,
    synchronous: SqliteSynchronous,
) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(Duration::from_secs(30)))
}

/// Opens (creating if needed) the rollup's database and applies its schema.
pub async fn open_db(path: &Path) -> Result<SqlitePool, DbError> {
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(connect_options(path, SqliteSynchronous::Full)?)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// One entry of the log.
#[derive(Debug)]
pub struct Entry {
    /// Its position.
    pub seq: i64,
    /// The batch it belongs to.
    pub batch: u64,
    /// [`kind`].
    pub kind: i64,
    /// A transaction's hash.
    pub hash: Option<String>,
    /// Its JSON.
    pub body: String,
    /// What else the commit does for it.
    pub extra: Extra,
    /// Answered once the entry is durable.
    pub reply: Option<oneshot::Sender<Result<(), LogError>>>,
}

/// What an entry adds to its commit besides the log row.
#[derive(Debug)]
pub enum Extra {
    /// Nothing.
    None,
    /// An L1 operation taken from the queue (its id).
    L1 {
        /// The queue row.
        queue_id: i64,
    },
    /// A batch closed: its row in `batches`, and the batch handed on once durable.
    Close {
        /// The batch's content.
        batch: Box<Batch>,
        /// When it closed (ms since the epoch).
        closed_at: i64,
    },
}

/// The sending half: entries go to the writer task in order.
#[derive(Clone)]
pub struct LogWriter {
    tx: mpsc::UnboundedSender<Entry>,
    failed: Arc<Mutex<Option<LogError>>>,
}

impl LogWriter {
    /// Starts the writer on its own thread and connection to the database at `path`
    /// (opened, with its schema, by [`open_db`]). Once a commit is durable, its
    /// transactions go to `index` and then their senders are answered; closed batches are
    /// sent to `closed`.
    pub async fn start(
        path: &Path,
        index: TxIndex,
        closed: mpsc::UnboundedSender<Batch>,
    ) -> Result<Self, DbError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let failed = Arc::new(Mutex::new(None));
        let state = failed.clone();
        spawn_connection_thread(
            "kiln-rollup-log",
            connect_options(path, SqliteSynchronous::Full)?,
            move |conn| run(conn, rx, index, closed, state),
        )
        .await?;
        Ok(LogWriter { tx, failed })
    }

    /// The failure that poisoned the log, if any.
    pub fn failure(&self) -> Option<LogError> {
        self.failed.lock().expect("log state").clone()
    }

    /// Queues an entry (in order with every other); its reply comes once it is durable.
    pub fn send(&self, e: Entry) {
        if let Err(mpsc::error::SendError(e)) = self.tx.send(e) {
            if let Some(r) = e.reply {
                let _ = r.send(Err(LogError("the log writer has stopped".into())));
            }
        }
    }
}

/// Connects to a database with `options` on a new thread named `name`, whose own
/// single-threaded runtime then runs `work` with the connection (so that the work never
/// waits behind the tasks of the server's runtime); returns once connected.
pub(crate) async fn spawn_connection_thread<F, Fut>(
    name: &str,
    options: SqliteConnectOptions,
    work: F,
) -> Result<(), DbError>
where
    F: FnOnce(SqliteConnection) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (ready, connected) = oneshot::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready.send(Err(sqlx::Error::Io(e)));
                    return;
                }
            };
            runtime.block_on(async move {
                match SqliteConnection::connect_with(&options).await {
                    Ok(conn) => {
                        let _ = ready.send(Ok(()));
                        work(conn).await;
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
            });
        })
        .map_err(sqlx::Error::Io)?;
    connected
        .await
        .unwrap_or_else(|_| Err(sqlx::Error::WorkerCrashed))?;
    Ok(())
}

async fn run(
    mut conn: SqliteConnection,
    mut rx: mpsc::UnboundedReceiver<Entry>,
    index: TxIndex,
    closed: mpsc::UnboundedSender<Batch>,
    failed: Arc<Mutex<Option<LogError>>>,
) {
    let mut group: Vec<Entry> = Vec::new();
    while let Some(first) = rx.recv().await {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(e) => group.push(e),
                Err(_) => break,
            }
        }
        let poisoned = failed.lock().expect("log state").clone();
        let result = match poisoned {
            Some(e) => Err(e),
            None => commit(&mut conn, &group)
                .await
                .map_err(|e| LogError(e.to_string())),
        };
        match &result {
            Ok(()) => index.add(
                group
                    .iter()
                    .filter_map(|e| e.hash.clone().map(|h| (h, e.seq)))
                    .collect(),
            ),
            Err(e) => {
                tracing::error!(target: "kiln::rollup", error = %e, "the rollup log failed; restart to recover what is durable");
                *failed.lock().expect("log state") = Some(e.clone());
            }
        }
        for e in group.drain(..) {
            if let Some(r) = e.reply {
                let _ = r.send(result.clone());
            }
            if let (Ok(()), Extra::Close { batch, .. }) = (&result, e.extra) {
                let _ = closed.send(*batch);
            }
        }
    }
}

/// One statement inserting `chunk` into the log.
fn insert_rows(chunk: &[Entry]) -> QueryBuilder<'_, sqlx::Sqlite> {
    let mut q = QueryBuilder::new("INSERT INTO log (seq, batch, kind, hash, body) ");
    q.push_values(chunk, |mut b, e| {
        b.push_bind(e.seq)
            .push_bind(e.batch as i64)
            .push_bind(e.kind)
            .push_bind(e.hash.as_deref())
            .push_bind(e.body.as_str());
    });
    q
}

async fn commit(conn: &mut SqliteConnection, group: &[Entry]) -> Result<(), sqlx::Error> {
    if group.len() <= ROWS_PER_INSERT && group.iter().all(|e| matches!(e.extra, Extra::None)) {
        // One statement is its own transaction (atomic, and durable once it returns with
        // synchronous = FULL): one round trip to the database instead of three.
        insert_rows(group).build().execute(&mut *conn).await?;
        return Ok(());
    }
    let mut tx = conn.begin().await?;
    for chunk in group.chunks(ROWS_PER_INSERT) {
        insert_rows(chunk).build().execute(&mut *tx).await?;
    }
    for e in group {
        match &e.extra {
            Extra::None => {}
            Extra::L1 { queue_id } => {
                sqlx::query("UPDATE l1_queue SET included_in = ? WHERE id = ?")
                    .bind(e.batch as i64)
                    .bind(queue_id)
                    .execute(&mut *tx)
                    .await?;
            }
            Extra::Close { batch, closed_at } => {
                sqlx::query(
                    "INSERT INTO batches (number, status, tx_count, l1_count, closed_at) VALUES (?, 'closed', ?, ?, ?)",
                )
                .bind(batch.number as i64)
                .bind(batch.txs.len() as i64)
                .bind(batch.l1_ops.len() as i64)
                .bind(closed_at)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await
}

/// A stored log entry.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    /// Its position.
    pub seq: i64,
    /// Its batch.
    pub batch: u64,
    /// [`kind`].
    pub kind: i64,
    /// Its JSON.
    pub body: String,
}

/// The whole log, in order.
pub async fn read_log(pool: &SqlitePool) -> Result<Vec<StoredEntry>, sqlx::Error> {
    let rows = sqlx::query("SELECT seq, batch, kind, body FROM log ORDER BY seq")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredEntry {
                seq: r.try_get("seq")?,
                batch: r.try_get::<i64, _>("batch")? as u64,
                kind: r.try_get("kind")?,
                body: r.try_get("body")?,
            })
        })
        .collect()
}
