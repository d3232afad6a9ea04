//! Proof jobs: submit (one witness or a batch), show (with long-poll), list, cancel.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ark_ff::{BigInteger, PrimeField};
use bytes::Buf;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use warp::http::{HeaderMap, HeaderValue, StatusCode};
use warp::reply::Response;

use super::error::{json_response, ApiError};
use super::views::{Accepted, JobView};
use super::{auth, body, circuits, parse_json_body, without_bom};
use crate::jobs::scheduler::now_ms;
use crate::jobs::witness::{self, Fr, WitnessError};
use crate::server::state::AppState;
use crate::store::{IdempotencyRecord, Job, JobFilter, JobStatus, NewJob, NewWebhook, QueuedJob};

/// Highest priority a job may ask for (0 is the default and lowest).
pub const MAX_PRIORITY: i32 = 9;
/// Most witnesses in one batch.
pub const MAX_BATCH: usize = 10_000;

/// `POST /v1/circuits/{id}/proofs` JSON body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitJson {
    witness: Option<Vec<Box<RawValue>>>,
    witnesses: Option<Vec<Vec<Box<RawValue>>>>,
    priority: Option<i32>,
    webhook_url: Option<String>,
    idempotency_key: Option<String>,
}

/// The JSON body: `{"witness": [...]}`, `{"witnesses": [[...], ...]}`, or a bare array of
/// values as `snarkjs wtns export json` writes it (one witness).
fn parse_submit_json(body: &[u8]) -> Result<Option<SubmitJson>, ApiError> {
    let what = "proof request";
    if without_bom(body).trim_ascii_start().starts_with(b"[") {
        return Ok(
            parse_json_body::<Vec<Box<RawValue>>>(body, what)?.map(|w| SubmitJson {
                witness: Some(w),
                witnesses: None,
                priority: None,
                webhook_url: None,
                idempotency_key: None,
            }),
        );
    }
    parse_json_body::<SubmitJson>(body, what).map_err(|e| match e {
        ApiError::Unprocessable { code, message } if message.contains("unknown field") => {
            ApiError::Unprocessable {
                code,
                message: format!(
                    "{message}; kiln proves from the whole witness (all signals, e.g. from \
                     `snarkjs wtns calculate` then `snarkjs wtns export json`), not from \
                     circuit inputs"
                ),
            }
        }
        other => other,
    })
}

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
    json: Option<&SubmitJson>,
    deny_private: bool,
) -> Result<Options, ApiError> {
    for k in query.keys() {
        if !matches!(k.as_str(), "priority" | "webhook_url" | "idempotency_key") {
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
        crate::jobs::webhook::check_target(u, deny_private)
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

/// What a body that is some other binary file is, from its first bytes.
fn binary_kind(head: &[u8]) -> Option<&'static str> {
    match head {
        [b'r', b'1', b'c', b's', ..] => Some("an .r1cs circuit file, not a witness"),
        [b'z', b'k', b'e', b'y', ..] => Some("a .zkey proving key, not a witness"),
        [b'p', b't', b'a', b'u', ..] => Some("a powers-of-tau file, not a witness"),
        [b'-', b'-', ..] => Some(
            "a multipart form: send the file itself as the body (curl --data-binary @witness.wtns)",
        ),
        _ => None,
    }
}

fn not_a_witness(what: &str) -> ApiError {
    ApiError::invalid(
        "invalid_witness",
        format!(
            "expected a .wtns file (its first bytes are \"wtns\") or JSON (a list of values, \
             {{\"witness\": [...]}} or {{\"witnesses\": [[...], ...]}}); {what}"
        ),
    )
}

fn witness_error(e: WitnessError) -> ApiError {
    ApiError::invalid("invalid_witness", e.to_string())
}

/// Decodes and checks the witnesses of a JSON body (CPU work: call off the runtime).
fn decode_json(json: SubmitJson, n_vars: usize, cid: &str) -> Result<Vec<Vec<Fr>>, ApiError> {
    match json {
        SubmitJson {
            witness: Some(_),
            witnesses: Some(_),
            ..
        } => Err(ApiError::invalid(
            "invalid_request",
            "send either \"witness\" or \"witnesses\", not both",
        )),
        SubmitJson {
            witness: Some(w), ..
        } => Ok(vec![
            witness::from_json(&w, n_vars, "witness", cid).map_err(witness_error)?
        ]),
        SubmitJson {
            witnesses: Some(ws),
            ..
        } => {
            if ws.is_empty() || ws.len() > MAX_BATCH {
                return Err(ApiError::invalid(
                    "invalid_request",
                    format!(
                        "witnesses: expected 1 to {MAX_BATCH} witnesses, got {}",
                        ws.len()
                    ),
                ));
            }
            ws.iter()
                .enumerate()
                .map(|(i, w)| {
                    witness::from_json(w, n_vars, &format!("witnesses[{i}]"), cid)
                        .map_err(witness_error)
                })
                .collect()
        }
        _ => Err(ApiError::invalid(
            "invalid_request",
            "the JSON body needs \"witness\": [decimal strings] or \"witnesses\": [[...], ...]",
        )),
    }
}

/// The witnesses of a submission, checked against the circuit and decoded.
struct Intake {
    /// One witness per job.
    values: Vec<Arc<Vec<Fr>>>,
    /// A `.wtns` body streamed to this file in the data directory's `tmp/`: it becomes the
    /// job's witness file by rename. Without one, the values are written as `.wtns` files.
    wtns_file: Option<PathBuf>,
}

impl Intake {
    fn count(&self) -> usize {
        self.values.len()
    }

    /// Deletes what was written for a refused submission.
    fn discard(&self) {
        if let Some(tmp) = &self.wtns_file {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// `.wtns` bodies up to this size (by their Content-Length) are read into memory and
/// decoded there; larger ones (or ones of unknown length) stream to disk first.
const WTNS_IN_MEMORY: u64 = 32 << 20;

/// Writes `bytes` to a new file at `path` and syncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The largest `.wtns` a circuit with `n_vars` signals can have: the header, the field
/// section, `n_vars` 32-byte values, and slack for extra sections.
fn wtns_limit(n_vars: u64) -> u64 {
    n_vars.saturating_mul(32).saturating_add(64 << 10)
}

/// `POST /v1/circuits/{id}/proofs`: 202 `{"id", "status"}`, or a list of them for a batch.
/// A `.wtns` body streams to disk (its size bounded by the circuit, not by
/// `--max-body-bytes`); JSON bodies are read up to `--max-body-bytes`.
pub async fn submit<S, B>(
    state: Arc<AppState>,
    headers: HeaderMap,
    circuit_id: String,
    query: HashMap<String, String>,
    body: S,
) -> Result<Response, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: Buf + Send + 'static,
{
    let body = super::body::payload(&headers, body).await?;
    let found = async {
        let tenant_id = auth::tenant(&state, &headers).await?;
        let circuit = circuits::find(&state, &tenant_id, &circuit_id).await?;
        Ok::<_, ApiError>((tenant_id, circuit))
    }
    .await;
    let (tenant_id, circuit) = match found {
        Ok(v) => v,
        Err(e) => {
            body::drain(body).await;
            return Err(e);
        }
    };
    let n_vars = circuit.n_vars as usize;
    let (head, body) = body::peek(body, 4).await?;
    if let Some(kind) = binary_kind(&head) {
        body::drain(body).await;
        return Err(not_a_witness(&format!("the body is {kind}")));
    }

    let (opts, intake, batch) = if head.starts_with(b"wtns") {
        let opts = parse_options(&headers, &query, None, state.cfg.webhook_deny_private)?;
        let tmp = state
            .dirs
            .tmp
            .join(format!("submit-{}.wtns", uuid::Uuid::new_v4()));
        let limit = wtns_limit(circuit.n_vars);
        let what = format!("a .wtns witness for this circuit ({n_vars} signals)");
        let cid = circuit_id.clone();
        let path = tmp.clone();
        let hide = move |e: WitnessError| {
            let message = e
                .to_string()
                .replace(&path.display().to_string(), "the .wtns body");
            ApiError::invalid("invalid_witness", message)
        };
        let in_memory = body::content_length(&headers).is_some_and(|n| n <= WTNS_IN_MEMORY);
        let checked = if in_memory {
            // Held whole (it is small): decoded from memory while it is written and synced.
            let bytes = body::read_limited(&headers, body, limit, &what).await?;
            let path = tmp.clone();
            tokio::task::spawn_blocking(move || {
                let (values, written) = rayon::join(
                    || witness::check_wtns_bytes(&bytes, n_vars, &cid),
                    || write_synced(&path, &bytes),
                );
                let values = values.map_err(hide)?;
                written
                    .map_err(|e| ApiError::Internal(format!("cannot store the witness: {e}")))?;
                Ok(values)
            })
            .await
        } else {
            // Streamed to disk, then read back as the prover reads witnesses.
            body::stream_to_file(&headers, body, limit, &tmp, &what).await?;
            let path = tmp.clone();
            tokio::task::spawn_blocking(move || {
                witness::check_wtns_file(&path, n_vars, &cid).map_err(hide)
            })
            .await
        };
        let checked = checked
            .map_err(|e| ApiError::Internal(format!("witness check thread failed: {e}")))
            .and_then(|r| r);
        match checked {
            Ok(values) => {
                let intake = Intake {
                    values: vec![Arc::new(values)],
                    wtns_file: Some(tmp),
                };
                (opts, intake, false)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        }
    } else {
        let limit = state.cfg.max_body_bytes;
        let bytes = body::read_limited(&headers, body, limit, "the witness body").await?;
        match without_bom(&bytes).trim_ascii_start().first() {
            None | Some(b'{') | Some(b'[') => {}
            Some(_) => {
                let start: String = String::from_utf8_lossy(&bytes[..bytes.len().min(16)])
                    .chars()
                    .flat_map(char::escape_debug)
                    .collect();
                return Err(not_a_witness(&format!(
                    "the body is neither: it starts with \"{start}\""
                )));
            }
        }
        let Some(json) = parse_submit_json(&bytes)? else {
            return Err(ApiError::bad(
                "empty body: send a .wtns file or JSON {\"witness\": [...]} or {\"witnesses\": [[...], ...]}",
            ));
        };
        let opts = parse_options(
            &headers,
            &query,
            Some(&json),
            state.cfg.webhook_deny_private,
        )?;
        let batch = json.witnesses.is_some();
        let cid = circuit_id.clone();
        let decoded = tokio::task::spawn_blocking(move || decode_json(json, n_vars, &cid))
            .await
            .map_err(|e| ApiError::Internal(format!("witness check thread failed: {e}")))??;
        let intake = Intake {
            values: decoded.into_iter().map(Arc::new).collect(),
            wtns_file: None,
        };
        (opts, intake, batch)
    };

    // What an idempotency key stands for: the circuit, the options and the witness values
    // (however they were encoded).
    let digest = match &opts.idempotency_key {
        None => None,
        Some(_) => {
            let mut h = Sha256::new();
            h.update(circuit_id.as_bytes());
            h.update(opts.priority.to_le_bytes());
            h.update(opts.webhook_url.as_deref().unwrap_or("").as_bytes());
            let values = intake.values.clone();
            let digest = tokio::task::spawn_blocking(move || {
                h.update([u8::from(batch)]);
                for w in &values {
                    h.update((w.len() as u64).to_le_bytes());
                    for v in w.iter() {
                        h.update(v.into_bigint().to_bytes_le());
                    }
                }
                hex::encode(h.finalize())
            })
            .await;
            match digest {
                Ok(d) => Some(d),
                Err(e) => {
                    intake.discard();
                    return Err(ApiError::Internal(format!("hashing thread failed: {e}")));
                }
            }
        }
    };
    if let (Some(key), Some(digest)) = (&opts.idempotency_key, &digest) {
        let replayed = replay(&state, &tenant_id, key, digest).await;
        if !matches!(replayed, Ok(None)) {
            intake.discard();
        }
        if let Some(resp) = replayed? {
            return Ok(resp);
        }
    }

    // Store the witnesses (synced) before taking the lock.
    let now = now_ms();
    let batch_id = batch.then(|| uuid::Uuid::new_v4().to_string());
    let jobs: Vec<NewJob> = (0..intake.count())
        .map(|_| {
            let id = uuid::Uuid::new_v4().to_string();
            NewJob {
                witness_path: state.dirs.witness(&id).display().to_string(),
                id,
                tenant_id: tenant_id.clone(),
                circuit_id: circuit_id.clone(),
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
            Some(tmp) => std::fs::rename(tmp, &to_write[0])
                .map_err(|e| format!("cannot move the witness into place: {e}"))?,
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
    .map_err(|e| ApiError::Internal(format!("witness write thread failed: {e}")))?;
    let remove_witnesses = || {
        for p in &paths {
            let _ = std::fs::remove_file(p);
        }
    };
    if let Err(e) = stored {
        remove_witnesses();
        return Err(ApiError::Internal(format!("cannot store the witness: {e}")));
    }

    let accepted: Vec<Accepted> = jobs
        .iter()
        .map(|j| Accepted {
            id: j.id.clone(),
            status: "queued".into(),
        })
        .collect();
    let response_text = if batch {
        serde_json::to_string(&accepted)
    } else {
        serde_json::to_string(&accepted[0])
    }
    .map_err(|e| ApiError::Internal(e.to_string()))?;

    let guard = state.submit_lock.lock().await;
    // Idempotency again, under the lock (a concurrent twin may have won).
    if let (Some(key), Some(digest)) = (&opts.idempotency_key, &digest) {
        if let Some(resp) = replay(&state, &tenant_id, key, digest).await? {
            drop(guard);
            remove_witnesses();
            return Ok(resp);
        }
    }
    if let Err(e) = check_quotas(&state, &tenant_id, jobs.len() as u64).await {
        drop(guard);
        remove_witnesses();
        return Err(e);
    }
    if state
        .store
        .get_circuit(&tenant_id, &circuit_id)
        .await?
        .is_none()
    {
        drop(guard);
        remove_witnesses();
        return Err(ApiError::NotFound(format!(
            "circuit {circuit_id} was deleted"
        )));
    }
    let idem = opts
        .idempotency_key
        .as_ref()
        .zip(digest)
        .map(|(key, request_digest)| IdempotencyRecord {
            tenant_id: tenant_id.clone(),
            key: key.clone(),
            request_digest,
            response: response_text.clone(),
            created_at: now,
        });
    let seqs = match state.store.insert_jobs(&jobs, idem.as_ref()).await {
        Ok(seqs) => seqs,
        Err(e) => {
            drop(guard);
            remove_witnesses();
            return Err(e.into());
        }
    };
    drop(guard);

    // Committed: now (and only now) the jobs exist. Their values go to the prover in
    // memory where they fit (it reads the stored files otherwise).
    for ((j, seq), w) in jobs.iter().zip(seqs).zip(values) {
        state.handoff.put(&j.id, w);
        state.sched.push(QueuedJob {
            seq,
            id: j.id.clone(),
            tenant_id: j.tenant_id.clone(),
            circuit_id: j.circuit_id.clone(),
            priority: j.priority,
            created_at: j.created_at,
        });
    }
    state
        .metrics
        .jobs_submitted
        .fetch_add(jobs.len() as u64, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(tenant = %tenant_id, circuit = %circuit_id, jobs = jobs.len(), "jobs accepted");
    Ok(accepted_response(&response_text, !batch, false))
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
    digest: &str,
) -> Result<Option<Response>, ApiError> {
    let not_before = now_ms() - state.idempotency_ttl_ms();
    let Some(rec) = state
        .store
        .find_idempotency(tenant_id, key, not_before)
        .await?
    else {
        return Ok(None);
    };
    if rec.request_digest != digest {
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
        let per_job = state.metrics.prove_duration.mean().unwrap_or(1.0);
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
        let watch = state.sched.watch(&id);
        let notified = watch.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let job = find_job(&state, &tenant_id, &id).await;
        let job = match job {
            Ok(j) => j,
            Err(e) => {
                state.sched.notify(&id);
                return Err(e);
            }
        };
        if job.status.is_final() || tokio::time::Instant::now() >= deadline {
            if job.status.is_final() {
                state.sched.notify(&id);
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
                if find_job(&state, &tenant_id, v).await.is_err() {
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
            state.sched.remove(&id);
            state.handoff.take(&id);
            state.sched.notify(&id);
            let _ = std::fs::remove_file(&job.witness_path);
            if webhook.is_some() {
                state.webhook_wake.notify_one();
            }
            tracing::info!(job = %id, tenant = %tenant_id, "queued job cancelled");
            let job = find_job(&state, &tenant_id, &id).await?;
            return Ok(json_response(StatusCode::OK, &JobView::of(&job)));
        }
    }
    // Running (or it started meanwhile): flagged in memory first, so a proof ending now
    // sees it.
    state.sched.request_cancel(&id);
    if state.store.request_cancel(&id).await? {
        tracing::info!(job = %id, tenant = %tenant_id, "cancellation requested for a running job");
        let job = find_job(&state, &tenant_id, &id).await?;
        return Ok(json_response(StatusCode::ACCEPTED, &JobView::of(&job)));
    }
    state.sched.forget_cancel(&id);
    let job = find_job(&state, &tenant_id, &id).await?;
    Err(ApiError::Conflict {
        code: "job_finished",
        message: format!(
            "job {id} has already ended ({}); nothing to cancel",
            job.status
        ),
    })
}
