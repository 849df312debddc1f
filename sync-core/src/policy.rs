//! The rules a round follows: conflict policy, deletion rules, the calendar filters of
//! DESIGN §4, the window, and the guards of DESIGN §7 (mass deletion, mass time shift, the
//! invitation cap).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::event::string_enum;
use crate::ids::Email;
use crate::provider::Window;

string_enum!(
    /// Who wins a field both sides changed to different values.
    ConflictPolicy, "conflict", {
        /// The later modification wins; a tie (or an unknown time) goes to Raynet.
        #[default]
        Latest => "latest",
        /// Raynet always wins.
        Raynet => "raynet",
        /// Outlook always wins.
        Outlook => "outlook",
    }
);

string_enum!(
    /// An item deleted on one side and edited on the other.
    DeleteEditPolicy, "delete_vs_edit", {
        /// The edit wins: the item is re-created on the side that deleted it (nothing lost).
        #[default]
        KeepEdit => "keep-edit",
        /// The deletion wins: the edited copy is deleted too.
        Delete => "delete",
    }
);

string_enum!(
    /// What an Outlook deletion does to the Raynet record (`outlook_deletes`).
    OutlookDeletes, "outlook_deletes", {
        /// Delete the Raynet record.
        Delete => "delete",
        /// Mark it cancelled and keep its history.
        #[default]
        Cancel => "cancel",
        /// Only unlink the pair.
        Ignore => "ignore",
    }
);

string_enum!(
    /// How private Outlook events reach Raynet (`private_events`).
    PrivateEvents, "private_events", {
        /// Synced like any other.
        Standard => "standard",
        /// Titled "Time blocker", the time only; no detail ever leaks on later updates.
        TimeBlocker => "time-blocker",
        /// Never reach Raynet.
        #[default]
        Skip => "skip",
    }
);

string_enum!(
    /// What happens to meetings completed in Raynet (`completed_events`).
    CompletedEvents, "completed_events", {
        /// They keep flowing to Outlook.
        #[default]
        Sync => "sync",
        /// Once completed, their later Raynet changes no longer reach Outlook.
        Stop => "stop",
    }
);

string_enum!(
    /// Outlook events organised by someone who is not a served member (`invited_events`).
    InvitedEvents, "invited_events", {
        /// Not written to Raynet.
        #[default]
        Skip => "skip",
        /// Written to Raynet owned by the invited member.
        Own => "own",
    }
);

string_enum!(
    /// The Raynet type of a new Outlook item (`outlook_new_as`).
    OutlookNewAs, "outlook_new_as", {
        /// A Raynet event (událost).
        #[default]
        Event => "event",
        /// A Raynet meeting (schůzka).
        Meeting => "meeting",
        /// A meeting when it has attendees from outside the organisation, else an event.
        Auto => "auto",
    }
);

string_enum!(
    /// How Raynet participants reach Outlook (`attendees`).
    AttendeeMode, "attendees", {
        /// As attendees: Outlook sends them invitations.
        #[default]
        Invite => "invite",
        /// Listed in the body: nothing is ever sent.
        List => "list",
    }
);

/// The mass-deletion guard: a round that would delete more than `max_share` of a side's
/// paired items (and more than `floor` items) stops before writing and reports why.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeleteGuard {
    /// The largest share of a side's paired items one round may delete (default 0.2).
    pub max_share: f64,
    /// Deleting this many items or fewer never trips the guard (default 2), so small
    /// calendars can still lose an item.
    pub floor: usize,
    /// The operator allowed this round's deletions anyway.
    pub allow: bool,
}

impl Default for DeleteGuard {
    fn default() -> Self {
        Self {
            max_share: 0.2,
            floor: 2,
            allow: false,
        }
    }
}

impl DeleteGuard {
    /// Whether deleting `deletes` of `paired` items trips the guard.
    #[must_use]
    pub fn trips(&self, deletes: usize, paired: usize) -> bool {
        if self.allow || deletes <= self.floor {
            return false;
        }
        deletes as f64 > self.max_share * paired as f64
    }
}

