use super::*;
use crate::event::{SuiteRef, WorkerRef};
use crate::plan::WorkerId;

fn suite(i: usize) -> SuiteRef {
    SuiteRef {
        id: SuiteId(i),
        file: format!("cases/s{i}.yaml").into(),
        function: format!("f{i}"),
        image: "img".into(),
        handler: None,
        architecture: Default::default(),
    }
}

fn case(s: usize, index: usize) -> CaseRef {
    CaseRef {
        id: CaseId {
            suite: SuiteId(s),
            index,
        },
        suite: suite(s),
        name: format!("case {index}"),
        line: index + 1,
    }
}

fn started(s: usize, i: usize) -> EventKind {
    EventKind::CaseStarted { case: case(s, i) }
}

fn finished(s: usize, i: usize, verdict: Verdict) -> EventKind {
    EventKind::CaseFinished {
        case: case(s, i),
        result: Box::new(CaseResult::not_run(verdict, vec![])),
    }
}

fn pass(s: usize, i: usize) -> EventKind {
    finished(s, i, Verdict::Pass)
}

fn suite_done(s: usize) -> EventKind {
    EventKind::SuiteFinished {
        suite: suite(s),
        stats: Stats::default(),
    }
}

/// A compact name of each event: `S1` suite started, `s1.2` case 2 of suite 1 started,
/// `f1.2` finished, `F1` suite finished, `W1` a container event of suite 1.
fn names(events: &[EventKind]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            EventKind::SuiteStarted { suite } => format!("S{}", suite.id.0),
            EventKind::SuiteFinished { suite, .. } => format!("F{}", suite.id.0),
            EventKind::CaseStarted { case } => format!("s{}.{}", case.id.suite.0, case.id.index),
            EventKind::CaseFinished { case, .. } => {
                format!("f{}.{}", case.id.suite.0, case.id.index)
            }
            EventKind::ContainerStarting { worker, .. } => format!("W{}", worker.suite.id.0),
            EventKind::RunFinished { .. } => "end".into(),
            _ => "?".into(),
        })
        .collect()
}

fn plan(cases: &[usize]) -> Vec<(SuiteId, Vec<CaseId>)> {
    cases
        .iter()
        .enumerate()
        .map(|(s, n)| {
            let ids = (0..*n)
                .map(|index| CaseId {
                    suite: SuiteId(s),
                    index,
                })
                .collect();
            (SuiteId(s), ids)
        })
        .collect()
}

fn feed(order: &mut Order, events: Vec<EventKind>) -> Vec<String> {
    let out: Vec<EventKind> = events.into_iter().flat_map(|e| order.take(e)).collect();
    names(&out)
}

#[test]
fn a_later_suite_waits_until_every_earlier_one_has_finished() {
    let mut order = Order::new(&plan(&[1, 1]));
    let worker = |s| EventKind::ContainerStarting {
        worker: WorkerRef {
            id: WorkerId {
                suite: SuiteId(s),
                slot: 0,
                generation: 0,
            },
            suite: suite(s),
        },
        in_place: false,
    };
    let events = vec![
        EventKind::SuiteStarted { suite: suite(1) },
        worker(1),
        started(1, 0),
        EventKind::SuiteStarted { suite: suite(0) },
        pass(1, 0),
        suite_done(1),
        worker(0),
        started(0, 0),
    ];
    // Suite 0 is the head: its events pass at once, suite 1's all wait.
    assert_eq!(feed(&mut order, events), ["S0", "W0", "s0.0"]);
    assert_eq!(
        feed(&mut order, vec![pass(0, 0), suite_done(0)]),
        ["f0.0", "F0", "S1", "W1", "s1.0", "f1.0", "F1"]
    );
}

#[test]
fn cases_of_a_pool_are_reported_in_their_order() {
    let mut order = Order::new(&plan(&[3]));
    let events = vec![
        EventKind::SuiteStarted { suite: suite(0) },
        started(0, 0),
        started(0, 1),
        started(0, 2),
        pass(0, 2),
        pass(0, 1),
    ];
    assert_eq!(feed(&mut order, events), ["S0", "s0.0"]);
    assert_eq!(
        feed(&mut order, vec![pass(0, 0), suite_done(0)]),
        ["f0.0", "s0.1", "f0.1", "s0.2", "f0.2", "F0"]
    );
}

#[test]
fn run_level_events_pass_at_once_and_the_end_lets_everything_out() {
    let mut order = Order::new(&plan(&[1, 1]));
    let run = EventKind::ImageChecking {
        image: "img".into(),
    };
    assert_eq!(
        feed(&mut order, vec![started(1, 0), run, pass(1, 0)]),
        ["?"]
    );
    assert_eq!(names(&order.drain()), ["s1.0", "f1.0"]);
}

#[tokio::test]
async fn fail_fast_skips_what_starts_after_the_first_failure_and_counts_it() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (dispatcher, emitter, inbox) = Dispatcher::new(
        tx,
        &plan(&[3]),
        Redactor::default(),
        (
            Cancellation { max_fail: Some(1) },
            tokio::sync::watch::channel(None).1,
        ),
    );
    let running = tokio::spawn(dispatcher.run(inbox));
    emitter.emit(EventKind::SuiteStarted { suite: suite(0) });
    assert_eq!(emitter.may_start(&case(0, 0)).await, Ok(()));
    emitter.emit(finished(
        0,
        0,
        Verdict::Error(crate::judge::Unjudged::new(
            crate::judge::ErrorKind::Boot,
            "boom",
        )),
    ));
    let skipped = emitter.may_start(&case(0, 1)).await;
    assert_eq!(
        skipped,
        Err("--fail-fast: an earlier case did not pass".to_string())
    );
    assert!(emitter.may_start(&case(0, 2)).await.is_err());
    emitter.emit(suite_done(0));
    drop(emitter);
    let stats = running.await.unwrap();
    assert_eq!((stats.errors, stats.skipped), (1, 2));
    let mut events = Vec::new();
    let mut progress = Vec::new();
    while let Some(e) = rx.recv().await {
        match e.kind {
            EventKind::Progress { done, active, .. } => progress.push((done, active.len())),
            kind => events.push(kind),
        }
    }
    // Live progress: each case running, then done.
    assert_eq!(progress, [(0, 1), (1, 0), (1, 1), (2, 0), (2, 1), (3, 0)]);
    assert_eq!(
        names(&events),
        [
            "S0", "s0.0", "f0.0", "s0.1", "f0.1", "s0.2", "f0.2", "F0", "end"
        ]
    );
    let EventKind::SuiteFinished { stats, .. } = &events[7] else {
        panic!("{:?}", events[7]);
    };
    assert_eq!((stats.errors, stats.skipped, stats.passed), (1, 2, 0));
}
