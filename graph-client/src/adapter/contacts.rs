//! [`GraphContacts`]: one member's dedicated contact folder as the engine's Outlook side of
//! the one-way contact sync, and [`contact_to_core`].

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sync_core::{
    Completeness, Contact, ContactField, ContactProfile, Cursor, ErrorKind, FieldSet,
    IdempotencyKey, ProviderError, ReadRequest, ReadSide, Remote, RemoteId, SideRead, SyncItem,
    UpdateRequest, Version, WriteSide, Written,
};
use tokio::sync::Mutex;

use super::{
    LINK_PROPERTY_ID, MapError, contact_from_core, graph_error, if_match, link_property, version_of,
};
use crate::client::models::{self, BatchRequest};
use crate::client::{Client, DeltaRound, Error, Page};

/// Version tag of the cursor encoding (`gc1c;<folder id>;<deltaLink>`).
const CURSOR_TAG: &str = "gc1c";

/// A Graph contact as the engine's [`Contact`]: the reverse of [`super::contact_from_core`],
/// over the fields it writes. The title after the name is read back from the display name
/// (`"Ing. Jana Nováková, Ph.D."`); phones come business first, then mobile, then home.
/// Addresses that are not e-mail addresses are left out.
#[must_use]
pub fn contact_to_core(contact: &models::Contact) -> Contact {
    use sync_core::{Phone, PhoneKind};
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut out = Contact {
        given_name: text(&contact.given_name),
        middle_name: text(&contact.middle_name),
        surname: text(&contact.surname),
        title_before: text(&contact.title),
        company: text(&contact.company_name),
        job_title: text(&contact.job_title),
        notes: text(&contact.personal_notes),
        ..Contact::default()
    };
    let name = [
        out.title_before.as_str(),
        &out.given_name,
        &out.middle_name,
        &out.surname,
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    if let Some(after) = contact
        .display_name
        .as_deref()
        .and_then(|d| d.strip_prefix(name.as_str()))
        .and_then(|rest| rest.strip_prefix(", "))
    {
        after.clone_into(&mut out.title_after);
    }
    out.emails = contact
        .email_addresses
        .iter()
        .flatten()
        .filter_map(|e| sync_core::Email::new(e.address.as_deref()?).ok())
        .collect();
    let phone = |kind: PhoneKind, number: &String| Phone {
        kind,
        number: number.clone(),
    };
    out.phones = contact
        .business_phones
        .iter()
        .flatten()
        .map(|n| phone(PhoneKind::Business, n))
        .chain(
            contact
                .mobile_phone
                .iter()
                .map(|n| phone(PhoneKind::Mobile, n)),
        )
        .chain(
            contact
                .home_phones
                .iter()
                .flatten()
                .map(|n| phone(PhoneKind::Home, n)),
        )
        .filter(|p| !p.number.trim().is_empty())
        .collect();
    if let Some(a) = &contact.business_address {
        out.business_address = sync_core::Address {
            street: text(&a.street),
            city: text(&a.city),
            postal_code: text(&a.postal_code),
            region: text(&a.state),
            country: text(&a.country_or_region),
        };
    }
    out.birthday = contact
        .birthday
        .as_deref()
        .and_then(|b| b.get(..10))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    out.normalized()
}

/// The folder id of a cursor of ours (`gc1c;<folder id>;<deltaLink>`).
fn cursor_folder(cursor: &Cursor) -> Option<String> {
    let mut parts = cursor.as_str().splitn(3, ';');
    (parts.next()? == CURSOR_TAG)
        .then(|| parts.next())
        .flatten()
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
}

/// The folder id and delta link of a cursor of ours that a read can resume from.
fn decode_cursor(cursor: &Cursor) -> Option<(String, String)> {
    let folder = cursor_folder(cursor)?;
    let link = cursor
        .as_str()
        .splitn(3, ';')
        .nth(2)
        .filter(|l| !l.is_empty())?;
    Some((folder, link.to_owned()))
}

/// A Graph contact as an engine [`Remote`].
fn contact_remote(
    contact: &models::Contact,
    property_id: &str,
) -> Result<Remote<Contact>, MapError> {
    let id = RemoteId::new(contact.id.clone().ok_or(MapError::Missing("id"))?)?;
    let version = version_of(contact.change_key.as_deref(), contact.etag.as_deref())
        .ok_or(MapError::Missing("changeKey"))?;
    Ok(Remote {
        id,
        version: Version::new(version)?,
        modified: contact
            .last_modified_date_time
            .as_deref()
            .and_then(|m| DateTime::parse_from_rfc3339(m).ok())
            .map(|d| d.with_timezone(&Utc)),
        item: contact_to_core(contact),
        key: contact
            .extended_property(property_id)
            .and_then(|k| IdempotencyKey::new(k).ok()),
    })
}

/// One member's dedicated Outlook contact folder, as the target of the one-way contact sync
/// ([`ReadSide`] + [`WriteSide`] of [`Contact`]).
///
/// The folder is found by display name (or created) on first use; its id is kept (and read
/// back from the cursor, so a resumed read costs no folder lookup). Reads are
/// contacts-delta rounds on the folder (cursor: the folder id and Graph's `@odata.deltaLink`;
/// an expired or foreign cursor gives a full round reported [`Completeness::Complete`]; a
/// resumed one [`Completeness::Delta`] with the `@removed` ids as deletions). Contacts have no
/// `transactionId`: a create leaves the idempotency key in the extended property
/// [`LINK_PROPERTY_ID`], and [`WriteSide::find_by_key`] filters the folder on it. Updates and
/// deletes send `If-Match`. Graph's caps (3 e-mail addresses, 2 business phones) are applied by
/// [`super::contact_from_core`]; the engine reports what did not fit.
///
/// Requests: the first use costs 1 (folder found) or 2 (created), unless the cursor names the
/// folder; an idle read is 1, or 0 when its first page was prefetched
/// ([`GraphContacts::with_prefetch`]: the stored delta links of up to 20 reads, calendar and
/// contacts alike, cost one `$batch` together); a delta read spanning several pages costs one
/// per further page; a full read is one per page; each write, `get` and `find_by_key` is 1;
/// [`WriteSide::create_many`] and [`WriteSide::update_many`] are one `$batch` per 20, or, with a
/// packer ([`GraphContacts::with_packer`]), share full `$batch` requests of 20 with the
/// batched writes of all the sides using it.
#[derive(Debug)]
pub struct GraphContacts {
    client: Client,
    user: String,
    folder_name: String,
    property_id: String,
    folder: Mutex<Option<String>>,
    prefetch: Option<super::DeltaPrefetch>,
    packer: Option<super::BatchPacker>,
}

impl GraphContacts {
    /// The contact folder named `folder_name` of the user `user_id` (found or created).
    #[must_use]
    pub fn new(client: Client, user_id: impl Into<String>, folder_name: impl Into<String>) -> Self {
        Self {
            client,
            user: user_id.into(),
            folder_name: folder_name.into(),
            property_id: LINK_PROPERTY_ID.to_owned(),
            folder: Mutex::new(None),
            prefetch: None,
            packer: None,
        }
    }

    /// Reads resume from a page of `prefetch` when it holds the stored delta link's first
    /// page (taken once), instead of requesting it: the page is parsed as strictly as a
    /// direct answer (a malformed one fails the read) and the round goes on with its next
    /// links. A link the prefetch does not hold is requested as usual (an expired token, a
    /// folder gone: handled as without a prefetch).
    #[must_use]
    pub fn with_prefetch(mut self, prefetch: super::DeltaPrefetch) -> Self {
        self.prefetch = Some(prefetch);
        self
    }

    /// Sends the writes of [`WriteSide::create_many`] and [`WriteSide::update_many`] through
    /// `packer`, packed with the batched writes of the tenant's other sides (any mailbox) into
    /// full `$batch` requests of 20, instead of cutting this call's own batches. Each write
    /// gets the result it would get without the packer; a partly filled batch waits at most
    /// the packer's linger for others' writes. Creates (no `transactionId`) are packed only
    /// with other such creates. The packer must send with this side's client (a clone of
    /// it); a packer of another client is not used.
    #[must_use]
    pub fn with_packer(mut self, packer: super::BatchPacker) -> Self {
        self.packer = Some(packer);
        self
    }

    /// The delta link a read with `cursor` resumes from, to prefetch it
    /// ([`super::DeltaPrefetch`]); `None` for a cursor that is not ours (the read is then a
    /// full one). The cursor names the folder, which a new side adopts; a side that already
    /// knows another folder (it was found again since) reads that one in full instead.
    #[must_use]
    pub fn resume_link(cursor: &Cursor) -> Option<String> {
        decode_cursor(cursor).map(|(_, link)| link)
    }

    /// Uses another single-value extended property for the idempotency key (default
    /// [`LINK_PROPERTY_ID`]).
    #[must_use]
    pub fn with_link_property(mut self, property_id: impl Into<String>) -> Self {
        self.property_id = property_id.into();
        self
    }

    /// The mailbox's user id.
    #[must_use]
    pub fn user_id(&self) -> &str {
        &self.user
    }

    fn error(&self, context: &str, e: Error) -> ProviderError {
        graph_error(&format!("{context} (mailbox {})", self.user), e)
    }

    /// The folder's id, found or created on first use.
    async fn folder(&self) -> Result<String, ProviderError> {
        let mut slot = self.folder.lock().await;
        if let Some(id) = slot.as_ref() {
            return Ok(id.clone());
        }
        let folder = self
            .client
            .contacts(&self.user)
            .ensure_folder(&self.folder_name)
            .await
            .map_err(|e| {
                self.error(&format!("opening contact folder {:?}", self.folder_name), e)
            })?;
        let id = folder.id.ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Invalid,
                "graph answered a contact folder without an id",
            )
        })?;
        *slot = Some(id.clone());
        Ok(id)
    }

    /// The id of the contact folder, found or created on first use.
    ///
    /// # Errors
    /// A [`ProviderError`] when the folder can be neither found nor created.
    pub async fn folder_id(&self) -> Result<String, ProviderError> {
        self.folder().await
    }

    async fn forget_folder(&self) {
        *self.folder.lock().await = None;
    }

    fn remote(&self, c: &models::Contact) -> Result<Remote<Contact>, ProviderError> {
        contact_remote(c, &self.property_id)
            .map_err(|e| ProviderError::with_source(ErrorKind::Invalid, "contact", e))
    }

    fn written(&self, c: &models::Contact) -> Result<Written<Contact>, ProviderError> {
        let r = self.remote(c)?;
        Ok(Written {
            id: r.id,
            version: r.version,
            item: Some(r.item),
        })
    }

    async fn round(
        &self,
        folder: &str,
        cursor: Option<&Cursor>,
    ) -> Result<(DeltaRound<models::Contact>, Completeness), Error> {
        let contacts = self.client.contacts(&self.user);
        let link = cursor
            .and_then(decode_cursor)
            .filter(|(f, _)| f == folder)
            .map(|(_, link)| link);
        if let Some(link) = link {
            let round = match self.prefetch.as_ref().and_then(|p| p.take(&link)) {
                Some(body) => {
                    tracing::debug!(mailbox = %self.user, "contact changes: the prefetched first page");
                    match Page::from_value(
                        body,
                        "GET /users/{id}/contactFolders/{id}/contacts/delta link ($batch)",
                    ) {
                        Ok(first) => contacts.delta_round_from(first).await,
                        Err(e) => Err(e),
                    }
                }
                None => contacts.delta_round(folder, Some(&link)).await,
            };
            match round {
                Ok(r) => return Ok((r, Completeness::Delta)),
                Err(e) if e.is_delta_expired() || matches!(e, Error::InvalidRequest(_)) => {
                    tracing::info!(mailbox = %self.user, error = %e, "contacts delta cursor unusable: full re-read");
                }
                Err(e) => return Err(e),
            }
        }
        Ok((
            contacts.delta_round(folder, None).await?,
            Completeness::Complete,
        ))
    }
}

