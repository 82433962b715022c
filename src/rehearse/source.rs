//! The source tar of the S2I step: the committed tree at `contextDir` less what its
//! `.s2iignore` names (s2i's globs relative to the source root, [`crate::source::ignore`]), plus
//! the vendored crates, owned by the user that runs `assemble` and modified now, as a fresh
//! clone's files are (so cargo rebuilds the source's crates and reuses the restored
//! dependencies). The engine's S2I step ([`crate::engine::s2i::step`]) uploads it.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// One entry of the source tar.
pub struct SrcEntry {
    pub path: String,
    pub abs: Option<PathBuf>,
    pub bytes: Option<Vec<u8>>,
    pub mode: u32,
    pub kind: tar::EntryType,
}

/// The source at `root` less what its `.s2iignore` names (s2i's semantics, the matcher the local
/// chain uses).
pub fn source_entries(root: &Path) -> Result<Vec<SrcEntry>> {
    let ignore = crate::source::ignore::S2iIgnore::read(root).with_context(|| {
        format!(
            "failed to read `{}`",
            root.join(crate::source::IGNORE_FILE).display()
        )
    })?;
    let mut out = Vec::new();
    if ignore.in_set("").is_none() {
        walk(root, "", &mut out, &|rel, _| ignore.in_set(rel).is_some())?;
    }
    Ok(out)
}

/// Every directory, file and link under `dir`, as `prefix/...`, except what `skip` names.
pub fn walk(
    dir: &Path,
    prefix: &str,
    out: &mut Vec<SrcEntry>,
    skip: &dyn Fn(&str, bool) -> bool,
) -> Result<()> {
    let mut read: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read `{}`", dir.display()))?
        .flatten()
        .collect();
    read.sort_by_key(|e| e.file_name());
    for e in read {
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let path = e.path();
        let meta = std::fs::symlink_metadata(&path)?;
        if skip(&rel, meta.is_dir()) {
            continue;
        }
        let (kind, mode) = if meta.is_dir() {
            (tar::EntryType::Directory, 0o775)
        } else if meta.file_type().is_symlink() {
            (tar::EntryType::Symlink, 0o777)
        } else {
            (tar::EntryType::Regular, super::paths::mode_of(&meta))
        };
        out.push(SrcEntry {
            path: rel.clone(),
            abs: Some(path.clone()),
            bytes: None,
            mode,
            kind,
        });
        if meta.is_dir() {
            walk(&path, &rel, out, skip)?;
        }
    }
    Ok(())
}

/// The source tar: every entry relative to the source root, owned by `uid`:`gid` (the assemble
/// user), modified now (as a fresh clone's files are, so cargo rebuilds the crates of the
/// source); the S2I step puts it under `src/`.
pub fn write_source(
    out: &mut dyn std::io::Write,
    entries: &[SrcEntry],
    uid: u64,
    gid: u64,
) -> Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut tar = tar::Builder::new(out);
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(e.kind);
        h.set_mode(e.mode);
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(now);
        let path = &e.path;
        match (e.kind, &e.abs, &e.bytes) {
            (_, _, Some(bytes)) => {
                h.set_size(bytes.len() as u64);
                tar.append_data(&mut h, path, bytes.as_slice())?;
            }
            (tar::EntryType::Directory, _, _) => {
                h.set_size(0);
                tar.append_data(&mut h, format!("{path}/"), std::io::empty())?;
            }
            (tar::EntryType::Symlink, Some(abs), _) => {
                h.set_size(0);
                tar.append_link(&mut h, path, std::fs::read_link(abs)?)?;
            }
            (_, Some(abs), _) => {
                let f = std::fs::File::open(abs)
                    .with_context(|| format!("failed to read `{}`", abs.display()))?;
                h.set_size(f.metadata()?.len());
                tar.append_data(&mut h, path, f)?;
            }
            _ => {}
        }
    }
    tar.finish()?;
    Ok(())
}
