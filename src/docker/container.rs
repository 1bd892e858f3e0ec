//! The containers lambda-ci boots: how they are created, and the registry that guarantees
//! their removal whatever way the run ends.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, RemoveContainerOptions,
};

use super::{Engine, LABEL, LogLine, Logs, RUN_LABEL, SUITE_LABEL};
use crate::suite::Function;

/// The port RIE listens on inside the container.
const RIE_PORT: &str = "8080/tcp";

/// Everything needed to create a function's container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    /// A readable container name (unique per run).
    pub name: String,
    pub image: String,
    pub cmd: Option<Vec<String>>,
    /// Bind mounts: host path, container path. All read-only.
    pub binds: Vec<(PathBuf, String)>,
    /// Layer directories to merge into `/opt`.
    pub layers: Vec<PathBuf>,
    pub env: Vec<String>,
    pub memory_bytes: i64,
    pub labels: HashMap<String, String>,
}

impl ContainerSpec {
    /// The container for `function`, as declared in `suite_file`, in run `run_id`.
    pub fn for_function(
        function: &Function,
        suite_file: &Path,
        run_id: &str,
        seq: usize,
    ) -> ContainerSpec {
        let mut binds = Vec::new();
        if let Some(code) = &function.code {
            binds.push((code.clone(), "/var/task".to_string()));
            if function.custom_runtime {
                // The entrypoint runs /var/runtime/bootstrap, which provided.* images lack;
                // a custom runtime's bootstrap sits at the root of its code.
                binds.push((code.clone(), "/var/runtime".to_string()));
            }
        }
        let mut env: Vec<(String, String)> = vec![
            ("AWS_LAMBDA_FUNCTION_NAME".into(), function.name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION".into(), "$LATEST".into()),
            (
                "AWS_LAMBDA_FUNCTION_TIMEOUT".into(),
                function.timeout.to_string(),
            ),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE".into(),
                function.memory.to_string(),
            ),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
        ];
        // Lambda sets both region variables to the same value; a user's AWS_REGION moves both.
        let mut user = function.environment.clone();
        if let Some(region) = user.get("AWS_REGION").cloned() {
            user.entry("AWS_DEFAULT_REGION".into()).or_insert(region);
        }
        for (k, v) in user {
            env.retain(|(name, _)| *name != k);
            env.push((k, v));
        }
        let safe: String = function
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        ContainerSpec {
            name: format!("lambda-ci-{run_id}-{seq}-{safe}"),
            image: function.image.clone(),
            cmd: function.handler.clone().map(|h| vec![h]),
            binds,
            layers: function.layers.clone(),
            env: env.into_iter().map(|(k, v)| format!("{k}={v}")).collect(),
            memory_bytes: i64::from(function.memory) * 1024 * 1024,
            labels: HashMap::from([
                (LABEL.to_string(), "1".to_string()),
                (RUN_LABEL.to_string(), run_id.to_string()),
                (SUITE_LABEL.to_string(), suite_file.display().to_string()),
            ]),
        }
    }
}

