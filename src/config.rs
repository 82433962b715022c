//! `[package.metadata.s2i]` and `[workspace.metadata.s2i]`: what the user wrote, checked and with
//! the workspace defaults merged in.
//!
//! Reading happens in three passes so that every error can name the file, the key and its line:
//! unknown keys are caught first (with a "did you mean"), then types (through serde, with the path
//! of the offending key), then the meaning of each value (image grammar, non-root users, ...).
//! This module knows neither Docker nor OpenShift; the `plan` module turns a [`Config`] into the chain.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand, Package, TargetKind};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::names;

mod okd;
pub use okd::Workload;

/// The image every builder starts from unless the user says otherwise.
pub const DEFAULT_BUILDER_BASE: &str = "docker.io/library/rust:1-slim";
/// Environment variable that overrides `builder-base` (offline machines, CI).
pub const BUILDER_BASE_ENV: &str = "XTASK_S2I_BUILDER_BASE";
/// Default numeric user of the builder and app images.
pub const DEFAULT_BUILDER_USER: u32 = 1001;
/// Default numeric user of the runtime image (the "nonroot" UID of distroless images).
pub const DEFAULT_RUNTIME_USER: u32 = 65532;

/// One documented configuration key; the README's reference table is checked against this list.
#[derive(Debug, Clone, Copy)]
pub struct KeyDoc {
    pub key: &'static str,
    pub ty: &'static str,
    pub default: &'static str,
    pub example: &'static str,
}

/// Every key of `[package.metadata.s2i]`.
pub const KEYS: &[KeyDoc] = &[
    KeyDoc {
        key: "builder-base",
        ty: "string",
        default: DEFAULT_BUILDER_BASE,
        example: r#"builder-base = "docker.io/library/rust:1-slim""#,
    },
    KeyDoc {
        key: "builder-image",
        ty: "string",
        default: "`<package>-builder`",
        example: r#"builder-image = "quay.io/acme/hello-builder""#,
    },
    KeyDoc {
        key: "app-image",
        ty: "string",
        default: "`<package>-app`",
        example: r#"app-image = "quay.io/acme/hello-app""#,
    },
    KeyDoc {
        key: "runtime-image",
        ty: "string",
        default: "`<package>`",
        example: r#"runtime-image = "quay.io/acme/hello""#,
    },
    KeyDoc {
        key: "tag",
        ty: "string",
        default: "the package version",
        example: r#"tag = "latest""#,
    },
    KeyDoc {
        key: "pull-policy",
        ty: "string",
        default: "`if-not-present`",
        example: r#"pull-policy = "never""#,
    },
    KeyDoc {
        key: "bin",
        ty: "string",
        default: "the package's only binary target, else its `default-run`",
        example: r#"bin = "hello-world""#,
    },
    KeyDoc {
        key: "features",
        ty: "array of strings",
        default: "`[]`",
        example: r#"features = ["tls"]"#,
    },
    KeyDoc {
        key: "no-default-features",
        ty: "boolean",
        default: "`false`",
        example: "no-default-features = true",
    },
    KeyDoc {
        key: "profile",
        ty: "string",
        default: "`release`",
        example: r#"profile = "release""#,
    },
    KeyDoc {
        key: "vendor",
        ty: "boolean",
        default: "`true`",
        example: "vendor = false",
    },
    KeyDoc {
        key: "strip",
        ty: "boolean",
        default: "`true`: no debug info or symbols in the image's binary",
        example: "strip = false",
    },
    KeyDoc {
        key: "user",
        ty: "integer or table",
        default: "`{ builder = 1001, runtime = 65532 }`",
        example: "user = { builder = 1001, runtime = 65532 }",
    },
    KeyDoc {
        key: "env",
        ty: "table of strings",
        default: "`{}`",
        example: r#"env = { RUST_LOG = "info" }"#,
    },
    KeyDoc {
        key: "labels",
        ty: "table of strings",
        default: "`{}`",
        example: r#"labels = { "com.example.team" = "web" }"#,
    },
    KeyDoc {
        key: "port",
        ty: "integer",
        default: "none (no Service, no Route)",
        example: "port = 8080",
    },
    KeyDoc {
        key: "okd",
        ty: "table",
        default: "see below",
        example: r#"okd = { namespace = "demo" }"#,
    },
];

