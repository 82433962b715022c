//! The workspace scenario (issue 21): a copy of the example turned into a workspace of three
//! services, the example's app and two copies of its package under other names (same
//! dependencies, same `[package.metadata.s2i]` but the runtime image), so they form one group:
//! one builder, one app stage compiling the three binaries, three runtime images. Our chain
//! builds it cold and after a one-line change in one service; the report compares both with
//! the one-service example's figures.

use std::path::{Path, PathBuf};

use xshell::{Shell, cmd};
use xtask_s2i::anyhow::{Context, Result, bail};
use xtask_s2i::dev;

use super::commands::check_greeting;
use super::example::{copy_example, edit_greeting, library_path};
use super::images::Images;
use super::ours::{expect_stages_of, run_image};
use super::report::RunStages;
use super::{BASE, BIN, Measured, NAMESPACE, report_time};

/// The two copies of the example's package, each in a directory of its name at the root.
pub const COPIES: [&str; 2] = ["hello-world-b", "hello-world-c"];
/// The service the one-line change edits: the second of the three.
const EDITED: usize = 1;

pub struct Workspace {
    exe: PathBuf,
    pub dir: PathBuf,
    builder: String,
    app: String,
    /// Per service, in member order (the example's app, then [`COPIES`]).
    runtimes: Vec<String>,
    tag: String,
    pub images: Images,
}

/// The three services' package names, in member order.
fn services() -> [&'static str; 3] {
    [BIN, COPIES[0], COPIES[1]]
}

/// A service's directory in the workspace: the root for the example's app.
fn service_dir(root: &Path, service: &str) -> PathBuf {
    if service == BIN {
        root.to_path_buf()
    } else {
        root.join(service)
    }
}

impl Workspace {
    pub fn new(exe: &Path, dir: PathBuf, tag: &str) -> Workspace {
        let name = |suffix: &str| format!("{NAMESPACE}/ws-{suffix}:{tag}");
        let runtimes: Vec<String> = services().iter().map(|s| name(s)).collect();
        let (builder, app) = (name("builder"), name("app"));
        let mut tags = runtimes.clone();
        tags.extend([app.clone(), builder.clone()]);
        Workspace {
            exe: exe.to_path_buf(),
            dir,
            images: Images::new(tags),
            builder,
            app,
            runtimes,
            tag: tag.to_string(),
        }
    }

    /// The workspace copy, every service with the bench's image names (one builder and app
    /// name for all: the group's), and its lock file completed.
    pub fn prepare(&self, repo: &Path, lib: &Path) -> Result<()> {
        make_workspace(repo, lib, &self.dir)?;
        let name = |r: &str| xtask_s2i::names::split_tag(r).0.to_string();
        for (service, runtime) in services().iter().zip(&self.runtimes) {
            let manifest = service_dir(&self.dir, service).join("Cargo.toml");
            dev::edit_manifest(&manifest, |doc| {
                let s2i = &mut doc["package"]["metadata"]["s2i"];
                s2i["builder-base"] = toml_edit::value(BASE);
                s2i["pull-policy"] = toml_edit::value("never");
                s2i["builder-image"] = toml_edit::value(name(&self.builder));
                s2i["app-image"] = toml_edit::value(name(&self.app));
                s2i["runtime-image"] = toml_edit::value(name(runtime));
                s2i["tag"] = toml_edit::value(&self.tag);
                Ok(())
            })?;
        }
        let sh = Shell::new()?;
        configured_members(&sh, &self.dir).map(|_| ())
    }

    /// Cold chain, no-op rerun, one-line change in one service.
    pub fn cycle(
        &self,
        sh: &Shell,
        of: &str,
        m: &mut Measured,
        notes: &mut Vec<String>,
    ) -> Result<()> {
        self.images.clean(sh);
        let target = self.dir.join("target");
        if target.exists() {
            std::fs::remove_dir_all(&target)
                .with_context(|| format!("failed to remove `{}`", target.display()))?;
        }
        let run = |no_cache| run_image(sh, &self.exe, &self.dir, &self.images, no_cache);
        let (cold, cold_stages) = run(true)?;
        report_time("workspace", "cold chain, 3 services", of, cold);
        expect_stages_of(5, &cold_stages, &[], "workspace, cold", of, notes);

        let (noop, noop_stages) = run(false)?;
        report_time("workspace", "no-op rerun", of, noop);
        let all = ["builder", "app", "runtime", "runtime", "runtime"];
        expect_stages_of(5, &noop_stages, &all, "workspace, no-op", of, notes);

        m.edits += 1;
        let edited = service_dir(&self.dir, services()[EDITED]);
        let expected = edit_greeting(&edited, m.edits)?;
        let (change, change_stages) = run(false)?;
        report_time("workspace", "one-line change in one service", of, change);
        let cached = ["builder", "runtime", "runtime"];
        expect_stages_of(5, &change_stages, &cached, "workspace, change", of, notes);
        check_greeting(sh, &self.runtimes[EDITED], &expected)?;

        m.ws_cold.push(cold);
        m.ws_noop.push(noop);
        m.ws_change.push(change);
        m.ws_stages.push(RunStages {
            cold: cold_stages,
            noop: noop_stages,
            change: change_stages,
        });
        Ok(())
    }
}

