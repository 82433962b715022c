//! S2I conformance: the example's builder image made by `cargo xtask image` works with the real
//! upstream `s2i` CLI (Docker API mode: plain, `--incremental`, `--assemble-user` with an
//! arbitrary UID) and with OpenShift's way of running a source build (`s2i build
//! --as-dockerfile`, then `podman build`), and the local chain follows the same contract
//! (`.s2i/bin`, `.s2i/environment`, a base with an `ENTRYPOINT`, `CARGO_TARGET_DIR`).
//!
//! `s2i` gets the source the way a user or the cluster has it: the directory the source tar of
//! the tool unpacks to (vendored crates and all, so the container build runs offline). The tests
//! hold the Docker lock of [`support::engine_lock`], skip without a daemon unless
//! `XTASK_S2I_REQUIRE_DOCKER=1`, and skip without `s2i`/`podman` unless `CI=true`, where a
//! missing tool fails them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use xtask_s2i::ImageArgs;
use xtask_s2i::engine::SourceTree as _;
use xtask_s2i::sink::{Buffer, Event};

use crate::support;

const RUN: &str = "/usr/libexec/s2i/run";

/// Whether `tool` answers `args`; when it does not, the test is skipped, or fails with `CI=true`.
fn tool(tool: &str, args: &[&str], test: &str) -> bool {
    let ok = Command::new(tool)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "{test}: `{tool}` is missing and CI=true (`.ci/run` installs it)"
        );
        eprintln!("skipping {test}: `{tool}` is missing");
    }
    ok
}

