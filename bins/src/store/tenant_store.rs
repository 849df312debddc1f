//! [`TenantStore`] for [`SqliteStore`]: the tenant-wide reads a round plans its shared work
//! from, one query each, and the log of finished rounds (`status` shows the last).

use async_trait::async_trait;
use chrono::Utc;
use rusqlite::params;
use sync_core::tenant::{RoundSummary, TenantStore};
use sync_core::{
    Collection, Contact, Cursor, Event, RemoteId, Scope, Side, StateStore, StoreError, Version,
};

use std::time::Duration;

use sync_core::Email;
use sync_secret::Secret;

use super::open::SqliteStore;
use super::push::PushNote;
use super::rows::{collection_text, id_column, query_rows, recorded_side_version};
use super::service::{Lease, LeaseTaken, MemberRound, ServiceStore};
use super::status::ScopeStatus;

/// The SQLite store keeps both collections in one file and answers the tenant-wide reads with
/// one query each.
#[async_trait]
impl TenantStore for SqliteStore {
    fn calendar(&self) -> &dyn StateStore<Event> {
        self
    }

    fn contacts(&self) -> &dyn StateStore<Contact> {
        self
    }

    async fn cursors(&self, tenant: &str) -> Result<Vec<(Scope, Side, Cursor)>, StoreError> {
        self.cursors_of(tenant)
    }

    async fn pair_counts(&self, tenant: &str) -> Result<Vec<(Scope, usize)>, StoreError> {
        Ok(self
            .status()?
            .into_iter()
            .filter(|s| s.scope.tenant == tenant)
            .map(|s| (s.scope, usize::try_from(s.pairs).unwrap_or(usize::MAX)))
            .collect())
    }

    async fn recorded_version(
        &self,
        scope: &Scope,
        side: Side,
        id: &RemoteId,
    ) -> Result<Option<Version>, StoreError> {
        // One indexed query: the pair whose `side` holds `id`.
        let sql = format!(
            "SELECT p.record FROM pairs p JOIN scopes s ON s.id = p.scope_id
             WHERE p.{} = ?1 AND s.tenant = ?2 AND s.member = ?3 AND s.collection = ?4",
            id_column(side)
        );
        let params = params![
            id.as_str(),
            scope.tenant,
            scope.member,
            collection_text(scope.collection)
        ];
        let found: Vec<(String,)> =
            query_rows(&self.lock(), "find a pair by its item", &sql, params)?;
        let Some((record,)) = found.into_iter().next() else {
            return Ok(None);
        };
        recorded_side_version(scope, side, &record)
    }

    async fn scopes_holding(
        &self,
        tenant: &str,
        collection: Collection,
        side: Side,
        id: &RemoteId,
    ) -> Result<Vec<Scope>, StoreError> {
        let sql = format!(
            "SELECT DISTINCT s.member FROM pairs p JOIN scopes s ON s.id = p.scope_id
             WHERE p.{} = ?1 AND s.tenant = ?2 AND s.collection = ?3 ORDER BY s.member",
            id_column(side)
        );
        let params = params![id.as_str(), tenant, collection_text(collection)];
        let members: Vec<(String,)> =
            query_rows(&self.lock(), "find pairs by their item", &sql, params)?;
        Ok(members
            .into_iter()
            .map(|(m,)| Scope::new(tenant, m, collection))
            .collect())
    }

    async fn record_round(&self, scope: &Scope, summary: &RoundSummary) -> Result<(), StoreError> {
        let json = serde_json::to_value(summary)
            .map_err(|e| StoreError::with_source("record a round", e))?;
        SqliteStore::record_round(self, scope, &json, Utc::now())
    }
}

/// The SQLite file as the binary's store: the push rows and leases of `push.rs` and `lease.rs`,
/// each call one statement or one transaction.
#[async_trait]
impl ServiceStore for SqliteStore {
    fn location(&self) -> String {
        self.path().display().to_string()
    }

    async fn status(&self) -> Result<Vec<ScopeStatus>, StoreError> {
        SqliteStore::status(self)
    }

    async fn add_push_note(&self, tenant: &str, note: &PushNote) -> Result<i64, StoreError> {
        SqliteStore::add_push_note(self, tenant, note)
    }

    async fn push_notes(&self, tenant: &str) -> Result<Vec<(i64, PushNote)>, StoreError> {
        SqliteStore::push_notes(self, tenant)
    }

    async fn drop_push_notes(
        &self,
        tenant: &str,
        upto: i64,
        handled: Option<&[(Email, Collection)]>,
    ) -> Result<(), StoreError> {
        SqliteStore::drop_push_notes(self, tenant, upto, handled)
    }

    async fn kept_subscriptions(
        &self,
        tenant: &str,
    ) -> Result<Vec<(Email, Collection, String)>, StoreError> {
        SqliteStore::kept_subscriptions(self, tenant)
    }

    async fn keep_subscription(
        &self,
        tenant: &str,
        member: &Email,
        collection: Collection,
        record: Option<&str>,
    ) -> Result<(), StoreError> {
        SqliteStore::keep_subscription(self, tenant, member, collection, record)
    }

    async fn push_secret(&self, tenant: &str, name: &str) -> Result<Secret, StoreError> {
        SqliteStore::push_secret(self, tenant, name)
    }

    async fn push_secrets(&self, tenant: &str) -> Result<Vec<(String, Secret)>, StoreError> {
        SqliteStore::push_secrets(self, tenant)
    }

    async fn put_push_secret(
        &self,
        tenant: &str,
        name: &str,
        value: &Secret,
    ) -> Result<(), StoreError> {
        SqliteStore::put_push_secret(self, tenant, name, value)
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseTaken, StoreError> {
        self.take_lease_now(name, holder, ttl)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.release_lease_now(name, holder)
    }

    async fn leases(&self) -> Result<Vec<Lease>, StoreError> {
        self.all_leases()
    }

    async fn last_clean_rounds(
        &self,
        tenant: &str,
    ) -> Result<Vec<(Scope, chrono::DateTime<Utc>)>, StoreError> {
        self.last_clean_rounds_of(tenant)
    }

    async fn begin_member_rounds(
        &self,
        tenant: &str,
        members: &[Email],
        worker: &str,
    ) -> Result<Vec<i64>, StoreError> {
        self.begin_member_rounds_now(tenant, members, worker)
    }

    async fn end_member_rounds(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.end_member_rounds_now(ids)
    }

    async fn member_rounds(&self, tenant: &str) -> Result<Vec<MemberRound>, StoreError> {
        self.member_rounds_of(tenant)
    }
}
