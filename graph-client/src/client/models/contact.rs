//! The `contact` and `contactFolder` resources.

use serde::{Deserialize, Serialize};

use super::common::{
    EmailAddress, PhysicalAddress, Removed, SingleValueExtendedProperty, item_methods,
};

/// Graph accepts at most this many `emailAddresses` on a contact (undocumented cap; more is a 400).
pub const MAX_CONTACT_EMAILS: usize = 3;
/// Graph accepts at most this many `businessPhones` on a contact (undocumented cap; more is a 400).
pub const MAX_CONTACT_BUSINESS_PHONES: usize = 2;

/// An Outlook contact. Used both as a response and as a create/update body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Contact {
    /// Id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Weak ETag.
    #[serde(rename = "@odata.etag", skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Version stamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_key: Option<String>,
    /// Folder holding the contact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_folder_id: Option<String>,
    /// Given name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Surname.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    /// Middle name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Title (e.g. `Ing.`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// File-as name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_as: Option<String>,
    /// E-mail addresses (at most [`MAX_CONTACT_EMAILS`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_addresses: Option<Vec<EmailAddress>>,
    /// Business phones (at most [`MAX_CONTACT_BUSINESS_PHONES`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_phones: Option<Vec<String>>,
    /// Home phones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_phones: Option<Vec<String>>,
    /// Mobile phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    /// Company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// Job title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// Department.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Business address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_address: Option<PhysicalAddress>,
    /// Birthday (UTC `DateTimeOffset`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    /// Notes (plain text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_notes: Option<String>,
    /// Category names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    /// Last modification time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_date_time: Option<String>,
    /// Extended properties (written on create/update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_value_extended_properties: Option<Vec<SingleValueExtendedProperty>>,
    /// Set on delta items that were removed.
    #[serde(rename = "@removed", skip_serializing_if = "Option::is_none")]
    pub removed: Option<Removed>,
}

item_methods!(Contact);

/// A contact folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ContactFolder {
    /// Id (container ids are stable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Parent folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_folder_id: Option<String>,
}
