//! The Docker chain on the example, against the real daemon, through the command's own pipeline
//! (`ImageArgs::execute`: source closure, then the engine), from copies of `examples/hello-world`
//! built `FROM` the local Rust base image.
//!
//! One cold build is shared: the first test that needs it builds a copy under the tag `it-cold`,
//! and the others seed their own tags (`it-<test>`) from it, so each later scenario is one
//! incremental build. The tests hold one lock so their Docker work never overlaps (two cores),
//! remove their images when done, and check containers by the images they came from, so other
//! users of the daemon do not disturb them. Scenarios that need their own environment (a dead
//! `DOCKER_HOST`, Ctrl-C, a Docker config for `--push`) re-run this test binary as a child.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use xtask_s2i::ImageArgs;
use xtask_s2i::plan::TOOL_LABEL;
use xtask_s2i::sink::{Buffer, Event, Sink, StageReport};

use crate::support;

/// The example's images (the package is `hello-world`; tests differ by tag).
const NAMES: [&str; 3] = ["hello-world-builder", "hello-world-app", "hello-world"];
const PACKAGE: &str = "hello-world";
const RUN_SCRIPT: &str = "/usr/libexec/s2i/run";

/// Serializes the Docker work of these tests (and of `conformance`).
fn lock() -> MutexGuard<'static, ()> {
    support::engine_lock()
}

/// Runs `docker` and returns its trimmed stdout, panicking with stderr when it fails.
fn docker(args: &[&str]) -> String {
    let out = support::engine_cli().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The ID of an image, or `None` when there is no such image.
fn image_id(reference: &str) -> Option<String> {
    let out = support::engine_cli()
        .args(["image", "inspect", "-f", "{{.Id}}", reference])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Containers with the tool's label made from any of `images` (IDs), running or not.
fn containers_from(images: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for image in images {
        let out = support::engine_cli()
            .args([
                "ps",
                "-aq",
                "--filter",
                &format!("label={TOOL_LABEL}={PACKAGE}"),
                "--filter",
                &format!("ancestor={}", support::ancestor(image)),
            ])
            .output()
            .unwrap();
        // A removed image is nobody's ancestor any more.
        if out.status.success() {
            found.extend(
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .map(str::to_string),
            );
        }
    }
    found
}

/// A copy of the example whose images are tagged `tag`; its images are removed on drop.
struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    tag: String,
    builder_base: String,
}

impl Project {
    /// A copy (the example at `examples/hello-world` of a copy of this repository), committed to
    /// a fresh git repository so that later edits are uncommitted ones.
    fn new(tag: &str) -> Project {
        let tmp = tempfile::tempdir().unwrap();
        let root = support::copy_example(tmp.path());
        support::edit(
            &root.join("Cargo.toml"),
            "[package.metadata.s2i]\n",
            &format!("[package.metadata.s2i]\ntag = \"{tag}\"\n"),
        );
        for args in [
            &["init", "-q"][..],
            &["add", "-A"],
            &[
                "-c",
                "user.name=xtask-s2i tests",
                "-c",
                "user.email=tests@xtask-s2i.invalid",
                "commit",
                "-q",
                "-m",
                "example",
            ],
        ] {
            // At the copy's repository root, as in this repository: the source root.
            let ok = Command::new("git")
                .args(args)
                .current_dir(tmp.path())
                .status()
                .unwrap();
            assert!(ok.success(), "git {args:?}");
        }
        let project = Project {
            _tmp: tmp,
            root,
            tag: tag.to_string(),
            builder_base: support::RUST_BASE.to_string(),
        };
        project.remove_images();
        project
    }

    fn args(&self) -> ImageArgs {
        ImageArgs {
            manifest_path: Some(self.root.join("Cargo.toml")),
            builder_base: Some(self.builder_base.clone()),
            ..Default::default()
        }
    }

    /// `name:tag` of the builder, app and runtime images.
    fn refs(&self) -> [String; 3] {
        NAMES.map(|n| format!("{n}:{}", self.tag))
    }

    fn builder(&self) -> String {
        self.refs()[0].clone()
    }

    fn app(&self) -> String {
        self.refs()[1].clone()
    }

    fn runtime(&self) -> String {
        self.refs()[2].clone()
    }

    fn ids(&self) -> [Option<String>; 3] {
        self.refs().map(|r| image_id(&r))
    }

    /// Runs `cargo xtask image` on the copy.
    fn build(&self, sink: &Buffer) -> anyhow::Result<Vec<StageReport>> {
        self.args().execute(sink).map(|s| s.stages)
    }

    /// Builds and expects success; returns which stages were fresh.
    fn build_ok(&self, sink: &Buffer) -> [bool; 3] {
        let stages = match self.build(sink) {
            Ok(s) => s,
            Err(e) => panic!("the chain failed: {e:#}"),
        };
        assert_eq!(stages.len(), 3, "{stages:#?}");
        [stages[0].cached, stages[1].cached, stages[2].cached]
    }

    /// Tags the images of `from` with this project's tag, as if this copy had built them.
    fn seed_from(&self, from: &Project) {
        for (src, dst) in from.refs().iter().zip(self.refs()) {
            docker(&["tag", src, &dst]);
        }
    }

    fn file(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn remove_images(&self) {
        for r in self.refs().iter().rev() {
            let _ = support::engine_cli().args(["rmi", r]).output();
        }
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        self.remove_images();
    }
}

/// The shared cold build, made once by whichever test needs it first. Its images are removed by
/// the last test that uses it ([`Cold::release`]); a stale one from an interrupted run is
/// rebuilt, since its tag is removed first.
struct Cold {
    project: Project,
    /// The cold build's stage reports and events.
    stages: [bool; 3],
    events: Vec<Event>,
    seconds: f64,
}

/// How many tests use the cold build (counted in this file, so a new user cannot be forgotten);
/// the last one removes it.
fn cold_users() -> usize {
    include_str!("docker.rs")
        .matches(concat!("let _user = Cold", "User;"))
        .count()
}
static COLD_DONE: Mutex<usize> = Mutex::new(0);

fn cold() -> &'static Cold {
    static COLD: OnceLock<Cold> = OnceLock::new();
    COLD.get_or_init(|| {
        let project = Project::new("it-cold");
        let sink = Buffer::new();
        let started = Instant::now();
        let stages = project.build_ok(&sink);
        Cold {
            project,
            stages,
            events: sink.events(),
            seconds: started.elapsed().as_secs_f64(),
        }
    })
}

/// Marks one user of the cold build done (call it at the end of each test that used it, also
/// when it fails: see [`ColdUser`]).
struct ColdUser;

impl Drop for ColdUser {
    fn drop(&mut self) {
        let mut done = COLD_DONE.lock().unwrap_or_else(|e| e.into_inner());
        *done += 1;
        if *done == cold_users() {
            Project::remove_tag("it-cold");
        }
    }
}

impl Project {
    fn remove_tag(tag: &str) {
        for n in NAMES.iter().rev() {
            let _ = support::engine_cli()
                .args(["rmi", &format!("{n}:{tag}")])
                .output();
        }
    }
}

fn logs(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Log { line, .. } => Some(line.clone()),
            _ => None,
        })
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

