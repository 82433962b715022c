//! The builds the cluster would start from the committed manifests, in order, found as the
//! controllers find them: the objects are applied to a model of the namespace (its ImageStreams
//! and their tags), then one webhook push arrives.
//!
//! What the model does, and where the cluster does it:
//! - ConfigChange fires once, when the BuildConfig is created (openshift-controller-manager,
//!   pkg/build/controller/buildconfig/buildconfig_controller.go, `handleBuildConfig`). `oc apply`
//!   creates every object at once and imports run afterwards, so at that moment no tag exists.
//! - A build whose input ImageStreamTag does not exist is rejected: the build generator
//!   (openshift-apiserver, pkg/build/apiserver/buildgenerator, `Instantiate`) resolves an empty
//!   image, validation refuses the build and its number is burned.
//! - ImageChange fires when a watched tag exists and differs from the trigger's
//!   `lastTriggeredImageID`, empty at creation (openshift-controller-manager,
//!   pkg/image/trigger/buildconfigs/buildconfigs.go, `buildConfigReactor.ImageChanged`); every
//!   instantiated build records the current image of each ImageChange trigger, so a build does
//!   not fire again for an image it already used.
//! - A tag `from: DockerImage` is imported when its ImageStream is created (and again on its
//!   schedule); a tag `from: ImageStreamTag` follows that tag.
//! - A webhook matches the branch of the git source, not paths (openshift-apiserver,
//!   pkg/build/apiserver/webhook/webhook.go, `GitRefMatches`): a push starts every BuildConfig
//!   with a webhook.
//! - A workload's `image.openshift.io/triggers` annotation sets the container's image when its
//!   tag moves (pkg/image/trigger/annotations/annotations.go); until then the node pulls the
//!   `image` as written.
//!
//! It fails, naming the object and its file, on a build the API server would reject, a
//! BuildConfig that builds twice per push, an input that no build or import ever fills, a
//! BuildConfig that nothing starts, and a workload image that resolves outside its ImageStream
//! before the first build.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use anyhow::Result;

use super::manifests::{BuildConfigSpec, Manifests, Named, ObjectRef};
use crate::Error;

/// More builds than this in one event is a loop of triggers.
const MAX_BUILDS: usize = 100;

/// What happened in one event, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An ImageStream imported an image into a tag.
    Import { tag: String, from: String },
    /// A build started: its name, the BuildConfig's index, what started it, what it resolved.
    Build {
        name: String,
        build_config: usize,
        cause: String,
        resolves: Vec<String>,
        output: String,
    },
    /// A workload's trigger set its container's image.
    Rollout {
        workload: String,
        tag: String,
        image: String,
    },
}

/// The first apply and one push, as the cluster would run them.
#[derive(Debug, Clone)]
pub struct Sequence {
    /// The branch the webhooks match (the BuildConfigs' `git.ref`).
    pub branch: String,
    pub first_apply: Vec<Step>,
    pub push: Vec<Step>,
}

impl Sequence {
    /// The BuildConfigs of the first apply, each once, in the order they first build.
    pub fn build_order(&self) -> Vec<usize> {
        let mut order = Vec::new();
        for step in &self.first_apply {
            if let Step::Build { build_config, .. } = step
                && !order.contains(build_config)
            {
                order.push(*build_config);
            }
        }
        order
    }
}

impl fmt::Display for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "first apply (`oc apply -k`):")?;
        write_steps(f, &self.first_apply)?;
        writeln!(f, "a push to `{}` (webhook):", self.branch)?;
        write_steps(f, &self.push)
    }
}

fn write_steps(f: &mut fmt::Formatter<'_>, steps: &[Step]) -> fmt::Result {
    if steps.is_empty() {
        writeln!(f, "  (nothing starts)")?;
    }
    for (i, step) in steps.iter().enumerate() {
        let n = i + 1;
        match step {
            Step::Import { tag, from } => writeln!(f, "  {n}. import `{from}` into `{tag}`")?,
            Step::Build {
                name,
                cause,
                resolves,
                output,
                ..
            } => {
                writeln!(f, "  {n}. build `{name}` ({cause}) -> `{output}`")?;
                for r in resolves {
                    writeln!(f, "       {r}")?;
                }
            }
            Step::Rollout {
                workload,
                tag,
                image,
            } => writeln!(f, "  {n}. {workload} rolls out `{tag}` ({image})")?,
        }
    }
    Ok(())
}

