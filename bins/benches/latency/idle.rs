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
    /// Safety-net rounds seen (bursts of round requests), or reckoned from the interval.
    pub(crate) rounds: f64,
    pub(crate) rounds_seen: bool,
    /// Subscription/webhook checks seen, or reckoned from the interval.
    pub(crate) checks: f64,
    pub(crate) checks_seen: bool,
    /// Live subscriptions, and the shortest lifetime left on them (read back from Graph).
    pub(crate) subscriptions: usize,
    pub(crate) lifetime: Option<Duration>,
}

/// Activity counters of one class: cheap to read every 200 ms (no copy of Graph's log).
fn activity(fakes: Fakes<'_>, class: Class) -> u64 {
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
    raynet
        + graph
            .iter()
            .map(|e| fakes.graph.request_count(e) as u64)
            .sum::<u64>()
}

/// Bursts in a series of (time, counter) samples: rises separated by at least [`GAP`].
fn bursts(samples: &[(Duration, u64)]) -> usize {
    let mut n = 0;
    let mut last_rise: Option<Duration> = None;
    for w in samples.windows(2) {
        if w[1].1 > w[0].1 {
            if last_rise.is_none_or(|t| w[1].0.saturating_sub(t) >= GAP) {
                n += 1;
            }
            last_rise = Some(w[1].0);
        }
    }
    n
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
    let reckon = |interval: u64| watched.as_secs_f64() / interval as f64;
    let (r, c) = (bursts(&rounds), bursts(&checks));
    Ok(Idle {
        watched,
        counts,
        rounds: if r > 0 {
            r as f64
        } else {
            reckon(SHORT.poll_interval_seconds)
        },
        rounds_seen: r > 0,
        checks: if c > 0 {
            c as f64
        } else {
            reckon(SHORT.maintenance_seconds)
        },
        checks_seen: c > 0,
        subscriptions: subs.len(),
        lifetime,
    })
}

impl Idle {
    /// Requests of one safety-net round (reads and writes; membership and tokens apart).
    pub(crate) fn per_round(&self) -> f64 {
        self.counts.of(Class::Round) as f64 / self.rounds.max(1.0)
    }

    /// Requests of one subscription/webhook check.
    pub(crate) fn per_check(&self) -> f64 {
        self.counts.of(Class::Upkeep) as f64 / self.checks.max(1.0)
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