/// Runs a container of `image` with `docker run` (`podman run` on Podman); its trimmed stdout.
fn run(image: &str, args: &[&str]) -> String {
    let out = support::run_cli()
        .args(["run", "--rm", image])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "run {image} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn end_to_end_on_the_example_then_a_no_op_rerun() {
    if !support::docker_available("end_to_end_on_the_example_then_a_no_op_rerun") {
        return;
    }
    let _lock = lock();
    let _user = ColdUser;
    let cold = cold();
    let p = &cold.project;
    assert_eq!(
        cold.stages,
        [false, false, false],
        "a cold build builds all"
    );
    eprintln!("cold chain: {:.1}s", cold.seconds);

    // The runtime image runs and greets.
    assert_eq!(run(&p.runtime(), &["--name", "World"]), "Hello World!");
    assert_eq!(run(&p.runtime(), &["--name", "OKD"]), "Hello OKD!");

    assert_only_the_binary(p);
    assert_labels(p);
    assert_nothing_left_and_reported(cold);
    assert_a_no_op_rerun(p);
}

/// The runtime image: one layer, whose only file is the binary; a numeric non-root user; the
/// size of the binary.
/// Whether `path` of a `docker export` is one of the mount points it adds to every container.
fn export_mount_point(path: &str) -> bool {
    [
        ".dockerenv",
        "dev",
        "proc",
        "sys",
        "etc/hosts",
        "etc/hostname",
        "etc/resolv.conf",
    ]
    .iter()
    .any(|m| path.trim_end_matches('/') == *m || path.starts_with(&format!("{m}/")))
}

fn assert_only_the_binary(p: &Project) {
    let layers = docker(&[
        "image",
        "inspect",
        "-f",
        "{{len .RootFS.Layers}}",
        &p.runtime(),
    ]);
    assert!(layers == "1" || layers == "2", "{layers} layers");
    let user = docker(&["image", "inspect", "-f", "{{.Config.User}}", &p.runtime()]);
    let uid: u32 = user.parse().unwrap_or_else(|_| panic!("user {user:?}"));
    assert_ne!(uid, 0);
    let size: u64 = docker(&["image", "inspect", "-f", "{{.Size}}", &p.runtime()])
        .parse()
        .unwrap();
    let container = docker(&["create", &p.runtime()]);
    let export = support::engine_cli()
        .args(["export", &container])
        .output()
        .unwrap();
    docker(&["rm", &container]);
    let mut files = Vec::new();
    let mut binary = 0;
    for entry in tar::Archive::new(export.stdout.as_slice())
        .entries()
        .unwrap()
    {
        let entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        if export_mount_point(&path) {
            continue;
        }
        if entry.header().entry_type().is_file() {
            if path == "hello-world" {
                binary = entry.size();
            }
            files.push(path);
        }
    }
    files.sort();
    assert_eq!(
        files,
        [
            "etc/group",
            "etc/passwd",
            "etc/ssl/certs/ca-certificates.crt",
            "hello-world"
        ],
        "the runtime image holds the binary and the runtime files"
    );
    assert!(
        size <= binary + 300 * 1024,
        "image {size} B, binary {binary} B: more than binary + 300 KiB"
    );
}

/// Every image carries the tool's label and its stage's input digest; the app image runs the
/// run script, as the builder's user, with the S2I labels.
fn assert_labels(p: &Project) {
    for image in p.refs() {
        let labels = docker(&["image", "inspect", "-f", "{{json .Config.Labels}}", &image]);
        let labels: serde_json::Value = serde_json::from_str(&labels).unwrap();
        assert_eq!(labels[TOOL_LABEL], PACKAGE, "{image}");
        assert_eq!(
            labels[xtask_s2i::plan::DIGEST_LABEL].as_str().map(str::len),
            Some(64),
            "{image}"
        );
    }

    // The app image runs the run script, as the builder's user, with the S2I labels.
    let cmd = docker(&["image", "inspect", "-f", "{{json .Config.Cmd}}", &p.app()]);
    assert_eq!(cmd, format!("[\"{RUN_SCRIPT}\"]"));
    let labels = docker(&[
        "image",
        "inspect",
        "-f",
        "{{json .Config.Labels}}",
        &p.app(),
    ]);
    let labels: serde_json::Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels["io.openshift.s2i.build.image"], p.builder().as_str());
    assert_eq!(labels[TOOL_LABEL], PACKAGE);
    assert!(
        labels["io.openshift.s2i.build.commit.id"].is_string(),
        "{labels}"
    );
    assert_eq!(labels["org.opencontainers.image.title"], PACKAGE);
    assert_eq!(
        run(&p.app(), &[RUN_SCRIPT, "--name", "World"]),
        "Hello World!"
    );
}

