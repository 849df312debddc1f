//! The entry point: the axum router, reading an HTTP request, admitting it, dispatching it and
//! writing the answer.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};

use super::admit::{Flight, admit, classify, record};
use super::auth::{check_auth, token_endpoint};
use super::batch::batch;
use super::changes::collect_changes;
use super::dispatch::process;
use super::request::{Req, Resp, path_segments};
use super::roles::check_role;
use super::subscriptions;
use crate::fake::records::RequestRecord;
use crate::fake::state::State;

pub(super) type Shared = Arc<Mutex<State>>;

pub(crate) fn router(state: Shared) -> Router {
    Router::new().fallback(handle).with_state(state)
}

pub(super) fn lock(state: &Shared) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(super) async fn handle(
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
                query_names: Vec::new(),
            });
            resp
        };
        return into_response(&resp, false);
    };
    let segs = path_segments(rest);
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
        if let Err(resp) = check_auth(&st, &req).and_then(|()| check_role(&req, endpoint)) {
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
    if endpoint.starts_with("subscriptions.") {
        // Creation awaits the validation handshake: handled without holding the state.
        let mut resp = subscriptions::handle(&shared, &req, endpoint).await;
        if let Some(status) = admitted.lost {
            resp = Resp::error(
                status,
                "gatewayTimeout",
                "Injected fault after the request took effect.",
            );
        }
        record(&mut lock(&shared), &req, endpoint, None, resp.status);
        return into_response(&resp, admitted.truncate);
    }
    let resp = {
        let mut st = lock(&shared);
        // A `$batch` runs its sub-requests through `process` itself.
        let mut resp = if endpoint == "batch" {
            batch(&mut st, &req)
        } else {
            process(&mut st, &req, endpoint)
        };
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
        collect_changes(&mut st);
        resp
    };
    into_response(&resp, admitted.truncate)
}

pub(super) fn into_response(resp: &Resp, truncate: bool) -> Response {
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
