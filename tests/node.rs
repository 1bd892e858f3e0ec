//! End-to-end tests of Node.js functions on the Node.js stand-in image, whose runtime client
//! (scripts/standin/node-runtime.js) speaks the Runtime API as AWS's does.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// A suite for handler `handler` of the Node fixture function, with `cases` (YAML).
fn node_suite(dir: &Path, name: &str, handler: &str, extra: &str, cases: &str) -> PathBuf {
    let code = fixture("functions/node");
    let function = format!("  handler: {handler}\n{extra}");
    write_suite(dir, name, ("nodejs22.x", &code), &function, cases)
}

#[test]
fn commonjs_esm_callback_errors_and_layers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let layer = format!(
        "  layers: [{}]\n",
        fixture("functions/node-layer").display()
    );
    let suites = [
        node_suite(
            d,
            "cjs",
            "index.echo",
            "",
            "  - name: async CommonJS\n    event: {a: [1, 2]}\n    expect:\n      response: {a: [1, 2]}\n",
        ),
        node_suite(
            d,
            "esm",
            "esm.handler",
            "",
            "  - name: ES module\n    event: {n: 1}\n    expect:\n      response: {module: esm, got: {n: 1}}\n",
        ),
        node_suite(
            d,
            "callback",
            "index.callback",
            "",
            "  - name: callback style\n    event: {name: Ada}\n    expect:\n      response: {via: callback, name: Ada}\n",
        ),
        node_suite(
            d,
            "fails",
            "index.fails",
            "",
            "  - name: thrown error\n    expect:\n      error: {type: TypeError, message: name must be a string}\n",
        ),
        node_suite(
            d,
            "cberr",
            "index.callbackError",
            "",
            "  - name: callback error\n    expect:\n      error: {type: RangeError, message: out of range}\n",
        ),
        node_suite(
            d,
            "layer",
            "index.layer",
            &layer,
            "  - name: module from the layer\n    expect:\n      response: {greeting: \"Hello, Ada\", from: layer}\n",
        ),
        node_suite(
            d,
            "missing",
            "index.nope",
            "",
            "  - name: handler not exported\n    expect:\n      error: {type: Runtime.HandlerNotFound, message: index.nope is undefined or not exported}\n",
        ),
    ];
    let out = run(&suites, &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert_summary(&text, "7 passed, 0 failed");
}

#[test]
fn a_node_error_shows_its_stack_and_console_lines_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let suite = node_suite(
        dir.path(),
        "logs",
        "index.context",
        "",
        "  - name: expects what it does not get\n    event: {x: 1}\n    expect:\n      response: {functionName: other}\n  - name: raises\n    event: {}\n",
    );
    // The second case reuses the function with a handler that does not throw; make one that does.
    let failing = node_suite(
        dir.path(),
        "throws",
        "index.fails",
        "",
        "  - name: unexpected error\n",
    );
    let out = run(&[suite, failing], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // console.log as Lambda writes it: timestamp, request id, level, message.
    let logged = text
        .lines()
        .find(|l| l.contains("\tINFO\thandling {\"x\":1}"))
        .unwrap_or_else(|| panic!("no console line in\n{text}"));
    let fields: Vec<&str> = logged.trim().split('\t').collect();
    assert!(
        fields[0].ends_with('Z') && fields[1].len() == 36,
        "{logged:?}"
    );
    assert!(
        text.contains(
            "expected success, the function failed with TypeError: name must be a string"
        ),
        "{text}"
    );
    assert!(
        text.contains("at exports.fails"),
        "the stack is shown\n{text}"
    );
    assert_summary(&text, "1 passed, 2 failed");
}
