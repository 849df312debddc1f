//! `/subscriptions`: create (with the validation handshake), list, get, renew, delete and
//! reauthorize change-notification subscriptions on `/users/{id}/events`,
//! `/users/{id}/contacts` and `/users/{id}/contactFolders/{id}/contacts`.
//!
//! Creation checks the body, refuses (400) a notification or lifecycle URL whose host is not
//! loopback (the fake never sends elsewhere; real Graph requires `https`, the fake accepts
//! `http` on loopback only), validates each URL with the handshake (400
//! `ValidationError` when it fails, as Graph does), caps the lifetime (`subs`) and starts
//! the subscription's delivery worker. Expired subscriptions are gone (404, and not listed).
//! The listing is one page of every live subscription (the fake has one app), each as `GET`
//! renders it but without `clientState`, which Graph leaves out of listings.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::changes::snapshot;
use super::dispatch::mailbox_gate;
use super::request::{Answer, Req, Resp};
use crate::fake::push::{handshake, spawn_worker};
use crate::fake::state::{State, lock};
use crate::fake::subs::{FakeSubscription, Terms, Watched, is_loopback_url};
use crate::fake::time;

/// The fake's state, as the server shares it.
type Shared = Arc<Mutex<State>>;

/// Handles a `/subscriptions` request (`endpoint`: `subscriptions.create`, `.list`, `.get`,
/// `.update`, `.delete`, `.reauthorize`).
pub(super) async fn handle(shared: &Shared, req: &Req, endpoint: &str) -> Resp {
    let id = req.segs.get(1).cloned().unwrap_or_default();
    let answer = match endpoint {
        "subscriptions.create" => create(shared, req).await,
        "subscriptions.list" => Ok(list(&mut lock(shared))),
        "subscriptions.get" => with_live(shared, &id, |st, id| Ok(render(st, id, 200))),
        "subscriptions.update" => with_live(shared, &id, |st, id| renew(st, req, id)),
        "subscriptions.delete" => with_live(shared, &id, |st, id| {
            st.push.remove(id);
            Ok(Resp::empty(204))
        }),
        "subscriptions.reauthorize" => with_live(shared, &id, |st, id| {
            *st.push.reauthorizations.entry(id.to_owned()).or_default() += 1;
            Ok(Resp::empty(204))
        }),
        _ => Err(bad_request("Resource not found for the segment.")),
    };
    answer.unwrap_or_else(|r| r)
}

fn bad_request(message: &str) -> Resp {
    Resp::error(400, "InvalidRequest", message)
}

/// Runs `f` on a subscription that exists and has not expired; else 404.
fn with_live(shared: &Shared, id: &str, f: impl FnOnce(&mut State, &str) -> Answer) -> Answer {
    let mut st = lock(shared);
    st.push.drop_expired();
    if !st.push.subs.contains_key(id) {
        return Err(Resp::error(
            404,
            "ResourceNotFound",
            &format!("The object was not found: subscription {id}."),
        ));
    }
    f(&mut st, id)
}

fn render(st: &State, id: &str, status: u16) -> Resp {
    let Some(s) = st.push.subs.get(id) else {
        return Resp::error(404, "ResourceNotFound", "The object was not found.");
    };
    let mut body = subscription_json(st, s);
    body["@odata.context"] = json!(format!("{}/$metadata#subscriptions/$entity", st.base_url));
    Resp::json(status, body)
}

/// `GET /subscriptions`: every live subscription, without `clientState` (as Graph lists them).
fn list(st: &mut State) -> Resp {
    st.push.drop_expired();
    let value: Vec<Value> = st
        .push
        .subs
        .values()
        .map(|s| {
            let mut v = subscription_json(st, s);
            v["clientState"] = Value::Null;
            v
        })
        .collect();
    Resp::json(
        200,
        json!({
            "@odata.context": format!("{}/$metadata#subscriptions", st.base_url),
            "value": value,
        }),
    )
}

/// A subscription as Graph renders it (without `@odata.context`).
fn subscription_json(st: &State, s: &FakeSubscription) -> Value {
    json!({
        "id": s.id,
        "resource": s.terms.resource,
        "applicationId": st.client_id,
        "changeType": s.terms.change_types.join(","),
        "clientState": s.terms.client_state,
        "notificationUrl": s.terms.notification_url,
        "lifecycleNotificationUrl": s.terms.lifecycle_url,
        "expirationDateTime": time::fmt_utc(s.terms.expires),
        "creatorId": st.client_id,
        "includeResourceData": false,
        "latestSupportedTlsVersion": "v1_2",
        "encryptionCertificate": null,
        "encryptionCertificateId": null,
        "notificationUrlAppId": null,
    })
}

