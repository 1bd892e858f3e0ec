//! A session: what outlives one plan — the engine, the containers, volumes and network it
//! owns (all labelled with its run id), and what is prepared for its functions (images,
//! delivery, blueprints, warm containers). `run` makes one for its one plan; `watch` keeps one
//! for as long as it watches, so that a save re-runs on what is ready and warm; `serve` makes
//! one per set of functions it serves.

use std::sync::Arc;

use super::Prepared;
use crate::backend::container;
use crate::docker::{Engine, OwnedContainers};

/// What plans share; cheap to clone (every clone is the same session).
#[derive(Clone)]
pub struct Session {
    pub(crate) engine: Engine,
    pub(crate) owned: OwnedContainers,
    pub(crate) run_id: String,
    pub(crate) prepared: Arc<Prepared>,
    /// What the container backend prepared: images, delivery, the agent, blueprints.
    pub(crate) containers: Arc<container::Prepared>,
    /// One permit per instance booting, across every runner of the session: booting is the
    /// heaviest part of an instance's life, so no more than one per CPU.
    pub(crate) boots: Arc<tokio::sync::Semaphore>,
}

impl Session {
    /// A session on `engine` whose containers `owned` keeps and `run_id` labels; nothing is
    /// prepared yet.
    pub fn new(engine: Engine, owned: OwnedContainers, run_id: String) -> Session {
        Session {
            engine,
            owned,
            run_id,
            prepared: Arc::default(),
            containers: Arc::default(),
            boots: Arc::new(tokio::sync::Semaphore::new(super::boots_at_once())),
        }
    }

    /// A session for another set of functions (`serve`'s next version), labelled `run_id`:
    /// the same engine, owned resources and boot limit, nothing prepared yet.
    pub fn successor(&self, run_id: String) -> Session {
        Session {
            run_id,
            prepared: Arc::default(),
            containers: Arc::default(),
            ..self.clone()
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn owned(&self) -> &OwnedContainers {
        &self.owned
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Forgets what was prepared for `suite`'s function alone — its warm instances, its
    /// blueprint, its image when built from a context — so that the next plan makes them
    /// anew from the files as they now are.
    pub fn rebuild(&self, suite: &crate::suite::Suite) {
        let authorizers = super::authorize::suites_of(suite);
        for one in std::iter::once(suite).chain(&authorizers) {
            self.prepared.forget(&one.file);
            self.containers.forget_suite(one);
        }
    }

    /// Removes the warm containers in the background (the sweep waits for them).
    pub fn retire_warm(&self) {
        self.prepared.retire_parked();
    }

    /// Ends the session: its warm containers, and everything else it owns, removed (waited
    /// for); what could not be removed is said on stderr.
    pub async fn close(&self) {
        self.retire_warm();
        let left = self.owned.sweep(&self.engine, &self.run_id).await;
        OwnedContainers::say_left(&left, &self.run_id);
    }
}
