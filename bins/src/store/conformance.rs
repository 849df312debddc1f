//! One suite of store tests, written once and run against every store:
//! - sync-core's [`MemoryTenantStore`] (the `StateStore`/`TenantStore` tests: it has no
//!   [`ServiceStore`]),
//! - [`SqliteStore`] on a fresh file in a temporary directory,
//! - [`PostgresStore`] in a fresh schema (`schema=` in the URL), dropped after the test.
//!
//! Each test is a generic `async fn` taking a [`Harness`]; the `suite!` invocation at the end
//! makes one `#[tokio::test]` per store of it: `store::conformance::{memory,sqlite,postgres}::NAME`.
//!
//! PostgreSQL is found at `RAYNET_SYNC_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`; without `schema=`). When it cannot be reached a
//! PostgreSQL test prints why on stderr (past libtest's capture) and passes without running,
//! unless `CI=true`: then it fails, so that CI never passes without them.

use std::any::Any;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{TimeZone as _, Utc};
use futures::FutureExt as _;
use sync_core::tenant::{MemoryTenantStore, RoundSummary, TenantStore};
use sync_core::{
    AuditConflict, AuditEntry, AuditWrite, Collection, ConflictRule, Contact, Cursor, Email, Event,
    FieldChange, IdempotencyKey, PairId, PairRecord, PendingCreate, RemoteId, RoundReport,
    Schedule, Scope, Side, SideCounts, SideRecord, StepRule, StoreError, StoredState, Version,
    WriteAction,
};

use super::postgres::{PostgresStoreError, listen_application_name, redact};
use super::{
    AuditMatch, AuditTrail as _, LeaseTaken, Noted, PostgresStore, PushNote, ServiceStore,
    SqliteStore, status::ROUNDS_KEPT,
};
use crate::testutil::TempDir;
use sync_secret::Secret;

// ---------------------------------------------------------------------------------------------
// Harnesses
// ---------------------------------------------------------------------------------------------

/// A store under test: opened fresh, opened again on the same state, made to crash.
trait Harness {
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
trait ServiceHarness: Harness<Store: ServiceStore> {
    /// How many round summaries of `scope` the store keeps.
    async fn rounds_kept(&self, store: &Self::Store, scope: &Scope) -> i64;
}

/// sync-core's in-memory store: a "reopen" is the same store.
#[derive(Default)]
struct MemoryHarness {
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
struct SqliteHarness {
    dir: TempDir,
}

impl SqliteHarness {
    fn new(test: &str) -> Self {
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
                    super::rows::collection_text(scope.collection),
                ],
                |r| r.get(0),
            )
            .expect("count the rounds")
    }
}

/// The PostgreSQL tests' database when `RAYNET_SYNC_TEST_POSTGRES` is not set.
const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh schema in the test database, dropped by [`PgHarness::finish`].
struct PgHarness {
    /// The database's URL, as configured (no `schema=`).
    base: String,
    /// The same with `schema=` this harness's schema.
    url: String,
    /// The schema: unique per test and run.
    schema: String,
}

impl PgHarness {
    /// A harness for `test`, or `None` (after saying so on stderr) when PostgreSQL cannot be
    /// reached outside CI. In CI (`CI=true`) an unreachable PostgreSQL fails the test.
    async fn new(test: &str) -> Option<Self> {
        let base = reachable_postgres(test).await?;
        let short: String = test.chars().take(24).collect();
        let schema = format!("t_{short}_{:08x}", rand::random::<u32>());
        let url = with_schema(&base, &schema);
        Some(Self { base, url, schema })
    }

    /// A connection of its own to the database (outside the store's pool).
    async fn admin(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.base, tokio_postgres::NoTls)
            .await
            .expect("an admin connection");
        tokio::spawn(connection);
        client
    }

    /// Drops the schema (best effort), then goes on with the test's panic, if it had one.
    async fn finish(self, outcome: Result<(), Box<dyn Any + Send>>) {
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
                    &super::rows::collection_text(scope.collection),
                ],
            )
            .await
            .expect("count the rounds")
            .get(0)
    }
}

/// The test database's URL when it answers. When it does not: `None` after a skip message on
/// stderr, or a panic when `CI=true`.
async fn reachable_postgres(test: &str) -> Option<String> {
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
fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}schema={schema}")
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

fn scope() -> Scope {
    Scope::new("acme", "jana@acme.cz", Collection::Calendar)
}

fn event(title: &str) -> Event {
    let start = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
    Event::new(
        title,
        Schedule::Timed {
            start,
            end: start + chrono::Duration::hours(1),
        },
    )
}

fn side(id: &str, title: &str) -> SideRecord<Event> {
    SideRecord {
        id: RemoteId::new(id).unwrap(),
        version: Version::new(format!("v-{id}")).unwrap(),
        base: event(title),
    }
}

fn pair(r: &str, o: &str) -> PairRecord<Event> {
    PairRecord {
        raynet: Some(side(r, "Kickoff")),
        outlook: Some(side(o, "Kickoff")),
        origin: Side::Raynet,
    }
}

fn contact_pair(r: &str, o: &str) -> PairRecord<Contact> {
    let contact = |id: &str| {
        let c = Contact {
            given_name: "Petr".into(),
            surname: "Svoboda".into(),
            emails: vec![Email::new("petr@svoboda.cz").unwrap()],
            ..Contact::default()
        };
        SideRecord {
            id: RemoteId::new(id).unwrap(),
            version: Version::new(format!("v-{id}")).unwrap(),
            base: c,
        }
    };
    PairRecord {
        raynet: Some(contact(r)),
        outlook: Some(contact(o)),
        origin: Side::Outlook,
    }
}

fn pending(key: &str) -> PendingCreate<Event> {
    PendingCreate {
        key: IdempotencyKey::new(key).unwrap(),
        target: Side::Outlook,
        pair: None,
        record: PairRecord {
            raynet: Some(side("42", "Kickoff")),
            outlook: None,
            origin: Side::Raynet,
        },
        item: event("Kickoff"),
    }
}

fn summary(planned_writes: usize) -> RoundSummary {
    RoundSummary {
        scope: String::new(),
        dry_run: false,
        clean: true,
        planned_writes,
        created: SideCounts::default(),
        updated: SideCounts::default(),
        deleted: SideCounts::default(),
        recorded: 0,
        recovered: 0,
        conflicts: 0,
        conflict_details: Vec::new(),
        skipped: 0,
        failures: Vec::new(),
        guard: None,
    }
}

