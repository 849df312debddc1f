//! The engine's sides against the fake: `GraphCalendar` (reads, cursors, series, writes,
//! idempotency, ETags, invitations, mailbox problems) and `GraphContacts`.

use chrono::{Duration, Weekday};
use graph_client::adapter::{GraphCalendar, GraphContacts};
use graph_client::fake::{EventSeed, FakeGraph, Fault, InvitationKind, SeriesSeed, UserSeed};
use serde_json::json;
use sync_core::{
    Attendee, Completeness, Contact, ContactField, Email, ErrorKind, Event, EventField, FieldSet,
    IdempotencyKey, ReadRequest, ReadSide, RemoteId, Response, Schedule, SideRead, Window,
    WriteSide,
};

use crate::util::{at, client, client_with_pages, world};

fn window() -> Window {
    let (start, end) = crate::util::window();
    Window { start, end }
}

fn request(cursor: Option<&SideRead<Event>>) -> ReadRequest {
    ReadRequest {
        window: Some(window()),
        cursor: cursor.and_then(|r| r.cursor.clone()),
    }
}

fn titles(read: &SideRead<Event>) -> Vec<String> {
    let mut t: Vec<String> = read.items.iter().map(|r| r.item.title.clone()).collect();
    t.sort();
    t
}

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::new(k).expect("valid key")
}

fn id(s: &str) -> RemoteId {
    RemoteId::new(s).expect("valid id")
}

fn meeting(title: &str, day: u32) -> Event {
    let start = at(2030, 1, day, 9, 0);
    Event::new(
        title,
        Schedule::Timed {
            start,
            end: start + Duration::hours(1),
        },
    )
}

fn guest(address: &str) -> Attendee {
    Attendee {
        email: Email::new(address).expect("valid address"),
        name: "Guest".into(),
        response: Response::None,
    }
}

#[tokio::test]
async fn first_read_is_a_complete_listing_with_a_cursor() {
    let w = world().await;
    for (i, day) in [3, 10, 20].iter().enumerate() {
        let start = at(2030, 1, *day, 9, 0);
        w.fake.add_event(
            &w.alice,
            EventSeed::new(&format!("e{i}"), start, start + Duration::hours(1)),
        );
    }
    let outside = at(2030, 6, 1, 9, 0);
    w.fake.add_event(
        &w.alice,
        EventSeed::new("later", outside, outside + Duration::hours(1)),
    );
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let read = cal.read(&request(None)).await.expect("read");
    assert_eq!(read.completeness, Completeness::Complete);
    assert_eq!(titles(&read), ["e0", "e1", "e2"], "only the window");
    assert!(read.cursor.is_some());
    assert!(read.deleted.is_empty() && read.unreadable.is_empty());
    assert!(
        read.items.iter().all(|r| r.key.is_none()),
        "delta carries no extended properties"
    );
    // Idle: one request, nothing listed.
    let before = w.fake.request_count("calendarView.delta");
    let idle = cal.read(&request(Some(&read))).await.expect("idle read");
    assert_eq!(idle.completeness, Completeness::Delta);
    assert!(idle.deleted.is_empty());
    // Graph may replay the last item of the previous round: unchanged, same version.
    for r in &idle.items {
        assert!(
            read.items
                .iter()
                .any(|f| f.id == r.id && f.version == r.version)
        );
    }
    assert_eq!(w.fake.request_count("calendarView.delta"), before + 1);
}

