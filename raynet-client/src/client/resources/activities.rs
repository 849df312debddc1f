//! The writes of meetings (`/meeting/`) and events (`/event/`): create,
//! partial update and delete on [`Activities`].

use reqwest::Method;

use super::records::Activities;
use crate::client::error::Result;
use crate::client::models::{ActivityUpdate, NewActivity};

impl Activities<'_> {
    /// `PUT /{meeting|event}/`: creates and returns the new id.
    pub async fn create(&self, body: &NewActivity) -> Result<u64> {
        self.client.create(&self.root(), body).await
    }

    /// `POST /{meeting|event}/{id}/`: partial update.
    pub async fn update(&self, id: u64, body: &ActivityUpdate) -> Result<()> {
        self.client
            .inner
            .send_json(Method::POST, &self.path(id), body)
            .await
            .map(drop)
    }

    /// `DELETE /{meeting|event}/{id}/`.
    pub async fn delete(&self, id: u64) -> Result<()> {
        self.client
            .inner
            .execute(Method::DELETE, &self.path(id), &[], None)
            .await
            .map(drop)
    }
}
