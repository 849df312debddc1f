//! The fake pushes: webhooks registered through the client receive
//! `record.created/updated/deleted` for every change to meetings, events,
//! persons and companies (through the API or the seeding handle), with the
//! token header; failing receivers get everything later; 7 days of failures
//! remove the webhook; only loopback URLs are accepted. The receiver is a tiny
//! axum server on 127.0.0.1.

use std::sync::atomic::Ordering;
use std::time::Duration;

use raynet_client::fake::{
    ActivitySeed, DEFAULT_API_KEY, DEFAULT_INSTANCE, DEFAULT_USER, FakeRaynet, PersonSeed,
    PushSettings,
};
use raynet_client::models::{
    ActivityUpdate, NewActivity, NewWebhook, Priority, WebhookEvent, WebhookEventType,
};
use raynet_client::{Client, Error};
use serde_json::{Value, json};

use crate::util::{Receiver, wait_until};

/// The API Robot's person id (the default user's person).
const OWNER: u64 = 1;
const TOKEN: &str = "tajne-heslo";

async fn register(client: &Client, url: &str) -> String {
    client
        .webhooks()
        .create(&NewWebhook::new(url).secret_token(TOKEN))
        .await
        .unwrap()
}

/// A raw API write (persons and companies have no typed writes).
async fn raw(fake: &FakeRaynet, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", fake.base_url()))
        .basic_auth(DEFAULT_USER, Some(DEFAULT_API_KEY))
        .header("X-Instance-Name", DEFAULT_INSTANCE);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

/// `(type, entityName, entityId)` of each event.
fn summary(events: &[Value]) -> Vec<(String, String, u64)> {
    events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["data"]["entityName"].as_str().unwrap().to_owned(),
                e["data"]["entityId"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn triple(name: &str, id: u64) -> Vec<(String, String, u64)> {
    ["record.created", "record.updated", "record.deleted"]
        .into_iter()
        .map(|t| (t.to_owned(), name.to_owned(), id))
        .collect()
}

#[tokio::test]
async fn get_lists_what_put_made_and_the_technical_contacts() {
    let fake = FakeRaynet::start().await;
    let client = fake.client();
    assert!(client.webhooks().list().await.unwrap().webhooks.is_empty());
    let url = "http://127.0.0.1:9/hook";
    let id = client
        .webhooks()
        .create(
            &NewWebhook::new(url)
                .secret_token(TOKEN)
                .events([WebhookEventType::Created, WebhookEventType::Deleted]),
        )
        .await
        .unwrap();
    assert_eq!(id.len(), 32, "a dashless uuid");
    let emails = vec!["ops@acme.test".to_owned()];
    client
        .webhooks()
        .set_technical_contacts(&emails)
        .await
        .unwrap();
    let list = client.webhooks().list().await.unwrap();
    assert_eq!(list.technical_contacts, emails);
    assert_eq!(list.webhooks.len(), 1);
    let hook = &list.webhooks[0];
    assert_eq!(hook.webhook_id, id);
    assert_eq!(hook.url, url);
    assert_eq!(
        hook.secret_token.as_ref().map(sync_secret::Secret::expose),
        Some(TOKEN)
    );
    assert_eq!(
        hook.events_filter,
        vec![WebhookEventType::Created, WebhookEventType::Deleted]
    );
    assert_eq!(fake.default_instance().webhook_ids(), vec![id.clone()]);
    assert_eq!(fake.default_instance().technical_contacts(), emails);
    assert_eq!(fake.requests("PUT /webhook/"), 1);
    assert_eq!(fake.requests("POST /webhook/technicalContact/"), 1);
    client.webhooks().delete(&id).await.unwrap();
    assert!(client.webhooks().list().await.unwrap().webhooks.is_empty());
    assert_eq!(fake.requests("DELETE /webhook/{uuid}/"), 1);
    // Deleting it again: 404.
    let err = client.webhooks().delete(&id).await.unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn a_non_loopback_url_is_refused() {
    let fake = FakeRaynet::start().await;
    let client = fake.client();
    for url in [
        "https://example.com/hook",
        "http://10.0.0.1/hook",
        "http://192.168.1.5:8080/",
        "http://[2001:db8::1]/",
        "http://localhost.example.com/",
    ] {
        let err = client
            .webhooks()
            .create(&NewWebhook::new(url))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Api { status: 400, .. }),
            "{url}: {err:?}"
        );
    }
    assert!(client.webhooks().list().await.unwrap().webhooks.is_empty());
    for url in [
        "http://localhost:9/",
        "http://127.0.0.2:9/",
        "http://[::1]:9/",
    ] {
        client
            .webhooks()
            .create(&NewWebhook::new(url))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn api_changes_to_meetings_events_persons_and_companies_are_pushed() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    let client = fake.client();
    register(&client, &rx.url).await;

    let mut update = ActivityUpdate::default();
    update.meeting_place = Some("Brno".into());
    let meeting = client
        .meetings()
        .create(&NewActivity::new("Porada", Priority::Default, OWNER))
        .await
        .unwrap();
    client.meetings().update(meeting, &update).await.unwrap();
    client.meetings().delete(meeting).await.unwrap();
    let event = client
        .events()
        .create(&NewActivity::new("Veletrh", Priority::Minor, OWNER))
        .await
        .unwrap();
    client.events().update(event, &update).await.unwrap();
    client.events().delete(event).await.unwrap();
    let created = raw(
        &fake,
        reqwest::Method::PUT,
        "person/",
        Some(json!({"lastName": "Nová"})),
    )
    .await;
    let person = created["data"]["id"].as_u64().unwrap();
    let path = format!("person/{person}/");
    raw(
        &fake,
        reqwest::Method::POST,
        &path,
        Some(json!({"firstName": "Eva"})),
    )
    .await;
    raw(&fake, reqwest::Method::DELETE, &path, None).await;
    let created = raw(
        &fake,
        reqwest::Method::PUT,
        "company/",
        Some(json!({"name": "Acme", "state": "B_ACTUAL", "role": "A_SUBSCRIBER", "rating": "A"})),
    )
    .await;
    let company = created["data"]["id"].as_u64().unwrap();

    wait_until("10 events", || rx.count() == 10).await;
    let events = rx.events();
    let mut want = triple("Meeting", meeting);
    want.extend(triple("Event", event));
    want.extend(triple("Person", person));
    want.push(("record.created".into(), "Company".into(), company));
    assert_eq!(summary(&events), want);
    for (token, body) in rx.seen.lock().unwrap().iter() {
        assert_eq!(token.as_deref(), Some(TOKEN));
        let ev = WebhookEvent::from_slice(body.to_string().as_bytes()).unwrap();
        assert!(ev.is_from_api_key("raynet-sync"), "{body}");
        assert_eq!(ev.author.as_deref(), Some(DEFAULT_USER));
        assert!(ev.created_at.is_some());
        assert_eq!(ev.event_id.as_deref().map(str::len), Some(32));
    }
    // The receiver answers before the fake records the success.
    wait_until("an empty queue", || fake.webhook_queue_len() == 0).await;
    assert_eq!(fake.delivered_events().len(), 10);
    assert!(
        fake.deliveries()
            .iter()
            .all(raynet_client::fake::Delivery::succeeded)
    );
}

#[tokio::test]
async fn ext_ids_ride_along_and_an_ext_id_change_is_an_update() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    let client = fake.client();
    register(&client, &rx.url).await;
    let mut body = NewActivity::new("Porada", Priority::Default, OWNER);
    body.ext_id = Some("m365:abc".into());
    let id = client.meetings().create(&body).await.unwrap();
    client
        .ext_ids(raynet_client::EntityName::Meeting, id)
        .add("erp:7")
        .await
        .unwrap();
    client.meetings().delete(id).await.unwrap();
    wait_until("3 events", || rx.count() == 3).await;
    let events = rx.events();
    assert_eq!(summary(&events), triple("Meeting", id));
    assert_eq!(events[0]["data"]["extIds"], json!(["m365:abc"]));
    assert_eq!(events[1]["data"]["extIds"], json!(["m365:abc", "erp:7"]));
    assert_eq!(
        events[2]["data"]["extIds"],
        json!(["m365:abc", "erp:7"]),
        "a deleted record's extIds are those it had"
    );
}

#[tokio::test]
async fn seed_edits_come_from_a_user_in_a_browser() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    register(&fake.client(), &rx.url).await;
    let inst = fake.default_instance();
    let m = inst.add_meeting(ActivitySeed::new("Oběd", OWNER)).unwrap();
    inst.edit("meeting", m, &json!({"title": "Večeře"}))
        .unwrap();
    inst.remove("meeting", m).unwrap();
    let p = inst.add_person(PersonSeed::new("Malá")).unwrap();
    wait_until("4 events", || rx.count() == 4).await;
    let events = rx.events();
    let mut want = triple("Meeting", m);
    want.push(("record.created".into(), "Person".into(), p));
    assert_eq!(summary(&events), want);
    for e in &events {
        assert_eq!(
            e["source"],
            json!({"name": "user", "description": "browser"})
        );
        assert_eq!(e["author"], json!(format!("ui@{DEFAULT_INSTANCE}.test")));
    }
}

#[tokio::test]
async fn the_api_key_name_is_settable() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    let client = fake.client();
    register(&client, &rx.url).await;
    fake.default_instance()
        .set_api_key_name(DEFAULT_USER, "outlook-bridge");
    client
        .meetings()
        .create(&NewActivity::new("Porada", Priority::Default, OWNER))
        .await
        .unwrap();
    wait_until("1 event", || rx.count() == 1).await;
    let ev = WebhookEvent::from_slice(rx.events()[0].to_string().as_bytes()).unwrap();
    assert!(ev.is_from_api_key("outlook-bridge"));
}

