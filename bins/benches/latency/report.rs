//! The printed sections, one per scenario, and the targets of issue #14 with PASS or MISS.

use std::time::Duration;

use crate::counters::Class;
use crate::edit::Kind;
use crate::idle::{Idle, SHORT};
use crate::memory::{Memory, TARGET_KIB, mb};
use raynet_sync::config::ServeConfig;

use crate::polling::{Polling, RoundCost, round_at_defaults};
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
    let interval = p.interval.as_secs();
    println!(
        "\n## Polling at the default interval ({interval} s), from measured `raynet-sync run` rounds\n"
    );
    println!(
        "First round (the initial sync, `raynet-sync run`): {}, {}.",
        secs(p.first.took),
        p.first.counts.describe()
    );
    println!(
        "Second round (reads back what the first wrote; not counted as idle): {}, {}.",
        secs(p.second.took),
        p.second.counts.describe()
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
            p.interval * p.scan_every
        } else {
            p.interval
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
pub(crate) fn print_idle(idle: &Idle, p: &Polling, serve: &ServeConfig) -> IdleHours {
    println!(
        "\n## Idle hour: push healthy vs polling\n\nserve (restarted on the same state and port, the Raynet clock 15 minutes on) was watched idle for {} with `poll_interval_seconds = {}` and `maintenance_seconds = {}`: {}.",
        secs(idle.watched),
        SHORT.poll_interval_seconds,
        SHORT.maintenance_seconds,
        idle.counts.describe()
    );
    let list = |v: &[(u64, u64)]| {
        v.iter()
            .map(|(r, all)| format!("{all} ({r} Raynet)"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "Safety-net rounds seen (complete bursts of round requests): {}{}. Subscription/webhook checks seen: {} ({:?} requests) → **{:.1} requests each**. Membership reads in the window: {}; tokens: {}.",
        idle.rounds.len(),
        if idle.rounds.is_empty() {
            " — NONE, the push hour below lacks its round".to_owned()
        } else {
            format!(": {}", list(&idle.rounds))
        },
        idle.checks.len(),
        idle.checks,
        idle.per_check(),
        idle.counts.of(Class::Membership),
        idle.counts.of(Class::Token)
    );
    let rounds: Vec<(u64, u64)> = p
        .idle
        .iter()
        .map(|r| (r.counts.raynet_of(Class::Round), r.counts.of(Class::Round)))
        .collect();
    println!(
        "Polling's idle `run` rounds (after the second round, which reads back the first's writes): {}.",
        list(&rounds)
    );
    let serve_round = round_at_defaults(&idle.rounds, p.scan_requests, p.scan_every);
    let poll_round = p.idle_round();
    println!(
        "\nHow: one rule for both — a round costs the cheapest round measured (without its deletion scan, when it held one) plus the deletion scan's share: {} requests every {} round(s), `auto`'s schedule at `sync.interval_seconds` = {} s, which `run` and serve's rounds both follow (it counts rounds, not time).",
        p.scan_requests,
        p.scan_every,
        p.interval.as_secs()
    );
    let membership = p.idle_mean(Class::Membership);
    let renewals = idle.renewals_per_hour();
    let polls = 3600.0 / serve.poll_interval.as_secs_f64();
    let checks = 3600.0 / serve.maintenance.as_secs_f64();
    let push = polls * serve_round.total() + checks * idle.per_check() + renewals + membership;
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
    let round = |r: &RoundCost| {
        format!(
            "{:.1} = {:.1} without a scan{} + {:.1} scan share",
            r.total(),
            r.base,
            if r.had_scan {
                " (its scan taken out)"
            } else {
                ""
            },
            r.scan_share
        )
    };
    println!("\n| an idle hour at the defaults | requests | made of |");
    println!("|---|---:|---|");
    println!(
        "| push healthy (`serve`, a safety-net poll every {} s, a check every {} s) | **{push:.1}** | {polls:.2} safety-net round(s) x ({}) + {checks:.1} checks x {:.1} + {renewals:.2} renewals + membership once ({membership:.1}) |",
        serve.poll_interval.as_secs(),
        serve.maintenance.as_secs(),
        round(&serve_round),
        idle.per_check()
    );
    println!(
        "| polling (`run --watch`, a round every {} s) | **{polling:.1}** | {:.2} rounds x ({}) + membership once ({membership:.1}) |",
        p.interval.as_secs(),
        3600.0 / p.interval.as_secs_f64(),
        round(&poll_round)
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
        verdict(o.burst.lost == 0 && (1..=BURST_ROUNDS).contains(&o.burst.log.notified_rounds))
    );
    if o.burst.log.notified_rounds == 0 {
        println!(
            "\n(serve's log had no \"a notified round\" line during the burst: its debug lines changed, so the rounds were not counted.)"
        );
    }
}
