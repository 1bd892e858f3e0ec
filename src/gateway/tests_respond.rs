//! What each front door returns for what a function answers: proxy responses per payload
//! version, the 2.0 inference, binary bodies, and the front doors' own errors.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::outcome::{Body, Outcome};

fn route(api: Api) -> Route {
    let path = (api != Api::Url).then(|| PathTemplate::parse("/x").unwrap());
    Route::new(api, Method::Any, path)
}

fn answer(route: &Route, request: &Request, returned: Value) -> HttpResponse {
    let outcome = Outcome::Success {
        body: Body::Json(returned),
    };
    respond(
        route,
        request,
        &outcome,
        Some(Duration::from_millis(5)),
        3,
        &Call::now(),
        false,
    )
}

fn get() -> Request {
    Request::new("GET", "/x")
}

fn header<'r>(r: &'r HttpResponse, name: &str) -> Vec<&'r str> {
    r.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn rest_proxy_responses_pass_on_status_headers_and_body() {
    let r = answer(
        &route(Api::Rest),
        &get(),
        json!({
            "statusCode": "201",
            "headers": {"X-Solo": "a", "X-Both": "solo", "Same": "v", "Date": "today"},
            "multiValueHeaders": {"x-both": ["m1", "m2"], "Same": ["v"]},
            "body": "{\"id\":1}"
        }),
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.body, b"{\"id\":1}");
    assert_eq!(header(&r, "x-solo"), ["a"]);
    // The multi values first, then what `headers` adds; a pair in both once.
    assert_eq!(header(&r, "x-both"), ["m1", "m2", "solo"]);
    assert_eq!(header(&r, "same"), ["v"]);
    // A function may not set `Date`: the REST API renames it.
    assert_eq!(header(&r, "x-amzn-Remapped-Date"), ["today"]);
    assert!(header(&r, "date").is_empty());
    assert_eq!(header(&r, "content-type"), ["application/json"]);
    assert_eq!(header(&r, "x-amzn-requestid").len(), 1);
    assert_eq!(header(&r, "x-amz-apigw-id").len(), 1);
    assert!(r.own.is_none());
    // Nothing is required: an empty object is a 200 with no body.
    let empty = answer(&route(Api::Rest), &get(), json!({}));
    assert_eq!((empty.status, empty.body.len()), (200, 0));
}

#[test]
fn rest_apis_refuse_malformed_proxy_responses_with_their_502() {
    for (returned, why) in [
        (json!({"statusCode": 200, "extra": 1}), "the key `extra`"),
        (json!("just a string"), "a string, not an object"),
        (json!({"statusCode": "teapot"}), "is not an HTTP status"),
        (
            json!({"statusCode": 200, "body": {"a": 1}}),
            "`body` is an object",
        ),
        (json!({"multiValueHeaders": {"a": "b"}}), "is not a list"),
    ] {
        let r = answer(&route(Api::Rest), &get(), returned.clone());
        assert_eq!(r.status, 502, "{returned}");
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body, json!({"message": "Internal server error"}));
        assert_eq!(
            header(&r, "x-amzn-ErrorType"),
            ["InternalServerErrorException"]
        );
        let own = r.own.unwrap();
        assert!(own.contains(why), "{returned}: {own}");
    }
}

#[test]
fn rest_apis_send_bytes_only_to_a_client_accepting_a_binary_media_type() {
    let mut rest = route(Api::Rest);
    rest.binary_media_types = vec!["image/png".into()];
    let png = json!({"statusCode": 200, "body": "iVBORw==", "isBase64Encoded": true,
        "headers": {"Content-Type": "image/png"}});
    let mut accepts = get();
    accepts
        .headers
        .push(("Accept".into(), "image/png, */*".into()));
    assert_eq!(
        answer(&rest, &accepts, png.clone()).body,
        [0x89, 0x50, 0x4e, 0x47]
    );
    // Only the first type of `Accept` counts.
    let mut second = get();
    second
        .headers
        .push(("Accept".into(), "image/webp,image/png".into()));
    assert_eq!(answer(&rest, &second, png.clone()).body, b"iVBORw==");
    assert_eq!(answer(&rest, &get(), png.clone()).body, b"iVBORw==");
    // An HTTP API and a URL always decode.
    assert_eq!(
        answer(&route(Api::Http), &get(), png.clone()).body,
        [0x89, 0x50, 0x4e, 0x47]
    );
    let view = answer(&route(Api::Url), &get(), png).view();
    assert_eq!(view["isBase64Encoded"], true);
    assert_eq!(view["body"], "iVBORw==");
}

