//! One slot of a function's pool: the instance it serves with (a container, on the container
//! backend), booted when first needed, replaced after it is lost, fresh for each cold call,
//! restarted in place after a change, retired (or kept warm) at the end. The run's pools (fed
//! a finite queue of cases) and `serve`'s (fed an open queue of calls) serve each request
//! through [`Slot::invoke`], so a slot policy is written once; a slot lends its instance to
//! one invocation at a time, within the session's boot limit.

use super::{Emitter, Runner};
use crate::backend::{Failed, Instance, Invocation, Kept, Ready, Taps};
use crate::event::{EventKind, SuiteRef, WorkerRef};
use crate::lines::LogLine;
use crate::plan::{SuiteId, WorkerId};
use crate::suite::check::LogRule;
use crate::suite::{InvokeContext, Suite};

/// Why a slot has no worker to lend.
pub(crate) enum NoWorker {
    /// Its container could not be booted: why, and what it wrote.
    Failed { message: String, logs: Vec<LogLine> },
    /// The run stopped while it booted.
    Stopped,
}

/// One request for a slot's instance: a case's event, or a call's payload.
pub(crate) struct Request<'a> {
    pub(crate) payload: &'a [u8],
    pub(crate) context: &'a InvokeContext,
    /// The case's log checks, which see every line as it is written.
    pub(crate) rules: &'a [&'a LogRule],
    pub(crate) taps: Taps,
    /// `isolation: cold`: an instance that has served nothing, and serves nothing else.
    pub(crate) cold: bool,
}

/// Why a request was not answered.
pub(crate) enum Unserved {
    /// No instance could be had (see [`NoWorker`]).
    NoWorker(NoWorker),
    /// The run stopped while it was in flight: the instance may still be running it.
    Cut,
}

/// A slot of `suite`'s pool.
pub(crate) struct Slot<'a> {
    pub(crate) id: WorkerId,
    suite: (SuiteId, &'a Suite),
    suite_ref: SuiteRef,
    worker: Option<Box<dyn Instance>>,
    /// The last invocation lost the container: the next one gets a fresh container.
    lost: bool,
    /// How many invocations the current container has served.
    served: usize,
}

