//! An in-process fake RAYNET server for tests and demos (cargo feature `fake`).
//!
//! [`FakeRaynet::start`] binds axum to `127.0.0.1:0` and serves the endpoints
//! this crate uses — `meeting`, `event`, `person`, `company`, `userAccount`
//! (list, detail, create with `PUT`, partial update with `POST`, delete), extId
//! add/remove and `/{entity}/ext/{extId}/` — with the API's behaviour: real
//! paging (`offset`/`limit` ≤ 1000, `totalCount`), the filter operators
//! (`field[OP]=value`; an unknown column answers 400 `Unsupported filter
//! column [x]`), sorting, `view=rowInfo`, `dateFormat=ISO8601` (otherwise naive
//! `yyyy-MM-dd HH:mm` in the instance's zone, Europe/Prague by default), audit
//! stamps and `_version`, at most 10 extIds per record, and the API's error
//! envelopes.
//!
//! It enforces Basic authentication and `X-Instance-Name` (several instances
//! can live in one fake), the daily quota with `X-Ratelimit-*` headers on every
//! answer, 429 above 4 requests in flight, and the IP block after more than 20
//! bad logins. It counts requests per endpoint template (e.g.
//! `"GET /meeting/"`, `"POST /meeting/{id}/"`), records the highest number of
//! requests in flight, and injects [`Fault`]s on demand (on one endpoint, or
//! on every write with [`Fault::on_writes`]; [`FaultKind::InterruptAfterApply`]
//! lands a write and then cuts the connection). Every answer carries the
//! fake's clock ([`FakeRaynet::now`]) as its HTTP `Date` header.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use raynet_client::fake::{FakeRaynet, PersonSeed};
//! let fake = FakeRaynet::start().await;
//! fake.default_instance().add_person(PersonSeed::new("Novák").first_name("Jan"))?;
//! let client = fake.client();
//! let persons = client.persons().list_all(&Default::default()).await?;
//! assert!(persons.iter().any(|p| p.last_name.as_deref() == Some("Novák")));
//! # Ok(())
//! # }
//! ```

mod store;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine as _;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use self::store::{Entity, Instance, Reject, next_midnight};
use crate::client::transport::RetryPolicy;
use crate::{Client, ClientBuilder};

/// Name of the instance every fake starts with.
pub const DEFAULT_INSTANCE: &str = "acme";
/// Login of the default instance's API user.
pub const DEFAULT_USER: &str = "api@acme.test";
/// API key of the default instance's API user.
pub const DEFAULT_API_KEY: &str = "crm-fake0123456789abcdef";
/// Bad logins tolerated before the IP block (the 21st blocks).
pub const BAD_LOGIN_LIMIT: u32 = 20;
/// Requests in flight tolerated before 429.
pub const DEFAULT_CONCURRENCY_LIMIT: usize = 4;

/// An error from a seeding or inspection call on the fake.
#[derive(Debug, Clone, thiserror::Error)]
#[error("fake raynet refused: {status} {body}")]
pub struct FakeError {
    /// The status the API would have answered.
    pub status: u16,
    /// The error body.
    pub body: Value,
}

impl From<Reject> for FakeError {
    fn from(r: Reject) -> Self {
        FakeError {
            status: r.status,
            body: r.body,
        }
    }
}

/// What an injected fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer this status (e.g. 500, 503) with an error envelope.
    Status(u16),
    /// Answer 429 as for too many concurrent connections.
    TooManyRequests,
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Answer normally but cut the body in half (valid length, broken JSON).
    Truncated,
    /// Answer 200 with a well-formed JSON body of the wrong shape.
    Malformed,
    /// Apply the request, then cut the connection instead of answering: the
    /// client sees a network error although the write landed (an interrupted
    /// write; use it on writes, since the client retries GETs).
    InterruptAfterApply,
}

/// Which requests a [`Fault`] may hit.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Any,
    Endpoint(String),
    Writes,
}

impl Scope {
    fn matches(&self, template: &str) -> bool {
        match self {
            Scope::Any => true,
            Scope::Endpoint(e) => e == template,
            Scope::Writes => ["PUT ", "POST ", "DELETE "]
                .iter()
                .any(|m| template.starts_with(m)),
        }
    }
}

/// A fault to inject: which requests it hits and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Fault {
    scope: Scope,
    nth: u64,
    times: u64,
    kind: FaultKind,
}

impl Fault {
    /// A fault hitting the next request (any endpoint), once.
    pub fn new(kind: FaultKind) -> Self {
        Fault {
            scope: Scope::Any,
            nth: 1,
            times: 1,
            kind,
        }
    }

    /// Only requests to this endpoint template, e.g. `"GET /meeting/"`.
    pub fn on(mut self, endpoint: &str) -> Self {
        self.scope = Scope::Endpoint(endpoint.to_owned());
        self
    }

    /// Only writes (`PUT`, `POST` and `DELETE` requests, any endpoint).
    pub fn on_writes(mut self) -> Self {
        self.scope = Scope::Writes;
        self
    }

