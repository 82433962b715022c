//! Where the chain's files are: the local output directory under Cargo's target directory, the
//! committed manifests directory, and the directories of the workspace and the package.
//!
//! Every path a consumer writes or names in a message is built here, from the Plan's [`Layout`],
//! so the CLI that writes the builder context and the engine that points at it agree.

use std::path::PathBuf;

/// The builder context's Dockerfile: its file name in the local and the committed builder
/// context, and in the build contexts handed to `docker build`.
pub const DOCKERFILE: &str = "Dockerfile";
/// The directory of the builder context, below the local output directory and below the
/// manifests directory (`<package>/builder` there when several packages share it).
pub const BUILDER_DIR: &str = "builder";
/// The runtime image's Dockerfile in the local output directory.
pub const RUNTIME_DOCKERFILE: &str = "runtime.Dockerfile";

/// Every local and manifest path of one package's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The workspace root (the directory of the root `Cargo.toml`).
    pub workspace_root: PathBuf,
    /// The package's `Cargo.toml`.
    pub package_manifest: PathBuf,
    /// The package's directory (the workspace root when the manifest has no parent).
    pub package_dir: PathBuf,
    /// Where rendered files and caches go for the local chain: `<target-dir>/s2i/<package>`.
    pub out_dir: PathBuf,
    /// Absolute directory of the generated manifests.
    pub manifests_dir: PathBuf,
    /// `okd.manifests-dir`: the manifests directory relative to the workspace root, with `/`.
    pub manifests_in_workspace: String,
    /// `okd.context-dir`: the workspace's directory inside the git repository (`.` at its root).
    pub workspace_in_repo: String,
    package: String,
}

impl Layout {
    pub(super) fn new(
        package: &str,
        workspace_root: PathBuf,
        package_manifest: PathBuf,
        target_dir: PathBuf,
        manifests_in_workspace: String,
        workspace_in_repo: String,
    ) -> Layout {
        let package_dir = package_manifest
            .parent()
            .unwrap_or(&workspace_root)
            .to_path_buf();
        Layout {
            out_dir: target_dir.join("s2i").join(package),
            manifests_dir: workspace_root.join(&manifests_in_workspace),
            workspace_root,
            package_manifest,
            package_dir,
            manifests_in_workspace,
            workspace_in_repo,
            package: package.to_string(),
        }
    }

    /// The local builder context: `<out_dir>/builder`.
    pub fn builder_dir(&self) -> PathBuf {
        self.out_dir.join(BUILDER_DIR)
    }

    /// The local runtime Dockerfile: `<out_dir>/runtime.Dockerfile`.
    pub fn runtime_dockerfile(&self) -> PathBuf {
        self.out_dir.join(RUNTIME_DOCKERFILE)
    }

    /// Where the source tar is staged and its vendored crates are cached.
    pub fn source_dir(&self) -> PathBuf {
        self.out_dir.join("source")
    }

    /// Where the rehearsal keeps its state.
    pub fn rehearse_dir(&self) -> PathBuf {
        self.out_dir.join("rehearse")
    }

    /// The committed builder context, relative to the manifests directory: `builder`, or
    /// `<package>/builder` when the directory is `shared` by several packages.
    pub fn committed_builder_dir(&self, shared: bool) -> String {
        match shared {
            true => format!("{}/{BUILDER_DIR}", self.package),
            false => BUILDER_DIR.to_string(),
        }
    }
}