/// Applies the committed objects to an empty namespace, then pushes once; checks the sequence.
pub fn simulate(m: &Manifests) -> Result<Sequence> {
    check_workload_images(m)?;
    let mut ns = Namespace::new(m);
    ns.other_namespaces();
    for i in 0..m.build_configs.len() {
        if has_trigger(&m.build_configs[i], "ConfigChange") {
            ns.instantiate(i, "ConfigChange, at creation".into())?;
        }
    }
    ns.import_tags();
    ns.settle()?;
    let first_apply = std::mem::take(&mut ns.log);
    let branch = branch(m);
    for i in 0..m.build_configs.len() {
        let bc = &m.build_configs[i];
        if let Some(t) = bc.spec.triggers.iter().find(|t| t.is_webhook()) {
            let cause = format!("{} webhook, push to `{branch}`", t.type_);
            ns.instantiate(i, cause)?;
        }
    }
    ns.settle()?;
    let push = std::mem::take(&mut ns.log);
    let sequence = Sequence {
        branch,
        first_apply,
        push,
    };
    check_once_per_push(m, &sequence)?;
    check_inputs_filled(m, &ns)?;
    check_every_build_config_starts(m, &sequence)?;
    check_workload_triggers_filled(m, &ns)?;
    Ok(sequence)
}

/// The branch the BuildConfigs' git sources name (`main` when none does, as the repository's
/// default branch usually is).
fn branch(m: &Manifests) -> String {
    m.build_configs
        .iter()
        .filter_map(|bc| bc.spec.source.git.as_ref()?.ref_.clone())
        .next()
        .unwrap_or_else(|| "main".into())
}

fn has_trigger(bc: &Named<BuildConfigSpec>, kind: &str) -> bool {
    bc.spec.triggers.iter().any(|t| t.type_ == kind)
}

/// `stream` -> `stream:latest`, as OpenShift reads an ImageStreamTag without a tag.
pub fn qualified(name: &str) -> String {
    if name.contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// The tag a reference names in the namespace's model: `stream:tag`, or `namespace/stream:tag`
/// for a tag of another namespace (such as `openshift/`), which the model takes as existing.
fn key(r: &ObjectRef) -> String {
    match &r.namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{}", qualified(&r.name)),
        _ => qualified(&r.name),
    }
}

/// The images a BuildConfig's build resolves: its strategy's `from` and its `images[].from`.
pub fn inputs(bc: &Named<BuildConfigSpec>) -> Vec<&ObjectRef> {
    let s = &bc.spec.strategy;
    let mut refs: Vec<&ObjectRef> = Vec::new();
    if let Some(f) = s.docker_strategy.as_ref().and_then(|d| d.from.as_ref()) {
        refs.push(f);
    }
    if let Some(src) = &s.source_strategy {
        refs.push(&src.from);
    }
    refs.extend(bc.spec.source.images.iter().map(|i| &i.from));
    refs
}

/// The ImageStreamTag an ImageChange trigger watches: its `from`, else the strategy's.
fn watched<'m>(
    bc: &'m Named<BuildConfigSpec>,
    from: Option<&'m ObjectRef>,
) -> Option<&'m ObjectRef> {
    let s = &bc.spec.strategy;
    let from = from.or_else(|| {
        s.docker_strategy
            .as_ref()
            .and_then(|d| d.from.as_ref())
            .or(s.source_strategy.as_ref().map(|src| &src.from))
    })?;
    (from.kind == "ImageStreamTag").then_some(from)
}

/// The namespace: its tags and what each trigger last fired for.
struct Namespace<'m> {
    m: &'m Manifests,
    /// `stream:tag` -> the image it points at.
    tags: BTreeMap<String, String>,
    /// (BuildConfig, trigger) -> `lastTriggeredImageID`.
    last_triggered: BTreeMap<(usize, usize), String>,
    /// BuildConfig -> `status.lastVersion`.
    versions: BTreeMap<usize, u32>,
    /// Tags that moved and whose watchers have not been told yet.
    moved: VecDeque<String>,
    /// Builds started and not finished: their output tags move when they finish.
    running: VecDeque<(String, Option<String>)>,
    log: Vec<Step>,
}

