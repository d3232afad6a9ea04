//! The rollup's public routes under `/v1/rollup` (ROLLUP.md): transactions, their status,
//! accounts and state proofs, the state, batches and their verification keys, and the
//! seed's `Layer2API` as JSON-RPC 2.0 at `/v1/rollup/rpc`. Rollup users hold no API key;
//! each client (IP address) is rate-limited instead.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::{json, Value};
use warp::http::StatusCode;
use warp::reply::Response;

use super::error::{json_response, ApiError};
use crate::state::AppState;
use kiln_rollup::babyjub::to_biguint;
use kiln_rollup::intake::{parse_tx, IntakeError};
use kiln_rollup::ledger::TxError;
use kiln_rollup::tree::check_index;
use kiln_rollup::Fr;
use kiln_sequencer::{Sequencer, SubmitError};

/// Largest transaction body.
pub const MAX_TX_BODY: u64 = 16 << 10;
/// Largest JSON-RPC body.
pub const MAX_RPC_BODY: u64 = 64 << 10;

/// The running rollup: its sequencer and the per-client limiter of its routes.
pub struct Rollup {
    /// The sequencer.
    pub sequencer: Arc<Sequencer>,
    limiter: Option<(DefaultKeyedRateLimiter<IpAddr>, u32)>,
}

impl Rollup {
    /// The rollup's routes over `sequencer`, limiting each client to `per_second` requests
    /// per second (bursts of twice that; 0: no limit).
    pub fn new(sequencer: Arc<Sequencer>, per_second: u32) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|n| {
            let burst = n.saturating_mul(NonZeroU32::new(2).expect("2"));
            (
                RateLimiter::keyed(Quota::per_second(n).allow_burst(burst)),
                per_second,
            )
        });
        Rollup { sequencer, limiter }
    }

    fn admit(&self, client: Option<SocketAddr>) -> Result<(), ApiError> {
        let (Some((limiter, per_second)), Some(addr)) = (&self.limiter, client) else {
            return Ok(());
        };
        limiter.check_key(&addr.ip()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited {
                per_second: *per_second,
                retry_after: wait.as_secs() + 1,
            }
        })
    }
}

fn rollup(state: &AppState, client: Option<SocketAddr>) -> Result<&Rollup, ApiError> {
    let r = state.rollup.as_ref().ok_or_else(|| {
        ApiError::NotFound(
            "the rollup is not running on this appliance (start it with kiln serve --rollup)"
                .into(),
        )
    })?;
    r.admit(client)?;
    Ok(r)
}

fn dec(x: &Fr) -> String {
    to_biguint(x).to_string()
}

fn ok(body: &Value) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, body))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// The machine-readable code of a refusal.
fn refusal_code(e: &TxError) -> &'static str {
    match e {
        TxError::UnknownSender(_) | TxError::UnknownReceiver(_) => "unknown_account",
        TxError::BadSignature(_) => "bad_signature",
        TxError::Nonce { .. } => "bad_nonce",
        TxError::Token { .. } => "token_mismatch",
        TxError::Insufficient { .. } => "insufficient_balance",
        TxError::Overflow { .. } => "balance_overflow",
        TxError::Unencodable(_) => "unencodable_amount",
        TxError::NoFeeAccount(_) => "fee_not_taken",
        TxError::FeeSlotsFull => "busy",
    }
}

fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Refused(t) => ApiError::invalid(refusal_code(&t), t.to_string()),
        SubmitError::Busy { retry_after_s, .. } => ApiError::Busy {
            message: e.to_string(),
            retry_after: retry_after_s,
        },
        SubmitError::Unavailable(l) => ApiError::NotReady(l.to_string()),
    }
}

fn intake_error(e: IntakeError) -> ApiError {
    match e {
        IntakeError::Json(m) => ApiError::BadRequest {
            code: "malformed_json",
            message: format!("the transaction: {m}"),
        },
        IntakeError::Field { .. } => ApiError::invalid("invalid_transaction", e.to_string()),
    }
}

