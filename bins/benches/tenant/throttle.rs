//! The throttled-Graph set-up: Graph's documented per-mailbox limits, the scaled-down window
//! the throttled scenarios use by default (`--throttle`), and switching the fake Graph's
//! throttling on and off.

use std::time::Duration;

use anyhow::Context as _;
use graph_client::fake::FakeGraph;

use crate::args::Args;

/// Graph's documented per-mailbox concurrency limit (graph-api.md §8).
pub(crate) const GRAPH_CONCURRENCY: usize = 4;
/// Graph's documented per-mailbox request limit per [`GRAPH_RATE_WINDOW`] (graph-api.md §8).
pub(crate) const GRAPH_RATE_MAX: usize = 10_000;
/// The window of [`GRAPH_RATE_MAX`] (graph-api.md §8).
pub(crate) const GRAPH_RATE_WINDOW: Duration = Duration::from_secs(600);

/// The throttled scenarios' rate limit (`--throttle`, or the scaled-down default).
pub(crate) fn limit(args: &Args) -> anyhow::Result<(usize, Duration)> {
    match args.throttle.as_deref() {
        Some("documented") => Ok((GRAPH_RATE_MAX, GRAPH_RATE_WINDOW)),
        Some(text) => {
            let (max, secs) = text
                .split_once('/')
                .context("--throttle: MAX/SECONDS, e.g. 100/2")?;
            let max: usize = max.trim().parse().context("--throttle: MAX")?;
            let secs: f64 = secs.trim().parse().context("--throttle: SECONDS")?;
            anyhow::ensure!(max > 0 && secs > 0.0, "--throttle: both must be positive");
            Ok((max, Duration::from_secs_f64(secs)))
        }
        None => {
            let per_mailbox = args.persons + args.meetings / args.members + args.outlook_events;
            Ok(((per_mailbox / 4).max(20), Duration::from_secs(2)))
        }
    }
}

/// Throttles the fake Graph per mailbox at `limit` (and Graph's concurrency limit), or lifts
/// its throttling (`None`).
pub(crate) fn set_throttling(graph: &FakeGraph, limit: Option<(usize, Duration)>) {
    if let Some((max, window)) = limit {
        graph.set_concurrency_limit(GRAPH_CONCURRENCY);
        graph.set_rate_limit(max, window);
    } else {
        graph.set_concurrency_limit(usize::MAX / 2);
        graph.set_rate_limit(usize::MAX / 2, Duration::from_secs(1));
    }
}

/// The line that introduces the throttled scenarios.
pub(crate) fn describe((max, window): (usize, Duration)) -> String {
    format!(
        "\nThrottled: fake Graph at {GRAPH_CONCURRENCY} concurrent requests per mailbox and {max} requests per {:.1} s per mailbox ({}).",
        window.as_secs_f64(),
        if (max, window) == (GRAPH_RATE_MAX, GRAPH_RATE_WINDOW) {
            "Graph's documented per-mailbox limits".to_owned()
        } else {
            format!(
                "documented: {GRAPH_RATE_MAX} per {} s; the window is scaled down so that throttling happens at this scale",
                GRAPH_RATE_WINDOW.as_secs()
            )
        }
    )
}
