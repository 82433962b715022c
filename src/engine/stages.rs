//! The three stages of the chain and their input digests.
//!
//! - **builder**: the Plan's typed builder image `FROM` the base, assembled as one container
//!   and a commit ([`direct`]), or `docker build` of the rendered context when the user overrides
//!   the builder template (or `--docker-build`); digest over the rendered context and the base
//!   image's ID.
//! - **app** (S2I, in [`app`]): a container from the builder image as its assemble user gets one
//!   tar holding `src/` (and the previous app image's `save-artifacts` output as `artifacts/`) in
//!   the builder's `io.openshift.s2i.destination`, runs `assemble`, and is committed with `CMD`
//!   the `run` script; digest over the builder image's ID, the source's digest and the
//!   build settings.
//! - **runtime**: the binary read out of the app image through a never-started container, checked
//!   to be static, imported as a one-layer image with the Plan's typed runtime metadata (or, for
//!   an override of the runtime template, built `FROM scratch` with `docker build`); digest over
//!   the app image's ID and the runtime Dockerfile.
//!
//! A stage whose tagged image already carries its digest is skipped. A tag moves only after its
//! stage succeeded; the image it moved away from is removed when nothing else references it.

use std::collections::{BTreeMap, HashMap};
use std::thread::Scope;
use std::time::Instant;

use anyhow::{Context as _, Result};
use bytes::Bytes;
use sha2::{Digest as _, Sha256};

use super::client::{Client, ContainerSpec, ImageConfig, ImageInfo};
use super::elf::Linkage;
use super::step::{ContainerRun, DockerBuild, Prepared, Runner};
use super::{Options, SourceTree, archive, direct, elf, push, report};
use crate::Error;
use crate::plan::{
    self, BuilderImage, DIGEST_LABEL, DOCKERFILE, Plan, RUNTIME_CONTEXT_DIR, RUNTIME_DIR,
    RuntimeImage, Stage, TOOL_LABEL,
};
use crate::sink::{Event, Sink, StageReport, human_size};

/// Changes whenever this code builds images differently, so a new version rebuilds.
/// What the archive endpoint gave for a path of a container: its tar, or why not.
type Downloaded = Result<Vec<u8>, super::client::Error>;

/// The runtime stage's second digest: over the app image's ID, so an unchanged app stage needs
/// no reading of the binary.
const APP_DIGEST_LABEL: &str = "io.github.xtask-s2i.app-digest";

const ENGINE_VERSION: &str = concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION"));

mod app;

/// One run of the chain of one plan.
pub struct Chain<'a, 's, 'e> {
    docker: &'a Client,
    plan: &'a Plan,
    source: &'s dyn SourceTree,
    opts: &'a Options,
    sink: &'s dyn Sink,
    scope: &'s Scope<'s, 'e>,
}

/// A finished stage: its report and its image.
struct Done {
    report: StageReport,
    image: ImageInfo,
}

impl<'a, 's, 'e> Chain<'a, 's, 'e> {
    pub fn new(
        docker: &'a Client,
        plan: &'a Plan,
        source: &'s dyn SourceTree,
        opts: &'a Options,
        sink: &'s dyn Sink,
        scope: &'s Scope<'s, 'e>,
    ) -> Self {
        Chain {
            docker,
            plan,
            source,
            opts,
            sink,
            scope,
        }
    }

    fn status(&self, verb: &str, message: impl Into<String>) {
        self.sink.event(Event::status(verb, message));
    }

