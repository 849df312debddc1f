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
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Contact {
    /// Id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Weak ETag.
    #[serde(
        default,
        rename = "@odata.etag",
        skip_serializing_if = "Option::is_none"
    )]
    pub etag: Option<String>,
    /// Version stamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_key: Option<String>,
    /// Folder holding the contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_folder_id: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Surname.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    /// Middle name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Title (e.g. `Ing.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// File-as name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_as: Option<String>,
    /// E-mail addresses (at most [`MAX_CONTACT_EMAILS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_addresses: Option<Vec<EmailAddress>>,
    /// Business phones (at most [`MAX_CONTACT_BUSINESS_PHONES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_phones: Option<Vec<String>>,
    /// Home phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_phones: Option<Vec<String>>,
    /// Mobile phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    /// Company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    /// Department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Business address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_address: Option<PhysicalAddress>,
    /// Birthday (UTC `DateTimeOffset`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthday: Option<String>,
    /// Notes (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_notes: Option<String>,
    /// Category names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    /// Last modification time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date_time: Option<String>,
    /// Extended properties (written on create/update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_value_extended_properties: Option<Vec<SingleValueExtendedProperty>>,
    /// Set on delta items that were removed.
    #[serde(default, rename = "@removed", skip_serializing_if = "Option::is_none")]
    pub removed: Option<Removed>,
}

item_methods!(Contact);

/// A contact folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContactFolder {
    /// Id (container ids are stable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Parent folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_folder_id: Option<String>,
}
