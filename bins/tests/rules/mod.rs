//! The calendar and contact rules of DESIGN §4–§6, end to end against both fake servers.
//!
//! Every scenario starts its own [`Sandbox`] (the sample data of `raynet-sync demo`, built
//! around a fixed "now"), runs rounds through the real wiring (`sync_tenant`) and then
//! asserts the exact state of both fakes: Raynet records (entity, owner, title, Prague
//! wall-clock times, status, `personal`), Outlook events (subject, UTC times, attendees,
//! type) and, where it matters, the fake Graph's invitation log.
//!
//! The sample data (see `bins/src/demo.rs` and `FakeInstance::seed_demo`), with "today" =
//! 2026-11-25 unless a scenario picks another day:
//! - Raynet, Jana: meetings "Obchodní jednání – Acme" (tomorrow 10:00–11:30, participant
//!   Karel Svoboda), "Kontrolní den" (2 days ago, COMPLETED, participant Eva Malá); events
//!   "Veletrh MSV Brno" (all-day, +7..+9) and "Školení CRM" (+2, 13:00–16:00).
//! - Raynet, Petr: meeting "Logistika – roční plán" (+3, participant Tomáš Černý).
//! - Outlook, Jana: "Customer call – Brno" (+4), "Dentist" (private, +1), "Partner webinar"
//!   (invited by events@partner.example), the weekly series "Team stand-up" (4 Thursdays).
//! - Outlook, Petr: "Warehouse visit" (+2).
//!
//! | file | rules |
//! |---|---|
//! | `world.rs` | the scenarios' world: sandbox, rounds, readers of both fakes |
//! | `private_and_completed.rs` | 1. private Outlook events; 2. completed meetings |
//! | `new_items_and_owners.rs` | 3. the Raynet type of new items; 4. owners |
//! | `deletions.rs` | 5. deletions on either side |
//! | `series_and_window.rs` | 6. recurring series; 7. the window |
//! | `attendees.rs` | 8. attendees and invitations |
//! | `time_zones.rs` | 9. time zones |
//! | `contacts.rs` | 10. contacts |

mod attendees;
mod contacts;
mod deletions;
mod new_items_and_owners;
mod private_and_completed;
mod series_and_window;
mod time_zones;
mod world;