#[test]
fn payload_2_infers_a_response_from_any_other_value() {
    for api in [Api::Http, Api::Url] {
        for (returned, body) in [
            (json!("hello"), "hello"),
            (json!({"id": 1}), "{\"id\":1}"),
            (json!([1, 2]), "[1,2]"),
            (json!(3), "3"),
            (json!(null), "null"),
        ] {
            let r = answer(&route(api), &get(), returned);
            assert_eq!(r.status, 200);
            assert_eq!(String::from_utf8(r.body.clone()).unwrap(), body);
            assert_eq!(header(&r, "content-type"), ["application/json"]);
        }
    }
}

#[test]
fn payload_2_proxy_responses_turn_cookies_into_set_cookie_headers() {
    let returned = json!({"statusCode": 200, "body": "hi", "cookies": ["a=1; Path=/", "b=2"],
        "headers": {"x-n": 3}});
    let http = answer(&route(Api::Http), &get(), returned.clone());
    assert_eq!(header(&http, "set-cookie"), ["a=1; Path=/", "b=2"]);
    assert_eq!(header(&http, "x-n"), ["3"]);
    // Without a type from the function, an HTTP API says text and a URL JSON.
    assert_eq!(header(&http, "content-type"), ["text/plain; charset=utf-8"]);
    assert_eq!(header(&http, "apigw-requestid").len(), 1);
    let url = answer(&route(Api::Url), &get(), returned);
    assert_eq!(header(&url, "content-type"), ["application/json"]);
    let view = url.view();
    assert_eq!(
        view["multiValueHeaders"]["set-cookie"],
        json!(["a=1; Path=/", "b=2"])
    );
    assert_eq!(view["statusCode"], 200);
}

#[test]
fn function_errors_and_timeouts_get_each_front_doors_own_answer() {
    let failed = Outcome::FunctionError {
        error_type: "KeyError".into(),
        message: "'id'".into(),
        body: json!({}),
    };
    let timed_out = Outcome::Timeout {
        message: "Task timed out after 3.00 seconds".into(),
    };
    let call = Call::now();
    let at = |api: Api, outcome: &Outcome, took: u64, timeout: u32| {
        let r = respond(
            &route(api),
            &get(),
            outcome,
            Some(Duration::from_millis(took)),
            timeout,
            &call,
            false,
        );
        (
            r.status,
            String::from_utf8(r.body).unwrap(),
            r.own.unwrap_or_default(),
        )
    };
    let (status, body, own) = at(Api::Rest, &failed, 10, 3);
    assert_eq!(
        (status, body.as_str()),
        (502, r#"{"message": "Internal server error"}"#)
    );
    assert!(own.contains("KeyError: 'id'"), "{own}");
    assert_eq!(at(Api::Http, &failed, 10, 3).0, 500);
    assert_eq!(at(Api::Url, &failed, 10, 3).1, "Internal Server Error");
    // A function that times out before the API does is a failed function.
    assert_eq!(at(Api::Rest, &timed_out, 3000, 3).0, 502);
    // One whose timeout is past the API's gets the API's timeout.
    let (status, body, own) = at(Api::Rest, &timed_out, 29_500, 60);
    assert_eq!(
        (status, body.as_str()),
        (504, r#"{"message": "Endpoint request timed out"}"#)
    );
    assert!(own.contains("stops waiting after 29 s"), "{own}");
    let ok = Outcome::Success {
        body: Body::Json(json!({"statusCode": 200})),
    };
    assert_eq!(at(Api::Http, &ok, 31_000, 60).0, 503);
    // A URL waits for the function.
    assert_eq!(at(Api::Url, &ok, 120_000, 300).0, 200);
}
