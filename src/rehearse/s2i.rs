//! A Source-strategy BuildConfig, as OpenShift builds it: the front-end that turns the committed
//! `sourceStrategy` (builder image, `env`, `incremental`) and `output.imageLabels` into the
//! engine's S2I step ([`crate::engine::s2i::step`]), the one the local chain's app stage runs —
//! so the assemble user (the builder's `io.openshift.s2i.assemble-user`, else its `USER`, as
//! build pods run it), the environment (`.s2i/environment` with `sourceStrategy.env` winning),
//! the source's `.s2i/bin` overrides, the `ENTRYPOINT` replacement and the commit (`CMD` the `run`
//! script, the builder's `USER`) are the local chain's. So are the image's labels
//! ([`labels`]): `output.imageLabels`, upstream's `io.openshift.s2i.build.*` from the committed
//! `git.uri`, `git.ref`, `contextDir` and the commit, and this tool's. The source is the committed
//! tree at `contextDir`, less what its `.s2iignore` names.
//!
//! The cluster's build downloads crates; the rehearsal's containers may not reach a registry, so
//! the committed workspace's crates are vendored on the host into the source tar (unless a
//! `vendor/` is committed), and it says so. With `incremental: true`, the image's
//! `save-artifacts` output is kept under `target/` and handed to the next rehearsal's `assemble`
//! (the rehearsal images themselves are removed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};

use super::Rehearsal;
use super::chain::Step;
use super::manifests::EnvVar;
use super::source::{SrcEntry, source_entries, walk, write_source};
use crate::Error;
use crate::engine::Revision;
use crate::engine::s2i;
use crate::engine::s2i::labels;
use crate::engine::s2i::step::{Built, S2iBuild};
use crate::okd::model::BuildConfigSpec;
use crate::sink::Event;

