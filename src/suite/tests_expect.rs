//! Loader tests for `expect:` keys, suite `defaults:` and `each:` rows.

use std::path::Path;

use super::check::{LogRule, Predicate, Quantifier, TextMatch};
use super::*;

fn load(cases: &str) -> Result<Suite, Vec<String>> {
    load_with("", cases)
}

fn load_with(defaults: &str, cases: &str) -> Result<Suite, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("code")).unwrap();
    let text = format!(
        "function:\n  runtime: python3.11\n  handler: a.b\n  code: code\n{defaults}cases:\n{cases}"
    );
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, text).unwrap();
    match load_paths(&[file]) {
        Ok(mut s) => Ok(s.remove(0)),
        Err(e) => Err(e
            .0
            .iter()
            .map(|e| {
                let pos = e
                    .pos
                    .map(|p| format!("{}:{}", p.line, p.column))
                    .unwrap_or_default();
                format!("{pos}: {}", e.message)
            })
            .collect()),
    }
}

fn kinds(case: &Case) -> Vec<&CheckKind> {
    case.expect.checks.iter().map(|c| &c.kind).collect()
}

#[test]
fn every_expect_key_loads_into_checks_at_their_own_lines() {
    let s = load(
        "  - name: api
    expect:
      status: 200
      headers: {content-type: application/json, x-request-id: '/^[0-9a-f-]+$/'}
      body_contains: {message: hello}
      assert:
        - {path: '$.body.items[*].id', type: integer, all: true}
        - {path: $.statusCode, lt: 300}
      logs: {contains: signed in, not_contains: [Traceback], matches: ['user \\d+']}
      max_duration_ms: 250
      ignore: [$.body.createdAt]
      snapshot: true
",
    )
    .unwrap();
    let case = &s.cases[0];
    let lines: Vec<usize> = case.expect.checks.iter().map(|c| c.pos.line).collect();
    assert_eq!(lines, vec![8, 9, 9, 10, 12, 13, 14, 14, 14, 15, 17]);
    let k = kinds(case);
    assert_eq!(k[0], &CheckKind::Status(200));
    assert!(
        matches!(k[1], CheckKind::Header { name, value: TextMatch::Exact(v) } if name == "content-type" && v == "application/json")
    );
    assert!(matches!(
        k[2],
        CheckKind::Header {
            value: TextMatch::Regex(_),
            ..
        }
    ));
    assert!(matches!(
        k[3],
        CheckKind::Body {
            mode: Mode::Subset,
            ..
        }
    ));
    assert!(
        matches!(k[4], CheckKind::Assert(a) if a.quantifier == Quantifier::All && a.query.text == "$.body.items[*].id")
    );
    assert!(matches!(k[5], CheckKind::Assert(a) if matches!(a.predicate, Predicate::Lt(_))));
    assert!(matches!(k[6], CheckKind::Log(LogRule::Contains(t)) if t == "signed in"));
    assert!(matches!(k[7], CheckKind::Log(LogRule::NotContains(_))));
    assert!(matches!(k[8], CheckKind::Log(LogRule::Matches(_))));
    assert_eq!(k[9], &CheckKind::MaxDuration { millis: 250 });
    assert_eq!(k[10], &CheckKind::Snapshot);
    assert_eq!(case.expect.ignore[0].text, "$.body.createdAt");
    assert!(case.expect.has_snapshot() && !case.expect.expects_error());
}

#[test]
fn errors_take_regex_messages_and_substrings() {
    let s = load(
        "  - name: a
    expect:
      error: {type: ValueError, message: '/^name .* required$/'}
  - name: b
    expect:
      error_contains: {message: required}
",
    )
    .unwrap();
    assert!(matches!(
        kinds(&s.cases[0])[0],
        CheckKind::Error {
            message: Some(TextMatch::Regex(_)),
            ..
        }
    ));
    assert!(
        matches!(kinds(&s.cases[1])[0], CheckKind::Error { error_type: None, message: Some(TextMatch::Contains(m)) } if m == "required")
    );
    assert!(s.cases[1].expect.expects_error());
    let s = load("  - name: a\n    expect: {status: '204'}\n").unwrap();
    assert_eq!(kinds(&s.cases[0])[0], &CheckKind::Status(204));
}

#[test]
fn bad_expectations_are_reported_each_at_its_place() {
    let errs = load(
        "  - name: a
    expect:
      status: 99
      headers: [a]
      assert:
        - {path: '$.a[', equals: 1}
        - {path: $.a}
        - {path: $.a, equals: 1, gt: 2}
        - {path: $.a, type: text}
        - {path: $.a, equals: 1, all: true, any: true}
      logs: {matches: ['(unclosed']}
      max_duration_ms: 0
      error_contains: {message: x}
      snapshot: yes
",
    )
    .unwrap_err();
    let has = |prefix: &str| errs.iter().any(|e| e.starts_with(prefix));
    assert!(
        has("8:15: `status` must be an HTTP status code"),
        "{errs:#?}"
    );
    assert!(has("9:16: `headers` must be a mapping"), "{errs:#?}");
    assert!(
        has("11:18: `path` `$.a[` is not a valid JSONPath"),
        "{errs:#?}"
    );
    assert!(
        has("12:11: `assert` entry without a predicate"),
        "{errs:#?}"
    );
    assert!(
        has("13:34: `equals` and `gt` in one `assert` entry"),
        "{errs:#?}"
    );
    assert!(has("14:29: unknown `type` `text`"), "{errs:#?}");
    assert!(has("15:45: `all` and `any` are exclusive"), "{errs:#?}");
    assert!(
        has("16:24: `logs.matches` entry: invalid regular expression /(unclosed/"),
        "{errs:#?}"
    );
    assert!(
        has("17:24: `max_duration_ms` must be a whole number"),
        "{errs:#?}"
    );
    assert!(
        has("18:7: `status` and `error_contains` cannot be combined"),
        "{errs:#?}"
    );
    assert!(has("19:17: `snapshot` must be true or false"), "{errs:#?}");
}

