//! [`Session`]: one run of `init` — the prompter, where lines are written, whether anything
//! may be asked — and [`Problem`], what a step found wrong with an answer. A given answer (a
//! flag or a variable) is taken as it is; after a problem, the step's questions are asked
//! again with the answers so far as defaults (interactive), or `init` stops (unattended).

use std::io::Write;
use std::path::PathBuf;

use super::prompt::{Prompter, Waited};
use crate::config::{ConfigError, Secret};

/// One question: what it asks, the config key it fills, and its flag and variable.
pub(super) struct Question {
    /// The prompt.
    pub(super) label: &'static str,
    /// The config key it ends up in (named in errors).
    pub(super) key: &'static str,
    /// Its flag, or `None` for a secret (read from the variable only).
    pub(super) flag: Option<&'static str>,
    /// Its environment variable.
    pub(super) env: &'static str,
}

/// What a step found wrong: its message names the cause and what to do.
#[derive(Debug)]
pub(super) enum Problem {
    /// An answer is wrong (a key refused, a group not found, a permission not granted):
    /// exit 78 when unattended.
    Answer {
        /// The config key at fault.
        key: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
    /// A service could not be reached: exit 1 when unattended.
    Unreachable(String),
    /// Not about an answer (the terminal went away): stops `init` at once.
    Fatal(anyhow::Error),
}

impl From<anyhow::Error> for Problem {
    fn from(e: anyhow::Error) -> Self {
        Self::Fatal(e)
    }
}

impl Problem {
    /// A wrong answer for `key`.
    pub(super) fn answer(key: &'static str, message: impl Into<String>) -> Self {
        Self::Answer {
            key,
            message: message.into(),
        }
    }
}

/// One run of `init`.
pub(super) struct Session<'a> {
    prompter: &'a mut dyn Prompter,
    out: &'a mut dyn Write,
    /// Nothing may be asked.
    pub(super) unattended: bool,
    /// The config file being written (named in errors).
    pub(super) config: PathBuf,
    /// A step is being tried again: given answers are asked for again, as defaults.
    retrying: bool,
}

impl<'a> Session<'a> {
    pub(super) fn new(
        prompter: &'a mut dyn Prompter,
        out: &'a mut dyn Write,
        unattended: bool,
        config: PathBuf,
    ) -> Self {
        Self {
            prompter,
            out,
            unattended,
            config,
            retrying: false,
        }
    }

    /// Writes a line (to standard output, in the binary). A line that cannot be written is
    /// not a reason to stop.
    pub(super) fn say(&mut self, line: impl AsRef<str>) {
        let _ = writeln!(self.out, "{}", line.as_ref());
    }

    /// A text answer: the given one, else asked (with `default`), else (unattended)
    /// `default` or an error naming the flag and the variable.
    pub(super) fn text(
        &mut self,
        q: &Question,
        given: Option<&str>,
        default: Option<&str>,
    ) -> anyhow::Result<String> {
        let given = given.map(str::trim).filter(|g| !g.is_empty());
        if let Some(g) = given.filter(|_| !self.retrying || self.unattended) {
            self.say(format!("{}: {g}", q.label));
            return Ok(g.to_owned());
        }
        if self.unattended {
            return default
                .map(ToOwned::to_owned)
                .ok_or_else(|| self.missing(q));
        }
        loop {
            let answer = self.prompter.text(q.label, given.or(default))?;
            let answer = answer.trim();
            if !answer.is_empty() {
                return Ok(answer.to_owned());
            }
            self.say(format!("  {} is needed.", q.label));
        }
    }

    /// A secret: the given one (from its variable), else asked without echo (Enter keeps
    /// the given one when trying again).
    pub(super) fn secret(
        &mut self,
        q: &Question,
        given: Option<&Secret>,
    ) -> anyhow::Result<Secret> {
        let given = given.filter(|g| !g.expose().trim().is_empty());
        if let Some(g) = given.filter(|_| !self.retrying || self.unattended) {
            self.say(format!("{}: (from {})", q.label, q.env));
            return Ok(g.clone());
        }
        if self.unattended {
            return Err(self.missing(q));
        }
        loop {
            let label = if given.is_some() {
                format!("{} (Enter keeps the one given)", q.label)
            } else {
                q.label.to_owned()
            };
            let answer = self.prompter.secret(&label)?;
            if !answer.expose().trim().is_empty() {
                return Ok(Secret::new(answer.expose().trim()));
            }
            if let Some(g) = given {
                return Ok(g.clone());
            }
            self.say(format!("  {} is needed.", q.label));
        }
    }

