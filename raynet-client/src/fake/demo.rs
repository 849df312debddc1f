//! The demo data set: [`FakeInstance::seed_demo`] and what it made
//! ([`DemoSeed`]).

use chrono::NaiveDate;

use super::error::FakeError;
use super::instance::{FakeInstance, SeededUser};
use super::seed::{ActivitySeed, CompanySeed, PersonSeed};

/// What [`FakeInstance::seed_demo`] created.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DemoSeed {
    /// Jana Nováková (a member with meetings and events).
    pub jana: SeededUser,
    /// Petr Dvořák (a member with one meeting).
    pub petr: SeededUser,
    /// Company ids.
    pub companies: Vec<u64>,
    /// Contact person ids.
    pub persons: Vec<u64>,
    /// Meeting ids.
    pub meetings: Vec<u64>,
    /// Event ids.
    pub events: Vec<u64>,
}

impl FakeInstance<'_> {
    /// Seeds a small, realistic data set for demos: two users (members)
    /// `jana.novakova@<instance>.test` and `petr.dvorak@<instance>.test` (API
    /// keys `crm-demo-jana`, `crm-demo-petr`), two companies, four contact
    /// persons and, around `day` (instance-local dates), two meetings and two
    /// events of Jana (one of them all-day) and one meeting of Petr.
    pub fn seed_demo(&self, day: NaiveDate) -> Result<DemoSeed, FakeError> {
        let at = |offset_days: i64, hm: &str| {
            format!(
                "{} {hm}",
                (day + chrono::Duration::days(offset_days)).format("%Y-%m-%d")
            )
        };
        let jana = self.add_user(
            &format!("jana.novakova@{}.test", self.name),
            "crm-demo-jana",
            "Jana",
            "Nováková",
        )?;
        let petr = self.add_user(
            &format!("petr.dvorak@{}.test", self.name),
            "crm-demo-petr",
            "Petr",
            "Dvořák",
        )?;
        let acme = self.add_company(
            CompanySeed::new("Acme Stroje a.s.")
                .reg_number("26843820")
                .address("Libušina 4", "Ostrava", "70200", "CZ"),
        )?;
        let brno = self.add_company(CompanySeed::new("Brněnská logistika s.r.o.").address(
            "Kotlářská 12",
            "Brno",
            "60200",
            "CZ",
        ))?;
        let persons = vec![
            self.add_person(
                PersonSeed::new("Svoboda")
                    .first_name("Karel")
                    .title_before("Ing.")
                    .email("karel.svoboda@acme-stroje.cz")
                    .phone("+420 777 123 456", "mobil")
                    .company(acme, "obchodní ředitel")
                    .owner(jana.person_id),
            )?,
            self.add_person(
                PersonSeed::new("Malá")
                    .first_name("Eva")
                    .email("eva.mala@acme-stroje.cz")
                    .phone("+420 596 000 111", "práce")
                    .company(acme, "nákupčí")
                    .owner(jana.person_id),
            )?,
            self.add_person(
                PersonSeed::new("Černý")
                    .first_name("Tomáš")
                    .title_after("Ph.D.")
                    .email("tomas.cerny@brlog.cz")
                    .company(brno, "jednatel")
                    .owner(petr.person_id)
                    .birthday(NaiveDate::from_ymd_opt(1979, 4, 12).unwrap_or_default()),
            )?,
            self.add_person(
                PersonSeed::new("Horáková")
                    .first_name("Lucie")
                    .email("lucie@example.cz")
                    .notice("Soukromý kontakt")
                    .private_address("Dlouhá 1", "Praha", "11000", "CZ"),
            )?,
        ];
        let meetings = vec![
            self.add_meeting(
                ActivitySeed::new("Obchodní jednání – Acme", jana.person_id)
                    .company(acme)
                    .participant(persons[0])
                    .scheduled_local(&at(1, "10:00"), &at(1, "11:30"))
                    .meeting_place("Ostrava, Libušina 4")
                    .description("<p>Cenová nabídka</p><p>&quot;Servis&quot; &amp; školení</p>"),
            )?,
            self.add_meeting(
                ActivitySeed::new("Kontrolní den", jana.person_id)
                    .company(acme)
                    .participant(persons[1])
                    .scheduled_local(&at(-2, "14:00"), &at(-2, "15:00"))
                    .status("COMPLETED"),
            )?,
            self.add_meeting(
                ActivitySeed::new("Logistika – roční plán", petr.person_id)
                    .company(brno)
                    .participant(persons[2])
                    .scheduled_local(&at(3, "09:00"), &at(3, "10:00")),
            )?,
        ];
        let events = vec![
            self.add_event(
                ActivitySeed::new("Veletrh MSV Brno", jana.person_id)
                    .scheduled_local(&at(7, "00:00"), &at(9, "00:00"))
                    .meeting_place("Výstaviště Brno"),
            )?,
            self.add_event(
                ActivitySeed::new("Školení CRM", jana.person_id)
                    .scheduled_local(&at(2, "13:00"), &at(2, "16:00")),
            )?,
        ];
        Ok(DemoSeed {
            jana,
            petr,
            companies: vec![acme, brno],
            persons,
            meetings,
            events,
        })
    }
}
