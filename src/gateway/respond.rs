//! The HTTP response a front door returns for what the function answered: the proxy response
//! read as its payload version reads it (payload 2.0 infers one from any other value), or the
//! front door's own error when the function failed, answered something malformed or took too
//! long.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::event::Call;
use super::own::{Own, own};
use super::request::{media_matches, media_type};
use super::{Api, Payload, Request, Route};
use crate::outcome::{Body, Outcome};

/// An HTTP response as the client receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// In order; a name may repeat (`Set-Cookie`).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Why the front door answered on its own instead of passing the function's response on.
    pub own: Option<String>,
}

impl HttpResponse {
    /// The response as checks read it: `statusCode`, `headers` (lower-case names, repeated
    /// values joined by `, `), `multiValueHeaders`, and `body` as text, or base64 with
    /// `isBase64Encoded` when it is not UTF-8.
    pub fn view(&self) -> Value {
        let mut multi: Map<String, Value> = Map::new();
        for (k, v) in &self.headers {
            let entry = multi
                .entry(k.to_ascii_lowercase())
                .or_insert_with(|| json!([]));
            if let Value::Array(all) = entry {
                all.push(json!(v));
            }
        }
        let single: Map<String, Value> = multi
            .iter()
            .map(|(k, vs)| {
                let joined: Vec<&str> = vs
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                (k.clone(), json!(joined.join(", ")))
            })
            .collect();
        let (body, encoded) = match std::str::from_utf8(&self.body) {
            Ok(text) => (text.to_string(), false),
            Err(_) => (
                base64::engine::general_purpose::STANDARD.encode(&self.body),
                true,
            ),
        };
        json!({
            "statusCode": self.status,
            "headers": single,
            "multiValueHeaders": multi,
            "body": body,
            "isBase64Encoded": encoded,
        })
    }

    pub(super) fn set_default(&mut self, name: &str, value: &str) {
        if super::header_value(&self.headers, name).is_none() {
            self.headers.push((name.to_string(), value.to_string()));
        }
    }
}

/// What the front door of `route` returns to `request` for `outcome`, which took `took`, of a
/// function whose timeout is `timeout_s`; `streamed` when lambda-ci's agent read the response
/// as a stream.
pub fn respond(
    route: &Route,
    request: &Request,
    outcome: &Outcome,
    took: Option<Duration>,
    timeout_s: u32,
    call: &Call,
    streamed: bool,
) -> HttpResponse {
    let waited = route.api.integration_timeout_ms();
    let past = |ms: u64| took.is_some_and(|t| t.as_millis() as u64 > ms);
    let timed_out = matches!(outcome, Outcome::Timeout { .. });
    let mut response = match waited {
        Some(ms) if past(ms) || (timed_out && u64::from(timeout_s) * 1000 > ms) => own(
            route.api,
            Own::Timeout,
            format!(
                "the {} stops waiting after {} s",
                route.api.describe(),
                ms / 1000
            ),
        ),
        _ => answered(route, request, outcome, streamed),
    };
    stamp(route, request, call, &mut response);
    response.set_default("Content-Length", &response.body.len().to_string());
    response
}

/// What the front door adds to every response it passes on: its ids, and the CORS headers
/// its configuration sets.
pub fn stamp(route: &Route, request: &Request, call: &Call, response: &mut HttpResponse) {
    let ids: Vec<(&str, String)> = match route.api {
        Api::Rest => vec![
            ("x-amzn-RequestId", call.request_id.clone()),
            ("x-amz-apigw-id", call.short_id.clone()),
            ("X-Amzn-Trace-Id", call.trace_id.clone()),
        ],
        Api::Http => vec![("apigw-requestid", call.short_id.clone())],
        Api::Url => vec![
            ("x-amzn-RequestId", call.request_id.clone()),
            ("X-Amzn-Trace-Id", call.trace_id.clone()),
        ],
    };
    for (name, value) in ids {
        response.set_default(name, &value);
    }
    if let Some(cors) = &route.cors {
        super::cors::decorate(route.api, cors, request, response);
    }
}

