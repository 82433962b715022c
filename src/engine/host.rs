//! Where the container engine listens: the hosts to try, in order, and where each came from.
//!
//! `DOCKER_HOST`, then `CONTAINER_HOST` (Podman's variable), then the endpoint of the current
//! Docker context are explicit choices: the first one set is the only host tried, as the Docker
//! and Podman CLIs do. Without any of them the well-known sockets are tried in order — Docker's,
//! then Podman's rootless and rootful ones — and the first engine that answers is used. This
//! module only finds candidates; [`super::client::Client::connect`] talks to them.

use std::path::{Path, PathBuf};

use crate::Error;

/// Docker's socket.
pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// Podman's rootful socket (`systemctl start podman.socket`).
pub const PODMAN_ROOTFUL_SOCKET: &str = "/run/podman/podman.sock";

/// An engine address to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// `unix://…`, `tcp://…`, `http://…`.
    pub host: String,
    /// Where it came from, for messages (`from \`DOCKER_HOST\``, `Docker's socket`).
    pub origin: String,
}

/// The hosts to try: one explicit choice, or the well-known sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hosts {
    /// Set by the user (an environment variable or the Docker context): only this one.
    Explicit(Candidate),
    /// Nothing set: these sockets, in order; the first that answers wins.
    Probe(Vec<Candidate>),
}

/// The environment the discovery reads, so tests can give their own.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub docker_host: Option<String>,
    pub container_host: Option<String>,
    pub docker_context: Option<String>,
    pub docker_config: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
}

impl Env {
    /// The process environment.
    pub fn current() -> Env {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Env {
            docker_host: var("DOCKER_HOST"),
            container_host: var("CONTAINER_HOST"),
            docker_context: var("DOCKER_CONTEXT"),
            docker_config: docker_config_dir(),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
        }
    }
}

/// The Docker CLI's configuration directory: `DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker"))
}

/// The hosts to try, in the order described in the module documentation.
pub fn hosts(env: &Env) -> Hosts {
    if let Some(host) = &env.docker_host {
        return Hosts::Explicit(Candidate {
            host: host.clone(),
            origin: "from `DOCKER_HOST`".into(),
        });
    }
    if let Some(host) = &env.container_host {
        return Hosts::Explicit(Candidate {
            host: host.clone(),
            origin: "from `CONTAINER_HOST`".into(),
        });
    }
    if let Some(candidate) = context_host(env) {
        return Hosts::Explicit(candidate);
    }
    let mut sockets = vec![Candidate {
        host: format!("unix://{DOCKER_SOCKET}"),
        origin: "Docker's socket".into(),
    }];
    if let Some(dir) = &env.xdg_runtime_dir {
        sockets.push(Candidate {
            host: format!("unix://{}", dir.join("podman/podman.sock").display()),
            origin: "Podman's rootless socket".into(),
        });
    }
    sockets.push(Candidate {
        host: format!("unix://{PODMAN_ROOTFUL_SOCKET}"),
        origin: "Podman's rootful socket".into(),
    });
    Hosts::Probe(sockets)
}

/// The endpoint of the context named by `DOCKER_CONTEXT` or the config's `currentContext`
/// (none for the `default` context, which is the Docker socket).
fn context_host(env: &Env) -> Option<Candidate> {
    let dir = env.docker_config.as_deref()?;
    let context = env.docker_context.clone().or_else(|| {
        let config = std::fs::read(dir.join("config.json")).ok()?;
        let config: serde_json::Value = serde_json::from_slice(&config).ok()?;
        config["currentContext"].as_str().map(str::to_string)
    })?;
    if context == "default" || context.is_empty() {
        return None;
    }
    let host = context_endpoint(dir, &context)?;
    Some(Candidate {
        host,
        origin: format!("from the Docker context `{context}`"),
    })
}

/// The Docker endpoint of a named context in the config directory `dir`.
fn context_endpoint(dir: &Path, context: &str) -> Option<String> {
    use sha2::Digest;
    let key = crate::plan::hex(&sha2::Sha256::digest(context.as_bytes()));
    let meta = dir.join("contexts/meta").join(key).join("meta.json");
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
    meta["Endpoints"]["docker"]["Host"]
        .as_str()
        .map(str::to_string)
}

/// The socket file of a `unix://` host, if it is one.
pub fn socket_path(host: &str) -> Option<&Path> {
    host.strip_prefix("unix://").map(Path::new)
}

