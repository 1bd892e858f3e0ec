//! A function URL in `RESPONSE_STREAM` mode passes the function's bytes on as they come. A
//! response that begins with the HTTP-integration prelude — a JSON object of `statusCode`,
//! `headers` and `cookies`, then 8 NUL bytes (`awslambda.HttpResponseStream.from`,
//! `lambda_runtime`'s `MetadataPrelude`) — sets the status and headers; any other response is
//! a 200 of `application/octet-stream` whose body is the bytes as they are, a handler's
//! `{"statusCode": ...}` return value included: in this mode the URL reads no proxy response.

use serde_json::{Map, Value};

use super::HttpResponse;
use crate::outcome::Body;

/// How far into the response a prelude may end: past it, the bytes are the body.
pub const PRELUDE_WITHIN: usize = 16 * 1024;

/// The content type of a streamed response that does not name one.
const DEFAULT_TYPE: &str = "application/octet-stream";

/// What the first bytes of a streamed response say about its head.
#[derive(Debug, PartialEq)]
pub enum Head {
    /// They may still be the start of a prelude: wait for more.
    Waiting,
    /// The status and headers, and where the body starts.
    Found(HttpResponse, usize),
}

/// The head of a streamed response from its first `bytes`; `ended` when no more will come.
pub fn head(bytes: &[u8], ended: bool) -> Head {
    let plain = |from: usize| Head::Found(plain_head(), from);
    if !bytes.starts_with(b"{") {
        return match bytes.is_empty() && !ended {
            true => Head::Waiting,
            false => plain(0),
        };
    }
    let Some(at) = bytes.windows(8).position(|w| w == [0u8; 8]) else {
        return match ended || bytes.len() > PRELUDE_WITHIN {
            true => plain(0),
            false => Head::Waiting,
        };
    };
    match serde_json::from_slice::<Value>(&bytes[..at]) {
        Ok(Value::Object(prelude)) => match prelude_head(&prelude) {
            Ok(response) => Head::Found(response, at + 8),
            Err(_) => plain(0),
        },
        _ => plain(0),
    }
}

/// The HTTP response of a streamed function URL whose invocation ended as `body`:
/// `streamed` says lambda-ci's agent read the stream, and then found any prelude already
/// (the body is `{statusCode, headers, cookies, body, isBase64Encoded}`).
pub fn whole(body: &Body, streamed: bool) -> HttpResponse {
    if streamed
        && let Body::Json(Value::Object(read)) = body
        && read.contains_key("statusCode")
        && let Ok(mut response) = prelude_head(read)
    {
        let text = read.get("body").and_then(Value::as_str).unwrap_or_default();
        response.body = match read.get("isBase64Encoded").and_then(Value::as_bool) {
            Some(true) => {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap_or_default()
            }
            _ => text.as_bytes().to_vec(),
        };
        return response;
    }
    let bytes = match body {
        Body::Json(v) => v.to_string().into_bytes(),
        Body::Text(t) => t.clone().into_bytes(),
        Body::Binary(b) => b.clone(),
    };
    let Head::Found(mut response, from) = head(&bytes, true) else {
        unreachable!("an ended stream always has a head")
    };
    response.body = bytes[from..].to_vec();
    response
}

fn plain_head() -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("Content-Type".into(), DEFAULT_TYPE.into())],
        body: Vec::new(),
        own: None,
    }
}

/// The status, headers and `Set-Cookie`s a prelude gives; a type when it names none.
fn prelude_head(prelude: &Map<String, Value>) -> Result<HttpResponse, String> {
    let status = match prelude.get("statusCode") {
        None => 200,
        Some(v) => match v.as_u64() {
            Some(c) if (100..=599).contains(&c) => c as u16,
            _ => return Err(format!("`statusCode` {v} is not an HTTP status")),
        },
    };
    let mut headers = Vec::new();
    if let Some(Value::Object(h)) = prelude.get("headers") {
        for (k, v) in h {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            headers.push((k.clone(), text));
        }
    }
    if let Some(Value::Array(cookies)) = prelude.get("cookies") {
        for c in cookies.iter().filter_map(Value::as_str) {
            headers.push(("Set-Cookie".into(), c.to_string()));
        }
    }
    let mut response = HttpResponse {
        status,
        headers,
        body: Vec::new(),
        own: None,
    };
    response.set_default("Content-Type", DEFAULT_TYPE);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRELUDE: &[u8] =
        br#"{"statusCode":201,"headers":{"content-type":"text/html"},"cookies":["a=1"]}"#;

    fn prelude_then(body: &[u8]) -> Vec<u8> {
        [PRELUDE, &[0u8; 8], body].concat()
    }

    #[test]
    fn a_prelude_gives_the_status_headers_and_cookies_wherever_the_pieces_cut_it() {
        let bytes = prelude_then(b"<p>hi</p>");
        for cut in [1, 10, PRELUDE.len(), PRELUDE.len() + 3] {
            assert_eq!(head(&bytes[..cut], false), Head::Waiting, "cut at {cut}");
        }
        let Head::Found(response, from) = head(&bytes, false) else {
            panic!("no head")
        };
        assert_eq!(response.status, 201);
        assert_eq!(
            response.headers,
            vec![
                ("content-type".to_string(), "text/html".to_string()),
                ("Set-Cookie".to_string(), "a=1".to_string())
            ]
        );
        assert_eq!(&bytes[from..], b"<p>hi</p>");
    }

    #[test]
    fn bytes_without_a_prelude_are_a_200_of_octets() {
        let Head::Found(response, from) = head(b"chunk 1\n", false) else {
            panic!("no head")
        };
        assert_eq!((response.status, from), (200, 0));
        assert_eq!(
            response.headers,
            vec![("Content-Type".into(), DEFAULT_TYPE.into())]
        );
        assert_eq!(head(b"", false), Head::Waiting);
        // JSON that never reaches a separator is body, once the stream ends or runs long.
        assert!(matches!(head(b"{\"a\": 1}", true), Head::Found(_, 0)));
        let long = [b"{".as_slice(), &vec![b' '; PRELUDE_WITHIN]].concat();
        assert!(matches!(head(&long, false), Head::Found(_, 0)));
    }

    #[test]
    fn a_whole_answer_is_read_as_the_stream_would_be() {
        // Buffered by RIE: the prelude is still in the bytes.
        let raw = String::from_utf8(prelude_then(b"done")).unwrap();
        let response = whole(&Body::Text(raw), false);
        assert_eq!(
            (response.status, response.body.as_slice()),
            (201, &b"done"[..])
        );
        // Read by the agent: the prelude is already keys.
        let read = serde_json::json!({"statusCode": 202, "headers": {}, "cookies": [], "body": "aGk=", "isBase64Encoded": true});
        let response = whole(&Body::Json(read), true);
        assert_eq!(
            (response.status, response.body.as_slice()),
            (202, &b"hi"[..])
        );
        // A handler that returns a proxy response whole is not read as one in this mode.
        let proxy = serde_json::json!({"statusCode": 404, "body": "x"});
        let response = whole(&Body::Json(proxy.clone()), false);
        assert_eq!(response.status, 200);
        assert_eq!(response.body, proxy.to_string().into_bytes());
    }
}
