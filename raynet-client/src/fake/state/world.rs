//! [`World`]: everything one fake holds — its instances, the bad logins and
//! the IP block, the request counters, the pending faults, the clock offset,
//! the limits and the webhook deliveries — behind one lock in [`Shared`], with the in-flight counters.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::instance::Instance;
use crate::fake::fault::ActiveFault;
use crate::fake::push_settings::{Delivery, PushSettings};

/// The state of one fake server.
pub(crate) struct World {
    pub(crate) instances: BTreeMap<String, Instance>,
    pub(crate) bad_logins: u32,
    pub(crate) blocked_until: Option<DateTime<Utc>>,
    pub(crate) counts: BTreeMap<String, u64>,
    pub(crate) faults: Vec<ActiveFault>,
    pub(crate) clock_offset: chrono::Duration,
    pub(crate) concurrency_limit: usize,
    pub(crate) latency: Duration,
    pub(crate) concurrency_rejections: u64,
    /// How webhook events are delivered.
    pub(crate) push: PushSettings,
    /// Every delivery attempt, oldest first.
    pub(crate) deliveries: Vec<Delivery>,
}

impl World {
    /// The fake's clock: real time plus the shifts of `advance_clock`.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.clock_offset
    }
}

/// What the server and the handles share.
pub(crate) struct Shared {
    pub(crate) world: Mutex<World>,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: AtomicUsize,
    /// Wakes the webhook delivery loop (an event was queued or delivered).
    pub(crate) push_wake: tokio::sync::Notify,
}

impl Shared {
    /// Locks the world (a panicked holder does not poison it for the others).
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
