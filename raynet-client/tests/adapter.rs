//! The engine's provider traits on RAYNET, against the fake.

use chrono::{DateTime, Utc};
use raynet_client::adapter::{EXT_ID_PREFIX, InstanceFacts, RaynetCalendar, RaynetContacts};
use raynet_client::fake::{ActivitySeed, CompanySeed, FakeRaynet, PersonSeed};
use sync_core::{
    ActivityKind, Attendee, Completeness, Email, ErrorKind, Event, EventField, EventStatus,
    FieldSet, IdempotencyKey, ReadRequest, ReadSide, RemoteId, Response, Schedule, Sensitivity,
    Side, SyncItem, Window, WriteSide,
};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn everything() -> ReadRequest {
    ReadRequest {
        window: None,
        cursor: None,
    }
}

struct World {
    fake: FakeRaynet,
    member: u64,
    other: u64,
    guest: u64,
}

async fn world() -> World {
    let fake = FakeRaynet::start().await;
    let inst = fake.default_instance();
    let member = inst
        .add_user("jana@acme.test", "crm-jana", "Jana", "Nováková")
        .unwrap()
        .person_id;
    let other = inst
        .add_user("petr@acme.test", "crm-petr", "Petr", "Dvořák")
        .unwrap()
        .person_id;
    let company = inst.add_company(CompanySeed::new("Klient a.s.")).unwrap();
    let guest = inst
        .add_person(
            PersonSeed::new("Host")
                .first_name("Karel")
                .email("Karel.Host@klient.cz")
                .company(company, "CEO"),
        )
        .unwrap();
    World {
        fake,
        member,
        other,
        guest,
    }
}

#[tokio::test]
async fn reads_the_members_meetings_and_events_completely() {
    let w = world().await;
    let inst = w.fake.default_instance();
    let m = inst
        .add_meeting(
            ActivitySeed::new("Porada", w.member)
                .scheduled_local("2026-03-29 10:00", "2026-03-29 11:00")
                .participant(w.guest)
                .description("<p>Body</p>"),
        )
        .unwrap();
    let e = inst
        .add_event(
            ActivitySeed::new("Veletrh", w.member)
                .scheduled_local("2026-10-25 00:00", "2026-10-26 00:00"),
        )
        .unwrap();
    inst.add_meeting(
        ActivitySeed::new("Not mine", w.other)
            .scheduled_local("2026-03-29 10:00", "2026-03-29 11:00"),
    )
    .unwrap();
    inst.add_meeting(
        ActivitySeed::new("Broken", w.member).field("scheduledFrom", serde_json::Value::Null),
    )
    .unwrap();

    let cal = RaynetCalendar::new(w.fake.client(), w.member);
    let read = cal.read(&everything()).await.unwrap();
    assert_eq!(read.completeness, Completeness::Complete);
    let ids: Vec<&str> = read.items.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, vec![format!("m-{m}"), format!("e-{e}")]);
    assert_eq!(
        read.unreadable.len(),
        1,
        "the meeting without a schedule is reported, not dropped silently"
    );

    let meeting = &read.items[0].item;
    assert_eq!(meeting.kind, Some(ActivityKind::Meeting));
    assert_eq!(meeting.description, "Body");
    assert_eq!(
        meeting.schedule,
        Schedule::Timed {
            start: utc("2026-03-29T08:00:00Z"),
            end: utc("2026-03-29T09:00:00Z")
        }
    );
    assert_eq!(meeting.attendees.len(), 1);
    assert_eq!(meeting.attendees[0].email.as_str(), "karel.host@klient.cz");
    let event = &read.items[1].item;
    assert!(
        event.schedule.is_all_day(),
        "midnight to midnight is all-day: {}",
        event.schedule
    );

    // A window keeps only overlapping items.
    let window = Window {
        start: utc("2026-10-01T00:00:00Z"),
        end: utc("2026-11-01T00:00:00Z"),
    };
    let read = cal
        .read(&ReadRequest {
            window: Some(window),
            cursor: None,
        })
        .await
        .unwrap();
    assert_eq!(read.items.len(), 1);
    assert_eq!(read.items[0].id.as_str(), format!("e-{e}"));
}

