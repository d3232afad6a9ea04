//! JSON shapes of the API's answers (also the webhook bodies).

use serde::Serialize;
use serde_json::value::RawValue;

use kiln_store::{Job, JobStatus};

/// `{"code", "message"}` of a failed job (and of every error answer).
#[derive(Clone, Debug, Serialize)]
pub struct ErrorBody {
    /// Machine-readable code.
    pub code: String,
    /// What went wrong, and where.
    pub message: String,
}

/// A proof job as `GET /v1/proofs/{id}` shows it.
#[derive(Debug, Serialize)]
pub struct JobView {
    /// Job id.
    pub id: String,
    /// queued, running, succeeded, failed or cancelled.
    pub status: JobStatus,
    /// The circuit (zkey sha256).
    pub circuit_id: String,
    /// The batch, for jobs submitted together.
    pub batch_id: Option<String>,
    /// Queue priority.
    pub priority: i32,
    /// Submission time, Unix ms.
    pub created_at: i64,
    /// Start of the last attempt, Unix ms.
    pub started_at: Option<i64>,
    /// End time, Unix ms.
    pub finished_at: Option<i64>,
    /// Times proving started (more than 1 after a restart).
    pub attempts: u32,
    /// Cancellation asked while running.
    pub cancel_requested: bool,
    /// snarkjs proof.json.
    pub proof: Option<Box<RawValue>>,
    /// snarkjs public.json.
    pub public_signals: Option<Box<RawValue>>,
    /// What `snarkjs zkey export soliditycalldata` prints for this proof.
    pub calldata: Option<String>,
    /// Where the time went (ms).
    pub timings: Option<Box<RawValue>>,
    /// Devices that proved it.
    pub devices: Option<Box<RawValue>>,
    /// Why it failed or was cancelled.
    pub error: Option<ErrorBody>,
}

fn raw(s: &Option<String>) -> Option<Box<RawValue>> {
    s.as_ref()
        .and_then(|s| RawValue::from_string(s.clone()).ok())
}

impl JobView {
    /// The view of a stored job.
    pub fn of(j: &Job) -> Self {
        JobView {
            id: j.id.clone(),
            status: j.status,
            circuit_id: j.circuit_id.clone(),
            batch_id: j.batch_id.clone(),
            priority: j.priority,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
            attempts: j.attempts,
            cancel_requested: j.cancel_requested,
            proof: raw(&j.proof),
            public_signals: raw(&j.public_signals),
            calldata: j.calldata.clone(),
            timings: raw(&j.timings),
            devices: raw(&j.devices),
            error: match (&j.error_code, &j.error_message) {
                (Some(code), message) => Some(ErrorBody {
                    code: code.clone(),
                    message: message.clone().unwrap_or_default(),
                }),
                _ => None,
            },
        }
    }

    /// The view as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!("{{\"id\":{:?},\"error\":{{\"code\":\"internal\",\"message\":\"cannot render job: {e}\"}}}}", self.id)
        })
    }
}

/// `{"id", "status"}`: the answer to a submission.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Accepted {
    /// Job id.
    pub id: String,
    /// Always queued when first answered.
    pub status: String,
}
