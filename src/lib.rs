//! lambda-ci: tests AWS Lambda functions in their real base images, through the Runtime
//! Interface Emulator those images contain.
//!
//! The pipeline: [`suite`] loads → [`plan`] groups → [`runner`] deals cases to instances of a
//! [`backend`] (the container backend's [`worker`]s boot containers through [`docker`] and
//! invoke them) → [`judge`] decides → [`report`] shows, with every step sent as an [`event`]
//! from the runner to the reporters.

pub mod artifact;
pub mod backend;
pub mod chain;
pub mod clean;
pub mod cleanup;
pub mod cli;
pub mod config;
pub mod docker;
pub mod error;
pub mod event;
pub mod events;
pub mod exit;
pub mod explain;
pub mod gateway;
pub mod init;
pub mod json;
pub mod judge;
pub mod lines;
pub mod list;
pub mod outcome;
pub mod plan;
pub mod proc;
pub mod redact;
pub mod report;
pub mod runner;
pub mod scratch;
pub mod select;
pub mod serve;
pub mod snapshot;
pub mod suite;
pub mod template;
pub mod watch;
pub mod worker;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use crate::artifact::Unpacked;
use crate::config::RunConfig;
use crate::docker::{Engine, OwnedContainers};
use crate::error::Error;
use crate::event::Stats;
use crate::plan::Plan;
use crate::report::{Reporter, Reporters};
use crate::runner::{Runner, Session};

/// Runs `lambda-ci run` with the reporters its configuration asks for, and returns the exit
/// code. Errors stop the run before it starts (or prevent its report from being written);
/// failing cases are not errors.
pub async fn run(config: RunConfig) -> Result<u8, Error> {
    run_kept(config, None).await
}

/// [`run`], in the session `kept` holds when given (made there by the first run that needs
/// one): `watch` keeps what one run prepared, and its warm containers, for the next.
pub(crate) async fn run_kept(
    config: RunConfig,
    kept: Option<&mut Option<Session>>,
) -> Result<u8, Error> {
    let reporters = Reporters::for_run(&config);
    let github = report::github_mode(&config).then(|| report::github_files(&config));
    match run_in(config, reporters, kept).await {
        // Nothing ran, and GitHub is told so where it looks: annotations, summary, outputs.
        Err(Error::Load(errors)) if let Some(files) = github => {
            if let Err(e) = report::github::load_failed(&mut std::io::stdout(), &files, &errors) {
                let _ = writeln!(std::io::stderr(), "error: {}", error::one_line(&e));
            }
            Err(Error::Load(errors))
        }
        other => other,
    }
}

/// Which part of a run ended first.
enum First {
    Runner(Result<Stats, tokio::task::JoinError>),
    Reporters(Result<Reporters, tokio::task::JoinError>),
    Signal(cleanup::Signal),
}

/// Runs `lambda-ci run`, sending its events to `reporters`.
pub async fn run_with(config: RunConfig, reporters: Reporters) -> Result<u8, Error> {
    run_in(config, reporters, None).await
}

