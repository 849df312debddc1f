//! The printed report of the suites: the scenario tables of a run (ours next to naive), the
//! state check, round 5, the deletion scan's share of the Raynet quota, and the targets.

use std::collections::BTreeMap;
use std::time::Duration;

use raynet_sync::config::ScanSchedule;

use crate::args::{Args, RAYNET_DAILY_QUOTA, ROUNDS_PER_DAY};
use crate::measure::Measured;
use crate::suite::Suite;
use crate::table::table;

/// Prints the section `label`: the tables of the suite `ours` next to `naive`, and the
/// deletion scan `scan` (if measured) against the quota.
pub(crate) fn print_suites(
    label: &str,
    args: &Args,
    ours: &Suite,
    naive: Option<&Suite>,
    scan: Option<&Measured>,
) {
    let m = args.members;
    println!("\n## {label}");
    print!(
        "{}",
        table(
            "Scenario 1: first round",
            &ours.first,
            naive.map(|n| &n.first),
            None,
            m
        )
    );
    print!(
        "{}",
        table(
            "Round 2: the round after the first (Graph delta reads back round 1's writes once)",
            &ours.echo,
            naive.map(|n| &n.echo),
            None,
            m
        )
    );
    print!(
        "{}",
        table(
            "Scenario 2: idle round (round 3, nothing changed)",
            &ours.idle,
            naive.map(|n| &n.idle),
            None,
            m
        )
    );
    println!("\nChanged before round 4: {}", ours.changed_what);
    print!(
        "{}",
        table(
            "Scenario 3: round after 1 % changed on each side (round 4)",
            &ours.change,
            naive.map(|n| &n.change),
            Some(ours.changed),
            m
        )
    );
    println!("\nState after round 4 (ours): {}", ours.check);
    if let Some(n) = naive {
        println!("State after round 4 (naive): {}", n.check);
    }
    let settled = |x: &Measured| {
        format!(
            "{} writes, {} Raynet and {} Graph HTTP requests (deletion scan: {})",
            x.writes,
            x.raynet_total(),
            x.graph_total(),
            x.raynet_scan
        )
    };
    println!(
        "Round 5 (nothing changed since round 4: round 4's writes read back) (ours): {}",
        settled(&ours.settle)
    );
    if let Some(n) = naive {
        println!("Round 5 (naive): {}", settled(&n.settle));
    }
    if let Some(scan) = scan {
        let total = scan.raynet_total();
        let every =
            ScanSchedule::Auto.every(total, Duration::from_secs(900), RAYNET_DAILY_QUOTA as u64);
        let share = |requests: f64| 100.0 * requests * ROUNDS_PER_DAY / RAYNET_DAILY_QUOTA;
        let idle = (ours.idle.raynet_total() - ours.idle.raynet_scan) as f64;
        println!(
            "\n### Raynet deletion scan (one view=rowInfo id listing of the window's meetings and events and of the persons, for all members at once)\n"
        );
        println!("| | requests | share of 24,000/day at a 15-min interval |");
        println!("|---|---:|---:|");
        println!(
            "| one scan, every round | {total} | {:.1} % |",
            share(total as f64)
        );
        println!(
            "| the default schedule (\"auto\": at most 5 % of the quota): every {every} rounds, so a Raynet deletion reaches Outlook within {} minutes | {:.1} per round | {:.1} % |",
            every * 15,
            total as f64 / f64::from(every),
            share(total as f64 / f64::from(every))
        );
        println!(
            "| idle round without the scan | {idle:.0} | {:.1} % |",
            share(idle)
        );
        let rounds = [
            ("1", &ours.first),
            ("2", &ours.echo),
            ("3 (idle)", &ours.idle),
            ("4 (changes)", &ours.change),
        ];
        let scanned: Vec<String> = rounds
            .iter()
            .filter(|(_, m)| m.raynet_scan > 0)
            .map(|(r, m)| format!("round {r}: {} requests", m.raynet_scan))
            .collect();
        println!(
            "\nRounds of this run that scanned: {}",
            if scanned.is_empty() {
                "none".to_owned()
            } else {
                scanned.join(", ")
            }
        );
    }
}

/// Graph requests of the contact sync per contact created: folder lookup and creation, delta
/// pages, single creates, and the `$batch` requests in proportion of their contact
/// sub-requests (calendar creates share the batches' count).
fn contact_cost(m: &Measured) -> (f64, usize) {
    let get = |map: &BTreeMap<String, usize>, k: &str| map.get(k).copied().unwrap_or(0) as f64;
    let contacts = m.graph_sub.get("contacts.create").copied().unwrap_or(0)
        + m.graph_http.get("contacts.create").copied().unwrap_or(0);
    let sub = m.graph_sub_total().max(1) as f64;
    let batches = get(&m.graph_http, "batch") * get(&m.graph_sub, "contacts.create") / sub;
    let requests = batches
        + get(&m.graph_http, "contacts.create")
        + get(&m.graph_http, "contacts.delta")
        + get(&m.graph_http, "contactFolders.list")
        + get(&m.graph_http, "contactFolders.create");
    (requests / contacts.max(1) as f64, contacts)
}

