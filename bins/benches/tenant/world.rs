//! The world: both fakes started on loopback and seeded at the tenant's scale, the raynet-sync
//! tenant wired to them (config, clients, SQLite state), the 1 % edits of the change round, and
//! the check of what both sides hold afterwards.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use graph_client::fake::{EventSeed, FakeGraph, GroupSeed, UserSeed};
use raynet_client::fake::{ActivitySeed, FakeRaynet};
use raynet_sync::config::TenantConfig;
use raynet_sync::demo::{INSTANCE, Sandbox};
use raynet_sync::store::{PostgresStore, ServiceStore, SqliteStore};
use raynet_sync::wiring::TenantClients;

use crate::args::{Args, raynet_quota};

/// What the seeding created, to edit and to check later.
struct Seeded {
    /// (Graph user id, Raynet person id) of each member.
    members: Vec<(String, u64)>,
    /// (entity, id) of the Raynet meetings and events.
    activities: Vec<(&'static str, u64)>,
    persons: Vec<u64>,
    /// (Graph user id, event id) of the own Outlook events.
    outlook_events: Vec<(String, String)>,
}

/// Both fakes, seeded, and the tenant that syncs them.
pub(crate) struct World {
    pub(crate) raynet: FakeRaynet,
    pub(crate) graph: FakeGraph,
    pub(crate) tenant: TenantConfig,
    pub(crate) clients: TenantClients,
    pub(crate) store: std::sync::Arc<dyn ServiceStore>,
    /// Whether our rounds record the audit trail afterwards (not with `--no-audit`).
    pub(crate) audit: bool,
    seeded: Seeded,
}

/// `day` at `hour:minute` as the fake Raynet's seeds write a local time.
fn day_time(day: NaiveDate, hour: u32, minute: u32) -> String {
    format!("{} {hour:02}:{minute:02}", day.format("%Y-%m-%d"))
}

/// Starts both fakes, seeds them at the scale of `args`, and wires a tenant to them whose
/// state is the file `state_dir/name.db`, or with `postgres` (a `postgres://` URL) a fresh
/// schema `bench_<name>_<time>` of that database.
pub(crate) async fn start_world(
    args: &Args,
    now: DateTime<Utc>,
    state_dir: &Path,
    name: &str,
    postgres: Option<&str>,
) -> anyhow::Result<World> {
    let raynet = FakeRaynet::try_start_on(0)
        .await
        .context("cannot start the fake Raynet")?;
    let graph = FakeGraph::try_start_on(0)
        .await
        .context("cannot start the fake Graph")?;
    let inst = raynet.instance(INSTANCE);
    // The fake reports Raynet's documented daily quota (the `X-Ratelimit-Limit` the deletion
    // scan's "auto" schedule reads) but never makes a round wait for it: each round starts
    // with the quota unused. A tenant larger than one round's quota reports a larger one.
    inst.set_quota(raynet_quota(args));
    let fake =
        |e: raynet_client::fake::FakeError| anyhow::anyhow!("seeding the fake Raynet: {e:?}");
    let today = now.date_naive();
    let mut members = Vec::with_capacity(args.members);
    let mut graph_ids = Vec::with_capacity(args.members);
    for i in 0..args.members {
        let login = format!("member{i:03}@{INSTANCE}.test");
        let user = inst
            .add_user(
                &login,
                &format!("crm-bench-{i}"),
                "Member",
                &format!("{i:03}"),
            )
            .map_err(fake)?;
        let gid = graph.add_user(
            UserSeed::new(&format!("Member {i:03}"))
                .mail(&login)
                .upn(&login),
        );
        graph_ids.push(gid.clone());
        members.push((gid, user.person_id));
    }
    graph.add_group(
        GroupSeed::new("Raynet Sync")
            .members(&graph_ids)
            .owners(&graph_ids[..1]),
    );
    let persons = inst.add_persons(args.persons).map_err(fake)?;
    let mut activities = Vec::with_capacity(args.meetings);
    for i in 0..args.meetings {
        let (_, owner) = members[i % members.len()];
        let day = today + chrono::Duration::days(1 + (i / members.len() % 300) as i64);
        let hour = 7 + (i % 10) as u32;
        let mut seed = ActivitySeed::new(&format!("Activity {i:05}"), owner)
            .scheduled_local(&day_time(day, hour, 0), &day_time(day, hour, 45))
            .meeting_place("Brno");
        if i % 5 == 0 && !persons.is_empty() {
            seed = seed.participant(persons[i % persons.len()]);
        }
        if i % 2 == 0 {
            activities.push(("meeting", inst.add_meeting(seed).map_err(fake)?));
        } else {
            activities.push(("event", inst.add_event(seed).map_err(fake)?));
        }
    }
    let mut outlook_events = Vec::with_capacity(args.members * args.outlook_events);
    for (gid, _) in &members {
        for k in 0..args.outlook_events {
            let start = today.and_time(chrono::NaiveTime::MIN).and_utc()
                + chrono::Duration::days(1 + (k % 300) as i64)
                + chrono::Duration::hours(17 + (k % 3) as i64);
            let id = graph.add_event(
                gid,
                EventSeed::new(
                    &format!("Outlook {k:03}"),
                    start,
                    start + chrono::Duration::minutes(30),
                ),
            );
            outlook_events.push((gid.clone(), id));
        }
    }
    let sandbox = Sandbox::from_fakes(raynet, graph, today);
    let state_path = state_dir.join(format!("{name}.db"));
    let _ = std::fs::remove_file(&state_path);
    let tenant = sandbox.tenant(
        &state_path,
        &format!("max_parallel_members = {}\n", args.parallel.max(1)),
    )?;
    let store: std::sync::Arc<dyn ServiceStore> = match postgres {
        None => std::sync::Arc::new(SqliteStore::open(&state_path)?),
        Some(url) => {
            let schema = format!(
                "bench_{}_{}",
                name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
                now.timestamp()
            );
            let sep = if url.contains('?') { '&' } else { '?' };
            eprintln!("[{name}] state in PostgreSQL, schema {schema} (left in the database)");
            std::sync::Arc::new(
                PostgresStore::connect(&format!("{url}{sep}schema={schema}"))
                    .await
                    .context("--state: cannot open the PostgreSQL store")?,
            )
        }
    };
    let clients = TenantClients::new(&tenant)?;
    let Sandbox { raynet, graph, .. } = sandbox;
    Ok(World {
        raynet,
        graph,
        tenant,
        clients,
        store,
        audit: !args.no_audit,
        seeded: Seeded {
            members,
            activities,
            persons,
            outlook_events,
        },
    })
}

/// 1 % of the items of each side changed: Raynet meetings/events and persons, and the own
/// Outlook events. Returns the changed items counted per pair they reach (a person reaches
/// every member's contact folder).
pub(crate) fn change_one_percent(world: &World) -> anyhow::Result<(usize, String)> {
    let inst = world.raynet.instance(INSTANCE);
    let fake =
        |e: raynet_client::fake::FakeError| anyhow::anyhow!("editing the fake Raynet: {e:?}");
    let mut activities = 0;
    // Every 100th meeting or event, picked with a stride of 101 so that the edits spread
    // over the owners (the seeding deals the activities out to the members in turn: a
    // stride of 100 would give them all to one member) and alternate meetings and events.
    let all = &world.seeded.activities;
    let picked = (0..all.len() / 100).map(|j| &all[(j * 101) % all.len()]);
    for (entity, id) in picked {
        inst.edit(
            entity,
            *id,
            &serde_json::json!({"meetingPlace": "Ostrava (moved)"}),
        )
        .map_err(fake)?;
        activities += 1;
    }
    let mut persons = 0;
    for id in world.seeded.persons.iter().step_by(100) {
        inst.edit("person", *id, &serde_json::json!({"firstName": "Edited"}))
            .map_err(fake)?;
        persons += 1;
    }
    let mut outlook = 0;
    for (user, id) in world.seeded.outlook_events.iter().step_by(100) {
        if world.graph.edit_event(
            user,
            id,
            &serde_json::json!({"subject": "Outlook (edited)"}),
        ) {
            outlook += 1;
        }
    }
    let members = world.seeded.members.len();
    let pairs = activities + persons * members + outlook;
    let what = format!(
        "{activities} Raynet meetings/events + {persons} persons (x {members} mailboxes) + {outlook} Outlook events = {pairs} changed pairs"
    );
    Ok((pairs, what))
}

/// What both sides hold after the rounds, against what they should.
pub(crate) fn check_world(world: &World, args: &Args) -> String {
    let mut out = String::new();
    let inst = world.raynet.instance(INSTANCE);
    let raynet_items = inst.ids("meeting").len() + inst.ids("event").len();
    let expect_raynet = args.meetings + args.members * args.outlook_events;
    let mut short_events = 0;
    let mut short_contacts = 0;
    let mut extra = 0;
    // Every person the API user sees is a contact: the seeded ones, the members' own person
    // records and the integration user's.
    let persons = inst.ids("person").len();
    let per_member = |i: usize| {
        (0..args.meetings).filter(|k| k % args.members == i).count() + args.outlook_events
    };
    for (i, (gid, _)) in world.seeded.members.iter().enumerate() {
        let events = world.graph.events(gid).len();
        let want = per_member(i);
        if events < want {
            short_events += want - events;
        }
        if events > want {
            extra += events - want;
        }
        let folder = world
            .graph
            .contact_folders(gid)
            .into_iter()
            .find(|(_, name)| *name == world.tenant.sync.contacts_folder)
            .map(|(id, _)| id);
        let contacts = folder.map_or(0, |f| world.graph.contacts(gid, &f).len());
        if contacts < persons {
            short_contacts += persons - contacts;
        }
        if contacts > persons {
            extra += contacts - persons;
        }
    }
    let _ = write!(
        out,
        "Raynet activities {raynet_items} (expected {expect_raynet}); Outlook events missing {short_events}, contacts missing {short_contacts}, duplicates/extra {extra}"
    );
    out
}
