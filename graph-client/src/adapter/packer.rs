//! [`BatchPacker`]: the batched writes of all the sides of a tenant, packed into full `$batch`
//! requests across mailboxes.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use super::batch_send::{BatchFailure, BatchOutcome, WriteKind, send_chunk};
use crate::client::models::BatchRequest;
use crate::client::{Client, MAX_BATCH_REQUESTS};

/// How long a partly filled batch waits for other callers' writes by default.
const DEFAULT_LINGER: Duration = Duration::from_millis(20);

/// Packs the batched writes ([`sync_core::WriteSide::create_many`] and
/// [`sync_core::WriteSide::update_many`]) of every [`super::GraphCalendar`] and
/// [`super::GraphContacts`] of one tenant into full `$batch` requests of 20, whatever mailbox
/// each write is for. Graph evaluates each sub-request of a batch against its own mailbox's
/// limits, so a batch may mix mailboxes: 50 members with 50 changed contacts each take 125
/// batches instead of 150 (20 + 20 + 10 each).
///
/// Cheap to clone (the queue is shared): make one per tenant, over the tenant's [`Client`],
/// and give a clone to each side (`with_packer`). A side whose client is not the packer's
/// (not a clone of it) writes without it, as if it had none.
///
/// There is no background task: the callers drive the packer. A caller queues its
/// sub-requests, then, until each of its writes is answered: sends 20 queued writes (oldest
/// first) as one batch when 20 are queued; else sends what is queued once the oldest queued
/// write has waited [`BatchPacker::linger`]; else waits for more writes, for answers, or for
/// that deadline. A batch sent by one caller may carry others' writes: each owner gets its
/// answers from the sender, in order. **The trade-off**: a partly filled batch waits at most
/// the linger (default 20 ms) for other callers' writes before it goes; a longer linger packs
/// fuller batches when callers arrive spread out, a shorter one answers a lone caller sooner.
///
/// Every write gets what it would get without a packer: its sub-answer classified as before
/// (updates answered 500, 502, 503 or 504 sent again by the batch's sender, a sub-request
/// answered 429 retried alone by [`Client::batch`]). Creates without a `transactionId`
/// (contacts) are never packed with writes that are safe to repeat (updates, event creates):
/// the transport sends a `$batch` again only when all of it is safe to repeat, so such a
/// create must not take that away from the others.
///
/// Cancellation: a caller dropped before its writes were sent takes them out of the queue (they
/// are never sent). A caller dropped while it sends a batch fails every write of that batch it
/// had not answered yet with [`sync_core::ErrorKind::Interrupted`] (a create "may exist"),
/// so no owner waits forever. A caller that stops polling its write without dropping it holds
/// up the owners of a batch it is sending: poll the rounds together (`join`, a
/// `FuturesUnordered`), as the runner does.
///
/// ```no_run
/// # async fn demo(client: graph_client::Client) {
/// use graph_client::adapter::{BatchPacker, GraphCalendar, GraphContacts};
/// let packer = BatchPacker::new(client.clone()).with_linger(std::time::Duration::from_millis(30));
/// let calendar = GraphCalendar::new(client.clone(), "user-1").with_packer(packer.clone());
/// let contacts = GraphContacts::new(client, "user-2", "Raynet").with_packer(packer);
/// // Both sides' create_many / update_many now share full batches.
/// # }
/// ```
#[derive(Clone)]
pub struct BatchPacker {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    linger: Duration,
    queue: Mutex<Queue>,
    /// Woken when writes are queued and when a batch's answers are delivered (or its sender
    /// is dropped).
    changed: Notify,
}

#[derive(Default)]
struct Queue {
    /// Writes not sent yet, oldest first.
    entries: VecDeque<Entry>,
    next_owner: u64,
}

/// One queued write.
struct Entry {
    /// The caller that queued it.
    owner: u64,
    /// Whether it may be sent twice ([`crate::client::retry_safe`]): a batch holds writes of
    /// one kind of safety only.
    safe: bool,
    queued: Instant,
    request: BatchRequest,
    kind: WriteKind,
    answer: oneshot::Sender<BatchOutcome>,
}

