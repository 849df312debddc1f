//! Step 1's wait for admin consent: the application permissions the sync needs, read from a
//! fresh token's `roles` claim until every one is there, naming the missing ones at each
//! check. Interactive: Enter checks again, and it checks by itself every few seconds; `q`
//! stops. Unattended: it checks every few seconds until `--consent-wait-seconds` have passed.

use std::time::{Duration, Instant};

use super::ask::{Problem, Session};
use super::graph_errors::graph_problem;
use super::prompt::Waited;

/// How often the permissions are checked while waiting unless told
/// (`--consent-check-seconds`).
pub(super) const CHECK_EVERY: Duration = Duration::from_secs(3);
/// How long an unattended `init` waits for consent unless told (`--consent-wait-seconds`).
pub(super) const DEFAULT_WAIT: Duration = Duration::from_secs(300);

/// The config key a missing permission is reported under (the app that lacks it).
const KEY: &str = "tenant[0].microsoft.client_id";

/// An application permission the sync needs, and the broader ones that include it.
struct Needed {
    name: &'static str,
    or_broader: &'static [&'static str],
    /// Needed for meetings (`meetings`, `both`).
    meetings: bool,
    /// Needed for contacts (`contacts`, `both`).
    contacts: bool,
}

/// The permissions of the README's "Setting up Microsoft 365" (least privileged first).
const NEEDED: [Needed; 4] = [
    Needed {
        name: "GroupMember.Read.All",
        or_broader: &[
            "GroupMember.ReadWrite.All",
            "Group.Read.All",
            "Group.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        meetings: true,
        contacts: true,
    },
    Needed {
        name: "User.Read.All",
        or_broader: &[
            "User.ReadWrite.All",
            "Directory.Read.All",
            "Directory.ReadWrite.All",
        ],
        meetings: true,
        contacts: true,
    },
    Needed {
        name: "Calendars.ReadWrite",
        or_broader: &[],
        meetings: true,
        contacts: false,
    },
    Needed {
        name: "Contacts.ReadWrite",
        or_broader: &[],
        meetings: false,
        contacts: true,
    },
];

/// The permissions `mode` needs that `granted` lacks (every mode's when `mode` is not known
/// yet, or not one of `meetings`, `contacts`).
pub(super) fn missing(granted: &[String], mode: Option<&str>) -> Vec<&'static str> {
    let has = |p: &str| granted.iter().any(|g| g.eq_ignore_ascii_case(p));
    let mode = mode.map(str::to_ascii_lowercase);
    NEEDED
        .iter()
        .filter(|n| match mode.as_deref() {
            Some("meetings") => n.meetings,
            Some("contacts") => n.contacts,
            _ => true,
        })
        .filter(|n| !has(n.name) && !n.or_broader.iter().any(|b| has(b)))
        .map(|n| n.name)
        .collect()
}

/// How long and how often to wait for consent.
pub(super) struct Patience {
    /// Unattended: how long in all.
    pub(super) wait: Duration,
    /// How often to check.
    pub(super) every: Duration,
}

impl Patience {
    /// From `--consent-wait-seconds` and `--consent-check-seconds` (at least 1 s).
    pub(super) fn of(wait: Option<u64>, every: Option<u64>) -> Self {
        Self {
            wait: wait.map_or(DEFAULT_WAIT, Duration::from_secs),
            every: every.map_or(CHECK_EVERY, |s| Duration::from_secs(s.max(1))),
        }
    }
}

/// Waits until a token of `client` carries the permissions `mode` needs. `Ok` when it does,
/// or when the token's claims cannot be read (the calls that follow check then).
pub(super) async fn wait_for_consent(
    s: &mut Session<'_>,
    client: &graph_client::Client,
    consent: &str,
    mode: Option<&str>,
    patience: &Patience,
) -> Result<(), Problem> {
    let Patience { wait, every } = *patience;
    let started = Instant::now();
    let mut told = false;
    loop {
        let granted = match client.application_permissions().await {
            Ok(g) => g,
            Err(graph_client::Error::Shape { .. }) => {
                s.say("  note: the token's permissions cannot be read; the calls below check them");
                return Ok(());
            }
            Err(e) => {
                return Err(graph_problem(
                    &e,
                    "get a token",
                    "the permissions above",
                    consent,
                ));
            }
        };
        let lacking = missing(&granted, mode);
        if lacking.is_empty() {
            s.say("  ok: the app's token carries the permissions the sync needs");
            return Ok(());
        }
        s.say(format!(
            "  [{}] waiting for admin consent: the app's token still lacks {}",
            chrono::Local::now().format("%H:%M:%S"),
            lacking.join(", ")
        ));
        let give_up = |waited: Duration| {
            let hint = match (mode, lacking.as_slice()) {
                (None, ["Contacts.ReadWrite"]) => {
                    " (a sync of meetings only, --mode meetings, does without it)"
                }
                (None, ["Calendars.ReadWrite"]) => {
                    " (a sync of contacts only, --mode contacts, does without it)"
                }
                _ => "",
            };
            Problem::answer(
                KEY,
                format!(
                    "the app still lacks the application permission(s) {} after {} s{hint}: add \
                     them (API permissions -> Microsoft Graph -> Application permissions) and have \
                     an administrator grant consent: {consent}",
                    lacking.join(", "),
                    waited.as_secs()
                ),
            )
        };
        if s.unattended {
            let waited = started.elapsed();
            match wait.checked_sub(waited).filter(|left| !left.is_zero()) {
                Some(left) => tokio::time::sleep(every.min(left)).await,
                None => return Err(give_up(waited)),
            }
            continue;
        }
        if !told {
            s.say(format!(
                "  Open the link above as an administrator and grant consent. Enter checks again \
                 (it also checks every {} s by itself); q then Enter stops waiting.",
                every.as_secs()
            ));
            told = true;
        }
        if s.wait(every)? == Waited::Stop {
            return Err(give_up(started.elapsed()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn missing_permissions_follow_the_mode_and_broader_ones_count() {
        assert_eq!(
            missing(&[], None),
            [
                "GroupMember.Read.All",
                "User.Read.All",
                "Calendars.ReadWrite",
                "Contacts.ReadWrite"
            ]
        );
        let some = granted(&["Directory.Read.All", "Calendars.ReadWrite"]);
        assert_eq!(missing(&some, Some("meetings")), Vec::<&str>::new());
        assert_eq!(missing(&some, Some("both")), ["Contacts.ReadWrite"]);
        assert_eq!(missing(&some, Some("contacts")), ["Contacts.ReadWrite"]);
        let read_only = granted(&["Group.Read.All", "user.read.all", "Calendars.Read"]);
        assert_eq!(
            missing(&read_only, Some("meetings")),
            ["Calendars.ReadWrite"]
        );
    }
}
