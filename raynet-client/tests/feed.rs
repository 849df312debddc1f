//! The instance feed: one incremental read per resource for the whole
//! instance, routed to the members' providers — the same items as their own
//! reads, at a cost that does not grow with the number of members.

use chrono::{DateTime, Duration, Utc};
use raynet_client::ListQuery;
use raynet_client::adapter::{
    CursorInfo, FeedPlan, InstanceFeed, PersonRoute, RaynetCalendar, RaynetContacts,
};
use raynet_client::fake::{ActivitySeed, FakeRaynet, Fault, FaultKind, PersonSeed};
use sync_core::{
    Completeness, Cursor, EventField, FieldSet, ReadSide, SideRead, SyncItem, WriteSide,
};

use crate::incremental::{counts, request, utc, window};

/// What a read says, in a form two reads can be compared by.
fn summary<T: std::fmt::Debug>(
    read: &SideRead<T>,
) -> (Vec<String>, Vec<String>, Option<Vec<String>>) {
    let mut items: Vec<String> = read
        .items
        .iter()
        .map(|r| format!("{} {} {:?}", r.id, r.version, r.item))
        .collect();
    items.sort();
    let mut deleted: Vec<String> = read.deleted.iter().map(ToString::to_string).collect();
    deleted.sort();
    let listed = read.listed_ids.as_ref().map(|l| {
        let mut v: Vec<String> = l.iter().map(ToString::to_string).collect();
        v.sort();
        v
    });
    (items, deleted, listed)
}

struct Tenant {
    fake: FakeRaynet,
    members: Vec<u64>,
    /// Per member: its first meeting and its first event.
    meetings: Vec<u64>,
    events: Vec<u64>,
}

/// Three members with two meetings (one with a guest) and an event each, and
/// a non-member's meeting.
async fn tenant() -> Tenant {
    let fake = FakeRaynet::start().await;
    let mut t = Tenant {
        members: Vec::new(),
        meetings: Vec::new(),
        events: Vec::new(),
        fake,
    };
    let inst = t.fake.default_instance();
    let guest = inst
        .add_person(PersonSeed::new("Host").email("host@klient.cz"))
        .unwrap();
    for (i, name) in ["jana", "petr", "eva", "nobody"].iter().enumerate() {
        let person = inst
            .add_user(
                &format!("{name}@acme.test"),
                &format!("crm-{name}"),
                name,
                "Test",
            )
            .unwrap()
            .person_id;
        let day = 4 + i;
        let m = inst
            .add_meeting(
                ActivitySeed::new(&format!("Porada {name}"), person)
                    .participant(guest)
                    .scheduled_local(
                        &format!("2026-05-0{day} 10:00"),
                        &format!("2026-05-0{day} 11:00"),
                    ),
            )
            .unwrap();
        inst.add_meeting(
            ActivitySeed::new(&format!("Oběd {name}"), person).scheduled_local(
                &format!("2026-05-0{day} 12:00"),
                &format!("2026-05-0{day} 13:00"),
            ),
        )
        .unwrap();
        let e = inst
            .add_event(
                ActivitySeed::new(&format!("Veletrh {name}"), person)
                    .scheduled_local("2026-06-01 00:00", "2026-06-03 00:00"),
            )
            .unwrap();
        if *name != "nobody" {
            t.members.push(person);
            t.meetings.push(m);
            t.events.push(e);
        }
    }
    t
}

/// The person id of the guest of the members' first meetings (`host@klient.cz`).
async fn guest_id(t: &Tenant) -> u64 {
    t.fake
        .client()
        .persons()
        .list_all(&ListQuery::new())
        .await
        .unwrap()
        .into_iter()
        .find(|p| {
            p.contact_info
                .as_ref()
                .and_then(|c| c.email.as_deref())
                .is_some_and(|e| e == "host@klient.cz")
        })
        .unwrap()
        .id
}

