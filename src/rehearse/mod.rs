//! `cargo xtask image --rehearse`: the cluster's builds, rehearsed locally from the committed
//! manifests as they are parsed from the YAML — not from the Plan, so a defect in a committed
//! manifest fails the rehearsal as it would fail the cluster.
//!
//! The committed tree is the ref the committed BuildConfigs clone (`okd.git-ref` until they are
//! read) as the cluster clones it ([`git`]), exported with `git archive`; its manifests directory
//! is read into the generator's object model ([`manifests`]). The triggers then decide what
//! builds, and in which order: [`sequence`] applies the objects to a model of the namespace and
//! pushes once, printing every build the cluster would start and refusing a sequence the cluster
//! would reject or repeat; with `--no-build` that is all. Otherwise the first apply's builds run
//! in that order ([`chain`]): a Docker strategy is a `docker build` of its `contextDir` or inline
//! Dockerfile, with `images[].paths` copied in and the last `FROM` replaced by the strategy's
//! `from` ([`docker`], [`paths`]); a Source strategy is the engine's S2I step, the local chain's,
//! with the builder image, env and labels of the BuildConfig (`assemble` runs as the builder's
//! `USER`, as the cluster's build pods run it; [`s2i`]). The workload that runs the last image is
//! then started as the cluster's `restricted-v2` pods run and, for a service, probed ([`run`]).
//!
//! Rehearsal images are tagged `<stream>:rehearse`, never the local chain's tags, and are removed
//! when the rehearsal ends; so is every container it creates. The Plan supplies only where things
//! are (the workspace, the manifests directory, `okd.git-ref`, the cache under `target/`).

mod chain;
mod docker;
mod git;
mod manifests;
mod paths;
mod run;
mod s2i;
pub mod sequence;
mod source;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::Scope;
use std::time::Instant;

use anyhow::{Context as _, Result};

use crate::Error;
use crate::config::PullPolicy;
use crate::engine::client::{Client, ImageInfo};
use crate::engine::step::Runner;
use crate::plan::{Plan, TOOL_LABEL};
use crate::sink::{Event, Sink, StageReport};

/// The arbitrary non-root UID (group 0) the rehearsal runs the workload with, as
/// OKD's `restricted-v2` SCC assigns one from the project's range.
pub const UID: u32 = 1_000_680_000;

/// Rehearses the cluster's builds of every plan's committed manifests directory (each directory
/// once), then runs its workloads. With `build: false`, only the build sequence is checked and
/// printed (no container engine needed).
/// With `no_cache`, every Docker build starts afresh and `assemble` gets no saved artifacts.
pub fn rehearse(
    plans: &[Plan],
    builder_base: Option<&str>,
    no_cache: bool,
    build: bool,
    sink: &dyn Sink,
) -> Result<()> {
    let mut seen: Vec<&Path> = Vec::new();
    for plan in plans {
        let dir = plan.layout().manifests_dir.as_path();
        if seen.contains(&dir) {
            continue;
        }
        seen.push(dir);
        let checkout = Checkout::new(plan, sink)?;
        let sequence = sequence::simulate(&checkout.manifests)?;
        report_sequence(&sequence, &checkout, sink);
        if build {
            rehearse_builds(plan, &checkout, &sequence, builder_base, no_cache, sink)?;
        }
    }
    Ok(())
}

/// The build sequence of the manifests directory `dir` as it is on disk (no git, no container
/// engine): what `--rehearse --no-build` checks of the committed tree.
#[cfg(feature = "internal")]
pub fn sequence_of(dir: &Path) -> Result<sequence::Sequence> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    let name = dir.file_name().map(PathBuf::from).unwrap_or_default();
    sequence::simulate(&manifests::read(parent, &name)?)
}

/// The committed tree the cluster clones, exported, with its manifests read.
struct Checkout {
    committed: git::Committed,
    tree: tempfile::TempDir,
    /// The Cargo workspace inside the repository.
    workspace_rel: PathBuf,
    /// The manifests directory inside the repository.
    manifests_rel: PathBuf,
    manifests: manifests::Manifests,
}

impl Checkout {
    /// Exports the plan's `okd.git-ref` and reads its manifests; when the committed
    /// BuildConfigs clone another ref, exports and reads that one instead: what the cluster
    /// builds is what the YAML says.
    fn new(plan: &Plan, sink: &dyn Sink) -> Result<Checkout> {
        let planned = plan.okd().git.git_ref.clone();
        let checkout = Checkout::at(plan, planned.as_deref(), sink)?;
        let committed_ref = checkout.git_ref()?;
        if committed_ref.is_some() && committed_ref != planned {
            sink.event(Event::warning(format!(
                "the committed BuildConfigs clone `{}`, not `okd.git-ref` ({}): rehearsing `{}`",
                committed_ref.as_deref().unwrap_or_default(),
                planned
                    .as_deref()
                    .map_or("unset".into(), |r| format!("`{r}`")),
                committed_ref.as_deref().unwrap_or_default(),
            )));
            return Checkout::at(plan, committed_ref.as_deref(), sink);
        }
        Ok(checkout)
    }

