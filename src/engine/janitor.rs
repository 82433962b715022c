//! What a run created and must remove however it ends: containers, unfinished images, and the
//! images a moved tag left behind. [`super::client::Client`] registers them as it goes; the
//! engine's entry point calls [`Janitor::clean`] on success, failure and Ctrl-C alike.

use std::sync::Mutex;

use super::client::Client;

/// Things a run created and must remove however it ends.
#[derive(Debug, Default)]
pub struct Janitor {
    containers: Mutex<Vec<String>>,
    /// Images that are removed at the end if nothing tagged them (unfinished builds).
    images: Mutex<Vec<String>>,
    /// Images a tag of this tool moved away from, with their package: removed at the end when
    /// nothing else references them, whether the run succeeded or not.
    replaced: Mutex<Vec<(String, String)>>,
}

impl Janitor {
    pub fn container(&self, id: &str) {
        if let Ok(mut c) = self.containers.lock() {
            c.push(id.to_string());
        }
    }

    pub(super) fn forget_container(&self, id: &str) {
        if let Ok(mut c) = self.containers.lock() {
            c.retain(|c| c != id);
        }
    }

    pub fn image(&self, id: &str) {
        if let Ok(mut i) = self.images.lock() {
            i.push(id.to_string());
        }
    }

    pub fn forget_image(&self, id: &str) {
        if let Ok(mut i) = self.images.lock() {
            i.retain(|i| i != id);
        }
    }

    /// Notes that a tag of `package` moved away from the image `id`.
    pub fn replaced(&self, id: &str, package: &str) {
        if let Ok(mut r) = self.replaced.lock() {
            r.push((id.to_string(), package.to_string()));
        }
    }

    /// Removes every remembered container (force), every remembered image nothing tags, and the
    /// replaced images nothing references (children first: an app image is a child of its
    /// builder image).
    pub async fn clean(&self, docker: &Client) {
        let containers = drain(&self.containers);
        for id in containers.iter().rev() {
            docker.force_remove_container(id).await;
        }
        let images = drain(&self.images);
        for id in images.iter().rev() {
            docker.remove_if_untagged(id, None).await;
        }
        let replaced = drain(&self.replaced);
        for (id, package) in replaced.iter().rev() {
            docker.remove_if_untagged(id, Some(package)).await;
        }
    }
}

/// Everything in `list`, which is left empty (nothing when a panic poisoned it).
pub(crate) fn drain<T>(list: &Mutex<Vec<T>>) -> Vec<T> {
    list.lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default()
}
