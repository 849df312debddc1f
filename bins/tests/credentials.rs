//! A certificate and a federated token file instead of a client secret: a full sync round
//! with each against both fakes, `check` (the real binary) with each, errors naming the key,
//! and no key, assertion or token in any output or log.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::Utc;
use graph_client::ClientCredential;
use graph_client::fake::{FakeGraph, FederatedIdentityCredential, generate_certificate};
use raynet_sync::config::{Config, TenantConfig};
use raynet_sync::demo::{API_KEY_VAR, CLIENT_SECRET_VAR, Sandbox};
use raynet_sync::store::SqliteStore;
use raynet_sync::wiring::{RoundOptions, TenantClients, sync_tenant};

use crate::util::TempDir;

const ISSUER: &str = "https://oidc.cluster.example/raynet";
const SUBJECT: &str = "system:serviceaccount:sync:raynet-sync";

/// The sample config with its `client_secret` line replaced by `credential`.
fn config_text(sandbox: &Sandbox, state: &Path, credential: &str) -> String {
    let text = sandbox.config_toml(state, "");
    let secret_line = format!("client_secret = {{ env = \"{CLIENT_SECRET_VAR}\" }}");
    assert!(text.contains(&secret_line));
    text.replace(&secret_line, credential)
}

/// Loads `text` with the Raynet key in the environment and no client secret at all.
fn tenant_of(text: &str, file: &Path) -> TenantConfig {
    let env = |name: &str| match name {
        API_KEY_VAR => Ok(raynet_client::fake::DEFAULT_API_KEY.to_owned()),
        _ => Err(std::env::VarError::NotPresent),
    };
    Config::from_toml(text, file, &env)
        .expect("the config loads")
        .tenants
        .remove(0)
}

async fn one_clean_round(tenant: &TenantConfig, state: &Path) -> usize {
    let store = SqliteStore::open(state).unwrap();
    let clients = TenantClients::new(tenant).unwrap();
    let round = sync_tenant(
        &clients,
        &store,
        &tenant.sync.policy,
        RoundOptions::default(),
        Utc::now(),
    )
    .await
    .unwrap();
    assert!(round.is_clean(), "{:?}", round.member_failures);
    round
        .reports
        .iter()
        .map(sync_core::RoundReport::writes)
        .sum()
}

