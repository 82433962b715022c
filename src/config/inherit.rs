//! Workspace inheritance: `[workspace.metadata.s2i]` gives defaults that every package's
//! `[package.metadata.s2i]` may override, key by key.
//!
//! Each `inherit` destructures the package's table, so a new key that does not say how it
//! inherits is a compile error; keys that belong to one package are refused as workspace defaults
//! instead of being silently ignored.

use std::collections::BTreeMap;

use super::diagnostics::{ConfigError, Source};
use super::raw::{RawConfig, RawOkd, RawUser};

impl RawConfig {
    /// Fills every key the package left unset from the workspace defaults. Tables (`env`,
    /// `labels`, `okd`, `user`) merge key by key; the package wins. Destructuring `self` makes
    /// adding a key without deciding how it inherits a compile error.
    pub fn inherit(self, ws: RawConfig) -> RawConfig {
        let RawConfig {
            builder_base,
            builder_image,
            app_image,
            runtime_image,
            tag,
            pull_policy,
            bin,
            features,
            no_default_features,
            profile,
            vendor,
            strip,
            user,
            env,
            labels,
            port,
            okd,
        } = self;
        RawConfig {
            builder_base: builder_base.or(ws.builder_base),
            // Image names, tag and bin are per package: a workspace default would give every
            // package the same image, so they are not inherited.
            builder_image,
            app_image,
            runtime_image,
            tag: tag.or(ws.tag),
            pull_policy: pull_policy.or(ws.pull_policy),
            bin,
            features: features.or(ws.features),
            no_default_features: no_default_features.or(ws.no_default_features),
            profile: profile.or(ws.profile),
            vendor: vendor.or(ws.vendor),
            strip: strip.or(ws.strip),
            user: match (user, ws.user) {
                (Some(p), Some(w)) => Some(RawUser {
                    builder: p.builder.or(w.builder),
                    runtime: p.runtime.or(w.runtime),
                }),
                (p, w) => p.or(w),
            },
            env: merge_maps(env, ws.env),
            labels: merge_maps(labels, ws.labels),
            port: port.or(ws.port),
            okd: match (okd, ws.okd) {
                (Some(p), Some(w)) => Some(p.inherit(w)),
                (p, w) => p.or(w),
            },
        }
    }
}

impl RawOkd {
    fn inherit(self, ws: RawOkd) -> RawOkd {
        let RawOkd {
            namespace,
            git_uri,
            git_ref,
            context_dir,
            manifests_dir,
            webhooks,
            replicas,
            tls,
            build_resources,
            build_timeout,
            tag,
            workload,
            schedule,
            health_path,
            resources,
            source_secret,
            unauthenticated_webhooks,
        } = self;
        RawOkd {
            namespace: namespace.or(ws.namespace),
            git_uri: git_uri.or(ws.git_uri),
            git_ref: git_ref.or(ws.git_ref),
            // The context directory is where this package's workspace sits in the repository;
            // a shared default would be wrong for every package but one.
            context_dir,
            manifests_dir: manifests_dir.or(ws.manifests_dir),
            webhooks: webhooks.or(ws.webhooks),
            replicas: replicas.or(ws.replicas),
            tls: tls.or(ws.tls),
            build_resources: build_resources.or(ws.build_resources),
            build_timeout: build_timeout.or(ws.build_timeout),
            tag: tag.or(ws.tag),
            workload: workload.or(ws.workload),
            schedule: schedule.or(ws.schedule),
            health_path: health_path.or(ws.health_path),
            resources: resources.or(ws.resources),
            source_secret: source_secret.or(ws.source_secret),
            unauthenticated_webhooks: unauthenticated_webhooks.or(ws.unauthenticated_webhooks),
        }
    }
}

fn merge_maps(
    pkg: Option<BTreeMap<String, String>>,
    ws: Option<BTreeMap<String, String>>,
) -> Option<BTreeMap<String, String>> {
    match (pkg, ws) {
        (Some(p), Some(mut w)) => {
            w.extend(p);
            Some(w)
        }
        (p, w) => p.or(w),
    }
}

/// Keys that name one package's images, binary or place in the repository make no sense as
/// workspace defaults (every package would get the same); say so instead of ignoring them.
pub(super) fn per_package_only(ws: &Source) -> Result<(), ConfigError> {
    const PER_PACKAGE: [&[&str]; 5] = [
        &["builder-image"],
        &["app-image"],
        &["runtime-image"],
        &["bin"],
        &["okd", "context-dir"],
    ];
    for path in PER_PACKAGE {
        if ws.has(path) {
            let key = path.join(".");
            return Err(ws.error(
                path,
                format!("`{key}` belongs to one package and cannot be a workspace default"),
                Some(format!(
                    "move `{key}` to the `[package.metadata.s2i]` of the package it is for"
                )),
            ));
        }
    }
    Ok(())
}
