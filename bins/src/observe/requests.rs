//! Counts the API clients' requests for the metrics: a [`tracing_subscriber::Layer`] that reads
//! the spans both clients open around every request — `raynet.request`, `graph.request` and
//! `graph.token` — as they close (endpoint, final status, attempts, duration, Raynet's quota),
//! and their throttling events (the ones with a `wait_ms` field) as they happen.
//!
//! The tenant a request was sent for comes from a [`tenant_span`] around the tenant's work
//! (`run` wraps each tenant round in one, `serve` each tenant's loop). That span is at `trace`
//! level: the log shows it only at `-vv`, while this layer, filtered on its own, always sees it.
//!
//! [`crate::app::init_tracing`] installs the layer, so `run`, `serve` and whatever calls it
//! count requests; a test can install it with its own subscriber ([`layer`]).

use std::time::Instant;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterFn, Filtered, filter_fn};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::metrics::{RequestDone, global};

/// The target of [`tenant_span`].
pub const TENANT_TARGET: &str = "raynet_sync::observe::tenant";

/// The endpoint label of Graph's token requests (the Entra tenant id templated).
const TOKEN_ENDPOINT: &str = "POST /{tenant}/oauth2/v2.0/token";

/// The longest path segment kept as it is in an endpoint label (longer ones are ids).
const MAX_WORD: usize = 40;

/// A span to run `tenant`'s work in: the requests sent inside it are counted for `tenant`.
#[must_use]
pub fn tenant_span(tenant: &str) -> tracing::Span {
    tracing::trace_span!(target: TENANT_TARGET, "tenant", tenant = %tenant)
}