/// Every member's first (full) read, then ten quiet minutes.
async fn first_reads(t: &Tenant) -> Vec<Cursor> {
    // The seeding lies further back than the overlap.
    t.fake.advance_clock(Duration::minutes(10));
    let mut cursors = Vec::new();
    for &m in &t.members {
        let read = RaynetCalendar::new(t.fake.client(), m)
            .read(&request(None))
            .await
            .unwrap();
        cursors.push(read.cursor.unwrap());
    }
    t.fake.advance_clock(Duration::minutes(10));
    cursors
}

fn oldest(cursors: &[Cursor]) -> DateTime<Utc> {
    cursors
        .iter()
        .map(|c| CursorInfo::parse(c).unwrap().watermark)
        .min()
        .unwrap()
}

#[tokio::test]
async fn members_get_from_the_feed_what_their_own_reads_would_give() {
    let t = tenant().await;
    let cursors = first_reads(&t).await;
    let inst = t.fake.default_instance();
    inst.edit(
        "meeting",
        t.meetings[0],
        &serde_json::json!({"title": "Porada 2"}),
    )
    .unwrap();
    inst.edit(
        "event",
        t.events[1],
        &serde_json::json!({"title": "Veletrh 2"}),
    )
    .unwrap();
    inst.remove("meeting", t.meetings[2]).unwrap();

    // Each member alone (today's reads) …
    let mut alone = Vec::new();
    for (m, c) in t.members.iter().zip(&cursors) {
        let read = RaynetCalendar::new(t.fake.client(), *m)
            .read(&request(Some(c)))
            .await
            .unwrap();
        alone.push(summary(&read));
    }
    // … and through one feed.
    t.fake.reset_counters();
    let feed = InstanceFeed::new(t.fake.client()).calendar(FeedPlan {
        watermark: oldest(&cursors),
        scan: true,
    });
    let mut shared = Vec::new();
    for (m, c) in t.members.iter().zip(&cursors) {
        let read = RaynetCalendar::new(t.fake.client(), *m)
            .with_feed(feed.clone())
            .read(&request(Some(c)))
            .await
            .unwrap();
        assert_eq!(read.completeness, Completeness::Delta);
        let info = CursorInfo::parse(read.cursor.as_ref().unwrap()).unwrap();
        assert_eq!(info.reads_since_scan, 0, "the feed scanned");
        assert!(info.watermark > CursorInfo::parse(c).unwrap().watermark);
        shared.push(summary(&read));
    }
    for (i, (a, s)) in alone.iter().zip(&shared).enumerate() {
        assert_eq!(a.0, s.0, "member {i}: the same changed items");
        assert!(
            a.1.is_empty(),
            "member {i}: its own reads mark nothing removed"
        );
        assert!(
            s.1.iter()
                .all(|d| !s.0.iter().any(|item| item.starts_with(&format!("{d} ")))),
            "member {i}: markers only for other owners' rows: {:?}",
            s.1
        );
        let own: Vec<&String> = a.2.as_ref().unwrap().iter().collect();
        let all = s.2.as_ref().unwrap();
        assert!(
            own.iter().all(|id| all.contains(id)),
            "member {i}: its ids are listed"
        );
    }
    assert_eq!(shared[0].0.len(), 1);
    assert!(shared[0].0[0].contains("Porada 2"));
    assert!(
        shared[0].0[0].contains("host@klient.cz"),
        "participants' e-mails"
    );
    assert_eq!(shared[1].0.len(), 1);
    assert!(shared[2].0.is_empty());
    let listed = shared[2].2.as_ref().unwrap();
    assert!(
        !listed.contains(&format!("m-{}", t.meetings[2])),
        "the deleted meeting"
    );
    assert_eq!(
        listed.len(),
        4 * 3 - 1,
        "every owner's meetings and events in the window"
    );
    assert_eq!(
        t.fake.request_counts(),
        counts(&[
            ("GET /meeting/", 2),
            ("GET /event/", 2),
            ("GET /person/", 1)
        ]),
        "one changed-rows read and one id scan per entity, one e-mail lookup: for all members"
    );
    assert_eq!(feed.scan_requests(), 2);
}

