//! A run's configuration, checked: what the library needs to run, whatever front end built it.

use std::path::PathBuf;

use crate::docker::PullPolicy;
use crate::select::Selection;
use crate::suite::{Credentials, Suite};
use crate::worker::CallerCredentials;

/// Why the settings cannot be used: a leaf of its own, so that nothing the settings are made of
/// depends on the errors that stop a run (`crate::error` turns it into one).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A `${NAME}` a suite asks for is not set; every one is listed.
    #[error("{0}")]
    Load(crate::suite::LoadErrors),
    /// A setting that cannot be used, with what to do.
    #[error("{0}")]
    Usage(String),
}

/// Everything `lambda-ci run` needs, validated.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Suite files, or directories searched for suites.
    pub paths: Vec<PathBuf>,
    /// What is passed to the templates suites name.
    pub load: crate::suite::LoadOptions,
    /// Where to write a JUnit XML report, if anywhere.
    pub junit: Option<PathBuf>,
    /// Where to write the JSON report, if anywhere.
    pub json: Option<PathBuf>,
    pub pull: PullPolicy,
    /// Leave the containers running after the run.
    pub keep: bool,
    /// Overrides every function's `aws_credentials`.
    pub aws_credentials: Option<Credentials>,
    /// `--runtime-api`: overrides every suite's `runtime_api`.
    pub runtime_api: Option<crate::suite::RuntimeApi>,
    /// How code and layers reach the containers.
    pub mount: MountMode,
    /// `--invoke-host`: the host the containers' published ports are reached at.
    pub invoke_host: Option<String>,
    /// Which cases run (`--filter`, `--partition`).
    pub selection: Selection,
    /// Skip every case after the first that does not pass.
    pub fail_fast: bool,
    /// Skip every case once this many did not pass (`--fail-fast` is 1).
    pub max_fail: Option<usize>,
    /// `--jobs`: how many containers may serve at once.
    pub jobs: usize,
    /// How the run reports to the terminal or CI log.
    pub reporter: ReporterMode,
    /// `--update-snapshots`: record what `snapshot` checks see (refused under CI).
    pub update_snapshots: bool,
    /// What the run takes from its environment, read once.
    pub env: Environment,
    /// `--target URL`: an Invoke API endpoint that runs the functions, instead of containers.
    pub target: Option<String>,
    /// `--sign`: each call to the target is signed with the environment's AWS credentials.
    pub sign: bool,
}

impl Default for RunConfig {
    /// `lambda-ci run` with no flags: the suites under `cases`.
    fn default() -> RunConfig {
        RunConfig {
            paths: vec![PathBuf::from("cases")],
            load: Default::default(),
            junit: None,
            json: None,
            pull: PullPolicy::default(),
            keep: false,
            aws_credentials: None,
            runtime_api: None,
            mount: MountMode::default(),
            invoke_host: None,
            selection: Selection::default(),
            fail_fast: false,
            max_fail: None,
            jobs: default_jobs(),
            reporter: ReporterMode::default(),
            update_snapshots: false,
            env: Environment::default(),
            target: None,
            sign: false,
        }
    }
}

/// `--jobs` when not given: one container per CPU, at least 2. More than that barely speeds a
/// run up (the engine and the runtimes' starts are the limit), and it slows every cold start,
/// which a function's short timeout then turns into a wrong verdict.
pub fn default_jobs() -> usize {
    cpus().max(2)
}

/// How many CPUs this process may use.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// What a run takes from the environment it runs in, read once when the configuration is
/// made: CI and GitHub's files, the caller's credentials and `${NAME}` values, and what it says
/// of the Docker engine. Nothing below reads the environment again, but `TMPDIR` (read once
/// by [`crate::scratch::root`]) and the Docker client library's own `DOCKER_HOST` and
/// `DOCKER_CERT_PATH` as it connects. [`Environment::default`] is an empty one (not CI, not
/// GitHub, no credentials, no engine settings), as tests want.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// `CI` says this runs in CI: snapshots are then never written.
    pub ci: bool,
    /// `GITHUB_ACTIONS=true`: `--reporter auto` reports in GitHub mode.
    pub github_actions: bool,
    /// `GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`, `GITHUB_WORKSPACE`.
    pub github_summary: Option<PathBuf>,
    pub github_output: Option<PathBuf>,
    pub github_workspace: Option<PathBuf>,
    /// The caller's AWS credentials, for functions that inherit them.
    pub caller: CallerCredentials,
    /// What it says of the Docker engine: where, TLS, how long to wait.
    pub engine: crate::docker::EngineEnv,
    /// Every variable, for the `${NAME}` values of functions' `environment:`.
    vars: Vars,
}

