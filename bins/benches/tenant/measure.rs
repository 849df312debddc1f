//! Measuring: the process's resident memory, what a round did ([`RoundDone`]) and what it
//! cost ([`Measured`]: both fakes' request counters by endpoint, writes, wall time, peak RSS).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sync_core::RoundReport;

use crate::world::World;

/// The value in KiB of the line `field:` of `/proc/self/status`.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Peak resident memory (VmHWM) in KiB.
fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM")
}

/// Current resident memory (VmRSS) in KiB.
fn rss_kib() -> Option<u64> {
    status_kib("VmRSS")
}

/// Resets VmHWM to the current RSS; whether that worked.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// What one scenario cost.
#[derive(Debug, Default, Clone)]
pub(crate) struct Measured {
    /// Raynet requests by endpoint.
    pub(crate) raynet: BTreeMap<String, u64>,
    /// Graph HTTP requests (a `$batch` counts once) by endpoint.
    pub(crate) graph_http: BTreeMap<String, usize>,
    /// Requests inside `$batch` envelopes, by endpoint.
    pub(crate) graph_sub: BTreeMap<String, usize>,
    /// Graph answers with status 429.
    pub(crate) graph_429: usize,
    /// Raynet requests refused for concurrency (429).
    pub(crate) raynet_429: u64,
    /// Raynet requests of the deletion scan inside the round (0: none was due).
    pub(crate) raynet_scan: u64,
    /// Writes reported by the round.
    pub(crate) writes: usize,
    /// Failures reported by the round (items and members).
    pub(crate) failures: usize,
    /// Wall time of the round.
    pub(crate) wall: Duration,
    /// Peak RSS while the round ran.
    pub(crate) peak_rss_kib: Option<u64>,
    /// RSS before the round.
    pub(crate) rss_before_kib: Option<u64>,
}

impl Measured {
    /// Raynet requests in all.
    pub(crate) fn raynet_total(&self) -> u64 {
        self.raynet.values().sum()
    }
    /// Graph HTTP requests in all (a `$batch` counts once).
    pub(crate) fn graph_total(&self) -> usize {
        self.graph_http.values().sum()
    }
    /// Requests inside `$batch` envelopes in all.
    pub(crate) fn graph_sub_total(&self) -> usize {
        self.graph_sub.values().sum()
    }
}

/// Counters of both fakes at a point in time.
pub(crate) struct Mark {
    graph_seen: usize,
    raynet_429: u64,
    started: Instant,
    rss_before: Option<u64>,
}

/// Resets the fake Raynet's counters and the peak RSS, and notes where the fake Graph's
/// request log and the clock stand.
pub(crate) fn mark(world: &World) -> Mark {
    world.raynet.reset_counters();
    let rss_before = rss_kib();
    reset_peak_rss();
    Mark {
        graph_seen: world.graph.requests().len(),
        raynet_429: world.raynet.concurrency_rejections(),
        started: Instant::now(),
        rss_before,
    }
}

/// What happened since `mark`, with what the round reported.
pub(crate) fn measure(world: &World, mark: &Mark, done: &RoundDone) -> Measured {
    let RoundDone {
        reports,
        errors,
        scan,
    } = done;
    let wall = mark.started.elapsed();
    let peak_rss_kib = peak_rss_kib();
    let mut m = Measured {
        raynet: world.raynet.request_counts(),
        raynet_429: world
            .raynet
            .concurrency_rejections()
            .saturating_sub(mark.raynet_429),
        wall,
        peak_rss_kib,
        rss_before_kib: mark.rss_before,
        raynet_scan: *scan,
        writes: reports.iter().map(RoundReport::writes).sum(),
        failures: errors + reports.iter().map(|r| r.failures.len()).sum::<usize>(),
        ..Measured::default()
    };
    for r in world.graph.requests().iter().skip(mark.graph_seen) {
        let map = if r.in_batch {
            &mut m.graph_sub
        } else {
            &mut m.graph_http
        };
        *map.entry(r.endpoint.clone()).or_default() += 1;
        if r.status == 429 {
            m.graph_429 += 1;
        }
    }
    m
}

/// What a round did.
#[derive(Default)]
pub(crate) struct RoundDone {
    /// The reports of the members' rounds.
    pub(crate) reports: Vec<RoundReport>,
    /// Members whose round could not run.
    pub(crate) errors: usize,
    /// Raynet requests of the deletion scan in the round.
    pub(crate) scan: u64,
}
