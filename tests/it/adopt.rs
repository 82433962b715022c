//! Adoption: repositories shaped like real ones ([`crate::fixtures`]) go through the whole chain
//! as a new user would run it, and their runtime images run. What real repositories broke before:
//! vendored crates cut to their manifest that cargo could no longer load, crates cut for features
//! that were switched on later, and runtime images carrying debug info.
//!
//! The source tar is checked on the host first (cheap, no engine): every fixture's tar builds with
//! `cargo build --offline --locked` and an empty cargo home, which is what `assemble` does.
//!
//! The `/tmp` service ([`fixtures::tmp_service`]) also goes through the rehearsal from its
//! committed manifests (one local chain, then the rehearsal's): with its `args` and the `/tmp`
//! volume it is Ready, without the volume mount its probe never passes; its runtime image holds
//! exactly what the committed runtime BuildConfig's `images[].paths` copy out of its app image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use xtask_s2i::ImageArgs;
use xtask_s2i::sink::{Buffer, Event};
use xtask_s2i::source::Closure;

use crate::fixtures;
use crate::support;

/// The tar the app stage would upload for `package` of the workspace at `root`.
fn source_tar(root: &Path, package: &str) -> (Vec<u8>, Vec<Event>) {
    let metadata = xtask_s2i::config::read_metadata(Some(&root.join("Cargo.toml"))).unwrap();
    let plan = xtask_s2i::plan::Plan::for_workspace(&metadata, &[package.to_string()], None)
        .unwrap()
        .remove(0);
    let closure = Closure::scan(&plan, &metadata).unwrap();
    let sink = Buffer::new();
    let mut bytes = Vec::new();
    xtask_s2i::engine::SourceTree::write_tar(&closure, &mut bytes, 1001, 0, &sink).unwrap();
    (bytes, sink.events())
}

/// Path -> contents of every file of a tar.
fn entries(tar: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in tar::Archive::new(tar).entries().unwrap() {
        let mut e = e.unwrap();
        if !e.header().entry_type().is_file() {
            continue;
        }
        let path = e.path().unwrap().display().to_string();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut body).unwrap();
        out.insert(path, body);
    }
    out
}

/// The vendored crate directories of a tar whose name starts with `name-`.
fn vendored<'a>(files: &'a BTreeMap<String, Vec<u8>>, name: &str) -> Vec<&'a str> {
    files
        .keys()
        .filter(|p| {
            p.strip_prefix("vendor/").is_some_and(|r| {
                r.starts_with(&format!("{name}-")) || r.starts_with(&format!("{name}/"))
            })
        })
        .map(String::as_str)
        .collect()
}

