//! Rendering tests: snapshots of every rendered file (the builder context and the runtime
//! Dockerfile) for the example and for a configuration that uses every key; hostile values that
//! must come out escaped (checked by parsing the Dockerfile, by `sh -n`, and by a real `docker
//! build` when Docker answers); the static-binary check of `assemble` on real binaries; the
//! rendered `save-artifacts` and rustflags logic of `assemble` run on the host; template
//! overrides, strict undefined variables and `--eject`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use xtask_s2i::config::{KEYS, OKD_KEYS};
use xtask_s2i::render::{OVERRIDE_DIR, TEMPLATES};
use xtask_s2i::sink::Buffer;

use crate::config::Ws;
use crate::support;

/// Every file under `dir`, relative path → (contents, mode).
fn rendered(dir: &Path) -> BTreeMap<String, (String, u32)> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (String, u32)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                use std::os::unix::fs::PermissionsExt;
                let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, (std::fs::read_to_string(&path).unwrap(), mode));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Snapshots every rendered file of `package` in `root`'s target dir, plus the listing with modes.
fn snapshot_rendered(prefix: &str, root: &Path, package: &str) -> BTreeMap<String, (String, u32)> {
    let files = rendered(&root.join("target/s2i").join(package));
    let expected = [
        "builder/Dockerfile",
        "builder/s2i/bin/assemble",
        "builder/s2i/bin/run",
        "builder/s2i/bin/save-artifacts",
        "builder/s2i/bin/usage",
        "runtime.Dockerfile",
    ];
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        expected,
        "the rendered files of `{package}`"
    );
    let listing: String = files
        .iter()
        .map(|(rel, (_, mode))| format!("{mode:o} {rel}\n"))
        .collect();
    insta::assert_snapshot!(format!("{prefix}__listing"), listing);
    for (rel, (contents, _)) in &files {
        let name = rel.replace(['/', '.', '-'], "_");
        insta::assert_snapshot!(format!("{prefix}__{name}"), contents);
    }
    files
}