/// Prints our rounds with the state in SQLite next to the same rounds with it in PostgreSQL:
/// the requests (which must not differ: the store changes no read or write) and the wall time.
pub(crate) fn print_stores(sqlite: &Suite, postgres: &Suite) {
    println!("\n## The state store: SQLite file vs PostgreSQL (ours, unthrottled)\n");
    println!(
        "| round | requests Raynet / Graph HTTP (SQLite) | requests Raynet / Graph HTTP (PostgreSQL) | equal | wall SQLite | wall PostgreSQL |"
    );
    println!("|---|---|---|---|---|---|");
    let rounds = [
        ("1 first", &sqlite.first, &postgres.first),
        ("2 reads back", &sqlite.echo, &postgres.echo),
        ("3 idle", &sqlite.idle, &postgres.idle),
        ("4 1 % changed", &sqlite.change, &postgres.change),
        ("5 settle", &sqlite.settle, &postgres.settle),
    ];
    for (name, a, b) in rounds {
        let ra = (a.raynet_total(), a.graph_http.values().sum::<usize>());
        let rb = (b.raynet_total(), b.graph_http.values().sum::<usize>());
        println!(
            "| {name} | {} / {} | {} / {} | {} | {:.2} s | {:.2} s |",
            ra.0,
            ra.1,
            rb.0,
            rb.1,
            if ra == rb { "yes" } else { "**no**" },
            a.wall.as_secs_f64(),
            b.wall.as_secs_f64()
        );
    }
    println!(
        "\nState after round 4: SQLite {}; PostgreSQL {}",
        sqlite.check, postgres.check
    );
}

/// Prints the targets of ours unthrottled and whether each is met.
pub(crate) fn print_targets(
    args: &Args,
    ours: &Suite,
    naive: Option<&Suite>,
    scan: Option<&Measured>,
) {
    let m = args.members as f64;
    let scan_total = scan.map_or(0.0, |s| s.raynet_total() as f64);
    let mut lines = Vec::new();
    let graph_idle = ours.idle.graph_total() as f64;
    lines.push(format!(
        "idle round: {:.2} Graph requests per member (target <= 1) -> {}",
        graph_idle / m,
        if graph_idle <= m { "met" } else { "MISSED" }
    ));
    let raynet_idle = (ours.idle.raynet_total() - ours.idle.raynet_scan) as f64;
    lines.push(format!(
        "idle round: {raynet_idle:.0} Raynet requests without the deletion scan (target <= 3), scan {scan_total:.0} -> {}",
        if raynet_idle <= 3.0 { "met" } else { "MISSED" }
    ));
    // The round after counts too: a write whose result the engine recorded wrongly would be
    // written again (an echo) there.
    let wpc = (ours.change.writes + ours.settle.writes) as f64 / ours.changed.max(1) as f64;
    lines.push(format!(
        "change round: {wpc:.3} writes per changed pair, with the round after ({} + {} writes) (target <= 1.05) -> {}",
        ours.change.writes,
        ours.settle.writes,
        if wpc <= 1.05 { "met" } else { "MISSED" }
    ));
    if let Some(n) = naive {
        let all = |x: &Measured| x.raynet_total() as f64 + x.graph_total() as f64;
        let factor = all(&n.change) / all(&ours.change).max(1.0);
        let scan_note = if ours.change.raynet_scan > 0 {
            let without =
                all(&n.change) / (all(&ours.change) - ours.change.raynet_scan as f64).max(1.0);
            format!(
                " (the round included a deletion scan of {} requests; {without:.1}x without it)",
                ours.change.raynet_scan
            )
        } else {
            String::new()
        };
        lines.push(format!(
            "change round: {factor:.1}x fewer HTTP requests than naive{scan_note} (target >= 20x) -> {}",
            if factor >= 20.0 { "met" } else { "MISSED" }
        ));
    }
    let (per, contacts) = contact_cost(&ours.first);
    lines.push(format!(
        "first round: {per:.4} Graph requests per contact per mailbox ({contacts} contacts; folder lookup/creation, delta pages, and the $batch requests in proportion of their contact sub-requests) (target <= 0.06) -> {}",
        if per <= 0.06 { "met" } else { "MISSED" }
    ));
    println!("\n### Targets (ours, unthrottled)\n");
    for l in lines {
        println!("- {l}");
    }
}
