//! The sample data of `demo`, `sandbox`, the end-to-end tests and the benchmark, all of it: a
//! small realistic organisation on both fake servers (Raynet's users, companies, persons,
//! meetings and events; Microsoft 365's users, group and Outlook events).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use graph_client::fake::{EventSeed, FakeGraph, GroupSeed, SeriesSeed, UserSeed};
use raynet_client::fake::{
    ActivitySeed, CompanySeed, FakeError, FakeRaynet, PersonSeed, SeededUser,
};

/// The Raynet instance of the sample data.
pub const INSTANCE: &str = "acme";

/// Ids of the sample data, so that the demo can make edits between rounds.
#[derive(Clone, Debug, Default)]
pub struct SampleData {
    /// Jana's Graph user id.
    pub jana: String,
    /// Petr's Graph user id.
    pub petr: String,
    /// Jana's Raynet person id.
    pub jana_person: u64,
    /// Petr's Raynet person id.
    pub petr_person: u64,
    /// Raynet meetings (ids) of the sample.
    pub meetings: Vec<u64>,
    /// Raynet events (ids) of the sample.
    pub events: Vec<u64>,
    /// Outlook: Jana's customer call.
    pub customer_call: String,
    /// Outlook: Jana's private appointment.
    pub private_event: String,
    /// Outlook: the weekly series' master.
    pub series: String,
    /// The day the sample is built around.
    pub today: NaiveDate,
}

/// Seeds both fakes: two members with Raynet accounts (Jana, Petr), the integration user, a
/// member without a Raynet account (Eva), an owner who is not a member (Boss); Raynet
/// meetings and events (one completed, one all-day), persons and companies; Outlook events
/// (a private one, a weekly series, an invitation from outside, a customer call).
///
/// # Errors
/// When a fake refuses the seed data (a bug).
pub fn seed(
    raynet: &FakeRaynet,
    graph: &FakeGraph,
    now: DateTime<Utc>,
) -> anyhow::Result<SampleData> {
    let today = now.date_naive();
    let raynet_part =
        seed_raynet(raynet, today).map_err(|e| anyhow::anyhow!("seeding the fake Raynet: {e}"))?;
    let domain = format!("{INSTANCE}.test");
    let user = |name: &str, mail: &str| graph.add_user(UserSeed::new(name).mail(mail).upn(mail));
    let jana = user("Jana Nováková", &format!("jana.novakova@{domain}"));
    let petr = user("Petr Dvořák", &format!("petr.dvorak@{domain}"));
    let api = user("API Robot", raynet_client::fake::DEFAULT_USER);
    let eva = user("Eva Svobodová", &format!("eva.svobodova@{domain}"));
    let boss = user("Boss", &format!("boss@{domain}"));
    graph.add_group(
        GroupSeed::new("Raynet Sync")
            .members(&[&jana, &petr, &api, &eva])
            .owners(&[&boss, &jana]),
    );
    let at = |days: i64, hour: i64| {
        today.and_time(chrono::NaiveTime::MIN).and_utc()
            + Duration::days(days)
            + Duration::hours(hour)
    };
    let customer_call = graph.add_event(
        &jana,
        EventSeed::new("Customer call – Brno", at(4, 9), at(4, 10))
            .zone("Central Europe Standard Time"),
    );
    let private_event = graph.add_event(
        &jana,
        EventSeed::new("Dentist", at(1, 7), at(1, 8))
            .field("sensitivity", serde_json::json!("private"))
            .field(
                "body",
                serde_json::json!({"contentType": "text", "content": "Root canal, 2nd visit"}),
            ),
    );
    graph.add_event(
        &jana,
        EventSeed::new("Partner webinar", at(5, 13), at(5, 14))
            .organizer("events@partner.example")
            .attendee(&format!("jana.novakova@{domain}")),
    );
    let series = graph.add_series(
        &jana,
        SeriesSeed::weekly(
            "Team stand-up",
            at(1, 8),
            Duration::minutes(30),
            &[(today + Duration::days(1)).weekday_of()],
            4,
        ),
    );
    graph.add_event(
        &petr,
        EventSeed::new("Warehouse visit", at(2, 12), at(2, 14)),
    );
    Ok(SampleData {
        jana,
        petr,
        jana_person: raynet_part.jana.person_id,
        petr_person: raynet_part.petr.person_id,
        meetings: raynet_part.meetings,
        events: raynet_part.events,
        customer_call,
        private_event,
        series,
        today,
    })
}

/// What [`seed_raynet`] made.
struct RaynetPart {
    jana: SeededUser,
    petr: SeededUser,
    meetings: Vec<u64>,
    events: Vec<u64>,
}

