//! Integration tests of the `raynet-sync` binary, run as a real process
//! (`env!("CARGO_BIN_EXE_raynet-sync")`).
//!
//! Modules:
//! - `util` — temp dirs, config files, running the binary;
//! - `config_errors` — bad config files exit with code 2 and name the file and the key, and
//!   never print a secret;
//! - `status` — `status` on a missing, new, used and damaged state file.
//!
//! The end-to-end tests against both fake servers will join these once the clients are wired.

mod config_errors;
mod status;
mod util;
