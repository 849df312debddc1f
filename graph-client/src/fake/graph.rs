//! [`FakeGraph`]: the running fake, and its seeding, behaviour and observation methods.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::credentials::FederatedIdentityCredential;
use super::fault::Fault;
use super::records::{Delivery, Invitation, RequestRecord};
use super::seed::{EventSeed, GroupSeed, SeriesSeed, UserSeed};
use super::state::{self, State, lock};
use super::subs::{Outgoing, TENANT_ID};
use super::{server, time};
use crate::client::models::LifecycleEvent;
use crate::client::{ClientBuilder, RetryConfig};

/// A running fake Graph. Stops when dropped.
#[derive(Debug)]
pub struct FakeGraph {
    state: Arc<Mutex<State>>,
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
    /// Listeners on further addresses ([`FakeGraph::serve_also_on_new_address`]).
    also: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.task.abort();
        for listener in self
            .also
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            listener.abort();
        }
        for worker in &lock(&self.state).push.workers {
            worker.abort();
        }
    }
}

impl FakeGraph {
    /// The tenant the token endpoint accepts.
    pub const TENANT: &'static str = "contoso.test";
    /// The client id the token endpoint accepts.
    pub const CLIENT_ID: &'static str = "11111111-2222-3333-4444-555555555555";
    /// The client secret the token endpoint accepts.
    pub const CLIENT_SECRET: &'static str = "fake-secret-value";
    /// The application permissions granted by default (every one the sync needs); see
    /// [`FakeGraph::set_application_permissions`].
    pub const APPLICATION_PERMISSIONS: [&'static str; 4] = state::APPLICATION_PERMISSIONS;
    /// The tenant id the fake's change notifications carry (`tenantId`).
    pub const TENANT_ID: &'static str = TENANT_ID;

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
        Ok(Self {
            state,
            addr,
            task,
            also: Mutex::new(Vec::new()),
        })
    }

    /// Serves the same tenant on a further loopback address too, as when the service is
    /// reached under another name, and returns that address's Graph base URL. From now on the
    /// links the fake writes (next and delta links, contexts) name the new address; links
    /// handed out before keep working on the old one. (The token endpoint answers on both.)
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn serve_also_on_new_address(&self) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let base = format!("http://{}/v1.0", listener.local_addr()?);
        self.state().base_url.clone_from(&base);
        let router = server::router(Arc::clone(&self.state));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        self.also
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(task);
        Ok(base)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Runs an edit of the data, then queues the change notifications it causes.
    fn change<T>(&self, edit: impl FnOnce(&mut State) -> T) -> T {
        let mut st = self.state();
        let out = edit(&mut st);
        server::collect_changes(&mut st);
        out
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
        crate::client::Client::builder()
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
        self.change(|st| server::seed_event(st, user_id, seed))
    }