fn warnings(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Warning { message } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// Extracts the tar and builds `args` in it with cargo, offline and locked, with an empty cargo
/// home (only the tar counts); returns the target directory.
fn build_extracted(tar: &[u8], dir: &Path, args: &[&str]) -> PathBuf {
    let (src, target, home) = (dir.join("src"), dir.join("target"), dir.join("home"));
    if src.exists() {
        std::fs::remove_dir_all(&src).unwrap();
    }
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    tar::Archive::new(tar).unpack(&src).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--offline", "--locked"])
        .args(args)
        .current_dir(&src)
        .env("CARGO_HOME", &home)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the source tar does not build offline:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target
}

/// Sets `key = value` in the fixture's `[package.metadata.s2i]` (the table must end the file).
fn set_metadata(manifest: &Path, line: &str) {
    let text = std::fs::read_to_string(manifest).unwrap();
    assert!(text.contains("[package.metadata.s2i]\n"), "{text}");
    std::fs::write(manifest, format!("{text}{line}\n")).unwrap();
}

#[test]
fn cut_crates_keep_what_cargo_needs_and_follow_the_features() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fixtures::cli(tmp.path());

    // Feature off: `instant` and `windows-sys` are cut, but the tar still builds.
    let (tar, events) = source_tar(&root, "adopt-cli");
    assert_eq!(warnings(&events), Vec::<String>::new(), "a first run warns");
    let files = entries(&tar);
    for cut in ["instant", "windows-sys"] {
        let kept = vendored(&files, cut);
        assert!(!kept.is_empty(), "`{cut}` is not vendored at all: {kept:?}");
        let code: Vec<&&str> = kept
            .iter()
            .filter(|p| p.ends_with(".rs") && !files[**p].is_empty())
            .collect();
        assert!(code.is_empty(), "`{cut}` keeps its code: {code:?}");
    }
    assert!(
        vendored(&files, "cc")
            .iter()
            .any(|p| p.ends_with("src/lib.rs") && !files[*p].is_empty()),
        "the build dependency `cc` was cut"
    );
    let target = build_extracted(&tar, &tmp.path().join("off"), &[]);
    let out = Command::new(target.join("debug/adopt-cli"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "adopt-cli 0.3.0 sum=42\n"
    );

    // Feature on, same cache: `instant` comes back whole and the tar builds with it.
    set_metadata(&root.join("Cargo.toml"), "features = [\"timing\"]");
    let (tar, _) = source_tar(&root, "adopt-cli");
    let files = entries(&tar);
    assert!(
        vendored(&files, "instant")
            .iter()
            .any(|p| p.ends_with("src/lib.rs") && !files[*p].is_empty()),
        "`instant` is still cut with the feature on"
    );
    let target = build_extracted(&tar, &tmp.path().join("on"), &["--features", "timing"]);
    let out = Command::new(target.join("debug/adopt-cli"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "adopt-cli 0.3.0 sum=42 timed=true\n"
    );
}

#[test]
fn a_real_shaped_workspace_tar_builds_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fixtures::workspace(tmp.path());
    let (tar, events) = source_tar(&root, "ws-cli");
    assert_eq!(warnings(&events), Vec::<String>::new());
    let files = entries(&tar);
    assert!(
        files.keys().any(|p| p.starts_with("vendor/gitdep")),
        "the git dependency is not vendored: {:?}",
        files
            .keys()
            .filter(|p| p.starts_with("vendor/"))
            .take(20)
            .collect::<Vec<_>>()
    );
    let target = build_extracted(&tar, &tmp.path().join("b"), &["--package", "ws-cli"]);
    let out = Command::new(target.join("debug/wsctl")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "wsctl git 7 patched\n"
    );
}

/// One fixture's chain in the engine, tagged `it-adopt`; its images are removed on drop.
struct Chain {
    names: [String; 3],
    tag: &'static str,
}

impl Chain {
    fn new(package: &str) -> Chain {
        let chain = Chain {
            names: [
                format!("{package}-builder"),
                format!("{package}-app"),
                package.to_string(),
            ],
            tag: "it-adopt",
        };
        chain.remove();
        chain
    }

    fn image(&self, i: usize) -> String {
        format!("{}:{}", self.names[i], self.tag)
    }

    fn build(&self, root: &Path) -> Vec<Event> {
        self.build_from(root, support::RUST_BASE)
            .unwrap_or_else(|e| panic!("the chain failed: {e}"))
    }

    /// The chain FROM `base`: its events, or the error and the logs.
    fn build_from(&self, root: &Path, base: &str) -> Result<Vec<Event>, String> {
        let manifest = root.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        if !text.contains("tag = \"it-adopt\"") {
            let text = text.replace(
                "[package.metadata.s2i]\n",
                "[package.metadata.s2i]\ntag = \"it-adopt\"\n",
            );
            std::fs::write(&manifest, text).unwrap();
        }
        let args = ImageArgs {
            manifest_path: Some(manifest),
            builder_base: Some(base.to_string()),
            ..Default::default()
        };
        let sink = Buffer::new();
        if let Err(e) = args.execute(&sink) {
            let logs: Vec<String> = sink
                .events()
                .iter()
                .filter_map(|e| match e {
                    Event::Log { line, .. } => Some(line.clone()),
                    _ => None,
                })
                .collect();
            return Err(format!("{e:#}\n{}", logs.join("\n")));
        }
        Ok(sink.events())
    }

    fn remove(&self) {
        for i in (0..3).rev() {
            let _ = Command::new("docker")
                .args(["rmi", &self.image(i)])
                .output();
        }
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        self.remove();
    }
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The runtime image's binary: (size, bytes), read from `docker export`.
fn runtime_binary(image: &str, bin: &str) -> Vec<u8> {
    let container = docker(&["create", image]);
    let export = Command::new("docker")
        .args(["export", &container])
        .output()
        .unwrap();
    docker(&["rm", &container]);
    for e in tar::Archive::new(export.stdout.as_slice())
        .entries()
        .unwrap()
    {
        let mut e = e.unwrap();
        if e.path().unwrap().display().to_string() == bin {
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut body).unwrap();
            return body;
        }
    }
    panic!("no `{bin}` in {image}");
}

/// The names of an ELF file's sections.
fn section_names(elf: &[u8]) -> Vec<String> {
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().unwrap()) as usize;
    assert_eq!(&elf[..4], b"\x7fELF");
    let (shoff, shentsize, shnum, shstrndx) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let strtab = shoff + shstrndx * shentsize;
    let str_off = u64_at(strtab + 0x18);
    (0..shnum)
        .map(|i| {
            let name = str_off + u32_at(shoff + i * shentsize);
            let end = elf[name..].iter().position(|b| *b == 0).unwrap();
            String::from_utf8_lossy(&elf[name..name + end]).into_owned()
        })
        .collect()
}

