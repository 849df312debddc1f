//! Rules 6 and 7: recurring series, and the window.

use chrono::Duration;
use graph_client::fake::{EventSeed, SeriesSeed};
use raynet_client::fake::ActivitySeed;
use serde_json::json;

use super::world::*;

/// Rule 6: each occurrence in the window is one Raynet record; a Raynet edit of one record
/// becomes an exception of that occurrence only; a cancelled occurrence follows the
/// Outlook-deletion rule (default: cancelled in Raynet).
#[tokio::test]
async fn recurring_series_occurrences_edits_and_cancellations() {
    let w = World::new("").await;
    w.round().await;
    let series = w.sandbox.data.series.clone();
    let mut records = w.raynet_titled("Team stand-up");
    records.sort_by_key(|(_, _, r)| prague(r, "scheduledFrom"));
    let starts: Vec<String> = records
        .iter()
        .map(|(_, _, r)| prague(r, "scheduledFrom"))
        .collect();
    assert_eq!(
        starts,
        [
            "2026-11-26 09:00",
            "2026-12-03 09:00",
            "2026-12-10 09:00",
            "2026-12-17 09:00"
        ]
    );
    assert!(records.iter().all(|(e, _, r)| *e == "event"
        && prague(r, "scheduledTill").ends_with("09:30")
        && r["status"] == "SCHEDULED"));
    // Raynet: the 2nd occurrence is renamed and moved.
    let second = records[1].1;
    w.inst()
        .edit(
            "event",
            second,
            &json!({"title": "Team stand-up – sprint demo",
                "scheduledFrom": "2026-12-03 10:00", "scheduledTill": "2026-12-03 11:00"}),
        )
        .unwrap();
    w.round().await;
    let occ = w.occurrences(&w.jana, &series);
    let shape: Vec<(String, String, String)> = occ
        .iter()
        .map(|e| {
            (
                text(e, "/type"),
                text(e, "/subject"),
                outlook_utc(e, "start"),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        shape,
        vec![
            s("occurrence", "Team stand-up", "2026-11-26 08:00"),
            s(
                "exception",
                "Team stand-up – sprint demo",
                "2026-12-03 09:00"
            ),
            s("occurrence", "Team stand-up", "2026-12-10 08:00"),
            s("occurrence", "Team stand-up", "2026-12-17 08:00"),
        ]
    );
    let master = w.sandbox.graph.event(&w.jana, &series).unwrap();
    assert_eq!(master["subject"], "Team stand-up");
    // Outlook: the 3rd occurrence is cancelled.
    w.sandbox.graph.delete_event(&w.jana, &text(&occ[2], "/id"));
    w.round().await;
    let statuses: Vec<(String, String)> = records
        .iter()
        .map(|(_, id, _)| {
            let r = w.inst().record("event", *id).unwrap();
            (text(&r, "/title"), text(&r, "/status"))
        })
        .collect();
    let s2 = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        statuses,
        vec![
            s2("Team stand-up", "SCHEDULED"),
            s2("Team stand-up – sprint demo", "SCHEDULED"),
            s2("Team stand-up", "CANCELLED"),
            s2("Team stand-up", "SCHEDULED"),
        ]
    );
    assert_eq!(w.occurrences(&w.jana, &series).len(), 3);
    w.idle_round().await;
}

/// Rule 6: a cancelled occurrence follows `outlook_deletes` like any Outlook deletion; the
/// other occurrences' records are untouched.
#[tokio::test]
async fn recurring_series_a_cancelled_occurrence_follows_outlook_deletes() {
    for (policy, expected) in [
        ("delete", None),
        ("cancel", Some("CANCELLED")),
        ("ignore", Some("SCHEDULED")),
    ] {
        let w = World::new(&format!("outlook_deletes = \"{policy}\"\n")).await;
        w.round().await;
        let series = w.sandbox.data.series.clone();
        let occ = w.occurrences(&w.jana, &series);
        assert_eq!(occ.len(), 4);
        w.sandbox.graph.delete_event(&w.jana, &text(&occ[1], "/id"));
        w.round().await;
        let mut records: Vec<(String, String)> = w
            .raynet_titled("Team stand-up")
            .iter()
            .map(|(_, _, r)| (prague(r, "scheduledFrom"), text(r, "/status")))
            .collect();
        records.sort();
        let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        let mut want = vec![
            s("2026-11-26 09:00", "SCHEDULED"),
            s("2026-12-10 09:00", "SCHEDULED"),
            s("2026-12-17 09:00", "SCHEDULED"),
        ];
        if let Some(status) = expected {
            want.insert(1, s("2026-12-03 09:00", status));
        }
        assert_eq!(records, want, "outlook_deletes = {policy}");
        assert_eq!(w.occurrences(&w.jana, &series).len(), 3, "{policy}");
        w.idle_round().await;
    }
}

/// Rule 6: moving the window forward adds the occurrences that enter it and never deletes the
/// ones that left it.
#[tokio::test]
async fn recurring_series_a_moving_window_adds_and_never_deletes() {
    let w = World::new("window_days_back = 7\nwindow_days_ahead = 14\n").await;
    w.sandbox.graph.add_series(
        &w.jana,
        SeriesSeed::weekly(
            "Weekly review",
            utc("2026-11-27 10:00"),
            Duration::hours(1),
            &[chrono::Weekday::Fri],
            8,
        ),
    );
    w.round().await;
    let starts = |w: &World| {
        let mut v: Vec<(String, String)> = w
            .raynet_titled("Weekly review")
            .iter()
            .map(|(_, _, r)| (prague(r, "scheduledFrom"), text(r, "/status")))
            .collect();
        v.sort();
        v
    };
    let s = |a: &str| (a.to_owned(), "SCHEDULED".to_owned());
    // Window on 25 Nov: 18 Nov – 10 Dec.
    assert_eq!(
        starts(&w),
        vec![s("2026-11-27 11:00"), s("2026-12-04 11:00")]
    );
    // Three weeks later (window 9 Dec – 31 Dec).
    let later = w.now + Duration::days(21);
    w.round_at(later).await;
    assert_eq!(
        starts(&w),
        vec![
            s("2026-11-27 11:00"),
            s("2026-12-04 11:00"),
            s("2026-12-11 11:00"),
            s("2026-12-18 11:00"),
            s("2026-12-25 11:00"),
        ]
    );
    // Nothing that left the window was deleted on either side.
    assert_eq!(w.inst().ids("meeting").len(), 3);
    assert!(
        w.outlook_subjects(&w.jana)
            .contains(&"Obchodní jednání – Acme".to_owned())
    );
    w.idle_round_at(later).await;
}

// ================================================================ 7. the window

/// Rule 7: items outside the window are not synced; items leaving it are left alone on both
/// sides (never deleted for leaving, their edits and deletions not carried over).
#[tokio::test]
async fn the_window_limits_what_is_synced_and_leaving_it_deletes_nothing() {
    let w = World::new("window_days_back = 7\nwindow_days_ahead = 14\n").await;
    let inst = w.inst();
    inst.add_event(
        ActivitySeed::new("Raynet far ahead", w.jana_person())
            .scheduled_local("2026-12-30 09:00", "2026-12-30 10:00"),
    )
    .unwrap();
    inst.add_event(
        ActivitySeed::new("Raynet long ago", w.jana_person())
            .scheduled_local("2026-11-02 09:00", "2026-11-02 10:00"),
    )
    .unwrap();
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new(
            "Outlook far ahead",
            utc("2026-12-30 12:00"),
            utc("2026-12-30 13:00"),
        ),
    );
    w.sandbox.graph.add_event(
        &w.jana,
        EventSeed::new(
            "Outlook long ago",
            utc("2026-11-02 12:00"),
            utc("2026-11-02 13:00"),
        ),
    );
    w.round().await;
    let outlook = w.outlook_subjects(&w.jana);
    assert!(
        !outlook.contains(&"Raynet far ahead".to_owned()),
        "{outlook:?}"
    );
    assert!(
        !outlook.contains(&"Raynet long ago".to_owned()),
        "{outlook:?}"
    );
    assert!(w.raynet_titled("Outlook far ahead").is_empty());
    assert!(w.raynet_titled("Outlook long ago").is_empty());
    // (Window on 25 Nov: 18 Nov – 10 Dec; two of the four stand-ups are in it.)
    let mut expected = jana_default_titles();
    expected.retain(|t| *t != "Team stand-up");
    expected.extend([
        "Raynet far ahead",
        "Raynet long ago",
        "Team stand-up",
        "Team stand-up",
    ]);
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected.clone()));

    // A month later (window 18 Dec – 9 Jan): the sample items of late November have left it.
    let later = w.now + Duration::days(30);
    w.round_at(later).await;
    // The far-ahead items entered the window and were synced.
    let (_, _, far) = w.raynet_one("Outlook far ahead");
    assert_eq!(prague(&far, "scheduledFrom"), "2026-12-30 13:00");
    let ev = w.outlook_one(&w.jana, "Raynet far ahead");
    assert_eq!(outlook_utc(&ev, "start"), "2026-12-30 08:00");
    // Items that left the window stay as they were on both sides.
    assert_eq!(
        w.outlook_one(&w.jana, "Obchodní jednání – Acme")["subject"],
        "Obchodní jednání – Acme"
    );
    assert_eq!(
        w.raynet_one("Customer call – Brno").2["status"],
        "SCHEDULED"
    );
    assert_eq!(
        outlook_utc(&w.outlook_one(&w.jana, "Customer call – Brno"), "start"),
        "2026-11-29 09:00"
    );
    expected.push("Outlook far ahead");
    assert_eq!(w.raynet_titles(w.jana_person()), sorted(expected));
    assert!(w.raynet_titled("Outlook long ago").is_empty());
    assert!(
        !w.outlook_subjects(&w.jana)
            .contains(&"Raynet long ago".to_owned())
    );
    w.idle_round_at(later).await;
}