#[tokio::test]
async fn an_idle_round_costs_one_read_per_entity_whatever_the_member_count() {
    let t = tenant().await;
    let cursors = first_reads(&t).await;
    t.fake.reset_counters();
    let feed = InstanceFeed::new(t.fake.client()).calendar(FeedPlan {
        watermark: oldest(&cursors),
        scan: false,
    });
    for (m, c) in t.members.iter().zip(&cursors) {
        let read = RaynetCalendar::new(t.fake.client(), *m)
            .with_feed(feed.clone())
            .read(&request(Some(c)))
            .await
            .unwrap();
        assert!(read.items.is_empty());
        assert_eq!(read.listed_ids, None, "no scan this round");
        let info = CursorInfo::parse(read.cursor.as_ref().unwrap()).unwrap();
        assert_eq!(info.reads_since_scan, 1);
    }
    assert_eq!(
        t.fake.request_counts(),
        counts(&[("GET /meeting/", 1), ("GET /event/", 1)])
    );
    assert_eq!(feed.scan_requests(), 0);

    // A feed nobody reads from sends nothing (a round of full reads).
    t.fake.reset_counters();
    let unused = InstanceFeed::new(t.fake.client()).calendar(FeedPlan {
        watermark: oldest(&cursors),
        scan: true,
    });
    let read = RaynetCalendar::new(t.fake.client(), t.members[0])
        .with_feed(unused)
        .read(&request(None))
        .await
        .unwrap();
    assert_eq!(read.completeness, Completeness::Complete);
    assert_eq!(
        t.fake.request_counts(),
        counts(&[
            ("GET /meeting/", 1),
            ("GET /event/", 1),
            ("GET /person/", 1)
        ]),
        "the member's own full read only"
    );
}

#[tokio::test]
async fn a_member_older_than_the_feed_reads_alone() {
    let t = tenant().await;
    let cursors = first_reads(&t).await;
    let inst = t.fake.default_instance();
    inst.edit(
        "meeting",
        t.meetings[0],
        &serde_json::json!({"title": "Porada 2"}),
    )
    .unwrap();
    // The feed starts after the first member's watermark: it could miss its changes.
    let feed = InstanceFeed::new(t.fake.client()).calendar(FeedPlan {
        watermark: t.fake.now(),
        scan: false,
    });
    t.fake.reset_counters();
    let read = RaynetCalendar::new(t.fake.client(), t.members[0])
        .with_feed(feed)
        .read(&request(Some(&cursors[0])))
        .await
        .unwrap();
    assert_eq!(read.items.len(), 1, "its own read found the change");
    assert_eq!(
        t.fake.requests("GET /meeting/"),
        2,
        "own delta + own id scan"
    );
}

#[tokio::test]
async fn a_failed_feed_read_fails_every_members_read_and_sends_nothing_more() {
    let t = tenant().await;
    let cursors = first_reads(&t).await;
    t.fake.inject(
        Fault::new(FaultKind::Status(500))
            .on("GET /meeting/")
            .times(100),
    );
    t.fake.reset_counters();
    let feed = InstanceFeed::new(t.fake.client()).calendar(FeedPlan {
        watermark: oldest(&cursors),
        scan: true,
    });
    for (m, c) in t.members.iter().zip(&cursors) {
        let err = RaynetCalendar::new(t.fake.client(), *m)
            .with_feed(feed.clone())
            .read(&request(Some(c)))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("instance-wide"), "{err}");
    }
    let first_member_attempts = t.fake.requests("GET /meeting/");
    assert!(first_member_attempts >= 1);
    assert_eq!(
        t.fake.total_requests(),
        first_member_attempts,
        "tried once (with the client's retries), not once per member"
    );
}

