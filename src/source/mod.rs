//! The source closure of a package: exactly what the app (S2I) stage uploads to `/tmp/src`.
//!
//! The closure is the plan's package, its path dependencies (every kind, transitively), the root
//! package and `[patch]` paths, the workspace root manifest and `Cargo.lock` — not the other
//! members, so a user's `xtask` (which depends on this crate, bollard and tokio) never reaches the
//! container build. Files come from the working tree as it is now, uncommitted changes included,
//! through one walk that honours `.gitignore` and `.s2iignore` and never takes `.git`, target
//! directories or `.env` files (see [`walk`]).
//!
//! Tar layout (paths relative to the source root):
//! - the workspace root's tree (closure packages only; nested packages outside the closure are
//!   skipped), with the root `Cargo.toml`'s `[workspace]` rewritten to list only closure members;
//! - path dependencies outside the workspace root under `.s2i/path-deps/<name>/`, with the `path`
//!   of every dependency on them rewritten, and `.s2i/path-deps` in `workspace.exclude` so they
//!   are not members (members resolve all features; non-members keep `default-features = false`);
//! - `Cargo.lock` pruned by cargo to the closure;
//! - with `vendor = true`: `vendor/` (the closure's crates) and `.cargo/config.toml` = the user's
//!   workspace cargo config plus the source replacement, so `assemble` builds `--offline`.
//!
//! Only the tar holds these rewrites; nothing is written into the user's tree (staging and the
//! vendor cache live under the plan's `out_dir`, in its layout's `source_dir`).
//! [`Closure::scan`] computes the digest from one walk without staging, vendoring or building the
//! tar, so an unchanged tree costs milliseconds.

mod archive;
mod cargo;
mod committed;
pub(crate) mod manifest;
mod walk;

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use cargo_metadata::Metadata;
use sha2::{Digest, Sha256};

use crate::Error;
use crate::engine::Revision;
use crate::plan::{Plan, hex};
use crate::sink::{Event, Sink};
use archive::{Data, TarEntry};

pub use committed::vendor_committed;
pub use walk::IGNORE_FILE;

/// Changes whenever the layout of the tar changes, so older app images are rebuilt.
const FORMAT: &str = "xtask-s2i source closure v1";

/// The files of a package's build closure, scanned and hashed.
pub struct Closure {
    package: String,
    root: PathBuf,
    /// Where the tar is staged and the vendored crates are cached (the Plan's layout).
    source_dir: PathBuf,
    vendor: bool,
    /// The features `assemble` builds with: they decide which vendored crates are cut.
    features: Vec<String>,
    no_default_features: bool,
    /// Sorted by path: walked directories, files and links, the manifests, the user's lock.
    entries: Vec<TarEntry>,
    /// Tar paths of the manifests (the staging workspace needs them).
    manifests: Vec<String>,
    relocated: usize,
    /// The modification time of generated files: the newest of the manifests they come from.
    generated_mtime: u64,
    newest: u64,
    digest: String,
    location: String,
    revision: Option<Revision>,
}

fn canonical(path: &Path, what: &str) -> Result<PathBuf> {
    std::fs::canonicalize(path)
        .with_context(|| format!("failed to find {what} `{}`", path.display()))
}

fn mtime(path: &Path) -> u64 {
    std::fs::metadata(path)
        .map(|m| walk::mtime_of(&m))
        .unwrap_or(0)
}

/// Where the walk of the workspace root must not go, and the directories with a `Cargo.toml` it
/// may enter.
fn walk_limits(
    layout: &crate::plan::Layout,
    metadata: &Metadata,
    root: &Path,
    packages: &manifest::Packages,
) -> (Arc<HashSet<PathBuf>>, Arc<HashSet<PathBuf>>) {
    // Never entered: the workspace's target dir, the tool's own `.s2i` (template overrides;
    // also where relocated packages go), and the generated manifests (they are not source).
    let mut skip = HashSet::new();
    if let Ok(t) = std::fs::canonicalize(metadata.target_directory.as_std_path()) {
        skip.insert(t);
    }
    skip.insert(root.join(".s2i"));
    let package_dirs: Vec<&Path> = packages.list.iter().map(|p| p.dir.as_path()).collect();
    if let Ok(m) = std::fs::canonicalize(&layout.manifests_dir)
        && m != root
        && m.starts_with(root)
        && !package_dirs.iter().any(|d| d.starts_with(&m))
    {
        skip.insert(m);
    }

    // Directories with a Cargo.toml the root walk may enter: closure packages and the
    // directories leading to them.
    let mut keep = HashSet::new();
    for d in package_dirs.iter().filter(|d| d.starts_with(root)) {
        for a in d.ancestors() {
            if !a.starts_with(root) || !keep.insert(a.to_path_buf()) {
                break;
            }
        }
    }
    (Arc::new(skip), Arc::new(keep))
}

