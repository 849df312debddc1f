//! Writes to an [`Instance`]: create, partial update and delete, and how a
//! written body is applied to a record (references resolved, datetimes
//! parsed, enums checked, the participant diff of an activity), as the API
//! does it.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::entity::Entity;
use super::instance::{Instance, User, fmt_utc};
use super::reject::Reject;
use crate::client::models::ApiDateTime;
use crate::fake::defaults::DEFAULT_API_KEY_NAME;

impl Instance {
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
        let mut row = self.row_to_edit(e, id)?;
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
        self.store_edited(e, id, row, user, now);
        Ok(())
    }

    /// Deletes a record.
    pub(crate) fn delete(&mut self, e: Entity, id: u64) -> Result<(), Reject> {
        self.table(e)
            .rows
            .remove(&id)
            .map(drop)
            .ok_or_else(|| Reject::not_found(e, &id.to_string()))
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
            key_name: DEFAULT_API_KEY_NAME.to_owned(),
        });
        Ok((ua, person))
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
