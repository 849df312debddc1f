//! Random histories of user edits, faults and crashes, replayed against any two calendar
//! sides, with the invariant checks of DESIGN §3.
//!
//! The same histories run against the in-memory sides (sync-core's property tests) and against
//! the adapters talking to the fake servers (the client crates' tests): implement [`UserSide`]
//! for a fake (what a user does directly in Raynet or Outlook), hand both sides to a
//! [`HistoryRun`], and call [`HistoryRun::run`]. With `HISTORY_TRACE` set in the environment,
//! every round's report (and the state after each faulty round) is printed to standard error.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};

use crate::event::{
    ActivityKind, Attendee, Event, EventProfile, EventStatus, Response, Schedule, Sensitivity,
};
use crate::ids::{RemoteId, Scope, Side};
use crate::item::SyncItem;
use crate::policy::{Member, Policy};
use crate::provider::WriteSide;
use crate::runner::{RoundReport, Runner};
use crate::state::MemoryStore;

use super::memory::{Faults, MemorySide};

/// A fault injected into one side for one round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SideFault {
    /// The next read fails.
    FailingRead,
    /// The next read lists only part of the items and says so.
    PartialRead,
    /// The next `n` writes fail without landing.
    FailingWrites(u32),
    /// The next write lands but reports an interruption.
    InterruptedWrite,
}

/// What a test does to one side directly, as a user would (not through the engine).
pub trait UserSide: Send + Sync {
    /// Creates an item; returns its id.
    fn user_create(&self, item: Event) -> RemoteId;
    /// Edits an item in place; returns whether it existed.
    fn user_edit(&self, id: &RemoteId, edit: &mut dyn FnMut(&mut Event)) -> bool;
    /// Deletes an item; returns whether it existed.
    fn user_delete(&self, id: &RemoteId) -> bool;
    /// Every item with its id, as the side holds it now.
    fn user_list(&self) -> Vec<(RemoteId, Event)>;
    /// Injects a fault for the next round; returns `false` when the side cannot (the round
    /// then runs without it).
    fn inject(&self, _fault: SideFault) -> bool {
        false
    }
    /// Clears every injected fault.
    fn heal(&self) {}
}

impl UserSide for MemorySide<Event> {
    fn user_create(&self, item: Event) -> RemoteId {
        self.insert(item)
    }

    fn user_edit(&self, id: &RemoteId, edit: &mut dyn FnMut(&mut Event)) -> bool {
        self.edit(id, |e| edit(e))
    }

    fn user_delete(&self, id: &RemoteId) -> bool {
        self.remove(id)
    }

    fn user_list(&self) -> Vec<(RemoteId, Event)> {
        self.entries()
    }

    fn inject(&self, fault: SideFault) -> bool {
        let f = match fault {
            SideFault::FailingRead => Faults {
                failing_reads: 1,
                ..Faults::default()
            },
            SideFault::PartialRead => Faults {
                partial_reads: 1,
                ..Faults::default()
            },
            SideFault::FailingWrites(n) => Faults {
                failing_writes: n,
                ..Faults::default()
            },
            SideFault::InterruptedWrite => Faults {
                interrupted_writes: 1,
                ..Faults::default()
            },
        };
        self.set_faults(f);
        true
    }

    fn heal(&self) {
        self.set_faults(Faults::default());
    }
}

/// A field edit a user makes on one side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserEdit {
    /// A new title (the item's tag is kept as its first word).
    Title(u8),
    /// A new multi-line description (with stray white space to normalize).
    Description(u8),
    /// A new place.
    Location(u8),
    /// Moved to start this many hours after the history's start.
    Move(i64),
    /// Made an all-day event this many days after the history's start.
    AllDay(i64),
    /// Made private or public.
    Private(bool),
    /// A new attendee list (0 to 2 external guests).
    Attendees(u8),
    /// A new category (Outlook only).
    Categories(u8),
    /// A new status (Raynet may complete; either side may cancel).
    Status(u8),
}

/// Which edits a history may make (a side that cannot hold something round-trip-exactly
/// leaves it out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EditKinds {
    /// Allow all-day events.
    pub all_day: bool,
    /// Allow privacy changes.
    pub private: bool,
    /// Allow attendee changes.
    pub attendees: bool,
    /// Allow category changes.
    pub categories: bool,
    /// Allow status changes.
    pub status: bool,
}

impl EditKinds {
    /// Every kind of edit.
    #[must_use]
    pub fn all() -> Self {
        Self {
            all_day: true,
            private: true,
            attendees: true,
            categories: true,
            status: true,
        }
    }
}

