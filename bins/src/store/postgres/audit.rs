//! The audit trail in PostgreSQL ([`AuditTrail`] for [`PostgresStore`]): the SQLite file's
//! `audit` table with a `timestamptz`. A round's entries go in one transaction, a few
//! thousand rows per statement (`unnest` of arrays), so that a first round's hundreds of
//! thousands of entries cost few round trips; each chunk is encoded just before it is sent.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sync_core::{AuditEntry, RoundReport, StoreError};

use super::super::audit::audit_record;
use super::super::rows::{collection_text, to_json};
use super::super::service::{AuditMatch, AuditRecord, AuditTrail, fold_label};
use super::connect::{PostgresStore, with_context};

/// Rows per `INSERT` statement.
const ROWS_PER_INSERT: usize = 2_000;

/// One entry's columns, as the insert sends them.
struct Columns<'a> {
    member: &'a str,
    collection: &'static str,
    rule: &'static str,
    label_folded: String,
    raynet_id: Option<&'a str>,
    outlook_id: Option<&'a str>,
    entry: String,
}

impl<'a> Columns<'a> {
    /// The columns of `e`, an entry of `report`.
    fn of(report: &'a RoundReport, e: &'a AuditEntry) -> Result<Self, StoreError> {
        Ok(Self {
            member: report.scope.member.as_str(),
            collection: collection_text(report.scope.collection),
            rule: e.rule.code(),
            label_folded: fold_label(&e.label),
            raynet_id: e.raynet_id.as_ref().map(sync_core::RemoteId::as_str),
            outlook_id: e.outlook_id.as_ref().map(sync_core::RemoteId::as_str),
            entry: to_json("an audit entry", e)?,
        })
    }
}

#[async_trait]
impl AuditTrail for PostgresStore {
    async fn record_audit(
        &self,
        tenant: &str,
        at: DateTime<Utc>,
        rounds: &[RoundReport],
    ) -> Result<usize, StoreError> {
        let entries: Vec<(&RoundReport, &AuditEntry)> = rounds
            .iter()
            .flat_map(|r| r.audit.iter().map(move |e| (r, e)))
            .collect();
        if entries.is_empty() {
            return Ok(0);
        }
        let call = async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let insert = tx
                .prepare(
                    "INSERT INTO audit (tenant, member, collection, at, rule, label_folded,
                        raynet_id, outlook_id, entry)
                     SELECT $1, m, c, $2, r, l, ri, oi, e
                     FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                 $8::text[], $9::text[]) AS t (m, c, r, l, ri, oi, e)",
                )
                .await?;
            for part in entries.chunks(ROWS_PER_INSERT) {
                let chunk = part
                    .iter()
                    .map(|(r, e)| Columns::of(r, e))
                    .collect::<Result<Vec<_>, _>>()?;
                let members: Vec<&str> = chunk.iter().map(|c| c.member).collect();
                let collections: Vec<&str> = chunk.iter().map(|c| c.collection).collect();
                let rules: Vec<&str> = chunk.iter().map(|c| c.rule).collect();
                let labels: Vec<&str> = chunk.iter().map(|c| c.label_folded.as_str()).collect();
                let raynet_ids: Vec<Option<&str>> = chunk.iter().map(|c| c.raynet_id).collect();
                let outlook_ids: Vec<Option<&str>> = chunk.iter().map(|c| c.outlook_id).collect();
                let entries: Vec<&str> = chunk.iter().map(|c| c.entry.as_str()).collect();
                tx.execute(
                    &insert,
                    &[
                        &tenant,
                        &at,
                        &members,
                        &collections,
                        &rules,
                        &labels,
                        &raynet_ids,
                        &outlook_ids,
                        &entries,
                    ],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(entries.len())
        };
        with_context(call, || {
            self.context(&format!("record the audit trail of tenant {tenant}"))
        })
        .await
    }

    async fn find_audit(
        &self,
        tenant: Option<&str>,
        by: AuditMatch<'_>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let (condition, value) = match by {
            AuditMatch::RaynetId(id) => ("raynet_id = $1", id.to_owned()),
            AuditMatch::OutlookId(id) => ("outlook_id = $1", id.to_owned()),
            AuditMatch::Title(text) => ("strpos(label_folded, $1) > 0", fold_label(text)),
        };
        let sql = format!(
            "SELECT id, tenant, member, collection, at, entry FROM audit
             WHERE {condition} AND ($2::text IS NULL OR tenant = $2)
             ORDER BY id DESC LIMIT $3"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let call = async {
            let client = self.client().await?;
            let rows = client.query(&sql, &[&value, &tenant, &limit]).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows.iter().rev() {
                let collection: String = row.try_get(3)?;
                let entry: String = row.try_get(5)?;
                out.extend(audit_record(
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    &collection,
                    row.try_get(4)?,
                    &entry,
                ));
            }
            Ok(out)
        };
        with_context(call, || self.context("look up the audit trail")).await
    }

    async fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let call = async {
            let client = self.client().await?;
            Ok(client
                .execute("DELETE FROM audit WHERE at < $1", &[&before])
                .await?)
        };
        with_context(call, || self.context("prune the audit trail")).await
    }
}
