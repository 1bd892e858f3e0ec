//! Function faults the other tests do not make: a segfault, a child process that keeps
//! printing after the response, a container paused from outside mid-case. Each is a named
//! outcome, and the run goes on.

mod common;

use std::time::{Duration, Instant};

use common::*;

#[test]
fn a_segfault_is_a_runtime_exit_error_and_the_next_case_runs_in_the_same_container() {
    let dir = tempfile::tempdir().unwrap();
    let crash = python_suite(
        dir.path(),
        "crash",
        "  handler: app.segfault\n",
        "  - name: segfaults\n    expect:\n      error: {type: Runtime.ExitError, message: /segmentation fault/}\n  - name: after the crash\n    event: {after: true}\n    expect:\n      response_contains: {same_container: true}\n",
    );
    let then = python_suite(
        dir.path(),
        "then",
        "  handler: app.count\n",
        "  - name: after\n",
    );
    let (out, cases) = run_reported(std::slice::from_ref(&crash), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert_eq!(cases[0]["verdict"], "pass", "{text}");
    let message = cases[0]["outcome"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("signal: segmentation fault"),
        "{:#}",
        cases[0]
    );
    // The next case ran in the same container (its /tmp holds the crashed invocation's mark),
    // in a runtime started anew.
    assert_eq!(cases[1]["verdict"], "pass", "{text}");
    assert!(cases[1]["timings"]["init_ms"].is_number(), "{:#}", cases[1]);
    // Another suite of the run goes on as if nothing happened.
    let out = run(&[crash, then], &[]);
    assert_summary(&stdout(&out), "3 passed, 0 failed");
}

#[test]
fn a_process_left_running_after_the_response_is_named_and_resumes_only_in_invocations() {
    let dir = tempfile::tempdir().unwrap();
    // The first case forks a child that prints ten lines 100 ms apart, and answers at once.
    let suite = python_suite(
        dir.path(),
        "orphan",
        "  handler: app.orphan\n",
        "  - name: forks\n  - name: next\n    event: {fork: false, wait: 0.3}\n  - name: last\n    event: {fork: false, wait: 0.3}\n",
    );
    let (out, cases) = run_reported(&[suite], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let logs: Vec<Vec<&str>> = cases.iter().map(case_logs).collect();
    let said = |logs: &[&str], what: &str| logs.iter().any(|l| l.contains(what));
    assert!(
        said(
            &logs[0],
            "lambda-ci: the handler left 1 process running after its response (pid "
        ) && said(&logs[0], "/bin/sh -c for i in"),
        "{:#?}",
        logs[0]
    );
    // Frozen after each invocation, it resumes in the next one, whose logs say so.
    for later in &logs[1..] {
        assert!(
            said(later, "an earlier invocation left running resume"),
            "{later:#?}"
        );
        let before_end = later
            .iter()
            .position(|l| l.starts_with("END RequestId:"))
            .unwrap();
        let resumed = later.iter().position(|l| l.contains(" now (pid ")).unwrap();
        assert!(resumed < before_end, "{later:#?}");
    }
}

#[test]
fn a_container_paused_from_outside_mid_case_is_an_error_and_the_next_case_gets_a_fresh_one() {
    let dir = tempfile::tempdir().unwrap();
    let suite = python_suite(
        dir.path(),
        "paused",
        "  handler: app.marked_sleep\n  timeout: 2\n",
        "  - name: paused mid-case\n    event: {seconds: 1}\n  - name: next\n    event: {seconds: 0}\n    expect:\n      response: {mark_was_there: false}\n",
    );
    let watched = suite.clone();
    let pauser = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            // Paused once its invocation is in flight: paused while it boots, it would fail the
            // boot, and with it every case of the suite.
            let in_flight = containers_of(&watched).first().cloned().filter(|id| {
                let logs = std::process::Command::new("docker")
                    .args(["logs", id])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&logs.stdout).contains("START RequestId:")
            });
            if let Some(id) = &in_flight {
                std::thread::sleep(Duration::from_millis(200));
                let paused = std::process::Command::new("docker")
                    .args(["pause", id])
                    .output()
                    .unwrap();
                assert!(paused.status.success(), "{}", stderr(&paused));
                return id.clone();
            }
            assert!(Instant::now() < deadline, "no container to pause");
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let (out, cases) = run_reported(&[suite], &[]);
    let paused = pauser.join().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert_eq!(cases[0]["verdict"], "error", "{:#}", cases[0]);
    // The host's deadline passed with no answer: the connection, not the function, failed.
    assert_eq!(cases[0]["error_kind"], "transport", "{:#}", cases[0]);
    assert_eq!(cases[1]["error_kind"], serde_json::Value::Null);
    // The next case ran in a fresh container: its /tmp has no mark of the first case's.
    assert_eq!(cases[1]["verdict"], "pass", "{:#}", cases[1]);
    // The paused container was removed with the run.
    let inspected = std::process::Command::new("docker")
        .args(["inspect", &paused])
        .output()
        .unwrap();
    assert!(!inspected.status.success(), "{paused} is left");
}
