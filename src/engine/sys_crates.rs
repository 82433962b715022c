//! What a failed `assemble` says about system libraries and tools: the `-sys` crate whose build
//! script failed, the library or tool it looked for, and the ways out (the crate's own
//! `vendored`/`bundled` feature, a pure-Rust alternative, a `builder-packages` entry), instead of
//! a raw build-script or linker log. Only reads lines; the engine decides where they come from.

/// A `-sys` crate (or build tool) the notes know: its library, the Debian package that brings
/// its headers and static library, and the feature that builds it from source.
struct Known {
    crate_name: &'static str,
    library: &'static str,
    debian: &'static str,
    /// A feature that builds the library from source, with the crate that has it.
    feature: Option<&'static str>,
    /// A pure-Rust alternative.
    alternative: Option<&'static str>,
}

const KNOWN: &[Known] = &[
    Known {
        crate_name: "openssl-sys",
        library: "OpenSSL",
        debian: "libssl-dev",
        feature: Some("`openssl = { features = [\"vendored\"] }`"),
        alternative: Some("rustls (e.g. reqwest's `rustls-tls` instead of `native-tls`)"),
    },
    Known {
        crate_name: "pq-sys",
        library: "libpq",
        debian: "libpq-dev",
        feature: Some("`pq-sys = { features = [\"bundled\"] }`"),
        alternative: Some("a pure-Rust driver (tokio-postgres, sqlx's postgres)"),
    },
    Known {
        crate_name: "libsqlite3-sys",
        library: "SQLite",
        debian: "libsqlite3-dev",
        feature: Some("`rusqlite = { features = [\"bundled\"] }` (or `libsqlite3-sys/bundled`)"),
        alternative: None,
    },
    Known {
        crate_name: "libz-sys",
        library: "zlib",
        debian: "zlib1g-dev",
        feature: Some("`libz-sys = { features = [\"static\"] }`"),
        alternative: Some("miniz_oxide (flate2's default backend)"),
    },
    Known {
        crate_name: "curl-sys",
        library: "libcurl",
        debian: "libcurl4-openssl-dev",
        feature: Some("`curl = { features = [\"static-curl\"] }`"),
        alternative: Some("a pure-Rust HTTP client (reqwest with rustls, ureq)"),
    },
    Known {
        crate_name: "libgit2-sys",
        library: "libgit2",
        debian: "libgit2-dev",
        feature: Some("`git2 = { features = [\"vendored-libgit2\"] }`"),
        alternative: Some("gix"),
    },
    Known {
        crate_name: "clang-sys",
        library: "libclang (for bindgen)",
        debian: "libclang-dev",
        feature: None,
        alternative: None,
    },
];

/// Tools a build script runs, by what its failure says.
const TOOLS: &[(&str, &str, &str)] = &[
    (
        "protoc",
        "the protobuf compiler `protoc`",
        "protobuf-compiler",
    ),
    ("cmake", "`cmake`", "cmake"),
    ("pkg-config", "`pkg-config`", "pkg-config"),
];

/// Whether a line of build output may matter to [`notes`].
pub(crate) fn is_notable(line: &str) -> bool {
    line.contains("failed to run custom build command for `")
        || line.contains("cannot find -l")
        || TOOLS
            .iter()
            .any(|(tool, _, _)| mentions_missing(line, tool))
}

fn mentions_missing(line: &str, tool: &str) -> bool {
    let l = line.to_ascii_lowercase();
    l.contains(tool)
        && (l.contains("not found")
            || l.contains("could not find")
            || l.contains("no such file")
            || l.contains("not installed"))
}

/// The notes for the notable lines of a failed build: one per failed `-sys` build script or
/// missing tool, naming it and the ways out.
pub(crate) fn notes(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |n: String| {
        if !out.contains(&n) {
            out.push(n);
        }
    };
    for line in lines {
        for (tool, what, package) in TOOLS {
            if mentions_missing(line, tool) {
                push(format!(
                    "a build script needs {what}, which the builder lacks: add it with `builder-packages = [\"{package}\"]` (the Debian package; name it as the base's package manager does)"
                ));
            }
        }
        let Some(rest) = line
            .split("failed to run custom build command for `")
            .nth(1)
        else {
            continue;
        };
        let krate = rest.split([' ', '`']).next().unwrap_or_default();
        match KNOWN.iter().find(|k| k.crate_name == krate) {
            Some(k) => push(known_note(k)),
            None if krate.ends_with("-sys") => push(format!(
                "the build script of `{krate}` failed: it links a system library, whose headers and static library (`lib*.a`) the builder needs; add its development package to `builder-packages`, or enable the crate's `vendored`/`bundled` feature if it has one, or use a pure-Rust alternative"
            )),
            None => {}
        }
    }
    out
}

fn known_note(k: &Known) -> String {
    let mut ways = vec![format!(
        "add `builder-packages = [\"{}\"]` (Debian; the builder links it statically)",
        k.debian
    )];
    if let Some(f) = k.feature {
        ways.push(format!("build it from source with {f}"));
    }
    if let Some(a) = k.alternative {
        ways.push(format!("use {a}"));
    }
    format!(
        "the build script of `{}` could not find {} in the builder: {}",
        k.crate_name,
        k.library,
        ways.join("; or ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_openssl_sys_build_script_names_the_crate_the_library_and_the_key() {
        let lines = [
            "error: failed to run custom build command for `openssl-sys v0.9.109`",
            "  Could not find directory of OpenSSL installation, and this `-sys` crate cannot",
        ]
        .map(String::from);
        assert!(is_notable(&lines[0]));
        let found = notes(&lines);
        assert_eq!(found.len(), 1, "{found:?}");
        for s in [
            "`openssl-sys`",
            "OpenSSL",
            "builder-packages = [\"libssl-dev\"]",
            "vendored",
            "rustls",
        ] {
            assert!(found[0].contains(s), "{s}: {}", found[0]);
        }
    }

    #[test]
    fn an_unknown_sys_crate_and_a_missing_protoc_are_explained() {
        let lines = [
            "error: failed to run custom build command for `foo-sys v1.0.0`",
            "  Error: Custom { kind: NotFound, error: \"Could not find `protoc`. If `protoc` is installed, try setting the `PROTOC` environment variable\" }",
        ]
        .map(String::from);
        assert!(lines.iter().all(|l| is_notable(l)));
        let found = notes(&lines);
        assert!(
            found
                .iter()
                .any(|n| n.contains("`foo-sys`") && n.contains("bundled")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|n| n.contains("protobuf-compiler")),
            "{found:?}"
        );
        assert!(notes(&["error: could not compile `app`".to_string()]).is_empty());
    }
}
