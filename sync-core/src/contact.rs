//! The provider-agnostic contact (a Raynet person, an Outlook contact).

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::event::string_enum;
use crate::ids::Email;
use crate::item::{
    EMPTY_VALUE, Field, FieldSet, Projected, SyncItem, described_text, line_text, list_text,
    normalize_line, normalize_text, short_label,
};

string_enum!(
    /// What a phone number is for.
    PhoneKind, "phone kind", {
        /// Work line (Outlook `businessPhones`).
        #[default]
        Business => "business",
        /// Mobile (Outlook `mobilePhone`).
        Mobile => "mobile",
        /// Home (Outlook `homePhones`).
        Home => "home",
    }
);

/// A phone number with its kind.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Phone {
    /// What the number is for.
    pub kind: PhoneKind,
    /// The number as written (white space folded).
    pub number: String,
}

/// A postal address.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Address {
    /// Street and number.
    #[serde(default)]
    pub street: String,
    /// City.
    #[serde(default)]
    pub city: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
    /// Region or province.
    #[serde(default)]
    pub region: String,
    /// Country (name or code, as the source has it).
    #[serde(default)]
    pub country: String,
}

impl Address {
    fn normalized(self) -> Self {
        Self {
            street: normalize_line(&self.street),
            city: normalize_line(&self.city),
            postal_code: normalize_line(&self.postal_code),
            region: normalize_line(&self.region),
            country: normalize_line(&self.country),
        }
    }

    /// Whether every part is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.street.is_empty()
            && self.city.is_empty()
            && self.postal_code.is_empty()
            && self.region.is_empty()
            && self.country.is_empty()
    }
}

/// A contact.
///
/// ```
/// use sync_core::{Contact, Email, SyncItem};
/// let mut c = Contact::default();
/// c.given_name = " Jana ".into();
/// c.surname = "Nováková".into();
/// c.emails = vec![Email::new("Jana@Firma.cz").unwrap(), Email::new("jana@firma.cz").unwrap()];
/// let n = c.normalized();
/// assert_eq!(n.given_name, "Jana");
/// assert_eq!(n.emails.len(), 1);
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Contact {
    /// First name.
    #[serde(default)]
    pub given_name: String,
    /// Middle name.
    #[serde(default)]
    pub middle_name: String,
    /// Last name.
    #[serde(default)]
    pub surname: String,
    /// Title before the name (Ing., Mgr.).
    #[serde(default)]
    pub title_before: String,
    /// Title after the name (Ph.D.).
    #[serde(default)]
    pub title_after: String,
    /// E-mail addresses, the primary first; duplicates removed.
    #[serde(default)]
    pub emails: Vec<Email>,
    /// Phone numbers, in the source's order; duplicates removed.
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// Company name (from the primary relationship).
    #[serde(default)]
    pub company: String,
    /// Job title (from the primary relationship).
    #[serde(default)]
    pub job_title: String,
    /// Business address.
    #[serde(default)]
    pub business_address: Address,
    /// Birthday.
    #[serde(default)]
    pub birthday: Option<NaiveDate>,
    /// Notes as plain text.
    #[serde(default)]
    pub notes: String,
}

/// The mergeable fields of a [`Contact`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum ContactField {
    /// `given_name`.
    GivenName,
    /// `middle_name`.
    MiddleName,
    /// `surname`.
    Surname,
    /// `title_before`.
    TitleBefore,
    /// `title_after`.
    TitleAfter,
    /// `emails`.
    Emails,
    /// `phones`.
    Phones,
    /// `company`.
    Company,
    /// `job_title`.
    JobTitle,
    /// `business_address`.
    BusinessAddress,
    /// `birthday`.
    Birthday,
    /// `notes`.
    Notes,
}

impl Field for ContactField {
    const ALL: &'static [Self] = &[
        Self::GivenName,
        Self::MiddleName,
        Self::Surname,
        Self::TitleBefore,
        Self::TitleAfter,
        Self::Emails,
        Self::Phones,
        Self::Company,
        Self::JobTitle,
        Self::BusinessAddress,
        Self::Birthday,
        Self::Notes,
    ];

    fn index(self) -> u8 {
        self as u8
    }

    fn name(self) -> &'static str {
        match self {
            Self::GivenName => "given_name",
            Self::MiddleName => "middle_name",
            Self::Surname => "surname",
            Self::TitleBefore => "title_before",
            Self::TitleAfter => "title_after",
            Self::Emails => "emails",
            Self::Phones => "phones",
            Self::Company => "company",
            Self::JobTitle => "job_title",
            Self::BusinessAddress => "business_address",
            Self::Birthday => "birthday",
            Self::Notes => "notes",
        }
    }
}

