//! The app's credentials the fake token endpoint knows besides its client secret: certificates
//! registered for a client id (Entra: App registrations → Certificates & secrets →
//! Certificates) and federated identity credentials (→ Federated credentials: an issuer, a
//! subject and an audience), with the `jti`s already used; and a generator of RSA
//! certificates for tests and the sandbox.

use std::collections::HashMap;

use crate::client::thumbprint;

/// The audience Entra proposes for a federated identity credential.
pub const FEDERATED_AUDIENCE: &str = "api://AzureADTokenExchange";

/// A federated identity credential: tokens issued by `issuer` about `subject` for `audience`
/// stand for the app. Real Entra finds the issuer's signing keys through its OpenID
/// discovery document; the fake is given the key (PEM: a certificate or a public key).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FederatedIdentityCredential {
    /// The token issuer (`iss`), e.g. a Kubernetes cluster's OIDC issuer URL.
    pub issuer: String,
    /// The subject (`sub`), e.g. `system:serviceaccount:sync:raynet-sync`.
    pub subject: String,
    /// The audience the tokens must carry (default [`FEDERATED_AUDIENCE`]).
    pub audience: String,
    /// The issuer's public key or certificate, PEM.
    pub issuer_key_pem: String,
}

impl FederatedIdentityCredential {
    /// A credential for `issuer` and `subject`, audience [`FEDERATED_AUDIENCE`].
    #[must_use]
    pub fn new(
        issuer: impl Into<String>,
        subject: impl Into<String>,
        issuer_key_pem: impl Into<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            subject: subject.into(),
            audience: FEDERATED_AUDIENCE.to_owned(),
            issuer_key_pem: issuer_key_pem.into(),
        }
    }

    /// Another audience.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }
}

/// A certificate uploaded for an app: its PEM and the thumbprints assertions name it by.
#[derive(Clone, Debug)]
pub(crate) struct RegisteredCertificate {
    pub(crate) client_id: String,
    pub(crate) pem: String,
    pub(crate) x5t: String,
    pub(crate) x5t_s256: String,
}

/// What the token endpoint knows of the apps' credentials.
#[derive(Debug, Default)]
pub(crate) struct AppCredentials {
    pub(crate) certificates: Vec<RegisteredCertificate>,
    pub(crate) federated: Vec<(String, FederatedIdentityCredential)>,
    /// `(client id, jti)` of accepted assertions → their `exp` (forgotten after it).
    pub(crate) used_jtis: HashMap<(String, String), i64>,
}

impl AppCredentials {
    /// Registers a certificate (PEM) for `client_id`; `false` when the text holds none.
    pub(crate) fn register_certificate(&mut self, client_id: &str, cert_pem: &str) -> bool {
        let Some(der) = pem::parse_many(cert_pem)
            .ok()
            .and_then(|blocks| blocks.into_iter().find(|b| b.tag() == "CERTIFICATE"))
            .map(pem::Pem::into_contents)
        else {
            return false;
        };
        self.certificates.push(RegisteredCertificate {
            client_id: client_id.to_owned(),
            pem: pem::encode(&pem::Pem::new("CERTIFICATE", der.clone())),
            x5t: thumbprint(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der),
            x5t_s256: thumbprint(&ring::digest::SHA256, &der),
        });
        true
    }

    /// Whether any credential is registered for `client_id`.
    pub(crate) fn knows(&self, client_id: &str) -> bool {
        self.certificates.iter().any(|c| c.client_id == client_id)
            || self.federated.iter().any(|(id, _)| id == client_id)
    }
}

/// A certificate and its private key, PEM (test material: the fake made both).
#[derive(Clone)]
pub struct GeneratedCertificate {
    /// The self-signed X.509 certificate (`-----BEGIN CERTIFICATE-----`): what is uploaded.
    pub certificate_pem: String,
    /// Its RSA private key, unencrypted PKCS#8 (`-----BEGIN PRIVATE KEY-----`).
    pub private_key_pem: String,
}

impl std::fmt::Debug for GeneratedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedCertificate")
            .field("certificate_pem", &self.certificate_pem)
            .field("private_key_pem", &"***")
            .finish()
    }
}

/// Makes a 2048-bit RSA key and a self-signed certificate for `common_name`, as `openssl req
/// -x509 -newkey rsa:2048` would.
///
/// # Errors
/// When key generation or signing fails (a bug).
pub fn generate_certificate(common_name: &str) -> Result<GeneratedCertificate, String> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .map_err(|e| format!("rsa key: {e}"))?;
    let key_pem = key
        .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| format!("rsa key pem: {e}"))?
        .to_string();
    let key_pair = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&key_pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(|e| format!("key pair: {e}"))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| format!("certificate params: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    let cert = params
        .self_signed(&key_pair)
        .map_err(|e| format!("certificate: {e}"))?;
    Ok(GeneratedCertificate {
        certificate_pem: cert.pem(),
        private_key_pem: key_pem,
    })
}
