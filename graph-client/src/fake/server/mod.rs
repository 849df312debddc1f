//! Request handling of the fake: routing, admission (auth, faults, throttling) and endpoints.
//!
//! A request goes `router` → `auth` (token) → `admit` (faults, limits) → `dispatch` (mailbox
//! gate, REST ids) → the resource's handler; a `$batch` (`batch`) admits and dispatches each
//! sub-request the same way.
//!
//! | file | holds |
//! | --- | --- |
//! | `router.rs` | the axum router and the entry point: read, admit, dispatch, answer |
//! | `request.rs` | `Req`, `Prefs`, `Resp`, and answers shared by endpoints (404/400 on ids, 412) |
//! | `auth.rs` | the token endpoint (a client secret, or a client assertion checked as the identity platform does) and the check of a request's bearer token |
//! | `roles.rs` | application permissions: the tokens' `roles` claim, `403` without the one needed |
//! | `admit.rs` | endpoint names, injected faults, rate and concurrency limits, the request log |
//! | `dispatch.rs` | endpoint → handler, the mailbox gate, REST ids ⇄ immutable ids |
//! | `odata.rs` | `$select`, `$filter`/`$expand` on extended properties, paging links, `Prefer` |
//! | `directory.rs` | groups, members, transitive members, owners, users (paged lists) |
//! | `instances.rs` | event instances (single, master, occurrence, exception) and their rendering |
//! | `item.rs` | what events and contacts share: ETag, read-only properties, the rendered head |
//! | `event_times.rs` | `start`/`end`/`isAllDay` and `recurrence` of an event write |
//! | `events.rs` | event create, get, update, delete, cancel, list; the invitation log |
//! | `delivery.rs` | invitation delivery: the attendees' copies of a meeting, kept in step, cancelled |
//! | `calendar_view.rs` | calendar view over a window, paged (`$top`, `$skip`) |
//! | `delta.rs` | calendar-view and contacts delta rounds and pages |
//! | `contacts.rs` | contact folders and contacts |
//! | `batch.rs` | `$batch` |
//! | `subscriptions.rs` | `/subscriptions`: create (validation handshake), get, renew, delete, reauthorize |
//! | `changes.rs` | the change notifications of every change to a subscribed resource |
//! | `seeding.rs` | seeding and inspection for `FakeGraph` (a user's edits in Outlook) |

mod admit;
mod auth;
mod batch;
mod calendar_view;
mod changes;
mod contacts;
mod delivery;
mod delta;
mod directory;
mod dispatch;
mod event_times;
mod events;
mod instances;
mod item;
mod odata;
mod request;
mod roles;
mod router;
mod seeding;
mod subscriptions;

pub(crate) use changes::collect_changes;
pub(crate) use contacts::seed_folder;
pub(crate) use dispatch::move_between_folders;
pub(crate) use router::router;
pub(crate) use seeding::{
    inspect_contacts, inspect_event, inspect_events, occurrence_ids, seed_contact, seed_event,
    seed_series, user_delete_contact, user_delete_event, user_patch_contact, user_patch_event,
};
