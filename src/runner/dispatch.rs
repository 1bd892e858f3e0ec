//! The dispatcher: the one task that owns the run's statistics and cancellation, stamps and
//! redacts every event, and is the only sender to the reporters.
//!
//! Executors run suites and cases concurrently and send what happens here. Reporters get a
//! stream that reads as if suites ran one after another in the order they are declared, and
//! each suite's cases in their order: the head suite's events pass at once, the others wait
//! until every suite before them has finished. So `-j 1` and `-j 8` produce the same reports,
//! timings apart.

use std::collections::HashMap;
use std::time::{Instant, SystemTime};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::oneshot;

use crate::event::{CaseRef, CaseResult, Event, EventKind, Stats};
use crate::judge::Verdict;
use crate::plan::{CaseId, SuiteId, WorkerId};
use crate::redact::{Redact, Redactor};

/// What executors send the dispatcher.
enum Message {
    Event(EventKind),
    /// May `case` start? `None` says go; a reason says it is skipped (the dispatcher reports it).
    Start {
        case: CaseRef,
        reply: oneshot::Sender<Option<String>>,
    },
}

/// The executors' end of the dispatcher: cheap to clone, one per executor.
#[derive(Clone)]
pub(crate) struct Emitter {
    to: UnboundedSender<Message>,
}

impl Emitter {
    /// Sends something that happened; the dispatcher stamps it.
    pub(crate) fn emit(&self, kind: EventKind) {
        let _ = self.to.send(Message::Event(kind));
    }

    /// Asks whether `case` may start: `Err` holds why it is skipped instead (the run is being
    /// cancelled), and the dispatcher has reported it so.
    pub(crate) async fn may_start(&self, case: &CaseRef) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        let asked = self.to.send(Message::Start {
            case: case.clone(),
            reply,
        });
        if asked.is_err() {
            return Err("the run ended".into());
        }
        match answer.await {
            Ok(None) => Ok(()),
            Ok(Some(reason)) => Err(reason),
            Err(_) => Err("the run ended".into()),
        }
    }
}

/// An emitter for `serve`, where nothing is planned and nothing waits: every event is stamped
/// and passed on at once (what `serve` prints is redacted where it is printed).
pub(crate) fn live(events: UnboundedSender<Event>) -> Emitter {
    let (to, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    tokio::spawn(async move {
        while let Some(message) = inbox.recv().await {
            match message {
                Message::Event(kind) => {
                    let _ = events.send(Event {
                        at: SystemTime::now(),
                        elapsed: started.elapsed(),
                        kind,
                    });
                }
                Message::Start { reply, .. } => {
                    let _ = reply.send(None);
                }
            }
        }
    });
    Emitter { to }
}

/// When the dispatcher stops cases from starting.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cancellation {
    /// After this many cases failed or errored (`--fail-fast` is 1, `--max-fail N`).
    pub max_fail: Option<usize>,
}

/// The dispatcher's state.
pub(crate) struct Dispatcher {
    out: UnboundedSender<Event>,
    started: Instant,
    redactor: Redactor,
    cancellation: Cancellation,
    /// Why the run stops early (a signal), once it does.
    stop: tokio::sync::watch::Receiver<Option<String>>,
    stats: Stats,
    /// Why cases no longer start, once they do not.
    cancelled: Option<String>,
    /// Each suite's counts, and when it started.
    suites: HashMap<SuiteId, (Instant, Stats)>,
    order: Order,
    live: Live,
}

/// What runs right now, for [`EventKind::Progress`].
#[derive(Default)]
struct Live {
    total: usize,
    done: usize,
    /// What runs, in the order it began, and how it is shown.
    active: Vec<(Activity, String)>,
}

/// Something that runs: a container booting, or a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activity {
    Booting(WorkerId),
    Case(CaseId),
}

impl Live {
    /// Whether `kind` changes what runs, keeping track of it.
    fn saw(&mut self, kind: &EventKind) -> bool {
        match kind {
            EventKind::ContainerStarting { worker, .. } => self.active.push((
                Activity::Booting(worker.id),
                format!("booting {}", worker.suite.function),
            )),
            EventKind::ContainerReady { worker, .. }
            | EventKind::ContainerFailed { worker, .. } => {
                self.ended(Activity::Booting(worker.id));
            }
            EventKind::CaseStarted { case } => self.active.push((
                Activity::Case(case.id),
                format!("{} › {}", case.suite.function, case.name),
            )),
            EventKind::CaseFinished { case, .. } => {
                self.ended(Activity::Case(case.id));
                self.done += 1;
            }
            _ => return false,
        }
        true
    }

