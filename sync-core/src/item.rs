//! What the engine needs of an item type: named fields it can merge one by one, normalization,
//! validation, and a projection onto what one side can hold.

use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ModelError;

/// A field of an item type, with a name the merge can report.
pub trait Field:
    Copy + Eq + Ord + Hash + fmt::Debug + fmt::Display + Send + Sync + 'static
{
    /// Every field, in merge order.
    const ALL: &'static [Self];
    /// The field's position in [`Self::ALL`] (below 32).
    fn index(self) -> u8;
    /// The field's name as reported (`"title"`, `"schedule"`, ...).
    fn name(self) -> &'static str;
}

/// A set of fields (a bit set over [`Field::index`]).
///
/// ```
/// use sync_core::{EventField, FieldSet};
/// let set = FieldSet::of(&[EventField::Title, EventField::Schedule]);
/// assert!(set.contains(EventField::Title));
/// assert!(!set.contains(EventField::Location));
/// assert_eq!(set.to_string(), "title, schedule");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldSet<F> {
    bits: u32,
    _field: PhantomData<F>,
}

impl<F: Field> FieldSet<F> {
    /// No field.
    #[must_use]
    pub const fn empty() -> Self {
        Self {
            bits: 0,
            _field: PhantomData,
        }
    }

    /// Every field.
    #[must_use]
    pub fn all() -> Self {
        Self::of(F::ALL)
    }

    /// The given fields.
    #[must_use]
    pub fn of(fields: &[F]) -> Self {
        let mut s = Self::empty();
        for f in fields {
            s.insert(*f);
        }
        s
    }

    /// Adds a field.
    pub fn insert(&mut self, f: F) {
        self.bits |= 1 << f.index();
    }

    /// Removes a field.
    pub fn remove(&mut self, f: F) {
        self.bits &= !(1 << f.index());
    }

    /// The same set without `f`.
    #[must_use]
    pub fn without(mut self, f: F) -> Self {
        self.remove(f);
        self
    }

    /// Whether `f` is in the set.
    #[must_use]
    pub fn contains(self, f: F) -> bool {
        self.bits & (1 << f.index()) != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// The fields in the set, in [`Field::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = F> {
        F::ALL.iter().copied().filter(move |f| self.contains(*f))
    }
}

impl<F: Field> Default for FieldSet<F> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<F: Field> fmt::Debug for FieldSet<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<F: Field> fmt::Display for FieldSet<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for field in self.iter() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            f.write_str(field.name())?;
        }
        Ok(())
    }
}

/// An item as one side would hold it, with what had to be dropped to fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Projected<T> {
    /// The item as the side holds it.
    pub item: T,
    /// Human-readable notes on what was dropped (e.g. "4th e-mail address dropped").
    pub dropped: Vec<String>,
}

/// An item type the engine can sync: events and contacts.
///
/// Note for implementors: [`SyncItem::normalized`] must be idempotent, and two items whose
/// normalized forms are equal must hold the same content; the planner compares normalized
/// items only.
pub trait SyncItem:
    Clone + PartialEq + fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The item's mergeable fields.
    type Field: Field;
    /// What a side can hold of this item type.
    type Profile: Clone + fmt::Debug + Default + Send + Sync;

    /// The canonical form: equal content compares equal (whitespace, line endings, e-mail
    /// case, order of sets, trailing empties).
    #[must_use]
    fn normalized(self) -> Self;

    /// Checks values that make no sense (an end before its start, ...).
    ///
    /// # Errors
    /// A [`ModelError`] naming the field.
    fn validate(&self) -> Result<(), ModelError>;

    /// Whether `self` and `other` agree on `field`.
    fn field_eq(&self, other: &Self, field: Self::Field) -> bool;

    /// Copies `field` from `from` into `self`.
    fn copy_field(&mut self, from: &Self, field: Self::Field);

    /// The fields a side with `profile` holds: changes to other fields are not changes on that
    /// side.
    fn held_fields(profile: &Self::Profile) -> FieldSet<Self::Field>;

    /// The item as a side with `profile` would store it (normalized).
    #[must_use]
    fn project(&self, profile: &Self::Profile) -> Projected<Self>;

    /// A short label for reports (a title or a name), never more than 80 characters.
    fn label(&self) -> String;

    /// The value of `field` as short text for reports and the audit trail (a title, a place,
    /// times, e-mail addresses; at most about 80 characters). Free text (a description,
    /// notes), phone numbers and birthdays are described ("412 characters"), never copied; an
    /// empty value is [`EMPTY_VALUE`].
    fn field_text(&self, field: Self::Field) -> String;

    /// The span of time the item occupies, for window tests (`None`: not time-bound, always in
    /// scope).
    fn span(&self) -> Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
        None
    }

    /// The fields on which `self` and `other` differ.
    fn diff(&self, other: &Self) -> FieldSet<Self::Field> {
        let mut set = FieldSet::empty();
        for f in Self::Field::ALL {
            if !self.field_eq(other, *f) {
                set.insert(*f);
            }
        }
        set
    }
}

/// Normalizes a one-line text: trims it and folds every run of white space into one space.
#[must_use]
pub fn normalize_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Normalizes a multi-line text: `\r\n` and `\r` become `\n`, trailing white space of each line
/// goes, more than one empty line in a row folds into one, and leading and trailing empty lines
/// go.
#[must_use]
pub fn normalize_text(s: &str) -> String {
    let unified = s.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(unified.len());
    let mut blank_run = 0usize;
    for line in unified.split('\n') {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank_run > 0 {
                out.push('\n');
            }
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

/// How [`SyncItem::field_text`] shows an empty value.
pub const EMPTY_VALUE: &str = "(empty)";

/// Longest field text [`SyncItem::field_text`] gives, in characters.
pub(crate) const FIELD_TEXT_MAX: usize = 80;

/// A one-line value as field text: cut to [`FIELD_TEXT_MAX`], [`EMPTY_VALUE`] when empty.
pub(crate) fn line_text(s: &str) -> String {
    if s.is_empty() {
        EMPTY_VALUE.to_owned()
    } else {
        crate::audit::short_text(s, FIELD_TEXT_MAX)
    }
}

/// A free text described, never copied: its length.
pub(crate) fn described_text(s: &str) -> String {
    match s.chars().count() {
        0 => EMPTY_VALUE.to_owned(),
        1 => "1 character".to_owned(),
        n => format!("{n} characters"),
    }
}

/// A list of values as field text, joined by `, ` and cut to [`FIELD_TEXT_MAX`].
pub(crate) fn list_text<I: IntoIterator<Item = S>, S: AsRef<str>>(items: I) -> String {
    let mut out = String::new();
    for i in items {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(i.as_ref());
        if out.len() > 4 * FIELD_TEXT_MAX {
            break;
        }
    }
    line_text(&out)
}

/// Cuts a label to 80 characters.
pub(crate) fn short_label(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.is_empty() {
        out.push_str("(untitled)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_normalization_folds_line_endings_and_blank_runs() {
        assert_eq!(normalize_text("a \r\nb\r\r\n\n\nc  \n\n"), "a\nb\n\nc");
        assert_eq!(normalize_text("\n\n  \n"), "");
        assert_eq!(normalize_line("  a \t b\n c "), "a b c");
        let once = normalize_text(" x\r\n\r\n\r\ny ");
        assert_eq!(normalize_text(&once), once);
    }
}
