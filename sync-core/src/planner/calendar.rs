//! The two-way calendar round: [`plan_calendar`] and its [`CalendarInput`].
//!
//! The flow: every pair the store holds is planned ([`super::merge`]); the items no pair asked
//! about are linked by their sync mark where they carry one ([`super::keys`]); the rest are new
//! and get created on the other side, unless a calendar rule keeps them out
//! ([`super::calendar_rules`]) or an earlier create is unconfirmed; last, the mass-deletion
//! guard ([`super::guard`]) and the time-shift guard ([`super::shift`]) give their verdict,
//! and the invitation cap ([`super::invitations`]) holds back what would mail too many
//! attendees at once.

use chrono::{DateTime, Utc};

use crate::event::{Event, EventProfile, EventStatus};
use crate::ids::{IdempotencyKey, RemoteId, Side};
use crate::item::SyncItem;
use crate::plan::{Plan, Skipped, Step};
use crate::policy::{Member, Policy};
use crate::provider::{Remote, SideRead};
use crate::rule::StepRule;
use crate::state::StoredState;

use super::calendar_rules::CalendarRules;
use super::guard::apply_guard;
use super::index::FastSet;
use super::invitations::apply_invitation_cap;
use super::keys::{attempt_key, link_by_key, pending_targets};
use super::merge::plan_calendar_pair;
use super::read::{ReadIndex, deferred, skipped};
use super::shift::apply_shift_guard;

/// Everything the calendar planner looks at.
#[derive(Debug)]
pub struct CalendarInput<'a> {
    /// What the store knows of this scope.
    pub state: &'a StoredState<Event>,
    /// The Raynet side's read.
    pub raynet: &'a SideRead<Event>,
    /// The Outlook side's read.
    pub outlook: &'a SideRead<Event>,
    /// What Raynet can hold.
    pub raynet_profile: &'a EventProfile,
    /// What Outlook can hold.
    pub outlook_profile: &'a EventProfile,
    /// The rules.
    pub policy: &'a Policy,
    /// Whose calendar this is.
    pub member: &'a Member,
    /// The round's clock.
    pub now: DateTime<Utc>,
}

/// Plans a two-way calendar round.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use sync_core::*;
/// let now = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
/// let mut e = Event::new("Demo", Schedule::Timed { start: now, end: now + chrono::Duration::hours(1) });
/// e.kind = Some(ActivityKind::Meeting);
/// let raynet = SideRead::complete(vec![Remote {
///     id: RemoteId::new("7").unwrap(), version: Version::new("v1").unwrap(), modified: None, item: e, key: None,
/// }]);
/// let outlook = SideRead::complete(vec![]);
/// let state = StoredState::default();
/// let plan = plan_calendar(&CalendarInput {
///     state: &state, raynet: &raynet, outlook: &outlook,
///     raynet_profile: &EventProfile::raynet(), outlook_profile: &EventProfile::outlook(),
///     policy: &Policy::default(), member: &Member::default(), now,
/// });
/// assert_eq!(plan.write_count(), 1);
/// // The key of this attempt: the source's key and the attempt's time (a new one per attempt).
/// assert!(plan.to_string().contains("create on outlook: \"Demo\" (key r-7-k1777636800000)"));
/// ```
#[must_use]
pub fn plan_calendar(input: &CalendarInput<'_>) -> Plan<Event> {
    let window = input.policy.window(input.now);
    let rules = CalendarRules {
        policy: input.policy,
        member: input.member,
        raynet_profile: input.raynet_profile,
        outlook_profile: input.outlook_profile,
    };
    let rix = ReadIndex::new(input.raynet);
    let oix = ReadIndex::new(input.outlook);
    let mut plan = Plan::default();
    for (pid, pair) in &input.state.pairs {
        plan_calendar_pair(
            *pid, pair, &rix, &oix, &rules, &window, input.now, &mut plan,
        );
    }

    // Items our own unconfirmed creates may have made: never mirror them back this round.
    let pending_on = pending_targets(input.state);

    let unpaired_r = rix.unseen(&window);
    let unpaired_o = oix.unseen(&window);
    let (linked_r, linked_o) = link_by_key(&unpaired_r, &unpaired_o, &rules, &mut plan);
    let paired_r: FastSet<&RemoteId> = linked_r.into_iter().collect();
    let paired_o: FastSet<&RemoteId> = linked_o.into_iter().collect();

    for r in unpaired_r.iter().filter(|r| !paired_r.contains(&r.id)) {
        if let Some(why) = unsyncable(Side::Raynet, r) {
            plan.skipped.push(why);
            continue;
        }
        if r.item.status == EventStatus::Cancelled {
            // Outlook cannot hold a cancelled event of ours: nothing to show there.
            plan.skipped.push(skipped(
                Side::Raynet,
                r,
                "cancelled in Raynet before it was ever synced".into(),
            ));
            continue;
        }
        if pending_on.contains(&Side::Raynet) {
            plan.skipped.push(deferred(Side::Raynet, r));
            continue;
        }
        let item = rules.to_outlook(&r.item, Side::Raynet);
        // Graph's transactionId: new for every attempt (see `attempt_key`).
        let key = attempt_key(Side::Raynet, &r.id, input.now);
        plan.steps.push(Step::create_new(
            Side::Raynet,
            r,
            StepRule::NewInRaynet,
            item,
            key,
        ));
    }

    for o in unpaired_o.iter().filter(|o| !paired_o.contains(&o.id)) {
        if let Some(why) = unsyncable(Side::Outlook, o) {
            plan.skipped.push(why);
            continue;
        }
        if let Some(reason) = rules.outlook_skip_reason(&o.item) {
            plan.skipped.push(skipped(Side::Outlook, o, reason));
            continue;
        }
        if pending_on.contains(&Side::Outlook) {
            plan.skipped.push(deferred(Side::Outlook, o));
            continue;
        }
        let masked = rules.masked(Side::Outlook, &o.item);
        let mut source = o.item.clone();
        source.kind = Some(rules.new_kind(&o.item));
        let item = rules.to_raynet(&source, masked);
        let rule = if masked {
            StepRule::NewInOutlookPrivate
        } else {
            StepRule::NewInOutlook
        };
        let key = IdempotencyKey::for_source(Side::Outlook, &o.id);
        plan.steps
            .push(Step::create_new(Side::Outlook, o, rule, item, key));
    }

    apply_guard(&mut plan, input.state, input.policy);
    apply_shift_guard(&mut plan, input.state, input.policy);
    apply_invitation_cap(&mut plan, input.state, input.policy);
    plan
}

