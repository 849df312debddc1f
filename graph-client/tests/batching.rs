//! `$batch` writes through the engine's sides: `GraphContacts::create_many` and
//! `GraphCalendar::create_many` (20 a batch, one result per item in order, a throttled
//! sub-request retried alone, a lost batch answer reported `Interrupted`), and
//! `GraphContacts::update_many` and `GraphCalendar::update_many` (the direct `PATCH`es 20 a
//! batch, each item failing or succeeding as its single update would).

use std::collections::BTreeSet;

use graph_client::adapter::{GraphCalendar, GraphContacts};
use graph_client::fake::{Fault, InvitationKind};
use sync_core::{
    Contact, Email, ErrorKind, Event, EventField, FieldSet, IdempotencyKey, ProviderError,
    ReadRequest, ReadSide, RemoteId, Schedule, UpdateRequest, Version, WriteSide, Written,
};

use crate::util::{at, client, meeting, world};

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::new(k).expect("valid key")
}

fn person(n: usize) -> Contact {
    Contact {
        given_name: "Test".into(),
        surname: format!("Person {n:03}"),
        emails: vec![Email::new(&format!("p{n}@example.test")).expect("address")],
        company: "Firma".into(),
        ..Contact::default()
    }
}

fn people(n: usize) -> (Vec<Contact>, Vec<IdempotencyKey>) {
    let items: Vec<Contact> = (0..n).map(person).collect();
    let keys: Vec<IdempotencyKey> = (0..n).map(|i| key(&format!("p-{i}"))).collect();
    (items, keys)
}

fn pairs<'a, T>(items: &'a [T], keys: &'a [IdempotencyKey]) -> Vec<(&'a T, &'a IdempotencyKey)> {
    items.iter().zip(keys).collect()
}

/// Surnames of the contacts in the side's folder (each once, or the test fails).
async fn surnames(side: &GraphContacts, w: &crate::util::World) -> BTreeSet<String> {
    let folder = side.folder_id().await.expect("folder");
    let all = w.fake.contacts(&w.alice, &folder);
    let names: Vec<String> = all
        .iter()
        .filter_map(|c| c.get("surname").and_then(|s| s.as_str()).map(str::to_owned))
        .collect();
    let unique: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(unique.len(), names.len(), "no duplicate: {names:?}");
    unique
}

#[tokio::test]
async fn twenty_five_contacts_take_two_batches() {
    let w = world().await;
    let side = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    assert_eq!(side.max_batch(), 20);
    side.folder_id().await.expect("folder");
    let (items, keys) = people(25);
    let results = side.create_many(&pairs(&items, &keys)).await;
    assert_eq!(results.len(), 25);
    assert_eq!(w.fake.request_count("batch"), 2, "20 + 5");
    assert_eq!(w.fake.request_count("contacts.create"), 25);
    let mut ids = BTreeSet::new();
    for (i, r) in results.iter().enumerate() {
        let written = r.as_ref().expect("created");
        assert!(ids.insert(written.id.clone()), "distinct ids");
        // In order: the i-th result is the i-th item.
        assert_eq!(
            written.item.as_ref().map(|c| c.surname.clone()),
            Some(items[i].surname.clone())
        );
    }
    assert_eq!(surnames(&side, &w).await.len(), 25);
    // The key is on each contact (the engine's lookup after a lost answer finds it).
    let found = side
        .find_by_key(&keys[24])
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.item.surname, items[24].surname);
    // And a read sees them all.
    let read = side
        .read(&ReadRequest {
            window: None,
            cursor: None,
        })
        .await
        .expect("read");
    assert_eq!(read.items.len(), 25);
}

