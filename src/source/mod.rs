//! The source of a package's app (S2I) stage: exactly what the stage uploads to `/tmp/src`, the
//! same tree the cluster's source build receives.
//!
//! The cluster builds the repository at `okd.git-ref`, cut to the app BuildConfig's `contextDir`
//! ([`crate::plan::ClusterSource`], found once by the Plan). The local tar is that directory of
//! the working tree as it is now, uncommitted changes included, with every path dependency at
//! its place in it (no relocation, no manifest rewriting), through one walk that honours
//! `.gitignore` and the root's `.s2iignore` with s2i's semantics and never takes `.git`, target
//! directories or `.env` files (see [`walk`] and [`ignore`]). `assemble` builds the workspace at
//! its place in the tree (`XTASK_S2I_WORKSPACE_DIR`, set by the engine and by the BuildConfig
//! alike).
//!
//! What the tar adds to the tree (paths relative to the source root, `<ws>` the workspace):
//! - `<ws>/Cargo.lock`, resolved by cargo, when the workspace has none (with a warning);
//! - with `vendor = true`: `<ws>/vendor/` (the crates the build needs) and `<ws>/.cargo/config.toml`
//!   = the user's workspace cargo config plus the source replacement, so `assemble` builds
//!   `--offline`.
//!
//! Only the tar holds these; nothing is written into the user's tree (staging and the vendor cache
//! live under the plan's `out_dir`, in its layout's `source_dir`). [`Closure::scan`] computes the
//! digest from one walk without staging, vendoring or building the tar, so an unchanged tree costs
//! milliseconds.

mod archive;
mod cargo;
mod committed;
pub mod ignore;
mod walk;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use cargo_metadata::Metadata;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::engine::Revision;
use crate::plan::{ClusterSource, Plan, hex};
use crate::sink::{Event, Sink};
use archive::{Data, TarEntry};
use walk::join;

pub use committed::{VendoredTree, vendor_committed};
pub use ignore::IGNORE_FILE;

/// Changes whenever the layout of the tar changes, so older app images are rebuilt.
const FORMAT: &str = "xtask-s2i source v2 (the cluster's source root)";

/// The files of a package's source, scanned and hashed.
pub struct Closure {
    package: String,
    /// The source root (canonical): the app BuildConfig's `contextDir` in the working tree.
    root: PathBuf,
    /// The workspace's directory in the tar (`""` at the root).
    workspace: String,
    /// Where the tar is staged and the vendored crates are cached (the Plan's layout).
    source_dir: PathBuf,
    vendor: bool,
    /// The features `assemble` builds with: they decide which vendored crates are cut.
    features: Vec<String>,
    no_default_features: bool,
    /// Sorted by path: walked directories, files and links.
    entries: Vec<TarEntry>,
    /// The number of path dependencies in the tree.
    path_deps: usize,
    newest: u64,
    digest: String,
    location: String,
    revision: Option<Revision>,
}

/// The files, links and directories of the source root, as tar entries.
fn walk_tree(metadata: &Metadata, root: &Path) -> Result<Vec<TarEntry>> {
    // Never entered: the workspace's target dir (the staging area and the vendor cache are
    // under it).
    let mut skip = HashSet::new();
    if let Ok(t) = std::fs::canonicalize(metadata.target_directory.as_std_path()) {
        skip.insert(t);
    }
    let s2i = ignore::S2iIgnore::read(root)
        .with_context(|| format!("failed to read `{}`", root.join(IGNORE_FILE).display()))?;
    let found = walk::Walk {
        dir: root,
        skip: Arc::new(skip),
        ignore: Arc::new(s2i),
    }
    .run()?;
    Ok(found
        .into_iter()
        .map(|f| {
            let (data, exec) = match f.kind {
                walk::Kind::Dir => (Data::Dir, true),
                walk::Kind::File { exec } => (Data::File(f.abs), exec),
                walk::Kind::Symlink { target } => (Data::Symlink(target), false),
            };
            TarEntry {
                path: f.path,
                data,
                exec,
                mtime: f.mtime,
            }
        })
        .collect())
}