/// The runtime image runs, holds the stripped binary and little else.
fn check_runtime(chain: &Chain, bin: &str, args: &[&str], expect: &str) {
    let image = chain.image(2);
    let mut all = vec![
        "run",
        "--rm",
        "--user",
        "1000680000:0",
        "--read-only",
        "--cap-drop",
        "ALL",
    ];
    all.push(&image);
    all.extend(args);
    assert_eq!(docker(&all), expect);
    let binary = runtime_binary(&image, bin);
    let sections = section_names(&binary);
    for s in [".symtab", ".debug_info", ".debug_line"] {
        assert!(
            !sections.iter().any(|n| n == s),
            "`{bin}` is not stripped: {s}"
        );
    }
    let size: usize = docker(&["image", "inspect", "-f", "{{.Size}}", &image])
        .parse()
        .unwrap();
    assert!(
        size <= binary.len() + 300 * 1024,
        "runtime image {size} B, binary {} B: more than binary + 300 KiB",
        binary.len()
    );
}

/// Prints the figures docs/BENCHMARKS.md records for the fixtures (`--nocapture` shows them).
fn report(chain: &Chain, bin: &str, cold: f64) {
    let image = chain.image(2);
    let size: usize = docker(&["image", "inspect", "-f", "{{.Size}}", &image])
        .parse()
        .unwrap();
    let binary = runtime_binary(&image, bin).len();
    eprintln!(
        "fixture `{}`: cold chain {cold:.1} s, runtime image {size} B, stripped binary {binary} B",
        chain.names[2]
    );
}

