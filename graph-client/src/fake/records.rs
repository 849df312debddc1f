//! What the fake observed: the requests it answered and the mails Outlook would have sent.

/// One request the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Endpoint name, e.g. `events.create`.
    pub endpoint: String,
    /// Mailbox (user id), for mailbox endpoints.
    pub mailbox: Option<String>,
    /// The status answered.
    pub status: u16,
    /// Whether it came inside a `$batch`.
    pub in_batch: bool,
    /// The `Prefer` header.
    pub prefer: Option<String>,
    /// The names of the query parameters, in order (`$deltatoken`, `$skiptoken`, …; never
    /// their values): tells a resumed delta read from a complete one.
    pub query_names: Vec<String>,
}

/// What kind of mail Outlook would have sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvitationKind {
    /// A meeting request (create, or attendees added).
    Invite,
    /// An update to existing attendees (time or place changed).
    Update,
    /// A cancellation (organizer deleted the meeting or removed attendees).
    Cancel,
}

/// One mail Outlook would have sent to attendees.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Invitation {
    /// Mailbox (user id) of the organizer's calendar.
    pub mailbox: String,
    /// The event.
    pub event_id: String,
    /// What was sent.
    pub kind: InvitationKind,
    /// Subject at the time.
    pub subject: Option<String>,
    /// Attendee addresses it went to.
    pub attendees: Vec<String>,
}

/// One notification POST the fake made (or gave up on) to a subscriber's endpoint.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivery {
    /// The subscription.
    pub subscription_id: String,
    /// Where it went (the notification or lifecycle URL).
    pub url: String,
    /// The JSON body (`{"value": [...]}`).
    pub body: serde_json::Value,
    /// Attempts made (retries after a non-2xx answer or none at all).
    pub attempts: u32,
    /// The last status answered, if any.
    pub status: Option<u16>,
    /// Whether an attempt got a 2xx answer.
    pub delivered: bool,
}
