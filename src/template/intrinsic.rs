//! CloudFormation's intrinsic functions, worked out as the service would at deploy where the
//! template alone decides the answer; everything else is left [`Unresolved`], never guessed.

use std::cell::Cell;
use std::collections::BTreeMap;

use base64::Engine as _;

pub use super::pseudo::Pseudo;
use super::value::{Kind, Val};
use crate::suite::node::{Key, Node, Pos, Value};

/// A parameter's value for this reading, and whether it is a secret (`NoEcho`).
#[derive(Debug, Clone)]
pub struct ParamValue {
    pub value: Val,
    pub secret: bool,
}

/// What an expression may refer to: the template's sections and the parameters' values.
pub struct Scope<'t> {
    pub params: BTreeMap<String, ParamValue>,
    pub pseudo: Pseudo,
    pub conditions: &'t [(Key, Node)],
    pub mappings: &'t [(Key, Node)],
    pub resources: &'t [(Key, Node)],
    /// How deep conditions refer to conditions: a loop is an error, not a stack overflow.
    pub(super) depth: Cell<usize>,
}

/// The resource types whose `Ref` is the name a property gives them.
const NAMED_BY: &[(&str, &str)] = &[
    ("AWS::Serverless::Function", "FunctionName"),
    ("AWS::Lambda::Function", "FunctionName"),
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::Serverless::SimpleTable", "TableName"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::SSM::Parameter", "Name"),
    ("AWS::Kinesis::Stream", "Name"),
    ("AWS::Events::EventBus", "Name"),
];

/// A resource's type and properties.
pub fn resource_parts(resource: &Node) -> (Option<&str>, Option<&Node>) {
    let Value::Map(entries) = &resource.value else {
        return (None, None);
    };
    let get = |name: &str| entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v);
    let kind = get("Type").and_then(|t| match &t.value {
        Value::String(s) => Some(s.as_str()),
        _ => None,
    });
    (kind, get("Properties"))
}

/// The entry `name` of a mapping node.
pub fn entry<'n>(node: &'n Node, name: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Map(entries) => entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v),
        _ => None,
    }
}

impl<'t> Scope<'t> {
    pub fn new(
        params: BTreeMap<String, ParamValue>,
        pseudo: Pseudo,
        conditions: &'t [(Key, Node)],
        mappings: &'t [(Key, Node)],
        resources: &'t [(Key, Node)],
    ) -> Self {
        Scope {
            params,
            pseudo,
            conditions,
            mappings,
            resources,
            depth: Cell::new(0),
        }
    }

