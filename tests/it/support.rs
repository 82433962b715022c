//! Shared test helpers: the example's location, copies of it to mutate, the gate for tests that
//! need Docker, the OpenShift schemas, and the engine the engine tests run against.
//!
//! `XTASK_S2I_TEST_ENGINE=podman` runs them against Podman: `DOCKER_HOST` must then point at a
//! Podman API socket (the library and the `docker` CLI of the tests both follow it), and
//! containers are run with the `podman` CLI.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `examples/hello-world`.
pub fn example_dir() -> PathBuf {
    repo_root().join("examples/hello-world")
}

/// The local Rust base image that `cargo xtask rust-base` makes; tests build FROM it.
pub const RUST_BASE: &str = xtask_s2i::dev::RUST_BASE;

/// Whether Docker tests may run: true when the daemon answers. When it does not, the test is
/// skipped with a printed reason, unless `XTASK_S2I_REQUIRE_DOCKER=1`, where it panics.
pub fn docker_available(test: &str) -> bool {
    let out = std::process::Command::new("docker")
        .args([
            "version",
            "--format",
            "{{range .Server.Components}}{{.Name}};{{end}}",
        ])
        .output();
    let ok = out.as_ref().map(|o| o.status.success()).unwrap_or(false);
    if ok && engine() == Engine::Podman {
        let components = String::from_utf8_lossy(&out.as_ref().unwrap().stdout).into_owned();
        assert!(
            components.contains("Podman Engine"),
            "{test}: XTASK_S2I_TEST_ENGINE=podman, but `DOCKER_HOST` ({:?}) is not a Podman \
             socket (components: {components})",
            std::env::var("DOCKER_HOST").ok()
        );
    }
    if !ok {
        if std::env::var("XTASK_S2I_REQUIRE_DOCKER").as_deref() == Ok("1") {
            panic!("{test}: no Docker daemon answers and XTASK_S2I_REQUIRE_DOCKER=1");
        }
        eprintln!(
            "skipping {test}: no Docker daemon answers (set XTASK_S2I_REQUIRE_DOCKER=1 to fail instead)"
        );
    }
    ok
}

/// The OpenShift 4.19 JSON schemas the manifest tests validate against, kept in the repository
/// (`tests/data/schemas`, whose README gives their source and license).
pub fn schemas_dir() -> PathBuf {
    let dir = repo_root().join("tests/data/schemas/openshift-v4.19");
    assert!(dir.is_dir(), "`{}` is missing", dir.display());
    dir
}

/// Copies the example (without `target/`) into `dest/examples/hello-world`, laid out as in this
/// repository: the library crate its path dependencies name (`Cargo.toml`, `README.md`, `src/`,
/// `templates/`) is copied to `dest`, so the relative paths stay as committed and `dest` stands
/// for the repository the cluster clones. Returns the copy's root.
pub fn copy_example(dest: &Path) -> PathBuf {
    let root = dest.join("examples/hello-world");
    xtask_s2i::dev::copy_dir(&example_dir(), &root).unwrap();
    xtask_s2i::dev::copy_library(&repo_root(), dest).unwrap();
    root
}

/// Replaces `from` with `to` in a file of a copied example.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "`{}` does not contain {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Serializes the tests of this binary that use the container engine (two cores: one chain at a
/// time is faster than two).
pub fn engine_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The engine the engine tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

/// `XTASK_S2I_TEST_ENGINE`: `podman`, else Docker.
pub fn engine() -> Engine {
    match std::env::var("XTASK_S2I_TEST_ENGINE").as_deref() {
        Ok("podman") => Engine::Podman,
        Ok("docker") | Ok("") | Err(_) => Engine::Docker,
        Ok(other) => panic!("XTASK_S2I_TEST_ENGINE={other}: expected `docker` or `podman`"),
    }
}

/// The `docker` CLI, talking to the engine under test (it follows `DOCKER_HOST`, which points at
/// Podman's socket when the engine is Podman): inspect, tag, create, export, events, ...
pub fn engine_cli() -> std::process::Command {
    std::process::Command::new("docker")
}

/// The engine's own CLI: `docker`, or `podman` (running containers, committing them).
pub fn run_cli() -> std::process::Command {
    match engine() {
        Engine::Docker => std::process::Command::new("docker"),
        Engine::Podman => std::process::Command::new("podman"),
    }
}

/// Runs the engine's own CLI; its trimmed stdout, panicking with stderr when it fails.
pub fn native(args: &[&str]) -> String {
    let out = run_cli().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{:?} {args:?} failed: {}",
        engine(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An image ID as the `ancestor` filter of `ps` takes it on both engines (Podman's does not
/// match the `sha256:` form).
pub fn ancestor(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

/// Whether `KEY=value` is one of the variables Podman gives every container (`container=podman`,
/// and `TERM=xterm` from containers.conf), which Podman's commit keeps in the image.
pub fn podman_commit_env(var: &str) -> bool {
    engine() == Engine::Podman && (var == "container=podman" || var == "TERM=xterm")
}

/// Builds `tag` from the Dockerfile in `dir`, keeping its `ONBUILD` triggers: Podman's build
/// (Buildah) drops them from an OCI image, so there it builds in the Docker format.
pub fn build_with_onbuild(tag: &str, dir: &Path) {
    let dir = dir.display().to_string();
    match engine() {
        Engine::Docker => native(&["build", "-q", "-t", tag, &dir]),
        Engine::Podman => native(&["build", "-q", "--format", "docker", "-t", tag, &dir]),
    };
}

/// The rehearsal of the committed tree at `root`: its result and status lines.
pub fn rehearse(root: &Path) -> (Result<(), String>, Vec<String>) {
    let args = xtask_s2i::ImageArgs {
        manifest_path: Some(root.join("Cargo.toml")),
        builder_base: Some(RUST_BASE.to_string()),
        rehearse: true,
        ..Default::default()
    };
    let sink = xtask_s2i::sink::Buffer::new();
    let result = args
        .execute(&sink)
        .map(|_| ())
        .map_err(|e| format!("{e:#}"));
    let lines: Vec<String> = sink
        .events()
        .into_iter()
        .filter_map(|e| match e {
            xtask_s2i::sink::Event::Status { verb, message } => Some(format!("{verb} {message}")),
            xtask_s2i::sink::Event::Warning { message } => Some(format!("warning {message}")),
            _ => None,
        })
        .collect();
    (result, lines)
}