#[tokio::test]
async fn delta_reads_list_edits_creates_and_deletions() {
    let w = world().await;
    let a = w.fake.add_event(
        &w.alice,
        EventSeed::new("a", at(2030, 1, 5, 9, 0), at(2030, 1, 5, 10, 0)),
    );
    let b = w.fake.add_event(
        &w.alice,
        EventSeed::new("b", at(2030, 1, 6, 9, 0), at(2030, 1, 6, 10, 0)),
    );
    let _c = w.fake.add_event(
        &w.alice,
        EventSeed::new("c", at(2030, 1, 7, 9, 0), at(2030, 1, 7, 10, 0)),
    );
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let first = cal.read(&request(None)).await.expect("read");
    assert!(w.fake.edit_event(&w.alice, &a, &json!({"subject": "a2"})));
    assert!(w.fake.delete_event(&w.alice, &b));
    w.fake.add_event(
        &w.alice,
        EventSeed::new("d", at(2030, 1, 8, 9, 0), at(2030, 1, 8, 10, 0)),
    );
    let delta = cal.read(&request(Some(&first))).await.expect("delta");
    assert_eq!(delta.completeness, Completeness::Delta);
    let t = titles(&delta);
    assert!(
        t.contains(&"a2".to_owned()) && t.contains(&"d".to_owned()),
        "{t:?}"
    );
    assert!(!t.contains(&"b".to_owned()));
    assert_eq!(delta.deleted, vec![id(&b)]);
    let ids: std::collections::BTreeSet<_> = delta.items.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), delta.items.len(), "replays are collapsed");
}

#[tokio::test]
async fn an_expired_token_gives_a_complete_reread() {
    let w = world().await;
    for day in 2..6 {
        w.fake.add_event(
            &w.alice,
            EventSeed::new(
                &format!("e{day}"),
                at(2030, 1, day, 9, 0),
                at(2030, 1, day, 10, 0),
            ),
        );
    }
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let first = cal.read(&request(None)).await.expect("read");
    w.fake.expire_delta_tokens(&w.alice);
    let again = cal.read(&request(Some(&first))).await.expect("never fails");
    assert_eq!(again.completeness, Completeness::Complete);
    assert!(again.deleted.is_empty(), "never deletes");
    assert_eq!(titles(&again), titles(&first), "nothing lost");
    assert!(w.fake.status_count(410) >= 1);
    // A cursor for another window starts a fresh round too.
    let other = ReadRequest {
        window: Some(Window {
            start: window().start,
            end: window().end + Duration::days(1),
        }),
        cursor: again.cursor.clone(),
    };
    let fresh = cal.read(&other).await.expect("read");
    assert_eq!(fresh.completeness, Completeness::Complete);
}

#[tokio::test]
async fn a_move_out_of_the_window_is_removed_but_still_found() {
    let w = world().await;
    let e = w.fake.add_event(
        &w.alice,
        EventSeed::new("moving", at(2030, 1, 5, 9, 0), at(2030, 1, 5, 10, 0)),
    );
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let first = cal.read(&request(None)).await.expect("read");
    assert!(
        w.fake
            .move_event(&w.alice, &e, at(2030, 5, 5, 9, 0), at(2030, 5, 5, 10, 0))
    );
    let delta = cal.read(&request(Some(&first))).await.expect("delta");
    assert_eq!(delta.deleted, vec![id(&e)], "Graph says removed");
    let found = cal
        .get(&id(&e))
        .await
        .expect("get")
        .expect("it still exists");
    assert_eq!(found.item.title, "moving");
}

#[tokio::test]
async fn series_occurrences_are_separate_items() {
    let w = world().await;
    let master = w.fake.add_series(
        &w.alice,
        SeriesSeed::weekly(
            "Standup",
            at(2030, 1, 7, 8, 0),
            Duration::minutes(30),
            &[Weekday::Mon],
            4,
        ),
    );
    let occ = w
        .fake
        .occurrence_ids(&w.alice, &master, window().start, window().end);
    assert_eq!(occ.len(), 4);
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let first = cal.read(&request(None)).await.expect("read");
    assert_eq!(first.items.len(), 4, "{:?}", first.unreadable);
    assert!(first.items.iter().all(|r| r.item.title == "Standup"));
    assert!(first.items.iter().all(|r| r.item.series.is_some()));
    assert_eq!(
        w.fake.request_count("events.get"),
        1,
        "one master fetch per read"
    );
    // One moved, one cancelled.
    assert!(w.fake.move_event(
        &w.alice,
        &occ[1],
        at(2030, 1, 15, 8, 0),
        at(2030, 1, 15, 8, 30)
    ));
    assert!(w.fake.delete_event(&w.alice, &occ[2]));
    let delta = cal.read(&request(Some(&first))).await.expect("delta");
    assert_eq!(delta.completeness, Completeness::Delta);
    assert!(delta.deleted.contains(&id(&occ[2])), "the cancelled one");
    let moved = delta
        .items
        .iter()
        .find(|r| r.id.as_str() == occ[1])
        .expect("the moved one");
    assert_eq!(
        moved.item.schedule,
        Schedule::Timed {
            start: at(2030, 1, 15, 8, 0),
            end: at(2030, 1, 15, 8, 30)
        }
    );
    let full = cal.read(&request(None)).await.expect("read");
    let mut ids: Vec<&str> = full.items.iter().map(|r| r.id.as_str()).collect();
    ids.sort_unstable();
    let mut want = vec![occ[0].as_str(), occ[1].as_str(), occ[3].as_str()];
    want.sort_unstable();
    assert_eq!(ids, want);
    // What a plain occurrence reads as does not depend on the read path.
    let one = cal.get(&id(&occ[0])).await.expect("get").expect("exists");
    let listed = full.items.iter().find(|r| r.id.as_str() == occ[0]).unwrap();
    assert_eq!(one.item, listed.item);
    assert_eq!(one.version, listed.version);
}

