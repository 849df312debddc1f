//! Invitation delivery by the fake, as Exchange does it: a meeting with attendees who have a
//! mailbox in the tenant lands in their calendars as their own copies (same `iCalUId`,
//! `isOrganizer: false`), follows the organiser's changes, is marked cancelled on the
//! organiser's cancel or delete, and shows in delta reads and change notifications.

use graph_client::client::models::{
    Attendee, DateTimeTimeZone, Event, ItemBody, Location, NewSubscription,
};
use graph_client::fake::{FakeGraph, GroupSeed, UserSeed};
use serde_json::{Value, json};

use crate::delta::token;
use crate::push::{Receiver, settle};
use crate::util::{LINK, at, client};

/// Alice organises; Bob and Dave have mailboxes; Carol has none; Erin is outside the group
/// but in the tenant.
struct Office {
    fake: FakeGraph,
    alice: String,
    bob: String,
    carol: String,
    dave: String,
    erin: String,
}

async fn office() -> Office {
    let fake = FakeGraph::start().await;
    let alice = fake.add_user(UserSeed::new("Alice"));
    let bob = fake.add_user(UserSeed::new("Bob"));
    let carol = fake.add_user(UserSeed::new("Carol").without_mailbox());
    let dave = fake.add_user(UserSeed::new("Dave"));
    let erin = fake.add_user(UserSeed::new("Erin"));
    fake.add_group(GroupSeed::new("Sales").members(&[&alice, &bob, &carol, &dave]));
    Office {
        fake,
        alice,
        bob,
        carol,
        dave,
        erin,
    }
}

fn meeting(subject: &str, attendees: &[&str]) -> Event {
    let mut e = Event::default();
    e.subject = Some(subject.to_owned());
    e.body = Some(ItemBody::text("Agenda"));
    e.start = Some(DateTimeTimeZone::utc(at(2030, 1, 10, 9, 0)));
    e.end = Some(DateTimeTimeZone::utc(at(2030, 1, 10, 10, 0)));
    e.location = Some(room("Room 1"));
    e.attendees = Some(
        attendees
            .iter()
            .map(|a| Attendee::required(*a, None))
            .collect(),
    );
    e.single_value_extended_properties = Some(vec![
        graph_client::client::models::SingleValueExtendedProperty::new(LINK, "meeting-1"),
    ]);
    e
}

fn room(name: &str) -> Location {
    let mut l = Location::default();
    l.display_name = Some(name.to_owned());
    l
}

/// The events of a mailbox as the fake shows them (single events and series masters).
fn events(fake: &FakeGraph, user: &str) -> Vec<Value> {
    fake.events(user)
}

/// The one event of a mailbox.
fn only(fake: &FakeGraph, user: &str) -> Value {
    let v = events(fake, user);
    assert_eq!(v.len(), 1, "{v:?}");
    v.into_iter().next().expect("one")
}

#[tokio::test]
async fn a_meeting_is_delivered_to_every_attendee_with_a_mailbox_in_the_tenant() {
    let o = office().await;
    let created = client(&o.fake)
        .events(&o.alice)
        .create(
            &meeting(
                "Kickoff",
                &[
                    "bob@contoso.test",
                    "carol@contoso.test",
                    "ERIN@contoso.test",
                    "guest@partner.example",
                ],
            ),
            "txn-1",
        )
        .await
        .expect("created");
    let organizer_copy = only(&o.fake, &o.alice);
    for attendee in [&o.bob, &o.erin] {
        let copy = only(&o.fake, attendee);
        assert_ne!(copy["id"], organizer_copy["id"], "the copy has its own id");
        assert_eq!(copy["iCalUId"], organizer_copy["iCalUId"]);
        assert_eq!(copy["isOrganizer"], false);
        assert_eq!(
            copy["organizer"]["emailAddress"]["address"],
            "alice@contoso.test"
        );
        assert_eq!(copy["responseStatus"]["response"], "notResponded");
        assert!(copy["responseStatus"]["time"].is_string(), "{copy}");
        assert_eq!(copy["type"], "singleInstance");
        assert_eq!(copy["seriesMasterId"], Value::Null);
        assert_eq!(copy["subject"], "Kickoff");
        assert_eq!(copy["start"], organizer_copy["start"]);
        assert_eq!(copy["end"], organizer_copy["end"]);
        assert_eq!(copy["location"]["displayName"], "Room 1");
        assert_eq!(copy["attendees"], organizer_copy["attendees"]);
        assert_eq!(copy["isCancelled"], false);
        // Our extended property and transaction id stay on the item we wrote.
        assert_eq!(copy["singleValueExtendedProperties"], json!([]));
        assert!(copy.get("transactionId").is_none(), "{copy}");
    }
    assert_eq!(organizer_copy["isOrganizer"], true);
    assert_eq!(organizer_copy["id"], json!(created.id));
    // No mailbox, no copy; the external guest is not in the tenant.
    assert!(events(&o.fake, &o.carol).is_empty());
    assert!(events(&o.fake, &o.dave).is_empty());
    // A repeated create (same transaction id) delivers nothing more.
    client(&o.fake)
        .events(&o.alice)
        .create(&meeting("Kickoff", &["bob@contoso.test"]), "txn-1")
        .await
        .expect("deduplicated");
    assert_eq!(events(&o.fake, &o.bob).len(), 1);
}

