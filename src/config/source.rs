//! Where a value of the configuration was written: the manifest and its table ([`Source`]), the
//! line of a key in it ([`locate`]) and the key as TOML writes it ([`dotted_key`]): the
//! [`Location`] of a configuration [`Error`].
//!
//! Nothing here decides whether a value is valid; the domains do, and come here to say where.

use std::path::PathBuf;

use cargo_metadata::{Metadata, Package};
use serde_json::Value;

use crate::names;
use crate::{Error, Location};

/// The key of the package table whose sub-tables are services of one binary each.
pub(super) const BINS: &str = "bins";

/// Where a key's value came from: the package's manifest or the workspace root's.
pub(super) struct Source {
    pub(super) file: PathBuf,
    pub(super) text: String,
    /// The table of the keys, e.g. `package.metadata.s2i`.
    pub(super) prefix: Vec<String>,
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
            prefix: ["package", "metadata", "s2i"].map(String::from).to_vec(),
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
            prefix: ["workspace", "metadata", "s2i"].map(String::from).to_vec(),
            value: metadata
                .workspace_metadata
                .get("s2i")
                .cloned()
                .unwrap_or(Value::Null),
        }
    }

    /// `[package.metadata.s2i.bins.<name>]` of the package table `pkg`.
    pub(super) fn bin(pkg: &Source, name: &str) -> Source {
        let mut prefix = pkg.prefix.clone();
        prefix.extend([BINS.to_string(), name.to_string()]);
        Source {
            file: pkg.file.clone(),
            text: pkg.text.clone(),
            prefix,
            value: pkg.value[BINS][name].clone(),
        }
    }

    /// Whether this is a package's `[package.metadata.s2i]` (the one table with `bins`).
    pub(super) fn is_package_table(&self) -> bool {
        self.prefix.len() == 3 && self.prefix[0] == "package"
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
    pub(super) fn error(&self, path: &[&str], message: String, note: Option<String>) -> Error {
        let full: Vec<&str> = self
            .prefix
            .iter()
            .map(String::as_str)
            .chain(path.iter().copied())
            .collect();
        let e = Error::new(message).at(Location::Key {
            file: self.file.clone(),
            line: locate(&self.text, &full),
            key: dotted_key(&full),
        });
        match note {
            Some(note) => e.note(note),
            None => e,
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
