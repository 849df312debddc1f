//! Several workers on one PostgreSQL database: three real `serve` processes share a tenant of
//! nine members; one of them is killed (SIGKILL) again and again while meetings are created,
//! edited and deleted on both sides, and restarted. At the end both sides agree, nothing is
//! duplicated or lost, and the rounds the workers logged show that no member was ever synced by
//! two workers at once. It prints how long a dead worker's members took to resume elsewhere and
//! how the members spread over the workers.
//!
//! Needs PostgreSQL (`RAYNET_SYNC_TEST_POSTGRES`, default `postgres://postgres@127.0.0.1:5432/test`):
//! skipped with a message where it cannot be reached, except under `CI=true`, where that fails.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use graph_client::fake::{EventSeed, FakeGraph, GroupSeed, UserSeed};
use raynet_client::fake::{ActivitySeed, FakeRaynet};
use raynet_sync::demo::{INSTANCE, Sandbox};
use raynet_sync::store::{MemberRound, PostgresStore, ServiceStore};

use crate::util::{
    TempDir, drop_schema, free_port, fresh_schema, spawn_against_sandbox, test_postgres,
    with_schema,
};

const MEMBERS: usize = 9;
const WORKERS: usize = 3;
/// Short leases keep the test short (`FAILOVER_LEASE_SECONDS` sets another; the README's
/// figures come from a run at the default, 30 s).
fn lease_seconds() -> u64 {
    std::env::var("FAILOVER_LEASE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
}

/// A member: its Graph user id, Raynet person id and address.
#[derive(Clone, Debug)]
struct Member {
    graph: String,
    person: u64,
    email: String,
}

fn seed(raynet: &FakeRaynet, graph: &FakeGraph, now: DateTime<Utc>) -> Vec<Member> {
    let inst = raynet.instance(INSTANCE);
    let mut members = Vec::new();
    for i in 0..MEMBERS {
        let email = format!("member{i}@{INSTANCE}.test");
        let person = inst
            .add_user(&email, &format!("crm-{i}"), "Member", &format!("{i}"))
            .unwrap()
            .person_id;
        let gid = graph.add_user(
            UserSeed::new(&format!("Member {i}"))
                .mail(&email)
                .upn(&email),
        );
        members.push(Member {
            graph: gid,
            person,
            email,
        });
    }
    let ids: Vec<String> = members.iter().map(|m| m.graph.clone()).collect();
    graph.add_group(
        GroupSeed::new("Raynet Sync")
            .members(&ids)
            .owners(&ids[..1]),
    );
    let day = now.date_naive() + chrono::Duration::days(2);
    for (i, m) in members.iter().enumerate() {
        for k in 0..3 {
            let from = format!("{} {:02}:00", day.format("%Y-%m-%d"), 8 + k);
            let till = format!("{} {:02}:45", day.format("%Y-%m-%d"), 8 + k);
            inst.add_meeting(
                ActivitySeed::new(&format!("R{i}-{k}"), m.person).scheduled_local(&from, &till),
            )
            .unwrap();
        }
        for k in 0..2 {
            let start = (day + chrono::Duration::days(1))
                .and_hms_opt(14 + k, 0, 0)
                .unwrap()
                .and_utc();
            graph.add_event(
                &m.graph,
                EventSeed::new(
                    &format!("O{i}-{k}"),
                    start,
                    start + chrono::Duration::minutes(30),
                ),
            );
        }
    }
    members
}

/// A loopback proxy in front of the workers (the load balancer an operator puts there): each
/// connection goes to the first worker that accepts it.
async fn proxy(ports: Arc<Mutex<Vec<u16>>>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut turn = 0_usize;
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let ports = ports.lock().unwrap().clone();
            turn += 1;
            tokio::spawn(async move {
                for k in 0..ports.len() {
                    let p = ports[(turn + k) % ports.len()];
                    if let Ok(mut out) = tokio::net::TcpStream::connect(("127.0.0.1", p)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                        return;
                    }
                }
            });
        }
    });
    port
}

struct Worker {
    id: String,
    child: Child,
}

