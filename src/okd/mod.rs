//! The OKD/OpenShift manifests that run the Plan's builder → app → runtime chain in a cluster.
//!
//! [`file_sets`] turns the Plans into one [`FileSet`] per manifests directory; the CLI writes it
//! (or, with `--check`, compares it). Each directory holds, for every package whose
//! `okd.manifests-dir` it is:
//!
//! - one YAML file per object, named `<kind>-<name>.yaml` (object names are unique in a
//!   namespace, so file names cannot collide even when several packages share the directory):
//!   four ImageStreams (upstream base, builder, app, runtime) and three BuildConfigs
//!   ([`builds`]), then the workload ([`workload`]): a Deployment (with a Service and a Route when
//!   `port` is set), a CronJob, or nothing, and the webhook RoleBinding when asked for;
//! - the builder context the builder BuildConfig builds from: `builder/` when the directory
//!   belongs to one package, `<package>/builder/` when several packages share it;
//! - `kustomization.yaml` listing every object file and, when set, the one `namespace:`, so
//!   `oc apply -k <dir>` takes it all and an overlay can retarget it.
//!
//! Names, paths and settings come from the Plan (its [`Layout`](crate::plan::Layout) and
//! [`Cluster`]); the chain's ImageStreamTags use the stable `okd.tag`
//! (the version goes into the image labels), so a release changes no spec. What the cluster's
//! source build sees is the Plan's too ([`Plan::cluster_source`]). This module knows the OpenShift object model
//! and nothing of Docker; the objects are typed structs ([`model`]) written by [`yaml`].

mod builds;
pub mod model;
mod workload;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::Error;
use crate::config::Okd;
use crate::files::FileSet;
use crate::plan::{Cluster, ImageRef, Plan, Stage};
use model::*;

/// The annotation that makes OpenShift update a workload's image when an ImageStreamTag moves.
pub const TRIGGERS_ANNOTATION: &str = "image.openshift.io/triggers";

/// One [`FileSet`] per manifests directory, holding the manifests of every plan that writes there.
pub fn file_sets(plans: &[Plan]) -> Result<Vec<FileSet>> {
    let mut groups: BTreeMap<&Path, Vec<&Plan>> = BTreeMap::new();
    for plan in plans {
        groups
            .entry(&plan.layout().manifests_dir)
            .or_default()
            .push(plan);
    }
    groups
        .into_iter()
        .map(|(dir, mut plans)| {
            // The same bytes whatever order the packages were selected in.
            plans.sort_by(|a, b| (a.package(), a.service()).cmp(&(b.package(), b.service())));
            file_set(dir, &plans)
        })
        .collect()
}

/// A generated object: its kind, its name and its YAML.
struct Manifest {
    kind: String,
    name: String,
    yaml: String,
}

impl Manifest {
    fn new<S: serde::Serialize>(object: &Object<S>) -> Result<Manifest> {
        Manifest::of(&object.kind, &object.metadata.name, object)
    }

    /// An object that does not have the `spec` shape of [`Object`].
    fn of<T: serde::Serialize>(kind: &str, name: &str, object: &T) -> Result<Manifest> {
        Ok(Manifest {
            kind: kind.to_string(),
            name: name.to_string(),
            yaml: yaml::to_string(object)?,
        })
    }

    fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind.to_ascii_lowercase(), self.name)
    }
}

/// What every object of one plan shares: its names, labels and the stable tag.
struct Ctx<'a> {
    plan: &'a Plan,
    cluster: &'a Cluster,
    /// The resolved `okd` table.
    okd: &'a Okd,
    app_name: &'a str,
}

impl<'a> Ctx<'a> {
    fn new(plan: &'a Plan) -> Ctx<'a> {
        let cluster = plan.cluster();
        Ctx {
            plan,
            cluster,
            okd: plan.okd(),
            app_name: &cluster.app_name,
        }
    }

    /// The image of `stage`.
    fn image(&self, stage: Stage) -> &'a ImageRef {
        self.plan.image(stage)
    }

    fn meta(&self, name: &str, component: &str) -> ObjectMeta {
        ObjectMeta {
            name: name.to_string(),
            labels: BTreeMap::from([
                ("app.kubernetes.io/name".to_string(), self.app_name.into()),
                ("app.kubernetes.io/component".to_string(), component.into()),
            ]),
            annotations: BTreeMap::new(),
        }
    }

    /// The container's `env` (config `env`), as the app build and the workload both set it.
    fn container_env(&self) -> Vec<EnvVar> {
        let env = &self.plan.container().env;
        env.iter()
            .map(|(name, value)| EnvVar {
                name: name.clone(),
                value: Some(value.clone()),
                value_from: None,
            })
            .collect()
    }

