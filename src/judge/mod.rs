//! Judge: an invocation against the case's checks, each judged on its own. Pure: no I/O.
//!
//! Values are normalised first (bodies decoded, ignored paths removed, keys sorted), then
//! compared, and every difference is kept as data for the reporters to render.

pub mod assert;
mod bytes;
pub mod compare;
pub mod diff;
pub mod edge;
mod error;
pub mod front;
pub mod response;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_body;
#[cfg(test)]
mod tests_snapshot;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

pub use compare::{Mismatch, MismatchKind, Mode};
pub use diff::Diff;

use crate::outcome::Outcome;
use crate::suite::check::{Check, CheckKind, LogRule, Query};
use crate::suite::{Expectation, Pos};

/// The verdict on one case.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// The function did something other than expected: every check that does not hold.
    Fail(Vec<Failure>),
    /// The case could not be judged: what failed beneath the function, and why.
    Error(Unjudged),
    /// The case did not run, and why (`--fail-fast` after an earlier case did not pass).
    Skipped(String),
}

/// Why a case could not be judged: which part failed, and the message to show.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Unjudged {
    pub kind: ErrorKind,
    pub message: String,
}

impl Unjudged {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Unjudged {
        Unjudged {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Unjudged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Which part beneath the function failed, so that a report can tell an image that is not
/// there from a container that died.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The function's image could not be had: checked, pulled or built.
    Image,
    /// No instance of the function could be booted (or the run stopped while one booted).
    Boot,
    /// The connection to the instance failed, or its answer was not the Runtime API's.
    Transport,
    /// The container itself ended: exited, or killed for its memory limit.
    Exited,
    /// What the case saw could not be recorded as its snapshot.
    Snapshot,
}

impl ErrorKind {
    /// Its name in reports: `image`, `boot`, `transport`, `exited`, `snapshot`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Image => "image",
            ErrorKind::Boot => "boot",
            ErrorKind::Transport => "transport",
            ErrorKind::Exited => "exited",
            ErrorKind::Snapshot => "snapshot",
        }
    }
}

/// One check that does not hold, with what is needed to show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Failure {
    /// The key that declares the check: `status`, `assert`, `logs`, `snapshot`...
    pub check: &'static str,
    /// One line: what was expected and what happened.
    pub message: String,
    /// Each difference with its path, when both sides are JSON.
    pub mismatches: Vec<Mismatch>,
    /// Expected vs actual, as a line diff.
    pub diff: Option<Diff>,
    /// Where the check is written.
    pub pos: Option<Pos>,
    /// The whole actual value when the diff was cut, for the runner to write to a file.
    #[serde(skip)]
    pub actual: Option<String>,
    /// The file holding the whole actual value, once written.
    pub attachment: Option<PathBuf>,
}

impl Failure {
    pub fn new(check: &'static str, message: String, pos: Option<Pos>) -> Failure {
        Failure {
            check,
            message,
            mismatches: Vec::new(),
            diff: None,
            pos,
            actual: None,
            attachment: None,
        }
    }
}

/// What the invocation left to judge.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub outcome: &'a Outcome,
    /// What the invocation's log lines showed the case's `logs:` entries.
    pub logs: LogsSeen<'a>,
    /// The handler's time, from the REPORT line.
    pub duration: Option<Duration>,
    /// How a streamed response arrived.
    pub stream: Option<&'a crate::outcome::Streamed>,
}

/// What the case's `logs:` entries found in every log line of the invocation, as the lines
/// were written: the log reader sees them all, while only the first and last are kept.
#[derive(Debug, Clone, Copy)]
pub struct LogsSeen<'a> {
    /// How many lines the invocation wrote.
    pub lines: u64,
    /// For each entry of [`Expectation::log_rules`], in order, the first line it found.
    pub found: &'a [Option<String>],
}

impl LogsSeen<'static> {
    /// No lines: the invocation wrote none, or the case has no `logs:` entries.
    pub const NONE: LogsSeen<'static> = LogsSeen {
        lines: 0,
        found: &[],
    };
}

/// How a `snapshot` check treats the stored snapshot.
#[derive(Debug, Clone, Copy)]
pub enum Snapshot<'a> {
    /// Compare with the one stored in `file`, if any.
    Compare {
        stored: Option<&'a Value>,
        file: &'a std::path::Path,
    },
    /// `--update-snapshots`: the check holds, and the value seen is to be stored.
    Record,
}