#[tokio::test]
async fn replayed_items_are_listed_once() {
    let w = world().await;
    for day in 2..9 {
        w.fake.add_event(
            &w.alice,
            EventSeed::new(
                &format!("e{day}"),
                at(2030, 1, day, 9, 0),
                at(2030, 1, day, 10, 0),
            ),
        );
    }
    let cal = GraphCalendar::new(client_with_pages(&w.fake, 2), w.alice.clone());
    let read = cal.read(&request(None)).await.expect("read");
    assert_eq!(read.items.len(), 7);
}

#[tokio::test]
async fn creates_carry_their_key_and_are_never_duplicated() {
    let w = world().await;
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let k = key("r-42");
    let first = cal
        .create(&meeting("Kickoff", 9), &k)
        .await
        .expect("create");
    assert_eq!(
        first.item.as_ref().map(|e| e.title.as_str()),
        Some("Kickoff")
    );
    let again = cal
        .create(&meeting("Kickoff", 9), &k)
        .await
        .expect("retried create");
    assert_eq!(again.id, first.id, "transactionId dedupes");
    assert_eq!(w.fake.events(&w.alice).len(), 1, "no duplicate");
    let found = cal.find_by_key(&k).await.expect("find").expect("found");
    assert_eq!(found.id, first.id);
    assert_eq!(found.key, Some(k.clone()));
    let got = cal.get(&first.id).await.expect("get").expect("exists");
    assert_eq!(got.key, Some(k));
    assert_eq!(got.version, first.version);
    assert!(cal.find_by_key(&key("r-43")).await.expect("find").is_none());
    // Written in UTC, never in a Windows or IANA zone of ours.
    let stored = w.fake.event(&w.alice, first.id.as_str()).expect("stored");
    assert_eq!(stored["originalStartTimeZone"], "UTC");
    assert!(w.fake.invitations().is_empty(), "no attendees, no mail");
}

#[tokio::test]
async fn a_lost_create_answer_is_repeated_without_a_duplicate() {
    let w = world().await;
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    w.fake.inject(Fault::lost_response(504).on("events.create"));
    let written = cal
        .create(&meeting("Kickoff", 9), &key("r-1"))
        .await
        .expect("the repeat finds the first");
    assert_eq!(w.fake.events(&w.alice).len(), 1);
    assert_eq!(written.item.map(|e| e.title), Some("Kickoff".to_owned()));
}

#[tokio::test]
async fn a_stale_version_is_a_precondition_failure() {
    let w = world().await;
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let written = cal
        .create(&meeting("Kickoff", 9), &key("r-1"))
        .await
        .expect("create");
    assert!(w.fake.edit_event(
        &w.alice,
        written.id.as_str(),
        &json!({"subject": "user edit"})
    ));
    let err = cal
        .update(
            &written.id,
            &meeting("Ours", 9),
            FieldSet::of(&[EventField::Title]),
            Some(&written.version),
        )
        .await
        .expect_err("stale");
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed);
    let err = cal
        .delete(&written.id, Some(&written.version))
        .await
        .expect_err("stale");
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed);
    // With the current version both go through; a second delete is fine.
    let current = cal.get(&written.id).await.expect("get").expect("exists");
    let updated = cal
        .update(
            &written.id,
            &meeting("Ours", 9),
            FieldSet::of(&[EventField::Title]),
            Some(&current.version),
        )
        .await
        .expect("update");
    assert_eq!(updated.item.map(|e| e.title), Some("Ours".to_owned()));
    cal.delete(&written.id, Some(&updated.version))
        .await
        .expect("delete");
    cal.delete(&written.id, None).await.expect("already gone");
    assert!(cal.get(&written.id).await.expect("get").is_none());
}

