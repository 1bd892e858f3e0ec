//! lambda-ci's agent in place of RIE, with the real Python runtime client (awslambdaric) in
//! the stand-in image: outcomes as the service says them, a reset in the same container, the
//! extensions' events, and the binary itself, which needs no C library.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

#[test]
fn a_returned_error_shaped_document_is_a_success_as_in_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let suite = python_suite(
        dir.path(),
        "shaped",
        "  handler: app.error_shaped\n",
        "  - name: returns a document shaped like an error\n    expect:\n      response: {errorType: X, errorMessage: y}\n",
    );
    let out = run(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "1 passed, 0 failed");
    // RIE's answer says nothing of how the handler ended: it is judged by its shape.
    let out = run(&[suite], &["--runtime-api", "rie"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("expected success, the function failed with X: y"),
        "{text}"
    );
}

#[test]
fn a_timeout_resets_the_runtime_in_the_same_container_and_tmp_stays() {
    let dir = tempfile::tempdir().unwrap();
    let suite = python_suite(
        dir.path(),
        "reset",
        "  handler: app.remember\n  timeout: 1\n",
        "  - name: first\n    expect:\n      response_contains: {process: 1, tmp: 1}\n\
         \x20 - name: sleeps past the timeout\n    event: {sleep: 3}\n    expect:\n      error: {type: Sandbox.Timedout, message: Task timed out after 1.00 seconds}\n\
         \x20 - name: a new runtime, the same /tmp\n    expect:\n      response_contains: {process: 1, tmp: 3}\n",
    );
    let (out, cases) = run_reported(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The container's hostname: the same container served before and after the timeout.
    assert_eq!(cases[0]["response"]["host"], cases[2]["response"]["host"]);
    let timed_out = case_logs(&cases[1]);
    assert!(
        timed_out.last().unwrap().ends_with("\tStatus: timeout"),
        "{timed_out:?}"
    );
    // The next invocation initialised the runtime again: its REPORT says how long that took.
    assert!(cases[2]["timings"]["init_ms"].is_number(), "{}", cases[2]);
    // Regression: START came before INIT_START; the service logs the init first, and the
    // case's logs keep it.
    let again = case_logs(&cases[2]);
    assert!(
        again[0].starts_with("INIT_START Runtime Version: python:3.11"),
        "{again:?}"
    );
    let start = again
        .iter()
        .position(|l| l.starts_with("START RequestId: "));
    assert!(start.is_some_and(|at| at > 0), "{again:?}");
    assert!(
        again.last().unwrap().starts_with("REPORT RequestId: "),
        "{again:?}"
    );
}

#[test]
fn a_runtime_that_exits_is_a_runtime_exit_error_with_its_status() {
    let out = run(&[fixture("crash.yaml")], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(
        text.matches("Runtime.ExitError: RequestId: ").count(),
        4,
        "{text}"
    );
    assert!(
        text.contains("Error: Runtime exited with error: exit status 3"),
        "{text}"
    );
    assert!(!text.contains("HTTP 502"), "{text}");
}

#[test]
fn a_response_over_the_limit_is_function_response_size_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let suite = python_suite(
        dir.path(),
        "large",
        "  handler: app.too_large\n",
        "  - name: answers 7 MB\n    expect:\n      error: {type: Function.ResponseSizeTooLarge, message: Response payload size exceeded maximum allowed payload size (6291556 bytes).}\n",
    );
    let (out, cases) = run_reported(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The runtime was told 413, as the service tells it.
    let logs = case_logs(&cases[0]);
    assert!(
        logs.iter().any(|l| l.contains("RequestEntityTooLarge")),
        "{logs:?}"
    );
}

#[test]
fn an_external_extension_gets_invoke_and_shutdown_and_starts_again_after_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    let suite = python_suite(
        dir.path(),
        "watched",
        &format!(
            "  handler: app.remember\n  timeout: 1\n  layers: [{}]\n",
            fixture("functions/shutdown-layer").display()
        ),
        "  - name: first\n\
         \x20 - name: sleeps past the timeout\n    event: {sleep: 3}\n    expect:\n      error: {type: Sandbox.Timedout}\n\
         \x20 - name: after the reset\n",
    );
    let (out, cases) = run_reported(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for case in &cases {
        let id = case["request_id"].as_str().unwrap();
        let invoked = format!("[watcher] invoke \"requestId\":\"{id}\"");
        assert!(
            case_logs(case).contains(&invoked.as_str()),
            "{invoked} in {:?}",
            case_logs(case)
        );
    }
    let timed_out = case_logs(&cases[1]);
    let told = "[watcher] shutdown \"shutdownReason\":\"timeout\"";
    let end = timed_out
        .iter()
        .position(|l| l.starts_with("END RequestId:"));
    let at = timed_out.iter().position(|l| *l == told);
    assert!(at.is_some() && at < end, "{timed_out:?}");
    // The extension is started again by the invocation after the reset, and logged as ready.
    let after = case_logs(&cases[2]);
    assert!(after.contains(&"[watcher] registered"), "{after:?}");
    assert!(
        after.contains(&"EXTENSION\tName: watcher\tState: Ready\tEvents: [INVOKE, SHUTDOWN]"),
        "{after:?}"
    );
}

/// A copy of the agent a run wrote (a `--keep` run keeps it with its containers, which are
/// removed here).
fn written_agent(to: &Path) -> PathBuf {
    let kept = run_kept(&fixture("pass.yaml"), &[]);
    assert_eq!(kept.out.status.code(), Some(0), "{}", stdout(&kept.out));
    for container in &kept.kept {
        let _ = Command::new("docker")
            .args(["rm", "-f", container])
            .output();
    }
    let dir = std::fs::read_dir(kept.temp.path())
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("lambda-ci-agent-")
        })
        .expect("a run writes the agent");
    let copy = to.join("agent");
    std::fs::copy(dir.path().join("lambda-ci-agent"), &copy).unwrap();
    copy
}

