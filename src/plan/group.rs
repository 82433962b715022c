//! Groups: the configured services of a workspace that one builder image and one S2I app stage
//! build, with one `cargo build` of all their binaries (one dependency compile, one incremental
//! cache); each service keeps its own runtime image.
//!
//! The rule (README's "Workspaces with several services"): services are in one group when
//! everything the builder and the app stage are made of, but the binaries, their packages and
//! their features, is the same — the builder base (local and cluster), `builder-packages`, the
//! pull policy and tag, the build profile, `vendor`, `strip`, `no-default-features`, the
//! environment, the builder and runtime users, the runtime files, the git source and the build
//! settings of the `okd` table, and the manifests directory. A `builder-image` or `app-image` set
//! explicitly joins the rule too, and so does a feature written `dependency/feature` (cargo cannot
//! qualify it with a package in a command that builds several). The first service in the
//! workspace's member order leads its group: the group's builder and app images are the
//! leader's (`<leader>-builder`, `<leader>-app` by default), so a workspace of one service keeps
//! its names and files.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;

use super::{Plan, Stage};
use crate::config::okd::git::GitSource;
use crate::render::Templates;

/// The services one builder and one app stage build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The leading service's name (its [`Plan::service`]).
    pub name: String,
    /// The leading service's package: the value of the tool's label on the group's builder and
    /// app images.
    pub package: String,
    /// The binaries the app stage builds, leader first.
    pub members: Vec<Member>,
}

/// One binary a group's `assemble` builds and installs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub package: String,
    pub bin: String,
    /// Where `assemble` installs it in the app image.
    pub bin_path: String,
    /// The package's features, as `package/feature` for cargo's one command.
    pub features: Vec<String>,
}

impl Group {
    /// The group of one service: the Plan alone.
    pub(super) fn single(plan: &Plan) -> Group {
        Group {
            name: plan.service.clone(),
            package: plan.package.name.clone(),
            members: vec![Member {
                package: plan.package.name.clone(),
                bin: plan.build.bin.clone(),
                bin_path: plan.bin_path.clone(),
                features: plan
                    .build
                    .features
                    .iter()
                    .map(|f| format!("{}/{f}", plan.package.name))
                    .collect(),
            }],
        }
    }

    /// Every member's features, as `package/feature`.
    pub(super) fn features(&self) -> Vec<String> {
        self.members
            .iter()
            .flat_map(|m| m.features.iter().cloned())
            .collect()
    }

    /// Whether the group builds more than one binary.
    pub fn is_shared(&self) -> bool {
        self.members.len() > 1
    }
}

/// Puts `plans` (in the workspace's member order) into groups: the leader of a group of several
/// is rendered again with every member's binary, and the others take its builder and app stage.
pub(super) fn form(plans: &mut [Plan], templates: &Templates) -> Result<()> {
    let keys: Vec<String> = plans.iter().map(key).collect();
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        groups.entry(k.as_str()).or_default().push(i);
    }
    for members in groups.values().filter(|m| m.len() > 1) {
        let leader = members[0];
        let group = Group {
            name: plans[leader].service.clone(),
            package: plans[leader].package.name.clone(),
            members: members
                .iter()
                .flat_map(|&i| plans[i].group.members.clone())
                .collect(),
        };
        plans[leader].group = group;
        plans[leader].render(templates)?;
        let leader = plans[leader].clone();
        for &i in &members[1..] {
            plans[i].join(&leader);
        }
    }
    Ok(())
}

/// What must be equal for services to share a builder and an app stage.
fn key(p: &Plan) -> String {
    let explicit = |stage: Stage, suffix: &str| {
        let name = &p.image(stage).name;
        (*name != format!("{}{suffix}", p.service)).then(|| name.clone())
    };
    let qualified = p.build.features.iter().any(|f| f.contains('/'));
    format!(
        "{:?}",
        (
            (&p.base, &p.cluster.base, &p.builder_packages, p.pull_policy),
            &p.builder.tag,
            (
                &p.build.profile,
                p.build.vendor,
                p.build.strip,
                p.build.no_default_features,
            ),
            (
                &p.container.env,
                p.container.builder_user,
                p.container.runtime_user,
                &p.container.runtime_files,
                p.container.tzdata,
            ),
            git_key(&p.okd.git),
            (&p.okd.builds, &p.okd.manifests.dir),
            &p.layout.workspace_in_repo,
            (
                explicit(Stage::Builder, "-builder"),
                explicit(Stage::App, "-app"),
            ),
            qualified.then(|| p.package.name.clone()),
        )
    )
}

/// The git source of the builds, but the webhook Secrets' names: those default to a name per
/// service, and the group's builder BuildConfig takes its leader's.
fn git_key(git: &GitSource) -> String {
    let kinds: Vec<_> = git.webhooks.keys().collect();
    format!(
        "{:?}",
        (
            (&git.uri, &git.git_ref, &git.context_dir, &git.source_secret),
            kinds,
            git.unauthenticated_webhooks,
        )
    )
}

impl Plan {
    /// Takes `leader`'s builder and app stage: its images, builder context, group and app labels.
    fn join(&mut self, leader: &Plan) {
        self.builder = leader.builder.clone();
        self.app = leader.app.clone();
        self.cluster.base_stream = leader.cluster.base_stream.clone();
        self.builder_context = leader.builder_context.clone();
        self.cluster_builder_context = leader.cluster_builder_context.clone();
        self.builder_image = leader.builder_image.clone();
        self.group = leader.group.clone();
        self.app_labels = leader.app_labels.clone();
    }
}
