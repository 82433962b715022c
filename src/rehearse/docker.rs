//! A Docker-strategy BuildConfig, as OpenShift's build controller runs it: the context is the
//! committed tree at `contextDir` (empty for a `Dockerfile` source), plus each `images[].paths`
//! entry copied in ([`super::paths`]); the Dockerfile is the inline `source.dockerfile`, else
//! `dockerStrategy.dockerfilePath` (default `Dockerfile`) of the context; the last `FROM` is
//! replaced by the strategy's `from`; `output.imageLabels` are added. Then the engine's Docker
//! build step ([`crate::engine::step`]), the local chain's, with the classic builder. A binary
//! copied onto `FROM scratch` is checked to be static first.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result, anyhow};

use super::Rehearsal;
use super::chain::Step;
use super::paths::Entry;
use crate::Error;
use crate::engine::step::DockerBuild;
use crate::engine::{Linkage, linkage};

impl Rehearsal<'_, '_, '_> {
    /// Runs the Docker build of `step`; returns the untagged image's ID.
    pub(super) async fn docker_step(&self, step: &Step<'_>, done: &[Step<'_>]) -> Result<String> {
        let bc = step.bc;
        let spec = &bc.spec;
        let context_dir = spec.source.context_dir.as_deref().unwrap_or("");
        let shown_dir = if context_dir.is_empty() {
            "."
        } else {
            context_dir
        };
        let from_git = spec.source.git.is_some();
        let mut entries = self.context(step, done).await?;
        let dockerfile = self.dockerfile(step, done, &entries, shown_dir).await?;
        if last_from(&dockerfile).is_some_and(|f| f == "scratch") {
            check_static(&entries)?;
        }
        entries.retain(|e| e.path != "Dockerfile");
        let context = super::paths::tar(&entries)?;
        self.status(
            "Building",
            format!(
                "{} (BuildConfig `{}`, Docker strategy{})",
                step.local,
                bc.name,
                if from_git {
                    format!(", `{shown_dir}`")
                } else {
                    String::new()
                }
            ),
        );
        // The cluster adds `output.imageLabels` to the image; this tool's label marks it.
        let mut labels: BTreeMap<String, String> = spec
            .output
            .image_labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        labels.extend(self.tool_label());
        self.runner()
            .docker_build(DockerBuild {
                log: bc.name.clone(),
                dockerfile,
                labels,
                context,
                no_cache: self.no_cache,
            })
            .await
            .map_err(|e| {
                Error::new(format!("step `docker build`: {e}\n{}", e.tail()))
                    .caused_by(e)
                    .into()
            })
    }

    /// The Dockerfile the cluster builds: the inline one, else `dockerfilePath` of the context,
    /// its last `FROM` replaced by `dockerStrategy.from`, `dockerStrategy.env` added.
    async fn dockerfile(
        &self,
        step: &Step<'_>,
        done: &[Step<'_>],
        entries: &[Entry],
        shown_dir: &str,
    ) -> Result<String> {
        let spec = &step.bc.spec;
        let strategy = spec.strategy.docker_strategy.clone().unwrap_or_default();
        let mut dockerfile = match &spec.source.dockerfile {
            Some(d) => d.clone(),
            None => {
                let path = strategy.dockerfile_path.as_deref().unwrap_or("Dockerfile");
                let found = entries
                    .iter()
                    .find(|e| e.path == path.trim_start_matches("./"));
                let Some(e) = found else {
                    return Err(Error::new(format!(
                        "step `source`: there is no `{path}` in the committed `{shown_dir}`"
                    ))
                    .note("commit it, or set `dockerStrategy.dockerfilePath`")
                    .into());
                };
                String::from_utf8_lossy(&e.data).into_owned()
            }
        };
        if let Some(from) = &strategy.from {
            let (local, _) = self.image_for(done, &step.bc.name, from).await?;
            dockerfile = replace_last_from(&dockerfile, &local).ok_or_else(|| {
                anyhow!("step `dockerfile`: the Dockerfile has no `FROM` for `dockerStrategy.from` to replace")
            })?;
        }
        if !strategy.env.is_empty() {
            dockerfile = with_env(&dockerfile, &strategy.env);
        }
        Ok(dockerfile)
    }

    /// The build context: the committed `contextDir` for a Git source, then each
    /// `images[].paths` entry copied out of its image.
    async fn context(&self, step: &Step<'_>, done: &[Step<'_>]) -> Result<Vec<Entry>> {
        let spec = &step.bc.spec;
        let mut entries: Vec<Entry> = Vec::new();
        if spec.source.git.is_some() {
            let context_dir = spec.source.context_dir.as_deref().unwrap_or("");
            let dir = self.tree.join(context_dir);
            if !dir.is_dir() {
                return Err(Error::new(format!(
                    "step `source`: its `contextDir` `{context_dir}` is not a directory of the \
                     committed tree"
                ))
                .note("commit and push it, or fix `contextDir`")
                .into());
            }
            read_tree(&dir, "", &mut entries)?;
        }
        for (i, image) in spec.source.images.iter().enumerate() {
            let (local, _) = self.image_for(done, &step.bc.name, &image.from).await?;
            for (j, path) in image.paths.iter().enumerate() {
                let copied = self
                    .copy_path(&local, path)
                    .await
                    .with_context(|| format!("step `source.images[{i}].paths[{j}]`"))?;
                entries.extend(copied);
            }
        }
        Ok(entries)
    }
}