/// Runs a command, returns whether it succeeded and its stdout and stderr together.
fn output(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs a command that must succeed; returns its output.
fn ok(cmd: &mut Command) -> String {
    let (ok, text) = output(cmd);
    assert!(ok, "{cmd:?} failed:\n{text}");
    text
}

fn docker(args: &[&str]) -> String {
    ok(Command::new("docker").args(args)).trim().to_string()
}

fn remove_images(refs: &[String]) {
    for r in refs {
        let _ = Command::new("docker").args(["rmi", "-f", r]).output();
    }
}

/// `s2i build SRC BUILDER APP ARGS...` as these machines need it.
fn s2i_build(src: &Path, builder: &str, app: &str, args: &[&str]) -> String {
    ok(Command::new("s2i")
        .arg("build")
        .arg(src)
        .args([builder, app, "--pull-policy", "never"])
        .args(args)
        .env("DOCKER_API_VERSION", "1.41"))
}

/// The crates cargo compiled, from its `Compiling NAME vX` lines.
fn compiled(log: &str) -> BTreeSet<String> {
    log.lines()
        .filter_map(|l| l.split("Compiling ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The app image's greeting through its `run` script.
fn greets(image: &str, name: &str) {
    let out = docker(&["run", "--rm", image, RUN, "--name", name]);
    assert!(out.contains(name), "`{image}` did not greet {name}: {out}");
}

fn log_lines(events: &[Event]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Log { line, .. } => Some(format!("{line}\n")),
            _ => None,
        })
        .collect()
}

/// Appends a line to a file: the one-line change of an incremental build.
fn append(path: &Path, line: &str) {
    let mut text = std::fs::read_to_string(path).unwrap();
    text.push_str(line);
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

/// A git-committed copy of the example whose images are tagged `tag`, built `FROM` `base`.
struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    tag: String,
    base: String,
}

impl Project {
    fn new(tag: &str, base: &str) -> Project {
        let tmp = tempfile::tempdir().unwrap();
        let root = support::copy_example(tmp.path());
        support::edit(
            &root.join("Cargo.toml"),
            "[package.metadata.s2i]\n",
            &format!("[package.metadata.s2i]\ntag = \"{tag}\"\n"),
        );
        for args in [
            &["init", "-q", "-b", "main"][..],
            &["add", "-A"],
            &[
                "-c",
                "user.name=Conformance Tests",
                "-c",
                "user.email=conformance@xtask-s2i.invalid",
                "commit",
                "-q",
                "-m",
                "the example",
            ],
        ] {
            // At the copy's repository root: the cluster's source root (contextDir `.`).
            ok(Command::new("git").args(args).current_dir(tmp.path()));
        }
        let p = Project {
            _tmp: tmp,
            root,
            tag: tag.into(),
            base: base.into(),
        };
        remove_images(&p.refs());
        p
    }

    fn refs(&self) -> Vec<String> {
        ["hello-world-builder", "hello-world-app", "hello-world"]
            .map(|n| format!("{n}:{}", self.tag))
            .to_vec()
    }

    fn builder(&self) -> String {
        self.refs()[0].clone()
    }

    fn app(&self) -> String {
        self.refs()[1].clone()
    }

    /// `cargo xtask image`; returns the log lines (container output).
    fn build(&self) -> String {
        let sink = Buffer::new();
        let args = ImageArgs {
            manifest_path: Some(self.root.join("Cargo.toml")),
            builder_base: Some(self.base.clone()),
            ..Default::default()
        };
        if let Err(e) = args.execute(&sink) {
            panic!("the chain failed: {e:#}\n{}", log_lines(&sink.events()));
        }
        log_lines(&sink.events())
    }

    /// The directory the tool's source tar unpacks to: what `s2i` gets as its source; returns
    /// the app BuildConfig's env (`XTASK_S2I_WORKSPACE_DIR` with it), as `-e` arguments.
    fn s2i_source(&self, dest: &Path) -> Vec<String> {
        let manifest = self.root.join("Cargo.toml");
        let metadata = xtask_s2i::config::read_metadata(Some(&manifest)).unwrap();
        let plan = xtask_s2i::plan::Plan::for_workspace(&metadata, &[], Some(&self.base))
            .unwrap()
            .remove(0);
        let closure = xtask_s2i::source::Closure::scan(&plan, &metadata).unwrap();
        let mut tar = Vec::new();
        closure.write_tar(&mut tar, 0, 0, &Buffer::new()).unwrap();
        tar::Archive::new(tar.as_slice()).unpack(dest).unwrap();
        env_args(&plan.build_env())
    }

    /// The copy's repository root: the source root of the cluster and of the local chain.
    fn top(&self) -> PathBuf {
        self.root.join("../..")
    }

    /// Commits every change of the copy's repository.
    fn commit(&self, message: &str) {
        ok(Command::new("git")
            .args(["add", "-A"])
            .current_dir(self.top()));
        ok(Command::new("git")
            .args([
                "-c",
                "user.name=Conformance Tests",
                "-c",
                "user.email=conformance@xtask-s2i.invalid",
                "commit",
                "-q",
                "-m",
                message,
            ])
            .current_dir(self.top()));
    }
}

/// `-e NAME=value` for each variable.
fn env_args(env: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    env.iter()
        .flat_map(|(k, v)| ["-e".to_string(), format!("{k}={v}")])
        .collect()
}

impl Drop for Project {
    fn drop(&mut self) {
        remove_images(&self.refs());
    }
}

/// The example built once by the local chain (tag `conformance`) and its source as `s2i` gets
/// it; the last test that uses it removes its images.
struct Shared {
    project: Project,
    src: tempfile::TempDir,
    /// The app BuildConfig's env as `-e` arguments.
    env: Vec<String>,
}

const SHARED_USERS: usize = 2;
static SHARED_DONE: Mutex<usize> = Mutex::new(0);

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let project = Project::new("conformance", support::RUST_BASE);
        project.build();
        let src = tempfile::tempdir().unwrap();
        let env = project.s2i_source(src.path());
        Shared { project, src, env }
    })
}

/// Marks one user of [`shared`] done, also when its test fails.
struct SharedUser;

impl Drop for SharedUser {
    fn drop(&mut self) {
        let mut done = SHARED_DONE.lock().unwrap_or_else(|e| e.into_inner());
        *done += 1;
        if *done == SHARED_USERS {
            remove_images(&shared().project.refs());
        }
    }
}

/// A copy of the shared `s2i` source, to edit.
fn copy_source(from: &Path, to: &Path) {
    ok(Command::new("cp").arg("-a").arg(from).arg(to));
}

