//! The seed builders: users (and how their mailbox answers), groups, single events and
//! recurring series, as if made in Entra ID and Outlook.

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use serde_json::{Map, Value};

use super::time::When;

/// How a user's mailbox answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MailboxAccess {
    /// A normal Exchange Online mailbox.
    Enabled,
    /// No Exchange Online mailbox (or a guest): `404 MailboxNotEnabledForRESTAPI`.
    NotEnabled,
    /// Outside the application access policy: `403 ErrorAccessDenied`.
    AccessDenied,
}

/// A user to seed.
#[derive(Debug, Clone)]
#[must_use]
pub struct UserSeed {
    pub(super) display_name: String,
    pub(super) mail: Option<String>,
    pub(super) upn: Option<String>,
    pub(super) access: MailboxAccess,
}

impl UserSeed {
    /// A user with a mailbox at `{local}@contoso.test`, where `local` is the lowercased name.
    pub fn new(display_name: &str) -> Self {
        let local: String = display_name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        Self {
            display_name: display_name.to_owned(),
            mail: Some(format!("{local}@contoso.test")),
            upn: None,
            access: MailboxAccess::Enabled,
        }
    }

    /// Sets the mail address (and the UPN, unless set).
    pub fn mail(mut self, mail: &str) -> Self {
        self.mail = Some(mail.to_owned());
        self
    }

    /// Sets the UPN.
    pub fn upn(mut self, upn: &str) -> Self {
        self.upn = Some(upn.to_owned());
        self
    }

    /// No Exchange mailbox: `mail` is null and mailbox calls fail with
    /// `MailboxNotEnabledForRESTAPI`.
    pub fn without_mailbox(mut self) -> Self {
        self.upn = self.upn.or_else(|| self.mail.clone());
        self.mail = None;
        self.access = MailboxAccess::NotEnabled;
        self
    }

    /// Outside the app's access policy: mailbox calls fail with `403 ErrorAccessDenied`.
    pub fn outside_access_policy(mut self) -> Self {
        self.access = MailboxAccess::AccessDenied;
        self
    }
}

/// A group to seed.
#[derive(Debug, Clone)]
#[must_use]
pub struct GroupSeed {
    pub(super) display_name: String,
    pub(super) members: Vec<String>,
    pub(super) owners: Vec<String>,
    pub(super) devices: Vec<String>,
}

impl GroupSeed {
    /// A group without members.
    pub fn new(display_name: &str) -> Self {
        Self {
            display_name: display_name.to_owned(),
            members: Vec::new(),
            owners: Vec::new(),
            devices: Vec::new(),
        }
    }

    /// Adds direct members (user or group ids).
    pub fn members<S: AsRef<str>>(mut self, ids: &[S]) -> Self {
        self.members
            .extend(ids.iter().map(|s| s.as_ref().to_owned()));
        self
    }

    /// Adds owners (user ids).
    pub fn owners<S: AsRef<str>>(mut self, ids: &[S]) -> Self {
        self.owners
            .extend(ids.iter().map(|s| s.as_ref().to_owned()));
        self
    }

    /// Adds a device member (a non-user directory object).
    pub fn device(mut self, name: &str) -> Self {
        self.devices.push(name.to_owned());
        self
    }
}

/// A single event to seed (as if the user made it in Outlook).
#[derive(Debug, Clone)]
#[must_use]
pub struct EventSeed {
    pub(super) subject: String,
    pub(super) start: When,
    pub(super) end: When,
    pub(super) zone: String,
    pub(super) attendees: Vec<String>,
    pub(super) organizer: Option<String>,
    pub(super) ext: Vec<(String, String)>,
    pub(super) extra: Map<String, Value>,
}

impl EventSeed {
    /// A timed event.
    pub fn new(subject: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self {
            subject: subject.to_owned(),
            start: When::At(start),
            end: When::At(end),
            zone: "UTC".to_owned(),
            attendees: Vec::new(),
            organizer: None,
            ext: Vec::new(),
            extra: Map::new(),
        }
    }

    /// An all-day event from `first` to `end_exclusive`.
    pub fn all_day(subject: &str, first: NaiveDate, end_exclusive: NaiveDate) -> Self {
        let mut seed = Self::new(subject, Utc::now(), Utc::now());
        seed.start = When::AllDay(first);
        seed.end = When::AllDay(end_exclusive);
        seed
    }

    /// The zone it was created in (`originalStartTimeZone`).
    pub fn zone(mut self, zone: &str) -> Self {
        zone.clone_into(&mut self.zone);
        self
    }

    /// Adds an attendee.
    pub fn attendee(mut self, address: &str) -> Self {
        self.attendees.push(address.to_owned());
        self
    }

    /// Organized by someone else (the mailbox owner is invited).
    pub fn organizer(mut self, address: &str) -> Self {
        self.organizer = Some(address.to_owned());
        self
    }

    /// Sets a single-value extended property.
    pub fn extended_property(mut self, id: &str, value: &str) -> Self {
        self.ext.push((id.to_owned(), value.to_owned()));
        self
    }

    /// Sets any other Graph field (`sensitivity`, `showAs`, `body`...).
    pub fn field(mut self, name: &str, value: Value) -> Self {
        self.extra.insert(name.to_owned(), value);
        self
    }
}

/// A recurring series to seed.
#[derive(Debug, Clone)]
#[must_use]
pub struct SeriesSeed {
    pub(super) subject: String,
    pub(super) first_start: DateTime<Utc>,
    pub(super) duration: chrono::Duration,
    pub(super) weekly: Option<Vec<Weekday>>,
    pub(super) interval: u32,
    pub(super) count: u32,
    pub(super) zone: String,
}

impl SeriesSeed {
    /// Every `interval` days, `count` times, starting at `first_start`.
    pub fn daily(
        subject: &str,
        first_start: DateTime<Utc>,
        duration: chrono::Duration,
        count: u32,
    ) -> Self {
        Self {
            subject: subject.to_owned(),
            first_start,
            duration,
            weekly: None,
            interval: 1,
            count,
            zone: "UTC".to_owned(),
        }
    }

    /// On `days` every week, `count` occurrences, starting at `first_start`.
    pub fn weekly(
        subject: &str,
        first_start: DateTime<Utc>,
        duration: chrono::Duration,
        days: &[Weekday],
        count: u32,
    ) -> Self {
        Self {
            weekly: Some(days.to_vec()),
            ..Self::daily(subject, first_start, duration, count)
        }
    }

    /// Units between occurrences.
    pub fn interval(mut self, interval: u32) -> Self {
        self.interval = interval.max(1);
        self
    }

    /// The series' zone (occurrences keep their local time across DST).
    pub fn zone(mut self, zone: &str) -> Self {
        zone.clone_into(&mut self.zone);
        self
    }
}
