//! The Plan: the one description of the builder → app → runtime chain of one package, and the
//! only vocabulary the executors share.
//!
//! A Plan is made from a validated [`Config`] (for a workspace, by [`Plan::for_workspace`]) and
//! hands out typed parts — the [`ImageRef`] of each [`Stage`], the [`Layout`] of every local and
//! manifest path, the resolved domains of the configuration as they are (the build settings, the
//! container's, the `okd` table: each held once) and the [`Cluster`] names derived from them —
//! plus the rendered files, the image labels, the app stage's [`Plan::app_key`] and what the
//! cluster's source build sees ([`Plan::cluster_source`]). The Docker executor (`engine`), the source
//! closure (`source`) and the manifest emitter (`okd`) read nothing else, so the local chain and
//! the cluster chain cannot disagree. A Plan is data: building one touches no Docker, and reads
//! the file system only for the template overrides and, once, for the cluster's source (the
//! manifests of the path dependencies, the `.s2iignore` at its top).

mod group;
mod images;
mod layout;
mod source;
mod workspace;

use std::collections::BTreeMap;
use std::fmt;

use anyhow::Result;
use cargo_metadata::Metadata;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{Build, Config, Container, Okd, PackageInfo, PullPolicy};
use crate::render::Templates;
use crate::{Error, names};
pub use group::{Group, Member};
pub use images::{BuilderImage, RuntimeImage};
pub use layout::{BUILDER_DIR, DOCKERFILE, Layout, RUNTIME_DOCKERFILE};
pub use source::{ClusterSource, WORKSPACE_DIR_ENV};

/// The S2I application root inside the builder and app images.
pub const APP_ROOT: &str = "/opt/app-root";
/// Where `assemble` prepares the files the runtime image carries besides the binary (a small
/// root file system: `etc/`, `tmp/`), which the runtime Dockerfile copies to `/` and the
/// runtime BuildConfig copies out of the app image.
pub const RUNTIME_DIR: &str = "/opt/app-root/runtime";
/// The runtime build context's directory of those files.
pub const RUNTIME_CONTEXT_DIR: &str = "runtime";
/// Where the runtime image's CA bundle is (and `SSL_CERT_FILE` points).
pub const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// Where the S2I scripts live in the builder image.
pub const SCRIPTS_DIR: &str = "/usr/libexec/s2i";
/// The builder image's `io.openshift.s2i.destination`: where S2I extracts the one tar holding
/// `src/` (the source), `artifacts/` (the previous build's `save-artifacts` output) and
/// `scripts/` (the source's `.s2i/bin` overrides). Upstream's default.
pub const DESTINATION: &str = "/tmp";
/// Where the default `assemble` finds the source: `src` under [`DESTINATION`].
pub const SOURCE_DIR: &str = "/tmp/src";
/// Where the default `assemble` finds the previous build's artifacts.
pub const ARTIFACTS_DIR: &str = "/tmp/artifacts";
/// The S2I labels of a builder image.
pub const SCRIPTS_URL_LABEL: &str = "io.openshift.s2i.scripts-url";
pub const DESTINATION_LABEL: &str = "io.openshift.s2i.destination";
pub const ASSEMBLE_USER_LABEL: &str = "io.openshift.s2i.assemble-user";
/// The label every container and image this tool creates carries (value: the package name).
pub const TOOL_LABEL: &str = "io.github.xtask-s2i.package";
/// The label holding a stage's input digest.
pub const DIGEST_LABEL: &str = "io.github.xtask-s2i.input-digest";

/// A repository name and a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    pub name: String,
    pub tag: String,
}

impl ImageRef {
    /// `name:tag`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.name, self.tag)
    }

    /// The last path component: the name of the OKD ImageStream.
    pub fn stream(&self) -> &str {
        names::image_stream(&self.name)
    }

    /// `stream:tag`, the ImageStreamTag in OKD.
    pub fn stream_tag(&self) -> String {
        format!("{}:{}", self.stream(), self.tag)
    }
}

/// A stage of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// The S2I builder image: the rendered builder context `FROM` the base.
    Builder,
    /// The S2I step: `assemble` over the source in a container from the builder, committed.
    App,
    /// The `FROM scratch` image holding only the binary copied out of the app image.
    Runtime,
}

impl Stage {
    /// The stages in chain order.
    pub const ALL: [Stage; 3] = [Stage::Builder, Stage::App, Stage::Runtime];

