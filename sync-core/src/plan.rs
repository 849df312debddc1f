//! The plan: plain data saying what a round will write, what it decided and what it skipped.

use std::borrow::Cow;
use std::fmt;

use chrono::TimeDelta;

use crate::ids::{IdempotencyKey, PairId, RemoteId, Side, Version};
use crate::item::{FieldSet, SyncItem};
use crate::rule::{ConflictRule, StepRule};
use crate::state::{PairRecord, SideRecord};

/// One remote write.
#[derive(Clone, Debug, PartialEq)]
pub enum Write<T: SyncItem> {
    /// Create `item` on `side`, marked with `key`.
    Create {
        /// Where.
        side: Side,
        /// What (as the side will hold it).
        item: T,
        /// The idempotency mark.
        key: IdempotencyKey,
    },
    /// Update the item `id` on `side` to `item`.
    Update {
        /// Where.
        side: Side,
        /// Which item.
        id: RemoteId,
        /// Its new content (as the side will hold it).
        item: T,
        /// Its content now, before the write (what the audit trail shows a change from).
        before: T,
        /// The fields that change.
        changed: FieldSet<T::Field>,
        /// The version the item must still have.
        expected: Version,
    },
    /// Delete the item `id` on `side`.
    Delete {
        /// Where.
        side: Side,
        /// Which item.
        id: RemoteId,
        /// The version the item must still have (`None` when it is not known).
        expected: Option<Version>,
    },
}

impl<T: SyncItem> Write<T> {
    /// The side written to.
    #[must_use]
    pub fn side(&self) -> Side {
        match self {
            Self::Create { side, .. } | Self::Update { side, .. } | Self::Delete { side, .. } => {
                *side
            }
        }
    }

    /// Whether this is a deletion.
    #[must_use]
    pub fn is_delete(&self) -> bool {
        matches!(self, Self::Delete { .. })
    }
}

impl<T: SyncItem> fmt::Display for Write<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create { side, item, key } => {
                write!(f, "create on {side}: {:?} (key {key})", item.label())
            }
            Self::Update {
                side, id, changed, ..
            } => write!(f, "update on {side} {id}: {changed}"),
            Self::Delete { side, id, .. } => write!(f, "delete on {side} {id}"),
        }
    }
}

/// What to remember once a step's writes have all succeeded.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome<T> {
    /// Store this record (the sides written get the id, version and content the write
    /// returned); a record with no side left is forgotten.
    Record(PairRecord<T>),
    /// Forget the pair.
    Forget,
}

/// Everything the round does for one pair (or one new item): up to two writes, then one
/// record. The record is made only when every write succeeded, so a half-done step is simply
/// planned again next round.
#[derive(Clone, Debug, PartialEq)]
pub struct Step<T: SyncItem> {
    /// The pair, when it exists already.
    pub pair: Option<PairId>,
    /// A label for reports.
    pub label: String,
    /// The rule that decided the step (its stable code is what the audit trail keeps).
    pub rule: StepRule,
    /// Why, in words: the rule's phrase, sometimes with a detail ("changed in raynet",
    /// "re-linked by the sync mark (outlook holds the original)", ...).
    pub reason: Cow<'static, str>,
    /// The writes, in order.
    pub writes: Vec<Write<T>>,
    /// What to record afterwards.
    pub outcome: Outcome<T>,
    /// The indexes (into `writes`) of the writes that make Exchange mail attendees (the
    /// planner's invitation cap fills it in).
    pub invitation_writes: Vec<usize>,
}

impl<T: SyncItem> Step<T> {
    /// A step on the existing pair `id`, labelled after its Raynet item (else its Outlook one).
    #[must_use]
    pub fn on_pair(
        id: PairId,
        pair: &PairRecord<T>,
        rule: StepRule,
        writes: Vec<Write<T>>,
        outcome: Outcome<T>,
    ) -> Self {
        Self {
            pair: Some(id),
            label: pair
                .raynet
                .as_ref()
                .or(pair.outlook.as_ref())
                .map(|r| r.base.label())
                .unwrap_or_default(),
            rule,
            reason: Cow::Borrowed(rule.phrase()),
            writes,
            outcome,
            invitation_writes: Vec::new(),
        }
    }

    /// The same step with its reason in other words (the rule's phrase with a detail).
    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<Cow<'static, str>>) -> Self {
        self.reason = reason.into();
        self
    }
}

