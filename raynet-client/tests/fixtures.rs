//! The documented example payloads decode into the models, leniently.

use chrono::{NaiveDate, TimeZone, Utc};
use raynet_client::models::{
    ActivityStatus, ApiDateTime, CalendarActivity, Company, CompanyRole, Created, DetailEnvelope,
    Gender, ListEnvelope, ParticipantRole, Person, Priority, UserAccount, UserRole,
};

use crate::util::fixture;

#[test]
fn meeting_detail() {
    let env: DetailEnvelope<CalendarActivity> =
        serde_json::from_str(&fixture("meeting_detail.json")).unwrap();
    assert_eq!(
        env.success,
        Some(true),
        "success given as the string \"true\""
    );
    let m = env.data;
    assert_eq!(m.id, 123);
    assert_eq!(m.title.as_deref(), Some("Schůzka s klientem"));
    assert_eq!(m.status, Some(ActivityStatus::Scheduled));
    assert_eq!(m.priority, Some(Priority::Default));
    assert_eq!(m.owner.as_ref().map(|o| o.id), Some(2));
    assert_eq!(m.owner_person_id(), Some(2));
    assert_eq!(
        m.category.as_ref().and_then(|c| c.label()),
        Some("Obchodní jednání")
    );
    assert_eq!(
        m.business_case.as_ref().and_then(|c| c.code.as_deref()),
        Some("OP-2026-11")
    );
    let from = m.scheduled_from.unwrap().to_utc(&Utc).unwrap();
    assert_eq!(from, Utc.with_ymd_and_hms(2026, 3, 29, 8, 0, 0).unwrap());
    assert_eq!(
        raynet_client::html_to_text(m.description.as_deref().unwrap()),
        "Poznámka\n\"Cena\" & termín"
    );
    assert_eq!(
        m.tags.as_deref(),
        Some(&["CRM".to_owned(), "důležité".to_owned()][..])
    );
    assert_eq!(m.participants.len(), 2);
    assert_eq!(m.participants[1].role, Some(ParticipantRole::To));
    assert_eq!(
        m.ext_ids.as_deref(),
        Some(&["m365:AAMkAGI2".to_owned()][..])
    );
    assert_eq!(m.row_info.version, Some(4));
    assert_eq!(m.row_info.updated_by.as_deref(), Some("api@raynet.cz"));
    assert!(m.custom_fields.unwrap().contains_key("VIP_b91d1"));
}

#[test]
fn meeting_list_is_lenient() {
    let env: ListEnvelope<CalendarActivity> =
        serde_json::from_str(&fixture("meeting_list.json")).unwrap();
    assert_eq!(env.total_count, Some(2));
    let [first, second] = &env.data[..] else {
        panic!("two rows")
    };
    assert_eq!(first.owner, None, "list rows carry no owner");
    assert_eq!(
        first.owner_person_id(),
        Some(2),
        "owner derived from the participants"
    );
    assert_eq!(
        second.status,
        Some(ActivityStatus::Unknown("SOMETHING_NEW".into())),
        "unknown enum values are kept"
    );
    assert!(
        second.participants.is_empty(),
        "null participants read as empty"
    );
    assert_eq!(second.row_info.version, Some(2), "_version as a string");
    // Naive local datetimes (no dateFormat=ISO8601) are kept as local.
    let Some(ApiDateTime::Local(naive)) = second.scheduled_from else {
        panic!("naive")
    };
    assert_eq!(naive.to_string(), "2026-10-25 02:30:00");
    // 02:30 on 25 October 2026 happens twice in Prague: the earlier one (CEST) is taken.
    let utc = second
        .scheduled_from
        .unwrap()
        .to_utc(&chrono_tz::Europe::Prague)
        .unwrap();
    assert_eq!(utc, Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap());
}

#[test]
fn event_detail() {
    let env: DetailEnvelope<CalendarActivity> =
        serde_json::from_str(&fixture("event_detail.json")).unwrap();
    assert_eq!(env.data.priority, Some(Priority::Minor));
    assert_eq!(env.data.ext_ids, None);
    assert_eq!(env.data.solution, None);
}

#[test]
fn person_list_and_detail() {
    let env: ListEnvelope<Person> = serde_json::from_str(&fixture("person_list.json")).unwrap();
    let p = &env.data[0];
    assert_eq!(p.display_name(), "Ing. Petr Svoboda, Ph.D.");
    assert_eq!(p.gender, Some(Gender::Male));
    assert_eq!(p.birthday, NaiveDate::from_ymd_opt(1980, 5, 17));
    assert_eq!(p.primary_company_name(), Some("RAYNET s.r.o."));
    assert_eq!(
        p.primary_relationship
            .as_ref()
            .and_then(|r| r.position.as_deref()),
        Some("obchodní ředitel")
    );
    let ci = p.contact_info.as_ref().unwrap();
    assert_eq!(ci.tel1_type.as_deref(), Some("mobil"));
    assert_eq!(ci.do_not_send_mm, Some(false), "boolean given as a string");
    assert_eq!(
        p.company_address
            .as_ref()
            .and_then(|a| a.address.as_ref())
            .and_then(|a| a.city.as_deref()),
        Some("Ostrava")
    );
    assert_eq!(p.keyman, Some(true));

    let env: DetailEnvelope<Person> = serde_json::from_str(&fixture("person_detail.json")).unwrap();
    assert_eq!(env.data.relationships.as_ref().map(Vec::len), Some(1));
    assert_eq!(
        env.data.ext_ids.as_deref(),
        Some(&["erp:123455".to_owned()][..])
    );
}

#[test]
fn company_detail() {
    let env: DetailEnvelope<Company> =
        serde_json::from_str(&fixture("company_detail.json")).unwrap();
    let c = env.data;
    assert_eq!(c.name.as_deref(), Some("RAYNET s.r.o."));
    assert_eq!(c.role, Some(CompanyRole::Unknown("E_OWN".into())));
    assert_eq!(
        c.primary_address
            .and_then(|a| a.address)
            .and_then(|a| a.zip_code)
            .as_deref(),
        Some("70200")
    );
}

#[test]
fn user_accounts() {
    let env: ListEnvelope<UserAccount> =
        serde_json::from_str(&fixture("user_account_list.json")).unwrap();
    assert_eq!(env.data.len(), 2);
    assert_eq!(env.data[1].user_role, Some(UserRole::CertainRestrictions));
    assert_eq!(env.data[1].person.as_ref().map(|p| p.id), Some(8));
    let env: DetailEnvelope<UserAccount> =
        serde_json::from_str(&fixture("user_account_detail.json")).unwrap();
    assert_eq!(env.data.timezone.as_deref(), Some("EUROPE_PRAGUE"));
    assert_eq!(env.data.email2.as_deref(), Some("jan@novak.cz"));
}

#[test]
fn create_answers_in_both_shapes() {
    let a: Created = serde_json::from_str(&fixture("create_201.json")).unwrap();
    let b: Created = serde_json::from_str(&fixture("create_201_id.json")).unwrap();
    assert_eq!((a.id, b.id), (5, 3));
}