#[tokio::test]
async fn the_events_filter_is_respected() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    fake.client()
        .webhooks()
        .create(&NewWebhook::new(&rx.url).events([WebhookEventType::Deleted]))
        .await
        .unwrap();
    let inst = fake.default_instance();
    let m = inst.add_meeting(ActivitySeed::new("Oběd", OWNER)).unwrap();
    inst.edit("meeting", m, &json!({"title": "Večeře"}))
        .unwrap();
    inst.remove("meeting", m).unwrap();
    wait_until("1 event", || rx.count() == 1).await;
    assert_eq!(
        summary(&rx.events()),
        vec![("record.deleted".into(), "Meeting".into(), m)]
    );
    // No token registered: none is sent.
    assert_eq!(rx.seen.lock().unwrap()[0].0, None);
}

#[tokio::test]
async fn a_failing_receiver_gets_every_event_later_in_order() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    register(&fake.client(), &rx.url).await;
    rx.fail.store(true, Ordering::SeqCst);
    let inst = fake.default_instance();
    let ids: Vec<u64> = (0..3)
        .map(|k| inst.add_person(PersonSeed::new(&format!("P{k}"))).unwrap())
        .collect();
    wait_until("3 failed attempts", || {
        fake.deliveries().iter().filter(|d| !d.succeeded()).count() >= 3
    })
    .await;
    assert_eq!(rx.count(), 0);
    assert_eq!(fake.webhook_queue_len(), 3, "nothing is dropped");
    // Every attempt so far was the head of the queue (order is kept).
    let first = fake.deliveries()[0].event.clone();
    assert!(fake.deliveries().iter().all(|d| d.event == first));
    rx.fail.store(false, Ordering::SeqCst);
    wait_until("3 events", || rx.count() == 3).await;
    let got: Vec<u64> = summary(&rx.events()).into_iter().map(|s| s.2).collect();
    assert_eq!(got, ids);
    wait_until("an empty queue", || fake.webhook_queue_len() == 0).await;
    assert_eq!(fake.default_instance().webhook_ids().len(), 1);
}