#[async_trait]
impl ReadSide<Contact> for GraphContacts {
    fn profile(&self) -> ContactProfile {
        ContactProfile::outlook()
    }

    async fn read(&self, request: &ReadRequest) -> Result<SideRead<Contact>, ProviderError> {
        // A cursor of ours names the folder: no lookup by name (one request a round saved).
        // A folder deleted since answers 404 below and is found or made again.
        if let Some(id) = request.cursor.as_ref().and_then(cursor_folder) {
            let mut slot = self.folder.lock().await;
            if slot.is_none() {
                *slot = Some(id);
            }
        }
        let mut folder = self.folder().await?;
        let (round, completeness) = match self.round(&folder, request.cursor.as_ref()).await {
            Ok(r) => r,
            Err(e) if e.is_not_found() => {
                // The folder was deleted or renamed away: find or make it again, read it whole.
                self.forget_folder().await;
                folder = self.folder().await?;
                self.round(&folder, None)
                    .await
                    .map_err(|e| self.error("reading contacts", e))?
            }
            Err(e) => return Err(self.error("reading contacts", e)),
        };
        let mut read = SideRead::complete(Vec::new());
        read.completeness = completeness;
        let mut order: Vec<String> = Vec::new();
        let mut latest: std::collections::HashMap<String, models::Contact> =
            std::collections::HashMap::new();
        for c in round.items {
            let Some(id) = c.id.clone() else {
                tracing::warn!(mailbox = %self.user, "a contact without an id was ignored");
                continue;
            };
            if !latest.contains_key(&id) {
                order.push(id.clone());
            }
            latest.insert(id, c);
        }
        for id in order {
            let Some(c) = latest.remove(&id) else {
                continue;
            };
            let Ok(rid) = RemoteId::new(id) else { continue };
            if c.is_removed() {
                if completeness == Completeness::Delta {
                    read.deleted.push(rid);
                }
                continue;
            }
            match contact_remote(&c, &self.property_id) {
                Ok(r) => read.items.push(r),
                Err(e) => read.unreadable.push((rid, e.to_string())),
            }
        }
        read.cursor = Cursor::new(format!("{CURSOR_TAG};{folder};{}", round.delta_link)).ok();
        Ok(read)
    }