#[test]
fn s2i_builds_plain_incremental_and_as_an_arbitrary_uid() {
    let test = "s2i_builds_plain_incremental_and_as_an_arbitrary_uid";
    if !support::docker_available(test) || !tool("s2i", &["version"], test) {
        return;
    }
    let _lock = support::engine_lock();
    let _user = SharedUser;
    let shared = shared();
    let builder = shared.project.builder();
    let app = "hello-world-s2i:conformance".to_string();
    remove_images(std::slice::from_ref(&app));
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    copy_source(shared.src.path(), &src);

    let env: Vec<&str> = shared.env.iter().map(String::as_str).collect();
    let main = src.join("examples/hello-world/src/main.rs");
    let plain = s2i_build(&src, &builder, &app, &env);
    greets(&app, "S2iPlain");

    // A one-line change: the incremental build restores the target directory and compiles the
    // changed crate only. s2i copies the source, so every file is new to cargo, as in a cluster's
    // fresh clone; assemble gives the unchanged files (the path dependency `xtask-s2i` among them)
    // the times the previous build recorded.
    let vendored: BTreeSet<String> = compiled(&plain)
        .into_iter()
        .filter(|c| c != "hello-world" && c != "xtask-s2i")
        .collect();
    assert!(
        vendored.contains("clap"),
        "the first build compiled the dependencies:\n{plain}"
    );
    append(&main, "// one-line change");
    let incremental = s2i_build(
        &src,
        &builder,
        &app,
        &[&env[..], &["--incremental"]].concat(),
    );
    assert!(
        incremental.contains("Restoring build artifacts")
            && incremental.contains("Restored the modification times of"),
        "{incremental}"
    );
    assert_eq!(
        compiled(&incremental),
        BTreeSet::from(["hello-world".to_string()]),
        "an incremental s2i build after a one-line change in the app:\n{incremental}"
    );
    greets(&app, "S2iIncremental");

    // As OpenShift may run it: an arbitrary UID of group 0, incremental too.
    append(&main, "// another one-line change");
    let uid = s2i_build(
        &src,
        &builder,
        &app,
        &[
            &env[..],
            &["--incremental", "--assemble-user", "1000680000"],
        ]
        .concat(),
    );
    assert!(uid.contains("Restoring build artifacts"), "{uid}");
    assert!(compiled(&uid).is_disjoint(&vendored), "{uid}");
    greets(&app, "S2iArbitraryUid");

    assert_upstream_labels(&builder);
    remove_images(&[app]);
}

/// The builder's labels as upstream reads them.
fn assert_upstream_labels(builder: &str) {
    let labels: serde_json::Value = serde_json::from_str(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{json .Config.Labels}}",
        builder,
    ]))
    .unwrap();
    assert_eq!(labels["io.openshift.s2i.assemble-user"], "1001");
    assert_eq!(labels["io.openshift.expose-services"], "8080:http");
    assert_eq!(labels["io.openshift.s2i.destination"], "/tmp");
}

#[test]
fn s2i_as_dockerfile_then_podman_build_gives_an_app_that_runs() {
    let test = "s2i_as_dockerfile_then_podman_build_gives_an_app_that_runs";
    if !support::docker_available(test)
        || !tool("s2i", &["version"], test)
        || !tool("podman", &["--version"], test)
    {
        return;
    }
    let _lock = support::engine_lock();
    let _user = SharedUser;
    let shared = shared();
    let builder = shared.project.builder();
    let work = tempfile::tempdir().unwrap();
    let conf = work.path().join("containers.conf");
    std::fs::write(&conf, "[containers]\ndefault_ulimits = []\n").unwrap();
    let podman = |args: &[&str]| -> Command {
        let mut c = Command::new("podman");
        c.args(args).env("CONTAINERS_CONF", &conf);
        c
    };
    let context = work.path().join("context");
    let dockerfile = context.join("Dockerfile");
    let env: Vec<&str> = shared.env.iter().map(String::as_str).collect();
    s2i_build(
        shared.src.path(),
        &builder,
        "hello-world-podman:conformance",
        &[&env[..], &["--as-dockerfile", dockerfile.to_str().unwrap()]].concat(),
    );
    let text = std::fs::read_to_string(&dockerfile).unwrap();
    assert!(text.contains("COPY upload/src /tmp/src"), "{text}");

    let app = "localhost/hello-world-podman:conformance";
    let loaded = podman_load(&builder, &conf);
    // `s2i` writes the builder's normalized name (`docker.io/library/...`) into the `FROM`.
    let from = last_from(&text);
    ok(&mut podman(&["tag", &loaded[0], &from]));
    let loaded: Vec<String> = loaded.into_iter().chain([from]).collect();
    let built =
        output(podman(&["build", "--pull=never", "--network=none", "-t", app]).arg(&context));
    let run = output(&mut podman(&[
        "run",
        "--rm",
        "--network=none",
        app,
        RUN,
        "--name",
        "Podman",
    ]));
    let _ = podman(&["rmi", "-f", app]).args(&loaded).output();
    assert!(built.0, "podman build failed:\n{}", built.1);
    assert!(run.0 && run.1.contains("Podman"), "{}", run.1);
}

