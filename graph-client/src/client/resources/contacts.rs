//! The dedicated contact folder and its contacts (`/users/{id}/contactFolders`, `/contacts`).

use reqwest::Method;

use super::outcome::DeleteOutcome;
use crate::client::error::{Error, Result};
use crate::client::http::Client;
use crate::client::models::{Contact, ContactFolder};
use crate::client::page::{DeltaRound, Page};
use crate::client::transport::Request;
use crate::client::url::{encode_segment, link_property_query, odata_string, query};

/// The preferences of every contacts delta request besides `IdType` (sent directly or inside
/// a `$batch`, where the batch adds `IdType`): the page size.
pub(crate) fn delta_preferences(client: &Client) -> Vec<String> {
    vec![format!("odata.maxpagesize={}", client.page_size())]
}

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
    client: &'a Client,
    user: &'a str,
}

impl<'a> Contacts<'a> {
    pub(crate) fn new(client: &'a Client, user: &'a str) -> Self {
        Self { client, user }
    }

    fn base(&self) -> String {
        self.client
            .url(&format!("/users/{}", encode_segment(self.user)))
    }

    fn request(&self, method: Method, url: String, endpoint: &str) -> Request {
        Request::new(method, url, endpoint).mailbox(self.user)
    }

    /// `GET /users/{id}/contactFolders?$filter=displayName eq '{name}'`: the first folder with
    /// that name (folder names are unique regardless of case).
    pub async fn find_folder(&self, display_name: &str) -> Result<Option<ContactFolder>> {
        let filter = format!("displayName eq {}", odata_string(display_name));
        let url = format!(
            "{}/contactFolders{}",
            self.base(),
            query(&[("$filter", &filter)])
        );
        let req = self.request(Method::GET, url, "GET /users/{id}/contactFolders?$filter");
        let page: Page<ContactFolder> = Page::parse(
            &self.client.transport().send(&req).await?.body,
            &req.endpoint,
        )?;
        Ok(page.items.into_iter().find(|f| {
            f.display_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(display_name))
        }))
    }

    /// `POST /users/{id}/contactFolders {"displayName": name}`.
    pub async fn create_folder(&self, display_name: &str) -> Result<ContactFolder> {
        let url = format!("{}/contactFolders", self.base());
        let body = serde_json::json!({ "displayName": display_name });
        let req = self
            .request(Method::POST, url, "POST /users/{id}/contactFolders")
            .json(&body)?;
        self.client.transport().send(&req).await?.decode()
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
        check_caps(contact)?;
        let url = format!(
            "{}/contactFolders/{}/contacts",
            self.base(),
            encode_segment(folder_id)
        );
        let req = self
            .request(
                Method::POST,
                url,
                "POST /users/{id}/contactFolders/{id}/contacts",
            )
            .json(contact)?;
        self.client.transport().send(&req).await?.decode()
    }

    /// `PATCH /users/{id}/contacts/{id}`, with `If-Match` when an ETag is given.
    pub async fn update(
        &self,
        contact_id: &str,
        patch: &Contact,
        etag: Option<&str>,
    ) -> Result<Contact> {
        check_caps(patch)?;
        let url = format!("{}/contacts/{}", self.base(), encode_segment(contact_id));
        let mut req = self
            .request(Method::PATCH, url, "PATCH /users/{id}/contacts/{id}")
            .json(patch)?;
        if let Some(etag) = etag {
            req = req.header("If-Match", etag);
        }
        self.client.transport().send(&req).await?.decode()
    }

    /// `DELETE /users/{id}/contacts/{id}`, with `If-Match` when an ETag is given.
    pub async fn delete(&self, contact_id: &str, etag: Option<&str>) -> Result<DeleteOutcome> {
        let url = format!("{}/contacts/{}", self.base(), encode_segment(contact_id));
        let mut req = self.request(Method::DELETE, url, "DELETE /users/{id}/contacts/{id}");
        if let Some(etag) = etag {
            req = req.header("If-Match", etag);
        }
        match self.client.transport().send(&req).await {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(e) if e.is_not_found() => Ok(DeleteOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// `GET /users/{id}/contacts/{id}?$expand=singleValueExtendedProperties($filter=id eq '{prop}')`:
    /// the contact with the value of one extended property.
    pub async fn get_with_property(&self, contact_id: &str, property_id: &str) -> Result<Contact> {
        let expand = format!(
            "singleValueExtendedProperties($filter=id eq {})",
            odata_string(property_id)
        );
        let url = format!(
            "{}/contacts/{}{}",
            self.base(),
            encode_segment(contact_id),
            query(&[("$expand", &expand)])
        );
        let req = self.request(Method::GET, url, "GET /users/{id}/contacts/{id}?$expand");
        self.client.transport().send(&req).await?.decode()
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
        let url = format!(
            "{}/contactFolders/{}/contacts{}",
            self.base(),
            encode_segment(folder_id),
            query(&[("$filter", &filter), ("$expand", &expand)])
        );
        let endpoint = "GET /users/{id}/contactFolders/{id}/contacts?$filter";
        let req = self.request(Method::GET, url, endpoint);
        let mut page: Page<Contact> = Page::parse(
            &self.client.transport().send(&req).await?.body,
            &req.endpoint,
        )?;
        let mut all = std::mem::take(&mut page.items);
        while let Some(link) = page.next_link.take() {
            let req = self.request(Method::GET, self.client.check_link(&link)?, endpoint);
            page = Page::parse(
                &self.client.transport().send(&req).await?.body,
                &req.endpoint,
            )?;
            all.append(&mut page.items);
        }
        Ok(all)
    }

    fn delta_request(&self, url: String, endpoint: &str) -> Request {
        delta_preferences(self.client)
            .into_iter()
            .fold(self.request(Method::GET, url, endpoint), Request::prefer)
    }

    /// `GET /users/{id}/contactFolders/{id}/contacts/delta`: first page of a new round.
    pub async fn delta_start(&self, folder_id: &str) -> Result<Page<Contact>> {
        let url = format!(
            "{}/contactFolders/{}/contacts/delta",
            self.base(),
            encode_segment(folder_id)
        );
        let req = self.delta_request(url, "GET /users/{id}/contactFolders/{id}/contacts/delta");
        Page::parse(
            &self.client.transport().send(&req).await?.body,
            &req.endpoint,
        )
    }

    /// Follows a next link or a stored delta link.
    pub async fn delta_page(&self, link: &str) -> Result<Page<Contact>> {
        let url = self.client.check_link(link)?;
        let req = self.delta_request(
            url,
            "GET /users/{id}/contactFolders/{id}/contacts/delta link",
        );
        Page::parse(
            &self.client.transport().send(&req).await?.body,
            &req.endpoint,
        )
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
        self.finish_round(first).await
    }

    /// A whole round whose first page was already read (e.g. the answer to the stored delta
    /// link inside a `$batch`, see `adapter::DeltaPrefetch`): follows its next links to the
    /// delta link, as [`Contacts::delta_round`] does after its first request.
    pub async fn delta_round_from(&self, first_page: Page<Contact>) -> Result<DeltaRound<Contact>> {
        self.finish_round(first_page).await
    }

    async fn finish_round(&self, first: Page<Contact>) -> Result<DeltaRound<Contact>> {
        DeltaRound::follow(
            first,
            "GET /users/{id}/contactFolders/{id}/contacts/delta",
            |link| async move { self.delta_page(&link).await },
        )
        .await
    }
}

fn check_caps(contact: &Contact) -> Result<()> {
    use crate::client::models::{MAX_CONTACT_BUSINESS_PHONES, MAX_CONTACT_EMAILS};
    if contact
        .email_addresses
        .as_ref()
        .is_some_and(|v| v.len() > MAX_CONTACT_EMAILS)
    {
        return Err(Error::InvalidRequest(format!(
            "a contact holds at most {MAX_CONTACT_EMAILS} e-mail addresses"
        )));
    }
    if contact
        .business_phones
        .as_ref()
        .is_some_and(|v| v.len() > MAX_CONTACT_BUSINESS_PHONES)
    {
        return Err(Error::InvalidRequest(format!(
            "a contact holds at most {MAX_CONTACT_BUSINESS_PHONES} business phones"
        )));
    }
    Ok(())
}
