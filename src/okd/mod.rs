//! The OKD/OpenShift manifests that run the Plan's builder → app → runtime chain in a cluster.
//!
//! [`file_sets`] turns the Plans into one [`FileSet`] per manifests directory; the CLI writes it
//! (or, with `--check`, compares it). Each directory holds, for every package whose
//! `okd.manifests-dir` it is:
//!
//! - one YAML file per object, named `<kind>-<name>.yaml` (object names are unique in a
//!   namespace, so file names cannot collide even when several packages share the directory):
//!   four ImageStreams (upstream base, builder, app, runtime), three BuildConfigs, a Deployment,
//!   and a Service and a Route when `port` is set;
//! - the builder context the builder BuildConfig builds from: `builder/` when the directory
//!   belongs to one package, `<package>/builder/` when several packages share it;
//! - `kustomization.yaml` listing every object file, so `oc apply -k <dir>` takes it all.
//!
//! Names, tags and paths come from the Plan only. This module knows the OpenShift object model
//! and nothing of Docker; the objects are typed structs ([`model`]) written by [`yaml`].

pub mod model;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::config::{Tls, WebhookKind};
use crate::files::FileSet;
use crate::plan::Plan;
use model::*;

/// The annotation that makes OpenShift update a Deployment's image when an ImageStreamTag moves.
pub const TRIGGERS_ANNOTATION: &str = "image.openshift.io/triggers";
/// How many finished builds of each kind a BuildConfig keeps.
const HISTORY_LIMIT: u32 = 5;
/// The name of the container port, used by the Service and the Route.
const PORT_NAME: &str = "http";

/// One [`FileSet`] per manifests directory, holding the manifests of every plan that writes there.
pub fn file_sets(plans: &[Plan]) -> Result<Vec<FileSet>> {
    let mut groups: BTreeMap<&Path, Vec<&Plan>> = BTreeMap::new();
    for plan in plans {
        groups.entry(&plan.manifests_dir).or_default().push(plan);
    }
    groups
        .into_iter()
        .map(|(dir, mut plans)| {
            // The same bytes whatever order the packages were selected in.
            plans.sort_by(|a, b| a.package().cmp(b.package()));
            file_set(dir, &plans)
        })
        .collect()
}

/// A generated object: its kind, its name and its YAML.
struct Manifest {
    kind: &'static str,
    name: String,
    yaml: String,
}

impl Manifest {
    fn new<S: serde::Serialize>(object: &Object<S>) -> Result<Manifest> {
        Ok(Manifest {
            kind: object.kind,
            name: object.metadata.name.clone(),
            yaml: yaml::to_string(object)?,
        })
    }

    fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name)
    }
}

fn file_set(dir: &Path, plans: &[&Plan]) -> Result<FileSet> {
    let shared = plans.len() > 1;
    let mut set = FileSet::new(dir);
    let mut resources = Vec::new();
    // (kind, name) → package, to refuse two packages writing the same object.
    let mut owners: BTreeMap<(&'static str, String), &str> = BTreeMap::new();
    for plan in plans {
        let builder_dir = if shared {
            format!("{}/builder", plan.package())
        } else {
            "builder".to_string()
        };
        for manifest in objects(plan, &builder_dir)? {
            let key = (manifest.kind, manifest.name.clone());
            if let Some(other) = owners.insert(key, plan.package()) {
                bail!(
                    "packages `{other}` and `{}` both generate the {} `{}` in `{}`\nnote: give one of them other image names (`builder-image`, `app-image`, `runtime-image` in `[package.metadata.s2i]`) or its own `okd.manifests-dir`",
                    plan.package(),
                    manifest.kind,
                    manifest.name,
                    dir.display()
                );
            }
            let file = manifest.file_name();
            resources.push(file.clone());
            set.add(file, manifest.yaml, 0o644);
        }
        for f in &plan.cluster_builder_context {
            set.add(
                format!("{builder_dir}/{}", f.path),
                f.contents.clone(),
                f.mode,
            );
        }
    }
    let kustomization = Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources,
    };
    set.add(
        "kustomization.yaml",
        yaml::to_string(&kustomization)?,
        0o644,
    );
    Ok(set)
}

