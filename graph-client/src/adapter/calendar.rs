//! [`GraphCalendar`]: one member's default calendar as the engine's Outlook side.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use sync_core::{
    Completeness, Cursor, ErrorKind, Event, EventField, EventProfile, FieldSet, IdempotencyKey,
    ProviderError, ReadRequest, ReadSide, Remote, RemoteId, SideRead, SyncItem, UpdateRequest,
    Version, Window, WriteSide, Written,
};

use super::batch_send::WriteKind;
use super::batch_write::BatchWrites;
use super::error::MapError;
use super::event_map::{
    event_from_core, event_patch, event_remote, fill_from_master, patch_is_empty,
};
use super::keys::{if_match, version_of};
use super::mailbox::{Mailbox, mailbox_side_methods};
use super::time::instant;
use crate::client::models::{self, EventType};
use crate::client::{Client, DeltaRound, Error};

/// Version tag of the cursor encoding (`gc1;<start>;<end>;<deltaLink>`).
const CURSOR_TAG: &str = "gc1";

/// Graph cannot serve an unbounded calendar view: an open window is clamped to these years.
const EARLIEST_YEAR: i32 = 1900;
const LATEST_YEAR: i32 = 2200;

/// One member's default Outlook calendar, as the engine's Outlook side
/// ([`ReadSide`] + [`WriteSide`] of [`Event`]).
///
/// - **Reads** are calendar-view delta rounds over the requested window (padded by a day on
///   each side, then filtered on the items' own dates, since Graph places all-day events at
///   the mailbox's midnight). Without a cursor (or
///   with one for another window, or an expired one) a full round is read and reported
///   [`Completeness::Complete`]; with a cursor the changes since it are read and reported
///   [`Completeness::Delta`], the `@removed` ids as `deleted` (the engine confirms each with
///   [`ReadSide::get`]: Graph says "removed" both for deletions and for items that left the
///   window). The cursor holds the window and Graph's whole `@odata.deltaLink`. Sparse
///   occurrences are completed from their series master (one `GET` per master per read);
///   every occurrence is its own item. Items that cannot be mapped are listed in
///   [`SideRead::unreadable`]. Delta items never carry extended properties (Graph refuses
///   `$expand` on delta), so [`Remote::key`] is `None` on reads; [`ReadSide::get`] and
///   [`WriteSide::find_by_key`] return it.
/// - **Writes**: a create is one `POST` with `transactionId` = the idempotency key (Graph
///   dedupes a repeat) and the key in the extended property [`LINK_PROPERTY_ID`]; attendees
///   are written only when the event has some (they get invitations). An update `PATCH`es
///   only the changed fields with `If-Match` (never the attendees unless they changed:
///   rewriting them re-sends invitations); a delete sends `If-Match` too. Times are written in
///   UTC. [`WriteSide::create_many`] and [`WriteSide::update_many`] send the same requests as
///   `$batch` sub-requests (same body, `If-Match` and `Prefer` headers) and give each item
///   the result its single write would.
/// - **Errors** map through [`super::classify`]; a user without an Exchange Online mailbox
///   is [`ErrorKind::Unsupported`] ("mailbox not enabled for REST") and one outside the
///   application access policy [`ErrorKind::Unauthorized`] ("outside the app's access
///   policy"): report the member as not syncable.
///
/// Requests: an idle read is 1 (the delta link answers an empty page with a new link), or 0
/// when its first page was prefetched ([`GraphCalendar::with_prefetch`]: the stored delta
/// links of up to 20 reads, calendar and contacts alike, cost one `$batch` together); a
/// delta read spanning several pages costs one per further page; a full read is one per
/// page (`odata.maxpagesize`) plus one per series master; a create, update or delete is 1
/// (an update that changes nothing Graph holds is one `GET`); [`WriteSide::create_many`] is
/// one `$batch` per 20 creates and [`WriteSide::update_many`] one per 20 updates (plus one
/// `GET` per update that changes nothing Graph holds), and a sub-request Graph throttles is
/// sent again in a further `$batch` after its `Retry-After`; with a packer
/// ([`GraphCalendar::with_packer`]) the batched writes of all the sides sharing it fill
/// `$batch` requests of 20 together; `get` and `find_by_key` are 1.
///
/// [`LINK_PROPERTY_ID`]: super::keys::LINK_PROPERTY_ID
#[derive(Debug, Clone)]
pub struct GraphCalendar {
    mailbox: Mailbox,
    masters: SeriesMasters,
}

