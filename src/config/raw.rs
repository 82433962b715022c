//! `[package.metadata.s2i]` as written: the serde model, every key optional, and the first two
//! reading passes (unknown keys, then types) that turn a manifest's table into it.
//!
//! These types say what shape a value has, not whether it makes sense; [`super::inherit`] merges
//! the workspace defaults into them and [`super::validate`] checks their meaning.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::diagnostics::{self, ConfigError, Source, check_keys, json_kind};
use super::keys::{KEYS, KeyDoc, OKD_KEYS, RESOURCE_KEYS, USER_KEYS};
use super::{PullPolicy, Tls, Workload};
use crate::names;

/// `user`: one UID for both images, or a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawUser {
    pub builder: Option<i64>,
    pub runtime: Option<i64>,
}

impl<'de> Deserialize<'de> for RawUser {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawUser;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a numeric UID or a table `{ builder = 1001, runtime = 65532 }`")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawUser, E> {
                Ok(RawUser {
                    builder: Some(v),
                    runtime: Some(v),
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawUser, E> {
                let v = i64::try_from(v).map_err(|_| E::custom("the UID is too large"))?;
                self.visit_i64(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawUser, E> {
                Err(E::custom(format!(
                    "`{}` is a name, but the user must be a numeric UID: OKD runs containers under arbitrary numeric UIDs and can only verify `runAsNonRoot` for a number",
                    names::printable(v)
                )))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawUser, A::Error> {
                let mut user = RawUser::default();
                while let Some(key) = map.next_key::<String>()? {
                    let slot = match key.as_str() {
                        "builder" => &mut user.builder,
                        "runtime" => &mut user.runtime,
                        other => return Err(de::Error::unknown_field(other, USER_KEYS)),
                    };
                    let v: Value = map.next_value()?;
                    *slot = Some(match v {
                        Value::Number(n) if n.as_i64().is_some() => n.as_i64().unwrap_or(0),
                        Value::String(s) => {
                            return Err(de::Error::custom(format!(
                                "`{}` is a name, but `user.{key}` must be a numeric UID: OKD runs containers under arbitrary numeric UIDs",
                                names::printable(&s)
                            )));
                        }
                        other => {
                            return Err(de::Error::custom(format!(
                                "`user.{key}` must be a numeric UID, found {}",
                                json_kind(&other)
                            )));
                        }
                    });
                }
                Ok(user)
            }
        }
        d.deserialize_any(V)
    }
}

/// `okd.webhooks`: a list of kinds (secrets get default names) or a table kind → secret name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawWebhooks(pub BTreeMap<String, Option<String>>);

impl<'de> Deserialize<'de> for RawWebhooks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawWebhooks;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"a list such as `["github", "generic"]` or a table such as `{ github = "my-webhook-secret" }`"#)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawWebhooks, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(kind) = seq.next_element::<String>()? {
                    out.insert(kind, None);
                }
                Ok(RawWebhooks(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawWebhooks, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(kind) = map.next_key::<String>()? {
                    let secret: String = map.next_value()?;
                    out.insert(kind, Some(secret));
                }
                Ok(RawWebhooks(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `okd.build-resources`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawResources {
    pub limits: Option<BTreeMap<String, String>>,
    pub requests: Option<BTreeMap<String, String>>,
}

/// `[package.metadata.s2i.okd]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawOkd {
    pub namespace: Option<String>,
    pub git_uri: Option<String>,
    pub git_ref: Option<String>,
    pub context_dir: Option<String>,
    pub manifests_dir: Option<String>,
    pub webhooks: Option<RawWebhooks>,
    pub replicas: Option<u32>,
    pub tls: Option<Tls>,
    pub build_resources: Option<RawResources>,
    pub build_timeout: Option<i64>,
    pub tag: Option<String>,
    pub workload: Option<Workload>,
    pub schedule: Option<String>,
    pub health_path: Option<String>,
    pub resources: Option<RawResources>,
    pub source_secret: Option<String>,
    pub unauthenticated_webhooks: Option<bool>,
}

/// `[package.metadata.s2i]` as written: every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RawConfig {
    pub builder_base: Option<String>,
    pub builder_image: Option<String>,
    pub app_image: Option<String>,
    pub runtime_image: Option<String>,
    pub tag: Option<String>,
    pub pull_policy: Option<PullPolicy>,
    pub bin: Option<String>,
    pub features: Option<Vec<String>>,
    pub no_default_features: Option<bool>,
    pub profile: Option<String>,
    pub vendor: Option<bool>,
    pub strip: Option<bool>,
    pub user: Option<RawUser>,
    pub env: Option<BTreeMap<String, String>>,
    pub labels: Option<BTreeMap<String, String>>,
    pub port: Option<i64>,
    pub okd: Option<RawOkd>,
}

/// Passes one and two over one manifest's table: unknown keys (with a "did you mean"), then types
/// (through serde, with the path of the offending key).
pub(super) fn parse(src: &Source) -> Result<RawConfig, ConfigError> {
    match &src.value {
        Value::Null => return Ok(RawConfig::default()),
        Value::Object(_) => {}
        other => {
            return Err(src.error(
                &[],
                format!("expected a table, found {}", json_kind(other)),
                Some(
                    "write it as a table, e.g. `[package.metadata.s2i]` followed by `port = 8080`"
                        .into(),
                ),
            ));
        }
    }
    known_keys(src)?;
    if let Some(e) = diagnostics::nan_or_inf(src) {
        return Err(e);
    }
    serde_path_to_error::deserialize::<_, RawConfig>(&src.value)
        .map_err(|e| diagnostics::type_error(src, e.path(), &e.inner().to_string()))
}

/// Pass one: the keys of every table against the documented ones.
fn known_keys(src: &Source) -> Result<(), ConfigError> {
    let names = |docs: &[KeyDoc]| docs.iter().map(|k| k.key).collect::<Vec<_>>();
    check_keys(src, &[], &src.value, &names(KEYS))?;
    if let Some(okd) = src.value.get("okd").filter(|v| v.is_object()) {
        check_keys(src, &["okd"], okd, &names(OKD_KEYS))?;
        for table in ["build-resources", "resources"] {
            if let Some(res) = okd.get(table).filter(|v| v.is_object()) {
                check_keys(src, &["okd", table], res, RESOURCE_KEYS)?;
            }
        }
    }
    if let Some(user) = src.value.get("user").filter(|v| v.is_object()) {
        check_keys(src, &["user"], user, USER_KEYS)?;
    }
    Ok(())
}
