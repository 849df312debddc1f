//! [`ServiceStore`]: everything the binary keeps, whichever engine keeps it — the engine's
//! [`TenantStore`] (pairs, cursors, pending creates, the rounds' log) plus what `status`, `serve`
//! and several workers need beside it: the counts per scope, the notifications waiting for
//! their round, the subscriptions kept, the push secrets, and the leases that let one worker at
//! a time run a member's rounds.
//!
//! Two stores implement it: [`SqliteStore`](super::SqliteStore) (the embedded default, one
//! file) and [`PostgresStore`](super::PostgresStore) (shared by several workers).
//!
//! Beside it, every [`ServiceStore`] keeps the audit trail ([`AuditTrail`]): each write a round
//! made, with the rule that decided it, for `raynet-sync explain`.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sync_core::tenant::TenantStore;
use sync_core::{AuditEntry, Collection, Email, RoundReport, StoreError};
use sync_secret::Secret;

use super::push::PushNote;
use super::status::ScopeStatus;

/// A lease: `holder` runs what `name` names (a member's rounds, a tenant's subscriptions) until
/// `expires_at`, unless it renews it first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// What the lease is for, e.g. `member:acme:jana@acme.cz`.
    pub name: String,
    /// Who holds it: a worker's id.
    pub holder: String,
    /// When it lapses unless renewed (the store's clock).
    pub expires_at: DateTime<Utc>,
    /// How many times the lease changed hands (1 for its first holder): a worker that sees the
    /// same `epoch` it took still holds it without a gap.
    pub epoch: i64,
}

/// What a taken lease says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseTaken {
    /// `holder` holds it now (it was free, lapsed, or already its own: renewed).
    Held(Lease),
    /// Someone else holds it.
    HeldBy(Lease),
}

/// One worker's round of one member, as logged (`finished_at` is `None` while it runs, or when
/// the worker died in it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRound {
    /// The log entry's id.
    pub id: i64,
    /// The tenant.
    pub tenant: String,
    /// The member.
    pub member: String,
    /// The worker that ran it.
    pub worker: String,
    /// When it started (the store's clock).
    pub started_at: DateTime<Utc>,
    /// When it ended (the store's clock).
    pub finished_at: Option<DateTime<Utc>>,
}

/// How many member rounds the log keeps per tenant (the oldest go first).
pub const MEMBER_ROUNDS_KEPT: i64 = 10_000;

/// Everything the binary keeps; see the module docs.
///
/// Every method is atomic, like [`sync_core::StateStore`]'s: a crash leaves the old or the new
/// state. Times that decide between workers (lease expiries) come from the store's clock, so
/// workers with skewed clocks still agree.
#[async_trait]
pub trait ServiceStore: TenantStore + AuditTrail + std::fmt::Debug + Send + Sync + 'static {
    /// Where the state is kept, for messages: a file's path, or a URL without its password.
    fn location(&self) -> String;

    /// What the store knows of each scope: counts and the last round, ordered by scope.
    async fn status(&self) -> Result<Vec<ScopeStatus>, StoreError>;

    /// Keeps `note` for `tenant` until a round handled it; returns its id (ids grow).
    async fn add_push_note(&self, tenant: &str, note: &PushNote) -> Result<i64, StoreError>;

    /// The notes kept for `tenant`, oldest first, with their ids. A row that cannot be read is
    /// skipped with a warning (it only ever costs a round, never a change).
    async fn push_notes(&self, tenant: &str) -> Result<Vec<(i64, PushNote)>, StoreError>;

    /// Forgets `tenant`'s notes up to id `upto` for the member collections in `handled` (their
    /// round ran), or all of them up to `upto` when `handled` is `None`.
    async fn drop_push_notes(
        &self,
        tenant: &str,
        upto: i64,
        handled: Option<&[(Email, Collection)]>,
    ) -> Result<(), StoreError>;

    /// The subscriptions kept for `tenant` (each as the JSON its keeper wrote), by member and
    /// collection.
    async fn kept_subscriptions(
        &self,
        tenant: &str,
    ) -> Result<Vec<(Email, Collection, String)>, StoreError>;

    /// Keeps (`Some`) or forgets (`None`) the subscription of `member`'s `collection`.
    async fn keep_subscription(
        &self,
        tenant: &str,
        member: &Email,
        collection: Collection,
        record: Option<&str>,
    ) -> Result<(), StoreError>;

    /// The push secret `name` of `tenant`: the one kept, else a new random one, kept. Two
    /// workers asking at once get the same secret.
    async fn push_secret(&self, tenant: &str, name: &str) -> Result<Secret, StoreError>;

    /// The push secrets kept for `tenant`, by name (what `state copy` moves).
    async fn push_secrets(&self, tenant: &str) -> Result<Vec<(String, Secret)>, StoreError>;

    /// Keeps `value` as the push secret `name` of `tenant`, replacing the one kept (`state
    /// copy`: the subscriptions and the webhook already carry it).
    async fn put_push_secret(
        &self,
        tenant: &str,
        name: &str,
        value: &Secret,
    ) -> Result<(), StoreError>;

    /// Takes lease `name` for `holder` for `ttl` when it is free, lapsed or `holder`'s own (then
    /// it is renewed: its expiry moves, its epoch stays).
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<LeaseTaken, StoreError>;

    /// Gives lease `name` up if `holder` holds it (another worker may take it at once).
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// Every lease recorded, lapsed ones included, ordered by name.
    async fn leases(&self) -> Result<Vec<Lease>, StoreError>;

    /// When each scope of `tenant` last had a clean round (every item read and written, no
    /// failure), among the rounds kept: how fresh each member's collection is. A scope whose
    /// kept rounds all failed is left out.
    async fn last_clean_rounds(
        &self,
        tenant: &str,
    ) -> Result<Vec<(sync_core::Scope, DateTime<Utc>)>, StoreError>;

    /// Logs that `worker` starts rounds of `members` of `tenant` now; returns the entries' ids
    /// (for [`ServiceStore::end_member_rounds`]). The log keeps the last
    /// [`MEMBER_ROUNDS_KEPT`] entries of each tenant.
    async fn begin_member_rounds(
        &self,
        tenant: &str,
        members: &[Email],
        worker: &str,
    ) -> Result<Vec<i64>, StoreError>;

    /// Logs that the rounds `ids` ended now.
    async fn end_member_rounds(&self, ids: &[i64]) -> Result<(), StoreError>;

    /// The member rounds logged for `tenant`, oldest first.
    async fn member_rounds(&self, tenant: &str) -> Result<Vec<MemberRound>, StoreError>;

    /// Wake-ups for notes added by any process: each message is the tenant a note was added
    /// for. `None` when the store has no such channel (the SQLite file: one process serves
    /// it, and it wakes its own rounds).
    async fn note_wakeups(
        &self,
    ) -> Result<Option<tokio::sync::broadcast::Receiver<String>>, StoreError> {
        Ok(None)
    }
}

