//! The S2I build step of the one executor ([`crate::engine::step`]), for both front-ends: the
//! local chain's app stage (from the Plan) and the rehearsal (from a committed Source-strategy
//! BuildConfig) describe an [`S2iBuild`] and a [`Runner`] carries it out, so environment
//! precedence, the assemble user, the `ENTRYPOINT` replacement, the upload, incremental
//! artifacts and the commit (`CMD` the `run` script, the builder's `USER`, labels) exist in one
//! place. A later runner (a kept builder container with `target/` on a volume)
//! takes the same [`S2iBuild`].
//!
//! As upstream `s2i build` (v1.3.8) and OpenShift's build pods: `assemble` runs as the builder's
//! `io.openshift.s2i.assemble-user`, else its `USER` (openshift/builder runs the build pod
//! privileged with the builder image's user); the environment is the source's
//! `.s2i/environment` with the BuildConfig's `env` winning.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};
use bytes::Bytes;

use super::{Contract, Overrides};
use crate::engine::archive;
use crate::engine::client::{ContainerSpec, ImageConfig, ImageInfo, Output};
use crate::engine::step::{ContainerRun, Prepared, Runner};
use crate::sink::{Event, human_size};

/// Writes the source tar (entries relative to the source root) owned by `uid`:`gid`.
pub(crate) type WriteSource<'s> =
    Arc<dyn Fn(&mut dyn Write, u64, u64) -> Result<()> + Send + Sync + 's>;

/// One S2I build: what `s2i build` and a Source-strategy BuildConfig take.
pub(crate) struct S2iBuild<'s> {
    /// The builder image and the contract read from it.
    pub builder: ImageInfo,
    pub contract: Contract,
    /// The source's `.s2i/bin` scripts and `.s2i/environment`.
    pub overrides: Overrides,
    /// The BuildConfig's `sourceStrategy.env`: wins over `.s2i/environment`.
    pub env: BTreeMap<String, String>,
    pub source: WriteSource<'s>,
    /// The previous build's `save-artifacts` stream (an incremental build), if any.
    pub artifacts: Option<std::fs::File>,
    /// Every label of the committed image.
    pub labels: BTreeMap<String, String>,
    /// The name of the step in the output.
    pub log: String,
    /// The committed image's comment, and how errors name it.
    pub comment: String,
    pub what: String,
}

/// What a build gave: the image, or the exit code and the output of a failed `assemble` (its
/// container is removed).
pub(crate) enum Built {
    Image(String),
    Failed { code: i64, output: Output },
}

impl<'s> Runner<'_, 's, '_> {
    /// Runs `assemble` over the upload and commits the container.
    pub async fn s2i(&self, mut build: S2iBuild<'s>) -> Result<Built> {
        let mut artifacts = build.artifacts.take();
        let contract = &build.contract;
        let run = ContainerRun {
            log: build.log.clone(),
            spec: ContainerSpec {
                image: build.builder.id.clone(),
                user: Some(contract.assemble_user.clone()),
                env: Some(build.overrides.container_env(&build.env)),
                entrypoint: contract.script_entrypoint(),
                cmd: Some(contract.assemble_command(&build.overrides)),
                ..Default::default()
            },
            keep: true,
            ..Default::default()
        };
        let ran = self
            .run(run, async |c| {
                self.upload_or_again(c, &build, &mut artifacts).await
            })
            .await?;
        let Some(container) = ran.kept else {
            let (code, output) = (ran.code, ran.output);
            return Ok(Built::Failed { code, output });
        };
        for w in ran.output.warnings() {
            self.sink.event(Event::warning(format!("assemble: {w}")));
        }
        let (contract, overrides) = (&build.contract, &build.overrides);
        // As upstream: the builder's user and entrypoint (the container ran with `env`).
        let commit = ImageConfig {
            cmd: Some(vec![contract.script("run", overrides)]),
            user: Some(contract.image_user.clone()),
            entrypoint: (!contract.entrypoint.is_empty()).then(|| contract.entrypoint.clone()),
            labels: Some(build.labels.clone().into_iter().collect()),
            ..Default::default()
        };
        let id = self
            .docker
            .commit(&container, commit, &[], &build.comment, &build.what)
            .await?;
        Ok(Built::Image(id))
    }

