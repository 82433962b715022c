//! The engine connection and the few operations the stages are made of: inspect, pull, build,
//! create/attach/start/wait/remove a container, upload and download archives, commit, import,
//! tag. Docker and Podman alike, through bollard; where they differ, [`super::flavor`] says so.
//!
//! It finds the engine with [`super::host`], negotiates the API version, and names the engine it
//! reached. A [`Janitor`] remembers every container and unfinished image a run creates so that
//! they can be removed however the run ends.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerConfig, ContainerCreateBody};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, BuildImageOptionsBuilder, BuilderVersion,
    CommitContainerOptionsBuilder, CreateContainerOptions, CreateImageOptions,
    CreateImageOptionsBuilder, DownloadFromContainerOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveImageOptionsBuilder, TagImageOptionsBuilder, UploadToContainerOptionsBuilder,
    WaitContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::flavor::Flavor;
use super::host::{self, Candidate, Hosts};
pub use super::janitor::Janitor;
pub use super::output::Output;
use crate::config::PullPolicy;
use crate::sink::{Event, Sink};

/// How long the engine may take to answer the first request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Requests such as a commit of a large container may take long; builds stream.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);

/// What the stages need to know about an image.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    pub id: String,
    pub size: u64,
    pub labels: HashMap<String, String>,
    /// Tags and digests that reference the image.
    pub references: usize,
    /// `KEY=value` of its configuration.
    pub env: Vec<String>,
    /// Its configured entrypoint (empty when none).
    pub entrypoint: Vec<String>,
    /// The shell of shell-form `RUN`s built on it (empty: `/bin/sh -c`).
    pub shell: Vec<String>,
    /// Its `ONBUILD` triggers.
    pub on_build: Vec<String>,
}

