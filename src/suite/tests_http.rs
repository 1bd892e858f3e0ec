//! Loader tests for a function's `http:` front doors and `request:` cases.

use super::*;
use crate::gateway::{Api, Payload};

/// The suite with `http` under its function and `cases`, or its errors as `line: message`.
fn load(http: &str, cases: &str) -> Result<Suite, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("code")).unwrap();
    std::fs::write(dir.path().join("photo.bin"), [0u8, 159, 146, 150]).unwrap();
    let text = format!(
        "function:\n  runtime: python3.11\n  handler: a.b\n  code: code\n{http}cases:\n{cases}"
    );
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, text).unwrap();
    match load_paths(&[file]) {
        Ok(mut s) => Ok(s.remove(0)),
        Err(e) => Err(e
            .0
            .iter()
            .map(|e| format!("{}: {}", e.pos.map_or(0, |p| p.line), e.message))
            .collect()),
    }
}

const ROUTES: &str = "  http:
    - {api: rest, method: GET, path: '/orders/{id}', stage: live, stage_variables: {table: t}}
    - {api: http, path: $default, payload: '1.0'}
    - {api: url, invoke_mode: RESPONSE_STREAM}
";

#[test]
fn routes_load_with_their_defaults_and_settings() {
    let s = load(ROUTES, "  - name: a\n    event: {}\n").unwrap();
    let http = &s.function.http;
    assert_eq!(http.len(), 3);
    assert_eq!(http[0].key(), "GET /orders/{id}");
    assert_eq!(
        (http[0].payload, http[0].stage.as_str()),
        (Payload::V1, "live")
    );
    assert_eq!(http[0].stage_variables["table"], "t");
    assert_eq!(
        (http[1].key(), http[1].payload),
        ("$default".to_string(), Payload::V1)
    );
    assert_eq!(http[1].stage, "$default");
    assert_eq!(http[2].api, Api::Url);
    assert_eq!(
        http[2].invoke_mode,
        crate::gateway::InvokeMode::ResponseStream
    );
}

#[test]
fn routes_are_checked_as_api_gateway_checks_them() {
    let errors = load(
        "  http:
    - {api: soap}
    - {api: url, path: /x}
    - {api: rest, path: /a, payload: '2.0'}
    - {api: rest, path: '/a/{proxy+}/b'}
    - {api: http, method: FETCH, path: /a}
    - {api: rest, path: /dup}
    - {api: rest, path: /dup/}
    - {api: http}
    - {api: http, path: /a, auth: AWS_IAM}
    - {api: url}
    - {api: url}
",
        "  - name: a\n    event: {}\n",
    )
    .unwrap_err();
    let expected = [
        "6: unknown `api` `soap`",
        "7: `path` does not apply to a route of a function URL",
        "8: a REST API sends payload 1.0 only",
        "9: `path` the greedy parameter `{proxy+}` must be the last segment of `/a/{proxy+}/b`",
        "10: unknown `method` `FETCH`",
        "12: `http` declares route `ANY /dup` twice in its REST API",
        "13: a route of a HTTP API without `path`",
        "14: `auth` does not apply to a route of a HTTP API",
        "16: `http` declares a second function URL",
    ];
    assert_eq!(errors, expected);
}

