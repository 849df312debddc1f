//! Meetings (`/meeting/`) and events (`/event/`): list, detail, create,
//! partial update (answered with `{"success": true}`) and delete.

use super::records::{Resource, UpdateAnswer};

/// The record endpoints of `/meeting/` and `/event/`.
pub(super) const ACTIVITIES: Resource = Resource {
    writes: true,
    update_answer: UpdateAnswer::Success,
};
