//! What cargo must compute for the tar, done in a staging copy under the plan's `out_dir` (never
//! in the user's tree): the resolved `Cargo.lock`, and the vendored crates with the source
//! replacement that goes into the tar's `.cargo/config.toml`.
//!
//! The staging tree holds the source's manifests, the workspace's lock, and an empty file for
//! every `.rs` file (cargo needs the targets to exist to load the manifests, not their
//! contents). `cargo metadata` there resolves the lock (the user's, unchanged when it is up to
//! date). `cargo vendor` of that lock is cached by the lock's hash
//! and the build's package and features in `out_dir/source/vendor/<hash>`, so a source change
//! does not vendor again; crates the container build never compiles (`windows-sys`, optional
//! dependencies of features that are off, ...) are cut down to what cargo needs to load them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use sha2::{Digest, Sha256};
use toml_edit::{DocumentMut, Item, Table};

use crate::Error;
use crate::plan::hex;
use crate::sink::{Event, Sink};

/// A cargo command's output.
struct Run {
    ok: bool,
    stdout: Vec<u8>,
    stderr: String,
}

fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The staging workspace, and the user's cargo config to apply there (by `--config`, so its
/// relative paths keep meaning what they mean in the user's workspace).
pub struct Workspace<'a> {
    pub dir: &'a Path,
    pub config: Option<&'a Path>,
}

impl Workspace<'_> {
    fn command(&self, offline: bool, args: &[&str]) -> (OsString, Vec<OsString>) {
        let mut all: Vec<OsString> = Vec::new();
        if offline {
            all.push("--offline".into());
        }
        if let Some(c) = self.config {
            all.push("--config".into());
            all.push(c.into());
        }
        all.extend(args.iter().map(OsString::from));
        (cargo_program(), all)
    }

    fn run(&self, offline: bool, args: &[&str]) -> Result<Run> {
        let (program, all) = self.command(offline, args);
        let out = duct::cmd(&program, &all)
            .dir(self.dir)
            .stdout_capture()
            .stderr_capture()
            .stdin_null()
            .unchecked()
            .run()
            .map_err(|e| {
                Error::new(format!(
                    "failed to run `{} {}`",
                    program.to_string_lossy(),
                    args.join(" ")
                ))
                .with_source(e)
                .note("cargo must be on PATH (or set `CARGO`)")
            })?;
        Ok(Run {
            ok: out.status.success(),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }

    /// Runs cargo offline first (fast, needs the local registry cache), then online.
    fn offline_then_online(&self, args: &[&str], what: &str, sink: &dyn Sink) -> Result<Run> {
        let first = self.run(true, args)?;
        if first.ok {
            return Ok(first);
        }
        // Expected on a first run (the local registry cache lacks the crates): nothing for the
        // user to do, so no warning; `-v` says it.
        sink.event(Event::Log {
            stage: "source".into(),
            line: format!("{what}: the local registry cache is not enough; retrying online"),
        });
        let second = self.run(false, args)?;
        if second.ok {
            return Ok(second);
        }
        Ok(Run {
            stderr: format!("{}\n(offline: {})", second.stderr, tail(&first.stderr)),
            ..second
        })
    }
}

/// The last lines of cargo's error output.
fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let start = lines.len().saturating_sub(20);
    lines[start..].join("\n")
}

/// A file of the staging workspace.
pub enum Staged<'a> {
    /// Copied from disk.
    Copy(&'a str, &'a Path),
    /// An empty file (a target cargo must see).
    Empty(&'a str),
}

/// A fresh staging workspace at `dir`.
pub fn stage(dir: &Path, files: &[Staged<'_>]) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("failed to remove `{}`", dir.display()))?;
    }
    for f in files {
        let (rel, bytes) = match f {
            Staged::Copy(rel, src) => (
                *rel,
                std::fs::read(src)
                    .with_context(|| format!("failed to read `{}`", src.display()))?,
            ),
            Staged::Empty(rel) => (*rel, Vec::new()),
        };
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create `{}`", parent.display()))?;
        }
        std::fs::write(&path, bytes)
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    Ok(())
}

