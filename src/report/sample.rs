//! Events of a small run with every kind of result, for the reporters' snapshot tests, and
//! what every reporter writes for them.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::event::{
    CaseRef, CaseResult, Event, EventKind, PlannedSuite, Stats, SuiteRef, WorkerRef,
};
use crate::judge::{self, Verdict};
use crate::lines::{LogLine, LogStream};
use crate::outcome::{Body, Outcome, Reported};
use crate::plan::{CaseId, SuiteId, WorkerId};
use crate::report::{Reporter, console, github, json, junit};
use crate::suite::{Check, CheckKind, Expectation, Mode, Pos};

fn at(ms: u64) -> Event {
    Event {
        at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_millis(ms),
        elapsed: Duration::from_millis(ms),
        kind: EventKind::RunFinished {
            stats: Stats::default(),
        },
    }
}

fn event(ms: u64, kind: EventKind) -> Event {
    Event { kind, ..at(ms) }
}

fn line(text: &str) -> LogLine {
    LogLine {
        stream: LogStream::Stdout,
        text: text.to_string(),
        platform: false,
    }
}

pub fn events() -> Vec<Event> {
    let suite = SuiteRef {
        id: SuiteId(0),
        file: PathBuf::from("cases/hello.yaml"),
        function: "hello".into(),
        image: "public.ecr.aws/lambda/python:3.11".into(),
        handler: Some("app.handler".into()),
        architecture: crate::suite::Architecture::X86_64,
    };
    let worker = WorkerRef {
        id: WorkerId {
            suite: SuiteId(0),
            slot: 0,
            generation: 0,
        },
        suite: suite.clone(),
    };
    let case = |index: usize, name: &str, line: usize| CaseRef {
        id: CaseId {
            suite: SuiteId(0),
            index,
        },
        suite: suite.clone(),
        name: name.into(),
        line,
    };
    let pass = case(0, "greets by name", 12);
    let fail = case(1, "wrong greeting", 18);
    let error = case(2, "container died", 24);
    let expect = Expectation {
        checks: vec![
            Check {
                kind: CheckKind::Response {
                    value: serde_json::json!({"statusCode": 200, "body": "Hello, Ada"}),
                    mode: Mode::Exact,
                },
                pos: Pos {
                    line: 21,
                    column: 7,
                },
            },
            Check {
                kind: CheckKind::Status(201),
                pos: Pos {
                    line: 22,
                    column: 7,
                },
            },
        ],
        ..Expectation::default()
    };
    let outcome = Outcome::Success {
        body: Body::Json(
            serde_json::json!({"statusCode": 200, "body": "Hello, Bob", "extra": true}),
        ),
    };
    let logs = vec![
        line("START RequestId: 1 Version: $LATEST"),
        line("\u{1b}[31mgreeting Bob\u{1b}[0m ]]> \u{7}"),
        line("[ERROR] first\rsecond line"),
        line("END RequestId: 1"),
        line("REPORT RequestId: 1\tDuration: 1.00 ms"),
    ];
    let stats = Stats {
        passed: 1,
        failed: 1,
        errors: 1,
        skipped: 0,
        duration: Duration::from_millis(1234),
    };
    vec![
        event(
            0,
            EventKind::RunStarted {
                run_id: "r1".into(),
                suites: vec![PlannedSuite {
                    suite: suite.clone(),
                    cases: vec![pass.clone(), fail.clone(), error.clone()],
                }],
            },
        ),
        event(
            1,
            EventKind::ImageChecking {
                image: suite.image.clone(),
            },
        ),
        event(2, EventKind::CaseStarted { case: pass.clone() }),
        event(
            3,
            EventKind::ContainerStarting {
                worker: worker.clone(),
                in_place: false,
            },
        ),
        event(
            300,
            EventKind::ContainerReady {
                worker,
                name: "lambda-ci-r1-0-hello".into(),
                invoke_url: "http://127.0.0.1:32768/2015-03-31/functions/function/invocations"
                    .into(),
                took: Duration::from_millis(297),
            },
        ),
        event(
            400,
            EventKind::CaseFinished {
                case: pass,
                result: Box::new(CaseResult {
                    verdict: Verdict::Pass,
                    duration: Duration::from_millis(98),
                    logs: vec![],
                    outcome: None,
                    reported: Reported::default(),
                }),
            },
        ),
        event(401, EventKind::CaseStarted { case: fail.clone() }),
        event(
            405,
            EventKind::CaseFinished {
                case: fail,
                result: Box::new(CaseResult {
                    verdict: judge::judge(
                        &expect,
                        judge::Evidence {
                            outcome: &outcome,
                            logs: judge::LogsSeen::NONE,
                            duration: None,
                            stream: None,
                        },
                        judge::Snapshot::Compare {
                            stored: None,
                            file: std::path::Path::new("s.snap.yaml"),
                        },
                    )
                    .verdict,
                    duration: Duration::from_millis(4),
                    logs,
                    outcome: Some(outcome),
                    reported: Reported::default(),
                }),
            },
        ),
        event(
            406,
            EventKind::CaseStarted {
                case: error.clone(),
            },
        ),
        event(
            1200,
            EventKind::CaseFinished {
                case: error,
                result: Box::new(CaseResult {
                    verdict: Verdict::Error(crate::judge::Unjudged::new(
                        crate::judge::ErrorKind::Exited,
                        "the container exited with code 137",
                    )),
                    duration: Duration::from_millis(794),
                    logs: vec![line("START RequestId: 2 Version: $LATEST")],
                    outcome: None,
                    reported: Reported::default(),
                }),
            },
        ),
        event(1234, EventKind::RunFinished { stats }),
    ]
}