#[tokio::test]
async fn persons_are_read_once_and_routed_by_owner() {
    let t = tenant().await;
    let inst = t.fake.default_instance();
    let a = t.members[0];
    let b = t.members[1];
    let owned_by_a = inst
        .add_person(PersonSeed::new("Klient A").email("a@klient.cz").owner(a))
        .unwrap();
    let owned_by_b = inst
        .add_person(PersonSeed::new("Klient B").email("b@klient.cz").owner(b))
        .unwrap();
    let owned = |m: u64| {
        RaynetContacts::new(t.fake.client()).with_filter(ListQuery::new().filter(
            "owner",
            raynet_client::Op::Eq,
            m,
        ))
    };
    t.fake.advance_clock(Duration::minutes(10));
    let mut cursors = Vec::new();
    for m in [a, b] {
        cursors.push(owned(m).read(&request(None)).await.unwrap().cursor.unwrap());
    }
    let everyone = RaynetContacts::new(t.fake.client())
        .read(&request(None))
        .await
        .unwrap()
        .cursor
        .unwrap();
    t.fake.advance_clock(Duration::minutes(10));
    inst.edit("person", owned_by_a, &serde_json::json!({"owner": b}))
        .unwrap();
    inst.edit(
        "person",
        owned_by_b,
        &serde_json::json!({"firstName": "Bára"}),
    )
    .unwrap();

    t.fake.reset_counters();
    let plan = FeedPlan {
        watermark: oldest(&cursors),
        scan: false,
    };
    let feed = InstanceFeed::new(t.fake.client()).persons(plan, ListQuery::new());
    let a_read = owned(a)
        .with_feed(feed.clone(), PersonRoute::OwnedBy(a))
        .read(&request(Some(&cursors[0])))
        .await
        .unwrap();
    let b_read = owned(b)
        .with_feed(feed.clone(), PersonRoute::OwnedBy(b))
        .read(&request(Some(&cursors[1])))
        .await
        .unwrap();
    let all_read = RaynetContacts::new(t.fake.client())
        .with_feed(feed.clone(), PersonRoute::Everyone)
        .read(&request(Some(&everyone)))
        .await
        .unwrap();
    assert_eq!(t.fake.request_counts(), counts(&[("GET /person/", 1)]));
    assert!(a_read.items.is_empty());
    assert!(
        a_read
            .deleted
            .iter()
            .any(|d| d.as_str() == owned_by_a.to_string()),
        "A's former person is marked for a check: {:?}",
        a_read.deleted
    );
    let mut b_ids: Vec<String> = b_read.items.iter().map(|r| r.id.to_string()).collect();
    b_ids.sort();
    let mut want = vec![owned_by_a.to_string(), owned_by_b.to_string()];
    want.sort();
    assert_eq!(b_ids, want);
    assert!(b_read.deleted.is_empty());
    assert_eq!(all_read.items.len(), 2);
    // A's filtered `get` confirms the person left A's scope.
    let gone = owned(a)
        .get(&sync_core::RemoteId::new(owned_by_a.to_string()).unwrap())
        .await
        .unwrap();
    assert!(gone.is_none());

    // A member whose filter differs from the feed's (a tag) reads alone.
    t.fake.reset_counters();
    let tagged = RaynetContacts::new(t.fake.client())
        .with_filter(ListQuery::new().param("tags", "vip"))
        .with_feed(feed, PersonRoute::Everyone);
    tagged.read(&request(Some(&everyone))).await.unwrap();
    assert_eq!(t.fake.requests("GET /person/"), 2, "own delta + own scan");
}

/// Matches list requests filtered by owner (the member's own reads).
struct OwnerFiltered(bool);

impl wiremock::Match for OwnerFiltered {
    fn matches(&self, request: &wiremock::Request) -> bool {
        request
            .url
            .query_pairs()
            .any(|(k, _)| k.starts_with("owner-id"))
            == self.0
    }
}