fn note(member: &str, collection: Collection, noted: Noted) -> PushNote {
    PushNote {
        member: member.parse().unwrap(),
        collection,
        noted,
        received_at: Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap(),
    }
}

fn email(s: &str) -> Email {
    s.parse().unwrap()
}

async fn load<S: TenantStore + ?Sized>(store: &S, scope: &Scope) -> StoredState<Event> {
    store.calendar().load(scope).await.unwrap()
}

/// Resolves the pending create `key` of [`scope`] by storing `pair` as a new pair.
async fn resolve<S: TenantStore + ?Sized>(
    store: &S,
    key: &str,
    pair: &PairRecord<Event>,
) -> Result<Option<PairId>, StoreError> {
    let key = IdempotencyKey::new(key).unwrap();
    store
        .calendar()
        .resolve_pending(&scope(), &key, None, Some(pair))
        .await
}

async fn put_cursor<S: TenantStore + ?Sized>(store: &S, scope: &Scope, side: Side, v: &str) {
    let cursor = Cursor::new(v).unwrap();
    match scope.collection {
        Collection::Calendar => {
            store
                .calendar()
                .put_cursor(scope, side, Some(&cursor))
                .await
        }
        Collection::Contacts => {
            store
                .contacts()
                .put_cursor(scope, side, Some(&cursor))
                .await
        }
    }
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// StateStore and TenantStore: every store
// ---------------------------------------------------------------------------------------------

async fn every_method_round_trips_and_survives_reopen<H: Harness>(harness: &H) {
    let store = harness.open().await;
    let cal = store.calendar();
    assert_eq!(load(&*store, &scope()).await, StoredState::default());
    assert!(cal.scopes().await.unwrap().is_empty());

    let a = cal.put_pair(&scope(), None, &pair("1", "A")).await.unwrap();
    let b = cal.put_pair(&scope(), None, &pair("2", "B")).await.unwrap();
    assert_ne!(a, b);
    let mut changed = pair("1", "A");
    changed.outlook = Some(side("A2", "Kickoff moved"));
    assert_eq!(cal.put_pair(&scope(), Some(a), &changed).await.unwrap(), a);
    cal.remove_pair(&scope(), b).await.unwrap();

    let cursor = Cursor::new("delta-token-1").unwrap();
    cal.put_cursor(&scope(), Side::Outlook, Some(&cursor))
        .await
        .unwrap();
    let c2 = Cursor::new("watermark").unwrap();
    cal.put_cursor(&scope(), Side::Raynet, Some(&c2))
        .await
        .unwrap();
    cal.put_cursor(&scope(), Side::Raynet, None).await.unwrap();

    cal.add_pending(&scope(), &pending("r-1")).await.unwrap();
    cal.add_pending(&scope(), &pending("r-2")).await.unwrap();
    cal.add_pending(&scope(), &pending("r-1")).await.unwrap();

    let check = |s: StoredState<Event>| {
        assert_eq!(s.pairs.len(), 1);
        assert_eq!(s.pairs.get(&a), Some(&changed));
        assert_eq!(s.cursors.len(), 1);
        assert_eq!(s.cursors[&Side::Outlook], cursor);
        let keys: Vec<_> = s
            .pending
            .iter()
            .map(|p| p.key.as_str().to_owned())
            .collect();
        assert_eq!(keys, ["r-2", "r-1"], "re-adding a key moves it to the end");
        assert_eq!(s.pending[1], pending("r-1"));
    };
    check(load(&*store, &scope()).await);
    drop(store);

    let store = harness.open().await;
    let cal = store.calendar();
    check(load(&*store, &scope()).await);
    assert_eq!(cal.scopes().await.unwrap(), vec![scope()]);

    let c = resolve(&*store, "r-2", &pair("3", "C"))
        .await
        .unwrap()
        .unwrap();
    assert!(c > b, "pair ids are never reused");
    let none = cal
        .resolve_pending(&scope(), &IdempotencyKey::new("r-1").unwrap(), None, None)
        .await
        .unwrap();
    assert_eq!(none, None);
    let s = load(&*store, &scope()).await;
    assert!(s.pending.is_empty());
    assert_eq!(s.pairs.len(), 2);
    assert_eq!(s.pairs.get(&c), Some(&pair("3", "C")));
    // Resolving into a pair id the store handed out replaces that pair.
    let again = cal
        .resolve_pending(
            &scope(),
            &IdempotencyKey::new("r-gone").unwrap(),
            Some(c),
            Some(&pair("3", "C2")),
        )
        .await
        .unwrap();
    assert_eq!(again, Some(c));
    assert_eq!(
        load(&*store, &scope()).await.pairs.get(&c),
        Some(&pair("3", "C2"))
    );
}

async fn contacts_are_kept_beside_events<H: Harness>(h: &H) {
    let store = h.open().await;
    let contacts = Scope::new("acme", "jana@acme.cz", Collection::Contacts);
    let id = store
        .contacts()
        .put_pair(&contacts, None, &contact_pair("c-1", "C-1"))
        .await
        .unwrap();
    store
        .calendar()
        .put_pair(&scope(), None, &pair("1", "A"))
        .await
        .unwrap();
    drop(store);
    let store = h.open().await;
    let kept = store.contacts().load(&contacts).await.unwrap();
    assert_eq!(kept.pairs.len(), 1);
    assert_eq!(kept.pairs.get(&id), Some(&contact_pair("c-1", "C-1")));
    assert_eq!(load(&*store, &scope()).await.pairs.len(), 1, "the events");
    assert_eq!(
        store
            .recorded_version(&contacts, Side::Outlook, &RemoteId::new("C-1").unwrap())
            .await
            .unwrap(),
        Some(Version::new("v-C-1").unwrap())
    );
}

async fn scopes_are_kept_apart<H: Harness>(h: &H) {
    let store = h.open().await;
    let cal = store.calendar();
    let other = Scope::new("acme", "petr@acme.cz", Collection::Calendar);
    let a = cal.put_pair(&scope(), None, &pair("1", "A")).await.unwrap();
    cal.add_pending(&scope(), &pending("r-1")).await.unwrap();
    put_cursor(&*store, &scope(), Side::Raynet, "r1").await;
    cal.remove_pair(&other, a).await.unwrap();
    assert_eq!(
        load(&*store, &scope()).await.pairs.len(),
        1,
        "removing an id through another scope removes nothing"
    );
    let o = load(&*store, &other).await;
    assert_eq!(
        o,
        StoredState::default(),
        "nothing of jana's shows in petr's"
    );
}

async fn a_crash_inside_resolve_pending_leaves_the_old_state<H: Harness>(h: &H) {
    let store = h.open().await;
    store
        .calendar()
        .add_pending(&scope(), &pending("r-42"))
        .await
        .unwrap();
    h.crash_next_resolve(&store);
    let res = resolve(&*store, "r-42", &pair("42", "X")).await;
    assert!(res.is_err(), "{res:?}");
    h.heal(&store);
    drop(store);

    let store = h.open().await;
    let s = load(&*store, &scope()).await;
    assert_eq!(s.pending.len(), 1, "the pending create is still there");
    assert!(s.pairs.is_empty(), "and no pair was stored");
    resolve(&*store, "r-42", &pair("42", "X")).await.unwrap();
    let s = load(&*store, &scope()).await;
    assert!(s.pending.is_empty());
    assert_eq!(s.pairs.len(), 1, "exactly one pair after the retry");
}

async fn tenant_cursors_list_one_tenants_cursors<H: Harness>(h: &H) {
    let store = h.open().await;
    assert!(store.cursors("acme").await.unwrap().is_empty());
    let jana = Scope::new("acme", "jana@acme.test", Collection::Calendar);
    let petr = Scope::new("acme", "petr@acme.test", Collection::Contacts);
    let other = Scope::new("other", "jana@acme.test", Collection::Calendar);
    put_cursor(&*store, &jana, Side::Raynet, "r1").await;
    put_cursor(&*store, &jana, Side::Outlook, "o1").await;
    put_cursor(&*store, &petr, Side::Raynet, "r2").await;
    put_cursor(&*store, &other, Side::Raynet, "x").await;
    let mut got: Vec<(Scope, Side, String)> = store
        .cursors("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|(s, side, c)| (s, side, c.as_str().to_owned()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (jana.clone(), Side::Raynet, "r1".to_owned()),
            (jana, Side::Outlook, "o1".to_owned()),
            (petr, Side::Raynet, "r2".to_owned()),
        ],
        "acme's three, not the other tenant's"
    );
}

