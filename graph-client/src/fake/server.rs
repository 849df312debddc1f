//! Request handling of the fake: routing, admission (auth, faults, throttling) and endpoints.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{Map, Value, json};

use super::state::{
    DeltaEntry, Exception, Folder, Known, RoundItem, Scope, State, StoredContact, StoredEvent,
    Tombstone,
};
use super::time::{self, Recurrence, When, Zone};
use super::{
    EventSeed, FaultKind, Invitation, InvitationKind, MailboxAccess, RequestRecord, SeriesSeed,
};

type Shared = Arc<Mutex<State>>;

pub(crate) fn router(state: Shared) -> Router {
    Router::new().fallback(handle).with_state(state)
}

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

// ---------------------------------------------------------------- requests and responses

#[derive(Debug, Clone)]
struct Req {
    method: String,
    segs: Vec<String>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    in_batch: bool,
}

impl Req {
    fn q(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn prefer(&self) -> Prefs {
        let mut prefs = Prefs::default();
        for (k, v) in &self.headers {
            if !k.eq_ignore_ascii_case("prefer") {
                continue;
            }
            for part in v.split(',') {
                let Some((key, value)) = part.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"').to_owned();
                match key.trim().to_ascii_lowercase().as_str() {
                    "outlook.timezone" => prefs.timezone = Some(value),
                    "odata.maxpagesize" => prefs.max_page_size = value.parse().ok(),
                    "idtype" => prefs.id_type = Some(value),
                    "outlook.body-content-type" => {
                        prefs.body_text = value.eq_ignore_ascii_case("text");
                    }
                    _ => {}
                }
            }
        }
        prefs
    }

    fn json_body(&self) -> Result<Map<String, Value>, Resp> {
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Resp::error(
                400,
                "RequestBodyRead",
                "The request body is not a valid JSON object.",
            )),
        }
    }

    fn select(&self) -> Option<Vec<String>> {
        self.q("$select").map(|s| {
            s.split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect()
        })
    }
}

#[derive(Debug, Default)]
struct Prefs {
    timezone: Option<String>,
    max_page_size: Option<usize>,
    id_type: Option<String>,
    body_text: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Resp {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            json!({"error": {"code": code, "message": message, "innerError": {
                "date": time::fmt_utc(Utc::now()), "request-id": "00000000-0000-4000-8000-000000000000"
            }}}),
        )
    }

    fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

// ---------------------------------------------------------------- entry point

async fn handle(
    AxState(shared): AxState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let header_list: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let Some(rest) = path.strip_prefix("/v1.0") else {
        let resp = {
            let mut st = lock(&shared);
            let token_req = Req {
                method: method.to_string(),
                segs: Vec::new(),
                query: Vec::new(),
                headers: Vec::new(),
                body: Vec::new(),
                in_batch: false,
            };
            let resp = match admit(&mut st, &token_req, "token", None, Flight::Uncounted) {
                Err(resp) => resp,
                Ok(_) => token_endpoint(&mut st, method.as_str(), &path, &header_list, &body),
            };
            st.requests.push(RequestRecord {
                method: method.to_string(),
                endpoint: "token".into(),
                mailbox: None,
                status: resp.status,
                in_batch: false,
                prefer: None,
            });
            resp
        };
        return into_response(&resp, false);
    };
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let req = Req {
        method: method.to_string(),
        segs,
        query,
        headers: header_list,
        body: body.to_vec(),
        in_batch: false,
    };

    let (endpoint, mailbox) = {
        let st = lock(&shared);
        classify(&st, &req)
    };
    let admitted = {
        let mut st = lock(&shared);
        if let Err(resp) = check_auth(&st, &req) {
            record(&mut st, &req, endpoint, mailbox.as_deref(), resp.status);
            return into_response(&resp, false);
        }
        let admitted = admit(&mut st, &req, endpoint, mailbox.as_deref(), Flight::Outer);
        if let Err(resp) = &admitted {
            record(&mut st, &req, endpoint, mailbox.as_deref(), resp.status);
        }
        admitted
    };
    let admitted = match admitted {
        Ok(a) => a,
        Err(resp) => return into_response(&resp, false),
    };
    if let Some(delay) = admitted.delay {
        tokio::time::sleep(delay).await;
    }
    let resp = {
        let mut st = lock(&shared);
        let mut resp = process(&mut st, &req, endpoint);
        if let Some(status) = admitted.lost {
            resp = Resp::error(
                status,
                "gatewayTimeout",
                "Injected fault after the request took effect.",
            );
        }
        if let Some(m) = &mailbox {
            if let Some(n) = st.in_flight.get_mut(m) {
                *n = n.saturating_sub(1);
            }
        }
        record(&mut st, &req, endpoint, mailbox.as_deref(), resp.status);
        resp
    };
    into_response(&resp, admitted.truncate)
}

fn into_response(resp: &Resp, truncate: bool) -> Response {
    let status = axum::http::StatusCode::from_u16(resp.status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let body = match &resp.body {
        Some(v) => {
            builder = builder.header("content-type", "application/json; odata.metadata=minimal");
            let mut bytes = serde_json::to_vec(v).unwrap_or_default();
            if truncate {
                bytes.truncate(bytes.len() / 2);
            }
            bytes
        }
        None => Vec::new(),
    };
    builder
        .body(axum::body::Body::from(body))
        .unwrap_or_else(|_| status.into_response())
}

fn record(st: &mut State, req: &Req, endpoint: &str, mailbox: Option<&str>, status: u16) {
    st.requests.push(RequestRecord {
        method: req.method.clone(),
        endpoint: endpoint.to_owned(),
        mailbox: mailbox.map(str::to_owned),
        status,
        in_batch: req.in_batch,
        prefer: req.header("prefer").map(str::to_owned),
    });
}

fn classify(st: &State, req: &Req) -> (&'static str, Option<String>) {
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
        _ => ("unknown", None),
    }
}

fn check_auth(st: &State, req: &Req) -> Result<(), Resp> {
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "));
    match token.and_then(|t| st.tokens.get(t)) {
        Some(expiry) if Instant::now() < *expiry => Ok(()),
        Some(_) => Err(Resp::error(
            401,
            "InvalidAuthenticationToken",
            "Lifetime validation failed, the token is expired.",
        )),
        None => Err(Resp::error(
            401,
            "InvalidAuthenticationToken",
            "Access token is empty or invalid.",
        )),
    }
}

struct Admitted {
    delay: Option<Duration>,
    truncate: bool,
    /// Handle the request, then answer this error status instead (the answer was lost).
    lost: Option<u16>,
}

/// How a request counts against its mailbox's concurrency limit.
#[derive(Debug, Clone, Copy)]
enum Flight {
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
fn endpoint_matches(pattern: &str, endpoint: &str) -> bool {
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
fn admit(
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

// ---------------------------------------------------------------- token endpoint

fn token_endpoint(
    st: &mut State,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Resp {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let oauth = |status: u16, error: &str, description: &str| {
        Resp::json(
            status,
            json!({"error": error, "error_description": description, "error_codes": [], "timestamp": time::fmt_utc(Utc::now())}),
        )
    };
    let [tenant, "oauth2", "v2.0", "token"] = segs.as_slice() else {
        return Resp::error(404, "NotFound", "No such endpoint.");
    };
    if method != "POST" {
        return oauth(
            405,
            "invalid_request",
            "AADSTS900561: The endpoint only accepts POST requests.",
        );
    }
    if *tenant != st.tenant {
        return oauth(
            400,
            "invalid_tenant",
            &format!("AADSTS90002: Tenant '{tenant}' not found."),
        );
    }
    let form_ok = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type") && v.starts_with("application/x-www-form-urlencoded")
    });
    if !form_ok {
        return oauth(
            400,
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'grant_type'.",
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return oauth(
            400,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        );
    }
    if !form.get("scope").is_some_and(|s| s.ends_with("/.default")) {
        return oauth(
            400,
            "invalid_scope",
            "AADSTS1002012: The provided value for scope is not valid.",
        );
    }
    if form.get("client_id") != Some(&st.client_id) {
        return oauth(
            400,
            "unauthorized_client",
            "AADSTS700016: Application was not found in the directory.",
        );
    }
    if form.get("client_secret") != Some(&st.client_secret) {
        return oauth(
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    let n = st.next();
    let token = format!("eyJ0eXAiOiJKV1QifQ.fake.{n:016x}");
    st.tokens
        .insert(token.clone(), Instant::now() + st.token_lifetime);
    let secs = st.token_lifetime.as_secs().max(1);
    Resp::json(
        200,
        json!({"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": token}),
    )
}

// ---------------------------------------------------------------- routing

/// The prefix of REST ids (what Graph returns without `Prefer: IdType="ImmutableId"`).
const REST_PREFIX: &str = "AAMkARg";
/// The prefix of the fake's immutable ids.
const IMMUTABLE_PREFIX: &str = "AAMkAG";

/// Handles one request. Without `Prefer: IdType="ImmutableId"` item ids are answered and
/// accepted in their REST form, which changes whenever the item moves between folders.
fn process(st: &mut State, req: &Req, endpoint: &str) -> Resp {
    let immutable = req
        .prefer()
        .id_type
        .is_some_and(|v| v.eq_ignore_ascii_case("ImmutableId"));
    let user = match req.segs.as_slice() {
        [users, u, _, ..] if users == "users" => st.user(u).map(|x| x.id.clone()),
        _ => None,
    };
    let Some(user) = user.filter(|_| !immutable && endpoint != "batch") else {
        return route(st, req, endpoint);
    };
    let mut mapped = req.clone();
    for seg in mapped.segs.iter_mut().skip(2) {
        if seg.starts_with(REST_PREFIX) {
            match resolve_rest_id(st, &user, seg) {
                Some(id) => *seg = id,
                None => {
                    return Resp::error(
                        404,
                        "ErrorItemNotFound",
                        "The specified object was not found in the store.",
                    );
                }
            }
        }
    }
    let mut resp = route(st, &mapped, endpoint);
    if let Some(body) = resp.body.as_mut() {
        to_rest_ids(st, &user, body);
    }
    resp
}

fn base_id(id: &str) -> &str {
    id.split('_').next().unwrap_or(id)
}

fn resolve_rest_id(st: &State, user: &str, rest: &str) -> Option<String> {
    let (generation, tail) = rest.strip_prefix(REST_PREFIX)?.split_once('.')?;
    let id = format!("{IMMUTABLE_PREFIX}{tail}");
    let current = st
        .mailboxes
        .get(user)
        .and_then(|mb| mb.moves.get(base_id(&id)))
        .copied()
        .unwrap_or(0);
    (generation.parse::<u32>().ok()? == current).then_some(id)
}

fn to_rest_ids(st: &State, user: &str, value: &mut Value) {
    let Some(mb) = st.mailboxes.get(user) else {
        return;
    };
    let is_folder = |id: &str| id == mb.root_folder || mb.folders.iter().any(|f| f.id == id);
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(id)
                        if (key == "id" || key == "seriesMasterId")
                            && id.starts_with(IMMUTABLE_PREFIX)
                            && !is_folder(id) =>
                    {
                        let generation = mb.moves.get(base_id(id)).copied().unwrap_or(0);
                        *id = format!(
                            "{REST_PREFIX}{generation}.{}",
                            &id[IMMUTABLE_PREFIX.len()..]
                        );
                    }
                    Value::Object(_) | Value::Array(_) => to_rest_ids(st, user, v),
                    _ => {}
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| to_rest_ids(st, user, v)),
        _ => {}
    }
}

pub(crate) fn move_between_folders(st: &mut State, user: &str, id: &str) -> bool {
    let mb = st.mailbox(user);
    let base = base_id(id).to_owned();
    if !mb.events.contains_key(&base) && !mb.contacts.contains_key(&base) {
        return false;
    }
    *mb.moves.entry(base).or_default() += 1;
    true
}

fn route(st: &mut State, req: &Req, endpoint: &str) -> Resp {
    let segs: Vec<String> = req.segs.clone();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (endpoint, s.as_slice()) {
        ("batch", _) => batch(st, req),
        ("groups.list", _) => groups_list(st, req),
        ("groups.get", [_, g]) => group_get(st, g),
        (
            "groups.members" | "groups.transitiveMembers" | "groups.owners",
            [_, g, rel, rest @ ..],
        ) => group_relation(st, req, g, rel, rest),
        ("users.get", [_, u]) => user_get(st, req, u),
        (_, ["users", u, rest @ ..]) => {
            let user = match mailbox_gate(st, u) {
                Ok(id) => id,
                Err(resp) => return resp,
            };
            match (endpoint, rest) {
                ("calendarView.delta", _) => calendar_delta(st, req, &user),
                ("calendarView.list", _) => calendar_view(st, req, &user),
                ("events.list", _) => events_list(st, req, &user),
                ("events.create", _) => event_create(st, req, &user),
                ("events.get", [_, id]) => event_get(st, req, &user, id),
                ("events.update", [_, id]) => event_patch(st, req, &user, id, true),
                ("events.delete", [_, id]) => event_delete(st, req, &user, id),
                ("contactFolders.list", _) => folders_list(st, req, &user),
                ("contactFolders.create", _) => folder_create(st, req, &user),
                ("contactFolders.get", [_, f]) => folder_get(st, &user, f),
                ("contacts.list", rest) => contacts_list(st, req, &user, folder_of(rest)),
                ("contacts.create", rest) => contact_create(st, req, &user, folder_of(rest)),
                ("contacts.delta", [_, f, ..]) => contacts_delta(st, req, &user, f),
                ("contacts.get", [_, c]) => contact_get(st, req, &user, c),
                ("contacts.update", [_, c]) => contact_patch(st, req, &user, c),
                ("contacts.delete", [_, c]) => contact_delete(st, req, &user, c),
                _ => Resp::error(400, "BadRequest", "Resource not found for the segment."),
            }
        }
        _ => Resp::error(400, "BadRequest", "Resource not found for the segment."),
    }
}

fn folder_of<'a>(rest: &[&'a str]) -> Option<&'a str> {
    match rest {
        ["contactFolders", f, ..] => Some(f),
        _ => None,
    }
}

