//! `serve` end to end: the push service against both fakes over loopback, with the sample data
//! of `raynet-sync demo`. Changes cross through notifications alone (no polling round), echoes
//! cost no read, bursts coalesce, bad input changes nothing, and push heals itself.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::Utc;
use graph_client::fake::EventSeed;
use raynet_client::fake::ActivitySeed;
use raynet_sync::config::Config;
use raynet_sync::demo::{API_KEY_VAR, CLIENT_SECRET_VAR, INSTANCE, Sandbox};
use raynet_sync::push::{Service, TenantPush};
use raynet_sync::store::SqliteStore;
use serde_json::{Value, json};

use crate::util::TempDir;

/// `serve` for the sandbox's tenant `demo`, on its own thread and runtime.
struct Served {
    sandbox: Sandbox,
    push: Arc<TenantPush>,
    store: Arc<SqliteStore>,
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    tenant: raynet_sync::config::TenantConfig,
    config: Config,
    _dir: TempDir,
}

type Running = (
    Arc<TenantPush>,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
);

/// `serve` for `config` on `listener`, on its own thread and runtime.
async fn spawn_service(
    config: &Config,
    store: &Arc<SqliteStore>,
    listener: std::net::TcpListener,
) -> Running {
    let store: Arc<dyn raynet_sync::store::ServiceStore> = store.clone();
    let service = Service::new(config, None, &store).await.unwrap();
    let push = service.tenant("demo").unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        // One thread: `SERVE_TEST_LOG=debug` shows serve's log for this test.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let log = std::env::var("SERVE_TEST_LOG").unwrap_or_else(|_| "off".into());
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
                "raynet_sync={log},sync_core={log},graph_client={log}"
            )))
            .with_writer(std::io::stderr)
            .finish();
        let _log = tracing::subscriber::set_default(subscriber);
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
    (push, stop, thread)
}

impl Served {
    /// Starts the sandbox and `serve` (with `serve_keys` added to its `[serve]` table) and
    /// waits until the first round ran and push is set up.
    async fn start(serve_keys: &str) -> Self {
        Self::start_with("", serve_keys).await
    }

    /// Like [`Served::start`], with `sync_keys` in the tenant's `[tenant.sync]` table.
    async fn start_with(sync_keys: &str, serve_keys: &str) -> Self {
        let dir = TempDir::new("serve");
        let sandbox = Sandbox::start(Utc::now()).await.unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = dir.path().join("state.db");
        let text = format!(
            "{}{}{serve_keys}\n",
            sandbox.config_toml(&state, sync_keys),
            Sandbox::serve_section(port)
        );
        let env = |name: &str| match name {
            API_KEY_VAR => Ok(raynet_client::fake::DEFAULT_API_KEY.to_owned()),
            CLIENT_SECRET_VAR => Ok(graph_client::fake::FakeGraph::CLIENT_SECRET.to_owned()),
            _ => Err(std::env::VarError::NotPresent),
        };
        let config = Config::from_toml(&text, &dir.path().join("c.toml"), &env).unwrap();
        let store = Arc::new(SqliteStore::open(&state).unwrap());
        let (push, stop, thread) = spawn_service(&config, &store, listener).await;
        let served = Self {
            sandbox,
            push,
            store,
            base: format!("http://127.0.0.1:{port}"),
            stop: Some(stop),
            thread: Some(thread),
            tenant: config.tenants[0].clone(),
            config,
            _dir: dir,
        };
        assert!(
            wait_until(Duration::from_secs(30), || served.push.is_ready()).await,
            "serve never became ready"
        );
        served.settle().await;
        served
    }

    /// Waits until every notification was delivered and handled.
    async fn settle(&self) {
        let quiet = || {
            self.sandbox.graph.pending_deliveries() == 0
                && self.sandbox.raynet.webhook_queue_len() == 0
        };
        assert!(wait_until(Duration::from_secs(20), quiet).await);
        // Coalescing (500 ms) and the round it leads to.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(wait_until(Duration::from_secs(20), quiet).await);
    }

    fn stat(&self, f: fn(&raynet_sync::push::PushStats) -> &std::sync::atomic::AtomicU64) -> u64 {
        f(&self.push.stats).load(Ordering::SeqCst)
    }