/// The documented list example has a row that says its owner nowhere (no `owner`, no owning
/// participant): the feed cannot route such rows, so the member reads alone, and nothing is
/// lost.
#[tokio::test]
async fn rows_without_an_owner_send_each_member_back_to_its_own_reads() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let server = crate::util::server().await;
    let empty = serde_json::json!({"success": true, "totalCount": 0, "data": []});
    for entity in ["meeting", "event"] {
        let instance_wide = if entity == "meeting" {
            crate::util::fixture_json("meeting_list.json")
        } else {
            empty.clone()
        };
        Mock::given(method("GET"))
            .and(path(format!("/api/v2/{entity}/")))
            .and(OwnerFiltered(false))
            .respond_with(ResponseTemplate::new(200).set_body_json(instance_wide))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/api/v2/{entity}/")))
            .and(OwnerFiltered(true))
            .respond_with(ResponseTemplate::new(200).set_body_json(empty.clone()))
            .expect(2) // the member's own delta, and its own id scan
            .mount(&server)
            .await;
    }
    let client = crate::util::client_for(&server);
    let feed = InstanceFeed::new(client.clone()).calendar(FeedPlan {
        watermark: utc("2026-03-20T00:00:00Z"),
        scan: false,
    });
    let w = window();
    let cursor = Cursor::new(format!(
        "v1:2026-03-21T00:00:00.000Z;n=0;w={}/{}",
        w.start.timestamp(),
        w.end.timestamp()
    ))
    .unwrap();
    let read = RaynetCalendar::new(client, 2)
        .with_feed(feed)
        .read(&request(Some(&cursor)))
        .await
        .unwrap();
    assert_eq!(read.completeness, Completeness::Delta);
    assert!(read.items.is_empty(), "the member's own (empty) delta");
    assert!(
        read.listed_ids.is_some(),
        "its own scan, on its own schedule"
    );
}

/// A meeting reassigned to another member leaves the first one's calendar (a removal marker,
/// confirmed by `get`) and enters the new owner's.
#[tokio::test]
async fn a_reassigned_meeting_moves_from_one_members_read_to_the_others() {
    let t = tenant().await;
    let cursors = first_reads(&t).await;
    let (a, b) = (t.members[0], t.members[1]);
    let meeting = t.meetings[0];
    t.fake
        .default_instance()
        .edit("meeting", meeting, &serde_json::json!({"owner": b}))
        .unwrap();
    let feed = InstanceFeed::new(t.fake.client()).calendar(FeedPlan {
        watermark: oldest(&cursors),
        scan: false,
    });
    let id = format!("m-{meeting}");
    let a_read = RaynetCalendar::new(t.fake.client(), a)
        .with_feed(feed.clone())
        .read(&request(Some(&cursors[0])))
        .await
        .unwrap();
    assert!(a_read.items.iter().all(|r| r.id.as_str() != id));
    assert!(
        a_read.deleted.iter().any(|d| d.as_str() == id),
        "{:?}",
        a_read.deleted
    );
    let b_read = RaynetCalendar::new(t.fake.client(), b)
        .with_feed(feed)
        .read(&request(Some(&cursors[1])))
        .await
        .unwrap();
    assert!(b_read.items.iter().any(|r| r.id.as_str() == id));
    assert!(b_read.deleted.iter().all(|d| d.as_str() != id));
    let rid = sync_core::RemoteId::new(id).unwrap();
    assert!(
        RaynetCalendar::new(t.fake.client(), a)
            .get(&rid)
            .await
            .unwrap()
            .is_none(),
        "no longer in A's calendar"
    );
    assert!(
        RaynetCalendar::new(t.fake.client(), b)
            .get(&rid)
            .await
            .unwrap()
            .is_some(),
        "in B's"
    );
}

/// Each member's changed item: its event with a new title, as read through
/// `feed`, and the member's provider.
async fn read_events_through(
    t: &Tenant,
    feed: &InstanceFeed,
    cursors: &[Cursor],
) -> Vec<(RaynetCalendar, sync_core::Remote<sync_core::Event>)> {
    let mut out = Vec::new();
    for ((m, c), e) in t.members.iter().zip(cursors).zip(&t.events) {
        let cal = RaynetCalendar::new(t.fake.client(), *m).with_feed(feed.clone());
        let read = cal.read(&request(Some(c))).await.unwrap();
        let id = format!("e-{e}");
        let remote = read
            .items
            .iter()
            .find(|r| r.id.as_str() == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} not in the member's read"));
        out.push((cal, remote));
    }
    out
}

