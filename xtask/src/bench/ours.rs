//! Our chain: this xtask's own `image` subcommand on a copy of the example, three ways per run
//! (cold, no-op rerun, one-line change), with the stage reports of its `--message-format json`
//! output kept for the report and checked against what each way should cache.

use std::path::{Path, PathBuf};

use xshell::{Shell, cmd};
use xtask_s2i::anyhow::{Context, Result};

use super::commands::{check, check_greeting, timed};
use super::example::{copy_example, edit_greeting};
use super::images::Images;
use super::report::{RunStages, Stage};
use super::{BASE, BIN, Measured, NAMESPACE, report_time, status};

pub struct Ours {
    exe: PathBuf,
    pub dir: PathBuf,
    builder: String,
    app: String,
    pub runtime: String,
    tag: String,
    pub images: Images,
}

impl Ours {
    pub fn new(exe: &Path, dir: PathBuf, tag: &str) -> Ours {
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
    pub fn prepare(&self, repo: &Path, lib: &Path) -> Result<()> {
        copy_example(repo, lib, &self.dir)?;
        let name = |r: &str| xtask_s2i::names::split_tag(r).0.to_string();
        xtask_s2i::dev::edit_manifest(&self.dir.join("Cargo.toml"), |doc| {
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
    fn image(&self, sh: &Shell, no_cache: bool) -> Result<(f64, Vec<Stage>)> {
        run_image(sh, &self.exe, &self.dir, &self.images, no_cache)
    }

    /// Cold chain, no-op rerun, one-line change.
    pub fn cycle(
        &self,
        sh: &Shell,
        of: &str,
        m: &mut Measured,
        notes: &mut Vec<String>,
    ) -> Result<()> {
        // Cold: none of the copy's images, no target/ (rendered context, any host-side cache).
        self.images.clean(sh);
        let target = self.dir.join("target");
        if target.exists() {
            std::fs::remove_dir_all(&target)
                .with_context(|| format!("failed to remove `{}`", target.display()))?;
        }
        let (cold, cold_stages) = self.image(sh, true)?;
        report_time("ours", "cold chain", of, cold);
        expect_stages(&cold_stages, &[], "ours, cold", of, notes);

        let (noop, noop_stages) = self.image(sh, false)?;
        report_time("ours", "no-op rerun", of, noop);
        expect_stages(
            &noop_stages,
            &["builder", "app", "runtime"],
            "ours, no-op",
            of,
            notes,
        );

        m.edits += 1;
        let expected = edit_greeting(&self.dir, m.edits)?;
        let (change, change_stages) = self.image(sh, false)?;
        report_time("ours", "one-line change", of, change);
        expect_stages(
            &change_stages,
            &["builder"],
            "ours, one-line change",
            of,
            notes,
        );
        check_greeting(sh, &self.runtime, &expected)?;

        m.ours_cold.push(cold);
        m.ours_noop.push(noop);
        m.ours_change.push(change);
        m.ours_stages.push(RunStages {
            cold: cold_stages,
            noop: noop_stages,
            change: change_stages,
        });
        Ok(())
    }
}

/// Runs `image` on the copy in `dir` once, tracking the images it reports; returns the seconds
/// and the stage reports.
pub fn run_image(
    sh: &Shell,
    exe: &Path,
    dir: &Path,
    images: &Images,
    no_cache: bool,
) -> Result<(f64, Vec<Stage>)> {
    let manifest = dir.join("Cargo.toml");
    let no_cache = no_cache.then_some("--no-cache");
    let command = cmd!(
        sh,
        "{exe} image --manifest-path {manifest} --message-format json {no_cache...}"
    )
    .env("XTASK_S2I_BUILDER_BASE", BASE)
    .env_remove("CARGO_TARGET_DIR");
    let (secs, out) = timed(command);
    let out = check("`cargo xtask image`", out)?;
    let stages = Stage::parse_events(&String::from_utf8_lossy(&out.stdout))?;
    for s in &stages {
        images.track(&s.id);
    }
    Ok((secs, stages))
}

/// Notes when a run did not cache exactly the `cached` stages.
fn expect_stages(stages: &[Stage], cached: &[&str], what: &str, of: &str, notes: &mut Vec<String>) {
    expect_stages_of(3, stages, cached, what, of, notes);
}

/// Notes when a run did not report `all` stages, or did not cache exactly the `cached` ones.
pub fn expect_stages_of(
    all: usize,
    stages: &[Stage],
    cached: &[&str],
    what: &str,
    of: &str,
    notes: &mut Vec<String>,
) {
    let names: Vec<&str> = stages.iter().map(|s| s.stage.as_str()).collect();
    let got: Vec<&str> = stages
        .iter()
        .filter(|s| s.cached)
        .map(|s| s.stage.as_str())
        .collect();
    if names.len() != all || got != cached {
        let note = format!(
            "{what} ({of}): reported stages {names:?}, cached {got:?}; expected {all} with cached {cached:?}"
        );
        status("Warning", &note);
        notes.push(note);
    }
}
