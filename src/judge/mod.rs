//! Judge: an invocation's outcome against the case's expectation. Pure: no I/O.
//!
//! Values are normalised first (canonical, key-sorted, pretty JSON), then compared, and the
//! difference is kept as data for the reporters to render.

pub mod compare;
pub mod diff;
pub mod edge;

use serde_json::Value;

pub use compare::{Mismatch, MismatchKind, Mode};
pub use diff::Diff;

use crate::outcome::{Body, Outcome};
use crate::suite::{Expectation, Pos};

/// The verdict on one case.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "verdict", content = "detail", rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// The function did something other than expected.
    Fail(Failure),
    /// The case could not be judged: the infrastructure failed (image, container, transport).
    Error(String),
    /// The case did not run, and why (`--fail-fast` after an earlier case did not pass).
    Skipped(String),
}

/// Why a case failed, with what is needed to show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Failure {
    /// One line: what was expected and what happened.
    pub message: String,
    /// Each difference with its path, when both sides are JSON.
    pub mismatches: Vec<Mismatch>,
    /// Expected vs actual, as a line diff.
    pub diff: Option<Diff>,
    /// Where the expectation is written.
    pub pos: Option<Pos>,
}

/// Canonical text of a JSON value: keys sorted, pretty-printed.
pub fn canonical(v: &Value) -> String {
    // serde_json's map is ordered by key unless `preserve_order` is on, so this sorts keys.
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Judges `outcome` against `expect`.
pub fn judge(expect: &Expectation, outcome: &Outcome) -> Verdict {
    let pos = expect.pos();
    let fail = |message: String| {
        Verdict::Fail(Failure {
            message,
            mismatches: vec![],
            diff: None,
            pos,
        })
    };
    match outcome {
        Outcome::Transport {
            error,
            container_gone,
        } => {
            let gone = if *container_gone {
                "; the container is gone"
            } else {
                ""
            };
            return Verdict::Error(format!("{error}{gone}"));
        }
        Outcome::ContainerExited {
            exit_code,
            oom_killed,
        } => {
            return Verdict::Error(if *oom_killed {
                format!(
                    "the container was killed for exceeding its memory limit (exit code {exit_code})"
                )
            } else {
                format!("the container exited with code {exit_code}")
            });
        }
        _ => {}
    }
    match (expect, outcome) {
        (Expectation::Success, Outcome::Success { .. }) => Verdict::Pass,
        (Expectation::Response { value, .. }, Outcome::Success { body }) => {
            compare_body(value, body, Mode::Exact, pos)
        }
        (Expectation::ResponseContains { value, .. }, Outcome::Success { body }) => {
            compare_body(value, body, Mode::Subset, pos)
        }
        (
            Expectation::Error {
                error_type,
                message,
                ..
            },
            Outcome::FunctionError {
                error_type: t,
                message: m,
                ..
            },
        )
        | (
            Expectation::Error {
                error_type,
                message,
                ..
            },
            Outcome::RuntimeFailure {
                error_type: Some(t),
                message: Some(m),
                ..
            },
        ) => {
            let type_ok = error_type.as_ref().is_none_or(|e| e == t);
            let message_ok = message.as_ref().is_none_or(|e| e == m);
            if type_ok && message_ok {
                return Verdict::Pass;
            }
            let expected = describe_error(error_type.as_deref(), message.as_deref());
            let actual = describe_error(Some(t), Some(m));
            Verdict::Fail(Failure {
                message: format!(
                    "expected the function to fail with {expected}, it failed with {actual}"
                ),
                mismatches: vec![],
                diff: Some(Diff::new(&expected, &actual)),
                pos,
            })
        }
        // `error: {}` asks only that the invocation fail, whichever way.
        (
            Expectation::Error {
                error_type: None,
                message: None,
                ..
            },
            Outcome::Timeout { .. } | Outcome::RuntimeFailure { .. },
        ) => Verdict::Pass,
        (
            Expectation::Error {
                error_type,
                message,
                ..
            },
            Outcome::Success { body },
        ) => Verdict::Fail(Failure {
            message: format!(
                "expected the function to fail with {}, it succeeded and returned {}",
                describe_error(error_type.as_deref(), message.as_deref()),
                shorten(&body.to_string())
            ),
            mismatches: vec![],
            diff: None,
            pos,
        }),
        (
            _,
            Outcome::FunctionError {
                error_type,
                message,
                ..
            },
        ) => fail(format!(
            "expected success, the function failed with {}",
            describe_error(Some(error_type), Some(message))
        )),
        (_, Outcome::Timeout { message }) => fail(format!("the function timed out: {message}")),
        (
            _,
            Outcome::RuntimeFailure {
                status,
                error_type,
                message,
                body,
            },
        ) => {
            let what = match (error_type, message) {
                (Some(t), Some(m)) => describe_error(Some(t), Some(m)),
                _ if body.to_string().trim().is_empty() => "an empty answer".to_string(),
                _ => shorten(&body.to_string()),
            };
            // The kernel's OOM killer shows up only as a killed runtime.
            let oom = if what.contains("signal: killed") {
                "; the runtime was killed, most likely for exceeding the function's `memory`"
            } else {
                ""
            };
            fail(format!("the runtime failed (HTTP {status}): {what}{oom}"))
        }
        (_, Outcome::Transport { .. } | Outcome::ContainerExited { .. }) => {
            unreachable!("handled above")
        }
    }
}

fn describe_error(error_type: Option<&str>, message: Option<&str>) -> String {
    match (error_type, message) {
        (Some(t), Some(m)) => format!("{t}: {m}"),
        (Some(t), None) => t.to_string(),
        (None, Some(m)) => format!("an error saying {m:?}"),
        (None, None) => "an error".to_string(),
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 200;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

fn compare_body(expected: &Value, body: &Body, mode: Mode, pos: Option<Pos>) -> Verdict {
    match body {
        Body::Json(actual) => {
            let mismatches = compare::compare(expected, actual, mode);
            if mismatches.is_empty() {
                return Verdict::Pass;
            }
            let shown = match mode {
                Mode::Exact => actual.clone(),
                Mode::Subset => compare::project(expected, actual),
            };
            let count = mismatches.len();
            Verdict::Fail(Failure {
                message: format!(
                    "the response does not match: {count} difference{}",
                    if count == 1 { "" } else { "s" }
                ),
                mismatches,
                diff: Some(Diff::new(&canonical(expected), &canonical(&shown))),
                pos,
            })
        }
        Body::Text(text) => {
            // A text response matches a string expectation with the same text.
            if let (Value::String(e), Mode::Exact) = (expected, mode)
                && e == text
            {
                return Verdict::Pass;
            }
            let expected_text = match expected {
                Value::String(s) => s.clone(),
                other => canonical(other),
            };
            Verdict::Fail(Failure {
                message: "the response is not JSON and does not match the expected value"
                    .to_string(),
                mismatches: vec![],
                diff: Some(Diff::new(&expected_text, text)),
                pos,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pos() -> Pos {
        Pos { line: 3, column: 7 }
    }

    fn ok(v: Value) -> Outcome {
        Outcome::Success {
            body: Body::Json(v),
        }
    }

    fn raised(t: &str, m: &str) -> Outcome {
        Outcome::FunctionError {
            error_type: t.into(),
            message: m.into(),
            body: json!({"errorType": t, "errorMessage": m}),
        }
    }

    fn failure(v: Verdict) -> Failure {
        match v {
            Verdict::Fail(f) => f,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn exact_response_passes_and_fails_with_a_diff() {
        let expect = Expectation::Response {
            value: json!({"statusCode": 200, "body": "Hello, Ada"}),
            pos: pos(),
        };
        assert_eq!(
            judge(
                &expect,
                &ok(json!({"body": "Hello, Ada", "statusCode": 200}))
            ),
            Verdict::Pass
        );
        let f = failure(judge(
            &expect,
            &ok(json!({"body": "Hello, Bob", "statusCode": 200})),
        ));
        assert_eq!(f.pos, Some(pos()));
        assert_eq!(f.mismatches.len(), 1);
        let diff = f.diff.unwrap().to_plain();
        assert!(
            diff.contains("-  \"body\": \"Hello, Ada\",\n+  \"body\": \"Hello, Bob\","),
            "{diff}"
        );
    }

    #[test]
    fn subset_diff_shows_only_listed_keys() {
        let expect = Expectation::ResponseContains {
            value: json!({"statusCode": 201}),
            pos: pos(),
        };
        let f = failure(judge(
            &expect,
            &ok(json!({"statusCode": 200, "body": "long"})),
        ));
        let diff = f.diff.unwrap().to_plain();
        assert!(!diff.contains("body"), "{diff}");
        assert!(
            diff.contains("-  \"statusCode\": 201\n+  \"statusCode\": 200"),
            "{diff}"
        );
    }

    #[test]
    fn expected_error_against_success_and_the_reverse() {
        let expect = Expectation::Error {
            error_type: Some("ValueError".into()),
            message: None,
            pos: pos(),
        };
        assert_eq!(
            judge(&expect, &raised("ValueError", "anything")),
            Verdict::Pass
        );
        let f = failure(judge(&expect, &ok(json!({"ok": true}))));
        assert!(f.message.contains("it succeeded"), "{}", f.message);
        let f = failure(judge(&Expectation::Success, &raised("KeyError", "'name'")));
        assert_eq!(
            f.message,
            "expected success, the function failed with KeyError: 'name'"
        );
    }

    #[test]
    fn an_empty_error_expectation_accepts_any_failure() {
        let any = Expectation::Error {
            error_type: None,
            message: None,
            pos: pos(),
        };
        assert_eq!(judge(&any, &raised("KeyError", "x")), Verdict::Pass);
        assert_eq!(
            judge(
                &any,
                &Outcome::Timeout {
                    message: "Task timed out after 1.00 seconds".into()
                }
            ),
            Verdict::Pass
        );
        let crash = Outcome::RuntimeFailure {
            status: 502,
            error_type: None,
            message: None,
            body: Body::Text(String::new()),
        };
        assert_eq!(judge(&any, &crash), Verdict::Pass);
        assert!(matches!(judge(&any, &ok(json!(1))), Verdict::Fail(_)));
        let typed = Expectation::Error {
            error_type: Some("KeyError".into()),
            message: None,
            pos: pos(),
        };
        assert!(matches!(judge(&typed, &crash), Verdict::Fail(_)));
    }

    #[test]
    fn error_message_is_checked_when_given() {
        let expect = Expectation::Error {
            error_type: Some("ValueError".into()),
            message: Some("name is required".into()),
            pos: pos(),
        };
        assert_eq!(
            judge(&expect, &raised("ValueError", "name is required")),
            Verdict::Pass
        );
        let f = failure(judge(&expect, &raised("ValueError", "other")));
        assert!(f.diff.unwrap().to_plain().contains("+ValueError: other"));
    }

    #[test]
    fn timeouts_init_errors_and_infrastructure() {
        let f = failure(judge(
            &Expectation::Success,
            &Outcome::Timeout {
                message: "Task timed out after 1.00 seconds".into(),
            },
        ));
        assert!(f.message.contains("timed out"));
        let init = Outcome::RuntimeFailure {
            status: 502,
            error_type: Some("Runtime.ImportModuleError".into()),
            message: Some("Unable to import module 'nope'".into()),
            body: Body::Text(String::new()),
        };
        let f = failure(judge(&Expectation::Success, &init));
        assert!(
            f.message
                .starts_with("the runtime failed (HTTP 502): Runtime.ImportModuleError"),
            "{}",
            f.message
        );
        let expect_init = Expectation::Error {
            error_type: Some("Runtime.ImportModuleError".into()),
            message: None,
            pos: pos(),
        };
        assert_eq!(judge(&expect_init, &init), Verdict::Pass);
        assert!(matches!(
            judge(&Expectation::Success, &Outcome::ContainerExited { exit_code: 137, oom_killed: true }),
            Verdict::Error(m) if m.contains("memory limit")
        ));
    }

    #[test]
    fn text_responses_compare_as_text() {
        let expect = Expectation::Response {
            value: json!("hello"),
            pos: pos(),
        };
        assert_eq!(
            judge(
                &expect,
                &Outcome::Success {
                    body: Body::Text("hello".into())
                }
            ),
            Verdict::Pass
        );
        let f = failure(judge(
            &expect,
            &Outcome::Success {
                body: Body::Text("bye".into()),
            },
        ));
        assert!(f.diff.unwrap().to_plain().contains("-hello\n+bye"));
    }
}
