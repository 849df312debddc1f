//! External ids of one record (`/{entity}/{id}/extId/`): [`ExtIds`].

use reqwest::Method;

use super::path::segment;
use crate::client::error::Result;
use crate::client::http::Client;
use crate::client::models::EntityName;

impl Client {
    /// External ids of one record (`/{entity}/{id}/extId/`).
    pub fn ext_ids(&self, entity: EntityName, id: u64) -> ExtIds<'_> {
        ExtIds {
            client: self,
            entity,
            id,
        }
    }
}

/// External ids of one record: `client.ext_ids(EntityName::Meeting, 5)`.
#[derive(Debug, Clone)]
pub struct ExtIds<'a> {
    client: &'a Client,
    entity: EntityName,
    id: u64,
}

impl ExtIds<'_> {
    /// `PUT /{entity}/{id}/extId/` with `{"extId": ..}`.
    pub async fn add(&self, ext_id: &str) -> Result<()> {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'b> {
            ext_id: &'b str,
        }
        self.client
            .inner
            .send_json(
                Method::PUT,
                &format!("{}/{}/extId/", self.entity.as_str(), self.id),
                &Body { ext_id },
            )
            .await
            .map(drop)
    }

    /// `DELETE /{entity}/{id}/extId/{extId}` (no trailing slash, as documented).
    pub async fn remove(&self, ext_id: &str) -> Result<()> {
        self.client
            .inner
            .execute(
                Method::DELETE,
                &format!(
                    "{}/{}/extId/{}",
                    self.entity.as_str(),
                    self.id,
                    segment(ext_id)
                ),
                &[],
                None,
            )
            .await
            .map(drop)
    }
}