/// Why a container could not be booted.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error("cannot merge the layers into one directory for /opt")]
    Layers(#[source] std::io::Error),
    #[error("cannot create a container from {image}")]
    Create {
        image: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("cannot start the container")]
    Start(#[source] bollard::errors::Error),
    #[error("the engine did not publish port 8080 of the container")]
    NoPort,
    #[error("the container exited during start {how}")]
    Exited {
        /// `with code N`, or how else it went.
        how: String,
        /// What the container wrote before it stopped.
        logs: Vec<LogLine>,
    },
}

/// The containers of this process that still exist; whatever ends the run, they are removed.
#[derive(Clone, Default)]
pub struct Registry {
    ids: Arc<Mutex<HashSet<String>>>,
}

impl Registry {
    fn ids(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes every container still registered, and any other container labelled with
    /// `run_id` (one whose creation was cut short before its id came back).
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

async fn remove(engine: &Engine, id: &str) -> Result<(), bollard::errors::Error> {
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

/// The state of a container as the engine sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Running,
    Exited { exit_code: i64, oom_killed: bool },
    Gone,
}

/// A running function container, owned by the run that booted it.
pub struct Container {
    pub id: String,
    pub name: String,
    /// The host port on 127.0.0.1 that reaches RIE.
    pub port: u16,
    pub logs: Logs,
    engine: Engine,
    registry: Registry,
    /// The merged layers mounted at /opt; removed with the container.
    layers: Option<tempfile::TempDir>,
}

impl Container {
    /// Creates and starts a container for `spec`; it is registered for removal from the moment
    /// it exists.
    pub async fn boot(
        engine: &Engine,
        registry: &Registry,
        spec: &ContainerSpec,
    ) -> Result<Container, BootError> {
        let (layers_dir, opt) = match spec.layers.as_slice() {
            [] => (None, None),
            [one] => (None, Some(one.clone())),
            many => {
                let dir = merge_layers(many).map_err(BootError::Layers)?;
                let path = dir.path().to_path_buf();
                (Some(dir), Some(path))
            }
        };
        let mut mounts: Vec<Mount> = spec
            .binds
            .iter()
            .map(|(source, target)| bind(source, target))
            .collect();
        if let Some(opt) = &opt {
            mounts.push(bind(opt, "/opt"));
        }
        let host_config = HostConfig {
            mounts: Some(mounts),
            port_bindings: Some(HashMap::from([(
                RIE_PORT.to_string(),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some("0".into()),
                }]),
            )])),
            memory: Some(spec.memory_bytes),
            memory_swap: Some(spec.memory_bytes),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: spec.cmd.clone(),
            env: Some(spec.env.clone()),
            labels: Some(spec.labels.clone()),
            exposed_ports: Some(vec![RIE_PORT.to_string()]),
            host_config: Some(host_config),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(spec.name.clone()),
            ..Default::default()
        };
        let created = engine
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|source| BootError::Create {
                image: spec.image.clone(),
                source,
            })?;
        let id = created.id;
        registry.ids().insert(id.clone());
        if let Err(e) = engine.docker.start_container(&id, None).await {
            let _ = remove(engine, &id).await;
            registry.ids().remove(&id);
            return Err(BootError::Start(e));
        }
        let mut container = Container {
            logs: Logs::follow(engine, &id),
            id,
            name: spec.name.clone(),
            port: 0,
            engine: engine.clone(),
            registry: registry.clone(),
            layers: layers_dir,
        };
        match published_port(engine, &container.id).await {
            Some(port) => {
                container.port = port;
                Ok(container)
            }
            // A container that exited at once (a bad handler argument, say) has no ports.
            None => match container.fail_at_start().await {
                Ok(exited) => Err(exited),
                Err(running) => {
                    running.remove().await;
                    Err(BootError::NoPort)
                }
            },
        }
    }

    /// If the container has stopped, removes it and returns why, with what it wrote; if it
    /// still runs, hands it back.
    pub async fn fail_at_start(self) -> Result<BootError, Container> {
        let how = match self.state().await {
            State::Running => return Err(self),
            State::Exited { exit_code, .. } => format!("with code {exit_code}"),
            State::Gone => "and was removed".to_string(),
        };
        self.logs
            .settle(Duration::from_millis(100), Duration::from_secs(1))
            .await;
        let logs = self.logs.since(0);
        self.remove().await;
        Ok(BootError::Exited { how, logs })
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

    /// Leaves the container running after the run (`--keep`), with its merged layers.
    pub fn keep(self) {
        self.registry.ids().remove(&self.id);
        if let Some(dir) = self.layers {
            let _ = dir.keep();
        }
    }

    /// Removes the container (and its merged layers).
    pub async fn remove(self) {
        let _ = remove(&self.engine, &self.id).await;
        self.registry.ids().remove(&self.id);
    }
}

