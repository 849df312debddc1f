//! Rules 1 and 2: private Outlook events and completed meetings.

use serde_json::json;

use super::world::*;

/// Rule 1, `private_events = "standard"`: a private Outlook event reaches Raynet like any
/// other (title, time, description), with `personal` set.
#[tokio::test]
async fn private_events_standard_sync_everything_and_mark_the_record_personal() {
    let w = World::new("private_events = \"standard\"\n").await;
    w.round().await;
    let mut expected = jana_default_titles();
    expected.push("Dentist");
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected));
    let (entity, _, rec) = w.raynet_one("Dentist");
    assert_eq!(entity, "event");
    assert_eq!(owner(&rec), w.jana_person());
    assert_eq!(rec["personal"], true);
    assert_eq!(prague(&rec, "scheduledFrom"), "2026-11-26 08:00");
    assert_eq!(prague(&rec, "scheduledTill"), "2026-11-26 09:00");
    assert_eq!(text(&rec, "/description"), "<p>Root canal, 2nd visit</p>");
    assert_eq!(rec["status"], "SCHEDULED");
    // Outlook keeps its private event as it was.
    let ev = w.outlook_one(&w.jana, "Dentist");
    assert_eq!(ev["sensitivity"], "private");
    assert_eq!(outlook_utc(&ev, "start"), "2026-11-26 07:00");
    w.idle_round().await;
}

/// Rule 1, `private_events = "time-blocker"`: Raynet sees "Time blocker" with the time only;
/// later Outlook edits of title, body and place never leak, time changes follow.
#[tokio::test]
async fn private_events_time_blocker_carry_the_time_only_and_never_leak_later_edits() {
    let w = World::new("private_events = \"time-blocker\"\n").await;
    w.round().await;
    let mut expected = jana_default_titles();
    expected.push("Time blocker");
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected));
    let (entity, id, rec) = w.raynet_one("Time blocker");
    assert_eq!(entity, "event");
    assert_eq!(prague(&rec, "scheduledFrom"), "2026-11-26 08:00");
    assert_eq!(prague(&rec, "scheduledTill"), "2026-11-26 09:00");
    assert_eq!(text(&rec, "/description"), "");
    assert_eq!(text(&rec, "/meetingPlace"), "");
    assert_eq!(rec["personal"], true);

    // The user renames, describes, places and moves the appointment in Outlook.
    let dentist = w.sandbox.data.private_event.clone();
    w.sandbox.graph.edit_event(
        &w.jana,
        &dentist,
        &json!({
            "subject": "Dentist – Dr. Novák, implant",
            "body": {"contentType": "text", "content": "Bring the X-ray, pay 12 000 CZK"},
            "location": {"displayName": "Clinic Vinohrady"},
        }),
    );
    w.sandbox.graph.move_event(
        &w.jana,
        &dentist,
        utc("2026-11-26 10:00"),
        utc("2026-11-26 11:30"),
    );
    w.round().await;
    let rec = w.inst().record("event", id).unwrap();
    assert_eq!(rec["title"], "Time blocker");
    assert_eq!(text(&rec, "/description"), "");
    assert_eq!(text(&rec, "/meetingPlace"), "");
    assert_eq!(prague(&rec, "scheduledFrom"), "2026-11-26 11:00");
    assert_eq!(prague(&rec, "scheduledTill"), "2026-11-26 12:30");
    for (_, _, r) in w.raynet_all() {
        let all = r.to_string();
        assert!(
            !all.contains("Dentist") && !all.contains("X-ray") && !all.contains("Vinohrady"),
            "a private detail leaked into Raynet: {r}"
        );
    }
    // Outlook keeps the user's own title, body and place (the blocker never comes back).
    let ev = w.sandbox.graph.event(&w.jana, &dentist).unwrap();
    assert_eq!(ev["subject"], "Dentist – Dr. Novák, implant");
    assert_eq!(ev["location"]["displayName"], "Clinic Vinohrady");
    assert_eq!(outlook_utc(&ev, "start"), "2026-11-26 10:00");
    assert_eq!(outlook_utc(&ev, "end"), "2026-11-26 11:30");
    w.idle_round().await;
}