/// What a caller does next.
enum Step {
    /// Send these writes as one batch.
    Send(Vec<Entry>),
    /// Wait for a change, or until the deadline (when one is set).
    Wait(Option<Instant>),
}

impl Queue {
    /// The next batch to send now, or how long to wait: 20 writes of one safety when there
    /// are (the class of the oldest write first), else every write of the oldest write's
    /// safety (at most 20) once it has waited `linger`.
    fn next_step(&mut self, now: Instant, linger: Duration) -> Step {
        let Some(oldest) = self.entries.front() else {
            return Step::Wait(None);
        };
        let (oldest_safe, due) = (oldest.safe, oldest.queued + linger);
        let safe = self.entries.iter().filter(|e| e.safe).count();
        let full = |class: bool| {
            let n = if class {
                safe
            } else {
                self.entries.len() - safe
            };
            n >= MAX_BATCH_REQUESTS
        };
        let class = if full(oldest_safe) {
            oldest_safe
        } else if full(!oldest_safe) {
            !oldest_safe
        } else if due <= now {
            oldest_safe
        } else {
            return Step::Wait(Some(due));
        };
        Step::Send(self.take(class))
    }

    /// The oldest writes of one safety (at most 20), taken out of the queue.
    fn take(&mut self, safe: bool) -> Vec<Entry> {
        let mut taken = Vec::with_capacity(MAX_BATCH_REQUESTS);
        let mut kept = VecDeque::with_capacity(self.entries.len());
        for entry in self.entries.drain(..) {
            if entry.safe == safe && taken.len() < MAX_BATCH_REQUESTS {
                taken.push(entry);
            } else {
                kept.push_back(entry);
            }
        }
        self.entries = kept;
        taken
    }
}

/// A caller's answer: still to come, or in.
enum Slot {
    Waiting(oneshot::Receiver<BatchOutcome>, WriteKind),
    Done(BatchOutcome),
}

impl Slot {
    /// Takes the answer if it has come (a sender gone without one fails the write).
    fn poll_answer(&mut self) -> bool {
        let Self::Waiting(receiver, kind) = self else {
            return true;
        };
        let outcome = match receiver.try_recv() {
            Ok(outcome) => outcome,
            Err(oneshot::error::TryRecvError::Empty) => return false,
            Err(oneshot::error::TryRecvError::Closed) => Err(BatchFailure::abandoned(*kind)),
        };
        *self = Self::Done(outcome);
        true
    }

    fn into_outcome(self) -> BatchOutcome {
        match self {
            Self::Done(outcome) => outcome,
            Self::Waiting(_, kind) => Err(BatchFailure::abandoned(kind)),
        }
    }
}

/// Takes a caller's writes that are still queued out of the queue when the caller is done or
/// dropped.
struct Withdraw<'a> {
    inner: &'a Inner,
    owner: u64,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        let owner = self.owner;
        let removed = {
            let mut queue = self.inner.lock();
            let before = queue.entries.len();
            queue.entries.retain(|e| e.owner != owner);
            before - queue.entries.len()
        };
        if removed > 0 {
            tracing::debug!(
                removed,
                "a dropped caller's writes were taken out of the queue"
            );
        }
    }
}

