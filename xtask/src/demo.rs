//! `cargo xtask demo`: the main job on the example from a fresh machine, in one command. It finds
//! a builder base — the one given, else the local Rust base image, made when missing (as root;
//! `cargo xtask rust-base`), else the example's own `builder-base` from a registry — then builds
//! the example's chain as `cargo xtask image` in `examples/hello-world` does, and prints how to
//! run the runtime image.
//!
//! The local base comes first because the tests build `FROM` it: after this command,
//! `cargo test --workspace` finds what it needs.

use std::path::PathBuf;

use xshell::{Shell, cmd};
use xtask_s2i::anyhow::{Result, bail};
use xtask_s2i::clap;
use xtask_s2i::config::{BUILDER_BASE_ENV, DEFAULT_BUILDER_BASE};

use crate::debootstrap::{self, status};
use crate::rust_base::{self, IMAGE};

#[derive(Debug, clap::Args)]
pub struct Demo {
    /// The builder base image (also `XTASK_S2I_BUILDER_BASE`); default: the local Rust base
    /// image, made when missing
    #[arg(long, value_name = "IMAGE", env = BUILDER_BASE_ENV)]
    builder_base: Option<String>,
}

/// Where the example's builder starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// `--builder-base` / `XTASK_S2I_BUILDER_BASE`.
    Given(String),
    /// The local Rust base image, which exists.
    Local,
    /// The local Rust base image, to make first (as root).
    Make,
    /// The example's configured `builder-base`, from a registry (not root: the local base
    /// cannot be made).
    Upstream,
}

/// The builder base to use: the given one, else the local base (made when missing and the
/// command runs as root), else the example's own from a registry.
pub fn choose(given: Option<String>, local_exists: bool, root: bool) -> Base {
    match given {
        Some(image) => Base::Given(image),
        None if local_exists => Base::Local,
        None if root => Base::Make,
        None => Base::Upstream,
    }
}

impl Demo {
    pub fn run(self, sh: &Shell) -> Result<()> {
        let exists = rust_base::exists(sh, IMAGE);
        let base = match choose(self.builder_base, exists, debootstrap::is_root(sh)) {
            Base::Given(image) => Some(image),
            Base::Local => {
                status("Fresh", &format!("{IMAGE} (exists)"));
                Some(IMAGE.to_string())
            }
            Base::Make => {
                rust_base::make(sh, IMAGE)?;
                Some(IMAGE.to_string())
            }
            Base::Upstream => {
                upstream(sh)?;
                None
            }
        };
        let manifest = example_manifest();
        xtask_s2i::ImageArgs {
            manifest_path: Some(manifest.clone()),
            builder_base: base,
            ..Default::default()
        }
        .run()?;
        let (image, _) = xtask_s2i::dev::runtime_image_of(&manifest)?;
        status("Run", &format!("docker run --rm {image} --name OKD"));
        status(
            "Serve",
            &format!(
                "docker run --rm -p 127.0.0.1:8080:8080 --user 1000680000:0 --read-only \
                 --cap-drop ALL {image}   # then: curl 'localhost:8080/?name=OKD'"
            ),
        );
        Ok(())
    }
}

/// Not root and no local base: the example's `builder-base` from a registry, or the error that
/// says how to make the local base.
fn upstream(sh: &Shell) -> Result<()> {
    status(
        "Pulling",
        &format!("{DEFAULT_BUILDER_BASE} (`{IMAGE}` is missing, and making it needs root)"),
    );
    let pulled = rust_base::exists(sh, DEFAULT_BUILDER_BASE)
        || cmd!(sh, "docker pull -q {DEFAULT_BUILDER_BASE}")
            .quiet()
            .ignore_stdout()
            .run()
            .is_ok();
    if !pulled {
        // The error of making the local base without root: what to install or run.
        debootstrap::ensure_installed(sh)?;
        bail!(
            "`{IMAGE}` is missing and no registry supplies `{DEFAULT_BUILDER_BASE}`\nnote: run \
             this command as root to make the local base with `debootstrap`, or pass \
             `--builder-base IMAGE` with a Rust image the engine has"
        );
    }
    eprintln!(
        "warning: the tests build FROM `{IMAGE}`: make it as root with `cargo xtask rust-base`"
    );
    Ok(())
}

/// `examples/hello-world/Cargo.toml` of this repository.
fn example_manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/hello-world/Cargo.toml")
}

#[cfg(test)]
mod tests {
    use super::{Base, choose};

    #[test]
    fn the_base_is_given_else_local_else_made_as_root_else_pulled() {
        let given = Some("rust:1".to_string());
        assert_eq!(
            choose(given.clone(), false, false),
            Base::Given("rust:1".into())
        );
        assert_eq!(choose(given, true, true), Base::Given("rust:1".into()));
        assert_eq!(choose(None, true, false), Base::Local);
        assert_eq!(choose(None, true, true), Base::Local);
        assert_eq!(choose(None, false, true), Base::Make);
        assert_eq!(choose(None, false, false), Base::Upstream);
    }
}
