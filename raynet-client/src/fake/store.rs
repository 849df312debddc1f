//! The fake's state and request semantics (no I/O here).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use crate::client::models::ApiDateTime;
use crate::client::query::Op;

/// Keys holding datetimes (stored as UTC RFC 3339 with milliseconds).
pub(crate) const DATETIME_KEYS: [&str; 6] = [
    "scheduledFrom",
    "scheduledTill",
    "completed",
    "rowInfo.createdAt",
    "rowInfo.updatedAt",
    "rowInfo.lastModifiedAt",
];

const ROW_INFO_FILTERS: [&str; 4] = [
    "rowInfo.createdAt",
    "rowInfo.updatedAt",
    "rowInfo.lastModifiedAt",
    "rowInfo.rowAccess",
];

/// The entities the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Entity {
    Meeting,
    Event,
    Person,
    Company,
    UserAccount,
}

impl Entity {
    pub(crate) const ALL: [Entity; 5] = [
        Entity::Meeting,
        Entity::Event,
        Entity::Person,
        Entity::Company,
        Entity::UserAccount,
    ];

    pub(crate) fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.name() == s)
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Entity::Meeting => "meeting",
            Entity::Event => "event",
            Entity::Person => "person",
            Entity::Company => "company",
            Entity::UserAccount => "userAccount",
        }
    }

    fn is_activity(self) -> bool {
        matches!(self, Entity::Meeting | Entity::Event)
    }

    fn filters(self) -> &'static [&'static str] {
        match self {
            Entity::Meeting | Entity::Event => &[
                "id",
                "title",
                "status",
                "scheduledFrom",
                "scheduledTill",
                "completed",
                "category-id",
                "owner-id",
                "businessCase",
                "priority",
            ],
            Entity::Person => &[
                "id",
                "firstName",
                "lastName",
                "owner",
                "primaryRelationship-company-name",
                "primaryRelationship-company-id",
                "userAccount-id",
                "contactInfo.email",
                "contactInfo.email2",
            ],
            Entity::Company => &[
                "id",
                "name",
                "owner",
                "regNumber",
                "state",
                "role",
                "rating",
            ],
            Entity::UserAccount => &["id", "username", "userRole"],
        }
    }

    fn required(self) -> &'static [&'static str] {
        match self {
            Entity::Meeting | Entity::Event => &["title", "priority", "owner"],
            Entity::Person => &["lastName"],
            Entity::Company => &["name", "state", "role", "rating"],
            Entity::UserAccount => &["username", "person"],
        }
    }
}

/// An error answer: status and the API's error body.
#[derive(Debug, Clone)]
pub(crate) struct Reject {
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl Reject {
    pub(crate) fn new(status: u16, kind: &str, message: impl Into<String>) -> Self {
        Reject {
            status,
            body: json!({ "type": kind, "message": message.into() }),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Reject::new(400, "BadRequest", message)
    }

    fn not_found(entity: Entity, what: &str) -> Self {
        Reject::new(
            404,
            "EntityNotFoundException",
            format!("Entity {} [{what}] not found", entity.name()),
        )
    }
}

pub(crate) type Outcome = Result<(u16, Option<Value>), Reject>;

/// One API user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) login: String,
    pub(crate) api_key: String,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    rows: BTreeMap<u64, Map<String, Value>>,
}

/// One instance: its users, records, quota and time zone.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) tz: Tz,
    pub(crate) quota: u64,
    pub(crate) used: u64,
    pub(crate) window_reset: DateTime<Utc>,
    pub(crate) users: Vec<User>,
    tables: BTreeMap<Entity, Table>,
    next_participant_id: i64,
    /// Inserts of meetings and events drop the `extId` they are sent (the API documents it
    /// for companies only; an instance that ignores it is possible).
    pub(crate) insert_drops_ext_id: bool,
}

