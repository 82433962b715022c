//! The images of the chain: the base the builder starts from and the system packages added to it,
//! the three image names, their local tag and how the base is obtained (`builder-base`,
//! `builder-packages`, `builder-image`, `app-image`, `runtime-image`, `tag`, `pull-policy`); and
//! the `--builder-base` override, checked on its own.

use std::fmt;

use cargo_metadata::Package;
use serde::Deserialize;

use super::layer::layer;
use super::validator::Validator;
use crate::names;
use crate::{Error, Location};

/// The image every builder starts from unless the user says otherwise.
pub const DEFAULT_BUILDER_BASE: &str = "docker.io/library/rust:1-slim";
/// Environment variable that overrides `builder-base` (offline machines, CI).
pub const BUILDER_BASE_ENV: &str = "XTASK_S2I_BUILDER_BASE";

/// How an image is obtained when it is not present locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PullPolicy {
    /// Pull only when the image is not present (`if-not-present`, the default).
    #[default]
    IfNotPresent,
    /// Pull before every build (`always`).
    Always,
    /// Never pull: a missing image is an error (`never`).
    Never,
}

impl fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PullPolicy::IfNotPresent => "if-not-present",
            PullPolicy::Always => "always",
            PullPolicy::Never => "never",
        })
    }
}

layer! {
    /// The image keys of `[package.metadata.s2i]` as written.
    pub(crate) struct ImagesLayer {
        builder_base: String {
            key: "builder-base",
            ty: "string",
            example: r#"builder-base = "docker.io/library/rust:1-slim""#,
            inherit: replace,
        }
        builder_packages: Vec<String> {
            key: "builder-packages",
            ty: "array of strings",
            example: r#"builder-packages = ["libssl-dev", "protobuf-compiler"]"#,
            inherit: replace,
        }
        // Image names are per package: a workspace default would give every package the same
        // image.
        builder_image: String {
            key: "builder-image",
            ty: "string",
            example: r#"builder-image = "quay.io/acme/hello-builder""#,
            inherit: per_package,
        }
        app_image: String {
            key: "app-image",
            ty: "string",
            example: r#"app-image = "quay.io/acme/hello-app""#,
            inherit: per_package,
        }
        runtime_image: String {
            key: "runtime-image",
            ty: "string",
            example: r#"runtime-image = "quay.io/acme/hello""#,
            inherit: per_package,
        }
        tag: String {
            key: "tag",
            ty: "string",
            example: r#"tag = "latest""#,
            inherit: replace,
        }
        pull_policy: PullPolicy {
            key: "pull-policy",
            ty: "string",
            example: r#"pull-policy = "never""#,
            inherit: replace,
        }
    }
}

/// The images of the chain, validated, with their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// The configured `builder-base` (a `--builder-base` override is the Plan's business).
    pub builder_base: String,
    /// System packages the builder installs on top of the base, with the base's own package
    /// manager (apt-get, dnf, microdnf or apk, whichever the base has).
    pub builder_packages: Vec<String>,
    /// The repository of the builder image (`<package>-builder` by default).
    pub builder_image: String,
    /// The repository of the app image (`<package>-app` by default).
    pub app_image: String,
    /// The repository of the runtime image (`<package>` by default).
    pub runtime_image: String,
    /// The tag of the local images: the package version unless `tag` says otherwise.
    pub tag: String,
    pub pull_policy: PullPolicy,
}

impl ImagesLayer {
    /// Checks the image keys of `package`'s merged configuration and applies their defaults.
    pub(super) fn resolve(
        self,
        v: &Validator,
        package: &Package,
        service: &str,
    ) -> Result<Images, Error> {
        let ImagesLayer {
            builder_base,
            builder_packages,
            builder_image,
            app_image,
            runtime_image,
            tag,
            pull_policy,
        } = self;
        let builder_base = v.builder_base(builder_base)?;
        let builder_packages = v.builder_packages(builder_packages.unwrap_or_default())?;
        let name = service;
        let (builder_image, app_image, runtime_image) =
            v.images(name, builder_image, app_image, runtime_image)?;
        Ok(Images {
            builder_base,
            builder_packages,
            builder_image,
            app_image,
            runtime_image,
            tag: v.tag(tag, package)?,
            pull_policy: pull_policy.unwrap_or_default(),
        })
    }
}

/// Checks `value` of the `--builder-base` flag or the `XTASK_S2I_BUILDER_BASE` variable: the
/// image the local builder starts from instead of the configured `builder-base`.
pub fn builder_base_override(value: &str) -> Result<String, Error> {
    names::image_reference(value).map_err(|message| {
        Error::new(message)
            .at(Location::Flag {
                flag: "--builder-base",
                env: BUILDER_BASE_ENV,
                key: "builder-base".into(),
            })
            .note(format!(
                "give a full image reference such as `{DEFAULT_BUILDER_BASE}`"
            ))
    })?;
    Ok(value.to_string())
}

impl Validator<'_> {
    /// `builder-base`: the configured base (a `--builder-base` override is checked by
    /// [`builder_base_override`] and never reaches the configuration).
    fn builder_base(&self, raw: Option<String>) -> Result<String, Error> {
        let base = raw.unwrap_or_else(|| DEFAULT_BUILDER_BASE.into());
        self.check(&["builder-base"], names::image_reference(&base), || {
            format!(
                r#"give a full image reference, e.g. `builder-base = "{DEFAULT_BUILDER_BASE}"`"#
            )
        })?;
        Ok(base)
    }

    /// `builder-packages`: package names as apt, dnf and apk spell them (no options, no
    /// duplicates).
    fn builder_packages(&self, packages: Vec<String>) -> Result<Vec<String>, Error> {
        for (i, p) in packages.iter().enumerate() {
            let idx = i.to_string();
            self.check(&["builder-packages", &idx], names::system_package(p), || {
                r#"list the package names of the base's package manager, e.g. `builder-packages = ["libssl-dev", "protobuf-compiler"]` on a Debian base"#.into()
            })?;
            if packages[..i].contains(p) {
                return Err(self.err(
                    &["builder-packages", &idx],
                    format!("`{p}` is listed twice"),
                    Some("list each package once".into()),
                ));
            }
        }
        Ok(packages)
    }

    /// `builder-image`, `app-image` and `runtime-image`: repositories whose last components name
    /// three different OKD ImageStreams.
    fn images(
        &self,
        name: &str,
        builder: Option<String>,
        app: Option<String>,
        runtime: Option<String>,
    ) -> Result<(String, String, String), Error> {
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
        Ok((builder, app, runtime))
    }

    /// One image name `key` of package `name`, `default` when unset.
    fn image(
        &self,
        name: &str,
        key: &'static str,
        value: Option<String>,
        default: String,
    ) -> Result<String, Error> {
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
    fn tag(&self, raw: Option<String>, package: &Package) -> Result<String, Error> {
        let Some(tag) = raw else {
            return Ok(names::tag_from_version(&package.version.to_string()));
        };
        self.check(&["tag"], names::tag(&tag), || {
            r#"e.g. `tag = "latest"` or `tag = "1.2.0"`"#.into()
        })?;
        Ok(tag)
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