/// What the container would fail on, found now: a `vendor/` of the workspace's own where the
/// vendored crates go, a package of the build whose sources the ignore rules hide.
fn check_entries(
    plan: &Plan,
    source: &ClusterSource,
    workspace: &str,
    entries: &[TarEntry],
) -> Result<()> {
    let vendor = join(workspace, "vendor");
    if plan.settings().vendor
        && let Some(e) = entries
            .iter()
            .find(|e| e.path == vendor || e.path.starts_with(&format!("{vendor}/")))
    {
        return Err(Error::new(format!(
            "the workspace has its own `{}`, where the vendored crates would go in the source \
             tar",
            source.root.join(&e.path).display(),
        ))
        .note(format!(
            "add `/{vendor}` to `{IGNORE_FILE}` in `{}` if the builder does not need it, or set \
             `vendor = false` in `[package.metadata.s2i]`",
            source.root.display()
        ))
        .into());
    }

    // A package of the build whose sources the ignore rules hide would fail in the container.
    for dir in &source.package_dirs {
        let rel = walk::tar_path_of(dir.strip_prefix(&source.root).unwrap_or(dir))?;
        let prefix = format!("{rel}/");
        let has_sources = entries
            .iter()
            .any(|e| e.path.ends_with(".rs") && (rel.is_empty() || e.path.starts_with(&prefix)));
        if !has_sources {
            return Err(Error::new(format!(
                "the package in `{}` is needed to build `{}`, but none of its `.rs` files would \
                 go into the source tar",
                dir.display(),
                plan.package(),
            ))
            .note(format!(
                "check the `.gitignore` files above it and the `{IGNORE_FILE}` in `{}`",
                source.root.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// The number of path dependencies outside the workspace's members.
fn path_deps(metadata: &Metadata, source: &ClusterSource) -> usize {
    let mut members: HashSet<PathBuf> = metadata
        .workspace_packages()
        .iter()
        .filter_map(|p| p.manifest_path.parent())
        .filter_map(|d| std::fs::canonicalize(d).ok())
        .collect();
    if let Ok(ws) = std::fs::canonicalize(metadata.workspace_root.as_std_path()) {
        members.insert(ws);
    }
    let deps: HashSet<&PathBuf> = source
        .package_dirs
        .iter()
        .filter(|d| !members.contains(*d))
        .collect();
    deps.len()
}

impl Closure {
    /// Finds and hashes the source of `plan`'s package: the cluster's source root in the working
    /// tree. `metadata` is `cargo metadata --no-deps` of the user's workspace. Reads the tree;
    /// writes nothing.
    pub fn scan(plan: &Plan, metadata: &Metadata) -> Result<Closure> {
        let settings = plan.settings();
        let source = plan.cluster_source()?;
        let root = source.root.clone();
        let workspace = match source.workspace_dir.as_str() {
            "." => String::new(),
            w => w.to_string(),
        };
        let mut entries = walk_tree(metadata, &root)?;
        check_entries(plan, source, &workspace, &entries)?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let newest = entries.iter().map(|e| e.mtime).max().unwrap_or(0);
        let digest = digest(&entries, settings.vendor)?;
        let (location, revision) = git_info(&root);
        Ok(Closure {
            package: plan.package().to_string(),
            source_dir: plan.layout().source_dir(),
            vendor: settings.vendor,
            features: settings.features.clone(),
            no_default_features: settings.no_default_features,
            path_deps: path_deps(metadata, source),
            root,
            workspace,
            entries,
            newest,
            digest,
            location,
            revision,
        })
    }

    /// The canonical source root the tree was read from (for this repository's tests).
    #[cfg(feature = "internal")]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The tar paths of the scanned files and links (not directories), sorted. When vendoring,
    /// the tar also holds `<ws>/vendor/` and `<ws>/.cargo/config.toml`.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|e| !matches!(e.data, Data::Dir))
            .map(|e| e.path.as_str())
    }

    /// The workspace's `Cargo.lock` in the tree, if it has one.
    fn lock(&self) -> Option<&TarEntry> {
        let lock = join(&self.workspace, "Cargo.lock");
        self.entries.iter().find(|e| e.path == lock)
    }

    /// What cargo needs to resolve the workspace in a staging directory: every manifest and the
    /// workspace's lock as they are in the tree, and an empty file for every `.rs` file.
    fn staged(&self) -> Vec<cargo::Staged<'_>> {
        let lock = join(&self.workspace, "Cargo.lock");
        let mut files = Vec::new();
        for e in &self.entries {
            let keep = e.path == lock || e.path == "Cargo.toml" || e.path.ends_with("/Cargo.toml");
            match &e.data {
                Data::File(src) if keep => files.push(cargo::Staged::Copy(&e.path, src)),
                Data::File(_) if e.path.ends_with(".rs") => {
                    files.push(cargo::Staged::Empty(&e.path))
                }
                _ => {}
            }
        }
        files
    }

    /// The workspace's user cargo config in the tree: `.cargo/config.toml`, else the legacy
    /// `.cargo/config` (as cargo prefers them).
    fn user_config(&self) -> Option<&TarEntry> {
        [".cargo/config.toml", ".cargo/config"]
            .iter()
            .find_map(|name| {
                let path = join(&self.workspace, name);
                self.entries
                    .iter()
                    .find(|e| e.path == path && matches!(e.data, Data::File(_)))
            })
    }

    /// The resolved lock, and the vendored crates when vendoring: cargo run in a staging
    /// directory under the source directory, removed afterwards.
    fn resolve_and_vendor(&self, sink: &dyn Sink) -> Result<(Vec<u8>, Option<cargo::Vendored>)> {
        let source_dir = &self.source_dir;
        // Per process, so two runs on the same package do not trample each other.
        let staging = source_dir.join(format!("staging-{}", std::process::id()));
        cargo::stage(&staging, &self.staged())?;
        // The user's cargo config applies by `--config` (registries, source replacement), so
        // its relative paths keep meaning what they mean in the user's workspace.
        // (`--config` takes only `.toml` files: a legacy `.cargo/config` is found by discovery
        // alone, when `out_dir` is inside the workspace.)
        let user_config = self.user_config().and_then(|e| match &e.data {
            Data::File(src) if e.path.ends_with(".toml") => Some(src.clone()),
            _ => None,
        });
        let ws = cargo::Workspace {
            dir: &staging.join(&self.workspace),
            config: user_config.as_deref(),
        };
        let resolved = cargo::resolve_lock(&ws, &self.package, sink);
        let vendored = match (&resolved, self.vendor) {
            (Ok(lock), true) => {
                let spec = cargo::BuildSpec {
                    package: &self.package,
                    features: &self.features,
                    no_default_features: self.no_default_features,
                };
                cargo::vendor(&ws, &source_dir.join("vendor"), lock, &spec, sink).map(Some)
            }
            _ => Ok(None),
        };
        let _ = std::fs::remove_dir_all(&staging);
        Ok((resolved?, vendored?))
    }

    /// The entries of the tar: the tree, and what it adds (a resolved lock when the workspace
    /// has none, the vendored crates and their cargo config). Staging and vendoring happen here.
    fn tar_entries(&self, sink: &dyn Sink) -> Result<Vec<TarEntry>> {
        let (resolved, vendored) = self.resolve_and_vendor(sink)?;
        let vendoring = vendored.as_ref().is_some_and(|v| !v.sources.is_empty());
        let user_config = self.user_config().cloned();
        let config_path = join(&self.workspace, ".cargo/config.toml");
        let mut out: Vec<TarEntry> = Vec::with_capacity(self.entries.len() + 2);
        out.extend(
            self.entries
                .iter()
                .filter(|e| !(vendoring && user_config.as_ref().is_some_and(|u| u.path == e.path)))
                .cloned(),
        );
        if self.lock().is_none() {
            sink.event(Event::warning(format!(
                "`{}` has no `Cargo.lock`; the source tar gets a freshly resolved one (commit a \
                 `Cargo.lock` for reproducible images)",
                self.root.join(&self.workspace).display()
            )));
            out.push(TarEntry {
                path: join(&self.workspace, "Cargo.lock"),
                data: Data::Bytes(resolved),
                exec: false,
                mtime: self.newest,
            });
        }
        let lock_mtime = self.lock().map_or(self.newest, |e| e.mtime);
        if let Some(v) = vendored.filter(|_| vendoring) {
            let user = match &user_config {
                Some(TarEntry {
                    data: Data::File(path),
                    ..
                }) => Some((
                    path.as_path(),
                    std::fs::read_to_string(path)
                        .with_context(|| format!("failed to read `{}`", path.display()))?,
                )),
                _ => None,
            };
            let merged =
                cargo::merge_config(user.as_ref().map(|(p, t)| (*p, t.as_str())), &v.sources)?;
            out.push(TarEntry {
                path: config_path,
                data: Data::Bytes(merged.into_bytes()),
                exec: false,
                mtime: user_config.map_or(0, |u| u.mtime).max(lock_mtime),
            });
            vendor_entries(&v.dir, &v.dir, &join(&self.workspace, "vendor"), &mut out)?;
        }
        Ok(out)
    }
}

/// Adds every file, link and directory under `dir` as `<vendor>/...` (no ignore rules: cargo
/// checks the vendored files against their checksums).
fn vendor_entries(base: &Path, dir: &Path, vendor: &str, out: &mut Vec<TarEntry>) -> Result<()> {
    let read =
        std::fs::read_dir(dir).with_context(|| format!("failed to read `{}`", dir.display()))?;
    for e in read {
        let e = e.with_context(|| format!("failed to read `{}`", dir.display()))?;
        let path = e.path();
        let meta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        let rel = walk::tar_path_of(path.strip_prefix(base).unwrap_or(&path))?;
        let tar_path = join(vendor, &rel);
        let ft = meta.file_type();
        let data = if ft.is_dir() {
            vendor_entries(base, &path, vendor, out)?;
            Data::Dir
        } else if ft.is_symlink() {
            Data::Symlink(std::fs::read_link(&path)?)
        } else {
            Data::File(path)
        };
        out.push(TarEntry {
            path: tar_path,
            data,
            exec: walk::is_exec(&meta),
            mtime: walk::mtime_of(&meta),
        });
    }
    Ok(())
}

/// sha256 over the format, the build settings that shape the tar, and every entry's path, kind,
/// executable bit and contents (not modification times).
fn digest(entries: &[TarEntry], vendor: bool) -> Result<String> {
    let mut h = Sha256::new();
    h.update(FORMAT.as_bytes());
    h.update([0, vendor as u8]);
    let mut buf = vec![0u8; 64 * 1024];
    for e in entries {
        let (tag, content): (u8, [u8; 32]) = match &e.data {
            Data::Dir => (b'D', [0; 32]),
            Data::Symlink(t) => (
                b'L',
                Sha256::digest(t.as_os_str().as_encoded_bytes()).into(),
            ),
            Data::Bytes(b) => (b'F', Sha256::digest(b).into()),
            Data::File(src) => {
                let unreadable = |e: std::io::Error| {
                    Error::new(format!("failed to read `{}`", src.display()))
                        .with_source(e)
                        .note(format!(
                            "make it readable, or add it to `{IGNORE_FILE}` if the build does not \
                             need it"
                        ))
                };
                let mut f = std::fs::File::open(src).map_err(unreadable)?;
                let mut fh = Sha256::new();
                loop {
                    let n = std::io::Read::read(&mut f, &mut buf).map_err(unreadable)?;
                    if n == 0 {
                        break;
                    }
                    fh.update(&buf[..n]);
                }
                (b'F', fh.finalize().into())
            }
        };
        h.update([tag]);
        h.update(e.path.as_bytes());
        h.update([0, e.exec as u8]);
        h.update(content);
    }
    Ok(hex(&h.finalize()))
}

/// The source location (the git remote without credentials, or the workspace path) and the
/// revision the tree is based on, read as upstream `s2i` reads it, plus whether the tree under
/// `root` has changes (tracked or untracked, not ignored) that `HEAD` does not hold.
fn git_info(root: &Path) -> (String, Option<Revision>) {
    let git = |args: &[&str]| -> Option<String> {
        let mut all = vec!["-C".as_ref(), root.as_os_str()];
        all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
        let out = duct::cmd("git", all)
            .stdout_capture()
            .stderr_null()
            .stdin_null()
            .unchecked()
            .run()
            .ok()?;
        let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !s.is_empty()).then_some(s)
    };
    // One call for the commit, the branch and the changes under `root`.
    let status = git(&["status", "--porcelain=v2", "--branch", "--", "."]);
    let Some((id, reference, dirty)) = status.as_deref().and_then(parse_status) else {
        return (root.display().to_string(), None);
    };
    let show = git(&[&Revision::SHOW[..], &["HEAD"]].concat()).unwrap_or_default();
    let revision = Revision::from_show(id, reference, &show, dirty);
    let remote = git(&["remote", "get-url", "origin"]).or_else(|| {
        let first = git(&["remote"])?.lines().next()?.to_string();
        git(&["remote", "get-url", &first])
    });
    let location = remote
        .map(|r| strip_credentials(&r))
        .unwrap_or_else(|| root.display().to_string());
    (location, Some(revision))
}

/// The commit, the branch (`HEAD` when detached, as `rev-parse --abbrev-ref`) and whether there
/// are changes, from `git status --porcelain=v2 --branch`; `None` before the first commit.
fn parse_status(status: &str) -> Option<(String, String, bool)> {
    let mut id = None;
    let mut reference = "HEAD".to_string();
    let mut dirty = false;
    for line in status.lines() {
        if let Some(oid) = line.strip_prefix("# branch.oid ") {
            id = Some(oid.to_string()).filter(|o| o != "(initial)");
        } else if let Some(head) = line.strip_prefix("# branch.head ") {
            if head != "(detached)" {
                reference = head.to_string();
            }
        } else if !line.starts_with('#') && !line.is_empty() {
            dirty = true;
        }
    }
    Some((id?, reference, dirty))
}

/// `https://user:token@host/x` -> `https://host/x`; other forms unchanged.
fn strip_credentials(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let host_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..host_end].rfind('@') {
            return format!("{scheme}://{}", &rest[at + 1..]);
        }
    }
    url.to_string()
}

/// Counts what goes through it.
struct Counting<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl crate::engine::SourceTree for Closure {
    fn digest(&self) -> &str {
        &self.digest
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn commit(&self) -> Option<String> {
        self.revision.as_ref().map(|r| r.id.clone())
    }

    fn revision(&self) -> Option<Revision> {
        self.revision.clone()
    }

    fn write_tar(
        &self,
        out: &mut dyn std::io::Write,
        uid: u64,
        gid: u64,
        sink: &dyn Sink,
    ) -> Result<()> {
        let files = self.files().count();
        let deps = match self.path_deps {
            0 => String::new(),
            1 => ", 1 path dependency".to_string(),
            n => format!(", {n} path dependencies"),
        };
        sink.event(Event::status(
            "Packing",
            format!("source of `{}` ({files} files{deps})", self.package),
        ));
        let entries = self.tar_entries(sink)?;
        let total = entries.len();
        let mut counting = Counting {
            inner: out,
            bytes: 0,
        };
        archive::write(&mut counting, entries, uid, gid, self.newest)
            .map_err(|e| anyhow!("{e:#}"))
            .with_context(|| format!("failed to write the source tar of `{}`", self.package))?;
        sink.event(Event::status(
            "Packed",
            format!(
                "source of `{}`: {total} entries, {} KiB",
                self.package,
                counting.bytes.div_ceil(1024)
            ),
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_status_gives_commit_branch_and_changes() {
        let clean = "# branch.oid 0123abcd\n# branch.head main\n# branch.upstream origin/main";
        assert_eq!(
            parse_status(clean),
            Some(("0123abcd".into(), "main".into(), false))
        );
        let dirty = "# branch.oid 0123abcd\n# branch.head (detached)\n1 .M N... 100644 100644 100644 a b src/main.rs\n? new.rs";
        assert_eq!(
            parse_status(dirty),
            Some(("0123abcd".into(), "HEAD".into(), true))
        );
        assert_eq!(
            parse_status("# branch.oid (initial)\n# branch.head main"),
            None
        );
    }

    #[test]
    fn strips_credentials_from_remote_urls() {
        assert_eq!(
            strip_credentials("https://user:tok@github.com/a/b.git"),
            "https://github.com/a/b.git"
        );
        assert_eq!(
            strip_credentials("git@github.com:a/b.git"),
            "git@github.com:a/b.git"
        );
        assert_eq!(
            strip_credentials("https://github.com/a@b"),
            "https://github.com/a@b"
        );
    }

    #[test]
    fn digest_covers_paths_contents_and_exec_bits_not_mtimes() {
        let e = |path: &str, body: &str, exec: bool, mtime: u64| TarEntry {
            path: path.into(),
            data: Data::Bytes(body.as_bytes().to_vec()),
            exec,
            mtime,
        };
        let base = digest(&[e("a", "1", false, 1)], false).unwrap();
        assert_eq!(base, digest(&[e("a", "1", false, 2)], false).unwrap());
        assert_ne!(base, digest(&[e("a", "2", false, 1)], false).unwrap());
        assert_ne!(base, digest(&[e("a", "1", true, 1)], false).unwrap());
        assert_ne!(base, digest(&[e("b", "1", false, 1)], false).unwrap());
        assert_ne!(base, digest(&[e("a", "1", false, 1)], true).unwrap());
    }
}
