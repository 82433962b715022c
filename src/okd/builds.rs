//! The ImageStreams and the three BuildConfigs of the chain: the builder (Docker strategy over
//! the committed builder context, FROM the tracked upstream base), the app (Source strategy over
//! the repository with the builder, incremental) and the runtime (an inline `FROM scratch`
//! Dockerfile plus the binary copied out of the app image).
//!
//! Every build carries `resources` and a `completionDeadlineSeconds`; the Git-sourced ones carry
//! `sourceSecret` when configured; every trigger has its `type`, and an ImageChange trigger names
//! its `from` wherever the watched image is not the strategy's own.
//!
//! The triggers make one build sequence per event, as the controllers fire them:
//! - No ConfigChange trigger anywhere. The buildconfig controller fires it once, when the
//!   BuildConfig is created (openshift-controller-manager,
//!   pkg/build/controller/buildconfig/buildconfig_controller.go, `handleBuildConfig`:
//!   `LastVersion > 0` returns early), whether or not its input tag exists yet; the build
//!   generator (openshift-apiserver, pkg/build/apiserver/buildgenerator, `Instantiate`) then
//!   resolves an empty image and validation rejects the build, burning its number. Even the
//!   builder's input, the imported base tag, may still be importing when `oc apply` creates the
//!   BuildConfig.
//! - An ImageChange trigger on every BuildConfig: the image trigger controller
//!   (openshift-controller-manager, pkg/image/trigger/buildconfigs/buildconfigs.go,
//!   `buildConfigReactor.ImageChanged`) starts a build when the watched tag exists and differs
//!   from `lastTriggeredImageID`, which is empty at creation: so each BuildConfig builds once on
//!   the first apply, as soon as its input exists, and again whenever its input moves.
//! - Webhooks on the builder BuildConfig only: a webhook matches the branch of the git source,
//!   not paths (openshift-apiserver, pkg/build/apiserver/webhook/webhook.go, `GitRefMatches`),
//!   so a webhook on the app BuildConfig too would build the app once by webhook and once by the
//!   new builder image. A push builds the builder, whose new image builds the app, whose new
//!   image builds the runtime, whose new image rolls the workload.

use anyhow::Result;

use super::{Ctx, Manifest, git_source, repo_path};
use crate::config::WebhookKind;
use crate::okd::model::*;
use crate::plan::{ClusterSource, ImageRef, Stage, WORKSPACE_DIR_ENV};

/// How many finished builds of each kind a BuildConfig keeps.
const HISTORY_LIMIT: u32 = 5;
/// The label that carries the package version into each image.
const VERSION_LABEL: &str = "org.opencontainers.image.version";

/// The streams and BuildConfigs of one plan, in chain order; `builder_dir` is the builder
/// context's directory relative to the manifests directory.
pub(super) fn objects(ctx: &Ctx<'_>, builder_dir: &str) -> Result<Vec<Manifest>> {
    let git = git_source(ctx.plan)?;
    let source = ctx.plan.cluster_source()?;
    let mut out = streams(ctx)?;
    // A group's builder and app are its leader's to write, once.
    if ctx.plan.leads_group() {
        out.push(Manifest::new(&builder_build(ctx, &git, builder_dir))?);
        out.push(Manifest::new(&app_build(ctx, &git, source))?);
    }
    out.push(Manifest::new(&runtime_build(ctx))?);
    Ok(out)
}

/// The ImageStreams: the one tracking the upstream base, then one per stage.
fn streams(ctx: &Ctx<'_>) -> Result<Vec<Manifest>> {
    let cluster = ctx.cluster;
    let stream = |r: &ImageRef, component: &str, local: bool, tags: Vec<TagReference>| Object {
        api_version: "image.openshift.io/v1".into(),
        kind: "ImageStream".into(),
        metadata: ctx.meta(r.stream(), component),
        spec: ImageStreamSpec {
            lookup_policy: LookupPolicy { local },
            tags,
        },
    };
    if !ctx.plan.leads_group() {
        let runtime = stream(
            ctx.image(Stage::Runtime),
            Stage::Runtime.name(),
            true,
            vec![],
        );
        return Ok(vec![Manifest::new(&runtime)?]);
    }
    let mut out = vec![Manifest::new(&stream(
        &cluster.base_stream,
        "builder-base",
        false,
        vec![TagReference {
            name: cluster.base_stream.tag.clone(),
            from: Some(ObjectReference {
                kind: "DockerImage".into(),
                name: cluster.base.clone(),
                namespace: None,
            }),
            import_policy: TagImportPolicy { scheduled: true },
            // Builds pull the imported image through the internal registry: one pull from
            // the upstream registry per import, not one per build.
            reference_policy: TagReferencePolicy {
                type_: "Local".into(),
            },
        }],
    ))?];
    for stage in Stage::ALL {
        // Only the runtime stream resolves its bare name, for pods a user writes by hand; the
        // generated workload takes its image from the trigger annotation instead.
        let local = stage == Stage::Runtime;
        out.push(Manifest::new(&stream(
            ctx.image(stage),
            stage.name(),
            local,
            vec![],
        ))?);
    }
    Ok(out)
}

