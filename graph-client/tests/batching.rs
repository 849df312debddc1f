//! `$batch` creates through the engine's sides: `GraphContacts::create_many` and
//! `GraphCalendar::create_many` (20 a batch, one result per item in order, a throttled
//! sub-request retried alone, a lost batch answer reported `Interrupted`).

use std::collections::BTreeSet;

use chrono::Duration;
use graph_client::adapter::{GraphCalendar, GraphContacts};
use graph_client::fake::Fault;
use sync_core::{
    Contact, Email, ErrorKind, Event, IdempotencyKey, ReadRequest, ReadSide, Schedule, WriteSide,
};

use crate::util::{at, client, world};

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

fn meeting(n: u32) -> Event {
    let start = at(2030, 1, 1 + n % 28, 9, 0);
    Event::new(
        format!("Meeting {n}"),
        Schedule::Timed {
            start,
            end: start + Duration::hours(1),
        },
    )
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
async fn a_failed_sub_request_maps_through_error_kind() {
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
