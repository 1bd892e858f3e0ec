//! Runs a plan: a pool of instances per function (containers, on the container backend),
//! sharing one queue of its cases, up to `--jobs` instances across the run; every executor
//! sends what happens to one dispatcher, which alone counts, cancels and talks to the
//! reporters. Knows nothing of reporters, and of where functions run only the
//! [`crate::backend`] seam.

mod attach;
pub(crate) mod authorize;
mod builder;
mod dispatch;
mod pool;
mod prepared;
mod session;
mod slot;
mod tellers;

use std::sync::Arc;

use futures_util::future::join_all;
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;

use crate::backend::Backend;
use crate::event::{CaseRef, Event, EventKind, PlannedSuite, Stats, SuiteRef};
use crate::plan::{Plan, SuiteId};
use crate::redact::{MIN_SECRET_CHARS, Redactor};
use crate::snapshot::Snapshots;
use crate::suite::{Credentials, Suite};
use crate::worker::CallerCredentials;

pub use builder::RunnerBuilder;
pub use dispatch::Cancellation;
pub(crate) use dispatch::{Emitter, live};
pub use prepared::Prepared;
pub use session::Session;
pub(crate) use slot::{NoWorker, Request, Slot, Unserved};

/// How many containers may boot at the same time, whatever `--jobs` allows to run: booting is
/// the heaviest part of a container's life, so no more than one per CPU.
pub(crate) fn boots_at_once() -> usize {
    crate::config::cpus().max(2)
}

/// A lock whose holder panicked still guards data a report can use: take it anyway.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why a case the stopping run never started is skipped.
fn not_run(reason: &str) -> String {
    format!("not run: {reason}")
}

/// Executes a plan on a backend; made by [`Runner::builder`] alone.
pub struct Runner {
    /// Where the functions run; nothing of the runner's knows more of it than this.
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) suites: Arc<Vec<Suite>>,
    /// What the session keeps across plans (slot generations, warm instances).
    pub(crate) prepared: std::sync::Arc<Prepared>,
    /// One permit per instance booting, across the session.
    pub(crate) boots: Arc<Semaphore>,
    /// `watch`: a slot's instance is kept warm for the session's next plan, rather than
    /// removed, when it can start its runtime again in place.
    pub(crate) warm: bool,
    /// `--aws-credentials`: overrides every function's `aws_credentials`.
    pub(crate) credentials: Option<Credentials>,
    /// The caller's credentials, for functions that inherit them.
    pub(crate) caller: CallerCredentials,
    /// When to stop starting cases (`--fail-fast`, `--max-fail`).
    pub(crate) cancellation: Cancellation,
    /// `--jobs`: how many containers may serve at once across the run.
    pub(crate) jobs: usize,
    /// Leave containers running after the run, for debugging.
    pub(crate) keep: bool,
    /// Labels this run's containers.
    pub(crate) run_id: String,
    /// The stored snapshots of the suites that have `snapshot` checks.
    pub(crate) snapshots: Snapshots,
    /// `--update-snapshots` (never under CI): record what `snapshot` checks see.
    pub(crate) update_snapshots: bool,
    /// Where the whole actual value of a failure with a cut diff is written.
    pub(crate) attachments: std::path::PathBuf,
    /// Set, with the reason (`interrupted by SIGINT`), when the run is to stop early: no case
    /// starts after it, the ones in flight are cut, and every case not run is reported skipped.
    pub(crate) stop: tokio::sync::watch::Receiver<Option<String>>,
}

/// What every executor of a run shares: the bounds on instances, and who tells each
/// preparation's problem.
struct Shared {
    /// One permit per instance serving, across the run.
    jobs: Semaphore,
    /// Who tells each preparation's problem in full.
    tellers: tellers::Tellers,
    redactor: Redactor,
}