/// The objects of one plan, in chain order; `builder_dir` is the builder context's directory
/// relative to the manifests directory.
fn objects(plan: &Plan, builder_dir: &str) -> Result<Vec<Manifest>> {
    let git = git_source(plan)?;
    let okd = &plan.config.okd;
    let app_name = plan.runtime.stream().to_string();
    let meta = |name: &str, component: &str| ObjectMeta {
        name: name.to_string(),
        namespace: okd.namespace.clone(),
        labels: BTreeMap::from([
            ("app.kubernetes.io/name".to_string(), app_name.clone()),
            ("app.kubernetes.io/component".to_string(), component.into()),
        ]),
        annotations: BTreeMap::new(),
    };
    let tag = |r: &crate::plan::ImageRef| ObjectReference::image_stream_tag(r.stream_tag());
    let stream = |name: &str, component: &str, local: bool, tags: Vec<TagReference>| Object {
        api_version: "image.openshift.io/v1",
        kind: "ImageStream",
        metadata: meta(name, component),
        spec: ImageStreamSpec {
            lookup_policy: LookupPolicy { local },
            tags,
        },
    };
    let resources = (!okd.build_limits.is_empty() || !okd.build_requests.is_empty()).then(|| {
        ResourceRequirements {
            limits: okd.build_limits.clone(),
            requests: okd.build_requests.clone(),
        }
    });
    let build_config = |name: &str,
                        component: &str,
                        triggers: Vec<BuildTrigger>,
                        source: BuildSource,
                        strategy: BuildStrategy,
                        output: BuildOutput| Object {
        api_version: "build.openshift.io/v1",
        kind: "BuildConfig",
        metadata: meta(name, component),
        spec: BuildConfigSpec {
            run_policy: "Serial",
            triggers,
            source,
            strategy,
            output,
            resources: resources.clone(),
            successful_builds_history_limit: HISTORY_LIMIT,
            failed_builds_history_limit: HISTORY_LIMIT,
        },
    };
    let image_labels: Vec<ImageLabel> = plan
        .image_labels
        .iter()
        .map(|(name, value)| ImageLabel {
            name: name.clone(),
            value: value.clone(),
        })
        .collect();
    let env: Vec<EnvVar> = plan
        .env()
        .iter()
        .map(|(name, value)| EnvVar {
            name: name.clone(),
            value: value.clone(),
        })
        .collect();

    let mut out = vec![
        Manifest::new(&stream(
            plan.base_stream.stream(),
            "builder-base",
            false,
            vec![TagReference {
                name: plan.base_stream.tag.clone(),
                from: ObjectReference {
                    kind: "DockerImage",
                    name: plan.cluster_base.clone(),
                },
                import_policy: TagImportPolicy { scheduled: true },
                reference_policy: TagReferencePolicy { type_: "Source" },
            }],
        ))?,
        Manifest::new(&stream(plan.builder.stream(), "builder", false, vec![]))?,
        Manifest::new(&stream(plan.app.stream(), "app", false, vec![]))?,
        Manifest::new(&stream(plan.runtime.stream(), "runtime", true, vec![]))?,
    ];

    // The builder image: the committed builder context, FROM the tracked upstream base.
    out.push(Manifest::new(&build_config(
        plan.builder.stream(),
        "builder",
        vec![
            BuildTrigger::config_change(),
            // No `from`: the strategy's own `from`, the base tag.
            BuildTrigger::image_change(None),
        ],
        BuildSource {
            type_: "Git",
            git: Some(git.clone()),
            context_dir: Some(repo_path(&[
                &okd.context_dir,
                &okd.manifests_dir,
                builder_dir,
            ])),
            dockerfile: None,
            images: vec![],
        },
        BuildStrategy {
            type_: "Docker",
            docker_strategy: Some(DockerBuildStrategy {
                from: Some(tag(&plan.base_stream)),
            }),
            source_strategy: None,
        },
        BuildOutput {
            to: tag(&plan.builder),
            image_labels: vec![],
        },
    ))?);

    // The app image: S2I over the source with the builder.
    let mut app_triggers = vec![
        BuildTrigger::config_change(),
        BuildTrigger::image_change(None),
    ];
    for (kind, secret) in &okd.webhooks {
        let hook = Some(WebHookTrigger {
            secret_reference: LocalObjectReference {
                name: secret.clone(),
            },
        });
        let base = BuildTrigger::new("");
        app_triggers.push(match kind {
            WebhookKind::Generic => BuildTrigger {
                type_: "Generic",
                generic: hook,
                ..base
            },
            WebhookKind::GitHub => BuildTrigger {
                type_: "GitHub",
                github: hook,
                ..base
            },
            WebhookKind::GitLab => BuildTrigger {
                type_: "GitLab",
                gitlab: hook,
                ..base
            },
            WebhookKind::Bitbucket => BuildTrigger {
                type_: "Bitbucket",
                bitbucket: hook,
                ..base
            },
        });
    }
    let context_dir = repo_path(&[&okd.context_dir]);
    out.push(Manifest::new(&build_config(
        plan.app.stream(),
        "app",
        app_triggers,
        BuildSource {
            type_: "Git",
            git: Some(git),
            context_dir: (context_dir != ".").then_some(context_dir),
            dockerfile: None,
            images: vec![],
        },
        BuildStrategy {
            type_: "Source",
            docker_strategy: None,
            source_strategy: Some(SourceBuildStrategy {
                from: tag(&plan.builder),
                incremental: true,
                env: env.clone(),
            }),
        },
        BuildOutput {
            to: tag(&plan.app),
            image_labels: image_labels.clone(),
        },
    ))?);

    // The runtime image: the binary copied out of the app image onto `FROM scratch`.
    out.push(Manifest::new(&build_config(
        plan.runtime.stream(),
        "runtime",
        vec![
            BuildTrigger::config_change(),
            // The strategy has no `from` (it would replace `FROM scratch`), so the watched
            // image must be named.
            BuildTrigger::image_change(Some(tag(&plan.app))),
        ],
        BuildSource {
            type_: "Dockerfile",
            git: None,
            context_dir: None,
            dockerfile: Some(plan.runtime_dockerfile.clone()),
            images: vec![ImageSource {
                from: tag(&plan.app),
                paths: vec![ImageSourcePath {
                    source_path: plan.bin_path.clone(),
                    destination_dir: ".".into(),
                }],
            }],
        },
        BuildStrategy {
            type_: "Docker",
            docker_strategy: Some(DockerBuildStrategy { from: None }),
            source_strategy: None,
        },
        BuildOutput {
            to: tag(&plan.runtime),
            image_labels,
        },
    ))?);

    // The Deployment, redeployed by OpenShift whenever the runtime tag moves.
    let container = app_name.clone();
    let triggers = vec![ImageTrigger {
        from: tag(&plan.runtime),
        field_path: format!("spec.template.spec.containers[?(@.name==\"{container}\")].image"),
        paused: false,
    }];
    let mut deployment_meta = meta(&app_name, "runtime");
    deployment_meta.annotations.insert(
        TRIGGERS_ANNOTATION.into(),
        serde_json::to_string(&triggers)?,
    );
    let selector = BTreeMap::from([("deployment".to_string(), app_name.clone())]);
    let mut pod_labels = meta(&app_name, "runtime").labels;
    pod_labels.extend(selector.clone());
    let port = plan.config.port;
    out.push(Manifest::new(&Object {
        api_version: "apps/v1",
        kind: "Deployment",
        metadata: deployment_meta,
        spec: DeploymentSpec {
            replicas: okd.replicas,
            selector: LabelSelector {
                match_labels: selector.clone(),
            },
            template: PodTemplateSpec {
                metadata: PodTemplateMeta { labels: pod_labels },
                spec: PodSpec {
                    containers: vec![Container {
                        name: container,
                        // Resolved through the runtime stream's local lookup policy, and
                        // replaced by the trigger with the digest of each new image.
                        image: plan.runtime.stream_tag(),
                        image_pull_policy: "IfNotPresent",
                        env,
                        ports: port
                            .map(|p| ContainerPort {
                                name: PORT_NAME,
                                container_port: p,
                                protocol: "TCP",
                            })
                            .into_iter()
                            .collect(),
                        security_context: SecurityContext {
                            run_as_non_root: true,
                            run_as_user: plan.config.runtime_user,
                            allow_privilege_escalation: false,
                            capabilities: Capabilities { drop: vec!["ALL"] },
                            seccomp_profile: SeccompProfile {
                                type_: "RuntimeDefault",
                            },
                        },
                    }],
                },
            },
        },
    })?);

    if let Some(port) = port {
        out.push(Manifest::new(&Object {
            api_version: "v1",
            kind: "Service",
            metadata: meta(&app_name, "runtime"),
            spec: ServiceSpec {
                selector,
                ports: vec![ServicePort {
                    name: PORT_NAME,
                    protocol: "TCP",
                    port,
                    target_port: PORT_NAME,
                }],
            },
        })?);
        let termination = match okd.tls {
            Tls::Edge => Some("edge"),
            Tls::Passthrough => Some("passthrough"),
            Tls::Reencrypt => Some("reencrypt"),
            Tls::None => None,
        };
        out.push(Manifest::new(&Object {
            api_version: "route.openshift.io/v1",
            kind: "Route",
            metadata: meta(&app_name, "runtime"),
            spec: RouteSpec {
                to: RouteTargetReference {
                    kind: "Service",
                    name: app_name.clone(),
                    weight: 100,
                },
                port: RoutePort {
                    target_port: PORT_NAME,
                },
                tls: termination.map(|termination| TlsConfig {
                    termination,
                    insecure_edge_termination_policy: "Redirect",
                }),
            },
        })?);
    }
    Ok(out)
}