/// The same run with `hostile` added to every message, difference and log line, and with
/// `in_names` to every case name.
pub fn hostile_events(hostile: &str, in_names: bool) -> Vec<Event> {
    let mut events = events();
    let names = if in_names { hostile } else { "" };
    for event in &mut events {
        match &mut event.kind {
            EventKind::RunStarted { suites, .. } => {
                for case in suites.iter_mut().flat_map(|s| s.cases.iter_mut()) {
                    case.name.push_str(names);
                }
            }
            EventKind::CaseStarted { case } => case.name.push_str(names),
            EventKind::CaseFinished { case, result } => {
                case.name.push_str(names);
                result.logs.push(line(hostile));
                match &mut result.verdict {
                    Verdict::Error(why) => why.message.push_str(hostile),
                    Verdict::Fail(failures) => {
                        for f in failures {
                            f.message.push_str(hostile);
                            for m in &mut f.mismatches {
                                m.path.push_str(hostile);
                            }
                        }
                    }
                    Verdict::Pass | Verdict::Skipped(_) => {}
                }
            }
            _ => {}
        }
    }
    events
}

/// What every reporter writes for `events`: console, GitHub log, summary and outputs,
/// JUnit and JSON.
pub fn render_all(events: &[Event]) -> Vec<(&'static str, String)> {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);
    let mut console = console::Console::new(Vec::new(), false, console::Progress::Off);
    let files = github::GithubFiles {
        summary: Some(file("summary.md")),
        outputs: Some(file("outputs")),
        ..Default::default()
    };
    let mut github = github::Github::new(Vec::new(), files);
    let mut junit = junit::Junit::new(file("junit.xml"));
    let mut json = json::Json::new(file("report.json"), serde_json::json!({}));
    for event in events {
        console.report(event);
        github.report(event);
        junit.report(event);
        json.report(event);
    }
    let read = |name: &str| std::fs::read_to_string(file(name)).unwrap();
    vec![
        ("console", String::from_utf8(console.into_inner()).unwrap()),
        ("github", String::from_utf8(github.into_inner()).unwrap()),
        ("summary", read("summary.md")),
        ("junit", read("junit.xml")),
        ("json", read("report.json")),
    ]
}