/// How to start the engines: the note of the error when none answers.
pub const HOW_TO_START: &str = "start Docker (`sudo systemctl start docker`), or Podman's \
    API socket (`systemctl --user enable --now podman.socket` for rootless Podman, then \
    `export CONTAINER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock`; \
    `sudo systemctl enable --now podman.socket` for rootful; or run \
    `podman system service --time=0 &`), or set `DOCKER_HOST` or `CONTAINER_HOST` to an engine \
    that runs (e.g. `unix:///run/user/1000/podman/podman.sock` or `tcp://127.0.0.1:2375`)";

/// The error when no probed socket answered: each one tried with why, and how to start an engine.
pub fn none_answered(tried: &[(Candidate, String)]) -> Error {
    let mut message = "cannot reach a container engine: `DOCKER_HOST` and `CONTAINER_HOST` are \
                       not set and no Docker context is selected, and none of these answered:"
        .to_string();
    for (c, cause) in tried {
        message.push_str(&format!("\n  `{}` ({}): {cause}", c.host, c.origin));
    }
    Error::new(message).note(HOW_TO_START)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts_of(h: Hosts) -> Vec<(String, String)> {
        match h {
            Hosts::Explicit(c) => vec![(c.host, c.origin)],
            Hosts::Probe(v) => v.into_iter().map(|c| (c.host, c.origin)).collect(),
        }
    }

    #[test]
    fn docker_host_comes_first_then_container_host() {
        let mut env = Env {
            docker_host: Some("tcp://1.2.3.4:2375".into()),
            container_host: Some("unix:///run/podman/podman.sock".into()),
            ..Default::default()
        };
        assert_eq!(
            hosts(&env),
            Hosts::Explicit(Candidate {
                host: "tcp://1.2.3.4:2375".into(),
                origin: "from `DOCKER_HOST`".into()
            })
        );
        env.docker_host = None;
        assert_eq!(
            hosts_of(hosts(&env)),
            [(
                "unix:///run/podman/podman.sock".to_string(),
                "from `CONTAINER_HOST`".to_string()
            )]
        );
    }

    #[test]
    fn the_current_docker_context_comes_before_the_sockets() {
        use sha2::Digest;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext": "remote"}"#,
        )
        .unwrap();
        let key = crate::plan::hex(&sha2::Sha256::digest(b"remote"));
        let meta = dir.path().join("contexts/meta").join(key);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.0.0.1:2376"}}}"#,
        )
        .unwrap();
        let mut env = Env {
            docker_config: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        assert_eq!(
            hosts_of(hosts(&env)),
            [(
                "tcp://10.0.0.1:2376".to_string(),
                "from the Docker context `remote`".to_string()
            )]
        );
        // `DOCKER_CONTEXT` names another context; `default` is the sockets.
        env.docker_context = Some("default".into());
        assert!(matches!(hosts(&env), Hosts::Probe(_)));
    }

    #[test]
    fn the_error_lists_what_was_tried_and_how_to_start_each_engine() {
        let Hosts::Probe(sockets) = hosts(&Env {
            xdg_runtime_dir: Some("/run/user/1000".into()),
            ..Default::default()
        }) else {
            panic!("expected the sockets")
        };
        let tried: Vec<_> = sockets
            .into_iter()
            .map(|c| (c, "no such socket".to_string()))
            .collect();
        let message = none_answered(&tried).to_string();
        for needle in [
            "`unix:///var/run/docker.sock` (Docker's socket): no such socket",
            "`unix:///run/user/1000/podman/podman.sock` (Podman's rootless socket)",
            "`unix:///run/podman/podman.sock` (Podman's rootful socket)",
            "sudo systemctl start docker",
            "systemctl --user enable --now podman.socket",
            "podman system service",
            "`DOCKER_HOST` or `CONTAINER_HOST`",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
    }

    #[test]
    fn without_a_choice_the_docker_then_podman_sockets_are_probed() {
        let env = Env {
            xdg_runtime_dir: Some("/run/user/1000".into()),
            ..Default::default()
        };
        let hosts: Vec<String> = hosts_of(hosts(&env)).into_iter().map(|h| h.0).collect();
        assert_eq!(
            hosts,
            [
                "unix:///var/run/docker.sock",
                "unix:///run/user/1000/podman/podman.sock",
                "unix:///run/podman/podman.sock"
            ]
        );
        let env = Env::default();
        assert_eq!(hosts_of(super::hosts(&env)).len(), 2);
    }
}
