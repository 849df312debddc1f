//! Seed builders: [`PersonSeed`], [`CompanySeed`] and [`ActivitySeed`] hold a
//! record in the API's write shape for the `FakeInstance::add_*` calls.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde_json::{Map, Value, json};

macro_rules! seed_setters {
    ($( $(#[$m:meta])* $fn:ident => $key:literal ),* $(,)?) => {
        $(
            $(#[$m])*
            pub fn $fn(mut self, value: &str) -> Self {
                self.body.insert($key.into(), Value::String(value.to_owned()));
                self
            }
        )*
    };
}

/// A seed type: a record body in the API's write shape, with
/// `field(key, value)` for any field its setters do not cover.
macro_rules! seed_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default)]
        #[must_use]
        pub struct $name {
            pub(super) body: Map<String, Value>,
        }

        impl $name {
            /// Any other field, in the API's write shape.
            pub fn field(mut self, key: &str, value: Value) -> Self {
                self.body.insert(key.into(), value);
                self
            }
        }
    };
}

/// `tags(..)`: the tags of a seed.
macro_rules! seed_tags {
    () => {
        /// Tags.
        pub fn tags(mut self, tags: &[&str]) -> Self {
            self.body.insert("tags".into(), json!(tags));
            self
        }
    };
}

seed_type! {
    /// Seed data for a person.
    PersonSeed
}

impl PersonSeed {
    /// A person with a last name (the only required field).
    pub fn new(last_name: &str) -> Self {
        PersonSeed::default().field("lastName", json!(last_name))
    }

    seed_setters! {
        /// First name.
        first_name => "firstName",
        /// Title before the name.
        title_before => "titleBefore",
        /// Title after the name.
        title_after => "titleAfter",
        /// Salutation.
        salutation => "salutation",
        /// Note.
        notice => "notice",
    }

    fn contact(mut self, key: &str, value: &str) -> Self {
        let ci = self.body.entry("contactInfo").or_insert_with(|| json!({}));
        if let Some(m) = ci.as_object_mut() {
            m.insert(key.into(), json!(value));
        }
        self
    }

    /// Primary e-mail.
    pub fn email(self, email: &str) -> Self {
        self.contact("email", email)
    }

    /// Second e-mail.
    pub fn email2(self, email: &str) -> Self {
        self.contact("email2", email)
    }

    /// First phone and its type (e.g. `mobil`).
    pub fn phone(self, tel: &str, kind: &str) -> Self {
        self.contact("tel1", tel).contact("tel1Type", kind)
    }

    /// Second phone and its type.
    pub fn phone2(self, tel: &str, kind: &str) -> Self {
        self.contact("tel2", tel).contact("tel2Type", kind)
    }

    /// Links the person to a company (primary relationship) with a position.
    pub fn company(mut self, company_id: u64, position: &str) -> Self {
        self.body.insert(
            "relationship".into(),
            json!({"company": company_id, "type": position}),
        );
        self
    }

    /// Owner (a user's person id).
    pub fn owner(mut self, person_id: u64) -> Self {
        self.body.insert("owner".into(), json!(person_id));
        self
    }

    /// Birthday.
    pub fn birthday(mut self, date: NaiveDate) -> Self {
        self.body.insert(
            "birthday".into(),
            json!(date.format("%Y-%m-%d").to_string()),
        );
        self
    }

    seed_tags!();

    /// Private address.
    pub fn private_address(
        mut self,
        street: &str,
        city: &str,
        zip: &str,
        country_code: &str,
    ) -> Self {
        self.body.insert(
            "privateAddress".into(),
            json!({"street": street, "city": city, "zipCode": zip, "country": country_code, "countryCode": country_code}),
        );
        self
    }
}

seed_type! {
    /// Seed data for a company.
    CompanySeed
}

impl CompanySeed {
    /// A company with a name (state/role/rating get defaults).
    pub fn new(name: &str) -> Self {
        CompanySeed::default()
            .field("name", json!(name))
            .field("state", json!("B_ACTUAL"))
            .field("role", json!("A_SUBSCRIBER"))
            .field("rating", json!("A"))
    }

    seed_setters! {
        /// Registration number (IČ).
        reg_number => "regNumber",
        /// Note.
        notice => "notice",
    }

    /// Primary address.
    pub fn address(mut self, street: &str, city: &str, zip: &str, country_code: &str) -> Self {
        self.body.insert(
            "primaryAddress".into(),
            json!({"primary": true, "address": {"street": street, "city": city, "zipCode": zip, "country": country_code, "countryCode": country_code}}),
        );
        self
    }
}

seed_type! {
    /// Seed data for a meeting or an event.
    ActivitySeed
}

impl ActivitySeed {
    /// An activity with its required fields (priority `DEFAULT`).
    pub fn new(title: &str, owner_person_id: u64) -> Self {
        ActivitySeed::default()
            .field("title", json!(title))
            .field("priority", json!("DEFAULT"))
            .field("owner", json!(owner_person_id))
    }

    /// Start and end with offsets.
    pub fn scheduled(mut self, from: DateTime<FixedOffset>, till: DateTime<FixedOffset>) -> Self {
        self.body
            .insert("scheduledFrom".into(), json!(from.to_rfc3339()));
        self.body
            .insert("scheduledTill".into(), json!(till.to_rfc3339()));
        self
    }

    /// Start and end as naive local `yyyy-MM-dd HH:mm` in the instance's zone.
    pub fn scheduled_local(mut self, from: &str, till: &str) -> Self {
        self.body.insert("scheduledFrom".into(), json!(from));
        self.body.insert("scheduledTill".into(), json!(till));
        self
    }

    seed_setters! {
        /// Description (HTML).
        description => "description",
        /// Location.
        meeting_place => "meetingPlace",
        /// Status (`NEW`, `SCHEDULED`, `COMPLETED`, `CANCELLED`).
        status => "status",
        /// Priority (`MINOR`, `DEFAULT`, `CRITICAL`).
        priority => "priority",
        /// External id.
        ext_id => "extId",
    }

    /// Company in context.
    pub fn company(mut self, company_id: u64) -> Self {
        self.body.insert("company".into(), json!(company_id));
        self
    }

    /// Adds a participating person (role `TO`).
    pub fn participant(mut self, person_id: u64) -> Self {
        let list = self.body.entry("participants").or_insert_with(|| json!([]));
        if let Some(a) = list.as_array_mut() {
            a.push(json!({"person": person_id, "role": "TO"}));
        }
        self
    }

    seed_tags!();
}
