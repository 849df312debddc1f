//! Step 1's credential: how the app signs in — a client secret (the default), a certificate
//! (PEM files, or a PKCS#12 file and its password) or a federated token file. A certificate is
//! loaded at once and its thumbprint shown; a token file must exist. What the identity
//! platform says of the credential is mapped to the answer at fault ([`blame`]).

use std::path::{Path, PathBuf};

use graph_client::{
    CertificateCredential, ClientCredential, CredentialProblem, FederatedCredential,
};

use super::ask::{Problem, Question, Session};
use crate::cli::InitArgs;
use crate::config::Secret;

const KIND: Question = Question {
    label: "How the app signs in",
    key: "tenant[0].microsoft",
    flag: Some("--credential"),
    env: "RAYNET_SYNC_CREDENTIAL",
};
/// The client secret's question (read from its variable, never a flag).
pub(super) const CLIENT_SECRET: Question = Question {
    label: "App's client secret",
    key: "tenant[0].microsoft.client_secret",
    flag: None,
    env: "RAYNET_SYNC_CLIENT_SECRET",
};
const CERTIFICATE: Question = Question {
    label: "Certificate file (PEM, which may hold the key too; or a PKCS#12 .pfx/.p12 file)",
    key: "tenant[0].microsoft.certificate.path",
    flag: Some("--certificate"),
    env: "RAYNET_SYNC_CERTIFICATE",
};
const CERTIFICATE_KEY: Question = Question {
    label: "The certificate's private key file (PEM, unencrypted)",
    key: "tenant[0].microsoft.certificate.key",
    flag: Some("--certificate-key"),
    env: "RAYNET_SYNC_CERTIFICATE_KEY",
};
const PKCS12: Question = Question {
    label: "PKCS#12 (.pfx) file",
    key: "tenant[0].microsoft.certificate.pkcs12",
    flag: Some("--pkcs12"),
    env: "RAYNET_SYNC_PKCS12",
};
/// The PKCS#12 file's password's question (read from its variable, never a flag).
pub(super) const PKCS12_PASSWORD: Question = Question {
    label: "The PKCS#12 file's password",
    key: "tenant[0].microsoft.certificate.password",
    flag: None,
    env: "RAYNET_SYNC_PKCS12_PASSWORD",
};
const TOKEN_FILE: Question = Question {
    label: "Federated token file (the file the platform writes and rotates)",
    key: "tenant[0].microsoft.federated.token_file",
    flag: Some("--federated-token-file"),
    env: "RAYNET_SYNC_FEDERATED_TOKEN_FILE",
};

/// The variable a workload platform names its token file in (the default answer).
const TOKEN_FILE_VAR: &str = "AZURE_FEDERATED_TOKEN_FILE";

/// The kinds, with one sentence each (the first is the default).
const KINDS: [(&str, &str); 3] = [
    (
        "secret",
        "a client secret (Certificates & secrets -> Client secrets)",
    ),
    (
        "certificate",
        "a certificate whose public part is uploaded to the app (no secret shared)",
    ),
    (
        "federated",
        "a federated token file a workload platform (Kubernetes, another cloud) rotates",
    ),
];

/// The credential's answers so far (given ones first, then what was typed): asked again as
/// defaults when the step is tried again.
#[derive(Default)]
pub(super) struct Given {
    kind: Option<String>,
    secret: Option<Secret>,
    certificate: Option<String>,
    /// `--pkcs12`'s file: read as PKCS#12 whatever its name.
    pkcs12: Option<String>,
    key: Option<String>,
    password: Option<Secret>,
    token_file: Option<String>,
}

impl Given {
    /// The flags and variables: a kind is implied by the answers given for it.
    pub(super) fn of(
        args: &InitArgs,
        secret: Option<&Secret>,
        pkcs12_password: Option<&Secret>,
    ) -> Self {
        let text = |p: Option<&PathBuf>| p.map(|p| p.to_string_lossy().into_owned());
        let kind = args.credential.clone().or_else(|| {
            if args.certificate.is_some() || args.pkcs12.is_some() {
                Some("certificate".into())
            } else if args.federated_token_file.is_some() {
                Some("federated".into())
            } else {
                secret.map(|_| "secret".into())
            }
        });
        Self {
            kind,
            secret: secret.cloned(),
            certificate: text(args.pkcs12.as_ref()).or_else(|| text(args.certificate.as_ref())),
            pkcs12: text(args.pkcs12.as_ref()),
            key: text(args.certificate_key.as_ref()),
            password: pkcs12_password.cloned(),
            token_file: text(args.federated_token_file.as_ref()),
        }
    }
}

/// The credential answered, as the config will name it.
pub(super) enum Chosen {
    /// `client_secret = { env = … }`.
    Secret(Secret),
    /// `certificate = { path, key = { file } }`, or `{ path }` when the file holds the key.
    Pem {
        certificate: PathBuf,
        key: Option<PathBuf>,
        thumbprint: String,
    },
    /// `certificate = { pkcs12, password = { env = … } }`.
    Pkcs12 {
        file: PathBuf,
        password: Secret,
        thumbprint: String,
    },
    /// `federated = { token_file }`.
    Federated { token_file: PathBuf },
}

