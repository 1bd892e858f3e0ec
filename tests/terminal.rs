//! What a function writes or returns cannot drive the terminal lambda-ci prints to, nor the CI
//! runner reading its output: escape sequences and carriage returns are shown, never obeyed;
//! workflow commands are shown, never issued.

mod common;

use common::*;

const SUITE: &str = "function:\n  runtime: python3.11\n  handler: app.hostile_terminal\n  code: CODE\ncases:\n  - name: writes and returns escapes\n    expect:\n      response: {said: plain}\n";

#[test]
fn escapes_in_logs_and_responses_are_shown_not_obeyed_on_the_console() {
    let (_dir, suite) = temp_suite(SUITE);
    let out = lambda_ci()
        .env("NO_COLOR", "1")
        .args(["run", "--pull", "never", "--reporter", "human"])
        .arg(&suite)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    for (byte, what) in [('\x1b', "ESC"), ('\x07', "BEL"), ('\r', "CR")] {
        assert!(!text.contains(byte), "{what} reached the console:\n{text}");
        assert!(!stderr(&out).contains(byte), "{what} reached stderr");
    }
    // Still there to read, made visible.
    assert!(text.contains("up and red"), "{text}");
    assert!(text.contains("cleared"), "{text}");
}

#[test]
fn workflow_commands_from_a_function_are_never_issued_in_github_mode() {
    let (dir, suite) = temp_suite(SUITE);
    let out = lambda_ci()
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", dir.path().join("summary.md"))
        .env("GITHUB_OUTPUT", dir.path().join("output"))
        .args(["run", "--pull", "never"])
        .arg(&suite)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(!text.contains('\x1b') && !text.contains('\r'), "{text}");
    // Outside lambda-ci's own `::stop-commands::TOKEN` … `::TOKEN::` spans, every line that
    // starts with `::` is lambda-ci's, and none carries what the function wrote.
    let mut stopped: Option<String> = None;
    let mut issued = Vec::new();
    for line in text.lines() {
        match &stopped {
            Some(token) if line == format!("::{token}::") => stopped = None,
            Some(_) => {}
            None => {
                if let Some(token) = line.strip_prefix("::stop-commands::") {
                    stopped = Some(token.to_string());
                } else if line.starts_with("::") {
                    issued.push(line);
                }
            }
        }
    }
    assert!(stopped.is_none(), "commands never resumed:\n{text}");
    for forged in [
        "::error file=app.py",
        "::add-mask::",
        "::stop-commands::forged",
        "::warning::forged",
        "::error::forged",
    ] {
        assert!(
            issued.iter().all(|l| !l.starts_with(forged)),
            "a function's command was issued: {issued:#?}"
        );
    }
    // The failure is annotated by lambda-ci itself, with the response escaped in it.
    assert!(
        issued.iter().any(|l| l.starts_with("::error file=")),
        "{text}"
    );
    assert!(
        text.contains("forged error"),
        "the function's lines are still shown:\n{text}"
    );
}
