//! Steps 1 and 2: the Microsoft 365 app (tenant, client id, client secret; the admin-consent
//! link; a token and the calls the sync needs) and the group (searched by the start of its
//! display name, its members and owners counted, owners who are not members named).

use std::time::Duration;

use graph_client::client::models::{DirectoryObject, Group};

use super::ask::{Problem, Question, Session};
use crate::cli::InitArgs;
use crate::config::{DEFAULT_AUTHORITY, DEFAULT_GRAPH_BASE_URL, Secret};

const TENANT: Question = Question {
    label: "Microsoft 365 tenant (directory id or domain)",
    key: "tenant[0].microsoft.tenant_id",
    flag: Some("--tenant-id"),
    env: "RAYNET_SYNC_TENANT_ID",
};
const CLIENT_ID: Question = Question {
    label: "App registration's application (client) id",
    key: "tenant[0].microsoft.client_id",
    flag: Some("--client-id"),
    env: "RAYNET_SYNC_CLIENT_ID",
};
/// The client secret's question (read from its variable, never a flag).
pub(super) const CLIENT_SECRET: Question = Question {
    label: "App's client secret",
    key: "tenant[0].microsoft.client_secret",
    flag: None,
    env: "RAYNET_SYNC_CLIENT_SECRET",
};
const GROUP: Question = Question {
    label: "Microsoft 365 group (its name, or the start of it)",
    key: "tenant[0].microsoft.group",
    flag: Some("--group"),
    env: "RAYNET_SYNC_GROUP",
};

/// How many groups a search shows.
const SEARCH_TOP: u16 = 25;

/// The Microsoft side, answered and checked.
pub(super) struct Microsoft {
    pub(super) tenant_id: String,
    pub(super) client_id: String,
    pub(super) client_secret: Secret,
    pub(super) graph_base_url: Option<String>,
    pub(super) authority: Option<String>,
    pub(super) client: graph_client::Client,
}

/// The group picked, with its users.
pub(super) struct PickedGroup {
    pub(super) group: Group,
    pub(super) members: Vec<DirectoryObject>,
}

/// The identity platform's admin-consent link for the app: an administrator who opens it
/// grants the app's configured permissions for the whole tenant.
#[must_use]
pub fn admin_consent_url(authority: &str, tenant: &str, client_id: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "{}/{}/adminconsent?client_id={}",
        authority.trim_end_matches('/'),
        enc(tenant),
        enc(client_id)
    )
}

/// Step 1: the app's tenant, client id and secret, until Graph gives a token and lists groups.
pub(super) async fn app(
    s: &mut Session<'_>,
    args: &InitArgs,
    secret: Option<&Secret>,
) -> anyhow::Result<Microsoft> {
    s.say(
        "\n1. Microsoft 365: the app registration (see the README, \"Setting up Microsoft 365\")",
    );
    let (mut tenant, mut client_id, mut client_secret) = (
        args.tenant_id.clone(),
        args.client_id.clone(),
        secret.cloned(),
    );
    loop {
        let result = try_app(s, args, &mut tenant, &mut client_id, &mut client_secret).await;
        match result {
            Ok(m) => {
                s.step_done();
                return Ok(m);
            }
            Err(p) => s.retry_or_fail(p)?,
        }
    }
}

async fn try_app(
    s: &mut Session<'_>,
    args: &InitArgs,
    tenant: &mut Option<String>,
    client_id: &mut Option<String>,
    client_secret: &mut Option<Secret>,
) -> Result<Microsoft, Problem> {
    let t = s.text(&TENANT, tenant.as_deref(), None)?;
    *tenant = Some(t.clone());
    let c = s.text(&CLIENT_ID, client_id.as_deref(), None)?;
    *client_id = Some(c.clone());
    let secret = s.secret(&CLIENT_SECRET, client_secret.as_ref())?;
    *client_secret = Some(secret.clone());
    let authority = args.authority.as_deref().unwrap_or(DEFAULT_AUTHORITY);
    let consent = admin_consent_url(authority, &t, &c);
    s.say(format!(
        "  Admin consent: an administrator grants the app its permissions (Calendars.ReadWrite, \
         Contacts.ReadWrite, User.Read.All, GroupMember.Read.All) by opening\n  {consent}"
    ));
    let client = graph_client::Client::builder()
        .graph_base_url(
            args.graph_base_url
                .as_deref()
                .unwrap_or(DEFAULT_GRAPH_BASE_URL),
        )
        .authority_base_url(authority)
        .credentials(&t, &c, secret.expose())
        .retry(graph_client::RetryConfig::new(
            2,
            Duration::from_millis(200),
            Duration::from_secs(1),
            Duration::from_secs(5),
        ))
        .request_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Problem::answer(TENANT.key, format!("cannot build the Graph client: {e}")))?;
    match client.groups().search_by_display_name("", 1).await {
        Ok(_) => {
            s.say("  ok: a token was issued and the app may list the groups");
            Ok(Microsoft {
                tenant_id: t,
                client_id: c,
                client_secret: secret,
                graph_base_url: args.graph_base_url.clone(),
                authority: args.authority.clone(),
                client,
            })
        }
        Err(e) => Err(graph_problem(
            &e,
            "list the groups",
            "GroupMember.Read.All",
            &consent,
        )),
    }
}