/// Rule 1, `private_events = "skip"` (the default): a private event never reaches Raynet, not
/// even after it is edited.
#[tokio::test]
async fn private_events_skip_never_reach_raynet() {
    let w = World::new("private_events = \"skip\"\n").await;
    w.round().await;
    assert_eq!(
        w.raynet_titles(w.jana_person()),
        sorted(jana_default_titles())
    );
    w.sandbox.graph.edit_event(
        &w.jana,
        &w.sandbox.data.private_event,
        &json!({"subject": "Dentist (moved)"}),
    );
    w.round().await;
    assert_eq!(
        w.raynet_titles(w.jana_person()),
        sorted(jana_default_titles())
    );
    assert!(
        w.raynet_all()
            .iter()
            .all(|(_, _, r)| prague(r, "scheduledFrom") != "2026-11-26 08:00"),
        "nothing at the dentist's time"
    );
    assert_eq!(
        w.outlook_one(&w.jana, "Dentist (moved)")["sensitivity"],
        "private"
    );
}

// ================================================================ 2. completed meetings

/// Rule 2, `completed_events = "sync"` (the default): a later Raynet change of a completed
/// meeting still reaches Outlook; an Outlook edit never reopens it.
#[tokio::test]
async fn completed_meetings_sync_keep_flowing_to_outlook() {
    let w = World::new("completed_events = \"sync\"\n").await;
    w.round().await;
    let completed = w.sandbox.data.meetings[1];
    let ev = w.outlook_one(&w.jana, "Kontrolní den");
    let outlook_id = text(&ev, "/id");
    w.inst()
        .edit(
            "meeting",
            completed,
            &json!({"title": "Kontrolní den – zápis", "meetingPlace": "Ostrava"}),
        )
        .unwrap();
    w.round().await;
    let ev = w.sandbox.graph.event(&w.jana, &outlook_id).unwrap();
    assert_eq!(ev["subject"], "Kontrolní den – zápis");
    assert_eq!(ev["location"]["displayName"], "Ostrava");
    // An Outlook edit: taken over, the meeting stays completed.
    w.sandbox.graph.edit_event(
        &w.jana,
        &outlook_id,
        &json!({"location": {"displayName": "Teams"}}),
    );
    w.round().await;
    let rec = w.inst().record("meeting", completed).unwrap();
    assert_eq!(rec["status"], "COMPLETED");
    assert_eq!(rec["meetingPlace"], "Teams");
    assert_eq!(rec["title"], "Kontrolní den – zápis");
    w.idle_round().await;
}

/// Rule 2, `completed_events = "stop"`: later Raynet changes of a completed meeting stay in
/// Raynet; an Outlook edit never reopens it (status stays COMPLETED).
#[tokio::test]
async fn completed_meetings_stop_keep_later_raynet_changes_in_raynet() {
    let w = World::new("completed_events = \"stop\"\n").await;
    w.round().await;
    let completed = w.sandbox.data.meetings[1];
    let ev = w.outlook_one(&w.jana, "Kontrolní den");
    let outlook_id = text(&ev, "/id");
    let change_key = text(&ev, "/changeKey");
    // Notes written into the finished meeting.
    w.inst()
        .edit(
            "meeting",
            completed,
            &json!({"title": "Kontrolní den – zápis", "description": "<p>Zápis: vše OK</p>"}),
        )
        .unwrap();
    w.round().await;
    let ev = w.sandbox.graph.event(&w.jana, &outlook_id).unwrap();
    assert_eq!(ev["subject"], "Kontrolní den");
    assert_eq!(text(&ev, "/changeKey"), change_key, "Outlook untouched");
    assert_eq!(outlook_utc(&ev, "start"), "2026-11-23 13:00");
    // An Outlook edit of the completed meeting.
    w.sandbox.graph.edit_event(
        &w.jana,
        &outlook_id,
        &json!({"location": {"displayName": "Teams"}}),
    );
    w.round().await;
    let rec = w.inst().record("meeting", completed).unwrap();
    assert_eq!(rec["status"], "COMPLETED", "never reopened");
    assert_eq!(rec["title"], "Kontrolní den – zápis");
    assert_eq!(text(&rec, "/description"), "<p>Zápis: vše OK</p>");
    let ev = w.sandbox.graph.event(&w.jana, &outlook_id).unwrap();
    assert_eq!(ev["subject"], "Kontrolní den");
    w.idle_round().await;
}
