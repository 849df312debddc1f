//! `status` on a missing, new, used and damaged state file; `state copy` into PostgreSQL.

use raynet_sync::store::SqliteStore;
use sync_core::{
    Collection, Event, PairRecord, RemoteId, Schedule, Scope, Side, SideRecord, StateStore, Version,
};

use crate::util::{
    CONFIG_ERROR, SUCCESS, TempDir, config_text, drop_schema, fresh_schema, raynet_sync,
    test_postgres, with_schema,
};

#[test]
fn without_a_state_file_reports_none_and_creates_nothing() {
    let dir = TempDir::new("status-none");
    let config = dir.write("raynet-sync.toml", &config_text(""));
    // No secret in the environment: `status` must not need one.
    let out = raynet_sync(&config, &["status"], false);
    assert_eq!(out.code, SUCCESS, "{}", out.stderr);
    assert!(out.stdout.contains("no state file yet"), "{}", out.stdout);
    assert!(!dir.path().join("state.db").exists());
}

#[test]
fn on_a_new_empty_state_file() {
    let dir = TempDir::new("status-empty");
    let config = dir.write("raynet-sync.toml", &config_text(""));
    drop(SqliteStore::open(&dir.path().join("state.db")).unwrap());
    let out = raynet_sync(&config, &["status"], true);
    assert_eq!(out.code, SUCCESS, "{}", out.stderr);
    assert!(out.stdout.contains("no scope synced yet"), "{}", out.stdout);

    let out = raynet_sync(&config, &["status", "--json"], true);
    assert_eq!(out.code, SUCCESS, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["scopes"], serde_json::json!([]));
    assert_eq!(v["exists"], true);
}

/// A state file with one pair and one round of `acme/jana@acme.example/calendar`.
fn used_state_file(dir: &TempDir) {
    let store = SqliteStore::open(&dir.path().join("state.db")).unwrap();
    let scope = Scope::new("acme", "jana@acme.example", Collection::Calendar);
    let start = chrono::Utc::now();
    let side = |id: &str| SideRecord {
        id: RemoteId::new(id).unwrap(),
        version: Version::new("v1").unwrap(),
        base: Event::new(
            "Kickoff",
            Schedule::Timed {
                start,
                end: start + chrono::Duration::hours(1),
            },
        ),
    };
    let pair = PairRecord {
        raynet: Some(side("42")),
        outlook: Some(side("AAMk42")),
        origin: Side::Raynet,
    };
    // SQLite's calls do their work inline: no runtime needed (the caller may be inside one).
    futures::executor::block_on(store.put_pair(&scope, None, &pair)).unwrap();
    let summary = serde_json::json!({
        "dry_run": false,
        "created": { "raynet": 0, "outlook": 1 },
        "updated": { "raynet": 0, "outlook": 0 },
        "deleted": { "raynet": 0, "outlook": 0 },
        "conflicts": 0,
        "failures": [],
        "guard": null,
    });
    store.record_round(&scope, &summary, start).unwrap();
}

#[test]
fn shows_counts_and_the_last_round() {
    let dir = TempDir::new("status-used");
    let config = dir.write("raynet-sync.toml", &config_text(""));
    used_state_file(&dir);

    let out = raynet_sync(&config, &["status"], true);
    assert_eq!(out.code, SUCCESS, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("acme/jana@acme.example/calendar: 1 pair(s), 0 pending"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("created 0/1"), "{}", out.stdout);

    let out = raynet_sync(&config, &["status", "--json"], true);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["scopes"][0]["pairs"], 1);
    assert_eq!(
        v["scopes"][0]["last_round"]["summary"]["created"]["outlook"],
        1
    );
}

#[test]
fn a_damaged_state_file_is_refused_and_kept() {
    let dir = TempDir::new("status-garbage");
    let config = dir.write("raynet-sync.toml", &config_text(""));
    let garbage = "this is not a database, but it is somebody's file\n".repeat(100);
    let state = dir.write("state.db", &garbage);
    let out = raynet_sync(&config, &["status"], true);
    assert_eq!(out.code, CONFIG_ERROR, "{}", out.stderr);
    assert!(out.stderr.contains("state.db"), "{}", out.stderr);
    assert!(out.stderr.contains("untouched"), "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&state).unwrap(), garbage);
}

/// `state copy` moves a state file into PostgreSQL; `status` then reads the database the config
/// names with `state_url`; a second copy is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_copy_moves_the_file_into_postgres_and_refuses_a_second_time() {
    let Some(url) = test_postgres("state_copy").await else {
        return;
    };
    let schema = fresh_schema("state_copy");
    let target = with_schema(&url, &schema);
    let dir = TempDir::new("state-copy");
    used_state_file(&dir);
    let file = dir.path().join("state.db");
    let config = dir.write("raynet-sync.toml", &config_text(""));
    let copy = |config: std::path::PathBuf, file: std::path::PathBuf, target: String| {
        tokio::task::spawn_blocking(move || {
            raynet_sync(
                &config,
                &[
                    "state",
                    "copy",
                    "--from",
                    file.to_str().unwrap(),
                    "--to",
                    &target,
                ],
                false,
            )
        })
    };
    let out = copy(config.clone(), file.clone(), target.clone())
        .await
        .unwrap();
    assert_eq!(out.code, SUCCESS, "{}", out.stderr);
    assert!(
        out.stdout.contains("copied 1 tenant(s) (acme)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("1 scope(s), 1 pair(s)"),
        "{}",
        out.stdout
    );

    let pg_config = dir.write(
        "pg.toml",
        &config_text("").replace(
            "state_path = \"state.db\"",
            &format!("state_url = {target:?}"),
        ),
    );
    let status = {
        let pg_config = pg_config.clone();
        tokio::task::spawn_blocking(move || raynet_sync(&pg_config, &["status", "--json"], false))
            .await
            .unwrap()
    };
    assert_eq!(status.code, SUCCESS, "{}", status.stderr);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["scopes"][0]["scope"]["member"], "jana@acme.example");
    assert_eq!(v["scopes"][0]["pairs"], 1);
    assert!(v["state_url"].as_str().unwrap().contains(&schema), "{v}");

    let again = copy(config, file, target).await.unwrap();
    assert_ne!(again.code, SUCCESS);
    assert!(
        again.stderr.contains("already holds tenant(s) acme"),
        "{}",
        again.stderr
    );
    drop_schema(&url, &schema).await;
}

/// `run` refuses a tenant whose members `serve` workers sync now (their heartbeat leases are
/// live): its round would sync them a second time at once.
#[test]
fn run_refuses_a_tenant_that_serve_workers_sync() {
    let dir = TempDir::new("run-beside-serve");
    let config = dir.write("raynet-sync.toml", &config_text(""));
    let store = SqliteStore::open(&dir.path().join("state.db")).unwrap();
    futures::executor::block_on(raynet_sync::store::ServiceStore::take_lease(
        &store,
        "worker:acme:sync-1",
        "sync-1",
        std::time::Duration::from_secs(600),
    ))
    .unwrap();
    drop(store);
    let out = raynet_sync(&config, &["run"], true);
    assert_ne!(out.code, SUCCESS, "{}", out.stdout);
    assert!(
        out.stderr.contains("worker(s) sync-1 sync this tenant now"),
        "{}",
        out.stderr
    );
}