    pub fn resource(&self, name: &str) -> Option<&'t Node> {
        self.resources
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| v)
    }

    /// The value of `node` with every intrinsic worked out.
    pub fn eval(&self, node: &Node) -> Val {
        match &node.value {
            Value::Map(entries) if entries.len() == 1 && is_intrinsic(&entries[0].0.name) => {
                self.intrinsic(&entries[0].0.name, &entries[0].1, node.pos)
            }
            Value::Map(entries) => Val::new(
                node.pos,
                Kind::Map(
                    entries
                        .iter()
                        .map(|(k, v)| (k.clone(), self.eval(v)))
                        .collect(),
                ),
            ),
            Value::Seq(items) => Val::new(
                node.pos,
                Kind::List(items.iter().map(|i| self.eval(i)).collect()),
            ),
            Value::String(s) if s.contains("{{resolve:") => {
                Val::unresolved(node.pos, s.clone(), DYNAMIC)
            }
            Value::String(s) => Val::string(node.pos, s.clone()),
            Value::Number(n) => Val::new(node.pos, Kind::Number(n.clone())),
            Value::Bool(b) => Val::new(node.pos, Kind::Bool(*b)),
            Value::Null => Val::new(node.pos, Kind::Null),
        }
    }

    fn intrinsic(&self, name: &str, arg: &Node, pos: Pos) -> Val {
        match name {
            "Ref" => match &arg.value {
                Value::String(target) => self.reference(target, pos),
                _ => bad(pos, "Ref", "the name of a parameter or a resource"),
            },
            "Fn::GetAtt" => self.get_att(arg, pos),
            "Fn::Sub" => self.sub(arg, pos),
            "Fn::Join" => self.join(arg, pos),
            "Fn::Select" => self.select(arg, pos),
            "Fn::Split" => self.split(arg, pos),
            "Fn::FindInMap" => self.find_in_map(arg, pos),
            "Fn::Base64" => match self.eval(arg) {
                v if v.unresolved_part().is_some() => v,
                v => match v.text() {
                    Some(t) => {
                        Val::string(pos, base64::engine::general_purpose::STANDARD.encode(t))
                    }
                    None => bad(pos, "Fn::Base64", "a string"),
                },
            },
            "Fn::If" => self.fn_if(arg, pos),
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => {
                match self.truth(&Node {
                    pos,
                    value: Value::Map(vec![(key(pos, name), arg.clone())]),
                }) {
                    Ok(b) => Val::new(pos, Kind::Bool(b)),
                    Err(u) => Val::new(pos, Kind::Unresolved(u)),
                }
            }
            "Fn::GetAZs" => {
                let region = match self.eval(arg).text() {
                    Some(r) if !r.is_empty() => r,
                    _ => self.pseudo.region.clone(),
                };
                let azs = ["a", "b", "c"].map(|z| Val::string(pos, format!("{region}{z}")));
                Val::new(pos, Kind::List(azs.to_vec()))
            }
            "Fn::ImportValue" => {
                let what = self.eval(arg).text().unwrap_or_else(|| "…".into());
                Val::unresolved(
                    pos,
                    format!("Fn::ImportValue {what}"),
                    "an export of another stack is known only to the account it is deployed in",
                )
            }
            other => Val::unresolved(
                pos,
                other.to_string(),
                format!(
                    "`{other}` is worked out by CloudFormation at deploy, not from the template"
                ),
            ),
        }
    }

    fn reference(&self, target: &str, pos: Pos) -> Val {
        if target == "AWS::NoValue" {
            return Val::new(pos, Kind::NoValue);
        }
        if target == "AWS::NotificationARNs" {
            return Val::new(pos, Kind::List(Vec::new()));
        }
        if let Some(v) = self.pseudo.value(target) {
            return Val::string(pos, v);
        }
        if let Some(p) = self.params.get(target) {
            let mut v = p.value.clone();
            v.pos = pos;
            // What cannot be known is said where it is used, not where it is declared.
            if let Kind::Unresolved(u) = &mut v.kind {
                u.pos = pos;
            }
            return v;
        }
        match self.resource(target) {
            Some(resource) => self.physical_name(target, resource, pos),
            None => Val::unresolved(
                pos,
                format!("Ref {target}"),
                format!("the template has no parameter or resource `{target}`"),
            ),
        }
    }

    /// A resource's `Ref`: its name where a property gives one, else its logical id (the
    /// name CloudFormation would generate is not known before the deploy).
    fn physical_name(&self, id: &str, resource: &Node, pos: Pos) -> Val {
        let (kind, props) = resource_parts(resource);
        let named = NAMED_BY.iter().find(|(t, _)| Some(*t) == kind);
        if let (Some((_, property)), Some(props)) = (named, props)
            && let Some(name) = entry(props, property)
        {
            // A name made from its own resource (`FunctionName: !Sub "${Fn}-x"`) is a loop
            // CloudFormation refuses as a circular dependency.
            if self.depth.get() > 64 {
                return Val::unresolved(
                    pos,
                    format!("Ref {id}"),
                    format!("the `{property}` of `{id}` refers to itself (a circular dependency)"),
                );
            }
            self.depth.set(self.depth.get() + 1);
            let mut v = self.eval(name);
            self.depth.set(self.depth.get() - 1);
            v.pos = pos;
            return v;
        }
        match kind {
            Some(t) if named.is_some() || t.starts_with("AWS::Serverless::") => {
                Val::string(pos, id)
            }
            Some(t) => Val::unresolved(
                pos,
                format!("Ref {id}"),
                format!("the `Ref` of a `{t}` is given by CloudFormation at deploy"),
            ),
            None => Val::string(pos, id),
        }
    }

    fn get_att(&self, arg: &Node, pos: Pos) -> Val {
        let parts = match self.eval(arg).kind {
            Kind::List(items) => items.iter().map(Val::text).collect::<Option<Vec<_>>>(),
            Kind::String(s) => s.split_once('.').map(|(a, b)| vec![a.into(), b.into()]),
            _ => None,
        };
        let Some([id, attribute]) = parts.as_deref() else {
            return bad(pos, "Fn::GetAtt", "[LogicalId, Attribute]");
        };
        let what = format!("Fn::GetAtt {id}.{attribute}");
        let Some(resource) = self.resource(id) else {
            return Val::unresolved(pos, what, format!("the template has no resource `{id}`"));
        };
        let (kind, _) = resource_parts(resource);
        let function = matches!(
            kind,
            Some("AWS::Serverless::Function" | "AWS::Lambda::Function")
        );
        if function && attribute == "Arn" {
            let name = self.physical_name(id, resource, pos);
            return match name.text() {
                Some(name) => Val::string(
                    pos,
                    format!(
                        "arn:{}:lambda:{}:{}:function:{name}",
                        self.pseudo.partition(),
                        self.pseudo.region,
                        self.pseudo.account
                    ),
                ),
                None => name,
            };
        }
        Val::unresolved(
            pos,
            what,
            "this attribute is known only once the stack is deployed",
        )
    }

    fn sub(&self, arg: &Node, pos: Pos) -> Val {
        let (text, vars) = match &arg.value {
            Value::String(s) => (s.clone(), Vec::new()),
            Value::Seq(items) if items.len() == 2 => match (&items[0].value, &items[1].value) {
                (Value::String(s), Value::Map(vars)) => (s.clone(), vars.clone()),
                _ => return bad(pos, "Fn::Sub", "a string, or [string, {Name: value}]"),
            },
            _ => return bad(pos, "Fn::Sub", "a string, or [string, {Name: value}]"),
        };
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return bad(pos, "Fn::Sub", "every `${` closed by `}`");
            };
            let name = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let v = match vars.iter().find(|(k, _)| k.name == name) {
                Some((_, node)) => self.eval(node),
                None if name.contains('.') => {
                    let (id, attribute) = name.split_once('.').expect("checked");
                    let parts = [id, attribute].map(|s| Node {
                        pos,
                        value: Value::String(s.into()),
                    });
                    self.get_att(
                        &Node {
                            pos,
                            value: Value::Seq(parts.to_vec()),
                        },
                        pos,
                    )
                }
                None => self.reference(name, pos),
            };
            if v.unresolved_part().is_some() {
                return v;
            }
            match v.text() {
                Some(t) => out.push_str(&t),
                None => return bad(pos, "Fn::Sub", &format!("`${{{name}}}` to be a string")),
            }
        }
        out.push_str(rest);
        if out.contains("{{resolve:") {
            return Val::unresolved(pos, out, DYNAMIC);
        }
        Val::string(pos, out)
    }

    /// The two arguments of `[a, b]`-shaped functions, evaluated.
    fn pair(&self, arg: &Node) -> Option<(Val, Val)> {
        match &arg.value {
            Value::Seq(items) if items.len() == 2 => {
                Some((self.eval(&items[0]), self.eval(&items[1])))
            }
            _ => None,
        }
    }

    fn join(&self, arg: &Node, pos: Pos) -> Val {
        let Some((delimiter, list)) = self.pair(arg) else {
            return bad(pos, "Fn::Join", "[delimiter, [values]]");
        };
        if let Some(u) = list.unresolved_part() {
            return Val::new(pos, Kind::Unresolved(u.clone()));
        }
        let (Some(delimiter), Kind::List(items)) = (delimiter.text(), &list.kind) else {
            return bad(pos, "Fn::Join", "[delimiter, [values]]");
        };
        let parts: Option<Vec<String>> = items
            .iter()
            .filter(|v| v.kind != Kind::NoValue)
            .map(Val::text)
            .collect();
        match parts {
            Some(parts) if parts.join(&delimiter).contains("{{resolve:") => {
                Val::unresolved(pos, parts.join(&delimiter), DYNAMIC)
            }
            Some(parts) => Val::string(pos, parts.join(&delimiter)),
            None => bad(pos, "Fn::Join", "a list of strings to join"),
        }
    }

    fn select(&self, arg: &Node, pos: Pos) -> Val {
        let Some((index, list)) = self.pair(arg) else {
            return bad(pos, "Fn::Select", "[index, [values]]");
        };
        // The list itself must be known; an unknown item matters only if it is the one taken.
        let whole = match &list.kind {
            Kind::List(_) => None,
            _ => list.unresolved_part(),
        };
        if let Some(u) = index.unresolved_part().or(whole) {
            return Val::new(pos, Kind::Unresolved(u.clone()));
        }
        let index = index.text().and_then(|t| t.parse::<usize>().ok());
        match (index, list.kind) {
            (Some(i), Kind::List(items)) if i < items.len() => items[i].clone(),
            (Some(i), Kind::List(items)) => bad(
                pos,
                "Fn::Select",
                &format!("an index below the list's length ({i} of {})", items.len()),
            ),
            _ => bad(pos, "Fn::Select", "[index, [values]]"),
        }
    }

    fn split(&self, arg: &Node, pos: Pos) -> Val {
        let Some((delimiter, text)) = self.pair(arg) else {
            return bad(pos, "Fn::Split", "[delimiter, string]");
        };
        if text.unresolved_part().is_some() {
            return text;
        }
        match (delimiter.text(), text.text()) {
            (Some(d), Some(t)) if !d.is_empty() => Val::new(
                pos,
                Kind::List(t.split(d.as_str()).map(|p| Val::string(pos, p)).collect()),
            ),
            _ => bad(pos, "Fn::Split", "[delimiter, string]"),
        }
    }

    fn find_in_map(&self, arg: &Node, pos: Pos) -> Val {
        let Value::Seq(items) = &arg.value else {
            return bad(
                pos,
                "Fn::FindInMap",
                "[MapName, TopLevelKey, SecondLevelKey]",
            );
        };
        if items.len() < 3 {
            return bad(
                pos,
                "Fn::FindInMap",
                "[MapName, TopLevelKey, SecondLevelKey]",
            );
        }
        let mut keys = Vec::new();
        for item in &items[..3] {
            let v = self.eval(item);
            if v.unresolved_part().is_some() {
                return v;
            }
            match v.text() {
                Some(t) => keys.push(t),
                None => return bad(pos, "Fn::FindInMap", "keys that are strings"),
            }
        }
        let found = self
            .mappings
            .iter()
            .find(|(k, _)| k.name == keys[0])
            .map(|(_, m)| m)
            .and_then(|m| entry(m, &keys[1]))
            .and_then(|m| entry(m, &keys[2]));
        match found {
            Some(node) => self.eval(node),
            None => Val::unresolved(
                pos,
                format!("Fn::FindInMap {}.{}.{}", keys[0], keys[1], keys[2]),
                "the template's `Mappings` have no such entry",
            ),
        }
    }
}

/// Why a dynamic reference cannot be known here.
const DYNAMIC: &str =
    "a dynamic reference is read from SSM or Secrets Manager by CloudFormation at deploy";

fn is_intrinsic(name: &str) -> bool {
    name == "Ref" || name.starts_with("Fn::")
}

fn key(pos: Pos, name: &str) -> Key {
    Key {
        pos,
        name: name.into(),
    }
}

/// A malformed intrinsic: cfn-lint would refuse the template; said at its line.
pub(super) fn bad(pos: Pos, function: &str, want: &str) -> Val {
    Val::unresolved(pos, function, format!("`{function}` takes {want}"))
}

#[cfg(test)]
#[path = "intrinsic_tests.rs"]
mod tests;
