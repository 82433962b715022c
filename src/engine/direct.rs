//! Images assembled straight through the Engine API when their rendered Dockerfile allows it.
//!
//! The classic builder turns every instruction into a container and a commit, 1.5–2 s each on
//! fuse-overlayfs: 17 s for the few lines of the builder Dockerfile, 6 s for the runtime's. The
//! two Dockerfiles this tool renders are simple enough to be carried out directly, with the same
//! image as the result:
//!
//! - the builder (`FROM <base>`, metadata, `COPY`s of context paths, at most one `RUN`): one
//!   container from the base with the `COPY`s uploaded and the `RUN` as its command, committed
//!   with the metadata instructions as the commit's `changes`;
//! - the runtime (`FROM scratch`, metadata, one `COPY` of the binary): one import of a tar of
//!   the binary with the metadata instructions as `changes`.
//!
//! The engine applies `changes` with its own reading of Dockerfile instructions, so `LABEL`,
//! `ENV`, `USER`, `CMD` and the rest mean what they mean in `docker build`. Docker and Podman
//! read them differently beyond the plainest form ([`super::flavor`]), so every change is one
//! single-line instruction, one `key="value"` pair per `LABEL` and `ENV`, with values free of
//! quotes, backslashes and `$`: the form both engines read alike. This module only interprets
//! what it must carry out itself (`FROM`, `COPY`, `RUN` and the `ENV`/`USER`/`WORKDIR` a `RUN`
//! sees), and only in their plain forms. A Dockerfile outside that subset (an override in
//! `.s2i/templates/` with `ARG`, a second `RUN`, `ADD`, `COPY --chown`, a label value with a
//! quote, ...) is built with `docker build`, and the reason is logged.

use super::archive;
use crate::plan::RenderedFile;

/// The `PATH` the classic builder gives an image whose base has none (`FROM scratch`, imported
/// root filesystems).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Metadata instructions the engine applies on commit and import.
const METADATA: &[&str] = &[
    "LABEL",
    "ENV",
    "EXPOSE",
    "USER",
    "WORKDIR",
    "CMD",
    "ENTRYPOINT",
];

/// A builder Dockerfile that one container and one commit can carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Builder {
    /// The `FROM` image.
    pub from: String,
    /// The tar of the `COPY`ed files, to be extracted at `/` of the container.
    pub copies: Vec<u8>,
    /// The `RUN` and the state it runs in.
    pub run: Option<Run>,
    /// The metadata instructions, in order, one single-line instruction each: the commit's
    /// `changes`.
    pub changes: Vec<String>,
}

/// The one `RUN` of a builder Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The shell-form command (`/bin/sh -c` runs it).
    pub command: String,
    /// The `USER` in effect, if any.
    pub user: Option<String>,
    /// The `WORKDIR` in effect, if any.
    pub workdir: Option<String>,
    /// The `ENV`s declared before it, in order.
    pub env: Vec<(String, String)>,
}

/// A runtime Dockerfile that one import can carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// The context file that is copied (the binary).
    pub source: String,
    /// Where it goes, relative to `/`.
    pub dest: String,
    /// The context directory of the runtime files copied to `/` before the binary
    /// ([`crate::plan::RUNTIME_CONTEXT_DIR`]), when the Dockerfile copies it.
    pub files_dir: Option<String>,
    /// The metadata instructions, in order, one single-line instruction each: the import's
    /// `changes`.
    pub changes: Vec<String>,
}

/// One instruction of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Instruction {
    /// The keyword, upper case.
    keyword: String,
    /// The arguments: the logical line after the keyword, continuations joined.
    args: String,
}

/// The instructions of a Dockerfile, or why this module does not read it.
fn instructions(dockerfile: &str) -> Result<Vec<Instruction>, String> {
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut directives = true;
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if directives && trimmed.starts_with('#') {
            let directive = trimmed
                .trim_start_matches('#')
                .trim_start()
                .to_ascii_lowercase();
            if directive.starts_with("escape") && directive.contains('=') {
                return Err("has an `escape` parser directive".into());
            }
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        directives = false;
        let body = line.trim_end();
        match body.strip_suffix('\\') {
            Some(head) => logical.push_str(head),
            None => {
                logical.push_str(body);
                out.push(instruction(&logical));
                logical.clear();
            }
        }
    }
    if !logical.trim().is_empty() {
        out.push(instruction(&logical));
    }
    Ok(out)
}

