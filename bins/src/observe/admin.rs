//! The admin endpoint: the status page (`GET /`), the metrics (`GET /metrics`, Prometheus
//! text format), `GET /healthz` (the process lives) and `GET /readyz` (it can reach its store
//! and both services, and its subscriptions are current).
//!
//! `serve` serves it on `[admin] bind` (default `127.0.0.1:8788`: this machine only); with an
//! `[admin] token`, the page and `/metrics` answer `401` without `Authorization: Bearer
//! <token>` (compared in constant time), and are then also served on `serve.bind` beside the
//! notification endpoints, which stay reachable without it. `run --watch` serves it when
//! `[admin] bind` is set.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use sync_secret::Secret;

use super::page::StatusPage;
use crate::push::TenantPush;
use crate::store::ServiceStore;

/// What the admin endpoint shows.
pub struct Admin {
    /// The state store.
    pub store: Arc<dyn ServiceStore>,
    /// The tenants `serve` runs (empty under `run --watch`).
    pub tenants: Vec<Arc<TenantPush>>,
    /// The tenants' names (also under `run --watch`).
    pub tenant_names: Vec<String>,
    /// The bearer token the page and `/metrics` require, if any.
    pub token: Option<Secret>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("store", &self.store.location())
            .field("tenants", &self.tenant_names)
            .field("token", &self.token)
            .finish()
    }
}

/// The whole admin endpoint: page, metrics, health.
pub fn router(admin: Arc<Admin>) -> Router {
    guarded(admin.clone())
        .route("/healthz", get(|| async { plain(StatusCode::OK, "ok\n") }))
        .route("/readyz", get(ready))
        .with_state(admin)
}

/// Only the page and `/metrics` (for `serve.bind`, where a token is required).
pub fn page_and_metrics(admin: Arc<Admin>) -> Router {
    guarded(admin.clone()).with_state(admin)
}

fn guarded(_admin: Arc<Admin>) -> Router<Arc<Admin>> {
    Router::new()
        .route("/", get(page))
        .route("/metrics", get(metrics))
}

fn plain(status: StatusCode, text: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.into(),
    )
        .into_response()
}

/// `None` when the request may see the page; else the `401` to answer.
fn refused(admin: &Admin, headers: &HeaderMap) -> Option<Response> {
    let token = admin.token.as_ref()?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if token.matches(given) {
        return None;
    }
    Some(
        (
            StatusCode::UNAUTHORIZED,
            [
                (header::WWW_AUTHENTICATE, "Bearer"),
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            ],
            "401: this page needs the admin token (Authorization: Bearer ...)\n",
        )
            .into_response(),
    )
}

async fn page(State(admin): State<Arc<Admin>>, headers: HeaderMap) -> Response {
    if let Some(no) = refused(&admin, &headers) {
        return no;
    }
    let views = admin.tenants.iter().map(|t| t.view()).collect();
    let page = StatusPage::build(views, &*admin.store).await;
    match page.render() {
        Ok(html) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the status page did not render");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page did not render\n",
            )
        }
    }
}

async fn metrics(State(admin): State<Arc<Admin>>, headers: HeaderMap) -> Response {
    if let Some(no) = refused(&admin, &headers) {
        return no;
    }
    let text = super::metrics::global()
        .scrape(&*admin.store, &admin.tenant_names, &admin.tenants)
        .await;
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn ready(State(admin): State<Arc<Admin>>) -> Response {
    match readiness(&*admin.store, &admin.tenants).await {
        Ok(()) => plain(StatusCode::OK, "ready\n"),
        Err(why) => plain(StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
    }
}

/// Whether `serve` is ready: every tenant ran its first round and set push up, the store
/// answers, the last membership read reached both services, and no subscription kept has
/// expired. `Err` says what is not.
pub async fn readiness(
    store: &dyn ServiceStore,
    tenants: &[Arc<TenantPush>],
) -> Result<(), String> {
    let mut not = Vec::new();
    for t in tenants {
        let view = t.view();
        if !view.ready {
            not.push(format!("{}: first round under way", view.name));
            continue;
        }
        if !t.services_reachable() {
            not.push(format!(
                "{}: the last membership read did not reach Graph and Raynet",
                view.name
            ));
        }
        let now = Utc::now();
        let expired = view
            .subscriptions
            .iter()
            .filter(|s| s.expires <= now)
            .count();
        if expired > 0 {
            not.push(format!("{}: {expired} subscription(s) expired", view.name));
        }
    }
    if let Err(e) = store.leases().await {
        not.push(format!("the state store does not answer: {e}"));
    }
    if not.is_empty() {
        Ok(())
    } else {
        Err(not.join("; "))
    }
}

/// Serves [`router`] on `listener` until `stop` resolves.
///
/// # Errors
/// When the server fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    admin: Arc<Admin>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(admin))
        .with_graceful_shutdown(stop)
        .await
}
