//! The baseline, `docker build` of `bench/baseline.Dockerfile` (cold, no change, one-line
//! change), and the floor, the host's `cargo build --release` of the same change, offline from
//! the same `vendor/`. Both build the very source tar our app stage uploads.

use std::path::{Path, PathBuf};

use xshell::{Shell, cmd};
use xtask_s2i::anyhow::{Context, Result};
use xtask_s2i::engine::SourceTree as _;

use super::commands::{check, check_greeting, image_size, timed};
use super::example::{copy_example, edit_greeting};
use super::images::Images;
use super::{BASE, BIN, EXAMPLE, Measured, NAMESPACE, report_time};

pub struct Baseline {
    pub dir: PathBuf,
    image: String,
    pub images: Images,
}

impl Baseline {
    /// The example's workspace in the unpacked source (the source root is the copy's
    /// repository, as the cluster's).
    pub fn workspace(&self) -> PathBuf {
        self.dir.join(EXAMPLE)
    }

    pub fn new(dir: PathBuf, tag: &str) -> Baseline {
        let image = format!("{NAMESPACE}/{BIN}-baseline:{tag}");
        Baseline {
            dir,
            images: Images::new(vec![image.clone()]),
            image,
        }
    }

    /// The build context: exactly the source tar our app stage uploads to `/tmp/src` (the
    /// copy's repository with the example at `examples/hello-world` and the xtask-s2i path
    /// dependency at its root, the vendored crates and the source replacement in the example's
    /// `.cargo/config.toml`, since containers here cannot reach crates.io), made once by the
    /// library from a copy of the example and unpacked, plus the Dockerfile. Both chains build
    /// the same bytes; the baseline's vendoring is not timed.
    pub fn prepare(&self, sh: &Shell, repo: &Path, lib: &Path, scratch: &Path) -> Result<()> {
        copy_example(repo, lib, scratch)?;
        let manifest = scratch.join("Cargo.toml");
        let metadata = xtask_s2i::config::read_metadata(Some(&manifest))?;
        let plans = xtask_s2i::plan::Plan::for_workspace(&metadata, &[], Some(BASE))?;
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
            "docker build --force-rm {no_cache...} --build-arg BASE={BASE} --build-arg WORKSPACE={EXAMPLE} -t {image} {dir}"
        )
        .env("DOCKER_BUILDKIT", "0");
        let (secs, out) = timed(command);
        // Track what was built even when the build failed, so that it is removed.
        if let Ok(out) = &out {
            for id in build_ids(&String::from_utf8_lossy(&out.stdout)) {
                self.images.track(id);
            }
        }
        check("`docker build` of the baseline", out)?;
        Ok(secs)
    }

    /// Cold (`--no-cache`), no change, one-line change; then removes the images.
    pub fn cycle(&self, sh: &Shell, of: &str, m: &mut Measured) -> Result<()> {
        let cold = self.build(sh, true)?;
        report_time("baseline", "cold", of, cold);
        let nochange = self.build(sh, false)?;
        report_time("baseline", "no change", of, nochange);
        m.edits += 1;
        let expected = edit_greeting(&self.workspace(), m.edits)?;
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

/// The images a classic build made (each step's and the last), without the stages' bases: the
/// ID after a `FROM` step is an image the bench must never remove.
fn build_ids(stdout: &str) -> Vec<&str> {
    let mut ids = Vec::new();
    let mut after_from = false;
    for line in stdout.lines().map(str::trim) {
        if line.starts_with("Step ") {
            after_from = line
                .split_once(" : ")
                .is_some_and(|(_, i)| i.to_ascii_uppercase().starts_with("FROM "));
            continue;
        }
        let Some(id) = xtask_s2i::names::classic_build_image(line) else {
            continue;
        };
        if !std::mem::take(&mut after_from) {
            ids.push(id);
        }
    }
    ids
}

/// One host build in the baseline's context; returns the seconds.
pub fn floor_build(sh: &Shell, dir: &Path, target: &Path) -> Result<f64> {
    // `.cargo/config.toml` (the source replacement) is found from the current directory.
    let _dir = sh.push_dir(dir);
    let command = cmd!(sh, "cargo build --release --offline --locked")
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS");
    let (secs, out) = timed(command);
    check("host `cargo build --release`", out)?;
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
