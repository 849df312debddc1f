//! The audit trail's entries: what one executed step wrote, to which item on each side, which
//! fields went from what to what, and which rule decided. Plain data; the runner fills
//! [`RoundReport::audit`](crate::RoundReport::audit) with one [`AuditEntry`] per step it sent
//! (dry runs have none), and the binary keeps them.
//!
//! Values are short texts ([`SyncItem::field_text`](crate::SyncItem::field_text)): titles,
//! places, times, e-mail addresses; free text (descriptions, notes), phone numbers and
//! birthdays are only described, never copied.
//!
//! The JSON shape is stable (stores keep it): new fields get defaults; empty lists and absent
//! values are left out.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{PairId, RemoteId, Side};
use crate::rule::{ConflictRule, StepRule};

/// One executed step of a round, as the audit trail keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The rule that decided the step.
    pub rule: StepRule,
    /// The step's reason in words (the rule's phrase, sometimes with a detail).
    pub reason: Cow<'static, str>,
    /// The pair (after the step, for a new item; `None` when no pair was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<PairId>,
    /// The item's label (its title or name).
    pub label: String,
    /// The item's id in Raynet after the step, or the id it had (a deleted item keeps its
    /// last id here, so that it can be looked up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raynet_id: Option<RemoteId>,
    /// The item's id in Outlook after the step, or the id it had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlook_id: Option<RemoteId>,
    /// The writes, in the order they were (or would have been) sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<AuditWrite>,
    /// The fields of this pair both sides changed, and how each was settled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<AuditConflict>,
    /// Why the step failed (`None`: every write succeeded and the step was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AuditEntry {
    /// Whether every write succeeded.
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    /// The item's id on `side` (after the step, or the one it had).
    #[must_use]
    pub fn id_on(&self, side: Side) -> Option<&RemoteId> {
        match side {
            Side::Raynet => self.raynet_id.as_ref(),
            Side::Outlook => self.outlook_id.as_ref(),
        }
    }
}

impl fmt::Display for AuditEntry {
    /// One line: `"label" (reason): write; write [failed: error]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({})", self.label, self.reason)?;
        let mut sep = ": ";
        for w in &self.writes {
            write!(f, "{sep}{w}")?;
            sep = "; ";
        }
        for c in &self.conflicts {
            write!(f, "{sep}{c}")?;
            sep = "; ";
        }
        if let Some(e) = &self.error {
            write!(f, " [failed: {e}]")?;
        }
        Ok(())
    }
}

/// What a write does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteAction {
    /// Creates the item.
    Create,
    /// Updates the item.
    Update,
    /// Deletes the item.
    Delete,
}

impl fmt::Display for WriteAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        })
    }
}

/// One write of a step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditWrite {
    /// The side written to.
    pub side: Side,
    /// What the write does.
    pub action: WriteAction,
    /// The item's id there (for a create: the id it got; `None` when it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RemoteId>,
    /// The fields an update changes, from what to what.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// Whether the side accepted the write (a write after a failed one is never sent).
    pub done: bool,
}

impl fmt::Display for AuditWrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} on {}", self.action, self.side)?;
        if let Some(id) = &self.id {
            write!(f, " {id}")?;
        }
        for (i, c) in self.changes.iter().enumerate() {
            f.write_str(if i == 0 { " (" } else { ", " })?;
            write!(f, "{c}")?;
            if i + 1 == self.changes.len() {
                f.write_str(")")?;
            }
        }
        if !self.done {
            f.write_str(" [not done]")?;
        }
        Ok(())
    }
}

/// One field a write changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field's name (`title`, `location`, ...).
    pub field: String,
    /// Its value on the written side before the write, as short text.
    pub from: String,
    /// Its value after the write, as short text.
    pub to: String,
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?} → {:?}", self.field, self.from, self.to)
    }
}

/// A field both sides changed to different values, and how it was settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditConflict {
    /// The field's name.
    pub field: String,
    /// The side whose value was kept.
    pub winner: Side,
    /// The rule that settled it.
    pub rule: ConflictRule,
}

impl fmt::Display for AuditConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conflict on {}: {} kept ({})",
            self.field, self.winner, self.rule
        )
    }
}

/// Cuts `text` to at most `max` characters, marking a cut with `…`.
#[must_use]
pub fn short_text(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        AuditEntry {
            rule: StepRule::ChangedOnBothSides,
            reason: StepRule::ChangedOnBothSides.phrase().into(),
            pair: Some(PairId::from_store(7)),
            label: "Porada".into(),
            raynet_id: Some(RemoteId::new("42").unwrap()),
            outlook_id: Some(RemoteId::new("AAMk=").unwrap()),
            writes: vec![AuditWrite {
                side: Side::Outlook,
                action: WriteAction::Update,
                id: Some(RemoteId::new("AAMk=").unwrap()),
                changes: vec![FieldChange {
                    field: "location".into(),
                    from: "Praha".into(),
                    to: "Brno".into(),
                }],
                done: true,
            }],
            conflicts: vec![AuditConflict {
                field: "location".into(),
                winner: Side::Raynet,
                rule: ConflictRule::Latest,
            }],
            error: None,
        }
    }

    #[test]
    fn an_entry_round_trips_through_json_with_stable_codes() {
        let e = entry();
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["rule"], "changed-on-both-sides");
        assert_eq!(json["writes"][0]["action"], "update");
        assert_eq!(json["writes"][0]["side"], "outlook");
        assert_eq!(json["conflicts"][0]["rule"], "latest");
        assert_eq!(json["raynet_id"], "42");
        let back: AuditEntry = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn an_entry_reads_in_one_line() {
        let text = entry().to_string();
        assert_eq!(
            text,
            "\"Porada\" (changed in raynet, changed in outlook): update on outlook AAMk= \
             (location: \"Praha\" → \"Brno\"); conflict on location: raynet kept (latest)"
        );
        let mut failed = entry();
        failed.error = Some("outlook: 503".into());
        failed.writes[0].done = false;
        assert!(
            failed.to_string().ends_with(
                "[not done]; conflict on location: raynet kept (latest) [failed: outlook: 503]"
            ),
            "{failed}"
        );
    }

    #[test]
    fn short_text_cuts_on_characters_and_marks_the_cut() {
        assert_eq!(short_text("Žluťoučký kůň", 40), "Žluťoučký kůň");
        assert_eq!(short_text("Žluťoučký kůň", 5), "Žluť…");
        assert_eq!(short_text("", 5), "");
    }
}
