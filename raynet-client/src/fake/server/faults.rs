//! Throttling and faults: the admission of a request (IP block, concurrency
//! limit, Basic authentication and `X-Instance-Name`, the daily quota) and
//! what an injected [`FaultKind`] does to it.

use axum::http::{HeaderMap, header};
use axum::response::Response;
use base64::Engine as _;
use serde_json::Value;

use super::respond::{RateHeaders, cut_body, json_bytes, rate_headers, reject, respond};
use crate::fake::defaults::BAD_LOGIN_LIMIT;
use crate::fake::fault::{FaultKind, take};
use crate::fake::state::{Reject, Shared, next_midnight};

/// The user and key of a Basic `Authorization` header.
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, key) = text.split_once(':')?;
    Some((user.to_owned(), key.to_owned()))
}

/// An admitted request: its instance, user and the fault it meets.
pub(super) struct Admitted {
    pub(super) instance: String,
    pub(super) user: String,
    pub(super) fault: Option<FaultKind>,
}

/// Admits a request, as the API does: refused while the IP is blocked, above
/// the concurrency limit (429), for bad credentials (401; more than
/// [`BAD_LOGIN_LIMIT`] of them block the IP for an hour) and once the daily
/// quota is spent (429 `RequestLimitReached`); counted against the quota,
/// with the injected fault it meets, if any.
pub(super) fn admit(
    shared: &Shared,
    n: usize,
    headers: &HeaderMap,
    template: &str,
) -> Result<Admitted, Box<Response>> {
    let mut w = shared.world();
    let now = w.now();
    if let Some(until) = w.blocked_until {
        if now < until {
            return Err(Box::new(reject(
                &Reject::new(
                    403,
                    "IpBlocked",
                    "Too many failed logins: IP address blocked for 60 minutes",
                ),
                None,
            )));
        }
        w.blocked_until = None;
        w.bad_logins = 0;
    }
    if n > w.concurrency_limit {
        w.concurrency_rejections += 1;
        return Err(Box::new(reject(
            &Reject::new(429, "TooManyRequests", "Too many concurrent connections"),
            None,
        )));
    }
    let instance_name = headers
        .get("x-instance-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let creds = basic_auth(headers);
    let authorised = match (w.instances.get(&instance_name), &creds) {
        (Some(inst), Some((user, key))) => inst
            .users
            .iter()
            .any(|u| &u.login == user && &u.api_key == key),
        _ => false,
    };
    if !authorised {
        w.bad_logins += 1;
        if w.bad_logins > BAD_LOGIN_LIMIT {
            w.blocked_until = Some(now + chrono::Duration::minutes(60));
        }
        return Err(Box::new(reject(
            &Reject::new(
                401,
                "AuthenticationException",
                "Bad credentials or instance name",
            ),
            None,
        )));
    }
    let user = creds.map(|(u, _)| u).unwrap_or_default();
    let Some(inst) = w.instances.get_mut(&instance_name) else {
        return Err(Box::new(reject(
            &Reject::new(401, "AuthenticationException", "Unknown instance"),
            None,
        )));
    };
    if now >= inst.window_reset {
        inst.used = 0;
        inst.window_reset = next_midnight(now);
    }
    if inst.used >= inst.quota {
        let rate = Some((inst.quota, 0, inst.window_reset.timestamp()));
        return Err(Box::new(reject(
            &Reject::new(429, "RequestLimitReached", "Daily request limit reached"),
            rate,
        )));
    }
    inst.used += 1;
    let fault = take(&mut w.faults, template);
    Ok(Admitted {
        instance: instance_name,
        user,
        fault,
    })
}

/// What an injected fault leaves to do once the request is processed.
pub(super) struct Aftermath {
    /// `Truncated` or `Malformed`: the answer's body is mangled.
    mangle: Option<FaultKind>,
    /// `InterruptAfterApply`: the connection is cut instead of answering.
    pub(super) cut: bool,
}

/// Applies the part of `fault` that comes before the request is processed: a
/// delay, or an answer instead of processing (`Err`).
pub(super) async fn before(
    shared: &Shared,
    instance: &str,
    fault: Option<FaultKind>,
) -> Result<Aftermath, Response> {
    let mut mangle = None;
    let mut cut = false;
    match fault {
        Some(FaultKind::InterruptAfterApply) => cut = true,
        Some(FaultKind::Delay(d)) => tokio::time::sleep(d).await,
        Some(FaultKind::Status(code)) => {
            let rate = rate_headers(shared, instance);
            let kind = if code >= 500 {
                "InternalServerError"
            } else {
                "BadRequest"
            };
            return Err(reject(&Reject::new(code, kind, "Injected fault"), rate));
        }
        Some(FaultKind::TooManyRequests) => {
            let rate = rate_headers(shared, instance);
            return Err(reject(
                &Reject::new(429, "TooManyRequests", "Too many concurrent connections"),
                rate,
            ));
        }
        Some(k @ (FaultKind::Truncated | FaultKind::Malformed)) => mangle = Some(k),
        None => {}
    }
    Ok(Aftermath { mangle, cut })
}

/// The answer of an interrupted write: 200 headers, then a body that fails.
pub(super) fn interrupted(rate: RateHeaders) -> Response {
    let mut resp = respond(200, None, rate);
    *resp.body_mut() = cut_body();
    resp
}

/// The answer to a processed request, its body mangled as the fault's
/// aftermath says.
pub(super) fn answer(
    aftermath: &Aftermath,
    status: u16,
    value: Option<&Value>,
    rate: RateHeaders,
) -> Response {
    let mut bytes = value.map(json_bytes);
    match aftermath.mangle {
        Some(FaultKind::Truncated) => {
            let full = bytes.unwrap_or_else(|| b"{\"success\":true}".to_vec());
            bytes = Some(full[..full.len() / 2].to_vec());
        }
        Some(FaultKind::Malformed) => {
            bytes = Some(
                br#"{"success":true,"totalCount":1,"data":[{"id":"not-a-number","title":42}]}"#
                    .to_vec(),
            );
        }
        _ => {}
    }
    respond(status, bytes, rate)
}
