//! Calendar-view delta against the fake.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, Weekday};
use graph_client::client::models::{Event, EventType};
use graph_client::fake::{EventSeed, SeriesSeed};

use crate::util::{at, client, client_with_pages, window, world};

/// Merges a round into a map the way a caller must: idempotent, by id.
fn merge(state: &mut HashMap<String, Event>, items: Vec<Event>) -> Vec<String> {
    let mut removed = Vec::new();
    for item in items {
        let id = item.id.clone().expect("delta items have ids");
        if item.is_removed() {
            removed.push(id.clone());
            state.remove(&id);
        } else {
            state.insert(id, item);
        }
    }
    removed
}

#[tokio::test]
async fn delta_across_pages_and_rounds() {
    let w = world().await;
    let ids: Vec<String> = (0..7)
        .map(|i| {
            w.fake.add_event(
                &w.alice,
                EventSeed::new(
                    &format!("Meeting {i}"),
                    at(2030, 1, 2 + i, 9, 0),
                    at(2030, 1, 2 + i, 10, 0),
                ),
            )
        })
        .collect();
    let client = client_with_pages(&w.fake, 3);
    let (start, end) = window();

    let round = client
        .events(&w.alice)
        .delta_full(start, end)
        .await
        .expect("initial round");
    assert!(
        round.pages >= 3,
        "7 items at 3 a page need 3 pages, got {}",
        round.pages
    );
    let mut state = HashMap::new();
    merge(&mut state, round.items);
    assert_eq!(
        state.len(),
        7,
        "every event once, whatever replays happened"
    );
    for id in &ids {
        assert!(state.contains_key(id));
    }
    // Every page carried the same headers (the fake records Prefer per request).
    for r in w
        .fake
        .requests()
        .iter()
        .filter(|r| r.endpoint == "calendarView.delta")
    {
        let prefer = r.prefer.as_deref().unwrap_or("");
        assert!(prefer.contains(r#"IdType="ImmutableId""#), "{prefer}");
        assert!(prefer.contains(r#"outlook.timezone="UTC""#), "{prefer}");
        assert!(prefer.contains("odata.maxpagesize=3"), "{prefer}");
    }

    // Second round: one edit, one new event, one deletion.
    assert!(w.fake.edit_event(
        &w.alice,
        &ids[0],
        &serde_json::json!({"subject": "Renamed"})
    ));
    let new_id = w.fake.add_event(
        &w.alice,
        EventSeed::new("New", at(2030, 1, 20, 9, 0), at(2030, 1, 20, 10, 0)),
    );
    assert!(w.fake.delete_event(&w.alice, &ids[1]));
    let round2 = client
        .events(&w.alice)
        .delta_resume(&round.delta_link)
        .await
        .expect("second round");
    let removed = merge(&mut state, round2.items);
    assert_eq!(removed, vec![ids[1].clone()]);
    assert_eq!(state.len(), 7);
    assert_eq!(state[&ids[0]].subject.as_deref(), Some("Renamed"));
    assert!(state.contains_key(&new_id));

    // Third round with no change: nothing but possible replays of unchanged items.
    let round3 = client
        .events(&w.alice)
        .delta_resume(&round2.delta_link)
        .await
        .expect("third round");
    let before = state.clone();
    let removed = merge(&mut state, round3.items);
    assert!(removed.is_empty());
    assert_eq!(
        state, before,
        "a replayed item changes nothing when merged idempotently"
    );
}

#[tokio::test]
async fn removed_for_an_event_moved_out_of_the_window_is_not_a_deletion() {
    let w = world().await;
    let id = w.fake.add_event(
        &w.alice,
        EventSeed::new("Moves away", at(2030, 1, 10, 9, 0), at(2030, 1, 10, 10, 0)),
    );
    let client = client(&w.fake);
    let (start, end) = window();
    let round = client
        .events(&w.alice)
        .delta_full(start, end)
        .await
        .expect("round");
    assert_eq!(round.items.len(), 1);

    assert!(
        w.fake
            .move_event(&w.alice, &id, at(2030, 3, 10, 9, 0), at(2030, 3, 10, 10, 0))
    );
    let round2 = client
        .events(&w.alice)
        .delta_resume(&round.delta_link)
        .await
        .expect("round 2");
    let removed: Vec<&Event> = round2.items.iter().filter(|e| e.is_removed()).collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].id.as_deref(), Some(id.as_str()));
    // The caller checks: the event still exists, outside the window.
    let event = client.events(&w.alice).get(&id).await.expect("still there");
    assert_eq!(
        event.start.expect("start").date_time,
        "2030-03-10T09:00:00.0000000"
    );
}

#[tokio::test]
async fn expired_delta_token_is_a_typed_error_and_a_full_reread_recovers() {
    let w = world().await;
    let id = w.fake.add_event(
        &w.alice,
        EventSeed::new("Keep", at(2030, 1, 10, 9, 0), at(2030, 1, 10, 10, 0)),
    );
    let client = client(&w.fake);
    let (start, end) = window();
    let round = client
        .events(&w.alice)
        .delta_full(start, end)
        .await
        .expect("round");
    w.fake.expire_delta_tokens(&w.alice);

    let err = client
        .events(&w.alice)
        .delta_resume(&round.delta_link)
        .await
        .expect_err("expired");
    assert!(err.is_delta_expired(), "{err:?}");
    assert_eq!(err.status(), Some(410));
    assert!(
        err.code()
            .is_some_and(|c| c.eq_ignore_ascii_case("syncStateNotFound"))
    );

    let again = client
        .events(&w.alice)
        .delta_full(start, end)
        .await
        .expect("full re-read");
    assert!(
        again.items.iter().all(|e| !e.is_removed()),
        "a re-read never reports deletions"
    );
    assert_eq!(
        again
            .items
            .iter()
            .filter(|e| e.id.as_deref() == Some(id.as_str()))
            .count(),
        1
    );
}

#[tokio::test]
async fn stale_next_link_is_expired_too() {
    let w = world().await;
    for i in 0..4 {
        w.fake.add_event(
            &w.alice,
            EventSeed::new("x", at(2030, 1, 2 + i, 9, 0), at(2030, 1, 2 + i, 10, 0)),
        );
    }
    let client = client_with_pages(&w.fake, 2);
    let (start, end) = window();
    let first = client
        .events(&w.alice)
        .delta_start(start, end)
        .await
        .expect("page 1");
    let next = first.next_link.expect("more pages");
    w.fake.expire_delta_tokens(&w.alice);
    let err = client
        .events(&w.alice)
        .delta_page(&next)
        .await
        .expect_err("stale");
    assert!(err.is_delta_expired());
}

#[tokio::test]
async fn delta_rejects_filter_as_graph_does() {
    let w = world().await;
    let url = format!(
        "{}/users/{}/calendarView/delta?startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-02-01T00:00:00Z&$filter=subject%20eq%20'x'",
        w.fake.base_url(),
        w.alice
    );
    let client = client(&w.fake);
    // A next/delta link is followed verbatim, so a hand-made link reaches the fake as is.
    let err = client
        .events(&w.alice)
        .delta_page(&url)
        .await
        .expect_err("400");
    assert_eq!(err.status(), Some(400));
}

async fn all_day_in_zone(zone: &str) {
    let w = world().await;
    w.fake.add_event(
        &w.alice,
        EventSeed::all_day(
            "Holiday",
            NaiveDate::from_ymd_opt(2030, 1, 15).expect("date"),
            NaiveDate::from_ymd_opt(2030, 1, 17).expect("date"),
        )
        .zone(zone),
    );
    // Read as UTC (our client) ...
    let client = client(&w.fake);
    let (start, end) = window();
    let round = client
        .events(&w.alice)
        .delta_full(start, end)
        .await
        .expect("round");
    let event = round.items.into_iter().next().expect("one event");
    assert_eq!(event.is_all_day, Some(true));
    assert_eq!(
        event.start.expect("start").date_time,
        "2030-01-15T00:00:00.0000000"
    );
    assert_eq!(
        event.end.expect("end").date_time,
        "2030-01-17T00:00:00.0000000"
    );
    // ... and with outlook.timezone in a UTC+ and a UTC- zone: still midnight to midnight.
    for read_zone in ["Tokyo Standard Time", "America/Los_Angeles"] {
        let http = reqwest::Client::new();
        let token = token(&w.fake).await;
        let body: serde_json::Value = http
            .get(format!("{}/users/{}/calendarView?startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-02-01T00:00:00Z", w.fake.base_url(), w.alice))
            .bearer_auth(&token)
            .header("Prefer", format!("outlook.timezone=\"{read_zone}\""))
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        let ev = &body["value"][0];
        assert_eq!(
            ev["start"]["dateTime"], "2030-01-15T00:00:00.0000000",
            "{read_zone}"
        );
        assert_eq!(
            ev["end"]["dateTime"], "2030-01-17T00:00:00.0000000",
            "{read_zone}"
        );
        assert_eq!(ev["start"]["timeZone"], read_zone);
    }
}

/// A raw access token from the fake, for hand-made requests.
pub async fn token(fake: &graph_client::fake::FakeGraph) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/{}/oauth2/v2.0/token", fake.authority_url(), graph_client::fake::FakeGraph::TENANT))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id={}&client_secret={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&grant_type=client_credentials",
            graph_client::fake::FakeGraph::CLIENT_ID,
            graph_client::fake::FakeGraph::CLIENT_SECRET
        ))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn all_day_events_keep_their_dates_created_in_a_utc_plus_zone() {
    all_day_in_zone("Tokyo Standard Time").await;
}

