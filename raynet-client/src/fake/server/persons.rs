//! Persons (`/person/`): list, detail, create, partial update (answered
//! without a body) and delete.

use super::records::{Resource, UpdateAnswer};

/// The record endpoints of `/person/`.
pub(super) const PERSONS: Resource = Resource {
    writes: true,
    update_answer: UpdateAnswer::Empty,
};
