//! Vendoring for a tree that is not the user's working tree: the rehearsal (`--rehearse`) builds
//! the committed tree, exported to a temporary directory, and the containers it builds in may not
//! reach a registry. This vendors that tree's crates on the host with the same cached `cargo
//! vendor` the source closure uses, without staging or pruning: the committed workspace is built
//! as it is, as the cluster would build it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::cargo;
use crate::Error;
use crate::sink::Sink;

/// The vendored crates of a committed workspace: what goes into its source tar as `vendor/` and
/// `.cargo/config.toml`.
pub struct VendoredTree {
    /// The directory whose contents become `vendor/`.
    pub dir: PathBuf,
    /// The workspace's own `.cargo/config.toml` (if any) plus the source replacement.
    pub config: String,
}

/// Vendors the crates of the Cargo workspace at `dir` (a committed tree; nothing is written into
/// it) into `cache_root`, reusing the cache for the same `Cargo.lock` and build; crates the build
/// of `package` with these features does not compile are cut as in the source closure. `None`
/// when the workspace needs no crate from a registry or git.
pub fn vendor_committed(
    dir: &Path,
    cache_root: &Path,
    package: &str,
    features: &[String],
    no_default_features: bool,
    sink: &dyn Sink,
) -> Result<Option<VendoredTree>> {
    let lock_path = dir.join("Cargo.lock");
    if !lock_path.is_file() {
        return Err(Error::new(format!(
            "the committed workspace of `{package}` has no `Cargo.lock`, so its crates cannot be \
             vendored for an offline build"
        ))
        .note("commit `Cargo.lock` (an application's lock file belongs in git)")
        .into());
    }
    let lock = std::fs::read(&lock_path)
        .with_context(|| format!("failed to read `{}`", lock_path.display()))?;
    let user_path = dir.join(".cargo/config.toml");
    let user = user_path.is_file().then_some(user_path.as_path());
    let ws = cargo::Workspace { dir, config: user };
    let spec = cargo::BuildSpec {
        package,
        features,
        no_default_features,
    };
    let vendored = cargo::vendor(&ws, cache_root, &lock, &spec, sink)?;
    if vendored.sources.is_empty() {
        return Ok(None);
    }
    let user_text = match user {
        Some(p) => Some((
            p,
            std::fs::read_to_string(p)
                .with_context(|| format!("failed to read `{}`", p.display()))?,
        )),
        None => None,
    };
    let config = cargo::merge_config(
        user_text.as_ref().map(|(p, t)| (*p, t.as_str())),
        &vendored.sources,
    )?;
    Ok(Some(VendoredTree {
        dir: vendored.dir,
        config,
    }))
}
