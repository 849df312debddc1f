//! [`InstanceFacts`]: what the providers learn about a RAYNET instance's API
//! while writing, shared by every member's provider of that instance.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

const UNKNOWN: u8 = 0;
const KEEPS: u8 = 1;
const DROPS: u8 = 2;

/// What the providers of one RAYNET instance have learned about its API.
///
/// RAYNET documents an `extId` in an insert body for companies only
/// (raynet-api.md §6); whether an insert of a meeting or an event keeps it is
/// not documented. [`super::RaynetCalendar`] sends the idempotency key that
/// way and reads each created record back to see that it is there (and adds
/// it through the extId endpoint if not). Once a read-back has shown that
/// inserts keep it, later creates skip the read-back (those without
/// attendees: which attendees RAYNET holds depends on its persons); one that
/// shows an insert dropping it makes every later create read back again.
///
/// Cheap to clone (shared). Give one to every member's provider of an
/// instance ([`super::RaynetCalendar::with_facts`]) and keep it for the life
/// of the process: the first create of the run then pays the read-back for
/// everybody.
///
/// ```
/// use raynet_client::adapter::InstanceFacts;
/// let facts = InstanceFacts::new();
/// assert_eq!(facts.insert_keeps_ext_id(), None); // nothing learned yet
/// ```
#[derive(Clone, Default)]
pub struct InstanceFacts {
    insert_ext_id: Arc<AtomicU8>,
    person_emails: super::lookup::PersonEmails,
}

impl InstanceFacts {
    /// Nothing learned yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Participants' addresses kept between rounds (an hour each unless the
    /// person is seen to change sooner: see [`super::PersonEmails`]).
    #[must_use]
    pub fn person_emails(&self) -> &super::lookup::PersonEmails {
        &self.person_emails
    }

    /// Whether an insert of a meeting or event keeps the `extId` it is sent:
    /// `None` until a create has been read back.
    #[must_use]
    pub fn insert_keeps_ext_id(&self) -> Option<bool> {
        match self.insert_ext_id.load(Ordering::Acquire) {
            KEEPS => Some(true),
            DROPS => Some(false),
            _ => None,
        }
    }

    /// Records what a read-back of a create showed. "Drops" wins over "keeps"
    /// for good: one insert that dropped the key is enough to read every
    /// later create back.
    pub(super) fn learn_insert_keeps_ext_id(&self, kept: bool) {
        if kept {
            // Only from "unknown": a "drops" already seen stays.
            let _ = self.insert_ext_id.compare_exchange(
                UNKNOWN,
                KEEPS,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
        } else {
            self.insert_ext_id.store(DROPS, Ordering::Release);
        }
    }
}

impl fmt::Debug for InstanceFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceFacts")
            .field("insert_keeps_ext_id", &self.insert_keeps_ext_id())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_key_is_remembered_for_good() {
        let facts = InstanceFacts::new();
        let shared = facts.clone();
        assert_eq!(facts.insert_keeps_ext_id(), None);
        shared.learn_insert_keeps_ext_id(true);
        assert_eq!(facts.insert_keeps_ext_id(), Some(true), "clones share");
        facts.learn_insert_keeps_ext_id(false);
        facts.learn_insert_keeps_ext_id(true);
        assert_eq!(shared.insert_keeps_ext_id(), Some(false));
    }
}
