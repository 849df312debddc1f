//! `serve`'s push machinery (DESIGN §10: push is a trigger, the read is the truth).
//!
//! Graph change notifications and Raynet webhooks arrive at the [`endpoint`]; each is checked
//! (Graph's `clientState`, Raynet's `X-RAYNETCRM-Token`, both in constant time), routed to the
//! member collection it is about, recognised as the echo of the sync's own write where it is one
//! (no read), kept in the state file, and only then answered. A [`TenantPush`] per tenant turns
//! the kept notes into member rounds (`sync_core::tenant::Triggers` coalesces bursts, `Hints`
//! leave the side nobody notified unread and confirm notified deletions), keeps the Graph
//! subscriptions and the Raynet webhook alive, and runs the safety-net poll.
//!
//! | file | holds |
//! |---|---|
//! | `tenant.rs` | [`TenantPush`]: one tenant's routes, triggers and health; what a notification means |
//! | `keep.rs` | the subscriptions and the webhook: created, renewed, re-created, removed |
//! | `worker.rs` | the tenant's loop: first round, notified rounds, safety-net poll, maintenance |
//! | `share.rs` | several workers on one store: leases on members' rounds, the keeper, take-overs |
//! | `service.rs` | [`Service`]: the tenants, the endpoint and the loops, until stopped |
//! | `endpoint.rs` | the HTTP endpoint ([`endpoint::router`]): handshake, checks, `202` |
//!
//! `tenant.rs` (which holds a `share.rs` `Share`) is used by the others; `share.rs` uses
//! none of them.

pub mod endpoint;
mod keep;
mod service;
mod share;
mod tenant;
mod worker;

pub use service::Service;
pub use tenant::{Outcome, PushStats, TenantPush, graph_url, webhook_url};
