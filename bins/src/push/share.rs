//! Sharing a tenant between workers: several `serve` processes on one state store split the
//! members, each member's rounds on one worker at a time.
//!
//! Everything goes through leases in the store ([`ServiceStore::take_lease`], the store's clock):
//! - each worker keeps a heartbeat lease `worker:<tenant>:<id>`; the live ones say how many
//!   workers share the tenant, and each takes its fair share, `⌈members ÷ workers⌉`;
//! - a member's rounds run only on the holder of `member:<tenant>:<address>`, renewed every
//!   third of the lease while the worker lives (by a task of its own, so a long round keeps its
//!   leases); a worker holding more than its share (another joined) gives the rest up between
//!   rounds; a lease that cannot be renewed stops the running round after the write under way;
//! - one worker, the holder of `keeper:<tenant>`, keeps the Graph subscriptions and the Raynet
//!   webhook; the others read the subscriptions it keeps from the store;
//! - a worker that dies (even by SIGKILL) stops renewing: its leases lapse within the lease's
//!   time-to-live, and the others take its members over at the moment they lapse, each with a
//!   catch-up round (incremental, from the cursors).
//!
//! A notification any worker receives is kept in the store; the store wakes the other workers
//! ([`ServiceStore::note_wakeups`], PostgreSQL's `LISTEN`/`NOTIFY`), and the member's holder
//! runs its round. With the SQLite file one worker usually holds everything.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::Utc;
use sync_core::Email;
use tokio::time::Instant;

use crate::store::{LeaseTaken, ServiceStore, keeper_lease, member_lease};

/// This worker's part of a tenant: the members whose leases it holds.
#[derive(Debug)]
pub(super) struct Share {
    /// This worker's id.
    pub(super) worker: String,
    /// The leases' time-to-live.
    pub(super) ttl: Duration,
    /// The members held, with when their lease was last renewed.
    held: Mutex<BTreeMap<Email, Instant>>,
    /// Whether this worker keeps the subscriptions and the webhook.
    keeper: AtomicBool,
    /// Set when a held lease was lost: the running round stops after the write under way.
    lost: AtomicBool,
    /// When the next balance is due.
    next_balance: Mutex<Instant>,
    /// Serializes balancing (the loop's and the renewer's).
    balancing: tokio::sync::Mutex<()>,
    /// The newest note id this worker has looked at.
    pub(super) seen_note: AtomicI64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Share {
    /// Nothing held yet.
    pub(super) fn new(worker: String, ttl: Duration) -> Self {
        Self {
            worker,
            ttl,
            held: Mutex::new(BTreeMap::new()),
            keeper: AtomicBool::new(false),
            lost: AtomicBool::new(false),
            next_balance: Mutex::new(Instant::now()),
            balancing: tokio::sync::Mutex::new(()),
            seen_note: AtomicI64::new(0),
        }
    }

    /// Whether this worker runs `member`'s rounds.
    pub(super) fn holds(&self, member: &Email) -> bool {
        lock(&self.held).contains_key(member)
    }

    /// The members held.
    pub(super) fn held(&self) -> Vec<Email> {
        lock(&self.held).keys().cloned().collect()
    }

    /// Whether this worker keeps the subscriptions and the webhook.
    pub(super) fn is_keeper(&self) -> bool {
        self.keeper.load(Ordering::SeqCst)
    }

    /// Whether a lease was lost since the last call (and forgets it).
    pub(super) fn take_lost(&self) -> bool {
        self.lost.swap(false, Ordering::SeqCst)
    }

    /// Whether a lease was lost and not yet taken note of.
    pub(super) fn lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// When the next balance is due.
    pub(super) fn next_balance(&self) -> Instant {
        *lock(&self.next_balance)
    }

    fn renew_every(&self) -> Duration {
        self.ttl / 3
    }
}

impl Share {
    fn worker_lease(&self, tenant: &str) -> String {
        format!("worker:{tenant}:{}", self.worker)
    }

    /// Renews every lease held (the heartbeat, the members, the keeper's); a member lease
    /// someone else took meanwhile is dropped and the running round told to stop.
    pub(super) async fn renew(&self, store: &dyn ServiceStore, tenant: &str) {
        let _one = self.balancing.lock().await;
        self.renew_held(store, tenant).await;
    }

