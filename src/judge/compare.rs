//! Compares JSON values and lists every difference with its JSONPath-like location.

use serde_json::Value;

use crate::suite::node::json_kind;

/// One difference between what was expected and what came back.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mismatch {
    /// Where in the response, as `$.body.items[2]`.
    pub path: String,
    pub kind: MismatchKind,
}

/// The kinds of difference a user needs told apart.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MismatchKind {
    /// Same type, other value.
    Value { expected: Value, actual: Value },
    /// A key the expectation lists is absent.
    MissingKey { expected: Value },
    /// A key the response has that a whole-value expectation does not list.
    ExtraKey { actual: Value },
    /// Different JSON types (a string where a number was expected).
    Type {
        expected: &'static str,
        actual: &'static str,
    },
    /// Arrays of different lengths (elements are then compared up to the shorter one).
    Length { expected: usize, actual: usize },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = &self.path;
        // A value is quoted cut, as in every message: the diff and the attachment have it whole.
        let quote = |v: &Value| {
            let text = v.to_string();
            match text.chars().count() {
                n if n > super::QUOTED => {
                    format!(
                        "{} ({n} characters in all)",
                        super::shorten(&text, super::QUOTED)
                    )
                }
                _ => text,
            }
        };
        match &self.kind {
            MismatchKind::Value { expected, actual } => {
                write!(
                    f,
                    "{path}: expected {}, got {}",
                    quote(expected),
                    quote(actual)
                )
            }
            MismatchKind::MissingKey { expected } => {
                write!(f, "{path}: missing (expected {})", quote(expected))
            }
            MismatchKind::ExtraKey { actual } => {
                write!(f, "{path}: unexpected key (got {})", quote(actual))
            }
            MismatchKind::Type { expected, actual } => {
                write!(f, "{path}: expected {expected}, got {actual}")
            }
            MismatchKind::Length { expected, actual } => {
                let s = if *expected == 1 { "" } else { "s" };
                write!(f, "{path}: expected {expected} element{s}, got {actual}")
            }
        }
    }
}

pub use crate::suite::check::Mode;

/// Every difference between `expected` and `actual`; empty when they match.
pub fn compare(expected: &Value, actual: &Value, mode: Mode) -> Vec<Mismatch> {
    let mut out = Vec::new();
    walk(expected, actual, mode, "$".to_string(), &mut out);
    out
}

fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{}]", Value::String(key.to_string()))
    }
}

/// Numbers are equal when their values are: `1` and `1.0` match.
fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    number_order(a, b).is_eq()
}

/// Orders two JSON numbers exactly where both are integers, else as floats.
pub fn number_order(a: &serde_json::Number, b: &serde_json::Number) -> std::cmp::Ordering {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x.cmp(&y);
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x.cmp(&y);
    }
    let (x, y) = (
        a.as_f64().unwrap_or(f64::NAN),
        b.as_f64().unwrap_or(f64::NAN),
    );
    x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Less)
}

/// The stack left below which a level of comparison continues on a fresh segment, and that
/// segment's size: values nest up to [`crate::json::MAX_DEPTH`] levels, more than a thread's
/// stack holds levels of `walk` in a debug build.
const RED_ZONE: usize = 64 * 1024;
const SEGMENT: usize = 1024 * 1024;

fn walk(expected: &Value, actual: &Value, mode: Mode, path: String, out: &mut Vec<Mismatch>) {
    stacker::maybe_grow(RED_ZONE, SEGMENT, || {
        walk_level(expected, actual, mode, path, out)
    })
}

fn walk_level(expected: &Value, actual: &Value, mode: Mode, path: String, out: &mut Vec<Mismatch>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = key_path(&path, k);
                match a.get(k) {
                    Some(av) => walk(ev, av, mode, p, out),
                    None => out.push(Mismatch {
                        path: p,
                        kind: MismatchKind::MissingKey {
                            expected: ev.clone(),
                        },
                    }),
                }
            }
            if mode == Mode::Exact {
                for (k, av) in a {
                    if !e.contains_key(k) {
                        out.push(Mismatch {
                            path: key_path(&path, k),
                            kind: MismatchKind::ExtraKey { actual: av.clone() },
                        });
                    }
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(Mismatch {
                    path: path.clone(),
                    kind: MismatchKind::Length {
                        expected: e.len(),
                        actual: a.len(),
                    },
                });
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                walk(ev, av, mode, format!("{path}[{i}]"), out);
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            if !numbers_equal(e, a) {
                out.push(Mismatch {
                    path,
                    kind: MismatchKind::Value {
                        expected: expected.clone(),
                        actual: actual.clone(),
                    },
                });
            }
        }
        (e, a) if std::mem::discriminant(e) == std::mem::discriminant(a) => {
            if e != a {
                out.push(Mismatch {
                    path,
                    kind: MismatchKind::Value {
                        expected: e.clone(),
                        actual: a.clone(),
                    },
                });
            }
        }
        (e, a) => out.push(Mismatch {
            path,
            kind: MismatchKind::Type {
                expected: json_kind(e),
                actual: json_kind(a),
            },
        }),
    }
}

