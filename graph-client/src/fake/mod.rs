//! An in-process fake of the Microsoft Graph endpoints this crate uses (cargo feature `fake`).
//!
//! [`FakeGraph::start`] serves on `127.0.0.1:0` and stops when the handle is dropped. It keeps
//! state (users, groups, mailboxes with events, series and contacts, delta tokens), answers
//! with Graph's shapes and error codes, and reproduces the sharp edges of the real service:
//! sparse occurrences in calendar-view delta, `@removed` for items leaving the window,
//! replayed items, expired tokens (`410 SyncStateNotFound`), ETags and `412`, `transactionId`
//! dedupe, contact caps, mailboxes without Exchange or outside the access policy, per-mailbox
//! throttling, and `$batch`. Tests inspect it through counters ([`FakeGraph::request_count`]),
//! the invitation log ([`FakeGraph::invitations`]) and inject faults ([`FakeGraph::inject`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use graph_client::fake::{EventSeed, Fault, FakeGraph, GroupSeed, UserSeed};
//! let fake = FakeGraph::start().await;
//! let alice = fake.add_user(UserSeed::new("Alice"));
//! let group = fake.add_group(GroupSeed::new("Sales").members(&[&alice]));
//! let now = chrono::Utc::now();
//! fake.add_event(&alice, EventSeed::new("Kickoff", now, now + chrono::Duration::hours(1)));
//! fake.inject(Fault::throttle("0.01").on("calendarView.delta"));
//!
//! let client = fake.client_builder().build().expect("client");
//! let members = client.groups().all_transitive_members(&group).await.expect("members");
//! assert_eq!(members[0].id, alice);
//! let round = client
//!     .events(&alice)
//!     .delta_full(now - chrono::Duration::days(1), now + chrono::Duration::days(1))
//!     .await
//!     .expect("the 429 was obeyed");
//! assert_eq!(round.items.len(), 1);
//! assert_eq!(fake.status_count(429), 1);
//! # }
//! ```

mod server;
mod state;
mod time;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc, Weekday};
use serde_json::{Map, Value, json};

use crate::client::{ClientBuilder, RetryConfig};
use state::State;
use time::When;

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
    display_name: String,
    mail: Option<String>,
    upn: Option<String>,
    access: MailboxAccess,
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
    display_name: String,
    members: Vec<String>,
    owners: Vec<String>,
    devices: Vec<String>,
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
    subject: String,
    start: When,
    end: When,
    zone: String,
    attendees: Vec<String>,
    organizer: Option<String>,
    ext: Vec<(String, String)>,
    extra: Map<String, Value>,
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
    subject: String,
    first_start: DateTime<Utc>,
    duration: chrono::Duration,
    weekly: Option<Vec<Weekday>>,
    interval: u32,
    count: u32,
    zone: String,
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
            subject: subject.to_owned(),
            first_start,
            duration,
            weekly: Some(days.to_vec()),
            interval: 1,
            count,
            zone: "UTC".to_owned(),
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

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer this status with a Graph error body (the request has no effect).
    Status(u16),
    /// Wait this long before handling the request.
    Delay(Duration),
    /// Handle the request, then cut the JSON body in half.
    TruncatedJson,
    /// Answer `429` with this `Retry-After` (the request has no effect).
    Throttle(String),
    /// Handle the request (it takes effect), then answer this status as if the answer was lost
    /// on the way (e.g. 504): a client that repeats a create must not make a duplicate.
    LostResponse(u16),
}

/// A fault to inject into matching requests.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Fault {
    pub(crate) kind: FaultKind,
    pub(crate) endpoint: Option<String>,
    pub(crate) mailbox: Option<String>,
    pub(crate) times: u32,
    pub(crate) next_pages_only: bool,
}

