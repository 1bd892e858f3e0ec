//! Conditions: `Fn::If` and the `Conditions` section worked out from the parameters' values,
//! a condition that refers to itself refused instead of looping.

use super::intrinsic::{Scope, bad};
use super::value::{Kind, Unresolved, Val};
use crate::suite::node::{Node, Pos, Value};

impl Scope<'_> {
    pub(super) fn fn_if(&self, arg: &Node, pos: Pos) -> Val {
        let Value::Seq(items) = &arg.value else {
            return bad(pos, "Fn::If", "[Condition, value if true, value if false]");
        };
        let (Some(Value::String(condition)), 3) = (items.first().map(|i| &i.value), items.len())
        else {
            return bad(pos, "Fn::If", "[Condition, value if true, value if false]");
        };
        match self.condition(condition, pos) {
            Ok(true) => self.eval(&items[1]),
            Ok(false) => self.eval(&items[2]),
            Err(u) => Val::new(pos, Kind::Unresolved(u)),
        }
    }

    /// Whether the named condition holds.
    pub fn condition(&self, name: &str, pos: Pos) -> Result<bool, Unresolved> {
        let Some((_, node)) = self.conditions.iter().find(|(k, _)| k.name == name) else {
            return Err(Unresolved {
                pos,
                what: format!("Condition {name}"),
                why: format!("the template's `Conditions` have no `{name}`"),
            });
        };
        if self.depth.get() > 64 {
            return Err(Unresolved {
                pos,
                what: format!("Condition {name}"),
                why: "conditions refer to each other in a loop".into(),
            });
        }
        self.depth.set(self.depth.get() + 1);
        let held = self.truth(node);
        self.depth.set(self.depth.get() - 1);
        held
    }

    /// The truth of a condition expression: `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`,
    /// `Condition`.
    pub(super) fn truth(&self, node: &Node) -> Result<bool, Unresolved> {
        let wrong = |what: &str| Unresolved {
            pos: node.pos,
            what: what.to_string(),
            why: "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition".into(),
        };
        let Value::Map(entries) = &node.value else {
            return match &node.value {
                Value::Bool(b) => Ok(*b),
                Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                _ => Err(wrong("a condition")),
            };
        };
        let [(k, arg)] = entries.as_slice() else {
            return Err(wrong("a condition"));
        };
        let items = match &arg.value {
            Value::Seq(items) => items.as_slice(),
            _ => std::slice::from_ref(arg),
        };
        match k.name.as_str() {
            "Condition" => match &arg.value {
                Value::String(name) => self.condition(name, node.pos),
                _ => Err(wrong("Condition")),
            },
            "Fn::Equals" => {
                let [a, b] = items else {
                    return Err(wrong("Fn::Equals"));
                };
                let (a, b) = (self.eval(a), self.eval(b));
                if let Some(u) = a.unresolved_part().or(b.unresolved_part()) {
                    return Err(u.clone());
                }
                Ok(match (a.text(), b.text()) {
                    (Some(a), Some(b)) => a == b,
                    _ => a.kind == b.kind,
                })
            }
            "Fn::Not" => match items {
                [one] => self.truth(one).map(|b| !b),
                _ => Err(wrong("Fn::Not")),
            },
            "Fn::And" => {
                let all: Result<Vec<bool>, _> = items.iter().map(|i| self.truth(i)).collect();
                all.map(|v| v.iter().all(|b| *b))
            }
            "Fn::Or" => {
                let all: Result<Vec<bool>, _> = items.iter().map(|i| self.truth(i)).collect();
                all.map(|v| v.iter().any(|b| *b))
            }
            "Fn::If" => match self.fn_if(arg, node.pos).kind {
                Kind::Bool(b) => Ok(b),
                Kind::Unresolved(u) => Err(u),
                _ => Err(wrong("Fn::If")),
            },
            other => Err(wrong(other)),
        }
    }
}
