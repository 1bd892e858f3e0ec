//! End-to-end tests of what every report makes of hostile or huge results: characters XML
//! cannot hold, control bytes, and values of megabytes.

mod common;

use std::process::Command;

use common::*;

/// xmllint's verdict on `report` against the JUnit schema the README promises.
fn xmllint(report: &std::path::Path) -> std::process::Output {
    Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(root().join("schema/junit.xsd"))
        .arg(report)
        .output()
        .expect("xmllint (scripts/test.sh installs libxml2-utils)")
}

// Regression: U+FFFE/U+FFFF (and lone C0 controls) in a case name, an error message, a
// response and a log line made the JUnit file unreadable (`Char 0xFFFE out of allowed range`).
#[test]
fn junit_with_u_fffe_and_u_ffff_validates_against_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    let (_s, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.fail\n  code: CODE\ncases:\n  - name: \"odd \\uFFFE\\uFFFF \\x01\\x0b name\"\n    event: {message: \"bad \\uFFFE\\uFFFF\\x01\\x1b input\"}\n    expect:\n      response: {x: \"\\uFFFE\"}\n",
    );
    let out = run(&[suite], &["--junit", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(
        xml.contains("odd \\u{fffe}\\u{ffff} \\u{1}\\u{b} name"),
        "{xml}"
    );
    assert!(xml.contains("bad \\u{fffe}\\u{ffff}"), "{xml}");
    let linted = xmllint(&report);
    assert!(
        linted.status.success(),
        "{}",
        String::from_utf8_lossy(&linted.stderr)
    );
}

// Regression: a 5 MB value made a 5 MB line on the console, in the annotation, in JUnit and in
// the JSON report's messages, and the job summary dropped the case.
#[test]
fn a_huge_value_is_cut_in_every_report_and_kept_whole_in_its_attachment() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "y".repeat(3_000_000);
    let (_s, suite) = temp_suite(&format!(
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: CODE\ncases:\n  - name: huge\n    event: {{x: \"{huge}\"}}\n    expect:\n      response: {{x: \"short\"}}\n"
    ));
    let (junit, json) = (
        dir.path().join("report.xml"),
        dir.path().join("report.json"),
    );
    let summary = dir.path().join("summary.md");
    let out = lambda_ci()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["run", "--pull", "never", "--junit"])
        .arg(&junit)
        .arg("--json")
        .arg(&json)
        .arg(&suite)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(run_id_in(&junit).is_some_and(|id| containers_of_run(&id).is_empty()));
    // An annotation is one line holding its message's lines as `%0A`.
    let longest = |s: &str| {
        s.lines()
            .flat_map(|l| l.split("%0A"))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    };
    // A line holds at most 500 characters of a value and the note of what was cut.
    assert!(
        longest(&text) < 1000,
        "a console line of {}",
        longest(&text)
    );
    assert!(text.contains("characters in all"), "no note of the cut");
    assert!(
        text.contains("the whole actual value: "),
        "no attachment named"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(longest(&xml) < 1000, "a JUnit line of {}", longest(&xml));
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("<code>huge</code>"),
        "the case is in the summary"
    );
    assert!(
        longest(&summary) < 2000,
        "a summary line of {}",
        longest(&summary)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let case = &doc["suites"][0]["cases"][0];
    for field in [
        &case["message"],
        &case["diff"],
        &case["differences"][0]["text"],
    ] {
        let field = field.as_str().unwrap();
        assert!(field.len() < 70_000, "a JSON field of {}", field.len());
    }
    // The whole value is in the attachment.
    let attachment = case["failures"][0]["attachment"].as_str().unwrap();
    let whole = std::fs::read_to_string(attachment).unwrap();
    assert!(whole.contains(&huge));
}

// Regression: `--junit` and `--json` on one path overwrote each other without a word.
#[test]
fn junit_and_json_on_the_same_path_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let out = lambda_ci()
        .env("DOCKER_HOST", "unix:///nonexistent")
        .arg("run")
        .arg(fixture("pass.yaml"))
        .arg("--junit")
        .arg(&report)
        .arg("--json")
        .arg(&report)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--junit") && err.contains("--json"), "{err}");
    assert!(err.contains("name the same file"), "{err}");
    assert!(!report.exists());
}

// Regression: `inherit` with no credentials in the environment passed empty values to the
// functions without a word.
#[test]
fn inherit_without_credentials_is_refused_before_any_container_starts() {
    let (_s, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: CODE\n  aws_credentials: inherit\ncases:\n  - name: a\n",
    );
    for flag in [&[][..], &["--aws-credentials", "inherit"][..]] {
        let err = refused(
            lambda_ci()
                .env_remove("AWS_ACCESS_KEY_ID")
                .env("AWS_SECRET_ACCESS_KEY", "")
                .args(["run", "--pull", "never"])
                .args(flag)
                .arg(&suite),
            2,
        );
        assert!(
            err.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"),
            "{err}"
        );
        assert!(err.contains("--aws-credentials placeholder"), "{err}");
        assert!(containers_of(&suite).is_empty());
    }
    // With credentials given, the run goes ahead.
    let out = lambda_ci()
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .args(["run", "--pull", "never"])
        .arg(&suite)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
