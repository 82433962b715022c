//! `cargo xtask bench`: measures the edit-build loop of `cargo xtask image` against a plain
//! multi-stage `docker build` of the same app (`bench/baseline.Dockerfile`), with the host's
//! `cargo build --release` as the floor, prints a Markdown table of medians with the ratios
//! ours/baseline against the targets of issue 5, and writes `target/bench/report.json`.
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

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Instant;

use serde_json::{Value, json};
use xshell::{Shell, cmd};
use xtask_s2i::anyhow::{Context, Result, bail};
use xtask_s2i::clap;
use xtask_s2i::engine::SourceTree as _;

/// The builder base both chains build from.
const BASE: &str = crate::rust_base::IMAGE;
/// Every image the bench tags lives under this name, so nothing else is disturbed.
const NAMESPACE: &str = "localhost/xtask-s2i-bench";
/// The example's binary (and the runtime image's entrypoint `/<BIN>`).
const BIN: &str = "hello-world";
const KIB: f64 = 1024.0;

/// The issue-5 targets.
const NOOP_MAX_SECONDS: f64 = 0.5;
const NOOP_MAX_RATIO: f64 = 0.5;
const CHANGE_MAX_RATIO: f64 = 0.35;
const COLD_MAX_RATIO: f64 = 1.15;
const SIZE_MAX_OVERHEAD: u64 = 64 * 1024;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Part {
    /// `cargo xtask image`: cold chain, no-op rerun, one-line change
    Ours,
    /// `docker build` of `bench/baseline.Dockerfile`: cold, no change, one-line change
    Baseline,
    /// Host `cargo build --release` of the one-line change
    Floor,
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
}

impl Bench {
    pub fn run(self, sh: &Shell) -> Result<()> {
        let runs = if self.quick { 1 } else { self.runs as usize };
        let parts: BTreeSet<Part> = if self.only.is_empty() {
            [Part::Ours, Part::Baseline, Part::Floor].into()
        } else {
            self.only.iter().copied().collect()
        };
        let repo = repo_root();
        let exe = std::env::current_exe().context("failed to find this xtask's executable")?;

        if let Some(host) = &self.host {
            sh.set_var("DOCKER_HOST", host);
        }
        preflight(sh, &exe)?;
        let machine = machine(sh);
        let mut notes = Vec::new();
        if runs < 3 {
            notes.push(format!(
                "{runs} run(s): a smoke test; a benchmark takes at least 3 (`--runs 3`, the default)"
            ));
        }
        if let (Some(load), Some(cores)) = (
            machine["load_average"][0].as_f64(),
            machine["nproc"].as_u64(),
        ) && load > cores as f64
        {
            let note = format!(
                "the machine was busy when the bench started (load average {load:.1} on {cores} cores); figures are noisier"
            );
            status("Warning", &note);
            notes.push(note);
        }

        let tmp = tempfile::Builder::new()
            .prefix("xtask-s2i-bench-")
            .tempdir()
            .context("failed to create a temporary directory")?;
        let tag = format!("run-{}", std::process::id());
        remove_leftovers(sh);

        let lib = tmp.path().join("xtask-s2i");
        snapshot_library(&repo, &lib)?;
        let ours = Ours::new(&exe, tmp.path().join("ours"), &tag);
        let baseline = Baseline::new(tmp.path().join("baseline"), &tag);
        let floor_target = tmp.path().join("floor-target");
        if parts.contains(&Part::Ours) {
            status(
                "Preparing",
                &format!(
                    "the copy for `cargo xtask image` in `{}`",
                    ours.dir.display()
                ),
            );
            ours.prepare(&repo, &lib)?;
        }
        if parts.contains(&Part::Baseline) || parts.contains(&Part::Floor) {
            status(
                "Preparing",
                &format!(
                    "the baseline's build context (our source tar, vendored) in `{}`",
                    baseline.dir.display()
                ),
            );
            baseline.prepare(sh, &repo, &lib, &tmp.path().join("baseline-src"))?;
        }
        if parts.contains(&Part::Floor) {
            status("Warming", "the host build of the floor (not timed)");
            floor_build(sh, &baseline.dir, &floor_target)?;
        }

        let mut m = Measured::default();
        for run in 1..=runs {
            let of = format!("run {run}/{runs}");
            if parts.contains(&Part::Ours) {
                ours.cycle(sh, &of, &mut m, &mut notes)?;
            }
            if parts.contains(&Part::Baseline) {
                baseline.cycle(sh, &of, &mut m)?;
            }
            if parts.contains(&Part::Floor) {
                m.edits += 1;
                edit_greeting(&baseline.dir, m.edits)?;
                let secs = floor_build(sh, &baseline.dir, &floor_target)?;
                report_time("floor", "one-line change", &of, secs);
                m.floor.push(secs);
            }
        }
        if parts.contains(&Part::Ours) {
            m.ours_image = Some(image_size(sh, &ours.runtime)?);
            m.binary = Some(binary_size(sh, &ours.runtime, tmp.path())?);
        }

        let mut report = report(&machine, runs, &parts, &m, &notes, &tag);
        report["machine"]["load_average_end"] = json!(load_average());
        let table = table(&report);
        println!("{table}");
        let path = repo.join("target/bench/report.json");
        let text =
            serde_json::to_string_pretty(&report).context("failed to serialize the report")?;
        xtask_s2i::files::write_atomic(&path, format!("{text}\n").as_bytes(), 0o644)?;
        status("Wrote", &path.display().to_string());

        ours.images.clean(sh);
        baseline.images.clean(sh);
        if self.keep {
            let kept = tmp.keep();
            status("Kept", &kept.display().to_string());
        }
        Ok(())
    }
}

