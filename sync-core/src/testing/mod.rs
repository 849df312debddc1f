//! Test support for the engine and for embedders (feature `testing`).
//!
//! - [`MemorySide`]: an in-memory side with fault injection;
//! - [`MemoryOrg`]: a whole organisation in memory (group, Raynet users, each member's sides),
//!   both services of a [`Tenant`](crate::tenant::Tenant);
//! - [`history`]: random histories of user edits, faults and crashes, replayed against any pair
//!   of sides (in memory, or an adapter talking to a fake server), with the invariant checks of
//!   DESIGN §3. The proptest strategies need the `proptest` feature;
//! - [`json_fuzz`] (feature `proptest`): mutations of JSON payloads for fuzzing a client's
//!   parsers, and the check of the decode error a mutated body gets.

pub mod history;
#[cfg(feature = "proptest")]
pub mod json_fuzz;
mod memory;
mod tenant;

pub use memory::{Faults, MemoryClock, MemorySide};
pub use tenant::{MemoryMember, MemoryOrg};
