//! Command-line arguments, turned once into a validated run configuration.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{ListConfig, MountMode, ReporterMode, RunConfig};
use crate::docker::PullPolicy;
use crate::error::Error;
use crate::select::Selection;
use crate::suite::Credentials;

mod serve;
pub use serve::ServeArgs;

/// Tests AWS Lambda functions locally, in their real base images, before they are deployed.
#[derive(Debug, Parser)]
#[command(name = "lambda-ci", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites: boot each function's base image, invoke every case, judge and report.
    Run(RunArgs),
    /// List the cases a run would execute, without Docker.
    List(ListArgs),
    /// Serve functions over the Lambda Invoke API (what SDKs, the AWS CLI and curl call),
    /// each in its base image, until Ctrl-C.
    Serve(ServeArgs),
    /// Run the suites, then again after each change, only the suites the change affects.
    Watch(WatchArgs),
    /// Remove the containers and volumes lambda-ci runs left behind (killed runs, `--keep`).
    Clean(CleanArgs),
    /// Print a sample event (`lambda-ci event list` names the kinds), changed with `--set`.
    Event(crate::events::EventArgs),
    /// Write a first suite, `cases/<function>.yaml`, for the function in a directory.
    Init(crate::init::InitArgs),
    /// Show the function a template resource resolves to, each value with where it came from.
    Explain(crate::explain::ExplainArgs),
}

/// What is passed to the templates suites name: shared by `run`, `list`, `watch`, `serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateArgs {
    /// Values for the parameters of the templates suites name, over their defaults and
    /// samconfig.toml: `KEY=VALUE` (several in one quoted value, as SAM takes them:
    /// `"Stage=prod Size=2"`), repeatable; also `ParameterKey=KEY,ParameterValue=VALUE`.
    #[arg(long = "parameter-overrides", value_name = "KEY=VALUE")]
    pub parameter_overrides: Vec<String>,

    /// The environment of samconfig.toml whose `parameter_overrides` are read (default:
    /// `default`).
    #[arg(long, value_name = "ENV")]
    pub config_env: Option<String>,
}

impl TemplateArgs {
    pub fn options(&self) -> Result<crate::suite::LoadOptions, Error> {
        let mut parameters = Vec::new();
        for value in &self.parameter_overrides {
            let pairs = crate::template::passed::split(value)
                .map_err(|why| Error::Usage(format!("--parameter-overrides: {why}")))?;
            parameters.extend(pairs);
        }
        Ok(crate::suite::LoadOptions {
            parameters,
            config_env: self.config_env.clone(),
        })
    }
}

/// Which suites and cases: shared by `run` and `list`.
#[derive(Debug, clap::Args)]
pub struct SelectArgs {
    /// Suite files, or directories searched for suites (`.yaml`/`.yml` with a top-level `cases:`).
    #[arg(default_value = "cases")]
    pub paths: Vec<PathBuf>,

    /// Run only cases whose `suite::case` contains EXPR, or matches it as a glob (`*`, `?`,
    /// `[...]`); repeat to run the cases any of them selects.
    #[arg(long, value_name = "EXPR")]
    pub filter: Vec<String>,

    /// Run shard K of N (`2/4`, or `hash:2/4`): a deterministic share of the cases, by hash of
    /// the suite's path and the case's name, for CI matrices and GitLab's `parallel:`.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<String>,

    #[command(flatten)]
    pub template: TemplateArgs,
}

impl SelectArgs {
    fn selection(&self) -> Result<Selection, Error> {
        Selection::new(&self.filter, self.partition.as_deref())
            .map_err(|e| Error::Usage(e.to_string()))
    }
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// Print JSON (`{"version": 1, "cases": [...]}`) instead of one line per case.
    #[arg(long)]
    pub json: bool,
}

impl ListArgs {
    pub fn validate(self) -> Result<ListConfig, Error> {
        Ok(ListConfig {
            selection: self.select.selection()?,
            load: self.select.template.options()?,
            paths: self.select.paths,
            json: self.json,
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct CleanArgs {
    /// Say what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Only what this run left (its id is in the JUnit report's `run` property and in the
    /// container names, `lambda-ci-RUN-...`).
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,

    /// Also what lambda-ci on other hosts sharing the engine left (other CI jobs), once
    /// older than --older-than: their processes cannot be seen from here.
    #[arg(long)]
    pub all_hosts: bool,

    /// With --all-hosts, how old another host's leftovers must be: `90m`, `2h`, `1d`.
    #[arg(long, value_name = "AGE", default_value = "1h", value_parser = parse_age)]
    pub older_than: std::time::Duration,
}

/// An age as `--older-than` takes it: a number and `s`, `m`, `h` or `d`.
fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = text.split_at(text.trim_end_matches(char::is_alphabetic).len());
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not an age; write e.g. 90m, 2h or 1d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" | "" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit is one of s, m, h, d (e.g. 2h)")),
    };
    Ok(std::time::Duration::from_secs(n.saturating_mul(seconds)))
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// Poll for changes (every 250 ms) instead of relying on inotify, which does not reach
    /// WSL2's Windows drives, Docker Desktop mounts or network file systems.
    #[arg(long)]
    pub poll: bool,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// Skip every case after the first that fails or errors (cases already running finish).
    #[arg(long)]
    pub fail_fast: bool,