/// The samples of one invocation.
#[derive(Debug, Default)]
struct Measured {
    ours_cold: Vec<f64>,
    ours_noop: Vec<f64>,
    ours_change: Vec<f64>,
    /// Per run: the stage reports of cold, no-op and change.
    ours_stages: Vec<Value>,
    base_cold: Vec<f64>,
    base_nochange: Vec<f64>,
    base_change: Vec<f64>,
    floor: Vec<f64>,
    ours_image: Option<u64>,
    binary: Option<u64>,
    base_image: Option<u64>,
    /// Edits made so far; each makes the greeting unique.
    edits: u32,
}

// ---------------------------------------------------------------------------------------------
// Ours: `cargo xtask image` on a copy of the example.

struct Ours {
    exe: PathBuf,
    dir: PathBuf,
    builder: String,
    app: String,
    runtime: String,
    tag: String,
    images: Images,
}

impl Ours {
    fn new(exe: &Path, dir: PathBuf, tag: &str) -> Ours {
        let name = |suffix: &str| format!("{NAMESPACE}/{BIN}{suffix}");
        let builder = format!("{}:{tag}", name("-builder"));
        let app = format!("{}:{tag}", name("-app"));
        let runtime = format!("{}:{tag}", name(""));
        Ours {
            exe: exe.to_path_buf(),
            dir,
            images: Images::new(vec![runtime.clone(), app.clone(), builder.clone()]),
            builder,
            app,
            runtime,
            tag: tag.to_string(),
        }
    }

    /// A copy of the example with absolute path dependencies and the bench's image names.
    fn prepare(&self, repo: &Path, lib: &Path) -> Result<()> {
        copy_example(repo, lib, &self.dir)?;
        let name = |r: &str| r.rsplit_once(':').map_or(r, |(n, _)| n).to_string();
        edit_manifest(&self.dir.join("Cargo.toml"), |doc| {
            let s2i = &mut doc["package"]["metadata"]["s2i"];
            s2i["builder-base"] = toml_edit::value(BASE);
            s2i["pull-policy"] = toml_edit::value("never");
            s2i["builder-image"] = toml_edit::value(name(&self.builder));
            s2i["app-image"] = toml_edit::value(name(&self.app));
            s2i["runtime-image"] = toml_edit::value(name(&self.runtime));
            s2i["tag"] = toml_edit::value(&self.tag);
            Ok(())
        })
    }

    /// Runs `image` once; returns the seconds and the stage reports.
    fn image(&self, sh: &Shell, no_cache: bool) -> Result<(f64, Vec<Value>)> {
        let exe = &self.exe;
        let manifest = self.dir.join("Cargo.toml");
        let no_cache = no_cache.then_some("--no-cache");
        let command = cmd!(
            sh,
            "{exe} image --manifest-path {manifest} --message-format json {no_cache...}"
        )
        .env("XTASK_S2I_BUILDER_BASE", BASE)
        .env_remove("CARGO_TARGET_DIR");
        let (secs, out) = timed(command);
        let out = check("`cargo xtask image`", out)?;
        let stages: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["reason"] == "stage")
            .collect();
        for s in &stages {
            if let Some(id) = s["id"].as_str() {
                self.images.track(id);
            }
        }
        Ok((secs, stages))
    }

    /// Cold chain, no-op rerun, one-line change.
    fn cycle(&self, sh: &Shell, of: &str, m: &mut Measured, notes: &mut Vec<String>) -> Result<()> {
        // Cold: none of the copy's images, no target/ (rendered context, any host-side cache).
        self.images.clean(sh);
        let target = self.dir.join("target");
        if target.exists() {
            std::fs::remove_dir_all(&target)
                .with_context(|| format!("failed to remove `{}`", target.display()))?;
        }
        let (cold, cold_stages) = self.image(sh, true)?;
        report_time("ours", "cold chain", of, cold);
        expect_stages(&cold_stages, &[], "cold", of, notes);

        let (noop, noop_stages) = self.image(sh, false)?;
        report_time("ours", "no-op rerun", of, noop);
        expect_stages(
            &noop_stages,
            &["builder", "app", "runtime"],
            "no-op",
            of,
            notes,
        );

        m.edits += 1;
        let expected = edit_greeting(&self.dir, m.edits)?;
        let (change, change_stages) = self.image(sh, false)?;
        report_time("ours", "one-line change", of, change);
        expect_stages(&change_stages, &["builder"], "one-line change", of, notes);
        check_greeting(sh, &self.runtime, &expected)?;

        m.ours_cold.push(cold);
        m.ours_noop.push(noop);
        m.ours_change.push(change);
        m.ours_stages.push(json!({
            "cold": cold_stages,
            "noop": noop_stages,
            "change": change_stages,
        }));
        Ok(())
    }
}

