//! The idle hour with push healthy, measured: `serve` watched with nothing changing, its
//! intervals shortened (a safety-net round and a subscription/webhook check every few
//! seconds), its requests split into rounds and checks by endpoint, each counted by the bursts
//! of activity it makes; then scaled to an hour at the defaults, with the renewals the granted
//! subscription lifetime calls for.

use std::time::{Duration, Instant};

use chrono::Utc;
use raynet_sync::wiring::TenantClients;

use crate::child::ServeTimes;
use crate::counters::{Class, Counts, mark, raynet_class, since};
use crate::edit::Fakes;
use crate::traffic::quiet;

/// The shortened intervals of the idle `serve`.
pub(crate) const SHORT: ServeTimes = ServeTimes {
    poll_interval_seconds: 10,
    maintenance_seconds: 10,
};

/// A pause this long between two requests of a class starts a new round (or check).
const GAP: Duration = Duration::from_secs(2);

/// What idle `serve` did.
pub(crate) struct Idle {
    pub(crate) watched: Duration,
    pub(crate) counts: Counts,
    /// Each complete safety-net round seen (a burst of round requests): its Raynet requests
    /// and all its requests.
    pub(crate) rounds: Vec<(u64, u64)>,
    /// Each complete subscription/webhook check seen: its requests.
    pub(crate) checks: Vec<u64>,
    /// Live subscriptions, and the shortest lifetime left on them (read back from Graph).
    pub(crate) subscriptions: usize,
    pub(crate) lifetime: Option<Duration>,
}

/// Requests of one class now, cheap to read every 200 ms (no copy of Graph's log): Raynet's,
/// and Graph's HTTP requests (a `$batch` counts once) on the endpoints that class uses while
/// idle.
fn activity(fakes: Fakes<'_>, class: Class) -> [u64; 2] {
    let raynet: u64 = fakes
        .raynet
        .request_counts()
        .iter()
        .filter(|(k, _)| raynet_class(k) == class)
        .map(|(_, v)| v)
        .sum();
    let graph: &[&str] = match class {
        Class::Upkeep => &[
            "subscriptions.list",
            "subscriptions.get",
            "subscriptions.update",
            "subscriptions.create",
            "subscriptions.delete",
            "subscriptions.reauthorize",
        ],
        _ => &["batch", "calendarView.delta", "contacts.delta"],
    };
    [
        raynet,
        graph
            .iter()
            .map(|e| fakes.graph.http_request_count(e) as u64)
            .sum(),
    ]
}

/// The bursts in a series of samples (time, [Raynet, Graph] counters): rises separated by at
/// least [`GAP`], each as its (Raynet, all) requests. A burst still rising when the series
/// ends may be cut short and is left out.
fn bursts(samples: &[(Duration, [u64; 2])]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    let mut last_rise: Option<Duration> = None;
    for w in samples.windows(2) {
        let r = w[1].1[0].saturating_sub(w[0].1[0]);
        let g = w[1].1[1].saturating_sub(w[0].1[1]);
        if r + g == 0 {
            continue;
        }
        if last_rise.is_none_or(|t| w[1].0.saturating_sub(t) >= GAP) {
            out.push((0, 0));
        }
        if let Some(b) = out.last_mut() {
            b.0 += r;
            b.1 += r + g;
        }
        last_rise = Some(w[1].0);
    }
    let end = samples.last().map_or(Duration::ZERO, |s| s.0);
    if last_rise.is_some_and(|t| end.saturating_sub(t) < GAP) {
        out.pop();
    }
    out
}

/// Watches the running idle `serve` (started with [`SHORT`]) for `watched`.
pub(crate) async fn watch(
    fakes: Fakes<'_>,
    clients: &TenantClients,
    watched: Duration,
) -> anyhow::Result<Idle> {
    quiet(fakes, Duration::from_secs(2), Duration::from_secs(60)).await;
    let m = mark(fakes.raynet, fakes.graph);
    let started = Instant::now();
    let mut rounds = Vec::new();
    let mut checks = Vec::new();
    while started.elapsed() < watched {
        let at = started.elapsed();
        rounds.push((at, activity(fakes, Class::Round)));
        checks.push((at, activity(fakes, Class::Upkeep)));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let watched = started.elapsed();
    let counts = since(fakes.raynet, fakes.graph, &m);
    // Read back what Graph granted (one request, after the window).
    let subs = clients.graph.subscriptions().list().await?;
    let now = Utc::now();
    let lifetime = subs
        .iter()
        .filter_map(|s| s.expiration_date_time)
        .map(|e| (e - now).to_std().unwrap_or_default())
        .min();
    Ok(Idle {
        watched,
        counts,
        rounds: bursts(&rounds),
        checks: bursts(&checks).into_iter().map(|(_, all)| all).collect(),
        subscriptions: subs.len(),
        lifetime,
    })
}

impl Idle {
    /// Requests of one subscription/webhook check (the mean of those seen).
    pub(crate) fn per_check(&self) -> f64 {
        if self.checks.is_empty() {
            return 0.0;
        }
        self.checks.iter().sum::<u64>() as f64 / self.checks.len() as f64
    }

    /// Renewals an hour: each subscription is renewed at half its lifetime (one `PATCH`
    /// each). The lifetime left is a lower bound of the granted one, so this errs high.
    pub(crate) fn renewals_per_hour(&self) -> f64 {
        match self.lifetime {
            Some(l) if l > Duration::from_secs(60) => {
                self.subscriptions as f64 * 3600.0 / (l.as_secs_f64() / 2.0)
            }
            _ => self.subscriptions as f64,
        }
    }
}
