//! `--message-format json`: a failing run ends with an `error` event whose `message` and
//! `notes` are apart, while stderr keeps the human text (`error: …` with its `note:` lines).
//! The command runs in a child process (this test binary again, [`child`]), as a user's
//! `cargo xtask image` runs: `ImageArgs::run`, then `exit_with`.

use std::process::Command;

use xtask_s2i::ImageArgs;
use xtask_s2i::clap::{self, Args as _, FromArgMatches as _};

use crate::config::Ws;

/// The child side: parses `XTASK_S2I_IT_JSON_ARGS` (arguments one per line) as `cargo xtask
/// image` does and runs it. Without the variable it is an empty test.
#[test]
fn child() {
    let Ok(args) = std::env::var("XTASK_S2I_IT_JSON_ARGS") else {
        return;
    };
    let cmd = ImageArgs::augment_args(clap::Command::new("image"));
    let matches = cmd.get_matches_from(std::iter::once("image").chain(args.lines()));
    let args = ImageArgs::from_arg_matches(&matches).expect("the arguments parse");
    match args.run() {
        Ok(()) => std::process::exit(0),
        Err(e) => xtask_s2i::exit_with(&e),
    }
}

#[test]
fn a_failing_run_reports_its_notes_apart_from_its_message() {
    let ws = Ws::package("port = \"http\"");
    let manifest = ws.manifest();
    let args = [
        "--manifest-path",
        manifest.to_str().unwrap(),
        "--message-format",
        "json",
        "--no-build",
    ];
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "json::child", "--nocapture", "--test-threads=1"])
        .env("XTASK_S2I_IT_JSON_ARGS", args.join("\n"))
        .env_remove(xtask_s2i::config::BUILDER_BASE_ENV)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");

    // libtest's own `test json::child ... ` may start the first line.
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| l.find("{\"reason\"").map(|at| &l[at..]))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let errors: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["reason"] == "error").collect();
    assert_eq!(errors.len(), 1, "one error event in:\n{stdout}");
    let message = errors[0]["message"].as_str().expect("a message");
    let notes: Vec<&str> = errors[0]["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n.as_str().expect("a note"))
        .collect();
    assert!(
        message.starts_with("invalid `package.metadata.s2i.port` in `")
            && message.contains("expected an integer, found the string `\"http\"`"),
        "{message}"
    );
    assert!(!message.contains("note:"), "{message}");
    assert_eq!(notes, ["`port` takes an integer, e.g. `port = 8080`"]);

    // The human text on stderr is the message and its notes, as before.
    let human = format!("error: {message}\nnote: {}\n", notes[0]);
    assert!(stderr.contains(&human), "no {human:?} in:\n{stderr}");
}
