//! kiln's rollup sequencer: it confirms transactions against the pending state once they are
//! durable, closes batches by size or time, and hands each closed batch to the batch builder.
//!
//! - [`log`]: the durable log (SQLite, group commit).
//! - [`l1json`]: L1 operations as the log and the L1 queue store them.
//! - [`records`]: proving keys, proof jobs and proofs of closed batches.
//! - [`txindex`]: the transactions' index by hash, kept off the confirmation path.
//! - [`verifier`]: signature checks of concurrent submissions, made together.
//! - [`keytables`]: precomputed tables of senders' keys for faster verification.
//! - [`exits`]: a built batch's exits with their proofs for L1.
//! - [`builder`]: closed batches executed on the state they started from, recorded for the
//!   batch circuit and handed to the prover.
//!
//! A transaction is confirmed only after it is validated against the pending state, given
//! its place in the order, and committed to the log. Signatures are verified outside the
//! sequencer's lock (an account's key never changes), so confirmations scale with cores.
//! While the transactions not yet proven reach `max_backlog`, new ones are turned away with
//! [`SubmitError::Busy`] rather than confirmed beyond what the appliance can prove.

pub mod builder;
pub mod exits;
pub mod keytables;
pub mod l1json;
pub mod log;
pub mod records;
pub mod txindex;
pub mod verifier;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::sqlite::SqlitePool;
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use kiln_rollup::account::Account;
use kiln_rollup::batch::Batch;
use kiln_rollup::intake::{parse_tx, SignedTx};
use kiln_rollup::ledger::{Genesis, GenesisError, Ledger, TxError};
use kiln_rollup::trace::{l1_slots, L1Op};
use kiln_rollup::tree::StateProof;
use kiln_rollup::wallet;
use kiln_rollup::Fr;

use crate::log::{kind, open_db, DbError, Entry, Extra, LogError, LogWriter};
use crate::txindex::TxIndex;

/// The `tracing` target of the rollup.
pub const TARGET: &str = "kiln::rollup";

/// The sequencer's settings.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Transactions per batch (the batch circuit's size).
    pub max_batch_size: usize,
    /// A batch closes this long after its first transaction or L1 operation.
    pub batch_timeout: Duration,
    /// Confirmed transactions not yet proven beyond which new ones get [`SubmitError::Busy`].
    pub max_backlog: usize,
}

/// Why the sequencer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A database read.
    #[error("rollup database: {0}")]
    Sql(#[from] sqlx::Error),
    /// The genesis.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// A genesis that is not the one this data dir was started with.
    #[error("the rollup in {dir} was started with another genesis (chain id {stored_chain}); give the same genesis file, or another --data-dir")]
    OtherGenesis {
        /// The data dir.
        dir: String,
        /// The stored genesis's chain id.
        stored_chain: u64,
    },
    /// A stored entry that does not replay.
    #[error("rollup log entry {seq}: {problem}")]
    Replay {
        /// The entry.
        seq: i64,
        /// What is wrong.
        problem: String,
    },
}