#[test]
fn defaults_apply_to_every_case_and_a_cases_own_keys_win() {
    let s = load_with(
        "defaults:\n  expect:\n    status: 200\n    headers: {content-type: application/json}\n    ignore: [$.requestId]\n  ignore: [$.body.at]\n",
        "  - name: plain
  - name: own status
    expect: {status: 201, ignore: [$.body.id]}
  - name: an error
    expect: {error: {type: ValueError}}
",
    )
    .unwrap();
    assert_eq!(
        kinds(&s.cases[0]),
        vec![&CheckKind::Status(200), kinds(&s.cases[0])[1]]
    );
    assert!(matches!(kinds(&s.cases[0])[1], CheckKind::Header { .. }));
    let own = kinds(&s.cases[1]);
    assert_eq!(own[0], &CheckKind::Status(201));
    assert_eq!(own.len(), 2, "the default status gave way: {own:?}");
    let ignored: Vec<&str> = s.cases[1]
        .expect
        .ignore
        .iter()
        .map(|q| q.text.as_str())
        .collect();
    assert_eq!(ignored, vec!["$.requestId", "$.body.at", "$.body.id"]);
    let error = kinds(&s.cases[2]);
    assert_eq!(
        error.len(),
        1,
        "response checks do not apply to an expected error: {error:?}"
    );
    assert!(s.cases[2].expect.expects_error());
    // Defaults positions point into the defaults block.
    assert_eq!(s.cases[0].expect.checks[0].pos.line, 7);
}

#[test]
fn a_key_and_its_other_form_override_defaults_together_and_headers_merge_by_name() {
    let s = load_with(
        "defaults:\n  expect:\n    body_contains: {ok: true}\n    headers: {content-type: application/json, cache-control: no-store}\n",
        "  - name: not found
    expect:
      body: Not Found
      headers: {Content-Type: text/plain}
",
    )
    .unwrap();
    let k = kinds(&s.cases[0]);
    assert_eq!(k.len(), 3, "{k:?}");
    assert!(matches!(
        k[0],
        CheckKind::Body {
            mode: Mode::Exact,
            ..
        }
    ));
    assert!(matches!(k[1], CheckKind::Header { name, .. } if name == "Content-Type"));
    assert!(matches!(k[2], CheckKind::Header { name, .. } if name == "cache-control"));
}

#[test]
fn each_row_becomes_a_case_with_placeholders_filled() {
    let s = load(
        "  - name: greets {{who}}
    each:
      - {who: Ada, code: 200, n: 1}
      - {who: Bob, code: 404, n: 2}
    event: {name: '{{who}}', count: '{{n}}', text: 'n={{n}}'}
    expect:
      status: '{{code}}'
      body_contains: {message: 'hello {{who}}'}
",
    )
    .unwrap();
    assert_eq!(s.cases.len(), 2);
    assert_eq!(s.cases[0].name, "greets Ada");
    assert_eq!(s.cases[1].name, "greets Bob");
    assert_eq!(
        s.cases[1].event,
        serde_json::json!({"name": "Bob", "count": 2, "text": "n=2"})
    );
    assert_eq!(kinds(&s.cases[1])[0], &CheckKind::Status(404));
    assert!(
        matches!(kinds(&s.cases[0])[1], CheckKind::Body { value, .. } if value == &serde_json::json!({"message": "hello Ada"}))
    );
    // Each case is where its row is.
    assert_eq!(s.cases[0].pos.line, 8);
    assert_eq!(s.cases[1].pos.line, 9);
}

#[test]
fn rows_sharing_a_name_are_numbered_and_unknown_placeholders_named() {
    let s =
        load("  - name: '{{id}}'\n    each: [{id: 7, key: k}]\n    event: {'{{key}}': '{{id}}'}\n")
            .unwrap();
    assert_eq!(s.cases[0].name, "7", "a name is text");
    assert_eq!(s.cases[0].event, serde_json::json!({"k": 7}));
    let s = load("  - name: same\n    each: [{a: 1}, {a: 2}]\n    event: {a: '{{a}}'}\n").unwrap();
    let names: Vec<&str> = s.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, vec!["same [1]", "same [2]"]);
    let errs = load("  - name: x {{nme}}\n    each: [{name: 1}]\n").unwrap_err();
    assert_eq!(
        errs,
        vec!["6:11: placeholder `{{nme}}` has no value in the `each` row at line 7"]
    );
    let errs = load("  - name: x\n    each: []\n").unwrap_err();
    assert_eq!(errs, vec!["7:5: `each` is empty"]);
    let errs = load("  - name: x\n    each: [1]\n").unwrap_err();
    assert!(
        errs[0].starts_with("7:12: an `each` row must be a mapping"),
        "{errs:?}"
    );
}

#[test]
fn snapshot_files_sit_beside_their_suite() {
    let s = load("  - name: a\n").unwrap();
    assert_eq!(
        s.snapshot_file().file_name(),
        Some(Path::new("s.snap.yaml").as_os_str())
    );
}
