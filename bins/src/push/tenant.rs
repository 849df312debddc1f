//! [`TenantPush`]: one tenant as `serve` runs it — the routes from a notification to a member
//! collection, the triggers, the push secrets and health — and what each notification means.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use graph_client::adapter::{KeptSubscription, notification_item, notification_version};
use graph_client::client::models::{ChangeNotification, ChangeType, LifecycleEvent};
use raynet_client::adapter::push::{WebhookSignal, classify};
use raynet_client::models::WebhookEvent;
use sync_core::tenant::{Due, ServedMember, Targets, Triggers, is_own_write};
use sync_core::{Collection, Email, RemoteId, Scope, Side, Version};
use sync_secret::Secret;
use tokio::sync::Notify;
use url::Url;

use crate::config::{AdminConfig, ServeConfig, TenantConfig};
use crate::store::{Noted, PushNote, ServiceStore};
use crate::wiring::TenantClients;

/// How many lags the status page's figures are made of.
const LAGS_KEPT: usize = 200;

/// The longest a burst of notifications waits for its round, however steady it is. (Raynet
/// delivers webhooks 2 a second: after the round that read a backlog's changes, the rest of its
/// webhooks are about changes already read, and cost nothing.)
const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Where Graph posts `tenant`'s change notifications (`lifecycle`: its lifecycle
/// notifications), under `public_url`.
#[must_use]
pub fn graph_url(public_url: &Url, tenant: &str, lifecycle: bool) -> String {
    let last = if lifecycle {
        "lifecycle"
    } else {
        "notifications"
    };
    format!("{public_url}graph/{tenant}/{last}")
}

/// Where Raynet posts `tenant`'s webhook events, under `public_url`.
#[must_use]
pub fn webhook_url(public_url: &Url, tenant: &str) -> String {
    format!("{public_url}raynet/{tenant}/webhook")
}

/// Whether `member`'s last Raynet read of `collection` (its stored cursor) started after a
/// change made `at` (a webhook's `createdAt`, whole seconds: one second of margin).
fn read_since(
    cursors: &[(Scope, Side, sync_core::Cursor)],
    member: &Email,
    collection: Collection,
    at: DateTime<Utc>,
) -> bool {
    cursors
        .iter()
        .filter(|(s, side, _)| {
            *side == Side::Raynet && s.collection == collection && s.member == member.as_str()
        })
        .filter_map(|(_, _, c)| raynet_client::adapter::CursorInfo::parse(c))
        .any(|info| at + chrono::Duration::seconds(1) <= info.watermark)
}

/// When the notifications waiting for a round were received, by member collection.
pub(super) type Receipts = BTreeMap<(Email, Collection), Vec<DateTime<Utc>>>;

/// Counters of what the endpoint received for a tenant (read by tests, the benchmark and logs).
#[derive(Debug, Default)]
pub struct PushStats {
    /// Notifications and webhook events received (after the token check).
    pub received: AtomicU64,
    /// Of those, the echoes of the sync's own writes (no read).
    pub echoes: AtomicU64,
    /// Refused: a wrong `clientState` or token, or a subscription not ours.
    pub rejected: AtomicU64,
    /// About nothing the sync keeps (another entity, an unknown item deleted).
    pub ignored: AtomicU64,
    /// Rounds run because of notifications (each for some member collections).
    pub notified_rounds: AtomicU64,
    /// Safety-net rounds for everyone.
    pub poll_rounds: AtomicU64,
    /// Notifications that did not get a round of their own: coalesced into another's round of
    /// the same member collection.
    pub coalesced: AtomicU64,
}