/// A verdict, and the value a `snapshot` check saw (for `--update-snapshots`).
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    pub snapshot: Option<Value>,
}

/// One line for a failed case: its one failure, or how many checks failed and the first.
pub fn headline(failures: &[Failure]) -> String {
    match failures {
        [] => String::new(),
        [one] => one.message.clone(),
        [first, ..] => format!("{} checks failed; first: {}", failures.len(), first.message),
    }
}

/// Canonical text of a JSON value: keys sorted, pretty-printed.
pub fn canonical(v: &Value) -> String {
    // serde_json's map is ordered by key unless `preserve_order` is on, so this sorts keys.
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Judges the invocation against every check of `expect`.
pub fn judge(expect: &Expectation, evidence: Evidence<'_>, snapshot: Snapshot<'_>) -> Judgement {
    let outcome = evidence.outcome;
    if let Some(problem) = error::infrastructure(outcome) {
        return Judgement {
            verdict: Verdict::Error(problem),
            snapshot: None,
        };
    }
    if !expect.expects_error()
        && let Some(failure) = error::unexpected_failure(outcome, expect.pos)
    {
        return Judgement {
            verdict: Verdict::Fail(vec![failure]),
            snapshot: None,
        };
    }
    // The response: what the handler returned, or the error document when it raised.
    let response = outcome.response();
    let seen = response.as_ref().map(|r| Seen::new(r, &expect.ignore));
    let seen = seen.as_ref();
    let mut failures = Vec::new();
    let mut recorded = None;
    let mut found = evidence.logs.found.iter();
    for check in &expect.checks {
        let failure = match (&check.kind, &seen) {
            (
                CheckKind::Error {
                    error_type,
                    message,
                },
                _,
            ) => error::expected_failure(outcome, error_type.as_ref(), message.as_ref(), check.pos),
            (CheckKind::Log(rule), _) => log(
                rule,
                evidence.logs.lines,
                found.next().and_then(Option::as_deref),
                check,
            ),
            (CheckKind::MaxDuration { millis }, _) => {
                max_duration(*millis, evidence.duration, check)
            }
            (
                CheckKind::Stream {
                    min_chunks,
                    first_chunk_within_ms,
                },
                _,
            ) => streamed(*min_chunks, *first_chunk_within_ms, evidence.stream, check),
            (CheckKind::Snapshot, Some(seen)) => {
                recorded = Some(seen.compared.clone());
                match snapshot {
                    Snapshot::Record => None,
                    Snapshot::Compare { stored: None, file } => Some(Failure::new(
                        "snapshot",
                        format!(
                            "no snapshot of this case in {}; record it with `lambda-ci run --update-snapshots`, review it, and commit the file",
                            file.display()
                        ),
                        Some(check.pos),
                    )),
                    Snapshot::Compare {
                        stored: Some(stored),
                        ..
                    } => {
                        let mut stored = stored.clone();
                        response::strip(&mut stored, &expect.ignore, true);
                        differ(
                            "snapshot",
                            "the response differs from its snapshot",
                            &stored,
                            &seen.compared,
                            Mode::Exact,
                            check,
                        )
                    }
                }
            }
            (CheckKind::Bytes(rule), _) => bytes::check(rule, outcome, check),
            (kind, Some(seen)) => seen.check(kind, check, &expect.ignore),
            (_, None) => {
                let binary = matches!(
                    outcome,
                    Outcome::Success {
                        body: crate::outcome::Body::Binary(_)
                    }
                );
                let what = error::what_happened(outcome);
                let message = if binary {
                    format!("{what}; check bytes with `response_bytes`")
                } else {
                    format!("there is no response to check: {what}")
                };
                Some(Failure::new(name(&check.kind), message, Some(check.pos)))
            }
        };
        failures.extend(failure);
    }
    Judgement {
        verdict: if failures.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail(failures)
        },
        snapshot: recorded,
    }
}

