//! One served function: a FIFO queue of calls in front of its pool of up to `concurrency:`
//! containers, each a [`Slot`] of the runner that takes one call at a time. A container boots
//! only when a call waits, none is idle and fewer than `concurrency` exist (or all at start with
//! `--warm`); containers stay warm, and `isolation: cold` gives each call a fresh one. A reload
//! in place restarts the runtime of every container, each once it has finished its call.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, oneshot};

use crate::backend::{Instance, Invocation, Taps};
use crate::lines::Matcher;
use crate::plan::SuiteId;
use crate::runner::{Emitter, NoWorker, Request, Runner, Slot, Unserved};
use crate::suite::{InvokeContext, Isolation, Suite};

/// The most the payloads waiting on one function may hold together: calls are bounded by
/// count and by bytes (a thousand 6 MB payloads would be 6 GB).
const QUEUE_BYTES: usize = 128 * 1024 * 1024;

/// One invocation waiting for a container.
pub struct Call {
    pub payload: Vec<u8>,
    pub context: InvokeContext,
    /// Where its log lines go as they are written.
    pub tap: Option<Matcher>,
    /// Where the pieces of a streamed response go as they arrive.
    pub pieces: Option<crate::backend::Pieces>,
    /// What it came to: the invocation, or why no container could take it.
    pub reply: oneshot::Sender<Result<Invocation, String>>,
}

/// Where a call's streamed pieces go and where they are read, when `streaming`.
pub fn pieces(
    streaming: bool,
) -> (
    Option<crate::backend::Pieces>,
    Option<tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>>,
) {
    match streaming {
        true => {
            let (pieces, streamed) = tokio::sync::mpsc::unbounded_channel();
            (Some(pieces), Some(streamed))
        }
        false => (None, None),
    }
}

/// A function being served.
pub struct Function {
    pub name: String,
    runner: Arc<Runner>,
    suite: SuiteId,
    queue: Mutex<VecDeque<Call>>,
    /// Wakes an idle slot when a call comes.
    waiting: Notify,
    idle: AtomicUsize,
    started: AtomicUsize,
    /// Replaced by a new version: its slots finish the calls queued, then retire.
    draining: AtomicBool,
    /// Slots that have ended, and a wake-up each time one does.
    ended: Arc<AtomicUsize>,
    slot_ended: Arc<Notify>,
    /// How many calls may wait; more are refused (429).
    limit: usize,
    out: Emitter,
    slots: Mutex<tokio::task::JoinSet<()>>,
    /// How many reloads in place were asked for; each slot restarts its runtime once per.
    epoch: AtomicU64,
    /// For each slot that runs, the last reload it has made; `None` for a slot not running.
    epochs: tokio::sync::watch::Sender<Vec<Option<u64>>>,
}

/// What a slot does next.
enum Next {
    Call(Call),
    /// Restart the runtime: the code changed (the reload's number).
    Reload(u64),
}