/// Copies the example to `dest` ([`copy_example`]) and makes it a workspace of three services:
/// the example's package and, in `dest/<name>` for each of [`COPIES`], its manifest under that
/// name (no `[workspace]`, the library's path as seen from there), `build.rs` and `src/`.
pub fn make_workspace(repo: &Path, lib: &Path, dest: &Path) -> Result<()> {
    copy_example(repo, lib, dest)?;
    let root = dest.join("Cargo.toml");
    let text = std::fs::read_to_string(&root)
        .with_context(|| format!("failed to read `{}`", root.display()))?;
    for copy in COPIES {
        let dir = dest.join(copy);
        dev::copy_dir(&dest.join("src"), &dir.join("src"))?;
        let build = dir.join("build.rs");
        std::fs::copy(dest.join("build.rs"), &build)
            .with_context(|| format!("failed to write `{}`", build.display()))?;
        let manifest = dir.join("Cargo.toml");
        std::fs::write(&manifest, &text)
            .with_context(|| format!("failed to write `{}`", manifest.display()))?;
        dev::edit_manifest(&manifest, |doc| {
            doc.remove("workspace");
            doc["package"]["name"] = toml_edit::value(copy);
            dev::for_each_path_dep(doc, |path| {
                Ok(if Path::new(path).is_relative() {
                    library_path(lib, &manifest)
                } else {
                    path.to_string()
                })
            })
        })?;
    }
    dev::edit_manifest(&root, |doc| {
        let Some(members) = doc["workspace"]["members"].as_array_mut() else {
            bail!("the example's `[workspace]` has no `members` list");
        };
        members.extend(COPIES);
        Ok(())
    })
}

/// The workspace members of `root` that configure `[package.metadata.s2i]`, as `cargo metadata`
/// (offline: the new members are path packages, the rest is locked) sees them; it adds them to
/// the lock file, which the app stage builds `--locked`.
pub fn configured_members(sh: &Shell, root: &Path) -> Result<Vec<String>> {
    let manifest = root.join("Cargo.toml");
    let json = cmd!(
        sh,
        "cargo metadata --format-version 1 --offline --manifest-path {manifest}"
    )
    .quiet()
    .env_remove("CARGO_TARGET_DIR")
    .read()
    .with_context(|| format!("`cargo metadata` failed on `{}`", manifest.display()))?;
    let v: serde_json::Value = serde_json::from_str(&json).context("odd `cargo metadata`")?;
    let members = v["workspace_members"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let packages = v["packages"].as_array().cloned().unwrap_or_default();
    Ok(packages
        .iter()
        .filter(|p| members.contains(&p["id"]))
        .filter(|p| p["metadata"]["s2i"].is_object())
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_copy_has_three_configured_services() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = crate::bench::repo_root();
        let lib = tmp.path().join("lib");
        dev::snapshot_library(&repo, &lib).unwrap();
        let dest = lib.join("examples/hello-world");
        make_workspace(&repo, &lib, &dest).unwrap();
        for copy in COPIES {
            let text = std::fs::read_to_string(dest.join(copy).join("Cargo.toml")).unwrap();
            let doc: toml_edit::DocumentMut = text.parse().unwrap();
            assert_eq!(doc["package"]["name"].as_str(), Some(copy), "{text}");
            assert!(doc.get("workspace").is_none(), "{text}");
            assert_eq!(
                doc["build-dependencies"]["xtask-s2i"]["path"].as_str(),
                Some("../../.."),
                "{text}"
            );
            assert!(doc["dependencies"]["clap"].is_inline_table(), "{text}");
            assert!(doc["package"]["metadata"]["s2i"].is_table(), "{text}");
            assert!(dest.join(copy).join("src/main.rs").is_file());
        }
        let sh = Shell::new().unwrap();
        let mut members = configured_members(&sh, &dest).unwrap();
        members.sort();
        assert_eq!(members, ["hello-world", "hello-world-b", "hello-world-c"]);
        let lock = std::fs::read_to_string(dest.join("Cargo.lock")).unwrap();
        for copy in COPIES {
            assert!(lock.contains(&format!("name = \"{copy}\"")), "{lock}");
        }
    }

    #[test]
    fn the_bench_names_one_group() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = Workspace::new(Path::new("xtask"), tmp.path().join("ws"), "run-1");
        assert_eq!(
            ws.runtimes,
            [
                "localhost/xtask-s2i-bench/ws-hello-world:run-1",
                "localhost/xtask-s2i-bench/ws-hello-world-b:run-1",
                "localhost/xtask-s2i-bench/ws-hello-world-c:run-1",
            ]
        );
        assert_eq!(ws.builder, "localhost/xtask-s2i-bench/ws-builder:run-1");
        assert_eq!(ws.app, "localhost/xtask-s2i-bench/ws-app:run-1");
    }
}
