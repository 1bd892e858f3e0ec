//! Runs a plan: prepares images, deals each unit's cases to a worker, judges every
//! invocation, and sends everything that happens as events down a channel. Knows nothing of
//! reporters.

mod images;

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio::sync::mpsc::UnboundedSender;

use crate::artifact::Unpacked;
use crate::config::MountMode;
use crate::docker::{Delivery, Engine, OwnedContainers, PullPolicy};
use crate::error::one_line;
use crate::event::{
    CaseRef, CaseResult, Event, EventKind, PlannedSuite, Stats, SuiteRef, WorkerRef,
};
use crate::judge::{self, Evidence, Snapshot, Verdict};
use crate::plan::{CaseId, Plan, Unit};
use crate::snapshot::{Change, Snapshots};
use crate::suite::{Architecture, Credentials, Suite};
use crate::worker::{Blueprint, BootError, CallerCredentials, Placement, Ready, Worker, WorkerId};

/// Executes a plan against an engine.
pub struct Runner {
    pub engine: Engine,
    pub owned: OwnedContainers,
    pub suites: Arc<Vec<Suite>>,
    /// Where each zipped artifact was unpacked.
    pub unpacked: Arc<Unpacked>,
    pub plan: Plan,
    pub pull: PullPolicy,
    /// `--aws-credentials`: overrides every function's `aws_credentials`.
    pub credentials: Option<Credentials>,
    /// The caller's credentials, for functions that inherit them.
    pub caller: CallerCredentials,
    /// How code and layers reach the containers.
    pub mount: MountMode,
    /// The host the containers' published ports are reached at.
    pub invoke_host: String,
    /// `--fail-fast`: skip every case after the first that does not pass.
    pub fail_fast: bool,
    /// Leave containers running after the run, for debugging.
    pub keep: bool,
    /// Labels this run's containers.
    pub run_id: String,
    /// The stored snapshots of the suites that have `snapshot` checks.
    pub snapshots: Snapshots,
    /// `--update-snapshots` (never under CI): record what `snapshot` checks see.
    pub update_snapshots: bool,
    /// Where the whole actual value of a failure with a cut diff is written.
    pub attachments: std::path::PathBuf,
}

/// Stamps events and sends them to the reporters; a reporter that has gone away does not stop
/// the run.
pub(crate) struct Emitter {
    events: UnboundedSender<Event>,
    started: Instant,
}

impl Emitter {
    pub(crate) fn emit(&self, kind: EventKind) {
        let _ = self.events.send(Event {
            at: SystemTime::now(),
            elapsed: self.started.elapsed(),
            kind,
        });
    }
}

impl Runner {
    /// Runs every unit of the plan, sending events to `events`, and returns the counts.
    /// Failing cases are data, not errors.
    pub async fn execute(&self, events: UnboundedSender<Event>) -> Stats {
        let out = Emitter {
            events,
            started: Instant::now(),
        };
        let suites = &self.suites;
        out.emit(EventKind::RunStarted {
            run_id: self.run_id.clone(),
            suites: self
                .plan
                .suites()
                .into_iter()
                .map(|(id, cases)| {
                    let suite = SuiteRef::new(id, &suites[id.0]);
                    let cases = cases
                        .into_iter()
                        .map(|c| CaseRef::new(&suite, c, &suites[id.0]))
                        .collect();
                    PlannedSuite { suite, cases }
                })
                .collect(),
        });
        let images = self.prepare_images(&out).await;
        let delivery = self.choose_delivery(&images, &out).await;
        let engine_arch = self.engine.architecture().await;
        let engine_arch = engine_arch.as_deref().and_then(Architecture::from_engine);
        let mut stats = Stats::default();
        for (seq, unit) in self.plan.units.iter().enumerate() {
            let f = &suites[unit.suite.0].function;
            let first_case = unit.cases.first().map_or(String::new(), |c| {
                format!("{} / {}", f.name, suites[unit.suite.0].cases[c.index].name)
            });
            let image = images.of(unit.suite, f, &first_case);
            if image.is_ok()
                && let Some(engine_arch) = engine_arch.filter(|a| *a != f.architecture)
            {
                out.emit(EventKind::Warning {
                    suite: SuiteRef::new(unit.suite, &suites[unit.suite.0]),
                    message: format!(
                        "{} is built for {} and this engine runs {}: it runs under emulation, if at all, and its timings are not representative",
                        f.name,
                        f.architecture.name(),
                        engine_arch.name()
                    ),
                });
            }
            self.run_unit(WorkerId(seq), unit, (image, delivery), &mut stats, &out)
                .await;
        }
        if self.update_snapshots {
            for (file, written) in self.snapshots.save(suites) {
                out.emit(EventKind::SnapshotsWritten {
                    file,
                    error: written.err(),
                });
            }
        }
        stats.duration = out.started.elapsed();
        out.emit(EventKind::RunFinished { stats });
        stats
    }

