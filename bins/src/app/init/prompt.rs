//! [`Prompter`]: how `init` asks a question — on the terminal ([`TerminalPrompter`], with
//! `dialoguer`) or from a script ([`ScriptedPrompter`], for tests and for feeding answers from a
//! program).

use std::collections::VecDeque;

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
}

/// Answers from a script, in order, and a transcript of the questions and the (non-secret)
/// answers.
///
/// Each answer is a string: for [`Prompter::text`] the text (empty takes the default), for
/// [`Prompter::secret`] the secret, for [`Prompter::choose`] the start of an item
/// (case-insensitive; empty takes the default), for [`Prompter::confirm`] `y` or `n` (empty
/// takes the default).
#[derive(Debug, Default)]
pub struct ScriptedPrompter {
    answers: VecDeque<String>,
    transcript: String,
}

impl ScriptedPrompter {
    /// A script of `answers`.
    pub fn new<S: Into<String>>(answers: impl IntoIterator<Item = S>) -> Self {
        Self {
            answers: answers.into_iter().map(Into::into).collect(),
            transcript: String::new(),
        }
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
}
