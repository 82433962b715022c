//! The Docker executor of the chain: builder image → app image (the S2I step) → `FROM scratch`
//! runtime image, through the Docker Engine API (bollard, spoken by `client` only, whose calls
//! fail with the crate's one `Error`, the engine's error as its source; Docker and Podman differ
//! only as `flavor` says).
//!
//! It reads a [`Plan`] and a [`SourceTree`] and knows nothing of Cargo. Every stage has an input
//! digest stored as [`DIGEST_LABEL`] on its image, so a stage whose inputs did not change is
//! skipped without creating a container or sending a build context; the app stage is
//! incremental (the previous app image's `save-artifacts` feeds the next `assemble`). Every
//! container it creates carries [`TOOL_LABEL`] and is removed on success, on failure and on
//! Ctrl-C/SIGTERM.
//!
//! [`DIGEST_LABEL`]: crate::plan::DIGEST_LABEL
//! [`TOOL_LABEL`]: crate::plan::TOOL_LABEL

// `pub(crate)`: the rehearsal (`crate::rehearse`) builds from the committed manifests with them.
pub(crate) mod archive;
pub(crate) mod client;
mod direct;
mod elf;
mod flavor;
mod host;
mod janitor;
mod output;
mod push;
pub(crate) mod s2i;
mod stages;
pub(crate) mod step;
mod sys_crates;

use std::time::Instant;

use anyhow::{Context as _, Result};

use crate::plan::Plan;
use crate::sink::{Event, Sink, StageReport};

pub use elf::{Linkage, linkage};
pub(crate) use janitor::drain;

/// Flags of the engine.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Rebuild every stage even when its input digest matches the tagged image's.
    pub no_cache: bool,
    /// Push the three tags after building.
    pub push: bool,
    /// Build the builder and runtime images with `docker build` of their rendered Dockerfiles
    /// even when they can be assembled directly (one container and a commit, one import).
    pub docker_build: bool,
}

/// The source the app stage feeds to `assemble`. Implemented by `source::Closure`; the engine
/// knows nothing of Cargo.
pub trait SourceTree: Sync {
    /// sha256 (hex) over everything that goes into the source tar: relative paths, modes and
    /// contents of the files (not their mtimes), so an unchanged tree gives the same digest
    /// without the tar ever being built.
    fn digest(&self) -> &str;
    /// Where the source came from, for the `io.openshift.s2i.build.source-location` label.
    fn location(&self) -> String;
    /// The git commit the working tree is based on, if any (`io.openshift.s2i.build.commit.id`).
    fn commit(&self) -> Option<String>;
    /// The git revision the working tree is based on, for upstream's
    /// `io.openshift.s2i.build.commit.*` labels; by default only the commit.
    fn revision(&self) -> Option<Revision> {
        self.commit().map(|id| Revision {
            id,
            ..Revision::default()
        })
    }
    /// Writes the source tar to `out`. Entries are relative to the source root (the tar is
    /// extracted as `src/` in the builder's destination), owned by `uid`:`gid`, with their modes and real mtimes
    /// (cargo's incremental rebuild compares mtimes).
    fn write_tar(
        &self,
        out: &mut dyn std::io::Write,
        uid: u64,
        gid: u64,
        sink: &dyn Sink,
    ) -> Result<()>;
}

/// A git revision as upstream `s2i` labels it (`git show -s --format=...` of `HEAD`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revision {
    /// `rev-parse HEAD`.
    pub id: String,
    /// `rev-parse --abbrev-ref HEAD`: the branch, or `HEAD` when detached.
    pub reference: String,
    pub author_name: String,
    pub author_email: String,
    /// `%ad`: the author date in git's default format.
    pub date: String,
    /// `%<(80,trunc)%s`: the subject, cut to 80 columns.
    pub message: String,
    /// Whether the uploaded tree has changes `HEAD` does not hold.
    pub dirty: bool,
}

impl Revision {
    /// The arguments of `git show` that print a commit's author, date and subject as upstream
    /// `s2i` reads them; the commit follows.
    pub(crate) const SHOW: [&str; 4] = [
        "--no-pager",
        "show",
        "-s",
        "--format=%an%x00%ae%x00%ad%x00%<(80,trunc)%s",
    ];

