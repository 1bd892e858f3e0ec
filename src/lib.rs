//! lambda-ci: tests AWS Lambda functions in their real base images, through the Runtime
//! Interface Emulator those images contain.
//!
//! The pipeline: [`suite`] loads → [`plan`] groups → [`docker`] boots → [`invoke`] calls →
//! [`judge`] decides → [`report`] shows, with [`runner`] driving it and emitting [`event`]s.

pub mod cli;
pub mod docker;
pub mod error;
pub mod event;
pub mod exit;
pub mod invoke;
pub mod judge;
pub mod plan;
pub mod report;
pub mod runner;
pub mod suite;

use std::io::Write;
use std::sync::Arc;

use crate::cli::RunSettings;
use crate::docker::{Engine, Registry};
use crate::error::Error;
use crate::plan::Plan;
use crate::report::{Reporter, Reporters, console::Console, junit::Junit};
use crate::runner::{RunConfig, Runner};

/// Runs `lambda-ci run` and returns the exit code. Errors stop the run before it starts (or
/// prevent its report from being written); failing cases are not errors.
pub async fn run(settings: RunSettings) -> Result<u8, Error> {
    let suites = suite::load_paths(&settings.paths).map_err(Error::Load)?;
    let engine = Engine::connect().await?;
    let plan = Plan::new(&suites);
    let run_id = run_id();

    let mut reporters = Reporters::default();
    let color = anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
    reporters
        .0
        .push(Box::new(Console::new(std::io::stdout(), color, true)));
    if let Some(path) = &settings.junit {
        reporters.0.push(Box::new(Junit::new(path.clone())));
    }

    let registry = Registry::default();
    let runner = Runner {
        engine: engine.clone(),
        registry: registry.clone(),
        suites: Arc::new(suites),
        plan,
        config: RunConfig {
            pull: settings.pull,
            keep: settings.keep,
            run_id: run_id.clone(),
        },
    };
    let mut task = tokio::spawn(async move {
        let stats = runner.execute(|event| reporters.report(&event)).await;
        (stats, reporters)
    });
    let outcome = tokio::select! {
        joined = &mut task => joined,
        (word, code) = interrupted() => {
            // Stop the runner first so that it creates nothing more, then remove what exists.
            task.abort();
            let _ = task.await;
            let _ = writeln!(std::io::stderr(), "\n{word}: removing this run's containers");
            tokio::select! {
                _ = cleanup_after_abort(&registry, &engine, &run_id) => {}
                _ = interrupted() => {
                    let _ = writeln!(std::io::stderr(), "{word} again: exiting without waiting for the cleanup");
                }
            }
            return Ok(code);
        }
    };
    match outcome {
        Ok((stats, mut reporters)) => {
            if settings.keep {
                registry.forget_all();
            } else {
                registry.sweep(&engine, &run_id).await;
            }
            reporters.finish()?;
            Ok(if stats.success() {
                exit::SUCCESS
            } else {
                exit::CASES_FAILED
            })
        }
        Err(e) => {
            // The runner panicked; its message is already on stderr. Leave nothing behind.
            registry.sweep(&engine, &run_id).await;
            let _ = writeln!(
                std::io::stderr(),
                "error: lambda-ci failed unexpectedly ({e}); its containers were removed"
            );
            Ok(exit::INTERNAL)
        }
    }
}

/// Removes the run's containers after the runner was aborted. A create request the engine had
/// already received may still complete, so the labels are swept twice.
async fn cleanup_after_abort(registry: &Registry, engine: &Engine, run_id: &str) {
    let sweeps = async {
        registry.sweep(engine, run_id).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        registry.sweep(engine, run_id).await;
    };
    if tokio::time::timeout(std::time::Duration::from_secs(30), sweeps)
        .await
        .is_err()
    {
        let _ = writeln!(
            std::io::stderr(),
            "the engine did not finish removing the containers within 30 s; \
             remove them with: docker rm -f $(docker ps -aq --filter label=lambda-ci.run={run_id})"
        );
    }
}

/// Resolves on Ctrl-C or SIGTERM, naming which and the exit code it maps to.
async fn interrupted() -> (&'static str, u8) {
    use tokio::signal::unix::{SignalKind, signal};
    let ctrl_c = ("interrupted", exit::INTERRUPTED);
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return ctrl_c;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => ctrl_c,
        _ = term.recv() => ("terminated", exit::TERMINATED),
    }
}

/// A short id unique enough to tell concurrent runs' containers apart.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    // Clock and process both count: two runs started in the same instant still differ.
    format!("{:08x}{:04x}", nanos as u32, std::process::id() & 0xffff)
}