fn logs(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Log { line, .. } => Some(line.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_cli_with_cut_crates_a_sys_crate_and_a_feature_switched_on_later() {
    if !support::docker_available(
        "a_cli_with_cut_crates_a_sys_crate_and_a_feature_switched_on_later",
    ) {
        return;
    }
    let _lock = support::engine_lock();
    let tmp = tempfile::tempdir().unwrap();
    let root = fixtures::cli(tmp.path());
    let chain = Chain::new("adopt-cli");

    let started = std::time::Instant::now();
    let events = chain.build(&root);
    let cold = started.elapsed().as_secs_f64();
    assert_eq!(warnings(&events), Vec::<String>::new(), "a first run warns");
    // What the app stage uploaded (the same tar, from the vendor cache): `windows-sys` and the
    // optional `instant` are cut to their manifests; the build below is offline and locked.
    let files = entries(&source_tar(&root, "adopt-cli").0);
    for cut in ["instant", "windows-sys"] {
        let code: Vec<&str> = vendored(&files, cut)
            .into_iter()
            .filter(|p| !files[*p].is_empty() && p.ends_with(".rs"))
            .collect();
        assert!(
            code.is_empty(),
            "`{cut}` went into the image build: {code:?}"
        );
    }
    let log = logs(&events);
    let cargo_line = log
        .lines()
        .find(|l| l.contains("cargo build"))
        .unwrap_or_else(|| panic!("assemble does not show its cargo command:\n{log}"));
    for flag in ["--offline", "--locked"] {
        assert!(cargo_line.contains(flag), "{cargo_line}");
    }
    check_runtime(&chain, "adopt-cli", &[], "adopt-cli 0.3.0 sum=42");
    report(&chain, "adopt-cli", cold);

    // The feature switched on after a first build: no cache is cleared.
    set_metadata(&root.join("Cargo.toml"), "features = [\"timing\"]");
    chain.build(&root);
    check_runtime(
        &chain,
        "adopt-cli",
        &[],
        "adopt-cli 0.3.0 sum=42 timed=true",
    );
}

#[test]
fn a_workspace_with_a_renamed_bin_a_custom_profile_a_git_dependency_and_a_patch() {
    if !support::docker_available(
        "a_workspace_with_a_renamed_bin_a_custom_profile_a_git_dependency_and_a_patch",
    ) {
        return;
    }
    let _lock = support::engine_lock();
    let tmp = tempfile::tempdir().unwrap();
    let root = fixtures::workspace(tmp.path());
    let chain = Chain::new("ws-cli");
    let started = std::time::Instant::now();
    chain.build(&root.join("crates/ws-cli"));
    let cold = started.elapsed().as_secs_f64();
    check_runtime(&chain, "wsctl", &[], "wsctl git 7 patched");
    report(&chain, "wsctl", cold);
}

#[test]
fn a_build_script_that_runs_protoc_builds_with_the_protobuf_compiler_in_builder_packages() {
    if !support::docker_available(
        "a_build_script_that_runs_protoc_builds_with_the_protobuf_compiler_in_builder_packages",
    ) {
        return;
    }
    let _lock = support::engine_lock();
    let tmp = tempfile::tempdir().unwrap();
    let root = fixtures::protoc(tmp.path());
    let chain = Chain::new("adopt-protoc");
    chain.build(&root);
    // The builder image has the compiler, installed by the base's own package manager.
    let protoc = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "protoc",
        &chain.image(0),
        "--version",
    ]);
    assert!(protoc.starts_with("libprotoc "), "{protoc}");
    check_runtime(&chain, "adopt-protoc", &[], "descriptors=true hello=true");
    assert_runtime_files_are_the_app_images(&chain, "adopt-protoc");
}

/// The files of the runtime image are the binary and the app image's runtime directory: the
/// directory the runtime BuildConfig's `images[].paths` copies (the okd tests check that its
/// paths are what the runtime Dockerfile copies).
fn assert_runtime_files_are_the_app_images(chain: &Chain, bin: &str) {
    let list = |image: &str, path: Option<&str>| -> Vec<String> {
        let container = docker(&["create", image]);
        let mut cmd = Command::new("docker");
        match path {
            Some(p) => cmd.args(["cp", &format!("{container}:{p}"), "-"]),
            None => cmd.args(["export", &container]),
        };
        let tar = cmd.output().unwrap().stdout;
        docker(&["rm", &container]);
        let mut files: Vec<String> = tar::Archive::new(tar.as_slice())
            .entries()
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.header().entry_type().is_file())
            .map(|e| e.path().unwrap().display().to_string())
            .map(|p| p.strip_prefix("runtime/").map(str::to_string).unwrap_or(p))
            .filter(|p| {
                !matches!(
                    p.as_str(),
                    "etc/hosts" | "etc/hostname" | "etc/resolv.conf" | ".dockerenv"
                ) && !p.starts_with("dev/")
            })
            .collect();
        files.sort();
        files
    };
    let mut expected = list(&chain.image(1), Some(xtask_s2i::plan::RUNTIME_DIR));
    expected.push(bin.to_string());
    expected.sort();
    assert_eq!(list(&chain.image(2), None), expected);
    assert!(
        expected.contains(&"etc/ssl/certs/ca-certificates.crt".to_string()),
        "{expected:?}"
    );
}

/// A test CA and a server certificate for `tls-server` it signed, written under `dir/<name>`.
fn test_ca(dir: &Path, name: &str) -> PathBuf {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    let ossl = |args: &[&str]| fixtures::run(&d, "openssl", args);
    ossl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        &format!("/CN=xtask-s2i test CA {name}"),
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    ossl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=tls-server",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    std::fs::write(d.join("san.ext"), "subjectAltName=DNS:tls-server\n").unwrap();
    ossl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    ]);
    d
}

