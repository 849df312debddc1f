//! Admission: which endpoint a request is, whether it is let in (injected faults, the rate
//! limit, the per-mailbox concurrency limit), and the request log.

use std::time::{Duration, Instant};

use super::request::{Req, Resp};
use crate::fake::fault::FaultKind;
use crate::fake::records::RequestRecord;
use crate::fake::state::State;

pub(super) fn record(
    st: &mut State,
    req: &Req,
    endpoint: &str,
    mailbox: Option<&str>,
    status: u16,
) {
    st.requests.push(RequestRecord {
        method: req.method.clone(),
        endpoint: endpoint.to_owned(),
        mailbox: mailbox.map(str::to_owned),
        status,
        in_batch: req.in_batch,
        prefer: req.header("prefer").map(str::to_owned),
        query_names: req.query.iter().map(|(k, _)| k.clone()).collect(),
    });
}

pub(super) fn classify(st: &State, req: &Req) -> (&'static str, Option<String>) {
    let s: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let m = req.method.as_str();
    let mailbox = |u: &str| Some(st.user(u).map_or_else(|| u.to_owned(), |x| x.id.clone()));
    match (m, s.as_slice()) {
        (_, ["$batch"]) => ("batch", None),
        ("GET", ["groups"]) => ("groups.list", None),
        ("GET", ["groups", _]) => ("groups.get", None),
        ("GET", ["groups", _, "members", ..]) => ("groups.members", None),
        ("GET", ["groups", _, "transitiveMembers", ..]) => ("groups.transitiveMembers", None),
        ("GET", ["groups", _, "owners", ..]) => ("groups.owners", None),
        ("GET", ["users", _]) => ("users.get", None),
        ("GET", ["users", u, "calendarView", "delta"]) => ("calendarView.delta", mailbox(u)),
        ("GET", ["users", u, "calendarView"]) => ("calendarView.list", mailbox(u)),
        ("GET", ["users", u, "events"]) => ("events.list", mailbox(u)),
        ("POST", ["users", u, "events"]) => ("events.create", mailbox(u)),
        ("GET", ["users", u, "events", _]) => ("events.get", mailbox(u)),
        ("PATCH", ["users", u, "events", _]) => ("events.update", mailbox(u)),
        ("DELETE", ["users", u, "events", _]) => ("events.delete", mailbox(u)),
        ("POST", ["users", u, "events", _, "cancel"]) => ("events.cancel", mailbox(u)),
        ("GET", ["users"]) => ("users.list", None),
        ("GET", ["users", u, "contactFolders"]) => ("contactFolders.list", mailbox(u)),
        ("POST", ["users", u, "contactFolders"]) => ("contactFolders.create", mailbox(u)),
        ("GET", ["users", u, "contactFolders", _]) => ("contactFolders.get", mailbox(u)),
        ("GET", ["users", u, "contactFolders", _, "contacts"] | ["users", u, "contacts"]) => {
            ("contacts.list", mailbox(u))
        }
        ("POST", ["users", u, "contactFolders", _, "contacts"] | ["users", u, "contacts"]) => {
            ("contacts.create", mailbox(u))
        }
        ("GET", ["users", u, "contactFolders", _, "contacts", "delta"]) => {
            ("contacts.delta", mailbox(u))
        }
        ("GET", ["users", u, "contacts", _]) => ("contacts.get", mailbox(u)),
        ("PATCH", ["users", u, "contacts", _]) => ("contacts.update", mailbox(u)),
        ("DELETE", ["users", u, "contacts", _]) => ("contacts.delete", mailbox(u)),
        ("POST", ["subscriptions"]) => ("subscriptions.create", None),
        ("GET", ["subscriptions"]) => ("subscriptions.list", None),
        ("GET", ["subscriptions", _]) => ("subscriptions.get", None),
        ("PATCH", ["subscriptions", _]) => ("subscriptions.update", None),
        ("DELETE", ["subscriptions", _]) => ("subscriptions.delete", None),
        ("POST", ["subscriptions", _, "reauthorize"]) => ("subscriptions.reauthorize", None),
        _ => ("unknown", None),
    }
}

pub(super) struct Admitted {
    pub(super) delay: Option<Duration>,
    pub(super) truncate: bool,
    /// Handle the request, then answer this error status instead (the answer was lost).
    pub(super) lost: Option<u16>,
}