impl<'s> Rehearsal<'_, 's, '_> {
    /// Runs the S2I build of `step` with the engine's S2I step; returns the untagged app
    /// image's ID.
    pub(super) async fn source_step(&self, step: &Step<'_>, done: &[Step<'_>]) -> Result<String> {
        let build = self.s2i_build(step, done).await?;
        let (assemble, overrides) = (
            build.contract.script("assemble", &build.overrides),
            build.overrides.clone(),
        );
        let id = match self.runner().s2i(build).await? {
            Built::Image(id) => id,
            Built::Failed { code, output } => bail!(
                "step `assemble`: `{assemble}` exited with code {code}:\n{}",
                output.tail()
            ),
        };
        if let Some(file) = self.artifacts_file(step) {
            self.save_artifacts(&id, &step.local, &overrides, &file)
                .await;
        }
        Ok(id)
    }

    /// Where the `save-artifacts` output of an `incremental` BuildConfig is kept.
    fn artifacts_file(&self, step: &Step<'_>) -> Option<PathBuf> {
        let strategy = step.bc.spec.strategy.source_strategy.as_ref()?;
        strategy
            .incremental
            .unwrap_or(false)
            .then(|| self.cache.join(format!("{}.artifacts.tar", step.bc.name)))
    }

    /// The S2I step of the committed BuildConfig of `step`: its builder image, the committed
    /// source at `contextDir` (with vendored crates), its `env`, the saved artifacts when
    /// `incremental`, and its `output.imageLabels`.
    async fn s2i_build(&self, step: &Step<'_>, done: &[Step<'_>]) -> Result<S2iBuild<'s>> {
        let bc = step.bc;
        let strategy = bc
            .spec
            .strategy
            .source_strategy
            .as_ref()
            .ok_or_else(|| anyhow!("no sourceStrategy"))?;
        let (builder_ref, builder) = self.image_for(done, &bc.name, &strategy.from).await?;
        let contract = s2i::Contract::read(self.docker, &builder, &builder_ref)
            .await
            .context("step `builder image`")?;
        let context_dir = self.context_dir(step)?;
        let root = self.tree.join(context_dir);
        let mut entries = source_entries(&root)?;
        self.add_vendored(&mut entries, context_dir)?;
        let artifacts = (!self.no_cache)
            .then(|| self.artifacts_file(step))
            .flatten()
            .and_then(|f| std::fs::File::open(f).ok());
        let shown_dir = if context_dir.is_empty() {
            "."
        } else {
            context_dir
        };
        let incremental = if artifacts.is_some() {
            ", incremental"
        } else {
            ""
        };
        self.status(
            "Assembling",
            format!(
                "{} (BuildConfig `{}`, S2I with {builder_ref}, `{shown_dir}` as {}{incremental})",
                step.local, bc.name, contract.assemble_user,
            ),
        );
        let entries = Arc::new(entries);
        Ok(S2iBuild {
            builder,
            contract,
            // As s2i: `.s2i/bin` and `.s2i/environment` at the root of the source.
            overrides: s2i::Overrides::read(&root)?,
            // As s2i: the BuildConfig's env wins over the source's `.s2i/environment`.
            env: strategy_env(&strategy.env),
            source: Arc::new(move |w, uid, gid| write_source(w, &entries, uid, gid)),
            artifacts,
            labels: self.app_labels(step, &builder_ref)?,
            log: bc.name.clone(),
            comment: format!("the rehearsal of the BuildConfig {} (xtask-s2i)", bc.name),
            what: format!("`{}`", step.local),
        })
    }

    /// The committed `contextDir` of `step`, which must be a directory of the committed tree.
    fn context_dir<'b>(&self, step: &'b Step<'_>) -> Result<&'b str> {
        let context_dir = step
            .bc
            .spec
            .source
            .context_dir
            .as_deref()
            .unwrap_or("")
            .trim_matches('/');
        if !self.tree.join(context_dir).is_dir() {
            return Err(Error::new(format!(
                "step `source`: its `contextDir` `{context_dir}` is not a directory of the \
                 committed tree"
            ))
            .note("commit and push it, or fix `contextDir`")
            .into());
        }
        Ok(context_dir)
    }

    /// The labels of the app image: the engine's ([`labels`]) from the committed BuildConfig
    /// and the commit it clones.
    fn app_labels(&self, step: &Step<'_>, builder_ref: &str) -> Result<BTreeMap<String, String>> {
        // Without a `git.ref` the cluster clones the remote's default branch.
        let branch = self.committed.from.trim_start_matches("origin/");
        let revision = self.committed.revision(branch)?;
        Ok(app_labels(
            &step.bc.spec,
            builder_ref,
            revision,
            self.package,
        ))
    }

    /// Adds the vendored crates of the committed workspace (when it is inside the source and has
    /// no committed `vendor/`), and says so.
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
        let vendor_dir = prefix("vendor");
        self.status(
            "Vendored",
            format!(
                "{} crates on the host into the source's `{vendor_dir}`: the rehearsal's containers may not reach a registry (the cluster's build downloads them unless `vendor/` is committed)",
                std::fs::read_dir(&v.dir).map(|d| d.count()).unwrap_or(0),
            ),
        );
        add_vendor_entries(entries, &v, &vendor_dir, &prefix(".cargo/config.toml"))
    }

    /// Keeps the new image's `save-artifacts` output for the next rehearsal (the rehearsal
    /// images are removed); a failure is a warning.
    async fn save_artifacts(&self, id: &str, local: &str, overrides: &s2i::Overrides, file: &Path) {
        if let Err(e) = self.try_save_artifacts(id, local, overrides, file).await {
            let _ = std::fs::remove_file(file);
            self.sink.event(Event::warning(format!(
                "`save-artifacts` of `{local}` failed, so the next rehearsal builds from \
                 scratch: {e:#}"
            )));
        }
    }

    async fn try_save_artifacts(
        &self,
        id: &str,
        local: &str,
        overrides: &s2i::Overrides,
        file: &Path,
    ) -> Result<()> {
        std::fs::create_dir_all(&self.cache)
            .with_context(|| format!("failed to create `{}`", self.cache.display()))?;
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let out = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .with_context(|| format!("failed to create `{}`", tmp.display()))?;
        let image = self.docker.existing_image(id).await?;
        let saved = self
            .runner()
            .save_artifacts(&image, local, overrides, out)
            .await;
        match saved {
            Ok(Some(_)) => std::fs::rename(&tmp, file)
                .with_context(|| format!("failed to write `{}`", file.display())),
            Ok(None) => {
                let _ = std::fs::remove_file(&tmp);
                let _ = std::fs::remove_file(file);
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }
}

/// The labels of the app image the Source-strategy BuildConfig `bc` builds with `builder_ref`
/// from the commit `revision` (its ref replaced by `bc`'s `git.ref` when set): the local chain's
/// builder given `bc`'s `output.imageLabels`, `git.uri` and `contextDir`.
fn app_labels(
    bc: &BuildConfigSpec,
    builder_ref: &str,
    mut revision: Revision,
    package: &str,
) -> BTreeMap<String, String> {
    let git = bc.source.git.as_ref();
    if let Some(r) = git.and_then(|g| g.ref_.clone()) {
        revision.reference = r;
    }
    labels::labels(&labels::Inputs {
        image_labels: bc
            .output
            .image_labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect(),
        builder: builder_ref,
        location: git.map_or("", |g| g.uri.as_str()),
        context_dir: bc.source.context_dir.as_deref().unwrap_or(""),
        revision: Some(&revision),
        package,
    })
}

/// `sourceStrategy.env` with values (`valueFrom` needs the cluster's objects).
fn strategy_env(env: &[EnvVar]) -> BTreeMap<String, String> {
    env.iter()
        .filter_map(|e| e.value.as_ref().map(|v| (e.name.clone(), v.clone())))
        .collect()
}

/// The vendored crates `v` as the source's `vendor_dir`, and its cargo configuration as
/// `config_path` (in place of a committed one).
fn add_vendor_entries(
    entries: &mut Vec<SrcEntry>,
    v: &crate::source::VendoredTree,
    vendor_dir: &str,
    config_path: &str,
) -> Result<()> {
    entries.retain(|e| e.path != config_path);
    entries.push(SrcEntry {
        path: vendor_dir.to_string(),
        abs: None,
        bytes: None,
        mode: 0o775,
        kind: tar::EntryType::Directory,
    });
    walk(&v.dir, vendor_dir, entries, &|_, _| false)?;
    entries.push(SrcEntry {
        path: config_path.to_string(),
        abs: None,
        bytes: Some(v.config.clone().into_bytes()),
        mode: 0o644,
        kind: tar::EntryType::Regular,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::plan::{Plan, Stage};

    /// The committed example's app BuildConfig (its YAML, as the rehearsal reads it) gives the
    /// labels the local chain gives the app image of the example's Plan, for the same commit and
    /// builder: every key, every value.
    #[test]
    fn the_rehearsal_labels_the_app_image_as_the_local_chain_does() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let example = root.join("examples/hello-world/Cargo.toml");
        let metadata = crate::config::read_metadata(Some(&example)).unwrap();
        let plan = Plan::for_workspace(&metadata, &[], None).unwrap().remove(0);
        let manifests =
            super::super::manifests::read(root, Path::new("examples/hello-world/deploy/okd"))
                .unwrap();
        let bc = manifests
            .build_configs
            .iter()
            .find(|bc| bc.spec.strategy.source_strategy.is_some())
            .unwrap();
        // The commit the rehearsal clones; its ref is the YAML's (`main`), not `HEAD`.
        let revision = Revision {
            id: "0123456789abcdef0123456789abcdef01234567".into(),
            reference: "HEAD".into(),
            author_name: "A. Author".into(),
            author_email: "a@example.com".into(),
            date: "Fri Dec 4 12:00:00 2026 +0000".into(),
            message: "fix \"$HOME\"".into(),
            dirty: false,
        };
        let builder = plan.image(Stage::Builder).reference();
        let rehearsal = app_labels(&bc.spec, &builder, revision.clone(), plan.package());

        // The local chain on a checkout of `okd.git-ref` cloned from `okd.git-uri`.
        let okd = &plan.okd().git;
        let local_revision = Revision {
            reference: okd.git_ref.clone().unwrap(),
            ..revision
        };
        let local = labels::of_plan(&plan, okd.uri.as_deref().unwrap(), Some(&local_revision));
        assert_eq!(
            rehearsal.keys().collect::<Vec<_>>(),
            local.keys().collect::<Vec<_>>()
        );
        assert_eq!(rehearsal, local);
        for key in [
            "org.opencontainers.image.title",
            "io.openshift.s2i.build.image",
            "io.openshift.s2i.build.source-location",
            "io.openshift.s2i.build.commit.id",
            "io.openshift.s2i.build.commit.ref",
            "io.openshift.s2i.build.commit.author",
            "io.openshift.s2i.build.commit.date",
            "io.openshift.s2i.build.commit.message",
            crate::plan::TOOL_LABEL,
        ] {
            assert!(rehearsal.contains_key(key), "{key}: {rehearsal:#?}");
        }
        assert_eq!(rehearsal["io.openshift.s2i.build.commit.ref"], "main");
        assert_eq!(
            rehearsal["io.openshift.s2i.build.source-location"],
            "https://github.com/xtask-s2i/xtask-s2i"
        );
    }
}
