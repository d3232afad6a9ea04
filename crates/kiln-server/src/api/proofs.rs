//! Proof jobs: submit (one witness or a batch), show (with long-poll), list, cancel.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ark_ff::{BigInteger, PrimeField};
use bytes::Buf;
use futures_util::Stream;
use sha2::{Digest, Sha256};
use warp::http::{HeaderMap, HeaderValue, StatusCode};
use warp::reply::Response;

use super::body::{self, Upload};
use super::error::{json_response, ApiError};
use super::intake::{self, Intake, JsonOptions};
use super::{auth, circuits};
use crate::state::AppState;
use kiln_jobs::view::{Accepted as AcceptedJob, JobView};
use kiln_jobs::witness;
use kiln_store::now_ms;
use kiln_store::{
    Circuit, IdempotencyRecord, Job, JobFilter, JobStatus, NewJob, NewWebhook, QueuedJob,
};

/// Highest priority a job may ask for (0 is the default and lowest).
pub const MAX_PRIORITY: i32 = 9;
/// The options a submission may give in its query string (or a form's fields).
const OPTION_NAMES: [&str; 3] = ["priority", "webhook_url", "idempotency_key"];

/// Submission options, from the JSON body, the query string or headers.
#[derive(Debug, Default)]
struct Options {
    priority: i32,
    webhook_url: Option<String>,
    idempotency_key: Option<String>,
}

fn parse_options(
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    json: Option<&JsonOptions>,
    deny_private: bool,
) -> Result<Options, ApiError> {
    for k in query.keys() {
        if !OPTION_NAMES.contains(&k.as_str()) {
            return Err(ApiError::bad(format!(
                "unknown query parameter {k:?}: expected priority, webhook_url or idempotency_key"
            )));
        }
    }
    let priority = match (json.and_then(|j| j.priority), query.get("priority")) {
        (Some(p), _) => p,
        (None, Some(q)) => q.parse().map_err(|_| {
            ApiError::bad(format!(
                "query parameter priority={q:?}: expected an integer 0..={MAX_PRIORITY}"
            ))
        })?,
        (None, None) => 0,
    };
    if !(0..=MAX_PRIORITY).contains(&priority) {
        return Err(ApiError::invalid(
            "invalid_request",
            format!("priority {priority} is out of range: expected 0..={MAX_PRIORITY} (higher runs first)"),
        ));
    }
    let webhook_url = json
        .and_then(|j| j.webhook_url.clone())
        .or_else(|| query.get("webhook_url").cloned());
    if let Some(u) = &webhook_url {
        let rest = u
            .strip_prefix("http://")
            .or_else(|| u.strip_prefix("https://"));
        if u.len() > 2048 || rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
            return Err(ApiError::invalid(
                "invalid_request",
                format!("webhook_url {u:?}: expected an http:// or https:// URL of at most 2048 characters"),
            ));
        }
        kiln_jobs::webhook::check_target(u, deny_private)
            .map_err(|m| ApiError::invalid("invalid_request", m))?;
    }
    let header_key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::bad("the Idempotency-Key header is not ASCII text"))?
                .to_string(),
        ),
        None => None,
    };
    let body_key = json
        .and_then(|j| j.idempotency_key.clone())
        .or_else(|| query.get("idempotency_key").cloned());
    let idempotency_key = match (header_key, body_key) {
        (Some(h), Some(b)) if h != b => {
            return Err(ApiError::bad(format!(
                "the Idempotency-Key header ({h:?}) and idempotency_key ({b:?}) differ"
            )))
        }
        (h, b) => h.or(b),
    };
    if let Some(k) = &idempotency_key {
        if k.is_empty() || k.len() > 255 {
            return Err(ApiError::bad(
                "idempotency key: expected 1 to 255 characters",
            ));
        }
    }
    Ok(Options {
        priority,
        webhook_url,
        idempotency_key,
    })
}