/// Notes when a run did not cache exactly the `cached` stages.
fn expect_stages(stages: &[Value], cached: &[&str], what: &str, of: &str, notes: &mut Vec<String>) {
    let names: Vec<&str> = stages.iter().filter_map(|s| s["stage"].as_str()).collect();
    let got: Vec<&str> = stages
        .iter()
        .filter(|s| s["cached"] == true)
        .filter_map(|s| s["stage"].as_str())
        .collect();
    if names.len() != 3 || got != cached {
        let note = format!(
            "ours, {what} ({of}): reported stages {names:?}, cached {got:?}; expected all three with cached {cached:?}"
        );
        status("Warning", &note);
        notes.push(note);
    }
}

// ---------------------------------------------------------------------------------------------
// The baseline: `docker build` of bench/baseline.Dockerfile.

struct Baseline {
    dir: PathBuf,
    image: String,
    images: Images,
}

impl Baseline {
    fn new(dir: PathBuf, tag: &str) -> Baseline {
        let image = format!("{NAMESPACE}/{BIN}-baseline:{tag}");
        Baseline {
            dir,
            images: Images::new(vec![image.clone()]),
            image,
        }
    }

    /// The build context: exactly the source tar our app stage uploads to `/tmp/src` (the
    /// closure of the app with the xtask-s2i path dependency relocated into it, the workspace
    /// reduced to the app, the pruned lock, the vendored crates and the source replacement in
    /// `.cargo/config.toml`, since containers here cannot reach crates.io), made once by the
    /// library from a copy of the example and unpacked, plus the Dockerfile. Both chains build
    /// the same bytes; the baseline's vendoring is not timed.
    fn prepare(&self, sh: &Shell, repo: &Path, lib: &Path, scratch: &Path) -> Result<()> {
        copy_example(repo, lib, scratch)?;
        let manifest = scratch.join("Cargo.toml");
        let metadata = xtask_s2i::cli::read_metadata(Some(&manifest))?;
        let plans = xtask_s2i::Plan::for_workspace(&metadata, &[], Some(BASE))?;
        let plan = plans
            .iter()
            .find(|p| p.package() == BIN)
            .with_context(|| format!("the copy of the example has no package `{BIN}`"))?;
        let closure = xtask_s2i::source::Closure::scan(plan, &metadata)?;
        let tar = scratch.with_extension("tar");
        let mut file = std::fs::File::create(&tar)
            .with_context(|| format!("failed to create `{}`", tar.display()))?;
        closure.write_tar(&mut file, 0, 0, &xtask_s2i::sink::Buffer::new())?;
        drop(file);
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("failed to create `{}`", self.dir.display()))?;
        let dir = &self.dir;
        cmd!(sh, "tar --no-same-owner -xf {tar} -C {dir}")
            .quiet()
            .run()
            .context("failed to unpack the source tar")?;
        std::fs::copy(
            repo.join("bench/baseline.Dockerfile"),
            self.dir.join("Dockerfile"),
        )
        .context("failed to copy `bench/baseline.Dockerfile`")?;
        std::fs::write(
            self.dir.join(".dockerignore"),
            "target\nDockerfile\n.dockerignore\n",
        )
        .context("failed to write the baseline's `.dockerignore`")?;
        Ok(())
    }

    fn build(&self, sh: &Shell, no_cache: bool) -> Result<f64> {
        let (image, dir) = (&self.image, &self.dir);
        let no_cache = no_cache.then_some("--no-cache");
        let command = cmd!(
            sh,
            "docker build --force-rm {no_cache...} --build-arg BASE={BASE} -t {image} {dir}"
        )
        .env("DOCKER_BUILDKIT", "0");
        let (secs, out) = timed(command);
        // Track what was built even when the build failed, so that it is removed.
        if let Ok(out) = &out {
            for id in build_ids(&String::from_utf8_lossy(&out.stdout)) {
                self.images.track(&id);
            }
        }
        check("`docker build` of the baseline", out)?;
        Ok(secs)
    }

    /// Cold (`--no-cache`), no change, one-line change; then removes the images.
    fn cycle(&self, sh: &Shell, of: &str, m: &mut Measured) -> Result<()> {
        let cold = self.build(sh, true)?;
        report_time("baseline", "cold", of, cold);
        let nochange = self.build(sh, false)?;
        report_time("baseline", "no change", of, nochange);
        m.edits += 1;
        let expected = edit_greeting(&self.dir, m.edits)?;
        let change = self.build(sh, false)?;
        report_time("baseline", "one-line change", of, change);
        check_greeting(sh, &self.image, &expected)?;
        m.base_image = Some(image_size(sh, &self.image)?);
        m.base_cold.push(cold);
        m.base_nochange.push(nochange);
        m.base_change.push(change);
        // Each run's images are gigabytes (the context and the target dir are layers).
        self.images.clean(sh);
        Ok(())
    }
}

