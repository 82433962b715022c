//! Fixture repositories shaped like real ones, written by the tests (never downloaded by a
//! container): each is a Cargo workspace adopted the way the README says, with a committed
//! `Cargo.lock` resolved on the host against crates.io.
//!
//! - [`cli`]: a single-package CLI with an optional dependency whose published manifest relies on
//!   target auto-discovery (`instant` 0.1) behind a feature, Windows-only dependencies, a `-sys`
//!   path crate that compiles bundled C code with the builder's C compiler and links it
//!   statically, and a release profile that keeps debug info.
//! - [`workspace`]: a multi-crate workspace whose binary is named differently from its package, a
//!   `src/bin/` layout with `default-run`, a custom profile (`inherits = "release"`),
//!   workspace-inherited package fields, a git dependency and `[patch.crates-io]` with a path.
//! - [`protoc`]: a service whose build script runs the protobuf compiler `protoc`, which only the
//!   builder's `builder-packages` bring.
//! - [`tls_client`]: an HTTPS client on `openssl` (so `openssl-sys`, linked statically with the
//!   builder's `libssl-dev`, and `zlib1g-dev` and `libzstd-dev` for the `-lz -lzstd` that Debian's
//!   `libcrypto.pc` asks of a static link) that trusts the platform's store, writes a temporary file, and
//!   reports what the server answered: one fixture for the builder packages, static linking, the
//!   runtime image's CA bundle and `/tmp`.
//! - [`tmp_service`]: an HTTP service started with arguments (`--greeting TEXT`, from `args`)
//!   that writes a temporary file on every request, answering 500 when it cannot: its readiness
//!   probe (`okd.health-path`) passes only with a writable `/tmp`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes `text` at `root/rel`, creating the directories.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs a command in `dir` and panics with its output when it fails.
pub fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("failed to run `{program}`: {e}"));
    assert!(
        out.status.success(),
        "`{program} {}` in `{}` failed:\n{}",
        args.join(" "),
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Commits everything in `dir` to a fresh git repository.
pub fn git_commit_all(dir: &Path) {
    run(dir, "git", &["init", "-q"]);
    commit(dir, "fixture");
}

/// Commits everything in the git repository `dir`.
pub fn commit(dir: &Path, message: &str) {
    run(dir, "git", &["add", "-A"]);
    run(
        dir,
        "git",
        &[
            "-c",
            "user.name=xtask-s2i tests",
            "-c",
            "user.email=tests@xtask-s2i.invalid",
            "commit",
            "-q",
            "-m",
            message,
        ],
    );
}

/// Resolves the fixture's `Cargo.lock` on the host (the registry may be reached here; the
/// container build never does).
fn lock(root: &Path) {
    run(root, &cargo(), &["generate-lockfile"]);
}

/// The `-sys` crate: bundled C code compiled by `cc` in its build script, linked statically.
fn sys_crate(root: &Path, dir: &str) {
    write(
        root,
        &format!("{dir}/Cargo.toml"),
        r#"[package]
name = "adopt-sys"
version = "0.1.0"
edition = "2021"
links = "adoptsum"
build = "build.rs"

[build-dependencies]
cc = "1"
"#,
    );
    write(
        root,
        &format!("{dir}/build.rs"),
        "fn main() {\n    cc::Build::new().file(\"csrc/sum.c\").compile(\"adoptsum\");\n}\n",
    );
    write(
        root,
        &format!("{dir}/csrc/sum.c"),
        "int adopt_sum(int a, int b) { return a + b; }\n",
    );
    write(
        root,
        &format!("{dir}/src/lib.rs"),
        r#"//! Bindings to the bundled C code.
unsafe extern "C" {
    fn adopt_sum(a: i32, b: i32) -> i32;
}

/// Adds in C.
pub fn sum(a: i32, b: i32) -> i32 {
    unsafe { adopt_sum(a, b) }
}
"#,
    );
}

/// The single-package CLI. Returns its root.
pub fn cli(dest: &Path) -> PathBuf {
    let root = dest.join("adopt-cli");
    write(
        &root,
        "Cargo.toml",
        r#"[package]
name = "adopt-cli"
version = "0.3.0"
edition = "2021"
repository = "https://example.invalid/adopt/cli"

[features]
timing = ["dep:instant"]

[dependencies]
adopt-sys = { path = "sys" }
instant = { version = "0.1", optional = true }

[target.'cfg(windows)'.dependencies]
windows-sys = { version = "0.59", features = ["Win32_Foundation"] }

[profile.release]
debug = 1

[package.metadata.s2i]
"#,
    );
    write(
        &root,
        "src/main.rs",
        r#"fn main() {
    let sum = adopt_sys::sum(40, 2);
    #[cfg(feature = "timing")]
    let timing = format!(" timed={}", instant::Instant::now().elapsed().as_secs() < 60);
    #[cfg(not(feature = "timing"))]
    let timing = String::new();
    println!("adopt-cli {} sum={sum}{timing}", env!("CARGO_PKG_VERSION"));
}
"#,
    );
    sys_crate(&root, "sys");
    write(&root, ".gitignore", "/target\n");
    lock(&root);
    git_commit_all(&root);
    root
}