fn expiration(body: &Map<String, Value>) -> Result<DateTime<Utc>, Resp> {
    body.get("expirationDateTime")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| bad_request("expirationDateTime is missing or not a date-time."))
}

fn renew(st: &mut State, req: &Req, id: &str) -> Answer {
    let body = req.json_body()?;
    let requested = expiration(&body)?;
    let granted = st
        .push
        .grant(requested)
        .ok_or_else(|| bad_request("Subscription expiration must be in the future."))?;
    if let Some(s) = st.push.subs.get_mut(id) {
        s.terms.expires = granted;
    }
    Ok(render(st, id, 200))
}

/// The mailbox and watched items of a `resource` (a leading `/` is optional; ids may be
/// percent-encoded).
fn watched(st: &mut State, resource: &str) -> Result<(String, Watched), Resp> {
    // Ids may hold `/` (and `//`): the folder id is what lies between its neighbours.
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let parsed = resource
        .trim_start_matches('/')
        .split_once('/')
        .filter(|(users, _)| users.eq_ignore_ascii_case("users"))
        .and_then(|(_, rest)| rest.split_once('/'))
        .and_then(|(user, rest)| {
            let watched = match rest {
                "events" => Watched::Events,
                "contacts" => Watched::Contacts(None),
                _ => {
                    let folder = rest
                        .strip_prefix("contactFolders/")?
                        .strip_suffix("/contacts")?;
                    Watched::Contacts(Some(decode(folder)))
                }
            };
            Some((decode(user), watched))
        });
    let Some((user, watched)) = parsed else {
        return Err(bad_request(&format!(
            "Resource '{resource}' is not supported for change notifications here."
        )));
    };
    let user = mailbox_gate(st, &user)?;
    if let Watched::Contacts(Some(folder)) = &watched {
        if !st.mailbox(&user).folders.iter().any(|f| &f.id == folder) {
            return Err(Resp::error(
                404,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            ));
        }
    }
    Ok((user, watched))
}

/// The terms a create asks for, checked.
fn check_create(st: &mut State, req: &Req) -> Result<Terms, Resp> {
    let body = req.json_body()?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let change_types: Vec<String> = text("changeType")
        .unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    if change_types.is_empty()
        || change_types
            .iter()
            .any(|t| !matches!(t.as_str(), "created" | "updated" | "deleted"))
    {
        return Err(bad_request(
            "changeType must be created, updated and/or deleted.",
        ));
    }
    let notification_url =
        text("notificationUrl").ok_or_else(|| bad_request("notificationUrl is required."))?;
    let lifecycle_url = text("lifecycleNotificationUrl");
    for url in std::iter::once(&notification_url).chain(lifecycle_url.as_ref()) {
        if !is_loopback_url(url) {
            return Err(bad_request(
                "The fake Graph delivers only to loopback hosts (127.0.0.0/8, ::1, localhost).",
            ));
        }
    }
    let client_state = text("clientState");
    if client_state
        .as_ref()
        .is_some_and(|s| s.chars().count() > 128)
    {
        return Err(bad_request("clientState holds at most 128 characters."));
    }
    let resource = text("resource").ok_or_else(|| bad_request("resource is required."))?;
    let (user, watched) = watched(st, &resource)?;
    let expires = st
        .push
        .grant(expiration(&body)?)
        .ok_or_else(|| bad_request("Subscription expiration must be in the future."))?;
    let immutable = req
        .prefer()
        .id_type
        .is_some_and(|v| v.eq_ignore_ascii_case("ImmutableId"));
    Ok(Terms {
        change_types,
        notification_url,
        lifecycle_url,
        client_state,
        resource,
        user,
        watched,
        expires,
        immutable,
    })
}

async fn create(shared: &Shared, req: &Req) -> Answer {
    let (terms, id) = {
        let mut st = lock(shared);
        let terms = check_create(&mut st, req)?;
        (terms, st.guid())
    };
    for url in std::iter::once(&terms.notification_url).chain(terms.lifecycle_url.as_ref()) {
        let token = format!(
            "Validation: Testing client application reachability for subscription Request-Id: {id}"
        );
        if let Err(why) = handshake(url, &token).await {
            return Err(Resp::error(
                400,
                "ValidationError",
                &format!(
                    "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. ({why})"
                ),
            ));
        }
    }
    let mut st = lock(shared);
    let (outbox, worker) = spawn_worker(Arc::clone(shared));
    st.push.workers.push(worker.clone());
    let known = snapshot(&st, &terms.user, &terms.watched);
    st.push.subs.insert(
        id.clone(),
        FakeSubscription {
            id: id.clone(),
            terms,
            known,
            outbox,
            worker,
        },
    );
    Ok(render(&st, &id, 201))
}