/// The lease name of a member's rounds.
#[must_use]
pub fn member_lease(tenant: &str, member: &Email) -> String {
    format!("member:{tenant}:{member}")
}

/// The lease name of a tenant's subscriptions and webhook.
#[must_use]
pub fn keeper_lease(tenant: &str) -> String {
    format!("keeper:{tenant}")
}

/// One entry of the audit trail as kept: a round's [`AuditEntry`] with when, and whose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// The row's id: a later entry has a larger id.
    pub id: i64,
    /// When the round that made the write was recorded (the recording process's clock).
    pub at: DateTime<Utc>,
    /// The tenant.
    pub tenant: String,
    /// The member whose item it is.
    pub member: String,
    /// The collection.
    pub collection: Collection,
    /// What the step did and why.
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Which entries [`AuditTrail::find_audit`] looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditMatch<'a> {
    /// Entries of the item with this Raynet id (after the step, or the one it had).
    RaynetId(&'a str),
    /// Entries of the item with this Outlook id.
    OutlookId(&'a str),
    /// Entries whose label (title or name) holds this text, ignoring case.
    Title(&'a str),
}

/// The audit trail: every write a round made, kept for a number of days (`admin.audit_days`),
/// read back by `raynet-sync explain`. Every [`ServiceStore`] keeps one.
///
/// Note for implementors: entries hold titles and e-mail addresses, never secrets; lookups by
/// id must use an index (the trail of a large tenant holds hundreds of thousands of entries).
#[async_trait]
pub trait AuditTrail: Send + Sync {
    /// Keeps the audit entries of `rounds` (the reports of one tenant round) as made at `at`,
    /// for `tenant`, in one transaction; returns how many were kept.
    async fn record_audit(
        &self,
        tenant: &str,
        at: DateTime<Utc>,
        rounds: &[RoundReport],
    ) -> Result<usize, StoreError>;

    /// The entries `by` finds, of `tenant` only when given: the newest `limit` of them, oldest
    /// first. Titles match case-insensitively (Unicode lowercase). A row that cannot be read is
    /// skipped with a warning.
    async fn find_audit(
        &self,
        tenant: Option<&str>,
        by: AuditMatch<'_>,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// Forgets the entries made before `before`; returns how many.
    async fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// How a label is kept for case-insensitive lookups (and how a title searched for is folded).
#[must_use]
pub fn fold_label(label: &str) -> String {
    label.to_lowercase()
}
