//! Graph contact ⇄ [`sync_core::Contact`]: the pure mappings of contacts, both ways, with
//! Graph's caps applied (and what they dropped listed).

use chrono::{DateTime, NaiveDate, Utc};
use sync_core::{Contact, IdempotencyKey, Remote, RemoteId, SyncItem, Version};

use super::error::MapError;
use super::keys::version_of;
use crate::client::models::{self, EmailAddress, PhysicalAddress};

/// A Graph contact built from the engine's contact, and what Graph's caps made us drop.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MappedContact {
    /// The body to send.
    pub contact: models::Contact,
    /// What was dropped, e.g. `"e-mail x@y.cz"` (report it).
    pub dropped: Vec<String>,
}

/// A Graph contact from the engine's contact. Every field is set (empty when empty) so a
/// PATCH overwrites Outlook edits; e-mails beyond 3, business phones beyond 2, mobiles beyond 1
/// and home phones beyond 2 are dropped and listed.
#[must_use]
pub fn contact_from_core(contact: &sync_core::Contact) -> MappedContact {
    use sync_core::PhoneKind;
    let mut dropped = Vec::new();
    let mut display_name = name_without_title_after(contact);
    if !contact.title_after.is_empty() {
        display_name = format!("{display_name}, {}", contact.title_after);
    }
    let emails: Vec<EmailAddress> = contact
        .emails
        .iter()
        .map(|e| EmailAddress::new(e.as_str(), None))
        .collect();
    for extra in emails.iter().skip(models::MAX_CONTACT_EMAILS) {
        dropped.push(format!(
            "e-mail {}",
            extra.address.as_deref().unwrap_or_default()
        ));
    }
    let mut business = Vec::new();
    let mut home = Vec::new();
    let mut mobile: Option<String> = None;
    for phone in &contact.phones {
        let kept = match phone.kind {
            PhoneKind::Business if business.len() < models::MAX_CONTACT_BUSINESS_PHONES => {
                business.push(phone.number.clone());
                true
            }
            PhoneKind::Home if home.len() < MAX_HOME_PHONES => {
                home.push(phone.number.clone());
                true
            }
            PhoneKind::Mobile if mobile.is_none() => {
                mobile = Some(phone.number.clone());
                true
            }
            _ => false,
        };
        if !kept {
            dropped.push(format!("{} phone {}", phone.kind, phone.number));
        }
    }
    let a = &contact.business_address;
    let address = PhysicalAddress {
        street: Some(a.street.clone()),
        city: Some(a.city.clone()),
        state: Some(a.region.clone()),
        postal_code: Some(a.postal_code.clone()),
        country_or_region: Some(a.country.clone()),
    };
    let out = models::Contact {
        given_name: Some(contact.given_name.clone()),
        middle_name: Some(contact.middle_name.clone()),
        surname: Some(contact.surname.clone()),
        title: Some(contact.title_before.clone()),
        display_name: Some(display_name),
        email_addresses: Some(
            emails
                .into_iter()
                .take(models::MAX_CONTACT_EMAILS)
                .collect(),
        ),
        business_phones: Some(business),
        home_phones: Some(home),
        mobile_phone: Some(mobile.unwrap_or_default()),
        company_name: Some(contact.company.clone()),
        job_title: Some(contact.job_title.clone()),
        business_address: Some(address),
        birthday: contact
            .birthday
            .map(|d| format!("{}T00:00:00Z", d.format("%Y-%m-%d"))),
        personal_notes: Some(contact.notes.clone()),
        ..models::Contact::default()
    };
    MappedContact {
        contact: out,
        dropped,
    }
}

/// The display name without the title after the name: the title before it, given, middle and
/// surname, those that are set, joined by spaces (`"Ing. Jana Nováková"`).
fn name_without_title_after(contact: &Contact) -> String {
    [
        contact.title_before.as_str(),
        &contact.given_name,
        &contact.middle_name,
        &contact.surname,
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" ")
}

