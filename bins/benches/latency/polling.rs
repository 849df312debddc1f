//! Polling, measured: `raynet-sync run` (one round, no push) against the same world — the
//! first round, idle rounds, and one round after the single-edit mix — with the Raynet clock
//! moved 15 minutes before each round, as rounds at the default interval are apart. Also one
//! deletion scan's cost, which sets how often `auto` scans (and so how long a Raynet deletion
//! waits under polling).

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use raynet_client::adapter::ScanSchedule;
use raynet_client::{ListQuery, Op, SortDirection};
use raynet_sync::config::TenantConfig;
use raynet_sync::wiring::TenantClients;

use crate::child::run_once;
use crate::counters::{Class, Counts, mark, since};
use crate::edit::{Fakes, Kind};
use crate::traffic::Editor;

/// One `run` round: its wall time (process start to exit) and requests.
#[derive(Debug, Clone)]
pub(crate) struct Round {
    pub(crate) took: Duration,
    pub(crate) counts: Counts,
}

/// What polling cost and how long its changes took.
pub(crate) struct Polling {
    /// The interval between two rounds (the tenant's `sync.interval_seconds`, a default).
    pub(crate) interval: Duration,
    /// The first round (the tenant's initial sync).
    pub(crate) first: Round,
    /// The second: it reads back what the first wrote (delta pages of the new contacts and
    /// events, the new Raynet rows), so it is not idle.
    pub(crate) second: Round,
    /// Idle rounds (nothing changed), in a row.
    pub(crate) idle: Vec<Round>,
    /// The round after the edits.
    pub(crate) change: Round,
    /// Edits made before it, by kind; and how many of each it made visible.
    pub(crate) edits: Vec<(Kind, usize, usize)>,
    /// Requests of one deletion scan (the ids of every meeting and event in the window, and
    /// of every person).
    pub(crate) scan_requests: u64,
    /// The `auto` schedule's rounds between two scans at the default interval.
    pub(crate) scan_every: u32,
    /// Rounds after which every Raynet deletion had reached Outlook (the change round is 1).
    pub(crate) deletion_rounds: Option<usize>,
    /// Requests the fakes counted while the bench made its edits (through their helpers).
    pub(crate) helper_requests: u64,
}

/// One `run` round, measured, 15 minutes after the last on the Raynet clock.
async fn round(fakes: Fakes<'_>, config: &Path, log: &Path) -> anyhow::Result<Round> {
    fakes.raynet.advance_clock(chrono::Duration::minutes(15));
    let m = mark(fakes.raynet, fakes.graph);
    let took = run_once(config, log).await?;
    Ok(Round {
        took,
        counts: since(fakes.raynet, fakes.graph, &m),
    })
}

/// The first round: the tenant's initial sync.
pub(crate) async fn first_round(
    fakes: Fakes<'_>,
    config: &Path,
    dir: &Path,
) -> anyhow::Result<Round> {
    round(fakes, config, &dir.join("run-first.log")).await
}

/// Requests of one deletion scan, as the rounds send it: one `view=rowInfo` id listing of the
/// meetings and the events in the window and one of the persons, for all members at once.
async fn scan_requests(
    fakes: Fakes<'_>,
    tenant: &TenantConfig,
    clients: &TenantClients,
) -> anyhow::Result<u64> {
    let window = tenant.sync.policy.window(Utc::now());
    let before = fakes.raynet.total_requests();
    let ids = ListQuery::new()
        .filter("scheduledFrom", Op::Lt, window.end)
        .filter("scheduledTill", Op::Ge, window.start)
        .sort("id", SortDirection::Asc);
    clients.raynet.meetings().row_summaries(&ids).await?;
    clients.raynet.events().row_summaries(&ids).await?;
    clients
        .raynet
        .persons()
        .row_summaries(&ListQuery::new().sort("id", SortDirection::Asc))
        .await?;
    Ok(fakes.raynet.total_requests() - before)
}

