//! The image calls: inspect, make sure the builder base is present (pull), build with the
//! classic builder, commit a container, import a tar, tag, push and remove.

use std::collections::HashMap;

use anyhow::Result;
use bollard::auth::DockerCredentials;
use bollard::models::{BuildInfo, ContainerConfig};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, CommitContainerOptionsBuilder, CreateImageOptions,
    CreateImageOptionsBuilder, PushImageOptionsBuilder, RemoveImageOptionsBuilder,
    TagImageOptionsBuilder,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::{Client, Error, Output};
use crate::config::PullPolicy;
use crate::engine::push::Credentials;
use crate::sink::{Event, Sink};

/// What a build reported: the built image's ID, the last step's image, the engine's error.
type Built = (
    Option<String>,
    Option<String>,
    Option<bollard::errors::Error>,
);

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

/// The configuration a commit gives the image (what is `None` is left as the container has it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    /// `KEY=value`.
    pub env: Option<Vec<String>>,
    pub labels: Option<HashMap<String, String>>,
}

/// A line a push reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushProgress {
    pub status: Option<String>,
    /// Whether it is a progress bar update rather than a status line.
    pub is_progress: bool,
}

impl Client {
    /// The image `reference`, or `None` when the engine does not have it.
    pub async fn image(&self, reference: &str) -> Result<Option<ImageInfo>, Error> {
        match self.docker.inspect_image(reference).await {
            Ok(i) => {
                let config = Option::unwrap_or_default(i.config);
                let mut on_build = config.on_build.unwrap_or_default();
                if on_build.is_empty() && self.flavor.hides_on_build() {
                    let history = self.docker.image_history(reference).await.map_err(|e| {
                        Error::request(format!("failed to read the history of `{reference}`"), e)
                    })?;
                    on_build = crate::engine::flavor::on_build_in_history(
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
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(Error::request(
                format!("failed to inspect the image `{reference}`"),
                e,
            )),
        }
    }

    /// The image `reference`, which must exist.
    pub async fn existing_image(&self, reference: &str) -> Result<ImageInfo, Error> {
        self.image(reference).await?.ok_or_else(|| {
            Error::msg(format!(
                "the image `{reference}` vanished while it was being used"
            ))
        })
    }

    /// The `USER` of the image `id` (`None` when it sets none).
    pub async fn image_user(&self, id: &str) -> Result<Option<String>, Error> {
        let inspect = self.docker.inspect_image(id).await?;
        Ok(Option::and_then(inspect.config, |c| c.user))
    }

    /// Makes sure the builder base is present according to the pull policy; returns it.
    pub async fn ensure_base(
        &self,
        reference: &str,
        policy: PullPolicy,
        sink: &dyn Sink,
    ) -> Result<ImageInfo> {
        let note = format!(
            "the builder base is `builder-base` in `[package.metadata.s2i]` (or \
             `[workspace.metadata.s2i]`), overridden by `--builder-base` or `{}`; its pull policy \
             is `pull-policy` (`if-not-present`, `always` or `never`)",
            crate::config::BUILDER_BASE_ENV
        );
        let local = self.image(reference).await?;
        let pull = match (policy, &local) {
            (PullPolicy::Always, _) => true,
            (PullPolicy::IfNotPresent, None) => true,
            (PullPolicy::IfNotPresent, Some(_)) | (PullPolicy::Never, Some(_)) => false,
            (PullPolicy::Never, None) => {
                return Err(Error::new(format!(
                    "the builder base image `{reference}` is not present and the pull policy is \
                     `never`"
                ))
                .note(format!(
                    "pull it (`docker pull {reference}`), or allow pulling with \
                     `pull-policy = \"if-not-present\"`"
                ))
                .note(note)
                .into());
            }
        };
        if pull {
            sink.event(Event::status("Pulling", reference.to_string()));
            if let Err(e) = self.pull(reference, sink).await {
                let e = anyhow::Error::new(e);
                return Err(Error::new(format!(
                    "failed to pull the builder base image `{reference}` (pull policy \
                     `{policy}`): {e:#}"
                ))
                .note(
                    "on a machine without access to that registry, pull or build a Rust base \
                     image some other way (e.g. `docker load` one saved elsewhere) and point the \
                     builder base at it (`--builder-base` or `builder-base`)",
                )
                .note(note)
                .caused_by(e)
                .into());
            }
        }
        match self.image(reference).await? {
            Some(info) => Ok(info),
            None => Err(Error::new(format!(
                "the builder base image `{reference}` is not present after pulling it \
                 (pull policy `{policy}`)"
            ))
            .note(note)
            .into()),
        }
    }

    async fn pull(&self, reference: &str, sink: &dyn Sink) -> Result<(), Error> {
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
        let credentials = crate::engine::push::credentials(reference).map(docker_credentials);
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
    /// carries the tail of the output ([`Error::tail`]) and the leftover intermediate image is
    /// removed.
    pub async fn build(
        &self,
        stage: &str,
        context: Vec<u8>,
        no_cache: bool,
        sink: &dyn Sink,
    ) -> Result<String, Error> {
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
        let (id, step, failure) = self.follow_build(&mut stream, &mut output, sink).await;
        let result = match (failure, id) {
            (None, Some(id)) => Ok(id),
            (Some(e), _) => Err(Error::engine(e)),
            (None, None) => Err(Error::msg(
                "the engine did not report the ID of the built image",
            )),
        };
        match result {
            Ok(id) => {
                self.janitor.image(&id);
                Ok(id)
            }
            Err(e) => {
                // The last step that succeeded would be left as a dangling image.
                if let Some(step) = step {
                    self.remove_if_untagged(&step, None).await;
                }
                Err(e.with_tail(output.tail()))
            }
        }
    }

    /// Follows a build's progress: its output to `sink`, each step's image remembered by the
    /// janitor until the next one replaces it. Returns the built image's ID, the last step's
    /// image and the engine's error, each when there is one.
    async fn follow_build<S>(&self, stream: &mut S, output: &mut Output, sink: &dyn Sink) -> Built
    where
        S: Stream<Item = Result<BuildInfo, bollard::errors::Error>> + Unpin,
    {
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
        (id, step, failure)
    }

    /// Commits a container as an untagged image (remembered by the janitor until tagged) with
    /// `config` and the single-line Dockerfile instructions `changes`, then removes the container.
    pub async fn commit(
        &self,
        container: &str,
        config: ImageConfig,
        changes: &[String],
        comment: &str,
        what: &str,
    ) -> Result<String, Error> {
        let mut options = CommitContainerOptionsBuilder::default()
            .container(container)
            .comment(comment)
            .pause(false);
        let changes = crate::engine::flavor::commit_changes(&self.flavor, &config, changes)
            .map_err(|why| Error::msg(format!("cannot commit {what}: {why}")))?;
        if !changes.is_empty() {
            // One parameter per instruction on the wire: [`crate::engine::flavor::split_changes`].
            options = options.changes(&changes.join("\n"));
        }
        let ImageConfig {
            cmd,
            entrypoint,
            user,
            working_dir,
            env,
            labels,
        } = config;
        let config = ContainerConfig {
            cmd,
            entrypoint,
            user,
            working_dir,
            env,
            labels,
            ..Default::default()
        };
        let id = self
            .docker
            .commit_container(options.build(), config)
            .await
            .map_err(|e| Error::request(format!("failed to commit {what}"), e))?
            .id;
        self.janitor.image(&id);
        self.remove_container(container).await?;
        Ok(id)
    }

    /// Imports a tar as a one-layer image (remembered by the janitor until tagged) with the
    /// single-line Dockerfile instructions `changes` applied (each sent as a parameter of its
    /// own: [`crate::engine::flavor`]).
    pub async fn import(
        &self,
        tar: Vec<u8>,
        changes: Vec<String>,
        message: String,
        what: &str,
    ) -> Result<String, Error> {
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
            let info = item.map_err(|e| Error::request(format!("failed to import {what}"), e))?;
            if let Some(status) = info.status.filter(|s| s.starts_with("sha256:")) {
                id = Some(status);
            }
        }
        let id = id.ok_or_else(|| {
            Error::msg(format!(
                "the engine did not report the ID of the imported {what}"
            ))
        })?;
        self.janitor.image(&id);
        Ok(id)
    }

    /// Tags `id` as `name:tag`.
    pub async fn tag(&self, id: &str, name: &str, tag: &str) -> Result<(), Error> {
        let options = TagImageOptionsBuilder::default()
            .repo(name)
            .tag(tag)
            .build();
        self.docker
            .tag_image(id, Some(options))
            .await
            .map_err(|e| Error::request(format!("failed to tag `{id}` as `{name}:{tag}`"), e))
    }

    /// Pushes `name:tag` with `credentials`: the lines the engine reports, in order.
    pub fn push_image(
        &self,
        name: &str,
        tag: &str,
        credentials: Option<Credentials>,
    ) -> impl Stream<Item = Result<PushProgress, Error>> + use<> {
        let options = PushImageOptionsBuilder::default().tag(tag).build();
        self.docker
            .push_image(name, Some(options), credentials.map(docker_credentials))
            .map(|item| {
                item.map(|info| PushProgress {
                    status: info.status,
                    is_progress: info.progress_detail.is_some(),
                })
                .map_err(Error::engine)
            })
    }

    /// Removes the image (or the tag) `reference`, unless something still uses it (no force, and
    /// its untagged parents are pruned).
    pub async fn remove_image(&self, reference: &str) -> Result<(), Error> {
        let options = RemoveImageOptionsBuilder::default()
            .force(false)
            .noprune(false)
            .build();
        self.docker
            .remove_image(reference, Some(options), None)
            .await
            .map(|_| ())
            .map_err(Error::engine)
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
        let _ = self.remove_image(id).await;
    }
}

/// Registry credentials as bollard sends them.
fn docker_credentials(c: Credentials) -> DockerCredentials {
    let Credentials {
        username,
        password,
        identitytoken,
        serveraddress,
    } = c;
    DockerCredentials {
        username,
        password,
        identitytoken,
        serveraddress,
        ..Default::default()
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
