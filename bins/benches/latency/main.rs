//! `latency`: the push latency benchmark of `raynet-sync serve` (issue #14).
//!
//! Both fakes run in this process on 127.0.0.1 (the Graph's notification delay zero, Raynet's
//! webhooks at `PushSettings::fast()` but for the burst), seeded with the tenant benchmark's
//! data (its `world.rs`, reused as is: 50 members, their meetings and events, persons, own
//! Outlook events). `raynet-sync` itself runs as a child process — the binary cargo builds
//! with this bench (`target/release/raynet-sync`) — so that its memory is its own:
//!
//! 1. polling: `raynet-sync run` rounds (the first round, idle rounds, a round after the
//!    single-edit mix), from which polling's latency at the default interval (`sync.interval_seconds`) is derived;
//! 2. `raynet-sync serve` (its defaults; only the address set): single edits spaced as people make them,
//!    each timed until the other fake shows it; more of them for ten minutes of traffic
//!    (`--quick`: none); a burst of edits to one member at Raynet's documented webhook pace;
//!    the child's resident memory sampled throughout;
//! 3. `serve` again, idle, with short intervals, scaled to an idle hour at the defaults;
//! 4. the targets, PASS or MISS.
//!
//! ```text
//! cargo bench -p raynet-sync --bench latency -- [--quick]
//! ```
//!
//! Only 127.0.0.1 is ever contacted.
//!
//! | file | holds |
//! |---|---|
//! | `main.rs` | this table and `main`: the phases in order |
//! | `cli.rs` | the command line and the scale (`--quick`) |
//! | `child.rs` | the `raynet-sync` binary as a child: its config, one `run`, the `serve` process, its RSS |
//! | `catalog.rs` | the synced pairs the edits are made on, dealt out over the members |
//! | `edit.rs` | one edit through the fakes' helpers, and whether the other side shows it |
//! | `traffic.rs` | edits at people's pace, each watched until seen; waiting for quiet |
//! | `counters.rs` | both fakes' request counters by endpoint, and their classes |
//! | `polling.rs` | the measured `run` rounds and the deletion scan's cost |
//! | `push.rs` | single edits and the burst against `serve` |
//! | `idle.rs` | idle `serve` with short intervals, rounds and checks told apart |
//! | `memory.rs` | the child's VmRSS sampled in the background |
//! | `stats.rs` | percentiles and durations |
//! | `report.rs` | the printed sections and the targets |

mod catalog;
mod child;
mod cli;
mod counters;
mod edit;
mod idle;
mod memory;
mod polling;
mod push;
mod report;
mod stats;
mod traffic;

// The tenant benchmark's seeding, reused unchanged (with the arguments it reads); this bench
// uses only `start_world`, so the rest of those files is unused here.
#[allow(dead_code)]
#[path = "../tenant/args.rs"]
mod args;
#[allow(dead_code)]
#[path = "../tenant/world.rs"]
mod world;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Parser as _;
use raynet_client::fake::PushSettings;
use raynet_sync::demo::Sandbox;

use crate::catalog::{Catalog, Origin};
use crate::child::{Serve, serve_defaults, write_config};
use crate::cli::Cli;
use crate::edit::Fakes;
use crate::memory::Sampler;
use crate::report::{
    Outcome, print_burst, print_idle, print_memory, print_polling, print_single, print_targets,
};
use crate::stats::secs;
use crate::traffic::Editor;
use crate::world::{World, start_world};

