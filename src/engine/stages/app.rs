//! The app stage: the S2I step, carried out as upstream `s2i build` does it (see [`s2i`]).
//!
//! A container from the builder image, as its assemble user, with the source's
//! `.s2i/environment` and the app BuildConfig's env ([`crate::plan::Plan::build_env`], which
//! wins), gets one tar in the builder's destination —
//! `src/`, the previous app image's `save-artifacts` output as `artifacts/`, the source's
//! `.s2i/bin` overrides as `scripts/` — runs `assemble` (the entrypoint replaced when the builder
//! has one), and is committed as the builder's user with `CMD` the `run` script and the
//! `io.openshift.s2i.build.*` labels. Digest over the builder image's ID, the source closure's
//! digest, the contract, the overrides and the build settings.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::time::Instant;

use anyhow::{Context as _, Result, anyhow, bail};
use bytes::Bytes;

use super::{Chain, Done, ENGINE_VERSION, digest, short, tool_label, with_tail};
use crate::Error;
use crate::engine::client::{ContainerSpec, ImageConfig, ImageInfo, Output};
use crate::engine::{archive, s2i};
use crate::plan::{DIGEST_LABEL, Stage, TOOL_LABEL};
use crate::sink::{Event, human_size};

/// The `io.openshift.s2i.build.*` labels upstream sets on the image it builds.
const S2I_BUILD: &str = "io.openshift.s2i.build.";
/// Set (to `true`) when the uploaded tree differs from the commit the labels name.
pub const UNCOMMITTED_LABEL: &str = "io.github.xtask-s2i.uncommitted-changes";

/// A git-derived free text (commit message, author) as a label value both engines commit alike:
/// its first line, with the characters Podman's commit `changes` cannot carry (quotes, backslashes,
/// `$`) replaced, so a commit message such as `fix "$HOME"` never fails a build on Podman.
fn label_safe(value: &str) -> String {
    value
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .replace('"', "'")
        .replace(['\\', '$'], "_")
}