/// The image IDs in the output of the classic builder (` ---> 0123456789ab`).
fn build_ids(stdout: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after_from = false;
    for line in stdout.lines().map(str::trim) {
        if line.starts_with("Step ") {
            // The ID after `FROM` is the stage's base: never the bench's to remove.
            after_from = line
                .split_once(" : ")
                .is_some_and(|(_, i)| i.to_ascii_uppercase().starts_with("FROM "));
            continue;
        }
        let Some(id) = line
            .strip_prefix("---> ")
            .or_else(|| line.strip_prefix("Successfully built "))
            .map(str::trim)
        else {
            continue;
        };
        if id.len() < 12 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        if std::mem::take(&mut after_from) {
            continue;
        }
        ids.push(id.to_string());
    }
    ids
}

// ---------------------------------------------------------------------------------------------
// The floor: host `cargo build --release` of the same change, offline from the same vendor/.

/// One host build in the baseline's context; returns the seconds.
fn floor_build(sh: &Shell, dir: &Path, target: &Path) -> Result<f64> {
    // `.cargo/config.toml` (the source replacement) is found from the current directory.
    let _dir = sh.push_dir(dir);
    let command = cmd!(sh, "cargo build --release --offline --locked")
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS");
    let (secs, out) = timed(command);
    check("host `cargo build --release`", out)?;
    Ok(secs)
}

// ---------------------------------------------------------------------------------------------
// Images the bench created, removed by name and then by ID (the untagged images a rebuild or a
// multi-stage build leaves behind). Removal is never forced: an image someone else also tagged
// stays.

struct Images {
    /// The tags, children before parents.
    tags: Vec<String>,
    ids: RefCell<Vec<String>>,
}

impl Images {
    fn new(tags: Vec<String>) -> Images {
        Images {
            tags,
            ids: RefCell::new(Vec::new()),
        }
    }

    fn track(&self, id: &str) {
        let mut ids = self.ids.borrow_mut();
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }

    fn clean(&self, sh: &Shell) {
        for tag in &self.tags {
            let _ = cmd!(sh, "docker rmi {tag}")
                .quiet()
                .ignore_stdout()
                .ignore_stderr()
                .run();
        }
        // Children first: the latest ID of a build is its leaf; removing it also prunes its
        // untagged parents. Passes until nothing more goes. An ID that still has a tag (the
        // base image, or an image someone else tagged meanwhile) is never touched: `docker rmi`
        // of an ID with one tag would delete it.
        let mut ids = self.ids.borrow_mut();
        let format = "{{json .RepoTags}}";
        loop {
            let before = ids.len();
            ids.reverse();
            ids.retain(|id| {
                match cmd!(sh, "docker image inspect --format {format} {id}")
                    .quiet()
                    .ignore_stderr()
                    .read()
                {
                    Ok(tags) if matches!(tags.trim(), "[]" | "null") => {}
                    // Tagged (not ours: ours were just removed), or gone.
                    _ => return false,
                }
                match cmd!(sh, "docker rmi {id}").quiet().ignore_status().output() {
                    Ok(o) if o.status.success() => false,
                    Ok(o) => !String::from_utf8_lossy(&o.stderr)
                        .to_lowercase()
                        .contains("no such image"),
                    Err(_) => true,
                }
            });
            ids.reverse();
            if ids.is_empty() || ids.len() == before {
                break;
            }
        }
        if !ids.is_empty() {
            status(
                "Warning",
                &format!(
                    "could not remove {} untagged image(s) the bench built (still in use?): {}",
                    ids.len(),
                    ids.join(" ")
                ),
            );
            ids.clear();
        }
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        // On an error path: leave nothing behind.
        if (!self.ids.borrow().is_empty() || !self.tags.is_empty())
            && let Ok(sh) = Shell::new()
        {
            self.clean(&sh);
        }
    }
}

