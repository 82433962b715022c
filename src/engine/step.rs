//! One executor of typed steps, for both front-ends: the local chain ([`super::stages`], from
//! the Plan) and the rehearsal ([`crate::rehearse`], from the committed BuildConfigs) describe a
//! [`DockerBuild`] or an [`S2iBuild`](super::s2i::step::S2iBuild) and a [`Runner`] carries it
//! out. Skipping unchanged stages by digest stays with the local chain, around the runner. A
//! later runner (a kept builder container with `target/` on a volume) is another implementation
//! of the same steps.

use std::collections::{BTreeMap, HashMap};
use std::thread::Scope;

use super::archive;
use super::client::{self, Client};
use crate::sink::Sink;

/// Carries out steps with one container engine.
pub(crate) struct Runner<'a, 's, 'e> {
    pub docker: &'a Client,
    pub sink: &'s dyn Sink,
    /// Scoped threads write the tar streams the engine uploads.
    pub scope: &'s Scope<'s, 'e>,
    /// The labels of every container it creates (this tool's).
    pub labels: HashMap<String, String>,
}

/// A `docker build` with the classic builder, as OpenShift's Docker strategy and the local
/// chain's stages that need it run one.
pub(crate) struct DockerBuild {
    /// The name of the step in the output.
    pub log: String,
    /// The Dockerfile; `labels` are appended as one `LABEL` instruction (the build's `labels`
    /// parameter would cost the classic builder one step per label).
    pub dockerfile: String,
    pub labels: BTreeMap<String, String>,
    /// The rest of the build context, as a tar without a `Dockerfile`.
    pub context: Vec<u8>,
    pub no_cache: bool,
}

impl Runner<'_, '_, '_> {
    /// Builds the image of `build`; returns its (untagged) ID. The error carries the tail of
    /// the output.
    pub async fn docker_build(&self, build: DockerBuild) -> Result<String, client::Error> {
        let dockerfile = with_labels(&build.dockerfile, &build.labels);
        let context = archive::context_tar([("Dockerfile", dockerfile.as_bytes(), 0o644)])
            .and_then(|d| archive::concat(&[(&build.context, "", ""), (&d, "", "")]))
            .map_err(|e| client::Error::msg(format!("failed to write the build context: {e:#}")))?;
        self.docker
            .build(&build.log, context, build.no_cache, self.sink)
            .await
    }
}

/// `dockerfile` with `labels` appended as one `LABEL` instruction.
fn with_labels(dockerfile: &str, labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return dockerfile.to_string();
    }
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}={v:?}")).collect();
    format!(
        "{}\n\n# Added by xtask-s2i: this build's labels.\nLABEL {}\n",
        dockerfile.trim_end(),
        labels.join(" ")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels_are_one_instruction() {
        let labels = [("a.b".to_string(), "x \"y\"".to_string())].into();
        assert_eq!(
            super::with_labels("FROM scratch\n\n", &labels),
            "FROM scratch\n\n# Added by xtask-s2i: this build's labels.\nLABEL \"a.b\"=\"x \\\"y\\\"\"\n"
        );
    }
}