/// A series master by id, and when it was read.
type KeptMasters = HashMap<String, (models::Event, std::time::Instant)>;

/// Series masters kept between reads (10 minutes each): Graph lists a series' occurrences
/// sparse, and replays the last item of a delta now and then, so a read that meets a known
/// series' occurrence completes it without reading the master again. A master that changed
/// comes in the delta itself and replaces the kept one; one that was deleted is forgotten.
/// Clones share the cache.
#[derive(Clone, Debug, Default)]
pub struct SeriesMasters {
    kept: std::sync::Arc<std::sync::Mutex<HashMap<String, (models::Event, std::time::Instant)>>>,
}

impl SeriesMasters {
    const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(600);

    fn kept(&self) -> std::sync::MutexGuard<'_, KeptMasters> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, id: &str) -> Option<models::Event> {
        let mut kept = self.kept();
        kept.retain(|_, (_, at)| at.elapsed() < Self::MAX_AGE);
        kept.get(id).map(|(ev, _)| ev.clone())
    }

    fn put(&self, id: &str, master: &models::Event) {
        self.kept()
            .insert(id.to_owned(), (master.clone(), std::time::Instant::now()));
    }

    fn forget(&self, id: &str) {
        self.kept().remove(id);
    }
}

mailbox_side_methods!(GraphCalendar);

impl GraphCalendar {
    /// The default calendar of the user `user_id` (object id or UPN).
    #[must_use]
    pub fn new(client: Client, user_id: impl Into<String>) -> Self {
        Self {
            mailbox: Mailbox::new(client, user_id.into()),
            masters: SeriesMasters::default(),
        }
    }

    /// Keeps series masters in `cache` between reads (see [`SeriesMasters`]).
    #[must_use]
    pub fn with_series_masters(mut self, cache: SeriesMasters) -> Self {
        self.masters = cache;
        self
    }

    /// The delta link a read with `cursor` over `window` (the [`ReadRequest`]'s) resumes from,
    /// to prefetch it ([`DeltaPrefetch`]); `None` when the read would not resume from
    /// the cursor (not ours, or for another window: the read is then a full one).
    ///
    /// [`DeltaPrefetch`]: super::prefetch::DeltaPrefetch
    #[must_use]
    pub fn resume_link(cursor: &Cursor, window: &Window) -> Option<String> {
        resume_from(Some(cursor), &effective_window(Some(*window)))
    }

    fn remote(&self, event: &models::Event) -> Result<Remote<Event>, MapError> {
        let mut r = event_remote(event, self.mailbox.property_id())?;
        r.item = r.item.normalized();
        Ok(r)
    }

    /// A full round over the window padded by a day on each side: Graph stores all-day
    /// events at the mailbox's midnight, so an unpadded window can drop them at its edges.
    async fn full_round(&self, window: &Window) -> Result<DeltaRound<models::Event>, Error> {
        let pad = chrono::Duration::days(1);
        self.mailbox
            .events()
            .delta_full(window.start - pad, window.end + pad)
            .await
    }