/// [`RequestMetrics`] with the filter that lets it see only what it counts.
pub type FilteredRequestMetrics<S> =
    Filtered<RequestMetrics, FilterFn<fn(&Metadata<'_>) -> bool>, S>;

/// The layer that counts requests, with the filter that lets it see only what it counts.
pub fn layer<S>() -> FilteredRequestMetrics<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    RequestMetrics.with_filter(filter_fn(wanted as fn(&Metadata<'_>) -> bool))
}

/// The API whose request span `name` is.
fn api_of(name: &str) -> Option<&'static str> {
    match name {
        "raynet.request" => Some("raynet"),
        "graph.request" | "graph.token" => Some("graph"),
        _ => None,
    }
}

/// What the layer looks at: the request spans, the tenant spans, the clients' throttling
/// events.
fn wanted(meta: &Metadata<'_>) -> bool {
    let from_a_client =
        meta.target().starts_with("raynet_client") || meta.target().starts_with("graph_client");
    if meta.is_span() {
        meta.target() == TENANT_TARGET || (from_a_client && api_of(meta.name()).is_some())
    } else {
        from_a_client && meta.fields().field("wait_ms").is_some()
    }
}

/// The endpoint label of a request: the method and the path with every id replaced by `{id}`.
/// A segment stays only when it is a word (ASCII letters, or `$` before them: `$batch`) or an
/// API version (`v1.0`); the one after `ext` or `extId` (an external id) is always an id. A GUID, a
/// number, a Graph id or an e-mail address never stays.
#[must_use]
pub fn endpoint_template(method: &str, path: &str) -> String {
    let mut out = Vec::new();
    let mut after_marker = false;
    for segment in path.trim_start_matches('/').split('/') {
        let word = segment.len() <= MAX_WORD
            && !segment.is_empty()
            && segment
                .trim_start_matches('$')
                .bytes()
                .all(|b| b.is_ascii_alphabetic());
        let version = matches!(segment, "v1.0" | "beta");
        out.push(
            if segment.is_empty() || (!after_marker && (word || version)) {
                segment
            } else {
                "{id}"
            },
        );
        after_marker = matches!(segment, "ext" | "extId");
    }
    format!("{method} /{}", out.join("/"))
}

/// The tenant a [`tenant_span`] is for.
struct TenantTag(String);

/// One request span's fields, kept until it closes.
#[derive(Debug)]
struct RequestSpan {
    api: &'static str,
    token: bool,
    tenant: String,
    method: String,
    path: String,
    endpoint: Option<String>,
    status: Option<u16>,
    attempts: u64,
    quota_remaining: Option<u64>,
    quota_limit: Option<u64>,
    started: Instant,
}

impl RequestSpan {
    fn set_u64(&mut self, name: &str, value: u64) {
        match name {
            "status" => self.status = u16::try_from(value).ok(),
            "attempts" => self.attempts = value,
            "quota_remaining" => self.quota_remaining = Some(value),
            "quota_limit" => self.quota_limit = Some(value),
            _ => {}
        }
    }

    fn set_str(&mut self, name: &str, value: &str) {
        match name {
            "method" => value.clone_into(&mut self.method),
            "path" => value.clone_into(&mut self.path),
            "endpoint" => self.endpoint = Some(value.to_owned()),
            _ => {}
        }
    }

    /// The endpoint label: the client's own template when it gave one, else the path's.
    fn endpoint(&self) -> String {
        if self.token {
            return TOKEN_ENDPOINT.to_owned();
        }
        match &self.endpoint {
            Some(e) => e.clone(),
            None => endpoint_template(&self.method, &self.path),
        }
    }
}

impl Visit for RequestSpan {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set_u64(field.name(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Ok(v) = u64::try_from(value) {
            self.set_u64(field.name(), v);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.set_str(field.name(), value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `%value` fields arrive here; their Debug is their Display.
        self.set_str(field.name(), &format!("{value:?}"));
    }
}

/// Reads one string field (the tenant of a tenant span).
struct StrField<'a> {
    name: &'a str,
    value: Option<String>,
}

impl Visit for StrField<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.name {
            self.value = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == self.name {
            self.value = Some(format!("{value:?}"));
        }
    }
}

/// What a throttling event says: how long the client waits, and whether for Raynet's quota.
#[derive(Default)]
struct Throttle {
    wait_ms: Option<u64>,
    quota: bool,
}

impl Visit for Throttle {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "wait_ms" {
            self.wait_ms = Some(value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.record_u64(field, u64::try_from(value).unwrap_or(0));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "reason" && value == "quota" {
            self.quota = true;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "reason" {
            self.quota = format!("{value:?}").trim_matches('"') == "quota";
        }
    }
}

/// The layer: counts the requests into [`super::metrics::global`].
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestMetrics;

impl<S> Layer<S> for RequestMetrics
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let meta = attrs.metadata();
        if meta.target() == TENANT_TARGET {
            let mut tenant = StrField {
                name: "tenant",
                value: None,
            };
            attrs.record(&mut tenant);
            if let Some(t) = tenant.value {
                span.extensions_mut().insert(TenantTag(t));
            }
            return;
        }
        let Some(api) = api_of(meta.name()) else {
            return;
        };
        let tenant = span
            .scope()
            .skip(1)
            .find_map(|s| s.extensions().get::<TenantTag>().map(|t| t.0.clone()))
            .unwrap_or_default();
        let mut request = RequestSpan {
            api,
            token: meta.name() == "graph.token",
            tenant,
            method: String::new(),
            path: String::new(),
            endpoint: None,
            status: None,
            attempts: 1,
            quota_remaining: None,
            quota_limit: None,
            started: Instant::now(),
        };
        attrs.record(&mut request);
        span.extensions_mut().insert(request);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(request) = span.extensions_mut().get_mut::<RequestSpan>() {
                values.record(request);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut throttle = Throttle::default();
        event.record(&mut throttle);
        let Some(wait_ms) = throttle.wait_ms else {
            return;
        };
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let found = span.scope().find_map(|s| {
            s.extensions()
                .get::<RequestSpan>()
                .map(|r| (r.tenant.clone(), r.api))
        });
        if let Some((tenant, api)) = found {
            global().observe_throttle(&tenant, api, throttle.quota, wait_ms as f64 / 1000.0);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(request) = span.extensions_mut().remove::<RequestSpan>() else {
            return;
        };
        global().observe_request(RequestDone {
            endpoint: request.endpoint(),
            tenant: request.tenant,
            api: request.api,
            status: request.status,
            attempts: request.attempts,
            seconds: request.started.elapsed().as_secs_f64(),
            quota: (request.quota_remaining, request.quota_limit),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_addresses_and_numbers_become_id() {
        assert_eq!(
            endpoint_template("GET", "meeting/123/"),
            "GET /meeting/{id}/"
        );
        assert_eq!(endpoint_template("GET", "meeting/"), "GET /meeting/");
        assert_eq!(
            endpoint_template("GET", "person/ext/raynet-sync:abc/"),
            "GET /person/ext/{id}/"
        );
        assert_eq!(
            endpoint_template("GET", "person/ext/abcdef/"),
            "GET /person/ext/{id}/",
            "a word after ext is an id all the same"
        );
        assert_eq!(
            endpoint_template("DELETE", "meeting/7/extId/rs%3Aabc"),
            "DELETE /meeting/{id}/extId/{id}"
        );
        assert_eq!(
            endpoint_template("DELETE", "webhook/0f8fad5b-d9cb-469f-a165-70867728950e/"),
            "DELETE /webhook/{id}/"
        );
        assert_eq!(
            endpoint_template("POST", "webhook/technicalContact/"),
            "POST /webhook/technicalContact/"
        );
        assert_eq!(
            endpoint_template("GET", "/v1.0/users/jana@acme.cz/events/AAMkAGI2TG93AAA="),
            "GET /v1.0/users/{id}/events/{id}"
        );
        assert_eq!(
            endpoint_template("POST", "/v1.0/$batch"),
            "POST /v1.0/$batch"
        );
    }

    #[test]
    fn the_layer_counts_a_request_span_for_its_tenant() {
        use tracing_subscriber::layer::SubscriberExt as _;
        let subscriber = tracing_subscriber::registry().with(layer());
        tracing::subscriber::with_default(subscriber, || {
            let _t = tenant_span("layer-unit-test").entered();
            let span = tracing::info_span!(
                target: "raynet_client::client::transport",
                "raynet.request",
                method = "GET",
                path = "meeting/42/",
                status = tracing::field::Empty,
                attempts = tracing::field::Empty,
                quota_remaining = tracing::field::Empty,
                quota_limit = tracing::field::Empty,
            );
            let _in = span.enter();
            span.record("attempts", 2u32);
            span.record("status", 200u16);
            span.record("quota_remaining", 17u64);
            span.record("quota_limit", 100u64);
            tracing::debug!(target: "raynet_client::client::transport", wait_ms = 1500u64, "429 (connection cap); backing off");
        });
        let m = global();
        let mut out = String::new();
        prometheus_client::encoding::text::encode_registry(&mut out, m.registry_for_tests())
            .unwrap();
        assert!(
            out.contains(
                "raynet_sync_requests_total{tenant=\"layer-unit-test\",api=\"raynet\",endpoint=\"GET /meeting/{id}/\",status=\"2xx\"} 1"
            ),
            "{out}"
        );
        assert!(out.contains("raynet_sync_request_attempts_total{tenant=\"layer-unit-test\",api=\"raynet\",endpoint=\"GET /meeting/{id}/\"} 2"), "{out}");
        assert!(
            out.contains("raynet_sync_raynet_quota_remaining{tenant=\"layer-unit-test\"} 17"),
            "{out}"
        );
        assert!(out.contains("raynet_sync_throttled_total{tenant=\"layer-unit-test\",api=\"raynet\",reason=\"rate\"} 1"), "{out}");
        assert!(out.contains("raynet_sync_throttle_wait_seconds_total{tenant=\"layer-unit-test\",api=\"raynet\",reason=\"rate\"} 1.5"), "{out}");
    }
}
