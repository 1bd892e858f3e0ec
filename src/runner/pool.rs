//! A pool: the containers of one function sharing one queue of its cases. A free container
//! takes the next case; with one container (`concurrency: 1`) the cases run in the order
//! written, on one warm container.

use std::collections::VecDeque;
use std::sync::Mutex;

use futures_util::future::join_all;

use super::images::ImageProblem;
use super::{Emitter, Runner, Shared, attach, lock, not_run};
use crate::chain::one_line;
use crate::docker::LogLine;
use crate::event::{CaseRef, CaseResult, EventKind, Stats, SuiteRef, WorkerRef};
use crate::judge::{self, Evidence, LogsSeen, Snapshot, Verdict};
use crate::plan::{CaseId, Unit, WorkerId};
use crate::snapshot::Change;
use crate::suite::{Isolation, Suite};
use crate::worker::{BootError, Worker};

/// One function's queue of cases and what its containers share.
struct Pool<'a> {
    unit: &'a Unit,
    suite: &'a Suite,
    suite_ref: SuiteRef,
    queue: Mutex<VecDeque<CaseId>>,
    /// The image, or why there is none.
    image: Result<String, ImageProblem>,
    /// Once a container cannot be booted, every remaining case ends with this error; the
    /// first of them carries what the container wrote.
    problem: Mutex<Option<(String, Vec<LogLine>)>>,
    started: std::sync::Once,
}

impl Pool<'_> {
    fn next_case(&self) -> Option<CaseId> {
        lock(&self.queue).pop_front()
    }

    fn is_empty(&self) -> bool {
        lock(&self.queue).is_empty()
    }

    /// The error every remaining case ends with, if the function cannot be booted.
    fn problem(&self) -> Option<(String, Vec<LogLine>)> {
        let mut problem = lock(&self.problem);
        let (message, logs) = problem.as_mut()?;
        Some((message.clone(), std::mem::take(logs)))
    }
}

impl Runner {
    /// Runs one function's cases on a pool of its containers.
    pub(super) async fn run_pool(&self, unit: &Unit, shared: &Shared, out: Emitter) {
        let suite = &self.suites[unit.suite.0];
        let image = self.unless_stopped(self.image(&shared.tellers, unit.suite, &out));
        // Stopped first: every case is then reported not run when it asks to start.
        let image = image.await.unwrap_or_else(|| {
            let reason = self.stopped().unwrap_or_default();
            Err(ImageProblem {
                first: reason.clone(),
                brief: reason,
            })
        });
        let pool = Pool {
            unit,
            suite,
            suite_ref: SuiteRef::new(unit.suite, suite),
            queue: Mutex::new(unit.cases.iter().copied().collect()),
            problem: Mutex::new(image.as_ref().err().map(|e| (e.first.clone(), Vec::new()))),
            image,
            started: std::sync::Once::new(),
        };
        let slots = suite.concurrency.clamp(1, unit.cases.len().max(1));
        join_all((0..slots).map(|slot| self.serve(&pool, slot, shared, &out))).await;
        // A suite whose slots never started (no case was planned to run) still begins.
        self.begin(&pool, shared, &out);
        out.emit(EventKind::SuiteFinished {
            suite: pool.suite_ref.clone(),
            stats: Stats::default(),
        });
    }

    /// Announces the suite once, when its first container slot gets to run.
    fn begin(&self, pool: &Pool<'_>, shared: &Shared, out: &Emitter) {
        pool.started.call_once(|| {
            out.emit(EventKind::SuiteStarted {
                suite: pool.suite_ref.clone(),
            });
            let f = &pool.suite.function;
            if pool.image.is_ok()
                && let Some(engine_arch) = shared.engine_arch.filter(|a| *a != f.architecture)
            {
                out.emit(EventKind::Warning {
                    suite: pool.suite_ref.clone(),
                    message: format!(
                        "{} is built for {} and this engine runs {}: it runs under emulation, if at all, and its timings are not representative",
                        f.name,
                        f.architecture.name(),
                        engine_arch.name()
                    ),
                });
            }
        });
    }