    /// The ImageStreamTag of `stage` at the stable tag.
    fn tag(&self, stage: Stage) -> ObjectReference {
        ObjectReference::image_stream_tag(self.plan.stream_tag(stage))
    }
}

fn file_set(dir: &Path, plans: &[&Plan]) -> Result<FileSet> {
    // One builder context per group: `builder/` for one group, `<leader>/builder/` for several.
    let shared = plans.iter().filter(|p| p.leads_group()).count() > 1;
    let mut set = FileSet::new(dir);
    let mut resources = Vec::new();
    // (kind, name) → package, to refuse two packages writing the same object.
    let mut owners: BTreeMap<(String, String), &str> = BTreeMap::new();
    for plan in plans {
        let builder_dir = plan.layout().committed_builder_dir(shared);
        let ctx = Ctx::new(plan);
        let mut objects = builds::objects(&ctx, &builder_dir)?;
        objects.extend(workload::objects(&ctx)?);
        for manifest in objects {
            let key = (manifest.kind.clone(), manifest.name.clone());
            if let Some(other) = owners.insert(key, plan.package()) {
                return Err(Error::new(format!(
                    "packages `{other}` and `{}` both generate the {} `{}` in `{}`",
                    plan.package(),
                    manifest.kind,
                    manifest.name,
                    dir.display()
                ))
                .note(
                    "give one of them other image names (`builder-image`, `app-image`, \
                     `runtime-image` in `[package.metadata.s2i]`) or its own `okd.manifests-dir`",
                )
                .into());
            }
            let file = manifest.file_name();
            resources.push(file.clone());
            set.add(file, manifest.yaml, 0o644);
        }
        let builder_context = match plan.leads_group() {
            true => plan.cluster_builder_context(),
            false => &[],
        };
        for f in builder_context {
            set.add(
                format!("{builder_dir}/{}", f.path),
                f.contents.clone(),
                f.mode,
            );
        }
    }
    let kustomization = Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1".into(),
        kind: "Kustomization".into(),
        namespace: namespace(dir, plans)?,
        resources,
    };
    set.add(
        "kustomization.yaml",
        yaml::to_string(&kustomization)?,
        0o644,
    );
    Ok(set)
}

/// The one `okd.namespace` of the packages sharing a directory.
fn namespace(dir: &Path, plans: &[&Plan]) -> Result<Option<String>> {
    let mut found: Option<(&str, &Option<String>)> = None;
    for plan in plans {
        let ns = &plan.okd().manifests.namespace;
        match found {
            Some((other, theirs)) if theirs != ns => {
                return Err(Error::new(format!(
                    "packages `{other}` and `{}` share the manifests directory `{}` but not the \
                     namespace ({} and {})",
                    plan.package(),
                    dir.display(),
                    show(theirs),
                    show(ns),
                ))
                .note(
                    "the namespace is written once, in its `kustomization.yaml`; give both \
                     packages the same `okd.namespace` (e.g. in `[workspace.metadata.s2i.okd]`) \
                     or each its own `okd.manifests-dir`",
                )
                .into());
            }
            Some(_) => {}
            None => found = Some((plan.package(), ns)),
        }
    }
    Ok(found.and_then(|(_, ns)| ns.clone()))
}

fn show(ns: &Option<String>) -> String {
    match ns {
        Some(ns) => format!("`{ns}`"),
        None => "none".into(),
    }
}

/// The git source of the BuildConfigs, or an error saying which keys to set.
fn git_source(plan: &Plan) -> Result<GitBuildSource> {
    let git = &plan.okd().git;
    let Some(uri) = git.uri.clone() else {
        let manifest = plan.layout().package_manifest.display();
        let package = plan.package();
        return Err(Error::new(format!(
            "package `{package}` has no git repository for the OKD BuildConfigs to clone: \
             neither `okd.git-uri` in `[package.metadata.s2i]` nor `package.repository` is set in \
             `{manifest}`"
        ))
        .note(format!(
            "the builder and app builds run in the cluster from a git clone; add the repository \
             to `{manifest}`, e.g.\n\n    [package.metadata.s2i.okd]\n    git-uri = \
             \"https://github.com/acme/{package}.git\"\n\n(or `repository = \
             \"https://github.com/acme/{package}\"` under `[package]`; merge `git-uri` into an \
             existing `[package.metadata.s2i.okd]` table rather than adding a second one)"
        ))
        .into());
    };
    Ok(GitBuildSource {
        uri,
        ref_: git.git_ref.clone(),
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
