//! [`Prompter`]: how `init` asks a question — on the terminal ([`TerminalPrompter`], with
//! `dialoguer`) or from a script ([`ScriptedPrompter`], for tests and for feeding answers from a
//! program).

use std::collections::VecDeque;
use std::time::Duration;

use anyhow::Context as _;

use crate::config::Secret;

/// Asks the user one question at a time.
///
/// Note for implementors: a secret's answer is never shown, echoed or recorded.
pub trait Prompter {
    /// A line of text; `default` is taken when the answer is empty.
    ///
    /// # Errors
    /// When nothing can be read (end of input, no terminal).
    fn text(&mut self, prompt: &str, default: Option<&str>) -> anyhow::Result<String>;
    /// A secret, read without echo.
    ///
    /// # Errors
    /// When nothing can be read.
    fn secret(&mut self, prompt: &str) -> anyhow::Result<Secret>;
    /// One of `items` (at least one); returns its index.
    ///
    /// # Errors
    /// When nothing can be read.
    fn choose(&mut self, prompt: &str, items: &[String], default: usize) -> anyhow::Result<usize>;
    /// Yes or no.
    ///
    /// # Errors
    /// When nothing can be read.
    fn confirm(&mut self, prompt: &str, default: bool) -> anyhow::Result<bool>;
    /// One of `items` (at least one), found by typing part of it: the list narrows to the
    /// items that match as the user types. Returns its index.
    ///
    /// # Errors
    /// When nothing can be read.
    fn search(&mut self, prompt: &str, items: &[String], default: usize) -> anyhow::Result<usize>;
    /// Waits at most `timeout` for the user (who was told what Enter and `q` do).
    ///
    /// # Errors
    /// When nothing can be read.
    fn wait(&mut self, timeout: Duration) -> anyhow::Result<Waited>;
}

/// What the user did while [`Prompter::wait`] waited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waited {
    /// Pressed Enter: check again now.
    Again,
    /// Nothing within the time: check again by itself.
    TimedOut,
    /// Typed `q` (or closed the input): stop waiting.
    Stop,
}

/// The terminal: prompts on standard error, secrets without echo, a list to pick from with the
/// arrow keys.
#[derive(Debug, Default)]
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn text(&mut self, prompt: &str, default: Option<&str>) -> anyhow::Result<String> {
        let mut input = dialoguer::Input::<String>::new()
            .with_prompt(prompt)
            .allow_empty(default.is_some());
        if let Some(d) = default {
            input = input.default(d.to_owned());
        }
        input.interact_text().context("cannot read the answer")
    }

    fn secret(&mut self, prompt: &str) -> anyhow::Result<Secret> {
        dialoguer::Password::new()
            .with_prompt(prompt)
            .interact()
            .map(Secret::new)
            .context("cannot read the answer")
    }

    fn choose(&mut self, prompt: &str, items: &[String], default: usize) -> anyhow::Result<usize> {
        dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(default.min(items.len().saturating_sub(1)))
            .interact()
            .context("cannot read the answer")
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> anyhow::Result<bool> {
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(default)
            .interact()
            .context("cannot read the answer")
    }

    fn search(&mut self, prompt: &str, items: &[String], default: usize) -> anyhow::Result<usize> {
        dialoguer::FuzzySelect::new()
            .with_prompt(prompt)
            .items(items)
            .default(default.min(items.len().saturating_sub(1)))
            .max_length(12)
            .interact()
            .context("cannot read the answer")
    }

    /// A line on standard input within `timeout` (the terminal hands over a line at Enter).
    #[cfg(unix)]
    fn wait(&mut self, timeout: Duration) -> anyhow::Result<Waited> {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        let stdin = std::io::stdin();
        let mut fds = [PollFd::new(&stdin, PollFlags::IN)];
        let timeout = Timespec::try_from(timeout).context("a wait too long")?;
        match poll(&mut fds, Some(&timeout)) {
            Ok(0) | Err(rustix::io::Errno::INTR) => return Ok(Waited::TimedOut),
            Ok(_) => {}
            Err(e) => return Err(e).context("cannot read the terminal"),
        }
        read_wait_line()
    }

    /// Without a poll: Enter checks again (no check by itself).
    #[cfg(not(unix))]
    fn wait(&mut self, _timeout: Duration) -> anyhow::Result<Waited> {
        read_wait_line()
    }
}

/// The line typed while waiting: `q` (or the end of input) stops, anything else checks again.
fn read_wait_line() -> anyhow::Result<Waited> {
    let mut line = String::new();
    let read = std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the terminal")?;
    Ok(if read == 0 || line.trim().eq_ignore_ascii_case("q") {
        Waited::Stop
    } else {
        Waited::Again
    })
}

/// Answers from a script, in order, and a transcript of the questions and the (non-secret)
/// answers.
///
/// Each answer is a string: for [`Prompter::text`] the text (empty takes the default), for
/// [`Prompter::secret`] the secret, for [`Prompter::choose`] the start of an item
/// (case-insensitive; empty takes the default), for [`Prompter::confirm`] `y` or `n` (empty
/// takes the default), for [`Prompter::search`] what is typed (the first item holding it,
/// case-insensitive; empty takes the default), for [`Prompter::wait`] empty (Enter), `q`
/// (stop) or `-` (nothing typed: the time runs out).
#[derive(Default)]
pub struct ScriptedPrompter {
    answers: VecDeque<String>,
    transcript: String,
    on_wait: Option<Box<dyn FnMut() + Send>>,
}

