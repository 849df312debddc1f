//! Wiring: a tenant's config → the two API clients → the library's [`Tenant`], whose
//! [`Tenant::round`] runs every member's rounds. No sync logic lives here: membership, the
//! claims, the shared reads and writes and the reports are `sync_core::tenant`, the Raynet and
//! Graph pieces their adapters' (`RaynetTenant`, `GraphTenant`).

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use raynet_client::adapter::RaynetTenant;
use sync_core::tenant::{Membership, Tenant, TenantStore};
pub use sync_core::tenant::{RoundOptions, TenantReport};
use sync_core::{Policy, Progress, Scope};

use crate::config::TenantConfig;

/// One tenant for the life of the process: its two clients and the library's [`Tenant`] (which
/// keeps the group's membership for `sync.membership_refresh`, the Graph batch packer, and what
/// the Raynet rounds learn). Clones share all of it.
#[derive(Clone, Debug)]
pub struct TenantClients {
    /// RAYNET CRM, as the integration user.
    pub raynet: raynet_client::Client,
    /// Microsoft Graph, app-only.
    pub graph: graph_client::Client,
    /// The tenant's rounds.
    pub tenant: Arc<Tenant>,
    /// What the Raynet side learned of the instance (shared with the tenant's rounds).
    pub raynet_facts: raynet_client::adapter::InstanceFacts,
}

impl TenantClients {
    /// Builds both clients and the tenant from the tenant's config (no request is sent yet).
    ///
    /// # Errors
    /// When a client cannot be built (a malformed URL, say) or the time zone is unknown.
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
            .credential(
                &tenant.microsoft.tenant_id,
                &tenant.microsoft.client_id,
                tenant.microsoft.credential.clone(),
            )
            .build()
            .with_context(|| format!("tenant `{}`: cannot build the Graph client", tenant.name))?;
        let tz: chrono_tz::Tz = tenant.raynet.time_zone.parse().map_err(|_| {
            anyhow::anyhow!(
                "raynet.time_zone {:?} is not a known IANA zone",
                tenant.raynet.time_zone
            )
        })?;
        let raynet_side = RaynetTenant::new(raynet.clone())
            .with_time_zone(tz)
            .with_persons(tenant.sync.contacts_filter.clone())
            .with_scan_schedule(tenant.sync.deletion_scan_every, tenant.sync.interval);
        let raynet_facts = raynet_side.facts().clone();
        let graph_side = graph_client::adapter::GraphTenant::new(
            graph.clone(),
            &tenant.microsoft.group,
            &tenant.sync.contacts_folder,
        );
        let library = Tenant::new(
            &tenant.name,
            tenant.raynet.user.clone(),
            Arc::new(raynet_side),
            Arc::new(graph_side),
        )
        .collections(tenant.sync.mode.collections())
        .max_parallel_members(tenant.sync.max_parallel_members)
        .membership_max_age(tenant.sync.membership_refresh);
        Ok(Self {
            raynet,
            graph,
            tenant: Arc::new(library),
            raynet_facts,
        })
    }
}

/// Reads the group's members and owners and the Raynet users anew, and matches them.
///
/// # Errors
/// When the group cannot be found or read, or the Raynet users cannot be listed.
pub async fn discover_members(clients: &TenantClients) -> anyhow::Result<Membership> {
    Ok(clients.tenant.membership(std::time::Duration::ZERO).await?)
}

/// Runs one round for every served member of the tenant (see [`Tenant::round`]); each finished
/// round is recorded in `store` (`status` shows it) unless it is a dry run.
///
/// # Errors
/// When the members cannot be discovered at all (the group or the users cannot be read).
pub async fn sync_tenant(
    clients: &TenantClients,
    store: &dyn TenantStore,
    policy: &Policy,
    options: RoundOptions,
    now: DateTime<Utc>,
) -> anyhow::Result<TenantReport> {
    Ok(clients.tenant.round(&store, policy, &options, now).await?)
}

/// A progress bar on standard error for rounds of 50 steps or more (a first round, say).
#[must_use]
pub fn progress_bar() -> Progress {
    Progress(Arc::new(progress_line))
}

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
