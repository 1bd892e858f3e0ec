//! The containers this process owns: whatever way the run ends, they are removed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use bollard::query_parameters::{ListContainersOptions, RemoveContainerOptions};

use super::{Engine, RUN_LABEL};

/// The containers of this process that still exist, shared by everything that creates them.
#[derive(Clone, Default)]
pub struct OwnedContainers {
    ids: Arc<Mutex<HashSet<String>>>,
}

impl OwnedContainers {
    fn ids(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn insert(&self, id: &str) {
        self.ids().insert(id.to_string());
    }

    pub(super) fn forget(&self, id: &str) {
        self.ids().remove(id);
    }

    /// Removes every container still owned, and any other container labelled with `run_id`
    /// (one whose creation was cut short before its id came back).
    pub async fn sweep(&self, engine: &Engine, run_id: &str) {
        let mut ids: HashSet<String> = self.ids().drain().collect();
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_string(),
                vec![format!("{RUN_LABEL}={run_id}")],
            )])),
            ..Default::default()
        };
        if let Ok(list) = engine.docker.list_containers(Some(options)).await {
            ids.extend(list.into_iter().filter_map(|c| c.id));
        }
        for id in ids {
            let _ = remove(engine, &id).await;
        }
    }

    /// Forgets every container without removing it (`--keep`).
    pub fn forget_all(&self) {
        self.ids().clear();
    }
}

/// Removes a container and its anonymous volumes; one already gone is not an error.
pub(super) async fn remove(engine: &Engine, id: &str) -> Result<(), bollard::errors::Error> {
    let options = RemoveContainerOptions {
        force: true,
        v: true,
        ..Default::default()
    };
    match engine.docker.remove_container(id, Some(options)).await {
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        other => other,
    }
}
