//! Step 3: the Raynet instance (a pasted browser address is fine), the integration user and
//! its API key, checked with one request. A refused login is never sent again by itself:
//! Raynet blocks an address after repeated failed logins.

use std::time::Duration;

use sync_core::Email;

use super::ask::{Problem, Question, Session};
use crate::cli::InitArgs;
use crate::config::{DEFAULT_RAYNET_BASE_URL, Secret};

const INSTANCE: Question = Question {
    label: "Raynet instance (its name, or the address of a Raynet page)",
    key: "tenant[0].raynet.instance",
    flag: Some("--raynet-instance"),
    env: "RAYNET_SYNC_RAYNET_INSTANCE",
};
const USER: Question = Question {
    label: "Raynet user's login e-mail (ideally a dedicated integration user)",
    key: "tenant[0].raynet.user",
    flag: Some("--raynet-user"),
    env: "RAYNET_SYNC_RAYNET_USER",
};
/// The API key's question (read from its variable, never a flag).
pub(super) const API_KEY: Question = Question {
    label: "Raynet API key (Settings -> API keys -> New API key)",
    key: "tenant[0].raynet.api_key",
    flag: None,
    env: "RAYNET_SYNC_RAYNET_API_KEY",
};

/// The Raynet side, answered and checked.
pub(super) struct Raynet {
    pub(super) instance: String,
    pub(super) user: Email,
    pub(super) api_key: Secret,
    pub(super) base_url: Option<String>,
}

/// The instance name in `text`: the name itself, or the first path segment of a Raynet
/// address (`https://app.raynet.cz/acme/?view=Helpboard` → `acme`).
///
/// # Errors
/// When no name can be found, or it holds characters an instance name cannot.
pub fn instance_from(text: &str) -> Result<String, String> {
    let text = text.trim();
    let name = if text.contains("://") {
        let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not an address: {e}"))?;
        url.path_segments()
            .and_then(|mut s| s.find(|s| !s.is_empty()))
            .map(ToOwned::to_owned)
            .ok_or_else(|| format!("{text:?} has no instance name after the host"))?
    } else {
        let t = text.trim_matches('/');
        // `app.raynet.cz/acme/...` without the scheme.
        match t.split_once('/') {
            Some((host, rest)) if host.contains('.') => rest
                .split('/')
                .find(|s| !s.is_empty())
                .unwrap_or_default()
                .to_owned(),
            _ => t.to_owned(),
        }
    };
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "{name:?} is not an instance name (letters, digits, '-', '_' and '.'; it is the \
             part after app.raynet.cz/ in the browser's address)"
        ))
    }
}

/// Step 3: instance, user, API key; one request to check them.
pub(super) async fn raynet(
    s: &mut Session<'_>,
    args: &InitArgs,
    key: Option<&Secret>,
) -> anyhow::Result<Raynet> {
    s.say("\n3. Raynet: the instance and the user the integration acts as");
    let (mut instance, mut user, mut api_key) = (
        args.raynet_instance.clone(),
        args.raynet_user.clone(),
        key.cloned(),
    );
    loop {
        match try_raynet(s, args, &mut instance, &mut user, &mut api_key).await {
            Ok(r) => {
                s.step_done();
                return Ok(r);
            }
            Err(p) => s.retry_or_fail(p)?,
        }
    }
}

async fn try_raynet(
    s: &mut Session<'_>,
    args: &InitArgs,
    instance: &mut Option<String>,
    user: &mut Option<String>,
    api_key: &mut Option<Secret>,
) -> Result<Raynet, Problem> {
    let typed = s.text(&INSTANCE, instance.as_deref(), None)?;
    let name = instance_from(&typed).map_err(|m| Problem::answer(INSTANCE.key, m))?;
    *instance = Some(name.clone());
    if name != typed {
        s.say(format!("  instance: {name}"));
    }
    let login = s.text(&USER, user.as_deref(), None)?;
    *user = Some(login.clone());
    let email = Email::new(&login).map_err(|e| {
        Problem::answer(USER.key, format!("{login:?} is not an e-mail address: {e}"))
    })?;
    let key = s.secret(&API_KEY, api_key.as_ref())?;
    *api_key = Some(key.clone());
    let base = args
        .raynet_base_url
        .as_deref()
        .unwrap_or(DEFAULT_RAYNET_BASE_URL);
    let client = raynet_client::Client::builder()
        .base_url(base)
        .instance(&name)
        .credentials(email.as_str(), key.expose())
        .max_retries(1)
        .backoff(Duration::from_millis(200), Duration::from_secs(1))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Problem::answer("tenant[0].raynet.base_url", format!("{e}")))?;
    let query = raynet_client::ListQuery::new().limit(1);
    match client.user_accounts().list(&query).await {
        Ok(_) => s.say(format!("  ok: Raynet accepted {email} on instance {name}")),
        Err(raynet_client::Error::Unauthorized { status, .. }) => {
            return Err(Problem::answer(
                API_KEY.key,
                format!(
                    "Raynet refused the login ({status}): the instance name, the user's e-mail or \
                     the API key is wrong. It was not tried again: Raynet blocks the address \
                     after repeated failed logins"
                ),
            ));
        }
        Err(e @ (raynet_client::Error::Network { .. } | raynet_client::Error::Timeout { .. })) => {
            return Err(Problem::Unreachable(format!("cannot reach Raynet: {e}")));
        }
        Err(e) => {
            return Err(Problem::answer(
                INSTANCE.key,
                format!("Raynet answered: {e}"),
            ));
        }
    }
    // The same finding `check` reports, from the same rule.
    let (_, findings) = sync_core::tenant::match_members(&[], &[], &[], &email);
    for f in findings {
        if matches!(
            f,
            sync_core::tenant::Finding::IntegrationUserLooksPersonal { .. }
        ) {
            s.say(format!("  warning: {f}"));
        }
    }
    Ok(Raynet {
        instance: name,
        user: email,
        api_key: key,
        base_url: args.raynet_base_url.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pasted_address_gives_the_instance() {
        for (text, want) in [
            ("acme", "acme"),
            (" acme/ ", "acme"),
            ("https://app.raynet.cz/talxis/?view=Helpboard", "talxis"),
            ("https://app.raynet.cz/talxis", "talxis"),
            ("app.raynet.cz/acme/?view=x", "acme"),
        ] {
            assert_eq!(instance_from(text).as_deref(), Ok(want), "{text}");
        }
        for bad in ["", "https://app.raynet.cz/", "ac me", "a?b"] {
            assert!(instance_from(bad).is_err(), "{bad}");
        }
    }
}
