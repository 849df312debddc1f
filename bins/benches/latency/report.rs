//! The printed sections, one per scenario, and the targets of issue #14 with PASS or MISS.

use std::time::Duration;

use raynet_client::adapter::ScanSchedule;

use crate::counters::Class;
use crate::edit::Kind;
use crate::idle::{Idle, SHORT};
use crate::memory::{Memory, TARGET_KIB, mb};
use crate::polling::{INTERVAL, Polling};
use crate::push::{Burst, GAPS, Single};
use crate::stats::{Spread, secs, verdict};
use crate::traffic::Seen;

/// The p95 target, both directions and Raynet deletions.
const P95_TARGET: Duration = Duration::from_secs(5);
/// Requests per single change, end to end.
const REQUESTS_TARGET: f64 = 3.0;
/// "A handful" of rounds for a burst.
const BURST_ROUNDS: usize = 10;

/// The measured latencies of push, by kind.
pub(crate) fn print_single(single: &Single, more: &[Seen]) {
    println!(
        "\n## Single edits, push ({} edits over {}, {:.1}-{:.1} s apart at random, the members in turn)\n",
        single.seen.len(),
        secs(single.span),
        GAPS.start,
        GAPS.end
    );
    println!(
        "Latency: from the edit (made through the fake's in-process helper) until the other fake shows it, looked at every 20 ms.\n"
    );
    println!("| change | edits | p50 / p95 / max |");
    println!("|---|---:|---|");
    for k in Kind::ALL {
        let s = Spread::of(&single.seen, k);
        println!("| {} | {} | {} |", k.name(), s.n, s.cells());
    }
    let n = single.seen.len().max(1) as f64;
    println!(
        "\nRequests, from the first edit until both fakes were quiet for 3 s (echoes of serve's own writes included): {} = **{:.2} per change**; {}.",
        single.counts.total(),
        single.counts.total() as f64 / n,
        single.counts.describe()
    );
    println!("serve's log for the same time: {}.", single.log);
    if !more.is_empty() {
        let all: Vec<Seen> = more.to_vec();
        let spreads: Vec<String> = Kind::ALL
            .iter()
            .map(|&k| format!("{} {}", k.name(), Spread::of(&all, k).cells()))
            .collect();
        println!(
            "\nMore traffic for the memory's measurement: {} edits more, same pace; p50 / p95 / max: {}.",
            more.len(),
            spreads.join("; ")
        );
    }
}

/// The derived latencies and measured requests of polling.
pub(crate) fn print_polling(p: &Polling, push_span: Duration) {
    let interval = INTERVAL.as_secs();
    println!(
        "\n## Polling at the default interval ({interval} s), from measured `raynet-sync run` rounds\n"
    );
    println!(
        "First round (the initial sync, `raynet-sync run`): {}, {}.",
        secs(p.first.took),
        p.first.counts.describe()
    );
    for (i, r) in p.idle.iter().enumerate() {
        println!(
            "Idle round {}: {}, {}.",
            i + 1,
            secs(r.took),
            r.counts.describe()
        );
    }
    let edits = p.edit_count();
    let d = p.change.took;
    println!(
        "Change round after {edits} single edits (the mix of the push scenario): {}, {}.",
        secs(d),
        p.change.counts.describe()
    );
    let seen: Vec<String> = p
        .edits
        .iter()
        .map(|(k, n, s)| format!("{} {s} of {n}", k.name()))
        .collect();
    println!("Visible after that one round: {}.", seen.join(", "));
    println!(
        "The bench's own {edits} edits (through the fakes' in-process helpers) added {} requests to the fakes' counters (checked: they are not API requests).",
        p.helper_requests
    );
    println!(
        "Deletion scan: {} requests; `deletion_scan_every = \"auto\"` runs it every {} round(s) at {interval} s; the Raynet deletions were all in Outlook after {}.",
        p.scan_requests,
        p.scan_every,
        p.deletion_rounds.map_or_else(
            || "MORE rounds than expected".to_owned(),
            |r| format!("{r} round(s)")
        )
    );
    println!(
        "\nHow it is derived: an edit made at a random moment (people's edits are not timed to the rounds) waits for the next round start, uniformly 0..I with I = {interval} s, then the round's wall time D = {} (measured above, process start to exit: an upper bound for the item's own write). Latency = U(0, I) + D: p50 = I/2 + D, p95 = 0.95 I + D, max = I + D. A Raynet deletion waits for the next deletion scan: U(0, {} x I) + D.\n",
        secs(d),
        p.scan_every
    );
    println!("| change | p50 / p95 / max |");
    println!("|---|---|");
    for k in Kind::ALL {
        let wait = if k == Kind::RaynetDelete {
            INTERVAL * p.scan_every
        } else {
            INTERVAL
        };
        println!("| {} | {} |", k.name(), Spread::uniform(0, wait, d).cells());
    }
    println!(
        "\nRequests per change: the push scenario's edits spanned {} (< I), so one round covers them all: {} requests / {edits} edits = **{:.2} per change** (the one-shot `run` includes its token and membership reads: {} of them).",
        secs(push_span),
        p.change.counts.total(),
        p.change.counts.total() as f64 / edits.max(1) as f64,
        p.change.counts.of(Class::Token) + p.change.counts.of(Class::Membership)
    );
}

