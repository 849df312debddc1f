//! User accounts (`/userAccount/`): list and detail only (the API users are
//! seeded with `FakeInstance::add_user`; writes answer 405).

use super::records::{Resource, UpdateAnswer};

/// The record endpoints of `/userAccount/`.
pub(super) const USER_ACCOUNTS: Resource = Resource {
    writes: false,
    update_answer: UpdateAnswer::Empty,
};
