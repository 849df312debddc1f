//! Resource handlers: one method per endpoint. Each file also holds the `impl Client` block
//! that hands its handler out (`client.groups()`, `client.events(user)`, ...).
//!
//! | file | holds |
//! | --- | --- |
//! | `directory.rs` | [`Groups`] and [`Users`] (`Client::groups`, `Client::users`): groups, (transitive) members, owners, users |
//! | `events.rs` | [`Events`] (`Client::events`): one mailbox's events and its calendar-view delta |
//! | `contacts.rs` | [`Contacts`] (`Client::contacts`): one mailbox's contact folders, contacts and contacts delta |
//! | `mailbox.rs` | what the handlers of one mailbox ([`Events`], [`Contacts`]) share: paths under `/users/{id}`, their requests, paging and delta rounds |
//! | `batch.rs` | `Client::batch` (JSON `$batch`, at most [`MAX_BATCH_REQUESTS`]) |
//! | `subscriptions.rs` | [`Subscriptions`] (`Client::subscriptions`): change-notification subscriptions |
//! | `outcome.rs` | [`DeleteOutcome`] |

mod batch;
mod contacts;
mod directory;
mod events;
mod mailbox;
mod outcome;
mod subscriptions;

pub use batch::MAX_BATCH_REQUESTS;
pub(crate) use batch::retry_safe;
pub use contacts::Contacts;
pub use directory::{Groups, Users, is_object_id};
pub use events::Events;
pub use outcome::DeleteOutcome;
pub use subscriptions::Subscriptions;
