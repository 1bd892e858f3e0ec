//! HTTP-style responses (API Gateway, ALB, Function URLs) as checks read them: the `body`
//! string decoded, ignored paths removed, status and headers looked up. Pure: no I/O.

use base64::Engine as _;
use serde_json::Value;
use serde_json_path::PathElement;

use crate::suite::check::{Query, TextMatch};

/// The text of an HTTP-style response's `body`: base64-decoded first when `isBase64Encoded`
/// is true. `None` when the response has no string `body`; a base64 body that is not UTF-8
/// text stays as it came.
pub fn body_text(response: &Value) -> Option<String> {
    let Value::String(body) = response.get("body")? else {
        return None;
    };
    if response.get("isBase64Encoded") != Some(&Value::Bool(true)) {
        return Some(body.clone());
    }
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(body.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_else(|| body.clone()),
    )
}

/// The decoded `body` of an HTTP-style response: its text (see [`body_text`]) parsed as JSON
/// when it is JSON, else the text.
pub fn decoded_body(response: &Value) -> Option<Value> {
    let text = body_text(response)?;
    Some(crate::json::parse(text.as_bytes()).unwrap_or(Value::String(text)))
}

/// The response with its `body` decoded, the form every path that enters `$.body` reads and
/// every comparison of whole responses uses.
pub fn view(response: &Value) -> Value {
    let mut view = response.clone();
    if let (Some(decoded), Value::Object(map)) = (decoded_body(response), &mut view) {
        map.insert("body".into(), decoded);
    }
    view
}

/// `value` without the nodes `queries` select. Paths that enter `$.body` apply only where
/// `body` is decoded (`decoded` true); the others apply everywhere.
pub fn strip(value: &mut Value, queries: &[Query], decoded: bool) {
    for q in queries {
        if q.enters_body() && !decoded {
            continue;
        }
        let mut paths: Vec<Vec<Step>> = q
            .path
            .query_located(value)
            .locations()
            .map(|l| {
                l.iter()
                    .map(|e| match e {
                        PathElement::Name(n) => Step::Name(n.to_string()),
                        PathElement::Index(i) => Step::Index(*i),
                    })
                    .collect()
            })
            .collect();
        // Later array elements first, so earlier indices stay valid.
        paths.sort_by(|a, b| b.cmp(a));
        for path in paths {
            remove(value, &path);
        }
    }
}

/// One step of a located node's path, owned so the value can be changed while walking.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Name(String),
    Index(usize),
}