/// `sh -n` (dash, the `/bin/sh` of Debian and of the builder images) on every rendered script.
fn assert_scripts_parse(files: &BTreeMap<String, (String, u32)>) {
    for (rel, (contents, mode)) in files {
        if !rel.starts_with("builder/s2i/bin/") {
            continue;
        }
        assert_eq!(*mode, 0o755, "`{rel}` is not executable");
        assert!(
            contents.starts_with("#!/bin/sh\n"),
            "`{rel}` has no shebang"
        );
        for shell in ["sh", "bash"] {
            let out = Command::new(shell)
                .arg("-n")
                .arg("-c")
                .arg(contents)
                .output()
                .unwrap_or_else(|e| panic!("run `{shell}`: {e}"));
            assert!(
                out.status.success(),
                "`{shell} -n` fails on `{rel}`: {}\n{contents}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn the_example_renders_as_snapshotted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = support::copy_example(tmp.path());
    let summary = xtask_s2i::ImageArgs {
        manifest_path: Some(root.join("Cargo.toml")),
        no_build: true,
        ..Default::default()
    }
    .execute(&Buffer::new())
    .expect("the example renders");
    assert_eq!(summary.plans().len(), 1);
    let files = snapshot_rendered("example", &root, "hello-world");
    assert_scripts_parse(&files);

    // The Plan's rendered files are what was written.
    let plan = &summary.plans()[0];
    for f in plan.builder_context() {
        assert_eq!(files[&format!("builder/{}", f.path)].0, f.contents);
    }
    assert_eq!(files["runtime.Dockerfile"].0, plan.runtime_dockerfile());
}

/// A configuration that sets every key of `[package.metadata.s2i]` and its `okd` table.
const EVERY_KEY: &str = r#"[package]
name = "every-key"
version = "2.0.0-rc.1+build.7"
edition = "2021"
description = "Uses every key of xtask-s2i"
license = "Apache-2.0"
repository = "https://example.com/acme/every-key"
homepage = "https://example.com/every-key"
authors = ["Acme <dev@example.com>"]

[workspace]

[features]
default = ["metrics"]
tls = []
metrics = []

[[bin]]
name = "server"
path = "src/main.rs"

[[bin]]
name = "admin"
path = "src/admin.rs"

[profile.dist]
inherits = "release"

[package.metadata.s2i]
builder-base = "registry.example.com:5000/base/rust:1.85-slim"
builder-packages = ["libssl-dev", "protobuf-compiler"]
builder-image = "quay.io/acme/every-key-builder"
app-image = "quay.io/acme/every-key-app"
runtime-image = "quay.io/acme/every-key"
tag = "v2"
pull-policy = "always"
bin = "server"
features = ["tls", "metrics"]
no-default-features = true
profile = "dist"
vendor = false
strip = false
user = { builder = 1234, runtime = 5678 }
env = { RUST_LOG = "debug", APP_MODE = "production" }
labels = { "com.example.team" = "web", "org.opencontainers.image.vendor" = "Acme" }
port = 8443
runtime-files = "minimal"
args = ["--config", "/etc/app/app.toml", "it's here"]
tzdata = true

[package.metadata.s2i.okd]
namespace = "acme"
git-uri = "https://example.com/acme/every-key.git"
git-ref = "release-2"
context-dir = "services/every-key"
manifests-dir = "deploy/cluster"
webhooks = { github = "every-key-gh", generic = "every-key-generic" }
replicas = 3
tls = "reencrypt"
serves-tls = true
env-from = [{ secret = "every-key-db" }, { config-map = "every-key-config" }]
build-resources = { limits = { cpu = "2", memory = "4Gi" }, requests = { cpu = "500m", memory = "1Gi" } }
build-timeout = 7200
tag = "current"
workload = "deployment"
health-path = "/ready"
resources = { limits = { memory = "64Mi" } }
source-secret = "every-key-git"
unauthenticated-webhooks = true
"#;

#[test]
fn a_configuration_using_every_key_renders_as_snapshotted() {
    // The configuration really uses every key.
    let doc: toml_edit::DocumentMut = EVERY_KEY.parse().unwrap();
    let s2i = &doc["package"]["metadata"]["s2i"];
    for k in KEYS {
        assert!(
            s2i.get(k.key).is_some(),
            "EVERY_KEY does not set `{}`",
            k.key
        );
    }
    // `schedule` is for a CronJob, which `health-path` excludes; the OKD tests set it.
    for k in OKD_KEYS.iter().filter(|k| k.key != "schedule") {
        assert!(
            s2i["okd"].get(k.key).is_some(),
            "EVERY_KEY does not set `okd.{}`",
            k.key
        );
    }

    let ws = Ws::new(&[
        ("Cargo.toml", EVERY_KEY),
        ("src/main.rs", "fn main() {}\n"),
        ("src/admin.rs", "fn main() {}\n"),
    ]);
    let summary = ws.run().expect("the every-key configuration is valid");
    let plan = &summary.plans()[0];
    assert_eq!(plan.base(), "registry.example.com:5000/base/rust:1.85-slim");
    assert_eq!(
        plan.image(xtask_s2i::plan::Stage::Runtime).reference(),
        "quay.io/acme/every-key:v2"
    );
    assert_eq!(plan.bin_path(), "/opt/app-root/bin/server");
    let files = snapshot_rendered("every_key", ws.root(), "every-key");
    assert_scripts_parse(&files);

    let assemble = &files["builder/s2i/bin/assemble"].0;
    assert!(assemble.contains("--features 'tls,metrics'"), "{assemble}");
    assert!(assemble.contains("--no-default-features"), "{assemble}");
    assert!(assemble.contains("PROFILE='dist'"), "{assemble}");
    let builder = &files["builder/Dockerfile"].0;
    assert!(builder.contains("\nUSER 1234\n"), "{builder}");
    assert!(builder.contains("\nFROM registry.example.com:5000/base/rust:1.85-slim\n"));
    let runtime = &files["runtime.Dockerfile"].0;
    assert!(runtime.contains("\nUSER 5678\n"), "{runtime}");
    assert!(runtime.contains("\nEXPOSE 8443\n"), "{runtime}");
    assert!(runtime.contains("ENTRYPOINT [\"/server\"]"), "{runtime}");
    // The typed builder the engine assembles runs the setup the template's `RUN` runs, and the
    // typed runtime image copies the binary the template copies.
    let typed = plan.builder_image().expect("no builder override");
    assert!(
        builder.contains(&format!("\nRUN {}\n", typed.setup)),
        "{}",
        typed.setup
    );
    assert!(typed.setup.contains("'libssl-dev'"), "{}", typed.setup);
    let typed = plan.runtime_image().expect("no runtime override");
    assert!(runtime.contains(&format!("\nCOPY {0} /{0}\n", typed.binary)));
}

/// Values meant to break out of a Dockerfile string or a shell word.
const HOSTILE: &[&str] = &[
    r#"say "hi" \" LABEL evil=1"#,
    "$HOME ${PATH} $(id) `id` $$",
    r"C:\path\to\ \\ \\\",
    r"ends with a backslash \",
    "it's a 'quoted' word '\\''",
    "日本語 ✓ ünïcödé 🚀 \u{202e}gnp.exe",
    "; rm -rf / # && echo pwned || true",
    "%s %n {{ template }} {% raw %}",
    "   leading and trailing spaces   ",
    "",
];

fn toml_string(s: &str) -> String {
    // A TOML literal string cannot hold `'`; a basic string escapes everything that matters.
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A workspace whose description, labels and env values are `values` (keys are stable).
fn labelled(values: &[&str]) -> Ws {
    let labels: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("\"com.example.v{i}\" = {}", toml_string(v)))
        .collect();
    let env: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("V{i} = {}", toml_string(v)))
        .collect();
    let manifest = format!(
        "[package]\nname = \"hostile\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = {}\nrepository = \"https://example.com/acme/hostile.git\"\n\n[workspace]\n\n[package.metadata.s2i]\nport = 8080\n\n[package.metadata.s2i.labels]\n{}\n\n[package.metadata.s2i.env]\n{}\n",
        toml_string(&values.concat()),
        labels.join("\n"),
        env.join("\n")
    );
    Ws::new(&[("Cargo.toml", &manifest)])
}

/// A Dockerfile's logical lines (continuations joined), without comments and blank lines.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        if current.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => {
                current.push_str(head);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    assert!(current.is_empty(), "a continuation runs off the end");
    out
}

/// Splits `LABEL "k"="v" "k2"="v2"` / `ENV K="v"` arguments the way Docker's lexer does for
/// double-quoted words: `\` escapes `"`, `\` and `$`.
fn key_values(args: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut chars = args.chars().peekable();
    let mut word = String::new();
    let mut words = Vec::new();
    let mut in_quotes = false;
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                quoted = true;
            }
            '\\' if in_quotes => match chars.peek() {
                Some('"' | '\\' | '$') => word.push(chars.next().unwrap()),
                _ => word.push('\\'),
            },
            '$' => panic!("an unescaped `$` would expand in {args:?}"),
            c if c.is_whitespace() && !in_quotes => {
                if !word.is_empty() || quoted {
                    words.push(std::mem::take(&mut word));
                }
                quoted = false;
            }
            '=' if !in_quotes => {
                words.push(std::mem::take(&mut word));
                quoted = false;
            }
            c => word.push(c),
        }
    }
    assert!(!in_quotes, "an unterminated string in {args:?}");
    if !word.is_empty() || quoted {
        words.push(word);
    }
    assert!(
        words.len() % 2 == 0,
        "not key=value pairs: {args:?} → {words:?}"
    );
    for pair in words.chunks(2) {
        pairs.push((pair[0].clone(), pair[1].clone()));
    }
    pairs
}

