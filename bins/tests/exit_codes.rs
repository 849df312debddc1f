//! The exit codes are said the same way in three places: the code (`cli::exit`), the text
//! `--help` prints, and the README. And the binary uses them as they say.

use std::collections::BTreeMap;
use std::process::Command;

use raynet_sync::cli::exit;

use crate::util::{TempDir, raynet_sync};

/// The codes and their explanations of an "Exit codes: 0 a; 1 b; …" text (the README writes
/// the codes in backticks).
fn codes_in(text: &str) -> BTreeMap<u8, String> {
    let start = text
        .find("Exit codes:")
        .expect("an \"Exit codes:\" paragraph")
        + 11;
    let paragraph = text[start..]
        .split("\n\n")
        .next()
        .unwrap()
        .replace(['`', '\n'], " ");
    paragraph
        .split(';')
        .filter_map(|part| {
            let part = part.trim();
            let (code, meaning) = part.split_once(' ')?;
            Some((code.parse().ok()?, meaning.trim().to_lowercase()))
        })
        .collect()
}

/// What each code must be said to mean, wherever it is explained: (code, words).
fn meanings() -> [(u8, &'static [&'static str]); 5] {
    [
        (exit::SUCCESS, &["success"]),
        (exit::FAILURE, &["could not run", "unreachable"]),
        (
            exit::PARTIAL_FAILURE,
            &["failed", "retried next round", "guard"],
        ),
        (exit::USAGE, &["command line"]),
        (exit::CONFIG_ERROR, &["configuration", "state file"]),
    ]
}

fn assert_explains(place: &str, codes: &BTreeMap<u8, String>) {
    let wanted: Vec<u8> = meanings().iter().map(|(c, _)| *c).collect();
    let found: Vec<u8> = codes.keys().copied().collect();
    assert_eq!(found, wanted, "{place} lists other codes: {codes:?}");
    for (code, words) in meanings() {
        let meaning = &codes[&code];
        for word in words {
            assert!(
                meaning.contains(word),
                "{place}: code {code} is explained as {meaning:?}, without {word:?}"
            );
        }
    }
}

#[test]
fn help_readme_and_code_say_the_same_exit_codes() {
    let help = Command::new(env!("CARGO_BIN_EXE_raynet-sync"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    assert_explains("--help", &codes_in(&help));
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    assert_explains("README", &codes_in(&readme));
}

#[test]
fn the_binary_exits_with_the_codes_it_explains() {
    let usage = Command::new(env!("CARGO_BIN_EXE_raynet-sync"))
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(i32::from(exit::USAGE)));
    let dir = TempDir::new("exit");
    let config = dir.write("raynet-sync.toml", "state_path = 3\n");
    let bad = raynet_sync(&config, &["check"], false);
    assert_eq!(bad.code, i32::from(exit::CONFIG_ERROR), "{}", bad.stderr);
}