/// Every file and link under `dir`, as context entries under `prefix`.
fn read_tree(dir: &Path, prefix: &str, out: &mut Vec<Entry>) -> Result<()> {
    let mut read: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("failed to read `{}`", dir.display()))?
        .flatten()
        .collect();
    read.sort_by_key(|e| e.file_name());
    for e in read {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            read_tree(&path, &rel, out)?;
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)?;
            out.push(Entry::link(&rel, &target.to_string_lossy()));
        } else {
            let data = std::fs::read(&path)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            out.push(Entry::file(&rel, data, super::paths::mode_of(&meta)));
        }
    }
    Ok(())
}

/// The image of the last `FROM`.
fn last_from(dockerfile: &str) -> Option<String> {
    dockerfile
        .lines()
        .rev()
        .find_map(|l| from_image(l).map(|(_, image, _)| image.to_string()))
}

/// `FROM [--flags] image [AS name]` -> (flags, image, rest).
fn from_image(line: &str) -> Option<(String, &str, String)> {
    let mut words = line.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("FROM") {
        return None;
    }
    let mut flags = Vec::new();
    for w in words.by_ref() {
        if w.starts_with("--") {
            flags.push(w);
        } else {
            let rest: Vec<&str> = words.collect();
            return Some((flags.join(" "), w, rest.join(" ")));
        }
    }
    None
}

/// The Dockerfile with the image of its last `FROM` replaced by `image`, as OpenShift does with
/// `dockerStrategy.from`.
pub fn replace_last_from(dockerfile: &str, image: &str) -> Option<String> {
    let lines: Vec<&str> = dockerfile.lines().collect();
    let i = lines.iter().rposition(|l| from_image(l).is_some())?;
    let (flags, _, rest) = from_image(lines[i])?;
    let new: Vec<&str> = ["FROM", flags.as_str(), image, rest.as_str()]
        .into_iter()
        .filter(|w| !w.is_empty())
        .collect();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    out[i] = new.join(" ");
    Some(out.join("\n") + "\n")
}

/// `dockerStrategy.env` as `ENV` after the last `FROM`, as the build controller adds it.
fn with_env(dockerfile: &str, env: &[super::manifests::EnvVar]) -> String {
    let mut lines: Vec<String> = dockerfile.lines().map(str::to_string).collect();
    let at = lines
        .iter()
        .rposition(|l| from_image(l).is_some())
        .map_or(0, |i| i + 1);
    let vars: Vec<String> = env
        .iter()
        .filter_map(|e| Some(format!("{}={:?}", e.name, e.value.as_ref()?)))
        .collect();
    if !vars.is_empty() {
        lines.insert(at, format!("ENV {}", vars.join(" ")));
    }
    lines.join("\n") + "\n"
}

/// A dynamically linked executable copied onto `FROM scratch` would fail with `exec: no such file
/// or directory`.
fn check_static(entries: &[Entry]) -> Result<()> {
    for e in entries
        .iter()
        .filter(|e| e.link.is_none() && e.data.starts_with(b"\x7fELF"))
    {
        if let Linkage::Dynamic { interpreter } = linkage(&e.data) {
            return Err(Error::new(format!(
                "step `dockerfile`: `{}` is dynamically linked (it needs `{interpreter}`), so it \
                 cannot run on the `FROM scratch` image",
                e.path
            ))
            .note(
                "link it statically (`RUSTFLAGS=\"-C target-feature=+crt-static\"` with an \
                 explicit `--target`), as the default `assemble` does",
            )
            .into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_from_is_replaced() {
        let d = "FROM a AS build\nRUN x\nfrom --platform=linux/amd64 docker.io/rust:1 AS final\nCMD y\n";
        assert_eq!(
            replace_last_from(d, "localhost/b:rehearse").unwrap(),
            "FROM a AS build\nRUN x\nFROM --platform=linux/amd64 localhost/b:rehearse AS final\nCMD y\n"
        );
        assert_eq!(
            last_from("FROM scratch\nCOPY a /a\n").as_deref(),
            Some("scratch")
        );
        assert_eq!(replace_last_from("RUN x\n", "b"), None);
    }

    #[test]
    fn strategy_env_follows_the_last_from() {
        let env = [super::super::manifests::EnvVar {
            name: "A".into(),
            value: Some("1 2".into()),
            value_from: None,
        }];
        assert_eq!(
            with_env("FROM x AS b\nFROM scratch\nCOPY a /a\n", &env),
            "FROM x AS b\nFROM scratch\nENV A=\"1 2\"\nCOPY a /a\n"
        );
    }
}
