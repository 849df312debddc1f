//! `check`: the config, the credentials (Graph and Raynet answer), the group, and who is
//! served and who is not.

use std::path::Path;
use std::process::ExitCode;

use super::setup::load_config;
use crate::cli::{CheckArgs, exit};
use crate::config::TenantConfig;

/// Checks every selected tenant; exits with [`exit::FAILURE`] when one cannot be reached.
pub(super) async fn check(config: &Path, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(config)?;
    let tenants = config.select(args.tenant.as_deref())?;
    for t in &tenants {
        println!("{}", tenant_line(t));
    }
    println!(
        "configuration ok: {} ({} tenant(s))",
        config.source.display(),
        tenants.len()
    );
    let mut ok = true;
    for t in &tenants {
        let clients = crate::wiring::TenantClients::new(t)?;
        match crate::wiring::discover_members(&clients).await {
            Ok(m) => {
                println!(
                    "tenant `{}`: credentials ok (Graph and Raynet answered), group {} found, \
                     {} member(s) served",
                    t.name,
                    m.group_id,
                    m.served.len()
                );
                for s in &m.served {
                    println!(
                        "  served: {} ({}), Raynet person {}",
                        s.user.name, s.email, s.person_id
                    );
                }
                for f in &m.findings {
                    println!("  note: {f}");
                }
            }
            Err(e) => {
                ok = false;
                println!("tenant `{}`: FAILED: {e:#}", t.name);
            }
        }
    }
    Ok(ExitCode::from(if ok {
        exit::SUCCESS
    } else {
        exit::FAILURE
    }))
}

/// One line describing a tenant's settings (never a secret).
pub(super) fn tenant_line(t: &TenantConfig) -> String {
    format!(
        "tenant `{}`: raynet instance `{}` as {} ({}), microsoft tenant {} group {:?}, mode {}, \
         every {} s",
        t.name,
        t.raynet.instance,
        t.raynet.user,
        t.raynet.time_zone,
        t.microsoft.tenant_id,
        t.microsoft.group,
        t.sync.mode,
        t.sync.interval.as_secs()
    )
}