/// Home phones an Outlook contact holds (like business phones; not documented, see the notes).
const MAX_HOME_PHONES: usize = 2;

/// A Graph contact as the engine's [`Contact`]: the reverse of [`contact_from_core`],
/// over the fields it writes. The title after the name is read back from the display name
/// (`"Ing. Jana Nováková, Ph.D."`); phones come business first, then mobile, then home.
/// Addresses that are not e-mail addresses are left out.
#[must_use]
pub fn contact_to_core(contact: &models::Contact) -> Contact {
    use sync_core::{Phone, PhoneKind};
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut out = Contact {
        given_name: text(&contact.given_name),
        middle_name: text(&contact.middle_name),
        surname: text(&contact.surname),
        title_before: text(&contact.title),
        company: text(&contact.company_name),
        job_title: text(&contact.job_title),
        notes: text(&contact.personal_notes),
        ..Contact::default()
    };
    let name = name_without_title_after(&out);
    if let Some(after) = contact
        .display_name
        .as_deref()
        .and_then(|d| d.strip_prefix(name.as_str()))
        .and_then(|rest| rest.strip_prefix(", "))
    {
        after.clone_into(&mut out.title_after);
    }
    out.emails = contact
        .email_addresses
        .iter()
        .flatten()
        .filter_map(|e| sync_core::Email::new(e.address.as_deref()?).ok())
        .collect();
    let phone = |kind: PhoneKind, number: &String| Phone {
        kind,
        number: number.clone(),
    };
    out.phones = contact
        .business_phones
        .iter()
        .flatten()
        .map(|n| phone(PhoneKind::Business, n))
        .chain(
            contact
                .mobile_phone
                .iter()
                .map(|n| phone(PhoneKind::Mobile, n)),
        )
        .chain(
            contact
                .home_phones
                .iter()
                .flatten()
                .map(|n| phone(PhoneKind::Home, n)),
        )
        .filter(|p| !p.number.trim().is_empty())
        .collect();
    if let Some(a) = &contact.business_address {
        out.business_address = sync_core::Address {
            street: text(&a.street),
            city: text(&a.city),
            postal_code: text(&a.postal_code),
            region: text(&a.state),
            country: text(&a.country_or_region),
        };
    }
    out.birthday = contact
        .birthday
        .as_deref()
        .and_then(|b| b.get(..10))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    out.normalized()
}