async fn pair_counts_count_each_scope_of_a_tenant<H: Harness>(h: &H) {
    let store = h.open().await;
    let jana = scope();
    let petr = Scope::new("acme", "petr@acme.cz", Collection::Contacts);
    let eva = Scope::new("acme", "eva@acme.cz", Collection::Calendar);
    let other = Scope::new("other", "jana@acme.cz", Collection::Calendar);
    let cal = store.calendar();
    cal.put_pair(&jana, None, &pair("1", "A")).await.unwrap();
    cal.put_pair(&jana, None, &pair("2", "B")).await.unwrap();
    store
        .contacts()
        .put_pair(&petr, None, &contact_pair("c-1", "C-1"))
        .await
        .unwrap();
    let gone = cal.put_pair(&eva, None, &pair("3", "C")).await.unwrap();
    cal.remove_pair(&eva, gone).await.unwrap();
    cal.put_pair(&other, None, &pair("9", "Z")).await.unwrap();
    let mut counts = store.pair_counts("acme").await.unwrap();
    counts.sort();
    assert_eq!(counts, [(eva, 0), (jana, 2), (petr, 1)]);
    assert_eq!(store.pair_counts("other").await.unwrap(), [(other, 1)]);
    assert!(store.pair_counts("nobody").await.unwrap().is_empty());
}

async fn recorded_version_finds_an_items_pair<H: Harness>(h: &H) {
    let store = h.open().await;
    let id = |s: &str| RemoteId::new(s).unwrap();
    let petr = Scope::new("acme", "petr@acme.cz", Collection::Calendar);
    store
        .calendar()
        .put_pair(&scope(), None, &pair("1", "A"))
        .await
        .unwrap();
    let version = |scope: Scope, side: Side, item: &str| {
        let store = Arc::clone(&store);
        let item = id(item);
        async move { store.recorded_version(&scope, side, &item).await.unwrap() }
    };
    assert_eq!(
        version(scope(), Side::Raynet, "1").await,
        Some(Version::new("v-1").unwrap())
    );
    assert_eq!(
        version(scope(), Side::Outlook, "A").await,
        Some(Version::new("v-A").unwrap())
    );
    assert_eq!(
        version(scope(), Side::Outlook, "1").await,
        None,
        "wrong side"
    );
    assert_eq!(version(scope(), Side::Raynet, "2").await, None, "unknown");
    assert_eq!(
        version(petr, Side::Raynet, "1").await,
        None,
        "another member"
    );
}

