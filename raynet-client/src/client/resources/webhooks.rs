//! Webhooks (`/webhook/`): [`Webhooks`], `client.webhooks()`.

use reqwest::Method;

use super::path::segment;
use crate::client::error::Result;
use crate::client::http::Client;
use crate::client::models::{CreatedWebhook, NewWebhook, TechnicalContacts, WebhookList};
use crate::client::transport::decode;

impl Client {
    /// The instance's webhooks (`/webhook/`).
    pub fn webhooks(&self) -> Webhooks<'_> {
        Webhooks { client: self }
    }
}

/// The instance's webhooks: `client.webhooks()`.
#[derive(Debug, Clone, Copy)]
pub struct Webhooks<'a> {
    client: &'a Client,
}

impl Webhooks<'_> {
    /// `GET /webhook/`: technical contacts and registered webhooks (read with
    /// or without a `data` envelope).
    pub async fn list(&self) -> Result<WebhookList> {
        let resp = self
            .client
            .inner
            .execute(Method::GET, "webhook/", &[], None)
            .await?;
        WebhookList::from_slice(&resp.body)
    }

    /// `PUT /webhook/`: registers a webhook and returns its uuid.
    pub async fn create(&self, body: &NewWebhook) -> Result<String> {
        let resp = self
            .client
            .inner
            .send_json(Method::PUT, "webhook/", body)
            .await?;
        let created: CreatedWebhook = decode("PUT /webhook/", &resp.body)?;
        Ok(created.data.uuid)
    }

    /// `DELETE /webhook/{uuid}/`.
    pub async fn delete(&self, uuid: &str) -> Result<()> {
        self.client
            .inner
            .execute(
                Method::DELETE,
                &format!("webhook/{}/", segment(uuid)),
                &[],
                None,
            )
            .await
            .map(drop)
    }

    /// `POST /webhook/technicalContact/` with `{"technicalContacts": [..]}`:
    /// replaces the e-mails told about failing deliveries.
    pub async fn set_technical_contacts(&self, emails: &[String]) -> Result<()> {
        self.client
            .inner
            .send_json(
                Method::POST,
                "webhook/technicalContact/",
                &TechnicalContacts {
                    technical_contacts: emails,
                },
            )
            .await
            .map(drop)
    }
}
