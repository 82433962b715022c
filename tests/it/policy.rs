//! Repository policy, checked as ordinary tests: every Rust file opens with a `//!` paragraph,
//! nothing reads outside the repository, the code is formatted, errors keep their notes as data, the public API is the one README lists,
//! and the README documents every configuration key, shows the two commands (the main job on the
//! example, the tests), and is what CI runs.
//!
//! Nothing here is skipped: a missing README or `.ci/run` is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use xtask_s2i::config::{KEYS, OKD_KEYS};

use crate::support::repo_root;

/// The directories whose `.rs` files must open with `//!`, relative to the repository root.
const SOURCE_DIRS: &[&str] = &[
    "src",
    "xtask/src",
    "tests",
    "examples/hello-world/src",
    "examples/hello-world/xtask/src",
];

fn rust_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = repo_root();
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        let dir = root.join(dir);
        assert!(dir.is_dir(), "`{}` is missing", dir.display());
        walk(&dir, &mut files);
    }
    files.push(root.join("examples/hello-world/build.rs"));
    files.sort();
    files
}

#[test]
fn every_rust_file_opens_with_a_module_doc() {
    let files = rust_files();
    assert!(files.len() > 10, "found only {files:?}");
    let missing: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            !first.starts_with("//!")
        })
        .map(|p| p.strip_prefix(repo_root()).unwrap().display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "these files do not open with a `//!` paragraph saying what they are for: {missing:?}"
    );
}

/// Notes are data of the one error type, written by its renderer: no message of the library glues
/// a `note:` line into its text (which the JSON output could only take apart by parsing).
#[test]
fn no_error_text_glues_a_note() {
    // What the source text of such a string holds: a backslash, `n`, then `note:`.
    let glued = "\\nnote:";
    let offenders: Vec<String> = rust_files()
        .iter()
        .filter(|p| p.starts_with(repo_root().join("src")))
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.contains(glued)
        })
        .map(|p| p.strip_prefix(repo_root()).unwrap().display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "these files glue `\\nnote:` into an error's text instead of `Error::note`: {offenders:?}"
    );
}

/// The repository is all the tests need: no source or test file reads the folder beside the
/// repository that this project's own machines have (the OpenShift schemas live in
/// `tests/data/schemas`), so a lone clone runs every check.
#[test]
fn nothing_reads_outside_the_repository() {
    // Spelled in two parts so that this file does not match itself.
    let outside = format!("../{}", "shared");
    let mut files = Vec::new();
    for dir in ["src", "tests", "xtask/src"] {
        all_files(&repo_root().join(dir), &mut files);
    }
    assert!(files.len() > 10, "found only {files:?}");
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap();
            bytes
                .windows(outside.len())
                .any(|w| w == outside.as_bytes())
        })
        .map(|p| p.strip_prefix(repo_root()).unwrap().display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "these files name `{outside}`, outside the repository (put what they need under \
         `tests/data`): {offenders:?}"
    );
}

/// Every file under `dir`, recursively.
fn all_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", dir.display()));
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// `cargo fmt --all -- --check` for the workspace and the example (which is a workspace of its
/// own), run as `rustfmt --check` on every file so no cargo lock is needed.
#[test]
fn the_code_is_formatted() {
    let files = rust_files();
    let out = Command::new("rustfmt")
        .args(["--check", "--color", "never", "--edition", "2024"])
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "failed to run `rustfmt`: {e}\nnote: install it with `rustup component add rustfmt`"
            )
        });
    assert!(
        out.status.success(),
        "`rustfmt --check` found unformatted code (run `cargo fmt --all`):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn readme() -> String {
    let path = repo_root().join("README.md");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", path.display()))
}

/// The fenced code blocks of a Markdown text: (the last non-blank line before it, its lines).
fn fenced_blocks(text: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    let mut before = String::new();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("```") {
            let body: Vec<String> = lines
                .by_ref()
                .take_while(|l| !l.trim_start().starts_with("```"))
                .map(String::from)
                .collect();
            blocks.push((before.clone(), body));
        } else if !line.trim().is_empty() {
            before = line.to_string();
        }
    }
    blocks
}

/// The commands of the first fenced block after the line containing `marker`.
fn commands_after(text: &str, marker: &str) -> Vec<String> {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("the README has no line containing {marker:?}"));
    let (_, body) = fenced_blocks(&text[at..])
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no fenced block follows {marker:?} in the README"));
    let commands: Vec<String> = body
        .iter()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(!commands.is_empty(), "the block after {marker:?} is empty");
    commands
}

/// The rows of the Markdown tables in the section starting at `heading` whose first cell is a
/// backticked word, as that word.
fn documented_keys(text: &str, heading: &str) -> Vec<String> {
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("the README has no section {heading:?}"));
    let section = &text[at + heading.len()..];
    let end = section.find("\n## ").unwrap_or(section.len());
    section[..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once("` |").map(|(k, _)| k.to_string()))
        .collect()
}