    /// `builder`, `app` or `runtime`: the stage's name in reports, logs and OKD components.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Builder => "builder",
            Stage::App => "app",
            Stage::Runtime => "runtime",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A rendered file of the builder context, path relative to the context root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedFile {
    pub path: String,
    pub contents: String,
    pub mode: u32,
}

/// The names the manifests derive from the configuration: the workload's name and the tracked
/// upstream base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// The name of the workload, its container, Service and Route: the runtime ImageStream.
    pub app_name: String,
    /// The image the cluster's builder is `FROM`: always the configured `builder-base`, so a
    /// local override never leaks into the committed manifests.
    pub base: String,
    /// The ImageStreamTag that tracks `base` with a scheduled import.
    pub base_stream: ImageRef,
}

/// The chain of one package.
#[derive(Debug, Clone)]
pub struct Plan {
    package: PackageInfo,
    /// The service: the package's name, or a binary's of its `bins`.
    service: String,
    /// The image the local builder is `FROM`: `builder-base`, or the `--builder-base` /
    /// `XTASK_S2I_BUILDER_BASE` override.
    base: String,
    builder_packages: Vec<String>,
    builder: ImageRef,
    app: ImageRef,
    runtime: ImageRef,
    pull_policy: PullPolicy,
    bin_path: String,
    builder_context: Vec<RenderedFile>,
    cluster_builder_context: Vec<RenderedFile>,
    runtime_dockerfile: String,
    /// The builder as typed values, unless `.s2i/templates/builder.Dockerfile` overrides it.
    builder_image: Option<BuilderImage>,
    /// The runtime image as typed values, unless `.s2i/templates/runtime.Dockerfile`
    /// overrides it.
    runtime_image: Option<RuntimeImage>,
    image_labels: BTreeMap<String, String>,
    /// The services the builder and app stage build, this one among them.
    group: Group,
    /// The app image's labels: the group leader's [`Plan::image_labels`].
    app_labels: BTreeMap<String, String>,
    layout: Layout,
    build: Build,
    container: Container,
    okd: Okd,
    cluster: Cluster,
    /// What the cluster's source build sees, or why it cannot be found (which only the
    /// manifests need, so only they report it).
    cluster_source: Result<ClusterSource, Error>,
    /// The template overrides in effect (for this repository's tests).
    #[cfg(feature = "internal")]
    overrides: Vec<std::path::PathBuf>,
}
/// The variables every template sees.
#[derive(Serialize)]
struct Context<'a> {
    package: PackageCtx<'a>,
    bin: &'a str,
    bin_path: &'a str,
    /// The binaries the app stage builds (this one alone unless the group has several).
    members: &'a [Member],
    /// Every member's features as `package/feature`, for a group of several.
    group_features: Vec<String>,
    app_root: &'a str,
    cargo_home: String,
    target_dir: String,
    scripts_dir: &'a str,
    scripts_url: String,
    destination: &'a str,
    source_dir: &'a str,
    artifacts_dir: &'a str,
    builder_base: &'a str,
    /// `builder-packages`: installed in the builder with the base's package manager.
    builder_packages: &'a [String],
    /// [`RUNTIME_DIR`] unless `runtime-files = "none"`: where `assemble` prepares the runtime
    /// image's files.
    runtime_dir: Option<&'a str>,
    runtime_context_dir: &'a str,
    ca_bundle: &'a str,
    tzdata: bool,
    builder_user: u32,
    runtime_user: u32,
    builder_image: String,
    builder_stream_tag: String,
    /// The repositories without a tag (the usage text must not change with the version).
    builder_name: &'a str,
    app_name: &'a str,
    okd_tag: &'a str,
    app_image: String,
    runtime_image: String,
    app_stream: &'a str,
    git_uri: Option<&'a str>,
    git_ref: Option<&'a str>,
    context_dir: Option<&'a str>,
    profile: &'a str,
    profile_dir: &'a str,
    features: &'a [String],
    no_default_features: bool,
    vendor: bool,
    /// `CARGO_PROFILE_<PROFILE>_STRIP` when `strip = true`: assemble sets it (unless the build
    /// environment already does) so the local and the cluster build strip alike.
    strip_env: Option<String>,
    env: &'a BTreeMap<String, String>,
    labels: &'a BTreeMap<String, String>,
    port: Option<u16>,
    /// `io.openshift.expose-services` of the builder: `<port>:http` when a port is set.
    expose_services: Option<String>,
}

