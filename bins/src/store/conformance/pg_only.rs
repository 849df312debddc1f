//! PostgreSQL only: wake-ups across workers, migrations, the password.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The longest a test waits for a wake-up: a guard against hanging forever, not a timing
/// requirement (a wake-up arrives in milliseconds).
pub(super) const WAKEUP_GUARD: Duration = Duration::from_secs(60);

/// Receives until `want` comes (other tests share the database's channel: their tenants are
/// skipped).
pub(super) async fn wait_for(wakeups: &mut tokio::sync::broadcast::Receiver<String>, want: &str) {
    loop {
        match tokio::time::timeout(WAKEUP_GUARD, wakeups.recv()).await {
            Ok(Ok(got)) if got == want => return,
            Ok(Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("the wake-ups ended: {e}"),
            Err(elapsed) => panic!("no wake-up for {want:?} within {WAKEUP_GUARD:?} ({elapsed})"),
        }
    }
}

pub(super) async fn a_note_added_by_one_worker_wakes_another(h: &PgHarness) {
    let listener = h.open().await;
    let writer = h.open().await;
    let mut wakeups = listener
        .note_wakeups()
        .await
        .unwrap()
        .expect("PostgreSQL has wake-ups");
    let tenant = format!("wake_{}", h.schema);
    let calendar = |m| note(m, Collection::Calendar, Noted::CatchUp);
    writer
        .add_push_note(&tenant, &calendar("jana@acme.cz"))
        .await
        .unwrap();
    wait_for(&mut wakeups, &tenant).await;
    // A later receiver of the same store shares the one listening connection.
    let mut second = listener.note_wakeups().await.unwrap().unwrap();
    writer
        .add_push_note(&tenant, &calendar("petr@acme.cz"))
        .await
        .unwrap();
    wait_for(&mut wakeups, &tenant).await;
    wait_for(&mut second, &tenant).await;
    let listening: i64 = h
        .admin()
        .await
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&listen_application_name(Some(&h.schema))],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(listening, 1, "one listening connection per store");
}

pub(super) async fn a_dropped_listening_connection_wakes_every_tenant(h: &PgHarness) {
    let listener = h.open().await;
    let writer = h.open().await;
    let mut wakeups = listener.note_wakeups().await.unwrap().unwrap();
    // End the listening connection from outside, as a server restart or a cut network would.
    let ended: Vec<bool> = h
        .admin()
        .await
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&listen_application_name(Some(&h.schema))],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ended, [true], "the listening connection was ended");
    wait_for(&mut wakeups, PostgresStore::EVERY_TENANT).await;
    // It listens again: a later note still wakes.
    let tenant = format!("again_{}", h.schema);
    writer
        .add_push_note(
            &tenant,
            &note("jana@acme.cz", Collection::Calendar, Noted::CatchUp),
        )
        .await
        .unwrap();
    wait_for(&mut wakeups, &tenant).await;
}

pub(super) async fn a_newer_schema_is_refused_and_left_untouched(h: &PgHarness) {
    let store = h.open().await;
    store
        .calendar()
        .put_pair(&scope(), None, &pair("1", "A"))
        .await
        .unwrap();
    store
        .test_client()
        .await
        .execute("UPDATE schema_version SET version = 999", &[])
        .await
        .unwrap();
    drop(store);
    let err = PostgresStore::connect(&h.url).await.unwrap_err();
    assert!(
        matches!(err, PostgresStoreError::TooNew { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("999"), "{err}");
    assert!(err.to_string().contains(&h.schema), "names the URL: {err}");
    let admin = h.admin().await;
    let version: i64 = admin
        .query_one(
            &format!("SELECT version FROM {}.schema_version", h.schema),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, 999, "left untouched");
    let pairs: i64 = admin
        .query_one(&format!("SELECT count(*) FROM {}.pairs", h.schema), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pairs, 1);
}

pub(super) async fn a_version_2_schema_gains_the_invitation_columns(h: &PgHarness) {
    // A schema as the previous version left it, with one round recorded.
    let admin = h.admin().await;
    let schema = &h.schema;
    admin
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET search_path TO {schema};"
        ))
        .await
        .unwrap();
    for sql in &super::super::postgres::MIGRATIONS[..2] {
        admin.batch_execute(sql).await.unwrap();
    }
    admin
        .batch_execute(
            "UPDATE schema_version SET version = 2;
             INSERT INTO scopes (tenant, member, collection)
                 VALUES ('acme', 'jana@acme.cz', 'calendar');
             INSERT INTO rounds (scope_id, finished_at, summary)
                 SELECT id, now(), '{\"planned_writes\":3}' FROM scopes;",
        )
        .await
        .unwrap();
    let store = h.open().await;
    let status = store.status().await.unwrap();
    let last = status[0].last_round.as_ref().unwrap();
    assert_eq!(last.summary["planned_writes"], 3, "the old round is kept");
    assert_eq!((last.invitations, last.invitations_deferred), (0, 0));
    let version: i64 = admin
        .query_one(&format!("SELECT version FROM {schema}.schema_version"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, super::super::postgres::SCHEMA_VERSION);
}

pub(super) async fn workers_starting_at_once_migrate_once(h: &PgHarness) {
    let (a, b, c) = tokio::join!(
        PostgresStore::connect(&h.url),
        PostgresStore::connect(&h.url),
        PostgresStore::connect(&h.url)
    );
    let (a, _b, _c) = (a.unwrap(), b.unwrap(), c.unwrap());
    let rows = a
        .test_client()
        .await
        .query("SELECT version FROM schema_version", &[])
        .await
        .unwrap();
    let versions: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, [crate::store::postgres::SCHEMA_VERSION]);
    assert_eq!(a.schema(), Some(h.schema.as_str()));
}

pub(super) async fn the_password_never_shows_once_connected(h: &PgHarness) {
    // With trust authentication the server never asks for it; a URL without a password gets
    // one to hide.
    let mut url = url::Url::parse(&h.url).unwrap();
    let password = if let Some(p) = url.password() {
        p.to_owned()
    } else {
        url.set_password(Some("hunter2-secret")).unwrap();
        "hunter2-secret".to_owned()
    };
    let store = PostgresStore::connect(url.as_str()).await.unwrap();
    let shown = [
        format!("{store:?}"),
        store.location().to_owned(),
        ServiceStore::location(&store),
    ];
    for s in &shown {
        assert!(!s.contains(&password), "{s}");
        assert!(s.contains("***"), "{s}");
    }
}