/// Every key of `[package.metadata.s2i.okd]`.
pub const OKD_KEYS: &[KeyDoc] = &[
    KeyDoc {
        key: "namespace",
        ty: "string",
        default: "none (the current `oc project`)",
        example: r#"namespace = "demo""#,
    },
    KeyDoc {
        key: "git-uri",
        ty: "string",
        default: "`package.repository`",
        example: r#"git-uri = "https://github.com/acme/hello.git""#,
    },
    KeyDoc {
        key: "git-ref",
        ty: "string",
        default: "none (the remote's default branch)",
        example: r#"git-ref = "main""#,
    },
    KeyDoc {
        key: "context-dir",
        ty: "string",
        default: "the workspace's directory inside its git repository",
        example: r#"context-dir = "services/hello""#,
    },
    KeyDoc {
        key: "manifests-dir",
        ty: "string",
        default: "`deploy/okd`",
        example: r#"manifests-dir = "deploy/okd""#,
    },
    KeyDoc {
        key: "webhooks",
        ty: "array or table",
        default: "`[]`",
        example: r#"webhooks = { github = "hello-github-webhook", generic = "hello-generic-webhook" }"#,
    },
    KeyDoc {
        key: "replicas",
        ty: "integer",
        default: "`1`",
        example: "replicas = 2",
    },
    KeyDoc {
        key: "tls",
        ty: "string",
        default: "`edge`",
        example: r#"tls = "passthrough""#,
    },
    KeyDoc {
        key: "build-resources",
        ty: "table",
        default: "`{ requests = { cpu = \"500m\", memory = \"1Gi\", ephemeral-storage = \"2Gi\" }, limits = { memory = \"4Gi\", ephemeral-storage = \"10Gi\" } }`",
        example: r#"build-resources = { limits = { cpu = "2", memory = "4Gi" } }"#,
    },
    KeyDoc {
        key: "build-timeout",
        ty: "integer",
        default: "`3600` (seconds)",
        example: "build-timeout = 1800",
    },
    KeyDoc {
        key: "tag",
        ty: "string",
        default: "`latest`",
        example: r#"tag = "stable""#,
    },
    KeyDoc {
        key: "workload",
        ty: "string",
        default: "`deployment` with `port`, else `none`",
        example: r#"workload = "cronjob""#,
    },
    KeyDoc {
        key: "schedule",
        ty: "string",
        default: "none (required by `workload = \"cronjob\"`)",
        example: r#"schedule = "*/15 * * * *""#,
    },
    KeyDoc {
        key: "health-path",
        ty: "string",
        default: "none (TCP probes on `port`)",
        example: r#"health-path = "/healthz""#,
    },
    KeyDoc {
        key: "resources",
        ty: "table",
        default: "`{ requests = { cpu = \"10m\", memory = \"32Mi\" }, limits = { memory = \"128Mi\" } }`",
        example: r#"resources = { limits = { memory = "256Mi" } }"#,
    },
    KeyDoc {
        key: "source-secret",
        ty: "string",
        default: "none (a public repository)",
        example: r#"source-secret = "hello-git""#,
    },
    KeyDoc {
        key: "unauthenticated-webhooks",
        ty: "boolean",
        default: "`false`",
        example: "unauthenticated-webhooks = true",
    },
];

const USER_KEYS: &[&str] = &["builder", "runtime"];
const RESOURCE_KEYS: &[&str] = &["limits", "requests"];
const RESOURCE_NAMES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

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

/// `user`: one UID for both images, or a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawUser {
    pub builder: Option<i64>,
    pub runtime: Option<i64>,
}