fn instruction(logical: &str) -> Instruction {
    let logical = logical.trim();
    let (keyword, args) = logical
        .split_once(char::is_whitespace)
        .unwrap_or((logical, ""));
    Instruction {
        keyword: keyword.to_ascii_uppercase(),
        args: args.trim().to_string(),
    }
}

/// The plain words of an instruction: no quotes, variables, escapes, JSON form or flags.
fn plain_words(i: &Instruction) -> Result<Vec<&str>, String> {
    if i.args.starts_with('[') {
        return Err(format!("uses the JSON form of `{}`", i.keyword));
    }
    if i.args.contains(['$', '"', '\'', '\\']) {
        return Err(format!(
            "has quotes, variables or escapes in `{}`",
            i.keyword
        ));
    }
    let words: Vec<&str> = i.args.split_whitespace().collect();
    if words.iter().any(|w| w.starts_with("--")) {
        return Err(format!("has flags on `{}`", i.keyword));
    }
    Ok(words)
}

/// The `key=value` pairs of an `ENV` in the form this tool renders: bare words and double-quoted
/// strings (in which `\"`, `\$` and `\\` are escapes, as in the engine's shell-word rules).
fn env_pairs(args: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut chars = args.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        let mut key: Option<String> = None;
        while let Some(c) = chars.next() {
            match c {
                c if c.is_whitespace() => break,
                '=' if key.is_none() => key = Some(std::mem::take(&mut word)),
                '"' => loop {
                    match chars.next() {
                        None => return Err("has an unterminated quote in `ENV`".into()),
                        Some('"') => break,
                        Some('$') => return Err("has variables in `ENV`".into()),
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '$' | '\\')) => word.push(e),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => return Err("has an unterminated quote in `ENV`".into()),
                        },
                        Some(c) => word.push(c),
                    }
                },
                '$' | '\'' | '\\' => {
                    return Err("has variables, single quotes or escapes in `ENV`".into());
                }
                c => word.push(c),
            }
        }
        match key {
            Some(k) if !k.is_empty() => pairs.push((k, word)),
            _ => return Err("has an `ENV` not in the `key=value` form".into()),
        }
    }
    if pairs.is_empty() {
        return Err("has an empty `ENV`".into());
    }
    Ok(pairs)
}

/// A metadata instruction as `changes`: one single-line instruction each, in the form Docker and
/// Podman read alike (see the module documentation), or why it has none.
fn single_line_changes(i: &Instruction) -> Result<Vec<String>, String> {
    let k = i.keyword.as_str();
    match k {
        "LABEL" | "ENV" => pairs(&i.args, k)?
            .into_iter()
            .map(|(key, value)| pair_change(k, &key, &value))
            .collect(),
        "CMD" | "ENTRYPOINT" if i.args.starts_with('[') => {
            let words: Vec<String> = serde_json::from_str(&i.args)
                .map_err(|_| format!("has a `{k}` that is not a JSON array of strings"))?;
            let json = serde_json::to_string(&words).map_err(|e| e.to_string())?;
            Ok(vec![format!("{k} {json}")])
        }
        "CMD" | "ENTRYPOINT" => Ok(vec![format!("{k} {}", i.args)]),
        _ => Ok(vec![format!("{k} {}", plain_words(i)?.join(" "))]),
    }
}

/// The `key=value` pairs of a `LABEL` or an `ENV`.
fn pairs(args: &str, keyword: &str) -> Result<Vec<(String, String)>, String> {
    env_pairs(args).map_err(|e| e.replace("`ENV`", &format!("`{keyword}`")))
}

/// `LABEL key="value"` or `ENV key="value"`: one pair, which both engines read as written when
/// the key is a plain name and the value has no quote, backslash, `$` or newline (Docker reads
/// escapes and variables in it, Podman only strips the quotes).
pub fn pair_change(keyword: &str, key: &str, value: &str) -> Result<String, String> {
    let plain_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:".contains(c));
    if !plain_key {
        return Err(format!(
            "has the `{keyword}` key `{key}`, which is not a plain name"
        ));
    }
    if value.contains(['"', '\\', '$', '\n', '\r']) {
        return Err(format!(
            "has a `{keyword}` value with quotes, backslashes, `$` or a newline (`{key}`), which \
             Docker and Podman read differently in a commit"
        ));
    }
    Ok(format!("{keyword} {key}=\"{value}\""))
}

