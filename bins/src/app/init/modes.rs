//! Step 4: the modes, each option with one sentence (those of `raynet-sync.example.toml`) and
//! the default marked.

use super::ask::{Question, Session};
use crate::cli::InitArgs;

/// The modes chosen (the values as the config file writes them).
pub(super) struct Modes {
    pub(super) mode: String,
    pub(super) private_events: String,
    pub(super) completed_events: String,
    pub(super) outlook_deletes: String,
}

impl Modes {
    /// Whether contacts are synced (the Contacts permission is needed).
    pub(super) fn contacts(&self) -> bool {
        self.mode != "meetings"
    }
}

const MODE: (Question, &[(&str, &str)], &str) = (
    Question {
        label: "What is synced",
        key: "tenant[0].sync.mode",
        flag: Some("--mode"),
        env: "RAYNET_SYNC_MODE",
    },
    &[
        ("meetings", "meetings and events, two-way"),
        (
            "contacts",
            "Raynet persons into an Outlook contact folder, one-way",
        ),
        ("both", "meetings two-way and contacts one-way"),
    ],
    "both",
);

const PRIVATE: (Question, &[(&str, &str)], &str) = (
    Question {
        label: "Private Outlook events",
        key: "tenant[0].sync.private_events",
        flag: Some("--private-events"),
        env: "RAYNET_SYNC_PRIVATE_EVENTS",
    },
    &[
        ("standard", "synced like any other event"),
        (
            "time-blocker",
            "only the time reaches Raynet, titled \"Time blocker\"",
        ),
        ("skip", "never reach Raynet"),
    ],
    "skip",
);

const COMPLETED: (Question, &[(&str, &str)], &str) = (
    Question {
        label: "Meetings completed in Raynet",
        key: "tenant[0].sync.completed_events",
        flag: Some("--completed-events"),
        env: "RAYNET_SYNC_COMPLETED_EVENTS",
    },
    &[
        ("sync", "keep flowing to Outlook"),
        ("stop", "their later Raynet changes stay in Raynet"),
    ],
    "sync",
);

const DELETES: (Question, &[(&str, &str)], &str) = (
    Question {
        label: "An event deleted in Outlook",
        key: "tenant[0].sync.outlook_deletes",
        flag: Some("--outlook-deletes"),
        env: "RAYNET_SYNC_OUTLOOK_DELETES",
    },
    &[
        ("delete", "deletes the Raynet record"),
        ("cancel", "cancels the Raynet record, keeping its history"),
        (
            "ignore",
            "only unlinks it; the Raynet record stays as it is",
        ),
    ],
    "cancel",
);

/// Step 4: the four modes.
pub(super) fn modes(s: &mut Session<'_>, args: &InitArgs) -> anyhow::Result<Modes> {
    s.say("\n4. The modes (each can be changed later in the config file)");
    let mut ask = |(q, options, default): &(Question, &[(&str, &str)], &str),
                   given: &Option<String>| {
        s.choose(q, given.as_deref(), options, default)
    };
    Ok(Modes {
        mode: ask(&MODE, &args.mode)?,
        private_events: ask(&PRIVATE, &args.private_events)?,
        completed_events: ask(&COMPLETED, &args.completed_events)?,
        outlook_deletes: ask(&DELETES, &args.outlook_deletes)?,
    })
}
