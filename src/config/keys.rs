//! The documented keys of `[package.metadata.s2i]` and its sub-tables: the one reference list that
//! the unknown-key check, the type errors' notes and the README's configuration table all read.
//!
//! Adding a key means a row here and a field in its group (see [`super::validate`]); the README
//! test fails until the key is documented.

use super::DEFAULT_BUILDER_BASE;

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

/// The keys of the `user` table.
pub(super) const USER_KEYS: &[&str] = &["builder", "runtime"];
/// The keys of `okd.build-resources` and `okd.resources`.
pub(super) const RESOURCE_KEYS: &[&str] = &["limits", "requests"];
/// The resources `limits` and `requests` may name.
pub(super) const RESOURCE_NAMES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

/// The documentation of the key at `path` (a top-level key, or an `okd` key below `okd`).
pub(super) fn key_doc(path: &[&str]) -> Option<&'static KeyDoc> {
    let first = path.first()?;
    // No let chains here: a build.rs compiles this module, maybe with rustc 1.85.
    if let ("okd", Some(k)) = (*first, path.get(1)) {
        return OKD_KEYS.iter().find(|d| d.key == *k);
    }
    KEYS.iter().find(|d| d.key == *first)
}

/// "`key` takes a string, e.g. `key = "x"`": the note of a wrong value.
pub(super) fn takes(doc: &KeyDoc) -> String {
    format!(
        "`{}` takes {}, e.g. `{}`",
        doc.key,
        a_or_an(doc.ty),
        doc.example
    )
}

/// `a string`, `an integer`.
pub(super) fn a_or_an(ty: &str) -> String {
    if ty.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {ty}")
    } else {
        format!("a {ty}")
    }
}