    /// Skip every case after N cases failed or errored.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_fail: Option<u64>,

    /// How many containers may serve cases at once, across every function
    /// [default: one per CPU, at least 2].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub jobs: Option<u64>,

    /// How results are reported: `github` adds groups, annotations at the failing line, a job
    /// summary and step outputs to the human output; `auto` picks it when GITHUB_ACTIONS=true.
    #[arg(long, value_enum, default_value_t = ReporterArg::Auto)]
    pub reporter: ReporterArg,

    /// Write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Write the JSON report (versioned; schema in schema/report-v1.json) to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Leave the containers running after the run and print how to reach them.
    #[arg(long)]
    pub keep: bool,

    /// Record what `snapshot: true` cases return in each suite's `<suite>.snap.yaml`, and
    /// print what changed. Ignored when CI=true: CI never writes snapshots.
    #[arg(long)]
    pub update_snapshots: bool,

    /// Run each suite's function on this Invoke API endpoint instead of in a container: a
    /// `lambda-ci serve` kept open, `sam local start-lambda`, LocalStack (`http://HOST:PORT`).
    /// Each function is invoked by its name; nothing is booted.
    #[arg(long, value_name = "URL")]
    pub target: Option<TargetArg>,

    /// Sign each call to the `--target` with Signature Version 4 (service `lambda`), with the
    /// environment's AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    /// AWS_SESSION_TOKEN) for its region (AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long, requires = "target")]
    pub sign: bool,

    #[command(flatten)]
    pub containers: ContainerArgs,
}

/// `--target`: an `http://` URL of an Invoke API endpoint.
#[derive(Debug, Clone)]
pub struct TargetArg(String);

impl std::str::FromStr for TargetArg {
    type Err = String;

    fn from_str(text: &str) -> Result<TargetArg, String> {
        let url = reqwest::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
        match url.scheme() {
            "http" if url.host().is_some() => Ok(TargetArg(text.trim_end_matches('/').to_string())),
            "http" => Err(format!("{text:?} names no host; write e.g. http://127.0.0.1:9000")),
            "https" => Err("an https:// target is not supported yet: reach it over http://, e.g. through a local `lambda-ci serve` or port forward".into()),
            other => Err(format!("{text:?}: the scheme is {other}, not http; write e.g. http://127.0.0.1:9000")),
        }
    }
}

/// How function containers are made and reached: shared by `run`, `watch` and `serve`.
#[derive(Debug, clap::Args)]
pub struct ContainerArgs {
    /// When to pull base images from their registry.
    #[arg(long, value_enum, default_value_t = Pull::Missing)]
    pub pull: Pull,

    /// How code and layers reach the containers: `bind` mounts them, `copy` copies them in
    /// (for engines that cannot see this machine's files), `auto` finds out.
    #[arg(long, value_enum, default_value_t = Mount::Auto)]
    pub mount: Mount,

    /// The host at which the function containers' published ports are reached; default: this
    /// machine for a local engine, the engine's host for `DOCKER_HOST=tcp://HOST:PORT`.
    #[arg(long, value_name = "HOST")]
    pub invoke_host: Option<String>,

    /// Which AWS credentials every function sees, whatever its suite says: `inherit` passes
    /// yours (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), `placeholder`
    /// harmless stand-ins.
    #[arg(long, value_enum, value_name = "WHICH")]
    pub aws_credentials: Option<AwsCredentials>,

    /// What serves the Runtime API in every function's container, whatever its suite says:
    /// `lambda-ci` (the default) answers as the Lambda service does, `rie` is the Runtime
    /// Interface Emulator in the base image.
    #[arg(long, value_enum, value_name = "WHICH")]
    pub runtime_api: Option<RuntimeApiArg>,
}

/// `--runtime-api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeApiArg {
    /// lambda-ci's own agent.
    #[value(name = "lambda-ci")]
    LambdaCi,
    /// The Runtime Interface Emulator.
    Rie,
}

impl From<RuntimeApiArg> for crate::suite::RuntimeApi {
    fn from(arg: RuntimeApiArg) -> crate::suite::RuntimeApi {
        match arg {
            RuntimeApiArg::LambdaCi => crate::suite::RuntimeApi::LambdaCi,
            RuntimeApiArg::Rie => crate::suite::RuntimeApi::Rie,
        }
    }
}

/// `--reporter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReporterArg {
    Auto,
    Human,
    Github,
}

/// `--mount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mount {
    /// Bind where the engine sees this machine's files, copy elsewhere.
    Auto,
    /// Read-only bind mounts.
    Bind,
    /// Copy through the Engine API.
    Copy,
}

