//! External ids of a record: look-up by extId, add (at most 10, unique per
//! entity) and remove.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::entity::Entity;
use super::instance::Instance;
use super::reject::Reject;

impl Instance {
    /// The record of `e` holding the extId `ext`.
    pub(crate) fn find_ext(&self, e: Entity, ext: &str) -> Option<u64> {
        self.tables.get(&e)?.rows.iter().find_map(|(id, row)| {
            row.get("extIds")
                .and_then(Value::as_array)
                .is_some_and(|ids| ids.iter().any(|x| x.as_str() == Some(ext)))
                .then_some(*id)
        })
    }

    /// Adds the extId of the body `{"extId": ..}` to record `id`.
    pub(crate) fn add_ext(
        &mut self,
        e: Entity,
        id: u64,
        body: &Value,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let ext = body
            .get("extId")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Reject::bad_request("Required field [extId] is missing"))?
            .to_owned();
        if let Some(other) = self.find_ext(e, &ext) {
            if other == id {
                return Ok(());
            }
            return Err(Reject::new(
                500,
                "TranslatedApplicationException",
                "exception.duplicateKey",
            ));
        }
        let (mut row, mut ids) = self.with_ext_ids(e, id)?;
        if ids.len() >= 10 {
            return Err(Reject::bad_request(
                "A record can hold at most 10 external ids",
            ));
        }
        ids.push(Value::String(ext));
        row.insert("extIds".into(), Value::Array(ids));
        self.store_edited(e, id, row, user, now);
        Ok(())
    }

    /// Removes the extId `ext` from record `id`.
    pub(crate) fn remove_ext(
        &mut self,
        e: Entity,
        id: u64,
        ext: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let (mut row, mut ids) = self.with_ext_ids(e, id)?;
        let before = ids.len();
        ids.retain(|x| x.as_str() != Some(ext));
        if ids.len() == before {
            return Err(Reject::not_found(e, ext));
        }
        row.insert(
            "extIds".into(),
            if ids.is_empty() {
                Value::Null
            } else {
                Value::Array(ids)
            },
        );
        self.store_edited(e, id, row, user, now);
        Ok(())
    }

    /// A copy of record `id` to edit, and its extIds.
    fn with_ext_ids(&self, e: Entity, id: u64) -> Result<(Map<String, Value>, Vec<Value>), Reject> {
        let row = self.row_to_edit(e, id)?;
        let ids = row
            .get("extIds")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok((row, ids))
    }
}
