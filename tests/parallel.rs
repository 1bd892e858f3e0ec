//! End-to-end tests of parallel runs: suites side by side under `--jobs`, pools of containers
//! under `concurrency:`, cold isolation, and cancellation while several containers run.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn py() -> PathBuf {
    fixture("functions/py")
}

/// `text` with what differs from run to run masked: times, request ids, run ids, ports.
fn masked(text: &str) -> String {
    let patterns = [
        (r"\d+(\.\d+)? ?(ms|s)\b", "T"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "ID",
        ),
        (r#"(timestamp|time|hostname|value)="[^"]*""#, "$1=\"X\""),
        (r"lambda-ci-[0-9a-f]{12}", "RUN"),
        (r"Max Memory Used: \d+ MB", "MEM"),
    ];
    let mut out = text.to_string();
    for (pattern, with) in patterns {
        out = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

/// A JSON report without what differs from run to run: timings, ids, timestamps.
fn untimed(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                let varies = key.ends_with("_ms")
                    || ["id", "request_id", "started_at"].contains(&key.as_str());
                if varies {
                    *value = serde_json::Value::Null;
                } else {
                    untimed(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(untimed),
        serde_json::Value::String(s) => *s = masked(s),
        _ => {}
    }
}

fn several_suites(dir: &Path) -> Vec<PathBuf> {
    let mut suites = Vec::new();
    for i in 0..5 {
        suites.push(write_suite(
            dir,
            &format!("echo{i}"),
            ("python3.11", &py()),
            "  handler: app.echo\n",
            &format!(
                "  - name: passes\n    event: {{n: {i}}}\n    expect:\n      response: {{n: {i}}}\n\
                 \x20 - name: fails\n    event: {{n: {i}}}\n    expect:\n      response: {{n: -1}}\n\
                 \x20 - name: raises\n    event: {{n: {i}}}\n    expect:\n      error: {{type: Nope}}\n"
            ),
        ));
    }
    suites.push(write_suite(
        dir,
        "node",
        ("nodejs22.x", &fixture("functions/node")),
        "  handler: index.echo\n",
        "  - name: answers\n",
    ));
    suites
}

// Regression guard for the dispatcher's ordering: however many containers run at once, every
// report reads as if the suites ran one after another in the order given.
#[test]
fn many_suites_report_the_same_with_j4_as_with_j1() {
    let dir = tempfile::tempdir().unwrap();
    let suites = several_suites(dir.path());
    let mut seen = Vec::new();
    for jobs in ["1", "4"] {
        let junit = dir.path().join(format!("j{jobs}.xml"));
        let json = dir.path().join(format!("j{jobs}.json"));
        let out = run(
            &suites,
            &[
                "-j",
                jobs,
                "--junit",
                junit.to_str().unwrap(),
                "--json",
                json.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let mut report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        report["run"]["settings"] = serde_json::Value::Null;
        untimed(&mut report);
        let report = serde_json::to_string_pretty(&report).unwrap();
        seen.push((
            masked(&stdout(&out)),
            masked(&std::fs::read_to_string(&junit).unwrap()),
            masked(&report),
        ));
    }
    let (one, four) = (&seen[0], &seen[1]);
    assert_summary(&one.0, "6 passed, 10 failed");
    assert_eq!(one.0, four.0, "console");
    assert_eq!(one.1, four.1, "JUnit");
    assert_eq!(one.2, four.2, "JSON");
}

// A pool never has two invocations in flight in one container: RIE would crash on the
// second, and the per-container counters would skip.
#[test]
fn a_pool_of_four_serves_200_cases_one_at_a_time_per_container() {
    let dir = tempfile::tempdir().unwrap();
    let cases: String = (0..200).map(|i| format!("  - name: call {i}\n")).collect();
    let suite = write_suite(
        dir.path(),
        "pooled",
        ("python3.11", &py()),
        "  handler: app.count\n",
        &cases,
    );
    let text = std::fs::read_to_string(&suite).unwrap();
    std::fs::write(&suite, text.replace("cases:\n", "concurrency: 4\ncases:\n")).unwrap();
    let json = dir.path().join("r.json");
    let out = run(&[suite], &["--json", json.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "200 passed, 0 failed");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // Keyed by the container's host name: every runtime may have the same pid.
    let mut calls: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for case in report["suites"][0]["cases"].as_array().unwrap() {
        let body = &case["outcome"]["body"]["value"];
        let host = body["host"].as_str().unwrap().to_string();
        calls
            .entry(host)
            .or_default()
            .push(body["call"].as_i64().unwrap());
        // START, the function's lines, END and REPORT of one invocation, nothing interleaved.
        let logs: Vec<&str> = case["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        let starts = logs.iter().filter(|l| l.starts_with("START")).count();
        let ends = logs.iter().filter(|l| l.starts_with("END")).count();
        assert_eq!((starts, ends), (1, 1), "{logs:?}");
        assert!(logs[0].starts_with("START"), "{logs:?}");
    }
    assert!(
        (2..=4).contains(&calls.len()),
        "containers used: {}",
        calls.len()
    );
    for (host, mut seen) in calls {
        seen.sort();
        let expected: Vec<i64> = (1..=seen.len() as i64).collect();
        assert_eq!(
            seen, expected,
            "container {host} counted its calls with gaps"
        );
    }
}

#[test]
fn a_cold_suite_boots_a_fresh_container_per_case_and_reports_init() {
    let dir = tempfile::tempdir().unwrap();
    let cold = write_suite(
        dir.path(),
        "cold",
        ("python3.11", &py()),
        "  handler: app.count\n",
        "  - name: first\n    expect:\n      response_contains: {call: 1}\n\
         \x20 - name: second\n    expect:\n      response_contains: {call: 1}\n\
         \x20 - name: third\n    expect:\n      response_contains: {call: 1}\n",
    );
    let text = std::fs::read_to_string(&cold).unwrap();
    std::fs::write(&cold, text.replace("cases:\n", "isolation: cold\ncases:\n")).unwrap();
    let warm = write_suite(
        dir.path(),
        "warm",
        ("python3.11", &py()),
        "  handler: app.count\n",
        "  - name: first\n    expect:\n      response_contains: {call: 1}\n\
         \x20 - name: second\n    expect:\n      response_contains: {call: 2}\n\
         \x20 - name: this one alone cold\n    isolation: cold\n    expect:\n      response_contains: {call: 1}\n\
         \x20 - name: after it a fresh one\n    expect:\n      response_contains: {call: 1}\n",
    );
    let json = dir.path().join("r.json");
    let out = run(&[cold, warm], &["--json", json.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "7 passed, 0 failed");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let inits: Vec<bool> = report["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["cases"].as_array().unwrap().clone())
        .map(|c| c["timings"]["init_ms"].is_number())
        .collect();
    assert_eq!(inits, [true, true, true, true, false, true, true]);
}

#[test]
fn fail_fast_under_j4_starts_nothing_after_the_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut suites = vec![write_suite(
        dir.path(),
        "fails",
        ("python3.11", &py()),
        "  handler: app.echo\n",
        "  - name: at once\n    expect:\n      response: {other: 1}\n",
    )];
    for i in 0..3 {
        let cases: String = (0..5)
            .map(|c| format!("  - name: sleeps {c}\n    event: {{seconds: 2}}\n"))
            .collect();
        suites.push(write_suite(
            dir.path(),
            &format!("slow{i}"),
            ("python3.11", &py()),
            "  handler: app.sleep\n  timeout: 10\n",
            &cases,
        ));
    }
    let out = run(&suites, &["--fail-fast", "-j", "4"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // Each slow pool was in its first case when the failure came; that case finishes.
    let passed = text.matches("  PASS  ").count();
    let skipped = text.matches("  SKIP  ").count();
    assert!(passed <= 3 && passed + skipped == 15, "{text}");
    assert!(skipped >= 12, "{text}");
    for suite in &suites {
        assert_eq!(containers_of(suite), Vec::<String>::new());
    }
}

#[test]
fn one_missing_image_errors_only_its_own_suites() {
    let dir = tempfile::tempdir().unwrap();
    let missing = write_suite(
        dir.path(),
        "missing",
        ("python3.11", &py()),
        "  image: lambda-ci/no-such-image:never\n  handler: app.echo\n",
        "  - name: cannot run\n",
    );
    let text = std::fs::read_to_string(&missing).unwrap();
    std::fs::write(&missing, text.replace("  runtime: python3.11\n", "")).unwrap();
    let fine = write_suite(
        dir.path(),
        "fine",
        ("python3.11", &py()),
        "  handler: app.echo\n",
        "  - name: runs\n",
    );
    let out = run(&[missing, fine], &["-j", "4"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_summary(&text, "1 passed, 0 failed, 1 error");
}

#[test]
fn sigterm_during_a_parallel_run_leaves_no_container() {
    let dir = tempfile::tempdir().unwrap();
    let suites: Vec<PathBuf> = (0..3)
        .map(|i| {
            write_suite(
                dir.path(),
                &format!("sleepy{i}"),
                ("python3.11", &py()),
                "  handler: app.sleep\n  timeout: 60\n",
                "  - name: sleeps\n    event: {seconds: 50}\n",
            )
        })
        .collect();
    let child = lambda_ci()
        .args(["run", "--pull", "never", "-j", "4"])
        .args(&suites)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while suites.iter().any(|s| containers_of(s).is_empty()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not all booted"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{}", stderr(&out));
    for suite in &suites {
        assert_eq!(containers_of(suite), Vec::<String>::new());
    }
}

// The GitHub log (groups, stopped commands, annotations worst first) and the job summary
// read the same whatever `-j` is.
#[test]
fn github_mode_reports_the_same_with_j4_as_with_j1() {
    let dir = tempfile::tempdir().unwrap();
    let suites = several_suites(dir.path());
    let token = regex::Regex::new(r"[0-9a-f]{32}").unwrap();
    let mut seen = Vec::new();
    for jobs in ["1", "4"] {
        let summary = dir.path().join(format!("summary-{jobs}.md"));
        let out = lambda_ci()
            .args(["run", "--pull", "never", "--reporter", "github", "-j", jobs])
            .args(&suites)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        let log = token.replace_all(&stdout(&out), "TOKEN").into_owned();
        seen.push((
            masked(&log),
            masked(&std::fs::read_to_string(&summary).unwrap()),
        ));
    }
    assert!(seen[0].0.contains("::group::"), "{}", seen[0].0);
    assert_eq!(seen[0].0, seen[1].0, "GitHub log");
    assert_eq!(seen[0].1, seen[1].1, "job summary");
    for suite in &suites {
        assert_eq!(containers_of(suite), Vec::<String>::new());
    }
}
