//! What the container backend prepares for a session's functions, kept from one plan to the
//! next: each image made ready once, how artifacts reach the containers, the agent written
//! once, and each function's blueprint. When one function's definition changes,
//! [`Prepared::forget`] drops that function's part alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::backend::Problem;
use crate::docker::Delivery;
use crate::suite::Architecture;
use crate::worker::Blueprint;

/// Which image: a base or `image:` image by name and architecture, or a build by its context,
/// Dockerfile, arguments and architecture (the same build is built once, whoever names it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum ImageKey {
    Pull(String, Architecture),
    Build(PathBuf, String, String, Architecture),
}

/// A value made once by whichever container needs it first, the others waiting for it.
type Once<T> = Arc<OnceCell<T>>;

/// A function's blueprint, or why it cannot be made (its layers could not be merged).
type Made = Result<Arc<Blueprint>, crate::worker::Unmade>;

/// What the backend has prepared; empty at first, filled as plans need it.
#[derive(Default)]
pub struct Prepared {
    images: Mutex<HashMap<ImageKey, Once<Result<String, Problem>>>>,
    pub(super) delivery: OnceCell<Delivery>,
    /// Held by the container that finds out how artifacts reach the containers.
    pub(super) finding: tokio::sync::Mutex<()>,
    /// By suite file: a suite's index differs from one plan to the next.
    blueprints: Mutex<HashMap<PathBuf, Once<Made>>>,
    /// Whether the session said that functions fell back to RIE.
    pub(super) fell_back: std::sync::atomic::AtomicBool,
    /// The agent, written once for the session's containers, or why it could not be.
    pub(super) agent: OnceCell<Result<crate::worker::AgentOnDisk, String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn cell<K: Eq + std::hash::Hash, T>(map: &Mutex<HashMap<K, Once<T>>>, key: K) -> Once<T> {
    lock(map).entry(key).or_default().clone()
}

impl Prepared {
    /// The cell of an image, made ready by the first to ask.
    pub(super) fn image(&self, key: ImageKey) -> Once<Result<String, Problem>> {
        cell(&self.images, key)
    }

    /// The cell of the blueprint of the function the suite in `file` declares, made by its
    /// first container.
    pub(super) fn blueprint(&self, file: &Path) -> Once<Made> {
        cell(&self.blueprints, file.to_path_buf())
    }

    /// Forgets the blueprint of `suite`'s function, and its image when built from a context,
    /// so that the next plan makes them anew.
    pub fn forget_suite(&self, suite: &crate::suite::Suite) {
        self.forget(&suite.file, super::images::image_key(&suite.function));
    }

    /// Forgets the blueprint of the function of the suite in `file`, and its image when
    /// `image` is built from a context, so that the next plan makes them anew.
    pub(super) fn forget(&self, file: &Path, image: ImageKey) {
        lock(&self.blueprints).remove(file);
        if let key @ ImageKey::Build(..) = image {
            lock(&self.images).remove(&key);
        }
    }
}
