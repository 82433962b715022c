//! How the cluster's builds run: their requests and limits, their deadline, and the stable tag
//! of the chain's ImageStreamTags (`okd.build-resources`, `okd.build-timeout`, `okd.tag`).

use super::{Defaults, RESOURCE_KEYS, RawResources, Resources};
use crate::Error;
use crate::config::layer::layer;
use crate::config::validator::Validator;
use crate::names;

/// Requests and limits of every build when `okd.build-resources` does not say otherwise: a Rust
/// release build needs memory for rustc and ephemeral storage for its target directory, and a
/// namespace's LimitRange default is often far too small for either.
pub(crate) const DEFAULT_BUILD_RESOURCES: Defaults = Defaults {
    requests: &[
        ("cpu", "500m"),
        ("memory", "1Gi"),
        ("ephemeral-storage", "2Gi"),
    ],
    limits: &[("memory", "4Gi"), ("ephemeral-storage", "10Gi")],
};

/// `completionDeadlineSeconds` of every build when `okd.build-timeout` is unset.
pub(crate) const DEFAULT_BUILD_TIMEOUT: u32 = 3600;
/// The tag of the chain's ImageStreamTags when `okd.tag` is unset.
pub(crate) const DEFAULT_TAG: &str = "latest";

layer! {
    /// The build keys of `[package.metadata.s2i.okd]` as written.
    pub(crate) struct BuildsLayer {
        build_resources: RawResources {
            key: "build-resources",
            ty: "table",
            example: r#"build-resources = { limits = { cpu = "2", memory = "4Gi" } }"#,
            inherit: replace,
            table: RESOURCE_KEYS,
        }
        build_timeout: i64 {
            key: "build-timeout",
            ty: "integer",
            example: "build-timeout = 1800",
            inherit: replace,
        }
        tag: String {
            key: "tag",
            ty: "string",
            example: r#"tag = "stable""#,
            inherit: replace,
        }
    }
}

/// How the cluster's builds run, validated, with their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builds {
    /// Requests and limits of every build, defaults merged with `okd.build-resources`.
    pub resources: Resources,
    /// `completionDeadlineSeconds` of every build.
    pub timeout: u32,
    /// The stable tag of the chain's ImageStreamTags (`okd.tag`).
    pub tag: String,
}

impl BuildsLayer {
    /// Checks the build keys of `okd` and applies their defaults.
    pub(super) fn resolve(self, v: &Validator) -> Result<Builds, Error> {
        let BuildsLayer {
            build_resources,
            build_timeout,
            tag,
        } = self;
        Ok(Builds {
            resources: build_resources.unwrap_or_default().resolve(
                v,
                "build-resources",
                DEFAULT_BUILD_RESOURCES,
            )?,
            timeout: v.build_timeout(build_timeout)?,
            tag: v.okd_tag(tag)?,
        })
    }
}

impl Validator<'_> {
    /// `okd.build-timeout`: seconds, from one minute to a day.
    fn build_timeout(&self, raw: Option<i64>) -> Result<u32, Error> {
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
    fn okd_tag(&self, raw: Option<String>) -> Result<String, Error> {
        let Some(tag) = raw else {
            return Ok(DEFAULT_TAG.into());
        };
        self.check(&["okd", "tag"], names::tag(&tag), || {
            r#"a tag that stays the same across releases, e.g. `tag = "latest"`; the version goes into the image labels"#.into()
        })?;
        Ok(tag)
    }
}