    /// Builds the group's builder and app stage once (with this chain's plan, any of the group),
    /// then the runtime stage of each of `services` (members of the same group); pushes them.
    /// The images the tags move away from are removed by the janitor, however the run ends.
    pub async fn run(&self, services: &[&'a Plan]) -> Result<Vec<StageReport>> {
        let started = Instant::now();
        let plan = self.plan;
        let base = self
            .docker
            .ensure_base(plan.base(), plan.pull_policy(), self.sink)
            .await?;
        let builder = self.builder(&base).await?;
        let app = self.app(&builder.image).await?;
        let mut stages = vec![builder.report, app.report];
        for service in services {
            let chain = Chain {
                plan: service,
                ..*self
            };
            let runtime = chain.runtime(&app.image).await?;
            let fresh = [&stages[0], &stages[1], &runtime.report];
            let fresh = fresh.iter().filter(|s| s.cached).count();
            chain.finished(started, &runtime.report, fresh);
            stages.push(runtime.report);
        }
        if self.opts.push {
            let runtimes = services.iter().map(|s| s.image(Stage::Runtime));
            let group = [Stage::Builder, Stage::App].map(|stage| plan.image(stage));
            for image in group.into_iter().chain(runtimes) {
                self.status("Pushing", image.reference());
                push::push(self.docker, &image.name, &image.tag, self.sink).await?;
            }
        }
        Ok(stages)
    }

    /// The `Finished` line of this chain's service, `fresh` of its three stages fresh.
    fn finished(&self, started: Instant, runtime: &StageReport, fresh: usize) {
        let plan = self.plan;
        self.status(
            "Finished",
            format!(
                "{} in {:.1}s: runtime image {} ({}){}",
                plan.service(),
                started.elapsed().as_secs_f64(),
                plan.image(Stage::Runtime).reference(),
                human_size(runtime.size),
                match fresh {
                    0 => String::new(),
                    3 => ", nothing changed".to_string(),
                    n => format!(", {n} of 3 stages fresh"),
                }
            ),
        );
    }

    /// The tagged image of `stage` when it already has this stage's input digest.
    async fn fresh(&self, stage: Stage, digest: &str) -> Result<Option<ImageInfo>> {
        self.fresh_by(stage, DIGEST_LABEL, digest).await
    }

    /// The tagged image of `stage` when its `label` is `digest`.
    async fn fresh_by(&self, stage: Stage, label: &str, digest: &str) -> Result<Option<ImageInfo>> {
        let existing = self
            .docker
            .image(&self.plan.image(stage).reference())
            .await?;
        Ok(existing.filter(|i| !self.opts.no_cache && i.label(label) == Some(digest)))
    }

    /// Tags a freshly built image of `stage` and notes the image the tag moved away from.
    async fn finish(&self, id: &str, stage: Stage) -> Result<ImageInfo> {
        let image = self.plan.image(stage);
        let previous = self.docker.image(&image.reference()).await?;
        self.docker.tag(id, &image.name, &image.tag).await?;
        self.docker.janitor().forget_image(id);
        if let Some(previous) = previous
            && previous.id != id
        {
            self.docker
                .janitor()
                .replaced(&previous.id, self.plan.package());
        }
        Ok(self.docker.existing_image(id).await?)
    }

    /// This tool's labels of a stage: the package (the group's leader for the builder and app
    /// stage, which its services share) and the stage's input digest.
    fn labels(&self, stage: Stage, digest: &str) -> BTreeMap<String, String> {
        self.digest_labels(stage, &[(DIGEST_LABEL, digest)])
    }

    /// This tool's labels of a stage with several digest labels (the runtime stage's two).
    fn digest_labels(&self, stage: Stage, digests: &[(&str, &str)]) -> BTreeMap<String, String> {
        let package = match stage {
            Stage::Runtime => self.plan.package(),
            Stage::Builder | Stage::App => &self.plan.group().package,
        };
        let mut labels = BTreeMap::from([(TOOL_LABEL.to_string(), package.to_string())]);
        for (label, digest) in digests {
            labels.insert(label.to_string(), digest.to_string());
        }
        labels
    }

    /// The executor of the steps.
    fn runner(&self) -> Runner<'_, 's, 'e> {
        Runner {
            docker: self.docker,
            sink: self.sink,
            scope: self.scope,
            labels: tool_label(self.plan),
        }
    }

    async fn builder(&self, base: &ImageInfo) -> Result<Done> {
        let started = Instant::now();
        let plan = self.plan;
        let reference = plan.image(Stage::Builder).reference();
        let digest = digest(&[
            "builder",
            ENGINE_VERSION,
            &plan.builder_context_digest(),
            &base.id,
        ]);
        if let Some(image) = self.fresh(Stage::Builder, &digest).await? {
            let report = self.report(Stage::Builder, &image, started, true);
            return Ok(Done { report, image });
        }
        self.status("Building", format!("builder {reference}"));
        let dockerfile = plan.builder_dockerfile();
        let image = plan.builder_image().ok_or_else(|| overridden("builder"));
        let recipe = image.and_then(|i| {
            direct_builder(plan, base)?;
            Ok((i, direct::builder_changes(i)?))
        });
        let id = match self.direct("builder", recipe) {
            Some((image, changes)) => self.builder_direct(base, image, changes, &digest).await?,
            None => self.builder_docker_build(dockerfile, &digest).await?,
        };
        let image = self.finish(&id, Stage::Builder).await?;
        let report = self.report(Stage::Builder, &image, started, false);
        Ok(Done { report, image })
    }

