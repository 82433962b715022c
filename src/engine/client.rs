//! The Docker Engine connection and the few operations the stages are made of: inspect, pull,
//! build, create/attach/start/wait/remove a container, upload and download archives, tag.
//!
//! It connects the way the Docker CLI does (`DOCKER_HOST`, else the current Docker context, else
//! the default socket) and negotiates the API version. A [`Janitor`] remembers every container
//! and unfinished image a run creates so that they can be removed however the run ends.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerConfig, ContainerCreateBody};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, BuildImageOptionsBuilder, BuilderVersion,
    CommitContainerOptionsBuilder, CreateContainerOptions, CreateImageOptionsBuilder,
    DownloadFromContainerOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
    TagImageOptionsBuilder, UploadToContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::config::PullPolicy;
use crate::sink::{Event, Sink};

/// Where the Docker CLI's default engine listens.
const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// How long the engine may take to answer the first request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Requests such as a commit of a large container may take long; builds stream.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);
/// How many lines of output an error shows.
pub const TAIL_LINES: usize = 40;

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

/// Things a run created and must remove however it ends.
#[derive(Debug, Default)]
pub struct Janitor {
    containers: Mutex<Vec<String>>,
    /// Images that are removed at the end if nothing tagged them (unfinished builds).
    images: Mutex<Vec<String>>,
    /// Images a tag of this tool moved away from, with their package: removed at the end when
    /// nothing else references them, whether the run succeeded or not.
    replaced: Mutex<Vec<(String, String)>>,
}

impl Janitor {
    pub fn container(&self, id: &str) {
        if let Ok(mut c) = self.containers.lock() {
            c.push(id.to_string());
        }
    }

    fn forget_container(&self, id: &str) {
        if let Ok(mut c) = self.containers.lock() {
            c.retain(|c| c != id);
        }
    }

    pub fn image(&self, id: &str) {
        if let Ok(mut i) = self.images.lock() {
            i.push(id.to_string());
        }
    }

    pub fn forget_image(&self, id: &str) {
        if let Ok(mut i) = self.images.lock() {
            i.retain(|i| i != id);
        }
    }

    /// Notes that a tag of `package` moved away from the image `id`.
    pub fn replaced(&self, id: &str, package: &str) {
        if let Ok(mut r) = self.replaced.lock() {
            r.push((id.to_string(), package.to_string()));
        }
    }

    /// Removes every remembered container (force), every remembered image nothing tags, and the
    /// replaced images nothing references (children first: an app image is a child of its
    /// builder image).
    pub async fn clean(&self, docker: &Client) {
        let containers = self
            .containers
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default();
        for id in containers.iter().rev() {
            docker.force_remove_container(id).await;
        }
        let images = self
            .images
            .lock()
            .map(|mut i| std::mem::take(&mut *i))
            .unwrap_or_default();
        for id in images.iter().rev() {
            docker.remove_if_untagged(id, None).await;
        }
        let replaced = self
            .replaced
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default();
        for (id, package) in replaced.iter().rev() {
            docker.remove_if_untagged(id, Some(package)).await;
        }
    }
}

/// A connected, version-negotiated Docker client.
pub struct Client {
    docker: Docker,
    janitor: Janitor,
}

