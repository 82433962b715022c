//! The packages of the closure and their manifests as they appear in the source tar.
//!
//! [`discover`] follows path dependencies (every kind, every target) from the plan's package, the
//! root package and the root's `[patch]`/`[replace]` paths; packages outside the workspace root
//! are relocated under [`PATH_DEPS`]. [`Packages::manifests`] then rewrites, with `toml_edit` and
//! in memory only, what must change for the tar: the root's `[workspace]` (only closure members,
//! relocated packages excluded), the `path` of every dependency whose target moved, and the
//! workspace inheritance of relocated packages (inlined, because their workspace root is not in
//! the tar). Formatting and comments of the user's manifests are kept.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};

use crate::Error;
use anyhow::{Context, Result, anyhow, bail};
use cargo_metadata::Metadata;
use toml_edit::{Array, DocumentMut, InlineTable, Item, TableLike, Value};

/// Where packages from outside the workspace root go in the tar.
pub const PATH_DEPS: &str = ".s2i/path-deps";

/// The dependency tables of a manifest (and of each `[target.'cfg'.*]`).
const DEP_KINDS: [&str; 5] = [
    "dependencies",
    "dev-dependencies",
    "dev_dependencies",
    "build-dependencies",
    "build_dependencies",
];

/// One package of the closure.
#[derive(Debug)]
pub struct Package {
    pub name: String,
    /// Canonical directory on disk.
    pub dir: PathBuf,
    /// Directory in the tar: `""` for the workspace root, `crates/app`, `.s2i/path-deps/<name>`.
    pub tar_dir: String,
    /// Outside the workspace root, so moved under [`PATH_DEPS`].
    pub relocated: bool,
    /// A member of the user's workspace (per `cargo metadata`).
    pub member: bool,
    /// The manifest with the inheritance of a relocated package inlined (not yet rewritten).
    doc: DocumentMut,
    /// The manifest as read.
    text: String,
    /// Manifests the rewritten one depends on besides its own (the inheritance root).
    pub inputs: Vec<PathBuf>,
    /// `package.include` / `package.exclude` (honoured for relocated packages only).
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Package {
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("Cargo.toml")
    }
}

/// The closure's packages, the root manifest, and where each package goes in the tar.
#[derive(Debug)]
pub struct Packages {
    pub root: PathBuf,
    /// The root manifest (shared with the root package when there is one).
    root_doc: DocumentMut,
    root_text: String,
    pub list: Vec<Package>,
    by_dir: HashMap<PathBuf, usize>,
}

/// A manifest of the tar: where it goes, its source file, and its new contents when rewritten.
#[derive(Debug)]
pub struct Manifest {
    pub tar_path: String,
    pub source: PathBuf,
    /// `None` when the user's file goes into the tar unchanged.
    pub rewritten: Option<String>,
}

fn read_manifest(path: &Path) -> Result<(String, DocumentMut)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let doc = text
        .parse::<DocumentMut>()
        .with_context(|| format!("failed to parse `{}`", path.display()))?;
    Ok((text, doc))
}

/// Why a package is in the closure, for errors about it.
#[derive(Debug, Clone)]
struct Reason {
    manifest: PathBuf,
    what: String,
}

