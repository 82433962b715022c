//! Tar streams: deterministic build contexts made from in-memory files, request bodies fed by a
//! writer on another thread (the source tree, the build artifacts), and reading one file out of
//! the archive the engine returns.

use std::io::{Read, Write};

use sha2::Digest as _;

use crate::Error;
use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

/// A build context: every file with its mode, owned by root, mtime 0, in path order, with the
/// parent directories, so the same files always give the same bytes.
pub fn context_tar<'a>(
    files: impl IntoIterator<Item = (&'a str, &'a [u8], u32)>,
) -> Result<Vec<u8>> {
    let mut files: Vec<_> = files.into_iter().collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    let mut dirs = std::collections::BTreeSet::new();
    for (path, _, _) in &files {
        let mut p = std::path::Path::new(path).parent();
        while let Some(d) = p.filter(|d| !d.as_os_str().is_empty()) {
            dirs.insert(d.to_string_lossy().into_owned());
            p = d.parent();
        }
    }
    let mut tar = tar::Builder::new(Vec::new());
    for dir in &dirs {
        let mut header = header(tar::EntryType::Directory, 0o755, 0);
        tar.append_data(&mut header, format!("{dir}/"), std::io::empty())
            .with_context(|| format!("failed to add `{dir}` to a build context"))?;
    }
    for (path, contents, mode) in files {
        let mut header = header(tar::EntryType::Regular, mode, contents.len() as u64);
        tar.append_data(&mut header, path, contents)
            .with_context(|| format!("failed to add `{path}` to a build context"))?;
    }
    tar.into_inner()
        .context("failed to finish a build context tar")
}

/// One entry of [`items_tar`]: a file with its contents, or a directory (`contents: None`).
pub struct Item<'a> {
    pub path: &'a str,
    pub contents: Option<&'a [u8]>,
    pub mode: u32,
}

/// A tar of exactly these entries, in this order, owned by root, mtime 0: unlike
/// [`context_tar`], no parent directory gets an entry it was not given.
pub fn items_tar<'a>(items: impl IntoIterator<Item = Item<'a>>) -> Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    for item in items {
        match item.contents {
            Some(contents) => {
                let mut h = header(tar::EntryType::Regular, item.mode, contents.len() as u64);
                tar.append_data(&mut h, item.path, contents)
            }
            None => {
                let mut h = header(tar::EntryType::Directory, item.mode, 0);
                tar.append_data(&mut h, format!("{}/", item.path), std::io::empty())
            }
        }
        .with_context(|| format!("failed to add `{}` to a tar", item.path))?;
    }
    tar.into_inner().context("failed to finish a tar")
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

/// A request body produced by `write` on a thread of `scope`; the returned receiver yields the
/// writer's result once it is done. If `write` fails, the body ends with an I/O error so the
/// engine never sees a truncated tar as complete.
pub fn stream_from_writer<'scope, 'env, F>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    write: F,
) -> (
    impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    oneshot::Receiver<Result<()>>,
)
where
    F: FnOnce(&mut dyn Write) -> Result<()> + Send + 'scope,
{
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(8);
    let (done_tx, done_rx) = oneshot::channel();
    scope.spawn(move || {
        let mut writer = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let result = write(&mut writer).and_then(|()| writer.flush().map_err(Into::into));
        if let Err(e) = &result {
            let _ = tx.blocking_send(Err(std::io::Error::other(format!("{e:#}"))));
        }
        drop(writer);
        drop(tx);
        let _ = done_tx.send(result);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    (stream, done_rx)
}

const CHUNK: usize = 256 * 1024;

/// A `Write` that sends chunks to the async side; fails once the receiver is gone (the request
/// was cancelled), which stops the writer.
struct ChannelWriter {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "the Docker engine stopped reading the archive",
            )
        })
    }
}