impl Chain<'_, '_, '_> {
    /// The labels of the app image besides the digest: the plan's, then upstream's
    /// `io.openshift.s2i.build.*` from the source's git revision.
    fn app_labels(&self) -> BTreeMap<String, String> {
        let plan = self.plan;
        let mut labels = plan.image_labels().clone();
        let mut build = |key: &str, value: &str| {
            let value = label_safe(value);
            if !value.is_empty() {
                labels.insert(format!("{S2I_BUILD}{key}"), value);
            }
        };
        build("image", &plan.image(Stage::Builder).reference());
        build("source-location", &self.source.location());
        if let Ok(source) = plan.cluster_source()
            && source.context_dir != "."
        {
            build("source-context-dir", &source.context_dir);
        }
        if let Some(r) = self.source.revision() {
            if !r.author_name.is_empty() {
                build(
                    "commit.author",
                    &format!("{} <{}>", r.author_name, r.author_email),
                );
            }
            build("commit.date", &r.date);
            build("commit.id", &r.id);
            build("commit.ref", &r.reference);
            build("commit.message", &r.message);
            if r.dirty {
                labels.insert(UNCOMMITTED_LABEL.into(), "true".into());
            }
        }
        labels.insert(TOOL_LABEL.into(), plan.package().into());
        labels
    }

    pub(super) async fn app(&self, builder: &ImageInfo) -> Result<Done> {
        let started = Instant::now();
        let plan = self.plan;
        let builder_reference = plan.image(Stage::Builder).reference();
        let contract = s2i::Contract::read(self.docker, builder, &builder_reference).await?;
        // As s2i: `.s2i/bin` and `.s2i/environment` at the root of the source (the cluster's).
        let overrides = s2i::Overrides::read(&plan.cluster_source()?.root)?;
        let labels = self.app_labels();
        let digest = self.app_digest(builder, &contract, &overrides, &labels);
        if let Some(image) = self.fresh(Stage::App, &digest).await? {
            let report = self.report(Stage::App, &image, started, true);
            return Ok(Done { report, image });
        }
        self.log_overrides(&overrides);
        let container = self.run_assemble(builder, &contract, &overrides).await?;

        let mut labels: HashMap<String, String> = labels.into_iter().collect();
        labels.insert(DIGEST_LABEL.into(), digest);
        // As upstream: the builder's user and entrypoint (the container ran with `env`).
        let commit = ImageConfig {
            cmd: Some(vec![contract.script("run", &overrides)]),
            user: Some(contract.image_user.clone()),
            entrypoint: (!contract.entrypoint.is_empty()).then(|| contract.entrypoint.clone()),
            labels: Some(labels),
            ..Default::default()
        };
        let comment = format!(
            "{} assembled by xtask-s2i from {builder_reference}",
            plan.package(),
        );
        let what = format!("the app image `{}`", plan.image(Stage::App).reference());
        let id = self
            .docker
            .commit(&container, commit, &[], &comment, &what)
            .await?;
        let image = self.finish(&id, Stage::App).await?;
        let report = self.report(Stage::App, &image, started, false);
        Ok(Done { report, image })
    }

    /// The app stage's input digest: the builder, the source, the Plan's settings, then what
    /// only the engine knows (the builder's contract, the source's overrides, the labels).
    fn app_digest(
        &self,
        builder: &ImageInfo,
        contract: &s2i::Contract,
        overrides: &s2i::Overrides,
        labels: &BTreeMap<String, String>,
    ) -> String {
        // The uncommitted-changes marker is not an input: files outside the source (generated
        // manifests written by the previous run, `target/`) flip it without changing what is
        // built, and the source digest already covers every uploaded file.
        let mut input_labels = labels.clone();
        input_labels.remove(UNCOMMITTED_LABEL);
        // The Plan's settings, then what only the engine knows (one JSON object, keys sorted).
        let mut settings = self.plan.app_key();
        settings.insert("contract".into(), format!("{contract:?}").into());
        settings.insert("overrides".into(), overrides.describe());
        settings.insert("env".into(), serde_json::json!(self.plan.build_env()));
        settings.insert("labels".into(), serde_json::json!(input_labels));
        digest(&[
            "app",
            ENGINE_VERSION,
            &builder.id,
            self.source.digest(),
            &serde_json::Value::Object(settings).to_string(),
        ])
    }

    /// Says which of the source's `.s2i` overrides the build uses.
    fn log_overrides(&self, overrides: &s2i::Overrides) {
        for name in overrides.scripts.keys() {
            self.sink.event(Event::Log {
                stage: "app".into(),
                line: format!("using `.s2i/bin/{name}` of the source"),
            });
        }
        if !overrides.env.is_empty() {
            self.sink.event(Event::Log {
                stage: "app".into(),
                line: format!(
                    "using `.s2i/environment` of the source ({} variables)",
                    overrides.env.len()
                ),
            });
        }
    }

    /// Runs `assemble` (incrementally when the previous app image saves artifacts) and returns
    /// the finished container, to commit; a failure removes it and moves no tag.
    async fn run_assemble(
        &self,
        builder: &ImageInfo,
        contract: &s2i::Contract,
        overrides: &s2i::Overrides,
    ) -> Result<String> {
        let plan = self.plan;
        let reference = plan.image(Stage::App).reference();
        let previous = if self.opts.no_cache {
            None
        } else {
            self.docker.image(&reference).await?
        };
        let artifacts = match &previous {
            Some(previous) => self.save_artifacts(previous, overrides).await,
            None => None,
        };
        self.status(
            "Assembling",
            format!(
                "app {reference} ({}{})",
                plan.image(Stage::Builder).reference(),
                if artifacts.is_some() {
                    ", incremental"
                } else {
                    ""
                }
            ),
        );
        let container = self
            .assemble_container(builder, contract, overrides, artifacts)
            .await?;
        let mut output = Output::new("app");
        let code = self
            .docker
            .run(&container, &mut output, None, self.sink)
            .await?;
        if code != 0 {
            self.docker.remove_container(&container).await?;
            let message = format!(
                "`{}` failed with exit code {code} in the app stage of `{}`:",
                contract.script("assemble", overrides),
                plan.package(),
            );
            let mut error = Error::new(with_tail(message, &output.tail()));
            for note in super::super::sys_crates::notes(output.notable()) {
                error = error.note(note);
            }
            return Err(error
                .note(format!("no tag moved: `{reference}` is unchanged"))
                .note("`cargo xtask image -v` shows the whole output")
                .into());
        }
        for w in output.warnings() {
            self.sink.event(Event::warning(format!("assemble: {w}")));
        }
        Ok(container)
    }

    /// A created (not started) `assemble` container with the upload extracted into the
    /// destination. A failure with the artifacts starts over without them.
    async fn assemble_container(
        &self,
        builder: &ImageInfo,
        contract: &s2i::Contract,
        overrides: &s2i::Overrides,
        mut artifacts: Option<std::fs::File>,
    ) -> Result<String> {
        let plan = self.plan;
        loop {
            let container = self
                .docker
                .create_container(ContainerSpec {
                    image: builder.id.clone(),
                    user: Some(contract.assemble_user.clone()),
                    env: Some(overrides.container_env(&plan.build_env())),
                    entrypoint: contract.script_entrypoint(),
                    cmd: Some(contract.assemble_command(overrides)),
                    labels: tool_label(plan),
                    attach: true,
                    ..Default::default()
                })
                .await?;
            let file = artifacts.take();
            let with_artifacts = file.is_some();
            match self.upload(&container, contract, overrides, file).await {
                Ok(()) => return Ok(container),
                Err(e) if with_artifacts => {
                    self.sink.event(Event::warning(format!(
                        "could not hand the previous build's artifacts to `assemble` ({e:#}); \
                         building from scratch"
                    )));
                    self.docker.remove_container(&container).await?;
                }
                Err(e) => {
                    self.docker.remove_container(&container).await?;
                    return Err(e);
                }
            }
        }
    }

    /// Streams the one S2I tar (`src/`, the overrides, and `artifacts/` from `file`) into the
    /// builder's destination in `container`.
    async fn upload(
        &self,
        container: &str,
        contract: &s2i::Contract,
        overrides: &s2i::Overrides,
        mut file: Option<std::fs::File>,
    ) -> Result<()> {
        let destination = &contract.destination;
        let (source, sink) = (self.source, self.sink);
        let (uid, gid) = (contract.uid, contract.gid);
        let upload_overrides = overrides.clone();
        let (body, written) = archive::stream_from_writer(self.scope, move |out| {
            let artifacts = file.as_mut().map(|f| f as &mut dyn std::io::Read);
            s2i::write_upload(
                out,
                &upload_overrides,
                uid,
                gid,
                |w| source.write_tar(w, uid, gid, sink),
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

    /// Runs the previous app image's `save-artifacts` (or the source's override) and keeps its
    /// tar stream in a temporary file. Any failure is a warning: the build is then clean.
    async fn save_artifacts(
        &self,
        previous: &ImageInfo,
        overrides: &s2i::Overrides,
    ) -> Option<std::fs::File> {
        match self.try_save_artifacts(previous, overrides).await {
            Ok(file) => file,
            Err(e) => {
                self.sink.event(Event::warning(format!(
                    "`save-artifacts` of the previous app image `{}` failed, so this build starts \
                     from scratch: {e:#}",
                    self.plan.image(Stage::App).reference()
                )));
                None
            }
        }
    }

    async fn try_save_artifacts(
        &self,
        previous: &ImageInfo,
        overrides: &s2i::Overrides,
    ) -> Result<Option<std::fs::File>> {
        let plan = self.plan;
        let app_reference = plan.image(Stage::App).reference();
        let contract = s2i::Contract::read(self.docker, previous, &app_reference).await?;
        self.status(
            "Saving",
            format!(
                "build artifacts of the previous {app_reference} ({})",
                short(&previous.id)
            ),
        );
        let container = self
            .save_artifacts_container(previous, &contract, overrides)
            .await?;
        let mut file = tempfile::tempfile().context("failed to create a temporary file")?;
        let mut size = 0u64;
        let mut output = Output::new("save-artifacts");
        let code = {
            let mut write = |chunk: &[u8]| -> Result<()> {
                size += chunk.len() as u64;
                file.write_all(chunk)
                    .context("failed to write the artifacts to a temporary file")
            };
            self.docker
                .run(&container, &mut output, Some(&mut write), self.sink)
                .await
        };
        self.docker.remove_container(&container).await?;
        let code = code?;
        if code != 0 {
            bail!("it exited with code {code}:\n{}", output.tail());
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

    /// The container that runs `save-artifacts` of the previous app image: as upstream, with
    /// the previous image's user and its script, or the source's override uploaded into it.
    async fn save_artifacts_container(
        &self,
        previous: &ImageInfo,
        contract: &s2i::Contract,
        overrides: &s2i::Overrides,
    ) -> Result<String> {
        let container = self
            .docker
            .create_container(ContainerSpec {
                image: previous.id.clone(),
                entrypoint: contract.script_entrypoint(),
                cmd: Some(vec![contract.script("save-artifacts", overrides)]),
                labels: tool_label(self.plan),
                attach: true,
                ..Default::default()
            })
            .await?;
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
            if let Err(e) = self
                .docker
                .upload(&container, &contract.destination, body)
                .await
            {
                self.docker.remove_container(&container).await?;
                return Err(e.into());
            }
        }
        Ok(container)
    }
}

#[cfg(test)]
mod label_tests {
    #[test]
    fn git_texts_become_single_line_labels_without_quotes_or_dollars() {
        assert_eq!(
            super::label_safe("fix \"$HOME\" in C:\\tmp\n\nbody"),
            "fix '_HOME' in C:_tmp"
        );
        assert_eq!(super::label_safe(""), "");
    }
}
