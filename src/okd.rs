//! The OKD/OpenShift manifests of the chain (filled in by the manifests issue).

use anyhow::Result;

use crate::files::FileSet;
use crate::plan::Plan;

/// One [`FileSet`] per manifests directory.
pub fn file_sets(_plans: &[Plan]) -> Result<Vec<FileSet>> {
    Ok(Vec::new())
}
