//! End-to-end tests of the sample-event catalogue: `lambda-ci event` as a user runs it, and
//! every template sent through a real function in its base image and back intact.

mod common;

use common::*;

fn event(args: &[&str]) -> std::process::Output {
    lambda_ci().arg("event").args(args).output().unwrap()
}

/// The kinds `lambda-ci event list` names.
fn kinds() -> Vec<String> {
    let out = event(&["list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn event_list_names_every_kind_with_what_it_is() {
    let out = event(&["list"]);
    let text = stdout(&out);
    for kind in [
        "apigw-v1",
        "apigw-v2",
        "function-url",
        "alb",
        "sqs",
        "sns",
        "s3-put",
        "s3-delete",
        "eventbridge",
        "scheduled",
        "dynamodb",
        "kinesis",
        "cloudfront-viewer-request",
        "cloudfront-origin-request",
        "cloudfront-origin-response",
        "cloudfront-viewer-response",
        "cognito-pre-sign-up",
        "cognito-post-confirmation",
        "cognito-pre-token-generation",
    ] {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(kind))
            .unwrap_or_else(|| panic!("no line for {kind} in\n{text}"));
        assert!(
            line.len() > kind.len() + 10,
            "{kind} is not described: {line}"
        );
    }
    assert_eq!(kinds().len(), 19);
}

#[test]
fn event_prints_a_template_changed_by_set_with_md5_of_body_recomputed() {
    let out = event(&[
        "sqs",
        "--set",
        "Records.0.body=hello",
        "--set",
        "Records.0.attributes.ApproximateReceiveCount=3",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sqs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let record = &sqs["Records"][0];
    assert_eq!(record["body"], "hello");
    assert_eq!(record["md5OfBody"], "5d41402abc4b2a76b9719d911017c592");
    // A string field stays a string, as SQS sends it.
    assert_eq!(record["attributes"]["ApproximateReceiveCount"], "3");
    assert_eq!(record["eventSource"], "aws:sqs");
}

#[test]
fn an_unknown_kind_or_a_bad_set_path_exits_2_with_the_fix() {
    let out = event(&["apigw-v2x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("error: unknown event kind `apigw-v2x`; did you mean `apigw-v2`?"),
        "{err}"
    );
    assert!(err.contains("cognito-post-confirmation"), "{err}");
    let out = event(&["apigw-v2", "--set", "body.text=x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("`--set body.text=x`: `body` is a string, so it has no field `text`"),
        "{err}"
    );
    let out = event(&["apigw-v2", "--set", "body"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("write it as `path=value`"));
    // Regression: a misspelt field was added beside the real one.
    let out = event(&["apigw-v2", "--set", "requestContext.http.methd=POST"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("(did you mean `method`?); `--add requestContext.http.methd=POST` adds"),
        "{}",
        stderr(&out)
    );
    let out = event(&["apigw-v2", "--add", "requestContext.http.methd=POST"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let added: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(added["requestContext"]["http"]["methd"], "POST");
    assert_eq!(added["requestContext"]["http"]["method"], "POST");
}

#[test]
fn every_template_goes_through_a_function_and_comes_back_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases = String::new();
    for kind in kinds() {
        let printed = event(&[&kind]);
        let template: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
        // JSON is YAML: the expected response is the printed template, as it is.
        cases.push_str(&format!(
            "  - name: {kind}\n    event_template: {kind}\n    expect:\n      response: {template}\n"
        ));
    }
    let suite = write_suite(
        dir.path(),
        "echo",
        ("python3.11", &fixture("functions/py")),
        "  handler: app.echo\n",
        &cases,
    );
    let out = run(&[suite], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert_summary(&text, "19 passed, 0 failed");
}

#[test]
fn a_case_changes_its_template_and_an_unknown_template_stops_the_load() {
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "echo",
        ("python3.11", &fixture("functions/py")),
        "  handler: app.echo\n",
        "  - name: an order message\n    event_template: sqs\n    event: {Records: [{body: hello, messageId: m-1}]}\n    expect:\n      response_contains: {Records: [{body: hello, md5OfBody: 5d41402abc4b2a76b9719d911017c592, messageId: m-1}]}\n  - name: a PUT\n    event_template: apigw-v2\n    event: {requestContext: {http: {method: PUT}}}\n    expect:\n      assert:\n        - {path: $.requestContext.http.method, equals: PUT}\n        - {path: $.requestContext.http.path, equals: /orders}\n        - {path: $.version, equals: \"2.0\"}\n",
    );
    let out = run(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert_summary(&text, "2 passed, 0 failed");

    let bad = write_suite(
        dir.path(),
        "bad",
        ("python3.11", &fixture("functions/py")),
        "  handler: app.echo\n",
        "  - name: typo\n    event_template: dynamo-db\n",
    );
    let out = run(std::slice::from_ref(&bad), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:8:21: unknown `event_template` `dynamo-db`\n  hint: did you mean `dynamodb`?",
            bad.display()
        )),
        "{err}"
    );
}
