//! xtask-s2i: build a Rust package's container images the Source-to-Image way — a builder image,
//! an app image made by running the builder's `assemble` over the source, and a `FROM scratch`
//! runtime image holding only the static binary — and write the OKD/OpenShift manifests that run
//! the same chain in a cluster.
//!
//! A user's `xtask` can be one line:
//!
//! ```no_run
//! fn main() -> xtask_s2i::anyhow::Result<()> {
//!     xtask_s2i::main()
//! }
//! ```
//!
//! or embed [`ImageArgs`] in its own `clap` command enum and call [`ImageArgs::run`]. `clap` and
//! `anyhow` are re-exported so the versions cannot skew.
//!
//! Data flows one way: `cargo metadata` → `config` (what the user wrote, validated, workspace
//! defaults merged) → `plan` (the chain of one package, `Plan::for_workspace` for a workspace) →
//! the executors `render`, `engine` and `okd`. The Plan is their only vocabulary: it hands out
//! typed parts — the image of each stage, the layout of every path, the resolved configuration of
//! each domain (held once, as `config` made it) and the names the cluster derives from it — so
//! the local chain and the cluster chain cannot disagree.
//!
//! The public API is what a user calls: [`main`] and [`exit_with`], [`ImageArgs`] with its
//! [`MessageFormat`] and [`Summary`], a [`Sink`] of [`Event`]s to embed it, the [`build_script`]
//! helper and the configuration it reads ([`Config`] and its parts), the one [`Error`], and the
//! `anyhow`/`clap` re-exports. Everything else is private. This repository's own tests and
//! xtask reach the internals through the `internal` feature, which is not an API.
//!
//! With `default-features = false` only the configuration and [`build_script`] are compiled, which
//! is what a package's `build.rs` needs (no Docker client, no async runtime).

pub mod build_script;
mod error;

// The internal modules: private, or with the `internal` feature (this repository's tests and
// xtask only; not an API) public and hidden from the documentation. Declared twice rather than
// by a macro, so that rustfmt finds their files.
#[cfg(feature = "internal")]
#[doc(hidden)]
pub mod config;
#[cfg(not(feature = "internal"))]
mod config;
#[cfg(all(feature = "cli", feature = "internal"))]
#[doc(hidden)]
pub mod engine;
#[cfg(all(feature = "cli", not(feature = "internal")))]
mod engine;
#[cfg(all(feature = "cli", feature = "internal"))]
#[doc(hidden)]
pub mod files;
#[cfg(all(feature = "cli", not(feature = "internal")))]
mod files;
#[cfg(feature = "internal")]
#[doc(hidden)]
pub mod names;
#[cfg(not(feature = "internal"))]
mod names;
#[cfg(all(feature = "cli", feature = "internal"))]
#[doc(hidden)]
pub mod okd;
#[cfg(all(feature = "cli", not(feature = "internal")))]
mod okd;
#[cfg(all(feature = "cli", feature = "internal"))]
#[doc(hidden)]
pub mod plan;
#[cfg(all(feature = "cli", not(feature = "internal")))]
mod plan;
#[cfg(all(feature = "cli", feature = "internal"))]
#[doc(hidden)]
pub mod render;
#[cfg(all(feature = "cli", not(feature = "internal")))]
mod render;
#[cfg(all(feature = "cli", feature = "internal"))]
#[doc(hidden)]
pub mod sink;
#[cfg(all(feature = "cli", not(feature = "internal")))]
mod sink;
#[cfg(all(feature = "cli", feature = "internal"))]
#[doc(hidden)]
pub mod source;
#[cfg(all(feature = "cli", not(feature = "internal")))]
mod source;

#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "internal")]
#[doc(hidden)]
pub mod dev;
#[cfg(all(feature = "cli", feature = "internal"))]
#[doc(hidden)]
pub mod rehearse;
#[cfg(all(feature = "cli", not(feature = "internal")))]
mod rehearse;

pub use anyhow;
#[cfg(feature = "cli")]
pub use clap;
#[cfg(feature = "cli")]
pub use cli::{ImageArgs, MessageFormat, Summary};
pub use config::{Build, Config, Container, Images, PackageInfo, PullPolicy, RuntimeFiles};
pub use error::{Error, Location};
#[cfg(feature = "cli")]
pub use sink::{Event, Sink, StageReport};

#[cfg(feature = "cli")]
use clap::{Parser, Subcommand};

#[cfg(feature = "cli")]
/// The commands of a user's xtask when it is just `xtask_s2i::main()`.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[cfg(feature = "cli")]
#[derive(Debug, Subcommand)]
enum Command {
    /// Build the builder, app and runtime images and write the OKD manifests
    Image(ImageArgs),
}

#[cfg(feature = "cli")]
/// The entry point of a one-line xtask: parses the arguments, runs the command, and on failure
/// prints `error: ...` to stderr and exits with the error's exit code.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Image(args) => args.run(),
    };
    if let Err(e) = result {
        exit_with(&e);
    }
    Ok(())
}

#[cfg(feature = "cli")]
/// Prints an error the way cargo does and exits: 130 or 143 after Ctrl-C or SIGTERM, 1 otherwise.
/// The text is the error chain's messages, then the `note:` lines of every [`Error`] in it; with
/// `--message-format json`, [`ImageArgs::run`] has also reported them apart, as an `error` event
/// made from the same report.
pub fn exit_with(e: &anyhow::Error) -> ! {
    use std::io::IsTerminal;
    let code = engine::interrupted_exit_code(e).unwrap_or(1);
    let prefix = if std::io::stderr().is_terminal() {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    eprintln!("{prefix}: {}", error::Report::of(e));
    std::process::exit(code)
}
