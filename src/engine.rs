//! The Docker executor of the chain (filled in by the Docker-chain issue).
//!
//! It reads a [`Plan`] and a [`SourceTree`] and knows nothing of Cargo.

use anyhow::Result;

use crate::plan::Plan;
use crate::sink::{Sink, StageReport};

/// Flags of the engine.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Rebuild every stage even when its input digest matches the tagged image's.
    pub no_cache: bool,
    /// Push the three tags after building.
    pub push: bool,
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
    /// Writes the source tar to `out`. Entries are relative to the source root (the tar is
    /// extracted at `/tmp/src`), owned by `uid`:`gid`, with their modes and real mtimes
    /// (cargo's incremental rebuild compares mtimes).
    fn write_tar(
        &self,
        out: &mut dyn std::io::Write,
        uid: u64,
        gid: u64,
        sink: &dyn Sink,
    ) -> Result<()>;
}

/// Runs the chain of one plan.
pub fn build(
    _plan: &Plan,
    _source: &dyn SourceTree,
    _opts: &Options,
    _sink: &dyn Sink,
) -> Result<Vec<StageReport>> {
    anyhow::bail!("building images is not implemented yet; use `--no-build`")
}

/// The exit code for an error caused by Ctrl-C (130) or SIGTERM (143).
pub fn interrupted_exit_code(_e: &anyhow::Error) -> Option<i32> {
    None
}