impl<'m> Namespace<'m> {
    fn new(m: &'m Manifests) -> Namespace<'m> {
        Namespace {
            m,
            tags: BTreeMap::new(),
            last_triggered: BTreeMap::new(),
            versions: BTreeMap::new(),
            moved: VecDeque::new(),
            running: VecDeque::new(),
            log: Vec::new(),
        }
    }

    /// The image `stream:tag` points at, following tags that track other tags.
    fn image(&self, tag: &str) -> Option<String> {
        let mut name = qualified(tag);
        for _ in 0..8 {
            if let Some(image) = self.tags.get(&name) {
                return Some(image.clone());
            }
            let (stream, t) = name.split_once(':')?;
            let from = self.spec_tag(stream, t)?.from.as_ref()?;
            if from.kind != "ImageStreamTag" {
                return None;
            }
            name = qualified(&from.name);
        }
        None
    }

    fn spec_tag(&self, stream: &str, tag: &str) -> Option<&'m super::manifests::TagReference> {
        let s = self.m.image_streams.iter().find(|s| s.name == stream)?;
        s.spec.tags.iter().find(|t| t.name == tag)
    }

    /// The tags of other namespaces the BuildConfigs read or watch: there before the apply.
    fn other_namespaces(&mut self) {
        for bc in &self.m.build_configs {
            let watched = bc
                .spec
                .triggers
                .iter()
                .filter_map(|t| watched(bc, t.image_change.as_ref()?.from.as_ref()));
            for r in inputs(bc).into_iter().chain(watched) {
                if r.kind == "ImageStreamTag" && key(r).contains('/') {
                    let image = "an image already in another namespace".to_string();
                    if self.tags.insert(key(r), image).is_none() {
                        self.moved.push_back(key(r));
                    }
                }
            }
        }
    }

    /// Every `from: DockerImage` tag imports its image.
    fn import_tags(&mut self) {
        for stream in &self.m.image_streams {
            for t in &stream.spec.tags {
                let Some(from) = t.from.as_ref().filter(|f| f.kind == "DockerImage") else {
                    continue;
                };
                let tag = format!("{}:{}", stream.name, t.name);
                let scheduled = if t.import_policy.scheduled {
                    ", re-imported on schedule"
                } else {
                    ""
                };
                self.tags
                    .insert(tag.clone(), format!("`{}`{scheduled}", from.name));
                self.log.push(Step::Import {
                    tag: tag.clone(),
                    from: from.name.clone(),
                });
                self.moved.push_back(tag);
            }
        }
    }

    /// Starts a build of BuildConfig `i`, or fails as the API server would reject it.
    fn instantiate(&mut self, i: usize, cause: String) -> Result<()> {
        let bc = &self.m.build_configs[i];
        let mut resolves = Vec::new();
        for r in inputs(bc) {
            if r.kind != "ImageStreamTag" {
                resolves.push(format!("{} `{}`", r.kind, r.name));
                continue;
            }
            let Some(image) = self.image(&key(r)) else {
                return Err(rejected(bc, &cause, r));
            };
            resolves.push(format!("`{}` = {image}", key(r)));
        }
        resolves.extend(source_of(bc));
        let version = self.versions.entry(i).or_default();
        *version += 1;
        let name = format!("{}-{version}", bc.name);
        self.record_triggers(i);
        let output = output_of(bc);
        self.running.push_back((name.clone(), output.clone()));
        self.log.push(Step::Build {
            name,
            build_config: i,
            cause,
            resolves,
            output: output.unwrap_or_else(|| "no ImageStreamTag".into()),
        });
        if self.log.len() > MAX_BUILDS {
            return Err(Error::new(format!(
                "the BuildConfig `{}` (`{}`) starts builds without end: its triggers form a loop",
                bc.name,
                bc.file.display()
            ))
            .into());
        }
        Ok(())
    }

    /// What the generator records on every build: the current image of each watched tag.
    fn record_triggers(&mut self, i: usize) {
        let bc = &self.m.build_configs[i];
        for (j, t) in bc.spec.triggers.iter().enumerate() {
            let Some(ic) = &t.image_change else { continue };
            if let Some(image) = watched(bc, ic.from.as_ref()).and_then(|w| self.image(&key(w))) {
                self.last_triggered.insert((i, j), image);
            }
        }
    }

    /// Tells the watchers of every moved tag and finishes the running builds (each moving its
    /// output tag), until nothing moves.
    fn settle(&mut self) -> Result<()> {
        loop {
            if let Some(tag) = self.moved.pop_front() {
                self.notify(&tag)?;
            } else if let Some((name, output)) = self.running.pop_front() {
                if let Some(tag) = output {
                    self.tags
                        .insert(tag.clone(), format!("the image of `{name}`"));
                    self.moved.push_back(tag);
                }
            } else {
                return Ok(());
            }
        }
    }