/// What the function's outcome becomes when it finished in time.
fn answered(route: &Route, request: &Request, outcome: &Outcome, streamed: bool) -> HttpResponse {
    let why = match outcome {
        Outcome::Success { body } if route.streams() => {
            return super::stream::whole(body, streamed);
        }
        Outcome::Success { body } => {
            let read = match route.payload {
                Payload::V1 => v1(route, request, body),
                Payload::V2 => v2(route.api, body),
            };
            match read {
                Ok(response) => return response,
                Err(why) => format!(
                    "the function's response is malformed for payload {}: {why}",
                    route.payload.name()
                ),
            }
        }
        other => failed(other),
    };
    own(route.api, Own::Failed, why)
}

/// Why an invocation that did not return failed, in words.
pub fn failed(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Success { .. } => "it returned".into(),
        Outcome::FunctionError {
            error_type,
            message,
            ..
        } => format!("the function failed: {error_type}: {message}"),
        Outcome::Timeout { message } => format!("the function failed: {message}"),
        Outcome::RuntimeFailure {
            message, status, ..
        } => format!(
            "the function failed: {}",
            message
                .clone()
                .unwrap_or_else(|| format!("the runtime answered {status}"))
        ),
        Outcome::Transport { error, .. } => format!("no answer from the function: {error}"),
        Outcome::ContainerExited { exit_code, .. } => {
            format!("the function's container exited with code {exit_code}")
        }
    }
}

/// A header value as the front door writes it: strings as they are, numbers and booleans
/// as their text; anything else is malformed.
fn header_text(name: &str, v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!(
            "header `{name}` is {}, not a string",
            crate::suite::node::json_kind(other)
        )),
    }
}

/// `statusCode`, a number or a numeric string; 200 when there is none.
fn status_of(map: &Map<String, Value>) -> Result<u16, String> {
    let code = match map.get("statusCode") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        None => return Ok(200),
        Some(_) => None,
    };
    match code {
        Some(c) if (100..=599).contains(&c) => Ok(c as u16),
        _ => Err(format!(
            "`statusCode` {} is not an HTTP status",
            map["statusCode"]
        )),
    }
}

/// The body bytes: text as is, base64 decoded when `isBase64Encoded` and `decode` say so;
/// `lenient` takes a body that is not a string as its JSON text.
fn body_bytes(
    map: &Map<String, Value>,
    decode: bool,
    lenient: bool,
) -> Result<(Vec<u8>, bool), String> {
    let encoded = match map.get("isBase64Encoded") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(format!(
                "`isBase64Encoded` is {}, not true or false",
                crate::suite::node::json_kind(other)
            ));
        }
    };
    let text = match map.get("body") {
        None | Some(Value::Null) => return Ok((Vec::new(), encoded)),
        Some(Value::String(s)) => s,
        // A function URL serialises an object body itself.
        Some(other) if lenient => return Ok((other.to_string().into_bytes(), false)),
        Some(other) => {
            return Err(format!(
                "`body` is {}; the front door passes on a string (JSON.stringify / json.dumps the body)",
                crate::suite::node::json_kind(other)
            ));
        }
    };
    if encoded && decode {
        return base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map(|b| (b, true))
            .map_err(|e| format!("`body` is not base64, though `isBase64Encoded` says so: {e}"));
    }
    Ok((text.clone().into_bytes(), encoded))
}

/// The keys of a payload 1.0 response: a REST API refuses any other.
const V1_KEYS: &[&str] = &[
    "statusCode",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
];

