//! End-to-end tests of Lambda@Edge functions: CloudFront's rules applied before the run (no
//! environment, no layers, limits per trigger) and its response quota after each invocation.

mod common;

use common::*;

fn suite(dir: &std::path::Path, name: &str, function: &str, cases: &str) -> std::path::PathBuf {
    let code = fixture("functions/node");
    write_suite(dir, name, ("nodejs22.x", &code), function, cases)
}

#[test]
fn an_edge_function_that_reads_its_environment_is_refused_with_the_rule_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = suite(
        dir.path(),
        "configured",
        "  handler: edge.configured\n  edge: viewer-request\n  environment: {API_URL: https://api.example.com}\n  layers: [layer]\n  timeout: 10\n",
        "  - name: never runs\n",
    );
    std::fs::create_dir(dir.path().join("layer")).unwrap();
    let out = run(std::slice::from_ref(&path), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    let p = path.display();
    for expected in [
        format!(
            "{p}:7:3: Lambda@Edge functions (viewer-request) cannot have environment variables\n  hint: CloudFront passes none to the function; build the configuration into the code"
        ),
        format!("{p}:8:3: Lambda@Edge functions (viewer-request) cannot use layers"),
        format!(
            "{p}:9:12: Lambda@Edge functions (viewer-request) allow a `timeout` of at most 5 seconds, not 10"
        ),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn edge_functions_run_and_a_response_over_the_trigger_quota_fails() {
    let dir = tempfile::tempdir().unwrap();
    let request = suite(
        dir.path(),
        "viewer",
        "  handler: edge.viewerRequest\n  edge: viewer-request\n",
        "  - name: adds a header\n    event: {Records: [{cf: {request: {uri: /index.html, method: GET, headers: {}}}}]}\n    expect:\n      response_contains: {uri: /index.html, headers: {x-edge: [{key: X-Edge, value: seen}]}}\n",
    );
    let generated = suite(
        dir.path(),
        "generated",
        "  handler: edge.generate\n  edge: viewer-request\n",
        "  - name: small enough\n    event: {size: 1000}\n  - name: over 40 KB\n    event: {size: 50000}\n",
    );
    let origin = suite(
        dir.path(),
        "origin",
        "  handler: edge.generate\n  edge: origin-request\n",
        "  - name: 50 KB is fine at the origin\n    event: {size: 50000}\n",
    );
    let out = run(&[request, generated, origin], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  over 40 KB"), "{text}");
    assert!(
        text.contains("CloudFront accepts at most 40 KB from a viewer-request function"),
        "{text}"
    );
    assert_summary(&text, "3 passed, 1 failed");
}
