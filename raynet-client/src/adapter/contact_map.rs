//! Contacts mapping: a RAYNET person → the engine's [`Contact`] (contacts flow
//! one way, RAYNET → Outlook).

use sync_core::{Address, Contact, Email, Phone, PhoneKind};

use super::lookup::CompanyNames;
use crate::client::models::Person;

fn phone_kind(kind: Option<&str>) -> PhoneKind {
    let k = kind.unwrap_or_default().to_lowercase();
    if k.contains("mob") || k.contains("cell") {
        PhoneKind::Mobile
    } else if k.contains("dom") || k.contains("home") || k.contains("soukr") || k.contains("priv") {
        PhoneKind::Home
    } else {
        PhoneKind::Business
    }
}

/// [`person_to_contact`], taking the company name from `companies` when the
/// person's row carries only the company's id.
#[must_use]
pub fn person_to_contact_with(p: &Person, companies: &CompanyNames) -> Contact {
    let mut c = person_to_contact(p);
    if c.company.trim().is_empty() {
        if let Some(name) = p
            .primary_relationship
            .as_ref()
            .and_then(|r| r.company.as_ref())
            .and_then(|r| companies.get(&r.id))
        {
            c.company.clone_from(name);
        }
    }
    c
}

/// A person → the engine's [`Contact`]: names and titles, e-mails, phones (kind
/// from `tel1Type`/`tel2Type`: `mobil…` → mobile, `domů`/`soukromý`/`home` →
/// home, else business), company and job title from the primary relationship,
/// business address, birthday and note. Addresses that are not e-mail
/// addresses are left out (and logged).
#[must_use]
pub fn person_to_contact(p: &Person) -> Contact {
    let mut c = Contact {
        given_name: p.first_name.clone().unwrap_or_default(),
        surname: p.last_name.clone().unwrap_or_default(),
        title_before: p.title_before.clone().unwrap_or_default(),
        title_after: p.title_after.clone().unwrap_or_default(),
        company: p.primary_company_name().unwrap_or_default().to_owned(),
        job_title: p
            .primary_relationship
            .as_ref()
            .and_then(|r| r.position.clone())
            .unwrap_or_default(),
        birthday: p.birthday,
        notes: p.notice.clone().unwrap_or_default(),
        ..Contact::default()
    };
    if let Some(ci) = &p.contact_info {
        for (field, value) in [("email", &ci.email), ("email2", &ci.email2)] {
            let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            if let Ok(e) = Email::new(value) {
                c.emails.push(e);
            } else {
                tracing::warn!(person = p.id, field, "not an e-mail address; left out");
            }
        }
        for (tel, kind) in [(&ci.tel1, &ci.tel1_type), (&ci.tel2, &ci.tel2_type)] {
            if let Some(number) = tel.as_deref().filter(|t| !t.trim().is_empty()) {
                c.phones.push(Phone {
                    kind: phone_kind(kind.as_deref()),
                    number: number.to_owned(),
                });
            }
        }
    }
    if let Some(a) = p
        .company_address
        .as_ref()
        .and_then(|ca| ca.address.as_ref())
    {
        c.business_address = Address {
            street: a.street.clone().unwrap_or_default(),
            city: a.city.clone().unwrap_or_default(),
            postal_code: a.zip_code.clone().unwrap_or_default(),
            region: a.province.clone().unwrap_or_default(),
            country: a
                .country_code
                .clone()
                .or_else(|| a.country.clone())
                .unwrap_or_default(),
        };
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::models::ListEnvelope;
    use chrono::NaiveDate;

    #[test]
    fn person_fixture_to_contact() {
        let env: ListEnvelope<Person> =
            serde_json::from_str(include_str!("../../tests/fixtures/person_list.json")).unwrap();
        let c = person_to_contact(&env.data[0]);
        assert_eq!(
            (c.given_name.as_str(), c.surname.as_str()),
            ("Petr", "Svoboda")
        );
        assert_eq!(
            (c.title_before.as_str(), c.title_after.as_str()),
            ("Ing.", "Ph.D.")
        );
        assert_eq!(
            c.emails,
            vec![Email::new("petr.svoboda@raynet.cz").unwrap()]
        );
        assert_eq!(c.phones[0].kind, PhoneKind::Mobile);
        assert_eq!(c.phones[1].kind, PhoneKind::Business);
        assert_eq!(c.company, "RAYNET s.r.o.");
        assert_eq!(c.job_title, "obchodní ředitel");
        assert_eq!(c.business_address.city, "Ostrava");
        assert_eq!(c.business_address.country, "CZ");
        assert_eq!(c.birthday, NaiveDate::from_ymd_opt(1980, 5, 17));
        assert_eq!(c.notes, "Preferuje telefon.");
        let mut p = env.data[0].clone();
        if let Some(ci) = p.contact_info.as_mut() {
            ci.email = Some("n/a".into());
        }
        assert!(
            person_to_contact(&p).emails.is_empty(),
            "invalid addresses are left out"
        );
    }
}
