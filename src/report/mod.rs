//! Report: reporters turn the runner's events into output. They never decide outcomes.

pub mod console;
pub mod junit;

use crate::event::Event;

/// Something that consumes the run's events.
pub trait Reporter {
    /// Takes one event. Output problems are kept for [`Reporter::finish`], not raised here, so
    /// one broken reporter never stops the run.
    fn report(&mut self, event: &Event);

    /// Flushes whatever the reporter writes at the end.
    fn finish(&mut self) -> Result<(), ReportError> {
        Ok(())
    }
}

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the {what} report to {path}")]
pub struct ReportError {
    pub what: &'static str,
    pub path: std::path::PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Several reporters fed the same events.
#[derive(Default)]
pub struct Reporters(pub Vec<Box<dyn Reporter + Send>>);

impl Reporter for Reporters {
    fn report(&mut self, event: &Event) {
        for r in &mut self.0 {
            r.report(event);
        }
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        let mut first = Ok(());
        for r in &mut self.0 {
            let result = r.finish();
            if first.is_ok() {
                first = result;
            }
        }
        first
    }
}

/// Log text made safe to show anywhere: ANSI CSI sequences (colours, cursor moves) are
/// removed, other control characters except tab become visible `\u{..}` escapes.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            // CSI: ESC [ parameter and intermediate bytes, then one final byte in @..~.
            chars.next();
            while let Some(&n) = chars.peek() {
                chars.next();
                if ('@'..='~').contains(&n) {
                    break;
                }
            }
        } else if c.is_control() && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Log lines as a reader should see them: runtimes join a multi-line message with CR so it
/// stays one log event, so CR splits it back into lines; each is made [`visible`].
pub fn readable_lines(logs: &[crate::docker::LogLine]) -> impl Iterator<Item = String> + '_ {
    logs.iter()
        .flat_map(|line| line.text.split('\r'))
        .map(visible)
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn colours_are_dropped_and_other_controls_made_visible() {
        assert_eq!(visible("\u{1b}[31mred\u{1b}[0m ok"), "red ok");
        assert_eq!(
            visible("a\u{0}b\u{7}\u{1b}\u{7f}\tc"),
            "a\\u{0}b\\u{7}\\u{1b}\\u{7f}\tc"
        );
        assert_eq!(visible("]]> <tag> &"), "]]> <tag> &");
    }
}

/// Events of a small run with every kind of result, for the reporters' snapshot tests.
#[cfg(test)]
pub(crate) mod sample {
    use std::path::PathBuf;
    use std::time::{Duration, SystemTime};

    use crate::docker::{LogLine, LogStream};
    use crate::event::{CaseRef, CaseResult, Event, EventKind, Stats, SuiteRef};
    use crate::judge::{self, Verdict};
    use crate::suite::{Expectation, Pos};

    fn at(ms: u64) -> Event {
        Event {
            at: SystemTime::UNIX_EPOCH
                + Duration::from_secs(1_800_000_000)
                + Duration::from_millis(ms),
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
        }
    }

    pub fn events() -> Vec<Event> {
        let suite = SuiteRef {
            index: 0,
            file: PathBuf::from("cases/hello.yaml"),
            function: "hello".into(),
            image: "public.ecr.aws/lambda/python:3.11".into(),
        };
        let case = |name: &str, line: usize| CaseRef {
            suite: suite.clone(),
            name: name.into(),
            line,
        };
        let pass = case("greets by name", 12);
        let fail = case("wrong greeting", 18);
        let error = case("container died", 24);
        let expect = Expectation::Response {
            value: serde_json::json!({"statusCode": 200, "body": "Hello, Ada"}),
            pos: Pos {
                line: 21,
                column: 7,
            },
        };
        let outcome = crate::invoke::Outcome::Success {
            body: crate::invoke::Body::Json(
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
                    suites: vec![(
                        suite.clone(),
                        vec![pass.clone(), fail.clone(), error.clone()],
                    )],
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
                    suite: suite.clone(),
                },
            ),
            event(
                300,
                EventKind::ContainerReady {
                    suite: suite.clone(),
                    name: "lambda-ci-r1-0-hello".into(),
                    port: 32768,
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
                    }),
                },
            ),
            event(401, EventKind::CaseStarted { case: fail.clone() }),
            event(
                405,
                EventKind::CaseFinished {
                    case: fail,
                    result: Box::new(CaseResult {
                        verdict: judge::judge(&expect, &outcome),
                        duration: Duration::from_millis(4),
                        logs,
                        outcome: Some(outcome),
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
                        verdict: Verdict::Error("the container exited with code 137".into()),
                        duration: Duration::from_millis(794),
                        logs: vec![line("START RequestId: 2 Version: $LATEST")],
                        outcome: None,
                    }),
                },
            ),
            event(1234, EventKind::RunFinished { stats }),
        ]
    }
}
