//! What a session keeps for its runners from one plan to the next, whatever backend the
//! functions run on: the generation each pool slot's next instance takes, and (for `watch`)
//! each slot's warm instance. What the backend prepares (images, blueprints) is its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::lock;
use crate::backend::Instance;
use crate::plan::{SuiteId, WorkerId};

/// What the session keeps; empty at first.
#[derive(Default)]
pub struct Prepared {
    /// For each pool slot, the generation its next instance takes: a later plan never
    /// reuses the name of a container still being removed.
    generations: Mutex<HashMap<(SuiteId, usize), usize>>,
    /// Warm instances between plans, by suite file and pool slot, each to be given a new
    /// execution environment before it serves again.
    parked: Mutex<HashMap<(PathBuf, usize), Box<dyn Instance>>>,
}

impl Prepared {
    /// The generation of the next instance of `suite`'s pool slot `slot`.
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

    /// Keeps `instance`, slot `slot` of the pool of the suite in `file`, warm for the next
    /// plan; one it displaces is removed in the background.
    pub(super) fn park(&self, file: &Path, slot: usize, instance: Box<dyn Instance>) {
        let displaced = lock(&self.parked).insert((file.to_path_buf(), slot), instance);
        if let Some(displaced) = displaced {
            displaced.retire(false);
        }
    }

    /// The warm instance of slot `slot` of the pool of the suite in `file`, if one was kept.
    pub(super) fn unpark(&self, file: &Path, slot: usize) -> Option<Box<dyn Instance>> {
        lock(&self.parked).remove(&(file.to_path_buf(), slot))
    }

    /// Removes the warm instances of the suite in `file` in the background.
    pub(super) fn forget(&self, file: &Path) {
        let gone: Vec<Box<dyn Instance>> = {
            let mut parked = lock(&self.parked);
            let keys: Vec<_> = parked.keys().filter(|(f, _)| f == file).cloned().collect();
            keys.into_iter().filter_map(|k| parked.remove(&k)).collect()
        };
        for instance in gone {
            instance.retire(false);
        }
    }

    /// Every warm instance, removed in the background (the sweep waits for them).
    pub(super) fn retire_parked(&self) {
        let parked: Vec<Box<dyn Instance>> = lock(&self.parked).drain().map(|(_, w)| w).collect();
        for instance in parked {
            instance.retire(false);
        }
    }
}
