//! Credentials without secrets: tokens from the fake with a certificate (PEM and PKCS#12) and
//! with a federated token file; assertions the identity platform refuses (a wrong key, an
//! expired assertion, a wrong audience, a reused `jti`), each with the documented error body;
//! typed load errors; no key, assertion or secret in logs, errors or `Debug`.

use std::path::PathBuf;
use std::sync::OnceLock;

use graph_client::fake::{
    FakeGraph, FederatedIdentityCredential, GeneratedCertificate, generate_certificate,
};
use graph_client::{
    AssertionAlgorithm, CertificateCredential, ClientCredential, CredentialProblem, Credentials,
    Error, FederatedCredential,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sync_secret::Secret;

use crate::util::world;

/// The app's certificate, and a second one never registered (made once: RSA keys are slow).
fn certs() -> &'static (GeneratedCertificate, GeneratedCertificate) {
    static CERTS: OnceLock<(GeneratedCertificate, GeneratedCertificate)> = OnceLock::new();
    CERTS.get_or_init(|| {
        (
            generate_certificate("raynet-sync test app").expect("certificate"),
            generate_certificate("someone else").expect("certificate"),
        )
    })
}

/// A fresh directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(label: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "graph-client-creds-{label}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).expect("write");
        path
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn der(pem_text: &str) -> Vec<u8> {
    pem::parse(pem_text).expect("pem").into_contents()
}

/// `x5t#S256` of a certificate, computed here from the documented definition.
fn x5t_s256(cert_pem: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA256, &der(cert_pem)).as_ref())
}

/// A client assertion built by hand as the documentation describes it: PS256, `x5t#S256` of
/// `named_cert`, signed with `signing_key`, with `claims`.
fn assertion(named_cert: &str, signing_key: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::PS256);
    header.typ = Some("JWT".into());
    header.x5t_s256 = Some(x5t_s256(named_cert));
    let key = EncodingKey::from_rsa_pem(signing_key.as_bytes()).expect("rsa key");
    jsonwebtoken::encode(&header, claims, &key).expect("signed")
}

fn claims(aud: &str, jti: &str, nbf: i64, exp: i64) -> Value {
    json!({
        "aud": aud, "iss": FakeGraph::CLIENT_ID, "sub": FakeGraph::CLIENT_ID,
        "jti": jti, "nbf": nbf, "iat": nbf, "exp": exp,
    })
}

/// POSTs a token request with `assertion`; the status and the JSON body.
async fn post_assertion(fake: &FakeGraph, assertion: &str) -> (u16, Value) {
    let form = [
        ("client_id", FakeGraph::CLIENT_ID),
        ("scope", "https://graph.microsoft.com/.default"),
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ];
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let resp = reqwest::Client::new()
        .post(fake.token_endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token endpoint answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json body"))
}

/// The documented OAuth error body: `error`, a description starting with the AADSTS code,
/// `error_codes`, `timestamp`, `trace_id`, `correlation_id`.
fn assert_oauth_error(body: &Value, error: &str, code: u32) {
    assert_eq!(body["error"], error, "{body:#}");
    let description = body["error_description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{body:#}"
    );
    assert!(description.contains("Trace ID: "), "{body:#}");
    assert!(description.contains("Correlation ID: "), "{body:#}");
    assert_eq!(body["error_codes"], json!([code]), "{body:#}");
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(
            body[field].as_str().is_some_and(|v| !v.is_empty()),
            "{field} missing: {body:#}"
        );
    }
}

fn registered_fake_cert(fake: &FakeGraph) -> &'static GeneratedCertificate {
    let (app, _) = certs();
    assert!(fake.register_certificate(FakeGraph::CLIENT_ID, &app.certificate_pem));
    app
}

fn client_with(fake: &FakeGraph, credential: impl Into<ClientCredential>) -> graph_client::Client {
    fake.client_builder()
        .credential(FakeGraph::TENANT, FakeGraph::CLIENT_ID, credential)
        .build()
        .expect("client builds")
}