impl ImageInfo {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }
}

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
                Err(cause) => bail!(
                    "cannot reach the container engine at `{}` ({}): {cause}\n{}\n{NO_BUILD}",
                    c.host,
                    c.origin,
                    host::HOW_TO_START
                ),
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
                found.ok_or_else(|| anyhow!("{}\n{NO_BUILD}", host::none_answered(&tried)))?
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

    pub fn api(&self) -> &Docker {
        &self.docker
    }

    /// The image `reference`, or `None` when the engine does not have it.
    pub async fn image(&self, reference: &str) -> Result<Option<ImageInfo>> {
        match self.docker.inspect_image(reference).await {
            Ok(i) => {
                let config = i.config.unwrap_or_default();
                let mut on_build = config.on_build.unwrap_or_default();
                if on_build.is_empty() && self.flavor.hides_on_build() {
                    let history = self
                        .docker
                        .image_history(reference)
                        .await
                        .with_context(|| format!("failed to read the history of `{reference}`"))?;
                    on_build = super::flavor::on_build_in_history(
                        history.iter().map(|h| h.created_by.as_str()),
                    );
                }
                Ok(Some(ImageInfo {
                    id: i.id.unwrap_or_default(),
                    size: i.size.unwrap_or(0).max(0) as u64,
                    labels: config.labels.unwrap_or_default(),
                    env: config.env.unwrap_or_default(),
                    entrypoint: config.entrypoint.unwrap_or_default(),
                    shell: config.shell.unwrap_or_default(),
                    on_build,
                    references: i.repo_tags.map(|t| t.len()).unwrap_or(0)
                        + i.repo_digests.map(|t| t.len()).unwrap_or(0),
                }))
            }
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("failed to inspect the image `{reference}`")),
        }
    }

    /// The image `reference`, which must exist.
    pub async fn existing_image(&self, reference: &str) -> Result<ImageInfo> {
        self.image(reference)
            .await?
            .ok_or_else(|| anyhow!("the image `{reference}` vanished while it was being used"))
    }

    /// Makes sure the builder base is present according to the pull policy; returns it.
    pub async fn ensure_base(
        &self,
        reference: &str,
        policy: PullPolicy,
        sink: &dyn Sink,
    ) -> Result<ImageInfo> {
        let note = format!(
            "note: the builder base is `builder-base` in `[package.metadata.s2i]` (or \
             `[workspace.metadata.s2i]`), overridden by `--builder-base` or `{}`; its pull policy \
             is `pull-policy` (`if-not-present`, `always` or `never`)",
            crate::config::BUILDER_BASE_ENV
        );
        let local = self.image(reference).await?;
        let pull = match (policy, &local) {
            (PullPolicy::Always, _) => true,
            (PullPolicy::IfNotPresent, None) => true,
            (PullPolicy::IfNotPresent, Some(_)) | (PullPolicy::Never, Some(_)) => false,
            (PullPolicy::Never, None) => bail!(
                "the builder base image `{reference}` is not present and the pull policy is `never`\n\
                 note: pull it (`docker pull {reference}`), or allow pulling with \
                 `pull-policy = \"if-not-present\"`\n{note}"
            ),
        };
        if pull {
            sink.event(Event::status("Pulling", reference.to_string()));
            if let Err(e) = self.pull(reference, sink).await {
                bail!(
                    "failed to pull the builder base image `{reference}` (pull policy `{policy}`): {e:#}\n\
                     note: on a machine without access to that registry, make the image locally \
                     and point the builder base at it (this repository's `cargo xtask rust-base` \
                     makes `localhost/xtask-s2i/rust:trixie`)\n{note}"
                );
            }
        }
        self.image(reference).await?.ok_or_else(|| {
            anyhow!(
                "the builder base image `{reference}` is not present after pulling it \
                 (pull policy `{policy}`)\n{note}"
            )
        })
    }

    async fn pull(&self, reference: &str, sink: &dyn Sink) -> Result<()> {
        let (name, tag) = match reference.split_once('@') {
            Some(_) => (reference, None),
            None => match crate::names::split_tag(reference) {
                (name, Some(tag)) => (name, Some(tag)),
                (name, None) => (name, Some("latest")),
            },
        };
        let mut options = CreateImageOptionsBuilder::default().from_image(name);
        if let Some(tag) = tag {
            options = options.tag(tag);
        }
        let credentials = super::push::credentials(reference);
        let mut stream = self
            .docker
            .create_image(Some(options.build()), None, credentials);
        while let Some(item) = stream.next().await {
            let info = item?;
            if let (Some(status), None) = (info.status, info.progress_detail) {
                sink.event(Event::Log {
                    stage: "pull".into(),
                    line: status,
                });
            }
        }
        Ok(())
    }

    /// Builds an image with the classic builder from a context tar; returns its ID. The image is
    /// untagged (and remembered by the janitor until the caller tags it). On failure the error
    /// carries the tail of the output and the leftover intermediate image is removed.
    pub async fn build(
        &self,
        stage: &str,
        context: Vec<u8>,
        no_cache: bool,
        sink: &dyn Sink,
    ) -> Result<String, BuildError> {
        let options = BuildImageOptionsBuilder::default()
            .dockerfile("Dockerfile")
            .rm(true)
            .forcerm(true)
            .nocache(no_cache)
            .version(BuilderVersion::BuilderV1)
            .build();
        let mut stream = self.docker.build_image(
            options,
            None,
            Some(bollard::body_full(Bytes::from(context))),
        );
        let mut output = Output::new(stage);
        let mut id = None;
        let mut step: Option<String> = None;
        let mut failure = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(text) = info.stream.as_deref() {
                        for line in output.push(text.as_bytes(), sink) {
                            if let Some(step_id) = step_image(&line) {
                                if let Some(old) = step.replace(step_id.clone()) {
                                    self.janitor.forget_image(&old);
                                }
                                self.janitor.image(&step_id);
                            }
                        }
                    }
                    if let Some(aux) = info.aux.and_then(|a| a.id) {
                        id = Some(aux);
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        output.flush(sink);
        if let Some(step) = &step {
            self.janitor.forget_image(step);
        }
        let result = match (failure, id) {
            (None, Some(id)) => Ok(id),
            (Some(e), _) => Err(e.to_string()),
            (None, None) => Err("the engine did not report the ID of the built image".into()),
        };
        match result {
            Ok(id) => {
                self.janitor.image(&id);
                Ok(id)
            }
            Err(cause) => {
                // The last step that succeeded would be left as a dangling image.
                if let Some(step) = step {
                    self.remove_if_untagged(&step, None).await;
                }
                Err(BuildError {
                    cause,
                    tail: output.tail(),
                })
            }
        }
    }

    /// Creates a container and remembers it for removal.
    pub async fn create_container(&self, body: ContainerCreateBody) -> Result<String> {
        let image = body.image.clone().unwrap_or_default();
        let created = self
            .docker
            .create_container(None::<CreateContainerOptions>, body)
            .await
            .with_context(|| format!("failed to create a container from `{image}`"))?;
        self.janitor.container(&created.id);
        Ok(created.id)
    }

    /// Removes a container this run created.
    pub async fn remove_container(&self, id: &str) -> Result<()> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(())
            | Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => {
                self.janitor.forget_container(id);
                Ok(())
            }
            Err(e) => Err(e).with_context(|| format!("failed to remove the container `{id}`")),
        }
    }

    pub(super) async fn force_remove_container(&self, id: &str) {
        let _ = self.remove_container(id).await;
    }

    /// Commits a container as an untagged image (remembered by the janitor until tagged) with
    /// `config` and the single-line Dockerfile instructions `changes`, then removes the container.
    pub async fn commit(
        &self,
        container: &str,
        config: ContainerConfig,
        changes: &[String],
        comment: &str,
        what: &str,
    ) -> Result<String> {
        let mut options = CommitContainerOptionsBuilder::default()
            .container(container)
            .comment(comment)
            .pause(false);
        let changes = super::flavor::commit_changes(&self.flavor, &config, changes)
            .map_err(|why| anyhow!("cannot commit {what}: {why}"))?;
        if !changes.is_empty() {
            // One parameter per instruction on the wire: [`super::flavor::split_changes`].
            options = options.changes(&changes.join("\n"));
        }
        let id = self
            .docker
            .commit_container(options.build(), config)
            .await
            .with_context(|| format!("failed to commit {what}"))?
            .id;
        self.janitor.image(&id);
        self.remove_container(container).await?;
        Ok(id)
    }

    /// Imports a tar as a one-layer image (remembered by the janitor until tagged) with the
    /// single-line Dockerfile instructions `changes` applied (each sent as a parameter of its
    /// own: [`super::flavor`]).
    pub async fn import(
        &self,
        tar: Vec<u8>,
        changes: Vec<String>,
        message: String,
        what: &str,
    ) -> Result<String> {
        let options = CreateImageOptions {
            from_src: Some("-".into()),
            changes,
            message: Some(message),
            ..Default::default()
        };
        let mut stream =
            self.docker
                .create_image(Some(options), Some(bollard::body_full(tar.into())), None);
        let mut id = None;
        while let Some(item) = stream.next().await {
            let info = item.with_context(|| format!("failed to import {what}"))?;
            if let Some(status) = info.status.filter(|s| s.starts_with("sha256:")) {
                id = Some(status);
            }
        }
        let id =
            id.ok_or_else(|| anyhow!("the engine did not report the ID of the imported {what}"))?;
        self.janitor.image(&id);
        Ok(id)
    }

    /// Uploads a tar to `path` inside a container.
    pub async fn upload(
        &self,
        container: &str,
        path: &str,
        tar: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    ) -> Result<()> {
        let options = UploadToContainerOptionsBuilder::default()
            .path(path)
            .build();
        self.docker
            .upload_to_container(container, Some(options), bollard::body_try_stream(tar))
            .await
            .with_context(|| format!("failed to copy files to `{path}` in the container"))
    }

    /// The archive of `path` inside a container (a tar stream).
    pub fn download(
        &self,
        container: &str,
        path: &str,
    ) -> impl Stream<Item = Result<Bytes, DockerError>> + use<> {
        let options = DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        self.docker
            .download_from_container(container, Some(options))
    }

    /// Starts a created container and hands every chunk of its stdout to `stdout` (stderr, and
    /// stdout when `stdout` is `None`, goes to the log); returns the exit code.
    pub async fn run(
        &self,
        container: &str,
        output: &mut Output,
        mut stdout: Option<StdoutSink<'_>>,
        sink: &dyn Sink,
    ) -> Result<i64> {
        let options = AttachContainerOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .stream(true)
            .build();
        let mut attached = self
            .docker
            .attach_container(container, Some(options))
            .await
            .context("failed to attach to the container")?;
        self.docker
            .start_container(container, None)
            .await
            .context("failed to start the container")?;
        let mut err = Output::new(&output.stage);
        while let Some(chunk) = attached.output.next().await {
            match chunk.context("failed to read the container's output")? {
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    match stdout.as_mut() {
                        Some(f) => f(&message)?,
                        None => {
                            output.push(&message, sink);
                        }
                    }
                }
                LogOutput::StdErr { message } => {
                    for line in err.push(&message, sink) {
                        output.remember(line);
                    }
                }
                LogOutput::StdIn { .. } => {}
            }
        }
        for line in err.finish(sink) {
            output.remember(line);
        }
        output.flush(sink);
        let options = WaitContainerOptionsBuilder::default()
            .condition("not-running")
            .build();
        let mut wait = self.docker.wait_container(container, Some(options));
        let mut code = None;
        while let Some(item) = wait.next().await {
            match item {
                Ok(r) => code = Some(r.status_code),
                Err(DockerError::DockerContainerWaitError { code: c, .. }) => code = Some(c),
                Err(e) => return Err(e).context("failed to wait for the container"),
            }
        }
        code.ok_or_else(|| anyhow!("the engine did not report the container's exit code"))
    }

    /// Tags `id` as `name:tag`.
    pub async fn tag(&self, id: &str, name: &str, tag: &str) -> Result<()> {
        let options = TagImageOptionsBuilder::default()
            .repo(name)
            .tag(tag)
            .build();
        self.docker
            .tag_image(id, Some(options))
            .await
            .with_context(|| format!("failed to tag `{id}` as `{name}:{tag}`"))
    }

    /// Removes an image when nothing references it (no tag, no digest), and, with `package`,
    /// only when it carries this tool's label for that package. Errors (an image in use, a child
    /// image) are ignored: this only keeps dangling images from piling up.
    pub async fn remove_if_untagged(&self, id: &str, package: Option<&str>) {
        let Ok(Some(info)) = self.image(id).await else {
            return;
        };
        if info.references > 0 {
            return;
        }
        if let Some(package) = package
            && info.label(crate::plan::TOOL_LABEL) != Some(package)
        {
            return;
        }
        let options = RemoveImageOptionsBuilder::default()
            .force(false)
            .noprune(false)
            .build();
        let _ = self.docker.remove_image(id, Some(options), None).await;
    }
}

