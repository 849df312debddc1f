//! Integration tests of the `raynet-sync` binary, run as a real process
//! (`env!("CARGO_BIN_EXE_raynet-sync")`).
//!
//! Modules:
//! - `util` — temp dirs, config files, running the binary;
//! - `config_errors` — bad config files exit with code 78 and name the file and the key, and
//!   never print a secret;
//! - `status` — `status` on a missing, new, used and damaged state file; `state copy` into
//!   PostgreSQL and `status` on the database;
//! - `e2e` — the wiring against both fake servers over loopback: both directions, edits,
//!   deletes, conflicts, idle rounds, sync modes, members joining and leaving;
//! - `kill` — the real binary killed mid-round and restarted leaves no duplicate;
//! - `rules` — one scenario per calendar and contact rule (DESIGN §4–§6);
//! - `invitations` — meetings between people of the tenant with the fake Graph delivering
//!   invitations as Exchange does: one record per meeting, owned by the organiser, the
//!   organiser's edit and cancellation carried once, a colleague's invitation skipped;
//! - `sample` — the sample data as the APIs show it;
//! - `init` — the setup dialogue against the fakes: unattended and scripted, wrong answers
//!   fixed on the spot, waiting for admin consent, a config that loads, no secret echoed or
//!   written into it;
//! - `init_terminal` — the real binary's `init` in a pseudo-terminal, answered by what it
//!   shows (consent, the group typed into the picker, a wrong key fixed, the modes); `check`
//!   accepts the result; no secret on the screen;
//! - `serve` — the push service end to end: changes cross through notifications alone,
//!   echoes cost no read, bursts coalesce, bad input changes nothing, push heals itself;
//! - `page` — the status page: the admin token; in a real headless browser (chromium through
//!   chromedriver) every member with its freshness and a failing member's advice;
//! - `metrics` — `/metrics` scraped after rounds, `serve` and `run --watch` against the fakes,
//!   parsed as OpenMetrics text: writes, conflicts, requests per endpoint, freshness, push
//!   figures, no secret, 401 without the token;
//! - `explain` — the audit trail of real rounds read back: a meeting edited on both sides
//!   (which field came from where, and why) and deleted items (where, and what the sync did);
//! - `credentials` — a certificate and a federated token file instead of a client secret: full
//!   sync rounds, `check` (real binary) with each kind, errors naming the key, no key or token
//!   in any output or log;
//! - `guards` — DESIGN §7's guards with the real binary against both fakes: a side shifting
//!   every event by an hour stops the round (exit code 2, why, nothing written) until
//!   `run --allow-mass-change` lets it through once; a mass reschedule of 60 meetings with an
//!   attendee mails at most 50 per round, the rest next round, as `run --json` and `status`
//!   say;
//! - `failover` — three `serve` workers on one PostgreSQL database, killed and restarted while
//!   both sides change: convergence, no duplicate, no member synced by two workers at once;
//! - `secrets` — the real binary at the most verbose log level, both log formats, first, change
//!   and idle rounds, `check` and `status`: no secret, key, Basic value or token printed;
//! - `exit_codes` — the code, `--help` and the README say the same exit codes, and the binary
//!   uses them.

#![allow(clippy::unwrap_used)]

mod config_errors;
mod credentials;
mod e2e;
mod exit_codes;
mod explain;
mod failover;
mod guards;
mod init;
#[cfg(unix)]
mod init_terminal;
mod invitations;
mod kill;
mod metrics;
mod page;
mod rules;
mod sample;
mod secrets;
mod serve;
mod status;
mod util;
