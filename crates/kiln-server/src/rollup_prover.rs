//! The rollup's batch proofs in the appliance's own job queue and device scheduler.
//!
//! At start the batch circuit's proving key for the configured batch size is found: the
//! operator's ceremony key (`--rollup-zkey`, checked against the circuit), else the
//! development key made earlier, else a new development key made by kiln's setup (a
//! minute or so at batch size 16 on 2 cores; confirmations go on meanwhile). The key is a
//! circuit of the system tenant `rollup`. Each built batch's witness is computed natively
//! from its trace; a batch that breaks a rule has no satisfying witness, so it is marked
//! failed with the constraint it breaks and never proven. Otherwise it becomes a job at
//! [`ROLLUP_PRIORITY`], above any tenant's even after hours of aging, and a watcher records
//! its proof on the batch when the job ends.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kiln_algebra::curve::Bn254;
use kiln_formats::zkey::Zkey;
use kiln_groth16::types::VerifyingKey;
use kiln_rollup::batch::Batch;
use kiln_rollup::ledger::Ledger;
use kiln_rollup::trace::BatchTrace;
use kiln_sequencer::records::KeyRecord;
use kiln_sequencer::Sequencer;
use kiln_store::{now_ms, ApiKey, Circuit, JobStatus, NewJob, QueuedJob, Quotas, Tenant};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::config::RollupConfig;
use crate::state::AppState;

/// The system tenant whose jobs prove the rollup's batches.
pub const ROLLUP_TENANT: &str = "rollup";
/// The priority of batch proofs: above every tenant's (0 to 9, plus aging).
pub const ROLLUP_PRIORITY: i32 = 1_000_000;
/// How often the watcher looks at running batch proofs.
const WATCH_EVERY: Duration = Duration::from_millis(200);