    /// Uploads into the created `assemble` container; a failure with the artifacts asks for a
    /// new container to start over without them.
    async fn upload_or_again(
        &self,
        container: &str,
        build: &S2iBuild<'s>,
        artifacts: &mut Option<std::fs::File>,
    ) -> Result<Prepared> {
        let file = artifacts.take();
        let with_artifacts = file.is_some();
        match self.upload(container, build, file).await {
            Ok(()) => Ok(Prepared::Ready),
            Err(e) if with_artifacts => {
                self.sink.event(Event::warning(format!(
                    "could not hand the previous build's artifacts to `assemble` ({e:#}); \
                     building from scratch"
                )));
                Ok(Prepared::Again)
            }
            Err(e) => Err(e),
        }
    }

    /// Streams the one S2I tar (`src/`, the overrides, and `artifacts/` from `file`) into the
    /// builder's destination in `container`.
    async fn upload(
        &self,
        container: &str,
        build: &S2iBuild<'s>,
        mut file: Option<std::fs::File>,
    ) -> Result<()> {
        let destination = &build.contract.destination;
        let (uid, gid) = (build.contract.uid, build.contract.gid);
        let overrides = build.overrides.clone();
        let source = build.source.clone();
        let (body, written) = archive::stream_from_writer(self.scope, move |out| {
            let artifacts = file.as_mut().map(|f| f as &mut dyn std::io::Read);
            super::write_upload(
                out,
                &overrides,
                uid,
                gid,
                |w| source(w, uid, gid),
                artifacts,
            )
        });
        let uploaded = self.docker.upload(container, destination, body).await;
        let written = written
            .await
            .unwrap_or_else(|_| Err(anyhow!("the writer stopped")));
        written
            .context("failed to write the source tar")
            .and_then(|()| {
                uploaded.with_context(|| {
                    format!(
                        "failed to copy the source to `{destination}` (the builder's \
                         `io.openshift.s2i.destination`)"
                    )
                })
            })
    }

    /// Runs `save-artifacts` of `image` (or the source's override) as upstream does, with the
    /// image's user, into `file`; returns it, or `None` when the stream is empty.
    pub async fn save_artifacts(
        &self,
        image: &ImageInfo,
        reference: &str,
        overrides: &Overrides,
        mut file: std::fs::File,
    ) -> Result<Option<std::fs::File>> {
        let contract = Contract::read(self.docker, image, reference).await?;
        let mut size = 0u64;
        let mut write = |chunk: &[u8]| -> Result<()> {
            size += chunk.len() as u64;
            file.write_all(chunk)
                .context("failed to write the artifacts to a file")
        };
        let run = ContainerRun {
            log: "save-artifacts".into(),
            spec: ContainerSpec {
                image: image.id.clone(),
                entrypoint: contract.script_entrypoint(),
                cmd: Some(vec![contract.script("save-artifacts", overrides)]),
                ..Default::default()
            },
            stdout: Some(&mut write),
            keep: false,
        };
        let ran = self
            .run(run, async |c| {
                self.upload_save_artifacts(c, &contract, overrides).await
            })
            .await?;
        if ran.code != 0 {
            bail!("it exited with code {}:\n{}", ran.code, ran.output.tail());
        }
        let entries = archive::validate(&mut file).map_err(|e| {
            anyhow!(
                "its output ({}) is not a valid tar stream: {e}",
                human_size(size)
            )
        })?;
        if entries == 0 {
            return Ok(None);
        }
        self.sink.event(Event::Log {
            stage: "save-artifacts".into(),
            line: format!("{entries} entries, {}", human_size(size)),
        });
        Ok(Some(file))
    }

    /// Uploads the source's `save-artifacts` override, if any, into the created container.
    async fn upload_save_artifacts(
        &self,
        container: &str,
        contract: &Contract,
        overrides: &Overrides,
    ) -> Result<Prepared> {
        if let Some(script) = overrides.scripts.get("save-artifacts") {
            let tar = archive::items_tar([
                archive::Item {
                    path: "scripts",
                    contents: None,
                    mode: 0o777,
                },
                archive::Item {
                    path: "scripts/save-artifacts",
                    contents: Some(script),
                    mode: 0o755,
                },
            ])?;
            let body = futures_util::stream::once(async move { Ok(Bytes::from(tar)) });
            self.docker
                .upload(container, &contract.destination, body)
                .await?;
        }
        Ok(Prepared::Ready)
    }
}