#[tokio::test]
async fn a_certificate_from_pem_files_gets_tokens_with_ps256_and_rs256() {
    let w = world().await;
    let app = registered_fake_cert(&w.fake);
    let dir = Dir::new("pem");
    let cert = dir.write("app.crt", app.certificate_pem.as_bytes());
    let key = dir.write("app.key", app.private_key_pem.as_bytes());
    for algorithm in [AssertionAlgorithm::Ps256, AssertionAlgorithm::Rs256] {
        let credential = CertificateCredential::from_pem_files(&cert, &key)
            .expect("loads")
            .with_algorithm(algorithm);
        let client = client_with(&w.fake, credential);
        let user = client.users().get(&w.alice).await.expect("a token");
        assert_eq!(user.id, w.alice);
    }
    // One file holding both the certificate and the key.
    let both = dir.write(
        "app.pem",
        format!("{}{}", app.certificate_pem, app.private_key_pem).as_bytes(),
    );
    let credential = CertificateCredential::from_pem_files(&both, &both).expect("loads");
    client_with(&w.fake, credential)
        .users()
        .get(&w.alice)
        .await
        .expect("a token");
    assert_eq!(w.fake.request_count("token"), 3);
    assert_eq!(w.fake.status_count(401), 0);
}

#[tokio::test]
async fn a_certificate_from_a_pkcs12_file_gets_a_token_and_a_wrong_password_is_named() {
    let w = world().await;
    let app = registered_fake_cert(&w.fake);
    let key = p12_keystore::PrivateKey::from_der(&der(&app.private_key_pem)).expect("pkcs8");
    let cert = p12_keystore::Certificate::from_der(&der(&app.certificate_pem)).expect("x509");
    let chain = p12_keystore::PrivateKeyChain::new(vec![1_u8], key, [cert]);
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        "raynet-sync",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(chain),
    );
    let pfx = store.writer("pfx-PASSWORD-77").write().expect("pkcs12");
    let dir = Dir::new("p12");
    let path = dir.write("app.pfx", &pfx);

    let credential =
        CertificateCredential::from_pkcs12_file(&path, &Secret::new("pfx-PASSWORD-77"))
            .expect("loads");
    let user = client_with(&w.fake, credential)
        .users()
        .get(&w.alice)
        .await
        .expect("a token");
    assert_eq!(user.id, w.alice);

    let err = CertificateCredential::from_pkcs12_file(&path, &Secret::new("wrong-pw-1"))
        .expect_err("wrong password");
    assert!(
        matches!(&err, Error::Credential { problem: CredentialProblem::BadPkcs12, path: Some(p), .. } if p == &path),
        "{err:?}"
    );
    assert!(err.to_string().contains("app.pfx"), "{err}");
    assert!(!format!("{err} {err:?}").contains("wrong-pw-1"));
}

/// A token the test's issuer signs for the federated credential (`sub` as given).
fn federated_token(issuer_key: &str, subject: &str, jti: &str) -> String {
    federated_token_from(ISSUER, issuer_key, subject, jti)
}

const ISSUER: &str = "https://oidc.cluster.example/abc";

/// A token `issuer` signs with `issuer_key` for `subject`.
fn federated_token_from(issuer: &str, issuer_key: &str, subject: &str, jti: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some("JWT".into());
    header.kid = Some("issuer-key-1".into());
    let claims = json!({
        "iss": issuer, "sub": subject,
        "aud": ["api://AzureADTokenExchange"], "jti": jti,
        "nbf": now() - 5, "iat": now() - 5, "exp": now() + 3600,
    });
    let key = EncodingKey::from_rsa_pem(issuer_key.as_bytes()).expect("rsa key");
    jsonwebtoken::encode(&header, &claims, &key).expect("signed")
}

const SUBJECT: &str = "system:serviceaccount:sync:raynet-sync";

