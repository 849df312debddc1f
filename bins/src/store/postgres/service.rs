//! [`PostgresStore`] as a [`TenantStore`] (the tenant-wide reads, one query each, and the log
//! of rounds) and as the binary's [`ServiceStore`] (delegating to `status.rs`, `push.rs`,
//! `lease.rs` and `listen.rs`).

use std::time::Duration;

use async_trait::async_trait;
use sync_core::tenant::{RoundSummary, TenantStore};
use sync_core::{
    Collection, Contact, Cursor, Email, Event, RemoteId, Scope, Side, StateStore, StoreError,
    Version,
};
use sync_secret::Secret;
use tokio::sync::broadcast;

use super::super::push::PushNote;
use super::super::rows::{
    collection_text, id_column, parse_collection, parse_side, recorded_side_version,
};
use super::super::service::{Lease, LeaseTaken, MemberRound, ServiceStore};
use super::super::status::ScopeStatus;
use super::connect::{PostgresStore, with_context};

/// Both collections live in one database; the tenant-wide reads are one indexed query each.
#[async_trait]
impl TenantStore for PostgresStore {
    fn calendar(&self) -> &dyn StateStore<Event> {
        self
    }

    fn contacts(&self) -> &dyn StateStore<Contact> {
        self
    }

    async fn cursors(&self, tenant: &str) -> Result<Vec<(Scope, Side, Cursor)>, StoreError> {
        let call = async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT s.member, s.collection, c.side, c.cursor
                     FROM cursors c JOIN scopes s ON s.id = c.scope_id
                     WHERE s.tenant = $1
                     ORDER BY s.member COLLATE \"C\", s.collection COLLATE \"C\",
                        c.side COLLATE \"C\"",
                    &[&tenant],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let scope = Scope::new(
                    tenant,
                    row.try_get::<_, String>(0)?,
                    parse_collection(row.try_get(1)?)?,
                );
                let side = parse_side(row.try_get(2)?)?;
                let cursor = Cursor::new(row.try_get::<_, String>(3)?).map_err(|e| {
                    StoreError::with_source(format!("damaged cursor in {scope}"), e)
                })?;
                out.push((scope, side, cursor));
            }
            Ok(out)
        };
        with_context(call, || {
            self.context(&format!("read the cursors of tenant {tenant}"))
        })
        .await
    }

    async fn pair_counts(&self, tenant: &str) -> Result<Vec<(Scope, usize)>, StoreError> {
        let call = async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT s.member, s.collection, count(p.id)
                     FROM scopes s LEFT JOIN pairs p ON p.scope_id = s.id
                     WHERE s.tenant = $1
                     GROUP BY s.id, s.member, s.collection
                     ORDER BY s.member COLLATE \"C\", s.collection COLLATE \"C\"",
                    &[&tenant],
                )
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let scope = Scope::new(
                    tenant,
                    row.try_get::<_, String>(0)?,
                    parse_collection(row.try_get(1)?)?,
                );
                let n: i64 = row.try_get(2)?;
                out.push((scope, usize::try_from(n).unwrap_or(usize::MAX)));
            }
            Ok(out)
        };
        with_context(call, || {
            self.context(&format!("count the pairs of tenant {tenant}"))
        })
        .await
    }

    async fn recorded_version(
        &self,
        scope: &Scope,
        side: Side,
        id: &RemoteId,
    ) -> Result<Option<Version>, StoreError> {
        let call = async {
            let client = self.client().await?;
            // One indexed query: the pair whose `side` holds `id`.
            let sql = format!(
                "SELECT p.record FROM pairs p JOIN scopes s ON s.id = p.scope_id
                 WHERE p.{} = $1 AND s.tenant = $2 AND s.member = $3 AND s.collection = $4
                 ORDER BY p.id LIMIT 1",
                id_column(side)
            );
            let found = client
                .query_opt(
                    &sql,
                    &[
                        &id.as_str(),
                        &scope.tenant,
                        &scope.member,
                        &collection_text(scope.collection),
                    ],
                )
                .await?;
            let Some(row) = found else {
                return Ok(None);
            };
            let record: &str = row.try_get(0)?;
            Ok(recorded_side_version(scope, side, record)?)
        };
        with_context(call, || {
            self.scope_context("find a pair by its item", scope)
        })
        .await
    }

    async fn scopes_holding(
        &self,
        tenant: &str,
        collection: Collection,
        side: Side,
        id: &RemoteId,
    ) -> Result<Vec<Scope>, StoreError> {
        let call = async {
            let client = self.client().await?;
            let sql = format!(
                "SELECT DISTINCT s.member COLLATE \"C\" FROM pairs p
                 JOIN scopes s ON s.id = p.scope_id
                 WHERE p.{} = $1 AND s.tenant = $2 AND s.collection = $3
                 ORDER BY 1",
                id_column(side)
            );
            let rows = client
                .query(&sql, &[&id.as_str(), &tenant, &collection_text(collection)])
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(Scope::new(tenant, row.try_get::<_, String>(0)?, collection));
            }
            Ok(out)
        };
        with_context(call, || {
            self.context(&format!("find the pairs of an item in tenant {tenant}"))
        })
        .await
    }

    async fn record_round(&self, scope: &Scope, summary: &RoundSummary) -> Result<(), StoreError> {
        let json = serde_json::to_value(summary)
            .map_err(|e| StoreError::with_source(format!("cannot encode a round of {scope}"), e))?;
        self.record_round_now(scope, &json).await
    }
}

