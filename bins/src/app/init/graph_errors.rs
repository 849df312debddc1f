//! What a Graph error means for `init`'s answers: a refused credential names the key at fault,
//! a `403` the permission to add (with the consent link), a transport failure is a service
//! that cannot be reached.

use super::ask::Problem;

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
                    "check the tenant, the client id and the app's credential",
                )
            };
            let code = match aadsts(message) {
                Some(number) => format!("{code}, {number}"),
                None => code.clone(),
            };
            Problem::answer(
                hint.0,
                format!(
                    "Microsoft refused the app's credentials ({code}): {}",
                    hint.1
                ),
            )
        }
        E::Credential { .. } => Problem::answer(
            "tenant[0].microsoft.client_secret",
            format!("the app's credential cannot be used: {e}"),
        ),
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

/// The identity platform's error number in `message` (`AADSTS700027`), if any.
fn aadsts(message: &str) -> Option<&str> {
    let at = message.find("AADSTS")?;
    let rest = &message[at..];
    let end = rest[6..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(rest.len(), |e| e + 6);
    (end > 6).then(|| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_number_is_found_in_the_description() {
        assert_eq!(
            aadsts("AADSTS700027: The certificate ... not registered"),
            Some("AADSTS700027")
        );
        assert_eq!(aadsts("AADSTS7000215"), Some("AADSTS7000215"));
        assert_eq!(aadsts("AADSTS: none"), None);
        assert_eq!(aadsts("nothing"), None);
    }
}
