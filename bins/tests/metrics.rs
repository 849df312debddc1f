//! `/metrics` against both fakes: scraped over HTTP after real rounds, parsed with a strict
//! OpenMetrics text parser, and checked against what happened — the writes and conflicts the
//! rounds reported, the requests the fakes counted, freshness growing while idle and dropping
//! after a round, `serve`'s notifications, coalescing, lag and push health — with no secret in
//! the output and a `401` without the token. Each test has a tenant name of its own: the
//! metrics are the process's, shared by every test running beside it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use openmetrics_parser::{MetricsExposition, OpenMetricsType, OpenMetricsValue};
use raynet_sync::demo::{API_KEY_VAR, CLIENT_SECRET_VAR, INSTANCE, Sandbox};
use raynet_sync::observe::admin::Admin;
use raynet_sync::observe::requests::tenant_span;
use raynet_sync::push::Service;
use raynet_sync::store::{ServiceStore, SqliteStore};
use raynet_sync::wiring::{RoundOptions, TenantClients, TenantReport, sync_tenant};
use serde_json::json;
use sync_secret::Secret;
use tracing::Instrument as _;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::util::TempDir;

/// The admin token of these tests.
const TOKEN: &str = "metrics-test-admin-token-5d1c";

/// One scrape, parsed.
struct Scrape {
    text: String,
    parsed: MetricsExposition<OpenMetricsType, OpenMetricsValue>,
}

impl Scrape {
    fn parse(text: String) -> Self {
        let parsed = openmetrics_parser::openmetrics::parse_openmetrics(&text)
            .unwrap_or_else(|e| panic!("/metrics is not valid OpenMetrics text: {e}\n{text}"));
        Self { text, parsed }
    }

    /// Every sample of `family` as (labels, value): a counter's or gauge's value, a
    /// histogram's count.
    fn samples(&self, family: &str) -> Vec<(HashMap<String, String>, f64)> {
        let Some(f) = self.parsed.families.get(family) else {
            return Vec::new();
        };
        f.iter_samples()
            .map(|s| {
                let labels = s
                    .get_labelset()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let value = match &s.value {
                    OpenMetricsValue::Counter(c) => c.value.as_f64(),
                    OpenMetricsValue::Gauge(g) | OpenMetricsValue::Unknown(g) => g.as_f64(),
                    OpenMetricsValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                    other => panic!("{family}: unexpected sample {other:?}"),
                };
                (labels, value)
            })
            .collect()
    }

    /// The sum of `family`'s samples whose labels include `want` (counts: whole numbers).
    fn count(&self, family: &str, want: &[(&str, &str)]) -> u64 {
        let sum: f64 = self
            .samples(family)
            .into_iter()
            .filter(|(labels, _)| {
                want.iter()
                    .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, v)| v)
            .sum();
        assert!(
            sum >= 0.0 && sum.fract() == 0.0,
            "{family}: {sum} is not a count"
        );
        sum as u64
    }

    /// `family`'s samples whose labels include `want`, by the value of `key`.
    fn by(&self, family: &str, want: &[(&str, &str)], key: &str) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (labels, v) in self.samples(family) {
            if want
                .iter()
                .all(|(k, w)| labels.get(*k).map(String::as_str) == Some(*w))
            {
                *out.entry(labels.get(key).cloned().unwrap_or_default())
                    .or_insert(0.0) += v;
            }
        }
        out
    }

    /// Nothing secret, and nothing personal but the members' addresses on the freshness gauge;
    /// every endpoint label templated.
    fn assert_nothing_secret(&self, secrets: &[&str]) {
        for secret in secrets {
            assert!(
                !self.text.contains(secret),
                "a secret is in /metrics:\n{}",
                self.text
            );
        }
        assert!(
            !self.text.contains("eyJ0eXAi"),
            "a Graph access token is in /metrics"
        );
        for line in self.text.lines().filter(|l| !l.starts_with('#')) {
            if line.contains('@') {
                assert!(
                    line.starts_with("raynet_sync_freshness_seconds{"),
                    "an address outside the freshness gauge: {line}"
                );
            }
        }
        for family in ["raynet_sync_requests", "raynet_sync_request_attempts"] {
            for (labels, _) in self.samples(family) {
                let endpoint = &labels["endpoint"];
                let rest = endpoint
                    .replace("{id}", "")
                    .replace("{tenant}", "")
                    .replace("v1.0", "")
                    .replace("oauth2/v2.0", "");
                assert!(
                    !rest.contains(|c: char| c.is_ascii_digit() || c == '@'),
                    "an endpoint label with an id: {endpoint}"
                );
            }
        }
    }
}