/// The process's variables; never shown (secrets among them), not even by `Debug`.
#[derive(Clone, Default)]
struct Vars(std::sync::Arc<std::collections::BTreeMap<String, String>>);

impl std::fmt::Debug for Vars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} variables", self.0.len())
    }
}

impl Environment {
    /// Variable `name`, when set.
    pub fn var(&self, name: &str) -> Option<String> {
        self.vars.0.get(name).cloned()
    }

    /// The caller's credentials, with the variables `suites` take with `${NAME}`; one not set
    /// is an error naming where it is asked for.
    pub fn caller_for(&self, suites: &[&Suite]) -> Result<CallerCredentials, ConfigError> {
        self.caller
            .clone()
            .with_vars(suites, |name| self.vars.0.get(name).cloned())
            .map_err(ConfigError::Load)
    }

    /// The environment of this process.
    pub fn read() -> Environment {
        let vars: std::collections::BTreeMap<String, String> = std::env::vars_os()
            .map(|(k, v)| {
                let text = |s: std::ffi::OsString| s.to_string_lossy().into_owned();
                (text(k), text(v))
            })
            .collect();
        let var = |name: &str| vars.get(name).cloned();
        let path = |name| var(name).map(PathBuf::from);
        Environment {
            ci: var("CI").is_some_and(|v| is_set(&v)),
            github_actions: var("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            github_summary: path("GITHUB_STEP_SUMMARY"),
            github_output: path("GITHUB_OUTPUT"),
            github_workspace: path("GITHUB_WORKSPACE"),
            caller: CallerCredentials::from_lookup(var),
            engine: crate::docker::EngineEnv {
                host: var("DOCKER_HOST"),
                tls_verify: var("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty() && v != "0"),
                timeout: var(crate::docker::TIMEOUT_VAR),
                allow_plain: var("LAMBDA_CI_ALLOW_PLAIN_ENGINE").is_some_and(|v| v == "1"),
            },
            vars: Vars(std::sync::Arc::new(vars)),
        }
    }
}

/// Whether a flag variable is set the way CI services set it (`CI=true`, `CI=1`).
fn is_set(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no"
    )
}

impl RunConfig {
    /// Refuses `inherit` credentials (by `--aws-credentials` or a suite that will run) when
    /// the caller has none to pass: the functions would see empty values, which AWS SDKs read
    /// as no credentials and some code as real ones.
    pub fn check_inherited_credentials(&self, suites: &[&Suite]) -> Result<(), ConfigError> {
        check_inherited(self.aws_credentials, &self.env.caller, suites)
    }

    /// The settings as the JSON report records them.
    pub fn settings(&self) -> serde_json::Value {
        serde_json::json!({
            "paths": self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "filters": self.selection.given_filters,
            "partition": self.selection.given_partition,
            "fail_fast": self.fail_fast,
            "max_fail": self.max_fail,
            "jobs": self.jobs,
            "update_snapshots": self.update_snapshots,
            "pull": self.pull,
            "mount": self.mount,
            "aws_credentials": self.aws_credentials,
            "runtime_api": self.runtime_api,
            "invoke_host": self.invoke_host,
            "junit": self.junit.as_ref().map(|p| p.display().to_string()),
        })
    }
}

/// How a run reports on its standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReporterMode {
    /// GitHub mode when `GITHUB_ACTIONS=true`, else human.
    #[default]
    Auto,
    /// For a person at a terminal or reading a CI log.
    Human,
    /// Human output in groups, with annotations, job summary and step outputs.
    Github,
}

