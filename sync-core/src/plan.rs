//! The plan: plain data saying what a round will write, what it decided and what it skipped.

use std::borrow::Cow;
use std::fmt;

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

/// Why the mass-deletion guard stopped the round.
#[derive(Clone, Debug, PartialEq)]
pub struct GuardTrip {
    /// The side that would lose items.
    pub side: Side,
    /// How many deletions the round planned there.
    pub deletes: usize,
    /// How many paired items that side has.
    pub paired: usize,
    /// The share allowed.
    pub max_share: f64,
}

impl fmt::Display for GuardTrip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mass-deletion guard: the round would delete {} of {} paired items on {} \
             (more than {:.0} %); nothing was written. Check the other side's data, then run \
             again with deletions allowed if they are intended",
            self.deletes,
            self.paired,
            self.side,
            self.max_share * 100.0
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
    /// Set when the mass-deletion guard stops the round: then nothing is written.
    pub guard: Option<GuardTrip>,
}

impl<T: SyncItem> Default for Plan<T> {
    fn default() -> Self {
        Self {
            steps: Vec::new(),
            conflicts: Vec::new(),
            skipped: Vec::new(),
            guard: None,
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
        write_list(f, "", &self.steps)?;
        write_list(f, "", &self.conflicts)?;
        write_list(f, "", &self.skipped)
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
