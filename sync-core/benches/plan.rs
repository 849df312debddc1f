//! Planning benchmark: time and memory to plan a calendar round of 100,000 pairs with 1 %
//! changed (half of them on each side), for delta reads (only the changes listed) and for
//! complete listings (every item listed) — of events with a description and an attendee, and
//! of plain events (a title and a place, as the tenant benchmark seeds them).
//!
//! Run: `cargo bench -p sync-core --bench plan` (add `-- 20000` for another pair count).
//! Memory is read from `/proc/self/status` (Linux): the resident set before planning, and the
//! peak while planning after resetting the peak counter.

#![allow(clippy::unwrap_used, clippy::wildcard_imports)]

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, TimeZone, Utc};
use sync_core::*;

fn proc_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn event(i: usize, plain: bool) -> Event {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
    // Plain: as the tenant benchmark seeds them (a short title, a place, 45 minutes).
    let (title, start, length, place) = if plain {
        let start = now + Duration::hours(1 + (i % 5000) as i64);
        (
            format!("Activity {i:06}"),
            start,
            Duration::minutes(45),
            "Brno",
        )
    } else {
        let start = now + Duration::minutes((i % 50_000) as i64 * 10);
        let title = format!("Meeting with customer no. {i:06}");
        (title, start, Duration::hours(1), "Praha, Václavské nám. 1")
    };
    let end = start + length;
    let mut e = Event::new(title, Schedule::Timed { start, end });
    e.location = place.into();
    if plain {
        return e.normalized();
    }
    e.kind = Some(ActivityKind::Meeting);
    e.description = format!("Agenda for visit {i}:\n1. offer\n2. contract terms\n3. next steps");
    e.attendees.push(Attendee {
        email: format!("contact{}@customer{}.cz", i % 97, i % 13)
            .parse()
            .unwrap(),
        name: format!("Contact {}", i % 97),
        response: Response::None,
    });
    e.normalized()
}

struct Inputs {
    state: StoredState<Event>,
    raynet: SideRead<Event>,
    outlook: SideRead<Event>,
}

