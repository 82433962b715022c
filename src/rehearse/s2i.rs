//! A Source-strategy BuildConfig, as OpenShift builds it (`s2i build --as-dockerfile`
//! semantics): the committed tree at `contextDir`, less what its `.s2iignore` names, goes to
//! `<destination>/src` of a container from the builder image (`io.openshift.s2i.destination`,
//! default `/tmp`), owned by the user that runs `assemble` — here an arbitrary UID of group 0, as
//! under `restricted-v2`, so a builder whose directories are not group-writable fails as it would
//! in a cluster that runs builds that way. `assemble` is the source's `.s2i/bin/assemble`, else
//! the builder's (`io.openshift.s2i.scripts-url`); the environment is the source's
//! `.s2i/environment` with `sourceStrategy.env` winning, as in s2i. The container is committed
//! with `CMD` the `run` script.
//!
//! The cluster's build downloads crates; the rehearsal's containers may not reach a registry, so
//! the committed workspace's crates are vendored on the host into the source tar (unless a
//! `vendor/` is committed), and it says so. With `incremental: true`, the image's
//! `save-artifacts` output is kept under `target/` and handed to the next rehearsal's `assemble`
//! (the rehearsal images themselves are removed).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};

use super::chain::Step;
use super::source::{SrcEntry, s2i_environment, source_entries, walk, write_source};
use super::{Rehearsal, UID};
use crate::Error;
use crate::engine::archive;
use crate::engine::client::{ContainerSpec, ImageConfig, ImageInfo, Output};
use crate::sink::Event;

const SCRIPTS_URL: &str = "io.openshift.s2i.scripts-url";
const DESTINATION: &str = "io.openshift.s2i.destination";