fn fmt_utc(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Millis, true)
}

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
        }
    }

    fn table(&mut self, e: Entity) -> &mut Table {
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

    /// Parses a written datetime: ISO 8601 with offset, or naive local time in
    /// the instance's zone.
    fn parse_dt(&self, field: &str, v: &Value) -> Result<Value, Reject> {
        match v {
            Value::Null => Ok(Value::Null),
            Value::String(s) if s.trim().is_empty() => Ok(Value::Null),
            Value::String(s) => ApiDateTime::parse(s)
                .and_then(|dt| dt.to_utc(&self.tz))
                .map(|dt| Value::String(fmt_utc(dt)))
                .ok_or_else(|| {
                    Reject::new(
                        400,
                        "ConversionFailedException",
                        format!("Invalid date in [{field}]: {s}"),
                    )
                }),
            other => Err(Reject::new(
                400,
                "ConversionFailedException",
                format!("Invalid date in [{field}]: {other}"),
            )),
        }
    }

    fn person_ref(&self, id: u64) -> Result<Value, Reject> {
        let row = self
            .row(Entity::Person, id)
            .ok_or_else(|| Reject::not_found(Entity::Person, &id.to_string()))?;
        Ok(json!({ "id": id, "fullName": full_name(row) }))
    }

    fn company_ref(&self, id: u64) -> Result<Value, Reject> {
        let row = self
            .row(Entity::Company, id)
            .ok_or_else(|| Reject::not_found(Entity::Company, &id.to_string()))?;
        Ok(json!({ "id": id, "name": row.get("name").cloned().unwrap_or(Value::Null) }))
    }

    /// Resolves a written reference (bare id, numeric string or `{id}`).
    fn resolve_ref(&self, field: &str, v: &Value) -> Result<Value, Reject> {
        let id = match v {
            Value::Null => return Ok(Value::Null),
            Value::Number(n) => n.as_u64(),
            Value::String(s) if s.trim().is_empty() => return Ok(Value::Null),
            Value::String(s) => s.trim().parse().ok(),
            Value::Object(o) => o.get("id").and_then(|i| {
                i.as_u64()
                    .or_else(|| i.as_str().and_then(|s| s.parse().ok()))
            }),
            _ => None,
        }
        .ok_or_else(|| {
            Reject::new(
                400,
                "ConversionFailedException",
                format!("Invalid reference in [{field}]"),
            )
        })?;
        match field {
            "owner" | "person" | "resolver" => self.person_ref(id),
            "company" => self.company_ref(id),
            "category" => Ok(json!({ "id": id, "value": format!("Category {id}") })),
            "securityLevel" => Ok(
                json!({ "id": id, "name": if id == 1 { "Sdílená".to_owned() } else { format!("Level {id}") } }),
            ),
            "businessCase" | "offer" => {
                Ok(json!({ "id": id, "code": format!("BC{id}"), "name": format!("Case {id}") }))
            }
            _ => Ok(json!({ "id": id })),
        }
    }

    /// Creates a record from a request body (as `user`), returning the id.
    pub(crate) fn create(
        &mut self,
        e: Entity,
        body: &Value,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, Reject> {
        let obj = body
            .as_object()
            .ok_or_else(|| Reject::bad_request("Request body must be a JSON object"))?;
        for req in e.required() {
            let missing = match obj.get(*req) {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.trim().is_empty(),
                _ => false,
            };
            if missing {
                return Err(Reject::bad_request(format!(
                    "Required field [{req}] is missing"
                )));
            }
        }
        let mut row = Map::new();
        if e.is_activity() {
            row.insert("status".into(), json!("SCHEDULED"));
            row.insert("personal".into(), json!(false));
            row.insert("securityLevel".into(), json!({"id": 1, "name": "Sdílená"}));
            row.insert("participants".into(), json!([]));
            row.insert("tags".into(), json!([]));
            row.insert("extIds".into(), Value::Null);
        }
        if e == Entity::Person || e == Entity::Company {
            row.insert("tags".into(), json!([]));
            row.insert("extIds".into(), Value::Null);
        }
        self.apply(e, &mut row, obj, true)?;
        if e.is_activity() {
            // The owner becomes the owning participant.
            if let Some(owner) = row.get("owner").cloned().filter(|o| !o.is_null()) {
                let pid = self.next_participant_id;
                self.next_participant_id += 1;
                let mut parts = row
                    .get("participants")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                parts.insert(0, json!({"id": pid, "owner": true, "role": "FROM", "name": owner.get("fullName").cloned().unwrap_or(Value::Null), "person": owner, "company": null, "lead": null}));
                row.insert("participants".into(), Value::Array(parts));
            }
        }
        let drops = self.insert_drops_ext_id && matches!(e, Entity::Meeting | Entity::Event);
        if let Some(ext) = obj.get("extId").and_then(Value::as_str).filter(|_| !drops) {
            row.insert("extIds".into(), json!([ext]));
        }
        let table = self.table(e);
        let id = table.next_id;
        table.next_id += 1;
        row.insert("id".into(), json!(id));
        row.insert("_version".into(), json!(1));
        let t = Value::String(fmt_utc(now));
        row.insert("rowInfo.createdAt".into(), t.clone());
        row.insert("rowInfo.updatedAt".into(), t.clone());
        row.insert("rowInfo.lastModifiedAt".into(), t);
        row.insert("rowInfo.createdBy".into(), json!(user));
        row.insert("rowInfo.updatedBy".into(), json!(user));
        row.insert("rowInfo.rowAccess".into(), Value::Null);
        row.insert("rowInfo.rowState".into(), Value::Null);
        table.rows.insert(id, row);
        Ok(id)
    }

    /// Partially updates a record.
    pub(crate) fn update(
        &mut self,
        e: Entity,
        id: u64,
        body: &Value,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let obj = body
            .as_object()
            .ok_or_else(|| Reject::bad_request("Request body must be a JSON object"))?;
        let mut row = self
            .row(e, id)
            .cloned()
            .ok_or_else(|| Reject::not_found(e, &id.to_string()))?;
        self.apply(e, &mut row, obj, false)?;
        if e.is_activity() && obj.contains_key("owner") {
            // A reassigned activity: its owning participant follows its owner (list rows show
            // the owner only that way).
            if let Some(owner) = row.get("owner").cloned().filter(|o| !o.is_null()) {
                let name = owner.get("fullName").cloned().unwrap_or(Value::Null);
                if let Some(parts) = row.get_mut("participants").and_then(Value::as_array_mut) {
                    for p in parts.iter_mut().filter(|p| p["owner"] == json!(true)) {
                        p["person"] = owner.clone();
                        p["name"] = name.clone();
                    }
                }
            }
        }
        touch(&mut row, user, now);
        self.table(e).rows.insert(id, row);
        Ok(())
    }

    pub(crate) fn delete(&mut self, e: Entity, id: u64) -> Result<(), Reject> {
        self.table(e)
            .rows
            .remove(&id)
            .map(drop)
            .ok_or_else(|| Reject::not_found(e, &id.to_string()))
    }

    pub(crate) fn find_ext(&self, e: Entity, ext: &str) -> Option<u64> {
        self.tables.get(&e)?.rows.iter().find_map(|(id, row)| {
            row.get("extIds")
                .and_then(Value::as_array)
                .is_some_and(|ids| ids.iter().any(|x| x.as_str() == Some(ext)))
                .then_some(*id)
        })
    }

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
        let mut row = self
            .row(e, id)
            .cloned()
            .ok_or_else(|| Reject::not_found(e, &id.to_string()))?;
        let mut ids = row
            .get("extIds")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if ids.len() >= 10 {
            return Err(Reject::bad_request(
                "A record can hold at most 10 external ids",
            ));
        }
        ids.push(Value::String(ext));
        row.insert("extIds".into(), Value::Array(ids));
        touch(&mut row, user, now);
        self.table(e).rows.insert(id, row);
        Ok(())
    }

    pub(crate) fn remove_ext(
        &mut self,
        e: Entity,
        id: u64,
        ext: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Reject> {
        let mut row = self
            .row(e, id)
            .cloned()
            .ok_or_else(|| Reject::not_found(e, &id.to_string()))?;
        let mut ids = row
            .get("extIds")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
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
        touch(&mut row, user, now);
        self.table(e).rows.insert(id, row);
        Ok(())
    }

    /// Applies written fields to a row, accepting every documented shape.
    fn apply(
        &mut self,
        e: Entity,
        row: &mut Map<String, Value>,
        obj: &Map<String, Value>,
        create: bool,
    ) -> Result<(), Reject> {
        for (k, v) in obj {
            let k = k.as_str();
            match (e, k) {
                (_, "id" | "_version" | "extId") => {}
                (_, k) if k.starts_with("rowInfo") => {}
                (_, "tags") => {
                    let tags = match v {
                        Value::Null => Vec::new(),
                        Value::String(s) => crate::client::models::common_split_tags(s),
                        Value::Array(a) => a
                            .iter()
                            .filter_map(|t| t.as_str().map(str::to_owned))
                            .collect(),
                        _ => return Err(Reject::bad_request("Invalid value in [tags]")),
                    };
                    row.insert("tags".into(), json!(tags));
                }
                (_, "customFields") => {
                    let mut cf = row
                        .get("customFields")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    match v {
                        Value::Null => cf.clear(),
                        Value::Object(m) => {
                            for (ck, cv) in m {
                                if cv.is_null() || cv.as_str() == Some("") {
                                    cf.remove(ck);
                                } else {
                                    cf.insert(ck.clone(), cv.clone());
                                }
                            }
                        }
                        _ => return Err(Reject::bad_request("Invalid value in [customFields]")),
                    }
                    row.insert("customFields".into(), Value::Object(cf));
                }
                (
                    _,
                    "owner" | "person" | "company" | "category" | "securityLevel" | "businessCase"
                    | "offer" | "salesOrder" | "project" | "activity" | "lead" | "language",
                ) => {
                    if e == Entity::Company && k == "person" {
                        row.insert(k.into(), bool_value(k, v)?);
                        continue;
                    }
                    let r = self.resolve_ref(k, v)?;
                    row.insert(k.into(), r);
                }
                (_, "scheduledFrom" | "scheduledTill" | "completed") => {
                    let dt = self.parse_dt(k, v)?;
                    row.insert(k.into(), dt);
                }
                (_, "personal" | "keyman" | "activeUserAccount" | "taxPayer") => {
                    row.insert(k.into(), bool_value(k, v)?);
                }
                (_, "priority") => {
                    let s = enum_value(k, v, &["MINOR", "DEFAULT", "CRITICAL"])?;
                    row.insert(k.into(), s);
                }
                (Entity::Meeting | Entity::Event, "status") => {
                    let s = enum_value(k, v, &["NEW", "SCHEDULED", "COMPLETED", "CANCELLED"])?;
                    row.insert(k.into(), s);
                }
                (Entity::Meeting | Entity::Event, "participants") => {
                    self.apply_participants(row, v)?;
                }
                (Entity::Event, "solution") => {
                    return Err(Reject::bad_request("Unknown field [solution]"));
                }
                (Entity::Person, "birthday") => {
                    let d = match v {
                        Value::Null => Value::Null,
                        Value::String(s) if s.trim().is_empty() => Value::Null,
                        Value::String(s) => s
                            .get(..10)
                            .and_then(|p| NaiveDate::parse_from_str(p, "%Y-%m-%d").ok())
                            .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                            .ok_or_else(|| {
                                Reject::new(
                                    400,
                                    "ConversionFailedException",
                                    "Invalid date in [birthday]",
                                )
                            })?,
                        _ => {
                            return Err(Reject::new(
                                400,
                                "ConversionFailedException",
                                "Invalid date in [birthday]",
                            ));
                        }
                    };
                    row.insert(k.into(), d);
                }
                (Entity::Person, "relationship") if create => {
                    let company = v
                        .get("company")
                        .map(|c| self.resolve_ref("company", c))
                        .transpose()?
                        .unwrap_or(Value::Null);
                    let rel = json!({
                        "id": 1,
                        "type": v.get("type").cloned().unwrap_or(Value::Null),
                        "company": company,
                        "companyAddress": null,
                        "notice": v.get("notice").cloned().unwrap_or(Value::Null),
                        "primary": true,
                    });
                    row.insert(
                        "primaryRelationship".into(),
                        json!({"id": 1, "type": rel["type"], "company": rel["company"]}),
                    );
                    row.insert("relationships".into(), json!([rel]));
                }
                (Entity::Person, "contactInfo" | "privateAddress")
                | (Entity::Company, "primaryAddress" | "contactAddress") => {
                    let mut m = row
                        .get(k)
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    if let Value::Object(new) = v {
                        for (ck, cv) in new {
                            m.insert(ck.clone(), cv.clone());
                        }
                    }
                    row.insert(k.into(), Value::Object(m));
                }
                _ => {
                    row.insert(k.into(), v.clone());
                }
            }
        }
        Ok(())
    }

    /// Applies a participant diff list: no id adds, negative id deletes, positive id modifies.
    fn apply_participants(
        &mut self,
        row: &mut Map<String, Value>,
        v: &Value,
    ) -> Result<(), Reject> {
        let changes = v
            .as_array()
            .ok_or_else(|| Reject::bad_request("Invalid value in [participants]"))?;
        let mut parts = row
            .get("participants")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for ch in changes {
            let id = ch.get("id").and_then(|i| {
                i.as_i64()
                    .or_else(|| i.as_str().and_then(|s| s.parse().ok()))
            });
            match id {
                Some(id) if id < 0 => {
                    let before = parts.len();
                    parts.retain(|p| p.get("id").and_then(Value::as_i64) != Some(-id));
                    if parts.len() == before {
                        return Err(Reject::new(
                            404,
                            "EntityNotFoundException",
                            format!("Participant [{}] not found", -id),
                        ));
                    }
                }
                Some(id) => {
                    let resolved = self.participant_fields(ch)?;
                    let p = parts
                        .iter_mut()
                        .find(|p| p.get("id").and_then(Value::as_i64) == Some(id))
                        .ok_or_else(|| {
                            Reject::new(
                                404,
                                "EntityNotFoundException",
                                format!("Participant [{id}] not found"),
                            )
                        })?;
                    if let (Some(p), Value::Object(r)) = (p.as_object_mut(), resolved) {
                        for (k, v) in r {
                            p.insert(k, v);
                        }
                    }
                }
                None => {
                    let resolved = self.participant_fields(ch)?;
                    let pid = self.next_participant_id;
                    self.next_participant_id += 1;
                    let mut p = json!({"id": pid, "owner": false, "role": null, "name": null, "person": null, "company": null, "lead": null});
                    if let (Some(pm), Value::Object(r)) = (p.as_object_mut(), resolved) {
                        for (k, v) in r {
                            pm.insert(k, v);
                        }
                        let name = pm
                            .get("person")
                            .and_then(|x| x.get("fullName"))
                            .or_else(|| pm.get("company").and_then(|x| x.get("name")))
                            .cloned()
                            .unwrap_or(Value::Null);
                        pm.insert("name".into(), name);
                    }
                    parts.push(p);
                }
            }
        }
        row.insert("participants".into(), Value::Array(parts));
        Ok(())
    }

    fn participant_fields(&self, ch: &Value) -> Result<Value, Reject> {
        let mut out = Map::new();
        if let Some(v) = ch.get("owner") {
            out.insert("owner".into(), bool_value("owner", v)?);
        }
        if let Some(v) = ch.get("role") {
            out.insert(
                "role".into(),
                if v.is_null() {
                    Value::Null
                } else {
                    enum_value("role", v, &["FROM", "TO"])?
                },
            );
        }
        for k in ["person", "company", "lead"] {
            if let Some(v) = ch.get(k) {
                out.insert(k.into(), self.resolve_ref(k, v)?);
            }
        }
        Ok(Value::Object(out))
    }

    /// Lists records: filters, sorting, paging, `view=rowInfo`.
    pub(crate) fn list(
        &self,
        e: Entity,
        params: &[(String, String)],
    ) -> Result<(u64, Vec<Value>), Reject> {
        let mut offset = 0u64;
        let mut limit = 20u64;
        let mut sort: Option<String> = None;
        let mut desc = false;
        let mut iso = false;
        let mut row_view = false;
        let mut conds: Vec<(String, Op, String)> = Vec::new();
        let mut specials: Vec<(String, String)> = Vec::new();
        for (k, v) in params {
            match k.as_str() {
                "offset" => {
                    offset = v
                        .parse()
                        .map_err(|_| Reject::bad_request("Invalid offset"))?;
                }
                "limit" => {
                    limit = v
                        .parse()
                        .map_err(|_| Reject::bad_request("Invalid limit"))?;
                    if limit > 1000 {
                        return Err(Reject::bad_request("Maximum limit is 1000"));
                    }
                }
                "sortColumn" => sort = Some(v.clone()),
                "sortDirection" => {
                    desc = match v.to_ascii_uppercase().as_str() {
                        "ASC" => false,
                        "DESC" => true,
                        _ => {
                            return Err(Reject::bad_request(format!(
                                "Invalid sortDirection [{v}]"
                            )));
                        }
                    }
                }
                "dateFormat" => iso = v == "ISO8601",
                "view" => row_view = v == "rowInfo",
                "fulltext" | "tags" => specials.push((k.clone(), v.clone())),
                "personFilter" | "companyContextFilter" | "leadContextFilter"
                    if e.is_activity() =>
                {
                    specials.push((k.clone(), v.clone()));
                }
                other => {
                    let (field, op) = parse_filter_key(other).ok_or_else(|| {
                        Reject::bad_request(format!("Unsupported filter column [{other}]"))
                    })?;
                    if !(e.filters().contains(&field) || ROW_INFO_FILTERS.contains(&field)) {
                        return Err(Reject::bad_request(format!(
                            "Unsupported filter column [{field}]"
                        )));
                    }
                    if op == Op::Custom {
                        return Err(Reject::bad_request(format!(
                            "Unsupported operator CUSTOM for [{field}]"
                        )));
                    }
                    conds.push((field.to_owned(), op, v.clone()));
                }
            }
        }
        let Some(table) = self.tables.get(&e) else {
            return Ok((0, Vec::new()));
        };
        let mut rows: Vec<&Map<String, Value>> = Vec::new();
        for row in table.rows.values() {
            let mut ok = true;
            for (field, op, value) in &conds {
                if !self.matches(row, field, *op, value)? {
                    ok = false;
                    break;
                }
            }
            if ok && specials.iter().all(|(k, v)| special_matches(row, k, v)) {
                rows.push(row);
            }
        }
        if let Some(col) = &sort {
            rows.sort_by(|a, b| {
                let va = lookup(a, col);
                let vb = lookup(b, col);
                let ord =
                    compare_values(va, vb).then_with(|| compare_values(a.get("id"), b.get("id")));
                if desc { ord.reverse() } else { ord }
            });
        }
        let total = rows.len() as u64;
        let page = rows
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|row| {
                if row_view {
                    let mut m = Map::new();
                    for (k, v) in row {
                        if k == "id" || k == "_version" || k.starts_with("rowInfo.") {
                            m.insert(k.clone(), v.clone());
                        }
                    }
                    self.render(e, &m, iso, false)
                } else {
                    self.render(e, row, iso, false)
                }
            })
            .collect();
        Ok((total, page))
    }

    fn matches(
        &self,
        row: &Map<String, Value>,
        field: &str,
        op: Op,
        value: &str,
    ) -> Result<bool, Reject> {
        let actual = lookup(row, field).filter(|v| !v.is_null());
        let is_empty = |v: Option<&Value>| match v {
            None => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if value.is_empty() {
            return Ok(match op {
                Op::Eq | Op::EqOrNull => is_empty(actual),
                Op::Ne | Op::NeOrNull => !is_empty(actual),
                _ => return Err(Reject::bad_request(format!("Empty value for [{field}]"))),
            });
        }
        let Some(actual) = actual else {
            return Ok(matches!(op, Op::EqOrNull | Op::NeOrNull));
        };
        let cmp = |want: &str| -> Result<std::cmp::Ordering, Reject> {
            self.compare_to(field, actual, want)
        };
        Ok(match op {
            Op::Eq | Op::EqOrNull => cmp(value)?.is_eq(),
            Op::Ne | Op::NeOrNull => cmp(value)?.is_ne(),
            Op::Lt => cmp(value)?.is_lt(),
            Op::Le => cmp(value)?.is_le(),
            Op::Gt => cmp(value)?.is_gt(),
            Op::Ge => cmp(value)?.is_ge(),
            Op::Like => like(&value_text(actual), value),
            Op::LikeNocase => like(&value_text(actual).to_lowercase(), &value.to_lowercase()),
            Op::In | Op::NotIn => {
                let mut any = false;
                for item in value.split(',') {
                    if cmp(item.trim())?.is_eq() {
                        any = true;
                    }
                }
                any == (op == Op::In)
            }
            Op::Custom => false,
        })
    }

    fn compare_to(
        &self,
        field: &str,
        actual: &Value,
        want: &str,
    ) -> Result<std::cmp::Ordering, Reject> {
        let conversion = || {
            Reject::new(
                400,
                "ConversionFailedException",
                format!("Invalid value [{want}] for [{field}]"),
            )
        };
        if DATETIME_KEYS.contains(&field) {
            let a = actual
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|d| d.with_timezone(&Utc));
            let w = ApiDateTime::parse(want)
                .and_then(|d| d.to_utc(&self.tz))
                .ok_or_else(conversion)?;
            return Ok(a.map_or(std::cmp::Ordering::Less, |a| a.cmp(&w)));
        }
        match actual {
            Value::Number(n) => {
                let w: f64 = want.trim().parse().map_err(|_| conversion())?;
                Ok(n.as_f64().unwrap_or(0.0).total_cmp(&w))
            }
            Value::Bool(b) => {
                let w = crate::client::models::common_bool(&Value::String(want.to_owned()))
                    .ok_or_else(conversion)?;
                Ok(b.cmp(&w))
            }
            Value::Array(items) => Ok(if items.iter().any(|i| value_text(i) == want) {
                std::cmp::Ordering::Equal
            } else {
                std::cmp::Ordering::Less
            }),
            other => Ok(value_text(other).as_str().cmp(want)),
        }
    }

    /// Seeds a user: a person plus a user account. Returns (userAccountId, personId).
    pub(crate) fn add_user(
        &mut self,
        login: &str,
        api_key: &str,
        first: &str,
        last: &str,
        now: DateTime<Utc>,
    ) -> Result<(u64, u64), Reject> {
        let person = self.create(
            Entity::Person,
            &json!({"firstName": first, "lastName": last, "contactInfo": {"email": login}, "activeUserAccount": true}),
            "system",
            now,
        )?;
        let ua = self.create(
            Entity::UserAccount,
            &json!({"username": login, "person": person, "userRole": "ADMIN", "email2": null, "timezone": "EUROPE_PRAGUE"}),
            "system",
            now,
        )?;
        if let Some(row) = self.table(Entity::Person).rows.get_mut(&person) {
            row.insert("__userAccountId".into(), json!(ua));
        }
        self.users.push(User {
            login: login.to_owned(),
            api_key: api_key.to_owned(),
        });
        Ok((ua, person))
    }
}

