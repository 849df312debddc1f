//! Incremental reads of the adapter against the fake: watermark cursors,
//! `rowInfo.lastModifiedAt` deltas, the `view=rowInfo` deletion scan and its
//! schedule, and what each read costs in requests.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use raynet_client::adapter::{RaynetCalendar, RaynetContacts};
use raynet_client::fake::{ActivitySeed, CompanySeed, FakeRaynet, PersonSeed};
use sync_core::{Completeness, Cursor, ReadRequest, ReadSide, RemoteId, SideRead, Window};

pub(crate) fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub(crate) fn window() -> Window {
    Window {
        start: utc("2026-03-01T00:00:00Z"),
        end: utc("2026-12-01T00:00:00Z"),
    }
}

pub(crate) fn request(cursor: Option<&Cursor>) -> ReadRequest {
    ReadRequest {
        window: Some(window()),
        cursor: cursor.cloned(),
    }
}

fn ids<T>(read: &SideRead<T>) -> Vec<&str> {
    let mut v: Vec<&str> = read.items.iter().map(|r| r.id.as_str()).collect();
    v.sort_unstable();
    v
}

fn listed<T>(read: &SideRead<T>) -> Option<Vec<String>> {
    read.listed_ids.as_ref().map(|l| {
        let mut v: Vec<String> = l.iter().map(RemoteId::to_string).collect();
        v.sort();
        v
    })
}

pub(crate) fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

struct Calendar {
    fake: FakeRaynet,
    member: u64,
    meeting: u64,
    event: u64,
}

async fn calendar() -> Calendar {
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
    let guest = inst
        .add_person(PersonSeed::new("Host").email("host@klient.cz"))
        .unwrap();
    let meeting = inst
        .add_meeting(
            ActivitySeed::new("Porada", member)
                .participant(guest)
                .scheduled_local("2026-05-04 10:00", "2026-05-04 11:00"),
        )
        .unwrap();
    let event = inst
        .add_event(
            ActivitySeed::new("Veletrh", member)
                .scheduled_local("2026-06-01 00:00", "2026-06-03 00:00"),
        )
        .unwrap();
    inst.add_meeting(
        ActivitySeed::new("Not mine", other)
            .scheduled_local("2026-05-04 10:00", "2026-05-04 11:00"),
    )
    .unwrap();
    Calendar {
        fake,
        member,
        meeting,
        event,
    }
}

#[tokio::test]
async fn first_read_is_complete_and_leaves_a_watermark_of_the_servers_clock() {
    let c = calendar().await;
    let cal = RaynetCalendar::new(c.fake.client(), c.member);
    let read = cal.read(&request(None)).await.unwrap();
    assert_eq!(read.completeness, Completeness::Complete);
    assert_eq!(ids(&read).len(), 2);
    assert_eq!(read.listed_ids, None);
    let cursor = read.cursor.expect("a cursor");
    let at = cursor
        .as_str()
        .strip_prefix("v1:")
        .and_then(|s| s.split(';').next())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .expect("v1:<rfc3339>;…");
    let skew = (c.fake.now() - at.with_timezone(&Utc)).num_seconds();
    assert!((0..=5).contains(&skew), "the fake's clock (Date header)");

    // Unreadable cursors and cursors of another window mean a full read.
    for bad in [
        "garbage",
        "v1:not-a-time;n=0",
        "v9:2026-01-01T00:00:00Z;n=0",
    ] {
        let read = cal
            .read(&request(Some(&Cursor::new(bad).unwrap())))
            .await
            .unwrap();
        assert_eq!(read.completeness, Completeness::Complete, "{bad}");
    }
    let other_window = ReadRequest {
        window: Some(Window {
            start: utc("2026-03-02T00:00:00Z"),
            end: utc("2026-12-02T00:00:00Z"),
        }),
        cursor: Some(cursor),
    };
    let read = cal.read(&other_window).await.unwrap();
    assert_eq!(
        read.completeness,
        Completeness::Complete,
        "the window moved: items may have entered it unchanged"
    );
}

#[tokio::test]
async fn an_idle_incremental_read_costs_two_listings_plus_the_id_scans() {
    let c = calendar().await;
    let cal = RaynetCalendar::new(c.fake.client(), c.member);
    // The last change lies further back than the overlap.
    c.fake.advance_clock(Duration::minutes(10));
    let first = cal.read(&request(None)).await.unwrap();
    c.fake.reset_counters();
    let read = cal.read(&request(first.cursor.as_ref())).await.unwrap();
    assert_eq!(read.completeness, Completeness::Delta);
    assert!(read.items.is_empty(), "{:?}", ids(&read));
    assert!(
        read.deleted.is_empty(),
        "no deletion markers: RAYNET has no feed"
    );
    assert_eq!(
        listed(&read),
        Some(vec![format!("e-{}", c.event), format!("m-{}", c.meeting)])
    );
    assert_eq!(
        c.fake.request_counts(),
        counts(&[("GET /meeting/", 2), ("GET /event/", 2)]),
        "changed meetings + changed events + one id scan of each"
    );
    assert_eq!(c.fake.total_requests(), 4);

    // Every third incremental read scans: the others cost two requests.
    let cal = cal.with_deletion_scan_every(3);
    let mut cursor = read.cursor;
    let mut costs = Vec::new();
    for _ in 0..6 {
        c.fake.reset_counters();
        let read = cal.read(&request(cursor.as_ref())).await.unwrap();
        assert_eq!(read.completeness, Completeness::Delta);
        costs.push((c.fake.total_requests(), read.listed_ids.is_some()));
        cursor = read.cursor;
    }
    assert_eq!(
        costs,
        vec![
            (2, false),
            (2, false),
            (4, true),
            (2, false),
            (2, false),
            (4, true)
        ]
    );
}

