//! Containers: created from a plain spec, started, watched and removed. Every container is
//! owned from the moment it exists, so no way of ending the run leaves it behind.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, HostConfigLogConfig, Mount, MountType,
    NetworkConnectRequest, PortBinding, ResourcesUlimits,
};
use bollard::query_parameters::CreateContainerOptions;

use super::copy::copy_artifacts;
use super::owned::{OwnedContainers, remove};
use super::{Engine, Framing, LogLine, Logs};

/// Everything needed to create a container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    /// A readable container name, unique among the engine's containers.
    pub name: String,
    pub image: String,
    /// The platform to run, as `linux/arm64`; the engine's own when `None`.
    pub platform: Option<String>,
    /// In place of the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    /// Host files the container needs, and how each reaches it.
    pub artifacts: Vec<Artifact>,
    /// The memory limit, swap included (so no swap), in bytes.
    pub memory_bytes: Option<i64>,
    pub labels: HashMap<String, String>,
    /// The container port published on the host's loopback, as `8080/tcp`.
    pub port: String,
    /// Whether the root filesystem is read-only (writable paths come from `tmpfs`).
    pub read_only_root: bool,
    /// In-memory filesystems: container path and mount options (`size=512m,mode=1777`).
    pub tmpfs: Vec<(String, String)>,
    /// A network to join instead of the default bridge.
    pub network: Option<String>,
    /// A second network to join before the container starts.
    pub also_join: Option<String>,
    /// `/etc/hosts` entries, as `name:address`.
    pub extra_hosts: Vec<String>,
    /// The engine host's address the port is published on: its loopback for a local engine.
    pub publish_on: String,
    /// A network whose address of the container is read back, to reach it there rather than
    /// through the published port.
    pub reach_on: Option<String>,
    /// On the host's network (`network: host`), where nothing is published: the port the
    /// container listens on, on the host's loopback.
    pub host_port: Option<u16>,
}

/// Lambda's limit on a function's processes and threads together.
const PIDS_LIMIT: i64 = 1024;
/// Lambda's limit on a function's open file descriptors.
const NOFILE_LIMIT: i64 = 1024;

/// A host path that must appear at `target` in the container.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub source: PathBuf,
    pub target: String,
    pub delivery: Delivery,
}

/// How an artifact reaches the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// A read-only bind mount: the engine must see the host path.
    BindReadOnly,
    /// Copied through the archive API into a volume mounted read-only: works on any engine.
    Copy,
}