/// Confirms a transaction (the body of `POST /v1/rollup/transactions`).
async fn send(r: &Rollup, body: &[u8]) -> Result<Value, ApiError> {
    let s = parse_tx(super::without_bom(body), r.sequencer.chain_id()).map_err(intake_error)?;
    let c = r.sequencer.submit(s).await.map_err(submit_error)?;
    serde_json::to_value(c).map_err(internal)
}

/// `POST /v1/rollup/transactions`.
pub async fn submit(
    state: Arc<AppState>,
    client: Option<SocketAddr>,
    body: Result<Vec<u8>, ApiError>,
) -> Result<Response, ApiError> {
    let r = rollup(&state, client)?;
    let body = body?;
    ok(&send(r, &body).await?)
}

fn parse_hash(hash: &str) -> Result<String, ApiError> {
    let h = hash.to_ascii_lowercase();
    let digits = h.strip_prefix("0x").unwrap_or("");
    if digits.len() != 64 || !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::invalid(
            "invalid_hash",
            format!("{hash:?}: expected a transaction hash, 0x and 64 hex digits"),
        ));
    }
    Ok(h)
}

async fn tx_status(r: &Rollup, hash: &str) -> Result<Value, ApiError> {
    let h = parse_hash(hash)?;
    let s = r
        .sequencer
        .tx_status(&h)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::NotFound(format!("no transaction {h} in this rollup")))?;
    serde_json::to_value(s).map_err(internal)
}

/// `GET /v1/rollup/transactions/{hash}`.
pub async fn transaction(
    state: Arc<AppState>,
    client: Option<SocketAddr>,
    hash: String,
) -> Result<Response, ApiError> {
    let r = rollup(&state, client)?;
    ok(&tx_status(r, &hash).await?)
}

fn parse_index(text: &str) -> Result<u32, ApiError> {
    let bad = || {
        ApiError::invalid(
            "invalid_index",
            format!("account index {text:?}: expected an integer from 1 to 4^12 - 1"),
        )
    };
    let i: u64 = text.parse().map_err(|_| bad())?;
    check_index(i).map_err(|_| bad())
}

fn account_json(r: &Rollup, index: u32) -> Result<Value, ApiError> {
    let a = r
        .sequencer
        .account(index)
        .ok_or_else(|| ApiError::NotFound(format!("no account at index {index}")))?;
    Ok(json!({
        "index": index,
        "token": a.token,
        "nonce": a.nonce,
        "balance": a.balance.to_string(),
        "ax": dec(&a.key.x),
        "ay": dec(&a.key.y),
        "eth_address": dec(&a.eth_address),
    }))
}

/// `GET /v1/rollup/accounts/{index}`.
pub async fn account(
    state: Arc<AppState>,
    client: Option<SocketAddr>,
    index: String,
) -> Result<Response, ApiError> {
    let r = rollup(&state, client)?;
    ok(&account_json(r, parse_index(&index)?)?)
}

/// `GET /v1/rollup/accounts/{index}/proof`: a state proof against the pending root (of the
/// leaf 0 where the index is empty).
pub async fn account_proof(
    state: Arc<AppState>,
    client: Option<SocketAddr>,
    index: String,
) -> Result<Response, ApiError> {
    let r = rollup(&state, client)?;
    let index = parse_index(&index)?;
    let (root, leaf, path) = r.sequencer.proof(index);
    let path: Vec<Vec<String>> = path.iter().map(|g| g.iter().map(dec).collect()).collect();
    ok(&json!({"index": index, "root": dec(&root), "leaf": dec(&leaf), "path": path}))
}

/// `GET /v1/rollup/state`.
pub async fn rollup_state(
    state: Arc<AppState>,
    client: Option<SocketAddr>,
) -> Result<Response, ApiError> {
    let r = rollup(&state, client)?;
    ok(&serde_json::to_value(r.sequencer.state()).map_err(internal)?)
}

fn parse_batch(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ApiError::invalid(
            "invalid_batch",
            format!("batch {text:?}: expected a batch number, 1 or more"),
        )
    })
}

