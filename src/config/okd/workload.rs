//! What runs the runtime image in the cluster: the workload kind and its schedule, replicas,
//! probes, resources and the Route's TLS (`okd.workload`, `okd.schedule`, `okd.replicas`,
//! `okd.health-path`, `okd.resources`, `okd.tls`, `okd.serves-tls`) and the Secrets and
//! ConfigMaps that fill the container's environment (`okd.env-from`).

use serde::Deserialize;

use super::{Defaults, RESOURCE_KEYS, RawResources, Resources};
use crate::Error;
use crate::config::layer::layer;
use crate::config::validator::Validator;
use crate::names;

/// Requests and limits of the running container when `okd.resources` does not say otherwise.
pub(crate) const DEFAULT_RESOURCES: Defaults = Defaults {
    requests: &[("cpu", "10m"), ("memory", "32Mi")],
    limits: &[("memory", "128Mi")],
};

/// What runs the runtime image in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// A Deployment (with a Service and a Route when `port` is set).
    Deployment,
    /// A CronJob on `okd.schedule`.
    #[serde(rename = "cronjob")]
    CronJob,
    /// Only the images: no workload object.
    None,
}

/// TLS termination of the generated Route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Tls {
    #[default]
    Edge,
    Passthrough,
    Reencrypt,
    None,
}

/// One entry of `okd.env-from` as written: exactly one of `secret` and `config-map`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawEnvFrom {
    secret: Option<String>,
    config_map: Option<String>,
}

/// A Secret or ConfigMap whose keys become the container's environment (`envFrom`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvFrom {
    Secret(String),
    ConfigMap(String),
}

layer! {
    /// The workload keys of `[package.metadata.s2i.okd]` as written.
    pub(crate) struct WorkloadLayer {
        workload: Workload {
            key: "workload",
            ty: "string",
            example: r#"workload = "cronjob""#,
            inherit: replace,
        }
        schedule: String {
            key: "schedule",
            ty: "string",
            example: r#"schedule = "*/15 * * * *""#,
            inherit: replace,
        }
        replicas: u32 {
            key: "replicas",
            ty: "integer",
            example: "replicas = 2",
            inherit: replace,
        }
        health_path: String {
            key: "health-path",
            ty: "string",
            example: r#"health-path = "/healthz""#,
            inherit: replace,
        }
        resources: RawResources {
            key: "resources",
            ty: "table",
            example: r#"resources = { limits = { memory = "256Mi" } }"#,
            inherit: replace,
            table: RESOURCE_KEYS,
        }
        tls: Tls {
            key: "tls",
            ty: "string",
            example: r#"tls = "passthrough""#,
            inherit: replace,
        }
        env_from: Vec<RawEnvFrom> {
            key: "env-from",
            ty: "array of tables (`secret` or `config-map`)",
            example: r#"env-from = [{ secret = "hello-db" }, { config-map = "hello-config" }]"#,
            inherit: replace,
        }
        serves_tls: bool {
            key: "serves-tls",
            ty: "boolean",
            example: "serves-tls = true",
            inherit: replace,
        }
    }
}

/// What runs the runtime image, validated, with its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadSettings {
    pub kind: Workload,
    /// The CronJob's schedule; set exactly when `kind` is [`Workload::CronJob`].
    pub schedule: Option<String>,
    pub replicas: u32,
    /// The HTTP path of the probes; TCP probes on the port when `None`.
    pub health_path: Option<String>,
    /// Requests and limits of the container, defaults merged with `okd.resources`.
    pub resources: Resources,
    /// TLS termination of the Route.
    pub tls: Tls,
    /// Whether the program serves TLS itself on its port (then the probes use HTTPS).
    pub serves_tls: bool,
    /// The Secrets and ConfigMaps whose keys become the container's environment.
    pub env_from: Vec<EnvFrom>,
}

impl WorkloadLayer {
    /// Checks the workload keys of `okd` and applies their defaults; `port` decides the default
    /// workload.
    pub(super) fn resolve(
        self,
        v: &Validator,
        port: Option<u16>,
    ) -> Result<WorkloadSettings, Error> {
        let WorkloadLayer {
            workload,
            schedule,
            replicas,
            health_path,
            resources,
            tls,
            env_from,
            serves_tls,
        } = self;
        let env_from = v.env_from(env_from.unwrap_or_default())?;
        let serves_tls = serves_tls.unwrap_or(false);
        let tls = v.tls(tls, serves_tls)?;
        let (kind, schedule) = v.workload(workload, schedule, health_path.as_deref(), port)?;
        Ok(WorkloadSettings {
            kind,
            schedule,
            replicas: replicas.unwrap_or(1),
            health_path,
            resources: resources
                .unwrap_or_default()
                .resolve(v, "resources", DEFAULT_RESOURCES)?,
            tls,
            serves_tls,
            env_from,
        })
    }
}

