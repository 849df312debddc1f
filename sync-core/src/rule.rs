//! The rules that decide: [`StepRule`] (why a step writes what it writes) and [`ConflictRule`]
//! (how a field both sides changed was settled). Each has a stable code (what the audit trail
//! keeps and tools match on) and a human phrase (what plans and reports print).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a step of the plan does what it does: the rule that decided it.
///
/// The code ([`StepRule::code`], also the serde form) is stable; the phrase
/// ([`StepRule::phrase`], the `Display`) may be reworded.
///
/// ```
/// use sync_core::StepRule;
/// assert_eq!(StepRule::ChangedInOutlook.code(), "changed-in-outlook");
/// assert_eq!(StepRule::ChangedInOutlook.to_string(), "changed in outlook");
/// assert_eq!("deleted-in-outlook-cancel".parse::<StepRule>().unwrap(), StepRule::DeletedInOutlookCancel);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepRule {
    // ----- new items
    /// A Raynet item no pair holds: created in Outlook.
    NewInRaynet,
    /// An Outlook item no pair holds: created in Raynet.
    NewInOutlook,
    /// A private Outlook item no pair holds: created in Raynet as a time blocker
    /// (`private_events = "time-blocker"`).
    NewInOutlookPrivate,
    /// A source item (a Raynet person) no pair holds: created in the target.
    NewInSource,
    // ----- changes
    /// Changed in Raynet only (a one-sided change).
    ChangedInRaynet,
    /// Changed in Outlook only (a one-sided change).
    ChangedInOutlook,
    /// Changed on both sides: the fields merged one by one, conflicts settled by the policy.
    ChangedOnBothSides,
    /// Changed in Raynet after the meeting was completed (`completed_events = "stop"`): the
    /// Raynet changes stay in Raynet, Outlook changes never overwrite it.
    ChangedAfterCompletion,
    /// A field Raynet starts holding (a time blocker made public) is filled in.
    FilledIn,
    /// Both sides' versions moved but their content agrees: only the record changes.
    VersionsMoved,
    /// Cancelled in Raynet: Outlook cannot hold a cancelled event, so it is removed there and
    /// the Raynet record kept.
    CancelledInRaynet,
    /// A cancelled, detached Raynet record reopened: created in Outlook again.
    ReopenedInRaynet,
    /// Contacts: changed in the source, written to the target.
    ChangedInSource,
    /// Contacts: the target copy was edited: restored from the source.
    EditedInTarget,
    /// Contacts: the target copy is missing: restored from the source.
    MissingInTarget,
    // ----- deletions
    /// Deleted in Raynet: the Outlook copy is deleted.
    DeletedInRaynet,
    /// Deleted in Raynet while edited in Outlook (`delete_vs_edit = "keep-edit"`): the edit
    /// wins, the item is created in Raynet again.
    DeletedInRaynetEditedInOutlook,
    /// Deleted in Outlook while edited in Raynet (`delete_vs_edit = "keep-edit"`): the edit
    /// wins, the item is created in Outlook again.
    DeletedInOutlookEditedInRaynet,
    /// Deleted in Outlook, `outlook_deletes = "delete"`: the Raynet record is deleted.
    DeletedInOutlookDelete,
    /// Deleted in Outlook, `outlook_deletes = "cancel"`: the Raynet record is cancelled and
    /// unlinked.
    DeletedInOutlookCancel,
    /// Deleted in Outlook, the Raynet record already completed or cancelled: kept, unlinked.
    DeletedInOutlookKeptClosed,
    /// Deleted in Outlook, `outlook_deletes = "ignore"`: the Raynet record is kept, unlinked.
    DeletedInOutlookIgnored,
    /// Deleted on both sides (or deleted on one and gone from the window on the other): the
    /// pair is forgotten.
    DeletedOnBothSides,
    /// A Raynet record no longer linked to Outlook was deleted: forgotten.
    DeletedInRaynetDetached,
    /// An Outlook item no longer linked to Raynet was deleted: forgotten.
    DeletedInOutlookDetached,
    /// Contacts: the source was deleted: the target copy is deleted.
    DeletedInSource,
    // ----- bookkeeping
    /// Items carrying our sync mark found on both sides (a lost state store): linked again.
    Relinked,
    /// A record with no side, or a target copy whose source record is gone: forgotten.
    Forgotten,
}

