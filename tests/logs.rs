//! Function logs end to end: floods past the engine's log cap, lines too long to keep,
//! output with no final newline, and a timeout, read from the real RIE on the real engine.

mod common;

use common::{assert_summary, case_logs, fixture, run, stdout};
use serde_json::Value;

/// Runs the fixture `suite` with a JSON report; the output and the report's cases.
fn run_reported_with(suite: &str, extra: &[&str]) -> (std::process::Output, Vec<Value>) {
    common::run_reported(&[fixture(suite)], extra)
}

fn reported(suite: &str) -> (std::process::Output, Vec<Value>) {
    run_reported_with(suite, &[])
}

// Regression: after one invocation logged more than the engine's 3 x 10 MB json-file cap, the
// log follower stopped and later cases had no logs and no REPORT (`logs:` and
// `max_duration_ms` failed at random).
#[test]
fn cases_after_a_flood_past_the_engine_log_cap_keep_their_logs() {
    let (out, cases) = reported("logs-flood.yaml");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "3 passed, 0 failed");
    for case in &cases {
        let lines = case_logs(case);
        assert!(lines[0].starts_with("START RequestId: "), "{lines:?}");
        assert!(lines.last().unwrap().starts_with("REPORT RequestId: "));
        assert!(case["handler_duration_ms"].is_number(), "{}", case["name"]);
    }
}

// Regression: the omitted-lines note undercounted what a flood lost (147,436 said, about
// 200,000 gone); the report keeps 1,000 + 1,000 lines and counts the rest exactly.
#[test]
fn a_flood_keeps_its_first_and_last_lines_and_counts_the_rest_exactly() {
    let (_, cases) = reported("logs-flood.yaml");
    let lines = case_logs(&cases[0]);
    assert_eq!(lines.len(), 2001);
    assert_eq!(
        lines[1],
        format!("flood line 1 of 200000 {}", "x".repeat(160))
    );
    // 200,000 lines, START, END and REPORT, less the 2,000 kept.
    assert_eq!(lines[1000], "[lambda-ci: 198003 lines omitted]");
    assert!(lines[1001].starts_with("flood line 199003 of 200000 "));
    assert!(lines[1998].starts_with("flood line 200000 of 200000 "));
    assert!(lines[1999].starts_with("END RequestId: "));
}

// Regression: a 30 MB line was held whole and printed cut at 12 MB; a kept line holds its
// first 8 KiB and says how much more there was.
#[test]
fn a_30_mb_line_is_kept_cut_with_a_note_of_how_much() {
    let (out, cases) = reported("logs-lines.yaml");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let lines = case_logs(&cases[0]);
    let note = format!(
        "{}… [lambda-ci: {} more bytes of this line omitted]",
        "y".repeat(8192),
        31_457_280 - 8192
    );
    assert_eq!(lines[1], note);
    assert_eq!(lines[2], "after the long line");
}

