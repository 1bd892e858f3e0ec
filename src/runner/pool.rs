//! A pool: the containers of one function sharing one queue of its cases. A free container
//! takes the next case; with one container (`concurrency: 1`) the cases run in the order
//! written, on one warm container.

use std::collections::VecDeque;
use std::sync::Mutex;

use futures_util::future::join_all;

use super::authorize::{Authorized, Authorizers};
use super::slot::{NoWorker, Request, Slot, Unserved};
use super::tellers::Unready;
use super::{Emitter, Runner, Shared, attach, lock, not_run};
use crate::event::{CaseRef, CaseResult, EventKind, Stats, SuiteRef};
use crate::judge::{self, ErrorKind, Evidence, LogsSeen, Snapshot, Unjudged, Verdict};
use crate::lines::LogLine;
use crate::plan::{CaseId, Unit};
use crate::snapshot::Change;
use crate::suite::{Case, Isolation, Suite};

/// One function's queue of cases and what its containers share.
struct Pool<'a> {
    unit: &'a Unit,
    suite: &'a Suite,
    suite_ref: SuiteRef,
    queue: Mutex<VecDeque<CaseId>>,
    /// Whether the function is ready to boot (its image), or why not.
    image: Result<(), Unready>,
    /// What to warn of once it is.
    warning: Option<String>,
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
        let image = self.unless_stopped(self.prepare(&shared.tellers, unit.suite, &out));
        // Stopped first: every case is then reported not run when it asks to start.
        let image = image.await.unwrap_or_else(|| {
            let reason = self.stopped().unwrap_or_default();
            Err(Unready {
                first: reason.clone(),
                brief: reason,
            })
        });
        let warning = match &image {
            Ok(()) => self.backend.warning(suite).await,
            Err(_) => None,
        };
        let pool = Pool {
            unit,
            suite,
            suite_ref: SuiteRef::new(unit.suite, suite),
            queue: Mutex::new(unit.cases.iter().copied().collect()),
            problem: Mutex::new(image.as_ref().err().map(|e| (e.first.clone(), Vec::new()))),
            image,
            warning,
            started: std::sync::Once::new(),
        };
        let slots = suite.concurrency.clamp(1, unit.cases.len().max(1));
        let authorizer_suites = super::authorize::suites_of(suite);
        let authorizers = Authorizers::new(self, unit.suite, &authorizer_suites);
        join_all((0..slots).map(|slot| self.run_slot(&pool, (slot, &authorizers), shared, &out)))
            .await;
        authorizers.retire(self, self.keep, &out);
        // A suite whose slots never started (no case was planned to run) still begins.
        self.begin(&pool, &out);
        out.emit(EventKind::SuiteFinished {
            suite: pool.suite_ref.clone(),
            stats: Stats::default(),
        });
    }

    /// Announces the suite once, when its first container slot gets to run.
    fn begin(&self, pool: &Pool<'_>, out: &Emitter) {
        pool.started.call_once(|| {
            out.emit(EventKind::SuiteStarted {
                suite: pool.suite_ref.clone(),
            });
            if let Some(message) = &pool.warning {
                out.emit(EventKind::Warning {
                    suite: pool.suite_ref.clone(),
                    message: message.clone(),
                });
            }
        });
    }

    /// One slot of a pool: takes cases from the queue until it is empty, each served through
    /// [`Slot::invoke`] (booting its instance for the first case, replacing one that is lost).
    async fn run_slot(
        &self,
        pool: &Pool<'_>,
        (slot, authorizers): (usize, &Authorizers<'_>),
        shared: &Shared,
        out: &Emitter,
    ) {
        if pool.is_empty() {
            return;
        }
        let Ok(serving) = shared.jobs.acquire().await else {
            return;
        };
        self.begin(pool, out);
        let mut slot = Slot::new(self, (pool.unit.suite, pool.suite), slot);
        while let Some(case_id) = pool.next_case() {
            let case = &pool.suite.cases[case_id.index];
            let case_ref = CaseRef::new(&pool.suite_ref, case_id, pool.suite);
            if out.may_start(&case_ref).await.is_err() {
                continue;
            }
            // A cold case gets a container that has served nothing, and serves no other.
            let cold = case.isolation.unwrap_or(pool.suite.isolation) == Isolation::Cold;
            let served = self
                .serve_case(pool, (&mut slot, authorizers), case, cold, out)
                .await;
            let (invoked, answered) = match served {
                Served::Invoked(invoked, answered) => (*invoked, answered),
                Served::Cut { in_flight } => {
                    self.cut_short(case_ref, in_flight, out);
                    continue;
                }
            };
            let (result, recorded) = self.result(pool, case_id, invoked, answered.as_ref(), shared);
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
            if cold && !pool.is_empty() {
                slot.make_fresh();
            }
        }
        // A container being removed serves nothing: the next one may start meanwhile.
        drop(serving);
        slot.retire(self, self.keep, out);
    }

    /// Serves one case on `slot`: its front door's own answer when it answers itself (a CORS
    /// preflight, an authorizer's refusal, a request too large) and invokes nothing, else the
    /// invocation of its function (after its Lambda authorizer allowed it).
    async fn serve_case<'s>(
        &self,
        pool: &Pool<'_>,
        (slot, authorizers): (&mut Slot<'s>, &Authorizers<'_>),
        case: &Case,
        cold: bool,
        out: &Emitter,
    ) -> Served {
        let rules: Vec<_> = case.expect.log_rules().collect();
        let mut payload = case.event.to_string().into_bytes();
        let mut answered = case.front.as_ref().and_then(|f| f.answered.clone());
        let failed = lock(&pool.problem).is_some();
        if answered.is_none() && !failed {
            match self.authorize(pool.suite, authorizers, case, out).await {
                None => {}
                Some(Authorized::Allowed(event)) => payload = event,
                Some(Authorized::Refused(refusal)) => answered = Some(refusal),
                Some(Authorized::Unready { message, logs }) => {
                    return Served::Invoked(Box::new(Err((message, logs))), None);
                }
                Some(Authorized::Stopped) => return Served::Cut { in_flight: false },
            }
        }
        if let Some(response) = &answered {
            let invocation = answered_itself(response, rules.len());
            return Served::Invoked(Box::new(Ok(invocation)), answered);
        }
        if let Some(problem) = pool.problem() {
            return Served::Invoked(Box::new(Err(problem)), None);
        }
        let request = Request {
            payload: &payload,
            context: &case.context,
            rules: &rules,
            taps: Default::default(),
            cold,
        };
        let invoked = match slot.invoke(self, out, request).await {
            Ok(invocation) => Ok(invocation),
            Err(Unserved::NoWorker(NoWorker::Stopped)) => return Served::Cut { in_flight: false },
            Err(Unserved::Cut) => return Served::Cut { in_flight: true },
            Err(Unserved::NoWorker(NoWorker::Failed { message, logs })) => {
                lock(&pool.problem).get_or_insert((message, logs));
                Err(pool.problem().unwrap_or_default())
            }
        };
        Served::Invoked(Box::new(invoked), None)
    }

    /// What a case came to: the verdict on its invocation (with the snapshot it recorded, when
    /// it changed one), or the error it ends with when its function could not be had.
    fn result(
        &self,
        pool: &Pool<'_>,
        case_id: CaseId,
        invoked: Result<crate::backend::Invocation, (String, Vec<LogLine>)>,
        answered: Option<&crate::gateway::HttpResponse>,
        shared: &Shared,
    ) -> (CaseResult, Option<Change>) {
        match invoked {
            Ok(invocation) => {
                let (verdict, change) = self.judge(pool, case_id, (&invocation, answered), shared);
                let result = CaseResult {
                    verdict,
                    duration: invocation.round_trip,
                    logs: invocation.logs,
                    outcome: Some(invocation.outcome),
                    reported: invocation.reported,
                };
                (result, change)
            }
            Err((message, logs)) => {
                // An image problem is said in full once; the cases after refer to it.
                let kind = match (&pool.image, lock(&pool.problem).as_mut()) {
                    (Err(p), Some(told)) => {
                        told.0.clone_from(&p.brief);
                        ErrorKind::Image
                    }
                    (Err(_), None) => ErrorKind::Image,
                    (Ok(()), _) => ErrorKind::Boot,
                };
                let why = Unjudged::new(kind, message);
                (CaseResult::not_run(Verdict::Error(why), logs), None)
            }
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
        (invocation, answered): (
            &crate::backend::Invocation,
            Option<&crate::gateway::HttpResponse>,
        ),
        shared: &Shared,
    ) -> (Verdict, Option<Change>) {
        let suite = pool.suite;
        let case = &suite.cases[case_id.index];
        // A `request:` case is judged on what its front door returns.
        let (seen, own) = match &case.front {
            Some(front) => {
                let (seen, own) = judge::front::response(
                    front,
                    answered,
                    &invocation.outcome,
                    invocation.reported.duration,
                    suite.function.timeout,
                    invocation.reported.stream.is_some(),
                );
                (std::borrow::Cow::Owned(seen), own)
            }
            None => (std::borrow::Cow::Borrowed(&invocation.outcome), None),
        };
        let evidence = Evidence {
            outcome: &seen,
            logs: LogsSeen {
                lines: invocation.log_lines,
                found: &invocation.found,
            },
            duration: invocation.reported.duration,
            stream: invocation.reported.stream.as_ref(),
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
        let mut verdict = judge::front::explained(judgement.verdict, own, &case.expect);
        if let Some(trigger) = suite.function.edge {
            verdict = judge::edge::response_limit(trigger, &invocation.outcome, verdict);
        }
        let mut recorded = None;
        if self.update_snapshots
            && let Some(seen) = judgement.snapshot
        {
            // A snapshot is committed with the code: a secret is never written into one.
            if let Some(path) = crate::redact::secret_path(&seen, &shared.redactor) {
                let message = format!(
                    "snapshot not recorded: the response holds a secret at `{path}` (a `${{VAR}}` value or inherited credential), and snapshot files are committed; leave the path out with `ignore: [\"{path}\"]`, or stop the function returning it"
                );
                verdict = Verdict::Error(Unjudged::new(ErrorKind::Snapshot, message));
            } else {
                let change = self.snapshots.record(case_id.suite.0, &case.name, seen);
                if change != Change::Unchanged {
                    recorded = Some(change);
                }
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
}

/// How a case was served.
enum Served {
    /// Its invocation (or the error it ends with), and its front door's own answer when it
    /// answered itself.
    Invoked(
        Box<Result<crate::backend::Invocation, (String, Vec<LogLine>)>>,
        Option<crate::gateway::HttpResponse>,
    ),
    /// The run stopped before (or while) it ran.
    Cut { in_flight: bool },
}

/// The invocation a case's front door stands in for when it answers itself: no logs, no time,
/// its HTTP response as the outcome reports show.
fn answered_itself(
    response: &crate::gateway::HttpResponse,
    rules: usize,
) -> crate::backend::Invocation {
    crate::backend::Invocation {
        answer: None,
        outcome: crate::outcome::Outcome::Success {
            body: crate::outcome::Body::Json(response.view()),
        },
        logs: Vec::new(),
        log_lines: 0,
        found: vec![None; rules],
        round_trip: std::time::Duration::ZERO,
        reported: Default::default(),
    }
}
