//! Payload 1.0: the event a REST API's Lambda proxy integration sends (and an HTTP API set to
//! payload 1.0): single- and multi-value headers and query parameters, `resource` beside
//! `path`, `requestContext.identity`. Also the headers every front door adds to a request.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::event::{ACCOUNT, Call, Site};
use super::request::media_matches;
use super::{Api, Matched, Request};

/// `request` as it leaves the front door: `Host` its domain, with the forwarding and trace
/// headers it adds (a function URL's TLS headers too).
pub(super) fn gateway_headers(request: &Request, api: Api, site: &Site, call: &Call) -> Request {
    let mut out = request.clone();
    let forwarded = match request.header("x-forwarded-for") {
        Some(chain) => format!("{chain}, {}", request.source_ip),
        None => request.source_ip.clone(),
    };
    let lower = api != Api::Rest;
    let name = |n: &str| {
        if lower {
            n.to_ascii_lowercase()
        } else {
            n.to_string()
        }
    };
    if api == Api::Rest {
        // CloudFront, in front of a REST API, title-cases these two and drops these two.
        out.headers.retain(|(k, _)| {
            !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("connection")
        });
        for (k, _) in &mut out.headers {
            for fixed in ["Authorization", "User-Agent"] {
                if k.eq_ignore_ascii_case(fixed) {
                    *k = fixed.to_string();
                }
            }
        }
    } else {
        out.headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-length"));
        out.headers
            .push(("content-length".into(), request.body.len().to_string()));
    }
    let set = [
        ("Host", site.domain(api)),
        ("X-Amzn-Trace-Id", call.trace_id.clone()),
        ("X-Forwarded-For", forwarded),
        ("X-Forwarded-Port", "443".into()),
        ("X-Forwarded-Proto", "https".into()),
    ];
    for (n, value) in set {
        out.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(n));
        out.headers.push((name(n), value));
    }
    if api == Api::Url {
        out.headers.push((
            "x-amzn-tls-cipher-suite".into(),
            "TLS_AES_128_GCM_SHA256".into(),
        ));
        out.headers
            .push(("x-amzn-tls-version".into(), "TLSv1.3".into()));
    }
    out
}

/// Values by name, the names grouped in any case under their first spelling: the last value
/// of each, and all of them. Both are null when there are none, as API Gateway sends them.
fn single_and_multi(pairs: &[(String, String)]) -> (Value, Value) {
    let mut order: Vec<String> = Vec::new();
    let mut all: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in pairs {
        let key = order
            .iter()
            .find(|o| o.eq_ignore_ascii_case(k))
            .cloned()
            .unwrap_or_else(|| {
                order.push(k.clone());
                k.clone()
            });
        all.entry(key).or_default().push(v.clone());
    }
    if all.is_empty() {
        return (Value::Null, Value::Null);
    }
    let single: Map<String, Value> = all
        .iter()
        .map(|(k, vs)| (k.clone(), json!(vs.last())))
        .collect();
    let multi: Map<String, Value> = all.into_iter().map(|(k, vs)| (k, json!(vs))).collect();
    (Value::Object(single), Value::Object(multi))
}

/// The body as the event carries it, and whether it is base64: REST APIs encode a body whose
/// type is one of the API's binary media types; HTTP APIs one that is not text.
pub(super) fn body(request: &Request, api: Api, binary_types: &[String]) -> (Value, bool) {
    if request.body.is_empty() {
        return (Value::Null, false);
    }
    let media = request.media_type();
    let binary = match api {
        Api::Rest => media
            .as_deref()
            .is_some_and(|m| binary_types.iter().any(|p| media_matches(p, m))),
        Api::Http | Api::Url => !super::event::is_text(media.as_deref()),
    };
    if binary {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&request.body);
        return (Value::String(encoded), true);
    }
    let text = String::from_utf8_lossy(&request.body).into_owned();
    (Value::String(text), false)
}

fn or_null(map: &BTreeMap<String, String>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        json!(map)
    }
}

/// The payload 1.0 event for `request` (already through [`gateway_headers`]).
pub(super) fn event(matched: &Matched<'_>, request: &Request, site: &Site, call: &Call) -> Value {
    let route = matched.route;
    let (headers, multi_headers) = single_and_multi(&request.headers);
    let (query, multi_query) = single_and_multi(&request.query());
    let (body, encoded) = body(request, route.api, &route.binary_media_types);
    let resource = match &route.path {
        Some(path) => path.to_string(),
        None => "$default".to_string(),
    };
    let user_agent = request.header("user-agent");
    let identity = json!({
        "cognitoIdentityPoolId": null,
        "accountId": null,
        "cognitoIdentityId": null,
        "caller": null,
        "sourceIp": request.source_ip,
        "principalOrgId": null,
        "accessKey": null,
        "cognitoAuthenticationType": null,
        "cognitoAuthenticationProvider": null,
        "userArn": null,
        "userAgent": user_agent,
        "user": null,
    });
    let stage_path = route.staged(&request.path);
    let domain = site.domain(route.api);
    let mut context = json!({
        "accountId": ACCOUNT,
        "apiId": site.api_id,
        "domainName": domain,
        "domainPrefix": site.api_id,
        "extendedRequestId": call.short_id,
        "httpMethod": request.method,
        "identity": identity,
        "path": stage_path,
        "protocol": "HTTP/1.1",
        "requestId": call.request_id,
        "requestTime": call.clf_time(),
        "requestTimeEpoch": call.epoch_ms(),
        "resourceId": resource_id(route, site),
        "resourcePath": resource,
        "stage": route.stage,
    });
    if route.api == Api::Http {
        // An HTTP API names the route where a REST API names its resource.
        context["resourceId"] = json!(route.key());
        context["requestId"] = json!(call.short_id);
    }
    let mut event = json!({
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": or_null(&matched.params),
        "stageVariables": or_null(&route.stage_variables),
        "requestContext": context,
        "body": body,
        "isBase64Encoded": encoded,
    });
    if route.api == Api::Http {
        event["version"] = json!("1.0");
    }
    event
}

/// A REST resource's id: six characters, the same for a route in every run.
fn resource_id(route: &super::Route, site: &Site) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("{}{}", site.api_id, route.key()).as_bytes());
    digest.iter().take(3).map(|b| format!("{b:02x}")).collect()
}
