//! Errors that teach: a message and the `note:`s that follow it, kept apart as data so that the
//! JSON output reports them as separate fields, while the text stays what the CLI prints
//! (`message`, then `\nnote: …` for each note).
//!
//! [`parts`] takes any error chain apart the same way: a [`Diagnostic`] and a
//! [`ConfigError`](crate::ConfigError) by their fields, any other error by its `\nnote: ` lines.

use std::error::Error as StdError;
use std::fmt;

/// An error with notes. It displays as `message` followed by `\nnote: <note>` per note.
///
/// A cause (an engine error, say) is shown inside `message`, before the notes, as the text has
/// always had it; it is kept as data in [`Diagnostic::cause`] rather than as the standard
/// `source()`, which `{:#}` would print again, after the notes.
#[derive(Debug)]
pub struct Diagnostic {
    message: String,
    notes: Vec<String>,
    cause: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Diagnostic {
    pub fn new(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            notes: Vec::new(),
            cause: None,
        }
    }

    /// Adds a note (without the `note: ` prefix).
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Keeps the error that caused this one (which `message` already shows).
    pub fn caused_by(
        mut self,
        cause: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        self.cause = Some(cause.into());
        self
    }

    /// The message, without the notes.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The notes, each without its `note: ` prefix.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The error that caused this one, if it was kept.
    pub fn cause(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.cause.as_deref()
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for note in &self.notes {
            write!(f, "\nnote: {note}")?;
        }
        Ok(())
    }
}

impl StdError for Diagnostic {}

/// The prefix of every note in an error's text.
const NOTE: &str = "\nnote: ";

/// An error's message and notes apart: the chain's messages joined by `: ` as `{:#}` joins them,
/// and the notes of every error in it, in order.
pub fn parts(error: &anyhow::Error) -> (String, Vec<String>) {
    let mut messages = Vec::new();
    let mut notes = Vec::new();
    for cause in error.chain() {
        if let Some(d) = cause.downcast_ref::<Diagnostic>() {
            messages.push(d.message.clone());
            notes.extend(d.notes.iter().cloned());
        } else if let Some(c) = cause.downcast_ref::<crate::ConfigError>() {
            messages.push(c.headline());
            notes.extend(c.note.iter().cloned());
        } else {
            split_text(&cause.to_string(), &mut messages, &mut notes);
        }
    }
    (messages.join(": "), notes)
}

/// An error that glues its notes into its text: the text before the first `\nnote: `, and the
/// notes after it.
fn split_text(text: &str, messages: &mut Vec<String>, notes: &mut Vec<String>) {
    let mut pieces = text.split(NOTE);
    messages.push(pieces.next().unwrap_or_default().to_string());
    notes.extend(pieces.map(str::to_string));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diagnostic_displays_as_the_glued_text_and_comes_apart() {
        let d = Diagnostic::new("failed to pull `x`: no route")
            .note("pull it")
            .note("the builder base is `builder-base`");
        assert_eq!(
            d.to_string(),
            "failed to pull `x`: no route\nnote: pull it\nnote: the builder base is `builder-base`"
        );
        let e = anyhow::Error::new(d).context("the rehearsal failed");
        assert_eq!(
            format!("{e:#}"),
            "the rehearsal failed: failed to pull `x`: no route\nnote: pull it\nnote: the \
             builder base is `builder-base`"
        );
        let (message, notes) = parts(&e);
        assert_eq!(
            message,
            "the rehearsal failed: failed to pull `x`: no route"
        );
        assert_eq!(notes, ["pull it", "the builder base is `builder-base`"]);
    }

    #[test]
    fn other_errors_come_apart_at_their_note_lines() {
        let e = anyhow::anyhow!("`a` is wrong\nnote: fix it\nnote: or\n\n    this\n")
            .context("while checking");
        let (message, notes) = parts(&e);
        assert_eq!(message, "while checking: `a` is wrong");
        assert_eq!(notes, ["fix it", "or\n\n    this\n"]);
        let (message, notes) = parts(&anyhow::anyhow!("plain"));
        assert_eq!((message.as_str(), notes.len()), ("plain", 0));
    }
}