async fn scopes_holding_lists_the_members_whose_pairs_hold_an_item<H: Harness>(h: &H) {
    let store = h.open().await;
    let cal = store.calendar();
    let member = |m: &str| Scope::new("acme", m, Collection::Calendar);
    // A meeting in three calendars (Raynet id 7), another one elsewhere.
    cal.put_pair(&member("petr@acme.cz"), None, &pair("7", "P7"))
        .await
        .unwrap();
    cal.put_pair(&member("jana@acme.cz"), None, &pair("7", "J7"))
        .await
        .unwrap();
    cal.put_pair(&member("eva@acme.cz"), None, &pair("8", "E8"))
        .await
        .unwrap();
    cal.put_pair(
        &Scope::new("other", "jana@acme.cz", Collection::Calendar),
        None,
        &pair("7", "X7"),
    )
    .await
    .unwrap();
    store
        .contacts()
        .put_pair(
            &Scope::new("acme", "eva@acme.cz", Collection::Contacts),
            None,
            &contact_pair("7", "C7"),
        )
        .await
        .unwrap();
    let holding = |side: Side, item: &str| {
        let store = Arc::clone(&store);
        let item = RemoteId::new(item).unwrap();
        async move {
            store
                .scopes_holding("acme", Collection::Calendar, side, &item)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        holding(Side::Raynet, "7").await,
        [member("jana@acme.cz"), member("petr@acme.cz")],
        "acme's calendars only, ordered by member"
    );
    assert_eq!(holding(Side::Outlook, "J7").await, [member("jana@acme.cz")]);
    assert!(holding(Side::Outlook, "7").await.is_empty(), "wrong side");
}

async fn two_instances_share_the_state<H: Harness>(h: &H) {
    let one = h.open().await;
    let two = h.open().await;
    one.calendar()
        .put_pair(&scope(), None, &pair("1", "A"))
        .await
        .unwrap();
    two.calendar()
        .put_pair(&scope(), None, &pair("2", "B"))
        .await
        .unwrap();
    assert_eq!(load(&*one, &scope()).await.pairs.len(), 2);
    assert_eq!(two.pair_counts("acme").await.unwrap(), [(scope(), 2)]);
}

// ---------------------------------------------------------------------------------------------
// ServiceStore: SQLite and PostgreSQL
// ---------------------------------------------------------------------------------------------

async fn a_pair_id_of_one_scope_cannot_be_written_in_another<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let cal = store.calendar();
    let other = Scope::new("acme", "petr@acme.cz", Collection::Calendar);
    let a = cal.put_pair(&scope(), None, &pair("1", "A")).await.unwrap();
    let err = cal.put_pair(&other, Some(a), &pair("1", "B")).await;
    assert!(err.is_err(), "{err:?}");
    assert_eq!(
        load(&*store, &scope()).await.pairs.get(&a),
        Some(&pair("1", "A"))
    );
    assert!(load(&*store, &other).await.pairs.is_empty());
}

async fn status_counts_and_last_rounds<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    assert!(store.status().await.unwrap().is_empty());
    store
        .calendar()
        .put_pair(&scope(), None, &pair("1", "A"))
        .await
        .unwrap();
    store
        .calendar()
        .add_pending(&scope(), &pending("r-9"))
        .await
        .unwrap();
    put_cursor(&*store, &scope(), Side::Outlook, "o1").await;
    let contacts = Scope::new("acme", "jana@acme.cz", Collection::Contacts);
    for n in 0..60 {
        store.record_round(&scope(), &summary(n)).await.unwrap();
    }
    store.record_round(&contacts, &summary(1000)).await.unwrap();
    let st = store.status().await.unwrap();
    assert_eq!(st.len(), 2, "{st:?}");
    assert_eq!(st[0].scope, scope());
    assert_eq!((st[0].pairs, st[0].pending, st[0].cursors), (1, 1, 1));
    let last = st[0].last_round.as_ref().unwrap();
    assert_eq!(last.scope, scope());
    assert_eq!(last.summary["planned_writes"], 59, "the last one recorded");
    assert_eq!(st[1].scope, contacts);
    assert_eq!((st[1].pairs, st[1].pending, st[1].cursors), (0, 0, 0));
    assert_eq!(
        st[1].last_round.as_ref().unwrap().summary["planned_writes"],
        1000
    );
    assert_eq!(h.rounds_kept(&store, &scope()).await, ROUNDS_KEPT, "pruned");
    assert_eq!(h.rounds_kept(&store, &contacts).await, 1);
}

async fn push_notes_survive_a_reopen_until_their_round_ran<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let gone = Noted::Deleted(Side::Raynet, RemoteId::new("m-7").unwrap());
    let first = store
        .add_push_note(
            "acme",
            &note(
                "jana@acme.cz",
                Collection::Calendar,
                Noted::Changed(Side::Outlook),
            ),
        )
        .await
        .unwrap();
    let last = store
        .add_push_note(
            "acme",
            &note("petr@acme.cz", Collection::Calendar, gone.clone()),
        )
        .await
        .unwrap();
    assert!(last > first, "ids grow");
    store
        .add_push_note(
            "other",
            &note("jana@acme.cz", Collection::Calendar, Noted::CatchUp),
        )
        .await
        .unwrap();
    drop(store);
    let store = h.open().await;
    let kept = store.push_notes("acme").await.unwrap();
    assert_eq!(
        kept,
        [
            (
                first,
                note(
                    "jana@acme.cz",
                    Collection::Calendar,
                    Noted::Changed(Side::Outlook)
                )
            ),
            (last, note("petr@acme.cz", Collection::Calendar, gone)),
        ],
        "every field kept, oldest first"
    );
    let jana = (email("jana@acme.cz"), Collection::Calendar);
    store
        .drop_push_notes("acme", last, Some(&[jana]))
        .await
        .unwrap();
    assert_eq!(
        store.push_notes("acme").await.unwrap().len(),
        1,
        "petr's note waits"
    );
    store.drop_push_notes("acme", last, None).await.unwrap();
    assert!(store.push_notes("acme").await.unwrap().is_empty());
    let other = store.push_notes("other").await.unwrap();
    assert_eq!(other.len(), 1, "tenants kept apart");
    assert_eq!(other[0].1.noted, Noted::CatchUp);
}

async fn dropping_notes_forgets_only_the_handled_ones<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let add = |member: &'static str, collection: Collection| {
        let store = Arc::clone(&store);
        async move {
            store
                .add_push_note(
                    "acme",
                    &note(member, collection, Noted::Changed(Side::Raynet)),
                )
                .await
                .unwrap()
        }
    };
    let jana_cal = add("jana@acme.cz", Collection::Calendar).await;
    let jana_con = add("jana@acme.cz", Collection::Contacts).await;
    let petr_cal = add("petr@acme.cz", Collection::Calendar).await;
    let upto = add("eva@acme.cz", Collection::Calendar).await;
    let later = add("jana@acme.cz", Collection::Calendar).await;
    let ids = |store: Arc<H::Store>| async move {
        store
            .push_notes("acme")
            .await
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
    };
    store
        .drop_push_notes("acme", upto, Some(&[]))
        .await
        .unwrap();
    assert_eq!(ids(Arc::clone(&store)).await.len(), 5, "nothing handled");
    let handled = [
        (email("jana@acme.cz"), Collection::Calendar),
        (email("petr@acme.cz"), Collection::Calendar),
    ];
    store
        .drop_push_notes("acme", upto, Some(&handled))
        .await
        .unwrap();
    assert_eq!(
        ids(Arc::clone(&store)).await,
        [jana_con, upto, later],
        "jana's contacts, eva's, and the note after `upto` wait"
    );
    assert!(!ids(Arc::clone(&store)).await.contains(&jana_cal));
    assert!(!ids(Arc::clone(&store)).await.contains(&petr_cal));
    store.drop_push_notes("acme", upto, None).await.unwrap();
    assert_eq!(ids(Arc::clone(&store)).await, [later], "all up to `upto`");
}

