//! The log of finished rounds and what `raynet-sync status` reads: the counts per scope and
//! the last round of each ([`ScopeStatus`]), as the SQLite file answers them.

use chrono::{DateTime, Utc};
use sync_core::{Scope, StoreError};

use super::super::rows::parse_collection;
use super::super::status::{ROUNDS_KEPT, RoundRecord, ScopeStatus, invitation_counts};
use super::connect::{PostgresStore, with_context};
use super::state_store::scope_id;

impl PostgresStore {
    /// Records `summary` as the last round of `scope`, finished now (the database's clock),
    /// its invitation counts also in their own columns; only the last [`ROUNDS_KEPT`] of each
    /// scope are kept.
    pub(super) async fn record_round_now(
        &self,
        scope: &Scope,
        summary: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let call = async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let sid = scope_id(&tx, scope).await?;
            let (invitations, deferred) = invitation_counts(summary);
            tx.execute(
                "INSERT INTO rounds (scope_id, finished_at, summary, invitations,
                    invitations_deferred) VALUES ($1, now(), $2, $3, $4)",
                &[&sid, &summary.to_string(), &invitations, &deferred],
            )
            .await?;
            tx.execute(
                "DELETE FROM rounds WHERE scope_id = $1 AND id NOT IN
                 (SELECT id FROM rounds WHERE scope_id = $1 ORDER BY id DESC LIMIT $2)",
                &[&sid, &ROUNDS_KEPT],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        };
        with_context(call, || self.scope_context("record a round", scope)).await
    }

    /// When each scope of `tenant` last had a clean round, among the rounds kept.
    pub(super) async fn last_clean_rounds_of(
        &self,
        tenant: &str,
    ) -> Result<Vec<(Scope, chrono::DateTime<chrono::Utc>)>, StoreError> {
        let call = async {
            let client = self.client().await?;
            // The summaries are compact JSON: a clean one holds `"clean":true` (text, not
            // jsonb: see the schema).
            let rows = client
                .query(
                    "SELECT s.member, s.collection, max(r.finished_at)
                     FROM rounds r JOIN scopes s ON s.id = r.scope_id
                     WHERE s.tenant = $1 AND r.summary LIKE '%\"clean\":true%'
                     GROUP BY s.member, s.collection
                     ORDER BY s.member COLLATE \"C\", s.collection COLLATE \"C\"",
                    &[&tenant],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let member: String = r.try_get(0)?;
                let collection: String = r.try_get(1)?;
                let scope = Scope::new(tenant, member, parse_collection(&collection)?);
                out.push((scope, r.try_get(2)?));
            }
            Ok(out)
        };
        with_context(call, || {
            self.context(&format!("read the clean rounds of tenant {tenant}"))
        })
        .await
    }

    /// What the store knows of each scope: counts and the last round, ordered by scope (one
    /// statement: one snapshot).
    pub(super) async fn status_now(&self) -> Result<Vec<ScopeStatus>, StoreError> {
        let call = async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT s.tenant, s.member, s.collection,
                        (SELECT count(*) FROM pairs WHERE scope_id = s.id),
                        (SELECT count(*) FROM pending WHERE scope_id = s.id),
                        (SELECT count(*) FROM cursors WHERE scope_id = s.id),
                        r.finished_at, r.summary, r.invitations, r.invitations_deferred
                     FROM scopes s
                     LEFT JOIN rounds r ON r.id =
                        (SELECT max(id) FROM rounds WHERE scope_id = s.id)
                     ORDER BY s.tenant COLLATE \"C\", s.member COLLATE \"C\",
                        s.collection COLLATE \"C\"",
                    &[],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let scope = Scope::new(
                    row.try_get::<_, String>(0)?,
                    row.try_get::<_, String>(1)?,
                    parse_collection(row.try_get(2)?)?,
                );
                let finished: Option<DateTime<Utc>> = row.try_get(6)?;
                let summary: Option<&str> = row.try_get(7)?;
                let last_round = match (finished, summary) {
                    (Some(finished_at), Some(summary)) => Some(RoundRecord {
                        scope: scope.clone(),
                        finished_at,
                        summary: serde_json::from_str(summary).map_err(|e| {
                            StoreError::with_source(format!("damaged round in {scope}"), e)
                        })?,
                        invitations: count(row.try_get::<_, Option<i64>>(8)?.unwrap_or(0)),
                        invitations_deferred: count(row.try_get::<_, Option<i64>>(9)?.unwrap_or(0)),
                    }),
                    _ => None,
                };
                out.push(ScopeStatus {
                    scope,
                    pairs: count(row.try_get(3)?),
                    pending: count(row.try_get(4)?),
                    cursors: count(row.try_get(5)?),
                    last_round,
                });
            }
            Ok(out)
        };
        with_context(call, || self.context("read the status")).await
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