#[tokio::test]
async fn updates_that_leave_attendees_alone_send_no_invitation() {
    let w = world().await;
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let mut e = meeting("Review", 9);
    e.attendees.push(guest("petr@customer.test"));
    let written = cal.create(&e, &key("r-1")).await.expect("create");
    let invites = w.fake.invitations();
    assert_eq!(
        invites.len(),
        1,
        "a meeting created with attendees invites them"
    );
    assert_eq!(invites[0].kind, InvitationKind::Invite);
    // A field that is no meeting change: no mail at all.
    e.categories = vec!["Raynet".into()];
    let w1 = cal
        .update(
            &written.id,
            &e,
            FieldSet::of(&[EventField::Categories]),
            Some(&written.version),
        )
        .await
        .expect("update");
    assert_eq!(w.fake.invitations().len(), 1, "no mail");
    // A new title: Outlook mails an update, but never a new invitation.
    e.title = "Review 2".into();
    cal.update(
        &written.id,
        &e,
        FieldSet::of(&[EventField::Title, EventField::Description]),
        Some(&w1.version),
    )
    .await
    .expect("update");
    assert!(
        w.fake
            .invitations()
            .iter()
            .skip(1)
            .all(|i| i.kind != InvitationKind::Invite),
        "{:?}",
        w.fake.invitations()
    );
    assert_eq!(w.fake.request_count("events.update"), 2);
}

#[tokio::test]
async fn mailboxes_that_cannot_be_synced_say_so() {
    let fake = FakeGraph::start().await;
    let no_mailbox = fake.add_user(UserSeed::new("Guest").without_mailbox());
    let outside = fake.add_user(UserSeed::new("Board").outside_access_policy());
    let c = client(&fake);
    let err = GraphCalendar::new(c.clone(), no_mailbox.clone())
        .read(&request(None))
        .await
        .expect_err("no exchange");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(
        err.to_string().contains("mailbox not enabled for REST"),
        "{err}"
    );
    let err = GraphCalendar::new(c.clone(), outside.clone())
        .read(&request(None))
        .await
        .expect_err("outside policy");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(err.to_string().contains("access policy"), "{err}");
    let err = GraphContacts::new(c, no_mailbox, "Raynet")
        .read(&ReadRequest {
            window: None,
            cursor: None,
        })
        .await
        .expect_err("no exchange");
    assert_eq!(err.kind(), ErrorKind::Unsupported);
}

fn person(given: &str, surname: &str, emails: &[&str]) -> Contact {
    Contact {
        given_name: given.into(),
        surname: surname.into(),
        emails: emails
            .iter()
            .map(|e| Email::new(e).expect("valid address"))
            .collect(),
        company: "Firma".into(),
        ..Contact::default()
    }
}

fn contact_request(cursor: Option<&SideRead<Contact>>) -> ReadRequest {
    ReadRequest {
        window: None,
        cursor: cursor.and_then(|r| r.cursor.clone()),
    }
}

