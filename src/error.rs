//! The one error type of the crate: a message, the `note:`s that teach what to do, and what the
//! callers need as data — where a configuration value was written ([`Location`]), whether the
//! engine said "not found", the last lines of a failed build's output, the exit code of an
//! interrupted run, and the error that caused it. Configuration, Plans, source closure, engine,
//! manifests and rehearsal all build it.
//!
//! Its `Display` is the text a user reads: the message (`invalid `KEY` in `FILE:LINE`: …` when
//! it has a location), then one `note: …` line per note (written by [`write_notes`] alone). An error that teaches ends its chain:
//! its notes close the text, so a cause it keeps is shown before them, not after. [`Report`]
//! takes any error chain apart into its message and notes; the human output (`error: …` then
//! `note: …` lines) and the JSON `error` event are both made from it.

// The `build.rs` subset (without `cli`) makes configuration errors only; the engine's data (not
// found, the output tail, the exit code) and the report are the command's.
#![cfg_attr(not(feature = "cli"), allow(dead_code))]

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Any error, as a cause an [`Error`] keeps.
type BoxedError = Box<dyn StdError + Send + Sync + 'static>;

/// An error with its notes kept as data (boxed: a `Result` carrying it stays small).
#[derive(Debug, Clone)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    message: String,
    notes: Vec<String>,
    location: Option<Location>,
    kind: Kind,
    /// The last lines of a failed build's output, indented, one per line (empty otherwise).
    tail: String,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
    role: Role,
}

/// Where the value an error is about was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A key of a manifest: the file, the 1-based line of the key when it can be found, and the
    /// full dotted key (e.g. `package.metadata.s2i.okd.git-uri`).
    Key {
        file: PathBuf,
        line: Option<usize>,
        key: String,
    },
    /// A command-line flag, or the environment variable that stands in for it, giving `key`.
    Flag {
        flag: &'static str,
        env: &'static str,
        key: String,
    },
}

/// What a caller may need to tell errors apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Other,
    /// The engine answered 404: no such image, container or path.
    NotFound,
    /// Ctrl-C or SIGTERM stopped the run; the process exits with this code.
    Interrupted(i32),
}

