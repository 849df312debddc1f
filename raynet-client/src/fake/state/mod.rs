//! The fake's state and request semantics (no I/O here).
//!
//! | File | Holds |
//! |---|---|
//! | `world.rs` | [`World`] (instances, counters, faults, clock) and [`Shared`] |
//! | `instance.rs` | [`Instance`]: users, tables of records, quota, time zone; rendering |
//! | `entity.rs` | [`Entity`]: the entities served, their filter columns and required fields |
//! | `write.rs` | create, partial update, delete; how a written body is applied |
//! | `ext_ids.rs` | extIds: find, add, remove |
//! | `hooks.rs` | [`Hooks`](hooks::Hooks): an instance's webhooks and their queues; only loopback URLs |
//! | `webhooks.rs` | register, list, remove webhooks; the change events queued for delivery |
//! | `list.rs` | listing: filters, sorting, paging, `view=rowInfo` |
//! | `reject.rs` | [`Reject`]: an error answer |

mod entity;
mod ext_ids;
mod hooks;
mod instance;
mod list;
mod reject;
mod webhooks;
mod world;
mod write;

pub(crate) use entity::Entity;
pub(crate) use instance::{Instance, next_midnight};
pub(crate) use reject::{Outcome, Reject};
pub(crate) use webhooks::{ChangeKind, Origin};
pub(crate) use world::{Shared, World};