/// Nothing with the tool's label is left behind; the stage reports and the summary.
fn assert_nothing_left_and_reported(cold: &Cold) {
    let p = &cold.project;
    let ids: Vec<String> = p.ids().into_iter().flatten().collect();
    assert_eq!(containers_from(&ids), Vec::<String>::new());
    // The stage reports and the summary.
    assert!(cold.events.iter().any(
        |e| matches!(e, Event::Status { verb, message } if verb == "Building" && message == &format!("builder {}", p.builder()))
    ));
    assert!(
        cold.events
            .iter()
            .any(|e| matches!(e, Event::Status { verb, .. } if verb == "Finished"))
    );
    let summary = cold.events.iter().find_map(|e| match e {
        Event::Summary { stages, .. } => Some(stages),
        _ => None,
    });
    let stages: Vec<&str> = summary
        .expect("the run ends with a summary")
        .iter()
        .map(|s| s.stage.as_str())
        .collect();
    assert_eq!(stages, ["builder", "app", "runtime"]);
}

/// A rerun without a change: all three stages fresh, no container, no build.
fn assert_a_no_op_rerun(p: &Project) {
    let before = p.ids();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    // Events are filtered by whole seconds: start on a second of its own, so the containers the
    // checks above ran (which carry the tool's label on Podman too) fall before it.
    std::thread::sleep(Duration::from_millis(1100));
    let t0 = now();
    let sink = Buffer::new();
    let started = Instant::now();
    assert_eq!(p.build_ok(&sink), [true, true, true]);
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("no-op rerun: {seconds:.2}s");
    assert_eq!(p.ids(), before);
    let t1 = now() + 1;
    let events = docker(&[
        "events",
        "--since",
        &t0.to_string(),
        "--until",
        &t1.to_string(),
        "--filter",
        "type=container",
        "--filter",
        "event=create",
        "--format",
        "{{json .Actor.Attributes}}",
    ]);
    // Docker names the image of a container created from an ID by that ID; Podman by the
    // image's name, so there the tool's label (in the attributes on both) tells ours apart
    // (nothing else uses the test's Podman socket).
    let label = format!("\"{TOOL_LABEL}\":\"{PACKAGE}\"");
    let ours: Vec<&str> = events
        .lines()
        .filter(|l| {
            before
                .iter()
                .flatten()
                .any(|id| l.contains(id.trim_start_matches("sha256:")))
                || (support::engine() == support::Engine::Podman && l.contains(&label))
        })
        .collect();
    assert_eq!(ours, Vec::<&str>::new(), "containers were created");
    assert!(
        !sink.events().iter().any(|e| matches!(
            e,
            Event::Status { verb, .. } if ["Building", "Assembling", "Saving"].contains(&verb.as_str())
        )),
        "{:#?}",
        sink.events()
    );
}

/// Removes a container by name when dropped, however the test ends.
struct RemoveContainer(String);

impl Drop for RemoveContainer {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

/// One HTTP GET on a fresh connection: the status and the body.
fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: it\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// The runtime image run as OpenShift's `restricted-v2` runs it (an arbitrary UID in group 0, a
/// read-only root file system, no capabilities): it serves `/`, `/?name=` and `/healthz`, logs
/// each request, and as PID 1 stops at once on `docker stop` (SIGTERM), not after the timeout.
#[test]
fn the_runtime_image_serves_under_restricted_v2_and_stops_promptly() {
    if !support::docker_available("the_runtime_image_serves_under_restricted_v2_and_stops_promptly")
    {
        return;
    }
    let _lock = lock();
    let _user = ColdUser;
    let p = &cold().project;
    let size: u64 = docker(&["image", "inspect", "-f", "{{.Size}}", &p.runtime()])
        .parse()
        .unwrap();
    assert!(size < 3 * 1024 * 1024, "the runtime image is {size} bytes");

    let name = format!("xtask-s2i-it-serve-{}", std::process::id());
    let _container = RemoveContainer(name.clone());
    docker(&[
        "run",
        "-d",
        "--name",
        &name,
        "--user",
        "1000680000:0",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "-p",
        "127.0.0.1::8080",
        &p.runtime(),
    ]);
    let port = docker(&["port", &name, "8080/tcp"]);
    let addr = port.lines().next().unwrap().trim().to_string();
    let health = first_answer(&addr, "/healthz");
    assert_eq!(health.0, 200, "{health:?}");
    assert_eq!(
        http_get(&addr, "/").unwrap(),
        (200, "Hello World!\n".to_string())
    );
    assert_eq!(
        http_get(&addr, "/?name=OKD").unwrap(),
        (200, "Hello OKD!\n".to_string())
    );
    assert_eq!(http_get(&addr, "/nowhere").unwrap().0, 404);

    let stopping = Instant::now();
    docker(&["stop", "-t", "10", &name]);
    let took = stopping.elapsed();
    assert!(
        took < Duration::from_millis(1500),
        "`docker stop` took {took:?}: SIGTERM did not stop PID 1"
    );
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.ExitCode}}", &name]),
        "0",
        "stopped by SIGKILL rather than exiting on SIGTERM"
    );
    assert_logged_every_request(&name);
}

