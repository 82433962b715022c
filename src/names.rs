//! Grammar checks for the strings that end up in image references, Kubernetes object names,
//! Dockerfiles and shell scripts, the image IDs the classic builder prints, and the two names
//! derived from others (an image's ImageStream, a webhook's default Secret), so the
//! configuration's checks and the Plan derive them alike.
//!
//! Each check returns `Err(reason)` with a lowercase sentence that says what is wrong; the caller
//! (see `config`) adds which file and key the value came from. Nothing here knows about Cargo.

/// The longest tag the OCI distribution spec allows.
const MAX_TAG: usize = 128;

/// Checks an image repository name without tag or digest, e.g. `quay.io/acme/hello-world`
/// (OCI distribution spec: optional `host[:port]/`, then lowercase path components).
pub fn image_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the image name is empty".into());
    }
    if s.len() > 255 {
        return Err("the image name is longer than 255 characters".into());
    }
    if let Some(c) = s.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("the image name contains the character {c:?}"));
    }
    if s.contains('@') {
        return Err("an image name cannot carry a digest here; give the name only".into());
    }
    let mut parts: Vec<&str> = s.split('/').collect();
    if parts.len() > 1 && looks_like_host(parts[0]) {
        let host = parts.remove(0);
        registry_host(host)?;
    }
    for part in parts {
        path_component(part)?;
    }
    Ok(())
}

/// Checks a full reference `name[:tag][@digest]`, as used for `builder-base`.
pub fn image_reference(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the image reference is empty".into());
    }
    if let Some(c) = s.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "the image reference `{}` contains the character {c:?}",
            printable(s)
        ));
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        digest_str(d)?;
    }
    let (name, tag) = split_tag(rest);
    image_name(name)?;
    if let Some(t) = tag {
        self::tag(t)?;
    }
    Ok(())
}

/// The OKD ImageStream of an image repository name: its last path component.
pub fn image_stream(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The default name of the Secret holding a webhook's key: `<stream>-<kind>-webhook`.
pub fn webhook_secret(stream: &str, kind: &str) -> String {
    format!("{stream}-{kind}-webhook")
}

/// Splits `name[:tag]` where a `:` inside the registry host (a port) is not a tag separator.
pub fn split_tag(s: &str) -> (&str, Option<&str>) {
    match s.rfind(':') {
        Some(i) if !s[i + 1..].contains('/') => (&s[..i], Some(&s[i + 1..])),
        _ => (s, None),
    }
}

/// The image a line of the classic builder's output names: ` ---> 3f2a9c1b0d4e` after a step,
/// `Successfully built 3f2a9c1b0d4e` at the end; `None` for other lines (` ---> Running in …`,
/// ` ---> Using cache`, `Step 2/9 : …`). For `cargo xtask bench`'s baseline only.
#[cfg(feature = "internal")]
pub fn classic_build_image(line: &str) -> Option<&str> {
    let line = line.trim();
    let id = line
        .strip_prefix("---> ")
        .or_else(|| line.strip_prefix("Successfully built "))?
        .trim();
    (id.len() >= 12 && id.chars().all(|c| c.is_ascii_hexdigit())).then_some(id)
}

/// Checks an OCI tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn tag(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the tag is empty".into());
    }
    if s.len() > MAX_TAG {
        return Err(format!("the tag is longer than {MAX_TAG} characters"));
    }
    let mut chars = s.chars();
    let first = chars.next().unwrap_or('-');
    if !(first.is_ascii_alphanumeric() || first == '_') {
        return Err(format!(
            "the tag `{}` must start with a letter, a digit or `_`",
            printable(s)
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "the tag `{}` contains {c:?}; tags may contain only letters, digits, `_`, `.` and `-`",
            printable(s)
        ));
    }
    Ok(())
}

/// Turns a package version (which may carry `+build` metadata) into a valid tag.
pub fn tag_from_version(version: &str) -> String {
    version
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn digest_str(d: &str) -> Result<(), String> {
    let Some((algo, hex)) = d.split_once(':') else {
        return Err(format!("the digest `{}` has no algorithm", printable(d)));
    };
    if algo.is_empty()
        || !algo
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
    {
        return Err(format!(
            "the digest algorithm `{}` is invalid",
            printable(algo)
        ));
    }
    if hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("the digest `{}` is not hexadecimal", printable(d)));
    }
    Ok(())
}

