//! The events the front doors build, read by an independent reader of AWS's shapes: each
//! deserialises as its `aws_lambda_events` type and keeps every field once written back, and
//! has the same fields, of the same kinds, as the documented example of its payload (the
//! catalogue's templates, authored from AWS's documentation).

use aws_lambda_events::event as aws;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;

/// Fields AWS sends that `aws_lambda_events` does not model, so its reader drops them.
const UNMODELLED: &[&str] = &[
    "$.requestContext.extendedRequestId",
    "$.routeKey",
    "$.requestContext.routeKey",
    "$.requestContext.stage",
    // An HTTP API's payload 1.0 says its version; the REST type has no field for it.
    "$.version",
];

pub(super) fn read_back<T: DeserializeOwned + serde::Serialize>(event: &Value) -> Vec<String> {
    let typed: T = serde_json::from_value(event.clone()).unwrap_or_else(|e| {
        panic!("the event does not read as its aws_lambda_events type: {e}\n{event:#}")
    });
    let back = serde_json::to_value(typed).unwrap();
    let mut problems = Vec::new();
    crate::events::tests::holds(event, &back, "$", &mut problems);
    problems.retain(|p| !UNMODELLED.iter().any(|u| p == &format!("{u} is lost")));
    problems
}

/// Where `ours` and the documented `example` differ in which fields they have, or in the kind
/// of a field both have (a null in either matches anything: it stands for "absent here").
fn same_fields(ours: &Value, example: &Value, at: &str, out: &mut Vec<String>, maps: &[&str]) {
    match (ours, example) {
        (Value::Object(a), Value::Object(b)) => {
            // Header, query and parameter maps hold whatever was sent: only their kind counts.
            if maps.iter().any(|m| at.ends_with(m)) {
                return;
            }
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                out.push(format!("{at}.{k} is not in the documented example"));
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{at}.{k} is missing"));
            }
            for (k, v) in a {
                if let Some(e) = b.get(k) {
                    same_fields(v, e, &format!("{at}.{k}"), out, maps);
                }
            }
        }
        (Value::Null, _) | (_, Value::Null) => {}
        (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => {}
        (a, b) => out.push(format!("{at} is {a}, the example has {b}")),
    }
}

const MAPS: &[&str] = &[
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
];

pub(super) fn route(api: Api, method: &str, path: &str) -> Route {
    let path = (path != "$default").then(|| PathTemplate::parse(path).unwrap());
    Route::new(api, Method::parse(method).unwrap(), path)
}

pub(super) fn request(method: &str, target: &str) -> Request {
    let mut r = Request::new(method, target);
    r.headers = vec![
        ("Accept".into(), "application/json".into()),
        ("User-Agent".into(), "curl/8.5.0".into()),
        ("X-Multi".into(), "one".into()),
        ("x-multi".into(), "two".into()),
        ("Cookie".into(), "session=3f7a; theme=dark".into()),
    ];
    r
}

pub(super) fn event(route: &Route, request: &Request) -> Value {
    let routes = std::slice::from_ref(route);
    let matched = matching(routes, route.api, &request.method, &request.path).unwrap();
    let site = Site::of("orders", route.api, None, "us-east-1");
    build(&matched, request, &site, &Call::now())
}

fn example(name: &str) -> Value {
    crate::events::Kind::named(name).unwrap().template()
}

#[test]
fn rest_events_read_as_api_gateway_proxy_requests_shaped_as_documented() {
    let r = route(Api::Rest, "GET", "/orders/{id}");
    let mut req = request("GET", "/orders/a%2Fb?expand=items&tag=a&tag=b");
    req.headers.push(("Content-Length".into(), "0".into()));
    let e = event(&r, &req);
    assert_eq!(
        read_back::<aws::apigw::ApiGatewayProxyRequest>(&e),
        Vec::<String>::new()
    );
    let mut diff = Vec::new();
    same_fields(&e, &example("apigw-v1"), "$", &mut diff, MAPS);
    assert_eq!(diff, Vec::<String>::new(), "{e:#}");
    assert_eq!(e["resource"], "/orders/{id}");
    assert_eq!(e["path"], "/orders/a%2Fb");
    // A REST API passes path parameters on as sent, and decodes the query.
    assert_eq!(e["pathParameters"], json!({"id": "a%2Fb"}));
    assert_eq!(
        e["queryStringParameters"],
        json!({"expand": "items", "tag": "b"})
    );
    assert_eq!(
        e["multiValueQueryStringParameters"]["tag"],
        json!(["a", "b"])
    );
    assert_eq!(e["headers"]["X-Multi"], "two");
    assert_eq!(e["multiValueHeaders"]["X-Multi"], json!(["one", "two"]));
    assert!(e["headers"].get("Content-Length").is_none());
    assert_eq!(e["requestContext"]["path"], "/Prod/orders/a%2Fb");
    assert_eq!(e["requestContext"]["stage"], "Prod");
    assert_eq!(e["requestContext"]["identity"]["userAgent"], "curl/8.5.0");
    assert_eq!(e["body"], Value::Null);
    assert_eq!(e["stageVariables"], Value::Null);
    assert!(e.get("version").is_none());
}

