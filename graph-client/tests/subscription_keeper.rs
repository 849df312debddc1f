//! The adapter's change-notification helpers against the fake: `SubscriptionKeeper` (create,
//! quiet while young, renew at half-life, recreate what expired, remove, list, reauthorize)
//! and the echo of the sides' own writes (`notification_version`, `notification_item`).

use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use graph_client::adapter::{
    GraphCalendar, GraphContacts, KeepOutcome, KeptSubscription, SubscriptionKeeper,
    contact_folder_in_cursor, notification_item, notification_version, version_of,
    watched_resource,
};
use graph_client::client::models::Subscription;
use graph_client::fake::FakeGraph;
use serde_json::json;
use sync_core::{
    Collection, Contact, ContactField, ErrorKind, EventField, FieldSet, IdempotencyKey,
    ReadRequest, ReadSide, RemoteId, Version, WriteSide,
};

use crate::push::{Receiver, SECRET};
use crate::util::{World, client, meeting, world};

fn keeper(fake: &FakeGraph, receiver: &Receiver) -> SubscriptionKeeper {
    SubscriptionKeeper::new(
        client(fake),
        receiver.url("/hook"),
        receiver.url("/lifecycle"),
        SECRET.into(),
    )
}

/// A world, a receiver, a keeper delivering to it, and the resource of Alice's calendar.
async fn setup() -> (World, Receiver, SubscriptionKeeper, String) {
    let w = world().await;
    let receiver = Receiver::start().await;
    let keeper = keeper(&w.fake, &receiver);
    let resource = watched_resource(&w.alice, Collection::Calendar, None).expect("calendar");
    (w, receiver, keeper, resource)
}

/// The subscription as the fake holds it.
async fn held(fake: &FakeGraph, id: &str) -> Subscription {
    client(fake).subscriptions().get(id).await.expect("get")
}

fn created(outcome: KeepOutcome) -> KeptSubscription {
    match outcome {
        KeepOutcome::Created(k) => k,
        other => panic!("expected a creation: {other:?}"),
    }
}

#[tokio::test]
async fn ensure_creates_once_stays_quiet_while_young_and_renews_at_half_life() {
    let (w, receiver, keeper, resource) = setup().await;
    let now = Utc::now();
    let kept = created(keeper.ensure(&resource, None, now).await.expect("ensure"));
    assert_eq!(kept.resource, resource);
    assert_eq!(kept.renewed_at, now);
    let sub = held(&w.fake, &kept.id).await;
    assert_eq!(Some(kept.expires), sub.expiration_date_time);
    assert_eq!(sub.resource.as_deref(), Some(resource.as_str()));
    assert_eq!(sub.change_type.as_deref(), Some("created,updated,deleted"));
    assert_eq!(sub.notification_url, Some(receiver.url("/hook")));
    assert_eq!(
        sub.lifecycle_notification_url,
        Some(receiver.url("/lifecycle"))
    );
    assert_eq!(sub.client_state, Some(SECRET.into()));
    // Listed as fetched alone, but without the client state (as Graph lists).
    let mut unsecret = sub.clone();
    unsecret.client_state = None;
    let listed = client(&w.fake).subscriptions().list().await.expect("list");
    assert_eq!(listed, vec![unsecret]);
    assert!(kept.expires <= now + Duration::minutes(10_080));
    assert!(kept.expires > now + Duration::minutes(10_000));
    assert_eq!(w.fake.subscription_ids(), vec![kept.id.clone()]);
    assert_eq!(w.fake.request_count("subscriptions.create"), 1);

    // Young: no request at all, the same subscription.
    let before = w.fake.requests().len();
    for later in [
        now,
        now + Duration::days(1),
        kept.renew_due() - Duration::seconds(1),
    ] {
        let out = keeper
            .ensure(&resource, Some(&kept), later)
            .await
            .expect("ensure");
        assert_eq!(out, KeepOutcome::Kept(kept.clone()));
    }
    assert_eq!(w.fake.requests().len(), before);

    // From half-life on: renewed, with the expiry the server granted read back.
    let due = kept.renew_due();
    let renewed = match keeper.ensure(&resource, Some(&kept), due).await {
        Ok(KeepOutcome::Renewed(k)) => k,
        other => panic!("expected a renewal: {other:?}"),
    };
    assert_eq!(renewed.id, kept.id);
    assert_eq!(renewed.renewed_at, due);
    assert!(renewed.expires > kept.expires);
    assert_eq!(
        Some(renewed.expires),
        held(&w.fake, &kept.id).await.expiration_date_time
    );
    // Asked for `due` + 10,075 minutes, the fake granted at most 10,080 from its own now.
    assert!(renewed.expires < due + Duration::minutes(10_075));
    assert_eq!(w.fake.request_count("subscriptions.update"), 1);
    assert_eq!(w.fake.request_count("subscriptions.create"), 1);

    // A longer lifetime asked for is not assumed: the granted one is kept.
    let greedy = keeper.clone().lifetime(Duration::days(30));
    let other = watched_resource("someone-else", Collection::Calendar, None).expect("calendar");
    assert!(
        greedy.ensure(&other, None, now).await.is_err(),
        "unknown user"
    );
    let folder = w.fake.add_contact_folder(&w.alice, "Raynet");
    let contacts =
        watched_resource(&w.alice, Collection::Contacts, Some(&folder)).expect("contacts");
    let long = created(greedy.ensure(&contacts, None, now).await.expect("ensure"));
    assert!(long.expires <= Utc::now() + Duration::minutes(10_080));
    assert!(long.renew_due() < now + Duration::days(4));
}