/// Lets cargo resolve the staged workspace's `Cargo.lock` (a fresh one when there is none);
/// returns it.
pub fn resolve_lock(ws: &Workspace<'_>, package: &str, sink: &dyn Sink) -> Result<Vec<u8>> {
    let staging = ws.dir;
    let r = ws.offline_then_online(
        &["metadata", "--format-version", "1"],
        "resolving `Cargo.lock`",
        sink,
    )?;
    if !r.ok {
        return Err(Error::new(format!(
            "failed to resolve `Cargo.lock` of the workspace of `{package}` (cargo metadata in \
             `{}`):\n{}",
            staging.display(),
            tail(&r.stderr)
        ))
        .note(
            "check that the workspace resolves with `cargo metadata`; without network access, \
             run `cargo fetch` once while online",
        )
        .into());
    }
    let lock = staging.join("Cargo.lock");
    std::fs::read(&lock).with_context(|| format!("failed to read `{}`", lock.display()))
}

/// Changes when what goes into the vendor cache changes (e.g. which crates are cut down).
const VENDOR_FORMAT: &str = "vendor v2\0";

/// What the container builds: it decides which vendored crates can be cut.
pub struct BuildSpec<'a> {
    pub package: &'a str,
    pub features: &'a [String],
    pub no_default_features: bool,
}

impl BuildSpec<'_> {
    /// The `cargo tree` arguments that select the same package and features as `assemble`.
    fn tree_args(&self) -> Vec<String> {
        let mut args = vec!["--package".to_string(), self.package.to_string()];
        if !self.features.is_empty() {
            args.push("--features".into());
            args.push(self.features.join(","));
        }
        if self.no_default_features {
            args.push("--no-default-features".into());
        }
        args
    }

    /// Feeds everything that changes which crates are cut into the vendor cache key.
    fn hash_into(&self, h: &mut Sha256) {
        for part in self.tree_args() {
            h.update(part.as_bytes());
            h.update([0]);
        }
        for t in LINUX_TARGETS {
            h.update(t.as_bytes());
            h.update([0]);
        }
    }
}

/// Vendored crates for one lock: the directory and the `[source]` tables to add to the
/// tar's cargo config (empty when nothing needs vendoring).
pub struct Vendored {
    pub dir: PathBuf,
    pub sources: Table,
}

/// Vendors the staged workspace's crates, or reuses the cache for the same lock.
pub fn vendor(
    ws: &Workspace<'_>,
    cache_root: &Path,
    lock: &[u8],
    spec: &BuildSpec<'_>,
    sink: &dyn Sink,
) -> Result<Vendored> {
    let mut h = Sha256::new();
    h.update(VENDOR_FORMAT.as_bytes());
    h.update(lock);
    spec.hash_into(&mut h);
    let key = hex(&h.finalize())[..16].to_string();
    let cache = cache_root.join(&key);
    let config = cache.join("config.toml");
    if !config.is_file() {
        vendor_into(ws, spec, cache_root, &key, sink)?;
    }
    Ok(Vendored {
        dir: cache.join("vendor"),
        sources: vendored_sources(&config)?,
    })
}