impl Validator<'_> {
    /// `okd.env-from`: each entry names one Secret or one ConfigMap by a DNS-1123 subdomain.
    fn env_from(&self, raw: Vec<RawEnvFrom>) -> Result<Vec<EnvFrom>, Error> {
        let mut out = Vec::new();
        for (i, e) in raw.into_iter().enumerate() {
            let idx = i.to_string();
            let note = || {
                r#"each entry is `{ secret = "name" }` or `{ config-map = "name" }`, e.g. `env-from = [{ secret = "hello-db" }]`"#.to_string()
            };
            let (entry, key) = match (e.secret, e.config_map) {
                (Some(s), None) => (EnvFrom::Secret(s), "secret"),
                (None, Some(c)) => (EnvFrom::ConfigMap(c), "config-map"),
                _ => {
                    return Err(self.err(
                        &["okd", "env-from", &idx],
                        "an `env-from` entry names one Secret or one ConfigMap",
                        Some(note()),
                    ));
                }
            };
            let (EnvFrom::Secret(name) | EnvFrom::ConfigMap(name)) = &entry;
            self.check(
                &["okd", "env-from", &idx, key],
                names::dns1123_subdomain(name),
                note,
            )?;
            out.push(entry);
        }
        Ok(out)
    }

    /// `okd.tls` and `okd.serves-tls` together: the router passes TLS through or re-encrypts
    /// only to a program that serves TLS (else every request answers 503), and terminates it
    /// (`edge`) only in front of one that serves plain HTTP. With `serves-tls` the default is
    /// `passthrough`.
    fn tls(&self, tls: Option<Tls>, serves_tls: bool) -> Result<Tls, Error> {
        match (tls, serves_tls) {
            (None, false) => Ok(Tls::Edge),
            (None, true) => Ok(Tls::Passthrough),
            (Some(t @ (Tls::Passthrough | Tls::Reencrypt)), false) => Err(self.err(
                &["okd", "tls"],
                format!("`tls = \"{}\"` sends TLS to the program, but nothing says it serves TLS: the router answers 503 in front of a plain-HTTP program", if t == Tls::Passthrough { "passthrough" } else { "reencrypt" }),
                Some("use `tls = \"edge\"` (the default: the router terminates TLS) for a plain-HTTP program, or set `serves-tls = true` when it serves TLS itself on `port`".into()),
            )),
            (Some(t @ (Tls::Edge | Tls::None)), true) => Err(self.err(
                &["okd", "tls"],
                format!("`serves-tls = true`, but `tls = \"{}\"` sends plain HTTP to the program", if t == Tls::Edge { "edge" } else { "none" }),
                Some("use `tls = \"passthrough\"` (the default with `serves-tls`) or `\"reencrypt\"`".into()),
            )),
            (Some(t), _) => Ok(t),
        }
    }

    /// `okd.workload`, `okd.schedule` and `okd.health-path` together: the workload and its
    /// schedule.
    fn workload(
        &self,
        workload: Option<Workload>,
        schedule: Option<String>,
        health_path: Option<&str>,
        port: Option<u16>,
    ) -> Result<(Workload, Option<String>), Error> {
        let workload = workload.unwrap_or(match port {
            Some(_) => Workload::Deployment,
            None => Workload::None,
        });
        let schedule = match (workload, schedule) {
            (Workload::CronJob, None) => {
                return Err(self.err(
                    &["okd", "workload"],
                    "a CronJob needs a schedule",
                    Some(r#"add `schedule = "*/15 * * * *"` (minute, hour, day of month, month, day of week) to `[package.metadata.s2i.okd]`"#.into()),
                ));
            }
            (Workload::CronJob, Some(s)) => {
                self.check(&["okd", "schedule"], cron(&s), || {
                    r#"five fields (minute, hour, day of month, month, day of week) or a macro such as `@hourly`, e.g. `schedule = "*/15 * * * *"`"#.into()
                })?;
                Some(s)
            }
            (_, Some(_)) => {
                return Err(self.err(
                    &["okd", "schedule"],
                    "a schedule is only for `workload = \"cronjob\"`",
                    Some(r#"set `workload = "cronjob"` or remove `schedule`"#.into()),
                ));
            }
            (_, None) => None,
        };
        if workload == Workload::CronJob && port.is_some() {
            return Err(self.err(
                &["port"],
                "a CronJob serves no port: `port` makes a Service and a Route for a Deployment",
                Some(r#"remove `port`, or use `workload = "deployment"`"#.into()),
            ));
        }
        if let Some(path) = health_path {
            if workload != Workload::Deployment || port.is_none() {
                return Err(self.err(
                    &["okd", "health-path"],
                    "the probes need a Deployment with a `port`",
                    Some("set `port = 8080` (and leave `workload` unset or `\"deployment\"`), or remove `health-path`".into()),
                ));
            }
            let valid = path.starts_with('/')
                && path.len() <= 1024
                && path.chars().all(|c| c.is_ascii_graphic() && c != '#');
            if !valid {
                return Err(self.err(
                    &["okd", "health-path"],
                    format!("`{}` is not an HTTP path", names::printable(path)),
                    Some(
                        r#"an absolute path without spaces, e.g. `health-path = "/healthz"`"#
                            .into(),
                    ),
                ));
            }
        }
        Ok((workload, schedule))
    }
}

/// A Kubernetes CronJob schedule: five fields of digits, names, `*`, `?`, `,`, `-` and `/`, or
/// one of the `@` macros.
fn cron(s: &str) -> Result<(), String> {
    const MACROS: [&str; 7] = [
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    if MACROS.contains(&s.trim()) {
        return Ok(());
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    let ok = fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || "*?,-/".contains(c))
        });
    if ok {
        Ok(())
    } else {
        Err(format!("`{}` is not a cron schedule", names::printable(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::cron;

    #[test]
    fn cron_schedules() {
        for good in ["*/15 * * * *", "0 3 * * MON-FRI", "@hourly", "5 4 1,15 * ?"] {
            assert!(cron(good).is_ok(), "{good}");
        }
        for bad in ["* * * *", "every hour", "* * * * * *", "0 3 * * $(id)", ""] {
            assert!(cron(bad).is_err(), "{bad}");
        }
    }
}
