//! The one error type of the engine's calls: what failed, with the engine's (bollard's) error
//! kept as its source, and for a failed build the last lines of its output.

use std::fmt;

/// A failed call to the engine.
///
/// It displays as what failed (`failed to inspect the image `…``) with the engine's error as its
/// [`source`](std::error::Error::source), so `{:#}` reads `what: cause`; or, where the text has
/// always been the engine's own message, as that message (with the engine error's own sources).
#[derive(Debug)]
pub struct Error {
    what: Option<String>,
    source: Option<bollard::errors::Error>,
    tail: String,
}

impl Error {
    /// `what` failed because of `source`.
    pub(super) fn request(what: impl Into<String>, source: bollard::errors::Error) -> Error {
        Error {
            what: Some(what.into()),
            source: Some(source),
            tail: String::new(),
        }
    }

    /// The engine's error, shown as it is.
    pub(super) fn engine(source: bollard::errors::Error) -> Error {
        Error {
            what: None,
            source: Some(source),
            tail: String::new(),
        }
    }

    /// An answer the engine should have given and did not.
    pub(super) fn msg(what: impl Into<String>) -> Error {
        Error {
            what: Some(what.into()),
            source: None,
            tail: String::new(),
        }
    }

    pub(super) fn with_tail(mut self, tail: String) -> Error {
        self.tail = tail;
        self
    }

    /// Whether the engine answered 404: no such image, container or path.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.source,
            Some(bollard::errors::Error::DockerResponseServerError {
                status_code: 404,
                ..
            })
        )
    }

    /// The last lines of a failed build's output, indented, one per line (empty otherwise).
    pub fn tail(&self) -> &str {
        &self.tail
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.what, &self.source) {
            (Some(what), _) => f.write_str(what),
            (None, Some(source)) => source.fmt(f),
            (None, None) => f.write_str("the container engine failed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match (&self.what, &self.source) {
            (Some(_), Some(source)) => Some(source),
            (None, Some(source)) => source.source(),
            (_, None) => None,
        }
    }
}

impl From<bollard::errors::Error> for Error {
    fn from(e: bollard::errors::Error) -> Error {
        Error::engine(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn not_found() -> bollard::errors::Error {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message: "no such image".into(),
        }
    }

    #[test]
    fn the_engine_error_is_the_source_and_displays_as_before() {
        let e = Error::request("failed to inspect the image `x`", not_found());
        assert!(e.is_not_found());
        let source = std::error::Error::source(&e).expect("a source");
        assert!(source.downcast_ref::<bollard::errors::Error>().is_some());
        let with = anyhow::Error::new(e);
        let before = anyhow::Error::new(not_found()).context("failed to inspect the image `x`");
        assert_eq!(format!("{with:#}"), format!("{before:#}"));

        let plain = anyhow::Error::new(Error::engine(not_found()));
        assert_eq!(
            format!("{plain:#}"),
            format!("{:#}", anyhow::Error::new(not_found()))
        );
        assert!(!Error::msg("no ID").is_not_found());
    }
}
