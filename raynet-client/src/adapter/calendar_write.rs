//! The writes of [`RaynetCalendar`] ([`WriteSide`]): creates (the idempotency
//! key as an extId, the follow-up update, the read-back unless
//! [`InstanceFacts`] says it can be skipped), the version check RAYNET does not
//! do itself (through the [`InstanceFeed`] or a read), partial updates and
//! deletes.
//!
//! [`InstanceFacts`]: super::facts::InstanceFacts
//! [`InstanceFeed`]: super::feed::InstanceFeed

use async_trait::async_trait;
use sync_core::{
    ActivityKind, ErrorKind, Event, EventField, EventProfile, EventStatus, FieldSet,
    IdempotencyKey, ProviderError, Remote, RemoteId, SyncItem, Version, WriteSide, Written,
};

use super::calendar::RaynetCalendar;
use super::error::classify;
use super::event_map::{
    activity_to_core, event_to_new_activity, event_to_update, participant_changes,
};
use super::feed::Recheck;
use super::lookup::EmailsByPerson;
use super::rows::{EXT_ID_PREFIX, version_or_default};
use crate::client::error::Error;
use crate::client::models::{ActivityUpdate, CalendarActivity, EntityName};
use crate::client::query::{ListQuery, Op};

impl RaynetCalendar {
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
        update: &mut ActivityUpdate,
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
    ///
    /// [`InstanceFacts`]: crate::adapter::InstanceFacts
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
    /// sent, as a read maps them back (an empty title reads as [`UNTITLED`], times in the
    /// instance's zone, the description through HTML), the others as they were. `None` when
    /// that cannot be told (the engine then records the item as sent).
    ///
    /// [`UNTITLED`]: super::event_map::UNTITLED
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
        let read = activity_to_core(&record, kind, &self.tz, &EmailsByPerson::new()).ok()?;
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

fn vanished(kind: ActivityKind, id: u64) -> ProviderError {
    ProviderError::new(
        ErrorKind::NotFound,
        format!("raynet {} {id} vanished after a write", kind.as_str()),
    )
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
    ///
    /// [`InstanceFeed`]: crate::adapter::InstanceFeed
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
