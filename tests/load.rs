//! End to end, loading what a user or an adversary may put in front of lambda-ci: special
//! files in a searched directory, images that cannot be had, an engine that cannot be reached.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{run, stderr, stdout};

/// `lambda-ci <args>` under `timeout 20`, so that a regression that hangs fails instead.
fn bounded(args: &[&str]) -> std::process::Output {
    Command::new("timeout")
        .arg("20")
        .arg(env!("CARGO_BIN_EXE_lambda-ci"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("timeout and lambda-ci")
}

// A FIFO named *.yaml hung `list`; a *.yaml symlink to /dev/zero reached 11 GB in 30 s.
#[test]
fn list_finishes_quickly_on_a_fifo_and_a_dev_zero_symlink_in_a_searched_directory() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.yaml");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "function:\n  image: public.ecr.aws/lambda/python:3.11\n  handler: app.handler\ncases:\n  - name: only\n",
    )
    .unwrap();
    let started = Instant::now();
    let out = bounded(&["list", dir.path().to_str().unwrap()]);
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(stdout(&out).contains("only"), "{}", stdout(&out));
    assert!(
        err.contains("pipe.yaml: skipped: is a FIFO (named pipe), not a regular file"),
        "{err}"
    );
    assert!(
        err.contains("zero.yaml: skipped: is a character device, not a regular file"),
        "{err}"
    );
    // `run` loads the same way, and stops at the load when nothing else is there.
    std::fs::remove_file(dir.path().join("s.yaml")).unwrap();
    let out = bounded(&["run", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no suites found"), "{}", stderr(&out));
}

// A missing image was named 26 times for 6 cases: now in full once, then in brief.
#[test]
fn a_missing_image_is_named_in_full_once_per_image() {
    let dir = tempfile::tempdir().unwrap();
    let mut suites = Vec::new();
    for name in ["first", "second"] {
        let path = dir.path().join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            "function:\n  image: lambda-ci/absent:never\n  handler: app.handler\ncases:\n  - name: one\n  - name: two\n  - name: three\n",
        )
        .unwrap();
        suites.push(path);
    }
    let out = run(&suites, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let full = "image lambda-ci/absent:never is not present locally and --pull never forbids pulling it; run `docker pull lambda-ci/absent:never` first, or build it (`docker build -t lambda-ci/absent:never .`)";
    // Once where it happens, once in the closing list of what did not pass.
    assert_eq!(text.matches(full).count(), 2, "{text}");
    let brief = "image lambda-ci/absent:never is not present locally (the error is shown in full at first / one)";
    assert_eq!(text.matches(brief).count(), 10, "{text}");
}

// The engine error quoted the HTTP client's internals, and the hint showed DOCKER_HOST's value
// as the default.
#[test]
fn an_unreachable_engine_is_worded_for_users_with_the_real_default() {
    let out = common::lambda_ci()
        .args(["run", "cases/hello.yaml"])
        .current_dir(common::root())
        .env("DOCKER_HOST", "tcp://127.0.0.1:1")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("error: cannot reach the Docker engine at tcp://127.0.0.1:1\ncaused by: Connection refused"), "{err}");
    assert!(
        !err.contains("hyper") && !err.contains("client error"),
        "{err}"
    );
    assert!(err.contains("DOCKER_HOST, set here to \"tcp://127.0.0.1:1\"; unset it to use the default socket, unix:///var/run/docker.sock"), "{err}");
}

// A valid response nested 500 levels deep was judged "a string" (serde_json stops at 128).
#[test]
fn a_response_nested_500_deep_is_judged_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("code");
    std::fs::create_dir(&code).unwrap();
    std::fs::write(
        code.join("deep.py"),
        "def handler(event, context):\n    v = 1\n    for _ in range(event['levels']):\n        v = [v]\n    return v\n",
    )
    .unwrap();
    let suite = dir.path().join("deep.yaml");
    std::fs::write(
        &suite,
        "function:\n  runtime: python3.11\n  handler: deep.handler\n  code: code\ncases:\n  - name: deep\n    event: {levels: 500}\n    expect:\n      assert:\n        - {path: '$', type: array}\n        - {path: '$[0][0][0]', type: array}\n",
    )
    .unwrap();
    let out = run(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        &text[..text.len().min(2000)]
    );
    common::assert_summary(&text, "1 passed, 0 failed");
}

/// `text` with timings replaced, as they vary from run to run.
fn without_timings(text: &str) -> String {
    let ms = regex::Regex::new(r"\([0-9.]+ m?s(, cold, init [0-9.]+ m?s)?\)$").unwrap();
    let secs = regex::Regex::new(r"^finished in [0-9.]+ s$").unwrap();
    let line = ms.replace(text.trim_end(), |c: &regex::Captures| match c.get(1) {
        Some(_) => "(N ms, cold, init N ms)",
        None => "(N ms)",
    });
    secs.replace(&line, "finished in N s").into_owned()
}

// The README's opening example showed a run of cases/ that no longer happens.
#[test]
fn the_readmes_example_output_is_what_run_cases_prints() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let block = readme
        .split("```console\n$ lambda-ci run cases/\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README opens with a console block of `lambda-ci run cases/`");
    // Named by its absolute path, so that its containers' labels are not those of a run of
    // `cases/` that other tests look for; the output then names suites by that path.
    let out = run(&[common::root().join("cases")], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let root = format!("{}/", common::root().display());
    let printed: Vec<String> = stdout(&out)
        .lines()
        .chain(stderr(&out).lines())
        .map(|l| without_timings(&l.replace(&root, "")))
        .collect();
    // Every line shown is printed, in the order shown among stdout's; `...` stands for lines
    // left out.
    let mut at = 0;
    for line in block.lines().filter(|l| l.trim() != "...") {
        let line = without_timings(line);
        if line.starts_with("code and layers:") {
            assert!(printed.contains(&line), "not printed: {line:?}");
            continue;
        }
        match printed[at..].iter().position(|p| *p == line) {
            Some(i) => at += i + 1,
            None => panic!(
                "the README shows {line:?}, which `lambda-ci run cases/` does not print (in that order):\n{}",
                printed.join("\n")
            ),
        }
    }
}
