//! Rule 9: time zones and daylight-saving changes.

use chrono::Duration;
use chrono_tz::Tz;
use graph_client::fake::EventSeed;
use raynet_client::fake::ActivitySeed;

use super::world::*;

/// Rule 9, around the March switch (29 March 2026, 02:00 CET → 03:00 CEST): Outlook events
/// made in Los Angeles and Tokyo land on the right Prague wall-clock times, all-day items stay
/// on their dates both ways, and a second round moves nothing.
#[tokio::test]
async fn time_zones_across_the_march_dst_switch() {
    let now = utc("2026-03-20 12:00");
    let w = World::at(now, "").await;
    let g = &w.sandbox.graph;
    let add = |subject: &str, tz: Tz, zone: &str, local: &str| {
        let start = at(tz, local);
        g.add_event(
            &w.jana,
            EventSeed::new(subject, start, start + Duration::hours(1)).zone(zone),
        )
    };
    // Los Angeles is already on PDT (8 March); Prague switches on 29 March.
    add(
        "LA before",
        LOS_ANGELES,
        "Pacific Standard Time",
        "2026-03-28 09:00",
    );
    add(
        "LA after",
        LOS_ANGELES,
        "Pacific Standard Time",
        "2026-03-30 09:00",
    );
    add(
        "Tokyo at 00 UTC",
        TOKYO,
        "Tokyo Standard Time",
        "2026-03-29 09:00",
    );
    add(
        "Tokyo at 02 UTC",
        TOKYO,
        "Tokyo Standard Time",
        "2026-03-29 11:00",
    );
    g.add_event(
        &w.jana,
        EventSeed::all_day("LA all day", date("2026-03-29"), date("2026-03-30"))
            .zone("Pacific Standard Time"),
    );
    g.add_event(
        &w.jana,
        EventSeed::all_day("Tokyo all day", date("2026-03-28"), date("2026-03-30"))
            .zone("Tokyo Standard Time"),
    );
    let inst = w.inst();
    inst.add_event(
        ActivitySeed::new("Raynet all day", w.jana_person())
            .scheduled_local("2026-03-29 00:00", "2026-03-30 00:00"),
    )
    .unwrap();
    inst.add_event(
        ActivitySeed::new("Raynet after switch", w.jana_person())
            .scheduled_local("2026-03-29 03:30", "2026-03-29 04:30"),
    )
    .unwrap();
    inst.add_event(
        ActivitySeed::new("Raynet before switch", w.jana_person())
            .scheduled_local("2026-03-29 01:30", "2026-03-29 01:45"),
    )
    .unwrap();
    w.round().await;

    for (title, from, till) in [
        ("LA before", "2026-03-28 17:00", "2026-03-28 18:00"),
        ("LA after", "2026-03-30 18:00", "2026-03-30 19:00"),
        ("Tokyo at 00 UTC", "2026-03-29 01:00", "2026-03-29 03:00"),
        ("Tokyo at 02 UTC", "2026-03-29 04:00", "2026-03-29 05:00"),
        ("LA all day", "2026-03-29 00:00", "2026-03-30 00:00"),
        ("Tokyo all day", "2026-03-28 00:00", "2026-03-30 00:00"),
    ] {
        let (_, _, rec) = w.raynet_one(title);
        assert_eq!(
            (prague(&rec, "scheduledFrom"), prague(&rec, "scheduledTill")),
            (from.to_owned(), till.to_owned()),
            "{title}: {rec}"
        );
    }
    for (subject, start, end, all_day) in [
        (
            "Raynet all day",
            "2026-03-29 00:00",
            "2026-03-30 00:00",
            true,
        ),
        (
            "Raynet after switch",
            "2026-03-29 01:30",
            "2026-03-29 02:30",
            false,
        ),
        (
            "Raynet before switch",
            "2026-03-29 00:30",
            "2026-03-29 00:45",
            false,
        ),
    ] {
        let ev = w.outlook_one(&w.jana, subject);
        assert_eq!(
            (
                outlook_utc(&ev, "start"),
                outlook_utc(&ev, "end"),
                ev["isAllDay"] == true
            ),
            (start.to_owned(), end.to_owned(), all_day),
            "{subject}: {ev}"
        );
    }
    // The Outlook events themselves did not move.
    let ev = w.outlook_one(&w.jana, "LA all day");
    assert_eq!(ev["isAllDay"], true);
    assert_eq!(outlook_utc(&ev, "start"), "2026-03-29 00:00");
    assert_eq!(outlook_utc(&ev, "end"), "2026-03-30 00:00");
    w.idle_round().await;
}