/// A Graph contact as an engine [`Remote`].
pub(crate) fn contact_remote(
    contact: &models::Contact,
    property_id: &str,
) -> Result<Remote<Contact>, MapError> {
    let id = RemoteId::new(contact.id.clone().ok_or(MapError::Missing("id"))?)?;
    let version = version_of(contact.change_key.as_deref(), contact.etag.as_deref())
        .ok_or(MapError::Missing("changeKey"))?;
    Ok(Remote {
        id,
        version: Version::new(version)?,
        modified: contact
            .last_modified_date_time
            .as_deref()
            .and_then(|m| DateTime::parse_from_rfc3339(m).ok())
            .map(|d| d.with_timezone(&Utc)),
        item: contact_to_core(contact),
        key: contact
            .extended_property(property_id)
            .and_then(|k| IdempotencyKey::new(k).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::keys::LINK_PROPERTY_ID;
    use sync_core::{Email, Phone, PhoneKind};

    fn sample() -> Contact {
        Contact {
            given_name: "Jana".into(),
            middle_name: "Marie".into(),
            surname: "Nováková".into(),
            title_before: "Ing.".into(),
            title_after: "Ph.D.".into(),
            emails: vec![
                Email::new("jana@firma.cz").unwrap(),
                Email::new("j@home.cz").unwrap(),
            ],
            phones: vec![
                Phone {
                    kind: PhoneKind::Business,
                    number: "+420 1".into(),
                },
                Phone {
                    kind: PhoneKind::Mobile,
                    number: "+420 2".into(),
                },
                Phone {
                    kind: PhoneKind::Home,
                    number: "+420 3".into(),
                },
            ],
            company: "Firma s.r.o.".into(),
            job_title: "CFO".into(),
            business_address: sync_core::Address {
                street: "Hlavní 1".into(),
                city: "Brno".into(),
                postal_code: "602 00".into(),
                region: "JMK".into(),
                country: "CZ".into(),
            },
            birthday: NaiveDate::from_ymd_opt(1980, 2, 29),
            notes: "line 1\nline 2".into(),
        }
        .normalized()
    }

    #[test]
    fn contacts_keep_graph_caps_and_report_drops() {
        let c = sync_core::Contact {
            given_name: "Jana".into(),
            surname: "Nováková".into(),
            title_before: "Ing.".into(),
            title_after: "Ph.D.".into(),
            emails: (0..5)
                .map(|i| sync_core::Email::new(&format!("j{i}@firma.cz")).unwrap())
                .collect(),
            phones: vec![
                sync_core::Phone {
                    kind: sync_core::PhoneKind::Business,
                    number: "1".into(),
                },
                sync_core::Phone {
                    kind: sync_core::PhoneKind::Business,
                    number: "2".into(),
                },
                sync_core::Phone {
                    kind: sync_core::PhoneKind::Business,
                    number: "3".into(),
                },
                sync_core::Phone {
                    kind: sync_core::PhoneKind::Mobile,
                    number: "4".into(),
                },
                sync_core::Phone {
                    kind: sync_core::PhoneKind::Mobile,
                    number: "5".into(),
                },
            ],
            birthday: NaiveDate::from_ymd_opt(1980, 2, 29),
            ..sync_core::Contact::default()
        };
        let mapped = contact_from_core(&c.normalized());
        let g = &mapped.contact;
        assert_eq!(g.display_name.as_deref(), Some("Ing. Jana Nováková, Ph.D."));
        assert_eq!(g.email_addresses.as_ref().map(Vec::len), Some(3));
        assert_eq!(
            g.business_phones.as_deref(),
            Some(&["1".to_owned(), "2".to_owned()][..])
        );
        assert_eq!(g.mobile_phone.as_deref(), Some("4"));
        assert_eq!(g.birthday.as_deref(), Some("1980-02-29T00:00:00Z"));
        assert_eq!(mapped.dropped.len(), 4, "{:?}", mapped.dropped);
        let json = serde_json::to_value(g).expect("json");
        assert!(
            json.get("id").is_none(),
            "no read-only fields in a write body"
        );
    }

    #[test]
    fn contacts_round_trip_through_graph() {
        let c = sample();
        let graph = contact_from_core(&c).contact;
        // As Graph answers it (JSON round trip).
        let json = serde_json::to_value(&graph).unwrap();
        let back: models::Contact = serde_json::from_value(json).unwrap();
        assert_eq!(contact_to_core(&back), c);
    }

    #[test]
    fn empty_graph_fields_read_as_empty() {
        let g: models::Contact = serde_json::from_value(serde_json::json!({
            "id": "C1", "changeKey": "ck", "displayName": "Petr", "givenName": "Petr",
            "surname": null, "mobilePhone": null, "businessPhones": [], "emailAddresses": [
                {"name": "x", "address": "not an address"}, {"address": "petr@firma.cz"}
            ], "businessAddress": {}, "birthday": null
        }))
        .unwrap();
        let c = contact_to_core(&g);
        assert_eq!(c.given_name, "Petr");
        assert_eq!(c.title_after, "");
        assert!(c.phones.is_empty());
        assert_eq!(c.emails.len(), 1, "unusable addresses are left out");
        assert!(c.business_address.is_empty());
        let r = contact_remote(&g, LINK_PROPERTY_ID).unwrap();
        assert_eq!(r.version.as_str(), "ck");
        assert_eq!(r.key, None);
    }
}