    /// The items of a round: replays collapsed (the last copy wins), sparse occurrences
    /// completed, unmappable items set aside.
    async fn assemble(
        &self,
        round: DeltaRound<models::Event>,
        completeness: Completeness,
        window: &Window,
    ) -> Result<SideRead<Event>, ProviderError> {
        let mut read = SideRead::complete(Vec::new());
        read.completeness = completeness;
        self.mailbox.set_aside(&mut read, round.failed);
        let mut masters: HashMap<String, Option<models::Event>> = HashMap::new();
        for (id, ev) in self
            .mailbox
            .last_copies(round.items, |ev| ev.id.as_ref(), "a delta item")
        {
            let rid = match RemoteId::new(id) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(mailbox = %self.mailbox.user(), error = %e, "an unusable event id was ignored");
                    continue;
                }
            };
            if ev.is_removed() {
                self.masters.forget(rid.as_str());
                if completeness == Completeness::Delta {
                    read.deleted.push(rid);
                }
                continue;
            }
            if ev.kind == Some(EventType::SeriesMaster) {
                // Not an item of the view: its occurrences are. A full master is kept.
                if ev.subject.is_some() {
                    self.masters.put(rid.as_str(), &ev);
                }
                continue;
            }
            let ev = match self.complete(ev, &mut masters).await? {
                Ok(ev) => ev,
                Err(why) => {
                    read.unreadable.push((rid, why));
                    continue;
                }
            };
            match self.remote(&ev) {
                Ok(r)
                    if !window.overlaps(r.item.schedule.start_utc(), r.item.schedule.end_utc()) =>
                {
                    // Only in the padding: not in scope. In a delta it may have just left the
                    // window: a removal marker lets the engine check it.
                    if completeness == Completeness::Delta {
                        read.deleted.push(r.id);
                    }
                }
                Ok(mut r) => {
                    // Delta never carries extended properties (see the type's docs).
                    r.key = None;
                    read.items.push(r);
                }
                Err(e) => read.unreadable.push((rid, e.to_string())),
            }
        }
        read.cursor = encode_cursor(window, &round.delta_link);
        Ok(read)
    }

    /// Completes a sparse occurrence from its series master (fetched once per read).
    /// `Ok(Err(reason))` when the occurrence cannot be completed.
    async fn complete(
        &self,
        mut ev: models::Event,
        masters: &mut HashMap<String, Option<models::Event>>,
    ) -> Result<Result<models::Event, String>, ProviderError> {
        if ev.kind != Some(EventType::Occurrence) {
            return Ok(Ok(ev));
        }
        if ev.original_start.is_none() {
            // An unmodified occurrence starts where the pattern put it.
            ev.original_start = ev
                .start
                .as_ref()
                .and_then(|s| instant("start", s).ok())
                .map(|s| s.to_rfc3339_opts(SecondsFormat::Secs, true));
        }
        if ev.subject.is_some() {
            return Ok(Ok(ev));
        }
        let Some(master_id) = ev.series_master_id.clone() else {
            return Ok(Err("a sparse occurrence without a series master id".into()));
        };
        if !masters.contains_key(&master_id) {
            let master = match self.masters.get(&master_id) {
                Some(m) => Some(m),
                None => match self.mailbox.events().get(&master_id).await {
                    Ok(m) => {
                        self.masters.put(&master_id, &m);
                        Some(m)
                    }
                    Err(e) if e.is_not_found() => None,
                    Err(e) => return Err(self.mailbox.error("reading a series master", e)),
                },
            };
            masters.insert(master_id.clone(), master);
        }
        Ok(match masters.get(&master_id) {
            Some(Some(master)) => Ok(fill_from_master(&ev, master)),
            _ => Err(format!("its series master {master_id} was not found")),
        })
    }

    fn written(&self, ev: &models::Event, sent: &Event) -> Result<Written<Event>, ProviderError> {
        match self.remote(ev) {
            Ok(r) => Ok(Written {
                id: r.id,
                version: r.version,
                item: Some(r.item),
            }),
            Err(e) => {
                // Mapping the answer failed: keep what was sent, but the id and version are
                // needed.
                let id = ev.id.clone().ok_or_else(|| {
                    ProviderError::with_source(
                        ErrorKind::Invalid,
                        "graph answered a write without an id",
                        e,
                    )
                })?;
                let version =
                    version_of(ev.change_key.as_deref(), ev.etag.as_deref()).ok_or_else(|| {
                        ProviderError::new(
                            ErrorKind::Invalid,
                            "graph answered a write without a version",
                        )
                    })?;
                Ok(Written {
                    id: RemoteId::new(id).map_err(|e| {
                        ProviderError::with_source(ErrorKind::Invalid, "event id", e)
                    })?,
                    version: Version::new(version).map_err(|e| {
                        ProviderError::with_source(ErrorKind::Invalid, "event version", e)
                    })?,
                    item: Some(sent.clone()),
                })
            }
        }
    }
}

