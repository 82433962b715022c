//! Docker and Podman make the same images: the example is built cold on both engines (each in a
//! child process of this test binary whose `DOCKER_HOST` points at that engine), and the builder,
//! app and runtime images' configurations and the runtime image's files are compared.
//!
//! Needs both engines: Docker at `XTASK_S2I_DOCKER_HOST` (default: its socket) and Podman's API
//! at `XTASK_S2I_PODMAN_HOST`, or at `DOCKER_HOST` when `XTASK_S2I_TEST_ENGINE=podman`. Skips
//! with a printed reason when either is missing, unless `XTASK_S2I_REQUIRE_PODMAN=1`.

use std::path::Path;
use std::process::Command;

use crate::support;

const NAMES: [&str; 3] = ["hello-world-builder", "hello-world-app", "hello-world"];
const TAG: &str = "it-xengine";

/// The hosts of Docker and Podman, or `None` (with a printed reason, or a panic when
/// `XTASK_S2I_REQUIRE_PODMAN=1`).
fn engines(test: &str) -> Option<(String, String)> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let docker = var("XTASK_S2I_DOCKER_HOST").unwrap_or("unix:///var/run/docker.sock".into());
    let podman = var("XTASK_S2I_PODMAN_HOST").or_else(|| {
        (support::engine() == support::Engine::Podman)
            .then(|| var("DOCKER_HOST"))
            .flatten()
    });
    let answers = |host: &str, name: &str| {
        Command::new("docker")
            .args(["--host", host, "version", "--format", "{{.Server.Version}}"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
            .then_some(())
            .ok_or(format!("{name} does not answer at `{host}`"))
    };
    let found = match &podman {
        None => Err("no Podman host: set `XTASK_S2I_PODMAN_HOST`".to_string()),
        Some(p) => answers(&docker, "Docker").and_then(|_| answers(p, "Podman")),
    };
    match found {
        Ok(()) => Some((docker, podman.unwrap())),
        Err(why) => {
            assert_ne!(
                std::env::var("XTASK_S2I_REQUIRE_PODMAN").as_deref(),
                Ok("1"),
                "{test}: {why}"
            );
            eprintln!("skipping {test}: {why} (XTASK_S2I_REQUIRE_PODMAN=1 fails instead)");
            None
        }
    }
}

/// `docker --host HOST ARGS`: its trimmed stdout, panicking with stderr on failure.
fn cli(host: &str, args: &[&str]) -> String {
    let out = Command::new("docker")
        .arg("--host")
        .arg(host)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "docker --host {host} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `cargo xtask image` on `manifest` against the engine at `host`, in a child process.
fn build_on(host: &str, manifest: &Path) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "docker::child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("XTASK_S2I_IT_CHILD", manifest)
        .env("XTASK_S2I_IT_BASE", support::RUST_BASE)
        .env("DOCKER_HOST", host)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the chain failed on `{host}`:\n{stderr}"
    );
}

fn remove(host: &str) {
    for name in NAMES.iter().rev() {
        let _ = Command::new("docker")
            .args(["--host", host, "rmi", &format!("{name}:{TAG}")])
            .output();
    }
}

/// The parts of an image's configuration that make it behave: what it runs, as whom, with which
/// environment, ports, labels and working directory.
fn config(host: &str, image: &str) -> serde_json::Value {
    let c: serde_json::Value = serde_json::from_str(&cli(
        host,
        &["image", "inspect", "-f", "{{json .Config}}", image],
    ))
    .unwrap();
    let mut env: Vec<String> = c["Env"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    // Podman's commit keeps the whole environment of the container, which has the two
    // variables Podman gives every container (`container=podman`, and `TERM=xterm` from
    // containers.conf); Docker's commit does not add them. Nothing in the chain reads them.
    env.retain(|e| e != "container=podman" && e != "TERM=xterm");
    env.sort();
    let mut labels = c["Labels"].clone();
    if let Some(labels) = labels.as_object_mut() {
        // The app stage's input digest hashes the builder image's ID, which differs between
        // engines (a commit's ID covers its creation time).
        labels.remove("io.github.xtask-s2i.input-digest");
        // The runtime image's second digest hashes the app image's ID, likewise.
        labels.remove("io.github.xtask-s2i.app-digest");
    }
    let empty_is_null = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) if s.is_empty() => serde_json::Value::Null,
        serde_json::Value::Array(a) if a.is_empty() => serde_json::Value::Null,
        serde_json::Value::Object(o) if o.is_empty() => serde_json::Value::Null,
        v => v.clone(),
    };
    serde_json::json!({
        "Entrypoint": empty_is_null(&c["Entrypoint"]),
        "Cmd": empty_is_null(&c["Cmd"]),
        "User": empty_is_null(&c["User"]),
        "Env": env,
        "ExposedPorts": empty_is_null(&c["ExposedPorts"]),
        "Labels": labels,
        "WorkingDir": empty_is_null(&c["WorkingDir"]),
    })
}

