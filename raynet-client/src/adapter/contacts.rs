//! [`RaynetContacts`]: RAYNET persons as the engine's read-only contact source
//! (contacts flow one way, RAYNET → Outlook).

use async_trait::async_trait;
use chrono_tz::Tz;
use sync_core::{
    Completeness, Contact, ContactProfile, ProviderError, ReadRequest, ReadSide, Remote, RemoteId,
    SideRead, SyncItem,
};

use super::contact_map::person_to_contact_with;
use super::cursor::{Incremental, Watermark, incremental_setters, next_cursor, parse_cursor};
use super::error::invalid;
use super::feed::{InstanceFeed, PersonRoute};
use super::lookup::{CompanyNames, PersonEmails, company_names};
use super::rows::{key_of, listed_ids, modified, newest, person_id, set_aside, version_or_default};
use super::time::DEFAULT_TIME_ZONE;
use crate::client::Client;
use crate::client::error::Error;
use crate::client::models::Person;
use crate::client::query::{ListQuery, Op, SortDirection};

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
///
/// [`RaynetCalendar`]: crate::adapter::RaynetCalendar
#[derive(Debug, Clone)]
pub struct RaynetContacts {
    client: Client,
    filter: ListQuery,
    tz: Tz,
    incremental: Incremental,
    feed: Option<(InstanceFeed, PersonRoute)>,
    person_emails: Option<PersonEmails>,
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
            person_emails: None,
        }
    }

    /// Keeps the addresses of the persons its own reads list in `cache` (the
    /// participants' addresses a calendar read then needs not look up; see
    /// [`PersonEmails`]).
    #[must_use]
    pub fn with_person_emails(mut self, cache: PersonEmails) -> Self {
        self.person_emails = Some(cache);
        self
    }

    /// Takes incremental reads from `feed` (one person read of the whole
    /// instance per round, shared by every member) instead of sending its
    /// own; `route` says which of the feed's persons are this member's. A read
    /// the feed cannot serve is sent as without a feed (see
    /// [`RaynetCalendar::with_feed`]).
    ///
    /// [`RaynetCalendar::with_feed`]: crate::adapter::RaynetCalendar::with_feed
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

    incremental_setters!("persons");

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

    /// Names of the companies `persons` name by id only (see [`company_names`]).
    async fn company_names(&self, persons: &[Person]) -> Result<CompanyNames, Error> {
        company_names(&self.client, persons).await
    }

    async fn map_rows(
        &self,
        persons: &[Person],
        completeness: Completeness,
    ) -> Result<SideRead<Contact>, ProviderError> {
        if let Some(cache) = &self.person_emails {
            cache.note(persons);
        }
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
        let persons = self.client.persons().list_rows(&self.filter).await?;
        let mut read = self
            .map_rows(&persons.items, Completeness::Complete)
            .await?;
        set_aside(&mut read, &persons.failed, Self::remote_id)?;
        let seen = newest(persons.items.iter().map(|p| &p.row_info), self.tz);
        read.cursor = next_cursor(None, persons.server_time, seen, 0, None);
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
        if let Some(ids) = &rows.listed {
            read.listed_ids = Some(ids.clone());
        }
        let since_scan = mark.since_scan_after(rows.listed.is_some());
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
        let persons = self.client.persons().list_rows(&query).await?;
        let mut read = self.map_rows(&persons.items, Completeness::Delta).await?;
        set_aside(&mut read, &persons.failed, Self::remote_id)?;
        let scan = self.incremental.scan_due(mark.since_scan);
        if scan {
            let ids = self.filter.clone().sort("id", SortDirection::Asc);
            let rows = self.client.persons().row_summaries(&ids).await?;
            read.listed_ids = listed_ids(&rows, Self::remote_id)?;
        }
        let seen = newest(persons.items.iter().map(|p| &p.row_info), self.tz);
        let since_scan = mark.since_scan_after(scan);
        read.cursor = next_cursor(Some(mark), persons.server_time, seen, since_scan, None);
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
