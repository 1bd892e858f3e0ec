//! The judge against every kind of outcome and check.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::outcome::Body;
use crate::suite::check::{Assertion, JsonType, Pattern, Predicate, Quantifier, Query, TextMatch};

pub(super) fn pos(line: usize) -> Pos {
    Pos { line, column: 7 }
}

pub(super) fn ok(v: Value) -> Outcome {
    Outcome::Success {
        body: Body::Json(v),
    }
}

pub(super) fn raised(t: &str, m: &str) -> Outcome {
    Outcome::FunctionError {
        error_type: t.into(),
        message: m.into(),
        body: json!({"errorType": t, "errorMessage": m}),
    }
}

pub(super) fn expect(kinds: Vec<CheckKind>) -> Expectation {
    Expectation {
        checks: kinds
            .into_iter()
            .enumerate()
            .map(|(i, kind)| Check {
                kind,
                pos: pos(10 + i),
            })
            .collect(),
        ignore: Vec::new(),
        pos: Some(pos(9)),
    }
}

pub(super) fn run(e: &Expectation, outcome: &Outcome) -> Verdict {
    // What the log reader would find in these lines for each `logs:` entry.
    let lines = [
        "START RequestId: 1",
        "user 42 signed in",
        "END RequestId: 1",
    ];
    let found: Vec<Option<String>> = e
        .log_rules()
        .map(|rule| lines.iter().find(|l| rule.finds(l)).map(|l| l.to_string()))
        .collect();
    let evidence = Evidence {
        outcome,
        logs: LogsSeen {
            lines: lines.len() as u64,
            found: &found,
        },
        duration: Some(Duration::from_millis(12)),
        stream: None,
    };
    judge(
        e,
        evidence,
        Snapshot::Compare {
            stored: None,
            file: std::path::Path::new("s.snap.yaml"),
        },
    )
    .verdict
}