/// `openssl s_server -www` on a free local port with the certificate in `dir`, killed on drop.
struct TlsServer(std::process::Child, u16);

impl TlsServer {
    fn start(dir: &Path) -> TlsServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-www", "-accept"])
            .arg(port.to_string())
            .args(["-cert", "server.crt", "-key", "server.key"])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "s_server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        TlsServer(child, port)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The base image with `ca` in its trust store, as a company's base image would have it.
fn base_trusting(ca: &Path, tag: &str) {
    let ctx = ca.join("base");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::copy(ca.join("ca.crt"), ctx.join("test-ca.crt")).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM {}\nCOPY test-ca.crt /usr/local/share/ca-certificates/test-ca.crt\nRUN update-ca-certificates\n",
            support::RUST_BASE
        ),
    )
    .unwrap();
    docker(&["build", "-q", "-t", tag, &ctx.display().to_string()]);
}

/// Runs the runtime image as the pod would (`tmpfs`: whether `/tmp` is mounted, as the
/// manifests' `emptyDir`); returns (exit code, output).
fn run_as_pod(image: &str, tmpfs: bool, args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new("docker");
    cmd.args(["run", "--rm", "--network", "host", "--user", "1000680000:0"]);
    cmd.args(["--read-only", "--cap-drop", "ALL"]);
    if tmpfs {
        cmd.args(["--tmpfs", "/tmp"]);
    }
    let out = cmd.arg(image).args(args).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn an_openssl_client_links_statically_trusts_the_base_ca_and_writes_to_tmp_on_scratch() {
    if !support::docker_available(
        "an_openssl_client_links_statically_trusts_the_base_ca_and_writes_to_tmp_on_scratch",
    ) {
        return;
    }
    let _lock = support::engine_lock();
    let tmp = tempfile::tempdir().unwrap();
    let (trusted, other) = (test_ca(tmp.path(), "a"), test_ca(tmp.path(), "b"));
    let base = "localhost/xtask-s2i-it/rust-testca:trixie";
    base_trusting(&trusted, base);
    let root = fixtures::tls_client(tmp.path());
    let chain = Chain::new("adopt-tls");
    let built = chain.build_from(&root, base);
    let _ = Command::new("docker").args(["rmi", base]).output();
    built.unwrap_or_else(|e| panic!("{e}"));
    assert_runtime_files_are_the_app_images(&chain, "adopt-tls");

    let image = chain.image(2);
    let (good, bad) = (TlsServer::start(&trusted), TlsServer::start(&other));
    let (code, out) = run_as_pod(
        &image,
        true,
        &[&format!("127.0.0.1:{}", good.1), "tls-server"],
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "HTTP/1.0 200 ok"),
        "the trusted server"
    );
    let (code, out) = run_as_pod(
        &image,
        true,
        &[&format!("127.0.0.1:{}", bad.1), "tls-server"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("certificate verify failed"), "{out}");
    // `/tmp` is writable as the pod mounts it, and not without the mount (read-only root).
    assert_eq!(
        run_as_pod(&image, true, &[]),
        (0, "tmp ok /tmp/adopt-tls.txt".into())
    );
    let (code, out) = run_as_pod(&image, false, &[]);
    assert_eq!(code, 3, "{out}");

    // Without OpenSSL's development package the error names the crate and the key to set.
    let manifest = root.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            r#"builder-packages = ["libssl-dev", "pkg-config", "zlib1g-dev", "libzstd-dev"]"#,
            "builder-packages = []",
        ),
    )
    .unwrap();
    // A clean build: with the previous app image, the restored target directory would hold the
    // compiled `openssl-sys` and the binary, and cargo would have nothing to do.
    chain.remove();
    let err = chain.build_from(&root, support::RUST_BASE).unwrap_err();
    for s in [
        "`openssl-sys`",
        "builder-packages = [\"libssl-dev\"]",
        "vendored",
    ] {
        assert!(err.contains(s), "{s} is not in:\n{err}");
    }
}

/// One entry of an image's or a build context's file tree: (path, kind and mode).
type Tree = BTreeMap<String, String>;