    /// Runs a unit's cases in order on one worker, booting it for the first case and replacing
    /// its container after one is lost.
    async fn run_unit(
        &self,
        id: WorkerId,
        unit: &Unit,
        (image, delivery): (Result<String, images::ImageProblem>, Delivery),
        stats: &mut Stats,
        out: &Emitter,
    ) {
        let suite = &self.suites[unit.suite.0];
        let worker_ref = WorkerRef {
            id,
            suite: SuiteRef::new(unit.suite, suite),
        };
        let mut worker: Option<Worker> = None;
        let mut lost = false;
        // Once a container cannot be booted, the remaining cases end with the same error; the
        // first of them carries what the container wrote.
        let mut problem = image.as_ref().err().map(|p| p.first.clone());
        let mut problem_logs = Vec::new();
        for &case_id in &unit.cases {
            let case = &suite.cases[case_id.index];
            let case_ref = CaseRef::new(&worker_ref.suite, case_id, suite);
            out.emit(EventKind::CaseStarted {
                case: case_ref.clone(),
            });
            if self.fail_fast && stats.failed + stats.errors > 0 {
                let reason = "--fail-fast: an earlier case did not pass".to_string();
                let result = CaseResult::not_run(Verdict::Skipped(reason), Vec::new());
                stats.record(&result.verdict);
                out.emit(EventKind::CaseFinished {
                    case: case_ref,
                    result: Box::new(result),
                });
                continue;
            }
            if problem.is_none() && (worker.is_none() || lost) {
                out.emit(EventKind::ContainerStarting {
                    worker: worker_ref.clone(),
                });
                let image = image.as_deref().unwrap_or_default();
                let placement = Placement {
                    image,
                    delivery,
                    invoke_host: &self.invoke_host,
                    own_network: self.engine.own_network.as_deref(),
                };
                match self.boot(id, suite, placement, worker.take()).await {
                    Ok((booted, ready)) => {
                        out.emit(EventKind::ContainerReady {
                            worker: worker_ref.clone(),
                            name: ready.name,
                            invoke_url: ready.invoke_url,
                            took: ready.took,
                        });
                        worker = Some(booted);
                    }
                    Err(e) => {
                        let message = one_line(&e);
                        problem_logs = e.into_logs();
                        out.emit(EventKind::ContainerFailed {
                            worker: worker_ref.clone(),
                            message: message.clone(),
                            logs: problem_logs.clone(),
                        });
                        problem = Some(message);
                    }
                }
                lost = false;
            }
            let mut recorded = None;
            let result = match (&mut worker, &problem) {
                (Some(w), None) => {
                    let invocation = w.invoke(&case.event, &case.context).await;
                    lost = invocation.outcome.container_lost();
                    let lines: Vec<&str> =
                        invocation.logs.iter().map(|l| l.text.as_str()).collect();
                    let evidence = Evidence {
                        outcome: &invocation.outcome,
                        logs: &lines,
                        duration: invocation.reported.duration,
                    };
                    let stored = self.snapshots.get(unit.suite.0, &case.name);
                    let snapshot_file = suite.snapshot_file();
                    let mode = if self.update_snapshots {
                        Snapshot::Record
                    } else {
                        Snapshot::Compare {
                            stored: stored.as_ref(),
                            file: &snapshot_file,
                        }
                    };
                    let judgement = judge::judge(&case.expect, evidence, mode);
                    let mut verdict = judgement.verdict;
                    if let Some(trigger) = suite.function.edge {
                        verdict =
                            judge::edge::response_limit(trigger, &invocation.outcome, verdict);
                    }
                    if self.update_snapshots
                        && let Some(seen) = judgement.snapshot
                    {
                        let change = self.snapshots.record(unit.suite.0, &case.name, seen);
                        if change != Change::Unchanged {
                            recorded = Some(change);
                        }
                    }
                    self.attach(&mut verdict, suite, case_id);
                    CaseResult {
                        verdict,
                        duration: invocation.round_trip,
                        logs: invocation.logs,
                        outcome: Some(invocation.outcome),
                        reported: invocation.reported,
                    }
                }
                _ => {
                    let result = CaseResult::not_run(
                        Verdict::Error(problem.clone().unwrap_or_default()),
                        std::mem::take(&mut problem_logs),
                    );
                    // An image problem is said in full once; the cases after refer to it.
                    if let Err(p) = &image {
                        problem = Some(p.brief.clone());
                    }
                    result
                }
            };
            stats.record(&result.verdict);
            out.emit(EventKind::CaseFinished {
                case: case_ref.clone(),
                result: Box::new(result),
            });
            if let Some(change) = recorded {
                out.emit(EventKind::SnapshotRecorded {
                    case: case_ref,
                    change,
                });
            }
        }
        if let Some(w) = worker
            && let Some(kept) = w.retire(self.keep && !lost).await
        {
            out.emit(EventKind::ContainerKept {
                worker: worker_ref,
                name: kept.name,
                invoke_url: kept.invoke_url,
            });
        }
    }

