//! Rules 3 and 4: the Raynet type of new Outlook items, and whose record an event is.

use chrono::Duration;
use graph_client::fake::EventSeed;
use serde_json::json;

use super::world::*;

/// Rule 3, `outlook_new_as = "event"` (the default): a new Outlook item becomes a Raynet event,
/// even with external attendees.
#[tokio::test]
async fn new_outlook_items_become_events_by_default() {
    let w = World::new("").await;
    let t = utc("2026-11-30 09:00");
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new("Supplier visit", t, t + Duration::hours(1))
            .attendee("buyer@customer.example"),
    );
    w.round().await;
    let (entity, _, rec) = w.raynet_one("Supplier visit");
    assert_eq!(entity, "event");
    assert_eq!(owner(&rec), w.jana_person());
    assert_eq!(w.inst().ids("meeting").len(), 3, "only the sample meetings");
}

/// Rule 3, `outlook_new_as = "meeting"`: every new Outlook item becomes a Raynet meeting.
#[tokio::test]
async fn new_outlook_items_become_meetings_with_outlook_new_as_meeting() {
    let w = World::new("outlook_new_as = \"meeting\"\n").await;
    let t = utc("2026-11-30 09:00");
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new("Focus time", t, t + Duration::hours(1)),
    );
    w.round().await;
    assert_eq!(w.raynet_one("Focus time").0, "meeting");
    assert_eq!(w.raynet_one("Customer call – Brno").0, "meeting");
    assert_eq!(
        w.raynet_titled("Team stand-up")
            .iter()
            .map(|(e, _, _)| *e)
            .collect::<Vec<_>>(),
        vec!["meeting"; 4]
    );
    assert_eq!(w.inst().ids("event").len(), 2, "only the sample events");
}

/// Rule 3, `outlook_new_as = "auto"`: a meeting when an attendee is from outside the
/// organisation, else an event; a pair keeps its Raynet type after later edits.
#[tokio::test]
async fn new_outlook_items_auto_type_and_pairs_keep_their_type() {
    let w = World::new("outlook_new_as = \"auto\"\n").await;
    let t = utc("2026-11-30 09:00");
    let external = w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new("Offer review with buyer", t, t + Duration::hours(1))
            .attendee("buyer@customer.example"),
    );
    let internal = w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new(
            "Internal sync with Petr",
            t + Duration::hours(2),
            t + Duration::hours(3),
        )
        .attendee("petr.dvorak@acme.test"),
    );
    w.round().await;
    let (e1, m_id, _) = w.raynet_one("Offer review with buyer");
    assert_eq!(e1, "meeting");
    let (e2, e_id, _) = w.raynet_one("Internal sync with Petr");
    assert_eq!(e2, "event");
    assert_eq!(
        w.raynet_one("Customer call – Brno").0,
        "event",
        "no attendees"
    );
    // Later edits: the meeting loses its external attendee, the event gains one.
    w.sandbox
        .graph
        .edit_event(&w.jana, &external, &json!({"attendees": []}));
    w.sandbox.graph.edit_event(
        &w.jana,
        &internal,
        &json!({"attendees": [
            {"type": "required", "emailAddress": {"address": "petr.dvorak@acme.test"}},
            {"type": "required", "emailAddress": {"address": "buyer@customer.example"}},
        ], "subject": "Internal sync with Petr and buyer"}),
    );
    w.round().await;
    let (e1, id1, _) = w.raynet_one("Offer review with buyer");
    assert_eq!((e1, id1), ("meeting", m_id));
    let (e2, id2, _) = w.raynet_one("Internal sync with Petr and buyer");
    assert_eq!((e2, id2), ("event", e_id));
    assert_eq!(w.inst().ids("meeting").len(), 4);
    w.idle_round().await;
}

// ================================================================ 4. owners

/// Rule 4: an event organised by a served member belongs to that member; the copy Exchange
/// delivers to an invited member's mailbox (same iCalUId) does not make a second record.
#[tokio::test]
async fn events_belong_to_the_served_member_who_organised_them() {
    let w = World::new("").await;
    let t = utc("2026-11-30 14:00");
    w.sandbox.graph.add_event(
        &w.petr,
        EventSeed::new("Budget review", t, t + Duration::hours(1))
            .attendee("jana.novakova@acme.test"),
    );
    // The fake delivers Jana her copy, as Exchange does.
    let copy = w.outlook_one(&w.jana, "Budget review");
    assert_eq!(copy["isOrganizer"], false);
    assert_eq!(
        text(&copy, "/organizer/emailAddress/address"),
        "petr.dvorak@acme.test"
    );
    w.round().await;
    let (_, _, rec) = w.raynet_one("Budget review");
    assert_eq!(owner(&rec), w.petr_person());
    assert_eq!(
        w.raynet_titles(w.petr_person()),
        sorted(vec![
            "Budget review",
            "Logistika – roční plán",
            "Warehouse visit"
        ])
    );
    assert_eq!(
        w.raynet_titles(w.jana_person()),
        sorted(jana_default_titles())
    );
    // Petr's own appointment is Petr's, Jana's own is Jana's.
    assert_eq!(owner(&w.raynet_one("Warehouse visit").2), w.petr_person());
    assert_eq!(
        owner(&w.raynet_one("Customer call – Brno").2),
        w.jana_person()
    );
    w.idle_round().await;
}

