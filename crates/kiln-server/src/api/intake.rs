//! Witness intake: the body of `POST /v1/circuits/{id}/proofs` read, recognised, decoded and
//! checked against the circuit, before anything about the job is stored.
//!
//! - A `.wtns` body (first bytes `wtns`) of known length up to [`WTNS_IN_MEMORY`] is held in
//!   memory and decoded there while a copy is written and synced to `tmp/`; larger ones,
//!   or ones of unknown length, stream to `tmp/` and are read back as the prover reads
//!   files. Either way the file becomes the job's witness by rename.
//! - A JSON body is one witness (`{"witness": [...]}` or a bare array, as `snarkjs wtns
//!   export json` writes it) or a batch (`{"witnesses": [[...], ...]}`).
//! - Anything else (an `.r1cs` or `.zkey` file, a form sent without its Content-Type) is a
//!   422 saying what it is.
//!
//! Bodies held in memory at once are bounded by [`INTAKE_MEMORY`]: a `.wtns` that does not
//! fit streams to disk instead, a JSON body waits its turn.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::body::{self, Upload};
use super::error::ApiError;
use super::{parse_json_body, without_bom};
use crate::state::AppState;
use kiln_jobs::witness::{self, Fr, WitnessError};

/// Most witnesses in one batch.
pub const MAX_BATCH: usize = 10_000;

/// `.wtns` bodies of known length up to this size are decoded in memory.
pub const WTNS_IN_MEMORY: u64 = 32 << 20;

/// Most request bodies held in memory by submissions at once, in bytes.
pub const INTAKE_MEMORY: u64 = 512 << 20;

/// The semaphore bounding [`INTAKE_MEMORY`] (one permit per KiB).
pub fn intake_budget() -> Arc<Semaphore> {
    Arc::new(Semaphore::new((INTAKE_MEMORY >> 10) as usize))
}

/// Permits (KiB) for holding `bytes` in memory, at most the whole budget.
fn kib(bytes: u64) -> u32 {
    (bytes.div_ceil(1024)).min(INTAKE_MEMORY >> 10) as u32
}

/// The options a JSON body may carry (the query string and headers carry them otherwise).
#[derive(Debug, Default, Clone)]
pub struct JsonOptions {
    /// `priority`.
    pub priority: Option<i32>,
    /// `webhook_url`.
    pub webhook_url: Option<String>,
    /// `idempotency_key`.
    pub idempotency_key: Option<String>,
}

/// The witnesses of a submission, checked against the circuit and decoded.
pub struct Intake {
    /// One witness per job.
    pub values: Vec<Arc<Vec<Fr>>>,
    /// A `.wtns` body written to this file in the data directory's `tmp/`: it becomes the
    /// job's witness file by rename. Without one, the values are written as `.wtns` files.
    pub wtns_file: Option<PathBuf>,
    /// Whether the body was a batch (the answer is then a list).
    pub batch: bool,
    /// The options of a JSON body.
    pub json_options: Option<JsonOptions>,
    /// sha256 hex of the body as sent, when the submission has an idempotency key
    /// (idempotency records of earlier versions stand for it).
    pub body_sha256: Option<String>,
}