#[test]
fn hostile_values_are_escaped_and_change_no_instruction() {
    let benign = labelled(&vec!["x"; HOSTILE.len()]);
    let hostile = labelled(HOSTILE);
    let b = benign.run().expect("benign values render");
    let h = hostile
        .run()
        .expect("hostile values are valid one-line text");
    let (b, h) = (&b.plans()[0], &h.plans()[0]);

    // Same lines, same instructions: no value opened a new instruction or line.
    for (what, bf, hf) in [
        (
            "runtime.Dockerfile",
            b.runtime_dockerfile(),
            h.runtime_dockerfile(),
        ),
        (
            "builder Dockerfile",
            b.builder_context()[0].contents.as_str(),
            h.builder_context()[0].contents.as_str(),
        ),
    ] {
        assert_eq!(bf.lines().count(), hf.lines().count(), "{what}:\n{hf}");
        let keyword = |i: &String| i.split_whitespace().next().unwrap_or("").to_string();
        assert_eq!(
            instructions(bf).iter().map(keyword).collect::<Vec<_>>(),
            instructions(hf).iter().map(keyword).collect::<Vec<_>>(),
            "{what}:\n{hf}"
        );
    }
    for (bf, hf) in b.builder_context().iter().zip(h.builder_context()) {
        assert_eq!(bf.contents.lines().count(), hf.contents.lines().count());
    }

    // Each value reads back exactly as written.
    let mut labels = BTreeMap::new();
    let mut env = BTreeMap::new();
    for i in instructions(h.runtime_dockerfile()) {
        if let Some(args) = i.strip_prefix("LABEL ") {
            labels.extend(key_values(args));
        } else if let Some(args) = i.strip_prefix("ENV ") {
            env.extend(key_values(args));
        }
    }
    for (i, v) in HOSTILE.iter().enumerate() {
        assert_eq!(labels[&format!("com.example.v{i}")], *v, "label {i}");
        assert_eq!(env[&format!("V{i}")], *v, "env {i}");
    }
    assert_eq!(
        labels["org.opencontainers.image.description"],
        // Labels are one line with runs of whitespace collapsed.
        HOSTILE
            .concat()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );

    let files = rendered(&hostile.root().join("target/s2i/hostile"));
    assert_scripts_parse(&files);
}