/// The first answer of the service at `addr` to a GET of `path`, waiting up to 10 s for it to
/// listen.
fn first_answer(addr: &str, path: &str) -> (u16, String) {
    let started = Instant::now();
    loop {
        match http_get(addr, path) {
            Ok(r) => return r,
            Err(e) if started.elapsed() < Duration::from_secs(10) => {
                eprintln!("waiting for {addr}: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("the service never answered on {addr}: {e}"),
        }
    }
}

/// The container `name` logged each request of the serving test, and its stop.
fn assert_logged_every_request(name: &str) {
    let out = Command::new("docker")
        .args(["logs", name])
        .output()
        .unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    for line in [
        "\"GET /healthz HTTP/1.1\" 200",
        "\"GET / HTTP/1.1\" 200",
        "\"GET /?name=OKD HTTP/1.1\" 200",
        "\"GET /nowhere HTTP/1.1\" 404",
        "hello-world stopping",
    ] {
        assert!(logs.contains(line), "no {line:?} in the logs:\n{logs}");
    }
}

#[test]
fn an_uncommitted_edit_rebuilds_app_and_runtime_incrementally() {
    if !support::docker_available("an_uncommitted_edit_rebuilds_app_and_runtime_incrementally") {
        return;
    }
    let _lock = lock();
    let _user = ColdUser;
    let cold = cold();
    let p = Project::new("it-edit");
    p.seed_from(&cold.project);
    support::edit(
        &p.file("src/main.rs"),
        "format!(\"Hello {name}!\")",
        "format!(\"Howdy {name}!\")",
    );

    let sink = Buffer::new();
    let started = Instant::now();
    assert_eq!(
        p.build_ok(&sink),
        [true, false, false],
        "builder fresh, app and runtime rebuilt"
    );
    eprintln!("one-line change: {:.1}s", started.elapsed().as_secs_f64());
    assert_eq!(run(&p.runtime(), &["--name", "edit"]), "Howdy edit!");
    let logs = logs(&sink.events());
    assert!(
        logs.iter().any(|l| l.contains("Restoring build artifacts")),
        "the build was not incremental: {logs:#?}"
    );
    assert!(warnings(&sink.events()).is_empty(), "{:#?}", sink.events());
}

/// Only the manifests need a git repository: a project without `okd.git-uri`,
/// `package.repository` or an `origin` remote gets its images, and a warning naming the keys
/// instead of its manifests.
#[test]
fn without_a_repository_the_images_are_built_and_the_manifests_skipped() {
    if !support::docker_available(
        "without_a_repository_the_images_are_built_and_the_manifests_skipped",
    ) {
        return;
    }
    let _lock = lock();
    let _user = ColdUser;
    let cold = cold();
    let p = Project::new("it-norepo");
    p.seed_from(&cold.project);
    support::edit(
        &p.file("Cargo.toml"),
        "repository = \"https://github.com/xtask-s2i/xtask-s2i\"\n",
        "",
    );
    let manifests = || files_under(&p.file("deploy/okd"));
    let before = manifests();

    let sink = Buffer::new();
    p.build_ok(&sink);
    assert_eq!(
        run(&p.runtime(), &["--name", "repo-less"]),
        "Hello repo-less!"
    );
    let warnings = warnings(&sink.events());
    assert!(
        warnings.iter().any(|w| w.contains("has no git repository")
            && w.contains("`okd.git-uri`")
            && w.contains("`package.repository`")),
        "{warnings:#?}"
    );
    assert_eq!(before, manifests(), "the manifests were written");
}

/// Every file under `dir` with its bytes, by path.
fn files_under(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    assert!(!out.is_empty(), "no file under `{}`", dir.display());
    out
}

/// s2i reads `.s2i/bin` and `.s2i/environment` at the root of the source the cluster builds
/// (the app BuildConfig's `contextDir`: the repository's root for the example), and so does the
/// local chain: a wrapper `assemble` there runs, with `.s2i/environment`, and the BuildConfig's
/// env (`RUST_LOG` from `[package.metadata.s2i] env`) wins over the file.
#[test]
fn s2i_bin_and_environment_at_the_cluster_source_root_run_locally() {
    if !support::docker_available("s2i_bin_and_environment_at_the_cluster_source_root_run_locally")
    {
        return;
    }
    let _lock = lock();
    let _user = ColdUser;
    let cold = cold();
    let p = Project::new("it-s2i-bin");
    p.seed_from(&cold.project);
    let top = p.root.join("../..");
    let assemble = top.join(".s2i/bin/assemble");
    std::fs::create_dir_all(assemble.parent().unwrap()).unwrap();
    std::fs::write(
        &assemble,
        "#!/bin/sh\nset -e\necho \"---> wrapper: MARK=$MARK RUST_LOG=$RUST_LOG\"\n\
         echo \"$MARK\" > \"$HOME/s2i-marker\"\nexec /usr/libexec/s2i/assemble\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &assemble,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(
        top.join(".s2i/environment"),
        "# the source's\nMARK=from-the-source-root\nRUST_LOG=debug\n",
    )
    .unwrap();

    let sink = Buffer::new();
    assert_eq!(p.build_ok(&sink), [true, false, false]);
    let logs = logs(&sink.events());
    for want in [
        "using `.s2i/bin/assemble` of the source",
        "using `.s2i/environment` of the source (2 variables)",
        "---> wrapper: MARK=from-the-source-root RUST_LOG=info",
    ] {
        assert!(logs.iter().any(|l| l.contains(want)), "`{want}`: {logs:#?}");
    }
    assert_eq!(
        run(&p.app(), &["cat", "/opt/app-root/s2i-marker"]),
        "from-the-source-root"
    );
    assert!(warnings(&sink.events()).is_empty(), "{:#?}", sink.events());
}

#[test]
fn a_compile_error_fails_with_the_compiler_message_and_moves_no_tag() {
    if !support::docker_available(
        "a_compile_error_fails_with_the_compiler_message_and_moves_no_tag",
    ) {
        return;
    }
    let _lock = lock();
    let _user = ColdUser;
    let cold = cold();
    let p = Project::new("it-error");
    p.seed_from(&cold.project);
    let before = p.ids();
    support::edit(
        &p.file("src/main.rs"),
        "println!(\"{}\", greeting(&name));",
        "let broken: u32 = greeting(&name);",
    );
    let err = p.build(&Buffer::new()).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("error[E0308]: mismatched types"), "{msg}");
    assert!(msg.contains("exit code"), "{msg}");
    assert!(
        msg.contains(&format!("`{}` is unchanged", p.app())),
        "{msg}"
    );
    assert_eq!(p.ids(), before, "a tag moved");
    let ids: Vec<String> = before.into_iter().flatten().collect();
    assert_eq!(containers_from(&ids), Vec::<String>::new());
}

#[test]
fn a_dynamically_linked_binary_is_refused_before_the_runtime_build() {
    if !support::docker_available("a_dynamically_linked_binary_is_refused_before_the_runtime_build")
    {
        return;
    }
    let _lock = lock();
    let p = Project::new("it-dynamic");
    // A custom `assemble` that forgets to link statically: a real rustc build, dynamic.
    let assemble = p.file(".s2i/templates/s2i/bin/assemble");
    std::fs::create_dir_all(assemble.parent().unwrap()).unwrap();
    std::fs::write(
        &assemble,
        "#!/bin/sh\nset -eu\n\
         printf 'fn main() { println!(\"dynamic\"); }\\n' > /tmp/main.rs\n\
         mkdir -p \"$(dirname {{ bin_path | sh }})\"\n\
         rustc -O -o {{ bin_path | sh }} /tmp/main.rs\n",
    )
    .unwrap();
    let sink = Buffer::new();
    let err = p.build(&sink).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("`hello-world`"), "{msg}");
    assert!(msg.contains("dynamically linked"), "{msg}");
    assert!(msg.contains("ld-linux"), "{msg}");
    assert!(msg.contains("-C target-feature=+crt-static"), "{msg}");
    assert!(msg.contains("--target"), "{msg}");
    // Refused before the runtime build: the app image exists, the runtime image does not.
    assert!(image_id(&p.app()).is_some());
    assert_eq!(image_id(&p.runtime()), None);
    assert!(
        !sink
            .events()
            .iter()
            .any(|e| matches!(e, Event::Log { stage, .. } if stage == "runtime")),
        "a runtime build started"
    );
    let ids: Vec<String> = p.ids().into_iter().flatten().collect();
    assert_eq!(containers_from(&ids), Vec::<String>::new());
}