#[tokio::test]
async fn an_expired_subscription_is_missing_from_live_ids_and_recreated() {
    let (w, receiver, keeper, resource) = setup().await;
    assert!(keeper.live_ids().await.expect("list").is_empty());
    let kept = created(
        keeper
            .ensure(&resource, None, Utc::now())
            .await
            .expect("ensure"),
    );
    assert_eq!(
        keeper
            .live_ids()
            .await
            .expect("list")
            .into_iter()
            .collect::<Vec<_>>(),
        vec![kept.id.clone()]
    );

    w.fake.advance_clock(StdDuration::from_secs(8 * 24 * 3600));
    assert!(keeper.live_ids().await.expect("list").is_empty());
    let later = Utc::now() + Duration::days(8);
    let again = match keeper.ensure(&resource, Some(&kept), later).await {
        Ok(KeepOutcome::Recreated(k)) => k,
        other => panic!("expected a recreation: {other:?}"),
    };
    assert_ne!(again.id, kept.id);
    assert_eq!(again.resource, resource);
    assert_eq!(again.renewed_at, later);
    assert_eq!(
        w.fake.request_count("subscriptions.update"),
        1,
        "the renewal got 404"
    );
    assert_eq!(w.fake.request_count("subscriptions.create"), 2);
    let live = keeper.live_ids().await.expect("list");
    assert!(live.contains(&again.id) && !live.contains(&kept.id));
    assert_eq!(live.len(), 1);

    // The new subscription delivers.
    GraphCalendar::new(client(&w.fake), w.alice.clone())
        .create(&meeting(3), &IdempotencyKey::new("k-3").expect("key"))
        .await
        .expect("created");
    let got = receiver.wait_for("/hook", 1).await;
    assert_eq!(got[0].subscription_id, again.id);
}

#[tokio::test]
async fn remove_deletes_another_resource_replaces_and_reauthorize_reaches_graph() {
    let (w, _receiver, keeper, resource) = setup().await;
    let now = Utc::now();
    let kept = created(keeper.ensure(&resource, None, now).await.expect("ensure"));
    keeper.reauthorize(&kept.id).await.expect("reauthorized");
    assert_eq!(w.fake.reauthorizations(&kept.id), 1);
    keeper.remove(&kept).await.expect("removed");
    assert!(w.fake.subscription_ids().is_empty());
    keeper.remove(&kept).await.expect("already gone is fine");
    let err = keeper.reauthorize(&kept.id).await.expect_err("gone");
    assert_eq!(err.kind(), ErrorKind::NotFound);

    // The kept subscription watches another resource (the contact folder changed): it is
    // deleted and one for the new resource created.
    let calendar = created(keeper.ensure(&resource, None, now).await.expect("ensure"));
    let folder = w.fake.add_contact_folder(&w.alice, "Raynet");
    let contacts =
        watched_resource(&w.alice, Collection::Contacts, Some(&folder)).expect("contacts");
    let moved = created(
        keeper
            .ensure(&contacts, Some(&calendar), now)
            .await
            .expect("ensure"),
    );
    assert_eq!(moved.resource, contacts);
    assert_eq!(w.fake.subscription_ids(), vec![moved.id.clone()]);
}

