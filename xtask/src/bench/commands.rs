//! Running the measured commands (timed from spawn to exit, their output shown when they fail)
//! and asking the `docker` CLI about the engine and the images: the preflight, an image's size,
//! the binary's size, and whether the runtime image prints the edited greeting.

use std::path::Path;
use std::process::Output;
use std::time::Instant;

use xshell::{Shell, cmd};
use xtask_s2i::anyhow::{Context, Result, bail};

use super::{BASE, BIN};

/// Docker answers and the base image exists (made by `cargo xtask rust-base` if it does not).
pub fn preflight(sh: &Shell, exe: &Path) -> Result<()> {
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

/// Runs a command to completion, capturing its output, and times it from spawn to exit.
pub fn timed(command: xshell::Cmd<'_>) -> (f64, std::io::Result<Output>) {
    let start = Instant::now();
    let out = command
        .quiet()
        .ignore_status()
        .output()
        .map_err(std::io::Error::other);
    (start.elapsed().as_secs_f64(), out)
}

/// The output of a command that succeeded; a failure shows the end of its output.
pub fn check(what: &str, out: std::io::Result<Output>) -> Result<Output> {
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

/// The image runs and prints the edited greeting: the change really went through.
pub fn check_greeting(sh: &Shell, image: &str, expected: &str) -> Result<()> {
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

pub fn image_size(sh: &Shell, image: &str) -> Result<u64> {
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
pub fn binary_size(sh: &Shell, image: &str, tmp: &Path) -> Result<u64> {
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