    /// The revision `id` on `reference` with the author, date and subject of `show` (the
    /// output of `git show` with [`Revision::SHOW`]).
    pub(crate) fn from_show(id: String, reference: String, show: &str, dirty: bool) -> Revision {
        let mut fields = show.split('\0').map(|f| f.trim().to_string());
        let mut next = || fields.next().unwrap_or_default();
        Revision {
            id,
            reference,
            author_name: next(),
            author_email: next(),
            date: next(),
            message: next(),
            dirty,
        }
    }
}

/// Runs the chain of one group (`services`, Plans of one [`Group`](crate::plan::Group), the
/// source being theirs): builds (or reuses) the group's builder and app image and each
/// service's runtime image, tags them, and pushes them with `opts.push`. Blocks until done;
/// Ctrl-C and SIGTERM stop it cleanly.
pub fn build(
    services: &[&Plan],
    source: &dyn SourceTree,
    opts: &Options,
    sink: &dyn Sink,
) -> Result<Vec<StageReport>> {
    let Some(plan) = services.first() else {
        return Ok(Vec::new());
    };
    // Scoped threads write tar streams (the source, the artifacts) while the runtime uploads them.
    let rt = runtime()?;
    std::thread::scope(|scope| {
        rt.block_on(async {
            let (docker, mut signals) = connect(sink).await?;
            let chain = stages::Chain::new(&docker, plan, source, opts, sink, scope);
            let result = until_signal(&mut signals, chain.run(services)).await;
            // Whatever happened, remove what this run created and did not finish.
            docker.janitor().clean(&docker).await;
            result
        })
    })
}

/// The async runtime the Docker client runs on: one thread; scoped threads write the tar
/// streams it uploads.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime of the Docker client")
}

/// Installs the signal handlers and connects to the container engine (unless a signal comes
/// first).
pub(crate) async fn connect(sink: &dyn Sink) -> Result<(client::Client, signals::Signals)> {
    let mut signals = signals::Signals::install()?;
    let docker = until_signal(&mut signals, client::Client::connect(sink)).await?;
    Ok((docker, signals))
}

