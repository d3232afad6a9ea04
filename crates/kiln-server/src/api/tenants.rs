//! Tenants and their API keys. The admin creates tenants and manages anyone's keys; a
//! tenant manages its own keys under `/v1/keys`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::json;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use super::error::{json_response, ApiError};
use super::{auth, parse_json_body};
use crate::secrets::{hash_key, new_secret, TENANT_KEY_PREFIX};
use crate::state::AppState;
use kiln_store::now_ms;
use kiln_store::{ApiKey, Quotas, Tenant};

/// `POST /v1/tenants` body (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    #[serde(default)]
    name: String,
    #[serde(default)]
    quotas: Quotas,
}

/// `PATCH /v1/tenants/{id}` body: the fields to change.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantChange {
    name: Option<String>,
    quotas: Option<Quotas>,
}

/// `POST .../keys` body (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    label: Option<String>,
}

fn fresh_key(tenant_id: &str, label: Option<String>) -> (String, ApiKey) {
    let key = new_secret(TENANT_KEY_PREFIX);
    let rec = ApiKey {
        id: uuid::Uuid::new_v4().to_string(),
        tenant_id: tenant_id.to_string(),
        key_hash: hash_key(&key),
        prefix: key.chars().take(TENANT_KEY_PREFIX.len() + 6).collect(),
        label,
        created_at: now_ms(),
        revoked_at: None,
    };
    (key, rec)
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.len() > 200 {
        return Err(ApiError::invalid(
            "invalid_request",
            "name: at most 200 characters",
        ));
    }
    Ok(())
}