impl std::fmt::Debug for ScriptedPrompter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedPrompter")
            .field("remaining", &self.answers.len())
            .finish_non_exhaustive()
    }
}

impl ScriptedPrompter {
    /// A script of `answers`.
    pub fn new<S: Into<String>>(answers: impl IntoIterator<Item = S>) -> Self {
        Self {
            answers: answers.into_iter().map(Into::into).collect(),
            transcript: String::new(),
            on_wait: None,
        }
    }

    /// Runs `action` at each [`Prompter::wait`], before its answer: what happens elsewhere
    /// while `init` waits (an administrator granting consent).
    #[must_use]
    pub fn on_wait(mut self, action: impl FnMut() + Send + 'static) -> Self {
        self.on_wait = Some(Box::new(action));
        self
    }

    /// The questions asked and the answers given (secrets as `***`), one per line.
    #[must_use]
    pub fn transcript(&self) -> &str {
        &self.transcript
    }

    /// The answers not used.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.answers.len()
    }

    fn next(&mut self, prompt: &str) -> anyhow::Result<String> {
        self.answers
            .pop_front()
            .with_context(|| format!("the script has no answer left for {prompt:?}"))
    }

    fn record(&mut self, prompt: &str, answer: &str) {
        self.transcript = format!("{}? {prompt} > {answer}\n", self.transcript);
    }
}

impl Prompter for ScriptedPrompter {
    fn text(&mut self, prompt: &str, default: Option<&str>) -> anyhow::Result<String> {
        let mut answer = self.next(prompt)?;
        if answer.is_empty() {
            default.unwrap_or_default().clone_into(&mut answer);
        }
        self.record(prompt, &answer);
        Ok(answer)
    }

    fn secret(&mut self, prompt: &str) -> anyhow::Result<Secret> {
        let answer = self.next(prompt)?;
        self.record(prompt, "***");
        Ok(Secret::new(answer))
    }

    fn choose(&mut self, prompt: &str, items: &[String], default: usize) -> anyhow::Result<usize> {
        let answer = self.next(prompt)?;
        let wanted = answer.to_lowercase();
        let index = if wanted.is_empty() {
            Some(default)
        } else {
            items
                .iter()
                .position(|i| i.to_lowercase().starts_with(&wanted))
        };
        let index = index
            .filter(|i| *i < items.len())
            .with_context(|| format!("the script's answer {answer:?} is none of {items:?}"))?;
        self.record(prompt, &items[index]);
        Ok(index)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> anyhow::Result<bool> {
        let answer = self.next(prompt)?;
        let yes = match answer.trim().to_lowercase().as_str() {
            "" => default,
            "y" | "yes" => true,
            "n" | "no" => false,
            _ => anyhow::bail!("the script's answer {answer:?} to {prompt:?} is not y or n"),
        };
        self.record(prompt, if yes { "yes" } else { "no" });
        Ok(yes)
    }

    fn search(&mut self, prompt: &str, items: &[String], default: usize) -> anyhow::Result<usize> {
        let typed = self.next(prompt)?;
        let wanted = typed.to_lowercase();
        let index = if wanted.is_empty() {
            Some(default)
        } else {
            items
                .iter()
                .position(|i| i.to_lowercase().contains(&wanted))
        };
        let index = index
            .filter(|i| *i < items.len())
            .with_context(|| format!("the script's answer {typed:?} is in none of {items:?}"))?;
        self.record(prompt, &items[index]);
        Ok(index)
    }

    fn wait(&mut self, _timeout: Duration) -> anyhow::Result<Waited> {
        let answer = self.next("waiting")?;
        if let Some(action) = self.on_wait.as_mut() {
            action();
        }
        let waited = match answer.trim() {
            "" => Waited::Again,
            "-" => Waited::TimedOut,
            "q" => Waited::Stop,
            _ => anyhow::bail!("the script's answer {answer:?} to a wait is not empty, - or q"),
        };
        self.record("(waiting)", &format!("{waited:?}"));
        Ok(waited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_answers_in_order_and_never_records_a_secret() {
        let mut p = ScriptedPrompter::new(["", "hunter2", "ti", "n"]);
        assert_eq!(p.text("Name", Some("acme")).unwrap(), "acme");
        assert_eq!(p.secret("Key").unwrap().expose(), "hunter2");
        let items = ["standard".to_owned(), "time-blocker".to_owned()];
        assert_eq!(p.choose("Private", &items, 0).unwrap(), 1);
        assert!(!p.confirm("Again?", true).unwrap());
        assert!(p.text("More", None).is_err(), "the script is spent");
        assert!(!p.transcript().contains("hunter2"));
        assert!(p.transcript().contains("? Key > ***"));
    }

    #[test]
    fn a_search_takes_the_first_item_holding_the_typed_text_and_a_wait_runs_its_action() {
        let waited = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = waited.clone();
        let mut p = ScriptedPrompter::new(["sync", "", "-", "q"]).on_wait(move || {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        let items = ["Sales".to_owned(), "Raynet Sync".to_owned()];
        assert_eq!(p.search("Group", &items, 0).unwrap(), 1);
        assert_eq!(p.wait(Duration::ZERO).unwrap(), Waited::Again);
        assert_eq!(p.wait(Duration::ZERO).unwrap(), Waited::TimedOut);
        assert_eq!(p.wait(Duration::ZERO).unwrap(), Waited::Stop);
        assert_eq!(waited.load(std::sync::atomic::Ordering::SeqCst), 3);
        let mut p = ScriptedPrompter::new(["nope"]);
        assert!(p.search("Group", &items, 0).is_err(), "no item holds it");
    }
}
