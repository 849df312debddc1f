//! Opening the file: [`SqliteStore`] itself, its connection settings (WAL, `synchronous =
//! FULL`, a busy timeout), the refusal of a bad file before anything is written, and the one
//! write transaction every change goes through.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction};
use sync_core::{Scope, StoreError};

use super::error::{StateFileError, TxError};
use super::schema::{SCHEMA_VERSION, migrate, probe_version};

/// How long a call waits for another process holding the file's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite [`StateStore`](sync_core::StateStore); see the module docs for the layout and the
/// guarantees.
///
/// One value serves every scope and both item types (items are stored as JSON).
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// Test hook: makes the next `resolve_pending` fail between its two statements.
    #[cfg(test)]
    pub(super) crash_in_resolve: std::sync::atomic::AtomicBool,
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

    /// The connection, locked for one call.
    pub(super) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held dropped its transaction, which rolled back: the
        // connection is in a clean state.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` in one immediate (write) transaction and commits it.
    pub(super) fn write<R>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::state_file;

    /// Runs `sql` on the file at `path` through a connection of its own, then closes it.
    fn execute_raw(path: &Path, sql: &str) {
        let conn = Connection::open(path).unwrap();
        conn.execute(sql, []).unwrap();
    }

    #[test]
    fn garbage_file_is_refused_and_left_untouched() {
        let (_dir, path) = state_file("store-garbage");
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, &garbage).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, StateFileError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("s.db"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), garbage, "file untouched");
    }

    #[test]
    fn newer_schema_is_refused_and_left_untouched() {
        let (_dir, path) = state_file("store-newer");
        drop(SqliteStore::open(&path).unwrap());
        execute_raw(&path, "UPDATE schema_version SET version = 999");
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
        let (_dir, path) = state_file("store-foreign");
        execute_raw(&path, "CREATE TABLE photos (id INTEGER)");
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, StateFileError::Foreign { .. }), "{err}");
    }

    #[test]
    fn file_is_in_wal_mode_with_a_schema_version() {
        let (_dir, path) = state_file("store-wal");
        let store = SqliteStore::open(&path).unwrap();
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
    fn a_version_4_file_gains_the_invitation_columns_and_keeps_its_rounds() {
        let (_dir, path) = state_file("store-v4");
        {
            // A file as the previous version left it, with one round recorded.
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            for sql in &super::super::schema::MIGRATIONS[..4] {
                tx.execute_batch(sql).unwrap();
            }
            tx.execute_batch(
                "UPDATE schema_version SET version = 4;
                 INSERT INTO scopes (id, tenant, member, collection)
                     VALUES (1, 'acme', 'jana@acme.cz', 'calendar');
                 INSERT INTO rounds (scope_id, finished_at, summary)
                     VALUES (1, '2026-11-25T12:00:00+00:00', '{\"planned_writes\":3}');",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let status = store.status().unwrap();
        let last = status[0].last_round.as_ref().unwrap();
        assert_eq!(last.summary["planned_writes"], 3, "the old round is kept");
        assert_eq!((last.invitations, last.invitations_deferred), (0, 0));
        let v: i64 = store
            .lock()
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }
}