impl Chosen {
    /// The config key of the credential (named when the identity platform refuses it).
    pub(super) fn key(&self) -> &'static str {
        match self {
            Self::Secret(_) => CLIENT_SECRET.key,
            Self::Pem { .. } => "tenant[0].microsoft.certificate",
            Self::Pkcs12 { .. } => PKCS12.key,
            Self::Federated { .. } => TOKEN_FILE.key,
        }
    }

    /// The secret that goes to the secrets file, if any: the client secret or the PKCS#12
    /// password.
    pub(super) fn secret(&self) -> Option<&Secret> {
        match self {
            Self::Secret(s) => Some(s),
            Self::Pkcs12 { password, .. } => Some(password),
            Self::Pem { .. } | Self::Federated { .. } => None,
        }
    }

    /// The certificate's SHA-1 thumbprint, for a certificate.
    pub(super) fn thumbprint(&self) -> Option<&str> {
        match self {
            Self::Pem { thumbprint, .. } | Self::Pkcs12 { thumbprint, .. } => Some(thumbprint),
            Self::Secret(_) | Self::Federated { .. } => None,
        }
    }
}

/// Asks for the credential and loads it: the answer, and the credential the Graph client uses.
pub(super) fn credential(
    s: &mut Session<'_>,
    given: &mut Given,
) -> Result<(Chosen, ClientCredential), Problem> {
    let default = given.kind.clone().unwrap_or_else(|| KINDS[0].0.to_owned());
    let kind = s.choose(&KIND, given.kind.as_deref(), &KINDS, &default)?;
    given.kind = Some(kind.clone());
    match kind.as_str() {
        "certificate" => certificate(s, given),
        "federated" => federated(s, given),
        _ => {
            let secret = s.secret(&CLIENT_SECRET, given.secret.as_ref())?;
            given.secret = Some(secret.clone());
            let credential = ClientCredential::Secret(secret.clone());
            Ok((Chosen::Secret(secret), credential))
        }
    }
}

/// An answer's path, absolute (the config resolves relative paths against its own folder).
fn absolute(answer: &str, key: &'static str) -> Result<PathBuf, Problem> {
    std::path::absolute(answer)
        .map_err(|e| Problem::answer(key, format!("cannot use the path {answer:?}: {e}")))
}

fn is_pkcs12(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pfx") || e.eq_ignore_ascii_case("p12"))
}

fn certificate(
    s: &mut Session<'_>,
    given: &mut Given,
) -> Result<(Chosen, ClientCredential), Problem> {
    let answer = s.text(&CERTIFICATE, given.certificate.as_deref(), None)?;
    given.certificate = Some(answer.clone());
    let path = absolute(&answer, CERTIFICATE.key)?;
    let (chosen, loaded) = if is_pkcs12(&path) || given.pkcs12.as_deref() == Some(answer.as_str()) {
        let password = s.secret(&PKCS12_PASSWORD, given.password.as_ref())?;
        given.password = Some(password.clone());
        let loaded = CertificateCredential::from_pkcs12_file(&path, &password).map_err(|e| {
            let key = match e.credential_problem() {
                Some(CredentialProblem::BadPkcs12) => PKCS12_PASSWORD.key,
                _ => PKCS12.key,
            };
            Problem::answer(key, format!("the PKCS#12 file cannot be used: {e}"))
        })?;
        let thumbprint = loaded.thumbprint_hex();
        let chosen = Chosen::Pkcs12 {
            file: path,
            password,
            thumbprint,
        };
        (chosen, loaded)
    } else {
        match CertificateCredential::from_pem_files(&path, &path) {
            Ok(loaded) => {
                s.say("  (the certificate file holds its key)");
                let thumbprint = loaded.thumbprint_hex();
                let chosen = Chosen::Pem {
                    certificate: path,
                    key: None,
                    thumbprint,
                };
                (chosen, loaded)
            }
            Err(e) if e.credential_problem() == Some(CredentialProblem::NoPrivateKey) => {
                let key_answer = s.text(&CERTIFICATE_KEY, given.key.as_deref(), None)?;
                given.key = Some(key_answer.clone());
                let key = absolute(&key_answer, CERTIFICATE_KEY.key)?;
                let loaded = CertificateCredential::from_pem_files(&path, &key).map_err(|e| {
                    let at = match e {
                        graph_client::Error::Credential {
                            path: Some(ref p), ..
                        } if *p == path => CERTIFICATE.key,
                        _ => CERTIFICATE_KEY.key,
                    };
                    Problem::answer(at, format!("the certificate cannot be used: {e}"))
                })?;
                let thumbprint = loaded.thumbprint_hex();
                let chosen = Chosen::Pem {
                    certificate: path,
                    key: Some(key),
                    thumbprint,
                };
                (chosen, loaded)
            }
            Err(e) => {
                return Err(Problem::answer(
                    CERTIFICATE.key,
                    format!("the certificate cannot be used: {e}"),
                ));
            }
        }
    };
    s.say(format!(
        "  The certificate's thumbprint (SHA-1): {} — the app's list under App registrations -> \
         Certificates & secrets -> Certificates must show it",
        chosen.thumbprint().unwrap_or_default()
    ));
    Ok((chosen, ClientCredential::Certificate(loaded)))
}