/// Why a new event cannot be synced at all (a schedule that makes no sense, say), if so.
fn unsyncable(side: Side, new: &Remote<Event>) -> Option<Skipped> {
    let e = new.item.validate().err()?;
    Some(skipped(side, new, format!("cannot be synced: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Schedule;
    use crate::ids::RemoteId;
    use crate::plan::Write;
    use crate::planner::testutil::{creates, now, one_pair, remote};

    /// A timed event two hours from now.
    fn review() -> Event {
        let start = now() + chrono::Duration::hours(2);
        Event::new(
            "Review",
            Schedule::Timed {
                start,
                end: start + chrono::Duration::hours(1),
            },
        )
    }

    /// The calendar plan under the default policy.
    fn plan_default(
        state: &StoredState<Event>,
        raynet: &SideRead<Event>,
        outlook: &SideRead<Event>,
    ) -> Plan<Event> {
        plan_calendar(&CalendarInput {
            state,
            raynet,
            outlook,
            raynet_profile: &EventProfile::raynet(),
            outlook_profile: &EventProfile::outlook(),
            policy: &Policy::default(),
            member: &Member::default(),
            now: now(),
        })
    }

    #[test]
    fn a_replayed_listing_is_planned_once_from_its_last_copy() {
        let base = review();
        let state = one_pair(base.clone(), base.project(&EventProfile::outlook()).item);
        let mut moved = base.clone();
        moved.location = "Brno".into();
        let raynet = SideRead::complete(vec![
            remote("1", "v1", base.clone()),
            remote("2", "v1", base.clone()),
            remote("1", "v2", moved),
            remote("2", "v1", base.clone()),
        ]);
        let outlook = SideRead::complete(vec![remote(
            "A",
            "v1",
            base.project(&EventProfile::outlook()).item,
        )]);
        let plan = plan_default(&state, &raynet, &outlook);
        assert_eq!(
            creates(&plan),
            1,
            "an unpaired id listed twice is created once"
        );
        let updates: Vec<&Write<Event>> = plan
            .steps
            .iter()
            .flat_map(|s| &s.writes)
            .filter(|w| matches!(w, Write::Update { .. }))
            .collect();
        assert!(
            matches!(updates.as_slice(), [Write::Update { item, .. }] if item.location == "Brno"),
            "the last listing of a paired id is the one planned: {plan}"
        );
    }

    #[test]
    fn a_paired_event_listed_and_also_unreadable_is_left_alone_never_created_again() {
        let base = review();
        let outlook_base = base.project(&EventProfile::outlook()).item;
        let state = one_pair(base.clone(), outlook_base.clone());
        let mut moved = base.clone();
        moved.location = "Brno".into();
        for (side_name, unreadable_on_raynet) in [("raynet", true), ("outlook", false)] {
            let mut raynet = SideRead::complete(vec![remote("1", "v2", moved.clone())]);
            let mut outlook = SideRead::complete(vec![remote("A", "v2", outlook_base.clone())]);
            let (read, id) = if unreadable_on_raynet {
                (&mut raynet, "1")
            } else {
                (&mut outlook, "A")
            };
            read.unreadable
                .push((RemoteId::new(id).unwrap(), "cannot be mapped".into()));
            let plan = plan_default(&state, &raynet, &outlook);
            assert_eq!(
                creates(&plan),
                0,
                "{side_name}: never a second copy: {plan}"
            );
        }
    }
}