/// The mass time-shift guard: a round that would move more than `max_share` of a side's
/// paired events (and more than `floor` of them) by one and the same offset stops before
/// writing and reports why — the signature of a time-zone or daylight-saving bug, never of
/// people's edits.
///
/// Events are counted as people edit them: the occurrences of one recurring series count as
/// one (moving a weekly meeting moves every occurrence by the same offset, and is one edit).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShiftGuard {
    /// The largest share of a side's paired events one round may move by the same offset
    /// (default 0.2).
    pub max_share: f64,
    /// Moving this many events or fewer by the same offset never trips the guard (default 2).
    pub floor: usize,
    /// The operator allowed this round's moves anyway (`run --allow-mass-change`).
    pub allow: bool,
}

impl Default for ShiftGuard {
    fn default() -> Self {
        Self {
            max_share: 0.2,
            floor: 2,
            allow: false,
        }
    }
}

impl ShiftGuard {
    /// Whether moving `moved` of `paired` events by the same offset trips the guard.
    #[must_use]
    pub fn trips(&self, moved: usize, paired: usize) -> bool {
        if self.allow || moved <= self.floor {
            return false;
        }
        moved as f64 > self.max_share * paired as f64
    }
}

/// The default cap on the writes per member and round that make Exchange mail attendees.
pub const DEFAULT_MAX_INVITATIONS: usize = 50;

/// Every rule a round follows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Conflicting field edits.
    pub conflict: ConflictPolicy,
    /// Deleted on one side, edited on the other.
    pub delete_vs_edit: DeleteEditPolicy,
    /// Outlook deletions.
    pub outlook_deletes: OutlookDeletes,
    /// Private Outlook events.
    pub private_events: PrivateEvents,
    /// Completed Raynet meetings.
    pub completed_events: CompletedEvents,
    /// Events organised by others.
    pub invited_events: InvitedEvents,
    /// The Raynet type of new Outlook items.
    pub outlook_new_as: OutlookNewAs,
    /// How participants reach Outlook.
    pub attendees: AttendeeMode,
    /// Days before today the window reaches (default 30).
    pub window_days_back: u32,
    /// Days after today the window reaches (default 365).
    pub window_days_ahead: u32,
    /// The mass-deletion guard.
    pub delete_guard: DeleteGuard,
    /// The mass time-shift guard.
    pub shift_guard: ShiftGuard,
    /// The invitation cap: at most this many writes per member and round that make Exchange
    /// mail attendees (creating, rescheduling or deleting an Outlook event with attendees);
    /// the rest wait for the next round. `0` means no cap. Default
    /// [`DEFAULT_MAX_INVITATIONS`].
    pub max_invitations: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            conflict: ConflictPolicy::Latest,
            delete_vs_edit: DeleteEditPolicy::KeepEdit,
            outlook_deletes: OutlookDeletes::Cancel,
            private_events: PrivateEvents::Skip,
            completed_events: CompletedEvents::Sync,
            invited_events: InvitedEvents::Skip,
            outlook_new_as: OutlookNewAs::Event,
            attendees: AttendeeMode::Invite,
            window_days_back: 30,
            window_days_ahead: 365,
            delete_guard: DeleteGuard::default(),
            shift_guard: ShiftGuard::default(),
            max_invitations: DEFAULT_MAX_INVITATIONS,
        }
    }
}

impl Policy {
    /// Checks values that make no sense.
    ///
    /// # Errors
    /// [`ModelError::OutOfRange`] naming the field.
    pub fn validate(&self) -> Result<(), ModelError> {
        for (field, share) in [
            ("delete_guard.max_share", self.delete_guard.max_share),
            ("shift_guard.max_share", self.shift_guard.max_share),
        ] {
            if !(share.is_finite() && (0.0..=1.0).contains(&share)) {
                return Err(ModelError::OutOfRange {
                    field,
                    reason: format!("{share} is not a share between 0 and 1"),
                });
            }
        }
        if self.window_days_back == 0 && self.window_days_ahead == 0 {
            return Err(ModelError::OutOfRange {
                field: "window_days_ahead",
                reason: "the window is empty (0 days back and 0 ahead)".into(),
            });
        }
        if self.window_days_back > 3660 || self.window_days_ahead > 3660 {
            return Err(ModelError::OutOfRange {
                field: "window_days_ahead",
                reason: "the window may reach at most 3660 days either way".into(),
            });
        }
        Ok(())
    }

