//! The engine's provider traits ([`ReadSide`], [`WriteSide`]) for RAYNET.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sync_core::{
    ActivityKind, Completeness, Contact, ContactProfile, ErrorKind, Event, EventField,
    EventProfile, EventStatus, FieldSet, IdempotencyKey, ProviderError, ReadRequest, ReadSide,
    Remote, RemoteId, SideRead, SyncItem, Version, Window, WriteSide, Written,
};

use super::cursor::{Incremental, Watermark, window_key};
use super::facts::InstanceFacts;
use super::feed::{InstanceFeed, PersonRoute, Recheck};
use super::{
    CompanyNames, DEFAULT_TIME_ZONE, EmailsByPerson, activity_to_core, classify,
    event_to_new_activity, event_to_update, participant_changes, person_to_contact_with,
    version_of,
};
use crate::client::error::Error;
use crate::client::models::{CalendarActivity, Person, RowInfo, RowSummary};
use crate::client::query::{ListQuery, Op, SortDirection};
use crate::client::{Activities, Client, EntityName};

/// Prefix of the external ids this crate leaves on RAYNET records it creates
/// (`raynet-sync:<idempotency key>`), following the documented `system:value`
/// convention.
pub const EXT_ID_PREFIX: &str = "raynet-sync:";

fn invalid(context: String, e: impl std::error::Error + Send + Sync + 'static) -> ProviderError {
    ProviderError::with_source(ErrorKind::Invalid, context, e)
}

fn version_or_default(row: &RowInfo) -> Result<Version, ProviderError> {
    match version_of(row) {
        Some(v) => Ok(v),
        None => Version::new("v0").map_err(|e| invalid("raynet version".into(), e)),
    }
}

pub(super) fn modified(row: &RowInfo, tz: Tz) -> Option<DateTime<Utc>> {
    row.last_modified_at.as_ref().and_then(|t| t.to_utc(&tz))
}

/// The newest `rowInfo.lastModifiedAt` among `rows`.
fn newest<'a>(rows: impl IntoIterator<Item = &'a RowInfo>, tz: Tz) -> Option<DateTime<Utc>> {
    rows.into_iter().filter_map(|r| modified(r, tz)).max()
}

/// The cursor a read leaves: the server's clock at its first answer, else the
/// newest change it saw, never before the previous watermark. `None` when
/// nothing is known (the next read is a full one).
fn next_cursor(
    previous: Option<&Watermark>,
    server_time: Option<DateTime<Utc>>,
    newest_seen: Option<DateTime<Utc>>,
    since_scan: u32,
    window: Option<(i64, i64)>,
) -> Option<sync_core::Cursor> {
    let at = server_time
        .or(newest_seen)
        .into_iter()
        .chain(previous.map(|p| p.at))
        .max()?;
    Watermark {
        at,
        since_scan,
        window,
    }
    .encode()
}

/// The cursor of `request`, when it is ours, readable and for this window.
fn parse_cursor(request: &ReadRequest, window: Option<(i64, i64)>) -> Option<Watermark> {
    let raw = request.cursor.as_ref()?;
    let Some(w) = Watermark::parse(raw.as_str()) else {
        tracing::info!(
            cursor = raw.as_str(),
            "unreadable raynet cursor; reading in full"
        );
        return None;
    };
    if w.window != window {
        tracing::debug!("the window moved; reading in full");
        return None;
    }
    Some(w)
}

fn key_of(ext_ids: Option<&Vec<String>>) -> Option<IdempotencyKey> {
    ext_ids?
        .iter()
        .find_map(|x| x.strip_prefix(EXT_ID_PREFIX))
        .and_then(|k| IdempotencyKey::new(k).ok())
}

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
#[derive(Debug, Clone)]
pub struct RaynetCalendar {
    client: Client,
    owner: u64,
    tz: Tz,
    incremental: Incremental,
    feed: Option<InstanceFeed>,
    facts: InstanceFacts,
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

    /// How far before the watermark an incremental read starts (default 2
    /// minutes): offset paging over a moving set and clock skew can miss
    /// rows, and re-read rows cost nothing but bandwidth.
    #[must_use]
    pub fn with_overlap(mut self, overlap: chrono::Duration) -> Self {
        self.incremental.overlap = overlap;
        self
    }