    /// Starts at the `n`-th matching request after injection (1-based):
    /// `.nth(3)` on `"GET /meeting/"` fails the third page request.
    pub fn nth(mut self, n: u64) -> Self {
        self.nth = n.max(1);
        self
    }

    /// Hits this many consecutive matching requests (default 1).
    pub fn times(mut self, n: u64) -> Self {
        self.times = n;
        self
    }
}

#[derive(Debug)]
struct ActiveFault {
    fault: Fault,
    seen: u64,
    applied: u64,
}

struct World {
    instances: BTreeMap<String, Instance>,
    bad_logins: u32,
    blocked_until: Option<DateTime<Utc>>,
    counts: BTreeMap<String, u64>,
    faults: Vec<ActiveFault>,
    clock_offset: chrono::Duration,
    concurrency_limit: usize,
    latency: Duration,
    concurrency_rejections: u64,
}

impl World {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }
}

struct Shared {
    world: Mutex<World>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Shared {
    fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running fake RAYNET server. Shut down when dropped.
pub struct FakeRaynet {
    base_url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeRaynet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRaynet")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeRaynet {
    fn drop(&mut self) {
        // Graceful: idle keep-alive connections are closed too, so no pooled
        // client connection keeps talking to a dropped fake.
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        drop(self.task.take());
    }
}

impl FakeRaynet {
    /// Starts a fake with the default instance ([`DEFAULT_INSTANCE`]) and its
    /// API user ([`DEFAULT_USER`] / [`DEFAULT_API_KEY`], user account 1,
    /// person 1 "API Robot").
    ///
    /// # Panics
    ///
    /// When no port can be bound on 127.0.0.1 (see [`FakeRaynet::try_start`]).
    pub async fn start() -> FakeRaynet {
        FakeRaynet::try_start()
            .await
            .expect("cannot bind the fake raynet server on 127.0.0.1")
    }

    /// Like [`FakeRaynet::start`], returning bind errors.
    pub async fn try_start() -> std::io::Result<FakeRaynet> {
        FakeRaynet::try_start_on(0).await
    }

    /// Like [`FakeRaynet::try_start`], on a fixed loopback port (`0`: any free port), for a
    /// sandbox that other tools connect to.
    pub async fn try_start_on(port: u16) -> std::io::Result<FakeRaynet> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let world = World {
            instances: BTreeMap::new(),
            bad_logins: 0,
            blocked_until: None,
            counts: BTreeMap::new(),
            faults: Vec::new(),
            clock_offset: chrono::Duration::zero(),
            concurrency_limit: DEFAULT_CONCURRENCY_LIMIT,
            latency: Duration::ZERO,
            concurrency_rejections: 0,
        };
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        let fake = FakeRaynet {
            base_url: format!("http://{addr}/api/v2/"),
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        };
        let inst = fake.add_instance(DEFAULT_INSTANCE, chrono_tz::Europe::Prague);
        inst.add_user(DEFAULT_USER, DEFAULT_API_KEY, "API", "Robot")
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(fake)
    }

    /// The API root, e.g. `http://127.0.0.1:41234/api/v2/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The socket address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A client builder for the default instance and user, with fast retry
    /// timings ([`RetryPolicy::fast`]).
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .base_url(self.base_url.clone())
            .instance(DEFAULT_INSTANCE)
            .credentials(DEFAULT_USER, DEFAULT_API_KEY)
            .retry_policy(RetryPolicy::fast())
    }

    /// A client for the default instance and user.
    ///
    /// # Panics
    ///
    /// Never in practice: the fake's own URL and credentials are valid.
    pub fn client(&self) -> Client {
        self.client_builder()
            .build()
            .expect("the fake's own client configuration is valid")
    }

