//! The source the app stage uploads — the cluster's source root in the working tree, path
//! dependencies in place: what is in it, what is not, its digest, and — the proof that matters —
//! that the tar builds on its own, offline, from the vendored crates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use xtask_s2i::engine::SourceTree;
use xtask_s2i::plan::Plan;
use xtask_s2i::sink::{Buffer, Event};
use xtask_s2i::source::Closure;

use crate::support;

/// The plan of `package` in the workspace of `dir` and its scanned closure.
fn scan(dir: &Path, package: &str) -> (Plan, cargo_metadata::Metadata, Closure) {
    let metadata = xtask_s2i::config::read_metadata(Some(&dir.join("Cargo.toml"))).unwrap();
    let plan = xtask_s2i::plan::Plan::for_workspace(&metadata, &[package.to_string()], None)
        .unwrap()
        .remove(0);
    let closure = Closure::scan(&plan, &metadata).unwrap();
    (plan, metadata, closure)
}

fn files(c: &Closure) -> Vec<String> {
    c.files().map(str::to_string).collect()
}

/// The tar's entries: path -> (header, contents).
struct Tar {
    bytes: Vec<u8>,
    entries: BTreeMap<String, (tar::Header, Vec<u8>)>,
}

impl Tar {
    fn text(&self, path: &str) -> String {
        let (_, body) = self
            .entries
            .get(path)
            .unwrap_or_else(|| panic!("`{path}` is not in the tar"));
        String::from_utf8(body.clone()).unwrap()
    }
}

fn tar_of(c: &Closure, sink: &Buffer) -> Tar {
    let mut bytes = Vec::new();
    c.write_tar(&mut bytes, 1001, 0, sink).unwrap();
    let mut entries = BTreeMap::new();
    let mut ar = tar::Archive::new(bytes.as_slice());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().display().to_string();
        let header = e.header().clone();
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut body).unwrap();
        let path = path.trim_end_matches('/').to_string();
        assert!(
            entries.insert(path.clone(), (header, body)).is_none(),
            "`{path}` twice"
        );
    }
    Tar { bytes, entries }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn append(path: &Path, text: &str) {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    std::fs::write(path, old + text).unwrap();
}

