//! The committed tree the cluster will clone: `okd.git-ref` resolved as `origin/<ref>` when the
//! repository has that remote-tracking branch, else the local branch (or tag, or commit); without
//! a ref the remote's default branch (`origin/HEAD`), else `HEAD`. The tree is exported with `git
//! archive` into a temporary directory: only committed files, whatever the working tree holds.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::Error;
use crate::engine::Revision;
use crate::sink::{Event, Sink};

/// The resolved commit and what it was resolved from.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The top of the git repository (canonical).
    pub root: PathBuf,
    /// The full commit ID.
    pub commit: String,
    /// `origin/main`, `main`, `HEAD`, ...
    pub from: String,
    /// Files that differ between the commit and the working tree (paths relative to `root`),
    /// untracked ones included: what the rehearsal will not see.
    pub uncommitted: Vec<String>,
}

impl Committed {
    /// The first 12 hex digits of the commit.
    pub fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(12)]
    }
}

impl Committed {
    /// The commit as upstream `s2i` labels it, on `reference` (what the BuildConfigs clone);
    /// never dirty: the rehearsal builds the committed tree.
    pub fn revision(&self, reference: &str) -> Result<Revision> {
        let show = git(&self.root, &[&Revision::SHOW[..], &[&self.commit]].concat())?;
        Ok(Revision::from_show(
            self.commit.clone(),
            reference.to_string(),
            &show.unwrap_or_default(),
            false,
        ))
    }
}

/// Runs git in `dir`; `Ok(None)` when it exits non-zero.
fn git(dir: &Path, args: &[&str]) -> Result<Option<String>> {
    let out = duct::cmd("git", args)
        .dir(dir)
        .stdout_capture()
        .stderr_null()
        .stdin_null()
        .unchecked()
        .run()
        .map_err(|e| {
            Error::new("failed to run `git`")
                .with_source(e)
                .note("the rehearsal needs git on PATH")
        })?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string()))
}

/// The commit `rev` names, if any.
fn commit_of(dir: &Path, rev: &str) -> Result<Option<String>> {
    git(
        dir,
        &["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")],
    )
}

/// Resolves `git_ref` in the repository holding `workspace` and reports the commit, and whether
/// HEAD or the working tree differ from it.
pub fn resolve(workspace: &Path, git_ref: Option<&str>, sink: &dyn Sink) -> Result<Committed> {
    let Some(top) = git(workspace, &["rev-parse", "--show-toplevel"])? else {
        return Err(Error::new(format!(
            "`{}` is not in a git repository, but the cluster builds from git",
            workspace.display()
        ))
        .note(
            "the rehearsal builds what is committed at `okd.git-ref`: `git init`, commit and \
             push first",
        )
        .into());
    };
    let root = std::fs::canonicalize(&top)
        .with_context(|| format!("failed to find the git repository `{top}`"))?;
    let candidates: Vec<String> = match git_ref {
        Some(r) => vec![format!("refs/remotes/origin/{r}"), r.to_string()],
        None => vec!["refs/remotes/origin/HEAD".into(), "HEAD".into()],
    };
    let mut found = None;
    for rev in &candidates {
        if let Some(commit) = commit_of(&root, rev)? {
            found = Some((commit, rev.trim_start_matches("refs/remotes/").to_string()));
            break;
        }
    }
    let Some((commit, from)) = found else {
        match git_ref {
            Some(r) => {
                return Err(Error::new(format!(
                    "`okd.git-ref` is `{r}`, but the repository `{}` has neither `origin/{r}` nor \
                     a branch, tag or commit `{r}`",
                    root.display()
                ))
                .note(format!(
                    "the cluster clones `{r}`: create and push it, or change `okd.git-ref` in \
                     `[package.metadata.s2i.okd]`"
                ))
                .into());
            }
            None => {
                return Err(Error::new(format!(
                    "the repository `{}` has no commit yet",
                    root.display()
                ))
                .note("commit (and push) the workspace first: the cluster builds what is committed")
                .into());
            }
        }
    };
    let committed = Committed {
        uncommitted: uncommitted(&root, &commit)?,
        root,
        commit,
        from,
    };
    report(&committed, sink)?;
    Ok(committed)
}

