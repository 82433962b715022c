//! The slice of the Kubernetes and OpenShift object model that the manifests use, as typed
//! structs serialized with serde.
//!
//! Only the fields the generator sets exist here, declared in the order they are written, so the
//! output is stable and every field name is checked by the compiler rather than typed in a
//! template. Empty collections and unset options are left out of the YAML. This module knows
//! nothing of plans or configuration; `okd::objects` fills these structs from a Plan.

use std::collections::BTreeMap;

use serde::Serialize;

/// `apiVersion` + `kind` + `metadata` + `spec`: every object the generator writes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Object<S> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: S,
}

/// Metadata without a namespace: the namespace is set once, in `kustomization.yaml`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ObjectMeta {
    pub name: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// A reference to an image: `ImageStreamTag` (`stream:tag`) or `DockerImage` (a pull spec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectReference {
    pub kind: &'static str,
    pub name: String,
}

impl ObjectReference {
    pub fn image_stream_tag(name: String) -> ObjectReference {
        ObjectReference {
            kind: "ImageStreamTag",
            name,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LocalObjectReference {
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

// ---------------------------------------------------------------------------------------------
// image.openshift.io/v1

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageStreamSpec {
    pub lookup_policy: LookupPolicy,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagReference>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LookupPolicy {
    pub local: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagReference {
    pub name: String,
    pub from: ObjectReference,
    pub import_policy: TagImportPolicy,
    pub reference_policy: TagReferencePolicy,
}

#[derive(Debug, Clone, Serialize)]
pub struct TagImportPolicy {
    pub scheduled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TagReferencePolicy {
    #[serde(rename = "type")]
    pub type_: &'static str,
}

// ---------------------------------------------------------------------------------------------
// build.openshift.io/v1

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildConfigSpec {
    pub run_policy: &'static str,
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
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildTrigger {
    #[serde(rename = "type")]
    pub type_: &'static str,
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
    pub fn new(type_: &'static str) -> BuildTrigger {
        BuildTrigger {
            type_,
            image_change: None,
            generic: None,
            github: None,
            gitlab: None,
            bitbucket: None,
        }
    }

    /// An ImageChange trigger; `from: None` watches the strategy's own `from` image.
    pub fn image_change(from: Option<ObjectReference>) -> BuildTrigger {
        BuildTrigger {
            image_change: Some(ImageChangeTrigger { from }),
            ..BuildTrigger::new("ImageChange")
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageChangeTrigger {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<ObjectReference>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebHookTrigger {
    pub secret_reference: LocalObjectReference,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildSource {
    #[serde(rename = "type")]
    pub type_: &'static str,
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

#[derive(Debug, Clone, Serialize)]
pub struct GitBuildSource {
    pub uri: String,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub ref_: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageSource {
    pub from: ObjectReference,
    pub paths: Vec<ImageSourcePath>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSourcePath {
    pub source_path: String,
    pub destination_dir: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildStrategy {
    #[serde(rename = "type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_strategy: Option<DockerBuildStrategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_strategy: Option<SourceBuildStrategy>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DockerBuildStrategy {
    /// Replaces the Dockerfile's `FROM`; `None` keeps it (the runtime's `FROM scratch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<ObjectReference>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceBuildStrategy {
    pub from: ObjectReference,
    pub incremental: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildOutput {
    pub to: ObjectReference,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_labels: Vec<ImageLabel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageLabel {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceRequirements {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, String>,
}

// ---------------------------------------------------------------------------------------------
// apps/v1 and v1

#[derive(Debug, Clone, Serialize)]
pub struct DeploymentSpec {
    pub replicas: u32,
    pub selector: LabelSelector,
    pub template: PodTemplateSpec,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PodTemplateSpec {
    pub metadata: PodTemplateMeta,
    pub spec: PodSpec,
}

#[derive(Debug, Clone, Serialize)]
pub struct PodTemplateMeta {
    pub labels: BTreeMap<String, String>,
}

/// No pod-level `securityContext`: under `restricted-v2` OpenShift picks the UID, the group and
/// the fsGroup from the namespace's range, and a pinned one would be refused.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<&'static str>,
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    pub image: String,
    pub image_pull_policy: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ContainerPort>,
    pub resources: ResourceRequirements,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readiness_probe: Option<Probe>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_probe: Option<Probe>,
    pub security_context: SecurityContext,
}

/// A readiness or liveness probe: an HTTP GET or a TCP connect on the named port.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_get: Option<HttpGetAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_socket: Option<TcpSocketAction>,
    pub period_seconds: u32,
    pub timeout_seconds: u32,
    pub failure_threshold: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpGetAction {
    pub path: String,
    pub port: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct TcpSocketAction {
    pub port: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    pub name: &'static str,
    pub container_port: u16,
    pub protocol: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    pub run_as_non_root: bool,
    pub allow_privilege_escalation: bool,
    pub capabilities: Capabilities,
    pub seccomp_profile: SeccompProfile,
    pub read_only_root_filesystem: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    pub drop: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeccompProfile {
    #[serde(rename = "type")]
    pub type_: &'static str,
}

/// One entry of the `image.openshift.io/triggers` annotation (serialized to JSON).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageTrigger {
    pub from: ObjectReference,
    pub field_path: String,
    pub paused: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceSpec {
    pub selector: BTreeMap<String, String>,
    pub ports: Vec<ServicePort>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePort {
    pub name: &'static str,
    pub protocol: &'static str,
    pub port: u16,
    pub target_port: &'static str,
}

// ---------------------------------------------------------------------------------------------
// batch/v1

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CronJobSpec {
    pub schedule: String,
    pub concurrency_policy: &'static str,
    pub successful_jobs_history_limit: u32,
    pub failed_jobs_history_limit: u32,
    pub job_template: JobTemplateSpec,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobTemplateSpec {
    pub spec: JobSpec,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    pub backoff_limit: u32,
    pub template: PodTemplateSpec,
}

// ---------------------------------------------------------------------------------------------
// rbac.authorization.k8s.io/v1 (no `spec`)

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleBinding {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub role_ref: RoleRef,
    pub subjects: Vec<Subject>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef {
    pub api_group: &'static str,
    pub kind: &'static str,
    pub name: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub api_group: &'static str,
    pub kind: &'static str,
    pub name: &'static str,
}

// ---------------------------------------------------------------------------------------------
// route.openshift.io/v1

#[derive(Debug, Clone, Serialize)]
pub struct RouteSpec {
    pub to: RouteTargetReference,
    pub port: RoutePort,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteTargetReference {
    pub kind: &'static str,
    pub name: String,
    pub weight: u32,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutePort {
    pub target_port: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsConfig {
    pub termination: &'static str,
    pub insecure_edge_termination_policy: &'static str,
}

// ---------------------------------------------------------------------------------------------
// kustomize.config.k8s.io/v1beta1

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Kustomization {
    pub api_version: &'static str,
    pub kind: &'static str,
    /// The one place the namespace is written, so `oc apply -k` and overlays can retarget it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub resources: Vec<String>,
}
