//! Progress reporting. The library never prints: it sends [`Event`]s to a [`Sink`], which the CLI
//! wires to cargo-style status lines on stderr (or JSON lines on stdout) and tests wire to a
//! [`Buffer`].

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

use serde::Serialize;

/// What one stage of the chain did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageReport {
    pub package: String,
    /// `builder`, `app` or `runtime`.
    pub stage: String,
    /// `name:tag`.
    pub image: String,
    /// The image ID (`sha256:...`).
    pub id: String,
    /// Size in bytes.
    pub size: u64,
    pub seconds: f64,
    /// True when the tagged image already had this stage's input digest and nothing was built.
    pub cached: bool,
}

/// One thing worth telling the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Event {
    /// A cargo-style status line: a verb (`Rendering`, `Building`, `Fresh`, ...) and a message.
    Status { verb: String, message: String },
    /// A line of build output (docker build, assemble); shown with `-v`, kept for failures.
    Log { stage: String, line: String },
    /// Something the user should know that does not stop the run.
    Warning { message: String },
    /// A finished stage.
    Stage(StageReport),
    /// The end of a run that built images: every stage of every package, and the wall time.
    Summary {
        stages: Vec<StageReport>,
        seconds: f64,
    },
    /// The error a run ended with: its message and its notes apart (each without `note: `). The
    /// human output prints the error itself (`error: …`, then `note: …` lines), not this event.
    Error { message: String, notes: Vec<String> },
}

impl Event {
    pub fn status(verb: &str, message: impl Into<String>) -> Event {
        Event::Status {
            verb: verb.to_string(),
            message: message.into(),
        }
    }

    pub fn warning(message: impl Into<String>) -> Event {
        Event::Warning {
            message: message.into(),
        }
    }

    /// The [`Event::Error`] of `error`: its chain's messages and its notes, as the human output
    /// prints them (from one `Report`).
    pub fn error(error: &anyhow::Error) -> Event {
        let crate::error::Report { message, notes } = crate::error::Report::of(error);
        Event::Error { message, notes }
    }
}

/// Receives progress events. Implementations must be cheap; the engine calls them for every line
/// of build output.
pub trait Sink: Send + Sync {
    fn event(&self, event: Event);
}

/// Collects events, for this repository's tests and bench.
#[cfg(any(test, feature = "internal"))]
#[derive(Debug, Default)]
pub struct Buffer {
    events: Mutex<Vec<Event>>,
}

#[cfg(any(test, feature = "internal"))]
impl Buffer {
    pub fn new() -> Buffer {
        Buffer::default()
    }

    /// A copy of everything received so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The stage reports received so far.
    pub fn stages(&self) -> Vec<StageReport> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Stage(s) => Some(s),
                _ => None,
            })
            .collect()
    }
}

#[cfg(any(test, feature = "internal"))]
impl Sink for Buffer {
    fn event(&self, event: Event) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}

/// How much the human output shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Cargo-style status lines on stderr: a right-aligned bold green verb, then the message.
pub struct Human {
    verbosity: Verbosity,
    color: bool,
    out: Mutex<std::io::Stderr>,
}

impl Human {
    pub fn new(verbosity: Verbosity) -> Human {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        Human {
            verbosity,
            color,
            out: Mutex::new(std::io::stderr()),
        }
    }

    fn line(&self, verb: &str, style: &str, message: &str) {
        let Ok(mut out) = self.out.lock() else { return };
        let _ = if self.color {
            writeln!(out, "\x1b[1;{style}m{verb:>12}\x1b[0m {message}")
        } else {
            writeln!(out, "{verb:>12} {message}")
        };
    }
}

impl Sink for Human {
    fn event(&self, event: Event) {
        match event {
            Event::Status { verb, message } if self.verbosity > Verbosity::Quiet => {
                self.line(&verb, "32", &message)
            }
            Event::Log { line, .. } if self.verbosity >= Verbosity::Verbose => {
                if let Ok(mut out) = self.out.lock() {
                    let _ = writeln!(out, "{:>12} {line}", "");
                }
            }
            Event::Warning { message } => self.line("warning", "33", &message),
            Event::Stage(s) if self.verbosity > Verbosity::Quiet => {
                let what = if s.cached { "Fresh" } else { "Built" };
                let id = s.id.trim_start_matches("sha256:");
                let message = format!(
                    "{} {} ({}, {}, {:.1}s)",
                    s.stage,
                    s.image,
                    &id[..id.len().min(12)],
                    human_size(s.size),
                    s.seconds
                );
                self.line(what, "32", &message)
            }
            Event::Summary { stages, seconds } if self.verbosity > Verbosity::Quiet => {
                let width = stages.iter().map(|s| s.image.len()).max().unwrap_or(0);
                self.line(
                    "Summary",
                    "32",
                    &format!("{} images in {seconds:.1}s", stages.len()),
                );
                for s in &stages {
                    let id = s.id.trim_start_matches("sha256:");
                    let message = format!(
                        "{:<8} {:<width$}  {:<12}  {:>9}  {:>6.1}s{}",
                        s.stage,
                        s.image,
                        &id[..id.len().min(12)],
                        human_size(s.size),
                        s.seconds,
                        if s.cached { "  (fresh)" } else { "" },
                    );
                    self.line("", "32", &message);
                }
            }
            _ => {}
        }
    }
}

/// One JSON object per line on stdout, for machines.
pub struct Json {
    out: Mutex<std::io::Stdout>,
}

impl Json {
    pub fn new() -> Json {
        Json {
            out: Mutex::new(std::io::stdout()),
        }
    }
}

impl Default for Json {
    fn default() -> Self {
        Json::new()
    }
}

impl Sink for Json {
    fn event(&self, event: Event) {
        if matches!(event, Event::Log { .. }) {
            return;
        }
        if let (Ok(mut out), Ok(line)) = (self.out.lock(), serde_json::to_string(&event)) {
            let _ = writeln!(out, "{line}");
        }
    }
}

/// `1.4 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
