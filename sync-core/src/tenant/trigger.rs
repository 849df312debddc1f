//! Change notifications as triggers (DESIGN §10: push is a trigger, the read is the truth).
//!
//! A notification says only *that* a member's collection changed. [`Triggers`] turns a stream
//! of them into few member rounds: a burst for one member and collection is coalesced into one
//! round, run once the burst has been quiet for a moment (or has waited long enough, so that a
//! steady trickle cannot starve it). The round then reads the changes the usual way, so a
//! forged, duplicated, reordered or lost notification can never make the sync write something
//! wrong: at worst it costs one read. [`is_own_write`] recognises the echo of the sync's own
//! write from what the store recorded, without any read.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::hint::{Hint, Hints};
use super::round::Targets;
use super::service::Collections;
use super::store::TenantStore;
use crate::error::StoreError;
use crate::ids::{Collection, Email, RemoteId, Scope, Side, Version};

/// A burst of notifications for one member's collection, not yet turned into a round.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Burst {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    hint: Hint,
}

/// The rounds [`Triggers::take_due`] hands out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Due {
    /// Whose rounds run ([`RoundOptions::targets`](super::RoundOptions::targets)).
    pub targets: Targets,
    /// What the notifications said ([`RoundOptions::hints`](super::RoundOptions::hints)).
    pub hints: Hints,
    /// How many member collections they are (0: nothing is due).
    pub rounds: usize,
}

/// Coalesces change notifications into member rounds.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use sync_core::tenant::Triggers;
/// use sync_core::{Collection, Email, Side};
/// let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap();
/// let jana: Email = "jana@acme.cz".parse().unwrap();
/// let mut triggers = Triggers::new(Duration::seconds(2), Duration::seconds(10));
/// for i in 0..100 {
///     let at = t0 + Duration::milliseconds(10 * i);
///     triggers.notify(jana.clone(), Collection::Calendar, Side::Outlook, at);
/// }
/// assert_eq!(triggers.take_due(t0 + Duration::seconds(1)).rounds, 0, "the burst is still going");
/// let due = triggers.take_due(t0 + Duration::seconds(3));
/// assert_eq!(due.rounds, 1, "100 notifications, one round");
/// assert!(due.hints.skips(jana.as_str(), Collection::Calendar, Side::Raynet), "Raynet said nothing");
/// assert!(triggers.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct Triggers {
    quiet: Duration,
    max_wait: Duration,
    pending: BTreeMap<(Email, Collection), Burst>,
}

impl Triggers {
    /// Coalesces notifications until a burst has been quiet for `quiet`, or has waited
    /// `max_wait` since its first notification.
    #[must_use]
    pub fn new(quiet: Duration, max_wait: Duration) -> Self {
        Self {
            quiet,
            max_wait: max_wait.max(quiet),
            pending: BTreeMap::new(),
        }
    }

    fn burst(&mut self, member: Email, collection: Collection, at: DateTime<Utc>) -> &mut Hint {
        let burst = self
            .pending
            .entry((member, collection))
            .and_modify(|b| {
                b.first = b.first.min(at);
                b.last = b.last.max(at);
            })
            .or_insert(Burst {
                first: at,
                last: at,
                hint: Hint::default(),
            });
        &mut burst.hint
    }

    /// Records a notification, received `at`, that `side` of `member`'s `collection` changed.
    pub fn notify(&mut self, member: Email, collection: Collection, side: Side, at: DateTime<Utc>) {
        self.burst(member, collection, at).side_mut(side).changed = true;
    }

    /// Records a notification, received `at`, that `side` of `member`'s `collection` deleted
    /// `id` (the round confirms it with one read of that item).
    pub fn notify_deleted(
        &mut self,
        member: Email,
        collection: Collection,
        side: Side,
        id: RemoteId,
        at: DateTime<Utc>,
    ) {
        self.burst(member, collection, at)
            .side_mut(side)
            .deleted
            .insert(id);
    }

    /// Records, `at`, that notifications for `member`'s `collection` may have been missed:
    /// its round reads both sides.
    pub fn catch_up(&mut self, member: Email, collection: Collection, at: DateTime<Utc>) {
        let hint = self.burst(member, collection, at);
        hint.raynet.changed = true;
        hint.outlook.changed = true;
    }

    fn due_at(&self, b: &Burst) -> DateTime<Utc> {
        (b.last + self.quiet).min(b.first + self.max_wait)
    }