/// Finds the closure of `package_dir` in the workspace at `root` (both canonical).
#[allow(clippy::too_many_lines)] // rewritten by issue 18 (one chain)
pub fn discover(root: &Path, package_dir: &Path, metadata: &Metadata) -> Result<Packages> {
    let root_manifest = root.join("Cargo.toml");
    let (root_text, root_doc) = read_manifest(&root_manifest)?;

    let mut members = HashMap::new();
    for p in metadata.workspace_packages() {
        let dir = p
            .manifest_path
            .parent()
            .map(|d| d.as_std_path())
            .unwrap_or(root);
        if let Ok(dir) = std::fs::canonicalize(dir) {
            members.insert(dir, p);
        }
    }

    let mut queue: VecDeque<(PathBuf, Option<Reason>)> = VecDeque::new();
    queue.push_back((package_dir.to_path_buf(), None));
    if root_doc.contains_key("package") {
        queue.push_back((root.to_path_buf(), None));
    }
    // `[patch]` and `[replace]` paths are loaded by cargo whether they are used or not.
    for (what, spec) in patch_specs(&root_doc) {
        if let Some(path) = spec.get("path").and_then(|p| p.as_str()) {
            let reason = Reason {
                manifest: root_manifest.clone(),
                what: format!("`{what}` (path `{path}`)"),
            };
            queue.push_back((root.join(path), Some(reason)));
        }
    }

    let mut list: Vec<Package> = Vec::new();
    let mut by_dir = HashMap::new();
    while let Some((dir, reason)) = queue.pop_front() {
        let manifest = dir.join("Cargo.toml");
        let dir = match std::fs::canonicalize(&dir) {
            Ok(d) if d.join("Cargo.toml").is_file() => d,
            _ => return Err(missing_package(&manifest, reason.as_ref())),
        };
        if by_dir.contains_key(&dir) {
            continue;
        }
        let relocated = !dir.starts_with(root);
        let (text, mut doc) = if dir == root {
            (root_text.clone(), root_doc.clone())
        } else {
            read_manifest(&dir.join("Cargo.toml"))?
        };
        let mut inputs = Vec::new();
        let member = members.get(&dir);
        let deps: Vec<(String, PathBuf)> = match member {
            Some(p) => p
                .dependencies
                .iter()
                .filter_map(|d| {
                    let path = d.path.as_ref()?;
                    Some((d.name.clone(), path.as_std_path().to_path_buf()))
                })
                .collect(),
            None => {
                if relocated && let Some(ws) = inline_inheritance(&mut doc, &dir)? {
                    inputs.push(ws);
                }
                let mut deps = Vec::new();
                for_each_dep(&mut doc, &mut |name, spec| {
                    if let Some(path) = spec.get("path").and_then(|p| p.as_str()) {
                        deps.push((name.to_string(), dir.join(path)));
                    }
                    Ok(())
                })?;
                deps
            }
        };
        let name = match member {
            Some(p) => p.name.to_string(),
            None => doc
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .map(str::to_string)
                .ok_or_else(|| not_a_package(&dir.join("Cargo.toml"), reason.as_ref()))?,
        };
        let (include, exclude) = (string_list(&doc, "include"), string_list(&doc, "exclude"));
        let this = dir.join("Cargo.toml");
        for (dep, path) in deps {
            let reason = Reason {
                manifest: this.clone(),
                what: format!("dependency `{dep}`"),
            };
            queue.push_back((path, Some(reason)));
        }
        by_dir.insert(dir.clone(), list.len());
        list.push(Package {
            name,
            tar_dir: String::new(),
            relocated,
            member: member.is_some(),
            dir,
            doc,
            text,
            inputs,
            include,
            exclude,
        });
    }

    // Where each package goes: its place under the root, or a unique `.s2i/path-deps/<name>`.
    let mut order: Vec<usize> = (0..list.len()).collect();
    order.sort_by(|&a, &b| (&list[a].name, &list[a].dir).cmp(&(&list[b].name, &list[b].dir)));
    let mut taken = std::collections::HashSet::new();
    for i in order {
        let p = &mut list[i];
        p.tar_dir = if p.relocated {
            let mut n = 1;
            loop {
                let candidate = match n {
                    1 => format!("{PATH_DEPS}/{}", p.name),
                    n => format!("{PATH_DEPS}/{}-{n}", p.name),
                };
                if taken.insert(candidate.clone()) {
                    break candidate;
                }
                n += 1;
            }
        } else {
            tar_path_of(p.dir.strip_prefix(root).unwrap_or(Path::new("")))?
        };
    }

    Ok(Packages {
        root: root.to_path_buf(),
        root_doc,
        root_text,
        list,
        by_dir,
    })
}

/// `a/b/../c` -> `a/c`, for messages (the path may not exist, so it cannot be canonicalized).
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

fn missing_package(manifest: &Path, reason: Option<&Reason>) -> anyhow::Error {
    let manifest = clean(manifest);
    match reason {
        Some(r) => Error::new(format!(
            "`{}` needs {}, but `{}` does not exist",
            r.manifest.display(),
            r.what,
            manifest.display(),
        ))
        .note(format!(
            "fix the `path` in `{}`, or create the package there",
            r.manifest.display()
        ))
        .into(),
        None => anyhow!("`{}` does not exist", manifest.display()),
    }
}

