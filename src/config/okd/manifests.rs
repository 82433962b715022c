//! Where the manifests go and which namespace they name (`okd.manifests-dir`, `okd.namespace`).

use super::normalize_rel;
use crate::Error;
use crate::config::layer::layer;
use crate::config::validator::Validator;
use crate::names;

layer! {
    /// The manifest keys of `[package.metadata.s2i.okd]` as written.
    pub(crate) struct ManifestsLayer {
        namespace: String {
            key: "namespace",
            ty: "string",
            example: r#"namespace = "demo""#,
            inherit: replace,
        }
        manifests_dir: String {
            key: "manifests-dir",
            ty: "string",
            example: r#"manifests-dir = "deploy/okd""#,
            inherit: replace,
        }
    }
}

/// Where the manifests go, validated, with its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifests {
    /// The namespace `kustomization.yaml` names; none leaves it to `oc project`.
    pub namespace: Option<String>,
    /// `okd.manifests-dir`, relative to the workspace root, with `/` separators.
    pub dir: String,
}

impl ManifestsLayer {
    /// Checks the manifest keys of `okd` and applies their defaults.
    pub(super) fn resolve(self, v: &Validator) -> Result<Manifests, Error> {
        let ManifestsLayer {
            namespace,
            manifests_dir,
        } = self;
        if let Some(ns) = &namespace {
            v.check(&["okd", "namespace"], names::dns1123_label(ns), || {
                r#"e.g. `namespace = "demo"`"#.into()
            })?;
        }
        Ok(Manifests {
            namespace,
            dir: v.manifests_dir(manifests_dir)?,
        })
    }
}

impl Validator<'_> {
    /// `okd.manifests-dir`: a directory of the workspace other than its root.
    fn manifests_dir(&self, raw: Option<String>) -> Result<String, Error> {
        let dir = raw.unwrap_or_else(|| "deploy/okd".into());
        self.check(
            &["okd", "manifests-dir"],
            names::relative_path(&dir),
            || r#"e.g. `manifests-dir = "deploy/okd"`"#.into(),
        )?;
        let dir = normalize_rel(&dir);
        if dir == "." {
            return Err(self.err(
                &["okd", "manifests-dir"],
                "the manifests need a directory of their own, not the workspace root",
                Some(r#"e.g. `manifests-dir = "deploy/okd"`"#.into()),
            ));
        }
        Ok(dir)
    }
}