fn remove(value: &mut Value, path: &[Step]) {
    let Some((last, parents)) = path.split_last() else {
        // `$` itself: nothing is left to compare.
        *value = Value::Null;
        return;
    };
    let mut node = value;
    for e in parents {
        let next = match (e, node) {
            (Step::Name(n), Value::Object(m)) => m.get_mut(n),
            (Step::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return,
        }
    }
    match (last, node) {
        (Step::Name(n), Value::Object(m)) => {
            m.remove(n);
        }
        (Step::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
        }
        _ => {}
    }
}

/// Checks `statusCode` against `expected`; `Err` says what was found instead.
pub fn status(response: &Value, expected: i64) -> Result<(), String> {
    let actual = match response {
        Value::Object(m) => m.get("statusCode"),
        _ => {
            return Err(format!(
                "expected status {expected}, but the response is not an HTTP-style object"
            ));
        }
    };
    let as_number = match actual {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match (actual, as_number) {
        (_, Some(n)) if n == expected as f64 => Ok(()),
        (Some(a), _) => Err(format!("expected status {expected}, got {a}")),
        (None, _) => Err(format!(
            "expected status {expected}, but the response has no `statusCode`"
        )),
    }
}

/// Every value of header `name` (any case), from `headers` and `multiValueHeaders`.
fn header_values(response: &Value, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for field in ["headers", "multiValueHeaders"] {
        let Some(Value::Object(headers)) = response.get(field) else {
            continue;
        };
        for (k, v) in headers {
            if !k.eq_ignore_ascii_case(name) {
                continue;
            }
            let values = match v {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            for v in values {
                out.push(match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
            }
        }
    }
    out
}

/// Checks that header `name` has a value `expected` accepts.
pub fn header(response: &Value, name: &str, expected: &TextMatch) -> Result<(), String> {
    let values = header_values(response, name);
    if values.iter().any(|v| expected.is_match(v)) {
        return Ok(());
    }
    if values.is_empty() {
        let mut names: Vec<String> = ["headers", "multiValueHeaders"]
            .iter()
            .filter_map(|f| response.get(f).and_then(Value::as_object))
            .flat_map(|h| h.keys().cloned())
            .collect();
        names.sort();
        names.dedup();
        let present = if names.is_empty() {
            "the response has no headers".to_string()
        } else {
            format!("the response has: {}", names.join(", "))
        };
        return Err(format!(
            "header `{name}`: expected {expected}, but it is missing ({present})"
        ));
    }
    let got: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    Err(format!(
        "header `{name}`: expected {expected}, got {}",
        got.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::check::Pattern;
    use serde_json::json;

    #[test]
    fn bodies_decode_from_json_base64_or_stay_text() {
        let r = json!({"statusCode": 200, "body": "{\"b\": 1, \"a\": [1]}"});
        assert_eq!(decoded_body(&r), Some(json!({"a": [1], "b": 1})));
        let b64 = base64::engine::general_purpose::STANDARD.encode("{\"ok\":true}");
        let r = json!({"body": b64, "isBase64Encoded": true});
        assert_eq!(decoded_body(&r), Some(json!({"ok": true})));
        let r = json!({"body": base64::engine::general_purpose::STANDARD.encode("plain"), "isBase64Encoded": true});
        assert_eq!(decoded_body(&r), Some(json!("plain")));
        // Binary stays base64, as it came.
        let png = base64::engine::general_purpose::STANDARD.encode([0x89u8, 0x50, 0xff, 0x00]);
        let r = json!({"body": png.clone(), "isBase64Encoded": true});
        assert_eq!(decoded_body(&r), Some(json!(png)));
        assert_eq!(
            decoded_body(&json!({"body": "héllo"})),
            Some(json!("héllo"))
        );
        assert_eq!(decoded_body(&json!({"body": {"a": 1}})), None);
        assert_eq!(decoded_body(&json!("text")), None);
        assert_eq!(
            view(&json!({"statusCode": 200, "body": "[1,2]"})),
            json!({"statusCode": 200, "body": [1, 2]})
        );
    }

    #[test]
    fn ignored_paths_are_removed_including_inside_a_decoded_body() {
        let mut v = view(&json!({
            "requestId": "abc",
            "body": "{\"createdAt\": \"now\", \"items\": [{\"id\": 1, \"at\": 1}, {\"id\": 2, \"at\": 2}]}"
        }));
        strip(
            &mut v,
            &[
                Query::of("$.requestId"),
                Query::of("$.body.createdAt"),
                Query::of("$.body.items[*].at"),
                Query::of("$.nothing"),
            ],
            true,
        );
        assert_eq!(v, json!({"body": {"items": [{"id": 1}, {"id": 2}]}}));
        let mut raw = json!({"requestId": "x", "body": "{\"createdAt\": 1}"});
        strip(
            &mut raw,
            &[Query::of("$.requestId"), Query::of("$.body.createdAt")],
            false,
        );
        assert_eq!(raw, json!({"body": "{\"createdAt\": 1}"}));
        let mut arr = json!([0, 1, 2, 3]);
        strip(&mut arr, &[Query::of("$[1,2]")], true);
        assert_eq!(arr, json!([0, 3]));
    }

    #[test]
    fn status_codes() {
        assert!(status(&json!({"statusCode": 200}), 200).is_ok());
        assert!(status(&json!({"statusCode": "200"}), 200).is_ok());
        assert_eq!(
            status(&json!({"statusCode": 404}), 200).unwrap_err(),
            "expected status 200, got 404"
        );
        assert!(
            status(&json!({"body": ""}), 200)
                .unwrap_err()
                .contains("no `statusCode`")
        );
        assert!(
            status(&json!("hi"), 200)
                .unwrap_err()
                .contains("not an HTTP-style object")
        );
    }

    #[test]
    fn headers_match_names_in_any_case_exactly_or_by_regex() {
        let r = json!({
            "headers": {"Content-Type": "application/json; charset=utf-8", "X-Count": 3},
            "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]}
        });
        let exact = TextMatch::Exact("application/json; charset=utf-8".into());
        assert!(header(&r, "content-type", &exact).is_ok());
        assert!(header(&r, "x-count", &TextMatch::Exact("3".into())).is_ok());
        let re = TextMatch::Regex(Pattern::new("^application/json").unwrap());
        assert!(header(&r, "CONTENT-TYPE", &re).is_ok());
        assert!(header(&r, "Set-Cookie", &TextMatch::Exact("b=2".into())).is_ok());
        let wrong = header(&r, "content-type", &TextMatch::Exact("text/html".into())).unwrap_err();
        assert_eq!(
            wrong,
            "header `content-type`: expected \"text/html\", got \"application/json; charset=utf-8\""
        );
        let missing = header(&r, "etag", &exact).unwrap_err();
        assert!(
            missing.contains("missing (the response has: Content-Type, X-Count, set-cookie)"),
            "{missing}"
        );
    }
}