/// Where a container's stdout goes when it is data (a tar stream), not output to show.
pub type StdoutSink<'a> = &'a mut dyn FnMut(&[u8]) -> Result<()>;

/// A failed image build: the engine's message and the last lines of output.
#[derive(Debug)]
pub struct BuildError {
    pub cause: String,
    pub tail: String,
}

/// The last line of every error about an unreachable engine.
const NO_BUILD: &str = "note: `cargo xtask image --no-build` renders the builder context and \
    writes the manifests without an engine";

/// Connects to one host: negotiates the API version and asks which engine it is.
async fn reach(c: &Candidate) -> Result<(Docker, Flavor), String> {
    if let Some(path) = host::socket_path(&c.host)
        && !path.exists()
    {
        return Err("no such socket".into());
    }
    let docker = Docker::connect_with_host(&c.host).map_err(|e| e.to_string())?;
    let answer = async {
        let docker = docker.negotiate_version().await?;
        let version = docker.version().await?;
        Ok::<_, DockerError>((docker, version))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, answer).await {
        Ok(Ok((docker, version))) => {
            let flavor = Flavor::from_version(&version);
            let engine = flavor.engine;
            let docker = docker
                .with_timeout(REQUEST_TIMEOUT)
                .with_request_modifier(move |r| super::flavor::modify(engine, r));
            Ok((docker, flavor))
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "no answer within {} seconds",
            CONNECT_TIMEOUT.as_secs()
        )),
    }
}

/// ` ---> 3f2a9c1b0d4e`: the image a classic-builder step produced.
fn step_image(line: &str) -> Option<String> {
    let id = line.trim().strip_prefix("---> ")?.trim();
    (id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit())).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_images_are_recognized() {
        assert_eq!(
            step_image(" ---> 3f2a9c1b0d4e"),
            Some("3f2a9c1b0d4e".to_string())
        );
        assert_eq!(step_image(" ---> Running in 3f2a9c1b0d4e"), None);
        assert_eq!(step_image(" ---> Using cache"), None);
    }
}