/// A token the workload's platform signed for the app's federated credential.
fn federated_token(issuer_key: &str, jti: &str) -> String {
    let now = Utc::now().timestamp();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.typ = Some("JWT".into());
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": SUBJECT, "aud": "api://AzureADTokenExchange", "jti": jti,
        "nbf": now - 5, "iat": now - 5, "exp": now + 3600,
    });
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(issuer_key.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

/// Runs the real binary (`args` on `config`) with the Raynet key only, `RUST_LOG=trace`.
async fn run_binary(config: PathBuf, args: &[&str]) -> (i32, String, String) {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_raynet-sync"))
            .arg("--config")
            .arg(&config)
            .args(&args)
            .env(API_KEY_VAR, raynet_client::fake::DEFAULT_API_KEY)
            .env_remove(CLIENT_SECRET_VAR)
            .env_remove("AZURE_FEDERATED_TOKEN_FILE")
            .env_remove("RAYNET_SYNC_CONFIG")
            .env("RUST_LOG", "trace")
            .output()
            .expect("run raynet-sync");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// Neither output holds a line of `key_pem`'s body, a JWT, or `extra`.
fn assert_nothing_secret(outputs: &[&str], key_pem: &str, extra: &[&str]) {
    for text in outputs {
        for line in key_pem.lines().filter(|l| !l.starts_with("-----")).take(5) {
            assert!(!text.contains(line), "key material printed:\n{text}");
        }
        assert!(!text.contains("eyJ"), "a JWT printed:\n{text}");
        for e in extra {
            assert!(!text.contains(e), "`{e}` printed:\n{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_runs_a_full_round_and_check() {
    let dir = TempDir::new("cred-cert");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let line = sandbox
        .certificate_credential(&dir.path().join("cert"))
        .unwrap();
    assert!(line.starts_with("certificate = { path = "), "{line}");
    let state = dir.path().join("state.db");
    let text = config_text(&sandbox, &state, &line);
    let config = dir.write("raynet-sync.toml", &text);
    let tenant = tenant_of(&text, &config);
    assert!(matches!(
        tenant.microsoft.credential,
        ClientCredential::Certificate(_)
    ));

    let writes = one_clean_round(&tenant, &state).await;
    assert!(writes > 0, "the first round copies the sample data");
    assert!(sandbox.graph.request_count("token") >= 1);
    assert_eq!(
        sandbox
            .graph
            .requests()
            .iter()
            .filter(|r| r.endpoint == "token" && r.status != 200)
            .count(),
        0,
        "every token request was accepted"
    );

    let (code, stdout, stderr) = run_binary(config.clone(), &["check"]).await;
    assert_eq!(code, crate::util::SUCCESS, "{stdout}\n{stderr}");
    assert!(stdout.contains("credentials ok"), "{stdout}");
    assert!(
        stdout.contains("with a certificate (thumbprint "),
        "{stdout}"
    );
    let key = std::fs::read_to_string(dir.path().join("cert/app.key")).unwrap();
    assert_nothing_secret(&[&stdout, &stderr], &key, &[]);

    // A key that is not the certificate's: a config error naming the key, nothing printed
    // of either key.
    let other = generate_certificate("other").unwrap();
    std::fs::write(dir.path().join("cert/app.key"), &other.private_key_pem).unwrap();
    let (code, stdout, stderr) = run_binary(config, &["check"]).await;
    assert_eq!(code, crate::util::CONFIG_ERROR, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("tenant[0].microsoft.certificate.key")
            && stderr.contains("does not belong to the certificate"),
        "{stderr}"
    );
    assert_nothing_secret(&[&stdout, &stderr], &key, &[]);
    assert_nothing_secret(&[&stdout, &stderr], &other.private_key_pem, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_federated_token_file_runs_a_full_round_and_check() {
    let dir = TempDir::new("cred-fed");
    let sandbox = Sandbox::start(Utc::now()).await.unwrap();
    let issuer = generate_certificate("cluster issuer").unwrap();
    sandbox.graph.register_federated_credential(
        FakeGraph::CLIENT_ID,
        FederatedIdentityCredential::new(ISSUER, SUBJECT, issuer.certificate_pem.clone()),
    );
    let first = federated_token(&issuer.private_key_pem, "round");
    let token_file = dir.write("token", &first);
    let state = dir.path().join("state.db");
    let text = config_text(&sandbox, &state, "federated = { token_file = \"token\" }");
    let config = dir.write("raynet-sync.toml", &text);
    let tenant = tenant_of(&text, &config);
    assert!(matches!(
        tenant.microsoft.credential,
        ClientCredential::Federated(_)
    ));

    let writes = one_clean_round(&tenant, &state).await;
    assert!(writes > 0, "the first round copies the sample data");

    // The platform rotated the file: `check` (a new process, a new token request) uses the
    // new token (the first one's `jti` is spent).
    let second = federated_token(&issuer.private_key_pem, "check");
    std::fs::write(&token_file, &second).unwrap();
    let (code, stdout, stderr) = run_binary(config.clone(), &["check"]).await;
    assert_eq!(code, crate::util::SUCCESS, "{stdout}\n{stderr}");
    assert!(stdout.contains("credentials ok"), "{stdout}");
    assert!(stdout.contains("with a federated token file "), "{stdout}");
    assert_nothing_secret(
        &[&stdout, &stderr],
        &issuer.private_key_pem,
        &[&first, &second],
    );

    // A token the app does not trust: `check` fails, says why, prints no token.
    let other = generate_certificate("another issuer").unwrap();
    let bad = federated_token(&other.private_key_pem, "bad");
    std::fs::write(&token_file, &bad).unwrap();
    let (code, stdout, stderr) = run_binary(config, &["check"]).await;
    assert_ne!(code, crate::util::SUCCESS, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("FAILED") && stdout.contains("invalid_client"),
        "{stdout}"
    );
    assert_nothing_secret(&[&stdout, &stderr], &other.private_key_pem, &[&bad]);
}