    /// Adds an instance (without users) and returns its handle.
    pub fn add_instance(&self, name: &str, tz: Tz) -> FakeInstance<'_> {
        let mut w = self.shared.world();
        let now = w.now();
        w.instances
            .entry(name.to_owned())
            .or_insert_with(|| Instance::new(tz, now));
        drop(w);
        self.instance(name)
    }

    /// A handle on an instance (created with [`FakeRaynet::add_instance`]).
    pub fn instance(&self, name: &str) -> FakeInstance<'_> {
        FakeInstance {
            fake: self,
            name: name.to_owned(),
        }
    }

    /// The default instance.
    pub fn default_instance(&self) -> FakeInstance<'_> {
        self.instance(DEFAULT_INSTANCE)
    }

    /// Requests received for one endpoint template, e.g. `"GET /meeting/"`,
    /// `"GET /meeting/{id}/"`, `"PUT /meeting/"`, `"POST /person/{id}/"`,
    /// `"GET /person/ext/{extId}/"`, `"PUT /meeting/{id}/extId/"`,
    /// `"DELETE /meeting/{id}/extId/{extId}"`. Every request is counted,
    /// refused ones included.
    pub fn requests(&self, endpoint: &str) -> u64 {
        self.shared
            .world()
            .counts
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }

    /// All requests received.
    pub fn total_requests(&self) -> u64 {
        self.shared.world().counts.values().sum()
    }

    /// Requests by endpoint template.
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.shared.world().counts.clone()
    }

    /// Forgets the request counts and the in-flight maximum.
    pub fn reset_counters(&self) {
        self.shared.world().counts.clear();
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
    }

    /// The highest number of requests that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Requests refused with 429 for exceeding the concurrency limit.
    pub fn concurrency_rejections(&self) -> u64 {
        self.shared.world().concurrency_rejections
    }

    /// Adds a delay to every request (makes concurrency observable).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.world().latency = latency;
    }

    /// Requests allowed in flight before 429 (default 4).
    pub fn set_concurrency_limit(&self, limit: usize) {
        self.shared.world().concurrency_limit = limit;
    }

    /// Requests refused for bad credentials so far.
    pub fn bad_logins(&self) -> u32 {
        self.shared.world().bad_logins
    }

    /// True while the client's IP is blocked (more than 20 bad logins).
    pub fn is_ip_blocked(&self) -> bool {
        let w = self.shared.world();
        w.blocked_until.is_some_and(|until| w.now() < until)
    }

    /// Lifts the IP block and forgets bad logins.
    pub fn unblock(&self) {
        let mut w = self.shared.world();
        w.blocked_until = None;
        w.bad_logins = 0;
    }

    /// Injects a fault.
    pub fn inject(&self, fault: Fault) {
        self.shared.world().faults.push(ActiveFault {
            fault,
            seen: 0,
            applied: 0,
        });
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        self.shared.world().faults.clear();
    }

    /// The fake's clock (real time plus [`FakeRaynet::advance_clock`] shifts).
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.world().now()
    }

    /// Moves the fake's clock forward (audit stamps, quota windows, IP block).
    pub fn advance_clock(&self, by: chrono::Duration) {
        self.shared.world().clock_offset += by;
    }
}

/// A handle on one instance of the fake, for seeding and inspection.
#[derive(Debug)]
pub struct FakeInstance<'a> {
    fake: &'a FakeRaynet,
    name: String,
}

/// What [`FakeInstance::seed_demo`] created.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DemoSeed {
    /// Jana Nováková (a member with meetings and events).
    pub jana: SeededUser,
    /// Petr Dvořák (a member with one meeting).
    pub petr: SeededUser,
    /// Company ids.
    pub companies: Vec<u64>,
    /// Contact person ids.
    pub persons: Vec<u64>,
    /// Meeting ids.
    pub meetings: Vec<u64>,
    /// Event ids.
    pub events: Vec<u64>,
}

/// Ids of a seeded user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SeededUser {
    /// The user account id.
    pub user_account_id: u64,
    /// The user's person id (what owners and participants use).
    pub person_id: u64,
}

fn entity(name: &str) -> Result<Entity, FakeError> {
    Entity::parse(name).ok_or_else(|| FakeError {
        status: 404,
        body: json!({"type": "NotFound", "message": format!("unknown entity {name}")}),
    })
}

