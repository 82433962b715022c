//! Pass three's helper: the merged configuration knows each value, the [`Validator`] knows where
//! each one was written (the package's manifest, else the workspace root's), so every domain's
//! check can name the right file, key and line.

use super::source::Source;
use crate::Error;

/// Checks a merged configuration, naming the file each value came from.
pub(crate) struct Validator<'a> {
    pub(super) pkg: &'a Source,
    pub(super) ws: &'a Source,
}

impl Validator<'_> {
    /// The source a (merged) value came from: the package when it sets the key, else the workspace.
    pub(super) fn src(&self, path: &[&str]) -> &Source {
        if !self.pkg.has(path) && self.ws.has(path) {
            self.ws
        } else {
            self.pkg
        }
    }

    /// The error about the key at `path`, with `note`.
    pub(super) fn err(
        &self,
        path: &[&str],
        message: impl Into<String>,
        note: Option<String>,
    ) -> Error {
        self.src(path).error(path, message.into(), note)
    }

    /// The error of a `names` check, about the key at `path`, with `note`.
    pub(super) fn check(
        &self,
        path: &[&str],
        result: Result<(), String>,
        note: impl FnOnce() -> String,
    ) -> Result<(), Error> {
        result.map_err(|m| self.err(path, m, Some(note())))
    }
}
