//! Resource handlers: one method per endpoint.

mod batch;
mod contacts;
mod directory;
mod events;

pub use batch::MAX_BATCH_REQUESTS;
pub(crate) use batch::retry_safe;
pub use contacts::Contacts;
pub use directory::{Groups, Users};
pub use events::Events;

/// What a delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteOutcome {
    /// The item was deleted (204).
    Deleted,
    /// The item was already gone (404 `ErrorItemNotFound`): treat as done.
    AlreadyGone,
}