#[tokio::test]
async fn all_day_events_keep_their_dates_created_in_a_utc_minus_zone() {
    all_day_in_zone("Pacific Standard Time").await;
}

#[tokio::test]
async fn timed_events_follow_the_read_zone() {
    let w = world().await;
    w.fake.add_event(
        &w.alice,
        EventSeed::new("Call", at(2030, 1, 15, 9, 0), at(2030, 1, 15, 10, 0)),
    );
    let token = token(&w.fake).await;
    let resp = reqwest::Client::new()
        .get(format!("{}/users/{}/calendarView?startDateTime=2030-01-01T00:00:00Z&endDateTime=2030-02-01T00:00:00Z", w.fake.base_url(), w.alice))
        .bearer_auth(&token)
        .header("Prefer", "outlook.timezone=\"Pacific Standard Time\"")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        resp.headers()["preference-applied"],
        "outlook.timezone=\"Pacific Standard Time\""
    );
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(
        body["value"][0]["start"]["dateTime"],
        "2030-01-15T01:00:00.0000000"
    );
}

#[tokio::test]
async fn recurring_series_with_a_moved_and_a_cancelled_occurrence() {
    let w = world().await;
    // Mondays and Wednesdays from Wed 2030-01-02, 8 occurrences, 30 minutes, in Prague's zone.
    let master = w.fake.add_series(
        &w.alice,
        SeriesSeed::weekly(
            "Standup",
            at(2030, 1, 2, 8, 0),
            Duration::minutes(30),
            &[Weekday::Mon, Weekday::Wed],
            8,
        )
        .zone("Central Europe Standard Time"),
    );
    let (start, end) = window();
    let occ = w.fake.occurrence_ids(&w.alice, &master, start, end);
    assert_eq!(occ.len(), 8);
    let client = client(&w.fake);
    let round = client
        .events(&w.alice)
        .delta_full(start, end)
        .await
        .expect("round");
    let mut state = HashMap::new();
    merge(&mut state, round.items.clone());
    assert_eq!(state.len(), 8, "occurrences only, no series master");
    // Occurrences come back sparse: no subject; the series master must be fetched.
    let first = &state[&occ[0]];
    assert_eq!(first.kind, Some(EventType::Occurrence));
    assert_eq!(first.subject, None);
    assert_eq!(first.series_master_id.as_deref(), Some(master.as_str()));
    let full_master = client.events(&w.alice).get(&master).await.expect("master");
    assert_eq!(full_master.kind, Some(EventType::SeriesMaster));
    assert_eq!(full_master.subject.as_deref(), Some("Standup"));
    assert!(full_master.recurrence.is_some());
    let full_occ = client
        .events(&w.alice)
        .get(&occ[2])
        .await
        .expect("occurrence");
    assert!(full_occ.original_start.is_some());
    assert_eq!(full_occ.subject.as_deref(), Some("Standup"));

    // Move the 3rd occurrence by an hour, cancel the 5th.
    let moved_start = at(2030, 1, 9, 9, 0);
    assert!(w.fake.move_event(
        &w.alice,
        &occ[2],
        moved_start,
        moved_start + Duration::minutes(30)
    ));
    assert!(w.fake.delete_event(&w.alice, &occ[4]));
    let round2 = client
        .events(&w.alice)
        .delta_resume(&round.delta_link)
        .await
        .expect("round 2");
    let removed = merge(&mut state, round2.items);
    assert_eq!(removed, vec![occ[4].clone()]);
    assert_eq!(state.len(), 7);
    let moved = &state[&occ[2]];
    assert_eq!(moved.kind, Some(EventType::Exception));
    assert_eq!(
        moved.start.as_ref().expect("start").date_time,
        "2030-01-09T09:00:00.0000000"
    );

    // Moving an occurrence past its neighbour is refused as Graph does.
    let err = client
        .events(&w.alice)
        .update(&occ[1], &move_to(at(2030, 1, 10, 8, 0)), "*")
        .await
        .expect_err("crossing");
    assert_eq!(err.code(), Some("ErrorOccurrenceCrossingBoundary"));
}