impl StepRule {
    /// Every rule.
    pub const ALL: &'static [Self] = &[
        Self::NewInRaynet,
        Self::NewInOutlook,
        Self::NewInOutlookPrivate,
        Self::NewInSource,
        Self::ChangedInRaynet,
        Self::ChangedInOutlook,
        Self::ChangedOnBothSides,
        Self::ChangedAfterCompletion,
        Self::FilledIn,
        Self::VersionsMoved,
        Self::CancelledInRaynet,
        Self::ReopenedInRaynet,
        Self::ChangedInSource,
        Self::EditedInTarget,
        Self::MissingInTarget,
        Self::DeletedInRaynet,
        Self::DeletedInRaynetEditedInOutlook,
        Self::DeletedInOutlookEditedInRaynet,
        Self::DeletedInOutlookDelete,
        Self::DeletedInOutlookCancel,
        Self::DeletedInOutlookKeptClosed,
        Self::DeletedInOutlookIgnored,
        Self::DeletedOnBothSides,
        Self::DeletedInRaynetDetached,
        Self::DeletedInOutlookDetached,
        Self::DeletedInSource,
        Self::Relinked,
        Self::Forgotten,
    ];

    /// The stable code (kebab-case; the serde form).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::NewInRaynet => "new-in-raynet",
            Self::NewInOutlook => "new-in-outlook",
            Self::NewInOutlookPrivate => "new-in-outlook-private",
            Self::NewInSource => "new-in-source",
            Self::ChangedInRaynet => "changed-in-raynet",
            Self::ChangedInOutlook => "changed-in-outlook",
            Self::ChangedOnBothSides => "changed-on-both-sides",
            Self::ChangedAfterCompletion => "changed-after-completion",
            Self::FilledIn => "filled-in",
            Self::VersionsMoved => "versions-moved",
            Self::CancelledInRaynet => "cancelled-in-raynet",
            Self::ReopenedInRaynet => "reopened-in-raynet",
            Self::ChangedInSource => "changed-in-source",
            Self::EditedInTarget => "edited-in-target",
            Self::MissingInTarget => "missing-in-target",
            Self::DeletedInRaynet => "deleted-in-raynet",
            Self::DeletedInRaynetEditedInOutlook => "deleted-in-raynet-edited-in-outlook",
            Self::DeletedInOutlookEditedInRaynet => "deleted-in-outlook-edited-in-raynet",
            Self::DeletedInOutlookDelete => "deleted-in-outlook-delete",
            Self::DeletedInOutlookCancel => "deleted-in-outlook-cancel",
            Self::DeletedInOutlookKeptClosed => "deleted-in-outlook-kept-closed",
            Self::DeletedInOutlookIgnored => "deleted-in-outlook-ignored",
            Self::DeletedOnBothSides => "deleted-on-both-sides",
            Self::DeletedInRaynetDetached => "deleted-in-raynet-detached",
            Self::DeletedInOutlookDetached => "deleted-in-outlook-detached",
            Self::DeletedInSource => "deleted-in-source",
            Self::Relinked => "relinked",
            Self::Forgotten => "forgotten",
        }
    }

    /// The human phrase (what plans and reports print).
    #[must_use]
    pub fn phrase(self) -> &'static str {
        match self {
            Self::NewInRaynet => "new in raynet",
            Self::NewInOutlook => "new in outlook",
            Self::NewInOutlookPrivate => "new in outlook (private: time blocker)",
            Self::NewInSource => "new in source",
            Self::ChangedInRaynet => "changed in raynet",
            Self::ChangedInOutlook => "changed in outlook",
            Self::ChangedOnBothSides => "changed in raynet, changed in outlook",
            Self::ChangedAfterCompletion => {
                "changed in raynet after completion (completed_events = \"stop\")"
            }
            Self::FilledIn => "a field raynet starts holding is filled in",
            Self::VersionsMoved => "versions moved, content agrees",
            Self::CancelledInRaynet => "cancelled in raynet: the outlook event is removed",
            Self::ReopenedInRaynet => "reopened in raynet: back to outlook",
            Self::ChangedInSource => "changed in source",
            Self::EditedInTarget => "edited in target: restored from source",
            Self::MissingInTarget => "missing in target: restored",
            Self::DeletedInRaynet => "deleted in raynet",
            Self::DeletedInRaynetEditedInOutlook => {
                "deleted in raynet, edited in outlook: re-created in raynet"
            }
            Self::DeletedInOutlookEditedInRaynet => {
                "deleted in outlook, edited in raynet: re-created in outlook"
            }
            Self::DeletedInOutlookDelete => "deleted in outlook (outlook_deletes = \"delete\")",
            Self::DeletedInOutlookCancel => {
                "deleted in outlook: cancelled in raynet (outlook_deletes = \"cancel\")"
            }
            Self::DeletedInOutlookKeptClosed => {
                "deleted in outlook: raynet record kept (already closed)"
            }
            Self::DeletedInOutlookIgnored => {
                "deleted in outlook: unlinked (outlook_deletes = \"ignore\")"
            }
            Self::DeletedOnBothSides => "deleted on both sides",
            Self::DeletedInRaynetDetached => "deleted in raynet (detached)",
            Self::DeletedInOutlookDetached => "deleted in outlook (detached)",
            Self::DeletedInSource => "deleted in source",
            Self::Relinked => "re-linked by the sync mark",
            Self::Forgotten => "record without its source: forgotten",
        }
    }

    /// Whether the rule is about a deletion on either side.
    #[must_use]
    pub fn is_deletion(self) -> bool {
        matches!(
            self,
            Self::DeletedInRaynet
                | Self::DeletedInRaynetEditedInOutlook
                | Self::DeletedInOutlookEditedInRaynet
                | Self::DeletedInOutlookDelete
                | Self::DeletedInOutlookCancel
                | Self::DeletedInOutlookKeptClosed
                | Self::DeletedInOutlookIgnored
                | Self::DeletedOnBothSides
                | Self::DeletedInRaynetDetached
                | Self::DeletedInOutlookDetached
                | Self::DeletedInSource
        )
    }

    /// Whether a step of this rule belongs in the audit trail even when it writes nothing
    /// remote: a deletion the sync answered by forgetting or unlinking. Other steps without a
    /// write (versions moved, a record forgotten) are bookkeeping.
    #[must_use]
    pub fn audited_without_writes(self) -> bool {
        self.is_deletion()
    }
}