    async fn get(&self, id: &RemoteId) -> Result<Option<Remote<Contact>>, ProviderError> {
        match self
            .client
            .contacts(&self.user)
            .get_with_property(id.as_str(), &self.property_id)
            .await
        {
            Ok(c) => {
                let folder = self.folder().await?;
                if c.parent_folder_id.as_deref().is_some_and(|f| f != folder) {
                    // Moved out of our folder: not ours any more.
                    return Ok(None);
                }
                self.remote(&c).map(Some)
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(self.error(&format!("reading contact {id}"), e)),
        }
    }
}

#[async_trait]
impl WriteSide<Contact> for GraphContacts {
    async fn create(
        &self,
        item: &Contact,
        key: &IdempotencyKey,
    ) -> Result<Written<Contact>, ProviderError> {
        let folder = self.folder().await?;
        let mut body = contact_from_core(item).contact;
        body.single_value_extended_properties = Some(vec![link_property(&self.property_id, key)]);
        match self
            .client
            .contacts(&self.user)
            .create(&folder, &body)
            .await
        {
            Ok(c) => self.written(&c),
            Err(e) if super::maybe_landed(&e) => Err(ProviderError::with_source(
                ErrorKind::Interrupted,
                format!(
                    "creating a contact (mailbox {}): no answer, it may exist",
                    self.user
                ),
                e,
            )),
            Err(e) => Err(self.error("creating a contact", e)),
        }
    }