#[tokio::test]
async fn delivery_can_be_turned_off() {
    let o = office().await;
    o.fake.set_invitation_delivery(false);
    client(&o.fake)
        .events(&o.alice)
        .create(&meeting("Quiet", &["bob@contoso.test"]), "txn-1")
        .await
        .expect("created");
    assert_eq!(events(&o.fake, &o.alice).len(), 1);
    assert!(events(&o.fake, &o.bob).is_empty());
    // The invitation is still logged as mailed.
    assert_eq!(o.fake.invitations().len(), 1);
}

#[tokio::test]
async fn seeded_meetings_and_batched_creates_are_delivered_too() {
    let o = office().await;
    // A colleague outside the group organises in Outlook.
    o.fake.add_event(
        &o.erin,
        graph_client::fake::EventSeed::new(
            "All hands",
            at(2030, 1, 3, 9, 0),
            at(2030, 1, 3, 10, 0),
        )
        .attendee("bob@contoso.test"),
    );
    let copy = only(&o.fake, &o.bob);
    assert_eq!(copy["subject"], "All hands");
    assert_eq!(
        copy["organizer"]["emailAddress"]["address"],
        "erin@contoso.test"
    );
    // A planted invitation (organised by someone named by hand) is not delivered onwards.
    o.fake.add_event(
        &o.dave,
        graph_client::fake::EventSeed::new("Planted", at(2030, 1, 4, 9, 0), at(2030, 1, 4, 10, 0))
            .organizer("alice@contoso.test")
            .attendee("bob@contoso.test"),
    );
    assert_eq!(events(&o.fake, &o.bob).len(), 1);
    // Inside a $batch.
    let token = token(&o.fake).await;
    let body = json!({"requests": [{
        "id": "1", "method": "POST", "url": format!("/users/{}/events", o.alice),
        "headers": {"Content-Type": "application/json"},
        "body": {"subject": "Batched", "start": {"dateTime": "2030-01-05T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2030-01-05T10:00:00", "timeZone": "UTC"},
            "attendees": [{"emailAddress": {"address": "dave@contoso.test"}}]},
    }]});
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/$batch", o.fake.base_url()))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["responses"][0]["status"], 201, "{answer}");
    let mut dave: Vec<String> = events(&o.fake, &o.dave)
        .iter()
        .map(|e| e["subject"].as_str().unwrap_or_default().to_owned())
        .collect();
    dave.sort();
    assert_eq!(dave, vec!["Batched".to_owned(), "Planted".to_owned()]);
}

#[tokio::test]
async fn the_organisers_changes_reach_the_copies_and_the_attendees_edits_do_not() {
    let o = office().await;
    let c = client(&o.fake);
    let created = c
        .events(&o.alice)
        .create(&meeting("Plan", &["bob@contoso.test"]), "txn-1")
        .await
        .expect("created");
    let id = created.id.clone().expect("id");
    let before = only(&o.fake, &o.bob);

    // Subject, body, times and location.
    let mut patch = Event::default();
    patch.subject = Some("Plan v2".into());
    patch.body = Some(ItemBody::text("New agenda"));
    patch.start = Some(DateTimeTimeZone::utc(at(2030, 1, 11, 14, 0)));
    patch.end = Some(DateTimeTimeZone::utc(at(2030, 1, 11, 15, 0)));
    patch.location = Some(room("Room 2"));
    let updated = c
        .events(&o.alice)
        .update(&id, &patch, created.etag.as_deref().expect("etag"))
        .await
        .expect("updated");
    let after = only(&o.fake, &o.bob);
    assert_eq!(after["id"], before["id"], "the same copy, updated");
    assert_ne!(after["changeKey"], before["changeKey"]);
    assert_eq!(after["subject"], "Plan v2");
    assert_eq!(after["body"]["content"], "New agenda");
    assert_eq!(after["start"]["dateTime"], "2030-01-11T14:00:00.0000000");
    assert_eq!(after["end"]["dateTime"], "2030-01-11T15:00:00.0000000");
    assert_eq!(after["location"]["displayName"], "Room 2");

    // A change only the organiser's mailbox holds (categories) does not touch the copy.
    let mut categories = Event::default();
    categories.categories = Some(vec!["Blue".into()]);
    let updated = c
        .events(&o.alice)
        .update(&id, &categories, updated.etag.as_deref().expect("etag"))
        .await
        .expect("updated");
    assert_eq!(only(&o.fake, &o.bob)["changeKey"], after["changeKey"]);

    // Bob edits his copy: Alice's meeting stays as it is.
    let copy_id = after["id"].as_str().expect("id").to_owned();
    assert!(
        o.fake
            .edit_event(&o.bob, &copy_id, &json!({"subject": "My notes"}))
    );
    assert_eq!(only(&o.fake, &o.alice)["subject"], "Plan v2");

    // Dave added, Bob removed: Dave gets a copy, Bob's is cancelled.
    let mut attendees = Event::default();
    attendees.attendees = Some(vec![Attendee::required("dave@contoso.test", None)]);
    c.events(&o.alice)
        .update(&id, &attendees, updated.etag.as_deref().expect("etag"))
        .await
        .expect("updated");
    let dave = only(&o.fake, &o.dave);
    assert_eq!(dave["subject"], "Plan v2");
    assert_eq!(dave["iCalUId"], after["iCalUId"]);
    let bob = only(&o.fake, &o.bob);
    assert_eq!(bob["isCancelled"], true);
    assert_eq!(bob["subject"], "Canceled: My notes");
}