/// The real check of the escaping: Docker's own parser reads the labels and environment back.
#[test]
fn docker_reads_hostile_values_back_exactly() {
    if !support::docker_available("docker_reads_hostile_values_back_exactly") {
        return;
    }
    let ws = labelled(HOSTILE);
    let summary = ws.run().unwrap();
    let plan = &summary.plans()[0];
    let ctx = ws.root().join("runtime-context");
    std::fs::create_dir_all(ctx.join("runtime/tmp")).unwrap();
    std::fs::write(ctx.join("Dockerfile"), plan.runtime_dockerfile()).unwrap();
    std::fs::write(ctx.join(plan.bin()), "not really a binary\n").unwrap();
    let tag = format!("xtask-s2i-it-escaping:{}", std::process::id());
    let build = Command::new("docker")
        .env("DOCKER_BUILDKIT", "0")
        .args([
            "build",
            "-q",
            "--label",
            "io.github.xtask-s2i.package=it-escaping",
            "-t",
            &tag,
        ])
        .arg(&ctx)
        .output()
        .unwrap();
    let inspect = |format: &str| -> serde_json::Value {
        let out = Command::new("docker")
            .args(["image", "inspect", "--format", format, &tag])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    };
    let (labels, env) = if build.status.success() {
        (
            inspect("{{json .Config.Labels}}"),
            inspect("{{json .Config.Env}}"),
        )
    } else {
        (serde_json::Value::Null, serde_json::Value::Null)
    };
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
    assert!(
        build.status.success(),
        "docker build failed: {}\n{}",
        String::from_utf8_lossy(&build.stderr),
        plan.runtime_dockerfile()
    );
    let env: BTreeMap<String, String> = env
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            e.as_str()?
                .split_once('=')
                .map(|(k, v)| (k.into(), v.into()))
        })
        .collect();
    for (i, v) in HOSTILE.iter().enumerate() {
        assert_eq!(labels[format!("com.example.v{i}")], *v, "label {i}");
        assert_eq!(env[&format!("V{i}")], *v, "env {i}");
    }
}

