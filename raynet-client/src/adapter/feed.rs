//! [`InstanceFeed`]: the incremental reads of a whole RAYNET instance, sent once
//! per round and shared by every member's provider.
//!
//! Without a feed, each member's [`RaynetCalendar`] and [`RaynetContacts`]
//! send their own `rowInfo.lastModifiedAt[GE]` reads (meetings, events,
//! persons) filtered to the member: three requests per member and round even
//! when nothing changed, and the deletion scan lists each member's ids
//! separately. With a feed, the round sends **one** read per resource for the
//! whole instance (no owner filter), from the oldest watermark of the members
//! it serves, and each provider takes the rows of its owner; the deletion scan
//! is one id listing of the whole window (and of the persons) for everybody.
//! Participants' e-mails and company names are looked up once for all rows.
//!
//! The feed is lazy: nothing is sent until the first provider asks, so a round
//! in which every member reads in full (a first round, a moved window) costs
//! nothing extra. A provider falls back to its own reads when the feed cannot
//! serve it: the member's watermark is older than the feed's start, or the
//! API's rows do not say their owner (the routing field; the notes do not say
//! that every list view carries it, so this is checked, not assumed). When the
//! feed's read fails, every provider it serves reports that failure as its
//! read failure: the engine then neither deletes nor moves anything on the
//! Raynet side in that round.
//!
//! The feed also checks versions for the members' writes. RAYNET has no
//! conditional update (it ignores `_version` on writes), so a provider checks
//! that a record has not changed since the engine read it before it writes.
//! Alone it reads the record (`GET /meeting/{id}/`), one request per write;
//! with a feed it asks [`InstanceFeed`] instead, which lists the instance's
//! meetings or events changed since the feed's start once and lets that
//! listing serve every write of the next [`InstanceFeed::with_recheck_age`]
//! (default 5 seconds): a record not in it has not changed since before the
//! round's reads, a record in it is compared by version.
//!
//! [`RaynetCalendar`]: super::RaynetCalendar
//! [`RaynetContacts`]: super::RaynetContacts

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sync_core::{ActivityKind, ErrorKind, ProviderError, RemoteId, Version, Window};
use tokio::sync::{Mutex, OnceCell};

use super::cursor::window_key;
use super::lookup::{CompanyNames, EmailsByPerson, PersonEmails, company_names, emails_for};
use super::rows::{
    activities, activity_id, listed_ids, newest, owner_of, person_id, version_of, window_query,
};
use super::time::DEFAULT_TIME_ZONE;
use crate::client::Client;
use crate::client::models::{CalendarActivity, Person};
use crate::client::query::{ListQuery, SortDirection};

/// How long one version listing serves the members' version checks
/// ([`InstanceFeed::with_recheck_age`]).
pub const DEFAULT_RECHECK_AGE: std::time::Duration = std::time::Duration::from_secs(5);

/// What a feed reads of one resource in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedPlan {
    /// The oldest watermark of the members the feed serves: the feed reads
    /// every row changed at or after it, less the overlap.
    pub watermark: DateTime<Utc>,
    /// Whether this round also lists every id (the deletion scan).
    pub scan: bool,
}

/// Whom of the persons a member's contact folder receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonRoute {
    /// Every person the feed reads (the feed's filter is the member's filter).
    Everyone,
    /// Only the persons owned by this person id (the member's own person);
    /// the feed reads everybody's, and a person owned by someone else is
    /// reported to this member as a removal marker (the engine confirms a
    /// known one with the provider's filtered `get`).
    OwnedBy(u64),
}