impl Drop for Worker {
    /// A failing assertion leaves no worker behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_worker(dir: &TempDir, base: &str, id: &str, port: u16, public: u16) -> Worker {
    let lease = lease_seconds();
    let text = format!(
        "{base}\n[serve]\nbind = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{public}/\"\n\
         lease_seconds = {lease}\nworker_id = \"{id}\"\ncoalesce_ms = 300\n\
         maintenance_seconds = 20\npoll_interval_seconds = 120\n\
         \n[admin]\nbind = \"127.0.0.1:0\"\n"
    );
    let config = dir.write(&format!("{id}.toml"), &text);
    let log = std::fs::File::create(dir.path().join(format!("{id}.log"))).unwrap();
    let child = spawn_against_sandbox(&config, &["serve"], "raynet_sync=info", log.into());
    Worker {
        id: id.to_owned(),
        child,
    }
}

/// Per member: the titles of its Raynet meetings and the subjects of its Outlook events.
fn sides(raynet: &FakeRaynet, graph: &FakeGraph, m: &Member) -> (Vec<String>, Vec<String>) {
    let inst = raynet.instance(INSTANCE);
    let mut crm: Vec<String> = ["meeting", "event"]
        .iter()
        .flat_map(|entity| {
            inst.ids(entity)
                .into_iter()
                .filter_map(|id| inst.record(entity, id))
                .collect::<Vec<_>>()
        })
        .filter(|r| r["owner"]["id"].as_u64() == Some(m.person))
        .filter_map(|r| r["title"].as_str().map(str::to_owned))
        .collect();
    let mut outlook: Vec<String> = graph
        .events(&m.graph)
        .iter()
        .filter_map(|e| e["subject"].as_str().map(str::to_owned))
        .collect();
    crm.sort();
    outlook.sort();
    (crm, outlook)
}

/// A round's start, end and worker.
type Span<'a> = (DateTime<Utc>, DateTime<Utc>, &'a str);