impl Client {
    /// Connects like the Docker CLI and negotiates the API version; fails within a few seconds
    /// when nothing answers.
    pub async fn connect(sink: &dyn Sink) -> Result<Client> {
        let (host, origin) = docker_host();
        let help = |cause: String| {
            anyhow!(
                "cannot reach the Docker engine at `{host}` ({origin}): {cause}\n\
                 note: start Docker (e.g. `sudo systemctl start docker` or `sudo dockerd &`), or set \
                 `DOCKER_HOST` to an engine that runs (e.g. `unix:///run/user/1000/docker.sock` or \
                 `tcp://127.0.0.1:2375`)\n\
                 note: `cargo xtask image --no-build` renders the builder context and writes the \
                 manifests without Docker"
            )
        };
        let docker = Docker::connect_with_host(&host).map_err(|e| help(e.to_string()))?;
        let docker = match tokio::time::timeout(CONNECT_TIMEOUT, docker.negotiate_version()).await {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => return Err(help(e.to_string())),
            Err(_) => {
                return Err(help(format!(
                    "no answer within {} seconds",
                    CONNECT_TIMEOUT.as_secs()
                )));
            }
        };
        let docker = docker.with_timeout(REQUEST_TIMEOUT);
        let version = docker.client_version();
        sink.event(Event::status(
            "Connected",
            format!(
                "to the Docker engine at {host} (API {}.{})",
                version.major_version, version.minor_version
            ),
        ));
        Ok(Client {
            docker,
            janitor: Janitor::default(),
        })
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
                Ok(Some(ImageInfo {
                    id: i.id.unwrap_or_default(),
                    size: i.size.unwrap_or(0).max(0) as u64,
                    labels: config.labels.unwrap_or_default(),
                    env: config.env.unwrap_or_default(),
                    entrypoint: config.entrypoint.unwrap_or_default(),
                    shell: config.shell.unwrap_or_default(),
                    on_build: config.on_build.unwrap_or_default(),
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

    async fn force_remove_container(&self, id: &str) {
        let _ = self.remove_container(id).await;
    }

    /// Commits a container as an untagged image (remembered by the janitor until tagged) with
    /// `config` and the Dockerfile instructions `changes`, then removes the container.
    pub async fn commit(
        &self,
        container: &str,
        config: ContainerConfig,
        changes: Option<&str>,
        comment: &str,
        what: &str,
    ) -> Result<String> {
        let mut options = CommitContainerOptionsBuilder::default()
            .container(container)
            .comment(comment)
            .pause(false);
        if let Some(changes) = changes {
            options = options.changes(changes);
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

/// ` ---> 3f2a9c1b0d4e`: the image a classic-builder step produced.
fn step_image(line: &str) -> Option<String> {
    let id = line.trim().strip_prefix("---> ")?.trim();
    (id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit())).then(|| id.to_string())
}

/// Splits a byte stream into lines, reports each to the sink, and keeps the last ones.
pub struct Output {
    pub stage: String,
    partial: Vec<u8>,
    tail: VecDeque<String>,
}

impl Output {
    pub fn new(stage: &str) -> Output {
        Output {
            stage: stage.to_string(),
            partial: Vec::new(),
            tail: VecDeque::new(),
        }
    }

    /// Feeds bytes; returns the complete lines they finished.
    pub fn push(&mut self, bytes: &[u8], sink: &dyn Sink) -> Vec<String> {
        self.partial.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(pos) = self.partial.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = self.partial.drain(..=pos).collect();
            let line = clean_line(&raw);
            sink.event(Event::Log {
                stage: self.stage.clone(),
                line: line.clone(),
            });
            self.remember(line.clone());
            lines.push(line);
        }
        lines
    }

    /// Reports an unterminated last line.
    pub fn flush(&mut self, sink: &dyn Sink) {
        self.finish(sink);
    }

    fn finish(&mut self, sink: &dyn Sink) -> Vec<String> {
        if self.partial.is_empty() {
            return Vec::new();
        }
        self.partial.push(b'\n');
        let bytes = std::mem::take(&mut self.partial);
        self.push(&bytes, sink)
    }

    fn remember(&mut self, line: String) {
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line);
    }

    /// The last lines, indented, for an error message.
    pub fn tail(&self) -> String {
        let mut s = String::new();
        for line in &self.tail {
            s.push_str("    ");
            s.push_str(line);
            s.push('\n');
        }
        s
    }

    /// Whether any remembered line contains `needle`.
    #[cfg(test)]
    pub fn contains(&self, needle: &str) -> bool {
        self.tail.iter().any(|l| l.contains(needle))
    }
}

/// A line without its terminator, carriage-return progress collapsed, control characters other
/// than tabs and ANSI colours dropped.
fn clean_line(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end_matches(['\n', '\r']);
    let text = text.rsplit('\r').next().unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // Skip a CSI sequence: ESC [ ... final byte in @..~
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        if c == '\t' || !c.is_control() {
            out.push(c);
        }
    }
    out
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

/// Where the engine is, as the Docker CLI decides: `DOCKER_HOST`, else the endpoint of the
/// context named by `DOCKER_CONTEXT` or the config's `currentContext`, else the default socket.
/// Returns the host and where it came from.
fn docker_host() -> (String, String) {
    if let Ok(host) = std::env::var("DOCKER_HOST")
        && !host.is_empty()
    {
        return (host, "from `DOCKER_HOST`".into());
    }
    let dir = docker_config_dir();
    let context = std::env::var("DOCKER_CONTEXT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            let config = std::fs::read(dir.as_ref()?.join("config.json")).ok()?;
            let config: serde_json::Value = serde_json::from_slice(&config).ok()?;
            config["currentContext"].as_str().map(str::to_string)
        });
    if let (Some(context), Some(dir)) = (context.filter(|c| c != "default"), dir) {
        use sha2::Digest;
        let key = crate::plan::hex(&sha2::Sha256::digest(context.as_bytes()));
        let meta = dir.join("contexts/meta").join(key).join("meta.json");
        if let Some(host) = std::fs::read(&meta)
            .ok()
            .and_then(|m| serde_json::from_slice::<serde_json::Value>(&m).ok())
            .and_then(|m| {
                m["Endpoints"]["docker"]["Host"]
                    .as_str()
                    .map(str::to_string)
            })
        {
            return (host, format!("from the Docker context `{context}`"));
        }
    }
    (
        DEFAULT_HOST.to_string(),
        "the default; `DOCKER_HOST` is not set".into(),
    )
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

    #[test]
    fn lines_are_split_and_cleaned() {
        let sink = crate::sink::Buffer::new();
        let mut out = Output::new("app");
        assert!(out.push(b"Compiling a", &sink).is_empty());
        let lines = out.push(
            b"\x1b[1;32m ok\x1b[0m\r\nprogress 1\rprogress 2\nlast",
            &sink,
        );
        assert_eq!(lines, ["Compiling a ok", "progress 2"]);
        out.flush(&sink);
        assert_eq!(out.tail(), "    Compiling a ok\n    progress 2\n    last\n");
        assert_eq!(sink.events().len(), 3);
    }

    #[test]
    fn the_tail_is_bounded() {
        let sink = crate::sink::Buffer::new();
        let mut out = Output::new("app");
        for i in 0..100 {
            out.push(format!("line {i}\n").as_bytes(), &sink);
        }
        assert_eq!(out.tail().lines().count(), TAIL_LINES);
        assert!(out.contains("line 99") && !out.contains("line 59"));
    }
}