/// `run`, or the error of the first Ctrl-C or SIGTERM.
pub(crate) async fn until_signal<T, E: Into<anyhow::Error>>(
    signals: &mut signals::Signals,
    run: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T> {
    tokio::select! {
        r = run => r.map_err(Into::into),
        signal = signals.recv() => Err(anyhow::Error::new(signal)),
    }
}

/// The exit code for an error caused by Ctrl-C (130) or SIGTERM (143).
pub fn interrupted_exit_code(e: &anyhow::Error) -> Option<i32> {
    e.chain()
        .filter_map(|c| c.downcast_ref::<crate::Error>())
        .find_map(crate::Error::interrupted_exit_code)
}

/// Reports a finished stage and returns its report.
fn report(
    sink: &dyn Sink,
    package: &str,
    stage: &str,
    image: String,
    image_info: &client::ImageInfo,
    started: Instant,
    cached: bool,
) -> StageReport {
    let report = StageReport {
        package: package.to_string(),
        stage: stage.to_string(),
        image,
        id: image_info.id.clone(),
        size: image_info.size,
        seconds: started.elapsed().as_secs_f64(),
        cached,
    };
    sink.event(Event::Stage(report.clone()));
    report
}

pub(crate) mod signals {
    //! Ctrl-C and SIGTERM as a future, so a run can stop, clean up, and exit 130/143.

    use anyhow::{Context as _, Result};

    use crate::Error;

    pub struct Signals {
        #[cfg(unix)]
        int: tokio::signal::unix::Signal,
        #[cfg(unix)]
        term: tokio::signal::unix::Signal,
    }

    impl Signals {
        /// Installs the handlers; from now on Ctrl-C no longer kills the process outright.
        pub fn install() -> Result<Signals> {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                Ok(Signals {
                    int: signal(SignalKind::interrupt())
                        .context("failed to install the Ctrl-C handler")?,
                    term: signal(SignalKind::terminate())
                        .context("failed to install the SIGTERM handler")?,
                })
            }
            #[cfg(not(unix))]
            {
                Ok(Signals {})
            }
        }

        /// Resolves when the first signal arrives, with the error the run ends with (after
        /// cleaning up): its exit code is 130 after SIGINT, 143 after SIGTERM.
        pub async fn recv(&mut self) -> Error {
            #[cfg(unix)]
            {
                tokio::select! {
                    _ = self.int.recv() => Error::interrupted("SIGINT", 130),
                    _ = self.term.recv() => Error::interrupted("SIGTERM", 143),
                }
            }
            #[cfg(not(unix))]
            {
                let _ = self;
                let _ = tokio::signal::ctrl_c().await;
                Error::interrupted("Ctrl-C", 130)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The chain on a tiny dependency-free crate through a [`SourceTree`] of the test's own, so
    //! the engine is exercised without the source closure. Needs the Docker daemon and the local
    //! Rust base image; skips otherwise (fails with `XTASK_S2I_REQUIRE_DOCKER=1`).

    use std::io::Write;

    use super::*;
    use crate::plan::Stage;
    use crate::sink::Buffer;

    const BASE: &str = "localhost/xtask-s2i/rust:trixie";

    struct Tiny {
        main: String,
        digest: String,
        mtime: u64,
    }

    impl Tiny {
        fn new(main: &str) -> Tiny {
            use sha2::Digest;
            Tiny {
                main: main.to_string(),
                digest: crate::plan::hex(&sha2::Sha256::digest(main.as_bytes())),
                mtime: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs(),
            }
        }
    }

    impl SourceTree for Tiny {
        fn digest(&self) -> &str {
            &self.digest
        }
        fn location(&self) -> String {
            "memory://tiny".into()
        }
        fn commit(&self) -> Option<String> {
            None
        }
        fn write_tar(&self, out: &mut dyn Write, uid: u64, gid: u64, _: &dyn Sink) -> Result<()> {
            let mut tar = tar::Builder::new(out);
            let files = [
                (
                    "Cargo.toml",
                    "[package]\nname = \"hello-world\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
                ),
                (
                    "Cargo.lock",
                    "version = 3\n\n[[package]]\nname = \"hello-world\"\nversion = \"0.1.0\"\n",
                ),
                ("src/main.rs", self.main.as_str()),
            ];
            // At the workspace's place in the cluster's source, where `assemble` looks for it.
            let plan = plan("tiny");
            let dir = &plan.cluster_source().unwrap().workspace_dir;
            let mut parent = String::new();
            for part in dir.split('/').chain(["src"]) {
                parent = if parent.is_empty() {
                    part.to_string()
                } else {
                    format!("{parent}/{part}")
                };
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                h.set_mode(0o775);
                h.set_uid(uid);
                h.set_gid(gid);
                h.set_mtime(self.mtime);
                tar.append_data(&mut h, format!("{parent}/"), std::io::empty())?;
            }
            for (path, contents) in files {
                let path = format!("{dir}/{path}");
                let mut h = tar::Header::new_gnu();
                h.set_size(contents.len() as u64);
                h.set_mode(0o644);
                h.set_uid(uid);
                h.set_gid(gid);
                // Real mtimes, as cargo's incremental rebuild compares them.
                h.set_mtime(self.mtime);
                tar.append_data(&mut h, path, contents.as_bytes())?;
            }
            tar.finish()?;
            Ok(())
        }
    }

    /// A buffer that also prints status lines with their time (visible with `--nocapture`).
    struct Trace(Buffer, std::time::Instant);

    impl Sink for Trace {
        fn event(&self, event: Event) {
            match &event {
                Event::Log { .. } => {}
                e => eprintln!("{:>6.1}s {e:?}", self.1.elapsed().as_secs_f64()),
            }
            self.0.event(event);
        }
    }

    fn trace() -> Trace {
        Trace(Buffer::new(), std::time::Instant::now())
    }

    fn docker(test: &str) -> bool {
        let ok = std::process::Command::new("docker")
            .args(["image", "inspect", BASE])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            assert_ne!(
                std::env::var("XTASK_S2I_REQUIRE_DOCKER").as_deref(),
                Ok("1"),
                "{test}: no Docker daemon with `{BASE}`"
            );
            eprintln!("skipping {test}: no Docker daemon with `{BASE}`");
        }
        ok
    }

    fn plan(tag: &str) -> Plan {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let metadata =
            crate::config::read_metadata(Some(&root.join("examples/hello-world/Cargo.toml")))
                .unwrap();
        let mut plan = Plan::for_workspace(&metadata, &[], Some(BASE))
            .unwrap()
            .remove(0);
        for stage in Stage::ALL {
            let image = plan.image_mut(stage);
            image.name = format!("xtask-s2i-unit/{}", image.stream());
            image.tag = tag.to_string();
        }
        plan
    }

    fn docker_out(args: &[&str]) -> String {
        let out = std::process::Command::new("docker")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn remove_images(plan: &Plan) {
        for stage in Stage::ALL.into_iter().rev() {
            let image = plan.image(stage);
            let _ = std::process::Command::new("docker")
                .args(["rmi", "-f", &image.reference()])
                .output();
        }
    }

    #[test]
    fn interruptions_map_to_130_and_143() {
        let term =
            anyhow::Error::new(crate::Error::interrupted("SIGTERM", 143)).context("while building");
        assert_eq!(interrupted_exit_code(&term), Some(143));
        let int = anyhow::Error::new(crate::Error::interrupted("SIGINT", 130));
        assert_eq!(interrupted_exit_code(&int), Some(130));
        assert_eq!(interrupted_exit_code(&anyhow::anyhow!("other")), None);
    }

    #[test]
    fn chain_on_a_tiny_crate() {
        if !docker("chain_on_a_tiny_crate") {
            return;
        }
        let plan = plan("tiny");
        remove_images(&plan);
        let sink = trace();
        let opts = Options::default();
        let source = Tiny::new("fn main() { println!(\"tiny 1\"); }\n");
        let stages = build(&[&plan], &source, &opts, &sink).unwrap();
        assert_eq!(stages.len(), 3);
        let run =
            |plan: &Plan| docker_out(&["run", "--rm", &plan.image(Stage::Runtime).reference()]);
        assert_eq!(run(&plan), "tiny 1");

        // Nothing changed: every stage is fresh.
        let stages = build(&[&plan], &source, &opts, &sink).unwrap();
        assert!(stages.iter().all(|s| s.cached), "{stages:#?}");

        // A source change: app and runtime rebuilt, incrementally.
        let source = Tiny::new("fn main() { println!(\"tiny 2\"); }\n");
        let sink = trace();
        let stages = build(&[&plan], &source, &opts, &sink).unwrap();
        let cached: Vec<bool> = stages.iter().map(|s| s.cached).collect();
        assert_eq!(cached, [true, false, false]);
        assert_eq!(run(&plan), "tiny 2");
        let logs: Vec<String> = sink
            .0
            .events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Log { line, .. } => Some(line),
                _ => None,
            })
            .collect();
        assert!(
            logs.iter().any(|l| l.contains("Restoring build artifacts")),
            "{logs:#?}"
        );

        // A compile error: the message is in the error, no tag moved.
        let app = plan.image(Stage::App).reference();
        let before = docker_out(&["image", "inspect", "-f", "{{.Id}}", &app]);
        let source = Tiny::new("fn main() { let x: u32 = \"no\"; }\n");
        let err = build(&[&plan], &source, &opts, &trace()).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("mismatched types"), "{msg}");
        assert!(msg.contains("exit code 101"), "{msg}");
        let after = docker_out(&["image", "inspect", "-f", "{{.Id}}", &app]);
        assert_eq!(before, after);
        let left = docker_out(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label={}={}", crate::plan::TOOL_LABEL, plan.package()),
        ]);
        assert_eq!(left, "");
        remove_images(&plan);
    }
}
