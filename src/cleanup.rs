//! Cleanup when the run is cut short: Ctrl-C, SIGTERM, or a panic anywhere in the run.

use std::io::Write;
use std::time::Duration;

use crate::docker::{Engine, OwnedContainers};
use crate::exit;

/// Resolves on Ctrl-C or SIGTERM, naming which and the exit code it maps to.
pub async fn interrupted() -> (&'static str, u8) {
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

/// Removes the run's containers after the runner was aborted. A create request the engine had
/// already received may still complete, so the labels are swept twice; a second signal stops
/// waiting.
pub async fn after_abort(owned: &OwnedContainers, engine: &Engine, run_id: &str, word: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\n{word}: removing this run's containers"
    );
    let sweeps = async {
        owned.sweep(engine, run_id).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        owned.sweep(engine, run_id).await;
    };
    tokio::select! {
        finished = tokio::time::timeout(Duration::from_secs(30), sweeps) => {
            if finished.is_err() {
                let _ = writeln!(
                    std::io::stderr(),
                    "the engine did not finish removing the containers within 30 s; \
                     remove them with: docker rm -f $(docker ps -aq --filter label=lambda-ci.run={run_id})"
                );
            }
        }
        _ = interrupted() => {
            let _ = writeln!(std::io::stderr(), "{word} again: exiting without waiting for the cleanup");
        }
    }
}