async fn batch_json(r: &Rollup, n: u64) -> Result<Value, ApiError> {
    let b = r
        .sequencer
        .batch(n)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::NotFound(format!("no batch {n} yet")))?;
    serde_json::to_value(b).map_err(internal)
}

/// `GET /v1/rollup/batches/{n}`.
pub async fn batch(
    state: Arc<AppState>,
    client: Option<SocketAddr>,
    n: String,
) -> Result<Response, ApiError> {
    let r = rollup(&state, client)?;
    ok(&batch_json(r, parse_batch(&n)?).await?)
}

/// `GET /v1/rollup/batches/{n}/exits`: the batch's exits with their exit proofs.
pub async fn exits(
    state: Arc<AppState>,
    client: Option<SocketAddr>,
    n: String,
) -> Result<Response, ApiError> {
    let r = rollup(&state, client)?;
    let n = parse_batch(&n)?;
    batch_json(r, n).await?;
    let exits = r
        .sequencer
        .batch_exits(n)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::NotFound(format!("batch {n} is not built yet")))?;
    ok(&exits)
}

/// `GET /v1/rollup/batches/{n}/verification-key`.
pub async fn verification_key(
    state: Arc<AppState>,
    client: Option<SocketAddr>,
    n: String,
) -> Result<Response, ApiError> {
    let r = rollup(&state, client)?;
    let n = parse_batch(&n)?;
    batch_json(r, n).await?;
    let vk = r
        .sequencer
        .verification_key(n)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "batch {n} has no proving key yet (it is not built)"
            ))
        })?;
    ok(&vk)
}

/// A JSON-RPC 2.0 error object.
fn rpc_error(id: &Value, code: i64, message: impl Into<String>, data: Option<Value>) -> Value {
    let mut e = json!({"code": code, "message": message.into()});
    if let Some(d) = data {
        e["data"] = d;
    }
    json!({"jsonrpc": "2.0", "id": id, "error": e})
}

/// A method's parameter: by name in an object, or by position in an array.
fn param<'a>(params: &'a Value, name: &str, position: usize) -> Option<&'a Value> {
    match params {
        Value::Object(o) => o.get(name),
        Value::Array(a) => a.get(position),
        _ => None,
    }
}

fn text_param(params: &Value, name: &str, position: usize) -> Result<String, ApiError> {
    match param(params, name, position) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(ApiError::invalid(
            "invalid_params",
            format!("params.{name}: missing"),
        )),
    }
}

/// One JSON-RPC call: the method's result, or the API error it meets.
async fn rpc_call(r: &Rollup, method: &str, params: &Value) -> Result<Value, ApiError> {
    match method {
        "sendTransaction" | "withdraw" => {
            let tx = param(params, "transaction", 0)
                .filter(|v| v.is_object())
                .or(Some(params).filter(|v| v.get("signature").is_some()))
                .ok_or_else(|| ApiError::invalid("invalid_params", "params: expected the transaction object (as POST /v1/rollup/transactions takes it)"))?;
            if method == "withdraw" && tx.get("type").and_then(Value::as_str) != Some("withdraw") {
                return Err(ApiError::invalid("invalid_params", "withdraw: the transaction's type must be \"withdraw\""));
            }
            send(r, tx.to_string().as_bytes()).await
        }
        "getTransactionStatus" => tx_status(r, &text_param(params, "hash", 0)?).await,
        "getAccountBalance" => {
            let a = account_json(r, parse_index(&text_param(params, "index", 0)?)?)?;
            Ok(json!({"index": a["index"], "token": a["token"], "balance": a["balance"]}))
        }
        "getAccountNonce" => {
            let a = account_json(r, parse_index(&text_param(params, "index", 0)?)?)?;
            Ok(json!({"index": a["index"], "nonce": a["nonce"]}))
        }
        "getBatchStatus" => {
            let b = batch_json(r, parse_batch(&text_param(params, "batch", 0)?)?).await?;
            Ok(json!({"number": b["number"], "status": b["status"], "tx_count": b["tx_count"],
                      "old_state_root": b["old_state_root"], "new_state_root": b["new_state_root"]}))
        }
        "getBatchProof" => {
            let b = batch_json(r, parse_batch(&text_param(params, "batch", 0)?)?).await?;
            if b["proof"].is_null() {
                return Err(ApiError::NotFound(format!("batch {} is not proven yet (status {})", b["number"], b["status"])));
            }
            Ok(json!({"number": b["number"], "proof": b["proof"], "public_signals": b["public_signals"]}))
        }
        "verifyState" => {
            let root = text_param(params, "root", 0)?;
            let root = kiln_formats::codec::from_integer_text::<Fr>(&root)
                .ok_or_else(|| ApiError::invalid("invalid_params", "params.root: expected a state root (decimal or 0x hex)"))?;
            let state = r.sequencer.state();
            let pending = state.state_root == kiln_rollup::tx::hash_hex(&root);
            let batch = r.sequencer.batch_with_root(&kiln_rollup::tx::hash_hex(&root)).await.map_err(internal)?;
            Ok(json!({"root": dec(&root), "valid": pending || batch.is_some(), "pending": pending, "batch": batch}))
        }
        "deposit" => Err(ApiError::invalid(
            "deposit_on_l1",
            "deposits are made on L1, through the bridge contract's deposit; this appliance runs without an L1 (development genesis)",
        )),
        other => Err(ApiError::NotFound(format!(
            "method {other:?}: not a Layer2API method (sendTransaction, getTransactionStatus, getAccountBalance, getAccountNonce, deposit, withdraw, getBatchStatus, getBatchProof, verifyState)"
        ))),
    }
}