/// `--aws-credentials`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AwsCredentials {
    Placeholder,
    Inherit,
}

/// `--pull`: when to pull base images from their registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Pull {
    /// Pull only images not present locally.
    Missing,
    /// Pull every image, even one present locally.
    Always,
    /// Never pull; an image not present locally is an error.
    Never,
}

impl From<Pull> for PullPolicy {
    fn from(pull: Pull) -> PullPolicy {
        match pull {
            Pull::Missing => PullPolicy::Missing,
            Pull::Always => PullPolicy::Always,
            Pull::Never => PullPolicy::Never,
        }
    }
}

impl From<Mount> for MountMode {
    fn from(mount: Mount) -> MountMode {
        match mount {
            Mount::Auto => MountMode::Auto,
            Mount::Bind => MountMode::Bind,
            Mount::Copy => MountMode::Copy,
        }
    }
}

impl From<AwsCredentials> for Credentials {
    fn from(c: AwsCredentials) -> Credentials {
        match c {
            AwsCredentials::Placeholder => Credentials::Placeholder,
            AwsCredentials::Inherit => Credentials::Inherit,
        }
    }
}

impl RunArgs {
    /// Checks what can be checked before anything runs.
    pub fn validate(self) -> Result<RunConfig, Error> {
        check_output("--junit", self.junit.as_deref(), "report.xml")?;
        check_output("--json", self.json.as_deref(), "report.json")?;
        if let (Some(junit), Some(json)) = (&self.junit, &self.json)
            && same_file(junit, json)
        {
            return Err(Error::Usage(format!(
                "--junit {} and --json {} name the same file, so one report would overwrite the other; give each its own, e.g. --junit report.xml --json report.json",
                junit.display(),
                json.display()
            )));
        }
        Ok(RunConfig {
            selection: self.select.selection()?,
            fail_fast: self.fail_fast,
            max_fail: match (self.fail_fast, self.max_fail) {
                (true, _) => Some(1),
                (false, n) => n.map(|n| n as usize),
            },
            jobs: self
                .jobs
                .map_or_else(crate::config::default_jobs, |n| n as usize),
            reporter: match self.reporter {
                ReporterArg::Auto => ReporterMode::Auto,
                ReporterArg::Human => ReporterMode::Human,
                ReporterArg::Github => ReporterMode::Github,
            },
            load: self.select.template.options()?,
            paths: self.select.paths,
            junit: self.junit,
            json: self.json,
            pull: self.containers.pull.into(),
            keep: self.keep,
            update_snapshots: self.update_snapshots,
            invoke_host: self.containers.invoke_host,
            mount: self.containers.mount.into(),
            aws_credentials: self.containers.aws_credentials.map(Into::into),
            runtime_api: self.containers.runtime_api.map(Into::into),
            env: crate::config::Environment::read(),
            target: self.target.map(|t| t.0),
            sign: self.sign,
        })
    }
}

/// Whether two paths name one file: the same absolute path, or (when both exist) one file
/// reached by links.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::path::{Component, PathBuf};
    // `a/../b` is `b` here: the report's directory is checked to exist, so no link hides it.
    let absolute = |p: &std::path::Path| {
        let mut out = PathBuf::new();
        for c in std::path::absolute(p).ok()?.components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::CurDir => {}
                c => out.push(c),
            }
        }
        Some(out)
    };
    if absolute(a).is_some_and(|a| Some(a) == absolute(b)) {
        return true;
    }
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}

/// A report file a run will write: not a directory, and in a directory that exists.
fn check_output(flag: &str, path: Option<&std::path::Path>, example: &str) -> Result<(), Error> {
    let Some(path) = path else {
        return Ok(());
    };
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "{flag} {}: is a directory; give a file name such as {}/{example}",
            path.display(),
            path.display()
        )));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent
        && !parent.is_dir()
    {
        return Err(Error::Usage(format!(
            "{flag} {}: directory {} does not exist; create it first",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The command `lambda-ci <command> <args>` parses to.
    pub(crate) fn parsed(command: &str, args: &[&str]) -> Command {
        let argv = ["lambda-ci", command]
            .into_iter()
            .chain(args.iter().copied());
        Cli::try_parse_from(argv).unwrap().command
    }

    fn run_args(args: &[&str]) -> Result<RunConfig, Error> {
        match parsed("run", args) {
            Command::Run(run) => run.validate(),
            _ => unreachable!(),
        }
    }

    // Regression: `--junit` and `--json` on one path overwrote each other without a word.
    #[test]
    fn junit_and_json_on_the_same_path_are_refused() {
        let err = run_args(&["--junit", "src/r", "--json", "./src/../src/r"]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("--junit src/r and --json ./src/../src/r name the same file"),
            "{text}"
        );
        assert_eq!(err.exit_code(), crate::exit::INVALID_INPUT);
        assert!(run_args(&["--junit", "r.xml", "--json", "r.json"]).is_ok());
    }
}
