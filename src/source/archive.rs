//! The deterministic source tar: entries sorted by path, every parent directory present before
//! its contents, owned by the builder's `uid`:`gid`, directories `0775`, files `0664` or `0775`
//! (executable bit kept), real modification times (cargo's incremental rebuild compares them).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use tar::{EntryType, Header};

/// What an entry holds.
#[derive(Debug, Clone)]
pub enum Data {
    /// A file copied from disk.
    File(PathBuf),
    /// Generated contents (a resolved lock, the merged cargo config).
    Bytes(Vec<u8>),
    Symlink(PathBuf),
    Dir,
}

/// One entry of the tar.
#[derive(Debug, Clone)]
pub struct TarEntry {
    pub path: String,
    pub data: Data,
    pub exec: bool,
    pub mtime: u64,
}

/// Writes `entries` (any order, no duplicates) as a tar to `out`. Missing parent directories
/// are added with `dir_mtime`.
pub fn write(
    out: &mut dyn Write,
    entries: Vec<TarEntry>,
    uid: u64,
    gid: u64,
    dir_mtime: u64,
) -> Result<()> {
    let mut all: BTreeMap<String, TarEntry> = BTreeMap::new();
    for e in entries {
        let mut parent = e.path.as_str();
        while let Some((p, _)) = parent.rsplit_once('/') {
            all.entry(p.to_string()).or_insert_with(|| TarEntry {
                path: p.to_string(),
                data: Data::Dir,
                exec: true,
                mtime: dir_mtime,
            });
            parent = p;
        }
        all.insert(e.path.clone(), e);
    }

    let mut tar = tar::Builder::new(out);
    for e in all.into_values() {
        let mut h = Header::new_gnu();
        h.set_uid(uid);
        h.set_gid(gid);
        h.set_mtime(e.mtime);
        let failed = || format!("failed to write `{}` into the source tar", e.path);
        match &e.data {
            Data::Dir => {
                h.set_entry_type(EntryType::Directory);
                h.set_mode(0o775);
                h.set_size(0);
                tar.append_data(&mut h, format!("{}/", e.path), std::io::empty())
                    .with_context(failed)?;
            }
            Data::Symlink(target) => {
                h.set_entry_type(EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                tar.append_link(&mut h, &e.path, target)
                    .with_context(failed)?;
            }
            Data::File(_) | Data::Bytes(_) => {
                // Read whole so the header's size is the size written, even if the file changes.
                let bytes = match &e.data {
                    Data::File(src) => std::fs::read(src)
                        .with_context(|| format!("failed to read `{}`", src.display()))?,
                    Data::Bytes(b) => b.clone(),
                    _ => Vec::new(),
                };
                h.set_entry_type(EntryType::Regular);
                h.set_mode(if e.exec { 0o775 } else { 0o664 });
                h.set_size(bytes.len() as u64);
                tar.append_data(&mut h, &e.path, bytes.as_slice())
                    .with_context(failed)?;
            }
        }
    }
    tar.into_inner()
        .context("failed to finish the source tar")?
        .flush()
        .context("failed to finish the source tar")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_with_parents_owners_and_modes() {
        let entries = vec![
            TarEntry {
                path: "src/main.rs".into(),
                data: Data::Bytes(b"fn main() {}\n".to_vec()),
                exec: false,
                mtime: 1_700_000_000,
            },
            TarEntry {
                path: "Cargo.toml".into(),
                data: Data::Bytes(b"[package]\n".to_vec()),
                exec: false,
                mtime: 1_700_000_001,
            },
            TarEntry {
                path: "bin/run".into(),
                data: Data::Bytes(b"#!/bin/sh\n".to_vec()),
                exec: true,
                mtime: 1_700_000_002,
            },
        ];
        let mut out = Vec::new();
        write(&mut out, entries.clone(), 1001, 0, 5).unwrap();
        let mut again = Vec::new();
        write(&mut again, entries.into_iter().rev().collect(), 1001, 0, 5).unwrap();
        assert_eq!(out, again, "the order of the input does not matter");

        let mut ar = tar::Archive::new(out.as_slice());
        let got: Vec<(String, u32, u64, u64, u64)> = ar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.gid().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("Cargo.toml".into(), 0o664, 1001, 0, 1_700_000_001),
                ("bin/".into(), 0o775, 1001, 0, 5),
                ("bin/run".into(), 0o775, 1001, 0, 1_700_000_002),
                ("src/".into(), 0o775, 1001, 0, 5),
                ("src/main.rs".into(), 0o664, 1001, 0, 1_700_000_000),
            ]
        );
    }
}