    /// The typed image of a stage that can be assembled directly, unless `--docker-build` asks
    /// for the classic builder; logs why its Dockerfile needs `docker build`.
    fn direct<T>(&self, stage: &str, recipe: Result<T, String>) -> Option<T> {
        if self.opts.docker_build {
            return None;
        }
        match recipe {
            Ok(r) => Some(r),
            Err(why) => {
                self.sink.event(Event::Log {
                    stage: stage.into(),
                    line: format!(
                        "the {stage} image {why}: building its Dockerfile with `docker build`, \
                         step by step (slower; README: \"How the images are made locally\")"
                    ),
                });
                None
            }
        }
    }

    /// This tool's labels as instructions for a commit's or an import's `changes` (one
    /// single-line instruction each, as both engines read them: `direct`).
    fn label_changes(&self, stage: Stage, digests: &[(&str, &str)]) -> Vec<String> {
        self.digest_labels(stage, digests)
            .iter()
            .map(|(k, v)| format!("LABEL {k}=\"{v}\""))
            .collect()
    }

    /// The builder as one container from the base (the scripts uploaded, the setup as its
    /// command) committed with the image's metadata.
    async fn builder_direct(
        &self,
        base: &ImageInfo,
        image: &BuilderImage,
        image_changes: Vec<String>,
        digest: &str,
    ) -> Result<String> {
        let plan = self.plan;
        let reference = plan.image(Stage::Builder).reference();
        let has_path = base.env.iter().any(|e| e.starts_with("PATH="));
        let mut changes = Vec::new();
        let mut env = Vec::new();
        if !has_path {
            // What the classic builder gives a base without `PATH`.
            changes.push(format!("ENV PATH={}", direct::DEFAULT_PATH));
            env.push(format!("PATH={}", direct::DEFAULT_PATH));
        }
        changes.extend(image_changes);
        changes.extend(self.label_changes(Stage::Builder, &[(DIGEST_LABEL, digest)]));
        env.extend(image.env.iter().map(|(k, v)| format!("{k}={v}")));
        let scripts = Bytes::from(direct::scripts_tar(image).map_err(Error::new)?);
        let run = ContainerRun {
            log: "builder".into(),
            spec: builder_spec(base, image, env),
            keep: true,
            ..Default::default()
        };
        let ran = self
            .runner()
            .run(run, async |container| {
                let scripts = scripts.clone();
                let body = futures_util::stream::once(async move { Ok(scripts) });
                self.docker
                    .upload(container, "/", body)
                    .await
                    .context("failed to copy the S2I scripts into the builder")?;
                Ok(Prepared::Ready)
            })
            .await?;
        let Some(container) = ran.kept else {
            return Err(builder_run_failed(plan, ran.code, &ran.output.tail()));
        };
        let comment = format!(
            "the S2I builder of {} from {}, assembled by xtask-s2i",
            plan.package(),
            plan.base()
        );
        let what = format!("the builder image `{reference}`");
        Ok(self
            .docker
            .commit(
                &container,
                ImageConfig::default(),
                &changes,
                &comment,
                &what,
            )
            .await?)
    }

    /// The builder with the classic builder, this tool's labels appended to its Dockerfile.
    async fn builder_docker_build(&self, dockerfile: &str, digest: &str) -> Result<String> {
        let plan = self.plan;
        let reference = plan.image(Stage::Builder).reference();
        let context = archive::context_tar(
            plan.builder_context()
                .iter()
                .filter(|f| f.path != DOCKERFILE)
                .map(|f| (f.path.as_str(), f.contents.as_bytes(), f.mode)),
        )?;
        self.runner()
            .docker_build(DockerBuild {
                log: "builder".into(),
                dockerfile: dockerfile.to_string(),
                labels: self.labels(Stage::Builder, digest),
                context,
                no_cache: self.opts.no_cache,
            })
            .await
            .map_err(|e| {
                let message = format!(
                    "failed to build the builder image `{reference}` from `{}`: {e}",
                    plan.base()
                );
                Error::new(with_tail(message, e.tail()))
                    .note(format!(
                        "the builder context is in `{}`; `docker build` it there to reproduce",
                        plan.layout().builder_dir().display()
                    ))
                    .note(format!("no tag moved: `{reference}` is unchanged"))
                    .caused_by(e)
                    .into()
            })
    }

