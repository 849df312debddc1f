//! The process's Prometheus metrics, scraped at `/metrics` in the OpenMetrics text format.
//!
//! Built on `prometheus-client` (the Prometheus project's own Rust client): one [`Registry`]
//! per process ([`global`]) holds what happens as it happens — rounds and their outcome, writes,
//! conflicts, skipped items ([`Metrics::observe_round`]), requests and throttling (counted by
//! [`super::requests`] from the API clients' spans), Raynet's quota and the push lag
//! ([`Metrics::observe_lag`]). What is true *now* is read at scrape time
//! ([`Metrics::scrape`]): each member's freshness from the state store (so that every worker
//! sharing a database tells the same truth) and the push figures of the tenants `serve` runs.
//!
//! Every name starts with `raynet_sync_`. Labels stay few: the tenant, a side, a kind, a rule,
//! an API and an endpoint template (ids replaced by `{id}`), a status class — and the member
//! and collection only on the freshness gauge, where they serve a decision. Never an item,
//! never a secret: the member's address is the only personal datum.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use sync_core::tenant::TenantReport;
use sync_core::{Collection, Side};

use crate::push::TenantPush;
use crate::store::ServiceStore;

/// The lag histogram's buckets, in seconds: from a notification's receipt to its write.
const LAG_BUCKETS: [f64; 12] = [
    0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// The request duration histogram's buckets, in seconds (retries and waits included).
const REQUEST_BUCKETS: [f64; 12] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// A subscription expiring within this long counts as `expiring`.
const EXPIRING_WITHIN: chrono::Duration = chrono::Duration::days(1);

/// `{tenant}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabel {
    tenant: String,
}

/// `{tenant, outcome}` of a tenant round.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoundLabels {
    tenant: String,
    outcome: &'static str,
}

/// `{tenant, collection, outcome}` of one member's round of one collection.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MemberRoundLabels {
    tenant: String,
    collection: &'static str,
    outcome: &'static str,
}

/// `{tenant, side, kind}` of a write.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WriteLabels {
    tenant: String,
    side: &'static str,
    kind: &'static str,
}

/// `{tenant, rule}` of a skipped item.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SkipLabels {
    tenant: String,
    rule: &'static str,
}

/// `{tenant, api, endpoint, status}` of a finished request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    tenant: String,
    api: &'static str,
    endpoint: String,
    status: &'static str,
}

/// `{tenant, api, endpoint}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    tenant: String,
    api: &'static str,
    endpoint: String,
}

/// `{tenant, api}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    tenant: String,
    api: &'static str,
}

/// `{tenant, api, reason}` of a throttled answer or a wait for Raynet's quota.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ThrottleLabels {
    tenant: String,
    api: &'static str,
    reason: &'static str,
}

/// `{tenant, member, collection}`: only on the freshness gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MemberLabels {
    tenant: String,
    member: String,
    collection: String,
}

/// `{tenant, trigger}` of a `serve` round.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TriggerLabels {
    tenant: String,
    trigger: &'static str,
}

/// `{tenant, state}` of the Graph subscriptions.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubscriptionLabels {
    tenant: String,
    state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;
type FloatCounter = Counter<f64, AtomicU64>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// One finished API request, as [`super::requests`] saw its span close.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestDone {
    /// The tenant whose work sent it (empty outside a tenant's work: `check`, `init`).
    pub tenant: String,
    /// `raynet` or `graph`.
    pub api: &'static str,
    /// The method and the path template (`GET /meeting/{id}/`).
    pub endpoint: String,
    /// The final HTTP status, if an answer came.
    pub status: Option<u16>,
    /// HTTP attempts it took (retries included).
    pub attempts: u64,
    /// How long it took, retries and waits included, in seconds.
    pub seconds: f64,
    /// Raynet's `X-Ratelimit-Remaining` and `X-Ratelimit-Limit`, when the answer had them.
    pub quota: (Option<u64>, Option<u64>),
}