impl fmt::Display for StepRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.phrase())
    }
}

impl std::str::FromStr for StepRule {
    type Err = crate::error::ModelError;

    /// Parses a stable code ([`StepRule::code`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.code() == s)
            .ok_or_else(|| crate::error::ModelError::UnknownValue {
                field: "rule",
                value: s.chars().take(80).collect(),
                allowed: "a step rule code",
            })
    }
}

/// How a field both sides changed to different values was settled (the conflict policy, or
/// the completed-meeting rule).
///
/// ```
/// use sync_core::ConflictRule;
/// assert_eq!(ConflictRule::LatestTie.code(), "latest-tie");
/// assert_eq!(ConflictRule::LatestTie.to_string(), "latest (tie)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictRule {
    /// `conflict = "latest"`: the side changed last won.
    Latest,
    /// `conflict = "latest"`, but the sides' times were equal or unknown: Raynet won.
    LatestTie,
    /// `conflict = "raynet"`: Raynet always wins.
    Raynet,
    /// `conflict = "outlook"`: Outlook always wins.
    Outlook,
    /// A meeting completed in Raynet (`completed_events = "stop"`): its Raynet values are
    /// never overwritten from Outlook.
    Completed,
}

impl ConflictRule {
    /// The stable code (kebab-case; the serde form).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::Latest => "latest",
            Self::LatestTie => "latest-tie",
            Self::Raynet => "raynet",
            Self::Outlook => "outlook",
            Self::Completed => "completed",
        }
    }

    /// The short phrase plans and reports print.
    #[must_use]
    pub fn phrase(self) -> &'static str {
        match self {
            Self::Latest => "latest",
            Self::LatestTie => "latest (tie)",
            Self::Raynet => "raynet",
            Self::Outlook => "outlook",
            Self::Completed => "completed",
        }
    }
}

impl fmt::Display for ConflictRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.phrase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_rule_has_a_unique_code_that_parses_back_and_is_its_serde_form() {
        let mut codes = std::collections::BTreeSet::new();
        for rule in StepRule::ALL {
            assert!(codes.insert(rule.code()), "{} is used twice", rule.code());
            assert_eq!(rule.code().parse::<StepRule>().unwrap(), *rule);
            assert_eq!(
                serde_json::to_string(rule).unwrap(),
                format!("\"{}\"", rule.code()),
                "the serde form is the code"
            );
            assert!(!rule.phrase().is_empty());
        }
        assert!("no-such-rule".parse::<StepRule>().is_err());
    }

    #[test]
    fn conflict_rules_serialize_as_their_codes() {
        for rule in [
            ConflictRule::Latest,
            ConflictRule::LatestTie,
            ConflictRule::Raynet,
            ConflictRule::Outlook,
            ConflictRule::Completed,
        ] {
            let json = serde_json::to_string(&rule).unwrap();
            assert_eq!(json, format!("\"{}\"", rule.code()));
            assert_eq!(serde_json::from_str::<ConflictRule>(&json).unwrap(), rule);
        }
    }

    #[test]
    fn only_deletions_are_audited_without_a_write() {
        assert!(StepRule::DeletedOnBothSides.audited_without_writes());
        assert!(StepRule::DeletedInOutlookIgnored.audited_without_writes());
        assert!(!StepRule::VersionsMoved.audited_without_writes());
        assert!(!StepRule::Forgotten.audited_without_writes());
    }
}