/// An absolute path without `..`, or why not.
fn absolute(path: &str, what: &str) -> Result<(), String> {
    if !path.starts_with('/') || path.split('/').any(|c| c == "..") {
        return Err(format!("has a `{what}` that is not a plain absolute path"));
    }
    Ok(())
}

/// A context path (`./` and a trailing `/` removed), or why not.
fn context_path(source: &str) -> Result<String, String> {
    let s = source.trim_start_matches("./").trim_end_matches('/');
    if s.starts_with('/') || s.split('/').any(|c| c == "..") || s.contains(['*', '?', '[']) {
        return Err(format!(
            "copies `{source}`, which is not a plain context path"
        ));
    }
    Ok(if s == "." {
        String::new()
    } else {
        s.to_string()
    })
}

/// Checks the `FROM` line: one image, no flags, no stage name.
fn from(i: Option<&Instruction>) -> Result<String, String> {
    let Some(i) = i.filter(|i| i.keyword == "FROM") else {
        return Err("does not start with `FROM`".into());
    };
    match plain_words(i)?.as_slice() {
        [image] => Ok(image.to_string()),
        _ => Err("has a `FROM` with a stage name or more than an image".into()),
    }
}

/// Reads a builder Dockerfile whose build context is `context`.
pub fn builder(dockerfile: &str, context: &[RenderedFile]) -> Result<Builder, String> {
    let all = instructions(dockerfile)?;
    let from = from(all.first())?;
    let mut changes = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut run: Option<Run> = None;
    let mut user = None;
    let mut workdir: Option<String> = None;
    let mut env = Vec::new();
    let mut has_cmd = false;
    for i in &all[1..] {
        match i.keyword.as_str() {
            "COPY" if run.is_some() => return Err("has a `COPY` after its `RUN`".into()),
            "COPY" => entries.extend(copy_entries(i, context)?),
            "RUN" if run.is_some() => return Err("has more than one `RUN`".into()),
            "RUN" if i.args.starts_with('[') => {
                return Err("uses the JSON form of `RUN`".into());
            }
            "RUN" => {
                run = Some(Run {
                    command: i.args.clone(),
                    user: user.clone(),
                    workdir: workdir.clone(),
                    env: env.clone(),
                });
            }
            k if METADATA.contains(&k) => {
                if run.is_none() {
                    match k {
                        "ENV" => env.extend(env_pairs(&i.args)?),
                        "USER" => match plain_words(i)?.as_slice() {
                            [u] => user = Some(u.to_string()),
                            _ => return Err("has a `USER` that is not one word".into()),
                        },
                        "WORKDIR" => match plain_words(i)?.as_slice() {
                            [w] => {
                                absolute(w, "WORKDIR")?;
                                workdir = Some(w.to_string());
                            }
                            _ => return Err("has a `WORKDIR` that is not one path".into()),
                        },
                        _ => {}
                    }
                } else if k == "WORKDIR" {
                    // The classic builder creates the directory; a commit only records it.
                    return Err("has a `WORKDIR` after its `RUN`".into());
                }
                has_cmd |= k == "CMD";
                changes.extend(single_line_changes(i)?);
            }
            k => return Err(format!("has `{k}`, which only `docker build` carries out")),
        }
    }
    if !has_cmd {
        // The commit would keep the container's command (the `RUN`).
        return Err("has no `CMD`".into());
    }
    Ok(Builder {
        from,
        copies: entries_tar(&entries)?,
        run,
        changes,
    })
}

/// Reads a runtime Dockerfile whose context is the Dockerfile and the file `binary`.
pub fn runtime(dockerfile: &str, binary: &str) -> Result<Runtime, String> {
    let all = instructions(dockerfile)?;
    if !from(all.first())?.eq_ignore_ascii_case("scratch") {
        return Err("is not `FROM scratch`".into());
    }
    let mut changes = Vec::new();
    let mut copy = None;
    let mut files_dir = None;
    for i in &all[1..] {
        match i.keyword.as_str() {
            // `WORKDIR` would create a directory, which an import does not.
            "WORKDIR" => return Err("has a `WORKDIR`".into()),
            k if METADATA.contains(&k) => changes.extend(single_line_changes(i)?),
            "COPY" => match plain_words(i)?.as_slice() {
                [source, dest]
                    if files_dir.is_none()
                        && copy.is_none()
                        && source.trim_end_matches('/') == crate::plan::RUNTIME_CONTEXT_DIR
                        && *dest == "/" =>
                {
                    files_dir = Some(crate::plan::RUNTIME_CONTEXT_DIR.to_string());
                }
                _ if copy.is_some() => return Err("has more than one `COPY` of the binary".into()),
                [source, dest] if context_path(source)? == binary => {
                    absolute(dest, "COPY destination")?;
                    let dest = match dest.strip_suffix('/') {
                        Some(dir) => format!("{dir}/{binary}"),
                        None => dest.to_string(),
                    };
                    copy = Some(dest.trim_start_matches('/').to_string());
                }
                _ => return Err(format!("has a `COPY` of more than the binary `{binary}`")),
            },
            k => return Err(format!("has `{k}`, which only `docker build` carries out")),
        }
    }
    match copy {
        Some(dest) if !dest.is_empty() => Ok(Runtime {
            source: binary.to_string(),
            dest,
            files_dir,
            changes,
        }),
        _ => Err(format!("has no `COPY` of the binary `{binary}`")),
    }
}