/// How a request counts against its mailbox's concurrency limit.
#[derive(Debug, Clone, Copy)]
pub(super) enum Flight {
    /// Not at all (the token endpoint).
    Uncounted,
    /// An HTTP request: in flight until `handle` finishes it.
    Outer,
    /// A `$batch` sub-request, run alongside `alongside` other sub-requests of its batch for
    /// the same mailbox (Graph runs at most 4 sub-requests of a batch at once). It is handled
    /// at once, so it is in flight only against the outer requests in flight and those.
    Batched { alongside: usize },
}

/// Whether a fault's endpoint name covers `endpoint`: an exact name, or `events.write` /
/// `contacts.write` for every create, update and delete of that resource.
pub(super) fn endpoint_matches(pattern: &str, endpoint: &str) -> bool {
    match pattern.strip_suffix(".write") {
        Some(resource) => endpoint
            .strip_prefix(resource)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|op| matches!(op, "create" | "update" | "delete")),
        None => pattern == endpoint,
    }
}

/// Faults, rate limit and the per-mailbox concurrency limit (sub-requests of a `$batch` count
/// against both like any request). On success an outer request counts as in flight until
/// `handle` finishes it.
pub(super) fn admit(
    st: &mut State,
    req: &Req,
    endpoint: &str,
    mailbox: Option<&str>,
    flight: Flight,
) -> Result<Admitted, Resp> {
    let mut admitted = Admitted {
        delay: None,
        truncate: false,
        lost: None,
    };
    let is_next_page = req.q("$skiptoken").is_some() || req.q("$skip").is_some();
    if let Some(pos) = st.faults.iter().position(|f| {
        f.times > 0
            && f.endpoint
                .as_deref()
                .is_none_or(|e| endpoint_matches(e, endpoint))
            && f.mailbox.as_deref().is_none_or(|m| Some(m) == mailbox)
            && (!f.next_pages_only || is_next_page)
    }) {
        let fault = &mut st.faults[pos];
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            let _spent = st.faults.remove(pos);
        }
        match kind {
            FaultKind::Status(status) => {
                let code = match status {
                    503 => "serviceNotAvailable",
                    504 => "gatewayTimeout",
                    429 => "TooManyRequests",
                    _ => "generalException",
                };
                let mut resp = Resp::error(status, code, "Injected fault.");
                if matches!(status, 429 | 503) {
                    resp = resp.with_header("Retry-After", &st.retry_after);
                }
                return Err(resp);
            }
            FaultKind::Throttle(after) => {
                return Err(Resp::error(429, "TooManyRequests", "Too many requests.")
                    .with_header("Retry-After", &after));
            }
            FaultKind::Delay(d) => admitted.delay = Some(d),
            FaultKind::TruncatedJson => admitted.truncate = true,
            FaultKind::LostResponse(status) => admitted.lost = Some(status),
        }
    }
    let Some(mailbox) = mailbox else {
        return Ok(admitted);
    };
    if let Some((max, window)) = st.rate_limit {
        let now = Instant::now();
        let log = st.rate_log.entry(mailbox.to_owned()).or_default();
        while log.front().is_some_and(|t| now.duration_since(*t) > window) {
            log.pop_front();
        }
        if log.len() >= max {
            // Like Graph, say when capacity frees up (a decimal number of seconds).
            let wait = log
                .front()
                .map_or(window, |t| window.saturating_sub(now.duration_since(*t)));
            let after = format!("{:.3}", wait.as_secs_f64().max(0.001));
            return Err(Resp::error(
                429,
                "TooManyRequests",
                "Application is over its MailboxRequestRate limit.",
            )
            .with_header("Retry-After", &after));
        }
        log.push_back(now);
    }
    let alongside = match flight {
        Flight::Uncounted => return Ok(admitted),
        Flight::Outer => 0,
        Flight::Batched { alongside } => alongside,
    };
    let limit = st.concurrency_limit;
    let outer_in_flight = st.in_flight.get(mailbox).copied().unwrap_or(0);
    if outer_in_flight + alongside >= limit {
        let after = st.retry_after.clone();
        return Err(Resp::error(
            429,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
        )
        .with_header("Retry-After", &after));
    }
    if matches!(flight, Flight::Outer) {
        *st.in_flight.entry(mailbox.to_owned()).or_default() += 1;
    }
    let now_in_flight = outer_in_flight + alongside + 1;
    let max = st.max_in_flight.entry(mailbox.to_owned()).or_default();
    *max = (*max).max(now_in_flight);
    Ok(admitted)
}
