//! The Plans of a workspace: which packages are selected, their configurations read once with
//! the templates in effect and the workspace's `cargo metadata`, and the other packages whose
//! manifests share a directory with them.

use std::path::Path;

use anyhow::Result;
use cargo_metadata::{Metadata, Package};

use super::Plan;
use crate::Error;
use crate::config;
use crate::render::Templates;

impl Plan {
    /// The Plans of the workspace members named in `names` (every member with
    /// `[package.metadata.s2i]` when empty), in that order. `builder_base_override` is the
    /// `--builder-base` flag or `XTASK_S2I_BUILDER_BASE`: the base of the local builder only.
    pub fn for_workspace(
        metadata: &Metadata,
        names: &[String],
        builder_base_override: Option<&str>,
    ) -> Result<Vec<Plan>> {
        let root = metadata.workspace_root.clone().into_std_path_buf();
        let templates = Templates::load(&root)?;
        let selected = select(metadata, names)?;
        let builder_base_override = builder_base_override
            .map(config::builder_base_override)
            .transpose()?;
        // Groups are formed over every configured package, so `-p NAME` builds NAME's group's
        // builder and app stage as the whole workspace does (same images, same digests).
        let mut plans = Vec::new();
        for package in with_group_candidates(metadata, &selected) {
            let chosen = selected.iter().any(|s| s.id == package.id);
            let services = config::load_services(metadata, package).map_err(Into::into);
            let made = services.and_then(|services| {
                services
                    .into_iter()
                    .map(|config| {
                        // The override changes the local build only; the manifests build FROM
                        // the configured base, which the Plan takes from the configuration.
                        let local_base = builder_base_override
                            .clone()
                            .unwrap_or_else(|| config.images.builder_base.clone());
                        Plan::new(config, local_base, &templates, metadata)
                    })
                    .collect::<Result<Vec<Plan>>>()
            });
            match made {
                Ok(made) => plans.extend(made),
                Err(e) if chosen => return Err(e),
                // Another package's error is its own `-p` run's to report.
                Err(_) => continue,
            }
        }
        super::group::form(&mut plans, &templates)?;
        let mut ordered = Vec::new();
        for package in selected {
            let (theirs, rest): (Vec<Plan>, Vec<Plan>) = plans
                .into_iter()
                .partition(|p| p.package() == package.name.as_str());
            plans = rest;
            ordered.extend(theirs);
        }
        Ok(ordered)
    }

    /// The Plans whose manifests are generated along with `selected` (the Plans of `names`): a
    /// manifests directory is generated whole, so with `-p` the other packages writing into one
    /// of the selected packages' directories are added (and their objects not removed as stray).
    pub fn sharing_manifests(
        metadata: &Metadata,
        names: &[String],
        selected: &[Plan],
        builder_base_override: Option<&str>,
    ) -> Result<Vec<Plan>> {
        let mut all = selected.to_vec();
        if names.is_empty() {
            return Ok(all);
        }
        let dirs: Vec<&Path> = selected
            .iter()
            .map(|p| p.layout.manifests_dir.as_path())
            .collect();
        let any_configured = metadata
            .workspace_packages()
            .iter()
            .any(|p| p.metadata.get("s2i").is_some());
        let others = match any_configured {
            true => Plan::for_workspace(metadata, &[], builder_base_override)?,
            false => Vec::new(),
        };
        for other in others {
            let chosen = all.iter().any(|p| p.service() == other.service());
            if !chosen && dirs.contains(&other.layout.manifests_dir.as_path()) {
                all.push(other);
            }
        }
        Ok(all)
    }
}

/// The packages whose Plans are grouped with `selected`'s: every member with
/// `[package.metadata.s2i]` and the selected ones, in the workspace's member order.
fn with_group_candidates<'m>(metadata: &'m Metadata, selected: &[&'m Package]) -> Vec<&'m Package> {
    metadata
        .workspace_packages()
        .into_iter()
        .filter(|p| p.metadata.get("s2i").is_some() || selected.iter().any(|s| s.id == p.id))
        .collect()
}

/// The workspace members with `[package.metadata.s2i]`, or those named (which must be members).
fn select<'m>(metadata: &'m Metadata, names: &[String]) -> Result<Vec<&'m Package>> {
    let members = metadata.workspace_packages();
    let candidates: Vec<&Package> = members
        .iter()
        .copied()
        .filter(|p| p.metadata.get("s2i").is_some())
        .collect();
    let root = metadata.workspace_root.join("Cargo.toml");
    if names.is_empty() {
        if candidates.is_empty() {
            return Err(Error::new(format!(
                "no package in the workspace `{root}` has `[package.metadata.s2i]`"
            ))
            .note(
                "add it to the Cargo.toml of the package to build, e.g.\n\n    \
                 [package.metadata.s2i]\n    port = 8080\n",
            )
            .into());
        }
        return Ok(candidates);
    }
    let mut selected = Vec::new();
    for name in names {
        match members.iter().find(|p| p.name.as_str() == name) {
            Some(p) => selected.push(*p),
            None => {
                let list: Vec<String> =
                    candidates.iter().map(|p| format!("`{}`", p.name)).collect();
                let note = if list.is_empty() {
                    "no member of this workspace has `[package.metadata.s2i]` yet".to_string()
                } else {
                    format!(
                        "the packages with `[package.metadata.s2i]` are {}",
                        list.join(", ")
                    )
                };
                return Err(Error::new(format!(
                    "package `{name}` is not a member of the workspace `{root}`"
                ))
                .note(note)
                .into());
            }
        }
    }
    Ok(selected)
}