/// The files, links and directories of the workspace root and of every relocated package, as
/// tar entries (the manifests and `Cargo.lock` are added apart).
fn walk_tree(
    plan: &Plan,
    metadata: &Metadata,
    root: &Path,
    packages: &manifest::Packages,
    manifests: &[manifest::Manifest],
) -> Result<Vec<TarEntry>> {
    let (skip, keep) = walk_limits(plan.layout(), metadata, root, packages);
    let special: HashSet<String> = manifests
        .iter()
        .map(|m| m.tar_path.clone())
        .chain(["Cargo.lock".to_string()])
        .collect();
    let mut entries = Vec::new();
    let mut add = |found: Vec<walk::Found>, special: &dyn Fn(&str) -> bool| {
        for f in found {
            if special(&f.path) {
                continue;
            }
            let (data, exec) = match f.kind {
                walk::Kind::Dir => (Data::Dir, true),
                walk::Kind::File { exec } => (Data::File(f.abs), exec),
                walk::Kind::Symlink { target } => (Data::Symlink(target), false),
            };
            entries.push(TarEntry {
                path: f.path,
                data,
                exec,
                mtime: f.mtime,
            });
        }
    };
    let found = walk::Walk {
        dir: root,
        prefix: "",
        keep: keep.clone(),
        skip: skip.clone(),
        include: &[],
        exclude: &[],
    }
    .run()?;
    add(found, &|p| special.contains(p));
    for (tar_dir, p) in &packages.relocated() {
        let found = walk::Walk {
            dir: &p.dir,
            prefix: tar_dir,
            keep: Arc::default(),
            skip: skip.clone(),
            include: &p.include,
            exclude: &p.exclude,
        }
        .run()?;
        // A dependency's own lock file is not used by cargo.
        let lock = manifest::join(tar_dir, "Cargo.lock");
        add(found, &|path| special.contains(path) || path == lock);
    }
    Ok(entries)
}

/// What the container would fail on, found now: a `vendor/` of the workspace's own where the
/// vendored crates go, a closure package whose sources the ignore rules hide.
fn check_entries(
    plan: &Plan,
    root: &Path,
    packages: &manifest::Packages,
    entries: &[TarEntry],
) -> Result<()> {
    if plan.settings().vendor
        && let Some(e) = entries
            .iter()
            .find(|e| e.path == "vendor" || e.path.starts_with("vendor/"))
    {
        return Err(Error::new(format!(
            "the workspace has its own `{}`, where the vendored crates would go in the source \
             tar",
            root.join(&e.path).display(),
        ))
        .note(format!(
            "add `/vendor` to `{IGNORE_FILE}` in `{}` if the builder does not need it, or set \
             `vendor = false` in `[package.metadata.s2i]`",
            root.display()
        ))
        .into());
    }

    // A closure package whose sources the ignore rules hide would fail in the container.
    for p in &packages.list {
        let prefix = format!("{}/", p.tar_dir);
        let has_sources = entries.iter().any(|e| {
            e.path.ends_with(".rs") && (p.tar_dir.is_empty() || e.path.starts_with(&prefix))
        });
        if !has_sources {
            return Err(Error::new(format!(
                "the package `{}` (`{}`) is in the build closure of `{}`, but none of its `.rs` \
                 files would go into the source tar",
                p.name,
                p.dir.display(),
                plan.package(),
            ))
            .note(format!(
                "check the `.gitignore` and `{IGNORE_FILE}` files above it{}",
                if p.include.is_empty() {
                    ""
                } else {
                    " and its `package.include`"
                }
            ))
            .into());
        }
    }
    Ok(())
}

/// The manifests (rewritten ones dated `generated_mtime`) and the workspace's `Cargo.lock`.
fn manifest_entries(
    root: &Path,
    manifests: &[manifest::Manifest],
    generated_mtime: u64,
) -> Result<Vec<TarEntry>> {
    let mut entries = Vec::new();
    for m in manifests {
        let meta = std::fs::metadata(&m.source)
            .with_context(|| format!("failed to read `{}`", m.source.display()))?;
        let (data, mtime) = match &m.rewritten {
            Some(text) => (Data::Bytes(text.clone().into_bytes()), generated_mtime),
            None => (Data::File(m.source.clone()), walk::mtime_of(&meta)),
        };
        entries.push(TarEntry {
            path: m.tar_path.clone(),
            data,
            exec: false,
            mtime,
        });
    }
    let lock = root.join("Cargo.lock");
    if lock.is_file() {
        entries.push(TarEntry {
            path: "Cargo.lock".into(),
            data: Data::File(lock.clone()),
            exec: false,
            mtime: mtime(&lock),
        });
    }
    Ok(entries)
}

