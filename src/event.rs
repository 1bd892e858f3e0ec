//! The one event type that flows from the runner to every reporter.
//!
//! Events carry everything a reporter needs, so reporters never reach back into the runner and
//! never decide outcomes. Suites, cases and workers are named by ids that stay valid when
//! several workers serve one suite, when the plan is filtered, or when suites run concurrently.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::docker::PullProgress;
use crate::judge::Verdict;
use crate::lines::LogLine;
use crate::outcome::{Outcome, Reported};
use crate::plan::{CaseId, SuiteId, WorkerId};
use crate::suite::{Architecture, Suite};

/// Something that happened during a run.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Wall-clock time of the event.
    pub at: SystemTime,
    /// Time since the run started.
    pub elapsed: Duration,
    pub kind: EventKind,
}

/// Identifies a suite in events: its file and the function it tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuiteRef {
    pub id: SuiteId,
    /// The suite file, as the user named it.
    pub file: PathBuf,
    /// The function's name.
    pub function: String,
    /// The image the function's containers boot.
    pub image: String,
    /// The handler given to the image, if any.
    pub handler: Option<String>,
    /// The instruction set the function is built for.
    pub architecture: Architecture,
}

impl SuiteRef {
    pub fn new(id: SuiteId, suite: &Suite) -> SuiteRef {
        SuiteRef {
            id,
            file: suite.file.clone(),
            function: suite.function.name.clone(),
            image: suite.function.image.clone(),
            handler: suite.function.handler.clone(),
            architecture: suite.function.architecture,
        }
    }

    /// `file:line` of a line in this suite's file: the one way reports point into a suite.
    pub fn at(&self, line: usize) -> String {
        format!("{}:{line}", self.file.display())
    }

    /// `file:line:col` of a position in this suite's file, or `file:line` of `fallback`.
    pub fn locate(&self, pos: Option<crate::suite::Pos>, fallback: usize) -> String {
        match pos {
            Some(p) => format!("{}:{}", self.at(p.line), p.column),
            None => self.at(fallback),
        }
    }
}

/// Identifies a case in events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRef {
    pub id: CaseId,
    pub suite: SuiteRef,
    /// The case's name, unique in its suite.
    pub name: String,
    /// The line where the case starts in its suite file.
    pub line: usize,
}

impl CaseRef {
    /// The reference to case `id` of `suite`.
    pub fn new(suite: &SuiteRef, id: CaseId, loaded: &Suite) -> CaseRef {
        let case = &loaded.cases[id.index];
        CaseRef {
            id,
            suite: suite.clone(),
            name: case.name.clone(),
            line: case.pos.line,
        }
    }
}

/// Identifies a worker in events: one container at a time, serving cases of one suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerRef {
    pub id: WorkerId,
    pub suite: SuiteRef,
}

/// A suite the run will execute, with the cases planned for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedSuite {
    pub suite: SuiteRef,
    pub cases: Vec<CaseRef>,
}

/// What happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The run begins.
    RunStarted {
        /// Identifies this run's containers (label `lambda-ci.run`).
        run_id: String,
        /// Every suite and its planned cases, in the order they will start.
        suites: Vec<PlannedSuite>,
    },
    /// An image is being checked for presence.
    ImageChecking { image: String },
    /// An image is being pulled.
    ImagePulling(PullProgress),
    /// An image is present (possibly after a pull).
    ImageReady {
        image: String,
        /// Whether it had to be pulled.
        pulled: bool,
        /// How long checking (and pulling) took.
        took: Duration,
    },
    /// An image is being built; `line` is the build's latest output.
    ImageBuilding { image: String, line: String },
    /// An image was built, or was found built already from the same content.
    ImageBuilt {
        image: String,
        /// Whether an image of the same content existed, so nothing was built.
        cached: bool,
        took: Duration,
    },
    /// Functions that asked for lambda-ci's Runtime API run under RIE instead, and why; said
    /// once per run.
    RuntimeApiFallback { reason: String },
    /// How code and layers reach this run's containers, and why.
    ArtifactsDelivered {
        /// Copied through the Engine API rather than bind-mounted.
        copied: bool,
        reason: String,
    },
    /// A worker's container is being created and started; or, with `in_place`, a warm one
    /// kept from the session's last run starts the function's runtime again.
    ContainerStarting { worker: WorkerRef, in_place: bool },
    /// A worker's container answers; its cases can run.
    ContainerReady {
        worker: WorkerRef,
        /// The container's name.
        name: String,
        /// The URL that invokes the function in it.
        invoke_url: String,
        /// From create to RIE answering.
        took: Duration,
    },
    /// A worker's container could not be booted; its remaining cases end as errors.
    ContainerFailed {
        worker: WorkerRef,
        /// Why, with its causes, on one line.
        message: String,
        /// What the container wrote before it failed, if it ran at all.
        logs: Vec<LogLine>,
    },
    /// A container was left running because of `--keep`.
    ContainerKept {
        worker: WorkerRef,
        /// The container's name.
        name: String,
        /// The URL that invokes the function in it.
        invoke_url: String,
        /// The `Lambda-Ci-Key` header lambda-ci's agent in it asks of every caller.
        key: Option<String>,
    },
    /// Something the user should know that does not fail a case.
    Warning { suite: SuiteRef, message: String },
    /// A suite begins: its events follow until [`EventKind::SuiteFinished`]. Reporters get
    /// each suite's events together, suites in the order they are declared, however many
    /// run at once.
    SuiteStarted { suite: SuiteRef },
    /// Every planned case of a suite has its verdict and its containers are gone or kept.
    SuiteFinished {
        suite: SuiteRef,
        /// The suite's own counts; `duration` is from its start to its end.
        stats: Stats,
    },
    /// A case is about to be invoked.
    CaseStarted { case: CaseRef },
    /// A case has a verdict.
    CaseFinished {
        case: CaseRef,
        result: Box<CaseResult>,
    },
    /// `--update-snapshots` recorded a new or changed snapshot for a case.
    SnapshotRecorded {
        case: CaseRef,
        change: crate::snapshot::Change,
    },
    /// A suite's snapshot file was written (or could not be: `error` says why).
    SnapshotsWritten {
        file: PathBuf,
        error: Option<String>,
    },
    /// What runs right now, sent as it changes and ahead of the suites' ordered events: for
    /// a live status line, never for a report (its content depends on timing).
    Progress {
        /// Cases with a verdict, of `total` planned.
        done: usize,
        total: usize,
        /// What is booting or running, oldest first: `booting hello`, `hello › greets`.
        active: Vec<String>,
    },
    /// The run is over.
    RunFinished { stats: Stats },
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub verdict: Verdict,
    /// The invocation's round trip (zero when it never ran).
    pub duration: Duration,
    /// The invocation's log lines, START to REPORT.
    pub logs: Vec<LogLine>,
    /// What the invocation amounted to, when it ran.
    pub outcome: Option<Outcome>,
    /// What RIE's REPORT line said of the invocation.
    pub reported: Reported,
}

