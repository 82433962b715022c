//! What the images run with: the numeric users of the builder and runtime images, the
//! environment, the labels, the port, the program's arguments and the files the runtime image
//! carries besides the binary (`user`, `env`, `labels`, `port`, `args`, `runtime-files`, `tzdata`).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::layer::{ApplyLayer, layer};
use super::read::json_kind;
use super::validator::Validator;
use crate::Error;
use crate::names;

/// Default numeric user of the builder and app images.
pub const DEFAULT_BUILDER_USER: u32 = 1001;
/// Default numeric user of the runtime image (the "nonroot" UID of distroless images).
pub const DEFAULT_RUNTIME_USER: u32 = 65532;

/// The keys of the `user` table.
const USER_KEYS: &[&str] = &["builder", "runtime"];

/// What the runtime image carries besides the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeFiles {
    /// The CA bundle at `/etc/ssl/certs/ca-certificates.crt`, `/etc/passwd` and `/etc/group`
    /// naming the runtime user, and an empty `/tmp` (mode 1777), taken from the builder
    /// (`minimal`, the default).
    #[default]
    Minimal,
    /// The binary alone (`none`).
    None,
}

layer! {
    /// The container keys of `[package.metadata.s2i]` as written.
    pub(crate) struct ContainerLayer {
        user: RawUser {
            key: "user",
            ty: "integer or table",
            example: "user = { builder = 1001, runtime = 65532 }",
            inherit: merge,
            table: USER_KEYS,
        }
        env: BTreeMap<String, String> {
            key: "env",
            ty: "table of strings",
            example: r#"env = { RUST_LOG = "info" }"#,
            inherit: merge,
        }
        labels: BTreeMap<String, String> {
            key: "labels",
            ty: "table of strings",
            example: r#"labels = { "com.example.team" = "web" }"#,
            inherit: merge,
        }
        port: i64 {
            key: "port",
            ty: "integer",
            example: "port = 8080",
            inherit: replace,
        }
        args: Vec<String> {
            key: "args",
            ty: "array of strings",
            example: r#"args = ["--config", "/etc/app/app.toml"]"#,
            inherit: replace,
        }
        runtime_files: RuntimeFiles {
            key: "runtime-files",
            ty: "string",
            example: r#"runtime-files = "none""#,
            inherit: replace,
        }
        tzdata: bool {
            key: "tzdata",
            ty: "boolean",
            example: "tzdata = true",
            inherit: replace,
        }
    }
}

/// What the images run with, validated, with its defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// The numeric user of the builder and app images (`assemble` runs as it).
    pub builder_user: u32,
    /// The numeric user of the runtime image.
    pub runtime_user: u32,
    /// The environment of the build (app stage) and of the running container.
    pub env: BTreeMap<String, String>,
    /// Labels added to the app and runtime images.
    pub labels: BTreeMap<String, String>,
    /// The port the program listens on: a Service and a Route in the cluster.
    pub port: Option<u16>,
    /// The program's arguments where it runs: the workload's `args`, the rehearsal's run and the
    /// local run hint (the image's `ENTRYPOINT` is the binary).
    pub args: Vec<String>,
    /// What the runtime image carries besides the binary.
    pub runtime_files: RuntimeFiles,
    /// Whether the runtime image carries the builder's time zone database
    /// (`/usr/share/zoneinfo`).
    pub tzdata: bool,
}