#[tokio::test]
async fn seven_days_of_failures_remove_the_webhook() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    let client = fake.client();
    register(&client, &rx.url).await;
    rx.fail.store(true, Ordering::SeqCst);
    fake.default_instance()
        .add_person(PersonSeed::new("Nová"))
        .unwrap();
    wait_until("a failed attempt", || !fake.deliveries().is_empty()).await;
    fake.advance_clock(chrono::Duration::days(6));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        client.webhooks().list().await.unwrap().webhooks.len(),
        1,
        "6 days of failures: still there"
    );
    fake.advance_clock(chrono::Duration::days(1) + chrono::Duration::minutes(1));
    wait_until("the webhook's removal", || {
        fake.default_instance().webhook_ids().is_empty()
    })
    .await;
    assert!(client.webhooks().list().await.unwrap().webhooks.is_empty());
    assert_eq!(fake.webhook_queue_len(), 0);
    // The receiver recovers: nothing comes any more.
    rx.fail.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.count(), 0);
}

#[tokio::test]
async fn a_success_resets_the_seven_days() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    register(&fake.client(), &rx.url).await;
    rx.fail.store(true, Ordering::SeqCst);
    let inst = fake.default_instance();
    inst.add_person(PersonSeed::new("A")).unwrap();
    wait_until("a failed attempt", || !fake.deliveries().is_empty()).await;
    fake.advance_clock(chrono::Duration::days(5));
    rx.fail.store(false, Ordering::SeqCst);
    wait_until("1 event", || rx.count() == 1).await;
    rx.fail.store(true, Ordering::SeqCst);
    inst.add_person(PersonSeed::new("B")).unwrap();
    wait_until("another failed attempt", || {
        fake.deliveries().iter().filter(|d| !d.succeeded()).count() >= 2
    })
    .await;
    fake.advance_clock(chrono::Duration::days(5));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(inst.webhook_ids().len(), 1, "5 days since the last success");
}

