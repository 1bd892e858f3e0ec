use super::*;
use crate::outcome::Body;

fn read(
    named: &str,
    query: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Request, ServiceError> {
    read_request(named, query, |name| {
        headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    })
}

#[test]
fn every_form_of_function_name_names_the_function_and_its_qualifier() {
    for (named, qualifier) in [
        ("orders", None),
        ("orders:live", Some("live")),
        (
            "arn:aws:lambda:eu-west-1:123456789012:function:orders",
            None,
        ),
        (
            "arn:aws:lambda:eu-west-1:123456789012:function:orders:$LATEST",
            Some("$LATEST"),
        ),
        ("123456789012:function:orders", None),
        ("123456789012:function:orders:7", Some("7")),
    ] {
        let r = read(named, None, &[]).unwrap();
        assert_eq!(r.function, "orders", "{named}");
        assert_eq!(r.qualifier.as_deref(), qualifier, "{named}");
        assert_eq!(r.invocation_type, InvocationType::RequestResponse);
    }
}

#[test]
fn the_path_label_is_percent_decoded() {
    let path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aorders/invocations";
    assert_eq!(
        function_in_path(path).as_deref(),
        Some("arn:aws:lambda:us-east-1:000000000000:function:orders")
    );
    assert_eq!(function_in_path("/2015-03-31/functions//invocations"), None);
    assert_eq!(
        function_in_path("/2015-03-31/functions/a/b/invocations"),
        None
    );
    assert_eq!(function_in_path("/2015-03-31/functions/a"), None);
    assert_eq!(
        streaming_function_in_path("/2021-11-15/functions/my%20fn/response-streaming-invocations")
            .as_deref(),
        Some("my fn")
    );
    assert_eq!(
        streaming_function_in_path("/2015-03-31/functions/a/invocations"),
        None
    );
}

#[test]
fn a_query_qualifier_counts_and_must_agree_with_the_name() {
    let r = read("orders", Some("Qualifier=live"), &[]).unwrap();
    assert_eq!(r.qualifier.as_deref(), Some("live"));
    let e = read("orders:live", Some("Qualifier=other"), &[]).unwrap_err();
    assert_eq!(
        (e.status, e.error_type),
        (400, "InvalidParameterValueException")
    );
    assert!(read("orders:live", Some("Qualifier=live"), &[]).is_ok());
}

#[test]
fn names_that_are_no_function_name_are_invalid_parameters() {
    for named in ["", "a:b:c", "bad name", &"x".repeat(65)] {
        let e = read(named, None, &[]).unwrap_err();
        assert_eq!(e.status, 400, "{named}");
        assert_eq!(e.error_type, "InvalidParameterValueException");
    }
}

#[test]
fn invocation_and_log_types_are_read_and_others_refused() {
    let r = read(
        "f",
        None,
        &[
            ("x-amz-invocation-type", "Event"),
            ("x-amz-log-type", "Tail"),
        ],
    )
    .unwrap();
    assert_eq!(r.invocation_type, InvocationType::Event);
    assert!(r.tail);
    let r = read("f", None, &[("x-amz-invocation-type", "DryRun")]).unwrap();
    assert_eq!(r.invocation_type, InvocationType::DryRun);
    for header in [
        ("x-amz-invocation-type", "Later"),
        ("x-amz-log-type", "All"),
    ] {
        let e = read("f", None, &[header]).unwrap_err();
        assert_eq!(
            (e.status, e.error_type),
            (400, "InvalidParameterValueException")
        );
    }
}

#[test]
fn a_client_context_must_be_base64_of_a_json_object() {
    let encoded = BASE64_STANDARD.encode(r#"{"custom":{"k":"v"}}"#);
    let r = read("f", None, &[("x-amz-client-context", &encoded)]).unwrap();
    assert_eq!(r.client_context.unwrap()["custom"]["k"], "v");
    let not_json = BASE64_STANDARD.encode("not json");
    for bad in ["%%%not base64", not_json.as_str()] {
        let e = read("f", None, &[("x-amz-client-context", bad)]).unwrap_err();
        assert_eq!(
            (e.status, e.error_type),
            (400, "InvalidRequestContentException")
        );
    }
}

#[test]
fn service_errors_carry_the_modeled_code_and_casing() {
    let e = ServiceError::not_found("nope", "us-east-1", "lambda-ci serves: echo");
    assert_eq!(e.status, 404);
    let body: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
    assert_eq!(body["Type"], "User");
    assert_eq!(body["__type"], "ResourceNotFoundException");
    assert_eq!(
        body["Message"],
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope (lambda-ci serves: echo)"
    );
    let body: serde_json::Value =
        serde_json::from_slice(&ServiceError::too_large(SYNC_LIMIT).body()).unwrap();
    assert!(body["message"].as_str().unwrap().contains("6291456"));
    let body: serde_json::Value = serde_json::from_slice(&ServiceError::too_many().body()).unwrap();
    assert_eq!(
        body["Reason"],
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    );
}

#[test]
fn every_failure_of_the_function_is_an_error_document_never_a_service_error() {
    let success = Outcome::Success {
        body: Body::Json(serde_json::json!({"ok": true})),
    };
    let a = answer(&success, Some(br#"{"ok":true}"#), "r1");
    assert_eq!(
        (a.body.as_slice(), a.function_error),
        (&br#"{"ok":true}"#[..], false)
    );

    let raised = Outcome::FunctionError {
        error_type: "ValueError".into(),
        message: "bad".into(),
        body: serde_json::json!({}),
    };
    let raw = br#"{"errorType":"ValueError","errorMessage":"bad"}"#;
    assert_eq!(answer(&raised, Some(raw), "r1").body, raw.to_vec());

    let cases = [
        (
            Outcome::Timeout {
                message: "Task timed out after 1.00 seconds".into(),
            },
            "Sandbox.Timedout",
            "RequestId: r1 Error: Task timed out after 1.00 seconds",
        ),
        (
            Outcome::ContainerExited {
                exit_code: 137,
                oom_killed: true,
            },
            "Runtime.OutOfMemory",
            "RequestId: r1 Error: Runtime exited with error: signal: killed",
        ),
        (
            Outcome::ContainerExited {
                exit_code: 3,
                oom_killed: false,
            },
            "Runtime.ExitError",
            "RequestId: r1 Error: Runtime exited with error: exit status 3",
        ),
    ];
    for (outcome, error_type, message) in cases {
        let a = answer(&outcome, None, "r1");
        assert!(a.function_error);
        let doc: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(doc["errorType"], error_type);
        assert_eq!(doc["errorMessage"], message);
    }
}

#[test]
fn the_log_result_is_the_last_4_kb_in_base64() {
    let long = "x".repeat(5000);
    let lines = [
        "START RequestId: r1",
        long.as_str(),
        "REPORT RequestId: r1\tDuration: 1 ms",
    ];
    let decoded = BASE64_STANDARD
        .decode(log_result(lines.into_iter()))
        .unwrap();
    assert_eq!(decoded.len(), 4096);
    assert!(
        String::from_utf8(decoded)
            .unwrap()
            .ends_with("Duration: 1 ms\n")
    );
    let short = BASE64_STANDARD
        .decode(log_result(["a", "b"].into_iter()))
        .unwrap();
    assert_eq!(short, b"a\nb\n");
}
