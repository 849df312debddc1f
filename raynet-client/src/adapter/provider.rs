//! The engine's provider traits ([`ReadSide`], [`WriteSide`]) for RAYNET.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sync_core::{
    ActivityKind, Completeness, Contact, ContactProfile, ErrorKind, Event, EventField,
    EventProfile, EventStatus, FieldSet, IdempotencyKey, ProviderError, ReadRequest, ReadSide,
    Remote, RemoteId, SideRead, SyncItem, Version, Window, WriteSide, Written,
};

use super::{
    DEFAULT_TIME_ZONE, EmailsByPerson, activity_to_core, event_to_new_activity, event_to_update,
    participant_changes, person_to_contact, version_of,
};
use crate::client::error::Error;
use crate::client::models::{CalendarActivity, Person, RowInfo};
use crate::client::query::{FilterValue, ListQuery, Op};
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

fn modified(row: &RowInfo, tz: Tz) -> Option<DateTime<Utc>> {
    row.last_modified_at.as_ref().and_then(|t| t.to_utc(&tz))
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
/// spaces overlap). Reads are complete listings of the window (owner filter
/// `owner-id`); participants' e-mails come from one `id[IN]` person read per
/// 1000 persons. Creates leave the idempotency key as the external id
/// `raynet-sync:<key>`. RAYNET ignores `_version` on writes, so `expected`
/// versions are checked by reading the record first.
#[derive(Debug, Clone)]
pub struct RaynetCalendar {
    client: Client,
    owner: u64,
    tz: Tz,
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
        }
    }

    /// Sets the instance's time zone.
    #[must_use]
    pub fn with_time_zone(mut self, tz: Tz) -> Self {
        self.tz = tz;
        self
    }

    fn handler(&self, kind: ActivityKind) -> Activities<'_> {
        match kind {
            ActivityKind::Meeting => self.client.meetings(),
            ActivityKind::Event => self.client.events(),
        }
    }

    fn remote_id(kind: ActivityKind, id: u64) -> Result<RemoteId, ProviderError> {
        let prefix = match kind {
            ActivityKind::Meeting => "m",
            ActivityKind::Event => "e",
        };
        RemoteId::new(format!("{prefix}-{id}")).map_err(|e| invalid("raynet id".into(), e))
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
        let ids: BTreeSet<u64> = rows
            .iter()
            .flat_map(|a| a.participants.iter())
            .filter(|p| p.owner != Some(true))
            .filter_map(|p| p.person.as_ref().map(|r| r.id))
            .collect();
        let ids: Vec<u64> = ids.into_iter().collect();
        let mut out = EmailsByPerson::new();
        for chunk in ids.chunks(1000) {
            let q = ListQuery::new().filter("id", Op::In, FilterValue::list(chunk.iter().copied()));
            for p in self.client.persons().list_all(&q).await? {
                if let Some(email) = person_email(&p) {
                    out.insert(p.id, email);
                }
            }
        }
        Ok(out)
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

    async fn fetch_remote(
        &self,
        kind: ActivityKind,
        id: u64,
    ) -> Result<Option<Remote<Event>>, ProviderError> {
        let Some(a) = self.fetch(kind, id).await? else {
            return Ok(None);
        };
        let emails = self.emails_for(&[&a]).await?;
        self.to_remote(&a, kind, &emails).map(Some)
    }

    async fn written(&self, kind: ActivityKind, id: u64) -> Result<Written<Event>, ProviderError> {
        let remote = self.fetch_remote(kind, id).await?.ok_or_else(|| {
            ProviderError::new(
                ErrorKind::NotFound,
                format!("raynet {} {id} vanished after a write", kind.as_str()),
            )
        })?;
        Ok(Written {
            id: remote.id,
            version: remote.version,
            item: Some(remote.item),
        })
    }

    /// Person ids of the attendees RAYNET knows by e-mail (others are left out).
    async fn person_ids_for(&self, item: &Event) -> Result<Vec<u64>, Error> {
        let mut ids = Vec::new();
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
                if p.id != self.owner && !ids.contains(&p.id) {
                    ids.push(p.id);
                }
            }
        }
        Ok(ids)
    }

    fn check_expected(
        current: &CalendarActivity,
        expected: Option<&Version>,
    ) -> Result<(), ProviderError> {
        if let Some(expected) = expected {
            if version_of(&current.row_info).as_ref() != Some(expected) {
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

fn person_email(p: &Person) -> Option<sync_core::Email> {
    let ci = p.contact_info.as_ref()?;
    [&ci.email, &ci.email2]
        .into_iter()
        .find_map(|m| m.as_deref().and_then(|m| sync_core::Email::new(m).ok()))
}

fn window_query(base: ListQuery, window: Option<&Window>) -> ListQuery {
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
        let query = window_query(
            ListQuery::new().filter("owner-id", Op::Eq, self.owner),
            request.window.as_ref(),
        );
        let meetings = self.client.meetings().list_all(&query).await?;
        let events = self.client.events().list_all(&query).await?;
        let all: Vec<&CalendarActivity> = meetings.iter().chain(events.iter()).collect();
        let emails = self.emails_for(&all).await?;
        let mut read = SideRead::complete(Vec::new());
        let tagged = meetings
            .iter()
            .map(|a| (ActivityKind::Meeting, a))
            .chain(events.iter().map(|a| (ActivityKind::Event, a)));
        for (kind, a) in tagged {
            match self.to_remote(a, kind, &emails) {
                Ok(remote) => read.items.push(remote),
                Err(e) => read
                    .unreadable
                    .push((Self::remote_id(kind, a.id)?, e.to_string())),
            }
        }
        debug_assert_eq!(read.completeness, Completeness::Complete);
        Ok(read)
    }

    async fn get(&self, id: &RemoteId) -> Result<Option<Remote<Event>>, ProviderError> {
        let (kind, n) = Self::parse_id(id)?;
        self.fetch_remote(kind, n).await
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
        let body = event_to_new_activity(item, self.owner, &self.tz);
        let id = self.handler(kind).create(&body).await?;
        let entity = match kind {
            ActivityKind::Meeting => EntityName::Meeting,
            ActivityKind::Event => EntityName::Event,
        };
        self.client
            .ext_ids(entity, id)
            .add(&format!("{EXT_ID_PREFIX}{key}"))
            .await?;
        // The insert DTO lacks place, privacy, status and participants.
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
        if !item.attendees.is_empty() {
            let wanted = self.person_ids_for(item).await?;
            let current = self
                .fetch(kind, id)
                .await?
                .map(|a| a.participants)
                .unwrap_or_default();
            let changes = participant_changes(&current, &wanted);
            if !changes.is_empty() {
                update.participants = Some(changes);
            }
        }
        if !update.is_empty() {
            self.handler(kind).update(id, &update).await?;
        }
        self.written(kind, id).await
    }

    async fn update(
        &self,
        id: &RemoteId,
        item: &Event,
        changed: FieldSet<EventField>,
        expected: Option<&Version>,
    ) -> Result<Written<Event>, ProviderError> {
        let (kind, n) = Self::parse_id(id)?;
        let current = self
            .fetch(kind, n)
            .await?
            .ok_or_else(|| ProviderError::new(ErrorKind::NotFound, format!("raynet {id}")))?;
        Self::check_expected(&current, expected)?;
        let mut update = event_to_update(item, changed, &self.tz);
        if changed.contains(EventField::Attendees) {
            let wanted = self.person_ids_for(item).await?;
            let changes = participant_changes(&current.participants, &wanted);
            if !changes.is_empty() {
                update.participants = Some(changes);
            }
        }
        if !update.is_empty() {
            self.handler(kind).update(n, &update).await?;
        }
        self.written(kind, n).await
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
                Ok(a) => {
                    let emails = self.emails_for(&[&a]).await?;
                    return self.to_remote(&a, kind, &emails).map(Some);
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }
}

/// RAYNET persons as a read-only contact source (contacts flow one way).
///
/// Remote ids are the person ids in decimal. The listing is every person the
/// API user can see that matches the optional filter (e.g. owner or tag).
#[derive(Debug, Clone)]
pub struct RaynetContacts {
    client: Client,
    filter: ListQuery,
    tz: Tz,
}

impl RaynetContacts {
    /// All persons the API user can see.
    #[must_use]
    pub fn new(client: Client) -> Self {
        RaynetContacts {
            client,
            filter: ListQuery::new(),
            tz: DEFAULT_TIME_ZONE,
        }
    }

    /// Only persons matching `filter` (e.g. `owner[EQ]=<person id>` or `tags=a`).
    #[must_use]
    pub fn with_filter(mut self, filter: ListQuery) -> Self {
        self.filter = filter;
        self
    }

    fn to_remote(&self, p: &Person) -> Result<Remote<Contact>, ProviderError> {
        let item = person_to_contact(p).normalized();
        item.validate()
            .map_err(|e| invalid(format!("raynet person {}", p.id), e))?;
        Ok(Remote {
            id: RemoteId::new(p.id.to_string()).map_err(|e| invalid("raynet id".into(), e))?,
            version: version_or_default(&p.row_info)?,
            modified: modified(&p.row_info, self.tz),
            item,
            key: key_of(p.ext_ids.as_ref()),
        })
    }
}

#[async_trait]
impl ReadSide<Contact> for RaynetContacts {
    fn profile(&self) -> ContactProfile {
        ContactProfile::default()
    }

    async fn read(&self, _request: &ReadRequest) -> Result<SideRead<Contact>, ProviderError> {
        let persons = self.client.persons().list_all(&self.filter).await?;
        let mut read = SideRead::complete(Vec::new());
        for p in &persons {
            match self.to_remote(p) {
                Ok(r) => read.items.push(r),
                Err(e) => read.unreadable.push((
                    RemoteId::new(p.id.to_string()).map_err(|e| invalid("raynet id".into(), e))?,
                    e.to_string(),
                )),
            }
        }
        Ok(read)
    }

    async fn get(&self, id: &RemoteId) -> Result<Option<Remote<Contact>>, ProviderError> {
        let Ok(n) = id.as_str().parse::<u64>() else {
            return Ok(None);
        };
        match self.client.persons().get(n).await {
            Ok(p) => self.to_remote(&p).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