#[tokio::test]
async fn contacts_live_in_their_own_folder() {
    let w = world().await;
    let side = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    let empty = side.read(&contact_request(None)).await.expect("read");
    assert_eq!(empty.completeness, Completeness::Complete);
    assert!(empty.items.is_empty());
    assert_eq!(w.fake.request_count("contactFolders.create"), 1);
    let k = key("p-7");
    let jana = person(
        "Jana",
        "Nováková",
        &["a@x.cz", "b@x.cz", "c@x.cz", "d@x.cz"],
    );
    let created = side.create(&jana, &k).await.expect("create");
    let item = created.item.clone().expect("read back");
    assert_eq!(item.emails.len(), 3, "Graph's cap");
    let found = side.find_by_key(&k).await.expect("find").expect("found");
    assert_eq!(found.id, created.id);
    assert_eq!(found.key, Some(k.clone()));
    assert_eq!(
        side.get(&created.id).await.expect("get").map(|r| r.key),
        Some(Some(k))
    );
    assert!(side.find_by_key(&key("p-8")).await.expect("find").is_none());

    let delta = side
        .read(&contact_request(Some(&empty)))
        .await
        .expect("delta");
    assert_eq!(delta.completeness, Completeness::Delta);
    assert_eq!(delta.items.len(), 1);
    assert_eq!(delta.items[0].item, item);

    let mut renamed = jana.clone();
    renamed.surname = "Svobodová".into();
    let stale = side
        .update(
            &created.id,
            &renamed,
            FieldSet::of(&[ContactField::Surname]),
            Some(&sync_core::Version::new("old").expect("version")),
        )
        .await
        .expect_err("stale");
    assert_eq!(stale.kind(), ErrorKind::PreconditionFailed);
    let updated = side
        .update(
            &created.id,
            &renamed,
            FieldSet::of(&[ContactField::Surname]),
            Some(&created.version),
        )
        .await
        .expect("update");
    assert_eq!(
        updated.item.map(|c| c.surname),
        Some("Svobodová".to_owned())
    );

    // A second side (a new process) finds the folder instead of making another.
    let other = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    let all = other.read(&contact_request(None)).await.expect("read");
    assert_eq!(all.items.len(), 1);
    assert_eq!(w.fake.request_count("contactFolders.create"), 1);

    let before_delete = side
        .read(&contact_request(Some(&delta)))
        .await
        .expect("delta");
    side.delete(&created.id, Some(&updated.version))
        .await
        .expect("delete");
    side.delete(&created.id, None).await.expect("already gone");
    let after = side
        .read(&contact_request(Some(&before_delete)))
        .await
        .expect("delta");
    assert_eq!(after.deleted, vec![created.id.clone()]);

    // An expired token: a complete re-read, never a failure.
    w.fake.expire_delta_tokens(&w.alice);
    let again = side
        .read(&contact_request(Some(&after)))
        .await
        .expect("read");
    assert_eq!(again.completeness, Completeness::Complete);
}

#[tokio::test]
async fn a_failing_page_fails_the_read() {
    let w = world().await;
    for day in 2..9 {
        w.fake.add_event(
            &w.alice,
            EventSeed::new(
                &format!("e{day}"),
                at(2030, 1, day, 9, 0),
                at(2030, 1, day, 10, 0),
            ),
        );
    }
    // Every attempt of the client (6) on the second page.
    w.fake.inject(Fault::failing_page(500).times(6));
    let cal = GraphCalendar::new(client_with_pages(&w.fake, 2), w.alice.clone());
    let err = cal
        .read(&request(None))
        .await
        .expect_err("never a partial listing");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
}

#[tokio::test]
async fn unmappable_items_are_reported_not_dropped() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let token: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/token.json")).expect("fixture");
    Mock::given(method("POST"))
        .and(path("/contoso.test/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token))
        .mount(&server)
        .await;
    let base = format!("{}/v1.0", server.uri());
    Mock::given(method("GET"))
        .and(path("/v1.0/users/u1/calendarView/delta"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [
                {"id": "good", "changeKey": "k1", "type": "singleInstance", "subject": "ok",
                 "start": {"dateTime": "2030-01-05T09:00:00.0000000", "timeZone": "UTC"},
                 "end": {"dateTime": "2030-01-05T10:00:00.0000000", "timeZone": "UTC"}},
                {"id": "bad", "changeKey": "k2", "type": "singleInstance", "subject": "broken",
                 "start": {"dateTime": "soon", "timeZone": "UTC"},
                 "end": {"dateTime": "2030-01-05T10:00:00.0000000", "timeZone": "UTC"}},
                {"id": "good", "changeKey": "k3", "type": "singleInstance", "subject": "ok again",
                 "start": {"dateTime": "2030-01-05T09:00:00.0000000", "timeZone": "UTC"},
                 "end": {"dateTime": "2030-01-05T10:00:00.0000000", "timeZone": "UTC"}}
            ],
            "@odata.deltaLink": format!("{base}/users/u1/calendarView/delta?$deltatoken=t1")
        })))
        .mount(&server)
        .await;
    let client = graph_client::Client::builder()
        .graph_base_url(base)
        .authority_base_url(server.uri())
        .credentials("contoso.test", "app-id", "secret")
        .retry(crate::util::fast_retry())
        .build()
        .expect("client");
    let read = GraphCalendar::new(client, "u1")
        .read(&request(None))
        .await
        .expect("read");
    assert_eq!(read.items.len(), 1, "a replay keeps the last copy");
    assert_eq!(read.items[0].item.title, "ok again");
    assert_eq!(read.items[0].version.as_str(), "k3");
    assert_eq!(read.unreadable.len(), 1);
    assert_eq!(read.unreadable[0].0, id("bad"));
    assert!(
        read.unreadable[0].1.contains("start"),
        "{:?}",
        read.unreadable
    );
}

