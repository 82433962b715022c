//! The Plan: the one description of the builder → app → runtime chain of one package.
//!
//! Image references, tags, paths inside the images, labels and the rendered files all come from
//! here, and the Docker executor (`engine`) and the manifest emitter (`okd`) read nothing else, so
//! the local chain and the cluster chain cannot disagree. A Plan is pure data: building one
//! touches neither Docker nor the file system (beyond reading template overrides).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::names;
use crate::render::Templates;

/// The S2I application root inside the builder and app images.
pub const APP_ROOT: &str = "/opt/app-root";
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
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// `stream:tag`, the ImageStreamTag in OKD.
    pub fn stream_tag(&self) -> String {
        format!("{}:{}", self.stream(), self.tag)
    }
}

/// A rendered file of the builder context, path relative to the context root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedFile {
    pub path: String,
    pub contents: String,
    pub mode: u32,
}

/// The chain of one package.
#[derive(Debug, Clone)]
pub struct Plan {
    pub config: Config,
    /// The image the local builder is `FROM`: `builder-base`, or the `--builder-base` /
    /// `XTASK_S2I_BUILDER_BASE` override.
    pub base: String,
    /// The image the cluster's builder is `FROM`: always the configured `builder-base`, so a local
    /// override never leaks into the committed manifests.
    pub cluster_base: String,
    /// The OKD ImageStreamTag that tracks `cluster_base` with a scheduled import.
    pub base_stream: ImageRef,
    pub builder: ImageRef,
    pub app: ImageRef,
    pub runtime: ImageRef,
    /// Absolute path of the binary inside the app image (the runtime BuildConfig copies from it).
    pub bin_path: String,
    /// Absolute path of the S2I `run` script inside the app image: the app image's `CMD`.
    pub run_script: String,
    /// Absolute path of `assemble` and `save-artifacts` inside the builder image.
    pub assemble_script: String,
    pub save_artifacts_script: String,
    /// The local builder context: `Dockerfile` (FROM `base`) and `s2i/bin/*`.
    pub builder_context: Vec<RenderedFile>,
    /// The committed builder context of the manifests: the same files, FROM `cluster_base`.
    pub cluster_builder_context: Vec<RenderedFile>,
    /// The runtime image's Dockerfile; its build context is this file plus the binary named `bin`.
    pub runtime_dockerfile: String,
    /// Labels of the app and runtime images: OCI, `io.k8s.*` and the configured ones.
    pub image_labels: BTreeMap<String, String>,
    /// Where rendered files go for the local chain: `<target-dir>/s2i/<package>`.
    pub out_dir: PathBuf,
    /// Absolute directory of the generated manifests.
    pub manifests_dir: PathBuf,
    /// The template overrides that were used.
    pub overrides: Vec<PathBuf>,
}