impl UserEdit {
    /// The field the edit touches.
    #[must_use]
    pub fn field(&self) -> &'static str {
        match self {
            Self::Title(_) => "title",
            Self::Description(_) => "description",
            Self::Location(_) => "location",
            Self::Move(_) | Self::AllDay(_) => "schedule",
            Self::Private(_) => "sensitivity",
            Self::Attendees(_) => "attendees",
            Self::Categories(_) => "categories",
            Self::Status(_) => "status",
        }
    }

    /// Applies the edit, made on `side`, to `e`; `start` is the history's start.
    pub fn apply(&self, e: &mut Event, side: Side, start: DateTime<Utc>) {
        let tag = e.title.split(' ').next().unwrap_or_default().to_owned();
        match self {
            Self::Title(n) => e.title = format!("{tag} {side}{n}"),
            Self::Description(n) => e.description = format!("line {n}\r\n\r\n\r\n{side} text  "),
            Self::Location(n) => e.location = format!(" room  {n} "),
            Self::Move(h) => e.schedule = hour_slot(start, *h),
            Self::AllDay(d) => {
                let day = (start + Duration::days(*d)).date_naive();
                if let Some(next) = day.succ_opt() {
                    e.schedule = Schedule::AllDay {
                        start: day,
                        end: next,
                    };
                }
            }
            Self::Private(p) => {
                e.sensitivity = if *p {
                    Sensitivity::Private
                } else {
                    Sensitivity::Normal
                };
            }
            Self::Attendees(n) => {
                e.attendees = (0..(n % 3))
                    .filter_map(|i| {
                        let email = format!("A{}@Customer.example", (n + i) % 5).parse().ok()?;
                        Some(Attendee {
                            email,
                            name: format!("Guest {i}"),
                            response: Response::None,
                        })
                    })
                    .collect();
            }
            Self::Categories(n) => e.categories = vec![format!("c{n}")],
            Self::Status(n) => {
                e.status = match (side, n % 3) {
                    (Side::Raynet, 0) => EventStatus::Completed,
                    (_, 1) => EventStatus::Cancelled,
                    _ => EventStatus::Scheduled,
                };
            }
        }
    }
}

/// A one-hour slot starting `h` hours after `start`.
#[must_use]
pub fn hour_slot(start: DateTime<Utc>, h: i64) -> Schedule {
    let s = start + Duration::hours(h);
    Schedule::Timed {
        start: s,
        end: s + Duration::hours(1),
    }
}

/// One fault for one round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoundFault {
    /// A clean round.
    None,
    /// A fault on one side.
    Side(Side, SideFault),
    /// The state store refuses every write after the next `n` (a crash).
    StoreCrashAfter(u64),
}

/// One step of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// A user creates an item on a side, this many hours after the start.
    Create(Side, i64),
    /// A user edits the n-th item (modulo the count) on a side.
    Edit(Side, usize, UserEdit),
    /// A user deletes the n-th item (modulo the count) on a side.
    Delete(Side, usize),
    /// A sync round, with a fault.
    Round(RoundFault),
}

/// Two sides, what users do to them, a store and the rules: everything a history needs.
pub struct HistoryRun<'a> {
    /// The engine's Raynet side.
    pub raynet: &'a dyn WriteSide<Event>,
    /// The engine's Outlook side.
    pub outlook: &'a dyn WriteSide<Event>,
    /// A user's hands on Raynet.
    pub raynet_user: &'a dyn UserSide,
    /// A user's hands on Outlook.
    pub outlook_user: &'a dyn UserSide,
    /// The state store.
    pub store: &'a MemoryStore<Event>,
    /// The rules.
    pub policy: Policy,
    /// Whose calendar.
    pub member: Member,
    /// The scope.
    pub scope: Scope,
    /// The rounds' clock (items are created relative to it).
    pub now: DateTime<Utc>,
}

/// Why a history broke an invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Violation {}

/// What both sides hold in common of an event: the form in which the two sides are compared.
#[must_use]
pub fn common(e: &Event) -> Event {
    let mut c = e
        .project(&EventProfile::raynet())
        .item
        .project(&EventProfile::outlook())
        .item;
    c.kind = None;
    c
}

