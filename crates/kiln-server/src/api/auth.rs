//! Who is calling: `Authorization: Bearer <key>` resolves to the admin or to a tenant.

use warp::http::HeaderMap;

use super::error::ApiError;
use crate::secrets::{constant_time_eq, hash_key};
use crate::state::AppState;

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

/// The token of an `Authorization: Bearer <token>` value (the scheme is case-insensitive,
/// RFC 7235), if that is what it is.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Resolves the caller from the request headers.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let mut values = headers.get_all(warp::http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ApiError::Unauthorized(
            "missing API key: send the header `Authorization: Bearer <key>`".into(),
        ));
    };
    if values.next().is_some() {
        return Err(ApiError::bad(
            "more than one Authorization header: send exactly one `Authorization: Bearer <key>`",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not ASCII text".into()))?;
    let key = bearer_token(value).ok_or_else(|| {
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

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_needs_a_token() {
        for v in [
            "Bearer k1",
            "bearer k1",
            "BEARER k1",
            "BeArEr   k1 ",
            "Bearer\tk1",
        ] {
            assert_eq!(bearer_token(v), Some("k1"), "{v:?}");
        }
        for v in ["Bearer", "Bearer ", "Basic k1", "Bearerk1", "k1", ""] {
            assert_eq!(bearer_token(v), None, "{v:?}");
        }
    }
}
