//! `assert:` entries: a JSONPath, how the nodes it selects combine, and a predicate each must
//! satisfy. Pure: no I/O.

use serde_json::Value;

use super::compare::{self, Mode};
use super::shorten;
use crate::suite::check::{Assertion, Predicate, Quantifier};
use crate::suite::node::json_kind;

/// Checks `a` against `root`; `Err` is the message: the path, what was expected, what was found.
pub fn check(a: &Assertion, root: &Value) -> Result<(), String> {
    let path = &a.query.text;
    let located = a.query.path.query_located(root);
    let nodes: Vec<(String, &Value)> = located
        .iter()
        .map(|n| (n.location().to_string(), n.node()))
        .collect();
    let what = describe(&a.predicate);
    if let Predicate::Exists(expected) = a.predicate {
        return match (expected, nodes.first()) {
            (true, None) => Err(format!(
                "`{path}` exists: expected a value, the path selects nothing"
            )),
            (false, Some((_, v))) => Err(format!(
                "`{path}` exists: false: expected nothing, the path selects {}",
                short(v)
            )),
            _ => Ok(()),
        };
    }
    if nodes.is_empty() {
        return Err(format!("`{path}` {what}: the path selects nothing"));
    }
    match a.quantifier {
        Quantifier::One => {
            if nodes.len() > 1 {
                return Err(format!(
                    "`{path}` selects {} values; add `all: true` or `any: true` to say how they combine",
                    nodes.len()
                ));
            }
            test(&a.predicate, nodes[0].1).map_err(|got| format!("`{path}` {what}: {got}"))
        }
        Quantifier::All => {
            for (at, v) in &nodes {
                if let Err(got) = test(&a.predicate, v) {
                    return Err(format!(
                        "`{path}` {what} (all {} values): at {at}, {got}",
                        nodes.len()
                    ));
                }
            }
            Ok(())
        }
        Quantifier::Any => {
            if nodes.iter().any(|(_, v)| test(&a.predicate, v).is_ok()) {
                return Ok(());
            }
            let values: Vec<String> = nodes.iter().map(|(_, v)| short(v)).collect();
            Err(format!(
                "`{path}` {what} (any value): none of the {} values does: {}",
                nodes.len(),
                values.join(", ")
            ))
        }
    }
}

/// The predicate as written: `equals 200`, `matches /^a/`.
fn describe(p: &Predicate) -> String {
    let arg = match p {
        Predicate::Equals(v) | Predicate::NotEquals(v) | Predicate::Contains(v) => short(v),
        Predicate::Matches(re) => re.to_string(),
        Predicate::Exists(b) => b.to_string(),
        Predicate::Type(t) => t.name().to_string(),
        Predicate::Length(n) => n.to_string(),
        Predicate::Gt(n) | Predicate::Gte(n) | Predicate::Lt(n) | Predicate::Lte(n) => {
            n.to_string()
        }
    };
    format!("{} {arg}", p.name())
}

/// A value in a message, cut when long.
fn short(v: &Value) -> String {
    shorten(&v.to_string(), 120)
}

