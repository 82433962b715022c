//! The package's `rust-version` is true for what a `build.rs` compiles: with
//! `default-features = false` (`config`, `names`, `build_script` and their dependencies) the
//! library builds with Debian trixie's rustc 1.85, checked by a real build in the local Rust
//! base image rather than by reading the source for features newer compilers have.
//!
//! The library is copied as a standalone package without its optional dependencies, those
//! dependencies are vendored on the host (containers here cannot reach crates.io), and
//! `cargo build --offline --locked --no-default-features --lib` runs in a container of
//! [`support::RUST_BASE`] with no network. Needs the engine, like the Docker tests, and the base
//! image (`cargo xtask rust-base` makes it; CI does so first).

use std::path::Path;
use std::process::{Command, Output};

use xtask_s2i::dev;

use crate::support;

/// Removes the container however the test ends.
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = support::engine_cli().args(["rm", "-f", &self.0]).output();
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The `rust-version` of the library's manifest, as `major.minor`.
fn rust_version() -> String {
    let manifest = std::fs::read_to_string(support::repo_root().join("Cargo.toml")).unwrap();
    let doc: toml_edit::DocumentMut = manifest.parse().unwrap();
    let version = doc["package"]["rust-version"]
        .as_str()
        .expect("Cargo.toml has `package.rust-version`");
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// A copy of the library at `dest` that is only what `--no-default-features` builds: no
/// workspace, no dev-dependencies or test targets, no optional dependencies (so `cli` is empty),
/// with the repository's lock, its crates vendored in `vendor/` and the source replacement in
/// `.cargo/config.toml`.
fn build_script_subset(dest: &Path) {
    let repo = support::repo_root();
    dev::snapshot_library(&repo, dest).unwrap();
    dev::edit_manifest(&dest.join("Cargo.toml"), |doc| {
        let deps = doc["dependencies"].as_table_like_mut().unwrap();
        let optional: Vec<String> = deps
            .iter()
            .filter(|(_, d)| d.get("optional").and_then(|o| o.as_bool()) == Some(true))
            .map(|(name, _)| name.to_string())
            .collect();
        assert!(
            !optional.is_empty(),
            "the library has no optional dependencies?"
        );
        for name in optional {
            deps.remove(&name);
        }
        doc["features"]["cli"] = toml_edit::value(toml_edit::Array::new());
        // A workspace of its own, wherever the copy is.
        doc["workspace"] = toml_edit::table();
        Ok(())
    })
    .unwrap();
    std::fs::copy(repo.join("Cargo.lock"), dest.join("Cargo.lock")).unwrap();

    // Offline first (the local registry cache has every crate the repository builds), then
    // online.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let vendor = |offline: bool| {
        let mut c = Command::new(&cargo);
        if offline {
            c.arg("--offline");
        }
        c.args(["vendor", "--manifest-path", "Cargo.toml", "vendor"])
            .current_dir(dest)
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .unwrap()
    };
    let out = vendor(true);
    let out = if out.status.success() {
        out
    } else {
        vendor(false)
    };
    assert!(
        out.status.success(),
        "`cargo vendor` of the build-script subset failed:\n{}",
        text(&out)
    );
    std::fs::create_dir_all(dest.join(".cargo")).unwrap();
    std::fs::write(
        dest.join(".cargo/config.toml"),
        "[source.crates-io]\nreplace-with = \"vendored-sources\"\n\n\
         [source.vendored-sources]\ndirectory = \"vendor\"\n",
    )
    .unwrap();
}

#[test]
fn the_build_script_subset_builds_with_debian_rustc_1_85() {
    let test = "the_build_script_subset_builds_with_debian_rustc_1_85";
    if !support::docker_available(test) {
        return;
    }
    let _lock = support::engine_lock();
    let base = support::RUST_BASE;
    let inspect = support::engine_cli()
        .args(["image", "inspect", "--format", "{{.Id}}", base])
        .output()
        .unwrap();
    assert!(
        inspect.status.success(),
        "{test}: the base image `{base}` is missing\nnote: make it with `cargo xtask rust-base`"
    );

    let tmp = tempfile::tempdir().unwrap();
    let krate = tmp.path().join("xtask-s2i");
    build_script_subset(&krate);

    let version = rust_version();
    let container = build_container(base, &krate);
    let out = support::engine_cli()
        .args(["start", "--attach", &container.0])
        .output()
        .unwrap();
    let output = text(&out);
    assert!(
        output.starts_with(&format!("rustc {version}.")),
        "{test}: `{base}` should have rustc {version} (the `rust-version` of Cargo.toml), it has:\n{output}"
    );
    assert!(
        out.status.success(),
        "the library with `--no-default-features` does not build with rustc {version} \
         (Debian trixie's, `{base}`), which a package's `build.rs` compiles it with; keep the \
         modules it compiles (`config`, `names`, `build_script`) and their dependencies to \
         Rust {version}:\n{output}"
    );
}

/// A container of `base`, without network, that builds the crate copied to `/src` from `krate`
/// offline with `--no-default-features` when started.
fn build_container(base: &str, krate: &Path) -> Container {
    let script = "rustc -V && cargo -V && \
                  cargo build --offline --locked --no-default-features --lib";
    let out = support::engine_cli()
        .args(["create", "--network", "none", "--workdir", "/src"])
        .args([
            "-e",
            "CARGO_HOME=/tmp/cargo-home",
            "-e",
            "CARGO_TARGET_DIR=/tmp/target",
        ])
        .args(["-e", "CARGO_TERM_COLOR=never"])
        .args(["--entrypoint", "sh", base, "-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "`docker create` failed: {}",
        text(&out)
    );
    let container = Container(String::from_utf8_lossy(&out.stdout).trim().to_string());
    let out = support::engine_cli()
        .arg("cp")
        .arg(format!("{}/.", krate.display()))
        .arg(format!("{}:/src", container.0))
        .output()
        .unwrap();
    assert!(out.status.success(), "`docker cp` failed: {}", text(&out));
    container
}