    /// Takes the bursts due at `now` as one round: its targets and hints, and how many member
    /// collections they are. Bursts not yet due stay.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Due {
        let due: Vec<(Email, Collection)> = self
            .pending
            .iter()
            .filter(|(_, b)| self.due_at(b) <= now)
            .map(|(k, _)| k.clone())
            .collect();
        let mut members: BTreeMap<Email, Collections> = BTreeMap::new();
        let mut hints = Hints::default();
        for key in &due {
            let Some(burst) = self.pending.remove(key) else {
                continue;
            };
            let (member, collection) = key;
            let c = members.entry(member.clone()).or_insert(Collections::NONE);
            *c = c.union_with(*collection);
            hints.add(member, *collection, burst.hint);
        }
        Due {
            targets: Targets::Only(members),
            hints,
            rounds: due.len(),
        }
    }

    /// When the next burst falls due, if any (for the service's timer).
    #[must_use]
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.pending.values().map(|b| self.due_at(b)).min()
    }

    /// Whether no notification waits for a round.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

/// Whether the item `id` on `side` of `scope` is, at `version`, what the sync itself wrote and
/// recorded (the echo of its own write: no read needed). A version the store does not hold, or
/// an item it does not know, is not ours.
///
/// # Errors
/// A [`StoreError`] when the store cannot be read.
pub async fn is_own_write<S: TenantStore + ?Sized>(
    store: &S,
    scope: &Scope,
    side: Side,
    id: &RemoteId,
    version: &Version,
) -> Result<bool, StoreError> {
    Ok(store
        .recorded_version(scope, side, id)
        .await?
        .is_some_and(|v| &v == version))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn t(ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap() + Duration::milliseconds(ms)
    }

    fn email(s: &str) -> Email {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_is_one_round_after_it_went_quiet() {
        let mut tr = Triggers::new(Duration::seconds(2), Duration::seconds(10));
        tr.notify(email("a@x.cz"), Collection::Calendar, Side::Raynet, t(0));
        tr.notify(email("a@x.cz"), Collection::Calendar, Side::Raynet, t(1500));
        assert_eq!(tr.next_due(), Some(t(3500)));
        assert_eq!(tr.take_due(t(3499)).rounds, 0);
        let due = tr.take_due(t(3500));
        assert_eq!(due.rounds, 1);
        assert!(
            due.hints
                .skips("a@x.cz", Collection::Calendar, Side::Outlook)
        );
        assert!(
            !due.hints
                .skips("a@x.cz", Collection::Calendar, Side::Raynet)
        );
        assert_eq!(
            due.targets.of(&email("a@x.cz"), Collections::BOTH),
            Some(Collections::only(Collection::Calendar))
        );
        assert!(tr.is_empty());
    }

    #[test]
    fn a_steady_trickle_waits_at_most_max_wait() {
        let mut tr = Triggers::new(Duration::seconds(2), Duration::seconds(10));
        for i in 0..20 {
            tr.notify(
                email("a@x.cz"),
                Collection::Contacts,
                Side::Outlook,
                t(i * 1000),
            );
        }
        assert_eq!(tr.next_due(), Some(t(10_000)), "first + max_wait");
    }

    #[test]
    fn members_and_collections_are_kept_apart() {
        let mut tr = Triggers::new(Duration::seconds(1), Duration::seconds(5));
        tr.notify(email("a@x.cz"), Collection::Calendar, Side::Outlook, t(0));
        tr.notify(email("b@x.cz"), Collection::Contacts, Side::Raynet, t(0));
        tr.notify(email("a@x.cz"), Collection::Contacts, Side::Raynet, t(4000));
        let Due {
            targets, rounds, ..
        } = tr.take_due(t(1000));
        assert_eq!(rounds, 2);
        assert_eq!(
            targets.of(&email("a@x.cz"), Collections::BOTH),
            Some(Collections::only(Collection::Calendar))
        );
        assert_eq!(
            targets.of(&email("b@x.cz"), Collections::BOTH),
            Some(Collections::only(Collection::Contacts))
        );
        assert_eq!(tr.take_due(t(5000)).rounds, 1, "a's contacts, later");
    }

    #[test]
    fn deletions_and_catch_ups_become_hints() {
        let mut tr = Triggers::new(Duration::seconds(1), Duration::seconds(5));
        let gone = RemoteId::new("m-7").unwrap();
        tr.notify_deleted(
            email("a@x.cz"),
            Collection::Calendar,
            Side::Raynet,
            gone.clone(),
            t(0),
        );
        tr.catch_up(email("b@x.cz"), Collection::Contacts, t(0));
        let due = tr.take_due(t(1000));
        let a = due.hints.of("a@x.cz", Collection::Calendar).unwrap();
        assert!(!a.raynet.changed && !a.outlook.changed);
        assert_eq!(a.raynet.deleted.iter().collect::<Vec<_>>(), [&gone]);
        assert!(
            !due.hints
                .skips("b@x.cz", Collection::Contacts, Side::Raynet)
        );
        assert!(
            !due.hints
                .skips("b@x.cz", Collection::Contacts, Side::Outlook)
        );
    }
}