    fn ended(&mut self, what: Activity) {
        self.active.retain(|(a, _)| *a != what);
    }

    fn progress(&self) -> EventKind {
        EventKind::Progress {
            done: self.done,
            total: self.total,
            active: self.active.iter().map(|(_, what)| what.clone()).collect(),
        }
    }
}

impl Dispatcher {
    /// A dispatcher sending to `out`, with the planned suites and their cases in declaration
    /// order, and the executors' end to send it events.
    pub(crate) fn new(
        out: UnboundedSender<Event>,
        planned: &[(SuiteId, Vec<CaseId>)],
        redactor: Redactor,
        (cancellation, stop): (Cancellation, tokio::sync::watch::Receiver<Option<String>>),
    ) -> (Dispatcher, Emitter, DispatchInbox) {
        let (to, inbox) = tokio::sync::mpsc::unbounded_channel();
        let dispatcher = Dispatcher {
            out,
            started: Instant::now(),
            redactor,
            cancellation,
            stop,
            stats: Stats::default(),
            cancelled: None,
            suites: HashMap::new(),
            order: Order::new(planned),
            live: Live {
                total: planned.iter().map(|(_, cases)| cases.len()).sum(),
                ..Live::default()
            },
        };
        (dispatcher, Emitter { to }, DispatchInbox(inbox))
    }

    /// Takes messages until every executor has dropped its end, then sends `RunFinished` with
    /// the counts, and returns them.
    pub(crate) async fn run(mut self, mut inbox: DispatchInbox) -> Stats {
        while let Some(message) = inbox.0.recv().await {
            match message {
                Message::Event(kind) => self.event(kind),
                Message::Start { case, reply } => {
                    let stopped = self.stop.borrow().clone();
                    let stopped = stopped.map(|reason| super::not_run(&reason));
                    let skip = stopped.or_else(|| self.cancelled.clone());
                    self.event(EventKind::CaseStarted { case: case.clone() });
                    if let Some(reason) = &skip {
                        let result = CaseResult::not_run(Verdict::Skipped(reason.clone()), vec![]);
                        self.event(EventKind::CaseFinished {
                            case,
                            result: Box::new(result),
                        });
                    }
                    let _ = reply.send(skip);
                }
            }
        }
        for kind in self.order.drain() {
            self.send(kind);
        }
        self.stats.duration = self.started.elapsed();
        let stats = self.stats;
        self.send(EventKind::RunFinished { stats });
        stats
    }

    fn event(&mut self, mut kind: EventKind) {
        match &mut kind {
            EventKind::SuiteStarted { suite } => {
                self.suites
                    .insert(suite.id, (Instant::now(), Stats::default()));
            }
            EventKind::CaseFinished { case, result } => {
                if let Some((_, stats)) = self.suites.get_mut(&case.suite.id) {
                    stats.record(&result.verdict);
                }
            }
            EventKind::SuiteFinished { suite, stats } => {
                if let Some((started, counted)) = self.suites.get(&suite.id) {
                    *stats = Stats {
                        duration: started.elapsed(),
                        ..*counted
                    };
                }
            }
            _ => {}
        }
        if let EventKind::CaseFinished { result, .. } = &kind {
            self.stats.record(&result.verdict);
            let bad = self.stats.failed + self.stats.errors;
            if self.cancelled.is_none()
                && let Some(max) = self.cancellation.max_fail
                && bad >= max
            {
                self.cancelled = Some(if max == 1 {
                    "--fail-fast: an earlier case did not pass".into()
                } else {
                    format!("--max-fail {max}: {bad} cases did not pass")
                });
            }
        }
        if !self.redactor.is_empty() {
            kind.redact(&self.redactor);
        }
        if self.live.saw(&kind) {
            self.send(self.live.progress());
        }
        for ready in self.order.take(kind) {
            self.send(ready);
        }
    }

    fn send(&self, kind: EventKind) {
        let _ = self.out.send(Event {
            at: SystemTime::now(),
            elapsed: self.started.elapsed(),
            kind,
        });
    }
}

/// The dispatcher's inbox, handed to [`Dispatcher::run`].
pub(crate) struct DispatchInbox(UnboundedReceiver<Message>);

/// Puts events into declaration order: suites one after another, cases in order in each.
struct Order {
    suites: Vec<Held>,
    /// Where each suite is in `suites`.
    position: HashMap<SuiteId, usize>,
    /// The first suite not yet finished: its events pass at once.
    head: usize,
}