/// One tar of the entries of several: from each `(tar, from, to)`, the entries whose path starts
/// with `from` (the entry `from` itself left out), moved under `to`, owned by root with mtime 0
/// as in a build context whoever owned them in the image; links keep their targets, hard links
/// are moved alike.
pub(crate) fn concat(parts: &[(&[u8], &str, &str)]) -> Result<Vec<u8>> {
    let mut out = tar::Builder::new(Vec::new());
    for (bytes, from, to) in parts {
        let mut archive = tar::Archive::new(*bytes);
        for entry in archive.entries().context("failed to read a tar")? {
            let mut entry = entry.context("failed to read a tar")?;
            let path = entry.path().context("a tar entry has no path")?;
            let path = path.to_string_lossy().into_owned();
            let Some(rest) = path
                .strip_prefix(from)
                .filter(|r| !r.is_empty() && *r != "/")
            else {
                continue;
            };
            let mut header = entry.header().clone();
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(0);
            // The permission bits alone: Podman's archive endpoint writes the file type bits
            // into the mode too (`40755`), which Docker's does not and an image should not carry.
            if let Ok(mode) = header.mode() {
                header.set_mode(mode & 0o7777);
            }
            let kind = header.entry_type();
            // A directory's name ends in `/` whichever engine's archive endpoint gave it (Podman's
            // does, Docker's does not), so both engines' runtime layers list the same names.
            let slash = if kind == tar::EntryType::Directory && !rest.ends_with('/') {
                "/"
            } else {
                ""
            };
            let moved = format!("{to}{rest}{slash}");
            if kind == tar::EntryType::Link {
                let target = entry.link_name()?.map(|l| l.to_string_lossy().into_owned());
                let target = target.unwrap_or_default();
                let target = format!("{to}{}", target.strip_prefix(from).unwrap_or(&target));
                out.append_link(&mut header, &moved, &target)?;
            } else if kind == tar::EntryType::Symlink {
                let target = entry
                    .link_name()?
                    .map(|l| l.into_owned())
                    .unwrap_or_default();
                out.append_link(&mut header, &moved, target)?;
            } else {
                let mut data = Vec::new();
                entry.read_to_end(&mut data)?;
                out.append_data(&mut header, &moved, data.as_slice())?;
            }
        }
    }
    out.into_inner().context("failed to finish a tar")
}

/// The contents of the single regular file in a tar (what the archive endpoint returns for the
/// path of a file).
/// sha256 over what a tar holds, not when: each entry's path, type, mode (permission bits) and
/// contents, in order. The runtime files `assemble` writes on every build hash the same.
pub(crate) fn content_digest(tar_bytes: &[u8]) -> Result<String> {
    let mut h = sha2::Sha256::new();
    for entry in tar::Archive::new(tar_bytes).entries()? {
        let mut entry = entry?;
        let header = entry.header();
        let (kind, mode) = (header.entry_type().as_byte(), header.mode()? & 0o7777);
        let link = header.link_name_bytes().map(|l| l.into_owned());
        let path = entry.path_bytes().into_owned();
        let mut body = Vec::new();
        entry.read_to_end(&mut body)?;
        h.update((path.len() as u64).to_le_bytes());
        h.update(&path);
        h.update([kind]);
        h.update(mode.to_le_bytes());
        h.update(link.unwrap_or_default());
        h.update([0]);
        h.update((body.len() as u64).to_le_bytes());
        h.update(&body);
    }
    Ok(crate::plan::hex(&sha2::Digest::finalize(h)))
}

pub fn single_file(tar_bytes: &[u8], what: &str) -> Result<Vec<u8>> {
    let mut archive = tar::Archive::new(tar_bytes);
    for entry in archive
        .entries()
        .with_context(|| format!("failed to read the archive of {what}"))?
    {
        let mut entry = entry.with_context(|| format!("failed to read the archive of {what}"))?;
        match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut data = Vec::with_capacity(entry.size() as usize);
                entry
                    .read_to_end(&mut data)
                    .with_context(|| format!("failed to read {what} from its archive"))?;
                return Ok(data);
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|l| l.display().to_string())
                    .unwrap_or_default();
                return Err(
                    Error::new(format!("{what} is a link to `{target}`, not a file"))
                        .note("`assemble` must copy the binary itself to that path")
                        .into(),
                );
            }
            tar::EntryType::Directory => {
                bail!("{what} is a directory, not a file")
            }
            _ => continue,
        }
    }
    bail!("the archive of {what} holds no file")
}

