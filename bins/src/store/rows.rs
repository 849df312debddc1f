//! How values become rows and back: a scope's row id, the text of a collection and of a side,
//! JSON records. A row the engine cannot use is a [`StoreError`] naming the scope.

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use sync_core::{Collection, PairId, Scope, Side, StoreError};

pub(super) fn collection_text(c: Collection) -> &'static str {
    match c {
        Collection::Calendar => "calendar",
        Collection::Contacts => "contacts",
    }
}

pub(super) fn parse_collection(s: &str) -> Result<Collection, StoreError> {
    match s {
        "calendar" => Ok(Collection::Calendar),
        "contacts" => Ok(Collection::Contacts),
        other => Err(StoreError::new(format!(
            "damaged scope row: unknown collection {other:?}"
        ))),
    }
}

pub(super) fn side_text(s: Side) -> &'static str {
    match s {
        Side::Raynet => "raynet",
        Side::Outlook => "outlook",
    }
}

pub(super) fn parse_side(s: &str) -> Result<Side, StoreError> {
    match s {
        "raynet" => Ok(Side::Raynet),
        "outlook" => Ok(Side::Outlook),
        other => Err(StoreError::new(format!(
            "damaged cursor row: unknown side {other:?}"
        ))),
    }
}

/// The scope's row id, creating the row.
pub(super) fn scope_id(tx: &Transaction<'_>, scope: &Scope) -> Result<i64, rusqlite::Error> {
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
pub(super) fn find_scope_id(
    tx: &Transaction<'_>,
    scope: &Scope,
) -> Result<Option<i64>, rusqlite::Error> {
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

pub(super) fn to_json<V: Serialize>(what: &str, v: &V) -> Result<String, StoreError> {
    serde_json::to_string(v)
        .map_err(|e| StoreError::with_source(format!("cannot encode {what}"), e))
}

pub(super) fn pair_row_id(id: PairId) -> Result<i64, StoreError> {
    i64::try_from(id.get()).map_err(|e| StoreError::with_source(format!("pair id {id}"), e))
}

pub(super) fn decode<V: serde::de::DeserializeOwned>(
    what: &str,
    scope: &Scope,
    text: &str,
) -> Result<V, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::with_source(format!("damaged {what} in {scope}"), e))
}

/// Runs the query `sql` with `params` and reads every row as a `T` (a tuple of its columns);
/// an error names `what` could not be done.
pub(super) fn query_rows<T>(
    conn: &rusqlite::Connection,
    what: &'static str,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<T>, StoreError>
where
    T: for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error>,
{
    let fail = super::error::sql_err(what);
    let mut stmt = conn.prepare(sql).map_err(&fail)?;
    let rows = stmt.query_map(params, |r| T::try_from(r)).map_err(&fail)?;
    rows.collect::<Result<Vec<T>, _>>().map_err(fail)
}

/// The `pairs` column holding a side's item id (both stores name it so).
pub(super) fn id_column(side: Side) -> &'static str {
    match side {
        Side::Raynet => "raynet_id",
        Side::Outlook => "outlook_id",
    }
}

/// The version `side` of the pair stored as `record` (JSON) of `scope` holds.
pub(super) fn recorded_side_version(
    scope: &Scope,
    side: Side,
    record: &str,
) -> Result<Option<sync_core::Version>, StoreError> {
    fn version<T: serde::de::DeserializeOwned>(
        scope: &Scope,
        side: Side,
        record: &str,
    ) -> Result<Option<sync_core::Version>, StoreError> {
        let pair: sync_core::PairRecord<T> = decode("pair", scope, record)?;
        Ok(pair.side(side).map(|s| s.version.clone()))
    }
    match scope.collection {
        Collection::Calendar => version::<sync_core::Event>(scope, side, record),
        Collection::Contacts => version::<sync_core::Contact>(scope, side, record),
    }
}