impl Runner {
    /// Runs every unit of `plan`, sending events to `events`, and returns the counts.
    /// Failing cases are data, not errors. What is prepared for it stays for the next plan.
    pub async fn execute(&self, plan: &Plan, events: UnboundedSender<Event>) -> Stats {
        let suites = &self.suites;
        self.backend.begin(suites);
        let planned = plan.suites();
        let redactor = self.redactor();
        let (dispatcher, out, inbox) = dispatch::Dispatcher::new(
            events,
            &planned,
            redactor.clone(),
            (self.cancellation, self.stop.clone()),
        );
        let dispatching = tokio::spawn(dispatcher.run(inbox));
        out.emit(EventKind::RunStarted {
            run_id: self.run_id.clone(),
            suites: planned
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
        self.warn_unredacted(&out, &redactor);
        let shared = Shared {
            jobs: Semaphore::new(self.jobs.max(1)),
            tellers: self.tellers(plan),
            redactor,
        };
        join_all(
            plan.units
                .iter()
                .map(|unit| self.run_pool(unit, &shared, out.clone())),
        )
        .await;
        if self.update_snapshots {
            for (file, written) in self.snapshots.save(suites) {
                out.emit(EventKind::SnapshotsWritten {
                    file,
                    error: written.err(),
                });
            }
        }
        drop(out);
        dispatching.await.unwrap_or_default()
    }

    /// What `suite`'s function needs made ready once (its image); or why it cannot be, in
    /// full.
    pub(crate) async fn ready(&self, suite: SuiteId, out: &Emitter) -> Result<(), String> {
        let say = |kind| out.emit(kind);
        let suite = &self.suites[suite.0];
        self.backend.prepare(suite, &say).await.map_err(|p| p.full)
    }

    /// Forgets what was prepared for `suite`'s function alone (see [`Session::rebuild`]).
    pub fn rebuild(&self, suite: SuiteId) {
        let loaded = &self.suites[suite.0];
        for one in std::iter::once(loaded.clone()).chain(authorize::suites_of(loaded)) {
            self.prepared.forget(&one.file);
            self.backend.forget(&one);
        }
    }

    /// Whether `suite`'s instances can start its runtime again in place.
    pub(crate) fn reloads_in_place(&self, suite: SuiteId) -> bool {
        self.backend.reloads_in_place(&self.suites[suite.0])
    }

    /// Why the run is stopping, once it is.
    fn stopped(&self) -> Option<String> {
        self.stop.borrow().clone()
    }

    /// `work`'s result, or `None` when the run is stopped first (then `work` is dropped, and
    /// with it any container it had: containers are removed when dropped).
    async fn unless_stopped<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        let mut stop = self.stop.clone();
        if stop.borrow().is_some() {
            return None;
        }
        let stopped = async move {
            // A dropped sender never stops the run.
            if stop.wait_for(Option::is_some).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            done = work => Some(done),
            () = stopped => None,
        }
    }

    /// The secrets of this run: the `${NAME}` values, and the caller's credentials when a
    /// function inherits them.
    fn redactor(&self) -> Redactor {
        Redactor::new(&self.secrets())
    }

    /// What this runner's reports must not show (see [`CallerCredentials::secrets`]).
    pub(crate) fn secrets(&self) -> Vec<(String, String)> {
        let mut secrets = self.caller.secrets(self.inheriting().next().is_some());
        for suite in self.suites.iter() {
            secrets.extend(suite.function.secrets.iter().cloned());
        }
        secrets
    }

    /// The suites whose functions get the caller's credentials.
    fn inheriting(&self) -> impl Iterator<Item = (SuiteId, &Suite)> {
        self.suites.iter().enumerate().filter_map(|(i, suite)| {
            let credentials = self.credentials.unwrap_or(suite.function.aws_credentials);
            (credentials == Credentials::Inherit).then_some((SuiteId(i), suite))
        })
    }

    /// Says once which inherited values are too short to be told from ordinary text, and so
    /// are shown as they are.
    fn warn_unredacted(&self, out: &Emitter, redactor: &Redactor) {
        let skipped = redactor.skipped();
        let with_vars = self
            .suites
            .iter()
            .enumerate()
            .find_map(|(i, s)| (!s.function.caller_vars.is_empty()).then_some((SuiteId(i), s)));
        let Some((id, suite)) = self.inheriting().next().or(with_vars) else {
            return;
        };
        if skipped.is_empty() {
            return;
        }
        out.emit(EventKind::Warning {
            suite: SuiteRef::new(id, suite),
            message: format!(
                "{} {} shorter than {MIN_SECRET_CHARS} characters, too short to tell from ordinary text: not redacted from reports (longer values are)",
                skipped.join(", "),
                if skipped.len() == 1 { "is" } else { "are" },
            ),
        });
    }
}
