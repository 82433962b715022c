//! The slice of the Kubernetes and OpenShift object model that the manifests use, as typed
//! structs serialized with serde.
//!
//! One model for both directions: the generator writes these structs, and the rehearsal reads the
//! committed YAML back into them. The fields are the ones the generator sets, declared in the
//! order they are written (so the output is stable and every field name is checked by the
//! compiler rather than typed in a template), plus the few a hand-edited manifest may carry and
//! the rehearsal honours (`dockerfilePath`, `dockerStrategy.env`, `valueFrom`, `command`,
//! `args`, `initialDelaySeconds`, `paused`). Empty collections and unset options are left out of
//! the YAML; a missing field reads as its default and unknown fields are ignored, so a field
//! the generator adds later does not break the rehearsal of older manifests. This module knows
//! nothing of plans or configuration; `okd::objects` fills these structs from a Plan.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `apiVersion` + `kind` + `metadata` + `spec`: every object the generator writes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct Object<S> {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: S,
}

/// Metadata without a namespace: the namespace is set once, in `kustomization.yaml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectMeta {
    pub name: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A reference to an image: `ImageStreamTag` (`stream:tag`) or `DockerImage` (a pull spec).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectReference {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl ObjectReference {
    pub fn image_stream_tag(name: String) -> ObjectReference {
        ObjectReference {
            kind: "ImageStreamTag".into(),
            name,
            namespace: None,
        }
    }

    /// `ImageStreamTag `stream:tag``, for messages.
    pub fn describe(&self) -> String {
        format!("{} `{}`", self.kind, self.name)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LocalObjectReference {
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvVar {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Read from a hand-written manifest; the rehearsal leaves such a variable unset.
    #[serde(rename = "valueFrom", skip_serializing_if = "Option::is_none")]
    pub value_from: Option<serde_json::Value>,
}

// ---------------------------------------------------------------------------------------------
// image.openshift.io/v1

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct ImageStreamSpec {
    pub lookup_policy: LookupPolicy,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagReference>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LookupPolicy {
    pub local: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct TagReference {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<ObjectReference>,
    pub import_policy: TagImportPolicy,
    pub reference_policy: TagReferencePolicy,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TagImportPolicy {
    pub scheduled: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TagReferencePolicy {
    #[serde(rename = "type")]
    pub type_: String,
}

// ---------------------------------------------------------------------------------------------
// build.openshift.io/v1

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct BuildConfigSpec {
    pub run_policy: String,
    pub triggers: Vec<BuildTrigger>,
    pub source: BuildSource,
    pub strategy: BuildStrategy,
    pub output: BuildOutput,
    pub resources: ResourceRequirements,
    pub completion_deadline_seconds: u32,
    pub successful_builds_history_limit: u32,
    pub failed_builds_history_limit: u32,
}

/// One trigger: `type` always, plus the block its type needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct BuildTrigger {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_change: Option<ImageChangeTrigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generic: Option<WebHookTrigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub github: Option<WebHookTrigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gitlab: Option<WebHookTrigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bitbucket: Option<WebHookTrigger>,
}

impl BuildTrigger {
    /// A trigger of `type_` with no block set.
    pub fn new(type_: &str) -> BuildTrigger {
        BuildTrigger {
            type_: type_.into(),
            image_change: None,
            generic: None,
            github: None,
            gitlab: None,
            bitbucket: None,
        }
    }

    /// A webhook the forge calls on a push: GitHub, GitLab, Bitbucket or Generic.
    pub fn is_webhook(&self) -> bool {
        matches!(
            self.type_.as_str(),
            "GitHub" | "GitLab" | "Bitbucket" | "Generic"
        )
    }

    /// An ImageChange trigger; `from: None` watches the strategy's own `from` image.
    pub fn image_change(from: Option<ObjectReference>) -> BuildTrigger {
        BuildTrigger {
            image_change: Some(ImageChangeTrigger {
                from,
                paused: false,
            }),
            ..BuildTrigger::new("ImageChange")
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageChangeTrigger {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<ObjectReference>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct WebHookTrigger {
    pub secret_reference: LocalObjectReference,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct BuildSource {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<GitBuildSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_secret: Option<LocalObjectReference>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GitBuildSource {
    pub uri: String,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub ref_: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageSource {
    pub from: ObjectReference,
    pub paths: Vec<ImageSourcePath>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct ImageSourcePath {
    pub source_path: String,
    pub destination_dir: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct BuildStrategy {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_strategy: Option<DockerBuildStrategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_strategy: Option<SourceBuildStrategy>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct DockerBuildStrategy {
    /// Replaces the Dockerfile's `FROM`; `None` keeps it (the runtime's `FROM scratch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<ObjectReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile_path: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SourceBuildStrategy {
    pub from: ObjectReference,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incremental: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct BuildOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<ObjectReference>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_labels: Vec<ImageLabel>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageLabel {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ResourceRequirements {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, String>,
}

// ---------------------------------------------------------------------------------------------
// apps/v1 and v1

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentSpec {
    pub replicas: u32,
    pub selector: LabelSelector,
    pub template: PodTemplateSpec,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PodTemplateSpec {
    pub metadata: PodTemplateMeta,
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PodTemplateMeta {
    pub labels: BTreeMap<String, String>,
}

/// No pod-level `securityContext`: under `restricted-v2` OpenShift picks the UID, the group and
/// the fsGroup from the namespace's range, and a pinned one would be refused.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<String>,
    pub containers: Vec<Container>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
}

/// A Secret or ConfigMap whose keys become environment variables.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct EnvFromSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<LocalObjectReference>,
}

/// A pod volume: the generator writes only `emptyDir`; the rehearsal mounts only `emptyDir`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDirVolumeSource>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct EmptyDirVolumeSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_limit: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    pub image: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    pub image_pull_policy: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env_from: Vec<EnvFromSource>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    pub resources: ResourceRequirements,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    pub security_context: SecurityContext,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
}

/// A readiness or liveness probe: an HTTP GET or a TCP connect on the named port.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocketAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_delay_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_threshold: Option<u32>,
}

/// A port given by number or by the name of a container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl Default for PortRef {
    fn default() -> PortRef {
        PortRef::Name(String::new())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpGetAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub port: PortRef,
    /// `HTTPS` when the program serves TLS (the kubelet does not verify its certificate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TcpSocketAction {
    pub port: PortRef,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    pub name: String,
    pub container_port: u16,
    pub protocol: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    pub run_as_non_root: bool,
    pub allow_privilege_escalation: bool,
    pub capabilities: Capabilities,
    pub seccomp_profile: SeccompProfile,
    pub read_only_root_filesystem: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    pub drop: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SeccompProfile {
    #[serde(rename = "type")]
    pub type_: String,
}

/// One entry of the `image.openshift.io/triggers` annotation (serialized to JSON).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct ImageTrigger {
    pub from: ObjectReference,
    pub field_path: String,
    pub paused: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceSpec {
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<ServicePort>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    pub name: String,
    pub protocol: String,
    pub port: u16,
    pub target_port: String,
}

// ---------------------------------------------------------------------------------------------
// batch/v1

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct CronJobSpec {
    pub schedule: String,
    pub concurrency_policy: String,
    pub successful_jobs_history_limit: u32,
    pub failed_jobs_history_limit: u32,
    pub job_template: JobTemplateSpec,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct JobTemplateSpec {
    pub spec: JobSpec,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    pub backoff_limit: u32,
    pub template: PodTemplateSpec,
}

// ---------------------------------------------------------------------------------------------
// rbac.authorization.k8s.io/v1 (no `spec`)

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct RoleBinding {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub role_ref: RoleRef,
    pub subjects: Vec<Subject>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef {
    pub api_group: String,
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub api_group: String,
    pub kind: String,
    pub name: String,
}

// ---------------------------------------------------------------------------------------------
// route.openshift.io/v1

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteSpec {
    pub to: RouteTargetReference,
    pub port: RoutePort,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteTargetReference {
    pub kind: String,
    pub name: String,
    pub weight: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct RoutePort {
    pub target_port: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    pub termination: String,
    pub insecure_edge_termination_policy: String,
}

// ---------------------------------------------------------------------------------------------
// kustomize.config.k8s.io/v1beta1

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
#[serde(rename_all = "camelCase")]
pub struct Kustomization {
    pub api_version: String,
    pub kind: String,
    /// The one place the namespace is written, so `oc apply -k` and overlays can retarget it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub resources: Vec<String>,
}