/// Every file of a tree (outside `target/`, where the plan's `out_dir` is) with its size, mtime
/// and mode.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if e.file_name() == "target" {
                continue;
            }
            if m.is_dir() {
                stack.push(e.path());
                out.insert(e.path(), (0, SystemTime::UNIX_EPOCH, 0));
            } else {
                out.insert(
                    e.path(),
                    (m.len(), m.modified().unwrap(), m.permissions().mode()),
                );
            }
        }
    }
    out
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The example's source is the cluster's: the repository (the app BuildConfig's `contextDir`)
/// with the workspace at `examples/hello-world` and its path dependency, this library, in place
/// at the root; no relocation, the repository's `.s2iignore` applied.
#[test]
fn the_example_source_is_the_repository_with_its_path_dependency_in_place() {
    let (plan, _, c) = scan(&support::example_dir(), "hello-world");
    let source = plan.cluster_source().unwrap();
    assert_eq!(
        (source.context_dir.as_str(), source.workspace_dir.as_str()),
        (".", "examples/hello-world")
    );
    assert_eq!(c.root(), support::repo_root().canonicalize().unwrap());
    let files = files(&c);
    for want in [
        "examples/hello-world/Cargo.toml",
        "examples/hello-world/Cargo.lock",
        "examples/hello-world/build.rs",
        "examples/hello-world/src/main.rs",
        "examples/hello-world/.cargo/config.toml",
        "examples/hello-world/xtask/src/main.rs",
        "Cargo.toml",
        "src/lib.rs",
        "src/build_script.rs",
        "templates/s2i/bin/assemble",
        ".s2iignore",
    ] {
        assert!(
            files.iter().any(|f| f == want),
            "`{want}` missing: {files:#?}"
        );
    }
    for f in &files {
        let bad = f.starts_with(".s2i/path-deps")
            || f.starts_with("docs/")
            || f.starts_with("examples/hello-world/deploy/")
            || f.contains(".git/")
            || f.split('/').any(|c| c == ".env" || c == "target");
        assert!(!bad, "`{f}` must not be in the source");
    }
    assert_eq!(c.digest().len(), 64);
    // The example lives in this repository's git checkout.
    let commit = c.commit().expect("a git commit");
    assert_eq!(commit.len(), 40, "{commit}");
    assert!(!c.location().is_empty());
}

#[test]
fn ignored_secret_and_foreign_files_stay_out() {
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    write(&root.join(".env"), "TOKEN=secret\n");
    write(&root.join("config/.env.production"), "TOKEN=secret\n");
    write(&root.join("notes.secret"), "secret\n");
    write(&root.join("deep/notes.secret"), "secret\n");
    // s2i's globs, at the source root (the copy's repository root) only.
    write(
        &tmp.path().join(".s2iignore"),
        "examples/hello-world/*.secret\n/examples/hello-world/deploy\n",
    );
    write(&root.join("scratch.log"), "log\n");
    append(&root.join(".gitignore"), "*.log\n");
    write(&root.join(".git/config"), "[core]\n");
    write(&root.join("target/debug/junk"), "junk\n");
    write(
        &root.join("tools/helper/Cargo.toml"),
        "[package]\nname = \"helper\"\nversion = \"0.1.0\"\n",
    );
    write(&root.join("tools/helper/src/lib.rs"), "\n");
    write(&root.join("assets/greeting.txt"), "hi\n");

    let (_, _, c) = scan(&root, "hello-world");
    let files = files(&c);
    // What the cluster's clone would hold is there, other packages of the repository too.
    for want in [
        "assets/greeting.txt",
        "src/main.rs",
        "deep/notes.secret",
        "tools/helper/Cargo.toml",
        "xtask/src/main.rs",
    ] {
        let want = format!("examples/hello-world/{want}");
        assert!(files.contains(&want), "`{want}` missing: {files:#?}");
    }
    for f in &files {
        for bad in [
            ".env",
            "config/.env.production",
            "deploy/okd/kustomization.yaml",
            "notes.secret",
            "scratch.log",
            ".git/config",
            "target/debug/junk",
        ] {
            assert_ne!(
                f,
                &format!("examples/hello-world/{bad}"),
                "`{bad}` must not be in the source"
            );
        }
    }
    // Not a git repository: no commit, the location is the path.
    assert_eq!(c.commit(), None);
    assert_eq!(c.location(), c.root().display().to_string());
}

#[test]
fn the_digest_follows_contents_and_modes_not_mtimes() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    let main = root.join("src/main.rs");

    let t = Instant::now();
    let (mut plan, metadata, c) = scan(&root, "hello-world");
    let first = c.digest().to_string();
    let took = t.elapsed();
    eprintln!("metadata + plan + scan: {took:?}");
    let t = Instant::now();
    assert_eq!(Closure::scan(&plan, &metadata).unwrap().digest(), first);
    let rescan = t.elapsed();
    eprintln!("scan alone: {rescan:?}");
    assert!(rescan < Duration::from_secs(2), "scan took {rescan:?}");

    // A touch is not a change.
    let f = std::fs::File::options().write(true).open(&main).unwrap();
    f.set_modified(SystemTime::now() + Duration::from_secs(120))
        .unwrap();
    drop(f);
    assert_eq!(Closure::scan(&plan, &metadata).unwrap().digest(), first);

    // An uncommitted edit is, and undoing it restores the digest.
    support::edit(&main, "Hello {name}!", "Howdy {name}!");
    let edited = Closure::scan(&plan, &metadata)
        .unwrap()
        .digest()
        .to_string();
    assert_ne!(edited, first);
    support::edit(&main, "Howdy {name}!", "Hello {name}!");
    assert_eq!(Closure::scan(&plan, &metadata).unwrap().digest(), first);

    // So is the executable bit.
    let build_rs = root.join("build.rs");
    std::fs::set_permissions(&build_rs, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_ne!(Closure::scan(&plan, &metadata).unwrap().digest(), first);
    std::fs::set_permissions(&build_rs, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(Closure::scan(&plan, &metadata).unwrap().digest(), first);

    // A file in an ignored place is not.
    append(&root.join(".gitignore"), "*.log\n");
    let ignored = Closure::scan(&plan, &metadata)
        .unwrap()
        .digest()
        .to_string();
    write(&root.join("other.log"), "\n");
    assert_eq!(Closure::scan(&plan, &metadata).unwrap().digest(), ignored);

    // Scanning writes nothing, not even under `target/`.
    assert!(!root.join("target").exists());

    // The vendor setting shapes the tar.
    plan.settings_mut().vendor = false;
    assert_ne!(Closure::scan(&plan, &metadata).unwrap().digest(), first);
}

#[test]
fn without_vendoring_the_tar_has_the_users_lock_and_cargo_config() {
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    let (mut plan, metadata, _) = scan(&root, "hello-world");
    plan.settings_mut().vendor = false;
    let c = Closure::scan(&plan, &metadata).unwrap();
    let sink = Buffer::new();
    let tar = tar_of(&c, &sink);
    assert!(!tar.entries.keys().any(|p| p.contains("vendor")));
    assert_eq!(
        tar.text(&ws(".cargo/config.toml")),
        std::fs::read_to_string(root.join(".cargo/config.toml")).unwrap()
    );
    // The workspace's lock, as the cluster's clone has it.
    assert_eq!(
        tar.text(&ws("Cargo.lock")),
        std::fs::read_to_string(root.join("Cargo.lock")).unwrap()
    );
    assert!(
        !sink
            .events()
            .iter()
            .any(|e| matches!(e, Event::Status { verb, .. } if verb == "Vendoring"))
    );
}

/// `path` in the example's workspace, as a path of the source tar.
fn ws(path: &str) -> String {
    format!("examples/hello-world/{path}")
}

/// The end-to-end proof: the tar, extracted anywhere, builds offline with an empty cargo home.
#[test]
fn the_tar_builds_offline_from_its_vendored_crates() {
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    let main = root.join("src/main.rs");
    support::edit(&main, "Hello {name}!", "Howdy {name}!");
    let before = snapshot(&root);

    let (_, _, c) = scan(&root, "hello-world");
    let sink = Buffer::new();
    let tar = tar_of(&c, &sink);
    assert_eq!(snapshot(&root), before, "the user's tree was modified");

    assert_owners_modes_and_mtimes(&tar, &main);
    assert_manifest_and_lock(&tar, &root);
    assert_vendored(&tar, &sink);
    // A second tar reuses the vendored crates and is the same, byte for byte.
    let sink2 = Buffer::new();
    let again = tar_of(&c, &sink2);
    assert!(
        !sink2
            .events()
            .iter()
            .any(|e| matches!(e, Event::Status { verb, .. } if verb == "Vendoring")),
        "vendored again: {:?}",
        sink2.events()
    );
    assert!(again.bytes == tar.bytes, "the tar is not deterministic");

    assert_builds_offline(&tar, tmp.path());
}

/// Owners, modes, real mtimes; the edit of `main` is in the tar.
fn assert_owners_modes_and_mtimes(tar: &Tar, main: &Path) {
    for (path, (h, _)) in &tar.entries {
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (1001, 0), "{path}");
        let mode = h.mode().unwrap();
        if h.entry_type().is_dir() {
            assert_eq!(mode, 0o775, "{path}");
        } else if h.entry_type().is_file() {
            assert!(mode == 0o664 || mode == 0o775, "{path}: {mode:o}");
        }
    }
    let main_mtime = std::fs::metadata(main)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(
        tar.entries[&ws("src/main.rs")].0.mtime().unwrap(),
        main_mtime
    );
    assert!(
        tar.text(&ws("src/main.rs")).contains("Howdy"),
        "the edit is in the tar"
    );
}

/// The manifests are the user's, byte for byte: the path dependency is found where it is (the
/// library at the root), with no relocation.
fn assert_manifest_and_lock(tar: &Tar, root: &Path) {
    for (path, disk) in [
        (ws("Cargo.toml"), root.join("Cargo.toml")),
        (ws("Cargo.lock"), root.join("Cargo.lock")),
        ("Cargo.toml".to_string(), root.join("../../Cargo.toml")),
    ] {
        assert_eq!(tar.text(&path), std::fs::read_to_string(disk).unwrap());
    }
    let m: toml::Value = toml::from_str(&tar.text(&ws("Cargo.toml"))).unwrap();
    assert_eq!(
        m["build-dependencies"]["xtask-s2i"]["path"].as_str(),
        Some("../..")
    );
    assert!(tar.entries.contains_key("src/lib.rs"));
    assert!(!tar.entries.keys().any(|p| p.starts_with(".s2i")));
}

/// Vendored crates and the source replacement, merged with the user's config.
fn assert_vendored(tar: &Tar, sink: &Buffer) {
    assert!(
        tar.entries
            .keys()
            .any(|p| p.starts_with(&ws("vendor/clap-")) || p.starts_with(&ws("vendor/clap/"))),
        "no vendored clap"
    );
    assert!(!tar.entries.keys().any(|p| p.starts_with("vendor")));
    // tokio is in the lock (the `xtask` member's), cut down to what cargo needs to load it.
    for (path, (_, body)) in &tar.entries {
        if path.starts_with(&ws("vendor/tokio")) && path.ends_with(".rs") {
            assert!(body.is_empty(), "`{path}` is not cut");
        }
    }
    let config = tar.text(&ws(".cargo/config.toml"));
    assert!(
        config.contains("replace-with = \"vendored-sources\""),
        "{config}"
    );
    assert!(config.contains("directory = \"vendor\""), "{config}");
    assert!(
        config.contains("xtask = \"run --package xtask --\""),
        "{config}"
    );
    assert!(
        sink.events()
            .iter()
            .any(|e| matches!(e, Event::Status { verb, .. } if verb == "Packed"))
    );
}

/// Extracts the tar and builds it offline, with an empty cargo home in `tmp`: only the tar's
/// contents count. Always at the same place (as `/tmp/src` in the container): cargo's
/// fingerprints of the vendored crates hold their absolute paths, so a rerun only recompiles
/// what changed.
fn assert_builds_offline(tar: &Tar, tmp: &Path) {
    let build = support::repo_root().join("target/it-source-build");
    let (src, target) = (build.join("src"), build.join("target"));
    if src.exists() {
        std::fs::remove_dir_all(&src).unwrap();
    }
    std::fs::create_dir_all(&src).unwrap();
    tar::Archive::new(tar.bytes.as_slice())
        .unpack(&src)
        .unwrap();
    let home = tmp.join("cargo-home");
    std::fs::create_dir_all(&home).unwrap();
    let t = Instant::now();
    let out = std::process::Command::new(cargo())
        .args(["build", "--offline", "--locked", "--package", "hello-world"])
        .current_dir(src.join("examples/hello-world"))
        .env("CARGO_HOME", &home)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    eprintln!("offline build of the extracted tar: {:?}", t.elapsed());
    assert!(
        out.status.success(),
        "the tar does not build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = std::process::Command::new(target.join("debug/hello-world"))
        .args(["--name", "World"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "Howdy World!\n");
}

/// A virtual workspace with several members, workspace-inherited path dependencies, and a path
/// dependency outside the root that inherits from its own workspace. Returns the root.
fn virtual_workspace(t: &Path) -> PathBuf {
    let ws = t.join("repo");
    write(
        &ws.join("Cargo.toml"),
        r#"# the workspace
[workspace]
members = ["crates/*"]
default-members = ["crates/app"]
resolver = "2"

[workspace.package]
version = "0.3.0"
edition = "2021"

[workspace.dependencies]
lib = { path = "crates/lib" }
tool-only = { path = "crates/tool-only" }
ext = { path = "../outside/ext" }
"#,
    );
    write(
        &ws.join("crates/app/Cargo.toml"),
        r#"[package]
name = "app"
version.workspace = true
edition.workspace = true

[dependencies]
lib.workspace = true
ext = { workspace = true }

[package.metadata.s2i]
vendor = false
"#,
    );
    write(
        &ws.join("crates/app/src/main.rs"),
        "fn main() { println!(\"{} {}\", lib::NAME, ext::NAME); }\n",
    );
    write(
        &ws.join("crates/lib/Cargo.toml"),
        "[package]\nname = \"lib\"\nversion.workspace = true\nedition.workspace = true\n",
    );
    write(
        &ws.join("crates/lib/src/lib.rs"),
        "pub const NAME: &str = \"lib\";\n",
    );
    write(
        &ws.join("crates/tool/Cargo.toml"),
        "[package]\nname = \"tool\"\nversion.workspace = true\nedition.workspace = true\n\n[dependencies]\ntool-only.workspace = true\n",
    );
    write(&ws.join("crates/tool/src/main.rs"), "fn main() {}\n");
    write(
        &ws.join("crates/tool-only/Cargo.toml"),
        "[package]\nname = \"tool-only\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(&ws.join("crates/tool-only/src/lib.rs"), "\n");
    write(&ws.join("README.md"), "# repo\n");

    let outside = t.join("outside");
    write(
        &outside.join("Cargo.toml"),
        "[workspace]\nmembers = [\"ext\"]\n\n[workspace.package]\nversion = \"2.0.0\"\nedition = \"2021\"\n",
    );
    write(
        &outside.join("ext/Cargo.toml"),
        "[package]\nname = \"ext\"\nversion.workspace = true\nedition.workspace = true\n",
    );
    write(
        &outside.join("ext/src/lib.rs"),
        "pub const NAME: &str = \"ext\";\n",
    );
    write(&outside.join("ext/tests/t.rs"), "\n");
    write(&outside.join("ext/target/CACHEDIR.TAG"), "\n");

    ws
}

/// The source is the smallest directory that holds the workspace and its path dependencies
/// (outside git: the copy's repository cannot be known), everything in place, and it builds on
/// its own.
#[test]
fn a_virtual_workspace_with_a_dependency_outside_builds_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let ws = virtual_workspace(t);
    let out = std::process::Command::new(cargo())
        .args(["generate-lockfile", "--offline"])
        .current_dir(&ws)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = snapshot(&ws);

    let (_, _, c) = scan(&ws, "app");
    let files = files(&c);
    assert_eq!(
        files,
        [
            "outside/Cargo.toml",
            "outside/ext/Cargo.toml",
            "outside/ext/src/lib.rs",
            "outside/ext/tests/t.rs",
            "repo/Cargo.lock",
            "repo/Cargo.toml",
            "repo/README.md",
            "repo/crates/app/Cargo.toml",
            "repo/crates/app/src/main.rs",
            "repo/crates/lib/Cargo.toml",
            "repo/crates/lib/src/lib.rs",
            "repo/crates/tool-only/Cargo.toml",
            "repo/crates/tool-only/src/lib.rs",
            "repo/crates/tool/Cargo.toml",
            "repo/crates/tool/src/main.rs",
        ]
    );
    let sink = Buffer::new();
    let tar = tar_of(&c, &sink);
    assert_eq!(snapshot(&ws), before, "the user's tree was modified");
    for f in &files {
        let disk = std::fs::read(t.join(f)).unwrap();
        assert!(tar.entries[f].1 == disk, "`{f}` differs from the user's");
    }

    assert_app_builds(&tar, t);
}

/// The tar, extracted in `t`, builds `app` offline in its workspace `repo`.
fn assert_app_builds(tar: &Tar, t: &Path) {
    let src = t.join("extracted");
    tar::Archive::new(tar.bytes.as_slice())
        .unpack(&src)
        .unwrap();
    let target = t.join("target");
    let out = std::process::Command::new(cargo())
        .args(["build", "--offline", "--locked", "--package", "app"])
        .current_dir(src.join("repo"))
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the tar does not build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = std::process::Command::new(target.join("debug/app"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout), "lib ext\n");
}

#[test]
fn a_missing_path_dependency_names_the_manifest_and_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    let ext = tmp.path().join("ext");
    write(
        &ext.join("Cargo.toml"),
        "[package]\nname = \"ext\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ngone = { path = \"../gone\" }\n",
    );
    write(&ext.join("src/lib.rs"), "\n");
    support::edit(
        &root.join("Cargo.toml"),
        "[dependencies]\n",
        "[dependencies]\next = { path = \"../../ext\" }\n",
    );
    let metadata = xtask_s2i::config::read_metadata(Some(&root.join("Cargo.toml"))).unwrap();
    let plan = xtask_s2i::plan::Plan::for_workspace(&metadata, &[], None)
        .unwrap()
        .remove(0);
    let err = Closure::scan(&plan, &metadata)
        .err()
        .expect("a missing path dependency is an error");
    let msg = format!("{err:#}");
    assert!(msg.contains("dependency `gone`"), "{msg}");
    assert!(msg.contains("no package"), "{msg}");
    assert!(
        msg.contains(&ext.join("Cargo.toml").display().to_string()),
        "{msg}"
    );
    let gone = tmp.path().canonicalize().unwrap().join("gone/Cargo.toml");
    assert!(
        msg.contains(&format!("`{}` does not exist", gone.display())),
        "{msg}"
    );
    assert!(msg.contains("note:"), "{msg}");
}

#[test]
fn a_package_hidden_by_ignore_rules_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = virtual_workspace(tmp.path());
    // The source root is the directory above (it holds `outside/ext` too).
    write(&tmp.path().join(".s2iignore"), "/repo/crates/lib/src\n");
    let metadata = xtask_s2i::config::read_metadata(Some(&ws.join("Cargo.toml"))).unwrap();
    let plan = xtask_s2i::plan::Plan::for_workspace(&metadata, &["app".to_string()], None)
        .unwrap()
        .remove(0);
    let err = Closure::scan(&plan, &metadata).err().expect("an error");
    let msg = format!("{err:#}");
    let lib = ws.canonicalize().unwrap().join("crates/lib");
    assert!(
        msg.contains(&format!("the package in `{}`", lib.display())),
        "{msg}"
    );
    assert!(msg.contains(".s2iignore"), "{msg}");
}

/// An `.s2i/bin`, `.s2i/environment` or `.s2iignore` where s2i will not read it (the workspace,
/// when the source root is the repository's) is a warning that says where to move it.
#[test]
fn a_misplaced_s2i_directory_or_ignore_file_is_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    write(&root.join(".s2i/environment"), "A=1\n");
    write(&root.join(".s2i/bin/assemble"), "#!/bin/sh\n");
    write(&root.join(".s2iignore"), "/deploy\n");
    // Template overrides are the tool's own, read at the workspace: no warning.
    write(&root.join(".s2i/templates/README"), "\n");
    let sink = Buffer::new();
    xtask_s2i::ImageArgs {
        manifest_path: Some(root.join("Cargo.toml")),
        no_build: true,
        ..Default::default()
    }
    .execute(&sink)
    .unwrap();
    let warnings: Vec<String> = sink
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Warning { message } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
    let top = tmp.path().canonicalize().unwrap();
    let ws = top.join("examples/hello-world");
    for name in [".s2i/bin", ".s2i/environment", ".s2iignore"] {
        let w = warnings
            .iter()
            .find(|w| w.starts_with(&format!("`{}` is not read", ws.join(name).display())))
            .unwrap_or_else(|| panic!("no warning for `{name}`: {warnings:#?}"));
        assert!(
            w.contains(&format!("move it to `{}`", top.join(name).display())),
            "{w}"
        );
    }
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("with `examples/hello-world/` before each pattern")),
        "{warnings:#?}"
    );
}