#[test]
fn requests_become_the_event_of_the_route_they_reach() {
    let s = load(
        ROUTES,
        "  - name: rest
    request:
      api: rest
      path: /orders/42?a=1
      query: {b: [x, y]}
      headers: {X-Up: one}
      cookies: {s: '1'}
      body: {sku: A}
  - name: url
    request: {api: url, method: post, path: /p, body_file: photo.bin, headers: {content-type: image/jpeg}}
",
    )
    .unwrap();
    let rest = &s.cases[0];
    assert_eq!(rest.event["resource"], "/orders/{id}");
    assert_eq!(rest.event["requestContext"]["stage"], "live");
    assert_eq!(rest.event["requestContext"]["path"], "/live/orders/42");
    assert_eq!(
        rest.event["multiValueQueryStringParameters"]["b"],
        serde_json::json!(["x", "y"])
    );
    assert_eq!(rest.event["queryStringParameters"]["a"], "1");
    assert_eq!(rest.event["headers"]["Cookie"], "s=1");
    assert_eq!(rest.event["headers"]["Content-Type"], "application/json");
    assert_eq!(rest.event["body"], r#"{"sku":"A"}"#);
    assert_eq!(rest.event["stageVariables"]["table"], "t");
    let front = rest.front.as_ref().unwrap();
    assert_eq!(front.route.key(), "GET /orders/{id}");
    let url = &s.cases[1];
    assert_eq!(url.event["requestContext"]["http"]["method"], "POST");
    assert_eq!(url.event["isBase64Encoded"], true);
    assert_eq!(url.event["body"], "AJ+Slg==");
    // A case with an event has no front door.
    let plain = load(ROUTES, "  - name: a\n    event: {}\n").unwrap();
    assert!(plain.cases[0].front.is_none());
}

#[test]
fn a_request_that_no_route_takes_is_a_load_error_naming_the_routes() {
    let errors = load(
        ROUTES,
        "  - name: wrong method
    request: {api: rest, method: DELETE, path: /orders/1}
  - name: which door
    request: {path: /orders/1}
  - name: both
    request: {api: rest, path: /orders/1}
    event: {}
    expect: {error: {type: KeyError}}
",
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "11: no route of the function's REST API takes DELETE /orders/1 (the API would answer 403 Missing Authentication Token)",
            "13: the function has several front doors (rest, http, url): say which this request goes through",
            "16: `request` and `event` are exclusive",
            "17: `error` does not apply to a `request:` case",
        ]
    );
    let none = load("", "  - name: a\n    request: {path: /}\n").unwrap_err();
    assert_eq!(
        none,
        ["7: a `request:` case needs a front door, and the function has none"]
    );
}

#[test]
fn cors_is_the_apis_and_a_preflight_is_answered_without_the_function() {
    let s = load(
        "  http:
    - {api: http, path: /a, cors: {allow_origins: ['https://x.example'], max_age: 60}}
    - {api: http, path: /b}
    - {api: rest, path: /c, cors: true}
",
        "  - name: preflight
    request:
      api: http
      method: OPTIONS
      path: /anywhere
      headers: {Origin: 'https://x.example', Access-Control-Request-Method: PUT}
  - name: plain
    request: {api: http, path: /b}
",
    )
    .unwrap();
    let http = &s.function.http;
    // One route's configuration is its API's: `/b` has it too; `cors: true` allows all.
    assert_eq!(http[1].cors, http[0].cors);
    assert_eq!(http[1].cors.as_ref().unwrap().max_age, Some(60));
    assert_eq!(http[2].cors.as_ref().unwrap().allow_origins, ["*"]);
    let answered = s.cases[0]
        .front
        .as_ref()
        .unwrap()
        .answered
        .as_ref()
        .unwrap();
    assert_eq!(answered.status, 204);
    assert!(s.cases[1].front.as_ref().unwrap().answered.is_none());
    let errors = load(
        "  http:\n    - {api: url, cors: {allow_origin: '*', max_age: -1}}\n",
        "  - name: a\n    event: {}\n",
    )
    .unwrap_err();
    assert_eq!(errors[0], "6: unknown field `allow_origin` in `cors`");
}

#[test]
fn authorizers_are_checked_where_they_are_written() {
    let errors = load(
        "  http:
    - {api: url, authorizer: {issuer: x, jwks: k.json}}
    - {api: rest, path: /a, authorizer: {type: jwt, issuer: x, jwks: k.json}}
    - {api: http, path: /b, authorizer: {issuer: x}}
    - {api: http, path: /c, authorizer: {issuer: x, jwks: photo.bin}}
",
        "  - name: a\n    event: {}\n",
    )
    .unwrap_err();
    assert_eq!(
        errors[..3],
        [
            "6: a function URL has no authorizer: its `auth` is NONE or AWS_IAM",
            "7: a REST API route cannot have a `jwt` authorizer",
            "8: a token `authorizer` without `jwks`",
        ]
    );
    assert!(
        errors[3].starts_with("9: `jwks` ") && errors[3].contains("is not a JSON Web Key Set"),
        "{}",
        errors[3]
    );
}