/// Writes a new title to `remote`, expecting the version it was read at (as
/// the engine would after an Outlook edit); the write's answer and the item sent.
async fn retitle(
    cal: &RaynetCalendar,
    remote: &sync_core::Remote<sync_core::Event>,
    title: &str,
) -> Result<(sync_core::Written<sync_core::Event>, sync_core::Event), sync_core::ProviderError> {
    let mut item = remote.item.clone();
    item.title = title.into();
    let written = cal
        .update(
            &remote.id,
            &item,
            FieldSet::of(&[EventField::Title]),
            Some(&remote.version),
        )
        .await?;
    Ok((written, item))
}

/// Touches every member's event so that the next reads list it.
fn touch_events(t: &Tenant) {
    let inst = t.fake.default_instance();
    for e in &t.events {
        inst.edit("event", *e, &serde_json::json!({"meetingPlace": "Brno"}))
            .unwrap();
    }
}

/// A round in which every member's event changed in RAYNET: the tenant, the members' cursors
/// and each member's provider (with a feed reusing its version listings for `recheck_age`)
/// and event, as read through the feed.
async fn round_with_changed_events(
    recheck_age: std::time::Duration,
) -> (
    Tenant,
    Vec<Cursor>,
    Vec<(RaynetCalendar, sync_core::Remote<sync_core::Event>)>,
) {
    let t = tenant().await;
    let cursors = first_reads(&t).await;
    touch_events(&t);
    let feed = InstanceFeed::new(t.fake.client())
        .calendar(FeedPlan {
            watermark: oldest(&cursors),
            scan: false,
        })
        .with_recheck_age(recheck_age);
    let read = read_events_through(&t, &feed, &cursors).await;
    (t, cursors, read)
}

#[tokio::test]
async fn writes_check_versions_through_one_shared_listing_and_are_not_read_back() {
    let (t, cursors, read) =
        round_with_changed_events(raynet_client::adapter::DEFAULT_RECHECK_AGE).await;
    t.fake.reset_counters();
    let mut written = Vec::new();
    for (cal, remote) in &read {
        let title = format!("{} (edited in Outlook)", remote.item.title);
        written.push(retitle(cal, remote, &title).await.unwrap());
    }
    assert_eq!(
        t.fake.request_counts(),
        counts(&[("GET /event/", 1), ("POST /event/{id}/", 3)]),
        "one version listing for the three writes, no read of any record"
    );

    // The version guessed is the one RAYNET (here the fake) gives, and the next read lists
    // the record with the content sent and recorded: the engine then has nothing to do.
    t.fake.advance_clock(Duration::minutes(15));
    let next = InstanceFeed::new(t.fake.client()).calendar(FeedPlan {
        watermark: oldest(&cursors),
        scan: false,
    });
    let reread = read_events_through(&t, &next, &cursors).await;
    for ((w, sent), (_, now)) in written.iter().zip(&reread) {
        assert_eq!(now.version, w.version, "{}", now.id);
        assert_eq!(now.item, sent.clone().normalized(), "{}", now.id);
        assert_eq!(w.item.as_ref(), Some(&now.item), "{}", now.id);
    }
}

#[tokio::test]
async fn a_record_edited_after_the_read_is_not_written() {
    let (t, _, read) = round_with_changed_events(std::time::Duration::ZERO).await;
    let inst = t.fake.default_instance();
    let write = |i: usize| {
        let (cal, remote) = &read[i];
        retitle(cal, remote, "From Outlook")
    };
    // The first member's write lists the versions; then a RAYNET user edits the second
    // member's event: with no reuse of listings, its write lists again and sees the edit.
    write(0).await.unwrap();
    inst.edit(
        "event",
        t.events[1],
        &serde_json::json!({"title": "Edited in RAYNET"}),
    )
    .unwrap();
    t.fake.reset_counters();
    let err = write(1).await.unwrap_err();
    assert_eq!(
        err.kind(),
        sync_core::ErrorKind::PreconditionFailed,
        "{err}"
    );
    assert_eq!(
        t.fake.request_counts(),
        counts(&[("GET /event/", 1)]),
        "listed again, nothing sent"
    );
    assert_eq!(
        inst.record("event", t.events[1]).unwrap()["title"],
        "Edited in RAYNET"
    );
    // A record nobody touched since the round's read passes.
    write(2).await.unwrap();
}