pub(super) fn failures(v: Verdict) -> Vec<Failure> {
    match v {
        Verdict::Fail(f) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

pub(super) fn exact(v: Value) -> CheckKind {
    CheckKind::Response {
        value: v,
        mode: Mode::Exact,
    }
}

pub(super) fn error(t: Option<TextMatch>, m: Option<TextMatch>) -> CheckKind {
    CheckKind::Error {
        error_type: t,
        message: m,
    }
}

pub(super) fn api(status: u16, body: Value) -> Value {
    json!({
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "isBase64Encoded": false,
        "body": body.to_string()
    })
}

#[test]
fn exact_response_passes_and_fails_with_a_diff_at_its_line() {
    let e = expect(vec![exact(
        json!({"statusCode": 200, "body": "Hello, Ada"}),
    )]);
    assert_eq!(
        run(&e, &ok(json!({"body": "Hello, Ada", "statusCode": 200}))),
        Verdict::Pass
    );
    let f = failures(run(
        &e,
        &ok(json!({"body": "Hello, Bob", "statusCode": 200})),
    ));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pos, Some(pos(10)));
    assert_eq!(f[0].check, "response");
    assert_eq!(f[0].mismatches.len(), 1);
    let diff = f[0].diff.as_ref().unwrap().to_plain();
    assert!(
        diff.contains("-  \"body\": \"Hello, Ada\",\n+  \"body\": \"Hello, Bob\","),
        "{diff}"
    );
}

#[test]
fn a_json_body_compares_decoded_and_diffs_pretty() {
    let e = expect(vec![exact(api(
        200,
        json!({"message": "hello ada", "n": 1}),
    ))]);
    // Key order and spacing inside the body string do not matter.
    let actual = json!({"statusCode": 200, "headers": {"Content-Type": "application/json"}, "isBase64Encoded": false, "body": "{ \"n\": 1.0,  \"message\": \"hello ada\" }"});
    assert_eq!(run(&e, &ok(actual)), Verdict::Pass);
    let f = failures(run(
        &e,
        &ok(api(200, json!({"message": "hello bob", "n": 1}))),
    ));
    assert_eq!(f[0].mismatches[0].path, "$.body.message");
    let diff = f[0].diff.as_ref().unwrap().to_plain();
    assert!(
        diff.contains("-    \"message\": \"hello ada\",\n+    \"message\": \"hello bob\","),
        "{diff}"
    );
}

#[test]
fn subset_diff_shows_only_listed_keys() {
    let e = expect(vec![CheckKind::Response {
        value: json!({"statusCode": 201}),
        mode: Mode::Subset,
    }]);
    let f = failures(run(&e, &ok(json!({"statusCode": 200, "body": "long"}))));
    let diff = f[0].diff.as_ref().unwrap().to_plain();
    assert!(!diff.contains("body"), "{diff}");
    assert!(
        diff.contains("-  \"statusCode\": 201\n+  \"statusCode\": 200"),
        "{diff}"
    );
}

#[test]
fn every_failing_check_is_reported_with_its_own_line() {
    let e = expect(vec![
        CheckKind::Status(201),
        CheckKind::Header {
            name: "content-type".into(),
            value: TextMatch::Exact("text/html".into()),
        },
        CheckKind::Body {
            value: json!({"message": "hello ada"}),
            mode: Mode::Exact,
        },
        CheckKind::Status(200),
    ]);
    let f = failures(run(&e, &ok(api(200, json!({"message": "hello bob"})))));
    let lines: Vec<usize> = f.iter().map(|f| f.pos.unwrap().line).collect();
    assert_eq!(lines, vec![10, 11, 12]);
    assert_eq!(f[0].message, "expected status 201, got 200");
    assert_eq!(f[1].check, "headers");
    assert_eq!(f[2].check, "body");
    assert_eq!(f[2].mismatches[0].path, "$.message");
}

#[test]
fn body_checks_decode_base64_and_compare_text() {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode("{\"items\":[1,2],\"total\":2}");
    let r = json!({"statusCode": 200, "isBase64Encoded": true, "body": encoded});
    let e = expect(vec![
        CheckKind::Body {
            value: json!({"total": 2}),
            mode: Mode::Subset,
        },
        CheckKind::Body {
            value: json!({"items": [1, 2], "total": 2}),
            mode: Mode::Exact,
        },
    ]);
    assert_eq!(run(&e, &ok(r)), Verdict::Pass);
    let text = json!({"statusCode": 200, "body": "<h1>Hello</h1>"});
    let e = expect(vec![
        CheckKind::Body {
            value: json!("<h1>Hello</h1>"),
            mode: Mode::Exact,
        },
        CheckKind::Body {
            value: json!("Hello"),
            mode: Mode::Subset,
        },
    ]);
    assert_eq!(run(&e, &ok(text.clone())), Verdict::Pass);
    let e = expect(vec![CheckKind::Body {
        value: json!("Bye"),
        mode: Mode::Subset,
    }]);
    assert!(
        failures(run(&e, &ok(text)))[0]
            .message
            .contains("expected a body containing \"Bye\"")
    );
    let e = expect(vec![CheckKind::Body {
        value: json!({}),
        mode: Mode::Exact,
    }]);
    assert_eq!(
        failures(run(&e, &ok(json!({"statusCode": 204}))))[0].message,
        "the response has no `body`"
    );
}

#[test]
fn ignore_removes_paths_from_both_sides_before_comparing() {
    let mut e = expect(vec![exact(api(
        200,
        json!({"id": 1, "createdAt": "2026-01-01"}),
    ))]);
    e.checks[0].kind = exact(json!({
        "statusCode": 200, "requestId": "expected-id",
        "body": json!({"id": 1, "createdAt": "then"}).to_string()
    }));
    e.ignore = vec![Query::of("$.requestId"), Query::of("$.body.createdAt")];
    let actual = json!({
        "statusCode": 200, "requestId": "abc-123",
        "body": json!({"id": 1, "createdAt": "now"}).to_string()
    });
    assert_eq!(run(&e, &ok(actual)), Verdict::Pass);
}

#[test]
fn assertions_read_the_raw_response_or_the_decoded_body() {
    let a = |path: &str, predicate| {
        CheckKind::Assert(Assertion {
            query: Query::of(path),
            predicate,
            quantifier: Quantifier::One,
        })
    };
    let e = expect(vec![
        a("$.body", Predicate::Type(JsonType::String)),
        a("$.body.items[0].id", Predicate::Equals(json!(7))),
        a(
            "$.headers['Content-Type']",
            Predicate::Matches(Pattern::new("json").unwrap()),
        ),
    ]);
    let r = api(200, json!({"items": [{"id": 7}]}));
    assert_eq!(run(&e, &ok(r.clone())), Verdict::Pass);
    let e = expect(vec![a("$.body.items[0].id", Predicate::Equals(json!(8)))]);
    let f = failures(run(&e, &ok(r)));
    assert_eq!(
        f[0].message,
        "`$.body.items[0].id` equals 8: expected 8, got 7"
    );
    assert_eq!(f[0].pos, Some(pos(10)));
}

#[test]
fn expected_error_against_success_and_the_reverse() {
    let e = expect(vec![error(
        Some(TextMatch::Exact("ValueError".into())),
        None,
    )]);
    assert_eq!(run(&e, &raised("ValueError", "anything")), Verdict::Pass);
    let f = failures(run(&e, &ok(json!({"ok": true}))));
    assert!(f[0].message.contains("it succeeded"), "{}", f[0].message);
    let f = failures(run(&Expectation::default(), &raised("KeyError", "'name'")));
    assert_eq!(
        f[0].message,
        "expected success, the function failed with KeyError: 'name'"
    );
}

#[test]
fn error_messages_match_exactly_by_regex_or_by_substring() {
    let re = error(
        None,
        Some(TextMatch::Regex(Pattern::new("^name is .+d$").unwrap())),
    );
    assert_eq!(
        run(
            &expect(vec![re.clone()]),
            &raised("ValueError", "name is required")
        ),
        Verdict::Pass
    );
    let f = failures(run(&expect(vec![re]), &raised("ValueError", "other")));
    assert_eq!(
        f[0].message,
        "expected the function to fail with an error with a message matching /^name is .+d$/, it failed with ValueError: other"
    );
    let contains = error(
        Some(TextMatch::Contains("Value".into())),
        Some(TextMatch::Contains("required".into())),
    );
    assert_eq!(
        run(
            &expect(vec![contains.clone()]),
            &raised("ValueError", "name is required")
        ),
        Verdict::Pass
    );
    assert!(matches!(
        run(
            &expect(vec![contains]),
            &raised("KeyError", "name is required")
        ),
        Verdict::Fail(_)
    ));
    let both = expect(vec![error(
        Some(TextMatch::Exact("ValueError".into())),
        Some(TextMatch::Exact("name is required".into())),
    )]);
    let f = failures(run(&both, &raised("ValueError", "other")));
    assert!(
        f[0].diff
            .as_ref()
            .unwrap()
            .to_plain()
            .contains("+ValueError: other")
    );
}

#[test]
fn an_empty_error_expectation_accepts_any_failure() {
    let any = expect(vec![error(None, None)]);
    assert_eq!(run(&any, &raised("KeyError", "x")), Verdict::Pass);
    let timeout = Outcome::Timeout {
        message: "Task timed out after 1.00 seconds".into(),
    };
    assert_eq!(run(&any, &timeout), Verdict::Pass);
    let crash = Outcome::RuntimeFailure {
        status: 502,
        error_type: None,
        message: None,
        body: Body::Text(String::new()),
        out_of_memory: false,
    };
    assert_eq!(run(&any, &crash), Verdict::Pass);
    assert!(matches!(run(&any, &ok(json!(1))), Verdict::Fail(_)));
    let typed = expect(vec![error(Some(TextMatch::Exact("KeyError".into())), None)]);
    assert!(matches!(run(&typed, &crash), Verdict::Fail(_)));
}

#[test]
fn timeouts_init_errors_and_infrastructure() {
    let f = failures(run(
        &Expectation::default(),
        &Outcome::Timeout {
            message: "Task timed out after 1.00 seconds".into(),
        },
    ));
    assert!(f[0].message.contains("timed out"));
    let init = Outcome::RuntimeFailure {
        status: 502,
        error_type: Some("Runtime.ImportModuleError".into()),
        message: Some("Unable to import module 'nope'".into()),
        body: Body::Text(String::new()),
        out_of_memory: false,
    };
    let f = failures(run(&Expectation::default(), &init));
    assert!(
        f[0].message
            .starts_with("the runtime failed (HTTP 502): Runtime.ImportModuleError"),
        "{}",
        f[0].message
    );
    let e = expect(vec![error(
        Some(TextMatch::Exact("Runtime.ImportModuleError".into())),
        None,
    )]);
    assert_eq!(run(&e, &init), Verdict::Pass);
    assert!(matches!(
        run(&Expectation::default(), &Outcome::ContainerExited { exit_code: 137, oom_killed: true }),
        Verdict::Error(m) if m.message.contains("memory limit") && m.kind == crate::judge::ErrorKind::Exited
    ));
}

#[test]
fn text_responses_compare_as_text() {
    let e = expect(vec![exact(json!("hello"))]);
    let text = |t: &str| Outcome::Success {
        body: Body::Text(t.into()),
    };
    assert_eq!(run(&e, &text("hello")), Verdict::Pass);
    let f = failures(run(&e, &text("bye")));
    assert!(
        f[0].diff
            .as_ref()
            .unwrap()
            .to_plain()
            .contains("-hello\n+bye")
    );
}

#[test]
fn a_stream_check_needs_a_streamed_response_in_enough_chunks_soon_enough() {
    let e = expect(vec![CheckKind::Stream {
        min_chunks: Some(4),
        first_chunk_within_ms: Some(100),
    }]);
    let outcome = ok(json!("chunk 1\nchunk 2\n"));
    let judged = |stream: Option<&crate::outcome::Streamed>| {
        let evidence = Evidence {
            outcome: &outcome,
            logs: LogsSeen::NONE,
            duration: None,
            stream,
        };
        let stored = Snapshot::Compare {
            stored: None,
            file: std::path::Path::new("s.snap.yaml"),
        };
        match judge(&e, evidence, stored).verdict {
            Verdict::Fail(failures) => Some(failures[0].message.clone()),
            _ => None,
        }
    };
    let streamed = |chunks, first| crate::outcome::Streamed {
        chunks,
        bytes: 16,
        first_chunk_ms: Some(first),
        last_chunk_ms: Some(first + 600.0),
    };
    assert_eq!(judged(Some(&streamed(4, 20.0))), None);
    assert_eq!(
        judged(Some(&streamed(2, 20.0))).as_deref(),
        Some("expected at least 4 chunks, the response came in 2 (16 bytes)")
    );
    assert_eq!(
        judged(Some(&streamed(5, 250.0))).as_deref(),
        Some("expected the first chunk within 100 ms, it came after 250 ms")
    );
    assert!(
        judged(None)
            .unwrap()
            .starts_with("expected a streamed response")
    );
}
