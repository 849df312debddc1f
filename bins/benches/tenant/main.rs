//! `tenant`: the tenant-scale benchmark of raynet-sync (issue #8).
//!
//! Runs the real engine, adapters and clients against both fake servers over loopback for a
//! tenant of `--members` members, `--meetings` Raynet meetings and events spread over them,
//! `--persons` Raynet persons and `--outlook-events` own Outlook events per member, and prints
//! one table per scenario: requests to each API by endpoint, writes per changed item, wall
//! time and peak memory, each next to a naive strategy (every item of both sides re-listed
//! each round, every write sent alone) run on identical data in the same process.
//!
//! ```text
//! cargo bench -p raynet-sync --bench tenant -- [--quick] [--state postgres://…] [--no-audit]
//! ```
//!
//! Only 127.0.0.1 is ever contacted (both fakes are in-process). Planning alone (time and
//! memory of `plan_calendar`) is sync-core's own benchmark: `cargo bench -p sync-core --bench
//! plan`.
//!
//! | file | holds |
//! |---|---|
//! | `main.rs` | this table and `main`: the header, then the suites unthrottled and throttled |
//! | `args.rs` | the command line (`Args`, `--quick`) and the daily Raynet quota |
//! | `throttle.rs` | the throttled-Graph set-up: Graph's limits, `--throttle`, on and off |
//! | `world.rs` | both fakes seeded at scale and the tenant wired to them; the 1 % edits; the state check |
//! | `measure.rs` | memory readings, what a round did (`RoundDone`) and cost (`Measured`) |
//! | `naive.rs` | the naive strategy: full listings, every write alone |
//! | `round.rs` | one measured round of a strategy (ours: `sync_tenant`, then the audit trail); one measured deletion scan |
//! | `suite.rs` | the five rounds of a strategy on a fresh world (`Suite`) |
//! | `table.rs` | one scenario's table, ours next to naive |
//! | `report.rs` | the printed sections: the tables of a run, the deletion scan, the targets |

mod args;
mod measure;
mod naive;
mod report;
mod round;
mod suite;
mod table;
mod throttle;
mod world;

use std::path::{Path, PathBuf};

use clap::Parser as _;
use sync_core::{Event, Remote};

use crate::args::{Args, raynet_quota};
use crate::report::{print_stores, print_suites, print_targets};
use crate::round::Strategy;
use crate::suite::run_suite;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse().scaled();
    let throttle = throttle::limit(&args)?;
    let state_dir: PathBuf = if Path::new("/dev/shm").is_dir() {
        PathBuf::from(format!("/dev/shm/raynet-sync-bench-{}", std::process::id()))
    } else {
        std::env::temp_dir().join(format!("raynet-sync-bench-{}", std::process::id()))
    };
    std::fs::create_dir_all(&state_dir)?;
    println!("# raynet-sync tenant benchmark");
    println!(
        "\nScale: {} members, {} Raynet meetings+events ({} per member), {} persons (-> {} contact pairs), {} own Outlook events per member; {} members in parallel. Fakes in-process on 127.0.0.1; state in {}.",
        args.members,
        args.meetings,
        args.meetings / args.members,
        args.persons,
        args.persons * args.members,
        args.outlook_events,
        args.parallel,
        state_dir.display()
    );
    println!(
        "The fake Raynet reports a daily quota of {} requests (`X-Ratelimit-Limit`; the deletion scan's \"auto\" schedule follows it); rounds never wait for it. Rounds are 15 minutes apart on the fakes' clocks.",
        raynet_quota(&args)
    );
    println!(
        "\nSizes (stack part, without heap): Event {} B, Remote<Event> {} B, PairRecord<Event> {} B; a pair is held as its record (2 bases) plus one Remote per side in the reads.",
        std::mem::size_of::<Event>(),
        std::mem::size_of::<Remote<Event>>(),
        std::mem::size_of::<sync_core::state::PairRecord<Event>>()
    );
    println!(
        "\nPlanning (plan_calendar, in memory): measured by sync-core's own benchmark, not here: `cargo bench -p sync-core --bench plan`."
    );
    println!(
        "\nAudit trail: {}",
        if args.no_audit {
            "not recorded (`--no-audit`)"
        } else {
            "recorded after each of our rounds, as `run` and `serve` do (`--no-audit` to compare)"
        }
    );
    let (ours, scan) = run_suite(&args, Strategy::Ours, None, &state_dir, None).await?;
    let naive = if args.no_naive {
        None
    } else {
        Some(
            run_suite(&args, Strategy::Naive, None, &state_dir, None)
                .await?
                .0,
        )
    };
    print_suites(
        "Unthrottled fake Graph",
        &args,
        &ours,
        naive.as_ref(),
        scan.as_ref(),
    );
    print_targets(&args, &ours, naive.as_ref(), scan.as_ref());
    if let Some(url) = &args.state {
        let (pg, _) = run_suite(&args, Strategy::Ours, None, &state_dir, Some(url)).await?;
        print_stores(&ours, &pg);
    }
    if !args.no_throttled {
        println!("{}", throttle::describe(throttle));
        let (ours_t, _) =
            run_suite(&args, Strategy::Ours, Some(throttle), &state_dir, None).await?;
        let naive_t = if args.no_naive {
            None
        } else {
            Some(
                run_suite(&args, Strategy::Naive, Some(throttle), &state_dir, None)
                    .await?
                    .0,
            )
        };
        print_suites(
            "Fake Graph throttling (per-mailbox limits)",
            &args,
            &ours_t,
            naive_t.as_ref(),
            None,
        );
    }
    let _ = std::fs::remove_dir_all(&state_dir);
    Ok(())
}