/// The metrics of this process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    rounds: Family<RoundLabels, Counter>,
    member_rounds: Family<MemberRoundLabels, Counter>,
    writes: Family<WriteLabels, Counter>,
    conflicts: Family<TenantLabel, Counter>,
    skipped: Family<SkipLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    attempts: Family<EndpointLabels, Counter>,
    request_seconds: Histograms<ApiLabels>,
    throttled: Family<ThrottleLabels, Counter>,
    throttle_wait: Family<ThrottleLabels, FloatCounter>,
    quota_remaining: Family<TenantLabel, Gauge>,
    quota_limit: Family<TenantLabel, Gauge>,
    lag: Histograms<TenantLabel>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut m = Self {
            registry: Registry::with_prefix("raynet_sync"),
            rounds: Family::default(),
            member_rounds: Family::default(),
            writes: Family::default(),
            conflicts: Family::default(),
            skipped: Family::default(),
            requests: Family::default(),
            attempts: Family::default(),
            request_seconds: Family::new_with_constructor(|| {
                Histogram::new(REQUEST_BUCKETS.iter().copied())
            }),
            throttled: Family::default(),
            throttle_wait: Family::default(),
            quota_remaining: Family::default(),
            quota_limit: Family::default(),
            lag: Family::new_with_constructor(|| Histogram::new(LAG_BUCKETS.iter().copied())),
        };
        let r = &mut m.registry;
        r.register(
            "rounds",
            "Tenant rounds by outcome: clean, failed (a member or a collection failed) or error \
             (the round could not start)",
            m.rounds.clone(),
        );
        r.register(
            "member_rounds",
            "Member rounds of one collection by outcome: clean, failed, or stopped (a guard: \
             mass deletion or mass time shift)",
            m.member_rounds.clone(),
        );
        r.register(
            "writes",
            "Items written, by side (raynet, outlook) and kind (create, update, delete)",
            m.writes.clone(),
        );
        r.register("conflicts", "Conflicts decided", m.conflicts.clone());
        r.register(
            "skipped",
            "Items left alone on purpose, by rule",
            m.skipped.clone(),
        );
        r.register(
            "requests",
            "API requests by API, endpoint template and final status class (2xx, 4xx, 5xx; \
             error: no answer)",
            m.requests.clone(),
        );
        r.register(
            "request_attempts",
            "HTTP attempts of the API requests (retries included), by endpoint template",
            m.attempts.clone(),
        );
        // Histograms carry their unit in the name only (no `# UNIT` line: some parsers
        // refuse one on a histogram).
        r.register(
            "request_duration_seconds",
            "How long an API request took, retries and waits included",
            m.request_seconds.clone(),
        );
        r.register(
            "throttled",
            "Throttled answers waited out (reason rate: 429/503 or Retry-After; quota: \
             Raynet's daily quota spent)",
            m.throttled.clone(),
        );
        r.register_with_unit(
            "throttle_wait",
            "Time spent waiting out throttled answers",
            Unit::Seconds,
            m.throttle_wait.clone(),
        );
        r.register(
            "raynet_quota_remaining",
            "Requests left in Raynet's daily quota, as its last answer said",
            m.quota_remaining.clone(),
        );
        r.register(
            "raynet_quota_limit",
            "Raynet's daily request quota, as its last answer said",
            m.quota_limit.clone(),
        );
        r.register(
            "push_lag_seconds",
            "From a change notification's receipt to the end of the round that wrote the \
             change (serve; only rounds that wrote)",
            m.lag.clone(),
        );
        m
    }
}

/// The process's metrics (one registry per process).
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

/// The label of a side.
fn side_label(side: Side) -> &'static str {
    match side {
        Side::Raynet => "raynet",
        Side::Outlook => "outlook",
    }
}

/// The label of a collection.
fn collection_label(collection: Collection) -> &'static str {
    match collection {
        Collection::Calendar => "calendar",
        Collection::Contacts => "contacts",
    }
}

/// The rule behind a skipped item's reason (the engine's words), from a small fixed set.
#[must_use]
pub fn skip_rule(reason: &str) -> &'static str {
    let has = |s: &str| reason.contains(s);
    if reason.starts_with("cannot be read") {
        "unreadable"
    } else if reason.starts_with("cannot be synced") {
        "invalid"
    } else if reason.starts_with("dropped ") {
        "field_dropped"
    } else if reason.starts_with("deferred") {
        "deferred"
    } else if reason.starts_with("cancelled") {
        "cancelled"
    } else if has("private_events") {
        "private"
    } else if has("invited_events") {
        "invited"
    } else if has("already synced from another member") || has("synced from their calendar") {
        "other_member"
    } else if has("sync mark") {
        "foreign_mark"
    } else {
        "other"
    }
}

