//! The REST API (warp): routes, authentication, request bodies and error answers (a job's
//! JSON view is `kiln_jobs::view`, shared with its webhooks).
//!
//! Every answer is JSON (except `/metrics`); every error is `{"error": {"code", "message"}}`.
//! [`ROUTES`] lists the routes as `openapi.json` (beside this file) documents them; tests check both
//! against each other and against the running server.

pub mod auth;
pub mod body;
pub mod circuits;
pub mod error;
pub mod form;
pub mod intake;
pub mod ops;
pub mod proofs;
pub mod rollup;
pub mod tenants;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use warp::http::HeaderMap;
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::state::AppState;
use error::ApiError;

/// The `tracing` target of the API's events (`RUST_LOG=kiln::api=debug`).
pub(crate) const TARGET: &str = "kiln::api";

/// Every route: (method, path template as in the OpenAPI document).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/devices"),
    ("GET", "/v1/usage"),
    ("POST", "/v1/tenants"),
    ("GET", "/v1/tenants"),
    ("GET", "/v1/tenants/{tenant_id}"),
    ("PATCH", "/v1/tenants/{tenant_id}"),
    ("POST", "/v1/tenants/{tenant_id}/keys"),
    ("GET", "/v1/tenants/{tenant_id}/keys"),
    ("DELETE", "/v1/tenants/{tenant_id}/keys/{key_id}"),
    ("POST", "/v1/keys"),
    ("GET", "/v1/keys"),
    ("DELETE", "/v1/keys/{key_id}"),
    ("POST", "/v1/circuits"),
    ("GET", "/v1/circuits"),
    ("GET", "/v1/circuits/{circuit_id}"),
    ("DELETE", "/v1/circuits/{circuit_id}"),
    ("POST", "/v1/circuits/{circuit_id}/proofs"),
    ("GET", "/v1/proofs"),
    ("GET", "/v1/proofs/{proof_id}"),
    ("POST", "/v1/proofs/{proof_id}/cancel"),
    ("POST", "/v1/rollup/transactions"),
    ("GET", "/v1/rollup/transactions/{hash}"),
    ("GET", "/v1/rollup/accounts/{index}"),
    ("GET", "/v1/rollup/accounts/{index}/proof"),
    ("GET", "/v1/rollup/state"),
    ("GET", "/v1/rollup/batches/{number}"),
    ("GET", "/v1/rollup/batches/{number}/verification-key"),
    ("GET", "/v1/rollup/batches/{number}/exits"),
    ("POST", "/v1/rollup/rpc"),
];

/// Largest body of the small JSON routes (tenants, keys).
const SMALL_BODY: u64 = 64 << 10;

/// Seconds a client should wait after a stored-bytes 429 (space frees only when it deletes
/// circuits, so this is a hint to check back, not a promise).
pub fn quota_retry_after() -> u64 {
    60
}

/// A serde message with Rust's type names put in words ("expected u64" → "expected a
/// non-negative integer").
fn plain_types(e: &serde_json::Error) -> String {
    let mut m = e.to_string();
    for (rust, words) in [
        ("u8", "a non-negative integer"),
        ("u16", "a non-negative integer"),
        ("u32", "a non-negative integer"),
        ("u64", "a non-negative integer"),
        ("usize", "a non-negative integer"),
        ("i8", "an integer"),
        ("i16", "an integer"),
        ("i32", "an integer"),
        ("i64", "an integer"),
    ] {
        for end in [" ", ",", "\n"] {
            m = m.replace(
                &format!("expected {rust}{end}"),
                &format!("expected {words}{end}"),
            );
        }
        if let Some(stripped) = m.strip_suffix(&format!("expected {rust}")) {
            m = format!("{stripped}expected {words}");
        }
    }
    m
}

/// `body` without a leading UTF-8 byte order mark (some Windows tools write one).
pub fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

/// Parses an optional JSON body: `None` if empty; 400 for malformed JSON, 422 for JSON of
/// the wrong shape (the message names the line, column and field).
pub fn parse_json_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<Option<T>, ApiError> {
    let body = without_bom(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => {
                ApiError::invalid("invalid_request", format!("{what}: {}", plain_types(&e)))
            }
            _ => ApiError::BadRequest {
                code: "malformed_json",
                message: format!("{what}: the body is not valid JSON: {e}"),
            },
        }
    })
}

