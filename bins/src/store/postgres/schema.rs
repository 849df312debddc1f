//! The schema: its version, the migrations that build it, and the one transaction that runs
//! them, under an advisory lock so that workers starting at once do not race.

use super::error::PostgresStoreError;

/// The schema version this build writes (PostgreSQL's own count, apart from the SQLite file's).
pub(in crate::store) const SCHEMA_VERSION: i64 = 3;

/// The key of the transaction-level advisory lock the migrations hold ("raynetsy" in ASCII): a
/// second worker waits for the first one's migration, then finds the schema up to date.
const MIGRATION_LOCK: i64 = 0x7261_796e_6574_7379;

/// The migrations: `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
///
/// Records are JSON as `text`, not `jsonb`: `jsonb` refuses the escape `\u0000`, which an
/// item's text may hold (cast the column to look inside: `record::jsonb`).
pub(in crate::store) const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema; the same tables as the SQLite file's version 3.
    "
    CREATE TABLE schema_version (version bigint NOT NULL);
    INSERT INTO schema_version (version) VALUES (0);
    CREATE TABLE scopes (
        id bigserial PRIMARY KEY,
        tenant text NOT NULL,
        member text NOT NULL,
        collection text NOT NULL,
        UNIQUE (tenant, member, collection)
    );
    CREATE TABLE pairs (
        id bigserial PRIMARY KEY,
        scope_id bigint NOT NULL REFERENCES scopes (id),
        record text NOT NULL,
        raynet_id text,
        outlook_id text
    );
    CREATE INDEX pairs_by_scope ON pairs (scope_id);
    CREATE INDEX pairs_by_raynet_id ON pairs (raynet_id);
    CREATE INDEX pairs_by_outlook_id ON pairs (outlook_id);
    CREATE TABLE cursors (
        scope_id bigint NOT NULL REFERENCES scopes (id),
        side text NOT NULL,
        cursor text NOT NULL,
        PRIMARY KEY (scope_id, side)
    );
    CREATE TABLE pending (
        id bigserial PRIMARY KEY,
        scope_id bigint NOT NULL REFERENCES scopes (id),
        key text NOT NULL,
        record text NOT NULL,
        UNIQUE (scope_id, key)
    );
    CREATE TABLE rounds (
        id bigserial PRIMARY KEY,
        scope_id bigint NOT NULL REFERENCES scopes (id),
        finished_at timestamptz NOT NULL,
        summary text NOT NULL
    );
    CREATE INDEX rounds_by_scope ON rounds (scope_id, id);
    CREATE TABLE push_inbox (
        id bigserial PRIMARY KEY,
        tenant text NOT NULL,
        member text NOT NULL,
        collection text NOT NULL,
        side text,
        deleted_id text,
        received_at timestamptz NOT NULL
    );
    CREATE INDEX push_inbox_by_tenant ON push_inbox (tenant, id);
    CREATE TABLE push_subscriptions (
        tenant text NOT NULL,
        member text NOT NULL,
        collection text NOT NULL,
        record text NOT NULL,
        PRIMARY KEY (tenant, member, collection)
    );
    CREATE TABLE push_secrets (
        tenant text NOT NULL,
        name text NOT NULL,
        value text NOT NULL,
        PRIMARY KEY (tenant, name)
    );
    CREATE TABLE leases (
        name text PRIMARY KEY,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL,
        epoch bigint NOT NULL
    );
    CREATE TABLE member_rounds (
        id bigserial PRIMARY KEY,
        tenant text NOT NULL,
        member text NOT NULL,
        worker text NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz
    );
    CREATE INDEX member_rounds_by_tenant ON member_rounds (tenant, member, id);
    ",
    // 1 -> 2: the audit trail (`explain`), as the SQLite file's version 4.
    "
    CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        tenant text NOT NULL,
        member text NOT NULL,
        collection text NOT NULL,
        at timestamptz NOT NULL,
        rule text NOT NULL,
        label_folded text NOT NULL,
        raynet_id text,
        outlook_id text,
        entry text NOT NULL
    );
    CREATE INDEX audit_by_raynet_id ON audit (raynet_id) WHERE raynet_id IS NOT NULL;
    CREATE INDEX audit_by_outlook_id ON audit (outlook_id) WHERE outlook_id IS NOT NULL;
    CREATE INDEX audit_by_at ON audit (at);
    ",
    // 2 -> 3: each round's invitation counts, as the SQLite file's version 5.
    "
    ALTER TABLE rounds ADD COLUMN invitations bigint NOT NULL DEFAULT 0;
    ALTER TABLE rounds ADD COLUMN invitations_deferred bigint NOT NULL DEFAULT 0;
    ",
];

/// Creates `schema` when missing and brings the tables to [`SCHEMA_VERSION`], all in one
/// transaction under [`MIGRATION_LOCK`]. A newer schema is refused before anything is written.
///
/// `schema` was checked by the URL's parser (lowercase letters, digits, `_`): it needs no
/// quoting.
pub(super) async fn migrate(
    client: &mut tokio_postgres::Client,
    schema: Option<&str>,
    location: &str,
) -> Result<(), PostgresStoreError> {
    let failed = |source| PostgresStoreError::Migrate {
        location: location.to_owned(),
        source,
    };
    let tx = client.transaction().await.map_err(failed)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(failed)?;
    if let Some(schema) = schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .map_err(failed)?;
    }
    // Read after the lock: a migration that ran meanwhile is committed and seen.
    let has_table: bool = tx
        .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(failed)?;
    let mut version: i64 = if has_table {
        tx.query_one("SELECT max(version) FROM schema_version", &[])
            .await
            .and_then(|r| r.try_get::<_, Option<i64>>(0))
            .map_err(failed)?
            .unwrap_or(0)
    } else {
        0
    };
    if version > SCHEMA_VERSION {
        // Dropping the transaction rolls it back: nothing was written.
        return Err(PostgresStoreError::TooNew {
            location: location.to_owned(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    while version < SCHEMA_VERSION {
        let step = usize::try_from(version).unwrap_or(usize::MAX);
        let Some(sql) = MIGRATIONS.get(step) else {
            break;
        };
        tx.batch_execute(sql).await.map_err(failed)?;
        version += 1;
        tx.execute("UPDATE schema_version SET version = $1", &[&version])
            .await
            .map_err(failed)?;
        tracing::debug!(location, version, "PostgreSQL schema migrated");
    }
    tx.commit().await.map_err(failed)
}
