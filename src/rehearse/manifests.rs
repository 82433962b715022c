//! The committed manifests, read from the YAML files (not from the Plan) into the generator's own
//! object model ([`crate::okd::model`]): BuildConfigs, ImageStreams, and the pod templates and
//! trigger annotations of Deployments and CronJobs. A field the model does not know is ignored;
//! a field it reads that is malformed fails the rehearsal, naming the file.

use std::path::{Path, PathBuf};

use crate::Error;
use anyhow::{Context as _, Result};
use serde::Deserialize;

use crate::okd::model::ImageTrigger;

pub use crate::okd::model::{
    BuildConfigSpec, Container, EnvVar, ImageSourcePath as ImagePath, ImageStreamSpec,
    ObjectReference as ObjectRef, PodSpec, PortRef, Probe, TagReference,
};

/// A workload that runs images: a Deployment or a CronJob.
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: String,
    pub name: String,
    pub file: PathBuf,
    /// `image.openshift.io/triggers`: (ImageStreamTag, container name).
    pub triggers: Vec<(String, String)>,
    pub pod: PodSpec,
}

/// One object of interest, with the file it came from.
#[derive(Debug, Clone)]
pub struct Named<T> {
    pub name: String,
    /// The file, relative to the committed tree's root.
    pub file: PathBuf,
    pub spec: T,
}

/// Every object the rehearsal reads from a manifests directory.
#[derive(Debug, Default)]
pub struct Manifests {
    pub build_configs: Vec<Named<BuildConfigSpec>>,
    pub image_streams: Vec<Named<ImageStreamSpec>>,
    pub workloads: Vec<Workload>,
}

#[derive(Deserialize)]
struct Object {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    spec: serde_norway::Value,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    name: String,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Kustomization {
    #[serde(default)]
    resources: Vec<String>,
}

/// Reads the manifests directory `dir` (relative to `tree`): the files its `kustomization.yaml`
/// lists, else every `*.yaml`/`*.yml` file in it.
pub fn read(tree: &Path, dir: &Path) -> Result<Manifests> {
    let abs = tree.join(dir);
    if !abs.is_dir() {
        return Err(Error::new(format!("the committed tree has no `{}`", dir.display()))
            .note(
                "generate the manifests with `cargo xtask image --no-build`, commit them and push",
            )
            .into());
    }
    let kustomization = abs.join("kustomization.yaml");
    let files: Vec<PathBuf> = if kustomization.is_file() {
        let text = std::fs::read_to_string(&kustomization)?;
        let k: Kustomization = serde_norway::from_str(&text).with_context(|| {
            format!(
                "failed to parse `{}`",
                dir.join("kustomization.yaml").display()
            )
        })?;
        k.resources.iter().map(|r| dir.join(r)).collect()
    } else {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&abs)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .filter_map(|p| p.strip_prefix(tree).ok().map(Path::to_path_buf))
            .collect();
        files.sort();
        files
    };
    let mut manifests = Manifests::default();
    for file in files {
        read_file(tree, &file, &mut manifests)?;
    }
    Ok(manifests)
}

/// Reads every object of interest in `file` (relative to `tree`) into `m`.
fn read_file(tree: &Path, file: &Path, m: &mut Manifests) -> Result<()> {
    let text = std::fs::read_to_string(tree.join(file))
        .with_context(|| format!("failed to read the committed manifest `{}`", file.display()))?;
    for doc in serde_norway::Deserializer::from_str(&text) {
        let value = serde_norway::Value::deserialize(doc)
            .with_context(|| format!("failed to parse `{}`", file.display()))?;
        if value.is_null() {
            continue;
        }
        let o: Object = serde_norway::from_value(value)
            .with_context(|| format!("failed to read `{}`", file.display()))?;
        read_object(file, o, m)?;
    }
    Ok(())
}

/// The error context of an object whose fields do not fit the model.
fn malformed(file: &Path, kind: &str, name: &str) -> String {
    format!(
        "the committed {kind} `{name}` in `{}` is malformed",
        file.display()
    )
}

fn read_object(file: &Path, o: Object, m: &mut Manifests) -> Result<()> {
    let (kind, name) = (o.kind.as_str(), o.metadata.name.clone());
    match kind {
        "BuildConfig" => m.build_configs.push(Named {
            spec: serde_norway::from_value(o.spec).with_context(|| malformed(file, kind, &name))?,
            name,
            file: file.to_path_buf(),
        }),
        "ImageStream" => m.image_streams.push(Named {
            spec: serde_norway::from_value(o.spec).with_context(|| malformed(file, kind, &name))?,
            name,
            file: file.to_path_buf(),
        }),
        "Deployment" | "CronJob" => m.workloads.push(workload(file, &o)?),
        _ => {}
    }
    Ok(())
}

/// A Deployment's or CronJob's pod template and its image triggers.
fn workload(file: &Path, o: &Object) -> Result<Workload> {
    let (kind, name) = (o.kind.as_str(), o.metadata.name.as_str());
    let pod = if kind == "Deployment" {
        &o.spec["template"]["spec"]
    } else {
        &o.spec["jobTemplate"]["spec"]["template"]["spec"]
    };
    let pod: PodSpec =
        serde_norway::from_value(pod.clone()).with_context(|| malformed(file, kind, name))?;
    let triggers = match o.metadata.annotations.get("image.openshift.io/triggers") {
        Some(json) => serde_json::from_str::<Vec<ImageTrigger>>(json)
            .with_context(|| {
                format!(
                    "{}: its `image.openshift.io/triggers` annotation",
                    malformed(file, kind, name)
                )
            })?
            .into_iter()
            .filter(|t| t.from.kind == "ImageStreamTag")
            .map(|t| (t.from.name, container_of(&t.field_path)))
            .collect(),
        None => Vec::new(),
    };
    Ok(Workload {
        kind: kind.to_string(),
        name: name.to_string(),
        file: file.to_path_buf(),
        triggers,
        pod,
    })
}

/// `spec.template.spec.containers[?(@.name=="web")].image` -> `web`.
fn container_of(field_path: &str) -> String {
    field_path
        .split("@.name==")
        .nth(1)
        .map(|rest| {
            rest.trim_start_matches(['"', '\''])
                .split(['"', '\''])
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_field_paths_name_their_container() {
        assert_eq!(
            container_of(r#"spec.template.spec.containers[?(@.name=="hello-world")].image"#),
            "hello-world"
        );
        assert_eq!(container_of("spec.template.spec.containers[0].image"), "");
    }
}