/// The runtime image's files: path, type, mode, owner and a digest of the contents, read from the
/// image itself (`docker save`), so no container's mount points get in.
/// The runtime layer holds the binary and the runtime files.
fn assert_binary_and_runtime_files(files: &[String]) {
    for file in [
        "hello-world Regular 755 0:0 ",
        "tmp/ Directory 1777 0:0 ",
        "etc/passwd Regular 644 0:0 ",
        "etc/ssl/certs/ca-certificates.crt Regular 644 0:0 ",
    ] {
        assert!(
            files.iter().any(|f| f.starts_with(file)),
            "{file}: {files:#?}"
        );
    }
}

fn files(host: &str, image: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["--host", host, "save", image])
        .output()
        .unwrap();
    assert!(out.status.success(), "docker save {image}");
    let mut saved = tar::Archive::new(out.stdout.as_slice());
    let mut files = Vec::new();
    for entry in saved.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().display().to_string();
        if !path.ends_with(".tar") && !path.starts_with("blobs/") {
            continue;
        }
        let mut layer = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut layer).unwrap();
        let mut layer = tar::Archive::new(layer.as_slice());
        let Ok(entries) = layer.entries() else {
            continue;
        };
        for f in entries {
            let Ok(mut f) = f else { break };
            let h = f.header().clone();
            let mut contents = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut contents).unwrap();
            use sha2::Digest;
            files.push(format!(
                "{} {:?} {:o} {}:{} {}",
                f.path().unwrap().display(),
                h.entry_type(),
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                xtask_s2i::plan::hex(&sha2::Sha256::digest(&contents))
            ));
        }
    }
    files.sort();
    files
}

#[test]
fn docker_and_podman_make_the_same_images() {
    let Some((docker, podman)) = engines("docker_and_podman_make_the_same_images") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    support::edit(
        &root.join("Cargo.toml"),
        "[package.metadata.s2i]\n",
        &format!("[package.metadata.s2i]\ntag = \"{TAG}\"\n"),
    );
    let manifest = root.join("Cargo.toml");
    for host in [&docker, &podman] {
        remove(host);
        build_on(host, &manifest);
    }
    let refs = NAMES.map(|n| format!("{n}:{TAG}"));
    let result = std::panic::catch_unwind(|| {
        // Not vacuous: the runtime image's configuration is what the Dockerfile says.
        let runtime = config(&podman, &refs[2]);
        assert_eq!(runtime["Entrypoint"], serde_json::json!(["/hello-world"]));
        assert!(runtime["ExposedPorts"]["8080/tcp"].is_object(), "{runtime}");
        assert_eq!(
            runtime["Labels"]["com.example.team"], "platform",
            "{runtime}"
        );
        for image in &refs {
            assert_eq!(
                config(&docker, image),
                config(&podman, image),
                "the configuration of `{image}` on Docker (left) and Podman (right)"
            );
        }
        let runtime = &refs[2];
        let on_docker = files(&docker, runtime);
        assert_binary_and_runtime_files(&on_docker);
        assert_eq!(
            on_docker,
            files(&podman, runtime),
            "the runtime image's files"
        );
        for host in [&docker, &podman] {
            let layers = cli(
                host,
                &["image", "inspect", "-f", "{{len .RootFS.Layers}}", runtime],
            );
            assert_eq!(layers, "1", "{host}");
            let greeting = cli(host, &["run", "--rm", runtime, "--name", "X"]);
            assert_eq!(greeting, "Hello X!", "{host}");
        }
    });
    for host in [&docker, &podman] {
        remove(host);
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