async fn a_generated_secret_is_kept_and_the_same_for_concurrent_callers<H: ServiceHarness>(h: &H) {
    let one = h.open().await;
    let two = h.open().await;
    let (a, b) = tokio::join!(
        one.push_secret("acme", "client_state"),
        two.push_secret("acme", "client_state")
    );
    let first = a.unwrap();
    assert_eq!(b.unwrap(), first, "both callers get the one kept");
    assert_eq!(first.expose().len(), 64);
    assert_eq!(
        one.push_secret("acme", "client_state").await.unwrap(),
        first
    );
    assert_ne!(
        one.push_secret("acme", "webhook_token").await.unwrap(),
        first
    );
    assert_ne!(
        one.push_secret("other", "client_state").await.unwrap(),
        first
    );
    drop((one, two));
    let again = h.open().await;
    assert_eq!(
        again.push_secret("acme", "client_state").await.unwrap(),
        first,
        "kept across a reopen"
    );
}

async fn subscriptions_are_kept_and_forgotten<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let jana = email("jana@acme.cz");
    let petr = email("petr@acme.cz");
    store
        .keep_subscription("acme", &jana, Collection::Calendar, Some("{\"id\":\"a\"}"))
        .await
        .unwrap();
    store
        .keep_subscription("acme", &jana, Collection::Calendar, Some("{\"id\":\"b\"}"))
        .await
        .unwrap();
    store
        .keep_subscription("acme", &petr, Collection::Contacts, Some("{\"id\":\"p\"}"))
        .await
        .unwrap();
    store
        .keep_subscription("other", &jana, Collection::Calendar, Some("{\"id\":\"o\"}"))
        .await
        .unwrap();
    drop(store);
    let store = h.open().await;
    assert_eq!(
        store.kept_subscriptions("acme").await.unwrap(),
        [
            (
                jana.clone(),
                Collection::Calendar,
                "{\"id\":\"b\"}".to_owned()
            ),
            (
                petr.clone(),
                Collection::Contacts,
                "{\"id\":\"p\"}".to_owned()
            ),
        ]
    );
    store
        .keep_subscription("acme", &jana, Collection::Calendar, None)
        .await
        .unwrap();
    assert_eq!(
        store.kept_subscriptions("acme").await.unwrap(),
        [(petr, Collection::Contacts, "{\"id\":\"p\"}".to_owned())]
    );
    assert_eq!(store.kept_subscriptions("other").await.unwrap().len(), 1);
}

const HOUR: Duration = Duration::from_secs(3600);

fn held(taken: LeaseTaken) -> super::Lease {
    match taken {
        LeaseTaken::Held(lease) => lease,
        LeaseTaken::HeldBy(lease) => panic!("expected to hold it, but {lease:?}"),
    }
}

fn held_by(taken: LeaseTaken) -> super::Lease {
    match taken {
        LeaseTaken::HeldBy(lease) => lease,
        LeaseTaken::Held(lease) => panic!("expected to be refused, but got {lease:?}"),
    }
}