#[derive(Serialize)]
struct PackageCtx<'a> {
    name: &'a str,
    version: &'a str,
    description: Option<&'a str>,
    license: Option<&'a str>,
    repository: Option<&'a str>,
}

impl Plan {
    /// Builds the Plan of one configured package. `local_base` is the base of the local build
    /// (the `--builder-base` override, else `config.images.builder_base`); the manifests always build
    /// FROM the configured `config.images.builder_base`. `metadata` is the workspace's `cargo
    /// metadata`: its target directory, and the packages the cluster's source must hold.
    pub fn new(
        config: Config,
        local_base: String,
        templates: &Templates,
        metadata: &Metadata,
    ) -> Result<Plan> {
        // Every domain goes somewhere: a new one fails to compile here until it is given its part.
        let Config {
            package,
            service,
            workspace_root,
            images,
            build,
            container,
            okd,
        } = config;
        let ([builder, app, runtime], cluster) = stage_images(&images);
        let layout = Layout::new(
            &service,
            workspace_root,
            package.manifest_path.clone(),
            metadata.target_directory.clone().into_std_path_buf(),
            okd.manifests.dir.clone(),
            okd.git.context_dir.clone(),
        );
        let cluster_source = ClusterSource::find(metadata, &layout).map_err(Error::from_anyhow);
        let labels = image_labels(&package, &container.labels);
        let mut plan = Plan {
            app_labels: labels.clone(),
            image_labels: labels,
            group: Group::default(),
            bin_path: format!("{APP_ROOT}/bin/{}", build.bin),
            package,
            service,
            base: local_base,
            builder_packages: images.builder_packages,
            builder,
            app,
            runtime,
            pull_policy: images.pull_policy,
            builder_context: Vec::new(),
            cluster_builder_context: Vec::new(),
            runtime_dockerfile: String::new(),
            builder_image: None,
            runtime_image: None,
            layout,
            build,
            container,
            okd,
            cluster,
            cluster_source,
            #[cfg(feature = "internal")]
            overrides: templates.overrides.clone(),
        };
        plan.group = Group::single(&plan);
        plan.render(templates)?;
        Ok(plan)
    }

    /// Renders the templates: the local builder context (FROM the local base), the cluster's
    /// (FROM the configured base) and the runtime Dockerfile.
    fn render(&mut self, templates: &Templates) -> Result<()> {
        let mut ctx = self.context();
        let mut builder_context = Vec::new();
        let mut runtime_dockerfile = String::new();
        for t in crate::render::TEMPLATES {
            let contents = templates.render(t.name, &ctx)?;
            let path = match t.name {
                "runtime.Dockerfile" => {
                    runtime_dockerfile = contents;
                    continue;
                }
                "builder.Dockerfile" => DOCKERFILE.to_string(),
                other => other.to_string(),
            };
            builder_context.push(RenderedFile {
                path,
                contents,
                mode: t.mode,
            });
        }
        let mut cluster_builder_context = builder_context.clone();
        if self.cluster.base != self.base {
            ctx.builder_base = &self.cluster.base;
            let dockerfile = templates.render("builder.Dockerfile", &ctx)?;
            for f in cluster_builder_context
                .iter_mut()
                .filter(|f| f.path == DOCKERFILE)
            {
                f.contents = dockerfile.clone();
            }
        }
        self.builder_context = builder_context;
        self.cluster_builder_context = cluster_builder_context;
        self.runtime_dockerfile = runtime_dockerfile;
        self.typed_images(templates)
    }

    /// The builder and runtime images as typed values, from the variables the default templates
    /// are rendered from; `None` for a template the user overrides.
    fn typed_images(&mut self, templates: &Templates) -> Result<()> {
        let ctx = self.context();
        let builder = match templates.is_overridden("builder.Dockerfile") {
            true => None,
            false => {
                let setup = templates.render_block("builder.Dockerfile", "setup", &ctx)?;
                Some(BuilderImage::new(&ctx, &self.builder_context, setup))
            }
        };
        let runtime =
            (!templates.is_overridden("runtime.Dockerfile")).then(|| RuntimeImage::new(&ctx));
        self.builder_image = builder;
        self.runtime_image = runtime;
        Ok(())
    }