/// Rounds of the one-way contact sync into the fake's folder.
async fn contact_round(
    source: &sync_core::testing::MemorySide<Contact>,
    target: &GraphContacts,
    store: &sync_core::MemoryStore<Contact>,
) -> sync_core::RoundReport {
    sync_core::Runner::new(
        sync_core::Scope::new("acme", "alice@acme.test", sync_core::Collection::Contacts),
        sync_core::Policy::default(),
    )
    .sync_contacts(source, target, store, at(2030, 1, 1, 0, 0))
    .await
    .expect("round")
}

#[tokio::test]
async fn the_contact_sync_converges_through_graph() {
    use sync_core::{ContactProfile, Phone, PhoneKind};
    let w = world().await;
    let source = sync_core::testing::MemorySide::new(ContactProfile::default()).with_prefix("p");
    let target = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    let store = sync_core::MemoryStore::new();
    let mut jana = person("Jana", "Nováková", &["jana@firma.cz"]);
    jana.phones = vec![
        Phone {
            kind: PhoneKind::Business,
            number: "+420 111".into(),
        },
        Phone {
            kind: PhoneKind::Mobile,
            number: "+420 222".into(),
        },
    ];
    jana.title_after = "Ph.D.".into();
    let p = source.insert(jana);
    source.insert(person(
        "Petr",
        "Svoboda",
        &["a@x.cz", "b@x.cz", "c@x.cz", "d@x.cz"],
    ));
    let first = contact_round(&source, &target, &store).await;
    assert!(first.failures.is_empty(), "{first}");
    assert_eq!(first.created(sync_core::Side::Outlook), 2, "{first}");
    let second = contact_round(&source, &target, &store).await;
    assert_eq!(second.writes(), 0, "idempotent: {second}");
    source.edit(&p, |c| c.job_title = "CFO".into());
    let third = contact_round(&source, &target, &store).await;
    assert_eq!(third.updated.outlook, 1, "{third}");
    let fourth = contact_round(&source, &target, &store).await;
    assert_eq!(fourth.writes(), 0, "idempotent: {fourth}");
    source.remove(&p);
    let fifth = contact_round(&source, &target, &store).await;
    assert_eq!(fifth.deleted.outlook, 1, "{fifth}");
    let folder = w.fake.add_contact_folder(&w.alice, "Other");
    assert!(w.fake.contacts(&w.alice, &folder).is_empty());
}

// The engine takes sides as `&dyn WriteSide<_>`, across tasks.
const _: fn() = || {
    fn side<T: Send + Sync + 'static>() {}
    side::<GraphCalendar>();
    side::<GraphContacts>();
    let _: Option<&dyn WriteSide<Event>> =
        None::<&GraphCalendar>.map(|c| c as &dyn WriteSide<Event>);
    let _: Option<&dyn WriteSide<Contact>> =
        None::<&GraphContacts>.map(|c| c as &dyn WriteSide<Contact>);
};