/// The burst's drain time and rounds.
pub(crate) fn print_burst(b: &Burst) {
    println!(
        "\n## Burst: {} Raynet edits at once to one member ({} meetings/events), webhooks at the documented 2 events/s\n",
        b.edits, b.items
    );
    println!(
        "Every item showed its last edit in Outlook **{}** after the first edit{} ({} webhook events were delivered to serve, at Raynet's pace, until the queue was empty).",
        secs(b.drained),
        if b.lost > 0 {
            format!(" — {} NOT within 120 s", b.lost)
        } else {
            String::new()
        },
        b.webhooks
    );
    println!(
        "serve's log for the burst (until the last webhook was handled and both fakes were quiet): **{} notified rounds** ({} member rounds wrote); {}.",
        b.log.notified_rounds,
        b.log.writing_rounds,
        b.log.notifications()
    );
    println!("Requests meanwhile: {}.", b.counts.describe());
}

/// The idle hour of both, and what the push figure is made of.
pub(crate) struct IdleHours {
    pub(crate) push: f64,
    pub(crate) polling: f64,
}

/// Prints the idle hour of push and of polling.
pub(crate) fn print_idle(idle: &Idle, p: &Polling, quota: u64) -> IdleHours {
    println!(
        "\n## Idle hour: push healthy vs polling\n\nserve was watched idle for {} with `poll_interval_seconds = {}` and `maintenance_seconds = {}`: {}.",
        secs(idle.watched),
        SHORT.poll_interval_seconds,
        SHORT.maintenance_seconds,
        idle.counts.describe()
    );
    let how = |seen: bool| {
        if seen {
            "seen as bursts of requests"
        } else {
            "reckoned from the interval: no burst seen"
        }
    };
    println!(
        "Safety-net rounds: {:.1} ({}), **{:.1} requests each**; subscription/webhook checks: {:.1} ({}), **{:.1} requests each**. Membership reads in the window: {}; tokens: {}.",
        idle.rounds,
        how(idle.rounds_seen),
        idle.per_round(),
        idle.checks,
        how(idle.checks_seen),
        idle.per_check(),
        idle.counts.of(Class::Membership),
        idle.counts.of(Class::Token)
    );
    // A safety round at the default hour scans for deletions on `auto`'s schedule at 3600 s;
    // when the short rounds did not (their schedule is reckoned at 10 s), add its share.
    let raynet_per_round = idle
        .counts
        .raynet
        .iter()
        .filter(|(k, _)| crate::counters::raynet_class(k) == Class::Round)
        .map(|(_, v)| *v as f64)
        .sum::<f64>()
        / idle.rounds.max(1.0);
    let scan_every_hour =
        ScanSchedule::Auto.every(p.scan_requests, Duration::from_secs(3600), quota);
    let scan_share = if raynet_per_round < p.scan_requests as f64 {
        p.scan_requests as f64 / f64::from(scan_every_hour)
    } else {
        0.0
    };
    let membership = p.idle_mean(Class::Membership);
    let renewals = idle.renewals_per_hour();
    let checks = 3600.0 / 900.0;
    let push = idle.per_round() + scan_share + checks * idle.per_check() + renewals + membership;
    let polling = p.idle_hour();
    println!(
        "Subscriptions: {}, the shortest lifetime left {} → renewed at half of it: {:.2} renewals an hour (one PATCH each).",
        idle.subscriptions,
        idle.lifetime.map_or_else(
            || "unknown".to_owned(),
            |l| format!("{:.1} h", l.as_secs_f64() / 3600.0)
        ),
        renewals
    );
    println!("\n| an idle hour at the defaults | requests | made of |");
    println!("|---|---:|---|");
    let scan = if scan_share > 0.0 {
        format!(
            " + the deletion scan's share ({scan_share:.1}: {} requests every {scan_every_hour} hourly round(s); added because the short rounds' {raynet_per_round:.1} Raynet requests are fewer than one scan)",
            p.scan_requests
        )
    } else {
        format!(
            " (its {raynet_per_round:.1} Raynet requests hold a deletion scan of {}: nothing added)",
            p.scan_requests
        )
    };
    println!(
        "| push healthy (`serve`) | **{push:.1}** | 1 safety-net round ({:.1}){scan} + {checks:.0} checks x {:.1} + {renewals:.2} renewals + membership once ({membership:.1}) |",
        idle.per_round(),
        idle.per_check()
    );
    println!(
        "| polling (`run --watch`, {} s) | **{polling:.1}** | 4 rounds x {:.1} (mean of {} measured idle `run` rounds, deletion scans in their share) + membership once ({membership:.1}) |",
        INTERVAL.as_secs(),
        p.idle_mean(Class::Round),
        p.idle.len()
    );
    println!("\nTokens are left out of both (one per token lifetime, the same for both).");
    IdleHours { push, polling }
}

