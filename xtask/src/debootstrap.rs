//! `debootstrap` for `cargo xtask rust-base`: installing it with the system's package manager
//! when it is missing and the task runs as root, and summarizing its output as cargo-style status
//! lines, one per phase (a counter that updates in place on a terminal).
//!
//! Not the bootstrap itself: `rust_base` decides what to make and runs it.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use xshell::{Shell, cmd};
use xtask_s2i::anyhow::{Context, Result, bail};

/// Whether the task runs as root (`id -u` is 0).
pub fn is_root(sh: &Shell) -> bool {
    cmd!(sh, "id -u")
        .quiet()
        .read()
        .is_ok_and(|uid| uid.trim() == "0")
}

/// Whether `program` is on `PATH`.
pub fn installed(sh: &Shell, program: &str) -> bool {
    cmd!(sh, "sh -c 'command -v \"$0\"' {program}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// Makes sure `debootstrap` is installed: as root, installs it with the first package manager
/// found (apt-get, dnf, apk), saying so; otherwise fails with what to install.
pub fn ensure_installed(sh: &Shell) -> Result<()> {
    if installed(sh, "debootstrap") {
        return Ok(());
    }
    if !is_root(sh) {
        bail!(
            "`debootstrap` is not installed\nnote: install it with `apt-get install debootstrap` \
             (Debian/Ubuntu), `dnf install debootstrap` (Fedora) or `apk add debootstrap` \
             (Alpine), or run this command as root, which installs it"
        );
    }
    let Some(manager) = ["apt-get", "dnf", "apk"]
        .into_iter()
        .find(|m| installed(sh, m))
    else {
        bail!(
            "`debootstrap` is not installed, and there is no apt-get, dnf or apk to install it \
             with\nnote: install `debootstrap` with your system's package manager"
        );
    };
    status(
        "Installing",
        &format!("debootstrap with `{manager}` (running as root)"),
    );
    let installed = match manager {
        "apt-get" => cmd!(sh, "apt-get update -qq").quiet().run().and_then(|()| {
            cmd!(sh, "apt-get install -y -qq debootstrap")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .quiet()
                .ignore_stdout()
                .run()
        }),
        "dnf" => cmd!(sh, "dnf install -y -q debootstrap").quiet().run(),
        _ => cmd!(sh, "apk add --quiet debootstrap").quiet().run(),
    };
    installed.with_context(|| format!("failed to install `debootstrap` with `{manager}`"))
}

/// A cargo-style status line on stderr.
pub fn status(verb: &str, message: &str) {
    eprintln!("{verb:>12} {message}");
}

/// Runs `debootstrap` with `args`, its `I:` lines summarized per phase and its `W:` lines passed
/// on; on failure, the error carries its last lines and the end of its log.
pub fn run(args: &[&str], root: &str) -> Result<()> {
    let mut child = Command::new("debootstrap")
        .args(args)
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("failed to run `debootstrap`")?;
    let live = std::io::stderr().is_terminal();
    let mut progress = Progress::new();
    let mut last = Vec::new();
    let stdout = child.stdout.take().context("`debootstrap` has no stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line.context("failed to read `debootstrap`'s output")?;
        for out in progress.feed(&line) {
            show(&out, live);
        }
        last.push(line);
        if last.len() > 10 {
            last.remove(0);
        }
    }
    if let Some(out) = progress.finish() {
        show(&out, live);
    }
    let exit = child.wait().context("failed to wait for `debootstrap`")?;
    if !exit.success() {
        let log = std::fs::read_to_string(format!("{root}/debootstrap/debootstrap.log"))
            .unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "`debootstrap` failed ({exit}); it needs root and Debian's package mirror\n{}\n{}",
            last.join("\n"),
            tail.join("\n")
        );
    }
    Ok(())
}

fn show(out: &Out, live: bool) {
    match out {
        Out::Counting { verb, count } if live => {
            eprint!("\r{verb:>12} {count} packages\x1b[K");
            let _ = std::io::stderr().flush();
        }
        Out::Counting { .. } => {}
        Out::Done {
            verb,
            count,
            seconds,
        } => {
            let message = format!("{count} packages ({seconds:.1}s)");
            if live {
                eprint!("\r\x1b[K");
            }
            status(verb, &message);
        }
        Out::Warning(w) => {
            if live {
                eprint!("\r\x1b[K");
            }
            eprintln!("warning: debootstrap: {w}");
        }
    }
}

/// The phases of a bootstrap as its `I:` lines name them, with the word shown when one ends.
/// `Validating` lines come between the `Retrieving` ones and belong to that phase.
const PHASES: [(&str, &str); 4] = [
    ("Retrieving", "Retrieved"),
    ("Extracting", "Extracted"),
    ("Unpacking", "Unpacked"),
    ("Configuring", "Configured"),
];

/// What the summary of debootstrap's output shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// A package of the current phase: the running count (shown in place on a terminal).
    Counting { verb: &'static str, count: usize },
    /// A phase ended: how many packages it handled, in how long.
    Done {
        verb: &'static str,
        count: usize,
        seconds: f64,
    },
    /// A `W:` line, passed on.
    Warning(String),
}

/// The summary of debootstrap's output so far: the current phase and its count.
pub struct Progress {
    phase: Option<usize>,
    count: usize,
    started: Instant,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            phase: None,
            count: 0,
            started: Instant::now(),
        }
    }

    /// What one line of output shows.
    pub fn feed(&mut self, line: &str) -> Vec<Out> {
        if let Some(w) = line.strip_prefix("W: ") {
            return vec![Out::Warning(w.to_string())];
        }
        let Some((verb, rest)) = line.strip_prefix("I: ").and_then(|l| l.split_once(' ')) else {
            return Vec::new();
        };
        let words = rest.split_whitespace().count();
        // A package: `Retrieving libc6 2.41-12` (also `Validating`), `Unpacking libc6...`.
        let package = match verb {
            "Retrieving" | "Validating" => words == 2,
            _ => words == 1 && rest.ends_with("..."),
        };
        let verb = if verb == "Validating" {
            "Retrieving"
        } else {
            verb
        };
        let Some(phase) = PHASES.iter().position(|(v, _)| *v == verb) else {
            return Vec::new();
        };
        if !package {
            return Vec::new();
        }
        let mut out = Vec::new();
        if self.phase != Some(phase) {
            out.extend(self.finish());
            self.phase = Some(phase);
        }
        // Each package is retrieved, then validated: count it once.
        if line.starts_with("I: Validating ") {
            return out;
        }
        self.count += 1;
        out.push(Out::Counting {
            verb: PHASES[phase].0,
            count: self.count,
        });
        out
    }

    /// Ends the current phase, if any: its summary.
    pub fn finish(&mut self) -> Option<Out> {
        let phase = self.phase.take()?;
        let done = Out::Done {
            verb: PHASES[phase].1,
            count: self.count,
            seconds: self.started.elapsed().as_secs_f64(),
        };
        self.count = 0;
        self.started = Instant::now();
        Some(done)
    }
}

