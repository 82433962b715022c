//! `cargo xtask image`: the command-line flags ([`ImageArgs`]) and the pipeline they drive —
//! read the workspace, build the selected packages' Plans ([`Plan::for_workspace`]), then render,
//! emit manifests and run the Docker chain.
//!
//! Everything is validated before anything is written, so bad input leaves no file behind.

use std::path::{Path, PathBuf};

use anyhow::Result;
use cargo_metadata::Metadata;

use crate::Error;
use crate::config::BUILDER_BASE_ENV;
use crate::files::FileSet;
use crate::plan::{BUILDER_DIR, Plan, RUNTIME_DOCKERFILE};
use crate::render;
use crate::sink::{self, Event, Sink};

/// How `cargo xtask image` reports progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MessageFormat {
    /// Cargo-style status lines on stderr.
    #[default]
    Human,
    /// One JSON object per line on stdout.
    Json,
}

/// Build container images the Source-to-Image way and write the OKD manifests that build them
/// in a cluster.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ImageArgs {
    /// Package to build (repeatable); default: every package with `[package.metadata.s2i]`
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub packages: Vec<String>,
    /// Do everything that needs no container engine: render the builder context and write the manifests
    #[arg(long, visible_alias = "manifests-only")]
    pub no_build: bool,
    /// Write nothing; exit 1 with a diff when the committed manifests differ from what would be generated
    #[arg(long)]
    pub check: bool,
    /// Write the default templates to `.s2i/templates/` to customize them
    #[arg(long)]
    pub eject: bool,
    /// Override `builder-base` (also `XTASK_S2I_BUILDER_BASE`)
    #[arg(long, value_name = "IMAGE", env = BUILDER_BASE_ENV)]
    pub builder_base: Option<String>,
    /// Rebuild every stage even when its inputs did not change
    #[arg(long)]
    pub no_cache: bool,
    /// Build the builder and runtime images with `docker build` of their rendered Dockerfiles
    /// (step by step, slower) instead of assembling them directly through the Engine API
    #[arg(long)]
    pub docker_build: bool,
    /// Rehearse the cluster's builds locally from the committed manifests at `okd.git-ref`
    /// (builder, app and runtime BuildConfigs, then the workload), instead of the local chain
    /// (with `--no-build`: only check and print the build sequence the triggers start)
    #[arg(long, conflicts_with_all = ["check", "eject", "push", "docker_build"])]
    pub rehearse: bool,
    /// Push the three images after building them (credentials from `~/.docker/config.json`)
    #[arg(long)]
    pub push: bool,
    /// Path to the workspace's Cargo.toml (default: found from the current directory)
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = MessageFormat::Human, value_name = "FMT")]
    pub message_format: MessageFormat,
    /// Show build output
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Show only warnings and errors
    #[arg(short, long)]
    pub quiet: bool,
}

/// What one run did, per package.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    plans: Vec<Plan>,
    /// What each stage of each package did, in order (empty when no image was built).
    pub stages: Vec<sink::StageReport>,
}

impl Summary {
    /// The packages the run was about, in the order they were selected.
    pub fn packages(&self) -> impl Iterator<Item = &str> {
        self.plans.iter().map(Plan::package)
    }

    /// The Plans of the run, for this repository's tests.
    #[cfg(feature = "internal")]
    #[doc(hidden)]
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }
}

impl ImageArgs {
    /// Runs the command with the progress sink its flags ask for; an error is also reported to
    /// the sink, as an [`Event::Error`] (the JSON sink prints it, the human one leaves it to the
    /// caller, e.g. [`crate::exit_with`]).
    pub fn run(self) -> Result<()> {
        let sink: Box<dyn Sink> = match self.message_format {
            MessageFormat::Json => Box::new(sink::Json::new()),
            MessageFormat::Human => Box::new(sink::Human::new(if self.quiet {
                sink::Verbosity::Quiet
            } else if self.verbose {
                sink::Verbosity::Verbose
            } else {
                sink::Verbosity::Normal
            })),
        };
        let result = self.execute(sink.as_ref()).map(|_| ());
        if let Err(e) = &result {
            // For machines; the human sink leaves the error to the caller (`exit_with`).
            sink.event(Event::error(e));
        }
        result
    }

