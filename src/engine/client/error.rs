//! The engine's words for the crate's one [`Error`]: what failed, with the engine's (bollard's)
//! error kept as its source, "not found" (a 404) as data, and for a failed build the last lines
//! of its output. bollard's error type is named here and in the client only.

use crate::Error;

/// Whether the engine answered 404: no such image, container or path.
fn is_404(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl Error {
    /// `what` failed because of `source`: `{:#}` reads `what: cause`.
    pub(super) fn request(what: impl Into<String>, source: bollard::errors::Error) -> Error {
        let not_found = is_404(&source);
        let e = Error::new(what).with_source(source);
        if not_found { e.not_found() } else { e }
    }

    /// The engine's error, shown as it is.
    pub(super) fn engine(source: bollard::errors::Error) -> Error {
        let not_found = is_404(&source);
        let e = Error::wrap(source);
        if not_found { e.not_found() } else { e }
    }

    /// An answer the engine should have given and did not.
    pub(crate) fn msg(what: impl Into<String>) -> Error {
        Error::new(what)
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
        assert!(
            plain
                .downcast_ref::<Error>()
                .is_some_and(Error::is_not_found)
        );
        assert_eq!(
            format!("{plain:#}"),
            format!("{:#}", anyhow::Error::new(not_found()))
        );
        assert!(!Error::msg("no ID").is_not_found());
    }
}