#[tokio::test]
async fn a_throttled_contact_is_retried_alone_without_a_duplicate() {
    let w = world().await;
    let side = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    side.folder_id().await.expect("folder");
    w.fake.inject(
        Fault::throttle("0.02")
            .on("contacts.create")
            .for_mailbox(&w.alice),
    );
    let (items, keys) = people(20);
    let results = side.create_many(&pairs(&items, &keys)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(w.fake.request_count("batch"), 2, "one retry batch");
    assert_eq!(
        w.fake.request_count("contacts.create"),
        21,
        "only the throttled one went again"
    );
    assert_eq!(surnames(&side, &w).await.len(), 20, "each contact once");
}

#[tokio::test]
async fn a_failed_sub_request_maps_through_classify() {
    let w = world().await;
    let side = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    side.folder_id().await.expect("folder");
    w.fake.inject(Fault::status(400).on("contacts.create"));
    let (items, keys) = people(3);
    let results = side.create_many(&pairs(&items, &keys)).await;
    let failed: Vec<ErrorKind> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(sync_core::ProviderError::kind))
        .collect();
    assert_eq!(failed, vec![ErrorKind::Invalid], "{results:?}");
    assert_eq!(surnames(&side, &w).await.len(), 2);
}

#[tokio::test]
async fn a_lost_batch_answer_makes_every_item_interrupted() {
    let w = world().await;
    let side = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    side.folder_id().await.expect("folder");
    w.fake.inject(Fault::lost_response(504).on("batch"));
    let (items, keys) = people(4);
    let results = side.create_many(&pairs(&items, &keys)).await;
    assert_eq!(results.len(), 4);
    for r in &results {
        assert_eq!(
            r.as_ref()
                .map(|_| ())
                .map_err(sync_core::ProviderError::kind),
            Err(ErrorKind::Interrupted),
            "{r:?}"
        );
    }
    // The batch was not sent again (contacts have no transactionId); the engine finds each.
    assert_eq!(w.fake.request_count("batch"), 1);
    for k in &keys {
        assert!(side.find_by_key(k).await.expect("find").is_some());
    }
    assert_eq!(surnames(&side, &w).await.len(), 4);
}