#[test]
fn a_new_builder_base_or_template_rebuilds_what_it_changes() {
    if !support::docker_available("a_new_builder_base_or_template_rebuilds_what_it_changes") {
        return;
    }
    let _lock = lock();
    let _user = ColdUser;
    let cold = cold();
    let mut p = Project::new("it-inputs");
    p.seed_from(&cold.project);

    let base = relabelled_base();
    p.builder_base = base.to_string();
    let sink = Buffer::new();
    assert_eq!(
        p.build_ok(&sink),
        [false, false, false],
        "a new base rebuilds all"
    );
    assert!(
        logs(&sink.events())
            .iter()
            .any(|l| l.contains("which has `ONBUILD` triggers")),
        "{:#?}",
        logs(&sink.events())
    );
    docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "/bin/ls",
        &p.builder(),
        "/onbuild-ran",
    ]);
    assert_eq!(run(&p.runtime(), &["--name", "World"]), "Hello World!");

    // Only a template changes (the `usage` script): the builder and the app are rebuilt; the
    // runtime image, made of the same binary and runtime files, stays (its digest is over them).
    let usage = p.file(".s2i/templates/s2i/bin/usage");
    std::fs::create_dir_all(usage.parent().unwrap()).unwrap();
    std::fs::write(
        &usage,
        "#!/bin/sh\necho 'the builder of {{ package.name }}'\n",
    )
    .unwrap();
    let sink = Buffer::new();
    assert_eq!(
        p.build_ok(&sink),
        [false, false, true],
        "a new template rebuilds the builder and the app"
    );
    assert_eq!(run(&p.runtime(), &["--name", "World"]), "Hello World!");
    assert_eq!(
        run(&p.builder(), &[]),
        "the builder of hello-world",
        "the builder runs the new usage"
    );
    drop(p);
    let _ = support::engine_cli().args(["rmi", base]).output();
}

/// Another base image: the local one plus a label and an `ONBUILD` trigger (which only `docker
/// build` runs, so the builder is built that way).
fn relabelled_base() -> &'static str {
    let base = "localhost/xtask-s2i-it/rust:relabelled";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!(
            "FROM {}\nLABEL io.github.xtask-s2i.test=relabelled\nONBUILD RUN touch /onbuild-ran\n",
            support::RUST_BASE
        ),
    )
    .unwrap();
    support::build_with_onbuild(base, dir.path());
    base
}

