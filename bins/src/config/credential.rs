//! The Microsoft credential of a tenant: exactly one of
//!
//! ```toml
//! client_secret = { env = "MS_CLIENT_SECRET" }
//! certificate = { path = "app.pem" }                               # certificate and key in one file
//! certificate = { path = "app.crt", key = { file = "app.key" } }   # key: a secret reference
//! certificate = { pkcs12 = "app.pfx", password = { env = "PFX_PASSWORD" } }
//! federated = {}                                # the file named by AZURE_FEDERATED_TOKEN_FILE
//! federated = { token_file = "/var/run/secrets/azure/tokens/azure-identity-token" }
//! ```
//!
//! A certificate is loaded (and its key checked against it) when the config is; a federated
//! token file is only located (it is read for each token request, the platform rotates it).
//! Every error names the key; none quotes a key, a password or a token.

use std::path::PathBuf;

use graph_client::{
    AssertionAlgorithm, CertificateCredential, ClientCredential, CredentialProblem,
    FederatedCredential,
};

use super::error::ConfigError;
use super::raw::{RawCertificate, RawFederated, SecretSource};
use super::resolve::Resolver;

/// The environment variable `federated = {}` reads the token file's path from.
const TOKEN_FILE_VAR: &str = "AZURE_FEDERATED_TOKEN_FILE";