impl HistoryRun<'_> {
    fn user(&self, side: Side) -> &dyn UserSide {
        match side {
            Side::Raynet => self.raynet_user,
            Side::Outlook => self.outlook_user,
        }
    }

    fn pick(&self, side: Side, n: usize) -> Option<RemoteId> {
        let mut ids: Vec<RemoteId> = self
            .user(side)
            .user_list()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        (!ids.is_empty()).then(|| ids[n % ids.len()].clone())
    }

    /// One round.
    ///
    /// # Errors
    /// The store's error, when it fails (a simulated crash).
    pub async fn round(&self) -> Result<RoundReport, crate::error::SyncError> {
        Runner::new(self.scope.clone(), self.policy.clone())
            .sync_calendar(
                self.raynet,
                self.outlook,
                self.store,
                &self.member,
                self.now,
            )
            .await
    }

    /// Applies one step; `tag` numbers the items created.
    pub async fn apply(&self, op: &Op, tag: &mut u32) {
        match op {
            Op::Create(side, h) => {
                *tag += 1;
                let mut e = Event::new(format!("t{tag}"), hour_slot(self.now, *h));
                if *side == Side::Raynet {
                    e.kind = Some(ActivityKind::Meeting);
                }
                self.user(*side).user_create(e);
            }
            Op::Edit(side, n, edit) => {
                if let Some(id) = self.pick(*side, *n) {
                    let now = self.now;
                    self.user(*side)
                        .user_edit(&id, &mut |e| edit.apply(e, *side, now));
                }
            }
            Op::Delete(side, n) => {
                if let Some(id) = self.pick(*side, *n) {
                    self.user(*side).user_delete(&id);
                }
            }
            Op::Round(fault) => {
                match fault {
                    RoundFault::None => {}
                    RoundFault::Side(side, f) => {
                        self.user(*side).inject(*f);
                    }
                    RoundFault::StoreCrashAfter(n) => self.store.fail_after_writes(Some(*n)),
                }
                let r = self.round().await;
                if std::env::var_os("HISTORY_TRACE").is_some() {
                    match &r {
                        Ok(r) => eprintln!("TRACE round {fault:?}:\n{r}"),
                        Err(e) => eprintln!("TRACE round {fault:?}: error {e}"),
                    }
                    eprintln!("TRACE state {:#?}", self.store.snapshot(&self.scope));
                }
                self.raynet_user.heal();
                self.outlook_user.heal();
                self.store.fail_after_writes(None);
            }
        }
    }

    /// Clean rounds until one writes nothing.
    ///
    /// # Errors
    /// A [`Violation`] when a clean round fails or four rounds do not converge.
    pub async fn settle(&self) -> Result<(), Violation> {
        for _ in 0..4 {
            let report = self
                .round()
                .await
                .map_err(|e| Violation(format!("a clean round failed: {e}")))?;
            if std::env::var_os("HISTORY_TRACE").is_some() {
                eprintln!("TRACE settle round:\n{report}");
            }
            if !report.failures.is_empty() {
                return Err(Violation(format!("a clean round had failures: {report}")));
            }
            if report.writes() == 0 {
                return Ok(());
            }
        }
        Err(Violation("no convergence after 4 clean rounds".into()))
    }

    /// The items of `side` in common form, minus those a rule keeps out on purpose (an Outlook
    /// event cancelled before it was ever synced).
    fn sorted_common(&self, side: Side) -> Vec<String> {
        let state = self.store.snapshot(&self.scope);
        let mut v: Vec<String> = self
            .user(side)
            .user_list()
            .iter()
            .filter(|(id, e)| {
                let detached = state.find(side, id).is_some_and(|(_, p)| !p.is_linked());
                let kept_out = match side {
                    // A cancelled Outlook event that was never synced stays out of Raynet.
                    Side::Outlook => {
                        state.find(side, id).is_none() && e.status == EventStatus::Cancelled
                    }
                    // A Raynet record cancelled (or kept after an Outlook deletion) is detached,
                    // and one cancelled before it was ever synced stays out of Outlook.
                    Side::Raynet => {
                        (detached || state.find(side, id).is_none())
                            && e.status == EventStatus::Cancelled
                    }
                };
                !kept_out
            })
            .map(|(_, e)| format!("{:?}", common(&e.clone().normalized())))
            .collect();
        v.sort();
        v
    }

    /// Checks convergence, no duplicates and idempotence after [`HistoryRun::settle`].
    ///
    /// # Errors
    /// A [`Violation`] naming the invariant broken.
    pub async fn check(&self) -> Result<(), Violation> {
        let (r, o) = (
            self.sorted_common(Side::Raynet),
            self.sorted_common(Side::Outlook),
        );
        if r != o {
            return Err(Violation(format!(
                "convergence: the sides differ after a clean round\n raynet:  {r:#?}\n outlook: {o:#?}"
            )));
        }
        for side in [Side::Raynet, Side::Outlook] {
            let mut tags: BTreeMap<String, usize> = BTreeMap::new();
            for (_, e) in self.user(side).user_list() {
                let tag = e.title.split(' ').next().unwrap_or_default().to_owned();
                *tags.entry(tag).or_default() += 1;
            }
            if let Some((tag, n)) = tags.iter().find(|(_, n)| **n > 1) {
                return Err(Violation(format!(
                    "duplicate: {tag} appears {n} times on {side}"
                )));
            }
        }
        let again = self
            .round()
            .await
            .map_err(|e| Violation(format!("a clean round failed: {e}")))?;
        if again.planned_writes != 0 || again.recorded != 0 {
            return Err(Violation(format!(
                "idempotence: a second round planned {} writes and {} records: {again}",
                again.planned_writes, again.recorded
            )));
        }
        let state = self.store.snapshot(&self.scope);
        if !state.pending.is_empty() {
            return Err(Violation("a pending create was left behind".into()));
        }
        Ok(())
    }

    /// Replays `ops`, settles, and checks the invariants.
    ///
    /// # Errors
    /// The first [`Violation`].
    pub async fn run(&self, ops: &[Op]) -> Result<(), Violation> {
        let mut tag = 0;
        for op in ops {
            self.apply(op, &mut tag).await;
        }
        self.settle().await?;
        self.check().await
    }
}

