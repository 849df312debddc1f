//! The fake's data: directory, mailboxes, delta tokens, counters and faults.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::fault::Fault;
use super::records::{Invitation, RequestRecord};
use super::seed::MailboxAccess;
use super::subs::Push;
use super::time::{Recurrence, When};

#[derive(Debug, Clone)]
pub(crate) struct FakeUser {
    pub(crate) id: String,
    pub(crate) display_name: String,
    pub(crate) mail: Option<String>,
    pub(crate) upn: String,
    pub(crate) access: MailboxAccess,
}

#[derive(Debug, Clone)]
pub(crate) struct FakeGroup {
    pub(crate) id: String,
    pub(crate) display_name: String,
    pub(crate) members: Vec<String>,
    pub(crate) owners: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Exception {
    pub(crate) cancelled: bool,
    pub(crate) start: When,
    pub(crate) end: When,
    pub(crate) fields: Map<String, Value>,
    pub(crate) change_key: String,
    pub(crate) version: u64,
    pub(crate) modified: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredEvent {
    pub(crate) id: String,
    pub(crate) fields: Map<String, Value>,
    pub(crate) start: When,
    pub(crate) end: When,
    pub(crate) start_zone: String,
    pub(crate) end_zone: String,
    pub(crate) recurrence: Option<Recurrence>,
    pub(crate) recurrence_json: Option<Value>,
    pub(crate) exceptions: BTreeMap<NaiveDate, Exception>,
    pub(crate) change_key: String,
    pub(crate) version: u64,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
    pub(crate) ext: Vec<(String, String)>,
    pub(crate) transaction_id: Option<String>,
    pub(crate) ical_uid: String,
    pub(crate) organizer: Value,
    pub(crate) is_organizer: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Folder {
    pub(crate) id: String,
    pub(crate) display_name: String,
    pub(crate) parent: String,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredContact {
    pub(crate) id: String,
    pub(crate) folder: String,
    pub(crate) fields: Map<String, Value>,
    pub(crate) change_key: String,
    pub(crate) version: u64,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
    pub(crate) ext: Vec<(String, String)>,
}

/// A deletion kept so a later delta round can report it.
#[derive(Debug, Clone)]
pub(crate) struct Tombstone {
    pub(crate) id: String,
    pub(crate) seq: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    pub(crate) events: BTreeMap<String, StoredEvent>,
    pub(crate) transactions: HashMap<String, String>,
    pub(crate) folders: Vec<Folder>,
    pub(crate) contacts: BTreeMap<String, StoredContact>,
    pub(crate) event_tombstones: Vec<Tombstone>,
    pub(crate) contact_tombstones: Vec<(String, String, u64)>,
    pub(crate) seq: u64,
    pub(crate) root_folder: String,
    /// How often each item was moved between folders: its REST id changes with every move,
    /// its immutable id never.
    pub(crate) moves: HashMap<String, u32>,
}

impl Mailbox {
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// One item of a delta round, rendered when its page is served.
#[derive(Debug, Clone)]
pub(crate) enum RoundItem {
    Live(String),
    Removed(String),
}

/// What a delta token remembers of the client's view.
#[derive(Debug, Clone)]
pub(crate) struct Known {
    pub(crate) versions: HashMap<String, u64>,
    pub(crate) seq: u64,
    pub(crate) last_item: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum Scope {
    Calendar {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    Contacts {
        folder: String,
        select: Option<Vec<String>>,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum DeltaEntry {
    /// A delta token: the state after a finished round.
    Token {
        mailbox: String,
        scope: Scope,
        known: Known,
    },
    /// A skip token: a round in progress.
    Round {
        mailbox: String,
        scope: Scope,
        items: Vec<RoundItem>,
        page_size: usize,
        next: Known,
    },
}

impl DeltaEntry {
    pub(crate) fn mailbox(&self) -> &str {
        match self {
            Self::Token { mailbox, .. } | Self::Round { mailbox, .. } => mailbox,
        }
    }
}

/// The application permissions granted by default: every one the sync needs.
pub(crate) const APPLICATION_PERMISSIONS: [&str; 4] = [
    "GroupMember.Read.All",
    "User.Read.All",
    "Calendars.ReadWrite",
    "Contacts.ReadWrite",
];

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) base_url: String,
    pub(crate) tenant: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) token_lifetime: Duration,
    pub(crate) tokens: HashMap<String, Instant>,
    /// The application permissions granted: the `roles` of the tokens issued from now on.
    pub(crate) application_permissions: Vec<String>,
    pub(crate) users: Vec<FakeUser>,
    pub(crate) groups: Vec<FakeGroup>,
    pub(crate) devices: Vec<(String, String)>,
    pub(crate) mailboxes: HashMap<String, Mailbox>,
    pub(crate) delta: HashMap<String, DeltaEntry>,
    pub(crate) counter: u64,
    pub(crate) requests: Vec<RequestRecord>,
    pub(crate) invitations: Vec<Invitation>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) replays: bool,
    pub(crate) concurrency_limit: usize,
    pub(crate) in_flight: HashMap<String, usize>,
    pub(crate) max_in_flight: HashMap<String, usize>,
    pub(crate) rate_limit: Option<(usize, Duration)>,
    pub(crate) processing_lag: Duration,
    pub(crate) rate_log: HashMap<String, VecDeque<Instant>>,
    pub(crate) retry_after: String,
    pub(crate) default_page_size: usize,
    pub(crate) directory_page_size: usize,
    /// Whether meetings are delivered to the attendees' mailboxes (Exchange's invitations).
    pub(crate) invitation_delivery: bool,
    /// Change-notification subscriptions and their deliveries.
    pub(crate) push: Push,
    /// Certificates and federated credentials of the apps, and the `jti`s used.
    pub(crate) app_credentials: super::credentials::AppCredentials,
}

impl State {
    pub(crate) fn new(tenant: &str, client_id: &str, client_secret: &str) -> Self {
        Self {
            base_url: String::new(),
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            token_lifetime: Duration::from_secs(3599),
            tokens: HashMap::new(),
            application_permissions: APPLICATION_PERMISSIONS.map(ToOwned::to_owned).to_vec(),
            users: Vec::new(),
            groups: Vec::new(),
            devices: Vec::new(),
            mailboxes: HashMap::new(),
            delta: HashMap::new(),
            counter: 0,
            requests: Vec::new(),
            invitations: Vec::new(),
            faults: Vec::new(),
            replays: true,
            concurrency_limit: 4,
            in_flight: HashMap::new(),
            max_in_flight: HashMap::new(),
            // Graph: 10,000 requests per 10 minutes per app and mailbox.
            rate_limit: Some((10_000, Duration::from_secs(600))),
            processing_lag: Duration::ZERO,
            rate_log: HashMap::new(),
            retry_after: "0.05".to_owned(),
            default_page_size: 10,
            directory_page_size: 100,
            invitation_delivery: true,
            push: Push::default(),
            app_credentials: super::credentials::AppCredentials::default(),
        }
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// An Outlook-style id: URL-safe base64 (as Exchange's ids are) holding `-`, `_` and `=`.
    pub(crate) fn outlook_id(&mut self, kind: u8) -> String {
        let n = self.next();
        let mut bytes = vec![0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff];
        bytes.extend_from_slice(&n.to_be_bytes());
        bytes.push(kind);
        bytes.push(0x46);
        format!(
            "AAMkAG{}",
            base64::engine::general_purpose::URL_SAFE.encode(bytes)
        )
    }

    /// A directory GUID.
    pub(crate) fn guid(&mut self) -> String {
        let n = self.next();
        format!(
            "{:08x}-0000-4000-8000-{:012x}",
            0x5eed_0000_u32 + (n as u32 & 0xffff),
            n
        )
    }

    pub(crate) fn change_key(&mut self) -> String {
        let n = self.next();
        format!(
            "EQAAABYAAAD{}",
            base64::engine::general_purpose::STANDARD.encode(n.to_be_bytes())
        )
    }

    pub(crate) fn user(&self, key: &str) -> Option<&FakeUser> {
        self.users.iter().find(|u| {
            u.id == key
                || u.upn.eq_ignore_ascii_case(key)
                || u.mail
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(key))
        })
    }

    pub(crate) fn mailbox(&mut self, user_id: &str) -> &mut Mailbox {
        if !self.mailboxes.contains_key(user_id) {
            let root = self.outlook_id(b'F');
            self.mailboxes.insert(
                user_id.to_owned(),
                Mailbox {
                    root_folder: root,
                    ..Mailbox::default()
                },
            );
        }
        self.mailboxes.entry(user_id.to_owned()).or_default()
    }
}

/// Locks the fake's state (a panicked holder does not poison it for the others).
pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