fn finish(state: &AppState, r: Result<Response, ApiError>) -> Response {
    match r {
        Ok(resp) => resp,
        Err(e) => {
            count(state, &e);
            e.into_response()
        }
    }
}

fn count(state: &AppState, e: &ApiError) {
    if e.status().is_server_error() {
        state.metrics.server_errors.inc();
    } else {
        state.metrics.client_errors.inc();
    }
}

/// Whether `path` fits a route template (`{name}` takes one non-empty segment).
fn template_matches(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') => {
                if ps.is_empty() {
                    return false;
                }
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return false,
        }
    }
}

/// The methods served on `path`, as an `Allow` header lists them (GET routes answer HEAD
/// too); empty if no route has that path.
pub fn methods_for(path: &str) -> Vec<&'static str> {
    let served = |method: &str| {
        ROUTES
            .iter()
            .any(|(m, template)| *m == method && template_matches(template, path))
    };
    ["GET", "HEAD", "POST", "PATCH", "DELETE"]
        .into_iter()
        .filter(|m| served(if *m == "HEAD" { "GET" } else { m }))
        .collect()
}

/// The answer to a request no route took: 405 with `Allow` if its path has routes, else 404.
fn no_route(state: &AppState, method: &warp::http::Method, path: &str) -> Response {
    let allowed = methods_for(path);
    let e = if allowed.is_empty() {
        ApiError::NoRoute
    } else {
        ApiError::MethodNotAllowed {
            method: method.to_string(),
            path: path.to_string(),
            allow: allowed.join(", "),
        }
    };
    count(state, &e);
    e.into_response()
}

fn rejection(state: &AppState, r: Rejection) -> Response {
    let e = if r.is_not_found() || r.find::<warp::reject::MethodNotAllowed>().is_some() {
        ApiError::NoRoute
    } else if let Some(q) = r.find::<warp::reject::InvalidQuery>() {
        ApiError::bad(format!("bad query string: {q}"))
    } else {
        ApiError::bad(format!("bad request: {r:?}"))
    };
    count(state, &e);
    e.into_response()
}