#[tokio::test]
async fn a_federated_token_file_is_read_anew_for_each_token_request() {
    let w = world().await;
    let (_, issuer) = certs();
    w.fake.register_federated_credential(
        FakeGraph::CLIENT_ID,
        FederatedIdentityCredential::new(ISSUER, SUBJECT, issuer.certificate_pem.clone()),
    );
    let dir = Dir::new("federated");
    let file = dir.write(
        "token",
        federated_token(&issuer.private_key_pem, SUBJECT, "first").as_bytes(),
    );
    let client = client_with(&w.fake, FederatedCredential::new(&file));
    client.users().get(&w.alice).await.expect("first token");
    // The same token is presented again for its lifetime (it is not single-use, unlike a
    // certificate's assertion): another client (say `check` after `init`) gets a token too.
    let again = client_with(&w.fake, FederatedCredential::new(&file));
    again
        .users()
        .get(&w.alice)
        .await
        .expect("the same token again");
    assert_eq!(w.fake.request_count("token"), 2);

    // The platform rotates the file; the next token request uses the new token.
    std::fs::write(
        &file,
        federated_token(&issuer.private_key_pem, SUBJECT, "second"),
    )
    .expect("rotate");
    w.fake.expire_access_tokens();
    client
        .users()
        .get(&w.alice)
        .await
        .expect("second token, from the new file");
    assert_eq!(w.fake.request_count("token"), 3);

    // A file now holding a token for another subject: refused, so the file was read again.
    let other = federated_token(
        &issuer.private_key_pem,
        "system:serviceaccount:x:y",
        "third",
    );
    std::fs::write(&file, &other).expect("rotate");
    w.fake.expire_access_tokens();
    let err = client.users().get(&w.alice).await.expect_err("refused");
    assert!(
        matches!(&err, Error::Auth { status: Some(400), code, message } if code == "invalid_request" && message.starts_with("AADSTS700213")),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains(&other));

    // An empty file is a typed error naming it, before any request.
    std::fs::write(&file, "\n").expect("empty");
    w.fake.expire_access_tokens();
    let err = client.users().get(&w.alice).await.expect_err("empty file");
    assert!(
        matches!(&err, Error::Credential { problem: CredentialProblem::EmptyTokenFile, path: Some(p), .. } if p == &file),
        "{err:?}"
    );
    assert_eq!(
        w.fake.request_count("token"),
        4,
        "no request for an empty file"
    );
}

#[tokio::test]
async fn a_federated_token_from_an_unknown_issuer_or_for_another_audience_is_refused() {
    let w = world().await;
    let (_, issuer) = certs();
    w.fake.register_federated_credential(
        FakeGraph::CLIENT_ID,
        FederatedIdentityCredential::new(ISSUER, SUBJECT, issuer.certificate_pem.clone())
            .audience("api://SomethingElse"),
    );
    let token = federated_token(&issuer.private_key_pem, SUBJECT, "aud-1");
    let (status, body) = post_assertion(&w.fake, &token).await;
    assert_eq!(status, 400);
    assert_oauth_error(&body, "invalid_request", 700_212);
    let stranger = federated_token_from(
        "https://another.issuer.example",
        &issuer.private_key_pem,
        SUBJECT,
        "iss-1",
    );
    let (status, body) = post_assertion(&w.fake, &stranger).await;
    assert_eq!(status, 400);
    assert_oauth_error(&body, "invalid_request", 700_211);
}

#[tokio::test]
async fn assertions_the_identity_platform_refuses_are_refused_with_its_error_body() {
    let w = world().await;
    let app = registered_fake_cert(&w.fake);
    let (_, stranger) = certs();
    let aud = w.fake.token_endpoint();
    let t = now();

    // Signed with another key than the registered certificate's.
    let wrong_key = assertion(
        &app.certificate_pem,
        &stranger.private_key_pem,
        &claims(&aud, "jti-wrong-key", t, t + 600),
    );
    let (status, body) = post_assertion(&w.fake, &wrong_key).await;
    assert_eq!(status, 401);
    assert_oauth_error(&body, "invalid_client", 700_027);

    // A certificate never uploaded.
    let unknown = assertion(
        &stranger.certificate_pem,
        &stranger.private_key_pem,
        &claims(&aud, "jti-unknown", t, t + 600),
    );
    let (status, body) = post_assertion(&w.fake, &unknown).await;
    assert_eq!(status, 401);
    assert_oauth_error(&body, "invalid_client", 700_027);

    // Expired ten minutes ago.
    let expired = assertion(
        &app.certificate_pem,
        &app.private_key_pem,
        &claims(&aud, "jti-expired", t - 1200, t - 600),
    );
    let (status, body) = post_assertion(&w.fake, &expired).await;
    assert_eq!(status, 401);
    assert_oauth_error(&body, "invalid_client", 700_024);

    // Not valid before ten minutes from now.
    let early = assertion(
        &app.certificate_pem,
        &app.private_key_pem,
        &claims(&aud, "jti-early", t + 600, t + 1200),
    );
    let (status, body) = post_assertion(&w.fake, &early).await;
    assert_eq!(status, 401);
    assert_oauth_error(&body, "invalid_client", 700_024);

    // Addressed to the real identity platform, not this token endpoint.
    let elsewhere = assertion(
        &app.certificate_pem,
        &app.private_key_pem,
        &claims(
            "https://login.microsoftonline.com/contoso.test/oauth2/v2.0/token",
            "jti-aud",
            t,
            t + 600,
        ),
    );
    let (status, body) = post_assertion(&w.fake, &elsewhere).await;
    assert_eq!(status, 401);
    assert_oauth_error(&body, "invalid_client", 700_023);

    // Issued by another app.
    let mut other_app = claims(&aud, "jti-iss", t, t + 600);
    other_app["iss"] = json!("99999999-2222-3333-4444-555555555555");
    let (status, body) = post_assertion(
        &w.fake,
        &assertion(&app.certificate_pem, &app.private_key_pem, &other_app),
    )
    .await;
    assert_eq!(status, 401);
    assert_oauth_error(&body, "invalid_client", 700_021);

    // A good assertion works once; its `jti` sent again is refused.
    let good = assertion(
        &app.certificate_pem,
        &app.private_key_pem,
        &claims(&aud, "jti-once", t, t + 600),
    );
    let (status, body) = post_assertion(&w.fake, &good).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body["access_token"].is_string());
    let (status, body) = post_assertion(&w.fake, &good).await;
    assert_eq!(status, 401);
    assert_oauth_error(&body, "invalid_client", 50013);

    // The secret path still works beside the certificate.
    crate::util::client(&w.fake)
        .users()
        .get(&w.alice)
        .await
        .expect("secret still accepted");
}

