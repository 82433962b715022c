//! The S2I contract of the app stage, as upstream `s2i` (v1.3.8) carries it out, so that
//! `cargo xtask image`, `s2i build` and OpenShift's source builds agree on one builder image.
//!
//! - Where things go comes from the built builder image, not from constants: the scripts from
//!   `io.openshift.s2i.scripts-url` (`image://DIR`), the upload from
//!   `io.openshift.s2i.destination` (default `/tmp`), the assemble user from
//!   `io.openshift.s2i.assemble-user`, else the image's `USER`.
//! - One tar reaches the container: `src/` (the source), `artifacts/` (the previous build's
//!   `save-artifacts` stream) and `scripts/` (the source's `.s2i/bin` overrides), owned by the
//!   assemble user and extracted into the destination, so nothing under it must exist in the image.
//! - The source's `.s2i/bin/{assemble,run,save-artifacts}` win over the image's scripts, and
//!   `.s2i/environment` (`NAME=value` lines, `#` comments) goes into `assemble`'s environment and
//!   the committed image, before the configured `env`. The overrides of `assemble` and
//!   `save-artifacts` are removed before the commit; a `run` override stays, as it is the `CMD`.
//! - A builder with an `ENTRYPOINT` runs the scripts with the entrypoint replaced by
//!   `/usr/bin/env`; the commit restores it.
//!
//! This module reads the contract and builds the upload; [`step`] runs the containers, for the
//! local chain's app stage and the rehearsal alike.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context as _, Result, anyhow};

use super::client::{Client, ImageInfo};
use crate::Error;
use crate::plan::{ASSEMBLE_USER_LABEL, DESTINATION, DESTINATION_LABEL, SCRIPTS_URL_LABEL};

pub(crate) mod labels;
pub(crate) mod step;

/// What upstream runs scripts with when the image has an `ENTRYPOINT`.
pub const ENV_ENTRYPOINT: &str = "/usr/bin/env";

/// The scripts a source may override in `.s2i/bin`.
pub const SCRIPTS: [&str; 3] = ["assemble", "run", "save-artifacts"];

/// The S2I settings of an image (the builder, or a previous app image, which inherits them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// Where the upload is extracted.
    pub destination: String,
    /// The directory of the image's scripts (`scripts-url` without `image://`).
    pub scripts_dir: String,
    /// The user that extracts the upload and runs `assemble`, numeric (`uid` or `uid:gid`).
    pub assemble_user: String,
    pub uid: u64,
    pub gid: u64,
    /// The image's `USER`: the user of the committed image.
    pub image_user: String,
    /// The image's `ENTRYPOINT`, restored on commit (empty: none).
    pub entrypoint: Vec<String>,
}

impl Contract {
    /// Reads the contract of `image` (`reference` names it in errors).
    pub async fn read(docker: &Client, image: &ImageInfo, reference: &str) -> Result<Contract> {
        let image_user = docker
            .image_user(&image.id)
            .await
            .with_context(|| format!("failed to inspect the builder image `{reference}`"))?
            .unwrap_or_default()
            .trim()
            .to_string();
        Contract::from_labels(image, image_user, reference)
    }