/// What an image is made of, for comparing two builds of it: the configuration a container
/// gets (labels but the input digest) and the files, with modes and owners, under `paths` (all
/// of them for a `FROM scratch` image).
fn anatomy(image: &str, paths: Option<&[&str]>) -> (serde_json::Value, String) {
    let config = docker(&["image", "inspect", "-f", "{{json .Config}}", image]);
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    let mut env: Vec<String> = config["Env"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    // Podman's commit keeps the two variables Podman gives every container; its `docker build`
    // (Buildah) does not add them.
    env.retain(|e| !support::podman_commit_env(e));
    env.sort();
    let mut labels = config["Labels"].clone();
    let labels_map = labels.as_object_mut().unwrap();
    labels_map.remove("io.github.xtask-s2i.input-digest");
    labels_map.remove("io.github.xtask-s2i.app-digest");
    // Podman's `docker build` is Buildah, which labels what it builds with its version.
    labels_map.remove("io.buildah.version");
    let config = serde_json::json!({
        "User": config["User"],
        "Env": env,
        "Cmd": config["Cmd"],
        "Entrypoint": config["Entrypoint"],
        "WorkingDir": config["WorkingDir"],
        "ExposedPorts": config["ExposedPorts"],
        "Volumes": config["Volumes"],
        "StopSignal": config["StopSignal"],
        "Labels": labels,
    });
    let files = match paths {
        Some(paths) => {
            let script = format!(
                "find {} -exec stat -c '%n %F %a %u:%g %s' {{}} + | sort && sha256sum /usr/libexec/s2i/*",
                paths.join(" ")
            );
            docker(&[
                "run",
                "--rm",
                "--user",
                "0",
                "--entrypoint",
                "/bin/sh",
                image,
                "-c",
                &script,
            ])
        }
        None => {
            let container = docker(&["create", image]);
            let out = support::engine_cli()
                .args(["export", &container])
                .output()
                .unwrap();
            docker(&["rm", &container]);
            assert!(out.status.success());
            let mut archive = tar::Archive::new(out.stdout.as_slice());
            let mut files: Vec<String> = archive
                .entries()
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    let h = e.header();
                    // Not the size: an incremental build's binary may differ by a few bytes.
                    format!(
                        "{} {:?} {:o} {}:{}",
                        e.path().unwrap().display(),
                        h.entry_type(),
                        h.mode().unwrap() & 0o7777,
                        h.uid().unwrap(),
                        h.gid().unwrap(),
                    )
                })
                // `docker export` adds the files every container has.
                .filter(|l| {
                    !l.starts_with(".dockerenv")
                        && !l.starts_with("etc/")
                        && !l.starts_with("dev/")
                        && !l.starts_with("proc/")
                        && !l.starts_with("sys/")
                })
                .collect();
            files.sort();
            files.join("\n")
        }
    };
    (config, files)
}

#[test]
fn direct_assembly_gives_the_images_docker_build_gives() {
    if !support::docker_available("direct_assembly_gives_the_images_docker_build_gives") {
        return;
    }
    let _lock = lock();
    let _user = ColdUser;
    let cold = cold();
    // The cold build assembled the builder and the runtime directly.
    assert!(
        !logs(&cold.events)
            .iter()
            .any(|l| l.contains("docker build")),
        "{:#?}",
        logs(&cold.events)
    );

    let p = Project::new("it-classic");
    assert_docker_build_gives_the_same_images(&p, &cold.project);
    assert_an_override_goes_through_docker_build(&p);
    // A failing `RUN` of a builder override, through `docker build`, and of a directly assembled
    // builder (a `builder-packages` name no mirror has): the error shows its output, no tag
    // moves, no container is left.
    let builder_before = image_id(&p.builder());
    let template = p.file(".s2i/templates/builder.Dockerfile");
    let default =
        std::fs::read_to_string(support::repo_root().join("templates/builder.Dockerfile")).unwrap();
    std::fs::write(
        &template,
        default.replace(
            "{% block setup %}",
            "{% block setup %}echo broken setup >&2; exit 3; ",
        ),
    )
    .unwrap();
    let sink = Buffer::new();
    let err = format!("{:#}", p.build(&sink).unwrap_err());
    assert!(err.contains("broken setup"), "{err}");
    assert!(err.contains("no tag moved"), "{err}");
    std::fs::remove_file(&template).unwrap();
    support::edit(
        &p.file("Cargo.toml"),
        "[package.metadata.s2i]\n",
        "[package.metadata.s2i]\nbuilder-packages = [\"xtask-s2i-no-such-package\"]\n",
    );
    let sink = Buffer::new();
    let err = format!("{:#}", p.build(&sink).unwrap_err());
    assert!(
        err.contains("its `RUN` failed with exit code 100")
            && err.contains("xtask-s2i-no-such-package"),
        "{err}"
    );
    assert!(err.contains("no tag moved"), "{err}");
    assert_eq!(image_id(&p.builder()), builder_before);
    let base = image_id(support::RUST_BASE).unwrap();
    assert_eq!(containers_from(&[base]), Vec::<String>::new());
}

/// The same inputs through `docker build` (the app image seeded, so the app stage is an
/// incremental rebuild on the new builder) give the images of the direct assembly.
fn assert_docker_build_gives_the_same_images(p: &Project, cold: &Project) {
    docker(&["tag", &cold.app(), &p.app()]);
    let sink = Buffer::new();
    let mut args = p.args();
    args.docker_build = true;
    let stages = args.execute(&sink).expect("the docker build chain").stages;
    assert!(stages.iter().all(|s| !s.cached), "{stages:#?}");
    let builder_paths: &[&str] = &[
        "/usr/libexec/s2i",
        "/opt/app-root",
        // The S2I destination: the builder puts nothing there.
        "/tmp",
    ];
    assert_eq!(
        anatomy(&p.builder(), Some(builder_paths)),
        anatomy(&cold.builder(), Some(builder_paths)),
        "the builder image"
    );
    assert_eq!(
        anatomy(&p.runtime(), None),
        anatomy(&cold.runtime(), None),
        "the runtime image"
    );
    // The binary and the runtime files (`etc/` is left out: `docker export` adds files there).
    assert_eq!(
        anatomy(&p.runtime(), None).1,
        "hello-world Regular 755 0:0
tmp/ Directory 1777 0:0"
    );
    assert_eq!(run(&p.runtime(), &["--name", "World"]), "Hello World!");
    assert_eq!(
        docker(&[
            "image",
            "inspect",
            "-f",
            "{{len .RootFS.Layers}}",
            &cold.runtime()
        ]),
        "1",
        "the runtime image is one layer"
    );
}

