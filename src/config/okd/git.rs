//! Where the cluster gets the source and who may start a build: the git repository, its ref and
//! the workspace's directory in it, the source secret, and the webhooks (`okd.git-uri`,
//! `okd.git-ref`, `okd.context-dir`, `okd.source-secret`, `okd.webhooks`,
//! `okd.unauthenticated-webhooks`).
//!
//! `okd.git-uri` defaults to `package.repository`, else to the checkout's `origin` remote in a
//! form the cluster clones without credentials in the manifests ([`https_form`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use cargo_metadata::Metadata;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};

use super::normalize_rel;
use crate::config::layer::layer;
use crate::config::source::locate;
use crate::config::validator::Validator;
use crate::names;
use crate::{Error, Location};

layer! {
    /// The git keys of `[package.metadata.s2i.okd]` as written.
    pub(crate) struct GitLayer {
        git_uri: String {
            key: "git-uri",
            ty: "string",
            example: r#"git-uri = "https://github.com/acme/hello.git""#,
            inherit: replace,
        }
        git_ref: String {
            key: "git-ref",
            ty: "string",
            example: r#"git-ref = "main""#,
            inherit: replace,
        }
        // The context directory is where this package's workspace sits in the repository; a
        // shared default would be wrong for every package but one.
        context_dir: String {
            key: "context-dir",
            ty: "string",
            example: r#"context-dir = "services/hello""#,
            inherit: per_package,
        }
        source_secret: String {
            key: "source-secret",
            ty: "string",
            example: r#"source-secret = "hello-git""#,
            inherit: replace,
        }
        webhooks: RawWebhooks {
            key: "webhooks",
            ty: "array or table",
            example: r#"webhooks = { github = "hello-github-webhook", generic = "hello-generic-webhook" }"#,
            inherit: replace,
        }
        unauthenticated_webhooks: bool {
            key: "unauthenticated-webhooks",
            ty: "boolean",
            example: "unauthenticated-webhooks = true",
            inherit: replace,
        }
    }
}

/// Where the cluster gets the source and who may start a build, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    /// `okd.git-uri`, else `package.repository`, else the https form of the git `origin`
    /// remote; `None` when there is none of them (the manifests then fail with an error naming
    /// both keys, or are skipped by a local build).
    pub uri: Option<String>,
    /// Whether `uri` is the `origin` remote's (neither key is set): a private repository then
    /// also needs `okd.source-secret`, which the command says.
    pub uri_from_origin: bool,
    pub git_ref: Option<String>,
    /// The directory of the workspace inside the git repository (`.` when at its root).
    pub context_dir: String,
    /// The Secret with the git credentials.
    pub source_secret: Option<String>,
    /// The webhook triggers: kind → the name of the Secret holding its key.
    pub webhooks: BTreeMap<WebhookKind, String>,
    pub unauthenticated_webhooks: bool,
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
    /// Each kind with its name in `okd.webhooks`.
    const ALL: [(&'static str, WebhookKind); 4] = [
        ("generic", WebhookKind::Generic),
        ("github", WebhookKind::GitHub),
        ("gitlab", WebhookKind::GitLab),
        ("bitbucket", WebhookKind::Bitbucket),
    ];
}

impl GitLayer {
    /// Checks the git keys. `repository` is `package.repository` (the default `git-uri`),
    /// `runtime_image` names the webhook secrets' default.
    pub(super) fn resolve(
        self,
        v: &Validator,
        repository: Option<String>,
        metadata: &Metadata,
        runtime_image: &str,
    ) -> Result<GitSource, Error> {
        let GitLayer {
            git_uri,
            git_ref,
            context_dir,
            source_secret,
            webhooks,
            unauthenticated_webhooks,
        } = self;
        let uri_from_origin = git_uri.is_none() && repository.is_none();
        let (uri, git_ref, context_dir) =
            v.git(git_uri, git_ref, context_dir, repository, metadata)?;
        let uri_from_origin = uri_from_origin && uri.is_some();
        let webhooks = v.webhooks(webhooks.unwrap_or_default(), runtime_image)?;
        let unauthenticated_webhooks = v.credentials(
            source_secret.as_deref(),
            unauthenticated_webhooks,
            &webhooks,
        )?;
        Ok(GitSource {
            uri,
            uri_from_origin,
            git_ref,
            context_dir,
            source_secret,
            webhooks,
            unauthenticated_webhooks,
        })
    }
}

type Git = (Option<String>, Option<String>, String);