/// The `is_static` function of the rendered `assemble`, run by `sh` on real binaries.
#[test]
fn assemble_tells_static_from_dynamic_binaries() {
    let ws = Ws::package("");
    let summary = ws.run().unwrap();
    let assemble = &summary.plans()[0]
        .builder_context()
        .iter()
        .find(|f| f.path == "s2i/bin/assemble")
        .unwrap()
        .contents;
    let start = assemble
        .find("is_static() {")
        .expect("assemble defines is_static");
    let end = start + assemble[start..].find("\n}\n").expect("is_static ends") + 3;
    let dir = ws.root();
    std::fs::write(dir.join("is_static.sh"), &assemble[start..end]).unwrap();

    let (static_bin, dynamic_bin) = hello_binaries(dir);
    std::fs::write(dir.join("truncated"), b"\x7fELF").unwrap();
    std::fs::write(dir.join("empty"), b"").unwrap();

    let is_static = |path: &Path| -> bool {
        let status = Command::new("sh")
            .current_dir(dir)
            .args(["-c", ". ./is_static.sh; is_static \"$1\"", "sh"])
            .arg(path)
            .status()
            .unwrap();
        status.success()
    };
    assert!(is_static(&static_bin), "a static-pie binary is static");
    assert!(
        !is_static(&dynamic_bin),
        "a default (dynamic) binary is not static"
    );
    assert!(
        !is_static(&dir.join("is_static.sh")),
        "a script is not a static binary"
    );
    assert!(
        !is_static(&dir.join("truncated")),
        "a truncated ELF is not static"
    );
    assert!(
        !is_static(&dir.join("empty")),
        "an empty file is not static"
    );
    let output = Command::new(&static_bin).output().unwrap();
    assert_eq!(output.stdout, b"hi\n");
}

/// A program printing `hi`, built in `dir` as `assemble` builds it (static-pie, with an explicit
/// target) and as rustc builds it by default (dynamic).
fn hello_binaries(dir: &Path) -> (PathBuf, PathBuf) {
    std::fs::write(dir.join("hello.rs"), "fn main() { println!(\"hi\"); }\n").unwrap();
    let rustc = |out: &str, flags: &[&str]| {
        let status = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .current_dir(dir)
            .args(flags)
            .args(["-o", out, "hello.rs"])
            .status()
            .unwrap();
        assert!(status.success(), "rustc {flags:?}");
        dir.join(out)
    };
    let host = String::from_utf8(Command::new("rustc").arg("-vV").output().unwrap().stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(String::from))
        .unwrap();
    let static_bin = rustc(
        "static",
        &["-C", "target-feature=+crt-static", "--target", &host],
    );
    (static_bin, rustc("dynamic", &[]))
}

fn override_path(ws: &Ws, name: &str) -> PathBuf {
    ws.root().join(OVERRIDE_DIR).join(name)
}

#[test]
fn a_template_override_is_used() {
    let ws = Ws::package("port = 8080");
    let default = TEMPLATES
        .iter()
        .find(|t| t.name == "runtime.Dockerfile")
        .unwrap()
        .text;
    ws.write(
        &format!("{OVERRIDE_DIR}/runtime.Dockerfile"),
        &format!("{default}# customized for {{{{ bin }}}}\n"),
    );
    let summary = ws.run().unwrap();
    let plan = &summary.plans()[0];
    assert_eq!(plan.overrides(), [override_path(&ws, "runtime.Dockerfile")]);
    assert!(
        plan.runtime_dockerfile()
            .ends_with("# customized for demo\n")
    );
    assert!(
        ws.read("target/s2i/demo/runtime.Dockerfile")
            .ends_with("# customized for demo\n")
    );
    // The other templates are the defaults.
    let run = ws.read("target/s2i/demo/builder/s2i/bin/run");
    assert!(
        run.contains("exec '/opt/app-root/bin/demo' \"$@\""),
        "{run}"
    );
}

