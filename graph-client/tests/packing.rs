//! `BatchPacker`: the batched writes of several sides (mailboxes, events and contacts) packed
//! into full `$batch` requests of 20, each caller getting its own results in order; a caller
//! dropped before its writes went takes them out; a sender dropped mid-send fails what it
//! carried instead of leaving its owners waiting.

use std::collections::BTreeSet;
use std::time::Duration;

use graph_client::Client;
use graph_client::adapter::{BatchPacker, GraphCalendar, GraphContacts};
use graph_client::fake::{FakeGraph, UserSeed};
use sync_core::{
    Contact, ContactField, Email, ErrorKind, Event, EventField, FieldSet, IdempotencyKey,
    ProviderError, UpdateRequest, WriteSide, Written,
};

use crate::util::{client, meeting};

/// Long enough that two writes queued in the same poll never miss each other, whatever the
/// machine's speed (a test that waits it out is failing anyway).
const PATIENT: Duration = Duration::from_secs(10);

/// `f`'s output, or a failure if it never comes (a caller left waiting forever). Not a timing
/// assertion: a minute is orders of magnitude more than any of these rounds needs.
async fn answered<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("a caller was left waiting for its answers")
}

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::new(k).expect("valid key")
}

fn person(who: &str, n: usize) -> Contact {
    Contact {
        given_name: who.into(),
        surname: format!("Person {n:03}"),
        emails: vec![Email::new(&format!("p{n}@{who}.test")).expect("address")],
        ..Contact::default()
    }
}

/// A fake with `names` as users (ids in order) and one client for all the sides.
async fn tenant(names: &[&str]) -> (FakeGraph, Vec<String>, Client) {
    let fake = FakeGraph::start().await;
    let users = names
        .iter()
        .map(|n| fake.add_user(UserSeed::new(n)))
        .collect();
    let client = client(&fake);
    (fake, users, client)
}

/// `n` contacts created in `user`'s folder without a packer: the items and what was written.
async fn seeded_contacts(
    client: &Client,
    user: &str,
    n: usize,
) -> (Vec<Contact>, Vec<Written<Contact>>) {
    let side = GraphContacts::new(client.clone(), user, "Raynet");
    let items: Vec<Contact> = (0..n).map(|i| person(user, i)).collect();
    let keys: Vec<IdempotencyKey> = (0..n).map(|i| key(&format!("{user}-{i}"))).collect();
    let pairs: Vec<_> = items.iter().zip(&keys).collect();
    let written = side
        .create_many(&pairs)
        .await
        .into_iter()
        .map(|r| r.expect("created"))
        .collect();
    (items, written)
}

/// The items with a new job title, and the updates that write them over `written`.
fn retitled(items: &[Contact], title: &str) -> Vec<Contact> {
    items
        .iter()
        .map(|c| Contact {
            job_title: title.into(),
            ..c.clone()
        })
        .collect()
}

fn contact_updates<'a>(
    written: &'a [Written<Contact>],
    items: &'a [Contact],
) -> Vec<UpdateRequest<'a, Contact>> {
    written
        .iter()
        .zip(items)
        .map(|(w, item)| UpdateRequest {
            id: &w.id,
            item,
            changed: FieldSet::of(&[ContactField::JobTitle]),
            expected: Some(&w.version),
        })
        .collect()
}

/// Each result is the update of the same item, in order, with the version the fake now holds.
fn assert_updated(
    fake: &FakeGraph,
    user: &str,
    results: &[Result<Written<Contact>, ProviderError>],
    before: &[Written<Contact>],
    items: &[Contact],
) {
    assert_eq!(results.len(), before.len());
    let folder = fake
        .contact_folders(user)
        .into_iter()
        .find(|(_, name)| name == "Raynet")
        .map(|(id, _)| id)
        .expect("folder");
    let stored = fake.contacts(user, &folder);
    for (i, r) in results.iter().enumerate() {
        let w = r.as_ref().expect("updated");
        assert_eq!(w.id, before[i].id, "in order");
        assert_ne!(w.version, before[i].version, "a new version");
        let contact = stored
            .iter()
            .find(|c| c["id"] == w.id.as_str())
            .expect("stored");
        assert_eq!(
            contact["changeKey"],
            w.version.as_str(),
            "the stored version"
        );
        assert_eq!(contact["jobTitle"], items[i].job_title.as_str());
        assert_eq!(
            w.item.as_ref().map(|c| (&c.surname, &c.job_title)),
            Some((&items[i].surname, &items[i].job_title)),
            "read back"
        );
    }
}

