//! The build sequence the committed triggers start (`--rehearse --no-build`, no container
//! engine): the example's first apply and push, snapshot-tested, and one test per defect the
//! rehearsal refuses, each on a hand-broken copy of the example's committed manifests.

use std::path::{Path, PathBuf};

use xtask_s2i::rehearse::sequence_of;

use crate::support;

/// A copy of the example's committed `deploy/okd` in a temporary directory.
fn copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("okd");
    std::fs::create_dir(&dir).unwrap();
    let committed = support::example_dir().join("deploy/okd");
    for entry in std::fs::read_dir(&committed).unwrap().flatten() {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
    }
    (tmp, dir)
}

/// The error of the sequence of `dir`, which must fail.
fn error(dir: &Path) -> String {
    format!("{:#}", sequence_of(dir).unwrap_err())
}

#[test]
fn the_example_builds_once_per_event() {
    let sequence = sequence_of(&support::example_dir().join("deploy/okd")).unwrap();
    insta::assert_snapshot!(sequence.to_string());
}

#[test]
fn a_config_change_before_its_input_exists_is_a_burned_build() {
    let (_tmp, dir) = copy();
    support::edit(
        &dir.join("buildconfig-hello-world.yaml"),
        "  triggers:\n",
        "  triggers:\n  - type: ConfigChange\n",
    );
    let err = error(&dir);
    assert!(err.contains("the BuildConfig `hello-world`"), "{err}");
    assert!(err.contains("buildconfig-hello-world.yaml"), "{err}");
    assert!(
        err.contains("before its input `hello-world-app:latest` exists"),
        "{err}"
    );
    assert!(err.contains("burned"), "{err}");
}

#[test]
fn a_webhook_on_the_app_build_config_builds_it_twice_per_push() {
    let (_tmp, dir) = copy();
    support::edit(
        &dir.join("buildconfig-hello-world-app.yaml"),
        "  triggers:\n",
        "  triggers:\n  - type: GitHub\n    github:\n      secretReference:\n        name: hook\n",
    );
    let err = error(&dir);
    assert!(err.contains("the BuildConfig `hello-world-app`"), "{err}");
    assert!(err.contains("buildconfig-hello-world-app.yaml"), "{err}");
    assert!(err.contains("builds 2 times per push"), "{err}");
}

#[test]
fn an_input_nothing_fills_is_refused() {
    // The runtime BuildConfig reads and watches a tag nothing builds: it never fires.
    let (_tmp, dir) = copy();
    let file = dir.join("buildconfig-hello-world.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("hello-world-app:latest", "hello-world-app:missing"),
    )
    .unwrap();
    let err = error(&dir);
    assert!(err.contains("the BuildConfig `hello-world`"), "{err}");
    assert!(err.contains("buildconfig-hello-world.yaml"), "{err}");
    assert!(
        err.contains("reads `hello-world-app:missing`, which no build or import ever fills"),
        "{err}"
    );
}

#[test]
fn a_build_config_no_trigger_starts_is_refused() {
    let (_tmp, dir) = copy();
    let file = dir.join("buildconfig-hello-world.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text.find("  triggers:\n").unwrap();
    let end = text.find("  source:\n").unwrap();
    std::fs::write(&file, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let err = error(&dir);
    assert!(err.contains("the BuildConfig `hello-world`"), "{err}");
    assert!(err.contains("buildconfig-hello-world.yaml"), "{err}");
    assert!(err.contains("is started by no trigger"), "{err}");
}

#[test]
fn a_pullable_workload_image_before_the_first_build_is_refused() {
    let (_tmp, dir) = copy();
    support::edit(
        &dir.join("deployment-hello-world.yaml"),
        "image: ' '",
        "image: hello-world:latest",
    );
    let err = error(&dir);
    assert!(err.contains("the Deployment `hello-world`"), "{err}");
    assert!(err.contains("deployment-hello-world.yaml"), "{err}");
    assert!(err.contains("`image: hello-world:latest`"), "{err}");
    assert!(err.contains("image: \" \""), "{err}");
}

/// The sequence the README shows is the one the example prints (less what each build resolves).
#[test]
fn the_readme_shows_the_examples_sequence() {
    let readme = std::fs::read_to_string(support::repo_root().join("README.md")).unwrap();
    let start = readme
        .find("```text\nfirst apply")
        .expect("the README shows the example's build sequence");
    let block = &readme[start + "```text\n".len()..];
    let block = &block[..block.find("```").unwrap()];
    let printed = sequence_of(&support::example_dir().join("deploy/okd"))
        .unwrap()
        .to_string();
    let printed: Vec<&str> = printed.lines().collect();
    for line in block.lines() {
        assert!(
            printed.contains(&line),
            "the README's line {line:?} is not in the printed sequence:\n{}",
            printed.join("\n")
        );
    }
}

/// A builder image of another namespace (`openshift/`) is there before the apply: its
/// ImageChange trigger starts the build at once.
#[test]
fn an_image_of_another_namespace_exists_from_the_start() {
    let (_tmp, dir) = copy();
    support::edit(
        &dir.join("buildconfig-hello-world-builder.yaml"),
        "        kind: ImageStreamTag\n        name: hello-world-builder-base:1-slim",
        "        kind: ImageStreamTag\n        namespace: openshift\n        name: rust:1-slim",
    );
    let printed = sequence_of(&dir).unwrap().to_string();
    assert!(
        printed.contains("build `hello-world-builder-1` (ImageChange on `openshift/rust:1-slim`)"),
        "{printed}"
    );
}