    fn max_batch(&self) -> usize {
        crate::client::MAX_BATCH_REQUESTS
    }

    /// Creates the contacts in `$batch` requests of at most 20 (one per call of the engine,
    /// which groups creates by [`WriteSide::max_batch`]; with a packer, packed with other
    /// sides' contact creates). One result per item, in order; a lost batch answer makes every
    /// item of it [`ErrorKind::Interrupted`] (the engine then looks each up by its key).
    async fn create_many(
        &self,
        items: &[(&Contact, &IdempotencyKey)],
    ) -> Vec<Result<Written<Contact>, ProviderError>> {
        let folder = match self.folder().await {
            Ok(f) => f,
            Err(e) => {
                return items
                    .iter()
                    .map(|_| Err(ProviderError::new(e.kind(), e.to_string())))
                    .collect();
            }
        };
        let url = format!(
            "/users/{}/contactFolders/{}/contacts",
            crate::client::encode_segment(&self.user),
            crate::client::encode_segment(&folder)
        );
        let context = format!("creating a contact (mailbox {})", self.user);
        let mut writes = Vec::with_capacity(items.len());
        let mut settled = Vec::with_capacity(items.len());
        for (item, key) in items {
            let mut body = contact_from_core(item).contact;
            body.single_value_extended_properties =
                Some(vec![link_property(&self.property_id, key)]);
            match serde_json::to_value(&body) {
                Ok(v) => {
                    writes.push(super::BatchWrite {
                        request: BatchRequest::new("", "POST", url.clone()).with_json(v),
                        context: context.clone(),
                    });
                    settled.push(None);
                }
                Err(e) => settled.push(Some(Err(ProviderError::with_source(
                    ErrorKind::Invalid,
                    "encoding a contact",
                    e,
                )))),
            }
        }
        let answers = super::batch_write(
            &self.client,
            self.packer.as_ref(),
            writes,
            "POST /users/{id}/contactFolders/{id}/contacts",
            super::WriteKind::Create,
        )
        .await;
        super::batch_results(settled, answers, |_, c: models::Contact| self.written(&c))
    }