impl FakeInstance<'_> {
    fn with<R>(
        &self,
        f: impl FnOnce(&mut Instance, DateTime<Utc>) -> Result<R, Reject>,
    ) -> Result<R, FakeError> {
        let mut w = self.fake.shared.world();
        let now = w.now();
        let inst = w.instances.get_mut(&self.name).ok_or_else(|| FakeError {
            status: 401,
            body: json!({"type": "NotFound", "message": format!("no instance {}", self.name)}),
        })?;
        f(inst, now).map_err(FakeError::from)
    }

    fn system_user(&self) -> String {
        format!("ui@{}.test", self.name)
    }

    /// Adds a user: a person and a user account (role `ADMIN`), whose login
    /// and key are accepted by the API.
    pub fn add_user(
        &self,
        login: &str,
        api_key: &str,
        first: &str,
        last: &str,
    ) -> Result<SeededUser, FakeError> {
        self.with(|i, now| i.add_user(login, api_key, first, last, now))
            .map(|(user_account_id, person_id)| SeededUser {
                user_account_id,
                person_id,
            })
    }

    /// Adds a company.
    pub fn add_company(&self, seed: CompanySeed) -> Result<u64, FakeError> {
        let user = self.system_user();
        self.with(|i, now| i.create(Entity::Company, &Value::Object(seed.body), &user, now))
    }

    /// Adds a person.
    pub fn add_person(&self, seed: PersonSeed) -> Result<u64, FakeError> {
        let user = self.system_user();
        self.with(|i, now| i.create(Entity::Person, &Value::Object(seed.body), &user, now))
    }

    /// Adds `n` persons named `Person 0001`, `Person 0002`, …
    pub fn add_persons(&self, n: usize) -> Result<Vec<u64>, FakeError> {
        (1..=n)
            .map(|k| {
                self.add_person(
                    PersonSeed::new(&format!("Person {k:04}"))
                        .first_name("Test")
                        .email(&format!("person{k}@example.test")),
                )
            })
            .collect()
    }

    /// Adds a meeting.
    pub fn add_meeting(&self, seed: ActivitySeed) -> Result<u64, FakeError> {
        let user = self.system_user();
        self.with(|i, now| i.create(Entity::Meeting, &Value::Object(seed.body), &user, now))
    }

    /// Adds an event ("událost").
    pub fn add_event(&self, seed: ActivitySeed) -> Result<u64, FakeError> {
        let user = self.system_user();
        self.with(|i, now| i.create(Entity::Event, &Value::Object(seed.body), &user, now))
    }

    /// Edits a record as a UI user would (partial, bumps stamps and `_version`).
    /// `entity` is the API name: `meeting`, `event`, `person`, `company`.
    pub fn edit(&self, entity_name: &str, id: u64, body: &Value) -> Result<(), FakeError> {
        let e = entity(entity_name)?;
        let user = self.system_user();
        self.with(|i, now| i.update(e, id, body, &user, now))
    }

    /// Deletes a record as a UI user would.
    pub fn remove(&self, entity_name: &str, id: u64) -> Result<(), FakeError> {
        let e = entity(entity_name)?;
        self.with(|i, _| i.delete(e, id))
    }

    /// A record as the detail endpoint would return it (with ISO datetimes).
    pub fn record(&self, entity_name: &str, id: u64) -> Option<Value> {
        let e = entity(entity_name).ok()?;
        self.with(|i, _| Ok(i.row(e, id).map(|r| i.render(e, r, true, true))))
            .ok()
            .flatten()
    }

    /// Ids of every record of an entity.
    pub fn ids(&self, entity_name: &str) -> Vec<u64> {
        entity(entity_name)
            .and_then(|e| self.with(|i, _| Ok(i.ids(e))))
            .unwrap_or_default()
    }

    /// Seeds a small, realistic data set for demos: two users (members)
    /// `jana.novakova@<instance>.test` and `petr.dvorak@<instance>.test` (API
    /// keys `crm-demo-jana`, `crm-demo-petr`), two companies, four contact
    /// persons and, around `day` (instance-local dates), two meetings and two
    /// events of Jana (one of them all-day) and one meeting of Petr.
    pub fn seed_demo(&self, day: NaiveDate) -> Result<DemoSeed, FakeError> {
        let at = |offset_days: i64, hm: &str| {
            format!(
                "{} {hm}",
                (day + chrono::Duration::days(offset_days)).format("%Y-%m-%d")
            )
        };
        let jana = self.add_user(
            &format!("jana.novakova@{}.test", self.name),
            "crm-demo-jana",
            "Jana",
            "Nováková",
        )?;
        let petr = self.add_user(
            &format!("petr.dvorak@{}.test", self.name),
            "crm-demo-petr",
            "Petr",
            "Dvořák",
        )?;
        let acme = self.add_company(
            CompanySeed::new("Acme Stroje a.s.")
                .reg_number("26843820")
                .address("Libušina 4", "Ostrava", "70200", "CZ"),
        )?;
        let brno = self.add_company(CompanySeed::new("Brněnská logistika s.r.o.").address(
            "Kotlářská 12",
            "Brno",
            "60200",
            "CZ",
        ))?;
        let persons = vec![
            self.add_person(
                PersonSeed::new("Svoboda")
                    .first_name("Karel")
                    .title_before("Ing.")
                    .email("karel.svoboda@acme-stroje.cz")
                    .phone("+420 777 123 456", "mobil")
                    .company(acme, "obchodní ředitel")
                    .owner(jana.person_id),
            )?,
            self.add_person(
                PersonSeed::new("Malá")
                    .first_name("Eva")
                    .email("eva.mala@acme-stroje.cz")
                    .phone("+420 596 000 111", "práce")
                    .company(acme, "nákupčí")
                    .owner(jana.person_id),
            )?,
            self.add_person(
                PersonSeed::new("Černý")
                    .first_name("Tomáš")
                    .title_after("Ph.D.")
                    .email("tomas.cerny@brlog.cz")
                    .company(brno, "jednatel")
                    .owner(petr.person_id)
                    .birthday(NaiveDate::from_ymd_opt(1979, 4, 12).unwrap_or_default()),
            )?,
            self.add_person(
                PersonSeed::new("Horáková")
                    .first_name("Lucie")
                    .email("lucie@example.cz")
                    .notice("Soukromý kontakt")
                    .private_address("Dlouhá 1", "Praha", "11000", "CZ"),
            )?,
        ];
        let meetings = vec![
            self.add_meeting(
                ActivitySeed::new("Obchodní jednání – Acme", jana.person_id)
                    .company(acme)
                    .participant(persons[0])
                    .scheduled_local(&at(1, "10:00"), &at(1, "11:30"))
                    .meeting_place("Ostrava, Libušina 4")
                    .description("<p>Cenová nabídka</p><p>&quot;Servis&quot; &amp; školení</p>"),
            )?,
            self.add_meeting(
                ActivitySeed::new("Kontrolní den", jana.person_id)
                    .company(acme)
                    .participant(persons[1])
                    .scheduled_local(&at(-2, "14:00"), &at(-2, "15:00"))
                    .status("COMPLETED"),
            )?,
            self.add_meeting(
                ActivitySeed::new("Logistika – roční plán", petr.person_id)
                    .company(brno)
                    .participant(persons[2])
                    .scheduled_local(&at(3, "09:00"), &at(3, "10:00")),
            )?,
        ];
        let events = vec![
            self.add_event(
                ActivitySeed::new("Veletrh MSV Brno", jana.person_id)
                    .scheduled_local(&at(7, "00:00"), &at(9, "00:00"))
                    .meeting_place("Výstaviště Brno"),
            )?,
            self.add_event(
                ActivitySeed::new("Školení CRM", jana.person_id)
                    .scheduled_local(&at(2, "13:00"), &at(2, "16:00")),
            )?,
        ];
        Ok(DemoSeed {
            jana,
            petr,
            companies: vec![acme, brno],
            persons,
            meetings,
            events,
        })
    }

    /// Sets the daily quota (default 24 000).
    pub fn set_quota(&self, limit: u64) {
        let _ = self.with(|i, _| {
            i.quota = limit;
            Ok(())
        });
    }

    /// Makes inserts of meetings and events accept and drop the `extId` they are sent, as an
    /// instance might (RAYNET documents `extId` in an insert body for companies only).
    pub fn set_insert_drops_ext_id(&self, drops: bool) {
        let _ = self.with(|i, _| {
            i.insert_drops_ext_id = drops;
            Ok(())
        });
    }

    /// Sets how many requests of today's quota are already used.
    pub fn set_quota_used(&self, used: u64) {
        let _ = self.with(|i, _| {
            i.used = used;
            Ok(())
        });
    }

    /// Requests left in today's window.
    pub fn quota_remaining(&self) -> u64 {
        self.with(|i, _| Ok(i.quota.saturating_sub(i.used)))
            .unwrap_or(0)
    }

    /// Sets the instance's (and API user's) time zone.
    pub fn set_time_zone(&self, tz: Tz) {
        let _ = self.with(|i, _| {
            i.tz = tz;
            Ok(())
        });
    }
}

