//! This repository's own xtask: `image` (the library's command, for this workspace) and the
//! repository-only tasks. `main` only dispatches; each task is a module with `run`.

mod bench;
mod debootstrap;
mod demo;
mod rust_base;

use xtask_s2i::anyhow::Result;
use xtask_s2i::clap::{self, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job on the example from a fresh machine: the local Rust base image when no
    /// other is given (made when missing), then the example's chain, then how to run it
    Demo(demo::Demo),
    /// Build images and write manifests (the library's command)
    Image(xtask_s2i::ImageArgs),
    /// Measure `image` against a plain multi-stage `docker build`; writes `target/bench/report.json`
    Bench(bench::Bench),
    /// Make the local Rust base image `localhost/xtask-s2i/rust:trixie` if it is missing
    RustBase(rust_base::RustBase),
}

fn main() -> Result<()> {
    let sh = xshell::Shell::new()?;
    let result = match Cli::parse().command {
        Command::Demo(cmd) => cmd.run(&sh),
        Command::Image(args) => args.run(),
        Command::RustBase(cmd) => cmd.run(&sh),
        Command::Bench(cmd) => cmd.run(&sh),
    };
    if let Err(e) = result {
        xtask_s2i::exit_with(&e);
    }
    Ok(())
}