/// proptest strategies for histories (feature `proptest`).
#[cfg(feature = "proptest")]
pub mod strategy {
    use proptest::prelude::*;

    use super::{EditKinds, Op, RoundFault, SideFault, UserEdit};
    use crate::ids::Side;
    use crate::policy::{
        ConflictPolicy, DeleteEditPolicy, DeleteGuard, OutlookDeletes, Policy, PrivateEvents,
    };

    /// Either side.
    pub fn side() -> impl Strategy<Value = Side> {
        prop_oneof![Just(Side::Raynet), Just(Side::Outlook)]
    }

    /// An edit of the allowed kinds.
    pub fn edit(kinds: EditKinds) -> BoxedStrategy<UserEdit> {
        let mut options: Vec<BoxedStrategy<UserEdit>> = vec![
            (0u8..4).prop_map(UserEdit::Title).boxed(),
            (0u8..4).prop_map(UserEdit::Description).boxed(),
            (0u8..4).prop_map(UserEdit::Location).boxed(),
            (1i64..2000).prop_map(UserEdit::Move).boxed(),
        ];
        if kinds.all_day {
            options.push((0i64..60).prop_map(UserEdit::AllDay).boxed());
        }
        if kinds.private {
            options.push(any::<bool>().prop_map(UserEdit::Private).boxed());
        }
        if kinds.attendees {
            options.push((0u8..6).prop_map(UserEdit::Attendees).boxed());
        }
        if kinds.categories {
            options.push((0u8..3).prop_map(UserEdit::Categories).boxed());
        }
        if kinds.status {
            options.push((0u8..3).prop_map(UserEdit::Status).boxed());
        }
        proptest::strategy::Union::new(options).boxed()
    }

    /// A fault for one round (`store_crashes`: include crashes of the state store).
    pub fn fault(store_crashes: bool) -> BoxedStrategy<RoundFault> {
        let side_fault = prop_oneof![
            Just(SideFault::FailingRead),
            Just(SideFault::PartialRead),
            (1u32..3).prop_map(SideFault::FailingWrites),
            Just(SideFault::InterruptedWrite),
        ];
        let crash = u32::from(store_crashes);
        prop_oneof![
            4 => Just(RoundFault::None),
            3 => (side(), side_fault).prop_map(|(s, f)| RoundFault::Side(s, f)),
            crash => (0u64..6).prop_map(RoundFault::StoreCrashAfter),
        ]
        .boxed()
    }

    /// A history of up to `max_len` steps.
    pub fn ops(kinds: EditKinds, max_len: usize) -> BoxedStrategy<Vec<Op>> {
        let op = prop_oneof![
            3 => (side(), 1i64..2000).prop_map(|(s, h)| Op::Create(s, h)),
            4 => (side(), any::<usize>(), edit(kinds)).prop_map(|(s, i, e)| Op::Edit(s, i, e)),
            1 => (side(), any::<usize>()).prop_map(|(s, i)| Op::Delete(s, i)),
            3 => fault(true).prop_map(Op::Round),
        ];
        proptest::collection::vec(op, 1..max_len.max(2)).boxed()
    }

    /// A policy under which every item is synced both ways (so that full convergence is the
    /// expected outcome), with a random conflict and delete-vs-edit rule.
    pub fn converging_policy() -> BoxedStrategy<Policy> {
        (
            prop_oneof![
                Just(ConflictPolicy::Latest),
                Just(ConflictPolicy::Raynet),
                Just(ConflictPolicy::Outlook)
            ],
            prop_oneof![
                Just(DeleteEditPolicy::KeepEdit),
                Just(DeleteEditPolicy::Delete)
            ],
        )
            .prop_map(|(conflict, delete_vs_edit)| Policy {
                conflict,
                delete_vs_edit,
                outlook_deletes: OutlookDeletes::Delete,
                private_events: PrivateEvents::Standard,
                delete_guard: DeleteGuard {
                    allow: true,
                    ..DeleteGuard::default()
                },
                ..Policy::default()
            })
            .boxed()
    }
}
