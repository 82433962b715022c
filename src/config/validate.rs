//! Pass three: the meaning of every value of the merged `[package.metadata.s2i]` (image grammar,
//! binary targets, features, non-root users, ...), one function per group of keys.
//!
//! [`Validator::validate`] destructures the raw configuration once and hands each group its
//! keys, so a key no group checks is a compile error and adding a key touches its group only. The
//! groups run in a fixed order; the first invalid value is the error. The `okd` groups live in
//! [`super::okd`].

use std::collections::BTreeMap;

use cargo_metadata::{Metadata, Package, TargetKind};

use super::diagnostics::{ConfigError, Source};
use super::raw::{RawConfig, RawUser};
use super::{
    Config, DEFAULT_BUILDER_BASE, DEFAULT_BUILDER_USER, DEFAULT_RUNTIME_USER, PackageInfo,
};
use crate::names;

/// Checks a merged configuration, naming the file each value came from.
pub(super) struct Validator<'a> {
    pub(super) pkg: &'a Source,
    pub(super) ws: &'a Source,
}

/// `builder-image`, `app-image` and `runtime-image`, validated.
struct Images {
    builder: String,
    app: String,
    runtime: String,
}

/// The keys that shape `cargo build`, validated.
struct CargoBuild {
    features: Vec<String>,
    no_default_features: bool,
    profile: String,
    vendor: bool,
    strip: bool,
}