impl<T: SyncItem> Step<T> {
    /// A step that creates `item` on the other side for `new`, an item listed on `side` that no
    /// pair holds yet, and records the pair with `new` as its base on `side`.
    #[must_use]
    pub fn create_new(
        side: Side,
        new: &crate::provider::Remote<T>,
        rule: StepRule,
        item: T,
        key: IdempotencyKey,
    ) -> Self {
        let record = Some(SideRecord {
            id: new.id.clone(),
            version: new.version.clone(),
            base: new.item.clone(),
        });
        let (raynet, outlook) = match side {
            Side::Raynet => (record, None),
            Side::Outlook => (None, record),
        };
        Self {
            pair: None,
            label: new.item.label(),
            rule,
            reason: Cow::Borrowed(rule.phrase()),
            writes: vec![Write::Create {
                side: side.other(),
                item,
                key,
            }],
            outcome: Outcome::Record(PairRecord {
                raynet,
                outlook,
                origin: side,
            }),
            invitation_writes: Vec::new(),
        }
    }
}

impl<T: SyncItem> fmt::Display for Step<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pair = self
            .pair
            .map_or_else(|| "new".to_owned(), |p| p.to_string());
        write!(f, "[{pair}] {:?} ({})", self.label, self.reason)?;
        if self.writes.is_empty() {
            f.write_str(": record only")?;
        }
        for w in &self.writes {
            write!(f, "\n    {w}")?;
        }
        Ok(())
    }
}

/// A field both sides changed to different values, and how it was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The pair.
    pub pair: PairId,
    /// The item's label.
    pub label: String,
    /// The field's name.
    pub field: &'static str,
    /// The side whose value won.
    pub winner: Side,
    /// The rule that decided it (printed `latest`, `raynet`, `outlook`, `latest (tie)`,
    /// `completed`).
    pub rule: ConflictRule,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conflict on {} {:?}, field {}: {} wins ({})",
            self.pair, self.label, self.field, self.winner, self.rule
        )
    }
}

/// An item the round left alone on purpose, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Where the item is.
    pub side: Side,
    /// Its id there.
    pub id: RemoteId,
    /// Its label.
    pub label: String,
    /// Why it was left alone.
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "skipped {} {} {:?}: {}",
            self.side, self.id, self.label, self.reason
        )
    }
}

/// Why a guard (DESIGN §7) stopped the round: then nothing of it is written.
#[derive(Clone, Debug, PartialEq)]
pub enum GuardTrip {
    /// The mass-deletion guard: the round would delete too many of a side's paired items.
    MassDeletion {
        /// The side that would lose items.
        side: Side,
        /// How many deletions the round planned there.
        deletes: usize,
        /// How many paired items that side has.
        paired: usize,
        /// The share allowed.
        max_share: f64,
    },
    /// The mass time-shift guard: the round would move too many of a side's paired events
    /// by one and the same offset.
    TimeShift {
        /// The side whose events would move.
        side: Side,
        /// How many events (a recurring series counted once) the round would move by
        /// `offset`.
        moved: usize,
        /// How many paired events that side has (a recurring series counted once).
        paired: usize,
        /// The offset: the new start minus the old one (the end moves by as much).
        offset: TimeDelta,
        /// The share allowed.
        max_share: f64,
    },
}

impl GuardTrip {
    /// The side the round would have written to.
    #[must_use]
    pub fn side(&self) -> Side {
        match self {
            Self::MassDeletion { side, .. } | Self::TimeShift { side, .. } => *side,
        }
    }

    /// The guard's stable name (`mass-deletion`, `time-shift`), for reports and metrics.
    #[must_use]
    pub fn guard(&self) -> &'static str {
        match self {
            Self::MassDeletion { .. } => "mass-deletion",
            Self::TimeShift { .. } => "time-shift",
        }
    }

    /// The `run` flag that lets this guard through once.
    #[must_use]
    pub fn allow_flag(&self) -> &'static str {
        match self {
            Self::MassDeletion { .. } => "--allow-mass-delete",
            Self::TimeShift { .. } => "--allow-mass-change",
        }
    }
}

impl fmt::Display for GuardTrip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MassDeletion {
                side,
                deletes,
                paired,
                max_share,
            } => write!(
                f,
                "mass-deletion guard: the round would delete {deletes} of {paired} paired items \
                 on {side} (more than {:.0} %); nothing was written. Check the other side's \
                 data, then run again with deletions allowed ({}) if they are intended",
                max_share * 100.0,
                self.allow_flag()
            ),
            Self::TimeShift {
                side,
                moved,
                paired,
                offset,
                max_share,
            } => write!(
                f,
                "time-shift guard: the round would move {moved} of {paired} paired events on \
                 {side} by the same offset, {} ({}), more than {:.0} %; nothing was written. \
                 Check the time zones of both sides, then run again with {} if the move is \
                 intended",
                offset_text(*offset),
                offset_kind(*offset),
                max_share * 100.0,
                self.allow_flag()
            ),
        }
    }
}

