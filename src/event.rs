//! The one event type that flows from the runner to every reporter.
//!
//! Events carry everything a reporter needs, so reporters never reach back into the runner and
//! never decide outcomes.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::docker::{LogLine, PullProgress};
use crate::invoke::Outcome;
use crate::judge::Verdict;

/// Something that happened during a run.
#[derive(Debug, Clone)]
pub struct Event {
    /// Wall-clock time of the event.
    pub at: SystemTime,
    /// Time since the run started.
    pub elapsed: Duration,
    pub kind: EventKind,
}

/// Identifies a suite in events: its file and the function it tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteRef {
    /// Index of the suite in the run, in load order.
    pub index: usize,
    pub file: PathBuf,
    /// The function's name.
    pub function: String,
    pub image: String,
}

/// Identifies a case in events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRef {
    pub suite: SuiteRef,
    pub name: String,
    /// The line where the case starts in its suite file.
    pub line: usize,
}

/// What happened.
#[derive(Debug, Clone)]
pub enum EventKind {
    /// The run begins.
    RunStarted {
        /// Identifies this run's containers (label `lambda-ci.run`).
        run_id: String,
        /// Every suite and its case names, in the order they will run.
        suites: Vec<(SuiteRef, Vec<CaseRef>)>,
    },
    /// An image is being checked for presence.
    ImageChecking { image: String },
    /// An image is being pulled.
    ImagePulling(PullProgress),
    /// An image is present (possibly after a pull).
    ImageReady {
        image: String,
        pulled: bool,
        took: Duration,
    },
    /// A suite's container is being created and started.
    ContainerStarting { suite: SuiteRef },
    /// A suite's container answers; its cases can run.
    ContainerReady {
        suite: SuiteRef,
        name: String,
        /// The host port on 127.0.0.1 that reaches RIE.
        port: u16,
        /// From create to RIE answering.
        took: Duration,
    },
    /// A suite's container could not be booted; its remaining cases end as errors.
    ContainerFailed {
        suite: SuiteRef,
        message: String,
        /// What the container wrote before it failed, if it ran at all.
        logs: Vec<LogLine>,
    },
    /// A container was left running because of `--keep`.
    ContainerKept {
        suite: SuiteRef,
        name: String,
        port: u16,
    },
    /// A case is about to be invoked.
    CaseStarted { case: CaseRef },
    /// A case has a verdict.
    CaseFinished {
        case: CaseRef,
        result: Box<CaseResult>,
    },
    /// The run is over.
    RunFinished { stats: Stats },
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub verdict: Verdict,
    /// The invocation's round trip (zero when it never ran).
    pub duration: Duration,
    /// The invocation's log lines, START to REPORT.
    pub logs: Vec<LogLine>,
    /// What the invocation amounted to, when it ran.
    pub outcome: Option<Outcome>,
}

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    pub duration: Duration,
}

impl Stats {
    pub fn record(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail(_) => self.failed += 1,
            Verdict::Error(_) => self.errors += 1,
        }
    }

    /// Whether every case passed.
    pub fn success(&self) -> bool {
        self.failed == 0 && self.errors == 0
    }

    /// `N passed, N failed`, then errors and skipped when non-zero.
    pub fn summary(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed, self.failed);
        if self.errors > 0 {
            s.push_str(&format!(", {} errors", self.errors));
        }
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped", self.skipped));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_mentions_errors_and_skipped_only_when_present() {
        let mut s = Stats {
            passed: 3,
            failed: 1,
            ..Default::default()
        };
        assert_eq!(s.summary(), "3 passed, 1 failed");
        s.errors = 2;
        s.skipped = 1;
        assert_eq!(s.summary(), "3 passed, 1 failed, 2 errors, 1 skipped");
        assert!(!s.success());
    }
}
