//! End-to-end tests of redaction: the judge sees what the function returned, and no report
//! shows an inherited secret in any encoding the function put it through.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::*;

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn leak_suite(dir: &Path) -> PathBuf {
    write_suite(
        dir,
        "leaky",
        ("python3.11", &fixture("functions/py")),
        "  handler: app.leak\n  aws_credentials: inherit\n",
        "  - name: shows the body\n    expect:\n      body: {token: nope}\n\
         \x20 - name: shows the header\n    expect:\n      headers: {Location: nope}\n\
         \x20 - name: shows the error\n    event: {raise: true}\n    expect:\n      status: 200\n",
    )
}

/// The middle of `text`'s base64 encoding where it encodes the secret alone.
fn encoded_secret(text: &str) -> String {
    let at = text.find(SECRET).unwrap();
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let first = (8 * at).div_ceil(6);
    encoded[first + 4..first + 24].to_string()
}

// Regression: a secret in a base64 body, URL-encoded or JSON-escaped was shown in clear in
// every report and in the files holding whole actual values.
#[test]
fn secrets_are_redacted_in_every_encoding_and_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let suite = leak_suite(dir.path());
    let (junit, json) = (dir.path().join("r.xml"), dir.path().join("r.json"));
    let (summary, outputs) = (dir.path().join("summary.md"), dir.path().join("outputs"));
    let out = lambda_ci()
        .args(["run", "--pull", "never", "--reporter", "github", "--junit"])
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .arg(&suite)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert_summary(&text, "0 passed, 3 failed");
    assert!(text.contains("[redacted]"), "{text}");
    let mut shown = vec![
        ("console", text.clone()),
        ("stderr", stderr(&out)),
        ("JUnit", std::fs::read_to_string(&junit).unwrap()),
        ("JSON", std::fs::read_to_string(&json).unwrap()),
        ("summary", std::fs::read_to_string(&summary).unwrap()),
        ("outputs", std::fs::read_to_string(&outputs).unwrap()),
    ];
    let attachments = dir.path().join("lambda-ci-actual");
    for suite_dir in std::fs::read_dir(&attachments).expect("a cut diff's attachment") {
        for file in std::fs::read_dir(suite_dir.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            shown.push(("attachment", std::fs::read_to_string(path).unwrap()));
        }
    }
    assert!(shown.iter().any(|(what, _)| *what == "attachment"));
    let body = format!(
        "{{\"token\": \"{SECRET}\", \"long\": \"{}{SECRET}\"}}",
        "x".repeat(600)
    );
    let forms = [
        SECRET.to_string(),
        SECRET.replace('/', "%2F").replace('+', "%2B"),
        SECRET.replace('/', "\\/"),
        encoded_secret(&format!("ab{SECRET}")),
        encoded_secret(&body),
        encoded_secret(&format!("{{\"token\": \"{SECRET}\"")),
    ];
    for (what, output) in &shown {
        for form in &forms {
            assert!(!output.contains(form), "{form} in the {what}:\n{output}");
        }
    }
    assert_eq!(containers_of(&suite), Vec::<String>::new());
}

// Regression: LocalStack's `test` credentials were replaced by `[redacted]` before the judge
// saw them, failing a correct function; a one-character secret mangled an error document's
// keys until a raising function passed.
#[test]
fn redaction_does_not_change_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "localstack",
        ("python3.11", &fixture("functions/py")),
        "  aws_credentials: inherit\n  handler: app.credentials\n",
        "  - name: sees the test credentials\n    expect:\n      response: {AWS_ACCESS_KEY_ID: test, AWS_SECRET_ACCESS_KEY: test, AWS_SESSION_TOKEN: e}\n",
    );
    let raising = write_suite(
        dir.path(),
        "raising",
        ("python3.11", &fixture("functions/py")),
        "  aws_credentials: inherit\n  handler: app.fail\n",
        "  - name: raises and is not a pass\n    expect:\n      response_contains: {}\n",
    );
    let out = lambda_ci()
        .args(["run", "--pull", "never"])
        .args([&suite, &raising])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_SESSION_TOKEN", "e")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert_summary(&text, "1 passed, 1 failed");
    assert!(
        text.contains("the function failed with ValueError"),
        "{text}"
    );
    assert!(!text.contains("[redacted]"), "{text}");
    let warning =
        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN are shorter than 8 characters";
    let all = format!("{text}{}", stderr(&out));
    assert_eq!(all.matches(warning).count(), 1, "said once:\n{all}");
}

// Regression: values were cut (a quoted value at 200 characters, a diff line at 500, a log
// line at 8 KiB) before they were redacted, so a secret straddling a cut showed its start.
#[test]
fn a_secret_straddling_a_cut_shows_none_of_it_in_any_report() {
    const TOKEN: &str = "Zq9LmPw4Rt7YvB2nX8kJ3hG6fD1sA5eC";
    let dir = tempfile::tempdir().unwrap();
    let pad = |n: usize| "x".repeat(n);
    let suite = write_suite(
        dir.path(),
        "straddle",
        ("python3.11", &fixture("functions/py")),
        "  handler: app.say\n  environment: {TOKEN: \"${TOKEN}\"}\n",
        &format!(
            "  - name: quoted\n    event: {{return: {{v: \"{}@TOKEN\"}}}}\n    expect:\n      response: {{v: nope}}\n\
             \x20 - name: in a diff line\n    event: {{return: {{a: \"{}@TOKEN\", b: 1}}}}\n    expect:\n      response: {{a: y, b: 2}}\n\
             \x20 - name: in a long log line\n    event: {{print: [\"{}@TOKEN\"], return: 1}}\n    expect:\n      response: 2\n",
            pad(190),
            pad(488),
            pad(8180)
        ),
    );
    let (out, junit, json) = run_with_reports(dir.path(), &suite, ("TOKEN", TOKEN));
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert_summary(&text, "0 passed, 3 failed");
    let shown = [("console", text.clone()), ("JUnit", junit), ("JSON", json)];
    for (what, output) in &shown {
        assert!(
            output.contains("[redacted]…"),
            "no cut secret in the {what}:\n{output}"
        );
        assert!(
            !output.contains(&TOKEN[..3]),
            "the secret's start in the {what}:\n{output}"
        );
    }
}
