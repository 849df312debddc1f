//! Answers: the status, JSON body and `X-Ratelimit-*` headers of a response,
//! error envelopes, a body cut mid-answer, and the in-flight counter's guard.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use crate::fake::state::{Reject, Shared};

/// Counts a request in flight until dropped.
pub(super) struct InFlight<'a>(pub(super) &'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `X-Ratelimit-Limit`, `-Remaining` and `-Reset`, when the instance is known.
pub(super) type RateHeaders = Option<(u64, u64, i64)>;

/// A response with `status`, a JSON `body` and the rate-limit headers.
pub(super) fn respond(status: u16, body: Option<Vec<u8>>, rate: RateHeaders) -> Response {
    let mut resp = Response::new(body.map_or_else(Body::empty, Body::from));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    if status != 200 || !h.contains_key(header::CONTENT_TYPE) {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
    }
    if let Some((limit, remaining, reset)) = rate {
        for (name, v) in [
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", remaining.to_string()),
            ("x-ratelimit-reset", reset.to_string()),
        ] {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(name, v);
            }
        }
    }
    resp
}

/// A JSON value as bytes.
pub(super) fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// An error answer.
pub(super) fn reject(r: &Reject, rate: RateHeaders) -> Response {
    respond(r.status, Some(json_bytes(&r.body)), rate)
}

/// A body that fails at once: hyper then drops the connection mid-answer.
pub(super) fn cut_body() -> Body {
    Body::from_stream(futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected interruption"))
    }))
}

/// The rate-limit headers of `instance` as it stands.
pub(super) fn rate_headers(shared: &Shared, instance: &str) -> RateHeaders {
    let w = shared.world();
    w.instances.get(instance).map(|i| {
        (
            i.quota,
            i.quota.saturating_sub(i.used),
            i.window_reset.timestamp(),
        )
    })
}
