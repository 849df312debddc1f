//! The schema: its version, the migrations that build it, and the read-only probe that refuses
//! a file that is damaged, another program's, or newer than this build.

use std::path::Path;

use rusqlite::{Connection, ErrorCode};

use super::error::StateFileError;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 5;

/// The migrations: `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
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
    // 1 -> 2: `serve` — pairs found by an item's id (routing a notification, knowing an
    // echo), the notifications waiting for their round, the subscriptions kept, the push
    // secrets generated.
    "
    CREATE INDEX pairs_by_raynet_id ON pairs (raynet_id);
    CREATE INDEX pairs_by_outlook_id ON pairs (outlook_id);
    CREATE TABLE push_inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        member TEXT NOT NULL,
        collection TEXT NOT NULL,
        side TEXT,
        deleted_id TEXT,
        received_at TEXT NOT NULL
    );
    CREATE INDEX push_inbox_by_tenant ON push_inbox (tenant, id);
    CREATE TABLE push_subscriptions (
        tenant TEXT NOT NULL,
        member TEXT NOT NULL,
        collection TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (tenant, member, collection)
    );
    CREATE TABLE push_secrets (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (tenant, name)
    );
    ",
    // 2 -> 3: leases (who runs a member's rounds; the same tables as PostgreSQL's, so that the
    // stores pass one conformance suite) and the log of which worker ran whose rounds when.
    // Times in Unix milliseconds.
    "
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        epoch INTEGER NOT NULL
    );
    CREATE TABLE member_rounds (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        member TEXT NOT NULL,
        worker TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER
    );
    CREATE INDEX member_rounds_by_tenant ON member_rounds (tenant, member, id);
    ",
    // 3 -> 4: the audit trail (`explain`): one row per step a round sent, the entry as JSON;
    // the item's ids and its folded label for the lookups, the time (Unix milliseconds) for
    // the pruning.
    "
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        member TEXT NOT NULL,
        collection TEXT NOT NULL,
        at INTEGER NOT NULL,
        rule TEXT NOT NULL,
        label_folded TEXT NOT NULL,
        raynet_id TEXT,
        outlook_id TEXT,
        entry TEXT NOT NULL
    );
    CREATE INDEX audit_by_raynet_id ON audit (raynet_id) WHERE raynet_id IS NOT NULL;
    CREATE INDEX audit_by_outlook_id ON audit (outlook_id) WHERE outlook_id IS NOT NULL;
    CREATE INDEX audit_by_at ON audit (at);
    ",
    // 4 -> 5: each round's invitation counts (writes that mailed attendees, and those the
    // invitation cap deferred), for `status`; rounds recorded before count 0.
    "
    ALTER TABLE rounds ADD COLUMN invitations INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE rounds ADD COLUMN invitations_deferred INTEGER NOT NULL DEFAULT 0;
    ",
];

/// The schema version of the file (0 for a new, empty file), reading only.
pub(super) fn probe_version(conn: &Connection, path: &Path) -> Result<i64, StateFileError> {
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
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StateFileError> {
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