/// Whether one value satisfies the predicate; `Err` says what it is instead.
fn test(p: &Predicate, v: &Value) -> Result<(), String> {
    let got = || format!("got {}", short(v));
    match p {
        Predicate::Equals(e) => {
            if compare::compare(e, v, Mode::Exact).is_empty() {
                Ok(())
            } else {
                Err(format!("expected {}, {}", short(e), got()))
            }
        }
        Predicate::NotEquals(e) => {
            if compare::compare(e, v, Mode::Exact).is_empty() {
                Err(format!("expected anything but {}, {}", short(e), got()))
            } else {
                Ok(())
            }
        }
        Predicate::Matches(re) => match v {
            Value::String(s) if re.regex.is_match(s) => Ok(()),
            Value::String(_) => Err(format!("expected a string matching {re}, {}", got())),
            other => Err(format!(
                "expected a string matching {re}, got {} {}",
                json_kind(other),
                short(other)
            )),
        },
        Predicate::Contains(e) => {
            let holds = match (v, e) {
                (Value::String(s), Value::String(sub)) => s.contains(sub.as_str()),
                (Value::Array(items), e) => items
                    .iter()
                    .any(|item| compare::compare(e, item, Mode::Subset).is_empty()),
                (Value::Object(_), Value::Object(_)) => {
                    compare::compare(e, v, Mode::Subset).is_empty()
                }
                _ => false,
            };
            if holds {
                Ok(())
            } else {
                Err(format!(
                    "expected a value containing {}, {}",
                    short(e),
                    got()
                ))
            }
        }
        Predicate::Exists(_) => Ok(()),
        Predicate::Type(t) => {
            if t.of(v) {
                Ok(())
            } else {
                Err(format!(
                    "expected {}, got {} {}",
                    t.name(),
                    json_kind(v),
                    short(v)
                ))
            }
        }
        Predicate::Length(n) => {
            let len = match v {
                Value::String(s) => s.chars().count(),
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                other => {
                    return Err(format!(
                        "expected length {n}, but {} has no length",
                        json_kind(other)
                    ));
                }
            };
            if len as u64 == *n {
                Ok(())
            } else {
                Err(format!(
                    "expected length {n}, got length {len} ({})",
                    short(v)
                ))
            }
        }
        Predicate::Gt(n) | Predicate::Gte(n) | Predicate::Lt(n) | Predicate::Lte(n) => {
            let Value::Number(actual) = v else {
                return Err(format!(
                    "expected a number, got {} {}",
                    json_kind(v),
                    short(v)
                ));
            };
            let ordering = compare::number_order(actual, n);
            let holds = match p {
                Predicate::Gt(_) => ordering.is_gt(),
                Predicate::Gte(_) => ordering.is_ge(),
                Predicate::Lt(_) => ordering.is_lt(),
                _ => ordering.is_le(),
            };
            let op = match p {
                Predicate::Gt(_) => ">",
                Predicate::Gte(_) => ">=",
                Predicate::Lt(_) => "<",
                _ => "<=",
            };
            if holds {
                Ok(())
            } else {
                Err(format!("expected a number {op} {n}, got {actual}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::check::{JsonType, Pattern, Query};
    use crate::suite::node::Pos;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "id": "ord-42",
            "count": 3,
            "price": 9.5,
            "tags": ["a", "b"],
            "items": [{"id": 1, "name": "pen"}, {"id": 2, "name": "ink"}],
            "owner": {"name": "Ada", "team": "core"},
            "gone": null,
            "ok": true,
            "note": "héllo wörld"
        })
    }

    fn run(path: &str, p: Predicate, q: Quantifier) -> Result<(), String> {
        let a = Assertion {
            query: Query {
                text: path.into(),
                path: serde_json_path::JsonPath::parse(path).unwrap(),
                pos: Pos::default(),
            },
            predicate: p,
            quantifier: q,
        };
        check(&a, &doc())
    }

    fn one(path: &str, p: Predicate) -> Result<(), String> {
        run(path, p, Quantifier::One)
    }

    fn n(v: Value) -> serde_json::Number {
        match v {
            Value::Number(n) => n,
            _ => unreachable!(),
        }
    }

    #[test]
    fn equals_and_not_equals() {
        assert!(one("$.count", Predicate::Equals(json!(3.0))).is_ok());
        assert!(
            one(
                "$.owner",
                Predicate::Equals(json!({"team": "core", "name": "Ada"}))
            )
            .is_ok()
        );
        assert_eq!(
            one("$.count", Predicate::Equals(json!(4))).unwrap_err(),
            "`$.count` equals 4: expected 4, got 3"
        );
        assert!(one("$.count", Predicate::NotEquals(json!(4))).is_ok());
        assert_eq!(
            one("$.id", Predicate::NotEquals(json!("ord-42"))).unwrap_err(),
            "`$.id` not_equals \"ord-42\": expected anything but \"ord-42\", got \"ord-42\""
        );
    }

    #[test]
    fn matches_strings_only() {
        let re = |s: &str| Predicate::Matches(Pattern::new(s).unwrap());
        assert!(one("$.id", re("^ord-[0-9]+$")).is_ok());
        assert!(one("$.note", re("wörld$")).is_ok());
        assert!(
            one("$.id", re("^x"))
                .unwrap_err()
                .contains("expected a string matching /^x/, got \"ord-42\"")
        );
        assert!(
            one("$.count", re("3"))
                .unwrap_err()
                .contains("got a number 3")
        );
    }

    #[test]
    fn contains_substrings_elements_and_subsets() {
        assert!(one("$.note", Predicate::Contains(json!("wör"))).is_ok());
        assert!(one("$.tags", Predicate::Contains(json!("b"))).is_ok());
        assert!(one("$.items", Predicate::Contains(json!({"name": "ink"}))).is_ok());
        assert!(one("$.owner", Predicate::Contains(json!({"name": "Ada"}))).is_ok());
        assert!(one("$.tags", Predicate::Contains(json!("c"))).is_err());
        assert!(one("$.owner", Predicate::Contains(json!({"name": "Bob"}))).is_err());
        assert!(one("$.count", Predicate::Contains(json!(3))).is_err());
    }

    #[test]
    fn exists_either_way() {
        assert!(one("$.owner.name", Predicate::Exists(true)).is_ok());
        assert!(
            one("$.gone", Predicate::Exists(true)).is_ok(),
            "null is a value"
        );
        assert!(one("$.missing", Predicate::Exists(false)).is_ok());
        assert!(one("$.items[*].id", Predicate::Exists(true)).is_ok());
        assert_eq!(
            one("$.missing", Predicate::Exists(true)).unwrap_err(),
            "`$.missing` exists: expected a value, the path selects nothing"
        );
        assert!(
            one("$.id", Predicate::Exists(false))
                .unwrap_err()
                .contains("selects \"ord-42\"")
        );
    }

    #[test]
    fn types() {
        for (path, t) in [
            ("$.id", JsonType::String),
            ("$.price", JsonType::Number),
            ("$.count", JsonType::Integer),
            ("$.ok", JsonType::Boolean),
            ("$.tags", JsonType::Array),
            ("$.owner", JsonType::Object),
            ("$.gone", JsonType::Null),
        ] {
            assert!(one(path, Predicate::Type(t)).is_ok(), "{path}");
        }
        assert_eq!(
            one("$.price", Predicate::Type(JsonType::Integer)).unwrap_err(),
            "`$.price` type integer: expected integer, got a number 9.5"
        );
    }

    #[test]
    fn lengths_of_strings_arrays_and_objects() {
        assert!(
            one("$.note", Predicate::Length(11)).is_ok(),
            "characters, not bytes"
        );
        assert!(one("$.items", Predicate::Length(2)).is_ok());
        assert!(one("$.owner", Predicate::Length(2)).is_ok());
        assert!(
            one("$.tags", Predicate::Length(3))
                .unwrap_err()
                .contains("got length 2")
        );
        assert!(
            one("$.count", Predicate::Length(1))
                .unwrap_err()
                .contains("has no length")
        );
    }

    #[test]
    fn comparisons() {
        assert!(one("$.count", Predicate::Gt(n(json!(2)))).is_ok());
        assert!(one("$.count", Predicate::Gt(n(json!(3)))).is_err());
        assert!(one("$.count", Predicate::Gte(n(json!(3)))).is_ok());
        assert!(one("$.price", Predicate::Lt(n(json!(10)))).is_ok());
        assert!(one("$.price", Predicate::Lt(n(json!(9.5)))).is_err());
        assert!(one("$.price", Predicate::Lte(n(json!(9.5)))).is_ok());
        assert_eq!(
            one("$.id", Predicate::Gt(n(json!(1)))).unwrap_err(),
            "`$.id` gt 1: expected a number, got a string \"ord-42\""
        );
    }

    #[test]
    fn several_nodes_need_all_or_any() {
        let ids = "$.items[*].id";
        let err = one(ids, Predicate::Type(JsonType::Integer)).unwrap_err();
        assert!(
            err.contains("selects 2 values; add `all: true` or `any: true`"),
            "{err}"
        );
        assert!(run(ids, Predicate::Type(JsonType::Integer), Quantifier::All).is_ok());
        let err = run(ids, Predicate::Equals(json!(1)), Quantifier::All).unwrap_err();
        assert!(
            err.contains("at $['items'][1]['id'], expected 1, got 2"),
            "{err}"
        );
        assert!(run(ids, Predicate::Equals(json!(2)), Quantifier::Any).is_ok());
        let err = run(ids, Predicate::Equals(json!(3)), Quantifier::Any).unwrap_err();
        assert!(err.contains("none of the 2 values does: 1, 2"), "{err}");
        let err = run("$.nothing[*]", Predicate::Equals(json!(3)), Quantifier::All).unwrap_err();
        assert!(err.contains("selects nothing"), "{err}");
    }
}
