//! The one place where Docker and Podman differ, as far as this tool is concerned.
//!
//! Both serve the Docker Engine API, and the chain uses the same calls on both; what differs:
//!
//! - **Which engine it is.** The version endpoint names it: Docker's component is `Engine`,
//!   Podman's is `Podman Engine`. [`Flavor`] carries the name and version for the connected line
//!   and for messages.
//! - **`changes` of a commit and an import.** Docker reads each `changes` value with its
//!   Dockerfile parser (continuation lines, several `key=value` pairs per `LABEL`/`ENV`, escapes
//!   and variables). Podman 4 takes one single-line instruction per value, one `key=value` pair
//!   per `LABEL`/`ENV`, and strips a pair of surrounding double quotes without reading escapes;
//!   its commit splits a value at newlines, its import does not. So [`super::direct`] writes
//!   one single-line instruction per change in the form both read alike, and
//!   [`split_changes`] (a request modifier on every connection) sends each as a `changes`
//!   parameter of its own, which both engines accept. bollard joins them with newlines into one.
//! - **A commit's configuration.** Podman's compatibility commit ignores the configuration in
//!   the request body (`Cmd`, `User`, `Labels`, ...), which Docker merges into the image:
//!   [`commit_changes`] says the same as `changes`.
//! - **A commit's environment.** Podman's commit keeps the whole environment of the container,
//!   which includes `container=podman` and the `env` of its `containers.conf` (`TERM=xterm` by
//!   default); Docker's keeps the image's and the container's own. The committed builder and
//!   app images carry these on Podman; nothing in the chain reads them.
//! - **The classic builder.** `docker build` on Podman is Buildah: its output has no
//!   ` ---> <id>` step lines (so there is no intermediate image to remember), and it caches
//!   differently; the images it builds from the rendered Dockerfiles are the same.
//! - **Pushing to a plain-HTTP registry.** Docker treats `127.0.0.0/8` as an insecure registry;
//!   Podman wants the registry in `registries.conf` (`[[registry]] location = "…" insecure =
//!   true`) — see the README.

use bollard::models::{ContainerConfig, SystemVersion};

/// The kind of engine behind the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

/// The engine a client is connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flavor {
    pub engine: Engine,
    /// The engine's own version (`20.10.24+dfsg1`, `4.3.1`).
    pub version: String,
}

impl Flavor {
    /// Reads the version endpoint's answer.
    pub fn from_version(v: &SystemVersion) -> Flavor {
        let components = v.components.as_deref().unwrap_or_default();
        let podman = components
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case("Podman Engine"));
        if let Some(c) = podman {
            return Flavor {
                engine: Engine::Podman,
                version: c.version.clone(),
            };
        }
        let platform = v.platform.as_ref().map(|p| p.name.as_str()).unwrap_or("");
        let version = components
            .iter()
            .find(|c| c.name == "Engine")
            .map(|c| c.version.clone())
            .or_else(|| v.version.clone())
            .unwrap_or_else(|| "(unknown version)".into());
        Flavor {
            engine: if platform.to_ascii_lowercase().contains("podman") {
                Engine::Podman
            } else {
                Engine::Docker
            },
            version,
        }
    }

    /// `Docker` or `Podman`.
    pub fn name(&self) -> &'static str {
        match self.engine {
            Engine::Docker => "Docker",
            Engine::Podman => "Podman",
        }
    }
}

impl std::fmt::Display for Flavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name(), self.version)
    }
}

/// The commit `changes` that carry `config`, ahead of `changes`. Podman's commit ignores the
/// configuration in the request body, which Docker's merges into the image, so what the body says
/// is also said as single-line instructions (which mean the same to Docker). A label or variable
/// whose value no instruction can carry alike on both engines is left to the body on Docker and
/// is an error on Podman.
pub fn commit_changes(
    flavor: &Flavor,
    config: &ContainerConfig,
    changes: &[String],
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_default();
    if let Some(entrypoint) = &config.entrypoint {
        out.push(format!("ENTRYPOINT {}", json(entrypoint)));
    }
    if let Some(cmd) = &config.cmd {
        out.push(format!("CMD {}", json(cmd)));
    }
    if let Some(user) = config.user.as_ref().filter(|u| !u.is_empty()) {
        out.push(format!("USER {user}"));
    }
    if let Some(dir) = config.working_dir.as_ref().filter(|d| !d.is_empty()) {
        out.push(format!("WORKDIR {dir}"));
    }
    let env = config
        .env
        .iter()
        .flatten()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => ("ENV", k.to_string(), v.to_string()),
            None => ("ENV", e.clone(), String::new()),
        });
    let mut labels: Vec<_> = config.labels.iter().flatten().collect();
    labels.sort();
    let labels = labels
        .into_iter()
        .map(|(k, v)| ("LABEL", k.clone(), v.clone()));
    for (keyword, key, value) in env.chain(labels) {
        match (
            super::direct::pair_change(keyword, &key, &value),
            flavor.engine,
        ) {
            (Ok(change), _) => out.push(change),
            (Err(_), Engine::Docker) => {}
            (Err(why), Engine::Podman) => return Err(format!("the image {why}")),
        }
    }
    out.extend(changes.iter().cloned());
    Ok(out)
}

