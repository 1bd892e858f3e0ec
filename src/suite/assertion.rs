//! Decodes `assert:` entries: a JSONPath, how its nodes combine, and exactly one predicate.

use super::check::{Assertion, JsonType, Predicate, Quantifier};
use super::expect::slashed;
use super::fields::Ctx;
use super::node::{Node, Value};

impl Ctx<'_> {
    pub(super) fn assertion(&mut self, node: &Node) -> Option<Assertion> {
        const PREDICATES: &[&str] = &[
            "equals",
            "not_equals",
            "matches",
            "contains",
            "exists",
            "type",
            "length",
            "gt",
            "gte",
            "lt",
            "lte",
        ];
        let mut allowed = vec!["path", "all", "any"];
        allowed.extend(PREDICATES);
        let f = self.fields(node, "an `assert` entry", &allowed)?;
        let Some(path) = f.get("path") else {
            self.error(
                Some(node.pos),
                "`assert` entry without `path`",
                Some("write `- {path: \"$.statusCode\", equals: 200}`".into()),
            );
            return None;
        };
        let query = self.query(path, "`path`");
        let given: Vec<_> = PREDICATES.iter().filter_map(|p| f.key(p)).collect();
        let predicate = match given.as_slice() {
            // A misspelt predicate was said already, with the one it was close to.
            [] if f
                .entries
                .iter()
                .any(|(k, _)| !allowed.contains(&k.name.as_str())) =>
            {
                None
            }
            [] => {
                self.error(
                    Some(node.pos),
                    "`assert` entry without a predicate",
                    Some(format!("add exactly one of: {}", PREDICATES.join(", "))),
                );
                None
            }
            [key] => {
                let value = f.get(&key.name).expect("present");
                self.predicate(&key.name, value)
            }
            [first, second, ..] => {
                self.error(
                    Some(second.pos),
                    format!(
                        "`{}` and `{}` in one `assert` entry",
                        first.name, second.name
                    ),
                    Some("each entry takes exactly one predicate; write two entries".into()),
                );
                None
            }
        };
        let flag = |ctx: &mut Self, name: &str| match f.get(name) {
            None => Some(false),
            Some(Node {
                value: Value::Bool(b),
                ..
            }) => Some(*b),
            Some(other) => {
                ctx.wrong_kind(other, &format!("`{name}`"), "true or false");
                None
            }
        };
        let all = flag(self, "all")?;
        let any = flag(self, "any")?;
        let quantifier = match (all, any) {
            (true, true) => {
                let pos = f.key("any").map(|k| k.pos);
                self.error(pos, "`all` and `any` are exclusive", None);
                return None;
            }
            (true, false) => Quantifier::All,
            (false, true) => Quantifier::Any,
            (false, false) => Quantifier::One,
        };
        Some(Assertion {
            query: query?,
            predicate: predicate?,
            quantifier,
        })
    }

    fn predicate(&mut self, name: &str, value: &Node) -> Option<Predicate> {
        let number = |ctx: &mut Self| match &value.value {
            Value::Number(n) => Some(n.clone()),
            _ => {
                ctx.wrong_kind(value, &format!("`{name}`"), "a number");
                None
            }
        };
        Some(match name {
            "equals" => Predicate::Equals(value.to_json()),
            "not_equals" => Predicate::NotEquals(value.to_json()),
            "contains" => Predicate::Contains(value.to_json()),
            "matches" => {
                let text = self.string(value, "`matches`")?;
                let source = slashed(&text).unwrap_or(&text);
                Predicate::Matches(self.pattern(value, source, "`matches`")?)
            }
            "exists" => match value.value {
                Value::Bool(b) => Predicate::Exists(b),
                _ => {
                    self.wrong_kind(value, "`exists`", "true or false");
                    return None;
                }
            },
            "type" => Predicate::Type(self.choice(value, "`type`", JsonType::NAMED)?),
            "length" => match &value.value {
                Value::Number(n) if n.as_u64().is_some() => {
                    Predicate::Length(n.as_u64().unwrap_or_default())
                }
                _ => {
                    self.wrong_kind(value, "`length`", "a whole number");
                    return None;
                }
            },
            "gt" => Predicate::Gt(number(self)?),
            "gte" => Predicate::Gte(number(self)?),
            "lt" => Predicate::Lt(number(self)?),
            "lte" => Predicate::Lte(number(self)?),
            _ => unreachable!("only known predicates reach here"),
        })
    }
}
