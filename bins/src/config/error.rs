//! [`ConfigError`]: the one error of loading a config file, naming the file and the key.

use std::path::{Path, PathBuf};

/// A configuration that cannot be used. Every variant names the config file; all but
/// [`ConfigError::Read`] and [`ConfigError::Syntax`] name the key at fault. No variant ever
/// holds a secret's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {}", file.display())]
    Read {
        /// The config file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("config file {}{}: not valid TOML: {message}", file.display(), at_line(*line))]
    Syntax {
        /// The config file.
        file: PathBuf,
        /// The line of the error, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A key holds a value of the wrong type, an unknown value, or is unknown or missing.
    #[error("config file {}{}: key `{key}`: {message}", file.display(), at_line(*line))]
    Parse {
        /// The config file.
        file: PathBuf,
        /// The full dotted key (`tenant[0].sync.private_events`).
        key: String,
        /// The line of the error, when known.
        line: Option<usize>,
        /// What is wrong, and what is allowed.
        message: String,
    },
    /// A key's value is well-typed but makes no sense.
    #[error("config file {}: key `{key}`: {reason}", file.display())]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// The full dotted key.
        key: String,
        /// What is wrong, and what is allowed.
        reason: String,
    },
    /// A secret given as `{ env = "NAME" }` could not be read from the environment.
    #[error("config file {}: key `{key}`: environment variable `{var}` {reason}", file.display())]
    SecretEnv {
        /// The config file.
        file: PathBuf,
        /// The full dotted key of the secret.
        key: String,
        /// The variable's name.
        var: String,
        /// What is wrong with it ("is not set", "is empty", ...).
        reason: &'static str,
    },
    /// A secret given as `{ file = "PATH" }` could not be read.
    #[error("config file {}: key `{key}`: cannot read secret file {}", file.display(), path.display())]
    SecretFile {
        /// The config file.
        file: PathBuf,
        /// The full dotted key of the secret.
        key: String,
        /// The secret file.
        path: PathBuf,
        /// Why (an I/O error; never the file's content).
        #[source]
        source: std::io::Error,
    },
    /// `--tenant NAME` names no tenant of the file.
    #[error("config file {}: no tenant named `{name}` (known: {known})", file.display())]
    UnknownTenant {
        /// The config file.
        file: PathBuf,
        /// The name asked for.
        name: String,
        /// The names the file holds, comma-separated.
        known: String,
    },
}

impl ConfigError {
    /// The full dotted key at fault, when the error is about one key.
    #[must_use]
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Parse { key, .. }
            | Self::Invalid { key, .. }
            | Self::SecretEnv { key, .. }
            | Self::SecretFile { key, .. } => Some(key),
            Self::Read { .. } | Self::Syntax { .. } | Self::UnknownTenant { .. } => None,
        }
    }

    /// A [`ConfigError::Invalid`] of `key` in `file`.
    pub(super) fn invalid(file: &Path, key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            file: file.to_owned(),
            key: key.into(),
            reason: reason.into(),
        }
    }
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(", line {l}")).unwrap_or_default()
}