macro_rules! seed_setters {
    ($( $(#[$m:meta])* $fn:ident => $key:literal ),* $(,)?) => {
        $(
            $(#[$m])*
            pub fn $fn(mut self, value: &str) -> Self {
                self.body.insert($key.into(), Value::String(value.to_owned()));
                self
            }
        )*
    };
}

/// Seed data for a person.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct PersonSeed {
    body: Map<String, Value>,
}

impl PersonSeed {
    /// A person with a last name (the only required field).
    pub fn new(last_name: &str) -> Self {
        let mut body = Map::new();
        body.insert("lastName".into(), json!(last_name));
        PersonSeed { body }
    }

    seed_setters! {
        /// First name.
        first_name => "firstName",
        /// Title before the name.
        title_before => "titleBefore",
        /// Title after the name.
        title_after => "titleAfter",
        /// Salutation.
        salutation => "salutation",
        /// Note.
        notice => "notice",
    }

    fn contact(mut self, key: &str, value: &str) -> Self {
        let ci = self.body.entry("contactInfo").or_insert_with(|| json!({}));
        if let Some(m) = ci.as_object_mut() {
            m.insert(key.into(), json!(value));
        }
        self
    }

    /// Primary e-mail.
    pub fn email(self, email: &str) -> Self {
        self.contact("email", email)
    }

    /// Second e-mail.
    pub fn email2(self, email: &str) -> Self {
        self.contact("email2", email)
    }

    /// First phone and its type (e.g. `mobil`).
    pub fn phone(self, tel: &str, kind: &str) -> Self {
        self.contact("tel1", tel).contact("tel1Type", kind)
    }

    /// Second phone and its type.
    pub fn phone2(self, tel: &str, kind: &str) -> Self {
        self.contact("tel2", tel).contact("tel2Type", kind)
    }

    /// Links the person to a company (primary relationship) with a position.
    pub fn company(mut self, company_id: u64, position: &str) -> Self {
        self.body.insert(
            "relationship".into(),
            json!({"company": company_id, "type": position}),
        );
        self
    }

    /// Owner (a user's person id).
    pub fn owner(mut self, person_id: u64) -> Self {
        self.body.insert("owner".into(), json!(person_id));
        self
    }

    /// Birthday.
    pub fn birthday(mut self, date: NaiveDate) -> Self {
        self.body.insert(
            "birthday".into(),
            json!(date.format("%Y-%m-%d").to_string()),
        );
        self
    }

    /// Tags.
    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.body.insert("tags".into(), json!(tags));
        self
    }

    /// Private address.
    pub fn private_address(
        mut self,
        street: &str,
        city: &str,
        zip: &str,
        country_code: &str,
    ) -> Self {
        self.body.insert(
            "privateAddress".into(),
            json!({"street": street, "city": city, "zipCode": zip, "country": country_code, "countryCode": country_code}),
        );
        self
    }

    /// Any other field, in the API's write shape.
    pub fn field(mut self, key: &str, value: Value) -> Self {
        self.body.insert(key.into(), value);
        self
    }
}

/// Seed data for a company.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CompanySeed {
    body: Map<String, Value>,
}