/// `POST /v1/circuits/{id}/proofs`: 202 `{"id", "status"}`, or a list of them for a batch.
/// The body is read as [`intake`] describes; once it is accepted, storing the jobs runs to
/// its end even if the client goes away.
pub async fn submit<S, B>(
    state: Arc<AppState>,
    headers: HeaderMap,
    circuit_id: String,
    mut query: HashMap<String, String>,
    body: S,
) -> Result<Response, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: Buf + Send + 'static,
{
    let raw = Upload::raw(&headers, body);
    let deny = state.cfg.webhook_deny_private;
    let found = async {
        let tenant_id = auth::tenant(&state, &headers).await?;
        let circuit = circuits::find(&state, &tenant_id, &circuit_id).await?;
        // The query string's and headers' options: a refusal needs no body.
        parse_options(&headers, &query, None, deny)?;
        Ok::<_, ApiError>((tenant_id, circuit))
    }
    .await;
    let (tenant_id, circuit) = match found {
        Ok(v) => v,
        Err(e) => {
            raw.drain().await;
            return Err(e);
        }
    };
    let limit = intake::body_limit(&state, circuit.n_vars);
    let up = body::file_of(&headers, raw, limit, "the witness body").await?;
    // A form's option fields count as the query string's (which wins where both say).
    for (k, v) in &up.fields {
        if OPTION_NAMES.contains(&k.as_str()) && !query.contains_key(k) {
            query.insert(k.clone(), v.clone());
        }
    }
    let keyed = headers.contains_key("idempotency-key") || query.contains_key("idempotency_key");
    let n_vars = circuit.n_vars as usize;
    let intake = intake::take(&state, up, &circuit_id, n_vars, keyed).await?;
    let refused = |intake: &Intake, e: ApiError| {
        intake.discard();
        Err(e)
    };
    let opts = match parse_options(&headers, &query, intake.json_options.as_ref(), deny) {
        Ok(o) => o,
        Err(e) => return refused(&intake, e),
    };
    let digests = match &opts.idempotency_key {
        None => None,
        Some(_) => match Digests::of(&circuit_id, &opts, &intake).await {
            Ok(d) => Some(d),
            Err(e) => return refused(&intake, e),
        },
    };
    if let (Some(key), Some(d)) = (&opts.idempotency_key, &digests) {
        match replay(&state, &tenant_id, key, d).await {
            Ok(None) => {}
            Ok(Some(resp)) => {
                intake.discard();
                return Ok(resp);
            }
            Err(e) => return refused(&intake, e),
        }
    }
    let checked = Checked {
        tenant_id,
        circuit,
        opts,
        digests,
    };
    // Spawned: a client that hangs up now does not leave files or jobs half stored.
    tokio::spawn(commit(state, checked, intake))
        .await
        .map_err(|e| ApiError::Internal(format!("the submission task failed: {e}")))?
}

/// A checked submission on its way into the store.
struct Checked {
    tenant_id: String,
    circuit: Circuit,
    opts: Options,
    digests: Option<Digests>,
}

