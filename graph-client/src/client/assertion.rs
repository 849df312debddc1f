//! Certificate credentials: a client assertion (a JWT signed with the app's certificate key) as
//! the Microsoft identity platform documents it ("certificate credentials"): header `alg`
//! `PS256` with `x5t#S256` (the current page) or `RS256` with `x5t` (the older one), `typ`
//! `JWT`; claims `aud` = the token endpoint URL, `iss` = `sub` = the client id, a unique `jti`,
//! `nbf` = `iat` = now and a short `exp`.
//!
//! The certificate and its key come from PEM text (the certificate, and an unencrypted PKCS#8
//! or PKCS#1 RSA key; one file may hold both) or from a PKCS#12 (`.pfx`) file and its password.
//! Loading checks that the key belongs to the certificate. The key never leaves this type:
//! `Debug` prints the thumbprint only.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::Serialize;
use sync_secret::Secret;

use super::error::{CredentialProblem, Error, Result};

/// `client_assertion_type` of a JWT client assertion (RFC 7523).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid: short, as the identity platform recommends.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// The signature of the assertion, and the thumbprint its header names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AssertionAlgorithm {
    /// RSASSA-PSS with SHA-256, the certificate named by `x5t#S256` (the current documentation).
    #[default]
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, the certificate named by `x5t` (SHA-1; the older page).
    Rs256,
}

/// A certificate and its private key: signs a fresh client assertion for each token request.
#[derive(Clone)]
pub struct CertificateCredential {
    key: EncodingKey,
    x5t: String,
    x5t_s256: String,
    algorithm: AssertionAlgorithm,
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("x5t#S256", &self.x5t_s256)
            .field("algorithm", &self.algorithm)
            .field("key", &"***")
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: u64,
    iat: u64,
    exp: u64,
}

fn problem(problem: CredentialProblem) -> Error {
    Error::Credential {
        problem,
        path: None,
        source: None,
    }
}

/// The error with `path` named (unless it already names a file).
fn at(path: &Path) -> impl FnOnce(Error) -> Error + '_ {
    move |e| match e {
        Error::Credential {
            problem,
            path: None,
            source,
        } => Error::Credential {
            problem,
            path: Some(path.to_owned()),
            source,
        },
        other => other,
    }
}

/// Reads a credential file; the error names it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Credential {
        problem: CredentialProblem::Unreadable,
        path: Some(path.to_owned()),
        source: Some(source),
    })
}