#[test]
fn an_undefined_variable_in_an_override_is_an_error_naming_the_file() {
    let ws = Ws::package("");
    ws.write(
        &format!("{OVERRIDE_DIR}/s2i/bin/usage"),
        "#!/bin/sh\necho {{ bin }}\necho {{ binary_name }}\n",
    );
    let before = ws.listing();
    let msg = ws.fail(ws.args(|_| {}));
    let path = override_path(&ws, "s2i/bin/usage");
    assert!(msg.contains(&format!("`{}`", path.display())), "{msg}");
    assert!(msg.contains("`binary_name` is undefined"), "{msg}");
    assert!(msg.contains("usage:3"), "the line: {msg}");
    assert!(
        msg.contains("note: ") && msg.contains("`bin_path`"),
        "{msg}"
    );
    assert_eq!(before, ws.listing(), "nothing is written");

    // A syntax error also names the file.
    ws.write(&format!("{OVERRIDE_DIR}/s2i/bin/usage"), "{% if %}\n");
    let msg = ws.fail(ws.args(|_| {}));
    assert!(
        msg.contains(&format!("`{}` does not parse", path.display())),
        "{msg}"
    );
}

#[test]
fn eject_writes_the_defaults_and_keeps_existing_files() {
    let ws = Ws::package("port = 8080");
    let mine = "#!/bin/sh\n# mine\nexec {{ bin_path | sh }}\n";
    ws.write(&format!("{OVERRIDE_DIR}/s2i/bin/run"), mine);
    let before = ws.listing();

    let sink = Buffer::new();
    ws.args(|a| a.eject = true).execute(&sink).unwrap();
    for t in TEMPLATES {
        let path = override_path(&ws, t.name);
        let text = std::fs::read_to_string(&path).unwrap();
        if t.name == "s2i/bin/run" {
            assert_eq!(text, mine, "an existing file is kept");
        } else {
            assert_eq!(text, t.text, "`{}` is the default", t.name);
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, t.mode, "the mode of `{}`", t.name);
        }
    }
    // Eject writes templates only: no build context, no manifests.
    let added: Vec<_> = ws
        .listing()
        .into_keys()
        .filter(|k| !before.contains_key(k))
        .collect();
    assert!(
        added.iter().all(|p| p.starts_with(".s2i")),
        "eject wrote more than templates: {added:?}"
    );
    let events = format!("{:?}", sink.events());
    assert!(events.contains("Kept"), "{events}");

    // The ejected defaults render exactly like the built-in ones.
    let ejected = ws.run().unwrap();
    let fresh = Ws::package("port = 8080").run().unwrap();
    let (e, f) = (&ejected.plans()[0], &fresh.plans()[0]);
    assert_eq!(e.runtime_dockerfile(), f.runtime_dockerfile());
    for (a, b) in e.builder_context().iter().zip(f.builder_context()) {
        if a.path == "s2i/bin/run" {
            assert!(a.contents.contains("# mine"));
        } else {
            assert_eq!(a, b);
        }
    }

    // A second eject keeps everything.
    let again = ws.listing();
    ws.args(|a| a.eject = true).execute(&Buffer::new()).unwrap();
    assert_eq!(again, ws.listing());
}

/// A rendered file of the builder context of a default package.
fn builder_file(ws: &Ws, path: &str) -> String {
    let summary = ws.run().unwrap();
    summary.plans()[0]
        .builder_context()
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no `{path}`"))
        .contents
        .clone()
}