impl Resolver<'_> {
    /// `[tenant.microsoft]`'s credential, from its three optional keys (exactly one given).
    pub(super) fn credential(
        &self,
        prefix: &str,
        client_secret: Option<SecretSource>,
        certificate: Option<RawCertificate>,
        federated: Option<RawFederated>,
    ) -> Result<ClientCredential, ConfigError> {
        let given: Vec<&str> = [
            client_secret.as_ref().map(|_| "client_secret"),
            certificate.as_ref().map(|_| "certificate"),
            federated.as_ref().map(|_| "federated"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if given.len() > 1 {
            return Err(self.invalid(
                format!("{prefix}.{}", given[1]),
                format!(
                    "give only one credential: {} are both set (client_secret, certificate or \
                     federated)",
                    given.join(" and ")
                ),
            ));
        }
        match (client_secret, certificate, federated) {
            (Some(secret), _, _) => Ok(ClientCredential::Secret(
                self.secret(&format!("{prefix}.client_secret"), secret)?,
            )),
            (None, Some(cert), _) => Ok(ClientCredential::Certificate(
                self.certificate(&format!("{prefix}.certificate"), cert)?,
            )),
            (None, None, Some(fed)) => Ok(ClientCredential::Federated(
                self.federated(&format!("{prefix}.federated"), fed)?,
            )),
            (None, None, None) => Err(self.invalid(
                format!("{prefix}.client_secret"),
                "missing key: give the app's credential, one of client_secret = { env = \"NAME\" }, \
                 certificate = { path = \"app.pem\" } or federated = {} (see the README)",
            )),
        }
    }

    fn certificate(
        &self,
        key: &str,
        c: RawCertificate,
    ) -> Result<CertificateCredential, ConfigError> {
        let algorithm = match c.algorithm.as_deref().map(str::trim) {
            None => AssertionAlgorithm::Ps256,
            Some(a) if a.eq_ignore_ascii_case("PS256") => AssertionAlgorithm::Ps256,
            Some(a) if a.eq_ignore_ascii_case("RS256") => AssertionAlgorithm::Rs256,
            Some(_) => {
                return Err(self.invalid(
                    format!("{key}.algorithm"),
                    "must be \"PS256\" (the default) or \"RS256\"",
                ));
            }
        };
        let credential = match (c.path, c.pkcs12) {
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    format!("{key}.pkcs12"),
                    "give either path (a PEM certificate) or pkcs12 (a .pfx file), not both",
                ));
            }
            (Some(path), None) => {
                if c.password.is_some() {
                    return Err(self.invalid(
                        format!("{key}.password"),
                        "a password goes with pkcs12 only (a PEM key must be unencrypted)",
                    ));
                }
                let path = self.base_dir.join(path);
                let cert_pem = self.read(&format!("{key}.path"), &path)?;
                match c.key {
                    Some(source) => {
                        let key_key = format!("{key}.key");
                        let key_pem = self.secret(&key_key, source)?;
                        CertificateCredential::from_pem(&cert_pem, key_pem.expose().as_bytes())
                            .map_err(|e| self.credential_error(&key_key, &path, &e))?
                    }
                    None => CertificateCredential::from_pem(&cert_pem, &cert_pem).map_err(|e| {
                        let at = match e.credential_problem() {
                            Some(CredentialProblem::NoPrivateKey) => format!("{key}.key"),
                            _ => format!("{key}.path"),
                        };
                        self.credential_error(&at, &path, &e)
                    })?,
                }
            }
            (None, Some(pkcs12)) => {
                if c.key.is_some() {
                    return Err(self.invalid(
                        format!("{key}.key"),
                        "a PKCS#12 file holds its key: remove key, or use path for PEM files",
                    ));
                }
                let path = self.base_dir.join(pkcs12);
                let data = self.read(&format!("{key}.pkcs12"), &path)?;
                let password = match c.password {
                    Some(source) => self.secret(&format!("{key}.password"), source)?,
                    None => sync_secret::Secret::default(),
                };
                CertificateCredential::from_pkcs12(&data, &password).map_err(|e| {
                    let at = match e.credential_problem() {
                        Some(CredentialProblem::BadPkcs12) => format!("{key}.password"),
                        _ => format!("{key}.pkcs12"),
                    };
                    self.credential_error(&at, &path, &e)
                })?
            }
            (None, None) => {
                return Err(self.invalid(
                    format!("{key}.path"),
                    "missing key: give path = \"app.pem\" (a PEM certificate, with key = { file = \
                     \"app.key\" } unless the file holds the key) or pkcs12 = \"app.pfx\"",
                ));
            }
        };
        Ok(credential.with_algorithm(algorithm))
    }

    fn federated(&self, key: &str, f: RawFederated) -> Result<FederatedCredential, ConfigError> {
        let path = match f.token_file {
            Some(p) if p.as_os_str().is_empty() => {
                return Err(self.invalid(
                    format!("{key}.token_file"),
                    "is empty: give the token file's path, or leave it out to use \
                     AZURE_FEDERATED_TOKEN_FILE",
                ));
            }
            Some(p) => self.base_dir.join(p),
            None => match (self.env)(TOKEN_FILE_VAR) {
                Ok(p) if !p.trim().is_empty() => PathBuf::from(p.trim()),
                Ok(_) => {
                    return Err(ConfigError::SecretEnv {
                        file: self.file.to_owned(),
                        key: format!("{key}.token_file"),
                        var: TOKEN_FILE_VAR.to_owned(),
                        reason: "is empty",
                    });
                }
                Err(_) => {
                    return Err(ConfigError::SecretEnv {
                        file: self.file.to_owned(),
                        key: format!("{key}.token_file"),
                        var: TOKEN_FILE_VAR.to_owned(),
                        reason: "is not set (set it, or give token_file)",
                    });
                }
            },
        };
        Ok(FederatedCredential::new(path))
    }

    /// A credential file's bytes; the error names the key and the file.
    fn read(&self, key: &str, path: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
        std::fs::read(path).map_err(|source| ConfigError::SecretFile {
            file: self.file.to_owned(),
            key: key.to_owned(),
            path: path.to_owned(),
            source,
        })
    }

    /// A credential that does not load, as a config error of `at` (the problem's words only).
    fn credential_error(
        &self,
        at: &str,
        path: &std::path::Path,
        error: &graph_client::Error,
    ) -> ConfigError {
        let problem = error.credential_problem().map_or_else(
            || "the credential cannot be used".to_owned(),
            |p| p.to_string(),
        );
        self.invalid(at, format!("{problem} ({})", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::OnceLock;

    use graph_client::ClientCredential;
    use graph_client::fake::{GeneratedCertificate, generate_certificate};

    use crate::config::{Config, ConfigError};
    use crate::testutil::TempDir;

    fn certs() -> &'static (GeneratedCertificate, GeneratedCertificate) {
        static CERTS: OnceLock<(GeneratedCertificate, GeneratedCertificate)> = OnceLock::new();
        CERTS.get_or_init(|| {
            (
                generate_certificate("app").expect("certificate"),
                generate_certificate("other").expect("certificate"),
            )
        })
    }

    fn with_credential(lines: &str) -> String {
        format!(
            r#"
[[tenant]]
name = "acme"
[tenant.raynet]
instance = "acme"
user = "integration@acme.example"
api_key = {{ env = "API_KEY" }}
[tenant.microsoft]
tenant_id = "acme.onmicrosoft.com"
client_id = "00000000-0000-4000-8000-000000000000"
group = "Raynet sync"
{lines}
"#
        )
    }

    fn load(dir: &Path, lines: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain([("API_KEY".to_owned(), "rk-1".to_owned())])
            .collect();
        let env = move |name: &str| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .ok_or(std::env::VarError::NotPresent)
        };
        Config::from_toml(&with_credential(lines), &dir.join("c.toml"), &env)
    }

    fn refused(dir: &Path, lines: &str, vars: &[(&str, &str)]) -> ConfigError {
        match load(dir, lines, vars) {
            Ok(_) => panic!("refused: {lines}"),
            Err(e) => e,
        }
    }

    fn assert_no_key(text: &str) {
        let (app, other) = certs();
        for key in [&app.private_key_pem, &other.private_key_pem] {
            for line in key.lines().filter(|l| !l.starts_with("-----")).take(5) {
                assert!(!text.contains(line), "key material in: {text}");
            }
        }
    }

    #[test]
    fn each_kind_loads_and_exactly_one_is_allowed() {
        let tmp = TempDir::new("cfg-cred");
        let dir = tmp.path();
        let (app, _) = certs();
        std::fs::write(dir.join("app.crt"), &app.certificate_pem).unwrap();
        std::fs::write(dir.join("app.key"), &app.private_key_pem).unwrap();
        std::fs::write(
            dir.join("app.pem"),
            format!("{}{}", app.certificate_pem, app.private_key_pem),
        )
        .unwrap();

        let c = load(dir, "client_secret = { env = \"S\" }", &[("S", "cs-1")]).unwrap();
        assert_eq!(
            c.tenants[0].microsoft.client_secret().unwrap().expose(),
            "cs-1"
        );

        for lines in [
            "certificate = { path = \"app.crt\", key = { file = \"app.key\" } }",
            "certificate = { path = \"app.pem\" }",
            "certificate = { path = \"app.pem\", algorithm = \"RS256\" }",
        ] {
            let c = load(dir, lines, &[]).unwrap();
            let ms = &c.tenants[0].microsoft;
            assert!(
                matches!(ms.credential, ClientCredential::Certificate(_)),
                "{lines}"
            );
            assert!(ms.client_secret().is_none());
            assert_no_key(&format!("{c:?}"));
        }
        // The key from the environment (PEM text in a variable).
        let c = load(
            dir,
            "certificate = { path = \"app.crt\", key = { env = \"KEY\" } }",
            &[("KEY", app.private_key_pem.as_str())],
        )
        .unwrap();
        assert!(matches!(
            c.tenants[0].microsoft.credential,
            ClientCredential::Certificate(_)
        ));

        let c = load(dir, "federated = { token_file = \"token\" }", &[]).unwrap();
        match &c.tenants[0].microsoft.credential {
            ClientCredential::Federated(f) => assert_eq!(f.path(), dir.join("token")),
            other => panic!("{other:?}"),
        }
        let c = load(
            dir,
            "federated = {}",
            &[("AZURE_FEDERATED_TOKEN_FILE", "/var/run/azure/token")],
        )
        .unwrap();
        match &c.tenants[0].microsoft.credential {
            ClientCredential::Federated(f) => {
                assert_eq!(f.path(), Path::new("/var/run/azure/token"));
            }
            other => panic!("{other:?}"),
        }

        let e = refused(dir, "", &[]);
        assert_eq!(e.key(), Some("tenant[0].microsoft.client_secret"));
        assert!(e.to_string().contains("certificate"), "{e}");
        let e = refused(
            dir,
            "client_secret = \"x-LITERAL-9\"\ncertificate = { path = \"app.pem\" }",
            &[],
        );
        assert_eq!(e.key(), Some("tenant[0].microsoft.certificate"));
        assert!(e.to_string().contains("only one"), "{e}");
        assert!(!e.to_string().contains("x-LITERAL-9"), "{e}");
        let e = refused(
            dir,
            "certificate = { path = \"app.pem\" }\nfederated = {}",
            &[],
        );
        assert_eq!(e.key(), Some("tenant[0].microsoft.federated"));
    }

    /// The credential's lines, the key the error names, the environment.
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

    #[test]
    fn every_credential_error_names_its_key_and_never_the_key_material() {
        let tmp = TempDir::new("cfg-cred-err");
        let dir = tmp.path();
        let (app, other) = certs();
        std::fs::write(dir.join("app.crt"), &app.certificate_pem).unwrap();
        std::fs::write(dir.join("other.key"), &other.private_key_pem).unwrap();
        let cases: &[Case] = &[
            (
                "certificate = { path = \"missing.crt\", key = { file = \"other.key\" } }",
                "tenant[0].microsoft.certificate.path",
                &[],
            ),
            (
                "certificate = { path = \"app.crt\", key = { file = \"other.key\" } }",
                "tenant[0].microsoft.certificate.key",
                &[],
            ),
            (
                "certificate = { path = \"app.crt\" }",
                "tenant[0].microsoft.certificate.key",
                &[],
            ),
            (
                "certificate = { path = \"other.key\", key = { file = \"other.key\" } }",
                "tenant[0].microsoft.certificate.key",
                &[],
            ),
            (
                "certificate = { key = { file = \"other.key\" } }",
                "tenant[0].microsoft.certificate.path",
                &[],
            ),
            (
                "certificate = { path = \"app.crt\", algorithm = \"HS256\" }",
                "tenant[0].microsoft.certificate.algorithm",
                &[],
            ),
            (
                "certificate = { pkcs12 = \"app.crt\", password = { env = \"PW\" } }",
                "tenant[0].microsoft.certificate.password",
                &[("PW", "pw-SECRET-3")],
            ),
            (
                "certificate = { pkcs12 = \"app.pfx\", path = \"app.crt\" }",
                "tenant[0].microsoft.certificate.pkcs12",
                &[],
            ),
            (
                "certificate = { path = \"app.crt\", nope = 1 }",
                "tenant[0].microsoft.certificate.nope",
                &[],
            ),
            (
                "federated = {}",
                "tenant[0].microsoft.federated.token_file",
                &[],
            ),
            (
                "federated = { token_file = \"\" }",
                "tenant[0].microsoft.federated.token_file",
                &[],
            ),
        ];
        for (lines, key, vars) in cases {
            let e = refused(dir, lines, vars);
            assert_eq!(e.key(), Some(*key), "{lines}: {e}");
            let shown = format!("{e} {e:?}");
            assert_no_key(&shown);
            assert!(!shown.contains("pw-SECRET-3"), "{shown}");
        }
        // The mismatch says so, and names the file.
        let e = refused(
            dir,
            "certificate = { path = \"app.crt\", key = { file = \"other.key\" } }",
            &[],
        );
        assert!(
            e.to_string().contains("does not belong to the certificate"),
            "{e}"
        );
        let e = refused(dir, "federated = {}", &[]);
        assert!(e.to_string().contains("AZURE_FEDERATED_TOKEN_FILE"), "{e}");
    }
}