/// `POST /users/{u}/events/{id}/cancel` by hand (the client does not cancel).
async fn cancel(fake: &FakeGraph, user: &str, id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/users/{user}/events/{}/cancel",
            fake.base_url(),
            percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
        ))
        .bearer_auth(token(fake).await)
        .header("Prefer", r#"IdType="ImmutableId""#)
        .json(&json!({"Comment": "Sorry, cancelled."}))
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn cancel_and_delete_mark_the_copies_cancelled() {
    let o = office().await;
    let c = client(&o.fake);
    let cancelled = c
        .events(&o.alice)
        .create(&meeting("Review", &["bob@contoso.test"]), "txn-1")
        .await
        .expect("created");
    let deleted = c
        .events(&o.alice)
        .create(&meeting("Retro", &["bob@contoso.test"]), "txn-2")
        .await
        .expect("created");
    assert_eq!(events(&o.fake, &o.bob).len(), 2);

    // An attendee cannot cancel.
    let bobs_review = events(&o.fake, &o.bob)
        .into_iter()
        .find(|e| e["subject"] == "Review")
        .expect("copy");
    let refused = cancel(&o.fake, &o.bob, bobs_review["id"].as_str().expect("id")).await;
    assert_eq!(refused.status(), 400);

    // The organiser cancels: the meeting leaves her calendar, the copy says cancelled.
    let accepted = cancel(&o.fake, &o.alice, cancelled.id.as_deref().expect("id")).await;
    assert_eq!(accepted.status(), 202);
    assert_eq!(o.fake.request_count("events.cancel"), 2);
    // The organiser deletes the other one.
    c.events(&o.alice)
        .delete(deleted.id.as_deref().expect("id"), None)
        .await
        .expect("deleted");
    assert!(events(&o.fake, &o.alice).is_empty());
    let mut bob: Vec<(String, Value)> = events(&o.fake, &o.bob)
        .into_iter()
        .map(|e| {
            (
                e["subject"].as_str().unwrap_or_default().to_owned(),
                e["isCancelled"].clone(),
            )
        })
        .collect();
    bob.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        bob,
        vec![
            ("Canceled: Retro".to_owned(), json!(true)),
            ("Canceled: Review".to_owned(), json!(true)),
        ]
    );
    // Both mailed as cancellations.
    let kinds: Vec<_> = o.fake.invitations().iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == graph_client::fake::InvitationKind::Cancel)
            .count(),
        2
    );
}