/// The multi-crate workspace, with `gitdep` in its own git repository beside it. Returns the
/// workspace root.
pub fn workspace(dest: &Path) -> PathBuf {
    let git = dest.join("gitdep");
    write(
        &git,
        "Cargo.toml",
        "[package]\nname = \"gitdep\"\nversion = \"0.2.0\"\nedition = \"2021\"\n",
    );
    write(
        &git,
        "src/lib.rs",
        "//! A dependency fetched from git.\npub fn word() -> &'static str {\n    \"git\"\n}\n",
    );
    git_commit_all(&git);

    let root = dest.join("adopt-ws");
    write(
        &root,
        "Cargo.toml",
        &format!(
            r#"[workspace]
members = ["crates/*"]
resolver = "2"

[workspace.package]
version = "1.4.2"
edition = "2021"
license = "MIT"
repository = "https://example.invalid/adopt/ws"

[workspace.dependencies]
itoa = "1"
gitdep = {{ git = "file://{}" }}

[patch.crates-io]
itoa = {{ path = "patches/itoa" }}

[profile.dist]
inherits = "release"
debug = 1
"#,
            git.display()
        ),
    );
    write(
        &root,
        "crates/ws-core/Cargo.toml",
        r#"[package]
name = "ws-core"
version.workspace = true
edition.workspace = true
license.workspace = true

[dependencies]
itoa.workspace = true
gitdep.workspace = true
"#,
    );
    write(
        &root,
        "crates/ws-core/src/lib.rs",
        r#"//! The core of the workspace.
pub fn line(n: u64) -> String {
    let mut buf = itoa::Buffer::new();
    format!("{} {} {}", gitdep::word(), buf.format(n), itoa::PATCHED)
}
"#,
    );
    write(
        &root,
        "crates/ws-cli/Cargo.toml",
        r#"[package]
name = "ws-cli"
version.workspace = true
edition.workspace = true
license.workspace = true
repository.workspace = true
default-run = "wsctl"

[dependencies]
ws-core = { path = "../ws-core" }

[package.metadata.s2i]
profile = "dist"
"#,
    );
    write(
        &root,
        "crates/ws-cli/src/bin/wsctl.rs",
        "fn main() {\n    println!(\"wsctl {}\", ws_core::line(7));\n}\n",
    );
    write(
        &root,
        "crates/ws-cli/src/bin/ws-helper.rs",
        "fn main() {\n    println!(\"helper\");\n}\n",
    );
    write(
        &root,
        "patches/itoa/Cargo.toml",
        "[package]\nname = \"itoa\"\nversion = \"1.0.99\"\nedition = \"2021\"\n",
    );
    write(
        &root,
        "patches/itoa/src/lib.rs",
        r#"//! A patched `itoa` with the part of the API the workspace uses.
pub const PATCHED: &str = "patched";

#[derive(Default)]
pub struct Buffer(String);

impl Buffer {
    pub fn new() -> Buffer {
        Buffer::default()
    }

    pub fn format(&mut self, n: u64) -> &str {
        self.0 = n.to_string();
        &self.0
    }
}
"#,
    );
    write(&root, ".gitignore", "/target\n");
    lock(&root);
    git_commit_all(&root);
    root
}