fn move_to(start: chrono::DateTime<chrono::Utc>) -> Event {
    let mut e = Event::default();
    e.start = Some(graph_client::client::models::DateTimeTimeZone::utc(start));
    e.end = Some(graph_client::client::models::DateTimeTimeZone::utc(
        start + Duration::minutes(30),
    ));
    e
}

#[tokio::test]
async fn fresh_writes_may_show_only_in_a_later_round() {
    let w = world().await;
    let client = client(&w.fake);
    let (start, end) = window();
    let round = client
        .events(&w.alice)
        .delta_full(start, end)
        .await
        .expect("empty round");
    assert!(round.items.is_empty());
    w.fake
        .set_processing_lag(std::time::Duration::from_millis(200));
    let id = w.fake.add_event(
        &w.alice,
        EventSeed::new("Fresh", at(2030, 1, 10, 9, 0), at(2030, 1, 10, 10, 0)),
    );
    let round2 = client
        .events(&w.alice)
        .delta_resume(&round.delta_link)
        .await
        .expect("lagging round");
    assert!(
        round2
            .items
            .iter()
            .all(|e| e.id.as_deref() != Some(id.as_str())),
        "not visible yet"
    );
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    let round3 = client
        .events(&w.alice)
        .delta_resume(&round2.delta_link)
        .await
        .expect("later round");
    assert!(
        round3
            .items
            .iter()
            .any(|e| e.id.as_deref() == Some(id.as_str())),
        "visible after the lag"
    );
}

