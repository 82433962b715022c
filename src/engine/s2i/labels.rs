//! The labels of an S2I build's image, one builder for both front-ends: the local chain's app
//! stage gives it the Plan's image labels and the working tree's git revision
//! ([`of_plan`]); the rehearsal gives it the committed app BuildConfig's `output.imageLabels`,
//! `source.git` (`uri`, `ref`), `contextDir` and the commit it clones. The same inputs give the
//! same labels: the image labels, upstream `s2i`'s `io.openshift.s2i.build.*` (the builder, the
//! source location and context directory, the commit's author, date, ID, ref and message), and
//! this tool's. The local chain adds its input digest, which only its cache reads.

use std::collections::BTreeMap;

use crate::engine::Revision;
use crate::plan::{Plan, Stage, TOOL_LABEL};

/// The `io.openshift.s2i.build.*` labels upstream sets on the image it builds.
const S2I_BUILD: &str = "io.openshift.s2i.build.";
/// Set (to `true`) when the uploaded tree differs from the commit the labels name.
pub(crate) const UNCOMMITTED_LABEL: &str = "io.github.xtask-s2i.uncommitted-changes";

/// What an S2I build's labels are made from.
pub(crate) struct Inputs<'a> {
    /// The app BuildConfig's `output.imageLabels`: the Plan's app labels.
    pub image_labels: BTreeMap<String, String>,
    /// The builder image, as the build names it.
    pub builder: &'a str,
    /// Where the source comes from: the git repository the build clones.
    pub location: &'a str,
    /// The app BuildConfig's `contextDir` (`.` or empty for the repository's root).
    pub context_dir: &'a str,
    /// The commit the source is, if known.
    pub revision: Option<&'a Revision>,
    /// The package (the group's leader): this tool's label.
    pub package: &'a str,
}

/// The labels of the image an S2I build of `inputs` commits: the image labels, then upstream's
/// `io.openshift.s2i.build.*`, then this tool's.
pub(crate) fn labels(inputs: &Inputs<'_>) -> BTreeMap<String, String> {
    let mut labels = inputs.image_labels.clone();
    let mut build = |key: &str, value: &str| {
        let value = label_safe(value);
        if !value.is_empty() {
            labels.insert(format!("{S2I_BUILD}{key}"), value);
        }
    };
    build("image", inputs.builder);
    build("source-location", inputs.location);
    let context_dir = inputs.context_dir.trim_matches('/');
    if !context_dir.is_empty() && context_dir != "." {
        build("source-context-dir", context_dir);
    }
    if let Some(r) = inputs.revision {
        if !r.author_name.is_empty() {
            build(
                "commit.author",
                &format!("{} <{}>", r.author_name, r.author_email),
            );
        }
        build("commit.date", &r.date);
        build("commit.id", &r.id);
        build("commit.ref", &r.reference);
        build("commit.message", &r.message);
        if r.dirty {
            labels.insert(UNCOMMITTED_LABEL.into(), "true".into());
        }
    }
    labels.insert(TOOL_LABEL.into(), inputs.package.into());
    labels
}

/// The labels of the local chain's app image (its digest aside): the Plan's app labels (its
/// group leader's image labels, what the app BuildConfig's `output.imageLabels` holds), its
/// builder image, the cluster's `contextDir` and its group's package, with the working tree's
/// `location` and `revision`.
pub(crate) fn of_plan(
    plan: &Plan,
    location: &str,
    revision: Option<&Revision>,
) -> BTreeMap<String, String> {
    let context_dir = plan
        .cluster_source()
        .map(|s| s.context_dir.clone())
        .unwrap_or_default();
    labels(&Inputs {
        image_labels: plan.app_labels().clone(),
        builder: &plan.image(Stage::Builder).reference(),
        location,
        context_dir: &context_dir,
        revision,
        package: &plan.group().package,
    })
}

/// A git-derived free text (commit message, author) as a label value both engines commit alike:
/// its first line, with the characters Podman's commit `changes` cannot carry (quotes, backslashes,
/// `$`) replaced, so a commit message such as `fix "$HOME"` never fails a build on Podman.
fn label_safe(value: &str) -> String {
    value
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .replace('"', "'")
        .replace(['\\', '$'], "_")
}

#[cfg(test)]
mod tests {
    #[test]
    fn git_texts_become_single_line_labels_without_quotes_or_dollars() {
        assert_eq!(
            super::label_safe("fix \"$HOME\" in C:\\tmp\n\nbody"),
            "fix '_HOME' in C:_tmp"
        );
        assert_eq!(super::label_safe(""), "");
    }
}