/// The `n`-th notification on the hook, of subscription `sub`: its item and version.
async fn nth(receiver: &Receiver, n: usize, sub: &str) -> (RemoteId, Option<Version>) {
    let got = receiver.wait_for("/hook", n).await;
    assert_eq!(got.len(), n, "one notification per write: {got:?}");
    let last = &got[n - 1];
    assert_eq!(last.subscription_id, sub);
    let data = last.resource_data.as_ref().expect("resourceData");
    (
        notification_item(last).expect("item"),
        notification_version(data),
    )
}

#[tokio::test]
async fn notifications_of_the_sides_own_writes_carry_the_written_version() {
    let (w, receiver, keeper, calendar_resource) = setup().await;
    let now = Utc::now();
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let contacts = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    let folder = contacts.folder_id().await.expect("folder");
    // The folder a stored contacts cursor names gives the same resource.
    let read = contacts
        .read(&ReadRequest {
            window: None,
            cursor: None,
        })
        .await
        .expect("read");
    let cursor = read.cursor.expect("cursor");
    let stored_folder = contact_folder_in_cursor(&cursor).expect("folder in cursor");
    assert_eq!(stored_folder, folder);
    let contacts_resource =
        watched_resource(&w.alice, Collection::Contacts, Some(&stored_folder)).expect("contacts");
    let cal_sub = created(
        keeper
            .ensure(&calendar_resource, None, now)
            .await
            .expect("ensure"),
    );
    let contact_sub = created(
        keeper
            .ensure(&contacts_resource, None, now)
            .await
            .expect("ensure"),
    );

    // The calendar: create and update through the side, then a user's edit in Outlook.
    let mut event = meeting(5);
    let written = cal
        .create(&event, &IdempotencyKey::new("k-5").expect("key"))
        .await
        .expect("created");
    let (item, version) = nth(&receiver, 1, &cal_sub.id).await;
    assert_eq!(item, written.id);
    assert_eq!(version.as_ref(), Some(&written.version));
    event.title = "Meeting 5, moved".into();
    let updated = cal
        .update(
            &written.id,
            &event,
            FieldSet::of(&[EventField::Title]),
            Some(&written.version),
        )
        .await
        .expect("updated");
    assert_ne!(updated.version, written.version);
    let (item, version) = nth(&receiver, 2, &cal_sub.id).await;
    assert_eq!(item, written.id);
    assert_eq!(version.as_ref(), Some(&updated.version));
    assert!(w.fake.edit_event(
        &w.alice,
        written.id.as_str(),
        &json!({"subject": "user edit"})
    ));
    let (item, version) = nth(&receiver, 3, &cal_sub.id).await;
    assert_eq!(item, written.id);
    let version = version.expect("version");
    assert_ne!(version, updated.version, "not our echo");
    let etag = w.fake.event(&w.alice, written.id.as_str()).expect("event")["@odata.etag"].clone();
    let current = version_of(None, etag.as_str()).expect("etag");
    assert_eq!(version, Version::new(current).expect("version"));

    // The contact folder: the side's create, then a user's edit.
    let person = Contact {
        given_name: "Jana".into(),
        surname: "Nováková".into(),
        ..Contact::default()
    };
    let written = contacts
        .create(&person, &IdempotencyKey::new("p-1").expect("key"))
        .await
        .expect("created");
    let (item, version) = nth(&receiver, 4, &contact_sub.id).await;
    assert_eq!(item, written.id);
    assert_eq!(version.as_ref(), Some(&written.version));
    let mut renamed = person.clone();
    renamed.surname = "Svobodová".into();
    let updated = contacts
        .update(
            &written.id,
            &renamed,
            FieldSet::of(&[ContactField::Surname]),
            Some(&written.version),
        )
        .await
        .expect("updated");
    let (_, version) = nth(&receiver, 5, &contact_sub.id).await;
    assert_eq!(version.as_ref(), Some(&updated.version));
    assert!(w.fake.edit_contact(
        &w.alice,
        written.id.as_str(),
        &json!({"surname": "Dvořáková"})
    ));
    let (item, version) = nth(&receiver, 6, &contact_sub.id).await;
    assert_eq!(item, written.id);
    assert!(version.is_some());
    assert_ne!(version.as_ref(), Some(&updated.version), "not our echo");
}
