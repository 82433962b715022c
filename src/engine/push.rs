//! Registry credentials the way the Docker CLI finds them — `auths` entries of
//! `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`), `credHelpers` per registry and the
//! `credsStore` default, through `docker-credential-<helper> get` — and pushing tags (through
//! [`Client::push_image`]).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, anyhow};
use futures_util::StreamExt;

use super::client::Client;
use super::flavor::Engine;
use crate::Error;
use crate::sink::{Event, Sink};

/// Credentials for one registry, as the Docker CLI's config gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
    pub identitytoken: Option<String>,
    pub serveraddress: Option<String>,
}

/// The key Docker Hub's credentials are stored under.
const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// The registry host of an image reference (`docker.io` when it has none).
pub fn registry_of(reference: &str) -> &str {
    match reference.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first
        }
        _ => "docker.io",
    }
}

/// The credentials for the registry of `reference`, if the Docker CLI's config has any. Errors
/// reading the config or running a helper are not fatal: an anonymous request says more.
pub fn credentials(reference: &str) -> Option<Credentials> {
    let dir = super::host::docker_config_dir()?;
    credentials_in(&dir, registry_of(reference)).ok().flatten()
}

/// The credentials for `registry` in the Docker config directory `dir`.
pub fn credentials_in(dir: &Path, registry: &str) -> Result<Option<Credentials>> {
    let path = dir.join("config.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("failed to read `{}`", path.display())),
    };
    let config: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("failed to parse `{}`", path.display()))?;
    let hub = registry == "docker.io" || registry == "index.docker.io";
    let keys = config_keys(registry, hub);
    let server = if hub { DOCKER_HUB } else { registry };

    let helper = keys
        .iter()
        .find_map(|k| config["credHelpers"][k.as_str()].as_str())
        .or_else(|| config["credsStore"].as_str())
        .filter(|h| !h.is_empty());
    if let Some(helper) = helper
        && let Some(c) = from_helper(helper, server)?
    {
        return Ok(Some(c));
    }

    for key in &keys {
        let entry = &config["auths"][key.as_str()];
        if entry.is_null() {
            continue;
        }
        if let Some(c) = from_auths_entry(entry, server, key, &path)? {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// The keys the Docker CLI files a registry's credentials under.
fn config_keys(registry: &str, hub: bool) -> Vec<String> {
    if hub {
        vec![
            DOCKER_HUB.into(),
            "docker.io".into(),
            "index.docker.io".into(),
        ]
    } else {
        vec![
            registry.to_string(),
            format!("https://{registry}"),
            format!("http://{registry}"),
            format!("https://{registry}/v1/"),
            format!("https://{registry}/v2/"),
        ]
    }
}

/// The credentials of one `auths` entry (`key` of the config at `path`): a base64
/// `user:password` and/or an identity token; `None` when it has neither.
fn from_auths_entry(
    entry: &serde_json::Value,
    server: &str,
    key: &str,
    path: &Path,
) -> Result<Option<Credentials>> {
    let mut c = Credentials {
        serveraddress: Some(server.to_string()),
        ..Default::default()
    };
    if let Some(auth) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
        let decoded = base64_decode(auth).ok_or_else(|| {
            anyhow!(
                "the `auth` of `{key}` in `{}` is not base64",
                path.display()
            )
        })?;
        let decoded = String::from_utf8_lossy(&decoded).into_owned();
        let (user, pass) = decoded.split_once(':').ok_or_else(|| {
            anyhow!(
                "the `auth` of `{key}` in `{}` is not `user:password`",
                path.display()
            )
        })?;
        c.username = Some(user.to_string());
        c.password = Some(pass.to_string());
    }
    if let Some(token) = entry["identitytoken"].as_str().filter(|t| !t.is_empty()) {
        c.identitytoken = Some(token.to_string());
    }
    Ok((c.username.is_some() || c.identitytoken.is_some()).then_some(c))
}

/// Runs `docker-credential-<helper> get` with the server on stdin.
fn from_helper(helper: &str, server: &str) -> Result<Option<Credentials>> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("failed to run the credential helper `{program}`"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(server.as_bytes())?;
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("failed to run the credential helper `{program}`"))?;
    if !out.status.success() {
        // "credentials not found in native keychain": anonymous.
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("`{program} get` did not print JSON"))?;
    let user = v["Username"].as_str().unwrap_or_default();
    let secret = v["Secret"].as_str().unwrap_or_default();
    if secret.is_empty() {
        return Ok(None);
    }
    let mut c = Credentials {
        serveraddress: Some(server.to_string()),
        ..Default::default()
    };
    if user == "<token>" {
        c.identitytoken = Some(secret.to_string());
    } else {
        c.username = Some(user.to_string());
        c.password = Some(secret.to_string());
    }
    Ok(Some(c))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim().bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Pushes `name:tag`; returns the digest the registry reported.
pub async fn push(docker: &Client, name: &str, tag: &str, sink: &dyn Sink) -> Result<String> {
    let reference = format!("{name}:{tag}");
    let mut stream = docker.push_image(name, tag, credentials(&reference));
    let mut digest = None;
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(e) => {
                let registry = registry_of(&reference);
                let mut error = Error::new(format!(
                    "failed to push `{reference}` with {}: {e}",
                    docker.flavor()
                ));
                if docker.flavor().engine == Engine::Podman {
                    // Docker treats 127.0.0.0/8 as a plain-HTTP registry, Podman does not.
                    error = error.note(format!(
                        "Podman pushes to a plain-HTTP registry only when `registries.conf` \
                         says so: `[[registry]]` with `location = \"{registry}\"` and \
                         `insecure = true`"
                    ));
                }
                return Err(error
                    .note(format!(
                        "the credentials come from `~/.docker/config.json` (or \
                         `$DOCKER_CONFIG/config.json`): log in with `docker login {registry}`"
                    ))
                    .note(
                        "the image names come from `builder-image`, `app-image` and \
                         `runtime-image` in `[package.metadata.s2i]`; they must name a registry \
                         you can push to (e.g. `quay.io/acme/hello`)",
                    )
                    .caused_by(e)
                    .into());
            }
        };
        if let Some(status) = info.status {
            if let Some(d) = status
                .split_whitespace()
                .find(|w| w.starts_with("sha256:"))
                .filter(|_| status.contains("digest:"))
            {
                digest = Some(d.to_string());
            }
            if !info.is_progress {
                sink.event(Event::Log {
                    stage: "push".into(),
                    line: status,
                });
            }
        }
    }
    let digest =
        digest.ok_or_else(|| anyhow!("the registry did not report the digest of `{reference}`"))?;
    sink.event(Event::status("Pushed", format!("{name}@{digest}")));
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_of_references() {
        assert_eq!(registry_of("hello"), "docker.io");
        assert_eq!(registry_of("library/rust:1"), "docker.io");
        assert_eq!(registry_of("quay.io/acme/hello:1"), "quay.io");
        assert_eq!(registry_of("127.0.0.1:5000/hello:1"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/xtask-s2i/rust:trixie"), "localhost");
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(base64_decode("dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert!(base64_decode("not base64!").is_none());
    }

    #[test]
    fn auths_entries_are_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths": {"127.0.0.1:5000": {"auth": "dXNlcjpwYXNz"},
                          "https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="}}}"#,
        )
        .unwrap();
        let c = credentials_in(dir.path(), "127.0.0.1:5000")
            .unwrap()
            .unwrap();
        assert_eq!(c.username.as_deref(), Some("user"));
        assert_eq!(c.password.as_deref(), Some("pass"));
        assert_eq!(c.serveraddress.as_deref(), Some("127.0.0.1:5000"));
        let hub = credentials_in(dir.path(), "docker.io").unwrap().unwrap();
        assert_eq!(hub.username.as_deref(), Some("hub"));
        assert!(credentials_in(dir.path(), "quay.io").unwrap().is_none());
        assert!(
            credentials_in(&dir.path().join("missing"), "quay.io")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_missing_helper_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"credHelpers": {"quay.io": "xtask-s2i-test-missing"}}"#,
        )
        .unwrap();
        let err = credentials_in(dir.path(), "quay.io").unwrap_err();
        assert!(
            format!("{err:#}").contains("docker-credential-xtask-s2i-test-missing"),
            "{err:#}"
        );
    }
}