impl Rehearsal<'_, '_, '_> {
    /// Runs the S2I build of `step`; returns the untagged app image's ID.
    #[allow(clippy::too_many_lines)] // rewritten by issue 18 (one chain)
    pub(super) async fn source_step(&self, step: &Step<'_>, done: &[Step<'_>]) -> Result<String> {
        let bc = step.bc;
        let spec = &bc.spec;
        let strategy = spec
            .strategy
            .source_strategy
            .as_ref()
            .ok_or_else(|| anyhow!("no sourceStrategy"))?;
        let (builder_ref, builder) = self.image_for(done, &bc.name, &strategy.from).await?;
        let (scripts, destination) = s2i_labels(&builder_ref, &builder)?;
        let context_dir = spec
            .source
            .context_dir
            .as_deref()
            .unwrap_or("")
            .trim_matches('/');
        let root = self.tree.join(context_dir);
        if !root.is_dir() {
            return Err(Error::new(format!(
                "step `source`: its `contextDir` `{context_dir}` is not a directory of the \
                 committed tree"
            ))
            .note("commit and push it, or fix `contextDir`")
            .into());
        }
        let mut entries = source_entries(&root)?;
        self.add_vendored(&mut entries, context_dir)?;

        // As s2i: the BuildConfig's env wins over the source's `.s2i/environment`.
        let configured: Vec<(String, String)> = strategy
            .env
            .iter()
            .filter_map(|e| e.value.as_ref().map(|v| (e.name.clone(), v.clone())))
            .collect();
        let env: Vec<String> = s2i_environment(&root)
            .into_iter()
            .filter(|(k, _)| !configured.iter().any(|(c, _)| c == k))
            .chain(configured.clone())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let assemble = if root.join(".s2i/bin/assemble").is_file() {
            format!("{destination}/src/.s2i/bin/assemble")
        } else {
            format!("{scripts}/assemble")
        };
        let incremental = strategy.incremental.unwrap_or(false);
        let artifacts_file = self.cache.join(format!("{}.artifacts.tar", bc.name));
        let artifacts = (incremental && !self.no_cache)
            .then(|| std::fs::File::open(&artifacts_file).ok())
            .flatten();
        self.status(
            "Assembling",
            format!(
                "{} (BuildConfig `{}`, S2I with {builder_ref}, `{}` as {UID}:0{})",
                step.local,
                bc.name,
                if context_dir.is_empty() {
                    "."
                } else {
                    context_dir
                },
                if artifacts.is_some() {
                    ", incremental"
                } else {
                    ""
                }
            ),
        );
        let container = self
            .assemble_container(&builder, &env, &assemble, &destination, entries, artifacts)
            .await?;
        let mut output = Output::new(&bc.name);
        let code = self
            .docker
            .run(&container, &mut output, None, self.sink)
            .await?;
        if code != 0 {
            self.docker.remove_container(&container).await?;
            bail!(
                "step `assemble`: `{assemble}` exited with code {code}:\n{}",
                output.tail()
            );
        }
        let id = self
            .commit_app(step, &container, &builder_ref, &builder, &scripts)
            .await?;
        if incremental {
            self.save_artifacts(&id, &scripts, &artifacts_file).await;
        }
        Ok(id)
    }

    /// Commits the `assemble` container as the app image: `CMD` the `run` script, the builder's
    /// `USER`, `output.imageLabels` and the S2I labels.
    async fn commit_app(
        &self,
        step: &Step<'_>,
        container: &str,
        builder_ref: &str,
        builder: &ImageInfo,
        scripts: &str,
    ) -> Result<String> {
        let mut labels: HashMap<String, String> = step
            .bc
            .spec
            .output
            .image_labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        labels.insert(
            "io.openshift.s2i.build.image".into(),
            builder_ref.to_string(),
        );
        labels.insert(
            "io.openshift.s2i.build.commit.id".into(),
            self.committed.commit.clone(),
        );
        labels.extend(self.tool_label());
        let user = self.docker.image_user(&builder.id).await.ok().flatten();
        let config = ImageConfig {
            cmd: Some(vec![format!("{scripts}/run")]),
            user: Some(
                user.filter(|u| !u.is_empty())
                    .unwrap_or_else(|| UID.to_string()),
            ),
            labels: Some(labels),
            ..Default::default()
        };
        let comment = format!(
            "the rehearsal of the BuildConfig {} (xtask-s2i)",
            step.bc.name
        );
        Ok(self
            .docker
            .commit(
                container,
                config,
                &[],
                &comment,
                &format!("`{}`", step.local),
            )
            .await?)
    }

    /// Adds the vendored crates of the committed workspace (when it is inside the source and has
    /// no committed `vendor/`), and says so.
    #[allow(clippy::too_many_lines)] // rewritten by issue 18 (one chain)
    fn add_vendored(&self, entries: &mut Vec<SrcEntry>, context_dir: &str) -> Result<()> {
        let ws_rel = self.workspace_rel;
        let Ok(ws_sub) = ws_rel.strip_prefix(context_dir) else {
            self.sink.event(Event::warning(format!(
                "the Cargo workspace `{}` is outside the `contextDir` `{context_dir}`: the build cannot see it",
                ws_rel.display()
            )));
            return Ok(());
        };
        let ws = self.tree.join(ws_rel);
        if !ws.join("Cargo.toml").is_file() {
            return Ok(());
        }
        let prefix = |p: &str| match ws_sub.to_string_lossy().as_ref() {
            "" => p.to_string(),
            s => format!("{s}/{p}"),
        };
        if ws.join("vendor").is_dir() {
            self.status(
                "Vendored",
                format!("crates: `{}` is committed; using it", prefix("vendor")),
            );
            return Ok(());
        }
        // Blocks the (single-threaded) runtime while cargo runs: nothing else is under way.
        let vendored = crate::source::vendor_committed(
            &ws,
            &self.cache.join("vendor"),
            self.package,
            self.features,
            self.no_default_features,
            self.sink,
        );
        let Some(v) = vendored.context("step `vendor`")? else {
            return Ok(());
        };
        let config_path = prefix(".cargo/config.toml");
        entries.retain(|e| e.path != config_path);
        let mut vendor = vec![SrcEntry {
            path: prefix("vendor"),
            abs: None,
            bytes: None,
            mode: 0o775,
            kind: tar::EntryType::Directory,
        }];
        walk(&v.dir, &prefix("vendor"), &mut vendor, &|_, _| false)?;
        self.status(
            "Vendored",
            format!(
                "{} crates on the host into the source's `{}`: the rehearsal's containers may not reach a registry (the cluster's build downloads them unless `vendor/` is committed)",
                std::fs::read_dir(&v.dir).map(|d| d.count()).unwrap_or(0),
                prefix("vendor")
            ),
        );
        entries.extend(vendor);
        entries.push(SrcEntry {
            path: config_path,
            abs: None,
            bytes: Some(v.config.into_bytes()),
            mode: 0o644,
            kind: tar::EntryType::Regular,
        });
        Ok(())
    }

    /// A created `assemble` container with the source (and the saved artifacts, when they can be
    /// handed over; a failed upload starts over without them).
    async fn assemble_container(
        &self,
        builder: &ImageInfo,
        env: &[String],
        assemble: &str,
        destination: &str,
        entries: Vec<SrcEntry>,
        mut artifacts: Option<std::fs::File>,
    ) -> Result<String> {
        let entries = std::sync::Arc::new(entries);
        loop {
            let container = self
                .docker
                .create_container(ContainerSpec {
                    image: builder.id.clone(),
                    user: Some(format!("{UID}:0")),
                    env: Some(env.to_vec()),
                    cmd: Some(vec![assemble.to_string()]),
                    labels: self.tool_label(),
                    attach: true,
                    ..Default::default()
                })
                .await?;
            let list = entries.clone();
            let (body, written) =
                archive::stream_from_writer(self.scope, move |out| write_source(out, &list));
            let uploaded = self.docker.upload(&container, destination, body).await;
            written
                .await
                .unwrap_or_else(|_| Err(anyhow!("the writer stopped")))
                .context("failed to write the source tar")?;
            uploaded.with_context(|| {
                format!("step `source`: failed to copy the source to `{destination}/src`")
            })?;
            let Some(mut file) = artifacts.take() else {
                return Ok(container);
            };
            let (body, written) = archive::stream_from_writer(self.scope, move |out| {
                std::io::copy(&mut file, out)?;
                Ok(())
            });
            let uploaded = self
                .docker
                .upload(&container, &format!("{destination}/artifacts"), body)
                .await;
            let written = written
                .await
                .unwrap_or_else(|_| Err(anyhow!("the writer stopped")));
            match written.and(uploaded.map_err(anyhow::Error::from)) {
                Ok(()) => return Ok(container),
                Err(e) => {
                    self.sink.event(Event::warning(format!(
                        "could not hand the saved artifacts to `assemble` ({e:#}); building from scratch"
                    )));
                    self.docker.remove_container(&container).await?;
                }
            }
        }
    }

    /// Keeps the new image's `save-artifacts` output for the next rehearsal; a failure is a warning.
    async fn save_artifacts(&self, image: &str, scripts: &str, file: &Path) {
        if let Err(e) = self.try_save_artifacts(image, scripts, file).await {
            let _ = std::fs::remove_file(file);
            self.sink.event(Event::warning(format!(
                "`{scripts}/save-artifacts` failed, so the next rehearsal builds from scratch: {e:#}"
            )));
        }
    }

    async fn try_save_artifacts(&self, image: &str, scripts: &str, file: &Path) -> Result<()> {
        std::fs::create_dir_all(&self.cache)
            .with_context(|| format!("failed to create `{}`", self.cache.display()))?;
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let mut out = std::fs::File::create(&tmp)
            .with_context(|| format!("failed to create `{}`", tmp.display()))?;
        let container = self
            .docker
            .create_container(ContainerSpec {
                image: image.to_string(),
                user: Some(format!("{UID}:0")),
                cmd: Some(vec![format!("{scripts}/save-artifacts")]),
                labels: self.tool_label(),
                attach: true,
                ..Default::default()
            })
            .await?;
        let mut output = Output::new("save-artifacts");
        let code = {
            let mut write = |chunk: &[u8]| -> Result<()> {
                out.write_all(chunk)
                    .context("failed to write the artifacts")
            };
            self.docker
                .run(&container, &mut output, Some(&mut write), self.sink)
                .await
        };
        self.docker.remove_container(&container).await?;
        let code = code?;
        if code != 0 {
            let _ = std::fs::remove_file(&tmp);
            bail!("it exited with code {code}:\n{}", output.tail());
        }
        std::fs::rename(&tmp, file).with_context(|| format!("failed to write `{}`", file.display()))
    }
}

/// Where the builder image keeps its S2I scripts (`io.openshift.s2i.scripts-url`, `image://`
/// only) and where the source goes (`io.openshift.s2i.destination`, default `/tmp`).
fn s2i_labels(reference: &str, builder: &ImageInfo) -> Result<(String, String)> {
    let scripts = builder
        .label(SCRIPTS_URL)
        .and_then(|u| u.strip_prefix("image://"))
        .ok_or_else(|| {
            anyhow!(
                "step `builder image`: `{reference}` has no `{SCRIPTS_URL}=image://...` label, so S2I cannot find `assemble`"
            )
        })?;
    let destination = builder.label(DESTINATION).unwrap_or("/tmp");
    Ok((
        scripts.trim_end_matches('/').to_string(),
        destination.trim_end_matches('/').to_string(),
    ))
}
