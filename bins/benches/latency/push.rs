//! Push, measured against the running `serve`: single edits spaced as people make them (then
//! more of them, for the memory's ten minutes of traffic), and a burst of edits to one member
//! at once with Raynet delivering its webhooks at the documented 2 events/s.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use raynet_client::fake::PushSettings;

use crate::catalog::Origin;
use crate::child::{LogCounts, Serve};
use crate::counters::{Counts, mark, since};
use crate::edit::{Kind, make_on};
use crate::traffic::{Editor, Seen, Until, quiet};

/// The pause between two single edits, in seconds (a person at work, not a script).
pub(crate) const GAPS: std::ops::Range<f64> = 0.2..2.0;

/// The single edits' outcome and cost.
pub(crate) struct Single {
    pub(crate) seen: Vec<Seen>,
    /// Both fakes' requests from the first edit until everything was quiet again.
    pub(crate) counts: Counts,
    /// From the first edit to the last.
    pub(crate) span: Duration,
    /// What serve's log says of the same time.
    pub(crate) log: LogCounts,
}

/// `n` single edits (the mix of [`Kind::mix`]), [`GAPS`] apart, each watched until seen.
pub(crate) async fn single(
    editor: &mut Editor<'_>,
    serve: &Serve,
    n: usize,
) -> anyhow::Result<Single> {
    let fakes = editor.fakes;
    quiet(fakes, Duration::from_secs(2), Duration::from_secs(60)).await;
    let m = mark(fakes.raynet, fakes.graph);
    let log = serve.log_mark();
    let started = Instant::now();
    let seen = editor.people(Until::Count(n), GAPS).await?;
    let span = started.elapsed();
    // The echoes of serve's own writes come back as notifications: they must cost nothing,
    // and whatever they cost is counted.
    quiet(fakes, Duration::from_secs(3), Duration::from_secs(60)).await;
    Ok(Single {
        seen,
        counts: since(fakes.raynet, fakes.graph, &m),
        span,
        log: serve.log_since(log),
    })
}

/// More single edits until `until` (the memory's traffic), watched like the others.
pub(crate) async fn more(editor: &mut Editor<'_>, until: Instant) -> anyhow::Result<Vec<Seen>> {
    if Instant::now() >= until {
        return Ok(Vec::new());
    }
    editor.people(Until::Time(until), GAPS).await
}

/// The burst's outcome.
pub(crate) struct Burst {
    pub(crate) edits: usize,
    /// Distinct meetings and events edited (the member's, each once when it has enough).
    pub(crate) items: usize,
    /// From the first edit until Outlook showed the last.
    pub(crate) drained: Duration,
    /// Edits whose final text never reached Outlook (within the give-up time).
    pub(crate) lost: usize,
    /// Both fakes' requests from the first edit until quiet.
    pub(crate) counts: Counts,
    /// Webhook events delivered to serve meanwhile.
    pub(crate) webhooks: usize,
    /// What serve's log says of the same time.
    pub(crate) log: LogCounts,
}

/// `n` Raynet edits at once to the member with the most Raynet meetings and events, with
/// webhooks at the documented pace; the push settings are fast again afterwards.
pub(crate) async fn burst(
    editor: &mut Editor<'_>,
    serve: &Serve,
    n: usize,
) -> anyhow::Result<Burst> {
    let fakes = editor.fakes;
    let member = editor
        .catalog
        .busiest(Origin::Raynet)
        .ok_or_else(|| anyhow::anyhow!("no Raynet meeting or event to edit"))?;
    let pairs = editor.catalog.of_member(member, Origin::Raynet, n);
    if pairs.is_empty() {
        anyhow::bail!("the busiest member has no Raynet meeting or event");
    }
    fakes.raynet.set_push_settings(PushSettings::documented());
    quiet(fakes, Duration::from_secs(2), Duration::from_secs(60)).await;
    let m = mark(fakes.raynet, fakes.graph);
    let log = serve.log_mark();
    let delivered_before = fakes.raynet.delivered_events().len();
    let started = Instant::now();
    // The last edit of each item is the one that must arrive.
    let mut last = HashMap::new();
    for i in 0..n {
        let pair = pairs[i % pairs.len()].clone();
        let serial = editor.serial();
        let e = make_on(fakes, Kind::RaynetEdit, pair, serial)?;
        last.insert(e.pair.raynet, e);
    }
    let seen = editor.watch(last.into_values().collect()).await;
    let drained = started.elapsed();
    quiet(fakes, Duration::from_secs(3), Duration::from_secs(120)).await;
    let counts = since(fakes.raynet, fakes.graph, &m);
    let webhooks = fakes.raynet.delivered_events().len() - delivered_before;
    fakes.raynet.set_push_settings(PushSettings::fast());
    Ok(Burst {
        edits: n,
        items: pairs.len().min(n),
        drained,
        lost: seen.iter().filter(|s| s.latency.is_none()).count(),
        counts,
        webhooks,
        log: serve.log_since(log),
    })
}
