//! Operations routes: health, readiness, Prometheus metrics, the device inventory, usage
//! and the OpenAPI document.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::json;
use warp::http::{header, HeaderMap, HeaderValue, StatusCode};
use warp::reply::Response;

use super::auth::{self, Principal};
use super::error::{json_response, ApiError};
use crate::metrics::Snapshot;
use crate::state::AppState;
use kiln_store::JobStatus;

/// The OpenAPI 3 document of this API (`openapi.json` beside this file).
pub const OPENAPI: &str = include_str!("openapi.json");

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, &json!({"status": "ok"})))
}

/// `GET /readyz`: recovery is done, workers run and the store answers.
pub async fn readyz(state: Arc<AppState>) -> Result<Response, ApiError> {
    if !state.ready.load(Ordering::Acquire) {
        return Err(ApiError::NotReady("starting: recovering jobs".into()));
    }
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::NotReady(format!("the store does not answer: {e}")))?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"status": "ready", "queue_depth": state.queue.depth(), "running": state.queue.running()}),
    ))
}

/// `GET /metrics`: the OpenMetrics text format (Prometheus scrapes it).
pub async fn metrics(state: Arc<AppState>) -> Result<Response, ApiError> {
    let counts = state.store.status_counts().await?;
    let snap = Snapshot {
        jobs_by_state: JobStatus::ALL
            .iter()
            .map(|s| {
                let n = counts.iter().find(|(st, _)| st == s).map_or(0, |(_, n)| *n);
                (s.as_str(), n)
            })
            .collect(),
        queue_depth: state.queue.depth() as u64,
        devices: state.device.metrics(),
        resident_keys: state.keys.len() as u64,
        handoff_bytes: state.handoff.bytes() as u64,
        uptime_secs: state.started.elapsed().as_secs_f64(),
    };
    let mut resp = Response::new(state.metrics.render(snap).into());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    Ok(resp)
}

/// `GET /v1/devices` (any key).
pub async fn devices(state: Arc<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    auth::authenticate(&state, &headers).await?;
    Ok(json_response(StatusCode::OK, &state.device.inventory()))
}

/// `GET /v1/usage`: a tenant's own usage, or every tenant's for the admin.
pub async fn usage(state: Arc<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    match auth::authenticate(&state, &headers).await? {
        Principal::Admin => Ok(json_response(
            StatusCode::OK,
            &state.store.usage(None).await?,
        )),
        Principal::Tenant { tenant_id, .. } => {
            let u = state.store.usage(Some(&tenant_id)).await?;
            let one = u.into_iter().next().ok_or_else(|| {
                ApiError::Unauthorized("the key's tenant no longer exists".into())
            })?;
            Ok(json_response(StatusCode::OK, &one))
        }
    }
}

/// `GET /v1/openapi.json`.
pub async fn openapi() -> Result<Response, ApiError> {
    let mut resp = Response::new(OPENAPI.into());
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}
