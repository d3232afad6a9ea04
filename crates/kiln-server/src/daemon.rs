//! `kiln serve`: the control-plane daemon. Opens the data dir (one process per dir, by
//! lock), the store, the device; recovers jobs left by a previous process (running ones
//! run again, queued ones stay queued); then serves the REST API while the dispatcher
//! proves jobs and the webhook sender reports them.
//!
//! On start it prints `kiln serve: listening on http://ADDR` on stdout (with the real port
//! when `--listen` asked for port 0), and a generated admin key once, when there is none.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Notify};

use crate::config::{ConfigError, ServeArgs, ServeConfig};
use crate::secrets;
use crate::state::AppState;
use kiln_device::DeviceError;
use kiln_jobs::devices::ProvingDevice;
use kiln_jobs::handoff::WitnessHandoff;
use kiln_jobs::keycache::KeyCache;
use kiln_jobs::queue::JobQueue;
use kiln_jobs::runner::{dispatch, end_interrupted};
use kiln_jobs::webhook::deliver;
use kiln_store::{now_ms, DataDirs, SqliteStore, Store, StoreError};

/// How long open requests may run on once an orderly stop is signalled.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Meta key of the generated admin key's hash.
const ADMIN_HASH_KEY: &str = "admin_key_sha256";

/// Why the daemon could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Bad settings.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A file or directory of the data dir (the I/O error is the source).
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Another process serves this data dir.
    #[error("{0}: another kiln serve process is using this data dir")]
    Locked(PathBuf),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The proving device.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The rollup cannot start.
    #[error("rollup: {0}")]
    Rollup(String),
    /// The listen address.
    #[error("cannot listen on {addr}: {message}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        message: String,
    },
}

fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> ServeError + '_ {
    move |source| ServeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The rollup, opened: its routes' state, and what its prover starts from.
struct OpenRollup {
    routes: crate::api::rollup::Rollup,
    base: kiln_rollup::ledger::Ledger,
    closed: tokio::sync::mpsc::UnboundedReceiver<kiln_rollup::batch::Batch>,
}

/// Opens the rollup in the data dir's `rollup/` (replaying its log) and starts its batch
/// timer; its prover starts once the appliance's state exists.
async fn open_rollup(
    rc: &crate::config::RollupConfig,
    dirs: &DataDirs,
) -> Result<OpenRollup, ServeError> {
    let path = rc
        .genesis
        .as_ref()
        .ok_or_else(|| ServeError::Rollup("no genesis given".into()))?;
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let settings = kiln_sequencer::Settings {
        max_batch_size: rc.max_batch_size,
        batch_timeout: Duration::from_millis(rc.batch_timeout_ms),
        max_backlog: rc.max_backlog,
    };
    if let Some(zkey) = rc.zkey.clone() {
        let size = rc.max_batch_size;
        tokio::task::spawn_blocking(move || crate::rollup_prover::check_given_key(&zkey, size))
            .await
            .map_err(|e| ServeError::Rollup(e.to_string()))?
            .map_err(|e| ServeError::Rollup(format!("--rollup-zkey {e}")))?;
    }
    let (closed_tx, closed) = tokio::sync::mpsc::unbounded_channel();
    let (sequencer, base) =
        kiln_sequencer::Sequencer::open(&dirs.root.join("rollup"), &text, settings, closed_tx)
            .await
            .map_err(|e| ServeError::Rollup(format!("{}: {e}", path.display())))?;
    tokio::spawn(sequencer.clone().run_timer());
    tracing::info!(target: crate::TARGET, chain_id = sequencer.chain_id(), batch_size = rc.max_batch_size, "rollup running");
    Ok(OpenRollup {
        routes: crate::api::rollup::Rollup::new(sequencer, rc.rate_limit),
        base,
        closed,
    })
}

/// Starts the rollup's L1 side (deployment, follower, submitter) in the background; a
/// failure is logged and leaves the rollup running without L1.
fn start_l1(
    state: &AppState,
    sequencer: Arc<kiln_sequencer::Sequencer>,
    rc: &crate::config::RollupConfig,
    l1: crate::config::L1Config,
) {
    let settings = kiln_l1::node::L1Settings {
        url: l1.url.clone().unwrap_or_default(),
        private_key: l1.private_key.clone(),
        deployment_file: l1
            .deployment
            .clone()
            .unwrap_or_else(|| state.dirs.root.join("rollup/l1-deployment.json")),
        confirmations: l1.confirmations,
        poll: Duration::from_millis(l1.poll_ms),
        bump_after: Duration::from_secs(l1.bump_after_s),
        proof_deadline_s: 3600,
        inclusion_deadline_s: l1.inclusion_deadline_s,
        max_pause_s: l1.inclusion_deadline_s / 4,
    };
    let genesis = rc.genesis.clone();
    let batch_size = rc.max_batch_size;
    tokio::spawn(async move {
        let text = match genesis.as_ref().map(std::fs::read_to_string) {
            Some(Ok(t)) => t,
            _ => {
                tracing::error!(target: crate::TARGET, "the rollup's L1 side cannot read the genesis");
                return;
            }
        };
        if let Err(e) = kiln_l1::node::start(settings, sequencer, &text, batch_size).await {
            tracing::error!(target: crate::TARGET, error = %e, "the rollup runs without its L1");
        }
    });
}