async fn a_lease_is_taken_and_renewed_with_its_epoch<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    assert!(store.leases().await.unwrap().is_empty());
    let first = held(
        store
            .take_lease("member:acme:jana", "w1", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(
        (first.name.as_str(), first.holder.as_str(), first.epoch),
        ("member:acme:jana", "w1", 1)
    );
    let renewed = held(
        store
            .take_lease("member:acme:jana", "w1", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(renewed.epoch, 1, "a renewal keeps the epoch");
    assert!(
        renewed.expires_at >= first.expires_at,
        "and moves the expiry"
    );
    held(store.take_lease("keeper:acme", "w2", HOUR).await.unwrap());
    drop(store);
    let store = h.open().await;
    let all = store.leases().await.unwrap();
    let names: Vec<_> = all
        .iter()
        .map(|l| (l.name.as_str(), l.holder.as_str()))
        .collect();
    assert_eq!(
        names,
        [("keeper:acme", "w2"), ("member:acme:jana", "w1")],
        "ordered by name, kept across a reopen"
    );
    assert_eq!(all[1], renewed);
}

async fn a_live_lease_of_another_holder_is_refused_until_it_lapses<H: ServiceHarness>(h: &H) {
    let one = h.open().await;
    let two = h.open().await;
    let w1 = held(
        one.take_lease("member:acme:jana", "w1", HOUR)
            .await
            .unwrap(),
    );
    let refused = held_by(
        two.take_lease("member:acme:jana", "w2", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(refused, w1, "the refusal names the live lease");
    // w1 renews for no time at all: its lease has lapsed when w2 asks next.
    let lapsed = held(
        one.take_lease("member:acme:jana", "w1", Duration::ZERO)
            .await
            .unwrap(),
    );
    assert_eq!(lapsed.epoch, 1, "still w1's own lease");
    let w2 = held(
        two.take_lease("member:acme:jana", "w2", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(
        (w2.holder.as_str(), w2.epoch),
        ("w2", 2),
        "taken over: one more"
    );
    let back = held_by(
        one.take_lease("member:acme:jana", "w1", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(back, w2);
    // A lapsed lease taken again by its own holder counts as a new holding too.
    held(
        two.take_lease("member:acme:jana", "w2", Duration::ZERO)
            .await
            .unwrap(),
    );
    let again = held(
        two.take_lease("member:acme:jana", "w2", HOUR)
            .await
            .unwrap(),
    );
    assert_eq!(again.epoch, 3);
}

async fn a_released_lease_can_be_taken_at_once<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    held(store.take_lease("keeper:acme", "w1", HOUR).await.unwrap());
    store.release_lease("keeper:acme", "w2").await.unwrap();
    held_by(store.take_lease("keeper:acme", "w2", HOUR).await.unwrap());
    store.release_lease("keeper:acme", "w1").await.unwrap();
    let kept = store.leases().await.unwrap();
    assert_eq!(kept.len(), 1, "released, not forgotten");
    assert_eq!(kept[0].epoch, 1);
    let w2 = held(store.take_lease("keeper:acme", "w2", HOUR).await.unwrap());
    assert_eq!((w2.holder.as_str(), w2.epoch), ("w2", 2));
    store.release_lease("nothing", "w1").await.unwrap();
    assert_eq!(store.leases().await.unwrap().len(), 1);
}

async fn freshness_is_the_last_clean_round_of_each_scope<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let petr = Scope::new("acme", "petr@acme.cz", Collection::Calendar);
    let other = Scope::new("other", "jana@acme.cz", Collection::Calendar);
    assert!(store.last_clean_rounds("acme").await.unwrap().is_empty());
    let before = Utc::now() - chrono::Duration::seconds(5);
    store.record_round(&scope(), &summary(1)).await.unwrap();
    let first = store.last_clean_rounds("acme").await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, scope());
    assert!(first[0].1 >= before, "{first:?}");
    // A failed round later does not make the scope fresher.
    let mut failed = summary(2);
    failed.clean = false;
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.record_round(&scope(), &failed).await.unwrap();
    // Petr's only round failed: he has no clean round to show.
    store.record_round(&petr, &failed).await.unwrap();
    store.record_round(&other, &summary(1)).await.unwrap();
    let after = store.last_clean_rounds("acme").await.unwrap();
    assert_eq!(after, first, "only clean rounds count, only this tenant's");
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.record_round(&scope(), &summary(3)).await.unwrap();
    let fresher = store.last_clean_rounds("acme").await.unwrap();
    assert!(fresher[0].1 > first[0].1, "{fresher:?} after {first:?}");
}

async fn push_secrets_are_listed_and_replaced<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    assert!(store.push_secrets("acme").await.unwrap().is_empty());
    let generated = store.push_secret("acme", "client_state").await.unwrap();
    store
        .put_push_secret("acme", "webhook_token", &Secret::new("tok-1"))
        .await
        .unwrap();
    store
        .put_push_secret("other", "webhook_token", &Secret::new("tok-x"))
        .await
        .unwrap();
    let listed = store.push_secrets("acme").await.unwrap();
    assert_eq!(
        listed,
        vec![
            ("client_state".to_owned(), generated),
            ("webhook_token".to_owned(), Secret::new("tok-1")),
        ]
    );
    store
        .put_push_secret("acme", "webhook_token", &Secret::new("tok-2"))
        .await
        .unwrap();
    assert_eq!(
        store.push_secret("acme", "webhook_token").await.unwrap(),
        Secret::new("tok-2"),
        "replaced, and the kept one is served"
    );
}

async fn member_rounds_are_logged_from_start_to_end<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let jana = Email::new("jana@acme.cz").unwrap();
    let petr = Email::new("petr@acme.cz").unwrap();
    let ids = store
        .begin_member_rounds("acme", &[jana.clone(), petr.clone()], "w1")
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    let other = store
        .begin_member_rounds("other", std::slice::from_ref(&jana), "w2")
        .await
        .unwrap();
    let running = store.member_rounds("acme").await.unwrap();
    assert_eq!(running.len(), 2);
    assert!(
        running
            .iter()
            .all(|r| r.finished_at.is_none() && r.worker == "w1")
    );
    store.end_member_rounds(&ids[..1]).await.unwrap();
    let logged = store.member_rounds("acme").await.unwrap();
    assert_eq!(logged[0].member, "jana@acme.cz");
    let finished = logged[0].finished_at.expect("ended");
    assert!(finished >= logged[0].started_at);
    assert!(logged[1].finished_at.is_none(), "petr's round still runs");
    assert_eq!(store.member_rounds("other").await.unwrap()[0].id, other[0]);
}

async fn a_copy_moves_everything_and_refuses_a_target_holding_the_tenant<H: ServiceHarness>(h: &H) {
    let dir = TempDir::new("conformance-copy");
    let source = SqliteStore::open(&dir.path().join("source.db")).expect("open the source");
    let cal = source.calendar();
    let a = cal.put_pair(&scope(), None, &pair("1", "A")).await.unwrap();
    let b = cal.put_pair(&scope(), None, &pair("2", "B")).await.unwrap();
    cal.remove_pair(&scope(), a).await.unwrap();
    let mut re_create = pending("r-9");
    re_create.pair = Some(b);
    cal.add_pending(&scope(), &re_create).await.unwrap();
    cal.put_cursor(
        &scope(),
        Side::Outlook,
        Some(&Cursor::new("delta-1").unwrap()),
    )
    .await
    .unwrap();
    ServiceStore::add_push_note(
        &source,
        &scope().tenant,
        &note("jana@acme.cz", Collection::Calendar, Noted::CatchUp),
    )
    .await
    .unwrap();
    let jana = Email::new("jana@acme.cz").unwrap();
    ServiceStore::keep_subscription(
        &source,
        &scope().tenant,
        &jana,
        Collection::Calendar,
        Some("{\"id\":\"sub-1\"}"),
    )
    .await
    .unwrap();
    let secret = ServiceStore::push_secret(&source, &scope().tenant, "client_state")
        .await
        .unwrap();

    let target = h.open().await;
    let report = super::copy_state(&source, &*target).await.unwrap();
    assert_eq!(
        (report.scopes, report.pairs, report.pending, report.cursors),
        (1, 1, 1, 1)
    );
    assert_eq!(
        (report.notes, report.subscriptions, report.secrets),
        (1, 1, 1)
    );
    let copied = load(&*target, &scope()).await;
    assert_eq!(copied.pairs.len(), 1);
    let (new_b, pair_b) = copied.pairs.iter().next().unwrap();
    assert_eq!(pair_b, &pair("2", "B"));
    assert_eq!(copied.pending.len(), 1);
    assert_eq!(
        copied.pending[0].pair,
        Some(*new_b),
        "the pending create follows its pair"
    );
    assert_eq!(copied.cursors[&Side::Outlook].as_str(), "delta-1");
    assert_eq!(target.push_notes(&scope().tenant).await.unwrap().len(), 1);
    assert_eq!(
        target
            .kept_subscriptions(&scope().tenant)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        target
            .push_secret(&scope().tenant, "client_state")
            .await
            .unwrap(),
        secret,
        "the subscriptions' clientState moves with them"
    );

    // A second copy would merge two histories: refused, nothing written.
    let again = super::copy_state(&source, &*target).await;
    assert!(
        matches!(again, Err(super::CopyError::TargetHoldsTenant { .. })),
        "{again:?}"
    );
    assert_eq!(load(&*target, &scope()).await.pairs.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// The audit trail: both ServiceStores
// ---------------------------------------------------------------------------------------------

/// An audit entry of the item `raynet`/`outlook` titled `label`, ruled by `rule`.
fn audit_entry(rule: StepRule, label: &str, raynet: &str, outlook: Option<&str>) -> AuditEntry {
    let outlook = outlook.map(|o| RemoteId::new(o).unwrap());
    AuditEntry {
        rule,
        reason: rule.phrase().into(),
        pair: Some(PairId::from_store(5)),
        label: label.to_owned(),
        raynet_id: Some(RemoteId::new(raynet).unwrap()),
        outlook_id: outlook.clone(),
        writes: vec![AuditWrite {
            side: Side::Outlook,
            action: WriteAction::Update,
            id: outlook,
            changes: vec![FieldChange {
                field: "location".into(),
                from: "Praha".into(),
                to: "Brno".into(),
            }],
            done: true,
        }],
        conflicts: vec![AuditConflict {
            field: "location".into(),
            winner: Side::Raynet,
            rule: ConflictRule::Latest,
        }],
        error: None,
    }
}

/// A round report of `scope` holding `entries`.
fn audited(scope: &Scope, entries: Vec<AuditEntry>) -> RoundReport {
    let mut r = RoundReport::new(scope.clone(), false);
    r.audit = entries;
    r
}

async fn the_audit_trail_finds_an_items_entries_by_id_and_title<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 14, 3, 0).unwrap();
    let t1 = t0 + chrono::Duration::minutes(15);
    let petr = Scope::new("acme", "petr@acme.cz", Collection::Contacts);
    let first = [
        audited(
            &scope(),
            vec![
                audit_entry(
                    StepRule::NewInRaynet,
                    "Porada s Acme",
                    "42",
                    Some("AAMk-42"),
                ),
                audit_entry(
                    StepRule::NewInRaynet,
                    "Žluťoučký kůň",
                    "43",
                    Some("AAMk-43"),
                ),
            ],
        ),
        audited(
            &petr,
            vec![audit_entry(
                StepRule::NewInSource,
                "Petr Svoboda",
                "7",
                None,
            )],
        ),
    ];
    assert_eq!(store.record_audit("acme", t0, &first).await.unwrap(), 3);
    let edited = audit_entry(
        StepRule::ChangedOnBothSides,
        "Porada s Acme",
        "42",
        Some("AAMk-42"),
    );
    store
        .record_audit("acme", t1, &[audited(&scope(), vec![edited.clone()])])
        .await
        .unwrap();
    let other = Scope::new("other", "jana@acme.cz", Collection::Calendar);
    store
        .record_audit(
            "other",
            t1,
            &[audited(
                &other,
                vec![audit_entry(
                    StepRule::NewInOutlook,
                    "Porada",
                    "42",
                    Some("AAMk-x"),
                )],
            )],
        )
        .await
        .unwrap();
    // Reopened: the trail is kept.
    drop(store);
    let store = h.open().await;

    let by_id = store
        .find_audit(Some("acme"), AuditMatch::RaynetId("42"), 100)
        .await
        .unwrap();
    assert_eq!(by_id.len(), 2, "{by_id:?}");
    assert_eq!(by_id[0].entry.rule, StepRule::NewInRaynet, "oldest first");
    assert_eq!(by_id[1].entry, edited, "the entry as recorded");
    assert_eq!((by_id[0].at, by_id[1].at), (t0, t1));
    assert!(by_id[0].id < by_id[1].id);
    assert_eq!(
        (
            by_id[1].tenant.as_str(),
            by_id[1].member.as_str(),
            by_id[1].collection
        ),
        ("acme", "jana@acme.cz", Collection::Calendar)
    );
    let every_tenant = store
        .find_audit(None, AuditMatch::RaynetId("42"), 100)
        .await
        .unwrap();
    assert_eq!(every_tenant.len(), 3, "without a tenant: every tenant's");
    let by_outlook = store
        .find_audit(None, AuditMatch::OutlookId("AAMk-43"), 100)
        .await
        .unwrap();
    assert_eq!(by_outlook.len(), 1);
    assert_eq!(by_outlook[0].entry.label, "Žluťoučký kůň");
    assert!(
        store
            .find_audit(None, AuditMatch::RaynetId("4"), 100)
            .await
            .unwrap()
            .is_empty(),
        "ids match exactly"
    );
    let contacts = store
        .find_audit(Some("acme"), AuditMatch::RaynetId("7"), 100)
        .await
        .unwrap();
    assert_eq!(
        (
            contacts[0].member.as_str(),
            contacts[0].collection,
            contacts[0].entry.outlook_id.clone()
        ),
        ("petr@acme.cz", Collection::Contacts, None)
    );

    let by_title = store
        .find_audit(Some("acme"), AuditMatch::Title("PORADA"), 100)
        .await
        .unwrap();
    assert_eq!(
        by_title.len(),
        2,
        "case-insensitive, one tenant: {by_title:?}"
    );
    let accented = store
        .find_audit(None, AuditMatch::Title("ŽLUŤOUČKÝ"), 100)
        .await
        .unwrap();
    assert_eq!(accented.len(), 1, "non-ASCII letters fold too");
    let newest = store
        .find_audit(None, AuditMatch::Title("porada"), 2)
        .await
        .unwrap();
    assert_eq!(newest.len(), 2, "limited");
    assert!(
        newest.iter().all(|r| r.at == t1) && newest[0].id < newest[1].id,
        "the newest, oldest first: {newest:?}"
    );
    assert!(
        store
            .find_audit(None, AuditMatch::Title("100%"), 100)
            .await
            .unwrap()
            .is_empty(),
        "no wildcards"
    );
}

async fn the_audit_trail_is_pruned_by_age_and_keeps_a_large_round<H: ServiceHarness>(h: &H) {
    let store = h.open().await;
    let old = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let new = old + chrono::Duration::days(40);
    store
        .record_audit(
            "acme",
            old,
            &[audited(
                &scope(),
                vec![audit_entry(
                    StepRule::DeletedInRaynet,
                    "Old",
                    "1",
                    Some("A"),
                )],
            )],
        )
        .await
        .unwrap();
    // A first round's worth of entries, in one call (PostgreSQL sends them in chunks).
    let many: Vec<AuditEntry> = (0..4_500)
        .map(|i| {
            audit_entry(
                StepRule::NewInSource,
                &format!("Person {i}"),
                &format!("p{i}"),
                Some(&format!("c{i}")),
            )
        })
        .collect();
    assert_eq!(
        store
            .record_audit(
                "acme",
                new,
                &[audited(&scope(), many), audited(&scope(), vec![])]
            )
            .await
            .unwrap(),
        4_500
    );
    assert_eq!(
        store.record_audit("acme", new, &[]).await.unwrap(),
        0,
        "nothing to keep"
    );
    let last = store
        .find_audit(None, AuditMatch::OutlookId("c4499"), 10)
        .await
        .unwrap();
    assert_eq!(last[0].entry.label, "Person 4499");
    let gone = store
        .prune_audit(old + chrono::Duration::days(30))
        .await
        .unwrap();
    assert_eq!(gone, 1, "only the entry older than the limit");
    assert!(
        store
            .find_audit(None, AuditMatch::RaynetId("1"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .find_audit(None, AuditMatch::Title("person 1"), 10_000)
            .await
            .unwrap()
            .len(),
        1_111,
        "Person 1, 10-19, 100-199, 1000-1999 are kept"
    );
    assert_eq!(store.prune_audit(old).await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL only
// ---------------------------------------------------------------------------------------------

/// The longest a test waits for a wake-up: a guard against hanging forever, not a timing
/// requirement (a wake-up arrives in milliseconds).
const WAKEUP_GUARD: Duration = Duration::from_secs(60);

/// Receives until `want` comes (other tests share the database's channel: their tenants are
/// skipped).
async fn wait_for(wakeups: &mut tokio::sync::broadcast::Receiver<String>, want: &str) {
    loop {
        match tokio::time::timeout(WAKEUP_GUARD, wakeups.recv()).await {
            Ok(Ok(got)) if got == want => return,
            Ok(Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("the wake-ups ended: {e}"),
            Err(elapsed) => panic!("no wake-up for {want:?} within {WAKEUP_GUARD:?} ({elapsed})"),
        }
    }
}

async fn a_note_added_by_one_worker_wakes_another(h: &PgHarness) {
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

async fn a_dropped_listening_connection_wakes_every_tenant(h: &PgHarness) {
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

async fn a_newer_schema_is_refused_and_left_untouched(h: &PgHarness) {
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

async fn workers_starting_at_once_migrate_once(h: &PgHarness) {
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
    assert_eq!(versions, [super::postgres::SCHEMA_VERSION]);
    assert_eq!(a.schema(), Some(h.schema.as_str()));
}

async fn the_password_never_shows_once_connected(h: &PgHarness) {
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

// ---------------------------------------------------------------------------------------------
// The tests, one per store
// ---------------------------------------------------------------------------------------------

/// Makes a `#[tokio::test]` per store of each test: `every` runs on all three stores,
/// `service` on the two [`ServiceStore`]s, `postgres_only` on PostgreSQL.
macro_rules! suite {
    (
        every: [$($every:ident),* $(,)?],
        service: [$($service:ident),* $(,)?],
        postgres_only: [$($pg:ident),* $(,)?] $(,)?
    ) => {
        mod memory {
            use super::*;
            $(
                #[tokio::test]
                async fn $every() {
                    super::$every(&MemoryHarness::default()).await;
                }
            )*
        }

        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $every() {
                    super::$every(&SqliteHarness::new(stringify!($every))).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $service() {
                    super::$service(&SqliteHarness::new(stringify!($service))).await;
                }
            )*
        }

        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $every() {
                    let Some(h) = PgHarness::new(stringify!($every)).await else {
                        return;
                    };
                    let outcome = AssertUnwindSafe(super::$every(&h)).catch_unwind().await;
                    h.finish(outcome).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $service() {
                    let Some(h) = PgHarness::new(stringify!($service)).await else {
                        return;
                    };
                    let outcome = AssertUnwindSafe(super::$service(&h)).catch_unwind().await;
                    h.finish(outcome).await;
                }
            )*
            $(
                #[tokio::test]
                async fn $pg() {
                    let Some(h) = PgHarness::new(stringify!($pg)).await else {
                        return;
                    };
                    let outcome = AssertUnwindSafe(super::$pg(&h)).catch_unwind().await;
                    h.finish(outcome).await;
                }
            )*
        }
    };
}

suite! {
    every: [
        every_method_round_trips_and_survives_reopen,
        contacts_are_kept_beside_events,
        scopes_are_kept_apart,
        a_crash_inside_resolve_pending_leaves_the_old_state,
        tenant_cursors_list_one_tenants_cursors,
        pair_counts_count_each_scope_of_a_tenant,
        recorded_version_finds_an_items_pair,
        scopes_holding_lists_the_members_whose_pairs_hold_an_item,
        two_instances_share_the_state,
    ],
    service: [
        a_pair_id_of_one_scope_cannot_be_written_in_another,
        status_counts_and_last_rounds,
        push_notes_survive_a_reopen_until_their_round_ran,
        dropping_notes_forgets_only_the_handled_ones,
        a_generated_secret_is_kept_and_the_same_for_concurrent_callers,
        subscriptions_are_kept_and_forgotten,
        a_lease_is_taken_and_renewed_with_its_epoch,
        a_live_lease_of_another_holder_is_refused_until_it_lapses,
        a_released_lease_can_be_taken_at_once,
        push_secrets_are_listed_and_replaced,
        freshness_is_the_last_clean_round_of_each_scope,
        member_rounds_are_logged_from_start_to_end,
        a_copy_moves_everything_and_refuses_a_target_holding_the_tenant,
        the_audit_trail_finds_an_items_entries_by_id_and_title,
        the_audit_trail_is_pruned_by_age_and_keeps_a_large_round,
    ],
    postgres_only: [
        a_note_added_by_one_worker_wakes_another,
        a_dropped_listening_connection_wakes_every_tenant,
        a_newer_schema_is_refused_and_left_untouched,
        workers_starting_at_once_migrate_once,
        the_password_never_shows_once_connected,
    ],
}