/// The entries of `tar` under `dest` (paths without a leading `/` or `./`, nor a trailing `/`).
fn tree_of(tar: &[u8], dest: &str) -> Tree {
    let mut tree = Tree::new();
    for entry in tar::Archive::new(tar).entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        let kind = format!("{:?} {:o}", h.entry_type(), h.mode().unwrap() & 0o7777);
        let path = entry.path().unwrap().display().to_string();
        let path = format!("{dest}/{}", path.trim_start_matches("./"));
        let path = path.trim_matches('/').trim_start_matches("./").to_string();
        if !path.is_empty() && path != "." {
            tree.insert(path, kind);
        }
    }
    tree
}

/// What the committed runtime BuildConfig at `bc` builds: its `images[].paths` copied out of
/// `app` into the build context, then the context's files placed by its Dockerfile's `COPY`s.
fn what_the_buildconfig_copies(bc: &Path, app: &str) -> Tree {
    let bc: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(bc).unwrap()).unwrap();
    let container = docker(&["create", app]);
    let mut context = Tree::new();
    for p in bc["spec"]["source"]["images"][0]["paths"]
        .as_sequence()
        .unwrap()
    {
        let source = p["sourcePath"].as_str().unwrap();
        let dest = p["destinationDir"].as_str().unwrap();
        let out = Command::new("docker")
            .args(["cp", &format!("{container}:{source}"), "-"])
            .output()
            .unwrap();
        assert!(out.status.success(), "`{source}` is not in {app}");
        context.extend(tree_of(&out.stdout, dest));
    }
    docker(&["rm", &container]);
    let dockerfile = bc["spec"]["source"]["dockerfile"].as_str().unwrap();
    let mut copied = Tree::new();
    for line in dockerfile.lines().filter(|l| l.starts_with("COPY ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, src, dest] = words.as_slice() else {
            panic!("an unexpected COPY: {line}");
        };
        let (src, dest) = (src.trim_end_matches('/'), dest.trim_matches('/'));
        for (path, kind) in &context {
            let rest = match path.strip_prefix(src) {
                Some("") => "",
                Some(r) if r.starts_with('/') => r,
                _ => continue,
            };
            let to = format!("{dest}{rest}").trim_start_matches('/').to_string();
            if !to.is_empty() {
                copied.insert(to, kind.clone());
            }
        }
    }
    copied
}

/// The local runtime image's files, without what the engine adds to every container.
fn runtime_tree(image: &str) -> Tree {
    let container = docker(&["create", image]);
    let tar = Command::new("docker")
        .args(["export", &container])
        .output()
        .unwrap()
        .stdout;
    docker(&["rm", &container]);
    let added = ["etc/hosts", "etc/hostname", "etc/resolv.conf", "etc/mtab"];
    tree_of(&tar, "")
        .into_iter()
        .filter(|(p, _)| {
            let top = p.split('/').next().unwrap();
            !matches!(top, "dev" | "proc" | "sys" | ".dockerenv") && !added.contains(&p.as_str())
        })
        .collect()
}