/// The package whose build script compiles `proto/greeting.proto` into a descriptor set with
/// `protoc` (as prost-build and tonic-build do), which the binary embeds and reports on. Its
/// `[package.metadata.s2i]` lists `protobuf-compiler` in `builder-packages`. Returns its root.
pub fn protoc(dest: &Path) -> PathBuf {
    let root = dest.join("adopt-protoc");
    write(
        &root,
        "Cargo.toml",
        r#"[package]
name = "adopt-protoc"
version = "0.1.0"
edition = "2021"
repository = "https://example.invalid/adopt/protoc"
build = "build.rs"

[package.metadata.s2i]
builder-packages = ["protobuf-compiler"]
"#,
    );
    write(
        &root,
        "proto/greeting.proto",
        "syntax = \"proto3\";\npackage greeting;\nmessage Hello { string name = 1; }\n",
    );
    write(
        &root,
        "build.rs",
        r#"use std::process::Command;

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("greeting.pb");
    let status = Command::new("protoc")
        .args(["--proto_path=proto", "--descriptor_set_out"])
        .arg(&out)
        .arg("proto/greeting.proto")
        .status()
        .expect("failed to run `protoc`: install the protobuf compiler");
    assert!(status.success(), "protoc failed");
    println!("cargo:rerun-if-changed=proto/greeting.proto");
}
"#,
    );
    write(
        &root,
        "src/main.rs",
        r#"const DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/greeting.pb"));

fn main() {
    let has = |s: &[u8]| DESCRIPTORS.windows(s.len()).any(|w| w == s);
    println!("descriptors={} hello={}", DESCRIPTORS.len() > 0, has(b"Hello"));
}
"#,
    );
    write(&root, ".gitignore", "/target\n");
    lock(&root);
    git_commit_all(&root);
    root
}

/// The HTTPS client (see the module's list). `client HOST:PORT NAME` connects, checks the
/// server's certificate against the trust store (`SSL_CERT_FILE`, which the runtime image sets),
/// and prints the status line; `client` alone prints where its temporary file went. Returns its
/// root.
pub fn tls_client(dest: &Path) -> PathBuf {
    let root = dest.join("adopt-tls");
    write(
        &root,
        "Cargo.toml",
        r#"[package]
name = "adopt-tls"
version = "0.1.0"
edition = "2024"
rust-version = "1.85"
repository = "https://example.invalid/adopt/tls"

[dependencies]
openssl = "0.10"

[package.metadata.s2i]
builder-packages = ["libssl-dev", "pkg-config", "zlib1g-dev", "libzstd-dev"]
"#,
    );
    write(
        &root,
        "src/main.rs",
        r#"use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tmp = std::env::temp_dir().join("adopt-tls.txt");
    if let Err(e) = std::fs::write(&tmp, b"scratch") {
        println!("tmp error: {e}");
        std::process::exit(3);
    }
    let [addr, name] = args.as_slice() else {
        println!("tmp ok {}", tmp.display());
        return;
    };
    let connector = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls())
        .unwrap()
        .build();
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    match connector.connect(name, tcp) {
        Ok(mut tls) => {
            write!(tls, "GET / HTTP/1.0\r\nHost: {name}\r\n\r\n").unwrap();
            let mut answer = String::new();
            let _ = tls.read_to_string(&mut answer);
            println!("{}", answer.lines().next().unwrap_or("no answer"));
        }
        Err(e) => {
            println!("refused: {e}");
            std::process::exit(2);
        }
    }
}
"#,
    );
    write(&root, ".gitignore", "/target\n");
    lock(&root);
    git_commit_all(&root);
    root
}

/// The source of [`tmp_service`].
const TMP_SERVICE_MAIN: &str = r#"use std::io::{BufRead, BufReader, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let greeting = match args.as_slice() {
        [flag, text] if flag == "--greeting" => text.clone(),
        _ => {
            println!("usage: adopt-tmp --greeting TEXT (got {args:?})");
            std::process::exit(2);
        }
    };
    let listener = std::net::TcpListener::bind("0.0.0.0:8080").unwrap();
    println!("adopt-tmp on 8080, greeting {greeting:?}");
    for (n, stream) in listener.incoming().enumerate() {
        let Ok(mut stream) = stream else { continue };
        let mut reader = BufReader::new(&stream);
        let mut request = String::new();
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
            request.push_str(&line);
            line.clear();
        }
        let file = std::env::temp_dir().join(format!("adopt-tmp-{n}.txt"));
        let (status, body) = match std::fs::write(&file, request.as_bytes()) {
            Ok(()) => {
                let _ = std::fs::remove_file(&file);
                ("200 OK", format!("{greeting}\n"))
            }
            Err(e) => ("500 Internal Server Error", format!("{}: {e}\n", file.display())),
        };
        println!("{} {status}", request.lines().next().unwrap_or(""));
        let _ = write!(
            stream,
            "HTTP/1.0 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    }
}
"#;

