//! The one source the local chain, the rehearsal and the cluster build: the git repository at
//! `okd.git-ref`, cut to the app BuildConfig's `contextDir`. The cluster has nothing but that
//! directory, so it must hold the Cargo workspace, every path dependency of every member, and
//! every `[patch]` path; the local chain packs the same directory of the working tree.
//!
//! [`ClusterSource::find`], run once when the Plans are made, picks the smallest such directory
//! inside the repository and says where the workspace is in it (assemble is told through
//! [`WORKSPACE_DIR_ENV`]); a path dependency
//! outside the repository, or a package that the `.s2iignore` at that directory would drop, is
//! an error naming the dependency and the file, found here instead of in the cluster.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use cargo_metadata::Metadata;
use toml_edit::{DocumentMut, Item, TableLike};

use super::Layout;
use crate::Error;
use crate::source::ignore::{IGNORE_FILE, S2iIgnore};

/// The build environment variable that tells `assemble` where the Cargo workspace is inside the
/// source, when the source is a directory above it.
pub const WORKSPACE_DIR_ENV: &str = "XTASK_S2I_WORKSPACE_DIR";

/// The app BuildConfig's view of the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSource {
    /// The BuildConfig's `contextDir`, relative to the repository root (`.` for the root).
    pub context_dir: String,
    /// The Cargo workspace relative to `context_dir` (`.` when it is `context_dir`).
    pub workspace_dir: String,
    /// The source's root on this machine (canonical): `context_dir` in the working tree, the
    /// directory the local chain and the rehearsal build from.
    pub root: PathBuf,
    /// The directories of the packages cargo loads to build the workspace (its members and the
    /// path dependencies, canonical), all under `root`.
    pub package_dirs: Vec<PathBuf>,
}

/// A package the cluster's build needs, and why.
struct Needed {
    dir: PathBuf,
    name: String,
    declared_in: PathBuf,
}

impl ClusterSource {
    /// Finds the source directory of the workspace of `layout`, whose `cargo metadata` is
    /// `metadata`. The repository root is the directory `okd.context-dir` levels above the
    /// workspace root (the git checkout's top when the default was taken from git). A workspace
    /// outside any git checkout is a copy whose repository cannot be known: its repository is
    /// taken to be the smallest directory that holds the workspace and its path dependencies.
    pub(crate) fn find(metadata: &Metadata, layout: &Layout) -> Result<ClusterSource> {
        let ws_root = canon(&layout.workspace_root)?;
        let ws_in_repo: Vec<&str> = layout
            .workspace_in_repo
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        let repo: PathBuf = ws_root
            .ancestors()
            .nth(ws_in_repo.len())
            .unwrap_or(&ws_root)
            .to_path_buf();

        let mut repo = repo;
        let mut common = ws_root.clone();
        let (members, deps) = needed(&ws_root, metadata)?;
        let mut needed_dirs = vec![ws_root.clone()];
        needed_dirs.extend(members);
        let in_git = ws_root.ancestors().any(|d| d.join(".git").exists());
        for need in deps {
            // A copy outside git: its repository is the smallest directory that holds it all.
            while !in_git && !need.dir.starts_with(&repo) {
                repo = repo.parent().unwrap_or(&repo).to_path_buf();
            }
            if !need.dir.starts_with(&repo) {
                return Err(Error::new(format!(
                    "the path dependency `{}` of `{}` is `{}`, outside the repository the \
                     cluster builds from (`{}`, where `okd.context-dir` = `{}` puts the \
                     workspace)",
                    need.name,
                    need.declared_in.display(),
                    need.dir.display(),
                    repo.display(),
                    layout.workspace_in_repo,
                ))
                .note(format!(
                    "the cluster clones only `okd.git-uri` at `okd.git-ref` and sees nothing \
                     outside it: depend on a published version of `{}` (e.g. `{} = \"0.1\"`) or \
                     move it into the repository; if the repository holds it, set \
                     `okd.context-dir` to the workspace's directory inside the repository",
                    need.name, need.name,
                ))
                .into());
            }
            while !need.dir.starts_with(&common) {
                common = common.parent().unwrap_or(&repo).to_path_buf();
            }
            needed_dirs.push(need.dir);
        }
        check_s2iignore(&common, &needed_dirs)?;
        Ok(ClusterSource {
            context_dir: rel(&repo, &common),
            workspace_dir: rel(&common, &ws_root),
            root: common,
            package_dirs: needed_dirs,
        })
    }
}

