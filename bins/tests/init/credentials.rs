//! `init` with a certificate (PEM files, a PKCS#12 file) or a federated token file instead of
//! a client secret, against the sandbox's fakes: the config it writes names the credential and
//! `check` accepts it; a certificate Microsoft does not know, a wrong password and a token of
//! another subject are named and can be fixed; no key, password or token is printed or
//! written into the TOML.

use std::path::Path;

use chrono::Utc;
use graph_client::fake::{FakeGraph, FederatedIdentityCredential, generate_certificate};
use graph_client::{CertificateCredential, ClientCredential};
use raynet_client::fake::DEFAULT_API_KEY;
use raynet_sync::app::error_exit_code;
use raynet_sync::app::init::{self, GivenSecrets, ScriptedPrompter};
use raynet_sync::config::{Config, Secret};
use raynet_sync::demo::Sandbox;

use super::{answers, assert_no_secret, run_init};
use crate::util::TempDir;

/// The certificate files of `name` in `dir`: the certificate and the key apart, and both in
/// one file.
struct CertFiles {
    crt: std::path::PathBuf,
    key: std::path::PathBuf,
    both: std::path::PathBuf,
    key_pem: String,
    thumbprint: String,
}

fn cert_files(dir: &TempDir, name: &str, register_in: Option<&FakeGraph>) -> CertFiles {
    let generated = generate_certificate(name).unwrap();
    if let Some(graph) = register_in {
        assert!(graph.register_certificate(FakeGraph::CLIENT_ID, &generated.certificate_pem));
    }
    let crt = dir.write(&format!("{name}.crt"), &generated.certificate_pem);
    let key = dir.write(&format!("{name}.key"), &generated.private_key_pem);
    let both = dir.write(
        &format!("{name}.pem"),
        &format!("{}{}", generated.certificate_pem, generated.private_key_pem),
    );
    let thumbprint = CertificateCredential::from_pem_files(&crt, &key)
        .unwrap()
        .thumbprint_hex();
    CertFiles {
        crt,
        key,
        both,
        key_pem: generated.private_key_pem,
        thumbprint,
    }
}

/// No line of `key_pem`'s body, no JWT, nothing of `extra` in `text`.
fn assert_no_key_material(what: &str, text: &str, key_pem: &str, extra: &[&str]) {
    for line in key_pem.lines().filter(|l| !l.starts_with("-----")).take(5) {
        assert!(!text.contains(line), "{what} holds key material:\n{text}");
    }
    assert!(!text.contains("eyJ"), "{what} holds a JWT:\n{text}");
    for e in extra {
        assert!(!text.contains(e), "{what} holds `{e}`:\n{text}");
    }
    assert_no_secret(what, text);
}

/// The written config (no client secret in it or in the secrets file), loaded with the
/// secrets file as its environment.
fn assert_written_without_client_secret(config: &Path) -> (String, Config) {
    let text = std::fs::read_to_string(config).unwrap();
    assert!(!text.contains("client_secret"), "{text}");
    let env_text =
        std::fs::read_to_string(config.with_file_name("raynet-sync.secrets.env")).unwrap();
    assert!(!env_text.contains(init::CLIENT_SECRET_VAR), "{env_text}");
    let api_key_line = format!("{}={DEFAULT_API_KEY}", init::API_KEY_VAR);
    assert!(env_text.contains(&api_key_line), "{env_text}");
    let env = |name: &str| {
        if name == init::API_KEY_VAR {
            Ok(DEFAULT_API_KEY.to_owned())
        } else {
            Err(std::env::VarError::NotPresent)
        }
    };
    let loaded = Config::from_toml(&text, config, &env).expect("the written config loads");
    (text, loaded)
}

fn raynet_key_only() -> GivenSecrets {
    GivenSecrets {
        raynet_api_key: Some(Secret::new(DEFAULT_API_KEY)),
        ..GivenSecrets::default()
    }
}