#[tokio::test]
async fn a_failed_version_listing_fails_the_write_and_sends_nothing() {
    let (t, _, read) = round_with_changed_events(raynet_client::adapter::DEFAULT_RECHECK_AGE).await;
    t.fake.inject(
        Fault::new(FaultKind::Status(500))
            .on("GET /event/")
            .times(100),
    );
    t.fake.reset_counters();
    let (cal, remote) = &read[0];
    let err = retitle(cal, remote, "From Outlook").await.unwrap_err();
    assert_ne!(
        err.kind(),
        sync_core::ErrorKind::PreconditionFailed,
        "{err}"
    );
    assert_eq!(t.fake.requests("POST /event/{id}/"), 0);
}

/// Participants' addresses kept between rounds: a later round that reads a changed meeting needs
/// no person listing for a participant it met, and a participant whose address changed is
/// refreshed by the persons a round reads — not served stale for the cache's hour.
#[tokio::test]
async fn kept_participant_addresses_are_refreshed_by_the_persons_a_round_reads() {
    let t = tenant().await;
    let inst = t.fake.default_instance();
    let jana = t.members[0];
    let cursors = first_reads(&t).await;
    let cache = raynet_client::adapter::PersonEmails::default();
    let guest_of = |read: &SideRead<sync_core::Event>| -> Vec<String> {
        read.items
            .iter()
            .flat_map(|r| r.item.attendees.iter().map(|a| a.email.to_string()))
            .collect()
    };
    let round = |cursor: Cursor| {
        let cache = cache.clone();
        let client = t.fake.client();
        async move {
            let plan = FeedPlan {
                watermark: CursorInfo::parse(&cursor).unwrap().watermark,
                scan: false,
            };
            let feed = InstanceFeed::new(client.clone())
                .calendar(plan)
                .persons(plan, ListQuery::new())
                .with_person_emails(cache);
            let calendar = RaynetCalendar::new(client.clone(), jana)
                .with_feed(feed.clone())
                .read(&request(Some(&cursor)))
                .await
                .unwrap();
            RaynetContacts::new(client)
                .with_feed(feed, PersonRoute::Everyone)
                .read(&request(Some(&cursor)))
                .await
                .unwrap();
            calendar
        }
    };
    // Round 1: the meeting changed; its guest is looked up once and kept.
    inst.edit(
        "meeting",
        t.meetings[0],
        &serde_json::json!({"title": "Porada 2"}),
    )
    .unwrap();
    t.fake.reset_counters();
    let first = round(cursors[0].clone()).await;
    assert_eq!(guest_of(&first), vec!["host@klient.cz"]);
    assert!(!cache.is_empty());
    let listings = t.fake.requests("GET /person/");

    // Round 2: the meeting changed again, the guest did not: no person look-up beyond the
    // round's own person read.
    t.fake.advance_clock(Duration::minutes(5));
    inst.edit(
        "meeting",
        t.meetings[0],
        &serde_json::json!({"title": "Porada 3"}),
    )
    .unwrap();
    t.fake.reset_counters();
    let second = round(first.cursor.clone().unwrap()).await;
    assert_eq!(guest_of(&second), vec!["host@klient.cz"]);
    assert_eq!(
        t.fake.requests("GET /person/"),
        listings - 1,
        "round 1 listed the guest; round 2 kept the address"
    );

    // Round 3: the guest's address changed and the meeting too: the round's person read sees
    // the guest's new address and the meeting is read with it, with no look-up either.
    t.fake.advance_clock(Duration::minutes(5));
    let guest = guest_id(&t).await;
    inst.edit(
        "person",
        guest,
        &serde_json::json!({"contactInfo": {"email": "host@novy.cz"}}),
    )
    .unwrap();
    inst.edit(
        "meeting",
        t.meetings[0],
        &serde_json::json!({"title": "Porada 4"}),
    )
    .unwrap();
    t.fake.reset_counters();
    let third = round(second.cursor.clone().unwrap()).await;
    assert_eq!(guest_of(&third), vec!["host@novy.cz"]);
    assert_eq!(
        t.fake.requests("GET /person/"),
        listings - 1,
        "the guest's new address came with the round's person read, read before the meetings"
    );
}