/// The key a check is written with.
fn name(kind: &CheckKind) -> &'static str {
    match kind {
        CheckKind::Response {
            mode: Mode::Exact, ..
        } => "response",
        CheckKind::Response { .. } => "response_contains",
        CheckKind::Error { .. } => "error",
        CheckKind::Status(_) => "status",
        CheckKind::Header { .. } => "headers",
        CheckKind::Body {
            mode: Mode::Exact, ..
        } => "body",
        CheckKind::Body { .. } => "body_contains",
        CheckKind::Assert(_) => "assert",
        CheckKind::Log(_) => "logs",
        CheckKind::MaxDuration { .. } => "max_duration_ms",
        CheckKind::Stream { .. } => "stream",
        CheckKind::Snapshot => "snapshot",
        CheckKind::Bytes(_) => "response_bytes",
    }
}

/// The response as the checks read it: as it came, with its `body` decoded, and decoded with
/// the `ignore` paths removed for comparing whole values.
struct Seen {
    raw: Value,
    view: Value,
    compared: Value,
}

impl Seen {
    fn new(response: &Value, ignore: &[Query]) -> Seen {
        let view = response::view(response);
        let mut compared = view.clone();
        response::strip(&mut compared, ignore, true);
        Seen {
            raw: response.clone(),
            view,
            compared,
        }
    }

    fn check(&self, kind: &CheckKind, check: &Check, ignore: &[Query]) -> Option<Failure> {
        let at = Some(check.pos);
        let failed = |message: String| Some(Failure::new(name(kind), message, at));
        match kind {
            CheckKind::Response { value, mode } => {
                let mut expected = response::view(value);
                response::strip(&mut expected, ignore, true);
                differ(
                    name(kind),
                    "the response does not match",
                    &expected,
                    &self.compared,
                    *mode,
                    check,
                )
            }
            CheckKind::Status(code) => response::status(&self.raw, *code).err().and_then(failed),
            CheckKind::Header {
                name: header,
                value,
            } => response::header(&self.raw, header, value)
                .err()
                .and_then(failed),
            CheckKind::Body { value, mode } => self.body(value, *mode, check, ignore),
            CheckKind::Assert(a) => {
                let root = if a.query.enters_body() {
                    &self.view
                } else {
                    &self.raw
                };
                assert::check(a, root).err().and_then(failed)
            }
            CheckKind::Error { .. }
            | CheckKind::Log(_)
            | CheckKind::MaxDuration { .. }
            | CheckKind::Stream { .. }
            | CheckKind::Bytes(_)
            | CheckKind::Snapshot => None,
        }
    }

    /// `body` / `body_contains`. A string is compared with the body's text first (equal, or
    /// contained); it is compared as JSON only when both it and the body hold a JSON object
    /// or array.
    fn body(&self, value: &Value, mode: Mode, check: &Check, ignore: &[Query]) -> Option<Failure> {
        let name = name(&check.kind);
        let Some(actual) = self.compared.get("body") else {
            return Some(Failure::new(
                name,
                "the response has no `body`".into(),
                Some(check.pos),
            ));
        };
        let structured = |v: &Value| v.is_object() || v.is_array();
        let expected = match value {
            Value::String(e) => {
                let text = response::body_text(&self.raw);
                let holds = text.as_deref().is_some_and(|t| match mode {
                    Mode::Exact => t == e,
                    Mode::Subset => t.contains(e.as_str()),
                });
                if holds {
                    return None;
                }
                match crate::json::parse(e.as_bytes()) {
                    Ok(json) if structured(&json) && structured(actual) => json,
                    _ => {
                        let text = text.unwrap_or_else(|| actual.to_string());
                        return match mode {
                            Mode::Subset => Some(Failure::new(
                                name,
                                format!(
                                    "expected a body containing {e:?}, got {:?}",
                                    shorten(&text, QUOTED)
                                ),
                                Some(check.pos),
                            )),
                            Mode::Exact => differ(
                                name,
                                "the body does not match",
                                value,
                                &Value::String(text),
                                mode,
                                check,
                            ),
                        };
                    }
                }
            }
            other => other.clone(),
        };
        let mut wrapped = json!({ "body": expected });
        response::strip(&mut wrapped, ignore, true);
        let expected = wrapped.get("body").cloned().unwrap_or(Value::Null);
        differ(
            name,
            "the body does not match",
            &expected,
            actual,
            mode,
            check,
        )
    }
}

