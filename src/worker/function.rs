//! The Lambda rules for a function's container: the image and handler, the environment Lambda
//! sets, where code and layers go (`/var/task`, `/opt`, and `/var/runtime` for custom
//! runtimes), and the memory limit. The result is a plain container spec for `docker/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::artifact::Unpacked;
use crate::docker::{Artifact, ContainerSpec, Delivery, LABEL, RUN_LABEL, SUITE_LABEL, Witness};
use crate::suite::{Architecture, Credentials, Function, RuntimeApi};

/// The port RIE listens on inside the container, and lambda-ci's agent in its place.
pub const RIE_PORT: u16 = lambda_ci_wire::INVOKE_PORT;

/// Placeholder credentials: non-empty, so SDK credential chains do not fail on the empty
/// strings RIE would otherwise pass, and plainly not real.
const PLACEHOLDER_CREDENTIALS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "LAMBDACIPLACEHOLDERKEY"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "lambda-ci-placeholder-secret-not-a-real-key",
    ),
    ("AWS_SESSION_TOKEN", "lambda-ci-placeholder-session-token"),
];

/// What functions take from the caller's environment, read once per run: the AWS
/// credentials, for functions that inherit them, and the variables `environment:` values
/// name with `${NAME}`. All of it is secret, kept out of every report.
#[derive(Debug, Clone, Default)]
pub struct CallerCredentials {
    credentials: Vec<(String, String)>,
    vars: Vec<(String, String)>,
}

