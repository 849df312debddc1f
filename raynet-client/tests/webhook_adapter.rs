//! `adapter::push` against the fake: the keeper registers our webhook once,
//! registers it again after it was deleted (by us or by the fake after 7 days
//! of failures) and replaces a stale one; `classify` reads real deliveries;
//! `activity_owner` routes a record by its owner.

use std::sync::atomic::Ordering;

use raynet_client::adapter::RaynetCalendar;
use raynet_client::adapter::push::{
    WebhookKeeper, WebhookSignal, WebhookState, activity_owner, classify,
};
use raynet_client::fake::{
    ActivitySeed, CompanySeed, DEFAULT_API_KEY_NAME, DEFAULT_INSTANCE, FakeRaynet, PersonSeed,
};
use raynet_client::models::{NewActivity, NewWebhook, Priority, WebhookEvent, WebhookEventType};
use sync_core::{ErrorKind, ReadSide, RemoteId};
use sync_secret::Secret;

use crate::util::{Receiver, wait_until};

/// The API Robot's person id (the default user's person).
const OWNER: u64 = 1;
const TOKEN: &str = "sync-hook-secret";
/// A loopback URL nothing listens on (for tests that deliver nothing).
const NOWHERE: &str = "http://127.0.0.1:9/hook";

fn keeper(fake: &FakeRaynet, url: &str) -> WebhookKeeper {
    WebhookKeeper::new(fake.client(), url, Secret::new(TOKEN))
}

fn rid(s: &str) -> RemoteId {
    RemoteId::new(s).unwrap()
}

async fn created(k: &WebhookKeeper) -> String {
    match k.ensure().await.unwrap() {
        WebhookState::Created { id } => id,
        other => panic!("expected a registration, got {other:?}"),
    }
}

#[tokio::test]
async fn ensure_registers_once_and_leaves_other_webhooks_alone() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    let client = fake.client();
    let other = client
        .webhooks()
        .create(&NewWebhook::new("http://127.0.0.1:9/other"))
        .await
        .unwrap();
    let k = keeper(&fake, &rx.url);
    let id = created(&k).await;
    let again = k.ensure().await.unwrap();
    assert_eq!(again, WebhookState::Registered { id: id.clone() });
    assert_eq!(fake.requests("PUT /webhook/"), 2, "the other one and ours");
    assert_eq!(fake.requests("DELETE /webhook/{uuid}/"), 0);
    let list = client.webhooks().list().await.unwrap();
    let ours = list.webhooks.iter().find(|h| h.webhook_id == id).unwrap();
    assert_eq!(ours.url, rx.url);
    assert_eq!(ours.secret_token, Some(Secret::new(TOKEN)));
    assert_eq!(ours.events_filter, WebhookEventType::ALL.to_vec());
    let shown = format!("{again} {again:?} {k:?}");
    assert!(shown.contains(&id) && !shown.contains(TOKEN), "{shown}");

    assert!(k.remove().await.unwrap());
    assert!(!k.remove().await.unwrap(), "nothing left to remove");
    assert_eq!(fake.default_instance().webhook_ids(), vec![other]);
}

#[tokio::test]
async fn ensure_registers_again_after_a_delete_through_the_api() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    let k = keeper(&fake, &rx.url);
    let first = created(&k).await;
    fake.client().webhooks().delete(&first).await.unwrap();
    let second = created(&k).await;
    assert_ne!(first, second);
    assert_eq!(fake.default_instance().webhook_ids(), vec![second]);
    assert_eq!(fake.requests("PUT /webhook/"), 2);
}

#[tokio::test]
async fn ensure_registers_again_after_the_fake_removed_a_failing_webhook() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    let k = keeper(&fake, &rx.url);
    let first = created(&k).await;
    rx.fail.store(true, Ordering::SeqCst);
    let inst = fake.default_instance();
    inst.add_person(PersonSeed::new("Nová")).unwrap();
    wait_until("a failed attempt", || !fake.deliveries().is_empty()).await;
    fake.advance_clock(chrono::Duration::days(7) + chrono::Duration::minutes(1));
    wait_until("the webhook's removal", || inst.webhook_ids().is_empty()).await;

    rx.fail.store(false, Ordering::SeqCst);
    let second = created(&k).await;
    assert_ne!(first, second);
    let p = inst.add_person(PersonSeed::new("Další")).unwrap();
    wait_until("1 event", || rx.count() == 1).await;
    let (token, body) = rx.seen.lock().unwrap()[0].clone();
    assert_eq!(token.as_deref(), Some(TOKEN));
    let ev = WebhookEvent::from_slice(body.to_string().as_bytes()).unwrap();
    assert_eq!(
        classify(&ev, DEFAULT_API_KEY_NAME),
        WebhookSignal::Contacts {
            id: rid(&p.to_string()),
            deleted: false
        }
    );
}

