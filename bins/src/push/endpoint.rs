//! The HTTP endpoint of `serve` (behind the reverse proxy that holds TLS):
//!
//! | route | answers |
//! |---|---|
//! | `POST /graph/{tenant}/notifications`, `.../lifecycle` | the validation handshake (`?validationToken=`: `200 text/plain`, the decoded token); else the notifications: `202` once each was checked and kept; `400` for a body that is not a notification collection; `503` when the state file cannot keep them (Graph retries) |
//! | `POST /raynet/{tenant}/webhook` | `401` without the right `X-RAYNETCRM-Token`; `400` for a body that is not an event; `200` once it was checked and kept; `503` as above |
//! | `GET /healthz` | `200` while the process runs |
//! | `GET /readyz` | `200` once every tenant ran its first round and set push up, the store answers, both services were reached and no subscription has expired; else `503` saying what is not (see `crate::observe::admin::readiness`) |
//! | `GET /`, `GET /metrics` | only with an `[admin] token`: the status page and the metrics, `401` without the token |
//!
//! A notification with a wrong `clientState` or for a subscription not kept here changes
//! nothing and is answered `202` like the others (Graph's contract: answer 2xx, check
//! `clientState`, discard what does not match); an unknown tenant is `404`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use graph_client::client::models::ChangeNotificationCollection;
use raynet_client::models::{WEBHOOK_TOKEN_HEADER, WebhookEvent};

use super::tenant::TenantPush;

/// The tenants the endpoint serves, by name.
#[derive(Clone, Debug, Default)]
pub struct Tenants(pub BTreeMap<String, Arc<TenantPush>>);

/// The endpoint's routes for `tenants`.
pub fn router(tenants: Tenants) -> Router {
    Router::new()
        .route("/graph/{tenant}/notifications", post(graph))
        .route("/graph/{tenant}/lifecycle", post(graph))
        .route("/raynet/{tenant}/webhook", post(raynet))
        .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
        .route("/readyz", get(ready))
        .with_state(Arc::new(tenants))
}

fn plain(status: StatusCode, text: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.into(),
    )
        .into_response()
}

async fn ready(State(tenants): State<Arc<Tenants>>) -> Response {
    let all: Vec<Arc<TenantPush>> = tenants.0.values().cloned().collect();
    let Some(first) = all.first() else {
        return plain(StatusCode::OK, "ready (no tenant)\n");
    };
    match crate::observe::admin::readiness(&**first.store(), &all).await {
        Ok(()) => plain(StatusCode::OK, "ready\n"),
        Err(why) => plain(StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
    }
}

async fn graph(
    State(tenants): State<Arc<Tenants>>,
    Path(tenant): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Response {
    let Some(tenant) = tenants.0.get(&tenant) else {
        return plain(StatusCode::NOT_FOUND, "no such tenant\n");
    };
    // The handshake: the token, URL-decoded (the query extractor decodes it), as plain text.
    if let Some(token) = query.get("validationToken") {
        return plain(StatusCode::OK, token.clone());
    }
    // Notification by notification: one that cannot be read is set aside (the safety-net
    // poll covers whatever it may have said), the others are kept.
    let collection = match ChangeNotificationCollection::parse_by_item(&body) {
        Ok((c, failed)) => {
            for f in &failed {
                tracing::warn!(tenant = %tenant.name(), field = %f.path(), error = %f.error, "a Graph notification could not be read; the others are kept");
            }
            if c.value.is_empty() && !failed.is_empty() {
                return plain(
                    StatusCode::BAD_REQUEST,
                    format!("no notification could be read: {}\n", failed[0].error),
                );
            }
            c
        }
        Err(e) => {
            tracing::warn!(tenant = %tenant.name(), error = %e, "a Graph notification body could not be read");
            return plain(StatusCode::BAD_REQUEST, format!("{e}\n"));
        }
    };
    for n in &collection.value {
        match tenant.on_graph(n).await {
            Ok(outcome) => tracing::debug!(tenant = %tenant.name(), ?outcome, "Graph notification"),
            Err(e) => {
                tracing::error!(tenant = %tenant.name(), error = %e, "a Graph notification could not be kept: Graph retries");
                return plain(StatusCode::SERVICE_UNAVAILABLE, "cannot keep it now\n");
            }
        }
    }
    StatusCode::ACCEPTED.into_response()
}

async fn raynet(
    State(tenants): State<Arc<Tenants>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(tenant) = tenants.0.get(&tenant) else {
        return plain(StatusCode::NOT_FOUND, "no such tenant\n");
    };
    let token = headers
        .get(WEBHOOK_TOKEN_HEADER)
        .and_then(|v| v.to_str().ok());
    if !token.is_some_and(|t| tenant.webhook_token_is(t)) {
        super::tenant::PushStats::bump(&tenant.stats.rejected);
        tracing::warn!(tenant = %tenant.name(), "a Raynet webhook without the right token was refused");
        return plain(
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-RAYNETCRM-Token\n",
        );
    }
    let event = match WebhookEvent::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(tenant = %tenant.name(), error = %e, "a Raynet webhook body could not be read");
            return plain(StatusCode::BAD_REQUEST, format!("{e}\n"));
        }
    };
    match tenant.on_raynet(&event).await {
        Ok(outcome) => {
            tracing::debug!(tenant = %tenant.name(), ?outcome, "Raynet webhook");
            plain(StatusCode::OK, "ok\n")
        }
        Err(e) => {
            tracing::error!(tenant = %tenant.name(), error = %e, "a Raynet webhook could not be kept: Raynet retries");
            plain(StatusCode::SERVICE_UNAVAILABLE, "cannot keep it now\n")
        }
    }
}
