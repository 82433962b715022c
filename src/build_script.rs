//! The `build.rs` helper: checks `[package.metadata.s2i]` at compile time with the same teaching
//! errors as `cargo xtask image`, tells the program its runtime image reference, and gives a
//! build script that wants more the validated [`Config`].
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     xtask_s2i::build_script::check();
//! }
//! ```

// A build script needs its `fn main`, so the example above keeps it.
#![allow(clippy::needless_doctest_main)]

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::Config;

/// The environment variable the program sees at compile time: `env!("S2I_RUNTIME_IMAGE")`.
pub const RUNTIME_IMAGE_VAR: &str = "S2I_RUNTIME_IMAGE";

/// Validates the configuration of the package being built. On an invalid configuration the
/// build fails with the error; otherwise it exports `S2I_RUNTIME_IMAGE` (`name:tag`) and asks
/// Cargo to re-run only when the manifests change.
pub fn check() {
    match runtime_image() {
        Ok((image, mut manifests)) => {
            manifests.dedup();
            for m in manifests {
                println!("cargo::rerun-if-changed={}", m.display());
            }
            println!(
                "cargo::rerun-if-env-changed={}",
                crate::config::BUILDER_BASE_ENV
            );
            println!("cargo::rustc-env={RUNTIME_IMAGE_VAR}={image}");
        }
        Err(e) => {
            // `cargo::error=` (Cargo 1.84+; edition 2024 needs 1.85) fails the build by itself and
            // shows one line per directive. Exiting with success keeps Cargo from also dumping
            // the script's output and a "process didn't exit successfully" backtrace hint.
            for line in format!("{e:#}").lines() {
                println!("cargo::error={line}");
            }
        }
    }
}

/// The runtime image reference of the package in `CARGO_MANIFEST_DIR`, and the manifests it
/// was read from.
pub fn runtime_image() -> Result<(String, Vec<PathBuf>)> {
    runtime_image_of(&manifest()?)
}

/// The validated configuration of the package in `CARGO_MANIFEST_DIR`, with every default
/// applied, as `cargo xtask image` reads it.
pub fn config() -> Result<Config> {
    Ok(load(&manifest()?)?.0)
}

/// The manifest of the package being built.
fn manifest() -> Result<PathBuf> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .context("`CARGO_MANIFEST_DIR` is not set: call `xtask_s2i::build_script::check()` from a build script")?;
    Ok(dir.join("Cargo.toml"))
}

/// The runtime image reference of the package whose manifest is `manifest`.
pub(crate) fn runtime_image_of(manifest: &Path) -> Result<(String, Vec<PathBuf>)> {
    let (config, files) = load(manifest)?;
    let image = format!("{}:{}", config.images.runtime_image, config.images.tag);
    Ok((image, files))
}

/// The configuration of the package whose manifest is `manifest`, and the manifests it was read
/// from.
fn load(manifest: &Path) -> Result<(Config, Vec<PathBuf>)> {
    let metadata = crate::config::read_metadata(Some(manifest))?;
    let manifest = manifest
        .canonicalize()
        .unwrap_or_else(|_| manifest.to_path_buf());
    let package = metadata
        .workspace_packages()
        .into_iter()
        .find(|p| p.manifest_path.as_std_path() == manifest)
        .with_context(|| format!("`{}` is not a package of its workspace", manifest.display()))?;
    if let Ok(base) = std::env::var(crate::config::BUILDER_BASE_ENV) {
        crate::config::builder_base_override(&base)?;
    }
    let config = crate::config::load(&metadata, package)?;
    let files = vec![
        manifest.clone(),
        metadata
            .workspace_root
            .join("Cargo.toml")
            .into_std_path_buf(),
    ];
    Ok((config, files))
}