#[tokio::test]
async fn events_are_batched_with_their_transaction_ids() {
    let w = world().await;
    let side = GraphCalendar::new(client(&w.fake), w.alice.clone());
    assert_eq!(side.max_batch(), 20);
    w.fake.inject(
        Fault::throttle("0.02")
            .on("events.create")
            .for_mailbox(&w.alice),
    );
    let items: Vec<Event> = (0..22).map(meeting).collect();
    let keys: Vec<IdempotencyKey> = (0..22).map(|i| key(&format!("m-{i}"))).collect();
    let results = side.create_many(&pairs(&items, &keys)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(w.fake.request_count("batch"), 3, "20 (+1 retried) + 2");
    assert_eq!(w.fake.events(&w.alice).len(), 22);
    // A repeat with the same keys is deduplicated by transactionId.
    let again = side.create_many(&pairs(&items[..2], &keys[..2])).await;
    assert!(again.iter().all(Result::is_ok), "{again:?}");
    assert_eq!(w.fake.events(&w.alice).len(), 22, "no duplicate");
    let found = side
        .find_by_key(&keys[21])
        .await
        .expect("find")
        .expect("found");
    assert_eq!(found.item.title, "Meeting 21");
}

#[tokio::test]
async fn a_resumed_contacts_read_needs_no_folder_lookup() {
    let w = world().await;
    let first = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    let full = first
        .read(&ReadRequest {
            window: None,
            cursor: None,
        })
        .await
        .expect("read");
    let lookups = w.fake.request_count("contactFolders.list");
    // A new side (the next round) resumes from the cursor: one request, no folder lookup.
    let before = w.fake.requests().len();
    let next = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    let idle = next
        .read(&ReadRequest {
            window: None,
            cursor: full.cursor.clone(),
        })
        .await
        .expect("read");
    assert_eq!(idle.completeness, sync_core::Completeness::Delta);
    assert_eq!(w.fake.request_count("contactFolders.list"), lookups);
    assert_eq!(
        w.fake
            .requests()
            .iter()
            .skip(before)
            .filter(|r| r.endpoint != "token")
            .count(),
        1
    );
    // The folder deleted since: found or made again, read whole.
    let folder = next.folder_id().await.expect("folder");
    assert!(w.fake.delete_contact_folder(&w.alice, &folder));
    let again = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    let read = again
        .read(&ReadRequest {
            window: None,
            cursor: idle.cursor.clone(),
        })
        .await
        .expect("read");
    assert_eq!(read.completeness, sync_core::Completeness::Complete);
    assert_ne!(again.folder_id().await.expect("folder"), folder);
}

#[tokio::test]
async fn a_rate_limited_batch_keeps_going_while_it_makes_progress() {
    let w = world().await;
    let side = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    side.folder_id().await.expect("folder");
    // 3 requests per 50 ms for the mailbox: 20 creates need 7 rounds, more than the client's
    // 6 attempts, but every round gets some through.
    w.fake
        .set_rate_limit(3, std::time::Duration::from_millis(50));
    let (items, keys) = people(20);
    let results = side.create_many(&pairs(&items, &keys)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(w.fake.request_count("batch") >= 7);
    assert!(w.fake.status_count(429) > 0);
    assert_eq!(surnames(&side, &w).await.len(), 20, "each contact once");
}

#[tokio::test]
async fn twenty_five_contact_updates_take_two_batches_and_a_stale_one_fails_alone() {
    let w = world().await;
    let side = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    let (items, keys) = people(25);
    let written: Vec<_> = side
        .create_many(&pairs(&items, &keys))
        .await
        .into_iter()
        .map(|r| r.expect("created"))
        .collect();
    // A user edits the 4th contact in Outlook: the version we hold for it is stale.
    assert!(w.fake.edit_contact(
        &w.alice,
        written[3].id.as_str(),
        &serde_json::json!({"jobTitle": "edited"})
    ));
    let edited: Vec<Contact> = items
        .iter()
        .map(|c| Contact {
            job_title: "Sales".into(),
            ..c.clone()
        })
        .collect();
    let batches_before = w.fake.request_count("batch");
    let requests: Vec<sync_core::UpdateRequest<'_, Contact>> = written
        .iter()
        .zip(&edited)
        .map(|(wr, item)| sync_core::UpdateRequest {
            id: &wr.id,
            item,
            changed: sync_core::FieldSet::of(&[sync_core::ContactField::JobTitle]),
            expected: Some(&wr.version),
        })
        .collect();
    let results = side.update_many(&requests).await;
    assert_eq!(w.fake.request_count("batch") - batches_before, 2, "20 + 5");
    assert_eq!(results.len(), 25);
    for (i, r) in results.iter().enumerate() {
        if i == 3 {
            let e = r.as_ref().expect_err("stale version");
            assert_eq!(e.kind(), ErrorKind::PreconditionFailed, "{e}");
        } else {
            let w = r.as_ref().expect("updated");
            assert_eq!(w.id, written[i].id, "in order");
            assert_eq!(w.item.as_ref().expect("read back").job_title, "Sales");
        }
    }
}

// ---------------------------------------------------------------- event updates (update_many)

/// The `Prefer` of a direct event request (and, with the batch's `IdType`, of a batched one).
const EVENTS_PREFER: &str = r#"IdType="ImmutableId", outlook.timezone="UTC""#;

fn guest(address: &str) -> sync_core::Attendee {
    sync_core::Attendee {
        email: Email::new(address).expect("valid address"),
        name: "Guest".into(),
        response: sync_core::Response::None,
    }
}

fn update<'a>(
    id: &'a RemoteId,
    item: &'a Event,
    changed: &[EventField],
    expected: Option<&'a Version>,
) -> UpdateRequest<'a, Event> {
    UpdateRequest {
        id,
        item,
        changed: FieldSet::of(changed),
        expected,
    }
}