/// What a Graph error means for the answers.
pub(super) fn graph_problem(
    e: &graph_client::Error,
    what: &str,
    permission: &str,
    consent: &str,
) -> Problem {
    use graph_client::Error as E;
    match e {
        E::Auth { code, message, .. } => {
            let hint = if message.contains("AADSTS7000215") || message.contains("AADSTS7000222") {
                (
                    "tenant[0].microsoft.client_secret",
                    "the client secret is wrong or expired",
                )
            } else if message.contains("AADSTS700016") {
                (
                    "tenant[0].microsoft.client_id",
                    "the tenant has no app with this client id",
                )
            } else if message.contains("AADSTS90002") || message.contains("AADSTS900023") {
                ("tenant[0].microsoft.tenant_id", "the tenant was not found")
            } else {
                (
                    "tenant[0].microsoft.client_secret",
                    "check the tenant, the client id and the client secret",
                )
            };
            Problem::answer(
                hint.0,
                format!(
                    "Microsoft refused the app's credentials ({code}): {}",
                    hint.1
                ),
            )
        }
        E::Transport { .. } | E::Timeout { .. } => {
            Problem::Unreachable(format!("cannot reach Microsoft Graph: {e}"))
        }
        _ if e.status() == Some(403) => Problem::answer(
            "tenant[0].microsoft.client_id",
            format!(
                "the app may not {what}: add the application permission {permission} (API \
                 permissions -> Microsoft Graph -> Application permissions) and grant admin \
                 consent: {consent}"
            ),
        ),
        _ => Problem::answer(
            "tenant[0].microsoft.client_id",
            format!("Graph refused to {what}: {e}"),
        ),
    }
}

/// Step 2: the group, picked from the tenant's groups; its members and owners counted, and
/// one member's mailbox read (the user and calendar permissions).
pub(super) async fn group(
    s: &mut Session<'_>,
    args: &InitArgs,
    ms: &Microsoft,
) -> anyhow::Result<PickedGroup> {
    s.say("\n2. The Microsoft 365 group whose members are synced");
    let mut typed = args.group.clone();
    loop {
        match try_group(s, ms, &mut typed).await {
            Ok(g) => {
                s.step_done();
                return Ok(g);
            }
            Err(p) => s.retry_or_fail(p)?,
        }
    }
}

