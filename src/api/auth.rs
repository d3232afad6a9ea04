//! Who is calling: `Authorization: Bearer <key>` resolves to the admin or to a tenant.

use warp::http::HeaderMap;

use super::error::ApiError;
use crate::server::secrets::{constant_time_eq, hash_key};
use crate::server::state::AppState;

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The appliance's administrator.
    Admin,
    /// A tenant, through one of its keys.
    Tenant {
        /// The tenant.
        tenant_id: String,
        /// The key used.
        key_id: String,
    },
}

/// Resolves the caller from the request headers.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let Some(value) = headers.get(warp::http::header::AUTHORIZATION) else {
        return Err(ApiError::Unauthorized(
            "missing API key: send the header `Authorization: Bearer <key>`".into(),
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not ASCII text".into()))?;
    let key = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer <key>`".into())
        })?;
    let hash = hash_key(key);
    if constant_time_eq(&hash, &state.admin_key_hash) {
        return Ok(Principal::Admin);
    }
    match state.store.find_api_key(&hash).await? {
        Some(k) => Ok(Principal::Tenant {
            tenant_id: k.tenant_id,
            key_id: k.id,
        }),
        None => Err(ApiError::Unauthorized(
            "API key not recognised: it was revoked or never issued".into(),
        )),
    }
}

/// The caller, who must be a tenant: its tenant id.
pub async fn tenant(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    match authenticate(state, headers).await? {
        Principal::Tenant { tenant_id, .. } => Ok(tenant_id),
        Principal::Admin => Err(ApiError::Forbidden(
            "this route needs a tenant API key; the admin key only manages tenants".into(),
        )),
    }
}

/// The caller, who must be the admin.
pub async fn admin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match authenticate(state, headers).await? {
        Principal::Admin => Ok(()),
        Principal::Tenant { .. } => {
            Err(ApiError::Forbidden("this route needs the admin key".into()))
        }
    }
}
