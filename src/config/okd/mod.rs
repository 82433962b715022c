//! `[package.metadata.s2i.okd]`: what only the cluster's side of the chain reads, in four
//! domains — where the cluster gets the source and who may trigger it ([`git`]), how its builds
//! run ([`builds`]), what runs the runtime image ([`workload`]), and where the manifests go
//! ([`manifests`]). Each domain owns its keys like the top-level ones do; this file puts the
//! four together and holds what two of them share (requests and limits, [`Resources`]).

pub(crate) mod builds;
pub(crate) mod git;
pub(crate) mod manifests;
pub(crate) mod workload;

use std::collections::BTreeMap;

use cargo_metadata::Metadata;
use serde::Deserialize;
use serde_json::Value;

use super::layer::{ApplyLayer, Inherit, KeyDoc};
use super::read::{TypeError, layer};
use super::validator::Validator;
use crate::Error;
use crate::names;
pub use builds::Builds;
pub use git::GitSource;
pub use manifests::Manifests;
pub use workload::WorkloadSettings;

/// The row of the `okd` table itself among the top-level keys.
pub(crate) const TABLE_KEY: &[KeyDoc] = &[KeyDoc {
    key: "okd",
    ty: "table",
    example: r#"okd = { namespace = "demo" }"#,
    table: &[],
    inherit: Inherit::Merge,
}];

/// The keys of `okd.build-resources` and `okd.resources`.
const RESOURCE_KEYS: &[&str] = &["limits", "requests"];
/// The resources `limits` and `requests` may name.
const RESOURCE_NAMES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

/// The resolved `[package.metadata.s2i.okd]`: every key validated, every default applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Okd {
    pub git: GitSource,
    pub builds: Builds,
    pub workload: WorkloadSettings,
    pub manifests: Manifests,
}

/// `[package.metadata.s2i.okd]` as written: the layers of its four domains.
#[derive(Debug, Clone, Default)]
pub(crate) struct OkdLayer {
    git: git::GitLayer,
    builds: builds::BuildsLayer,
    workload: workload::WorkloadLayer,
    manifests: manifests::ManifestsLayer,
}

/// `okd` as a table of anything: its own type, before its domains read it.
#[derive(Default, Deserialize)]
struct OkdTable {
    okd: Option<serde_json::Map<String, Value>>,
}

impl OkdLayer {
    /// Pass two over the `okd` table of the top-level table `top`.
    pub(super) fn read(top: &Value, errors: &mut Vec<TypeError>) -> OkdLayer {
        let OkdTable { okd } = layer(top, &[], errors);
        let Some(okd) = okd.map(Value::Object) else {
            return OkdLayer::default();
        };
        OkdLayer {
            git: layer(&okd, &["okd"], errors),
            builds: layer(&okd, &["okd"], errors),
            workload: layer(&okd, &["okd"], errors),
            manifests: layer(&okd, &["okd"], errors),
        }
    }

    /// Checks the merged `okd` table. `repository` is `package.repository` (the default
    /// `git-uri`), `runtime_image` names the webhook secrets' default, `port` decides the
    /// default workload.
    pub(super) fn resolve(
        self,
        v: &Validator,
        repository: Option<String>,
        metadata: &Metadata,
        runtime_image: &str,
        port: Option<u16>,
    ) -> Result<Okd, Error> {
        let OkdLayer {
            git,
            builds,
            workload,
            manifests,
        } = self;
        let manifests = manifests.resolve(v)?;
        let git = git.resolve(v, repository, metadata, runtime_image)?;
        let builds = builds.resolve(v)?;
        let workload = workload.resolve(v, port)?;
        Ok(Okd {
            git,
            builds,
            workload,
            manifests,
        })
    }
}

impl ApplyLayer for OkdLayer {
    fn apply_layer(&mut self, layer: OkdLayer) {
        let OkdLayer {
            git,
            builds,
            workload,
            manifests,
        } = layer;
        self.git.apply_layer(git);
        self.builds.apply_layer(builds);
        self.workload.apply_layer(workload);
        self.manifests.apply_layer(manifests);
    }
}

/// `okd.build-resources` and `okd.resources` as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) struct RawResources {
    limits: Option<BTreeMap<String, String>>,
    requests: Option<BTreeMap<String, String>>,
}

/// Requests and limits, validated, merged over their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub limits: BTreeMap<String, String>,
    pub requests: BTreeMap<String, String>,
}

/// Default requests and limits, merged key by key under what the user wrote.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Defaults {
    pub(crate) requests: &'static [(&'static str, &'static str)],
    pub(crate) limits: &'static [(&'static str, &'static str)],
}

type Map = BTreeMap<String, String>;

impl RawResources {
    /// `okd.<table>`: the defaults with the user's requests and limits merged over them.
    fn resolve(
        self,
        v: &Validator,
        table: &'static str,
        defaults: Defaults,
    ) -> Result<Resources, Error> {
        let merged = |which: &'static str,
                      user: Option<Map>,
                      default: &[(&str, &str)]|
         -> Result<Map, Error> {
            let user = user.unwrap_or_default();
            for (k, val) in &user {
                if !RESOURCE_NAMES.contains(&k.as_str()) {
                    return Err(v.err(
                        &["okd", table, which, k],
                        format!("unknown resource `{}`", names::printable(k)),
                        Some("the resources are `cpu`, `memory` and `ephemeral-storage`".into()),
                    ));
                }
                v.check(&["okd", table, which, k], names::quantity(val), || {
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
        let resources = Resources {
            limits: merged("limits", self.limits, defaults.limits)?,
            requests: merged("requests", self.requests, defaults.requests)?,
        };
        v.requests_within_limits(table, &resources)?;
        Ok(resources)
    }
}

impl Validator<'_> {
    /// Every request of `okd.<table>` at most its limit, after the defaults are merged: the API
    /// server refuses a pod or build whose request exceeds its limit.
    fn requests_within_limits(&self, table: &'static str, r: &Resources) -> Result<(), Error> {
        for (name, request) in &r.requests {
            let Some(limit) = r.limits.get(name) else {
                continue;
            };
            let (Some(req), Some(lim)) =
                (names::quantity_value(request), names::quantity_value(limit))
            else {
                continue;
            };
            if req > lim {
                let which = if self
                    .src(&["okd", table, "requests", name])
                    .has(&["okd", table, "requests", name])
                {
                    "requests"
                } else {
                    "limits"
                };
                return Err(self.err(
                    &["okd", table, which, name],
                    format!("the {name} request `{request}` is above its limit `{limit}` (after the defaults are merged), which the API server refuses"),
                    Some(format!("keep each request at or below its limit: raise `okd.{table}.limits.{name}` or lower `okd.{table}.requests.{name}` (a Deployment or build with a request above its limit is rejected on the first apply)")),
                ));
            }
        }
        Ok(())
    }
}

/// `./a//b/` → `a/b`; the empty path → `.`.
fn normalize_rel(p: &str) -> String {
    let parts: Vec<&str> = p
        .split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_rel;

    #[test]
    fn normalizes_relative_paths() {
        assert_eq!(normalize_rel("./a//b/"), "a/b");
        assert_eq!(normalize_rel(""), ".");
    }
}
