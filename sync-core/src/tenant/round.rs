//! The orchestration of one tenant: membership, the shared reads, one round per member and
//! collection with bounded concurrency and isolation, the claims, and the report.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt as _;

use super::claims::{claimed_elsewhere, members_at_once};
use super::error::TenantError;
use super::hint::Hints;
use super::members::{Membership, ServedMember, match_members};
use super::report::{MemberError, MemberFailure, RoundSummary, TenantReport};
use super::service::{
    Collections, OutlookRound, OutlookService, RaynetRound, RaynetService, RoundStart,
};
use super::store::TenantStore;
use crate::ids::{Collection, Email, Scope, Side};
use crate::policy::{InvitedEvents, Member, Policy};
use crate::runner::{Progress, RoundReport, Runner};

/// How one tenant round runs: dry or not, told to stop, with progress, for whom.
#[derive(Clone, Debug, Default)]
pub struct RoundOptions {
    /// Plan only, write nothing (and record no round).
    pub dry_run: bool,
    /// Set when the operator asked to stop: rounds finish the write under way and stop.
    pub stop: Option<Arc<AtomicBool>>,
    /// Told how far each member's round is.
    pub progress: Option<Progress>,
    /// Whose rounds run: every served member (the default), or only some members' collections
    /// (the ones a change notification named, say).
    pub targets: Targets,
    /// What change notifications said about the targeted members' sides: a side no
    /// notification named is not read, a notified deletion is confirmed and applied (see
    /// [`Hints`]). Empty (the default): every side is read.
    pub hints: Hints,
}

/// Whose rounds a tenant round runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Targets {
    /// Every served member, every collection the tenant syncs.
    #[default]
    Everyone,
    /// Only these members (by the address their scopes are kept under), each only for the
    /// collections given (and synced by the tenant). A member not served is left out.
    Only(BTreeMap<Email, Collections>),
}

impl Targets {
    /// The collections of `member` a round runs, within the tenant's `synced` ones; `None`
    /// when the member has no round in it.
    #[must_use]
    pub fn of(&self, member: &Email, synced: Collections) -> Option<Collections> {
        let wanted = match self {
            Self::Everyone => synced,
            Self::Only(members) => *members.get(member)?,
        };
        let c = Collections {
            calendar: wanted.calendar && synced.calendar,
            contacts: wanted.contacts && synced.contacts,
        };
        (c.calendar || c.contacts).then_some(c)
    }
}

impl RoundOptions {
    fn runner(&self, scope: Scope, policy: &Policy) -> Runner {
        let mut runner = Runner::new(scope, policy.clone()).dry_run(self.dry_run);
        if let Some(stop) = &self.stop {
            runner = runner.stop_flag(stop.clone());
        }
        if let Some(progress) = &self.progress {
            runner = runner.progress(progress.clone());
        }
        runner
    }
}

/// One tenant: a Microsoft 365 group served against one Raynet instance. Keep one per tenant
/// for the life of the process: it keeps the group's membership between rounds.
///
/// See the [module docs](super) for an example.
pub struct Tenant {
    name: String,
    integration_user: Email,
    collections: Collections,
    max_parallel_members: usize,
    membership_max_age: Duration,
    raynet: Arc<dyn RaynetService>,
    outlook: Arc<dyn OutlookService>,
    kept: Mutex<Option<(Instant, Membership)>>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("name", &self.name)
            .field("integration_user", &self.integration_user)
            .field("collections", &self.collections)
            .field("max_parallel_members", &self.max_parallel_members)
            .field("membership_max_age", &self.membership_max_age)
            .finish_non_exhaustive()
    }
}

