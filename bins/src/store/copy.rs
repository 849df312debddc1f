//! `raynet-sync state copy`: moves everything one store keeps into another — an operator's SQLite
//! file into PostgreSQL when one worker becomes several — so that no first round has to link
//! every item again.
//!
//! What moves, per tenant: every scope's pairs (new pair ids in the target; a pending create's
//! pair reference follows its pair), cursors and pending creates, the notifications waiting for
//! their round, the subscriptions kept and the push secrets (the live subscriptions and the
//! webhook carry them). The rounds' log and the audit trail do not move: `status` and `explain`
//! start them afresh. A target that
//! already holds any scope of a tenant being copied is refused before anything is written, so a
//! copy never merges two histories.

use std::collections::{BTreeMap, BTreeSet};

use sync_core::{PairId, Scope, StateStore, StoreError, SyncItem};

use super::service::ServiceStore;

/// What a copy moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// The tenants copied, in order.
    pub tenants: Vec<String>,
    /// Scopes (member collections) copied.
    pub scopes: usize,
    /// Pairs copied.
    pub pairs: usize,
    /// Pending creates copied.
    pub pending: usize,
    /// Cursors copied.
    pub cursors: usize,
    /// Notifications waiting for their round, copied.
    pub notes: usize,
    /// Subscriptions kept, copied.
    pub subscriptions: usize,
    /// Push secrets copied.
    pub secrets: usize,
}

impl std::fmt::Display for CopyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "copied {} tenant(s) ({}): {} scope(s), {} pair(s), {} pending create(s), {} \
             cursor(s), {} waiting notification(s), {} subscription(s), {} push secret(s)",
            self.tenants.len(),
            self.tenants.join(", "),
            self.scopes,
            self.pairs,
            self.pending,
            self.cursors,
            self.notes,
            self.subscriptions,
            self.secrets
        )
    }
}

/// Why a copy did not happen (or stopped).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    /// The source holds nothing to copy.
    #[error("{from} holds no synced scope: nothing to copy")]
    Empty {
        /// The source's location.
        from: String,
    },
    /// The target already holds a tenant being copied; nothing was written.
    #[error(
        "{to} already holds tenant(s) {tenants}: nothing was copied (a copy never merges two \
         histories; copy into an empty database or schema)"
    )]
    TargetHoldsTenant {
        /// The target's location.
        to: String,
        /// The tenants it holds, comma-separated.
        tenants: String,
    },
    /// A store failed; what was copied before stays in the target.
    #[error(
        "copying {what} failed (the target may hold part of the copy: empty it and copy again)"
    )]
    Store {
        /// What was being copied.
        what: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
}

fn failed(what: impl Into<String>) -> impl FnOnce(StoreError) -> CopyError {
    let what = what.into();
    move |source| CopyError::Store { what, source }
}

/// Copies every tenant `from` holds into `to`; see the module docs.
///
/// # Errors
/// A [`CopyError`]: nothing to copy, a target that already holds a tenant (nothing written), or
/// a store that failed.
pub async fn copy_state(
    from: &dyn ServiceStore,
    to: &dyn ServiceStore,
) -> Result<CopyReport, CopyError> {
    let scopes = all_scopes(from)
        .await
        .map_err(failed("the source's scopes"))?;
    if scopes.is_empty() {
        return Err(CopyError::Empty {
            from: from.location(),
        });
    }
    let tenants: BTreeSet<String> = scopes.iter().map(|s| s.tenant.clone()).collect();
    let held: BTreeSet<String> = all_scopes(to)
        .await
        .map_err(failed("the target's scopes"))?
        .into_iter()
        .map(|s| s.tenant)
        .filter(|t| tenants.contains(t))
        .collect();
    if !held.is_empty() {
        return Err(CopyError::TargetHoldsTenant {
            to: to.location(),
            tenants: held.into_iter().collect::<Vec<_>>().join(", "),
        });
    }
    let mut report = CopyReport {
        tenants: tenants.iter().cloned().collect(),
        ..CopyReport::default()
    };
    for scope in &scopes {
        match scope.collection {
            sync_core::Collection::Calendar => {
                copy_scope(from.calendar(), to.calendar(), scope, &mut report).await?;
            }
            sync_core::Collection::Contacts => {
                copy_scope(from.contacts(), to.contacts(), scope, &mut report).await?;
            }
        }
        report.scopes += 1;
    }
    for tenant in &tenants {
        let what = |x: &str| format!("the {x} of tenant `{tenant}`");
        for (_, note) in from
            .push_notes(tenant)
            .await
            .map_err(failed(what("waiting notifications")))?
        {
            to.add_push_note(tenant, &note)
                .await
                .map_err(failed(what("waiting notifications")))?;
            report.notes += 1;
        }
        for (member, collection, record) in from
            .kept_subscriptions(tenant)
            .await
            .map_err(failed(what("subscriptions")))?
        {
            to.keep_subscription(tenant, &member, collection, Some(&record))
                .await
                .map_err(failed(what("subscriptions")))?;
            report.subscriptions += 1;
        }
        for (name, value) in from
            .push_secrets(tenant)
            .await
            .map_err(failed(what("push secrets")))?
        {
            to.put_push_secret(tenant, &name, &value)
                .await
                .map_err(failed(what("push secrets")))?;
            report.secrets += 1;
        }
    }
    Ok(report)
}

/// Every scope `store` knows, of both collections, each once, in order.
async fn all_scopes(store: &dyn ServiceStore) -> Result<Vec<Scope>, StoreError> {
    let mut scopes: BTreeSet<Scope> = store.calendar().scopes().await?.into_iter().collect();
    scopes.extend(store.contacts().scopes().await?);
    Ok(scopes.into_iter().collect())
}

/// Copies one scope's pairs, pending creates and cursors.
async fn copy_scope<T: SyncItem>(
    from: &dyn StateStore<T>,
    to: &dyn StateStore<T>,
    scope: &Scope,
    report: &mut CopyReport,
) -> Result<(), CopyError> {
    let state = from
        .load(scope)
        .await
        .map_err(failed(format!("the state of {scope}")))?;
    let mut ids: BTreeMap<PairId, PairId> = BTreeMap::new();
    for (old, pair) in state.pairs.iter() {
        let new = to
            .put_pair(scope, None, pair)
            .await
            .map_err(failed(format!("a pair of {scope}")))?;
        ids.insert(*old, new);
        report.pairs += 1;
    }
    for pending in &state.pending {
        let mut pending = pending.clone();
        // A pair forgotten since its create was recorded: the create makes a new one.
        pending.pair = pending.pair.and_then(|p| ids.get(&p).copied());
        to.add_pending(scope, &pending)
            .await
            .map_err(failed(format!("a pending create of {scope}")))?;
        report.pending += 1;
    }
    for (side, cursor) in &state.cursors {
        to.put_cursor(scope, *side, Some(cursor))
            .await
            .map_err(failed(format!("a cursor of {scope}")))?;
        report.cursors += 1;
    }
    Ok(())
}