impl CallerCredentials {
    /// Those of `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` that
    /// `var` finds set (the environment, as `config` read it).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> CallerCredentials {
        CallerCredentials {
            credentials: PLACEHOLDER_CREDENTIALS
                .iter()
                .filter_map(|(k, _)| Some((k.to_string(), var(k)?)))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
            vars: Vec::new(),
        }
    }

    /// The credentials and their values.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.credentials
    }

    /// The `${NAME}` variables and their values.
    pub fn vars(&self) -> &[(String, String)] {
        &self.vars
    }

    /// What is to be kept out of every report: the `${NAME}` values, and the credentials when
    /// a function `inherits` them.
    pub fn secrets(&self, inherits: bool) -> Vec<(String, String)> {
        let mut secrets = self.vars.clone();
        if inherits {
            secrets.extend(self.credentials.iter().cloned());
        }
        secrets
    }

    /// With the variables that `suites` take with `${NAME}`, as `var` finds them (the
    /// environment, as `config` read it); each one that is not set is an error at the line
    /// that asks for it.
    pub fn with_vars(
        mut self,
        suites: &[&crate::suite::Suite],
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, crate::suite::LoadErrors> {
        let mut unset = Vec::new();
        for suite in suites {
            for (name, pos) in &suite.function.caller_vars {
                if self.vars.iter().any(|(n, _)| n == name) {
                    continue;
                }
                let Some(value) = var(name) else {
                    unset.push(crate::suite::LoadError {
                        file: suite.file.clone(),
                        pos: Some(*pos),
                        message: format!(
                            "`${{{name}}}` takes {name} from your environment, but it is not set"
                        ),
                        hint: Some(format!(
                            "export it (`export {name}=...`), or write `$${{{name}}}` for the literal text"
                        )),
                    });
                    continue;
                };
                self.vars.push((name.clone(), value));
            }
        }
        if unset.is_empty() {
            Ok(self)
        } else {
            Err(crate::suite::LoadErrors(unset))
        }
    }

    fn var(&self, name: &str) -> String {
        let found = self.vars.iter().find(|(n, _)| n == name);
        found.map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

/// What starts the runtime in a function's container.
#[derive(Debug, Clone, PartialEq)]
pub enum Starter {
    /// The image's entrypoint, which starts RIE.
    Rie,
    /// lambda-ci's agent, in place of the image's entrypoint, which it runs with the
    /// image's command (or the handler) to start the runtime.
    Agent {
        /// The directory on this machine holding the agent.
        dir: PathBuf,
        entrypoint: Vec<String>,
        cmd: Vec<String>,
    },
}

impl Starter {
    pub fn api(&self) -> RuntimeApi {
        match self {
            Starter::Rie => RuntimeApi::Rie,
            Starter::Agent { .. } => RuntimeApi::LambdaCi,
        }
    }
}

/// Where a function's containers run and how they are reached: the image, how artifacts get
/// in, and the host their published port is reached at.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    pub image: &'a str,
    pub delivery: Delivery,
    pub invoke_host: &'a str,
    /// The network lambda-ci's own container is on, when it runs in one: the function's
    /// containers join it and are reached there.
    pub own_network: Option<&'a str>,
    /// The run's own network (see `docker::network`), for a function on neither the suite's
    /// network nor lambda-ci's.
    pub run_network: Option<&'a str>,
    pub starter: &'a Starter,
}

/// What every container of one function is made from; the same for a replacement.
pub struct Blueprint {
    /// The spec, named by [`Blueprint::spec`].
    spec: ContainerSpec,
    /// The function's name as a container name can hold it.
    stem: String,
    run_id: String,
    /// The function's timeout, which bounds every invocation.
    pub timeout: Duration,
    /// The instruction set the function is built for.
    pub architecture: Architecture,
    /// The host the containers' published port is reached at.
    pub invoke_host: String,
    /// What serves the Runtime API in the containers.
    pub api: RuntimeApi,
    /// The merged layers mounted at /opt, removed when the blueprint goes unless kept.
    merged_layers: Mutex<Option<tempfile::TempDir>>,
    /// Whether a container of it runs the code as it is on this machine and can start its
    /// runtime again in place: the agent, with code and layers bind-mounted from directories
    /// (a volume's copy would be the old code; a zip's unpacked copy goes with its run). A
    /// change to layers, merged into a copy, makes a new blueprint.
    pub in_place: bool,
    /// Active tracing: calls without a trace header get a sampled one.
    pub tracing: bool,
}

impl Blueprint {
    /// The container for `function`, declared in `suite_file`, in run `run_id`. Several layers
    /// are merged here, once, into one directory for `/opt`.
    pub fn new(
        function: &Function,
        placement: Placement,
        unpacked: &Unpacked,
        credentials: (Credentials, &CallerCredentials),
        suite_file: &Path,
        run_id: &str,
    ) -> std::io::Result<Blueprint> {
        let Placement {
            image,
            delivery,
            invoke_host,
            own_network,
            run_network,
            starter,
        } = placement;
        // Inside a container, lambda-ci reaches the function on its own network; a function
        // on a network of the suite's choosing joins lambda-ci's network as well.
        let network = function
            .network
            .clone()
            .or(own_network.map(str::to_string))
            .or(run_network.map(str::to_string));
        let reach_on = own_network.map(str::to_string);
        let also_join = own_network
            .filter(|own| network.as_deref() != Some(*own))
            .map(str::to_string);
        let mut artifacts = Vec::new();
        if let Some(code) = &function.code {
            let code = unpacked.dir(code);
            artifacts.push(read_only(&code, "/var/task", delivery));
            if function.custom_runtime {
                // The entrypoint runs /var/runtime/bootstrap, which provided.* images lack;
                // a custom runtime's bootstrap sits at the root of its code.
                artifacts.push(read_only(&code, "/var/runtime", delivery));
            }
        }
        let layers: Vec<PathBuf> = function.layers.iter().map(|l| unpacked.dir(l)).collect();
        let merged_layers = match layers.as_slice() {
            [] => None,
            [one] => {
                artifacts.push(read_only(one, "/opt", delivery));
                None
            }
            many => {
                let dir = merge_layers(many)?;
                artifacts.push(read_only(dir.path(), "/opt", delivery));
                Some(dir)
            }
        };
        let in_place = matches!(starter, Starter::Agent { .. })
            && delivery == Delivery::BindReadOnly
            && !function.code.iter().chain(&function.layers).any(|p| p.zip);
        let memory = i64::from(function.memory) * 1024 * 1024;
        let env = environment(function, credentials, run_id);
        let (entrypoint, cmd) = match starter {
            Starter::Rie => (None, function.handler.clone().map(|h| vec![h])),
            Starter::Agent {
                dir,
                entrypoint,
                cmd,
            } => {
                artifacts.push(read_only(dir, super::agent::DIR, delivery));
                // The image's entrypoint, with the handler in place of its command.
                let mut command = entrypoint.clone();
                match &function.handler {
                    Some(handler) => command.push(handler.clone()),
                    None => command.extend(cmd.iter().cloned()),
                }
                let handler = function.handler.clone().or_else(|| cmd.first().cloned());
                let version = function
                    .runtime
                    .as_deref()
                    .map(super::agent::runtime_version);
                // What the engine or lambda-ci sets that the service never shows a function,
                // unless the function's own environment sets it.
                let hidden: Vec<&str> = ["AWS_LAMBDA_FUNCTION_TIMEOUT", "HOME", "HOSTNAME"]
                    .into_iter()
                    .filter(|name| !function.environment.contains_key(*name))
                    .collect();
                let agent =
                    super::agent::entrypoint(handler.as_deref(), version.as_deref(), &hidden);
                (Some(agent), Some(command))
            }
        };
        Ok(Blueprint {
            spec: ContainerSpec {
                name: String::new(),
                image: image.to_string(),
                platform: Some(function.architecture.platform().to_string()),
                entrypoint,
                cmd,
                env,
                artifacts,
                memory_bytes: Some(memory),
                labels: HashMap::from([
                    (LABEL.to_string(), "1".to_string()),
                    (RUN_LABEL.to_string(), run_id.to_string()),
                    (SUITE_LABEL.to_string(), suite_file.display().to_string()),
                ]),
                port: format!("{RIE_PORT}/tcp"),
                // As in Lambda: everything read-only but /tmp, sized as ephemeral storage, where
                // programs may still be run.
                read_only_root: true,
                network,
                also_join,
                reach_on,
                host_port: None,
                // Loopback keeps RIE private to this machine; an engine reached elsewhere can
                // only be invoked through its host's other interfaces.
                publish_on: if crate::docker::is_loopback(invoke_host) {
                    "127.0.0.1".to_string()
                } else {
                    "0.0.0.0".to_string()
                },
                extra_hosts: function
                    .add_hosts
                    .iter()
                    .map(|(name, address)| format!("{name}:{address}"))
                    .collect(),
                tmpfs: vec![(
                    "/tmp".to_string(),
                    format!(
                        "rw,exec,nosuid,nodev,size={}m,mode=1777",
                        function.ephemeral_storage
                    ),
                )],
            },
            stem: container_name_part(&function.name),
            run_id: run_id.to_string(),
            timeout: Duration::from_secs(function.timeout.into()),
            architecture: function.architecture,
            invoke_host: invoke_host.to_string(),
            api: starter.api(),
            merged_layers: Mutex::new(merged_layers),
            in_place,
            tracing: function.tracing,
        })
    }

    /// The spec of `worker`'s container; each replacement (`generation` > 0) gets a name of its
    /// own, in case the old container is not gone yet.
    pub fn spec(&self, worker: crate::plan::WorkerId) -> ContainerSpec {
        let (suite, slot) = (worker.suite.0, worker.slot);
        let mut name = format!("lambda-ci-{}-{suite}-{slot}-{}", self.run_id, self.stem);
        if worker.generation > 0 {
            name = format!("{name}-{}", worker.generation);
        }
        ContainerSpec {
            name,
            ..self.spec.clone()
        }
    }

    /// A small file of the bind-mounted artifacts, by which a container shows that the engine
    /// sees this machine's files.
    pub fn witness(&self) -> Option<Witness> {
        self.spec
            .artifacts
            .iter()
            .filter(|a| a.delivery == Delivery::BindReadOnly)
            .find_map(|a| Witness::of(&a.source, &a.target))
    }

    /// The directories of this machine a container of it bind-mounts, each with what it is
    /// now (device and inode): one deleted and made again (a build tool's clean output
    /// directory) is another directory, which a running container does not see.
    pub fn bound(&self) -> Vec<(PathBuf, Option<(u64, u64)>)> {
        self.spec
            .artifacts
            .iter()
            .filter(|a| a.delivery == Delivery::BindReadOnly)
            .map(|a| (a.source.clone(), identity(&a.source)))
            .collect()
    }

    /// Leaves the merged layers on disk for a container kept after the run.
    pub fn keep_files(&self) {
        let mut dir = self.merged_layers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dir) = dir.take() {
            let _ = dir.keep();
        }
    }
}

