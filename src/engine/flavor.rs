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
//!   one single-line instruction per change in the form both read alike ([`pair_change`]), and
//!   [`split_changes`] (which the client applies to every request) sends each as a `changes`
//!   parameter of its own, which both engines accept. bollard joins them with newlines into one.
//! - **A commit's configuration.** Podman's compatibility commit ignores the configuration in
//!   the request body (`Cmd`, `User`, `Labels`, ...), which Docker merges into the image:
//!   [`commit_changes`] says the same as `changes`.
//! - **A commit's environment.** Podman's commit keeps the whole environment of the container,
//!   which includes `container=podman` and the `env` of its `containers.conf` (`TERM=xterm` by
//!   default); Docker's keeps the image's and the container's own. The committed builder and
//!   app images carry these on Podman; nothing in the chain reads them.
//! - **The classic builder.** `docker build` on Podman is Buildah: it labels the image with
//!   `io.buildah.version`, and keeps an image per instruction as its cache unless told
//!   `layers=false`, which [`extra_parameter`] adds; otherwise the images it builds from the
//!   rendered Dockerfiles are the same.
//! - **`ONBUILD` triggers.** Podman's image inspection does not report them (its configuration is
//!   the OCI one, which has no such field), even for an image in the Docker format that has
//!   them. On Podman they are read from the image's history instead ([`on_build_in_history`]),
//!   which also lists the triggers of its base that a build already ran: a builder base with
//!   such history is built with `docker build` (slower, the same image) rather than assembled
//!   directly.
//! - **Pushing to a plain-HTTP registry.** Docker treats `127.0.0.0/8` as an insecure registry;
//!   Podman wants the registry in `registries.conf` (`[[registry]] location = "…" insecure =
//!   true`) — see the README.

use super::client::ImageConfig;

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
    /// Reads the version endpoint's answer: the platform's name, the components (name,
    /// version) and the version.
    pub fn from_version(
        platform: &str,
        components: &[(&str, &str)],
        version: Option<&str>,
    ) -> Flavor {
        let podman = components
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("Podman Engine"));
        if let Some((_, version)) = podman {
            return Flavor {
                engine: Engine::Podman,
                version: version.to_string(),
            };
        }
        let version = components
            .iter()
            .find(|(name, _)| *name == "Engine")
            .map(|(_, version)| version.to_string())
            .or_else(|| version.map(str::to_string))
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

impl Flavor {
    /// Whether the engine's image inspection leaves out `ONBUILD` triggers (Podman's).
    pub fn hides_on_build(&self) -> bool {
        self.engine == Engine::Podman
    }
}

/// The `ONBUILD` instructions recorded in an image's history (`created_by` of each entry, as
/// `/bin/sh -c #(nop) ONBUILD RUN …`).
pub fn on_build_in_history<'a>(created_by: impl Iterator<Item = &'a str>) -> Vec<String> {
    created_by
        .filter_map(|c| c.split_once("#(nop)").map(|(_, rest)| rest.trim()))
        .filter_map(|i| i.strip_prefix("ONBUILD "))
        .map(|i| i.trim().to_string())
        .collect()
}

/// The commit `changes` that carry `config`, ahead of `changes`. Podman's commit ignores the
/// configuration in the request body, which Docker's merges into the image, so what the body says
/// is also said as single-line instructions (which mean the same to Docker). A label or variable
/// whose value no instruction can carry alike on both engines is left to the body on Docker and
/// is an error on Podman.
pub fn commit_changes(
    flavor: &Flavor,
    config: &ImageConfig,
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
        match (pair_change(keyword, &key, &value), flavor.engine) {
            (Ok(change), _) => out.push(change),
            (Err(_), Engine::Docker) => {}
            (Err(why), Engine::Podman) => return Err(format!("the image {why}")),
        }
    }
    out.extend(changes.iter().cloned());
    Ok(out)
}