fn kinds<T>(results: &[Result<Written<T>, ProviderError>]) -> Vec<Option<ErrorKind>> {
    results
        .iter()
        .map(|r| r.as_ref().err().map(ProviderError::kind))
        .collect()
}

#[tokio::test]
async fn two_mailboxes_updating_ten_contacts_each_share_one_batch() {
    let (fake, users, client) = tenant(&["Alice", "Bob"]).await;
    let (alice_items, alice_written) = seeded_contacts(&client, &users[0], 10).await;
    let (bob_items, bob_written) = seeded_contacts(&client, &users[1], 10).await;
    let packer = BatchPacker::new(client.clone()).with_linger(PATIENT);
    let alice = GraphContacts::new(client.clone(), &users[0], "Raynet").with_packer(packer.clone());
    let bob = GraphContacts::new(client.clone(), &users[1], "Raynet").with_packer(packer.clone());
    let alice_edited = retitled(&alice_items, "Sales");
    let bob_edited = retitled(&bob_items, "Support");
    let alice_requests = contact_updates(&alice_written, &alice_edited);
    let bob_requests = contact_updates(&bob_written, &bob_edited);

    let batches = fake.http_request_count("batch");
    let (alice_results, bob_results) = answered(async {
        tokio::join!(
            alice.update_many(&alice_requests),
            bob.update_many(&bob_requests)
        )
    })
    .await;

    assert_eq!(
        fake.http_request_count("batch") - batches,
        1,
        "both mailboxes' updates in one $batch"
    );
    assert_eq!(fake.batched_request_count("contacts.update"), 20);
    assert_eq!(fake.http_request_count("contacts.update"), 0);
    assert_eq!(fake.request_count_for("contacts.update", &users[0]), 10);
    assert_eq!(fake.request_count_for("contacts.update", &users[1]), 10);
    assert_updated(
        &fake,
        &users[0],
        &alice_results,
        &alice_written,
        &alice_edited,
    );
    assert_updated(&fake, &users[1], &bob_results, &bob_written, &bob_edited);
    assert_eq!(packer.queued(), 0);
}

#[tokio::test]
async fn fifty_updates_of_a_lone_caller_take_twenty_twenty_and_ten_after_the_linger() {
    let (fake, users, client) = tenant(&["Alice"]).await;
    let (items, written) = seeded_contacts(&client, &users[0], 50).await;
    // Nobody else comes: the last 10 go once they have waited the linger.
    let packer = BatchPacker::new(client.clone()).with_linger(Duration::from_millis(10));
    assert_eq!(packer.linger(), Duration::from_millis(10));
    let side = GraphContacts::new(client.clone(), &users[0], "Raynet").with_packer(packer.clone());
    let edited = retitled(&items, "Sales");
    let requests = contact_updates(&written, &edited);

    let batches = fake.http_request_count("batch");
    let results = answered(side.update_many(&requests)).await;

    assert_eq!(
        fake.http_request_count("batch") - batches,
        3,
        "20 + 20 + 10"
    );
    assert_eq!(
        fake.batched_request_count("contacts.update"),
        50,
        "each once"
    );
    assert_updated(&fake, &users[0], &results, &written, &edited);
    assert_eq!(packer.queued(), 0);
}