#[test]
fn the_agent_runs_in_an_image_with_no_c_library_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let agent = written_agent(dir.path());
    // An image of the agent alone: no libc, no loader, no shell.
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_path_with_name(&agent, "agent").unwrap();
    let tar = tar.into_inner().unwrap();
    let image = format!("lambda-ci-test/agent-alone:{}", std::process::id());
    let mut import = Command::new("docker")
        .args(["import", "-", &image])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(import.stdin.as_mut().unwrap(), &tar).unwrap();
    drop(import.stdin.take());
    assert!(import.wait().unwrap().success());
    let ran = Command::new("docker")
        .args(["run", "--rm", &image, "/agent", "--version"])
        .output()
        .unwrap();
    let _ = Command::new("docker").args(["rmi", "-f", &image]).output();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        format!("lambda-ci-agent {}", env!("CARGO_PKG_VERSION"))
    );
}

/// Runs `app.telemetry_seen` with the recorder extension's layer (and `function` keys), on
/// `cases`, which must pass; the report's cases.
fn observed(function: &str, cases: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let layer = fixture("functions/telemetry-layer");
    let function = format!(
        "  handler: app.telemetry_seen\n  layers: [{}]\n{function}",
        layer.display()
    );
    let suite = python_suite(dir.path(), "observed", &function, cases);
    let (out, cases) = run_reported(std::slice::from_ref(&suite), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    cases
}

#[test]
fn a_telemetry_extension_is_sent_platform_and_function_records() {
    let cases = observed(
        "",
        "  - name: first\n  - name: what the extension was sent\n    event: {wait: true}\n",
    );
    let kinds = [
        "platform.initStart",
        "platform.initRuntimeDone",
        "platform.initReport",
        "platform.start",
        "platform.runtimeDone",
        "platform.report",
        "function",
    ];
    assert_telemetry_seen(&cases[1]["response"], &kinds, &cases[0]);
}

#[test]
fn a_telemetry_listener_that_refuses_costs_the_function_nothing_and_the_logs_say_what_was_dropped()
{
    let cases = observed(
        "  timeout: 10\n  environment: {RECORDER_LISTENER: none}\n",
        "  - name: first\n  - name: waits\n    event: {wait: true}\n  - name: waits again\n    event: {wait: true}\n",
    );
    // Nothing reached the extension, and every case answered as if it had.
    for case in &cases {
        assert_eq!(case["verdict"], "pass", "{case:#}");
        assert_eq!(case["response"]["types"], serde_json::json!([]), "{case:#}");
    }
    let logs: Vec<&str> = cases.iter().flat_map(case_logs).collect();
    let note = logs
        .iter()
        .find(|l| l.contains("telemetry record"))
        .unwrap_or_else(|| panic!("no note of the dropped records in {logs:#?}"));
    assert!(
        note.starts_with("lambda-ci: ")
            && note.contains("for extension recorder dropped: its listener at http://sandbox.localdomain:4243/ did not take them after 5 tries (")
            && note.to_lowercase().contains("refused"),
        "{note}"
    );
}

#[test]
fn the_runtime_api_answers_as_the_service_does() {
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "protocol",
        ("provided.al2023", &fixture("functions/protocol")),
        "  handler: bootstrap\n",
        "  - name: wrong id, reply, second reply\n    expect:\n      assert:\n        - {path: $.deadline, matches: '^1[0-9]{12}$'}\n        - {path: $.arn, equals: \"arn:aws:lambda:us-east-1:012345678912:function:protocol\"}\n      logs:\n        contains:\n          - 'wrong id: 400 {\"errorMessage\":\"Invalid request ID\",\"errorType\":\"InvalidRequestID\"}'\n          - 'first: 202 {\"status\":\"OK\"}'\n          - 'second: 403 {\"errorMessage\":\"State transition from RuntimeResponseSent to InvocationResponse failed for runtime. Error: State transition is not allowed\",\"errorType\":\"InvalidStateTransition\"}'\n",
    );
    let (out, cases) = run_reported(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The deadline is the invocation's start plus the function's 3 s, in epoch milliseconds.
    let deadline: u64 = cases[0]["response"]["deadline"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        deadline > now - 60_000 && deadline < now + 3_000,
        "{deadline} vs {now}"
    );
}

#[test]
fn a_runtime_that_never_asks_for_the_next_event_is_reset_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "stuck",
        ("provided.al2023", &fixture("functions/stuck")),
        "  handler: bootstrap\n  timeout: 1\n",
        "  - name: answered, then stuck\n    expect:\n      response: {answered: true}\n\
         \x20 - name: answered again by a new runtime\n    expect:\n      response: {answered: true}\n      logs: {contains: [answered, now hanging]}\n",
    );
    let started = std::time::Instant::now();
    let (out, cases) = run_reported(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The caller had its answer at /response; the invocation ran out its time, as REPORT says.
    let first = case_logs(&cases[0]);
    assert!(
        first.last().unwrap().ends_with("\tStatus: timeout"),
        "{first:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
