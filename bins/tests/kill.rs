//! The real binary killed in the middle of a round, then restarted: no duplicate anywhere.

use std::process::Stdio;
use std::time::Duration;

use chrono::Utc;
use raynet_sync::demo::{INSTANCE, Sandbox};

use crate::util::{TempDir, spawn_against_sandbox};

fn run_binary(config: &std::path::Path) -> std::process::Child {
    spawn_against_sandbox(config, &["run"], "warn", Stdio::null())
}

fn duplicates(values: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    values
        .into_iter()
        .filter(|v| !seen.insert(v.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_round_and_restarted_leaves_no_duplicate() {
    let dir = TempDir::new("kill");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let state = dir.path().join("state.db");
    let config = dir.write("raynet-sync.toml", &sandbox.config_toml(&state, ""));
    // Slow both fakes down so that the kill lands in the middle of the first round.
    sandbox.raynet.set_latency(Duration::from_millis(120));
    sandbox
        .graph
        .inject(graph_client::fake::Fault::delay(Duration::from_millis(120)).times(10_000));
    for kill_after_ms in [700_u64, 1500, 2500] {
        let mut child = run_binary(&config);
        tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
        let _ = child.kill();
        let _ = child.wait();
    }
    sandbox.raynet.set_latency(Duration::ZERO);
    sandbox.graph.clear_faults();
    // The kills landed mid-round: some writes were made, not all of them.
    let outlook_after_kills = sandbox.graph.events(&sandbox.data.jana).len();
    let store = raynet_sync::store::SqliteStore::open(&state).unwrap();
    let status = store.status().unwrap();
    let pairs: u64 = status.iter().map(|s| s.pairs).sum();
    let pending_after_kills: u64 = status.iter().map(|s| s.pending).sum();
    drop(store);
    eprintln!(
        "after the kills: {outlook_after_kills} Outlook events for Jana, {pairs} pairs, \
         {pending_after_kills} pending creates"
    );
    assert!(
        pairs + pending_after_kills > 0,
        "the killed runs got far enough to write something"
    );
    for _ in 0..2 {
        let status = run_binary(&config).wait().unwrap();
        assert!(status.success(), "a clean run after the kills: {status:?}");
    }
    let store = raynet_sync::store::SqliteStore::open(&state).unwrap();
    let pairs_done: u64 = store.status().unwrap().iter().map(|s| s.pairs).sum();
    let pending: u64 = store.status().unwrap().iter().map(|s| s.pending).sum();
    assert!(
        pairs_done > pairs,
        "the kills stopped the first rounds before the end ({pairs} < {pairs_done})"
    );
    assert_eq!(pending, 0, "no pending create left");
    let d = &sandbox.data;
    let subjects: Vec<String> = sandbox
        .graph
        .events(&d.jana)
        .iter()
        .filter(|e| e["type"] != "seriesMaster")
        .map(|e| e["subject"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        subjects.iter().any(|s| s == "Obchodní jednání – Acme"),
        "{subjects:?}"
    );
    assert_eq!(
        duplicates(subjects.clone()),
        Vec::<String>::new(),
        "Outlook: {subjects:?}"
    );
    let inst = sandbox.raynet.instance(INSTANCE);
    let mut raynet = Vec::new();
    for entity in ["meeting", "event"] {
        for id in inst.ids(entity) {
            let rec = inst.record(entity, id).unwrap();
            // Occurrences of a series share a title: tell them apart by their start.
            raynet.push(format!("{} @ {}", rec["title"], rec["scheduledFrom"]));
        }
    }
    assert_eq!(
        duplicates(raynet.clone()),
        Vec::<String>::new(),
        "Raynet: {raynet:?}"
    );
    let contacts: Vec<String> = sandbox
        .graph
        .contact_folders(&d.jana)
        .iter()
        .flat_map(|(id, _)| sandbox.graph.contacts(&d.jana, id))
        .map(|c| format!("{} {}", c["givenName"], c["surname"]))
        .collect();
    assert!(!contacts.is_empty());
    assert_eq!(
        duplicates(contacts.clone()),
        Vec::<String>::new(),
        "contacts: {contacts:?}"
    );
}
