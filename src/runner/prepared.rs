//! What a session prepares for the functions it runs, kept from one plan to the next: each
//! image made ready once, how artifacts reach the containers, each function's blueprint, and
//! (for `watch`) each pool slot's warm container. When one function's definition changes,
//! [`Prepared::forget`] drops that function's part alone.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::{Runner, lock};
use crate::docker::Delivery;
use crate::plan::{SuiteId, WorkerId};
use crate::suite::Architecture;
use crate::worker::{Blueprint, Worker};

/// Why an image cannot be had: its whole message with the fix, and a few words.
pub(super) type Problem = (String, String);

/// Which image: a base or `image:` image by name and architecture, or a build by its context,
/// Dockerfile, arguments and architecture (the same build is built once, whoever names it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum ImageKey {
    Pull(String, Architecture),
    Build(std::path::PathBuf, String, String, Architecture),
}

/// A value made once by whichever executor needs it first, the others waiting for it.
type Once<T> = Arc<OnceCell<T>>;

/// A function's blueprint, or why it cannot be made (its layers could not be merged).
type Made = Result<Arc<Blueprint>, crate::worker::Unmade>;

/// What the runner has prepared; empty at first, filled as plans need it.
#[derive(Default)]
pub struct Prepared {
    images: Mutex<HashMap<ImageKey, Once<Result<String, Problem>>>>,
    pub(super) delivery: OnceCell<Delivery>,
    /// Held by the container that finds out how artifacts reach the containers.
    pub(super) finding: tokio::sync::Mutex<()>,
    /// By suite file: a suite's index differs from one plan to the next.
    blueprints: Mutex<HashMap<PathBuf, Once<Made>>>,
    /// Warm containers between plans, by suite file and pool slot, each to be given a new
    /// execution environment before it serves again.
    parked: Mutex<HashMap<(PathBuf, usize), Worker>>,
    /// For each pool slot, the generation its next container takes: a later plan never
    /// reuses the name of a container still being removed.
    generations: Mutex<HashMap<(SuiteId, usize), usize>>,
    /// Whether the run said that functions fell back to RIE.
    pub(super) fell_back: std::sync::atomic::AtomicBool,
    /// The agent, written once for this runner's containers, or why it could not be.
    pub(super) agent: OnceCell<Result<crate::worker::AgentOnDisk, String>>,
}

fn cell<K: Eq + std::hash::Hash, T>(map: &Mutex<HashMap<K, Once<T>>>, key: K) -> Once<T> {
    lock(map).entry(key).or_default().clone()
}

impl Prepared {
    /// The cell of an image, made ready by the first to ask.
    pub(super) fn image(&self, key: ImageKey) -> Once<Result<String, Problem>> {
        cell(&self.images, key)
    }

    /// The generation of the next container of `suite`'s pool slot `slot`.
    pub(super) fn generation(&self, suite: SuiteId, slot: usize) -> usize {
        lock(&self.generations)
            .get(&(suite, slot))
            .copied()
            .unwrap_or(0)
    }

    /// Records that the slot of `last` is done with generations up to `last`'s.
    pub(super) fn used(&self, last: WorkerId) {
        lock(&self.generations).insert((last.suite, last.slot), last.generation + 1);
    }

    /// The cell of the blueprint of the function the suite in `file` declares, made by its
    /// first container.
    pub(super) fn blueprint(&self, file: &Path) -> Once<Made> {
        cell(&self.blueprints, file.to_path_buf())
    }

    /// Keeps `worker`, slot `slot` of the pool of the suite in `file`, warm for the next plan;
    /// one it displaces is removed in the background.
    pub(super) fn park(&self, file: &Path, slot: usize, worker: Worker) {
        let displaced = lock(&self.parked).insert((file.to_path_buf(), slot), worker);
        if let Some(displaced) = displaced {
            displaced.retire(false);
        }
    }

    /// The warm container of slot `slot` of the pool of the suite in `file`, if one was kept.
    pub(super) fn unpark(&self, file: &Path, slot: usize) -> Option<Worker> {
        lock(&self.parked).remove(&(file.to_path_buf(), slot))
    }

    /// Forgets what was prepared for the function of the suite in `file` alone (its blueprint,
    /// its warm containers, and its image when `image` is built from a context), so that the
    /// next plan makes them anew from the files as they now are; other functions keep theirs.
    pub(super) fn forget(&self, file: &Path, image: ImageKey) {
        lock(&self.blueprints).remove(file);
        let gone: Vec<Worker> = {
            let mut parked = lock(&self.parked);
            let keys: Vec<_> = parked.keys().filter(|(f, _)| f == file).cloned().collect();
            keys.into_iter().filter_map(|k| parked.remove(&k)).collect()
        };
        for worker in gone {
            worker.retire(false);
        }
        if let key @ ImageKey::Build(..) = image {
            lock(&self.images).remove(&key);
        }
    }

    /// Every warm container, removed in the background (the sweep waits for them).
    pub(super) fn retire_parked(&self) {
        let parked: Vec<Worker> = lock(&self.parked).drain().map(|(_, w)| w).collect();
        for worker in parked {
            worker.retire(false);
        }
    }
}

impl Runner {
    /// Whether `suite`'s containers can restart its runtime in place (see
    /// [`crate::worker::Worker::reloads_in_place`]); so can a function with none yet.
    pub(crate) fn reloads_in_place(&self, suite: SuiteId) -> bool {
        let cell = self.prepared.blueprint(&self.suites[suite.0].file);
        match cell.get() {
            Some(Ok(blueprint)) => blueprint.in_place,
            Some(Err(_)) => false,
            None => true,
        }
    }

    /// Forgets what was prepared for `suite`'s function alone (see [`Prepared::forget`]).
    pub fn rebuild(&self, suite: SuiteId) {
        let loaded = &self.suites[suite.0];
        self.prepared
            .forget(&loaded.file, super::images::image_key(&loaded.function));
    }
}
