//! Helpers this repository's own tests (`tests/it/support.rs`) and xtask (`cargo xtask bench`,
//! `cargo xtask rust-base`) share: the local Rust base image's name, copying the library and the
//! example, and editing a copy's manifests.
//!
//! Not part of the API: compiled only with the `internal` feature (which this repository's tests
//! and xtask enable), hidden from the documentation, and it may change in any release. It is
//! here, and not in the tests or the xtask, so that the two cannot drift apart.

use std::path::Path;

use anyhow::{Context, Result};
use toml_edit::{DocumentMut, TableLike};

/// The local Rust base image (Debian trixie's rustc and cargo) that `cargo xtask rust-base`
/// makes on machines without a registry; the tests and the bench build `FROM` it.
pub const RUST_BASE: &str = "localhost/xtask-s2i/rust:trixie";

/// What a copy of the library holds: the package as it would be published (its `include`).
pub const LIBRARY_FILES: [&str; 4] = ["Cargo.toml", "README.md", "src", "templates"];

/// The manifest keys [`snapshot_library`] drops: the workspace, and what needs files a copy does
/// not hold (the dev-dependencies and the test, bench and example targets).
pub const REPOSITORY_ONLY_KEYS: [&str; 5] =
    ["workspace", "dev-dependencies", "test", "bench", "example"];

/// The runtime image reference of the package whose manifest is `manifest`, and the manifests it
/// was read from: what `build_script::check` exports, for any package.
pub fn runtime_image_of(manifest: &Path) -> Result<(String, Vec<std::path::PathBuf>)> {
    crate::build_script::runtime_image_of(manifest)
}

/// Copies the directory `from` to `to` (created if missing), leaving out every directory named
/// `target` at any depth (build output).
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("failed to create `{}`", to.display()))?;
    let entries =
        std::fs::read_dir(from).with_context(|| format!("failed to read `{}`", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to read `{}`", from.display()))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let is_dir = entry
            .file_type()
            .with_context(|| format!("failed to read `{}`", src.display()))?
            .is_dir();
        if is_dir && entry.file_name() == "target" {
            continue;
        }
        if is_dir {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).with_context(|| {
                format!("failed to copy `{}` to `{}`", src.display(), dst.display())
            })?;
        }
    }
    Ok(())
}

/// Copies the library's [`LIBRARY_FILES`] from the repository `repo` to `dest`, as committed.
pub fn copy_library(repo: &Path, dest: &Path) -> Result<()> {
    std::fs::create_dir_all(dest)
        .with_context(|| format!("failed to create `{}`", dest.display()))?;
    for entry in LIBRARY_FILES {
        let (from, to) = (repo.join(entry), dest.join(entry));
        if from.is_dir() {
            copy_dir(&from, &to)?;
        } else if from.is_file() {
            std::fs::copy(&from, &to).with_context(|| {
                format!("failed to copy `{}` to `{}`", from.display(), to.display())
            })?;
        }
    }
    Ok(())
}

/// [`copy_library`], then the copy's manifest without its [`REPOSITORY_ONLY_KEYS`]: a package
/// that builds on its own or as a path dependency from anywhere, and that edits of the
/// repository made meanwhile cannot change.
pub fn snapshot_library(repo: &Path, dest: &Path) -> Result<()> {
    copy_library(repo, dest)?;
    edit_manifest(&dest.join("Cargo.toml"), |doc| {
        for key in REPOSITORY_ONLY_KEYS {
            doc.remove(key);
        }
        Ok(())
    })
}

/// Reads the manifest at `path`, lets `f` edit it (formatting and comments are kept) and writes
/// it back.
pub fn edit_manifest(path: &Path, f: impl FnOnce(&mut DocumentMut) -> Result<()>) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("failed to parse `{}`", path.display()))?;
    f(&mut doc)?;
    std::fs::write(path, doc.to_string())
        .with_context(|| format!("failed to write `{}`", path.display()))
}

