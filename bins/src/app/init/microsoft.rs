//! Step 1: the Microsoft 365 app (tenant, client id, the credential; the admin-consent link;
//! waiting for consent, then a token and a first call), and the check of the contacts
//! permission after the modes.

use std::time::Duration;

use graph_client::client::models::DirectoryObject;

use super::ask::{Problem, Question, Session};
use super::consent;
use super::credential::{self, Chosen, Given};
use super::graph_errors::graph_problem;
use crate::cli::InitArgs;
use crate::config::{DEFAULT_AUTHORITY, DEFAULT_GRAPH_BASE_URL};

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
/// The Microsoft side, answered and checked.
pub(super) struct Microsoft {
    pub(super) tenant_id: String,
    pub(super) client_id: String,
    pub(super) credential: Chosen,
    pub(super) graph_base_url: Option<String>,
    pub(super) authority: Option<String>,
    pub(super) client: graph_client::Client,
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

/// Step 1: the app's tenant, client id and credential, until Graph gives a token and lists
/// groups.
pub(super) async fn app(
    s: &mut Session<'_>,
    args: &InitArgs,
    given: Given,
) -> anyhow::Result<Microsoft> {
    s.say(
        "\n1. Microsoft 365: the app registration (see the README, \"Setting up Microsoft 365\")",
    );
    let (mut tenant, mut client_id, mut given) =
        (args.tenant_id.clone(), args.client_id.clone(), given);
    loop {
        let result = try_app(s, args, &mut tenant, &mut client_id, &mut given).await;
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
    given: &mut Given,
) -> Result<Microsoft, Problem> {
    let t = s.text(&TENANT, tenant.as_deref(), None)?;
    *tenant = Some(t.clone());
    let c = s.text(&CLIENT_ID, client_id.as_deref(), None)?;
    *client_id = Some(c.clone());
    let (chosen, signs_in) = credential::credential(s, given)?;
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
        .credential(&t, &c, signs_in)
        .retry(graph_client::RetryConfig::new(
            2,
            Duration::from_millis(200),
            Duration::from_secs(1),
            Duration::from_secs(5),
        ))
        .request_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Problem::answer(TENANT.key, format!("cannot build the Graph client: {e}")))?;
    let patience = consent::Patience::of(args.consent_wait_seconds, args.consent_check_seconds);
    consent::wait_for_consent(s, &client, &consent, args.mode.as_deref(), &patience)
        .await
        .map_err(|p| credential::blame(p, &chosen))?;
    match client.groups().search_by_display_name("", 1).await {
        Ok(_) => {
            s.say("  ok: a token was issued and the app may list the groups");
            Ok(Microsoft {
                tenant_id: t,
                client_id: c,
                credential: chosen,
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

/// The admin-consent link of the app `ms`.
pub(super) fn consent_of(ms: &Microsoft) -> String {
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
