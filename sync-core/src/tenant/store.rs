//! What a tenant round keeps: [`TenantStore`], a [`StateStore`] of both collections with the
//! tenant-wide reads, and [`MemoryTenantStore`], the in-memory one.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use super::report::RoundSummary;
use crate::contact::Contact;
use crate::error::StoreError;
use crate::event::Event;
use crate::ids::{Collection, Cursor, IdempotencyKey, PairId, Scope, Side};
use crate::state::{MemoryStore, PairRecord, PendingCreate, StateStore, StoredState};

/// A state store for a whole tenant: both collections, plus the tenant-wide reads a round
/// plans its shared work from, and the log of finished rounds.
///
/// Every method has a default built on [`StateStore`]; a store that can answer them more
/// cheaply (one SQL query, say) overrides them.
///
/// Note for implementors: the defaults load every scope of the tenant. They are right, and
/// fine for small tenants; override them for large ones.
#[async_trait]
pub trait TenantStore: StateStore<Event> + StateStore<Contact> {
    /// Every cursor stored for `tenant`'s scopes.
    ///
    /// # Errors
    /// A [`StoreError`] when the store cannot be read.
    async fn cursors(&self, tenant: &str) -> Result<Vec<(Scope, Side, Cursor)>, StoreError> {
        let mut out = Vec::new();
        for scope in tenant_scopes(self, tenant).await? {
            let cursors = match scope.collection {
                Collection::Calendar => StateStore::<Event>::load(self, &scope).await?.cursors,
                Collection::Contacts => StateStore::<Contact>::load(self, &scope).await?.cursors,
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
                Collection::Calendar => StateStore::<Event>::load(self, &scope).await?.pairs.len(),
                Collection::Contacts => {
                    StateStore::<Contact>::load(self, &scope).await?.pairs.len()
                }
            };
            out.push((scope, n));
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

async fn tenant_scopes<S: TenantStore + ?Sized>(
    store: &S,
    tenant: &str,
) -> Result<Vec<Scope>, StoreError> {
    let mut scopes = StateStore::<Event>::scopes(store).await?;
    scopes.retain(|s| s.tenant == tenant);
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

/// Implements `StateStore<$item>` for [`MemoryTenantStore`] by handing every call to the
/// collection's own store.
macro_rules! delegate_state_store {
    ($item:ty, $field:ident) => {
        #[async_trait]
        impl StateStore<$item> for MemoryTenantStore {
            async fn load(&self, scope: &Scope) -> Result<StoredState<$item>, StoreError> {
                self.$field.load(scope).await
            }
            async fn put_pair(
                &self,
                scope: &Scope,
                id: Option<PairId>,
                pair: &PairRecord<$item>,
            ) -> Result<PairId, StoreError> {
                self.$field.put_pair(scope, id, pair).await
            }
            async fn remove_pair(&self, scope: &Scope, id: PairId) -> Result<(), StoreError> {
                self.$field.remove_pair(scope, id).await
            }
            async fn put_cursor(
                &self,
                scope: &Scope,
                side: Side,
                cursor: Option<&Cursor>,
            ) -> Result<(), StoreError> {
                self.$field.put_cursor(scope, side, cursor).await
            }
            async fn add_pending(
                &self,
                scope: &Scope,
                pending: &PendingCreate<$item>,
            ) -> Result<(), StoreError> {
                self.$field.add_pending(scope, pending).await
            }
            async fn resolve_pending(
                &self,
                scope: &Scope,
                key: &IdempotencyKey,
                pair_id: Option<PairId>,
                pair: Option<&PairRecord<$item>>,
            ) -> Result<Option<PairId>, StoreError> {
                self.$field.resolve_pending(scope, key, pair_id, pair).await
            }
            /// The scopes of both collections (each store knows only its own).
            async fn scopes(&self) -> Result<Vec<Scope>, StoreError> {
                let mut all = StateStore::<Event>::scopes(&self.calendar).await?;
                all.extend(StateStore::<Contact>::scopes(&self.contacts).await?);
                all.sort();
                all.dedup();
                Ok(all)
            }
        }
    };
}

delegate_state_store!(Event, calendar);
delegate_state_store!(Contact, contacts);

#[async_trait]
impl TenantStore for MemoryTenantStore {
    async fn record_round(&self, _: &Scope, summary: &RoundSummary) -> Result<(), StoreError> {
        self.rounds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(summary.clone());
        Ok(())
    }
}