/// Sets the `path` of every path dependency of `doc` to `f(path)`, in every dependency table
/// (every kind, and per `[target.*]`) as cargo reads them.
pub fn for_each_path_dep(
    doc: &mut DocumentMut,
    mut f: impl FnMut(&str) -> Result<String>,
) -> Result<()> {
    for_each_dep(doc, &mut |spec: &mut dyn TableLike| {
        let Some(path) = spec.get("path").and_then(|p| p.as_str()) else {
            return Ok(());
        };
        let new = f(path)?;
        set_path(spec, &new);
        Ok(())
    })
}

/// The dependency tables of a manifest (and of each `[target.'cfg'.*]`).
const DEP_KINDS: [&str; 5] = [
    "dependencies",
    "dev-dependencies",
    "dev_dependencies",
    "build-dependencies",
    "build_dependencies",
];

/// Calls `f(spec)` for every dependency given as a table, in every dependency table of the
/// manifest (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, and per target).
fn for_each_dep(
    doc: &mut DocumentMut,
    f: &mut dyn FnMut(&mut dyn TableLike) -> Result<()>,
) -> Result<()> {
    fn in_table(
        table: &mut dyn TableLike,
        f: &mut dyn FnMut(&mut dyn TableLike) -> Result<()>,
    ) -> Result<()> {
        for kind in DEP_KINDS {
            if let Some(deps) = table.get_mut(kind).and_then(|d| d.as_table_like_mut()) {
                for (_, spec) in deps.iter_mut() {
                    if let Some(spec) = spec.as_table_like_mut() {
                        f(spec)?;
                    }
                }
            }
        }
        Ok(())
    }
    in_table(doc.as_table_mut(), f)?;
    if let Some(targets) = doc.get_mut("target").and_then(|t| t.as_table_like_mut()) {
        for (_, target) in targets.iter_mut() {
            if let Some(target) = target.as_table_like_mut() {
                in_table(target, f)?;
            }
        }
    }
    Ok(())
}

/// Sets a `path` value, keeping its decoration.
fn set_path(spec: &mut dyn TableLike, path: &str) {
    match spec.get_mut("path").and_then(|p| p.as_value_mut()) {
        Some(v) => {
            let decor = v.decor().clone();
            *v = toml_edit::Value::from(path);
            *v.decor_mut() = decor;
        }
        None => {
            spec.insert("path", toml_edit::value(path));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_deps_of_every_kind_and_target_are_rewritten() {
        let mut doc: DocumentMut = r#"
[dependencies]
a = { path = "../a" }
b = "1"
[build-dependencies.c]
path = "c" # kept comment
[target.'cfg(unix)'.dev-dependencies]
d = { path = "d", version = "1" }
"#
        .parse()
        .unwrap();
        let mut seen = Vec::new();
        for_each_path_dep(&mut doc, |p| {
            seen.push(p.to_string());
            Ok(format!("/abs/{p}"))
        })
        .unwrap();
        assert_eq!(seen, ["../a", "c", "d"]);
        let text = doc.to_string();
        assert!(text.contains(r#"a = { path = "/abs/../a" }"#), "{text}");
        assert!(text.contains(r#"path = "/abs/c" # kept comment"#), "{text}");
        assert!(
            text.contains(r#"d = { path = "/abs/d", version = "1" }"#),
            "{text}"
        );
        assert!(text.contains("b = \"1\""), "{text}");
    }

    #[test]
    fn copies_leave_out_target_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let from = tmp.path().join("from");
        std::fs::create_dir_all(from.join("target/debug")).unwrap();
        std::fs::create_dir_all(from.join("src/target")).unwrap();
        std::fs::write(from.join("src/main.rs"), "fn main() {}\n").unwrap();
        std::fs::write(from.join("target.txt"), "kept\n").unwrap();
        let to = tmp.path().join("to");
        copy_dir(&from, &to).unwrap();
        assert!(to.join("src/main.rs").is_file());
        assert!(to.join("target.txt").is_file());
        assert!(!to.join("target").exists());
        assert!(!to.join("src/target").exists());
    }
}
