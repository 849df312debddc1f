//! The command line, the tenant's scale, and the daily Raynet quota derived from it.

use clap::Parser;

/// The daily Raynet API quota of an instance (raynet-api.md §2).
pub(crate) const RAYNET_DAILY_QUOTA: f64 = 24_000.0;
/// Rounds per day at a 15-minute interval.
pub(crate) const ROUNDS_PER_DAY: f64 = 96.0;

/// The benchmark's command line (after `cargo bench -p raynet-sync --bench tenant --`).
#[derive(Parser, Debug, Clone)]
#[command(
    name = "tenant",
    about = "Tenant-scale benchmark of raynet-sync against the in-process fake servers"
)]
pub(crate) struct Args {
    /// Members of the M365 group (each with a Raynet account).
    #[arg(long, default_value_t = 50)]
    pub(crate) members: usize,
    /// Raynet meetings and events, spread over the members (every other one an event).
    #[arg(long, default_value_t = 20_000)]
    pub(crate) meetings: usize,
    /// Raynet persons (synced to every member's contact folder).
    #[arg(long, default_value_t = 5_000)]
    pub(crate) persons: usize,
    /// Own Outlook events per member.
    #[arg(long = "outlook-events", default_value_t = 100)]
    pub(crate) outlook_events: usize,
    /// A small scale for a smoke run: 5 members, 400 meetings, 200 persons, 10 events each.
    #[arg(long)]
    pub(crate) quick: bool,
    /// Members synced at once (`sync.max_parallel_members`).
    #[arg(long, default_value_t = 4)]
    pub(crate) parallel: usize,
    /// The throttled scenarios' per-mailbox rate limit as `MAX/SECONDS`. Default: Graph's
    /// 10,000 per 600 s scaled down to a quarter of one mailbox's first-round requests per
    /// 2 s, so that throttling actually happens at benchmark scale. `documented` uses
    /// 10000/600 as is.
    #[arg(long)]
    pub(crate) throttle: Option<String>,
    /// Skip the naive strategy.
    #[arg(long)]
    pub(crate) no_naive: bool,
    /// Skip the throttled scenarios.
    #[arg(long)]
    pub(crate) no_throttled: bool,
    /// Do not record the audit trail after our rounds (`run` and `serve` record it): to
    /// measure what the trail costs.
    #[arg(long)]
    pub(crate) no_audit: bool,
    /// Also run our strategy with its state in this PostgreSQL database (`postgres://…`; a
    /// fresh schema per run) and print its round times and requests next to SQLite's.
    #[arg(long, value_name = "URL")]
    pub(crate) state: Option<String>,
    /// Passed by `cargo bench` to every bench target (`harness = false` gets it too); ignored.
    #[arg(long = "bench", hide = true)]
    _bench: bool,
}

impl Args {
    /// The arguments with `--quick` applied and at least one member.
    pub(crate) fn scaled(mut self) -> Self {
        if self.quick {
            self.members = 5;
            self.meetings = 400;
            self.persons = 200;
            self.outlook_events = 10;
        }
        self.members = self.members.max(1);
        self
    }
}

/// The daily quota the fake Raynet reports: the documented 24,000, or twice what a first round
/// of a larger tenant needs at most (a create and a read-back per Outlook event, listings).
pub(crate) fn raynet_quota(args: &Args) -> u64 {
    let first_round = 2 * args.members * args.outlook_events
        + (args.meetings + args.persons) / 500
        + 10 * args.members;
    (RAYNET_DAILY_QUOTA as u64).max(2 * first_round as u64)
}
