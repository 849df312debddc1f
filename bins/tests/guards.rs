//! The guards of DESIGN §7 end to end: the real binary against both fake servers (the sample
//! data of `raynet-sync demo`).
//!
//! - A time-zone bug, simulated by Outlook shifting every event of Jana's by an hour: the
//!   round stops before writing, `run` exits with code 2 and says why (which side, the
//!   offset), nothing is written and nobody is mailed; `run --allow-mass-change` lets the
//!   move through once, and the next shift stops again.
//! - A mass reschedule of 60 meetings with an attendee: each round mails at most 50 of them
//!   (the fake Graph's invitation log counts what Exchange would send), the rest follow next
//!   round; `run --json` and `status` say how many were sent and deferred.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use raynet_client::fake::ActivitySeed;
use raynet_sync::demo::{INSTANCE, Sandbox};
use serde_json::{Value, json};

use crate::util::{Run, TempDir, run_against_sandbox};

const PRAGUE: Tz = chrono_tz::Europe::Prague;

/// Jana's address, the member her calendar's scope is kept under.
const JANA: &str = "jana.novakova@acme.test";

/// Runs the binary against the sandbox's fakes (`util::run_against_sandbox`), logging warnings.
async fn raynet_sync(config: &Path, args: &[&str]) -> Run {
    run_against_sandbox(config, args, "warn").await
}

/// Both fakes with the sample data, and a config pointing the binary at them.
struct World {
    sandbox: Sandbox,
    config: PathBuf,
    _dir: TempDir,
}

impl World {
    async fn new() -> Self {
        let dir = TempDir::new("guards");
        let sandbox = Sandbox::start(Utc::now()).await.unwrap();
        let state = dir.path().join("state.db");
        let config = dir.write("raynet-sync.toml", &sandbox.config_toml(&state, ""));
        Self {
            sandbox,
            config,
            _dir: dir,
        }
    }

    /// `run <args>` 15 minutes after the last on Raynet's clock.
    async fn run(&self, args: &[&str]) -> Run {
        self.sandbox.raynet.advance_clock(Duration::minutes(15));
        let mut all = vec!["run"];
        all.extend_from_slice(args);
        raynet_sync(&self.config, &all).await
    }

