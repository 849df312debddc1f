//! [`RaynetCalendar`]: a member's RAYNET meetings and events as the engine's
//! calendar side — the provider, its settings and its reads ([`ReadSide`]).
//! Its writes ([`WriteSide`]) are in `calendar_write.rs`.
//!
//! [`WriteSide`]: sync_core::WriteSide

use async_trait::async_trait;
use chrono_tz::Tz;
use sync_core::{
    ActivityKind, Completeness, ErrorKind, Event, EventProfile, ProviderError, ReadRequest,
    ReadSide, Remote, RemoteId, SideRead, SyncItem, Window,
};

use super::cursor::{
    Incremental, Watermark, incremental_setters, next_cursor, parse_cursor, window_key,
};
use super::error::invalid;
use super::event_map::activity_to_core;
use super::facts::InstanceFacts;
use super::feed::InstanceFeed;
use super::lookup::EmailsByPerson;
use super::rows::{
    activities, activity_id, fetch_activity, key_of, listed_ids, modified, newest, owner_of,
    set_aside, version_or_default, window_query,
};
use super::time::DEFAULT_TIME_ZONE;
use crate::client::Client;
use crate::client::error::Error;
use crate::client::models::CalendarActivity;
use crate::client::page::Listing;
use crate::client::query::{ListQuery, Op, SortDirection};
use crate::client::resources::Activities;

/// RAYNET meetings and events owned by one member, as one calendar side.
///
/// Remote ids are `m-<id>` for meetings and `e-<id>` for events (the two id
/// spaces overlap). Participants' e-mails come from one `id[IN]` person read
/// per 1000 persons. Creates leave the idempotency key as the external id
/// `raynet-sync:<key>`. RAYNET ignores `_version` on writes, so `expected`
/// versions are checked before writing: by reading the record, or with an
/// [`InstanceFeed`] through its listing of the records changed this round,
/// shared by all members' writes (see [`WriteSide::update`] for what an
/// update sends).
///
/// # Reads
///
/// A read without a cursor (or with one that is unreadable or belongs to
/// another window) is a complete listing of the member's meetings and events
/// in the window (owner filter `owner-id`). It returns a cursor holding a
/// watermark: the server's clock (HTTP `Date`) at the first answer, else the
/// newest `rowInfo.lastModifiedAt` seen. A read with a cursor is a
/// [`Completeness::Delta`]: the member's meetings and events with
/// `rowInfo.lastModifiedAt[GE]` = watermark − overlap (default 2 minutes;
/// [`RaynetCalendar::with_overlap`]), wherever they now lie, plus — on the
/// schedule of [`RaynetCalendar::with_deletion_scan_every`] — one
/// `view=rowInfo` id listing of each entity in the window, in
/// [`SideRead::listed_ids`]. RAYNET has no deletion feed: the engine infers
/// deletions from the id listing and confirms each with [`ReadSide::get`].
/// A record reassigned to another owner has left this member's calendar:
/// [`ReadSide::get`] answers `None` for it (it is in the new owner's), so
/// the member's Outlook copy goes and the new owner's round creates one.
///
/// With an [`InstanceFeed`] ([`RaynetCalendar::with_feed`]) the incremental
/// reads come from one read of the whole instance per round.
///
/// [`WriteSide::update`]: sync_core::WriteSide::update
#[derive(Debug, Clone)]
pub struct RaynetCalendar {
    pub(super) client: Client,
    pub(super) owner: u64,
    pub(super) tz: Tz,
    incremental: Incremental,
    pub(super) feed: Option<InstanceFeed>,
    pub(super) facts: InstanceFacts,
}

impl RaynetCalendar {
    /// The calendar of the member whose **person id** is `owner_person_id`,
    /// with times in Europe/Prague.
    #[must_use]
    pub fn new(client: Client, owner_person_id: u64) -> Self {
        RaynetCalendar {
            client,
            owner: owner_person_id,
            tz: DEFAULT_TIME_ZONE,
            incremental: Incremental::default(),
            feed: None,
            facts: InstanceFacts::new(),
        }
    }

    /// Shares what the providers of this instance learn while writing
    /// ([`InstanceFacts`]: whether an insert keeps its `extId`, so that creates
    /// can skip the read-back). Without it the provider learns alone.
    #[must_use]
    pub fn with_facts(mut self, facts: InstanceFacts) -> Self {
        self.facts = facts;
        self
    }

    /// Takes incremental reads from `feed` (one read of the whole instance per
    /// round, shared by every member) instead of sending its own: the rows the
    /// feed read whose owner is this member. The feed also decides whether the
    /// round scans for deletions (its id listing covers the whole window). A
    /// read the feed cannot serve (a full read, a watermark older than the
    /// feed's, rows without an owner) is sent as without a feed.
    #[must_use]
    pub fn with_feed(mut self, feed: InstanceFeed) -> Self {
        self.feed = Some(feed);
        self
    }

    /// Sets the instance's time zone.
    #[must_use]
    pub fn with_time_zone(mut self, tz: Tz) -> Self {
        self.tz = tz;
        self
    }

