//! What a runner prepares for the functions it runs, kept from one plan to the next: each
//! image made ready once, how artifacts reach the containers, and each function's blueprint.
//! A long-running server keeps one runner and executes plan after plan on it; when one
//! function's artifacts change, [`Runner::rebuild`] drops that function's part alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::{Runner, lock};
use crate::docker::Delivery;
use crate::plan::{SuiteId, WorkerId};
use crate::suite::Architecture;
use crate::worker::Blueprint;

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
    blueprints: Mutex<HashMap<SuiteId, Once<Made>>>,
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

    /// The cell of a function's blueprint, made by its first container.
    pub(super) fn blueprint(&self, suite: SuiteId) -> Once<Made> {
        cell(&self.blueprints, suite)
    }
}

impl Runner {
    /// Forgets what was prepared for `suite`'s function alone (its blueprint, and its image
    /// when it is built from a context), so that the next plan makes them anew from the files
    /// as they now are; other functions keep theirs.
    pub fn rebuild(&self, suite: SuiteId) {
        lock(&self.prepared.blueprints).remove(&suite);
        if let key @ ImageKey::Build(..) = self.image_key(suite) {
            lock(&self.prepared.images).remove(&key);
        }
    }
}