impl fmt::Display for ContactField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one side can hold of a [`Contact`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactProfile {
    /// The fields the side stores.
    pub held: FieldSet<ContactField>,
    /// At most this many e-mail addresses (Outlook: 3).
    pub max_emails: Option<usize>,
    /// At most this many phones of each kind (Outlook: 2 business, 1 mobile, 2 home).
    pub max_phones: Option<(usize, usize, usize)>,
}

impl Default for ContactProfile {
    /// Holds everything, without limits.
    fn default() -> Self {
        Self {
            held: FieldSet::all(),
            max_emails: None,
            max_phones: None,
        }
    }
}

impl ContactProfile {
    /// What an Outlook contact holds: 3 e-mail addresses, 2 business phones, 1 mobile, 2 home
    /// phones (the rest is dropped and reported).
    #[must_use]
    pub fn outlook() -> Self {
        Self {
            held: FieldSet::all(),
            max_emails: Some(3),
            max_phones: Some((2, 1, 2)),
        }
    }
}

impl SyncItem for Contact {
    type Field = ContactField;
    type Profile = ContactProfile;

    fn normalized(mut self) -> Self {
        self.given_name = normalize_line(&self.given_name);
        self.middle_name = normalize_line(&self.middle_name);
        self.surname = normalize_line(&self.surname);
        self.title_before = normalize_line(&self.title_before);
        self.title_after = normalize_line(&self.title_after);
        let mut seen = std::collections::BTreeSet::new();
        self.emails.retain(|e| seen.insert(e.clone()));
        for p in &mut self.phones {
            p.number = normalize_line(&p.number);
        }
        self.phones.retain(|p| !p.number.is_empty());
        let mut seen = std::collections::BTreeSet::new();
        self.phones.retain(|p| seen.insert(p.clone()));
        // Grouped by kind (business, mobile, home), in their order within a kind: an Outlook
        // contact keeps phones per kind, so this is the order every side can give back.
        self.phones.sort_by_key(|p| p.kind);
        self.company = normalize_line(&self.company);
        self.job_title = normalize_line(&self.job_title);
        self.business_address = self.business_address.normalized();
        self.notes = normalize_text(&self.notes);
        self
    }

    fn validate(&self) -> Result<(), ModelError> {
        if self.given_name.trim().is_empty()
            && self.surname.trim().is_empty()
            && self.company.trim().is_empty()
            && self.emails.is_empty()
        {
            return Err(ModelError::OutOfRange {
                field: "surname",
                reason: "a contact needs a name, a company or an e-mail address".into(),
            });
        }
        Ok(())
    }

    fn field_eq(&self, other: &Self, field: ContactField) -> bool {
        match field {
            ContactField::GivenName => self.given_name == other.given_name,
            ContactField::MiddleName => self.middle_name == other.middle_name,
            ContactField::Surname => self.surname == other.surname,
            ContactField::TitleBefore => self.title_before == other.title_before,
            ContactField::TitleAfter => self.title_after == other.title_after,
            ContactField::Emails => self.emails == other.emails,
            ContactField::Phones => self.phones == other.phones,
            ContactField::Company => self.company == other.company,
            ContactField::JobTitle => self.job_title == other.job_title,
            ContactField::BusinessAddress => self.business_address == other.business_address,
            ContactField::Birthday => self.birthday == other.birthday,
            ContactField::Notes => self.notes == other.notes,
        }
    }

    fn copy_field(&mut self, from: &Self, field: ContactField) {
        match field {
            ContactField::GivenName => self.given_name.clone_from(&from.given_name),
            ContactField::MiddleName => self.middle_name.clone_from(&from.middle_name),
            ContactField::Surname => self.surname.clone_from(&from.surname),
            ContactField::TitleBefore => self.title_before.clone_from(&from.title_before),
            ContactField::TitleAfter => self.title_after.clone_from(&from.title_after),
            ContactField::Emails => self.emails.clone_from(&from.emails),
            ContactField::Phones => self.phones.clone_from(&from.phones),
            ContactField::Company => self.company.clone_from(&from.company),
            ContactField::JobTitle => self.job_title.clone_from(&from.job_title),
            ContactField::BusinessAddress => {
                self.business_address.clone_from(&from.business_address);
            }
            ContactField::Birthday => self.birthday = from.birthday,
            ContactField::Notes => self.notes.clone_from(&from.notes),
        }
    }

    fn held_fields(profile: &ContactProfile) -> FieldSet<ContactField> {
        profile.held
    }

    fn project(&self, profile: &ContactProfile) -> Projected<Self> {
        let mut item = self.clone().normalized();
        let blank = Contact::default();
        for f in ContactField::ALL {
            if !profile.held.contains(*f) {
                item.copy_field(&blank, *f);
            }
        }
        let mut dropped = Vec::new();
        if let Some(max) = profile.max_emails {
            if item.emails.len() > max {
                for e in item.emails.drain(max..) {
                    dropped.push(format!("e-mail address {e} (the side holds at most {max})"));
                }
            }
        }
        if let Some((business, mobile, home)) = profile.max_phones {
            let mut counts = [0usize; 3];
            item.phones.retain(|p| {
                let (slot, max) = match p.kind {
                    PhoneKind::Business => (0, business),
                    PhoneKind::Mobile => (1, mobile),
                    PhoneKind::Home => (2, home),
                };
                counts[slot] += 1;
                if counts[slot] > max {
                    dropped.push(format!(
                        "{} phone {} (the side holds at most {max})",
                        p.kind, p.number
                    ));
                    false
                } else {
                    true
                }
            });
        }
        Projected { item, dropped }
    }

    fn label(&self) -> String {
        let name = normalize_line(&format!("{} {}", self.given_name, self.surname));
        if name.is_empty() {
            short_label(&self.company)
        } else {
            short_label(&name)
        }
    }

    fn field_text(&self, field: ContactField) -> String {
        match field {
            ContactField::GivenName => line_text(&self.given_name),
            ContactField::MiddleName => line_text(&self.middle_name),
            ContactField::Surname => line_text(&self.surname),
            ContactField::TitleBefore => line_text(&self.title_before),
            ContactField::TitleAfter => line_text(&self.title_after),
            ContactField::Emails => list_text(self.emails.iter().map(Email::as_str)),
            ContactField::Phones => match self.phones.len() {
                0 => EMPTY_VALUE.to_owned(),
                1 => "1 number".to_owned(),
                n => format!("{n} numbers"),
            },
            ContactField::Company => line_text(&self.company),
            ContactField::JobTitle => line_text(&self.job_title),
            ContactField::BusinessAddress => {
                let a = &self.business_address;
                if a.is_empty() {
                    EMPTY_VALUE.to_owned()
                } else if a.city.is_empty() {
                    "an address".to_owned()
                } else {
                    line_text(&format!("an address in {}", a.city))
                }
            }
            ContactField::Birthday => if self.birthday.is_some() {
                "set"
            } else {
                EMPTY_VALUE
            }
            .to_owned(),
            ContactField::Notes => described_text(&self.notes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlook_projection_caps_emails_and_phones_and_reports_them() {
        let c = Contact {
            surname: "Novák".into(),
            emails: (1..=5)
                .map(|i| Email::new(&format!("n{i}@x.cz")).unwrap())
                .collect(),
            phones: (1..=3)
                .map(|i| Phone {
                    kind: PhoneKind::Business,
                    number: format!("+420 60{i}"),
                })
                .collect(),
            ..Contact::default()
        };
        let p = c.project(&ContactProfile::outlook());
        assert_eq!(p.item.emails.len(), 3);
        assert_eq!(p.item.phones.len(), 2);
        assert_eq!(p.dropped.len(), 3);
        assert!(p.dropped[0].contains("n4@x.cz"));
    }

    #[test]
    fn empty_contact_is_invalid() {
        assert!(Contact::default().validate().is_err());
    }
}