impl CompanySeed {
    /// A company with a name (state/role/rating get defaults).
    pub fn new(name: &str) -> Self {
        let mut body = Map::new();
        body.insert("name".into(), json!(name));
        body.insert("state".into(), json!("B_ACTUAL"));
        body.insert("role".into(), json!("A_SUBSCRIBER"));
        body.insert("rating".into(), json!("A"));
        CompanySeed { body }
    }

    seed_setters! {
        /// Registration number (IČ).
        reg_number => "regNumber",
        /// Note.
        notice => "notice",
    }

    /// Primary address.
    pub fn address(mut self, street: &str, city: &str, zip: &str, country_code: &str) -> Self {
        self.body.insert(
            "primaryAddress".into(),
            json!({"primary": true, "address": {"street": street, "city": city, "zipCode": zip, "country": country_code, "countryCode": country_code}}),
        );
        self
    }

    /// Any other field, in the API's write shape.
    pub fn field(mut self, key: &str, value: Value) -> Self {
        self.body.insert(key.into(), value);
        self
    }
}

/// Seed data for a meeting or an event.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ActivitySeed {
    body: Map<String, Value>,
}

impl ActivitySeed {
    /// An activity with its required fields (priority `DEFAULT`).
    pub fn new(title: &str, owner_person_id: u64) -> Self {
        let mut body = Map::new();
        body.insert("title".into(), json!(title));
        body.insert("priority".into(), json!("DEFAULT"));
        body.insert("owner".into(), json!(owner_person_id));
        ActivitySeed { body }
    }

    /// Start and end with offsets.
    pub fn scheduled(mut self, from: DateTime<FixedOffset>, till: DateTime<FixedOffset>) -> Self {
        self.body
            .insert("scheduledFrom".into(), json!(from.to_rfc3339()));
        self.body
            .insert("scheduledTill".into(), json!(till.to_rfc3339()));
        self
    }

    /// Start and end as naive local `yyyy-MM-dd HH:mm` in the instance's zone.
    pub fn scheduled_local(mut self, from: &str, till: &str) -> Self {
        self.body.insert("scheduledFrom".into(), json!(from));
        self.body.insert("scheduledTill".into(), json!(till));
        self
    }

    seed_setters! {
        /// Description (HTML).
        description => "description",
        /// Location.
        meeting_place => "meetingPlace",
        /// Status (`NEW`, `SCHEDULED`, `COMPLETED`, `CANCELLED`).
        status => "status",
        /// Priority (`MINOR`, `DEFAULT`, `CRITICAL`).
        priority => "priority",
        /// External id.
        ext_id => "extId",
    }

    /// Company in context.
    pub fn company(mut self, company_id: u64) -> Self {
        self.body.insert("company".into(), json!(company_id));
        self
    }

    /// Adds a participating person (role `TO`).
    pub fn participant(mut self, person_id: u64) -> Self {
        let list = self.body.entry("participants").or_insert_with(|| json!([]));
        if let Some(a) = list.as_array_mut() {
            a.push(json!({"person": person_id, "role": "TO"}));
        }
        self
    }

    /// Tags.
    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.body.insert("tags".into(), json!(tags));
        self
    }

    /// Any other field, in the API's write shape.
    pub fn field(mut self, key: &str, value: Value) -> Self {
        self.body.insert(key.into(), value);
        self
    }
}

// ---------------------------------------------------------------------------
// HTTP side

#[derive(Debug)]
enum Route {
    List(Entity),
    One(Entity, String),
    Ext(Entity, String),
    ExtIds(Entity, String),
    ExtIdOne(Entity, String, String),
    Unknown,
}

impl Route {
    fn parse(path: &str) -> Route {
        let Some(rest) = path.strip_prefix("/api/v2/") else {
            return Route::Unknown;
        };
        let segs: Vec<String> = rest
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let Some(e) = segs.first().and_then(|s| Entity::parse(s)) else {
            return Route::Unknown;
        };
        match segs.as_slice() {
            [_] => Route::List(e),
            [_, ext, id] if ext == "ext" => Route::Ext(e, id.clone()),
            [_, id] => Route::One(e, id.clone()),
            [_, id, x] if x == "extId" => Route::ExtIds(e, id.clone()),
            [_, id, x, ext] if x == "extId" => Route::ExtIdOne(e, id.clone(), ext.clone()),
            _ => Route::Unknown,
        }
    }

    fn template(&self, method: &Method, path: &str) -> String {
        match self {
            Route::List(e) => format!("{method} /{}/", e.name()),
            Route::One(e, _) => format!("{method} /{}/{{id}}/", e.name()),
            Route::Ext(e, _) => format!("{method} /{}/ext/{{extId}}/", e.name()),
            Route::ExtIds(e, _) => format!("{method} /{}/{{id}}/extId/", e.name()),
            Route::ExtIdOne(e, _, _) => format!("{method} /{}/{{id}}/extId/{{extId}}", e.name()),
            Route::Unknown => format!("{method} {path}"),
        }
    }
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

type RateHeaders = Option<(u64, u64, i64)>;

fn respond(status: u16, body: Option<Vec<u8>>, rate: RateHeaders) -> Response {
    let mut resp = Response::new(body.map_or_else(Body::empty, Body::from));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    if status != 200 || !h.contains_key(header::CONTENT_TYPE) {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
    }
    if let Some((limit, remaining, reset)) = rate {
        for (name, v) in [
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", remaining.to_string()),
            ("x-ratelimit-reset", reset.to_string()),
        ] {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(name, v);
            }
        }
    }
    resp
}

fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

fn reject(r: &Reject, rate: RateHeaders) -> Response {
    respond(r.status, Some(json_bytes(&r.body)), rate)
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, key) = text.split_once(':')?;
    Some((user.to_owned(), key.to_owned()))
}

struct Admitted {
    instance: String,
    user: String,
    fault: Option<FaultKind>,
}

fn admit(
    shared: &Shared,
    n: usize,
    headers: &HeaderMap,
    template: &str,
) -> Result<Admitted, Box<Response>> {
    let mut w = shared.world();
    let now = w.now();
    if let Some(until) = w.blocked_until {
        if now < until {
            return Err(Box::new(reject(
                &Reject::new(
                    403,
                    "IpBlocked",
                    "Too many failed logins: IP address blocked for 60 minutes",
                ),
                None,
            )));
        }
        w.blocked_until = None;
        w.bad_logins = 0;
    }
    if n > w.concurrency_limit {
        w.concurrency_rejections += 1;
        return Err(Box::new(reject(
            &Reject::new(429, "TooManyRequests", "Too many concurrent connections"),
            None,
        )));
    }
    let instance_name = headers
        .get("x-instance-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let creds = basic_auth(headers);
    let authorised = match (w.instances.get(&instance_name), &creds) {
        (Some(inst), Some((user, key))) => inst
            .users
            .iter()
            .any(|u| &u.login == user && &u.api_key == key),
        _ => false,
    };
    if !authorised {
        w.bad_logins += 1;
        if w.bad_logins > BAD_LOGIN_LIMIT {
            w.blocked_until = Some(now + chrono::Duration::minutes(60));
        }
        return Err(Box::new(reject(
            &Reject::new(
                401,
                "AuthenticationException",
                "Bad credentials or instance name",
            ),
            None,
        )));
    }
    let user = creds.map(|(u, _)| u).unwrap_or_default();
    let Some(inst) = w.instances.get_mut(&instance_name) else {
        return Err(Box::new(reject(
            &Reject::new(401, "AuthenticationException", "Unknown instance"),
            None,
        )));
    };
    if now >= inst.window_reset {
        inst.used = 0;
        inst.window_reset = next_midnight(now);
    }
    if inst.used >= inst.quota {
        let rate = Some((inst.quota, 0, inst.window_reset.timestamp()));
        return Err(Box::new(reject(
            &Reject::new(429, "RequestLimitReached", "Daily request limit reached"),
            rate,
        )));
    }
    inst.used += 1;
    let mut fault = None;
    for f in &mut w.faults {
        if !f.fault.scope.matches(template) {
            continue;
        }
        f.seen += 1;
        if f.seen >= f.fault.nth && f.applied < f.fault.times {
            f.applied += 1;
            fault = Some(f.fault.kind.clone());
            break;
        }
    }
    w.faults.retain(|f| f.applied < f.fault.times);
    Ok(Admitted {
        instance: instance_name,
        user,
        fault,
    })
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut resp = handle_request(&shared, method, uri, headers, body).await;
    // The fake's clock (which `advance_clock` moves), not the host's.
    let now = shared.world().now();
    if let Ok(v) = HeaderValue::from_str(&now.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        resp.headers_mut().insert(header::DATE, v);
    }
    resp
}

/// A body that fails at once: hyper then drops the connection mid-answer.
fn cut_body() -> Body {
    Body::from_stream(futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected interruption"))
    }))
}

