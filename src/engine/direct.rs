//! The builder and runtime images assembled straight through the Engine API, from the typed
//! values of the Plan ([`BuilderImage`], [`RuntimeImage`]) rather than from a Dockerfile.
//!
//! The classic builder turns every instruction into a container and a commit, 1.5–2 s each on
//! fuse-overlayfs: 17 s for the few lines of the builder Dockerfile, 6 s for the runtime's. The
//! images the default templates describe are made here in one step each, with the same image as
//! the result:
//!
//! - the builder: one container from the base with the scripts uploaded and the setup (the
//!   template's `RUN`) as its command, committed with the metadata as the commit's `changes`;
//! - the runtime: one import of a tar of the runtime files and the binary, with the metadata as
//!   the import's `changes`.
//!
//! The engine applies `changes` with its own reading of Dockerfile instructions, so `LABEL`,
//! `ENV`, `USER`, `CMD` and the rest mean what they mean in `docker build`. Docker and Podman
//! read them differently beyond the plainest form, so every change is one single-line
//! instruction, one `key="value"` pair per `LABEL` and `ENV`, with values free of quotes,
//! backslashes and `$`: the form both engines read alike ([`flavor::pair_change`]). A value
//! outside it (a `description` with a quote, ...) leaves the image to `docker build` of its
//! rendered Dockerfile, as does a user's override of the template, and the reason is logged.

use super::{archive, flavor};
use crate::plan::{BuilderImage, RuntimeImage};

/// The `PATH` the classic builder gives an image whose base has none (`FROM scratch`, imported
/// root filesystems).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The metadata of the builder as the commit's `changes`, in the template's order.
pub(crate) fn builder_changes(image: &BuilderImage) -> Result<Vec<String>, String> {
    let mut changes = pair_changes("LABEL", &image.labels)?;
    changes.extend(pair_changes("ENV", &image.env)?);
    changes.push(format!("WORKDIR {}", image.workdir));
    changes.push(format!("USER {}", image.user));
    changes.extend(image.port.map(|p| format!("EXPOSE {p}")));
    changes.push(format!("CMD {}", json(&image.cmd)));
    Ok(changes)
}

/// The metadata of the runtime image as the import's `changes`, in the template's order.
pub(crate) fn runtime_changes(image: &RuntimeImage) -> Result<Vec<String>, String> {
    let mut changes = pair_changes("LABEL", &image.labels)?;
    changes.extend(pair_changes("ENV", &image.env)?);
    changes.extend(image.port.map(|p| format!("EXPOSE {p}")));
    changes.push(format!("USER {}", image.user));
    changes.push(format!("ENTRYPOINT {}", json(&image.entrypoint)));
    Ok(changes)
}

/// The tar of the builder's scripts, to be extracted at `/`: their directory keeps its metadata
/// when the base has it and is made `0755` by the engine when not, as with `COPY`.
pub(crate) fn scripts_tar(image: &BuilderImage) -> Result<Vec<u8>, String> {
    let mut scripts: Vec<_> = image.scripts.iter().collect();
    scripts.sort_by(|a, b| a.path.cmp(&b.path));
    let items = scripts.iter().map(|f| archive::Item {
        path: f.path.trim_start_matches('/'),
        contents: Some(f.contents.as_bytes()),
        mode: f.mode,
    });
    archive::items_tar(items).map_err(|e| format!("could not be packed: {e:#}"))
}

fn json(words: &[String]) -> String {
    serde_json::to_string(words).expect("strings serialize")
}

fn pair_changes(keyword: &str, pairs: &[(String, String)]) -> Result<Vec<String>, String> {
    pairs
        .iter()
        .map(|(k, v)| flavor::pair_change(keyword, k, v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::RenderedFile;

    fn s(v: &str) -> String {
        v.to_string()
    }

    fn builder() -> BuilderImage {
        BuilderImage {
            from: s("localhost/base:1"),
            labels: vec![(s("b"), s("2")), (s("io.k8s.display-name"), s("d e"))],
            env: vec![(s("APP_ROOT"), s("/opt/app-root"))],
            scripts: ["run", "assemble"]
                .map(|name| RenderedFile {
                    path: format!("/usr/libexec/s2i/{name}"),
                    contents: s("#!/bin/sh\n"),
                    mode: 0o755,
                })
                .to_vec(),
            workdir: s("/opt/app-root"),
            setup_user: s("0"),
            setup: s("chmod 0755 /usr/libexec/s2i/*"),
            user: 1001,
            port: Some(8080),
            cmd: vec![s("/usr/libexec/s2i/usage")],
        }
    }

    fn tar_paths(tar: &[u8]) -> Vec<(String, u32)> {
        let mut a = tar::Archive::new(tar);
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.header().mode().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn the_builder_metadata_is_one_single_line_instruction_each() {
        let b = builder();
        assert_eq!(
            builder_changes(&b).unwrap(),
            [
                r#"LABEL b="2""#,
                r#"LABEL io.k8s.display-name="d e""#,
                r#"ENV APP_ROOT="/opt/app-root""#,
                "WORKDIR /opt/app-root",
                "USER 1001",
                "EXPOSE 8080",
                r#"CMD ["/usr/libexec/s2i/usage"]"#,
            ]
        );
        assert_eq!(
            tar_paths(&scripts_tar(&b).unwrap()),
            [
                (s("usr/libexec/s2i/assemble"), 0o755),
                (s("usr/libexec/s2i/run"), 0o755),
            ]
        );
    }

    #[test]
    fn the_runtime_metadata_is_one_single_line_instruction_each() {
        let r = RuntimeImage {
            labels: vec![(s("a"), s("b"))],
            env: vec![(s("A"), s("1")), (s("SSL_CERT_FILE"), s("/etc/ssl/x"))],
            port: None,
            files: true,
            user: 65532,
            binary: s("app"),
            entrypoint: vec![s("/app")],
        };
        assert_eq!(
            runtime_changes(&r).unwrap(),
            [
                r#"LABEL a="b""#,
                r#"ENV A="1""#,
                r#"ENV SSL_CERT_FILE="/etc/ssl/x""#,
                "USER 65532",
                r#"ENTRYPOINT ["/app"]"#
            ]
        );
    }

    #[test]
    fn values_docker_and_podman_read_differently_are_refused() {
        for (key, value, why) in [
            ("a", r#"say "hi""#, "quotes, backslashes"),
            ("a", r"x\y", "quotes, backslashes"),
            ("a", "$HOME", "quotes, backslashes"),
            ("a", "x\ny", "a newline"),
            ("a b", "x", "not a plain name"),
            ("", "x", "not a plain name"),
        ] {
            let mut b = builder();
            b.labels.push((s(key), s(value)));
            let err = builder_changes(&b).unwrap_err();
            assert!(err.contains(why), "{key:?}={value:?}: {err}");
            let r = RuntimeImage {
                labels: Vec::new(),
                env: vec![(s(key), s(value))],
                port: None,
                files: false,
                user: 1,
                binary: s("app"),
                entrypoint: vec![s("/app")],
            };
            let err = runtime_changes(&r).unwrap_err();
            assert!(err.contains("`ENV`") && err.contains(why), "{err}");
        }
    }
}