/// `docker save IMAGE | podman load`: the names Podman loaded.
fn podman_load(image: &str, conf: &Path) -> Vec<String> {
    let load = ok(Command::new("sh")
        .args(["-c", "docker save \"$1\" | podman load", "sh", image])
        .env("CONTAINERS_CONF", conf));
    let loaded: Vec<String> = load
        .lines()
        .filter_map(|l| l.split_once("Loaded image").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once(':').map(|(_, names)| names))
        .flat_map(|names| names.split(',').map(|n| n.trim().to_string()))
        .filter(|n| !n.is_empty())
        .collect();
    assert!(!loaded.is_empty(), "podman load said: {load}");
    loaded
}

/// The image of a Dockerfile's last `FROM`.
fn last_from(dockerfile: &str) -> String {
    dockerfile
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("FROM "))
        .expect("the Dockerfile has a FROM")
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn the_local_chain_honours_s2i_bin_and_environment_and_stays_incremental() {
    let test = "the_local_chain_honours_s2i_bin_and_environment_and_stays_incremental";
    if !support::docker_available(test) {
        return;
    }
    let _lock = support::engine_lock();
    let p = Project::new("conformance-override", support::RUST_BASE);
    // At the source root, where s2i and OpenShift read them (the repository's root here).
    let s2i = p.top().join(".s2i");
    std::fs::create_dir_all(s2i.join("bin")).unwrap();
    std::fs::write(
        s2i.join("bin/assemble"),
        "#!/bin/sh\n\
         echo \"override: S2I_CONFORMANCE=$S2I_CONFORMANCE CARGO_TARGET_DIR=$CARGO_TARGET_DIR\"\n\
         exec /usr/libexec/s2i/assemble\n",
    )
    .unwrap();
    std::fs::write(
        s2i.join("environment"),
        "# the conformance test's\nS2I_CONFORMANCE=from-environment\n\
         CARGO_TARGET_DIR=/opt/app-root/build\n",
    )
    .unwrap();
    p.commit("the source's .s2i");

    let first = p.build();
    assert!(
        first.contains(
            "override: S2I_CONFORMANCE=from-environment CARGO_TARGET_DIR=/opt/app-root/build"
        ),
        "{first}"
    );
    greets(&p.app(), "Override");
    // Neither file is in the image; the environment is (as upstream commits it), and the target
    // directory is where it says.
    let inside = docker(&[
        "run",
        "--rm",
        &p.app(),
        "/bin/sh",
        "-c",
        "ls -A /tmp; echo ---; ls -A /tmp/scripts /tmp/src 2>&1; echo ---; \
         echo $S2I_CONFORMANCE; ls -d /opt/app-root/build/*/release",
    ]);
    let parts: Vec<&str> = inside.split("---").collect();
    assert!(!parts[0].contains("scripts"), "{inside}");
    assert!(!parts[0].contains("src"), "{inside}");
    assert!(parts[2].contains("from-environment"), "{inside}");
    assert!(parts[2].contains("/opt/app-root/build/"), "{inside}");
    // Upstream's build labels.
    let labels: serde_json::Value = serde_json::from_str(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{json .Config.Labels}}",
        &p.app(),
    ]))
    .unwrap();
    let build = |key: &str| labels[format!("io.openshift.s2i.build.{key}")].clone();
    assert_eq!(build("commit.ref"), "main", "{labels:#}");
    assert_eq!(
        build("commit.author"),
        "Conformance Tests <conformance@xtask-s2i.invalid>"
    );
    assert_eq!(build("commit.message"), "the source's .s2i");
    assert_eq!(build("commit.id").as_str().map(str::len), Some(40));
    assert!(build("commit.date").as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(build("image"), p.builder());
    // `.s2i/` is committed: the tree is the commit's.
    assert!(labels["io.github.xtask-s2i.uncommitted-changes"].is_null());

    // A one-line change: incremental from `/opt/app-root/build`, only the app compiled.
    append(&p.root.join("src/main.rs"), "// one-line change");
    let second = p.build();
    assert!(second.contains("Restoring build artifacts"), "{second}");
    assert_eq!(
        compiled(&second),
        BTreeSet::from(["hello-world".to_string()]),
        "{second}"
    );
    greets(&p.app(), "OverrideIncremental");
    let dirty = docker(&[
        "image",
        "inspect",
        "-f",
        "{{index .Config.Labels \"io.github.xtask-s2i.uncommitted-changes\"}}",
        &p.app(),
    ]);
    assert_eq!(dirty, "true", "an uncommitted edit is marked");
}

