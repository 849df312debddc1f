//! [`FakeInstance`]: a handle on one instance of the fake, for seeding and
//! inspection (users, records, quota, time zone).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::error::FakeError;
use super::seed::{ActivitySeed, CompanySeed, PersonSeed};
use super::state::{ChangeKind, Entity, Instance, Origin, Reject, Shared};

/// A handle on one instance of the fake, for seeding and inspection.
pub struct FakeInstance<'a> {
    pub(super) shared: &'a Shared,
    pub(super) name: String,
}

impl std::fmt::Debug for FakeInstance<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeInstance")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Ids of a seeded user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SeededUser {
    /// The user account id.
    pub user_account_id: u64,
    /// The user's person id (what owners and participants use).
    pub person_id: u64,
}

fn entity(name: &str) -> Result<Entity, FakeError> {
    Entity::parse(name).ok_or_else(|| FakeError {
        status: 404,
        body: json!({"type": "NotFound", "message": format!("unknown entity {name}")}),
    })
}

impl FakeInstance<'_> {
    fn with<R>(
        &self,
        f: impl FnOnce(&mut Instance, DateTime<Utc>) -> Result<R, Reject>,
    ) -> Result<R, FakeError> {
        let mut w = self.shared.world();
        let now = w.now();
        let inst = w.instances.get_mut(&self.name).ok_or_else(|| FakeError {
            status: 401,
            body: json!({"type": "NotFound", "message": format!("no instance {}", self.name)}),
        })?;
        f(inst, now).map_err(FakeError::from)
    }

    fn system_user(&self) -> String {
        format!("ui@{}.test", self.name)
    }

    /// Makes a change as a UI user would: `write` changes the record and answers its id and
    /// extIds (as the webhook event carries them), then the event `kind` is queued.
    fn as_browser(
        &self,
        e: Entity,
        kind: ChangeKind,
        write: impl FnOnce(&mut Instance, &str, DateTime<Utc>) -> Result<(u64, Value), Reject>,
    ) -> Result<u64, FakeError> {
        let user = self.system_user();
        let id = self.with(|i, now| {
            let (id, ext) = write(i, &user, now)?;
            i.notify(kind, e, id, &ext, &Origin::browser(&user), now);
            Ok(id)
        })?;
        self.shared.push_wake.notify_one();
        Ok(id)
    }

    /// Creates a record of `e` from a seed's body, as a UI user would.
    fn create(&self, e: Entity, body: Map<String, Value>) -> Result<u64, FakeError> {
        self.as_browser(e, ChangeKind::Created, |i, user, now| {
            let id = i.create(e, &Value::Object(body), user, now)?;
            Ok((id, i.ext_ids_of(e, id)))
        })
    }

    /// Changes a setting of the instance (nothing happens when it is gone).
    fn set(&self, f: impl FnOnce(&mut Instance)) {
        let _ = self.with(|i, _| {
            f(i);
            Ok(())
        });
    }

    /// Adds a user: a person and a user account (role `ADMIN`), whose login
    /// and key are accepted by the API.
    pub fn add_user(
        &self,
        login: &str,
        api_key: &str,
        first: &str,
        last: &str,
    ) -> Result<SeededUser, FakeError> {
        self.with(|i, now| i.add_user(login, api_key, first, last, now))
            .map(|(user_account_id, person_id)| SeededUser {
                user_account_id,
                person_id,
            })
    }

    /// Adds a company.
    pub fn add_company(&self, seed: CompanySeed) -> Result<u64, FakeError> {
        self.create(Entity::Company, seed.body)
    }

    /// Adds a person.
    pub fn add_person(&self, seed: PersonSeed) -> Result<u64, FakeError> {
        self.create(Entity::Person, seed.body)
    }

    /// Adds `n` persons named `Person 0001`, `Person 0002`, …
    pub fn add_persons(&self, n: usize) -> Result<Vec<u64>, FakeError> {
        (1..=n)
            .map(|k| {
                self.add_person(
                    PersonSeed::new(&format!("Person {k:04}"))
                        .first_name("Test")
                        .email(&format!("person{k}@example.test")),
                )
            })
            .collect()
    }

    /// Adds a meeting.
    pub fn add_meeting(&self, seed: ActivitySeed) -> Result<u64, FakeError> {
        self.create(Entity::Meeting, seed.body)
    }

    /// Adds an event ("událost").
    pub fn add_event(&self, seed: ActivitySeed) -> Result<u64, FakeError> {
        self.create(Entity::Event, seed.body)
    }

    /// Edits a record as a UI user would (partial, bumps stamps and `_version`);
    /// webhooks get a `record.updated` from `source: {name: "user", description: "browser"}`.
    /// `entity` is the API name: `meeting`, `event`, `person`, `company`.
    pub fn edit(&self, entity_name: &str, id: u64, body: &Value) -> Result<(), FakeError> {
        let e = entity(entity_name)?;
        self.as_browser(e, ChangeKind::Updated, |i, user, now| {
            i.update(e, id, body, user, now)?;
            Ok((id, i.ext_ids_of(e, id)))
        })
        .map(drop)
    }

    /// Deletes a record as a UI user would (webhooks get a `record.deleted`).
    pub fn remove(&self, entity_name: &str, id: u64) -> Result<(), FakeError> {
        let e = entity(entity_name)?;
        self.as_browser(e, ChangeKind::Deleted, |i, _, _| {
            let ext = i.ext_ids_of(e, id);
            i.delete(e, id)?;
            Ok((id, ext))
        })
        .map(drop)
    }

    /// A record as the detail endpoint would return it (with ISO datetimes).
    pub fn record(&self, entity_name: &str, id: u64) -> Option<Value> {
        let e = entity(entity_name).ok()?;
        self.with(|i, _| Ok(i.row(e, id).map(|r| i.render(e, r, true, true))))
            .ok()
            .flatten()
    }

    /// Ids of every record of an entity.
    pub fn ids(&self, entity_name: &str) -> Vec<u64> {
        entity(entity_name)
            .and_then(|e| self.with(|i, _| Ok(i.ids(e))))
            .unwrap_or_default()
    }

    /// Sets the daily quota (default 24 000).
    pub fn set_quota(&self, limit: u64) {
        self.set(|i| i.quota = limit);
    }

    /// Makes inserts of meetings and events accept and drop the `extId` they are sent, as an
    /// instance might (RAYNET documents `extId` in an insert body for companies only).
    pub fn set_insert_drops_ext_id(&self, drops: bool) {
        self.set(|i| i.insert_drops_ext_id = drops);
    }

    /// Sets how many requests of today's quota are already used.
    pub fn set_quota_used(&self, used: u64) {
        self.set(|i| i.used = used);
    }

    /// Requests left in today's window.
    pub fn quota_remaining(&self) -> u64 {
        self.with(|i, _| Ok(i.quota.saturating_sub(i.used)))
            .unwrap_or(0)
    }

    /// Sets the instance's (and API user's) time zone.
    pub fn set_time_zone(&self, tz: Tz) {
        self.set(|i| i.tz = tz);
    }

    /// Names the API key of user `login` (default
    /// [`DEFAULT_API_KEY_NAME`](super::DEFAULT_API_KEY_NAME)): the
    /// `source.description` of webhook events for changes made with it.
    pub fn set_api_key_name(&self, login: &str, name: &str) {
        self.set(|i| {
            for u in i.users.iter_mut().filter(|u| u.login == login) {
                name.clone_into(&mut u.key_name);
            }
        });
    }

    /// The ids of the registered webhooks, oldest first (a webhook removed
    /// after 7 days of failures is gone from here).
    pub fn webhook_ids(&self) -> Vec<String> {
        self.with(|i, _| Ok(i.hooks.list.iter().map(|h| h.id.clone()).collect()))
            .unwrap_or_default()
    }

    /// The technical contacts set with `POST /webhook/technicalContact/`.
    pub fn technical_contacts(&self) -> Vec<String> {
        self.with(|i, _| Ok(i.hooks.technical_contacts.clone()))
            .unwrap_or_default()
    }
}
