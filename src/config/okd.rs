//! The keys of `[package.metadata.s2i.okd]` that shape how the cluster runs the chain: the
//! workload kind and its schedule, probes, container and build resources, the build timeout and
//! the stable tag of the chain's ImageStreamTags.
//!
//! Each check names the key and teaches the valid form, like the rest of [`super`]; the defaults
//! live here so the README, the validation and the manifests agree.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ConfigError, RESOURCE_NAMES, RawResources, Validator};
use crate::names;

/// Requests and limits of every build when `okd.build-resources` does not say otherwise: a Rust
/// release build needs memory for rustc and ephemeral storage for its target directory, and a
/// namespace's LimitRange default is often far too small for either.
pub const DEFAULT_BUILD_RESOURCES: Defaults = Defaults {
    requests: &[
        ("cpu", "500m"),
        ("memory", "1Gi"),
        ("ephemeral-storage", "2Gi"),
    ],
    limits: &[("memory", "4Gi"), ("ephemeral-storage", "10Gi")],
};

/// Requests and limits of the running container when `okd.resources` does not say otherwise.
pub const DEFAULT_RESOURCES: Defaults = Defaults {
    requests: &[("cpu", "10m"), ("memory", "32Mi")],
    limits: &[("memory", "128Mi")],
};

/// `completionDeadlineSeconds` of every build when `okd.build-timeout` is unset.
pub const DEFAULT_BUILD_TIMEOUT: u32 = 3600;
/// The tag of the chain's ImageStreamTags when `okd.tag` is unset.
pub const DEFAULT_TAG: &str = "latest";

/// Default requests and limits, merged key by key under what the user wrote.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub requests: &'static [(&'static str, &'static str)],
    pub limits: &'static [(&'static str, &'static str)],
}

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

type Map = BTreeMap<String, String>;

impl Validator<'_> {
    /// `okd.<table>`: the defaults with the user's requests and limits merged over them.
    pub(super) fn resources(
        &self,
        table: &'static str,
        raw: RawResources,
        defaults: Defaults,
    ) -> Result<(Map, Map), ConfigError> {
        let merged = |which: &'static str,
                      user: Option<Map>,
                      default: &[(&str, &str)]|
         -> Result<Map, ConfigError> {
            let user = user.unwrap_or_default();
            for (k, v) in &user {
                if !RESOURCE_NAMES.contains(&k.as_str()) {
                    return Err(self.err(
                        &["okd", table, which, k],
                        format!("unknown resource `{}`", names::printable(k)),
                        Some("the resources are `cpu`, `memory` and `ephemeral-storage`".into()),
                    ));
                }
                self.check(&["okd", table, which, k], names::quantity(v), || {
                    r#"e.g. `cpu = "2"`, `memory = "4Gi"`"#.into()
                })?;
            }
            let mut out: Map = default
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            out.extend(user);
            Ok(out)
        };
        Ok((
            merged("limits", raw.limits, defaults.limits)?,
            merged("requests", raw.requests, defaults.requests)?,
        ))
    }

    /// `okd.workload`, `okd.schedule` and `okd.health-path` together: the workload and its
    /// schedule.
    pub(super) fn workload(
        &self,
        workload: Option<Workload>,
        schedule: Option<String>,
        health_path: Option<&str>,
        port: Option<u16>,
    ) -> Result<(Workload, Option<String>), ConfigError> {
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

    /// `okd.build-timeout`: seconds, from one minute to a day.
    pub(super) fn build_timeout(&self, raw: Option<i64>) -> Result<u32, ConfigError> {
        match raw {
            None => Ok(DEFAULT_BUILD_TIMEOUT),
            Some(s) if (60..=86_400).contains(&s) => Ok(u32::try_from(s).unwrap_or(DEFAULT_BUILD_TIMEOUT)),
            Some(s) => Err(self.err(
                &["okd", "build-timeout"],
                format!("{s} seconds is not a build timeout"),
                Some("give the seconds a build may take, from 60 to 86400, e.g. `build-timeout = 3600`".into()),
            )),
        }
    }

    /// `okd.tag`: the stable tag of the chain's ImageStreamTags.
    pub(super) fn okd_tag(&self, raw: Option<String>) -> Result<String, ConfigError> {
        let Some(tag) = raw else {
            return Ok(DEFAULT_TAG.into());
        };
        self.check(&["okd", "tag"], names::tag(&tag), || {
            r#"a tag that stays the same across releases, e.g. `tag = "latest"`; the version goes into the image labels"#.into()
        })?;
        Ok(tag)
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