/// Removes images of an earlier, interrupted bench (everything tagged under [`NAMESPACE`]).
fn remove_leftovers(sh: &Shell) {
    let format = "{{.Repository}}:{{.Tag}}";
    let Ok(list) = cmd!(sh, "docker images --format {format}").quiet().read() else {
        return;
    };
    for image in list
        .lines()
        .filter(|l| l.starts_with(&format!("{NAMESPACE}/")))
    {
        status(
            "Removing",
            &format!("{image} (left by an interrupted bench)"),
        );
        let _ = cmd!(sh, "docker rmi {image}")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run();
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn repo_root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// Docker answers and the base image exists (made by `cargo xtask rust-base` if it does not).
fn preflight(sh: &Shell, exe: &Path) -> Result<()> {
    let format = "{{.Server.Version}}";
    if cmd!(sh, "docker version --format {format}")
        .quiet()
        .ignore_stderr()
        .read()
        .is_err()
    {
        bail!(
            "no Docker daemon answers\nnote: the bench builds images; start Docker (or set DOCKER_HOST) and try again"
        );
    }
    cmd!(sh, "{exe} rust-base")
        .quiet()
        .run()
        .with_context(|| format!("failed to make the base image `{BASE}`"))
}

/// Where and when: cores, memory, Docker, compilers, load.
fn machine(sh: &Shell) -> Value {
    let read = |c: xshell::Cmd<'_>| c.quiet().ignore_stderr().read().ok();
    let server = "{{.Server.Version}} {{.Server.APIVersion}}";
    let components = "{{range .Server.Components}}{{.Name}};{{end}}";
    let engine = match read(cmd!(sh, "docker version --format {components}")) {
        Some(c) if c.contains("Podman") => "Podman",
        Some(_) => "Docker",
        None => "unknown",
    };
    let driver = "{{.Driver}}";
    let docker = read(cmd!(sh, "docker version --format {server}")).unwrap_or_default();
    let mut docker = docker.split_whitespace();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024);
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
    });
    json!({
        "date": read(cmd!(sh, "date -u +%Y-%m-%dT%H:%M:%SZ")),
        "nproc": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "cpu": cpu,
        "memory_bytes": memory,
        "kernel": read(cmd!(sh, "uname -r")),
        "engine": engine,
        "engine_host": sh.var("DOCKER_HOST").ok(),
        "docker_server": docker.next(),
        "docker_api": docker.next(),
        "docker_storage_driver": read(cmd!(sh, "docker info --format {driver}")),
        "host_rustc": read(cmd!(sh, "rustc -V")),
        "base_rustc": read(cmd!(sh, "docker run --rm --entrypoint rustc {BASE} -V")),
        "load_average": load_average(),
    })
}

/// The 1, 5 and 15 minute load averages (Linux).
fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .filter_map(|v| v.parse().ok())
        .collect()
}

/// Runs a command to completion, capturing its output, and times it from spawn to exit.
fn timed(command: xshell::Cmd<'_>) -> (f64, std::io::Result<Output>) {
    let start = Instant::now();
    let out = command
        .quiet()
        .ignore_status()
        .output()
        .map_err(std::io::Error::other);
    (start.elapsed().as_secs_f64(), out)
}

/// The output of a command that succeeded; a failure shows the end of its output.
fn check(what: &str, out: std::io::Result<Output>) -> Result<Output> {
    let out = out.with_context(|| format!("failed to run {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            tail(&out.stdout, 15),
            tail(&out.stderr, 25)
        );
    }
    Ok(out)
}

