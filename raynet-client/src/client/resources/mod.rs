//! One handler per resource, each in its own file, with the [`Client`](super::Client)
//! method that returns it.
//!
//! | File | Handler | Paths |
//! |---|---|---|
//! | `activities.rs` | [`Activities`]: `client.meetings()`, `client.events()` | `/meeting/`, `/event/` |
//! | `persons.rs` | [`Persons`]: `client.persons()` | `/person/` |
//! | `companies.rs` | [`Companies`]: `client.companies()` | `/company/` |
//! | `user_accounts.rs` | [`UserAccounts`]: `client.user_accounts()` | `/userAccount/` |
//! | `ext_ids.rs` | [`ExtIds`]: `client.ext_ids(entity, id)` | `/{entity}/{id}/extId/` |
//! | `path.rs` | the escaping of extIds in paths | |

mod activities;
mod companies;
mod ext_ids;
mod path;
mod persons;
mod user_accounts;

pub use activities::Activities;
pub use companies::Companies;
pub use ext_ids::ExtIds;
pub use persons::Persons;
pub use user_accounts::UserAccounts;
