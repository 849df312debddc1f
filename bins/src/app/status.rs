//! `status`: what the state store knows — pairs, pending creates and the last round per scope
//! (for calendars with the writes that mailed attendees and those the invitation cap deferred).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use sync_core::Collection;

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
                let _ = write!(
                    out,
                    "; last round {}: {}",
                    r.finished_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    describe_summary(&r.summary)
                );
                if s.scope.collection == Collection::Calendar {
                    let _ = write!(
                        out,
                        "; invitations: {} sent, {} deferred to the next round",
                        r.invitations, r.invitations_deferred
                    );
                }
                out.push('\n');
            }
            None => out.push_str("; no round recorded\n"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RoundRecord;
    use chrono::TimeZone as _;
    use sync_core::Scope;

    #[test]
    fn a_calendar_row_says_how_many_invitations_its_last_round_sent_and_deferred() {
        let calendar = Scope::new("acme", "jana@acme.cz", Collection::Calendar);
        let contacts = Scope::new("acme", "jana@acme.cz", Collection::Contacts);
        let row = |scope: &Scope, invitations, deferred| ScopeStatus {
            scope: scope.clone(),
            pairs: 60,
            pending: 0,
            cursors: 2,
            last_round: Some(RoundRecord {
                scope: scope.clone(),
                finished_at: chrono::Utc
                    .with_ymd_and_hms(2026, 11, 25, 12, 0, 0)
                    .unwrap(),
                summary: serde_json::json!({}),
                invitations,
                invitations_deferred: deferred,
            }),
        };
        let text = status_text(
            &StateLocation::File("s.db".into()),
            "s.db",
            true,
            &[row(&calendar, 50, 10), row(&contacts, 0, 0)],
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].starts_with("acme/jana@acme.cz/calendar: 60 pair(s)")
                && lines[1].ends_with("; invitations: 50 sent, 10 deferred to the next round"),
            "{text}"
        );
        assert!(
            !lines[2].contains("invitations"),
            "contacts mail nobody: {text}"
        );
    }
}
