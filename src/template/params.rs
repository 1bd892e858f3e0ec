//! The template's parameters: each one's value for this reading (its `Default`, then what the
//! caller passes) checked against its `AllowedValues` and `AllowedPattern` as CloudFormation
//! checks them at deploy.

use std::collections::BTreeMap;

use super::intrinsic::{ParamValue, entry};
use super::value::{Kind, Val};
use crate::suite::node::{Key, Node, Value};

/// Where a parameter's value came from, for `explain` and for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    Default,
    /// `--parameter-overrides` or `samconfig.toml`, named as the user would say it.
    Passed(String),
}

/// One problem with a parameter, at its line.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamProblem {
    pub key: Key,
    pub message: String,
    pub hint: Option<String>,
}

/// The parameters' values: `passed` values win over each `Default`; a parameter with neither is
/// unresolved (only a suite that uses it fails).
pub fn values(
    section: &[(Key, Node)],
    options: &super::stack::Options,
) -> (BTreeMap<String, (ParamValue, Given)>, Vec<ParamProblem>) {
    let passed = &options.passed;
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (key, declared) in section {
        let kind = text_of(entry(declared, "Type")).unwrap_or_else(|| "String".into());
        let secret = matches!(
            entry(declared, "NoEcho").map(|n| &n.value),
            Some(Value::Bool(true))
        ) || text_of(entry(declared, "NoEcho")).as_deref() == Some("true");
        let (text, given) = match passed.get(&key.name) {
            Some((value, from)) => (Some(value.clone()), Given::Passed(from.clone())),
            None => (text_of(entry(declared, "Default")), Given::Default),
        };
        // An SSM-typed parameter names an SSM parameter, whose value only the account has;
        // only a value passed for a local run (the command line, `local_invoke`) is the value.
        let names_ssm = kind.starts_with("AWS::SSM::Parameter::Value")
            && match &given {
                Given::Default => true,
                Given::Passed(from) => from.contains("samconfig") && !from.contains("local_invoke"),
            };
        let secret = secret || text.as_ref().is_some_and(|t| options.secrets.contains(t));
        let value = match text {
            _ if options.unknown.contains_key(&key.name) => Val::unresolved(
                key.pos,
                format!("Ref {}", key.name),
                options.unknown[&key.name].clone(),
            ),
            Some(text) if names_ssm => Val::unresolved(
                key.pos,
                format!("Ref {}", key.name),
                format!(
                    "`{}` is a `{kind}`: its value is read from SSM at deploy (`{text}` names the SSM parameter)",
                    key.name
                ),
            ),
            Some(text) => {
                if let Some(problem) = check(key, declared, &text, secret) {
                    problems.push(problem);
                }
                typed(key, &kind, text)
            }
            None => Val::unresolved(
                key.pos,
                format!("Ref {}", key.name),
                format!(
                    "parameter `{}` has no `Default` and no value was passed",
                    key.name
                ),
            ),
        };
        out.insert(key.name.clone(), (ParamValue { value, secret }, given));
    }
    (out, problems)
}

/// A list parameter's value is a list; any other is the text.
fn typed(key: &Key, kind: &str, text: String) -> Val {
    if kind == "CommaDelimitedList" || kind.starts_with("List<") {
        let items = text
            .split(',')
            .map(|s| Val::string(key.pos, s.trim()))
            .collect();
        return Val::new(key.pos, Kind::List(items));
    }
    Val::string(key.pos, text)
}

fn text_of(node: Option<&Node>) -> Option<String> {
    match &node?.value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Seq(items) => items
            .iter()
            .map(|i| text_of(Some(i)))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        _ => None,
    }
}

/// The rule a value breaks, as CloudFormation would refuse it at deploy.
fn check(key: &Key, declared: &Node, text: &str, secret: bool) -> Option<ParamProblem> {
    let shown = if secret {
        "the value (NoEcho)".to_string()
    } else {
        format!("`{text}`")
    };
    let problem = |message: String, hint: Option<String>| {
        Some(ParamProblem {
            key: key.clone(),
            message,
            hint,
        })
    };
    if let Some(Value::Seq(allowed)) = entry(declared, "AllowedValues").map(|n| &n.value) {
        let allowed: Vec<String> = allowed.iter().filter_map(|a| text_of(Some(a))).collect();
        if !allowed.iter().any(|a| a == text) {
            return problem(
                format!(
                    "parameter `{}`: {shown} is not one of its `AllowedValues`",
                    key.name
                ),
                Some(format!("pass one of: {}", allowed.join(", "))),
            );
        }
    }
    if let Some(pattern) = text_of(entry(declared, "AllowedPattern")) {
        match regex::Regex::new(&format!("^(?:{pattern})$")) {
            Ok(re) if !re.is_match(text) => {
                let hint = text_of(entry(declared, "ConstraintDescription"));
                return problem(
                    format!(
                        "parameter `{}`: {shown} does not match its `AllowedPattern` `{pattern}`",
                        key.name
                    ),
                    hint,
                );
            }
            _ => {}
        }
    }
    let number = |name| text_of(entry(declared, name)).and_then(|t| t.parse::<f64>().ok());
    let length = text.chars().count() as f64;
    let bounds = [
        ("MinLength", number("MinLength"), length, true),
        ("MaxLength", number("MaxLength"), length, false),
        (
            "MinValue",
            number("MinValue"),
            text.parse().unwrap_or(f64::NAN),
            true,
        ),
        (
            "MaxValue",
            number("MaxValue"),
            text.parse().unwrap_or(f64::NAN),
            false,
        ),
    ];
    for (rule, bound, actual, min) in bounds {
        let Some(bound) = bound else { continue };
        // A value that is not a number breaks a numeric bound too.
        let within = match actual.partial_cmp(&bound) {
            Some(std::cmp::Ordering::Less) => !min,
            Some(std::cmp::Ordering::Greater) => min,
            Some(std::cmp::Ordering::Equal) => true,
            None => false,
        };
        let broken = !within;
        if broken {
            return problem(
                format!(
                    "parameter `{}`: {shown} breaks its `{rule}` of {bound}",
                    key.name
                ),
                None,
            );
        }
    }
    None
}