fn kinds(results: &[Result<Written<Event>, ProviderError>]) -> Vec<Option<ErrorKind>> {
    results
        .iter()
        .map(|r| r.as_ref().err().map(ProviderError::kind))
        .collect()
}

/// An event as Graph answers a PATCH (the documented example, with another id and change key).
fn answered(id: &str, change_key: &str, subject: &str) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/event-created.json")).expect("fixture");
    v["id"] = serde_json::json!(id);
    v["changeKey"] = serde_json::json!(change_key);
    v["@odata.etag"] = serde_json::json!(format!("W/\"{change_key}\""));
    v["subject"] = serde_json::json!(subject);
    v
}

#[tokio::test]
async fn three_event_updates_are_one_batch_of_the_direct_patches() {
    use serde_json::json;
    use wiremock::matchers::{body_json, method, path};
    use wiremock::{Mock, ResponseTemplate};
    const USER: &str = "cd209b0b-3f83-4c35-82d2-d88a61820480";
    let (server, client) = crate::util::mock_graph().await;
    let side = GraphCalendar::new(client, USER);
    let ids = [
        RemoteId::new("AAMk/a+b=").expect("id"),
        RemoteId::new("AAMkB").expect("id"),
        RemoteId::new("AAMkC").expect("id"),
    ];
    let v1 = Version::new("ck-1").expect("version");
    let v2 = Version::new("ck-2").expect("version");
    let renamed = meeting(1);
    let mut moved = meeting(2);
    moved.schedule = Schedule::Timed {
        start: at(2030, 1, 20, 13, 30),
        end: at(2030, 1, 20, 15, 0),
    };
    // Attendees on the item but not among the changed fields: never written.
    let mut tagged = meeting(3);
    tagged.categories = vec!["Raynet".into()];
    tagged.attendees.push(guest("petr@customer.test"));
    let requests = vec![
        update(&ids[0], &renamed, &[EventField::Title], Some(&v1)),
        update(
            &ids[1],
            &moved,
            &[EventField::Schedule, EventField::TimeZone],
            Some(&v2),
        ),
        update(&ids[2], &tagged, &[EventField::Categories], None),
    ];
    let headers = |if_match: &str| json!({"Content-Type": "application/json", "If-Match": if_match, "Prefer": EVENTS_PREFER});
    Mock::given(method("POST"))
        .and(path("/v1.0/$batch"))
        .and(body_json(json!({"requests": [
            {"id": "1", "method": "PATCH", "url": format!("/users/{USER}/events/AAMk%2Fa%2Bb%3D"),
             "headers": headers("W/\"ck-1\""), "body": {"subject": "Meeting 1"}},
            {"id": "2", "method": "PATCH", "url": format!("/users/{USER}/events/AAMkB"),
             "headers": headers("W/\"ck-2\""), "body": {
                "start": {"dateTime": "2030-01-20T13:30:00.0000000", "timeZone": "UTC"},
                "end": {"dateTime": "2030-01-20T15:00:00.0000000", "timeZone": "UTC"},
                "isAllDay": false
             }},
            {"id": "3", "method": "PATCH", "url": format!("/users/{USER}/events/AAMkC"),
             "headers": headers("*"), "body": {"categories": ["Raynet"]}}
        ]})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"responses": [
                // Any order.
                {"id": "3", "status": 200, "headers": {"Content-Type": "application/json"},
                 "body": answered("AAMkC", "ck-3b", "Meeting 3")},
                {"id": "2", "status": 412, "headers": {"Content-Type": "application/json"},
                 "body": serde_json::from_str::<serde_json::Value>(
                     include_str!("fixtures/error-irresolvable-conflict.json")).expect("fixture")},
                {"id": "1", "status": 200, "headers": {"Content-Type": "application/json"},
                 "body": answered("AAMk/a+b=", "ck-1b", "Meeting 1")}
            ]})),
        )
        .expect(1)
        .named("the one $batch")
        .mount(&server)
        .await;
    let results = side.update_many(&requests).await;
    assert_eq!(
        kinds(&results),
        vec![None, Some(ErrorKind::PreconditionFailed), None],
        "{results:?}"
    );
    let first = results[0].as_ref().expect("updated");
    assert_eq!(first.id, ids[0]);
    assert_eq!(first.version.as_str(), "ck-1b", "the answer's change key");
    assert_eq!(
        first.item.as_ref().map(|e| e.title.as_str()),
        Some("Meeting 1"),
        "read back from the answer"
    );
    assert_eq!(
        results[2].as_ref().expect("updated").version.as_str(),
        "ck-3b"
    );
    let sent: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().starts_with("/v1.0"))
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(sent, vec!["POST /v1.0/$batch"], "no direct PATCH");
}