fn mailbox_gate(st: &mut State, key: &str) -> Result<String, Resp> {
    let Some(user) = st.user(key) else {
        return Err(Resp::error(
            404,
            "ErrorInvalidUser",
            &format!("The requested user '{key}' is invalid."),
        ));
    };
    match user.access {
        MailboxAccess::NotEnabled => Err(Resp::error(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        )),
        MailboxAccess::AccessDenied => Err(Resp::error(
            403,
            "ErrorAccessDenied",
            "Access to OData is disabled.",
        )),
        MailboxAccess::Enabled => {
            let id = user.id.clone();
            st.mailbox(&id);
            Ok(id)
        }
    }
}

fn looks_like_outlook_id(id: &str) -> bool {
    id.starts_with("AAMk") && id.len() > 12
}

fn not_found_or_malformed(id: &str) -> Resp {
    if looks_like_outlook_id(id) {
        Resp::error(
            404,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    } else {
        Resp::error(400, "ErrorInvalidIdMalformed", "Id is malformed.")
    }
}

// ---------------------------------------------------------------- directory

fn group_json(g: &super::state::FakeGroup) -> Value {
    json!({"id": g.id, "displayName": g.display_name, "mail": format!("{}@contoso.test", g.display_name.to_ascii_lowercase().replace(' ', "")),
        "groupTypes": ["Unified"], "mailEnabled": true, "securityEnabled": false})
}

fn user_json(u: &super::state::FakeUser) -> Value {
    json!({"@odata.type": "#microsoft.graph.user", "id": u.id, "displayName": u.display_name, "mail": u.mail,
        "userPrincipalName": u.upn, "accountEnabled": true, "givenName": null, "surname": null, "jobTitle": null})
}

fn apply_select(mut v: Value, select: Option<&[String]>, keep: &[&str]) -> Value {
    if let (Some(fields), Value::Object(map)) = (select, &mut v) {
        map.retain(|k, _| {
            keep.contains(&k.as_str()) || k.starts_with("@odata") || fields.iter().any(|f| f == k)
        });
    }
    v
}

fn groups_list(st: &State, req: &Req) -> Resp {
    let groups: Vec<Value> = match req.q("$filter") {
        None => st.groups.iter().map(group_json).collect(),
        Some(filter) => match parse_eq_filter(filter, "displayName") {
            Some(name) => st
                .groups
                .iter()
                .filter(|g| g.display_name == name)
                .map(group_json)
                .collect(),
            None => return Resp::error(400, "Request_UnsupportedQuery", "Unsupported query."),
        },
    };
    Resp::json(
        200,
        json!({"@odata.context": format!("{}/$metadata#groups", st.base_url), "value": groups}),
    )
}

fn is_guid(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn group_get(st: &State, id: &str) -> Resp {
    if !is_guid(id) {
        return Resp::error(
            400,
            "Request_BadRequest",
            &format!("Invalid object identifier '{id}'."),
        );
    }
    match st.groups.iter().find(|g| g.id == id) {
        Some(g) => Resp::json(200, group_json(g)),
        None => Resp::error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        ),
    }
}

fn directory_object(st: &State, id: &str) -> Option<Value> {
    if let Some(u) = st.users.iter().find(|u| u.id == id) {
        return Some(user_json(u));
    }
    if let Some(g) = st.groups.iter().find(|g| g.id == id) {
        let mut v = group_json(g);
        if let Value::Object(m) = &mut v {
            m.insert("@odata.type".into(), json!("#microsoft.graph.group"));
        }
        return Some(v);
    }
    st.devices.iter().find(|(d, _)| d == id).map(
        |(d, name)| json!({"@odata.type": "#microsoft.graph.device", "id": d, "displayName": name}),
    )
}

fn transitive(st: &State, group: &str, out: &mut Vec<String>, seen: &mut BTreeSet<String>) {
    let Some(g) = st.groups.iter().find(|g| g.id == group) else {
        return;
    };
    for m in &g.members {
        if seen.insert(m.clone()) {
            out.push(m.clone());
            if st.groups.iter().any(|x| &x.id == m) {
                transitive(st, m, out, seen);
            }
        }
    }
}

fn group_relation(st: &State, req: &Req, group: &str, relation: &str, rest: &[&str]) -> Resp {
    let Some(g) = st.groups.iter().find(|g| g.id == group) else {
        return group_get(st, group);
    };
    let ids: Vec<String> = match relation {
        "members" => g.members.clone(),
        "owners" => g.owners.clone(),
        _ => {
            let mut out = Vec::new();
            transitive(st, group, &mut out, &mut BTreeSet::new());
            out
        }
    };
    let mut objects: Vec<Value> = ids
        .iter()
        .filter_map(|id| directory_object(st, id))
        .collect();
    match rest {
        [] => {}
        ["microsoft.graph.user"] => {
            let eventual = req
                .header("consistencylevel")
                .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
            if !eventual || req.q("$count") != Some("true") {
                return Resp::error(
                    400,
                    "Request_UnsupportedQuery",
                    "The specified filter to the reference property query is currently not supported.",
                );
            }
            objects.retain(|o| o["@odata.type"] == "#microsoft.graph.user");
        }
        _ => return Resp::error(400, "BadRequest", "Resource not found for the segment."),
    }
    let top = match req.q("$top").map(str::parse::<usize>) {
        None => st.directory_page_size,
        Some(Ok(n)) if (1..=999).contains(&n) => n,
        Some(_) => {
            return Resp::error(
                400,
                "Request_UnsupportedQuery",
                "Invalid page size specified.",
            );
        }
    };
    let skip: usize = req
        .q("$skiptoken")
        .and_then(|t| t.strip_prefix("RFNwdAIAAQAAA"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let select = req.select();
    let page: Vec<Value> = objects
        .iter()
        .skip(skip)
        .take(top)
        .cloned()
        .map(|o| apply_select(o, select.as_deref(), &["id"]))
        .collect();
    let mut body = json!({"@odata.context": format!("{}/$metadata#directoryObjects", st.base_url), "value": page});
    if skip + top < objects.len() {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(sel) = req.q("$select") {
            pairs.push(("$select".into(), sel.into()));
        }
        pairs.push(("$top".into(), top.to_string()));
        pairs.push(("$skiptoken".into(), format!("RFNwdAIAAQAAA{}", skip + top)));
        let suffix = if rest.is_empty() {
            String::new()
        } else {
            format!("/{}", rest.join("/"))
        };
        body["@odata.nextLink"] = json!(format!(
            "{}/groups/{}/{relation}{suffix}{}",
            st.base_url,
            enc(group),
            query_string(&pairs)
        ));
    }
    Resp::json(200, body)
}

fn user_get(st: &State, req: &Req, key: &str) -> Resp {
    match st.user(key) {
        Some(u) => Resp::json(
            200,
            apply_select(user_json(u), req.select().as_deref(), &["id"]),
        ),
        None => Resp::error(
            404,
            "Request_ResourceNotFound",
            &format!(
                "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
            ),
        ),
    }
}

// ---------------------------------------------------------------- OData helpers

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn query_string(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&enc(v));
    }
    out
}

/// Reads an OData string literal at the start of `s`; returns it and the rest.
fn literal(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start().strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().is_some_and(|(_, n)| *n == '\'') {
                out.push('\'');
                chars.next();
            } else {
                return Some((out, &s[i + 1..]));
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// `{field} eq '{value}'`.
fn parse_eq_filter(filter: &str, field: &str) -> Option<String> {
    let rest = filter
        .trim()
        .strip_prefix(field)?
        .trim_start()
        .strip_prefix("eq")?;
    let (value, rest) = literal(rest)?;
    rest.trim().is_empty().then_some(value)
}

/// `singleValueExtendedProperties/Any(ep: ep/id eq '{id}' and ep/value eq '{value}')`.
fn parse_ext_filter(filter: &str) -> Option<(String, String)> {
    let f = filter.trim();
    let head = "singlevalueextendedproperties/any(";
    if !f.get(..head.len())?.eq_ignore_ascii_case(head) {
        return None;
    }
    let rest = f.get(head.len()..)?;
    let (var, rest) = rest.split_once(':')?;
    let var = var.trim();
    let rest = rest
        .trim_start()
        .strip_prefix(&format!("{var}/id"))?
        .trim_start()
        .strip_prefix("eq")?;
    let (id, rest) = literal(rest)?;
    let rest = rest
        .trim_start()
        .strip_prefix("and")?
        .trim_start()
        .strip_prefix(&format!("{var}/value"))?
        .trim_start()
        .strip_prefix("eq")?;
    let (value, rest) = literal(rest)?;
    (rest.trim() == ")").then_some((id, value))
}

/// `singleValueExtendedProperties($filter=id eq '{id}')`.
fn parse_ext_expand(expand: &str) -> Option<String> {
    let e = expand.trim();
    let head = "singlevalueextendedproperties($filter=";
    if !e.get(..head.len())?.eq_ignore_ascii_case(head) {
        return None;
    }
    let inner = e.get(head.len()..)?.strip_suffix(')')?;
    parse_eq_filter(inner, "id")
}

use crate::client::models::property_ids_match as prop_id_matches;

fn parse_ext_props(v: Option<&Value>) -> Result<Vec<(String, String)>, Resp> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let Some(arr) = v.as_array() else {
        return Err(Resp::error(
            400,
            "RequestBodyRead",
            "singleValueExtendedProperties must be an array.",
        ));
    };
    arr.iter()
        .map(|p| {
            match (
                p.get("id").and_then(Value::as_str),
                p.get("value").and_then(Value::as_str),
            ) {
                (Some(id), Some(value))
                    if id.starts_with("String ")
                        || id.contains(" Name ")
                        || id.contains(" Id ") =>
                {
                    Ok((id.to_owned(), value.to_owned()))
                }
                _ => Err(Resp::error(
                    400,
                    "ErrorInvalidProperty",
                    "The extended property id or value is invalid.",
                )),
            }
        })
        .collect()
}

fn upsert_ext(ext: &mut Vec<(String, String)>, new: Vec<(String, String)>) {
    for (id, value) in new {
        match ext.iter_mut().find(|(e, _)| prop_id_matches(e, &id)) {
            Some(slot) => slot.1 = value,
            None => ext.push((id, value)),
        }
    }
}

fn read_zone(prefs: &Prefs) -> (Zone, String, bool) {
    match prefs
        .timezone
        .as_deref()
        .and_then(|z| time::parse_zone(z).map(|p| (p, z.to_owned())))
    {
        Some((zone, label)) => (zone, label, true),
        None => (Zone::Utc, "UTC".to_owned(), false),
    }
}

fn applied(resp: Resp, prefs: &Prefs, zone_applied: bool, label: &str) -> Resp {
    let mut parts = Vec::new();
    if zone_applied {
        parts.push(format!("outlook.timezone=\"{label}\""));
    }
    if let Some(id_type) = &prefs.id_type {
        parts.push(format!("IdType=\"{id_type}\""));
    }
    if parts.is_empty() {
        resp
    } else {
        resp.with_header("Preference-Applied", &parts.join(","))
    }
}

// ---------------------------------------------------------------- event instances

#[derive(Debug, Clone)]
struct Instance {
    id: String,
    kind: &'static str,
    master_id: Option<String>,
    original_start: Option<DateTime<Utc>>,
    start: When,
    end: When,
    version: u64,
    change_key: String,
    fields: Map<String, Value>,
    recurrence: Option<Value>,
    ev: StoredEvent,
}

fn master_instance(ev: &StoredEvent) -> Instance {
    Instance {
        id: ev.id.clone(),
        kind: if ev.recurrence.is_some() {
            "seriesMaster"
        } else {
            "singleInstance"
        },
        master_id: None,
        original_start: None,
        start: ev.start,
        end: ev.end,
        version: ev.version,
        change_key: ev.change_key.clone(),
        fields: ev.fields.clone(),
        recurrence: ev.recurrence_json.clone(),
        ev: ev.clone(),
    }
}

fn occurrence_id(master: &str, date: NaiveDate) -> String {
    format!("{master}_{}", date.format("%Y%m%d"))
}

fn series_zone(ev: &StoredEvent) -> Zone {
    time::parse_zone(&ev.start_zone).unwrap_or(Zone::Utc)
}

/// The occurrence of `ev` on `date` before any exception.
fn plain_occurrence(ev: &StoredEvent, date: NaiveDate) -> (When, When, DateTime<Utc>) {
    if let (When::AllDay(s), When::AllDay(e)) = (ev.start, ev.end) {
        let days = (e - s).num_days();
        let start = When::AllDay(date);
        (
            start,
            When::AllDay(date + chrono::Duration::days(days)),
            start.instant(),
        )
    } else {
        let zone = series_zone(ev);
        let local_time = time::to_local(ev.start.instant(), zone).time();
        let start = time::to_utc(date.and_time(local_time), zone);
        let duration = ev.end.instant() - ev.start.instant();
        (When::At(start), When::At(start + duration), start)
    }
}

fn occurrence(ev: &StoredEvent, date: NaiveDate) -> Option<Instance> {
    let (start, end, original) = plain_occurrence(ev, date);
    let mut inst = Instance {
        id: occurrence_id(&ev.id, date),
        kind: "occurrence",
        master_id: Some(ev.id.clone()),
        original_start: Some(original),
        start,
        end,
        version: ev.version,
        change_key: format!("{}{}", ev.change_key, date.format("%m%d")),
        fields: ev.fields.clone(),
        recurrence: None,
        ev: ev.clone(),
    };
    if let Some(ex) = ev.exceptions.get(&date) {
        if ex.cancelled {
            return None;
        }
        inst.kind = "exception";
        inst.start = ex.start;
        inst.end = ex.end;
        inst.version = ex.version.max(ev.version);
        inst.change_key.clone_from(&ex.change_key);
        for (k, v) in &ex.fields {
            inst.fields.insert(k.clone(), v.clone());
        }
    }
    Some(inst)
}

fn instances(ev: &StoredEvent) -> Vec<Instance> {
    match &ev.recurrence {
        None => vec![master_instance(ev)],
        Some(r) => r
            .dates()
            .into_iter()
            .filter_map(|d| occurrence(ev, d))
            .collect(),
    }
}

fn find_instance(st: &State, user: &str, id: &str) -> Option<Instance> {
    let mb = st.mailboxes.get(user)?;
    if let Some(ev) = mb.events.get(id) {
        return Some(master_instance(ev));
    }
    let (master, date) = id.rsplit_once('_')?;
    let date = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
    let ev = mb.events.get(master)?;
    if !ev.recurrence.as_ref()?.dates().contains(&date) {
        return None;
    }
    occurrence(ev, date)
}

fn overlaps(inst: &Instance, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    let (s, e) = (inst.start.instant(), inst.end.instant());
    s < end && (e > start || (s == e && s >= start))
}

fn when_json(w: When, zone: Zone, label: &str) -> Value {
    match w {
        When::At(t) => {
            json!({"dateTime": time::fmt_local(time::to_local(t, zone)), "timeZone": label})
        }
        When::AllDay(d) => {
            json!({"dateTime": time::fmt_local(d.and_time(NaiveTime::MIN)), "timeZone": label})
        }
    }
}

fn attendee_addresses(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.pointer("/emailAddress/address").and_then(Value::as_str))
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

struct Render<'a> {
    zone: Zone,
    label: &'a str,
    sparse: bool,
    ext: Option<&'a str>,
    select: Option<&'a [String]>,
    body_text: bool,
}

fn render_event(inst: &Instance, r: &Render<'_>) -> Value {
    let etag = format!("W/\"{}\"", inst.change_key);
    if r.sparse {
        return json!({
            "@odata.type": "#microsoft.graph.event", "@odata.etag": etag, "id": inst.id,
            "seriesMasterId": inst.master_id, "type": inst.kind,
            "start": when_json(inst.start, r.zone, r.label), "end": when_json(inst.end, r.zone, r.label),
        });
    }
    let ev = &inst.ev;
    let all_day = matches!(inst.start, When::AllDay(_));
    let mut m = Map::new();
    m.insert("@odata.etag".into(), json!(etag));
    m.insert("id".into(), json!(inst.id));
    m.insert("createdDateTime".into(), json!(time::fmt_utc(ev.created)));
    m.insert(
        "lastModifiedDateTime".into(),
        json!(time::fmt_utc(ev.modified)),
    );
    m.insert("changeKey".into(), json!(inst.change_key));
    m.insert("categories".into(), json!([]));
    if let Some(t) = &ev.transaction_id {
        m.insert("transactionId".into(), json!(t));
    }
    m.insert("originalStartTimeZone".into(), json!(ev.start_zone));
    m.insert("originalEndTimeZone".into(), json!(ev.end_zone));
    m.insert(
        "iCalUId".into(),
        json!(if inst.master_id.is_some() {
            format!("{}{}", ev.ical_uid, inst.id.len())
        } else {
            ev.ical_uid.clone()
        }),
    );
    m.insert("reminderMinutesBeforeStart".into(), json!(15));
    m.insert("isReminderOn".into(), json!(true));
    m.insert("hasAttachments".into(), json!(false));
    m.insert("subject".into(), json!(""));
    m.insert("importance".into(), json!("normal"));
    m.insert("sensitivity".into(), json!("normal"));
    m.insert("isCancelled".into(), json!(false));
    m.insert("responseRequested".into(), json!(true));
    m.insert("showAs".into(), json!("busy"));
    m.insert("isOnlineMeeting".into(), json!(false));
    m.insert("body".into(), json!({"contentType": "html", "content": ""}));
    m.insert("location".into(), json!({"displayName": "", "locationType": "default", "uniqueIdType": "unknown", "address": {}, "coordinates": {}}));
    m.insert("attendees".into(), json!([]));
    for (k, v) in &inst.fields {
        m.insert(k.clone(), v.clone());
    }
    if let Some(Value::Array(att)) = m.get_mut("attendees") {
        for a in att.iter_mut() {
            if let Value::Object(o) = a {
                o.entry("type").or_insert(json!("required"));
                o.entry("status")
                    .or_insert(json!({"response": "none", "time": "0001-01-01T00:00:00Z"}));
            }
        }
    }
    let body_text = m
        .get("body")
        .and_then(|b| b.get("content"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let is_text = m
        .get("body")
        .and_then(|b| b.get("contentType"))
        .and_then(Value::as_str)
        .is_some_and(|c| c.eq_ignore_ascii_case("text"));
    if is_text && !r.body_text {
        m.insert("body".into(), json!({"contentType": "html", "content": format!("<html><body>{}</body></html>", html_escape(&body_text))}));
    }
    m.insert(
        "bodyPreview".into(),
        json!(body_text.chars().take(255).collect::<String>()),
    );
    let location = m.get("location").cloned().unwrap_or(Value::Null);
    let has_location = location
        .get("displayName")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    m.insert(
        "locations".into(),
        if has_location {
            json!([location])
        } else {
            json!([])
        },
    );
    m.insert("isAllDay".into(), json!(all_day));
    m.insert("type".into(), json!(inst.kind));
    m.insert("seriesMasterId".into(), json!(inst.master_id));
    if let Some(o) = inst.original_start {
        m.insert("originalStart".into(), json!(time::fmt_utc(o)));
    }
    m.insert(
        "recurrence".into(),
        inst.recurrence.clone().unwrap_or(Value::Null),
    );
    m.insert("isOrganizer".into(), json!(ev.is_organizer));
    m.insert("responseStatus".into(), json!({"response": if ev.is_organizer { "organizer" } else { "notResponded" }, "time": "0001-01-01T00:00:00Z"}));
    m.insert("organizer".into(), ev.organizer.clone());
    m.insert(
        "webLink".into(),
        json!(format!(
            "https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item",
            enc(&inst.id)
        )),
    );
    m.insert("start".into(), when_json(inst.start, r.zone, r.label));
    m.insert("end".into(), when_json(inst.end, r.zone, r.label));
    if let Some(prop) = r.ext {
        let found: Vec<Value> = ev
            .ext
            .iter()
            .filter(|(id, _)| prop_id_matches(id, prop))
            .map(|(id, v)| json!({"id": id, "value": v}))
            .collect();
        if !found.is_empty() {
            m.insert("singleValueExtendedProperties".into(), json!(found));
        }
    }
    apply_select(
        Value::Object(m),
        r.select,
        &["id", "singleValueExtendedProperties"],
    )
}

// ---------------------------------------------------------------- event writes

struct Times {
    start: When,
    end: When,
    start_zone: String,
    end_zone: String,
}

fn parse_dtz(v: &Value, which: &str) -> Result<(chrono::NaiveDateTime, Zone, String), Resp> {
    let dt = v.get("dateTime").and_then(Value::as_str);
    let tz = v.get("timeZone").and_then(Value::as_str).unwrap_or("UTC");
    let Some(local) = dt.and_then(time::parse_local) else {
        return Err(Resp::error(
            400,
            "RequestBodyRead",
            &format!(
                "Cannot convert the literal '{}' of '{which}' to a dateTime.",
                dt.unwrap_or("")
            ),
        ));
    };
    let Some(zone) = time::parse_write_zone(tz) else {
        return Err(Resp::error(
            400,
            "TimeZoneNotSupportedException",
            &format!(
                "A valid TimeZone value must be specified. The following TimeZone value is not supported: '{tz}'."
            ),
        ));
    };
    Ok((local, zone, tz.to_owned()))
}

fn resolve_times(body: &Map<String, Value>, current: Option<&Times>) -> Result<Times, Resp> {
    let all_day = match body.get("isAllDay") {
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(Resp::error(
                400,
                "RequestBodyRead",
                "isAllDay must be a boolean.",
            ));
        }
        None => current.is_some_and(|c| matches!(c.start, When::AllDay(_))),
    };
    let start = body.get("start").filter(|v| !v.is_null());
    let end = body.get("end").filter(|v| !v.is_null());
    if start.is_none() && end.is_none() {
        if let Some(c) = current {
            if all_day == matches!(c.start, When::AllDay(_)) {
                return Ok(Times {
                    start: c.start,
                    end: c.end,
                    start_zone: c.start_zone.clone(),
                    end_zone: c.end_zone.clone(),
                });
            }
        }
    }
    let (Some(start), Some(end)) = (start, end) else {
        return Err(Resp::error(
            400,
            "ErrorInvalidRequest",
            "Both start and end must be given.",
        ));
    };
    let (ls, zs, ns) = parse_dtz(start, "start")?;
    let (le, ze, ne) = parse_dtz(end, "end")?;
    let times = if all_day {
        if ls.time() != NaiveTime::MIN || le.time() != NaiveTime::MIN || zs != ze {
            return Err(Resp::error(
                400,
                "ErrorPropertyValidationFailure",
                "The start and end of an all-day event must be midnight in the same time zone.",
            ));
        }
        Times {
            start: When::AllDay(ls.date()),
            end: When::AllDay(le.date()),
            start_zone: ns,
            end_zone: ne,
        }
    } else {
        Times {
            start: When::At(time::to_utc(ls, zs)),
            end: When::At(time::to_utc(le, ze)),
            start_zone: ns,
            end_zone: ne,
        }
    };
    if times.end.instant() < times.start.instant() || (all_day && times.end == times.start) {
        return Err(Resp::error(
            400,
            "ErrorInvalidRequest",
            "The end of an event must be after its start.",
        ));
    }
    Ok(times)
}

fn parse_recurrence(v: &Value, start: When) -> Result<Recurrence, Resp> {
    let bad = |m: &str| Resp::error(400, "ErrorInvalidRecurrence", m);
    let pattern = v
        .get("pattern")
        .ok_or_else(|| bad("recurrence.pattern is required."))?;
    let range = v
        .get("range")
        .ok_or_else(|| bad("recurrence.range is required."))?;
    let kind = pattern.get("type").and_then(Value::as_str).unwrap_or("");
    let weekly = match kind {
        "daily" => false,
        "weekly" => true,
        _ => return Err(bad("The fake supports daily and weekly patterns only.")),
    };
    let interval = pattern.get("interval").and_then(Value::as_u64).unwrap_or(1) as u32;
    let days: Vec<chrono::Weekday> = pattern
        .get("daysOfWeek")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|d| d.as_str().and_then(time::parse_weekday))
                .collect()
        })
        .unwrap_or_default();
    if weekly && days.is_empty() {
        return Err(bad("A weekly pattern needs daysOfWeek."));
    }
    let first_day_of_week = pattern
        .get("firstDayOfWeek")
        .and_then(Value::as_str)
        .and_then(time::parse_weekday)
        .unwrap_or(chrono::Weekday::Sun);
    let date = |k: &str| {
        range
            .get(k)
            .and_then(Value::as_str)
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    };
    let start_date = date("startDate").unwrap_or_else(|| start.instant().date_naive());
    let (end_date, count) = match range.get("type").and_then(Value::as_str).unwrap_or("noEnd") {
        "endDate" => (
            Some(date("endDate").ok_or_else(|| bad("range.endDate is required."))?),
            None,
        ),
        "numbered" => (
            None,
            Some(
                range
                    .get("numberOfOccurrences")
                    .and_then(Value::as_u64)
                    .unwrap_or(1) as u32,
            ),
        ),
        _ => (None, None),
    };
    Ok(Recurrence {
        weekly,
        interval,
        days,
        first_day_of_week,
        start_date,
        end_date,
        count,
    })
}