/// One tar entry of the `COPY`s: a file with its contents, or a directory.
#[derive(Debug)]
struct Entry {
    path: String,
    contents: Option<Vec<u8>>,
    mode: u32,
}

/// The files of one `COPY` out of the context, at their destinations (relative to `/`). Only
/// directories inside a copied directory get an entry of their own: the destination and its
/// parents keep their metadata when they exist and are made `0755` by the engine when not, as
/// with `COPY`.
#[allow(clippy::too_many_lines)] // rewritten by issue 18 (one chain)
fn copy_entries(i: &Instruction, context: &[RenderedFile]) -> Result<Vec<Entry>, String> {
    let words = plain_words(i)?;
    let [sources @ .., dest] = words.as_slice() else {
        return Err("has a `COPY` without a destination".into());
    };
    if sources.is_empty() {
        return Err("has a `COPY` without a source".into());
    }
    absolute(dest, "COPY destination")?;
    let dest_dir = dest.trim_end_matches('/').trim_start_matches('/');
    let join = |rel: &str| {
        if dest_dir.is_empty() {
            rel.to_string()
        } else {
            format!("{dest_dir}/{rel}")
        }
    };
    let mut entries = Vec::new();
    for source in sources {
        let source = context_path(source)?;
        if let Some(file) = context.iter().find(|f| f.path == source) {
            if !dest.ends_with('/') {
                return Err(format!(
                    "copies the file `{source}` to `{dest}`, which does not end in `/`"
                ));
            }
            let name = source.rsplit('/').next().unwrap_or(&source);
            entries.push(Entry {
                path: join(name),
                contents: Some(file.contents.as_bytes().to_vec()),
                mode: file.mode,
            });
            continue;
        }
        let prefix = if source.is_empty() {
            String::new()
        } else {
            format!("{source}/")
        };
        let mut found = false;
        let mut dirs = std::collections::BTreeSet::new();
        for file in context.iter().filter(|f| f.path.starts_with(&prefix)) {
            found = true;
            let rel = &file.path[prefix.len()..];
            let mut parent = std::path::Path::new(rel).parent();
            while let Some(d) = parent.filter(|d| !d.as_os_str().is_empty()) {
                dirs.insert(d.to_string_lossy().into_owned());
                parent = d.parent();
            }
            entries.push(Entry {
                path: join(rel),
                contents: Some(file.contents.as_bytes().to_vec()),
                mode: file.mode,
            });
        }
        if !found {
            return Err(format!("copies `{source}`, which is not in the context"));
        }
        entries.extend(dirs.into_iter().map(|d| Entry {
            path: join(&d),
            contents: None,
            mode: 0o755,
        }));
    }
    Ok(entries)
}

/// The tar of the entries, directories first, then files, each in path order.
fn entries_tar(entries: &[Entry]) -> Result<Vec<u8>, String> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| (a.contents.is_some(), &a.path).cmp(&(b.contents.is_some(), &b.path)));
    let items = sorted.iter().map(|e| archive::Item {
        path: &e.path,
        contents: e.contents.as_deref(),
        mode: e.mode,
    });
    archive::items_tar(items).map_err(|e| format!("could not be packed: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, contents: &str, mode: u32) -> RenderedFile {
        RenderedFile {
            path: path.into(),
            contents: contents.into(),
            mode,
        }
    }

    fn context() -> Vec<RenderedFile> {
        vec![
            file("Dockerfile", "", 0o644),
            file("s2i/bin/assemble", "#!/bin/sh\n", 0o755),
            file("s2i/bin/run", "#!/bin/sh\n", 0o755),
            file("s2i/bin/lib/x", "x", 0o644),
            file("README", "r", 0o644),
        ]
    }

    fn tar_paths(tar: &[u8]) -> Vec<(String, u32)> {
        let mut a = tar::Archive::new(tar);
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.header().mode().unwrap(),
                )
            })
            .collect()
    }

    const BUILDER: &str = r#"# a comment
