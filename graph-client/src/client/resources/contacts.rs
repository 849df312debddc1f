//! The dedicated contact folder and its contacts (`/users/{id}/contactFolders`, `/contacts`).

use reqwest::Method;

use super::mailbox::MailboxScope;
use super::outcome::DeleteOutcome;
use crate::client::error::{Error, Result};
use crate::client::http::Client;
use crate::client::models::{Contact, ContactFolder};
use crate::client::page::{DeltaRound, Page};
use crate::client::url::{encode_segment, link_property_query, odata_string, query};

/// The endpoint of a new contacts delta round.
const DELTA: &str = "GET /users/{id}/contactFolders/{id}/contacts/delta";
/// The endpoint of a contacts delta link (a next link or a stored delta link).
const DELTA_LINK: &str = "GET /users/{id}/contactFolders/{id}/contacts/delta link";

/// The preferences every contacts request carries besides `IdType`: none.
pub(crate) const PREFERENCES: &[&str] = &[];

impl Client {
    /// Contact endpoints of one mailbox.
    #[must_use]
    pub fn contacts<'a>(&'a self, user_id: &'a str) -> Contacts<'a> {
        Contacts::new(self, user_id)
    }
}

/// Contact endpoints of one mailbox.
#[derive(Debug, Clone, Copy)]
pub struct Contacts<'a> {
    mailbox: MailboxScope<'a>,
}

impl<'a> Contacts<'a> {
    pub(crate) fn new(client: &'a Client, user: &'a str) -> Self {
        Self {
            mailbox: MailboxScope::new(client, user, PREFERENCES),
        }
    }

