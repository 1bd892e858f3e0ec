//! Derived fields: what the service computes from other fields of an event, recomputed after
//! a template is changed so that the event stays one the service could have sent.
//!
//! - `sqs`: each record's `md5OfBody` is the MD5 of its `body`, as SQS computes it.
//! - `apigw-v2`, `function-url`: header names are lowercase, as payload 2.0 delivers them; two
//!   names that differ only in case become one header, their values comma-joined; a
//!   `content-length` header is the byte length of the body (decoded when `isBase64Encoded`).
//! - `cloudfront-*`: for a Lambda@Edge function (`edge:` in its suite), each record's
//!   `cf.config.eventType` is the function's trigger.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

use super::Kind;

/// Recomputes the fields of `event` (made from `kind`) that derive from others; `edge` is the
/// trigger of the Lambda@Edge function the event is for, if any.
pub fn derive(kind: &Kind, event: &mut Value, edge: Option<&str>) {
    match kind.name {
        "sqs" => {
            for record in records(event) {
                if let Some(body) = record.get("body").and_then(Value::as_str) {
                    let md5 = hex(&Md5::digest(body.as_bytes()));
                    record.insert("md5OfBody".into(), Value::String(md5));
                }
            }
        }
        "apigw-v2" | "function-url" => {
            let length = body_length(event);
            if let Some(Value::Object(headers)) = event.get_mut("headers") {
                *headers = lowercase(std::mem::take(headers));
                if let (Some(slot), Some(length)) = (headers.get_mut("content-length"), length) {
                    *slot = Value::String(length.to_string());
                }
            }
        }
        _ if kind.edge.is_some() => {
            let Some(trigger) = edge else { return };
            for record in records(event) {
                if let Some(Value::Object(config)) =
                    record.get_mut("cf").and_then(|cf| cf.get_mut("config"))
                {
                    config.insert("eventType".into(), Value::String(trigger.into()));
                }
            }
        }
        _ => {}
    }
}

/// The objects in the event's `Records` list.
fn records(event: &mut Value) -> impl Iterator<Item = &mut Map<String, Value>> {
    event
        .get_mut("Records")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// Headers with lowercase names. The catalogue's names are lowercase already, so a name with
/// capitals came from the user and replaces the template's header of that name; the values of
/// names the user gave twice, differing in case only, are joined with commas in order.
fn lowercase(headers: Map<String, Value>) -> Map<String, Value> {
    let (lower, mixed): (Vec<_>, Vec<_>) = headers
        .into_iter()
        .partition(|(name, _)| *name == name.to_ascii_lowercase());
    let mut out: Map<String, Value> = lower.into_iter().collect();
    let mut given = std::collections::BTreeSet::new();
    for (name, value) in mixed {
        let name = name.to_ascii_lowercase();
        match (out.get_mut(&name), value) {
            (Some(Value::String(first)), Value::String(more)) if given.contains(&name) => {
                first.push(',');
                first.push_str(&more);
            }
            (_, value) => {
                given.insert(name.clone());
                out.insert(name, value);
            }
        }
    }
    out
}

/// How many bytes the request's body is, as sent: its base64 decoded when it says so.
fn body_length(event: &Value) -> Option<usize> {
    use base64::Engine;
    let body = event.get("body")?.as_str()?;
    if event.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .ok()
            .map(|b| b.len())
    } else {
        Some(body.len())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kind(name: &str) -> &'static Kind {
        Kind::named(name).unwrap()
    }

    #[test]
    fn sqs_md5_of_body_follows_the_body() {
        let event = kind("sqs").build(Some(json!({"Records": [{"body": "hello"}]})), None);
        // `md5 -s hello`
        assert_eq!(
            event["Records"][0]["md5OfBody"],
            "5d41402abc4b2a76b9719d911017c592"
        );
    }

    #[test]
    fn http_api_header_names_are_lowercased_and_case_duplicates_joined() {
        let over = json!({"headers": {"X-Tenant": "a", "x-TENANT": "b", "Accept": "text/html"}});
        let event = kind("apigw-v2").build(Some(over), None);
        let headers = event["headers"].as_object().unwrap();
        assert!(headers.keys().all(|k| k == &k.to_ascii_lowercase()));
        assert_eq!(headers["x-tenant"], "a,b");
        // The override's `Accept` replaces the template's `accept`.
        assert_eq!(headers["accept"], "text/html");
        assert_eq!(
            headers["host"],
            "abcdef1234.execute-api.us-east-1.amazonaws.com"
        );
        let over = json!({"body": "aGVsbG8=", "isBase64Encoded": true});
        let event = kind("apigw-v2").build(Some(over), None);
        assert_eq!(event["headers"]["content-length"], "5");
    }

    #[test]
    fn cloudfront_event_type_follows_the_functions_trigger() {
        let k = kind("cloudfront-origin-request");
        assert_eq!(
            k.build(None, None)["Records"][0]["cf"]["config"]["eventType"],
            "origin-request"
        );
        let over = json!({"Records": [{"cf": {"config": {"eventType": "viewer-request"}}}]});
        let event = k.build(Some(over), Some("origin-request"));
        assert_eq!(
            event["Records"][0]["cf"]["config"]["eventType"],
            "origin-request"
        );
    }
}
