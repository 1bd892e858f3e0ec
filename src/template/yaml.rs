//! Reads a template's text, YAML or JSON, into the same positioned tree as a suite, with
//! CloudFormation's short-form tags (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) written out in their
//! long form (`{Ref: X}`, `{Fn::GetAtt: [A, B]}`, `{Fn::Sub: ...}`), as CloudFormation reads them.

use serde::de::{self, Deserialize, Deserializer};
use serde_saphyr::{Spanned, Tagged};

use crate::suite::node::{Key, Node, Pos, Value, ValueVisitor};

/// The most values a template may hold: CDK's synthesised templates run to tens of thousands.
const MAX_VALUES: usize = 2_000_000;

/// Parses a template; YAML 1.1 surprises are off as in suites (`yes` stays a string).
pub fn parse(text: &str) -> Result<Node, serde_saphyr::Error> {
    let Child(mut root) =
        serde_saphyr::from_str_with_options(text, crate::suite::node::options(MAX_VALUES))?;
    let lines: Vec<&str> = text.lines().collect();
    at_tags(&mut root, &lines);
    Ok(root)
}

/// Points each short-form intrinsic at its tag (`!Ref X` at `!`), not at its argument: the
/// parser places a tagged value where the value itself starts.
fn at_tags(node: &mut Node, lines: &[&str]) {
    if let Value::Map(entries) = &mut node.value {
        if let [(key, argument)] = entries.as_mut_slice()
            && key.pos == node.pos
            && let Some(short) = short_name(&key.name)
            && let Some(line) = node.pos.line.checked_sub(1).and_then(|l| lines.get(l))
        {
            let before: String = line
                .chars()
                .take(node.pos.column.saturating_sub(1))
                .collect();
            if let Some(at) = before.rfind(&format!("!{short}")) {
                let column = before[..at].chars().count() + 1;
                node.pos.column = column;
                key.pos.column = column;
            }
            at_tags(argument, lines);
            return;
        }
        for (_, value) in entries.iter_mut() {
            at_tags(value, lines);
        }
    } else if let Value::Seq(items) = &mut node.value {
        for item in items.iter_mut() {
            at_tags(item, lines);
        }
    }
}

/// The short tag of a long-form name: `Fn::Sub` → `Sub`.
fn short_name(long: &str) -> Option<&str> {
    match long {
        "Ref" | "Condition" => Some(long),
        _ => long.strip_prefix("Fn::"),
    }
}

/// The long form of a short-form tag: `!Ref` → `Ref`, `!Sub` → `Fn::Sub`.
fn long_name(tag: &str) -> Option<&'static str> {
    const TAGS: &[(&str, &str)] = &[
        ("Ref", "Ref"),
        ("Condition", "Condition"),
        ("GetAtt", "Fn::GetAtt"),
        ("Sub", "Fn::Sub"),
        ("Join", "Fn::Join"),
        ("Select", "Fn::Select"),
        ("Split", "Fn::Split"),
        ("FindInMap", "Fn::FindInMap"),
        ("Base64", "Fn::Base64"),
        ("If", "Fn::If"),
        ("Equals", "Fn::Equals"),
        ("Not", "Fn::Not"),
        ("And", "Fn::And"),
        ("Or", "Fn::Or"),
        ("ImportValue", "Fn::ImportValue"),
        ("GetAZs", "Fn::GetAZs"),
        ("Cidr", "Fn::Cidr"),
        ("Transform", "Fn::Transform"),
        ("Length", "Fn::Length"),
        ("ToJsonString", "Fn::ToJsonString"),
    ];
    let name = tag.strip_prefix('!')?;
    TAGS.iter().find(|(t, _)| *t == name).map(|(_, long)| *long)
}

