//! End-to-end tests of cleanup: whatever way a run ends — a signal, a panic, a killed
//! container, `--keep` — no container is left that the user did not ask to keep.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use lambda_ci::config::RunConfig;
use lambda_ci::docker::PullPolicy;
use lambda_ci::event::{Event, EventKind};
use lambda_ci::report::{Reporter, Reporters};

/// Waits until `suite` has a container with an invocation in flight, returning its id.
fn wait_for_container(suite: &Path) -> String {
    let started = Instant::now();
    loop {
        if let Some(id) = containers_of(suite).into_iter().next() {
            let logs = Command::new("docker").args(["logs", &id]).output().unwrap();
            if String::from_utf8_lossy(&logs.stdout).contains("START RequestId:") {
                return id;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no invocation started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `lambda-ci run` on `suite` in the background, its output captured.
fn spawn_run(suite: &Path) -> Child {
    lambda_ci()
        .args(["run", "--pull", "never"])
        .arg(suite)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn interrupt_mid_case(signal: &str, code: i32) {
    let (dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.sleep\n  code: CODE\n  layers: [CODE, CODE]\n  timeout: 30\ncases:\n  - name: sleeps\n    event: {seconds: 25}\n",
    );
    // Two layers are merged into a temporary directory, the agent is written to another.
    let temp = dir.path().join("tmp");
    std::fs::create_dir(&temp).unwrap();
    let child = lambda_ci()
        .env("TMPDIR", &temp)
        .args(["run", "--pull", "never"])
        .arg(&suite)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_container(&suite);
    let made = temp_left(&temp);
    assert!(
        made.iter().any(|n| n.starts_with("lambda-ci-agent-"))
            && made.iter().any(|n| n.starts_with("lambda-ci-opt-")),
        "{made:?}"
    );
    let killed = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("removing this run's containers"),
        "{}",
        stderr(&out)
    );
    assert!(
        containers_of(&suite).is_empty(),
        "containers left after {signal}"
    );
    assert_eq!(
        temp_left(&temp),
        Vec::<String>::new(),
        "temporary directories left after {signal}"
    );
}

#[test]
fn sigterm_mid_case_removes_the_container() {
    interrupt_mid_case("-TERM", 143);
}

#[test]
fn ctrl_c_mid_case_removes_the_container() {
    interrupt_mid_case("-INT", 130);
}

// Regression: a second Ctrl-C while the run stopped exited at once and left its containers
// (and network) behind; it now skips the reports, not the removal.
#[test]
fn a_second_ctrl_c_still_removes_the_runs_containers() {
    let (dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.sleep\n  code: CODE\n  timeout: 30\ncases:\n  - name: sleeps\n    event: {seconds: 25}\n  - name: never\n    event: {seconds: 0}\n",
    );
    let junit = dir.path().join("report.xml");
    let mut cmd = lambda_ci();
    cmd.args(["run", "--pull", "never", "--junit"])
        .arg(&junit)
        .arg(&suite);
    let mut run = Background::start(cmd);
    let id = wait_for_container(&suite);
    let inspected = Command::new("docker")
        .args(["inspect", "-f", "{{.HostConfig.NetworkMode}}", &id])
        .output()
        .unwrap();
    let network = stdout(&inspected).trim().to_string();
    assert!(network.starts_with("lambda-ci-"), "{network}");
    run.send_interrupt();
    run.wait_for("interrupted: ");
    let code = run.interrupt();
    let printed = run.printed();
    assert_eq!(code, Some(130), "{printed}");
    assert!(printed.contains("interrupted again: "), "{printed}");
    assert!(
        containers_of(&suite).is_empty(),
        "containers left:\n{printed}"
    );
    let gone = Command::new("docker")
        .args(["network", "inspect", &network])
        .output()
        .unwrap();
    assert!(!gone.status.success(), "network left:\n{printed}");
}

/// A reporter that fails while a container is booted and a case is in flight.
struct PanicsOnceReady;

impl Reporter for PanicsOnceReady {
    fn report(&mut self, event: &Event) {
        if matches!(event.kind, EventKind::ContainerReady { .. }) {
            panic!("a reporter failed with a container running");
        }
    }
}

#[test]
fn a_panic_removes_the_container() {
    // The panic is real and comes from the test's own reporter, so production code carries no
    // fault injection; the case sleeps so the container is live when it strikes.
    let (_dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.sleep\n  code: CODE\n  timeout: 30\ncases:\n  - name: sleeps\n    event: {seconds: 20}\n",
    );
    let config = RunConfig {
        paths: vec![suite.clone()],
        pull: PullPolicy::Never,
        reporter: lambda_ci::config::ReporterMode::Human,
        ..RunConfig::default()
    };
    let mut reporters = Reporters::default();
    reporters.push(PanicsOnceReady);
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let code = runtime
        .block_on(lambda_ci::run_with(config, reporters))
        .unwrap();
    assert_eq!(code, lambda_ci::exit::INTERNAL);
    assert!(containers_of(&suite).is_empty());
    // The run was this process: what it made in the temp root is named for its pid.
    let mine = format!("-{}-", std::process::id());
    let left: Vec<String> = temp_left(&std::env::temp_dir())
        .into_iter()
        .filter(|n| n.contains(&mine))
        .collect();
    assert_eq!(
        left,
        Vec::<String>::new(),
        "the panic left temporary directories"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the run was not stopped when its reporter failed"
    );
}

#[test]
fn a_container_killed_mid_case_is_an_error_and_the_next_case_gets_a_fresh_one() {
    let (_dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.sleep\n  code: CODE\n  timeout: 30\ncases:\n  - name: sleeps\n    event: {seconds: 20}\n  - name: quick\n    event: {seconds: 0}\n    expect:\n      response: {slept: true}\n",
    );
    let child = spawn_run(&suite);
    let id = wait_for_container(&suite);
    assert!(
        Command::new("docker")
            .args(["kill", &id])
            .output()
            .unwrap()
            .status
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("ERROR sleeps"), "{text}");
    assert!(
        text.contains("the container exited with code 137"),
        "{text}"
    );
    assert!(text.contains("PASS  quick"), "{text}");
    assert_summary(&text, "1 passed, 0 failed, 1 error");
    assert!(containers_of(&suite).is_empty());
}

#[test]
fn keep_leaves_the_container_running_and_says_how_to_reach_it() {
    let (_dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.echo\n  code: CODE\ncases:\n  - name: a\n",
    );
    let KeptRun {
        out,
        kept,
        temp: _temp,
        ..
    } = run_kept(&suite, &[]);
    let text = stdout(&out);
    let curl = text
        .lines()
        .find_map(|l| l.split_once(": curl ")?.1.split_once("  (remove")?.0.into())
        .map(str::to_string);
    let answer = curl.as_ref().map(|c| {
        let args: Vec<&str> = c.split(' ').map(|a| a.trim_matches('\'')).collect();
        Command::new("curl").arg("-s").args(args).output().unwrap()
    });
    for id in &kept {
        Command::new("docker")
            .args(["rm", "-f", id])
            .output()
            .unwrap();
    }
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(kept.len(), 1, "{text}");
    assert!(text.contains("docker rm -f lambda-ci-"), "{text}");
    let answer = answer.unwrap_or_else(|| panic!("no curl line in\n{text}"));
    assert_eq!(String::from_utf8_lossy(&answer.stdout), "{}", "{curl:?}");
}

/// Waits until `suite`'s container has started `n` invocations.
fn wait_for_invocations(suite: &Path, n: usize) {
    let started = Instant::now();
    loop {
        if let Some(id) = containers_of(suite).into_iter().next() {
            let logs = Command::new("docker").args(["logs", &id]).output().unwrap();
            if String::from_utf8_lossy(&logs.stdout)
                .matches("START RequestId:")
                .count()
                >= n
            {
                return;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{n} invocations did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// Regression: after SIGINT no JUnit, JSON, job summary or step outputs were written, and the
// GitHub log ended inside `::stop-commands::` with no `::endgroup::`.
#[test]
fn sigint_mid_run_writes_every_report_with_what_ran_and_what_did_not() {
    let (dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.sleep\n  code: CODE\n  timeout: 30\ncases:\n  - name: quick\n    event: {seconds: 0}\n    expect:\n      response: {slept: true}\n  - name: sleeps\n    event: {seconds: 25}\n  - name: never\n    event: {seconds: 0}\n",
    );
    let file = |name: &str| dir.path().join(name);
    let child = lambda_ci()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", file("summary.md"))
        .env("GITHUB_OUTPUT", file("outputs"))
        .args(["run", "--pull", "never", "--junit"])
        .arg(file("report.xml"))
        .arg("--json")
        .arg(file("report.json"))
        .arg(&suite)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_invocations(&suite, 2);
    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        signalled.elapsed() < Duration::from_secs(15),
        "the run did not stop at once"
    );
    assert!(
        containers_of(&suite).is_empty(),
        "containers left after SIGINT"
    );

    let xml = std::fs::read_to_string(file("report.xml")).expect("a JUnit report");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(
        (root.attribute("tests"), root.attribute("skipped")),
        (Some("3"), Some("2")),
        "{xml}"
    );
    assert!(
        xml.contains("cut short: interrupted by SIGINT while it ran"),
        "{xml}"
    );
    assert!(xml.contains("not run: interrupted by SIGINT"), "{xml}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file("report.json")).unwrap()).unwrap();
    assert_eq!(json["totals"]["passed"], 1, "{json}");
    assert_eq!(json["totals"]["skipped"], 2, "{json}");
    let verdicts: Vec<&str> = json["suites"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["pass", "skipped", "skipped"]);
    let summary = std::fs::read_to_string(file("summary.md")).expect("a job summary");
    assert!(summary.contains("| skipped | 2 |"), "{summary}");
    let outputs = std::fs::read_to_string(file("outputs")).expect("step outputs");
    assert!(
        outputs.starts_with("total=3\npassed=1\nfailed=0\nerrors=0\nskipped=2\n"),
        "{outputs}"
    );
    // Workflow commands are resumed and the group closed.
    let stop = text
        .lines()
        .find_map(|l| l.strip_prefix("::stop-commands::"))
        .unwrap_or_else(|| panic!("no stop-commands in\n{text}"));
    assert!(
        text.contains(&format!("::{stop}::\n::endgroup::\n")),
        "{text}"
    );
    assert_summary(&text, "1 passed, 0 failed, 2 skipped");
    assert!(
        text.contains("  SKIP  never (0 ms)\n        not run: interrupted by SIGINT\n"),
        "{text}"
    );
}

#[test]
fn two_runs_on_one_engine_never_touch_each_others_containers() {
    // The same suite, run twice at once: one run is stopped while the other is mid-case.
    let (_dir, suite) = temp_suite(
        "function:\n  runtime: python3.11\n  handler: app.sleep\n  code: CODE\n  timeout: 30\ncases:\n  - name: first\n    event: {seconds: 3}\n  - name: second\n    event: {seconds: 1}\n",
    );
    let stopped = spawn_run(&suite);
    let finishing = spawn_run(&suite);
    let started = Instant::now();
    while containers_of(&suite).len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the two runs' containers did not come"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-TERM", &stopped.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopped = stopped.wait_with_output().unwrap();
    assert_eq!(stopped.status.code(), Some(143), "{}", stderr(&stopped));
    // The other run's container is still there, and its run ends as if alone.
    assert_eq!(
        containers_of(&suite).len(),
        1,
        "the stopped run removed more than its own"
    );
    let finished = finishing.wait_with_output().unwrap();
    let text = stdout(&finished);
    assert_eq!(
        finished.status.code(),
        Some(0),
        "{text}{}",
        stderr(&finished)
    );
    assert_summary(&text, "2 passed, 0 failed");
    assert!(containers_of(&suite).is_empty(), "containers left");
}
