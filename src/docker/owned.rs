//! The containers this process owns, with their volumes and the run's network: whatever way the
//! run ends, they are removed.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions,
    RemoveVolumeOptions,
};

use super::network::{self, NetworkError};
use super::{Engine, LABEL, RUN_LABEL};

/// The containers (and volumes) of this process that still exist, shared by everything that
/// creates them.
#[derive(Clone, Default)]
pub struct OwnedContainers {
    ids: Arc<Mutex<HashSet<String>>>,
    volumes: Arc<Mutex<HashSet<String>>>,
    /// The run's network, made by the first container that needs it: one for the process, so
    /// that a server's reloads do not make one each.
    network: Arc<tokio::sync::OnceCell<String>>,
    /// The networks still to remove.
    networks: Arc<Mutex<HashSet<String>>>,
    /// Removals (and the network's making) under way in the background, which
    /// [`OwnedContainers::sweep`] waits for.
    removing: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
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

    fn volumes(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.volumes.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn insert_volume(&self, name: &str) {
        self.volumes().insert(name.to_string());
    }

    pub(super) fn forget_volume(&self, name: &str) {
        self.volumes().remove(name);
    }

    fn networks(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.networks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The network of this process's containers (see [`network`]), made on first use and
    /// labelled as run `run_id`'s; a failure is not kept, so the next container tries again
    /// (a server's reload after `docker network prune`).
    pub async fn network(&self, engine: &Engine, run_id: &str) -> Result<String, NetworkError> {
        self.network
            .get_or_try_init(|| async {
                let labels = HashMap::from([
                    (LABEL.to_string(), "1".to_string()),
                    (RUN_LABEL.to_string(), run_id.to_string()),
                ]);
                let name = network::create(engine, run_id, &labels).await?;
                self.networks().insert(name.clone());
                Ok(name)
            })
            .await
            .cloned()
    }

    /// Starts making the network now, in the background, while the run prepares the rest; a
    /// sweep waits for it (as for removals under way), so that it is never made after the sweep.
    pub fn make_network_soon(&self, engine: &Engine, run_id: &str) {
        let (owned, engine, run_id) = (self.clone(), engine.clone(), run_id.to_string());
        let making = tokio::spawn(async move {
            let _ = owned.network(&engine, &run_id).await;
        });
        let mut pending = self.removing.lock().unwrap_or_else(|e| e.into_inner());
        pending.retain(|r| !r.is_finished());
        pending.push(making);
    }

    /// Removes a volume; one already gone is not an error.
    pub(super) async fn remove_volume(&self, engine: &Engine, name: &str) {
        let _ = engine
            .docker
            .remove_volume(name, None::<RemoveVolumeOptions>)
            .await;
        self.forget_volume(name);
    }

    /// Removes a container (then its volumes) in the background, while the run goes on.
    pub(super) fn remove_later(&self, engine: &Engine, id: String, volumes: Vec<String>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (engine, owned) = (engine.clone(), self.clone());
        let removal = runtime.spawn(async move {
            // One that could not be removed stays owned, for the sweep to try again.
            if remove(&engine, &id).await.is_ok() {
                owned.forget(&id);
            }
            for volume in &volumes {
                owned.remove_volume(&engine, volume).await;
            }
        });
        let mut removing = self.removing.lock().unwrap_or_else(|e| e.into_inner());
        removing.retain(|r| !r.is_finished());
        removing.push(removal);
    }

    /// Removes every container still owned, and any other container labelled with `run_id`
    /// (one whose creation was cut short before its id came back), once the removals under
    /// way have ended. What could not be removed (an engine that stopped answering) is
    /// returned, as `container ID` and `volume NAME`, and stays owned.
    pub async fn sweep(&self, engine: &Engine, run_id: &str) -> Vec<String> {
        let removing =
            std::mem::take(&mut *self.removing.lock().unwrap_or_else(|e| e.into_inner()));
        for removal in removing {
            let _ = removal.await;
        }
        let mut ids: HashSet<String> = self.ids().drain().collect();
        // An engine that stopped answering is not waited for once per container: what is
        // owned stays owned, and is named.
        if !engine.answers().await {
            let mut left: Vec<String> = ids
                .iter()
                .map(|id| format!("container {}", short(id)))
                .collect();
            for id in ids {
                self.insert(&id);
            }
            left.extend(self.volumes().iter().map(|name| format!("volume {name}")));
            left.extend(self.networks().iter().map(|name| format!("network {name}")));
            left.sort();
            return left;
        }
        let options = ListContainersOptions {
            all: true,
            filters: of_run(run_id),
            ..Default::default()
        };
        if let Ok(list) = engine.docker.list_containers(Some(options)).await {
            ids.extend(list.into_iter().filter_map(|c| c.id));
        }
        // All at once: each waits for the engine on its own.
        let removals = ids.into_iter().map(|id| async move {
            let removed = remove(engine, &id).await;
            (id, removed)
        });
        let mut left = Vec::new();
        for (id, removed) in futures_util::future::join_all(removals).await {
            match removed {
                Ok(()) => self.forget(&id),
                Err(_) => {
                    self.insert(&id);
                    left.push(format!("container {}", short(&id)));
                }
            }
        }
        // Volumes go once no container uses them.
        let mut volumes: HashSet<String> = self.volumes().drain().collect();
        let options = ListVolumesOptions {
            filters: of_run(run_id),
        };
        if let Ok(list) = engine.docker.list_volumes(Some(options)).await {
            volumes.extend(list.volumes.unwrap_or_default().into_iter().map(|v| v.name));
        }
        for name in volumes {
            let removed = engine
                .docker
                .remove_volume(&name, None::<RemoveVolumeOptions>)
                .await;
            match removed {
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                })
                | Ok(()) => self.forget_volume(&name),
                Err(_) => {
                    self.insert_volume(&name);
                    left.push(format!("volume {name}"));
                }
            }
        }
        left.extend(self.sweep_networks(engine, run_id).await);
        left.sort();
        left
    }