/// The shared incremental reads of one RAYNET instance for one round.
///
/// Build one per round (they hold that round's rows), give a clone to every
/// member's provider with [`super::RaynetCalendar::with_feed`] and
/// [`super::RaynetContacts::with_feed`], and drop it after the round.
///
/// ```no_run
/// # async fn demo(client: raynet_client::Client) {
/// use chrono::Utc;
/// use raynet_client::adapter::{FeedPlan, InstanceFeed, PersonRoute, RaynetCalendar, RaynetContacts};
/// let since = Utc::now() - chrono::Duration::minutes(15);
/// let feed = InstanceFeed::new(client.clone())
///     .calendar(FeedPlan { watermark: since, scan: false })
///     .persons(FeedPlan { watermark: since, scan: true }, raynet_client::ListQuery::new());
/// let alice = RaynetCalendar::new(client.clone(), 7).with_feed(feed.clone());
/// let alices_contacts = RaynetContacts::new(client).with_feed(feed.clone(), PersonRoute::Everyone);
/// # }
/// ```
#[derive(Clone)]
pub struct InstanceFeed {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    tz: Tz,
    overlap: chrono::Duration,
    calendar: Option<FeedPlan>,
    persons: Option<(FeedPlan, ListQuery)>,
    calendar_rows: OnceCell<Result<Arc<CalendarRows>, Failure>>,
    person_rows: OnceCell<Result<Arc<PersonRows>, Failure>>,
    scan_requests: AtomicU64,
    recheck_age: std::time::Duration,
    /// Participants' addresses kept between rounds (none: looked up each round).
    person_emails: Option<PersonEmails>,
    /// The owners whose rows the round maps (none: every owner's): other owners' rows only
    /// become removal markers, which need no participant's address.
    owners: Option<std::collections::BTreeSet<u64>>,
    /// The last version listing of meetings (`[0]`) and events (`[1]`); the
    /// lock makes concurrent writers wait for one listing instead of each
    /// sending its own.
    rechecks: [Mutex<Option<Arc<VersionListing>>>; 2],
}

/// The versions of the meetings or events changed since the feed's start, as
/// listed at `at`.
#[derive(Debug)]
struct VersionListing {
    at: tokio::time::Instant,
    versions: HashMap<u64, Option<Version>>,
}

/// What a version check through the feed found for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Recheck {
    /// The record has not changed since the feed's start (before any read of
    /// this round): its version is the one the engine knows.
    Unchanged,
    /// The record changed since the feed's start; its version now (`None`
    /// when the row says none).
    Listed(Option<Version>),
}

impl fmt::Debug for InstanceFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceFeed")
            .field("calendar", &self.inner.calendar)
            .field("persons", &self.inner.persons.as_ref().map(|(p, _)| p))
            .field("calendar_loaded", &self.inner.calendar_rows.initialized())
            .field("persons_loaded", &self.inner.person_rows.initialized())
            .finish_non_exhaustive()
    }
}

/// A failed feed read, kept so that every provider reports it.
#[derive(Debug, Clone)]
struct Failure {
    kind: ErrorKind,
    message: String,
}