impl Fault {
    fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            endpoint: None,
            mailbox: None,
            times: 1,
            next_pages_only: false,
        }
    }

    /// Answer `status` (e.g. 500, 503).
    pub fn status(status: u16) -> Self {
        Self::new(FaultKind::Status(status))
    }

    /// Delay the answer.
    pub fn delay(delay: Duration) -> Self {
        Self::new(FaultKind::Delay(delay))
    }

    /// Truncate the JSON answer.
    pub fn truncated_json() -> Self {
        Self::new(FaultKind::TruncatedJson)
    }

    /// Take effect, then answer `status` (a lost answer).
    pub fn lost_response(status: u16) -> Self {
        Self::new(FaultKind::LostResponse(status))
    }

    /// Throttle with a `Retry-After` (e.g. `"0.05"`).
    pub fn throttle(retry_after: &str) -> Self {
        Self::new(FaultKind::Throttle(retry_after.to_owned()))
    }

    /// A failing page: `status` on a request that follows an `@odata.nextLink`.
    pub fn failing_page(status: u16) -> Self {
        let mut fault = Self::new(FaultKind::Status(status));
        fault.next_pages_only = true;
        fault
    }

    /// Only on this endpoint (see [`FakeGraph::request_count`] for the names); `events.write`
    /// and `contacts.write` stand for every create, update and delete of the resource.
    pub fn on(mut self, endpoint: &str) -> Self {
        self.endpoint = Some(endpoint.to_owned());
        self
    }

    /// Only for this mailbox (user id).
    pub fn for_mailbox(mut self, user_id: &str) -> Self {
        self.mailbox = Some(user_id.to_owned());
        self
    }

    /// How many matching requests it hits (default 1).
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }
}

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