    /// The runtime stage. Its digest is over what it is made of (the binary's and the runtime
    /// files' contents, the Dockerfile), so a service whose binary a group's new app image did
    /// not change keeps its image; the app image's ID, labelled too, skips reading the binary
    /// when the app stage was fresh.
    async fn runtime(&self, app: &ImageInfo) -> Result<Done> {
        let started = Instant::now();
        let plan = self.plan;
        let reference = plan.image(Stage::Runtime).reference();
        let (dockerfile, bin) = (plan.runtime_dockerfile(), plan.bin());
        let from_app = digest(&["runtime", ENGINE_VERSION, &app.id, dockerfile, bin]);
        if let Some(image) = self
            .fresh_by(Stage::Runtime, APP_DIGEST_LABEL, &from_app)
            .await?
        {
            let report = self.report(Stage::Runtime, &image, started, true);
            return Ok(Done { report, image });
        }
        let (binary, files) = self.read_binary(app).await?;
        // The binary first: a dynamic one is the more fundamental error of a custom `assemble`.
        static_binary(plan, &binary)?;
        let files = files.map(|f| self.runtime_files(f)).transpose()?;
        let files_digest = files.as_deref().map(archive::content_digest).transpose()?;
        let binary_digest = plan::hex(&Sha256::digest(&binary));
        let content = digest(&[
            "runtime",
            ENGINE_VERSION,
            &binary_digest,
            files_digest.as_deref().unwrap_or("no runtime files"),
            dockerfile,
            bin,
        ]);
        if let Some(image) = self.fresh(Stage::Runtime, &content).await? {
            let report = self.report(Stage::Runtime, &image, started, true);
            return Ok(Done { report, image });
        }
        self.status("Building", format!("runtime {reference}"));
        let digests = [
            (DIGEST_LABEL, content.as_str()),
            (APP_DIGEST_LABEL, &from_app),
        ];
        let image = plan.runtime_image().ok_or_else(|| overridden("runtime"));
        let recipe = image.and_then(|i| Ok((i, direct::runtime_changes(i)?)));
        let id = match self.direct("runtime", recipe) {
            Some((image, changes)) => {
                self.runtime_direct(image, changes, binary, files, &digests)
                    .await?
            }
            None => self.runtime_docker_build(binary, files, &digests).await?,
        };
        let image = self.finish(&id, Stage::Runtime).await?;
        let report = self.report(Stage::Runtime, &image, started, false);
        Ok(Done { report, image })
    }

    /// The runtime as one import of a tar of the runtime files and the binary with the image's
    /// metadata.
    async fn runtime_direct(
        &self,
        image: &RuntimeImage,
        image_changes: Vec<String>,
        binary: Vec<u8>,
        files: Option<Vec<u8>>,
        digests: &[(&str, &str)],
    ) -> Result<String> {
        let plan = self.plan;
        let reference = plan.image(Stage::Runtime).reference();
        // What the classic builder gives `FROM scratch`, then the image's own.
        let mut changes = vec![format!("ENV PATH={}", direct::DEFAULT_PATH)];
        changes.extend(image_changes);
        changes.extend(self.label_changes(Stage::Runtime, digests));
        let binary = archive::context_tar([(image.binary.as_str(), binary.as_slice(), 0o755)])?;
        // `COPY runtime/ /`: the directory's entries at the root, owned by root as `COPY` makes
        // them; then the binary.
        let dir = format!("{RUNTIME_CONTEXT_DIR}/");
        let tar = match files.filter(|_| image.files) {
            Some(files) => archive::concat(&[(&files, &dir, ""), (&binary, "", "")])?,
            None => binary,
        };
        let message = format!(
            "the runtime image of {}: `{}` of {}, assembled by xtask-s2i",
            plan.package(),
            plan.bin_path(),
            plan.image(Stage::App).reference()
        );
        let what = format!("runtime image `{reference}`");
        Ok(self.docker.import(tar, changes, message, &what).await?)
    }