/// `LABEL key="value"` or `ENV key="value"`: one pair, which both engines read as written when
/// the key is a plain name and the value has no quote, backslash, `$` or newline (Docker reads
/// escapes and variables in it, Podman only strips the quotes).
pub(crate) fn pair_change(keyword: &str, key: &str, value: &str) -> Result<String, String> {
    let plain_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c));
    if !plain_key {
        return Err(format!(
            "has the `{keyword}` key `{key}`, which is not a plain name"
        ));
    }
    if value.contains(['"', '\\', '$', '\n', '\r']) {
        return Err(format!(
            "has a `{keyword}` value with quotes, backslashes, `$` or a newline (`{key}`), which \
             Docker and Podman read differently in a commit"
        ));
    }
    Ok(format!("{keyword} {key}=\"{value}\""))
}

/// The parameter every request to `path` gets on `engine`, besides its own: on Podman a build
/// without Buildah's layer cache (`layers=false`). With it, Podman's build keeps an image per
/// instruction, which nothing removes once the built image is gone; the chain has a cache of its
/// own (input digests), and Docker's classic builder keeps its steps as the built image's
/// parents, removed with it. The client adds it to every request, after [`split_changes`].
pub fn extra_parameter(engine: Engine, path: &str) -> Option<&'static str> {
    (engine == Engine::Podman && path.ends_with("/build")).then_some("layers=false")
}

/// The request URI `uri` with every `changes=a%0Ab` query parameter as `changes=a&changes=b`;
/// `None` when it has none to split. bollard joins the changes of an import with newlines into
/// one parameter; Podman's import reads a parameter as one instruction, and both engines read
/// repeated parameters.
pub fn split_changes(uri: &str) -> Option<String> {
    let (before_query, query) = uri.split_once('?')?;
    if !query.contains("changes=") {
        return None;
    }
    let split = split_query(query)?;
    Some(format!("{before_query}?{split}"))
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

    use super::*;

    #[test]
    fn engines_are_told_apart_by_their_components() {
        let f = Flavor::from_version(
            "",
            &[("Engine", "20.10.24+dfsg1"), ("containerd", "1.6.20~ds1")],
            Some("20.10.24+dfsg1"),
        );
        assert_eq!(f.engine, Engine::Docker);
        assert_eq!(f.to_string(), "Docker 20.10.24+dfsg1");
        let podman = Flavor::from_version(
            "linux/amd64/debian-12",
            &[
                ("Podman Engine", "4.3.1"),
                ("Conmon", "conmon version 2.1.6"),
            ],
            Some("4.3.1"),
        );
        assert_eq!(podman.to_string(), "Podman 4.3.1");
    }

    #[test]
    fn a_commit_config_is_also_said_as_changes() {
        let config = ImageConfig {
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
    fn on_build_triggers_are_read_from_the_history() {
        let history = [
            "/bin/sh -c #(nop) ONBUILD RUN touch /onbuild-ran",
            "/bin/sh -c #(nop) LABEL a=b",
            "/bin/sh -c #(nop)  ONBUILD COPY . /src",
            "/bin/sh -c echo ONBUILD",
        ];
        assert_eq!(
            on_build_in_history(history.into_iter()),
            ["RUN touch /onbuild-ran", "COPY . /src"]
        );
    }

    #[test]
    fn changes_are_split_into_one_parameter_each() {
        assert_eq!(
            split_query("fromSrc=-&changes=ENV+A%3D1%0AUSER+1001%0A&message=m").as_deref(),
            Some("fromSrc=-&changes=ENV+A%3D1&changes=USER+1001&message=m")
        );
        assert_eq!(split_query("fromSrc=-&changes=USER+1001"), None);
        assert_eq!(split_query("container=x&comment=a%0Ab"), None);
        // On a whole URI, as bollard makes them (an absolute URI).
        assert_eq!(
            split_changes("unix://2f72756e/v1.41/images/create?fromSrc=-&changes=A%0AB").as_deref(),
            Some("unix://2f72756e/v1.41/images/create?fromSrc=-&changes=A&changes=B")
        );
        assert_eq!(split_changes("unix://2f72756e/v1.41/build?rm=true"), None);
        assert_eq!(
            extra_parameter(Engine::Podman, "/v1.41/build"),
            Some("layers=false")
        );
        assert_eq!(extra_parameter(Engine::Docker, "/v1.41/build"), None);
        assert_eq!(extra_parameter(Engine::Podman, "/v1.41/commit"), None);
    }
}