impl Failure {
    fn of(e: &ProviderError) -> Self {
        Failure {
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    fn to_error(&self) -> ProviderError {
        ProviderError::new(
            self.kind,
            format!("instance-wide raynet read: {}", self.message),
        )
    }
}

/// An id listing and the window it lists.
#[derive(Debug)]
pub(super) struct Listed {
    pub(super) window: Option<(i64, i64)>,
    pub(super) ids: Vec<RemoteId>,
}

/// The changed meetings and events of the instance, by owner.
#[derive(Debug, Default)]
pub(super) struct CalendarRows {
    pub(super) meetings: HashMap<u64, Vec<CalendarActivity>>,
    pub(super) events: HashMap<u64, Vec<CalendarActivity>>,
    pub(super) emails: EmailsByPerson,
    pub(super) server_time: Option<DateTime<Utc>>,
    pub(super) newest: Option<DateTime<Utc>>,
    pub(super) listed: Option<Listed>,
    /// Some row did not say its owner: the rows cannot be routed.
    pub(super) unroutable: bool,
}

/// The changed persons of the feed's filter.
#[derive(Debug, Default)]
pub(super) struct PersonRows {
    pub(super) persons: Vec<Person>,
    pub(super) companies: CompanyNames,
    pub(super) server_time: Option<DateTime<Utc>>,
    pub(super) newest: Option<DateTime<Utc>>,
    pub(super) listed: Option<Vec<RemoteId>>,
    /// Some row did not say its owner (matters only to [`PersonRoute::OwnedBy`]).
    pub(super) some_without_owner: bool,
    /// Some row did not decode: every member reads its own persons (and sets
    /// the row aside as its own unreadable item).
    pub(super) undecoded: bool,
}

impl InstanceFeed {
    /// A feed that reads nothing yet: add resources with
    /// [`InstanceFeed::calendar`] and [`InstanceFeed::persons`].
    #[must_use]
    pub fn new(client: Client) -> Self {
        InstanceFeed {
            inner: Arc::new(Inner {
                client,
                tz: DEFAULT_TIME_ZONE,
                overlap: chrono::Duration::minutes(2),
                calendar: None,
                persons: None,
                calendar_rows: OnceCell::new(),
                person_rows: OnceCell::new(),
                scan_requests: AtomicU64::new(0),
                recheck_age: DEFAULT_RECHECK_AGE,
                person_emails: None,
                owners: None,
                rechecks: [Mutex::new(None), Mutex::new(None)],
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            f(inner);
        } else {
            // Already shared: build a fresh one with the same settings.
            let old = &self.inner;
            let mut inner = Inner {
                client: old.client.clone(),
                tz: old.tz,
                overlap: old.overlap,
                calendar: old.calendar,
                persons: old.persons.clone(),
                calendar_rows: OnceCell::new(),
                person_rows: OnceCell::new(),
                scan_requests: AtomicU64::new(0),
                recheck_age: old.recheck_age,
                person_emails: old.person_emails.clone(),
                owners: old.owners.clone(),
                rechecks: [Mutex::new(None), Mutex::new(None)],
            };
            f(&mut inner);
            self.inner = Arc::new(inner);
        }
        self
    }

    /// Keeps participants' addresses in `cache` between rounds (see
    /// [`PersonEmails`]) instead of listing them every round.
    #[must_use]
    pub fn with_person_emails(self, cache: PersonEmails) -> Self {
        self.edit(|i| i.person_emails = Some(cache))
    }

    /// Looks participants' addresses up only for the rows of these owners (person ids): the
    /// members the round serves. Another owner's changed row is only a removal marker for the
    /// members it serves (a reassigned record), which needs no address; a round notified of
    /// one member's change then looks up no stranger's participants.
    #[must_use]
    pub fn for_owners(self, owners: impl IntoIterator<Item = u64>) -> Self {
        let owners = owners.into_iter().collect();
        self.edit(|i| i.owners = Some(owners))
    }

    /// Sets the instance's time zone (default Europe/Prague).
    #[must_use]
    pub fn with_time_zone(self, tz: Tz) -> Self {
        self.edit(|i| i.tz = tz)
    }

    /// How far before the oldest watermark the reads start (default 2
    /// minutes, as the providers' own reads).
    #[must_use]
    pub fn with_overlap(self, overlap: chrono::Duration) -> Self {
        self.edit(|i| i.overlap = overlap)
    }

    /// How long one version listing serves the version checks of the
    /// members' writes (default 5 seconds; see the module docs). Shorter
    /// narrows the time in which a RAYNET edit made just before a write can
    /// still be overwritten by it, at one more listing per that many seconds
    /// of writing; zero lists again for every write.
    #[must_use]
    pub fn with_recheck_age(self, age: std::time::Duration) -> Self {
        self.edit(|i| i.recheck_age = age)
    }

    /// Reads the changed meetings and events of every owner (and, when
    /// `plan.scan`, lists every meeting and event id in the requested window).
    #[must_use]
    pub fn calendar(self, plan: FeedPlan) -> Self {
        self.edit(|i| i.calendar = Some(plan))
    }

    /// Reads the changed persons matching `filter` (and, when `plan.scan`,
    /// lists their ids). The filter must match every person a served member's
    /// folder holds: the members' own filter for [`PersonRoute::Everyone`],
    /// no owner filter for [`PersonRoute::OwnedBy`].
    #[must_use]
    pub fn persons(self, plan: FeedPlan, filter: ListQuery) -> Self {
        self.edit(|i| i.persons = Some((plan, filter)))
    }

    /// Requests the deletion scans of this feed cost so far (0 before they run).
    #[must_use]
    pub fn scan_requests(&self) -> u64 {
        self.inner.scan_requests.load(Ordering::Relaxed)
    }

    /// The time zone the rows are read in.
    pub(super) fn tz(&self) -> Tz {
        self.inner.tz
    }

    /// The feed's meetings and events for a member whose reads start at
    /// `from`; `None` when the feed cannot serve it (no calendar plan, a
    /// start after `from`, rows that cannot be routed).
    pub(super) async fn calendar_rows(
        &self,
        from: DateTime<Utc>,
        window: Option<&Window>,
    ) -> Option<Result<Arc<CalendarRows>, ProviderError>> {
        let plan = self.inner.calendar?;
        if self.start(plan) > from {
            return None;
        }
        load_once(
            &self.inner.calendar_rows,
            self.load_calendar(plan, window),
            |rows| !rows.unroutable,
        )
        .await
    }

    /// The feed's persons for a member whose reads start at `from` and whose
    /// filter is `filter`; `None` when the feed cannot serve it.
    pub(super) async fn person_rows(
        &self,
        from: DateTime<Utc>,
        route: PersonRoute,
        filter: &ListQuery,
    ) -> Option<Result<Arc<PersonRows>, ProviderError>> {
        let (plan, feed_filter) = self.inner.persons.as_ref()?;
        if self.start(*plan) > from {
            return None;
        }
        if route == PersonRoute::Everyone && feed_filter.to_pairs() != filter.to_pairs() {
            tracing::debug!("the member's person filter differs from the feed's; reading alone");
            return None;
        }
        load_once(
            &self.inner.person_rows,
            self.load_persons(*plan, feed_filter),
            |rows| {
                let owner_missing =
                    matches!(route, PersonRoute::OwnedBy(_)) && rows.some_without_owner;
                !(rows.undecoded || owner_missing)
            },
        )
        .await
    }

    /// Where the feed's reads of `plan` start: its watermark less the overlap.
    fn start(&self, plan: FeedPlan) -> DateTime<Utc> {
        plan.watermark - self.inner.overlap
    }

    /// Whether the meeting or event `id` changed since the feed's start, for
    /// the version check of a write; `None` when the feed has no calendar
    /// plan. One listing of the changed meetings (or events) of the instance
    /// serves every check for the next [`InstanceFeed::with_recheck_age`].
    pub(super) async fn recheck(
        &self,
        kind: ActivityKind,
        id: u64,
    ) -> Option<Result<Recheck, ProviderError>> {
        let plan = self.inner.calendar?;
        let slot = match kind {
            ActivityKind::Meeting => &self.inner.rechecks[0],
            ActivityKind::Event => &self.inner.rechecks[1],
        };
        let mut cached = slot.lock().await;
        let fresh = cached
            .as_ref()
            .filter(|l| l.at.elapsed() < self.inner.recheck_age)
            .cloned();
        let listing = if let Some(l) = fresh {
            l
        } else {
            let at = tokio::time::Instant::now();
            let query = ListQuery::new().modified_since(&self.start(plan));
            let rows = match activities(&self.inner.client, kind).list_all(&query).await {
                Ok(rows) => rows,
                Err(e) => return Some(Err(e.into())),
            };
            let listing = Arc::new(VersionListing {
                at,
                versions: rows
                    .iter()
                    .map(|a| (a.id, version_of(&a.row_info)))
                    .collect(),
            });
            *cached = Some(listing.clone());
            listing
        };
        drop(cached);
        Some(Ok(match listing.versions.get(&id) {
            None => Recheck::Unchanged,
            Some(v) => Recheck::Listed(v.clone()),
        }))
    }

    async fn load_calendar(
        &self,
        plan: FeedPlan,
        window: Option<&Window>,
    ) -> Result<CalendarRows, ProviderError> {
        let client = &self.inner.client;
        if let (Some(_), Some((person_plan, filter))) =
            (&self.inner.person_emails, &self.inner.persons)
        {
            // The round reads the changed persons anyway: read them first, so that a
            // participant whose address changed is looked up with the new one (a failure is
            // kept for the contact reads; the calendar goes on with the addresses kept).
            let _ = Box::pin(load_once(
                &self.inner.person_rows,
                self.load_persons(*person_plan, filter),
                |_| true,
            ))
            .await;
        }
        let query = ListQuery::new().modified_since(&self.start(plan));
        let meetings = client.meetings().list_rows(&query).await?;
        let events = client.events().list_rows(&query).await?;
        // A row that did not decode cannot be routed to its owner: every member then
        // reads its own calendar, and sets the row aside as its own unreadable item.
        let undecoded = !(meetings.failed.is_empty() && events.failed.is_empty());
        let server_time = meetings.server_time;
        let (meetings, events) = (meetings.items, events.items);
        let all: Vec<&CalendarActivity> = meetings.iter().chain(&events).collect();
        let mapped: Vec<&CalendarActivity> = match &self.inner.owners {
            Some(owners) => all
                .iter()
                .copied()
                .filter(|a| owner_of(a).is_none_or(|o| owners.contains(&o)))
                .collect(),
            None => all.clone(),
        };
        let mut rows = CalendarRows {
            emails: match &self.inner.person_emails {
                Some(cache) => cache.emails_for(client, &mapped).await?,
                None => emails_for(client, &mapped).await?,
            },
            server_time,
            newest: newest(all.iter().map(|a| &a.row_info), self.inner.tz),
            unroutable: undecoded || all.iter().any(|a| owner_of(a).is_none()),
            ..CalendarRows::default()
        };
        drop(all);
        if rows.unroutable {
            tracing::info!(
                "raynet rows without an owner: every member reads its own calendar this round"
            );
        }
        if plan.scan {
            let ids = window_query(ListQuery::new(), window).sort("id", SortDirection::Asc);
            let mut listed = Some(Vec::new());
            for kind in [ActivityKind::Meeting, ActivityKind::Event] {
                let found = activities(client, kind).row_summaries(&ids).await?;
                self.count_scan(found.items.len() + found.failed.len());
                match (listed_ids(&found, |id| activity_id(kind, id))?, &mut listed) {
                    (Some(ids), Some(all)) => all.extend(ids),
                    _ => listed = None,
                }
            }
            rows.listed = listed.map(|ids| Listed {
                window: window_key(window),
                ids,
            });
        }
        for (kind, list) in [
            (ActivityKind::Meeting, meetings),
            (ActivityKind::Event, events),
        ] {
            let by_owner = match kind {
                ActivityKind::Meeting => &mut rows.meetings,
                ActivityKind::Event => &mut rows.events,
            };
            for a in list {
                if let Some(owner) = owner_of(&a) {
                    by_owner.entry(owner).or_default().push(a);
                }
            }
        }
        Ok(rows)
    }

    async fn load_persons(
        &self,
        plan: FeedPlan,
        filter: &ListQuery,
    ) -> Result<PersonRows, ProviderError> {
        let client = &self.inner.client;
        let query = filter.clone().modified_since(&self.start(plan));
        let persons = client.persons().list_rows(&query).await?;
        let undecoded = !persons.failed.is_empty();
        let (persons, server_time) = (persons.items, persons.server_time);
        if let Some(cache) = &self.inner.person_emails {
            cache.note(&persons);
        }
        let mut rows = PersonRows {
            companies: company_names(client, &persons).await?,
            server_time,
            newest: newest(persons.iter().map(|p| &p.row_info), self.inner.tz),
            some_without_owner: persons.iter().any(|p| p.owner.is_none()),
            undecoded,
            ..PersonRows::default()
        };
        rows.persons = persons;
        if plan.scan {
            let ids = filter.clone().sort("id", SortDirection::Asc);
            let found = client.persons().row_summaries(&ids).await?;
            self.count_scan(found.items.len() + found.failed.len());
            rows.listed = listed_ids(&found, person_id)?;
        }
        Ok(rows)
    }

    /// Counts the requests an id listing of `rows` rows took (1000 per page,
    /// one for an empty listing).
    fn count_scan(&self, rows: usize) {
        let pages = rows.div_ceil(1000).max(1) as u64;
        self.inner.scan_requests.fetch_add(pages, Ordering::Relaxed);
    }
}

/// The rows in `cell`, read by `load` on the first call (a failure is kept
/// and reported to every caller); `None` when they are not `usable`.
async fn load_once<T>(
    cell: &OnceCell<Result<Arc<T>, Failure>>,
    load: impl Future<Output = Result<T, ProviderError>>,
    usable: impl FnOnce(&T) -> bool,
) -> Option<Result<Arc<T>, ProviderError>> {
    let loaded = cell
        .get_or_init(|| async { load.await.map(Arc::new).map_err(|e| Failure::of(&e)) })
        .await;
    match loaded {
        Ok(rows) if !usable(rows) => None,
        Ok(rows) => Some(Ok(rows.clone())),
        Err(f) => Some(Err(f.to_error())),
    }
}