/// `node` as its tag says: a short-form intrinsic becomes a one-key mapping.
fn untag<E: de::Error>(tag: Option<String>, node: Node) -> Result<Node, E> {
    let Some(tag) = tag else { return Ok(node) };
    if tag.starts_with("tag:yaml.org,2002:") || tag.starts_with("!!") {
        return Ok(node);
    }
    let Some(long) = long_name(&tag) else {
        return Err(E::custom(format!(
            "unknown tag `{tag}`: CloudFormation's short forms are !Ref, !GetAtt, !Sub, !Join, !Select, !Split, !FindInMap, !Base64, !If, !Equals, !Not, !And, !Or, !Condition, !ImportValue, !GetAZs, !Cidr"
        )));
    };
    let pos = node.pos;
    let argument = match (long, node.value) {
        // `!GetAtt Resource.Attribute`: a logical id holds no dot, so the first one splits.
        ("Fn::GetAtt", Value::String(s)) => match s.split_once('.') {
            Some((resource, attribute)) => Node {
                pos,
                value: Value::Seq(vec![
                    Node {
                        pos,
                        value: Value::String(resource.into()),
                    },
                    Node {
                        pos,
                        value: Value::String(attribute.into()),
                    },
                ]),
            },
            None => Node {
                pos,
                value: Value::String(s),
            },
        },
        (_, value) => Node { pos, value },
    };
    let key = Key {
        pos,
        name: long.into(),
    };
    Ok(Node {
        pos,
        value: Value::Map(vec![(key, argument)]),
    })
}

/// One value with its position and its tag read.
struct Child(Node);

impl<'de> Deserialize<'de> for Child {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned: Spanned<Tagged<Plain>> = Spanned::deserialize(deserializer)?;
        let pos = Pos {
            line: spanned.referenced.line() as usize,
            column: spanned.referenced.column() as usize,
        };
        let Tagged(Plain(value), tag) = spanned.value;
        untag(tag, Node { pos, value }).map(Child)
    }
}

/// A value whose children are read as [`Child`]ren.
struct Plain(Value);

impl<'de> Deserialize<'de> for Plain {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ValueVisitor::<Child>::new())
            .map(Plain)
    }
}

impl From<Child> for Node {
    fn from(child: Child) -> Node {
        child.0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn json_of(text: &str) -> serde_json::Value {
        parse(text).unwrap_or_else(|e| panic!("{e}")).to_json()
    }

    #[test]
    fn short_forms_become_long_forms() {
        let text = "\
a: !Ref Param
b: !GetAtt Fn.Arn
c: !GetAtt [Fn, Arn]
d: !Sub 'x-${AWS::Region}'
e: !Sub ['${A}', {A: !Ref B}]
f: !If [IsProd, !Join ['', [a, b]], !Ref AWS::NoValue]
g: !Equals [!Ref Env, prod]
h: !Condition IsProd
";
        assert_eq!(
            json_of(text),
            json!({
                "a": {"Ref": "Param"},
                "b": {"Fn::GetAtt": ["Fn", "Arn"]},
                "c": {"Fn::GetAtt": ["Fn", "Arn"]},
                "d": {"Fn::Sub": "x-${AWS::Region}"},
                "e": {"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]},
                "f": {"Fn::If": ["IsProd", {"Fn::Join": ["", ["a", "b"]]}, {"Ref": "AWS::NoValue"}]},
                "g": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "h": {"Condition": "IsProd"},
            })
        );
    }

    #[test]
    fn values_keep_their_line_and_column() {
        let node = parse("Resources:\n  Fn:\n    Handler: !Ref H\n").unwrap();
        let Value::Map(top) = &node.value else {
            panic!()
        };
        let Value::Map(resources) = &top[0].1.value else {
            panic!()
        };
        let Value::Map(props) = &resources[0].1.value else {
            panic!()
        };
        assert_eq!(props[0].0.pos, Pos { line: 3, column: 5 });
        assert_eq!(props[0].1.pos.line, 3);
        // A short form is placed at its tag.
        assert_eq!(
            props[0].1.pos,
            Pos {
                line: 3,
                column: 14
            }
        );
    }

    #[test]
    fn json_templates_read_with_positions() {
        let text =
            "{\n  \"Resources\": {\n    \"Fn\": {\"Type\": \"AWS::Lambda::Function\"}\n  }\n}\n";
        let node = parse(text).unwrap();
        assert_eq!(
            node.to_json(),
            json!({"Resources": {"Fn": {"Type": "AWS::Lambda::Function"}}})
        );
        let Value::Map(top) = &node.value else {
            panic!()
        };
        let Value::Map(resources) = &top[0].1.value else {
            panic!()
        };
        assert_eq!(resources[0].0.pos.line, 3);
    }

    #[test]
    fn an_unknown_tag_is_named() {
        let e = parse("a: !Reff X\n").unwrap_err().to_string();
        assert!(e.contains("unknown tag `!Reff`"), "{e}");
    }
}