fn build(pairs: usize, complete: bool, plain: bool) -> Inputs {
    let mut state = StoredState::default();
    let mut r_items = Vec::new();
    let mut o_items = Vec::new();
    let v1 = Version::new("v1").unwrap();
    let v2 = Version::new("v2").unwrap();
    for i in 0..pairs {
        let r = event(i, plain);
        let o = r.project(&EventProfile::outlook()).item;
        let (rid, oid) = if plain {
            // The tenant benchmark's ids: the fakes' short ones.
            (format!("m-{i}"), format!("AAMkAGI2TG93AAA{i:010}="))
        } else {
            (
                format!("{}", 100_000 + i),
                format!("AAMkADU3NjZlNjQ3LTk2ZGEtNDgzYS1iZDQ0LTAwMDAwMDAw{i:08}="),
            )
        };
        let (rid, oid) = (RemoteId::new(rid).unwrap(), RemoteId::new(oid).unwrap());
        // 1 % changed: even ones in Raynet, odd ones in Outlook.
        let changed = i % 200 < 2;
        let raynet_changed = i % 200 == 0;
        let (mut r_now, mut o_now) = (r.clone(), o.clone());
        if changed && raynet_changed {
            r_now.location = "Brno, Výstaviště 1".into();
        } else if changed {
            o_now.title.push_str(" (moved)");
        }
        if complete || (changed && raynet_changed) {
            r_items.push(Remote {
                id: rid.clone(),
                version: if changed { v2.clone() } else { v1.clone() },
                modified: None,
                item: r_now,
                key: None,
            });
        }
        if complete || (changed && !raynet_changed) {
            o_items.push(Remote {
                id: oid.clone(),
                version: if changed { v2.clone() } else { v1.clone() },
                modified: None,
                item: o_now,
                key: None,
            });
        }
        state.pairs.insert(
            PairId::from_store(i as u64 + 1),
            PairRecord {
                raynet: Some(SideRecord {
                    id: rid,
                    version: v1.clone(),
                    base: r,
                }),
                outlook: Some(SideRecord {
                    id: oid,
                    version: v1.clone(),
                    base: o,
                }),
                origin: Side::Raynet,
            },
        );
    }
    let read = |items, complete| SideRead {
        items,
        deleted: Vec::new(),
        completeness: if complete {
            Completeness::Complete
        } else {
            Completeness::Delta
        },
        cursor: None,
        unreadable: Vec::new(),
        listed_ids: None,
    };
    Inputs {
        state,
        raynet: read(r_items, complete),
        outlook: read(o_items, complete),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pairs: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let scenario = args.iter().find_map(|a| a.strip_prefix("--scenario="));
    let Some(scenario) = scenario else {
        // Each scenario runs in a fresh process so that memory figures do not mix.
        println!("sync-core planning benchmark: {pairs} pairs, 1 % changed");
        println!(
            "{:<18} {:>10} {:>10} {:>9} {:>14} {:>16} {:>16}",
            "reads", "best", "median", "writes", "inputs KiB", "inputs B/pair", "plan peak B/pair"
        );
        let me = std::env::current_exe().expect("own path");
        for s in ["delta", "complete", "complete-plain"] {
            let status = std::process::Command::new(&me)
                .arg(pairs.to_string())
                .arg(format!("--scenario={s}"))
                .status()
                .expect("run scenario");
            assert!(status.success(), "scenario {s} failed");
        }
        println!(
            "targets: under 200 ms to plan; under 2 KB (2048 B) per pair (inputs + plan peak)"
        );
        return;
    };
    run(
        pairs,
        scenario.starts_with("complete"),
        scenario.ends_with("plain"),
    );
}

fn run(pairs: usize, complete: bool, plain: bool) {
    let policy = Policy {
        window_days_back: 30,
        window_days_ahead: 3650,
        ..Policy::default()
    };
    let member = Member::default();
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    {
        let base_rss = proc_kib("VmRSS:").unwrap_or(0);
        let inputs = build(pairs, complete, plain);
        let input_rss = proc_kib("VmRSS:").unwrap_or(0);
        let mut times = Vec::new();
        let mut peak_extra = 0u64;
        let mut writes = 0;
        for _ in 0..7 {
            let before = proc_kib("VmRSS:").unwrap_or(0);
            let can_reset = reset_peak();
            let start = Instant::now();
            let plan = plan_calendar(&CalendarInput {
                state: &inputs.state,
                raynet: &inputs.raynet,
                outlook: &inputs.outlook,
                raynet_profile: &EventProfile::raynet(),
                outlook_profile: &EventProfile::outlook(),
                policy: &policy,
                member: &member,
                now,
            });
            times.push(start.elapsed());
            writes = plan.write_count();
            let peak = if can_reset {
                proc_kib("VmHWM:").unwrap_or(0)
            } else {
                proc_kib("VmRSS:").unwrap_or(0)
            };
            peak_extra = peak_extra.max(peak.saturating_sub(before));
            black_box(plan);
        }
        times.sort();
        let inputs_kib = input_rss.saturating_sub(base_rss);
        println!(
            "{:<18} {:>10} {:>10} {:>9} {:>14} {:>16} {:>16}",
            match (complete, plain) {
                (true, false) => "complete listing",
                (true, true) => "complete, plain",
                (false, _) => "delta (1 % listed)",
            },
            fmt(times[0]),
            fmt(times[times.len() / 2]),
            writes,
            inputs_kib,
            inputs_kib * 1024 / pairs as u64,
            peak_extra * 1024 / pairs as u64,
        );
        assert_eq!(writes, pairs / 100, "1 % of pairs changed, one write each");
        drop(inputs);
    }
}

fn fmt(d: StdDuration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