/// Runs `lambda-ci run`, sending its events to `reporters`, in a session of its own, or in
/// the one `kept` holds (made there when it holds none); a kept session stays, with the
/// containers that can reload in place kept warm for its next run.
async fn run_in(
    config: RunConfig,
    reporters: Reporters,
    kept: Option<&mut Option<Session>>,
) -> Result<u8, Error> {
    let suites = suite::load_paths_with(&config.paths, &config.load).map_err(Error::Load)?;
    let plan = Plan::new(&suites, &config.selection);
    if plan.case_count() == 0 {
        let _ = writeln!(std::io::stderr(), "{}", nothing_selected(&config, &suites));
        return Ok(exit::NO_CASES);
    }
    let planned: Vec<&suite::Suite> = plan.units.iter().map(|u| &suites[u.suite.0]).collect();
    config.check_inherited_credentials(&planned)?;
    let caller = config.env.caller_for(&planned)?;
    let snapshots =
        snapshot::Snapshots::load(&suites).map_err(|e| Error::Load(suite::LoadErrors(e)))?;
    let update_snapshots = snapshots_recorded(&config);
    let unpacked = Arc::new(Unpacked::unpack(&suites).map_err(Error::Load)?);
    let alone = kept.is_none();
    // A run on a target has no session: nothing of it is in the engine.
    let session = match (&config.target, kept) {
        (Some(_), _) => None,
        (None, Some(Some(session))) => Some(session.clone()),
        (None, Some(kept)) => Some(kept.insert(new_session(&config.env.engine).await?).clone()),
        (None, None) => Some(new_session(&config.env.engine).await?),
    };
    let (stop, stopped) = tokio::sync::watch::channel(None);
    // Without --junit, `actual` is held to the end of the run: removed then unless a whole
    // actual value was written into it.
    let (attachments, _actual) = attachments(&config)?;
    let builder = match (&session, &config.target) {
        (Some(session), _) => Runner::builder(session, suites, unpacked.clone()),
        (None, target) => {
            let target = target.as_deref().unwrap_or_default();
            // Where each function runs is the target, not an image: reports say so.
            let suites = suites
                .into_iter()
                .map(|mut s| {
                    s.function.image = target.to_string();
                    for a in &mut s.function.authorizers {
                        a.image = target.to_string();
                    }
                    s
                })
                .collect();
            let endpoint = target_endpoint(&config, target)?;
            Runner::builder_on(Arc::new(endpoint), suites)
        }
    };
    let runner = builder
        .warm(!alone && !config.keep)
        .pull(config.pull)
        .credentials(config.aws_credentials)
        .runtime_api(config.runtime_api)
        .cancellation(runner::Cancellation {
            max_fail: config.max_fail,
        })
        .jobs(config.jobs)
        .mount(config.mount)
        .invoke_host(config.invoke_host.clone())
        .caller(caller)
        .keep(config.keep)
        .snapshots(snapshots, update_snapshots)
        .attachments(attachments)
        .stop(stopped)
        .build();
    if let Some(session) = &session {
        check_plain_engine(session.engine(), &config.env.engine, &runner.secrets())?;
    }
    let (ran, reported) = match drive(runner, plan, reporters, stop, session.as_ref()).await {
        Ended::Finished(ran, reported) => (ran, reported),
        Ended::Signalled(code) => return Ok(code),
    };
    match (ran, reported) {
        (Ok(stats), Ok(mut reporters)) => {
            match &session {
                Some(session) if config.keep => {
                    session.owned().forget_all();
                    if let Ok(unpacked) = Arc::try_unwrap(unpacked) {
                        unpacked.keep();
                    }
                }
                Some(session) if alone => session.close().await,
                _ => {}
            }
            reporters.finish()?;
            Ok(if stats.success() {
                exit::SUCCESS
            } else {
                exit::CASES_FAILED
            })
        }
        (Err(e), _) | (_, Err(e)) => {
            // A panic; its message is already on stderr. Leave nothing behind.
            if let Some(session) = &session {
                session.close().await;
            }
            let _ = writeln!(
                std::io::stderr(),
                "error: lambda-ci failed unexpectedly ({e}); its containers were removed"
            );
            Ok(exit::INTERNAL)
        }
    }
}