    /// Adds a recurring series; returns the series master's id.
    pub fn add_series(&self, user_id: &str, seed: SeriesSeed) -> String {
        self.change(|st| server::seed_series(st, user_id, seed))
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
        self.change(|st| server::user_patch_event(st, user_id, event_id, fields))
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
        self.change(|st| server::user_delete_event(st, user_id, event_id))
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
        self.change(|st| {
            st.mailboxes.get_mut(user_id).is_some_and(|mb| {
                let before = mb.folders.len();
                mb.folders.retain(|f| f.id != folder_id);
                mb.folders.len() < before
            })
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

    /// Deletes the group with this object id (its members and owners stay users).
    pub fn remove_group(&self, group_id: &str) {
        self.state().groups.retain(|g| g.id != group_id);
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
        self.change(|st| server::seed_contact(st, user_id, folder_id, fields))
    }

    /// Simulates a user editing a contact.
    pub fn edit_contact(&self, user_id: &str, contact_id: &str, fields: &Value) -> bool {
        self.change(|st| server::user_patch_contact(st, user_id, contact_id, fields))
    }

    /// Simulates a user deleting a contact.
    pub fn delete_contact(&self, user_id: &str, contact_id: &str) -> bool {
        self.change(|st| server::user_delete_contact(st, user_id, contact_id))
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

    /// The access tokens issued and still valid (for tests that look for them where they must
    /// never appear: logs, reports, errors).
    #[must_use]
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state().tokens.keys().cloned().collect()
    }

    /// The application permissions an administrator has granted the app (by default
    /// [`FakeGraph::APPLICATION_PERMISSIONS`]): the `roles` claim of the access tokens issued
    /// from now on. A call whose token lacks the permission its endpoint needs gets `403`
    /// (`GroupMember.Read.All` for `/groups`, `User.Read.All` for `/users/{id}`,
    /// `Calendars.ReadWrite` for events, `Contacts.ReadWrite` for contacts); tokens already
    /// issued keep their roles, as the identity platform's do.
    pub fn set_application_permissions(&self, permissions: &[&str]) {
        self.state().application_permissions =
            permissions.iter().map(|p| (*p).to_owned()).collect();
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

    /// Page size of directory listings: groups, users, group members and owners (Graph: 100).
    pub fn set_directory_page_size(&self, size: usize) {
        self.state().directory_page_size = size.max(1);
    }

    /// Invitation delivery, as Exchange does it (on by default): a meeting organised in a
    /// mailbox of the fake (through the API, a `$batch` or [`FakeGraph::add_event`]) lands in
    /// the calendar of every attendee with a mailbox in the fake as their own copy (same
    /// `iCalUId`, `isOrganizer: false`), kept in step with the organiser's changes and marked
    /// cancelled (`isCancelled`, subject `Canceled: …`) when the organiser cancels or deletes
    /// it. Off: meetings stay in the organiser's calendar only.
    pub fn set_invitation_delivery(&self, on: bool) {
        self.state().invitation_delivery = on;
    }

    /// Injects a fault.
    pub fn inject(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    /// Removes every injected fault that has not been used up.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    // ---- the app's credentials ----

    /// Uploads a certificate (PEM) for the app `client_id` (usually [`FakeGraph::CLIENT_ID`]):
    /// its client assertions are then accepted. `false` when the text holds no certificate.
    pub fn register_certificate(&self, client_id: &str, cert_pem: &str) -> bool {
        self.state()
            .app_credentials
            .register_certificate(client_id, cert_pem)
    }

    /// Adds a federated identity credential to the app `client_id`: tokens its issuer signed
    /// for its subject and audience are then accepted as client assertions.
    pub fn register_federated_credential(
        &self,
        client_id: &str,
        credential: FederatedIdentityCredential,
    ) {
        self.state()
            .app_credentials
            .federated
            .push((client_id.to_owned(), credential));
    }

    /// The token endpoint's URL: the audience a certificate's client assertion must name.
    #[must_use]
    pub fn token_endpoint(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.authority_url(),
            Self::TENANT
        )
    }

    // ---- change notifications ----

    /// Sends a lifecycle notification (`reauthorizationRequired`, `subscriptionRemoved`,
    /// `missed`, or any other value) of a subscription to its lifecycle URL, through its
    /// delivery worker; whether the subscription exists (and has a lifecycle URL).
    /// `subscriptionRemoved` also removes the subscription, as Graph does (its queued
    /// change notifications are still delivered, the lifecycle notification last).
    pub fn send_lifecycle_event(&self, subscription_id: &str, event: &LifecycleEvent) -> bool {
        let mut st = self.state();
        let Some(sub) = st.push.subs.get(subscription_id) else {
            return false;
        };
        let Some(url) = sub.terms.lifecycle_url.clone() else {
            return false;
        };
        let out = Outgoing {
            subscription: sub.id.clone(),
            url,
            body: sub.lifecycle(event.as_str()),
            lifecycle: true,
        };
        st.push.enqueue(out);
        if *event == LifecycleEvent::SubscriptionRemoved {
            // Dropping the sender lets the worker drain its queue and end.
            st.push.subs.remove(subscription_id);
        }
        true
    }

    /// A delay before each notification is posted (default zero), e.g. Graph's latency.
    pub fn set_delivery_delay(&self, delay: Duration) {
        self.state().push.delay = delay;
    }

    /// Delivery retries: at most `max_attempts` POSTs per notification (default 6), waiting
    /// `first_backoff` after the first failure and twice as long after each next one (at most
    /// 2 s; default 20 ms). A failure is a non-2xx answer or none within 3 s.
    pub fn set_delivery_retries(&self, max_attempts: u32, first_backoff: Duration) {
        let mut st = self.state();
        st.push.max_attempts = max_attempts.max(1);
        st.push.first_backoff = first_backoff;
    }

    /// Moves the fake's clock forward: subscriptions expire on it (an expired subscription is
    /// gone and delivers nothing). Only subscriptions use this clock.
    pub fn advance_clock(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let mut st = self.state();
        st.push.clock_offset += by;
    }

    /// The ids of the live subscriptions.
    #[must_use]
    pub fn subscription_ids(&self) -> Vec<String> {
        let mut st = self.state();
        st.push.drop_expired();
        st.push.subs.keys().cloned().collect()
    }

    /// How often `POST /subscriptions/{id}/reauthorize` succeeded for a subscription.
    #[must_use]
    pub fn reauthorizations(&self, subscription_id: &str) -> usize {
        self.state()
            .push
            .reauthorizations
            .get(subscription_id)
            .copied()
            .unwrap_or(0)
    }

    /// Every notification POST finished (delivered, or given up after the last attempt), in
    /// order of finishing.
    #[must_use]
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state().push.deliveries.clone()
    }

    /// Notifications queued or being retried, not finished yet.
    #[must_use]
    pub fn pending_deliveries(&self) -> usize {
        self.state().push.pending.values().sum()
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
    /// `users.list`, `calendarView.delta`, `calendarView.list`, `events.list`, `events.get`,
    /// `events.create`, `events.update`, `events.delete`, `events.cancel`, `contactFolders.list`, `contactFolders.get`,
    /// `contactFolders.create`, `contacts.list`, `contacts.get`, `contacts.create`,
    /// `contacts.update`, `contacts.delete`, `contacts.delta`, `subscriptions.create`,
    /// `subscriptions.get`, `subscriptions.update`, `subscriptions.delete`,
    /// `subscriptions.reauthorize`.
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
