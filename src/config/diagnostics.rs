//! The wording of configuration errors: where a value came from ([`Source`]), the error that
//! names the file, the line and the key ([`ConfigError`]), and the phrases shared by every check
//! (unknown keys with a "did you mean", serde's type errors in the words of TOML).
//!
//! Nothing here decides whether a value is valid; [`super::validate`] and [`super::raw`] do, and
//! come here to say so.

use std::fmt;
use std::path::PathBuf;

use cargo_metadata::{Metadata, Package};
use serde_json::Value;

use super::keys::{self, a_or_an};
use crate::names;

/// A configuration error that names the file, the key (and its line when it can be found), what
/// is wrong, and what would be valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the invalid value was written.
    pub origin: Origin,
    /// Full dotted key, e.g. `package.metadata.s2i.okd.git-uri`.
    pub key: String,
    pub message: String,
    pub note: Option<String>,
}

/// Where an invalid value was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A manifest, and the 1-based line of the key when it can be found.
    File { path: PathBuf, line: Option<usize> },
    /// A command-line flag, or the environment variable that stands in for it.
    Flag {
        flag: &'static str,
        env: &'static str,
    },
}

impl ConfigError {
    /// The error without its note: which key, where it came from, and what is wrong.
    pub fn headline(&self) -> String {
        let key = &self.key;
        let message = &self.message;
        match &self.origin {
            Origin::File {
                path,
                line: Some(line),
            } => format!("invalid `{key}` in `{}:{line}`: {message}", path.display()),
            Origin::File { path, line: None } => {
                format!("invalid `{key}` in `{}`: {message}", path.display())
            }
            Origin::Flag { flag, env } => {
                format!("invalid `{key}` from `{flag}` or `{env}`: {message}")
            }
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if let Some(note) = &self.note {
            write!(f, "\nnote: {note}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Where a key's value came from: the package's manifest or the workspace root's.
pub(super) struct Source {
    pub(super) file: PathBuf,
    pub(super) text: String,
    /// The table of the keys, e.g. `package.metadata.s2i`.
    pub(super) prefix: &'static [&'static str],
    /// The table as `cargo metadata` reports it; `Null` when the manifest has none.
    pub(super) value: Value,
}

impl Source {
    /// `[package.metadata.s2i]` of `package`.
    pub(super) fn package(package: &Package) -> Source {
        let file = package.manifest_path.clone().into_std_path_buf();
        Source {
            text: read(&file),
            file,
            prefix: &["package", "metadata", "s2i"],
            value: package.metadata.get("s2i").cloned().unwrap_or(Value::Null),
        }
    }

    /// `[workspace.metadata.s2i]` of the workspace root's manifest.
    pub(super) fn workspace(metadata: &Metadata) -> Source {
        let file = metadata
            .workspace_root
            .join("Cargo.toml")
            .into_std_path_buf();
        Source {
            text: read(&file),
            file,
            prefix: &["workspace", "metadata", "s2i"],
            value: metadata
                .workspace_metadata
                .get("s2i")
                .cloned()
                .unwrap_or(Value::Null),
        }
    }

    /// Whether the table sets the key at `path`.
    pub(super) fn has(&self, path: &[&str]) -> bool {
        let mut v = &self.value;
        for seg in path {
            match v.get(seg) {
                Some(next) => v = next,
                None => return false,
            }
        }
        true
    }

    /// The error about the key at `path` (relative to the table), with its line.
    pub(super) fn error(
        &self,
        path: &[&str],
        message: String,
        note: Option<String>,
    ) -> ConfigError {
        let full: Vec<&str> = self
            .prefix
            .iter()
            .copied()
            .chain(path.iter().copied())
            .collect();
        ConfigError {
            origin: Origin::File {
                path: self.file.clone(),
                line: locate(&self.text, &full),
            },
            key: dotted_key(&full),
            message,
            note,
        }
    }
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A key path as TOML writes it: `labels."com.example.team"`, with quotes and escapes wherever a
/// segment is not a bare key, so the path is unambiguous and a hostile key cannot forge a message.
pub fn dotted_key(path: &[&str]) -> String {
    path.iter()
        .map(|seg| {
            let bare = !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if bare {
                return seg.to_string();
            }
            let mut out = String::from("\"");
            for c in seg.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c.is_control() || names::is_bidi_control(c) => {
                        out.push_str(&format!("\\u{:04X}", u32::from(c)))
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The 1-based line of `path` (e.g. `package.metadata.s2i.port`) in a TOML text, following tables,
/// dotted keys, inline tables and arrays; the line of the deepest part of the path that exists.
pub fn locate(text: &str, path: &[&str]) -> Option<usize> {
    use toml_edit::{Item, Value as V};
    #[derive(Clone, Copy)]
    enum Node<'a> {
        Item(&'a Item),
        Value(&'a V),
    }
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut span: Option<std::ops::Range<usize>> = None;
    let mut node = Node::Item(doc.as_item());
    for seg in path {
        let table_like: Option<&dyn toml_edit::TableLike> = match node {
            Node::Item(Item::Table(t)) => Some(t as &dyn toml_edit::TableLike),
            Node::Item(Item::Value(V::InlineTable(t))) | Node::Value(V::InlineTable(t)) => {
                Some(t as &dyn toml_edit::TableLike)
            }
            _ => None,
        };
        let array = match node {
            Node::Item(Item::Value(V::Array(a))) | Node::Value(V::Array(a)) => Some(a),
            _ => None,
        };
        if let Some(t) = table_like {
            let Some((key, child)) = t.get_key_value(seg) else {
                break;
            };
            if let Some(s) = key.span().or_else(|| child.span()) {
                span = Some(s);
            }
            node = Node::Item(child);
        } else if let Some(a) = array {
            let Some(child) = seg.parse::<usize>().ok().and_then(|i| a.get(i)) else {
                break;
            };
            if let Some(s) = child.span() {
                span = Some(s);
            }
            node = Node::Value(child);
        } else {
            break;
        }
    }
    span.map(|s| line_of(text, s.start))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map(|t| t.matches('\n').count() + 1)
        .unwrap_or(1)
}

/// Refuses the first key of the table at `at` that is not one of `valid`, with a "did you mean"
/// when one of them is close.
pub(super) fn check_keys(
    src: &Source,
    at: &[&str],
    table: &Value,
    valid: &[&str],
) -> Result<(), ConfigError> {
    let Value::Object(map) = table else {
        return Ok(());
    };
    let Some(key) = map.keys().find(|k| !valid.contains(&k.as_str())) else {
        return Ok(());
    };
    let mut path: Vec<&str> = at.to_vec();
    path.push(key);
    let table_name = src
        .prefix
        .iter()
        .chain(at.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(".");
    let suggestion = valid
        .iter()
        .map(|v| {
            (
                strsim::jaro_winkler(&key.to_lowercase().replace('_', "-"), v),
                *v,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v);
    let list = valid
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let note = match suggestion {
        Some(s) => format!("did you mean `{s}`? the keys of `[{table_name}]` are {list}"),
        None => format!("the keys of `[{table_name}]` are {list}"),
    };
    Err(src.error(
        &path,
        format!(
            "unknown key `{}` in `[{table_name}]`",
            names::printable(key)
        ),
        Some(note),
    ))
}

/// TOML has no null: cargo writes `nan` and `inf` as null, which would silently read as unset.
/// The error about the first one, if any.
pub(super) fn nan_or_inf(src: &Source) -> Option<ConfigError> {
    let mut path = Vec::new();
    if !find_null(&src.value, &mut path) {
        return None;
    }
    let path_refs: Vec<&str> = path.iter().map(String::as_str).collect();
    let note = keys::key_doc(&path_refs).map(keys::takes);
    Some(src.error(
        &path_refs,
        "found `nan` or `inf`, which no key takes".into(),
        note,
    ))
}

/// Finds the first null (a TOML `nan` or `inf` after cargo's JSON) and its path.
fn find_null(v: &Value, path: &mut Vec<String>) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            path.push(i.to_string());
            find_null(item, path) || {
                path.pop();
                false
            }
        }),
        Value::Object(map) => map.iter().any(|(k, item)| {
            path.push(k.clone());
            find_null(item, path) || {
                path.pop();
                false
            }
        }),
        _ => false,
    }
}

/// serde's error `inner` about the value at `path`, in the words of TOML: what the key takes and
/// what was found instead.
pub(super) fn type_error(
    src: &Source,
    path: &serde_path_to_error::Path,
    inner: &str,
) -> ConfigError {
    let path: Vec<String> = path
        .iter()
        .filter_map(|seg| match seg {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            _ => None,
        })
        .collect();
    let path_refs: Vec<&str> = path.iter().map(String::as_str).collect();
    let doc = keys::key_doc(&path_refs);
    let note = doc.map(keys::takes);
    // The type the key itself documents, when the error is about the key's own value.
    let own = doc
        .filter(|d| path_refs.last() == Some(&d.key))
        .map(|d| a_or_an(d.ty));
    let found = value_at(&src.value, &path_refs)
        .map(describe)
        .unwrap_or_else(|| "something else".into());
    let expected = || {
        own.clone().unwrap_or_else(|| {
            inner
                .rsplit_once(", expected ")
                .map(|(_, exp)| serde_expected(exp))
                .unwrap_or_else(|| "another type".into())
        })
    };
    let message = if inner.starts_with("invalid type: ") || inner.starts_with("invalid length ") {
        format!("wrong type: expected {}, found {found}", expected())
    } else if inner.starts_with("invalid value: ") {
        let exp = inner
            .rsplit_once(", expected ")
            .map(|(_, exp)| serde_expected(exp))
            .unwrap_or_else(expected);
        format!("{found} is out of range: expected {exp}")
    } else if let Some(rest) = inner.strip_prefix("unknown variant ") {
        format!("unknown value {rest}")
    } else {
        inner.to_string()
    };
    src.error(&path_refs, message, note)
}

fn value_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, seg| match v {
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => v.get(seg),
    })
}

/// What a value is, in the words of TOML.
fn describe(v: &Value) -> String {
    const SHOWN: usize = 40;
    match v {
        Value::String(s) => {
            let shown: String = s.chars().take(SHOWN).collect();
            let more = if s.chars().count() > SHOWN { "…" } else { "" };
            format!("the string `\"{}{more}\"`", names::printable(&shown))
        }
        Value::Number(n) => format!("the number `{n}`"),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Array(_) => "an array".into(),
        Value::Object(m) if m.len() == 1 && m.contains_key("$__toml_private_datetime") => {
            "a date-time".into()
        }
        Value::Object(_) => "a table".into(),
        Value::Null => "`nan` or `inf`".into(),
    }
}

/// serde's name of an expected type, in the words of TOML.
fn serde_expected(exp: &str) -> String {
    match exp {
        "i8" | "i16" | "i32" | "i64" | "i128" => "an integer".into(),
        "u8" => "an integer from 0 to 255".into(),
        "u16" => "an integer from 0 to 65535".into(),
        "u32" => "an integer from 0 to 4294967295".into(),
        "u64" | "u128" | "usize" => "a non-negative integer".into(),
        "f32" | "f64" => "a number".into(),
        "a sequence" => "an array".into(),
        "a map" => "a table".into(),
        e if e.starts_with("struct ") => "a table".into(),
        e => e.into(),
    }
}

/// What kind of JSON value `v` is, in the words of TOML.
pub(super) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_keys() {
        let text = "[package]\nname = \"a\"\n\n[package.metadata.s2i]\nport = 80\nuser = { builder = 0 }\nfeatures = [\"a\", \"b\"]\n\n[package.metadata.s2i.okd]\ngit-uri = \"x\"\n";
        assert_eq!(
            locate(text, &["package", "metadata", "s2i", "port"]),
            Some(5)
        );
        assert_eq!(
            locate(text, &["package", "metadata", "s2i", "user", "builder"]),
            Some(6)
        );
        assert_eq!(
            locate(text, &["package", "metadata", "s2i", "features", "1"]),
            Some(7)
        );
        assert_eq!(
            locate(text, &["package", "metadata", "s2i", "okd", "git-uri"]),
            Some(10)
        );
        assert_eq!(
            locate(text, &["package", "metadata", "s2i", "nope"]),
            Some(4)
        );
        assert_eq!(locate("not toml [", &["a"]), None);
    }
}