/// The `--target` endpoint, its calls signed with the environment's credentials on `--sign`.
fn target_endpoint(config: &RunConfig, target: &str) -> Result<backend::target::Endpoint, Error> {
    let endpoint = backend::target::Endpoint::new(target);
    if !config.sign {
        return Ok(endpoint);
    }
    let keys = gateway::Keys::from_pairs(config.env.caller.pairs()).ok_or_else(|| {
        Error::Usage("--sign signs with the environment's AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)".into())
    })?;
    let region = (config.env.var("AWS_REGION"))
        .or_else(|| config.env.var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    Ok(endpoint.signed(keys, region))
}

/// Whether `--update-snapshots` records: never under CI, which is said.
fn snapshots_recorded(config: &RunConfig) -> bool {
    let update = config.update_snapshots && !config.env.ci;
    if config.update_snapshots && !update {
        let _ = writeln!(
            std::io::stderr(),
            "warning: --update-snapshots is ignored because CI is set: CI never writes snapshots; record them locally and commit the .snap.yaml files"
        );
    }
    update
}

/// Where whole actual values go: beside `--junit`, else a private temporary directory, held
/// (by the second value) to the end of the run.
fn attachments(config: &RunConfig) -> Result<(PathBuf, Option<scratch::Actual>), Error> {
    Ok(match &config.junit {
        Some(junit) => {
            let beside = junit.parent().map(|d| d.join("lambda-ci-actual"));
            (beside.unwrap_or_else(|| "lambda-ci-actual".into()), None)
        }
        None => {
            let actual = scratch::Actual::new()
                .map_err(|e| Error::Usage(format!("cannot make a temporary directory: {e}")))?;
            (actual.path().to_path_buf(), Some(actual))
        }
    })
}

/// How a run's execution ended.
enum Ended {
    /// It ran to its end, or a part of it panicked: the counts, and the reporters.
    Finished(
        Result<Stats, tokio::task::JoinError>,
        Result<Reporters, tokio::task::JoinError>,
    ),
    /// A signal stopped it: its reports were written and what it owned removed; the exit code.
    Signalled(u8),
}

/// Executes `plan` on `runner`, its events to `reporters`, until it ends or a signal comes:
/// then `stop` tells the runner, the reports are written, and `session`'s resources removed.
async fn drive(
    runner: Runner,
    plan: Plan,
    reporters: Reporters,
    stop: tokio::sync::watch::Sender<Option<String>>,
    session: Option<&Session>,
) -> Ended {
    let (events, received) = tokio::sync::mpsc::unbounded_channel();
    let mut reporting = reporters.spawn(received);
    let mut running = tokio::spawn(async move { runner.execute(&plan, events).await });
    let first = tokio::select! {
        ran = &mut running => First::Runner(ran),
        reported = &mut reporting => First::Reporters(reported),
        signal = cleanup::interrupted() => First::Signal(signal),
    };
    // The reporter loop ends before the runner only when a reporter panicked (or in the
    // instant the runner finishes): then the runner is stopped too.
    match first {
        First::Runner(ran) => Ended::Finished(ran, reporting.await),
        First::Reporters(reported) => {
            if reported.is_err() {
                running.abort();
            }
            Ended::Finished(running.await, reported)
        }
        First::Signal(signal) => {
            // The runner starts nothing more, cuts the case in flight and reports the rest as
            // not run; the reporters then write every report. Then what exists is removed.
            let _ = stop.send(Some(signal.reason()));
            let aborts = running.abort_handle();
            let finishing = async { (running.await, reporting.await) };
            match cleanup::finish_stopped(finishing, signal.word).await {
                Some(Some((_, Ok(mut reporters)))) => {
                    if let Err(e) = reporters.finish() {
                        let _ = writeln!(std::io::stderr(), "error: {}", error::one_line(&e));
                    }
                }
                // Reports given up; what exists is still removed.
                Some(_) | None => aborts.abort(),
            }
            if let Some(session) = session {
                session.retire_warm();
                let (owned, engine) = (session.owned(), session.engine());
                cleanup::after_abort(owned, engine, session.run_id(), signal.word).await;
            }
            Ended::Signalled(signal.code)
        }
    }
}

/// An engine reached over plain TCP beyond this machine sees a function's environment in
/// clear: said; and refused when it would carry secrets (inherited credentials, `${VAR}`
/// values), unless `LAMBDA_CI_ALLOW_PLAIN_ENGINE=1` says to send them anyway.
pub(crate) fn check_plain_engine(
    engine: &Engine,
    env: &docker::EngineEnv,
    secrets: &[(String, String)],
) -> Result<(), Error> {
    let Some(address) = &engine.in_clear else {
        return Ok(());
    };
    let allowed = env.allow_plain;
    let names: Vec<&str> = secrets.iter().map(|(name, _)| name.as_str()).collect();
    if names.is_empty() || allowed {
        // Once: `watch` runs again on every save, `serve` makes runners on every reload.
        static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if SAID.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let _ = writeln!(
            std::io::stderr(),
            "warning: the Docker engine at {address} is reached over plain TCP: what lambda-ci sends it, functions' environments included, crosses the network in clear; use TLS (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH)"
        );
        return Ok(());
    }
    Err(Error::Usage(format!(
        "the Docker engine at {address} is reached over plain TCP, and the functions would take {} to it in clear; use TLS (DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH), or set LAMBDA_CI_ALLOW_PLAIN_ENGINE=1 to send them anyway",
        names.join(", ")
    )))
}

/// The warning for a selection that leaves no case, naming what selected nothing.
/// The Docker engine, each request waiting as long as `LAMBDA_CI_ENGINE_TIMEOUT` says: what
/// `run`, `watch`, `serve` and `clean` connect through.
pub(crate) async fn connect_engine(env: &docker::EngineEnv) -> Result<Engine, Error> {
    let timeout = docker::request_timeout(env).map_err(Error::Usage)?;
    Ok(Engine::connect(timeout, env).await?)
}

fn nothing_selected(config: &RunConfig, suites: &[suite::Suite]) -> String {
    let cases: usize = suites.iter().map(|s| s.cases.len()).sum();
    let selection = &config.selection;
    let mut what: Vec<String> = selection
        .given_filters
        .iter()
        .map(|f| format!("--filter {f:?}"))
        .collect();
    what.extend(
        selection
            .given_partition
            .iter()
            .map(|p| format!("--partition {p}")),
    );
    let what = if what.is_empty() {
        "the suites hold no case".to_string()
    } else {
        format!(
            "{} selects none of the {cases} case{} in the suites",
            what.join(" with "),
            if cases == 1 { "" } else { "s" }
        )
    };
    format!(
        "warning: {what}; nothing was run (exit code {})\nhint: `lambda-ci list` with the same paths shows every case as `suite::case`",
        exit::NO_CASES
    )
}

/// A session of its own for a run: the engine connected, nothing owned or prepared yet.
async fn new_session(env: &docker::EngineEnv) -> Result<Session, Error> {
    let engine = crate::connect_engine(env).await?;
    Ok(Session::new(engine, OwnedContainers::default(), run_id()))
}

/// A short id unique enough to tell concurrent runs' containers apart.
pub(crate) fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    // Clock and process both count: two runs started in the same instant still differ.
    format!("{:08x}{:04x}", nanos as u32, std::process::id() & 0xffff)
}