    /// The runtime with the classic builder, this tool's labels appended to its Dockerfile.
    async fn runtime_docker_build(
        &self,
        binary: Vec<u8>,
        files: Option<Vec<u8>>,
        digests: &[(&str, &str)],
    ) -> Result<String> {
        let plan = self.plan;
        let reference = plan.image(Stage::Runtime).reference();
        let mut context = archive::context_tar([(plan.bin(), binary.as_slice(), 0o755)])?;
        if let Some(files) = files {
            // The runtime files under `runtime/`, as the runtime BuildConfig's `images[].paths`
            // puts them in the cluster's context.
            let dir = format!("{RUNTIME_CONTEXT_DIR}/");
            context = archive::concat(&[(&files, &dir, &dir), (&context, "", "")])?;
        }
        self.runner()
            .docker_build(DockerBuild {
                log: "runtime".into(),
                dockerfile: plan.runtime_dockerfile().to_string(),
                labels: self.digest_labels(Stage::Runtime, digests),
                context,
                no_cache: self.opts.no_cache,
            })
            .await
            .map_err(|e| {
                let message = format!("failed to build the runtime image `{reference}`: {e}");
                Error::new(with_tail(message, e.tail()))
                    .note(format!(
                        "its Dockerfile is `{}`",
                        plan.layout().runtime_dockerfile().display()
                    ))
                    .note(format!("no tag moved: `{reference}` is unchanged"))
                    .caused_by(e)
                    .into()
            })
    }

    /// The tar of the runtime files as the archive endpoint gave it, or the error that says
    /// what is missing.
    fn runtime_files(&self, files: Downloaded) -> Result<Vec<u8>> {
        let plan = self.plan;
        match files {
            Ok(files) => Ok(files),
            Err(e) if e.is_not_found() => Err(Error::new(format!(
                "the app image `{}` has no `{RUNTIME_DIR}`",
                plan.image(Stage::App).reference()
            ))
            .note("`assemble` prepares the runtime image's files there (the CA bundle, /etc/passwd, /tmp); a custom `.s2i/bin/assemble` must too, or set `runtime-files = \"none\"`")
            .into()),
            Err(e) => Err(e).with_context(|| {
                format!(
                    "failed to read `{RUNTIME_DIR}` out of `{}`",
                    plan.image(Stage::App).reference()
                )
            }),
        }
    }

    /// The binary and the tar of the runtime files (the directory `runtime/` and its entries,
    /// unless `runtime-files = "none"`), read out of the app image through a created,
    /// never-started container.
    async fn read_binary(&self, app: &ImageInfo) -> Result<(Vec<u8>, Option<Downloaded>)> {
        let plan = self.plan;
        let container = self
            .docker
            .create_container(ContainerSpec {
                image: app.id.clone(),
                labels: tool_label(plan),
                ..Default::default()
            })
            .await?;
        let tar = self.docker.download(&container, plan.bin_path()).await;
        let files = match plan.runtime_dir() {
            Some(dir) => Some(self.docker.download(&container, dir).await),
            None => None,
        };
        self.docker.remove_container(&container).await?;
        let tar = match tar {
            Ok(tar) => tar,
            Err(e) if e.is_not_found() => {
                return Err(Error::new(format!(
                    "the app image `{}` has no `{}`",
                    plan.image(Stage::App).reference(),
                    plan.bin_path()
                ))
                .note(format!(
                    "`assemble` must install the binary `{}` there; the default script does",
                    plan.bin()
                ))
                .into());
            }
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "failed to read `{}` out of `{}`",
                        plan.bin_path(),
                        plan.image(Stage::App).reference()
                    )
                });
            }
        };
        let binary = archive::single_file(
            &tar,
            &format!(
                "`{}` in `{}`",
                plan.bin_path(),
                plan.image(Stage::App).reference()
            ),
        )?;
        Ok((binary, files))
    }

    fn report(
        &self,
        stage: Stage,
        image: &ImageInfo,
        started: Instant,
        cached: bool,
    ) -> StageReport {
        let reference = self.plan.image(stage).reference();
        let package = match stage {
            Stage::Runtime => self.plan.package(),
            Stage::Builder | Stage::App => &self.plan.group().package,
        };
        report(
            self.sink,
            package,
            stage.name(),
            reference,
            image,
            started,
            cached,
        )
    }
}

/// The container a directly assembled builder is made in: from the base, as the template's
/// `RUN` runs (its user, working directory and environment, the base's `SHELL`).
fn builder_spec(base: &ImageInfo, image: &BuilderImage, env: Vec<String>) -> ContainerSpec {
    // A shell-form `RUN` runs in the base's `SHELL`, `/bin/sh -c` by default.
    let shell = match base.shell.is_empty() {
        true => vec!["/bin/sh".into(), "-c".into()],
        false => base.shell.clone(),
    };
    ContainerSpec {
        image: base.id.clone(),
        user: Some(image.setup_user.clone()),
        working_dir: Some(image.workdir.clone()),
        env: Some(env),
        cmd: Some(shell.into_iter().chain([image.setup.clone()]).collect()),
        ..Default::default()
    }
}

