//! `cargo xtask rust-base`: makes the Rust builder base image on machines without a registry.
//!
//! If `localhost/xtask-s2i/rust:trixie` is missing, a Debian trixie root file system with
//! `rustc`, `cargo`, `gcc` and `libc6-dev` is made with `debootstrap` and imported with
//! `docker import`. Tests and the README's offline note use it through `XTASK_S2I_BUILDER_BASE`.

use std::time::Instant;

use xshell::{Shell, cmd};
use xtask_s2i::anyhow::{Context, Result, bail};
use xtask_s2i::clap;

/// The image this task makes (the tests and the bench build `FROM` it).
pub const IMAGE: &str = xtask_s2i::dev::RUST_BASE;

#[derive(Debug, clap::Args)]
pub struct RustBase {
    /// Rebuild the image even when it exists
    #[arg(long)]
    force: bool,
}

impl RustBase {
    pub fn run(self, sh: &Shell) -> Result<()> {
        if !self.force
            && cmd!(sh, "docker image inspect {IMAGE}")
                .quiet()
                .ignore_stdout()
                .ignore_stderr()
                .run()
                .is_ok()
        {
            eprintln!("{:>12} {IMAGE} (exists)", "Fresh");
            return Ok(());
        }
        if cmd!(sh, "which debootstrap")
            .quiet()
            .ignore_stdout()
            .run()
            .is_err()
        {
            bail!(
                "`debootstrap` is not installed\nnote: install it with `apt-get install debootstrap` (Debian/Ubuntu)"
            );
        }
        let start = Instant::now();
        let dir = tempfile_dir()?;
        let root = format!("{dir}/root");
        eprintln!(
            "{:>12} Debian trixie with rustc and cargo in `{root}`",
            "Bootstrapping"
        );
        cmd!(sh, "debootstrap --variant=minbase --include=ca-certificates,rustc,cargo,gcc,libc6-dev trixie {root}")
            .quiet()
            .ignore_stdout()
            .run()
            .context("`debootstrap` failed; it needs root and Debian's package mirror")?;
        eprintln!("{:>12} {IMAGE}", "Importing");
        let import = format!("tar -C '{root}' -c . | docker import - '{IMAGE}'");
        let imported = cmd!(sh, "sh -c {import}").quiet().ignore_stdout().run();
        let _ = std::fs::remove_dir_all(&dir);
        imported.context("`docker import` failed")?;
        eprintln!(
            "{:>12} {IMAGE} in {:.0}s",
            "Finished",
            start.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

fn tempfile_dir() -> Result<String> {
    let base = std::env::temp_dir().join(format!("xtask-s2i-rust-base-{}", std::process::id()));
    std::fs::create_dir_all(&base)
        .with_context(|| format!("failed to create `{}`", base.display()))?;
    Ok(base.display().to_string())
}