/// Idle rounds, the change round after `edits` single edits, and rounds until the Raynet
/// deletions are in Outlook.
pub(crate) async fn measure(
    editor: &mut Editor<'_>,
    first: Round,
    edits: usize,
    (config, dir): (&Path, &Path),
    (tenant, clients, quota): (&TenantConfig, &TenantClients, u64),
) -> anyhow::Result<Polling> {
    let fakes = editor.fakes;
    let second = round(fakes, config, &dir.join("run-second.log")).await?;
    let scan = scan_requests(fakes, tenant, clients).await?;
    let interval = tenant.sync.interval;
    let scan_every = ScanSchedule::Auto.every(scan, interval, quota);
    // Whole scan cycles, so that the idle rounds' mean holds the scans in their share.
    let cycles = 3_u32.div_ceil(scan_every).max(1);
    let idle_rounds = (scan_every * cycles).min(8) as usize;
    let mut idle = Vec::new();
    for i in 0..idle_rounds {
        idle.push(round(fakes, config, &dir.join(format!("run-idle-{i}.log"))).await?);
    }
    let before = mark(fakes.raynet, fakes.graph);
    let mut made = Vec::new();
    for n in 0..edits {
        if let Some(e) = editor.next_edit(n)? {
            made.push(e);
        }
    }
    let helper_requests = since(fakes.raynet, fakes.graph, &before).total();
    let change = round(fakes, config, &dir.join("run-change.log")).await?;
    let counts: Vec<(Kind, usize, usize)> = Kind::ALL
        .iter()
        .map(|&k| {
            let of: Vec<_> = made.iter().filter(|e| e.kind == k).collect();
            let seen = of.iter().filter(|e| e.visible(fakes)).count();
            (k, of.len(), seen)
        })
        .collect();
    let deletions: Vec<_> = made
        .iter()
        .filter(|e| e.kind == Kind::RaynetDelete)
        .collect();
    let mut deletion_rounds = None;
    for r in 1..=(scan_every as usize + 1) {
        if deletions.iter().all(|e| e.visible(fakes)) {
            deletion_rounds = Some(r);
            break;
        }
        round(fakes, config, &dir.join(format!("run-after-{r}.log"))).await?;
    }
    Ok(Polling {
        interval,
        first,
        second,
        idle,
        change,
        edits: counts,
        scan_requests: scan,
        scan_every,
        deletion_rounds,
        helper_requests,
    })
}

impl Polling {
    /// Edits made before the change round.
    pub(crate) fn edit_count(&self) -> usize {
        self.edits.iter().map(|(_, n, _)| n).sum()
    }

    /// The mean of the idle rounds' requests of `class`.
    pub(crate) fn idle_mean(&self, class: Class) -> f64 {
        let n = self.idle.len().max(1) as f64;
        self.idle
            .iter()
            .map(|r| r.counts.of(class) as f64)
            .sum::<f64>()
            / n
    }

    /// An idle round at the default interval, by [`round_at_defaults`] over the idle rounds.
    pub(crate) fn idle_round(&self) -> RoundCost {
        let rounds: Vec<(u64, u64)> = self
            .idle
            .iter()
            .map(|r| (r.counts.raynet_of(Class::Round), r.counts.of(Class::Round)))
            .collect();
        round_at_defaults(&rounds, self.scan_requests, self.scan_every)
    }

    /// Requests of an idle hour at the default interval, as `run --watch` sends them: four
    /// idle rounds, and the membership once (it is kept an hour). Tokens are left out (the
    /// same for push).
    pub(crate) fn idle_hour(&self) -> f64 {
        3600.0 / self.interval.as_secs_f64() * self.idle_round().total()
            + self.idle_mean(Class::Membership)
    }
}

/// What an idle round costs at the default schedule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoundCost {
    /// The cheapest measured round, without its deletion scan if it had one.
    pub(crate) base: f64,
    /// The deletion scan's share: its requests over the rounds between two scans.
    pub(crate) scan_share: f64,
    /// Whether the cheapest measured round held a scan (taken out of `base`).
    pub(crate) had_scan: bool,
}

impl RoundCost {
    /// Requests of one round on average.
    pub(crate) fn total(&self) -> f64 {
        self.base + self.scan_share
    }
}

/// The same rule for polling's rounds and serve's safety-net rounds: the cheapest measured
/// round (`rounds`: its Raynet requests and all its requests; one holding a deletion scan has
/// at least `scan` Raynet requests, which are taken out), plus the scan's share when it runs
/// every `every` rounds (the tenant's `auto` schedule, reckoned at `sync.interval_seconds`
/// for `run` and `serve` alike).
pub(crate) fn round_at_defaults(rounds: &[(u64, u64)], scan: u64, every: u32) -> RoundCost {
    let (raynet, all) = rounds
        .iter()
        .copied()
        .min_by_key(|&(_, all)| all)
        .unwrap_or_default();
    let had_scan = scan > 0 && raynet >= scan;
    RoundCost {
        base: (if had_scan { all - scan } else { all }) as f64,
        scan_share: scan as f64 / f64::from(every.max(1)),
        had_scan,
    }
}