impl PushStats {
    pub(super) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a notification turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Kept for a round of these member collections.
    Noted(usize),
    /// The echo of the sync's own write: nothing to do, nothing read.
    Echo,
    /// Refused (why).
    Rejected(&'static str),
    /// About nothing the sync keeps (why).
    Ignored(&'static str),
}

/// Work the endpoint leaves to the tenant's loop (it needs requests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Job {
    /// Graph asked for a renewal (`reauthorizationRequired`).
    Renew(Email, Collection),
    /// Graph removed the subscription (`subscriptionRemoved`): create it again.
    Recreate(Email, Collection),
    /// A Raynet meeting or event the store does not know changed: find its owner.
    FindOwner(RemoteId),
}

/// A Graph notification that arrived while a round was writing: it may be the echo of a write
/// not recorded yet, so it is checked again once the round is over.
#[derive(Clone, Debug)]
pub(super) struct Recheck {
    pub(super) scope: Scope,
    pub(super) id: RemoteId,
    /// The version notified (`None`: a deletion, ours when the pair is gone after the round).
    pub(super) version: Option<Version>,
    pub(super) member: Email,
}

/// Who is served and which subscription is whose.
#[derive(Debug, Default)]
pub(super) struct Routes {
    /// The served members, by the address their scopes are kept under.
    pub(super) members: BTreeMap<Email, ServedMember>,
    /// The Graph subscriptions kept, by member collection.
    pub(super) subscriptions: BTreeMap<(Email, Collection), KeptSubscription>,
    by_subscription: HashMap<String, (Email, Collection)>,
    by_person: HashMap<u64, Email>,
}

impl Routes {
    /// Replaces the served members.
    pub(super) fn set_members(&mut self, served: &[ServedMember]) {
        self.members = served
            .iter()
            .map(|m| (m.email.clone(), m.clone()))
            .collect();
        self.by_person = served
            .iter()
            .map(|m| (m.person_id, m.email.clone()))
            .collect();
    }

    /// Keeps (or forgets) the subscription of `member`'s `collection`.
    pub(super) fn set_subscription(
        &mut self,
        member: &Email,
        collection: Collection,
        kept: Option<KeptSubscription>,
    ) {
        let key = (member.clone(), collection);
        match kept {
            Some(k) => {
                self.subscriptions.insert(key, k);
            }
            None => {
                self.subscriptions.remove(&key);
            }
        }
        self.by_subscription = self
            .subscriptions
            .iter()
            .map(|(key, k)| (k.id.clone(), key.clone()))
            .collect();
    }