/// A key the prover can use: its record and circuit size.
#[derive(Clone)]
struct ReadyKey {
    record: KeyRecord,
    n_constraints: u64,
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Finds or makes the proving key for `batch_size` (blocking: setup and hashing). A key
/// given with `--rollup-zkey` was checked at start ([`check_given_key`]).
fn prepare_key(
    batch_size: usize,
    given: Option<&Path>,
    recorded: Option<KeyRecord>,
    keys_dir: &Path,
) -> Result<(PathBuf, u64, bool), String> {
    let shape = kiln_batch_circuit::shape(batch_size).map_err(|e| e.to_string())?;
    let n_constraints = shape.constraints as u64;
    if let Some(path) = given {
        return Ok((path.to_path_buf(), n_constraints, false));
    }
    if let Some(r) = recorded {
        let path = PathBuf::from(&r.zkey_path);
        if path.exists() && check_key(&path, shape.wires, batch_size).is_ok() {
            return Ok((path, n_constraints, false));
        }
    }
    std::fs::create_dir_all(keys_dir).map_err(|e| format!("{}: {e}", keys_dir.display()))?;
    let path = keys_dir.join(format!("batch-{batch_size}-dev.zkey"));
    tracing::warn!(target: crate::TARGET, batch_size, constraints = n_constraints, "making a development proving key for the batch circuit (not for production: run a ceremony on kiln rollup circuit export and give its key with --rollup-zkey)");
    let circuit = kiln_batch_circuit::r1cs(batch_size).map_err(|e| e.to_string())?;
    let contents =
        kiln_groth16::setup(&circuit, &mut rand::rngs::OsRng).map_err(|e| e.to_string())?;
    kiln_formats::zkey_write::write_zkey(&path, &contents).map_err(|e| e.to_string())?;
    Ok((path, n_constraints, true))
}

/// Checks a ceremony key given with `--rollup-zkey` against the batch circuit (before the
/// daemon starts, so a wrong key is a start-up error). Only the circuit's shape is needed,
/// not its constraints.
pub fn check_given_key(path: &Path, batch_size: usize) -> Result<(), String> {
    let shape = kiln_batch_circuit::shape(batch_size).map_err(|e| e.to_string())?;
    check_key(path, shape.wires, batch_size)
}

/// Whether the key at `path` is for a circuit of `n_wires` signals and one public input.
fn check_key(path: &Path, n_wires: usize, batch_size: usize) -> Result<(), String> {
    let zk = Zkey::<Bn254>::open(path).map_err(|e| e.to_string())?;
    let h = zk.header();
    if h.n_public != 1 || h.n_vars != n_wires {
        return Err(format!(
            "{}: a key for {} signals and {} public inputs, but the batch circuit of {batch_size} transactions has {n_wires} signals and 1 public input (export it with kiln rollup circuit export --batch-size {batch_size})",
            path.display(),
            h.n_vars,
            h.n_public,
        ));
    }
    Ok(())
}

/// Registers the key as a circuit of the system tenant and records it for the rollup.
async fn install_key(
    state: &AppState,
    seq: &Sequencer,
    rc: &RollupConfig,
) -> Result<ReadyKey, String> {
    let store = &state.store;
    if store
        .get_tenant(ROLLUP_TENANT)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        let now = now_ms();
        let tenant = Tenant {
            id: ROLLUP_TENANT.into(),
            name: "rollup (system: batch proofs)".into(),
            created_at: now,
            webhook_secret: crate::secrets::new_secret("whsec_"),
            quotas: Quotas::default(),
        };
        // A key nobody holds: the tenant exists for its jobs, not for clients.
        let key = ApiKey {
            id: uuid::Uuid::new_v4().to_string(),
            tenant_id: ROLLUP_TENANT.into(),
            key_hash: crate::secrets::hash_key(&crate::secrets::new_secret("unused_")),
            prefix: "unused".into(),
            label: Some("none: the rollup's system tenant takes no requests".into()),
            created_at: now,
            revoked_at: Some(now),
        };
        store
            .create_tenant(&tenant, &key)
            .await
            .map_err(|e| e.to_string())?;
    }
    let recorded = seq
        .key_for(rc.max_batch_size)
        .await
        .map_err(|e| e.to_string())?;
    let (batch_size, given, keys_dir) = (
        rc.max_batch_size,
        rc.zkey.clone(),
        state.dirs.root.join("rollup/keys"),
    );
    let (path, n_constraints, _) = tokio::task::spawn_blocking(move || {
        prepare_key(batch_size, given.as_deref(), recorded, &keys_dir)
    })
    .await
    .map_err(|e| e.to_string())??;
    let dirs = state.dirs.clone();
    let p = path.clone();
    let (id, size, vk) = tokio::task::spawn_blocking(move || -> Result<_, String> {
        let id = sha256_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        let dest = dirs.zkey(&id);
        if !dest.exists() {
            std::fs::hard_link(&p, &dest)
                .or_else(|_| std::fs::copy(&p, &dest).map(|_| ()))
                .map_err(|e| format!("{}: {e}", dest.display()))?;
        }
        let zk = Zkey::<Bn254>::open(&dest).map_err(|e| e.to_string())?;
        let vk = VerifyingKey::from_zkey(&zk).map_err(|e| e.to_string())?;
        let vk = serde_json::to_value(kiln_groth16::snarkjs::verifying_key_to_json(&vk))
            .map_err(|e| e.to_string())?;
        let size = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
        Ok((id, size, vk))
    })
    .await
    .map_err(|e| e.to_string())??;
    let zk_header = {
        let dest = state.dirs.zkey(&id);
        tokio::task::spawn_blocking(move || Zkey::<Bn254>::open(&dest).map(|z| z.header().clone()))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?
    };
    store
        .add_circuit(&Circuit {
            id: id.clone(),
            tenant_id: ROLLUP_TENANT.into(),
            curve: "bn128".into(),
            n_public: zk_header.n_public as u64,
            n_vars: zk_header.n_vars as u64,
            domain_size: zk_header.domain_size as u64,
            n_constraints,
            size_bytes: size,
            created_at: now_ms(),
        })
        .await
        .map_err(|e| e.to_string())?;
    let record = KeyRecord {
        id,
        batch_size,
        zkey_path: path.display().to_string(),
        vk,
    };
    seq.record_key(&record).await.map_err(|e| e.to_string())?;
    tracing::info!(target: crate::TARGET, batch_size, key = %record.id, "rollup proving key ready");
    Ok(ReadyKey {
        record,
        n_constraints,
    })
}

/// The id of the proof job of batch `number` with key `key_id`: the same on every run, so a
/// batch handed to the prover again after a crash (between its job's insert and its
/// record) finds its job instead of queueing a second one. A UUID (version 8) made from
/// SHA-256 of the rollup's chain id, the key and the batch number.
fn batch_job_id(chain_id: u64, key_id: &str, number: u64) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!(
        "kiln rollup {chain_id} key {key_id} batch {number}"
    ));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Turns a built batch into a proof job (or marks it failed when it has no witness).
async fn submit(
    state: &AppState,
    seq: &Sequencer,
    key: &ReadyKey,
    trace: BatchTrace,
) -> Result<(), String> {
    let number = trace.number;
    let id = batch_job_id(seq.chain_id(), &key.record.id, number);
    if state
        .store
        .get_job(&id)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        // Queued before a crash that came before its record: the job (recovered with the
        // other queued jobs at start) is the batch's.
        tracing::info!(target: crate::TARGET, batch = number, job = %id, "batch proof job found from before a restart");
        return seq
            .record_job(number, &id, &key.record.id)
            .await
            .map_err(|e| e.to_string());
    }
    let values = match tokio::task::spawn_blocking(move || kiln_batch_circuit::witness(&trace))
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(v) => Arc::new(v),
        Err(e) => {
            let message = format!("batch {number} cannot be proven: {e}");
            tracing::error!(target: crate::TARGET, batch = number, error = %e, "a batch has no satisfying witness");
            return seq
                .record_failed(number, &message)
                .await
                .map_err(|e| e.to_string());
        }
    };
    let path = state.dirs.witness(&id);
    let (p, v) = (path.clone(), values.clone());
    tokio::task::spawn_blocking(move || kiln_formats::wtns::write_wtns::<Bn254>(&p, &v))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let job = NewJob {
        id: id.clone(),
        tenant_id: ROLLUP_TENANT.into(),
        circuit_id: key.record.id.clone(),
        batch_id: None,
        priority: ROLLUP_PRIORITY,
        webhook_url: None,
        witness_path: path.display().to_string(),
        n_constraints: key.n_constraints,
        created_at: now_ms(),
    };
    let seqs = state
        .store
        .insert_jobs(std::slice::from_ref(&job), None)
        .await
        .map_err(|e| e.to_string())?;
    state.handoff.put(&id, values);
    state.queue.push(QueuedJob {
        seq: seqs[0],
        id: id.clone(),
        tenant_id: job.tenant_id.clone(),
        circuit_id: job.circuit_id.clone(),
        priority: job.priority,
        created_at: job.created_at,
    });
    seq.record_job(number, &id, &key.record.id)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(target: crate::TARGET, batch = number, job = %id, "batch proof queued");
    Ok(())
}