#[cfg(test)]
mod tests {
    use super::{Out, Progress};

    /// The phases of a real run's output (abridged), one summary line each.
    #[test]
    fn debootstraps_output_becomes_a_line_per_phase() {
        let output = "\
I: Retrieving InRelease
I: Checking Release signature
I: Retrieving Packages
I: Validating Packages
I: Resolving dependencies of required packages...
I: Retrieving base-files 13.8
I: Validating base-files 13.8
I: Retrieving libc6 2.41-12
I: Validating libc6 2.41-12
W: an odd mirror
I: Chosen extractor for .deb packages: dpkg-deb
I: Extracting base-files...
I: Extracting libc6...
I: Installing core packages...
I: Unpacking required packages...
I: Unpacking base-files...
I: Unpacking libc6...
I: Configuring required packages...
I: Configuring libc6...
I: Base system installed successfully.";
        let mut progress = Progress::new();
        let mut shown: Vec<Out> = output.lines().flat_map(|l| progress.feed(l)).collect();
        shown.extend(progress.finish());
        let summary: Vec<String> = shown
            .iter()
            .filter_map(|o| match o {
                Out::Done { verb, count, .. } => Some(format!("{verb} {count}")),
                Out::Warning(w) => Some(format!("warning {w}")),
                Out::Counting { .. } => None,
            })
            .collect();
        assert_eq!(
            summary,
            [
                "warning an odd mirror",
                "Retrieved 2",
                "Extracted 2",
                "Unpacked 2",
                "Configured 1"
            ]
        );
        assert!(shown.contains(&Out::Counting {
            verb: "Retrieving",
            count: 2
        }));
    }
}