fn tail(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    let mut s = lines[lines.len().saturating_sub(n)..].join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// Changes the greeting line of `src/main.rs` so the source really differs; returns what the
/// binary now prints for `--name bench`.
fn edit_greeting(dir: &Path, n: u32) -> Result<String> {
    let path = dir.join("src/main.rs");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let mut found = false;
    let edited: Vec<String> = text
        .lines()
        .map(|l| {
            if !found && l.trim_start().starts_with("format!(\"Hello {name}!") {
                found = true;
                format!("    format!(\"Hello {{name}}! (edit {n})\")")
            } else {
                l.to_string()
            }
        })
        .collect();
    if !found {
        bail!(
            "failed to edit `{}`: no line starts with `format!(\"Hello {{name}}!`\nnote: the bench changes the example's greeting line; update `edit_greeting` in xtask/src/bench.rs if the example changed",
            path.display()
        );
    }
    std::fs::write(&path, edited.join("\n") + "\n")
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(format!("Hello bench! (edit {n})"))
}

/// The image runs and prints the edited greeting: the change really went through.
fn check_greeting(sh: &Shell, image: &str, expected: &str) -> Result<()> {
    let got = cmd!(sh, "docker run --rm {image} --name bench")
        .quiet()
        .read()
        .with_context(|| format!("failed to run `{image}`"))?;
    if got.trim() != expected {
        bail!(
            "`{image}` printed {got:?}, expected {expected:?}: the one-line change did not reach the image"
        );
    }
    Ok(())
}

fn image_size(sh: &Shell, image: &str) -> Result<u64> {
    let format = "{{.Size}}";
    let size = cmd!(sh, "docker image inspect --format {format} {image}")
        .quiet()
        .read()
        .with_context(|| format!("failed to inspect `{image}`"))?;
    size.trim()
        .parse()
        .with_context(|| format!("`docker image inspect` gave the size {size:?}"))
}

/// The size of `/<BIN>` in the runtime image, copied out of a created (never started) container.
fn binary_size(sh: &Shell, image: &str, tmp: &Path) -> Result<u64> {
    let cid = cmd!(sh, "docker create {image}")
        .quiet()
        .read()
        .with_context(|| format!("failed to create a container of `{image}`"))?;
    let dest = tmp.join(BIN);
    let copied = cmd!(sh, "docker cp {cid}:/{BIN} {dest}")
        .quiet()
        .ignore_stdout()
        .run();
    let _ = cmd!(sh, "docker rm {cid}").quiet().ignore_stdout().run();
    copied.with_context(|| format!("failed to copy `/{BIN}` out of `{image}`"))?;
    Ok(std::fs::metadata(&dest)
        .with_context(|| format!("failed to read `{}`", dest.display()))?
        .len())
}

fn copy_dir(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("failed to create `{}`", to.display()))?;
    let entries =
        std::fs::read_dir(from).with_context(|| format!("failed to read `{}`", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to read `{}`", from.display()))?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            copy_dir(&src, &dst, &[])?;
        } else {
            copy_file(&src, &dst)?;
        }
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(|_| ())
        .with_context(|| format!("failed to copy `{}` to `{}`", from.display(), to.display()))
}

/// Copies the xtask-s2i package as it would be published (the manifest, `src/`, `templates/`)
/// to `dest`, without its workspace, dev-dependencies and test targets: the copies of the
/// example depend on this snapshot, so edits to the repository during a bench (other work in
/// the same tree) cannot change the source the chains build halfway through.
fn snapshot_library(repo: &Path, dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest)
        .with_context(|| format!("failed to create `{}`", dest.display()))?;
    for entry in ["Cargo.toml", "src", "templates", "README.md"] {
        let from = repo.join(entry);
        if from.is_dir() {
            copy_dir(&from, &dest.join(entry), &[])?;
        } else if from.is_file() {
            copy_file(&from, &dest.join(entry))?;
        }
    }
    edit_manifest(&dest.join("Cargo.toml"), |doc| {
        for key in ["workspace", "dev-dependencies", "test", "bench", "example"] {
            doc.remove(key);
        }
        Ok(())
    })
}

/// Copies `examples/hello-world` (without `target/`) to `dest` with its path dependencies made
/// absolute so the copy builds anywhere (as `tests/it/support.rs` does), and the one on
/// xtask-s2i pointed at the snapshot `lib`.
fn copy_example(repo: &Path, lib: &Path, dest: &Path) -> Result<()> {
    let example = repo.join("examples/hello-world");
    copy_dir(&example, dest, &["target"])?;
    let repo = repo.canonicalize().unwrap_or_else(|_| repo.to_path_buf());
    for manifest in ["Cargo.toml", "xtask/Cargo.toml"] {
        let original = example.join(manifest);
        let dir = original.parent().unwrap_or(example.as_path());
        edit_manifest(&dest.join(manifest), |doc| {
            for_each_path_dep(doc, |path| {
                let abs = dir.join(path);
                let abs = abs.canonicalize().unwrap_or(abs);
                Ok(if abs == repo { lib } else { abs.as_path() }
                    .display()
                    .to_string())
            })
        })?;
    }
    Ok(())
}

fn edit_manifest(
    path: &Path,
    f: impl FnOnce(&mut toml_edit::DocumentMut) -> Result<()>,
) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .with_context(|| format!("failed to parse `{}`", path.display()))?;
    f(&mut doc)?;
    std::fs::write(path, doc.to_string())
        .with_context(|| format!("failed to write `{}`", path.display()))
}

const DEP_TABLES: [&str; 3] = ["dependencies", "build-dependencies", "dev-dependencies"];

fn for_each_path_dep(
    doc: &mut toml_edit::DocumentMut,
    mut f: impl FnMut(&str) -> Result<String>,
) -> Result<()> {
    for table in DEP_TABLES {
        let Some(deps) = doc.get_mut(table).and_then(|t| t.as_table_like_mut()) else {
            continue;
        };
        for (_, dep) in deps.iter_mut() {
            let Some(dep) = dep.as_table_like_mut() else {
                continue;
            };
            let Some(path) = dep.get("path").and_then(|p| p.as_str()).map(str::to_string) else {
                continue;
            };
            dep.insert("path", toml_edit::value(f(&path)?));
        }
    }
    Ok(())
}

