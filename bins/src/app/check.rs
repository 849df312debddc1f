//! `check`: the config, the credentials (Graph and Raynet answer), the group, and who is
//! served and who is not.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use super::setup::load_config;
use crate::cli::{CheckArgs, exit};
use crate::config::{Config, TenantConfig};

/// Checks every selected tenant; exits with [`exit::FAILURE`] when one cannot be reached.
pub(super) async fn check(config: &Path, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(config)?;
    let tenants = config.select(args.tenant.as_deref())?;
    let ok = check_tenants(&config, &tenants, &mut std::io::stdout()).await?;
    Ok(ExitCode::from(if ok {
        exit::SUCCESS
    } else {
        exit::FAILURE
    }))
}

/// Writes what `check` finds about `tenants` of the loaded `config` to `out`; `false` when a
/// tenant cannot be reached. (`init` runs it on the config it wrote.)
pub(super) async fn check_tenants(
    config: &Config,
    tenants: &[&TenantConfig],
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    for t in tenants {
        writeln!(out, "{}", tenant_line(t))?;
    }
    writeln!(
        out,
        "configuration ok: {} ({} tenant(s))",
        config.source.display(),
        tenants.len()
    )?;
    let mut ok = true;
    for t in tenants {
        let clients = crate::wiring::TenantClients::new(t)?;
        match crate::wiring::discover_members(&clients).await {
            Ok(m) => {
                writeln!(
                    out,
                    "tenant `{}`: credentials ok (Graph and Raynet answered), group {} found, \
                     {} member(s) served",
                    t.name,
                    m.group_id,
                    m.served.len()
                )?;
                for s in &m.served {
                    writeln!(
                        out,
                        "  served: {} ({}), Raynet person {}",
                        s.user.name, s.email, s.person_id
                    )?;
                }
                if !graph_client::client::is_object_id(&t.microsoft.group) {
                    writeln!(
                        out,
                        "  the group {:?} has the id {}: `group = \"{}\"` under \
                         [tenant.microsoft] saves each process its look-up by name",
                        t.microsoft.group, m.group_id, m.group_id
                    )?;
                }
                for f in &m.findings {
                    writeln!(out, "  note: {f}")?;
                }
                for line in push_lines(t, config, &clients).await {
                    writeln!(out, "  {line}")?;
                }
            }
            Err(e) => {
                ok = false;
                writeln!(out, "tenant `{}`: FAILED: {e:#}", t.name)?;
            }
        }
    }
    Ok(ok)
}

/// What `serve` keeps alive for `t`: the Raynet webhook (registered for our URL?) and the
/// Graph subscriptions the state file keeps (still live at Graph?). Reads only.
async fn push_lines(
    t: &TenantConfig,
    config: &Config,
    clients: &crate::wiring::TenantClients,
) -> Vec<String> {
    let Some(public) = &config.serve.public_url else {
        return vec!["push: serve.public_url is not set (`serve` needs it; `run` does not)".into()];
    };
    let mut out = Vec::new();
    let url = crate::push::webhook_url(public, &t.name);
    match clients.raynet.webhooks().list().await {
        Ok(list) => match list.webhooks.iter().find(|w| w.url == url) {
            Some(w) => out.push(format!(
                "push: Raynet webhook {} registered for {url} ({} event type(s))",
                w.webhook_id,
                w.events_filter.len()
            )),
            None => out.push(format!(
                "push: no Raynet webhook for {url} (`serve` registers it when it starts)"
            )),
        },
        Err(e) => out.push(format!("push: cannot list the Raynet webhooks: {e}")),
    }
    // A state file that does not exist yet is not created by `check`.
    let kept = if config.state.file().is_none_or(std::path::Path::exists) {
        match crate::store::open_store(&config.state).await {
            Ok(store) => store.kept_subscriptions(&t.name).await.unwrap_or_default(),
            Err(e) => {
                out.push(format!("push: cannot open the state store: {e:#}"));
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    if kept.is_empty() {
        out.push("push: no Graph subscription kept yet (`serve` creates them)".into());
        return out;
    }
    let live = match clients.graph.subscriptions().list().await {
        Ok(subs) => Some(subs.into_iter().map(|s| s.id).collect::<Vec<_>>()),
        Err(e) => {
            out.push(format!("push: cannot list the Graph subscriptions: {e}"));
            None
        }
    };
    for (member, collection, record) in kept {
        let Ok(k) = serde_json::from_str::<graph_client::adapter::KeptSubscription>(&record) else {
            continue;
        };
        let state = match &live {
            Some(live) if live.contains(&k.id) => "live",
            Some(_) => "gone at Graph (`serve` re-creates it)",
            None => "unknown",
        };
        out.push(format!(
            "push: Graph subscription {} for {member} {collection:?}: {state}, expires {}, renewal due {}",
            k.id,
            k.expires.format("%Y-%m-%d %H:%M:%S UTC"),
            k.renew_due().format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    out
}

/// One line describing a tenant's settings (never a secret).
pub(super) fn tenant_line(t: &TenantConfig) -> String {
    format!(
        "tenant `{}`: raynet instance `{}` as {} ({}), microsoft tenant {} group {:?} with a {}, \
         mode {}, every {} s",
        t.name,
        t.raynet.instance,
        t.raynet.user,
        t.raynet.time_zone,
        t.microsoft.tenant_id,
        t.microsoft.group,
        t.microsoft.credential_summary(),
        t.sync.mode,
        t.sync.interval.as_secs()
    )
}