/// `n` events created in Alice's calendar (every 5th with a guest, who is invited once).
async fn seeded(side: &GraphCalendar, n: u32) -> (Vec<Event>, Vec<Written<Event>>) {
    let items: Vec<Event> = (0..n)
        .map(|i| {
            let mut e = meeting(i);
            if i % 5 == 0 {
                e.attendees.push(guest(&format!("guest{i}@customer.test")));
            }
            e
        })
        .collect();
    let keys: Vec<IdempotencyKey> = (0..n).map(|i| key(&format!("m-{i}"))).collect();
    let written = side
        .create_many(&pairs(&items, &keys))
        .await
        .into_iter()
        .map(|r| r.expect("created"))
        .collect();
    (items, written)
}

#[tokio::test]
async fn forty_five_event_updates_take_three_batches_and_fail_only_their_own_items() {
    let w = world().await;
    let side = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let (items, written) = seeded(&side, 45).await;
    let invitations = w.fake.invitations();
    assert_eq!(invitations.len(), 9, "the guests were invited on create");
    // A user edits the 8th event in Outlook (our version is stale) and deletes the 13th.
    assert!(w.fake.edit_event(
        &w.alice,
        written[7].id.as_str(),
        &serde_json::json!({"subject": "user edit"})
    ));
    assert!(w.fake.delete_event(&w.alice, written[12].id.as_str()));
    // Events with guests get a category (attendees unchanged), the others a new title.
    let edited: Vec<(Event, Vec<EventField>)> = items
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut e = e.clone();
            if i % 5 == 0 {
                e.categories = vec!["Raynet".into()];
                (e, vec![EventField::Categories])
            } else {
                e.title = format!("{} v2", e.title);
                (e, vec![EventField::Title])
            }
        })
        .collect();
    let requests: Vec<UpdateRequest<'_, Event>> = written
        .iter()
        .zip(&edited)
        .map(|(wr, (item, changed))| update(&wr.id, item, changed, Some(&wr.version)))
        .collect();
    let batches = w.fake.http_request_count("batch");
    let results = side.update_many(&requests).await;
    assert_eq!(results.len(), 45);
    assert_eq!(
        w.fake.http_request_count("batch") - batches,
        3,
        "20 + 20 + 5"
    );
    assert_eq!(
        w.fake.http_request_count("events.update"),
        0,
        "no direct update"
    );
    assert_eq!(w.fake.batched_request_count("events.update"), 45);
    for (i, r) in results.iter().enumerate() {
        match i {
            7 => assert_eq!(
                r.as_ref().map(|_| ()).map_err(ProviderError::kind),
                Err(ErrorKind::PreconditionFailed),
                "stale"
            ),
            12 => assert_eq!(
                r.as_ref().map(|_| ()).map_err(ProviderError::kind),
                Err(ErrorKind::NotFound),
                "deleted"
            ),
            _ => {
                let wr = r.as_ref().expect("updated");
                assert_eq!(wr.id, written[i].id, "in order");
                let stored = w.fake.event(&w.alice, wr.id.as_str()).expect("stored");
                assert_eq!(
                    stored["changeKey"],
                    wr.version.as_str(),
                    "the new change key"
                );
                assert_eq!(stored["@odata.etag"], format!("W/\"{}\"", wr.version));
                assert_ne!(wr.version, written[i].version);
                assert_eq!(stored["subject"], edited[i].0.title.as_str());
                assert_eq!(
                    wr.item.as_ref().map(|e| (&e.title, &e.categories)),
                    Some((&edited[i].0.title, &edited[i].0.categories)),
                    "read back"
                );
            }
        }
    }
    // The stale event keeps the user's edit.
    let stale = w
        .fake
        .event(&w.alice, written[7].id.as_str())
        .expect("kept");
    assert_eq!(stale["subject"], "user edit");
    // Unchanged attendees: nothing was mailed.
    assert_eq!(w.fake.invitations(), invitations);
    // Each sub-request carried the direct request's preferences.
    let batched_prefer: BTreeSet<Option<String>> = w
        .fake
        .requests()
        .iter()
        .filter(|r| r.in_batch && r.endpoint == "events.update")
        .map(|r| r.prefer.clone())
        .collect();
    assert_eq!(
        batched_prefer,
        BTreeSet::from([Some(EVENTS_PREFER.to_owned())])
    );
    let created_prefer: BTreeSet<Option<String>> = w
        .fake
        .requests()
        .iter()
        .filter(|r| r.in_batch && r.endpoint == "events.create")
        .map(|r| r.prefer.clone())
        .collect();
    assert_eq!(created_prefer, batched_prefer, "batched creates too");
    // Each answered version is the one to write with next.
    for (i, r) in results.iter().enumerate() {
        let Ok(wr) = r else { continue };
        let mut again = edited[i].0.clone();
        again.location = "Room 2".into();
        let next = side
            .update(
                &wr.id,
                &again,
                FieldSet::of(&[EventField::Location]),
                Some(&wr.version),
            )
            .await
            .unwrap_or_else(|e| panic!("item {i}: {e}"));
        assert_ne!(next.version, wr.version);
    }
    let direct: BTreeSet<Option<String>> = w
        .fake
        .requests()
        .iter()
        .filter(|r| !r.in_batch && r.endpoint == "events.update")
        .map(|r| r.prefer.clone())
        .collect();
    assert_eq!(direct, batched_prefer, "the same headers either way");
}