    fn from_labels(image: &ImageInfo, image_user: String, reference: &str) -> Result<Contract> {
        let scripts_url = image.label(SCRIPTS_URL_LABEL).ok_or_else(|| {
            Error::new(format!(
                "the builder image `{reference}` has no `{SCRIPTS_URL_LABEL}` label, so it is not \
                 an S2I builder"
            ))
            .note(
                "a builder template override in `.s2i/templates/` must keep the `LABEL` of the \
                 default template",
            )
        })?;
        let Some(scripts_dir) = scripts_url.strip_prefix("image://") else {
            return Err(Error::new(format!(
                "the builder image `{reference}` has `{SCRIPTS_URL_LABEL}={scripts_url}`: the local \
                 chain runs scripts from inside the image only"
            ))
            .note(
                "use `image:///DIR` with the scripts in DIR, or put overrides in the source's \
                 `.s2i/bin/`",
            )
            .into());
        };
        let destination = image
            .label(DESTINATION_LABEL)
            .filter(|d| !d.is_empty())
            .unwrap_or(DESTINATION)
            .trim_end_matches('/')
            .to_string();
        let assemble_user = image
            .label(ASSEMBLE_USER_LABEL)
            .filter(|u| !u.trim().is_empty())
            .map(|u| u.trim().to_string())
            .unwrap_or_else(|| image_user.clone());
        let (uid, gid) = numeric_user(&assemble_user).ok_or_else(|| {
            Error::new(format!(
                "the assemble user of the builder image `{reference}` is `{assemble_user}`, not a \
                 numeric UID"
            ))
            .note(format!(
                "set `{ASSEMBLE_USER_LABEL}` (or `USER`) to a number, as OpenShift requires; the \
                 default template uses `builder-user`"
            ))
        })?;
        Ok(Contract {
            destination: if destination.is_empty() {
                "/".into()
            } else {
                destination
            },
            scripts_dir: scripts_dir.trim_end_matches('/').to_string(),
            assemble_user,
            uid,
            gid,
            image_user,
            entrypoint: image.entrypoint.clone(),
        })
    }

    /// The path of `script` in the container: the source's override under
    /// `<destination>/scripts`, else the image's.
    pub fn script(&self, script: &str, overrides: &Overrides) -> String {
        if overrides.scripts.contains_key(script) {
            format!("{}/scripts/{script}", self.destination)
        } else {
            format!("{}/{script}", self.scripts_dir)
        }
    }

    /// The entrypoint a script container needs: `/usr/bin/env` when the image has one.
    pub fn script_entrypoint(&self) -> Option<Vec<String>> {
        (!self.entrypoint.is_empty()).then(|| vec![ENV_ENTRYPOINT.to_string()])
    }

    /// The command of the `assemble` container: the script, wrapped so that the `assemble` and
    /// `save-artifacts` overrides are removed afterwards (the `run` one is the image's `CMD`).
    pub fn assemble_command(&self, overrides: &Overrides) -> Vec<String> {
        let script = self.script("assemble", overrides);
        let removed: Vec<String> = ["assemble", "save-artifacts"]
            .into_iter()
            .filter(|s| overrides.scripts.contains_key(*s))
            .map(|s| shell_quote(&format!("{}/scripts/{s}", self.destination)))
            .collect();
        if removed.is_empty() {
            return vec![script];
        }
        vec![
            "/bin/sh".into(),
            "-c".into(),
            format!(
                "\"$0\"; status=$?; rm -f {}; rmdir {} 2>/dev/null; exit $status",
                removed.join(" "),
                shell_quote(&format!("{}/scripts", self.destination))
            ),
            script,
        ]
    }
}

/// `uid` or `uid:gid` as numbers (group 0 when not given, as OpenShift runs them).
fn numeric_user(user: &str) -> Option<(u64, u64)> {
    let (uid, gid) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let uid = uid.parse().ok()?;
    let gid = match gid {
        Some(g) => g.parse().ok()?,
        None => 0,
    };
    Some((uid, gid))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The source's `.s2i/bin` scripts and `.s2i/environment`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Script name to its contents.
    pub scripts: BTreeMap<&'static str, Vec<u8>>,
    /// `.s2i/environment`, in order.
    pub env: Vec<(String, String)>,
}

impl Overrides {
    /// Reads `<root>/.s2i/bin/*` and `<root>/.s2i/environment`.
    pub fn read(root: &Path) -> Result<Overrides> {
        let dir = root.join(".s2i");
        let mut overrides = Overrides::default();
        for name in SCRIPTS {
            let path = dir.join("bin").join(name);
            if path.is_file() {
                let contents = std::fs::read(&path)
                    .with_context(|| format!("failed to read `{}`", path.display()))?;
                overrides.scripts.insert(name, contents);
            }
        }
        let env = dir.join("environment");
        if env.is_file() {
            let text = std::fs::read_to_string(&env)
                .with_context(|| format!("failed to read `{}`", env.display()))?;
            overrides.env = parse_environment(&text);
        }
        Ok(overrides)
    }

