//! Change notifications from the fake: a tiny axum receiver on 127.0.0.1 answers the
//! validation handshake and records every notification POST.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use graph_client::Error;
use graph_client::client::DeleteOutcome;
use graph_client::client::models::{
    BatchRequest, ChangeNotification, ChangeNotificationCollection, ChangeType, Contact,
    DateTimeTimeZone, Event, LifecycleEvent, NewSubscription, Subscription,
};
use graph_client::fake::{EventSeed, FakeGraph};

use crate::util::{World, at, client, world};

pub(crate) const SECRET: &str = "client-state-only-we-know";

/// How the receiver answers.
#[derive(Debug, Default)]
struct Behaviour {
    /// Answer the handshake with a wrong body.
    wrong_token: bool,
    /// Answer the handshake as JSON instead of text/plain.
    json_token: bool,
    /// Answer this many notification POSTs with 500 first.
    fail_next: usize,
}

/// A notification POST received: (path, body).
type Hit = (String, ChangeNotificationCollection);

/// A notification endpoint on 127.0.0.1 (shared with `subscription_keeper.rs`).
pub(crate) struct Receiver {
    base: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    tokens: Arc<Mutex<Vec<String>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub(crate) async fn start() -> Self {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let tokens: Arc<Mutex<Vec<String>>> = Arc::default();
        let behaviour: Arc<Mutex<Behaviour>> = Arc::default();
        let (h, t, b) = (hits.clone(), tokens.clone(), behaviour.clone());
        let app = axum::Router::new().fallback(move |uri: Uri, body: Bytes| {
            let (hits, tokens, behaviour) = (h.clone(), t.clone(), b.clone());
            async move { answer(&uri, &body, &hits, &tokens, &behaviour) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base,
            hits,
            tokens,
            behaviour,
            task,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn behave(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut self.behaviour.lock().expect("behaviour"));
    }

    /// The notifications received on `path`, in order.
    pub(crate) fn received(&self, path: &str) -> Vec<ChangeNotification> {
        self.hits
            .lock()
            .expect("hits")
            .iter()
            .filter(|(p, _)| p == path)
            .flat_map(|(_, c)| c.value.clone())
            .collect()
    }

    /// Waits until `n` notifications arrived on `path` (at most 5 s), and returns them.
    pub(crate) async fn wait_for(&self, path: &str, n: usize) -> Vec<ChangeNotification> {
        for _ in 0..500 {
            let got = self.received(path);
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{n} notifications on {path}: got {:?}", self.received(path));
    }
}

fn answer(
    uri: &Uri,
    body: &[u8],
    hits: &Mutex<Vec<Hit>>,
    tokens: &Mutex<Vec<String>>,
    behaviour: &Mutex<Behaviour>,
) -> Response {
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let b = behaviour.lock().expect("behaviour");
    if let Some(token) = query.get("validationToken") {
        tokens.lock().expect("tokens").push(token.clone());
        let content_type = if b.json_token {
            "application/json"
        } else {
            "text/plain"
        };
        let body = if b.wrong_token {
            "not the token".to_owned()
        } else {
            token.clone()
        };
        return (StatusCode::OK, [("content-type", content_type)], body).into_response();
    }
    drop(b);
    let parsed = ChangeNotificationCollection::parse(body).expect("a notification payload");
    hits.lock()
        .expect("hits")
        .push((uri.path().to_owned(), parsed));
    let mut b = behaviour.lock().expect("behaviour");
    if b.fail_next > 0 {
        b.fail_next -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    StatusCode::ACCEPTED.into_response()
}

fn new_event(subject: &str) -> Event {
    let mut e = Event::default();
    e.subject = Some(subject.to_owned());
    e.start = Some(DateTimeTimeZone::utc(at(2030, 1, 10, 9, 0)));
    e.end = Some(DateTimeTimeZone::utc(at(2030, 1, 10, 10, 0)));
    e
}

fn in_days(days: i64) -> chrono::DateTime<Utc> {
    Utc::now() + chrono::Duration::days(days)
}

async fn subscribe(
    fake: &FakeGraph,
    receiver: &Receiver,
    resource: &str,
) -> graph_client::Result<Subscription> {
    let new = NewSubscription::new(resource, receiver.url("/hook"), in_days(2))
        .lifecycle_url(receiver.url("/lifecycle"))
        .client_state(SECRET);
    client(fake).subscriptions().create(&new).await
}

/// A world, a receiver, and a subscription of the receiver to Alice's events.
async fn watching_alices_events() -> (World, Receiver, Subscription) {
    let w = world().await;
    let receiver = Receiver::start().await;
    let sub = subscribe(&w.fake, &receiver, &format!("/users/{}/events", w.alice))
        .await
        .expect("subscribed");
    (w, receiver, sub)
}

/// (change type, resourceData.id, @odata.etag) of each notification.
fn summary(got: &[ChangeNotification]) -> Vec<(ChangeType, String, Option<String>)> {
    got.iter()
        .map(|n| {
            let data = n.resource_data.clone().unwrap_or_default();
            (
                n.change_type.clone().expect("change type"),
                data.id.unwrap_or_default(),
                data.odata_etag,
            )
        })
        .collect()
}

pub(crate) async fn settle() {
    tokio::time::sleep(Duration::from_millis(150)).await;
}

#[tokio::test]
async fn event_writes_through_the_client_are_notified_with_ids_and_etags() {
    let (w, receiver, sub) = watching_alices_events().await;
    // The handshake went to both URLs, URL-decoded by the receiver.
    let tokens = receiver.tokens.lock().expect("tokens").clone();
    assert_eq!(tokens.len(), 2);
    assert!(
        tokens[0].starts_with("Validation: Testing client"),
        "{tokens:?}"
    );
    assert_eq!(w.fake.subscription_ids(), vec![sub.id.clone()]);

    let client = client(&w.fake);
    let events = client.events(&w.alice);
    let created = events
        .create(&new_event("Demo"), "txn-1")
        .await
        .expect("created");
    let id = created.id.clone().expect("id");
    let mut patch = Event::default();
    patch.subject = Some("Demo v2".into());
    let updated = events
        .update(&id, &patch, created.etag.as_deref().expect("etag"))
        .await
        .expect("updated");
    events
        .delete(&id, updated.etag.as_deref())
        .await
        .expect("deleted");

    let got = receiver.wait_for("/hook", 3).await;
    assert_eq!(
        summary(&got),
        vec![
            (ChangeType::Created, id.clone(), created.etag.clone()),
            (ChangeType::Updated, id.clone(), updated.etag.clone()),
            (ChangeType::Deleted, id.clone(), None),
        ]
    );
    for n in &got {
        assert_eq!(n.subscription_id, sub.id);
        assert!(n.client_state_is(&SECRET.into()));
        assert_eq!(n.tenant_id.as_deref(), Some(FakeGraph::TENANT_ID));
        assert_eq!(
            n.subscription_expiration_date_time,
            sub.expiration_date_time
        );
        let data = n.resource_data.as_ref().expect("resourceData");
        assert_eq!(data.odata_type.as_deref(), Some("#Microsoft.Graph.Event"));
        let path = format!("Users/{}/Events/{id}", w.alice);
        assert_eq!(data.odata_id.as_deref(), Some(path.as_str()));
        assert_eq!(n.resource.as_deref(), Some(path.as_str()));
    }
    assert!(receiver.received("/lifecycle").is_empty());
    settle().await;
    assert_eq!(w.fake.pending_deliveries(), 0);
    let deliveries = w.fake.deliveries();
    assert_eq!(deliveries.len(), 3);
    assert!(deliveries.iter().all(|d| d.delivered && d.attempts == 1));
    assert_eq!(w.fake.request_count("subscriptions.create"), 1);
}

#[tokio::test]
async fn batched_writes_and_edits_through_the_fake_handle_are_notified() {
    let w = world().await;
    let receiver = Receiver::start().await;
    subscribe(&w.fake, &receiver, &format!("users/{}/events", w.alice))
        .await
        .expect("subscribed");
    let body = serde_json::to_value(new_event("Batched")).expect("json");
    let answers = client(&w.fake)
        .batch(vec![
            BatchRequest::new("1", "POST", format!("/users/{}/events", w.alice))
                .with_json(body.clone()),
            BatchRequest::new("2", "POST", format!("/users/{}/events", w.alice)).with_json(body),
        ])
        .await
        .expect("batch");
    let mut batched: Vec<String> = answers
        .iter()
        .map(|a| {
            a.body.as_ref().expect("body")["id"]
                .as_str()
                .expect("id")
                .to_owned()
        })
        .collect();
    batched.sort();
    let got = receiver.wait_for("/hook", 2).await;
    let mut ids: Vec<String> = summary(&got).into_iter().map(|(_, id, _)| id).collect();
    ids.sort();
    assert_eq!(ids, batched);

    // A user's edits in Outlook (the seeding handle).
    let now = Utc::now();
    let seeded = w.fake.add_event(
        &w.alice,
        EventSeed::new("Seeded", now, now + chrono::Duration::hours(1)),
    );
    assert!(
        w.fake
            .edit_event(&w.alice, &seeded, &serde_json::json!({"subject": "Edited"}))
    );
    assert!(w.fake.delete_event(&w.alice, &seeded));
    let got = receiver.wait_for("/hook", 5).await;
    let tail = summary(&got[2..]);
    let etag = tail[1].2.clone();
    assert_eq!(tail[0].0, ChangeType::Created);
    assert_eq!(tail[1].0, ChangeType::Updated);
    assert_eq!(tail[2], (ChangeType::Deleted, seeded.clone(), None));
    assert!(tail.iter().all(|(_, id, _)| *id == seeded));
    assert_ne!(tail[0].2, etag);
}

#[tokio::test]
async fn contacts_in_the_watched_folder_are_notified() {
    let w = world().await;
    let receiver = Receiver::start().await;
    let folder = w.fake.add_contact_folder(&w.alice, "Raynet");
    let other = w.fake.add_contact_folder(&w.alice, "Other");
    subscribe(
        &w.fake,
        &receiver,
        &format!("/users/{}/contactFolders/{folder}/contacts", w.alice),
    )
    .await
    .expect("subscribed");
    let client = client(&w.fake);
    // The folder id percent-encoded in the resource (its `/`, `+`, `=`) is the same folder.
    let encoded: String =
        url::form_urlencoded::byte_serialize(folder.as_bytes()).collect::<String>();
    let new = NewSubscription::new(
        format!("/users/{}/contactFolders/{encoded}/contacts", w.alice),
        receiver.url("/encoded"),
        in_days(1),
    );
    client
        .subscriptions()
        .create(&new)
        .await
        .expect("subscribed");
    let mut c = Contact::default();
    c.given_name = Some("Ada".into());
    w.fake.add_contact(
        &w.alice,
        &other,
        serde_json::json!({"givenName": "Elsewhere"}),
    );
    let created = client
        .contacts(&w.alice)
        .create(&folder, &c)
        .await
        .expect("created");
    let id = created.id.clone().expect("id");
    assert!(
        w.fake
            .edit_contact(&w.alice, &id, &serde_json::json!({"surname": "Lovelace"}))
    );
    let got = receiver.wait_for("/hook", 2).await;
    let s = summary(&got);
    assert_eq!(
        s[0],
        (ChangeType::Created, id.clone(), created.etag.clone())
    );
    assert_eq!(s[1].0, ChangeType::Updated);
    assert_eq!(s[1].1, id);
    let now = w.fake.contacts(&w.alice, &folder);
    assert_eq!(s[1].2.as_deref(), now[0]["@odata.etag"].as_str());
    let data = got[0].resource_data.as_ref().expect("data");
    assert_eq!(data.odata_type.as_deref(), Some("#Microsoft.Graph.Contact"));
    let encoded = receiver.wait_for("/encoded", 2).await;
    assert_eq!(summary(&encoded), s);
    settle().await;
    assert_eq!(
        receiver.received("/hook").len(),
        2,
        "the other folder is not watched"
    );
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_then_the_notification() {
    let (w, receiver, _) = watching_alices_events().await;
    w.fake.set_delivery_retries(5, Duration::from_millis(5));
    receiver.behave(|b| b.fail_next = 2);
    let now = Utc::now();
    let id = w.fake.add_event(
        &w.alice,
        EventSeed::new("Retried", now, now + chrono::Duration::hours(1)),
    );
    let got = receiver.wait_for("/hook", 3).await;
    assert!(
        got.iter()
            .all(|n| n.resource_data.as_ref().and_then(|d| d.id.as_deref()) == Some(id.as_str()))
    );
    settle().await;
    let deliveries = w.fake.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].attempts, 3);
    assert_eq!(deliveries[0].status, Some(202));
    assert!(deliveries[0].delivered);

    // A receiver that never succeeds: bounded attempts, then given up.
    receiver.behave(|b| b.fail_next = 100);
    w.fake.set_delivery_retries(3, Duration::from_millis(1));
    assert!(w.fake.delete_event(&w.alice, &id));
    receiver.wait_for("/hook", 6).await;
    settle().await;
    let last = w.fake.deliveries().pop().expect("given up");
    assert_eq!(
        (last.attempts, last.status, last.delivered),
        (3, Some(500), false)
    );
    assert_eq!(w.fake.pending_deliveries(), 0);
}

#[tokio::test]
async fn delivery_delay_keeps_notifications_pending() {
    let (w, receiver, _) = watching_alices_events().await;
    w.fake.set_delivery_delay(Duration::from_millis(300));
    let now = Utc::now();
    w.fake
        .add_event(&w.alice, EventSeed::new("Later", now, now));
    assert_eq!(w.fake.pending_deliveries(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(receiver.received("/hook").is_empty());
    receiver.wait_for("/hook", 1).await;
    settle().await;
    assert_eq!(w.fake.pending_deliveries(), 0);
}

#[tokio::test]
async fn dropping_the_fake_stops_its_deliveries() {
    let (w, receiver, _) = watching_alices_events().await;
    w.fake.set_delivery_delay(Duration::from_millis(100));
    let now = Utc::now();
    w.fake
        .add_event(&w.alice, EventSeed::new("Never sent", now, now));
    drop(w);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.received("/hook").is_empty());
}

#[tokio::test]
async fn an_expired_subscription_sends_nothing_and_renewal_extends() {
    let (w, receiver, sub) = watching_alices_events().await;
    let client = client(&w.fake);
    let first = sub.expiration_date_time.expect("expiry");
    // Renew: the longest lifetime is 10,080 minutes; a longer request is capped.
    let renewed = client
        .subscriptions()
        .renew(&sub.id, in_days(30))
        .await
        .expect("renewed");
    let granted = renewed.expiration_date_time.expect("expiry");
    assert!(granted > first);
    let cap = Utc::now() + chrono::Duration::minutes(10_080);
    assert!(granted <= cap && granted > cap - chrono::Duration::minutes(1));
    assert_eq!(
        client
            .subscriptions()
            .get(&sub.id)
            .await
            .expect("get")
            .expiration_date_time,
        Some(granted)
    );
    // Past the first expiry, the renewed subscription still delivers.
    w.fake.advance_clock(Duration::from_secs(3 * 24 * 3600));
    let now = Utc::now();
    w.fake
        .add_event(&w.alice, EventSeed::new("Still", now, now));
    receiver.wait_for("/hook", 1).await;
    // Past the renewed expiry: gone, and nothing is sent.
    w.fake.advance_clock(Duration::from_secs(5 * 24 * 3600));
    w.fake
        .add_event(&w.alice, EventSeed::new("Too late", now, now));
    settle().await;
    assert_eq!(receiver.received("/hook").len(), 1);
    assert!(w.fake.subscription_ids().is_empty());
    let err = client.subscriptions().get(&sub.id).await.expect_err("gone");
    assert!(err.is_not_found(), "{err:?}");
    let err = client
        .subscriptions()
        .renew(&sub.id, in_days(1))
        .await
        .expect_err("gone");
    assert!(err.is_not_found(), "{err:?}");
}

#[tokio::test]
async fn a_deleted_subscription_stops() {
    let (w, receiver, sub) = watching_alices_events().await;
    let client = client(&w.fake);
    assert_eq!(
        client
            .subscriptions()
            .delete(&sub.id)
            .await
            .expect("deleted"),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        client.subscriptions().delete(&sub.id).await.expect("gone"),
        DeleteOutcome::AlreadyGone
    );
    let now = Utc::now();
    w.fake
        .add_event(&w.alice, EventSeed::new("Unseen", now, now));
    settle().await;
    assert!(receiver.received("/hook").is_empty());
    assert!(w.fake.deliveries().is_empty());
}

#[tokio::test]
async fn a_non_loopback_url_is_refused() {
    let w = world().await;
    let receiver = Receiver::start().await;
    let client = client(&w.fake);
    for (hook, lifecycle) in [
        ("https://example.com/hook".to_owned(), None),
        ("http://10.1.2.3/hook".to_owned(), None),
        (receiver.url("/hook"), Some("https://example.com/lifecycle")),
    ] {
        let mut new = NewSubscription::new(format!("/users/{}/events", w.alice), hook, in_days(1));
        if let Some(l) = lifecycle {
            new = new.lifecycle_url(l);
        }
        let err = client
            .subscriptions()
            .create(&new)
            .await
            .expect_err("refused");
        assert_eq!(err.status(), Some(400), "{err:?}");
    }
    assert!(
        receiver.tokens.lock().expect("tokens").is_empty(),
        "no handshake was tried"
    );
    assert!(w.fake.subscription_ids().is_empty());
}

#[tokio::test]
async fn a_wrong_handshake_answer_fails_the_create() {
    let w = world().await;
    let receiver = Receiver::start().await;
    let resource = format!("/users/{}/events", w.alice);
    for wrong in [
        |b: &mut Behaviour| b.wrong_token = true,
        |b: &mut Behaviour| {
            b.wrong_token = false;
            b.json_token = true;
        },
    ] {
        receiver.behave(wrong);
        let err = subscribe(&w.fake, &receiver, &resource)
            .await
            .expect_err("validation failed");
        match &err {
            Error::Api { status, code, .. } => {
                assert_eq!((*status, code.as_str()), (400, "ValidationError"));
            }
            other => panic!("{other:?}"),
        }
    }
    // A resource the fake cannot watch, a missing folder, an expiry in the past.
    receiver.behave(|b| b.json_token = false);
    for (resource, expiry) in [
        (format!("/users/{}/messages", w.alice), in_days(1)),
        (
            format!("/users/{}/contactFolders/AAMkAGnope/contacts", w.alice),
            in_days(1),
        ),
        (resource.clone(), in_days(-1)),
    ] {
        let new = NewSubscription::new(resource, receiver.url("/hook"), expiry);
        let err = client(&w.fake)
            .subscriptions()
            .create(&new)
            .await
            .expect_err("refused");
        assert!(matches!(err.status(), Some(400 | 404)), "{err:?}");
    }
    assert!(w.fake.subscription_ids().is_empty());
}

#[tokio::test]
async fn lifecycle_events_go_to_the_lifecycle_url() {
    let (w, receiver, sub) = watching_alices_events().await;
    let client = client(&w.fake);
    for event in [
        LifecycleEvent::ReauthorizationRequired,
        LifecycleEvent::Missed,
    ] {
        assert!(w.fake.send_lifecycle_event(&sub.id, &event));
    }
    let got = receiver.wait_for("/lifecycle", 2).await;
    assert_eq!(
        got.iter()
            .map(|n| n.lifecycle_event.clone())
            .collect::<Vec<_>>(),
        vec![
            Some(LifecycleEvent::ReauthorizationRequired),
            Some(LifecycleEvent::Missed)
        ]
    );
    assert!(
        got.iter()
            .all(|n| n.subscription_id == sub.id && n.client_state_is(&SECRET.into()))
    );
    client
        .subscriptions()
        .reauthorize(&sub.id)
        .await
        .expect("reauthorized");
    assert_eq!(w.fake.reauthorizations(&sub.id), 1);

    assert!(
        w.fake
            .send_lifecycle_event(&sub.id, &LifecycleEvent::SubscriptionRemoved)
    );
    let got = receiver.wait_for("/lifecycle", 3).await;
    assert_eq!(
        got[2].lifecycle_event,
        Some(LifecycleEvent::SubscriptionRemoved)
    );
    assert!(w.fake.subscription_ids().is_empty());
    assert!(
        !w.fake
            .send_lifecycle_event(&sub.id, &LifecycleEvent::Missed)
    );
    assert!(receiver.received("/hook").is_empty());
}
