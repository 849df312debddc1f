//! The stores under test: a harness per store (memory, SQLite, PostgreSQL), and the PostgreSQL
//! test database (found, skipped with a message, or failing under `CI=true`).

#[allow(clippy::wildcard_imports)]
use super::*;

/// A store under test: opened fresh, opened again on the same state, made to crash.
pub(super) trait Harness {
    /// The store.
    type Store: TenantStore + 'static;

    /// A store on this harness's state: empty the first time, and what earlier stores kept on
    /// later calls (a reopen; the in-memory store hands out the same store again).
    async fn open(&self) -> Arc<Self::Store>;

    /// Makes the next `resolve_pending` of `store`'s calendar fail (between its two statements
    /// where the store has such a hook).
    fn crash_next_resolve(&self, store: &Self::Store);

    /// Undoes [`Harness::crash_next_resolve`] where the store's hook does not undo itself.
    fn heal(&self, store: &Self::Store);
}

/// A harness whose store is the binary's [`ServiceStore`].
pub(super) trait ServiceHarness: Harness<Store: ServiceStore> {
    /// How many round summaries of `scope` the store keeps.
    async fn rounds_kept(&self, store: &Self::Store, scope: &Scope) -> i64;
}

/// sync-core's in-memory store: a "reopen" is the same store.
#[derive(Default)]
pub(super) struct MemoryHarness {
    store: Arc<MemoryTenantStore>,
}

impl Harness for MemoryHarness {
    type Store = MemoryTenantStore;

    async fn open(&self) -> Arc<MemoryTenantStore> {
        Arc::clone(&self.store)
    }

    fn crash_next_resolve(&self, store: &MemoryTenantStore) {
        // The in-memory store writes a call at once: refusing the write is its crash.
        store.calendar.fail_after_writes(Some(0));
    }

    fn heal(&self, store: &MemoryTenantStore) {
        store.calendar.fail_after_writes(None);
    }
}

/// An SQLite file in a fresh temporary directory.
pub(super) struct SqliteHarness {
    dir: TempDir,
}

impl SqliteHarness {
    pub(super) fn new(test: &str) -> Self {
        Self {
            dir: TempDir::new(&format!("conformance-{test}")),
        }
    }
}

impl Harness for SqliteHarness {
    type Store = SqliteStore;

    async fn open(&self) -> Arc<SqliteStore> {
        Arc::new(SqliteStore::open(&self.dir.path().join("s.db")).expect("open the state file"))
    }

    fn crash_next_resolve(&self, store: &SqliteStore) {
        store.crash_in_resolve.store(true, Ordering::SeqCst);
    }

    fn heal(&self, _: &SqliteStore) {}
}

impl ServiceHarness for SqliteHarness {
    async fn rounds_kept(&self, store: &SqliteStore, scope: &Scope) -> i64 {
        store
            .lock()
            .query_row(
                "SELECT count(*) FROM rounds r JOIN scopes s ON s.id = r.scope_id
                 WHERE s.tenant = ?1 AND s.member = ?2 AND s.collection = ?3",
                [
                    scope.tenant.as_str(),
                    scope.member.as_str(),
                    crate::store::rows::collection_text(scope.collection),
                ],
                |r| r.get(0),
            )
            .expect("count the rounds")
    }
}

/// The PostgreSQL tests' database when `RAYNET_SYNC_TEST_POSTGRES` is not set.
pub(super) const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh schema in the test database, dropped by [`PgHarness::finish`].
pub(super) struct PgHarness {
    /// The database's URL, as configured (no `schema=`).
    pub(super) base: String,
    /// The same with `schema=` this harness's schema.
    pub(super) url: String,
    /// The schema: unique per test and run.
    pub(super) schema: String,
}

impl PgHarness {
    /// A harness for `test`, or `None` (after saying so on stderr) when PostgreSQL cannot be
    /// reached outside CI. In CI (`CI=true`) an unreachable PostgreSQL fails the test.
    pub(super) async fn new(test: &str) -> Option<Self> {
        let base = reachable_postgres(test).await?;
        let short: String = test.chars().take(24).collect();
        let schema = format!("t_{short}_{:08x}", rand::random::<u32>());
        let url = with_schema(&base, &schema);
        Some(Self { base, url, schema })
    }

    /// A connection of its own to the database (outside the store's pool).
    pub(super) async fn admin(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.base, tokio_postgres::NoTls)
            .await
            .expect("an admin connection");
        tokio::spawn(connection);
        client
    }

    /// Drops the schema (best effort), then goes on with the test's panic, if it had one.
    pub(super) async fn finish(self, outcome: Result<(), Box<dyn Any + Send>>) {
        // Let the connections of the stores the test dropped close first.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        if let Ok((client, connection)) =
            tokio_postgres::connect(&self.base, tokio_postgres::NoTls).await
        {
            let running = tokio::spawn(connection);
            let _ = client
                .batch_execute(&format!(
                    "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {} CASCADE",
                    self.schema
                ))
                .await;
            drop(client);
            let _ = running.await;
        }
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

impl Harness for PgHarness {
    type Store = PostgresStore;

    async fn open(&self) -> Arc<PostgresStore> {
        Arc::new(
            PostgresStore::connect(&self.url)
                .await
                .expect("connect to the test schema"),
        )
    }

    fn crash_next_resolve(&self, store: &PostgresStore) {
        store.crash_in_resolve.store(true, Ordering::SeqCst);
    }

    fn heal(&self, _: &PostgresStore) {}
}

impl ServiceHarness for PgHarness {
    async fn rounds_kept(&self, store: &PostgresStore, scope: &Scope) -> i64 {
        store
            .test_client()
            .await
            .query_one(
                "SELECT count(*) FROM rounds r JOIN scopes s ON s.id = r.scope_id
                 WHERE s.tenant = $1 AND s.member = $2 AND s.collection = $3",
                &[
                    &scope.tenant,
                    &scope.member,
                    &crate::store::rows::collection_text(scope.collection),
                ],
            )
            .await
            .expect("count the rounds")
            .get(0)
    }
}

/// The test database's URL when it answers. When it does not: `None` after a skip message on
/// stderr, or a panic when `CI=true`.
pub(super) async fn reachable_postgres(test: &str) -> Option<String> {
    let url = std::env::var("RAYNET_SYNC_TEST_POSTGRES")
        .unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.to_owned());
    let shown = redact(&url).unwrap_or_else(|e| format!("(a URL that cannot be read: {e})"));
    let reached = async {
        let mut config = tokio_postgres::Config::from_str(&url).map_err(|e| e.to_string())?;
        config.connect_timeout(Duration::from_secs(5));
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(|e| {
            // The driver's message is in layers ("error connecting to server: ...").
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        })?;
        drop(client);
        let _ = connection.await;
        Ok::<_, String>(())
    }
    .await;
    match reached {
        Ok(()) => Some(url),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "PostgreSQL for the store tests cannot be reached at {shown}: {e}. CI=true, so the \
             PostgreSQL tests must run: start PostgreSQL there or set RAYNET_SYNC_TEST_POSTGRES"
        ),
        Err(e) => {
            // Straight to stderr: libtest captures the print macros, not this.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED store::conformance::postgres::{test}: PostgreSQL cannot be reached at \
                 {shown} ({e}); set RAYNET_SYNC_TEST_POSTGRES to run it (CI=true makes this a \
                 failure)"
            );
            None
        }
    }
}

/// `url` with the query parameter `schema=<schema>` added.
pub(super) fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}schema={schema}")
}