// Regression: output with no final newline ran into RIE's END line (`writing to
// stdoutEND RequestId: …`), so a line check failed. lambda-ci's agent ends each unfinished
// write's line before the next one from the other stream, and keeps their order; RIE writes
// both to its stdout as they come, so there they share a line.
#[test]
fn output_without_a_final_newline_is_a_line_of_its_own() {
    let (out, cases) = reported("logs-lines.yaml");
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let lines = case_logs(&cases[1]);
    assert_eq!(
        lines[1..3],
        ["writing to stdout", "writing to stderr"],
        "{lines:?}"
    );
    assert!(lines[3].starts_with("END RequestId: "), "{lines:?}");

    let (out, cases) = run_reported_with("logs-lines.yaml", &["--runtime-api", "rie"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let lines = case_logs(&cases[1]);
    assert_eq!(lines[1], "writing to stdoutwriting to stderr");
    assert!(lines[2].starts_with("END RequestId: "), "{lines:?}");
}

// Regression: `logs:` checks saw only the 2,000 kept lines; they see every line of a flood,
// and say how many there were.
#[test]
fn logs_checks_fail_on_lines_the_report_leaves_out() {
    let out = run(&[fixture("logs-cut.yaml")], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let quoted = format!("flood line 150000 of 200000 {}", "x".repeat(160));
    for expected in [
        format!(
            "logs-cut.yaml:13:24: logs not_contains: a line holds \"flood line 150000 of\": \"{quoted}\""
        ),
        "logs-cut.yaml:14:20: logs contains: no line of the invocation's 200003 log lines holds \"no such line\"".to_string(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in\n{text}");
    }
}

// Regression: a timed-out case's logs carried RIE's `[ERROR] (rapid)` and `[WARNING] (rapid)`
// lines, and not what the service logs for a timeout: a REPORT ending `Status: timeout`, and
// no `Task timed out` line (the service stopped writing it); under RIE, the older service's
// `<time> <id> Task timed out after N.NN seconds` line before END.
#[test]
fn a_timeout_is_logged_as_the_service_logs_it_without_rie_diagnostics() {
    let (out, cases) = reported("logs-timeout.yaml");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let timed_out = case_logs(&cases[0]);
    let report = timed_out.last().unwrap();
    assert!(report.starts_with("REPORT RequestId: "), "{timed_out:?}");
    assert!(report.ends_with("\tStatus: timeout"), "{report:?}");
    assert!(
        timed_out.iter().all(|l| !l.contains("Task timed out")),
        "{timed_out:?}"
    );
    assert!(timed_out.contains(&"going to sleep"), "{timed_out:?}");

    let (out, cases) = run_reported_with("logs-timeout.yaml", &["--runtime-api", "rie"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let timed_out = case_logs(&cases[0]);
    let report = timed_out.last().unwrap();
    assert!(report.ends_with("\tStatus: timeout"), "{report:?}");
    let line = regex::Regex::new(
        r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z [0-9a-f-]{36} Task timed out after 1\.\d{2} seconds$",
    )
    .unwrap();
    let at = timed_out.iter().position(|l| line.is_match(l));
    let end = timed_out
        .iter()
        .position(|l| l.starts_with("END RequestId:"));
    assert!(at.is_some() && at < end, "{timed_out:?}");
    for case in &cases {
        assert!(
            case_logs(case).iter().all(|l| !l.contains("(rapid)")),
            "{:?}",
            case_logs(case)
        );
    }
}

// Regression: windows were cut on the text `START RequestId:` / `REPORT RequestId:`, so a
// function that printed them shifted every later case on its container by one invocation (their
// `logs:` checks judged another case's lines) and its fake `Duration: 1.00 ms` became its
// duration. The agent's own lines carry a mark the function cannot know.
#[test]
fn a_function_printing_the_platforms_lines_cannot_shift_later_cases_logs() {
    let (out, cases) = run_reported_with("logs-spoof.yaml", &["-j", "1"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "4 passed, 0 failed");
    let spoofer = case_logs(&cases[0]);
    assert!(spoofer.contains(&"said zero"), "{spoofer:?}");
    // Its printed lines are kept as what they are: the function's output.
    assert!(
        spoofer[1].starts_with("END RequestId: 00000000-"),
        "{spoofer:?}"
    );
    assert!(!spoofer.last().unwrap().contains("00000000-"));
    let duration = cases[0]["handler_duration_ms"].as_f64().unwrap();
    assert!(
        duration >= 300.0,
        "the fake REPORT's 1.00 ms was taken: {duration}"
    );
    for (case, word) in cases[1..].iter().zip(["one", "two", "three"]) {
        let lines = case_logs(case);
        assert!(lines[0].starts_with("START RequestId: "), "{lines:?}");
        assert_eq!(lines[1], format!("said {word}"), "{lines:?}");
        assert!(lines.last().unwrap().starts_with("REPORT RequestId: "));
    }
}