impl Validator<'_> {
    /// The source a (merged) value came from: the package when it sets the key, else the workspace.
    pub(super) fn src(&self, path: &[&str]) -> &Source {
        if !self.pkg.has(path) && self.ws.has(path) {
            self.ws
        } else {
            self.pkg
        }
    }

    pub(super) fn err(
        &self,
        path: &[&str],
        message: impl Into<String>,
        note: Option<String>,
    ) -> ConfigError {
        self.src(path).error(path, message.into(), note)
    }

    /// The error of a `names` check, about the key at `path`, with `note`.
    pub(super) fn check(
        &self,
        path: &[&str],
        result: Result<(), String>,
        note: impl FnOnce() -> String,
    ) -> Result<(), ConfigError> {
        result.map_err(|m| self.err(path, m, Some(note())))
    }

    /// Every group of keys in turn, then the [`Config`] with every default applied.
    pub(super) fn validate(
        &self,
        raw: RawConfig,
        metadata: &Metadata,
        package: &Package,
    ) -> Result<Config, ConfigError> {
        let RawConfig {
            builder_base,
            builder_image,
            app_image,
            runtime_image,
            tag,
            pull_policy,
            bin,
            features,
            no_default_features,
            profile,
            vendor,
            strip,
            user,
            env,
            labels,
            port,
            okd,
        } = raw;
        let info = package_info(package);
        let builder_base = self.builder_base(builder_base)?;
        let images = self.images(&info.name, builder_image, app_image, runtime_image)?;
        let tag = self.tag(tag, package)?;
        let bin = self.bin(bin, package)?;
        let build = self.cargo_build(
            package,
            features,
            no_default_features,
            profile,
            vendor,
            strip,
        )?;
        let (builder_user, runtime_user) = self.users(user.unwrap_or_default())?;
        let env = self.env(env.unwrap_or_default())?;
        let labels = self.labels(labels.unwrap_or_default())?;
        let port = self.port(port)?;
        let okd = self.okd(
            okd.unwrap_or_default(),
            info.repository.clone(),
            metadata,
            &images.runtime,
            port,
        )?;
        Ok(Config {
            package: info,
            workspace_root: metadata.workspace_root.clone().into_std_path_buf(),
            builder_base,
            builder_image: images.builder,
            app_image: images.app,
            runtime_image: images.runtime,
            tag,
            pull_policy: pull_policy.unwrap_or_default(),
            bin,
            features: build.features,
            no_default_features: build.no_default_features,
            profile: build.profile,
            vendor: build.vendor,
            strip: build.strip,
            builder_user,
            runtime_user,
            env,
            labels,
            port,
            okd,
        })
    }

    /// `builder-base`: the configured base (a `--builder-base` override is checked by
    /// [`super::builder_base_override`] and never reaches the configuration).
    fn builder_base(&self, raw: Option<String>) -> Result<String, ConfigError> {
        let base = raw.unwrap_or_else(|| DEFAULT_BUILDER_BASE.into());
        self.check(&["builder-base"], names::image_reference(&base), || {
            format!(
                r#"give a full image reference, e.g. `builder-base = "{DEFAULT_BUILDER_BASE}"`"#
            )
        })?;
        Ok(base)
    }

    /// `builder-image`, `app-image` and `runtime-image`: repositories whose last components name
    /// three different OKD ImageStreams.
    fn images(
        &self,
        name: &str,
        builder: Option<String>,
        app: Option<String>,
        runtime: Option<String>,
    ) -> Result<Images, ConfigError> {
        let runtime = self.image(name, "runtime-image", runtime, name.to_string())?;
        let builder = self.image(name, "builder-image", builder, format!("{name}-builder"))?;
        let app = self.image(name, "app-image", app, format!("{name}-app"))?;
        let streams = [&builder, &app, &runtime].map(|i| names::image_stream(i).to_string());
        if streams[0] == streams[1] || streams[1] == streams[2] || streams[0] == streams[2] {
            return Err(self.err(
                &[],
                format!("`builder-image`, `app-image` and `runtime-image` must end in different names, found `{}`, `{}`, `{}`", streams[0], streams[1], streams[2]),
                Some("each stage has its own ImageStream; leave the image names unset for the defaults".into()),
            ));
        }
        Ok(Images {
            builder,
            app,
            runtime,
        })
    }

    /// One image name `key` of package `name`, `default` when unset.
    fn image(
        &self,
        name: &str,
        key: &'static str,
        value: Option<String>,
        default: String,
    ) -> Result<String, ConfigError> {
        let explicit = value.is_some();
        let v = value.unwrap_or(default);
        let note = || {
            if explicit {
                format!(
                    r#"give a repository name without tag, e.g. `{key} = "quay.io/acme/{name}"`"#
                )
            } else {
                let suggestion = default_image_suggestion(name, key);
                format!(
                    r#"the image names default to the package name `{name}`, which is not a valid image name; set `builder-image`, `app-image` and `runtime-image`, e.g. `{key} = "{suggestion}"`"#
                )
            }
        };
        self.check(&[key], names::image_name(&v), note)?;
        let stream = names::image_stream(&v);
        self.check(
            &[key],
            names::dns1123_label(stream)
                .map_err(|m| format!("its last component names the OKD ImageStream: {m}")),
            note,
        )?;
        Ok(v)
    }

    /// `tag`: the tag of the local images, the package version by default.
    fn tag(&self, raw: Option<String>, package: &Package) -> Result<String, ConfigError> {
        let Some(tag) = raw else {
            return Ok(names::tag_from_version(&package.version.to_string()));
        };
        self.check(&["tag"], names::tag(&tag), || {
            r#"e.g. `tag = "latest"` or `tag = "1.2.0"`"#.into()
        })?;
        Ok(tag)
    }

    /// `bin`: one of the package's binary targets; the only one, or Cargo's `default-run`, when
    /// unset.
    fn bin(&self, raw: Option<String>, package: &Package) -> Result<String, ConfigError> {
        let name = package.name.as_str();
        let bins: Vec<String> = package
            .targets
            .iter()
            .filter(|t| t.kind.contains(&TargetKind::Bin))
            .map(|t| t.name.clone())
            .collect();
        let bin_list = || {
            bins.iter()
                .map(|b| format!("`{b}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match raw {
            Some(b) => {
                self.check(&["bin"], names::cargo_ident(&b, "binary name"), || {
                    format!("the binary targets of `{name}` are {}", bin_list())
                })?;
                if !bins.contains(&b) {
                    return Err(self.err(
                        &["bin"],
                        format!("package `{name}` has no binary target `{b}`"),
                        Some(if bins.is_empty() {
                            "the package has no binary target; add `src/main.rs` or a `[[bin]]`"
                                .into()
                        } else {
                            format!("the binary targets of `{name}` are {}", bin_list())
                        }),
                    ));
                }
                Ok(b)
            }
            // Cargo's own choice for `cargo run` when there are several.
            None if bins.len() > 1
                && package
                    .default_run
                    .as_ref()
                    .is_some_and(|d| bins.contains(d)) =>
            {
                Ok(package.default_run.clone().unwrap_or_default())
            }
            None => match bins.as_slice() {
                [one] => {
                    self.check(&["bin"], names::cargo_ident(one, "binary name"), || {
                        "rename the binary target".into()
                    })?;
                    Ok(one.clone())
                }
                [] => Err(self.err(
                    &["bin"],
                    format!("package `{name}` has no binary target to put in an image"),
                    Some("add `src/main.rs` or a `[[bin]]` target".into()),
                )),
                _ => Err(self.err(
                    &["bin"],
                    format!("package `{name}` has several binary targets and `bin` does not say which one goes in the image"),
                    Some(format!("set `bin` to one of {}, e.g. `bin = \"{}\"` (or `default-run` in `[package]`)", bin_list(), bins[0])),
                )),
            },
        }
    }

    /// `features`, `no-default-features`, `profile`, `vendor` and `strip`: how the binary is built.
    fn cargo_build(
        &self,
        package: &Package,
        features: Option<Vec<String>>,
        no_default_features: Option<bool>,
        profile: Option<String>,
        vendor: Option<bool>,
        strip: Option<bool>,
    ) -> Result<CargoBuild, ConfigError> {
        let features = features.unwrap_or_default();
        self.features(&features, package)?;
        let profile = profile.unwrap_or_else(|| "release".into());
        self.check(
            &["profile"],
            names::cargo_ident(&profile, "profile name"),
            || r#"e.g. `profile = "release"`"#.into(),
        )?;
        Ok(CargoBuild {
            features,
            no_default_features: no_default_features.unwrap_or(false),
            profile,
            vendor: vendor.unwrap_or(true),
            strip: strip.unwrap_or(true),
        })
    }

    /// `features`: each one a feature of the package (or `dependency/feature`).
    fn features(&self, features: &[String], package: &Package) -> Result<(), ConfigError> {
        let name = package.name.as_str();
        let known = || {
            let list: Vec<String> = package.features.keys().map(|k| format!("`{k}`")).collect();
            if list.is_empty() {
                format!("package `{name}` declares no features")
            } else {
                format!("the features of `{name}` are {}", list.join(", "))
            }
        };
        for (i, f) in features.iter().enumerate() {
            let idx = i.to_string();
            let path = ["features", idx.as_str()];
            self.check(&path, names::feature(f), known)?;
            if !f.contains('/') && !package.features.contains_key(f) {
                return Err(self.err(
                    &path,
                    format!("package `{name}` has no feature `{f}`"),
                    Some(known()),
                ));
            }
        }
        Ok(())
    }

    /// `user`: the numeric non-root UIDs of the builder (and app) image and of the runtime image.
    fn users(&self, user: RawUser) -> Result<(u32, u32), ConfigError> {
        Ok((
            self.uid("builder", user.builder, DEFAULT_BUILDER_USER)?,
            self.uid("runtime", user.runtime, DEFAULT_RUNTIME_USER)?,
        ))
    }

    /// `user.<which>` (or `user` itself when it is one number for both).
    fn uid(&self, which: &str, raw: Option<i64>, default: u32) -> Result<u32, ConfigError> {
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
    fn env(&self, env: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ConfigError> {
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
    fn labels(
        &self,
        labels: BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ConfigError> {
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
    fn port(&self, raw: Option<i64>) -> Result<Option<u16>, ConfigError> {
        let Some(p) = raw else { return Ok(None) };
        match u16::try_from(p) {
            Ok(p) if p > 0 => Ok(Some(p)),
            _ => Err(self.err(
                &["port"],
                format!("{p} is not a TCP port"),
                Some("use a port from 1 to 65535, e.g. `port = 8080`".into()),
            )),
        }
    }
}

/// What `[package]` says about the package.
fn package_info(package: &Package) -> PackageInfo {
    PackageInfo {
        name: package.name.to_string(),
        version: package.version.to_string(),
        description: package.description.clone(),
        license: package.license.clone(),
        repository: package.repository.clone(),
        homepage: package.homepage.clone(),
        authors: package.authors.clone(),
        manifest_path: package.manifest_path.clone().into_std_path_buf(),
        dir: package
            .manifest_path
            .parent()
            .map(|p| p.to_path_buf().into_std_path_buf())
            .unwrap_or_default(),
    }
}

/// A valid image name for `key` made from a package name that is not one (`Hello_World` →
/// `hello-world-builder`).
fn default_image_suggestion(package: &str, key: &str) -> String {
    let mut base = String::new();
    for c in package.chars() {
        match c.to_ascii_lowercase() {
            c if c.is_ascii_lowercase() || c.is_ascii_digit() => base.push(c),
            _ if !base.ends_with('-') && !base.is_empty() => base.push('-'),
            _ => {}
        }
    }
    let mut base = base.trim_end_matches('-').to_string();
    if base.is_empty() {
        base = "app".into();
    }
    base.truncate(50);
    match key {
        "builder-image" => format!("{base}-builder"),
        "app-image" => format!("{base}-app"),
        _ => base,
    }
}