    /// HTTP requests the fakes answered (a Graph `$batch` is one, whatever it holds).
    fn requests(&self) -> u64 {
        self.sandbox.raynet.total_requests() + self.graph_requests().len() as u64
    }

    fn graph_requests(&self) -> Vec<String> {
        self.sandbox
            .graph
            .requests()
            .into_iter()
            .filter(|r| !r.in_batch)
            .map(|r| format!("{} {}", r.method, r.endpoint))
            .collect()
    }

    fn jana_event(&self, subject: &str) -> Option<Value> {
        let d = &self.sandbox.data;
        self.sandbox
            .graph
            .events(&d.jana)
            .into_iter()
            .find(|e| e["subject"] == subject)
    }

    fn raynet_activity(&self, title: &str) -> Option<Value> {
        let inst = self.sandbox.raynet.instance(INSTANCE);
        ["meeting", "event"].into_iter().find_map(|entity| {
            inst.ids(entity)
                .into_iter()
                .filter_map(|id| inst.record(entity, id))
                .find(|r| r["title"] == title)
        })
    }

    /// Posts `body` to `path` of the endpoint with `headers`; the status.
    async fn post(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> u16 {
        let mut req = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("{}{path}", self.base))
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap().status().as_u16()
    }
}

impl Served {
    /// Stops `serve` (it finishes the write under way).
    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Starts `serve` again on the same port and state file; waits until it is ready.
    async fn restart(&mut self) {
        self.stop();
        let port: u16 = self.base.rsplit(':').next().unwrap().parse().unwrap();
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let (push, stop, thread) = spawn_service(&self.config, &self.store, listener).await;
        (self.push, self.stop, self.thread) = (push, Some(stop), Some(thread));
        assert!(
            wait_until(Duration::from_secs(30), || self.push.is_ready()).await,
            "serve never became ready again"
        );
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

fn in_three_days(hour: u32) -> String {
    let day = (Utc::now() + chrono::Duration::days(3)).date_naive();
    format!("{} {hour:02}:00", day.format("%Y-%m-%d"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_crosses_through_serve_without_a_polling_round() {
    let s = Served::start("").await;
    let d = s.sandbox.data.clone();
    let inst = s.sandbox.raynet.instance(INSTANCE);
    let graph = &s.sandbox.graph;
    let polls = s.stat(|p| &p.poll_rounds);
    assert_eq!(polls, 1, "the first round only");
    let wait = Duration::from_secs(10);

    // Raynet edit → Outlook.
    inst.edit(
        "meeting",
        d.meetings[0],
        &json!({"meetingPlace": "Zasedačka 3"}),
    )
    .unwrap();
    assert!(
        wait_until(wait, || s
            .jana_event("Obchodní jednání – Acme")
            .is_some_and(|e| e["location"]["displayName"] == "Zasedačka 3"))
        .await,
        "a Raynet edit crossed"
    );
    // Outlook edit → Raynet.
    graph.edit_event(
        &d.jana,
        &d.customer_call,
        &json!({"location": {"displayName": "Teams"}}),
    );
    assert!(
        wait_until(wait, || s
            .raynet_activity("Customer call – Brno")
            .is_some_and(|r| r["meetingPlace"] == "Teams"))
        .await,
        "an Outlook edit crossed"
    );
    // Outlook create → Raynet.
    let t = Utc::now() + chrono::Duration::days(3);
    graph.add_event(
        &d.jana,
        EventSeed::new("New from Outlook", t, t + chrono::Duration::hours(1)),
    );
    assert!(
        wait_until(wait, || s.raynet_activity("New from Outlook").is_some()).await,
        "an Outlook create crossed"
    );
    // Raynet create → Outlook (a new record: its owner is read once to route it).
    inst.add_meeting(
        ActivitySeed::new("New from Raynet", d.jana_person)
            .scheduled_local(&in_three_days(9), &in_three_days(10)),
    )
    .unwrap();
    assert!(
        wait_until(wait, || s.jana_event("New from Raynet").is_some()).await,
        "a Raynet create crossed"
    );
    // Raynet deletion → Outlook, without the deletion scan: one read confirms it.
    s.settle().await;
    let before = s.sandbox.raynet.request_counts();
    inst.remove("event", d.events[1]).unwrap();
    assert!(
        wait_until(wait, || s.jana_event("Školení CRM").is_none()).await,
        "a Raynet deletion crossed"
    );
    s.settle().await;
    let after = s.sandbox.raynet.request_counts();
    let spent: Vec<(String, u64)> = after
        .iter()
        .map(|(k, n)| (k.clone(), n - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert!(
        spent.iter().map(|(_, n)| n).sum::<u64>() <= 1,
        "the deletion cost {spent:?}"
    );
    // Outlook deletion → cancelled in Raynet (the default rule).
    graph.delete_event(&d.jana, &d.customer_call);
    assert!(
        wait_until(wait, || s
            .raynet_activity("Customer call – Brno")
            .is_some_and(|r| r["status"] == "CANCELLED"))
        .await,
        "an Outlook deletion crossed"
    );
    assert_eq!(
        s.stat(|p| &p.poll_rounds),
        polls,
        "no polling round ran: notifications alone moved every change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_writes_cost_no_read_and_a_single_change_costs_three_requests_or_fewer() {
    let s = Served::start("").await;
    let d = s.sandbox.data.clone();
    assert!(s.stat(|p| &p.echoes) > 0, "the first round's writes echoed");
    assert_eq!(
        s.stat(|p| &p.notified_rounds),
        0,
        "no echo of the first round's writes led to a round"
    );
    let inst = s.sandbox.raynet.instance(INSTANCE);
    // Twice each way: the first read of each side after the first round also meets that
    // round's own writes (their echoes in Graph's delta), the second is the steady state.
    for (i, change) in ["Raynet", "Outlook", "Raynet", "Outlook"]
        .into_iter()
        .enumerate()
    {
        let before = s.requests();
        let (raynet_before, graph_before) =
            (s.sandbox.raynet.request_counts(), s.graph_requests().len());
        let rounds = s.stat(|p| &p.notified_rounds);
        let place = format!("Room {i}");
        if change == "Raynet" {
            inst.edit("meeting", d.meetings[0], &json!({ "meetingPlace": place }))
                .unwrap();
            assert!(
                wait_until(Duration::from_secs(10), || s
                    .jana_event("Obchodní jednání – Acme")
                    .is_some_and(|e| e["location"]["displayName"] == place.as_str()))
                .await
            );
        } else {
            s.sandbox.graph.edit_event(
                &d.jana,
                &d.customer_call,
                &json!({"location": {"displayName": place}}),
            );
            assert!(
                wait_until(Duration::from_secs(10), || s
                    .raynet_activity("Customer call – Brno")
                    .is_some_and(|r| r["meetingPlace"] == place.as_str()))
                .await
            );
        }
        s.settle().await;
        let spent = s.requests() - before;
        let graph = s.graph_requests()[graph_before..].to_vec();
        let raynet: Vec<(String, u64)> = s
            .sandbox
            .raynet
            .request_counts()
            .into_iter()
            .map(|(k, n)| (k.clone(), n - raynet_before.get(&k).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect();
        eprintln!("a {change} edit cost {spent} requests: Raynet {raynet:?}; Graph {graph:?}");
        assert!(
            spent <= 3,
            "a {change} edit cost {spent} requests: Raynet {raynet:?}; Graph {graph:?}"
        );
        assert_eq!(
            s.stat(|p| &p.notified_rounds),
            rounds + 1,
            "one round for the change, none for its echo"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_100_edits_is_a_handful_of_rounds() {
    let s = Served::start("").await;
    let d = s.sandbox.data.clone();
    let inst = s.sandbox.raynet.instance(INSTANCE);
    let rounds = s.stat(|p| &p.notified_rounds);
    for i in 0..100 {
        inst.edit(
            "meeting",
            d.meetings[0],
            &json!({ "meetingPlace": format!("Room {i}") }),
        )
        .unwrap();
    }
    assert!(
        wait_until(Duration::from_secs(30), || s
            .jana_event("Obchodní jednání – Acme")
            .is_some_and(|e| e["location"]["displayName"] == "Room 99"))
        .await,
        "the last edit crossed"
    );
    s.settle().await;
    let ran = s.stat(|p| &p.notified_rounds) - rounds;
    assert!((1..=10).contains(&ran), "{ran} rounds for 100 edits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_and_garbage_input_changes_nothing() {
    let s = Served::start("").await;
    let d = s.sandbox.data.clone();
    let graph_path = "/graph/demo/notifications";
    let snapshot = |s: &Served| {
        let inst = s.sandbox.raynet.instance(INSTANCE);
        let raynet: Vec<Value> = ["meeting", "event"]
            .into_iter()
            .flat_map(|e| {
                inst.ids(e)
                    .into_iter()
                    .filter_map(|id| inst.record(e, id))
                    .collect::<Vec<_>>()
            })
            .collect();
        (s.sandbox.graph.events(&d.jana), raynet)
    };
    let before = snapshot(&s);
    let sub = s.sandbox.graph.subscription_ids()[0].clone();
    let state = s.store.push_secret("demo", "client_state").unwrap();
    let token = s.store.push_secret("demo", "webhook_token").unwrap();
    let event = s.sandbox.graph.event(&d.jana, &d.customer_call).unwrap();
    let notification = |client_state: &str, subscription: &str, etag: &str| {
        serde_json::to_vec(&json!({"value": [{
            "subscriptionId": subscription,
            "clientState": client_state,
            "changeType": "updated",
            "resource": format!("Users/{}/Events/{}", d.jana, d.customer_call),
            "resourceData": {"id": d.customer_call, "@odata.etag": etag, "@odata.type": "#Microsoft.Graph.Event"},
        }]}))
        .unwrap()
    };
    let etag = event["@odata.etag"]
        .as_str()
        .unwrap_or("W/\"x\"")
        .to_owned();
    let rejected = s.stat(|p| &p.rejected);

    // Forged: a wrong clientState, a subscription not ours — 202, discarded.
    assert_eq!(
        s.post(graph_path, &[], notification("forged", &sub, &etag))
            .await,
        202
    );
    assert_eq!(
        s.post(
            graph_path,
            &[],
            notification(state.expose(), "not-ours", &etag)
        )
        .await,
        202
    );
    assert_eq!(s.stat(|p| &p.rejected), rejected + 2);
    // Garbage: 400, naming what is wrong.
    assert_eq!(
        s.post(graph_path, &[], b"{\"value\": 7}".to_vec()).await,
        400
    );
    assert_eq!(
        s.post(graph_path, &[], b"\xff\x00garbage".to_vec()).await,
        400
    );
    assert_eq!(
        s.post("/graph/nobody/notifications", &[], b"{}".to_vec())
            .await,
        404
    );
    // Replayed and out of order (an old etag): a round reads, finds nothing to do.
    for tag in [etag.as_str(), "W/\"an-old-change-key\"", etag.as_str()] {
        assert_eq!(
            s.post(graph_path, &[], notification(state.expose(), &sub, tag))
                .await,
            202
        );
    }
    // Raynet: no token, a wrong token → 401; garbage → 400.
    let hook = "/raynet/demo/webhook";
    let forged_delete = serde_json::to_vec(&json!({
        "eventId": "e1", "type": "record.deleted", "source": {"name": "user", "description": "browser"},
        "data": {"entityName": "Meeting", "entityId": d.meetings[0], "extIds": []}
    }))
    .unwrap();
    assert_eq!(s.post(hook, &[], forged_delete.clone()).await, 401);
    assert_eq!(
        s.post(
            hook,
            &[("X-RAYNETCRM-Token", "wrong")],
            forged_delete.clone()
        )
        .await,
        401
    );
    let right = [("X-RAYNETCRM-Token", token.expose())];
    assert_eq!(s.post(hook, &right, b"[1,2".to_vec()).await, 400);
    // A forged deletion with the right token: the round's one read finds the meeting alive.
    assert_eq!(s.post(hook, &right, forged_delete).await, 200);
    s.settle().await;
    assert_eq!(snapshot(&s), before, "nothing changed on either side");
    let healthy = reqwest::get(format!("{}/healthz", s.base)).await.unwrap();
    assert_eq!(healthy.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_answers_any_body_with_a_4xx_or_a_2xx() {
    use proptest::strategy::{Strategy as _, ValueTree as _};
    use proptest::test_runner::TestRunner;
    let s = Served::start("").await;
    let token = s.store.push_secret("demo", "webhook_token").unwrap();
    let sub = s.sandbox.graph.subscription_ids()[0].clone();
    // Raw bytes, and JSON shaped like the real payloads with random values.
    let json_field = proptest::prop_oneof![
        proptest::strategy::Just(Value::Null),
        proptest::num::i64::ANY.prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        proptest::collection::vec(".{0,4}".prop_map(Value::from), 0..3).prop_map(Value::from),
    ];
    let body = proptest::prop_oneof![
        proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        (json_field.clone(), json_field.clone(), json_field).prop_map(move |(a, b, c)| {
            serde_json::to_vec(&json!({
                "value": [{"subscriptionId": sub.clone(), "clientState": a, "changeType": b,
                           "resourceData": {"id": c}, "lifecycleEvent": b}],
                "type": a, "data": {"entityName": b, "entityId": c}
            }))
            .unwrap()
        }),
    ];
    let mut runner = TestRunner::default();
    for _ in 0..64 {
        let body = body.new_tree(&mut runner).unwrap().current();
        for path in ["/graph/demo/notifications", "/graph/demo/lifecycle"] {
            let status = s.post(path, &[], body.clone()).await;
            assert!(matches!(status, 202 | 400), "{path}: {status}");
        }
        let status = s
            .post(
                "/raynet/demo/webhook",
                &[("X-RAYNETCRM-Token", token.expose())],
                body,
            )
            .await;
        assert!(matches!(status, 200 | 400), "webhook: {status}");
    }
    let healthy = reqwest::get(format!("{}/healthz", s.base)).await.unwrap();
    assert_eq!(healthy.status().as_u16(), 200, "still up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_heals_itself_and_the_safety_net_poll_catches_a_lost_notification() {
    let s = Served::start("poll_interval_seconds = 10\nmaintenance_seconds = 1").await;
    let d = s.sandbox.data.clone();
    let inst = s.sandbox.raynet.instance(INSTANCE);
    let graph = &s.sandbox.graph;
    let polls = s.stat(|p| &p.poll_rounds);

    // Raynet removed our webhook (as after 7 days of failures): the change made meanwhile is
    // never notified; the webhook comes back, and the safety-net poll moves the change.
    let client = raynet_sync::wiring::TenantClients::new(&s.tenant)
        .unwrap()
        .raynet;
    for id in inst.webhook_ids() {
        client.webhooks().delete(&id).await.unwrap();
    }
    inst.edit(
        "meeting",
        d.meetings[0],
        &json!({"meetingPlace": "Lost notification"}),
    )
    .unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || !inst.webhook_ids().is_empty()).await,
        "the webhook was registered again"
    );
    assert!(
        wait_until(Duration::from_secs(30), || s
            .jana_event("Obchodní jednání – Acme")
            .is_some_and(
                |e| e["location"]["displayName"] == "Lost notification"
            ))
        .await,
        "the safety-net poll caught the lost change"
    );
    assert!(s.stat(|p| &p.poll_rounds) > polls);

    // Graph loses every subscription (expired or removed behind our back): the next check
    // lists them (one request), finds them gone, and creates them again. (Expiry itself is
    // the same path: `SubscriptionKeeper` renews at half-life, and graph-client's tests let
    // the fake's clock run past an expiry.)
    let old = graph.subscription_ids();
    let clients = raynet_sync::wiring::TenantClients::new(&s.tenant).unwrap();
    for id in &old {
        clients.graph.subscriptions().delete(id).await.unwrap();
    }
    assert!(graph.subscription_ids().is_empty());
    assert!(
        wait_until(Duration::from_secs(15), || {
            let now = graph.subscription_ids();
            now.len() == old.len() && now.iter().all(|id| !old.contains(id))
        })
        .await,
        "every subscription was re-created"
    );
    // …and deliver again.
    s.settle().await;
    graph.edit_event(
        &d.jana,
        &d.customer_call,
        &json!({"location": {"displayName": "After expiry"}}),
    );
    assert!(
        wait_until(Duration::from_secs(10), || s
            .raynet_activity("Customer call – Brno")
            .is_some_and(|r| r["meetingPlace"] == "After expiry"))
        .await
    );

    // Lifecycle: `subscriptionRemoved` → re-created; `missed` → a catch-up round.
    s.settle().await;
    let sub = graph.subscription_ids()[0].clone();
    let removed = graph_client::client::models::LifecycleEvent::SubscriptionRemoved;
    assert!(graph.send_lifecycle_event(&sub, &removed));
    assert!(
        wait_until(Duration::from_secs(10), || graph.subscription_ids().len()
            == old.len()
            && !graph.subscription_ids().contains(&sub))
        .await,
        "a removed subscription was re-created"
    );
    s.settle().await;
    let rounds = s.stat(|p| &p.notified_rounds);
    let sub = graph.subscription_ids()[0].clone();
    let missed = graph_client::client::models::LifecycleEvent::Missed;
    assert!(graph.send_lifecycle_event(&sub, &missed));
    assert!(
        wait_until(Duration::from_secs(10), || s.stat(|p| &p.notified_rounds)
            > rounds)
        .await,
        "`missed` led to a catch-up round"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_leaves_loses_the_subscriptions_and_one_who_joins_gets_them() {
    let s = Served::start_with("membership_refresh_seconds = 0", "maintenance_seconds = 1").await;
    let d = s.sandbox.data.clone();
    let graph = &s.sandbox.graph;
    assert_eq!(
        graph.subscription_ids().len(),
        4,
        "two members, two collections each"
    );
    // Petr leaves the group: his two subscriptions are deleted at the next check.
    graph.set_group_members("Raynet Sync", &[d.jana.as_str()]);
    assert!(
        wait_until(Duration::from_secs(10), || graph.subscription_ids().len()
            == 2)
        .await,
        "Petr's subscriptions were deleted"
    );
    assert_eq!(s.store.kept_subscriptions("demo").unwrap().len(), 2);
    // He comes back: subscribed again, and what he did meanwhile is synced at once.
    let t = Utc::now() + chrono::Duration::days(2);
    graph.add_event(
        &d.petr,
        EventSeed::new("Petr while away", t, t + chrono::Duration::hours(1)),
    );
    graph.set_group_members("Raynet Sync", &[d.jana.as_str(), d.petr.as_str()]);
    assert!(
        wait_until(Duration::from_secs(10), || graph.subscription_ids().len()
            == 4)
        .await,
        "Petr was subscribed again"
    );
    assert!(
        wait_until(Duration::from_secs(10), || s
            .raynet_activity("Petr while away")
            .is_some())
        .await,
        "a catch-up round synced what he did while away"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_arrived_while_serve_was_down_is_synced_when_it_comes_back() {
    let mut s = Served::start("").await;
    let d = s.sandbox.data.clone();
    let subscriptions = s.sandbox.graph.subscription_ids();
    s.stop();
    let inst = s.sandbox.raynet.instance(INSTANCE);
    // While it is down: a change on each side (their notifications fail and are retried), and
    // a note an earlier process kept but never handled.
    inst.edit(
        "meeting",
        d.meetings[0],
        &json!({"meetingPlace": "While down"}),
    )
    .unwrap();
    s.sandbox.graph.edit_event(
        &d.jana,
        &d.customer_call,
        &json!({"location": {"displayName": "Also while down"}}),
    );
    let jana: sync_core::Email = "jana.novakova@acme.test".parse().unwrap();
    let note = raynet_sync::store::PushNote {
        member: jana,
        collection: sync_core::Collection::Calendar,
        noted: raynet_sync::store::Noted::Changed(sync_core::Side::Raynet),
        received_at: Utc::now(),
    };
    let kept = s.store.add_push_note("demo", &note).unwrap();
    drop(inst);
    s.restart().await;
    assert!(
        s.jana_event("Obchodní jednání – Acme")
            .is_some_and(|e| e["location"]["displayName"] == "While down"),
        "the first round after the restart synced the Raynet change"
    );
    assert!(
        s.raynet_activity("Customer call – Brno")
            .is_some_and(|r| r["meetingPlace"] == "Also while down"),
        "and the Outlook change"
    );
    assert!(
        s.store
            .push_notes("demo")
            .unwrap()
            .iter()
            .all(|(id, _)| *id != kept),
        "the kept note was handled by the first round"
    );
    assert_eq!(
        s.sandbox.graph.subscription_ids(),
        subscriptions,
        "the subscriptions kept in the state file were reused, not created anew"
    );
}

/// The invitation cap under `serve`: a burst of Raynet meetings with an attendee reaches
/// Outlook in steps of the cap (`max_invitations = 2`), each step a round of its own after
/// `invitation_pause_seconds`, without waiting for the safety-net poll; every meeting is
/// mailed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_the_invitation_cap_deferred_carry_on_after_the_pause() {
    let s = Served::start_with("max_invitations = 2\n", "invitation_pause_seconds = 2\n").await;
    let d = s.sandbox.data.clone();
    let inst = s.sandbox.raynet.instance(INSTANCE);
    let guest = inst.add_persons(1).unwrap()[0];
    let polls = s.stat(|p| &p.poll_rounds);
    let subjects: Vec<String> = (0..5).map(|i| format!("Capped {i}")).collect();
    for (i, subject) in subjects.iter().enumerate() {
        inst.add_meeting(
            ActivitySeed::new(subject, d.jana_person)
                .participant(guest)
                .scheduled_local(&in_three_days(8 + i as u32), &in_three_days(9 + i as u32)),
        )
        .unwrap();
    }
    let mailed = || {
        s.sandbox
            .graph
            .invitations()
            .iter()
            .filter(|m| {
                m.subject
                    .as_ref()
                    .is_some_and(|t| subjects.iter().any(|s| s == t))
            })
            .count()
    };
    // Watch the mails go out: never more than the cap at once.
    let mut seen = vec![0];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while *seen.last().unwrap() < 5 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = mailed();
        if now != *seen.last().unwrap() {
            seen.push(now);
        }
    }
    assert_eq!(seen.last(), Some(&5), "every meeting was mailed: {seen:?}");
    assert!(
        seen.windows(2).all(|w| w[1] - w[0] <= 2),
        "at most the cap per round: {seen:?}"
    );
    assert!(seen.len() >= 4, "three rounds at least: {seen:?}");
    for subject in &subjects {
        assert!(s.jana_event(subject).is_some(), "{subject}");
    }
    s.settle().await;
    assert_eq!(mailed(), 5, "no meeting mailed twice");
    assert_eq!(
        s.stat(|p| &p.poll_rounds),
        polls,
        "no safety-net poll was needed"
    );
}

/// A notification POST holding one notification that cannot be read and one that can: the
/// bad one is set aside, the good one is kept and its change crosses (202, not a 400 that
/// would lose both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_notification_fails_alone_and_the_rest_of_the_post_is_kept() {
    let s = Served::start("").await;
    let d = s.sandbox.data.clone();
    let graph = &s.sandbox.graph;
    // The fake's own notification of the edit comes too late to matter.
    graph.set_delivery_delay(Duration::from_secs(120));
    graph.edit_event(
        &d.jana,
        &d.customer_call,
        &json!({"location": {"displayName": "Told by the good one"}}),
    );
    let event = graph.event(&d.jana, &d.customer_call).unwrap();
    let sub = graph.subscription_ids()[0].clone();
    let state = s.store.push_secret("demo", "client_state").unwrap();
    let good = json!({
        "subscriptionId": sub,
        "clientState": state.expose(),
        "changeType": "updated",
        "resource": format!("Users/{}/Events/{}", d.jana, d.customer_call),
        "resourceData": {"id": d.customer_call, "@odata.etag": event["@odata.etag"], "@odata.type": "#Microsoft.Graph.Event"},
    });
    let bad = json!({"subscriptionId": 42, "changeType": ["updated"], "resource": null});
    let body = serde_json::to_vec(&json!({"value": [bad, good]})).unwrap();
    assert_eq!(s.post("/graph/demo/notifications", &[], body).await, 202);
    assert!(
        wait_until(Duration::from_secs(10), || s
            .raynet_activity("Customer call – Brno")
            .is_some_and(|r| r["meetingPlace"] == "Told by the good one"))
        .await,
        "the good notification's change crossed"
    );
    // Nothing readable at all is still a 400.
    let body = serde_json::to_vec(&json!({"value": [{"subscriptionId": 42}]})).unwrap();
    assert_eq!(s.post("/graph/demo/notifications", &[], body).await, 400);
}
