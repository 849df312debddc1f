//! What a write answered, beyond the written item.

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteOutcome {
    /// The item was deleted (204).
    Deleted,
    /// The item was already gone (404 `ErrorItemNotFound`): treat as done.
    AlreadyGone,
}