impl Validator<'_> {
    /// `okd.git-uri` (else `package.repository`, else the `origin` remote), `okd.git-ref` and
    /// `okd.context-dir` (else the workspace's place in its git repository): what the cluster
    /// builds.
    fn git(
        &self,
        uri: Option<String>,
        git_ref: Option<String>,
        context_dir: Option<String>,
        repository: Option<String>,
        metadata: &Metadata,
    ) -> Result<Git, Error> {
        let uri = match uri {
            Some(u) => {
                self.check(&["okd", "git-uri"], names::git_uri(&u), || {
                    r#"e.g. `git-uri = "https://github.com/acme/hello.git"`"#.into()
                })?;
                Some(u)
            }
            None => match self.repository(repository)? {
                Some(r) => Some(r),
                None => origin_remote(metadata.workspace_root.as_std_path()),
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
        Ok((uri, git_ref, context_dir))
    }

    /// `package.repository` as the default `okd.git-uri`; its error points into `[package]`.
    fn repository(&self, repository: Option<String>) -> Result<Option<String>, Error> {
        let Some(r) = repository else { return Ok(None) };
        names::git_uri(&r).map_err(|m| {
            Error::new(format!("{m}; it is the default of `okd.git-uri`"))
                .at(Location::Key {
                    file: self.pkg.file.clone(),
                    line: locate(&self.pkg.text, &["package", "repository"]),
                    key: "package.repository".into(),
                })
                .note(r#"set `okd.git-uri` in `[package.metadata.s2i]`, e.g. `okd = { git-uri = "https://github.com/acme/hello.git" }`"#)
        })?;
        Ok(Some(r))
    }

    /// `okd.webhooks`: known kinds, each with the name of its Secret (by default
    /// `<runtime stream>-<kind>-webhook`).
    fn webhooks(
        &self,
        raw: RawWebhooks,
        runtime_image: &str,
    ) -> Result<BTreeMap<WebhookKind, String>, Error> {
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
    ) -> Result<bool, Error> {
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
}

/// `okd.webhooks`: a list of kinds (secrets get default names) or a table kind → secret name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawWebhooks(BTreeMap<String, Option<String>>);

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

/// The `origin` remote of the git checkout holding `dir`, in its [`https_form`]; `None` without
/// `git`, a checkout or an `origin`, or when the cluster could not clone it (a local path).
fn origin_remote(dir: &Path) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["remote", "get-url", "origin"])
        // The checkout of `dir`, not one a calling git hook points at.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    https_form(String::from_utf8(out.stdout).ok()?.trim())
}

/// A git remote as a BuildConfig's `git.uri` that needs no credentials in the manifests: an SSH
/// remote (`git@github.com:o/r.git`, `ssh://git@host:22/o/r`) becomes `https://<host>/<path>`
/// (the SSH port dropped), an http(s) URL loses its credentials (`https://user:token@host/…`),
/// and `git://` stays. `None` for what the cluster cannot clone (a local path, `file://`). A
/// private repository then needs `okd.source-secret`.
pub(crate) fn https_form(remote: &str) -> Option<String> {
    let (scheme, rest): (&str, String) = match remote.split_once("://") {
        Some((scheme, rest)) => (scheme, rest.to_string()),
        None => scp_like(remote)?,
    };
    let (authority, path) = rest.split_once('/')?;
    // Credentials and the user name come before the last `@`.
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let path = path.trim_start_matches('/');
    let uri = match scheme {
        "https" | "http" | "git" => format!("{scheme}://{host_port}/{path}"),
        "ssh" | "git+ssh" | "ssh+git" => {
            let host = match host_port.rsplit_once(':') {
                Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
                _ => host_port,
            };
            format!("https://{host}/{path}")
        }
        _ => return None,
    };
    let empty = host_port.is_empty() || path.is_empty();
    (!empty && names::git_uri(&uri).is_ok()).then_some(uri)
}

/// `[user@]host:path`, git's scp-like SSH syntax, as (`ssh`, `[user@]host/path`); `None` for a
/// local path (no colon before the first slash, or a one-letter host such as a Windows drive).
fn scp_like(remote: &str) -> Option<(&'static str, String)> {
    let (authority, path) = remote.split_once(':')?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if authority.contains('/') || host.len() < 2 {
        return None;
    }
    Some(("ssh", format!("{authority}/{path}")))
}

#[cfg(test)]
mod tests {
    use super::https_form;

    #[test]
    fn remotes_in_the_form_the_cluster_clones() {
        for (remote, uri) in [
            (
                "git@github.com:acme/hello.git",
                Some("https://github.com/acme/hello.git"),
            ),
            (
                "ssh://git@gitlab.example.com/acme/hello",
                Some("https://gitlab.example.com/acme/hello"),
            ),
            (
                "ssh://git@git.example.com:2222/acme/hello.git",
                Some("https://git.example.com/acme/hello.git"),
            ),
            (
                "git+ssh://git@host.example/o/r",
                Some("https://host.example/o/r"),
            ),
            (
                "https://alice:s3cret@github.com/acme/hello.git",
                Some("https://github.com/acme/hello.git"),
            ),
            (
                "https://token@github.com/acme/hello",
                Some("https://github.com/acme/hello"),
            ),
            (
                "http://git.internal:8080/acme/hello.git",
                Some("http://git.internal:8080/acme/hello.git"),
            ),
            (
                "git://github.com/acme/hello.git",
                Some("git://github.com/acme/hello.git"),
            ),
            ("/srv/git/hello.git", None),
            ("../hello", None),
            ("file:///srv/git/hello.git", None),
            ("C:/src/hello", None),
            ("https://github.com", None),
            ("", None),
        ] {
            assert_eq!(https_form(remote).as_deref(), uri, "{remote}");
        }
    }
}
