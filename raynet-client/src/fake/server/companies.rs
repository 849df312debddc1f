//! Companies (`/company/`): list, detail, create, partial update (answered
//! without a body) and delete.

use super::records::{Resource, UpdateAnswer};

/// The record endpoints of `/company/`.
pub(super) const COMPANIES: Resource = Resource {
    writes: true,
    update_answer: UpdateAnswer::Empty,
};
