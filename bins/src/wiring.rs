//! Wiring: a tenant's config → the two API clients → the group's members → one
//! [`sync_core::Runner`] round per member and collection. No sync logic lives here.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use sync_core::{Collection, Member, Policy, RoundReport, Scope, StateStore};

use crate::config::{ContactsFilter, TenantConfig};
use crate::members::{Finding, GroupUser, RaynetUser, ServedMember, match_members};
use crate::store::SqliteStore;

/// Raynet's daily request quota per instance when the API has not said otherwise
/// (`X-Ratelimit-Limit`).
pub const RAYNET_DAILY_QUOTA: u64 = 24_000;

/// The two clients of one tenant, the packer of its batched Outlook writes (all members' writes
/// share full `$batch` requests), what its Raynet writes taught (`InstanceFacts`), and what is
/// kept between its rounds (the group's membership
/// for `sync.membership_refresh`, the cost of the last deletion scan). Keep one per tenant for
/// the life of the process: clones share the cache.
#[derive(Clone, Debug)]
pub struct TenantClients {
    /// RAYNET CRM, as the integration user.
    pub raynet: raynet_client::Client,
    /// Microsoft Graph, app-only.
    pub graph: graph_client::Client,
    /// Packs the batched Outlook writes of all members into full `$batch` requests.
    packer: graph_client::BatchPacker,
    /// What the members' Raynet providers learn about the instance's API while writing.
    raynet_facts: raynet_client::adapter::InstanceFacts,
    cache: Arc<Mutex<Kept>>,
}

/// What a tenant's rounds keep for the next ones.
#[derive(Debug, Default)]
struct Kept {
    membership: Option<(Instant, Membership)>,
    scan_requests: Option<u64>,
}

