//! Edits made as people make them (random pauses between them, over the members in turn),
//! each watched every 20 ms until the other side shows it.

use std::ops::Range;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use crate::catalog::Catalog;
use crate::edit::{Edit, Fakes, Kind, make};

/// How often the other side is looked at.
const WATCH_EVERY: Duration = Duration::from_millis(20);
/// How long an edit may take to be seen before it counts as not seen.
pub(crate) const GIVE_UP: Duration = Duration::from_secs(120);

/// One edit's outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen {
    pub(crate) kind: Kind,
    /// From the edit to the other side showing it; `None`: not within [`GIVE_UP`].
    pub(crate) latency: Option<Duration>,
}

/// The edits' source: the catalog, a seeded random generator, and a serial number that makes
/// every edit's text unique.
pub(crate) struct Editor<'a> {
    pub(crate) fakes: Fakes<'a>,
    pub(crate) catalog: Catalog,
    rng: StdRng,
    serial: usize,
}

/// When the edits stop.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Until {
    /// After this many edits.
    Count(usize),
    /// When this time has come.
    Time(Instant),
}

impl<'a> Editor<'a> {
    /// An editor over `catalog`.
    pub(crate) fn new(fakes: Fakes<'a>, catalog: Catalog) -> Self {
        Self {
            fakes,
            catalog,
            rng: StdRng::seed_from_u64(14),
            serial: 0,
        }
    }

    /// A fresh serial number.
    pub(crate) fn serial(&mut self) -> usize {
        self.serial += 1;
        self.serial
    }

    /// The next edit of the single-edit mix, made now.
    pub(crate) fn next_edit(&mut self, n: usize) -> anyhow::Result<Option<Edit>> {
        let serial = self.serial();
        make(self.fakes, &mut self.catalog, Kind::mix(n), serial)
    }

    /// Single edits in the mix of [`Kind::mix`], a random pause from `gaps` (seconds) apart,
    /// until `until`; each watched until seen. Returns every edit's outcome.
    pub(crate) async fn people(
        &mut self,
        until: Until,
        gaps: Range<f64>,
    ) -> anyhow::Result<Vec<Seen>> {
        let mut pending: Vec<Edit> = Vec::new();
        let mut seen = Vec::new();
        let mut made = 0_usize;
        let mut next_at = Instant::now();
        loop {
            let more = match until {
                Until::Count(n) => made < n,
                Until::Time(t) => Instant::now() < t,
            };
            if !more && pending.is_empty() {
                return Ok(seen);
            }
            if more && Instant::now() >= next_at {
                if let Some(edit) = self.next_edit(made)? {
                    pending.push(edit);
                }
                made += 1;
                next_at =
                    Instant::now() + Duration::from_secs_f64(self.rng.random_range(gaps.clone()));
            }
            tokio::time::sleep(WATCH_EVERY).await;
            self.settle(&mut pending, &mut seen);
        }
    }

    /// Watches `edits` (made already) until each is seen or given up on.
    pub(crate) async fn watch(&self, mut pending: Vec<Edit>) -> Vec<Seen> {
        let mut seen = Vec::new();
        while !pending.is_empty() {
            tokio::time::sleep(WATCH_EVERY).await;
            self.settle(&mut pending, &mut seen);
        }
        seen
    }

    /// Moves the edits now seen (or given up on) from `pending` to `seen`.
    fn settle(&self, pending: &mut Vec<Edit>, seen: &mut Vec<Seen>) {
        let now = Instant::now();
        pending.retain(|e| {
            let latency = if e.visible(self.fakes) {
                Some(now - e.at)
            } else if now - e.at > GIVE_UP {
                None
            } else {
                return true;
            };
            seen.push(Seen {
                kind: e.kind,
                latency,
            });
            false
        });
    }
}

/// A cheap measure of the fake Graph's activity: requests answered on the endpoints a round
/// or a check uses (without copying its request log).
fn graph_activity(graph: &graph_client::fake::FakeGraph) -> usize {
    [
        "batch",
        "calendarView.delta",
        "contacts.delta",
        "events.get",
        "events.create",
        "events.update",
        "events.delete",
        "subscriptions.create",
        "subscriptions.get",
        "subscriptions.update",
    ]
    .iter()
    .map(|e| graph.request_count(e))
    .sum()
}

/// Waits until neither fake has answered a request, nor has a notification to deliver, for
/// `quiet` (the echoes of the last writes have come and gone); at most `max`.
pub(crate) async fn quiet(fakes: Fakes<'_>, quiet: Duration, max: Duration) {
    let started = Instant::now();
    let mut last = (fakes.raynet.total_requests(), graph_activity(fakes.graph));
    let mut last_change = Instant::now();
    while started.elapsed() < max {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = (fakes.raynet.total_requests(), graph_activity(fakes.graph));
        let pending = fakes.graph.pending_deliveries() + fakes.raynet.webhook_queue_len();
        if now != last || pending > 0 {
            last = now;
            last_change = Instant::now();
        } else if last_change.elapsed() >= quiet {
            return;
        }
    }
}