#[tokio::test]
async fn the_client_signs_a_fresh_assertion_for_every_token_request() {
    let w = world().await;
    let app = registered_fake_cert(&w.fake);
    let credential = CertificateCredential::from_pem(
        app.certificate_pem.as_bytes(),
        app.private_key_pem.as_bytes(),
    )
    .expect("loads");
    let client = client_with(&w.fake, credential);
    for _ in 0..3 {
        client.users().get(&w.alice).await.expect("a token");
        w.fake.expire_access_tokens();
    }
    // Three token requests, none refused for a reused `jti` or a stale time range.
    assert_eq!(w.fake.request_count("token"), 3);
    assert_eq!(
        w.fake
            .requests()
            .iter()
            .filter(|r| r.endpoint == "token" && r.status != 200)
            .count(),
        0
    );
}

#[test]
fn loading_errors_are_typed_and_name_the_file() {
    let (app, stranger) = certs();
    let dir = Dir::new("errors");
    let missing = dir.0.join("nope.pem");
    let err = CertificateCredential::from_pem_files(&missing, &missing).expect_err("missing");
    assert!(
        matches!(&err, Error::Credential { problem: CredentialProblem::Unreadable, path: Some(p), source: Some(_) } if p == &missing),
        "{err:?}"
    );
    assert!(err.to_string().contains("nope.pem"), "{err}");

    let cert = dir.write("app.crt", app.certificate_pem.as_bytes());
    let other_key = dir.write("other.key", stranger.private_key_pem.as_bytes());
    let err = CertificateCredential::from_pem_files(&cert, &other_key).expect_err("mismatch");
    assert!(
        matches!(&err, Error::Credential { problem: CredentialProblem::KeyDoesNotMatchCertificate, path: Some(p), .. } if p == &other_key),
        "{err:?}"
    );
    assert_no_key_material(&format!("{err} {err:?}"));
    let garbage = dir.write("garbage.pem", b"not a certificate");
    let err = CertificateCredential::from_pem_files(&garbage, &other_key).expect_err("garbage");
    assert!(
        matches!(&err, Error::Credential { problem: CredentialProblem::BadPem, path: Some(p), .. } if p == &garbage),
        "{err:?}"
    );
    // The key file given as the certificate: no certificate in it.
    let err = CertificateCredential::from_pem_files(&other_key, &other_key).expect_err("no cert");
    assert!(
        matches!(
            &err,
            Error::Credential {
                problem: CredentialProblem::NoCertificate,
                ..
            }
        ),
        "{err:?}"
    );
    // The certificate given as the key: no key in it.
    let err = CertificateCredential::from_pem_files(&cert, &cert).expect_err("no key");
    assert!(
        matches!(
            &err,
            Error::Credential {
                problem: CredentialProblem::NoPrivateKey,
                ..
            }
        ),
        "{err:?}"
    );
    assert_no_key_material(&format!("{err} {err:?}"));
}

