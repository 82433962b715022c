//! `[package.metadata.s2i]` and `[workspace.metadata.s2i]`: what the user wrote, checked and with
//! the workspace defaults merged in.
//!
//! The configuration is split by domain, as cargo-dist's `config/v1` is: each file owns a group
//! of keys — its raw layer, how each key inherits, the key's documentation row, its validation
//! and its resolved form — and nothing else. The top-level keys are [`images`] (the base, the
//! three image names, their tag and pull policy), [`build`] (the binary, features, profile,
//! vendoring, stripping) and [`container`] (users, environment, labels, port); the `okd` table is
//! [`okd::git`], [`okd::builds`], [`okd::workload`] and [`okd::manifests`]. What every domain
//! shares is written once: [`layer`] (the `layer!` macro and the workspace merge), [`read`]
//! (passes one and two: unknown keys with a "did you mean", then types, in the words of TOML),
//! [`source`] (which file and line a key came from) and [`validator`] (pass three's errors). This
//! module knows neither Docker nor OpenShift; the `plan` module turns a [`Config`] into the chain.
//! A `--builder-base` override is not configuration: [`builder_base_override`] checks it on its own.
//!
//! **How to add a key**: add a field to the `layer!` of its domain's file, with its name, type,
//! default, example and inheritance (`replace`, `merge` or `per_package`) — that one entry makes
//! the raw field, the unknown-key list, the type check, the workspace merge and the refusal of
//! per-package keys in `[workspace.metadata.s2i]`; the domain's `resolve` then fails to compile
//! until it validates the key and puts it in the domain's resolved struct (which the Plan hands
//! out unchanged: `Plan::settings`, `Plan::container`, `Plan::okd`). Then read the field where it
//! is used (a template's context, the engine, a manifest) and add its row to README's
//! configuration reference, which a test checks against the key rows.

pub(crate) mod build;
pub(crate) mod container;
pub(crate) mod images;
pub(crate) mod layer;
pub(crate) mod okd;
pub(crate) mod package;
mod read;
mod source;
mod validator;

use std::path::{Path, PathBuf};

use cargo_metadata::{Metadata, MetadataCommand, Package};
use serde_json::Value;

pub use build::Build;
pub use container::{Container, RuntimeFiles};
#[cfg(feature = "internal")]
pub use images::DEFAULT_BUILDER_BASE;
pub use images::{BUILDER_BASE_ENV, Images, PullPolicy, builder_base_override};
pub use layer::KeyDoc;
pub use okd::Okd;
#[cfg(feature = "cli")]
pub use okd::git::WebhookKind;
#[cfg(feature = "cli")]
pub use okd::workload::{Tls, Workload};
pub use package::PackageInfo;

use crate::Error;
use layer::{ApplyLayer, concat};
use source::Source;
use validator::Validator;

/// Every key of `[package.metadata.s2i]`, domain by domain.
pub const KEYS: &[KeyDoc] = &concat::<
    {
        images::ImagesLayer::KEYS.len()
            + build::BuildLayer::KEYS.len()
            + container::ContainerLayer::KEYS.len()
            + okd::TABLE_KEY.len()
    },
>(&[
    images::ImagesLayer::KEYS,
    build::BuildLayer::KEYS,
    container::ContainerLayer::KEYS,
    okd::TABLE_KEY,
]);

/// Every key of `[package.metadata.s2i.okd]`, domain by domain.
pub const OKD_KEYS: &[KeyDoc] = &concat::<
    {
        okd::manifests::ManifestsLayer::KEYS.len()
            + okd::git::GitLayer::KEYS.len()
            + okd::builds::BuildsLayer::KEYS.len()
            + okd::workload::WorkloadLayer::KEYS.len()
    },
>(&[
    okd::manifests::ManifestsLayer::KEYS,
    okd::git::GitLayer::KEYS,
    okd::builds::BuildsLayer::KEYS,
    okd::workload::WorkloadLayer::KEYS,
]);

/// The validated configuration of one package, with every default applied: one resolved part
/// per domain. The `okd` table is the manifests' business and not part of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// What `[package]` says about the package.
    pub package: PackageInfo,
    /// The service's name: the package's, or for a table of `bins` the binary's (the default
    /// of its image names).
    pub service: String,
    /// The directory of the workspace's root `Cargo.toml`.
    pub workspace_root: PathBuf,
    /// The images of the chain: base, names, tag, pull policy.
    pub images: Images,
    /// How the binary is built.
    pub build: Build,
    /// What the images run with: users, environment, labels, port.
    pub container: Container,
    pub(crate) okd: Okd,
}

impl Config {
    /// The resolved `okd` table, for this repository's tests.
    #[cfg(feature = "internal")]
    #[doc(hidden)]
    pub fn okd(&self) -> &Okd {
        &self.okd
    }
}

/// `[package.metadata.s2i]` (or `[workspace.metadata.s2i]`) as written: the layers of its
/// domains, every key optional.
#[derive(Debug, Clone, Default)]
struct RawConfig {
    images: images::ImagesLayer,
    build: build::BuildLayer,
    container: container::ContainerLayer,
    okd: okd::OkdLayer,
}

impl RawConfig {
    /// Passes one and two over one manifest's table: unknown keys (with a "did you mean"), then
    /// types (through serde, with the path of the offending key).
    fn read(src: &Source) -> Result<RawConfig, Error> {
        match &src.value {
            Value::Null => return Ok(RawConfig::default()),
            Value::Object(_) => {}
            other => {
                return Err(src.error(
                    &[],
                    format!("expected a table, found {}", read::json_kind(other)),
                    Some(
                        "write it as a table, e.g. `[package.metadata.s2i]` followed by `port = 8080`"
                            .into(),
                    ),
                ));
            }
        }
        read::known_keys(src)?;
        if let Some(e) = read::nan_or_inf(src) {
            return Err(e);
        }
        let mut errors = Vec::new();
        let raw = RawConfig {
            images: read::layer(&src.value, &[], &mut errors),
            build: read::layer(&src.value, &[], &mut errors),
            container: read::layer(&src.value, &[], &mut errors),
            okd: okd::OkdLayer::read(&src.value, &mut errors),
        };
        read::first_error(src, errors)?;
        Ok(raw)
    }