/// A runtime Dockerfile override is built with `docker build`, and the log says why; the builder
/// stays fresh.
fn assert_an_override_goes_through_docker_build(p: &Project) {
    let template = p.file(".s2i/templates/runtime.Dockerfile");
    std::fs::create_dir_all(template.parent().unwrap()).unwrap();
    let default =
        std::fs::read_to_string(support::repo_root().join("templates/runtime.Dockerfile")).unwrap();
    std::fs::write(
        &template,
        default.replace("USER ", "STOPSIGNAL SIGINT\nUSER "),
    )
    .unwrap();
    let sink = Buffer::new();
    // The override is a file of the source tree the cluster's app build receives (one source),
    // so the app stage reruns too (incrementally); the builder does not.
    assert_eq!(p.build_ok(&sink), [true, false, false]);
    assert!(
        logs(&sink.events()).iter().any(|l| l.contains(
            "the runtime image has its Dockerfile overridden by \
             `.s2i/templates/runtime.Dockerfile`: building its Dockerfile with `docker build`"
        )),
        "{:#?}",
        logs(&sink.events())
    );
    assert_eq!(
        docker(&[
            "image",
            "inspect",
            "-f",
            "{{.Config.StopSignal}}",
            &p.runtime()
        ]),
        "SIGINT"
    );
    assert_eq!(run(&p.runtime(), &["--name", "World"]), "Hello World!");
}

#[test]
fn a_corrupt_save_artifacts_stream_falls_back_to_a_clean_build() {
    if !support::docker_available("a_corrupt_save_artifacts_stream_falls_back_to_a_clean_build") {
        return;
    }
    let _lock = lock();
    let _user = ColdUser;
    let cold = cold();
    let p = Project::new("it-corrupt");
    p.seed_from(&cold.project);
    // The previous app image's save-artifacts writes a tar cut short, after a valid start.
    let container = docker(&[
        "create",
        "--user",
        "0",
        &p.app(),
        "/bin/sh",
        "-c",
        "printf '#!/bin/sh\\ncd /opt/app-root && tar -cf - target | head -c 100000\\n' \
         > /usr/libexec/s2i/save-artifacts",
    ]);
    docker(&["start", "-a", &container]);
    // The engine's own CLI: Podman's compatibility commit wants a body the `docker` CLI does not
    // send.
    support::native(&[
        "commit",
        "--change",
        "USER 1001",
        "--change",
        &format!("CMD [\"{RUN_SCRIPT}\"]"),
        &container,
        &p.app(),
    ]);
    docker(&["rm", &container]);

    let sink = Buffer::new();
    assert_eq!(p.build_ok(&sink), [true, false, false]);
    let warnings = warnings(&sink.events());
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("save-artifacts") && w.contains("not a valid tar stream")),
        "{warnings:#?}"
    );
    let logs = logs(&sink.events());
    assert!(
        !logs.iter().any(|l| l.contains("Restoring build artifacts")),
        "the build restored corrupt artifacts"
    );
    assert_eq!(run(&p.runtime(), &["--name", "clean"]), "Hello clean!");
}

// --- Scenarios in a child process: their own environment, signals, exit codes. ---

/// The child side: runs `cargo xtask image` on `XTASK_S2I_IT_CHILD` (a manifest path) and exits
/// with the command's exit code. Without the variable it is an empty test.
#[test]
fn child() {
    let Some(manifest) = std::env::var_os("XTASK_S2I_IT_CHILD") else {
        return;
    };
    let args = ImageArgs {
        manifest_path: Some(PathBuf::from(manifest)),
        builder_base: std::env::var("XTASK_S2I_IT_BASE").ok(),
        push: std::env::var_os("XTASK_S2I_IT_PUSH").is_some(),
        ..Default::default()
    };
    struct Stderr;
    impl Sink for Stderr {
        fn event(&self, event: Event) {
            eprintln!("event: {}", serde_json::to_string(&event).unwrap());
        }
    }
    match args.execute(&Stderr) {
        Ok(_) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(xtask_s2i::engine::interrupted_exit_code(&e).unwrap_or(1));
        }
    }
}

/// `cargo xtask image` on `manifest` in a child process.
fn child_command(manifest: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "docker::child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("XTASK_S2I_IT_CHILD", manifest)
    .env("XTASK_S2I_IT_BASE", support::RUST_BASE);
    cmd
}

#[test]
fn an_unreachable_daemon_is_a_clear_error_within_seconds() {
    let p_tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(p_tmp.path());
    // A port that accepts connections and never answers: the engine hangs.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    for host in [
        format!("unix://{}", p_tmp.path().join("dead.sock").display()),
        format!("tcp://{}", silent.local_addr().unwrap()),
    ] {
        let started = Instant::now();
        let out = child_command(&root.join("Cargo.toml"))
            .env("DOCKER_HOST", &host)
            .output()
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&out.stderr);
        eprintln!("{host}: {seconds:.2}s\n{stderr}");
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("cannot reach the container engine at `{host}`")),
            "{stderr}"
        );
        assert!(stderr.contains("DOCKER_HOST"), "{stderr}");
        assert!(stderr.contains("--no-build"), "{stderr}");
        // Reading the workspace and writing the manifests come first; they take well under 1 s.
        assert!(seconds < 6.0, "the error took {seconds:.1}s");
    }
}