/// Rule 7: a pair that has left the window is left alone — a later Raynet edit does not reach
/// Outlook and a later Outlook deletion does not cancel the Raynet record, however many rounds
/// run.
#[tokio::test]
async fn changes_outside_the_window_are_not_carried_over() {
    let w = World::new("window_days_back = 7\nwindow_days_ahead = 14\n").await;
    w.round().await;
    let acme = text(&w.outlook_one(&w.jana, "Obchodní jednání – Acme"), "/id");
    // A month later the late-November items are outside the window (18 Dec – 9 Jan).
    let later = w.now + Duration::days(30);
    w.round_at(later).await;
    w.inst()
        .edit(
            "meeting",
            w.sandbox.data.meetings[0],
            &json!({"title": "Obchodní jednání – Acme (archiv)"}),
        )
        .unwrap();
    w.sandbox
        .graph
        .delete_event(&w.jana, &w.sandbox.data.customer_call);
    w.round_at(later).await;
    w.round_at(later).await;
    let ev = w.sandbox.graph.event(&w.jana, &acme).unwrap();
    assert_eq!(
        ev["subject"], "Obchodní jednání – Acme",
        "outside the window"
    );
    assert_eq!(
        w.raynet_one("Customer call – Brno").2["status"],
        "SCHEDULED"
    );
    assert_eq!(
        w.inst()
            .record("meeting", w.sandbox.data.meetings[0])
            .unwrap()["title"],
        "Obchodní jednání – Acme (archiv)"
    );
}
