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
//! **Webhooks.** `/webhook/` (list, register, remove, technical contacts) is
//! served, and every change to a meeting, event, person or company — through
//! the API (`source: {name: "api", description: <the API key's name>}`, see
//! [`DEFAULT_API_KEY_NAME`]) or through [`FakeInstance`]'s seeding and editing
//! (`source: {name: "user", description: "browser"}`) — is POSTed as a
//! `record.created` / `record.updated` / `record.deleted` event to every
//! webhook that takes its type, with the header `X-RAYNETCRM-Token`. Each
//! webhook has its queue, delivered in order at the pace of [`PushSettings`]
//! (fast by default; [`PushSettings::documented`] for 2 events/s) and retried
//! while the receiver fails; a webhook failing for 7 days on the fake's clock
//! is removed. Adding or removing an extId through the API is a
//! `record.updated` (the fake's choice; RAYNET's behaviour there is not
//! documented). **Only loopback URLs (127.0.0.0/8, `::1`, `localhost`) are
//! accepted** (any other answers 400): the fake must never send traffic off
//! this machine. Deliveries run as tokio tasks owned by the fake and stop when
//! it is dropped. See [`FakeRaynet::deliveries`],
//! [`FakeRaynet::webhook_queue_len`], [`FakeRaynet::set_push_settings`].
//!
//! | File | Holds |
//! |---|---|
//! | `mod.rs` | [`FakeRaynet`]: start, clients, counters, clock, faults |
//! | `instance.rs` | [`FakeInstance`]: seeding and inspection of one instance |
//! | `seed.rs` | the seed builders [`PersonSeed`], [`CompanySeed`], [`ActivitySeed`] |
//! | `fault.rs` | [`Fault`], [`FaultKind`] |
//! | `push.rs` | webhook delivery: the task that POSTs queued events, retries, removes failing webhooks |
//! | `push_settings.rs` | [`PushSettings`] (the pace of deliveries), [`Delivery`] (one attempt) |
//! | `defaults.rs` | [`DEFAULT_INSTANCE`], [`DEFAULT_USER`], [`DEFAULT_API_KEY`] and the limits |
//! | `error.rs` | [`FakeError`] |
//! | `state/` | the state and the API's semantics: records, writes, extIds, listing (no I/O) |
//! | `server/` | the HTTP side: admission, faults, one file per resource |
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

mod defaults;
mod error;
mod fault;
mod instance;
mod push;
mod push_settings;
mod seed;
mod server;
mod state;

pub use defaults::{
    BAD_LOGIN_LIMIT, DEFAULT_API_KEY, DEFAULT_API_KEY_NAME, DEFAULT_CONCURRENCY_LIMIT,
    DEFAULT_INSTANCE, DEFAULT_USER,
};
pub use error::FakeError;
pub use fault::{Fault, FaultKind};
pub use instance::{FakeInstance, SeededUser};
pub use push_settings::{Delivery, PushSettings};
pub use seed::{ActivitySeed, CompanySeed, PersonSeed};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use self::fault::ActiveFault;
use self::state::{Instance, Shared, World};
use crate::client::transport::RetryConfig;
use crate::client::{Client, ClientBuilder};

/// A running fake RAYNET server. Shut down when dropped.
pub struct FakeRaynet {
    base_url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    /// The webhook delivery loop (aborted on drop, with its deliveries).
    push: Option<JoinHandle<()>>,
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
        if let Some(push) = self.push.take() {
            push.abort();
        }
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
            push: PushSettings::default(),
            deliveries: Vec::new(),
        };
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            push_wake: tokio::sync::Notify::new(),
        });
        let push = push::spawn(Arc::clone(&shared));
        let app = server::router(Arc::clone(&shared));
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
            push: Some(push),
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
    /// timings ([`RetryConfig::fast`]).
    pub fn client_builder(&self) -> ClientBuilder {
        Client::builder()
            .base_url(self.base_url.clone())
            .instance(DEFAULT_INSTANCE)
            .credentials(DEFAULT_USER, DEFAULT_API_KEY)
            .retry(RetryConfig::fast())
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
            shared: &self.shared,
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
        self.shared.world().faults.push(ActiveFault::new(fault));
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

    /// Sets how webhook events are delivered (default [`PushSettings::fast`]).
    pub fn set_push_settings(&self, settings: PushSettings) {
        self.shared.world().push = settings;
        self.shared.push_wake.notify_one();
    }

    /// Every webhook delivery attempt so far, oldest first (failed ones too).
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.world().deliveries.clone()
    }

    /// The events delivered successfully so far, oldest first.
    pub fn delivered_events(&self) -> Vec<serde_json::Value> {
        self.shared
            .world()
            .deliveries
            .iter()
            .filter(|d| d.succeeded())
            .map(|d| d.event.clone())
            .collect()
    }

    /// Webhook events queued and not delivered yet, over every instance and
    /// webhook (an event being delivered counts until it succeeds).
    pub fn webhook_queue_len(&self) -> usize {
        self.shared
            .world()
            .instances
            .values()
            .flat_map(|i| &i.hooks.list)
            .map(|h| h.queue.len())
            .sum()
    }
}