impl CertificateCredential {
    /// From PEM text: the certificate (`cert_pem`: its first `CERTIFICATE` block, the leaf) and
    /// its unencrypted RSA key (`key_pem`: a `PRIVATE KEY` or `RSA PRIVATE KEY` block). One
    /// text may hold both; pass it twice.
    ///
    /// # Errors
    /// [`Error::Credential`]: not PEM, no certificate or key, an encrypted or non-RSA key, or a
    /// key that is not the certificate's.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self> {
        let cert_der = certificate_block(cert_pem)?;
        let key_block = key_block(key_pem)?;
        Self::from_der_parts(&cert_der, &key_block)
    }

    /// From PEM files (the same path twice when one file holds both); errors name the file.
    ///
    /// # Errors
    /// As [`CertificateCredential::from_pem`], and a file that cannot be read.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self> {
        let cert_text = read_file(cert)?;
        let cert_der = certificate_block(&cert_text).map_err(at(cert))?;
        let key_text = read_file(key)?;
        let key_block = key_block(&key_text).map_err(at(key))?;
        Self::from_der_parts(&cert_der, &key_block).map_err(at(key))
    }

    /// From a PKCS#12 (`.pfx`) archive and its password: its private key and that key's
    /// certificate.
    ///
    /// # Errors
    /// [`Error::Credential`]: a wrong password or damaged file, no key with a certificate, a
    /// non-RSA key.
    pub fn from_pkcs12(data: &[u8], password: &Secret) -> Result<Self> {
        let store = p12_keystore::KeyStore::from_pkcs12(
            data,
            password.expose(),
            p12_keystore::Pkcs12ImportPolicy::Strict,
        )
        .map_err(|_| problem(CredentialProblem::BadPkcs12))?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| problem(CredentialProblem::Pkcs12WithoutKey))?;
        let cert = chain
            .certs()
            .first()
            .ok_or_else(|| problem(CredentialProblem::Pkcs12WithoutKey))?;
        let key = pem::Pem::new("PRIVATE KEY", chain.key().as_der().to_vec());
        Self::from_der_parts(cert.as_der(), &key)
    }

    /// From a PKCS#12 file; errors name the file.
    ///
    /// # Errors
    /// As [`CertificateCredential::from_pkcs12`], and a file that cannot be read.
    pub fn from_pkcs12_file(path: &Path, password: &Secret) -> Result<Self> {
        let data = read_file(path)?;
        Self::from_pkcs12(&data, password).map_err(at(path))
    }

    fn from_der_parts(cert_der: &[u8], key: &pem::Pem) -> Result<Self> {
        let key = EncodingKey::from_rsa_pem(pem::encode(key).as_bytes())
            .map_err(|_| problem(CredentialProblem::NotRsaKey))?;
        let cert_pem = pem::encode(&pem::Pem::new("CERTIFICATE", cert_der.to_vec()));
        let public = DecodingKey::from_rsa_pem(cert_pem.as_bytes())
            .map_err(|_| problem(CredentialProblem::BadCertificate))?;
        // The key belongs to the certificate when the certificate's public key verifies what
        // the key signed.
        let probe = b"raynet-sync: does this key belong to the certificate?";
        let signature = jsonwebtoken::crypto::sign(probe, &key, Algorithm::RS256)
            .map_err(|_| problem(CredentialProblem::NotRsaKey))?;
        let matches = jsonwebtoken::crypto::verify(&signature, probe, &public, Algorithm::RS256)
            .unwrap_or(false);
        if !matches {
            return Err(problem(CredentialProblem::KeyDoesNotMatchCertificate));
        }
        Ok(Self {
            key,
            x5t: thumbprint(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der),
            x5t_s256: thumbprint(&ring::digest::SHA256, cert_der),
            algorithm: AssertionAlgorithm::default(),
        })
    }

    /// Signs with `algorithm` instead of the default [`AssertionAlgorithm::Ps256`].
    #[must_use]
    pub fn with_algorithm(mut self, algorithm: AssertionAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The certificate's SHA-1 thumbprint in upper-case hex, as Entra's "Certificates &
    /// secrets" page shows it.
    #[must_use]
    pub fn thumbprint_hex(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.x5t)
            .unwrap_or_default()
            .iter()
            .fold(String::new(), |mut out, b| {
                let _ = write!(out, "{b:02X}");
                out
            })
    }

    /// The certificate's base64url SHA-256 thumbprint (`x5t#S256`).
    #[must_use]
    pub fn thumbprint_sha256(&self) -> &str {
        &self.x5t_s256
    }

    /// A fresh assertion for the token endpoint `audience`, issued by and about `client_id`,
    /// valid from now for [`ASSERTION_LIFETIME`].
    pub(crate) fn assertion(&self, audience: &str, client_id: &str) -> Result<Secret> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut header = match self.algorithm {
            AssertionAlgorithm::Ps256 => {
                let mut h = Header::new(Algorithm::PS256);
                h.x5t_s256 = Some(self.x5t_s256.clone());
                h
            }
            AssertionAlgorithm::Rs256 => {
                let mut h = Header::new(Algorithm::RS256);
                h.x5t = Some(self.x5t.clone());
                h
            }
        };
        header.typ = Some("JWT".to_owned());
        let claims = Claims {
            aud: audience,
            iss: client_id,
            sub: client_id,
            jti: unique_id(),
            nbf: now,
            iat: now,
            exp: now + ASSERTION_LIFETIME.as_secs(),
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(Secret::new)
            .map_err(|_| problem(CredentialProblem::Signing))
    }
}