    /// `NAME=value` of `.s2i/environment` then of `configured` (the BuildConfig's env), which
    /// wins as in s2i and OpenShift: a name it sets is left out of the file's lines, so no
    /// engine has to pick between two values.
    pub fn container_env(&self, configured: &BTreeMap<String, String>) -> Vec<String> {
        self.env
            .iter()
            .filter(|(k, _)| !configured.contains_key(k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(configured.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    /// A digest input: the overrides as JSON.
    pub fn describe(&self) -> serde_json::Value {
        use sha2::Digest as _;
        serde_json::json!({
            "scripts": self
                .scripts
                .iter()
                .map(|(k, v)| (k.to_string(), crate::plan::hex(&sha2::Sha256::digest(v))))
                .collect::<BTreeMap<_, _>>(),
            "env": self.env,
        })
    }
}

/// The lines of an S2I environment file as upstream reads them: `#` lines are comments, a line
/// without `=` or with an empty name is skipped, name and value are trimmed, nothing is unquoted.
pub fn parse_environment(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// Writes the upload: `scripts/` with the overrides, `src/` with the source tar written by
/// `source`, and `artifacts/` with the tar `artifacts` when there is one, every entry owned by
/// `uid`:`gid`, modes and modification times kept.
pub fn write_upload(
    out: &mut dyn Write,
    overrides: &Overrides,
    uid: u64,
    gid: u64,
    source: impl FnOnce(&mut dyn Write) -> Result<()> + Send,
    artifacts: Option<&mut dyn Read>,
) -> Result<()> {
    let mut tar = tar::Builder::new(out);
    let dir = |tar: &mut tar::Builder<&mut dyn Write>, path: &str| -> Result<()> {
        let mut h = header(tar::EntryType::Directory, 0o775, uid, gid);
        tar.append_data(&mut h, format!("{path}/"), std::io::empty())
            .with_context(|| format!("failed to add `{path}` to the upload"))
    };
    if !overrides.scripts.is_empty() {
        dir(&mut tar, "scripts")?;
        for (name, contents) in &overrides.scripts {
            let mut h = header(tar::EntryType::Regular, 0o775, uid, gid);
            h.set_size(contents.len() as u64);
            tar.append_data(&mut h, format!("scripts/{name}"), contents.as_slice())
                .with_context(|| format!("failed to add `.s2i/bin/{name}` to the upload"))?;
        }
    }
    dir(&mut tar, "src")?;
    std::thread::scope(|scope| -> Result<()> {
        let (reader, mut writer) = pipe();
        let producer = scope.spawn(move || {
            let result = source(&mut writer);
            writer.close(result.is_ok());
            result
        });
        let rebased = rebase(reader, "src", uid, gid, &mut tar);
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err(anyhow!("the source writer panicked")));
        produced?;
        rebased.context("failed to read the source tar")
    })?;
    if let Some(artifacts) = artifacts {
        dir(&mut tar, "artifacts")?;
        rebase(artifacts, "artifacts", uid, gid, &mut tar)
            .context("failed to read the previous build's artifacts")?;
    }
    tar.into_inner()
        .context("failed to finish the upload")?
        .flush()
        .context("failed to finish the upload")?;
    Ok(())
}

fn header(kind: tar::EntryType, mode: u32, uid: u64, gid: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(0);
    h.set_uid(uid);
    h.set_gid(gid);
    h.set_mtime(0);
    h
}

/// Appends every entry of the tar `input` under `prefix/`, owned by `uid`:`gid`; hard link
/// targets are moved under `prefix/` too. Other entry kinds than files, directories and links
/// are skipped.
fn rebase(
    input: impl Read,
    prefix: &str,
    uid: u64,
    gid: u64,
    tar: &mut tar::Builder<&mut dyn Write>,
) -> Result<()> {
    let mut archive = tar::Archive::new(input);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let rel = path.trim_start_matches("./").trim_start_matches('/');
        if rel.is_empty() || rel == "." {
            continue;
        }
        let new_path = format!("{prefix}/{rel}");
        let kind = entry.header().entry_type();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(entry.header().mode().unwrap_or(0o644));
        h.set_mtime(entry.header().mtime().unwrap_or(0));
        h.set_uid(uid);
        h.set_gid(gid);
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(entry.size());
                tar.append_data(&mut h, &new_path, &mut entry)?;
            }
            tar::EntryType::Directory => {
                h.set_size(0);
                tar.append_data(&mut h, format!("{new_path}/"), std::io::empty())?;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name()?
                    .ok_or_else(|| anyhow!("`{path}` is a link without a target"))?
                    .to_string_lossy()
                    .into_owned();
                let target = if kind == tar::EntryType::Link {
                    format!("{prefix}/{}", target.trim_start_matches("./"))
                } else {
                    target
                };
                h.set_size(0);
                tar.append_link(&mut h, &new_path, &target)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A pipe between two threads: chunks through a bounded channel.
fn pipe() -> (PipeReader, PipeWriter) {
    let (tx, rx) = std::sync::mpsc::sync_channel(8);
    (
        PipeReader {
            rx,
            buf: Vec::new(),
            pos: 0,
        },
        PipeWriter {
            tx: Some(tx),
            buf: Vec::with_capacity(CHUNK),
        },
    )
}

const CHUNK: usize = 256 * 1024;

/// `Ok(chunk)`, or `Err(())` when the writer failed (the reader then fails too).
type Chunk = std::result::Result<Vec<u8>, ()>;

struct PipeWriter {
    tx: Option<std::sync::mpsc::SyncSender<Chunk>>,
    buf: Vec<u8>,
}

impl PipeWriter {
    /// Ends the stream; when `ok` is false the reader sees an error instead of the end.
    fn close(mut self, ok: bool) {
        if ok {
            let _ = self.flush();
        } else if let Some(tx) = &self.tx {
            let _ = tx.send(Err(()));
        }
        self.tx = None;
    }
}

impl Write for PipeWriter {
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
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        match &self.tx {
            Some(tx) => tx.send(Ok(chunk)).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the upload stopped")
            }),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }
}

struct PipeReader {
    rx: std::sync::mpsc::Receiver<Chunk>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.buf.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.buf = chunk;
                    self.pos = 0;
                }
                Ok(Err(())) => return Err(std::io::Error::other("the source tar was cut short")),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(labels: &[(&str, &str)], entrypoint: &[&str]) -> ImageInfo {
        ImageInfo {
            id: "sha256:0".into(),
            size: 0,
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            references: 1,
            env: vec![],
            entrypoint: entrypoint.iter().map(|s| s.to_string()).collect(),
            shell: vec![],
            on_build: vec![],
        }
    }

    #[test]
    fn the_contract_comes_from_labels_then_the_image_user() {
        let c = Contract::from_labels(
            &image(
                &[
                    (SCRIPTS_URL_LABEL, "image:///usr/libexec/s2i"),
                    (DESTINATION_LABEL, "/opt/upload/"),
                    (ASSEMBLE_USER_LABEL, "1000680000"),
                ],
                &["/entry"],
            ),
            "1001".into(),
            "b:1",
        )
        .unwrap();
        assert_eq!(c.destination, "/opt/upload");
        assert_eq!(c.scripts_dir, "/usr/libexec/s2i");
        assert_eq!((c.uid, c.gid), (1_000_680_000, 0));
        assert_eq!(c.image_user, "1001");
        assert_eq!(
            c.script_entrypoint(),
            Some(vec![ENV_ENTRYPOINT.to_string()])
        );

        let c = Contract::from_labels(
            &image(&[(SCRIPTS_URL_LABEL, "image:///s2i")], &[]),
            "1001:5".into(),
            "b:1",
        )
        .unwrap();
        assert_eq!(c.destination, "/tmp");
        assert_eq!((c.uid, c.gid), (1001, 5));
        assert_eq!(c.script_entrypoint(), None);

        let err = Contract::from_labels(
            &image(&[(SCRIPTS_URL_LABEL, "image:///s2i")], &[]),
            "app".into(),
            "b:1",
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a numeric UID"), "{err}");
        let err = Contract::from_labels(&image(&[], &[]), "1".into(), "b:1").unwrap_err();
        assert!(err.to_string().contains("not an S2I builder"), "{err}");
    }

    #[test]
    fn overrides_choose_scripts_and_are_removed_after_assemble() {
        let c = Contract::from_labels(
            &image(&[(SCRIPTS_URL_LABEL, "image:///s2i")], &[]),
            "1001".into(),
            "b:1",
        )
        .unwrap();
        let none = Overrides::default();
        assert_eq!(c.assemble_command(&none), ["/s2i/assemble"]);
        assert_eq!(c.script("run", &none), "/s2i/run");
        let mut some = Overrides::default();
        some.scripts.insert("assemble", b"#!/bin/sh\n".to_vec());
        some.scripts.insert("run", b"#!/bin/sh\n".to_vec());
        assert_eq!(c.script("run", &some), "/tmp/scripts/run");
        let cmd = c.assemble_command(&some);
        assert_eq!(cmd[3], "/tmp/scripts/assemble");
        assert!(cmd[2].contains("rm -f '/tmp/scripts/assemble';"), "{cmd:?}");
    }

    #[test]
    fn environment_files_are_read_as_upstream_reads_them() {
        let env =
            parse_environment("# comment\nA=1\n\n B = two words \nno-equals\n=x\nC=\"q\"\nD=a=b\n");
        let want = [("A", "1"), ("B", "two words"), ("C", "\"q\""), ("D", "a=b")];
        assert_eq!(
            env,
            want.map(|(k, v)| (k.to_string(), v.to_string())).to_vec()
        );
    }

    /// What a `save-artifacts` stream holds: a file and a hard link to it.
    fn artifacts_tar() -> Vec<u8> {
        let mut artifacts = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        h.set_uid(1001);
        h.set_mtime(1_700_000_000);
        artifacts
            .append_data(&mut h, "target/release/deps/app-1", b"elf".as_slice())
            .unwrap();
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Link);
        l.set_size(0);
        artifacts
            .append_link(&mut l, "target/release/app", "target/release/deps/app-1")
            .unwrap();
        artifacts.into_inner().unwrap()
    }

    /// Each entry of a tar: its path, owner, mtime and link target.
    fn tar_listing(tar: &[u8]) -> Vec<(String, u64, u64, String)> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.uid().unwrap(),
                    h.mtime().unwrap(),
                    e.link_name()
                        .unwrap()
                        .map(|l| l.display().to_string())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn the_upload_holds_scripts_source_and_artifacts_owned_by_the_assemble_user() {
        let artifacts = artifacts_tar();

        let mut overrides = Overrides::default();
        overrides
            .scripts
            .insert("assemble", b"#!/bin/sh\n".to_vec());
        let mut out = Vec::new();
        write_upload(
            &mut out,
            &overrides,
            1_000_680_000,
            0,
            |w| {
                let mut src = tar::Builder::new(w);
                let mut h = tar::Header::new_gnu();
                h.set_size(5);
                h.set_mode(0o664);
                h.set_mtime(1_600_000_000);
                src.append_data(&mut h, "Cargo.toml", b"[pkg]".as_slice())?;
                src.finish()?;
                Ok(())
            },
            Some(&mut artifacts.as_slice()),
        )
        .unwrap();
        let got = tar_listing(&out);
        let uid = 1_000_680_000;
        assert_eq!(
            got,
            [
                ("scripts/".into(), uid, 0, String::new()),
                ("scripts/assemble".into(), uid, 0, String::new()),
                ("src/".into(), uid, 0, String::new()),
                ("src/Cargo.toml".into(), uid, 1_600_000_000, String::new()),
                ("artifacts/".into(), uid, 0, String::new()),
                (
                    "artifacts/target/release/deps/app-1".into(),
                    uid,
                    1_700_000_000,
                    String::new()
                ),
                (
                    "artifacts/target/release/app".into(),
                    uid,
                    0,
                    "artifacts/target/release/deps/app-1".into()
                ),
            ]
        );
    }

    #[test]
    fn a_failing_source_fails_the_upload() {
        let failed = write_upload(
            &mut Vec::new(),
            &Overrides::default(),
            1,
            0,
            |w| {
                w.write_all(&[0u8; 700])?;
                anyhow::bail!("the source vanished")
            },
            None,
        )
        .unwrap_err();
        assert!(format!("{failed:#}").contains("vanished"), "{failed:#}");
    }
}