/// The status class of a final HTTP status (`error`: no answer came).
fn status_class(status: Option<u16>) -> &'static str {
    match status {
        Some(100..=199) => "1xx",
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "other",
        None => "error",
    }
}

impl Metrics {
    /// Counts what a finished round of `tenant` did.
    pub fn observe_round(&self, tenant: &str, report: &TenantReport) {
        let tenant = tenant.to_owned();
        let outcome = if report.is_clean() { "clean" } else { "failed" };
        self.rounds
            .get_or_create(&RoundLabels {
                tenant: tenant.clone(),
                outcome,
            })
            .inc();
        for r in &report.reports {
            let outcome = if r.guard.is_some() {
                "stopped"
            } else if r.is_clean() {
                "clean"
            } else {
                "failed"
            };
            self.member_rounds
                .get_or_create(&MemberRoundLabels {
                    tenant: tenant.clone(),
                    collection: collection_label(r.scope.collection),
                    outcome,
                })
                .inc();
            for (kind, counts) in [
                ("create", r.created),
                ("update", r.updated),
                ("delete", r.deleted),
            ] {
                for side in [Side::Raynet, Side::Outlook] {
                    let n = counts.get(side) as u64;
                    if n > 0 {
                        self.writes
                            .get_or_create(&WriteLabels {
                                tenant: tenant.clone(),
                                side: side_label(side),
                                kind,
                            })
                            .inc_by(n);
                    }
                }
            }
            if !r.conflicts.is_empty() {
                self.conflicts
                    .get_or_create(&TenantLabel {
                        tenant: tenant.clone(),
                    })
                    .inc_by(r.conflicts.len() as u64);
            }
            for s in &r.skipped {
                self.skipped
                    .get_or_create(&SkipLabels {
                        tenant: tenant.clone(),
                        rule: skip_rule(&s.reason),
                    })
                    .inc();
            }
        }
        // Every tenant seen has its series, zero until something happens.
        let _ = self.conflicts.get_or_create(&TenantLabel { tenant });
    }

    /// The registry, for the unit tests.
    #[cfg(test)]
    pub(crate) fn registry_for_tests(&self) -> &Registry {
        &self.registry
    }

    /// Counts a round of `tenant` that could not start.
    pub fn observe_round_error(&self, tenant: &str) {
        self.rounds
            .get_or_create(&RoundLabels {
                tenant: tenant.to_owned(),
                outcome: "error",
            })
            .inc();
    }

    /// Counts a finished API request (and keeps the quota its answer reported).
    pub fn observe_request(&self, done: RequestDone) {
        let RequestDone {
            tenant,
            api,
            endpoint,
            status,
            attempts,
            seconds,
            quota,
        } = done;
        self.requests
            .get_or_create(&RequestLabels {
                tenant: tenant.clone(),
                api,
                endpoint: endpoint.clone(),
                status: status_class(status),
            })
            .inc();
        self.attempts
            .get_or_create(&EndpointLabels {
                tenant: tenant.clone(),
                api,
                endpoint,
            })
            .inc_by(attempts);
        self.request_seconds
            .get_or_create(&ApiLabels {
                tenant: tenant.clone(),
                api,
            })
            .observe(seconds);
        if tenant.is_empty() {
            return;
        }
        let label = TenantLabel { tenant };
        if let Some(remaining) = quota.0 {
            self.quota_remaining
                .get_or_create(&label)
                .set(i64::try_from(remaining).unwrap_or(i64::MAX));
        }
        if let Some(limit) = quota.1 {
            self.quota_limit
                .get_or_create(&label)
                .set(i64::try_from(limit).unwrap_or(i64::MAX));
        }
    }

    /// Counts a throttled answer (or a wait for Raynet's quota) of `api` and the `seconds`
    /// waited for it.
    pub fn observe_throttle(&self, tenant: &str, api: &'static str, quota: bool, seconds: f64) {
        let labels = ThrottleLabels {
            tenant: tenant.to_owned(),
            api,
            reason: if quota { "quota" } else { "rate" },
        };
        self.throttled.get_or_create(&labels).inc();
        self.throttle_wait.get_or_create(&labels).inc_by(seconds);
    }

    /// Records the lag of one notification of `tenant`: `seconds` from its receipt to the end
    /// of the round that wrote its change.
    pub fn observe_lag(&self, tenant: &str, seconds: f64) {
        self.lag
            .get_or_create(&TenantLabel {
                tenant: tenant.to_owned(),
            })
            .observe(seconds.max(0.0));
    }

