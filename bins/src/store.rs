//! [`SqliteStore`]: the embedded [`StateStore`], one SQLite file for every tenant, member and
//! collection.
//!
//! ## Layout
//! - `schema_version(version)` — one row; the schema this file follows.
//! - `scopes(id, tenant, member, collection)` — one row per [`Scope`].
//! - `pairs(id, scope_id, record, raynet_id, outlook_id)` — one row per pair; `record` is the
//!   [`PairRecord`] as JSON, the two id columns are copies for people inspecting the file.
//!   Pair ids come from `AUTOINCREMENT`, so a forgotten pair's id is never handed out again.
//! - `cursors(scope_id, side, cursor)` — each side's incremental-read cursor.
//! - `pending(id, scope_id, key, record)` — creates recorded before they are sent
//!   ([`PendingCreate`] as JSON), in the order they were added.
//! - `rounds(id, scope_id, finished_at, summary)` — the summaries of the last rounds of each
//!   scope, for `raynet-sync status`.
//!
//! ## Guarantees
//! - Every [`StateStore`] method runs in one transaction: a crash (or a kill) leaves either
//!   the old or the new state. [`StateStore::resolve_pending`] drops the pending create and
//!   stores its pair in the *same* transaction, so a crash can never leave both (which would
//!   make the next round look the item up again) or neither.
//! - The file is in WAL mode with `synchronous = FULL` and a busy timeout, so a second process
//!   (`raynet-sync status` during `run --watch`) waits instead of failing.
//! - A file that is not an SQLite database, is damaged, belongs to another program, or was
//!   written by a newer raynet-sync (a higher schema version) is refused with a
//!   [`StateFileError`] and never written to.
//!
//! ## Blocking
//! rusqlite is synchronous. The connection sits behind a [`std::sync::Mutex`] and each call
//! does its work inline, on the calling task's thread: the writes are a few small rows in a
//! local file (well under a millisecond without contention), which is cheaper than a hop to a
//! blocking thread pool. Calls from parallel members are serialized by the mutex; the lock is
//! never held across an `.await`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, params};
use serde::Serialize;
use sync_core::{
    Collection, Cursor, IdempotencyKey, PairId, PairRecord, PendingCreate, Scope, Side, StateStore,
    StoreError, StoredState, SyncItem,
};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 1;

/// How long a call waits for another process holding the file's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many round summaries are kept per scope.
const ROUNDS_KEPT: i64 = 50;

/// The migrations: `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema.
    "
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version (version) VALUES (0);
    CREATE TABLE scopes (
        id INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        member TEXT NOT NULL,
        collection TEXT NOT NULL,
        UNIQUE (tenant, member, collection)
    );
    CREATE TABLE pairs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope_id INTEGER NOT NULL REFERENCES scopes (id),
        record TEXT NOT NULL,
        raynet_id TEXT,
        outlook_id TEXT
    );
    CREATE INDEX pairs_by_scope ON pairs (scope_id);
    CREATE TABLE cursors (
        scope_id INTEGER NOT NULL REFERENCES scopes (id),
        side TEXT NOT NULL,
        cursor TEXT NOT NULL,
        PRIMARY KEY (scope_id, side)
    );
    CREATE TABLE pending (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope_id INTEGER NOT NULL REFERENCES scopes (id),
        key TEXT NOT NULL,
        record TEXT NOT NULL,
        UNIQUE (scope_id, key)
    );
    CREATE TABLE rounds (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope_id INTEGER NOT NULL REFERENCES scopes (id),
        finished_at TEXT NOT NULL,
        summary TEXT NOT NULL
    );
    CREATE INDEX rounds_by_scope ON rounds (scope_id, id);
    ",
];

/// A state file that cannot be used. The file is left exactly as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateFileError {
    /// Not an SQLite database, or a damaged one.
    #[error(
        "state file {} is not a valid raynet-sync database (corrupt or not SQLite); it was left \
         untouched: move it away to start afresh, or restore a backup",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite said, when it said something.
        #[source]
        source: Option<rusqlite::Error>,
    },
    /// An SQLite database of another program.
    #[error(
        "state file {} is an SQLite database of another program (it has no schema_version \
         table); it was left untouched",
        path.display()
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// Written by a newer raynet-sync.
    #[error(
        "state file {} has schema version {found}, newer than this build knows ({supported}); \
         it was left untouched: upgrade raynet-sync",
        path.display()
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// Opening, setting up or migrating the file failed.
    #[error("cannot open state file {}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
}