    async fn renew_held(&self, store: &dyn ServiceStore, tenant: &str) {
        let ttl = self.ttl;
        let worker = self.worker.clone();
        if let Err(e) = store
            .take_lease(&self.worker_lease(tenant), &worker, ttl)
            .await
        {
            tracing::warn!(tenant = %tenant, error = %e, "cannot renew the worker's heartbeat");
        }
        for member in self.held() {
            match store
                .take_lease(&member_lease(tenant, &member), &worker, ttl)
                .await
            {
                Ok(LeaseTaken::Held(_)) => {
                    lock(&self.held).insert(member, Instant::now());
                }
                Ok(LeaseTaken::HeldBy(other)) => {
                    tracing::warn!(tenant = %tenant, %member, holder = %other.holder, "lost the lease on a member's rounds; stopping its round");
                    lock(&self.held).remove(&member);
                    self.lost.store(true, Ordering::SeqCst);
                }
                Err(e) => {
                    // Not renewed: once the lease may have lapsed, stop writing for the member.
                    let renewed = lock(&self.held).get(&member).copied();
                    if renewed.is_some_and(|at| at.elapsed() >= ttl.mul_f32(0.9)) {
                        tracing::warn!(tenant = %tenant, %member, error = %e, "cannot renew a member's lease in time; giving it up");
                        lock(&self.held).remove(&member);
                        self.lost.store(true, Ordering::SeqCst);
                    } else {
                        tracing::warn!(tenant = %tenant, %member, error = %e, "cannot renew a member's lease; trying again");
                    }
                }
            }
        }
        if self.is_keeper() {
            match store.take_lease(&keeper_lease(tenant), &worker, ttl).await {
                Ok(LeaseTaken::Held(_)) => {}
                Ok(LeaseTaken::HeldBy(_)) | Err(_) => {
                    tracing::info!(tenant = %tenant, "no longer the keeper of the subscriptions");
                    self.keeper.store(false, Ordering::SeqCst);
                }
            }
        }
    }

    /// Takes this worker's fair share of the members (and the keeper's lease when it is free),
    /// gives up what is beyond it, and says which members it newly holds (their catch-up
    /// rounds are the caller's). Runs between rounds.
    pub(super) async fn balance(
        &self,
        store: &dyn ServiceStore,
        tenant: &str,
        served: &[Email],
    ) -> Vec<Email> {
        let _one = self.balancing.lock().await;
        self.renew_held(store, tenant).await;
        let ttl = self.ttl;
        let worker = self.worker.clone();
        let now = Utc::now();
        let mut next = Instant::now() + self.renew_every();
        let leases = match store.leases().await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(tenant = %tenant, error = %e, "cannot read the leases");
                *lock(&self.next_balance) = next;
                return Vec::new();
            }
        };
        let worker_prefix = format!("worker:{tenant}:");
        let live_workers = leases
            .iter()
            .filter(|l| l.name.starts_with(&worker_prefix) && l.expires_at > now)
            .count()
            .max(1);
        let fair = served.len().div_ceil(live_workers);
        // Members who left: their leases go.
        for member in self.held() {
            if !served.contains(&member) {
                self.give_up(store, tenant, &member).await;
            }
        }
        // Beyond the fair share (a worker joined): give the last ones up.
        let held = self.held();
        for member in held.iter().skip(fair).rev() {
            self.give_up(store, tenant, member).await;
        }
        let mut newly = Vec::new();
        let by_name: BTreeMap<&str, &crate::store::Lease> =
            leases.iter().map(|l| (l.name.as_str(), l)).collect();
        for member in served {
            if self.held().len() >= fair {
                break;
            }
            if self.holds(member) {
                continue;
            }
            let name = member_lease(tenant, member);
            if let Some(l) = by_name.get(name.as_str()) {
                if l.holder != worker && l.expires_at > now {
                    // Held elsewhere: look again the moment it would lapse.
                    let wait = (l.expires_at - now).to_std().unwrap_or_default();
                    next = next.min(Instant::now() + wait + Duration::from_millis(50));
                    continue;
                }
            }
            match store.take_lease(&name, &worker, ttl).await {
                Ok(LeaseTaken::Held(_)) => {
                    lock(&self.held).insert(member.clone(), Instant::now());
                    newly.push(member.clone());
                }
                Ok(LeaseTaken::HeldBy(_)) => {}
                Err(e) => {
                    tracing::warn!(tenant = %tenant, %member, error = %e, "cannot take a member's lease");
                }
            }
        }
        if !self.is_keeper() {
            if let Ok(LeaseTaken::Held(l)) =
                store.take_lease(&keeper_lease(tenant), &worker, ttl).await
            {
                tracing::info!(tenant = %tenant, epoch = l.epoch, "keeping the subscriptions and the webhook");
                self.keeper.store(true, Ordering::SeqCst);
            } else if let Some(l) = by_name.get(keeper_lease(tenant).as_str()) {
                let wait = (l.expires_at - now).to_std().unwrap_or_default();
                next = next.min(Instant::now() + wait + Duration::from_millis(50));
            }
        }
        if !newly.is_empty() {
            tracing::info!(tenant = %tenant, worker = %worker, taken = newly.len(), held = self.held().len(), workers = live_workers, "took members over");
        }
        *lock(&self.next_balance) = next;
        newly
    }

    async fn give_up(&self, store: &dyn ServiceStore, tenant: &str, member: &Email) {
        lock(&self.held).remove(member);
        let name = member_lease(tenant, member);
        if let Err(e) = store.release_lease(&name, &self.worker).await {
            tracing::warn!(tenant = %tenant, %member, error = %e, "cannot give a member's lease up; it lapses");
        }
    }

    /// Gives every lease up (a clean stop): the other workers take over at once.
    pub(super) async fn release_all(&self, store: &dyn ServiceStore, tenant: &str) {
        let _one = self.balancing.lock().await;
        for member in self.held() {
            self.give_up(store, tenant, &member).await;
        }
        let worker = self.worker.clone();
        if self.is_keeper() {
            let _ = store.release_lease(&keeper_lease(tenant), &worker).await;
        }
        let _ = store
            .release_lease(&self.worker_lease(tenant), &worker)
            .await;
    }
}