/// Runs `cargo vendor` into a temporary directory of `cache_root`, moves it to `<key>` when it is
/// complete, and removes the crates of every other lock.
fn vendor_into(
    ws: &Workspace<'_>,
    spec: &BuildSpec<'_>,
    cache_root: &Path,
    key: &str,
    sink: &dyn Sink,
) -> Result<()> {
    let package = spec.package;
    let cache = cache_root.join(key);
    sink.event(Event::status(
        "Vendoring",
        format!("crates of `{package}` for the offline container build"),
    ));
    let tmp = cache_root.join(format!(".{key}.{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)
            .with_context(|| format!("failed to remove `{}`", tmp.display()))?;
    }
    std::fs::create_dir_all(&tmp)
        .with_context(|| format!("failed to create `{}`", tmp.display()))?;
    let dest = tmp.join("vendor");
    let dest_s = dest.to_string_lossy().into_owned();
    let r = ws.offline_then_online(&["vendor", "--locked", &dest_s], "vendoring", sink)?;
    if !r.ok {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(Error::new(format!(
            "failed to vendor the crates of `{package}`:\n{}",
            tail(&r.stderr)
        ))
        .note(
            "`cargo vendor` needs the crates in the local registry cache or network access; \
             run `cargo fetch` in the workspace while online, or set `vendor = false` in \
             `[package.metadata.s2i]` if the builder can reach the registry",
        )
        .into());
    }
    stub_foreign_crates(ws, spec, &dest);
    crate::files::write_atomic(&tmp.join("config.toml"), &r.stdout, 0o644)?;
    if cache.exists() {
        std::fs::remove_dir_all(&cache)
            .with_context(|| format!("failed to remove `{}`", cache.display()))?;
    }
    std::fs::rename(&tmp, &cache).with_context(|| {
        format!(
            "failed to move `{}` to `{}`",
            tmp.display(),
            cache.display()
        )
    })?;
    // Only the current lock's crates are kept.
    if let Ok(dir) = std::fs::read_dir(cache_root) {
        for e in dir.flatten() {
            if e.file_name() != key && !e.file_name().to_string_lossy().starts_with('.') {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

/// The `[source]` tables of `cargo vendor`'s output `config`, pointing at `vendor/`.
fn vendored_sources(config: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(config)
        .with_context(|| format!("failed to read `{}`", config.display()))?;
    let doc: DocumentMut = text.parse().with_context(|| {
        format!(
            "failed to parse `{}` (output of cargo vendor)",
            config.display()
        )
    })?;
    let mut sources = doc
        .get("source")
        .and_then(|s| s.as_table())
        .cloned()
        .unwrap_or_default();
    if let Some(v) = sources
        .get_mut("vendored-sources")
        .and_then(|v| v.as_table_like_mut())
    {
        v.insert("directory", toml_edit::value("vendor"));
    }
    Ok(sources)
}

/// The Linux targets a builder image may run on: a crate none of them needs is never compiled in
/// the container.
const LINUX_TARGETS: [&str; 7] = [
    "x86_64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-gnu",
    "aarch64-unknown-linux-musl",
    "powerpc64le-unknown-linux-gnu",
    "s390x-unknown-linux-gnu",
    "riscv64gc-unknown-linux-gnu",
];

/// Shrinks the vendored crates that the container build never compiles (`windows-sys` alone is
/// ~20 MB) to what cargo needs to load their manifests (see [`stub`]). The decision comes from
/// `cargo tree` of the real build: the package, its configured features, the Linux targets,
/// normal and build dependencies (proc-macros are normal ones). Best effort, and when in doubt a
/// crate stays whole: if `cargo tree` fails, or this machine is not a Linux one (cargo tree
/// filters build dependencies and proc-macros by the machine it runs on, not by `--target`),
/// nothing is cut.
fn stub_foreign_crates(ws: &Workspace<'_>, spec: &BuildSpec<'_>, vendor: &Path) {
    if !cfg!(target_os = "linux") {
        return;
    }
    let Some(used) = used_crates(ws, spec) else {
        return;
    };
    let Ok(dirs) = std::fs::read_dir(vendor) else {
        return;
    };
    for dir in dirs.flatten().map(|e| e.path()) {
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let Ok(doc) = text.parse::<DocumentMut>() else {
            continue;
        };
        let field = |k: &str| {
            doc.get("package")
                .and_then(|p| p.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let (Some(name), Some(version)) = (field("name"), field("version")) else {
            continue;
        };
        if used.contains(&(name, version)) {
            continue;
        }
        let _ = stub(&dir, &doc);
    }
}

/// The `(name, version)` of every crate the container build compiles, by `cargo tree` of the
/// real build on the Linux targets; `None` when that cannot be known.
fn used_crates(
    ws: &Workspace<'_>,
    spec: &BuildSpec<'_>,
) -> Option<std::collections::HashSet<(String, String)>> {
    let mut args: Vec<String> = [
        "tree",
        "--locked",
        "--edges",
        "normal,build",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ]
    .map(String::from)
    .to_vec();
    args.extend(spec.tree_args());
    for t in LINUX_TARGETS {
        args.extend(["--target".to_string(), t.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (program, all) = ws.command(true, &args);
    let out = duct::cmd(&program, &all)
        .dir(ws.dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .ok()
        .filter(|out| out.status.success())?;
    let used: std::collections::HashSet<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next()?;
            let version = parts.next()?.strip_prefix('v')?;
            Some((name.to_string(), version.to_string()))
        })
        .collect();
    (!used.is_empty()).then_some(used)
}

/// The files of a vendored crate that cargo may look for when it loads the manifest: target
/// auto-discovery (`src/lib.rs`, `src/main.rs`, `src/bin/*`, `examples/`, `tests/`, `benches/`),
/// the build script, and every `path` the manifest names. They stay, emptied; the rest goes.
fn target_files(dir: &Path, doc: &DocumentMut) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ["src/lib.rs", "src/main.rs", "build.rs"]
        .iter()
        .map(PathBuf::from)
        .collect();
    for sub in ["src/bin", "examples", "tests", "benches"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = PathBuf::from(sub).join(e.file_name());
            if e.path().is_dir() {
                out.push(name.join("main.rs"));
            } else if name.extension().is_some_and(|x| x == "rs") {
                out.push(name);
            }
        }
    }
    let path_of = |item: &Item| item.get("path").and_then(|p| p.as_str()).map(PathBuf::from);
    if let Some(build) = doc
        .get("package")
        .and_then(|p| p.get("build"))
        .and_then(|b| b.as_str())
    {
        out.push(build.into());
    }
    out.extend(doc.get("lib").and_then(path_of));
    for kind in ["bin", "example", "test", "bench"] {
        if let Some(targets) = doc.get(kind).and_then(|t| t.as_array_of_tables()) {
            out.extend(
                targets
                    .iter()
                    .filter_map(|t| t.get("path").and_then(|p| p.as_str()).map(PathBuf::from)),
            );
        }
    }
    out.retain(|p| dir.join(p).is_file());
    out.sort();
    out.dedup();
    out
}

/// Cuts a vendored crate down to its `Cargo.toml` and its [`target_files`], emptied. Cargo parses
/// every vendored manifest, and a manifest published without explicit targets needs its target
/// files to exist; it never reads their contents for a crate it does not build. The checksum
/// file lists exactly what is left, with the checksums of what is left.
fn stub(dir: &Path, doc: &DocumentMut) -> Result<()> {
    let sums = dir.join(".cargo-checksum.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&sums)?)?;
    let manifest_sum = json
        .get("files")
        .and_then(|f| f.get("Cargo.toml"))
        .cloned()
        .context("no checksum of Cargo.toml")?;
    let keep = target_files(dir, doc);
    let empty = hex(&Sha256::digest(b""));
    let mut files = serde_json::Map::new();
    files.insert("Cargo.toml".into(), manifest_sum);
    for k in &keep {
        let key = k.to_string_lossy().replace('\\', "/");
        files.insert(key, serde_json::Value::String(empty.clone()));
    }
    // Into a fresh directory first, so a crate is never left half cut.
    let mut fresh = dir.as_os_str().to_owned();
    fresh.push(".cut");
    let fresh = PathBuf::from(fresh);
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh)?;
    }
    std::fs::create_dir_all(&fresh)?;
    std::fs::copy(dir.join("Cargo.toml"), fresh.join("Cargo.toml"))?;
    for k in &keep {
        let path = fresh.join(k);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, b"")?;
    }
    let stubbed = serde_json::json!({
        "files": files,
        "package": json.get("package").cloned().unwrap_or(serde_json::Value::Null),
    });
    std::fs::write(
        fresh.join(".cargo-checksum.json"),
        serde_json::to_vec(&stubbed)?,
    )?;
    std::fs::remove_dir_all(dir)?;
    std::fs::rename(&fresh, dir)?;
    Ok(())
}

/// The user's cargo config (if any) with the vendored sources replacing crates.io (and any
/// vendored git sources).
pub fn merge_config(user: Option<(&Path, &str)>, sources: &Table) -> Result<String> {
    let mut doc: DocumentMut = match user {
        Some((path, text)) => text.parse().map_err(|e| {
            Error::new(format!("failed to parse `{}`: {e}", path.display()))
                .note("the source tar's cargo config is this file plus the vendored sources")
        })?,
        None => DocumentMut::new(),
    };
    let source = doc
        .entry("source")
        .or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| anyhow!("`source` in the cargo config is not a table"))?;
    for (i, (name, table)) in sources.iter().enumerate() {
        let mut table = table.clone();
        if let Some(t) = table.as_table_mut() {
            t.decor_mut().clear();
            if i == 0 {
                t.decor_mut().set_prefix(
                    "\n# Added to the source tar by `cargo xtask image`: build from the vendored crates.\n",
                );
            }
        }
        source.insert(name, table);
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under `dir`, relative, with its size, sorted.
    fn files_and_sizes(dir: &Path) -> Vec<(String, usize)> {
        let mut left = Vec::new();
        for e in ignore::WalkBuilder::new(dir)
            .hidden(false)
            .build()
            .flatten()
        {
            if e.path().is_file() {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                left.push((rel, std::fs::read(e.path()).unwrap().len()));
            }
        }
        left.sort();
        left
    }

    #[test]
    fn a_cut_crate_keeps_its_manifest_and_empty_target_files_listed_in_its_checksums() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("tool-1.0.0");
        let manifest = "[package]\nname = \"tool\"\nversion = \"1.0.0\"\nbuild = \"gen/build.rs\"\n\n[[bin]]\nname = \"tool-cli\"\n\n[[example]]\nname = \"demo\"\npath = \"ex/demo.rs\"\n";
        for (rel, text) in [
            ("Cargo.toml", manifest),
            ("src/lib.rs", "pub mod big;"),
            ("src/big.rs", "// a lot of code"),
            ("src/bin/tool-cli.rs", "fn main() {}"),
            ("src/bin/multi/main.rs", "fn main() {}"),
            ("gen/build.rs", "fn main() {}"),
            ("ex/demo.rs", "fn main() {}"),
            ("tests/it.rs", "#[test] fn t() {}"),
            ("README.md", "docs"),
        ] {
            let path = dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::fs::write(
            dir.join(".cargo-checksum.json"),
            r#"{"files":{"Cargo.toml":"abc","src/lib.rs":"def"},"package":"123"}"#,
        )
        .unwrap();
        let doc: DocumentMut = manifest.parse().unwrap();
        stub(&dir, &doc).unwrap();

        let left = files_and_sizes(&dir);
        let names: Vec<&str> = left.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                ".cargo-checksum.json",
                "Cargo.toml",
                "ex/demo.rs",
                "gen/build.rs",
                "src/bin/multi/main.rs",
                "src/bin/tool-cli.rs",
                "src/lib.rs",
                "tests/it.rs",
            ]
        );
        assert!(left.iter().all(|(n, len)| *len == 0 || !n.ends_with(".rs")));
        let sums: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(".cargo-checksum.json")).unwrap())
                .unwrap();
        assert_eq!(sums["package"], "123");
        assert_eq!(sums["files"]["Cargo.toml"], "abc");
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(sums["files"]["src/bin/tool-cli.rs"], empty);
        assert_eq!(sums["files"].as_object().unwrap().len(), 7);
        assert!(!tmp.path().join("tool-1.0.0.cut").exists());
    }

    #[test]
    fn merges_vendored_sources_into_the_users_config() {
        let snippet: DocumentMut = r#"
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "/abs/vendor"
"#
        .parse()
        .unwrap();
        let mut sources = snippet["source"].as_table().unwrap().clone();
        sources["vendored-sources"]["directory"] = toml_edit::value("vendor");
        let user = "[alias]\nxtask = \"run --package xtask --\"\n";
        let merged = merge_config(Some((Path::new(".cargo/config.toml"), user)), &sources).unwrap();
        let v: toml::Value = toml::from_str(&merged).unwrap();
        assert_eq!(v["alias"]["xtask"].as_str(), Some("run --package xtask --"));
        assert_eq!(
            v["source"]["crates-io"]["replace-with"].as_str(),
            Some("vendored-sources")
        );
        assert_eq!(
            v["source"]["vendored-sources"]["directory"].as_str(),
            Some("vendor")
        );
        assert!(merged.starts_with(user), "{merged}");

        let bad = merge_config(Some((Path::new("c.toml"), "[x")), &sources).unwrap_err();
        assert!(format!("{bad:#}").contains("failed to parse `c.toml`"));
    }
}