async fn try_group(
    s: &mut Session<'_>,
    ms: &Microsoft,
    typed: &mut Option<String>,
) -> Result<PickedGroup, Problem> {
    let consent = consent_of(ms);
    let text = s.text(&GROUP, typed.as_deref(), None)?;
    *typed = Some(text.clone());
    let groups = ms.client.groups();
    let found = if is_guid(&text) {
        match groups.get(&text).await {
            Ok(g) => vec![g],
            Err(e) if e.status() == Some(404) => Vec::new(),
            Err(e) => {
                return Err(graph_problem(
                    &e,
                    "read the group",
                    "GroupMember.Read.All",
                    &consent,
                ));
            }
        }
    } else {
        groups
            .search_by_display_name(&text, SEARCH_TOP)
            .await
            .map_err(|e| graph_problem(&e, "list the groups", "GroupMember.Read.All", &consent))?
    };
    let name_of = |g: &Group| g.display_name.clone().unwrap_or_else(|| g.id.clone());
    let exact: Vec<&Group> = found
        .iter()
        .filter(|g| name_of(g).eq_ignore_ascii_case(&text) || g.id == text)
        .collect();
    let group = match (found.len(), exact.as_slice()) {
        (0, _) => {
            return Err(Problem::answer(
                GROUP.key,
                format!("no group of the tenant has a name starting with {text:?}"),
            ));
        }
        (_, [one]) => (*one).clone(),
        (1, _) => found[0].clone(),
        _ if s.unattended => {
            let names: Vec<String> = found.iter().map(name_of).collect();
            return Err(Problem::answer(
                GROUP.key,
                format!(
                    "{text:?} matches {} groups ({}): give the full name or the object id",
                    found.len(),
                    names.join(", ")
                ),
            ));
        }
        _ => {
            let items: Vec<String> = found
                .iter()
                .map(|g| format!("{} ({})", name_of(g), g.mail.as_deref().unwrap_or(&g.id)))
                .collect();
            let i = s.pick("Which group?", &items)?;
            found.get(i).cloned().unwrap_or_else(|| found[0].clone())
        }
    };
    let name = name_of(&group);
    let members = groups
        .all_transitive_members(&group.id)
        .await
        .map_err(|e| {
            graph_problem(
                &e,
                "read the group's members",
                "GroupMember.Read.All",
                &consent,
            )
        })?;
    let owners = groups.all_owners(&group.id).await.map_err(|e| {
        graph_problem(
            &e,
            "read the group's owners",
            "GroupMember.Read.All",
            &consent,
        )
    })?;
    let members: Vec<DirectoryObject> = members
        .into_iter()
        .filter(DirectoryObject::is_user)
        .collect();
    s.say(format!(
        "  group {name:?} ({}): {} member(s), {} owner(s)",
        group.id,
        members.len(),
        owners.len()
    ));
    for o in owners
        .iter()
        .filter(|o| !members.iter().any(|m| m.id == o.id))
    {
        let finding = sync_core::tenant::Finding::OwnerNotMember {
            name: o.display_name.clone().unwrap_or_else(|| o.id.clone()),
        };
        s.say(format!("  warning: {finding}"));
    }
    if members.is_empty() {
        s.say(
            "  warning: the group has no members yet: nobody would be synced (add them as members)",
        );
    }
    if let Some(first) = members.first() {
        probe_mailbox(s, ms, first).await?;
    }
    Ok(PickedGroup { group, members })
}

/// Reads one member (User.Read.All) and their calendar (Calendars.ReadWrite).
async fn probe_mailbox(
    s: &mut Session<'_>,
    ms: &Microsoft,
    member: &DirectoryObject,
) -> Result<(), Problem> {
    let consent = consent_of(ms);
    let who = member
        .display_name
        .clone()
        .unwrap_or_else(|| member.id.clone());
    ms.client
        .users()
        .get(&member.id)
        .await
        .map_err(|e| graph_problem(&e, "read the users", "User.Read.All", &consent))?;
    let now = chrono::Utc::now();
    match ms
        .client
        .events(&member.id)
        .delta_start(now, now + chrono::Duration::days(1))
        .await
    {
        Ok(_) => s.say(format!("  ok: the app may read {who}'s calendar")),
        Err(e) if e.is_access_denied() || e.is_mailbox_not_enabled() => s.say(format!(
            "  warning: {who}'s mailbox cannot be read ({}): an application access policy leaves \
             it out, or the user has no Exchange Online mailbox; they will not be synced",
            e.code().unwrap_or("denied")
        )),
        Err(e) => {
            return Err(graph_problem(
                &e,
                "read the calendars",
                "Calendars.ReadWrite",
                &consent,
            ));
        }
    }
    Ok(())
}

/// Checks the app may read `member`'s contact folders (Contacts.ReadWrite), for the contacts
/// modes.
pub(super) async fn probe_contacts(
    s: &mut Session<'_>,
    ms: &Microsoft,
    member: &DirectoryObject,
) -> Result<(), Problem> {
    let who = member
        .display_name
        .clone()
        .unwrap_or_else(|| member.id.clone());
    match ms
        .client
        .contacts(&member.id)
        .find_folder(crate::config::DEFAULT_CONTACTS_FOLDER)
        .await
    {
        Ok(_) => {
            s.say(format!("  ok: the app may read {who}'s contacts"));
            Ok(())
        }
        Err(e) if e.is_access_denied() || e.is_mailbox_not_enabled() => Ok(()),
        Err(e) => Err(graph_problem(
            &e,
            "read the contacts",
            "Contacts.ReadWrite",
            &consent_of(ms),
        )),
    }
}

/// Whether `s` is a GUID (`8-4-4-4-12` hex digits).
fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn consent_of(ms: &Microsoft) -> String {
    admin_consent_url(
        ms.authority.as_deref().unwrap_or(DEFAULT_AUTHORITY),
        &ms.tenant_id,
        &ms.client_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_link_is_the_documented_one() {
        assert_eq!(
            admin_consent_url(DEFAULT_AUTHORITY, "acme.onmicrosoft.com", "0000-1"),
            "https://login.microsoftonline.com/acme.onmicrosoft.com/adminconsent?client_id=0000-1"
        );
    }
}