    /// `run --json <args>`, which must exit with `code`: the summary of each member's round.
    async fn run_json(&self, args: &[&str], code: i32) -> Vec<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let ran = self.run(&all).await;
        assert_eq!(ran.code, code, "{}\n{}", ran.stdout, ran.stderr);
        ran.stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).expect("one JSON summary per line"))
            .collect()
    }

    /// Jana's Outlook events that are not series masters, by id.
    fn jana_outlook(&self) -> Vec<Value> {
        let jana = &self.sandbox.data.jana;
        let mut v: Vec<Value> = self
            .sandbox
            .graph
            .events(jana)
            .into_iter()
            .filter(|e| e["type"] != "seriesMaster")
            .collect();
        v.sort_by_key(|e| e["id"].as_str().unwrap_or_default().to_owned());
        v
    }

    /// Every Raynet calendar record as `(entity, id, record)`.
    fn raynet_all(&self) -> Vec<(&'static str, u64, Value)> {
        let inst = self.sandbox.raynet.instance(INSTANCE);
        let mut v = Vec::new();
        for entity in ["meeting", "event"] {
            for id in inst.ids(entity) {
                v.push((entity, id, inst.record(entity, id).unwrap()));
            }
        }
        v
    }

    /// `(title, scheduledFrom, scheduledTill)` of every Raynet calendar record.
    fn raynet_times(&self) -> Vec<(String, String, String)> {
        let mut v: Vec<_> = self
            .raynet_all()
            .iter()
            .map(|(_, _, r)| {
                (
                    text(r, "title"),
                    text(r, "scheduledFrom"),
                    text(r, "scheduledTill"),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// Invitations, updates and cancellations the fake Graph logged for Jana's mailbox.
    fn jana_mails(&self) -> usize {
        self.sandbox
            .graph
            .invitations()
            .iter()
            .filter(|i| i.mailbox == self.sandbox.data.jana)
            .count()
    }
}

/// A string field ("" when missing or null).
fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// An Outlook event's `start` or `end` (read in UTC).
fn outlook_time(ev: &Value, key: &str) -> DateTime<Utc> {
    let raw = ev[key]["dateTime"].as_str().unwrap();
    let naive = NaiveDateTime::parse_from_str(raw.get(..19).unwrap(), "%Y-%m-%dT%H:%M:%S")
        .unwrap_or_else(|e| panic!("{key} = {raw:?}: {e}"));
    Utc.from_utc_datetime(&naive)
}

/// The summary of Jana's calendar round among `summaries`.
fn jana_calendar(summaries: &[Value]) -> &Value {
    summaries
        .iter()
        .find(|s| text(s, "scope").ends_with(&format!("/{JANA}/calendar")))
        .unwrap_or_else(|| panic!("no calendar round of Jana in {summaries:?}"))
}

/// Jana's calendar row of `status --json`.
async fn jana_status(config: &Path) -> Value {
    let ran = raynet_sync(config, &["status", "--json"]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let v: Value = serde_json::from_str(ran.stdout.trim()).unwrap();
    v["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["scope"]["member"] == JANA && s["scope"]["collection"] == "calendar")
        .cloned()
        .unwrap_or_else(|| panic!("no calendar row of Jana in {v}"))
}

/// Moves every timed event of Jana's mailbox (not series masters) by `by`, as a side with a
/// time-zone bug would show them; returns how many moved.
fn shift_jana_outlook(w: &World, by: Duration) -> usize {
    let mut moved = 0;
    for ev in w.jana_outlook() {
        if ev["isAllDay"] == json!(true) {
            continue;
        }
        let id = ev["id"].as_str().unwrap();
        let (start, end) = (outlook_time(&ev, "start"), outlook_time(&ev, "end"));
        assert!(
            w.sandbox
                .graph
                .move_event(&w.sandbox.data.jana, id, start + by, end + by)
        );
        moved += 1;
    }
    moved
}

#[tokio::test]
async fn a_side_shifting_everything_by_an_hour_stops_the_round_until_allowed_once() {
    let w = World::new().await;
    // More of Jana's meetings, so that her calendar looks like a real one.
    let inst = w.sandbox.raynet.instance(INSTANCE);
    let day = |d: i64, hm: &str| {
        format!(
            "{} {hm}",
            (w.sandbox.data.today + Duration::days(d)).format("%Y-%m-%d")
        )
    };
    for i in 0..10 {
        inst.add_meeting(
            ActivitySeed::new(&format!("Porada {i}"), w.sandbox.data.jana_person)
                .scheduled_local(&day(3 + i, "09:00"), &day(3 + i, "10:00")),
        )
        .unwrap();
    }
    let first = w.run_json(&[], 0).await;
    assert!(jana_calendar(&first)["clean"] == json!(true));
    let idle = w.run_json(&[], 0).await;
    assert_eq!(jana_calendar(&idle)["planned_writes"], 0, "synced");

    // The bug: Outlook shows every one of Jana's events an hour later.
    let moved = shift_jana_outlook(&w, Duration::hours(1));
    assert!(moved >= 12, "moved {moved}");
    let raynet_before = w.raynet_times();
    let outlook_before = w.jana_outlook();
    let mails_before = w.sandbox.graph.invitations().len();

    let stopped = w.run_json(&[], 2).await;
    let jana = jana_calendar(&stopped);
    assert_eq!(jana["guard_kind"], "time-shift", "{jana}");
    assert_eq!(jana["clean"], false);
    let why = text(jana, "guard");
    assert!(
        why.contains("paired events on raynet by the same offset, +1 h")
            && why.contains("a whole number of hours")
            && why.contains("nothing was written")
            && why.contains("--allow-mass-change"),
        "{why}"
    );
    let total: u64 = ["created", "updated", "deleted"]
        .iter()
        .flat_map(|k| ["raynet", "outlook"].map(|s| jana[k][s].as_u64().unwrap()))
        .sum();
    assert_eq!(total, 0, "nothing written: {jana}");
    assert_eq!(w.raynet_times(), raynet_before, "Raynet keeps its times");
    assert_eq!(
        w.jana_outlook(),
        outlook_before,
        "Outlook untouched by the sync"
    );
    assert_eq!(
        w.sandbox.graph.invitations().len(),
        mails_before,
        "nobody mailed"
    );
    // Petr's calendar is his own: his round goes on.
    let petr = stopped
        .iter()
        .find(|s| text(s, "scope").ends_with("/calendar") && !text(s, "scope").contains(JANA))
        .unwrap();
    assert_eq!(petr["guard"], Value::Null, "{petr}");

    // The human report says the same, and the round stops again while nobody allows it.
    let again = w.run(&[]).await;
    assert_eq!(again.code, 2);
    assert!(
        again.stdout.contains("STOPPED: time-shift guard"),
        "{}",
        again.stdout
    );
    assert_eq!(w.raynet_times(), raynet_before);

    // Allowed once: the move goes through to Raynet.
    let allowed = w.run_json(&["--allow-mass-change"], 0).await;
    let jana = jana_calendar(&allowed);
    assert_eq!(jana["guard"], Value::Null);
    assert!(jana["updated"]["raynet"].as_u64().unwrap() >= 10, "{jana}");
    let (_, _, porada) = w
        .raynet_all()
        .into_iter()
        .find(|(_, _, r)| r["title"] == "Porada 0")
        .unwrap();
    let from = DateTime::parse_from_rfc3339(&text(&porada, "scheduledFrom"))
        .unwrap()
        .with_timezone(&PRAGUE)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert_eq!(from, day(3, "10:00"), "an hour later in Raynet too");
    let idle = w.run_json(&[], 0).await;
    assert_eq!(jana_calendar(&idle)["planned_writes"], 0);

    // Once only: the next shift stops again.
    shift_jana_outlook(&w, Duration::hours(-1));
    let stopped = w.run_json(&[], 2).await;
    assert!(
        text(jana_calendar(&stopped), "guard").contains("by the same offset, -1 h"),
        "{stopped:?}"
    );
}

#[tokio::test]
async fn a_mass_reschedule_with_attendees_mails_at_most_fifty_per_round() {
    let w = World::new().await;
    let inst = w.sandbox.raynet.instance(INSTANCE);
    let guest = inst.add_persons(1).unwrap()[0];
    let day = |d: i64, hm: &str| {
        format!(
            "{} {hm}",
            (w.sandbox.data.today + Duration::days(d)).format("%Y-%m-%d")
        )
    };
    let slot = |i: i64| (10 + i / 4, format!("{:02}:00", 8 + 2 * (i % 4)));
    let ids: Vec<u64> = (0..60)
        .map(|i| {
            let (d, hm) = slot(i);
            let till = format!("{:02}:00", 9 + 2 * (i % 4));
            inst.add_meeting(
                ActivitySeed::new(&format!("Schůzka {i:02}"), w.sandbox.data.jana_person)
                    .participant(guest)
                    .scheduled_local(&day(d, &hm), &day(d, &till)),
            )
            .unwrap()
        })
        .collect();

    // The first round invites up to the cap: the sample's two meetings with participants and
    // 60 new ones make 62.
    let first = w.run_json(&[], 0).await;
    let jana = jana_calendar(&first);
    assert_eq!(
        (
            jana["invitations"].as_u64(),
            jana["invitations_deferred"].as_u64()
        ),
        (Some(50), Some(12)),
        "{jana}"
    );
    assert_eq!(jana["clean"], true, "deferred is no failure");
    assert_eq!(w.jana_mails(), 50, "Exchange mailed 50 invitations");
    let row = jana_status(&w.config).await;
    assert_eq!(
        (
            &row["last_round"]["invitations"],
            &row["last_round"]["invitations_deferred"]
        ),
        (&json!(50), &json!(12)),
        "{row}"
    );
    let second = w.run_json(&[], 0).await;
    let jana = jana_calendar(&second);
    assert_eq!(
        (
            jana["invitations"].as_u64(),
            jana["invitations_deferred"].as_u64()
        ),
        (Some(12), Some(0)),
        "{jana}"
    );
    assert_eq!(w.jana_mails(), 62);
    let idle = w.run_json(&[], 0).await;
    assert_eq!(jana_calendar(&idle)["planned_writes"], 0);

    // A mass reschedule in Raynet: every meeting to a new time, each by its own offset (no
    // time-zone bug).
    for (i, id) in ids.iter().enumerate() {
        let i = i as i64;
        let from = w.sandbox.data.today + Duration::days(20 + i / 4);
        let start = format!("{} {:02}:{:02}", from.format("%Y-%m-%d"), 7 + i % 4, i % 60);
        let end = format!("{} {:02}:{:02}", from.format("%Y-%m-%d"), 8 + i % 4, i % 60);
        inst.edit(
            "meeting",
            *id,
            &json!({"scheduledFrom": start, "scheduledTill": end}),
        )
        .unwrap();
    }
    let third = w.run(&[]).await;
    assert_eq!(third.code, 0, "{}\n{}", third.stdout, third.stderr);
    assert!(
        third
            .stdout
            .contains("invitations: 50 write(s) mailed attendees, 10 deferred to the next round"),
        "{}",
        third.stdout
    );
    assert_eq!(w.jana_mails(), 62 + 50, "50 meeting updates this round");
    let row = jana_status(&w.config).await;
    assert_eq!(
        (
            &row["last_round"]["invitations"],
            &row["last_round"]["invitations_deferred"]
        ),
        (&json!(50), &json!(10)),
        "{row}"
    );
    let text_status = raynet_sync(&w.config, &["status"]).await;
    assert!(
        text_status
            .stdout
            .lines()
            .any(|l| l.contains(&format!("{JANA}/calendar"))
                && l.ends_with("invitations: 50 sent, 10 deferred to the next round")),
        "{}",
        text_status.stdout
    );

    let fourth = w.run_json(&[], 0).await;
    let jana = jana_calendar(&fourth);
    assert_eq!(
        (
            jana["invitations"].as_u64(),
            jana["invitations_deferred"].as_u64()
        ),
        (Some(10), Some(0)),
        "{jana}"
    );
    assert_eq!(w.jana_mails(), 62 + 60, "every meeting's update, once");
    let idle = w.run_json(&[], 0).await;
    assert_eq!(
        jana_calendar(&idle)["planned_writes"],
        0,
        "nothing lost, nothing left"
    );
    // Every meeting reached Outlook at its new time.
    for (_, _, r) in w
        .raynet_all()
        .into_iter()
        .filter(|(_, _, r)| text(r, "title").starts_with("Schůzka"))
    {
        let want = DateTime::parse_from_rfc3339(&text(&r, "scheduledFrom"))
            .unwrap()
            .with_timezone(&Utc);
        let ev = w
            .jana_outlook()
            .into_iter()
            .find(|e| e["subject"] == r["title"])
            .unwrap_or_else(|| panic!("{} not in Outlook", r["title"]));
        assert_eq!(outlook_time(&ev, "start"), want, "{}", r["title"]);
    }
}