    /// Starts the builds and rollouts that `tag` moving triggers.
    fn notify(&mut self, tag: &str) -> Result<()> {
        for i in 0..self.m.build_configs.len() {
            if let Some(cause) = self.fires(i, tag) {
                self.instantiate(i, cause)?;
            }
        }
        for w in &self.m.workloads {
            if w.triggers.iter().any(|(t, _)| qualified(t) == tag) {
                let image = self.image(tag).unwrap_or_default();
                self.log.push(Step::Rollout {
                    workload: format!("{} `{}`", w.kind, w.name),
                    tag: tag.to_string(),
                    image,
                });
            }
        }
        Ok(())
    }

    /// Whether an ImageChange trigger of BuildConfig `i` fires for `tag` now, and why.
    fn fires(&self, i: usize, tag: &str) -> Option<String> {
        let bc = &self.m.build_configs[i];
        bc.spec.triggers.iter().enumerate().find_map(|(j, t)| {
            let ic = t.image_change.as_ref().filter(|ic| !ic.paused)?;
            let w = watched(bc, ic.from.as_ref())?;
            let current = self.image(&key(w))?;
            (key(w) == tag && self.last_triggered.get(&(i, j)) != Some(&current))
                .then(|| format!("ImageChange on `{tag}`"))
        })
    }
}

/// `stream:tag` of a BuildConfig's `output.to`, when it is an ImageStreamTag.
pub fn output_of(bc: &Named<BuildConfigSpec>) -> Option<String> {
    let to = bc.spec.output.to.as_ref()?;
    (to.kind == "ImageStreamTag").then(|| qualified(&to.name))
}

/// The build's source as the cluster clones it: repository, ref, `contextDir`, secret.
fn source_of(bc: &Named<BuildConfigSpec>) -> Vec<String> {
    let source = &bc.spec.source;
    let mut out = Vec::new();
    if let Some(git) = &source.git {
        let secret = match &source.source_secret {
            Some(s) => format!("the source secret `{}`", s.name),
            None => "no source secret".into(),
        };
        out.push(format!(
            "git `{}` at `{}`, contextDir `{}`, {secret}",
            git.uri,
            git.ref_.as_deref().unwrap_or("the default branch"),
            source.context_dir.as_deref().unwrap_or(".")
        ));
    }
    if source.dockerfile.is_some() {
        out.push("the inline Dockerfile".into());
    }
    out
}

/// The error of a build the API server would reject: its input tag does not exist yet.
fn rejected(bc: &Named<BuildConfigSpec>, cause: &str, r: &ObjectRef) -> anyhow::Error {
    Error::new(format!(
        "the BuildConfig `{}` (`{}`) starts a build ({cause}) before its input `{}` exists: the \
         API server rejects it (event BuildConfigInstantiateFailed) and its build number is \
         burned",
        bc.name,
        bc.file.display(),
        key(r)
    ))
    .note(
        "start it with an ImageChange trigger on that input instead (it fires once the tag \
         exists); ConfigChange fires once, at creation, before any build or import has filled \
         a tag",
    )
    .into()
}

/// A BuildConfig that builds twice in one push builds everything after it twice.
fn check_once_per_push(m: &Manifests, s: &Sequence) -> Result<()> {
    let mut count: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for step in &s.push {
        if let Step::Build {
            build_config,
            cause,
            ..
        } = step
        {
            count.entry(*build_config).or_default().push(cause);
        }
    }
    let Some((i, causes)) = count.into_iter().find(|(_, c)| c.len() > 1) else {
        return Ok(());
    };
    let bc = &m.build_configs[i];
    Err(Error::new(format!(
        "the BuildConfig `{}` (`{}`) builds {} times per push: {}",
        bc.name,
        bc.file.display(),
        causes.len(),
        causes.join("; then ")
    ))
    .note(
        "a webhook matches the branch, not paths: put the webhooks on the chain's first \
         BuildConfig only, and let the others follow by ImageChange",
    )
    .into())
}