#[test]
fn the_readme_documents_every_key_and_no_other() {
    let text = readme();
    let documented = documented_keys(&text, "## Configuration reference");
    let mut expected: Vec<String> = KEYS.iter().map(|k| k.key.to_string()).collect();
    expected.extend(OKD_KEYS.iter().map(|k| format!("okd.{}", k.key)));
    let missing: Vec<&String> = expected
        .iter()
        .filter(|k| !documented.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "the README's configuration reference has no row for {missing:?}"
    );
    let unknown: Vec<&String> = documented
        .iter()
        .filter(|k| !expected.contains(k))
        .collect();
    assert!(
        unknown.is_empty(),
        "the README documents keys the configuration does not have: {unknown:?}"
    );
}

#[test]
fn the_readme_shows_the_main_job_and_the_test_command_that_ci_runs() {
    let text = readme();
    let shell_lines: Vec<String> = fenced_blocks(&text)
        .into_iter()
        .flat_map(|(_, body)| body)
        .collect();
    let main_job = shell_lines
        .iter()
        .find(|l| l.contains("cargo xtask image") && l.contains("examples/hello-world"))
        .unwrap_or_else(|| {
            panic!(
                "the README has no command running `cargo xtask image` on `examples/hello-world`"
            )
        });
    // Directories the commands `cd` into exist.
    for word in main_job.split("&&") {
        if let Some(dir) = word.trim().strip_prefix("cd ") {
            assert!(
                repo_root().join(dir.trim()).is_dir(),
                "`cd {dir}` in the README"
            );
        }
    }

    let tests = commands_after(&text, "Run the tests");
    assert!(
        tests.iter().any(|c| c.starts_with("cargo test")),
        "the README's test block has no `cargo test`: {tests:?}"
    );
    let ci_path = repo_root().join(".ci/run");
    let ci = std::fs::read_to_string(&ci_path)
        .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", ci_path.display()));
    let ci_commands: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    for command in &tests {
        assert!(
            ci_commands.contains(&command.as_str()),
            "`.ci/run` does not run the README's test command `{command}`"
        );
    }
}

/// The error shown in the README is the one the tool prints (path and line aside).
#[test]
fn the_readme_error_example_is_real() {
    let text = readme();
    let shown: Vec<String> = fenced_blocks(&text)
        .into_iter()
        .flat_map(|(_, body)| body)
        .filter(|l| l.starts_with("error: invalid `package.metadata.s2i."))
        .collect();
    assert!(!shown.is_empty(), "the README shows no configuration error");
    for line in shown {
        // `error: invalid `KEY` in `FILE:LINE`: MESSAGE` → rebuild the config that gives it.
        let key = line
            .split('`')
            .nth(1)
            .and_then(|k| k.strip_prefix("package.metadata.s2i."))
            .unwrap();
        let value = match key {
            "user" => "0",
            "port" => "0",
            other => panic!("teach this test the README's example for `{other}`"),
        };
        let ws = crate::config::Ws::package(&format!("{key} = {value}"));
        let msg = ws.fail(ws.args(|_| {}));
        let first = msg.lines().next().unwrap();
        let normalize = |s: &str| -> String {
            let (head, rest) = s.split_once("Cargo.toml:").unwrap();
            let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            let head = head.rsplit_once('`').map(|(h, _)| h).unwrap_or(head);
            format!("{head}`Cargo.toml:N{rest}")
        };
        assert_eq!(
            normalize(line.strip_prefix("error: ").unwrap()),
            normalize(first),
            "the README's error differs from the real one"
        );
    }
}

/// The crate's public items as `cargo doc` lists them (its `all.html`), built as a user gets the
/// crate: default features, no `internal`, and no rustdoc warning. At most 25, and exactly those
/// README's API section names.
#[test]
fn the_public_api_is_small_and_documented() {
    let root = repo_root();
    let out = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .args([
            "doc",
            "--no-deps",
            "--offline",
            "--quiet",
            "-p",
            "xtask-s2i",
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target/public-api"))
        // The documentation users read has no broken or private links.
        .env("RUSTDOCFLAGS", "-D warnings")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap_or_else(|e| panic!("failed to run `cargo doc`: {e}"));
    assert!(
        out.status.success(),
        "`cargo doc` failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = root.join("target/public-api/doc/xtask_s2i/all.html");
    let html = std::fs::read_to_string(&all)
        .unwrap_or_else(|e| panic!("failed to read `{}`: {e}", all.display()));
    let mut public: Vec<String> = html
        .split("<ul class=\"all-items\">")
        .skip(1)
        .flat_map(|list| {
            let list = list.split("</ul>").next().unwrap_or("");
            list.split("</a></li>")
                .filter_map(|item| item.rsplit_once('>').map(|(_, name)| name.to_string()))
                .filter(|name| !name.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    public.sort();
    assert!(
        public.len() > 5,
        "found only {public:?} in `{}`",
        all.display()
    );
    assert!(
        public.len() <= 25,
        "the crate has {} public items (at most 25): {public:?}",
        public.len()
    );
    let mut documented = documented_keys(&readme(), "## API");
    documented.sort();
    assert_eq!(
        public, documented,
        "the public items (left) differ from those README's `## API` section names (right)"
    );
}