    /// `GET /users/{id}/contactFolders?$filter=displayName eq '{name}'`: the first folder with
    /// that name (folder names are unique regardless of case).
    pub async fn find_folder(&self, display_name: &str) -> Result<Option<ContactFolder>> {
        let filter = format!("displayName eq {}", odata_string(display_name));
        let path = format!("/contactFolders{}", query(&[("$filter", &filter)]));
        let endpoint = "GET /users/{id}/contactFolders?$filter";
        let req = self.mailbox.request(Method::GET, &path, endpoint);
        let page: Page<ContactFolder> = self.mailbox.client.page(&req).await?;
        Ok(page.items.into_iter().find(|f| {
            f.display_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(display_name))
        }))
    }

    /// `POST /users/{id}/contactFolders {"displayName": name}`.
    pub async fn create_folder(&self, display_name: &str) -> Result<ContactFolder> {
        let body = serde_json::json!({ "displayName": display_name });
        let endpoint = "POST /users/{id}/contactFolders";
        let req = self
            .mailbox
            .request(Method::POST, "/contactFolders", endpoint)
            .json(&body)?;
        self.mailbox.client.send(&req).await
    }

    /// Finds the folder by display name, or creates it.
    pub async fn ensure_folder(&self, display_name: &str) -> Result<ContactFolder> {
        match self.find_folder(display_name).await? {
            Some(folder) => Ok(folder),
            None => self.create_folder(display_name).await,
        }
    }

    /// `POST /users/{id}/contactFolders/{folderId}/contacts`. Graph takes at most 3 e-mail
    /// addresses and 2 business phones; more are refused here, before sending.
    pub async fn create(&self, folder_id: &str, contact: &Contact) -> Result<Contact> {
        let path = format!("/contactFolders/{}/contacts", encode_segment(folder_id));
        let endpoint = "POST /users/{id}/contactFolders/{id}/contacts";
        self.write(Method::POST, &path, endpoint, contact, None)
            .await
    }

    /// `PATCH /users/{id}/contacts/{id}`, with `If-Match` when an ETag is given.
    pub async fn update(
        &self,
        contact_id: &str,
        patch: &Contact,
        etag: Option<&str>,
    ) -> Result<Contact> {
        let path = format!("/contacts/{}", encode_segment(contact_id));
        let endpoint = "PATCH /users/{id}/contacts/{id}";
        self.write(Method::PATCH, &path, endpoint, patch, etag)
            .await
    }

    /// Sends a contact body (create or update) after checking Graph's caps, with `If-Match`
    /// when an ETag is given.
    async fn write(
        &self,
        method: Method,
        path: &str,
        endpoint: &str,
        contact: &Contact,
        etag: Option<&str>,
    ) -> Result<Contact> {
        check_caps(contact)?;
        let req = self
            .mailbox
            .request(method, path, endpoint)
            .json(contact)?
            .if_match(etag);
        self.mailbox.client.send(&req).await
    }

    /// `DELETE /users/{id}/contacts/{id}`, with `If-Match` when an ETag is given.
    pub async fn delete(&self, contact_id: &str, etag: Option<&str>) -> Result<DeleteOutcome> {
        let path = format!("/contacts/{}", encode_segment(contact_id));
        let endpoint = "DELETE /users/{id}/contacts/{id}";
        match self.mailbox.delete(&path, endpoint, etag).await {
            Ok(()) => Ok(DeleteOutcome::Deleted),
            Err(e) if e.is_not_found() => Ok(DeleteOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// `GET /users/{id}/contacts/{id}?$expand=singleValueExtendedProperties($filter=id eq '{prop}')`:
    /// the contact with the value of one extended property.
    pub async fn get_with_property(&self, contact_id: &str, property_id: &str) -> Result<Contact> {
        let path = format!("/contacts/{}", encode_segment(contact_id));
        let endpoint = "GET /users/{id}/contacts/{id}?$expand";
        self.mailbox
            .get_with_property(&path, property_id, endpoint)
            .await
    }

    /// `GET /users/{id}/contactFolders/{id}/contacts?$filter=singleValueExtendedProperties/Any(ep: ep/id eq '{prop}' and ep/value eq '{value}')`
    /// (with the property expanded), every page. Finds the contacts a crashed create left
    /// behind (contacts have no `transactionId`).
    pub async fn find_by_extended_property(
        &self,
        folder_id: &str,
        property_id: &str,
        value: &str,
    ) -> Result<Vec<Contact>> {
        let (filter, expand) = link_property_query(property_id, value);
        let path = format!(
            "/contactFolders/{}/contacts{}",
            encode_segment(folder_id),
            query(&[("$filter", &filter), ("$expand", &expand)])
        );
        let endpoint = "GET /users/{id}/contactFolders/{id}/contacts?$filter";
        self.mailbox.all_pages(&path, endpoint, endpoint).await
    }

    /// `GET /users/{id}/contactFolders/{id}/contacts/delta`: first page of a new round.
    pub async fn delta_start(&self, folder_id: &str) -> Result<Page<Contact>> {
        let path = format!(
            "/contactFolders/{}/contacts/delta",
            encode_segment(folder_id)
        );
        self.mailbox.delta_start(&path, DELTA).await
    }

    /// Follows a next link or a stored delta link.
    pub async fn delta_page(&self, link: &str) -> Result<Page<Contact>> {
        self.mailbox.delta_page(link, DELTA_LINK).await
    }

    /// A whole round: from the start when `delta_link` is `None`, else from the stored link.
    pub async fn delta_round(
        &self,
        folder_id: &str,
        delta_link: Option<&str>,
    ) -> Result<DeltaRound<Contact>> {
        let first = match delta_link {
            Some(link) => self.delta_page(link).await?,
            None => self.delta_start(folder_id).await?,
        };
        self.delta_round_from(first).await
    }

    /// A whole round whose first page was already read (e.g. the answer to the stored delta
    /// link inside a `$batch`, see `adapter::DeltaPrefetch`): follows its next links to the
    /// delta link, as [`Contacts::delta_round`] does after its first request.
    pub async fn delta_round_from(&self, first_page: Page<Contact>) -> Result<DeltaRound<Contact>> {
        self.mailbox
            .finish_round(first_page, DELTA, DELTA_LINK)
            .await
    }
}

fn check_caps(contact: &Contact) -> Result<()> {
    use crate::client::models::{MAX_CONTACT_BUSINESS_PHONES, MAX_CONTACT_EMAILS};
    for (len, max, what) in [
        (
            contact.email_addresses.as_ref().map(Vec::len),
            MAX_CONTACT_EMAILS,
            "e-mail addresses",
        ),
        (
            contact.business_phones.as_ref().map(Vec::len),
            MAX_CONTACT_BUSINESS_PHONES,
            "business phones",
        ),
    ] {
        if len.is_some_and(|n| n > max) {
            return Err(Error::InvalidRequest(format!(
                "a contact holds at most {max} {what}"
            )));
        }
    }
    Ok(())
}