#[tokio::test]
async fn create_is_idempotent_by_key_and_reads_back() {
    let w = world().await;
    let cal = RaynetCalendar::new(w.fake.client(), w.member);
    let mut item = Event::new(
        "Kick-off",
        Schedule::Timed {
            start: utc("2026-10-25T00:30:00Z"),
            end: utc("2026-10-25T01:30:00Z"),
        },
    );
    item.kind = Some(ActivityKind::Meeting);
    item.location = "Brno".into();
    item.description = "Agenda\n\n1. \"numbers\"".into();
    item.sensitivity = Sensitivity::Private;
    item.attendees = vec![
        Attendee {
            email: Email::new("karel.host@klient.cz").unwrap(),
            name: "Karel".into(),
            response: Response::None,
        },
        Attendee {
            email: Email::new("unknown@elsewhere.cz").unwrap(),
            name: "X".into(),
            response: Response::None,
        },
    ];
    let key = IdempotencyKey::for_source(Side::Outlook, &RemoteId::new("AAMk/abc+def=").unwrap());
    assert_eq!(cal.find_by_key(&key).await.unwrap(), None);
    let written = cal.create(&item, &key).await.unwrap();
    assert!(written.id.as_str().starts_with("m-"));
    let back = written.item.unwrap();
    assert_eq!(back.title, "Kick-off");
    assert_eq!(
        back.schedule, item.schedule,
        "the ambiguous 02:30 CEST survives"
    );
    assert_eq!(back.location, "Brno");
    assert_eq!(back.description, item.description);
    assert_eq!(back.sensitivity, Sensitivity::Private);
    assert_eq!(
        back.attendees.len(),
        1,
        "only attendees known to RAYNET become participants"
    );

    let found = cal.find_by_key(&key).await.unwrap().unwrap();
    assert_eq!(found.id, written.id);
    assert_eq!(found.key.as_ref(), Some(&key));
    let n: u64 = written.id.as_str()[2..].parse().unwrap();
    let ext = w.fake.default_instance().record("meeting", n).unwrap()["extIds"][0].clone();
    assert_eq!(ext, format!("{EXT_ID_PREFIX}{key}"));
}

/// A member's event "Old" in Praha: its id, the member's calendar, its engine id and as read.
async fn event_in_praha(w: &World) -> (u64, RaynetCalendar, RemoteId, sync_core::Remote<Event>) {
    let id = w
        .fake
        .default_instance()
        .add_event(
            ActivitySeed::new("Old", w.member)
                .scheduled_local("2026-05-04 09:00", "2026-05-04 10:00")
                .meeting_place("Praha"),
        )
        .unwrap();
    let cal = RaynetCalendar::new(w.fake.client(), w.member);
    let rid = RemoteId::new(format!("e-{id}")).unwrap();
    let current = cal.get(&rid).await.unwrap().unwrap();
    (id, cal, rid, current)
}

#[tokio::test]
async fn update_honours_expected_versions_and_changed_fields() {
    let w = world().await;
    let inst = w.fake.default_instance();
    let (id, cal, rid, current) = event_in_praha(&w).await;

    let mut item = current.item.clone();
    item.title = "New".into();
    item.location = "Ignored".into();
    item.status = EventStatus::Cancelled;
    item.attendees = vec![Attendee {
        email: Email::new("karel.host@klient.cz").unwrap(),
        name: String::new(),
        response: Response::None,
    }];
    let changed = FieldSet::of(&[EventField::Title, EventField::Status, EventField::Attendees]);

    // Someone edits it in the meantime: the stale version is refused.
    inst.edit("event", id, &serde_json::json!({"meetingPlace": "Ostrava"}))
        .unwrap();
    let err = cal
        .update(&rid, &item, changed, Some(&current.version))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed);

    let fresh = cal.get(&rid).await.unwrap().unwrap();
    let written = cal
        .update(&rid, &item, changed, Some(&fresh.version))
        .await
        .unwrap();
    let back = written.item.unwrap();
    assert_eq!(back.title, "New");
    assert_eq!(back.status, EventStatus::Cancelled);
    assert_eq!(back.location, "Ostrava", "only changed fields are written");
    assert_eq!(back.attendees.len(), 1);
    assert_ne!(written.version, fresh.version);

    // Removing the attendee again leaves the owner alone.
    item.attendees.clear();
    let written = cal
        .update(&rid, &item, FieldSet::of(&[EventField::Attendees]), None)
        .await
        .unwrap();
    assert!(written.item.unwrap().attendees.is_empty());
    let raw = inst.record("event", id).unwrap();
    assert_eq!(
        raw["participants"].as_array().unwrap().len(),
        1,
        "the owner stays"
    );
}