/// A directory for the configs, the state file and the children's logs.
fn work_dir() -> anyhow::Result<PathBuf> {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("raynet-sync-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Progress on standard error (the report goes to standard output).
fn progress(started: Instant, what: &str) {
    eprintln!("[{:>7}] {what}", secs(started.elapsed()));
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let scale = Cli::parse().scale();
    let started = Instant::now();
    let binary = child::binary()?;
    let dir = work_dir()?;
    progress(started, "seeding both fakes");
    let args = Cli::tenant_args(&scale);
    let world = start_world(&args, Utc::now(), &dir, "state", None).await?;
    let quota = args::raynet_quota(&args);
    let World {
        raynet,
        graph,
        tenant,
        clients,
        store,
        ..
    } = world;
    // The children own the state file.
    drop(store);
    let state = dir.join("state.db");
    graph.set_delivery_delay(Duration::ZERO);
    raynet.set_push_settings(PushSettings::fast());
    let sandbox = Sandbox::from_fakes(raynet, graph, Utc::now().date_naive());
    let fakes = Fakes {
        raynet: &sandbox.raynet,
        graph: &sandbox.graph,
    };
    println!("# raynet-sync latency benchmark (issue #14)\n");
    println!(
        "Tenant: {} members, {} Raynet meetings and events, {} persons (-> {} contacts), {} own Outlook events per member (the tenant benchmark's seeding). Both fakes in the bench process on 127.0.0.1: Graph notification delay 0, Raynet webhooks `PushSettings::fast()` (no pause; the burst: `documented()`, 2 events/s). raynet-sync: {} as a child process; configs, state and logs in {}.",
        scale.members,
        scale.meetings,
        scale.persons,
        scale.persons * scale.members,
        scale.outlook_events,
        binary.display(),
        dir.display()
    );

    let defaults = serve_defaults(&sandbox, &state)?;
    println!(
        "\nserve runs at its defaults (only `bind` and `public_url` set): `poll_interval_seconds = {}`, `coalesce_ms = {}`, `maintenance_seconds = {}`; polling at the tenant's `sync.interval_seconds = {}`.",
        defaults.poll_interval.as_secs(),
        defaults.coalesce.as_millis(),
        defaults.maintenance.as_secs(),
        tenant.sync.interval.as_secs()
    );

    // 1. Polling: `run` rounds.
    let (run_config, _) = write_config(&sandbox, &dir, "run", &state, None, None)?;
    progress(started, "first round (`raynet-sync run`)");
    let first = polling::first_round(fakes, &run_config, &dir).await?;
    let catalog = Catalog::find(&fakes, &clients).await?;
    println!(
        "\nSynced pairs to edit: {} Raynet meetings/events and {} own Outlook events over {} members.",
        catalog.count(Origin::Raynet),
        catalog.count(Origin::Outlook),
        catalog.members()
    );
    if catalog.count(Origin::Raynet) == 0 || catalog.count(Origin::Outlook) == 0 {
        anyhow::bail!(
            "the first round made no pairs to edit (see {})",
            dir.display()
        );
    }
    let mut editor = Editor::new(fakes, catalog);
    progress(started, "polling: idle rounds and the change round");
    let polling = polling::measure(
        &mut editor,
        first,
        scale.edits,
        (&run_config, &dir),
        (&tenant, &clients, quota),
    )
    .await?;

    // 2. Push: serve at the defaults.
    let (serve_config, addr) = write_config(&sandbox, &dir, "serve", &state, None, None)?;
    progress(started, "starting `raynet-sync serve`");
    let ready_from = Instant::now();
    let serve = Serve::start(&serve_config, addr, &dir.join("serve.log")).await?;
    println!(
        "\n`raynet-sync serve` (pid {}) was ready (`/readyz` 200: its first round, {} subscriptions, {} Raynet webhook(s)) after {}.",
        serve.pid(),
        sandbox.graph.subscription_ids().len(),
        fakes
            .raynet
            .instance(raynet_sync::demo::INSTANCE)
            .webhook_ids()
            .len(),
        secs(ready_from.elapsed())
    );
    let sampler = Sampler::start(serve.pid(), Duration::from_secs(2));
    let traffic_until = Instant::now() + scale.traffic;
    progress(started, &format!("push: {} single edits", scale.edits));
    let single = push::single(&mut editor, &serve, scale.edits).await?;
    if !scale.traffic.is_zero() {
        progress(started, "push: more traffic for the memory's measurement");
    }
    let more = push::more(&mut editor, traffic_until).await?;
    progress(started, &format!("push: a burst of {} edits", scale.burst));
    let burst = push::burst(&mut editor, &serve, scale.burst).await?;
    let memory = sampler.stop(serve.pid());
    let serve_log = serve.log().to_owned();
    serve.stop();
    print_polling(&polling, single.span);
    print_single(&single, &more);
    print_burst(&burst);
    print_memory(memory.as_ref());

    // 3. Idle: serve with short intervals.
    // Same port (the kept subscriptions and the webhook point there); the Raynet clock 15
    // minutes on, so that serve's first round, not the watched ones, reads the last edits
    // again (the changed-rows read overlaps the previous one by two minutes).
    let (idle_config, idle_addr) = write_config(
        &sandbox,
        &dir,
        "idle",
        &state,
        Some(idle::SHORT),
        Some(addr.port()),
    )?;
    fakes.raynet.advance_clock(chrono::Duration::minutes(15));
    progress(
        started,
        &format!("idle: serve watched for {}", secs(scale.idle)),
    );
    let idle_serve = Serve::start(&idle_config, idle_addr, &dir.join("serve-idle.log")).await?;
    let idle = idle::watch(fakes, &clients, scale.idle).await?;
    idle_serve.stop();
    let hours = print_idle(&idle, &polling, &defaults);

    print_targets(&Outcome {
        single: &single,
        idle: &hours,
        memory: memory.as_ref(),
        burst: &burst,
    });
    println!("\nWhole run: {}.", secs(started.elapsed()));
    if scale.keep {
        println!(
            "Kept {} (serve's logs: {} and serve-idle.log).",
            dir.display(),
            serve_log.display()
        );
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