impl ContainerLayer {
    /// Checks the container keys of the merged configuration and applies their defaults.
    pub(super) fn resolve(self, v: &Validator) -> Result<Container, Error> {
        let ContainerLayer {
            user,
            env,
            labels,
            port,
            args,
            runtime_files,
            tzdata,
        } = self;
        let args = args.unwrap_or_default();
        for (i, a) in args.iter().enumerate() {
            v.check(&["args", &i.to_string()], names::one_line_text(a), || {
                "write each argument on one line".into()
            })?;
        }
        let (builder_user, runtime_user) = v.users(user.unwrap_or_default())?;
        let runtime_files = runtime_files.unwrap_or_default();
        let tzdata = tzdata.unwrap_or(false);
        if tzdata && runtime_files == RuntimeFiles::None {
            return Err(v.err(
                &["tzdata"],
                "`tzdata = true` puts files in the runtime image, but `runtime-files = \"none\"` keeps it to the binary",
                Some(r#"remove `runtime-files = "none"` (the default is `"minimal"`) or `tzdata`"#.into()),
            ));
        }
        Ok(Container {
            builder_user,
            runtime_user,
            env: v.env(env.unwrap_or_default())?,
            labels: v.labels(labels.unwrap_or_default())?,
            port: v.port(port)?,
            args,
            runtime_files,
            tzdata,
        })
    }
}

/// `user`: one UID for both images, or a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RawUser {
    builder: Option<i64>,
    runtime: Option<i64>,
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

impl ApplyLayer for RawUser {
    fn apply_layer(&mut self, layer: RawUser) {
        let RawUser { builder, runtime } = layer;
        self.builder = builder.or(self.builder);
        self.runtime = runtime.or(self.runtime);
    }
}

impl Validator<'_> {
    /// `user`: the numeric non-root UIDs of the builder (and app) image and of the runtime image.
    fn users(&self, user: RawUser) -> Result<(u32, u32), Error> {
        Ok((
            self.uid("builder", user.builder, DEFAULT_BUILDER_USER)?,
            self.uid("runtime", user.runtime, DEFAULT_RUNTIME_USER)?,
        ))
    }

    /// `user.<which>` (or `user` itself when it is one number for both).
    fn uid(&self, which: &str, raw: Option<i64>, default: u32) -> Result<u32, Error> {
        let Some(v) = raw else { return Ok(default) };
        let reason = if v == 0 {
            "0 is root: OKD refuses root containers and runs images under arbitrary non-root UIDs"
                .to_string()
        } else if v < 0 || v > i64::from(i32::MAX) {
            format!("{v} is not a valid UID")
        } else {
            return Ok(u32::try_from(v).unwrap_or(default));
        };
        let path: &[&str] = if self.src(&["user", which]).has(&["user", which]) {
            &["user", which]
        } else {
            &["user"]
        };
        Err(self.err(path, reason, Some(format!("use a numeric non-root UID, e.g. `user = {{ builder = {DEFAULT_BUILDER_USER}, runtime = {DEFAULT_RUNTIME_USER} }}`"))))
    }

    /// `env`: variable names and one-line values.
    fn env(&self, env: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, Error> {
        for (k, v) in &env {
            self.check(&["env", k], names::env_name(k), || {
                r#"e.g. `env = { RUST_LOG = "info" }`"#.into()
            })?;
            self.check(&["env", k], names::one_line_text(v), || {
                "write the value on one line; escape sequences are not interpreted".into()
            })?;
        }
        Ok(env)
    }

    /// `labels`: label keys and one-line values.
    fn labels(&self, labels: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, Error> {
        for (k, v) in &labels {
            self.check(&["labels", k], names::label_key(k), || {
                r#"e.g. `labels = { "com.example.team" = "web" }`"#.into()
            })?;
            self.check(&["labels", k], names::one_line_text(v), || {
                "write the value on one line".into()
            })?;
        }
        Ok(labels)
    }

    /// `port`: a TCP port.
    fn port(&self, raw: Option<i64>) -> Result<Option<u16>, Error> {
        let Some(p) = raw else { return Ok(None) };
        match u16::try_from(p) {
            // CRI-O keeps `net.ipv4.ip_unprivileged_port_start=1024` and `restricted-v2` drops
            // NET_BIND_SERVICE, so the bind fails in the cluster (Docker sets it to 0, which
            // hides this locally).
            Ok(p) if p > 0 && p < 1024 => Err(self.err(
                &["port"],
                format!("{p} is a privileged port, which the program cannot bind in OKD: CRI-O keeps `net.ipv4.ip_unprivileged_port_start=1024` and `restricted-v2` drops every capability (a local Docker run hides this)"),
                Some("listen on 8080 (or another port from 1024 up), e.g. `port = 8080`; the Service and the Route still answer clients on 80 and 443".into()),
            )),
            Ok(p) if p > 0 => Ok(Some(p)),
            _ => Err(self.err(
                &["port"],
                format!("{p} is not a TCP port"),
                Some("use a port from 1 to 65535, e.g. `port = 8080`".into()),
            )),
        }
    }
}