async fn handle_request(
    shared: &Arc<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(n, Ordering::SeqCst);
    let _guard = InFlight(&shared.in_flight);
    let route = Route::parse(uri.path());
    let template = route.template(&method, uri.path());
    let latency = {
        let mut w = shared.world();
        *w.counts.entry(template.clone()).or_insert(0) += 1;
        w.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let admitted = match admit(shared, n, &headers, &template) {
        Ok(a) => a,
        Err(resp) => return *resp,
    };
    let mut mangle = None;
    let mut cut = false;
    match admitted.fault {
        Some(FaultKind::InterruptAfterApply) => cut = true,
        Some(FaultKind::Delay(d)) => tokio::time::sleep(d).await,
        Some(FaultKind::Status(code)) => {
            let rate = rate_headers(shared, &admitted.instance);
            let kind = if code >= 500 {
                "InternalServerError"
            } else {
                "BadRequest"
            };
            return reject(&Reject::new(code, kind, "Injected fault"), rate);
        }
        Some(FaultKind::TooManyRequests) => {
            let rate = rate_headers(shared, &admitted.instance);
            return reject(
                &Reject::new(429, "TooManyRequests", "Too many concurrent connections"),
                rate,
            );
        }
        Some(k @ (FaultKind::Truncated | FaultKind::Malformed)) => mangle = Some(k),
        None => {}
    }
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let outcome = {
        let mut w = shared.world();
        let now = w.now();
        match w.instances.get_mut(&admitted.instance) {
            Some(inst) => process(inst, &method, &route, &params, &body, &admitted.user, now),
            None => Err(Reject::new(
                401,
                "AuthenticationException",
                "Unknown instance",
            )),
        }
    };
    let rate = rate_headers(shared, &admitted.instance);
    if cut {
        let mut resp = respond(200, None, rate);
        *resp.body_mut() = cut_body();
        return resp;
    }
    match outcome {
        Err(r) => reject(&r, rate),
        Ok((status, value)) => {
            let mut bytes = value.as_ref().map(json_bytes);
            match mangle {
                Some(FaultKind::Truncated) => {
                    let full = bytes.unwrap_or_else(|| b"{\"success\":true}".to_vec());
                    bytes = Some(full[..full.len() / 2].to_vec());
                }
                Some(FaultKind::Malformed) => {
                    bytes = Some(br#"{"success":true,"totalCount":1,"data":[{"id":"not-a-number","title":42}]}"#.to_vec());
                }
                _ => {}
            }
            respond(status, bytes, rate)
        }
    }
}

fn rate_headers(shared: &Shared, instance: &str) -> RateHeaders {
    let w = shared.world();
    w.instances.get(instance).map(|i| {
        (
            i.quota,
            i.quota.saturating_sub(i.used),
            i.window_reset.timestamp(),
        )
    })
}

fn parse_id(e: Entity, raw: &str) -> Result<u64, Reject> {
    raw.parse().map_err(|_| {
        Reject::new(
            404,
            "EntityNotFoundException",
            format!("Entity {} [{raw}] not found", e.name()),
        )
    })
}

fn parse_body(body: &[u8]) -> Result<Value, Reject> {
    serde_json::from_slice(body).map_err(|e| Reject::bad_request(format!("Malformed JSON: {e}")))
}

fn process(
    inst: &mut Instance,
    method: &Method,
    route: &Route,
    params: &[(String, String)],
    body: &[u8],
    user: &str,
    now: DateTime<Utc>,
) -> store::Outcome {
    let iso = params
        .iter()
        .any(|(k, v)| k == "dateFormat" && v == "ISO8601");
    let detail = |inst: &Instance, e: Entity, id: u64| -> store::Outcome {
        let row = inst.row(e, id).ok_or_else(|| {
            Reject::new(
                404,
                "EntityNotFoundException",
                format!("Entity {} [{id}] not found", e.name()),
            )
        })?;
        Ok((
            200,
            Some(json!({"success": "true", "data": inst.render(e, row, iso, true)})),
        ))
    };
    match (method.as_str(), route) {
        ("GET", Route::List(e)) => {
            let (total, rows) = inst.list(*e, params)?;
            Ok((
                200,
                Some(json!({"success": true, "totalCount": total, "data": rows})),
            ))
        }
        ("PUT", Route::List(e)) if *e != Entity::UserAccount => {
            let v = parse_body(body)?;
            let id = inst.create(*e, &v, user, now)?;
            Ok((201, Some(json!({"success": true, "data": {"id": id}}))))
        }
        ("GET", Route::One(e, id)) => detail(inst, *e, parse_id(*e, id)?),
        ("POST", Route::One(e, id)) if *e != Entity::UserAccount => {
            let id = parse_id(*e, id)?;
            let v = parse_body(body)?;
            inst.update(*e, id, &v, user, now)?;
            if matches!(e, Entity::Meeting | Entity::Event) {
                Ok((200, Some(json!({"success": true}))))
            } else {
                Ok((200, None))
            }
        }
        ("DELETE", Route::One(e, id)) if *e != Entity::UserAccount => {
            inst.delete(*e, parse_id(*e, id)?)?;
            Ok((200, None))
        }
        ("GET", Route::Ext(e, ext)) => {
            let id = inst.find_ext(*e, ext).ok_or_else(|| {
                Reject::new(
                    404,
                    "EntityNotFoundException",
                    format!("Entity {} with extId [{ext}] not found", e.name()),
                )
            })?;
            detail(inst, *e, id)
        }
        ("PUT", Route::ExtIds(e, id)) => {
            let id = parse_id(*e, id)?;
            let v = parse_body(body)?;
            inst.add_ext(*e, id, &v, user, now)?;
            Ok((200, Some(json!({"success": "true"}))))
        }
        ("DELETE", Route::ExtIdOne(e, id, ext)) => {
            inst.remove_ext(*e, parse_id(*e, id)?, ext, user, now)?;
            Ok((200, None))
        }
        (_, Route::Unknown) => Err(Reject::new(404, "NotFound", "No such route")),
        _ => Err(Reject::new(
            405,
            "MethodNotAllowed",
            format!("Method {method} not allowed here"),
        )),
    }
}