    fn at(plan: &Plan, git_ref: Option<&str>, sink: &dyn Sink) -> Result<Checkout> {
        let layout = plan.layout();
        let committed = git::resolve(&layout.workspace_root, git_ref, sink)?;
        let workspace = std::fs::canonicalize(&layout.workspace_root)
            .with_context(|| format!("failed to find `{}`", layout.workspace_root.display()))?;
        let workspace_rel = workspace
            .strip_prefix(&committed.root)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let tree = tempfile::Builder::new()
            .prefix("xtask-s2i-rehearse-")
            .tempdir()
            .context("failed to create a temporary directory for the committed tree")?;
        git::export(&committed, tree.path())?;
        let manifests_rel = workspace_rel.join(&layout.manifests_in_workspace);
        let manifests = manifests::read(tree.path(), &manifests_rel)?;
        git::check_uris(&committed, &manifests, sink)?;
        Ok(Checkout {
            committed,
            tree,
            workspace_rel,
            manifests_rel,
            manifests,
        })
    }

    /// The one `git.ref` the committed BuildConfigs clone.
    fn git_ref(&self) -> Result<Option<String>> {
        let mut found: Option<(&str, String)> = None;
        for bc in &self.manifests.build_configs {
            let Some(r) = bc.spec.source.git.as_ref().and_then(|g| g.ref_.clone()) else {
                continue;
            };
            match &found {
                Some((other, theirs)) if *theirs != r => {
                    return Err(Error::new(format!(
                        "the BuildConfigs `{other}` and `{}` (`{}`) clone different refs                          (`{theirs}` and `{r}`): a push would build them from different commits",
                        bc.name,
                        bc.file.display()
                    ))
                    .note("regenerate the manifests with `cargo xtask image --no-build`")
                    .into());
                }
                Some(_) => {}
                None => found = Some((&bc.name, r)),
            }
        }
        Ok(found.map(|(_, r)| r))
    }
}

/// Prints the builds the cluster would start, in order.
fn report_sequence(sequence: &sequence::Sequence, checkout: &Checkout, sink: &dyn Sink) {
    sink.event(Event::status(
        "Sequenced",
        format!(
            "the builds the cluster starts from `{}` at {}:\n{}",
            checkout.manifests_rel.display(),
            checkout.committed.short(),
            sequence.to_string().trim_end()
        ),
    ));
}

/// Runs the first apply's builds with Docker, in the sequence's order, then the workloads.
fn rehearse_builds(
    plan: &Plan,
    checkout: &Checkout,
    sequence: &sequence::Sequence,
    builder_base: Option<&str>,
    no_cache: bool,
    sink: &dyn Sink,
) -> Result<()> {
    let started = Instant::now();
    let committed = &checkout.committed;
    let steps = chain::steps(&checkout.manifests, &sequence.build_order())?;
    if steps.is_empty() {
        anyhow::bail!(
            "`{}` of commit {} has no BuildConfig to rehearse",
            checkout.manifests_rel.display(),
            committed.short()
        );
    }
    let rt = crate::engine::runtime()?;
    std::thread::scope(|scope| {
        rt.block_on(async {
            let (docker, mut signals) = crate::engine::connect(sink).await?;
            let settings = plan.settings();
            let r = Rehearsal {
                docker: &docker,
                sink,
                scope,
                tree: checkout.tree.path(),
                committed,
                manifests: &checkout.manifests,
                package: plan.package(),
                features: &settings.features,
                no_default_features: settings.no_default_features,
                cache: plan.layout().rehearse_dir(),
                stand_in: builder_base,
                no_cache,
                workspace_rel: &checkout.workspace_rel,
                tags: Mutex::new(Vec::new()),
            };
            let result = crate::engine::until_signal(&mut signals, r.run(&steps)).await;
            docker.janitor().clean(&docker).await;
            r.remove_tags().await;
            result
        })
    })?;
    sink.event(Event::status(
        "Rehearsed",
        format!(
            "{} BuildConfig(s) of commit {} in {:.1}s; the rehearsal images were removed",
            steps.len(),
            committed.short(),
            started.elapsed().as_secs_f64()
        ),
    ));
    Ok(())
}

/// One rehearsal: what every step needs.
pub(crate) struct Rehearsal<'r, 's, 'e> {
    docker: &'r Client,
    sink: &'s dyn Sink,
    scope: &'s Scope<'s, 'e>,
    /// The exported committed tree.
    tree: &'r Path,
    committed: &'r git::Committed,
    manifests: &'r manifests::Manifests,
    /// The package whose label the containers carry, and its build's features (which crates
    /// the vendoring may cut).
    package: &'r str,
    features: &'r [String],
    no_default_features: bool,
    /// `target/s2i/<package>/rehearse`: the vendored crates and the saved build artifacts.
    cache: PathBuf,
    /// `--builder-base`: stands in for the images the ImageStreams import.
    stand_in: Option<&'r str>,
    /// `--no-cache`: no Docker build cache, no saved artifacts.
    no_cache: bool,
    /// The Cargo workspace inside the repository.
    workspace_rel: &'r Path,
    /// The `<stream>:rehearse` tags this rehearsal made.
    tags: Mutex<Vec<String>>,
}

