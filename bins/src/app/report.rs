//! The round summaries `run --json` prints and the state file keeps, the one-line form
//! `status` shows, and the exit code of a run.

use serde::Deserialize as _;
use sync_core::RoundReport;
use sync_core::tenant::RoundSummary;

use crate::cli::exit;

/// One line out of a summary made by [`round_summary`]; anything else is shown as JSON.
pub(super) fn describe_summary(v: &serde_json::Value) -> String {
    RoundSummary::deserialize(v).map_or_else(|_| v.to_string(), |s| s.to_string())
}

/// The summary of a round, as recorded in the state store and printed by `run --json`.
#[must_use]
pub fn round_summary(report: &RoundReport) -> serde_json::Value {
    serde_json::to_value(RoundSummary::of(report)).unwrap_or_default()
}

/// The exit code for a run that produced `reports`: [`exit::PARTIAL_FAILURE`] when any round
/// had a failure or was stopped by a guard (mass deletion, mass time shift), else
/// [`exit::SUCCESS`] (steps the invitation cap deferred to the next round are no failure).
#[must_use]
pub fn exit_code(reports: &[RoundReport]) -> u8 {
    if reports.iter().all(RoundReport::is_clean) {
        exit::SUCCESS
    } else {
        exit::PARTIAL_FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::{Collection, Scope, SideCounts};

    fn report() -> RoundReport {
        let mut r = RoundReport::new(
            Scope::new("acme", "jana@acme.cz", Collection::Calendar),
            false,
        );
        r.planned_writes = 3;
        r.created = SideCounts {
            raynet: 1,
            outlook: 2,
        };
        r
    }

    #[test]
    fn summary_round_trips_into_the_status_line() {
        let r = report();
        let line = describe_summary(&round_summary(&r));
        assert_eq!(
            line,
            "created 1/2 updated 0/0 deleted 0/0 (raynet/outlook), 0 conflict(s), 0 failure(s)"
        );
        assert_eq!(describe_summary(&serde_json::json!({"x": 1})), r#"{"x":1}"#);
    }

    #[test]
    fn failures_make_a_partial_failure() {
        let clean = report();
        let mut failed = report();
        failed.failures.push(sync_core::Failure {
            side: Some(sync_core::Side::Outlook),
            action: "create".into(),
            item: Some("Kickoff".into()),
            error: "unavailable".into(),
            kind: None,
        });
        assert_eq!(exit_code(&[]), exit::SUCCESS);
        assert_eq!(exit_code(std::slice::from_ref(&clean)), exit::SUCCESS);
        assert_eq!(exit_code(&[clean, failed]), exit::PARTIAL_FAILURE);
    }

    #[test]
    fn a_time_shift_stop_is_a_partial_failure_and_deferred_invitations_are_not() {
        let mut stopped = report();
        stopped.guard = Some(sync_core::GuardTrip::TimeShift {
            side: sync_core::Side::Raynet,
            moved: 12,
            paired: 12,
            offset: chrono::TimeDelta::hours(1),
            max_share: 0.2,
        });
        assert_eq!(
            exit_code(std::slice::from_ref(&stopped)),
            exit::PARTIAL_FAILURE
        );
        let v = round_summary(&stopped);
        assert_eq!(v["guard_kind"], "time-shift");
        assert!(
            v["guard"].as_str().unwrap().contains("--allow-mass-change"),
            "{v}"
        );
        let mut deferred = report();
        deferred.invitations = 50;
        deferred.deferred.push(sync_core::Deferred {
            pair: None,
            label: "Kickoff".into(),
            invitations: 1,
        });
        assert_eq!(exit_code(std::slice::from_ref(&deferred)), exit::SUCCESS);
        let v = round_summary(&deferred);
        assert_eq!(
            (
                v["invitations"].as_u64(),
                v["invitations_deferred"].as_u64()
            ),
            (Some(50), Some(1))
        );
    }
}