/// Stores a checked submission: its witness files (synced), then, under the submission
/// lock and after the idempotency and quota checks, its jobs in one commit; then queues
/// them. On any refusal or failure nothing stays behind.
async fn commit(
    state: Arc<AppState>,
    checked: Checked,
    intake: Intake,
) -> Result<Response, ApiError> {
    let Checked {
        tenant_id,
        circuit,
        opts,
        digests,
    } = checked;
    let now = now_ms();
    let batch = intake.batch;
    let batch_id = batch.then(|| uuid::Uuid::new_v4().to_string());
    let jobs: Vec<NewJob> = intake
        .values
        .iter()
        .map(|_| {
            let id = uuid::Uuid::new_v4().to_string();
            NewJob {
                witness_path: state.dirs.witness(&id).display().to_string(),
                id,
                tenant_id: tenant_id.clone(),
                circuit_id: circuit.id.clone(),
                batch_id: batch_id.clone(),
                priority: opts.priority,
                webhook_url: opts.webhook_url.clone(),
                n_constraints: circuit.n_constraints,
                created_at: now,
            }
        })
        .collect();
    let paths: Vec<String> = jobs.iter().map(|j| j.witness_path.clone()).collect();
    let to_write = paths.clone();
    let witness_dir = state.dirs.witnesses.clone();
    let values = intake.values.clone();
    let stored = tokio::task::spawn_blocking(move || {
        match &intake.wtns_file {
            Some(tmp) => std::fs::rename(tmp, &to_write[0]).map_err(|e| {
                let _ = std::fs::remove_file(tmp);
                format!("cannot move the witness into place: {e}")
            })?,
            None => {
                for (p, w) in to_write.iter().zip(&intake.values) {
                    witness::store(Path::new(p), w).map_err(|e| e.to_string())?;
                }
            }
        }
        // The new names, durable before the jobs that point at them.
        std::fs::File::open(&witness_dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| format!("cannot sync the witness directory: {e}"))
    })
    .await
    .map_err(|e| format!("witness write thread failed: {e}"))
    .and_then(|r| r);
    let remove_witnesses = || {
        for p in &paths {
            let _ = std::fs::remove_file(p);
        }
    };
    if let Err(e) = stored {
        remove_witnesses();
        return Err(ApiError::Internal(format!("cannot store the witness: {e}")));
    }

    let ids: Vec<AcceptedJob> = jobs
        .iter()
        .map(|j| AcceptedJob {
            id: j.id.clone(),
            status: "queued".into(),
        })
        .collect();
    let response_text = if batch {
        serde_json::to_string(&ids)
    } else {
        serde_json::to_string(&ids[0])
    };
    let response_text = match response_text {
        Ok(t) => t,
        Err(e) => {
            remove_witnesses();
            return Err(ApiError::Internal(e.to_string()));
        }
    };

    let guard = state.submit_lock.lock().await;
    let inserted = async {
        // Idempotency again, under the lock (a concurrent twin may have won).
        if let (Some(key), Some(d)) = (&opts.idempotency_key, &digests) {
            if let Some(resp) = replay(&state, &tenant_id, key, d).await? {
                return Ok(Err(resp));
            }
        }
        check_quotas(&state, &tenant_id, jobs.len() as u64).await?;
        if state
            .store
            .get_circuit(&tenant_id, &circuit.id)
            .await?
            .is_none()
        {
            return Err(ApiError::NotFound(format!(
                "circuit {} was deleted",
                circuit.id
            )));
        }
        let idem = opts
            .idempotency_key
            .as_ref()
            .zip(digests.as_ref())
            .map(|(key, d)| IdempotencyRecord {
                tenant_id: tenant_id.clone(),
                key: key.clone(),
                request_digest: d.current.clone(),
                response: response_text.clone(),
                created_at: now,
            });
        Ok(Ok(state.store.insert_jobs(&jobs, idem.as_ref()).await?))
    }
    .await;
    drop(guard);
    let seqs = match inserted {
        Ok(Ok(seqs)) => seqs,
        Ok(Err(replayed)) => {
            remove_witnesses();
            return Ok(replayed);
        }
        Err(e) => {
            remove_witnesses();
            return Err(e);
        }
    };

    // Committed: now (and only now) the jobs exist. Their values go to the prover in
    // memory where they fit (it reads the stored files otherwise).
    for ((j, seq), w) in jobs.iter().zip(seqs).zip(values) {
        state.handoff.put(&j.id, w);
        state.queue.push(QueuedJob {
            seq,
            id: j.id.clone(),
            tenant_id: j.tenant_id.clone(),
            circuit_id: j.circuit_id.clone(),
            priority: j.priority,
            created_at: j.created_at,
        });
    }
    state.metrics.jobs_submitted.inc_by(jobs.len() as u64);
    tracing::info!(target: crate::api::TARGET, tenant = %tenant_id, circuit = %circuit.id, jobs = jobs.len(), "jobs accepted");
    Ok(accepted_response(&response_text, !batch, false))
}

/// What an idempotency key stands for. `current` (recorded for new keys): the circuit,
/// the options and the witness values however they were encoded, each field
/// length-prefixed. `legacy`: what records written before `current` existed stand for
/// (the circuit, the options and the body's bytes), so their retries still replay.
struct Digests {
    current: String,
    legacy: String,
}

/// Marks digests of the current kind.
const DIGEST_V2: &str = "v2:";

impl Digests {
    async fn of(circuit_id: &str, opts: &Options, intake: &Intake) -> Result<Digests, ApiError> {
        let webhook = opts.webhook_url.clone().unwrap_or_default();
        let mut legacy = Sha256::new();
        legacy.update(circuit_id.as_bytes());
        legacy.update(opts.priority.to_le_bytes());
        legacy.update(webhook.as_bytes());
        legacy.update(intake.body_sha256.as_deref().unwrap_or("").as_bytes());
        let legacy = hex::encode(legacy.finalize());

        let mut h = Sha256::new();
        for field in [circuit_id.as_bytes(), webhook.as_bytes()] {
            h.update((field.len() as u64).to_le_bytes());
            h.update(field);
        }
        h.update(opts.priority.to_le_bytes());
        h.update([u8::from(intake.batch)]);
        let values = intake.values.clone();
        let current = tokio::task::spawn_blocking(move || {
            h.update((values.len() as u64).to_le_bytes());
            for w in &values {
                h.update((w.len() as u64).to_le_bytes());
                for v in w.iter() {
                    h.update(v.into_bigint().to_bytes_le());
                }
            }
            format!("{DIGEST_V2}{}", hex::encode(h.finalize()))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("hashing thread failed: {e}")))?;
        Ok(Digests { current, legacy })
    }