/// `GET /healthz` of the runtime image run as the pod would (`tmpfs`: with the manifests'
/// `/tmp` volume) with `args`: (status line, body).
fn serve_as_pod(image: &str, tmpfs: bool, args: &[&str]) -> (String, String) {
    let mut run = vec!["run", "-d", "--read-only", "--user", "1000680000:0"];
    run.extend(["--cap-drop", "ALL", "-p", "127.0.0.1::8080"]);
    if tmpfs {
        run.extend(["--tmpfs", "/tmp"]);
    }
    run.push(image);
    run.extend(args);
    let container = docker(&run);
    let port = docker(&["port", &container, "8080/tcp"]);
    let addr = port.lines().next().unwrap().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let answer = loop {
        use std::io::{Read, Write};
        let attempt = std::net::TcpStream::connect(&addr).and_then(|mut s| {
            s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n")?;
            let mut answer = String::new();
            s.read_to_string(&mut answer)?;
            Ok(answer)
        });
        match attempt {
            Ok(a) if !a.is_empty() => break a,
            _ if std::time::Instant::now() > deadline => {
                let logs = docker(&["logs", &container]);
                docker(&["rm", "-f", &container]);
                panic!("{image} did not answer on {addr}: {logs}");
            }
            _ => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    };
    docker(&["rm", "-f", &container]);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.lines().next().unwrap_or("").to_string();
    (status, body.trim().to_string())
}

/// The local chain of the `/tmp` service: its arguments are in the Deployment and the run hint
/// and in effect in the runtime image run as the pod, which fails without `/tmp`; the runtime
/// BuildConfig copies out of the app image what the local runtime image holds. Returns the
/// Deployment's file.
fn runs_with_its_args_and_copies_what_the_buildconfig_copies(
    chain: &Chain,
    events: &[Event],
    root: &Path,
) -> PathBuf {
    let okd = root.join("deploy/okd");
    // The arguments: in the Deployment, in the run hint, and in effect in the local image.
    let deployment = okd.join("deployment-adopt-tmp.yaml");
    let text = std::fs::read_to_string(&deployment).unwrap();
    assert!(
        text.contains("        args:\n        - --greeting\n        - hello from args\n"),
        "{text}"
    );
    let hint = "--cap-drop ALL -p 8080:8080 adopt-tmp:it-adopt --greeting 'hello from args'`";
    let hinted = events
        .iter()
        .any(|e| matches!(e, Event::Status { message, .. } if message.contains(hint)));
    assert!(hinted, "{events:#?}");
    let image = chain.image(2);
    let args = ["--greeting", "hello from args"];
    let ok = ("HTTP/1.0 200 OK".to_string(), "hello from args".to_string());
    assert_eq!(serve_as_pod(&image, true, &args), ok);
    let (status, body) = serve_as_pod(&image, false, &args);
    assert_eq!(status, "HTTP/1.0 500 Internal Server Error", "{body}");
    assert!(body.contains("Read-only file system"), "{body}");
    // The runtime BuildConfig copies out of the app image what the local runtime image holds.
    let files = runtime_tree(&image);
    assert_eq!(
        files,
        what_the_buildconfig_copies(&okd.join("buildconfig-adopt-tmp.yaml"), &chain.image(1))
    );
    for (path, kind) in [("adopt-tmp", "Regular 755"), ("tmp", "Directory 1777")] {
        assert_eq!(
            files.get(path).map(String::as_str),
            Some(kind),
            "{files:#?}"
        );
    }
    assert!(
        files.contains_key("etc/ssl/certs/ca-certificates.crt"),
        "{files:#?}"
    );
    deployment
}

#[test]
fn a_service_started_with_args_writes_to_tmp_locally_and_in_the_rehearsal_and_fails_without_it() {
    if !support::docker_available(
        "a_service_started_with_args_writes_to_tmp_locally_and_in_the_rehearsal_and_fails_without_it",
    ) {
        return;
    }
    let _lock = support::engine_lock();
    let tmp = tempfile::tempdir().unwrap();
    let root = fixtures::tmp_service(tmp.path());
    let chain = Chain::new("adopt-tmp");
    let events = chain.build(&root);
    fixtures::commit(&root, "the manifests and the local tag");
    let deployment =
        runs_with_its_args_and_copies_what_the_buildconfig_copies(&chain, &events, &root);

    // The rehearsal runs the committed Deployment: its args, its `/tmp` volume, its probe.
    let (result, lines) = support::rehearse(&root);
    assert!(result.is_ok(), "{result:?}\n{lines:#?}");
    let running = r#"emptyDir at /tmp, args ["--greeting", "hello from args"]"#;
    assert!(lines.iter().any(|l| l.contains(running)), "{lines:#?}");
    let ready =
        "Ready Deployment `adopt-tmp`: readiness probe GET /healthz on port 8080 answered 200";
    assert!(lines.iter().any(|l| l.contains(ready)), "{lines:#?}");

    // Without the `/tmp` volume mount every request fails, so the readiness probe never passes.
    support::edit(
        &deployment,
        "        volumeMounts:\n        - name: tmp\n          mountPath: /tmp\n",
        "",
    );
    fixtures::commit(&root, "no /tmp mount");
    let (result, lines) = support::rehearse(&root);
    let err = result.expect_err("the rehearsal passed without /tmp");
    for s in [
        "the rehearsal of the Deployment `adopt-tmp`",
        "step `readiness probe`",
        "it answered 500",
    ] {
        assert!(err.contains(s), "{s} is not in:\n{err}\n{lines:#?}");
    }
}