#[tokio::test]
async fn unattended_init_with_a_certificate_writes_a_config_check_accepts() {
    let dir = TempDir::new("init-cert");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let cert = cert_files(&dir, "app", Some(&sandbox.graph));
    let mut args = answers(&sandbox);
    args.certificate = Some(cert.crt.clone());
    args.certificate_key = Some(cert.key.clone());
    let mut out = Vec::new();
    let mut prompter = ScriptedPrompter::new(Vec::<String>::new());
    let code = init::init(
        &config,
        &args,
        &raynet_key_only(),
        &mut prompter,
        true,
        &mut out,
    )
    .await
    .expect("init succeeds");
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS, "{out}");
    assert!(out.contains("How the app signs in: certificate"), "{out}");
    assert!(
        out.contains(&format!("thumbprint (SHA-1): {}", cert.thumbprint)),
        "{out}"
    );
    assert!(
        out.contains("configuration ok") && out.contains("with a certificate (thumbprint "),
        "{out}"
    );
    assert_no_key_material("the output", &out, &cert.key_pem, &[]);
    let (text, loaded) = assert_written_without_client_secret(&config);
    let key_ref = format!(
        "certificate = {{ path = {:?}, key = {{ file = {:?} }} }}",
        cert.crt.display().to_string(),
        cert.key.display().to_string()
    );
    assert!(
        text.contains(&key_ref),
        "the key file is referenced:\n{text}"
    );
    assert!(text.contains(&cert.thumbprint), "{text}");
    assert_no_key_material("the config file", &text, &cert.key_pem, &[]);
    assert!(matches!(
        loaded.tenants[0].microsoft.credential,
        ClientCredential::Certificate(_)
    ));
}

#[tokio::test]
async fn an_unregistered_certificate_is_said_plainly_and_can_be_replaced() {
    let dir = TempDir::new("init-cert-unknown");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let unknown = cert_files(&dir, "unknown", None);
    let registered = cert_files(&dir, "registered", Some(&sandbox.graph));
    let mut args = answers(&sandbox);
    args.certificate = Some(unknown.crt.clone());
    args.certificate_key = Some(unknown.key.clone());
    args.mode = Some("both".into());
    args.private_events = Some("skip".into());
    args.completed_events = Some("sync".into());
    args.outlook_deletes = Some("cancel".into());

    // Unattended: exit 78, naming the certificate and where to upload it.
    let mut out = Vec::new();
    let mut prompter = ScriptedPrompter::new(Vec::<String>::new());
    let e = init::init(
        &config,
        &args,
        &raynet_key_only(),
        &mut prompter,
        true,
        &mut out,
    )
    .await
    .expect_err("an unregistered certificate stops init");
    let message = format!("{e:#}");
    assert_eq!(error_exit_code(&e), 78, "{message}");
    assert!(
        message.contains("tenant[0].microsoft.certificate")
            && message.contains(&format!(
                "the certificate (thumbprint {}) is not registered for the app",
                unknown.thumbprint
            ))
            && message.contains("App registrations -> Certificates & secrets -> Certificates"),
        "{message}"
    );
    assert_no_key_material("the error", &message, &unknown.key_pem, &[]);
    assert!(!config.exists());

    // Interactive: the same message, then another certificate (one file with its key).
    let both = registered.both.display().to_string();
    let mut prompter = ScriptedPrompter::new(["y", "", "", "", both.as_str(), "n"]);
    let (outcome, out) = run_init(&config, &args, &raynet_key_only(), &mut prompter, false).await;
    let code = outcome.expect("init succeeds with the registered certificate");
    assert_eq!(code, std::process::ExitCode::SUCCESS, "{out}");
    assert_eq!(prompter.remaining(), 0, "{}", prompter.transcript());
    assert!(
        out.contains("problem: Microsoft refused the app's credential: the certificate")
            && out.contains("Certificates & secrets -> Certificates"),
        "{out}"
    );
    assert!(
        out.contains("(the certificate file holds its key)"),
        "{out}"
    );
    assert!(out.contains(&registered.thumbprint), "{out}");
    for key in [&unknown.key_pem, &registered.key_pem] {
        assert_no_key_material("the output", &out, key, &[]);
        assert_no_key_material("the transcript", prompter.transcript(), key, &[]);
    }
    let (text, _) = assert_written_without_client_secret(&config);
    assert!(
        text.contains(&format!("certificate = {{ path = {both:?} }}")),
        "{text}"
    );
    assert_no_key_material("the config file", &text, &registered.key_pem, &[]);
}