/// A running fake Graph. Stops when dropped.
#[derive(Debug)]
pub struct FakeGraph {
    state: Arc<Mutex<State>>,
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGraph {
    /// The tenant the token endpoint accepts.
    pub const TENANT: &'static str = "contoso.test";
    /// The client id the token endpoint accepts.
    pub const CLIENT_ID: &'static str = "11111111-2222-3333-4444-555555555555";
    /// The client secret the token endpoint accepts.
    pub const CLIENT_SECRET: &'static str = "fake-secret-value";

    /// Starts a fake on `127.0.0.1:0`.
    ///
    /// # Panics
    /// If no loopback port can be bound (a test-environment failure).
    pub async fn start() -> Self {
        Self::try_start_on(0).await.expect("bind 127.0.0.1:0")
    }

    /// Starts a fake on a fixed loopback port (`0`: any free port), for a sandbox that other
    /// tools connect to.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub async fn try_start_on(port: u16) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State::new(
            Self::TENANT,
            Self::CLIENT_ID,
            Self::CLIENT_SECRET,
        )));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        lock(&state).base_url = format!("http://{addr}/v1.0");
        let router = server::router(Arc::clone(&state));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { state, addr, task })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The Graph base URL, e.g. `http://127.0.0.1:PORT/v1.0`.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}/v1.0", self.addr)
    }

    /// The identity platform base URL (token endpoint at `/{tenant}/oauth2/v2.0/token`).
    #[must_use]
    pub fn authority_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client builder pointed at this fake with valid credentials and fast retries.
    pub fn client_builder(&self) -> ClientBuilder {
        crate::Client::builder()
            .graph_base_url(self.base_url())
            .authority_base_url(self.authority_url())
            .credentials(Self::TENANT, Self::CLIENT_ID, Self::CLIENT_SECRET)
            .retry(RetryConfig::new(
                6,
                Duration::from_millis(5),
                Duration::from_millis(50),
                Duration::from_millis(200),
            ))
            .request_timeout(Duration::from_secs(10))
    }

    // ---- seeding ----

    /// Adds a user; returns its object id.
    pub fn add_user(&self, seed: UserSeed) -> String {
        let mut st = self.state();
        let id = st.guid();
        let upn = seed
            .upn
            .clone()
            .or_else(|| seed.mail.clone())
            .unwrap_or_else(|| format!("{id}@contoso.test"));
        st.users.push(state::FakeUser {
            id: id.clone(),
            display_name: seed.display_name,
            mail: seed.mail,
            upn,
            access: seed.access,
        });
        id
    }

    /// Adds a group; returns its object id.
    pub fn add_group(&self, seed: GroupSeed) -> String {
        let mut st = self.state();
        let id = st.guid();
        let mut members = seed.members;
        for device in seed.devices {
            let device_id = st.guid();
            st.devices.push((device_id.clone(), device));
            members.push(device_id);
        }
        st.groups.push(state::FakeGroup {
            id: id.clone(),
            display_name: seed.display_name,
            members,
            owners: seed.owners,
        });
        id
    }

    /// Adds an event to a mailbox; returns its id.
    pub fn add_event(&self, user_id: &str, seed: EventSeed) -> String {
        let mut st = self.state();
        server::seed_event(&mut st, user_id, seed)
    }

    /// Adds a recurring series; returns the series master's id.
    pub fn add_series(&self, user_id: &str, seed: SeriesSeed) -> String {
        let mut st = self.state();
        server::seed_series(&mut st, user_id, seed)
    }

    /// The ids of a series' occurrences (and exceptions) overlapping `[start, end)`, in order.
    #[must_use]
    pub fn occurrence_ids(
        &self,
        user_id: &str,
        master_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Vec<String> {
        let st = self.state();
        server::occurrence_ids(&st, user_id, master_id, start, end)
    }

    /// Simulates a user editing an event in Outlook: sets top-level fields.
    pub fn edit_event(&self, user_id: &str, event_id: &str, fields: &Value) -> bool {
        let mut st = self.state();
        server::user_patch_event(&mut st, user_id, event_id, fields)
    }

    /// Simulates a user moving an event (or one occurrence, which becomes an exception).
    pub fn move_event(
        &self,
        user_id: &str,
        event_id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> bool {
        let body = json!({
            "start": {"dateTime": time::fmt_local(start.naive_utc()), "timeZone": "UTC"},
            "end": {"dateTime": time::fmt_local(end.naive_utc()), "timeZone": "UTC"},
        });
        self.edit_event(user_id, event_id, &body)
    }

    /// Simulates a user moving an event or contact to another folder and back: its REST id
    /// (what Graph returns without `Prefer: IdType="ImmutableId"`) changes, its immutable id
    /// does not.
    pub fn move_between_folders(&self, user_id: &str, item_id: &str) -> bool {
        let mut st = self.state();
        server::move_between_folders(&mut st, user_id, item_id)
    }

    /// Simulates a user deleting an event (an occurrence is cancelled).
    pub fn delete_event(&self, user_id: &str, event_id: &str) -> bool {
        let mut st = self.state();
        server::user_delete_event(&mut st, user_id, event_id)
    }

    /// The event as `GET /events/{id}` would return it in UTC, with extended properties.
    #[must_use]
    pub fn event(&self, user_id: &str, event_id: &str) -> Option<Value> {
        let st = self.state();
        server::inspect_event(&st, user_id, event_id)
    }

    /// Every single event and series master of a mailbox, as Graph returns them in UTC.
    #[must_use]
    pub fn events(&self, user_id: &str) -> Vec<Value> {
        let st = self.state();
        server::inspect_events(&st, user_id)
    }

    /// Adds a contact folder; returns its id.
    pub fn add_contact_folder(&self, user_id: &str, display_name: &str) -> String {
        let mut st = self.state();
        server::seed_folder(&mut st, user_id, display_name)
    }

    /// Deletes a contact folder as a user would (its delta and its contacts then answer 404);
    /// whether it existed.
    pub fn delete_contact_folder(&self, user_id: &str, folder_id: &str) -> bool {
        let mut st = self.state();
        st.mailboxes.get_mut(user_id).is_some_and(|mb| {
            let before = mb.folders.len();
            mb.folders.retain(|f| f.id != folder_id);
            mb.folders.len() < before
        })
    }

    /// The contact folders of a mailbox, as `(id, display name)`.
    #[must_use]
    pub fn contact_folders(&self, user_id: &str) -> Vec<(String, String)> {
        self.state()
            .mailboxes
            .get(user_id)
            .map(|mb| {
                mb.folders
                    .iter()
                    .map(|f| (f.id.clone(), f.display_name.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Replaces the direct members of the group with this id or display name (a member
    /// joins or leaves); does nothing when there is no such group.
    pub fn set_group_members<S: AsRef<str>>(&self, group: &str, members: &[S]) {
        let mut st = self.state();
        if let Some(g) = st
            .groups
            .iter_mut()
            .find(|g| g.id == group || g.display_name.eq_ignore_ascii_case(group))
        {
            g.members = members.iter().map(|m| m.as_ref().to_owned()).collect();
        }
    }

    /// Adds a contact (Graph JSON fields) to a folder; returns its id.
    pub fn add_contact(&self, user_id: &str, folder_id: &str, fields: Value) -> String {
        let mut st = self.state();
        server::seed_contact(&mut st, user_id, folder_id, fields)
    }

    /// Simulates a user editing a contact.
    pub fn edit_contact(&self, user_id: &str, contact_id: &str, fields: &Value) -> bool {
        let mut st = self.state();
        server::user_patch_contact(&mut st, user_id, contact_id, fields)
    }

    /// Simulates a user deleting a contact.
    pub fn delete_contact(&self, user_id: &str, contact_id: &str) -> bool {
        let mut st = self.state();
        server::user_delete_contact(&mut st, user_id, contact_id)
    }

    /// The contacts of a folder, as Graph returns them.
    #[must_use]
    pub fn contacts(&self, user_id: &str, folder_id: &str) -> Vec<Value> {
        let st = self.state();
        server::inspect_contacts(&st, user_id, folder_id)
    }

    // ---- behaviour ----

    /// Lifetime of issued access tokens (`expires_in`, whole seconds, at least 1).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.state().token_lifetime = lifetime;
    }

    /// Makes every issued access token expired: the next Graph call gets `401`.
    pub fn expire_access_tokens(&self) {
        self.state().tokens.clear();
    }

    /// Forgets every delta and skip token of a mailbox: the next use gets `410 SyncStateNotFound`.
    pub fn expire_delta_tokens(&self, user_id: &str) {
        self.state().delta.retain(|_, e| e.mailbox() != user_id);
    }

    /// Replays (an item repeated inside a round and the previous round's last item sent again).
    /// On by default, as Graph does it.
    pub fn set_replays(&self, on: bool) {
        self.state().replays = on;
    }

    /// Requests in flight per mailbox before `429 ApplicationThrottled` (default 4).
    pub fn set_concurrency_limit(&self, limit: usize) {
        self.state().concurrency_limit = limit.max(1);
    }

    /// At most `max` requests per mailbox per `window`, then `429 TooManyRequests` with a
    /// `Retry-After` saying when capacity frees up. Default: 10,000 per 10 minutes, as Graph.
    pub fn set_rate_limit(&self, max: usize, window: Duration) {
        self.state().rate_limit = Some((max, window));
    }

    /// Writes younger than `lag` do not show in calendar-view delta yet (Graph's "processing
    /// delays"); they appear in a later round. Default: none.
    pub fn set_processing_lag(&self, lag: Duration) {
        self.state().processing_lag = lag;
    }

    /// The `Retry-After` sent with throttling answers (default `"0.05"`, a decimal as Graph
    /// sends).
    pub fn set_retry_after(&self, value: &str) {
        value.clone_into(&mut self.state().retry_after);
    }

    /// Default page size of calendar-view and contacts delta (without `odata.maxpagesize`).
    pub fn set_default_page_size(&self, size: usize) {
        self.state().default_page_size = size.max(1);
    }

    /// Page size of group member listings (Graph: 100).
    pub fn set_directory_page_size(&self, size: usize) {
        self.state().directory_page_size = size.max(1);
    }

    /// Injects a fault.
    pub fn inject(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    /// Removes every injected fault that has not been used up.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    // ---- observation ----

    /// Every request answered, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state().requests.clone()
    }

    /// Requests answered on an endpoint, `$batch` sub-requests included (see
    /// [`FakeGraph::http_request_count`] and [`FakeGraph::batched_request_count`]). Names: `token`, `batch`, `groups.list`, `groups.get`,
    /// `groups.members`, `groups.transitiveMembers`, `groups.owners`, `users.get`,
    /// `calendarView.delta`, `calendarView.list`, `events.list`, `events.get`, `events.create`,
    /// `events.update`, `events.delete`, `contactFolders.list`, `contactFolders.get`,
    /// `contactFolders.create`, `contacts.list`, `contacts.get`, `contacts.create`,
    /// `contacts.update`, `contacts.delete`, `contacts.delta`.
    #[must_use]
    pub fn request_count(&self, endpoint: &str) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|r| r.endpoint == endpoint)
            .count()
    }

    /// HTTP requests answered on an endpoint, without the sub-requests of `$batch` requests
    /// (what travels over the network: each `$batch` counts once, as `batch`).
    #[must_use]
    pub fn http_request_count(&self, endpoint: &str) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|r| r.endpoint == endpoint && !r.in_batch)
            .count()
    }

    /// Sub-requests of `$batch` requests answered on an endpoint (each counts against its
    /// mailbox's limits like an HTTP request).
    #[must_use]
    pub fn batched_request_count(&self, endpoint: &str) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|r| r.endpoint == endpoint && r.in_batch)
            .count()
    }

    /// Requests answered on an endpoint for one mailbox.
    #[must_use]
    pub fn request_count_for(&self, endpoint: &str, user_id: &str) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|r| r.endpoint == endpoint && r.mailbox.as_deref() == Some(user_id))
            .count()
    }

    /// Requests answered with a status.
    #[must_use]
    pub fn status_count(&self, status: u16) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|r| r.status == status)
            .count()
    }

    /// The most requests ever in flight at once for a mailbox.
    #[must_use]
    pub fn max_in_flight(&self, user_id: &str) -> usize {
        self.state()
            .max_in_flight
            .get(user_id)
            .copied()
            .unwrap_or(0)
    }

    /// Every invitation, update and cancellation Outlook would have mailed.
    #[must_use]
    pub fn invitations(&self) -> Vec<Invitation> {
        self.state().invitations.clone()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
