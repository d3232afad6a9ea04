//! Runs jobs: the dispatcher takes jobs from the queue as workers free up, each job proves
//! on a blocking thread (never on the async runtime), and its outcome is committed to the
//! store (with its webhook delivery) before anyone is told.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::OsRng;
use tokio::sync::{Notify, Semaphore};
use tracing::Instrument;

use kiln_algebra::curve::Bn254;
use kiln_formats::{public_to_json, read_wtns};
use kiln_groth16::snarkjs::proof_to_json;
use kiln_groth16::ProveError;
use kiln_store::{now_ms, DataDirs, Job, JobOutcome, JobStatus, NewWebhook, QueuedJob, Store};

use crate::calldata::solidity_calldata;
use crate::devices::ProvingDevice;
use crate::handoff::WitnessHandoff;
use crate::keycache::KeyCache;
use crate::metrics::JobMetrics;
use crate::queue::JobQueue;
use crate::stop::StopGate;
use crate::view::JobView;
use crate::witness::Fr;

/// What running jobs takes: the handles the dispatcher and the prover threads use.
pub struct Runner {
    /// Where jobs and their outcomes are recorded.
    pub store: Arc<dyn Store>,
    /// The live queue jobs are taken from.
    pub queue: Arc<JobQueue>,
    /// Resident proving keys.
    pub keys: Arc<KeyCache>,
    /// The device proofs run on, with its counters.
    pub device: Arc<ProvingDevice>,
    /// Where proving keys and stored witnesses are.
    pub dirs: DataDirs,
    /// Witnesses handed over in memory by their submissions.
    pub handoff: Arc<WitnessHandoff>,
    /// Proof latency and device time.
    pub metrics: Arc<JobMetrics>,
    /// Woken when an outcome stores a webhook delivery.
    pub webhooks: Arc<Notify>,
    /// The orderly stop's gate on job starts.
    pub stop: Arc<StopGate>,
    /// Jobs proved at once.
    pub workers: usize,
}

/// What a finished proof hands back to the async side.
struct Proved {
    proof: String,
    public: String,
    calldata: String,
    timings: serde_json::Value,
    device_ms: u64,
    /// The devices that did work for the proof.
    devices: Vec<String>,
}

/// A job that could not be proved: code, message, device time spent, devices used.
struct Failure {
    code: &'static str,
    message: String,
    device_ms: u64,
    devices: Vec<String>,
}

/// Takes jobs from the queue forever, running at most `workers` at once.
pub async fn dispatch(runner: Arc<Runner>) {
    let permits = Arc::new(Semaphore::new(runner.workers));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            tracing::error!(target: crate::TARGET, "the worker semaphore closed; the dispatcher stops");
            return;
        };
        let job = runner.queue.next().await;
        let st = runner.clone();
        tokio::spawn(async move {
            run_job(st, job).await;
            drop(permit);
        });
    }
}

/// How long a job whose start could not be recorded waits before it is queued again.
const MARK_RETRY: Duration = Duration::from_secs(1);

/// Runs one job to its end: records it as running, proves it on a blocking thread (from
/// the witness its submission handed over, or its stored file), records the outcome.
async fn run_job(runner: Arc<Runner>, q: QueuedJob) {
    let span = tracing::info_span!(target: crate::TARGET, "job", id = %q.id, tenant = %q.tenant_id);
    async {
        let id = q.id.clone();
        // Starts are recorded under the stop gate: an orderly stop closes it first, so no
        // start is recorded after it has put running jobs back.
        let Some(gate) = runner.stop.start().await else {
            // Still queued in the store: it runs at the next start.
            runner.queue.finished(&id);
            return;
        };
        let marked = runner.store.mark_running(&id, now_ms()).await;
        drop(gate);
        let job = match marked {
            Ok(Some(job)) => job,
            Ok(None) => {
                tracing::info!(target: crate::TARGET, "job is no longer queued (cancelled); skipped");
                runner.handoff.take(&id);
                runner.queue.finished(&id);
                return;
            }
            Err(e) => {
                // Not started: it stays queued in the store; queued again here shortly.
                tracing::error!(target: crate::TARGET, error = %e, retry_in_ms = MARK_RETRY.as_millis() as u64, "cannot mark the job running; it stays queued");
                runner.queue.finished(&id);
                let st = runner.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(MARK_RETRY).await;
                    st.queue.push(q);
                });
                return;
            }
        };
        if job.cancel_requested {
            // Asked before a restart interrupted it: it ends as cancelled.
            runner.queue.request_cancel(&id);
        }
        runner.queue.notify(&id);
        tracing::info!(target: crate::TARGET, circuit = %job.circuit_id, attempt = job.attempts, "proving");
        let handed = runner.handoff.take(&id);
        let st = runner.clone();
        let j = job.clone();
        let blocking_span = tracing::Span::current();
        let res = tokio::task::spawn_blocking(move || {
            let _g = blocking_span.enter();
            prove_job(&st, &j, handed)
        })
        .await;
        let result = match res {
            Ok(r) => r,
            Err(e) => Err(Failure {
                code: "internal",
                message: format!("the prover thread failed: {e}"),
                device_ms: 0,
                devices: Vec::new(),
            }),
        };
        finish(&runner, &job, result).await;
    }
    .instrument(span)
    .await
}

