//! Circuits (Groth16 proving keys): upload (streamed to disk, hashed, validated by loading
//! it, deduplicated by sha256), list, show, delete.

use std::sync::Arc;

use bytes::Buf;
use futures_util::Stream;
use serde_json::json;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use super::auth;
use super::body::{file_of, stream_to_file, Upload};
use super::error::{json_response, ApiError};
use super::quota_retry_after;
use crate::state::AppState;
use kiln_algebra::curve::{Bn254, Curve};
use kiln_formats::Zkey;
use kiln_groth16::ProvingKey;
use kiln_store::now_ms;
use kiln_store::{Circuit, DeleteCircuit};

/// Checks a circuit id's shape (64 lowercase hex digits) so it is safe in paths.
pub fn check_id(id: &str) -> Result<(), ApiError> {
    if id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "no circuit {id:?} (circuit ids are the 64-hex-digit sha256 of the zkey)"
        )))
    }
}

fn over_quota(stored: u64, quota: u64, size: u64) -> ApiError {
    ApiError::Quota {
        message: format!(
            "stored proving keys quota: {stored} of {quota} bytes used, this zkey needs {size} more; delete circuits to make room"
        ),
        retry_after: quota_retry_after(),
    }
}

/// `POST /v1/circuits`: 201 with the circuit, 200 if the tenant already had this zkey.
pub async fn upload<S, B>(
    state: Arc<AppState>,
    headers: HeaderMap,
    body: S,
) -> Result<Response, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: Buf + Send + 'static,
{
    let raw = Upload::raw(&headers, body);
    let checks = async {
        let tenant_id = auth::tenant(&state, &headers).await?;
        let tenant =
            state.store.get_tenant(&tenant_id).await?.ok_or_else(|| {
                ApiError::Unauthorized("the key's tenant no longer exists".into())
            })?;
        let quota = tenant
            .quotas
            .max_stored_bytes
            .unwrap_or(state.cfg.max_stored_bytes);
        let stored = state.store.stored_bytes(&tenant_id).await?;
        Ok::<_, ApiError>((tenant_id, stored, quota))
    }
    .await;
    let (tenant_id, early_stored, quota) = match checks {
        Ok(v) => v,
        Err(e) => {
            raw.drain().await;
            return Err(e);
        }
    };
    let limit = state.cfg.max_zkey_bytes;
    let up = file_of(&headers, raw, limit, "the zkey").await?;
    // Refused before reading only if it could never fit: the tenant may already have this
    // very zkey (a re-upload is a 200 whatever the quota), which only its hash tells.
    if let Some(n) = up.declared {
        if n <= limit && n > quota {
            up.drain().await;
            return Err(over_quota(early_stored, quota, n));
        }
    }
    let tmp = state
        .dirs
        .tmp
        .join(format!("upload-{}.zkey", uuid::Uuid::new_v4()));
    let (id, size) = stream_to_file(up, limit, &tmp, "the zkey").await?;
    let cleanup = |tmp: std::path::PathBuf| async move {
        let _ = tokio::fs::remove_file(&tmp).await;
    };
    if let Some(c) = state.store.get_circuit(&tenant_id, &id).await? {
        cleanup(tmp).await;
        return Ok(json_response(StatusCode::OK, &c));
    }
    // Validate by loading it: header, section sizes, every coefficient and point.
    let st = state.clone();
    let path = tmp.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let hide = |m: String| m.replace(&path.display().to_string(), "the uploaded zkey");
        let zk = Zkey::<Bn254>::open(&path).map_err(|e| hide(e.to_string()))?;
        let h = zk.header().clone();
        let rows = zk
            .coeffs()
            .map_err(|e| hide(e.to_string()))?
            .iter()
            .map(|c| c.constraint as u64 + 1)
            .max()
            .unwrap_or(0);
        let pk =
            ProvingKey::load(&zk, st.device.device.clone()).map_err(|e| hide(e.to_string()))?;
        Ok::<_, String>((h, rows, pk))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("zkey validation thread failed: {e}")))?;
    let (header, rows, pk) = match checked {
        Ok(v) => v,
        Err(message) => {
            cleanup(tmp).await;
            return Err(ApiError::invalid("invalid_zkey", message));
        }
    };
    let circuit = Circuit {
        id: id.clone(),
        tenant_id: tenant_id.clone(),
        curve: Bn254::SNARKJS_NAME.to_string(),
        n_public: header.n_public as u64,
        n_vars: header.n_vars as u64,
        domain_size: header.domain_size as u64,
        n_constraints: rows.saturating_sub(header.n_public as u64 + 1),
        size_bytes: size,
        created_at: now_ms(),
    };
    // Under the submission lock: the quota is checked against what concurrent uploads
    // have stored, and the key stored and recorded before the next one looks.
    let guard = state.submit_lock.lock().await;
    let stored = async {
        let stored = state.store.stored_bytes(&tenant_id).await?;
        if stored + size > quota {
            return Err(over_quota(stored, quota, size));
        }
        let dest = state.dirs.zkey(&id);
        tokio::fs::rename(&tmp, &dest)
            .await
            .map_err(|e| ApiError::Internal(format!("cannot store the zkey: {e}")))?;
        if let Ok(dir) = std::fs::File::open(&state.dirs.circuits) {
            let _ = dir.sync_all();
        }
        Ok(state.store.add_circuit(&circuit).await?)
    }
    .await;
    drop(guard);
    let inserted = match stored {
        Ok(inserted) => inserted,
        Err(e) => {
            cleanup(tmp).await;
            return Err(e);
        }
    };
    state.keys.insert(&id, Arc::new(pk));
    tracing::info!(target: crate::api::TARGET, tenant = %tenant_id, circuit = %id, size, "circuit uploaded");
    let status = if inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_response(status, &circuit))
}