    /// The metrics in the OpenMetrics text format: what was counted, with the figures of now
    /// read at scrape time — each member's freshness of `tenants` from `store`, and the push
    /// figures of the tenants `serve` runs here (`pushes`; none under `run --watch`).
    pub async fn scrape(
        &self,
        store: &dyn ServiceStore,
        tenants: &[String],
        pushes: &[Arc<TenantPush>],
    ) -> String {
        let now = Utc::now();
        let mut freshness = Vec::new();
        let mut store_up = true;
        for tenant in tenants {
            match store.last_clean_rounds(tenant).await {
                Ok(rounds) => freshness.extend(rounds.into_iter().map(|(scope, at)| {
                    (
                        MemberLabels {
                            tenant: scope.tenant.clone(),
                            member: scope.member.clone(),
                            collection: collection_label(scope.collection).to_owned(),
                        },
                        at,
                    )
                })),
                Err(e) => {
                    store_up = false;
                    tracing::warn!(tenant = %tenant, error = %e, "metrics: cannot read the freshness from the state store");
                }
            }
        }
        let now_figures = scrape_registry(now, &freshness, store_up, pushes);
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode_registry(&mut out, &self.registry);
        let _ = encode_registry(&mut out, &now_figures);
        let _ = encode_eof(&mut out);
        out
    }
}

