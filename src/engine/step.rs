//! One executor of typed steps, for both front-ends: the local chain ([`super::stages`], from
//! the Plan) and the rehearsal ([`crate::rehearse`], from the committed BuildConfigs) describe a
//! [`DockerBuild`], an [`S2iBuild`](super::s2i::step::S2iBuild) or a [`ContainerRun`] and a
//! [`Runner`] carries it out. Skipping unchanged stages by digest stays with the local chain, around the runner. A
//! later runner (a kept builder container with `target/` on a volume) is another implementation
//! of the same steps.

use std::collections::{BTreeMap, HashMap};
use std::thread::Scope;

use anyhow::{Context as _, Result, anyhow};

use super::archive;
use super::client::containers::StdoutSink;
use super::client::{self, Client, ContainerSpec, Output};
use crate::sink::Sink;

/// How many lines of a watched container's output its error shows.
const LOG_LINES: usize = 40;

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

/// A container run: a container created with the runner's labels, its files copied in, started,
/// its output streamed until it exits (or watched while it runs), and removed — at once, or after
/// the commit of a container kept for one.
#[derive(Default)]
pub(crate) struct ContainerRun<'a> {
    /// The name of the step in the output.
    pub log: String,
    /// What the container runs: the image, user, environment, entrypoint and command, mounts
    /// and restrictions. Its labels and whether it is attached are the runner's to set.
    pub spec: ContainerSpec,
    /// Where its stdout goes when it is data (a tar stream), not output to show.
    pub stdout: Option<StdoutSink<'a>>,
    /// Whether a container that exits 0 is kept (for a commit, which removes it) rather than
    /// removed.
    pub keep: bool,
}

/// What the preparation of a created container (copying files into it) asks for.
pub(crate) enum Prepared {
    /// Start it.
    Ready,
    /// Remove it and prepare a new one (an upload that failed part-way leaves it unusable).
    Again,
}

/// How an attached container run ended.
pub(crate) struct Ran {
    pub code: i64,
    pub output: Output,
    /// The container, when it exited 0 and the run asked to keep it.
    pub kept: Option<String>,
}

impl Runner<'_, '_, '_> {
    /// Runs `run` to its exit: creates the container, lets `prepare` copy files into it, starts
    /// it attached (stdout to `run.stdout` when set, else with stderr to the log), waits, and
    /// removes it unless it exited 0 and `run.keep` asks to keep it.
    pub async fn run(
        &self,
        run: ContainerRun<'_>,
        prepare: impl AsyncFnMut(&str) -> Result<Prepared>,
    ) -> Result<Ran> {
        let ContainerRun {
            log,
            spec,
            stdout,
            keep,
        } = run;
        let container = self.create(spec, true, prepare).await?;
        let mut output = Output::new(&log);
        let code = match self
            .docker
            .run(&container, &mut output, stdout, self.sink)
            .await
        {
            Ok(code) => code,
            Err(e) => {
                self.docker.force_remove_container(&container).await;
                return Err(e);
            }
        };
        if code == 0 && keep {
            let kept = Some(container);
            return Ok(Ran { code, output, kept });
        }
        self.docker.remove_container(&container).await?;
        Ok(Ran {
            code,
            output,
            kept: None,
        })
    }

    /// Runs `run` while `watch` watches it (a service does not exit): creates the container,
    /// starts it unattached, hands it to `watch`, and removes it however that ends. A failure
    /// ends with the container's last lines of output (also logged).
    pub async fn run_watched(
        &self,
        run: ContainerRun<'_>,
        watch: impl AsyncFnOnce(&str) -> Result<()>,
    ) -> Result<()> {
        let container = self
            .create(run.spec, false, async |_| Ok(Prepared::Ready))
            .await?;
        let started = self
            .docker
            .start(&container)
            .await
            .context("step `start`: the container did not start");
        let result = match started {
            Ok(()) => watch(&container).await,
            Err(e) => Err(e),
        };
        let result = match result {
            Ok(()) => Ok(()),
            Err(e) => Err(anyhow!(
                "{e:#}\n{}",
                self.last_output(&container, &run.log).await
            )),
        };
        self.docker.remove_container(&container).await?;
        result
    }

    /// A container of `spec` with this runner's labels, prepared by `prepare` (removed when
    /// that fails, and made again when it asks).
    async fn create(
        &self,
        mut spec: ContainerSpec,
        attach: bool,
        mut prepare: impl AsyncFnMut(&str) -> Result<Prepared>,
    ) -> Result<String> {
        spec.labels = self.labels.clone();
        spec.attach = attach;
        loop {
            let container = self.docker.create_container(spec.clone()).await?;
            match prepare(&container).await {
                Ok(Prepared::Ready) => return Ok(container),
                Ok(Prepared::Again) => self.docker.remove_container(&container).await?,
                Err(e) => {
                    self.docker.remove_container(&container).await?;
                    return Err(e);
                }
            }
        }
    }

    /// The last lines of a container's output, as log events and for an error.
    async fn last_output(&self, container: &str, log: &str) -> String {
        let mut output = Output::new(log);
        self.docker
            .logs(container, LOG_LINES, &mut output, self.sink)
            .await;
        output.flush(self.sink);
        match output.tail() {
            t if t.is_empty() => "(the container wrote no output)".to_string(),
            t => format!("its output:\n{}", t.trim_end()),
        }
    }

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