/// The database as the binary's store, shared by every worker pointed at it.
#[async_trait]
impl ServiceStore for PostgresStore {
    fn location(&self) -> String {
        PostgresStore::location(self).to_owned()
    }

    async fn status(&self) -> Result<Vec<ScopeStatus>, StoreError> {
        self.status_now().await
    }

    async fn add_push_note(&self, tenant: &str, note: &PushNote) -> Result<i64, StoreError> {
        self.add_note(tenant, note).await
    }

    async fn push_notes(&self, tenant: &str) -> Result<Vec<(i64, PushNote)>, StoreError> {
        self.notes(tenant).await
    }

    async fn drop_push_notes(
        &self,
        tenant: &str,
        upto: i64,
        handled: Option<&[(Email, Collection)]>,
    ) -> Result<(), StoreError> {
        self.drop_notes(tenant, upto, handled).await
    }

    async fn kept_subscriptions(
        &self,
        tenant: &str,
    ) -> Result<Vec<(Email, Collection, String)>, StoreError> {
        self.subscriptions(tenant).await
    }

    async fn keep_subscription(
        &self,
        tenant: &str,
        member: &Email,
        collection: Collection,
        record: Option<&str>,
    ) -> Result<(), StoreError> {
        self.keep_subscription_row(tenant, member, collection, record)
            .await
    }

    async fn push_secret(&self, tenant: &str, name: &str) -> Result<Secret, StoreError> {
        self.secret(tenant, name).await
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseTaken, StoreError> {
        self.take_lease_now(name, holder, ttl).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.release_lease_now(name, holder).await
    }

    async fn leases(&self) -> Result<Vec<Lease>, StoreError> {
        self.all_leases().await
    }

    async fn push_secrets(&self, tenant: &str) -> Result<Vec<(String, Secret)>, StoreError> {
        self.secrets(tenant).await
    }

    async fn put_push_secret(
        &self,
        tenant: &str,
        name: &str,
        value: &Secret,
    ) -> Result<(), StoreError> {
        self.put_secret(tenant, name, value).await
    }

    async fn last_clean_rounds(
        &self,
        tenant: &str,
    ) -> Result<Vec<(Scope, chrono::DateTime<chrono::Utc>)>, StoreError> {
        self.last_clean_rounds_of(tenant).await
    }

    async fn begin_member_rounds(
        &self,
        tenant: &str,
        members: &[Email],
        worker: &str,
    ) -> Result<Vec<i64>, StoreError> {
        self.begin_rounds(tenant, members, worker).await
    }

    async fn end_member_rounds(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.end_rounds(ids).await
    }

    async fn member_rounds(&self, tenant: &str) -> Result<Vec<MemberRound>, StoreError> {
        self.rounds_of(tenant).await
    }

    /// Every worker's notes: see `listen.rs`. A receiver may also get
    /// [`PostgresStore::EVERY_TENANT`] (`"*"`: every tenant), after the listening connection
    /// was made again.
    async fn note_wakeups(&self) -> Result<Option<broadcast::Receiver<String>>, StoreError> {
        self.subscribe_wakeups().await.map(Some)
    }
}