/// Lines of the test keys' base64 bodies: none may appear in `text`.
fn assert_no_key_material(text: &str) {
    let (app, stranger) = certs();
    for key in [&app.private_key_pem, &stranger.private_key_pem] {
        for line in key.lines().filter(|l| !l.starts_with("-----")).take(5) {
            assert!(!text.contains(line), "key material leaked:\n{text}");
        }
    }
}

#[test]
fn debug_of_every_credential_prints_no_secret_material() {
    let (app, _) = certs();
    let cert = CertificateCredential::from_pem(
        app.certificate_pem.as_bytes(),
        app.private_key_pem.as_bytes(),
    )
    .expect("loads");
    let printed = [
        format!("{cert:?}"),
        format!("{:?}", ClientCredential::from(cert.clone())),
        format!(
            "{:#?}",
            Credentials::with_credential("t", "c", cert.clone())
        ),
        format!("{:?}", Credentials::new("t", "c", "s3cret-VALUE-x")),
        format!("{app:?}"),
    ]
    .join("\n");
    assert_no_key_material(&printed);
    assert!(!printed.contains("s3cret-VALUE-x"), "{printed}");
    assert!(printed.contains("***"), "{printed}");
    // The thumbprint is public and shown (Entra lists it).
    assert_eq!(cert.thumbprint_hex().len(), 40);
    assert!(printed.contains(cert.thumbprint_sha256()), "{printed}");
}

#[tokio::test]
async fn no_key_assertion_or_token_appears_in_logs_or_errors() {
    let logs = crate::util::capture_logs();
    let w = world().await;
    let app = registered_fake_cert(&w.fake);
    let (_, stranger) = certs();
    let good = CertificateCredential::from_pem(
        app.certificate_pem.as_bytes(),
        app.private_key_pem.as_bytes(),
    )
    .expect("loads");
    client_with(&w.fake, good)
        .users()
        .get(&w.alice)
        .await
        .expect("a token");
    // A certificate not registered: refused.
    let unknown = CertificateCredential::from_pem(
        stranger.certificate_pem.as_bytes(),
        stranger.private_key_pem.as_bytes(),
    )
    .expect("loads");
    let err = client_with(&w.fake, unknown)
        .users()
        .get(&w.alice)
        .await
        .expect_err("refused");
    assert_eq!(err.code(), Some("invalid_client"));
    assert!(err.to_string().contains("invalid_client"), "{err}");
    // A federated token the fake does not know: refused, the token never printed.
    let dir = Dir::new("logs");
    let token = federated_token(&stranger.private_key_pem, SUBJECT, "log-1");
    let file = dir.write("token", token.as_bytes());
    let err2 = client_with(&w.fake, FederatedCredential::new(&file))
        .users()
        .get(&w.alice)
        .await
        .expect_err("refused");
    tracing::error!(error = %err, debug = ?err, error2 = %err2, debug2 = ?err2, "reported");

    let text = logs.text();
    assert!(text.contains("graph.token"), "{text}");
    for e in [&err, &err2] {
        let shown = format!("{e} {e:?}");
        assert_no_key_material(&shown);
        assert!(!shown.contains(&token), "{shown}");
        assert!(!shown.contains("eyJ0eXAi"), "{shown}");
    }
    assert_no_key_material(&text);
    assert!(
        !text.contains(&token),
        "the federated token leaked:\n{text}"
    );
    // Assertions and access tokens are JWTs: their header starts `eyJ`.
    assert!(!text.contains("eyJ"), "a JWT leaked into the logs:\n{text}");
}