/// A past round's summary, as kept for `raynet-sync status`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundRecord {
    /// The scope the round was for.
    pub scope: Scope,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// The summary the caller recorded (counts, failures, ...).
    pub summary: serde_json::Value,
}

/// What the store knows of one scope.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScopeStatus {
    /// The scope.
    pub scope: Scope,
    /// Pairs recorded.
    pub pairs: u64,
    /// Creates recorded but not yet confirmed.
    pub pending: u64,
    /// Sides with an incremental-read cursor.
    pub cursors: u64,
    /// The last round recorded, if any.
    pub last_round: Option<RoundRecord>,
}

/// The SQLite [`StateStore`]; see the module docs for the layout and the guarantees.
///
/// One value serves every scope and both item types (items are stored as JSON).
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// Test hook: makes the next `resolve_pending` fail between its two statements.
    #[cfg(test)]
    crash_in_resolve: std::sync::atomic::AtomicBool,
}

impl SqliteStore {
    /// Opens (or creates) the state file at `path`, migrating an older schema.
    ///
    /// # Errors
    /// A [`StateFileError`]: the file is corrupt, another program's, newer than this build, or
    /// cannot be opened. Such a file is never written to.
    pub fn open(path: &Path) -> Result<Self, StateFileError> {
        let sqlite = |source| StateFileError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        // Read before anything writes: a bad file must be refused untouched.
        let found = probe_version(&conn, path)?;
        if found > SCHEMA_VERSION {
            return Err(StateFileError::TooNew {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(sqlite)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), mode, "state file is not in WAL mode");
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(sqlite)?;
        migrate(&mut conn, path)?;
        Ok(Self {
            path: path.to_owned(),
            conn: Mutex::new(conn),
            #[cfg(test)]
            crash_in_resolve: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The file this store keeps.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the summary of a round of `scope` that ended at `finished_at`. Only the last
    /// few rounds of each scope are kept.
    ///
    /// # Errors
    /// A [`StoreError`] when the write fails.
    pub fn record_round(
        &self,
        scope: &Scope,
        summary: &serde_json::Value,
        finished_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write("record a round", scope, |tx| {
            let sid = scope_id(tx, scope)?;
            tx.execute(
                "INSERT INTO rounds (scope_id, finished_at, summary) VALUES (?1, ?2, ?3)",
                params![sid, finished_at.to_rfc3339(), summary.to_string()],
            )?;
            tx.execute(
                "DELETE FROM rounds WHERE scope_id = ?1 AND id NOT IN \
                 (SELECT id FROM rounds WHERE scope_id = ?1 ORDER BY id DESC LIMIT ?2)",
                params![sid, ROUNDS_KEPT],
            )?;
            Ok(())
        })
    }

    /// The last round recorded for each scope, ordered by scope.
    ///
    /// # Errors
    /// A [`StoreError`] when the read fails or a row is damaged.
    pub fn last_rounds(&self) -> Result<Vec<RoundRecord>, StoreError> {
        Ok(self
            .status()?
            .into_iter()
            .filter_map(|s| s.last_round)
            .collect())
    }

    /// What the store knows of each scope: counts and the last round, ordered by scope.
    ///
    /// # Errors
    /// A [`StoreError`] when the read fails or a row is damaged.
    pub fn status(&self) -> Result<Vec<ScopeStatus>, StoreError> {
        let mut conn = self.lock();
        let run = |conn: &mut Connection| -> Result<Vec<ScopeStatus>, StoreError> {
            let tx = conn.transaction().map_err(sql_err("read the status"))?;
            let mut stmt = tx
                .prepare(
                    "SELECT s.id, s.tenant, s.member, s.collection,
                        (SELECT count(*) FROM pairs WHERE scope_id = s.id),
                        (SELECT count(*) FROM pending WHERE scope_id = s.id),
                        (SELECT count(*) FROM cursors WHERE scope_id = s.id),
                        r.finished_at, r.summary
                     FROM scopes s
                     LEFT JOIN rounds r ON r.id =
                        (SELECT max(id) FROM rounds WHERE scope_id = s.id)
                     ORDER BY s.tenant, s.member, s.collection",
                )
                .map_err(sql_err("read the status"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, i64>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ))
                })
                .map_err(sql_err("read the status"))?;
            let mut out = Vec::new();
            for row in rows {
                let (tenant, member, collection, pairs, pending, cursors, finished, summary) =
                    row.map_err(sql_err("read the status"))?;
                let scope = Scope::new(tenant, member, parse_collection(&collection)?);
                let last_round = match (finished, summary) {
                    (Some(finished), Some(summary)) => Some(RoundRecord {
                        scope: scope.clone(),
                        finished_at: DateTime::parse_from_rfc3339(&finished)
                            .map_err(|e| {
                                StoreError::with_source(format!("damaged round time in {scope}"), e)
                            })?
                            .with_timezone(&Utc),
                        summary: serde_json::from_str(&summary).map_err(|e| {
                            StoreError::with_source(format!("damaged round in {scope}"), e)
                        })?,
                    }),
                    _ => None,
                };
                out.push(ScopeStatus {
                    scope,
                    pairs: count(pairs),
                    pending: count(pending),
                    cursors: count(cursors),
                    last_round,
                });
            }
            Ok(out)
        };
        run(&mut conn)
    }

    /// Every stored cursor of `tenant`'s scopes (what each side's next read resumes from),
    /// without loading any pair: a round's planning reads them to share one read among members.
    ///
    /// # Errors
    /// A [`StoreError`] when the read fails or a row is damaged.
    pub fn cursors_of(&self, tenant: &str) -> Result<Vec<(Scope, Side, Cursor)>, StoreError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT s.member, s.collection, c.side, c.cursor
                 FROM cursors c JOIN scopes s ON s.id = c.scope_id
                 WHERE s.tenant = ?1
                 ORDER BY s.member, s.collection, c.side",
            )
            .map_err(sql_err("read the cursors"))?;
        let rows = stmt
            .query_map([tenant], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(sql_err("read the cursors"))?;
        let mut out = Vec::new();
        for row in rows {
            let (member, collection, side, cursor) = row.map_err(sql_err("read the cursors"))?;
            let scope = Scope::new(tenant, member, parse_collection(&collection)?);
            let cursor = Cursor::new(cursor)
                .map_err(|e| StoreError::with_source(format!("damaged cursor in {scope}"), e))?;
            out.push((scope, parse_side(&side)?, cursor));
        }
        Ok(out)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held dropped its transaction, which rolled back: the
        // connection is in a clean state.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in one immediate (write) transaction and commits it.
    fn write<R>(
        &self,
        what: &str,
        scope: &Scope,
        f: impl FnOnce(&Transaction<'_>) -> Result<R, TxError>,
    ) -> Result<R, StoreError> {
        let mut conn = self.lock();
        let context = || format!("cannot {what} for {scope} in {}", self.path.display());
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| StoreError::with_source(context(), e))?;
        let out = f(&tx).map_err(|e| e.into_store(context()))?;
        tx.commit()
            .map_err(|e| StoreError::with_source(context(), e))?;
        Ok(out)
    }
}

/// An error inside a transaction: SQLite's, or a row the engine cannot use.
#[derive(Debug)]
enum TxError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for TxError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sql(e)
    }
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl TxError {
    fn into_store(self, context: String) -> StoreError {
        match self {
            Self::Sql(e) => StoreError::with_source(context, e),
            Self::Store(e) => StoreError::with_source(context, e),
        }
    }
}

fn sql_err(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::with_source(format!("cannot {what}"), e)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The schema version of the file (0 for a new, empty file), reading only.
fn probe_version(conn: &Connection, path: &Path) -> Result<i64, StateFileError> {
    let classify = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StateFileError::Corrupt {
            path: path.to_owned(),
            source: Some(e),
        },
        _ => StateFileError::Sqlite {
            path: path.to_owned(),
            source: e,
        },
    };
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(classify)?;
    if tables.is_empty() {
        return Ok(0);
    }
    if !tables.iter().any(|t| t == "schema_version") {
        return Err(StateFileError::Foreign {
            path: path.to_owned(),
        });
    }
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(classify)?;
    if check != "ok" {
        return Err(StateFileError::Corrupt {
            path: path.to_owned(),
            source: None,
        });
    }
    conn.query_row("SELECT max(version) FROM schema_version", [], |r| {
        r.get::<_, Option<i64>>(0)
    })
    .map_err(classify)?
    .ok_or_else(|| StateFileError::Corrupt {
        path: path.to_owned(),
        source: None,
    })
}

/// Brings the schema to [`SCHEMA_VERSION`], in one transaction that re-reads the version (two
/// processes may open a new file at once).
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StateFileError> {
    let sqlite = |source| StateFileError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sqlite)?;
    let has_table: bool = tx
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite)?;
    let mut version: i64 = if has_table {
        tx.query_row("SELECT max(version) FROM schema_version", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .map_err(sqlite)?
        .unwrap_or(0)
    } else {
        0
    };
    if version > SCHEMA_VERSION {
        return Err(StateFileError::TooNew {
            path: path.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    while version < SCHEMA_VERSION {
        let step = usize::try_from(version).unwrap_or(usize::MAX);
        let Some(sql) = MIGRATIONS.get(step) else {
            break;
        };
        tx.execute_batch(sql).map_err(sqlite)?;
        version += 1;
        tx.execute("UPDATE schema_version SET version = ?1", [version])
            .map_err(sqlite)?;
        tracing::debug!(path = %path.display(), version, "state file schema migrated");
    }
    tx.commit().map_err(sqlite)
}

fn collection_text(c: Collection) -> &'static str {
    match c {
        Collection::Calendar => "calendar",
        Collection::Contacts => "contacts",
    }
}

fn parse_collection(s: &str) -> Result<Collection, StoreError> {
    match s {
        "calendar" => Ok(Collection::Calendar),
        "contacts" => Ok(Collection::Contacts),
        other => Err(StoreError::new(format!(
            "damaged scope row: unknown collection {other:?}"
        ))),
    }
}

fn side_text(s: Side) -> &'static str {
    match s {
        Side::Raynet => "raynet",
        Side::Outlook => "outlook",
    }
}

fn parse_side(s: &str) -> Result<Side, StoreError> {
    match s {
        "raynet" => Ok(Side::Raynet),
        "outlook" => Ok(Side::Outlook),
        other => Err(StoreError::new(format!(
            "damaged cursor row: unknown side {other:?}"
        ))),
    }
}

/// The scope's row id, creating the row.
fn scope_id(tx: &Transaction<'_>, scope: &Scope) -> Result<i64, rusqlite::Error> {
    let c = collection_text(scope.collection);
    tx.execute(
        "INSERT OR IGNORE INTO scopes (tenant, member, collection) VALUES (?1, ?2, ?3)",
        params![scope.tenant, scope.member, c],
    )?;
    tx.query_row(
        "SELECT id FROM scopes WHERE tenant = ?1 AND member = ?2 AND collection = ?3",
        params![scope.tenant, scope.member, c],
        |r| r.get(0),
    )
}

/// The scope's row id, if it has one.
fn find_scope_id(tx: &Transaction<'_>, scope: &Scope) -> Result<Option<i64>, rusqlite::Error> {
    tx.query_row(
        "SELECT id FROM scopes WHERE tenant = ?1 AND member = ?2 AND collection = ?3",
        params![
            scope.tenant,
            scope.member,
            collection_text(scope.collection)
        ],
        |r| r.get(0),
    )
    .optional()
}

fn to_json<V: Serialize>(what: &str, v: &V) -> Result<String, StoreError> {
    serde_json::to_string(v)
        .map_err(|e| StoreError::with_source(format!("cannot encode {what}"), e))
}

fn pair_row_id(id: PairId) -> Result<i64, StoreError> {
    i64::try_from(id.get()).map_err(|e| StoreError::with_source(format!("pair id {id}"), e))
}

/// Inserts (`id` = `None`) or replaces a pair of scope `sid`.
fn store_pair<T: SyncItem>(
    tx: &Transaction<'_>,
    sid: i64,
    id: Option<PairId>,
    pair: &PairRecord<T>,
) -> Result<PairId, TxError> {
    let record = to_json("a pair", pair)?;
    let raynet = pair.raynet.as_ref().map(|r| r.id.as_str());
    let outlook = pair.outlook.as_ref().map(|r| r.id.as_str());
    let Some(id) = id else {
        tx.execute(
            "INSERT INTO pairs (scope_id, record, raynet_id, outlook_id) VALUES (?1, ?2, ?3, ?4)",
            params![sid, record, raynet, outlook],
        )?;
        let row = tx.last_insert_rowid();
        return Ok(PairId::from_store(u64::try_from(row).map_err(|e| {
            StoreError::with_source(format!("unexpected pair row id {row}"), e)
        })?));
    };
    let row = pair_row_id(id)?;
    let changed = tx.execute(
        "INSERT INTO pairs (id, scope_id, record, raynet_id, outlook_id)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET
            record = excluded.record, raynet_id = excluded.raynet_id,
            outlook_id = excluded.outlook_id
         WHERE pairs.scope_id = excluded.scope_id",
        params![row, sid, record, raynet, outlook],
    )?;
    if changed == 0 {
        return Err(StoreError::new(format!("pair {id} belongs to another scope")).into());
    }
    Ok(id)
}

fn decode<V: serde::de::DeserializeOwned>(
    what: &str,
    scope: &Scope,
    text: &str,
) -> Result<V, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::with_source(format!("damaged {what} in {scope}"), e))
}

