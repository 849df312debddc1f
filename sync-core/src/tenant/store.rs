//! What a tenant round keeps: [`TenantStore`], a [`StateStore`] per collection with the
//! tenant-wide reads, and [`MemoryTenantStore`], the in-memory one.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use super::report::RoundSummary;
use crate::contact::Contact;
use crate::error::StoreError;
use crate::event::Event;
use crate::ids::{Collection, Cursor, RemoteId, Scope, Side, Version};
use crate::state::{MemoryStore, StateStore, StoredState};

/// A state store for a whole tenant: one [`StateStore`] per collection (the same value may
/// serve both), plus the tenant-wide reads a round plans its shared work from, and the log of
/// finished rounds.
///
/// The tenant-wide reads have defaults built on the collections' stores; a store that can
/// answer them more cheaply (one SQL query, say) overrides them.
///
/// Note for implementors: the defaults load every scope of the tenant. They are right, and
/// fine for small tenants; override them for large ones.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Where the calendar pairs are kept.
    fn calendar(&self) -> &dyn StateStore<Event>;

    /// Where the contact pairs are kept.
    fn contacts(&self) -> &dyn StateStore<Contact>;

    /// Every cursor stored for `tenant`'s scopes.
    ///
    /// # Errors
    /// A [`StoreError`] when the store cannot be read.
    async fn cursors(&self, tenant: &str) -> Result<Vec<(Scope, Side, Cursor)>, StoreError> {
        let mut out = Vec::new();
        for scope in tenant_scopes(self, tenant).await? {
            let cursors = match scope.collection {
                Collection::Calendar => self.calendar().load(&scope).await?.cursors,
                Collection::Contacts => self.contacts().load(&scope).await?.cursors,
            };
            out.extend(
                cursors
                    .into_iter()
                    .map(|(side, c)| (scope.clone(), side, c)),
            );
        }
        Ok(out)
    }

    /// How many pairs each of `tenant`'s scopes holds.
    ///
    /// # Errors
    /// A [`StoreError`] when the store cannot be read.
    async fn pair_counts(&self, tenant: &str) -> Result<Vec<(Scope, usize)>, StoreError> {
        let mut out = Vec::new();
        for scope in tenant_scopes(self, tenant).await? {
            let n = match scope.collection {
                Collection::Calendar => self.calendar().load(&scope).await?.pairs.len(),
                Collection::Contacts => self.contacts().load(&scope).await?.pairs.len(),
            };
            out.push((scope, n));
        }
        Ok(out)
    }

    /// The version recorded for the item `id` on `side` of `scope`, if a pair holds it.
    ///
    /// # Errors
    /// A [`StoreError`] when the store cannot be read.
    async fn recorded_version(
        &self,
        scope: &Scope,
        side: Side,
        id: &RemoteId,
    ) -> Result<Option<Version>, StoreError> {
        fn version_in<T>(state: &StoredState<T>, side: Side, id: &RemoteId) -> Option<Version> {
            let (_, pair) = state.find(side, id)?;
            Some(pair.side(side)?.version.clone())
        }
        Ok(match scope.collection {
            Collection::Calendar => version_in(&self.calendar().load(scope).await?, side, id),
            Collection::Contacts => version_in(&self.contacts().load(scope).await?, side, id),
        })
    }

    /// The scopes of `tenant` whose pairs hold the item `id` on `side` of `collection`: whose
    /// round a change notification about that item is for.
    ///
    /// # Errors
    /// A [`StoreError`] when the store cannot be read.
    async fn scopes_holding(
        &self,
        tenant: &str,
        collection: Collection,
        side: Side,
        id: &RemoteId,
    ) -> Result<Vec<Scope>, StoreError> {
        let mut out = Vec::new();
        for scope in tenant_scopes(self, tenant).await? {
            if scope.collection == collection
                && self.recorded_version(&scope, side, id).await?.is_some()
            {
                out.push(scope);
            }
        }
        Ok(out)
    }

    /// Records the summary of a finished round of `scope` (not called for dry runs). The
    /// default keeps nothing.
    ///
    /// # Errors
    /// A [`StoreError`] when the write fails (the round is reported all the same).
    async fn record_round(&self, scope: &Scope, summary: &RoundSummary) -> Result<(), StoreError> {
        let _ = (scope, summary);
        Ok(())
    }
}

/// A reference to a store is a store: a round can run on `&dyn TenantStore` (or on a reference
/// to any trait object whose trait extends [`TenantStore`], once upcast).
#[async_trait]
impl<S: TenantStore + ?Sized> TenantStore for &S {
    fn calendar(&self) -> &dyn StateStore<Event> {
        (**self).calendar()
    }

    fn contacts(&self) -> &dyn StateStore<Contact> {
        (**self).contacts()
    }

    async fn cursors(&self, tenant: &str) -> Result<Vec<(Scope, Side, Cursor)>, StoreError> {
        (**self).cursors(tenant).await
    }

    async fn pair_counts(&self, tenant: &str) -> Result<Vec<(Scope, usize)>, StoreError> {
        (**self).pair_counts(tenant).await
    }

    async fn recorded_version(
        &self,
        scope: &Scope,
        side: Side,
        id: &RemoteId,
    ) -> Result<Option<Version>, StoreError> {
        (**self).recorded_version(scope, side, id).await
    }

    async fn scopes_holding(
        &self,
        tenant: &str,
        collection: Collection,
        side: Side,
        id: &RemoteId,
    ) -> Result<Vec<Scope>, StoreError> {
        (**self).scopes_holding(tenant, collection, side, id).await
    }

    async fn record_round(&self, scope: &Scope, summary: &RoundSummary) -> Result<(), StoreError> {
        (**self).record_round(scope, summary).await
    }
}

/// The scopes of `tenant`, of both collections (a store serving both lists each once).
async fn tenant_scopes<S: TenantStore + ?Sized>(
    store: &S,
    tenant: &str,
) -> Result<Vec<Scope>, StoreError> {
    let mut scopes = store.calendar().scopes().await?;
    scopes.extend(store.contacts().scopes().await?);
    scopes.retain(|s| s.tenant == tenant);
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

/// An in-memory [`TenantStore`]: one [`MemoryStore`] per collection and the summaries of the
/// rounds it was told about. For tests and embedders that keep state elsewhere.
#[derive(Debug, Default)]
pub struct MemoryTenantStore {
    /// The calendar pairs.
    pub calendar: MemoryStore<Event>,
    /// The contact pairs.
    pub contacts: MemoryStore<Contact>,
    rounds: Mutex<Vec<RoundSummary>>,
}

impl MemoryTenantStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The summaries of the rounds recorded so far, oldest first.
    #[must_use]
    pub fn rounds(&self) -> Vec<RoundSummary> {
        self.rounds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl TenantStore for MemoryTenantStore {
    fn calendar(&self) -> &dyn StateStore<Event> {
        &self.calendar
    }

    fn contacts(&self) -> &dyn StateStore<Contact> {
        &self.contacts
    }

    async fn record_round(&self, _: &Scope, summary: &RoundSummary) -> Result<(), StoreError> {
        self.rounds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(summary.clone());
        Ok(())
    }
}