impl CaseResult {
    /// The result of a case that never reached a container.
    pub fn not_run(verdict: Verdict, logs: Vec<LogLine>) -> CaseResult {
        CaseResult {
            verdict,
            duration: Duration::ZERO,
            logs,
            outcome: None,
            reported: Reported::default(),
        }
    }
}

/// Counts of verdicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    /// The run's wall-clock time.
    pub duration: Duration,
}

impl Stats {
    pub fn record(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail(_) => self.failed += 1,
            Verdict::Error(_) => self.errors += 1,
            Verdict::Skipped(_) => self.skipped += 1,
        }
    }

    /// Whether every case passed.
    pub fn success(&self) -> bool {
        self.failed == 0 && self.errors == 0
    }

    /// `N passed, N failed`, then `N error(s)` and `N skipped` when there are any.
    pub fn summary(&self) -> String {
        let mut s = format!("{} passed, {} failed", self.passed, self.failed);
        match self.errors {
            0 => {}
            1 => s.push_str(", 1 error"),
            n => s.push_str(&format!(", {n} errors")),
        }
        if self.skipped > 0 {
            s.push_str(&format!(", {} skipped", self.skipped));
        }
        s
    }

    /// How many cases ended, whatever their verdict.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.errors + self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression: one error was summarised as "1 errors".
    #[test]
    fn summary_mentions_errors_only_when_present_and_counts_them_in_words() {
        let mut s = Stats {
            passed: 3,
            failed: 1,
            ..Default::default()
        };
        assert_eq!(s.summary(), "3 passed, 1 failed");
        s.errors = 1;
        assert_eq!(s.summary(), "3 passed, 1 failed, 1 error");
        s.errors = 2;
        assert_eq!(s.summary(), "3 passed, 1 failed, 2 errors");
        s.skipped = 4;
        assert_eq!(s.summary(), "3 passed, 1 failed, 2 errors, 4 skipped");
        assert_eq!(s.total(), 10);
        assert!(!s.success());
    }

    #[test]
    fn events_serialise_as_data_a_json_report_can_hold() {
        let events: Vec<serde_json::Value> = crate::report::sample::events()
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        let kinds: Vec<&str> = events
            .iter()
            .map(|e| e["kind"]["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds[0], "run_started");
        assert_eq!(kinds.last(), Some(&"run_finished"));
        let failed = events
            .iter()
            .find(|e| e["kind"]["result"]["verdict"]["verdict"] == "fail")
            .expect("a failed case");
        assert_eq!(failed["kind"]["case"]["id"]["index"], 1);
        assert_eq!(failed["kind"]["case"]["suite"]["file"], "cases/hello.yaml");
        let detail = &failed["kind"]["result"]["verdict"]["detail"];
        assert_eq!(detail[0]["mismatches"][0]["path"], "$.body");
        assert_eq!(detail[1]["check"], "status");
        assert_eq!(detail[0]["pos"]["line"], 21);
        assert_eq!(
            failed["kind"]["result"]["outcome"]["kind"], "success",
            "{failed}"
        );
    }
}