/// Raynet's part: two users (members) `jana.novakova@<instance>.test` and
/// `petr.dvorak@<instance>.test` (API keys `crm-demo-jana`, `crm-demo-petr`), two companies,
/// four contact persons and, around `day` (instance-local dates), two meetings and two events
/// of Jana (one of them all-day, one meeting completed) and one meeting of Petr.
fn seed_raynet(raynet: &FakeRaynet, day: NaiveDate) -> Result<RaynetPart, FakeError> {
    let inst = raynet.instance(INSTANCE);
    let at = |offset_days: i64, hm: &str| {
        format!(
            "{} {hm}",
            (day + chrono::Duration::days(offset_days)).format("%Y-%m-%d")
        )
    };
    let jana = inst.add_user(
        &format!("jana.novakova@{INSTANCE}.test"),
        "crm-demo-jana",
        "Jana",
        "Nováková",
    )?;
    let petr = inst.add_user(
        &format!("petr.dvorak@{INSTANCE}.test"),
        "crm-demo-petr",
        "Petr",
        "Dvořák",
    )?;
    let acme = inst.add_company(
        CompanySeed::new("Acme Stroje a.s.")
            .reg_number("26843820")
            .address("Libušina 4", "Ostrava", "70200", "CZ"),
    )?;
    let brno = inst.add_company(CompanySeed::new("Brněnská logistika s.r.o.").address(
        "Kotlářská 12",
        "Brno",
        "60200",
        "CZ",
    ))?;
    let persons = [
        inst.add_person(
            PersonSeed::new("Svoboda")
                .first_name("Karel")
                .title_before("Ing.")
                .email("karel.svoboda@acme-stroje.cz")
                .phone("+420 777 123 456", "mobil")
                .company(acme, "obchodní ředitel")
                .owner(jana.person_id),
        )?,
        inst.add_person(
            PersonSeed::new("Malá")
                .first_name("Eva")
                .email("eva.mala@acme-stroje.cz")
                .phone("+420 596 000 111", "práce")
                .company(acme, "nákupčí")
                .owner(jana.person_id),
        )?,
        inst.add_person(
            PersonSeed::new("Černý")
                .first_name("Tomáš")
                .title_after("Ph.D.")
                .email("tomas.cerny@brlog.cz")
                .company(brno, "jednatel")
                .owner(petr.person_id)
                .birthday(NaiveDate::from_ymd_opt(1979, 4, 12).unwrap_or_default()),
        )?,
        inst.add_person(
            PersonSeed::new("Horáková")
                .first_name("Lucie")
                .email("lucie@example.cz")
                .notice("Soukromý kontakt")
                .private_address("Dlouhá 1", "Praha", "11000", "CZ"),
        )?,
    ];
    let meetings = vec![
        inst.add_meeting(
            ActivitySeed::new("Obchodní jednání – Acme", jana.person_id)
                .company(acme)
                .participant(persons[0])
                .scheduled_local(&at(1, "10:00"), &at(1, "11:30"))
                .meeting_place("Ostrava, Libušina 4")
                .description("<p>Cenová nabídka</p><p>&quot;Servis&quot; &amp; školení</p>"),
        )?,
        inst.add_meeting(
            ActivitySeed::new("Kontrolní den", jana.person_id)
                .company(acme)
                .participant(persons[1])
                .scheduled_local(&at(-2, "14:00"), &at(-2, "15:00"))
                .status("COMPLETED"),
        )?,
        inst.add_meeting(
            ActivitySeed::new("Logistika – roční plán", petr.person_id)
                .company(brno)
                .participant(persons[2])
                .scheduled_local(&at(3, "09:00"), &at(3, "10:00")),
        )?,
    ];
    let events = vec![
        inst.add_event(
            ActivitySeed::new("Veletrh MSV Brno", jana.person_id)
                .scheduled_local(&at(7, "00:00"), &at(9, "00:00"))
                .meeting_place("Výstaviště Brno"),
        )?,
        inst.add_event(
            ActivitySeed::new("Školení CRM", jana.person_id)
                .scheduled_local(&at(2, "13:00"), &at(2, "16:00")),
        )?,
    ];
    Ok(RaynetPart {
        jana,
        petr,
        meetings,
        events,
    })
}

trait WeekdayOf {
    fn weekday_of(self) -> chrono::Weekday;
}

impl WeekdayOf for NaiveDate {
    fn weekday_of(self) -> chrono::Weekday {
        chrono::Datelike::weekday(&self)
    }
}