/// How the message relates to the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The source follows the message in the chain (`{:#}` reads `message: source`).
    Chained,
    /// The message already quotes the source, which is kept as data only.
    Quoted,
    /// The message is the source's own; the chain goes on with the source's causes.
    Own,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Error {
        Error(Box::new(Inner {
            message: message.into(),
            notes: Vec::new(),
            location: None,
            kind: Kind::Other,
            tail: String::new(),
            source: None,
            role: Role::Chained,
        }))
    }

    /// An error worded by another one: its message, and its causes after it.
    pub(crate) fn wrap(source: impl StdError + Send + Sync + 'static) -> Error {
        let mut e = Error::new(source.to_string());
        e.0.source = Some(Arc::new(source));
        e.0.role = Role::Own;
        e
    }

    /// Ctrl-C or SIGTERM (`signal`) stopped the run, which exits with `exit_code`.
    pub(crate) fn interrupted(signal: &str, exit_code: i32) -> Error {
        let mut e = Error::new(format!(
            "interrupted by {signal}; the containers of this run were removed and no tag was moved"
        ));
        e.0.kind = Kind::Interrupted(exit_code);
        e
    }

    /// Adds a note (without the `note: ` prefix).
    pub(crate) fn note(mut self, note: impl Into<String>) -> Error {
        self.0.notes.push(note.into());
        self
    }

    /// `error` as one [`Error`]: itself when it is one, else its chain's messages and notes.
    pub(crate) fn from_anyhow(error: anyhow::Error) -> Error {
        match error.downcast::<Error>() {
            Ok(e) => e,
            Err(other) => {
                let Report { message, notes } = Report::of(&other);
                let mut e = Error::new(message);
                e.0.notes = notes;
                e
            }
        }
    }

    /// Says where the value the error is about was written.
    pub(crate) fn at(mut self, location: Location) -> Error {
        self.0.location = Some(location);
        self
    }

    /// The error this one comes from, shown after the message (`{:#}` reads `message: source`).
    pub(crate) fn with_source(mut self, source: impl Into<BoxedError>) -> Error {
        self.0.source = Some(Arc::from(source.into()));
        self.0.role = Role::Chained;
        self
    }

    /// The error this one comes from, which the message already quotes: kept as data.
    pub(crate) fn caused_by(mut self, source: impl Into<BoxedError>) -> Error {
        self.0.source = Some(Arc::from(source.into()));
        self.0.role = Role::Quoted;
        self
    }

    /// Marks the error as the engine's "not found" (404).
    pub(crate) fn not_found(mut self) -> Error {
        self.0.kind = Kind::NotFound;
        self
    }

    /// Keeps the last lines of a failed build's output.
    pub(crate) fn with_tail(mut self, tail: String) -> Error {
        self.0.tail = tail;
        self
    }

    /// The message, without the location and the notes.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The notes, each without its `note: ` prefix.
    pub fn notes(&self) -> &[String] {
        &self.0.notes
    }

    /// Where the value the error is about was written, when it is about a value.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// Whether the engine answered 404: no such image, container or path.
    pub(crate) fn is_not_found(&self) -> bool {
        self.0.kind == Kind::NotFound
    }

    /// The last lines of a failed build's output, indented, one per line (empty otherwise).
    pub(crate) fn tail(&self) -> &str {
        &self.0.tail
    }

    /// The exit code of a run that Ctrl-C or SIGTERM stopped.
    pub(crate) fn interrupted_exit_code(&self) -> Option<i32> {
        match self.0.kind {
            Kind::Interrupted(code) => Some(code),
            _ => None,
        }
    }

    /// The text without the notes: the location and the message, then the causes that the
    /// notes must follow (when there are notes, the chain ends here).
    fn headline(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = &self.0.message;
        match &self.0.location {
            None => f.write_str(message)?,
            Some(Location::Key {
                file,
                line: Some(line),
                key,
            }) => write!(
                f,
                "invalid `{key}` in `{}:{line}`: {message}",
                file.display()
            )?,
            Some(Location::Key {
                file,
                line: None,
                key,
            }) => write!(f, "invalid `{key}` in `{}`: {message}", file.display())?,
            Some(Location::Flag { flag, env, key }) => {
                write!(f, "invalid `{key}` from `{flag}` or `{env}`: {message}")?
            }
        }
        if !self.0.notes.is_empty() {
            let mut cause = self.chained();
            while let Some(c) = cause {
                write!(f, ": {c}")?;
                cause = c.source();
            }
        }
        Ok(())
    }

    /// The first cause the message does not show.
    fn chained(&self) -> Option<&(dyn StdError + 'static)> {
        let source = self.0.source.as_deref()?;
        match self.0.role {
            Role::Chained => Some(source),
            Role::Quoted => None,
            Role::Own => source.source(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.headline(f)?;
        write_notes(f, &self.0.notes)
    }
}

/// The notes after a message: each on a line of its own, after `note: `.
fn write_notes(f: &mut fmt::Formatter<'_>, notes: &[String]) -> fmt::Result {
    for note in notes {
        f.write_str("\n")?;
        write!(f, "note: {note}")?;
    }
    Ok(())
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        // With notes, the causes are in the text before them.
        match self.0.notes.is_empty() {
            true => self.chained(),
            false => None,
        }
    }
}

/// An error chain taken apart: the messages joined by `: ` as `{:#}` joins them, and the notes of
/// every [`Error`] in it, in order. It displays as the human output's text (after `error: `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    pub(crate) message: String,
    pub(crate) notes: Vec<String>,
}

