//! The rehearsal's steps and where each referenced image comes from: the BuildConfigs run in the
//! order the cluster's triggers first build them ([`super::sequence`]); an input is the image an
//! earlier step built, or, for a tag no BuildConfig builds, the image its ImageStream imports
//! (`from: DockerImage`; `--builder-base` stands in for every imported image).

use anyhow::{Result, bail};

use super::sequence::{inputs, output_of, qualified};

use super::manifests::{BuildConfigSpec, Manifests, Named, ObjectRef};
use crate::Error;

/// The tag the rehearsal gives its images, so it never moves the local chain's tags.
pub const TAG: &str = "rehearse";

/// How the cluster builds a BuildConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `dockerStrategy`: `docker build`, the last `FROM` replaced by the strategy's `from`.
    Docker,
    /// `sourceStrategy`: S2I with the builder image of its `from`.
    Source,
}

/// One BuildConfig to rehearse, in order.
pub struct Step<'m> {
    pub bc: &'m Named<BuildConfigSpec>,
    pub kind: Kind,
    /// `stream:tag` of its `output.to` in the cluster.
    pub output: String,
    /// The local image the rehearsal tags: `<stream>:rehearse`.
    pub local: String,
}

/// Where a referenced image comes from locally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The rehearsal image of an earlier step (`<stream>:rehearse`), and that BuildConfig.
    Rehearsed { local: String, build_config: String },
    /// An image imported by an ImageStream (or a `DockerImage` reference): pulled if absent.
    External { reference: String, stand_in: bool },
}

/// The BuildConfigs of `m` in the order the cluster first builds them (`order`, from the
/// [`Sequence`](super::sequence::Sequence) of the first apply), as the rehearsal runs them.
pub fn steps<'m>(m: &'m Manifests, order: &[usize]) -> Result<Vec<Step<'m>>> {
    let mut steps: Vec<Step<'m>> = Vec::new();
    for &i in order {
        let bc = &m.build_configs[i];
        let kind = kind_of(bc)?;
        let output = output_of(bc).unwrap_or_else(|| format!("{}:latest", bc.name));
        let stream = output.split(':').next().unwrap_or(&bc.name).to_string();
        steps.push(Step {
            bc,
            kind,
            output,
            local: format!("{stream}:{TAG}"),
        });
    }
    // Every reference must resolve before anything is built.
    for (i, step) in steps.iter().enumerate() {
        for r in inputs(step.bc) {
            resolve(m, &steps[..i], &step.bc.name, r, None).map_err(|e| {
                e.context(format!(
                    "the committed BuildConfig `{}` (`{}`) cannot run",
                    step.bc.name,
                    step.bc.file.display()
                ))
            })?;
        }
    }
    Ok(steps)
}

/// How the rehearsal runs a BuildConfig's strategy.
fn kind_of(bc: &Named<BuildConfigSpec>) -> Result<Kind> {
    match (
        &bc.spec.strategy.docker_strategy,
        &bc.spec.strategy.source_strategy,
    ) {
        (_, Some(_)) => Ok(Kind::Source),
        (Some(_), None) => Ok(Kind::Docker),
        (None, None) => Err(Error::new(format!(
            "the BuildConfig `{}` (`{}`) has a `{}` strategy, which the rehearsal cannot run",
            bc.name,
            bc.file.display(),
            if bc.spec.strategy.type_.is_empty() {
                "missing"
            } else {
                &bc.spec.strategy.type_
            }
        ))
        .note("it rehearses `Docker` and `Source` strategies")
        .into()),
    }
}