/// The answers a batch's sender owes its owners: on drop (sent, or the sender dropped
/// mid-send) every answer not delivered is a failure, and the waiting callers are woken.
struct InFlight<'a> {
    inner: &'a Inner,
    owed: Vec<Option<(WriteKind, oneshot::Sender<BatchOutcome>)>>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        for (kind, answer) in self.owed.iter_mut().filter_map(Option::take) {
            // An owner that is gone wants no answer.
            if answer.send(Err(BatchFailure::abandoned(kind))).is_err() {
                tracing::trace!("the owner of an abandoned write is gone");
            }
        }
        self.inner.changed.notify_waiters();
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `batch` (one `$batch`, with its retries) and delivers each answer to its owner.
    async fn send(&self, batch: Vec<Entry>) {
        let mut requests = Vec::with_capacity(batch.len());
        let mut flight = InFlight {
            inner: self,
            owed: Vec::with_capacity(batch.len()),
        };
        for entry in batch {
            requests.push((entry.request, entry.kind));
            flight.owed.push(Some((entry.kind, entry.answer)));
        }
        tracing::debug!(writes = requests.len(), "sending a packed batch");
        let outcomes = send_chunk(&self.client, requests).await;
        for (owed, outcome) in flight.owed.iter_mut().zip(outcomes) {
            if let Some((_, answer)) = owed.take() {
                if answer.send(outcome).is_err() {
                    tracing::trace!("the owner of a write is gone: its answer is dropped");
                }
            }
        }
        // Dropping `flight` wakes the owners.
    }
}

impl std::fmt::Debug for BatchPacker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchPacker")
            .field("linger", &self.inner.linger)
            .field("queued", &self.queued())
            .finish_non_exhaustive()
    }
}