impl Report {
    pub(crate) fn of(error: &anyhow::Error) -> Report {
        struct Headline<'a>(&'a Error);
        impl fmt::Display for Headline<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.headline(f)
            }
        }
        let mut messages = Vec::new();
        let mut notes = Vec::new();
        for cause in error.chain() {
            match cause.downcast_ref::<Error>() {
                Some(e) => {
                    messages.push(Headline(e).to_string());
                    notes.extend(e.0.notes.iter().cloned());
                }
                None => messages.push(cause.to_string()),
            }
        }
        Report {
            message: messages.join(": "),
            notes,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        write_notes(f, &self.notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(lines: &[&str]) -> String {
        lines.join("\n")
    }

    #[derive(Debug)]
    struct Io(&'static str, Option<Box<Io>>);
    impl fmt::Display for Io {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl StdError for Io {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn notes_close_the_text_and_come_apart() {
        let e = Error::new("failed to pull `x`: no route")
            .note("pull it")
            .note("the builder base is `builder-base`");
        assert_eq!(
            e.to_string(),
            lines(&[
                "failed to pull `x`: no route",
                "note: pull it",
                "note: the builder base is `builder-base`"
            ])
        );
        let e = anyhow::Error::new(e).context("the rehearsal failed");
        let report = Report::of(&e);
        assert_eq!(
            report.message,
            "the rehearsal failed: failed to pull `x`: no route"
        );
        assert_eq!(
            report.notes,
            ["pull it", "the builder base is `builder-base`"]
        );
        assert_eq!(format!("{e:#}"), report.to_string());
        let plain = Report::of(&anyhow::anyhow!("plain"));
        assert_eq!((plain.message.as_str(), plain.notes.len()), ("plain", 0));
    }

    #[test]
    fn a_source_follows_the_message_and_precedes_the_notes() {
        let io = || Io("denied", Some(Box::new(Io("no access", None))));
        let e = anyhow::Error::new(Error::new("failed to read `a`").with_source(io()));
        assert_eq!(format!("{e:#}"), "failed to read `a`: denied: no access");
        assert_eq!(
            Report::of(&e).message,
            "failed to read `a`: denied: no access"
        );

        let e = anyhow::Error::new(
            Error::new("failed to read `a`")
                .with_source(io())
                .note("fix"),
        );
        assert_eq!(
            format!("{e:#}"),
            lines(&["failed to read `a`: denied: no access", "note: fix"])
        );
        assert_eq!(format!("{e:#}"), Report::of(&e).to_string());

        let own = anyhow::Error::new(Error::wrap(io()));
        assert_eq!(format!("{own:#}"), "denied: no access");
        let quoted = anyhow::Error::new(Error::new("failed: denied").caused_by(io()));
        assert_eq!(format!("{quoted:#}"), "failed: denied");
    }

    #[test]
    fn a_location_heads_the_message() {
        let e = Error::new("0 is root").note("use 1001").at(Location::Key {
            file: "Cargo.toml".into(),
            line: Some(7),
            key: "package.metadata.s2i.user".into(),
        });
        assert_eq!(
            e.to_string(),
            lines(&[
                "invalid `package.metadata.s2i.user` in `Cargo.toml:7`: 0 is root",
                "note: use 1001"
            ])
        );
        assert_eq!(e.message(), "0 is root");
        let e = Error::new("bad").at(Location::Flag {
            flag: "--builder-base",
            env: "XTASK_S2I_BUILDER_BASE",
            key: "builder-base".into(),
        });
        assert_eq!(
            e.to_string(),
            "invalid `builder-base` from `--builder-base` or `XTASK_S2I_BUILDER_BASE`: bad"
        );
    }

    #[test]
    fn an_interrupted_run_has_its_exit_code() {
        let e = Error::interrupted("SIGTERM", 143);
        assert_eq!(e.interrupted_exit_code(), Some(143));
        assert_eq!(Error::new("other").interrupted_exit_code(), None);
    }
}
