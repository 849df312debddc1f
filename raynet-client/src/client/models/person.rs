//! Persons (`/person/`, "kontaktní osoba").

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Ref, RowInfo, de};
use super::macros::open_enum;

open_enum! {
    /// Gender.
    Gender {
        /// `MALE`.
        Male = "MALE",
        /// `FEMALE`.
        Female = "FEMALE",
    }
}

/// A person as read from the API (list row or detail).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Person {
    /// Record id.
    #[serde(deserialize_with = "de::u64_lenient")]
    pub id: u64,
    /// Title before the name (e.g. `Ing.`).
    pub title_before: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name (the only field required on create).
    pub last_name: Option<String>,
    /// Title after the name (e.g. `Ph.D.`).
    pub title_after: Option<String>,
    /// Salutation.
    pub salutation: Option<String>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Birthday.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub birthday: Option<NaiveDate>,
    /// Owner (a person id of a user).
    pub owner: Option<Ref>,
    /// Category.
    pub category: Option<Ref>,
    /// Language.
    pub language: Option<Ref>,
    /// The primary link to a company (`type` = position / job title).
    pub primary_relationship: Option<Relationship>,
    /// All company links (detail only).
    pub relationships: Option<Vec<Relationship>>,
    /// Business address from the primary relationship (list rows).
    pub company_address: Option<CompanyAddress>,
    /// E-mails, phones, web.
    pub contact_info: Option<ContactInfo>,
    /// Private address.
    pub private_address: Option<Address>,
    /// Note about the person.
    pub notice: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "de::opt_tags")]
    pub tags: Option<Vec<String>>,
    /// Custom fields.
    pub custom_fields: Option<Map<String, Value>>,
    /// Security level.
    pub security_level: Option<Ref>,
    /// Whether this person is an active RAYNET user.
    #[serde(default, deserialize_with = "de::opt_bool_lenient")]
    pub active_user_account: Option<bool>,
    /// Key person flag.
    #[serde(default, deserialize_with = "de::opt_bool_lenient")]
    pub keyman: Option<bool>,
    /// External ids (detail only).
    pub ext_ids: Option<Vec<String>>,
    /// Audit block and `_version`.
    #[serde(flatten)]
    pub row_info: RowInfo,
}

impl Person {
    /// "Titles First Last, titles after", skipping empty parts.
    pub fn display_name(&self) -> String {
        let mut name = [&self.title_before, &self.first_name, &self.last_name]
            .into_iter()
            .filter_map(|p| p.as_deref().map(str::trim).filter(|s| !s.is_empty()))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(after) = self
            .title_after
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            name.push_str(", ");
            name.push_str(after);
        }
        name
    }

    /// Name of the primary company, when the row carries it.
    pub fn primary_company_name(&self) -> Option<&str> {
        self.primary_relationship
            .as_ref()
            .and_then(|r| r.company.as_ref())
            .and_then(Ref::label)
    }
}

/// A person ↔ company link.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Relationship {
    /// Relationship row id.
    #[serde(deserialize_with = "de::opt_u64_lenient")]
    pub id: Option<u64>,
    /// Position / job title ("Pozice").
    #[serde(rename = "type")]
    pub position: Option<String>,
    /// The company.
    pub company: Option<Ref>,
    /// The company address used.
    pub company_address: Option<Ref>,
    /// Note.
    pub notice: Option<String>,
    /// Whether this is the primary link.
    #[serde(deserialize_with = "de::opt_bool_lenient")]
    pub primary: Option<bool>,
}

/// The business address block of a person list row.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct CompanyAddress {
    /// The address.
    pub address: Option<Address>,
    /// Territory.
    pub territory: Option<Ref>,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Address {
    /// Address id.
    #[serde(deserialize_with = "de::opt_u64_lenient")]
    pub id: Option<u64>,
    /// Address name.
    pub name: Option<String>,
    /// Street and number.
    pub street: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Province / region.
    pub province: Option<String>,
    /// Postal code.
    #[serde(deserialize_with = "de::opt_string_lenient")]
    pub zip_code: Option<String>,
    /// Country (name or ISO code).
    pub country: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country_code: Option<String>,
}

/// Contact details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ContactInfo {
    /// Primary e-mail.
    pub email: Option<String>,
    /// Second e-mail.
    pub email2: Option<String>,
    /// First phone.
    #[serde(deserialize_with = "de::opt_string_lenient")]
    pub tel1: Option<String>,
    /// Type of the first phone (free text, e.g. `mobil`).
    pub tel1_type: Option<String>,
    /// Second phone.
    #[serde(deserialize_with = "de::opt_string_lenient")]
    pub tel2: Option<String>,
    /// Type of the second phone.
    pub tel2_type: Option<String>,
    /// Web site.
    pub www: Option<String>,
    /// Fax.
    #[serde(deserialize_with = "de::opt_string_lenient")]
    pub fax: Option<String>,
    /// Other contact.
    pub other_contact: Option<String>,
    /// Do-not-send-mass-mail flag.
    #[serde(rename = "doNotSendMM", deserialize_with = "de::opt_bool_lenient")]
    pub do_not_send_mm: Option<bool>,
}
