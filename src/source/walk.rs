//! The one walk over the working tree that decides which files go into the source tar.
//!
//! It walks the source root (the app BuildConfig's `contextDir` in the working tree) as the
//! cluster's clone holds it: it honours `.gitignore` (also outside a git repository),
//! `.git/info/exclude` and the global git excludes (what git would not commit), and the
//! `.s2iignore` at the root with s2i's semantics ([`super::ignore`]); it never enters `.git` or
//! target directories and never takes `.env` or `.env.*`. It reads metadata only; contents are
//! hashed by the caller.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use anyhow::{Result, anyhow, bail};

use super::ignore::{IGNORE_FILE, S2iIgnore};
use crate::Error;

/// What the walk found at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File { exec: bool },
    Symlink { target: PathBuf },
}

/// One entry of the working tree.
#[derive(Debug, Clone)]
pub struct Found {
    /// The path in the tar.
    pub path: String,
    pub abs: PathBuf,
    pub kind: Kind,
    /// Seconds since the epoch.
    pub mtime: u64,
}

/// One walk: the source root.
pub struct Walk<'a> {
    pub dir: &'a Path,
    /// Directories never entered (the workspace's target directory, the staging area, ...).
    pub skip: Arc<HashSet<PathBuf>>,
    /// The `.s2iignore` at `dir`.
    pub ignore: Arc<S2iIgnore>,
}

/// Whether `name` is an environment file that never goes into the tar.
pub fn is_env_file(name: &str) -> bool {
    name == ".env" || name.starts_with(".env.")
}

/// A relative path as a tar path (`/`-separated, UTF-8).
pub fn tar_path_of(rel: &Path) -> Result<String> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            std::path::Component::Normal(s) => out.push(s.to_str().ok_or_else(|| {
                Error::new(format!(
                    "cannot put `{}` into the source tar: its name is not UTF-8",
                    rel.display()
                ))
                .note(format!("rename it, or add it to `{IGNORE_FILE}`"))
            })?),
            std::path::Component::CurDir => {}
            _ => bail!(
                "`{}` is not a relative path inside the source",
                rel.display()
            ),
        }
    }
    Ok(out.join("/"))
}

/// `prefix/rel` as a tar path.
pub fn join(prefix: &str, rel: &str) -> String {
    match (prefix.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}/{rel}"),
    }
}

pub fn mtime_of(meta: &std::fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(unix)]
pub fn is_exec(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
pub fn is_exec(_: &std::fs::Metadata) -> bool {
    false
}

/// What an entry of the tree is; `None` for sockets, fifos and devices (nothing a build reads).
fn kind_of(abs: &Path, meta: &std::fs::Metadata) -> Result<Option<Kind>> {
    let ft = meta.file_type();
    Ok(Some(if ft.is_dir() {
        Kind::Dir
    } else if ft.is_symlink() {
        let target = std::fs::read_link(abs)
            .map_err(|e| anyhow!("failed to read the link `{}`: {e}", abs.display()))?;
        Kind::Symlink { target }
    } else if ft.is_file() {
        Kind::File {
            exec: is_exec(meta),
        }
    } else {
        return Ok(None);
    }))
}

impl Walk<'_> {
    /// Walks the directory; the result is sorted by tar path.
    pub fn run(&self) -> Result<Vec<Found>> {
        let mut found = Vec::new();
        if self.ignore.in_set("").is_some() {
            // A `/` or `.` line: s2i deletes the whole source.
            return Ok(found);
        }
        for entry in self.walker() {
            let entry = match entry {
                Ok(e) => e,
                // A malformed line in an ignore file: git skips it too.
                Err(e) if e.io_error().is_none() => continue,
                Err(e) => {
                    return Err(Error::new(format!(
                        "failed to read the source tree in `{}`: {e}",
                        self.dir.display()
                    ))
                    .note(format!("make it readable, or add it to `{IGNORE_FILE}`"))
                    .into());
                }
            };
            if entry.depth() == 0 {
                continue;
            }
            let abs = entry.path().to_path_buf();
            let rel = abs.strip_prefix(self.dir).unwrap_or(&abs);
            let meta = std::fs::symlink_metadata(&abs).map_err(|e| {
                Error::new(format!("failed to read `{}`: {e}", abs.display()))
                    .note(format!("make it readable, or add it to `{IGNORE_FILE}`"))
            })?;
            let Some(kind) = kind_of(&abs, &meta)? else {
                continue;
            };
            found.push(Found {
                path: tar_path_of(rel)?,
                abs,
                kind,
                mtime: mtime_of(&meta),
            });
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    /// The walk of `dir`: `.gitignore` rules (and git's global and exclude files) and the
    /// root's `.s2iignore`; never into `.git`, `skip` or a target directory; no environment
    /// files.
    fn walker(&self) -> ignore::Walk {
        let (skip, s2i) = (self.skip.clone(), self.ignore.clone());
        let root = self.dir.to_path_buf();
        let mut walker = ignore::WalkBuilder::new(self.dir);
        walker
            .hidden(false)
            .parents(true)
            .ignore(false)
            .git_ignore(true)
            .git_global(true)
            .git_exclude(true)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |e| {
                let name = e.file_name();
                if name == ".git" {
                    return false;
                }
                if e.depth() > 0
                    && let Some(rel) = e.path().strip_prefix(&root).ok().and_then(|r| r.to_str())
                    && s2i.in_set(rel).is_some()
                {
                    return false;
                }
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                if !is_dir {
                    return !name.to_str().is_some_and(is_env_file);
                }
                let path = e.path();
                if skip.contains(path) {
                    return false;
                }
                !(name == "target"
                    && (path.join("CACHEDIR.TAG").is_file()
                        || path
                            .parent()
                            .is_some_and(|p| p.join("Cargo.toml").is_file())))
            });
        walker.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(dir: &Path) -> Vec<String> {
        Walk {
            dir,
            skip: Arc::default(),
            ignore: Arc::new(S2iIgnore::read(dir).unwrap()),
        }
        .run()
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect()
    }

    #[test]
    fn honours_git_and_s2i_ignore_rules_and_skips_secrets_and_targets() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for f in [
            "Cargo.toml",
            "src/main.rs",
            "src/target/mod.rs",
            ".env",
            ".env.local",
            ".envrc",
            ".git/HEAD",
            "target/CACHEDIR.TAG",
            "target/debug/app",
            "other/Cargo.toml",
            "other/src/lib.rs",
            "other/notes.secret",
            "notes.secret",
            "gen/out.txt",
            "docs/a.md",
        ] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        std::fs::write(d.join(".gitignore"), "/gen\n").unwrap();
        // s2i's globs: `*.secret` is the root's only, `docs` goes whole.
        std::fs::write(d.join(IGNORE_FILE), "*.secret\n/docs\n").unwrap();
        let files = walk(d);
        assert_eq!(
            files,
            [
                ".envrc",
                ".gitignore",
                ".s2iignore",
                "Cargo.toml",
                "other",
                "other/Cargo.toml",
                "other/notes.secret",
                "other/src",
                "other/src/lib.rs",
                "src",
                "src/main.rs",
                "src/target",
                "src/target/mod.rs"
            ],
        );
    }
}