    async fn update(
        &self,
        id: &RemoteId,
        item: &Contact,
        _changed: FieldSet<ContactField>,
        expected: Option<&Version>,
    ) -> Result<Written<Contact>, ProviderError> {
        // Every field is written (no mail is at stake): Outlook edits are overwritten.
        let body = contact_from_core(item).contact;
        let etag = expected.map(|v| if_match(v.as_str()));
        match self
            .client
            .contacts(&self.user)
            .update(id.as_str(), &body, etag.as_deref())
            .await
        {
            Ok(c) => self.written(&c),
            Err(e) => Err(self.error(&format!("updating contact {id}"), e)),
        }
    }

    /// Updates the contacts in `$batch` requests of at most 20 (with a packer, packed with
    /// other sides' writes; `PATCH` with `If-Match`, every field written as
    /// [`WriteSide::update`] does). One result per item, in order; a failed
    /// sub-request fails its item as the single update would.
    async fn update_many(
        &self,
        items: &[UpdateRequest<'_, Contact>],
    ) -> Vec<Result<Written<Contact>, ProviderError>> {
        let mut writes = Vec::with_capacity(items.len());
        let mut settled = Vec::with_capacity(items.len());
        for u in items {
            match serde_json::to_value(contact_from_core(u.item).contact) {
                Ok(body) => {
                    let url = format!(
                        "/users/{}/contacts/{}",
                        crate::client::encode_segment(&self.user),
                        crate::client::encode_segment(u.id.as_str())
                    );
                    let mut request = BatchRequest::new("", "PATCH", url).with_json(body);
                    if let Some(v) = u.expected {
                        request = request.with_header("If-Match", &if_match(v.as_str()));
                    }
                    writes.push(super::BatchWrite {
                        request,
                        context: format!("updating contact {} (mailbox {})", u.id, self.user),
                    });
                    settled.push(None);
                }
                Err(e) => settled.push(Some(Err(ProviderError::with_source(
                    ErrorKind::Invalid,
                    "encoding a contact",
                    e,
                )))),
            }
        }
        let answers = super::batch_write(
            &self.client,
            self.packer.as_ref(),
            writes,
            "PATCH /users/{id}/contacts/{id}",
            super::WriteKind::Update,
        )
        .await;
        super::batch_results(settled, answers, |_, c: models::Contact| self.written(&c))
    }

    async fn delete(&self, id: &RemoteId, expected: Option<&Version>) -> Result<(), ProviderError> {
        let etag = expected.map(|v| if_match(v.as_str()));
        match self
            .client
            .contacts(&self.user)
            .delete(id.as_str(), etag.as_deref())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(self.error(&format!("deleting contact {id}"), e)),
        }
    }

