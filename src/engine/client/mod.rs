//! The engine connection: the only code that speaks bollard. It finds the engine with
//! [`super::host`], negotiates the API version, and names the engine it reached; the operations
//! the stages and the rehearsal are made of are methods with engine-neutral arguments, by area:
//! images ([`images`]: inspect, pull, build, commit, import, tag, push, remove) and containers
//! ([`containers`]: create, upload, download, run, start, inspect, logs, remove). Docker and
//! Podman alike; where they differ, [`super::flavor`] says so. Every failed call is an
//! [`Error`] that keeps the engine's error as its source.
//!
//! The [`Janitor`] it carries remembers every container and unfinished image a run creates so
//! that they can be removed however the run ends; [`Output`] splits what builds and containers
//! print.

pub mod containers;
mod error;
pub mod images;

use std::time::Duration;

use anyhow::Result;
use bollard::{ClientVersion, Docker};

use super::flavor::{self, Engine, Flavor};
use super::host::{self, Candidate, Hosts};
pub use super::janitor::Janitor;
pub use super::output::Output;
pub(crate) use crate::Error;
use crate::sink::{Event, Sink};
pub use containers::ContainerSpec;
pub use images::{ImageConfig, ImageInfo};

/// How long the engine may take to answer the first request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Requests such as a commit of a large container may take long; builds stream.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);

/// A connected, version-negotiated client of Docker or Podman.
pub struct Client {
    docker: Docker,
    flavor: Flavor,
    janitor: Janitor,
}

impl Client {
    /// Finds the engine ([`super::host`]), negotiates the API version and reports which engine
    /// answered; fails within a few seconds per host when nothing answers, listing what it tried
    /// and how to start an engine.
    pub async fn connect(sink: &dyn Sink) -> Result<Client> {
        let (docker, flavor, candidate) = match host::hosts(&host::Env::current()) {
            Hosts::Explicit(c) => match reach(&c).await {
                Ok((docker, flavor)) => (docker, flavor, c),
                Err(cause) => {
                    return Err(Error::new(format!(
                        "cannot reach the container engine at `{}` ({}): {cause}",
                        c.host, c.origin
                    ))
                    .note(host::HOW_TO_START)
                    .note(NO_BUILD)
                    .into());
                }
            },
            Hosts::Probe(candidates) => {
                let mut tried = Vec::new();
                let mut found = None;
                for c in candidates {
                    match reach(&c).await {
                        Ok((docker, flavor)) => {
                            found = Some((docker, flavor, c));
                            break;
                        }
                        Err(cause) => tried.push((c, cause)),
                    }
                }
                found.ok_or_else(|| host::none_answered(&tried).note(NO_BUILD))?
            }
        };
        let version = docker.client_version();
        sink.event(Event::status(
            "Connected",
            format!(
                "to {flavor} at {} (API {}.{})",
                candidate.host, version.major_version, version.minor_version
            ),
        ));
        Ok(Client {
            docker,
            flavor,
            janitor: Janitor::default(),
        })
    }

    /// The engine this client talks to.
    pub fn flavor(&self) -> &Flavor {
        &self.flavor
    }

    pub fn janitor(&self) -> &Janitor {
        &self.janitor
    }
}

/// The last note of every error about an unreachable engine.
const NO_BUILD: &str = "`cargo xtask image --no-build` renders the builder context and \
    writes the manifests without an engine";