/// Paths that differ between `commit` and the working tree, and untracked files.
fn uncommitted(root: &Path, commit: &str) -> Result<Vec<String>> {
    let mut paths = Vec::new();
    for args in [
        &["diff", "--name-only", "--no-renames", commit, "--"][..],
        &["ls-files", "--others", "--exclude-standard"],
    ] {
        if let Some(out) = git(root, args)? {
            paths.extend(out.lines().filter(|l| !l.is_empty()).map(str::to_string));
        }
    }
    paths.sort();
    paths.dedup();
    Ok(paths)
}

fn report(c: &Committed, sink: &dyn Sink) -> Result<()> {
    let subject = git(&c.root, &["log", "-1", "--format=%s", &c.commit])?.unwrap_or_default();
    sink.event(Event::status(
        "Rehearsing",
        format!(
            "commit {} ({}) \"{subject}\", as the cluster will clone it",
            c.short(),
            c.from
        ),
    ));
    let head = commit_of(&c.root, "HEAD")?;
    if head.as_deref() != Some(c.commit.as_str()) {
        sink.event(Event::warning(format!(
            "HEAD ({}) is not {} ({}): the cluster builds {}; push, or check out what it builds",
            head.as_deref().map_or("none", |h| &h[..h.len().min(12)]),
            c.from,
            c.short(),
            c.short()
        )));
    }
    if !c.uncommitted.is_empty() {
        let shown: Vec<String> = c
            .uncommitted
            .iter()
            .take(5)
            .map(|p| format!("`{p}`"))
            .collect();
        let more = match c.uncommitted.len() {
            n if n > 5 => format!(" and {} more", n - 5),
            _ => String::new(),
        };
        sink.event(Event::warning(format!(
            "the working tree differs from {} in {} file(s) ({}{more}); the rehearsal, like the \
             cluster, builds only what is committed",
            c.short(),
            c.uncommitted.len(),
            shown.join(", ")
        )));
    }
    Ok(())
}

/// Warns when a committed BuildConfig clones a repository that is none of this repository's
/// remotes: the rehearsal builds the local commit, the cluster what that URI serves.
pub fn check_uris(c: &Committed, m: &super::manifests::Manifests, sink: &dyn Sink) -> Result<()> {
    let remotes = git(&c.root, &["remote", "-v"])?.unwrap_or_default();
    let normal = |u: &str| {
        u.trim_end_matches('/')
            .trim_end_matches(".git")
            .replace("git@github.com:", "https://github.com/")
            .to_ascii_lowercase()
    };
    let known: Vec<String> = remotes
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(normal)
        .collect();
    for bc in &m.build_configs {
        let Some(g) = &bc.spec.source.git else {
            continue;
        };
        if !known.is_empty() && !known.contains(&normal(&g.uri)) {
            sink.event(Event::warning(format!(
                "the BuildConfig `{}` (`{}`) clones `{}`, which is not a remote of `{}`: the \
                 rehearsal builds this repository's commit, the cluster what that URI serves",
                bc.name,
                bc.file.display(),
                g.uri,
                c.root.display()
            )));
        }
    }
    Ok(())
}

/// Exports the tree of `commit` into `dest` (which must exist).
pub fn export(c: &Committed, dest: &Path) -> Result<()> {
    let reader = duct::cmd("git", ["archive", "--format=tar", c.commit.as_str()])
        .dir(&c.root)
        .stderr_capture()
        .stdin_null()
        .reader()
        .context("failed to run `git archive`")?;
    let mut archive = tar::Archive::new(reader);
    archive.set_preserve_permissions(true);
    archive.unpack(dest).with_context(|| {
        format!(
            "failed to export the tree of {} with `git archive`",
            c.short()
        )
    })
}