/// The part of `actual` that a subset expectation speaks about, so the diff shows only that.
pub fn project(expected: &Value, actual: &Value) -> Value {
    stacker::maybe_grow(RED_ZONE, SEGMENT, || project_level(expected, actual))
}

fn project_level(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => Value::Object(
            a.iter()
                .filter(|(k, _)| e.contains_key(*k))
                .map(|(k, av)| (k.clone(), project(&e[k], av)))
                .collect(),
        ),
        (Value::Array(e), Value::Array(a)) => Value::Array(
            a.iter()
                .enumerate()
                .map(|(i, av)| match e.get(i) {
                    Some(ev) => project(ev, av),
                    None => av.clone(),
                })
                .collect(),
        ),
        _ => actual.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Regression: a 5 MB value made a 5 MB difference line in every report.
    #[test]
    fn huge_values_in_a_difference_are_quoted_cut() {
        let huge = "x".repeat(5_000_000);
        let lines = exact(json!({"a": "short"}), json!({"a": huge}));
        assert_eq!(
            lines,
            vec![format!(
                "$.a: expected \"short\", got \"{}… (5000002 characters in all)",
                "x".repeat(199)
            )]
        );
    }

    fn exact(e: Value, a: Value) -> Vec<String> {
        compare(&e, &a, Mode::Exact)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn equal_values_ignore_key_order_and_number_spelling() {
        assert!(
            exact(
                json!({"a": 1, "b": [1.0, "x"]}),
                json!({"b": [1, "x"], "a": 1.0})
            )
            .is_empty()
        );
    }

    #[test]
    fn wrong_value() {
        assert_eq!(
            exact(json!({"body": "Hello, Ada"}), json!({"body": "Hello, Bob"})),
            vec![r#"$.body: expected "Hello, Ada", got "Hello, Bob""#]
        );
    }

    #[test]
    fn missing_and_extra_keys() {
        assert_eq!(
            exact(json!({"a": 1, "b": 2}), json!({"a": 1, "c": 3})),
            vec!["$.b: missing (expected 2)", "$.c: unexpected key (got 3)"]
        );
    }

    #[test]
    fn wrong_type() {
        assert_eq!(
            exact(json!({"n": 1}), json!({"n": "1"})),
            vec!["$.n: expected a number, got a string"]
        );
        assert_eq!(
            exact(json!(null), json!({})),
            vec!["$: expected null, got an object"]
        );
    }

    #[test]
    fn array_length_and_elements() {
        assert_eq!(
            exact(json!([1, 2, 3]), json!([1, 5])),
            vec!["$: expected 3 elements, got 2", "$[1]: expected 2, got 5"]
        );
    }

    #[test]
    fn extra_elements_nested_values_and_unicode() {
        assert_eq!(
            exact(json!([1]), json!([1, 2])),
            vec!["$: expected 1 element, got 2"]
        );
        assert_eq!(
            exact(
                json!({"order": {"items": [{"sku": "a", "qty": 1}]}}),
                json!({"order": {"items": [{"sku": "a", "qty": 2}]}})
            ),
            vec!["$.order.items[0].qty: expected 1, got 2"]
        );
        assert_eq!(
            exact(json!({"name": "Zoë ✓"}), json!({"name": "Zoe ✓"})),
            vec![r#"$.name: expected "Zoë ✓", got "Zoe ✓""#]
        );
        assert_eq!(
            exact(json!({"ünï": 1}), json!({"ünï": 1.0})),
            Vec::<String>::new()
        );
        assert_eq!(exact(json!(1), json!(1.5)), vec!["$: expected 1, got 1.5"]);
    }

    #[test]
    fn odd_keys_are_quoted_in_paths() {
        assert_eq!(
            exact(json!({"content-type": "a"}), json!({"content-type": "b"})),
            vec![r#"$["content-type"]: expected "a", got "b""#]
        );
    }

    #[test]
    fn subset_ignores_unlisted_keys_but_not_listed_ones() {
        let actual = json!({"statusCode": 200, "headers": {"a": "1", "b": "2"}, "body": "x"});
        assert!(
            compare(
                &json!({"statusCode": 200, "headers": {"a": "1"}}),
                &actual,
                Mode::Subset
            )
            .is_empty()
        );
        let m = compare(
            &json!({"statusCode": 201, "missing": true}),
            &actual,
            Mode::Subset,
        );
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0].kind,
            MismatchKind::MissingKey {
                expected: json!(true)
            }
        );
    }

    #[test]
    fn projection_keeps_only_what_the_expectation_names() {
        let actual = json!({"statusCode": 200, "headers": {"a": "1", "b": "2"}, "body": "x"});
        assert_eq!(
            project(&json!({"statusCode": 201, "headers": {"a": "1"}}), &actual),
            json!({"statusCode": 200, "headers": {"a": "1"}})
        );
    }
}