/// Compares two values; on a difference, a failure with every mismatch and a diff of the
/// canonical texts (the plain texts, for two strings). A cut diff keeps the whole actual value.
fn differ(
    check: &'static str,
    what: &str,
    expected: &Value,
    actual: &Value,
    mode: Mode,
    at: &Check,
) -> Option<Failure> {
    let mismatches = compare::compare(expected, actual, mode);
    if mismatches.is_empty() {
        return None;
    }
    let (expected_text, actual_text) = match (expected, actual) {
        (Value::String(e), Value::String(a)) => (e.clone(), a.clone()),
        _ => {
            let shown = match mode {
                Mode::Exact => actual.clone(),
                Mode::Subset => compare::project(expected, actual),
            };
            (canonical(expected), canonical(&shown))
        }
    };
    let diff = Diff::new(&expected_text, &actual_text);
    let count = mismatches.len();
    // A diff cannot show a final line break: say it.
    let newline = if diff.hunks.is_empty() && expected_text != actual_text {
        " (they differ only in a final line break)"
    } else {
        ""
    };
    let mut failure = Failure::new(
        check,
        format!(
            "{what}: {count} difference{}{newline}",
            if count == 1 { "" } else { "s" }
        ),
        Some(at.pos),
    );
    if diff.left_out.is_some() {
        failure.actual = Some(match actual {
            Value::String(a) => a.clone(),
            other => canonical(other),
        });
    }
    failure.mismatches = mismatches;
    failure.diff = Some(diff);
    Some(failure)
}

/// One `logs:` entry, judged on the first of the invocation's `lines` lines it `found`.
fn log(rule: &LogRule, lines: u64, found: Option<&str>, check: &Check) -> Option<Failure> {
    let fail = |message: String| Some(Failure::new("logs", message, Some(check.pos)));
    match (rule, found) {
        (LogRule::Contains(text), None) => fail(format!(
            "logs contains: no line of the invocation's {} holds {text:?}",
            count_lines(lines)
        )),
        (LogRule::NotContains(text), Some(line)) => fail(format!(
            "logs not_contains: a line holds {text:?}: {:?}",
            shorten(line, QUOTED)
        )),
        (LogRule::Matches(re), None) => fail(format!(
            "logs matches: no line of the invocation's {} matches {re}",
            count_lines(lines)
        )),
        _ => None,
    }
}

fn count_lines(n: u64) -> String {
    if n == 1 {
        "1 log line".into()
    } else {
        format!("{n} log lines")
    }
}

fn max_duration(millis: u64, duration: Option<Duration>, check: &Check) -> Option<Failure> {
    let fail = |message: String| Some(Failure::new("max_duration_ms", message, Some(check.pos)));
    match duration {
        None => fail(format!(
            "expected a handler duration of at most {millis} ms, but none was reported (no REPORT line)"
        )),
        Some(d) if d.as_secs_f64() * 1000.0 > millis as f64 => fail(format!(
            "expected a handler duration of at most {millis} ms, it took {:.2} ms",
            d.as_secs_f64() * 1000.0
        )),
        Some(_) => None,
    }
}

fn streamed(
    min_chunks: Option<u64>,
    first_within: Option<u64>,
    stream: Option<&crate::outcome::Streamed>,
    check: &Check,
) -> Option<Failure> {
    let fail = |message: String| Some(Failure::new("stream", message, Some(check.pos)));
    let Some(stream) = stream else {
        return fail(
            "expected a streamed response, the function answered whole (or lambda-ci's agent did not serve it: `runtime_api: rie` buffers streams)"
                .into(),
        );
    };
    if let Some(min) = min_chunks.filter(|min| stream.chunks < *min) {
        let bytes = stream.bytes;
        return fail(format!(
            "expected at least {min} chunks, the response came in {} ({bytes} bytes)",
            stream.chunks
        ));
    }
    if let Some(within) = first_within {
        match stream.first_chunk_ms {
            None => {
                return fail(format!(
                    "expected a first chunk within {within} ms, none came"
                ));
            }
            Some(first) if first > within as f64 => {
                return fail(format!(
                    "expected the first chunk within {within} ms, it came after {first:.0} ms"
                ));
            }
            Some(_) => {}
        }
    }
    None
}

/// How many characters of a returned value or log line a message quotes.
const QUOTED: usize = 200;

/// `s` cut after `max` characters, with `…` when it was longer.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}