impl Closure {
    /// Finds and hashes the closure of `plan`'s package. `metadata` is `cargo metadata
    /// --no-deps` of the user's workspace. Reads the tree; writes nothing.
    pub fn scan(plan: &Plan, metadata: &Metadata) -> Result<Closure> {
        let layout = plan.layout();
        let settings = plan.settings();
        let root = canonical(&layout.workspace_root, "the workspace root")?;
        let package_dir = canonical(&layout.package_dir, "the package directory")?;
        if !package_dir.starts_with(&root) {
            bail!(
                "the package `{}` (`{}`) is outside its workspace root `{}`",
                plan.package(),
                package_dir.display(),
                root.display()
            );
        }

        let packages = manifest::discover(&root, &package_dir, metadata)?;
        let manifests = packages.manifests()?;
        let generated_mtime = packages
            .inputs()
            .iter()
            .map(|p| mtime(p))
            .max()
            .unwrap_or(0);
        let relocated = packages.relocated();

        let mut entries = walk_tree(plan, metadata, &root, &packages, &manifests)?;
        check_entries(plan, &root, &packages, &entries)?;
        entries.extend(manifest_entries(&root, &manifests, generated_mtime)?);
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let newest = entries.iter().map(|e| e.mtime).max().unwrap_or(0);

        let digest = digest(&entries, settings.vendor)?;
        let (location, revision) = git_info(&root);
        Ok(Closure {
            package: plan.package().to_string(),
            source_dir: layout.source_dir(),
            vendor: settings.vendor,
            features: settings.features.clone(),
            no_default_features: settings.no_default_features,
            manifests: manifests.into_iter().map(|m| m.tar_path).collect(),
            relocated: relocated.len(),
            root,
            entries,
            generated_mtime,
            newest,
            digest,
            location,
            revision,
        })
    }

