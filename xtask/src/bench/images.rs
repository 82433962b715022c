//! Images the bench created, removed by name and then by ID (the untagged images a rebuild or a
//! multi-stage build leaves behind). Removal is never forced: an image someone else also tagged
//! stays.
//!
//! Not the library's `engine::Janitor`: that one removes, through the engine API, what one run of
//! the library created in its own process. The bench removes, through the `docker` CLI whose
//! engine it measures, what several commands made, among them `docker build`s the library never
//! sees, and only after it removed its own tags.

use std::cell::RefCell;

use xshell::{Shell, cmd};

use super::{NAMESPACE, status};

pub struct Images {
    /// The tags, children before parents.
    tags: Vec<String>,
    ids: RefCell<Vec<String>>,
}

impl Images {
    pub fn new(tags: Vec<String>) -> Images {
        Images {
            tags,
            ids: RefCell::new(Vec::new()),
        }
    }

    pub fn track(&self, id: &str) {
        let mut ids = self.ids.borrow_mut();
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }

    pub fn clean(&self, sh: &Shell) {
        for tag in &self.tags {
            let _ = cmd!(sh, "docker rmi {tag}")
                .quiet()
                .ignore_stdout()
                .ignore_stderr()
                .run();
        }
        // Children first: the latest ID of a build is its leaf; removing it also prunes its
        // untagged parents. Passes until nothing more goes. An ID that still has a tag (the
        // base image, or an image someone else tagged meanwhile) is never touched: `docker rmi`
        // of an ID with one tag would delete it.
        let mut ids = self.ids.borrow_mut();
        let format = "{{json .RepoTags}}";
        loop {
            let before = ids.len();
            ids.reverse();
            ids.retain(|id| {
                match cmd!(sh, "docker image inspect --format {format} {id}")
                    .quiet()
                    .ignore_stderr()
                    .read()
                {
                    Ok(tags) if matches!(tags.trim(), "[]" | "null") => {}
                    // Tagged (not ours: ours were just removed), or gone.
                    _ => return false,
                }
                match cmd!(sh, "docker rmi {id}").quiet().ignore_status().output() {
                    Ok(o) if o.status.success() => false,
                    Ok(o) => !String::from_utf8_lossy(&o.stderr)
                        .to_lowercase()
                        .contains("no such image"),
                    Err(_) => true,
                }
            });
            ids.reverse();
            if ids.is_empty() || ids.len() == before {
                break;
            }
        }
        if !ids.is_empty() {
            status(
                "Warning",
                &format!(
                    "could not remove {} untagged image(s) the bench built (still in use?): {}",
                    ids.len(),
                    ids.join(" ")
                ),
            );
            ids.clear();
        }
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        // On an error path: leave nothing behind.
        if (!self.ids.borrow().is_empty() || !self.tags.is_empty())
            && let Ok(sh) = Shell::new()
        {
            self.clean(&sh);
        }
    }
}

/// Removes images of an earlier, interrupted bench (everything tagged under [`NAMESPACE`]).
pub fn remove_leftovers(sh: &Shell) {
    let format = "{{.Repository}}:{{.Tag}}";
    let Ok(list) = cmd!(sh, "docker images --format {format}").quiet().read() else {
        return;
    };
    for image in list
        .lines()
        .filter(|l| l.starts_with(&format!("{NAMESPACE}/")))
    {
        status(
            "Removing",
            &format!("{image} (left by an interrupted bench)"),
        );
        let _ = cmd!(sh, "docker rmi {image}")
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run();
    }
}