/// The BuildConfig of `stage`, with what every build shares: run policy, output to the stable
/// tag, resources, deadline and history.
fn build_config(
    ctx: &Ctx<'_>,
    stage: Stage,
    triggers: Vec<BuildTrigger>,
    source: BuildSource,
    strategy: BuildStrategy,
    image_labels: Vec<ImageLabel>,
) -> Object<BuildConfigSpec> {
    let builds = &ctx.okd.builds;
    Object {
        api_version: "build.openshift.io/v1".into(),
        kind: "BuildConfig".into(),
        metadata: ctx.meta(ctx.image(stage).stream(), stage.name()),
        spec: BuildConfigSpec {
            run_policy: "Serial".into(),
            triggers,
            source,
            strategy,
            output: BuildOutput {
                to: Some(ctx.tag(stage)),
                image_labels,
            },
            resources: ResourceRequirements {
                limits: builds.resources.limits.clone(),
                requests: builds.resources.requests.clone(),
            },
            completion_deadline_seconds: builds.timeout,
            successful_builds_history_limit: HISTORY_LIMIT,
            failed_builds_history_limit: HISTORY_LIMIT,
        },
    }
}

/// The repository at `context_dir`, with the source secret when configured.
fn git_build_source(ctx: &Ctx<'_>, git: &GitBuildSource, context_dir: String) -> BuildSource {
    BuildSource {
        type_: "Git".into(),
        git: Some(git.clone()),
        context_dir: (context_dir != ".").then_some(context_dir),
        dockerfile: None,
        images: vec![],
        source_secret: ctx
            .okd
            .git
            .source_secret
            .clone()
            .map(|name| LocalObjectReference { name }),
    }
}

/// The builder image: the committed builder context, FROM the tracked upstream base.
fn builder_build(
    ctx: &Ctx<'_>,
    git: &GitBuildSource,
    builder_dir: &str,
) -> Object<BuildConfigSpec> {
    let layout = ctx.plan.layout();
    // No `from`: the strategy's own `from`, the base tag; fires once the import has landed.
    let mut triggers = vec![BuildTrigger::image_change(None)];
    triggers.extend(webhooks(ctx));
    let context_dir = repo_path(&[
        &layout.workspace_in_repo,
        &layout.manifests_in_workspace,
        builder_dir,
    ]);
    build_config(
        ctx,
        Stage::Builder,
        triggers,
        git_build_source(ctx, git, context_dir),
        BuildStrategy {
            type_: "Docker".into(),
            docker_strategy: Some(DockerBuildStrategy {
                // The base stream's tag follows the upstream tag, not `okd.tag`.
                from: Some(ObjectReference::image_stream_tag(
                    ctx.cluster.base_stream.stream_tag(),
                )),
                ..DockerBuildStrategy::default()
            }),
            source_strategy: None,
        },
        vec![ImageLabel {
            name: VERSION_LABEL.into(),
            value: ctx.plan.version().to_string(),
        }],
    )
}