    /// One of `options` (value, one sentence): the given one, else picked (the default
    /// marked), else (unattended) `default`.
    pub(super) fn choose(
        &mut self,
        q: &Question,
        given: Option<&str>,
        options: &[(&str, &str)],
        default: &str,
    ) -> anyhow::Result<String> {
        if let Some(g) = given.map(str::trim).filter(|g| !g.is_empty()) {
            if options.iter().any(|(v, _)| v.eq_ignore_ascii_case(g)) {
                if !self.retrying || self.unattended {
                    self.say(format!("{}: {g}", q.label));
                    return Ok(g.to_ascii_lowercase());
                }
            } else if self.unattended {
                let allowed: Vec<&str> = options.iter().map(|(v, _)| *v).collect();
                return Err(self.invalid(
                    q.key,
                    format!(
                        "unknown value {g:?} from {} (allowed: {})",
                        q.flag.unwrap_or(q.env),
                        allowed.join(", ")
                    ),
                ));
            }
        }
        if self.unattended {
            self.say(format!("{}: {default} (the default)", q.label));
            return Ok(default.to_owned());
        }
        let items: Vec<String> = options
            .iter()
            .map(|(v, what)| {
                let mark = if *v == default { " (default)" } else { "" };
                format!("{v}{mark} — {what}")
            })
            .collect();
        let at = options.iter().position(|(v, _)| *v == default).unwrap_or(0);
        let picked = self.prompter.choose(q.label, &items, at)?;
        Ok(options.get(picked).map_or(default, |(v, _)| *v).to_owned())
    }

    /// Yes or no; unattended, `unattended_answer`.
    pub(super) fn confirm(
        &mut self,
        prompt: &str,
        default: bool,
        unattended_answer: bool,
    ) -> anyhow::Result<bool> {
        if self.unattended {
            return Ok(unattended_answer);
        }
        self.prompter.confirm(prompt, default)
    }

    /// One of `items`, picked (interactive only).
    pub(super) fn pick(&mut self, prompt: &str, items: &[String]) -> anyhow::Result<usize> {
        self.prompter.choose(prompt, items, 0)
    }

    /// One of `items`, found by typing part of it (interactive only).
    pub(super) fn search(&mut self, prompt: &str, items: &[String]) -> anyhow::Result<usize> {
        self.prompter.search(prompt, items, 0)
    }

    /// Waits at most `timeout` for Enter or `q` (interactive only).
    pub(super) fn wait(&mut self, timeout: std::time::Duration) -> anyhow::Result<Waited> {
        let _ = self.out.flush();
        self.prompter.wait(timeout)
    }

    /// Whether a step is being tried again.
    pub(super) fn retrying(&self) -> bool {
        self.retrying
    }

    /// Decides what a step's `problem` leads to: `Ok` to try the step again (interactive,
    /// when the user wants to), else the error `init` stops with.
    pub(super) fn retry_or_fail(&mut self, problem: Problem) -> anyhow::Result<()> {
        let (message, error) = match problem {
            Problem::Fatal(e) => return Err(e),
            Problem::Answer { key, message } => {
                let e = self.invalid(key, message.clone());
                (message, e)
            }
            Problem::Unreachable(message) => (message.clone(), anyhow::anyhow!(message)),
        };
        if self.unattended {
            return Err(error);
        }
        self.say(format!("  problem: {message}"));
        if self
            .prompter
            .confirm("Change the answers and try again?", true)?
        {
            self.retrying = true;
            Ok(())
        } else {
            Err(error)
        }
    }

    /// A step went through: the next one takes given answers again.
    pub(super) fn step_done(&mut self) {
        self.retrying = false;
    }

    /// The error for a wrong answer to `key` (exit 78).
    pub(super) fn invalid(&self, key: &str, reason: impl Into<String>) -> anyhow::Error {
        ConfigError::Invalid {
            file: self.config.clone(),
            key: key.to_owned(),
            reason: reason.into(),
        }
        .into()
    }

    fn missing(&self, q: &Question) -> anyhow::Error {
        let how = match q.flag {
            Some(flag) => format!("pass {flag} or set {}", q.env),
            None => format!("set {}", q.env),
        };
        self.invalid(q.key, format!("{} was not given: {how}", q.label))
    }
}
