//! `cargo xtask bench`: measures the edit-build loop of `cargo xtask image` against a plain
//! multi-stage `docker build` of the same app (`bench/baseline.Dockerfile`), with the host's
//! `cargo build --release` as the floor, prints a Markdown table of medians with the ratios
//! ours/baseline against its targets, and writes `target/bench/report.json`
//! ([`report::Report`]; `--table` prints the table of that file again without measuring).
//!
//! Everything runs on copies of `examples/hello-world` in a temporary directory (the real example
//! is never touched) and on the local base image `localhost/xtask-s2i/rust:trixie`. Images are
//! named under `localhost/xtask-s2i-bench/` with a tag unique to the run, and removed at the end,
//! together with the untagged images the builds left behind. Every figure is a whole command,
//! timed from spawn to exit: our chain is this xtask's own `image` subcommand (the library a
//! user's `cargo xtask` runs, in the same debug profile) pointed at the copy with
//! `--manifest-path`, so neither cargo's start-up nor the compilation of an xtask is timed.
//! This is not a micro-benchmark and it is not a test: it needs Docker and minutes. `--host`
//! measures another engine (Podman's API socket) the same way.
//!
//! The parts: [`ours`] (our chain), [`baseline`] (the `docker build` and the host floor),
//! [`workspace`] (our chain on the example made a workspace of three services, one group,
//! against the example alone),
//! [`images`] (removing what the bench built), [`example`] (the copies it builds), [`commands`]
//! (timing commands and asking the `docker` CLI), [`machine`] (where and when), [`report`] (the
//! report and its table).

mod baseline;
mod commands;
mod example;
mod images;
mod machine;
mod ours;
mod report;
mod workspace;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xshell::Shell;
use xtask_s2i::anyhow::{Context, Result};
use xtask_s2i::clap;

use self::baseline::Baseline;
use self::ours::Ours;
use self::report::{Report, RunStages};
use self::workspace::Workspace;

/// The builder base both chains build from.
const BASE: &str = xtask_s2i::dev::RUST_BASE;
/// Where the example is in each copy of the repository (as in this one).
const EXAMPLE: &str = "examples/hello-world";
/// Every image the bench tags lives under this name, so nothing else is disturbed.
const NAMESPACE: &str = "localhost/xtask-s2i-bench";
/// The example's binary (and the runtime image's entrypoint `/<BIN>`).
const BIN: &str = "hello-world";
/// Where the report goes, relative to the repository.
const REPORT: &str = "target/bench/report.json";

/// What to measure.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// `cargo xtask image`: cold chain, no-op rerun, one-line change
    Ours,
    /// `docker build` of `bench/baseline.Dockerfile`: cold, no change, one-line change
    Baseline,
    /// Host `cargo build --release` of the one-line change
    Floor,
    /// `cargo xtask image` on the example made a workspace of three services (one group): cold
    /// chain, no-op rerun, one-line change in one service, against the one-service figures
    Workspace,
}

