//! Changing a template: a deep merge of an override over it, and `--set path=value`.

use serde_json::Value;

/// Merges `over` into `base`: objects merge key by key, recursively; anything else (an array,
/// a string, a number, `null`) replaces what `base` holds there. A template's `Records` array is
/// thus replaced whole by one in `over`; `--set Records.0.body=...` changes one field in it.
pub fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (slot, over) => *slot = over,
    }
}

/// Why `--set` cannot be applied.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SetError {
    #[error("`--set {0}` has no `=`; write it as `path=value`, such as `--set body=hello`")]
    NoEquals(String),
    #[error(
        "`--set {given}`: the path has an empty part; separate field names with single dots, such as `requestContext.http.method`"
    )]
    EmptyPart { given: String },
    #[error("`--set {given}`: `{at}` is {kind}, so it has no field `{part}`")]
    NotAContainer {
        given: String,
        at: String,
        kind: &'static str,
        part: String,
    },
    #[error("`--set {given}`: `{at}` is a list, indexed by number (`{at}.0`), not by `{part}`")]
    NotAnIndex {
        given: String,
        at: String,
        part: String,
    },
    #[error(
        "`--set {given}`: the event has no field `{part}` {}{}; `--add {given}` adds a field it does not have",
        if at.is_empty() { "at its top".to_string() } else { format!("in `{at}`") },
        near.as_ref().map(|n| format!(" (did you mean `{n}`?)")).unwrap_or_default()
    )]
    NoSuchField {
        given: String,
        at: String,
        part: String,
        near: Option<String>,
    },
    #[error("`--set {given}`: `{at}` has {len} element{s}, so there is no index {index}", s = if *.len == 1 { "" } else { "s" })]
    PastTheEnd {
        given: String,
        at: String,
        len: usize,
        index: usize,
    },
}

/// One `--set path=value`, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// As given, for messages.
    given: String,
    parts: Vec<String>,
    raw: String,
    /// `--add`: fields the event does not have are made, on purpose.
    adding: bool,
}

impl Assignment {
    /// Reads `path=value`: the path's parts are separated by dots, and a number indexes a list
    /// (`Records.0.body`).
    pub fn parse(given: &str) -> Result<Assignment, SetError> {
        let Some((path, raw)) = given.split_once('=') else {
            return Err(SetError::NoEquals(given.to_string()));
        };
        let parts: Vec<String> = path.split('.').map(str::to_string).collect();
        if parts.iter().any(String::is_empty) {
            return Err(SetError::EmptyPart {
                given: given.to_string(),
            });
        }
        Ok(Assignment {
            given: given.to_string(),
            parts,
            raw: raw.to_string(),
            adding: false,
        })
    }

    /// Reads `path=value` as [`Assignment::parse`] does, for `--add`: fields on the path that the
    /// event does not have are made.
    pub fn parse_adding(given: &str) -> Result<Assignment, SetError> {
        let mut assignment = Assignment::parse(given)?;
        assignment.adding = true;
        Ok(assignment)
    }

    /// The value to write over `current`: JSON if the text parses as JSON, else the text. Where
    /// the event holds a string, the text stays a string (AWS carries JSON payloads, header
    /// values and numbers-as-text in strings), unless it is a quoted JSON string or `null`.
    fn value(&self, current: Option<&Value>) -> Value {
        match (serde_json::from_str::<Value>(&self.raw), current) {
            (Ok(v @ (Value::String(_) | Value::Null)), _) => v,
            (Ok(_), Some(Value::String(_))) | (Err(_), _) => Value::String(self.raw.clone()),
            (Ok(v), _) => v,
        }
    }

    /// Writes the value at the path in `event`. A field the event does not have is refused
    /// (with the nearest it has), unless adding, or in a map of anyone's keys (`headers`...),
    /// or under an empty or `null` field; made, missing fields on the way are objects. A list
    /// must already hold the index.
    pub fn apply(&self, event: &mut Value) -> Result<(), SetError> {
        let mut at = event;
        let (last, walk) = self
            .parts
            .split_last()
            .expect("a path has one part at least");
        for (i, part) in walk.iter().enumerate() {
            at = self.step(at, i, part, true)?;
        }
        let i = self.parts.len() - 1;
        let slot = self.step(at, i, last, false)?;
        let value = self.value(Some(&*slot).filter(|v| !v.is_null()));
        *slot = value;
        Ok(())
    }