/// Where `r`, read by the BuildConfig `bc`, comes from, given the steps done so far.
pub fn resolve(
    m: &Manifests,
    done: &[Step<'_>],
    bc: &str,
    r: &ObjectRef,
    stand_in: Option<&str>,
) -> Result<Source> {
    let mut name = qualified(&r.name);
    let mut kind = r.kind.as_str();
    // An ImageStream tag may follow another tag; a few hops at most.
    for _ in 0..8 {
        match kind {
            "DockerImage" => return Ok(external(&name, stand_in)),
            "ImageStreamTag" => {}
            other => {
                return Err(Error::new(format!(
                    "the BuildConfig `{bc}` refers to a {other} `{name}`, which the rehearsal \
                     cannot follow"
                ))
                .note("use an `ImageStreamTag` (or a `DockerImage`)")
                .into());
            }
        }
        if let Some(step) = done.iter().find(|s| s.output == name) {
            return Ok(Source::Rehearsed {
                local: step.local.clone(),
                build_config: step.bc.name.clone(),
            });
        }
        let (stream, tag) = name.split_once(':').unwrap_or((&name, "latest"));
        let tag_ref = m
            .image_streams
            .iter()
            .find(|s| s.name == stream)
            .and_then(|s| s.spec.tags.iter().find(|t| t.name == tag))
            .and_then(|t| t.from.as_ref());
        let Some(from) = tag_ref else {
            let built: Vec<String> = done.iter().map(|s| format!("`{}`", s.output)).collect();
            return Err(Error::new(format!(
                "the BuildConfig `{bc}` refers to the ImageStreamTag `{name}`, which no committed \
                 BuildConfig builds and no committed ImageStream imports, so it would wait forever \
                 in the cluster"
            ))
            .note(format!(
                "the tags the BuildConfigs build are {}",
                if built.is_empty() {
                    "none".to_string()
                } else {
                    built.join(", ")
                }
            ))
            .into());
        };
        kind = from.kind.as_str();
        name = match kind {
            "ImageStreamTag" => qualified(&from.name),
            _ => from.name.clone(),
        };
    }
    bail!(
        "the BuildConfig `{bc}` refers to `{}` through too many ImageStream tags",
        r.name
    )
}

fn external(reference: &str, stand_in: Option<&str>) -> Source {
    match stand_in {
        Some(s) => Source::External {
            reference: s.to_string(),
            stand_in: true,
        },
        None => Source::External {
            reference: reference.to_string(),
            stand_in: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// The example's committed manifests: builder, app, runtime, each reading the one before,
    /// in the order their triggers start them.
    #[test]
    fn the_example_chain_is_ordered_by_its_triggers() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let m = super::super::manifests::read(root, Path::new("examples/hello-world/deploy/okd"))
            .unwrap();
        let sequence = super::super::sequence::simulate(&m).unwrap();
        let steps = steps(&m, &sequence.build_order()).unwrap();
        let kinds: Vec<Kind> = steps.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [Kind::Docker, Kind::Source, Kind::Docker]);
        let app = &steps[1];
        let from = &app.bc.spec.strategy.source_strategy.as_ref().unwrap().from;
        assert_eq!(
            resolve(&m, &steps[..1], &app.bc.name, from, None).unwrap(),
            Source::Rehearsed {
                local: steps[0].local.clone(),
                build_config: steps[0].bc.name.clone()
            }
        );
        let runtime = &steps[2];
        let image = &runtime.bc.spec.source.images[0].from;
        assert!(matches!(
            resolve(&m, &steps[..2], &runtime.bc.name, image, None).unwrap(),
            Source::Rehearsed { build_config, .. } if build_config == app.bc.name
        ));
        // The builder's base is imported by its ImageStream; `--builder-base` stands in for it.
        let base = steps[0]
            .bc
            .spec
            .strategy
            .docker_strategy
            .as_ref()
            .unwrap()
            .from
            .as_ref()
            .unwrap();
        assert!(matches!(
            resolve(&m, &[], &steps[0].bc.name, base, None).unwrap(),
            Source::External {
                stand_in: false,
                ..
            }
        ));
        assert_eq!(
            resolve(&m, &[], &steps[0].bc.name, base, Some("local/base:1")).unwrap(),
            Source::External {
                reference: "local/base:1".into(),
                stand_in: true
            }
        );
        assert!(steps.iter().all(|s| s.local.ends_with(":rehearse")));
    }
}
