//! One measured round of a strategy: ours (`sync_tenant`, then the audit trail recorded, as the
//! service runs it) or the naive one, 15 minutes after the last on the fakes' clocks; and one
//! measured deletion scan.

use chrono::Utc;
use raynet_sync::config::DEFAULT_AUDIT_DAYS;
use raynet_sync::demo::INSTANCE;
use raynet_sync::wiring::{RoundOptions, sync_tenant};

use crate::measure::{Measured, RoundDone, mark, measure};
use crate::naive::naive_round;
use crate::world::World;

/// Which strategy a round runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Strategy {
    /// raynet-sync as it runs in production.
    Ours,
    /// The naive strategy (`naive.rs`).
    Naive,
}

/// One round of raynet-sync as it runs in production (`sync_tenant`), then its audit trail
/// recorded as `run` and `serve` do (unless `--no-audit`).
async fn ours_round(world: &World) -> anyhow::Result<RoundDone> {
    let round = sync_tenant(
        &world.clients,
        &*world.store,
        &world.tenant.sync.policy,
        RoundOptions::default(),
        Utc::now(),
    )
    .await?;
    if world.audit {
        let started = std::time::Instant::now();
        let keep_days = u32::try_from(DEFAULT_AUDIT_DAYS).unwrap_or(u32::MAX);
        raynet_sync::observe::audit::record(&*world.store, &world.tenant.name, &round, keep_days)
            .await;
        let entries: usize = round.reports.iter().map(|r| r.audit.len()).sum();
        eprintln!(
            "  audit trail: {entries} entries recorded in {:.2} s",
            started.elapsed().as_secs_f64()
        );
    }
    for e in &round.member_failures {
        eprintln!("  member error: {e}");
    }
    Ok(RoundDone {
        errors: round.member_failures.len(),
        scan: round.raynet_scan_requests,
        reports: round.reports,
    })
}

/// One round of `strategy`, measured.
pub(crate) async fn round(world: &World, strategy: Strategy) -> anyhow::Result<Measured> {
    // A 15-minute interval between rounds: the Raynet watermark's overlap (2 minutes) then
    // covers only this interval's edits, not the seeding.
    world.raynet.advance_clock(chrono::Duration::minutes(15));
    world.raynet.instance(INSTANCE).set_quota_used(0);
    let m = mark(world);
    let done = match strategy {
        Strategy::Ours => ours_round(world).await?,
        Strategy::Naive => naive_round(world).await?,
    };
    for r in done.reports.iter().filter(|r| !r.is_clean()).take(3) {
        for line in r.to_string().lines().take(6) {
            eprintln!("  {line}");
        }
    }
    Ok(measure(world, &m, &done))
}

/// One deletion scan as the rounds send it (the instance feed's): one `view=rowInfo` id
/// listing of every meeting and every event in the window, whoever owns them, and one of the
/// persons — for all members at once.
pub(crate) async fn deletion_scan(world: &World) -> anyhow::Result<Measured> {
    use raynet_client::{ListQuery, Op, SortDirection};
    let window = world.tenant.sync.policy.window(Utc::now());
    let m = mark(world);
    let ids = ListQuery::new()
        .filter("scheduledFrom", Op::Lt, window.end)
        .filter("scheduledTill", Op::Ge, window.start)
        .sort("id", SortDirection::Asc);
    world.clients.raynet.meetings().row_summaries(&ids).await?;
    world.clients.raynet.events().row_summaries(&ids).await?;
    world
        .clients
        .raynet
        .persons()
        .row_summaries(&ListQuery::new().sort("id", SortDirection::Asc))
        .await?;
    Ok(measure(world, &m, &RoundDone::default()))
}