/// Whether a call of `len` bytes may wait behind `queue`, of at most `limit` calls and
/// [`QUEUE_BYTES`] of payloads.
fn has_room(queue: &VecDeque<Call>, limit: usize, len: usize) -> bool {
    let waiting: usize = queue.iter().map(|c| c.payload.len()).sum();
    queue.len() < limit && waiting + len <= QUEUE_BYTES
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Function {
    /// `suite`'s function on `runner`; at most `limit` calls wait.
    pub fn new(runner: Arc<Runner>, suite: SuiteId, limit: usize, out: Emitter) -> Arc<Function> {
        Arc::new(Function {
            name: runner.suites[suite.0].function.name.clone(),
            runner,
            suite,
            queue: Mutex::new(VecDeque::new()),
            waiting: Notify::new(),
            idle: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            ended: Arc::default(),
            slot_ended: Arc::default(),
            limit,
            out,
            slots: Mutex::new(tokio::task::JoinSet::new()),
            epoch: AtomicU64::new(0),
            epochs: tokio::sync::watch::Sender::new(Vec::new()),
        })
    }

    /// Whether a change of code can be served by restarting the runtime in this version's
    /// containers rather than by a new version.
    pub fn reloads_in_place(&self) -> bool {
        self.runner.reloads_in_place(self.suite)
    }

    /// Restarts the runtime in every container, each once the call it is serving (if any)
    /// is over; calls that come meanwhile wait and are answered by the new code. Returns when
    /// every container has.
    pub async fn reload_in_place(&self) {
        let target = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        self.waiting.notify_waiters();
        let mut epochs = self.epochs.subscribe();
        let _ = epochs
            .wait_for(|slots| slots.iter().flatten().all(|e| *e >= target))
            .await;
    }

    /// Records the reload slot `n` has made, or with `None` that it no longer runs.
    fn at_epoch(&self, n: usize, epoch: Option<u64>) {
        self.epochs.send_modify(|slots| {
            if slots.len() <= n {
                slots.resize(n + 1, None);
            }
            slots[n] = epoch;
        });
    }

    /// The suite that declares the function, as it was when this version was made.
    pub fn suite(&self) -> &Suite {
        &self.runner.suites[self.suite.0]
    }

    /// The function's timeout.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.suite().function.timeout.into())
    }

    /// How many containers may serve at once.
    fn concurrency(&self) -> usize {
        self.suite().concurrency.max(1)
    }

    /// Queues `call`; hands it back when the queue is full, by count or by bytes.
    pub fn call(self: &Arc<Self>, call: Call) -> Result<(), Call> {
        {
            let mut queue = lock(&self.queue);
            if !has_room(&queue, self.limit, call.payload.len()) {
                return Err(call);
            }
            queue.push_back(call);
        }
        if self.idle.load(Ordering::SeqCst) == 0 {
            self.add_slot(None);
        }
        self.waiting.notify_one();
        Ok(())
    }

    /// Boots every container of the pool now (`--warm`), rather than on the first calls.
    pub fn warm(self: &Arc<Self>) {
        for _ in 0..self.concurrency() {
            self.add_slot(Some(oneshot::channel().0));
        }
    }

    /// Boots one container and waits until it answers; or why it cannot.
    pub async fn boot_one(self: &Arc<Self>) -> Result<(), String> {
        let (booted, answer) = oneshot::channel();
        self.add_slot(Some(booted));
        answer.await.unwrap_or(Err("the server is stopping".into()))
    }

    /// Takes no more calls: the slots finish those queued, then retire, and their containers
    /// are removed.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.waiting.notify_waiters();
    }

    /// Returns once the function drains and every slot it started has ended.
    pub async fn drained(&self) {
        loop {
            let notified = self.slot_ended.notified();
            let started = self.started.load(Ordering::SeqCst).min(self.concurrency());
            if self.draining.load(Ordering::SeqCst) && self.ended.load(Ordering::SeqCst) >= started
            {
                return;
            }
            notified.await;
        }
    }

    /// Starts one more slot, if fewer than `concurrency` run; with `booted`, its container
    /// boots at once and `booted` hears how that went.
    fn add_slot(self: &Arc<Self>, booted: Option<oneshot::Sender<Result<(), String>>>) {
        let n = self.started.fetch_add(1, Ordering::SeqCst);
        if n >= self.concurrency() {
            self.started.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let me = self.clone();
        let (ended, wake) = (self.ended.clone(), self.slot_ended.clone());
        lock(&self.slots).spawn(async move {
            // Counted once the slot has let go of the function, so that a drained version
            // is dropped as soon as [`Function::drained`] returns.
            me.serve(n, booted).await;
            ended.fetch_add(1, Ordering::SeqCst);
            wake.notify_waiters();
        });
    }

    /// Stops every slot: calls in flight are cut, containers are dropped (and so removed in
    /// the background; the runner's sweep waits for them).
    pub async fn stop(&self) {
        let mut slots = std::mem::take(&mut *lock(&self.slots));
        slots.abort_all();
        while slots.join_next().await.is_some() {}
    }

    /// The next call, or a reload when one was asked for after `seen`; none once the function
    /// drains and its queue is empty.
    async fn next(&self, seen: u64) -> Option<Next> {
        loop {
            let notified = self.waiting.notified();
            let epoch = self.epoch.load(Ordering::SeqCst);
            if epoch > seen {
                return Some(Next::Reload(epoch));
            }
            if let Some(call) = lock(&self.queue).pop_front() {
                return Some(Next::Call(call));
            }
            if self.draining.load(Ordering::SeqCst) {
                return None;
            }
            self.idle.fetch_add(1, Ordering::SeqCst);
            notified.await;
            self.idle.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// The slot's instance, booted first when it needs one; or why there is none (`None`: the
    /// server is stopping).
    async fn ready<'s>(
        &self,
        runner: &Runner,
        slot: &'s mut Slot<'_>,
    ) -> Result<&'s mut Box<dyn Instance>, Option<String>> {
        // Made ready once in the session, by the first to ask.
        runner.ready(self.suite, &self.out).await.map_err(Some)?;
        match slot.worker(runner, &self.out).await {
            Ok(worker) => Ok(worker),
            Err(NoWorker::Failed { message, .. }) => Err(Some(message)),
            Err(NoWorker::Stopped) => Err(None),
        }
    }

    /// One slot: takes calls from the queue, one at a time, until the function drains; with
    /// `booted`, its container boots before the first call and `booted` hears how it went.
    async fn serve(self: Arc<Self>, n: usize, booted: Option<oneshot::Sender<Result<(), String>>>) {
        let runner = self.runner.clone();
        let suite = self.suite();
        let mut slot = Slot::new(&runner, (self.suite, suite), n);
        // A slot started now boots from the code as it is: it is up to date.
        let mut seen = self.epoch.load(Ordering::SeqCst);
        self.at_epoch(n, Some(seen));
        let _running = Running(&self, n);
        if let Some(booted) = booted {
            match self.ready(&runner, &mut slot).await {
                Ok(_) => drop(booted.send(Ok(()))),
                Err(None) => return,
                Err(Some(why)) => drop(booted.send(Err(why))),
            }
        }
        while let Some(next) = self.next(seen).await {
            let call = match next {
                Next::Call(call) => call,
                Next::Reload(epoch) => {
                    slot.restart(&runner, &self.out).await;
                    seen = epoch;
                    self.at_epoch(n, Some(seen));
                    continue;
                }
            };
            if let Err(why) = runner.ready(self.suite, &self.out).await {
                let _ = call.reply.send(Err(why));
                continue;
            }
            let request = Request {
                payload: &call.payload,
                context: &call.context,
                rules: &[],
                taps: Taps {
                    lines: call.tap,
                    pieces: call.pieces,
                },
                cold: suite.isolation == Isolation::Cold,
            };
            let answered = match slot.invoke(&runner, &self.out, request).await {
                Ok(invocation) => Ok(invocation),
                Err(Unserved::NoWorker(NoWorker::Failed { message, .. })) => Err(message),
                Err(Unserved::NoWorker(NoWorker::Stopped) | Unserved::Cut) => return,
            };
            let _ = call.reply.send(answered);
        }
        slot.retire(&runner, false, &self.out);
    }
}

/// A running slot of a function: said not to run once it ends, however it ends (an aborted
/// slot included), so that no reload waits for it.
struct Running<'a>(&'a Function, usize);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.at_epoch(self.1, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(len: usize) -> Call {
        Call {
            payload: vec![b'x'; len],
            context: InvokeContext::default(),
            tap: None,
            pieces: None,
            reply: oneshot::channel().0,
        }
    }

    // Regression: the queue bounded calls, not bytes: 1,000 waiting 6 MiB payloads per function.
    #[test]
    fn the_queue_is_bounded_by_bytes_as_well_as_by_calls() {
        let six = 6 * 1024 * 1024;
        let mut queue = VecDeque::new();
        while has_room(&queue, 1000, six) {
            queue.push_back(call(six));
        }
        assert_eq!(queue.len(), QUEUE_BYTES / six);
        assert!(has_room(&queue, 1000, QUEUE_BYTES % six));
        let small: VecDeque<Call> = (0..3).map(|_| call(10)).collect();
        assert!(!has_room(&small, 3, 10), "the count still bounds it");
        assert!(has_room(&small, 4, 10));
    }
}