#[tokio::test]
async fn throttled_event_updates_are_sent_again_and_none_is_lost() {
    let w = world().await;
    let side = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let (items, written) = seeded(&side, 20).await;
    w.fake.inject(
        Fault::throttle("0.02")
            .on("events.update")
            .for_mailbox(&w.alice)
            .times(3),
    );
    // And a transient 503 on the next one: sent again, as a direct update would be.
    w.fake
        .inject(Fault::status(503).on("events.update").for_mailbox(&w.alice));
    let edited: Vec<Event> = items
        .iter()
        .map(|e| Event {
            title: format!("{} v2", e.title),
            ..e.clone()
        })
        .collect();
    let requests: Vec<UpdateRequest<'_, Event>> = written
        .iter()
        .zip(&edited)
        .map(|(wr, item)| update(&wr.id, item, &[EventField::Title], Some(&wr.version)))
        .collect();
    let batches = w.fake.http_request_count("batch");
    let results = side.update_many(&requests).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        w.fake.http_request_count("batch") - batches,
        3,
        "one more batch for the throttled ones, one for the unavailable one"
    );
    assert_eq!(
        w.fake.batched_request_count("events.update"),
        24,
        "only the throttled and the unavailable ones went again"
    );
    assert_eq!(w.fake.http_request_count("events.update"), 0);
    for (wr, item) in results.iter().zip(&edited) {
        let wr = wr.as_ref().expect("updated");
        let stored = w.fake.event(&w.alice, wr.id.as_str()).expect("stored");
        assert_eq!(stored["subject"], item.title.as_str());
        assert_eq!(stored["changeKey"], wr.version.as_str());
    }
    // Still throttled after every retry: Throttled, for that item only.
    w.fake.inject(
        Fault::throttle("0.01")
            .on("events.update")
            .for_mailbox(&w.alice)
            .times(100),
    );
    let results = side.update_many(&requests[..1]).await;
    assert!(
        matches!(kinds(&results)[..], [Some(ErrorKind::Throttled { .. })]),
        "{results:?}"
    );
    w.fake.clear_faults();
}

