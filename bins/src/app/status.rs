//! `status`: what the state store knows — pairs, pending creates and the last round per scope.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::report::describe_summary;
use crate::cli::{StatusArgs, exit};
use crate::config::{Config, StateLocation};
use crate::store::{SCHEMA_VERSION, ScopeStatus, open_store};

/// Prints what the state store of `config` knows (`--json`: as one JSON object).
pub(super) async fn status(config: &Path, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let state = Config::state_of(config)?;
    // Do not create a state file: `status` changes nothing.
    let exists = state.file().is_none_or(Path::exists);
    let (location, scopes): (String, Vec<ScopeStatus>) = if exists {
        let store = open_store(&state).await?;
        let scopes = store
            .status()
            .await
            .with_context(|| format!("cannot read the state store {}", store.location()))?;
        (store.location(), scopes)
    } else {
        (
            state
                .file()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            Vec::new(),
        )
    };
    if args.json {
        let mut out = serde_json::json!({
            "exists": exists,
            "schema_version": SCHEMA_VERSION,
            "scopes": scopes,
        });
        match &state {
            StateLocation::File(p) => out["state_path"] = serde_json::json!(p),
            StateLocation::Postgres(_) => out["state_url"] = serde_json::json!(location),
        }
        println!("{out}");
    } else {
        print!("{}", status_text(&state, &location, exists, &scopes));
    }
    Ok(ExitCode::from(exit::SUCCESS))
}

/// The human-readable `status` report.
fn status_text(
    state: &StateLocation,
    location: &str,
    exists: bool,
    scopes: &[ScopeStatus],
) -> String {
    use std::fmt::Write as _;
    let mut out = match state {
        StateLocation::File(_) => format!("state file: {location}\n"),
        StateLocation::Postgres(_) => format!("state database: {location}\n"),
    };
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