    /// The canonical workspace root the closure was read from (for this repository's tests).
    #[cfg(feature = "internal")]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The tar paths of the scanned files and links (not directories), sorted. The tar also
    /// holds the pruned lock in place of `Cargo.lock` and, when vendoring, `vendor/` and
    /// `.cargo/config.toml`.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|e| !matches!(e.data, Data::Dir))
            .map(|e| e.path.as_str())
    }

    /// What cargo needs to resolve the closure in a staging directory: the manifests and the lock
    /// as they go into the tar, and an empty file for every `.rs` file.
    fn staged(&self, sink: &dyn Sink) -> Vec<cargo::Staged<'_>> {
        let mut files = Vec::new();
        let mut has_lock = false;
        for e in &self.entries {
            let is_manifest = self.manifests.contains(&e.path);
            let keep = is_manifest || e.path == "Cargo.lock";
            has_lock |= e.path == "Cargo.lock";
            match &e.data {
                Data::Bytes(b) if keep => files.push(cargo::Staged::Bytes(&e.path, b)),
                Data::File(src) if keep => files.push(cargo::Staged::Copy(&e.path, src)),
                Data::File(_) if e.path.ends_with(".rs") => {
                    files.push(cargo::Staged::Empty(&e.path))
                }
                _ => {}
            }
        }
        if !has_lock {
            sink.event(Event::warning(format!(
                "`{}` has no `Cargo.lock`; the source tar gets a freshly resolved one (commit a `Cargo.lock` for reproducible images)",
                self.root.display()
            )));
        }
        files
    }

    /// The lock pruned to the closure, and the vendored crates when vendoring: cargo run in a
    /// staging directory under the source directory, removed afterwards.
    fn prune_and_vendor(&self, sink: &dyn Sink) -> Result<(Vec<u8>, Option<cargo::Vendored>)> {
        let source_dir = &self.source_dir;
        // Per process, so two runs on the same package do not trample each other.
        let staging = source_dir.join(format!("staging-{}", std::process::id()));
        cargo::stage(&staging, &self.staged(sink))?;
        // The user's cargo config applies by `--config` (registries, source replacement), so
        // its relative paths keep meaning what they mean in the user's workspace.
        // (`--config` takes only `.toml` files: a legacy `.cargo/config` is found by discovery
        // alone, when `out_dir` is inside the workspace.)
        let user_config = self
            .entries
            .iter()
            .find(|e| e.path == ".cargo/config.toml")
            .and_then(|e| match &e.data {
                Data::File(src) => Some(src.clone()),
                _ => None,
            });
        let ws = cargo::Workspace {
            dir: &staging,
            config: user_config.as_deref(),
        };
        let pruned = cargo::prune_lock(&ws, &self.package, sink);
        let vendored = match (&pruned, self.vendor) {
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
        Ok((pruned?, vendored?))
    }

    /// The entries of the tar: staging, lock pruning and vendoring happen here.
    fn tar_entries(&self, sink: &dyn Sink) -> Result<Vec<TarEntry>> {
        let (pruned, vendored) = self.prune_and_vendor(sink)?;
        let lock_mtime = self
            .entries
            .iter()
            .find(|e| e.path == "Cargo.lock")
            .map_or(0, |e| e.mtime)
            .max(self.generated_mtime);
        let mut out: Vec<TarEntry> = Vec::with_capacity(self.entries.len() + 2);
        let vendoring = vendored.as_ref().is_some_and(|v| !v.sources.is_empty());
        let mut user_config: Option<(PathBuf, u64)> = None;
        for e in &self.entries {
            match e.path.as_str() {
                "Cargo.lock" => continue,
                ".cargo/config.toml" | ".cargo/config" if vendoring => {
                    // `config.toml` wins over the legacy `config`, as in cargo.
                    if let Data::File(src) = &e.data
                        && (user_config.is_none() || e.path.ends_with(".toml"))
                    {
                        user_config = Some((src.clone(), e.mtime));
                    }
                    continue;
                }
                _ => out.push(e.clone()),
            }
        }
        out.push(TarEntry {
            path: "Cargo.lock".into(),
            data: Data::Bytes(pruned),
            exec: false,
            mtime: lock_mtime,
        });
        if let Some(v) = vendored.filter(|_| vendoring) {
            let user = match &user_config {
                Some((path, _)) => Some((
                    path.as_path(),
                    std::fs::read_to_string(path)
                        .with_context(|| format!("failed to read `{}`", path.display()))?,
                )),
                None => None,
            };
            let merged =
                cargo::merge_config(user.as_ref().map(|(p, t)| (*p, t.as_str())), &v.sources)?;
            out.push(TarEntry {
                path: ".cargo/config.toml".into(),
                data: Data::Bytes(merged.into_bytes()),
                exec: false,
                mtime: user_config.map_or(0, |(_, m)| m).max(lock_mtime),
            });
            vendor_entries(&v.dir, &v.dir, &mut out)?;
        }
        Ok(out)
    }
}

/// Adds every file, link and directory under `dir` as `vendor/...` (no ignore rules: cargo checks
/// the vendored files against their checksums).
fn vendor_entries(base: &Path, dir: &Path, out: &mut Vec<TarEntry>) -> Result<()> {
    let read =
        std::fs::read_dir(dir).with_context(|| format!("failed to read `{}`", dir.display()))?;
    for e in read {
        let e = e.with_context(|| format!("failed to read `{}`", dir.display()))?;
        let path = e.path();
        let meta = std::fs::symlink_metadata(&path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        let rel = manifest::tar_path_of(path.strip_prefix(base).unwrap_or(&path))?;
        let tar_path = manifest::join("vendor", &rel);
        let ft = meta.file_type();
        let data = if ft.is_dir() {
            vendor_entries(base, &path, out)?;
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
    // `.s2i/` (templates, `.s2i/bin`, `.s2i/environment`) is not in the uploaded tree.
    let status = git(&[
        "status",
        "--porcelain=v2",
        "--branch",
        "--",
        ".",
        ":(exclude).s2i",
    ]);
    let Some((id, reference, dirty)) = status.as_deref().and_then(parse_status) else {
        return (root.display().to_string(), None);
    };
    let show = git(&[
        "--no-pager",
        "show",
        "-s",
        "--format=%an%x00%ae%x00%ad%x00%<(80,trunc)%s",
        "HEAD",
    ])
    .unwrap_or_default();
    let mut fields = show.split('\0').map(|f| f.trim().to_string());
    let mut next = || fields.next().unwrap_or_default();
    let revision = Revision {
        id,
        reference,
        author_name: next(),
        author_email: next(),
        date: next(),
        message: next(),
        dirty,
    };
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
        let deps = match self.relocated {
            0 => String::new(),
            1 => ", 1 path dependency from outside the workspace".to_string(),
            n => format!(", {n} path dependencies from outside the workspace"),
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