const EVENT_READ_ONLY: &[&str] = &[
    "id",
    "@odata.etag",
    "@odata.type",
    "@odata.context",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "iCalUId",
    "type",
    "seriesMasterId",
    "originalStart",
    "bodyPreview",
    "webLink",
    "isOrganizer",
    "organizer",
    "responseStatus",
    "start",
    "end",
    "isAllDay",
    "recurrence",
    "singleValueExtendedProperties",
    "transactionId",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "locations",
];

fn writable_fields(body: &Map<String, Value>) -> Map<String, Value> {
    body.iter()
        .filter(|(k, _)| !EVENT_READ_ONLY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn user_address(st: &State, user: &str) -> Value {
    let u = st.users.iter().find(|u| u.id == user);
    json!({"emailAddress": {"name": u.map(|u| u.display_name.clone()), "address": u.and_then(|u| u.mail.clone())}})
}

fn log_invitation(
    st: &mut State,
    user: &str,
    event_id: &str,
    kind: InvitationKind,
    subject: Option<&Value>,
    attendees: Vec<String>,
) {
    if attendees.is_empty() {
        return;
    }
    st.invitations.push(Invitation {
        mailbox: user.to_owned(),
        event_id: event_id.to_owned(),
        kind,
        subject: subject.and_then(Value::as_str).map(str::to_owned),
        attendees,
    });
}

fn check_if_match(req: &Req, etag: &str) -> Result<(), Resp> {
    match req.header("if-match") {
        Some(v) if v.trim() != "*" && v.trim() != etag => Err(Resp::error(
            412,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
        )),
        _ => Ok(()),
    }
}

fn event_create(st: &mut State, req: &Req, user: &str) -> Resp {
    let body = match req.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let prefs = req.prefer();
    let (zone, label, zone_applied) = read_zone(&prefs);
    let render = |st: &State, id: &str| {
        let inst = find_instance(st, user, id);
        let r = Render {
            zone,
            label: &label,
            sparse: false,
            ext: None,
            select: None,
            body_text: prefs.body_text,
        };
        inst.map_or_else(
            || Resp::error(500, "generalException", "lost"),
            |i| Resp::json(201, render_event(&i, &r)),
        )
    };
    let transaction = body
        .get("transactionId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(t) = &transaction {
        if let Some(existing) = st.mailbox(user).transactions.get(t).cloned() {
            if st.mailbox(user).events.contains_key(&existing) {
                return applied(render(st, &existing), &prefs, zone_applied, &label);
            }
        }
    }
    let ext = match parse_ext_props(body.get("singleValueExtendedProperties")) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let times = match resolve_times(&body, None) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let recurrence = match body.get("recurrence").filter(|v| !v.is_null()) {
        Some(v) => match parse_recurrence(v, times.start) {
            Ok(r) => Some((r, v.clone())),
            Err(resp) => return resp,
        },
        None => None,
    };
    let fields = writable_fields(&body);
    let organizer = user_address(st, user);
    let id = st.outlook_id(b'E');
    let change_key = st.change_key();
    let n = st.next();
    let now = Utc::now();
    let mb = st.mailbox(user);
    let version = mb.next_seq();
    let ev = StoredEvent {
        id: id.clone(),
        fields,
        start: times.start,
        end: times.end,
        start_zone: times.start_zone,
        end_zone: times.end_zone,
        recurrence: recurrence.as_ref().map(|r| r.0.clone()),
        recurrence_json: recurrence.map(|r| r.1),
        exceptions: std::collections::BTreeMap::new(),
        change_key,
        version,
        created: now,
        modified: now,
        ext,
        transaction_id: transaction.clone(),
        ical_uid: format!("040000008200E00074C5B7101A82E0080000000000000000000000000000{n:08X}"),
        organizer,
        is_organizer: true,
    };
    let attendees = attendee_addresses(ev.fields.get("attendees"));
    let subject = ev.fields.get("subject").cloned();
    mb.events.insert(id.clone(), ev);
    if let Some(t) = transaction {
        mb.transactions.insert(t, id.clone());
    }
    log_invitation(
        st,
        user,
        &id,
        InvitationKind::Invite,
        subject.as_ref(),
        attendees,
    );
    applied(render(st, &id), &prefs, zone_applied, &label)
}

fn event_get(st: &mut State, req: &Req, user: &str, id: &str) -> Resp {
    let prefs = req.prefer();
    let (zone, label, zone_applied) = read_zone(&prefs);
    let ext = match req.q("$expand") {
        None => None,
        Some(e) => match parse_ext_expand(e) {
            Some(p) => Some(p),
            None => {
                return Resp::error(
                    400,
                    "ErrorInvalidUrlQuery",
                    "The $expand option is not supported.",
                );
            }
        },
    };
    let select = req.select();
    match find_instance(st, user, id) {
        Some(inst) => {
            let r = Render {
                zone,
                label: &label,
                sparse: false,
                ext: ext.as_deref(),
                select: select.as_deref(),
                body_text: prefs.body_text,
            };
            applied(
                Resp::json(200, render_event(&inst, &r)),
                &prefs,
                zone_applied,
                &label,
            )
        }
        None => not_found_or_malformed(id),
    }
}

/// PATCH on a single event, a series master or an occurrence (which becomes an exception).
fn event_patch(st: &mut State, req: &Req, user: &str, id: &str, via_api: bool) -> Resp {
    let body = match req.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(inst) = find_instance(st, user, id) else {
        return not_found_or_malformed(id);
    };
    if let Err(r) = check_if_match(req, &format!("W/\"{}\"", inst.change_key)) {
        return r;
    }
    let ext = match parse_ext_props(body.get("singleValueExtendedProperties")) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let current = Times {
        start: inst.start,
        end: inst.end,
        start_zone: inst.ev.start_zone.clone(),
        end_zone: inst.ev.end_zone.clone(),
    };
    let times = match resolve_times(&body, Some(&current)) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let old_attendees = attendee_addresses(inst.fields.get("attendees"));
    let change_key = st.change_key();
    let now = Utc::now();
    let fields = writable_fields(&body);
    let master_id = inst.master_id.clone();
    let mb = st.mailbox(user);
    let version = mb.next_seq();
    if let (Some(master), Some(_)) = (&master_id, inst.original_start) {
        // An occurrence or exception: store an exception.
        let Some(ev) = mb.events.get_mut(master) else {
            return not_found_or_malformed(id);
        };
        let Some(date) = id
            .rsplit_once('_')
            .and_then(|(_, d)| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        else {
            return not_found_or_malformed(id);
        };
        if let Some(r) = &ev.recurrence {
            let dates = r.dates();
            let pos = dates.iter().position(|d| *d == date).unwrap_or(0);
            let new_date = times.start.instant().date_naive();
            let prev_ok = pos == 0 || dates.get(pos - 1).is_none_or(|p| new_date > *p);
            let next_ok = dates.get(pos + 1).is_none_or(|n| new_date < *n);
            if !(prev_ok && next_ok) {
                return Resp::error(
                    400,
                    "ErrorOccurrenceCrossingBoundary",
                    "An occurrence can't be moved to or past a neighboring occurrence.",
                );
            }
        }
        let ex = ev.exceptions.entry(date).or_insert_with(|| Exception {
            cancelled: false,
            start: inst.start,
            end: inst.end,
            fields: Map::new(),
            change_key: String::new(),
            version,
            modified: now,
        });
        ex.start = times.start;
        ex.end = times.end;
        for (k, v) in fields {
            ex.fields.insert(k, v);
        }
        ex.change_key = change_key;
        ex.version = version;
        ex.modified = now;
        ev.modified = now;
    } else {
        let Some(ev) = mb.events.get_mut(id) else {
            return not_found_or_malformed(id);
        };
        if let Some(r) = body.get("recurrence") {
            if r.is_null() {
                ev.recurrence = None;
                ev.recurrence_json = None;
            } else {
                match parse_recurrence(r, times.start) {
                    Ok(parsed) => {
                        ev.recurrence = Some(parsed);
                        ev.recurrence_json = Some(r.clone());
                    }
                    Err(resp) => return resp,
                }
            }
        }
        ev.start = times.start;
        ev.end = times.end;
        ev.start_zone = times.start_zone;
        ev.end_zone = times.end_zone;
        for (k, v) in fields {
            ev.fields.insert(k, v);
        }
        upsert_ext(&mut ev.ext, ext);
        ev.change_key = change_key;
        ev.version = version;
        ev.modified = now;
    }
    // What Outlook would mail (only when the organizer's copy changes).
    if via_api && inst.ev.is_organizer {
        let new_attendees = if body.contains_key("attendees") {
            attendee_addresses(body.get("attendees"))
        } else {
            old_attendees.clone()
        };
        let added: Vec<String> = new_attendees
            .iter()
            .filter(|a| !old_attendees.contains(a))
            .cloned()
            .collect();
        let removed: Vec<String> = old_attendees
            .iter()
            .filter(|a| !new_attendees.contains(a))
            .cloned()
            .collect();
        let meeting_change = [
            "start",
            "end",
            "isAllDay",
            "location",
            "recurrence",
            "subject",
            "body",
        ]
        .iter()
        .any(|k| body.contains_key(*k));
        let kept: Vec<String> = new_attendees
            .iter()
            .filter(|a| old_attendees.contains(a))
            .cloned()
            .collect();
        let subject = body
            .get("subject")
            .or_else(|| inst.fields.get("subject"))
            .cloned();
        log_invitation(
            st,
            user,
            id,
            InvitationKind::Invite,
            subject.as_ref(),
            added,
        );
        log_invitation(
            st,
            user,
            id,
            InvitationKind::Cancel,
            subject.as_ref(),
            removed,
        );
        if meeting_change {
            log_invitation(st, user, id, InvitationKind::Update, subject.as_ref(), kept);
        }
    }
    let prefs = req.prefer();
    let (zone, label, zone_applied) = read_zone(&prefs);
    match find_instance(st, user, id) {
        Some(inst) => {
            let r = Render {
                zone,
                label: &label,
                sparse: false,
                ext: None,
                select: None,
                body_text: prefs.body_text,
            };
            applied(
                Resp::json(200, render_event(&inst, &r)),
                &prefs,
                zone_applied,
                &label,
            )
        }
        None => Resp::error(500, "generalException", "The event was lost."),
    }
}

fn remove_event(st: &mut State, user: &str, id: &str) -> Option<Instance> {
    let inst = find_instance(st, user, id)?;
    let mb = st.mailbox(user);
    let seq = mb.next_seq();
    if let (Some(master), Some((_, date))) = (&inst.master_id, id.rsplit_once('_')) {
        let date = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
        let ev = mb.events.get_mut(master)?;
        let ex = ev.exceptions.entry(date).or_insert_with(|| Exception {
            cancelled: true,
            start: inst.start,
            end: inst.end,
            fields: Map::new(),
            change_key: String::new(),
            version: seq,
            modified: Utc::now(),
        });
        ex.cancelled = true;
        ex.version = seq;
    } else {
        let ev = mb.events.remove(id)?;
        for date in ev
            .recurrence
            .as_ref()
            .map(Recurrence::dates)
            .unwrap_or_default()
        {
            mb.event_tombstones.push(Tombstone {
                id: occurrence_id(id, date),
                seq,
            });
        }
    }
    mb.event_tombstones.push(Tombstone {
        id: id.to_owned(),
        seq,
    });
    Some(inst)
}

fn event_delete(st: &mut State, req: &Req, user: &str, id: &str) -> Resp {
    let Some(inst) = find_instance(st, user, id) else {
        return not_found_or_malformed(id);
    };
    if let Err(r) = check_if_match(req, &format!("W/\"{}\"", inst.change_key)) {
        return r;
    }
    if remove_event(st, user, id).is_none() {
        return not_found_or_malformed(id);
    }
    if inst.ev.is_organizer {
        let attendees = attendee_addresses(inst.fields.get("attendees"));
        log_invitation(
            st,
            user,
            id,
            InvitationKind::Cancel,
            inst.fields.get("subject"),
            attendees,
        );
    }
    Resp::empty(204)
}

fn events_list(st: &mut State, req: &Req, user: &str) -> Resp {
    let prefs = req.prefer();
    let (zone, label, zone_applied) = read_zone(&prefs);
    let filter = match req.q("$filter") {
        None => None,
        Some(f) => match parse_ext_filter(f) {
            Some(p) => Some(p),
            None => {
                return Resp::error(
                    400,
                    "ErrorInvalidUrlQueryFilter",
                    "The query filter contains one or more invalid nodes.",
                );
            }
        },
    };
    let ext = match req.q("$expand") {
        None => None,
        Some(e) => match parse_ext_expand(e) {
            Some(p) => Some(p),
            None => {
                return Resp::error(
                    400,
                    "ErrorInvalidUrlQuery",
                    "The $expand option is not supported.",
                );
            }
        },
    };
    let top = req
        .q("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 1000);
    let skip = req
        .q("$skip")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let select = req.select();
    let mb = st.mailbox(user);
    let matching: Vec<Instance> = mb
        .events
        .values()
        .filter(|ev| {
            filter.as_ref().is_none_or(|(pid, pval)| {
                ev.ext
                    .iter()
                    .any(|(id, v)| prop_id_matches(id, pid) && v.eq_ignore_ascii_case(pval))
            })
        })
        .map(master_instance)
        .collect();
    let r = Render {
        zone,
        label: &label,
        sparse: false,
        ext: ext.as_deref(),
        select: select.as_deref(),
        body_text: prefs.body_text,
    };
    let page: Vec<Value> = matching
        .iter()
        .skip(skip)
        .take(top)
        .map(|i| render_event(i, &r))
        .collect();
    let mut body = json!({"@odata.context": format!("{}/$metadata#users('{}')/events", st.base_url, user), "value": page});
    if skip + top < matching.len() {
        let mut pairs: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "$skip")
            .cloned()
            .collect();
        pairs.push(("$skip".into(), (skip + top).to_string()));
        body["@odata.nextLink"] = json!(format!(
            "{}/users/{}/events{}",
            st.base_url,
            enc(user),
            query_string(&pairs)
        ));
    }
    applied(Resp::json(200, body), &prefs, zone_applied, &label)
}

fn window_of(req: &Req) -> Result<(DateTime<Utc>, DateTime<Utc>), Resp> {
    let parse = |k: &str| req.q(k).and_then(time::parse_query_instant);
    match (parse("startDateTime"), parse("endDateTime")) {
        (Some(s), Some(e)) if e > s => Ok((s, e)),
        (Some(_), Some(_)) => Err(Resp::error(
            400,
            "ErrorInvalidParameter",
            "The value of endDateTime must be after startDateTime.",
        )),
        _ => Err(Resp::error(
            400,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
        )),
    }
}

fn window_instances(
    st: &State,
    user: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<Instance> {
    let Some(mb) = st.mailboxes.get(user) else {
        return Vec::new();
    };
    let mut out: Vec<Instance> = mb
        .events
        .values()
        .flat_map(instances)
        .filter(|i| overlaps(i, start, end))
        .collect();
    out.sort_by(|a, b| {
        a.start
            .instant()
            .cmp(&b.start.instant())
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

fn calendar_view(st: &mut State, req: &Req, user: &str) -> Resp {
    let (start, end) = match window_of(req) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let prefs = req.prefer();
    let (zone, label, zone_applied) = read_zone(&prefs);
    let select = req.select();
    let r = Render {
        zone,
        label: &label,
        sparse: false,
        ext: None,
        select: select.as_deref(),
        body_text: prefs.body_text,
    };
    let value: Vec<Value> = window_instances(st, user, start, end)
        .iter()
        .map(|i| render_event(i, &r))
        .collect();
    applied(
        Resp::json(200, json!({"value": value})),
        &prefs,
        zone_applied,
        &label,
    )
}

// ---------------------------------------------------------------- delta

fn expired() -> Resp {
    Resp::error(
        410,
        "SyncStateNotFound",
        "The sync state generation is not found; generation=0;",
    )
}

fn calendar_delta(st: &mut State, req: &Req, user: &str) -> Resp {
    for option in ["$select", "$filter", "$expand", "$orderby", "$search"] {
        if req.q(option).is_some() {
            return Resp::error(
                400,
                "ErrorInvalidUrlQuery",
                &format!(
                    "The following parameters are not supported with change tracking over the 'CalendarView' resource: '{option}'."
                ),
            );
        }
    }
    let prefs = req.prefer();
    let page_size = prefs.max_page_size.unwrap_or(st.default_page_size).max(1);
    let skip = if let Some(skip) = req.q("$skiptoken") {
        skip.to_owned()
    } else {
        let (scope, known) = if let Some(token) = req.q("$deltatoken") {
            match st.delta.get(token) {
                Some(DeltaEntry::Token {
                    mailbox,
                    scope: scope @ Scope::Calendar { .. },
                    known,
                }) if mailbox == user => (scope.clone(), Some(known.clone())),
                _ => return expired(),
            }
        } else {
            match window_of(req) {
                Ok((start, end)) => (Scope::Calendar { start, end }, None),
                Err(r) => return r,
            }
        };
        start_round(st, user, scope, known.as_ref(), page_size)
    };
    serve_page(st, req, user, &skip, "calendarView/delta")
}

/// The largest contacts delta page Graph serves.
const MAX_CONTACTS_DELTA_PAGE: usize = 200;

fn contacts_delta(st: &mut State, req: &Req, user: &str, folder: &str) -> Resp {
    if !st.mailbox(user).folders.iter().any(|f| f.id == folder) {
        return not_found_or_malformed(folder);
    }
    for option in ["$filter", "$expand", "$orderby", "$search"] {
        if req.q(option).is_some() {
            return Resp::error(
                400,
                "ErrorInvalidUrlQuery",
                &format!(
                    "The following parameters are not supported with change tracking over the 'Contacts' resource: '{option}'."
                ),
            );
        }
    }
    let prefs = req.prefer();
    // Graph serves at most 200 contacts per delta page whatever is asked (Microsoft Q&A
    // answer 2052165).
    let page_size = prefs
        .max_page_size
        .unwrap_or(st.default_page_size)
        .clamp(1, MAX_CONTACTS_DELTA_PAGE);
    let skip = if let Some(skip) = req.q("$skiptoken") {
        skip.to_owned()
    } else {
        let (scope, known) = if let Some(token) = req.q("$deltatoken") {
            match st.delta.get(token) {
                Some(DeltaEntry::Token {
                    mailbox,
                    scope: scope @ Scope::Contacts { .. },
                    known,
                }) if mailbox == user => (scope.clone(), Some(known.clone())),
                _ => return expired(),
            }
        } else {
            (
                Scope::Contacts {
                    folder: folder.to_owned(),
                    select: req.select(),
                },
                None,
            )
        };
        start_round(st, user, scope, known.as_ref(), page_size)
    };
    serve_page(
        st,
        req,
        user,
        &skip,
        &format!("contactFolders/{}/contacts/delta", enc(folder)),
    )
}

/// What a round is computed from: current (id, version) pairs in scope, ids outside the
/// window changed since the token, tombstones (id, seq), and the mailbox sequence.
struct RoundInput {
    current: Vec<(String, u64)>,
    /// Changed too recently to show (the processing lag).
    lagging: std::collections::HashSet<String>,
    outside_changed: Vec<String>,
    tombstones: Vec<(String, u64)>,
    seq: u64,
}

/// Builds a round's item list and returns the skip token of its first page.
fn start_round(
    st: &mut State,
    user: &str,
    scope: Scope,
    known: Option<&Known>,
    page_size: usize,
) -> String {
    let replays = st.replays;
    let lag = st.processing_lag;
    let RoundInput {
        current,
        lagging,
        outside_changed,
        tombstones,
        seq,
    } = {
        let mb = st.mailbox(user);
        let seq = mb.seq;
        match &scope {
            Scope::Calendar { start, end } => {
                let (start, end) = (*start, *end);
                let all: Vec<&StoredEvent> = mb.events.values().collect();
                let mut current = Vec::new();
                let mut outside = Vec::new();
                let mut lagging = std::collections::HashSet::new();
                let fresh_since = Utc::now() - chrono::Duration::from_std(lag).unwrap_or_default();
                for ev in all {
                    let is_fresh = !lag.is_zero() && ev.modified > fresh_since;
                    let inside: Vec<Instance> = instances(ev)
                        .into_iter()
                        .filter(|i| overlaps(i, start, end))
                        .collect();
                    if inside.is_empty() {
                        outside.push((ev.id.clone(), ev.version));
                    }
                    for i in inside {
                        if is_fresh {
                            lagging.insert(i.id.clone());
                        }
                        current.push((i.start.instant(), i.id, i.version));
                    }
                }
                current.sort();
                let known_seq = known.map_or(u64::MAX, |k| k.seq);
                let outside_changed = outside
                    .into_iter()
                    .filter(|(_, v)| *v > known_seq)
                    .map(|(id, _)| id)
                    .collect();
                let tombs = mb
                    .event_tombstones
                    .iter()
                    .map(|t| (t.id.clone(), t.seq))
                    .collect();
                RoundInput {
                    current: current.into_iter().map(|(_, id, v)| (id, v)).collect(),
                    lagging,
                    outside_changed,
                    tombstones: tombs,
                    seq,
                }
            }
            Scope::Contacts { folder, .. } => {
                let current = mb
                    .contacts
                    .values()
                    .filter(|c| &c.folder == folder)
                    .map(|c| (c.id.clone(), c.version))
                    .collect();
                let tombs = mb
                    .contact_tombstones
                    .iter()
                    .filter(|(_, f, _)| f == folder)
                    .map(|(id, _, s)| (id.clone(), *s))
                    .collect();
                RoundInput {
                    current,
                    lagging: std::collections::HashSet::new(),
                    outside_changed: Vec::new(),
                    tombstones: tombs,
                    seq,
                }
            }
        }
    };
    // A write younger than the processing lag is not visible yet: the item keeps the version
    // the client knows (or stays unknown) and shows up in a later round.
    let visible: Vec<(String, u64)> = current
        .iter()
        .filter_map(|(id, v)| {
            if lagging.contains(id) {
                known
                    .and_then(|k| k.versions.get(id))
                    .map(|old| (id.clone(), *old))
            } else {
                Some((id.clone(), *v))
            }
        })
        .collect();
    let mut items: Vec<RoundItem> = Vec::new();
    match known {
        None => items.extend(
            current
                .iter()
                .filter(|(id, _)| !lagging.contains(id))
                .map(|(id, _)| RoundItem::Live(id.clone())),
        ),
        Some(k) => {
            for (id, version) in &current {
                if !lagging.contains(id) && k.versions.get(id) != Some(version) {
                    items.push(RoundItem::Live(id.clone()));
                }
            }
            let now: std::collections::HashSet<&str> =
                current.iter().map(|(id, _)| id.as_str()).collect();
            let mut gone: Vec<&String> = k
                .versions
                .keys()
                .filter(|id| !now.contains(id.as_str()))
                .collect();
            gone.sort();
            items.extend(gone.into_iter().map(|id| RoundItem::Removed(id.clone())));
            // Items outside the window that changed, or deletions the client never saw, are
            // reported as removed too (Graph does this; the client must filter by window).
            for id in outside_changed {
                if !items
                    .iter()
                    .any(|i| matches!(i, RoundItem::Removed(x) if *x == id))
                {
                    items.push(RoundItem::Removed(id));
                }
            }
            for (id, seq) in tombstones {
                if seq > k.seq
                    && !items
                        .iter()
                        .any(|i| matches!(i, RoundItem::Removed(x) if *x == id))
                {
                    items.push(RoundItem::Removed(id));
                }
            }
            if replays {
                if let Some(last) = &k.last_item {
                    if now.contains(last.as_str())
                        && !items
                            .iter()
                            .any(|i| matches!(i, RoundItem::Live(x) if x == last))
                    {
                        items.push(RoundItem::Live(last.clone()));
                    }
                }
            }
        }
    }
    if replays && items.len() > page_size {
        let first = items[0].clone();
        items.insert(page_size, first);
    }
    let last_item = items.iter().rev().find_map(|i| match i {
        RoundItem::Live(id) => Some(id.clone()),
        RoundItem::Removed(_) => None,
    });
    let next = Known {
        versions: visible.into_iter().collect(),
        seq,
        last_item,
    };
    let round = format!("R{:x}", st.next());
    st.delta.insert(
        round.clone(),
        DeltaEntry::Round {
            mailbox: user.to_owned(),
            scope,
            items,
            page_size,
            next,
        },
    );
    format!("{round}.0")
}

fn serve_page(st: &mut State, req: &Req, user: &str, skip: &str, link_path: &str) -> Resp {
    let Some((round, pos)) = skip.rsplit_once('.') else {
        return expired();
    };
    let Ok(pos) = pos.parse::<usize>() else {
        return expired();
    };
    let Some(DeltaEntry::Round {
        mailbox,
        scope,
        items,
        page_size,
        next,
        ..
    }) = st.delta.get(round).cloned()
    else {
        return expired();
    };
    if mailbox != user || pos > items.len() {
        return expired();
    }
    let prefs = req.prefer();
    let (zone, label, zone_applied) = read_zone(&prefs);
    let end = (pos + page_size).min(items.len());
    let mut value = Vec::new();
    for item in &items[pos..end] {
        let rendered = match (item, &scope) {
            (RoundItem::Live(id), Scope::Calendar { .. }) => {
                find_instance(st, user, id).map(|inst| {
                    let r = Render {
                        zone,
                        label: &label,
                        sparse: inst.kind == "occurrence",
                        ext: None,
                        select: None,
                        body_text: prefs.body_text,
                    };
                    render_event(&inst, &r)
                })
            }
            (RoundItem::Live(id), Scope::Contacts { select, .. }) => st
                .mailboxes
                .get(user)
                .and_then(|mb| mb.contacts.get(id))
                .map(|c| apply_select(render_contact(c), select.as_deref(), &["id"])),
            (RoundItem::Removed(_), _) => None,
        };
        let id = match item {
            RoundItem::Live(id) | RoundItem::Removed(id) => id,
        };
        let odata_type = if matches!(scope, Scope::Calendar { .. }) {
            "#microsoft.graph.event"
        } else {
            "#microsoft.graph.contact"
        };
        value.push(rendered.unwrap_or_else(
            || json!({"@odata.type": odata_type, "id": id, "@removed": {"reason": "deleted"}}),
        ));
    }
    let base = format!("{}/users/{}/{link_path}", st.base_url, enc(user));
    let mut body = json!({"@odata.context": format!("{}/$metadata#Collection(event)", st.base_url), "value": value});
    if end < items.len() {
        body["@odata.nextLink"] = json!(format!(
            "{base}?$skiptoken={}",
            enc(&format!("{round}.{end}"))
        ));
    } else {
        // The same last page always hands out the same delta token.
        let token = format!("D{round}");
        st.delta.entry(token.clone()).or_insert(DeltaEntry::Token {
            mailbox: user.to_owned(),
            scope,
            known: next,
        });
        body["@odata.deltaLink"] = json!(format!("{base}?$deltatoken={}", enc(&token)));
    }
    applied(Resp::json(200, body), &prefs, zone_applied, &label)
}

// ---------------------------------------------------------------- contacts

const CONTACT_READ_ONLY: &[&str] = &[
    "id",
    "@odata.etag",
    "@odata.type",
    "@odata.context",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "parentFolderId",
    "singleValueExtendedProperties",
];

fn render_contact(c: &StoredContact) -> Value {
    let mut m = Map::new();
    m.insert(
        "@odata.etag".into(),
        json!(format!("W/\"{}\"", c.change_key)),
    );
    m.insert("id".into(), json!(c.id));
    m.insert("createdDateTime".into(), json!(time::fmt_utc(c.created)));
    m.insert(
        "lastModifiedDateTime".into(),
        json!(time::fmt_utc(c.modified)),
    );
    m.insert("changeKey".into(), json!(c.change_key));
    m.insert("categories".into(), json!([]));
    m.insert("parentFolderId".into(), json!(c.folder));
    for k in [
        "birthday",
        "fileAs",
        "givenName",
        "initials",
        "middleName",
        "nickName",
        "surname",
        "title",
        "generation",
        "jobTitle",
        "companyName",
        "department",
        "officeLocation",
        "profession",
        "businessHomePage",
        "assistantName",
        "manager",
        "mobilePhone",
        "spouseName",
    ] {
        m.insert(k.into(), Value::Null);
    }
    m.insert("personalNotes".into(), json!(""));
    for k in [
        "imAddresses",
        "homePhones",
        "businessPhones",
        "children",
        "emailAddresses",
    ] {
        m.insert(k.into(), json!([]));
    }
    for k in ["homeAddress", "businessAddress", "otherAddress"] {
        m.insert(k.into(), json!({}));
    }
    for (k, v) in &c.fields {
        m.insert(k.clone(), v.clone());
    }
    if m.get("displayName").is_none_or(Value::is_null) {
        let given = c
            .fields
            .get("givenName")
            .and_then(Value::as_str)
            .unwrap_or("");
        let surname = c
            .fields
            .get("surname")
            .and_then(Value::as_str)
            .unwrap_or("");
        m.insert(
            "displayName".into(),
            json!(format!("{given} {surname}").trim().to_owned()),
        );
    }
    Value::Object(m)
}

fn check_contact_caps(body: &Map<String, Value>) -> Result<(), Resp> {
    for (field, name, max) in [
        ("emailAddresses", "EmailAddresses", 3),
        ("businessPhones", "BusinessPhones", 2),
        ("homePhones", "HomePhones", 2),
    ] {
        if let Some(n) = body.get(field).and_then(Value::as_array).map(Vec::len) {
            if n > max {
                return Err(Resp::error(
                    400,
                    "ErrorInvalidArgument",
                    &format!(
                        "The property '{name}' has {n} entries, that exceeds the max allowed value of {max}."
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn folders_list(st: &mut State, req: &Req, user: &str) -> Resp {
    let name = match req.q("$filter") {
        None => None,
        Some(f) => match parse_eq_filter(f, "displayName") {
            Some(n) => Some(n),
            None => {
                return Resp::error(
                    400,
                    "ErrorInvalidUrlQueryFilter",
                    "The query filter contains one or more invalid nodes.",
                );
            }
        },
    };
    let mb = st.mailbox(user);
    let value: Vec<Value> = mb
        .folders
        .iter()
        .filter(|f| {
            name.as_ref()
                .is_none_or(|n| f.display_name.eq_ignore_ascii_case(n))
        })
        .map(|f| json!({"id": f.id, "displayName": f.display_name, "parentFolderId": f.parent}))
        .collect();
    Resp::json(200, json!({"value": value}))
}

fn folder_get(st: &mut State, user: &str, id: &str) -> Resp {
    match st.mailbox(user).folders.iter().find(|f| f.id == id) {
        Some(f) => Resp::json(
            200,
            json!({"id": f.id, "displayName": f.display_name, "parentFolderId": f.parent}),
        ),
        None => not_found_or_malformed(id),
    }
}

fn folder_create(st: &mut State, req: &Req, user: &str) -> Resp {
    let body = match req.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return Resp::error(400, "ErrorInvalidRequest", "The displayName is required.");
    };
    if st
        .mailbox(user)
        .folders
        .iter()
        .any(|f| f.display_name.eq_ignore_ascii_case(name))
    {
        return Resp::error(
            409,
            "ErrorFolderExists",
            "A folder with the specified name already exists.",
        );
    }
    let id = seed_folder(st, user, name);
    folder_get(st, user, &id).with_status(201)
}

impl Resp {
    fn with_status(mut self, status: u16) -> Self {
        if self.status == 200 {
            self.status = status;
        }
        self
    }
}

fn contacts_list(st: &mut State, req: &Req, user: &str, folder: Option<&str>) -> Resp {
    let folder = folder.map_or_else(|| st.mailbox(user).root_folder.clone(), str::to_owned);
    if folder != st.mailbox(user).root_folder
        && !st.mailbox(user).folders.iter().any(|f| f.id == folder)
    {
        return not_found_or_malformed(&folder);
    }
    let filter = match req.q("$filter") {
        None => None,
        Some(f) => match parse_ext_filter(f) {
            Some(p) => Some(p),
            None => {
                return Resp::error(
                    400,
                    "ErrorInvalidUrlQueryFilter",
                    "The query filter contains one or more invalid nodes.",
                );
            }
        },
    };
    let top = req
        .q("$top")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 1000);
    let skip = req
        .q("$skip")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let select = req.select();
    let expand = match contact_expand(req) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let mb = st.mailbox(user);
    let all: Vec<Value> = mb
        .contacts
        .values()
        .filter(|c| c.folder == folder)
        .filter(|c| {
            filter.as_ref().is_none_or(|(pid, pv)| {
                c.ext
                    .iter()
                    .any(|(id, v)| prop_id_matches(id, pid) && v.eq_ignore_ascii_case(pv))
            })
        })
        .map(|c| {
            contact_ext(
                c,
                expand.as_deref(),
                apply_select(render_contact(c), select.as_deref(), &["id"]),
            )
        })
        .collect();
    let page: Vec<Value> = all.iter().skip(skip).take(top).cloned().collect();
    let mut body = json!({"value": page});
    if skip + top < all.len() {
        let mut pairs: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "$skip")
            .cloned()
            .collect();
        pairs.push(("$skip".into(), (skip + top).to_string()));
        body["@odata.nextLink"] = json!(format!(
            "{}/users/{}/contactFolders/{}/contacts{}",
            st.base_url,
            enc(user),
            enc(&folder),
            query_string(&pairs)
        ));
    }
    Resp::json(200, body)
}

fn contact_create(st: &mut State, req: &Req, user: &str, folder: Option<&str>) -> Resp {
    let body = match req.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    let folder = folder.map_or_else(|| st.mailbox(user).root_folder.clone(), str::to_owned);
    if folder != st.mailbox(user).root_folder
        && !st.mailbox(user).folders.iter().any(|f| f.id == folder)
    {
        return not_found_or_malformed(&folder);
    }
    if let Err(r) = check_contact_caps(&body) {
        return r;
    }
    let ext = match parse_ext_props(body.get("singleValueExtendedProperties")) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let id = insert_contact(st, user, &folder, &body, ext);
    match st.mailbox(user).contacts.get(&id) {
        Some(c) => Resp::json(201, render_contact(c)),
        None => Resp::error(500, "generalException", "The contact was lost."),
    }
}

fn insert_contact(
    st: &mut State,
    user: &str,
    folder: &str,
    body: &Map<String, Value>,
    ext: Vec<(String, String)>,
) -> String {
    let id = st.outlook_id(b'C');
    let change_key = st.change_key();
    let now = Utc::now();
    let fields: Map<String, Value> = body
        .iter()
        .filter(|(k, _)| !CONTACT_READ_ONLY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mb = st.mailbox(user);
    let version = mb.next_seq();
    mb.contacts.insert(
        id.clone(),
        StoredContact {
            id: id.clone(),
            folder: folder.to_owned(),
            fields,
            change_key,
            version,
            created: now,
            modified: now,
            ext,
        },
    );
    id
}

/// The contact's extended properties matching an `$expand` of one property, if asked.
fn contact_ext(c: &StoredContact, expand: Option<&str>, mut v: Value) -> Value {
    if let Some(prop) = expand {
        let found: Vec<Value> = c
            .ext
            .iter()
            .filter(|(id, _)| prop_id_matches(id, prop))
            .map(|(id, val)| json!({"id": id, "value": val}))
            .collect();
        if !found.is_empty() {
            v["singleValueExtendedProperties"] = json!(found);
        }
    }
    v
}

/// The property of a `$expand=singleValueExtendedProperties($filter=id eq '..')`, or a 400.
fn contact_expand(req: &Req) -> Result<Option<String>, Resp> {
    match req.q("$expand") {
        None => Ok(None),
        Some(e) => parse_ext_expand(e).map(Some).ok_or_else(|| {
            Resp::error(
                400,
                "ErrorInvalidUrlQuery",
                "The $expand option is not supported.",
            )
        }),
    }
}

fn contact_get(st: &mut State, req: &Req, user: &str, id: &str) -> Resp {
    let select = req.select();
    let expand = match contact_expand(req) {
        Ok(e) => e,
        Err(r) => return r,
    };
    match st.mailbox(user).contacts.get(id) {
        Some(c) => Resp::json(
            200,
            contact_ext(
                c,
                expand.as_deref(),
                apply_select(render_contact(c), select.as_deref(), &["id"]),
            ),
        ),
        None => not_found_or_malformed(id),
    }
}

fn contact_patch(st: &mut State, req: &Req, user: &str, id: &str) -> Resp {
    let body = match req.json_body() {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Err(r) = check_contact_caps(&body) {
        return r;
    }
    let ext = match parse_ext_props(body.get("singleValueExtendedProperties")) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let Some(current) = st
        .mailbox(user)
        .contacts
        .get(id)
        .map(|c| format!("W/\"{}\"", c.change_key))
    else {
        return not_found_or_malformed(id);
    };
    if let Err(r) = check_if_match(req, &current) {
        return r;
    }
    patch_contact(st, user, id, &body, ext);
    contact_get(
        st,
        &Req {
            query: Vec::new(),
            ..req.clone()
        },
        user,
        id,
    )
}

fn patch_contact(
    st: &mut State,
    user: &str,
    id: &str,
    body: &Map<String, Value>,
    ext: Vec<(String, String)>,
) -> bool {
    let change_key = st.change_key();
    let mb = st.mailbox(user);
    let version = mb.next_seq();
    let Some(c) = mb.contacts.get_mut(id) else {
        return false;
    };
    for (k, v) in body {
        if !CONTACT_READ_ONLY.contains(&k.as_str()) {
            c.fields.insert(k.clone(), v.clone());
        }
    }
    upsert_ext(&mut c.ext, ext);
    c.change_key = change_key;
    c.version = version;
    c.modified = Utc::now();
    true
}

fn contact_delete(st: &mut State, req: &Req, user: &str, id: &str) -> Resp {
    let Some(current) = st
        .mailbox(user)
        .contacts
        .get(id)
        .map(|c| format!("W/\"{}\"", c.change_key))
    else {
        return not_found_or_malformed(id);
    };
    if let Err(r) = check_if_match(req, &current) {
        return r;
    }
    remove_contact(st, user, id);
    Resp::empty(204)
}

fn remove_contact(st: &mut State, user: &str, id: &str) -> bool {
    let mb = st.mailbox(user);
    let seq = mb.next_seq();
    match mb.contacts.remove(id) {
        Some(c) => {
            mb.contact_tombstones.push((id.to_owned(), c.folder, seq));
            true
        }
        None => false,
    }
}

// ---------------------------------------------------------------- $batch

fn batch(st: &mut State, req: &Req) -> Resp {
    let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(&req.body) else {
        return Resp::error(400, "BadRequest", "Invalid batch payload format.");
    };
    let Some(requests) = envelope.get("requests").and_then(Value::as_array) else {
        return Resp::error(400, "BadRequest", "Invalid batch payload format.");
    };
    if requests.len() > 20 {
        return Resp::error(
            400,
            "BadRequest",
            "Number of batch request steps exceeds the maximum of 20.",
        );
    }
    let mut ids = BTreeSet::new();
    for r in requests {
        let Some(id) = r.get("id").and_then(Value::as_str) else {
            return Resp::error(
                400,
                "BadRequest",
                "Invalid batch payload format: a request has no id.",
            );
        };
        if !ids.insert(id.to_owned()) {
            return Resp::error(400, "BadRequest", "Batch request contains duplicate ids.");
        }
    }
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::new();
    // Graph runs the independent sub-requests of a batch 4 at a time: the sub-requests of one
    // wave for the same mailbox are in flight together (and with the mailbox's outer
    // requests). A sub-request with `dependsOn` runs after its dependencies, in a wave of its
    // own.
    let mut wave: HashMap<String, usize> = HashMap::new();
    let mut wave_len = 0;
    for r in requests {
        let id = r
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let depends: Vec<String> = r
            .get("dependsOn")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if wave_len == BATCH_PARALLELISM || !depends.is_empty() {
            wave.clear();
            wave_len = 0;
        }
        wave_len += 1;
        let resp = if depends
            .iter()
            .any(|d| statuses.get(d).is_none_or(|s| *s >= 400))
        {
            Resp::error(
                424,
                "FailedDependency",
                "A request this one depends on failed.",
            )
        } else {
            run_sub(st, req, r, &mut wave)
        };
        statuses.insert(id.clone(), resp.status);
        let headers: Map<String, Value> = resp
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let mut answer = json!({"id": id, "status": resp.status, "headers": headers});
        if let Some(body) = resp.body {
            answer["body"] = body;
            answer["headers"]["Content-Type"] = json!("application/json");
        }
        responses.push(answer);
    }
    // Graph answers in any order.
    responses.reverse();
    Resp::json(200, json!({"responses": responses}))
}

/// Sub-requests of one batch Graph runs at once.
const BATCH_PARALLELISM: usize = 4;

/// Runs one sub-request; `wave` counts the sub-requests per mailbox running alongside.
fn run_sub(st: &mut State, outer: &Req, r: &Value, wave: &mut HashMap<String, usize>) -> Resp {
    let method = r
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase();
    let url = r.get("url").and_then(Value::as_str).unwrap_or("");
    let url = url
        .strip_prefix("https://graph.microsoft.com/v1.0")
        .unwrap_or(url);
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut headers: Vec<(String, String)> = r
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.to_ascii_lowercase(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let body = match r.get("body") {
        Some(b) => {
            if !headers.iter().any(|(k, _)| k == "content-type") {
                return Resp::error(
                    400,
                    "BadRequest",
                    "Content-Type header is required when a body is present.",
                );
            }
            serde_json::to_vec(b).unwrap_or_default()
        }
        None => Vec::new(),
    };
    if let Some(auth) = outer.header("authorization") {
        headers.push(("authorization".into(), auth.to_owned()));
    }
    let sub = Req {
        method,
        segs,
        query,
        headers,
        body,
        in_batch: true,
    };
    let (endpoint, mailbox) = classify(st, &sub);
    if endpoint == "batch" {
        return Resp::error(400, "BadRequest", "Nested batches are not supported.");
    }
    let alongside = mailbox
        .as_deref()
        .and_then(|m| wave.get(m).copied())
        .unwrap_or(0);
    let admitted = admit(
        st,
        &sub,
        endpoint,
        mailbox.as_deref(),
        Flight::Batched { alongside },
    );
    if admitted.is_ok() {
        if let Some(m) = &mailbox {
            *wave.entry(m.clone()).or_default() += 1;
        }
    }
    let resp = match admitted {
        Ok(Admitted {
            lost: Some(status), ..
        }) => {
            let _effect = process(st, &sub, endpoint);
            Resp::error(
                status,
                "gatewayTimeout",
                "Injected fault after the request took effect.",
            )
        }
        Ok(_) => process(st, &sub, endpoint),
        Err(r) => r,
    };
    record(st, &sub, endpoint, mailbox.as_deref(), resp.status);
    resp
}

// ---------------------------------------------------------------- seeding and inspection

pub(crate) fn seed_event(st: &mut State, user: &str, seed: EventSeed) -> String {
    let id = st.outlook_id(b'E');
    let change_key = st.change_key();
    let n = st.next();
    let self_address = user_address(st, user);
    let now = Utc::now();
    let mut fields = seed.extra;
    fields.insert("subject".into(), json!(seed.subject));
    if !seed.attendees.is_empty() {
        let att: Vec<Value> = seed
            .attendees
            .iter()
            .map(|a| json!({"type": "required", "emailAddress": {"address": a, "name": a}}))
            .collect();
        fields.insert("attendees".into(), json!(att));
    }
    let (organizer, is_organizer) = match &seed.organizer {
        Some(o) => (json!({"emailAddress": {"name": o, "address": o}}), false),
        None => (self_address, true),
    };
    let mb = st.mailbox(user);
    let version = mb.next_seq();
    mb.events.insert(
        id.clone(),
        StoredEvent {
            id: id.clone(),
            fields,
            start: seed.start,
            end: seed.end,
            start_zone: seed.zone.clone(),
            end_zone: seed.zone,
            recurrence: None,
            recurrence_json: None,
            exceptions: std::collections::BTreeMap::new(),
            change_key,
            version,
            created: now,
            modified: now,
            ext: seed.ext,
            transaction_id: None,
            ical_uid: format!(
                "040000008200E00074C5B7101A82E0080000000000000000000000000000{n:08X}"
            ),
            organizer,
            is_organizer,
        },
    );
    id
}

pub(crate) fn seed_series(st: &mut State, user: &str, seed: SeriesSeed) -> String {
    let SeriesSeed {
        subject,
        first_start,
        duration,
        weekly,
        interval,
        count,
        zone: zone_name,
    } = seed;
    let zone = time::parse_zone(&zone_name).unwrap_or(Zone::Utc);
    let local_start = time::to_local(first_start, zone);
    let (pattern, weekly_days) = match &weekly {
        Some(days) => ("weekly", days.clone()),
        None => ("daily", Vec::new()),
    };
    let recurrence_json = json!({
        "pattern": {"type": pattern, "interval": interval, "month": 0, "dayOfMonth": 0,
            "daysOfWeek": weekly_days.iter().map(|d| time::weekday_name(*d)).collect::<Vec<_>>(),
            "firstDayOfWeek": "sunday", "index": "first"},
        "range": {"type": "numbered", "startDate": local_start.date().format("%Y-%m-%d").to_string(), "endDate": "0001-01-01",
            "recurrenceTimeZone": zone_name, "numberOfOccurrences": count},
    });
    let recurrence = Recurrence {
        weekly: weekly.is_some(),
        interval,
        days: weekly_days,
        first_day_of_week: chrono::Weekday::Sun,
        start_date: local_start.date(),
        end_date: None,
        count: Some(count),
    };
    // The master starts at the first occurrence.
    let first_date = recurrence
        .dates()
        .first()
        .copied()
        .unwrap_or(local_start.date());
    let start = time::to_utc(first_date.and_time(local_start.time()), zone);
    let id = seed_event(
        st,
        user,
        EventSeed::new(&subject, start, start + duration).zone(&zone_name),
    );
    if let Some(ev) = st.mailbox(user).events.get_mut(&id) {
        ev.recurrence = Some(recurrence);
        ev.recurrence_json = Some(recurrence_json);
    }
    id
}

pub(crate) fn occurrence_ids(
    st: &State,
    user: &str,
    master: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<String> {
    let Some(ev) = st.mailboxes.get(user).and_then(|mb| mb.events.get(master)) else {
        return Vec::new();
    };
    instances(ev)
        .into_iter()
        .filter(|i| overlaps(i, start, end))
        .map(|i| i.id)
        .collect()
}

fn user_req(body: &Value) -> Req {
    Req {
        method: "PATCH".into(),
        segs: Vec::new(),
        query: Vec::new(),
        headers: Vec::new(),
        body: serde_json::to_vec(body).unwrap_or_default(),
        in_batch: false,
    }
}

pub(crate) fn user_patch_event(st: &mut State, user: &str, id: &str, fields: &Value) -> bool {
    event_patch(st, &user_req(fields), user, id, false).status == 200
}

pub(crate) fn user_delete_event(st: &mut State, user: &str, id: &str) -> bool {
    remove_event(st, user, id).is_some()
}

pub(crate) fn inspect_event(st: &State, user: &str, id: &str) -> Option<Value> {
    let inst = find_instance(st, user, id)?;
    let mut v = render_event(
        &inst,
        &Render {
            zone: Zone::Utc,
            label: "UTC",
            sparse: false,
            ext: None,
            select: None,
            body_text: true,
        },
    );
    let props: Vec<Value> = inst
        .ev
        .ext
        .iter()
        .map(|(i, val)| json!({"id": i, "value": val}))
        .collect();
    v["singleValueExtendedProperties"] = json!(props);
    Some(v)
}

pub(crate) fn inspect_events(st: &State, user: &str) -> Vec<Value> {
    let Some(mb) = st.mailboxes.get(user) else {
        return Vec::new();
    };
    mb.events
        .keys()
        .filter_map(|id| inspect_event(st, user, id))
        .collect()
}

pub(crate) fn seed_folder(st: &mut State, user: &str, name: &str) -> String {
    let id = st.outlook_id(b'F');
    let mb = st.mailbox(user);
    let parent = mb.root_folder.clone();
    mb.folders.push(Folder {
        id: id.clone(),
        display_name: name.to_owned(),
        parent,
    });
    id
}

pub(crate) fn seed_contact(st: &mut State, user: &str, folder: &str, fields: Value) -> String {
    let body = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let ext = parse_ext_props(body.get("singleValueExtendedProperties")).unwrap_or_default();
    insert_contact(st, user, folder, &body, ext)
}

pub(crate) fn user_patch_contact(st: &mut State, user: &str, id: &str, fields: &Value) -> bool {
    let body = fields.as_object().cloned().unwrap_or_default();
    patch_contact(st, user, id, &body, Vec::new())
}

pub(crate) fn user_delete_contact(st: &mut State, user: &str, id: &str) -> bool {
    remove_contact(st, user, id)
}

pub(crate) fn inspect_contacts(st: &State, user: &str, folder: &str) -> Vec<Value> {
    let Some(mb) = st.mailboxes.get(user) else {
        return Vec::new();
    };
    mb.contacts
        .values()
        .filter(|c| c.folder == folder)
        .map(render_contact)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_property_filters_parse() {
        let (id, value) = parse_ext_filter(
            "singleValueExtendedProperties/Any(ep: ep/id eq 'String {x} Name RaynetId' and ep/value eq 'it''s')",
        )
        .expect("parses");
        assert_eq!(id, "String {x} Name RaynetId");
        assert_eq!(value, "it's");
        assert!(parse_ext_filter("subject eq 'x'").is_none());
        assert!(
            parse_ext_filter("žžžžžžžžžžžžžžžžžžžžžžžžžžžžžžžž").is_none(),
            "no panic on multibyte input"
        );
        assert_eq!(
            parse_ext_expand(
                "singleValueExtendedProperties($filter=id eq 'String {x} Name RaynetId')"
            )
            .as_deref(),
            Some("String {x} Name RaynetId")
        );
        assert!(parse_ext_expand("ééééééééééééééééééééééééééééééé").is_none());
        assert!(prop_id_matches(
            "String {ABC} Name RaynetId",
            "string {abc} Name RaynetId"
        ));
        assert!(!prop_id_matches(
            "String {abc} Name RaynetId",
            "String {abc} Name raynetid"
        ));
    }
}