/// The window actually read: an open window is clamped to what Graph can serve.
fn effective_window(window: Option<Window>) -> Window {
    let w = window.unwrap_or_else(Window::everything);
    let floor = Utc
        .with_ymd_and_hms(EARLIEST_YEAR, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let ceiling = Utc
        .with_ymd_and_hms(LATEST_YEAR, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    Window {
        start: w.start.max(floor),
        end: w.end.min(ceiling),
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `gc1;<start>;<end>;<deltaLink>`; `None` when it does not fit a cursor (the next read is
/// then a full round, which is safe).
fn encode_cursor(window: &Window, delta_link: &str) -> Option<Cursor> {
    let cursor = Cursor::new(format!(
        "{CURSOR_TAG};{};{};{delta_link}",
        stamp(window.start),
        stamp(window.end)
    ));
    if let Err(e) = &cursor {
        tracing::warn!(error = %e, len = delta_link.len(), "the delta link does not fit a cursor: the next read is a full one");
    }
    cursor.ok()
}

/// The window and delta link of a cursor of ours, `None` for anything else.
fn decode_cursor(cursor: &Cursor) -> Option<(Window, String)> {
    let mut parts = cursor.as_str().splitn(4, ';');
    if parts.next()? != CURSOR_TAG {
        return None;
    }
    let start = DateTime::parse_from_rfc3339(parts.next()?).ok()?;
    let end = DateTime::parse_from_rfc3339(parts.next()?).ok()?;
    let link = parts.next().filter(|l| !l.is_empty())?;
    Some((
        Window {
            start: start.with_timezone(&Utc),
            end: end.with_timezone(&Utc),
        },
        link.to_owned(),
    ))
}

/// The delta link a read over `window` (already [`effective_window`]) resumes from: the
/// cursor's, when it is ours and for this window. An empty window is never read.
fn resume_from(cursor: Option<&Cursor>, window: &Window) -> Option<String> {
    if window.end <= window.start {
        return None;
    }
    cursor
        .and_then(decode_cursor)
        .filter(|(w, _)| w == window)
        .map(|(_, link)| link)
}

/// The `If-Match` of an update: the expected version, or `*` (any) without one.
fn update_etag(expected: Option<&Version>) -> String {
    expected.map_or_else(|| "*".to_owned(), |v| if_match(v.as_str()))
}

#[async_trait]
impl ReadSide<Event> for GraphCalendar {
    fn profile(&self) -> EventProfile {
        EventProfile::outlook()
    }

    async fn read(&self, request: &ReadRequest) -> Result<SideRead<Event>, ProviderError> {
        let window = effective_window(request.window);
        if window.end <= window.start {
            return Ok(SideRead::complete(Vec::new()));
        }
        if let Some(link) = resume_from(request.cursor.as_ref(), &window) {
            let events = self.mailbox.events();
            let resumed = self
                .mailbox
                .resume(
                    &link,
                    "GET /users/{id}/calendarView/delta link ($batch)",
                    "calendar changes",
                    |first| events.delta_resume_from(first),
                    || events.delta_resume(&link),
                )
                .await
                .map_err(|e| self.mailbox.error("reading calendar changes", e))?;
            if let Some(round) = resumed {
                return self.assemble(round, Completeness::Delta, &window).await;
            }
        }
        let round = self
            .full_round(&window)
            .await
            .map_err(|e| self.mailbox.error("reading the calendar", e))?;
        let completeness = Completeness::Complete;
        self.assemble(round, completeness, &window).await
    }

    async fn get(&self, id: &RemoteId) -> Result<Option<Remote<Event>>, ProviderError> {
        match self
            .mailbox
            .events()
            .get_with_property(id.as_str(), self.mailbox.property_id())
            .await
        {
            // A series master is not an item of the view (its occurrences are): a single
            // event the user turned into a series is gone as such.
            Ok(ev) if ev.kind == Some(EventType::SeriesMaster) => Ok(None),
            Ok(ev) => self.remote(&ev).map(Some).map_err(|e| {
                ProviderError::with_source(ErrorKind::Invalid, format!("event {id}"), e)
            }),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(self.mailbox.error(&format!("reading event {id}"), e)),
        }
    }
}

#[async_trait]
impl WriteSide<Event> for GraphCalendar {
    async fn create(
        &self,
        item: &Event,
        key: &IdempotencyKey,
    ) -> Result<Written<Event>, ProviderError> {
        let mut body = event_from_core(item, !item.attendees.is_empty());
        body.single_value_extended_properties = Some(self.mailbox.link(key));
        match self.mailbox.events().create(&body, key.as_str()).await {
            Ok(created) => self.written(&created, item),
            Err(e) => Err(self.mailbox.create_error("an event", e)),
        }
    }

    fn max_batch(&self) -> usize {
        crate::client::MAX_BATCH_REQUESTS
    }

    /// Creates the events in `$batch` requests of at most 20 (packed with other sides' writes
    /// when the side has a packer), each sub-request with `transactionId` = the idempotency
    /// key and the key in the link property, as [`WriteSide::create`] does. One result per item, in order; a lost batch answer makes
    /// every item of it [`ErrorKind::Interrupted`] (the engine then looks each up by its key).
    async fn create_many(
        &self,
        items: &[(&Event, &IdempotencyKey)],
    ) -> Vec<Result<Written<Event>, ProviderError>> {
        let events = self.mailbox.events();
        let context = format!("creating an event (mailbox {})", self.mailbox.user());
        let mut writes =
            BatchWrites::new(items.len(), "POST /users/{id}/events", WriteKind::Create);
        for (item, key) in items {
            let mut body = event_from_core(item, !item.attendees.is_empty());
            body.single_value_extended_properties = Some(self.mailbox.link(key));
            let request = events
                .create_in_batch("", &body, key.as_str())
                .map_err(|e| self.mailbox.error("creating an event", e));
            writes.push(request, context.clone());
        }
        writes
            .send(&self.mailbox, |i, ev: models::Event| {
                self.written(&ev, items[i].0)
            })
            .await
    }

    async fn update(
        &self,
        id: &RemoteId,
        item: &Event,
        changed: FieldSet<EventField>,
        expected: Option<&Version>,
    ) -> Result<Written<Event>, ProviderError> {
        let patch = event_patch(item, changed);
        let events = self.mailbox.events();
        if patch_is_empty(&patch) {
            // Nothing Graph holds changed: check the version and answer what is there.
            let current = match events.get(id.as_str()).await {
                Ok(ev) => ev,
                Err(e) => return Err(self.mailbox.error(&format!("reading event {id}"), e)),
            };
            let written = self.written(&current, item)?;
            if let Some(expected) = expected {
                if &written.version != expected {
                    return Err(ProviderError::new(
                        ErrorKind::PreconditionFailed,
                        format!("event {id} changed since version {expected}"),
                    ));
                }
            }
            return Ok(written);
        }
        match events
            .update(id.as_str(), &patch, &update_etag(expected))
            .await
        {
            Ok(ev) => self.written(&ev, item),
            Err(e) => Err(self.mailbox.error(&format!("updating event {id}"), e)),
        }
    }

    /// Updates the events in `$batch` requests of at most 20 (packed with other sides' writes
    /// when the side has a packer), each sub-request the `PATCH` [`WriteSide::update`] sends: only the changed fields ([`event_patch`]: never the
    /// attendees unless they changed), `If-Match` with the expected version (`*` without
    /// one), `Prefer: outlook.timezone="UTC"` (the batch adds `IdType="ImmutableId"`). An
    /// update that changes nothing Graph holds takes the single path (one `GET` that checks
    /// the version). One result per item, in order, each what [`WriteSide::update`] would
    /// give: the event read back from the answer with its new version, or the same error
    /// (412 → [`ErrorKind::PreconditionFailed`], 404 → [`ErrorKind::NotFound`], still
    /// throttled after the client's retries → [`ErrorKind::Throttled`]); a failed batch fails
    /// each of its items with its error.
    async fn update_many(
        &self,
        items: &[UpdateRequest<'_, Event>],
    ) -> Vec<Result<Written<Event>, ProviderError>> {
        let events = self.mailbox.events();
        let mut writes = BatchWrites::new(
            items.len(),
            "PATCH /users/{id}/events/{id}",
            WriteKind::Update,
        );
        for u in items {
            let patch = event_patch(u.item, u.changed);
            if patch_is_empty(&patch) {
                writes.settle(self.update(u.id, u.item, u.changed, u.expected).await);
                continue;
            }
            let context = format!("updating event {}", u.id);
            let request = events
                .update_in_batch("", u.id.as_str(), &patch, &update_etag(u.expected))
                .map_err(|e| self.mailbox.error(&context, e));
            writes.push(
                request,
                format!("{context} (mailbox {})", self.mailbox.user()),
            );
        }
        writes
            .send(&self.mailbox, |i, ev: models::Event| {
                self.written(&ev, items[i].item)
            })
            .await
    }

    async fn delete(&self, id: &RemoteId, expected: Option<&Version>) -> Result<(), ProviderError> {
        let etag = expected.map(|v| if_match(v.as_str()));
        let answer = self
            .mailbox
            .events()
            .delete(id.as_str(), etag.as_deref())
            .await;
        self.mailbox.deleted("event", id, answer)
    }

    async fn find_by_key(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<Remote<Event>>, ProviderError> {
        let found = self
            .mailbox
            .events()
            .find_by_extended_property(self.mailbox.property_id(), key.as_str())
            .await
            .map_err(|e| self.mailbox.error("looking an event up by its sync key", e))?;
        let Some(ev) = found
            .into_iter()
            .find(|e| e.kind != Some(EventType::SeriesMaster))
        else {
            return Ok(None);
        };
        let mut r = self
            .remote(&ev)
            .map_err(|e| ProviderError::with_source(ErrorKind::Invalid, "event found by key", e))?;
        r.key.get_or_insert_with(|| key.clone());
        Ok(Some(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn january_2030() -> Window {
        Window {
            start: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2030, 2, 1, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn cursors_carry_their_window() {
        let w = january_2030();
        let link = "https://graph.microsoft.com/v1.0/users/x/calendarView/delta?$deltatoken=a;b";
        let c = encode_cursor(&w, link).expect("fits");
        assert_eq!(decode_cursor(&c), Some((w, link.to_owned())));
        assert_eq!(decode_cursor(&Cursor::new("gc0;x").unwrap()), None);
        assert_eq!(decode_cursor(&Cursor::new("whatever").unwrap()), None);
        assert!(
            encode_cursor(&w, &"x".repeat(3000)).is_none(),
            "too long: no cursor"
        );
    }

    #[test]
    fn reads_resume_only_from_their_own_window() {
        let w = january_2030();
        let link = "https://graph.microsoft.com/v1.0/users/x/calendarView/delta?$deltatoken=t";
        let c = encode_cursor(&w, link).expect("fits");
        assert_eq!(GraphCalendar::resume_link(&c, &w), Some(link.to_owned()));
        let moved = Window {
            start: w.start + chrono::Duration::days(1),
            end: w.end + chrono::Duration::days(1),
        };
        assert_eq!(
            GraphCalendar::resume_link(&c, &moved),
            None,
            "another window"
        );
        let empty = Window {
            start: w.end,
            end: w.start,
        };
        assert_eq!(GraphCalendar::resume_link(&c, &empty), None, "never read");
        for foreign in [
            format!("gc1c;FOLDER;{link}"),
            format!("gc2;2030-01-01T00:00:00Z;2030-02-01T00:00:00Z;{link}"),
            "gc1;2030-01-01T00:00:00Z;2030-02-01T00:00:00Z;".to_owned(),
            "rn1;12345".to_owned(),
        ] {
            let c = Cursor::new(foreign.clone()).unwrap();
            assert_eq!(GraphCalendar::resume_link(&c, &w), None, "{foreign}");
        }
        // An open window is clamped the same way a read clamps it.
        let open = effective_window(None);
        let c = encode_cursor(&open, link).expect("fits");
        assert_eq!(
            GraphCalendar::resume_link(&c, &Window::everything()),
            Some(link.to_owned())
        );
    }

    #[test]
    fn open_windows_are_clamped() {
        let w = effective_window(None);
        assert!(w.start.timestamp() < 0 && w.end > w.start);
    }
}