/// Records the proofs of batch jobs as they end.
async fn watch(state: Arc<AppState>, seq: Arc<Sequencer>) {
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let Ok(proving) = seq.proving_jobs().await else {
            continue;
        };
        for (number, job_id) in proving {
            let job = match state.store.get_job(&job_id).await {
                Ok(Some(j)) => j,
                Ok(None) => {
                    let _ = seq
                        .record_failed(number, &format!("its proof job {job_id} is gone"))
                        .await;
                    continue;
                }
                Err(_) => continue,
            };
            let done = match job.status {
                JobStatus::Succeeded => match (&job.proof, &job.public_signals) {
                    (Some(p), Some(s)) => seq.record_proven(number, p, s).await,
                    _ => {
                        seq.record_failed(number, "its proof job succeeded without a proof")
                            .await
                    }
                },
                JobStatus::Failed | JobStatus::Cancelled => {
                    let why = job
                        .error_message
                        .clone()
                        .unwrap_or_else(|| format!("{:?}", job.status));
                    seq.record_failed(number, &format!("its proof job {job_id} failed: {why}"))
                        .await
                }
                _ => continue,
            };
            match done {
                Ok(()) => {
                    tracing::info!(target: crate::TARGET, batch = number, job = %job_id, status = ?job.status, "batch proof ended")
                }
                Err(e) => {
                    tracing::error!(target: crate::TARGET, batch = number, error = %e, "cannot record a batch proof")
                }
            }
        }
    }
}

/// Starts the rollup's proving: the batch builder at once (batches are built while the key
/// is being made), then the key, the proof jobs and the watcher.
pub fn start(
    state: Arc<AppState>,
    seq: Arc<Sequencer>,
    base: Ledger,
    closed: mpsc::UnboundedReceiver<Batch>,
    rc: RollupConfig,
) {
    if !rc.prove {
        tracing::info!(target: crate::TARGET, "--rollup-prove false: batches are built and kept unproven");
        tokio::spawn(kiln_sequencer::builder::run(
            seq.pool().clone(),
            base,
            rc.max_batch_size,
            closed,
            None,
        ));
        return;
    }
    let (traces_tx, mut traces) = mpsc::unbounded_channel::<BatchTrace>();
    let hook: kiln_sequencer::builder::ProveHook = Arc::new(move |t| {
        let _ = traces_tx.send(t);
    });
    tokio::spawn(kiln_sequencer::builder::run(
        seq.pool().clone(),
        base,
        rc.max_batch_size,
        closed,
        Some(hook),
    ));
    tokio::spawn(async move {
        let key = match install_key(&state, &seq, &rc).await {
            Ok(k) => Some(k),
            Err(e) => {
                tracing::error!(target: crate::TARGET, error = %e, "the rollup has no proving key: batches are built but cannot be proven");
                None
            }
        };
        if key.is_some() {
            tokio::spawn(watch(state.clone(), seq.clone()));
        }
        while let Some(trace) = traces.recv().await {
            let number = trace.number;
            // Without a key the batch stays closed, to be proven after a restart that has one.
            let Some(key) = &key else { continue };
            if let Err(e) = submit(&state, &seq, key, trace).await {
                tracing::error!(target: crate::TARGET, batch = number, error = %e, "cannot queue the batch's proof");
                let _ = seq
                    .record_failed(number, &format!("its proof could not be queued: {e}"))
                    .await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::batch_job_id;

    #[test]
    fn a_batch_job_id_is_a_uuid_fixed_by_chain_key_and_batch() {
        let id = batch_job_id(7, "key-a", 3);
        let parsed = uuid::Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 8);
        assert_eq!(id, batch_job_id(7, "key-a", 3));
        for other in [
            batch_job_id(8, "key-a", 3),
            batch_job_id(7, "key-b", 3),
            batch_job_id(7, "key-a", 4),
        ] {
            assert_ne!(id, other);
        }
    }
}
