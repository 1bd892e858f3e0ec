//! Payload 2.0: the event an HTTP API sends by default and a function URL always sends:
//! lower-case header names with repeats joined by commas, `cookies` apart, `rawPath` and
//! `rawQueryString` as sent, `routeKey`, `requestContext.http`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::event::{ACCOUNT, Call, Site};
use super::{Api, Matched, Request, UrlAuth};

/// Values by name, repeats joined by `,` in order.
fn joined(pairs: impl Iterator<Item = (String, String)>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in pairs {
        out.entry(k)
            .and_modify(|all| {
                all.push(',');
                all.push_str(&v);
            })
            .or_insert(v);
    }
    out
}

/// The payload 2.0 event for `request` (already through the front door's headers).
pub(super) fn event(matched: &Matched<'_>, request: &Request, site: &Site, call: &Call) -> Value {
    let route = matched.route;
    // Header names in lower case; an HTTP API moves the cookies out of the headers, a
    // function URL leaves them in both.
    let headers = joined(
        request
            .headers
            .iter()
            .filter(|(k, _)| route.api == Api::Url || !k.eq_ignore_ascii_case("cookie"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone())),
    );
    let query_map = joined(request.query().into_iter());
    let (body, encoded) = super::event_v1::body(request, route.api, &[]);
    let path = route.staged(&request.path);
    let route_key = route.key();
    let request_id = match route.api {
        Api::Url => call.request_id.clone(),
        _ => call.short_id.clone(),
    };
    let account = match (route.api, route.auth) {
        (Api::Url, UrlAuth::None) => "anonymous",
        _ => ACCOUNT,
    };
    let mut context = json!({
        "accountId": account,
        "apiId": site.api_id,
        "domainName": site.domain(route.api),
        "domainPrefix": site.api_id,
        "http": {
            "method": request.method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent").unwrap_or_default(),
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": route.stage,
        "time": call.clf_time(),
        "timeEpoch": call.epoch_ms(),
    });
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": context.take(),
        "isBase64Encoded": encoded,
    });
    let cookies = request.cookies();
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query_map.is_empty() {
        event["queryStringParameters"] = json!(query_map);
    }
    if !matched.params.is_empty() {
        // An HTTP API decodes the parameters a REST API passes on encoded.
        let decoded: BTreeMap<&String, String> = matched
            .params
            .iter()
            .map(|(k, v)| {
                let text = percent_encoding::percent_decode_str(v).decode_utf8_lossy();
                (k, text.into_owned())
            })
            .collect();
        event["pathParameters"] = json!(decoded);
    }
    if !route.stage_variables.is_empty() {
        event["stageVariables"] = json!(route.stage_variables);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}