/// A round for one member looks up no participant of another owner's changed meeting: that
/// row only becomes a removal marker for the member, which needs no address.
#[tokio::test]
async fn a_round_for_some_owners_looks_up_only_their_participants() {
    let t = tenant().await;
    let inst = t.fake.default_instance();
    let (jana, petr) = (t.members[0], t.members[1]);
    let cursors = first_reads(&t).await;
    // Petr's meeting with a guest changed; Jana's round reads the instance's changes.
    inst.edit(
        "meeting",
        t.meetings[1],
        &serde_json::json!({"title": "Porada 2"}),
    )
    .unwrap();
    let plan = FeedPlan {
        watermark: oldest(&cursors),
        scan: false,
    };
    for (owners, lookups) in [
        (Some(vec![jana]), 0),
        (Some(vec![jana, petr]), 1),
        (None, 1),
    ] {
        t.fake.reset_counters();
        let mut feed = InstanceFeed::new(t.fake.client()).calendar(plan);
        if let Some(o) = &owners {
            feed = feed.for_owners(o.iter().copied());
        }
        let read = RaynetCalendar::new(t.fake.client(), jana)
            .with_feed(feed)
            .read(&request(Some(&cursors[0])))
            .await
            .unwrap();
        assert!(
            read.deleted
                .iter()
                .any(|d| d.as_str() == format!("m-{}", t.meetings[1])),
            "Petr's changed meeting is a removal marker for Jana: {:?}",
            read.deleted
        );
        assert_eq!(
            t.fake.requests("GET /person/"),
            lookups,
            "owners {owners:?}: participant look-ups"
        );
    }
}

/// Addresses warmed from what a store keeps (the contacts as last synced) spare the look-up.
#[tokio::test]
async fn warmed_addresses_spare_the_participants_look_up() {
    let t = tenant().await;
    let inst = t.fake.default_instance();
    let jana = t.members[0];
    let cursors = first_reads(&t).await;
    let guest = guest_id(&t).await;
    inst.edit(
        "meeting",
        t.meetings[0],
        &serde_json::json!({"title": "Porada 2"}),
    )
    .unwrap();
    let plan = FeedPlan {
        watermark: oldest(&cursors),
        scan: false,
    };
    for warmed in [false, true] {
        let cache = raynet_client::adapter::PersonEmails::default();
        assert!(cache.warm_due());
        if warmed {
            cache.warm([(
                guest,
                Some(sync_core::Email::new("host@klient.cz").unwrap()),
            )]);
            assert!(!cache.warm_due(), "warmed: not due again for an hour");
        }
        t.fake.reset_counters();
        let read = RaynetCalendar::new(t.fake.client(), jana)
            .with_feed(
                InstanceFeed::new(t.fake.client())
                    .calendar(plan)
                    .with_person_emails(cache),
            )
            .read(&request(Some(&cursors[0])))
            .await
            .unwrap();
        let guests: Vec<String> = read
            .items
            .iter()
            .flat_map(|r| r.item.attendees.iter().map(|a| a.email.to_string()))
            .collect();
        assert_eq!(guests, vec!["host@klient.cz"]);
        assert_eq!(
            t.fake.requests("GET /person/"),
            u64::from(!warmed),
            "warmed {warmed}"
        );
    }
}
