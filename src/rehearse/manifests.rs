//! The committed manifests, read from the YAML files (not from the Plan), with serde types of
//! this module's own for exactly what the rehearsal reads: BuildConfigs (strategy, source,
//! `contextDir`, `from`, `env`, `images[].paths`, the inline `dockerfile`, `output.to`),
//! ImageStream tags, and the containers of Deployments and CronJobs (image, env, ports, command,
//! readiness probe). Everything else in the objects is ignored, so a field the generator adds
//! later does not break the rehearsal; a field it reads that is malformed fails it, naming the
//! file.

use std::path::{Path, PathBuf};

use crate::Error;
use anyhow::{Context as _, Result};
use serde::Deserialize;

/// `kind`/`name` of a referenced image: `ImageStreamTag` `stream:tag` or `DockerImage` `ref`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

impl ObjectRef {
    pub fn describe(&self) -> String {
        format!("{} `{}`", self.kind, self.name)
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct EnvVar {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default, rename = "valueFrom")]
    pub value_from: Option<serde_norway::Value>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BuildConfigSpec {
    #[serde(default)]
    pub source: BuildSource,
    pub strategy: Strategy,
    #[serde(default)]
    pub output: BuildOutput,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BuildSource {
    #[serde(default)]
    pub git: Option<serde_norway::Value>,
    #[serde(default)]
    pub context_dir: Option<String>,
    #[serde(default)]
    pub dockerfile: Option<String>,
    #[serde(default)]
    pub images: Vec<ImageSource>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSource {
    pub from: ObjectRef,
    #[serde(default)]
    pub paths: Vec<ImagePath>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImagePath {
    pub source_path: String,
    pub destination_dir: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Strategy {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub docker_strategy: Option<DockerStrategy>,
    #[serde(default)]
    pub source_strategy: Option<SourceStrategy>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DockerStrategy {
    #[serde(default)]
    pub from: Option<ObjectRef>,
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub dockerfile_path: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStrategy {
    pub from: ObjectRef,
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub incremental: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct BuildOutput {
    #[serde(default)]
    pub to: Option<ObjectRef>,
    #[serde(default)]
    pub image_labels: Vec<ImageLabel>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ImageLabel {
    pub name: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct ImageStreamSpec {
    #[serde(default)]
    pub tags: Vec<TagReference>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TagReference {
    pub name: String,
    #[serde(default)]
    pub from: Option<ObjectRef>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub ports: Vec<ContainerPort>,
    #[serde(default)]
    pub readiness_probe: Option<Probe>,
    #[serde(default)]
    pub volume_mounts: Vec<VolumeMount>,
    /// `envFrom`: Secrets and ConfigMaps, which the rehearsal cannot supply.
    #[serde(default)]
    pub env_from: Vec<serde_norway::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
}

/// A pod volume; only `emptyDir` has a local equivalent (a tmpfs).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    #[serde(default)]
    pub empty_dir: Option<serde_norway::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    pub container_port: u16,
    #[serde(default)]
    pub name: Option<String>,
}

/// A port given by number or by the name of a container port.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(default)]
    pub http_get: Option<HttpGet>,
    #[serde(default)]
    pub tcp_socket: Option<TcpSocket>,
    #[serde(default)]
    pub initial_delay_seconds: Option<u32>,
    #[serde(default)]
    pub period_seconds: Option<u32>,
    #[serde(default)]
    pub failure_threshold: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpGet {
    #[serde(default)]
    pub path: Option<String>,
    pub port: PortRef,
    /// `HTTP` (the default) or `HTTPS`.
    #[serde(default)]
    pub scheme: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TcpSocket {
    pub port: PortRef,
}

/// The pod template of a Deployment (`spec.template.spec`) or a CronJob
/// (`spec.jobTemplate.spec.template.spec`).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct PodSpec {
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default)]
    pub volumes: Vec<Volume>,
}

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

#[derive(Deserialize)]
struct Trigger {
    from: ObjectRef,
    #[serde(rename = "fieldPath", default)]
    field_path: String,
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

#[allow(clippy::too_many_lines)] // rewritten by issue 18 (one chain)
fn read_file(tree: &Path, file: &Path, m: &mut Manifests) -> Result<()> {
    let text = std::fs::read_to_string(tree.join(file))
        .with_context(|| format!("failed to read the committed manifest `{}`", file.display()))?;
    let malformed = |kind: &str, name: &str| {
        format!(
            "the committed {kind} `{name}` in `{}` is malformed",
            file.display()
        )
    };
    for doc in serde_norway::Deserializer::from_str(&text) {
        let value = serde_norway::Value::deserialize(doc)
            .with_context(|| format!("failed to parse `{}`", file.display()))?;
        if value.is_null() {
            continue;
        }
        let o: Object = serde_norway::from_value(value)
            .with_context(|| format!("failed to read `{}`", file.display()))?;
        let (kind, name) = (o.kind.as_str(), o.metadata.name.clone());
        match kind {
            "BuildConfig" => m.build_configs.push(Named {
                spec: serde_norway::from_value(o.spec).with_context(|| malformed(kind, &name))?,
                name,
                file: file.to_path_buf(),
            }),
            "ImageStream" => m.image_streams.push(Named {
                spec: serde_norway::from_value(o.spec).with_context(|| malformed(kind, &name))?,
                name,
                file: file.to_path_buf(),
            }),
            "Deployment" | "CronJob" => {
                let pod = if kind == "Deployment" {
                    &o.spec["template"]["spec"]
                } else {
                    &o.spec["jobTemplate"]["spec"]["template"]["spec"]
                };
                let pod: PodSpec = serde_norway::from_value(pod.clone())
                    .with_context(|| malformed(kind, &name))?;
                let triggers = match o.metadata.annotations.get("image.openshift.io/triggers") {
                    Some(json) => serde_json::from_str::<Vec<Trigger>>(json)
                        .with_context(|| {
                            format!(
                                "{}: its `image.openshift.io/triggers` annotation",
                                malformed(kind, &name)
                            )
                        })?
                        .into_iter()
                        .filter(|t| t.from.kind == "ImageStreamTag")
                        .map(|t| (t.from.name, container_of(&t.field_path)))
                        .collect(),
                    None => Vec::new(),
                };
                m.workloads.push(Workload {
                    kind: kind.to_string(),
                    name,
                    file: file.to_path_buf(),
                    triggers,
                    pod,
                });
            }
            _ => {}
        }
    }
    Ok(())
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