async fn published_port(engine: &Engine, id: &str) -> Option<u16> {
    let info = engine.docker.inspect_container(id, None).await.ok()?;
    let ports = info.network_settings?.ports?;
    let bindings = ports.get(RIE_PORT)?.as_ref()?;
    bindings
        .iter()
        .find_map(|b| b.host_port.as_deref()?.parse().ok())
}

fn bind(source: &Path, target: &str) -> Mount {
    Mount {
        target: Some(target.to_string()),
        source: Some(source.display().to_string()),
        typ: Some(MountType::BIND),
        read_only: Some(true),
        ..Default::default()
    }
}

/// Copies `layers` in order into a fresh directory, later layers overwriting earlier ones.
fn merge_layers(layers: &[PathBuf]) -> std::io::Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix("lambda-ci-opt-")
        .tempdir()?;
    for layer in layers {
        copy_tree(layer, dir.path())?;
    }
    // The merged tree must be readable by the function's user inside the container.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    Ok(dir)
}

/// Removes whatever an earlier layer put at `target`, except a real directory when `keep_dir`
/// (directories merge; anything else is replaced).
fn clear(target: &Path, keep_dir: bool) -> std::io::Result<()> {
    match std::fs::symlink_metadata(target) {
        Ok(meta) if meta.is_dir() => {
            if keep_dir {
                Ok(())
            } else {
                std::fs::remove_dir_all(target)
            }
        }
        Ok(_) => std::fs::remove_file(target),
        Err(_) => Ok(()),
    }
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            clear(&target, true)?;
            std::fs::create_dir_all(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_symlink() {
            clear(&target, false)?;
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            clear(&target, false)?;
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::Pos;

    fn function() -> Function {
        Function {
            name: "hello world".into(),
            image: "public.ecr.aws/lambda/provided:al2023".into(),
            handler: Some("bootstrap".into()),
            custom_runtime: true,
            code: Some(PathBuf::from("/src/fn")),
            layers: vec![],
            environment: [("AWS_REGION".to_string(), "eu-west-1".to_string())].into(),
            timeout: 7,
            memory: 256,
            pos: Pos::default(),
        }
    }

    #[test]
    fn custom_runtimes_get_their_code_at_var_runtime_too() {
        let spec = ContainerSpec::for_function(&function(), Path::new("cases/a.yaml"), "r1", 0);
        assert_eq!(
            spec.binds,
            vec![
                (PathBuf::from("/src/fn"), "/var/task".to_string()),
                (PathBuf::from("/src/fn"), "/var/runtime".to_string())
            ]
        );
        assert_eq!(spec.name, "lambda-ci-r1-0-hello-world");
        assert_eq!(spec.memory_bytes, 256 * 1024 * 1024);
        assert!(
            spec.env
                .contains(&"AWS_LAMBDA_FUNCTION_TIMEOUT=7".to_string())
        );
        assert!(
            spec.env
                .contains(&"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256".to_string())
        );
        // The user's environment wins over the defaults, without duplicates.
        assert!(spec.env.contains(&"AWS_REGION=eu-west-1".to_string()));
        assert!(!spec.env.contains(&"AWS_REGION=us-east-1".to_string()));
        assert!(
            spec.env
                .contains(&"AWS_DEFAULT_REGION=eu-west-1".to_string())
        );
        assert_eq!(spec.labels[RUN_LABEL], "r1");
    }

    #[test]
    fn later_layers_win_when_merged() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(a.path().join("python")).unwrap();
        std::fs::write(a.path().join("python/shared.py"), "a").unwrap();
        std::fs::write(a.path().join("python/only_a.py"), "a").unwrap();
        std::fs::create_dir_all(b.path().join("python")).unwrap();
        std::fs::write(b.path().join("python/shared.py"), "b").unwrap();
        let merged = merge_layers(&[a.path().to_path_buf(), b.path().to_path_buf()]).unwrap();
        let read = |p: &str| std::fs::read_to_string(merged.path().join(p)).unwrap();
        assert_eq!(read("python/shared.py"), "b");
        assert_eq!(read("python/only_a.py"), "a");
    }
}