impl Tenant {
    /// A tenant named `name` (the first part of its scopes) whose Raynet changes are made as
    /// `integration_user` (skipped when it is a member), served through the two services.
    ///
    /// Defaults: both collections, 4 members at a time, the membership read every round.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        integration_user: Email,
        raynet: Arc<dyn RaynetService>,
        outlook: Arc<dyn OutlookService>,
    ) -> Self {
        Self {
            name: name.into(),
            integration_user,
            collections: Collections::BOTH,
            max_parallel_members: 4,
            membership_max_age: Duration::ZERO,
            raynet,
            outlook,
            kept: Mutex::new(None),
        }
    }

    /// Which collections are synced.
    #[must_use]
    pub fn collections(mut self, collections: Collections) -> Self {
        self.collections = collections;
        self
    }

    /// How many members' rounds run at the same time (at least 1; see
    /// [`members_at_once`](super::members_at_once)).
    #[must_use]
    pub fn max_parallel_members(mut self, n: usize) -> Self {
        self.max_parallel_members = n.max(1);
        self
    }

    /// How long the group's membership is kept between rounds; zero reads it every round.
    #[must_use]
    pub fn membership_max_age(mut self, age: Duration) -> Self {
        self.membership_max_age = age;
        self
    }

    /// The tenant's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Membership)>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The group's membership: the one read less than `max_age` ago, else read anew (the
    /// group, its members and owners, and the Raynet users, matched by e-mail). A zero
    /// `max_age` always reads.
    ///
    /// # Errors
    /// When the group cannot be found or read, or the Raynet users cannot be listed; a failed
    /// read keeps nothing.
    pub async fn membership(&self, max_age: Duration) -> Result<Membership, TenantError> {
        if !max_age.is_zero() {
            if let Some((at, m)) = &*self.kept() {
                if at.elapsed() < max_age {
                    return Ok(m.clone());
                }
            }
        }
        let group = self.outlook.group().await?;
        let accounts = self.raynet.accounts().await?;
        let (served, findings) = match_members(
            &group.members,
            &group.owners,
            &accounts,
            &self.integration_user,
        );
        let fresh = Membership {
            group_id: group.id,
            served,
            findings,
        };
        *self.kept() = Some((Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    /// Forgets the kept membership: the next round reads it anew.
    pub fn forget_membership(&self) {
        *self.kept() = None;
    }

    /// Runs one round for every served member, `max_parallel_members` at a time; one member's
    /// failure never stops the others. Each finished round is recorded in `store` unless it is
    /// a dry run.
    ///
    /// # Errors
    /// When the members cannot be discovered at all (see [`Tenant::membership`]).
    pub async fn round<S: TenantStore>(
        &self,
        store: &S,
        policy: &Policy,
        options: &RoundOptions,
        now: DateTime<Utc>,
    ) -> Result<TenantReport, TenantError> {
        let membership = self.membership(self.membership_max_age).await?;
        for f in &membership.findings {
            tracing::debug!(tenant = %self.name, "{f}");
        }
        // Without the stored cursors every member reads alone: dearer, never wrong.
        let cursors = store.cursors(&self.name).await.unwrap_or_else(|e| {
            tracing::warn!(tenant = %self.name, error = %e, "cannot read the stored cursors");
            Vec::new()
        });
        // The members this round is for, each with the collections it runs; the shared reads
        // are planned for them alone.
        let targeted: Vec<(&ServedMember, Collections)> = membership
            .served
            .iter()
            .filter_map(|m| Some((m, options.targets.of(&m.email, self.collections)?)))
            .collect();
        let in_round: Vec<ServedMember> = targeted.iter().map(|(m, _)| (*m).clone()).collect();
        let start = RoundStart {
            tenant: &self.name,
            served: &in_round,
            cursors: &cursors,
            store,
            collections: targeted
                .iter()
                .fold(Collections::NONE, |all, (_, c)| all.union(*c)),
            policy,
            now,
            hints: &options.hints,
        };
        let raynet = self.raynet.begin_round(&start).await;
        let outlook = self.outlook.begin_round(&start).await;
        let served: BTreeSet<Email> = membership
            .served
            .iter()
            .flat_map(|m| m.emails.iter().cloned())
            .collect();
        let domains: BTreeSet<String> = served.iter().map(|e| e.domain().to_owned()).collect();
        let shared = MemberShared {
            store,
            policy,
            options,
            now,
            raynet: raynet.as_ref(),
            outlook: outlook.as_ref(),
        };
        let results: Vec<(Vec<RoundReport>, Vec<MemberFailure>)> =
            futures::stream::iter(targeted.iter())
                .map(|(m, collections)| {
                    let member = Member {
                        emails: m.emails.clone(),
                        served: served.clone(),
                        internal_domains: domains.clone(),
                        claimed_elsewhere: BTreeSet::new(),
                    };
                    self.member_round(&shared, m, member, *collections)
                })
                .buffer_unordered(members_at_once(policy, self.max_parallel_members))
                .collect()
                .await;
        let raynet_costs = raynet.finish();
        outlook.finish();
        let mut report = TenantReport {
            tenant: self.name.clone(),
            findings: membership.findings,
            raynet_scan_requests: raynet_costs.deletion_scan_requests,
            ..TenantReport::default()
        };
        for (reports, failures) in results {
            report.reports.extend(reports);
            report.member_failures.extend(failures);
        }
        report.reports.sort_by(|a, b| a.scope.cmp(&b.scope));
        Ok(report)
    }

    /// One member's rounds of `collections`: calendar, then contacts, each isolated from the
    /// other.
    async fn member_round<S: TenantStore>(
        &self,
        shared: &MemberShared<'_, S>,
        m: &ServedMember,
        mut member: Member,
        collections: Collections,
    ) -> (Vec<RoundReport>, Vec<MemberFailure>) {
        let MemberShared {
            store,
            policy,
            options,
            now,
            raynet,
            outlook,
        } = *shared;
        let mut reports = Vec::new();
        let mut failures = Vec::new();
        let fail = |error| MemberFailure {
            member: m.email.clone(),
            error,
        };
        let scope = |c| Scope::new(&self.name, m.email.as_str(), c);
        if collections.calendar {
            if policy.invited_events == InvitedEvents::Own {
                match claimed_elsewhere(store.calendar(), &self.name, m.email.as_str()).await {
                    Ok(claimed) => member.claimed_elsewhere = claimed,
                    Err(e) => failures.push(fail(MemberError::Claims(e))),
                }
            }
            let (who, c, hints) = (m.email.as_str(), Collection::Calendar, &options.hints);
            let r = hints.wrap(who, c, Side::Raynet, raynet.calendar(m));
            let o = hints.wrap(who, c, Side::Outlook, outlook.calendar(m));
            match options
                .runner(scope(Collection::Calendar), policy)
                .sync_calendar(&r, &o, store.calendar(), &member, now)
                .await
            {
                Ok(r) => reports.push(r),
                Err(source) => failures.push(fail(MemberError::Round {
                    collection: Collection::Calendar,
                    source,
                })),
            }
        }
        if collections.contacts {
            let (who, c, hints) = (m.email.as_str(), Collection::Contacts, &options.hints);
            let source = hints.wrap(who, c, Side::Raynet, raynet.contacts(m));
            let target = hints.wrap(who, c, Side::Outlook, outlook.contacts(m));
            match options
                .runner(scope(Collection::Contacts), policy)
                .sync_contacts(&source, &target, store.contacts(), now)
                .await
            {
                Ok(r) => reports.push(r),
                Err(source) => failures.push(fail(MemberError::Round {
                    collection: Collection::Contacts,
                    source,
                })),
            }
        }
        if !options.dry_run {
            for r in &reports {
                if let Err(e) = store.record_round(&r.scope, &RoundSummary::of(r)).await {
                    tracing::warn!(scope = %r.scope, error = %e, "cannot record the round summary");
                }
            }
        }
        (reports, failures)
    }
}

/// What every member's round of one tenant round shares.
struct MemberShared<'a, S> {
    store: &'a S,
    policy: &'a Policy,
    options: &'a RoundOptions,
    now: DateTime<Utc>,
    raynet: &'a RaynetRound,
    outlook: &'a OutlookRound,
}

impl<S> Clone for MemberShared<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for MemberShared<'_, S> {}