/// One suite's events that wait for their turn.
#[derive(Default)]
struct Held {
    /// Its planned cases in order, and how many of them have been let through.
    cases: Vec<CaseId>,
    next: usize,
    /// Case events that came before an earlier case's: by case index, in arrival order.
    early: HashMap<usize, Vec<EventKind>>,
    /// Events in order, waiting for the suite to become the head.
    waiting: Vec<EventKind>,
    /// The suite's `SuiteFinished`, held until its cases are through.
    finished: Option<EventKind>,
    done: bool,
}

impl Order {
    fn new(planned: &[(SuiteId, Vec<CaseId>)]) -> Order {
        Order {
            suites: planned
                .iter()
                .map(|(_, cases)| Held {
                    cases: cases.clone(),
                    ..Held::default()
                })
                .collect(),
            position: planned
                .iter()
                .enumerate()
                .map(|(i, (id, _))| (*id, i))
                .collect(),
            head: 0,
        }
    }

    /// The events that may go to the reporters now that `kind` happened.
    fn take(&mut self, kind: EventKind) -> Vec<EventKind> {
        let Some(&at) = suite_of(&kind).and_then(|id| self.position.get(&id)) else {
            return vec![kind];
        };
        let held = &mut self.suites[at];
        match case_of(&kind) {
            // A late event of a case already let through (its snapshot) follows it at once.
            Some(case) if held.next > 0 && case.index <= held.cases[held.next - 1].index => {
                held.waiting.push(kind)
            }
            Some(case) => {
                let index = case.index;
                held.early.entry(index).or_default().push(kind);
                // Cases let through in order: the next one as soon as it has finished.
                while let Some(&next) = held.cases.get(held.next) {
                    let finished = held.early.get(&next.index).is_some_and(|events| {
                        events
                            .iter()
                            .any(|e| matches!(e, EventKind::CaseFinished { .. }))
                    });
                    // The head's next case also shows as started, for a live view.
                    let events = if finished {
                        held.next += 1;
                        held.early.remove(&next.index).unwrap_or_default()
                    } else if at == self.head && next.index == index {
                        std::mem::take(held.early.get_mut(&next.index).expect("just pushed"))
                    } else {
                        break;
                    };
                    held.waiting.extend(events);
                    if !finished {
                        break;
                    }
                }
            }
            None if matches!(kind, EventKind::SuiteFinished { .. }) => held.finished = Some(kind),
            None => held.waiting.push(kind),
        }
        if held.next == held.cases.len()
            && let Some(finished) = held.finished.take()
        {
            held.waiting.extend(leftovers(&mut held.early));
            held.waiting.push(finished);
            held.done = true;
        }
        self.release()
    }

    /// The head suite's events, and those of the suites after it while each is done.
    fn release(&mut self) -> Vec<EventKind> {
        let mut out = Vec::new();
        while let Some(held) = self.suites.get_mut(self.head) {
            out.append(&mut held.waiting);
            if !held.done {
                break;
            }
            self.head += 1;
        }
        out
    }

    /// Everything still held, in order: the run is over.
    fn drain(&mut self) -> Vec<EventKind> {
        let mut out = Vec::new();
        for held in &mut self.suites {
            out.append(&mut held.waiting);
            out.extend(leftovers(&mut held.early));
            out.extend(held.finished.take());
        }
        self.head = self.suites.len();
        out
    }
}

/// Case events never let through in order (a case that never finished), by case.
fn leftovers(early: &mut HashMap<usize, Vec<EventKind>>) -> Vec<EventKind> {
    let mut early: Vec<_> = early.drain().collect();
    early.sort_by_key(|(index, _)| *index);
    early.into_iter().flat_map(|(_, e)| e).collect()
}

/// The suite an event belongs to, if any.
fn suite_of(kind: &EventKind) -> Option<SuiteId> {
    Some(match kind {
        EventKind::SuiteStarted { suite }
        | EventKind::SuiteFinished { suite, .. }
        | EventKind::Warning { suite, .. } => suite.id,
        EventKind::CaseStarted { case }
        | EventKind::CaseFinished { case, .. }
        | EventKind::SnapshotRecorded { case, .. } => case.suite.id,
        EventKind::ContainerStarting { worker, .. }
        | EventKind::ContainerReady { worker, .. }
        | EventKind::ContainerFailed { worker, .. }
        | EventKind::ContainerKept { worker, .. } => worker.suite.id,
        _ => return None,
    })
}

/// The case an event is about, if any.
fn case_of(kind: &EventKind) -> Option<CaseId> {
    match kind {
        EventKind::CaseStarted { case }
        | EventKind::CaseFinished { case, .. }
        | EventKind::SnapshotRecorded { case, .. } => Some(case.id),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
