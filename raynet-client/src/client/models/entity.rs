//! [`EntityName`]: the API's entity names, as used in paths.

use super::macros::open_enum;

open_enum! {
    /// The API's entity names, as used in paths (`/{entity}/…`).
    EntityName {
        /// `meeting`.
        Meeting = "meeting",
        /// `event`.
        Event = "event",
        /// `task`.
        Task = "task",
        /// `person`.
        Person = "person",
        /// `company`.
        Company = "company",
        /// `companyAddress`.
        CompanyAddress = "companyAddress",
        /// `userAccount`.
        UserAccount = "userAccount",
    }
}