fn federated(
    s: &mut Session<'_>,
    given: &mut Given,
) -> Result<(Chosen, ClientCredential), Problem> {
    let from_env = std::env::var(TOKEN_FILE_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let answer = s.text(
        &TOKEN_FILE,
        given.token_file.as_deref(),
        from_env.as_deref(),
    )?;
    given.token_file = Some(answer.clone());
    let path = absolute(&answer, TOKEN_FILE.key)?;
    if !path.is_file() {
        return Err(Problem::answer(
            TOKEN_FILE.key,
            format!("there is no token file at {}", path.display()),
        ));
    }
    s.say(
        "  The app's federated credential (App registrations -> Certificates & secrets -> \
         Federated credentials) must name the token's issuer and subject, with the audience \
         api://AzureADTokenExchange",
    );
    let credential = ClientCredential::Federated(FederatedCredential::new(path.clone()));
    Ok((Chosen::Federated { token_file: path }, credential))
}

/// A refusal of the app's credential ([`Problem::Answer`] of `client_secret`, as
/// `graph_problem` names it) named at `chosen`'s key instead, and said as what to fix for a
/// certificate or a federated token.
pub(super) fn blame(problem: Problem, chosen: &Chosen) -> Problem {
    let Problem::Answer { key, message } = problem else {
        return problem;
    };
    if key != CLIENT_SECRET.key {
        return Problem::Answer { key, message };
    }
    let code = |c: &str| message.contains(&format!("AADSTS{c})"));
    let hint = match chosen {
        Chosen::Secret(_) => None,
        Chosen::Pem { .. } | Chosen::Pkcs12 { .. } if code("700027") => Some(format!(
            "the certificate (thumbprint {}) is not registered for the app: upload the \
             certificate (the public part, never the key) under App registrations -> \
             Certificates & secrets -> Certificates, then try again",
            chosen.thumbprint().unwrap_or_default()
        )),
        Chosen::Federated { .. } if code("700211") => Some(
            "no federated credential of the app has the token's issuer: check Issuer under App \
             registrations -> Certificates & secrets -> Federated credentials"
                .to_owned(),
        ),
        Chosen::Federated { .. } if code("700213") => Some(
            "the federated credential with the token's issuer has another subject: check \
             Subject identifier under App registrations -> Certificates & secrets -> Federated \
             credentials"
                .to_owned(),
        ),
        Chosen::Federated { .. } if code("700212") => Some(
            "the token's audience is not the federated credential's: it must be \
             api://AzureADTokenExchange on both sides"
                .to_owned(),
        ),
        Chosen::Federated { .. } if code("700027") => Some(
            "the token is not signed by the key of the issuer the federated credential names"
                .to_owned(),
        ),
        Chosen::Federated { .. } if code("700024") => {
            Some("the token in the file has expired: is the platform still rotating it?".to_owned())
        }
        _ => Some("check the tenant, the client id and the app's credential".to_owned()),
    };
    match hint {
        None => Problem::Answer { key, message },
        Some(hint) => Problem::Answer {
            key: chosen.key(),
            message: format!("Microsoft refused the app's credential: {hint}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(number: &str) -> Problem {
        Problem::answer(
            CLIENT_SECRET.key,
            format!(
                "Microsoft refused the app's credentials (invalid_request, AADSTS{number}): \
                 check the tenant, the client id and the app's credential"
            ),
        )
    }

    fn said(p: Problem) -> (&'static str, String) {
        match p {
            Problem::Answer { key, message } => (key, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_refused_federated_token_names_what_does_not_match() {
        let federated = Chosen::Federated {
            token_file: "/var/run/token".into(),
        };
        for (number, words) in [
            ("700211", "issuer"),
            ("700213", "subject"),
            ("700212", "audience"),
            ("700024", "expired"),
        ] {
            let (key, message) = said(blame(refused(number), &federated));
            assert_eq!(key, TOKEN_FILE.key, "{number}");
            assert!(message.contains(words), "{number}: {message}");
        }
        // A secret keeps the words graph_problem chose; another key than the credential's
        // (an unknown client id) is left alone.
        let secret = Chosen::Secret(Secret::new("s"));
        let (key, message) = said(blame(refused("7000215"), &secret));
        assert_eq!(key, CLIENT_SECRET.key);
        assert!(message.contains("AADSTS7000215"), "{message}");
        let other = Problem::answer("tenant[0].microsoft.client_id", "no app");
        let (key, _) = said(blame(other, &federated));
        assert_eq!(key, "tenant[0].microsoft.client_id");
    }
}
