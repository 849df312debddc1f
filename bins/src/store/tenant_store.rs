//! [`TenantStore`] for [`SqliteStore`]: the tenant-wide reads a round plans its shared work
//! from, one query each, and the log of finished rounds (`status` shows the last).

use async_trait::async_trait;
use chrono::Utc;
use sync_core::tenant::{RoundSummary, TenantStore};
use sync_core::{
    Collection, Contact, Cursor, Event, PairRecord, RemoteId, Scope, Side, StateStore, StoreError,
    Version,
};

use super::open::SqliteStore;
use super::rows::decode;

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
        let Some(record) = self.pair_by_item(scope, side, id)? else {
            return Ok(None);
        };
        let version = match scope.collection {
            Collection::Calendar => decode::<PairRecord<Event>>("pair", scope, &record)?
                .side(side)
                .map(|s| s.version.clone()),
            Collection::Contacts => decode::<PairRecord<Contact>>("pair", scope, &record)?
                .side(side)
                .map(|s| s.version.clone()),
        };
        Ok(version)
    }

    async fn scopes_holding(
        &self,
        tenant: &str,
        collection: Collection,
        side: Side,
        id: &RemoteId,
    ) -> Result<Vec<Scope>, StoreError> {
        self.scopes_with_item(tenant, collection, side, id)
    }

    async fn record_round(&self, scope: &Scope, summary: &RoundSummary) -> Result<(), StoreError> {
        let json = serde_json::to_value(summary)
            .map_err(|e| StoreError::with_source("record a round", e))?;
        SqliteStore::record_round(self, scope, &json, Utc::now())
    }
}