impl ClusterSource {
    /// What s2i will not read because it is not at the source's root: an `.s2i/bin`,
    /// `.s2i/environment` or `.s2iignore` in the workspace, the package or a directory between
    /// them and the root. Each is a warning that says where to move it.
    pub(crate) fn misplaced(&self, layout: &Layout) -> Vec<String> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        for d in [&layout.package_dir, &layout.workspace_root] {
            let Ok(d) = std::fs::canonicalize(d) else {
                continue;
            };
            for a in d.ancestors().take_while(|a| *a != self.root) {
                if a.starts_with(&self.root) && !dirs.iter().any(|x| x == a) {
                    dirs.push(a.to_path_buf());
                }
            }
        }
        let mut out = Vec::new();
        for dir in dirs {
            let at = rel(&self.root, &dir);
            for name in [".s2i/bin", ".s2i/environment", IGNORE_FILE] {
                let found = dir.join(name);
                if !found.exists() {
                    continue;
                }
                let fix = match name {
                    IGNORE_FILE => format!(
                        ", with `{at}/` before each pattern (its patterns are relative to the \
                         source root)"
                    ),
                    _ => String::new(),
                };
                out.push(format!(
                    "`{}` is not read: s2i reads `{name}` only at the root of the source the \
                     cluster builds (`{}`, the app BuildConfig's contextDir `{}`), and so does \
                     the local chain; move it to `{}`{fix}",
                    found.display(),
                    self.root.display(),
                    self.context_dir,
                    self.root.join(name).display(),
                ));
            }
        }
        out
    }
}

fn canon(path: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(path).with_context(|| format!("failed to find `{}`", path.display()))
}

/// `to` relative to `from` with `/` separators, `.` when equal (`to` is below `from`).
fn rel(from: &Path, to: &Path) -> String {
    let parts: Vec<String> = to
        .strip_prefix(from)
        .unwrap_or(Path::new(""))
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Every package cargo loads to build in the workspace at `ws_root`: the members' directories
/// (from `cargo metadata`), and the path dependencies of the members, of every kind and
/// transitively, with the `[patch]` and `[replace]` paths of the root manifest. `metadata` is
/// the workspace's `cargo metadata --no-deps`, read once for all its Plans.
fn needed(ws_root: &Path, metadata: &Metadata) -> Result<(Vec<PathBuf>, Vec<Needed>)> {
    let mut queue: VecDeque<Needed> = VecDeque::new();
    for p in metadata.workspace_packages() {
        let manifest = p.manifest_path.clone().into_std_path_buf();
        for d in &p.dependencies {
            if let Some(path) = &d.path {
                queue.push_back(Needed {
                    dir: path.clone().into_std_path_buf(),
                    name: d.name.clone(),
                    declared_in: manifest.clone(),
                });
            }
        }
    }
    queue.extend(patches(ws_root)?);

    let members: BTreeSet<PathBuf> = metadata
        .workspace_packages()
        .iter()
        .filter_map(|p| p.manifest_path.parent())
        .filter_map(|d| std::fs::canonicalize(d).ok())
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    while let Some(mut need) = queue.pop_front() {
        let dir = match std::fs::canonicalize(&need.dir) {
            Ok(dir) if dir.join("Cargo.toml").is_file() => dir,
            _ => return Err(missing(&need)),
        };
        if !seen.insert(dir.clone()) {
            continue;
        }
        need.dir = dir.clone();
        if !members.contains(&dir) {
            let manifest = dir.join("Cargo.toml");
            if let Ok(doc) = read(&manifest) {
                for (name, path) in path_deps(&doc) {
                    queue.push_back(Needed {
                        dir: dir.join(path),
                        name,
                        declared_in: manifest.clone(),
                    });
                }
            }
        }
        out.push(need);
    }
    Ok((members.into_iter().collect(), out))
}

/// A path dependency without a package: the dependency, the manifest that declares it and the
/// file that does not exist.
fn missing(need: &Needed) -> anyhow::Error {
    let mut manifest = PathBuf::new();
    for c in need.dir.join("Cargo.toml").components() {
        match c {
            Component::ParentDir => {
                manifest.pop();
            }
            Component::CurDir => {}
            c => manifest.push(c),
        }
    }
    Error::new(format!(
        "the path dependency `{}` of `{}` has no package: `{}` does not exist",
        need.name,
        need.declared_in.display(),
        manifest.display(),
    ))
    .note(format!(
        "fix the `path` of `{}` in `{}`, or create the package there",
        need.name,
        need.declared_in.display()
    ))
    .into()
}

/// The `[patch]` and `[replace]` paths of the root manifest of the workspace at `ws_root`.
fn patches(ws_root: &Path) -> Result<Vec<Needed>> {
    let root_manifest = ws_root.join("Cargo.toml");
    let root_doc = read(&root_manifest)?;
    let mut out = Vec::new();
    for table in ["patch", "replace"] {
        let Some(t) = root_doc.get(table).and_then(Item::as_table_like) else {
            continue;
        };
        let mut specs: Vec<(&str, &dyn TableLike)> = Vec::new();
        for (name, item) in t.iter() {
            match item.as_table_like() {
                Some(spec) if table == "replace" => specs.push((name, spec)),
                Some(registry) => specs.extend(
                    registry
                        .iter()
                        .filter_map(|(n, i)| i.as_table_like().map(|s| (n, s))),
                ),
                None => {}
            }
        }
        for (name, spec) in specs {
            if let Some(path) = spec.get("path").and_then(Item::as_str) {
                out.push(Needed {
                    dir: ws_root.join(path),
                    name: name.to_string(),
                    declared_in: root_manifest.clone(),
                });
            }
        }
    }
    Ok(out)
}

fn read(manifest: &Path) -> Result<DocumentMut> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("failed to read `{}`", manifest.display()))?;
    text.parse()
        .with_context(|| format!("failed to parse `{}`", manifest.display()))
}

