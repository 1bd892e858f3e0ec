//! End to end, `run --target`: the suites' functions invoked through an Invoke API endpoint —
//! a `lambda-ci serve` of the same suites — instead of booted: the same verdicts and log
//! checks, a changed expectation failing, a function the target does not have and a target
//! that does not answer said as what they are.

mod common;

use std::path::Path;

use common::serve::{Server, free_port};
use common::*;

fn suites(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let code = fixture("functions/py");
    let says = write_suite(
        dir,
        "targeted",
        ("python3.11", &code),
        "  handler: app.say\n",
        "  - name: answers and logs\n    event: {print: [hello from the target], return: {ok: true}}\n    expect:\n      response: {ok: true}\n      logs: {contains: hello from the target}\n\
         \x20 - name: answers text\n    event: {return: plain}\n    expect: {response: plain}\n",
    );
    let fails = write_suite(
        dir,
        "failing",
        ("python3.11", &code),
        "  handler: app.fail\n",
        "  - name: raises\n    event: {message: nope}\n    expect:\n      error: {type: ValueError, message: nope}\n",
    );
    (says, fails)
}

#[test]
fn suites_run_against_a_serve_kept_open_with_the_same_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let (says, fails) = suites(dir.path());
    let mut server = Server::start(&[says.to_str().unwrap(), fails.to_str().unwrap()]);
    let target = server.url();
    let out = run(&[says.clone(), fails.clone()], &["--target", &target]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert_summary(&text, "3 passed, 0 failed");

    // An expectation the deployed function does not meet fails, as it would locally.
    let changed = dir.path().join("changed.yaml");
    let text = std::fs::read_to_string(&says)
        .unwrap()
        .replace("{ok: true}}", "{ok: false}}");
    std::fs::write(&changed, text).unwrap();
    let out = run(std::slice::from_ref(&changed), &["--target", &target]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  answers and logs"), "{text}");

    // A function the target does not have is the service's own 404, named.
    let missing = write_suite(
        dir.path(),
        "nobody",
        ("python3.11", &fixture("functions/py")),
        "  handler: app.echo\n",
        "  - name: echoes\n    event: {a: 1}\n",
    );
    let out = run(std::slice::from_ref(&missing), &["--target", &target]);
    let text = stdout(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("ResourceNotFoundException"), "{text}");
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());

    // A target that does not answer is an error of the run, not a failing function.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let out = run(std::slice::from_ref(&says), &["--target", &nowhere]);
    let text = stdout(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("the target {nowhere} did not answer")),
        "{text}"
    );

    let out = run(
        std::slice::from_ref(&says),
        &["--target", "https://example.com"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("https:// target is not supported yet"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_example_suites_pass_against_a_serve_of_themselves() {
    let cases = root().join("cases");
    let mut server = Server::start(&[cases.to_str().unwrap(), "--api-port", "0"]);
    let out = run(std::slice::from_ref(&cases), &["--target", &server.url()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains(" passed, 0 failed"), "{text}");
    // Nothing was booted by the run: every function (authorizers too) was called there.
    assert!(!stderr(&out).contains("booting"), "{}", stderr(&out));
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}
