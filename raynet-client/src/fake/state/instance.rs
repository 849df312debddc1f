//! [`Instance`]: one instance's users, records, quota and time zone, and how a
//! record is stored and rendered.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::entity::Entity;
use super::hooks::Hooks;
use super::reject::Reject;

/// Keys holding datetimes (stored as UTC RFC 3339 with milliseconds).
pub(crate) const DATETIME_KEYS: [&str; 6] = [
    "scheduledFrom",
    "scheduledTill",
    "completed",
    "rowInfo.createdAt",
    "rowInfo.updatedAt",
    "rowInfo.lastModifiedAt",
];

/// One API user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) login: String,
    pub(crate) api_key: String,
    /// The key's name (a webhook event's `source.description`).
    pub(crate) key_name: String,
}

/// The records of one entity.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) next_id: u64,
    pub(crate) rows: BTreeMap<u64, Map<String, Value>>,
}

/// One instance: its users, records, quota and time zone.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) tz: Tz,
    pub(crate) quota: u64,
    pub(crate) used: u64,
    pub(crate) window_reset: DateTime<Utc>,
    pub(crate) users: Vec<User>,
    pub(crate) tables: BTreeMap<Entity, Table>,
    pub(crate) next_participant_id: i64,
    /// Inserts of meetings and events drop the `extId` they are sent (the API documents it
    /// for companies only; an instance that ignores it is possible).
    pub(crate) insert_drops_ext_id: bool,
    /// The webhooks and their queues.
    pub(crate) hooks: Hooks,
}

/// A stored datetime: UTC RFC 3339 with milliseconds.
pub(crate) fn fmt_utc(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The next 00:00 UTC after `now`: when the daily quota resets.
pub(crate) fn next_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    (now.date_naive() + chrono::Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .map_or(now, |n| n.and_utc())
}

impl Instance {
    pub(crate) fn new(tz: Tz, now: DateTime<Utc>) -> Self {
        let mut tables = BTreeMap::new();
        for e in Entity::ALL {
            tables.insert(
                e,
                Table {
                    next_id: 1,
                    rows: BTreeMap::new(),
                },
            );
        }
        Instance {
            tz,
            quota: 24_000,
            used: 0,
            window_reset: next_midnight(now),
            users: Vec::new(),
            tables,
            next_participant_id: 1,
            insert_drops_ext_id: false,
            hooks: Hooks::default(),
        }
    }

    /// The table of `e`.
    pub(crate) fn table(&mut self, e: Entity) -> &mut Table {
        self.tables.entry(e).or_default()
    }

    pub(crate) fn row(&self, e: Entity, id: u64) -> Option<&Map<String, Value>> {
        self.tables.get(&e).and_then(|t| t.rows.get(&id))
    }

    pub(crate) fn ids(&self, e: Entity) -> Vec<u64> {
        self.tables
            .get(&e)
            .map(|t| t.rows.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Renders a record for output (internal keys dropped, datetimes rendered).
    pub(crate) fn render(
        &self,
        e: Entity,
        row: &Map<String, Value>,
        iso: bool,
        detail: bool,
    ) -> Value {
        let mut out = Map::new();
        for (k, v) in row {
            if k.starts_with("__") {
                continue;
            }
            if !detail {
                let detail_only = match e {
                    Entity::Meeting | Entity::Event => matches!(k.as_str(), "owner" | "extIds"),
                    Entity::Person => matches!(k.as_str(), "relationships" | "extIds"),
                    Entity::Company => k == "extIds",
                    Entity::UserAccount => matches!(k.as_str(), "email2" | "timezone"),
                };
                if detail_only {
                    continue;
                }
            }
            let v = if DATETIME_KEYS.contains(&k.as_str()) {
                match v
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                {
                    Some(dt) => {
                        let local = dt.with_timezone(&self.tz);
                        Value::String(if iso {
                            local.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
                        } else {
                            local.format("%Y-%m-%d %H:%M").to_string()
                        })
                    }
                    None => v.clone(),
                }
            } else {
                v.clone()
            };
            out.insert(k.clone(), v);
        }
        Value::Object(out)
    }

    /// A copy of record `id` to edit (404 when there is none).
    pub(crate) fn row_to_edit(&self, e: Entity, id: u64) -> Result<Map<String, Value>, Reject> {
        self.row(e, id)
            .cloned()
            .ok_or_else(|| Reject::not_found(e, &id.to_string()))
    }

    /// Stores an edited record, stamped as changed by `user` at `now`
    /// (`_version` + 1, `rowInfo.updatedAt`/`lastModifiedAt`/`updatedBy`).
    pub(crate) fn store_edited(
        &mut self,
        e: Entity,
        id: u64,
        mut row: Map<String, Value>,
        user: &str,
        now: DateTime<Utc>,
    ) {
        touch(&mut row, user, now);
        self.table(e).rows.insert(id, row);
    }
}

/// Stamps a record as changed.
fn touch(row: &mut Map<String, Value>, user: &str, now: DateTime<Utc>) {
    let version = row.get("_version").and_then(Value::as_u64).unwrap_or(0) + 1;
    row.insert("_version".into(), json!(version));
    let t = Value::String(fmt_utc(now));
    row.insert("rowInfo.updatedAt".into(), t.clone());
    row.insert("rowInfo.lastModifiedAt".into(), t);
    row.insert("rowInfo.updatedBy".into(), json!(user));
}