fn status(verb: &str, message: &str) {
    eprintln!("{verb:>12} {message}");
}

fn report_time(part: &str, figure: &str, of: &str, secs: f64) {
    status("Measured", &format!("{part}, {figure} ({of}): {secs:.2} s"));
}

// ---------------------------------------------------------------------------------------------
// The report and the table.

/// `1.97 MiB` (precise enough to compare a binary with its image), `23.5 GiB`, `312 B`.
fn human_bytes(b: f64) -> String {
    match b.abs() {
        a if a >= KIB * KIB * KIB => format!("{:.1} GiB", b / KIB / KIB / KIB),
        a if a >= KIB * KIB => format!("{:.3} MiB", b / KIB / KIB),
        a if a >= KIB => format!("{:.1} KiB", b / KIB),
        _ => format!("{b:.0} B"),
    }
}

fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let mid = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[mid]
    } else {
        (s[mid - 1] + s[mid]) / 2.0
    })
}

fn figure(samples: &[f64]) -> Value {
    json!({
        "samples": samples,
        "median": median(samples),
        "min": samples.iter().copied().reduce(f64::min),
        "max": samples.iter().copied().reduce(f64::max),
    })
}

fn ratio(a: &[f64], b: &[f64]) -> Option<f64> {
    Some(median(a)? / median(b)?)
}

fn target(name: &str, value: Option<f64>, limit: f64, unit: &str) -> Value {
    json!({
        "name": name,
        "value": value,
        "limit": limit,
        "unit": unit,
        "met": value.map(|v| v <= limit),
    })
}

fn report(
    machine: &Value,
    runs: usize,
    parts: &BTreeSet<Part>,
    m: &Measured,
    notes: &[String],
    tag: &str,
) -> Value {
    let noop_ratio = ratio(&m.ours_noop, &m.base_nochange);
    let change_ratio = ratio(&m.ours_change, &m.base_change);
    let cold_ratio = ratio(&m.ours_cold, &m.base_cold);
    let size_overhead = match (m.ours_image, m.binary) {
        (Some(i), Some(b)) => Some(i as f64 - b as f64),
        _ => None,
    };
    let parts: Vec<String> = parts
        .iter()
        .map(|p| format!("{p:?}").to_lowercase())
        .collect();
    json!({
        "schema": 1,
        "command": "cargo xtask bench",
        "app": "examples/hello-world",
        "base_image": BASE,
        "images": format!("{NAMESPACE}/*:{tag}"),
        "runs": runs,
        "parts": parts,
        "machine": machine,
        "seconds": {
            "ours": {
                "cold": figure(&m.ours_cold),
                "noop": figure(&m.ours_noop),
                "change": figure(&m.ours_change),
            },
            "baseline": {
                "cold": figure(&m.base_cold),
                "nochange": figure(&m.base_nochange),
                "change": figure(&m.base_change),
            },
            "floor": { "change": figure(&m.floor) },
        },
        "ratios": {
            "cold": cold_ratio,
            "noop": noop_ratio,
            "change": change_ratio,
            "change_vs_floor": ratio(&m.ours_change, &m.floor),
        },
        "bytes": {
            "runtime_image": m.ours_image,
            "binary": m.binary,
            "runtime_overhead": size_overhead,
            "baseline_image": m.base_image,
        },
        "targets": [
            target("no-op rerun, seconds", median(&m.ours_noop), NOOP_MAX_SECONDS, "s"),
            target("no-op rerun / baseline no change", noop_ratio, NOOP_MAX_RATIO, "x"),
            target("one-line change / baseline", change_ratio, CHANGE_MAX_RATIO, "x"),
            target("cold chain / baseline", cold_ratio, COLD_MAX_RATIO, "x"),
            target("runtime image - binary, bytes", size_overhead, SIZE_MAX_OVERHEAD as f64, "B"),
        ],
        "stages": m.ours_stages,
        "notes": notes,
    })
}