#[test]
fn a_request_whose_event_is_over_lambdas_limit_is_the_front_doors_413() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("code")).unwrap();
    // 5 MB of bytes are base64-encoded in the event: over 6 MB.
    std::fs::write(dir.path().join("big.bin"), vec![0u8; 5 * 1024 * 1024]).unwrap();
    let text = "function:\n  runtime: python3.11\n  handler: a.b\n  code: code\n  http: [{api: http, path: /up}]\ncases:\n  - name: big\n    request: {method: POST, path: /up, body_file: big.bin}\n    expect: {status: 413}\n";
    let file = dir.path().join("s.yaml");
    std::fs::write(&file, text).unwrap();
    let suites = load_paths(&[file]).unwrap();
    let answered = suites[0].cases[0]
        .front
        .as_ref()
        .unwrap()
        .answered
        .clone()
        .unwrap();
    assert_eq!(answered.status, 413);
    assert_eq!(answered.body, br#"{"message":"Request Entity Too Large"}"#);
}

#[test]
fn lambda_authorizers_load_with_their_function_and_are_checked() {
    let fun = "function: {runtime: python3.11, handler: auth.token, code: code}";
    let s = load(
        &format!(
            "  http:
    - {{api: rest, path: /a, authorizer: {{type: token, validation: 'Bearer .+', {fun}}}}}
    - {{api: rest, path: /b, authorizer: {{type: token, {fun}}}}}
    - {{api: http, path: /c, authorizer: {{type: request, identity_source: [$request.header.Auth], simple_responses: true, function: {{name: other, runtime: python3.11, handler: auth.simple, code: code}}}}}}
"
        ),
        "  - name: a\n    event: {}\n",
    )
    .unwrap();
    // The same function on two routes is kept once, named after the suite.
    let names: Vec<&str> = s
        .function
        .authorizers
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["s-authorizer", "other"]);
    let lambda = |i: usize| {
        s.function.http[i]
            .authorizer
            .as_ref()
            .unwrap()
            .lambda()
            .unwrap()
            .clone()
    };
    let token = lambda(0);
    assert_eq!((token.ttl, token.payload), (300, Payload::V1));
    assert_eq!(
        token.sources,
        [crate::gateway::Source::Header("Authorization".into())]
    );
    assert_eq!(token.validation.as_deref(), Some("Bearer .+"));
    let simple = lambda(2);
    assert_eq!(
        (simple.ttl, simple.payload, simple.simple),
        (0, Payload::V2, true)
    );

    let errors = load(
        &format!(
            "  http:
    - {{api: http, path: /a, authorizer: {{type: token, {fun}}}}}
    - {{api: rest, path: /b, authorizer: {{type: request, {fun}}}}}
    - {{api: rest, path: /c, authorizer: {{type: token, issuer: x, {fun}}}}}
    - {{api: http, path: /d, authorizer: {{type: jwt, issuer: x, jwks: k.json, ttl: 5}}}}
    - {{api: rest, path: /e, authorizer: {{type: request, ttl: 0, identity_source: $context.x, {fun}}}}}
    - {{api: rest, path: /f, authorizer: {{type: token}}}}
    - {{api: rest, path: /g, authorizer: {{type: token, function: {{runtime: python3.11, handler: auth.other, code: code}}}}}}
"
        ),
        "  - name: a\n    event: {}\n",
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "6: an HTTP API route cannot have a `token` authorizer",
            "7: a request authorizer that caches (`ttl: 300`) needs `identity_source`: answers are cached by it",
            "8: a Lambda authorizer has no `issuer`",
            "9: a JWT authorizer has no `ttl`",
            "10: authorizer `identity_source`: `$context.x` is not a source lambda-ci reads (a header, a query string parameter or a stage variable)",
            "11: a Lambda `authorizer` without `function`",
            "12: two authorizer functions are named `s-authorizer`",
        ]
    );
}
