//! Companies (`/company/`, "klient").

use serde::{Deserialize, Serialize};

use super::common::{Ref, RowInfo, de};
use super::macros::open_enum;
use super::person::{Address, ContactInfo};

open_enum! {
    /// Company state.
    CompanyState {
        /// `A_POTENTIAL`.
        Potential = "A_POTENTIAL",
        /// `B_ACTUAL`.
        Actual = "B_ACTUAL",
        /// `C_DEFERRED`.
        Deferred = "C_DEFERRED",
        /// `D_UNATTRACTIVE`.
        Unattractive = "D_UNATTRACTIVE",
    }
}

open_enum! {
    /// Company role (live data has more codes, e.g. `E_OWN`).
    CompanyRole {
        /// `A_SUBSCRIBER`.
        Subscriber = "A_SUBSCRIBER",
        /// `B_PARTNER`.
        Partner = "B_PARTNER",
        /// `C_SUPPLIER`.
        Supplier = "C_SUPPLIER",
        /// `D_RIVAL`.
        Rival = "D_RIVAL",
    }
}

/// A company as read from the API.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Company {
    /// Record id.
    #[serde(deserialize_with = "de::u64_lenient")]
    pub id: u64,
    /// Name.
    pub name: Option<String>,
    /// Whether the client is a natural person.
    #[serde(default, deserialize_with = "de::opt_bool_lenient")]
    pub person: Option<bool>,
    /// Rating (`A`/`B`/`C`).
    pub rating: Option<String>,
    /// State.
    pub state: Option<CompanyState>,
    /// Role.
    pub role: Option<CompanyRole>,
    /// Owner (person id of a user).
    pub owner: Option<Ref>,
    /// Registration number (IČ).
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub reg_number: Option<String>,
    /// Tax number (DIČ).
    #[serde(default, deserialize_with = "de::opt_string_lenient")]
    pub tax_number: Option<String>,
    /// Note.
    pub notice: Option<String>,
    /// Tags.
    #[serde(default, deserialize_with = "de::opt_tags")]
    pub tags: Option<Vec<String>>,
    /// Primary address.
    pub primary_address: Option<AddressEntry>,
    /// Contact address.
    pub contact_address: Option<AddressEntry>,
    /// External ids (detail only).
    pub ext_ids: Option<Vec<String>>,
    /// Audit block and `_version`.
    #[serde(flatten)]
    pub row_info: RowInfo,
}

/// One company address entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct AddressEntry {
    /// Entry id.
    #[serde(deserialize_with = "de::opt_u64_lenient")]
    pub id: Option<u64>,
    /// Whether this is the primary address.
    #[serde(deserialize_with = "de::opt_bool_lenient")]
    pub primary: Option<bool>,
    /// The address.
    pub address: Option<Address>,
    /// Contacts at this address.
    pub contact_info: Option<ContactInfo>,
    /// Territory.
    pub territory: Option<Ref>,
}
