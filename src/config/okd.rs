//! The keys of `[package.metadata.s2i.okd]`: where the cluster gets the source (git), where the
//! manifests go, webhooks and credentials, the workload kind and its schedule, probes, container
//! and build resources, the build timeout and the stable tag of the chain's ImageStreamTags.
//!
//! Each check names the key and teaches the valid form, like the rest of [`super`]; the defaults
//! live here so the README, the validation and the manifests agree. [`Validator::okd`]
//! destructures the table once and hands each group its keys, as [`super::validate`] does for the
//! package keys.

use std::collections::BTreeMap;
use std::path::Path;

use cargo_metadata::Metadata;
use serde::Deserialize;

use super::diagnostics::{ConfigError, locate};
use super::keys::RESOURCE_NAMES;
use super::raw::{RawOkd, RawResources, RawWebhooks};
use super::validate::Validator;
use super::{OkdConfig, WebhookKind};
use crate::names;

/// Requests and limits of every build when `okd.build-resources` does not say otherwise: a Rust
/// release build needs memory for rustc and ephemeral storage for its target directory, and a
/// namespace's LimitRange default is often far too small for either.
pub const DEFAULT_BUILD_RESOURCES: Defaults = Defaults {
    requests: &[
        ("cpu", "500m"),
        ("memory", "1Gi"),
        ("ephemeral-storage", "2Gi"),
    ],
    limits: &[("memory", "4Gi"), ("ephemeral-storage", "10Gi")],
};

/// Requests and limits of the running container when `okd.resources` does not say otherwise.
pub const DEFAULT_RESOURCES: Defaults = Defaults {
    requests: &[("cpu", "10m"), ("memory", "32Mi")],
    limits: &[("memory", "128Mi")],
};

/// `completionDeadlineSeconds` of every build when `okd.build-timeout` is unset.
pub const DEFAULT_BUILD_TIMEOUT: u32 = 3600;
/// The tag of the chain's ImageStreamTags when `okd.tag` is unset.
pub const DEFAULT_TAG: &str = "latest";

/// Default requests and limits, merged key by key under what the user wrote.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub requests: &'static [(&'static str, &'static str)],
    pub limits: &'static [(&'static str, &'static str)],
}

/// What runs the runtime image in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// A Deployment (with a Service and a Route when `port` is set).
    Deployment,
    /// A CronJob on `okd.schedule`.
    #[serde(rename = "cronjob")]
    CronJob,
    /// Only the images: no workload object.
    None,
}

type Map = BTreeMap<String, String>;

/// `okd.git-uri`, `okd.git-ref` and `okd.context-dir`, validated.
struct Git {
    uri: Option<String>,
    git_ref: Option<String>,
    context_dir: String,
}