#[tokio::test]
async fn a_packed_batch_of_events_and_contacts_fails_only_the_refused_writes() {
    let (fake, users, client) = tenant(&["Alice", "Bob", "Carol"]).await;
    // Alice: 5 events, the 3rd edited in Outlook since (our version is stale).
    let plain_calendar = GraphCalendar::new(client.clone(), &users[0]);
    let events: Vec<Event> = (0..5).map(meeting).collect();
    let event_keys: Vec<IdempotencyKey> = (0..5).map(|i| key(&format!("m-{i}"))).collect();
    let pairs: Vec<_> = events.iter().zip(&event_keys).collect();
    let events_written: Vec<Written<Event>> = plain_calendar
        .create_many(&pairs)
        .await
        .into_iter()
        .map(|r| r.expect("created"))
        .collect();
    assert!(fake.edit_event(
        &users[0],
        events_written[2].id.as_str(),
        &serde_json::json!({"subject": "user edit"})
    ));
    // Bob: 5 contacts, the 4th deleted in Outlook since. Carol: 10 contacts.
    let (bob_items, bob_written) = seeded_contacts(&client, &users[1], 5).await;
    assert!(fake.delete_contact(&users[1], bob_written[3].id.as_str()));
    let (carol_items, carol_written) = seeded_contacts(&client, &users[2], 10).await;

    let packer = BatchPacker::new(client.clone()).with_linger(PATIENT);
    let calendar = GraphCalendar::new(client.clone(), &users[0]).with_packer(packer.clone());
    let bob = GraphContacts::new(client.clone(), &users[1], "Raynet").with_packer(packer.clone());
    let carol = GraphContacts::new(client.clone(), &users[2], "Raynet").with_packer(packer.clone());
    let renamed: Vec<Event> = events
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.title = format!("{} v2", e.title);
            e
        })
        .collect();
    let event_requests: Vec<UpdateRequest<'_, Event>> = events_written
        .iter()
        .zip(&renamed)
        .map(|(w, item)| UpdateRequest {
            id: &w.id,
            item,
            changed: FieldSet::of(&[EventField::Title]),
            expected: Some(&w.version),
        })
        .collect();
    let bob_edited = retitled(&bob_items, "Support");
    let carol_edited = retitled(&carol_items, "Sales");
    let bob_requests = contact_updates(&bob_written, &bob_edited);
    let carol_requests = contact_updates(&carol_written, &carol_edited);

    let batches = fake.http_request_count("batch");
    let (event_results, bob_results, carol_results) = answered(async {
        tokio::join!(
            calendar.update_many(&event_requests),
            bob.update_many(&bob_requests),
            carol.update_many(&carol_requests)
        )
    })
    .await;

    assert_eq!(
        fake.http_request_count("batch") - batches,
        1,
        "5 event and 15 contact updates of three mailboxes in one $batch"
    );
    assert_eq!(
        kinds(&event_results),
        vec![None, None, Some(ErrorKind::PreconditionFailed), None, None],
        "{event_results:?}"
    );
    let stale = event_results[2].as_ref().expect_err("stale");
    assert!(
        stale.to_string().contains(&format!(
            "updating event {} (mailbox {})",
            events_written[2].id, users[0]
        )),
        "the context names the event and the mailbox: {stale}"
    );
    for (i, r) in event_results.iter().enumerate().filter(|(i, _)| *i != 2) {
        let w = r.as_ref().expect("updated");
        assert_eq!(w.id, events_written[i].id, "in order");
        let stored = fake.event(&users[0], w.id.as_str()).expect("stored");
        assert_eq!(stored["changeKey"], w.version.as_str());
        assert_eq!(stored["subject"], renamed[i].title.as_str());
    }
    assert_eq!(
        fake.event(&users[0], events_written[2].id.as_str())
            .expect("kept")["subject"],
        "user edit"
    );
    assert_eq!(
        kinds(&bob_results),
        vec![None, None, None, Some(ErrorKind::NotFound), None],
        "{bob_results:?}"
    );
    for (i, r) in bob_results.iter().enumerate().filter(|(i, _)| *i != 3) {
        assert_eq!(
            r.as_ref().expect("updated").id,
            bob_written[i].id,
            "in order"
        );
    }
    assert_updated(
        &fake,
        &users[2],
        &carol_results,
        &carol_written,
        &carol_edited,
    );
}