/// The note on a tag nothing fills: the tags that are filled.
fn filled_note(ns: &Namespace<'_>) -> String {
    let filled: Vec<String> = ns.tags.keys().map(|t| format!("`{t}`")).collect();
    format!(
        "the tags that builds and imports fill are {}; build the tag with a BuildConfig's \
         `output.to`, or import it with an ImageStream tag `from: DockerImage`",
        if filled.is_empty() {
            "none".into()
        } else {
            filled.join(", ")
        }
    )
}

/// Every input of a BuildConfig is filled by the end of the push.
fn check_inputs_filled(m: &Manifests, ns: &Namespace<'_>) -> Result<()> {
    for bc in &m.build_configs {
        for r in inputs(bc)
            .into_iter()
            .filter(|r| r.kind == "ImageStreamTag")
        {
            if ns.image(&key(r)).is_none() {
                return Err(Error::new(format!(
                    "the BuildConfig `{}` (`{}`) reads `{}`, which no build or import ever \
                     fills: it would wait forever in the cluster",
                    bc.name,
                    bc.file.display(),
                    key(r)
                ))
                .note(filled_note(ns))
                .into());
            }
        }
    }
    Ok(())
}

/// Every workload trigger's tag is filled by the end of the push.
fn check_workload_triggers_filled(m: &Manifests, ns: &Namespace<'_>) -> Result<()> {
    for w in &m.workloads {
        for (tag, _) in &w.triggers {
            if ns.image(tag).is_none() {
                return Err(Error::new(format!(
                    "the {} `{}` (`{}`) is triggered by `{}`, which no build or import ever \
                     fills: it would never get an image",
                    w.kind,
                    w.name,
                    w.file.display(),
                    qualified(tag)
                ))
                .note(filled_note(ns))
                .into());
            }
        }
    }
    Ok(())
}

/// A BuildConfig that neither the first apply nor a push starts never builds.
fn check_every_build_config_starts(m: &Manifests, s: &Sequence) -> Result<()> {
    let built: Vec<usize> = s
        .first_apply
        .iter()
        .chain(&s.push)
        .filter_map(|step| match step {
            Step::Build { build_config, .. } => Some(*build_config),
            _ => None,
        })
        .collect();
    let Some(bc) = (0..m.build_configs.len())
        .find(|i| !built.contains(i))
        .map(|i| &m.build_configs[i])
    else {
        return Ok(());
    };
    let triggers: Vec<&str> = bc.spec.triggers.iter().map(|t| t.type_.as_str()).collect();
    Err(Error::new(format!(
        "the BuildConfig `{}` (`{}`) is started by no trigger, neither on the first apply nor \
         on a push (its triggers: {})",
        bc.name,
        bc.file.display(),
        if triggers.is_empty() {
            "none".into()
        } else {
            triggers.join(", ")
        }
    ))
    .note(
        "give it an ImageChange trigger on its input (the strategy's `from`, or `from:` naming \
         the image it copies from), or a webhook if it is the chain's first BuildConfig",
    )
    .into())
}

/// A container a trigger fills must not name a pullable image meanwhile, and a container that
/// runs a built image must be filled by a trigger.
fn check_workload_images(m: &Manifests) -> Result<()> {
    let built: Vec<String> = m.build_configs.iter().filter_map(output_of).collect();
    for w in &m.workloads {
        for c in &w.pod.containers {
            let image = c.image.as_str();
            let triggered = w.triggers.iter().any(|(_, name)| *name == c.name);
            let names_built = !image.trim().is_empty()
                && built.iter().any(|t| {
                    let (stream, _) = t.split_once(':').unwrap_or((t, ""));
                    qualified(image) == *t || image.rsplit('/').next() == Some(t) || image == stream
                });
            if (triggered && !image.trim().is_empty()) || (!triggered && names_built) {
                return Err(Error::new(format!(
                    "the {} `{}` (`{}`), container `{}`, has `image: {image}`, which the node \
                     pulls as written until {}: a short name goes through the node's search \
                     registries (Docker Hub's image of that name, for example)",
                    w.kind,
                    w.name,
                    w.file.display(),
                    c.name,
                    if triggered {
                        "the trigger annotation fills it after the first build"
                    } else {
                        "something sets it, and no `image.openshift.io/triggers` annotation does"
                    }
                ))
                .note(
                    "write `image: \" \"` (a single space, as `oc new-app` does) and let the \
                     `image.openshift.io/triggers` annotation set it from the ImageStreamTag",
                )
                .into());
            }
        }
    }
    Ok(())
}
