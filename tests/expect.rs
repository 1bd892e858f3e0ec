//! Expectations end to end: HTTP-style checks, every failing check at its own line, cut diffs
//! with the whole actual value on disk, and snapshots recorded, compared, updated and never
//! written under CI.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;

/// `lambda-ci run SUITE EXTRA --pull never`, with CI set or not, leaving no container behind.
fn run_ci(suite: &Path, extra: &[&str], ci: bool) -> Output {
    let mut cmd = lambda_ci();
    cmd.arg("run")
        .arg(suite)
        .args(extra)
        .args(["--pull", "never"]);
    if ci {
        cmd.env("CI", "true");
    } else {
        cmd.env_remove("CI");
    }
    let out = cmd.output().expect("run lambda-ci");
    assert_eq!(
        containers_of(suite),
        Vec::<String>::new(),
        "containers left behind"
    );
    out
}

const ORDER: &str = r#"{statusCode: 200, headers: {Content-Type: application/json}, isBase64Encoded: false, body: '{"id": "ord-1", "items": [{"id": 1}, {"id": 2}], "createdAt": "now"}'}"#;

#[test]
fn every_failing_check_is_reported_at_its_own_line_in_every_report() {
    let (dir, suite) = temp_suite(&format!(
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: CODE\ncases:\n  - name: order\n    event: {ORDER}\n    expect:\n      status: 201\n      headers: {{content-type: text/html}}\n      body_contains: {{id: ord-2}}\n      assert:\n        - {{path: '$.body.items[*].id', gt: 1, all: true}}\n      logs: {{contains: [never logged]}}\n      ignore: [$.body.createdAt]\n"
    ));
    let json = dir.path().join("report.json");
    let junit = dir.path().join("junit.xml");
    let out = run(
        std::slice::from_ref(&suite),
        &[
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let file = suite.display().to_string();
    for expected in [
        format!("{file}:9:7: expected status 201, got 200"),
        format!(
            "{file}:10:17: header `content-type`: expected \"text/html\", got \"application/json\""
        ),
        format!("{file}:11:7: the body does not match: 1 difference"),
        "$.id: expected \"ord-2\", got \"ord-1\"".to_string(),
        format!(
            "{file}:13:11: `$.body.items[*].id` gt 1 (all 2 values): at $['body']['items'][0]['id'], expected a number > 1, got 1"
        ),
        format!("{file}:14:25: logs contains: no line of the invocation's"),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in\n{text}");
    }
    assert_summary(&text, "0 passed, 1 failed");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let failures = &report["suites"][0]["cases"][0]["failures"];
    let checks: Vec<&str> = failures
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        checks,
        vec!["status", "headers", "body_contains", "assert", "logs"]
    );
    assert_eq!(
        failures[3]["location"],
        serde_json::json!({"line": 13, "column": 11})
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("5 checks failed; first: expected status 201, got 200"),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("{file}:14:25: logs contains")),
        "{xml}"
    );
}

#[test]
fn http_style_expectations_pass_on_a_matching_response() {
    let (_dir, suite) = temp_suite(&format!(
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: CODE\ndefaults:\n  expect: {{status: 200}}\n  ignore: [$.body.createdAt]\ncases:\n  - name: order {{{{n}}}}\n    each: [{{n: 1}}, {{n: 2}}]\n    event: {ORDER}\n    expect:\n      headers: {{CONTENT-TYPE: /json$/}}\n      body: {{id: ord-1, items: [{{id: 1}}, {{id: 2}}]}}\n      assert:\n        - {{path: $.body.items, length: 2}}\n        - {{path: '$.body.items[*].id', equals: '{{{{n}}}}', any: true}}\n      max_duration_ms: 5000\n"
    ));
    let out = run(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("PASS  order 1") && text.contains("PASS  order 2"),
        "{text}"
    );
}

#[test]
fn a_huge_difference_is_cut_and_the_whole_value_written_and_attached() {
    let (dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: CODE\ncases:\n  - name: big\n    event_file: big.json\n    expect:\n      response: {rows: []}\n",
    );
    let rows: Vec<serde_json::Value> = (0..400)
        .map(|i| serde_json::json!({"row": i, "name": format!("name {i}")}))
        .collect();
    std::fs::write(
        dir.path().join("big.json"),
        serde_json::json!({ "rows": rows }).to_string(),
    )
    .unwrap();
    let junit = dir.path().join("reports/junit.xml");
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    let out = run(
        std::slice::from_ref(&suite),
        &["--junit", junit.to_str().unwrap()],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("more diff lines in"), "{text}");
    assert!(!text.contains("name 399"), "the diff is cut\n{text}");
    let written = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("the whole actual value: "))
        .unwrap_or_else(|| panic!("no file named in\n{text}"));
    assert!(
        written.starts_with(
            &dir.path()
                .join("reports/lambda-ci-actual")
                .display()
                .to_string()
        ),
        "{written}"
    );
    let whole = std::fs::read_to_string(written).unwrap();
    assert!(whole.contains("\"name 399\""), "{whole}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(&format!("[[ATTACHMENT|{written}]]")), "{xml}");
}

