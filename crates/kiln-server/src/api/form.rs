//! `multipart/form-data` uploads (`curl -F file=@circuit.zkey`): the form's file, streamed.
//!
//! The file is the first part with a file name or over [`FIELD_LIMIT`] bytes; failing both,
//! the first part. What a form holds besides its file (the preamble, part headers, small
//! fields passed over) is capped at [`OVERHEAD_LIMIT`], and the whole form at the route's
//! limit plus that, so a form costs no more memory or time than the body it stands for.
//! The small fields passed over are handed on too (a submission reads its options there).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use warp::http::HeaderMap;

use super::body::{drain, too_large, Upload};
use super::error::ApiError;

/// Largest form field without a file name passed over while looking for the file.
pub const FIELD_LIMIT: usize = 64 << 10;

/// Most bytes of a form that are not its file (preamble, part headers, fields passed over,
/// and what the parser holds while it looks for the next boundary).
pub const OVERHEAD_LIMIT: u64 = 4 << 20;

/// Marks the error a form over its overhead limit fails with.
const OVER: &str = "kiln: form overhead over the limit";

/// The boundary of a `multipart/form-data` request, if it is one.
pub fn boundary(headers: &HeaderMap) -> Option<Result<String, ApiError>> {
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

/// Bytes the parser has read, and bytes of the file handed on.
#[derive(Default)]
struct Meter {
    read: AtomicU64,
    delivered: AtomicU64,
}

impl Meter {
    fn over(&self) -> bool {
        let read = self.read.load(Ordering::Relaxed);
        read.saturating_sub(self.delivered.load(Ordering::Relaxed)) > OVERHEAD_LIMIT
    }
}

/// The file of the form in `raw` (see the module doc); `limit` is the route's limit on the
/// file, `what` names it in messages.
pub async fn file(
    raw: Upload,
    boundary: String,
    limit: u64,
    what: &str,
) -> Result<Upload, ApiError> {
    let whole = limit.saturating_add(OVERHEAD_LIMIT);
    if raw.declared.is_some_and(|n| n > whole) {
        raw.drain().await;
        return Err(too_large(what, limit));
    }
    let meter = Arc::new(Meter::default());
    // The bytes as the parser reads them, metered: past a limit the rest of the body is
    // read and dropped (so the client sees the answer), then the parser gets the error.
    let metered = futures_util::stream::unfold(
        (raw.chunks, meter.clone(), false),
        move |(mut chunks, meter, failed)| async move {
            if failed {
                return None;
            }
            let chunk = match chunks.next().await? {
                Ok(c) => c,
                Err(e) => return Some((Err(e), (chunks, meter, true))),
            };
            let read = meter.read.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if meter.over() || read + chunk.len() as u64 > whole {
                drain(&mut chunks).await;
                return Some((Err(OVER.to_string()), (chunks, meter, true)));
            }
            Some((Ok(chunk), (chunks, meter, false)))
        },
    );
    let constraints =
        multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(whole));
    let mut form = multer::Multipart::with_constraints(metered, boundary, constraints);
    let refused = |e: multer::Error| match &e {
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            too_large(what, limit)
        }
        multer::Error::StreamReadFailed(inner) if inner.to_string() == OVER => {
            ApiError::TooLarge(format!(
                "{what} in a multipart form: the form is over the limit of {limit} bytes for \
                 the file, or holds more than {OVERHEAD_LIMIT} bytes besides it"
            ))
        }
        _ => ApiError::bad(format!("the multipart form is malformed: {e}")),
    };
    let mut fields: Vec<(String, String)> = Vec::new();
    let handed_on =
        |field: multer::Field<'static>, head: Option<Bytes>, fields: Vec<(String, String)>| {
            let delivered = meter.clone();
            let rest = field.map_err(|e| e.to_string()).map(move |chunk| {
                if let Ok(c) = &chunk {
                    delivered
                        .delivered
                        .fetch_add(c.len() as u64, Ordering::Relaxed);
                }
                chunk
            });
            let head = futures_util::stream::iter(head.map(Ok));
            Upload {
                chunks: Box::pin(head.chain(rest)),
                declared: None,
                fields,
            }
        };
    let mut first_value: Option<Bytes> = None;
    while let Some(mut field) = form.next_field().await.map_err(refused)? {
        if field.file_name().is_some() {
            return Ok(handed_on(field, None, fields));
        }
        let name = field.name().unwrap_or("").to_string();
        // A field without a file name: a small one is passed over (kept in case no file
        // follows); a large one is the upload (a file sent as a value, curl -F 'f=<file').
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(refused)? {
            value.extend_from_slice(&chunk);
            if value.len() > FIELD_LIMIT {
                meter
                    .delivered
                    .fetch_add(value.len() as u64, Ordering::Relaxed);
                return Ok(handed_on(field, Some(Bytes::from(value)), fields));
            }
        }
        fields.push((name, String::from_utf8_lossy(&value).into_owned()));
        first_value.get_or_insert(Bytes::from(value));
    }
    match first_value {
        Some(v) => Ok(Upload {
            chunks: Box::pin(futures_util::stream::iter([Ok(v)])),
            declared: None,
            fields,
        }),
        None => Err(ApiError::bad(
            "the multipart form has no parts: attach the file (curl -F file=@FILE)",
        )),
    }
}
