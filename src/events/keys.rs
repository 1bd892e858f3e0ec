//! Which fields a template has: a key merged over a template (or `--set` on it) that the
//! template does not have is a typo more often than not (`pathParameter:`), and merged silently
//! it would leave the template's own sample values in the test. Maps of anyone's keys (headers,
//! parameters, attributes, a `detail`) take new keys, and so does an empty or `null` field.

use serde_json::Value;

/// Field names under which a template holds a map of anyone's keys.
const OPEN: &[&str] = &[
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "authorizer",
    "detail",
    "messageAttributes",
    "MessageAttributes",
    "Keys",
    "NewImage",
    "OldImage",
    "userAttributes",
    "validationData",
    "clientMetadata",
    "customHeaders",
    "claimsAndScopeOverrideDetails",
];

/// A key the template does not have where it has fixed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Unknown {
    /// The path to the key, the key last.
    pub path: Vec<String>,
    /// The template's field nearest to it, if one is near.
    pub near: Option<String>,
    /// The template's fields there.
    pub known: Vec<String>,
}

/// Whether the object `fields` reached through `path` takes keys it does not have.
pub fn takes_new_keys(path: &[String], fields: &serde_json::Map<String, Value>) -> bool {
    fields.is_empty() || path.iter().any(|p| OPEN.contains(&p.as_str()))
}

/// The first key of `over` that `template` does not have where it has fixed fields.
pub fn unknown(template: &Value, over: &Value) -> Option<Unknown> {
    walk(template, over, &mut Vec::new())
}

fn walk(template: &Value, over: &Value, path: &mut Vec<String>) -> Option<Unknown> {
    let (Value::Object(fields), Value::Object(given)) = (template, over) else {
        // Anything but an object replaces what the template holds, whole.
        return None;
    };
    if takes_new_keys(path, fields) {
        return None;
    }
    for (key, value) in given {
        path.push(key.clone());
        match fields.get(key) {
            Some(inner) => {
                if let Some(found) = walk(inner, value, path) {
                    return Some(found);
                }
            }
            None => {
                return Some(Unknown {
                    path: path.clone(),
                    near: crate::suite::closest(key, fields.keys().map(String::as_str))
                        .map(str::to_string),
                    known: fields.keys().cloned().collect(),
                });
            }
        }
        path.pop();
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_key_the_template_lacks_is_found_with_its_nearest_field() {
        let template = json!({
            "pathParameters": {"id": "1"},
            "requestContext": {"http": {"method": "GET", "path": "/"}},
            "headers": {"accept": "*/*"},
            "detail": {},
            "body": null,
            "Records": [{"body": "x"}]
        });
        let unknown_of = |over| unknown(&template, &over);
        let typo = unknown_of(json!({"pathParameter": {"id": "2"}})).unwrap();
        assert_eq!(typo.path, ["pathParameter"]);
        assert_eq!(typo.near.as_deref(), Some("pathParameters"));
        let deep = unknown_of(json!({"requestContext": {"http": {"methd": "POST"}}})).unwrap();
        assert_eq!(deep.path, ["requestContext", "http", "methd"]);
        assert_eq!(deep.near.as_deref(), Some("method"));
        assert_eq!(deep.known, ["method", "path"]);
        // Open maps, empty and null fields and whole lists take anything.
        for fine in [
            json!({"headers": {"x-tenant": "acme"}}),
            json!({"pathParameters": {"orderId": "9"}}),
            json!({"detail": {"anything": {"at": "all"}}}),
            json!({"body": {"a": 1}}),
            json!({"Records": [{"whatever": 1}]}),
            json!({"requestContext": {"http": {"method": "PUT"}}}),
        ] {
            assert_eq!(unknown_of(fine.clone()), None, "{fine}");
        }
    }
}