/// Rule 9, around the October switch (25 October 2026, 03:00 CEST → 02:00 CET, so 02:00–03:00
/// happens twice in Prague): the right wall-clock time and the right offset.
#[tokio::test]
async fn time_zones_across_the_october_dst_switch() {
    let now = utc("2026-10-20 12:00");
    let w = World::at(now, "").await;
    let g = &w.sandbox.graph;
    let add = |subject: &str, tz: Tz, zone: &str, local: &str| {
        let start = at(tz, local);
        g.add_event(
            &w.jana,
            EventSeed::new(subject, start, start + Duration::minutes(30)).zone(zone),
        )
    };
    // Los Angeles switches only on 1 November.
    add(
        "LA before",
        LOS_ANGELES,
        "Pacific Standard Time",
        "2026-10-24 09:00",
    );
    add(
        "LA after",
        LOS_ANGELES,
        "Pacific Standard Time",
        "2026-10-26 09:00",
    );
    // 00:00 UTC = 02:00 CEST (the first 02:00); 01:00 UTC = 02:00 CET (the second).
    add(
        "Tokyo first 2am",
        TOKYO,
        "Tokyo Standard Time",
        "2026-10-25 09:00",
    );
    add(
        "Tokyo second 2am",
        TOKYO,
        "Tokyo Standard Time",
        "2026-10-25 10:00",
    );
    g.add_event(
        &w.jana,
        EventSeed::all_day("LA all day", date("2026-10-25"), date("2026-10-26"))
            .zone("Pacific Standard Time"),
    );
    w.inst()
        .add_event(
            ActivitySeed::new("Raynet all day", w.jana_person())
                .scheduled_local("2026-10-25 00:00", "2026-10-26 00:00"),
        )
        .unwrap();
    w.round().await;
    for (title, from, till) in [
        (
            "LA before",
            "2026-10-24T18:00:00.000+02:00",
            "2026-10-24T18:30:00.000+02:00",
        ),
        (
            "LA after",
            "2026-10-26T17:00:00.000+01:00",
            "2026-10-26T17:30:00.000+01:00",
        ),
        (
            "Tokyo first 2am",
            "2026-10-25T02:00:00.000+02:00",
            "2026-10-25T02:30:00.000+02:00",
        ),
        (
            "Tokyo second 2am",
            "2026-10-25T02:00:00.000+01:00",
            "2026-10-25T02:30:00.000+01:00",
        ),
        (
            "LA all day",
            "2026-10-25T00:00:00.000+02:00",
            "2026-10-26T00:00:00.000+01:00",
        ),
    ] {
        let (_, _, rec) = w.raynet_one(title);
        assert_eq!(
            (text(&rec, "/scheduledFrom"), text(&rec, "/scheduledTill")),
            (from.to_owned(), till.to_owned()),
            "{title}"
        );
    }
    let ev = w.outlook_one(&w.jana, "Raynet all day");
    assert_eq!(ev["isAllDay"], true);
    assert_eq!(outlook_utc(&ev, "start"), "2026-10-25 00:00");
    assert_eq!(outlook_utc(&ev, "end"), "2026-10-26 00:00");
    let ev = w.outlook_one(&w.jana, "Tokyo second 2am");
    assert_eq!(outlook_utc(&ev, "start"), "2026-10-25 01:00");
    w.idle_round().await;
}