#[test]
fn ctrl_c_during_assemble_removes_the_containers_and_exits_130() {
    if !support::docker_available("ctrl_c_during_assemble_removes_the_containers_and_exits_130") {
        return;
    }
    let _lock = lock();
    let p = Project::new("it-ctrlc");
    let mut child = child_command(&p.file("Cargo.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until `assemble` runs in a container made from this project's builder image.
    let deadline = Instant::now() + Duration::from_secs(300);
    let running = loop {
        assert!(Instant::now() < deadline, "assemble never started");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the child ended early: {status}");
        }
        if let Some(builder) = image_id(&p.builder()) {
            let out = docker(&[
                "ps",
                "-q",
                "--filter",
                &format!("label={TOOL_LABEL}={PACKAGE}"),
                "--filter",
                &format!("ancestor={}", support::ancestor(&builder)),
                "--filter",
                "status=running",
            ]);
            if !out.is_empty() {
                break builder;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    std::thread::sleep(Duration::from_secs(2));
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(stderr.contains("interrupted by SIGINT"), "{stderr}");
    assert_eq!(containers_from(&[running]), Vec::<String>::new());
    assert_eq!(image_id(&p.app()), None, "an app image was tagged");
}

/// A registry on 127.0.0.1 (Debian's `docker-registry`), stopped on drop.
struct Registry {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Option<Registry> {
        let binary = ["docker-registry", "/usr/bin/docker-registry"]
            .into_iter()
            .find(|b| Command::new(b).arg("--version").output().is_ok())?;
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let child = Command::new(binary)
            .args(["serve", &config.display().to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let registry = Registry {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the registry did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(registry)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn push_sends_the_three_tags_to_a_registry_and_the_runtime_pulls_back_by_digest() {
    if !support::docker_available("push_sends_the_three_tags_to_a_registry") {
        return;
    }
    let _lock = lock();
    let _user = ColdUser;
    let cold = cold();
    let Some(registry) = Registry::start() else {
        assert_ne!(
            std::env::var("XTASK_S2I_REQUIRE_DOCKER").as_deref(),
            Ok("1"),
            "`docker-registry` is not installed (apt-get install docker-registry)"
        );
        eprintln!("skipping the push test: `docker-registry` is not installed");
        return;
    };
    let host = format!("127.0.0.1:{}", registry.port);
    let p = Project::new("it-push");
    let (names, refs) = name_for_the_registry(&p, &host, &cold.project);

    // Credentials through a credential helper, as `docker login` with a helper stores them.
    let config = tempfile::tempdir().unwrap();
    let (path, calls) = credential_helper(config.path(), &host);
    let out = child_command(&p.file("Cargo.toml"))
        .env("XTASK_S2I_IT_PUSH", "1")
        .env("DOCKER_CONFIG", config.path())
        .env("PATH", path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let cleanup = || {
        for r in refs.iter().rev() {
            let _ = support::engine_cli().args(["rmi", r]).output();
        }
    };
    if !out.status.success() {
        cleanup();
        panic!("the push failed:\n{stderr}");
    }
    let pushed: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("\"Pushed\""))
        .collect();
    assert_eq!(pushed.len(), 3, "{stderr}");
    let calls = std::fs::read_to_string(&calls).unwrap_or_default();
    assert!(
        calls.contains(&format!("get {host}")),
        "helper calls: {calls:?}"
    );

    // Pull the runtime image back by digest and run it.
    let digest = pushed_digest(&pushed, &names[2]);
    cleanup();
    let by_digest = format!("{}@{digest}", names[2]);
    docker(&["pull", "-q", &by_digest]);
    assert_eq!(run(&by_digest, &["--name", "registry"]), "Hello registry!");
    let _ = support::engine_cli().args(["rmi", &by_digest]).output();
    drop(registry);
}

/// Names the images of `p` for the registry at `host` and tags the cold build's images so (the
/// builder context does not change with the names' host). Returns the names and the references.
fn name_for_the_registry(p: &Project, host: &str, cold: &Project) -> ([String; 3], [String; 3]) {
    let names = NAMES.map(|n| format!("{host}/xtask-s2i-it/{n}"));
    support::edit(
        &p.file("Cargo.toml"),
        "[package.metadata.s2i]\n",
        &format!(
            "[package.metadata.s2i]\nbuilder-image = \"{}\"\napp-image = \"{}\"\nruntime-image = \"{}\"\n",
            names[0], names[1], names[2]
        ),
    );
    let refs = names.clone().map(|n| format!("{n}:it-push"));
    for (src, dst) in cold.refs().iter().zip(&refs) {
        docker(&["tag", src, dst]);
    }
    (names, refs)
}

/// A Docker config in `dir` whose credential helper for `host` answers `it`/`secret` and writes
/// each call to a file. Returns the `PATH` that finds the helper, and that file.
fn credential_helper(dir: &Path, host: &str) -> (String, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = dir.join("calls");
    let helper = bin.join("docker-credential-xtask-s2i-it");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread server\necho \"$1 $server\" >> '{}'\n\
             echo '{{\"ServerURL\":\"'$server'\",\"Username\":\"it\",\"Secret\":\"secret\"}}'\n",
            calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        dir.join("config.json"),
        format!("{{\"credHelpers\": {{\"{host}\": \"xtask-s2i-it\"}}}}"),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (path, calls)
}

/// The digest the push events report for `name`.
fn pushed_digest(pushed: &[&str], name: &str) -> String {
    let line = pushed
        .iter()
        .find(|l| l.contains(&format!("{name}@sha256:")))
        .unwrap_or_else(|| panic!("no push of `{name}` in {pushed:#?}"));
    line.split(&format!("{name}@"))
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}