#[tokio::test]
async fn delete_stops_deliveries() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    let client = fake.client();
    let id = register(&client, &rx.url).await;
    let inst = fake.default_instance();
    inst.add_person(PersonSeed::new("A")).unwrap();
    wait_until("1 event", || rx.count() == 1).await;
    client.webhooks().delete(&id).await.unwrap();
    inst.add_person(PersonSeed::new("B")).unwrap();
    client
        .meetings()
        .create(&NewActivity::new("Porada", Priority::Default, OWNER))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.count(), 1);
    assert_eq!(fake.webhook_queue_len(), 0);
}

#[tokio::test]
async fn dropping_the_fake_stops_deliveries() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    register(&fake.client(), &rx.url).await;
    rx.fail.store(true, Ordering::SeqCst);
    fake.default_instance()
        .add_person(PersonSeed::new("A"))
        .unwrap();
    wait_until("a failed attempt", || !fake.deliveries().is_empty()).await;
    drop(fake);
    rx.fail.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rx.count(), 0);
}

#[tokio::test]
async fn deliveries_keep_the_configured_pace() {
    let fake = FakeRaynet::start().await;
    let mut pace = PushSettings::fast();
    pace.interval = Duration::from_millis(150);
    fake.set_push_settings(pace);
    assert_eq!(
        PushSettings::documented().interval,
        Duration::from_millis(500),
        "2 events/s (SPEC-EN)"
    );
    let rx = Receiver::start().await;
    register(&fake.client(), &rx.url).await;
    let inst = fake.default_instance();
    for k in 0..3 {
        inst.add_person(PersonSeed::new(&format!("P{k}"))).unwrap();
    }
    wait_until("3 events", || rx.count() == 3).await;
    // The fake records a delivery once its answer is back, after the receiver counted it.
    wait_until("3 deliveries recorded", || fake.deliveries().len() == 3).await;
    let at: Vec<_> = fake.deliveries().iter().map(|d| d.at).collect();
    assert!(
        at[2] - at[0] >= chrono::Duration::milliseconds(290),
        "{at:?}"
    );
}