impl<'de> Deserialize<'de> for RawUser {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawUser;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a numeric UID or a table `{ builder = 1001, runtime = 65532 }`")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawUser, E> {
                Ok(RawUser {
                    builder: Some(v),
                    runtime: Some(v),
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawUser, E> {
                let v = i64::try_from(v).map_err(|_| E::custom("the UID is too large"))?;
                self.visit_i64(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawUser, E> {
                Err(E::custom(format!(
                    "`{}` is a name, but the user must be a numeric UID: OKD runs containers under arbitrary numeric UIDs and can only verify `runAsNonRoot` for a number",
                    names::printable(v)
                )))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawUser, A::Error> {
                let mut user = RawUser::default();
                while let Some(key) = map.next_key::<String>()? {
                    let slot = match key.as_str() {
                        "builder" => &mut user.builder,
                        "runtime" => &mut user.runtime,
                        other => return Err(de::Error::unknown_field(other, USER_KEYS)),
                    };
                    let v: Value = map.next_value()?;
                    *slot = Some(match v {
                        Value::Number(n) if n.as_i64().is_some() => n.as_i64().unwrap_or(0),
                        Value::String(s) => {
                            return Err(de::Error::custom(format!(
                                "`{}` is a name, but `user.{key}` must be a numeric UID: OKD runs containers under arbitrary numeric UIDs",
                                names::printable(&s)
                            )));
                        }
                        other => {
                            return Err(de::Error::custom(format!(
                                "`user.{key}` must be a numeric UID, found {}",
                                json_kind(&other)
                            )));
                        }
                    });
                }
                Ok(user)
            }
        }
        d.deserialize_any(V)
    }
}

/// `okd.webhooks`: a list of kinds (secrets get default names) or a table kind → secret name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawWebhooks(pub BTreeMap<String, Option<String>>);

impl<'de> Deserialize<'de> for RawWebhooks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawWebhooks;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a list such as `["github", "generic"]` or a table such as `{ github = "my-webhook-secret" }`"#)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawWebhooks, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(kind) = seq.next_element::<String>()? {
                    out.insert(kind, None);
                }
                Ok(RawWebhooks(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawWebhooks, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(kind) = map.next_key::<String>()? {
                    let secret: String = map.next_value()?;
                    out.insert(kind, Some(secret));
                }
                Ok(RawWebhooks(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `okd.build-resources`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawResources {
    pub limits: Option<BTreeMap<String, String>>,
    pub requests: Option<BTreeMap<String, String>>,
}

/// `[package.metadata.s2i.okd]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawOkd {
    pub namespace: Option<String>,
    pub git_uri: Option<String>,
    pub git_ref: Option<String>,
    pub context_dir: Option<String>,
    pub manifests_dir: Option<String>,
    pub webhooks: Option<RawWebhooks>,
    pub replicas: Option<u32>,
    pub tls: Option<Tls>,
    pub build_resources: Option<RawResources>,
    pub build_timeout: Option<i64>,
    pub tag: Option<String>,
    pub workload: Option<Workload>,
    pub schedule: Option<String>,
    pub health_path: Option<String>,
    pub resources: Option<RawResources>,
    pub source_secret: Option<String>,
    pub unauthenticated_webhooks: Option<bool>,
}

/// `[package.metadata.s2i]` as written: every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawConfig {
    pub builder_base: Option<String>,
    pub builder_image: Option<String>,
    pub app_image: Option<String>,
    pub runtime_image: Option<String>,
    pub tag: Option<String>,
    pub pull_policy: Option<PullPolicy>,
    pub bin: Option<String>,
    pub features: Option<Vec<String>>,
    pub no_default_features: Option<bool>,
    pub profile: Option<String>,
    pub vendor: Option<bool>,
    pub strip: Option<bool>,
    pub user: Option<RawUser>,
    pub env: Option<BTreeMap<String, String>>,
    pub labels: Option<BTreeMap<String, String>>,
    pub port: Option<i64>,
    pub okd: Option<RawOkd>,
}

impl RawConfig {
    /// Fills every key the package left unset from the workspace defaults. Tables (`env`,
    /// `labels`, `okd`, `user`) merge key by key; the package wins. Destructuring `self` makes
    /// adding a key without deciding how it inherits a compile error.
    pub fn inherit(self, ws: RawConfig) -> RawConfig {
        let RawConfig {
            builder_base,
            builder_image,
            app_image,
            runtime_image,
            tag,
            pull_policy,
            bin,
            features,
            no_default_features,
            profile,
            vendor,
            strip,
            user,
            env,
            labels,
            port,
            okd,
        } = self;
        RawConfig {
            builder_base: builder_base.or(ws.builder_base),
            // Image names, tag and bin are per package: a workspace default would give every
            // package the same image, so they are not inherited.
            builder_image,
            app_image,
            runtime_image,
            tag: tag.or(ws.tag),
            pull_policy: pull_policy.or(ws.pull_policy),
            bin,
            features: features.or(ws.features),
            no_default_features: no_default_features.or(ws.no_default_features),
            profile: profile.or(ws.profile),
            vendor: vendor.or(ws.vendor),
            strip: strip.or(ws.strip),
            user: match (user, ws.user) {
                (Some(p), Some(w)) => Some(RawUser {
                    builder: p.builder.or(w.builder),
                    runtime: p.runtime.or(w.runtime),
                }),
                (p, w) => p.or(w),
            },
            env: merge_maps(env, ws.env),
            labels: merge_maps(labels, ws.labels),
            port: port.or(ws.port),
            okd: match (okd, ws.okd) {
                (Some(p), Some(w)) => Some(p.inherit(w)),
                (p, w) => p.or(w),
            },
        }
    }
}

impl RawOkd {
    fn inherit(self, ws: RawOkd) -> RawOkd {
        let RawOkd {
            namespace,
            git_uri,
            git_ref,
            context_dir,
            manifests_dir,
            webhooks,
            replicas,
            tls,
            build_resources,
            build_timeout,
            tag,
            workload,
            schedule,
            health_path,
            resources,
            source_secret,
            unauthenticated_webhooks,
        } = self;
        RawOkd {
            namespace: namespace.or(ws.namespace),
            git_uri: git_uri.or(ws.git_uri),
            git_ref: git_ref.or(ws.git_ref),
            // The context directory is where this package's workspace sits in the repository;
            // a shared default would be wrong for every package but one.
            context_dir,
            manifests_dir: manifests_dir.or(ws.manifests_dir),
            webhooks: webhooks.or(ws.webhooks),
            replicas: replicas.or(ws.replicas),
            tls: tls.or(ws.tls),
            build_resources: build_resources.or(ws.build_resources),
            build_timeout: build_timeout.or(ws.build_timeout),
            tag: tag.or(ws.tag),
            workload: workload.or(ws.workload),
            schedule: schedule.or(ws.schedule),
            health_path: health_path.or(ws.health_path),
            resources: resources.or(ws.resources),
            source_secret: source_secret.or(ws.source_secret),
            unauthenticated_webhooks: unauthenticated_webhooks.or(ws.unauthenticated_webhooks),
        }
    }
}

fn merge_maps(
    pkg: Option<BTreeMap<String, String>>,
    ws: Option<BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    match (pkg, ws) {
        (Some(p), Some(mut w)) => {
            w.extend(p);
            Some(w)
        }
        (p, w) => p.or(w),
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

/// A configuration error that names the file, the key (and its line when it can be found), what
/// is wrong, and what would be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    /// Full dotted key, e.g. `package.metadata.s2i.okd.git-uri`.
    pub key: String,
    pub message: String,
    pub note: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match self.line {
            Some(line) => write!(
                f,
                "invalid `{}` in `{file}:{line}`: {}",
                self.key, self.message
            )?,
            None => write!(f, "invalid `{}` in `{file}`: {}", self.key, self.message)?,
        }
        if let Some(note) = &self.note {
            write!(f, "\nnote: {note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

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

/// Where a key's value came from: the package's manifest or the workspace root's.
struct Source {
    file: PathBuf,
    text: String,
    prefix: &'static [&'static str],
    value: Value,
}

impl Source {
    fn has(&self, path: &[&str]) -> bool {
        let mut v = &self.value;
        for seg in path {
            match v.get(seg) {
                Some(next) => v = next,
                None => return false,
            }
        }
        true
    }

    fn error(&self, path: &[&str], message: String, note: Option<String>) -> ConfigError {
        let full: Vec<&str> = self
            .prefix
            .iter()
            .copied()
            .chain(path.iter().copied())
            .collect();
        ConfigError {
            file: self.file.clone(),
            line: locate(&self.text, &full),
            key: dotted_key(&full),
            message,
            note,
        }
    }
}

/// A key path as TOML writes it: `labels."com.example.team"`, with quotes and escapes wherever a
/// segment is not a bare key, so the path is unambiguous and a hostile key cannot forge a message.
pub fn dotted_key(path: &[&str]) -> String {
    path.iter()
        .map(|seg| {
            let bare = !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if bare {
                return seg.to_string();
            }
            let mut out = String::from("\"");
            for c in seg.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c.is_control() || names::is_bidi_control(c) => {
                        out.push_str(&format!("\\u{:04X}", u32::from(c)))
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Reads, merges and validates the configuration of `package`.
///
/// `builder_base_override` is the `--builder-base` flag or `XTASK_S2I_BUILDER_BASE`.
pub fn load(
    metadata: &Metadata,
    package: &Package,
    builder_base_override: Option<&str>,
) -> Result<Config, ConfigError> {
    let pkg_file = package.manifest_path.clone().into_std_path_buf();
    let ws_file = metadata
        .workspace_root
        .join("Cargo.toml")
        .into_std_path_buf();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let pkg_src = Source {
        text: read(&pkg_file),
        file: pkg_file,
        prefix: &["package", "metadata", "s2i"],
        value: package.metadata.get("s2i").cloned().unwrap_or(Value::Null),
    };
    let ws_src = Source {
        text: read(&ws_file),
        file: ws_file,
        prefix: &["workspace", "metadata", "s2i"],
        value: metadata
            .workspace_metadata
            .get("s2i")
            .cloned()
            .unwrap_or(Value::Null),
    };
    let pkg_raw = parse_raw(&pkg_src)?;
    let ws_raw = parse_raw(&ws_src)?;
    per_package_only(&ws_src)?;
    let raw = pkg_raw.inherit(ws_raw);
    Validator {
        pkg: &pkg_src,
        ws: &ws_src,
    }
    .validate(raw, metadata, package, builder_base_override)
}

/// Keys that name one package's images, binary or place in the repository make no sense as
/// workspace defaults (every package would get the same); say so instead of ignoring them.
fn per_package_only(ws: &Source) -> Result<(), ConfigError> {
    const PER_PACKAGE: [&[&str]; 5] = [
        &["builder-image"],
        &["app-image"],
        &["runtime-image"],
        &["bin"],
        &["okd", "context-dir"],
    ];
    for path in PER_PACKAGE {
        if ws.has(path) {
            let key = path.join(".");
            return Err(ws.error(
                path,
                format!("`{key}` belongs to one package and cannot be a workspace default"),
                Some(format!(
                    "move `{key}` to the `[package.metadata.s2i]` of the package it is for"
                )),
            ));
        }
    }
    Ok(())
}

/// Pass one and two: unknown keys, then types.
fn parse_raw(src: &Source) -> Result<RawConfig, ConfigError> {
    match &src.value {
        Value::Null => return Ok(RawConfig::default()),
        Value::Object(_) => {}
        other => {
            return Err(src.error(
                &[],
                format!("expected a table, found {}", json_kind(other)),
                Some(
                    "write it as a table, e.g. `[package.metadata.s2i]` followed by `port = 8080`"
                        .into(),
                ),
            ));
        }
    }
    check_keys(
        src,
        &[],
        &src.value,
        &KEYS.iter().map(|k| k.key).collect::<Vec<_>>(),
    )?;
    if let Some(okd) = src.value.get("okd").filter(|v| v.is_object()) {
        check_keys(
            src,
            &["okd"],
            okd,
            &OKD_KEYS.iter().map(|k| k.key).collect::<Vec<_>>(),
        )?;
        for table in ["build-resources", "resources"] {
            if let Some(res) = okd.get(table).filter(|v| v.is_object()) {
                check_keys(src, &["okd", table], res, RESOURCE_KEYS)?;
            }
        }
    }
    if let Some(user) = src.value.get("user").filter(|v| v.is_object()) {
        check_keys(src, &["user"], user, USER_KEYS)?;
    }
    // TOML has no null: cargo writes `nan` and `inf` as null, which would silently read as unset.
    let mut path = Vec::new();
    if find_null(&src.value, &mut path) {
        let path_refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let note = path_refs
            .first()
            .and_then(|k| key_doc(&path_refs, k))
            .map(|d| format!("`{}` takes {}, e.g. `{}`", d.key, a_or_an(d.ty), d.example));
        return Err(src.error(
            &path_refs,
            "found `nan` or `inf`, which no key takes".into(),
            note,
        ));
    }
    serde_path_to_error::deserialize::<_, RawConfig>(&src.value).map_err(|e| {
        let path: Vec<String> = e
            .path()
            .iter()
            .filter_map(|seg| match seg {
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                _ => None,
            })
            .collect();
        let path_refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let doc = path_refs.first().and_then(|k| key_doc(&path_refs, k));
        let note =
            doc.map(|d| format!("`{}` takes {}, e.g. `{}`", d.key, a_or_an(d.ty), d.example));
        // The type the key itself documents, when the error is about the key's own value.
        let own = doc
            .filter(|d| path_refs.last() == Some(&d.key))
            .map(|d| a_or_an(d.ty));
        let found = value_at(&src.value, &path_refs)
            .map(describe)
            .unwrap_or_else(|| "something else".into());
        let inner = e.inner().to_string();
        let expected = || {
            own.clone().unwrap_or_else(|| {
                inner
                    .rsplit_once(", expected ")
                    .map(|(_, exp)| serde_expected(exp))
                    .unwrap_or_else(|| "another type".into())
            })
        };
        let message = if inner.starts_with("invalid type: ") || inner.starts_with("invalid length ")
        {
            format!("wrong type: expected {}, found {found}", expected())
        } else if inner.starts_with("invalid value: ") {
            let exp = inner
                .rsplit_once(", expected ")
                .map(|(_, exp)| serde_expected(exp))
                .unwrap_or_else(expected);
            format!("{found} is out of range: expected {exp}")
        } else if let Some(rest) = inner.strip_prefix("unknown variant ") {
            format!("unknown value {rest}")
        } else {
            inner.clone()
        };
        src.error(&path_refs, message, note)
    })
}

/// Finds the first null (a TOML `nan` or `inf` after cargo's JSON) and its path.
fn find_null(v: &Value, path: &mut Vec<String>) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            path.push(i.to_string());
            find_null(item, path) || {
                path.pop();
                false
            }
        }),
        Value::Object(map) => map.iter().any(|(k, item)| {
            path.push(k.clone());
            find_null(item, path) || {
                path.pop();
                false
            }
        }),
        _ => false,
    }
}

fn value_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, seg| match v {
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => v.get(seg),
    })
}

/// What a value is, in the words of TOML.
fn describe(v: &Value) -> String {
    const SHOWN: usize = 40;
    match v {
        Value::String(s) => {
            let shown: String = s.chars().take(SHOWN).collect();
            let more = if s.chars().count() > SHOWN { "…" } else { "" };
            format!("the string `\"{}{more}\"`", names::printable(&shown))
        }
        Value::Number(n) => format!("the number `{n}`"),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Array(_) => "an array".into(),
        Value::Object(m) if m.len() == 1 && m.contains_key("$__toml_private_datetime") => {
            "a date-time".into()
        }
        Value::Object(_) => "a table".into(),
        Value::Null => "`nan` or `inf`".into(),
    }
}

/// serde's name of an expected type, in the words of TOML.
fn serde_expected(exp: &str) -> String {
    match exp {
        "i8" | "i16" | "i32" | "i64" | "i128" => "an integer".into(),
        "u8" => "an integer from 0 to 255".into(),
        "u16" => "an integer from 0 to 65535".into(),
        "u32" => "an integer from 0 to 4294967295".into(),
        "u64" | "u128" | "usize" => "a non-negative integer".into(),
        "f32" | "f64" => "a number".into(),
        "a sequence" => "an array".into(),
        "a map" => "a table".into(),
        e if e.starts_with("struct ") => "a table".into(),
        e => e.into(),
    }
}

fn key_doc(path: &[&str], first: &str) -> Option<&'static KeyDoc> {
    // No let chains here: a build.rs compiles this module, maybe with rustc 1.85.
    if let ("okd", Some(k)) = (first, path.get(1)) {
        return OKD_KEYS.iter().find(|d| d.key == *k);
    }
    KEYS.iter().find(|d| d.key == first)
}

fn a_or_an(ty: &str) -> String {
    if ty.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {ty}")
    } else {
        format!("a {ty}")
    }
}

fn check_keys(src: &Source, at: &[&str], table: &Value, valid: &[&str]) -> Result<(), ConfigError> {
    let Value::Object(map) = table else {
        return Ok(());
    };
    for key in map.keys() {
        if valid.contains(&key.as_str()) {
            continue;
        }
        let mut path: Vec<&str> = at.to_vec();
        path.push(key);
        let table_name = src
            .prefix
            .iter()
            .chain(at.iter())
            .copied()
            .collect::<Vec<_>>()
            .join(".");
        let suggestion = valid
            .iter()
            .map(|v| {
                (
                    strsim::jaro_winkler(&key.to_lowercase().replace('_', "-"), v),
                    *v,
                )
            })
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, v)| v);
        let list = valid
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let note = match suggestion {
            Some(s) => format!("did you mean `{s}`? the keys of `[{table_name}]` are {list}"),
            None => format!("the keys of `[{table_name}]` are {list}"),
        };
        return Err(src.error(
            &path,
            format!(
                "unknown key `{}` in `[{table_name}]`",
                names::printable(key)
            ),
            Some(note),
        ));
    }
    Ok(())
}

struct Validator<'a> {
    pkg: &'a Source,
    ws: &'a Source,
}