    /// The variables of the templates, from the Plan's parts (FROM the local base).
    fn context(&self) -> Context<'_> {
        let (package, build, container) = (&self.package, &self.build, &self.container);
        let profile = build.profile.as_str();
        Context {
            package: PackageCtx {
                name: &package.name,
                version: &package.version,
                description: package.description.as_deref(),
                license: package.license.as_deref(),
                repository: package.repository.as_deref(),
            },
            bin: &build.bin,
            bin_path: &self.bin_path,
            members: &self.group.members,
            group_features: self.group.features(),
            app_root: APP_ROOT,
            cargo_home: format!("{APP_ROOT}/cargo"),
            target_dir: format!("{APP_ROOT}/target"),
            scripts_dir: SCRIPTS_DIR,
            scripts_url: format!("image://{SCRIPTS_DIR}"),
            destination: DESTINATION,
            source_dir: SOURCE_DIR,
            artifacts_dir: ARTIFACTS_DIR,
            builder_base: &self.base,
            builder_packages: &self.builder_packages,
            runtime_dir: self.runtime_dir(),
            runtime_context_dir: RUNTIME_CONTEXT_DIR,
            ca_bundle: CA_BUNDLE,
            tzdata: container.tzdata,
            builder_user: container.builder_user,
            runtime_user: container.runtime_user,
            builder_image: self.builder.reference(),
            // The cluster's ImageStreamTags use the stable `okd.tag`.
            builder_stream_tag: self.stream_tag(Stage::Builder),
            builder_name: &self.builder.name,
            app_name: &self.app.name,
            okd_tag: &self.okd.builds.tag,
            app_image: self.app.reference(),
            runtime_image: self.runtime.reference(),
            app_stream: self.app.stream(),
            git_uri: self.okd.git.uri.as_deref(),
            git_ref: self.okd.git.git_ref.as_deref(),
            context_dir: Some(self.layout.workspace_in_repo.as_str()).filter(|d| *d != "."),
            profile,
            profile_dir: profile_dir(profile),
            features: &build.features,
            no_default_features: build.no_default_features,
            vendor: build.vendor,
            strip_env: build.strip.then(|| {
                format!(
                    "CARGO_PROFILE_{}_STRIP",
                    profile.to_ascii_uppercase().replace('-', "_")
                )
            }),
            env: &container.env,
            labels: &self.image_labels,
            port: container.port,
            expose_services: container.port.map(|p| format!("{p}:http")),
        }
    }

    /// A `docker run` of the runtime image as a pod runs it: read-only root, a tmpfs at `/tmp`,
    /// the port published and the configured `args`.
    pub fn run_hint(&self) -> String {
        let mut hint = String::from("docker run --rm --read-only --tmpfs /tmp --cap-drop ALL");
        if let Some(p) = self.container.port {
            hint.push_str(&format!(" -p {p}:{p}"));
        }
        hint.push(' ');
        hint.push_str(&self.runtime.reference());
        for a in &self.container.args {
            hint.push(' ');
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+".contains(c));
            match plain {
                true => hint.push_str(a),
                false => hint.push_str(&format!("'{}'", a.replace('\'', r"'\''"))),
            }
        }
        hint
    }

    /// The package name: the value of [`TOOL_LABEL`] on everything this plan creates.
    pub fn package(&self) -> &str {
        &self.package.name
    }

    /// The service's name: the package's, or a binary's of its `bins` (the default of its image
    /// names, and its directory under `target/s2i/`).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The package version (the images' `org.opencontainers.image.version`).
    pub fn version(&self) -> &str {
        &self.package.version
    }

    /// The image of `stage`, as the local chain tags it.
    pub fn image(&self, stage: Stage) -> &ImageRef {
        match stage {
            Stage::Builder => &self.builder,
            Stage::App => &self.app,
            Stage::Runtime => &self.runtime,
        }
    }

    /// The image the local builder is `FROM`: `builder-base`, or the `--builder-base` /
    /// `XTASK_S2I_BUILDER_BASE` override (the cluster's is [`Cluster::base`]).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The binary's name.
    pub fn bin(&self) -> &str {
        &self.build.bin
    }

    /// Where `assemble` prepares the runtime image's files in the app image ([`RUNTIME_DIR`]),
    /// or `None` with `runtime-files = "none"`.
    pub fn runtime_dir(&self) -> Option<&'static str> {
        (self.container.runtime_files != crate::config::RuntimeFiles::None).then_some(RUNTIME_DIR)
    }

    /// Absolute path of the binary inside the app image (the runtime BuildConfig copies from it).
    pub fn bin_path(&self) -> &str {
        &self.bin_path
    }

    /// The local builder context: [`DOCKERFILE`] (FROM [`Plan::base`]) and `s2i/bin/*`.
    pub fn builder_context(&self) -> &[RenderedFile] {
        &self.builder_context
    }

    /// The contents of the local builder context's [`DOCKERFILE`].
    pub fn builder_dockerfile(&self) -> &str {
        self.builder_context
            .iter()
            .find(|f| f.path == DOCKERFILE)
            .map(|f| f.contents.as_str())
            .expect("the builder context has a Dockerfile")
    }

    /// The committed builder context of the manifests: the same files, FROM [`Cluster::base`].
    pub fn cluster_builder_context(&self) -> &[RenderedFile] {
        &self.cluster_builder_context
    }

    /// The runtime image's Dockerfile; its build context is this file plus the binary named
    /// [`Plan::bin`].
    pub fn runtime_dockerfile(&self) -> &str {
        &self.runtime_dockerfile
    }

    /// The builder image as typed values, for the engine to assemble without `docker build`;
    /// `None` when `.s2i/templates/builder.Dockerfile` overrides the template.
    pub fn builder_image(&self) -> Option<&BuilderImage> {
        self.builder_image.as_ref()
    }

    /// The runtime image as typed values, for the engine to assemble without `docker build`;
    /// `None` when `.s2i/templates/runtime.Dockerfile` overrides the template.
    pub fn runtime_image(&self) -> Option<&RuntimeImage> {
        self.runtime_image.as_ref()
    }

    /// Labels of the runtime image: OCI, `io.k8s.*` and the configured ones.
    pub fn image_labels(&self) -> &BTreeMap<String, String> {
        &self.image_labels
    }

    /// Labels of the app image: the group leader's [`Plan::image_labels`].
    pub(crate) fn app_labels(&self) -> &BTreeMap<String, String> {
        &self.app_labels
    }

    /// The services this Plan's builder and app stage build, this one among them.
    pub fn group(&self) -> &Group {
        &self.group
    }

    /// Whether this Plan leads its group: the one whose builder and app stage the manifests
    /// hold (always, for a group of one).
    pub(crate) fn leads_group(&self) -> bool {
        self.group.name == self.service
    }

    /// Every local and manifest path.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// How the binary is built: the resolved `build` keys, as the configuration has them.
    pub fn settings(&self) -> &Build {
        &self.build
    }

    /// For tests of the source closure: the settings, to change. The rendered files are not
    /// rendered again, so a Plan changed this way describes no real configuration.
    #[cfg(feature = "internal")]
    #[doc(hidden)]
    pub fn settings_mut(&mut self) -> &mut Build {
        &mut self.build
    }

    /// How the base image is obtained when it is not present locally.
    pub fn pull_policy(&self) -> PullPolicy {
        self.pull_policy
    }

    /// What the images run with: the resolved `user`, `env`, `labels` and `port`.
    pub fn container(&self) -> &Container {
        &self.container
    }

    /// The resolved `[package.metadata.s2i.okd]`, as the configuration has it.
    pub fn okd(&self) -> &Okd {
        &self.okd
    }

    /// `stream:<okd.tag>`: the ImageStreamTag of `stage` in the cluster, the same whatever the
    /// package version, so a release changes no spec.
    pub fn stream_tag(&self, stage: Stage) -> String {
        format!("{}:{}", self.image(stage).stream(), self.okd.builds.tag)
    }

    /// For the engine's tests: the image of `stage`, to rename.
    #[cfg(test)]
    pub(crate) fn image_mut(&mut self, stage: Stage) -> &mut ImageRef {
        match stage {
            Stage::Builder => &mut self.builder,
            Stage::App => &mut self.app,
            Stage::Runtime => &mut self.runtime,
        }
    }

    /// The names the manifests derive: the workload's name and the tracked upstream base.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// What the cluster's source build sees: the app BuildConfig's `contextDir` and the
    /// workspace's place in it, found when the Plan was made; the error, if it could not be
    /// found, is the manifests' to report.
    pub fn cluster_source(&self) -> Result<&ClusterSource, Error> {
        self.cluster_source.as_ref().map_err(Error::clone)
    }

    /// The app build's environment, as the app BuildConfig's `sourceStrategy.env` holds it: the
    /// configured `env` and, when the workspace is below the source root,
    /// [`WORKSPACE_DIR_ENV`] with its place there. It wins over the source's `.s2i/environment`.
    pub fn build_env(&self) -> BTreeMap<String, String> {
        let mut env = self.container.env.clone();
        if let Ok(source) = &self.cluster_source
            && source.workspace_dir != "."
        {
            env.insert(WORKSPACE_DIR_ENV.into(), source.workspace_dir.clone());
        }
        env
    }

    /// The template overrides that were used.
    #[cfg(feature = "internal")]
    #[doc(hidden)]
    pub fn overrides(&self) -> &[std::path::PathBuf] {
        &self.overrides
    }

    /// sha256 over the rendered builder context (paths, modes and contents).
    pub fn builder_context_digest(&self) -> String {
        let mut h = Sha256::new();
        for f in &self.builder_context {
            h.update(f.path.as_bytes());
            h.update([0]);
            h.update(f.mode.to_le_bytes());
            h.update((f.contents.len() as u64).to_le_bytes());
            h.update(f.contents.as_bytes());
        }
        hex(&h.finalize())
    }

    /// The Plan's part of the app stage's input digest: the settings that change what
    /// `assemble` builds, keyed by name (the engine adds the builder's contract, the source's
    /// overrides and the labels): the build's ([`Build::app_inputs`] decides, key by key), the
    /// environment and the binary's path.
    pub fn app_key(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut key = self.build.app_inputs();
        key.insert("env".into(), serde_json::json!(self.container.env));
        key.insert("bin-path".into(), self.bin_path.clone().into());
        if self.group.is_shared() {
            for k in ["bin", "features", "bin-path"] {
                key.remove(k);
            }
            key.insert("members".into(), serde_json::json!(self.group.members));
        }
        key
    }
}