FROM localhost/base:1

LABEL a="b" \
      # a comment inside
      "io.k8s.display-name"="d e"
ENV APP_ROOT="/opt/app-root" \
    HOME="/opt/app-root"
USER 0
COPY s2i/bin/ /usr/libexec/s2i/
COPY README /opt/
WORKDIR /opt/app-root
RUN chmod 0755 /usr/libexec/s2i/* \
 && mkdir -p /opt/app-root/bin
USER 1001
CMD ["/usr/libexec/s2i/usage"]
"#;

    #[test]
    fn the_builder_subset_is_read() {
        let b = builder(BUILDER, &context()).unwrap();
        assert_eq!(b.from, "localhost/base:1");
        let run = b.run.unwrap();
        assert_eq!(
            run.command,
            "chmod 0755 /usr/libexec/s2i/*  && mkdir -p /opt/app-root/bin"
        );
        assert_eq!(run.user.as_deref(), Some("0"));
        assert_eq!(run.workdir.as_deref(), Some("/opt/app-root"));
        assert_eq!(
            run.env,
            [
                ("APP_ROOT".to_string(), "/opt/app-root".to_string()),
                ("HOME".to_string(), "/opt/app-root".to_string())
            ]
        );
        // One single-line instruction each, one pair per `LABEL` and `ENV`.
        assert_eq!(
            b.changes,
            [
                r#"LABEL a="b""#,
                r#"LABEL io.k8s.display-name="d e""#,
                r#"ENV APP_ROOT="/opt/app-root""#,
                r#"ENV HOME="/opt/app-root""#,
                "USER 0",
                "WORKDIR /opt/app-root",
                "USER 1001",
                r#"CMD ["/usr/libexec/s2i/usage"]"#,
            ]
        );
        assert_eq!(
            tar_paths(&b.copies),
            [
                ("usr/libexec/s2i/lib/".to_string(), 0o755),
                ("opt/README".to_string(), 0o644),
                ("usr/libexec/s2i/assemble".to_string(), 0o755),
                ("usr/libexec/s2i/lib/x".to_string(), 0o644),
                ("usr/libexec/s2i/run".to_string(), 0o755),
            ]
        );
    }

    #[test]
    fn env_values_follow_the_engine_quoting() {
        assert_eq!(
            env_pairs(r#"A="x \"y\" \$z \\ \n" B=bare"#).unwrap(),
            [
                ("A".to_string(), r#"x "y" $z \ \n"#.to_string()),
                ("B".to_string(), "bare".to_string())
            ]
        );
        for bad in [
            "A",
            "A=$X",
            "A='x'",
            r#"A="$X""#,
            "=x",
            r#"A="x"#,
            r"A=x\ y",
        ] {
            assert!(env_pairs(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn builder_dockerfiles_outside_the_subset_are_left_to_docker_build() {
        let cases = [
            ("ARG X\nFROM a\nCMD x\n", "does not start with `FROM`"),
            ("# escape=`\nFROM a\nCMD x\n", "`escape`"),
            ("FROM a AS b\nCMD x\n", "stage name"),
            ("FROM a\nRUN a\nRUN b\nCMD x\n", "more than one `RUN`"),
            ("FROM a\nRUN [\"a\"]\nCMD x\n", "JSON form of `RUN`"),
            ("FROM a\nRUN a\nCOPY s2i/ /x/\nCMD x\n", "`COPY` after"),
            ("FROM a\nRUN a\nWORKDIR /x\nCMD x\n", "`WORKDIR` after"),
            ("FROM a\nCOPY --chown=1:1 s2i/ /x/\nCMD x\n", "flags"),
            ("FROM a\nCOPY nope /x/\nCMD x\n", "not in the context"),
            ("FROM a\nCOPY README /x\nCMD x\n", "does not end in `/`"),
            (
                "FROM a\nCOPY s2i/* /x/\nCMD x\n",
                "not a plain context path",
            ),
            ("FROM a\nCOPY ../x /x/\nCMD x\n", "not a plain context path"),
            ("FROM a\nCOPY s2i/ x/\nCMD x\n", "not a plain absolute path"),
            ("FROM a\nADD s2i/ /x/\nCMD x\n", "`ADD`"),
            ("FROM a\nHEALTHCHECK NONE\nCMD x\n", "`HEALTHCHECK`"),
            ("FROM a\nUSER $U\nRUN x\nCMD x\n", "variables"),
            (
                "FROM a\nWORKDIR rel\nRUN x\nCMD x\n",
                "not a plain absolute path",
            ),
            ("FROM a\nENV A B\nRUN x\nCMD x\n", "`key=value`"),
            ("FROM a\nRUN x\n", "no `CMD`"),
            ("FROM a\nFROM b\nCMD x\n", "`FROM`"),
        ];
        for (dockerfile, why) in cases {
            let err = builder(dockerfile, &context()).unwrap_err();
            assert!(err.contains(why), "{dockerfile:?}: {err}");
        }
        // Metadata after the `RUN` only goes to the commit, in the form both engines read alike.
        let b = builder(
            "FROM a\nRUN x\nENV B=1\nCMD [ \"x\", \\\n \"y\" ]\n",
            &context(),
        )
        .unwrap();
        assert_eq!(b.changes, [r#"ENV B="1""#, r#"CMD ["x","y"]"#]);
        // Values Docker and Podman would read differently in a commit.
        for (dockerfile, why) in [
            ("FROM a\nRUN x\nENV B=$A\nCMD x\n", "variables"),
            (
                "FROM a\nLABEL a=\"x \\\"y\\\"\"\nCMD x\n",
                "quotes, backslashes",
            ),
            ("FROM a\nLABEL \"a b\"=c\nCMD x\n", "not a plain name"),
            ("FROM a\nCMD [\"x\", 1]\n", "JSON array of strings"),
        ] {
            let err = builder(dockerfile, &context()).unwrap_err();
            assert!(err.contains(why), "{dockerfile:?}: {err}");
        }
        assert!(
            builder("FROM a\nCMD x\n", &context())
                .unwrap()
                .run
                .is_none()
        );
    }

    #[test]
    fn the_runtime_subset_is_read() {
        let r = runtime(
            "FROM scratch\nLABEL a=\"b\"\nENV A=\"1\"\nEXPOSE 8080\nUSER 65532\n# c\nCOPY app /app\nENTRYPOINT [\"/app\"]\n",
            "app",
        )
        .unwrap();
        assert_eq!(r.dest, "app");
        assert_eq!(r.source, "app");
        assert_eq!(
            r.changes,
            [
                r#"LABEL a="b""#,
                r#"ENV A="1""#,
                "EXPOSE 8080",
                "USER 65532",
                r#"ENTRYPOINT ["/app"]"#
            ]
        );
        assert_eq!(r.files_dir, None);
        // The runtime files' directory, copied to `/` before the binary.
        let r = runtime(
            "FROM scratch\nCOPY runtime/ /\nENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\nUSER 1\nCOPY app /app\n",
            "app",
        )
        .unwrap();
        assert_eq!(r.files_dir.as_deref(), Some("runtime"));
        assert_eq!(r.dest, "app");
        assert!(runtime("FROM scratch\nCOPY app /app\nCOPY runtime/ /\n", "app").is_err());
        assert_eq!(
            runtime("FROM scratch\nCOPY ./app /usr/bin/\n", "app")
                .unwrap()
                .dest,
            "usr/bin/app"
        );
        let cases = [
            ("FROM debian\nCOPY app /app\n", "not `FROM scratch`"),
            (
                "FROM scratch\nCOPY app /app\nCOPY app /b\n",
                "more than one",
            ),
            ("FROM scratch\nCOPY other /app\n", "more than the binary"),
            ("FROM scratch\nCOPY app rel\n", "not a plain absolute path"),
            ("FROM scratch\nWORKDIR /x\nCOPY app /app\n", "`WORKDIR`"),
            (
                "FROM scratch\nSTOPSIGNAL SIGINT\nCOPY app /app\n",
                "`STOPSIGNAL`",
            ),
            ("FROM scratch\nLABEL a=b\n", "no `COPY`"),
        ];
        for (dockerfile, why) in cases {
            let err = runtime(dockerfile, "app").unwrap_err();
            assert!(err.contains(why), "{dockerfile:?}: {err}");
        }
    }
}