    /// Removes the networks owned and labelled with `run_id`, once their containers are gone;
    /// what could not be removed, as `network NAME`.
    async fn sweep_networks(&self, engine: &Engine, run_id: &str) -> Vec<String> {
        let mut names: HashSet<String> = self.networks().drain().collect();
        let options = ListNetworksOptions {
            filters: of_run(run_id),
        };
        if let Ok(list) = engine.docker.list_networks(Some(options)).await {
            names.extend(list.into_iter().filter_map(|n| n.name));
        }
        let mut left = Vec::new();
        for name in names {
            // Another run's network (a server's first, swept last) is that run's to remove.
            let labelled = format!("lambda-ci-{run_id}");
            if name != labelled {
                self.networks().insert(name);
                continue;
            }
            match remove_network(engine, &name).await {
                Ok(()) => {}
                Err(_) => {
                    self.networks().insert(name.clone());
                    left.push(format!("network {name}"));
                }
            }
        }
        left
    }

    /// Says on stderr what [`OwnedContainers::sweep`] could not remove of run `run_id`, and
    /// the command that removes it once the engine answers again.
    pub fn say_left(left: &[String], run_id: &str) {
        if left.is_empty() {
            return;
        }
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "warning: the Docker engine did not remove {} of this run ({}); once it answers again, remove {} with `lambda-ci clean --run {run_id}`",
            if left.len() == 1 {
                "one thing".to_string()
            } else {
                format!("{} things", left.len())
            },
            left.join(", "),
            if left.len() == 1 { "it" } else { "them" },
        );
    }

    /// Forgets every container without removing it (`--keep`).
    pub fn forget_all(&self) {
        self.ids().clear();
        self.volumes().clear();
        self.networks().clear();
    }
}

/// The engine's filter for what carries run `run_id`'s label.
fn of_run(run_id: &str) -> Option<HashMap<String, Vec<String>>> {
    Some(HashMap::from([(
        "label".to_string(),
        vec![format!("{RUN_LABEL}={run_id}")],
    )]))
}

/// A container id as `docker ps` shows it.
fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// Removes a network; one already gone is not an error.
pub(super) async fn remove_network(
    engine: &Engine,
    name: &str,
) -> Result<(), bollard::errors::Error> {
    match engine.docker.remove_network(name).await {
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        other => other,
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
        // Another removal is under way (a dropped container's): done when it is gone.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => {
            for _ in 0..100 {
                match engine.docker.inspect_container(id, None).await {
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => return Ok(()),
                    // An engine that stopped answering has not removed it.
                    Err(e) if super::engine_gone(&e) => return Err(e),
                    _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                }
            }
            Ok(())
        }
        other => other,
    }
}