/// Checks that `file` is a complete tar stream; returns how many entries it has.
pub fn validate(file: &mut std::fs::File) -> Result<usize> {
    use std::io::Seek;
    file.rewind()?;
    let mut archive = tar::Archive::new(&mut *file);
    let mut count = 0;
    for entry in archive.entries()? {
        let mut entry = entry?;
        // Reading the data catches a stream cut short in the middle of a file.
        std::io::copy(&mut entry, &mut std::io::sink())?;
        count += 1;
    }
    let len = file.metadata()?.len();
    if count == 0 && len > 0 && len < 1024 {
        // `tar` accepts a short stream of zeros as an empty archive; a real one is 10 KiB of
        // blocks, or at least the two zero blocks.
        let mut head = Vec::new();
        file.rewind()?;
        file.read_to_end(&mut head)?;
        if head.iter().any(|b| *b != 0) {
            bail!("{len} bytes that are not a tar archive");
        }
    }
    file.rewind()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concat_moves_a_directory_and_gives_it_to_root() {
        // What the archive endpoint returns for `/opt/app-root/runtime`: the directory's name
        // first, owned by the builder's user.
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, mode) in [
            ("runtime/", tar::EntryType::Directory, 0o755),
            ("runtime/tmp/", tar::EntryType::Directory, 0o1777),
            ("runtime/etc/passwd", tar::EntryType::Regular, 0o644),
        ] {
            let mut h = header(kind, mode, if kind.is_file() { 4 } else { 0 });
            h.set_uid(1001);
            let data: &[u8] = if kind.is_file() { b"root" } else { b"" };
            b.append_data(&mut h, path, data).unwrap();
        }
        let mut h = header(tar::EntryType::Symlink, 0o777, 0);
        b.append_link(&mut h, "runtime/etc/localtime", "/usr/share/zoneinfo/UTC")
            .unwrap();
        let image = b.into_inner().unwrap();
        let binary = context_tar([("app", b"elf".as_slice(), 0o755)]).unwrap();
        let both = concat(&[(&image, "runtime/", ""), (&binary, "", "")]).unwrap();
        let entries: Vec<(String, u32, u64)> = tar::Archive::new(both.as_slice())
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                ("tmp/".to_string(), 0o1777, 0),
                ("etc/passwd".to_string(), 0o644, 0),
                ("etc/localtime".to_string(), 0o777, 0),
                ("app".to_string(), 0o755, 0),
            ]
        );
    }

    #[test]
    fn contexts_are_deterministic_and_keep_modes() {
        let a = context_tar([
            ("s2i/bin/run", b"#!/bin/sh\n".as_slice(), 0o755),
            ("Dockerfile", b"FROM scratch\n".as_slice(), 0o644),
        ])
        .unwrap();
        let b = context_tar([
            ("Dockerfile", b"FROM scratch\n".as_slice(), 0o644),
            ("s2i/bin/run", b"#!/bin/sh\n".as_slice(), 0o755),
        ])
        .unwrap();
        assert_eq!(a, b);
        let mut archive = tar::Archive::new(a.as_slice());
        let entries: Vec<(String, u32)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().mode().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [
                ("s2i/".to_string(), 0o755),
                ("s2i/bin/".to_string(), 0o755),
                ("Dockerfile".to_string(), 0o644),
                ("s2i/bin/run".to_string(), 0o755),
            ]
        );
    }

    #[test]
    fn single_file_reads_the_file() {
        let tar = context_tar([("app", b"\x7fELF".as_slice(), 0o755)]).unwrap();
        assert_eq!(single_file(&tar, "`app`").unwrap(), b"\x7fELF");
        let err = single_file(&context_tar([]).unwrap(), "`app`").unwrap_err();
        assert!(err.to_string().contains("holds no file"), "{err}");
    }

    #[test]
    fn validate_rejects_garbage_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar");
        let good = context_tar([("target/x", vec![7u8; 5000].as_slice(), 0o644)]).unwrap();
        std::fs::write(&path, &good).unwrap();
        let mut f = std::fs::File::open(&path).unwrap();
        assert_eq!(validate(&mut f).unwrap(), 2);

        std::fs::write(&path, b"this is not a tar stream\n").unwrap();
        let mut f = std::fs::File::open(&path).unwrap();
        assert!(validate(&mut f).is_err());

        std::fs::write(&path, &good[..3000]).unwrap();
        let mut f = std::fs::File::open(&path).unwrap();
        assert!(validate(&mut f).is_err());
    }

    #[test]
    fn writer_bodies_stream_in_order_and_report_errors() {
        use futures_util::TryStreamExt;
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        std::thread::scope(|scope| {
            let (body, done) = stream_from_writer(scope, |out| {
                for i in 0..1000u32 {
                    out.write_all(&i.to_le_bytes().repeat(100))?;
                }
                Ok(())
            });
            let chunks: Vec<Bytes> = rt.block_on(body.try_collect()).unwrap();
            let bytes = chunks.concat();
            assert_eq!(bytes.len(), 400_000);
            assert_eq!(&bytes[400..404], &1u32.to_le_bytes());
            assert!(rt.block_on(done).unwrap().is_ok());

            let (body, done) = stream_from_writer(scope, |out| {
                out.write_all(b"partial")?;
                anyhow::bail!("the source vanished")
            });
            let collected: std::io::Result<Vec<Bytes>> = rt.block_on(body.try_collect());
            assert!(collected.is_err());
            let err = rt.block_on(done).unwrap().unwrap_err();
            assert!(err.to_string().contains("vanished"));
        });
    }
}
