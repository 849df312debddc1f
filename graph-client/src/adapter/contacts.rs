//! [`GraphContacts`]: one member's dedicated contact folder as the engine's Outlook side of
//! the one-way contact sync.

use async_trait::async_trait;
use sync_core::{
    Completeness, Contact, ContactField, ContactProfile, Cursor, ErrorKind, FieldSet,
    IdempotencyKey, ProviderError, ReadRequest, ReadSide, Remote, RemoteId, SideRead,
    UpdateRequest, Version, WriteSide, Written,
};
use tokio::sync::Mutex;

use super::batch_send::WriteKind;
use super::batch_write::BatchWrites;
use super::contact_map::{contact_from_core, contact_remote};
use super::keys::if_match;
use super::mailbox::{Mailbox, mailbox_side_methods};
use crate::client::models::{self, BatchRequest};
use crate::client::{Client, DeltaRound, Error};

/// Version tag of the cursor encoding (`gc1c;<folder id>;<deltaLink>`).
const CURSOR_TAG: &str = "gc1c";

/// The folder id of a cursor of ours (`gc1c;<folder id>;<deltaLink>`).
pub(super) fn cursor_folder(cursor: &Cursor) -> Option<String> {
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

/// A contact as a `$batch` sub-request's body.
fn encode(body: &models::Contact) -> Result<serde_json::Value, ProviderError> {
    serde_json::to_value(body)
        .map_err(|e| ProviderError::with_source(ErrorKind::Invalid, "encoding a contact", e))
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
/// [`contact_from_core`]; the engine reports what did not fit.
///
/// Requests: the first use costs 1 (folder found) or 2 (created), unless the cursor names the
/// folder; an idle read is 1, or 0 when its first page was prefetched
/// ([`GraphContacts::with_prefetch`]: the stored delta links of up to 20 reads, calendar and
/// contacts alike, cost one `$batch` together); a delta read spanning several pages costs one
/// per further page; a full read is one per page; each write, `get` and `find_by_key` is 1;
/// [`WriteSide::create_many`] and [`WriteSide::update_many`] are one `$batch` per 20, or, with a
/// packer ([`GraphContacts::with_packer`]), share full `$batch` requests of 20 with the
/// batched writes of all the sides using it.
///
/// [`LINK_PROPERTY_ID`]: super::keys::LINK_PROPERTY_ID
#[derive(Debug)]
pub struct GraphContacts {
    mailbox: Mailbox,
    folder_name: String,
    folder: Mutex<Option<String>>,
}

mailbox_side_methods!(GraphContacts);

impl GraphContacts {
    /// The contact folder named `folder_name` of the user `user_id` (found or created).
    #[must_use]
    pub fn new(client: Client, user_id: impl Into<String>, folder_name: impl Into<String>) -> Self {
        Self {
            mailbox: Mailbox::new(client, user_id.into()),
            folder_name: folder_name.into(),
            folder: Mutex::new(None),
        }
    }

    /// The delta link a read with `cursor` resumes from, to prefetch it
    /// ([`DeltaPrefetch`]); `None` for a cursor that is not ours (the read is then a
    /// full one). The cursor names the folder, which a new side adopts; a side that already
    /// knows another folder (it was found again since) reads that one in full instead.
    ///
    /// [`DeltaPrefetch`]: super::prefetch::DeltaPrefetch
    #[must_use]
    pub fn resume_link(cursor: &Cursor) -> Option<String> {
        decode_cursor(cursor).map(|(_, link)| link)
    }

    /// The folder's id, found or created on first use.
    async fn folder(&self) -> Result<String, ProviderError> {
        let mut slot = self.folder.lock().await;
        if let Some(id) = slot.as_ref() {
            return Ok(id.clone());
        }
        let folder = self
            .mailbox
            .contacts()
            .ensure_folder(&self.folder_name)
            .await
            .map_err(|e| {
                self.mailbox
                    .error(&format!("opening contact folder {:?}", self.folder_name), e)
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
        contact_remote(c, self.mailbox.property_id())
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
        let contacts = self.mailbox.contacts();
        let link = cursor
            .and_then(decode_cursor)
            .filter(|(f, _)| f == folder)
            .map(|(_, link)| link);
        if let Some(link) = link {
            let resumed = self
                .mailbox
                .resume(
                    &link,
                    "GET /users/{id}/contactFolders/{id}/contacts/delta link ($batch)",
                    "contact changes",
                    |first| contacts.delta_round_from(first),
                    || contacts.delta_round(folder, Some(&link)),
                )
                .await?;
            if let Some(round) = resumed {
                return Ok((round, Completeness::Delta));
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
                    .map_err(|e| self.mailbox.error("reading contacts", e))?
            }
            Err(e) => return Err(self.mailbox.error("reading contacts", e)),
        };
        let mut read = SideRead::complete(Vec::new());
        read.completeness = completeness;
        self.mailbox.set_aside(&mut read, round.failed);
        for (id, c) in self
            .mailbox
            .last_copies(round.items, |c| c.id.as_ref(), "a contact")
        {
            let Ok(rid) = RemoteId::new(id) else { continue };
            if c.is_removed() {
                if completeness == Completeness::Delta {
                    read.deleted.push(rid);
                }
                continue;
            }
            match contact_remote(&c, self.mailbox.property_id()) {
                Ok(r) => read.items.push(r),
                Err(e) => read.unreadable.push((rid, e.to_string())),
            }
        }
        read.cursor = Cursor::new(format!("{CURSOR_TAG};{folder};{}", round.delta_link)).ok();
        Ok(read)
    }

    async fn get(&self, id: &RemoteId) -> Result<Option<Remote<Contact>>, ProviderError> {
        match self
            .mailbox
            .contacts()
            .get_with_property(id.as_str(), self.mailbox.property_id())
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
            Err(e) => Err(self.mailbox.error(&format!("reading contact {id}"), e)),
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
        body.single_value_extended_properties = Some(self.mailbox.link(key));
        match self.mailbox.contacts().create(&folder, &body).await {
            Ok(c) => self.written(&c),
            Err(e) => Err(self.mailbox.create_error("a contact", e)),
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
            crate::client::encode_segment(self.mailbox.user()),
            crate::client::encode_segment(&folder)
        );
        let context = format!("creating a contact (mailbox {})", self.mailbox.user());
        let mut writes = BatchWrites::new(
            items.len(),
            "POST /users/{id}/contactFolders/{id}/contacts",
            WriteKind::Create,
        );
        for (item, key) in items {
            let mut body = contact_from_core(item).contact;
            body.single_value_extended_properties = Some(self.mailbox.link(key));
            let request =
                encode(&body).map(|v| BatchRequest::new("", "POST", url.clone()).with_json(v));
            writes.push(request, context.clone());
        }
        writes
            .send(&self.mailbox, |_, c: models::Contact| self.written(&c))
            .await
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
            .mailbox
            .contacts()
            .update(id.as_str(), &body, etag.as_deref())
            .await
        {
            Ok(c) => self.written(&c),
            Err(e) => Err(self.mailbox.error(&format!("updating contact {id}"), e)),
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
        let mut writes = BatchWrites::new(
            items.len(),
            "PATCH /users/{id}/contacts/{id}",
            WriteKind::Update,
        );
        for u in items {
            let request = encode(&contact_from_core(u.item).contact).map(|body| {
                let url = format!(
                    "/users/{}/contacts/{}",
                    crate::client::encode_segment(self.mailbox.user()),
                    crate::client::encode_segment(u.id.as_str())
                );
                let request = BatchRequest::new("", "PATCH", url).with_json(body);
                match u.expected {
                    Some(v) => request.with_header("If-Match", &if_match(v.as_str())),
                    None => request,
                }
            });
            let context = format!(
                "updating contact {} (mailbox {})",
                u.id,
                self.mailbox.user()
            );
            writes.push(request, context);
        }
        writes
            .send(&self.mailbox, |_, c: models::Contact| self.written(&c))
            .await
    }

    async fn delete(&self, id: &RemoteId, expected: Option<&Version>) -> Result<(), ProviderError> {
        let etag = expected.map(|v| if_match(v.as_str()));
        let answer = self
            .mailbox
            .contacts()
            .delete(id.as_str(), etag.as_deref())
            .await;
        self.mailbox.deleted("contact", id, answer)
    }

    async fn find_by_key(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<Remote<Contact>>, ProviderError> {
        let folder = self.folder().await?;
        let found = self
            .mailbox
            .contacts()
            .find_by_extended_property(&folder, self.mailbox.property_id(), key.as_str())
            .await
            .map_err(|e| {
                self.mailbox
                    .error("looking a contact up by its sync key", e)
            })?;
        let Some(c) = found.into_iter().next() else {
            return Ok(None);
        };
        let mut r = self.remote(&c)?;
        r.key.get_or_insert_with(|| key.clone());
        Ok(Some(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