/// The Markdown table printed on stdout (and pasted into docs/BENCHMARKS.md).
fn table(r: &Value) -> String {
    let secs = |v: &Value| {
        v["median"].as_f64().map_or("–".to_string(), |m| {
            let (lo, hi) = (
                v["min"].as_f64().unwrap_or(m),
                v["max"].as_f64().unwrap_or(m),
            );
            if v["samples"].as_array().map_or(0, |a| a.len()) > 1 {
                format!("{m:.2} s ({lo:.2}–{hi:.2})")
            } else {
                format!("{m:.2} s")
            }
        })
    };
    let x = |v: &Value| v.as_f64().map_or("–".to_string(), |v| format!("{v:.2}×"));
    let met = |i: usize| match r["targets"][i]["met"].as_bool() {
        Some(true) => "yes",
        Some(false) => "**no**",
        None => "–",
    };
    let both = |a: usize, b: usize| match (
        r["targets"][a]["met"].as_bool(),
        r["targets"][b]["met"].as_bool(),
    ) {
        (Some(true), Some(true)) => "yes",
        (Some(_), Some(_)) => "**no**",
        _ => "–",
    };
    let s = &r["seconds"];
    let m = &r["machine"];
    let bytes = |v: &Value| v.as_f64().map_or("–".to_string(), human_bytes);
    let b = &r["bytes"];
    let mut t = String::new();
    t.push_str(&format!(
        "`cargo xtask bench`: examples/hello-world FROM `{}`, {} run(s), medians (min–max)\n",
        BASE, r["runs"]
    ));
    t.push_str(&format!(
        "machine: {} cores ({}), {} memory, Docker {} (API {}, {} storage), {}, load average {} at the start, {} at the end\n\n",
        m["nproc"],
        m["cpu"].as_str().unwrap_or("?"),
        bytes(&m["memory_bytes"]),
        m["docker_server"].as_str().unwrap_or("?"),
        m["docker_api"].as_str().unwrap_or("?"),
        m["docker_storage_driver"].as_str().unwrap_or("?"),
        m["date"].as_str().unwrap_or("?"),
        m["load_average"][0],
        m["load_average_end"][0],
    ));
    t.push_str("| figure | ours (`cargo xtask image`) | baseline (`docker build`) | ours / baseline | target | met |\n");
    t.push_str("|---|---:|---:|---:|---|---|\n");
    t.push_str(&format!(
        "| cold chain | {} | {} | {} | ≤ {COLD_MAX_RATIO}× | {} |\n",
        secs(&s["ours"]["cold"]),
        secs(&s["baseline"]["cold"]),
        x(&r["ratios"]["cold"]),
        met(3)
    ));
    t.push_str(&format!(
        "| no-op rerun / no change | {} | {} | {} | ≤ {NOOP_MAX_SECONDS} s and ≤ {NOOP_MAX_RATIO}× | {} |\n",
        secs(&s["ours"]["noop"]),
        secs(&s["baseline"]["nochange"]),
        x(&r["ratios"]["noop"]),
        both(0, 1)
    ));
    t.push_str(&format!(
        "| one-line change | {} | {} | {} | ≤ {CHANGE_MAX_RATIO}× | {} |\n",
        secs(&s["ours"]["change"]),
        secs(&s["baseline"]["change"]),
        x(&r["ratios"]["change"]),
        met(2)
    ));
    t.push_str(&format!(
        "| floor: host `cargo build --release` of the change | {} | | ours / floor {} | | |\n",
        secs(&s["floor"]["change"]),
        x(&r["ratios"]["change_vs_floor"]),
    ));
    t.push_str(&format!(
        "| runtime image size | {} (binary {}, +{}) | {} | | ≤ binary + 64 KiB | {} |\n",
        bytes(&b["runtime_image"]),
        bytes(&b["binary"]),
        bytes(&b["runtime_overhead"]),
        bytes(&b["baseline_image"]),
        met(4)
    ));
    if let Some(notes) = r["notes"].as_array().filter(|n| !n.is_empty()) {
        t.push('\n');
        for n in notes {
            t.push_str(&format!("- {}\n", n.as_str().unwrap_or_default()));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn classic_builder_ids() {
        let out = "Step 1/10 : ARG BASE=x\nStep 2/10 : FROM ${BASE} AS build\n ---> a314ce77d921\nStep 3/10 : WORKDIR /src\n ---> Running in ddba72eef543\nRemoving intermediate container ddba72eef543\n ---> e593397e505a\nStep 4/10 : COPY . .\n ---> Using cache\n ---> 674f34105d10\nStep 7/10 : FROM scratch\nStep 8/10 : COPY --from=build /a /a\n ---> 508a36a83823\nSuccessfully built aedec489ee71\n";
        assert_eq!(
            build_ids(out),
            [
                "e593397e505a",
                "674f34105d10",
                "508a36a83823",
                "aedec489ee71"
            ]
        );
    }

    #[test]
    fn edits_the_real_example() {
        let tmp = tempfile::tempdir().unwrap();
        let example = repo_root().join("examples/hello-world");
        copy_dir(&example, tmp.path(), &["target"]).unwrap();
        assert_eq!(
            edit_greeting(tmp.path(), 1).unwrap(),
            "Hello bench! (edit 1)"
        );
        assert_eq!(
            edit_greeting(tmp.path(), 2).unwrap(),
            "Hello bench! (edit 2)"
        );
        let main = std::fs::read_to_string(tmp.path().join("src/main.rs")).unwrap();
        assert!(
            main.contains("format!(\"Hello {name}! (edit 2)\")"),
            "{main}"
        );
    }
}