impl Validator<'_> {
    /// The source a (merged) value came from: the package when it sets the key, else the workspace.
    fn src(&self, path: &[&str]) -> &Source {
        if !self.pkg.has(path) && self.ws.has(path) {
            self.ws
        } else {
            self.pkg
        }
    }

    fn err(&self, path: &[&str], message: impl Into<String>, note: Option<String>) -> ConfigError {
        self.src(path).error(path, message.into(), note)
    }

    fn check(
        &self,
        path: &[&str],
        result: Result<(), String>,
        note: impl FnOnce() -> String,
    ) -> Result<(), ConfigError> {
        result.map_err(|m| self.err(path, m, Some(note())))
    }

    fn validate(
        &self,
        raw: RawConfig,
        metadata: &Metadata,
        package: &Package,
        builder_base_override: Option<&str>,
    ) -> Result<Config, ConfigError> {
        let RawConfig {
            builder_base,
            builder_image,
            app_image,
            runtime_image,
            tag,
            pull_policy,
            bin,
            features,
            no_default_features,
            profile,
            vendor,
            strip,
            user,
            env,
            labels,
            port,
            okd,
        } = raw;
        let name = package.name.to_string();
        let info = PackageInfo {
            name: name.clone(),
            version: package.version.to_string(),
            description: package.description.clone(),
            license: package.license.clone(),
            repository: package.repository.clone(),
            homepage: package.homepage.clone(),
            authors: package.authors.clone(),
            manifest_path: package.manifest_path.clone().into_std_path_buf(),
            dir: package
                .manifest_path
                .parent()
                .map(|p| p.to_path_buf().into_std_path_buf())
                .unwrap_or_default(),
        };

        // builder-base: flag or environment first, then the configuration.
        let builder_base = match builder_base_override {
            Some(b) => {
                names::image_reference(b).map_err(|m| ConfigError {
                    file: PathBuf::from(format!("${BUILDER_BASE_ENV} or --builder-base")),
                    line: None,
                    key: "builder-base".into(),
                    message: m,
                    note: Some(format!(
                        "give a full image reference such as `{DEFAULT_BUILDER_BASE}`"
                    )),
                })?;
                b.to_string()
            }
            None => {
                let b = builder_base.unwrap_or_else(|| DEFAULT_BUILDER_BASE.into());
                self.check(&["builder-base"], names::image_reference(&b), || {
                    format!(r#"give a full image reference, e.g. `builder-base = "{DEFAULT_BUILDER_BASE}"`"#)
                })?;
                b
            }
        };

        let image = |key: &'static str,
                     value: Option<String>,
                     default: String|
         -> Result<String, ConfigError> {
            let explicit = value.is_some();
            let v = value.unwrap_or(default);
            let note = || {
                if explicit {
                    format!(
                        r#"give a repository name without tag, e.g. `{key} = "quay.io/acme/{name}"`"#
                    )
                } else {
                    let suggestion = default_image_suggestion(&name, key);
                    format!(
                        r#"the image names default to the package name `{name}`, which is not a valid image name; set `builder-image`, `app-image` and `runtime-image`, e.g. `{key} = "{suggestion}"`"#
                    )
                }
            };
            self.check(&[key], names::image_name(&v), note)?;
            let stream = names::image_stream(&v);
            self.check(
                &[key],
                names::dns1123_label(stream)
                    .map_err(|m| format!("its last component names the OKD ImageStream: {m}")),
                note,
            )?;
            Ok(v)
        };
        let runtime_image = image("runtime-image", runtime_image, name.clone())?;
        let builder_image = image("builder-image", builder_image, format!("{name}-builder"))?;
        let app_image = image("app-image", app_image, format!("{name}-app"))?;
        let streams = [&builder_image, &app_image, &runtime_image]
            .map(|i| names::image_stream(i).to_string());
        if streams[0] == streams[1] || streams[1] == streams[2] || streams[0] == streams[2] {
            return Err(self.err(
                &[],
                format!("`builder-image`, `app-image` and `runtime-image` must end in different names, found `{}`, `{}`, `{}`", streams[0], streams[1], streams[2]),
                Some("each stage has its own ImageStream; leave the image names unset for the defaults".into()),
            ));
        }

        let tag = match tag {
            Some(t) => {
                self.check(&["tag"], names::tag(&t), || {
                    r#"e.g. `tag = "latest"` or `tag = "1.2.0"`"#.into()
                })?;
                t
            }
            None => names::tag_from_version(&package.version.to_string()),
        };

        let bins: Vec<String> = package
            .targets
            .iter()
            .filter(|t| t.kind.contains(&TargetKind::Bin))
            .map(|t| t.name.clone())
            .collect();
        let bin_list = || {
            bins.iter()
                .map(|b| format!("`{b}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let bin = match bin {
            Some(b) => {
                self.check(&["bin"], names::cargo_ident(&b, "binary name"), || {
                    format!("the binary targets of `{name}` are {}", bin_list())
                })?;
                if !bins.contains(&b) {
                    return Err(self.err(
                        &["bin"],
                        format!("package `{name}` has no binary target `{b}`"),
                        Some(if bins.is_empty() {
                            "the package has no binary target; add `src/main.rs` or a `[[bin]]`"
                                .into()
                        } else {
                            format!("the binary targets of `{name}` are {}", bin_list())
                        }),
                    ));
                }
                b
            }
            // Cargo's own choice for `cargo run` when there are several.
            None if bins.len() > 1
                && package
                    .default_run
                    .as_ref()
                    .is_some_and(|d| bins.contains(d)) =>
            {
                package.default_run.clone().unwrap_or_default()
            }
            None => match bins.as_slice() {
                [one] => {
                    self.check(&["bin"], names::cargo_ident(one, "binary name"), || {
                        "rename the binary target".into()
                    })?;
                    one.clone()
                }
                [] => {
                    return Err(self.err(
                        &["bin"],
                        format!("package `{name}` has no binary target to put in an image"),
                        Some("add `src/main.rs` or a `[[bin]]` target".into()),
                    ));
                }
                _ => {
                    return Err(self.err(
                        &["bin"],
                        format!("package `{name}` has several binary targets and `bin` does not say which one goes in the image"),
                        Some(format!("set `bin` to one of {}, e.g. `bin = \"{}\"` (or `default-run` in `[package]`)", bin_list(), bins[0])),
                    ));
                }
            },
        };

        let features = features.unwrap_or_default();
        for (i, f) in features.iter().enumerate() {
            let idx = i.to_string();
            let path = ["features", idx.as_str()];
            let known = || {
                let list: Vec<String> = package.features.keys().map(|k| format!("`{k}`")).collect();
                if list.is_empty() {
                    format!("package `{name}` declares no features")
                } else {
                    format!("the features of `{name}` are {}", list.join(", "))
                }
            };
            self.check(&path, names::feature(f), known)?;
            if !f.contains('/') && !package.features.contains_key(f) {
                return Err(self.err(
                    &path,
                    format!("package `{name}` has no feature `{f}`"),
                    Some(known()),
                ));
            }
        }

        let profile = profile.unwrap_or_else(|| "release".into());
        self.check(
            &["profile"],
            names::cargo_ident(&profile, "profile name"),
            || r#"e.g. `profile = "release"`"#.into(),
        )?;

        let user = user.unwrap_or_default();
        let uid = |which: &str, v: Option<i64>, default: u32| -> Result<u32, ConfigError> {
            let Some(v) = v else { return Ok(default) };
            let reason = if v == 0 {
                Some("0 is root: OKD refuses root containers and runs images under arbitrary non-root UIDs".to_string())
            } else if v < 0 || v > i64::from(i32::MAX) {
                Some(format!("{v} is not a valid UID"))
            } else {
                None
            };
            match reason {
                Some(m) => {
                    let path: &[&str] = if self.src(&["user", which]).has(&["user", which]) {
                        &["user", which]
                    } else {
                        &["user"]
                    };
                    Err(self.err(path, m, Some(format!("use a numeric non-root UID, e.g. `user = {{ builder = {DEFAULT_BUILDER_USER}, runtime = {DEFAULT_RUNTIME_USER} }}`"))))
                }
                None => Ok(u32::try_from(v).unwrap_or(default)),
            }
        };
        let builder_user = uid("builder", user.builder, DEFAULT_BUILDER_USER)?;
        let runtime_user = uid("runtime", user.runtime, DEFAULT_RUNTIME_USER)?;

        let env = env.unwrap_or_default();
        for (k, v) in &env {
            self.check(&["env", k], names::env_name(k), || {
                r#"e.g. `env = { RUST_LOG = "info" }`"#.into()
            })?;
            self.check(&["env", k], names::one_line_text(v), || {
                "write the value on one line; escape sequences are not interpreted".into()
            })?;
        }
        let labels = labels.unwrap_or_default();
        for (k, v) in &labels {
            self.check(&["labels", k], names::label_key(k), || {
                r#"e.g. `labels = { "com.example.team" = "web" }`"#.into()
            })?;
            self.check(&["labels", k], names::one_line_text(v), || {
                "write the value on one line".into()
            })?;
        }

        let port = match port {
            None => None,
            Some(p) => match u16::try_from(p) {
                Ok(p) if p > 0 => Some(p),
                _ => {
                    return Err(self.err(
                        &["port"],
                        format!("{p} is not a TCP port"),
                        Some("use a port from 1 to 65535, e.g. `port = 8080`".into()),
                    ));
                }
            },
        };

        let okd = self.okd(
            okd.unwrap_or_default(),
            info.repository.clone(),
            metadata,
            &runtime_image,
            port,
        )?;

        Ok(Config {
            package: info,
            workspace_root: metadata.workspace_root.clone().into_std_path_buf(),
            builder_base,
            builder_image,
            app_image,
            runtime_image,
            tag,
            pull_policy: pull_policy.unwrap_or_default(),
            bin,
            features,
            no_default_features: no_default_features.unwrap_or(false),
            profile,
            vendor: vendor.unwrap_or(true),
            strip: strip.unwrap_or(true),
            builder_user,
            runtime_user,
            env,
            labels,
            port,
            okd,
        })
    }

    fn okd(
        &self,
        raw: RawOkd,
        repository: Option<String>,
        metadata: &Metadata,
        runtime_image: &str,
        port: Option<u16>,
    ) -> Result<OkdConfig, ConfigError> {
        let RawOkd {
            namespace,
            git_uri,
            git_ref,
            context_dir,
            manifests_dir,
            webhooks,
            replicas,
            tls,
            build_resources,
            build_timeout,
            tag,
            workload,
            schedule,
            health_path,
            resources,
            source_secret,
            unauthenticated_webhooks,
        } = raw;
        if let Some(ns) = &namespace {
            self.check(&["okd", "namespace"], names::dns1123_label(ns), || {
                r#"e.g. `namespace = "demo"`"#.into()
            })?;
        }
        let git_uri = match git_uri {
            Some(u) => {
                self.check(&["okd", "git-uri"], names::git_uri(&u), || {
                    r#"e.g. `git-uri = "https://github.com/acme/hello.git"`"#.into()
                })?;
                Some(u)
            }
            None => match repository {
                Some(r) => {
                    names::git_uri(&r).map_err(|m| ConfigError {
                        file: self.pkg.file.clone(),
                        line: locate(&self.pkg.text, &["package", "repository"]),
                        key: "package.repository".into(),
                        message: format!("{m}; it is the default of `okd.git-uri`"),
                        note: Some(r#"set `okd.git-uri` in `[package.metadata.s2i]`, e.g. `okd = { git-uri = "https://github.com/acme/hello.git" }`"#.into()),
                    })?;
                    Some(r)
                }
                None => None,
            },
        };
        if let Some(r) = &git_ref {
            self.check(&["okd", "git-ref"], names::git_ref(r), || {
                r#"e.g. `git-ref = "main"`"#.into()
            })?;
        }
        let context_dir = match context_dir {
            Some(c) => {
                self.check(&["okd", "context-dir"], names::relative_path(&c), || {
                    r#"e.g. `context-dir = "services/hello"`"#.into()
                })?;
                normalize_rel(&c)
            }
            None => default_context_dir(metadata.workspace_root.as_std_path()),
        };
        let manifests_dir = manifests_dir.unwrap_or_else(|| "deploy/okd".into());
        self.check(
            &["okd", "manifests-dir"],
            names::relative_path(&manifests_dir),
            || r#"e.g. `manifests-dir = "deploy/okd"`"#.into(),
        )?;
        if normalize_rel(&manifests_dir) == "." {
            return Err(self.err(
                &["okd", "manifests-dir"],
                "the manifests need a directory of their own, not the workspace root",
                Some(r#"e.g. `manifests-dir = "deploy/okd"`"#.into()),
            ));
        }
        let stream = names::image_stream(runtime_image);
        let mut hooks = BTreeMap::new();
        for (kind, secret) in webhooks.unwrap_or_default().0 {
            let valid = WebhookKind::ALL
                .iter()
                .map(|(k, _)| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let Some((_, k)) = WebhookKind::ALL.iter().find(|(s, _)| *s == kind) else {
                return Err(self.err(
                    &["okd", "webhooks"],
                    format!("unknown webhook kind `{}`", names::printable(&kind)),
                    Some(format!("the webhook kinds are {valid}")),
                ));
            };
            let secret = secret.unwrap_or_else(|| names::webhook_secret(stream, &kind));
            self.check(&["okd", "webhooks", &kind], names::dns1123_subdomain(&secret), || "the value names the Secret holding the webhook's key, e.g. `hello-github-webhook`".into())?;
            hooks.insert(*k, secret);
        }
        let replicas = replicas.unwrap_or(1);
        let (build_limits, build_requests) = self.resources(
            "build-resources",
            build_resources.unwrap_or_default(),
            okd::DEFAULT_BUILD_RESOURCES,
        )?;
        let (limits, requests) = self.resources(
            "resources",
            resources.unwrap_or_default(),
            okd::DEFAULT_RESOURCES,
        )?;
        let workload = self.workload(workload, schedule, health_path.as_deref(), port)?;
        if let Some(secret) = &source_secret {
            self.check(&["okd", "source-secret"], names::dns1123_subdomain(secret), || {
                "the value names the Secret holding the git credentials, e.g. `source-secret = \"hello-git\"`".into()
            })?;
        }
        let unauthenticated_webhooks = unauthenticated_webhooks.unwrap_or(false);
        if unauthenticated_webhooks && hooks.is_empty() {
            return Err(self.err(
                &["okd", "unauthenticated-webhooks"],
                "there is no webhook for unauthenticated callers to reach",
                Some("configure `okd.webhooks`, e.g. `webhooks = [\"github\"]`, or leave `unauthenticated-webhooks` unset".into()),
            ));
        }
        Ok(OkdConfig {
            namespace,
            git_uri,
            git_ref,
            context_dir,
            manifests_dir: normalize_rel(&manifests_dir),
            webhooks: hooks,
            replicas,
            tls: tls.unwrap_or_default(),
            build_limits,
            build_requests,
            build_timeout: self.build_timeout(build_timeout)?,
            tag: self.okd_tag(tag)?,
            workload: workload.0,
            schedule: workload.1,
            health_path,
            limits,
            requests,
            source_secret,
            unauthenticated_webhooks,
        })
    }
}

/// A valid image name for `key` made from a package name that is not one (`Hello_World` →
/// `hello-world-builder`).
fn default_image_suggestion(package: &str, key: &str) -> String {
    let mut base = String::new();
    for c in package.chars() {
        match c.to_ascii_lowercase() {
            c if c.is_ascii_lowercase() || c.is_ascii_digit() => base.push(c),
            _ if !base.ends_with('-') && !base.is_empty() => base.push('-'),
            _ => {}
        }
    }
    let mut base = base.trim_end_matches('-').to_string();
    if base.is_empty() {
        base = "app".into();
    }
    base.truncate(50);
    match key {
        "builder-image" => format!("{base}-builder"),
        "app-image" => format!("{base}-app"),
        _ => base,
    }
}

/// `./a//b/` → `a/b`; the empty path → `.`.
fn normalize_rel(p: &str) -> String {
    let parts: Vec<&str> = p
        .split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The workspace root's path relative to the enclosing git repository, or `.`.
fn default_context_dir(workspace_root: &Path) -> String {
    let root = workspace_root
        .canonicalize()
        .unwrap_or_else(|_| workspace_root.to_path_buf());
    for dir in root.ancestors() {
        if dir.join(".git").exists() {
            let rel = root.strip_prefix(dir).unwrap_or(Path::new(""));
            let s: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            return if s.is_empty() {
                ".".into()
            } else {
                s.join("/")
            };
        }
    }
    ".".into()
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

/// The 1-based line of `path` (e.g. `package.metadata.s2i.port`) in a TOML text, following tables,
/// dotted keys, inline tables and arrays; the line of the deepest part of the path that exists.
pub fn locate(text: &str, path: &[&str]) -> Option<usize> {
    use toml_edit::{Item, Value as V};
    #[derive(Clone, Copy)]
    enum Node<'a> {
        Item(&'a Item),
        Value(&'a V),
    }
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut span: Option<std::ops::Range<usize>> = None;
    let mut node = Node::Item(doc.as_item());
    for seg in path {
        let table_like: Option<&dyn toml_edit::TableLike> = match node {
            Node::Item(Item::Table(t)) => Some(t as &dyn toml_edit::TableLike),
            Node::Item(Item::Value(V::InlineTable(t))) | Node::Value(V::InlineTable(t)) => {
                Some(t as &dyn toml_edit::TableLike)
            }
            _ => None,
        };
        let array = match node {
            Node::Item(Item::Value(V::Array(a))) | Node::Value(V::Array(a)) => Some(a),
            _ => None,
        };
        if let Some(t) = table_like {
            let Some((key, child)) = t.get_key_value(seg) else {
                break;
            };
            if let Some(s) = key.span().or_else(|| child.span()) {
                span = Some(s);
            }
            node = Node::Item(child);
        } else if let Some(a) = array {
            let Some(child) = seg.parse::<usize>().ok().and_then(|i| a.get(i)) else {
                break;
            };
            if let Some(s) = child.span() {
                span = Some(s);
            }
            node = Node::Value(child);
        } else {
            break;
        }
    }
    span.map(|s| line_of(text, s.start))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map(|t| t.matches('\n').count() + 1)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_keys() {
        let text = "[package]\nname = \"a\"\n\n[package.metadata.s2i]\nport = 80\nuser = { builder = 0 }\nfeatures = [\"a\", \"b\"]\n\n[package.metadata.s2i.okd]\ngit-uri = \"x\"\n";
        assert_eq!(
            locate(text, &["package", "metadata", "s2i", "port"]),
            Some(5)
        );
        assert_eq!(
            locate(text, &["package", "metadata", "s2i", "user", "builder"]),
            Some(6)
        );
        assert_eq!(
            locate(text, &["package", "metadata", "s2i", "features", "1"]),
            Some(7)
        );
        assert_eq!(
            locate(text, &["package", "metadata", "s2i", "okd", "git-uri"]),
            Some(10)
        );
        assert_eq!(
            locate(text, &["package", "metadata", "s2i", "nope"]),
            Some(4)
        );
        assert_eq!(locate("not toml [", &["a"]), None);
    }

    #[test]
    fn normalizes_relative_paths() {
        assert_eq!(normalize_rel("./a//b/"), "a/b");
        assert_eq!(normalize_rel(""), ".");
    }
}
