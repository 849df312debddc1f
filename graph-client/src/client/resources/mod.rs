//! Resource handlers: one method per endpoint.
//!
//! | file | holds |
//! | --- | --- |
//! | `directory.rs` | [`Groups`] and [`Users`]: groups, (transitive) members, owners, users |
//! | `events.rs` | [`Events`]: one mailbox's events and its calendar-view delta |
//! | `contacts.rs` | [`Contacts`]: one mailbox's contact folders, contacts and contacts delta |
//! | `batch.rs` | `Client::batch` (JSON `$batch`, at most [`MAX_BATCH_REQUESTS`]) |
//! | `outcome.rs` | [`DeleteOutcome`] |

mod batch;
mod contacts;
mod directory;
mod events;
mod outcome;

pub use batch::MAX_BATCH_REQUESTS;
pub(crate) use batch::retry_safe;
pub use contacts::Contacts;
pub use directory::{Groups, Users};
pub use events::Events;
pub use outcome::DeleteOutcome;
