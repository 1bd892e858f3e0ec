//! End-to-end tests of what a run reports: every kind of outcome, the console and JUnit, and
//! input errors, driving the real binary against the real engine and RIE.

mod common;

use common::*;

#[test]
fn example_suites_in_cases_pass() {
    // A directory: the leftover check in `run` must hold for suites found inside it. Under
    // lambda-ci's agent (the default) and under the base image's RIE alike.
    let cases = root().join("cases");
    for extra in [&[][..], &["--runtime-api", "rie"]] {
        let out = run(std::slice::from_ref(&cases), extra);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{extra:?}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        assert_summary(
            &stdout(&out),
            &format!("{} passed, 0 failed", example_cases()),
        );
    }
}

#[test]
fn every_kind_of_mismatch_fails_with_its_path_and_diff() {
    let out = run(&[fixture("mismatch.yaml")], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for expected in [
        r#"$.body: expected "Hello, Ada", got "Hello, Bob""#,
        "$.b: missing (expected 2)",
        "$.c: unexpected key (got 3)",
        "$.n: expected a number, got a string",
        "$.items: expected 3 elements, got 2",
        "$.statusCode: expected 200, got 500",
        "expected the function to fail with ValueError, it succeeded",
        "-  \"body\": \"Hello, Ada\"",
        "+  \"body\": \"Hello, Bob\"",
        "mismatch.yaml:10:7: the response does not match",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert_summary(&text, "0 passed, 7 failed");
}

#[test]
fn expected_errors_and_unexpected_errors() {
    let out = run(&[fixture("raises.yaml")], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("FAIL  expected success got error"), "{text}");
    assert!(
        text.contains("expected success, the function failed with ValueError: boom"),
        "{text}"
    );
    assert!(
        text.contains("-ValueError: kaboom\n        +ValueError: boom"),
        "{text}"
    );
    assert!(text.contains("PASS  right error"), "{text}");
    // The traceback the runtime printed is shown with the failing case.
    assert!(text.contains("raise ValueError"), "{text}");
    assert_summary(&text, "1 passed, 2 failed");
}

#[test]
fn a_timeout_fails_its_case_and_the_next_case_runs() {
    let out = run(&[fixture("timeout.yaml")], &[]);
    let text = stdout(&out);
    assert!(
        text.contains("the function timed out: Task timed out after 1.00 seconds"),
        "{text}"
    );
    assert!(text.contains("PASS  quick after a timeout"), "{text}");
    assert_summary(&text, "1 passed, 1 failed");
}

#[test]
fn a_bad_handler_is_an_init_error() {
    // As the service answers it: the runtime's `/init/error`, served to the invocation.
    let out = run(&[fixture("init-error.yaml")], &[]);
    let text = stdout(&out);
    assert!(
        text.contains("expected success, the function failed with Runtime.ImportModuleError: Unable to import module 'nope'"),
        "{text}"
    );
    assert!(text.contains("PASS  init error is expected"), "{text}");
    // Said first at the `handler:` line, before anything runs.
    assert!(
        stderr(&out).contains("init-error.yaml:3:12: `handler: nope.handler`: the code has no nope.py nor nope/__init__.py"),
        "{}",
        stderr(&out)
    );
    // A file that defines another function: named, with what it defines.
    let (_dir, wrong) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.lambda_handler\n  code: CODE\ncases:\n  - name: a\n    expect:\n      error: {type: Runtime.HandlerNotFound}\n",
    );
    let out = run(&[wrong], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{}{err}", stdout(&out));
    assert!(
        err.contains(":3:12: `handler: app.lambda_handler`: app.py never names `lambda_handler`; the runtime will fail with Runtime.HandlerNotFound"),
        "{err}"
    );
    assert!(err.contains("app.py defines: echo, count,"), "{err}");
    // RIE answers it with HTTP 502.
    let out = run(&[fixture("init-error.yaml")], &["--runtime-api", "rie"]);
    let text = stdout(&out);
    assert!(
        text.contains("the runtime failed (HTTP 502): Runtime.ImportModuleError: Unable to import module 'nope'"),
        "{text}"
    );
    assert!(text.contains("PASS  init error is expected"), "{text}");
}

#[test]
fn layers_environment_and_text_responses() {
    let out = run(
        &[
            fixture("layer-env.yaml"),
            fixture("env.yaml"),
            fixture("text.yaml"),
        ],
        &[],
    );
    let text = stdout(&out);
    assert!(text.contains("PASS  imports from the layer"), "{text}");
    assert!(text.contains("PASS  sees its environment"), "{text}");
    assert!(text.contains("PASS  text matches"), "{text}");
    assert!(
        text.contains("-other words\n        +plain words"),
        "{text}"
    );
    assert_summary(&text, "3 passed, 1 failed");
}

#[test]
fn twenty_cases_share_one_warm_container() {
    // Each case expects the invocation count of one runtime process: 1, 2, ... 20.
    let out = run(&[fixture("twenty.yaml")], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "20 passed, 0 failed");
    assert_eq!(
        text.matches("booting").count(),
        0,
        "progress goes to stderr"
    );
    assert_eq!(
        stderr(&out).matches("booting twenty").count(),
        1,
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_crashing_runtime_and_an_oom_kill_are_failures_and_the_next_case_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let suites = [
        fixture("crash.yaml"),
        fixture("oom.yaml"),
        fixture("killed.yaml"),
    ];
    let out = run(&suites, &["--json", json.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(text.matches("Runtime.ExitError").count() >= 2, "{text}");
    assert!(text.contains("exit status 3"), "{text}");
    assert!(text.contains("FAIL  and again"), "{text}");
    // Out of memory for certain, from the engine's `oom` event; a SIGKILL of another kind is not.
    assert!(text.contains("signal: killed; out of memory: the engine killed the runtime for exceeding the function's `memory`"), "{text}");
    assert!(text.contains("signal: killed; the runtime was killed by SIGKILL, and the engine reported no out-of-memory"), "{text}");
    assert_summary(&text, "0 passed, 4 failed");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let oom =
        |suite: usize| report["suites"][suite]["cases"][0]["outcome"]["out_of_memory"].clone();
    assert_eq!(oom(1), serde_json::json!(true));
    assert_eq!(oom(2), serde_json::Value::Null);
}

#[test]
fn a_missing_image_errors_its_suite_and_the_others_still_run() {
    let out = run(&[fixture("missing-image.yaml"), fixture("pass.yaml")], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("image public.ecr.aws/lambda/ruby:3.3 is not present locally and --pull never forbids pulling it"),
        "{text}"
    );
    assert!(text.contains("PASS  echoes"), "{text}");
    assert_summary(&text, "1 passed, 0 failed, 2 errors");
}

#[test]
fn an_image_that_cannot_be_pulled_names_the_image() {
    // No registry is reachable from the test machines: the pull itself fails.
    let out = run(&[fixture("missing-image.yaml")], &["--pull", "missing"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("image public.ecr.aws/lambda/ruby:3.3 could not be pulled: "),
        "{text}"
    );
    assert!(
        text.contains("the engine cannot reach public.ecr.aws (no network, DNS or a proxy)"),
        "{text}"
    );
    assert_summary(&text, "0 passed, 0 failed, 2 errors");
}

#[test]
fn junit_is_well_formed_for_hostile_logs_and_counts_every_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    let suites = [
        fixture("hostile-logs.yaml"),
        fixture("mismatch.yaml"),
        fixture("missing-image.yaml"),
        fixture("pass.yaml"),
    ];
    let out = run(&suites, &["--junit", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&report).unwrap();
    // roxmltree is a strict parser: any ill-formed byte fails here.
    let doc =
        roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("ill-formed JUnit: {e}\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("11"));
    assert_eq!(root.attribute("failures"), Some("8"));
    assert_eq!(root.attribute("errors"), Some("2"));
    let testsuites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(testsuites.len(), 4);
    assert_eq!(
        testsuites[1].attribute("name"),
        Some(suites[1].to_str().unwrap())
    );
    let case = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("no testcase {name}"))
    };
    let wrong = case("wrong value");
    assert_eq!(wrong.attribute("file"), Some(suites[1].to_str().unwrap()));
    assert_eq!(wrong.attribute("line"), Some("7"));
    assert_eq!(wrong.attribute("classname"), Some("mismatch"));
    let failure = wrong
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure
            .text()
            .unwrap()
            .contains("+  \"body\": \"Hello, Bob\"")
    );
    assert!(
        failure
            .attribute("message")
            .unwrap()
            .contains("mismatch.yaml:10")
    );
    assert!(
        case("never runs")
            .children()
            .any(|n| n.has_tag_name("error"))
    );
    let logs = case("logs that break XML")
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap()
        .to_string();
    assert!(logs.contains("]]>") && logs.contains("<tag> &"), "{logs}");
    assert!(logs.contains("invalid utf-8"), "{logs}");
    assert!(
        !logs.contains('\u{1b}'),
        "escape bytes must not reach the XML"
    );
    assert!(
        case("echoes")
            .children()
            .all(|n| !n.has_tag_name("failure") && !n.has_tag_name("error"))
    );
}

#[test]
fn invalid_suites_exit_2_with_every_problem_and_its_line() {
    let typos = fixture("bad/typos.yaml");
    let out = run(
        &[
            typos.clone(),
            fixture("bad/syntax.yaml"),
            fixture("bad/no-bootstrap.yaml"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let t = typos.display();
    for expected in [
        format!("error: {t}:10:12: unknown runtime `python3.99`"),
        format!(
            "error: {t}:16:7: unknown field `respnse` in `expect`\n  hint: did you mean `response`?"
        ),
        format!("error: {t}:17:5: duplicate case name `a`"),
        "syntax.yaml:8:11: invalid YAML: unclosed bracket".to_string(),
        "no-bootstrap.yaml:7:9: `code` has no `bootstrap`".to_string(),
        "5 problems in the suites; nothing was run".to_string(),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in\n{err}");
    }
    assert!(stdout(&out).is_empty());
}

#[test]
fn missing_paths_and_bad_flags_exit_2() {
    let out = run(&[fixture("nowhere.yaml")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nowhere.yaml: no such file or directory"),
        "{}",
        stderr(&out)
    );
    let out = lambda_ci()
        .args(["run", "--pull", "sometimes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = lambda_ci()
        .args(["run", "--junit", "/nonexistent/dir/r.xml"])
        .arg(fixture("pass.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("directory /nonexistent/dir does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unreachable_docker_engine_exits_3() {
    let out = lambda_ci()
        .env("DOCKER_HOST", "unix:///nonexistent")
        .args(["run"])
        .arg(fixture("pass.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("error: cannot reach the Docker engine at unix:///nonexistent"),
        "{err}"
    );
    assert!(err.contains("hint: is the engine running"), "{err}");
}

#[test]
fn an_engine_that_never_answers_exits_3_after_its_timeout_and_a_bad_timeout_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("silent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // Takes every connection and answers none.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for client in listener.incoming() {
            held.push(client);
        }
    });
    let mut run = lambda_ci();
    run.args(["run"]).arg(fixture("pass.yaml"));
    let err = refused(
        run.env("DOCKER_HOST", format!("unix://{}", socket.display()))
            .env("LAMBDA_CI_ENGINE_TIMEOUT", "2"),
        3,
    );
    assert!(
        err.contains("the Docker engine did not answer within 2 s: is it overloaded or stuck? (`docker info` says; set LAMBDA_CI_ENGINE_TIMEOUT to wait longer)"),
        "{err}"
    );
    let err = refused(run.env("LAMBDA_CI_ENGINE_TIMEOUT", "soon"), 2);
    assert!(
        err.contains(
            "LAMBDA_CI_ENGINE_TIMEOUT is \"soon\", not a number of seconds from 1 to 3600"
        ),
        "{err}"
    );
}

#[test]
fn an_engine_socket_this_user_may_not_use_exits_3_with_the_fix() {
    use std::os::unix::process::CommandExt;
    // Root may use any socket: the run is made as nobody then.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to run lambda-ci as another user");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("lambda-ci");
    std::fs::copy(env!("CARGO_BIN_EXE_lambda-ci"), &binary).unwrap();
    let suite = dir.path().join("suite.yaml");
    std::fs::write(
        &suite,
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: .\ncases:\n  - name: a\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(&binary)
        .env_clear()
        .env("NO_COLOR", "1")
        .env("HOME", dir.path())
        .args(["run", "--pull", "never"])
        .arg(&suite)
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("caused by: Permission denied (os error 13)"),
        "{err}"
    );
    assert!(
        err.contains("hint: the engine's socket is there, but this user may not use it: add the user to the `docker` group"),
        "{err}"
    );
}

#[test]
fn a_runtime_that_cannot_start_fails_every_case_and_shows_why() {
    // lambda-ci's agent stays up: every invocation tries to start the runtime again, as the
    // service does, and answers with the way it ended.
    let out = run(&[fixture("no-handler.yaml")], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(text.matches("FAIL").count(), 2, "{text}");
    assert!(
        text.matches("Runtime.ExitError: RequestId: ").count() >= 2
            && text.contains("Error: Runtime exited with error: exit status 142"),
        "{text}"
    );
    assert!(
        text.contains("entrypoint requires the handler name to be the first argument"),
        "{text}"
    );
    assert_summary(&text, "0 passed, 2 failed");
}

#[test]
fn a_container_that_exits_at_start_errors_every_case_and_shows_why() {
    // Under RIE the entrypoint's exit ends the container.
    let out = run(&[fixture("no-handler.yaml")], &["--runtime-api", "rie"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(
        text.matches("the container exited during start with code 142")
            .count(),
        2 + 2,
        "{text}"
    );
    // The entrypoint's own words reach the user once, with the first case.
    assert_eq!(
        text.matches("entrypoint requires the handler name to be the first argument")
            .count(),
        1,
        "{text}"
    );
    assert_summary(&text, "0 passed, 0 failed, 2 errors");
}