/// The git source of the BuildConfigs, or an error saying which keys to set.
fn git_source(plan: &Plan) -> Result<GitBuildSource> {
    let okd = &plan.config.okd;
    let Some(uri) = okd.git_uri.clone() else {
        let manifest = plan.config.package.manifest_path.display();
        bail!(
            "package `{}` has no git repository for the OKD BuildConfigs to clone: neither `okd.git-uri` in `[package.metadata.s2i]` nor `package.repository` is set in `{manifest}`\nnote: the builder and app builds run in the cluster from a git clone; add the repository to `{manifest}`, e.g.\n\n    [package.metadata.s2i.okd]\n    git-uri = \"https://github.com/acme/{}.git\"\n\n(or `repository = \"https://github.com/acme/{}\"` under `[package]`; merge `git-uri` into an existing `[package.metadata.s2i.okd]` table rather than adding a second one)",
            plan.package(),
            plan.package(),
            plan.package(),
        );
    };
    Ok(GitBuildSource {
        uri,
        ref_: okd.git_ref.clone(),
    })
}

/// Joins repository-relative paths with `/`, dropping empty and `.` segments; `.` when nothing
/// is left.
fn repo_path(parts: &[&str]) -> String {
    let joined: PathBuf = parts.iter().collect();
    let segments: Vec<String> = joined
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if segments.is_empty() {
        ".".into()
    } else {
        segments.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_are_normalized() {
        assert_eq!(
            repo_path(&[".", "deploy/okd", "builder"]),
            "deploy/okd/builder"
        );
        assert_eq!(
            repo_path(&["examples/hello-world", "deploy/okd", "hello/builder"]),
            "examples/hello-world/deploy/okd/hello/builder"
        );
        assert_eq!(repo_path(&["."]), ".");
        assert_eq!(repo_path(&["./a/", "b"]), "a/b");
    }
}