impl Part {
    /// The parts of a bench: those asked for, or all.
    fn selected(only: &[Part]) -> BTreeSet<Part> {
        if only.is_empty() {
            [Part::Ours, Part::Baseline, Part::Floor, Part::Workspace].into()
        } else {
            only.iter().copied().collect()
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Bench {
    /// Runs of every figure; the table shows medians
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// One run of every figure: a smoke test, not a benchmark
    #[arg(long, conflicts_with = "runs")]
    quick: bool,
    /// Measure only these parts (comma-separated; default: all)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PART")]
    only: Vec<Part>,
    /// Keep the temporary copies of the example and print where they are
    #[arg(long)]
    keep: bool,
    /// The engine to measure, e.g. Podman's `unix:///run/podman/podman.sock`: `DOCKER_HOST` of
    /// every command the bench runs (our chain, the baseline's `docker build`, the `docker` CLI)
    #[arg(long, value_name = "HOST")]
    host: Option<String>,
    /// Measure nothing: print the table of the last run's `target/bench/report.json` again
    #[arg(long, conflicts_with_all = ["runs", "quick", "only", "keep", "host"])]
    table: bool,
}

/// The notes a report starts with: a smoke test's run count, a busy machine.
fn first_notes(runs: usize, machine: &machine::Machine) -> Vec<String> {
    let mut notes = Vec::new();
    if runs < 3 {
        notes.push(format!(
            "{runs} run(s): a smoke test; a benchmark takes at least 3 (`--runs 3`, the default)"
        ));
    }
    if let (Some(&load), Some(cores)) = (machine.load_average.first(), machine.nproc)
        && load > cores as f64
    {
        let note = format!(
            "the machine was busy when the bench started (load average {load:.1} on {cores} cores); figures are noisier"
        );
        status("Warning", &note);
        notes.push(note);
    }
    notes
}

/// What one bench compares: the parts asked for, our chain, the baseline and the floor's target
/// directory.
struct Contenders<'a> {
    parts: &'a BTreeSet<Part>,
    ours: &'a Ours,
    baseline: &'a Baseline,
    floor_target: &'a Path,
    workspace: &'a Workspace,
}

impl Contenders<'_> {
    /// The copies each part builds, made once before anything is timed.
    fn prepare(&self, sh: &Shell, repo: &Path, libs: &Libraries) -> Result<()> {
        let (parts, ours, baseline) = (self.parts, self.ours, self.baseline);
        let (ours_lib, baseline_lib) = (&libs.ours, &libs.baseline);
        if parts.contains(&Part::Ours) {
            status(
                "Preparing",
                &format!(
                    "the copy for `cargo xtask image` in `{}`",
                    ours.dir.display()
                ),
            );
            ours.prepare(repo, ours_lib)?;
        }
        if parts.contains(&Part::Baseline) || parts.contains(&Part::Floor) {
            status(
                "Preparing",
                &format!(
                    "the baseline's build context (our source tar, vendored) in `{}`",
                    baseline.dir.display()
                ),
            );
            baseline.prepare(sh, repo, baseline_lib, &baseline_lib.join(EXAMPLE))?;
        }
        if parts.contains(&Part::Floor) {
            status("Warming", "the host build of the floor (not timed)");
            baseline::floor_build(sh, &baseline.workspace(), self.floor_target)?;
        }
        if parts.contains(&Part::Workspace) {
            let dir = &self.workspace.dir;
            let what = format!("the three-service workspace copy in `{}`", dir.display());
            status("Preparing", &what);
            self.workspace.prepare(repo, &libs.workspace)?;
        }
        Ok(())
    }

    /// `runs` cycles of every part asked for.
    fn measure(&self, sh: &Shell, runs: usize, notes: &mut Vec<String>) -> Result<Measured> {
        let (parts, ours, baseline) = (self.parts, self.ours, self.baseline);
        let mut m = Measured::default();
        for run in 1..=runs {
            let of = format!("run {run}/{runs}");
            if parts.contains(&Part::Ours) {
                ours.cycle(sh, &of, &mut m, notes)?;
            }
            if parts.contains(&Part::Baseline) {
                baseline.cycle(sh, &of, &mut m)?;
            }
            if parts.contains(&Part::Floor) {
                m.edits += 1;
                example::edit_greeting(&baseline.workspace(), m.edits)?;
                let secs = baseline::floor_build(sh, &baseline.workspace(), self.floor_target)?;
                report_time("floor", "one-line change", &of, secs);
                m.floor.push(secs);
            }
            if parts.contains(&Part::Workspace) {
                self.workspace.cycle(sh, &of, &mut m, notes)?;
            }
        }
        Ok(m)
    }
}

impl Bench {
    pub fn run(self, sh: &Shell) -> Result<()> {
        let repo = repo_root();
        let path = repo.join(REPORT);
        if self.table {
            println!("{}", Report::read(&path)?.table());
            return Ok(());
        }
        let runs = if self.quick { 1 } else { self.runs as usize };
        let parts = Part::selected(&self.only);
        let exe = std::env::current_exe().context("failed to find this xtask's executable")?;

        if let Some(host) = &self.host {
            sh.set_var("DOCKER_HOST", host);
        }
        commands::preflight(sh, &exe)?;
        let machine = machine::Machine::read(sh);
        let mut notes = first_notes(runs, &machine);

        let tmp = tempfile::Builder::new()
            .prefix("xtask-s2i-bench-")
            .tempdir()
            .context("failed to create a temporary directory")?;
        let tag = format!("run-{}", std::process::id());
        images::remove_leftovers(sh);

        // Each copy is a repository of its own, laid out as this one (the library at its root,
        // the example at `examples/hello-world`): the source root of its app stage is that
        // repository, as in the cluster, and holds nothing of the other contenders.
        let libs = Libraries::snapshot(&repo, tmp.path())?;
        let ours = Ours::new(&exe, libs.ours.join(EXAMPLE), &tag);
        let baseline = Baseline::new(tmp.path().join("baseline"), &tag);
        let floor_target = tmp.path().join("floor-target");
        let workspace = Workspace::new(&exe, libs.workspace.join(EXAMPLE), &tag);
        let contenders = Contenders {
            parts: &parts,
            ours: &ours,
            baseline: &baseline,
            floor_target: &floor_target,
            workspace: &workspace,
        };
        contenders.prepare(sh, &repo, &libs)?;
        let mut m = contenders.measure(sh, runs, &mut notes)?;
        if parts.contains(&Part::Ours) {
            m.ours_image = Some(commands::image_size(sh, &ours.runtime)?);
            m.binary = Some(commands::binary_size(sh, &ours.runtime, tmp.path())?);
        }

        let mut machine = machine;
        machine.load_average_end = machine::load_average();
        let report = Report::new(machine, runs, &parts, &m, notes, &tag);
        println!("{}", report.table());
        report.write(&path)?;
        status("Wrote", &path.display().to_string());

        ours.images.clean(sh);
        baseline.images.clean(sh);
        workspace.images.clean(sh);
        if self.keep {
            let kept = tmp.keep();
            status("Kept", &kept.display().to_string());
        }
        Ok(())
    }
}

/// The snapshots of the library the copies build from, one repository per contender: the source
/// root of an app stage holds nothing of the other contenders.
struct Libraries {
    ours: PathBuf,
    baseline: PathBuf,
    workspace: PathBuf,
}

impl Libraries {
    fn snapshot(repo: &Path, tmp: &Path) -> Result<Libraries> {
        let libs = Libraries {
            ours: tmp.join("ours"),
            baseline: tmp.join("baseline-src"),
            workspace: tmp.join("workspace"),
        };
        for lib in [&libs.ours, &libs.baseline, &libs.workspace] {
            xtask_s2i::dev::snapshot_library(repo, lib)?;
        }
        Ok(libs)
    }
}

/// The samples of one invocation.
#[derive(Debug, Default)]
struct Measured {
    ours_cold: Vec<f64>,
    ours_noop: Vec<f64>,
    ours_change: Vec<f64>,
    /// Per run: the stage reports of cold, no-op and change.
    ours_stages: Vec<RunStages>,
    base_cold: Vec<f64>,
    base_nochange: Vec<f64>,
    base_change: Vec<f64>,
    floor: Vec<f64>,
    ours_image: Option<u64>,
    binary: Option<u64>,
    base_image: Option<u64>,
    /// The workspace of three services: cold, no-op, one-line change in one service.
    ws_cold: Vec<f64>,
    ws_noop: Vec<f64>,
    ws_change: Vec<f64>,
    ws_stages: Vec<RunStages>,
    /// Edits made so far; each makes the greeting unique.
    edits: u32,
}

fn repo_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

fn status(verb: &str, message: &str) {
    eprintln!("{verb:>12} {message}");
}

fn report_time(part: &str, figure: &str, of: &str, secs: f64) {
    status("Measured", &format!("{part}, {figure} ({of}): {secs:.2} s"));
}