/// The serve process's memory over the traffic.
pub(crate) fn print_memory(m: Option<&Memory>) {
    println!(
        "\n## Memory of the `serve` process alone (VmRSS of the child; the fakes live in the bench process)\n"
    );
    match m {
        Some(m) => println!(
            "{} samples over {}: start {}, max **{}**, end {}; highest of the first third {}, of the last third {} ({}).",
            m.samples,
            secs(m.over),
            mb(m.start_kib),
            mb(m.max_kib),
            mb(m.end_kib),
            mb(m.first_third_max_kib),
            mb(m.last_third_max_kib),
            if m.flat() { "not growing" } else { "GROWING" }
        ),
        None => println!("No sample could be read from /proc."),
    }
}

/// Everything the targets need.
pub(crate) struct Outcome<'a> {
    pub(crate) single: &'a Single,
    pub(crate) idle: &'a IdleHours,
    pub(crate) memory: Option<&'a Memory>,
    pub(crate) burst: &'a Burst,
}

/// The targets of issue #14, each with what was measured and PASS or MISS.
pub(crate) fn print_targets(o: &Outcome<'_>) {
    println!("\n## Targets (issue #14)\n");
    println!("| target | measured | |");
    println!("|---|---|---|");
    for k in Kind::ALL {
        let s = Spread::of(&o.single.seen, k);
        println!(
            "| {}: p95 < 5 s (push, loopback, notification delay 0) | p95 {}{} | {} |",
            k.name(),
            secs(s.p95),
            if s.lost > 0 {
                format!(", {} not seen", s.lost)
            } else {
                String::new()
            },
            verdict(s.meets(P95_TARGET))
        );
    }
    let per = o.single.counts.total() as f64 / o.single.seen.len().max(1) as f64;
    println!(
        "| at most 3 requests per single change, end to end | {per:.2} | {} |",
        verdict(per <= REQUESTS_TARGET)
    );
    println!(
        "| idle hour, push healthy < polling's | {:.1} vs {:.1} | {} |",
        o.idle.push,
        o.idle.polling,
        verdict(o.idle.push < o.idle.polling)
    );
    match o.memory {
        Some(m) => println!(
            "| serve's RSS under 100 MB and not growing | max {}, {} | {} |",
            mb(m.max_kib),
            if m.flat() { "flat" } else { "growing" },
            verdict(m.max_kib < TARGET_KIB && m.flat())
        ),
        None => println!("| serve's RSS under 100 MB and not growing | not measured | MISS |"),
    }
    println!(
        "| a burst of {} edits: a handful of rounds (at most 10), not {} | {} notified rounds ({} wrote), all visible after {} | {} |",
        o.burst.edits,
        o.burst.edits,
        o.burst.log.notified_rounds,
        o.burst.log.writing_rounds,
        secs(o.burst.drained),
        verdict(o.burst.lost == 0 && o.burst.log.notified_rounds <= BURST_ROUNDS)
    );
}