    /// Pass three: every domain in turn, then the [`Config`] with every default applied.
    fn resolve(
        self,
        v: &Validator,
        metadata: &Metadata,
        package: &Package,
        service: &str,
    ) -> Result<Config, Error> {
        let RawConfig {
            images,
            build,
            container,
            okd,
        } = self;
        let info = package::package_info(package);
        let images = images.resolve(v, package, service)?;
        let build = build.resolve(v, package)?;
        let container = container.resolve(v)?;
        let okd = okd.resolve(
            v,
            info.repository.clone(),
            metadata,
            &images.runtime_image,
            container.port,
        )?;
        Ok(Config {
            package: info,
            service: service.to_string(),
            workspace_root: metadata.workspace_root.clone().into_std_path_buf(),
            images,
            build,
            container,
            okd,
        })
    }
}

impl ApplyLayer for RawConfig {
    fn apply_layer(&mut self, layer: RawConfig) {
        let RawConfig {
            images,
            build,
            container,
            okd,
        } = layer;
        self.images.apply_layer(images);
        self.build.apply_layer(build);
        self.container.apply_layer(container);
        self.okd.apply_layer(okd);
    }
}

/// Runs `cargo metadata --no-deps` for the workspace of `manifest_path` (or the current directory).
pub fn read_metadata(manifest_path: Option<&Path>) -> anyhow::Result<Metadata> {
    let mut cmd = MetadataCommand::new();
    cmd.no_deps();
    if let Some(p) = manifest_path {
        cmd.manifest_path(p);
    }
    anyhow::Context::with_context(cmd.exec(), || match manifest_path {
        Some(p) => format!("failed to read the Cargo workspace of `{}`", p.display()),
        None => "failed to read the Cargo workspace of the current directory".to_string(),
    })
}

/// Reads, merges and validates the configuration of `package`: its first service (the package's
/// own, or the first of its `bins`). `builder-base` is the configured one: a `--builder-base`
/// override goes through [`builder_base_override`] instead.
pub fn load(metadata: &Metadata, package: &Package) -> Result<Config, Error> {
    let mut services = load_services(metadata, package)?;
    Ok(services.remove(0))
}

/// Reads, merges and validates the services of `package`: the package's own
/// `[package.metadata.s2i]`, or, when it has `bins`, one per binary named there, each table over
/// the package's (which over the workspace's), the keys of one service (`bin`, the image names,
/// `okd.context-dir`) not inherited.
pub(crate) fn load_services(metadata: &Metadata, package: &Package) -> Result<Vec<Config>, Error> {
    let pkg_src = Source::package(package);
    let ws_src = Source::workspace(metadata);
    let pkg_raw = RawConfig::read(&pkg_src)?;
    let mut raw = RawConfig::read(&ws_src)?;
    read::refuse_per_package(&ws_src)?;
    raw.apply_layer(pkg_raw);
    let bins = bin_tables(&pkg_src)?;
    if bins.is_empty() {
        let v = Validator {
            bin: None,
            pkg: &pkg_src,
            ws: &ws_src,
        };
        return Ok(vec![raw.resolve(&v, metadata, package, &package.name)?]);
    }
    let mut services = Vec::new();
    for name in bins {
        let bin_src = Source::bin(&pkg_src, &name);
        let mut bin_raw = RawConfig::read(&bin_src)?;
        bin_raw.build.set_bin(name.clone());
        let mut merged = raw.clone();
        merged.apply_layer(bin_raw);
        let v = Validator {
            bin: Some(&bin_src),
            pkg: &pkg_src,
            ws: &ws_src,
        };
        services.push(merged.resolve(&v, metadata, package, &name)?);
    }
    Ok(services)
}

/// The names of `bins` (each a table, without a `bin` of its own), in name order; `bins`
/// and `bin` together are refused.
fn bin_tables(pkg: &Source) -> Result<Vec<String>, Error> {
    let Some(bins) = pkg.value.get(source::BINS) else {
        return Ok(Vec::new());
    };
    let refuse = |path: &[&str], message: String, note: &str| {
        Err(pkg.error(path, message, Some(note.to_string())))
    };
    let example = "e.g. `[package.metadata.s2i.bins.server]` with `port = 8080`, and \
                   `[package.metadata.s2i.bins.migrate]` with `okd.workload = \"cronjob\"`";
    let Value::Object(map) = bins else {
        return refuse(
            &[source::BINS],
            "`bins` must be a table of tables, one per binary".into(),
            example,
        );
    };
    if pkg.has(&["bin"]) {
        return refuse(&["bin"], "`bin` and `bins` cannot both be set: with `bins`, each of its tables is a service of the binary it names".into(), "remove `bin`, or make it a table of `bins`");
    }
    for (name, table) in map {
        if !table.is_object() {
            return refuse(
                &[source::BINS, name],
                format!("`bins.{name}` must be a table"),
                example,
            );
        }
        if table.get("bin").is_some() {
            return refuse(
                &[source::BINS, name, "bin"],
                format!("`bins.{name}` names its binary: `bin` cannot be set in it"),
                "remove `bin`",
            );
        }
    }
    if map.is_empty() {
        return refuse(&[source::BINS], "`bins` is empty".into(), example);
    }
    Ok(map.keys().cloned().collect())
}