#[test]
fn http_api_events_read_as_v2_requests_shaped_as_documented() {
    let mut r = route(Api::Http, "ANY", "/items/{proxy+}");
    r.stage_variables = [("table".to_string(), "items".to_string())].into();
    let mut req = request("POST", "/items/a/b%20c?x=1&x=2");
    req.body = br#"{"sku":"A"}"#.to_vec();
    req.headers
        .push(("Content-Type".into(), "application/json".into()));
    let e = event(&r, &req);
    assert_eq!(
        read_back::<aws::apigw::ApiGatewayV2httpRequest>(&e),
        Vec::<String>::new()
    );
    let mut diff = Vec::new();
    let mut doc = example("apigw-v2");
    doc["pathParameters"] = json!({});
    doc["stageVariables"] = json!({});
    same_fields(&e, &doc, "$", &mut diff, MAPS);
    assert_eq!(diff, Vec::<String>::new(), "{e:#}");
    assert_eq!(e["routeKey"], "ANY /items/{proxy+}");
    assert_eq!(e["rawPath"], "/items/a/b%20c");
    assert_eq!(e["rawQueryString"], "x=1&x=2");
    assert_eq!(e["queryStringParameters"], json!({"x": "1,2"}));
    assert_eq!(e["pathParameters"], json!({"proxy": "a/b c"}));
    assert_eq!(e["cookies"], json!(["session=3f7a", "theme=dark"]));
    // Lower-case names, repeats joined by commas, the cookies moved out.
    assert_eq!(e["headers"]["x-multi"], "one,two");
    assert!(e["headers"].get("cookie").is_none());
    assert_eq!(e["headers"]["content-length"], "11");
    assert_eq!(e["body"], r#"{"sku":"A"}"#);
    assert_eq!(e["isBase64Encoded"], false);
    assert_eq!(e["requestContext"]["http"]["method"], "POST");
    assert_eq!(e["stageVariables"], json!({"table": "items"}));
}

#[test]
fn http_api_events_on_payload_1_read_as_proxy_requests_with_their_version() {
    let mut r = route(Api::Http, "GET", "/items");
    r.payload = Payload::V1;
    let e = event(&r, &request("GET", "/items"));
    assert_eq!(
        read_back::<aws::apigw::ApiGatewayProxyRequest>(&e),
        Vec::<String>::new()
    );
    assert_eq!(e["version"], "1.0");
    assert_eq!(e["requestContext"]["resourceId"], "GET /items");
    // An HTTP API lower-cases the names it adds.
    assert!(e["headers"].get("host").is_some());
}

#[test]
fn function_url_events_read_as_url_requests_shaped_as_documented() {
    let r = route(Api::Url, "ANY", "$default");
    let mut req = request("PUT", "/anything/at/all?view=full");
    req.body = vec![0x89, 0x50, 0x4e, 0x47];
    req.headers
        .push(("Content-Type".into(), "image/png".into()));
    let e = event(&r, &req);
    assert_eq!(
        read_back::<aws::lambda_function_urls::LambdaFunctionUrlRequest>(&e),
        Vec::<String>::new()
    );
    let mut diff = Vec::new();
    same_fields(&e, &example("function-url"), "$", &mut diff, MAPS);
    // The documented example is a GET: it has no body.
    assert_eq!(
        diff,
        vec!["$.body is not in the documented example"],
        "{e:#}"
    );
    assert_eq!(e["routeKey"], "$default");
    assert_eq!(e["requestContext"]["accountId"], "anonymous");
    assert!(e["requestContext"].get("authorizer").is_none());
    // A function URL leaves the cookies in the headers too.
    assert_eq!(e["headers"]["cookie"], "session=3f7a; theme=dark");
    assert_eq!(e["isBase64Encoded"], true);
    assert_eq!(e["body"], "iVBORw==");
    assert!(
        e["requestContext"]["domainName"]
            .as_str()
            .unwrap()
            .ends_with(".lambda-url.us-east-1.on.aws")
    );
}

#[test]
fn bodies_are_base64_where_each_front_door_encodes_them() {
    let body_of = |api: Api, binary: &[&str], content_type: Option<&str>| {
        let mut r = route(api, "POST", if api == Api::Url { "$default" } else { "/x" });
        r.binary_media_types = binary.iter().map(|s| s.to_string()).collect();
        let mut req = Request::new("POST", "/x");
        req.body = b"a=1".to_vec();
        if let Some(t) = content_type {
            req.headers.push(("Content-Type".into(), t.into()));
        }
        let e = event(&r, &req);
        (
            e["body"].as_str().unwrap().to_string(),
            e["isBase64Encoded"] == true,
        )
    };
    let text = ("a=1".to_string(), false);
    let encoded = ("YT0x".to_string(), true);
    // REST: only the API's binary media types.
    assert_eq!(body_of(Api::Rest, &[], Some("image/png")), text);
    assert_eq!(body_of(Api::Rest, &["image/*"], Some("image/png")), encoded);
    assert_eq!(
        body_of(Api::Rest, &["*/*"], Some("application/json")),
        encoded
    );
    // HTTP APIs and URLs: anything that is not text, a form and a body without a type too.
    for api in [Api::Http, Api::Url] {
        assert_eq!(
            body_of(api, &[], Some("application/json; charset=utf-8")),
            text
        );
        assert_eq!(body_of(api, &[], Some("text/csv")), text);
        assert_eq!(
            body_of(api, &[], Some("application/x-www-form-urlencoded")),
            encoded
        );
        assert_eq!(body_of(api, &[], None), encoded);
        assert_eq!(body_of(api, &[], Some("application/octet-stream")), encoded);
    }
}