#[test]
fn snapshots_are_recorded_compared_updated_and_never_written_under_ci() {
    let (dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: CODE\ncases:\n  - name: order\n    event: {id: ord-1, at: now, items: [1, 2]}\n    expect:\n      snapshot: true\n      ignore: [$.at]\n",
    );
    let snap = dir.path().join("suite.snap.yaml");
    // Missing: the case fails with the command that records it.
    let out = run_ci(&suite, &[], false);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("no snapshot of this case in {}", snap.display())),
        "{text}"
    );
    assert!(text.contains("--update-snapshots"), "{text}");
    // Under CI, --update-snapshots writes nothing and says so.
    let out = run_ci(&suite, &["--update-snapshots"], true);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("--update-snapshots is ignored because CI is set"),
        "{}",
        stderr(&out)
    );
    assert!(!snap.exists());
    // Recorded locally, ignored paths left out; then it passes.
    let out = run_ci(&suite, &["--update-snapshots"], false);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("snapshot added: order"), "{text}");
    assert!(
        text.contains(&format!("wrote snapshots to {}", snap.display())),
        "{text}"
    );
    let stored = std::fs::read_to_string(&snap).unwrap();
    assert!(
        stored.contains("id: ord-1") && !stored.contains("now"),
        "{stored}"
    );
    let out = run_ci(&suite, &[], true);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // A changed response fails with its difference, until the snapshot is updated.
    let changed = std::fs::read_to_string(&suite)
        .unwrap()
        .replace("id: ord-1", "id: ord-2");
    std::fs::write(&suite, changed).unwrap();
    let out = run_ci(&suite, &[], true);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("the response differs from its snapshot: 1 difference"),
        "{text}"
    );
    assert!(
        text.contains("$.id: expected \"ord-1\", got \"ord-2\""),
        "{text}"
    );
    let out = run_ci(&suite, &["--update-snapshots"], false);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("snapshot updated: order"), "{text}");
    assert!(
        text.contains("-  \"id\": \"ord-1\",\n        +  \"id\": \"ord-2\","),
        "{text}"
    );
    assert!(
        std::fs::read_to_string(&snap)
            .unwrap()
            .contains("id: ord-2")
    );
    // A broken snapshot file stops the run before anything starts, pointing into it.
    std::fs::write(&snap, "snapshots: [unclosed\n").unwrap();
    let out = run_ci(&suite, &[], true);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("suite.snap.yaml:"),
        "{}",
        stderr(&out)
    );
}

// Regression: `--update-snapshots` wrote a `${VAR}` secret the function returned into the
// snapshot file, which is committed.
#[test]
fn a_snapshot_is_never_recorded_with_a_secret_in_it() {
    let (dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.say\n  code: CODE\n  environment: {TOKEN: \"${TOKEN}\"}\ncases:\n  - name: leaks\n    event: {return: {user: ada, session: {token: \"t=@TOKEN\"}}}\n    expect:\n      snapshot: true\n  - name: clean\n    event: {return: {user: ada}}\n    expect:\n      snapshot: true\n",
    );
    let out = lambda_ci()
        .args(["run", "--pull", "never", "--update-snapshots"])
        .arg(&suite)
        .env_remove("CI")
        .env("TOKEN", "s3cr3t-session-token-value")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("snapshot not recorded: the response holds a secret at `$.session.token`"),
        "{text}"
    );
    let stored = std::fs::read_to_string(dir.path().join("suite.snap.yaml")).unwrap();
    assert!(
        stored.contains("clean") && !stored.contains("leaks"),
        "{stored}"
    );
    assert!(!stored.contains("s3cr3t"), "{stored}");
}

// Regression: a function that answered raw bytes (Python's runtime posts `bytes` as they are)
// was kept exactly, but every check said "there is no response to check".
#[test]
fn a_binary_response_is_checked_by_its_bytes_and_a_mismatch_shown_in_hex() {
    let dir = tempfile::tempdir().unwrap();
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
    std::fs::write(dir.path().join("header.bin"), png).unwrap();
    let suite = python_suite(
        dir.path(),
        "raw",
        "  handler: app.raw_bytes\n",
        "  - name: the header\n    expect:\n      response_bytes: {file: header.bin, prefix: 89 50 4e 47, length: 16}\n\
         \x20 - name: one more byte\n    event: {tail: [255]}\n    expect:\n      response_bytes: {file: header.bin}\n\
         \x20 - name: read as JSON\n    expect:\n      response: {a: 1}\n",
    );
    let (out, cases) = run_reported(&[suite], &["--reporter", "human"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert_eq!(cases[0]["verdict"], "pass", "{text}");
    assert!(
        text.contains("the response's 17 bytes differ from the 16 of "),
        "{text}"
    );
    assert!(text.contains("at byte 16"), "{text}");
    assert!(
        text.contains(
            " 00000000  89 50 4e 47 0d 0a 1a 0a 00 00 00 0d 49 48 44 52  |.PNG........IHDR|"
        ),
        "{text}"
    );
    assert!(text.contains("+00000010  ff"), "{text}");
    assert!(
        text.contains("the function returned 16 bytes that are not UTF-8 text: 89 50 4e 47 0d 0a 1a 0a 00 00 00 0d 49 48 44 52; check bytes with `response_bytes`"),
        "{text}"
    );
}