impl<'s, 'e> Rehearsal<'_, 's, 'e> {
    fn status(&self, verb: &str, message: impl Into<String>) {
        self.sink.event(Event::status(verb, message));
    }

    async fn run(&self, steps: &[chain::Step<'_>]) -> Result<()> {
        for (i, step) in steps.iter().enumerate() {
            let started = Instant::now();
            let bc = step.bc;
            let done = &steps[..i];
            let id = match step.kind {
                chain::Kind::Docker => self.docker_step(step, done).await,
                chain::Kind::Source => self.source_step(step, done).await,
            }
            .map_err(|e| self.failed(&bc.name, &bc.file, e))?;
            // A tag left by an interrupted rehearsal: its image goes when nothing else uses it.
            if let Some(previous) = self.docker.image(&step.local).await?
                && previous.id != id
            {
                self.docker.janitor().replaced(&previous.id, self.package);
            }
            self.docker
                .tag(
                    &id,
                    step.local.split(':').next().unwrap_or_default(),
                    chain::TAG,
                )
                .await?;
            self.docker.janitor().forget_image(&id);
            if let Ok(mut t) = self.tags.lock() {
                t.push(step.local.clone());
            }
            let info = self.docker.existing_image(&step.local).await?;
            self.sink.event(Event::Stage(StageReport {
                package: self.package.to_string(),
                stage: bc.name.clone(),
                image: step.local.clone(),
                id: info.id.clone(),
                size: info.size,
                seconds: started.elapsed().as_secs_f64(),
                cached: false,
            }));
        }
        self.run_workloads(steps).await
    }

    /// The error of a failed BuildConfig: its name and file first, then the step and its log tail.
    fn failed(&self, name: &str, file: &Path, e: anyhow::Error) -> anyhow::Error {
        if crate::engine::interrupted_exit_code(&e).is_some() {
            return e;
        }
        let mut e = e.context(format!(
            "the rehearsal of the BuildConfig `{name}` (`{}` at {}) failed",
            file.display(),
            self.committed.short()
        ));
        // A path in the output that exists only in the working tree is the likely cause: the
        // path from the repository's root, or from the workspace's when it has a directory.
        let text = format!("{e:#}");
        let only_local: Vec<&String> = self
            .committed
            .uncommitted
            .iter()
            .filter(|p| {
                let in_workspace = Path::new(p.as_str())
                    .strip_prefix(self.workspace_rel)
                    .ok()
                    .map(|r| r.to_string_lossy().into_owned())
                    .filter(|r| r.contains('/'));
                text.contains(p.as_str()) || in_workspace.is_some_and(|r| text.contains(&r))
            })
            .collect();
        if let Some(p) = only_local.first() {
            e = Error::from_anyhow(e)
                .note(format!(
                    "`{p}` differs between the working tree and commit {} ({}): the cluster \
                     builds the commit; commit `{p}` and push",
                    self.committed.short(),
                    self.committed.from
                ))
                .into();
        }
        e
    }

    /// The local image for a referenced image: a rehearsal image, or an imported one (pulled if
    /// absent; `--builder-base` stands in for it).
    async fn image_for(
        &self,
        done: &[chain::Step<'_>],
        bc: &str,
        r: &manifests::ObjectRef,
    ) -> Result<(String, ImageInfo)> {
        match chain::resolve(self.manifests, done, bc, r, self.stand_in)? {
            chain::Source::Rehearsed { local, .. } => {
                let info = self.docker.existing_image(&local).await?;
                Ok((local, info))
            }
            chain::Source::External {
                reference,
                stand_in,
            } => {
                if stand_in {
                    self.status(
                        "Using",
                        format!(
                            "{reference} in place of {} (`--builder-base`)",
                            r.describe()
                        ),
                    );
                }
                let info = self
                    .docker
                    .ensure_base(&reference, PullPolicy::IfNotPresent, self.sink)
                    .await?;
                Ok((reference, info))
            }
        }
    }

    /// The executor of the steps, the local chain's.
    fn runner(&self) -> Runner<'_, 's, 'e> {
        Runner {
            docker: self.docker,
            sink: self.sink,
            scope: self.scope,
            labels: self.tool_label(),
        }
    }

    /// The label every container and image of the rehearsal carries.
    fn tool_label(&self) -> std::collections::HashMap<String, String> {
        std::collections::HashMap::from([(TOOL_LABEL.to_string(), self.package.to_string())])
    }

    /// Removes the `<stream>:rehearse` tags (and their images when nothing else tags them).
    async fn remove_tags(&self) {
        for tag in crate::engine::drain(&self.tags).iter().rev() {
            let _ = self.docker.remove_image(tag).await;
        }
    }
}
