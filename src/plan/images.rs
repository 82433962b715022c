//! The builder and runtime images as typed values: what the default `builder.Dockerfile` and
//! `runtime.Dockerfile` say, made from the same template variables they are rendered from, so the
//! engine can assemble the images without reading a Dockerfile.
//!
//! The templates stay what the cluster builds (`docker build` of the committed builder context,
//! the runtime BuildConfig's inline Dockerfile); these values are what the local chain assembles
//! in one step each. A user's override of a Dockerfile template in `.s2i/templates/` has no typed
//! form: the Plan then holds `None` and the engine builds the rendered override with `docker
//! build`. A test builds both ways and compares the images (`docker::direct_assembly_*`).

use super::{Context, RenderedFile};

/// The builder image of the default `builder.Dockerfile`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderImage {
    /// The `FROM` image: the local base.
    pub from: String,
    /// The `LABEL`s, in the template's order.
    pub labels: Vec<(String, String)>,
    /// The `ENV`s, in the template's order; the setup runs with them.
    pub env: Vec<(String, String)>,
    /// The `COPY s2i/bin/ <scripts_dir>/`: the rendered scripts, each at its absolute path in
    /// the image.
    pub scripts: Vec<RenderedFile>,
    /// The directory the setup runs in (`WORKDIR`), and the image's working directory.
    pub workdir: String,
    /// The user the setup runs as (`USER 0`).
    pub setup_user: String,
    /// The command of the `RUN` (the template's `setup` block), for `/bin/sh -c`.
    pub setup: String,
    /// The image's `USER`: the assemble user.
    pub user: u32,
    /// The `EXPOSE`d port.
    pub port: Option<u16>,
    /// The `CMD`: the usage script.
    pub cmd: Vec<String>,
}

/// The runtime image of the default `runtime.Dockerfile`, `FROM scratch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeImage {
    /// The `LABEL`s, in the template's order (`dictsort`).
    pub labels: Vec<(String, String)>,
    /// The `ENV`s, in the template's order: the configured `env` (`dictsort`), then
    /// `SSL_CERT_FILE` with the runtime files.
    pub env: Vec<(String, String)>,
    /// The `EXPOSE`d port.
    pub port: Option<u16>,
    /// Whether the runtime files (the context's `runtime/`) are copied to `/`.
    pub files: bool,
    /// The image's `USER`.
    pub user: u32,
    /// Where the binary is copied, relative to `/`: its name.
    pub binary: String,
    /// The `ENTRYPOINT`: the binary.
    pub entrypoint: Vec<String>,
}

/// Pairs in the order of minijinja's `dictsort`: by key, case-insensitively.
fn dictsort<'a>(map: impl IntoIterator<Item = (&'a String, &'a String)>) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = map
        .into_iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    pairs.sort_by_key(|(k, _)| k.to_lowercase());
    pairs
}

impl BuilderImage {
    /// The builder of the default template: `ctx` is what it is rendered from, `context` the
    /// rendered builder context (its `s2i/bin/` is copied), `setup` its rendered `setup` block.
    pub(super) fn new(ctx: &Context<'_>, context: &[RenderedFile], setup: String) -> BuilderImage {
        let s = |v: &str| v.to_string();
        let mut labels = vec![
            (s("io.openshift.s2i.scripts-url"), ctx.scripts_url.clone()),
            (s("io.openshift.s2i.destination"), s(ctx.destination)),
            (
                s("io.openshift.s2i.assemble-user"),
                ctx.builder_user.to_string(),
            ),
        ];
        if let Some(expose) = &ctx.expose_services {
            labels.push((s("io.openshift.expose-services"), expose.clone()));
        }
        labels.extend([
            (
                s("io.k8s.description"),
                format!(
                    "Builds the static Rust binary `{}` of {} with Source-to-Image",
                    ctx.bin, ctx.package.name
                ),
            ),
            (
                s("io.k8s.display-name"),
                format!("{} builder", ctx.package.name),
            ),
            (
                s("io.openshift.tags"),
                format!("builder,rust,{}", ctx.package.name),
            ),
        ]);
        let env = vec![
            (s("APP_ROOT"), s(ctx.app_root)),
            (s("HOME"), s(ctx.app_root)),
            (s("CARGO_HOME"), ctx.cargo_home.clone()),
            (s("CARGO_TARGET_DIR"), ctx.target_dir.clone()),
            (s("OPENSSL_STATIC"), s("1")),
            (s("PKG_CONFIG_ALL_STATIC"), s("1")),
        ];
        let scripts = context
            .iter()
            .filter_map(|f| {
                let name = f.path.strip_prefix("s2i/bin/")?;
                Some(RenderedFile {
                    path: format!("{}/{name}", ctx.scripts_dir),
                    contents: f.contents.clone(),
                    mode: f.mode,
                })
            })
            .collect();
        BuilderImage {
            from: s(ctx.builder_base),
            labels,
            env,
            scripts,
            workdir: s(ctx.app_root),
            setup_user: s("0"),
            setup,
            user: ctx.builder_user,
            port: ctx.port,
            cmd: vec![format!("{}/usage", ctx.scripts_dir)],
        }
    }
}

impl RuntimeImage {
    /// The runtime image of the default template, from what it is rendered from.
    pub(super) fn new(ctx: &Context<'_>) -> RuntimeImage {
        let mut env = dictsort(ctx.env);
        if ctx.runtime_dir.is_some() {
            env.push(("SSL_CERT_FILE".to_string(), ctx.ca_bundle.to_string()));
        }
        RuntimeImage {
            labels: dictsort(ctx.labels),
            env,
            port: ctx.port,
            files: ctx.runtime_dir.is_some(),
            user: ctx.runtime_user,
            binary: ctx.bin.to_string(),
            entrypoint: vec![format!("/{}", ctx.bin)],
        }
    }
}
