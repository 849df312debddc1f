//! What `raynet-sync status` reads: the last rounds of each scope ([`RoundRecord`]), the counts
//! per scope ([`ScopeStatus`]), and every cursor of a tenant ([`SqliteStore::cursors_of`]).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use sync_core::{Cursor, Scope, Side, StoreError};

use super::error::sql_err;
use super::open::SqliteStore;
use super::rows::{parse_collection, parse_side, query_rows, scope_id};

/// How many round summaries are kept per scope.
pub(super) const ROUNDS_KEPT: i64 = 50;

/// A past round's summary, as kept for `raynet-sync status`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundRecord {
    /// The scope the round was for.
    pub scope: Scope,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// The summary the caller recorded (counts, failures, ...).
    pub summary: serde_json::Value,
    /// Writes of that round that made Exchange mail attendees (its own column).
    pub invitations: u64,
    /// Writes that would have mailed attendees, deferred by the invitation cap to the next
    /// round (its own column).
    pub invitations_deferred: u64,
}

/// The invitation counts of a round summary (`invitations`, `invitations_deferred`; 0 when a
/// summary does not say), as the stores keep them in their own columns.
pub(super) fn invitation_counts(summary: &serde_json::Value) -> (i64, i64) {
    let get = |key: &str| {
        summary
            .get(key)
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| i64::try_from(n).ok())
            .unwrap_or(0)
    };
    (get("invitations"), get("invitations_deferred"))
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

impl SqliteStore {
    /// Records the summary of a round of `scope` that ended at `finished_at`; its invitation
    /// counts (`invitations`, `invitations_deferred`) also go to their own columns. Only the
    /// last few rounds of each scope are kept.
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
            let (invitations, deferred) = invitation_counts(summary);
            tx.execute(
                "INSERT INTO rounds (scope_id, finished_at, summary, invitations, \
                 invitations_deferred) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    sid,
                    finished_at.to_rfc3339(),
                    summary.to_string(),
                    invitations,
                    deferred
                ],
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
                        r.finished_at, r.summary, r.invitations, r.invitations_deferred
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
                        r.get::<_, Option<i64>>(9)?,
                        r.get::<_, Option<i64>>(10)?,
                    ))
                })
                .map_err(sql_err("read the status"))?;
            let mut out = Vec::new();
            for row in rows {
                let (
                    tenant,
                    member,
                    collection,
                    pairs,
                    pending,
                    cursors,
                    finished,
                    summary,
                    invitations,
                    deferred,
                ) = row.map_err(sql_err("read the status"))?;
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
                        invitations: count(invitations.unwrap_or(0)),
                        invitations_deferred: count(deferred.unwrap_or(0)),
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
        let rows: Vec<(String, String, String, String)> = query_rows(
            &self.lock(),
            "read the cursors",
            "SELECT s.member, s.collection, c.side, c.cursor
             FROM cursors c JOIN scopes s ON s.id = c.scope_id
             WHERE s.tenant = ?1
             ORDER BY s.member, s.collection, c.side",
            [tenant],
        )?;
        let mut out = Vec::new();
        for (member, collection, side, cursor) in rows {
            let scope = Scope::new(tenant, member, parse_collection(&collection)?);
            let cursor = Cursor::new(cursor)
                .map_err(|e| StoreError::with_source(format!("damaged cursor in {scope}"), e))?;
            out.push((scope, parse_side(&side)?, cursor));
        }
        Ok(out)
    }
}

impl SqliteStore {
    /// When each scope of `tenant` last had a clean round, among the rounds kept.
    ///
    /// # Errors
    /// A [`StoreError`] when the read fails or a row is damaged.
    pub fn last_clean_rounds_of(
        &self,
        tenant: &str,
    ) -> Result<Vec<(Scope, DateTime<Utc>)>, StoreError> {
        // The summaries are compact JSON: a clean one holds `"clean":true`.
        let rows: Vec<(String, String, String)> = query_rows(
            &self.lock(),
            "read the clean rounds",
            "SELECT s.member, s.collection, max(r.finished_at)
             FROM rounds r JOIN scopes s ON s.id = r.scope_id
             WHERE s.tenant = ?1 AND r.summary LIKE '%\"clean\":true%'
             GROUP BY s.member, s.collection ORDER BY s.member, s.collection",
            [tenant],
        )?;
        rows.into_iter()
            .map(|(member, collection, at)| {
                let scope = Scope::new(tenant, member, parse_collection(&collection)?);
                let at = DateTime::parse_from_rfc3339(&at)
                    .map_err(|e| {
                        StoreError::with_source(format!("damaged round time in {scope}"), e)
                    })?
                    .with_timezone(&Utc);
                Ok((scope, at))
            })
            .collect()
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