    incremental_setters!("ids of each entity");

    fn owner_query(&self) -> ListQuery {
        ListQuery::new().filter("owner-id", Op::Eq, self.owner)
    }

    /// Maps listed rows (e-mails of participants fetched once for all).
    async fn map_rows(
        &self,
        meetings: &[CalendarActivity],
        events: &[CalendarActivity],
        completeness: Completeness,
    ) -> Result<SideRead<Event>, ProviderError> {
        let all: Vec<&CalendarActivity> = meetings.iter().chain(events.iter()).collect();
        let emails = self.emails_for(&all).await?;
        self.map_rows_with(meetings, events, completeness, &emails)
    }

    /// Maps listed rows with participants' e-mails already looked up.
    fn map_rows_with(
        &self,
        meetings: &[CalendarActivity],
        events: &[CalendarActivity],
        completeness: Completeness,
        emails: &EmailsByPerson,
    ) -> Result<SideRead<Event>, ProviderError> {
        let mut read = SideRead::complete(Vec::new());
        read.completeness = completeness;
        let tagged = meetings
            .iter()
            .map(|a| (ActivityKind::Meeting, a))
            .chain(events.iter().map(|a| (ActivityKind::Event, a)));
        for (kind, a) in tagged {
            match self.to_remote(a, kind, emails) {
                Ok(remote) => read.items.push(remote),
                Err(e) => read
                    .unreadable
                    .push((Self::remote_id(kind, a.id)?, e.to_string())),
            }
        }
        Ok(read)
    }

    async fn full_read(&self, window: Option<&Window>) -> Result<SideRead<Event>, ProviderError> {
        let query = window_query(self.owner_query(), window);
        let (meetings, events) = self.list_rows(&query).await?;
        let mut read = self
            .map_rows(&meetings.items, &events.items, Completeness::Complete)
            .await?;
        Self::set_aside(&mut read, &meetings, &events)?;
        let seen = newest(
            meetings
                .items
                .iter()
                .chain(&events.items)
                .map(|a| &a.row_info),
            self.tz,
        );
        read.cursor = next_cursor(None, meetings.server_time, seen, 0, window_key(window));
        Ok(read)
    }

    /// An incremental read served by the instance feed; `None` when the feed
    /// cannot serve it.
    async fn feed_read(
        &self,
        feed: &InstanceFeed,
        window: Option<&Window>,
        mark: &Watermark,
    ) -> Option<Result<SideRead<Event>, ProviderError>> {
        if feed.tz() != self.tz {
            return None;
        }
        let from = mark.at - self.incremental.overlap;
        let rows = match feed.calendar_rows(from, window).await? {
            Ok(rows) => rows,
            Err(e) => return Some(Err(e)),
        };
        let none = Vec::new();
        let meetings = rows.meetings.get(&self.owner).unwrap_or(&none);
        let events = rows.events.get(&self.owner).unwrap_or(&none);
        let mut read = match self.map_rows_with(meetings, events, Completeness::Delta, &rows.emails)
        {
            Ok(read) => read,
            Err(e) => return Some(Err(e)),
        };
        // Someone else's changed record may have been this member's before (reassigned): a
        // removal marker lets the engine check a known one (`get` answers "not here" for a
        // record another member owns).
        for (kind, by_owner) in [
            (ActivityKind::Meeting, &rows.meetings),
            (ActivityKind::Event, &rows.events),
        ] {
            for a in by_owner
                .iter()
                .filter(|(owner, _)| **owner != self.owner)
                .flat_map(|(_, list)| list)
            {
                match Self::remote_id(kind, a.id) {
                    Ok(id) => read.deleted.push(id),
                    Err(e) => return Some(Err(e)),
                }
            }
        }
        let listed = rows
            .listed
            .as_ref()
            .filter(|l| l.window == window_key(window));
        if let Some(l) = listed {
            // The whole instance's ids: the engine looks only for its own pairs in it.
            read.listed_ids = Some(l.ids.clone());
        }
        let since_scan = mark.since_scan_after(listed.is_some());
        read.cursor = next_cursor(
            Some(mark),
            rows.server_time,
            rows.newest,
            since_scan,
            mark.window,
        );
        Some(Ok(read))
    }

    async fn delta_read(
        &self,
        window: Option<&Window>,
        mark: &Watermark,
    ) -> Result<SideRead<Event>, ProviderError> {
        if let Some(feed) = &self.feed {
            if let Some(read) = self.feed_read(feed, window, mark).await {
                return read;
            }
        }
        let since = mark.at - self.incremental.overlap;
        let query = self.owner_query().modified_since(&since);
        let (meetings, events) = self.list_rows(&query).await?;
        let mut read = self
            .map_rows(&meetings.items, &events.items, Completeness::Delta)
            .await?;
        Self::set_aside(&mut read, &meetings, &events)?;
        let scan = self.incremental.scan_due(mark.since_scan);
        if scan {
            let ids = window_query(self.owner_query(), window).sort("id", SortDirection::Asc);
            let mut listed = Some(Vec::new());
            for kind in [ActivityKind::Meeting, ActivityKind::Event] {
                let rows = self.handler(kind).row_summaries(&ids).await?;
                match (
                    listed_ids(&rows, |id| Self::remote_id(kind, id))?,
                    &mut listed,
                ) {
                    (Some(ids), Some(all)) => all.extend(ids),
                    _ => listed = None,
                }
            }
            read.listed_ids = listed;
        }
        let seen = newest(
            meetings
                .items
                .iter()
                .chain(&events.items)
                .map(|a| &a.row_info),
            self.tz,
        );
        let since_scan = mark.since_scan_after(scan);
        read.cursor = next_cursor(
            Some(mark),
            meetings.server_time,
            seen,
            since_scan,
            mark.window,
        );
        Ok(read)
    }