/// Payload 1.0: `statusCode` (200 when absent), `multiValueHeaders` then the `headers` values
/// they do not already hold, `body` a string, base64 decoded where the API treats the
/// response as binary.
fn v1(route: &Route, request: &Request, body: &Body) -> Result<HttpResponse, String> {
    let Body::Json(Value::Object(map)) = body else {
        return Err(format!("it is {}, not an object", shape(body)));
    };
    if route.api == Api::Rest
        && let Some(extra) = map.keys().find(|k| !V1_KEYS.contains(&k.as_str()))
    {
        return Err(format!(
            "it has the key `{extra}`, and a REST API takes only {}",
            V1_KEYS.join(", ")
        ));
    }
    let status = status_of(map)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    match map.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(multi)) => {
            for (k, vs) in multi {
                let Value::Array(vs) = vs else {
                    return Err(format!("`multiValueHeaders.{k}` is not a list"));
                };
                for v in vs {
                    headers.push((k.clone(), header_text(k, v)?));
                }
            }
        }
        Some(_) => return Err("`multiValueHeaders` is not an object".into()),
    }
    match map.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                let v = header_text(k, v)?;
                if headers
                    .iter()
                    .any(|(m, mv)| m.eq_ignore_ascii_case(k) && *mv == v)
                {
                    continue;
                }
                // After the multi values of the same name, under their spelling.
                match headers.iter().rposition(|(m, _)| m.eq_ignore_ascii_case(k)) {
                    Some(last) => {
                        let name = headers[last].0.clone();
                        headers.insert(last + 1, (name, v));
                    }
                    None => headers.push((k.clone(), v)),
                }
            }
        }
        Some(_) => return Err("`headers` is not an object".into()),
    }
    if route.api == Api::Rest {
        remap(&mut headers);
    }
    // A REST API sends bytes only to a client whose first `Accept` type is one of its binary
    // media types; otherwise the base64 text goes out as it is.
    let decode = match route.api {
        Api::Rest => request
            .header("accept")
            .and_then(|a| media_type(a.split(',').next().unwrap_or_default()))
            .is_some_and(|accept| {
                route
                    .binary_media_types
                    .iter()
                    .any(|p| media_matches(p, &accept))
            }),
        Api::Http | Api::Url => true,
    };
    let (bytes, _) = body_bytes(map, decode, false)?;
    let mut response = HttpResponse {
        status,
        headers,
        body: bytes,
        own: None,
    };
    response.set_default("Content-Type", "application/json");
    Ok(response)
}

/// Headers a REST API does not let a function set: renamed `x-amzn-Remapped-<name>`, or
/// dropped.
fn remap(headers: &mut Vec<(String, String)>) {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case("transfer-encoding"));
    for (k, _) in headers.iter_mut() {
        if ["connection", "content-length", "date", "server"]
            .iter()
            .any(|r| k.eq_ignore_ascii_case(r))
        {
            *k = format!("x-amzn-Remapped-{k}");
        }
    }
}

/// Payload 2.0: an object with `statusCode` is a proxy response (`cookies` become
/// `Set-Cookie` headers); any other value is a 200 with it as a JSON body (a string as its
/// text, without quotes).
fn v2(api: Api, body: &Body) -> Result<HttpResponse, String> {
    let map = match body {
        Body::Json(Value::Object(map)) if map.contains_key("statusCode") => map,
        other => {
            let text = match other {
                Body::Json(Value::String(s)) => s.clone().into_bytes(),
                Body::Json(value) => value.to_string().into_bytes(),
                Body::Text(t) => t.clone().into_bytes(),
                Body::Binary(b) => b.clone(),
            };
            return Ok(HttpResponse {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                body: text,
                own: None,
            });
        }
    };
    let status = status_of(map)?;
    let mut headers = Vec::new();
    match map.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(h)) => {
            for (k, v) in h {
                headers.push((k.clone(), header_text(k, v)?));
            }
        }
        Some(_) => return Err("`headers` is not an object".into()),
    }
    match map.get("cookies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(cookies)) => {
            for c in cookies {
                headers.push(("Set-Cookie".into(), header_text("cookies", c)?));
            }
        }
        Some(_) => return Err("`cookies` is not a list of strings".into()),
    }
    let (bytes, _) = body_bytes(map, true, api == Api::Url)?;
    let mut response = HttpResponse {
        status,
        headers,
        body: bytes,
        own: None,
    };
    // Without a type from the function, an HTTP API says text and a function URL JSON.
    let default_type = match api {
        Api::Http => "text/plain; charset=utf-8",
        _ => "application/json",
    };
    response.set_default("Content-Type", default_type);
    Ok(response)
}

fn shape(body: &Body) -> &'static str {
    match body {
        Body::Json(v) => crate::suite::node::json_kind(v),
        Body::Text(_) => "text that is not JSON",
        Body::Binary(_) => "bytes that are not text",
    }
}