impl BatchPacker {
    /// A packer sending with `client` (the tenant's: give the sides clones of the same client),
    /// with the default linger of 20 ms.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self::build(client, DEFAULT_LINGER)
    }

    fn build(client: Client, linger: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                linger,
                queue: Mutex::new(Queue::default()),
                changed: Notify::new(),
            }),
        }
    }

    /// The same packer with another linger: how long a partly filled batch waits for other
    /// callers' writes before it is sent. Call it before sharing the packer: the packer
    /// returned has a queue of its own (clones made before do not see the new linger).
    #[must_use]
    pub fn with_linger(self, linger: Duration) -> Self {
        Self::build(self.inner.client.clone(), linger)
    }

    /// How long a partly filled batch waits for other callers' writes.
    #[must_use]
    pub fn linger(&self) -> Duration {
        self.inner.linger
    }

    /// Writes queued and not sent yet (not those in flight).
    #[must_use]
    pub fn queued(&self) -> usize {
        self.inner.lock().entries.len()
    }

    /// Whether the packer sends with `client` (a clone of its own client).
    pub(crate) fn serves(&self, client: &Client) -> bool {
        self.inner.client.is(client)
    }

    /// Sends `requests` (all of one `kind`) packed with other callers' writes; one outcome
    /// per request, in order, as [`send_chunk`] gives it.
    pub(crate) async fn send(
        &self,
        requests: Vec<BatchRequest>,
        kind: WriteKind,
    ) -> Vec<BatchOutcome> {
        if requests.is_empty() {
            return Vec::new();
        }
        let inner = &*self.inner;
        let mut slots = Vec::with_capacity(requests.len());
        let owner = {
            let mut queue = inner.lock();
            let owner = queue.next_owner;
            queue.next_owner = queue.next_owner.wrapping_add(1);
            let now = Instant::now();
            for request in requests {
                let (answer, receiver) = oneshot::channel();
                queue.entries.push_back(Entry {
                    owner,
                    safe: crate::client::retry_safe(&request),
                    queued: now,
                    request,
                    kind,
                    answer,
                });
                slots.push(Slot::Waiting(receiver, kind));
            }
            owner
        };
        let _withdraw = Withdraw { inner, owner };
        // Others waiting may now have a full batch.
        inner.changed.notify_waiters();
        loop {
            // Registered before looking, so that no change between the look and the wait is
            // missed.
            let changed = inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let mut all_in = true;
            for slot in &mut slots {
                all_in &= slot.poll_answer();
            }
            if all_in {
                break;
            }
            let step = inner.lock().next_step(Instant::now(), inner.linger);
            match step {
                Step::Send(batch) => inner.send(batch).await,
                Step::Wait(Some(deadline)) => {
                    tokio::select! {
                        () = &mut changed => {}
                        () = tokio::time::sleep_until(deadline) => {}
                    }
                }
                // Nothing queued: this caller's writes are in flight with another caller,
                // which answers (or fails) them and wakes us.
                Step::Wait(None) => changed.await,
            }
        }
        slots.into_iter().map(Slot::into_outcome).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(owner: u64, safe: bool, queued: Instant) -> (Entry, oneshot::Receiver<BatchOutcome>) {
        let (answer, receiver) = oneshot::channel();
        (
            Entry {
                owner,
                safe,
                queued,
                request: BatchRequest::new("", "PATCH", "/users/u/contacts/c"),
                kind: WriteKind::Update,
                answer,
            },
            receiver,
        )
    }

    fn queue(entries: impl IntoIterator<Item = (u64, bool)>, at: Instant) -> Queue {
        let mut q = Queue::default();
        for (owner, safe) in entries {
            q.entries.push_back(entry(owner, safe, at).0);
        }
        q
    }

    fn owners(step: Step) -> Option<Vec<u64>> {
        match step {
            Step::Send(batch) => Some(batch.into_iter().map(|e| e.owner).collect()),
            Step::Wait(_) => None,
        }
    }

    #[test]
    fn a_full_batch_goes_at_once_oldest_first() {
        let now = Instant::now();
        let linger = Duration::from_secs(60);
        let mut q = queue((0..25).map(|i| (i / 10, true)), now);
        let sent = owners(q.next_step(now, linger)).expect("a full batch");
        assert_eq!(sent, [vec![0; 10], vec![1; 10]].concat());
        assert_eq!(q.entries.len(), 5);
        assert!(matches!(q.next_step(now, linger), Step::Wait(Some(d)) if d == now + linger));
        // Due: what is left goes, partly filled.
        assert_eq!(owners(q.next_step(now + linger, linger)), Some(vec![2; 5]));
        assert!(matches!(q.next_step(now, linger), Step::Wait(None)));
    }

    #[test]
    fn writes_unsafe_to_repeat_travel_apart() {
        let now = Instant::now();
        let linger = Duration::from_secs(60);
        // Owner 0: 5 contact creates (unsafe), owner 1: 20 updates (safe).
        let mut q = queue(
            std::iter::repeat_n((0, false), 5).chain(std::iter::repeat_n((1, true), 20)),
            now,
        );
        assert_eq!(owners(q.next_step(now, linger)), Some(vec![1; 20]));
        assert!(matches!(q.next_step(now, linger), Step::Wait(Some(_))));
        let mut q = queue([(0, false), (1, true), (2, false)], now);
        assert_eq!(owners(q.next_step(now + linger, linger)), Some(vec![0, 2]));
        assert_eq!(owners(q.next_step(now + linger, linger)), Some(vec![1]));
    }

    #[tokio::test]
    async fn a_dropped_sender_fails_what_it_owed() {
        let client = Client::builder()
            .credentials("t", "a", "s")
            .graph_base_url("http://127.0.0.1:9/v1.0")
            .build()
            .expect("client");
        let packer = BatchPacker::new(client);
        let (create, mut created) = oneshot::channel();
        let (update, mut updated) = oneshot::channel();
        drop(InFlight {
            inner: &packer.inner,
            owed: vec![
                Some((WriteKind::Create, create)),
                Some((WriteKind::Update, update)),
            ],
        });
        let create = created.try_recv().expect("answered").expect_err("failed");
        assert_eq!(create.kind, sync_core::ErrorKind::Interrupted);
        assert!(create.lost, "a create may exist");
        let update = updated.try_recv().expect("answered").expect_err("failed");
        assert_eq!(update.kind, sync_core::ErrorKind::Interrupted);
        assert!(!update.lost);
        // An owner gone is no panic.
        let (gone, receiver) = oneshot::channel();
        drop(receiver);
        drop(InFlight {
            inner: &packer.inner,
            owed: vec![Some((WriteKind::Create, gone))],
        });
    }
}