#[test]
fn save_artifacts_follows_the_cargo_dirs_and_stores_hard_links_as_files() {
    let ws = Ws::package("");
    let script = ws.root().join("save-artifacts");
    std::fs::write(&script, builder_file(&ws, "s2i/bin/save-artifacts")).unwrap();
    let dir = ws.root().join("elsewhere");
    let release = dir.join("build/x86_64-unknown-linux-gnu/release");
    for d in ["deps", "incremental/app-1", "build/serde-1"] {
        std::fs::create_dir_all(release.join(d)).unwrap();
    }
    std::fs::write(release.join("deps/app-1"), "binary").unwrap();
    std::fs::hard_link(release.join("deps/app-1"), release.join("app")).unwrap();
    std::fs::write(release.join("build/serde-1/build_script_build-1"), "bs").unwrap();
    std::fs::hard_link(
        release.join("build/serde-1/build_script_build-1"),
        release.join("build/serde-1/build-script-build"),
    )
    .unwrap();
    std::fs::write(release.join("incremental/app-1/q"), "x").unwrap();
    std::fs::create_dir_all(dir.join("home/registry/cache")).unwrap();
    std::fs::write(dir.join("home/registry/cache/clap.crate"), "crate").unwrap();

    let out = Command::new("sh")
        .arg(&script)
        .env("CARGO_TARGET_DIR", dir.join("build"))
        .env("CARGO_HOME", dir.join("home"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut entries = Vec::new();
    for e in tar::Archive::new(out.stdout.as_slice()).entries().unwrap() {
        let e = e.unwrap();
        let kind = e.header().entry_type();
        assert!(
            matches!(kind, tar::EntryType::Regular | tar::EntryType::Directory),
            "{:?} is a {kind:?}: s2i extracts link entries as empty files",
            e.path().unwrap()
        );
        if kind == tar::EntryType::Regular {
            entries.push((e.path().unwrap().display().to_string(), e.size()));
        }
    }
    entries.sort();
    let r = "target/x86_64-unknown-linux-gnu/release";
    assert_eq!(
        entries,
        [
            ("cargo/registry/cache/clap.crate".to_string(), 5),
            (format!("{r}/app"), 6),
            (format!("{r}/build/serde-1/build-script-build"), 2),
            (format!("{r}/build/serde-1/build_script_build-1"), 2),
            (format!("{r}/deps/app-1"), 6),
        ]
    );
}

#[test]
fn the_static_flag_joins_the_rustflags_of_the_source() {
    let ws = Ws::package("");
    let assemble = builder_file(&ws, "s2i/bin/assemble");
    let start = assemble.find("has_target_rustflags() {").unwrap();
    let end = start + assemble[start..].find("\n}\n").unwrap() + 3;
    let flags = assemble
        .find("STATIC='")
        .map(|s| &assemble[s..s + assemble[s..].find("\nfi\n").unwrap() + 4])
        .expect("assemble sets the static flag");
    let script = format!(
        "say() {{ echo \"$*\"; }}\nTARGET=x86_64-unknown-linux-gnu\n{}\n{flags}\n\
         env | grep RUSTFLAGS | sort\n",
        &assemble[start..end]
    );
    let dir = ws.root().join("flags");
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    let run = |config: &str, env: &[(&str, &str)]| -> String {
        std::fs::write(dir.join(".cargo/config.toml"), config).unwrap();
        let out = Command::new("sh")
            .current_dir(&dir)
            .args(["-c", &script])
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS")
            .env("CARGO_HOME", dir.join("home"))
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let build = run("[build]\nrustflags = [\"--cfg\", \"x\"]\n", &[]);
    assert_eq!(
        build.trim(),
        "CARGO_BUILD_RUSTFLAGS= -C target-feature=+crt-static"
    );
    let target = run(
        "[target.x86_64-unknown-linux-gnu]\nrustflags = [\"--cfg\", \"x\"]\n",
        &[],
    );
    assert_eq!(
        target.trim(),
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS= -C target-feature=+crt-static"
    );
    let explicit = run("", &[("RUSTFLAGS", "-C opt-level=1")]);
    assert!(
        explicit.contains("warning: RUSTFLAGS is set") && explicit.contains("+crt-static"),
        "{explicit}"
    );
    assert!(explicit.contains("RUSTFLAGS=-C opt-level=1"), "{explicit}");
    assert!(!explicit.contains("CARGO_BUILD_RUSTFLAGS"), "{explicit}");
}