/// The client for `host` at the API version both sides speak: the lower of `server` (the
/// `ApiVersion` of the engine's `/version`) and bollard's.
///
/// Written here rather than left to bollard's `negotiate_version` because that asks for
/// `/version` once more, and Podman takes about half a second to answer each (it runs `conmon`
/// and the OCI runtime to report their versions), which doubled the cost of a no-op run. For
/// hosts other than `unix://`, `tcp://` and `http://` (TLS, SSH), bollard negotiates.
async fn at_version(
    docker: Docker,
    host: &str,
    server: Option<&str>,
) -> Result<Docker, bollard::errors::Error> {
    let parsed = server.and_then(|v| {
        let (major, minor) = v.split_once('.')?;
        Some(ClientVersion {
            major_version: major.parse().ok()?,
            minor_version: minor.parse().ok()?,
        })
    });
    let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some();
    match parsed {
        Some(server) if server >= docker.client_version() => Ok(docker),
        Some(server) if host.starts_with("unix://") => {
            Docker::connect_with_unix(host, BOLLARD_TIMEOUT, &server)
        }
        Some(server) if !tls && (host.starts_with("tcp://") || host.starts_with("http://")) => {
            Docker::connect_with_http(host, BOLLARD_TIMEOUT, &server)
        }
        _ => docker.negotiate_version().await,
    }
}

/// The timeout a fresh bollard client starts with (seconds); replaced by [`REQUEST_TIMEOUT`].
const BOLLARD_TIMEOUT: u64 = 120;

/// Connects to one host: negotiates the API version and asks which engine it is.
async fn reach(c: &Candidate) -> Result<(Docker, Flavor), String> {
    if let Some(path) = host::socket_path(&c.host)
        && !path.exists()
    {
        return Err("no such socket".into());
    }
    let docker = Docker::connect_with_host(&c.host).map_err(|e| e.to_string())?;
    let answer = async {
        let version = docker.version().await?;
        let docker = at_version(docker, &c.host, version.api_version.as_deref()).await?;
        Ok::<_, bollard::errors::Error>((docker, version))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, answer).await {
        Ok(Ok((docker, version))) => {
            let components: Vec<(&str, &str)> = version
                .components
                .iter()
                .flatten()
                .map(|c| (c.name.as_str(), c.version.as_str()))
                .collect();
            let platform = version.platform.as_ref().map_or("", |p| p.name.as_str());
            let flavor = Flavor::from_version(platform, &components, version.version.as_deref());
            let engine = flavor.engine;
            let docker = docker
                .with_timeout(REQUEST_TIMEOUT)
                .with_request_modifier(move |r| modify(engine, r));
            Ok((docker, flavor))
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "no answer within {} seconds",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// What every request to the engine goes through, as [`super::flavor`] says: its `changes`
/// split into one parameter each ([`flavor::split_changes`]), then the engine's extra
/// parameter ([`flavor::extra_parameter`]).
fn modify(engine: Engine, mut request: bollard::BollardRequest) -> bollard::BollardRequest {
    if let Some(split) = flavor::split_changes(&request.uri().to_string())
        && let Ok(new) = split.parse()
    {
        *request.uri_mut() = new;
    }
    if let Some(parameter) = flavor::extra_parameter(engine, request.uri().path()) {
        let uri = request.uri().to_string();
        let joined = if uri.contains('?') { '&' } else { '?' };
        if let Ok(new) = format!("{uri}{joined}{parameter}").parse() {
            *request.uri_mut() = new;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_get_their_changes_split_and_podman_builds_no_layers() {
        // Whole requests, as bollard makes them (an absolute URI).
        let request = |uri: &str| {
            let mut r = bollard::BollardRequest::new(bollard::body_full(Default::default()));
            *r.uri_mut() = uri.parse().unwrap();
            r
        };
        let build = "unix://2f72756e/v1.41/build?dockerfile=Dockerfile&rm=true";
        assert_eq!(
            modify(Engine::Podman, request(build)).uri().to_string(),
            "unix://2f72756e/v1.41/build?dockerfile=Dockerfile&rm=true&layers=false"
        );
        assert_eq!(
            modify(Engine::Docker, request(build)).uri().to_string(),
            build
        );
        assert_eq!(
            modify(
                Engine::Docker,
                request("unix://2f72756e/v1.41/images/create?fromSrc=-&changes=A%0AB")
            )
            .uri()
            .to_string(),
            "unix://2f72756e/v1.41/images/create?fromSrc=-&changes=A&changes=B"
        );
    }
}