#[async_trait]
impl<T: SyncItem> StateStore<T> for SqliteStore {
    async fn load(&self, scope: &Scope) -> Result<StoredState<T>, StoreError> {
        let mut conn = self.lock();
        let context = || format!("cannot load {scope} from {}", self.path.display());
        let run = |conn: &mut Connection| -> Result<StoredState<T>, TxError> {
            let tx = conn.transaction()?;
            let mut state = StoredState::default();
            let Some(sid) = find_scope_id(&tx, scope)? else {
                return Ok(state);
            };
            // In id order, so that each insert into `Pairs` is an append.
            let mut stmt =
                tx.prepare("SELECT id, record FROM pairs WHERE scope_id = ?1 ORDER BY id")?;
            let rows =
                stmt.query_map([sid], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (id, record) = row?;
                let id = u64::try_from(id)
                    .map_err(|e| StoreError::with_source(format!("damaged pair id {id}"), e))?;
                state
                    .pairs
                    .insert(PairId::from_store(id), decode("pair", scope, &record)?);
            }
            state.pairs.shrink_to_fit();
            let mut stmt = tx.prepare("SELECT side, cursor FROM cursors WHERE scope_id = ?1")?;
            let rows = stmt.query_map([sid], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })?;
            for row in rows {
                let (side, cursor) = row?;
                let cursor = Cursor::new(cursor).map_err(|e| {
                    StoreError::with_source(format!("damaged cursor in {scope}"), e)
                })?;
                state.cursors.insert(parse_side(&side)?, cursor);
            }
            let mut stmt =
                tx.prepare("SELECT record FROM pending WHERE scope_id = ?1 ORDER BY id")?;
            let rows = stmt.query_map([sid], |r| r.get::<_, String>(0))?;
            for row in rows {
                state
                    .pending
                    .push(decode::<PendingCreate<T>>("pending create", scope, &row?)?);
            }
            Ok(state)
        };
        run(&mut conn).map_err(|e| e.into_store(context()))
    }

    async fn put_pair(
        &self,
        scope: &Scope,
        id: Option<PairId>,
        pair: &PairRecord<T>,
    ) -> Result<PairId, StoreError> {
        self.write("store a pair", scope, |tx| {
            let sid = scope_id(tx, scope)?;
            store_pair(tx, sid, id, pair)
        })
    }

    async fn remove_pair(&self, scope: &Scope, id: PairId) -> Result<(), StoreError> {
        self.write("remove a pair", scope, |tx| {
            if let Some(sid) = find_scope_id(tx, scope)? {
                tx.execute(
                    "DELETE FROM pairs WHERE id = ?1 AND scope_id = ?2",
                    params![pair_row_id(id)?, sid],
                )?;
            }
            Ok(())
        })
    }

    async fn put_cursor(
        &self,
        scope: &Scope,
        side: Side,
        cursor: Option<&Cursor>,
    ) -> Result<(), StoreError> {
        self.write("store a cursor", scope, |tx| {
            let sid = scope_id(tx, scope)?;
            match cursor {
                Some(c) => tx.execute(
                    "INSERT INTO cursors (scope_id, side, cursor) VALUES (?1, ?2, ?3)
                     ON CONFLICT (scope_id, side) DO UPDATE SET cursor = excluded.cursor",
                    params![sid, side_text(side), c.as_str()],
                )?,
                None => tx.execute(
                    "DELETE FROM cursors WHERE scope_id = ?1 AND side = ?2",
                    params![sid, side_text(side)],
                )?,
            };
            Ok(())
        })
    }

    async fn add_pending(
        &self,
        scope: &Scope,
        pending: &PendingCreate<T>,
    ) -> Result<(), StoreError> {
        self.write("record a pending create", scope, |tx| {
            let sid = scope_id(tx, scope)?;
            let record = to_json("a pending create", pending)?;
            // Re-adding a key moves it to the end, as the in-memory store does.
            tx.execute(
                "DELETE FROM pending WHERE scope_id = ?1 AND key = ?2",
                params![sid, pending.key.as_str()],
            )?;
            tx.execute(
                "INSERT INTO pending (scope_id, key, record) VALUES (?1, ?2, ?3)",
                params![sid, pending.key.as_str(), record],
            )?;
            Ok(())
        })
    }

    async fn resolve_pending(
        &self,
        scope: &Scope,
        key: &IdempotencyKey,
        pair_id: Option<PairId>,
        pair: Option<&PairRecord<T>>,
    ) -> Result<Option<PairId>, StoreError> {
        self.write("resolve a pending create", scope, |tx| {
            let sid = scope_id(tx, scope)?;
            tx.execute(
                "DELETE FROM pending WHERE scope_id = ?1 AND key = ?2",
                params![sid, key.as_str()],
            )?;
            #[cfg(test)]
            if self
                .crash_in_resolve
                .swap(false, std::sync::atomic::Ordering::SeqCst)
            {
                return Err(StoreError::new("simulated crash inside resolve_pending").into());
            }
            pair.map(|p| store_pair(tx, sid, pair_id, p)).transpose()
        })
    }

    async fn scopes(&self) -> Result<Vec<Scope>, StoreError> {
        Ok(self.status()?.into_iter().map(|s| s.scope).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use chrono::TimeZone;
    use sync_core::{Event, RemoteId, Schedule, SideRecord, Version};

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

    async fn load(store: &SqliteStore) -> StoredState<Event> {
        StateStore::<Event>::load(store, &scope()).await.unwrap()
    }

    #[test]
    fn every_method_round_trips_and_survives_reopen() {
        block_on(async {
            let dir = TempDir::new("store-roundtrip");
            let path = dir.path().join("state.db");
            let store = SqliteStore::open(&path).unwrap();
            assert_eq!(load(&store).await, StoredState::default());
            assert!(
                StateStore::<Event>::scopes(&store)
                    .await
                    .unwrap()
                    .is_empty()
            );

            let a = store
                .put_pair(&scope(), None, &pair("1", "A"))
                .await
                .unwrap();
            let b = store
                .put_pair(&scope(), None, &pair("2", "B"))
                .await
                .unwrap();
            assert_ne!(a, b);
            let mut changed = pair("1", "A");
            changed.outlook = Some(side("A2", "Kickoff moved"));
            assert_eq!(
                store.put_pair(&scope(), Some(a), &changed).await.unwrap(),
                a
            );
            StateStore::<Event>::remove_pair(&store, &scope(), b)
                .await
                .unwrap();

            let cursor = Cursor::new("delta-token-1").unwrap();
            StateStore::<Event>::put_cursor(&store, &scope(), Side::Outlook, Some(&cursor))
                .await
                .unwrap();
            let c2 = Cursor::new("watermark").unwrap();
            StateStore::<Event>::put_cursor(&store, &scope(), Side::Raynet, Some(&c2))
                .await
                .unwrap();
            StateStore::<Event>::put_cursor(&store, &scope(), Side::Raynet, None)
                .await
                .unwrap();

            store.add_pending(&scope(), &pending("r-1")).await.unwrap();
            store.add_pending(&scope(), &pending("r-2")).await.unwrap();
            store.add_pending(&scope(), &pending("r-1")).await.unwrap();

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
            check(load(&store).await);
            drop(store);

            let store = SqliteStore::open(&path).unwrap();
            check(load(&store).await);
            assert_eq!(
                StateStore::<Event>::scopes(&store).await.unwrap(),
                vec![scope()]
            );

            let key = IdempotencyKey::new("r-2").unwrap();
            let c = store
                .resolve_pending(&scope(), &key, None, Some(&pair("3", "C")))
                .await
                .unwrap()
                .unwrap();
            assert!(c > b, "pair ids are never reused");
            let none = StateStore::<Event>::resolve_pending(
                &store,
                &scope(),
                &IdempotencyKey::new("r-1").unwrap(),
                None,
                None,
            )
            .await
            .unwrap();
            assert_eq!(none, None);
            let s = load(&store).await;
            assert!(s.pending.is_empty());
            assert_eq!(s.pairs.len(), 2);
            assert_eq!(s.pairs.get(&c), Some(&pair("3", "C")));
        });
    }

    #[test]
    fn scopes_are_kept_apart() {
        block_on(async {
            let dir = TempDir::new("store-scopes");
            let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
            let other = Scope::new("acme", "petr@acme.cz", Collection::Calendar);
            let a = store
                .put_pair(&scope(), None, &pair("1", "A"))
                .await
                .unwrap();
            let err = store.put_pair(&other, Some(a), &pair("1", "A")).await;
            assert!(
                err.is_err(),
                "a pair id of one scope cannot be written in another"
            );
            StateStore::<Event>::remove_pair(&store, &other, a)
                .await
                .unwrap();
            assert_eq!(load(&store).await.pairs.len(), 1);
            let o: StoredState<Event> = store.load(&other).await.unwrap();
            assert!(o.pairs.is_empty());
        });
    }

    #[test]
    fn a_crash_inside_resolve_pending_leaves_the_old_state() {
        block_on(async {
            let dir = TempDir::new("store-crash");
            let path = dir.path().join("s.db");
            let store = SqliteStore::open(&path).unwrap();
            store.add_pending(&scope(), &pending("r-42")).await.unwrap();
            store
                .crash_in_resolve
                .store(true, std::sync::atomic::Ordering::SeqCst);
            let key = IdempotencyKey::new("r-42").unwrap();
            let res = store
                .resolve_pending(&scope(), &key, None, Some(&pair("42", "X")))
                .await;
            assert!(res.is_err());
            drop(store);

            let store = SqliteStore::open(&path).unwrap();
            let s = load(&store).await;
            assert_eq!(s.pending.len(), 1, "the pending create is still there");
            assert!(s.pairs.is_empty(), "and no pair was stored");
            store
                .resolve_pending(&scope(), &key, None, Some(&pair("42", "X")))
                .await
                .unwrap();
            let s = load(&store).await;
            assert!(s.pending.is_empty());
            assert_eq!(s.pairs.len(), 1, "exactly one pair after the retry");
        });
    }

    #[test]
    fn a_connection_dropped_mid_transaction_leaves_old_or_new_never_both() {
        block_on(async {
            let dir = TempDir::new("store-kill");
            let path = dir.path().join("s.db");
            let store = SqliteStore::open(&path).unwrap();
            store.add_pending(&scope(), &pending("r-7")).await.unwrap();
            drop(store);

            // Another connection does half of what resolve_pending does, then goes away
            // without committing, as a killed process would.
            {
                let mut raw = Connection::open(&path).unwrap();
                let tx = raw.transaction().unwrap();
                tx.execute("DELETE FROM pending", []).unwrap();
                // No commit and no rollback statement: the connection just closes.
                std::mem::forget(tx);
                drop(raw);
            }

            let store = SqliteStore::open(&path).unwrap();
            let s = load(&store).await;
            assert_eq!((s.pending.len(), s.pairs.len()), (1, 0), "old state");
            let key = IdempotencyKey::new("r-7").unwrap();
            store
                .resolve_pending(&scope(), &key, None, Some(&pair("7", "G")))
                .await
                .unwrap();
            drop(store);
            let store = SqliteStore::open(&path).unwrap();
            let s = load(&store).await;
            assert_eq!((s.pending.len(), s.pairs.len()), (0, 1), "new state");
        });
    }

    #[test]
    fn garbage_file_is_refused_and_left_untouched() {
        let dir = TempDir::new("store-garbage");
        let path = dir.path().join("s.db");
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, &garbage).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, StateFileError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("s.db"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), garbage, "file untouched");
    }

    #[test]
    fn newer_schema_is_refused_and_left_untouched() {
        let dir = TempDir::new("store-newer");
        let path = dir.path().join("s.db");
        drop(SqliteStore::open(&path).unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute("UPDATE schema_version SET version = 999", [])
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(
            matches!(err, StateFileError::TooNew { found: 999, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("999"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before, "file untouched");
    }

    #[test]
    fn foreign_database_is_refused() {
        let dir = TempDir::new("store-foreign");
        let path = dir.path().join("s.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute("CREATE TABLE photos (id INTEGER)", [])
                .unwrap();
        }
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, StateFileError::Foreign { .. }), "{err}");
    }

    #[test]
    fn cursors_of_lists_one_tenants_cursors() {
        block_on(async {
            let dir = TempDir::new("store-cursors");
            let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
            assert!(store.cursors_of("acme").unwrap().is_empty());
            let put = |tenant: &str, member: &str, c: Collection, side: Side, v: &str| {
                let scope = Scope::new(tenant, member, c);
                let cursor = Cursor::new(v).unwrap();
                let store = &store;
                async move {
                    StateStore::<Event>::put_cursor(store, &scope, side, Some(&cursor))
                        .await
                        .unwrap();
                }
            };
            put(
                "acme",
                "jana@acme.test",
                Collection::Calendar,
                Side::Raynet,
                "r1",
            )
            .await;
            put(
                "acme",
                "jana@acme.test",
                Collection::Calendar,
                Side::Outlook,
                "o1",
            )
            .await;
            put(
                "acme",
                "petr@acme.test",
                Collection::Contacts,
                Side::Raynet,
                "r2",
            )
            .await;
            put(
                "other",
                "jana@acme.test",
                Collection::Calendar,
                Side::Raynet,
                "x",
            )
            .await;
            let got: Vec<(String, Collection, Side, String)> = store
                .cursors_of("acme")
                .unwrap()
                .into_iter()
                .map(|(s, side, c)| (s.member, s.collection, side, c.as_str().to_owned()))
                .collect();
            assert_eq!(got.len(), 3, "{got:?}");
            assert!(got.contains(&(
                "jana@acme.test".into(),
                Collection::Calendar,
                Side::Outlook,
                "o1".into()
            )));
            assert!(got.contains(&(
                "petr@acme.test".into(),
                Collection::Contacts,
                Side::Raynet,
                "r2".into()
            )));
            assert!(!got.iter().any(|g| g.3 == "x"), "another tenant's");
        });
    }

    #[test]
    fn status_counts_and_last_rounds() {
        block_on(async {
            let dir = TempDir::new("store-status");
            let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
            assert!(store.status().unwrap().is_empty());
            store
                .put_pair(&scope(), None, &pair("1", "A"))
                .await
                .unwrap();
            store.add_pending(&scope(), &pending("r-9")).await.unwrap();
            let contacts = Scope::new("acme", "jana@acme.cz", Collection::Contacts);
            let t1 = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
            for n in 0..60 {
                store
                    .record_round(
                        &scope(),
                        &serde_json::json!({ "round": n }),
                        t1 + chrono::Duration::minutes(n),
                    )
                    .unwrap();
            }
            store
                .record_round(&contacts, &serde_json::json!({ "writes": 0 }), t1)
                .unwrap();
            let st = store.status().unwrap();
            assert_eq!(st.len(), 2);
            assert_eq!((st[0].pairs, st[0].pending, st[0].cursors), (1, 1, 0));
            let last = st[0].last_round.as_ref().unwrap();
            assert_eq!(last.summary["round"], 59);
            assert_eq!(last.finished_at, t1 + chrono::Duration::minutes(59));
            assert_eq!(st[1].scope, contacts);
            assert_eq!(store.last_rounds().unwrap().len(), 2);
            let conn = store.lock();
            let kept: i64 = conn
                .query_row("SELECT count(*) FROM rounds", [], |r| r.get(0))
                .unwrap();
            assert_eq!(kept, ROUNDS_KEPT + 1, "old rounds are pruned");
        });
    }

    #[test]
    fn file_is_in_wal_mode_with_a_schema_version() {
        let dir = TempDir::new("store-wal");
        let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
        let conn = store.lock();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let v: i64 = conn
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn public_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SqliteStore>();
        assert_send_sync::<StateFileError>();
        assert_send_sync::<ScopeStatus>();
        assert_send_sync::<crate::config::Config>();
        assert_send_sync::<crate::config::ConfigError>();
        let _: &dyn StateStore<Event> = &SqliteStore::open(Path::new(":memory:")).unwrap();
    }

    #[test]
    fn two_processes_can_share_the_file() {
        block_on(async {
            let dir = TempDir::new("store-shared");
            let path = dir.path().join("s.db");
            let one = SqliteStore::open(&path).unwrap();
            let two = SqliteStore::open(&path).unwrap();
            one.put_pair(&scope(), None, &pair("1", "A")).await.unwrap();
            two.put_pair(&scope(), None, &pair("2", "B")).await.unwrap();
            assert_eq!(load(&one).await.pairs.len(), 2);
            assert_eq!(two.status().unwrap()[0].pairs, 2);
        });
    }

    /// Runs a future on a current-thread tokio runtime.
    fn block_on(f: impl std::future::Future<Output = ()>) {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f);
    }
}