    /// Whether a record's digest stands for this request.
    fn matches(&self, recorded: &str) -> bool {
        recorded == self.current || (!recorded.starts_with(DIGEST_V2) && recorded == self.legacy)
    }
}

fn accepted_response(text: &str, single: bool, replayed: bool) -> Response {
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let mut resp = json_response(StatusCode::ACCEPTED, &value);
    if single {
        if let Some(id) = value["id"].as_str() {
            if let Ok(v) = HeaderValue::from_str(&format!("/v1/proofs/{id}")) {
                resp.headers_mut().insert(warp::http::header::LOCATION, v);
            }
        }
    }
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

async fn replay(
    state: &AppState,
    tenant_id: &str,
    key: &str,
    digests: &Digests,
) -> Result<Option<Response>, ApiError> {
    let not_before = now_ms() - state.idempotency_ttl_ms();
    let Some(rec) = state
        .store
        .find_idempotency(tenant_id, key, not_before)
        .await?
    else {
        return Ok(None);
    };
    if !digests.matches(&rec.request_digest) {
        return Err(ApiError::Conflict {
            code: "idempotency_key_reused",
            message: format!(
                "idempotency key {key:?} was used for a different request (other circuit, witness or options)"
            ),
        });
    }
    let single = rec.response.trim_start().starts_with('{');
    Ok(Some(accepted_response(&rec.response, single, true)))
}

async fn check_quotas(state: &AppState, tenant_id: &str, adding: u64) -> Result<(), ApiError> {
    let tenant = state
        .store
        .get_tenant(tenant_id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("the key's tenant no longer exists".into()))?;
    let max_queued = tenant
        .quotas
        .max_queued_jobs
        .unwrap_or(state.cfg.max_queued_jobs);
    let max_active = tenant
        .quotas
        .max_concurrent_jobs
        .unwrap_or(state.cfg.max_concurrent_jobs);
    let (queued, running) = state.store.active_counts(tenant_id).await?;
    let retry_after = |excess: u64| {
        let per_job = state.metrics.jobs.mean_prove_seconds().unwrap_or(1.0);
        let secs = (per_job * excess as f64 / state.cfg.workers as f64).ceil() as u64;
        secs.clamp(1, 3600)
    };
    if queued + adding > max_queued {
        return Err(ApiError::Quota {
            message: format!(
                "queued jobs quota: {queued} queued + {adding} new > {max_queued}; retry when some have started"
            ),
            retry_after: retry_after(queued + adding - max_queued),
        });
    }
    if queued + running + adding > max_active {
        return Err(ApiError::Quota {
            message: format!(
                "concurrent jobs quota: {} unfinished + {adding} new > {max_active}; retry when some have finished",
                queued + running
            ),
            retry_after: retry_after(queued + running + adding - max_active),
        });
    }
    Ok(())
}

async fn find_job(state: &AppState, tenant_id: &str, id: &str) -> Result<Job, ApiError> {
    match state.store.get_job(id).await? {
        Some(j) if j.tenant_id == tenant_id => Ok(j),
        _ => Err(ApiError::NotFound(format!(
            "no proof job {id} for this tenant"
        ))),
    }
}

/// `GET /v1/proofs/{id}?wait=SECONDS`.
pub async fn show(
    state: Arc<AppState>,
    headers: HeaderMap,
    id: String,
    query: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let tenant_id = auth::tenant(&state, &headers).await?;
    for k in query.keys() {
        if k != "wait" {
            return Err(ApiError::bad(format!(
                "unknown query parameter {k:?}: expected wait"
            )));
        }
    }
    let wait = match query.get("wait") {
        None => 0.0,
        Some(w) => match w.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => v.min(state.cfg.max_wait_secs as f64),
            _ => {
                return Err(ApiError::bad(format!(
                    "query parameter wait={w:?}: expected seconds, 0 to {}",
                    state.cfg.max_wait_secs
                )))
            }
        },
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(wait);
    loop {
        let watch = state.queue.watch(&id);
        let notified = watch.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let job = find_job(&state, &tenant_id, &id).await;
        let job = match job {
            Ok(j) => j,
            Err(e) => {
                state.queue.notify(&id);
                return Err(e);
            }
        };
        let stopping = state.stop.is_stopping();
        if job.status.is_final() || stopping || tokio::time::Instant::now() >= deadline {
            if job.status.is_final() {
                state.queue.notify(&id);
            }
            return Ok(json_response(StatusCode::OK, &JobView::of(&job)));
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

/// `GET /v1/proofs?status=&circuit_id=&batch_id=&limit=&before=`: newest first; a full page
/// links the next one (`Link: <...&before=<last id>>; rel="next"`).
pub async fn list(
    state: Arc<AppState>,
    headers: HeaderMap,
    query: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let tenant_id = auth::tenant(&state, &headers).await?;
    let mut f = JobFilter {
        limit: 100,
        ..Default::default()
    };
    for (k, v) in &query {
        match k.as_str() {
            "status" => f.status = Some(v.parse().map_err(ApiError::bad)?),
            "circuit_id" => f.circuit_id = Some(v.clone()),
            "batch_id" => f.batch_id = Some(v.clone()),
            "before" => {
                if state.store.job_seq(&tenant_id, v).await?.is_none() {
                    return Err(ApiError::bad(format!(
                        "before={v:?}: expected the id of one of this tenant's proof jobs \
                         (the last one of the previous page)"
                    )));
                }
                f.before = Some(v.clone())
            }
            "limit" => {
                f.limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| ApiError::bad(format!("limit={v:?}: expected 1 to 1000")))?
            }
            _ => {
                return Err(ApiError::bad(format!(
                    "unknown query parameter {k:?}: expected status, circuit_id, batch_id, limit or before"
                )))
            }
        }
    }
    let jobs = state.store.list_jobs(&tenant_id, &f).await?;
    let views: Vec<JobView> = jobs.iter().map(JobView::of).collect();
    let mut resp = json_response(StatusCode::OK, &views);
    if let Some(last) = jobs.last().filter(|_| jobs.len() == f.limit as usize) {
        let mut next = form_urlencoded::Serializer::new(String::new());
        for (k, v) in query.iter().filter(|(k, _)| k.as_str() != "before") {
            next.append_pair(k, v);
        }
        next.append_pair("before", &last.id);
        if let Ok(v) =
            HeaderValue::from_str(&format!("</v1/proofs?{}>; rel=\"next\"", next.finish()))
        {
            resp.headers_mut().insert(warp::http::header::LINK, v);
        }
    }
    Ok(resp)
}

/// `POST /v1/proofs/{id}/cancel`: a queued job is cancelled at once (200); a running one
/// when its proof returns (202, `cancel_requested`); a finished one is a 409.
pub async fn cancel(
    state: Arc<AppState>,
    headers: HeaderMap,
    id: String,
) -> Result<Response, ApiError> {
    let tenant_id = auth::tenant(&state, &headers).await?;
    let job = find_job(&state, &tenant_id, &id).await?;
    if job.status == JobStatus::Queued {
        let now = now_ms();
        let webhook = job.webhook_url.as_ref().map(|url| {
            let mut j = job.clone();
            j.status = JobStatus::Cancelled;
            j.finished_at = Some(now);
            j.error_code = Some("cancelled".into());
            j.error_message = Some("cancelled by the tenant before it started".into());
            NewWebhook {
                job_id: j.id.clone(),
                tenant_id: j.tenant_id.clone(),
                url: url.clone(),
                body: JobView::of(&j).to_json(),
                next_attempt_at: now,
            }
        });
        if state
            .store
            .cancel_queued(&id, now, webhook.as_ref())
            .await?
        {
            state.queue.remove(&id);
            state.handoff.take(&id);
            state.queue.notify(&id);
            let _ = std::fs::remove_file(state.dirs.witness(&id));
            if webhook.is_some() {
                state.webhook_wake.notify_one();
            }
            tracing::info!(target: crate::api::TARGET, job = %id, tenant = %tenant_id, "queued job cancelled");
            let job = find_job(&state, &tenant_id, &id).await?;
            return Ok(json_response(StatusCode::OK, &JobView::of(&job)));
        }
    }
    // Running (or it started meanwhile): flagged in memory first, so a proof ending now
    // sees it.
    state.queue.request_cancel(&id);
    if state.store.request_cancel(&id).await? {
        tracing::info!(target: crate::api::TARGET, job = %id, tenant = %tenant_id, "cancellation requested for a running job");
        let job = find_job(&state, &tenant_id, &id).await?;
        return Ok(json_response(StatusCode::ACCEPTED, &JobView::of(&job)));
    }
    state.queue.forget_cancel(&id);
    let job = find_job(&state, &tenant_id, &id).await?;
    Err(ApiError::Conflict {
        code: "job_finished",
        message: format!(
            "job {id} has already ended ({}); nothing to cancel",
            job.status
        ),
    })
}