    /// Runs the command, reporting to `sink`; returns what was done.
    pub fn execute(&self, sink: &dyn Sink) -> Result<Summary> {
        let metadata = crate::config::read_metadata(self.manifest_path.as_deref())?;
        let root = metadata.workspace_root.clone().into_std_path_buf();

        if self.eject {
            eject(&root, sink)?;
            return Ok(Summary::default());
        }

        let plans = Plan::for_workspace(&metadata, &self.packages, self.builder_base.as_deref())?;
        warn_misplaced(&plans, sink);
        if self.rehearse {
            crate::rehearse::rehearse(
                &plans,
                self.builder_base.as_deref(),
                self.no_cache,
                !self.no_build,
                sink,
            )?;
            return Ok(Summary {
                plans,
                stages: Vec::new(),
            });
        }

        // Generate every manifest before writing anything, so an error leaves no file behind.
        let sets = self.manifest_sets(&metadata, &plans, sink)?;

        // The local build context lives under target/; it is not committed and never checked.
        if !self.check {
            for plan in &plans {
                write_local_context(plan, sink)?;
            }
        }

        write_manifests(sets, self.check, sink)?;

        if self.no_build || self.check {
            return Ok(Summary {
                plans,
                stages: Vec::new(),
            });
        }
        self.build(plans, &metadata, sink)
    }

    /// The manifest sets of the selected packages' directories. A local build does not need
    /// them: there, a directory with a package that has no git repository for the BuildConfigs
    /// is skipped with a warning naming the keys to set; `--no-build` and `--check`, whose
    /// product the manifests are, fail instead.
    fn manifest_sets(
        &self,
        metadata: &Metadata,
        plans: &[Plan],
        sink: &dyn Sink,
    ) -> Result<Vec<FileSet>> {
        let mut manifest_plans = Plan::sharing_manifests(
            metadata,
            &self.packages,
            plans,
            self.builder_base.as_deref(),
        )?;
        if !(self.no_build || self.check) {
            let skipped: Vec<PathBuf> = manifest_plans
                .iter()
                .filter(|p| p.okd().git.uri.is_none())
                .map(|p| {
                    sink.event(Event::warning(no_repository(p)));
                    p.layout().manifests_dir.clone()
                })
                .collect();
            manifest_plans.retain(|p| !skipped.contains(&p.layout().manifests_dir));
        }
        let sets = crate::okd::file_sets(&manifest_plans)?;
        if !self.check {
            for plan in &manifest_plans {
                let git = &plan.okd().git;
                if let (true, None, Some(uri)) = (git.uri_from_origin, &git.source_secret, &git.uri)
                {
                    sink.event(Event::status(
                        "Using",
                        format!(
                            "the git `origin` remote `{uri}` as `okd.git-uri` of `{}` (a \
                             private repository also needs `okd.source-secret`)",
                            plan.package()
                        ),
                    ));
                }
            }
        }
        Ok(sets)
    }

    /// Runs the local chain of every plan, then reports the summary.
    fn build(&self, plans: Vec<Plan>, metadata: &Metadata, sink: &dyn Sink) -> Result<Summary> {
        let opts = crate::engine::Options {
            no_cache: self.no_cache,
            push: self.push,
            docker_build: self.docker_build,
        };
        let started = std::time::Instant::now();
        let mut summary = Summary {
            plans,
            stages: Vec::new(),
        };
        // One chain per group: its builder and app stage once, a runtime image per service.
        let mut groups: Vec<Vec<&Plan>> = Vec::new();
        for plan in &summary.plans {
            match groups
                .iter_mut()
                .find(|g| g[0].group().name == plan.group().name)
            {
                Some(group) => group.push(plan),
                None => groups.push(vec![plan]),
            }
        }
        let mut stages = Vec::new();
        for services in &groups {
            let source = crate::source::Closure::scan(services[0], metadata)?;
            stages.extend(crate::engine::build(services, &source, &opts, sink)?);
            for plan in services {
                sink.event(Event::status(
                    "Run",
                    format!("it with `{}`", plan.run_hint()),
                ));
            }
        }
        summary.stages = stages;
        sink.event(Event::Summary {
            stages: summary.stages.clone(),
            seconds: started.elapsed().as_secs_f64(),
        });
        Ok(summary)
    }
}