/// `GET /v1/circuits`.
pub async fn list(state: Arc<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let tenant_id = auth::tenant(&state, &headers).await?;
    let all = state.store.list_circuits(&tenant_id).await?;
    Ok(json_response(StatusCode::OK, &all))
}

/// The tenant's circuit `id`, or 404.
pub async fn find(state: &AppState, tenant_id: &str, id: &str) -> Result<Circuit, ApiError> {
    check_id(id)?;
    state
        .store
        .get_circuit(tenant_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no circuit {id} for this tenant")))
}

/// `GET /v1/circuits/{id}`.
pub async fn show(
    state: Arc<AppState>,
    headers: HeaderMap,
    id: String,
) -> Result<Response, ApiError> {
    let tenant_id = auth::tenant(&state, &headers).await?;
    let c = find(&state, &tenant_id, &id).await?;
    Ok(json_response(StatusCode::OK, &c))
}

/// `DELETE /v1/circuits/{id}`: 409 while unfinished jobs use it.
pub async fn delete(
    state: Arc<AppState>,
    headers: HeaderMap,
    id: String,
) -> Result<Response, ApiError> {
    let tenant_id = auth::tenant(&state, &headers).await?;
    check_id(&id)?;
    let _guard = state.submit_lock.lock().await;
    match state.store.delete_circuit(&tenant_id, &id).await? {
        DeleteCircuit::NotFound => Err(ApiError::NotFound(format!(
            "no circuit {id} for this tenant"
        ))),
        DeleteCircuit::InUse(n) => Err(ApiError::Conflict {
            code: "circuit_in_use",
            message: format!(
                "circuit {id} is used by {n} unfinished job(s); wait for them or cancel them first"
            ),
        }),
        DeleteCircuit::Deleted { remaining_holders } => {
            if remaining_holders == 0 {
                state.keys.remove(&id);
                if let Err(e) = tokio::fs::remove_file(state.dirs.zkey(&id)).await {
                    tracing::warn!(target: crate::api::TARGET, circuit = %id, error = %e, "cannot remove the deleted circuit's zkey");
                }
            }
            tracing::info!(target: crate::api::TARGET, tenant = %tenant_id, circuit = %id, "circuit deleted");
            Ok(json_response(
                StatusCode::OK,
                &json!({"id": id, "deleted": true}),
            ))
        }
    }
}