/// The upstream `s2i` CLI, run on the committed repository (it clones it: uncommitted changes
/// do not count) with the app BuildConfig's `contextDir` and env, builds the local chain's
/// binary, byte for byte. The repository commits its vendored crates, as one for an offline
/// cluster would (these machines' containers cannot reach crates.io), so both build offline
/// from the same tree; `vendor = false`, since the workspace brings its own.
#[test]
fn s2i_on_the_committed_repository_builds_the_local_chains_binary() {
    let test = "s2i_on_the_committed_repository_builds_the_local_chains_binary";
    if !support::docker_available(test) || !tool("s2i", &["version"], test) {
        return;
    }
    let _lock = support::engine_lock();
    let p = Project::new("conformance-same-binary", support::RUST_BASE);
    let unpacked = tempfile::tempdir().unwrap();
    let env = p.s2i_source(unpacked.path());
    let ws = unpacked.path().join("examples/hello-world");
    ok(Command::new("cp")
        .arg("-a")
        .arg(ws.join("vendor"))
        .arg(p.root.join("vendor")));
    std::fs::copy(
        ws.join(".cargo/config.toml"),
        p.root.join(".cargo/config.toml"),
    )
    .unwrap();
    std::fs::copy(
        support::repo_root().join(".s2iignore"),
        p.top().join(".s2iignore"),
    )
    .unwrap();
    support::edit(
        &p.root.join("Cargo.toml"),
        "[package.metadata.s2i]\n",
        "[package.metadata.s2i]\nvendor = false\n",
    );
    p.commit("vendored crates");
    p.build();

    let s2i_app = "hello-world-s2i:conformance-same-binary".to_string();
    remove_images(std::slice::from_ref(&s2i_app));
    let args: Vec<&str> = env.iter().map(String::as_str).collect();
    s2i_build(&p.top(), &p.builder(), &s2i_app, &args);
    let sum = |image: &str| {
        docker(&[
            "run",
            "--rm",
            image,
            "sha256sum",
            "/opt/app-root/bin/hello-world",
        ])
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
    };
    let (ours, theirs) = (sum(&p.app()), sum(&s2i_app));
    remove_images(&[s2i_app]);
    assert_eq!(
        ours, theirs,
        "the local chain and `s2i` built different binaries"
    );
}