#[tokio::test]
async fn packed_creates_land_once_each_and_come_back_with_their_ids() {
    let (fake, users, client) = tenant(&["Alice", "Bob"]).await;
    // Leftovers wait the linger: keep it short enough for a quick test; the batch count does
    // not depend on it (nothing else comes).
    let packer = BatchPacker::new(client.clone()).with_linger(Duration::from_millis(200));
    let contacts: Vec<GraphContacts> = users
        .iter()
        .map(|u| GraphContacts::new(client.clone(), u, "Raynet").with_packer(packer.clone()))
        .collect();
    let calendars: Vec<GraphCalendar> = users
        .iter()
        .map(|u| GraphCalendar::new(client.clone(), u).with_packer(packer.clone()))
        .collect();
    let mut folders = Vec::new();
    for side in &contacts {
        folders.push(side.folder_id().await.expect("folder"));
    }
    let people: Vec<Vec<Contact>> = users
        .iter()
        .map(|u| (0..12).map(|i| person(u, i)).collect())
        .collect();
    let people_keys: Vec<Vec<IdempotencyKey>> = users
        .iter()
        .map(|u| (0..12).map(|i| key(&format!("{u}-p{i}"))).collect())
        .collect();
    let meetings: Vec<Event> = (0..5).map(meeting).collect();
    let meeting_keys: Vec<Vec<IdempotencyKey>> = users
        .iter()
        .map(|u| (0..5).map(|i| key(&format!("{u}-m{i}"))).collect())
        .collect();
    let people_pairs: Vec<Vec<(&Contact, &IdempotencyKey)>> = people
        .iter()
        .zip(&people_keys)
        .map(|(items, keys)| items.iter().zip(keys).collect())
        .collect();
    let meeting_pairs: Vec<Vec<(&Event, &IdempotencyKey)>> = meeting_keys
        .iter()
        .map(|keys| meetings.iter().zip(keys).collect())
        .collect();

    let batches = fake.http_request_count("batch");
    let (alice_people, bob_people, alice_meetings, bob_meetings) = answered(async {
        tokio::join!(
            contacts[0].create_many(&people_pairs[0]),
            contacts[1].create_many(&people_pairs[1]),
            calendars[0].create_many(&meeting_pairs[0]),
            calendars[1].create_many(&meeting_pairs[1]),
        )
    })
    .await;

    // Contact creates (no transactionId) travel apart from the event creates: 20 of the 24
    // at once, then the other 4, and the 10 events.
    assert_eq!(fake.http_request_count("batch") - batches, 3);
    assert_eq!(
        fake.batched_request_count("contacts.create"),
        24,
        "each once"
    );
    assert_eq!(fake.batched_request_count("events.create"), 10, "each once");
    for (u, results) in [&alice_people, &bob_people].into_iter().enumerate() {
        let stored = fake.contacts(&users[u], &folders[u]);
        assert_eq!(stored.len(), 12, "no duplicate");
        let stored_ids: BTreeSet<&str> = stored.iter().filter_map(|c| c["id"].as_str()).collect();
        for (i, r) in results.iter().enumerate() {
            let w = r.as_ref().expect("created");
            assert!(stored_ids.contains(w.id.as_str()), "its id: {}", w.id);
            assert_eq!(
                w.item.as_ref().map(|c| &c.surname),
                Some(&people[u][i].surname),
                "in order"
            );
        }
    }
    for (u, results) in [&alice_meetings, &bob_meetings].into_iter().enumerate() {
        assert_eq!(fake.events(&users[u]).len(), 5, "no duplicate");
        for (i, r) in results.iter().enumerate() {
            let w = r.as_ref().expect("created");
            let stored = fake.event(&users[u], w.id.as_str()).expect("its id");
            assert_eq!(stored["subject"], meetings[i].title.as_str(), "in order");
        }
    }
    assert_eq!(packer.queued(), 0);
}

