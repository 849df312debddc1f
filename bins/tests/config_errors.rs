//! Bad config files: exit code 78 (`CONFIG_ERROR`), a message naming the file and the full key, no secret shown.

use crate::util::{CONFIG_ERROR, SECRET_VAR, TempDir, config_text, raynet_sync};

/// Runs `check` and `run` on a config whose `[tenant.sync]` holds `sync`, and asserts both exit
/// with code 78 naming the file, `key` and `hint`.
fn assert_refused(sync: &str, key: &str, hint: &str) {
    let dir = TempDir::new("cfg");
    let config = dir.write("raynet-sync.toml", &config_text(sync));
    for command in [&["check"][..], &["run", "--dry-run"][..]] {
        let out = raynet_sync(&config, command, true);
        assert_eq!(out.code, CONFIG_ERROR, "{command:?}: {}", out.stderr);
        assert!(out.stderr.contains("raynet-sync.toml"), "{}", out.stderr);
        assert!(out.stderr.contains(key), "{}", out.stderr);
        assert!(out.stderr.contains(hint), "{}", out.stderr);
    }
    assert!(
        !dir.path().join("state.db").exists(),
        "a bad config must not create the state file"
    );
}

#[test]
fn wrong_type() {
    assert_refused(
        "private_events = 3",
        "tenant[0].sync.private_events",
        "expected a string",
    );
}

#[test]
fn unknown_value_lists_the_allowed_ones() {
    assert_refused(
        r#"outlook_deletes = "purge""#,
        "tenant[0].sync.outlook_deletes",
        "delete cancel ignore",
    );
}

#[test]
fn unknown_key() {
    assert_refused(r#"colour = "red""#, "tenant[0].sync.colour", "unknown key");
}

#[test]
fn impossible_value() {
    assert_refused(
        "max_delete_share = 3",
        "tenant[0].sync.max_delete_share",
        "between 0 and 1",
    );
}

#[test]
fn missing_secret_env_names_the_variable_not_a_value() {
    let dir = TempDir::new("cfg-env");
    let config = dir.write("raynet-sync.toml", &config_text(""));
    let out = raynet_sync(&config, &["check"], false);
    assert_eq!(out.code, CONFIG_ERROR, "{}", out.stderr);
    assert!(
        out.stderr.contains("tenant[0].microsoft.client_secret"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(SECRET_VAR), "{}", out.stderr);
    assert!(out.stderr.contains("is not set"), "{}", out.stderr);
}

#[test]
fn wrong_type_for_a_secret_does_not_quote_it() {
    let dir = TempDir::new("cfg-secret-type");
    let text = config_text("").replace(
        &format!("\"{}\"", crate::util::LITERAL_API_KEY),
        "31415926535",
    );
    let config = dir.write("raynet-sync.toml", &text);
    let out = raynet_sync(&config, &["check"], true);
    assert_eq!(out.code, CONFIG_ERROR, "{}", out.stderr);
    assert!(
        out.stderr.contains("tenant[0].raynet.api_key"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("31415926535"), "{}", out.stderr);
}

#[test]
fn missing_config_file_is_named() {
    let dir = TempDir::new("cfg-missing");
    let out = raynet_sync(&dir.path().join("nope.toml"), &["check"], true);
    assert_eq!(out.code, CONFIG_ERROR, "{}", out.stderr);
    assert!(out.stderr.contains("nope.toml"), "{}", out.stderr);
}

#[test]
fn unknown_tenant_is_named() {
    let dir = TempDir::new("cfg-tenant");
    let config = dir.write("raynet-sync.toml", &config_text(""));
    let out = raynet_sync(&config, &["run", "--tenant", "globex"], true);
    assert_eq!(out.code, CONFIG_ERROR, "{}", out.stderr);
    assert!(
        out.stderr.contains("globex") && out.stderr.contains("acme"),
        "{}",
        out.stderr
    );
}

#[test]
fn valid_config_passes_the_config_part_of_check() {
    let dir = TempDir::new("cfg-ok");
    let config = dir.write("raynet-sync.toml", &config_text(r#"mode = "meetings""#));
    let out = raynet_sync(&config, &["check"], true);
    // The remote checks are not wired yet; only the config part is asserted here.
    assert!(out.stdout.contains("configuration ok"), "{}", out.stderr);
    assert!(out.stdout.contains("tenant `acme`"), "{}", out.stdout);
    assert!(out.stdout.contains("mode meetings"), "{}", out.stdout);
}

#[test]
fn usage_errors_exit_with_the_usage_code() {
    let dir = TempDir::new("cfg-usage");
    let out = raynet_sync(&dir.path().join("c.toml"), &["run", "--bogus"], true);
    assert_eq!(
        out.code,
        i32::from(raynet_sync::cli::exit::USAGE),
        "{}",
        out.stderr
    );
}