    /// One container slot of a pool: takes cases from the queue until it is empty, booting its
    /// container for the first case and replacing it after one is lost.
    async fn serve(&self, pool: &Pool<'_>, slot: usize, shared: &Shared, out: &Emitter) {
        if pool.is_empty() {
            return;
        }
        let Ok(serving) = shared.jobs.acquire().await else {
            return;
        };
        self.begin(pool, shared, out);
        let mut id = WorkerId {
            suite: pool.unit.suite,
            slot,
            generation: self.prepared.generation(pool.unit.suite, slot),
        };
        let worker_ref = |id| WorkerRef {
            id,
            suite: pool.suite_ref.clone(),
        };
        let mut worker: Option<Worker> = None;
        let mut lost = false;
        // How many cases the current container has served.
        let mut served = 0;
        while let Some(case_id) = pool.next_case() {
            let case = &pool.suite.cases[case_id.index];
            let case_ref = CaseRef::new(&pool.suite_ref, case_id, pool.suite);
            if out.may_start(&case_ref).await.is_err() {
                continue;
            }
            // A cold case gets a container that has served nothing, and serves no other.
            let cold = case.isolation.unwrap_or(pool.suite.isolation) == Isolation::Cold;
            if cold && served > 0 && !lost && worker.take().is_some() {
                id.generation += 1;
            }
            if pool.problem().is_none() && (worker.is_none() || lost) {
                if lost {
                    id.generation += 1;
                }
                out.emit(EventKind::ContainerStarting {
                    worker: worker_ref(id),
                });
                let booted = self.unless_stopped(async {
                    let _booting = shared.boots.acquire().await;
                    self.boot(pool, id, out, worker.take()).await
                });
                let Some(booted) = booted.await else {
                    // Stopped while booting: what the boot created went with its future.
                    self.cut_short(case_ref, false, out);
                    continue;
                };
                match booted {
                    Ok((booted, ready)) => {
                        out.emit(EventKind::ContainerReady {
                            worker: worker_ref(id),
                            name: ready.name,
                            invoke_url: ready.invoke_url,
                            took: ready.took,
                        });
                        worker = Some(booted);
                        served = 0;
                    }
                    Err(e) => {
                        let message = one_line(&e);
                        let logs = e.into_logs();
                        out.emit(EventKind::ContainerFailed {
                            worker: worker_ref(id),
                            message: message.clone(),
                            logs: logs.clone(),
                        });
                        lock(&pool.problem).get_or_insert((message, logs));
                    }
                }
                lost = false;
            }
            let mut recorded = None;
            let result = match (&mut worker, pool.problem()) {
                (Some(w), None) => {
                    let rules: Vec<_> = case.expect.log_rules().collect();
                    let invoked = self.unless_stopped(w.invoke(&case.event, &case.context, &rules));
                    let Some(invocation) = invoked.await else {
                        // Cut in flight; its container is removed with the worker.
                        self.cut_short(case_ref, true, out);
                        lost = true;
                        continue;
                    };
                    lost = invocation.outcome.container_lost();
                    served += 1;
                    let (verdict, change) = self.judge(pool, case_id, &invocation, shared);
                    recorded = change;
                    CaseResult {
                        verdict,
                        duration: invocation.round_trip,
                        logs: invocation.logs,
                        outcome: Some(invocation.outcome),
                        reported: invocation.reported,
                    }
                }
                (_, problem) => {
                    let (message, logs) = problem.unwrap_or_default();
                    // An image problem is said in full once; the cases after refer to it.
                    if let (Err(p), Some(told)) = (&pool.image, lock(&pool.problem).as_mut()) {
                        told.0.clone_from(&p.brief);
                    }
                    CaseResult::not_run(Verdict::Error(message), logs)
                }
            };
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
            // Dropping a cold case's container removes it in the background while the next
            // one boots.
            if cold && !lost && !pool.is_empty() && worker.take().is_some() {
                id.generation += 1;
            }
        }
        // A container being removed serves nothing: the next one may start meanwhile.
        drop(serving);
        self.prepared.used(id);
        if let Some(w) = worker
            && let Some(kept) = w.retire(self.keep && !lost)
        {
            out.emit(EventKind::ContainerKept {
                worker: worker_ref(id),
                name: kept.name,
                invoke_url: kept.invoke_url,
            });
        }
    }

    /// Reports a case the stopping run did not finish, as skipped with why.
    fn cut_short(&self, case: CaseRef, in_flight: bool, out: &Emitter) {
        let reason = self.stopped().unwrap_or_default();
        let reason = if in_flight {
            format!("cut short: {reason} while it ran")
        } else {
            not_run(&reason)
        };
        let result = CaseResult::not_run(Verdict::Skipped(reason), Vec::new());
        out.emit(EventKind::CaseFinished {
            case,
            result: Box::new(result),
        });
    }

    /// The verdict on one invocation, with the snapshot it recorded when it changed one.
    fn judge(
        &self,
        pool: &Pool<'_>,
        case_id: CaseId,
        invocation: &crate::worker::Invocation,
        shared: &Shared,
    ) -> (Verdict, Option<Change>) {
        let suite = pool.suite;
        let case = &suite.cases[case_id.index];
        let evidence = Evidence {
            outcome: &invocation.outcome,
            logs: LogsSeen {
                lines: invocation.log_lines,
                found: &invocation.found,
            },
            duration: invocation.reported.duration,
        };
        let stored = self.snapshots.get(case_id.suite.0, &case.name);
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
            verdict = judge::edge::response_limit(trigger, &invocation.outcome, verdict);
        }
        let mut recorded = None;
        if self.update_snapshots
            && let Some(seen) = judgement.snapshot
        {
            let change = self.snapshots.record(case_id.suite.0, &case.name, seen);
            if change != Change::Unchanged {
                recorded = Some(change);
            }
        }
        attach::attach(
            &self.attachments,
            &mut verdict,
            (suite, case_id),
            &shared.redactor,
        );
        (verdict, recorded)
    }

    /// A fresh container for the pool: the lost one's replacement, or the first.
    async fn boot(
        &self,
        pool: &Pool<'_>,
        id: WorkerId,
        out: &Emitter,
        lost: Option<Worker>,
    ) -> Result<(Worker, crate::worker::Ready), BootError> {
        if let Some(lost) = lost {
            return lost.replace().await;
        }
        let image = pool.image.as_deref().unwrap_or_default();
        let suite = (pool.unit.suite, pool.suite);
        self.boot_first(suite, image, id, out).await
    }
}