fn not_a_package(manifest: &Path, reason: Option<&Reason>) -> anyhow::Error {
    let by = reason
        .map(|r| format!(" (needed by {} of `{}`)", r.what, r.manifest.display()))
        .unwrap_or_default();
    Error::new(format!(
        "`{}` has no `[package]` name{by}",
        manifest.display()
    ))
    .note("a path dependency must point at the directory of a package's Cargo.toml")
    .into()
}

/// A relative path as a tar path (`/`-separated, UTF-8).
pub fn tar_path_of(rel: &Path) -> Result<String> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            std::path::Component::Normal(s) => out.push(s.to_str().ok_or_else(|| {
                Error::new(format!(
                    "cannot put `{}` into the source tar: its name is not UTF-8",
                    rel.display()
                ))
                .note("rename it, or add it to `.s2iignore`")
            })?),
            std::path::Component::CurDir => {}
            _ => bail!(
                "`{}` is not a relative path inside the source",
                rel.display()
            ),
        }
    }
    Ok(out.join("/"))
}

/// The path from tar directory `from` to tar directory `to`.
pub fn relative(from: &str, to: &str) -> String {
    let split = |s: &str| -> Vec<String> {
        s.split('/')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (from, to) = (split(from), split(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(to[common..].iter().map(String::as_str));
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

fn string_list(doc: &DocumentMut, key: &str) -> Vec<String> {
    doc.get("package")
        .and_then(|p| p.get(key))
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `(label, spec)` of each entry of `[patch.*]` and `[replace]` in a root manifest.
fn patch_specs(doc: &DocumentMut) -> Vec<(String, &dyn TableLike)> {
    let mut out = Vec::new();
    if let Some(patch) = doc.get("patch").and_then(|p| p.as_table_like()) {
        for (registry, table) in patch.iter() {
            if let Some(table) = table.as_table_like() {
                for (name, spec) in table.iter() {
                    if let Some(spec) = spec.as_table_like() {
                        out.push((format!("patch.{registry}.{name}"), spec));
                    }
                }
            }
        }
    }
    if let Some(replace) = doc.get("replace").and_then(|p| p.as_table_like()) {
        for (name, spec) in replace.iter() {
            if let Some(spec) = spec.as_table_like() {
                out.push((format!("replace.\"{name}\""), spec));
            }
        }
    }
    out
}

/// Calls `f(name, spec)` for every dependency given as a table, in every dependency table of the
/// manifest (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, and per target).
/// `pub(crate)`: [`crate::dev`] walks the manifests of the repository's copies with it.
pub(crate) fn for_each_dep(
    doc: &mut DocumentMut,
    f: &mut dyn FnMut(&str, &mut dyn TableLike) -> Result<()>,
) -> Result<()> {
    fn in_table(
        table: &mut dyn TableLike,
        f: &mut dyn FnMut(&str, &mut dyn TableLike) -> Result<()>,
    ) -> Result<()> {
        for kind in DEP_KINDS {
            if let Some(deps) = table.get_mut(kind).and_then(|d| d.as_table_like_mut()) {
                for (name, spec) in deps.iter_mut() {
                    if let Some(spec) = spec.as_table_like_mut() {
                        f(name.get(), spec)?;
                    }
                }
            }
        }
        Ok(())
    }
    in_table(doc.as_table_mut(), f)?;
    if let Some(targets) = doc.get_mut("target").and_then(|t| t.as_table_like_mut()) {
        for (_, target) in targets.iter_mut() {
            if let Some(target) = target.as_table_like_mut() {
                in_table(target, f)?;
            }
        }
    }
    Ok(())
}

fn inherits(item: &Item) -> bool {
    item.get("workspace").and_then(|w| w.as_bool()) == Some(true)
}

/// Sets a `path` value, keeping its decoration.
pub(crate) fn set_path(spec: &mut dyn TableLike, path: &str) {
    match spec.get_mut("path").and_then(|p| p.as_value_mut()) {
        Some(v) => {
            let decor = v.decor().clone();
            *v = Value::from(path);
            *v.decor_mut() = decor;
        }
        None => {
            spec.insert("path", toml_edit::value(path));
        }
    }
}

/// The workspace root manifest of a package outside our workspace: `package.workspace`, or the
/// nearest `Cargo.toml` with `[workspace]` from the package's directory up.
fn workspace_root_of(doc: &DocumentMut, dir: &Path) -> Result<Option<PathBuf>> {
    if let Some(ws) = doc
        .get("package")
        .and_then(|p| p.get("workspace"))
        .and_then(|w| w.as_str())
    {
        return Ok(Some(dir.join(ws).join("Cargo.toml")));
    }
    for d in dir.ancestors() {
        let m = d.join("Cargo.toml");
        if m.is_file() {
            let (_, doc) = read_manifest(&m)?;
            if doc.contains_key("workspace") {
                return Ok(Some(m));
            }
        }
    }
    Ok(None)
}

/// Replaces `workspace = true` in a relocated package's manifest with the values of its
/// workspace root, and drops its `[workspace]` (its root is not in the tar). Returns the root
/// manifest it inherited from, if any.
#[allow(clippy::too_many_lines)] // rewritten by issue 18 (one chain)
fn inline_inheritance(doc: &mut DocumentMut, dir: &Path) -> Result<Option<PathBuf>> {
    let manifest = dir.join("Cargo.toml");
    let uses_package = doc
        .get("package")
        .and_then(|p| p.as_table_like())
        .is_some_and(|p| p.iter().any(|(_, v)| inherits(v)));
    let uses_lints = doc.get("lints").is_some_and(inherits);
    let mut uses_deps = false;
    for_each_dep(doc, &mut |_, spec| {
        uses_deps |= spec.get("workspace").and_then(|w| w.as_bool()) == Some(true);
        Ok(())
    })?;

    let mut used = None;
    if uses_package || uses_lints || uses_deps {
        let ws_manifest = workspace_root_of(doc, dir)?.ok_or_else(|| {
            anyhow!(
                "`{}` inherits from a workspace (`workspace = true`), but no `Cargo.toml` with `[workspace]` is above it",
                manifest.display()
            )
        })?;
        let (_, ws_doc) = read_manifest(&ws_manifest)?;
        let ws_dir = ws_manifest.parent().unwrap_or(Path::new("/")).to_path_buf();
        let ws = ws_doc.get("workspace");
        let missing = |key: &str| {
            Error::new(format!(
                "`{}` inherits `{key}` from its workspace, but `{}` has no `workspace.{key}`",
                manifest.display(),
                ws_manifest.display()
            ))
            .note("add it there, or set the value in the package")
        };

        if let Some(package) = doc.get_mut("package").and_then(|p| p.as_table_like_mut()) {
            let keys: Vec<String> = package
                .iter()
                .filter(|(_, v)| inherits(v))
                .map(|(k, _)| k.to_string())
                .collect();
            for key in keys {
                // Paths relative to the workspace root; cargo does not need them to build.
                if key == "readme" || key == "license-file" {
                    package.remove(&key);
                    continue;
                }
                let value = ws
                    .and_then(|w| w.get("package"))
                    .and_then(|p| p.get(&key))
                    .and_then(|v| v.as_value())
                    .ok_or_else(|| missing(&format!("package.{key}")))?;
                let mut value = value.clone();
                value.decor_mut().clear();
                package.insert(&key, Item::Value(value));
            }
        }

        if uses_lints {
            let lints = ws
                .and_then(|w| w.get("lints"))
                .ok_or_else(|| missing("lints"))?;
            let mut lints = lints.clone();
            if let Some(t) = lints.as_table_mut() {
                t.decor_mut().clear();
                t.set_implicit(false);
            }
            doc.insert("lints", lints);
        }

        let ws_deps = ws.and_then(|w| w.get("dependencies"));
        let mut replacements: Vec<Result<()>> = Vec::new();
        for_each_dep(doc, &mut |name, spec| {
            if spec.get("workspace").and_then(|w| w.as_bool()) != Some(true) {
                return Ok(());
            }
            let Some(base) = ws_deps.and_then(|d| d.get(name)) else {
                replacements.push(Err(missing(&format!("dependencies.{name}")).into()));
                return Ok(());
            };
            let mut merged = InlineTable::new();
            match base {
                Item::Value(Value::String(v)) => {
                    merged.insert("version", Value::from(v.value().as_str()));
                }
                other => {
                    if let Some(t) = other.as_table_like() {
                        for (k, v) in t.iter() {
                            if let Some(v) = v.as_value() {
                                let mut v = v.clone();
                                v.decor_mut().clear();
                                merged.insert(k, v);
                            }
                        }
                    }
                }
            }
            if let Some(path) = merged.get("path").and_then(|p| p.as_str()) {
                let abs = ws_dir.join(path).display().to_string();
                merged.insert("path", Value::from(abs));
            }
            let mut features: Vec<String> = merged
                .get("features")
                .and_then(|f| f.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(more) = spec.get("features").and_then(|f| f.as_array()) {
                for f in more.iter().filter_map(|v| v.as_str()) {
                    if !features.iter().any(|x| x == f) {
                        features.push(f.to_string());
                    }
                }
            }
            if !features.is_empty() {
                merged.insert("features", Value::Array(features.iter().collect::<Array>()));
            }
            for key in ["optional", "default-features", "default_features", "public"] {
                if let Some(v) = spec.get(key).and_then(|v| v.as_value()) {
                    let mut v = v.clone();
                    v.decor_mut().clear();
                    merged.insert(key, v);
                }
            }
            // Replace the spec's keys in place (it may be an inline table or a table).
            let keys: Vec<String> = spec.iter().map(|(k, _)| k.to_string()).collect();
            for k in keys {
                spec.remove(&k);
            }
            for (k, v) in merged.iter() {
                spec.insert(k, Item::Value(v.clone()));
            }
            Ok(())
        })?;
        replacements.into_iter().collect::<Result<()>>()?;
        used = Some(ws_manifest);
    }

    if let Some(package) = doc.get_mut("package").and_then(|p| p.as_table_like_mut()) {
        package.remove("workspace");
    }
    doc.remove("workspace");
    Ok(used)
}

impl Packages {
    /// The package at a canonical directory.
    pub fn get(&self, dir: &Path) -> Option<&Package> {
        self.by_dir.get(dir).map(|&i| &self.list[i])
    }

    /// The tar directory of the package at `path` (resolved against `base`), if it is in the
    /// closure.
    fn locate(&self, base: &Path, path: &str) -> Option<&Package> {
        let dir = std::fs::canonicalize(base.join(path)).ok()?;
        self.get(&dir)
    }

    /// Points every path dependency of `doc` (read from `dir`, going to `tar_dir`) at its
    /// package's place in the tar, where that differs from the original.
    fn rewrite_paths(
        &self,
        doc: &mut DocumentMut,
        dir: &Path,
        tar_dir: &str,
        relocated: bool,
    ) -> Result<()> {
        for_each_dep(doc, &mut |name, spec| {
            let Some(path) = spec.get("path").and_then(|p| p.as_str()) else {
                return Ok(());
            };
            let target = self.locate(dir, path).ok_or_else(|| {
                anyhow!(
                    "dependency `{name}` of `{}` (path `{path}`) is not in the build closure",
                    dir.join("Cargo.toml").display()
                )
            })?;
            if relocated || target.relocated {
                set_path(spec, &relative(tar_dir, &target.tar_dir));
            }
            Ok(())
        })
    }

    /// The closure members of the workspace, as `members` entries.
    fn member_dirs(&self) -> Vec<String> {
        let mut dirs: Vec<String> = self
            .list
            .iter()
            .filter(|p| p.member && !p.relocated && !p.tar_dir.is_empty())
            .map(|p| p.tar_dir.clone())
            .collect();
        dirs.sort();
        dirs
    }

    /// Rewrites the root manifest's `[workspace]`, `[patch]` and `[replace]`.
    #[allow(clippy::too_many_lines)] // rewritten by issue 18 (one chain)
    fn rewrite_root(&self, doc: &mut DocumentMut) -> Result<()> {
        let root = self.root.clone();
        let relocated_any = self.list.iter().any(|p| p.relocated);
        if let Some(ws) = doc.get_mut("workspace").and_then(|w| w.as_table_like_mut()) {
            let members = self.member_dirs();
            let current: Option<Vec<String>> =
                ws.get("members").and_then(|m| m.as_array()).map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                });
            if current.as_ref() != Some(&members) {
                let mut array: Array = members.iter().collect();
                if let Some(old) = ws.get("members").and_then(|m| m.as_value()) {
                    *array.decor_mut() = old.decor().clone();
                }
                ws.insert("members", Item::Value(Value::Array(array)));
            }
            ws.remove("default-members");
            if relocated_any {
                let exclude = ws
                    .entry("exclude")
                    .or_insert(Item::Value(Value::Array(Array::new())));
                if let Some(a) = exclude.as_array_mut()
                    && !a.iter().any(|v| v.as_str() == Some(PATH_DEPS))
                {
                    a.push(PATH_DEPS);
                }
            }
            if let Some(deps) = ws
                .get_mut("dependencies")
                .and_then(|d| d.as_table_like_mut())
            {
                let mut unused = Vec::new();
                for (name, spec) in deps.iter_mut() {
                    let Some(spec) = spec.as_table_like_mut() else {
                        continue;
                    };
                    let Some(path) = spec.get("path").and_then(|p| p.as_str()) else {
                        continue;
                    };
                    match self.locate(&root, path) {
                        Some(target) if target.relocated => {
                            set_path(spec, &relative("", &target.tar_dir))
                        }
                        Some(_) => {}
                        // Only packages outside the closure use it; its path is not in the tar.
                        None => unused.push(name.get().to_string()),
                    }
                }
                for name in unused {
                    deps.remove(&name);
                }
            }
        }
        let mut specs: Vec<(Vec<String>, String)> = Vec::new();
        if let Some(patch) = doc.get("patch").and_then(|p| p.as_table_like()) {
            for (registry, table) in patch.iter() {
                for (name, spec) in table.as_table_like().into_iter().flat_map(|t| t.iter()) {
                    if let Some(path) = spec.get("path").and_then(|p| p.as_str()) {
                        specs.push((
                            vec!["patch".into(), registry.into(), name.into()],
                            path.into(),
                        ));
                    }
                }
            }
        }
        if let Some(replace) = doc.get("replace").and_then(|p| p.as_table_like()) {
            for (name, spec) in replace.iter() {
                if let Some(path) = spec.get("path").and_then(|p| p.as_str()) {
                    specs.push((vec!["replace".into(), name.into()], path.into()));
                }
            }
        }
        for (keys, path) in specs {
            let Some(target) = self.locate(&root, &path) else {
                continue;
            };
            if !target.relocated {
                continue;
            }
            let new = relative("", &target.tar_dir);
            let mut item: Option<&mut Item> = Some(doc.as_item_mut());
            for k in &keys {
                item = item.and_then(|i| i.get_mut(k.as_str()));
            }
            if let Some(spec) = item.and_then(|i| i.as_table_like_mut()) {
                set_path(spec, &new);
            }
        }
        Ok(())
    }

    /// Every manifest of the tar: the root one first, then each other package's.
    pub fn manifests(&self) -> Result<Vec<Manifest>> {
        let mut out = Vec::new();
        let root_manifest = self.root.join("Cargo.toml");
        let mut root_doc = match self.get(&self.root) {
            Some(p) => p.doc.clone(),
            None => self.root_doc.clone(),
        };
        if let Some(p) = self.get(&self.root) {
            self.rewrite_paths(&mut root_doc, &p.dir, "", false)?;
        }
        self.rewrite_root(&mut root_doc)?;
        let text = root_doc.to_string();
        out.push(Manifest {
            tar_path: "Cargo.toml".into(),
            source: root_manifest,
            rewritten: (text != self.root_text).then_some(text),
        });
        for p in self.list.iter().filter(|p| p.dir != self.root) {
            let mut doc = p.doc.clone();
            self.rewrite_paths(&mut doc, &p.dir, &p.tar_dir, p.relocated)?;
            let text = doc.to_string();
            out.push(Manifest {
                tar_path: join(&p.tar_dir, "Cargo.toml"),
                source: p.manifest(),
                rewritten: (text != p.text).then_some(text),
            });
        }
        Ok(out)
    }

    /// Every manifest read to make the tar's manifests (for their modification times).
    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = vec![self.root.join("Cargo.toml")];
        for p in &self.list {
            all.push(p.manifest());
            all.extend(p.inputs.iter().cloned());
        }
        all.sort();
        all.dedup();
        all
    }

    /// The relocated packages, by tar directory.
    pub fn relocated(&self) -> BTreeMap<&str, &Package> {
        self.list
            .iter()
            .filter(|p| p.relocated)
            .map(|p| (p.tar_dir.as_str(), p))
            .collect()
    }
}

/// `prefix/rel` as a tar path.
pub fn join(prefix: &str, rel: &str) -> String {
    match (prefix.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}/{rel}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_between_tar_dirs() {
        assert_eq!(relative("", ".s2i/path-deps/a"), ".s2i/path-deps/a");
        assert_eq!(relative(".s2i/path-deps/a", ".s2i/path-deps/b"), "../b");
        assert_eq!(
            relative(".s2i/path-deps/a", "crates/x"),
            "../../../crates/x"
        );
        assert_eq!(relative("crates/x", ""), "../..");
        assert_eq!(relative("a", "a"), ".");
    }

    #[test]
    fn cleans_paths_for_messages() {
        assert_eq!(clean(Path::new("/a/b/../c/./d")), Path::new("/a/c/d"));
        assert_eq!(clean(Path::new("../x")), Path::new("../x"));
    }

    #[test]
    fn joins_tar_paths() {
        assert_eq!(join("", "Cargo.toml"), "Cargo.toml");
        assert_eq!(join("a/b", "Cargo.toml"), "a/b/Cargo.toml");
        assert_eq!(join("a", ""), "a");
    }

    #[test]
    #[allow(clippy::too_many_lines)] // rewritten by issue 18 (one chain)
    fn inlines_workspace_inheritance_of_a_relocated_package() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("libs");
        std::fs::create_dir_all(ws.join("shared")).unwrap();
        std::fs::write(
            ws.join("Cargo.toml"),
            r#"[workspace]
members = ["lib", "shared"]

[workspace.package]
version = "1.2.3"
edition = "2021"
readme = "README.md"

[workspace.dependencies]
serde = { version = "1", features = ["derive"] }
anyhow = "1"
shared = { path = "shared" }

[workspace.lints.rust]
unsafe_code = "forbid"
"#,
        )
        .unwrap();
        let lib = ws.join("lib");
        std::fs::create_dir_all(&lib).unwrap();
        let mut doc: DocumentMut = r#"[package]
name = "lib"
version.workspace = true
edition = { workspace = true }
readme.workspace = true

[dependencies]
serde = { workspace = true, features = ["rc"], optional = true }
anyhow.workspace = true
shared = { workspace = true }

[target.'cfg(unix)'.dev-dependencies]
anyhow = { workspace = true }

[lints]
workspace = true
"#
        .parse()
        .unwrap();
        let used = inline_inheritance(&mut doc, &lib).unwrap();
        assert_eq!(used, Some(ws.join("Cargo.toml")));
        let text = doc.to_string();
        let v: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(v["package"]["version"].as_str(), Some("1.2.3"), "{text}");
        assert_eq!(v["package"]["edition"].as_str(), Some("2021"), "{text}");
        assert!(v["package"].get("readme").is_none(), "{text}");
        let serde = &v["dependencies"]["serde"];
        assert_eq!(serde["version"].as_str(), Some("1"));
        assert_eq!(
            serde["features"].as_array().unwrap().len(),
            2,
            "features merged: {text}"
        );
        assert_eq!(serde["optional"].as_bool(), Some(true));
        assert_eq!(v["dependencies"]["anyhow"]["version"].as_str(), Some("1"));
        assert_eq!(
            v["dependencies"]["shared"]["path"].as_str(),
            Some(ws.join("shared").display().to_string().as_str())
        );
        assert_eq!(
            v["target"]["cfg(unix)"]["dev-dependencies"]["anyhow"]["version"].as_str(),
            Some("1")
        );
        assert_eq!(
            v["lints"]["rust"]["unsafe_code"].as_str(),
            Some("forbid"),
            "{text}"
        );
        assert!(!text.contains("workspace"), "{text}");
    }

    #[test]
    fn inheritance_without_a_workspace_teaches() {
        let tmp = tempfile::tempdir().unwrap();
        let mut doc: DocumentMut = "[package]\nname = \"x\"\nversion.workspace = true\n"
            .parse()
            .unwrap();
        let err = inline_inheritance(&mut doc, tmp.path()).unwrap_err();
        assert!(format!("{err:#}").contains("no `Cargo.toml` with `[workspace]`"));
    }
}
