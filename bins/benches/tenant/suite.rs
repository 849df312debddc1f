//! A suite: one strategy on a fresh world, throttled or not, through the five rounds — the
//! first, the one after (which reads back the first's writes), an idle one, one after 1 % of
//! both sides changed, and one more with nothing changed since.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::args::Args;
use crate::measure::Measured;
use crate::round::{Strategy, deletion_scan, round};
use crate::throttle::set_throttling;
use crate::world::{change_one_percent, check_world, start_world};

/// What each round of a suite cost, and what the world held after round 4.
pub(crate) struct Suite {
    /// Round 1, the first.
    pub(crate) first: Measured,
    /// Round 2, which reads back round 1's writes.
    pub(crate) echo: Measured,
    /// Round 3, nothing changed.
    pub(crate) idle: Measured,
    /// Round 4, after 1 % of each side changed.
    pub(crate) change: Measured,
    /// Round 5, with nothing changed since round 4: what round 4's writes left to do.
    pub(crate) settle: Measured,
    /// Pairs changed before round 4.
    pub(crate) changed: usize,
    /// What was changed before round 4, in words.
    pub(crate) changed_what: String,
    /// What both sides held after round 4, against what they should.
    pub(crate) check: String,
}

/// Runs the five rounds of `strategy` on a fresh world (Graph throttled at `throttle`, if
/// any); with it one deletion scan measured on its own, for ours unthrottled.
pub(crate) async fn run_suite(
    args: &Args,
    strategy: Strategy,
    throttle: Option<(usize, Duration)>,
    state_dir: &Path,
    postgres: Option<&str>,
) -> anyhow::Result<(Suite, Option<Measured>)> {
    let name = format!(
        "{}{}{}",
        if strategy == Strategy::Ours {
            "ours"
        } else {
            "naive"
        },
        if throttle.is_some() { "-throttled" } else { "" },
        if postgres.is_some() { "-postgres" } else { "" }
    );
    eprintln!("[{name}] seeding both fakes …");
    let t = Instant::now();
    let world = start_world(args, Utc::now(), state_dir, &name, postgres).await?;
    set_throttling(&world.graph, throttle);
    eprintln!(
        "[{name}] seeded in {:.1} s; round 1 (first) …",
        t.elapsed().as_secs_f64()
    );
    let first = round(&world, strategy).await?;
    eprintln!(
        "[{name}] round 1: {:.1} s; round 2 (reads back round 1's writes) …",
        first.wall.as_secs_f64()
    );
    let echo = round(&world, strategy).await?;
    eprintln!(
        "[{name}] round 2: {:.1} s; round 3 (idle) …",
        echo.wall.as_secs_f64()
    );
    let idle = round(&world, strategy).await?;
    let (changed, changed_what) = change_one_percent(&world)?;
    eprintln!(
        "[{name}] round 3: {:.1} s; round 4 (1 % changed) …",
        idle.wall.as_secs_f64()
    );
    let change = round(&world, strategy).await?;
    eprintln!(
        "[{name}] round 4: {:.1} s; round 5 (nothing changed since) …",
        change.wall.as_secs_f64()
    );
    let check = check_world(&world, args);
    let settle = round(&world, strategy).await?;
    eprintln!("[{name}] round 5: {:.1} s", settle.wall.as_secs_f64());
    let scan = if strategy == Strategy::Ours && throttle.is_none() {
        Some(deletion_scan(&world).await?)
    } else {
        None
    };
    Ok((
        Suite {
            first,
            echo,
            idle,
            change,
            settle,
            changed,
            changed_what,
            check,
        },
        scan,
    ))
}