#[tokio::test]
async fn series_copies_have_their_own_occurrences_and_show_a_cancelled_one() {
    let o = office().await;
    let c = client(&o.fake);
    let mut series = meeting("Weekly", &["bob@contoso.test"]);
    series.recurrence = Some(
        serde_json::from_value(json!({
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["thursday"]},
            "range": {"type": "numbered", "startDate": "2030-01-10", "numberOfOccurrences": 3},
        }))
        .expect("recurrence"),
    );
    let master = c
        .events(&o.alice)
        .create(&series, "txn-s")
        .await
        .expect("created");
    let master_id = master.id.clone().expect("id");
    let copy = only(&o.fake, &o.bob);
    assert_eq!(copy["type"], "seriesMaster");
    let copy_id = copy["id"].as_str().expect("id").to_owned();
    let (from, to) = (at(2030, 1, 1, 0, 0), at(2030, 2, 1, 0, 0));
    let alices = o.fake.occurrence_ids(&o.alice, &master_id, from, to);
    let bobs = o.fake.occurrence_ids(&o.bob, &copy_id, from, to);
    assert_eq!((alices.len(), bobs.len()), (3, 3));
    for (a, b) in alices.iter().zip(&bobs) {
        let (a, b) = (
            o.fake.event(&o.alice, a).expect("alice's"),
            o.fake.event(&o.bob, b).expect("bob's"),
        );
        assert_eq!(b["seriesMasterId"], json!(copy_id));
        assert_eq!(b["type"], "occurrence");
        assert_eq!(
            a["iCalUId"], b["iCalUId"],
            "each occurrence matches its twin"
        );
        assert_eq!(a["start"], b["start"]);
    }
    // The organiser deletes the second occurrence: Bob's shows it cancelled.
    c.events(&o.alice)
        .delete(&alices[1], None)
        .await
        .expect("deleted");
    assert_eq!(
        o.fake.occurrence_ids(&o.alice, &master_id, from, to).len(),
        2
    );
    let bobs_second = o.fake.event(&o.bob, &bobs[1]).expect("still there");
    assert_eq!(bobs_second["isCancelled"], true);
    assert_eq!(bobs_second["subject"], "Canceled: Weekly");
    assert_eq!(
        o.fake.event(&o.bob, &bobs[0]).expect("first")["isCancelled"],
        false
    );
}

#[tokio::test]
async fn changes_to_copies_show_in_delta_and_in_notifications() {
    let o = office().await;
    let c = client(&o.fake);
    let (from, to) = (at(2030, 1, 1, 0, 0), at(2030, 2, 1, 0, 0));
    let first = c.events(&o.bob).delta_full(from, to).await.expect("round");
    assert!(first.items.is_empty());
    let receiver = Receiver::start().await;
    let new = NewSubscription::new(
        format!("/users/{}/events", o.bob),
        receiver.url("/hook"),
        chrono::Utc::now() + chrono::Duration::days(2),
    )
    .client_state("s3cret-state");
    c.subscriptions().create(&new).await.expect("subscribed");

    // Created.
    let created = c
        .events(&o.alice)
        .create(&meeting("Sync", &["bob@contoso.test"]), "txn-1")
        .await
        .expect("created");
    let copy_id = only(&o.fake, &o.bob)["id"].as_str().expect("id").to_owned();
    let got = receiver.wait_for("/hook", 1).await;
    assert_eq!(
        got[0]
            .resource_data
            .clone()
            .unwrap_or_default()
            .id
            .as_deref(),
        Some(copy_id.as_str())
    );
    let round = c
        .events(&o.bob)
        .delta_resume(&first.delta_link)
        .await
        .expect("round");
    let seen: Vec<_> = round.items.iter().filter_map(|e| e.id.clone()).collect();
    assert!(seen.contains(&copy_id), "{seen:?}");

    // Updated by the organiser.
    let mut patch = Event::default();
    patch.subject = Some("Sync moved".into());
    c.events(&o.alice)
        .update(
            created.id.as_deref().expect("id"),
            &patch,
            created.etag.as_deref().expect("etag"),
        )
        .await
        .expect("updated");
    let got = receiver.wait_for("/hook", 2).await;
    assert_eq!(
        got[1].change_type,
        Some(graph_client::client::models::ChangeType::Updated)
    );
    let round2 = c
        .events(&o.bob)
        .delta_resume(&round.delta_link)
        .await
        .expect("round");
    let copy = round2
        .items
        .iter()
        .find(|e| e.id.as_deref() == Some(copy_id.as_str()))
        .expect("the copy changed");
    assert_eq!(copy.subject.as_deref(), Some("Sync moved"));

    // Deleted by the organiser: the copy is updated to cancelled, not deleted.
    c.events(&o.alice)
        .delete(created.id.as_deref().expect("id"), None)
        .await
        .expect("deleted");
    let got = receiver.wait_for("/hook", 3).await;
    assert_eq!(
        got[2].change_type,
        Some(graph_client::client::models::ChangeType::Updated)
    );
    let round3 = c
        .events(&o.bob)
        .delta_resume(&round2.delta_link)
        .await
        .expect("round");
    let copy = round3
        .items
        .iter()
        .find(|e| e.id.as_deref() == Some(copy_id.as_str()))
        .expect("the copy changed");
    assert_eq!(copy.is_cancelled, Some(true));
    assert_eq!(copy.subject.as_deref(), Some("Canceled: Sync moved"));
    settle().await;
    assert_eq!(
        receiver.received("/hook").len(),
        3,
        "one notification per change"
    );
}