    /// Writes the whole actual value of each failure whose diff was cut to a file of its own,
    /// which the failure then names.
    fn attach(&self, verdict: &mut Verdict, suite: &Suite, case: CaseId) {
        let Verdict::Fail(failures) = verdict else {
            return;
        };
        let stem = suite
            .file
            .file_stem()
            .map(|s| slug(&s.to_string_lossy()))
            .unwrap_or_default();
        // Suite and case numbers keep two suites named alike, or two long names, apart.
        let stem = format!("{}-{stem}", case.suite.0 + 1);
        let name = format!("{}-{}", case.index + 1, slug(&suite.cases[case.index].name));
        for (i, failure) in failures.iter_mut().enumerate() {
            let Some(actual) = failure.actual.take() else {
                continue;
            };
            let dir = self.attachments.join(&stem);
            let path = dir.join(format!("{name}.{}.{i}.txt", failure.check));
            let written =
                std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, actual));
            match written {
                Ok(()) => failure.attachment = Some(std::path::absolute(&path).unwrap_or(path)),
                Err(e) => failure.message.push_str(&format!(
                    " (the whole actual value could not be written to {}: {e})",
                    path.display()
                )),
            }
        }
    }

    /// A fresh container for the suite: the lost one's replacement, or the first.
    async fn boot(
        &self,
        id: WorkerId,
        suite: &Suite,
        placement: Placement<'_>,
        lost: Option<Worker>,
    ) -> Result<(Worker, Ready), BootError> {
        if let Some(lost) = lost {
            return lost.replace().await;
        }
        let credentials = self.credentials.unwrap_or(suite.function.aws_credentials);
        let blueprint = Blueprint::new(
            &suite.function,
            placement,
            &self.unpacked,
            (credentials, &self.caller),
            &suite.file,
            &self.run_id,
        )
        .map_err(BootError::Layers)?;
        Worker::boot(id, &self.engine, &self.owned, Arc::new(blueprint)).await
    }
}

/// A name safe in a file name: letters, digits, `-` and `_` kept, anything else `_`.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    if s.is_empty() { "case".into() } else { s }
}
