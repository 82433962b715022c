//! `source.images[].paths` of a BuildConfig: each `sourcePath` read out of an image (through a
//! created, never-started container) and put under `destinationDir` of the build context, as the
//! build controller does; and the build context tar itself.
//!
//! A `sourcePath` names a file or a directory (the directory itself lands in `destinationDir`);
//! one ending in `/.` copies the directory's contents.

use super::Rehearsal;
use super::manifests::ImagePath;
use crate::Error;
use crate::engine::client::ContainerSpec;
use anyhow::{Context as _, Result, bail};

/// A file, a directory or a symbolic link of a build context.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub data: Vec<u8>,
    pub mode: u32,
    /// The target of a symbolic link.
    pub link: Option<String>,
    /// A directory (kept, with its mode, even when empty: the runtime files' `tmp/`).
    pub dir: bool,
}

impl Entry {
    pub fn file(path: &str, data: Vec<u8>, mode: u32) -> Entry {
        Entry {
            path: path.to_string(),
            data,
            mode,
            link: None,
            dir: false,
        }
    }

    pub fn dir(path: &str, mode: u32) -> Entry {
        Entry {
            path: path.to_string(),
            data: Vec::new(),
            mode,
            link: None,
            dir: true,
        }
    }

    pub fn link(path: &str, target: &str) -> Entry {
        Entry {
            path: path.to_string(),
            data: Vec::new(),
            mode: 0o777,
            link: Some(target.to_string()),
            dir: false,
        }
    }
}

/// 0755 for an executable, else 0644 (what git records).
#[cfg(unix)]
pub fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o111 != 0 {
        0o755
    } else {
        0o644
    }
}

#[cfg(not(unix))]
pub fn mode_of(_: &std::fs::Metadata) -> u32 {
    0o644
}

/// A build context: the entries in order, owned by root, mtime 0.
pub fn tar(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(e.mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        match &e.link {
            Some(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                tar.append_link(&mut h, &e.path, target)
            }
            None if e.dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                tar.append_data(&mut h, format!("{}/", e.path), std::io::empty())
            }
            None => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(e.data.len() as u64);
                tar.append_data(&mut h, &e.path, e.data.as_slice())
            }
        }
        .with_context(|| format!("failed to add `{}` to the build context", e.path))?;
    }
    tar.into_inner()
        .context("failed to finish the build context")
}

/// `destinationDir` as a context path prefix: `.`, `./`, `` -> ``; `bin/` -> `bin`.
fn destination(dir: &str) -> Result<String> {
    let mut parts = Vec::new();
    for p in dir.split('/') {
        match p {
            "" | "." => {}
            ".." => bail!("`destinationDir` `{dir}` leaves the build context"),
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

impl Rehearsal<'_, '_, '_> {
    /// The entries `path` copies from `image` into the build context.
    pub(super) async fn copy_path(&self, image: &str, path: &ImagePath) -> Result<Vec<Entry>> {
        let dest = destination(&path.destination_dir)?;
        let source = path.source_path.as_str();
        if !source.starts_with('/') {
            bail!("its `sourcePath` `{source}` is not an absolute path");
        }
        let bytes = self.download(image, source).await?;
        let out = entries(&bytes, source.ends_with("/."), &dest)?;
        let what = if out.len() == 1 {
            format!("`{}`", out[0].path)
        } else {
            format!("{} files", out.len())
        };
        self.status(
            "Copied",
            format!("{source} from {image} to {what} of the build context"),
        );
        Ok(out)
    }

    /// The archive of `source` in `image`, read through a created, never-started container.
    async fn download(&self, image: &str, source: &str) -> Result<Vec<u8>> {
        let container = self
            .docker
            .create_container(ContainerSpec {
                image: image.to_string(),
                labels: self.tool_label(),
                cmd: Some(vec!["/".into()]),
                ..Default::default()
            })
            .await?;
        let bytes = self.docker.download(&container, source).await;
        self.docker.remove_container(&container).await?;
        match bytes {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.is_not_found() => Err(Error::new(format!(
                "its `sourcePath` `{source}` is not in the image `{image}`"
            ))
            .note(
                "it must be where the image's build installs the file (for the app image, the \
                 path `assemble` installs the binary at)",
            )
            .into()),
            Err(e) => Err(e).with_context(|| format!("failed to read `{source}` out of `{image}`")),
        }
    }
}

/// The entries of the archive of a `sourcePath` as they land under `dest` in the build
/// context: the path itself, or its contents only for a `sourcePath` ending in `/.`.
fn entries(bytes: &[u8], contents_only: bool, dest: &str) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(bytes);
    for entry in archive
        .entries()
        .context("failed to read the archive of the image's files")?
    {
        let mut entry = entry.context("failed to read the archive of the image's files")?;
        let name = entry.path()?.to_string_lossy().into_owned();
        // The archive's paths start with the base name of `sourcePath`.
        let rel = if contents_only {
            match name.split_once('/') {
                Some((_, rest)) => rest.to_string(),
                None => continue,
            }
        } else {
            name
        };
        let rel = rel.trim_end_matches('/');
        if rel.is_empty() {
            continue;
        }
        let at = if dest.is_empty() {
            rel.to_string()
        } else {
            format!("{dest}/{rel}")
        };
        let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut data = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut data)?;
                out.push(Entry::file(&at, data, mode));
            }
            tar::EntryType::Symlink => {
                let target = entry.link_name()?.map(|l| l.to_string_lossy().into_owned());
                out.push(Entry::link(&at, &target.unwrap_or_default()));
            }
            tar::EntryType::Directory => out.push(Entry::dir(&at, mode)),
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_dirs() {
        assert_eq!(destination(".").unwrap(), "");
        assert_eq!(destination("./bin/").unwrap(), "bin");
        assert!(destination("../x").is_err());
    }

    /// A `sourcePath` ending in `/.` copies the directory's contents, keeping modes and empty
    /// directories; otherwise the directory itself lands under `destinationDir`.
    #[test]
    fn archive_entries_land_under_the_destination() {
        let mut b = tar::Builder::new(Vec::new());
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o1777);
        dir.set_size(0);
        b.append_data(&mut dir.clone(), "runtime/", std::io::empty())
            .unwrap();
        b.append_data(&mut dir, "runtime/tmp/", std::io::empty())
            .unwrap();
        let mut file = tar::Header::new_gnu();
        file.set_mode(0o644);
        file.set_size(2);
        b.append_data(&mut file, "runtime/passwd", &b"x\n"[..])
            .unwrap();
        let bytes = b.into_inner().unwrap();
        let paths = |contents_only, dest| -> Vec<(String, u32)> {
            entries(&bytes, contents_only, dest)
                .unwrap()
                .into_iter()
                .map(|e| (e.path, e.mode))
                .collect()
        };
        assert_eq!(
            paths(true, ""),
            [("tmp".to_string(), 0o1777), ("passwd".to_string(), 0o644)]
        );
        assert_eq!(
            paths(false, "ctx"),
            [
                ("ctx/runtime".to_string(), 0o1777),
                ("ctx/runtime/tmp".to_string(), 0o1777),
                ("ctx/runtime/passwd".to_string(), 0o644)
            ]
        );
    }
}
