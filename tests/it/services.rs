//! Workspaces of several services ([`fixtures::services`]): the services that share their build
//! settings are one group, built by one builder image and one S2I app stage whose `assemble`
//! compiles every binary in one cargo invocation; each service gets its own `FROM scratch`
//! runtime image holding only its binary. A one-line change in one service rebuilds the app
//! stage incrementally and only that service's runtime image.

use std::process::Command;

use xtask_s2i::sink::{Buffer, Event};
use xtask_s2i::{ImageArgs, StageReport};

use crate::fixtures;
use crate::support;

const TAG: &str = "it-svc";
/// The group's builder and app (the leader's names), then the four runtime images (the tools
/// package's two binaries are a service each).
const IMAGES: [&str; 6] = [
    "svc-api-builder",
    "svc-api-app",
    "svc-api",
    "svc-worker",
    "svc-migrate",
    "svc-report",
];

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn exists(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .output()
        .unwrap()
        .status
        .success()
}

/// Removes the fixture's images, before and after the test.
struct Images;

impl Images {
    fn new() -> Images {
        Images.remove();
        Images
    }

    fn remove(&self) {
        for name in IMAGES.iter().rev() {
            let _ = Command::new("docker")
                .args(["rmi", "-f", &format!("{name}:{TAG}")])
                .output();
        }
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        self.remove();
    }
}

/// `cargo xtask image` on the workspace: the stage reports and the assemble log.
fn build(root: &std::path::Path) -> (Vec<StageReport>, Vec<String>) {
    let args = ImageArgs {
        manifest_path: Some(root.join("Cargo.toml")),
        builder_base: Some(support::RUST_BASE.to_string()),
        ..Default::default()
    };
    let sink = Buffer::new();
    let result = args.execute(&sink);
    let log: Vec<String> = sink
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Log { line, .. } => Some(line),
            Event::Status { verb, message } => Some(format!("{verb} {message}")),
            _ => None,
        })
        .collect();
    match result {
        Ok(summary) => (summary.stages, log),
        Err(e) => panic!("the chain failed: {e:#}\n{}", log.join("\n")),
    }
}

/// How many log lines say cargo compiled `krate`.
fn compiled(log: &[String], krate: &str) -> usize {
    let needle = format!("Compiling {krate} v");
    log.iter().filter(|l| l.contains(&needle)).count()
}

/// The regular files of an image's file system.
fn files(image: &str) -> Vec<String> {
    let container = docker(&["create", image]);
    let export = Command::new("docker")
        .args(["export", &container])
        .output()
        .unwrap();
    docker(&["rm", &container]);
    let mut out = Vec::new();
    for e in tar::Archive::new(export.stdout.as_slice())
        .entries()
        .unwrap()
    {
        let e = e.unwrap();
        if e.header().entry_type().is_file() {
            out.push(e.path().unwrap().display().to_string());
        }
    }
    out
}

fn run(image: &str) -> String {
    docker(&["run", "--rm", "--read-only", &format!("{image}:{TAG}")])
}

/// (stage, image, cached) of each report.
fn stages(reports: &[StageReport]) -> Vec<(String, String, bool)> {
    reports
        .iter()
        .map(|r| (r.stage.clone(), r.image.clone(), r.cached))
        .collect()
}

/// The first build: one builder, one app stage compiling every crate once, a runtime image per
/// service holding its binary alone, and no builder or app image of the other services.
fn each_service_has_its_image(reports: &[StageReport], log: &[String]) {
    let image = |name: &str| format!("{name}:{TAG}");
    assert_eq!(
        stages(reports),
        [
            ("builder", image(IMAGES[0]), false),
            ("app", image(IMAGES[1]), false),
            ("runtime", image(IMAGES[2]), false),
            ("runtime", image(IMAGES[3]), false),
            ("runtime", image(IMAGES[4]), false),
            ("runtime", image(IMAGES[5]), false),
        ]
        .map(|(s, i, c)| (s.to_string(), i, c)),
        "{log:#?}"
    );
    // One cargo invocation: every dependency compiled once, every service once.
    for krate in ["itoa", "svc-shared", "svc-api", "svc-worker", "svc-tools"] {
        assert_eq!(compiled(log, krate), 1, "{krate}:\n{}", log.join("\n"));
    }
    for other in [
        "svc-worker-builder",
        "svc-worker-app",
        "svc-migrate-builder",
        "svc-tools-app",
    ] {
        assert!(!exists(&image(other)), "{other} was built");
    }
    assert_eq!(run("svc-api"), "api 1");
    assert_eq!(run("svc-worker"), "worker 2 fast=true");
    assert_eq!(run("svc-migrate"), "migrate 3");
    assert_eq!(run("svc-report"), "report 4");
    for service in ["svc-api", "svc-worker", "svc-migrate", "svc-report"] {
        let bin = service;
        let files = files(&image(service));
        // `docker export` adds `.dockerenv`; the rest at the root are binaries.
        let bins: Vec<&String> = files
            .iter()
            .filter(|f| !f.contains('/') && *f != ".dockerenv")
            .collect();
        assert_eq!(bins, [bin], "{service}: {files:?}");
    }
}

#[test]
fn three_services_share_one_builder_and_one_compile_and_get_a_runtime_image_each() {
    if !support::docker_available(
        "three_services_share_one_builder_and_one_compile_and_get_a_runtime_image_each",
    ) {
        return;
    }
    let _lock = support::engine_lock();
    let tmp = tempfile::tempdir().unwrap();
    let root = fixtures::services(tmp.path());
    let _images = Images::new();

    let (reports, log) = build(&root);
    each_service_has_its_image(&reports, &log);

    // A one-line change in the worker: the app stage builds incrementally (the worker alone is
    // compiled) and only the worker's runtime image is new.
    let main = root.join("worker/src/main.rs");
    support::edit(&main, "fast={}", "fast={}!");
    let (again, log) = build(&root);
    let cached: Vec<bool> = again.iter().map(|r| r.cached).collect();
    assert_eq!(cached, [true, false, true, false, true, true], "{log:#?}");
    for (before, after) in reports.iter().zip(&again) {
        if after.cached {
            assert_eq!(before.id, after.id, "{}", after.image);
        }
    }
    assert_eq!(compiled(&log, "svc-worker"), 1, "{}", log.join("\n"));
    for krate in ["itoa", "svc-shared", "svc-api", "svc-tools"] {
        assert_eq!(compiled(&log, krate), 0, "{krate}:\n{}", log.join("\n"));
    }
    assert_eq!(run("svc-worker"), "worker 2 fast=true!");
    assert_eq!(run("svc-api"), "api 1");
}