#[tokio::test]
async fn a_caller_dropped_before_its_writes_went_takes_them_out_of_the_queue() {
    let (fake, users, client) = tenant(&["Alice", "Bob"]).await;
    let (alice_items, alice_written) = seeded_contacts(&client, &users[0], 5).await;
    let (bob_items, bob_written) = seeded_contacts(&client, &users[1], 3).await;
    let packer = BatchPacker::new(client.clone()).with_linger(Duration::from_millis(50));
    let alice = GraphContacts::new(client.clone(), &users[0], "Raynet").with_packer(packer.clone());
    let bob = GraphContacts::new(client.clone(), &users[1], "Raynet").with_packer(packer.clone());
    let alice_edited = retitled(&alice_items, "Sales");
    let bob_edited = retitled(&bob_items, "Support");
    let alice_requests = contact_updates(&alice_written, &alice_edited);
    let bob_requests = contact_updates(&bob_written, &bob_edited);
    let batches = fake.http_request_count("batch");

    // Alice's round queues its 5 updates, waits for company, and is cancelled.
    let mut cancelled = Box::pin(alice.update_many(&alice_requests));
    assert!(futures::poll!(cancelled.as_mut()).is_pending());
    assert_eq!(packer.queued(), 5, "queued, waiting for the linger");
    drop(cancelled);
    assert_eq!(packer.queued(), 0, "taken out when dropped");

    let results = answered(bob.update_many(&bob_requests)).await;
    assert_updated(&fake, &users[1], &results, &bob_written, &bob_edited);
    assert_eq!(fake.http_request_count("batch") - batches, 1);
    assert_eq!(fake.request_count_for("contacts.update", &users[1]), 3);
    assert_eq!(
        fake.request_count_for("contacts.update", &users[0]),
        0,
        "none of the cancelled round's updates was sent"
    );
    let folder = alice.folder_id().await.expect("folder");
    assert!(
        fake.contacts(&users[0], &folder)
            .iter()
            .all(|c| c["jobTitle"] != "Sales")
    );
}

#[tokio::test]
async fn a_sender_dropped_mid_send_fails_the_writes_it_carried() {
    let (_fake, users, client) = tenant(&["Alice", "Bob", "Carol"]).await;
    let (bob_items, bob_written) = seeded_contacts(&client, &users[1], 2).await;
    let (carol_items, carol_written) = seeded_contacts(&client, &users[2], 15).await;
    let packer = BatchPacker::new(client.clone()).with_linger(PATIENT);
    let calendar = GraphCalendar::new(client.clone(), &users[0]).with_packer(packer.clone());
    let bob = GraphContacts::new(client.clone(), &users[1], "Raynet").with_packer(packer.clone());
    let carol = GraphContacts::new(client.clone(), &users[2], "Raynet").with_packer(packer.clone());
    let meetings: Vec<Event> = (0..3).map(meeting).collect();
    let keys: Vec<IdempotencyKey> = (0..3).map(|i| key(&format!("m-{i}"))).collect();
    let meeting_pairs: Vec<_> = meetings.iter().zip(&keys).collect();
    let bob_edited = retitled(&bob_items, "Support");
    let carol_edited = retitled(&carol_items, "Sales");
    let bob_requests = contact_updates(&bob_written, &bob_edited);
    let carol_requests = contact_updates(&carol_written, &carol_edited);

    // Alice's 3 event creates and Bob's 2 contact updates wait in the queue...
    let mut creates = Box::pin(calendar.create_many(&meeting_pairs));
    let mut updates = Box::pin(bob.update_many(&bob_requests));
    assert!(futures::poll!(creates.as_mut()).is_pending());
    assert!(futures::poll!(updates.as_mut()).is_pending());
    assert_eq!(packer.queued(), 5);
    // ... Carol's 15 updates fill the batch: Carol's round takes all 20 and starts sending.
    let mut sender = Box::pin(carol.update_many(&carol_requests));
    assert!(futures::poll!(sender.as_mut()).is_pending());
    assert_eq!(packer.queued(), 0, "the 20 are in Carol's batch");
    // Carol's round is cancelled mid-send: the others learn it instead of waiting forever.
    drop(sender);
    let (created, updated) = answered(async { tokio::join!(creates, updates) }).await;
    assert_eq!(
        kinds(&created),
        vec![Some(ErrorKind::Interrupted); 3],
        "{created:?}"
    );
    for e in created.iter().filter_map(|r| r.as_ref().err()) {
        assert!(e.to_string().contains("may exist"), "{e}");
    }
    assert_eq!(
        kinds(&updated),
        vec![Some(ErrorKind::Interrupted); 2],
        "{updated:?}"
    );
}