#[tokio::test]
async fn a_stale_registration_is_replaced_and_duplicates_are_dropped() {
    // Another token; no token and two types; our token and one type.
    let stale = [
        NewWebhook::new(NOWHERE).secret_token("old-token"),
        NewWebhook::new(NOWHERE).events([WebhookEventType::Created, WebhookEventType::Updated]),
        NewWebhook::new(NOWHERE)
            .secret_token(TOKEN)
            .events([WebhookEventType::Deleted]),
    ];
    for body in stale {
        let fake = FakeRaynet::start().await;
        let client = fake.client();
        let k = keeper(&fake, NOWHERE);
        let old = client.webhooks().create(&body).await.unwrap();
        let new = created(&k).await;
        assert_ne!(old, new);
        assert_eq!(fake.default_instance().webhook_ids(), vec![new.clone()]);
        assert_eq!(fake.requests("DELETE /webhook/{uuid}/"), 1);
        let list = client.webhooks().list().await.unwrap();
        assert_eq!(list.webhooks[0].secret_token, Some(Secret::new(TOKEN)));
        assert_eq!(
            list.webhooks[0].events_filter,
            WebhookEventType::ALL.to_vec()
        );
    }

    // Two good ones with our URL: the first is kept, the other deleted, nothing registered.
    let fake = FakeRaynet::start().await;
    let k = keeper(&fake, NOWHERE);
    let first = created(&k).await;
    fake.client()
        .webhooks()
        .create(&NewWebhook::new(NOWHERE).secret_token(TOKEN))
        .await
        .unwrap();
    assert_eq!(
        k.ensure().await.unwrap(),
        WebhookState::Registered { id: first.clone() }
    );
    assert_eq!(fake.default_instance().webhook_ids(), vec![first]);
    assert_eq!(fake.requests("PUT /webhook/"), 2);
}

#[tokio::test]
async fn deliveries_classify_as_echo_calendar_contacts_or_ignored() {
    let fake = FakeRaynet::start().await;
    let rx = Receiver::start().await;
    let client = fake.client();
    created(&keeper(&fake, &rx.url)).await;
    let inst = fake.default_instance();
    let cal = RaynetCalendar::new(fake.client(), OWNER);

    // Our own write through the API, then a user's changes in the UI.
    client
        .meetings()
        .create(&NewActivity::new("Porada", Priority::Default, OWNER))
        .await
        .unwrap();
    let m = inst
        .add_meeting(
            ActivitySeed::new("Oběd", OWNER)
                .scheduled_local("2026-05-04 12:00", "2026-05-04 13:00"),
        )
        .unwrap();
    inst.edit("meeting", m, &serde_json::json!({"title": "Večeře"}))
        .unwrap();
    let e = inst.add_event(ActivitySeed::new("Veletrh", OWNER)).unwrap();
    let p = inst.add_person(PersonSeed::new("Malá")).unwrap();
    inst.add_company(CompanySeed::new("Acme")).unwrap();
    let meeting = rid(&format!("m-{m}"));
    assert!(cal.get(&meeting).await.unwrap().is_some());
    inst.remove("meeting", m).unwrap();
    inst.remove("person", p).unwrap();
    // What the engine uses to confirm a `record.deleted`.
    assert_eq!(cal.get(&meeting).await.unwrap(), None);

    wait_until("8 events", || rx.count() == 8).await;
    let events: Vec<WebhookEvent> = rx
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(token, body)| {
            assert_eq!(token.as_deref(), Some(TOKEN));
            WebhookEvent::from_slice(body.to_string().as_bytes()).unwrap()
        })
        .collect();
    let got: Vec<WebhookSignal> = events
        .iter()
        .map(|ev| classify(ev, DEFAULT_API_KEY_NAME))
        .collect();
    let ui = Some(format!("ui@{DEFAULT_INSTANCE}.test"));
    let calendar = |id: String, deleted| WebhookSignal::Calendar {
        id: rid(&id),
        deleted,
        author: ui.clone(),
    };
    let contacts = |deleted| WebhookSignal::Contacts {
        id: rid(&p.to_string()),
        deleted,
    };
    assert_eq!(got[0], WebhookSignal::Echo);
    assert_eq!(
        got[1..5],
        [
            calendar(format!("m-{m}"), false),
            calendar(format!("m-{m}"), false),
            calendar(format!("e-{e}"), false),
            contacts(false),
        ]
    );
    assert!(
        matches!(&got[5], WebhookSignal::Ignored(why) if why.contains("Company")),
        "{:?}",
        got[5]
    );
    assert_eq!(got[6..], [calendar(format!("m-{m}"), true), contacts(true)]);
    // The echo is ours only under our key's name.
    assert!(matches!(
        classify(&events[0], "another-key"),
        WebhookSignal::Calendar { deleted: false, .. }
    ));
}

#[tokio::test]
async fn activity_owner_reads_the_owner_of_a_meeting_or_event() {
    let fake = FakeRaynet::start().await;
    let client = fake.client();
    let inst = fake.default_instance();
    let jana = inst
        .add_user("jana@acme.test", "crm-jana", "Jana", "Nováková")
        .unwrap()
        .person_id;
    let m = inst.add_meeting(ActivitySeed::new("Oběd", jana)).unwrap();
    let e = inst.add_event(ActivitySeed::new("Veletrh", OWNER)).unwrap();
    let meeting = rid(&format!("m-{m}"));
    assert_eq!(activity_owner(&client, &meeting).await.unwrap(), Some(jana));
    assert_eq!(
        activity_owner(&client, &rid(&format!("e-{e}")))
            .await
            .unwrap(),
        Some(OWNER)
    );
    assert_eq!(fake.requests("GET /meeting/{id}/"), 1);
    assert_eq!(fake.requests("GET /event/{id}/"), 1);
    inst.remove("meeting", m).unwrap();
    assert_eq!(activity_owner(&client, &meeting).await.unwrap(), None);
    let err = activity_owner(&client, &rid("42")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
