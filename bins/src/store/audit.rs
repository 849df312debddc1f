//! The audit trail in the state file ([`AuditTrail`] for [`SqliteStore`]): the table `audit`,
//! one row per entry — the tenant, member and collection, the time in Unix milliseconds, the
//! rule's code, the folded label and the item's ids (indexed) for the lookups, and the entry as
//! JSON.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::params;
use sync_core::{AuditEntry, RoundReport, StoreError};

use super::error::sql_err;
use super::open::SqliteStore;
use super::rows::{collection_text, parse_collection, query_rows};
use super::service::{AuditMatch, AuditRecord, AuditTrail, fold_label};

/// A row of `audit` as read: id, tenant, member, collection, at, entry.
type AuditRow = (i64, String, String, String, i64, String);

#[async_trait]
impl AuditTrail for SqliteStore {
    async fn record_audit(
        &self,
        tenant: &str,
        at: DateTime<Utc>,
        rounds: &[RoundReport],
    ) -> Result<usize, StoreError> {
        let count: usize = rounds.iter().map(|r| r.audit.len()).sum();
        if count == 0 {
            return Ok(0);
        }
        let fail = sql_err("record the audit trail");
        let millis = at.timestamp_millis();
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(&fail)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO audit (tenant, member, collection, at, rule, label_folded,
                        raynet_id, outlook_id, entry)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(&fail)?;
            // Each entry encoded as it goes in (a first round's hundreds of thousands of
            // entries are never all held as text at once), into one reused buffer.
            let mut json = Vec::with_capacity(512);
            for report in rounds {
                for entry in &report.audit {
                    json.clear();
                    serde_json::to_writer(&mut json, entry)
                        .map_err(|e| StoreError::with_source("cannot encode an audit entry", e))?;
                    let text = std::str::from_utf8(&json)
                        .map_err(|e| StoreError::with_source("cannot encode an audit entry", e))?;
                    insert
                        .execute(params![
                            tenant,
                            report.scope.member,
                            collection_text(report.scope.collection),
                            millis,
                            entry.rule.code(),
                            fold_label(&entry.label),
                            entry.raynet_id.as_ref().map(sync_core::RemoteId::as_str),
                            entry.outlook_id.as_ref().map(sync_core::RemoteId::as_str),
                            text,
                        ])
                        .map_err(&fail)?;
                }
            }
        }
        tx.commit().map_err(&fail)?;
        Ok(count)
    }

    async fn find_audit(
        &self,
        tenant: Option<&str>,
        by: AuditMatch<'_>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let (condition, value) = match by {
            AuditMatch::RaynetId(id) => ("raynet_id = ?1", id.to_owned()),
            AuditMatch::OutlookId(id) => ("outlook_id = ?1", id.to_owned()),
            AuditMatch::Title(text) => ("instr(label_folded, ?1) > 0", fold_label(text)),
        };
        let sql = format!(
            "SELECT id, tenant, member, collection, at, entry FROM audit
             WHERE {condition} AND (?2 IS NULL OR tenant = ?2)
             ORDER BY id DESC LIMIT ?3"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<AuditRow> = query_rows(
            &self.lock(),
            "look up the audit trail",
            &sql,
            params![value, tenant, limit],
        )?;
        Ok(rows
            .into_iter()
            .rev()
            .filter_map(|(id, tenant, member, collection, at, entry)| {
                let at = DateTime::from_timestamp_millis(at).unwrap_or(DateTime::<Utc>::MIN_UTC);
                audit_record(id, tenant, member, &collection, at, &entry)
            })
            .collect())
    }

    async fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let gone = self
            .lock()
            .execute(
                "DELETE FROM audit WHERE at < ?1",
                [before.timestamp_millis()],
            )
            .map_err(sql_err("prune the audit trail"))?;
        Ok(gone as u64)
    }
}

/// An entry as read from its columns (both stores), or `None` (with a warning) for a row that
/// cannot be used.
pub(super) fn audit_record(
    id: i64,
    tenant: String,
    member: String,
    collection: &str,
    at: DateTime<Utc>,
    entry: &str,
) -> Option<AuditRecord> {
    let decoded = parse_collection(collection).and_then(|c| {
        serde_json::from_str::<AuditEntry>(entry)
            .map(|e| (c, e))
            .map_err(|e| StoreError::with_source("damaged audit entry", e))
    });
    match decoded {
        Ok((collection, entry)) => Some(AuditRecord {
            id,
            at,
            tenant,
            member,
            collection,
            entry,
        }),
        Err(e) => {
            tracing::warn!(row = id, error = %e, "an audit entry cannot be read; skipped");
            None
        }
    }
}
