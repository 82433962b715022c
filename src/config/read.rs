//! Passes one and two over one manifest's table: unknown keys (with a "did you mean"), then types
//! (through serde, with the path of the offending key), in the words of TOML.
//!
//! Both passes read the key rows of the domains ([`super::KEYS`], [`super::OKD_KEYS`]), so a key
//! declared in its domain's `layer!` is known here without being named.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::layer::{Inherit, KeyDoc};
use super::source::Source;
use super::{KEYS, OKD_KEYS};
use crate::Error;
use crate::names;

/// Pass one: the keys of every table against the documented ones, then the keys that belong to
/// one package refused in `[workspace.metadata.s2i]`.
pub(super) fn known_keys(src: &Source) -> Result<(), Error> {
    let bins: &[&str] = match src.is_package_table() {
        true => &[super::source::BINS],
        false => &[],
    };
    check_table(src, &[], &src.value, KEYS, bins)?;
    if let Some(okd) = src.value.get("okd").filter(|v| v.is_object()) {
        check_table(src, &["okd"], okd, OKD_KEYS, &[])?;
    }
    Ok(())
}

/// The keys of the table at `at`, and of its sub-tables of fixed keys.
fn check_table(
    src: &Source,
    at: &[&str],
    table: &Value,
    docs: &[KeyDoc],
    extra: &[&str],
) -> Result<(), Error> {
    let mut names: Vec<&str> = docs.iter().map(|k| k.key).collect();
    names.extend(extra);
    check_keys(src, at, table, &names)?;
    for doc in docs.iter().filter(|d| !d.table.is_empty()) {
        if let Some(sub) = table.get(doc.key).filter(|v| v.is_object()) {
            let path: Vec<&str> = at.iter().copied().chain([doc.key]).collect();
            check_keys(src, &path, sub, doc.table)?;
        }
    }
    Ok(())
}

/// Keys that name one package's images, binary or place in the repository make no sense as
/// workspace defaults (every package would get the same); say so instead of ignoring them.
pub(super) fn refuse_per_package(ws: &Source) -> Result<(), Error> {
    let tables: [(&[&str], &[KeyDoc]); 2] = [(&[], KEYS), (&["okd"], OKD_KEYS)];
    for (at, docs) in tables {
        for doc in docs.iter().filter(|d| d.inherit == Inherit::PerPackage) {
            let path: Vec<&str> = at.iter().copied().chain([doc.key]).collect();
            if ws.has(&path) {
                let key = path.join(".");
                return Err(ws.error(
                    &path,
                    format!("`{key}` belongs to one package and cannot be a workspace default"),
                    Some(format!(
                        "move `{key}` to the `[package.metadata.s2i]` of the package it is for"
                    )),
                ));
            }
        }
    }
    Ok(())
}

/// A type error met by serde: the path of the value, and serde's words.
pub(super) struct TypeError {
    path: Vec<String>,
    inner: String,
}

/// Pass two for one layer: reads `T` from `value`, the table at `at`. On a type error the error
/// goes to `errors` and the layer is left empty; [`first_error`] then reports it.
pub(super) fn layer<T: DeserializeOwned + Default>(
    value: &Value,
    at: &[&str],
    errors: &mut Vec<TypeError>,
) -> T {
    serde_path_to_error::deserialize::<_, T>(value).unwrap_or_else(|e| {
        let mut path: Vec<String> = at.iter().map(|s| s.to_string()).collect();
        path.extend(e.path().iter().filter_map(|seg| match seg {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            _ => None,
        }));
        errors.push(TypeError {
            path,
            inner: e.inner().to_string(),
        });
        T::default()
    })
}

/// The type error serde meets first when it reads the whole table (its keys in sorted order),
/// whichever layer found it.
pub(super) fn first_error(src: &Source, errors: Vec<TypeError>) -> Result<(), Error> {
    match errors.into_iter().min_by(|a, b| a.path.cmp(&b.path)) {
        Some(e) => Err(type_error(src, &e.path, &e.inner)),
        None => Ok(()),
    }
}

/// Refuses the first key of the table at `at` that is not one of `valid`, with a "did you mean"
/// when one of them is close.
fn check_keys(src: &Source, at: &[&str], table: &Value, valid: &[&str]) -> Result<(), Error> {
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
        .map(String::as_str)
        .chain(at.iter().copied())
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
pub(super) fn nan_or_inf(src: &Source) -> Option<Error> {
    let mut path = Vec::new();
    if !find_null(&src.value, &mut path) {
        return None;
    }
    let path_refs: Vec<&str> = path.iter().map(String::as_str).collect();
    let note = key_doc(&path_refs).map(takes);
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
fn type_error(src: &Source, path: &[String], inner: &str) -> Error {
    let path_refs: Vec<&str> = path.iter().map(String::as_str).collect();
    let doc = key_doc(&path_refs);
    let note = doc.map(takes);
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

/// The documentation of the key at `path` (a top-level key, or an `okd` key below `okd`).
pub(super) fn key_doc(path: &[&str]) -> Option<&'static KeyDoc> {
    let first = path.first()?;
    // No let chains here: a build.rs compiles this module, maybe with rustc 1.85.
    if let ("okd", Some(k)) = (*first, path.get(1)) {
        return OKD_KEYS.iter().find(|d| d.key == *k);
    }
    KEYS.iter().find(|d| d.key == *first)
}

/// "`key` takes a string, e.g. `key = "x"`": the note of a wrong value.
fn takes(doc: &KeyDoc) -> String {
    format!(
        "`{}` takes {}, e.g. `{}`",
        doc.key,
        a_or_an(doc.ty),
        doc.example
    )
}

/// `a string`, `an integer`.
fn a_or_an(ty: &str) -> String {
    if ty.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {ty}")
    } else {
        format!("a {ty}")
    }
}