/// Which directory `path` is now: its device and inode.
pub fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

fn read_only(source: &Path, target: &str, delivery: Delivery) -> Artifact {
    Artifact {
        source: source.to_path_buf(),
        target: target.to_string(),
        delivery,
    }
}

/// The variables Lambda sets for the function, then the user's, which win.
fn environment(
    function: &Function,
    (credentials, caller): (Credentials, &CallerCredentials),
    run_id: &str,
) -> Vec<(String, String)> {
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
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
        (
            "AWS_LAMBDA_LOG_GROUP_NAME".into(),
            format!("/aws/lambda/{}", function.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME".into(), log_stream(run_id)),
        pair("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        pair("LAMBDA_TASK_ROOT", "/var/task"),
        pair("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        pair("TZ", ":UTC"),
        pair("LANG", "en_US.UTF-8"),
        pair(
            "PATH",
            "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        ),
        pair(
            "LD_LIBRARY_PATH",
            "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
        ),
        pair("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2000"),
        pair("_AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129"),
        pair("_AWS_XRAY_DAEMON_PORT", "2000"),
        pair("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"),
    ];
    // Lambda names the managed runtime; custom runtimes and images get none.
    if let Some(runtime) = function
        .runtime
        .as_ref()
        .filter(|_| !function.custom_runtime)
    {
        env.push(("AWS_EXECUTION_ENV".into(), format!("AWS_Lambda_{runtime}")));
    }
    match credentials {
        Credentials::Placeholder => env.extend(PLACEHOLDER_CREDENTIALS.map(|(k, v)| pair(k, v))),
        Credentials::Inherit => env.extend(caller.credentials.iter().cloned()),
    }
    // Lambda sets both region variables to the same value; a user's AWS_REGION moves both.
    let mut user = function.environment.clone();
    if let Some(region) = user.get("AWS_REGION").cloned() {
        user.entry("AWS_DEFAULT_REGION".into()).or_insert(region);
    }
    for (k, v) in user {
        env.retain(|(name, _)| *name != k);
        env.push((k, crate::suite::vars::substitute(&v, |n| caller.var(n))));
    }
    env
}

/// A log stream name shaped like Lambda's: `2026/11/25/[$LATEST]` and 32 hex digits.
fn log_stream(run_id: &str) -> String {
    let date = chrono::Utc::now().format("%Y/%m/%d");
    let mut hex: String = run_id.chars().filter(char::is_ascii_hexdigit).collect();
    hex = format!("{hex:0>32}");
    format!("{date}/[$LATEST]{}", &hex[hex.len() - 32..])
}

fn container_name_part(name: &str) -> String {
    crate::suite::safe_name(name)
}

/// Copies `layers` in order into a fresh directory, later layers overwriting earlier ones.
fn merge_layers(layers: &[PathBuf]) -> std::io::Result<tempfile::TempDir> {
    let dir = crate::scratch::dir("opt")?;
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
    use crate::suite::{Package, Pos};

    fn function() -> Function {
        Function {
            name: "hello world".into(),
            image: "public.ecr.aws/lambda/provided:al2023".into(),
            handler: Some("bootstrap".into()),
            custom_runtime: true,
            code: Some(Package {
                path: PathBuf::from("/src/fn"),
                zip: false,
                pos: Pos::default(),
                held: None,
            }),
            layers: vec![],
            environment: [("AWS_REGION".to_string(), "eu-west-1".to_string())].into(),
            caller_vars: Vec::new(),
            secrets: Vec::new(),
            resource: None,
            tracing: false,
            timeout: 7,
            memory: 256,
            runtime: Some("provided.al2023".into()),
            ephemeral_storage: 1024,
            aws_credentials: Credentials::Placeholder,
            architecture: crate::suite::Architecture::X86_64,
            build: None,
            network: None,
            add_hosts: Default::default(),
            edge: None,
            http: Vec::new(),
            authorizers: Vec::new(),
            pos: Pos::default(),
        }
    }

    fn has(spec: &ContainerSpec, key: &str, value: &str) -> bool {
        spec.env.contains(&(key.to_string(), value.to_string()))
    }

    #[test]
    fn custom_runtimes_get_their_code_at_var_runtime_too() {
        let blueprint = Blueprint::new(
            &function(),
            Placement {
                image: "public.ecr.aws/lambda/provided:al2023",
                delivery: Delivery::BindReadOnly,
                invoke_host: "127.0.0.1",
                own_network: None,
                run_network: None,
                starter: &Starter::Rie,
            },
            &Unpacked::default(),
            (Credentials::Placeholder, &CallerCredentials::default()),
            Path::new("cases/a.yaml"),
            "r1",
        )
        .unwrap();
        let worker = |suite, slot, generation| crate::plan::WorkerId {
            suite: crate::plan::SuiteId(suite),
            slot,
            generation,
        };
        let spec = blueprint.spec(worker(0, 0, 0));
        let targets: Vec<_> = spec
            .artifacts
            .iter()
            .map(|a| (a.source.clone(), a.target.as_str(), a.delivery))
            .collect();
        assert_eq!(
            targets,
            vec![
                (
                    PathBuf::from("/src/fn"),
                    "/var/task",
                    Delivery::BindReadOnly
                ),
                (
                    PathBuf::from("/src/fn"),
                    "/var/runtime",
                    Delivery::BindReadOnly
                )
            ]
        );
        assert_eq!(spec.name, "lambda-ci-r1-0-0-hello-world");
        assert_eq!(
            blueprint.spec(worker(3, 2, 1)).name,
            "lambda-ci-r1-3-2-hello-world-1"
        );
        assert_eq!(spec.memory_bytes, Some(256 * 1024 * 1024));
        assert!(has(&spec, "AWS_LAMBDA_FUNCTION_TIMEOUT", "7"));
        assert!(has(&spec, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"));
        // The user's environment wins over the defaults, without duplicates.
        assert!(has(&spec, "AWS_REGION", "eu-west-1"));
        assert!(!has(&spec, "AWS_REGION", "us-east-1"));
        assert!(has(&spec, "AWS_DEFAULT_REGION", "eu-west-1"));
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