    /// The calendar window at `now`: whole UTC days, so that it moves once a day and delta
    /// tokens pinned to it stay valid all day.
    #[must_use]
    pub fn window(&self, now: DateTime<Utc>) -> Window {
        let today = now.date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
        Window {
            start: today - Duration::days(i64::from(self.window_days_back)),
            end: today + Duration::days(i64::from(self.window_days_ahead) + 1),
        }
    }
}

/// Who the round is for: the member whose items are synced and the organisation around them.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Member {
    /// The member's addresses (mail and user principal name).
    pub emails: BTreeSet<Email>,
    /// Every served member's addresses (events they organise belong to their own sync).
    pub served: BTreeSet<Email>,
    /// The organisation's domains (for `outlook_new_as = "auto"`); when empty, the member's own
    /// domains.
    pub internal_domains: BTreeSet<String>,
    /// Global ids (`iCalUId`) of meetings already synced from another member's calendar: a
    /// copy of one of them in this member's mailbox is not written to Raynet again.
    pub claimed_elsewhere: BTreeSet<String>,
}

impl Member {
    /// A member known by one address, serving only themselves.
    #[must_use]
    pub fn single(email: Email) -> Self {
        let mut emails = BTreeSet::new();
        emails.insert(email.clone());
        let mut served = BTreeSet::new();
        served.insert(email);
        Self {
            emails,
            served,
            internal_domains: BTreeSet::new(),
            claimed_elsewhere: BTreeSet::new(),
        }
    }

    /// Whether `email` is one of the organisation's addresses.
    #[must_use]
    pub fn is_internal(&self, email: &Email) -> bool {
        if self.internal_domains.is_empty() {
            self.emails.iter().any(|m| m.domain() == email.domain())
        } else {
            self.internal_domains.contains(email.domain())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_share_and_floor() {
        let g = DeleteGuard::default();
        assert!(!g.trips(2, 3), "two deletions are under the floor");
        assert!(g.trips(3, 10), "3 of 10 is over 20 %");
        assert!(!g.trips(3, 100));
        assert!(!DeleteGuard { allow: true, ..g }.trips(100, 100));
    }

    #[test]
    fn shift_guard_share_and_floor() {
        let g = ShiftGuard::default();
        assert!(!g.trips(2, 2), "two moved events are under the floor");
        assert!(g.trips(3, 3), "3 of 3 is over 20 %");
        assert!(g.trips(3, 14), "3 of 14 is over 20 %");
        assert!(!g.trips(3, 15), "3 of 15 is exactly 20 %: not more");
        assert!(!ShiftGuard { allow: true, ..g }.trips(100, 100));
        let bad = Policy {
            shift_guard: ShiftGuard {
                max_share: f64::NAN,
                ..g
            },
            ..Policy::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("shift_guard.max_share")
        );
        assert_eq!(Policy::default().max_invitations, 50);
    }

    #[test]
    fn policy_values_parse_with_clear_errors() {
        assert_eq!(
            PrivateEvents::parse("time-blocker").unwrap(),
            PrivateEvents::TimeBlocker
        );
        let err = OutlookDeletes::parse("purge").unwrap_err().to_string();
        assert!(
            err.contains("outlook_deletes") && err.contains("cancel"),
            "{err}"
        );
        let bad = Policy {
            delete_guard: DeleteGuard {
                max_share: 1.5,
                ..DeleteGuard::default()
            },
            ..Policy::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("max_share")
        );
    }

    #[test]
    fn policy_deserializes_with_defaults_and_rejects_unknown_keys() {
        let p: Policy = serde_json::from_str(r#"{"private_events":"time_blocker"}"#).unwrap();
        assert_eq!(p.private_events, PrivateEvents::TimeBlocker);
        assert_eq!(p.outlook_deletes, OutlookDeletes::Cancel);
        assert!(serde_json::from_str::<Policy>(r#"{"bogus":1}"#).is_err());
    }
}
