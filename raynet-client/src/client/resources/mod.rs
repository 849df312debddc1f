//! One handler per resource, with the [`Client`](super::Client) method that
//! returns it. Every resource's handler is a [`Records`] (the list and detail
//! endpoints every entity has, generic over the record type); activities add
//! their writes.
//!
//! | File | Handler | Paths |
//! |---|---|---|
//! | `records.rs` | [`Records`] and its instances with their `impl Client` accessors: [`Activities`] (`client.meetings()`, `client.events()`), [`Persons`] (`client.persons()`), [`Companies`] (`client.companies()`), [`UserAccounts`] (`client.user_accounts()`) | `/{entity}/`, `/{entity}/{id}/`, `/{entity}/ext/{extId}/` |
//! | `activities.rs` | the writes of [`Activities`]: create, update, delete | `/meeting/`, `/event/` |
//! | `ext_ids.rs` | [`ExtIds`]: `client.ext_ids(entity, id)` | `/{entity}/{id}/extId/` |
//! | `webhooks.rs` | [`Webhooks`]: `client.webhooks()` | `/webhook/`, `/webhook/{uuid}/`, `/webhook/technicalContact/` |
//! | `path.rs` | the escaping of extIds in paths | |

mod activities;
mod ext_ids;
mod path;
mod records;
mod webhooks;

pub use ext_ids::ExtIds;
pub use records::{Activities, Companies, Persons, Records, UserAccounts};
pub use webhooks::Webhooks;