/// The whole API as one warp filter.
pub fn routes(
    state: Arc<AppState>,
) -> impl Filter<Extract = (impl warp::Reply,), Error = Infallible> + Clone {
    let st = {
        let state = state.clone();
        warp::any().map(move || state.clone())
    };
    let hdr = warp::header::headers_cloned();
    let query = warp::query::<HashMap<String, String>>();
    let small_body = hdr
        .and(warp::body::stream())
        .then(|h: HeaderMap, s| async move {
            body::read_limited(body::Upload::raw(&h, s), SMALL_BODY, "the request body").await
        });

    // GET routes answer HEAD too (hyper sends no body for HEAD).
    let get_or_head = || warp::get().or(warp::head()).unify();

    macro_rules! done {
        ($state:expr, $e:expr) => {
            finish(&$state, $e.await)
        };
    }

    let healthz = warp::path!("healthz")
        .and(get_or_head())
        .and(st.clone())
        .then(|s: Arc<AppState>| async move { done!(s, ops::healthz()) })
        .boxed();
    let readyz = warp::path!("readyz")
        .and(get_or_head())
        .and(st.clone())
        .then(|s: Arc<AppState>| async move { done!(s, ops::readyz(s.clone())) })
        .boxed();
    let metrics = warp::path!("metrics")
        .and(get_or_head())
        .and(st.clone())
        .then(|s: Arc<AppState>| async move { done!(s, ops::metrics(s.clone())) })
        .boxed();
    let openapi = warp::path!("v1" / "openapi.json")
        .and(get_or_head())
        .and(st.clone())
        .then(|s: Arc<AppState>| async move { done!(s, ops::openapi()) })
        .boxed();
    let devices = warp::path!("v1" / "devices")
        .and(get_or_head())
        .and(st.clone())
        .and(hdr)
        .then(|s: Arc<AppState>, h| async move { done!(s, ops::devices(s.clone(), h)) })
        .boxed();
    let usage = warp::path!("v1" / "usage")
        .and(get_or_head())
        .and(st.clone())
        .and(hdr)
        .then(|s: Arc<AppState>, h| async move { done!(s, ops::usage(s.clone(), h)) })
        .boxed();

    let tenants_create = warp::path!("v1" / "tenants")
        .and(warp::post())
        .and(st.clone())
        .and(hdr)
        .and(small_body)
        .then(
            |s: Arc<AppState>, h, b: Result<Vec<u8>, ApiError>| async move {
                done!(s, async { tenants::create(s.clone(), h, b?).await })
            },
        )
        .boxed();
    let tenants_list = warp::path!("v1" / "tenants")
        .and(get_or_head())
        .and(st.clone())
        .and(hdr)
        .then(|s: Arc<AppState>, h| async move { done!(s, tenants::list(s.clone(), h)) })
        .boxed();
    let tenants_show = warp::path!("v1" / "tenants" / String)
        .and(get_or_head())
        .and(st.clone())
        .and(hdr)
        .then(|id, s: Arc<AppState>, h| async move { done!(s, tenants::show(s.clone(), h, id)) })
        .boxed();
    let tenants_update = warp::path!("v1" / "tenants" / String)
        .and(warp::patch())
        .and(st.clone())
        .and(hdr)
        .and(small_body)
        .then(
            |id, s: Arc<AppState>, h, b: Result<Vec<u8>, ApiError>| async move {
                done!(s, async { tenants::update(s.clone(), h, id, b?).await })
            },
        )
        .boxed();
    let tenant_keys_add = warp::path!("v1" / "tenants" / String / "keys")
        .and(warp::post())
        .and(st.clone())
        .and(hdr)
        .and(small_body)
        .then(
            |t, s: Arc<AppState>, h, b: Result<Vec<u8>, ApiError>| async move {
                done!(s, async {
                    tenants::add_key(s.clone(), h, Some(t), b?).await
                })
            },
        )
        .boxed();
    let tenant_keys_list = warp::path!("v1" / "tenants" / String / "keys")
        .and(get_or_head())
        .and(st.clone())
        .and(hdr)
        .then(|t, s: Arc<AppState>, h| async move {
            done!(s, tenants::list_keys(s.clone(), h, Some(t)))
        })
        .boxed();
    let tenant_keys_revoke = warp::path!("v1" / "tenants" / String / "keys" / String)
        .and(warp::delete())
        .and(st.clone())
        .and(hdr)
        .then(|t, k, s: Arc<AppState>, h| async move {
            done!(s, tenants::revoke_key(s.clone(), h, Some(t), k))
        })
        .boxed();
    let keys_add = warp::path!("v1" / "keys")
        .and(warp::post())
        .and(st.clone())
        .and(hdr)
        .and(small_body)
        .then(
            |s: Arc<AppState>, h, b: Result<Vec<u8>, ApiError>| async move {
                done!(s, async { tenants::add_key(s.clone(), h, None, b?).await })
            },
        )
        .boxed();
    let keys_list = warp::path!("v1" / "keys")
        .and(get_or_head())
        .and(st.clone())
        .and(hdr)
        .then(|s: Arc<AppState>, h| async move { done!(s, tenants::list_keys(s.clone(), h, None)) })
        .boxed();
    let keys_revoke = warp::path!("v1" / "keys" / String)
        .and(warp::delete())
        .and(st.clone())
        .and(hdr)
        .then(|k, s: Arc<AppState>, h| async move {
            done!(s, tenants::revoke_key(s.clone(), h, None, k))
        })
        .boxed();

    let circuits_upload = warp::path!("v1" / "circuits")
        .and(warp::post())
        .and(st.clone())
        .and(hdr)
        .and(warp::body::stream())
        .then(|s: Arc<AppState>, h, b| async move { done!(s, circuits::upload(s.clone(), h, b)) })
        .boxed();
    let circuits_list = warp::path!("v1" / "circuits")
        .and(get_or_head())
        .and(st.clone())
        .and(hdr)
        .then(|s: Arc<AppState>, h| async move { done!(s, circuits::list(s.clone(), h)) })
        .boxed();
    let circuits_show = warp::path!("v1" / "circuits" / String)
        .and(get_or_head())
        .and(st.clone())
        .and(hdr)
        .then(|id, s: Arc<AppState>, h| async move { done!(s, circuits::show(s.clone(), h, id)) })
        .boxed();
    let circuits_delete = warp::path!("v1" / "circuits" / String)
        .and(warp::delete())
        .and(st.clone())
        .and(hdr)
        .then(|id, s: Arc<AppState>, h| async move { done!(s, circuits::delete(s.clone(), h, id)) })
        .boxed();

    let proofs_submit = warp::path!("v1" / "circuits" / String / "proofs")
        .and(warp::post())
        .and(st.clone())
        .and(hdr)
        .and(query)
        .and(warp::body::stream())
        .then(|id, s: Arc<AppState>, h: HeaderMap, q, b| async move {
            done!(s, proofs::submit(s.clone(), h, id, q, b))
        })
        .boxed();
    let proofs_list = warp::path!("v1" / "proofs")
        .and(get_or_head())
        .and(st.clone())
        .and(hdr)
        .and(query)
        .then(|s: Arc<AppState>, h, q| async move { done!(s, proofs::list(s.clone(), h, q)) })
        .boxed();
    let proofs_show = warp::path!("v1" / "proofs" / String)
        .and(get_or_head())
        .and(st.clone())
        .and(hdr)
        .and(query)
        .then(
            |id, s: Arc<AppState>, h, q| async move { done!(s, proofs::show(s.clone(), h, id, q)) },
        )
        .boxed();
    let proofs_cancel = warp::path!("v1" / "proofs" / String / "cancel")
        .and(warp::post())
        .and(st.clone())
        .and(hdr)
        .then(|id, s: Arc<AppState>, h| async move { done!(s, proofs::cancel(s.clone(), h, id)) })
        .boxed();

    let remote = warp::addr::remote();
    let limited = |limit: u64| {
        warp::header::headers_cloned()
            .and(warp::body::stream())
            .then(move |h: HeaderMap, s| async move {
                body::read_limited(body::Upload::raw(&h, s), limit, "the request body").await
            })
    };
    let rollup_submit = warp::path!("v1" / "rollup" / "transactions")
        .and(warp::post())
        .and(st.clone())
        .and(remote)
        .and(limited(rollup::MAX_TX_BODY))
        .then(|s: Arc<AppState>, a, b| async move { done!(s, rollup::submit(s.clone(), a, b)) })
        .boxed();
    let rollup_tx = warp::path!("v1" / "rollup" / "transactions" / String)
        .and(get_or_head())
        .and(st.clone())
        .and(remote)
        .then(
            |h, s: Arc<AppState>, a| async move { done!(s, rollup::transaction(s.clone(), a, h)) },
        )
        .boxed();
    let rollup_account = warp::path!("v1" / "rollup" / "accounts" / String)
        .and(get_or_head())
        .and(st.clone())
        .and(remote)
        .then(|i, s: Arc<AppState>, a| async move { done!(s, rollup::account(s.clone(), a, i)) })
        .boxed();
    let rollup_proof =
        warp::path!("v1" / "rollup" / "accounts" / String / "proof")
            .and(get_or_head())
            .and(st.clone())
            .and(remote)
            .then(|i, s: Arc<AppState>, a| async move {
                done!(s, rollup::account_proof(s.clone(), a, i))
            })
            .boxed();
    let rollup_state = warp::path!("v1" / "rollup" / "state")
        .and(get_or_head())
        .and(st.clone())
        .and(remote)
        .then(|s: Arc<AppState>, a| async move { done!(s, rollup::rollup_state(s.clone(), a)) })
        .boxed();
    let rollup_batch = warp::path!("v1" / "rollup" / "batches" / String)
        .and(get_or_head())
        .and(st.clone())
        .and(remote)
        .then(|n, s: Arc<AppState>, a| async move { done!(s, rollup::batch(s.clone(), a, n)) })
        .boxed();
    let rollup_vk = warp::path!("v1" / "rollup" / "batches" / String / "verification-key")
        .and(get_or_head())
        .and(st.clone())
        .and(remote)
        .then(|n, s: Arc<AppState>, a| async move {
            done!(s, rollup::verification_key(s.clone(), a, n))
        })
        .boxed();
    let rollup_exits = warp::path!("v1" / "rollup" / "batches" / String / "exits")
        .and(get_or_head())
        .and(st.clone())
        .and(remote)
        .then(|n, s: Arc<AppState>, a| async move { done!(s, rollup::exits(s.clone(), a, n)) })
        .boxed();
    let rollup_rpc = warp::path!("v1" / "rollup" / "rpc")
        .and(warp::post())
        .and(st.clone())
        .and(remote)
        .and(limited(rollup::MAX_RPC_BODY))
        .then(|s: Arc<AppState>, a, b| async move { done!(s, rollup::rpc(s.clone(), a, b)) })
        .boxed();

    // Last: whatever no route took gets its 405 (with Allow) or 404.
    let fallback = warp::method()
        .and(warp::path::full())
        .and(st.clone())
        .map(
            |m: warp::http::Method, p: warp::path::FullPath, s: Arc<AppState>| {
                no_route(&s, &m, p.as_str())
            },
        )
        .boxed();

    let recover_state = state.clone();
    healthz
        .or(readyz)
        .unify()
        .or(metrics)
        .unify()
        .or(openapi)
        .unify()
        .or(devices)
        .unify()
        .or(usage)
        .unify()
        .or(tenants_create)
        .unify()
        .or(tenants_list)
        .unify()
        .or(tenants_show)
        .unify()
        .or(tenants_update)
        .unify()
        .or(tenant_keys_add)
        .unify()
        .or(tenant_keys_list)
        .unify()
        .or(tenant_keys_revoke)
        .unify()
        .or(keys_add)
        .unify()
        .or(keys_list)
        .unify()
        .or(keys_revoke)
        .unify()
        .or(circuits_upload)
        .unify()
        .or(circuits_list)
        .unify()
        .or(circuits_show)
        .unify()
        .or(circuits_delete)
        .unify()
        .or(proofs_submit)
        .unify()
        .or(proofs_list)
        .unify()
        .or(proofs_show)
        .unify()
        .or(proofs_cancel)
        .unify()
        .or(rollup_submit)
        .unify()
        .or(rollup_tx)
        .unify()
        .or(rollup_account)
        .unify()
        .or(rollup_proof)
        .unify()
        .or(rollup_state)
        .unify()
        .or(rollup_batch)
        .unify()
        .or(rollup_vk)
        .unify()
        .or(rollup_exits)
        .unify()
        .or(rollup_rpc)
        .unify()
        .or(fallback)
        .unify()
        .recover(move |r: Rejection| {
            let s = recover_state.clone();
            async move { Ok::<Response, Infallible>(rejection(&s, r)) }
        })
        .unify()
        .with(warp::trace::request())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_openapi_document_lists_exactly_the_routes() {
        let doc: serde_json::Value =
            serde_json::from_str(ops::OPENAPI).expect("openapi.json is JSON");
        assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3."));
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().unwrap().keys() {
                if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    documented.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        documented.sort();
        let mut routes: Vec<_> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        routes.sort();
        assert_eq!(documented, routes);
    }

    #[test]
    fn paths_resolve_to_their_methods() {
        assert_eq!(methods_for("/v1/circuits"), ["GET", "HEAD", "POST"]);
        assert_eq!(methods_for("/v1/circuits/abc"), ["GET", "HEAD", "DELETE"]);
        assert_eq!(methods_for("/v1/circuits/abc/proofs"), ["POST"]);
        assert_eq!(methods_for("/v1/proofs/x/cancel"), ["POST"]);
        assert!(methods_for("/v1/circuits/").is_empty());
        assert!(methods_for("/v1/circuits/a/b").is_empty());
        assert!(methods_for("/nope").is_empty());
    }

    #[test]
    fn json_errors_are_classified() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        assert!(parse_json_body::<T>(b"  ", "x").unwrap().is_none());
        let bom = parse_json_body::<T>(b"\xEF\xBB\xBF{\"a\": 1}", "x").unwrap();
        assert_eq!(bom.unwrap().a, 1);
        let e = parse_json_body::<T>(b"{\"a\":", "x").unwrap_err();
        assert_eq!(e.status(), 400);
        let e = parse_json_body::<T>(b"{\"a\":\"no\"}", "x").unwrap_err();
        assert_eq!(e.status(), 422);
        let m = e.to_string();
        assert!(
            m.contains("expected a non-negative integer") && !m.contains("u32"),
            "{m}"
        );
    }
}