/// `(name, path)` of every path dependency in a manifest, `[target.*]` tables included.
fn path_deps(doc: &DocumentMut) -> Vec<(String, String)> {
    const KINDS: [&str; 5] = [
        "dependencies",
        "dev-dependencies",
        "dev_dependencies",
        "build-dependencies",
        "build_dependencies",
    ];
    let mut tables: Vec<&dyn TableLike> = Vec::new();
    for kind in KINDS {
        if let Some(t) = doc.get(kind).and_then(Item::as_table_like) {
            tables.push(t);
        }
    }
    if let Some(targets) = doc.get("target").and_then(Item::as_table_like) {
        for (_, target) in targets.iter() {
            for kind in KINDS {
                if let Some(t) = target.get(kind).and_then(Item::as_table_like) {
                    tables.push(t);
                }
            }
        }
    }
    let mut out = Vec::new();
    for t in tables {
        for (name, spec) in t.iter() {
            if let Some(path) = spec
                .as_table_like()
                .and_then(|s| s.get("path"))
                .and_then(Item::as_str)
            {
                out.push((name.to_string(), path.to_string()));
            }
        }
    }
    out
}

/// The `.s2iignore` at the top of the cluster's source drops what its patterns match (upstream
/// s2i and OpenShift apply it before assemble runs): none of `dirs` may be among them.
fn check_s2iignore(top: &Path, dirs: &[PathBuf]) -> Result<()> {
    let file = top.join(IGNORE_FILE);
    let ignore =
        S2iIgnore::read(top).with_context(|| format!("failed to read `{}`", file.display()))?;
    for dir in dirs {
        let rel = rel(top, dir);
        if let Some(line) = ignore.dropped(&rel) {
            return Err(Error::new(format!(
                "`{}` drops `{rel}` (pattern `{line}`), but the cluster's build of this \
                 workspace needs it",
                file.display(),
            ))
            .note(format!(
                "the cluster applies the `.s2iignore` at the top of its source (`{}`); \
                 remove the pattern",
                top.display()
            ))
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(rel(Path::new("/a"), Path::new("/a")), ".");
        assert_eq!(rel(Path::new("/a"), Path::new("/a/b/c")), "b/c");
    }
}