fn touch(row: &mut Map<String, Value>, user: &str, now: DateTime<Utc>) {
    let version = row.get("_version").and_then(Value::as_u64).unwrap_or(0) + 1;
    row.insert("_version".into(), json!(version));
    let t = Value::String(fmt_utc(now));
    row.insert("rowInfo.updatedAt".into(), t.clone());
    row.insert("rowInfo.lastModifiedAt".into(), t);
    row.insert("rowInfo.updatedBy".into(), json!(user));
}

fn full_name(row: &Map<String, Value>) -> String {
    ["firstName", "lastName"]
        .iter()
        .filter_map(|k| row.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn bool_value(field: &str, v: &Value) -> Result<Value, Reject> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    crate::client::models::common_bool(v)
        .map(Value::Bool)
        .ok_or_else(|| {
            Reject::new(
                400,
                "ConversionFailedException",
                format!("Invalid boolean in [{field}]"),
            )
        })
}

fn enum_value(field: &str, v: &Value, allowed: &[&str]) -> Result<Value, Reject> {
    match v.as_str() {
        Some(s) if allowed.contains(&s) => Ok(Value::String(s.to_owned())),
        _ => Err(Reject::bad_request(format!(
            "Invalid value {v} in [{field}]"
        ))),
    }
}

fn parse_filter_key(key: &str) -> Option<(&str, Op)> {
    match key.find('[') {
        None => Some((key, Op::Eq)),
        Some(i) => {
            let op = key[i + 1..].strip_suffix(']')?;
            Some((&key[..i], Op::parse(op)?))
        }
    }
}

/// Finds a field: the flat key first (`rowInfo.createdAt`), then a path split
/// on `-` and `.` (`owner-id`, `contactInfo.email`), with aliases for internal keys.
fn lookup<'a>(row: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    if field == "userAccount-id" {
        return row.get("__userAccountId");
    }
    if let Some(v) = row.get(field) {
        return Some(v);
    }
    let mut parts = field.split(['-', '.']);
    let mut cur = row.get(parts.next()?)?;
    for p in parts {
        cur = cur.get(p)?;
    }
    Some(cur)
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(o) => o.get("id").map(value_text).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn compare_values(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.filter(|v| !v.is_null()), b.filter(|v| !v.is_null())) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(x), Some(y)) => value_text(x).cmp(&value_text(y)),
    }
}

