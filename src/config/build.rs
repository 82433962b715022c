//! How the binary is built: which binary target, its features, the Cargo profile, vendoring and
//! stripping (`bin`, `features`, `no-default-features`, `profile`, `vendor`, `strip`).

use cargo_metadata::{Package, TargetKind};
use serde::Serialize;

use super::layer::layer;
use super::validator::Validator;
use crate::Error;
use crate::names;

layer! {
    /// The build keys of `[package.metadata.s2i]` as written.
    pub(crate) struct BuildLayer {
        // The binary is per package: a workspace default would put one binary in every image.
        bin: String {
            key: "bin",
            ty: "string",
            example: r#"bin = "hello-world""#,
            inherit: per_package,
        }
        features: Vec<String> {
            key: "features",
            ty: "array of strings",
            example: r#"features = ["tls"]"#,
            inherit: replace,
        }
        no_default_features: bool {
            key: "no-default-features",
            ty: "boolean",
            example: "no-default-features = true",
            inherit: replace,
        }
        profile: String {
            key: "profile",
            ty: "string",
            example: r#"profile = "release""#,
            inherit: replace,
        }
        vendor: bool {
            key: "vendor",
            ty: "boolean",
            example: "vendor = false",
            inherit: replace,
        }
        strip: bool {
            key: "strip",
            ty: "boolean",
            example: "strip = false",
            inherit: replace,
        }
    }
}

/// How the binary is built, validated, with its defaults: what `assemble` and the source closure
/// read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Build {
    /// The binary target that goes into the image.
    pub bin: String,
    /// The features `assemble` enables.
    pub features: Vec<String>,
    /// Whether `assemble` builds with `--no-default-features`.
    pub no_default_features: bool,
    /// The Cargo profile `assemble` builds with.
    pub profile: String,
    /// Vendor the dependencies into the source tar and build `--offline`.
    pub vendor: bool,
    /// Strip debug info and symbols from the binary (cargo's `strip = "symbols"` for the
    /// profile, through the rendered `assemble`).
    pub strip: bool,
}

impl BuildLayer {
    /// A service of `bins`: the binary its table names.
    pub(super) fn set_bin(&mut self, bin: String) {
        self.bin = Some(bin);
    }

    /// Checks the build keys of `package`'s merged configuration and applies their defaults.
    pub(super) fn resolve(self, v: &Validator, package: &Package) -> Result<Build, Error> {
        let BuildLayer {
            bin,
            features,
            no_default_features,
            profile,
            vendor,
            strip,
        } = self;
        let bin = v.bin(bin, package)?;
        let features = features.unwrap_or_default();
        v.features(&features, package)?;
        let profile = profile.unwrap_or_else(|| "release".into());
        v.check(
            &["profile"],
            names::cargo_ident(&profile, "profile name"),
            || r#"e.g. `profile = "release"`"#.into(),
        )?;
        Ok(Build {
            bin,
            features,
            no_default_features: no_default_features.unwrap_or(false),
            profile,
            vendor: vendor.unwrap_or(true),
            strip: strip.unwrap_or(true),
        })
    }
}

impl Build {
    #[cfg(feature = "cli")]
    /// The settings that change what `assemble` builds, keyed by name: the build's part of the
    /// app stage's input digest. Every key is either here or named as covered elsewhere, so a
    /// new one cannot be forgotten.
    pub(crate) fn app_inputs(&self) -> serde_json::Map<String, serde_json::Value> {
        let Build {
            bin,
            features,
            no_default_features,
            profile,
            vendor,
            // In the rendered `assemble`, so in the builder image's ID.
            strip: _,
        } = self;
        let serde_json::Value::Object(key) = serde_json::json!({
            "features": features,
            "no-default-features": no_default_features,
            "profile": profile,
            "vendor": vendor,
            "bin": bin,
        }) else {
            unreachable!("a JSON object literal")
        };
        key
    }
}

impl Validator<'_> {
    /// `bin`: one of the package's binary targets; the only one, or Cargo's `default-run`, when
    /// unset.
    fn bin(&self, raw: Option<String>, package: &Package) -> Result<String, Error> {
        let name = package.name.as_str();
        let bins: Vec<String> = package
            .targets
            .iter()
            .filter(|t| t.kind.contains(&TargetKind::Bin))
            .map(|t| t.name.clone())
            .collect();
        let bin_list = || {
            bins.iter()
                .map(|b| format!("`{b}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match raw {
            Some(b) => {
                self.check(&["bin"], names::cargo_ident(&b, "binary name"), || {
                    format!("the binary targets of `{name}` are {}", bin_list())
                })?;
                if !bins.contains(&b) {
                    return Err(self.err(
                        &["bin"],
                        format!("package `{name}` has no binary target `{b}`"),
                        Some(if bins.is_empty() {
                            "the package has no binary target; add `src/main.rs` or a `[[bin]]`"
                                .into()
                        } else {
                            format!("the binary targets of `{name}` are {}", bin_list())
                        }),
                    ));
                }
                Ok(b)
            }
            // Cargo's own choice for `cargo run` when there are several.
            None if bins.len() > 1
                && package
                    .default_run
                    .as_ref()
                    .is_some_and(|d| bins.contains(d)) =>
            {
                Ok(package.default_run.clone().unwrap_or_default())
            }
            None => match bins.as_slice() {
                [one] => {
                    self.check(&["bin"], names::cargo_ident(one, "binary name"), || {
                        "rename the binary target".into()
                    })?;
                    Ok(one.clone())
                }
                [] => Err(self.err(
                    &["bin"],
                    format!("package `{name}` has no binary target to put in an image"),
                    Some("add `src/main.rs` or a `[[bin]]` target".into()),
                )),
                _ => Err(self.err(
                    &["bin"],
                    format!("package `{name}` has several binary targets and `bin` does not say which one goes in the image"),
                    Some(format!("set `bin` to one of {}, e.g. `bin = \"{}\"` (or `default-run` in `[package]`)", bin_list(), bins[0])),
                )),
            },
        }
    }

    /// `features`: each one a feature of the package (or `dependency/feature`).
    fn features(&self, features: &[String], package: &Package) -> Result<(), Error> {
        let name = package.name.as_str();
        let known = || {
            let list: Vec<String> = package.features.keys().map(|k| format!("`{k}`")).collect();
            if list.is_empty() {
                format!("package `{name}` declares no features")
            } else {
                format!("the features of `{name}` are {}", list.join(", "))
            }
        };
        for (i, f) in features.iter().enumerate() {
            let idx = i.to_string();
            let path = ["features", idx.as_str()];
            self.check(&path, names::feature(f), known)?;
            if !f.contains('/') && !package.features.contains_key(f) {
                return Err(self.err(
                    &path,
                    format!("package `{name}` has no feature `{f}`"),
                    Some(known()),
                ));
            }
        }
        Ok(())
    }
}