/// Rounds of one member that overlap in time: (earlier, later).
fn overlaps(
    rounds: &[MemberRound],
    killed: &BTreeMap<String, DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<String> {
    let mut by_member: BTreeMap<&str, Vec<Span<'_>>> = BTreeMap::new();
    for r in rounds {
        // A round its worker died in ended when the worker died.
        let end = r
            .finished_at
            .or_else(|| killed.get(&r.worker).copied())
            .unwrap_or(now);
        by_member
            .entry(&r.member)
            .or_default()
            .push((r.started_at, end, &r.worker));
    }
    let mut out = Vec::new();
    for (member, mut spans) in by_member {
        spans.sort();
        for w in spans.windows(2) {
            let ((s1, e1, w1), (s2, _, w2)) = (w[0], w[1]);
            if e1 > s2 {
                out.push(format!("{member}: {w1} {s1}..{e1} overlaps {w2} from {s2}"));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_workers_hand_their_members_over_and_nothing_is_synced_twice() {
    let Some(url) = test_postgres("failover").await else {
        return;
    };
    let schema = fresh_schema("failover");
    let state_url = with_schema(&url, &schema);
    let dir = TempDir::new("failover");
    let now = Utc::now();
    let raynet = FakeRaynet::try_start_on(0).await.unwrap();
    let graph = FakeGraph::try_start_on(0).await.unwrap();
    let members = seed(&raynet, &graph, now);
    let sandbox = Sandbox::from_fakes(raynet, graph, now.date_naive());
    let base = sandbox
        .config_toml(
            std::path::Path::new("unused.db"),
            "outlook_deletes = \"delete\"\n",
        )
        .replace("mode = \"both\"", "mode = \"meetings\"")
        .replace(
            "state_path = \"unused.db\"",
            &format!("state_url = {state_url:?}"),
        );
    let ports: Vec<u16> = (0..WORKERS).map(|_| free_port()).collect();
    let public = proxy(Arc::new(Mutex::new(ports.clone()))).await;
    let mut workers: Vec<Worker> = (0..WORKERS)
        .map(|i| start_worker(&dir, &base, &format!("w{i}-0"), ports[i], public))
        .collect();
    let store = PostgresStore::connect(&state_url).await.unwrap();

    // Every member's first round ran (somewhere).
    let first = tokio::time::Instant::now();
    loop {
        let done = members.iter().all(|m| {
            let (crm, outlook) = sides(&sandbox.raynet, &sandbox.graph, m);
            crm.len() >= 5 && outlook.len() >= 5
        });
        if done {
            break;
        }
        assert!(
            first.elapsed() < Duration::from_secs(90),
            "the first rounds did not finish; logs in {}",
            dir.path().display()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Chaos: changes on both sides, a worker killed and restarted, again and again.
    let inst = sandbox.raynet.instance(INSTANCE);
    let mut killed: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let mut resumes: Vec<f64> = Vec::new();
    let mut rng_state = 0x9e37_79b9_u64 ^ u64::from(std::process::id());
    let mut rand = |n: usize| {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        (rng_state % n as u64) as usize
    };
    let kills = 6;
    for round in 0..kills {
        for _ in 0..3 {
            let m = &members[rand(MEMBERS)];
            match rand(5) {
                0 => {
                    let day = (now.date_naive() + chrono::Duration::days(3)).format("%Y-%m-%d");
                    let hour = 7 + rand(10);
                    let at = format!("{day} {hour:02}:00");
                    let end = format!("{day} {hour:02}:30");
                    inst.add_meeting(
                        ActivitySeed::new(&format!("R-new-{round}-{}", rand(1000)), m.person)
                            .scheduled_local(&at, &end),
                    )
                    .unwrap();
                }
                1 => {
                    let start = (now + chrono::Duration::days(4))
                        .date_naive()
                        .and_hms_opt(u32::try_from(8 + rand(8)).unwrap(), 0, 0)
                        .unwrap()
                        .and_utc();
                    sandbox.graph.add_event(
                        &m.graph,
                        EventSeed::new(
                            &format!("O-new-{round}-{}", rand(1000)),
                            start,
                            start + chrono::Duration::minutes(30),
                        ),
                    );
                }
                2 => {
                    // A Raynet edit (a new title) of one of the member's meetings.
                    let own: Vec<u64> = inst
                        .ids("meeting")
                        .into_iter()
                        .filter(|id| {
                            inst.record("meeting", *id)
                                .is_some_and(|r| r["owner"]["id"].as_u64() == Some(m.person))
                        })
                        .collect();
                    if !own.is_empty() {
                        let id = own[rand(own.len())];
                        let _ = inst.edit(
                            "meeting",
                            id,
                            &serde_json::json!({"title": format!("R-edited-{round}-{id}")}),
                        );
                    }
                }
                3 => {
                    let events = sandbox.graph.events(&m.graph);
                    if !events.is_empty() {
                        let e = &events[rand(events.len())];
                        let id = e["id"].as_str().unwrap_or_default().to_owned();
                        sandbox.graph.edit_event(
                            &m.graph,
                            &id,
                            &serde_json::json!({"subject": format!("O-edited-{round}-{}", rand(1000))}),
                        );
                    }
                }
                _ => {
                    // A deletion, on one side or the other.
                    if rand(2) == 0 {
                        let events = sandbox.graph.events(&m.graph);
                        if events.len() > 1 {
                            let e = &events[rand(events.len())];
                            let id = e["id"].as_str().unwrap_or_default().to_owned();
                            sandbox.graph.delete_event(&m.graph, &id);
                        }
                    } else {
                        let own: Vec<u64> = inst
                            .ids("meeting")
                            .into_iter()
                            .filter(|id| {
                                inst.record("meeting", *id)
                                    .is_some_and(|r| r["owner"]["id"].as_u64() == Some(m.person))
                            })
                            .collect();
                        if own.len() > 1 {
                            let _ = inst.remove("meeting", own[rand(own.len())]);
                        }
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500 + 250 * rand(8) as u64)).await;
        // Kill one worker (SIGKILL: no goodbye), note what it held, restart it.
        let victim = rand(WORKERS);
        let held: Vec<String> = store
            .leases()
            .await
            .unwrap()
            .into_iter()
            .filter(|l| {
                l.holder == workers[victim].id
                    && l.name.starts_with("member:")
                    && l.expires_at > Utc::now()
            })
            .map(|l| l.name.trim_start_matches("member:demo:").to_owned())
            .collect();
        let _ = workers[victim].child.kill();
        let _ = workers[victim].child.wait();
        let died = Utc::now();
        killed.insert(workers[victim].id.clone(), died);
        // Its members resume elsewhere (or on its successor).
        let watch = tokio::time::Instant::now();
        let mut pending: BTreeSet<String> = held.into_iter().collect();
        let id = format!("w{victim}-{}", round + 1);
        workers[victim] = start_worker(&dir, &base, &id, ports[victim], public);
        while !pending.is_empty() && watch.elapsed() < Duration::from_secs(lease_seconds() * 6) {
            let rounds = store.member_rounds("demo").await.unwrap();
            pending.retain(|member| {
                match rounds
                    .iter()
                    .find(|r| &r.member == member && r.started_at > died)
                {
                    Some(r) => {
                        resumes.push((r.started_at - died).num_milliseconds() as f64 / 1000.0);
                        false
                    }
                    None => true,
                }
            });
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(
            pending.is_empty(),
            "members {pending:?} of a killed worker did not resume within {} s; logs in {}",
            lease_seconds() * 6,
            dir.path().display()
        );
    }

    // No member was ever synced by two workers at once.
    let rounds = store.member_rounds("demo").await.unwrap();
    assert!(
        rounds.len() > MEMBERS * 2,
        "rounds were logged: {}",
        rounds.len()
    );
    let clash = overlaps(&rounds, &killed, Utc::now());
    assert!(
        clash.is_empty(),
        "overlapping rounds:\n{}",
        clash.join("\n")
    );

    // Both sides converge: per member, the same titles on both sides, none twice.
    let settle = tokio::time::Instant::now();
    loop {
        let mut diffs = Vec::new();
        for m in &members {
            let (crm, outlook) = sides(&sandbox.raynet, &sandbox.graph, m);
            if crm != outlook {
                diffs.push(format!("{}: raynet {crm:?} / outlook {outlook:?}", m.email));
            }
        }
        if diffs.is_empty() {
            break;
        }
        assert!(
            settle.elapsed() < Duration::from_secs(120),
            "the sides did not converge:\n{}\nlogs in {}",
            diffs.join("\n"),
            dir.path().display()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for m in &members {
        let (crm, _) = sides(&sandbox.raynet, &sandbox.graph, m);
        let unique: BTreeSet<&String> = crm.iter().collect();
        assert_eq!(
            unique.len(),
            crm.len(),
            "a duplicate for {}: {crm:?}",
            m.email
        );
    }

    // How the members spread over the live workers.
    let now = Utc::now();
    let mut spread: BTreeMap<String, usize> = BTreeMap::new();
    for l in store.leases().await.unwrap() {
        if l.name.starts_with("member:") && l.expires_at > now {
            *spread.entry(l.holder).or_default() += 1;
        }
    }
    let held: usize = spread.values().sum();
    assert_eq!(held, MEMBERS, "every member is held: {spread:?}");
    resumes.sort_by(f64::total_cmp);
    let _ = writeln!(
        std::io::stderr(),
        "failover: {kills} kills, lease {} s; members resumed after {} (s, sorted); \
         median {:.1} s, max {:.1} s; {} member rounds logged; members per live worker {spread:?}",
        lease_seconds(),
        resumes
            .iter()
            .map(|r| format!("{r:.1}"))
            .collect::<Vec<_>>()
            .join(" "),
        resumes.get(resumes.len() / 2).copied().unwrap_or_default(),
        resumes.last().copied().unwrap_or_default(),
        rounds.len()
    );

    for w in &mut workers {
        let _ = w.child.kill();
        let _ = w.child.wait();
    }
    drop(store);
    drop_schema(&url, &schema).await;
}
