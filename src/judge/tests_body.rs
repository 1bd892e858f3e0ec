//! The judge on text bodies, init error documents, timeouts and what `ignore` leaves alone.

use serde_json::json;

use super::*;
use crate::outcome::Body;
use crate::suite::check::{Assertion, Pattern, Predicate, Quantifier, Query, TextMatch};

fn check(kind: CheckKind) -> Expectation {
    Expectation {
        checks: vec![Check {
            kind,
            pos: Pos { line: 4, column: 7 },
        }],
        ..Expectation::default()
    }
}

fn verdict(e: &Expectation, outcome: &Outcome) -> Verdict {
    let evidence = Evidence {
        outcome,
        logs: LogsSeen::NONE,
        duration: None,
        stream: None,
    };
    let file = std::path::Path::new("s.snap.yaml");
    judge(e, evidence, Snapshot::Compare { stored: None, file }).verdict
}

fn ok(v: serde_json::Value) -> Outcome {
    Outcome::Success {
        body: Body::Json(v),
    }
}

fn body(value: serde_json::Value, mode: Mode) -> Expectation {
    check(CheckKind::Body { value, mode })
}

#[test]
fn a_string_is_compared_with_the_body_text_first() {
    let text = ok(json!({"statusCode": 404, "body": "Error 404: not found"}));
    assert_eq!(
        verdict(&body(json!("404"), Mode::Subset), &text),
        Verdict::Pass
    );
    assert_eq!(
        verdict(&body(json!("Error 404: not found"), Mode::Exact), &text),
        Verdict::Pass
    );
    let bare = ok(json!({"body": "true"}));
    assert_eq!(
        verdict(&body(json!("true"), Mode::Exact), &bare),
        Verdict::Pass
    );
    let doc = ok(json!({"body": "{\"a\": 1, \"b\": 2}"}));
    assert_eq!(
        verdict(&body(json!("{\"b\":2,\"a\":1}"), Mode::Exact), &doc),
        Verdict::Pass
    );
    assert_eq!(
        verdict(&body(json!("{\"a\":1}"), Mode::Subset), &doc),
        Verdict::Pass
    );
    let Verdict::Fail(f) = verdict(&body(json!("{\"a\":2}"), Mode::Subset), &doc) else {
        panic!("expected a failure");
    };
    assert_eq!(f[0].mismatches[0].path, "$.a");
}

#[test]
fn a_final_line_break_is_named_when_it_is_the_only_difference() {
    let Verdict::Fail(f) = verdict(
        &body(json!("hello\n"), Mode::Exact),
        &ok(json!({"body": "hello"})),
    ) else {
        panic!("expected a failure");
    };
    assert!(
        f[0].message
            .ends_with("(they differ only in a final line break)"),
        "{}",
        f[0].message
    );
}

#[test]
fn an_init_error_document_can_be_asserted_on() {
    let init = Outcome::RuntimeFailure {
        status: 502,
        error_type: Some("Runtime.ImportModuleError".into()),
        message: Some("Unable to import module 'app': No module named 'requests'".into()),
        body: Body::Json(json!({
            "errorType": "Runtime.ImportModuleError",
            "errorMessage": "Unable to import module 'app': No module named 'requests'"
        })),
        out_of_memory: false,
    };
    let mut e = check(CheckKind::Error {
        error_type: Some(TextMatch::Exact("Runtime.ImportModuleError".into())),
        message: None,
    });
    e.checks.push(Check {
        kind: CheckKind::Assert(Assertion {
            query: Query::of("$.errorMessage"),
            predicate: Predicate::Matches(Pattern::new("No module named").unwrap()),
            quantifier: Quantifier::One,
        }),
        pos: Pos { line: 5, column: 7 },
    });
    assert_eq!(verdict(&e, &init), Verdict::Pass);
}

#[test]
fn a_timeout_is_an_error_of_its_own_type() {
    let timeout = Outcome::Timeout {
        message: "Task timed out after 1.00 seconds".into(),
    };
    let e = check(CheckKind::Error {
        error_type: Some(TextMatch::Exact(error::TIMEOUT_TYPE.into())),
        message: Some(TextMatch::Regex(Pattern::new("timed out after").unwrap())),
    });
    assert_eq!(verdict(&e, &timeout), Verdict::Pass);
    let other = check(CheckKind::Error {
        error_type: Some(TextMatch::Exact("ValueError".into())),
        message: None,
    });
    assert!(matches!(verdict(&other, &timeout), Verdict::Fail(_)));
}

#[test]
fn ignored_paths_are_left_out_of_comparisons_but_not_of_assertions() {
    let mut e = check(CheckKind::Assert(Assertion {
        query: Query::of("$.body.createdAt"),
        predicate: Predicate::Matches(Pattern::new(r"^\d{4}-").unwrap()),
        quantifier: Quantifier::One,
    }));
    e.checks.push(Check {
        kind: CheckKind::Body {
            value: json!({"id": 1}),
            mode: Mode::Exact,
        },
        pos: Pos { line: 5, column: 7 },
    });
    e.checks.push(Check {
        kind: CheckKind::Header {
            name: "x-request-id".into(),
            value: TextMatch::Regex(Pattern::new("^r-").unwrap()),
        },
        pos: Pos { line: 6, column: 7 },
    });
    e.ignore = vec![
        Query::of("$.body.createdAt"),
        Query::of("$.headers['x-request-id']"),
    ];
    let r = ok(json!({
        "headers": {"x-request-id": "r-1"},
        "body": "{\"id\": 1, \"createdAt\": \"2026-11-30T12:00:00Z\"}"
    }));
    assert_eq!(verdict(&e, &r), Verdict::Pass);
}
