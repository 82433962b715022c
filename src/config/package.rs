//! What the package itself says about itself, from `[package]`: its name, version and the
//! metadata that goes into the image labels. Not configuration: nothing here is validated.

use std::path::PathBuf;

use cargo_metadata::Package;

/// What the package itself says about itself (from `[package]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInfo {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub license: Option<String>,
    pub repository: Option<String>,
    pub homepage: Option<String>,
    pub authors: Vec<String>,
    /// The package's `Cargo.toml`.
    pub manifest_path: PathBuf,
    /// The directory of the package's `Cargo.toml`.
    pub dir: PathBuf,
}

/// What `[package]` says about the package.
pub(super) fn package_info(package: &Package) -> PackageInfo {
    PackageInfo {
        name: package.name.to_string(),
        version: package.version.to_string(),
        description: package.description.clone(),
        license: package.license.clone(),
        repository: package.repository.clone(),
        homepage: package.homepage.clone(),
        authors: package.authors.clone(),
        manifest_path: package.manifest_path.clone().into_std_path_buf(),
        dir: package
            .manifest_path
            .parent()
            .map(|p| p.to_path_buf().into_std_path_buf())
            .unwrap_or_default(),
    }
}
