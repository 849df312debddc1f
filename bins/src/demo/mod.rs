//! `demo` and `sandbox` (cargo feature `fake`, on by default): the fake Raynet and Graph
//! servers with sample data, and a config that points at them. Everything stays on loopback;
//! no account is needed.
//!
//! | file | holds |
//! |---|---|
//! | `sample.rs` | all the sample data, on both fakes ([`seed`], [`SampleData`], [`INSTANCE`]) |
//! | `sandbox.rs` | [`Sandbox`]: both fakes seeded, the config pointing at them, the `sandbox` command |
//! | `tour.rs` | [`run_demo`]: the `demo` command's rounds and edits, and what the rules did |

mod sample;
mod sandbox;
mod tour;

pub use sample::{INSTANCE, SampleData, seed};
pub use sandbox::{API_KEY_VAR, CLIENT_SECRET_VAR, Sandbox, describe_calendars, serve_sandbox};
pub use tour::run_demo;
