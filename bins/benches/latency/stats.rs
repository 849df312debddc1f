//! Percentiles of measured latencies, and how they are printed.

use std::time::Duration;

use crate::edit::Kind;
use crate::traffic::Seen;

/// p50 / p95 / max of a set of latencies, and how many were never seen.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Spread {
    pub(crate) n: usize,
    pub(crate) p50: Duration,
    pub(crate) p95: Duration,
    pub(crate) max: Duration,
    /// Edits not seen within the give-up time (they make the percentiles meaningless).
    pub(crate) lost: usize,
}

impl Spread {
    /// The spread of the edits of `kind` in `seen`.
    pub(crate) fn of(seen: &[Seen], kind: Kind) -> Self {
        let of_kind: Vec<&Seen> = seen.iter().filter(|s| s.kind == kind).collect();
        let mut l: Vec<Duration> = of_kind.iter().filter_map(|s| s.latency).collect();
        l.sort();
        Self {
            n: of_kind.len(),
            p50: rank(&l, 0.50),
            p95: rank(&l, 0.95),
            max: l.last().copied().unwrap_or_default(),
            lost: of_kind.len() - l.len(),
        }
    }

    /// A derived spread (no sample): waiting uniformly over `0..wait`, plus `round`.
    pub(crate) fn uniform(n: usize, wait: Duration, round: Duration) -> Self {
        Self {
            n,
            p50: wait.mul_f64(0.50) + round,
            p95: wait.mul_f64(0.95) + round,
            max: wait + round,
            lost: 0,
        }
    }

    /// Whether p95 is under `target` and every edit was seen.
    pub(crate) fn meets(&self, target: Duration) -> bool {
        self.n > 0 && self.lost == 0 && self.p95 < target
    }

    /// `p50 / p95 / max` in seconds.
    pub(crate) fn cells(&self) -> String {
        let lost = if self.lost > 0 {
            format!(" ({} NOT SEEN within 120 s)", self.lost)
        } else {
            String::new()
        };
        format!(
            "{} / {} / {}{lost}",
            secs(self.p50),
            secs(self.p95),
            secs(self.max)
        )
    }
}

/// The nearest-rank percentile `q` of sorted `l`.
fn rank(l: &[Duration], q: f64) -> Duration {
    if l.is_empty() {
        return Duration::ZERO;
    }
    let i = ((q * l.len() as f64).ceil() as usize).clamp(1, l.len()) - 1;
    l[i]
}

/// A duration in seconds, to the precision that matters at its size.
pub(crate) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.2} s")
    } else if s < 600.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s ({:.1} min)", s / 60.0)
    }
}

/// PASS or MISS.
pub(crate) fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}