/// The warning of a local build that skips the manifests of `plan`'s directory for want of a
/// git repository.
fn no_repository(plan: &Plan) -> String {
    format!(
        "package `{}` has no git repository for the OKD BuildConfigs to clone, so the manifests \
         in `{}` are not written (the images are built): set `okd.git-uri` in \
         `[package.metadata.s2i]` or `package.repository` in `{}`, or add a git `origin` remote",
        plan.package(),
        plan.layout().manifests_dir.display(),
        plan.layout().package_manifest.display()
    )
}

/// An `.s2i/bin`, `.s2i/environment` or `.s2iignore` that s2i would not read (not at the
/// source root): a warning each, once per workspace.
fn warn_misplaced(plans: &[Plan], sink: &dyn Sink) {
    let mut seen = std::collections::BTreeSet::new();
    for plan in plans {
        if let Ok(source) = plan.cluster_source() {
            for warning in source.misplaced(plan.layout()) {
                if seen.insert(warning.clone()) {
                    sink.event(Event::warning(warning));
                }
            }
        }
    }
}

/// `--eject`: the default templates into the workspace's `.s2i/templates/`, never overwriting.
fn eject(root: &Path, sink: &dyn Sink) -> Result<()> {
    let (written, skipped) = render::eject(root)?;
    for p in &written {
        sink.event(Event::status("Ejected", p.display().to_string()));
    }
    for p in &skipped {
        sink.event(Event::status("Kept", format!("{} (exists)", p.display())));
    }
    Ok(())
}

/// The local build context of `plan` under `target/`: not committed and never checked.
fn write_local_context(plan: &Plan, sink: &dyn Sink) -> Result<()> {
    let out_dir = &plan.layout().out_dir;
    let mut set = FileSet::new(out_dir);
    for f in plan.builder_context() {
        set.add(
            format!("{BUILDER_DIR}/{}", f.path),
            f.contents.clone(),
            f.mode,
        );
    }
    set.add(
        RUNTIME_DOCKERFILE,
        plan.runtime_dockerfile().to_string(),
        0o644,
    );
    set.apply(false)?;
    sink.event(Event::status(
        "Rendered",
        format!(
            "{} builder context in `{}`",
            plan.package(),
            out_dir.display()
        ),
    ));
    Ok(())
}

/// Writes (or, with `check`, compares) the generated manifest sets.
fn write_manifests(sets: Vec<FileSet>, check: bool, sink: &dyn Sink) -> Result<()> {
    let mut drifted = Vec::new();
    for set in sets {
        let outcome = set.apply(check)?;
        let dir = set.root.display();
        if check {
            if outcome.drifted.is_empty() {
                sink.event(Event::status("Checked", format!("`{dir}` is up to date")));
            }
            drifted.extend(
                outcome
                    .drifted
                    .into_iter()
                    .map(|(rel, diff)| (set.root.join(rel), diff)),
            );
        } else {
            for rel in &outcome.written {
                sink.event(Event::status(
                    "Writing",
                    format!("`{}`", set.root.join(rel).display()),
                ));
            }
            for rel in &outcome.removed {
                sink.event(Event::status(
                    "Removed",
                    format!("stale `{}`", set.root.join(rel).display()),
                ));
            }
            sink.event(Event::status(
                "Generated",
                format!(
                    "`{dir}` ({} written, {} unchanged)",
                    outcome.written.len(),
                    outcome.unchanged.len()
                ),
            ));
        }
    }
    if !drifted.is_empty() {
        let mut msg = String::new();
        for (path, diff) in &drifted {
            msg.push_str(&format!(
                "`{}` differs from what would be generated:\n{diff}\n",
                path.display()
            ));
        }
        let files: Vec<String> = drifted
            .iter()
            .map(|(p, _)| format!("`{}`", p.display()))
            .collect();
        return Err(Error::new(format!(
            "{msg}the generated files are out of date: {}",
            files.join(", ")
        ))
        .note("run `cargo xtask image --no-build` to regenerate them, then commit")
        .into());
    }
    Ok(())
}
