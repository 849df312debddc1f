//! The mass-deletion guard (DESIGN §7): a round that would delete more than a set share of a
//! member's paired items on one side stops and reports instead. The verdict is part of the
//! plan ([`Plan::guard`]); the runner executes nothing of a plan that tripped it. The
//! calendar's time-shift guard (`shift.rs`) gives its verdict the same way.

use crate::ids::Side;
use crate::item::SyncItem;
use crate::plan::{GuardTrip, Plan};
use crate::policy::Policy;
use crate::state::StoredState;

/// Sets the plan's guard verdict when its deletes on one side exceed what the policy allows
/// (`policy.delete_guard`) for the pairs the store holds on that side.
pub(super) fn apply_guard<T: SyncItem>(
    plan: &mut Plan<T>,
    state: &StoredState<T>,
    policy: &Policy,
) {
    for side in [Side::Raynet, Side::Outlook] {
        let deletes = plan.deletes_on(side);
        let paired = state
            .pairs
            .values()
            .filter(|p| p.side(side).is_some())
            .count();
        if policy.delete_guard.trips(deletes, paired) {
            plan.guard = Some(GuardTrip::MassDeletion {
                side,
                deletes,
                paired,
                max_share: policy.delete_guard.max_share,
            });
            return;
        }
    }
}
