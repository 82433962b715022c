//! `cargo xtask rust-base`: makes the Rust builder base image on machines without a registry.
//!
//! If `localhost/xtask-s2i/rust:trixie` is missing, a Debian trixie root file system with
//! `rustc`, `cargo`, `gcc` and `libc6-dev` is made with `debootstrap` (installed first when it is
//! missing and the task runs as root) and imported with `docker import`. Tests, `cargo xtask
//! demo` and the README's offline note use it through `XTASK_S2I_BUILDER_BASE`.

use std::time::Instant;

use xshell::{Shell, cmd};
use xtask_s2i::anyhow::{Context, Result};
use xtask_s2i::clap;

use crate::debootstrap::{self, status};

/// The image this task makes (the tests and the bench build `FROM` it).
pub const IMAGE: &str = xtask_s2i::dev::RUST_BASE;

/// What the root file system holds besides `minbase`.
const PACKAGES: &str = "--include=ca-certificates,rustc,cargo,gcc,libc6-dev";

#[derive(Debug, clap::Args)]
pub struct RustBase {
    /// Rebuild the image even when it exists
    #[arg(long)]
    force: bool,
    /// The image to make (to try the task without touching the one the tests use)
    #[arg(long, value_name = "NAME:TAG", default_value = IMAGE)]
    image: String,
}

impl RustBase {
    pub fn run(self, sh: &Shell) -> Result<()> {
        if !self.force && exists(sh, &self.image) {
            status("Fresh", &format!("{} (exists)", self.image));
            return Ok(());
        }
        make(sh, &self.image)
    }
}

/// Whether the engine has `image`.
pub fn exists(sh: &Shell, image: &str) -> bool {
    cmd!(sh, "docker image inspect {image}")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// Makes `image` (normally [`IMAGE`]) with `debootstrap` and `docker import`, with a status
/// line per phase.
pub fn make(sh: &Shell, image: &str) -> Result<()> {
    debootstrap::ensure_installed(sh)?;
    let start = Instant::now();
    let dir = tempfile_dir()?;
    let root = format!("{dir}/root");
    status(
        "Bootstrapping",
        &format!("Debian trixie with rustc and cargo in `{root}` (about a minute)"),
    );
    let bootstrapped = debootstrap::run(&["--variant=minbase", PACKAGES, "trixie"], &root);
    if let Err(e) = bootstrapped {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    status("Importing", image);
    let import = format!("tar -C '{root}' -c . | docker import - '{image}'");
    let imported = cmd!(sh, "sh -c {import}").quiet().ignore_stdout().run();
    let _ = std::fs::remove_dir_all(&dir);
    imported.context("`docker import` failed")?;
    status(
        "Finished",
        &format!("{image} in {:.0}s", start.elapsed().as_secs_f64()),
    );
    Ok(())
}

fn tempfile_dir() -> Result<String> {
    let base = std::env::temp_dir().join(format!("xtask-s2i-rust-base-{}", std::process::id()));
    std::fs::create_dir_all(&base)
        .with_context(|| format!("failed to create `{}`", base.display()))?;
    Ok(base.display().to_string())
}