/// A counter's value now.
fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// The figures of now, in a registry of their own made for one scrape.
fn scrape_registry(
    now: DateTime<Utc>,
    freshness: &[(MemberLabels, DateTime<Utc>)],
    store_up: bool,
    pushes: &[Arc<TenantPush>],
) -> Registry {
    let mut r = Registry::with_prefix("raynet_sync");
    let fresh = Family::<MemberLabels, FloatGauge>::default();
    for (labels, at) in freshness {
        let age = (now - *at).num_milliseconds().max(0) as f64 / 1000.0;
        fresh.get_or_create(labels).set(age);
    }
    r.register_with_unit(
        "freshness",
        "Seconds since the last clean round of each member's collection (from the state \
         store: the same on every worker sharing it)",
        Unit::Seconds,
        fresh,
    );
    let up = Gauge::<i64>::default();
    up.set(i64::from(store_up));
    r.register(
        "store_up",
        "Whether the state store answered this scrape's reads (1) or not (0)",
        up,
    );
    if pushes.is_empty() {
        return r;
    }
    let counters = |name: &str, help: &str, read: fn(&crate::push::PushStats) -> &AtomicU64| {
        let family = Family::<TenantLabel, Counter>::default();
        for p in pushes {
            family
                .get_or_create(&TenantLabel {
                    tenant: p.name().to_owned(),
                })
                .inc_by(load(read(&p.stats)));
        }
        (name.to_owned(), help.to_owned(), family)
    };
    for (name, help, family) in [
        counters(
            "notifications_received",
            "Change notifications and webhook events received (after the token check)",
            |s| &s.received,
        ),
        counters(
            "notifications_echo",
            "Of those received, the echoes of the sync's own writes (nothing read)",
            |s| &s.echoes,
        ),
        counters(
            "notifications_ignored",
            "Of those received, about nothing the sync keeps (or a change already read)",
            |s| &s.ignored,
        ),
        counters(
            "notifications_rejected",
            "Notifications refused: a wrong clientState or token, or a subscription not kept",
            |s| &s.rejected,
        ),
        counters(
            "notifications_coalesced",
            "Notifications that did not get a round of their own (coalesced into another's)",
            |s| &s.coalesced,
        ),
    ] {
        r.register(name, help, family);
    }
    let rounds = Family::<TriggerLabels, Counter>::default();
    let subscriptions = Family::<SubscriptionLabels, Gauge>::default();
    let webhook = Family::<TenantLabel, Gauge>::default();
    let ready = Family::<TenantLabel, Gauge>::default();
    let members = Family::<TenantLabel, Gauge>::default();
    for p in pushes {
        let tenant = p.name().to_owned();
        let view = p.view();
        for (trigger, n) in [
            ("notified", load(&p.stats.notified_rounds)),
            ("poll", load(&p.stats.poll_rounds)),
        ] {
            rounds
                .get_or_create(&TriggerLabels {
                    tenant: tenant.clone(),
                    trigger,
                })
                .inc_by(n);
        }
        let (mut live, mut expiring, mut expired) = (0i64, 0i64, 0i64);
        for sub in &view.subscriptions {
            if sub.expires <= now {
                expired += 1;
            } else if sub.expires <= now + EXPIRING_WITHIN {
                expiring += 1;
            } else {
                live += 1;
            }
        }
        let by_state = [("live", live), ("expiring", expiring), ("expired", expired)];
        for (state, n) in by_state {
            subscriptions
                .get_or_create(&SubscriptionLabels {
                    tenant: tenant.clone(),
                    state,
                })
                .set(n);
        }
        let label = TenantLabel { tenant };
        webhook
            .get_or_create(&label)
            .set(i64::from(view.webhook_ok));
        ready.get_or_create(&label).set(i64::from(view.ready));
        members
            .get_or_create(&label)
            .set(i64::try_from(view.members.len()).unwrap_or(i64::MAX));
    }
    r.register(
        "push_rounds",
        "serve's rounds by trigger: notified (notifications asked) or poll (the safety net)",
        rounds,
    );
    r.register(
        "subscriptions",
        "Graph subscriptions kept, by state: live, expiring (within a day), expired",
        subscriptions,
    );
    r.register(
        "webhook_up",
        "Whether Raynet's webhook is registered (1) or not (0)",
        webhook,
    );
    r.register(
        "tenant_ready",
        "Whether the tenant's first round ran and push is set up (1) or not (0)",
        ready,
    );
    r.register("members_served", "Members served", members);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_s_skip_reasons_fall_into_their_rules() {
        for (reason, rule) in [
            ("cannot be read: bad JSON at /start", "unreadable"),
            ("cannot be synced: the end is before the start", "invalid"),
            (
                "dropped e-mail address x@y.cz (the side holds at most 3)",
                "field_dropped",
            ),
            (
                "deferred: an earlier create on raynet is not confirmed yet",
                "deferred",
            ),
            ("cancelled in Raynet before it was ever synced", "cancelled"),
            (
                "cancelled in Outlook before it was ever synced",
                "cancelled",
            ),
            ("private event (private_events = \"skip\")", "private"),
            (
                "organised by a@b.cz, not a served member (invited_events = \"skip\")",
                "invited",
            ),
            (
                "the same meeting is already synced from another member's calendar",
                "other_member",
            ),
            (
                "organised by a@b.cz, who is served: synced from their calendar",
                "other_member",
            ),
            (
                "invitation also sent to a@b.cz: synced from their calendar",
                "other_member",
            ),
            (
                "carries the sync mark rs:1 of another item: a copy, or an orphan",
                "foreign_mark",
            ),
            (
                "a second copy carrying the sync mark rs:1: left alone",
                "foreign_mark",
            ),
            ("something new", "other"),
        ] {
            assert_eq!(skip_rule(reason), rule, "{reason}");
        }
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(Some(204)), "2xx");
        assert_eq!(status_class(Some(429)), "4xx");
        assert_eq!(status_class(Some(503)), "5xx");
        assert_eq!(status_class(None), "error");
    }

    #[test]
    fn a_request_is_counted_with_its_quota() {
        let m = Metrics::default();
        m.observe_request(RequestDone {
            tenant: "t".into(),
            api: "raynet",
            endpoint: "GET /meeting/{id}/".into(),
            status: Some(200),
            attempts: 2,
            seconds: 0.1,
            quota: (Some(41), Some(50)),
        });
        m.observe_throttle("t", "graph", false, 1.5);
        let mut out = String::new();
        encode_registry(&mut out, &m.registry).unwrap();
        assert!(
            out.contains(
                "raynet_sync_requests_total{tenant=\"t\",api=\"raynet\",endpoint=\"GET /meeting/{id}/\",status=\"2xx\"} 1"
            ),
            "{out}"
        );
        assert!(out.contains("raynet_sync_request_attempts_total{tenant=\"t\",api=\"raynet\",endpoint=\"GET /meeting/{id}/\"} 2"), "{out}");
        assert!(
            out.contains("raynet_sync_raynet_quota_remaining{tenant=\"t\"} 41"),
            "{out}"
        );
        assert!(out.contains("raynet_sync_throttle_wait_seconds_total{tenant=\"t\",api=\"graph\",reason=\"rate\"} 1.5"), "{out}");
    }
}