impl<'a> Slot<'a> {
    /// Slot `slot` of `suite`'s pool, whose containers take the generations after the ones
    /// the runner's earlier plans used.
    pub(crate) fn new(runner: &Runner, suite: (SuiteId, &'a Suite), slot: usize) -> Slot<'a> {
        Slot {
            id: WorkerId {
                suite: suite.0,
                slot,
                generation: runner.prepared.generation(suite.0, slot),
            },
            suite_ref: SuiteRef::new(suite.0, suite.1),
            suite,
            worker: None,
            lost: false,
            served: 0,
        }
    }

    fn worker_ref(&self) -> WorkerRef {
        WorkerRef {
            id: self.id,
            suite: self.suite_ref.clone(),
        }
    }

    /// Whether the next invocation needs a container booted first.
    pub(crate) fn needs_boot(&self) -> bool {
        self.worker.is_none() || self.lost
    }

    /// Lets go of a container that has served, so that the next invocation gets one that has
    /// served nothing (a cold call); dropped, it is removed in the background.
    pub(crate) fn make_fresh(&mut self) {
        if self.served > 0 && !self.lost && self.worker.take().is_some() {
            self.id.generation += 1;
        }
    }

    /// The instance to invoke, booted first when there is none or it was lost, within the
    /// session's boot limit; the boot is announced on `out`.
    pub(crate) async fn worker(
        &mut self,
        runner: &Runner,
        out: &Emitter,
    ) -> Result<&mut Box<dyn Instance>, NoWorker> {
        if self.needs_boot() {
            if self.lost {
                self.id.generation += 1;
            }
            self.lost = false;
            let warm = match self.worker {
                None => self.warm(runner),
                Some(_) => None,
            };
            out.emit(EventKind::ContainerStarting {
                worker: self.worker_ref(),
                in_place: warm.is_some(),
            });
            if let Some(warm) = warm
                && let Some(reloaded) = Self::reload(runner, warm).await
            {
                let (worker, ready) = reloaded?;
                return Ok(self.install(worker, ready, out));
            }
            let (id, previous) = (self.id, self.worker.take());
            let say = |kind| out.emit(kind);
            let booted = runner.unless_stopped(async {
                let _booting = runner.boots.acquire().await;
                match previous {
                    Some(lost) => lost.replace(id).await,
                    None => runner.backend.boot(self.suite.1, id, &say).await,
                }
            });
            // Stopped while booting: what the boot created went with its future.
            let booted = booted.await.ok_or(NoWorker::Stopped)?;
            match booted {
                Ok((booted, ready)) => {
                    self.install(booted, ready, out);
                }
                Err(Failed { message, logs }) => {
                    out.emit(EventKind::ContainerFailed {
                        worker: self.worker_ref(),
                        message: message.clone(),
                        logs: logs.clone(),
                    });
                    return Err(NoWorker::Failed { message, logs });
                }
            }
        }
        Ok(self.worker.as_mut().expect("booted above"))
    }

    /// Takes `worker`, which has served nothing since it became `ready`, said on `out`.
    fn install(
        &mut self,
        worker: Box<dyn Instance>,
        ready: Ready,
        out: &Emitter,
    ) -> &mut Box<dyn Instance> {
        out.emit(EventKind::ContainerReady {
            worker: self.worker_ref(),
            name: ready.name,
            invoke_url: ready.invoke_url,
            took: ready.took,
        });
        self.served = 0;
        self.worker.insert(worker)
    }

    /// The container this slot kept warm from the session's last plan, when one was kept and
    /// can still start its runtime again in place (else it is removed).
    fn warm(&self, runner: &Runner) -> Option<Box<dyn Instance>> {
        let worker = runner.prepared.unpark(&self.suite.1.file, self.id.slot)?;
        if worker.reloads_in_place() {
            return Some(worker);
        }
        worker.retire(false);
        None
    }

    /// `worker` given a new execution environment from the code as it now is; `None` when it
    /// could not be (it is then removed, and a container is booted).
    async fn reload(
        runner: &Runner,
        mut worker: Box<dyn Instance>,
    ) -> Option<Result<(Box<dyn Instance>, Ready), NoWorker>> {
        match runner.unless_stopped(worker.reload()).await {
            None => Some(Err(NoWorker::Stopped)),
            Some(Ok(ready)) => Some(Ok((worker, ready))),
            Some(Err(_)) => {
                worker.retire(false);
                None
            }
        }
    }

    /// Gives the function a new execution environment from its code as it now is: in the same
    /// container when it can restart its runtime in place, else by letting the container go,
    /// so that the next invocation boots one. Nothing when the slot has no container.
    pub(crate) async fn restart(&mut self, runner: &Runner, out: &Emitter) {
        let Some(worker) = self.worker.take() else {
            return;
        };
        if self.lost || !worker.reloads_in_place() {
            worker.retire(false);
            self.id.generation += 1;
            self.lost = false;
            return;
        }
        out.emit(EventKind::ContainerStarting {
            worker: self.worker_ref(),
            in_place: true,
        });
        match Self::reload(runner, worker).await {
            Some(Ok((worker, ready))) => {
                self.install(worker, ready, out);
            }
            Some(Err(_)) => {}
            None => self.id.generation += 1,
        }
    }

    /// Serves one request, as every pool does: a fresh instance first for a cold one, the
    /// instance booted when there is none or it was lost, the invocation cut when the run
    /// stops; what became of the instance is noted for the next request.
    pub(crate) async fn invoke(
        &mut self,
        runner: &Runner,
        out: &Emitter,
        request: Request<'_>,
    ) -> Result<Invocation, Unserved> {
        if request.cold {
            self.make_fresh();
        }
        let worker = self.worker(runner, out).await.map_err(Unserved::NoWorker)?;
        let invoked = runner.unless_stopped(worker.invoke(
            request.payload,
            request.context,
            request.rules,
            request.taps,
        ));
        let Some(invocation) = invoked.await else {
            // Its instance is removed with the slot's worker, or replaced.
            self.cut();
            return Err(Unserved::Cut);
        };
        self.served(invocation.outcome.container_lost());
        Ok(invocation)
    }

    /// Records that the worker served one invocation, which lost its container or not.
    pub(crate) fn served(&mut self, lost: bool) {
        self.served += 1;
        self.lost = lost;
    }

    /// Records that an invocation was cut in flight: its container may still be running it.
    pub(crate) fn cut(&mut self) {
        self.lost = true;
    }

    /// Ends the slot: its container is removed in the background, or with `keep` (and not
    /// lost) left running, or for a runner that keeps containers warm, kept for the session's
    /// next plan; that plan starts after this slot's generations.
    pub(crate) fn retire(self, runner: &Runner, keep: bool, out: &Emitter) {
        runner.prepared.used(self.id);
        let worker_ref = self.worker_ref();
        if runner.warm
            && !keep
            && !self.lost
            && let Some(w) = self.worker.as_ref()
            && w.reloads_in_place()
        {
            let w = self.worker.expect("looked at above");
            runner.prepared.park(&self.suite.1.file, self.id.slot, w);
            return;
        }
        if let Some(w) = self.worker
            && let Some(Kept {
                name,
                invoke_url,
                key,
            }) = w.retire(keep && !self.lost)
        {
            out.emit(EventKind::ContainerKept {
                worker: worker_ref,
                name,
                invoke_url,
                key,
            });
        }
    }
}