/// The root manifest of [`services`].
const SERVICES_WORKSPACE: &str = r#"[workspace]
members = ["common", "api", "worker", "tools"]
resolver = "2"

[workspace.package]
version = "0.1.0"
edition = "2021"
repository = "https://example.invalid/adopt/services"

[workspace.dependencies]
itoa = "1"

[workspace.metadata.s2i]
tag = "it-svc"

[workspace.metadata.s2i.okd]
webhooks = ["github"]
"#;

/// The library the services share, with a crates.io dependency.
fn services_shared(root: &Path) {
    write(
        root,
        "common/Cargo.toml",
        "[package]\nname = \"svc-shared\"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\nitoa.workspace = true\n",
    );
    write(
        root,
        "common/src/lib.rs",
        "//! What the services share.\npub fn line(who: &str, n: u64) -> String {\n    format!(\"{who} {}\", itoa::Buffer::new().format(n))\n}\n",
    );
}

/// A workspace of three services sharing a library and a crates.io dependency: `svc-api` (a
/// port), `svc-worker` (a feature of its own, `fast`, switched on by its configuration) and
/// `svc-tools` (two binaries, each a service of `bins`: `svc-migrate`, and `svc-report` with a
/// label of its own).
/// Every package configures `[package.metadata.s2i]`; the workspace sets the tag. Returns the
/// workspace root.
pub fn services(dest: &Path) -> PathBuf {
    let root = dest.join("svc-ws");
    write(&root, "Cargo.toml", SERVICES_WORKSPACE);
    services_shared(&root);
    let service = |dir: &str, name: &str, extra: &str, s2i: &str| {
        write(
            &root,
            &format!("{dir}/Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion.workspace = true\nedition.workspace = true\nrepository.workspace = true\n{extra}\n[dependencies]\nsvc-shared = {{ path = \"../common\" }}\n\n[package.metadata.s2i]\n{s2i}"
            ),
        );
    };
    service("api", "svc-api", "", "port = 8080\n");
    write(
        &root,
        "api/src/main.rs",
        "fn main() {\n    println!(\"{}\", svc_shared::line(\"api\", 1));\n}\n",
    );
    service(
        "worker",
        "svc-worker",
        "\n[features]\nfast = []\n",
        "features = [\"fast\"]\n",
    );
    write(
        &root,
        "worker/src/main.rs",
        "fn main() {\n    println!(\"{} fast={}\", svc_shared::line(\"worker\", 2), cfg!(feature = \"fast\"));\n}\n",
    );
    service(
        "tools",
        "svc-tools",
        "",
        "\n[package.metadata.s2i.bins.svc-migrate]\n\n[package.metadata.s2i.bins.svc-report]\nlabels = { \"com.example.role\" = \"report\" }\n",
    );
    write(
        &root,
        "tools/src/bin/svc-migrate.rs",
        "fn main() {\n    println!(\"{}\", svc_shared::line(\"migrate\", 3));\n}\n",
    );
    write(
        &root,
        "tools/src/bin/svc-report.rs",
        "fn main() {\n    println!(\"{}\", svc_shared::line(\"report\", 4));\n}\n",
    );
    write(&root, ".gitignore", "/target\n");
    lock(&root);
    git_commit_all(&root);
    root
}

/// The HTTP service (see the module's list) on port 8080: it refuses to start without
/// `--greeting TEXT`, and answers every request 200 with the greeting after writing (and
/// removing) a file in `std::env::temp_dir()`, or 500 with the error when it cannot. Its
/// `[package.metadata.s2i]` sets `port`, `args` and `okd.health-path`. Returns its root.
pub fn tmp_service(dest: &Path) -> PathBuf {
    let root = dest.join("adopt-tmp");
    write(
        &root,
        "Cargo.toml",
        r#"[package]
name = "adopt-tmp"
version = "0.1.0"
edition = "2021"
repository = "https://example.invalid/adopt/tmp"

[package.metadata.s2i]
port = 8080
args = ["--greeting", "hello from args"]

[package.metadata.s2i.okd]
health-path = "/healthz"
"#,
    );
    write(&root, "src/main.rs", TMP_SERVICE_MAIN);
    write(&root, ".gitignore", "/target\n");
    lock(&root);
    git_commit_all(&root);
    root
}