/// The variables every template sees.
#[derive(Serialize)]
struct Context<'a> {
    package: PackageCtx<'a>,
    bin: &'a str,
    bin_path: &'a str,
    app_root: &'a str,
    cargo_home: String,
    target_dir: String,
    scripts_dir: &'a str,
    scripts_url: String,
    destination: &'a str,
    source_dir: &'a str,
    artifacts_dir: &'a str,
    builder_base: &'a str,
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
    /// (the `--builder-base` override, else `config.builder_base`); the manifests always build
    /// FROM the configured `config.builder_base`. `target_dir` is Cargo's target directory.
    pub fn new(
        config: Config,
        local_base: String,
        templates: &Templates,
        target_dir: PathBuf,
    ) -> Result<Plan> {
        let tag = config.tag.clone();
        let image = |name: &str| ImageRef {
            name: name.to_string(),
            tag: tag.clone(),
        };
        let builder = image(&config.builder_image);
        let app = image(&config.app_image);
        let runtime = image(&config.runtime_image);
        let base = local_base;
        let cluster_base = config.builder_base.clone();
        let base_stream = ImageRef {
            name: format!("{}-base", builder.stream()),
            tag: base_tag(&cluster_base),
        };
        let bin_path = format!("{APP_ROOT}/bin/{}", config.bin);
        let image_labels = image_labels(&config);
        let profile_dir = match config.profile.as_str() {
            "dev" | "test" => "debug",
            "bench" => "release",
            other => other,
        }
        .to_string();

        let mut ctx = Context {
            package: PackageCtx {
                name: &config.package.name,
                version: &config.package.version,
                description: config.package.description.as_deref(),
                license: config.package.license.as_deref(),
                repository: config.package.repository.as_deref(),
            },
            bin: &config.bin,
            bin_path: &bin_path,
            app_root: APP_ROOT,
            cargo_home: format!("{APP_ROOT}/cargo"),
            target_dir: format!("{APP_ROOT}/target"),
            scripts_dir: SCRIPTS_DIR,
            scripts_url: format!("image://{SCRIPTS_DIR}"),
            destination: DESTINATION,
            source_dir: SOURCE_DIR,
            artifacts_dir: ARTIFACTS_DIR,
            builder_base: &base,
            builder_user: config.builder_user,
            runtime_user: config.runtime_user,
            builder_image: builder.reference(),
            // The cluster's ImageStreamTags use the stable `okd.tag`.
            builder_stream_tag: format!("{}:{}", builder.stream(), config.okd.tag),
            builder_name: &builder.name,
            app_name: &app.name,
            okd_tag: &config.okd.tag,
            app_image: app.reference(),
            runtime_image: runtime.reference(),
            app_stream: app.stream(),
            git_uri: config.okd.git_uri.as_deref(),
            git_ref: config.okd.git_ref.as_deref(),
            context_dir: Some(config.okd.context_dir.as_str()).filter(|d| *d != "."),
            profile: &config.profile,
            profile_dir: &profile_dir,
            features: &config.features,
            no_default_features: config.no_default_features,
            vendor: config.vendor,
            strip_env: config.strip.then(|| {
                format!(
                    "CARGO_PROFILE_{}_STRIP",
                    config.profile.to_ascii_uppercase().replace('-', "_")
                )
            }),
            env: &config.env,
            labels: &image_labels,
            port: config.port,
            expose_services: config.port.map(|p| format!("{p}:http")),
        };

        let mut builder_context = Vec::new();
        let mut runtime_dockerfile = String::new();
        for t in crate::render::TEMPLATES {
            let contents = templates.render(t.name, &ctx)?;
            match t.name {
                "runtime.Dockerfile" => runtime_dockerfile = contents,
                "builder.Dockerfile" => builder_context.push(RenderedFile {
                    path: "Dockerfile".into(),
                    contents,
                    mode: t.mode,
                }),
                other => builder_context.push(RenderedFile {
                    path: other.to_string(),
                    contents,
                    mode: t.mode,
                }),
            }
        }

        let cluster_builder_context = if cluster_base == base {
            builder_context.clone()
        } else {
            ctx.builder_base = &cluster_base;
            let dockerfile = templates.render("builder.Dockerfile", &ctx)?;
            let mut files = builder_context.clone();
            for f in files.iter_mut().filter(|f| f.path == "Dockerfile") {
                f.contents = dockerfile.clone();
            }
            files
        };

        let out_dir = target_dir.join("s2i").join(&config.package.name);
        let manifests_dir = config.workspace_root.join(&config.okd.manifests_dir);
        Ok(Plan {
            base,
            cluster_base,
            base_stream,
            builder,
            app,
            runtime,
            run_script: format!("{SCRIPTS_DIR}/run"),
            assemble_script: format!("{SCRIPTS_DIR}/assemble"),
            save_artifacts_script: format!("{SCRIPTS_DIR}/save-artifacts"),
            bin_path,
            builder_context,
            cluster_builder_context,
            runtime_dockerfile,
            image_labels,
            out_dir,
            manifests_dir,
            overrides: templates.overrides.clone(),
            config,
        })
    }

    /// The package name: the value of [`TOOL_LABEL`] on everything this plan creates.
    pub fn package(&self) -> &str {
        &self.config.package.name
    }

    /// The binary's name.
    pub fn bin(&self) -> &str {
        &self.config.bin
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

    /// The environment of the build (app stage) and of the running container.
    pub fn env(&self) -> &BTreeMap<String, String> {
        &self.config.env
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
fn image_labels(config: &Config) -> BTreeMap<String, String> {
    let p = &config.package;
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
    for (k, v) in &config.labels {
        labels.insert(k.clone(), v.clone());
    }
    labels
}