#[test]
fn federated_credential_from_the_environment_names_the_variable_when_unset() {
    // Only reads the variable (tests never set it).
    if std::env::var_os("AZURE_FEDERATED_TOKEN_FILE").is_some() {
        return;
    }
    let err = FederatedCredential::from_env().expect_err("unset");
    assert!(
        matches!(
            err,
            Error::Credential {
                problem: CredentialProblem::NoTokenFile,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("AZURE_FEDERATED_TOKEN_FILE"));
}

#[tokio::test]
async fn the_certificate_token_request_carries_the_documented_assertion() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let (app, _) = certs();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/contoso.test/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
            "access_token": "at-1"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1"})))
        .mount(&server)
        .await;
    let credential = CertificateCredential::from_pem(
        app.certificate_pem.as_bytes(),
        app.private_key_pem.as_bytes(),
    )
    .expect("loads");
    let client = graph_client::Client::builder()
        .graph_base_url(format!("{}/v1.0", server.uri()))
        .authority_base_url(server.uri())
        .credential("contoso.test", "app-id", credential)
        .retry(crate::util::fast_retry())
        .build()
        .expect("client");
    let _ = client.users().get("u1").await;
    let requests = server.received_requests().await.expect("recorded");
    let token_request = requests
        .iter()
        .find(|r| r.url.path().ends_with("/token"))
        .expect("a token request");
    assert_eq!(
        token_request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&token_request.body)
            .into_owned()
            .collect();
    assert_eq!(form["client_id"], "app-id");
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "https://graph.microsoft.com/.default");
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert!(!form.contains_key("client_secret"));
    let jwt = &form["client_assertion"];
    let header = jsonwebtoken::decode_header(jwt).expect("header");
    assert_eq!(header.alg, Algorithm::PS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(
        header.x5t_s256.as_deref(),
        Some(x5t_s256(&app.certificate_pem).as_str())
    );
    // The signature verifies with the certificate's public key; then the claims.
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(app.certificate_pem.as_bytes()).expect("key");
    let mut validation = jsonwebtoken::Validation::new(Algorithm::PS256);
    validation.set_audience(&[format!("{}/contoso.test/oauth2/v2.0/token", server.uri())]);
    validation.set_issuer(&["app-id"]);
    validation.sub = Some("app-id".into());
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .expect("valid assertion")
        .claims;
    let (nbf, iat, exp) = (
        claims["nbf"].as_i64().expect("nbf"),
        claims["iat"].as_i64().expect("iat"),
        claims["exp"].as_i64().expect("exp"),
    );
    assert_eq!(nbf, iat);
    assert_eq!(exp - nbf, 600, "a ten-minute assertion");
    assert!((nbf - now()).abs() < 60);
    assert_eq!(claims["jti"].as_str().map(str::len), Some(36), "a UUID jti");
}

/// Runs `openssl` with `args` in `dir`; `false` when there is no `openssl` on the machine.
fn openssl(dir: &std::path::Path, args: &[&str]) -> bool {
    match std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            true
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn files_made_with_openssl_as_the_readme_says_get_tokens() {
    let dir = Dir::new("openssl");
    let made = openssl(
        &dir.0,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-sha256",
            "-days",
            "365",
            "-nodes",
            "-subj",
            "/CN=raynet-sync",
            "-keyout",
            "app.key",
            "-out",
            "app.crt",
        ],
    );
    if !made {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED files_made_with_openssl_as_the_readme_says_get_tokens: no openssl"
        );
        return;
    }
    assert!(openssl(
        &dir.0,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "app.key",
            "-in",
            "app.crt",
            "-out",
            "app.pfx",
            "-passout",
            "pass:pfx-pw-5",
        ],
    ));
    let w = world().await;
    let cert_pem = std::fs::read_to_string(dir.0.join("app.crt")).expect("app.crt");
    assert!(w.fake.register_certificate(FakeGraph::CLIENT_ID, &cert_pem));
    let from_pem =
        CertificateCredential::from_pem_files(&dir.0.join("app.crt"), &dir.0.join("app.key"))
            .expect("openssl's PEM files load");
    let from_pfx =
        CertificateCredential::from_pkcs12_file(&dir.0.join("app.pfx"), &Secret::new("pfx-pw-5"))
            .expect("openssl's PKCS#12 file loads");
    // The thumbprint Entra shows is openssl's SHA-1 fingerprint.
    let out = std::process::Command::new("openssl")
        .current_dir(&dir.0)
        .args(["x509", "-in", "app.crt", "-noout", "-fingerprint", "-sha1"])
        .output()
        .expect("openssl x509");
    let fingerprint = String::from_utf8_lossy(&out.stdout).replace(':', "");
    assert!(
        fingerprint.trim().ends_with(&from_pem.thumbprint_hex()),
        "{fingerprint} vs {}",
        from_pem.thumbprint_hex()
    );
    for credential in [from_pem, from_pfx] {
        client_with(&w.fake, credential)
            .users()
            .get(&w.alice)
            .await
            .expect("a token");
    }
}