#[tokio::test]
async fn update_many_gives_what_update_gives() {
    let w = world().await;
    let side = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let base: Vec<Event> = (0..9)
        .map(|i| {
            let mut e = meeting(i);
            if matches!(i, 2 | 7) {
                e.attendees.push(guest(&format!("guest{i}@customer.test")));
            }
            e
        })
        .collect();
    // The same inputs for both paths; 3 and 4 change nothing Graph holds (the single way:
    // a GET that checks the version).
    let mut edits: Vec<(Event, Vec<EventField>)> = Vec::new();
    for (i, e) in base.iter().enumerate() {
        let mut e = e.clone();
        let changed = match i {
            0 | 5 | 6 => {
                e.title = format!("{} renamed", e.title);
                vec![EventField::Title]
            }
            1 => {
                e.schedule = Schedule::Timed {
                    start: at(2030, 1, 2, 15, 0),
                    end: at(2030, 1, 2, 16, 30),
                };
                vec![EventField::Schedule, EventField::TimeZone]
            }
            2 => {
                e.attendees.push(guest("new@customer.test"));
                vec![EventField::Attendees]
            }
            3 | 4 => {
                e.time_zone = Some("Europe/Prague".into());
                vec![EventField::TimeZone]
            }
            7 => {
                e.description = "Agenda".into();
                vec![EventField::Description]
            }
            _ => {
                e.categories = vec!["Raynet".into()];
                e.sensitivity = sync_core::Sensitivity::Private;
                vec![EventField::Categories, EventField::Sensitivity]
            }
        };
        edits.push((e, changed));
    }
    // Twins: one set written with `update`, the other with `update_many`.
    let mut twins: Vec<Vec<Written<Event>>> = Vec::new();
    for set in ["single", "many"] {
        let keys: Vec<IdempotencyKey> = (0..base.len())
            .map(|i| key(&format!("{set}-{i}")))
            .collect();
        let written: Vec<Written<Event>> = side
            .create_many(&pairs(&base, &keys))
            .await
            .into_iter()
            .map(|r| r.expect("created"))
            .collect();
        // Stale: 4 and 5 (edited by the user); gone: 6.
        for i in [4, 5] {
            assert!(w.fake.edit_event(
                &w.alice,
                written[i].id.as_str(),
                &serde_json::json!({"subject": "user edit"})
            ));
        }
        assert!(w.fake.delete_event(&w.alice, written[6].id.as_str()));
        twins.push(written);
    }
    let requests = |written: &[Written<Event>]| -> Vec<(RemoteId, Version)> {
        written
            .iter()
            .map(|wr| (wr.id.clone(), wr.version.clone()))
            .collect()
    };
    let invited_before = w.fake.invitations().len();
    // A transient 500 on the first update of each path: repeated either way.
    w.fake.inject(Fault::status(500).on("events.update"));
    let mut single = Vec::new();
    for ((id, version), (item, changed)) in requests(&twins[0]).iter().zip(&edits) {
        single.push(
            side.update(id, item, FieldSet::of(changed), Some(version))
                .await,
        );
    }
    let gets = w.fake.request_count("events.get");
    let updates = w.fake.request_count("events.update");
    let batches = w.fake.http_request_count("batch");
    w.fake.inject(Fault::status(500).on("events.update"));
    let many_in = requests(&twins[1]);
    let many = side
        .update_many(
            &many_in
                .iter()
                .zip(&edits)
                .map(|((id, version), (item, changed))| update(id, item, changed, Some(version)))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(
        w.fake.http_request_count("batch") - batches,
        2,
        "one batch, and the 500 again"
    );
    assert_eq!(w.fake.request_count("events.get") - gets, 2, "3 and 4");
    assert_eq!(
        w.fake.request_count("events.update") - updates,
        8,
        "7 patches and the 500 again"
    );
    // The same outcome item by item: errors of the same kind, writes of the same item with
    // the event's new version.
    assert_eq!(kinds(&single), kinds(&many));
    assert_eq!(
        kinds(&many),
        vec![
            None,
            None,
            None,
            None,
            Some(ErrorKind::PreconditionFailed),
            Some(ErrorKind::PreconditionFailed),
            Some(ErrorKind::NotFound),
            None,
            None
        ]
    );
    let strip = |e: &Event| Event {
        global_id: None,
        ..e.clone()
    };
    for (i, (s, m)) in single.iter().zip(&many).enumerate() {
        let (Ok(s), Ok(m)) = (s, m) else { continue };
        assert_eq!(s.id, twins[0][i].id);
        assert_eq!(m.id, twins[1][i].id);
        assert_eq!(
            s.item.as_ref().map(strip),
            m.item.as_ref().map(strip),
            "item {i}"
        );
        for (wr, set) in [(s, "single"), (m, "many")] {
            let stored = w.fake.event(&w.alice, wr.id.as_str()).expect("stored");
            assert_eq!(
                stored["changeKey"],
                wr.version.as_str(),
                "item {i} ({set}): the current version"
            );
        }
    }
    // And Outlook mailed the same: an invitation to the added attendee, an update for the
    // agenda; nothing else.
    let position = |event: &str| {
        twins
            .iter()
            .find_map(|set| set.iter().position(|wr| wr.id.as_str() == event))
            .expect("one of ours")
    };
    let mailed = |set: usize| -> Vec<(usize, InvitationKind, Vec<String>)> {
        let mut v: Vec<_> = w
            .fake
            .invitations()
            .into_iter()
            .skip(invited_before)
            .filter(|inv| twins[set].iter().any(|wr| wr.id.as_str() == inv.event_id))
            .map(|inv| (position(&inv.event_id), inv.kind, inv.attendees))
            .collect();
        v.sort_by_key(|(p, ..)| *p);
        v
    };
    assert_eq!(mailed(0), mailed(1));
    assert_eq!(
        mailed(1),
        vec![
            (
                2,
                InvitationKind::Invite,
                vec!["new@customer.test".to_owned()]
            ),
            (
                7,
                InvitationKind::Update,
                vec!["guest7@customer.test".to_owned()]
            )
        ]
    );
}

#[tokio::test]
async fn a_failed_batch_fails_each_of_its_updates_as_a_direct_update_fails() {
    let w = world().await;
    let side = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let (items, written) = seeded(&side, 3).await;
    let edited: Vec<Event> = items
        .iter()
        .map(|e| Event {
            title: "never".into(),
            ..e.clone()
        })
        .collect();
    let requests: Vec<UpdateRequest<'_, Event>> = written
        .iter()
        .zip(&edited)
        .map(|(wr, item)| update(&wr.id, item, &[EventField::Title], Some(&wr.version)))
        .collect();
    w.fake.inject(Fault::status(400).on("batch"));
    let many = side.update_many(&requests).await;
    assert_eq!(kinds(&many), vec![Some(ErrorKind::Invalid); 3], "{many:?}");
    w.fake.inject(Fault::status(400).on("events.update"));
    let single = side
        .update(
            &written[0].id,
            &edited[0],
            FieldSet::of(&[EventField::Title]),
            Some(&written[0].version),
        )
        .await;
    assert_eq!(kinds(&[single]), vec![Some(ErrorKind::Invalid)]);
    for wr in &written {
        let stored = w.fake.event(&w.alice, wr.id.as_str()).expect("stored");
        assert_eq!(stored["changeKey"], wr.version.as_str(), "unchanged");
    }
}
