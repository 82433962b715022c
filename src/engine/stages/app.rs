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

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result};

use super::{Chain, Done, ENGINE_VERSION, digest, short, with_tail};
use crate::Error;
use crate::engine::client::{ImageInfo, Output};
use crate::engine::s2i;
use crate::engine::s2i::labels::{self, UNCOMMITTED_LABEL};
use crate::engine::s2i::step::{Built, S2iBuild};
use crate::plan::{DIGEST_LABEL, Stage};
use crate::sink::Event;

impl Chain<'_, '_, '_> {
    /// The labels of the app image besides the digest: the Plan's, then upstream's
    /// `io.openshift.s2i.build.*` from the source's git revision, then this tool's.
    fn app_labels(&self) -> BTreeMap<String, String> {
        let revision = self.source.revision();
        labels::of_plan(self.plan, &self.source.location(), revision.as_ref())
    }

    pub(super) async fn app(&self, builder: &ImageInfo) -> Result<Done> {
        let started = Instant::now();
        let plan = self.plan;
        let builder_reference = plan.image(Stage::Builder).reference();
        let contract = s2i::Contract::read(self.docker, builder, &builder_reference).await?;
        // As s2i: `.s2i/bin` and `.s2i/environment` at the root of the source (the cluster's).
        let overrides = s2i::Overrides::read(&plan.cluster_source()?.root)?;
        let mut labels = self.app_labels();
        let digest = self.app_digest(builder, &contract, &overrides, &labels);
        if let Some(image) = self.fresh(Stage::App, &digest).await? {
            let report = self.report(Stage::App, &image, started, true);
            return Ok(Done { report, image });
        }
        self.log_overrides(&overrides);
        let artifacts = self.previous_artifacts(&overrides).await?;
        self.status(
            "Assembling",
            format!(
                "app {} ({builder_reference}{})",
                plan.image(Stage::App).reference(),
                if artifacts.is_some() {
                    ", incremental"
                } else {
                    ""
                }
            ),
        );
        labels.insert(DIGEST_LABEL.into(), digest);
        let (source, sink) = (self.source, self.sink);
        let build = S2iBuild {
            builder: builder.clone(),
            contract,
            overrides,
            env: plan.build_env(),
            source: Arc::new(move |w, uid, gid| source.write_tar(w, uid, gid, sink)),
            artifacts,
            labels,
            log: "app".into(),
            comment: format!(
                "{} assembled by xtask-s2i from {builder_reference}",
                plan.package(),
            ),
            what: format!("the app image `{}`", plan.image(Stage::App).reference()),
        };
        let assemble = build.contract.script("assemble", &build.overrides);
        let id = match self.runner().s2i(build).await? {
            Built::Image(id) => id,
            Built::Failed { code, output } => {
                return Err(self.assemble_failed(&assemble, code, &output));
            }
        };
        let image = self.finish(&id, Stage::App).await?;
        let report = self.report(Stage::App, &image, started, false);
        Ok(Done { report, image })
    }

    /// The error of an `assemble` that exited with `code`.
    fn assemble_failed(&self, assemble: &str, code: i64, output: &Output) -> anyhow::Error {
        let plan = self.plan;
        let message = format!(
            "`{assemble}` failed with exit code {code} in the app stage of `{}`:",
            plan.package(),
        );
        let mut error = Error::new(with_tail(message, &output.tail()));
        for note in super::super::sys_crates::notes(output.notable()) {
            error = error.note(note);
        }
        error
            .note(format!(
                "no tag moved: `{}` is unchanged",
                plan.image(Stage::App).reference()
            ))
            .note("`cargo xtask image -v` shows the whole output")
            .into()
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

    /// The `save-artifacts` stream of the previous app image (an incremental build), unless
    /// `--no-cache`. Any failure is a warning: the build is then clean.
    async fn previous_artifacts(
        &self,
        overrides: &s2i::Overrides,
    ) -> Result<Option<std::fs::File>> {
        let reference = self.plan.image(Stage::App).reference();
        if self.opts.no_cache {
            return Ok(None);
        }
        let Some(previous) = self.docker.image(&reference).await? else {
            return Ok(None);
        };
        self.status(
            "Saving",
            format!(
                "build artifacts of the previous {reference} ({})",
                short(&previous.id)
            ),
        );
        let file = tempfile::tempfile().context("failed to create a temporary file")?;
        match self
            .runner()
            .save_artifacts(&previous, &reference, overrides, file)
            .await
        {
            Ok(file) => Ok(file),
            Err(e) => {
                self.sink.event(Event::warning(format!(
                    "`save-artifacts` of the previous app image `{reference}` failed, so this \
                     build starts from scratch: {e:#}"
                )));
                Ok(None)
            }
        }
    }
}
