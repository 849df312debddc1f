//! The command line (after `cargo bench -p raynet-sync --bench latency --`) and the scale it
//! sets.

use clap::Parser;

/// The latency benchmark's command line.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "latency",
    about = "Push latency benchmark of `raynet-sync serve` against the in-process fake servers"
)]
pub(crate) struct Cli {
    /// A smoke run of about three minutes: 40 single edits, about a minute of traffic, a
    /// smaller tenant (50 members, 5,000 meetings and events, 100 persons, 10 own Outlook
    /// events each) and a 30-second idle measurement.
    #[arg(long)]
    pub(crate) quick: bool,
    /// Members of the M365 group (each with a Raynet account).
    #[arg(long, default_value_t = 50)]
    pub(crate) members: usize,
    /// Raynet meetings and events, spread over the members (default: the tenant benchmark's
    /// 20,000; `--quick`: 5,000).
    #[arg(long)]
    pub(crate) meetings: Option<usize>,
    /// Raynet persons, synced to every member's contact folder (default 5,000; `--quick`: 100).
    #[arg(long)]
    pub(crate) persons: Option<usize>,
    /// Own Outlook events per member (default 100; `--quick`: 10).
    #[arg(long = "outlook-events")]
    pub(crate) outlook_events: Option<usize>,
    /// Single edits measured (default 200; `--quick`: 40).
    #[arg(long)]
    pub(crate) edits: Option<usize>,
    /// Minutes of traffic (single edits, then more of them) the memory of `serve` is sampled
    /// over (default 10; `--quick`: none beyond the single edits and the burst).
    #[arg(long = "traffic-minutes")]
    pub(crate) traffic_minutes: Option<f64>,
    /// Edits of the burst scenario, all at once to one member.
    #[arg(long, default_value_t = 100)]
    pub(crate) burst: usize,
    /// Seconds `serve` is watched idle with short intervals (default 60; `--quick`: 30).
    #[arg(long = "idle-seconds")]
    pub(crate) idle_seconds: Option<u64>,
    /// Keep the temporary directory (configs, state files, the children's logs).
    #[arg(long)]
    pub(crate) keep: bool,
    /// Passed by `cargo bench` to every bench target (`harness = false` gets it too); ignored.
    #[arg(long = "bench", hide = true)]
    _bench: bool,
}

/// The scale and lengths of one run, `--quick` and the defaults applied.
#[derive(Debug, Clone)]
pub(crate) struct Scale {
    pub(crate) members: usize,
    pub(crate) meetings: usize,
    pub(crate) persons: usize,
    pub(crate) outlook_events: usize,
    pub(crate) edits: usize,
    pub(crate) traffic: std::time::Duration,
    pub(crate) burst: usize,
    pub(crate) idle: std::time::Duration,
    pub(crate) keep: bool,
}

impl Cli {
    /// The scale of this run.
    pub(crate) fn scale(&self) -> Scale {
        let pick = |v: Option<usize>, full: usize, quick: usize| {
            v.unwrap_or(if self.quick { quick } else { full })
        };
        let minutes = self
            .traffic_minutes
            .unwrap_or(if self.quick { 0.0 } else { 10.0 });
        Scale {
            members: self.members.max(1),
            meetings: pick(self.meetings, 20_000, 5_000),
            persons: pick(self.persons, 5_000, 100),
            outlook_events: pick(self.outlook_events, 100, 10),
            edits: pick(self.edits, 200, 40).max(1),
            traffic: std::time::Duration::from_secs_f64(minutes.max(0.0) * 60.0),
            burst: self.burst.max(1),
            idle: std::time::Duration::from_secs(
                self.idle_seconds
                    .unwrap_or(if self.quick { 30 } else { 60 })
                    .max(15),
            ),
            keep: self.keep,
        }
    }

    /// The tenant benchmark's arguments for this scale (its seeding is reused as is).
    pub(crate) fn tenant_args(scale: &Scale) -> crate::args::Args {
        use clap::Parser as _;
        crate::args::Args::parse_from([
            "tenant".to_owned(),
            format!("--members={}", scale.members),
            format!("--meetings={}", scale.meetings),
            format!("--persons={}", scale.persons),
            format!("--outlook-events={}", scale.outlook_events),
        ])
        .scaled()
    }
}