impl Validator<'_> {
    /// `[package.metadata.s2i.okd]`, one group of keys at a time. `repository` is
    /// `package.repository` (the default `git-uri`), `runtime_image` names the webhook secrets'
    /// default, `port` decides the default workload.
    pub(super) fn okd(
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
        self.namespace(namespace.as_deref())?;
        let git = self.git(git_uri, git_ref, context_dir, repository, metadata)?;
        let manifests_dir = self.manifests_dir(manifests_dir)?;
        let webhooks = self.webhooks(webhooks.unwrap_or_default(), runtime_image)?;
        let (build_limits, build_requests) = self.resources(
            "build-resources",
            build_resources.unwrap_or_default(),
            DEFAULT_BUILD_RESOURCES,
        )?;
        let (limits, requests) = self.resources(
            "resources",
            resources.unwrap_or_default(),
            DEFAULT_RESOURCES,
        )?;
        let (workload, schedule) =
            self.workload(workload, schedule, health_path.as_deref(), port)?;
        let unauthenticated_webhooks = self.credentials(
            source_secret.as_deref(),
            unauthenticated_webhooks,
            &webhooks,
        )?;
        Ok(OkdConfig {
            namespace,
            git_uri: git.uri,
            git_ref: git.git_ref,
            context_dir: git.context_dir,
            manifests_dir,
            webhooks,
            replicas: replicas.unwrap_or(1),
            tls: tls.unwrap_or_default(),
            build_limits,
            build_requests,
            build_timeout: self.build_timeout(build_timeout)?,
            tag: self.okd_tag(tag)?,
            workload,
            schedule,
            health_path,
            limits,
            requests,
            source_secret,
            unauthenticated_webhooks,
        })
    }

    /// `okd.namespace`.
    fn namespace(&self, namespace: Option<&str>) -> Result<(), ConfigError> {
        let Some(ns) = namespace else { return Ok(()) };
        self.check(&["okd", "namespace"], names::dns1123_label(ns), || {
            r#"e.g. `namespace = "demo"`"#.into()
        })
    }

    /// `okd.git-uri` (else `package.repository`), `okd.git-ref` and `okd.context-dir` (else the
    /// workspace's place in its git repository): what the cluster builds.
    fn git(
        &self,
        uri: Option<String>,
        git_ref: Option<String>,
        context_dir: Option<String>,
        repository: Option<String>,
        metadata: &Metadata,
    ) -> Result<Git, ConfigError> {
        let uri = match uri {
            Some(u) => {
                self.check(&["okd", "git-uri"], names::git_uri(&u), || {
                    r#"e.g. `git-uri = "https://github.com/acme/hello.git"`"#.into()
                })?;
                Some(u)
            }
            None => self.repository(repository)?,
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
        Ok(Git {
            uri,
            git_ref,
            context_dir,
        })
    }

    /// `package.repository` as the default `okd.git-uri`; its error points into `[package]`.
    fn repository(&self, repository: Option<String>) -> Result<Option<String>, ConfigError> {
        let Some(r) = repository else { return Ok(None) };
        names::git_uri(&r).map_err(|m| ConfigError {
            origin: super::Origin::File {
                path: self.pkg.file.clone(),
                line: locate(&self.pkg.text, &["package", "repository"]),
            },
            key: "package.repository".into(),
            message: format!("{m}; it is the default of `okd.git-uri`"),
            note: Some(r#"set `okd.git-uri` in `[package.metadata.s2i]`, e.g. `okd = { git-uri = "https://github.com/acme/hello.git" }`"#.into()),
        })?;
        Ok(Some(r))
    }

    /// `okd.manifests-dir`: a directory of the workspace other than its root.
    fn manifests_dir(&self, raw: Option<String>) -> Result<String, ConfigError> {
        let dir = raw.unwrap_or_else(|| "deploy/okd".into());
        self.check(
            &["okd", "manifests-dir"],
            names::relative_path(&dir),
            || r#"e.g. `manifests-dir = "deploy/okd"`"#.into(),
        )?;
        let dir = normalize_rel(&dir);
        if dir == "." {
            return Err(self.err(
                &["okd", "manifests-dir"],
                "the manifests need a directory of their own, not the workspace root",
                Some(r#"e.g. `manifests-dir = "deploy/okd"`"#.into()),
            ));
        }
        Ok(dir)
    }

    /// `okd.webhooks`: known kinds, each with the name of its Secret (by default
    /// `<runtime stream>-<kind>-webhook`).
    fn webhooks(
        &self,
        raw: RawWebhooks,
        runtime_image: &str,
    ) -> Result<BTreeMap<WebhookKind, String>, ConfigError> {
        let stream = names::image_stream(runtime_image);
        let mut hooks = BTreeMap::new();
        for (kind, secret) in raw.0 {
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
        Ok(hooks)
    }

    /// `okd.source-secret` and `okd.unauthenticated-webhooks`: who may read the repository and
    /// who may trigger a build.
    fn credentials(
        &self,
        source_secret: Option<&str>,
        unauthenticated_webhooks: Option<bool>,
        webhooks: &BTreeMap<WebhookKind, String>,
    ) -> Result<bool, ConfigError> {
        if let Some(secret) = source_secret {
            self.check(&["okd", "source-secret"], names::dns1123_subdomain(secret), || {
                "the value names the Secret holding the git credentials, e.g. `source-secret = \"hello-git\"`".into()
            })?;
        }
        let unauthenticated_webhooks = unauthenticated_webhooks.unwrap_or(false);
        if unauthenticated_webhooks && webhooks.is_empty() {
            return Err(self.err(
                &["okd", "unauthenticated-webhooks"],
                "there is no webhook for unauthenticated callers to reach",
                Some("configure `okd.webhooks`, e.g. `webhooks = [\"github\"]`, or leave `unauthenticated-webhooks` unset".into()),
            ));
        }
        Ok(unauthenticated_webhooks)
    }

    /// `okd.<table>`: the defaults with the user's requests and limits merged over them.
    fn resources(
        &self,
        table: &'static str,
        raw: RawResources,
        defaults: Defaults,
    ) -> Result<(Map, Map), ConfigError> {
        let merged = |which: &'static str,
                      user: Option<Map>,
                      default: &[(&str, &str)]|
         -> Result<Map, ConfigError> {
            let user = user.unwrap_or_default();
            for (k, v) in &user {
                if !RESOURCE_NAMES.contains(&k.as_str()) {
                    return Err(self.err(
                        &["okd", table, which, k],
                        format!("unknown resource `{}`", names::printable(k)),
                        Some("the resources are `cpu`, `memory` and `ephemeral-storage`".into()),
                    ));
                }
                self.check(&["okd", table, which, k], names::quantity(v), || {
                    r#"e.g. `cpu = "2"`, `memory = "4Gi"`"#.into()
                })?;
            }
            let mut out: Map = default
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            out.extend(user);
            Ok(out)
        };
        Ok((
            merged("limits", raw.limits, defaults.limits)?,
            merged("requests", raw.requests, defaults.requests)?,
        ))
    }

    /// `okd.workload`, `okd.schedule` and `okd.health-path` together: the workload and its
    /// schedule.
    fn workload(
        &self,
        workload: Option<Workload>,
        schedule: Option<String>,
        health_path: Option<&str>,
        port: Option<u16>,
    ) -> Result<(Workload, Option<String>), ConfigError> {
        let workload = workload.unwrap_or(match port {
            Some(_) => Workload::Deployment,
            None => Workload::None,
        });
        let schedule = match (workload, schedule) {
            (Workload::CronJob, None) => {
                return Err(self.err(
                    &["okd", "workload"],
                    "a CronJob needs a schedule",
                    Some(r#"add `schedule = "*/15 * * * *"` (minute, hour, day of month, month, day of week) to `[package.metadata.s2i.okd]`"#.into()),
                ));
            }
            (Workload::CronJob, Some(s)) => {
                self.check(&["okd", "schedule"], cron(&s), || {
                    r#"five fields (minute, hour, day of month, month, day of week) or a macro such as `@hourly`, e.g. `schedule = "*/15 * * * *"`"#.into()
                })?;
                Some(s)
            }
            (_, Some(_)) => {
                return Err(self.err(
                    &["okd", "schedule"],
                    "a schedule is only for `workload = \"cronjob\"`",
                    Some(r#"set `workload = "cronjob"` or remove `schedule`"#.into()),
                ));
            }
            (_, None) => None,
        };
        if workload == Workload::CronJob && port.is_some() {
            return Err(self.err(
                &["port"],
                "a CronJob serves no port: `port` makes a Service and a Route for a Deployment",
                Some(r#"remove `port`, or use `workload = "deployment"`"#.into()),
            ));
        }
        if let Some(path) = health_path {
            if workload != Workload::Deployment || port.is_none() {
                return Err(self.err(
                    &["okd", "health-path"],
                    "the probes need a Deployment with a `port`",
                    Some("set `port = 8080` (and leave `workload` unset or `\"deployment\"`), or remove `health-path`".into()),
                ));
            }
            let valid = path.starts_with('/')
                && path.len() <= 1024
                && path.chars().all(|c| c.is_ascii_graphic() && c != '#');
            if !valid {
                return Err(self.err(
                    &["okd", "health-path"],
                    format!("`{}` is not an HTTP path", names::printable(path)),
                    Some(
                        r#"an absolute path without spaces, e.g. `health-path = "/healthz"`"#
                            .into(),
                    ),
                ));
            }
        }
        Ok((workload, schedule))
    }

    /// `okd.build-timeout`: seconds, from one minute to a day.
    fn build_timeout(&self, raw: Option<i64>) -> Result<u32, ConfigError> {
        match raw {
            None => Ok(DEFAULT_BUILD_TIMEOUT),
            Some(s) if (60..=86_400).contains(&s) => Ok(u32::try_from(s).unwrap_or(DEFAULT_BUILD_TIMEOUT)),
            Some(s) => Err(self.err(
                &["okd", "build-timeout"],
                format!("{s} seconds is not a build timeout"),
                Some("give the seconds a build may take, from 60 to 86400, e.g. `build-timeout = 3600`".into()),
            )),
        }
    }

    /// `okd.tag`: the stable tag of the chain's ImageStreamTags.
    fn okd_tag(&self, raw: Option<String>) -> Result<String, ConfigError> {
        let Some(tag) = raw else {
            return Ok(DEFAULT_TAG.into());
        };
        self.check(&["okd", "tag"], names::tag(&tag), || {
            r#"a tag that stays the same across releases, e.g. `tag = "latest"`; the version goes into the image labels"#.into()
        })?;
        Ok(tag)
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

/// A Kubernetes CronJob schedule: five fields of digits, names, `*`, `?`, `,`, `-` and `/`, or
/// one of the `@` macros.
fn cron(s: &str) -> Result<(), String> {
    const MACROS: [&str; 7] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    if MACROS.contains(&s.trim()) {
        return Ok(());
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    let ok = fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "*?,-/".contains(c))
        });
    if ok {
        Ok(())
    } else {
        Err(format!("`{}` is not a cron schedule", names::printable(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::{cron, normalize_rel};

    #[test]
    fn normalizes_relative_paths() {
        assert_eq!(normalize_rel("./a//b/"), "a/b");
        assert_eq!(normalize_rel(""), ".");
    }

    #[test]
    fn cron_schedules() {
        for good in ["*/15 * * * *", "0 3 * * MON-FRI", "@hourly", "5 4 1,15 * ?"] {
            assert!(cron(good).is_ok(), "{good}");
        }
        for bad in ["* * * *", "every hour", "* * * * * *", "0 3 * * $(id)", ""] {
            assert!(cron(bad).is_err(), "{bad}");
        }
    }
}
