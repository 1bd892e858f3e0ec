//! Lambda authorizers: the events their functions are sent (read by `aws_lambda_events`' own
//! authorizer request types), the identity a request presents, what an answer allows, and the
//! cache.

use std::time::{Duration, Instant};

use aws_lambda_events::event::apigw;
use serde_json::{Value, json};

use super::tests_events::{event, read_back, request, route};
use super::*;
use crate::outcome::{Body, Outcome};

fn lambda(kind: LambdaKind, sources: &[&str]) -> Lambda {
    Lambda {
        kind,
        function: "auth".into(),
        sources: sources.iter().map(|s| Source::parse(s).unwrap()).collect(),
        ttl: 300,
        payload: Payload::V1,
        simple: false,
        validation: None,
    }
}

fn site() -> Site {
    Site::of("orders", Api::Rest, None, "us-east-1")
}

fn returned(answer: Value) -> Outcome {
    Outcome::Success {
        body: Body::Json(answer),
    }
}

fn allow(resource: &str, context: Value) -> Outcome {
    returned(json!({
        "principalId": "user-1",
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": resource}]},
        "context": context,
    }))
}

#[test]
fn authorizer_events_read_as_aws_lambda_events_authorizer_requests() {
    let r = route(Api::Rest, "GET", "/orders/{id}");
    let mut req = request("GET", "/orders/42?expand=items");
    req.headers
        .push(("Authorization".into(), "Bearer abc".into()));
    let arn = method_arn(&r, &req, &site());
    assert!(arn.ends_with("/Prod/GET/orders/42"), "{arn}");
    assert!(
        arn.starts_with("arn:aws:execute-api:us-east-1:123456789012:"),
        "{arn}"
    );

    let token = lambda(LambdaKind::Token, &["method.request.header.Authorization"]);
    let id = identity(&token, &r, &req).unwrap();
    assert_eq!(id, vec!["Bearer abc".to_string()]);
    let e = authorizer_event(&token, &r, &event(&r, &req), &id, &arn);
    assert_eq!(
        read_back::<apigw::ApiGatewayCustomAuthorizerRequest>(&e),
        Vec::<String>::new()
    );
    assert_eq!(
        e,
        json!({"type": "TOKEN", "authorizationToken": "Bearer abc", "methodArn": arn})
    );

    let by_request = lambda(LambdaKind::Request, &["method.request.querystring.expand"]);
    let e = authorizer_event(&by_request, &r, &event(&r, &req), &["items".into()], &arn);
    assert_eq!(e["type"], "REQUEST");
    assert_eq!(e["methodArn"], json!(arn));
    assert_eq!(e["pathParameters"], json!({"id": "42"}));
    assert!(e.get("body").is_none() && e["requestContext"].get("authorizer").is_none());
    let typed: apigw::ApiGatewayCustomAuthorizerRequestTypeRequest =
        serde_json::from_value(e.clone()).expect("reads as a REQUEST authorizer's event");
    assert_eq!(typed.method_arn.as_deref(), Some(arn.as_str()));

    let h = route(Api::Http, "ANY", "/orders/{id}");
    let mut v2 = lambda(LambdaKind::Request, &["$request.header.Authorization"]);
    v2.payload = Payload::V2;
    let e = authorizer_event(&v2, &h, &event(&h, &req), &["Bearer abc".into()], &arn);
    let typed: apigw::ApiGatewayV2CustomAuthorizerV2Request =
        serde_json::from_value(e.clone()).expect("reads as an HTTP API authorizer's event");
    assert_eq!(typed.identity_source, Some(vec!["Bearer abc".to_string()]));
    assert_eq!(typed.route_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(e["routeKey"], "ANY /orders/{id}");

    let mut h1 = h.clone();
    h1.payload = Payload::V1;
    let mut v1 = v2.clone();
    v1.payload = Payload::V1;
    let e = authorizer_event(&v1, &h1, &event(&h1, &req), &["a".into(), "b".into()], &arn);
    let typed: apigw::ApiGatewayV2CustomAuthorizerV1Request =
        serde_json::from_value(e).expect("reads as an HTTP API payload 1.0 authorizer's event");
    assert_eq!(typed.identity_source.as_deref(), Some("a,b"));
}

#[test]
fn a_missing_identity_source_or_an_invalid_token_is_a_401() {
    let r = route(Api::Rest, "GET", "/orders/{id}");
    let req = request("GET", "/orders/42?tenant=acme");
    let both = lambda(
        LambdaKind::Request,
        &[
            "method.request.header.X-User",
            "method.request.querystring.tenant",
        ],
    );
    let refused = identity(&both, &r, &req).unwrap_err();
    assert_eq!(refused.status, 401);
    assert_eq!(refused.body, br#"{"message":"Unauthorized"}"#);
    assert!(refused.own.unwrap().contains("`X-User` header"));
    let mut with_user = req.clone();
    with_user.headers.push(("x-user".into(), "carol".into()));
    assert_eq!(
        identity(&both, &r, &with_user).unwrap(),
        vec!["carol", "acme"]
    );

    let mut token = lambda(LambdaKind::Token, &["Authorization"]);
    token.validation = Some("Bearer [a-z]+".into());
    let mut bad = req.clone();
    bad.headers
        .push(("Authorization".into(), "Bearer abc123".into()));
    // The expression must match the whole token.
    assert_eq!(identity(&token, &r, &bad).unwrap_err().status, 401);
    let h = route(Api::Http, "ANY", "/orders/{id}");
    let refused = identity(&both, &h, &req).unwrap_err();
    assert_eq!(
        (refused.status, refused.headers.len()),
        (401, 1),
        "no REST error type"
    );
}

#[test]
fn policies_allow_deny_and_pass_the_context_as_each_api_does() {
    let r = route(Api::Rest, "GET", "/orders/{id}");
    let arn = "arn:aws:execute-api:us-east-1:123456789012:abc/Prod/GET/orders/42";
    let token = lambda(LambdaKind::Token, &["Authorization"]);
    let took = Duration::from_millis(7);
    let context = json!({"user": "alice", "admin": true, "n": 3});
    let passed = verdict(
        &token,
        &r,
        arn,
        &allow("arn:aws:execute-api:*:*:*/Prod/*", context.clone()),
        took,
    )
    .unwrap();
    assert_eq!(
        passed,
        json!({"principalId": "user-1", "integrationLatency": 7, "user": "alice", "admin": "true", "n": "3"})
    );
    let refused = verdict(
        &token,
        &r,
        arn,
        &allow("arn:aws:execute-api:*:*:*/Prod/POST/*", json!({})),
        took,
    )
    .unwrap_err();
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.body,
        br#"{"Message":"User is not authorized to access this resource"}"#
    );
    let deny = returned(json!({"principalId": "x", "policyDocument": {"Statement": [
        {"Action": "*", "Effect": "Deny", "Resource": arn}]}}));
    let refused = verdict(&token, &r, arn, &deny, took).unwrap_err();
    assert!(
        String::from_utf8(refused.body)
            .unwrap()
            .contains("explicit deny")
    );

    let raised = Outcome::FunctionError {
        error_type: "Exception".into(),
        message: "Unauthorized".into(),
        body: json!({}),
    };
    assert_eq!(
        verdict(&token, &r, arn, &raised, took).unwrap_err().status,
        401
    );
    let broken = returned(json!({"allowed": true}));
    let refused = verdict(&token, &r, arn, &broken, took).unwrap_err();
    assert_eq!(
        (refused.status, refused.body.as_slice()),
        (500, &br#"{"message": null}"#[..])
    );
    let nested = allow("*", json!({"user": {"id": 1}}));
    assert_eq!(
        verdict(&token, &r, arn, &nested, took).unwrap_err().status,
        500
    );

    // An HTTP API passes the context under `lambda`, values as they are.
    let h = route(Api::Http, "ANY", "/orders/{id}");
    let passed = verdict(&token, &h, arn, &allow("*", context.clone()), took).unwrap();
    assert_eq!(passed["lambda"], context);
    let mut simple = token.clone();
    simple.simple = true;
    let yes = returned(json!({"isAuthorized": true, "context": {"user": "bob"}}));
    assert_eq!(
        verdict(&simple, &h, arn, &yes, took).unwrap(),
        json!({"lambda": {"user": "bob"}})
    );
    let no = returned(json!({"isAuthorized": false}));
    let refused = verdict(&simple, &h, arn, &no, took).unwrap_err();
    assert_eq!(
        (refused.status, refused.body.as_slice()),
        (403, &br#"{"message":"Forbidden"}"#[..])
    );
    let vague = returned(json!({"isAuthorized": "yes"}));
    assert_eq!(
        verdict(&simple, &h, arn, &vague, took).unwrap_err().status,
        500
    );
}

#[test]
fn answers_are_cached_by_identity_for_the_ttl_and_errors_are_not() {
    let mut token = lambda(LambdaKind::Token, &["Authorization"]);
    token.ttl = 60;
    let cache = Cache::default();
    let now = Instant::now();
    let answer = allow("*", json!({}));
    cache.put(&token, &["a".into()], now, &answer);
    assert_eq!(
        cache.get(&token, &["a".into()], now + Duration::from_secs(59)),
        Some(answer.clone())
    );
    assert_eq!(
        cache.get(&token, &["a".into()], now + Duration::from_secs(60)),
        None
    );
    assert_eq!(cache.get(&token, &["b".into()], now), None);
    let raised = Outcome::FunctionError {
        error_type: "Exception".into(),
        message: "Unauthorized".into(),
        body: json!({}),
    };
    cache.put(&token, &["c".into()], now, &raised);
    assert_eq!(cache.get(&token, &["c".into()], now), None);
    token.ttl = 0;
    cache.put(&token, &["d".into()], now, &answer);
    assert_eq!(cache.get(&token, &["d".into()], now), None);
}

#[test]
fn identity_sources_are_read_as_api_gateway_writes_them() {
    assert_eq!(
        Source::parse("method.request.header.Auth"),
        Ok(Source::Header("Auth".into()))
    );
    assert_eq!(
        Source::parse("$request.querystring.t"),
        Ok(Source::Query("t".into()))
    );
    assert_eq!(
        Source::parse("$stageVariables.s"),
        Ok(Source::StageVariable("s".into()))
    );
    assert_eq!(
        Source::parse("Authorization"),
        Ok(Source::Header("Authorization".into()))
    );
    assert!(
        Source::parse("$context.identity.sourceIp")
            .unwrap_err()
            .contains("not a source")
    );
    assert!(Source::parse("method.request.path.id").is_err());
}