/// A JSON-RPC error code for an API error: -32602 for bad parameters, -32601 for an unknown
/// method, -32000 for a refusal, -32603 for the server's failures.
fn rpc_code(e: &ApiError, method_found: bool) -> i64 {
    match e {
        ApiError::NotFound(_) if !method_found => -32601,
        ApiError::Unprocessable {
            code: "invalid_params",
            ..
        } => -32602,
        ApiError::Internal(_) => -32603,
        _ => -32000,
    }
}

const METHODS: &[&str] = &[
    "sendTransaction",
    "getTransactionStatus",
    "getAccountBalance",
    "getAccountNonce",
    "deposit",
    "withdraw",
    "getBatchStatus",
    "getBatchProof",
    "verifyState",
];

async fn rpc_one(r: &Rollup, call: &Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let (Some("2.0"), Some(method)) = (
        call.get("jsonrpc").and_then(Value::as_str),
        call.get("method").and_then(Value::as_str),
    ) else {
        return rpc_error(
            &id,
            -32600,
            "invalid request: expected {\"jsonrpc\": \"2.0\", \"method\", \"params\", \"id\"}",
            None,
        );
    };
    let params = call.get("params").cloned().unwrap_or(Value::Null);
    match rpc_call(r, method, &params).await {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err(e) => rpc_error(
            &id,
            rpc_code(&e, METHODS.contains(&method)),
            e.to_string(),
            Some(json!({"status": e.status().as_u16(), "code": e.code()})),
        ),
    }
}

/// `POST /v1/rollup/rpc`: JSON-RPC 2.0, one call or a batch of calls.
pub async fn rpc(
    state: Arc<AppState>,
    client: Option<SocketAddr>,
    body: Result<Vec<u8>, ApiError>,
) -> Result<Response, ApiError> {
    let r = rollup(&state, client)?;
    let body = body?;
    let parsed: Value = match serde_json::from_slice(super::without_bom(&body)) {
        Ok(v) => v,
        Err(e) => {
            return ok(&rpc_error(
                &Value::Null,
                -32700,
                format!("parse error: {e}"),
                None,
            ))
        }
    };
    match parsed {
        Value::Array(calls) if !calls.is_empty() => {
            let mut out = Vec::with_capacity(calls.len());
            for c in &calls {
                out.push(rpc_one(r, c).await);
            }
            ok(&Value::Array(out))
        }
        Value::Array(_) => ok(&rpc_error(
            &Value::Null,
            -32600,
            "invalid request: an empty batch",
            None,
        )),
        call => ok(&rpc_one(r, &call).await),
    }
}
