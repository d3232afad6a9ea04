//! Error answers: every failure is JSON `{"error": {"code", "message"}}` with its status,
//! and 429s carry `Retry-After`.

use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;

use kiln_jobs::view::ErrorBody;
use kiln_store::StoreError;

/// Why a request was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (bad JSON syntax, bad query parameter, bad header).
    #[error("{message}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// What is wrong and where.
        message: String,
    },
    /// 401: no API key, or one that is not (or no longer) valid.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: a valid key that may not use this route.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource (for this tenant).
    #[error("{0}")]
    NotFound(String),
    /// 404: no such route.
    #[error("no route for this method and path; see GET /v1/openapi.json")]
    NoRoute,
    /// 405: the route exists with other methods.
    #[error("{method} is not served on {path}: it takes {allow}; see GET /v1/openapi.json")]
    MethodNotAllowed {
        /// The method asked for.
        method: String,
        /// The path asked for.
        path: String,
        /// The methods the path takes, as the `Allow` header lists them.
        allow: String,
    },
    /// 409: the request conflicts with the resource's state.
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// What conflicts.
        message: String,
    },
    /// 413: the body is over the limit.
    #[error("{0}")]
    TooLarge(String),
    /// 422: well-formed but invalid content (zkey, witness, field values).
    #[error("{message}")]
    Unprocessable {
        /// Machine-readable code.
        code: &'static str,
        /// What is invalid and where.
        message: String,
    },
    /// 429: a quota is exhausted; retry after `retry_after` seconds.
    #[error("{message}")]
    Quota {
        /// What quota.
        message: String,
        /// Seconds.
        retry_after: u64,
    },
    /// 503: not ready yet.
    #[error("{0}")]
    NotReady(String),
    /// 503 with `Retry-After`: the service is up but cannot take this now (the rollup's
    /// backlog of unproven transactions is full).
    #[error("{message}")]
    Busy {
        /// What is full.
        message: String,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// 429 with `Retry-After`: the client sends faster than its rate limit.
    #[error("too many requests from this client: the limit is {per_second} per second; retry after {retry_after} s")]
    RateLimited {
        /// The limit.
        per_second: u32,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// 500: a failure on the server's side (logged).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(target: crate::api::TARGET, error = %e, "store failure while answering a request");
        ApiError::Internal(e.to_string())
    }
}

impl ApiError {
    /// A 400 with code `bad_request`.
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code: "bad_request",
            message: message.into(),
        }
    }

    /// A 422 with the given code.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            code,
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Quota { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotReady(_) | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::NoRoute => "no_route",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::Quota { .. } => "quota_exceeded",
            ApiError::NotReady(_) => "not_ready",
            ApiError::Busy { .. } => "busy",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The JSON answer.
    pub fn into_response(self) -> Response {
        #[derive(serde::Serialize)]
        struct Wrapper {
            error: ErrorBody,
        }
        let status = self.status();
        let body = Wrapper {
            error: ErrorBody {
                code: self.code().to_string(),
                message: self.to_string(),
            },
        };
        let mut resp = json_response(status, &body);
        if let ApiError::Quota { retry_after, .. }
        | ApiError::Busy { retry_after, .. }
        | ApiError::RateLimited { retry_after, .. } = &self
        {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if let ApiError::MethodNotAllowed { allow, .. } = &self {
            if let Ok(v) = HeaderValue::from_str(allow) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
        }
        if matches!(self, ApiError::Unauthorized(_)) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kiln\""),
            );
        }
        resp
    }
}

/// A JSON answer with `status`.
pub fn json_response<T: serde::Serialize>(status: StatusCode, body: &T) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|e| {
        format!(
            "{{\"error\":{{\"code\":\"internal\",\"message\":\"cannot render the answer: {e}\"}}}}"
        )
    });
    let mut resp = Response::new(text.into());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
