//! A template value once its intrinsics are worked out: what it is, or why it cannot be known
//! here (an import, a dynamic reference, an attribute only a deployed stack has).

use crate::suite::node::{Key, Node, Pos, Value};

/// A resolved value, with where its expression stands in the template.
#[derive(Debug, Clone, PartialEq)]
pub struct Val {
    pub pos: Pos,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    List(Vec<Val>),
    Map(Vec<(Key, Val)>),
    /// `Ref: AWS::NoValue`: the property, or the list item, is left out.
    NoValue,
    Unresolved(Unresolved),
}

/// A value that only the deployed stack knows, with what a suite can write instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Unresolved {
    pub pos: Pos,
    /// What the expression is, in the template's words (`Fn::ImportValue SharedTable`).
    pub what: String,
    /// Why it cannot be worked out here.
    pub why: String,
}

impl Val {
    pub fn new(pos: Pos, kind: Kind) -> Val {
        Val { pos, kind }
    }

    pub fn string(pos: Pos, s: impl Into<String>) -> Val {
        Val::new(pos, Kind::String(s.into()))
    }

    pub fn unresolved(pos: Pos, what: impl Into<String>, why: impl Into<String>) -> Val {
        let (what, why) = (what.into(), why.into());
        Val::new(pos, Kind::Unresolved(Unresolved { pos, what, why }))
    }

    /// The first value inside that cannot be known here, if any.
    pub fn unresolved_part(&self) -> Option<&Unresolved> {
        match &self.kind {
            Kind::Unresolved(u) => Some(u),
            Kind::List(items) => items.iter().find_map(Val::unresolved_part),
            Kind::Map(entries) => entries.iter().find_map(|(_, v)| v.unresolved_part()),
            _ => None,
        }
    }

    /// The value as text, as CloudFormation turns a scalar into a string (numbers and
    /// booleans as written); `None` for a list, a mapping or what cannot be known.
    pub fn text(&self) -> Option<String> {
        match &self.kind {
            Kind::String(s) => Some(s.clone()),
            Kind::Number(n) => Some(n.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The entry `name` of a mapping.
    pub fn get(&self, name: &str) -> Option<&Val> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value in the suite's tree, leaving out what `AWS::NoValue` removed; the first value
    /// that cannot be known is the error.
    pub fn into_node(self) -> Result<Node, Unresolved> {
        let value = match self.kind {
            Kind::Null | Kind::NoValue => Value::Null,
            Kind::Bool(b) => Value::Bool(b),
            Kind::Number(n) => Value::Number(n),
            Kind::String(s) => Value::String(s),
            Kind::List(items) => Value::Seq(
                items
                    .into_iter()
                    .filter(|v| v.kind != Kind::NoValue)
                    .map(Val::into_node)
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .filter(|(_, v)| v.kind != Kind::NoValue)
                    .map(|(k, v)| v.into_node().map(|n| (k, n)))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Unresolved(u) => return Err(u),
        };
        Ok(Node {
            pos: self.pos,
            value,
        })
    }
}