/// Graph serves at most 200 contacts per delta page, whatever `odata.maxpagesize` asks
/// (Microsoft Q&A answer 2052165); the client's default asks for exactly that.
#[tokio::test]
async fn contacts_delta_pages_hold_at_most_two_hundred() {
    let w = world().await;
    let folder = w.fake.add_contact_folder(&w.alice, "Raynet");
    for i in 0..450 {
        w.fake.add_contact(
            &w.alice,
            &folder,
            serde_json::json!({"givenName": format!("Osoba {i}")}),
        );
    }
    for (asked, pages) in [(1000, 3), (200, 3), (100, 5)] {
        let client = client_with_pages(&w.fake, asked);
        let round = client
            .contacts(&w.alice)
            .delta_round(&folder, None)
            .await
            .unwrap();
        let ids: std::collections::HashSet<_> =
            round.items.iter().filter_map(|c| c.id.clone()).collect();
        assert_eq!(ids.len(), 450, "asked {asked}");
        assert_eq!(round.pages, pages, "asked {asked}");
    }
    let default = w.fake.client_builder().build().unwrap();
    let round = default
        .contacts(&w.alice)
        .delta_round(&folder, None)
        .await
        .unwrap();
    assert_eq!(round.pages, 3, "the default page size is Graph's largest");
}