const ISSUER: &str = "https://oidc.cluster.example/raynet";
const SUBJECT: &str = "system:serviceaccount:sync:raynet-sync";

/// A token a workload's platform signed for `subject` (no `jti`: `init` and its `check` each
/// present it).
fn federated_token(issuer_key: &str, subject: &str) -> String {
    let now = Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.typ = Some("JWT".into());
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": subject, "aud": "api://AzureADTokenExchange",
        "nbf": now - 5, "iat": now - 5, "exp": now + 3600,
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(issuer_key.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

#[tokio::test]
async fn unattended_init_with_a_federated_token_file_names_a_wrong_subject_then_checks() {
    let dir = TempDir::new("init-fed");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let issuer = generate_certificate("cluster issuer").unwrap();
    sandbox.graph.register_federated_credential(
        FakeGraph::CLIENT_ID,
        FederatedIdentityCredential::new(ISSUER, SUBJECT, issuer.certificate_pem.clone()),
    );
    let wrong = federated_token(&issuer.private_key_pem, "system:serviceaccount:other:app");
    let token_file = dir.write("token", &wrong);
    let mut args = answers(&sandbox);
    args.federated_token_file = Some(token_file.clone());

    let mut out = Vec::new();
    let mut prompter = ScriptedPrompter::new(Vec::<String>::new());
    let e = init::init(
        &config,
        &args,
        &raynet_key_only(),
        &mut prompter,
        true,
        &mut out,
    )
    .await
    .expect_err("a token of another subject is refused");
    let message = format!("{e:#}");
    let out = String::from_utf8(out).unwrap();
    assert_eq!(error_exit_code(&e), 78, "{message}");
    assert!(
        message.contains("tenant[0].microsoft.federated.token_file")
            && message.contains("has another subject"),
        "{message}"
    );
    assert!(out.contains("api://AzureADTokenExchange"), "{out}");
    assert_no_key_material("the error", &message, &issuer.private_key_pem, &[&wrong]);
    assert_no_key_material("the output", &out, &issuer.private_key_pem, &[&wrong]);
    assert!(!config.exists());

    let token = federated_token(&issuer.private_key_pem, SUBJECT);
    std::fs::write(&token_file, &token).unwrap();
    let (outcome, out) = run_init(&config, &args, &raynet_key_only(), &mut prompter, true).await;
    let code = outcome.expect("init succeeds");
    assert_eq!(code, std::process::ExitCode::SUCCESS, "{out}");
    assert!(out.contains("How the app signs in: federated"), "{out}");
    assert!(
        out.contains("configuration ok") && out.contains("with a federated token file "),
        "{out}"
    );
    assert_no_key_material("the output", &out, &issuer.private_key_pem, &[&token]);
    let (text, loaded) = assert_written_without_client_secret(&config);
    assert!(
        text.contains(&format!(
            "federated = {{ token_file = {:?} }}",
            token_file.display().to_string()
        )),
        "{text}"
    );
    assert_no_key_material("the config file", &text, &issuer.private_key_pem, &[&token]);
    match &loaded.tenants[0].microsoft.credential {
        ClientCredential::Federated(f) => assert_eq!(f.path(), token_file),
        other => panic!("{other:?}"),
    }
}

const PFX_PASSWORD: &str = "pfx-PASSWORD-77";

/// A PKCS#12 file of a new certificate registered in `graph`, locked with [`PFX_PASSWORD`];
/// its private key's PEM.
fn pfx_file(dir: &TempDir, graph: &FakeGraph) -> (std::path::PathBuf, String) {
    use base64::Engine as _;
    let generated = generate_certificate("pfx").unwrap();
    assert!(graph.register_certificate(FakeGraph::CLIENT_ID, &generated.certificate_pem));
    let der = |pem_text: &str| {
        let body: String = pem_text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    };
    let key = p12_keystore::PrivateKey::from_der(&der(&generated.private_key_pem)).unwrap();
    let cert = p12_keystore::Certificate::from_der(&der(&generated.certificate_pem)).unwrap();
    let chain = p12_keystore::PrivateKeyChain::new(vec![1_u8], key, [cert]);
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(
        "raynet-sync",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(chain),
    );
    let pfx = store.writer(PFX_PASSWORD).write().unwrap();
    let path = dir.path().join("app.pfx");
    std::fs::write(&path, pfx).unwrap();
    (path, generated.private_key_pem)
}

#[tokio::test]
async fn unattended_init_with_a_pkcs12_file_keeps_its_password_in_the_secrets_file() {
    let dir = TempDir::new("init-pfx");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let config = dir.path().join("raynet-sync.toml");
    let (pfx, key_pem) = pfx_file(&dir, &sandbox.graph);
    let mut args = answers(&sandbox);
    args.pkcs12 = Some(pfx.clone());
    let run = |password: &str| {
        let secrets = GivenSecrets {
            pkcs12_password: Some(Secret::new(password)),
            ..raynet_key_only()
        };
        let (config, args) = (config.clone(), &args);
        async move {
            let mut out = Vec::new();
            let mut prompter = ScriptedPrompter::new(Vec::<String>::new());
            let result = init::init(&config, args, &secrets, &mut prompter, true, &mut out).await;
            (result, String::from_utf8(out).unwrap())
        }
    };

    let (result, out) = run("not-the-password").await;
    let e = result.expect_err("a wrong password stops init");
    let message = format!("{e:#}");
    assert_eq!(error_exit_code(&e), 78, "{message}");
    assert!(
        message.contains("tenant[0].microsoft.certificate.password")
            && message.contains("wrong password"),
        "{message}"
    );
    assert_no_key_material("the output", &out, &key_pem, &["not-the-password"]);
    assert!(!config.exists());

    let (result, out) = run(PFX_PASSWORD).await;
    let code = result.expect("init succeeds");
    assert_eq!(code, std::process::ExitCode::SUCCESS, "{out}");
    assert!(out.contains("configuration ok"), "{out}");
    assert!(
        out.contains(&format!(
            "{} and {}",
            init::API_KEY_VAR,
            init::PKCS12_PASSWORD_VAR
        )),
        "{out}"
    );
    assert_no_key_material("the output", &out, &key_pem, &[PFX_PASSWORD]);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains(&format!(
            "certificate = {{ pkcs12 = {:?}, password = {{ env = {:?} }} }}",
            pfx.display().to_string(),
            init::PKCS12_PASSWORD_VAR
        )),
        "{text}"
    );
    assert_no_key_material("the config file", &text, &key_pem, &[PFX_PASSWORD]);
    let env_text =
        std::fs::read_to_string(config.with_file_name("raynet-sync.secrets.env")).unwrap();
    assert!(
        env_text.contains(&format!("{}={PFX_PASSWORD}\n", init::PKCS12_PASSWORD_VAR)),
        "the password is in the owner-only secrets file"
    );
    let env = |name: &str| match name {
        n if n == init::API_KEY_VAR => Ok(DEFAULT_API_KEY.to_owned()),
        n if n == init::PKCS12_PASSWORD_VAR => Ok(PFX_PASSWORD.to_owned()),
        _ => Err(std::env::VarError::NotPresent),
    };
    let loaded = Config::from_toml(&text, &config, &env).expect("the written config loads");
    assert!(matches!(
        loaded.tenants[0].microsoft.credential,
        ClientCredential::Certificate(_)
    ));
}