    /// The member collection a subscription is for.
    fn subscription(&self, id: &str) -> Option<(Email, Collection)> {
        self.by_subscription.get(id).cloned()
    }
}

/// One tenant as `serve` runs it.
pub struct TenantPush {
    pub(super) config: TenantConfig,
    pub(super) serve: ServeConfig,
    /// The `[admin]` table (how long the audit trail keeps a write).
    pub(super) admin: AdminConfig,
    pub(super) clients: TenantClients,
    pub(super) store: Arc<dyn ServiceStore>,
    pub(super) client_state: Secret,
    pub(super) webhook_token: Secret,
    public_url: Url,
    pub(super) routes: RwLock<Routes>,
    triggers: Mutex<Triggers>,
    /// When each notification handed to the triggers was received, by member collection
    /// (locked only while `triggers` is: a burst and its receipts are taken together).
    receipts: Mutex<Receipts>,
    pub(super) wake: Notify,
    jobs: Mutex<Vec<Job>>,
    rechecks: Mutex<Vec<Recheck>>,
    /// Set while a round runs (its writes' echoes may arrive before they are recorded).
    pub(super) in_round: AtomicBool,
    last_note: AtomicI64,
    pub(super) webhook_ok: AtomicBool,
    pub(super) ready: AtomicBool,
    /// What the last membership read found (people not served, and why).
    pub(super) findings: Mutex<Vec<String>>,
    /// Whether the last membership read reached both services (Graph's group, Raynet's users).
    pub(super) services_ok: AtomicBool,
    /// The last lags from a notification to its change written (seconds), newest last.
    lags: Mutex<std::collections::VecDeque<f64>>,
    /// Each member's last failure (what failed), until a round of theirs succeeds.
    pub(super) failures: Mutex<BTreeMap<Email, String>>,
    /// This worker's part of the tenant (several workers on one store).
    pub(super) share: Arc<super::share::Share>,
    /// What the endpoint received.
    pub stats: PushStats,
}

impl std::fmt::Debug for TenantPush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantPush")
            .field("tenant", &self.config.name)
            .field("public_url", &self.public_url.as_str())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TenantPush {
    /// The tenant `config` served through `serve`'s endpoint, with its state in `store`: the
    /// push secrets are the config's, else the ones kept in (or generated into) the state file.
    ///
    /// # Errors
    /// When `serve.public_url` is not set, a client cannot be built, or the state file cannot
    /// be read.
    pub async fn new(
        config: &TenantConfig,
        serve: &ServeConfig,
        admin: &AdminConfig,
        store: Arc<dyn ServiceStore>,
    ) -> anyhow::Result<Self> {
        let public_url = serve.public_url.clone().with_context(|| {
            "serve.public_url is not set: `serve` needs the public https:// address Graph and \
             Raynet reach its endpoint at (see the README's `serve` section)"
        })?;
        let secret = async |configured: &Option<Secret>, name: &str| -> anyhow::Result<Secret> {
            match configured {
                Some(s) => Ok(s.clone()),
                None => Ok(store.push_secret(&config.name, name).await?),
            }
        };
        let client_state = secret(&config.microsoft.client_state, "client_state").await?;
        let webhook_token = secret(&config.raynet.webhook_token, "webhook_token").await?;
        let coalesce = chrono::Duration::from_std(serve.coalesce).unwrap_or_default();
        let max_wait = chrono::Duration::from_std(MAX_WAIT.max(serve.coalesce)).unwrap_or_default();
        Ok(Self {
            clients: TenantClients::new(config)?,
            config: config.clone(),
            serve: serve.clone(),
            admin: admin.clone(),
            store,
            client_state,
            webhook_token,
            public_url,
            routes: RwLock::new(Routes::default()),
            triggers: Mutex::new(Triggers::new(coalesce, max_wait)),
            receipts: Mutex::new(Receipts::new()),
            wake: Notify::new(),
            jobs: Mutex::new(Vec::new()),
            rechecks: Mutex::new(Vec::new()),
            in_round: AtomicBool::new(false),
            last_note: AtomicI64::new(0),
            webhook_ok: AtomicBool::new(false),
            ready: AtomicBool::new(false),
            findings: Mutex::new(Vec::new()),
            services_ok: AtomicBool::new(false),
            lags: Mutex::new(std::collections::VecDeque::new()),
            failures: Mutex::new(BTreeMap::new()),
            share: Arc::new(super::share::Share::new(
                serve.worker_id.clone(),
                serve.lease,
            )),
            stats: PushStats::default(),
        })
    }

    /// What the status page shows of this tenant as this worker sees it.
    #[must_use]
    pub fn view(&self) -> crate::observe::page::TenantView {
        use crate::observe::page::{MemberView, PushCounts, SubscriptionView, TenantView};
        let routes = self.routes();
        let failures = lock(&self.failures).clone();
        let members = routes
            .members
            .values()
            .map(|m| MemberView {
                email: m.email.to_string(),
                held_here: self.share.holds(&m.email),
                error: failures.get(&m.email).cloned(),
            })
            .collect();
        let subscriptions = routes
            .subscriptions
            .iter()
            .map(|((m, c), k)| SubscriptionView {
                member: m.to_string(),
                collection: *c,
                expires: k.expires,
            })
            .collect();
        let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TenantView {
            name: self.config.name.clone(),
            worker: self.share.worker.clone(),
            keeper: self.share.is_keeper(),
            ready: self.ready.load(Ordering::SeqCst),
            webhook_ok: self.webhook_ok.load(Ordering::SeqCst),
            members,
            subscriptions,
            findings: lock(&self.findings).clone(),
            counts: PushCounts {
                received: count(&self.stats.received),
                echoes: count(&self.stats.echoes),
                rejected: count(&self.stats.rejected),
                ignored: count(&self.stats.ignored),
                notified_rounds: count(&self.stats.notified_rounds),
                poll_rounds: count(&self.stats.poll_rounds),
            },
            quota: self
                .clients
                .raynet
                .rate_limit()
                .and_then(|r| Some((r.remaining?, r.limit?))),
            lag: crate::observe::page::LagFigures::of(lock(&self.lags).iter().copied()),
            collections: [Collection::Calendar, Collection::Contacts]
                .into_iter()
                .filter(|c| self.config.sync.mode.collections().has(*c))
                .collect(),
        }
    }

    /// Keeps a lag for the status page (the last [`LAGS_KEPT`]).
    pub(super) fn note_lag(&self, seconds: f64) {
        let mut lags = lock(&self.lags);
        if lags.len() >= LAGS_KEPT {
            lags.pop_front();
        }
        lags.push_back(seconds);
    }

    /// Whether the last membership read reached both services (Graph and Raynet).
    #[must_use]
    pub fn services_reachable(&self) -> bool {
        self.services_ok.load(Ordering::SeqCst)
    }

    /// The state store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn ServiceStore> {
        &self.store
    }