/// A request modifier: every `changes=a%0Ab` query parameter becomes `changes=a&changes=b`.
/// bollard joins the changes of an import with newlines into one parameter; Podman's import reads
/// a parameter as one instruction, and both engines read repeated parameters.
pub fn split_changes(mut request: bollard::BollardRequest) -> bollard::BollardRequest {
    let uri = request.uri();
    let Some(query) = uri.query().filter(|q| q.contains("changes=")) else {
        return request;
    };
    let Some(split) = split_query(query) else {
        return request;
    };
    let full = uri.to_string();
    let before_query = full.split_once('?').map_or(full.as_str(), |(head, _)| head);
    let rewritten = format!("{before_query}?{split}");
    if let Ok(new) = rewritten.parse() {
        *request.uri_mut() = new;
    }
    request
}

/// The query with each `changes` parameter split at encoded newlines; `None` when none has one.
fn split_query(query: &str) -> Option<String> {
    let mut changed = false;
    let mut parts = Vec::new();
    for part in query.split('&') {
        match part.strip_prefix("changes=") {
            Some(value) if value.contains("%0A") || value.contains("%0a") => {
                changed = true;
                let value = value.replace("%0a", "%0A");
                parts.extend(
                    value
                        .split("%0A")
                        .filter(|v| !v.is_empty())
                        .map(|v| format!("changes={v}")),
                );
            }
            _ => parts.push(part.to_string()),
        }
    }
    changed.then(|| parts.join("&"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard::models::{SystemVersionComponents, SystemVersionPlatform};

    use super::*;

    fn component(name: &str, version: &str) -> SystemVersionComponents {
        SystemVersionComponents {
            name: name.into(),
            version: version.into(),
            details: Some(HashMap::new()),
        }
    }

    #[test]
    fn engines_are_told_apart_by_their_components() {
        let docker = SystemVersion {
            platform: Some(SystemVersionPlatform { name: "".into() }),
            components: Some(vec![
                component("Engine", "20.10.24+dfsg1"),
                component("containerd", "1.6.20~ds1"),
            ]),
            version: Some("20.10.24+dfsg1".into()),
            ..Default::default()
        };
        let f = Flavor::from_version(&docker);
        assert_eq!(f.engine, Engine::Docker);
        assert_eq!(f.to_string(), "Docker 20.10.24+dfsg1");
        let podman = SystemVersion {
            platform: Some(SystemVersionPlatform {
                name: "linux/amd64/debian-12".into(),
            }),
            components: Some(vec![
                component("Podman Engine", "4.3.1"),
                component("Conmon", "conmon version 2.1.6"),
            ]),
            version: Some("4.3.1".into()),
            ..Default::default()
        };
        assert_eq!(Flavor::from_version(&podman).to_string(), "Podman 4.3.1");
    }

    #[test]
    fn a_commit_config_is_also_said_as_changes() {
        let config = ContainerConfig {
            cmd: Some(vec!["/usr/libexec/s2i/run".into()]),
            user: Some("1001".into()),
            labels: Some(HashMap::from([
                ("b".to_string(), "2".to_string()),
                ("a".to_string(), "say \"hi\"".to_string()),
            ])),
            ..Default::default()
        };
        let docker = Flavor {
            engine: Engine::Docker,
            version: "20.10.24".into(),
        };
        assert_eq!(
            commit_changes(&docker, &config, &["EXPOSE 8080".into()]).unwrap(),
            [
                r#"CMD ["/usr/libexec/s2i/run"]"#,
                "USER 1001",
                r#"LABEL b="2""#,
                "EXPOSE 8080"
            ]
        );
        let podman = Flavor {
            engine: Engine::Podman,
            version: "4.3.1".into(),
        };
        let err = commit_changes(&podman, &config, &[]).unwrap_err();
        assert!(err.contains("`LABEL` value with quotes"), "{err}");
    }

    #[test]
    fn changes_are_split_into_one_parameter_each() {
        assert_eq!(
            split_query("fromSrc=-&changes=ENV+A%3D1%0AUSER+1001%0A&message=m").as_deref(),
            Some("fromSrc=-&changes=ENV+A%3D1&changes=USER+1001&message=m")
        );
        assert_eq!(split_query("fromSrc=-&changes=USER+1001"), None);
        assert_eq!(split_query("container=x&comment=a%0Ab"), None);
        // On a whole request, as bollard makes them (an absolute URI).
        let mut request = bollard::BollardRequest::new(bollard::body_full(Default::default()));
        *request.uri_mut() = "unix://2f72756e/v1.41/images/create?fromSrc=-&changes=A%0AB"
            .parse()
            .unwrap();
        assert_eq!(
            split_changes(request).uri().to_string(),
            "unix://2f72756e/v1.41/images/create?fromSrc=-&changes=A&changes=B"
        );
    }
}