/// An offset in words: `+1 h`, `-5 h 30 min`, `+2 days`, `+45 s`.
#[must_use]
pub fn offset_text(offset: TimeDelta) -> String {
    let sign = if offset < TimeDelta::zero() { '-' } else { '+' };
    let secs = offset.num_seconds().unsigned_abs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    if days > 0 && rest == 0 {
        return format!("{sign}{days} day{}", if days == 1 { "" } else { "s" });
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut parts = Vec::new();
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} min"));
    }
    if s > 0 || parts.is_empty() {
        parts.push(format!("{s} s"));
    }
    format!("{sign}{}", parts.join(" "))
}

/// What an offset looks like: whole days, a whole number of hours, a difference between two
/// zones' UTC offsets (a multiple of 15 minutes within a day), or none of those.
fn offset_kind(offset: TimeDelta) -> &'static str {
    let secs = offset.num_seconds().unsigned_abs();
    if secs % 86_400 == 0 {
        "whole days: the signature of an all-day or date bug"
    } else if secs % 3600 == 0 {
        "a whole number of hours: the signature of a time-zone or daylight-saving bug"
    } else if secs % 900 == 0 && secs < 86_400 {
        "the difference between two zones' UTC offsets: the signature of a time-zone bug"
    } else {
        "many events moved alike"
    }
}

/// A step the invitation cap held back: it is planned again next round (nothing is lost, and
/// it is no failure).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deferred {
    /// The pair, when it exists already.
    pub pair: Option<PairId>,
    /// The item's label.
    pub label: String,
    /// How many of its writes would have made Exchange mail attendees.
    pub invitations: usize,
}

impl fmt::Display for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pair = self
            .pair
            .map_or_else(|| "new".to_owned(), |p| p.to_string());
        write!(
            f,
            "deferred to the next round [{pair}] {:?}: the round's invitation cap is reached",
            self.label
        )
    }
}

/// What a round will do: plain data, printable for `--dry-run`.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan<T: SyncItem> {
    /// The steps, in a deterministic order (pairs by id, then new items by side and id).
    pub steps: Vec<Step<T>>,
    /// Every conflict and how it was decided.
    pub conflicts: Vec<Conflict>,
    /// Items left alone on purpose.
    pub skipped: Vec<Skipped>,
    /// Set when a guard (mass deletion, mass time shift) stops the round: then nothing is
    /// written.
    pub guard: Option<GuardTrip>,
    /// Steps the invitation cap held back for the next round (not in `steps`).
    pub deferred: Vec<Deferred>,
}

impl<T: SyncItem> Default for Plan<T> {
    fn default() -> Self {
        Self {
            steps: Vec::new(),
            conflicts: Vec::new(),
            skipped: Vec::new(),
            guard: None,
            deferred: Vec::new(),
        }
    }
}

impl<T: SyncItem> Plan<T> {
    /// Every write of the plan, in order.
    pub fn writes(&self) -> impl Iterator<Item = &Write<T>> {
        self.steps.iter().flat_map(|s| s.writes.iter())
    }

    /// How many writes the plan makes.
    #[must_use]
    pub fn write_count(&self) -> usize {
        self.steps.iter().map(|s| s.writes.len()).sum()
    }

    /// How many deletions the plan makes on `side`.
    #[must_use]
    pub fn deletes_on(&self, side: Side) -> usize {
        self.writes()
            .filter(|w| w.is_delete() && w.side() == side)
            .count()
    }

    /// How many writes of the plan make Exchange mail attendees.
    #[must_use]
    pub fn invitations(&self) -> usize {
        self.steps.iter().map(|s| s.invitation_writes.len()).sum()
    }

    /// Whether the plan does nothing at all (no write and no record).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl<T: SyncItem> fmt::Display for Plan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(g) = &self.guard {
            writeln!(f, "STOPPED: {g}")?;
        }
        writeln!(
            f,
            "{} step(s), {} write(s), {} conflict(s), {} skipped",
            self.steps.len(),
            self.write_count(),
            self.conflicts.len(),
            self.skipped.len()
        )?;
        if self.invitations() > 0 || !self.deferred.is_empty() {
            writeln!(
                f,
                "{} write(s) mail attendees, {} step(s) deferred by the invitation cap",
                self.invitations(),
                self.deferred.len()
            )?;
        }
        write_list(f, "", &self.steps)?;
        write_list(f, "", &self.conflicts)?;
        write_list(f, "", &self.skipped)?;
        write_list(f, "", &self.deferred)
    }
}

/// Writes each of `items` on its own indented line, after `prefix`, as the plan and the round
/// reports list them.
pub(crate) fn write_list<I: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    prefix: &str,
    items: &[I],
) -> fmt::Result {
    for i in items {
        writeln!(f, "  {prefix}{i}")?;
    }
    Ok(())
}