impl TenantClients {
    /// Builds both clients from the tenant's config (no request is sent yet).
    ///
    /// # Errors
    /// When a client cannot be built (a malformed URL, say).
    pub fn new(tenant: &TenantConfig) -> anyhow::Result<Self> {
        let raynet = raynet_client::Client::builder()
            .base_url(tenant.raynet.base_url.as_str())
            .instance(&tenant.raynet.instance)
            .credentials(tenant.raynet.user.as_str(), tenant.raynet.api_key.expose())
            .build()
            .with_context(|| format!("tenant `{}`: cannot build the Raynet client", tenant.name))?;
        let graph = graph_client::Client::builder()
            .graph_base_url(tenant.microsoft.graph_base_url.as_str())
            .authority_base_url(tenant.microsoft.authority.as_str())
            .credentials(
                &tenant.microsoft.tenant_id,
                &tenant.microsoft.client_id,
                tenant.microsoft.client_secret.expose(),
            )
            .build()
            .with_context(|| format!("tenant `{}`: cannot build the Graph client", tenant.name))?;
        Ok(Self {
            raynet,
            packer: graph_client::BatchPacker::new(graph.clone()),
            raynet_facts: raynet_client::adapter::InstanceFacts::new(),
            graph,
            cache: Arc::default(),
        })
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The group's membership: the one read less than `max_age` ago, else read anew (see
    /// [`discover_members`]). A zero `max_age` always reads.
    ///
    /// # Errors
    /// As [`discover_members`]; a failed read keeps nothing.
    pub async fn membership(
        &self,
        tenant: &TenantConfig,
        max_age: Duration,
    ) -> anyhow::Result<Membership> {
        if !max_age.is_zero() {
            if let Some((at, m)) = &self.kept().membership {
                if at.elapsed() < max_age {
                    return Ok(m.clone());
                }
            }
        }
        let fresh = discover_members(tenant, self).await?;
        self.kept().membership = Some((Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    /// Forgets the kept membership: the next round reads it anew.
    pub fn forget_membership(&self) {
        self.kept().membership = None;
    }
}

/// The group's members matched to Raynet users, with everything worth reporting.
#[derive(Clone, Debug)]
pub struct Membership {
    /// The group's id.
    pub group_id: String,
    /// Who is served.
    pub served: Vec<ServedMember>,
    /// Who is not, and why; other things to look at.
    pub findings: Vec<Finding>,
}

/// Reads the group's members and owners and the Raynet users, and matches them.
///
/// # Errors
/// When the group cannot be found or read, or the Raynet users cannot be listed.
pub async fn discover_members(
    tenant: &TenantConfig,
    clients: &TenantClients,
) -> anyhow::Result<Membership> {
    let group = clients
        .graph
        .groups()
        .find(&tenant.microsoft.group)
        .await
        .with_context(|| format!("cannot look up the group {:?}", tenant.microsoft.group))?
        .with_context(|| {
            format!(
                "no Microsoft 365 group {:?} (microsoft.group: give its display name or id)",
                tenant.microsoft.group
            )
        })?;
    let to_user = |o: graph_client::client::models::DirectoryObject| -> Option<GroupUser> {
        let is_user = o
            .odata_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("#microsoft.graph.user"));
        is_user.then(|| GroupUser {
            name: o.display_name.clone().unwrap_or_else(|| o.id.clone()),
            id: o.id,
            mail: o.mail,
            upn: o.user_principal_name,
        })
    };
    let members: Vec<GroupUser> = clients
        .graph
        .groups()
        .all_transitive_members(&group.id)
        .await
        .context("cannot list the group's members")?
        .into_iter()
        .filter_map(to_user)
        .collect();
    let owners: Vec<GroupUser> = clients
        .graph
        .groups()
        .all_owners(&group.id)
        .await
        .context("cannot list the group's owners")?
        .into_iter()
        .filter_map(to_user)
        .collect();
    let accounts = clients
        .raynet
        .user_accounts()
        .list_all(&raynet_client::ListQuery::new().limit(1000))
        .await
        .context("cannot list the Raynet user accounts")?;
    let raynet_users: Vec<RaynetUser> = accounts
        .into_iter()
        .filter_map(|a| {
            Some(RaynetUser {
                account_id: a.id,
                person_id: a.person.as_ref().map(|p| p.id),
                login: a.username.clone()?,
                email2: a.email2.clone(),
            })
        })
        .collect();
    let (served, findings) = match_members(&members, &owners, &raynet_users, &tenant.raynet.user);
    Ok(Membership {
        group_id: group.id,
        served,
        findings,
    })
}

/// What one tenant's round did.
#[derive(Debug, Default)]
pub struct TenantRound {
    /// One report per member and collection.
    pub reports: Vec<RoundReport>,
    /// Who is not served, and other findings.
    pub findings: Vec<Finding>,
    /// Members whose round could not run at all (with why).
    pub member_errors: Vec<String>,
    /// Requests the Raynet deletion scan took in this round (0: no scan was due).
    pub raynet_scan_requests: u64,
}

impl TenantRound {
    /// Whether anything failed.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.member_errors.is_empty() && self.reports.iter().all(RoundReport::is_clean)
    }
}

/// Options of one run.
#[derive(Clone, Debug, Default)]
pub struct RoundOptions {
    /// Plan only, write nothing.
    pub dry_run: bool,
    /// Set when the operator asked to stop: rounds finish the write under way and stop.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Show a progress line on standard error for long rounds (a first round, say).
    pub progress: bool,
}

impl RoundOptions {
    fn runner(&self, scope: Scope, policy: &Policy) -> sync_core::Runner {
        let mut runner = sync_core::Runner::new(scope, policy.clone()).dry_run(self.dry_run);
        if let Some(stop) = &self.stop {
            runner = runner.stop_flag(stop.clone());
        }
        if self.progress {
            runner = runner.progress(sync_core::Progress(std::sync::Arc::new(progress_line)));
        }
        runner
    }
}

/// Prints a progress bar for rounds of 50 steps or more.
fn progress_line(scope: &Scope, done: usize, total: usize) {
    if total < 50 {
        return;
    }
    let width = 30;
    let filled = done * width / total.max(1);
    eprint!(
        "\r{scope} [{}{}] {done}/{total}",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
    if done == total {
        eprintln!();
    }
}

/// Runs one round for every served member of `tenant`, `max_parallel_members` at a time; one
/// member's failure never stops the others. Each finished round is recorded in `store`
/// (`status` shows it) unless it is a dry run.
///
/// # Errors
/// When the members cannot be discovered at all (the group or the users cannot be read).
pub async fn sync_tenant(
    tenant: &TenantConfig,
    clients: &TenantClients,
    store: &SqliteStore,
    policy: &Policy,
    options: RoundOptions,
    now: DateTime<Utc>,
) -> anyhow::Result<TenantRound> {
    let membership = clients
        .membership(tenant, tenant.sync.membership_refresh)
        .await?;
    for f in &membership.findings {
        tracing::debug!(tenant = %tenant.name, "{f}");
    }
    let served_emails: BTreeSet<sync_core::Email> = membership
        .served
        .iter()
        .flat_map(|m| m.emails.iter().cloned())
        .collect();
    let domains: BTreeSet<String> = served_emails
        .iter()
        .map(|e| e.domain().to_owned())
        .collect();
    let tz: chrono_tz::Tz = tenant.raynet.time_zone.parse().map_err(|_| {
        anyhow::anyhow!(
            "raynet.time_zone {:?} is not a known IANA zone",
            tenant.raynet.time_zone
        )
    })?;
    let shared = SharedReads::plan(tenant, clients, store, &membership, tz, policy, now).await;
    // With invited_events = "own", the same outside invitation may sit in several members'
    // mailboxes: members then go one at a time, each seeing what the others already claimed.
    let parallel = if policy.invited_events == sync_core::InvitedEvents::Own {
        1
    } else {
        tenant.sync.max_parallel_members.max(1)
    };
    let results: Vec<(Vec<RoundReport>, Vec<String>)> =
        futures::stream::iter(membership.served.iter())
            .map(|m| {
                let member = Member {
                    emails: m.emails.clone(),
                    served: served_emails.clone(),
                    internal_domains: domains.clone(),
                    claimed_elsewhere: BTreeSet::new(),
                };
                sync_member(
                    tenant, clients, store, policy, &options, now, m, member, &shared,
                )
            })
            .buffer_unordered(parallel)
            .collect()
            .await;
    let scanned = shared.feed.scan_requests();
    if scanned > 0 {
        clients.kept().scan_requests = Some(scanned);
    }
    let mut round = TenantRound {
        findings: membership.findings,
        raynet_scan_requests: scanned,
        ..TenantRound::default()
    };
    for (reports, errors) in results {
        round.reports.extend(reports);
        round.member_errors.extend(errors);
    }
    round.reports.sort_by(|a, b| a.scope.cmp(&b.scope));
    Ok(round)
}

#[allow(clippy::too_many_arguments)]
async fn sync_member(
    tenant: &TenantConfig,
    clients: &TenantClients,
    store: &SqliteStore,
    policy: &Policy,
    options: &RoundOptions,
    now: DateTime<Utc>,
    m: &ServedMember,
    mut member: Member,
    shared: &SharedReads,
) -> (Vec<RoundReport>, Vec<String>) {
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    let scope = |c| Scope::new(&tenant.name, m.email.as_str(), c);
    if tenant.sync.mode.meetings() && policy.invited_events == sync_core::InvitedEvents::Own {
        match claimed_elsewhere(store, &tenant.name, m.email.as_str()).await {
            Ok(claimed) => member.claimed_elsewhere = claimed,
            Err(e) => errors.push(format!("{}: cannot read the state store: {e}", m.email)),
        }
    }
    if tenant.sync.mode.meetings() {
        let raynet =
            raynet_client::adapter::RaynetCalendar::new(clients.raynet.clone(), m.person_id)
                .with_time_zone(shared.tz)
                .with_deletion_scan_every(shared.scan_every)
                .with_feed(shared.feed.clone())
                .with_facts(clients.raynet_facts.clone());
        let outlook =
            graph_client::adapter::GraphCalendar::new(clients.graph.clone(), m.user.id.clone())
                .with_prefetch(shared.graph.clone())
                .with_packer(clients.packer.clone());
        let runner = options.runner(scope(Collection::Calendar), policy);
        let store_dyn: &dyn StateStore<sync_core::Event> = store;
        match runner
            .sync_calendar(&raynet, &outlook, store_dyn, &member, now)
            .await
        {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(format!("{}: calendar round aborted: {e:#}", m.email)),
        }
    }
    if tenant.sync.mode.contacts() {
        let (filter, route) = person_filter(&tenant.sync.contacts_filter, m.person_id);
        let source = raynet_client::adapter::RaynetContacts::new(clients.raynet.clone())
            .with_filter(filter)
            .with_deletion_scan_every(shared.scan_every)
            .with_feed(shared.feed.clone(), route);
        let target = graph_client::adapter::GraphContacts::new(
            clients.graph.clone(),
            m.user.id.clone(),
            tenant.sync.contacts_folder.clone(),
        )
        .with_prefetch(shared.graph.clone())
        .with_packer(clients.packer.clone());
        let runner = options.runner(scope(Collection::Contacts), policy);
        let store_dyn: &dyn StateStore<sync_core::Contact> = store;
        match runner.sync_contacts(&source, &target, store_dyn, now).await {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(format!("{}: contacts round aborted: {e:#}", m.email)),
        }
    }
    if !options.dry_run {
        for r in &reports {
            let summary = crate::app::round_summary(r);
            if let Err(e) = store.record_round(&r.scope, &summary, Utc::now()) {
                tracing::warn!(scope = %r.scope, error = %e, "cannot record the round summary");
            }
        }
    }
    (reports, errors)
}

/// The global ids (`iCalUId`) of meetings synced from the other members' calendars of `tenant`.
async fn claimed_elsewhere(
    store: &SqliteStore,
    tenant: &str,
    member: &str,
) -> Result<BTreeSet<String>, sync_core::StoreError> {
    let store: &dyn StateStore<sync_core::Event> = store;
    let mut claimed = BTreeSet::new();
    for scope in store.scopes().await? {
        if scope.tenant != tenant
            || scope.member == member
            || scope.collection != Collection::Calendar
        {
            continue;
        }
        let state = store.load(&scope).await?;
        for pair in state.pairs.values() {
            if let Some(uid) = pair.outlook.as_ref().and_then(|o| o.base.global_id.clone()) {
                claimed.insert(uid);
            }
        }
    }
    Ok(claimed)
}

/// The Raynet persons a member's folder holds (the filter its own reads use) and how the
/// instance feed's persons are routed to it.
fn person_filter(
    filter: &ContactsFilter,
    person_id: u64,
) -> (
    raynet_client::ListQuery,
    raynet_client::adapter::PersonRoute,
) {
    use raynet_client::adapter::PersonRoute;
    match filter {
        ContactsFilter::All => (raynet_client::ListQuery::new(), PersonRoute::Everyone),
        ContactsFilter::Owned => (
            raynet_client::ListQuery::new().filter(
                "owner",
                raynet_client::Op::Eq,
                person_id.to_string(),
            ),
            PersonRoute::OwnedBy(person_id),
        ),
        ContactsFilter::Tag(tag) => (
            raynet_client::ListQuery::new().param("tags", tag.as_str()),
            PersonRoute::Everyone,
        ),
    }
}

/// The reads a round shares among its members: one incremental Raynet read per resource for
/// the whole instance (from the oldest watermark of the members), the deletion scan's
/// schedule, and the first page of every member's Graph delta reads (calendar and contacts),
/// fetched 20 mailboxes' worth per `$batch`.
struct SharedReads {
    tz: chrono_tz::Tz,
    feed: raynet_client::adapter::InstanceFeed,
    /// Rounds between two deletion scans.
    scan_every: u32,
    graph: graph_client::adapter::DeltaPrefetch,
}

impl SharedReads {
    async fn plan(
        tenant: &TenantConfig,
        clients: &TenantClients,
        store: &SqliteStore,
        membership: &Membership,
        tz: chrono_tz::Tz,
        policy: &Policy,
        now: DateTime<Utc>,
    ) -> Self {
        use raynet_client::adapter::{CursorInfo, FeedPlan, InstanceFeed};
        let cursors = store.cursors_of(&tenant.name).unwrap_or_else(|e| {
            // Without them every member reads alone: dearer, never wrong.
            tracing::warn!(tenant = %tenant.name, error = %e, "cannot read the stored cursors");
            Vec::new()
        });
        let served: BTreeSet<&str> = membership.served.iter().map(|m| m.email.as_str()).collect();
        let infos = |collection: Collection| -> Vec<CursorInfo> {
            cursors
                .iter()
                .filter(|(scope, side, _)| {
                    scope.collection == collection
                        && *side == sync_core::Side::Raynet
                        && served.contains(scope.member.as_str())
                })
                .filter_map(|(_, _, c)| CursorInfo::parse(c))
                .collect()
        };
        let scan_requests = clients
            .kept()
            .scan_requests
            .unwrap_or_else(|| estimated_scan_requests(store, &tenant.name));
        let quota = clients
            .raynet
            .rate_limit()
            .and_then(|r| r.limit)
            .unwrap_or(RAYNET_DAILY_QUOTA);
        let scan_every =
            tenant
                .sync
                .deletion_scan_every
                .every(scan_requests, tenant.sync.interval, quota);
        let plan_of = |infos: Vec<CursorInfo>| -> Option<FeedPlan> {
            Some(FeedPlan {
                watermark: infos.iter().map(|i| i.watermark).min()?,
                scan: infos
                    .iter()
                    .any(|i| i.reads_since_scan.saturating_add(1) >= scan_every),
            })
        };
        let mut feed = InstanceFeed::new(clients.raynet.clone()).with_time_zone(tz);
        if tenant.sync.mode.meetings() {
            if let Some(plan) = plan_of(infos(Collection::Calendar)) {
                feed = feed.calendar(plan);
            }
        }
        if tenant.sync.mode.contacts() {
            if let Some(plan) = plan_of(infos(Collection::Contacts)) {
                // The members' own filter when it is the same for all; everybody's persons
                // when it depends on the member (routed by owner).
                let filter = match person_filter(&tenant.sync.contacts_filter, 0) {
                    (filter, raynet_client::adapter::PersonRoute::Everyone) => filter,
                    (_, raynet_client::adapter::PersonRoute::OwnedBy(_)) => {
                        raynet_client::ListQuery::new()
                    }
                };
                feed = feed.persons(plan, filter);
            }
        }
        // The Graph delta links the members' reads will resume from, fetched together.
        let window = policy.window(now);
        let links: Vec<String> = cursors
            .iter()
            .filter(|(scope, side, _)| {
                *side == sync_core::Side::Outlook && served.contains(scope.member.as_str())
            })
            .filter_map(|(scope, _, cursor)| match scope.collection {
                Collection::Calendar if tenant.sync.mode.meetings() => {
                    graph_client::adapter::GraphCalendar::resume_link(cursor, &window)
                }
                Collection::Contacts if tenant.sync.mode.contacts() => {
                    graph_client::adapter::GraphContacts::resume_link(cursor)
                }
                _ => None,
            })
            .collect();
        let graph = graph_client::adapter::DeltaPrefetch::new();
        let stats = graph.load(&clients.graph, links).await;
        tracing::debug!(
            tenant = %tenant.name,
            ?feed,
            scan_every,
            scan_requests,
            ?stats,
            "shared reads of this round"
        );
        SharedReads {
            tz,
            feed,
            scan_every,
            graph,
        }
    }
}

/// What one deletion scan of `tenant` costs, estimated from the state store before one has
/// run in this process: one request per 1,000 Raynet records synced (meetings and events of
/// every member, and the persons of the largest contact folder), one more for each entity.
fn estimated_scan_requests(store: &SqliteStore, tenant: &str) -> u64 {
    let Ok(status) = store.status() else {
        return 3;
    };
    let mut activities = 0;
    let mut persons = 0;
    for s in status.iter().filter(|s| s.scope.tenant == tenant) {
        match s.scope.collection {
            Collection::Calendar => activities += s.pairs,
            Collection::Contacts => persons = persons.max(s.pairs),
        }
    }
    activities.div_ceil(1000) + 2 + persons.div_ceil(1000) + 1
}