#[tokio::test]
async fn an_update_alone_reads_the_record_once_and_guesses_the_next_version() {
    let w = world().await;
    let inst = w.fake.default_instance();
    let (id, cal, rid, current) = event_in_praha(&w).await;
    let mut item = current.item.clone();
    item.title = "New".into();
    item.location = "Brno".into();
    let changed = FieldSet::of(&[EventField::Title, EventField::Location]);

    w.fake.reset_counters();
    let written = cal
        .update(&rid, &item, changed, Some(&current.version))
        .await
        .unwrap();
    assert_eq!(
        w.fake.request_counts(),
        [("GET /event/{id}/", 1), ("POST /event/{id}/", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        "the version check and the update; no read-back"
    );
    let now = cal.get(&rid).await.unwrap().unwrap();
    assert_eq!(
        written.version, now.version,
        "the guessed version is RAYNET's"
    );
    assert_eq!(now.item, item.clone().normalized());
    assert_eq!(written.item, Some(now.item), "what the engine records");

    // What is recorded is what a read gives back, where that differs from what was sent: an
    // empty title, a time with seconds (RAYNET holds minutes).
    let mut odd = item.clone();
    odd.title = "   ".into();
    odd.schedule = Schedule::Timed {
        start: utc("2026-05-04T07:15:42Z"),
        end: utc("2026-05-04T08:00:00Z"),
    };
    let before = cal.get(&rid).await.unwrap().unwrap();
    let written = cal
        .update(
            &rid,
            &odd,
            FieldSet::of(&[EventField::Title, EventField::Schedule]),
            Some(&before.version),
        )
        .await
        .unwrap();
    let now = cal.get(&rid).await.unwrap().unwrap();
    assert_ne!(
        now.item,
        odd.clone().normalized(),
        "RAYNET changed what was sent"
    );
    assert_eq!(written.item, Some(now.item), "and that is what is recorded");

    // A guess ahead of the record (a write that did not move `_version`) does not block the
    // next write; a version newer than expected does.
    let ahead = sync_core::Version::new(format!(
        "v{}",
        inst.record("event", id).unwrap()["_version"]
            .as_u64()
            .unwrap()
            + 1
    ))
    .unwrap();
    item.title = "Newer".into();
    cal.update(
        &rid,
        &item,
        FieldSet::of(&[EventField::Title]),
        Some(&ahead),
    )
    .await
    .unwrap();
    inst.edit("event", id, &serde_json::json!({"title": "RAYNET"}))
        .unwrap();
    let err = cal
        .update(
            &rid,
            &item,
            FieldSet::of(&[EventField::Title]),
            Some(&ahead),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PreconditionFailed, "{err}");
    assert_eq!(inst.record("event", id).unwrap()["title"], "RAYNET");
}

#[tokio::test]
async fn delete_and_missing_items() {
    let w = world().await;
    let id = w
        .fake
        .default_instance()
        .add_meeting(
            ActivitySeed::new("Bye", w.member)
                .scheduled_local("2026-05-04 09:00", "2026-05-04 10:00"),
        )
        .unwrap();
    let cal = RaynetCalendar::new(w.fake.client(), w.member);
    let rid = RemoteId::new(format!("m-{id}")).unwrap();
    cal.delete(&rid, None).await.unwrap();
    assert_eq!(cal.get(&rid).await.unwrap(), None);
    cal.delete(&rid, None).await.unwrap();
    let err = cal.get(&RemoteId::new("x-1").unwrap()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn provider_errors_are_classified() {
    let w = world().await;
    let client = w
        .fake
        .client_builder()
        .credentials("jana@acme.test", "crm-wrong")
        .build()
        .unwrap();
    let cal = RaynetCalendar::new(client, w.member);
    let err = cal.read(&everything()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    w.fake.inject(
        raynet_client::fake::Fault::new(raynet_client::fake::FaultKind::Status(503)).times(10),
    );
    let cal = RaynetCalendar::new(
        w.fake.client_builder().max_retries(1).build().unwrap(),
        w.member,
    );
    assert_eq!(
        cal.read(&everything()).await.unwrap_err().kind(),
        ErrorKind::Unavailable
    );
}

#[tokio::test]
async fn contacts_are_read_from_persons() {
    let w = world().await;
    let contacts = RaynetContacts::new(w.fake.client());
    let read = contacts.read(&everything()).await.unwrap();
    assert_eq!(read.completeness, Completeness::Complete);
    assert_eq!(read.items.len(), 4, "API user, two users and the guest");
    let guest = read
        .items
        .iter()
        .find(|r| r.id.as_str() == w.guest.to_string())
        .unwrap();
    assert_eq!(guest.item.company, "Klient a.s.");
    assert_eq!(guest.item.job_title, "CEO");
    assert_eq!(guest.item.emails[0].as_str(), "karel.host@klient.cz");
    assert!(guest.modified.is_some());
    let one = contacts.get(&guest.id).await.unwrap().unwrap();
    assert_eq!(one.item, guest.item);
    assert_eq!(
        contacts
            .get(&RemoteId::new("99999").unwrap())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn an_interrupted_create_is_found_by_its_key_and_completed() {
    use raynet_client::fake::{Fault, FaultKind};
    let w = world().await;
    let cal = RaynetCalendar::new(w.fake.client(), w.member);
    let mut item = Event::new(
        "Cut",
        Schedule::Timed {
            start: utc("2026-05-04T08:00:00Z"),
            end: utc("2026-05-04T09:00:00Z"),
        },
    );
    item.kind = Some(ActivityKind::Meeting);
    item.location = "Brno".into();
    let key = IdempotencyKey::for_source(Side::Outlook, &RemoteId::new("AAMk-cut").unwrap());
    // The insert lands, its answer is lost.
    w.fake
        .inject(Fault::new(FaultKind::InterruptAfterApply).on("PUT /meeting/"));
    let written = cal.create(&item, &key).await.unwrap();
    let back = written.item.unwrap();
    assert_eq!(back.location, "Brno", "the create was completed");
    assert_eq!(w.fake.default_instance().ids("meeting").len(), 1, "no copy");
    assert_eq!(w.fake.requests("GET /meeting/ext/{extId}/"), 1);
    assert_eq!(
        w.fake.requests("PUT /meeting/{id}/extId/"),
        0,
        "the key travelled with the create"
    );

    // A follow-up write that fails undoes the create: no half-made record.
    w.fake
        .inject(Fault::new(FaultKind::Status(503)).on("POST /meeting/{id}/"));
    let other = IdempotencyKey::for_source(Side::Outlook, &RemoteId::new("AAMk-two").unwrap());
    let err = cal.create(&item, &other).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(w.fake.default_instance().ids("meeting").len(), 1);
    assert_eq!(cal.find_by_key(&other).await.unwrap(), None);
}

/// An Outlook item to create in RAYNET: an event on 4 May 2026 at `hour` UTC, in Brno.
fn new_event(title: &str, hour: u32) -> Event {
    let mut item = Event::new(
        title,
        Schedule::Timed {
            start: utc(&format!("2026-05-04T{hour:02}:00:00Z")),
            end: utc(&format!("2026-05-04T{hour:02}:30:00Z")),
        },
    );
    item.kind = Some(ActivityKind::Event);
    item.location = "Brno".into();
    item
}

fn outlook_key(n: u32) -> IdempotencyKey {
    IdempotencyKey::for_source(Side::Outlook, &RemoteId::new(format!("AAMk-{n}")).unwrap())
}

#[tokio::test]
async fn creates_skip_the_read_back_once_inserts_are_seen_keeping_their_key() {
    let w = world().await;
    let facts = InstanceFacts::new();
    let cal = RaynetCalendar::new(w.fake.client(), w.member).with_facts(facts.clone());
    let other = RaynetCalendar::new(w.fake.client(), w.other).with_facts(facts.clone());
    let counts = |pairs: &[(&str, u64)]| -> std::collections::BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };

    w.fake.reset_counters();
    cal.create(&new_event("First", 8), &outlook_key(1))
        .await
        .unwrap();
    assert_eq!(
        w.fake.request_counts(),
        counts(&[
            ("PUT /event/", 1),
            ("POST /event/{id}/", 1),
            ("GET /event/{id}/", 1)
        ]),
        "the first create is read back"
    );
    assert_eq!(facts.insert_keeps_ext_id(), Some(true));

    // Another member's create (the facts are shared): insert and place, no read-back. What is
    // recorded is what a read gives.
    w.fake.reset_counters();
    let mut untitled = new_event("", 9);
    untitled.description = "Agenda:\n1. prices".into();
    let written = other.create(&untitled, &outlook_key(2)).await.unwrap();
    assert_eq!(
        w.fake.request_counts(),
        counts(&[("PUT /event/", 1), ("POST /event/{id}/", 1)])
    );
    let now = other.get(&written.id).await.unwrap().unwrap();
    assert_eq!(written.version, now.version);
    assert_eq!(written.item, Some(now.item));
    assert_eq!(
        other
            .find_by_key(&outlook_key(2))
            .await
            .unwrap()
            .unwrap()
            .id,
        written.id,
        "the key is there"
    );

    // With attendees, the record is read (the participant diff) and read back.
    w.fake.reset_counters();
    let mut invited = new_event("Invited", 10);
    invited.attendees = vec![Attendee {
        email: Email::new("karel.host@klient.cz").unwrap(),
        name: String::new(),
        response: Response::None,
    }];
    let written = cal.create(&invited, &outlook_key(3)).await.unwrap();
    assert_eq!(w.fake.requests("GET /event/{id}/"), 2);
    assert_eq!(written.item.unwrap().attendees.len(), 1);
}

#[tokio::test]
async fn an_instance_dropping_the_inserts_key_has_every_create_read_back_and_keyed() {
    let w = world().await;
    w.fake.default_instance().set_insert_drops_ext_id(true);
    let facts = InstanceFacts::new();
    let cal = RaynetCalendar::new(w.fake.client(), w.member).with_facts(facts.clone());
    for n in 1..=2 {
        w.fake.reset_counters();
        let written = cal
            .create(&new_event(&format!("Event {n}"), 8 + n), &outlook_key(n))
            .await
            .unwrap();
        assert_eq!(
            w.fake.requests("GET /event/{id}/"),
            2,
            "read back, keyed, read"
        );
        assert_eq!(w.fake.requests("PUT /event/{id}/extId/"), 1);
        assert_eq!(
            cal.find_by_key(&outlook_key(n)).await.unwrap().unwrap().id,
            written.id
        );
        assert_eq!(facts.insert_keeps_ext_id(), Some(false));
    }
}

#[tokio::test]
async fn a_create_refused_with_its_ext_id_is_retried_without_and_keyed_afterwards() {
    use raynet_client::fake::{Fault, FaultKind};
    let w = world().await;
    let cal = RaynetCalendar::new(w.fake.client(), w.member);
    let mut item = Event::new(
        "Strict API",
        Schedule::Timed {
            start: utc("2026-05-04T08:00:00Z"),
            end: utc("2026-05-04T09:00:00Z"),
        },
    );
    item.kind = Some(ActivityKind::Event);
    let key = IdempotencyKey::for_source(Side::Outlook, &RemoteId::new("AAMk-strict").unwrap());
    w.fake
        .inject(Fault::new(FaultKind::Status(400)).on("PUT /event/"));
    let written = cal.create(&item, &key).await.unwrap();
    assert_eq!(w.fake.requests("PUT /event/"), 2);
    assert_eq!(w.fake.requests("PUT /event/{id}/extId/"), 1);
    assert_eq!(cal.find_by_key(&key).await.unwrap().unwrap().id, written.id);
}
