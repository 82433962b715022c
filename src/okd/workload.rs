//! What runs the runtime image: a Deployment (with a Service and a Route when `port` is set), a
//! CronJob on `okd.schedule`, or nothing (`okd.workload`); and the RoleBinding that lets
//! unauthenticated callers reach the build webhooks (OpenShift 4.16 and later no longer allow it
//! by default) when `okd.unauthenticated-webhooks` asks for it.
//!
//! The pod template is written for the `restricted-v2` SCC as it is: no `runAsUser`,
//! `runAsGroup` or `fsGroup` (OpenShift assigns them from the namespace's range, and a static
//! binary on `scratch` runs under any UID), a container that drops every capability, cannot
//! escalate, uses the runtime's default seccomp profile and a read-only root file system, with an
//! `emptyDir` at `/tmp` (size-limited) since nothing else is writable.
//! Each workload carries the `image.openshift.io/triggers` annotation, so a new runtime image
//! rolls it out.

use std::collections::BTreeMap;

use anyhow::Result;

use super::{Ctx, Manifest, TRIGGERS_ANNOTATION};
use crate::config::{Tls, Workload};
use crate::okd::model::*;
use crate::plan::Stage;

/// The container image before the trigger annotation sets it: what `oc new-app` writes.
pub(crate) const UNSET_IMAGE: &str = " ";

/// The name of the container port, used by the probes, the Service and the Route.
const PORT_NAME: &str = "http";

/// The workload objects of one plan.
pub(super) fn objects(ctx: &Ctx<'_>) -> Result<Vec<Manifest>> {
    let okd = ctx.okd;
    let mut out = Vec::new();
    match okd.workload.kind {
        Workload::None => {}
        Workload::Deployment => {
            out.push(deployment(ctx)?);
            if let Some(port) = ctx.plan.container().port {
                out.extend(service_and_route(ctx, port)?);
            }
        }
        Workload::CronJob => out.push(cron_job(ctx)?),
    }
    if okd.git.unauthenticated_webhooks {
        out.push(webhook_role_binding(ctx)?);
    }
    Ok(out)
}

/// Metadata with the trigger annotation that sets the container's image at `field_prefix`.
fn triggered_meta(ctx: &Ctx<'_>, field_prefix: &str) -> Result<ObjectMeta> {
    let triggers = vec![ImageTrigger {
        from: ctx.tag(Stage::Runtime),
        field_path: format!(
            "{field_prefix}.containers[?(@.name==\"{}\")].image",
            ctx.app_name
        ),
        paused: false,
    }];
    let mut meta = ctx.meta(ctx.app_name, "runtime");
    meta.annotations.insert(
        TRIGGERS_ANNOTATION.into(),
        serde_json::to_string(&triggers)?,
    );
    Ok(meta)
}

/// The runtime container, as `restricted-v2` admits it.
fn container(ctx: &Ctx<'_>) -> Container {
    let workload = &ctx.okd.workload;
    let port = ctx
        .plan
        .container()
        .port
        .filter(|_| workload.kind == Workload::Deployment);
    let probe = |period_seconds| port.map(|_| probe(ctx, period_seconds));
    Container {
        name: ctx.app_name.to_string(),
        // A single space, as `oc new-app` writes it: nothing a node could pull (Kubernetes'
        // validation lets it through on purpose: pkg/apis/core/validation, the comment on
        // `image = " "` citing openshift/origin#14659). The image trigger controller
        // (openshift-controller-manager, pkg/image/trigger/annotations/annotations.go,
        // `annotationReactor.ImageChanged`) fills it from the annotation once the runtime tag
        // exists, and again with each new image. A pullable name here would be pulled as
        // written before the first build, through the node's search registries (for
        // `hello-world:latest`, Docker Hub's own image).
        image: UNSET_IMAGE.into(),
        command: vec![],
        image_pull_policy: "IfNotPresent".into(),
        args: ctx.plan.container().args.clone(),
        env: ctx.container_env(),
        env_from: env_from(ctx),
        ports: port
            .map(|p| ContainerPort {
                name: PORT_NAME.into(),
                container_port: p,
                protocol: "TCP".into(),
            })
            .into_iter()
            .collect(),
        resources: ResourceRequirements {
            limits: workload.resources.limits.clone(),
            requests: workload.resources.requests.clone(),
        },
        readiness_probe: probe(5),
        liveness_probe: probe(10),
        security_context: SecurityContext {
            run_as_non_root: true,
            allow_privilege_escalation: false,
            capabilities: Capabilities {
                drop: vec!["ALL".into()],
            },
            seccomp_profile: SeccompProfile {
                type_: "RuntimeDefault".into(),
            },
            read_only_root_filesystem: true,
        },
        volume_mounts: vec![VolumeMount {
            name: TMP_VOLUME.into(),
            mount_path: "/tmp".into(),
        }],
    }
}

/// `okd.env-from`: the named Secrets and ConfigMaps, in order.
fn env_from(ctx: &Ctx<'_>) -> Vec<EnvFromSource> {
    use crate::config::okd::workload::EnvFrom;
    let reference = |name: &String| Some(LocalObjectReference { name: name.clone() });
    ctx.okd
        .workload
        .env_from
        .iter()
        .map(|e| match e {
            EnvFrom::Secret(name) => EnvFromSource {
                secret_ref: reference(name),
                config_map_ref: None,
            },
            EnvFrom::ConfigMap(name) => EnvFromSource {
                secret_ref: None,
                config_map_ref: reference(name),
            },
        })
        .collect()
}

