//! The pure planner: from (stored state, Raynet read, Outlook read, policy, now) to a [`Plan`].
//!
//! Nothing here does I/O or awaits: the planner can be run, and property-tested, on snapshots
//! built by hand.
//!
//! ## Where each rule lives
//!
//! | rule family (DESIGN)                                                       | file                |
//! |----------------------------------------------------------------------------|---------------------|
//! | the calendar round: its flow, new items ([`plan_calendar`], [`CalendarInput`]) | `calendar.rs`   |
//! | §3 three-way merge and conflict policy: pairing, per-field merge, conflicts (`latest` / `raynet` / `outlook`), deletions vs edits | `merge.rs` |
//! | §4 calendar rules: private events / time blocker, completed events, invited events / claims, Outlook deletions, `outlook_new_as`, attendees / participant list ([`PARTICIPANTS_MARKER`], [`strip_participants`], [`TIME_BLOCKER_TITLE`]), the window | `calendar_rules.rs` |
//! | §5 contacts: the one-way round ([`plan_replicate`], [`plan_contacts`], [`ReplicateInput`]) | `replicate.rs` |
//! | §7 no duplicates: idempotency keys, re-create keys, items found again by their key, pending creates | `keys.rs` |
//! | §7 the mass-deletion guard                                                 | `guard.rs`          |
//! | §7 the mass time-shift guard (many events moved by one offset)             | `shift.rs`          |
//! | §7 the invitation-storm guard (a cap on writes that mail attendees)        | `invitations.rs`    |
//! | §7 a failed or partial read is never a deletion: how each recorded item stands in a read (`SideNow`, `ReadIndex`) | `read.rs` |
//! | hashing and the id index of a read (`FxHasher`, `IdIndex`)                 | `index.rs`          |
//!
//! Files depend on each other in one direction only: `index` ← `read` ← `calendar_rules` ←
//! `keys` ← `merge` ← `calendar`; `replicate` uses `read`, `keys` and `guard`; `calendar` also
//! uses `guard`, `shift` and `invitations`, which use no sibling.
//!
//! [`Plan`]: crate::plan::Plan

mod calendar;
mod calendar_rules;
mod guard;
mod index;
mod invitations;
mod keys;
mod merge;
mod read;
mod replicate;
mod shift;
#[cfg(test)]
mod testutil;

pub use calendar::{CalendarInput, plan_calendar};
pub use calendar_rules::{PARTICIPANTS_MARKER, TIME_BLOCKER_TITLE, strip_participants};
pub use replicate::{ReplicateInput, plan_contacts, plan_replicate};