/// Why a transaction was not confirmed.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The state refuses it (nothing changed).
    #[error(transparent)]
    Refused(#[from] TxError),
    /// Too many transactions wait for proofs: try again later.
    #[error("{backlog} confirmed transactions are waiting for proofs (the bound is {max}); try again in {retry_after_s} s")]
    Busy {
        /// Transactions waiting.
        backlog: usize,
        /// The bound.
        max: usize,
        /// Seconds to wait.
        retry_after_s: u64,
    },
    /// The log cannot be written: nothing is confirmed until a restart.
    #[error(transparent)]
    Unavailable(#[from] LogError),
}

/// A confirmed transaction.
#[derive(Clone, Debug, Serialize)]
pub struct Confirmation {
    /// Its hash.
    pub hash: String,
    /// Always "confirmed".
    pub status: &'static str,
    /// The batch it is in.
    pub batch: u64,
    /// Its position in the rollup's order.
    pub position: i64,
}

/// The open batch.
#[derive(Debug)]
struct OpenBatch {
    batch: Batch,
    opened: Instant,
}

struct Inner {
    ledger: Ledger,
    /// The last log position used.
    seq: i64,
    /// The batch being filled, if any.
    open: Option<OpenBatch>,
    /// The number of the last closed batch.
    last_closed: u64,
    /// L1 operations waiting for a batch: (queue id, operation).
    l1_waiting: VecDeque<(i64, L1Op)>,
    /// Transactions confirmed and not yet proven, per batch (number, count).
    unproven: VecDeque<(u64, usize)>,
    /// The last proven batch.
    last_proven: u64,
}

impl Inner {
    fn backlog(&self) -> usize {
        self.unproven.iter().map(|(_, n)| n).sum::<usize>()
            + self.open.as_ref().map_or(0, |o| o.batch.txs.len())
    }
}

/// The sequencer.
pub struct Sequencer {
    inner: Mutex<Inner>,
    verifier: verifier::Verifier,
    log: LogWriter,
    index: TxIndex,
    pool: SqlitePool,
    settings: Settings,
    chain_id: u64,
}

/// The state a route shows.
#[derive(Clone, Debug, Serialize)]
pub struct StateView {
    /// The rollup's chain id.
    pub chain_id: u64,
    /// The pending state root (every confirmed transaction applied), 0x-hex.
    pub state_root: String,
    /// The same root in decimal.
    pub state_root_decimal: String,
    /// The last closed batch (0: none).
    pub last_batch: u64,
    /// The last proven batch (0: none).
    pub last_proven_batch: u64,
    /// The batch being filled, if any.
    pub open_batch: Option<u64>,
    /// Confirmed transactions not yet proven.
    pub backlog: usize,
    /// Accounts.
    pub accounts: usize,
    /// Transactions per batch.
    pub max_batch_size: usize,
}

/// A transaction's status.
#[derive(Clone, Debug, Serialize)]
pub struct TxStatus {
    /// Its hash.
    pub hash: String,
    /// confirmed, batched, proven or finalized.
    pub status: String,
    /// Its batch.
    pub batch: u64,
    /// Its position in the rollup's order.
    pub position: i64,
    /// The transaction as it was submitted.
    pub transaction: serde_json::Value,
}

/// A batch as `GET /v1/rollup/batches/{n}` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct BatchView {
    /// Its number.
    pub number: u64,
    /// open, proving, proven, failed or finalized.
    pub status: String,
    /// The state root before it (once executed).
    pub old_state_root: Option<String>,
    /// The state root after it (once executed).
    pub new_state_root: Option<String>,
    /// The exit list's root (once executed).
    pub exit_root: Option<String>,
    /// Transactions.
    pub tx_count: u64,
    /// L1 operations.
    pub l1_count: u64,
    /// The circuit's public input, decimal (once executed).
    pub public_input: Option<String>,
    /// The batch data, 0x-hex (once executed).
    pub data: Option<String>,
    /// The proof job (once proving).
    pub job_id: Option<String>,
    /// The proof in snarkjs's JSON (once proven).
    pub proof: Option<serde_json::Value>,
    /// The public signals (once proven).
    pub public_signals: Option<serde_json::Value>,
    /// Why it could not be proven.
    pub error: Option<String>,
}

