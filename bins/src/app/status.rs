//! `status`: what the state file knows — pairs, pending creates and the last round per scope.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::report::describe_summary;
use crate::cli::{StatusArgs, exit};
use crate::config::Config;
use crate::store::{SCHEMA_VERSION, ScopeStatus, SqliteStore};

/// Prints what the state file of `config` knows (`--json`: as one JSON object).
pub(super) fn status(config: &Path, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let state_path = Config::state_path_of(config)?;
    let scopes: Vec<ScopeStatus> = if state_path.exists() {
        SqliteStore::open(&state_path)?
            .status()
            .with_context(|| format!("cannot read state file {}", state_path.display()))?
    } else {
        // Do not create the file: `status` changes nothing.
        Vec::new()
    };
    if args.json {
        let out = serde_json::json!({
            "state_path": state_path,
            "exists": state_path.exists(),
            "schema_version": SCHEMA_VERSION,
            "scopes": scopes,
        });
        println!("{out}");
    } else {
        print!("{}", status_text(&state_path, state_path.exists(), &scopes));
    }
    Ok(ExitCode::from(exit::SUCCESS))
}

/// The human-readable `status` report.
fn status_text(state_path: &Path, exists: bool, scopes: &[ScopeStatus]) -> String {
    use std::fmt::Write as _;
    let mut out = format!("state file: {}\n", state_path.display());
    if !exists {
        out.push_str("no state file yet: no round has run\n");
        return out;
    }
    if scopes.is_empty() {
        out.push_str("no scope synced yet\n");
        return out;
    }
    for s in scopes {
        let _ = write!(
            out,
            "{}: {} pair(s), {} pending create(s), {} cursor(s)",
            s.scope, s.pairs, s.pending, s.cursors
        );
        match &s.last_round {
            Some(r) => {
                let _ = writeln!(
                    out,
                    "; last round {}: {}",
                    r.finished_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    describe_summary(&r.summary)
                );
            }
            None => out.push_str("; no round recorded\n"),
        }
    }
    out
}
