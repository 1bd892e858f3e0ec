//! Tests of `event_template:`: a case's event made from the sample-event catalogue, its own
//! `event` merged over the template, and the mistakes that are reported at their line.

use std::path::Path;

use serde_json::json;

use super::*;

fn load(dir: &Path, text: &str) -> Result<Vec<Suite>, LoadErrors> {
    std::fs::create_dir_all(dir.join("code")).unwrap();
    let file = dir.join("s.yaml");
    std::fs::write(&file, text).unwrap();
    load_paths(&[file])
}

fn cases_of(function: &str, cases: &str) -> Vec<Case> {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("function:\n{function}cases:\n{cases}");
    let mut suites = load(dir.path(), &text).unwrap_or_else(|e| panic!("{e}"));
    suites.remove(0).cases
}

fn errors_of(function: &str, cases: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("function:\n{function}cases:\n{cases}");
    load(dir.path(), &text).unwrap_err().to_string()
}

const PYTHON: &str = "  runtime: python3.11\n  handler: app.handler\n  code: code\n";
const EDGE: &str =
    "  runtime: nodejs22.x\n  handler: edge.handler\n  code: code\n  edge: origin-request\n";

#[test]
fn a_case_event_merges_deeply_over_its_template_and_derived_fields_follow() {
    let cases = cases_of(
        PYTHON,
        "  - name: plain\n    event_template: apigw-v2\n  - name: changed\n    event_template: sqs\n    event: {Records: [{body: hello}]}\n  - name: deep\n    event_template: apigw-v2\n    event: {requestContext: {http: {method: PUT}}, headers: {X-Tenant: acme}}\n",
    );
    let template = crate::events::Kind::named("apigw-v2").unwrap().template();
    assert_eq!(cases[0].event, template);
    // A list replaces the template's whole: the record is the case's alone, with its MD5.
    assert_eq!(
        cases[1].event["Records"],
        json!([{"body": "hello", "md5OfBody": "5d41402abc4b2a76b9719d911017c592"}])
    );
    let deep = &cases[2].event;
    assert_eq!(deep["requestContext"]["http"]["method"], "PUT");
    assert_eq!(deep["requestContext"]["http"]["path"], "/orders");
    assert_eq!(deep["headers"]["x-tenant"], "acme");
    assert!(deep["headers"].get("X-Tenant").is_none());
    assert_eq!(deep["rawPath"], "/orders");
}

#[test]
fn each_rows_fill_the_template_name() {
    let cases = cases_of(
        PYTHON,
        "  - name: \"{{kind}}\"\n    each: [{kind: s3-put}, {kind: s3-delete}]\n    event_template: \"{{kind}}\"\n",
    );
    assert_eq!(
        cases[0].event["Records"][0]["eventName"],
        "ObjectCreated:Put"
    );
    assert_eq!(
        cases[1].event["Records"][0]["eventName"],
        "ObjectRemoved:Delete"
    );
}

#[test]
fn an_unknown_template_is_reported_at_its_line_with_the_valid_names() {
    let err = errors_of(
        PYTHON,
        "  - name: a\n    event_template: apigw-v2x\n  - name: b\n    event_templat: sqs\n",
    );
    assert!(
        err.contains("s.yaml:7:21: unknown `event_template` `apigw-v2x`\n  hint: did you mean `apigw-v2`? the kinds are: apigw-v1, apigw-v2,"),
        "{err}"
    );
    assert!(err.contains("cognito-pre-token-generation"), "{err}");
    assert!(
        err.contains("s.yaml:9:5: unknown field `event_templat` in a case\n  hint: did you mean `event_template`?"),
        "{err}"
    );
}

// Regression: a misspelt key (`pathParameter:`) was merged silently beside the template's own,
// whose sample values then reached the function.
#[test]
fn a_field_the_template_does_not_have_is_refused_at_its_line_unless_added_on_purpose() {
    let err = errors_of(
        PYTHON,
        "  - name: a\n    event_template: apigw-v1\n    event:\n      pathParameter: {id: '42'}\n  - name: b\n    event_template: apigw-v2\n    event:\n      requestContext:\n        http: {methd: POST}\n",
    );
    assert!(
        err.contains("s.yaml:9:7: the case's event sets `pathParameter`, which the `apigw-v1` template does not have\n  hint: did you mean `pathParameters`? its fields at its top: "),
        "{err}"
    );
    assert!(
        err.contains("s.yaml:14:16: the case's event sets `requestContext.http.methd`, which the `apigw-v2` template does not have\n  hint: did you mean `method`? its fields in `requestContext.http`: method, path, protocol, sourceIp, userAgent; to add `methd` on purpose, put it under `event_add:`"),
        "{err}"
    );
    // Open maps take new keys; `event_add` adds any on purpose.
    let cases = cases_of(
        PYTHON,
        "  - name: a\n    event_template: apigw-v1\n    event: {pathParameters: {orderId: '7'}, headers: {X-Tenant: acme}}\n    event_add: {requestContext: {custom: true}, extra: 1}\n",
    );
    let event = &cases[0].event;
    assert_eq!(event["pathParameters"]["orderId"], json!("7"));
    assert_eq!(event["requestContext"]["custom"], json!(true));
    assert_eq!(event["extra"], json!(1));
    assert_eq!(event["requestContext"]["httpMethod"], json!("GET"));
    let err = errors_of(PYTHON, "  - name: a\n    event_add: {x: 1}\n");
    assert!(
        err.contains("s.yaml:7:16: `event_add` adds fields to the event of an `event_template`"),
        "{err}"
    );
}

#[test]
fn a_template_takes_a_mapping_to_merge_not_another_value() {
    let err = errors_of(
        PYTHON,
        "  - name: a\n    event_template: sqs\n    event: [1, 2]\n",
    );
    assert!(
        err.contains("s.yaml:8:12: with `event_template`, the case's event must be a mapping of the fields to change, not an array"),
        "{err}"
    );
}

#[test]
fn cloudfront_templates_follow_the_edge_trigger_and_refuse_another() {
    let cases = cases_of(
        EDGE,
        "  - name: a\n    event_template: cloudfront-origin-request\n    event: {Records: [{cf: {config: {eventType: viewer-request}, request: {uri: /a}}}]}\n",
    );
    assert_eq!(
        cases[0].event["Records"][0]["cf"]["config"]["eventType"],
        "origin-request"
    );
    let err = errors_of(
        EDGE,
        "  - name: a\n    event_template: cloudfront-viewer-request\n",
    );
    assert!(
        err.contains("s.yaml:8:21: `cloudfront-viewer-request` is a viewer-request event, but the function's `edge:` is origin-request\n  hint: use `event_template: cloudfront-origin-request`"),
        "{err}"
    );
}