fn hex(x: &Fr) -> String {
    kiln_rollup::tx::hash_hex(x)
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Sequencer {
    /// Opens the rollup in `dir` (its database `rollup.db`), starting from `genesis` (whose
    /// text is kept to refuse another one later) and replaying the durable log. Closed
    /// batches go to `closed` (those not yet built, then each new one).
    pub async fn open(
        dir: &Path,
        genesis_text: &str,
        settings: Settings,
        closed: mpsc::UnboundedSender<Batch>,
    ) -> Result<(Arc<Self>, Ledger), OpenError> {
        let genesis: Genesis = serde_json::from_str(genesis_text)
            .map_err(|e| GenesisError(format!("not a genesis document: {e}")))?;
        let base = Ledger::from_genesis(&genesis)?;
        std::fs::create_dir_all(dir).map_err(|e| DbError::Sql(sqlx::Error::Io(e)))?;
        let pool = open_db(&dir.join("rollup.db")).await?;
        let canonical = serde_json::to_string(
            &serde_json::from_str::<serde_json::Value>(genesis_text).unwrap_or_default(),
        )
        .unwrap_or_default();
        match sqlx::query("SELECT value FROM meta WHERE key = 'genesis'")
            .fetch_optional(&pool)
            .await?
        {
            Some(r) => {
                let stored: String = r.try_get("value")?;
                if stored != canonical {
                    let stored_chain = serde_json::from_str::<serde_json::Value>(&stored)
                        .ok()
                        .and_then(|v| v["chain_id"].as_u64())
                        .unwrap_or(0);
                    return Err(OpenError::OtherGenesis {
                        dir: dir.display().to_string(),
                        stored_chain,
                    });
                }
            }
            None => {
                sqlx::query("INSERT INTO meta (key, value) VALUES ('genesis', ?)")
                    .bind(&canonical)
                    .execute(&pool)
                    .await?;
            }
        }
        let mut inner = Inner {
            ledger: base.clone(),
            seq: 0,
            open: None,
            last_closed: 0,
            l1_waiting: VecDeque::new(),
            unproven: VecDeque::new(),
            last_proven: 0,
        };
        let mut closed_batches: Vec<Batch> = Vec::new();
        for e in log::read_log(&pool).await? {
            let bad = |problem: String| OpenError::Replay {
                seq: e.seq,
                problem,
            };
            inner.seq = e.seq;
            let open = inner.open.get_or_insert_with(|| OpenBatch {
                batch: Batch {
                    number: e.batch,
                    ..Batch::default()
                },
                opened: Instant::now(),
            });
            if open.batch.number != e.batch {
                return Err(bad(format!(
                    "batch {} while batch {} is open",
                    e.batch, open.batch.number
                )));
            }
            match e.kind {
                kind::TX => {
                    let s = parse_tx(e.body.as_bytes(), genesis.chain_id)
                        .map_err(|x| bad(x.to_string()))?;
                    inner
                        .ledger
                        .apply_verified(&s)
                        .map_err(|x| bad(x.to_string()))?;
                    open.batch.txs.push(s);
                }
                kind::L1 => {
                    let v: serde_json::Value =
                        serde_json::from_str(&e.body).map_err(|x| bad(x.to_string()))?;
                    let op = l1json::from_json(&v["op"]).map_err(bad)?;
                    inner.ledger.apply_l1(&op);
                    open.batch.l1_ops.push(op);
                }
                kind::CLOSE => {
                    inner.ledger.close_batch();
                    let b = inner.open.take().expect("an open batch").batch;
                    inner.last_closed = b.number;
                    closed_batches.push(b);
                }
                k => return Err(bad(format!("unknown kind {k}"))),
            }
        }
        // What became of the closed batches.
        let mut proven_upto = 0;
        for r in sqlx::query("SELECT number, status FROM batches ORDER BY number")
            .fetch_all(&pool)
            .await?
        {
            let n = r.try_get::<i64, _>("number")? as u64;
            let status: String = r.try_get("status")?;
            if status == "proven" || status == "finalized" {
                proven_upto = n;
            }
        }
        inner.last_proven = proven_upto;
        for b in &closed_batches {
            if b.number > proven_upto {
                inner.unproven.push_back((b.number, b.txs.len()));
            }
        }
        for r in sqlx::query("SELECT id, body FROM l1_queue WHERE included_in IS NULL ORDER BY id")
            .fetch_all(&pool)
            .await?
        {
            let v: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default();
            let id: i64 = r.try_get("id")?;
            let op = l1json::from_json(&v).map_err(|problem| OpenError::Replay {
                seq: 0,
                problem: format!("L1 queue entry {id}: {problem}"),
            })?;
            inner.l1_waiting.push_back((id, op));
        }
        let index = TxIndex::open(&dir.join("txindex.db"), &pool).await?;
        let log = LogWriter::start(&dir.join("rollup.db"), index.clone(), closed.clone()).await?;
        for b in closed_batches {
            let _ = closed.send(b);
        }
        tracing::info!(target: TARGET, chain_id = genesis.chain_id, position = inner.seq, last_batch = inner.last_closed, "rollup state replayed");
        Ok((
            Arc::new(Sequencer {
                inner: Mutex::new(inner),
                verifier: verifier::Verifier::start(
                    std::thread::available_parallelism().map_or(1, |n| n.get()),
                ),
                log,
                index,
                pool,
                settings,
                chain_id: genesis.chain_id,
            }),
            base,
        ))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The rollup's chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The database (for the batch builder's records).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn busy(&self, g: &Inner) -> Result<(), SubmitError> {
        if let Some(e) = self.log.failure() {
            return Err(SubmitError::Unavailable(e));
        }
        let backlog = g.backlog();
        if backlog >= self.settings.max_backlog {
            return Err(SubmitError::Busy {
                backlog,
                max: self.settings.max_backlog,
                retry_after_s: 1 + self.settings.batch_timeout.as_secs(),
            });
        }
        Ok(())
    }

    /// Opens a batch if none is open, putting the waiting L1 operations first.
    fn ensure_open(&self, g: &mut Inner) {
        if g.open.is_some() {
            return;
        }
        let number = g.last_closed + 1;
        g.open = Some(OpenBatch {
            batch: Batch {
                number,
                ..Batch::default()
            },
            opened: Instant::now(),
        });
        for _ in 0..l1_slots(self.settings.max_batch_size) {
            let Some((queue_id, op)) = g.l1_waiting.pop_front() else {
                break;
            };
            g.ledger.apply_l1(&op);
            g.seq += 1;
            self.log.send(Entry {
                seq: g.seq,
                batch: number,
                kind: kind::L1,
                hash: None,
                body: serde_json::json!({"queue_id": queue_id, "op": l1json::to_json(&op)})
                    .to_string(),
                extra: Extra::L1 { queue_id },
                reply: None,
            });
            g.open.as_mut().expect("open").batch.l1_ops.push(op);
        }
    }

    /// Closes the open batch, if any.
    fn close(&self, g: &mut Inner) {
        let Some(open) = g.open.take() else { return };
        g.ledger.close_batch();
        g.seq += 1;
        g.last_closed = open.batch.number;
        g.unproven
            .push_back((open.batch.number, open.batch.txs.len()));
        tracing::debug!(target: TARGET, batch = open.batch.number, txs = open.batch.txs.len(), l1 = open.batch.l1_ops.len(), "batch closed");
        self.log.send(Entry {
            seq: g.seq,
            batch: open.batch.number,
            kind: kind::CLOSE,
            hash: None,
            body: "{}".into(),
            extra: Extra::Close {
                batch: Box::new(open.batch),
                closed_at: now_ms(),
            },
            reply: None,
        });
    }

    /// Validates, orders and logs a transaction; answers once it is durable.
    pub async fn submit(&self, s: SignedTx) -> Result<Confirmation, SubmitError> {
        let key = {
            let g = self.lock();
            self.busy(&g)?;
            g.ledger
                .account(s.tx.from)
                .map(|a| a.key)
                .ok_or(TxError::UnknownSender(s.tx.from))?
        };
        let (s, message) = self
            .verifier
            .check(key, s)
            .await
            .map_err(|e| SubmitError::Unavailable(LogError(e.to_string())))?;
        let hash = hex(&message?);
        let (reply, done) = oneshot::channel();
        let (batch, position) = {
            let mut g = self.lock();
            self.busy(&g)?;
            if !g.l1_waiting.is_empty() {
                self.ensure_open(&mut g);
            }
            match g.ledger.apply_verified(&s) {
                Ok(_) => {}
                Err(TxError::FeeSlotsFull) => {
                    self.close(&mut g);
                    self.ensure_open(&mut g);
                    g.ledger.apply_verified(&s)?;
                }
                Err(e) => return Err(e.into()),
            }
            self.ensure_open(&mut g);
            g.seq += 1;
            let seq = g.seq;
            let open = g.open.as_mut().expect("open");
            let number = open.batch.number;
            let body = wallet::body(&s).to_string();
            open.batch.txs.push(s);
            let full = open.batch.txs.len() >= self.settings.max_batch_size;
            self.log.send(Entry {
                seq,
                batch: number,
                kind: kind::TX,
                hash: Some(hash.clone()),
                body,
                extra: Extra::None,
                reply: Some(reply),
            });
            if full {
                self.close(&mut g);
            }
            (number, seq)
        };
        done.await
            .unwrap_or_else(|_| Err(LogError("the log writer has stopped".into())))?;
        Ok(Confirmation {
            hash,
            status: "confirmed",
            batch,
            position,
        })
    }

    /// Closes the open batch if it has been open for the batch timeout; returns how long
    /// until the next check is worth making.
    pub fn tick(&self) -> Duration {
        let mut g = self.lock();
        let timeout = self.settings.batch_timeout;
        if g.open.is_none() && !g.l1_waiting.is_empty() {
            self.ensure_open(&mut g);
        }
        match &g.open {
            Some(o) if o.opened.elapsed() >= timeout => {
                self.close(&mut g);
                timeout
            }
            Some(o) => timeout - o.opened.elapsed(),
            None => timeout,
        }
    }

    /// Runs [`Self::tick`] for ever.
    pub async fn run_timer(self: Arc<Self>) {
        loop {
            let wait = self
                .tick()
                .clamp(Duration::from_millis(1), Duration::from_millis(250));
            tokio::time::sleep(wait).await;
        }
    }

    /// Puts an L1 operation in the queue (durably); it goes into the next batch that opens.
    pub async fn enqueue_l1(&self, op: L1Op) -> Result<i64, sqlx::Error> {
        let id: i64 = sqlx::query("INSERT INTO l1_queue (body) VALUES (?) RETURNING id")
            .bind(l1json::to_json(&op).to_string())
            .fetch_one(&self.pool)
            .await?
            .try_get("id")?;
        self.lock().l1_waiting.push_back((id, op));
        Ok(id)
    }

    /// Queues the L1 operation at position `l1_index` of the rollup contract's queue,
    /// durably, unless that position is queued already (then `false`: nothing changes).
    pub async fn enqueue_from_l1(&self, l1_index: u64, op: L1Op) -> Result<bool, sqlx::Error> {
        let row = sqlx::query(
            "INSERT INTO l1_queue (body, l1_index) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(l1json::to_json(&op).to_string())
        .bind(l1_index as i64)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(false) };
        let id: i64 = row.try_get("id")?;
        self.lock().l1_waiting.push_back((id, op));
        Ok(true)
    }

    /// The position in the contract's queue of the next L1 operation to queue.
    pub async fn next_l1_index(&self) -> Result<u64, sqlx::Error> {
        let next: i64 = sqlx::query("SELECT COALESCE(MAX(l1_index) + 1, 0) AS next FROM l1_queue")
            .fetch_one(&self.pool)
            .await?
            .try_get("next")?;
        Ok(next as u64)
    }

    /// A stored setting (`meta`), if set.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("value"))
            .transpose()
    }

    /// Stores a setting (`meta`).
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Proven batches verified on L1: batches up to `number` become `finalized`.
    pub async fn record_finalized(&self, number: u64) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query(
            "UPDATE batches SET status = 'finalized' WHERE number <= ? AND status = 'proven'",
        )
        .bind(number as i64)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Batch `number`'s data and proof (snarkjs JSON), once it is proven.
    pub async fn proven_batch(
        &self,
        number: u64,
    ) -> Result<Option<(Vec<u8>, String)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT data, proof FROM batches WHERE number = ? AND status IN ('proven', 'finalized') AND data IS NOT NULL AND proof IS NOT NULL",
        )
        .bind(number as i64)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("data")?, r.try_get("proof")?)))
            .transpose()
    }

    /// Records that batch `number` is proven: its transactions leave the backlog.
    pub fn proven(&self, number: u64) {
        let mut g = self.lock();
        while g.unproven.front().is_some_and(|(n, _)| *n <= number) {
            g.unproven.pop_front();
        }
        g.last_proven = g.last_proven.max(number);
    }

    /// The account at `index` in the pending state.
    pub fn account(&self, index: u32) -> Option<Account> {
        self.lock().ledger.account(index).cloned()
    }

    /// The pending root, the leaf at `index` and its state proof.
    pub fn proof(&self, index: u32) -> (Fr, Fr, StateProof) {
        let mut g = self.lock();
        let proof = g.ledger.proof(index);
        let root = g.ledger.root();
        let leaf = g.ledger.leaf(index);
        (root, leaf, proof)
    }

    /// The rollup's state.
    pub fn state(&self) -> StateView {
        let mut g = self.lock();
        let root = g.ledger.root();
        StateView {
            chain_id: self.chain_id,
            state_root: hex(&root),
            state_root_decimal: kiln_rollup::babyjub::to_biguint(&root).to_string(),
            last_batch: g.last_closed,
            last_proven_batch: g.last_proven,
            open_batch: g.open.as_ref().map(|o| o.batch.number),
            backlog: g.backlog(),
            accounts: g.ledger.len(),
            max_batch_size: self.settings.max_batch_size,
        }
    }

    /// A transaction's status by its hash (0x and 64 hex digits).
    pub async fn tx_status(&self, hash: &str) -> Result<Option<TxStatus>, sqlx::Error> {
        let Some(seq) = self.index.lookup(hash).await? else {
            return Ok(None);
        };
        let Some(r) = sqlx::query("SELECT l.seq, l.batch, l.body, b.status FROM log l LEFT JOIN batches b ON b.number = l.batch WHERE l.seq = ?")
            .bind(seq)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let batch = r.try_get::<i64, _>("batch")? as u64;
        let status = match r.try_get::<Option<String>, _>("status")?.as_deref() {
            None => "confirmed",
            Some("proven") => "proven",
            Some("finalized") => "finalized",
            Some(_) => "batched",
        };
        Ok(Some(TxStatus {
            hash: hash.to_string(),
            status: status.into(),
            batch,
            position: r.try_get("seq")?,
            transaction: serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default(),
        }))
    }

    /// Batch `number`: the open one, or a closed one as recorded.
    pub async fn batch(&self, number: u64) -> Result<Option<BatchView>, sqlx::Error> {
        let open = {
            let g = self.lock();
            g.open
                .as_ref()
                .filter(|o| o.batch.number == number)
                .map(|o| (o.batch.txs.len(), o.batch.l1_ops.len()))
        };
        if let Some((txs, l1)) = open {
            return Ok(Some(BatchView {
                number,
                status: "open".into(),
                old_state_root: None,
                new_state_root: None,
                exit_root: None,
                tx_count: txs as u64,
                l1_count: l1 as u64,
                public_input: None,
                data: None,
                job_id: None,
                proof: None,
                public_signals: None,
                error: None,
            }));
        }
        let Some(r) = sqlx::query("SELECT * FROM batches WHERE number = ?")
            .bind(number as i64)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let json = |c: &str| -> Result<Option<serde_json::Value>, sqlx::Error> {
            Ok(r.try_get::<Option<String>, _>(c)?
                .and_then(|t| serde_json::from_str(&t).ok()))
        };
        let status: String = r.try_get("status")?;
        Ok(Some(BatchView {
            number,
            status: if status == "closed" {
                "proving".into()
            } else {
                status
            },
            old_state_root: r.try_get("old_root")?,
            new_state_root: r.try_get("new_root")?,
            exit_root: r.try_get("exit_root")?,
            tx_count: r.try_get::<i64, _>("tx_count")? as u64,
            l1_count: r.try_get::<i64, _>("l1_count")? as u64,
            public_input: r.try_get("public_input")?,
            data: r
                .try_get::<Option<Vec<u8>>, _>("data")?
                .map(|d| format!("0x{}", hex_bytes(&d))),
            job_id: r.try_get("job_id")?,
            proof: json("proof")?,
            public_signals: json("public_signals")?,
            error: r.try_get("error")?,
        }))
    }
}

impl Sequencer {
    /// The snarkjs verification key of the circuit that proves batch `number`, once the
    /// batch has a key.
    pub async fn verification_key(
        &self,
        number: u64,
    ) -> Result<Option<serde_json::Value>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT k.vk FROM batches b JOIN circuit_keys k ON k.id = b.key_id WHERE b.number = ?",
        )
        .bind(number as i64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => serde_json::from_str(&r.try_get::<String, _>("vk")?).ok(),
            None => None,
        })
    }

    /// The closed batch whose new state root is `root` (0x-hex), if any.
    pub async fn batch_with_root(&self, root: &str) -> Result<Option<u64>, sqlx::Error> {
        let row =
            sqlx::query("SELECT number FROM batches WHERE new_root = ? ORDER BY number LIMIT 1")
                .bind(root)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(r) => Some(r.try_get::<i64, _>("number")? as u64),
            None => None,
        })
    }
}

fn hex_bytes(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