    async fn find_by_key(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<Remote<Contact>>, ProviderError> {
        let folder = self.folder().await?;
        let found = self
            .client
            .contacts(&self.user)
            .find_by_extended_property(&folder, &self.property_id, key.as_str())
            .await
            .map_err(|e| self.error("looking a contact up by its sync key", e))?;
        let Some(c) = found.into_iter().next() else {
            return Ok(None);
        };
        let mut r = self.remote(&c)?;
        if r.key.is_none() {
            r.key = Some(key.clone());
        }
        Ok(Some(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sync_core::{Email, Phone, PhoneKind};

    fn sample() -> Contact {
        Contact {
            given_name: "Jana".into(),
            middle_name: "Marie".into(),
            surname: "Nováková".into(),
            title_before: "Ing.".into(),
            title_after: "Ph.D.".into(),
            emails: vec![
                Email::new("jana@firma.cz").unwrap(),
                Email::new("j@home.cz").unwrap(),
            ],
            phones: vec![
                Phone {
                    kind: PhoneKind::Business,
                    number: "+420 1".into(),
                },
                Phone {
                    kind: PhoneKind::Mobile,
                    number: "+420 2".into(),
                },
                Phone {
                    kind: PhoneKind::Home,
                    number: "+420 3".into(),
                },
            ],
            company: "Firma s.r.o.".into(),
            job_title: "CFO".into(),
            business_address: sync_core::Address {
                street: "Hlavní 1".into(),
                city: "Brno".into(),
                postal_code: "602 00".into(),
                region: "JMK".into(),
                country: "CZ".into(),
            },
            birthday: NaiveDate::from_ymd_opt(1980, 2, 29),
            notes: "line 1\nline 2".into(),
        }
        .normalized()
    }

    #[test]
    fn reads_resume_only_from_cursors_of_ours() {
        let link = "https://graph.microsoft.com/v1.0/users/u/contactFolders/F/contacts/delta?$deltatoken=a;b";
        let c = Cursor::new(format!("{CURSOR_TAG};F;{link}")).unwrap();
        assert_eq!(GraphContacts::resume_link(&c), Some(link.to_owned()));
        assert_eq!(decode_cursor(&c), Some(("F".to_owned(), link.to_owned())));
        for foreign in [
            format!("gc1;2030-01-01T00:00:00Z;2030-02-01T00:00:00Z;{link}"),
            format!("gc1c;;{link}"),
            "gc1c;F;".to_owned(),
            "gc1c;F".to_owned(),
            "rn1;12345".to_owned(),
        ] {
            let c = Cursor::new(foreign.clone()).unwrap();
            assert_eq!(GraphContacts::resume_link(&c), None, "{foreign}");
        }
    }

    #[test]
    fn contacts_round_trip_through_graph() {
        let c = sample();
        let graph = contact_from_core(&c).contact;
        // As Graph answers it (JSON round trip).
        let json = serde_json::to_value(&graph).unwrap();
        let back: models::Contact = serde_json::from_value(json).unwrap();
        assert_eq!(contact_to_core(&back), c);
    }

    #[test]
    fn empty_graph_fields_read_as_empty() {
        let g: models::Contact = serde_json::from_value(serde_json::json!({
            "id": "C1", "changeKey": "ck", "displayName": "Petr", "givenName": "Petr",
            "surname": null, "mobilePhone": null, "businessPhones": [], "emailAddresses": [
                {"name": "x", "address": "not an address"}, {"address": "petr@firma.cz"}
            ], "businessAddress": {}, "birthday": null
        }))
        .unwrap();
        let c = contact_to_core(&g);
        assert_eq!(c.given_name, "Petr");
        assert_eq!(c.title_after, "");
        assert!(c.phones.is_empty());
        assert_eq!(c.emails.len(), 1, "unusable addresses are left out");
        assert!(c.business_address.is_empty());
        let r = contact_remote(&g, LINK_PROPERTY_ID).unwrap();
        assert_eq!(r.version.as_str(), "ck");
        assert_eq!(r.key, None);
    }
}