#[test]
fn a_base_with_an_entrypoint_gives_the_same_app_image_through_both_runners() {
    let test = "a_base_with_an_entrypoint_gives_the_same_app_image_through_both_runners";
    if !support::docker_available(test) || !tool("s2i", &["version"], test) {
        return;
    }
    let _lock = support::engine_lock();
    let base = entrypoint_base();

    let p = Project::new("conformance-entrypoint", &base);
    let local = p.build();
    assert!(
        !local.contains("through the entrypoint"),
        "assemble ran through the base's entrypoint:\n{local}"
    );
    let src = tempfile::tempdir().unwrap();
    let env = p.s2i_source(src.path());
    let s2i_app = "hello-world-s2i:conformance-entrypoint".to_string();
    let args: Vec<&str> = env.iter().map(String::as_str).collect();
    s2i_build(src.path(), &p.builder(), &s2i_app, &args);

    let (ours, theirs) = (config(&p.app()), config(&s2i_app));
    let result = std::panic::catch_unwind(|| {
        assert_eq!(ours, theirs, "the app image configs differ");
        assert_eq!(
            ours["Entrypoint"],
            serde_json::json!(["/usr/local/bin/entry"])
        );
        greets(&p.app(), "EntrypointLocal");
        greets(&s2i_app, "EntrypointS2i");
    });
    remove_images(&[s2i_app]);
    drop(p);
    remove_images(&[base]);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// A base image FROM the local Rust base whose `ENTRYPOINT` says so on stderr and runs its
/// arguments: `xtask-s2i-conformance/entrypoint-base:1`.
fn entrypoint_base() -> String {
    let base = "xtask-s2i-conformance/entrypoint-base:1".to_string();
    let dockerfile = format!(
        "FROM {}\n\
         RUN printf '#!/bin/sh\\necho \"through the entrypoint\" >&2\\nexec \"$@\"\\n' \
         > /usr/local/bin/entry && chmod 0755 /usr/local/bin/entry\n\
         ENTRYPOINT [\"/usr/local/bin/entry\"]\n",
        support::RUST_BASE
    );
    let mut build = Command::new("docker")
        .args(["build", "-q", "-t", &base, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut build.stdin.take().unwrap(), dockerfile.as_bytes()).unwrap();
    let built = build.wait_with_output().unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    base
}

/// What an app image runs with: entrypoint, command, user, working directory, ports and the
/// environment (sorted).
fn config(image: &str) -> serde_json::Value {
    let mut c: serde_json::Value = serde_json::from_str(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{json .Config}}",
        image,
    ]))
    .unwrap();
    let mut env: Vec<String> = serde_json::from_value(c["Env"].take()).unwrap();
    env.sort();
    serde_json::json!({
        "Entrypoint": c["Entrypoint"],
        "Cmd": c["Cmd"],
        "User": c["User"],
        "WorkingDir": c["WorkingDir"],
        "ExposedPorts": c["ExposedPorts"],
        "Env": env,
    })
}

