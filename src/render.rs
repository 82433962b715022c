//! The templates: the defaults embedded in the binary, the user's overrides under
//! `.s2i/templates/`, and strict rendering with the escaping filters that keep values from
//! `Cargo.toml` from turning into Dockerfile instructions or shell commands.

use std::path::{Path, PathBuf};

use crate::Error;
use anyhow::{Context, Result};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// Where a user puts templates that replace the defaults, relative to the workspace root.
pub const OVERRIDE_DIR: &str = ".s2i/templates";

/// A default template: its relative name, its text and the mode of the file it renders to.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub name: &'static str,
    pub text: &'static str,
    pub mode: u32,
}

/// Every template, in the order they are rendered.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "builder.Dockerfile",
        text: include_str!("../templates/builder.Dockerfile"),
        mode: 0o644,
    },
    Template {
        name: "runtime.Dockerfile",
        text: include_str!("../templates/runtime.Dockerfile"),
        mode: 0o644,
    },
    Template {
        name: "s2i/bin/assemble",
        text: include_str!("../templates/s2i/bin/assemble"),
        mode: 0o755,
    },
    Template {
        name: "s2i/bin/run",
        text: include_str!("../templates/s2i/bin/run"),
        mode: 0o755,
    },
    Template {
        name: "s2i/bin/save-artifacts",
        text: include_str!("../templates/s2i/bin/save-artifacts"),
        mode: 0o755,
    },
    Template {
        name: "s2i/bin/usage",
        text: include_str!("../templates/s2i/bin/usage"),
        mode: 0o755,
    },
];

/// The templates in effect for one workspace: defaults, replaced by the user's files.
pub struct Templates {
    env: Environment<'static>,
    /// The override files that were found, for the input digest and for messages.
    pub overrides: Vec<PathBuf>,
}

impl Templates {
    /// Loads the defaults and every override under `<workspace_root>/.s2i/templates/`.
    pub fn load(workspace_root: &Path) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()?,
        );
        env.add_filter("dq", dockerfile_quote);
        env.add_filter("sh", shell_quote);
        env.add_filter("json", json_string);
        let mut overrides = Vec::new();
        for t in TEMPLATES {
            let path = workspace_root.join(OVERRIDE_DIR).join(t.name);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => {
                    overrides.push(path.clone());
                    text
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => t.text.to_string(),
                Err(e) => {
                    return Err(e).with_context(|| format!("failed to read `{}`", path.display()));
                }
            };
            env.add_template_owned(t.name.to_string(), text)
                .with_context(|| match overrides.last() {
                    Some(p) if p == &path => format!(
                        "the template override `{}` does not parse (delete it to use the default, or `--eject` into an empty `{OVERRIDE_DIR}` for a fresh copy)",
                        path.display()
                    ),
                    _ => format!("the built-in template `{}` does not parse", t.name),
                })?;
        }
        Ok(Templates { env, overrides })
    }

    /// Whether `.s2i/templates/<name>` replaces the default template `name`.
    pub fn is_overridden(&self, name: &str) -> bool {
        self.overrides.iter().any(|p| p.ends_with(name))
    }

    /// Renders one template; an undefined variable is an error naming the template.
    pub fn render(&self, name: &str, ctx: &impl Serialize) -> Result<String> {
        let tmpl = self.env.get_template(name)?;
        tmpl.render(minijinja::Value::from(minijinja::value::Serde(ctx)))
            .map_err(|e| self.render_error(name, ctx, e))
    }

    /// Renders only the block `block` of the template `name` (the builder's `setup`, the
    /// command of its `RUN`).
    pub fn render_block(&self, name: &str, block: &str, ctx: &impl Serialize) -> Result<String> {
        let tmpl = self.env.get_template(name)?;
        tmpl.render_captured(minijinja::Value::from(minijinja::value::Serde(ctx)))
            .and_then(|mut captured| captured.with_state_mut(|state| state.render_block(block)))
            .map_err(|e| self.render_error(name, ctx, e))
    }

    /// The error of rendering the template `name`: which file, and what would help.
    fn render_error(&self, name: &str, ctx: &impl Serialize, e: minijinja::Error) -> anyhow::Error {
        let origin = self
            .overrides
            .iter()
            .find(|p| p.ends_with(name))
            .map(|p| format!("the template override `{}`", p.display()))
            .unwrap_or_else(|| format!("the built-in template `{name}`"));
        let error = Error::new(format!("failed to render {origin}: {e:#}"));
        match e.kind() {
            minijinja::ErrorKind::UndefinedError => {
                let vars = serde_json::to_value(ctx)
                    .ok()
                    .and_then(|v| {
                        v.as_object()
                            .map(|m| m.keys().map(|k| format!("`{k}`")).collect::<Vec<_>>())
                    })
                    .unwrap_or_default();
                error
                    .note(format!(
                        "templates render with strict undefined variables; the variables \
                         are {}",
                        vars.join(", ")
                    ))
                    .note("`cargo xtask image --eject` writes the default templates to start from")
            }
            minijinja::ErrorKind::UnknownFilter => error.note(
                "besides minijinja's built-in filters, templates have `dq` (a Dockerfile \
                 double-quoted string), `sh` (a single-quoted shell word) and `json` (a JSON \
                 string)",
            ),
            _ => error,
        }
        .into()
    }
}

/// `--eject`: writes the default templates to `.s2i/templates/`, leaving existing files alone.
/// Returns the files written and the files skipped because they exist.
pub fn eject(workspace_root: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let (mut written, mut skipped) = (Vec::new(), Vec::new());
    for t in TEMPLATES {
        let path = workspace_root.join(OVERRIDE_DIR).join(t.name);
        if path.exists() {
            skipped.push(path);
        } else {
            crate::files::write_atomic(&path, t.text.as_bytes(), t.mode)?;
            written.push(path);
        }
    }
    Ok((written, skipped))
}

fn check_one_line(value: &str) -> Result<(), minijinja::Error> {
    if value.chars().any(|c| c.is_control()) {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "a value with a control character (newline, tab, ...) cannot be put in a Dockerfile or script",
        ));
    }
    Ok(())
}

/// A Dockerfile double-quoted string: `\`, `"` and `$` are escaped, control characters refused.
pub fn dockerfile_quote(value: String) -> Result<String, minijinja::Error> {
    check_one_line(&value)?;
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A POSIX shell single-quoted word: `'` becomes `'\''`, control characters refused.
pub fn shell_quote(value: String) -> Result<String, minijinja::Error> {
    check_one_line(&value)?;
    Ok(format!("'{}'", value.replace('\'', r"'\''")))
}

/// A JSON string literal (for Dockerfile exec-form arrays).
pub fn json_string(value: String) -> Result<String, minijinja::Error> {
    check_one_line(&value)?;
    serde_json::to_string(&value)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(
            dockerfile_quote(r#"a"b$c\d"#.into()).unwrap(),
            r#""a\"b\$c\\d""#
        );
        assert!(dockerfile_quote("a\nRUN x".into()).is_err());
        assert_eq!(shell_quote("it's".into()).unwrap(), r"'it'\''s'");
        assert!(shell_quote("a\nb".into()).is_err());
        assert_eq!(json_string("/a\"b".into()).unwrap(), r#""/a\"b""#);
    }
}
