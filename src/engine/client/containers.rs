//! The container calls: create (and remember for removal), upload and download archives, run
//! (attach, start, wait), start, inspect, read the logs, remove.

use std::collections::HashMap;

use anyhow::{Result, anyhow};
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptions, DownloadFromContainerOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, UploadToContainerOptionsBuilder,
    WaitContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::{Client, Error, Output};
use crate::sink::Sink;

/// Where a container's stdout goes when it is data (a tar stream), not output to show.
pub type StdoutSink<'a> = &'a mut dyn FnMut(&[u8]) -> Result<()>;

/// A container to create. What is `None` is the image's.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    /// The image, by ID or reference.
    pub image: String,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    /// `KEY=value`.
    pub env: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub labels: HashMap<String, String>,
    /// Whether [`Client::run`] will read its stdout and stderr.
    pub attach: bool,
    /// Run it as OKD's `restricted-v2` runs pods: a read-only root filesystem, every capability
    /// dropped, no privilege escalation.
    pub restricted: bool,
    /// Directories mounted as a writable tmpfs (a pod's `emptyDir` volumes).
    pub tmpfs: Vec<String>,
}

/// What the rehearsal needs to know about a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    pub running: bool,
    pub exit_code: Option<i64>,
    /// Its IP address on the first network that gave it one.
    pub ip: Option<String>,
}

impl Client {
    /// Creates a container and remembers it for removal.
    pub async fn create_container(&self, spec: ContainerSpec) -> Result<String, Error> {
        let ContainerSpec {
            image,
            user,
            working_dir,
            env,
            entrypoint,
            cmd,
            labels,
            attach,
            restricted,
            tmpfs,
        } = spec;
        let body = ContainerCreateBody {
            image: Some(image.clone()),
            user,
            working_dir,
            env,
            entrypoint,
            cmd,
            labels: Some(labels),
            attach_stdout: attach.then_some(true),
            attach_stderr: attach.then_some(true),
            host_config: restricted.then(|| HostConfig {
                tmpfs: (!tmpfs.is_empty()).then(|| {
                    tmpfs
                        .iter()
                        .map(|d| (d.clone(), "rw,mode=1777".to_string()))
                        .collect()
                }),
                readonly_rootfs: Some(true),
                cap_drop: Some(vec!["ALL".into()]),
                security_opt: Some(vec!["no-new-privileges".into()]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(None::<CreateContainerOptions>, body)
            .await
            .map_err(|e| {
                Error::request(format!("failed to create a container from `{image}`"), e)
            })?;
        self.janitor.container(&created.id);
        Ok(created.id)
    }

    /// Removes a container this run created.
    pub async fn remove_container(&self, id: &str) -> Result<(), Error> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(())
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {
                self.janitor.forget_container(id);
                Ok(())
            }
            Err(e) => Err(Error::request(
                format!("failed to remove the container `{id}`"),
                e,
            )),
        }
    }

    pub(in crate::engine) async fn force_remove_container(&self, id: &str) {
        let _ = self.remove_container(id).await;
    }

    /// Uploads a tar to `path` inside a container.
    pub async fn upload(
        &self,
        container: &str,
        path: &str,
        tar: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    ) -> Result<(), Error> {
        let options = UploadToContainerOptionsBuilder::default()
            .path(path)
            .build();
        self.docker
            .upload_to_container(container, Some(options), bollard::body_try_stream(tar))
            .await
            .map_err(|e| {
                Error::request(
                    format!("failed to copy files to `{path}` in the container"),
                    e,
                )
            })
    }

    /// The archive of `path` inside a container (a tar); [`Error::is_not_found`] when there is
    /// no such path.
    pub async fn download(&self, container: &str, path: &str) -> Result<Vec<u8>, Error> {
        let options = DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let mut stream = self
            .docker
            .download_from_container(container, Some(options));
        let mut tar = Vec::new();
        while let Some(chunk) = stream.next().await {
            tar.extend_from_slice(&chunk?);
        }
        Ok(tar)
    }

    /// Starts a created container and hands every chunk of its stdout to `stdout` (stderr, and
    /// stdout when `stdout` is `None`, goes to the log); returns the exit code. The errors of
    /// `stdout` are returned as they are.
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
            .map_err(|e| Error::request("failed to attach to the container", e))?;
        self.docker
            .start_container(container, None)
            .await
            .map_err(|e| Error::request("failed to start the container", e))?;
        let mut err = Output::new(&output.stage);
        while let Some(chunk) = attached.output.next().await {
            match chunk.map_err(|e| Error::request("failed to read the container's output", e))? {
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
                Err(bollard::errors::Error::DockerContainerWaitError { code: c, .. }) => {
                    code = Some(c)
                }
                Err(e) => return Err(Error::request("failed to wait for the container", e).into()),
            }
        }
        code.ok_or_else(|| anyhow!("the engine did not report the container's exit code"))
    }

    /// Starts a created container (which nothing attaches to).
    pub async fn start(&self, container: &str) -> Result<(), Error> {
        Ok(self.docker.start_container(container, None).await?)
    }

    /// The state of a container.
    pub async fn container(&self, container: &str) -> Result<ContainerInfo, Error> {
        let info = self.docker.inspect_container(container, None).await?;
        let state = info.state.unwrap_or_default();
        let ip = info
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|n| {
                n.into_values()
                    .find_map(|e| e.ip_address.filter(|ip| !ip.is_empty()))
            });
        Ok(ContainerInfo {
            running: state.running.unwrap_or(false),
            exit_code: state.exit_code,
            ip,
        })
    }

    /// Feeds the last `lines` lines of a container's stdout and stderr to `output`, until they
    /// end or cannot be read.
    pub async fn logs(&self, container: &str, lines: usize, output: &mut Output, sink: &dyn Sink) {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.docker.logs(container, Some(options));
        while let Some(Ok(chunk)) = stream.next().await {
            output.push(&chunk.into_bytes(), sink);
        }
    }
}