/// Runs the daemon until SIGINT/SIGTERM.
pub fn run(args: ServeArgs) -> Result<(), ServeError> {
    let mut cfg = ServeConfig::resolve(args)?;
    // A development L1 is started here, on the main thread, which lives as long as the
    // process: anvil is killed when the thread that started it ends.
    let _anvil = match cfg.rollup.as_mut().and_then(|r| r.l1.as_mut()) {
        Some(l1) if l1.url.is_none() => {
            let dir = cfg.data_dir.join("rollup");
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let anvil = kiln_l1::anvil::Anvil::start(&dir.join("anvil-state.json"), 1)
                .map_err(|e| ServeError::Rollup(e.to_string()))?;
            l1.url = Some(anvil.url.clone());
            Some(anvil)
        }
        _ => None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("kiln-serve")
        .build()
        .map_err(io(std::path::Path::new("<tokio runtime>")))?;
    let res = rt.block_on(serve(cfg));
    // Proofs still running on blocking threads are not waited for: their jobs are still
    // `running` in the store and run again at the next start.
    rt.shutdown_timeout(Duration::from_millis(500));
    res
}

async fn serve(cfg: ServeConfig) -> Result<(), ServeError> {
    // A taken or forbidden address is refused before anything is created or recovered (the
    // probe is closed at once; the server binds the address again once it is ready).
    drop(
        std::net::TcpListener::bind(cfg.listen).map_err(|e| ServeError::Bind {
            addr: cfg.listen,
            message: e.to_string(),
        })?,
    );
    let dirs = DataDirs::new(cfg.data_dir.clone());
    for d in [&dirs.root, &dirs.circuits, &dirs.witnesses, &dirs.tmp] {
        std::fs::create_dir_all(d).map_err(io(d))?;
    }
    let lock_path = dirs.root.join("kiln.lock");
    let lock = File::create(&lock_path).map_err(io(&lock_path))?;
    if lock.try_lock().is_err() {
        return Err(ServeError::Locked(dirs.root.clone()));
    }
    // Uploads that were in flight when a previous process stopped.
    if let Ok(entries) = std::fs::read_dir(&dirs.tmp) {
        for e in entries.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }

    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dirs.root.join("kiln.db")).await?);
    let admin_key_hash = match &cfg.admin_key {
        Some(k) => secrets::hash_key(k),
        None => match store.meta_get(ADMIN_HASH_KEY).await? {
            Some(h) => h,
            None => {
                let key = secrets::new_secret(secrets::ADMIN_KEY_PREFIX);
                let h = secrets::hash_key(&key);
                store.meta_set(ADMIN_HASH_KEY, &h).await?;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "kiln serve: generated admin key (shown once; only its hash is stored): {key}"
                );
                let _ = out.flush();
                h
            }
        },
    };
    let device = ProvingDevice::open(
        &cfg.device,
        cfg.precompute_bytes,
        &cfg.data_dir.join("calibration.json"),
    )?;
    let (rollup, rollup_prover) = match &cfg.rollup {
        Some(rc) => {
            let r = open_rollup(rc, &dirs).await?;
            let sequencer = r.routes.sequencer.clone();
            (
                Some(r.routes),
                Some((sequencer, r.base, r.closed, rc.clone())),
            )
        }
        None => (None, None),
    };
    let state = Arc::new(AppState {
        rollup,
        queue: Arc::new(JobQueue::new(Duration::from_secs(cfg.aging_secs))),
        keys: Arc::new(KeyCache::new(cfg.key_cache)),
        handoff: Arc::new(WitnessHandoff::new(cfg.witness_memory_bytes)),
        intake: crate::api::intake::intake_budget(),
        metrics: Default::default(),
        submit_lock: Mutex::new(()),
        webhook_wake: Arc::new(Notify::new()),
        ready: Default::default(),
        stop: Default::default(),
        started: Instant::now(),
        device: Arc::new(device),
        admin_key_hash,
        store: store.clone(),
        dirs,
        cfg: cfg.clone(),
    });

    // Recovery: jobs a previous process left running go back in the queue, but for those
    // asked to cancel or interrupted too often, which end now.
    let (requeued, to_end) = store.recover_running(cfg.max_attempts).await?;
    let runner = Arc::new(state.runner());
    for job in &to_end {
        end_interrupted(&runner, job).await;
    }
    let queued = store.queued_jobs().await?;
    let orphans = remove_orphan_witnesses(&state.dirs, &queued);
    tracing::info!(
        target: crate::TARGET,
        requeued = requeued.len(),
        ended = to_end.len(),
        queued = queued.len(),
        orphan_witnesses = orphans,
        "recovered jobs from the store"
    );
    for q in queued {
        state.queue.push(q);
    }

    if let Some((sequencer, base, closed, rc)) = rollup_prover {
        if let Some(l1) = rc.l1.clone() {
            start_l1(&state, sequencer.clone(), &rc, l1);
        }
        crate::rollup_prover::start(state.clone(), sequencer, base, closed, rc);
    }

    let routes = crate::api::routes(state.clone());
    reset_stop_signals();
    let stop_signalled = Arc::new(Notify::new());
    let signalled = stop_signalled.clone();
    let stopping_state = state.clone();
    let shutdown = async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = ctrl_c => {},
                        _ = term.recv() => {},
                    }
                }
                Err(_) => {
                    let _ = ctrl_c.await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
        tracing::info!(target: crate::TARGET, "shutting down: no new requests; unfinished jobs resume at the next start");
        // No job starts from now on, and long-polls answer at once instead of holding
        // their connections (which the server waits for) open.
        stopping_state.stop.begin();
        stopping_state.queue.notify_all();
        signalled.notify_one();
    };
    let (addr, server) = warp::serve(routes)
        .try_bind_with_graceful_shutdown(cfg.listen, shutdown)
        .map_err(|e| ServeError::Bind {
            addr: cfg.listen,
            message: e.to_string(),
        })?;
    let dispatcher = tokio::spawn(dispatch(runner));
    tokio::spawn(deliver(Arc::new(state.deliverer())));
    tokio::spawn(purge_expired_idempotency_keys(state.clone()));
    state.ready.store(true, Ordering::Release);
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "kiln serve: listening on http://{addr}");
        let _ = out.flush();
    }
    tracing::info!(target: crate::TARGET, %addr, data_dir = %cfg.data_dir.display(), device = %state.device.spec, workers = cfg.workers, "kiln serve is up");
    // Open requests get a few seconds to finish once the stop is signalled.
    tokio::select! {
        _ = server => {}
        _ = async {
            stop_signalled.notified().await;
            tokio::time::sleep(STOP_GRACE).await;
        } => {
            tracing::warn!(target: crate::TARGET, grace_secs = STOP_GRACE.as_secs(), "requests still open after the grace period; stopping anyway");
        }
    }
    // Orderly stop: no new jobs start, and the running ones go back to the queue without
    // counting as a failed attempt (their proofs are abandoned; they run again next start).
    state.stop.begin();
    dispatcher.abort();
    state.ready.store(false, Ordering::Release);
    // Wait for starts being recorded right now; none are recorded after this.
    let _no_more_starts = state.stop.no_more_starts().await;
    match state.store.requeue_running_at_shutdown().await {
        Ok(ids) if !ids.is_empty() => {
            tracing::info!(target: crate::TARGET, jobs = ?ids, "running jobs requeued for the next start")
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(target: crate::TARGET, error = %e, "cannot requeue the running jobs; the next start recovers them")
        }
    }
    drop(lock);
    Ok(())
}

