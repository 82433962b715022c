//! The copies of `examples/hello-world` the bench builds, and the one-line change it makes to
//! them. The copying is the library's [`xtask_s2i::dev`], which the tests use too.

use std::path::Path;

use xtask_s2i::anyhow::Context as _;
use xtask_s2i::anyhow::{Result, bail};
use xtask_s2i::dev;

/// Copies `examples/hello-world` (without `target/`) to `dest` with its path dependencies made
/// absolute so the copy builds anywhere, and the one on xtask-s2i pointed at the snapshot `lib`
/// ([`dev::snapshot_library`]): relative when the copy lies inside `lib`, as the example lies in
/// this repository, since the app stage's source root is then `lib` and an absolute host path
/// would not exist in the container.
pub fn copy_example(repo: &Path, lib: &Path, dest: &Path) -> Result<()> {
    let example = repo.join("examples/hello-world");
    dev::copy_dir(&example, dest)?;
    let repo = repo.canonicalize().unwrap_or_else(|_| repo.to_path_buf());
    for manifest in ["Cargo.toml", "xtask/Cargo.toml"] {
        let original = example.join(manifest);
        let dir = original.parent().unwrap_or(example.as_path());
        dev::edit_manifest(&dest.join(manifest), |doc| {
            dev::for_each_path_dep(doc, |path| {
                let abs = dir.join(path);
                let abs = abs.canonicalize().unwrap_or(abs);
                Ok(if abs == repo {
                    library_path(lib, &dest.join(manifest))
                } else {
                    abs.display().to_string()
                })
            })
        })?;
    }
    Ok(())
}

/// The path of `lib` as written in `manifest`: relative when `manifest` lies inside `lib`.
pub fn library_path(lib: &Path, manifest: &Path) -> String {
    let dir = manifest.parent().unwrap_or(manifest);
    match dir.strip_prefix(lib) {
        Ok(inside) => {
            let ups = vec![".."; inside.components().count()];
            if ups.is_empty() {
                ".".to_string()
            } else {
                ups.join("/")
            }
        }
        Err(_) => lib.display().to_string(),
    }
}

/// Changes the greeting line of `src/main.rs` so the source really differs; returns what the
/// binary now prints for `--name bench`.
pub fn edit_greeting(dir: &Path, n: u32) -> Result<String> {
    let path = dir.join("src/main.rs");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let mut found = false;
    let edited: Vec<String> = text
        .lines()
        .map(|l| {
            if !found && l.trim_start().starts_with("format!(\"Hello {name}!") {
                found = true;
                format!("    format!(\"Hello {{name}}! (edit {n})\")")
            } else {
                l.to_string()
            }
        })
        .collect();
    if !found {
        bail!(
            "failed to edit `{}`: no line starts with `format!(\"Hello {{name}}!`\nnote: the bench changes the example's greeting line; update `edit_greeting` in xtask/src/bench/example.rs if the example changed",
            path.display()
        );
    }
    std::fs::write(&path, edited.join("\n") + "\n")
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(format!("Hello bench! (edit {n})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_the_real_example() {
        let tmp = tempfile::tempdir().unwrap();
        let example = crate::bench::repo_root().join("examples/hello-world");
        dev::copy_dir(&example, tmp.path()).unwrap();
        assert_eq!(
            edit_greeting(tmp.path(), 1).unwrap(),
            "Hello bench! (edit 1)"
        );
        assert_eq!(
            edit_greeting(tmp.path(), 2).unwrap(),
            "Hello bench! (edit 2)"
        );
        let main = std::fs::read_to_string(tmp.path().join("src/main.rs")).unwrap();
        assert!(
            main.contains("format!(\"Hello {name}! (edit 2)\")"),
            "{main}"
        );
    }

    #[test]
    fn copies_point_the_library_at_the_snapshot() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = crate::bench::repo_root();
        let lib = tmp.path().join("lib");
        dev::snapshot_library(&repo, &lib).unwrap();
        let dest = tmp.path().join("copy");
        copy_example(&repo, &lib, &dest).unwrap();
        let manifest = std::fs::read_to_string(dest.join("Cargo.toml")).unwrap();
        let doc: toml_edit::DocumentMut = manifest.parse().unwrap();
        assert_eq!(
            doc["build-dependencies"]["xtask-s2i"]["path"].as_str(),
            Some(lib.display().to_string().as_str()),
            "{manifest}"
        );
        let xtask = std::fs::read_to_string(dest.join("xtask/Cargo.toml")).unwrap();
        assert!(
            xtask.contains(&format!("{:?}", lib.display().to_string())),
            "{xtask}"
        );
        let snapshot = std::fs::read_to_string(lib.join("Cargo.toml")).unwrap();
        assert!(!snapshot.contains("[workspace]"), "{snapshot}");
        assert!(!snapshot.contains("[dev-dependencies]"), "{snapshot}");
        assert!(!dest.join("target").exists());
    }

    /// A copy inside the snapshot, laid out as this repository, keeps relative paths: the app
    /// stage's source root is the snapshot, where a host path does not exist.
    #[test]
    fn a_copy_inside_the_snapshot_points_at_it_relatively() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = crate::bench::repo_root();
        let lib = tmp.path().join("lib");
        dev::snapshot_library(&repo, &lib).unwrap();
        let dest = lib.join("examples/hello-world");
        copy_example(&repo, &lib, &dest).unwrap();
        let manifest = std::fs::read_to_string(dest.join("Cargo.toml")).unwrap();
        let doc: toml_edit::DocumentMut = manifest.parse().unwrap();
        assert_eq!(
            doc["build-dependencies"]["xtask-s2i"]["path"].as_str(),
            Some("../.."),
            "{manifest}"
        );
        let xtask = std::fs::read_to_string(dest.join("xtask/Cargo.toml")).unwrap();
        assert!(xtask.contains("\"../../..\""), "{xtask}");
    }
}
