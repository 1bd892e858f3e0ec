//! End-to-end test of a response that is not text: its exact bytes are kept, judged as bytes
//! and shown safely.

mod common;

use common::*;

// Regression: a binary response lost bytes to lossy UTF-8 before it was judged or reported.
#[test]
fn a_binary_response_keeps_its_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "png",
        ("provided.al2023", &fixture("functions/binary")),
        "  handler: none.none\n",
        "  - name: answers bytes\n\
         \x20 - name: is not text\n    expect:\n      response: text\n",
    );
    let json = dir.path().join("r.json");
    let out = run(&[suite], &["--json", json.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert_summary(&text, "1 passed, 1 failed");
    assert!(
        text.contains("7 bytes that are not UTF-8 text: 89 50 4e 47 ff 00 fe"),
        "{text}"
    );
    assert!(
        !out.stdout.contains(&0xff) && !out.stdout.contains(&0),
        "raw bytes shown"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let case = &report["suites"][0]["cases"][0];
    assert_eq!(
        case["outcome"]["body"],
        serde_json::json!({"type": "binary", "value": "iVBOR/8A/g=="}),
        "{case}"
    );
    // The published schema says what a binary body is.
    assert_valid_report(&json);
}