/// Ends a job a previous process left running that must not run again: cancelled if it
/// was asked to be, else failed as interrupted too often. Recorded as any job's end (with
/// its webhook; its witness removed).
pub async fn end_interrupted(runner: &Runner, job: &Job) {
    let failure = if job.cancel_requested {
        runner.queue.request_cancel(&job.id);
        Failure {
            code: "cancelled",
            message: "cancelled".into(),
            device_ms: 0,
            devices: Vec::new(),
        }
    } else {
        let n = job.attempts;
        tracing::warn!(target: crate::TARGET, job = %job.id, attempts = n, "job failed: the server stopped too often while proving it");
        Failure {
            code: "interrupted",
            message: format!(
                "the server stopped while proving this job {n} time{}; it is not retried again",
                if n == 1 { "" } else { "s" }
            ),
            device_ms: 0,
            devices: Vec::new(),
        }
    };
    finish(runner, job, Err(failure)).await;
}

/// Proves one job (blocking), from the `handed` witness or else its stored file.
fn prove_job(runner: &Runner, job: &Job, handed: Option<Arc<Vec<Fr>>>) -> Result<Proved, Failure> {
    let started = Instant::now();
    let fail = |code, message: String| Failure {
        code,
        message,
        device_ms: 0,
        devices: Vec::new(),
    };
    let zkey = runner.dirs.zkey(&job.circuit_id);
    let (pk, load) = runner
        .keys
        .get(&job.circuit_id, &zkey, &runner.device.device)
        .map_err(|e| match e {
            ProveError::Device(d) => {
                runner.device.fault();
                fail(
                    "device_error",
                    format!("loading the proving key failed: {d}"),
                )
            }
            other => fail(
                "invalid_proving_key",
                format!(
                    "circuit {}: cannot load its proving key: {other}",
                    job.circuit_id
                ),
            ),
        })?;
    let t_w = Instant::now();
    let witness = match handed {
        Some(values) => values,
        None => read_wtns::<Bn254>(&runner.dirs.witness(&job.id))
            .map(|w| Arc::new(w.values))
            .map_err(|e| {
                fail(
                    "witness_unreadable",
                    format!("the stored witness cannot be read: {e}"),
                )
            })?,
    };
    let witness_read = t_w.elapsed();
    let run = runner
        .device
        .run(|| kiln_groth16::prove(&pk, &witness, &mut OsRng));
    let (out, took) = (run.out, run.took);
    let device_ms = took.as_millis() as u64 + load.map(|d| d.as_millis() as u64).unwrap_or(0);
    let out = out.map_err(|e| {
        let code = match &e {
            ProveError::Unsatisfied => "unsatisfied_witness",
            ProveError::WitnessLength { .. } | ProveError::WitnessConstant => "invalid_witness",
            ProveError::Device(_) => {
                runner.device.fault();
                "device_error"
            }
            _ => "prove_failed",
        };
        Failure {
            code,
            message: e.to_string(),
            device_ms,
            devices: run.used.clone(),
        }
    })?;
    runner.device.job_done(&run.used);
    runner.metrics.observe_prove(took.as_secs_f64());
    let proof_json = proof_to_json::<Bn254>(&out.proof);
    let public = public_to_json::<Bn254>(&out.public);
    let internal = |message: String| Failure {
        code: "internal",
        message,
        device_ms,
        devices: run.used.clone(),
    };
    let calldata = solidity_calldata(&proof_json, &public).map_err(|e| internal(e.to_string()))?;
    let ser = |v: serde_json::Result<String>| {
        v.map_err(|e| internal(format!("cannot serialize the proof: {e}")))
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(Proved {
        proof: ser(serde_json::to_string(&proof_json))?,
        public: ser(serde_json::to_string(&public))?,
        calldata,
        timings: serde_json::json!({
            "key_load_ms": load.map(ms).unwrap_or(0.0),
            "witness_read_ms": ms(witness_read),
            "witness_map_ms": ms(out.timings.witness_map),
            "msm_ms": ms(out.timings.msm),
            "assemble_and_check_ms": ms(out.timings.assemble_and_check),
            "prove_ms": ms(took),
            "run_ms": ms(started.elapsed()),
        }),
        device_ms,
        devices: run.used,
    })
}

/// Commits a job's outcome (retrying while the store fails), then tells watchers.
async fn finish(runner: &Runner, job: &Job, result: Result<Proved, Failure>) {
    let finished_at = now_ms();
    // The cancel route flags a running job here before it records the request.
    let cancelled = runner.queue.cancel_requested(&job.id);
    let started_at = job.started_at.unwrap_or(finished_at);
    let mut outcome = match result {
        Ok(p) => {
            let mut timings = p.timings;
            timings["queued_ms"] = serde_json::json!((started_at - job.created_at).max(0));
            timings["total_ms"] = serde_json::json!((finished_at - job.created_at).max(0));
            JobOutcome {
                status: JobStatus::Succeeded,
                finished_at,
                proof: Some(p.proof),
                public_signals: Some(p.public),
                calldata: Some(p.calldata),
                timings: Some(timings.to_string()),
                devices: Some(serde_json::json!(p.devices).to_string()),
                device_ms: p.device_ms,
                error: None,
            }
        }
        Err(f) => JobOutcome {
            status: JobStatus::Failed,
            finished_at,
            proof: None,
            public_signals: None,
            calldata: None,
            timings: None,
            devices: Some(serde_json::json!(f.devices).to_string()),
            device_ms: f.device_ms,
            error: Some((f.code.to_string(), f.message)),
        },
    };
    if cancelled {
        outcome.status = JobStatus::Cancelled;
        outcome.proof = None;
        outcome.public_signals = None;
        outcome.calldata = None;
        outcome.error = Some((
            "cancelled".into(),
            "cancelled by the tenant while it was running; the proof was discarded".into(),
        ));
    }
    let webhook = job.webhook_url.as_ref().map(|url| {
        let mut view_job = job.clone();
        view_job.status = outcome.status;
        view_job.finished_at = Some(finished_at);
        view_job.proof = outcome.proof.clone();
        view_job.public_signals = outcome.public_signals.clone();
        view_job.calldata = outcome.calldata.clone();
        view_job.timings = outcome.timings.clone();
        view_job.devices = outcome.devices.clone();
        view_job.cancel_requested = cancelled;
        if let Some((c, m)) = &outcome.error {
            view_job.error_code = Some(c.clone());
            view_job.error_message = Some(m.clone());
        }
        NewWebhook {
            job_id: job.id.clone(),
            tenant_id: job.tenant_id.clone(),
            url: url.clone(),
            body: JobView::of(&view_job).to_json(),
            next_attempt_at: finished_at,
        }
    });
    let mut delay = Duration::from_millis(100);
    loop {
        match runner
            .store
            .finish_job(&job.id, &outcome, webhook.as_ref())
            .await
        {
            Ok(()) => break,
            Err(e) => {
                tracing::error!(target: crate::TARGET, error = %e, retry_in_ms = delay.as_millis() as u64, "cannot record the job's outcome; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
    match &outcome.error {
        None => {
            tracing::info!(target: crate::TARGET, status = %outcome.status, device_ms = outcome.device_ms, "job finished")
        }
        Some((code, message)) => {
            tracing::warn!(target: crate::TARGET, status = %outcome.status, code = %code, message = %message, "job finished")
        }
    }
    if outcome.status == JobStatus::Succeeded {
        runner
            .metrics
            .proof_latency
            .observe((finished_at - job.created_at).max(0) as f64 / 1e3);
    }
    let witness = runner.dirs.witness(&job.id);
    if let Err(e) = std::fs::remove_file(&witness) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(target: crate::TARGET, error = %e, path = %witness.display(), "cannot remove the finished job's witness");
        }
    }
    runner.queue.finished(&job.id);
    if webhook.is_some() {
        runner.webhooks.notify_one();
    }
}