/// The app image: S2I over the repository at `contextDir` with the builder; assemble is told
/// where the workspace is when the source is a directory above it.
fn app_build(
    ctx: &Ctx<'_>,
    git: &GitBuildSource,
    source: &ClusterSource,
) -> Object<BuildConfigSpec> {
    // No webhook: a push rebuilds the builder, whose new image starts this build.
    let triggers = vec![BuildTrigger::image_change(None)];
    let mut env = ctx.container_env();
    if source.workspace_dir != "." {
        env.push(EnvVar {
            name: WORKSPACE_DIR_ENV.into(),
            value: Some(source.workspace_dir.clone()),
            value_from: None,
        });
    }
    build_config(
        ctx,
        Stage::App,
        triggers,
        git_build_source(ctx, git, source.context_dir.clone()),
        BuildStrategy {
            type_: "Source".into(),
            docker_strategy: None,
            source_strategy: Some(SourceBuildStrategy {
                from: ctx.tag(Stage::Builder),
                incremental: Some(true),
                env,
            }),
        },
        image_labels(ctx),
    )
}

/// The runtime image: the binary copied out of the app image onto `FROM scratch`.
fn runtime_build(ctx: &Ctx<'_>) -> Object<BuildConfigSpec> {
    let plan = ctx.plan;
    build_config(
        ctx,
        Stage::Runtime,
        // The strategy has no `from` (it would replace `FROM scratch`), so the watched image
        // must be named.
        vec![BuildTrigger::image_change(Some(ctx.tag(Stage::App)))],
        BuildSource {
            type_: "Dockerfile".into(),
            git: None,
            context_dir: None,
            dockerfile: Some(without_labels(plan.runtime_dockerfile())),
            images: vec![ImageSource {
                from: ctx.tag(Stage::App),
                paths: runtime_paths(plan),
            }],
            source_secret: None,
        },
        BuildStrategy {
            type_: "Docker".into(),
            docker_strategy: Some(DockerBuildStrategy::default()),
            source_strategy: None,
        },
        image_labels(ctx),
    )
}

/// What the runtime build copies out of the app image into its context: the binary, and the
/// runtime files' directory (as `runtime/`, which the Dockerfile copies to `/`), the same files
/// the local runtime stage reads.
fn runtime_paths(plan: &crate::plan::Plan) -> Vec<ImageSourcePath> {
    let mut paths = vec![ImageSourcePath {
        source_path: plan.bin_path().to_string(),
        destination_dir: ".".into(),
    }];
    if let Some(dir) = plan.runtime_dir() {
        paths.push(ImageSourcePath {
            source_path: dir.to_string(),
            destination_dir: ".".into(),
        });
    }
    paths
}

/// The labels of the app and runtime images, as `output.imageLabels`.
fn image_labels(ctx: &Ctx<'_>) -> Vec<ImageLabel> {
    ctx.plan
        .image_labels()
        .iter()
        .map(|(name, value)| ImageLabel {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

/// The webhook triggers of the chain's first BuildConfig, the builder's.
fn webhooks(ctx: &Ctx<'_>) -> Vec<BuildTrigger> {
    ctx.okd
        .git
        .webhooks
        .iter()
        .map(|(kind, secret)| {
            let hook = Some(WebHookTrigger {
                secret_reference: LocalObjectReference {
                    name: secret.clone(),
                },
            });
            let base = BuildTrigger::new("");
            match kind {
                WebhookKind::Generic => BuildTrigger {
                    type_: "Generic".into(),
                    generic: hook,
                    ..base
                },
                WebhookKind::GitHub => BuildTrigger {
                    type_: "GitHub".into(),
                    github: hook,
                    ..base
                },
                WebhookKind::GitLab => BuildTrigger {
                    type_: "GitLab".into(),
                    gitlab: hook,
                    ..base
                },
                WebhookKind::Bitbucket => BuildTrigger {
                    type_: "Bitbucket".into(),
                    bitbucket: hook,
                    ..base
                },
            }
        })
        .collect()
}

/// The runtime Dockerfile without its `LABEL` instructions: in the cluster `output.imageLabels`
/// sets the same labels, and the spec stays the same across versions.
fn without_labels(dockerfile: &str) -> String {
    let mut out = String::new();
    let mut in_label = false;
    for line in dockerfile.lines() {
        let continued = line.trim_end().ends_with('\\');
        if in_label || line.starts_with("LABEL ") {
            in_label = continued;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::without_labels;

    #[test]
    fn labels_are_dropped_from_the_runtime_dockerfile() {
        let dockerfile =
            "# c\nFROM scratch\nLABEL \"a\"=\"1\" \\\n      \"b\"=\"2\"\nLABEL c=3\nUSER 1\n";
        assert_eq!(without_labels(dockerfile), "# c\nFROM scratch\nUSER 1\n");
    }
}