/// Deletes witness files that belong to no unfinished job (a submission interrupted
/// between storing its witness and committing its job); returns how many.
fn remove_orphan_witnesses(dirs: &DataDirs, queued: &[kiln_store::QueuedJob]) -> usize {
    let keep: std::collections::HashSet<std::path::PathBuf> =
        queued.iter().map(|q| dirs.witness(&q.id)).collect();
    let Ok(entries) = std::fs::read_dir(&dirs.witnesses) else {
        return 0;
    };
    let mut removed = 0;
    for path in entries.flatten().map(|e| e.path()) {
        if !keep.contains(&path) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Deletes expired idempotency records now and then (expired ones are already ignored; this
/// keeps the table from growing with every key a client ever used).
async fn purge_expired_idempotency_keys(state: Arc<AppState>) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        let before = now_ms() - state.idempotency_ttl_ms();
        match state.store.purge_idempotency(before).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(target: crate::TARGET, records = n, "expired idempotency keys purged")
            }
            Err(e) => {
                tracing::warn!(target: crate::TARGET, error = %e, "cannot purge expired idempotency keys")
            }
        }
    }
}

/// Gives SIGINT and SIGTERM back their default disposition before the shutdown handler
/// registers for them. Device drivers opened at start can install their own handlers (PoCL's
/// LLVM does: it cleans up, then re-raises the signal with the default action, killing the
/// process); the shutdown handler chains to whatever it finds, so without this an orderly
/// stop became a kill once an OpenCL driver was loaded.
fn reset_stop_signals() {
    #[cfg(unix)]
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `signal` with `SIG_DFL` installs no code of ours; it runs before the
        // runtime registers its own handlers, and no other code in kiln handles these.
        let previous = unsafe { libc::signal(sig, libc::SIG_DFL) };
        if previous != libc::SIG_DFL {
            tracing::debug!(
                target: crate::TARGET,
                signal = sig,
                "a driver's handler for a stop signal was removed"
            );
        }
    }
}