impl Intake {
    /// Deletes what was written for a refused submission.
    pub fn discard(&self) {
        if let Some(tmp) = &self.wtns_file {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// The largest `.wtns` a circuit with `n_vars` signals can have: the header, the field
/// section, `n_vars` 32-byte values, and slack for extra sections.
pub fn wtns_limit(n_vars: u64) -> u64 {
    n_vars.saturating_mul(32).saturating_add(64 << 10)
}

/// The most a submission for a circuit with `n_vars` signals may send (either form).
pub fn body_limit(state: &AppState, n_vars: u64) -> u64 {
    wtns_limit(n_vars).max(state.cfg.max_body_bytes)
}

/// Reads, recognises, decodes and checks the witnesses of `up` for circuit `circuit_id`;
/// `keyed`: the request has an idempotency key outside its body (its body's hash is then
/// kept).
pub async fn take(
    state: &AppState,
    up: Upload,
    circuit_id: &str,
    n_vars: usize,
    keyed: bool,
) -> Result<Intake, ApiError> {
    let (head, up) = body::peek(up, 4).await?;
    if let Some(kind) = binary_kind(&head) {
        up.drain().await;
        return Err(not_a_witness(&format!("the body is {kind}")));
    }
    if head.starts_with(b"wtns") {
        wtns(state, up, circuit_id, n_vars, keyed).await
    } else {
        json(state, up, circuit_id, n_vars, keyed).await
    }
}

async fn wtns(
    state: &AppState,
    up: Upload,
    circuit_id: &str,
    n_vars: usize,
    keyed: bool,
) -> Result<Intake, ApiError> {
    let tmp = state
        .dirs
        .tmp
        .join(format!("submit-{}.wtns", uuid::Uuid::new_v4()));
    let limit = wtns_limit(n_vars as u64);
    let what = format!("a .wtns witness for this circuit ({n_vars} signals)");
    let cid = circuit_id.to_string();
    let in_memory = up
        .declared
        .filter(|n| *n <= WTNS_IN_MEMORY.min(limit))
        .and_then(|n| state.intake.clone().try_acquire_many_owned(kib(n)).ok());
    let checked = match in_memory {
        Some(permit) => {
            let bytes = body::read_limited(up, limit, &what).await?;
            let path = tmp.clone();
            tokio::task::spawn_blocking(move || {
                let (values, written) = witness::check_and_write(&bytes, &path, n_vars, &cid);
                drop(permit);
                let values = values.map_err(|e| witness_refused(e, &path))?;
                written
                    .map_err(|e| ApiError::Internal(format!("cannot store the witness: {e}")))?;
                Ok((values, keyed.then(|| hex::encode(Sha256::digest(&bytes)))))
            })
            .await
        }
        None => {
            let (sha, _) = body::stream_to_file(up, limit, &tmp, &what).await?;
            let path = tmp.clone();
            tokio::task::spawn_blocking(move || {
                witness::check_wtns_file(&path, n_vars, &cid)
                    .map(|v| (v, Some(sha)))
                    .map_err(|e| witness_refused(e, &path))
            })
            .await
        }
    };
    let checked = checked
        .map_err(|e| ApiError::Internal(format!("witness check thread failed: {e}")))
        .and_then(|r| r);
    match checked {
        Ok((values, body_sha256)) => Ok(Intake {
            values: vec![Arc::new(values)],
            wtns_file: Some(tmp),
            batch: false,
            json_options: None,
            body_sha256,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A refused `.wtns`: its message names the body, not the server's file.
fn witness_refused(e: WitnessError, path: &std::path::Path) -> ApiError {
    let message = e
        .to_string()
        .replace(&path.display().to_string(), "the .wtns body");
    ApiError::invalid("invalid_witness", message)
}

async fn json(
    state: &AppState,
    up: Upload,
    circuit_id: &str,
    n_vars: usize,
    keyed: bool,
) -> Result<Intake, ApiError> {
    let limit = state.cfg.max_body_bytes;
    let _held: OwnedSemaphorePermit = state
        .intake
        .clone()
        .acquire_many_owned(kib(up.declared.unwrap_or(limit).min(limit)))
        .await
        .map_err(|e| ApiError::Internal(format!("the intake budget closed: {e}")))?;
    let bytes = body::read_limited(up, limit, "the witness body").await?;
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
    let cid = circuit_id.to_string();
    tokio::task::spawn_blocking(move || {
        let Some(json) = parse_submit_json(&bytes)? else {
            return Err(ApiError::bad(
                "empty body: send a .wtns file or JSON {\"witness\": [...]} or {\"witnesses\": [[...], ...]}",
            ));
        };
        let json_options = JsonOptions {
            priority: json.priority,
            webhook_url: json.webhook_url.clone(),
            idempotency_key: json.idempotency_key.clone(),
        };
        let batch = json.witnesses.is_some();
        let keyed = keyed || json.idempotency_key.is_some();
        let values = decode_json(json, n_vars, &cid)?;
        Ok(Intake {
            values: values.into_iter().map(Arc::new).collect(),
            wtns_file: None,
            batch,
            json_options: Some(json_options),
            body_sha256: keyed.then(|| hex::encode(Sha256::digest(&bytes))),
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("witness check thread failed: {e}")))?
}

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

/// What a body that is some other binary file is, from its first bytes.
fn binary_kind(head: &[u8]) -> Option<&'static str> {
    match head {
        [b'r', b'1', b'c', b's', ..] => Some("an .r1cs circuit file, not a witness"),
        [b'z', b'k', b'e', b'y', ..] => Some("a .zkey proving key, not a witness"),
        [b'p', b't', b'a', b'u', ..] => Some("a powers-of-tau file, not a witness"),
        [b'-', b'-', ..] => Some(
            "a multipart form sent without its Content-Type: send it with \
             `Content-Type: multipart/form-data; boundary=...` (curl -F file=@witness.wtns does) \
             or send the file itself as the body (curl --data-binary @witness.wtns)",
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