/// A readiness or liveness probe on the container's port: HTTP GET of `okd.health-path`, else a
/// TCP connect.
fn probe(ctx: &Ctx<'_>, period_seconds: u32) -> Probe {
    let workload = &ctx.okd.workload;
    let port = || PortRef::Name(PORT_NAME.into());
    Probe {
        http_get: workload.health_path.clone().map(|path| HttpGetAction {
            path: Some(path),
            port: port(),
            scheme: workload.serves_tls.then(|| "HTTPS".into()),
        }),
        tcp_socket: match workload.health_path {
            Some(_) => None,
            None => Some(TcpSocketAction { port: port() }),
        },
        initial_delay_seconds: None,
        period_seconds: Some(period_seconds),
        timeout_seconds: Some(1),
        failure_threshold: Some(3),
    }
}

/// The name of the `/tmp` volume.
const TMP_VOLUME: &str = "tmp";
/// The size limit of the `/tmp` volume: the kubelet evicts a pod that writes more.
pub(crate) const TMP_SIZE_LIMIT: &str = "256Mi";

/// The pod's volumes: a writable `/tmp`, since the root file system is read-only.
fn volumes() -> Vec<Volume> {
    vec![Volume {
        name: TMP_VOLUME.into(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(TMP_SIZE_LIMIT.into()),
        }),
    }]
}

fn selector(ctx: &Ctx<'_>) -> BTreeMap<String, String> {
    BTreeMap::from([("deployment".to_string(), ctx.app_name.to_string())])
}

fn deployment(ctx: &Ctx<'_>) -> Result<Manifest> {
    let selector = selector(ctx);
    let mut pod_labels = ctx.meta(ctx.app_name, "runtime").labels;
    pod_labels.extend(selector.clone());
    Manifest::new(&Object {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        metadata: triggered_meta(ctx, "spec.template.spec")?,
        spec: DeploymentSpec {
            replicas: ctx.okd.workload.replicas,
            selector: LabelSelector {
                match_labels: selector,
            },
            template: PodTemplateSpec {
                metadata: PodTemplateMeta { labels: pod_labels },
                spec: PodSpec {
                    restart_policy: None,
                    containers: vec![container(ctx)],
                    volumes: volumes(),
                },
            },
        },
    })
}

fn cron_job(ctx: &Ctx<'_>) -> Result<Manifest> {
    Manifest::new(&Object {
        api_version: "batch/v1".into(),
        kind: "CronJob".into(),
        metadata: triggered_meta(ctx, "spec.jobTemplate.spec.template.spec")?,
        spec: CronJobSpec {
            schedule: ctx.okd.workload.schedule.clone().unwrap_or_default(),
            // A run that outlasts its interval is not doubled.
            concurrency_policy: "Forbid".into(),
            successful_jobs_history_limit: 3,
            failed_jobs_history_limit: 3,
            job_template: JobTemplateSpec {
                spec: JobSpec {
                    backoff_limit: 2,
                    template: PodTemplateSpec {
                        metadata: PodTemplateMeta {
                            labels: ctx.meta(ctx.app_name, "runtime").labels,
                        },
                        spec: PodSpec {
                            restart_policy: Some("Never".into()),
                            containers: vec![container(ctx)],
                            volumes: volumes(),
                        },
                    },
                },
            },
        },
    })
}

fn service_and_route(ctx: &Ctx<'_>, port: u16) -> Result<Vec<Manifest>> {
    let service = Manifest::new(&Object {
        api_version: "v1".into(),
        kind: "Service".into(),
        metadata: ctx.meta(ctx.app_name, "runtime"),
        spec: ServiceSpec {
            selector: selector(ctx),
            ports: vec![ServicePort {
                name: PORT_NAME.into(),
                protocol: "TCP".into(),
                port,
                target_port: PORT_NAME.into(),
            }],
        },
    })?;
    let termination = match ctx.okd.workload.tls {
        Tls::Edge => Some("edge"),
        Tls::Passthrough => Some("passthrough"),
        Tls::Reencrypt => Some("reencrypt"),
        Tls::None => None,
    };
    let route = Manifest::new(&Object {
        api_version: "route.openshift.io/v1".into(),
        kind: "Route".into(),
        metadata: ctx.meta(ctx.app_name, "runtime"),
        spec: RouteSpec {
            to: RouteTargetReference {
                kind: "Service".into(),
                name: ctx.app_name.to_string(),
                weight: 100,
            },
            port: RoutePort {
                target_port: PORT_NAME.into(),
            },
            tls: termination.map(|termination| TlsConfig {
                termination: termination.into(),
                insecure_edge_termination_policy: "Redirect".into(),
            }),
        },
    })?;
    Ok(vec![service, route])
}

/// The namespaced binding of the `system:webhook` ClusterRole to `system:unauthenticated`,
/// as OpenShift's documentation gives it for forges that cannot authenticate (4.16+).
fn webhook_role_binding(ctx: &Ctx<'_>) -> Result<Manifest> {
    let name = format!("{}-webhook-unauthenticated", ctx.app_name);
    let rbac = "rbac.authorization.k8s.io";
    Manifest::of(
        "RoleBinding",
        &name,
        &RoleBinding {
            api_version: "rbac.authorization.k8s.io/v1".into(),
            kind: "RoleBinding".into(),
            metadata: ctx.meta(&name, "webhooks"),
            role_ref: RoleRef {
                api_group: rbac.into(),
                kind: "ClusterRole".into(),
                name: "system:webhook".into(),
            },
            subjects: vec![Subject {
                api_group: rbac.into(),
                kind: "Group".into(),
                name: "system:unauthenticated".into(),
            }],
        },
    )
}