/// Why a container could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create a container from {image}")]
    Create {
        image: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("cannot start the container")]
    Start(#[source] bollard::errors::Error),
    #[error("cannot attach to the container to read its output")]
    Attach(#[source] bollard::errors::Error),
    #[error("{what}")]
    Copy {
        what: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("cannot read {} to copy it into the container", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the engine did not publish port {port} of the container")]
    NoPort { port: String },
    #[error("the container exited during start {how}")]
    Exited {
        /// `with code N`, or how else it went.
        how: String,
        /// What the container wrote before it stopped.
        logs: Vec<LogLine>,
    },
}

/// The state of a container as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Running,
    Exited { exit_code: i64, oom_killed: bool },
    Gone,
}

/// A started container, owned by this process until removed or kept.
pub struct Container {
    pub id: String,
    pub name: String,
    /// The port on the engine's host that reaches the spec's published port.
    pub port: u16,
    /// The container's address on the spec's `reach_on` network.
    pub address: Option<String>,
    /// Its output, followed from the start.
    pub logs: Logs,
    engine: Engine,
    owned: OwnedContainers,
    /// Volumes holding copied artifacts, removed with the container.
    volumes: Vec<String>,
    /// Removed or kept: nothing is left for dropping it to do.
    settled: bool,
    /// How many times the engine reported the container out of memory.
    ooms: Arc<AtomicU64>,
    /// Follows the engine's `oom` events for the container; ends with it.
    oom_watch: tokio::task::JoinHandle<()>,
}

/// A container dropped without being removed or kept (a future cancelled, a panic) is
/// removed in the background; the run's label sweep remains the backstop when no runtime is
/// left to do it.
impl Drop for Container {
    fn drop(&mut self) {
        self.oom_watch.abort();
        if self.settled {
            return;
        }
        let volumes = std::mem::take(&mut self.volumes);
        self.owned
            .remove_later(&self.engine, self.id.clone(), volumes);
    }
}

impl Container {
    /// Creates and starts a container for `spec`, its output read as `framing` says.
    pub async fn start(
        engine: &Engine,
        owned: &OwnedContainers,
        spec: &ContainerSpec,
        framing: Arc<dyn Framing>,
    ) -> Result<Container, StartError> {
        let (mut mounts, volumes) = copy_artifacts(engine, owned, spec).await?;
        mounts.extend(
            spec.artifacts
                .iter()
                .filter(|a| a.delivery == Delivery::BindReadOnly)
                .map(|a| Mount {
                    target: Some(a.target.clone()),
                    source: Some(a.source.display().to_string()),
                    typ: Some(MountType::BIND),
                    read_only: Some(true),
                    ..Default::default()
                }),
        );
        let give_back = |error: StartError| async {
            for volume in &volumes {
                owned.remove_volume(engine, volume).await;
            }
            error
        };
        // On the host's network the engine publishes nothing (and warns when asked to).
        let port_bindings = spec.host_port.is_none().then(|| {
            HashMap::from([(
                spec.port.clone(),
                Some(vec![PortBinding {
                    host_ip: Some(spec.publish_on.clone()),
                    host_port: Some("0".into()),
                }]),
            )])
        });
        let host_config = HostConfig {
            mounts: Some(mounts),
            port_bindings,
            memory: spec.memory_bytes,
            memory_swap: spec.memory_bytes,
            readonly_rootfs: Some(spec.read_only_root),
            network_mode: spec.network.clone(),
            extra_hosts: Some(spec.extra_hosts.clone()),
            tmpfs: Some(spec.tmpfs.iter().cloned().collect()),
            log_config: Some(log_config()),
            // As in Lambda: at most 1,024 processes and threads, and 1,024 open files.
            pids_limit: Some(PIDS_LIMIT),
            ulimits: Some(vec![ResourcesUlimits {
                name: Some("nofile".into()),
                soft: Some(NOFILE_LIMIT),
                hard: Some(NOFILE_LIMIT),
            }]),
            // As in Lambda: no capabilities, and nothing gains privileges by exec.
            cap_drop: Some(vec!["ALL".into()]),
            security_opt: Some(vec!["no-new-privileges".into()]),
            privileged: Some(false),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            entrypoint: spec.entrypoint.clone(),
            cmd: spec.cmd.clone(),
            env: Some(spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(super::owned_by_me(&spec.labels)),
            exposed_ports: spec.host_port.is_none().then(|| vec![spec.port.clone()]),
            host_config: Some(host_config),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(spec.name.clone()),
            platform: spec.platform.clone().unwrap_or_default(),
        };
        let created = match engine.docker.create_container(Some(options), body).await {
            Ok(created) => created,
            Err(source) => {
                let image = spec.image.clone();
                return Err(give_back(StartError::Create { image, source }).await);
            }
        };
        let id = created.id;
        owned.insert(&id);
        if let Some(network) = &spec.also_join {
            let request = NetworkConnectRequest {
                container: id.clone(),
                ..Default::default()
            };
            if let Err(e) = engine.docker.connect_network(network, request).await {
                let _ = remove(engine, &id).await;
                owned.forget(&id);
                return Err(give_back(StartError::Start(e)).await);
            }
        }
        // Attached before it starts, so that not a byte of its output is missed.
        let logs = match Logs::attach(engine, &id, framing).await {
            Ok(logs) => logs,
            Err(e) => {
                let _ = remove(engine, &id).await;
                owned.forget(&id);
                return Err(give_back(StartError::Attach(e)).await);
            }
        };
        let ooms = Arc::new(AtomicU64::new(0));
        let oom_watch = tokio::spawn(follow_ooms(engine.clone(), id.clone(), ooms.clone()));
        if let Err(e) = engine.docker.start_container(&id, None).await {
            oom_watch.abort();
            let _ = remove(engine, &id).await;
            owned.forget(&id);
            return Err(give_back(StartError::Start(e)).await);
        }
        let mut container = Container {
            logs,
            id,
            name: spec.name.clone(),
            port: 0,
            address: None,
            engine: engine.clone(),
            owned: owned.clone(),
            volumes,
            settled: false,
            ooms,
            oom_watch,
        };
        if let Some(port) = spec.host_port {
            container.port = port;
            return Ok(container);
        }
        match published_port(engine, &container.id, &spec.port).await {
            Some((port, networks)) => {
                container.port = port;
                container.address = spec
                    .reach_on
                    .as_ref()
                    .and_then(|net| networks.get(net)?.ip_address.clone())
                    .filter(|ip| !ip.is_empty());
                Ok(container)
            }
            // A container that exited at once (a bad command, say) has no ports.
            None => {
                let running = container.still_running().await?;
                running.remove().await;
                Err(StartError::NoPort {
                    port: spec.port.clone(),
                })
            }
        }
    }

    /// Hands the container back if it still runs; if it stopped, removes it and says why,
    /// with what it wrote.
    pub async fn still_running(self) -> Result<Container, StartError> {
        let how = match self.state().await {
            State::Running => return Ok(self),
            State::Exited { exit_code, .. } => format!("with code {exit_code}"),
            State::Gone => "and was removed".to_string(),
        };
        self.logs
            .settle(Duration::from_millis(100), Duration::from_secs(1))
            .await;
        let logs = self.logs.so_far();
        self.remove().await;
        Err(StartError::Exited { how, logs })
    }

    /// How many times the engine has reported the container out of memory.
    pub fn oom_count(&self) -> u64 {
        self.ooms.load(Ordering::SeqCst)
    }

    /// Whether the container still runs, and if not how it ended.
    pub async fn state(&self) -> State {
        match self.engine.docker.inspect_container(&self.id, None).await {
            Ok(info) => {
                let state = info.state.unwrap_or_default();
                if state.running == Some(true) {
                    State::Running
                } else {
                    State::Exited {
                        exit_code: state.exit_code.unwrap_or(-1),
                        oom_killed: state.oom_killed.unwrap_or(false),
                    }
                }
            }
            Err(_) => State::Gone,
        }
    }

    /// Leaves the container running after this process ends, with its volumes.
    pub fn keep(mut self) {
        self.owned.forget(&self.id);
        for volume in &self.volumes {
            self.owned.forget_volume(volume);
        }
        self.settled = true;
    }

    /// Removes the container, then its volumes, in the background: the run's sweep waits for
    /// it.
    pub fn remove_later(self) {
        // Dropped unsettled, it is removed so.
        drop(self);
    }

    /// Removes the container, then its volumes.
    pub async fn remove(mut self) {
        let _ = remove(&self.engine, &self.id).await;
        self.owned.forget(&self.id);
        for volume in &self.volumes {
            self.owned.remove_volume(&self.engine, volume).await;
        }
        self.settled = true;
    }
}

/// Counts the engine's `oom` events for container `id`: the kernel killed a process of it for
/// exceeding its memory limit (the container itself may keep running).
async fn follow_ooms(engine: Engine, id: String, ooms: Arc<AtomicU64>) {
    use futures_util::StreamExt;
    let filters = HashMap::from([
        ("container".to_string(), vec![id]),
        ("event".to_string(), vec!["oom".to_string()]),
    ]);
    let options = bollard::query_parameters::EventsOptions {
        filters: Some(filters),
        ..Default::default()
    };
    let mut events = engine.docker.events(Some(options));
    while let Some(event) = events.next().await {
        if event.is_ok() {
            ooms.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The engine's own log of the container, which lambda-ci does not read (it attaches): a
/// json-file log capped at 3 × 10 MB, whatever the engine's default, so that a flood cannot fill
/// its disk, nothing is sent to a remote log driver, and `docker logs` works on a kept
/// container.
fn log_config() -> HostConfigLogConfig {
    HostConfigLogConfig {
        typ: Some("json-file".into()),
        config: Some(HashMap::from([
            ("max-size".to_string(), "10m".to_string()),
            ("max-file".to_string(), "3".to_string()),
        ])),
    }
}

/// The host port published for `port`, and the container's networks.
async fn published_port(
    engine: &Engine,
    id: &str,
    port: &str,
) -> Option<(u16, HashMap<String, EndpointSettings>)> {
    let info = engine.docker.inspect_container(id, None).await.ok()?;
    let settings = info.network_settings?;
    let bindings = settings.ports?.get(port)?.clone()?;
    let published = bindings
        .iter()
        .find_map(|b| b.host_port.as_deref()?.parse().ok())?;
    Some((published, settings.networks.unwrap_or_default()))
}