    /// The store as the engine's rounds see it.
    pub(super) fn tenant_store(&self) -> &dyn sync_core::tenant::TenantStore {
        &*self.store
    }

    /// The tenant's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Where Graph posts this tenant's change notifications (`lifecycle`: its lifecycle
    /// notifications).
    #[must_use]
    pub fn graph_url(&self, lifecycle: bool) -> String {
        graph_url(&self.public_url, &self.config.name, lifecycle)
    }

    /// Where Raynet posts this tenant's webhook events.
    #[must_use]
    pub fn webhook_url(&self) -> String {
        webhook_url(&self.public_url, &self.config.name)
    }

    /// Whether the first round ran and push is set up.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Whether `token` is this tenant's webhook token (constant time).
    #[must_use]
    pub fn webhook_token_is(&self, token: &str) -> bool {
        self.webhook_token.matches(token)
    }

    pub(super) fn routes(&self) -> std::sync::RwLockReadGuard<'_, Routes> {
        self.routes.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn routes_mut(&self) -> std::sync::RwLockWriteGuard<'_, Routes> {
        self.routes.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn triggers(&self) -> MutexGuard<'_, Triggers> {
        lock(&self.triggers)
    }

    pub(super) fn take_jobs(&self) -> Vec<Job> {
        std::mem::take(&mut *lock(&self.jobs))
    }

    pub(super) fn take_rechecks(&self) -> Vec<Recheck> {
        std::mem::take(&mut *lock(&self.rechecks))
    }

    fn add_job(&self, job: Job) {
        let mut jobs = lock(&self.jobs);
        if !jobs.contains(&job) {
            jobs.push(job);
        }
        drop(jobs);
        self.wake.notify_one();
    }

    /// The row id of the newest kept note (notes up to it are handled by the next round).
    pub(super) fn last_note(&self) -> i64 {
        self.last_note.load(Ordering::SeqCst)
    }

    /// Counts a note another worker kept, and this one handles, as seen (its round then
    /// forgets it like the ones kept here).
    pub(super) fn saw_note(&self, id: i64) {
        self.last_note.fetch_max(id, Ordering::SeqCst);
    }

    /// Keeps a note in the state file, then hands it to the triggers.
    ///
    /// # Errors
    /// When the state file cannot be written: the caller answers so that the sender retries.
    pub(super) async fn note(
        &self,
        member: &Email,
        collection: Collection,
        noted: Noted,
    ) -> anyhow::Result<()> {
        let note = self.keep_note(member, collection, noted).await?;
        // The member's round runs where its lease is held; another worker is woken by the
        // store and picks the note up from there.
        if self.share.holds(member) {
            self.trigger(&note, note.received_at);
            self.wake.notify_one();
        }
        Ok(())
    }

    async fn keep_note(
        &self,
        member: &Email,
        collection: Collection,
        noted: Noted,
    ) -> anyhow::Result<PushNote> {
        let note = PushNote {
            member: member.clone(),
            collection,
            noted,
            received_at: Utc::now(),
        };
        let id = self.store.add_push_note(&self.config.name, &note).await?;
        self.last_note.fetch_max(id, Ordering::SeqCst);
        Ok(note)
    }

    /// Hands a kept note to the triggers (at start, the notes an earlier process kept), and
    /// keeps when it was received (for the lag and the coalesced count).
    pub(super) fn trigger(&self, note: &PushNote, at: DateTime<Utc>) {
        let mut triggers = self.triggers();
        let (member, c) = (note.member.clone(), note.collection);
        lock(&self.receipts)
            .entry((member.clone(), c))
            .or_default()
            .push(note.received_at);
        match &note.noted {
            Noted::Changed(side) => triggers.notify(member, c, *side, at),
            Noted::Deleted(side, id) => triggers.notify_deleted(member, c, *side, id.clone(), at),
            Noted::CatchUp => triggers.catch_up(member, c, at),
        }
    }

    /// Takes the rounds due at `now`, with the receipts of the notifications they were asked
    /// for (by member collection).
    pub(super) fn take_due(&self, now: DateTime<Utc>) -> (Due, Receipts) {
        let mut triggers = self.triggers();
        let due = triggers.take_due(now);
        let mut receipts = lock(&self.receipts);
        let mut taken = Receipts::new();
        if let Targets::Only(members) = &due.targets {
            for (member, collections) in members {
                for c in [Collection::Calendar, Collection::Contacts] {
                    let key = (member.clone(), c);
                    if collections.has(c) {
                        if let Some(times) = receipts.remove(&key) {
                            taken.insert(key, times);
                        }
                    }
                }
            }
        }
        drop(receipts);
        drop(triggers);
        (due, taken)
    }

    /// The notes kept in the state file and not handled by a round yet (an earlier process's,
    /// or a failed round's): counted in, and triggered again when `trigger`.
    ///
    /// # Errors
    /// When the state file cannot be read.
    pub(super) async fn restore_notes(&self, trigger: bool) -> anyhow::Result<usize> {
        let notes = self.store.push_notes(&self.config.name).await?;
        let now = Utc::now();
        for (id, note) in &notes {
            self.last_note.fetch_max(*id, Ordering::SeqCst);
            self.share.seen_note.fetch_max(*id, Ordering::SeqCst);
            if trigger && self.share.holds(&note.member) {
                self.trigger(note, now);
            }
        }
        Ok(notes.len())
    }

    /// Handles one Graph notification (change or lifecycle).
    ///
    /// # Errors
    /// When the note cannot be kept (the endpoint then answers so that Graph retries).
    pub async fn on_graph(&self, n: &ChangeNotification) -> anyhow::Result<Outcome> {
        if !n.client_state_is(&self.client_state) {
            PushStats::bump(&self.stats.rejected);
            tracing::warn!(tenant = %self.config.name, "a Graph notification with a wrong clientState was refused");
            return Ok(Outcome::Rejected("wrong clientState"));
        }
        let mut found = self.routes().subscription(&n.subscription_id);
        if found.is_none() && !self.share.is_keeper() {
            // Another worker keeps the subscriptions: one it made since this worker last
            // read them is in the store.
            if let Err(e) = self.restore_subscriptions().await {
                tracing::warn!(tenant = %self.config.name, error = %e, "cannot read the kept subscriptions");
            }
            found = self.routes().subscription(&n.subscription_id);
        }
        let Some((member, collection)) = found else {
            PushStats::bump(&self.stats.rejected);
            tracing::info!(tenant = %self.config.name, "a Graph notification for a subscription not kept here was ignored");
            return Ok(Outcome::Rejected("unknown subscription"));
        };
        PushStats::bump(&self.stats.received);
        if let Some(event) = &n.lifecycle_event {
            tracing::info!(tenant = %self.config.name, %member, ?collection, ?event, "Graph lifecycle notification");
            match event {
                LifecycleEvent::ReauthorizationRequired => {
                    self.add_job(Job::Renew(member, collection));
                    return Ok(Outcome::Noted(0));
                }
                LifecycleEvent::SubscriptionRemoved => {
                    self.add_job(Job::Recreate(member.clone(), collection));
                }
                // `missed`, and whatever Graph adds: read everything.
                _ => {}
            }
            self.note(&member, collection, Noted::CatchUp).await?;
            return Ok(Outcome::Noted(1));
        }
        let scope = Scope::new(&self.config.name, member.as_str(), collection);
        let id = notification_item(n);
        if n.change_type == Some(ChangeType::Deleted) {
            // The echo of the sync's own deletion, or an item it never knew: nothing to do.
            let known = match &id {
                Some(id) => self
                    .store
                    .recorded_version(&scope, Side::Outlook, id)
                    .await?
                    .is_some(),
                None => true,
            };
            if !known {
                PushStats::bump(&self.stats.ignored);
                return Ok(Outcome::Ignored(
                    "an item the sync does not keep was deleted",
                ));
            }
            if let (Some(id), true) = (&id, self.in_round.load(Ordering::SeqCst)) {
                // Perhaps the running round's own deletion, whose pair goes when it ends.
                return Ok(self.recheck_later(scope, id.clone(), None, member));
            }
        } else if let (Some(id), Some(version)) =
            (&id, n.resource_data.as_ref().and_then(notification_version))
        {
            if is_own_write(&*self.store, &scope, Side::Outlook, id, &version).await? {
                PushStats::bump(&self.stats.echoes);
                return Ok(Outcome::Echo);
            }
            if self.in_round.load(Ordering::SeqCst) {
                // Perhaps the echo of a write the running round has not recorded yet.
                return Ok(self.recheck_later(scope, id.clone(), Some(version), member));
            }
        }
        self.note(&member, collection, Noted::Changed(Side::Outlook))
            .await?;
        Ok(Outcome::Noted(1))
    }

    /// Checks a notification that may be the echo of the running round's write again once
    /// the round is over: kept and triggered only if it still is not ours. (Not kept before:
    /// should the process stop meanwhile, its next start reads everything anyway.)
    fn recheck_later(
        &self,
        scope: Scope,
        id: RemoteId,
        version: Option<Version>,
        member: Email,
    ) -> Outcome {
        lock(&self.rechecks).push(Recheck {
            scope,
            id,
            version,
            member,
        });
        Outcome::Noted(1)
    }

    /// Handles one Raynet webhook event (its token already checked).
    ///
    /// # Errors
    /// When the note cannot be kept (the endpoint then answers so that Raynet retries).
    pub async fn on_raynet(&self, event: &WebhookEvent) -> anyhow::Result<Outcome> {
        PushStats::bump(&self.stats.received);
        let (collection, id, deleted) = match classify(event, &self.config.raynet.api_key_name) {
            WebhookSignal::Echo => {
                PushStats::bump(&self.stats.echoes);
                return Ok(Outcome::Echo);
            }
            WebhookSignal::Calendar { id, deleted, .. } => (Collection::Calendar, id, deleted),
            WebhookSignal::Contacts { id, deleted } => {
                // A changed person may be a participant whose address the rounds keep.
                if let Ok(person) = id.as_str().parse::<u64>() {
                    self.clients.raynet_facts.person_emails().forget(person);
                }
                (Collection::Contacts, id, deleted)
            }
            _ => {
                PushStats::bump(&self.stats.ignored);
                return Ok(Outcome::Ignored("an entity the sync does not keep"));
            }
        };
        if !self.config.sync.mode.collections().has(collection) {
            PushStats::bump(&self.stats.ignored);
            return Ok(Outcome::Ignored("a collection this tenant does not sync"));
        }
        let holders = self
            .store
            .scopes_holding(&self.config.name, collection, Side::Raynet, &id)
            .await?;
        let served: Vec<Email> = self.routes().members.keys().cloned().collect();
        let holders: Vec<Email> = holders
            .iter()
            .filter_map(|s| served.iter().find(|m| m.as_str() == s.member).cloned())
            .collect();
        let noted = if deleted {
            Noted::Deleted(Side::Raynet, id.clone())
        } else {
            Noted::Changed(Side::Raynet)
        };
        let mut members = match (collection, holders.is_empty(), deleted) {
            (_, false, _) => holders,
            // A deletion of something no member keeps: nothing to do.
            (_, true, true) => {
                PushStats::bump(&self.stats.ignored);
                return Ok(Outcome::Ignored(
                    "an item the sync does not keep was deleted",
                ));
            }
            // A person may become a contact of every member.
            (Collection::Contacts, true, false) => served,
            // A new meeting or event: its owner decides whose it is (one read, later).
            (Collection::Calendar, true, false) => {
                self.add_job(Job::FindOwner(id));
                return Ok(Outcome::Noted(0));
            }
        };
        if !deleted {
            // A change made before a member's last read was read by it (Raynet delivers its
            // webhooks at its own pace, often after the round that read the change).
            if let Some(at) = event.created_at {
                let cursors = self.store.cursors(&self.config.name).await?;
                members.retain(|m| !read_since(&cursors, m, collection, at.with_timezone(&Utc)));
            }
            if members.is_empty() {
                PushStats::bump(&self.stats.ignored);
                return Ok(Outcome::Ignored("a change already read"));
            }
        }
        for member in &members {
            self.note(member, collection, noted.clone()).await?;
        }
        Ok(Outcome::Noted(members.len()))
    }

    /// The member whose Raynet person is `person_id`, if served.
    pub(super) fn member_of_person(&self, person_id: u64) -> Option<Email> {
        self.routes().by_person.get(&person_id).cloned()
    }
}
