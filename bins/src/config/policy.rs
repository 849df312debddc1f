//! The `[tenant.sync]` table as written → [`SyncConfig`]: the engine's rules mapped onto a
//! [`sync_core::Policy`] (checked by [`Policy::validate`], whose errors are renamed to the
//! file's keys), and the service's own settings range-checked.

use std::path::Path;
use std::time::Duration;

use sync_core::{DeleteGuard, ModelError, Policy, ShiftGuard};

use super::defaults::{
    DEFAULT_CONTACTS_FOLDER, DEFAULT_INTERVAL_SECONDS, DEFAULT_MAX_PARALLEL_MEMBERS,
    DEFAULT_MEMBERSHIP_REFRESH_SECONDS, MAX_INTERVAL_SECONDS, MAX_INVITATIONS_PER_ROUND,
    MAX_PARALLEL_MEMBERS, MIN_INTERVAL_SECONDS,
};
use super::error::ConfigError;
use super::raw::{RawScanEvery, RawSync};
use raynet_client::adapter::ScanSchedule;

use super::sync_settings::SyncConfig;

/// Checks the `[tenant.sync]` table at `prefix` of `file` and maps it onto [`SyncConfig`] and
/// its [`Policy`]; a missing key takes its default.
pub(super) fn sync_config(
    file: &Path,
    prefix: &str,
    s: RawSync,
) -> Result<SyncConfig, ConfigError> {
    let defaults = Policy::default();
    let share = |key: &str, value: Option<f64>, default: f64| {
        let share = value.unwrap_or(default);
        if share.is_finite() && (0.0..=1.0).contains(&share) {
            Ok(share)
        } else {
            Err(ConfigError::invalid(
                file,
                format!("{prefix}.{key}"),
                format!("{share} is not a share between 0 and 1 (e.g. 0.2 for 20 %)"),
            ))
        }
    };
    let max_share = share(
        "max_delete_share",
        s.max_delete_share,
        defaults.delete_guard.max_share,
    )?;
    let max_shift_share = share(
        "max_shift_share",
        s.max_shift_share,
        defaults.shift_guard.max_share,
    )?;
    let max_invitations = s.max_invitations.unwrap_or(defaults.max_invitations);
    if max_invitations > MAX_INVITATIONS_PER_ROUND {
        return Err(ConfigError::invalid(
            file,
            format!("{prefix}.max_invitations"),
            format!(
                "{max_invitations} is out of range (0 for no cap, or up to \
                 {MAX_INVITATIONS_PER_ROUND})"
            ),
        ));
    }
    let policy = Policy {
        conflict: s.conflict.unwrap_or(defaults.conflict),
        delete_vs_edit: s.delete_vs_edit.unwrap_or(defaults.delete_vs_edit),
        outlook_deletes: s.outlook_deletes.unwrap_or(defaults.outlook_deletes),
        private_events: s.private_events.unwrap_or(defaults.private_events),
        completed_events: s.completed_events.unwrap_or(defaults.completed_events),
        invited_events: s.invited_events.unwrap_or(defaults.invited_events),
        outlook_new_as: s.outlook_new_as.unwrap_or(defaults.outlook_new_as),
        attendees: s.attendees.unwrap_or(defaults.attendees),
        window_days_back: s.window_days_back.unwrap_or(defaults.window_days_back),
        window_days_ahead: s.window_days_ahead.unwrap_or(defaults.window_days_ahead),
        delete_guard: DeleteGuard {
            max_share,
            ..defaults.delete_guard
        },
        shift_guard: ShiftGuard {
            max_share: max_shift_share,
            ..defaults.shift_guard
        },
        max_invitations,
    };
    policy.validate().map_err(|e| {
        let (field, reason) = match &e {
            ModelError::OutOfRange { field, reason } => (*field, reason.clone()),
            other => ("", other.to_string()),
        };
        let key = match field {
            "delete_guard.max_share" => "max_delete_share",
            "shift_guard.max_share" => "max_shift_share",
            "" => "",
            f => f,
        };
        let key = if key.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{key}")
        };
        ConfigError::invalid(file, key, reason)
    })?;

    let contacts_folder = s
        .contacts_folder
        .unwrap_or_else(|| DEFAULT_CONTACTS_FOLDER.to_owned());
    if contacts_folder.trim().is_empty()
        || contacts_folder.chars().count() > 255
        || contacts_folder.chars().any(char::is_control)
    {
        return Err(ConfigError::invalid(
            file,
            format!("{prefix}.contacts_folder"),
            "must be a folder name of 1 to 255 characters, without control characters",
        ));
    }
    let interval_seconds = s.interval_seconds.unwrap_or(DEFAULT_INTERVAL_SECONDS);
    if !(MIN_INTERVAL_SECONDS..=MAX_INTERVAL_SECONDS).contains(&interval_seconds) {
        return Err(ConfigError::invalid(
            file,
            format!("{prefix}.interval_seconds"),
            format!(
                "{interval_seconds} is out of range \
                 ({MIN_INTERVAL_SECONDS} to {MAX_INTERVAL_SECONDS} seconds)"
            ),
        ));
    }
    let max_parallel_members = s
        .max_parallel_members
        .unwrap_or(DEFAULT_MAX_PARALLEL_MEMBERS);
    if !(1..=MAX_PARALLEL_MEMBERS).contains(&max_parallel_members) {
        return Err(ConfigError::invalid(
            file,
            format!("{prefix}.max_parallel_members"),
            format!("{max_parallel_members} is out of range (1 to {MAX_PARALLEL_MEMBERS})"),
        ));
    }
    let deletion_scan_every = match s.deletion_scan_every {
        None | Some(RawScanEvery::Auto) => ScanSchedule::Auto,
        Some(RawScanEvery::Every(n)) => match u32::try_from(n) {
            Ok(n) if (1..=1000).contains(&n) => ScanSchedule::Every(n),
            _ => {
                return Err(ConfigError::invalid(
                    file,
                    format!("{prefix}.deletion_scan_every"),
                    format!("{n} is out of range (\"auto\", or 1 to 1000 rounds)"),
                ));
            }
        },
    };
    let membership_refresh = s
        .membership_refresh_seconds
        .unwrap_or(DEFAULT_MEMBERSHIP_REFRESH_SECONDS);
    if membership_refresh > MAX_INTERVAL_SECONDS {
        return Err(ConfigError::invalid(
            file,
            format!("{prefix}.membership_refresh_seconds"),
            format!("{membership_refresh} is out of range (0 to {MAX_INTERVAL_SECONDS} seconds)"),
        ));
    }
    Ok(SyncConfig {
        mode: s.mode.unwrap_or_default(),
        policy,
        contacts_folder: contacts_folder.trim().to_owned(),
        contacts_filter: s.contacts_filter.unwrap_or_default(),
        interval: Duration::from_secs(interval_seconds),
        max_parallel_members,
        deletion_scan_every,
        membership_refresh: Duration::from_secs(membership_refresh),
    })
}