/// The images of the three stages, as the local chain tags them, and the cluster's names.
fn stage_images(images: &crate::config::Images) -> ([ImageRef; 3], Cluster) {
    let image = |name: &str| ImageRef {
        name: name.to_string(),
        tag: images.tag.clone(),
    };
    let [builder, app, runtime] = [
        &images.builder_image,
        &images.app_image,
        &images.runtime_image,
    ]
    .map(|name| image(name));
    let cluster = Cluster {
        app_name: runtime.stream().to_string(),
        base_stream: ImageRef {
            name: format!("{}-base", builder.stream()),
            tag: base_tag(&images.builder_base),
        },
        base: images.builder_base.clone(),
    };
    ([builder, app, runtime], cluster)
}

/// The directory of `profile` under `target/<triple>/`.
fn profile_dir(profile: &str) -> &str {
    match profile {
        "dev" | "test" => "debug",
        "bench" => "release",
        other => other,
    }
}

/// Lowercase hexadecimal of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The tag the base ImageStream uses for the upstream image: its tag, `latest` when it has none,
/// or `pinned` for a digest reference.
fn base_tag(base: &str) -> String {
    if base.contains('@') {
        return "pinned".into();
    }
    names::split_tag(base).1.unwrap_or("latest").to_string()
}

/// The labels of the app and runtime images. User labels win over the generated ones.
fn image_labels(
    p: &PackageInfo,
    configured: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            // Descriptions may span lines in Cargo.toml; labels are one line.
            let one_line: String = v
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .filter(|c| !c.is_control())
                .collect();
            labels.insert(k.to_string(), one_line);
        }
    };
    put("org.opencontainers.image.title", Some(&p.name));
    put("org.opencontainers.image.version", Some(&p.version));
    put(
        "org.opencontainers.image.description",
        p.description.as_deref(),
    );
    put("org.opencontainers.image.licenses", p.license.as_deref());
    put("org.opencontainers.image.source", p.repository.as_deref());
    put("org.opencontainers.image.url", p.homepage.as_deref());
    put("io.k8s.display-name", Some(&p.name));
    put(
        "io.k8s.description",
        Some(p.description.as_deref().unwrap_or(&p.name)),
    );
    put("io.openshift.tags", Some(&format!("rust,{}", p.name)));
    for (k, v) in configured {
        labels.insert(k.clone(), v.clone());
    }
    labels
}