/// A committed Cargo workspace at a repository's root: the service `inc-svc` (the package with
/// `[package.metadata.s2i]`, images tagged `tag`) depends on the path libraries `inc-core` and
/// `inc-util`; neither library depends on the other, and nothing comes from a registry. The
/// service prints `svc <core's word> <util's word>`. Returns the root.
fn incremental_workspace(dest: &Path, tag: &str) -> PathBuf {
    use crate::fixtures::{git_commit_all, run, write};
    let root = dest.join("inc-ws");
    write(
        &root,
        "Cargo.toml",
        "[workspace]\nmembers = [\"core\", \"util\", \"svc\"]\nresolver = \"2\"\n",
    );
    for lib in ["core", "util"] {
        write(
            &root,
            &format!("{lib}/Cargo.toml"),
            &format!("[package]\nname = \"inc-{lib}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        );
        write(
            &root,
            &format!("{lib}/src/lib.rs"),
            &format!(
                "//! The {lib} library.\npub fn word() -> &'static str {{\n    \"{lib}-1\"\n}}\n"
            ),
        );
    }
    write(
        &root,
        "svc/Cargo.toml",
        &format!(
            r#"[package]
name = "inc-svc"
version = "0.1.0"
edition = "2021"

[dependencies]
inc-core = {{ path = "../core" }}
inc-util = {{ path = "../util" }}

[package.metadata.s2i]
tag = "{tag}"
"#
        ),
    );
    write(
        &root,
        "svc/src/main.rs",
        "fn main() {\n    println!(\"svc {} {}\", inc_core::word(), inc_util::word());\n}\n",
    );
    write(&root, ".gitignore", "/target\n");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(&root, &cargo, &["generate-lockfile", "--offline"]);
    git_commit_all(&root);
    root
}

/// The app BuildConfig's env of the workspace at `root`, as `-e` arguments.
fn build_env_args(root: &Path) -> Vec<String> {
    let metadata = xtask_s2i::config::read_metadata(Some(&root.join("Cargo.toml"))).unwrap();
    let plan = xtask_s2i::plan::Plan::for_workspace(&metadata, &[], Some(support::RUST_BASE))
        .unwrap()
        .remove(0);
    env_args(&plan.build_env())
}

/// What the app image's `run` script prints.
fn runs(image: &str) -> String {
    docker(&["run", "--rm", image, RUN])
}

/// The upstream `s2i` CLI, run incrementally on a committed workspace after a one-line change in
/// one library, recompiles only that library and the service that depends on it: `s2i` clones
/// the repository, so every file is new, and `assemble` gives the unchanged files (the other
/// library's among them) the times the previous build recorded.
#[test]
fn s2i_incremental_on_a_workspace_recompiles_only_the_changed_crate_and_its_dependents() {
    let test =
        "s2i_incremental_on_a_workspace_recompiles_only_the_changed_crate_and_its_dependents";
    if !support::docker_available(test) || !tool("s2i", &["version"], test) {
        return;
    }
    let _lock = support::engine_lock();
    let tag = "conformance-workspace";
    let refs: Vec<String> = ["inc-svc-builder", "inc-svc-app", "inc-svc", "inc-svc-s2i"]
        .map(|n| format!("{n}:{tag}"))
        .to_vec();
    remove_images(&refs);
    let result = std::panic::catch_unwind(|| workspace_incremental(tag, &refs));
    remove_images(&refs);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// [`s2i_incremental_on_a_workspace_recompiles_only_the_changed_crate_and_its_dependents`]
/// with the images `refs` (builder, app, runtime, `s2i`'s app).
fn workspace_incremental(tag: &str, refs: &[String]) {
    let tmp = tempfile::tempdir().unwrap();
    let root = incremental_workspace(tmp.path(), tag);
    let sink = Buffer::new();
    let args = ImageArgs {
        manifest_path: Some(root.join("Cargo.toml")),
        builder_base: Some(support::RUST_BASE.to_string()),
        ..Default::default()
    };
    if let Err(e) = args.execute(&sink) {
        panic!("the chain failed: {e:#}\n{}", log_lines(&sink.events()));
    }
    let env = build_env_args(&root);
    let env: Vec<&str> = env.iter().map(String::as_str).collect();
    let (builder, app) = (&refs[0], &refs[3]);
    let incremental = [&env[..], &["--incremental"]].concat();

    let first = s2i_build(&root, builder, app, &incremental);
    let all = ["inc-core", "inc-util", "inc-svc"].map(str::to_string);
    assert_eq!(compiled(&first), BTreeSet::from(all), "{first}");
    assert_eq!(runs(app), "svc core-1 util-1");

    // One line of `inc-util` changes, committed: `s2i` clones the commit.
    crate::fixtures::write(
        &root,
        "util/src/lib.rs",
        "//! The util library.\npub fn word() -> &'static str {\n    \"util-2\"\n}\n",
    );
    crate::fixtures::commit(&root, "a one-line change in inc-util");
    let second = s2i_build(&root, builder, app, &incremental);
    assert!(
        second.contains("Restoring build artifacts")
            && second.contains("Restored the modification times of"),
        "{second}"
    );
    assert_eq!(
        compiled(&second),
        BTreeSet::from(["inc-util", "inc-svc"].map(str::to_string)),
        "an incremental s2i build after a one-line change in inc-util:\n{second}"
    );
    assert_eq!(runs(app), "svc core-1 util-2");
}