/// Refuses quotas no job could ever pass (0) or that the store cannot hold.
fn check_quotas(q: &Quotas) -> Result<(), ApiError> {
    for (name, v) in [
        ("max_queued_jobs", q.max_queued_jobs),
        ("max_concurrent_jobs", q.max_concurrent_jobs),
        ("max_stored_bytes", q.max_stored_bytes),
    ] {
        if let Some(v) = v {
            if v == 0 || v > i64::MAX as u64 {
                return Err(ApiError::invalid(
                    "invalid_request",
                    format!(
                        "quotas.{name} = {v}: expected 1 to {} (leave it out for the server's default)",
                        i64::MAX
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn tenant_json(t: &Tenant) -> serde_json::Value {
    json!({"id": t.id, "name": t.name, "created_at": t.created_at, "quotas": t.quotas})
}

/// `POST /v1/tenants` (admin): 201 `{"id", "api_key", "key_id", "webhook_secret", ...}`.
pub async fn create(
    state: Arc<AppState>,
    headers: HeaderMap,
    body: Vec<u8>,
) -> Result<Response, ApiError> {
    auth::admin(&state, &headers).await?;
    let req: NewTenant = parse_json_body(&body, "tenant")?.unwrap_or_default();
    check_name(&req.name)?;
    check_quotas(&req.quotas)?;
    let tenant = Tenant {
        id: uuid::Uuid::new_v4().to_string(),
        name: req.name,
        created_at: now_ms(),
        webhook_secret: new_secret("whsec_"),
        quotas: req.quotas,
    };
    let (key, rec) = fresh_key(&tenant.id, Some("initial".into()));
    state.store.create_tenant(&tenant, &rec).await?;
    tracing::info!(target: crate::api::TARGET, tenant = %tenant.id, "tenant created");
    let mut body = tenant_json(&tenant);
    body["api_key"] = json!(key);
    body["key_id"] = json!(rec.id);
    body["webhook_secret"] = json!(tenant.webhook_secret);
    Ok(json_response(StatusCode::CREATED, &body))
}

/// `GET /v1/tenants` (admin).
pub async fn list(state: Arc<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    auth::admin(&state, &headers).await?;
    let all: Vec<_> = state
        .store
        .list_tenants()
        .await?
        .iter()
        .map(tenant_json)
        .collect();
    Ok(json_response(StatusCode::OK, &all))
}

/// `GET /v1/tenants/{id}` (admin).
pub async fn show(
    state: Arc<AppState>,
    headers: HeaderMap,
    id: String,
) -> Result<Response, ApiError> {
    auth::admin(&state, &headers).await?;
    let t = find_tenant(&state, &id).await?;
    Ok(json_response(StatusCode::OK, &tenant_json(&t)))
}

/// `PATCH /v1/tenants/{id}` (admin): changes the name and/or the quotas. A `quotas` object
/// replaces all three (a quota left out of it, or null, is the server's default); `quotas`
/// itself left out or null changes none. Applies to submissions from now on; jobs already
/// accepted stay.
pub async fn update(
    state: Arc<AppState>,
    headers: HeaderMap,
    id: String,
    body: Vec<u8>,
) -> Result<Response, ApiError> {
    auth::admin(&state, &headers).await?;
    let change: TenantChange = parse_json_body(&body, "tenant change")?.unwrap_or_default();
    if let Some(name) = &change.name {
        check_name(name)?;
    }
    if let Some(quotas) = &change.quotas {
        check_quotas(quotas)?;
    }
    // Read, changed and written under the submission lock: concurrent changes do not undo
    // each other, and no quota check runs half on the old values.
    let guard = state.submit_lock.lock().await;
    let mut t = find_tenant(&state, &id).await?;
    if let Some(name) = change.name {
        t.name = name;
    }
    if let Some(quotas) = change.quotas {
        t.quotas = quotas;
    }
    let updated = state.store.update_tenant(&t).await?;
    drop(guard);
    if !updated {
        return Err(ApiError::NotFound(format!("no tenant {id}")));
    }
    tracing::info!(target: crate::api::TARGET, tenant = %t.id, "tenant updated");
    Ok(json_response(StatusCode::OK, &tenant_json(&t)))
}

async fn find_tenant(state: &AppState, id: &str) -> Result<Tenant, ApiError> {
    state
        .store
        .get_tenant(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no tenant {id}")))
}

/// Who a key route acts for: the admin names the tenant in the path; a tenant acts for
/// itself.
async fn key_owner(
    state: &AppState,
    headers: &HeaderMap,
    path_tenant: Option<String>,
) -> Result<String, ApiError> {
    match path_tenant {
        Some(t) => {
            auth::admin(state, headers).await?;
            Ok(find_tenant(state, &t).await?.id)
        }
        None => auth::tenant(state, headers).await,
    }
}

/// `POST /v1/keys` (tenant) or `POST /v1/tenants/{id}/keys` (admin): 201 with the new key.
pub async fn add_key(
    state: Arc<AppState>,
    headers: HeaderMap,
    tenant: Option<String>,
    body: Vec<u8>,
) -> Result<Response, ApiError> {
    let owner = key_owner(&state, &headers, tenant).await?;
    let req: NewKey = parse_json_body(&body, "key")?.unwrap_or_default();
    let (key, rec) = fresh_key(&owner, req.label);
    state.store.add_api_key(&rec).await?;
    tracing::info!(target: crate::api::TARGET, tenant = %owner, key = %rec.id, "API key added");
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"id": rec.id, "api_key": key, "prefix": rec.prefix, "label": rec.label, "created_at": rec.created_at}),
    ))
}

/// `GET /v1/keys` or `GET /v1/tenants/{id}/keys`: the keys (never the secrets).
pub async fn list_keys(
    state: Arc<AppState>,
    headers: HeaderMap,
    tenant: Option<String>,
) -> Result<Response, ApiError> {
    let owner = key_owner(&state, &headers, tenant).await?;
    let keys = state.store.list_api_keys(&owner).await?;
    Ok(json_response(StatusCode::OK, &keys))
}

/// `DELETE /v1/keys/{key}` or `DELETE /v1/tenants/{id}/keys/{key}`: revokes a key at once.
pub async fn revoke_key(
    state: Arc<AppState>,
    headers: HeaderMap,
    tenant: Option<String>,
    key_id: String,
) -> Result<Response, ApiError> {
    let owner = key_owner(&state, &headers, tenant).await?;
    if !state
        .store
        .revoke_api_key(&owner, &key_id, now_ms())
        .await?
    {
        return Err(ApiError::NotFound(format!(
            "no API key {key_id} for this tenant"
        )));
    }
    tracing::info!(target: crate::api::TARGET, tenant = %owner, key = %key_id, "API key revoked");
    Ok(json_response(
        StatusCode::OK,
        &json!({"id": key_id, "revoked": true}),
    ))
}
