//! The one walk over the working tree that decides which files go into the source tar.
//!
//! It honours `.gitignore` (also outside a git repository), `.git/info/exclude`, the global git
//! excludes and `.s2iignore` (gitignore syntax, in the walked directory and its parents), and
//! never enters `.git`, target directories, or directories of packages outside the closure, and
//! never takes `.env` or `.env.*`. It reads metadata only; contents are hashed by the caller.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use anyhow::{Result, anyhow};
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::manifest::{join, tar_path_of};
use crate::Error;

/// The custom ignore file: gitignore syntax, only for the source tar.
pub const IGNORE_FILE: &str = ".s2iignore";

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

/// One walk: a directory and how its entries are named in the tar.
pub struct Walk<'a> {
    pub dir: &'a Path,
    pub prefix: &'a str,
    /// Directories with a `Cargo.toml` that belong to the closure (or lead to one of its
    /// packages): the walk descends into them. Any other directory with a `Cargo.toml` below
    /// `dir` is another package and is skipped.
    pub keep: Arc<HashSet<PathBuf>>,
    /// Directories never entered (the workspace's target directory, `.s2i`, ...).
    pub skip: Arc<HashSet<PathBuf>>,
    /// `package.include` / `package.exclude` patterns (gitignore syntax, relative to `dir`).
    pub include: &'a [String],
    pub exclude: &'a [String],
}

/// Whether `name` is an environment file that never goes into the tar.
pub fn is_env_file(name: &str) -> bool {
    name == ".env" || name.starts_with(".env.")
}

fn matcher(dir: &Path, patterns: &[String], what: &str) -> Result<Option<Gitignore>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GitignoreBuilder::new(dir);
    for p in patterns {
        b.add_line(None, p).map_err(|e| {
            anyhow!(
                "invalid pattern {p:?} in `package.{what}` of `{}`: {e}",
                dir.join("Cargo.toml").display()
            )
        })?;
    }
    let m = b.build().map_err(|e| {
        anyhow!(
            "invalid `package.{what}` in `{}`: {e}",
            dir.join("Cargo.toml").display()
        )
    })?;
    Ok(Some(m))
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

/// Whether `package.include` and `package.exclude` let the entry at `abs` into the tar.
fn selected(
    include: Option<&Gitignore>,
    exclude: Option<&Gitignore>,
    abs: &Path,
    kind: &Kind,
) -> bool {
    if *kind == Kind::Dir {
        // With `include`, directories come from the files they hold.
        return include.is_none()
            && !exclude.is_some_and(|m| m.matched_path_or_any_parents(abs, true).is_ignore());
    }
    if let Some(m) = include
        && !m.matched_path_or_any_parents(abs, false).is_ignore()
    {
        return false;
    }
    !exclude.is_some_and(|m| m.matched_path_or_any_parents(abs, false).is_ignore())
}

impl Walk<'_> {
    /// Walks the directory; the result is sorted by tar path.
    pub fn run(&self) -> Result<Vec<Found>> {
        let include = matcher(self.dir, self.include, "include")?;
        let exclude = matcher(self.dir, self.exclude, "exclude")?;
        let mut found = Vec::new();
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
            if !selected(include.as_ref(), exclude.as_ref(), &abs, &kind) {
                continue;
            }
            found.push(Found {
                path: join(self.prefix, &tar_path_of(rel)?),
                abs,
                kind,
                mtime: mtime_of(&meta),
            });
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    /// The walk of `dir`: `.gitignore` rules (and git's global and exclude files) and
    /// `.s2iignore`; never into `.git`, `skip`, a target directory, or another package's
    /// directory unless `keep` has it; no environment files.
    fn walker(&self) -> ignore::Walk {
        let (keep, skip) = (self.keep.clone(), self.skip.clone());
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
            .add_custom_ignore_filename(IGNORE_FILE)
            .filter_entry(move |e| {
                let name = e.file_name();
                if name == ".git" {
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
                if e.depth() == 0 || keep.contains(path) {
                    return true;
                }
                if name == "target"
                    && (path.join("CACHEDIR.TAG").is_file()
                        || path
                            .parent()
                            .is_some_and(|p| p.join("Cargo.toml").is_file()))
                {
                    return false;
                }
                // Another package (or workspace): not ours unless it is in the closure.
                !path.join("Cargo.toml").is_file()
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
            prefix: "",
            keep: Arc::default(),
            skip: Arc::default(),
            include: &[],
            exclude: &[],
        }
        .run()
        .unwrap()
        .into_iter()
        .map(|f| f.path)
        .collect()
    }

    #[test]
    fn honours_ignore_files_without_git_and_skips_secrets_and_packages() {
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
            "notes.secret",
            "gen/out.txt",
            "docs/a.md",
        ] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        std::fs::write(d.join(".gitignore"), "/gen\n").unwrap();
        std::fs::write(d.join(IGNORE_FILE), "*.secret\n/docs\n").unwrap();
        let files = walk(d);
        assert_eq!(
            files,
            [
                ".envrc",
                ".gitignore",
                ".s2iignore",
                "Cargo.toml",
                "src",
                "src/main.rs",
                "src/target",
                "src/target/mod.rs"
            ],
        );
    }

    #[test]
    fn include_patterns_select_files() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for f in ["Cargo.toml", "src/lib.rs", "tests/t.rs", "README.md"] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let include = ["src/**".to_string(), "README.md".to_string()];
        let found: Vec<String> = Walk {
            dir: d,
            prefix: "p",
            keep: Arc::default(),
            skip: Arc::default(),
            include: &include,
            exclude: &[],
        }
        .run()
        .unwrap()
        .into_iter()
        .filter(|f| f.kind != Kind::Dir)
        .map(|f| f.path)
        .collect();
        assert_eq!(found, ["p/README.md", "p/src/lib.rs"]);
    }
}