/// A random version-4 UUID (the `jti`).
fn unique_id() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = b.iter().fold(String::new(), |mut out, x| {
        let _ = write!(out, "{x:02x}");
        out
    });
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The base64url (unpadded) digest of a certificate's DER encoding.
#[must_use]
pub(crate) fn thumbprint(algorithm: &'static ring::digest::Algorithm, cert_der: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(ring::digest::digest(algorithm, cert_der).as_ref())
}

fn pem_blocks(text: &[u8]) -> Result<Vec<pem::Pem>> {
    match pem::parse_many(text) {
        Ok(blocks) if !blocks.is_empty() => Ok(blocks),
        _ => Err(problem(CredentialProblem::BadPem)),
    }
}

/// The DER of the first `CERTIFICATE` block.
fn certificate_block(text: &[u8]) -> Result<Vec<u8>> {
    pem_blocks(text)?
        .into_iter()
        .find(|b| b.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .ok_or_else(|| problem(CredentialProblem::NoCertificate))
}

/// The private key block.
fn key_block(text: &[u8]) -> Result<pem::Pem> {
    let blocks = pem_blocks(text)?;
    if let Some(key) = blocks
        .iter()
        .find(|b| matches!(b.tag(), "PRIVATE KEY" | "RSA PRIVATE KEY"))
    {
        return Ok(key.clone());
    }
    let found = |tag: &str| blocks.iter().any(|b| b.tag() == tag);
    Err(problem(if found("ENCRYPTED PRIVATE KEY") {
        CredentialProblem::EncryptedKey
    } else if found("EC PRIVATE KEY") {
        CredentialProblem::NotRsaKey
    } else {
        CredentialProblem::NoPrivateKey
    }))
}

/// A client assertion read from a file on every token request: the federated credential of a
/// workload (Kubernetes, another cloud) whose platform writes and rotates the token file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FederatedCredential {
    path: PathBuf,
}

/// The environment variable naming the federated token file (set by Azure workload identity).
pub const FEDERATED_TOKEN_FILE_VAR: &str = "AZURE_FEDERATED_TOKEN_FILE";

impl FederatedCredential {
    /// The token file at `path`.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The token file named by `AZURE_FEDERATED_TOKEN_FILE`.
    ///
    /// # Errors
    /// [`CredentialProblem::NoTokenFile`] when the variable is not set or empty.
    pub fn from_env() -> Result<Self> {
        match std::env::var_os(FEDERATED_TOKEN_FILE_VAR) {
            Some(p) if !p.is_empty() => Ok(Self::new(p)),
            _ => Err(problem(CredentialProblem::NoTokenFile)),
        }
    }

    /// The token file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The assertion the file holds now (read anew: the platform rotates it).
    pub(crate) fn assertion(&self) -> Result<Secret> {
        // A small local file: read it in place.
        let bytes = read_file(&self.path)?;
        let text = String::from_utf8_lossy(&bytes);
        let token = text.trim();
        if token.is_empty() {
            return Err(at(&self.path)(problem(CredentialProblem::EmptyTokenFile)));
        }
        Ok(Secret::new(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ids_are_uuids_and_differ() {
        let (a, b) = (unique_id(), unique_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn not_pem_and_missing_blocks_are_named() {
        let e = CertificateCredential::from_pem(b"hello", b"hello").expect_err("not pem");
        assert!(matches!(
            e,
            Error::Credential {
                problem: CredentialProblem::BadPem,
                ..
            }
        ));
        let only_key =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        let e = key_block(only_key).expect_err("encrypted");
        assert!(matches!(
            e,
            Error::Credential {
                problem: CredentialProblem::EncryptedKey,
                ..
            }
        ));
        let e = certificate_block(only_key).expect_err("no certificate");
        assert!(matches!(
            e,
            Error::Credential {
                problem: CredentialProblem::NoCertificate,
                ..
            }
        ));
    }
}
