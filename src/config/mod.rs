//! `[package.metadata.s2i]` and `[workspace.metadata.s2i]`: what the user wrote, checked and with
//! the workspace defaults merged in.
//!
//! Reading happens in three passes so that every error can name the file, the key and its line:
//! unknown keys are caught first (with a "did you mean"), then types (through serde, with the path
//! of the offending key), then the meaning of each value (image grammar, non-root users, ...).
//! This module knows neither Docker nor OpenShift; the `plan` module turns a [`Config`] into the chain.
//!
//! The submodules do one job each: `keys` documents every key, `raw` is the serde model and the
//! first two passes, `inherit` merges the workspace defaults, `validate` (and `okd` for the `okd`
//! table) checks each group of keys, and `diagnostics` words the errors. A `--builder-base`
//! override is not configuration: [`builder_base_override`] checks it on its own.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand, Package};
use serde::Deserialize;

use crate::names;

mod diagnostics;
mod inherit;
mod keys;
mod okd;
mod raw;
mod validate;

pub use diagnostics::{ConfigError, Origin, dotted_key, locate};
pub use keys::{KEYS, KeyDoc, OKD_KEYS};
pub use okd::Workload;
pub use raw::{RawConfig, RawOkd, RawResources, RawUser, RawWebhooks};

use diagnostics::Source;
use validate::Validator;

/// The image every builder starts from unless the user says otherwise.
pub const DEFAULT_BUILDER_BASE: &str = "docker.io/library/rust:1-slim";
/// Environment variable that overrides `builder-base` (offline machines, CI).
pub const BUILDER_BASE_ENV: &str = "XTASK_S2I_BUILDER_BASE";
/// Default numeric user of the builder and app images.
pub const DEFAULT_BUILDER_USER: u32 = 1001;
/// Default numeric user of the runtime image (the "nonroot" UID of distroless images).
pub const DEFAULT_RUNTIME_USER: u32 = 65532;

/// How an image is obtained when it is not present locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PullPolicy {
    #[default]
    IfNotPresent,
    Always,
    Never,
}

impl fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PullPolicy::IfNotPresent => "if-not-present",
            PullPolicy::Always => "always",
            PullPolicy::Never => "never",
        })
    }
}

/// TLS termination of the generated Route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Tls {
    #[default]
    Edge,
    Passthrough,
    Reencrypt,
    None,
}

/// The webhook trigger kinds a BuildConfig supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WebhookKind {
    Generic,
    GitHub,
    GitLab,
    Bitbucket,
}

impl WebhookKind {
    const ALL: [(&'static str, WebhookKind); 4] = [
        ("generic", WebhookKind::Generic),
        ("github", WebhookKind::GitHub),
        ("gitlab", WebhookKind::GitLab),
        ("bitbucket", WebhookKind::Bitbucket),
    ];

    pub fn key(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(s, _)| *s)
            .unwrap_or("generic")
    }
}
/// What the package itself says about itself (from `[package]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInfo {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub license: Option<String>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
    pub authors: Vec<String>,
    pub manifest_path: PathBuf,
    pub dir: PathBuf,
}

/// Where the validated configuration of the OKD manifests lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OkdConfig {
    pub namespace: Option<String>,
    /// `okd.git-uri`, else `package.repository`; `None` when neither is set (the manifests
    /// then fail with an error naming both keys).
    pub git_uri: Option<String>,
    pub git_ref: Option<String>,
    /// The directory of the workspace inside the git repository (`.` when at its root).
    pub context_dir: String,
    /// `okd.manifests-dir`, relative to the workspace root, with `/` separators.
    pub manifests_dir: String,
    pub webhooks: BTreeMap<WebhookKind, String>,
    pub replicas: u32,
    pub tls: Tls,
    /// Resources of every build, defaults merged with `okd.build-resources`.
    pub build_limits: BTreeMap<String, String>,
    pub build_requests: BTreeMap<String, String>,
    /// `completionDeadlineSeconds` of every build.
    pub build_timeout: u32,
    /// The stable tag of the chain's ImageStreamTags (`okd.tag`).
    pub tag: String,
    pub workload: Workload,
    /// The CronJob's schedule; set exactly when `workload` is [`Workload::CronJob`].
    pub schedule: Option<String>,
    /// The HTTP path of the probes; TCP probes on the port when `None`.
    pub health_path: Option<String>,
    /// Resources of the container, defaults merged with `okd.resources`.
    pub limits: BTreeMap<String, String>,
    pub requests: BTreeMap<String, String>,
    pub source_secret: Option<String>,
    pub unauthenticated_webhooks: bool,
}

/// The validated configuration of one package, with every default applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub package: PackageInfo,
    pub workspace_root: PathBuf,
    /// The configured `builder-base` (a `--builder-base` override is the Plan's business).
    pub builder_base: String,
    pub builder_image: String,
    pub app_image: String,
    pub runtime_image: String,
    pub tag: String,
    pub pull_policy: PullPolicy,
    pub bin: String,
    pub features: Vec<String>,
    pub no_default_features: bool,
    pub profile: String,
    pub vendor: bool,
    /// Strip debug info and symbols from the binary (cargo's `strip = "symbols"` for the profile).
    pub strip: bool,
    pub builder_user: u32,
    pub runtime_user: u32,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub port: Option<u16>,
    pub okd: OkdConfig,
}

/// Runs `cargo metadata --no-deps` for the workspace of `manifest_path` (or the current directory).
pub fn read_metadata(manifest_path: Option<&Path>) -> anyhow::Result<Metadata> {
    let mut cmd = MetadataCommand::new();
    cmd.no_deps();
    if let Some(p) = manifest_path {
        cmd.manifest_path(p);
    }
    anyhow::Context::with_context(cmd.exec(), || match manifest_path {
        Some(p) => format!("failed to read the Cargo workspace of `{}`", p.display()),
        None => "failed to read the Cargo workspace of the current directory".to_string(),
    })
}

/// Reads, merges and validates the configuration of `package`. `builder-base` is the configured
/// one: a `--builder-base` override goes through [`builder_base_override`] instead.
pub fn load(metadata: &Metadata, package: &Package) -> Result<Config, ConfigError> {
    let pkg_src = Source::package(package);
    let ws_src = Source::workspace(metadata);
    let pkg_raw = raw::parse(&pkg_src)?;
    let ws_raw = raw::parse(&ws_src)?;
    inherit::per_package_only(&ws_src)?;
    let raw = pkg_raw.inherit(ws_raw);
    Validator {
        pkg: &pkg_src,
        ws: &ws_src,
    }
    .validate(raw, metadata, package)
}

/// Checks `value` of the `--builder-base` flag or the `XTASK_S2I_BUILDER_BASE` variable: the
/// image the local builder starts from instead of the configured `builder-base`.
pub fn builder_base_override(value: &str) -> Result<String, ConfigError> {
    names::image_reference(value).map_err(|message| ConfigError {
        origin: Origin::Flag {
            flag: "--builder-base",
            env: BUILDER_BASE_ENV,
        },
        key: "builder-base".into(),
        message,
        note: Some(format!(
            "give a full image reference such as `{DEFAULT_BUILDER_BASE}`"
        )),
    })?;
    Ok(value.to_string())
}
