//! The fake's HTTP side: one axum fallback handler that counts a request
//! under its endpoint template, admits it (throttling, authentication, the
//! quota, injected faults) and routes it to its resource.
//!
//! | File | Holds |
//! |---|---|
//! | `mod.rs` | the router: count, admit, route, answer |
//! | `route.rs` | [`Route`]: what a path names, and its endpoint template |
//! | `faults.rs` | throttling and faults: admission, what an injected fault does |
//! | `respond.rs` | answers: status, JSON body, `X-Ratelimit-*` headers |
//! | `records.rs` | the record endpoints every resource shares (list, detail, create, update, delete) |
//! | `activities.rs` | `/meeting/`, `/event/` |
//! | `persons.rs` | `/person/` |
//! | `companies.rs` | `/company/` |
//! | `user_accounts.rs` | `/userAccount/` (read-only) |
//! | `ext_ids.rs` | `/{e}/ext/{extId}/`, `/{e}/{id}/extId/` |
//! | `webhooks.rs` | `/webhook/`, `/webhook/{uuid}/`, `/webhook/technicalContact/` |
//! | `changes.rs` | the webhook events of a write made through the API |

mod activities;
mod changes;
mod companies;
mod ext_ids;
mod faults;
mod persons;
mod records;
mod respond;
mod route;
mod user_accounts;
mod webhooks;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::response::Response;
use chrono::{DateTime, Utc};

use self::records::{Call, Resource, Target};
use self::respond::{InFlight, rate_headers, reject};
use self::route::Route;
use crate::fake::state::{Entity, Instance, Outcome, Reject, Shared};

/// The fake's router: every request goes to one handler.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut resp = handle_request(&shared, method, uri, headers, body).await;
    // The fake's clock (which `advance_clock` moves), not the host's.
    let now = shared.world().now();
    if let Ok(v) = HeaderValue::from_str(&now.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        resp.headers_mut().insert(header::DATE, v);
    }
    resp
}

async fn handle_request(
    shared: &Arc<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(n, Ordering::SeqCst);
    let _guard = InFlight(&shared.in_flight);
    let route = Route::parse(uri.path());
    let template = route.template(&method, uri.path());
    let latency = {
        let mut w = shared.world();
        *w.counts.entry(template.clone()).or_insert(0) += 1;
        w.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let admitted = match faults::admit(shared, n, &headers, &template) {
        Ok(a) => a,
        Err(resp) => return *resp,
    };
    let aftermath = match faults::before(shared, &admitted.instance, admitted.fault).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let mut queued = 0;
    let outcome = {
        let mut w = shared.world();
        let now = w.now();
        match w.instances.get_mut(&admitted.instance) {
            Some(inst) => {
                let deleted_ext_ids = changes::before(inst, &method, &route);
                let outcome = process(inst, &method, &route, &params, &body, &admitted.user, now);
                if let Ok((_, answer)) = &outcome {
                    let user = &admitted.user;
                    let answer = answer.as_ref();
                    queued =
                        changes::after(inst, &method, &route, answer, deleted_ext_ids, user, now);
                }
                outcome
            }
            None => Err(Reject::new(
                401,
                "AuthenticationException",
                "Unknown instance",
            )),
        }
    };
    if queued > 0 {
        shared.push_wake.notify_one();
    }
    let rate = rate_headers(shared, &admitted.instance);
    if aftermath.cut {
        return faults::interrupted(rate);
    }
    match outcome {
        Err(r) => reject(&r, rate),
        Ok((status, value)) => faults::answer(&aftermath, status, value.as_ref(), rate),
    }
}

/// Routes a request to its resource.
fn process(
    inst: &mut Instance,
    method: &Method,
    route: &Route,
    params: &[(String, String)],
    body: &[u8],
    user: &str,
    now: DateTime<Utc>,
) -> Outcome {
    let call = Call {
        method,
        params,
        body,
        user,
        now,
        iso: params
            .iter()
            .any(|(k, v)| k == "dateFormat" && v == "ISO8601"),
    };
    match route {
        Route::List(e) => records::serve(inst, &call, *e, &Target::List, resource(*e)),
        Route::One(e, id) => records::serve(inst, &call, *e, &Target::One(id), resource(*e)),
        Route::Ext(..) | Route::ExtIds(..) | Route::ExtIdOne(..) => {
            ext_ids::serve(inst, &call, route)
        }
        Route::Webhooks | Route::Webhook(_) | Route::TechnicalContacts => {
            webhooks::serve(inst, &call, route)
        }
        Route::Unknown => Err(Reject::new(404, "NotFound", "No such route")),
    }
}

/// The record endpoints of an entity's resource.
fn resource(e: Entity) -> &'static Resource {
    match e {
        Entity::Meeting | Entity::Event => &activities::ACTIVITIES,
        Entity::Person => &persons::PERSONS,
        Entity::Company => &companies::COMPANIES,
        Entity::UserAccount => &user_accounts::USER_ACCOUNTS,
    }
}
