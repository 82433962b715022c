//! Pass three's helper: the merged configuration knows each value, the [`Validator`] knows where
//! each one was written (the package's manifest, else the workspace root's), so every domain's
//! check can name the right file, key and line.

use super::source::Source;
use crate::Error;

/// Checks a merged configuration, naming the file each value came from.
pub(crate) struct Validator<'a> {
    /// A service of `bins`: its `[package.metadata.s2i.bins.<name>]`.
    pub(super) bin: Option<&'a Source>,
    pub(super) pkg: &'a Source,
    pub(super) ws: &'a Source,
}

impl Validator<'_> {
    /// The source a (merged) value came from: the most specific table that sets the key (the
    /// binary's, the package's, the workspace's), else the most specific.
    pub(super) fn src(&self, path: &[&str]) -> &Source {
        let tables: Vec<&Source> = self.bin.into_iter().chain([self.pkg, self.ws]).collect();
        tables
            .iter()
            .copied()
            .find(|t| t.has(path))
            .unwrap_or(tables[0])
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