    /// The member's meetings and events matching `query`, every page (rows
    /// that do not decode set aside).
    async fn list_rows(
        &self,
        query: &ListQuery,
    ) -> Result<(Listing<CalendarActivity>, Listing<CalendarActivity>), Error> {
        let meetings = self.client.meetings().list_rows(query).await?;
        let events = self.client.events().list_rows(query).await?;
        Ok((meetings, events))
    }

    /// Reports the listed rows that did not decode as unreadable items.
    fn set_aside(
        read: &mut SideRead<Event>,
        meetings: &Listing<CalendarActivity>,
        events: &Listing<CalendarActivity>,
    ) -> Result<(), ProviderError> {
        set_aside(read, &meetings.failed, |id| {
            Self::remote_id(ActivityKind::Meeting, id)
        })?;
        set_aside(read, &events.failed, |id| {
            Self::remote_id(ActivityKind::Event, id)
        })
    }

    pub(super) fn handler(&self, kind: ActivityKind) -> Activities<'_> {
        activities(&self.client, kind)
    }

    pub(super) fn remote_id(kind: ActivityKind, id: u64) -> Result<RemoteId, ProviderError> {
        activity_id(kind, id)
    }

    pub(super) fn parse_id(id: &RemoteId) -> Result<(ActivityKind, u64), ProviderError> {
        let parsed = match id.as_str().split_once('-') {
            Some(("m", n)) => n.parse().ok().map(|n| (ActivityKind::Meeting, n)),
            Some(("e", n)) => n.parse().ok().map(|n| (ActivityKind::Event, n)),
            _ => None,
        };
        parsed.ok_or_else(|| {
            ProviderError::new(
                ErrorKind::NotFound,
                format!("`{id}` is not a raynet activity id"),
            )
        })
    }

    /// E-mail addresses of the non-owner participants of `rows`.
    pub(super) async fn emails_for(
        &self,
        rows: &[&CalendarActivity],
    ) -> Result<EmailsByPerson, Error> {
        self.facts
            .person_emails()
            .emails_for(&self.client, rows)
            .await
    }

    pub(super) fn to_remote(
        &self,
        a: &CalendarActivity,
        kind: ActivityKind,
        emails: &EmailsByPerson,
    ) -> Result<Remote<Event>, ProviderError> {
        let item = activity_to_core(a, kind, &self.tz, emails)
            .map_err(|e| invalid(format!("raynet {} {}", kind.as_str(), a.id), e))?
            .normalized();
        Ok(Remote {
            id: Self::remote_id(kind, a.id)?,
            version: version_or_default(&a.row_info)?,
            modified: modified(&a.row_info, self.tz),
            item,
            key: key_of(a.ext_ids.as_ref()),
        })
    }

    pub(super) async fn fetch(
        &self,
        kind: ActivityKind,
        id: u64,
    ) -> Result<Option<CalendarActivity>, Error> {
        fetch_activity(&self.client, kind, id).await
    }

    /// One record as the engine sees it (its participants' e-mails looked up).
    pub(super) async fn remote_of(
        &self,
        a: &CalendarActivity,
        kind: ActivityKind,
    ) -> Result<Remote<Event>, ProviderError> {
        let emails = self.emails_for(&[a]).await?;
        self.to_remote(a, kind, &emails)
    }
}

#[async_trait]
impl ReadSide<Event> for RaynetCalendar {
    fn profile(&self) -> EventProfile {
        EventProfile::raynet()
    }

    async fn read(&self, request: &ReadRequest) -> Result<SideRead<Event>, ProviderError> {
        let window = request.window.as_ref();
        match parse_cursor(request, window_key(window)) {
            None => self.full_read(window).await,
            Some(mark) => self.delta_read(window, &mark).await,
        }
    }

    async fn get(&self, id: &RemoteId) -> Result<Option<Remote<Event>>, ProviderError> {
        let (kind, n) = Self::parse_id(id)?;
        let Some(a) = self.fetch(kind, n).await? else {
            return Ok(None);
        };
        if owner_of(&a).is_some_and(|owner| owner != self.owner) {
            // Reassigned to someone else: it left this member's calendar (and is in theirs).
            return Ok(None);
        }
        self.remote_of(&a, kind).await.map(Some)
    }
}
