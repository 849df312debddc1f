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