/// Why a stage's image is left to `docker build`: the user overrides its template.
fn overridden(stage: &str) -> String {
    format!(
        "has its Dockerfile overridden by `{}/{stage}.Dockerfile`",
        crate::render::OVERRIDE_DIR
    )
}

/// Checks that the builder can be assembled directly from `base`: no `ENTRYPOINT` (which a
/// commit would keep in front of the image's `CMD`) and no `ONBUILD` triggers.
fn direct_builder(plan: &Plan, base: &ImageInfo) -> Result<(), String> {
    if !base.entrypoint.is_empty() {
        Err(format!(
            "is `FROM` `{}`, which has an `ENTRYPOINT`",
            plan.base()
        ))
    } else if !base.on_build.is_empty() {
        Err(format!(
            "is `FROM` `{}`, which has `ONBUILD` triggers",
            plan.base()
        ))
    } else {
        Ok(())
    }
}

/// Checks that `binary`, read out of the app image, can run on `FROM scratch`: a static Linux
/// executable (no `PT_INTERP` program header).
fn static_binary(plan: &Plan, binary: &[u8]) -> Result<(), Error> {
    let reference = plan.image(Stage::Runtime).reference();
    let what = format!(
        "`{}` in the app image `{}`",
        plan.bin_path(),
        plan.image(Stage::App).reference()
    );
    match elf::linkage(binary) {
        Linkage::Static => Ok(()),
        Linkage::Dynamic { interpreter } => Err(Error::new(format!(
            "the binary `{}` ({what}) is dynamically linked (it needs the loader \
             `{interpreter}`), so it cannot run on the `FROM scratch` runtime image",
            plan.bin()
        ))
        .note(
            "link it statically: build with `RUSTFLAGS=\"-C target-feature=+crt-static\"` \
             and an explicit `--target` (e.g. `cargo build --release --target \
             x86_64-unknown-linux-gnu`), as the default `assemble` script does; an \
             `assemble` override in `.s2i/templates/s2i/bin/assemble` must do the same",
        )
        .note(format!(
            "the runtime image was not built: `{reference}` is unchanged"
        ))),
        Linkage::NotElf(why) => Err(
            Error::new(format!("{what} is not a Linux executable: {why}"))
                .note(format!(
                    "`assemble` must install the compiled binary `{}` at `{}`",
                    plan.bin(),
                    plan.bin_path()
                ))
                .note(format!(
                    "the runtime image was not built: `{reference}` is unchanged"
                )),
        ),
    }
}

/// The error of a directly assembled builder whose `RUN` exited with `code`.
fn builder_run_failed(plan: &Plan, code: i64, tail: &str) -> anyhow::Error {
    let reference = plan.image(Stage::Builder).reference();
    Error::new(with_tail(
        format!(
            "failed to build the builder image `{reference}` from `{}`: its `RUN` \
             failed with exit code {code}:",
            plan.base()
        ),
        tail,
    ))
    .note(format!(
        "the builder context is in `{}`; `docker build` it there to reproduce",
        plan.layout().builder_dir().display()
    ))
    .note(format!("no tag moved: `{reference}` is unchanged"))
    .into()
}

/// `message`, a newline and the `tail` of an output (each of its lines ends with one), as the
/// message of an [`Error`] that puts its notes after it.
fn with_tail(message: String, tail: &str) -> String {
    let text = format!("{message}\n{tail}");
    match text.strip_suffix('\n') {
        Some(text) => text.to_string(),
        None => text,
    }
}

/// sha256 over length-prefixed parts.
fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    plan::hex(&h.finalize())
}

/// The first 12 hex digits of an image ID.
fn short(id: &str) -> &str {
    let id = id.trim_start_matches("sha256:");
    &id[..id.len().min(12)]
}

/// The label every container this tool creates carries, so leftovers can be found and removed.
fn tool_label(plan: &Plan) -> HashMap<String, String> {
    HashMap::from([(TOOL_LABEL.to_string(), plan.package().to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_separate_their_parts() {
        assert_ne!(digest(&["ab", "c"]), digest(&["a", "bc"]));
        assert_eq!(digest(&["a", "b"]), digest(&["a", "b"]));
        assert_eq!(digest(&[]).len(), 64);
    }

    #[test]
    fn short_ids() {
        assert_eq!(short("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short("abc"), "abc");
    }
}