    /// The field `part` of `at` (the `i`th part of the path), made if missing.
    fn step<'v>(
        &self,
        at: &'v mut Value,
        i: usize,
        part: &str,
        container: bool,
    ) -> Result<&'v mut Value, SetError> {
        let made = at.is_null();
        if made {
            *at = Value::Object(Default::default());
        }
        let shown = || self.parts[..i].join(".");
        match at {
            Value::Object(map) => {
                if !map.contains_key(part)
                    && !self.adding
                    && !made
                    && !super::keys::takes_new_keys(&self.parts[..i], map)
                {
                    return Err(SetError::NoSuchField {
                        given: self.given.clone(),
                        at: shown(),
                        part: part.to_string(),
                        near: crate::suite::closest(part, map.keys().map(String::as_str))
                            .map(str::to_string),
                    });
                }
                let slot = map.entry(part.to_string()).or_insert(Value::Null);
                if container && slot.is_null() {
                    *slot = Value::Object(Default::default());
                }
                Ok(slot)
            }
            Value::Array(items) => {
                let Ok(index) = part.parse::<usize>() else {
                    return Err(SetError::NotAnIndex {
                        given: self.given.clone(),
                        at: shown(),
                        part: part.to_string(),
                    });
                };
                let len = items.len();
                items.get_mut(index).ok_or_else(|| SetError::PastTheEnd {
                    given: self.given.clone(),
                    at: shown(),
                    len,
                    index,
                })
            }
            other => Err(SetError::NotAContainer {
                given: self.given.clone(),
                at: shown(),
                kind: kind_of(other),
                part: part.to_string(),
            }),
        }
    }
}

/// A scalar's kind in a user's words.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        _ => "null",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn set(event: &mut Value, given: &str) -> Result<(), SetError> {
        Assignment::parse(given)?.apply(event)
    }

    fn add(event: &mut Value, given: &str) -> Result<(), SetError> {
        Assignment::parse_adding(given)?.apply(event)
    }

    // Regression: `--set requestContext.http.methd=POST` added a field beside `method`.
    #[test]
    fn set_refuses_a_field_the_event_lacks_and_add_makes_it() {
        let mut event = json!({"requestContext": {"http": {"method": "GET"}}, "headers": {"a": "1"}, "detail": {}});
        let err = set(&mut event, "requestContext.http.methd=POST").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`--set requestContext.http.methd=POST`: the event has no field `methd` in `requestContext.http` (did you mean `method`?); `--add requestContext.http.methd=POST` adds a field it does not have"
        );
        let err = set(&mut event, "nope=1").unwrap_err().to_string();
        assert!(err.contains("no field `nope` at its top;"), "{err}");
        set(&mut event, "headers.x-tenant=acme").unwrap();
        set(&mut event, "detail.order.id=7").unwrap();
        add(&mut event, "requestContext.http.custom.flag=true").unwrap();
        assert_eq!(
            event["requestContext"]["http"]["custom"]["flag"],
            json!(true)
        );
        assert_eq!(event["headers"]["x-tenant"], json!("acme"));
        assert_eq!(event["detail"]["order"]["id"], json!(7));
    }

    #[test]
    fn objects_merge_deeply_and_everything_else_replaces() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": {"f": 1}});
        merge(
            &mut base,
            json!({"a": {"c": [3], "g": true}, "d": {"h": 1}, "e": null}),
        );
        assert_eq!(
            base,
            json!({"a": {"b": 1, "c": [3], "g": true}, "d": {"h": 1}, "e": null})
        );
    }

    #[test]
    fn set_writes_nested_fields_and_list_elements() {
        let mut event = json!({"requestContext": {"http": {"method": "GET"}}, "Records": [{"body": "a"}], "n": 1, "q": null});
        set(&mut event, "requestContext.http.method=PUT").unwrap();
        set(&mut event, "Records.0.body=hello world").unwrap();
        set(&mut event, "n=2.5").unwrap();
        set(&mut event, "q.page=2").unwrap();
        add(&mut event, "new.deep.flag=true").unwrap();
        assert_eq!(
            event,
            json!({"requestContext": {"http": {"method": "PUT"}}, "Records": [{"body": "hello world"}], "n": 2.5, "q": {"page": 2}, "new": {"deep": {"flag": true}}})
        );
    }

    // Regression: `--set body={"id":1}` turned an API Gateway body (a JSON string) into an
    // object that no handler expects.
    #[test]
    fn a_string_field_stays_a_string_unless_the_value_is_quoted_or_null() {
        let mut event = json!({"body": "x", "size": "10", "other": 1});
        set(&mut event, r#"body={"id":1}"#).unwrap();
        set(&mut event, "size=42").unwrap();
        set(&mut event, r#"other={"id":1}"#).unwrap();
        assert_eq!(
            event,
            json!({"body": "{\"id\":1}", "size": "42", "other": {"id": 1}})
        );
        set(&mut event, r#"size="quoted""#).unwrap();
        set(&mut event, "body=null").unwrap();
        assert_eq!(event["size"], "quoted");
        assert_eq!(event["body"], Value::Null);
    }

    #[test]
    fn bad_paths_are_explained() {
        let mut event = json!({"Records": [{"body": "a"}], "body": "text"});
        let cases = [
            ("body", "`--set body` has no `=`"),
            ("a..b=1", "the path has an empty part"),
            (
                "body.x=1",
                "`--set body.x=1`: `body` is a string, so it has no field `x`",
            ),
            (
                "Records.first.body=1",
                "`Records` is a list, indexed by number (`Records.0`), not by `first`",
            ),
            (
                "Records.3.body=1",
                "`Records` has 1 element, so there is no index 3",
            ),
        ];
        for (given, expected) in cases {
            let err = set(&mut event, given).unwrap_err().to_string();
            assert!(err.contains(expected), "{given}: {err}");
        }
        assert_eq!(event, json!({"Records": [{"body": "a"}], "body": "text"}));
    }
}
