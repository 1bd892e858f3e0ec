//! Cleanup when the run is cut short: Ctrl-C, SIGTERM, or a panic anywhere in the run.

use std::io::Write;
use std::time::Duration;

use crate::docker::{Engine, OwnedContainers};
use crate::exit;

/// A signal that stops the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    /// What happened, as the user reads it: `interrupted`, `terminated`.
    pub word: &'static str,
    /// The signal's name: `SIGINT`, `SIGTERM`.
    pub name: &'static str,
    /// The exit code it maps to.
    pub code: u8,
}

impl Signal {
    const INT: Signal = Signal {
        word: "interrupted",
        name: "SIGINT",
        code: exit::INTERRUPTED,
    };
    const TERM: Signal = Signal {
        word: "terminated",
        name: "SIGTERM",
        code: exit::TERMINATED,
    };

    /// Why the cases it stops did not run: `interrupted by SIGINT`.
    pub fn reason(&self) -> String {
        format!("{} by {}", self.word, self.name)
    }
}

/// Resolves on Ctrl-C or SIGTERM, naming which.
pub async fn interrupted() -> Signal {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return Signal::INT;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Signal::INT,
        _ = term.recv() => Signal::TERM,
    }
}

/// Lets the stopped run finish: the runner reports what it did not run and the reporters write
/// every report. `None` after a second signal (the reports are given up, not the removal of the
/// run's containers), `Some(None)` when it did not end within 30 s (likewise).
pub async fn finish_stopped<T>(
    finishing: impl std::future::Future<Output = T>,
    word: &str,
) -> Option<Option<T>> {
    let _ = writeln!(
        std::io::stderr(),
        "\n{word}: stopping; the cases not run are reported as skipped (again to skip the reports)"
    );
    tokio::select! {
        finished = tokio::time::timeout(Duration::from_secs(30), finishing) => {
            if finished.is_err() {
                let _ = writeln!(std::io::stderr(), "the run did not stop within 30 s; its reports are not written");
            }
            Some(finished.ok())
        }
        _ = interrupted() => {
            let _ = writeln!(
                std::io::stderr(),
                "{word} again: exiting without the reports, once this run's containers are removed"
            );
            None
        }
    }
}

/// Removes the run's containers (then its volumes and network) after the runner stopped or was
/// aborted. A create request the engine had already received may still complete, so the labels
/// are swept twice. Bounded: 30 s; after another signal, 10 s more at most, and a signal after
/// that exits at once, saying what to run.
pub async fn after_abort(owned: &OwnedContainers, engine: &Engine, run_id: &str, word: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\n{word}: removing this run's containers"
    );
    let sweeps = async {
        owned.sweep(engine, run_id).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let left = owned.sweep(engine, run_id).await;
        OwnedContainers::say_left(&left, run_id);
    };
    tokio::pin!(sweeps);
    let not_done = || {
        let _ = writeln!(
            std::io::stderr(),
            "the engine did not finish removing this run's containers; remove what is left with: lambda-ci clean --run {run_id}"
        );
    };
    tokio::select! {
        finished = tokio::time::timeout(Duration::from_secs(30), &mut sweeps) => {
            if finished.is_err() {
                not_done();
            }
            return;
        }
        _ = interrupted() => {}
    }
    let _ = writeln!(
        std::io::stderr(),
        "{word} again: still removing this run's containers (at most 10 s; again to exit at once)"
    );
    tokio::select! {
        finished = tokio::time::timeout(Duration::from_secs(10), &mut sweeps) => {
            if finished.is_err() {
                not_done();
            }
        }
        _ = interrupted() => not_done(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression guard: while a stopped run finishes its reports, a second signal still
    // exits at once rather than waiting for them.
    #[tokio::test]
    async fn a_second_signal_stops_waiting_for_the_reports() {
        let started = std::time::Instant::now();
        let second = async {
            // The handler is in place once finish_stopped is polled; then signal ourselves.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let pid = std::process::id().to_string();
            let _ = tokio::process::Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .await;
            std::future::pending::<()>().await
        };
        let finishing = std::future::pending::<()>();
        let finished = tokio::select! {
            f = finish_stopped(finishing, "interrupted") => f,
            () = second => unreachable!(),
        };
        assert_eq!(finished, None);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
