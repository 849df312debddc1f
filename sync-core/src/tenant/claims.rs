//! §4's rule for meetings seen in several members' mailboxes: one outside meeting is one Raynet
//! record, never one per mailbox.
//!
//! Under `invited_events = "own"` an invitation from outside the served members is written to
//! Raynet owned by the invited member. The same invitation (same `iCalUId`) may sit in several
//! members' mailboxes, so members then go one at a time ([`members_at_once`]), and each sees the
//! global ids already synced from the others' calendars ([`claimed_elsewhere`]), which its
//! planner leaves alone.

use std::collections::BTreeSet;

use crate::error::StoreError;
use crate::event::Event;
use crate::ids::Collection;
use crate::policy::{InvitedEvents, Policy};
use crate::state::StateStore;

/// How many members' rounds may run at the same time: `max_parallel` (at least 1), or one at a
/// time when invited events are written owned by the invited member, so that each member's
/// round sees what the previous ones claimed.
#[must_use]
pub fn members_at_once(policy: &Policy, max_parallel: usize) -> usize {
    if policy.invited_events == InvitedEvents::Own {
        1
    } else {
        max_parallel.max(1)
    }
}

/// The global ids (`iCalUId`) of meetings synced from the other members' calendars of `tenant`.
///
/// # Errors
/// A [`StoreError`] when the store cannot be read.
pub async fn claimed_elsewhere(
    store: &dyn StateStore<Event>,
    tenant: &str,
    member: &str,
) -> Result<BTreeSet<String>, StoreError> {
    let mut claimed = BTreeSet::new();
    for scope in store.scopes().await? {
        if scope.tenant != tenant
            || scope.member == member
            || scope.collection != Collection::Calendar
        {
            continue;
        }
        let state = store.load(&scope).await?;
        for pair in state.pairs.values() {
            if let Some(uid) = pair.outlook.as_ref().and_then(|o| o.base.global_id.clone()) {
                claimed.insert(uid);
            }
        }
    }
    Ok(claimed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invited_events_owned_by_the_member_run_members_one_at_a_time() {
        let mut policy = Policy::default();
        assert_eq!(members_at_once(&policy, 4), 4);
        assert_eq!(members_at_once(&policy, 0), 1);
        policy.invited_events = InvitedEvents::Own;
        assert_eq!(members_at_once(&policy, 4), 1);
    }
}