fn looks_like_host(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

fn registry_host(host: &str) -> Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    // No let chains in the modules a build.rs compiles: the builder image's rustc may be 1.85.
    let bad_port = port.is_some_and(
        |p| !matches!(p.parse::<u16>(), Ok(n) if n > 0 && p.chars().all(|c| c.is_ascii_digit())),
    );
    if bad_port {
        return Err(format!(
            "the registry port in `{}` is not a port number (1 to 65535)",
            printable(host)
        ));
    }
    if name.is_empty()
        || name.split('.').any(|label| {
            label.is_empty()
                || label.starts_with('-')
                || label.ends_with('-')
                || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    {
        return Err(format!(
            "the registry host `{}` is not a valid host name",
            printable(host)
        ));
    }
    Ok(())
}

/// One path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn path_component(part: &str) -> Result<(), String> {
    let bad = || {
        Err(format!(
            "the image name component `{}` is invalid: use lowercase letters and digits, separated by `.`, `_`, `__` or `-`",
            printable(part)
        ))
    };
    if part.is_empty() {
        return Err("the image name has an empty path component (`//` or a trailing `/`)".into());
    }
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return bad();
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if alnum(b) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__`, or one or more `-`.
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &part[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.chars().all(|c| c == '-');
        if !ok {
            return bad();
        }
    }
    Ok(())
}

/// DNS-1123 label: the name of most Kubernetes objects (Service, Deployment, ImageStream...).
pub fn dns1123_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the name is empty".into());
    }
    if s.len() > 63 {
        return Err(format!(
            "`{}` is longer than 63 characters, the limit for a Kubernetes name",
            printable(s)
        ));
    }
    let ok_chars = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok_chars || s.starts_with('-') || s.ends_with('-') {
        return Err(format!(
            "`{}` is not a valid Kubernetes name (DNS-1123 label: lowercase letters, digits and `-`, starting and ending with a letter or digit)",
            printable(s)
        ));
    }
    Ok(())
}

/// DNS-1123 subdomain: dot-separated labels, at most 253 characters (Secret names).
pub fn dns1123_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err(format!("`{}` is longer than 253 characters", printable(s)));
    }
    for label in s.split('.') {
        dns1123_label(label).map_err(|_| {
            format!(
                "`{}` is not a valid Kubernetes name (DNS-1123 subdomain: lowercase letters, digits, `-` and `.`)",
                printable(s)
            )
        })?;
    }
    Ok(())
}

/// A plain identifier that may reach a shell script or Dockerfile unquoted: binary, profile and
/// feature names. Cargo's own grammar for these is narrower than what a shell would tolerate.
pub fn cargo_ident(s: &str, what: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
    {
        return Err(format!(
            "the {what} `{}` contains {c:?}; only letters, digits, `_` and `-` are allowed",
            printable(s)
        ));
    }
    Ok(())
}

/// A feature name as Cargo accepts it in `--features`: `name` or `dep/name`.
pub fn feature(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("a feature name is empty".into());
    }
    let ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+' | '.' | '/') || c == ':');
    if !ok || s.starts_with('-') {
        return Err(format!(
            "the feature `{}` is not a valid feature name",
            printable(s)
        ));
    }
    Ok(())
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn env_name(s: &str) -> Result<(), String> {
    let mut chars = s.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    };
    if s.is_empty() {
        return Err("the environment variable name is empty".into());
    }
    if !ok {
        return Err(format!(
            "`{}` is not a valid environment variable name (letters, digits and `_`, not starting with a digit)",
            printable(s)
        ));
    }
    Ok(())
}

/// A system package name as apt, dnf and apk spell it: a letter or digit, then letters, digits
/// and `+ . _ - :` (an architecture suffix such as `:amd64`); no options, no spaces, no versions.
pub fn system_package(s: &str) -> Result<(), String> {
    let ok = s.len() <= 128
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '_' | '-' | ':'));
    if !ok {
        return Err(format!(
            "`{}` is not a package name (letters, digits, `+`, `.`, `_`, `-` and `:`, starting with a letter or digit; no options or versions)",
            printable(s)
        ));
    }
    Ok(())
}

/// A label key: an optional DNS prefix and `/`, then letters, digits, `.`, `_`, `-`.
pub fn label_key(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    if !ok {
        return Err(format!(
            "`{}` is not a valid label key (letters, digits, `.`, `_`, `-` and `/`, starting and ending with a letter or digit)",
            printable(s)
        ));
    }
    Ok(())
}

/// A free-text value (label or environment value): any printable text on one line.
pub fn one_line_text(s: &str) -> Result<(), String> {
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the value contains the control character {c:?}; values must be a single line of printable text"
        ));
    }
    Ok(())
}

/// A relative path inside the repository: no `..`, not absolute, no control characters.
pub fn relative_path(s: &str) -> Result<(), String> {
    one_line_text(s)?;
    if s.starts_with('/') || s.starts_with('\\') {
        return Err(format!(
            "`{}` is absolute; give a path relative to the repository",
            printable(s)
        ));
    }
    if s.split(['/', '\\']).any(|c| c == "..") {
        return Err(format!(
            "`{}` leaves the repository with `..`",
            printable(s)
        ));
    }
    Ok(())
}

/// A git repository URL as a BuildConfig's `git.uri`.
pub fn git_uri(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the git URI is empty".into());
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "the git URI `{}` contains whitespace or control characters",
            printable(s)
        ));
    }
    let known = ["https://", "http://", "ssh://", "git://", "git@", "file://"];
    if !known.iter().any(|p| s.starts_with(p)) {
        return Err(format!(
            "the git URI `{}` is not a URL OKD can clone (https://, ssh://, git:// or git@host:path)",
            printable(s)
        ));
    }
    Ok(())
}

/// A git ref (branch, tag or commit).
pub fn git_ref(s: &str) -> Result<(), String> {
    let bad = s.is_empty()
        || s.starts_with('-')
        || s.contains("..")
        || s.chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c));
    if bad {
        return Err(format!("`{}` is not a valid git ref", printable(s)));
    }
    Ok(())
}

/// The value of a quantity that [`quantity`] accepts, for comparing two of them (`1Gi` →
/// 1073741824, `500m` → 0.5).
pub fn quantity_value(s: &str) -> Option<f64> {
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        _ => return None,
    };
    num.parse::<f64>().ok().map(|n| n * factor)
}

/// A Kubernetes resource quantity such as `500m`, `2`, `1Gi`, `1.5G`.
pub fn quantity(s: &str) -> Result<(), String> {
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    let suffixes = [
        "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    let num_ok = !num.is_empty()
        && num.chars().filter(|&c| c == '.').count() <= 1
        && num.chars().any(|c| c.is_ascii_digit());
    if !num_ok || !suffixes.contains(&suffix) {
        return Err(format!(
            "`{}` is not a Kubernetes quantity (e.g. `500m`, `2`, `512Mi`, `4Gi`)",
            printable(s)
        ));
    }
    Ok(())
}

/// Shows a value with control characters and bidirectional-text controls escaped, so an error
/// message cannot be forged or visually reordered by it.
pub fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() || is_bidi_control(c) {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// The Unicode characters that reorder how text is displayed ("Trojan Source"): they are not
/// control characters, but a message must not print them raw.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        for ok in [
            "docker.io/library/rust:1-slim",
            "rust",
            "localhost/xtask-s2i/rust:trixie",
            "localhost:5000/a/b__c:1.0",
            "quay.io/acme/hello-world",
            "registry.example.com:443/x/y@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(image_reference(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "Rust",
            "rust:",
            "rust:-x",
            "a//b",
            "a/b/",
            "rust\nRUN rm -rf /",
            "rust:1 slim",
            "-rust",
            "rust@sha256:xyz",
            "a..b",
        ] {
            assert!(image_reference(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn split_tag_ignores_port() {
        assert_eq!(split_tag("localhost:5000/a"), ("localhost:5000/a", None));
        assert_eq!(
            split_tag("localhost:5000/a:1"),
            ("localhost:5000/a", Some("1"))
        );
    }

    #[test]
    fn kubernetes_names() {
        assert!(dns1123_label("hello-world").is_ok());
        assert!(dns1123_label("hello_world").is_err());
        assert!(dns1123_label("-a").is_err());
        assert!(dns1123_label(&"a".repeat(64)).is_err());
        assert!(dns1123_subdomain("a.b-c").is_ok());
    }

    #[test]
    fn quantities() {
        for ok in ["500m", "2", "1Gi", "1.5G"] {
            assert!(quantity(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1 Gi", "Gi", "1.2.3", "1gb"] {
            assert!(quantity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn version_tags() {
        assert_eq!(tag_from_version("1.0.0+build.5"), "1.0.0-build.5");
        assert!(tag(&tag_from_version("0.1.0-alpha.1")).is_ok());
    }

    #[test]
    #[cfg(feature = "internal")]
    fn classic_build_images() {
        assert_eq!(
            classic_build_image(" ---> 3f2a9c1b0d4e"),
            Some("3f2a9c1b0d4e")
        );
        assert_eq!(
            classic_build_image("Successfully built aedec489ee71\n"),
            Some("aedec489ee71")
        );
        assert_eq!(classic_build_image(" ---> Running in 3f2a9c1b0d4e"), None);
        assert_eq!(classic_build_image(" ---> Using cache"), None);
        assert_eq!(classic_build_image(" ---> 3f2a9c"), None);
        assert_eq!(classic_build_image("Step 1/2 : FROM x"), None);
    }
}