/// Counts the API requests of this process from now on: the metrics layer as the global
/// subscriber, with no log output (as `init_tracing` installs it, less the log; the binary's
/// own is tested through `run --watch`). Global rather than per thread: tracing caches which
/// callsites are wanted across every subscriber alive, and thread-local ones coming and going
/// in parallel tests can leave a callsite unwanted for a moment.
fn count_requests() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another global subscriber already installed would count nothing: fail loudly.
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(raynet_sync::observe::requests::layer()),
        )
        .expect("no other global subscriber in the test binary");
    });
}

/// Serves the admin router for `admin` on a loopback port of its own; its base URL.
async fn serve_admin(admin: Admin) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(raynet_sync::observe::admin::serve(
        listener,
        Arc::new(admin),
        std::future::pending(),
    ));
    base
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// `GET {base}/metrics` with `token`: the status, the content type and the body.
async fn get_metrics(base: &str, token: Option<&str>) -> (u16, String, String) {
    let mut req = http().get(format!("{base}/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, kind, resp.text().await.unwrap())
}

/// A scrape with the token (asserted to answer 200 in the OpenMetrics content type).
async fn scrape(base: &str) -> Scrape {
    let (status, kind, text) = get_metrics(base, Some(TOKEN)).await;
    assert_eq!(status, 200, "{text}");
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    Scrape::parse(text)
}

/// The fake Raynet's request counts by endpoint, ids written `{id}` as in the metrics.
fn raynet_counts(sandbox: &Sandbox) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (endpoint, n) in sandbox.raynet.request_counts() {
        let templated = endpoint
            .replace("{extId}", "{id}")
            .replace("{uuid}", "{id}");
        *out.entry(templated).or_insert(0) += n;
    }
    out
}

/// The HTTP requests the fake Graph answered (a `$batch` is one), by its endpoint name.
fn graph_counts(sandbox: &Sandbox) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for r in sandbox.graph.requests().into_iter().filter(|r| !r.in_batch) {
        *out.entry(r.endpoint).or_insert(0) += 1;
    }
    out
}

