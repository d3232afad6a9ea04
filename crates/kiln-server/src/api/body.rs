//! Request bodies: read into memory up to a limit, or streamed to a file while hashing.
//! A body over its limit answers 413; the rest of it is read and dropped (up to a bound) so
//! clients that send the whole body before reading the answer still see the 413.
//!
//! An upload may come as the body itself or inside a `multipart/form-data` form (`curl -F
//! file=@circuit.zkey`): [`file_of`] gives the uploaded file's bytes either way.

use std::path::Path;
use std::pin::Pin;

use bytes::{Buf, Bytes};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use warp::http::HeaderMap;

use super::error::ApiError;

/// How much of an over-limit body is drained before the connection is dropped.
const DRAIN_LIMIT: u64 = 64 << 20;

/// How much of a streamed upload is gathered before it is written to its file.
const WRITE_BUFFER: usize = 1 << 20;

/// A request body's bytes, as a stream.
pub type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send>>;

/// What a request uploads: its bytes and, when the request declares it, how many.
pub struct Upload {
    /// The bytes.
    pub chunks: Chunks,
    /// The length the request declared (`Content-Length` of a plain body; `None` for
    /// chunked bodies and for the file of a form).
    pub declared: Option<u64>,
    /// A form's small fields without a file name that came before its file (name, value):
    /// what a plain request would say in its query string.
    pub fields: Vec<(String, String)>,
}

impl Upload {
    /// The request body as it is.
    pub fn raw<S, B>(headers: &HeaderMap, body: S) -> Upload
    where
        S: Stream<Item = Result<B, warp::Error>> + Send + 'static,
        B: Buf + Send + 'static,
    {
        let chunks = body.map(|r| {
            r.map(|mut b| b.copy_to_bytes(b.remaining()))
                .map_err(|e| e.to_string())
        });
        Upload {
            chunks: Box::pin(chunks),
            declared: content_length(headers),
            fields: Vec::new(),
        }
    }

    /// Reads and drops (up to a bound) what is left, so the client can finish sending and
    /// read the answer.
    pub async fn drain(self) {
        drain(self.chunks).await
    }
}

/// The file a route's request uploads: the body itself, or the file of a
/// `multipart/form-data` form (see [`super::form`]), read up to about `limit` bytes.
pub async fn file_of(
    headers: &HeaderMap,
    raw: Upload,
    limit: u64,
    what: &str,
) -> Result<Upload, ApiError> {
    match super::form::boundary(headers) {
        None => Ok(raw),
        Some(Err(e)) => {
            raw.drain().await;
            Err(e)
        }
        Some(Ok(boundary)) => super::form::file(raw, boundary, limit, what).await,
    }
}

/// The declared `Content-Length`, if any and valid.
pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(warp::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// A 413 for `what` over `limit` bytes.
pub fn too_large(what: &str, limit: u64) -> ApiError {
    ApiError::TooLarge(format!(
        "{what} is larger than this server's limit of {limit} bytes"
    ))
}

/// Reads and drops (up to a bound) a body the answer does not need, so the client can
/// finish sending it and read the answer.
pub async fn drain<S>(mut body: S)
where
    S: Stream<Item = Result<Bytes, String>> + Unpin,
{
    let mut seen = 0u64;
    while let Some(Ok(chunk)) = body.next().await {
        seen += chunk.remaining() as u64;
        if seen > DRAIN_LIMIT {
            break;
        }
    }
}

/// Reads the first `n` bytes of an upload (fewer if it is shorter) without consuming them:
/// returns them and the whole upload again.
pub async fn peek(mut up: Upload, n: usize) -> Result<(Vec<u8>, Upload), ApiError> {
    let mut head = Vec::new();
    while head.len() < n {
        match up.chunks.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => {
                return Err(ApiError::bad(format!(
                    "reading the request body failed: {e}"
                )))
            }
            None => break,
        }
    }
    let first = futures_util::stream::iter([Ok(Bytes::from(head.clone()))]);
    Ok((
        head,
        Upload {
            chunks: Box::pin(first.chain(up.chunks)),
            declared: up.declared,
            fields: up.fields,
        },
    ))
}

/// Reads a whole body of at most `limit` bytes.
pub async fn read_limited(up: Upload, limit: u64, what: &str) -> Result<Vec<u8>, ApiError> {
    let mut body = up.chunks;
    if up.declared.is_some_and(|n| n > limit) {
        drain(body).await;
        return Err(too_large(what, limit));
    }
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk =
            chunk.map_err(|e| ApiError::bad(format!("reading the request body failed: {e}")))?;
        if out.len() as u64 + chunk.remaining() as u64 > limit {
            drain(body).await;
            return Err(too_large(what, limit));
        }
        while chunk.has_remaining() {
            let c = chunk.chunk();
            out.extend_from_slice(c);
            let n = c.len();
            chunk.advance(n);
        }
    }
    Ok(out)
}

/// Streams a body of at most `limit` bytes into `path` (created, synced), returning its
/// sha256 hex and length. On failure `path` is removed.
pub async fn stream_to_file(
    up: Upload,
    limit: u64,
    path: &Path,
    what: &str,
) -> Result<(String, u64), ApiError> {
    let mut body = up.chunks;
    if up.declared.is_some_and(|n| n > limit) {
        drain(body).await;
        return Err(too_large(what, limit));
    }
    let io = |e: std::io::Error| ApiError::Internal(format!("cannot write the upload: {e}"));
    // Buffered: each write to a tokio file is a trip to a blocking thread, and bodies
    // arrive in chunks of a few KiB.
    let mut file = tokio::io::BufWriter::with_capacity(
        WRITE_BUFFER,
        tokio::fs::File::create(path).await.map_err(io)?,
    );
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    let res: Result<(), ApiError> = async {
        while let Some(chunk) = body.next().await {
            let mut chunk = chunk
                .map_err(|e| ApiError::bad(format!("reading the request body failed: {e}")))?;
            while chunk.has_remaining() {
                let c = chunk.chunk();
                len += c.len() as u64;
                if len > limit {
                    return Err(too_large(what, limit));
                }
                hasher.update(c);
                file.write_all(c).await.map_err(io)?;
                let n = c.len();
                chunk.advance(n);
            }
        }
        file.flush().await.map_err(io)?;
        file.get_ref().sync_all().await.map_err(io)?;
        Ok(())
    }
    .await;
    drop(file);
    if let Err(e) = res {
        let _ = tokio::fs::remove_file(path).await;
        if matches!(e, ApiError::TooLarge(_)) {
            drain(body).await;
        }
        return Err(e);
    }
    Ok((hex::encode(hasher.finalize()), len))
}