    /// Runs the deletion scan (one `view=rowInfo` request per 1000 ids of
    /// each entity) on every `n`-th incremental read (default 1: every read);
    /// reads in between return no [`SideRead::listed_ids`], so deletions wait
    /// for the next scan. `0` never scans in incremental reads (deletions are
    /// then seen by the next full read only, e.g. when the window moves).
    #[must_use]
    pub fn with_deletion_scan_every(mut self, n: u32) -> Self {
        self.incremental.scan_every = n;
        self
    }

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
        let (meetings, server_time) = self.client.meetings().list_all_timed(&query).await?;
        let events = self.client.events().list_all(&query).await?;
        let mut read = self
            .map_rows(&meetings, &events, Completeness::Complete)
            .await?;
        let seen = newest(meetings.iter().chain(&events).map(|a| &a.row_info), self.tz);
        read.cursor = next_cursor(None, server_time, seen, 0, window_key(window));
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
        let since_scan = match listed {
            Some(l) => {
                // The whole instance's ids: the engine looks only for its own pairs in it.
                read.listed_ids = Some(l.ids.clone());
                0
            }
            None => mark.since_scan.saturating_add(1),
        };
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
        let (meetings, server_time) = self.client.meetings().list_all_timed(&query).await?;
        let events = self.client.events().list_all(&query).await?;
        let mut read = self
            .map_rows(&meetings, &events, Completeness::Delta)
            .await?;
        let scan = self.incremental.scan_due(mark.since_scan);
        if scan {
            let ids = window_query(self.owner_query(), window).sort("id", SortDirection::Asc);
            let mut listed = Vec::new();
            for kind in [ActivityKind::Meeting, ActivityKind::Event] {
                for row in self.handler(kind).row_summaries(&ids).await? {
                    listed.push(Self::remote_id(kind, row.id)?);
                }
            }
            read.listed_ids = Some(listed);
        }
        let seen = newest(meetings.iter().chain(&events).map(|a| &a.row_info), self.tz);
        let since_scan = if scan {
            0
        } else {
            mark.since_scan.saturating_add(1)
        };
        read.cursor = next_cursor(Some(mark), server_time, seen, since_scan, mark.window);
        Ok(read)
    }

    fn handler(&self, kind: ActivityKind) -> Activities<'_> {
        match kind {
            ActivityKind::Meeting => self.client.meetings(),
            ActivityKind::Event => self.client.events(),
        }
    }

    fn remote_id(kind: ActivityKind, id: u64) -> Result<RemoteId, ProviderError> {
        activity_id(kind, id)
    }

    fn parse_id(id: &RemoteId) -> Result<(ActivityKind, u64), ProviderError> {
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
    async fn emails_for(&self, rows: &[&CalendarActivity]) -> Result<EmailsByPerson, Error> {
        super::feed::emails_for(&self.client, rows).await
    }

    fn to_remote(
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

    async fn fetch(&self, kind: ActivityKind, id: u64) -> Result<Option<CalendarActivity>, Error> {
        match self.handler(kind).get(id).await {
            Ok(a) => Ok(Some(a)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One record as the engine sees it (its participants' e-mails looked up).
    async fn remote_of(
        &self,
        a: &CalendarActivity,
        kind: ActivityKind,
    ) -> Result<Remote<Event>, ProviderError> {
        let emails = self.emails_for(&[a]).await?;
        self.to_remote(a, kind, &emails)
    }

    /// What a write left: the record as it is now.
    async fn written_of(
        &self,
        a: &CalendarActivity,
        kind: ActivityKind,
    ) -> Result<Written<Event>, ProviderError> {
        let remote = self.remote_of(a, kind).await?;
        Ok(Written {
            id: remote.id,
            version: remote.version,
            item: Some(remote.item),
        })
    }

    async fn written(&self, kind: ActivityKind, id: u64) -> Result<Written<Event>, ProviderError> {
        let a = self
            .fetch(kind, id)
            .await?
            .ok_or_else(|| vanished(kind, id))?;
        self.written_of(&a, kind).await
    }

    /// Person ids of the attendees RAYNET knows by e-mail (others are left out).
    /// The Raynet persons whose e-mail matches an attendee (never the owner), with the id of
    /// each one's primary company.
    async fn persons_for(&self, item: &Event) -> Result<Vec<(u64, Option<u64>)>, Error> {
        let mut ids: Vec<(u64, Option<u64>)> = Vec::new();
        for a in &item.attendees {
            let q = ListQuery::new()
                .filter("contactInfo.email", Op::LikeNocase, a.email.as_str())
                .limit(10);
            let page = self.client.persons().list(&q).await?;
            let found = page.items.iter().find(|p| {
                p.contact_info
                    .as_ref()
                    .and_then(|c| c.email.as_deref())
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case(a.email.as_str()))
            });
            if let Some(p) = found {
                if p.id != self.owner && !ids.iter().any(|(id, _)| *id == p.id) {
                    let company = p
                        .primary_relationship
                        .as_ref()
                        .and_then(|r| r.company.as_ref())
                        .map(|c| c.id);
                    ids.push((p.id, company));
                }
            }
        }
        Ok(ids)
    }

    /// Links a record without a company to the company of its first matched participant.
    fn link_company(
        update: &mut crate::client::models::ActivityUpdate,
        record_company: Option<u64>,
        persons: &[(u64, Option<u64>)],
    ) {
        if record_company.is_none() {
            if let Some(company) = persons.iter().find_map(|(_, c)| *c) {
                update.company = Some(Some(company));
            }
        }
    }

    /// The writes after a create: what the insert DTO lacks (place, privacy,
    /// status, participants) and, when the create ignored it, the extId.
    /// `key_sent`: the insert carried the key as its `extId`.
    ///
    /// The record is then read back — to see the key is there, and what
    /// RAYNET made of the item — unless the instance is known to keep an
    /// insert's `extId` ([`InstanceFacts`]) and the item has no attendees:
    /// the engine then records the item as a read maps the fields sent, and
    /// the version as 1 plus the follow-up update (a new record's `_version`
    /// is 1 on the fake; unverified on RAYNET, and a wrong guess costs what
    /// it costs after an update, see [`WriteSide::update`]).
    async fn finish_create(
        &self,
        kind: ActivityKind,
        id: u64,
        item: &Event,
        ext: &str,
        key_sent: bool,
    ) -> Result<Written<Event>, ProviderError> {
        let mut rest = FieldSet::default();
        if !item.location.is_empty() {
            rest.insert(EventField::Location);
        }
        if item.sensitivity.is_private() {
            rest.insert(EventField::Sensitivity);
        }
        if item.status != EventStatus::Scheduled {
            rest.insert(EventField::Status);
        }
        let mut update = event_to_update(item, rest, &self.tz);
        let mut current = None;
        if !item.attendees.is_empty() {
            let persons = self.persons_for(item).await?;
            let wanted: Vec<u64> = persons.iter().map(|(id, _)| *id).collect();
            let fetched = self.fetch(kind, id).await?;
            let parts = fetched
                .as_ref()
                .map(|a| a.participants.clone())
                .unwrap_or_default();
            let company = fetched
                .as_ref()
                .and_then(|a| a.company.as_ref())
                .map(|c| c.id);
            current = fetched;
            let changes = participant_changes(&parts, &wanted);
            if !changes.is_empty() {
                update.participants = Some(changes);
            }
            Self::link_company(&mut update, company, &persons);
        }
        let followed_up = !update.is_empty();
        if followed_up {
            self.handler(kind).update(id, &update).await?;
            current = None;
        }
        if key_sent && item.attendees.is_empty() && self.facts.insert_keeps_ext_id() == Some(true) {
            let version = Version::new(format!("v{}", 1 + u64::from(followed_up)));
            let held = self.held_after(item, sent_fields(), kind);
            if let (Ok(version), Some(mut held)) = (version, held) {
                held.kind = Some(kind);
                return Ok(Written {
                    id: Self::remote_id(kind, id)?,
                    version,
                    item: Some(held),
                });
            }
        }
        let record = match current {
            Some(a) => a,
            None => self
                .fetch(kind, id)
                .await?
                .ok_or_else(|| vanished(kind, id))?,
        };
        let has_key = record
            .ext_ids
            .as_ref()
            .is_some_and(|x| x.iter().any(|e| e == ext));
        if key_sent {
            self.facts.learn_insert_keeps_ext_id(has_key);
        }
        if has_key {
            return self.written_of(&record, kind).await;
        }
        let entity = match kind {
            ActivityKind::Meeting => EntityName::Meeting,
            ActivityKind::Event => EntityName::Event,
        };
        self.client.ext_ids(entity, id).add(ext).await?;
        self.written(kind, id).await
    }

    fn check_expected(
        current: &CalendarActivity,
        expected: Option<&Version>,
    ) -> Result<(), ProviderError> {
        if let Some(expected) = expected {
            let now = version_or_default(&current.row_info)?;
            if !version_allows(expected, &now) {
                return Err(ProviderError::new(
                    ErrorKind::PreconditionFailed,
                    format!(
                        "raynet activity {} changed since version {expected}",
                        current.id
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl RaynetCalendar {
    /// Checks that the record `n` still has the `expected` version (see
    /// [`WriteSide::update`]) and answers the `_version` the write goes over
    /// (`None` when unknown: the write is then read back).
    async fn check_version(
        &self,
        kind: ActivityKind,
        n: u64,
        id: &RemoteId,
        expected: Option<&Version>,
    ) -> Result<Option<u64>, ProviderError> {
        let number = expected.and_then(version_number);
        if let (Some(feed), Some(expected), Some(e)) = (&self.feed, expected, number) {
            match feed.recheck(kind, n).await {
                Some(Ok(Recheck::Unchanged)) => return Ok(Some(e)),
                Some(Ok(Recheck::Listed(Some(now)))) => {
                    if !version_allows(expected, &now) {
                        return Err(changed_since(id, expected));
                    }
                    if let Some(v) = version_number(&now) {
                        return Ok(Some(v));
                    }
                }
                // A row without a version: read the record.
                Some(Ok(Recheck::Listed(None))) | None => {}
                Some(Err(e)) => return Err(e),
            }
        }
        let current = self
            .fetch(kind, n)
            .await?
            .ok_or_else(|| ProviderError::new(ErrorKind::NotFound, format!("raynet {id}")))?;
        Self::check_expected(&current, expected)?;
        Ok(current.row_info.version)
    }

    /// An update that changes the participants: the record is read first
    /// (for the participant diff and the version check) and again after.
    async fn update_with_attendees(
        &self,
        kind: ActivityKind,
        n: u64,
        item: &Event,
        changed: FieldSet<EventField>,
        expected: Option<&Version>,
    ) -> Result<Written<Event>, ProviderError> {
        let current = self.fetch(kind, n).await?.ok_or_else(|| {
            ProviderError::new(ErrorKind::NotFound, format!("raynet {} {n}", kind.as_str()))
        })?;
        Self::check_expected(&current, expected)?;
        let mut update = event_to_update(item, changed, &self.tz);
        let persons = self.persons_for(item).await?;
        let wanted: Vec<u64> = persons.iter().map(|(id, _)| *id).collect();
        let changes = participant_changes(&current.participants, &wanted);
        if !changes.is_empty() {
            update.participants = Some(changes);
        }
        let company = current.company.as_ref().map(|c| c.id);
        Self::link_company(&mut update, company, &persons);
        if !update.is_empty() {
            self.handler(kind).update(n, &update).await?;
        }
        self.written(kind, n).await
    }

    /// What RAYNET holds of `item` after an update of `changed` without attendees: the fields
    /// sent, as a read maps them back (an empty title reads as [`super::UNTITLED`], times in
    /// the instance's zone, the description through HTML), the others as they were. `None`
    /// when that cannot be told (the engine then records the item as sent).
    fn held_after(
        &self,
        item: &Event,
        changed: FieldSet<EventField>,
        kind: ActivityKind,
    ) -> Option<Event> {
        // The record as the update's fields make it: what a read of them gives.
        let mut wire = serde_json::to_value(event_to_update(item, sent_fields(), &self.tz)).ok()?;
        wire.as_object_mut()?.insert("id".into(), 0.into());
        let record: CalendarActivity = serde_json::from_value(wire).ok()?;
        let read = super::activity_to_core(&record, kind, &self.tz, &EmailsByPerson::new()).ok()?;
        let mut held = item.clone();
        for field in sent_fields().iter().filter(|f| changed.contains(*f)) {
            held.copy_field(&read, field);
        }
        Some(held.normalized())
    }
}

/// The fields an update without attendees sends: all RAYNET holds but the
/// kind (a record keeps it for life) and the attendees (the participants).
fn sent_fields() -> FieldSet<EventField> {
    EventProfile::raynet()
        .held
        .without(EventField::Kind)
        .without(EventField::Attendees)
}

/// The number of a `_version` token (`v<n>`); `None` for a token made of a
/// timestamp, a recovered item's token, or `v0` (what a row without either
/// reads as).
fn version_number(v: &Version) -> Option<u64> {
    v.as_str()
        .strip_prefix('v')
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
}

/// Whether a record at version `now` may be written by a step that expects
/// `expected`: the same version, or (both being `_version` numbers) an older
/// one — versions only grow, so a record behind the expected version is one
/// whose last write left it where a guess said it would not (see
/// [`WriteSide::update`]); nobody else wrote it since.
fn version_allows(expected: &Version, now: &Version) -> bool {
    match (version_number(expected), version_number(now)) {
        (Some(e), Some(n)) => n <= e,
        _ => expected == now,
    }
}

fn changed_since(id: &RemoteId, expected: &Version) -> ProviderError {
    ProviderError::new(
        ErrorKind::PreconditionFailed,
        format!("raynet activity {id} changed since version {expected}"),
    )
}

/// The engine's id of a meeting (`m-<id>`) or an event (`e-<id>`).
pub(super) fn activity_id(kind: ActivityKind, id: u64) -> Result<RemoteId, ProviderError> {
    let prefix = match kind {
        ActivityKind::Meeting => "m",
        ActivityKind::Event => "e",
    };
    RemoteId::new(format!("{prefix}-{id}")).map_err(|e| invalid("raynet id".into(), e))
}

/// The engine's id of a person (its id in decimal).
pub(super) fn person_id(id: u64) -> Result<RemoteId, ProviderError> {
    RemoteId::new(id.to_string()).map_err(|e| invalid("raynet id".into(), e))
}

fn vanished(kind: ActivityKind, id: u64) -> ProviderError {
    ProviderError::new(
        ErrorKind::NotFound,
        format!("raynet {} {id} vanished after a write", kind.as_str()),
    )
}

pub(super) fn person_email(p: &Person) -> Option<sync_core::Email> {
    let ci = p.contact_info.as_ref()?;
    [&ci.email, &ci.email2]
        .into_iter()
        .find_map(|m| m.as_deref().and_then(|m| sync_core::Email::new(m).ok()))
}

pub(super) fn window_query(base: ListQuery, window: Option<&Window>) -> ListQuery {
    let Some(w) = window else { return base };
    let mut q = base;
    if w.end < DateTime::<Utc>::MAX_UTC {
        q = q.filter("scheduledFrom", Op::Lt, w.end);
    }
    if w.start > DateTime::<Utc>::MIN_UTC {
        q = q.filter("scheduledTill", Op::Ge, w.start);
    }
    q
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
        if super::feed::owner_of(&a).is_some_and(|owner| owner != self.owner) {
            // Reassigned to someone else: it left this member's calendar (and is in theirs).
            return Ok(None);
        }
        self.remote_of(&a, kind).await.map(Some)
    }
}

#[async_trait]
impl WriteSide<Event> for RaynetCalendar {
    async fn create(
        &self,
        item: &Event,
        key: &IdempotencyKey,
    ) -> Result<Written<Event>, ProviderError> {
        let kind = item.kind.unwrap_or(ActivityKind::Event);
        let ext = format!("{EXT_ID_PREFIX}{key}");
        let mut body = event_to_new_activity(item, self.owner, &self.tz);
        // The key travels with the create, so that an interrupted create can
        // be found again (the extId endpoint below covers an API that ignores it).
        body.ext_id = Some(ext.clone());
        let mut created = self.handler(kind).create(&body).await;
        if created.as_ref().err().and_then(Error::status) == Some(400) {
            // An API that refuses `extId` in the insert body: create without it
            // (the extId endpoint then adds it).
            body.ext_id = None;
            created = self.handler(kind).create(&body).await;
        }
        let id = match created {
            Ok(id) => id,
            Err(e) if classify(&e) == ErrorKind::Interrupted => {
                // The create may have landed: look for it by its key.
                match self.handler(kind).by_ext_id(&ext).await {
                    Ok(a) => a.id,
                    Err(_) => return Err(e.into()),
                }
            }
            Err(e) => return Err(e.into()),
        };
        match self
            .finish_create(kind, id, item, &ext, body.ext_id.is_some())
            .await
        {
            Ok(written) => Ok(written),
            Err(e) => {
                // Never leave a half-made record behind (it would come back as
                // a new RAYNET item): undo the create, or say it may have landed.
                match self.handler(kind).delete(id).await {
                    Ok(()) => Err(e),
                    Err(undo) if undo.is_not_found() => Err(e),
                    Err(_) => Err(ProviderError::with_source(
                        ErrorKind::Interrupted,
                        format!("raynet {} {id} created but not completed", kind.as_str()),
                        e,
                    )),
                }
            }
        }
    }

    /// Sends the changed fields in one partial update (`POST /meeting/{id}/`).
    ///
    /// RAYNET ignores `_version` on writes, so the expected version is
    /// checked first: through the [`InstanceFeed`]'s shared listing when the
    /// provider has one, else by reading the record. A record whose version
    /// is newer than the expected one fails with
    /// [`ErrorKind::PreconditionFailed`] and nothing is sent.
    ///
    /// The answer is not read back: the engine records what it sent (as a
    /// read would map it back: an empty title as "(no title)", times to the
    /// minute in the instance's zone), and the version as the checked one
    /// plus one (`_version` increments on each write, raynet-api.md §4;
    /// whether always by exactly one is unverified).
    /// A wrong guess costs nothing: the written record's
    /// `rowInfo.lastModifiedAt` moved, so the next read lists it, and the
    /// engine, finding a version it did not record, compares the content with
    /// what it sent and records the version read. Checks accept a version
    /// older than the expected one (versions only grow, so only a guess can
    /// be ahead of the record). A changed attendee list is the exception:
    /// which attendees RAYNET can hold depends on its persons, so such an
    /// update reads the record before (for the participant diff) and after.
    async fn update(
        &self,
        id: &RemoteId,
        item: &Event,
        changed: FieldSet<EventField>,
        expected: Option<&Version>,
    ) -> Result<Written<Event>, ProviderError> {
        let (kind, n) = Self::parse_id(id)?;
        if changed.contains(EventField::Attendees) {
            return self
                .update_with_attendees(kind, n, item, changed, expected)
                .await;
        }
        let update = event_to_update(item, changed, &self.tz);
        let over = self.check_version(kind, n, id, expected).await?;
        if update.is_empty() {
            // Nothing RAYNET holds changes: answer what is there.
            return self.written(kind, n).await;
        }
        self.handler(kind).update(n, &update).await?;
        match over.and_then(|v| Version::new(format!("v{}", v.saturating_add(1))).ok()) {
            Some(version) => Ok(Written {
                id: id.clone(),
                version,
                item: self.held_after(item, changed, kind),
            }),
            None => self.written(kind, n).await,
        }
    }

    async fn delete(&self, id: &RemoteId, expected: Option<&Version>) -> Result<(), ProviderError> {
        let (kind, n) = Self::parse_id(id)?;
        if expected.is_some() {
            let Some(current) = self.fetch(kind, n).await? else {
                return Ok(());
            };
            Self::check_expected(&current, expected)?;
        }
        match self.handler(kind).delete(n).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn find_by_key(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<Remote<Event>>, ProviderError> {
        let ext = format!("{EXT_ID_PREFIX}{key}");
        for kind in [ActivityKind::Meeting, ActivityKind::Event] {
            match self.handler(kind).by_ext_id(&ext).await {
                Ok(a) => return self.remote_of(&a, kind).await.map(Some),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }
}

/// RAYNET persons as a read-only contact source (contacts flow one way).
///
/// Remote ids are the person ids in decimal. The scope is every person the
/// API user can see that matches the optional filter (e.g. owner or tag).
/// Reads work like [`RaynetCalendar`]'s: a complete listing with a watermark
/// cursor first, then deltas by `rowInfo.lastModifiedAt[GE]` (watermark −
/// overlap) with a `view=rowInfo` id listing of the scope in
/// [`SideRead::listed_ids`] on the schedule of
/// [`RaynetContacts::with_deletion_scan_every`]. A person whose row names its
/// company by id only gets the name from one `id[IN]` company listing per read
/// (per 1000 companies), so a company shared by many persons is fetched once.
#[derive(Debug, Clone)]
pub struct RaynetContacts {
    client: Client,
    filter: ListQuery,
    tz: Tz,
    incremental: Incremental,
    feed: Option<(InstanceFeed, PersonRoute)>,
}

impl RaynetContacts {
    /// All persons the API user can see.
    #[must_use]
    pub fn new(client: Client) -> Self {
        RaynetContacts {
            client,
            filter: ListQuery::new(),
            tz: DEFAULT_TIME_ZONE,
            incremental: Incremental::default(),
            feed: None,
        }
    }

    /// Takes incremental reads from `feed` (one person read of the whole
    /// instance per round, shared by every member) instead of sending its
    /// own; `route` says which of the feed's persons are this member's. A read
    /// the feed cannot serve is sent as without a feed (see
    /// [`RaynetCalendar::with_feed`]).
    #[must_use]
    pub fn with_feed(mut self, feed: InstanceFeed, route: PersonRoute) -> Self {
        self.feed = Some((feed, route));
        self
    }

    /// Only persons matching `filter` (e.g. `owner[EQ]=<person id>` or `tags=a`).
    #[must_use]
    pub fn with_filter(mut self, filter: ListQuery) -> Self {
        self.filter = filter;
        self
    }

    /// How far before the watermark an incremental read starts (default 2
    /// minutes); see [`RaynetCalendar::with_overlap`].
    #[must_use]
    pub fn with_overlap(mut self, overlap: chrono::Duration) -> Self {
        self.incremental.overlap = overlap;
        self
    }

    /// Runs the deletion scan (one `view=rowInfo` request per 1000 persons)
    /// on every `n`-th incremental read (default 1; `0`: never); see
    /// [`RaynetCalendar::with_deletion_scan_every`].
    #[must_use]
    pub fn with_deletion_scan_every(mut self, n: u32) -> Self {
        self.incremental.scan_every = n;
        self
    }

    fn remote_id(id: u64) -> Result<RemoteId, ProviderError> {
        person_id(id)
    }

    fn to_remote(
        &self,
        p: &Person,
        companies: &CompanyNames,
    ) -> Result<Remote<Contact>, ProviderError> {
        let item = person_to_contact_with(p, companies).normalized();
        item.validate()
            .map_err(|e| invalid(format!("raynet person {}", p.id), e))?;
        Ok(Remote {
            id: Self::remote_id(p.id)?,
            version: version_or_default(&p.row_info)?,
            modified: modified(&p.row_info, self.tz),
            item,
            key: key_of(p.ext_ids.as_ref()),
        })
    }

    /// Names of the companies `persons` name by id only (see [`super::feed::company_names`]).
    async fn company_names(&self, persons: &[Person]) -> Result<CompanyNames, Error> {
        super::feed::company_names(&self.client, persons).await
    }

    async fn map_rows(
        &self,
        persons: &[Person],
        completeness: Completeness,
    ) -> Result<SideRead<Contact>, ProviderError> {
        let companies = self.company_names(persons).await?;
        self.map_rows_with(persons.iter(), completeness, &companies)
    }

    fn map_rows_with<'a>(
        &self,
        persons: impl Iterator<Item = &'a Person>,
        completeness: Completeness,
        companies: &CompanyNames,
    ) -> Result<SideRead<Contact>, ProviderError> {
        let mut read = SideRead::complete(Vec::new());
        read.completeness = completeness;
        for p in persons {
            match self.to_remote(p, companies) {
                Ok(r) => read.items.push(r),
                Err(e) => read
                    .unreadable
                    .push((Self::remote_id(p.id)?, e.to_string())),
            }
        }
        Ok(read)
    }

    async fn full_read(&self) -> Result<SideRead<Contact>, ProviderError> {
        let (persons, server_time) = self.client.persons().list_all_timed(&self.filter).await?;
        let mut read = self.map_rows(&persons, Completeness::Complete).await?;
        let seen = newest(persons.iter().map(|p| &p.row_info), self.tz);
        read.cursor = next_cursor(None, server_time, seen, 0, None);
        Ok(read)
    }

    /// An incremental read served by the instance feed; `None` when the feed
    /// cannot serve it.
    async fn feed_read(
        &self,
        feed: &InstanceFeed,
        route: PersonRoute,
        mark: &Watermark,
    ) -> Option<Result<SideRead<Contact>, ProviderError>> {
        if feed.tz() != self.tz {
            return None;
        }
        let from = mark.at - self.incremental.overlap;
        let rows = match feed.person_rows(from, route, &self.filter).await? {
            Ok(rows) => rows,
            Err(e) => return Some(Err(e)),
        };
        let mine = |p: &&Person| match route {
            PersonRoute::Everyone => true,
            PersonRoute::OwnedBy(owner) => p.owner.as_ref().is_some_and(|o| o.id == owner),
        };
        let mut read = match self.map_rows_with(
            rows.persons.iter().filter(mine),
            Completeness::Delta,
            &rows.companies,
        ) {
            Ok(read) => read,
            Err(e) => return Some(Err(e)),
        };
        // Someone else's person may have been this member's before: a removal
        // marker lets the engine check a known one (the filtered `get`).
        for p in rows.persons.iter().filter(|p| !mine(p)) {
            match Self::remote_id(p.id) {
                Ok(id) => read.deleted.push(id),
                Err(e) => return Some(Err(e)),
            }
        }
        let since_scan = match &rows.listed {
            Some(ids) => {
                read.listed_ids = Some(ids.clone());
                0
            }
            None => mark.since_scan.saturating_add(1),
        };
        read.cursor = next_cursor(Some(mark), rows.server_time, rows.newest, since_scan, None);
        Some(Ok(read))
    }

    async fn delta_read(&self, mark: &Watermark) -> Result<SideRead<Contact>, ProviderError> {
        if let Some((feed, route)) = &self.feed {
            if let Some(read) = self.feed_read(feed, *route, mark).await {
                return read;
            }
        }
        let since = mark.at - self.incremental.overlap;
        let query = self.filter.clone().modified_since(&since);
        let (persons, server_time) = self.client.persons().list_all_timed(&query).await?;
        let mut read = self.map_rows(&persons, Completeness::Delta).await?;
        let scan = self.incremental.scan_due(mark.since_scan);
        if scan {
            let ids = self.filter.clone().sort("id", SortDirection::Asc);
            let rows: Vec<RowSummary> = self.client.persons().row_summaries(&ids).await?;
            read.listed_ids = Some(
                rows.iter()
                    .map(|r| Self::remote_id(r.id))
                    .collect::<Result<_, _>>()?,
            );
        }
        let seen = newest(persons.iter().map(|p| &p.row_info), self.tz);
        let since_scan = if scan {
            0
        } else {
            mark.since_scan.saturating_add(1)
        };
        read.cursor = next_cursor(Some(mark), server_time, seen, since_scan, None);
        Ok(read)
    }
}

#[async_trait]
impl ReadSide<Contact> for RaynetContacts {
    fn profile(&self) -> ContactProfile {
        ContactProfile::default()
    }

    async fn read(&self, request: &ReadRequest) -> Result<SideRead<Contact>, ProviderError> {
        match parse_cursor(request, None) {
            None => self.full_read().await,
            Some(mark) => self.delta_read(&mark).await,
        }
    }

    async fn get(&self, id: &RemoteId) -> Result<Option<Remote<Contact>>, ProviderError> {
        let Ok(n) = id.as_str().parse::<u64>() else {
            return Ok(None);
        };
        let person = if self.filter.to_pairs().is_empty() {
            match self.client.persons().get(n).await {
                Ok(p) => Some(p),
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(e.into()),
            }
        } else {
            // A person outside the filter (a tag removed, another owner) is gone from this
            // listing: look it up through the same filter, so that it counts as deleted.
            let query = self.filter.clone().filter("id", Op::Eq, n).limit(1);
            self.client
                .persons()
                .list(&query)
                .await?
                .items
                .into_iter()
                .next()
        };
        let Some(p) = person else {
            return Ok(None);
        };
        let companies = self.company_names(std::slice::from_ref(&p)).await?;
        self.to_remote(&p, &companies).map(Some)
    }
}