/// `after - before`, per key, leaving out what did not move.
fn delta(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The metric's per-endpoint counts as whole numbers, leaving out zeros.
fn whole(counts: &BTreeMap<String, f64>) -> BTreeMap<String, u64> {
    counts
        .iter()
        .filter(|(_, v)| **v > 0.0)
        .map(|(k, v)| (k.clone(), *v as u64))
        .collect()
}

/// Every write a report did, by (side, kind).
fn writes_of(reports: &[&TenantReport]) -> BTreeMap<(String, String), u64> {
    let mut out = BTreeMap::new();
    for report in reports {
        for r in &report.reports {
            for (kind, c) in [
                ("create", r.created),
                ("update", r.updated),
                ("delete", r.deleted),
            ] {
                for (side, n) in [("raynet", c.raynet), ("outlook", c.outlook)] {
                    *out.entry((side.to_owned(), kind.to_owned())).or_insert(0) += n as u64;
                }
            }
        }
    }
    out
}

fn assert_writes(s: &Scrape, tenant: &str, reports: &[&TenantReport]) {
    for ((side, kind), n) in writes_of(reports) {
        assert_eq!(
            s.count(
                "raynet_sync_writes",
                &[("tenant", tenant), ("side", &side), ("kind", &kind)]
            ),
            n,
            "{side} {kind} writes"
        );
    }
}

/// The freshness of each of `tenant`'s member collections, by `member/collection`.
fn freshness(s: &Scrape, tenant: &str) -> BTreeMap<String, f64> {
    s.samples("raynet_sync_freshness_seconds")
        .into_iter()
        .filter(|(l, _)| l["tenant"] == tenant)
        .map(|(l, v)| (format!("{}/{}", l["member"], l["collection"]), v))
        .collect()
}

/// Waits until every notification was delivered and handled.
async fn settle(sandbox: &Sandbox) {
    let wait = Duration::from_secs(30);
    let quiet = move || async move {
        sandbox.graph.pending_deliveries() == 0 && sandbox.raynet.webhook_queue_len() == 0
    };
    assert!(eventually(wait, quiet).await);
    // Coalescing (500 ms) and the round it leads to.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(eventually(wait, quiet).await);
}

/// Whether a Raynet meeting or event titled `title` has `field` = `want`.
fn raynet_has(sandbox: &Sandbox, title: &str, field: &str, want: &str) -> bool {
    let inst = sandbox.raynet.instance(INSTANCE);
    ["meeting", "event"].into_iter().any(|e| {
        inst.ids(e)
            .into_iter()
            .filter_map(|id| inst.record(e, id))
            .any(|r| r["title"] == title && r[field] == want)
    })
}

/// Polls `cond` every 50 ms until it holds or `timeout` passes; whether it held.
async fn eventually<F, Fut>(timeout: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + timeout;
    loop {
        if cond().await {
            return true;
        }
        if tokio::time::Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Rounds as `run` runs them (the tenant span, then `after_round`), against the sandbox, with
/// the requests counted by the metrics layer.
#[tokio::test]
async fn rounds_writes_conflicts_requests_and_freshness_add_up() {
    count_requests();
    let name = "metrics-rounds";
    let dir = TempDir::new("metrics-rounds");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let state = dir.path().join("state.db");
    let mut tenant = sandbox.tenant(&state, "conflict = \"outlook\"\n").unwrap();
    tenant.name = name.to_owned();
    let store: Arc<dyn ServiceStore> = Arc::new(SqliteStore::open(&state).unwrap());
    let clients = TenantClients::new(&tenant).unwrap();
    let base = serve_admin(Admin {
        store: store.clone(),
        tenants: Vec::new(),
        tenant_names: vec![name.to_owned()],
        token: Some(Secret::new(TOKEN)),
    })
    .await;
    let (clients_ref, store_ref, tenant_ref) = (&clients, &store, &tenant);
    let round = move || async move {
        let report = sync_tenant(
            clients_ref,
            &**store_ref,
            &tenant_ref.sync.policy,
            RoundOptions::default(),
            Utc::now(),
        )
        .instrument(tenant_span(name))
        .await
        .unwrap();
        raynet_sync::observe::after_round(&**store_ref, name, &report, 30).await;
        report
    };
    let (raynet_before, graph_before) = (raynet_counts(&sandbox), graph_counts(&sandbox));

    // Without the token: 401, and nothing of the metrics.
    let (status, _, text) = get_metrics(&base, None).await;
    assert_eq!(status, 401);
    assert!(!text.contains("raynet_sync_"), "{text}");
    let (status, _, _) = get_metrics(&base, Some("not-the-token")).await;
    assert_eq!(status, 401);

    // The first round: its writes, its outcome, every member collection fresh.
    let r1 = round().await;
    assert!(r1.is_clean(), "{:?}", r1.member_failures);
    let s1 = scrape(&base).await;
    assert!(
        writes_of(&[&r1]).values().sum::<u64>() > 0,
        "the first round wrote"
    );
    assert_writes(&s1, name, &[&r1]);
    assert_eq!(
        s1.count(
            "raynet_sync_rounds",
            &[("tenant", name), ("outcome", "clean")]
        ),
        1
    );
    assert_eq!(
        s1.count("raynet_sync_member_rounds", &[("tenant", name)]),
        r1.reports.len() as u64
    );
    assert_eq!(s1.count("raynet_sync_conflicts", &[("tenant", name)]), 0);
    let fresh1 = freshness(&s1, name);
    let scopes: Vec<String> = r1
        .reports
        .iter()
        .map(|r| format!("{}/{}", r.scope.member, r.scope.collection))
        .collect();
    assert_eq!(
        fresh1.keys().cloned().collect::<Vec<_>>(),
        {
            let mut s = scopes.clone();
            s.sort();
            s
        },
        "one freshness gauge per member collection"
    );
    assert!(fresh1.values().all(|v| *v >= 0.0), "{fresh1:?}");

    // Requests: what the metrics counted per endpoint is what the fakes received.
    let raynet_spent = delta(&raynet_counts(&sandbox), &raynet_before);
    let counted = whole(&s1.by(
        "raynet_sync_request_attempts",
        &[("tenant", name), ("api", "raynet")],
        "endpoint",
    ));
    assert!(!raynet_spent.is_empty());
    assert_eq!(counted, raynet_spent, "Raynet requests per endpoint");
    assert_eq!(
        s1.count(
            "raynet_sync_requests",
            &[("tenant", name), ("api", "raynet"), ("status", "2xx")]
        ),
        raynet_spent.values().sum::<u64>(),
        "every Raynet request answered 2xx at the first attempt"
    );
    let graph_spent = delta(&graph_counts(&sandbox), &graph_before);
    let graph_counted = s1.by(
        "raynet_sync_request_attempts",
        &[("tenant", name), ("api", "graph")],
        "endpoint",
    );
    assert_eq!(
        graph_counted.values().sum::<f64>() as u64,
        graph_spent.values().sum::<u64>(),
        "Graph HTTP requests: counted {graph_counted:?}, received {graph_spent:?}"
    );
    for (ours, theirs) in [
        ("POST /$batch", "batch"),
        ("POST /{tenant}/oauth2/v2.0/token", "token"),
    ] {
        assert_eq!(
            graph_counted.get(ours).copied().unwrap_or(0.0) as u64,
            graph_spent.get(theirs).copied().unwrap_or(0),
            "{ours}: counted {graph_counted:?}, received {graph_spent:?}"
        );
    }
    assert!(
        s1.count("raynet_sync_raynet_quota_remaining", &[("tenant", name)]) > 0,
        "Raynet's quota as its last answer said"
    );

    // Idle: every member collection grows staler; a round makes each fresh again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let s2 = scrape(&base).await;
    let fresh2 = freshness(&s2, name);
    for (scope, before) in &fresh1 {
        assert!(
            fresh2[scope] >= before + 1.0,
            "{scope}: {before} then {}",
            fresh2[scope]
        );
    }
    let r2 = round().await;
    assert!(r2.is_clean());
    let s3 = scrape(&base).await;
    let fresh3 = freshness(&s3, name);
    for (scope, idle) in &fresh2 {
        assert!(
            fresh3[scope] < *idle,
            "{scope}: {idle} before the round, {} after",
            fresh3[scope]
        );
    }

    // Throttled: Graph answers a `$batch` 429 with Retry-After, Raynet 429 (too many
    // connections); the round waits each out, and the metrics count each answer and the time
    // waited.
    sandbox
        .graph
        .inject(graph_client::fake::Fault::throttle("0.3").on("batch"));
    sandbox.raynet.inject(
        raynet_client::fake::Fault::new(raynet_client::fake::FaultKind::TooManyRequests)
            .on("GET /meeting/"),
    );
    let throttled = round().await;
    assert!(throttled.is_clean(), "{:?}", throttled.member_failures);
    let st = scrape(&base).await;
    for api in ["graph", "raynet"] {
        let labels = [("tenant", name), ("api", api), ("reason", "rate")];
        assert_eq!(st.count("raynet_sync_throttled", &labels), 1, "{api}");
        let waited: f64 = st
            .samples("raynet_sync_throttle_wait_seconds")
            .into_iter()
            .filter(|(l, _)| l["tenant"] == name && l["api"] == api)
            .map(|(_, v)| v)
            .sum();
        assert!(waited > 0.0, "{api} waited {waited}");
        if api == "graph" {
            assert!(
                waited >= 0.3,
                "Graph's Retry-After was waited out: {waited}"
            );
        }
    }

    // A conflict: both sides edit one meeting's title.
    let d = sandbox.data.clone();
    let outlook_id = sandbox
        .graph
        .events(&d.jana)
        .iter()
        .find(|e| e["subject"] == "Obchodní jednání – Acme")
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .unwrap();
    sandbox
        .raynet
        .instance(INSTANCE)
        .edit(
            "meeting",
            d.meetings[0],
            &json!({"title": "Title from Raynet"}),
        )
        .unwrap();
    sandbox.graph.edit_event(
        &d.jana,
        &outlook_id,
        &json!({"subject": "Title from Outlook"}),
    );
    let r3 = round().await;
    let conflicts: usize = r3.reports.iter().map(|r| r.conflicts.len()).sum();
    assert!(conflicts >= 1, "the round decided the conflict");
    let s4 = scrape(&base).await;
    assert_eq!(
        s4.count("raynet_sync_conflicts", &[("tenant", name)]),
        conflicts as u64
    );
    assert_writes(&s4, name, &[&r1, &r2, &throttled, &r3]);
    assert_eq!(
        s4.count(
            "raynet_sync_rounds",
            &[("tenant", name), ("outcome", "clean")]
        ),
        [&r1, &r2, &throttled, &r3]
            .iter()
            .filter(|r| r.is_clean())
            .count() as u64
    );
    let raynet_spent = delta(&raynet_counts(&sandbox), &raynet_before);
    let counted = whole(&s4.by(
        "raynet_sync_request_attempts",
        &[("tenant", name), ("api", "raynet")],
        "endpoint",
    ));
    assert_eq!(counted, raynet_spent, "Raynet requests per endpoint");

    s4.assert_nothing_secret(&[
        raynet_client::fake::DEFAULT_API_KEY,
        graph_client::fake::FakeGraph::CLIENT_SECRET,
        TOKEN,
    ]);
}

/// `serve` in-process on a thread of its own (its requests counted by the metrics layer),
/// with the admin router beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_counts_notifications_coalescing_lag_and_push_health() {
    count_requests();
    let name = "metrics-serve";
    let dir = TempDir::new("metrics-serve");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let raynet_before = raynet_counts(&sandbox);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = dir.path().join("state.db");
    let text = format!(
        "{}{}",
        sandbox.config_toml(&state, ""),
        Sandbox::serve_section(port)
    );
    let env = |var: &str| match var {
        API_KEY_VAR => Ok(raynet_client::fake::DEFAULT_API_KEY.to_owned()),
        CLIENT_SECRET_VAR => Ok(graph_client::fake::FakeGraph::CLIENT_SECRET.to_owned()),
        _ => Err(std::env::VarError::NotPresent),
    };
    let mut config =
        raynet_sync::config::Config::from_toml(&text, &dir.path().join("c.toml"), &env).unwrap();
    config.tenants[0].name = name.to_owned();
    let sqlite = Arc::new(SqliteStore::open(&state).unwrap());
    let store: Arc<dyn ServiceStore> = sqlite.clone();
    let service = Service::new(&config, None, &store).await.unwrap();
    let push = service.tenant(name).unwrap();
    let base = serve_admin(Admin {
        store: store.clone(),
        tenants: service.tenants(),
        tenant_names: vec![name.to_owned()],
        token: Some(Secret::new(TOKEN)),
    })
    .await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            service
                .run(listener, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    let wait = Duration::from_secs(30);
    assert!(
        eventually(wait, || async { push.is_ready() }).await,
        "serve never became ready"
    );
    settle(&sandbox).await;

    // A burst of Outlook edits to one event: one member collection, few rounds.
    let d = sandbox.data.clone();
    for i in 0..5 {
        sandbox.graph.edit_event(
            &d.jana,
            &d.customer_call,
            &json!({"location": {"displayName": format!("Room {i}")}}),
        );
    }
    let inst = sandbox.raynet.instance(INSTANCE);
    let sb = &sandbox;
    assert!(
        eventually(wait, move || async move {
            raynet_has(sb, "Customer call – Brno", "meetingPlace", "Room 4")
        })
        .await,
        "the last Outlook edit crossed"
    );
    // A Raynet edit.
    inst.edit(
        "meeting",
        d.meetings[0],
        &json!({"meetingPlace": "Zasedačka 7"}),
    )
    .unwrap();
    assert!(
        eventually(wait, || async {
            sb.graph
                .events(&d.jana)
                .iter()
                .any(|e| e["location"]["displayName"] == "Zasedačka 7")
        })
        .await,
        "the Raynet edit crossed"
    );
    settle(&sandbox).await;
    // A forged notification: refused.
    let forged = serde_json::to_vec(&json!({"value": [{
        "subscriptionId": "not-ours",
        "clientState": "forged",
        "changeType": "updated",
        "resource": "Users/x/Events/y",
    }]}))
    .unwrap();
    let answered = http()
        .post(format!(
            "http://127.0.0.1:{port}/graph/{name}/notifications"
        ))
        .body(forged)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert!(answered < 500, "{answered}");

    // The requests settle into what the fakes received (a request still in flight when the
    // fakes counted it is counted by the metrics when it ends).
    let last = std::cell::RefCell::new(String::new());
    let (base_ref, before_ref, last_ref) = (&base, &raynet_before, &last);
    let matched = eventually(wait, move || async move {
        let s = scrape(base_ref).await;
        let counted = whole(&s.by(
            "raynet_sync_request_attempts",
            &[("tenant", name), ("api", "raynet")],
            "endpoint",
        ));
        let spent = delta(&raynet_counts(sb), before_ref);
        *last_ref.borrow_mut() = format!("counted {counted:?}\nreceived {spent:?}");
        counted == spent
    })
    .await;
    assert!(matched, "Raynet requests per endpoint:\n{}", last.borrow());

    let s = scrape(&base).await;
    let stat = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::SeqCst);
    let t = [("tenant", name)];
    assert_eq!(
        s.count("raynet_sync_notifications_received", &t),
        stat(&push.stats.received)
    );
    assert!(s.count("raynet_sync_notifications_received", &t) >= 6);
    assert_eq!(
        s.count("raynet_sync_notifications_echo", &t),
        stat(&push.stats.echoes)
    );
    assert!(
        s.count("raynet_sync_notifications_echo", &t) > 0,
        "the writes' echoes"
    );
    assert_eq!(
        s.count("raynet_sync_notifications_ignored", &t),
        stat(&push.stats.ignored)
    );
    assert_eq!(
        s.count("raynet_sync_notifications_rejected", &t),
        stat(&push.stats.rejected)
    );
    assert!(s.count("raynet_sync_notifications_rejected", &t) >= 1);
    assert_eq!(
        s.count("raynet_sync_notifications_coalesced", &t),
        stat(&push.stats.coalesced)
    );
    assert!(
        s.count("raynet_sync_notifications_coalesced", &t) >= 1,
        "five edits in a burst did not get five rounds"
    );
    let notified = s.count(
        "raynet_sync_push_rounds",
        &[("tenant", name), ("trigger", "notified")],
    );
    assert_eq!(notified, stat(&push.stats.notified_rounds));
    assert!(notified >= 2, "a round for each side's change");
    assert!(
        s.count("raynet_sync_push_lag_seconds", &t) >= 2,
        "the lag of each change that was written"
    );
    assert!(
        s.count(
            "raynet_sync_writes",
            &[("tenant", name), ("side", "raynet"), ("kind", "update")]
        ) >= 1
    );
    assert!(
        s.count(
            "raynet_sync_writes",
            &[("tenant", name), ("side", "outlook"), ("kind", "update")]
        ) >= 1
    );
    let kept = push.view().subscriptions.len() as u64;
    assert!(kept > 0);
    assert_eq!(
        s.count(
            "raynet_sync_subscriptions",
            &[("tenant", name), ("state", "live")]
        ),
        kept
    );
    assert_eq!(
        s.count(
            "raynet_sync_subscriptions",
            &[("tenant", name), ("state", "expired")]
        ),
        0
    );
    assert_eq!(s.count("raynet_sync_webhook_up", &t), 1);
    assert_eq!(s.count("raynet_sync_tenant_ready", &t), 1);
    assert_eq!(
        s.count("raynet_sync_members_served", &t),
        push.view().members.len() as u64
    );
    assert!(!freshness(&s, name).is_empty());
    let client_state = sqlite.push_secret(name, "client_state").unwrap();
    let webhook_token = sqlite.push_secret(name, "webhook_token").unwrap();
    s.assert_nothing_secret(&[
        raynet_client::fake::DEFAULT_API_KEY,
        graph_client::fake::FakeGraph::CLIENT_SECRET,
        TOKEN,
        client_state.expose(),
        webhook_token.expose(),
    ]);

    let _ = stop.send(());
    thread.join().unwrap();
}

/// The real binary: `run --watch` with `[admin] bind` serves `/metrics`, and counts its
/// requests (the layer `init_tracing` installs).
#[tokio::test]
async fn run_watch_serves_metrics_on_the_admin_bind() {
    use std::io::BufRead as _;
    let dir = TempDir::new("metrics-watch");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let state = dir.path().join("state.db");
    let config = dir.write(
        "c.toml",
        &format!(
            "{}\n[admin]\nbind = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n",
            sandbox.config_toml(&state, "")
        ),
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_raynet-sync"))
        .arg("--config")
        .arg(&config)
        .args(["run", "--watch"])
        .env_remove("RUST_LOG")
        .env(API_KEY_VAR, raynet_client::fake::DEFAULT_API_KEY)
        .env(
            CLIENT_SECRET_VAR,
            graph_client::fake::FakeGraph::CLIENT_SECRET,
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The address it listens on, from its log; the rest of the log is drained.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("/metrics and health") {
                if let Some(addr) = line.split("bind=").nth(1) {
                    let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_owned());
                }
            }
        }
    });
    let addr = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("run --watch said where it serves /metrics");
    let base = format!("http://{addr}");

    let (status, _, _) = get_metrics(&base, None).await;
    assert_eq!(status, 401, "without the token");
    let base_ref = &base;
    let ran = eventually(Duration::from_secs(60), move || async move {
        scrape(base_ref)
            .await
            .count("raynet_sync_rounds", &[("tenant", "demo")])
            >= 1
    })
    .await;
    assert!(ran, "the first round was counted");
    let s = scrape(&base).await;
    let counted = whole(&s.by(
        "raynet_sync_request_attempts",
        &[("tenant", "demo"), ("api", "raynet")],
        "endpoint",
    ));
    let received = raynet_counts(&sandbox);
    assert!(!counted.is_empty(), "the binary counted its requests");
    for (endpoint, n) in &counted {
        assert!(
            received.get(endpoint).is_some_and(|r| r >= n),
            "{endpoint}: counted {n}, the fake received {:?}",
            received.get(endpoint)
        );
    }
    assert!(!freshness(&s, "demo").is_empty());
    s.assert_nothing_secret(&[
        raynet_client::fake::DEFAULT_API_KEY,
        graph_client::fake::FakeGraph::CLIENT_SECRET,
        TOKEN,
    ]);
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
}