/// Rule 4, `invited_events = "skip"` (the default): events organised by outsiders never reach
/// Raynet — also when the same invitation sits in two members' mailboxes.
#[tokio::test]
async fn events_organised_by_outsiders_are_skipped_by_default() {
    let w = World::new("").await;
    let t = utc("2026-12-01 15:00");
    for user in [&w.jana, &w.petr] {
        w.sandbox.graph.add_event(
            user,
            EventSeed::new("Industry roundtable", t, t + Duration::hours(2))
                .organizer("host@chamber.example")
                .attendee("jana.novakova@acme.test")
                .attendee("petr.dvorak@acme.test")
                .field("iCalUId", json!("ROUNDTABLE-UID-1")),
        );
    }
    let r = w.round().await;
    assert!(w.raynet_titled("Partner webinar").is_empty());
    assert!(w.raynet_titled("Industry roundtable").is_empty());
    let skipped: Vec<String> = r
        .reports
        .iter()
        .flat_map(|r| r.skipped.iter())
        .map(|s| s.reason.clone())
        .collect();
    assert_eq!(
        skipped
            .iter()
            .filter(|s| s.contains("invited_events = \"skip\""))
            .count(),
        3,
        "{skipped:?}"
    );
    assert_eq!(
        w.raynet_titles(w.jana_person()),
        sorted(jana_default_titles())
    );
}

/// Rule 4, `invited_events = "own"`: an outsider's event is owned by the invited member; the
/// same meeting in two served members' mailboxes (same iCalUId) is ONE Raynet record.
#[tokio::test]
async fn invited_events_own_make_one_record_per_meeting() {
    let w = World::new("invited_events = \"own\"\n").await;
    let t = utc("2026-12-01 15:00");
    for user in [&w.jana, &w.petr] {
        w.sandbox.graph.add_event(
            user,
            EventSeed::new("Industry roundtable", t, t + Duration::hours(2))
                .organizer("host@chamber.example")
                .attendee("jana.novakova@acme.test")
                .attendee("petr.dvorak@acme.test")
                .field("iCalUId", json!("ROUNDTABLE-UID-1")),
        );
    }
    w.round().await;
    let (_, _, webinar) = w.raynet_one("Partner webinar");
    assert_eq!(owner(&webinar), w.jana_person());
    assert_eq!(prague(&webinar, "scheduledFrom"), "2026-11-30 14:00");
    let (_, _, roundtable) = w.raynet_one("Industry roundtable");
    assert_eq!(owner(&roundtable), w.jana_person());
    assert_eq!(prague(&roundtable, "scheduledFrom"), "2026-12-01 16:00");
    assert_eq!(prague(&roundtable, "scheduledTill"), "2026-12-01 18:00");
    let mut expected = jana_default_titles();
    expected.extend(["Partner webinar", "Industry roundtable"]);
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected));
    assert_eq!(
        w.raynet_titles(w.petr_person()),
        sorted(vec!["Logistika – roční plán", "Warehouse visit"])
    );
    // Nothing was written into the invitations themselves, and nobody was mailed.
    assert_eq!(
        w.outlook_subjects(&w.petr),
        sorted(vec![
            "Industry roundtable",
            "Logistika – roční plán",
            "Warehouse visit"
        ])
    );
    assert!(
        w.sandbox
            .graph
            .invitations()
            .iter()
            .all(|i| i.subject.as_deref() != Some("Industry roundtable"))
    );
    w.idle_round().await;
    assert_eq!(w.raynet_titled("Industry roundtable").len(), 1);
}

/// Rule 4, `invited_events = "own"`: the same meeting (same iCalUId) reached two served
/// members through a distribution list, so neither copy names them as attendees: it is still
/// ONE Raynet record.
#[tokio::test]
async fn invited_events_own_one_record_per_ical_uid_even_via_a_distribution_list() {
    let w = World::new("invited_events = \"own\"\n").await;
    let t = utc("2026-12-01 15:00");
    for user in [&w.jana, &w.petr] {
        w.sandbox.graph.add_event(
            user,
            EventSeed::new("Industry roundtable", t, t + Duration::hours(2))
                .organizer("host@chamber.example")
                .attendee("sales@acme.test")
                .field("iCalUId", json!("ROUNDTABLE-UID-2")),
        );
    }
    w.round().await;
    let records = w.raynet_titled("Industry roundtable");
    assert_eq!(records.len(), 1, "{records:?}");
}