#[tokio::test]
async fn the_window_is_padded_for_all_day_events_but_listings_keep_to_it() {
    let w = world().await;
    let edge = w.fake.add_event(
        &w.alice,
        EventSeed::new("edge", at(2029, 12, 31, 12, 0), at(2029, 12, 31, 13, 0)),
    );
    let first_day = w.fake.add_event(
        &w.alice,
        EventSeed::all_day(
            "first day",
            at(2030, 1, 1, 0, 0).date_naive(),
            at(2030, 1, 2, 0, 0).date_naive(),
        ),
    );
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let first = cal.read(&request(None)).await.expect("read");
    assert_eq!(titles(&first), ["first day"], "the padding is not listed");
    assert_eq!(first.items[0].id, id(&first_day));
    // Into the window: listed; back into the padding: a removal marker for the engine to check.
    assert!(w.fake.move_event(
        &w.alice,
        &edge,
        at(2030, 1, 1, 12, 0),
        at(2030, 1, 1, 13, 0)
    ));
    let second = cal.read(&request(Some(&first))).await.expect("delta");
    assert!(titles(&second).contains(&"edge".to_owned()));
    assert!(w.fake.move_event(
        &w.alice,
        &edge,
        at(2029, 12, 31, 12, 0),
        at(2029, 12, 31, 13, 0)
    ));
    let third = cal.read(&request(Some(&second))).await.expect("delta");
    assert!(!titles(&third).contains(&"edge".to_owned()));
    assert!(third.deleted.contains(&id(&edge)));
}

#[tokio::test]
async fn a_single_event_turned_into_a_series_becomes_its_occurrences() {
    let w = world().await;
    let e = w.fake.add_event(
        &w.alice,
        EventSeed::new("daily", at(2030, 1, 5, 9, 0), at(2030, 1, 5, 10, 0)),
    );
    let cal = GraphCalendar::new(client(&w.fake), w.alice.clone());
    let first = cal.read(&request(None)).await.expect("read");
    assert_eq!(first.items.len(), 1);
    assert!(w.fake.edit_event(
        &w.alice,
        &e,
        &json!({"recurrence": {
            "pattern": {"type": "daily", "interval": 1},
            "range": {"type": "numbered", "startDate": "2030-01-05", "numberOfOccurrences": 3}
        }})
    ));
    let delta = cal.read(&request(Some(&first))).await.expect("delta");
    assert_eq!(delta.deleted, vec![id(&e)]);
    assert_eq!(delta.items.len(), 3, "{:?}", delta.unreadable);
    assert!(
        delta
            .items
            .iter()
            .all(|r| r.item.title == "daily" && r.id.as_str() != e)
    );
    assert!(
        cal.get(&id(&e)).await.expect("get").is_none(),
        "a series master is no item of the view"
    );
}

#[tokio::test]
async fn a_lost_contact_create_is_interrupted_and_found_by_its_key() {
    let w = world().await;
    let side = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    let folder = side.folder_id().await.expect("folder");
    w.fake
        .inject(Fault::lost_response(504).on("contacts.write"));
    let k = key("p-1");
    let err = side
        .create(&person("Jana", "Nováková", &["jana@firma.cz"]), &k)
        .await
        .expect_err("no answer");
    assert_eq!(err.kind(), ErrorKind::Interrupted, "it may have landed");
    assert_eq!(w.fake.contacts(&w.alice, &folder).len(), 1, "it did");
    let found = side.find_by_key(&k).await.expect("find").expect("found");
    assert_eq!(found.item.surname, "Nováková");
}

#[tokio::test]
async fn the_fake_shows_folders_and_changes_membership() {
    let w = world().await;
    let side = GraphContacts::new(client(&w.fake), w.alice.clone(), "Raynet");
    let folder = side.folder_id().await.expect("folder");
    assert_eq!(
        w.fake.contact_folders(&w.alice),
        vec![(folder, "Raynet".to_owned())]
    );
    let c = client(&w.fake);
    assert_eq!(
        c.groups()
            .all_transitive_members(&w.group)
            .await
            .expect("members")
            .len(),
        1
    );
    w.fake.set_group_members("Sales", &[] as &[&str]);
    assert!(
        c.groups()
            .all_transitive_members(&w.group)
            .await
            .expect("members")
            .is_empty()
    );
    w.fake.set_group_members(&w.group, &[w.alice.as_str()]);
    assert_eq!(
        c.groups()
            .all_transitive_members(&w.group)
            .await
            .expect("members")
            .len(),
        1
    );
}