/// How code and layers reach the function containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountMode {
    /// Bind where the engine sees this machine's paths (found out by a probe), copy elsewhere.
    #[default]
    Auto,
    /// Read-only bind mounts of the local paths.
    Bind,
    /// Copies through the archive API, on any engine.
    Copy,
}

/// That functions inheriting the caller's credentials get some: `given_flag` is
/// `--aws-credentials`.
fn check_inherited(
    given_flag: Option<Credentials>,
    caller: &CallerCredentials,
    suites: &[&Suite],
) -> Result<(), ConfigError> {
    let inheriting: Vec<String> = suites
        .iter()
        .filter(|s| given_flag.unwrap_or(s.function.aws_credentials) == Credentials::Inherit)
        .map(|s| s.file.display().to_string())
        .collect();
    let given = caller.pairs();
    let missing: Vec<&str> = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .into_iter()
        .filter(|v| !given.iter().any(|(k, _)| k == v))
        .collect();
    if inheriting.is_empty() || missing.is_empty() {
        return Ok(());
    }
    let asked = if given_flag == Some(Credentials::Inherit) {
        "--aws-credentials inherit".to_string()
    } else {
        format!("`aws_credentials: inherit` in {}", inheriting.join(", "))
    };
    Err(ConfigError::Usage(format!(
        "{asked} passes your AWS credentials to the functions, but {} {} not set; export {} (from a profile: eval \"$(aws configure export-credentials --format env)\"), or use placeholder credentials (--aws-credentials placeholder)",
        missing.join(" and "),
        if missing.len() == 1 { "is" } else { "are" },
        if missing.len() == 1 { "it" } else { "them" },
    )))
}

impl ServeConfig {
    /// Refuses to start when functions inherit the caller's credentials and there are none
    /// (see [`RunConfig::check_inherited_credentials`]).
    pub fn check_inherited_credentials(&self, suites: &[&Suite]) -> Result<(), ConfigError> {
        check_inherited(self.aws_credentials, &self.env.caller, suites)
    }
}

/// Everything `lambda-ci serve` needs, validated.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Suite files, or directories searched for suites, whose functions are served.
    pub paths: Vec<PathBuf>,
    /// What is passed to the templates suites name.
    pub load: crate::suite::LoadOptions,
    /// `--template`: every function of this template is served.
    pub template: Option<PathBuf>,
    /// One function described by flags, served instead of suites.
    pub inline: Option<InlineFunction>,
    pub host: String,
    pub port: u16,
    /// `--api-port`: where the front doors answer; `None`: 3000 if it is free.
    pub api_port: Option<u16>,
    /// Browser origins allowed to call (`--allow-origin`).
    pub allow_origins: Vec<String>,
    /// A token every call must carry (`--token`).
    pub token: Option<String>,
    /// Boot every container at start rather than on the first calls.
    pub warm: bool,
    /// Replace a function's containers when its files change (`--no-watch` turns it off).
    pub watch: bool,
    /// Poll for changes rather than rely on inotify (`--poll`).
    pub poll: bool,
    pub pull: PullPolicy,
    pub mount: MountMode,
    pub invoke_host: Option<String>,
    pub aws_credentials: Option<Credentials>,
    pub runtime_api: Option<crate::suite::RuntimeApi>,
    pub env: Environment,
}

/// A function given by `serve`'s flags rather than by a suite.
#[derive(Debug, Clone)]
pub struct InlineFunction {
    pub name: String,
    pub runtime: String,
    pub handler: String,
    pub code: PathBuf,
    pub layers: Vec<PathBuf>,
    pub environment: Vec<(String, String)>,
    pub memory: Option<u64>,
    pub timeout: Option<u64>,
}

/// Everything `lambda-ci list` needs, validated.
#[derive(Debug, Clone)]
pub struct ListConfig {
    pub paths: Vec<PathBuf>,
    /// What is passed to the templates suites name.
    pub load: crate::suite::LoadOptions,
    pub selection: Selection,
    /// JSON instead of lines.
    pub json: bool,
}
