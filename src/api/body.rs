//! Request bodies: read into memory up to a limit, or streamed to a file while hashing.
//! A body over its limit answers 413; the rest of it is read and dropped (up to a bound) so
//! clients that send the whole body before reading the answer still see the 413.
//!
//! An upload may come as the body itself or inside a `multipart/form-data` form (`curl -F
//! file=@circuit.zkey`): [`payload`] gives the uploaded file's bytes either way.

use std::path::Path;
use std::pin::Pin;

use bytes::{Buf, Bytes};
use futures_util::{Stream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use warp::http::HeaderMap;

use super::error::ApiError;

/// How much of an over-limit body is drained before the connection is dropped.
const DRAIN_LIMIT: u64 = 64 << 20;

/// How much of a streamed upload is gathered before it is written to its file.
const WRITE_BUFFER: usize = 1 << 20;

/// The bytes of an upload, as a stream (see [`payload`]).
pub type Payload = Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send>>;

/// Largest form field without a file name passed over while looking for the file.
const FORM_FIELD_LIMIT: usize = 64 << 10;

/// The boundary of a `multipart/form-data` request, if it is one.
fn form_boundary(headers: &HeaderMap) -> Option<Result<String, ApiError>> {
    let ct = headers
        .get(warp::http::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    let is_form = ct
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("multipart/form-data"));
    is_form.then(|| {
        multer::parse_boundary(ct).map_err(|e| {
            ApiError::bad(format!(
                "Content-Type {ct:?}: a multipart form needs a boundary ({e})"
            ))
        })
    })
}

/// The uploaded bytes of a request: the body itself, or for a `multipart/form-data` form its
/// file: the first part with a file name or over 64 KiB; failing both, the first part.
/// Streams either way: a form's file is never held whole in memory.
pub async fn payload<S, B>(headers: &HeaderMap, body: S) -> Result<Payload, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: Buf + Send + 'static,
{
    let chunks = body.map(|r| {
        r.map(|mut b| b.copy_to_bytes(b.remaining()))
            .map_err(|e| e.to_string())
    });
    let boundary = match form_boundary(headers) {
        None => return Ok(Box::pin(chunks)),
        Some(b) => b?,
    };
    let bad = |e: multer::Error| ApiError::bad(format!("the multipart form is malformed: {e}"));
    let mut form = multer::Multipart::new(chunks, boundary);
    let mut first_text: Option<Bytes> = None;
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        if field.file_name().is_some() {
            return Ok(Box::pin(field.map_err(|e| e.to_string())));
        }
        // A field without a file name: a small one is kept in case no file follows; a
        // large one is the upload (a file sent as a value, curl -F 'name=<file').
        let mut text = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            text.extend_from_slice(&chunk);
            if text.len() > FORM_FIELD_LIMIT {
                let head = futures_util::stream::iter([Ok(Bytes::from(text))]);
                return Ok(Box::pin(head.chain(field.map_err(|e| e.to_string()))));
            }
        }
        first_text.get_or_insert(Bytes::from(text));
    }
    match first_text {
        Some(t) => Ok(Box::pin(futures_util::stream::iter([Ok(t)]))),
        None => Err(ApiError::bad(
            "the multipart form has no parts: attach the file (curl -F file=@FILE)",
        )),
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

fn too_large(what: &str, limit: u64) -> ApiError {
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

/// Reads the first `n` bytes of a body (fewer if it is shorter) without consuming them:
/// returns them and the whole body as a stream again.
pub async fn peek<S>(
    mut body: S,
    n: usize,
) -> Result<(Vec<u8>, impl Stream<Item = Result<Bytes, String>> + Unpin), ApiError>
where
    S: Stream<Item = Result<Bytes, String>> + Unpin,
{
    let mut head = Vec::new();
    while head.len() < n {
        match body.next().await {
            Some(Ok(mut chunk)) => head.extend_from_slice(&chunk.copy_to_bytes(chunk.remaining())),
            Some(Err(e)) => {
                return Err(ApiError::bad(format!(
                    "reading the request body failed: {e}"
                )))
            }
            None => break,
        }
    }
    let rest = body.map(|chunk| chunk.map(|mut c| c.copy_to_bytes(c.remaining())));
    let whole = futures_util::stream::iter([Ok(Bytes::from(head.clone()))]).chain(rest);
    Ok((head, whole))
}

/// Reads a whole body of at most `limit` bytes.
pub async fn read_limited<S>(
    headers: &HeaderMap,
    mut body: S,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, ApiError>
where
    S: Stream<Item = Result<Bytes, String>> + Unpin,
{
    if content_length(headers).is_some_and(|n| n > limit) {
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
pub async fn stream_to_file<S>(
    headers: &HeaderMap,
    mut body: S,
    limit: u64,
    path: &Path,
    what: &str,
) -> Result<(String, u64), ApiError>
where
    S: Stream<Item = Result<Bytes, String>> + Unpin,
{
    if content_length(headers).is_some_and(|n| n > limit) {
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