#[tokio::test]
async fn deltas_list_changes_wherever_they_went_and_the_scan_lists_the_window() {
    let c = calendar().await;
    let inst = c.fake.default_instance();
    let cal = RaynetCalendar::new(c.fake.client(), c.member);
    let first = cal.read(&request(None)).await.unwrap();
    c.fake.advance_clock(Duration::minutes(10));

    inst.edit(
        "meeting",
        c.meeting,
        &serde_json::json!({"title": "Porada 2"}),
    )
    .unwrap();
    inst.remove("event", c.event).unwrap();
    let far = inst
        .add_meeting(
            ActivitySeed::new("Next year", c.member)
                .scheduled_local("2027-05-04 10:00", "2027-05-04 11:00"),
        )
        .unwrap();
    let read = cal.read(&request(first.cursor.as_ref())).await.unwrap();
    assert_eq!(read.completeness, Completeness::Delta);
    let mut want = vec![format!("m-{}", c.meeting), format!("m-{far}")];
    want.sort();
    assert_eq!(ids(&read), want, "changed items, in the window or not");
    let porada = read
        .items
        .iter()
        .find(|r| r.id.as_str() == format!("m-{}", c.meeting))
        .unwrap();
    assert_eq!(porada.item.title, "Porada 2");
    assert_eq!(porada.item.attendees.len(), 1, "participants' e-mails");
    assert_eq!(
        listed(&read),
        Some(vec![format!("m-{}", c.meeting)]),
        "the deleted event is missing from the id scan of the window"
    );

    // Within the overlap the same changes come again (the engine dedupes).
    let again = cal.read(&request(read.cursor.as_ref())).await.unwrap();
    assert_eq!(ids(&again), want);
    // Once the watermark is past them by more than the overlap, nothing.
    c.fake.advance_clock(Duration::minutes(3));
    let past = cal.read(&request(again.cursor.as_ref())).await.unwrap();
    assert_eq!(ids(&past), want);
    let idle = cal.read(&request(past.cursor.as_ref())).await.unwrap();
    assert!(idle.items.is_empty(), "{:?}", ids(&idle));
    let shorter = RaynetCalendar::new(c.fake.client(), c.member).with_overlap(Duration::zero());
    inst.edit("meeting", far, &serde_json::json!({"title": "Later"}))
        .unwrap();
    let read = shorter.read(&request(idle.cursor.as_ref())).await.unwrap();
    assert_eq!(ids(&read), vec![format!("m-{far}")]);
}

#[tokio::test]
async fn contacts_read_incrementally_and_fetch_each_company_once() {
    let fake = FakeRaynet::start().await;
    let inst = fake.default_instance();
    let acme = inst.add_company(CompanySeed::new("Acme a.s.")).unwrap();
    let brno = inst.add_company(CompanySeed::new("Brno s.r.o.")).unwrap();
    // Rows that name their company by id only.
    let mut persons = Vec::new();
    for (i, company) in [acme, acme, acme, brno, acme].into_iter().enumerate() {
        persons.push(
            inst.add_person(PersonSeed::new(&format!("Osoba {i}")).field(
                "primaryRelationship",
                serde_json::json!({"id": 1, "type": "nákupčí", "company": {"id": company}}),
            ))
            .unwrap(),
        );
    }
    let named = inst
        .add_person(PersonSeed::new("Named").company(brno, "CEO"))
        .unwrap();
    let contacts = RaynetContacts::new(fake.client());
    fake.advance_clock(Duration::minutes(10));
    fake.reset_counters();
    let read = contacts.read(&request(None)).await.unwrap();
    assert_eq!(read.completeness, Completeness::Complete);
    assert_eq!(
        fake.request_counts(),
        counts(&[("GET /person/", 1), ("GET /company/", 1)]),
        "one company listing for all persons"
    );
    let company_of = |id: u64| {
        read.items
            .iter()
            .find(|r| r.id.as_str() == id.to_string())
            .map(|r| r.item.company.clone())
            .unwrap()
    };
    assert_eq!(company_of(persons[0]), "Acme a.s.");
    assert_eq!(company_of(persons[3]), "Brno s.r.o.");
    assert_eq!(company_of(named), "Brno s.r.o.");

    // Idle delta: the changed-persons listing and the id scan.
    fake.reset_counters();
    let idle = contacts.read(&request(read.cursor.as_ref())).await.unwrap();
    assert_eq!(idle.completeness, Completeness::Delta);
    assert!(idle.items.is_empty());
    assert_eq!(idle.listed_ids.as_ref().map(Vec::len), Some(7));
    assert_eq!(fake.request_counts(), counts(&[("GET /person/", 2)]));

    // A change and a deletion.
    inst.edit(
        "person",
        persons[1],
        &serde_json::json!({"firstName": "Eva"}),
    )
    .unwrap();
    inst.remove("person", persons[2]).unwrap();
    let read = contacts
        .with_deletion_scan_every(2)
        .read(&request(idle.cursor.as_ref()))
        .await
        .unwrap();
    assert_eq!(ids(&read), vec![persons[1].to_string()]);
    assert_eq!(read.items[0].item.company, "Acme a.s.");
    assert_eq!(read.items[0].item.given_name, "Eva");
    assert_eq!(read.listed_ids, None, "first read since the scan: none due");
    let one = RaynetContacts::new(fake.client())
        .get(&RemoteId::new(persons[4].to_string()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.item.company, "Acme a.s.");
}