/// SQL `LIKE` with `%` (any run) and `_` (one character).
fn like(text: &str, pattern: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('%', rest)) => (0..=t.len()).any(|i| go(&t[i..], rest)),
            Some(('_', rest)) => !t.is_empty() && go(&t[1..], rest),
            Some((c, rest)) => t.first() == Some(c) && go(&t[1..], rest),
        }
    }
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    go(&t, &p)
}

fn special_matches(row: &Map<String, Value>, key: &str, value: &str) -> bool {
    let id_of = |v: Option<&Value>| v.and_then(|v| v.get("id")).and_then(Value::as_u64);
    let want: Option<u64> = value.trim().parse().ok();
    let parts = || {
        row.get("participants")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    match key {
        "fulltext" => {
            let needle = value.to_lowercase();
            row.values().any(|v| contains_text(v, &needle))
        }
        "tags" => {
            let wanted: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            row.get("tags").and_then(Value::as_array).is_some_and(|t| {
                t.iter()
                    .any(|x| x.as_str().is_some_and(|s| wanted.contains(&s)))
            })
        }
        "personFilter" => {
            parts().iter().any(|p| id_of(p.get("person")) == want)
                || id_of(row.get("person")) == want
        }
        "companyContextFilter" => {
            id_of(row.get("company")) == want
                || parts().iter().any(|p| id_of(p.get("company")) == want)
        }
        "leadContextFilter" => {
            id_of(row.get("lead")) == want || parts().iter().any(|p| id_of(p.get("lead")) == want)
        }
        _ => true,
    }
}

fn contains_text(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.to_lowercase().contains(needle),
        Value::Array(a) => a.iter().any(|x| contains_text(x, needle)),
        Value::Object(o) => o.values().any(|x| contains_text(x, needle)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("Novák", "Nov%"));
        assert!(like("Novák", "%vá_"));
        assert!(!like("Novák", "nov%"));
        assert!(like("abc", "%"));
        assert!(!like("abc", "a_"));
    }

    #[test]
    fn filter_keys() {
        assert_eq!(parse_filter_key("owner-id[EQ]"), Some(("owner-id", Op::Eq)));
        assert_eq!(parse_filter_key("title"), Some(("title", Op::Eq)));
        assert_eq!(parse_filter_key("x[BOGUS]"), None);
    }
}
