//! A YAML document as a tree of nodes that each remember where they stand in the file.
//!
//! The loader validates this tree by hand instead of deriving `Deserialize` for the suite model,
//! so that every problem in a file is reported in one pass, each with its own line and column.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A line and column in a suite file, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// One YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// The shapes a YAML value can take once YAML 1.1 surprises are switched off.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Node>),
    /// Keys keep their own positions so that an unknown key can be pointed at.
    Map(Vec<(Key, Node)>),
}

/// A mapping key with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub pos: Pos,
    pub name: String,
}

/// The words a user would use for the kind of a JSON value, for "expected X, got Y" messages.
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

impl Value {
    /// The word a user would use for this kind of value, for "expected X, found Y" messages:
    /// JSON's words, but YAML's for lists and mappings.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
            scalar => json_kind(&scalar.to_json()),
        }
    }

    /// The value as JSON, for events and expected responses.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl Node {
    /// The node as JSON, for events and expected responses.
    pub fn to_json(&self) -> serde_json::Value {
        self.value.to_json()
    }
}

/// Parses one YAML document with the options that make YAML 1.1 surprises impossible:
/// `yes`/`on` stay strings, `017` and `1_000` stay strings, duplicate keys are rejected.
/// The most values (scalars, lists, mappings) a suite may hold once aliases are expanded.
pub(super) const MAX_VALUES: usize = 100_000;

pub fn parse(text: &str) -> Result<Node, serde_saphyr::Error> {
    // A suite is thousands of values at most; a bomb is refused before building many.
    let spanned: Spanned<Value> = serde_saphyr::from_str_with_options(text, options(MAX_VALUES))?;
    Ok(into_node(spanned))
}

/// The parser's options: YAML 1.1 surprises off, at most `max_nodes` values once aliases are
/// expanded.
pub(crate) fn options(max_nodes: usize) -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        with_snippet: false,
        budget: serde_saphyr::budget! { max_nodes: max_nodes },
    }
}

/// Where a YAML error points, if it says.
pub fn error_pos(e: &serde_saphyr::Error) -> Option<Pos> {
    e.location().map(|l| Pos {
        line: l.line() as usize,
        column: l.column() as usize,
    })
}

/// The hint for a YAML error at `pos` on a line indented past the key before it, which already
/// has a value (`runtime: x` then `    handler: y`): the parser says only that a mapping value is
/// not allowed there.
pub fn indentation_hint(text: &str, pos: Option<Pos>) -> Option<String> {
    let line = pos?.line;
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?;
    let meaningful = |l: &&&str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let before = lines[..line - 1].iter().rev().find(meaningful)?;
    let indent = |l: &str| l.len() - l.trim_start_matches(' ').len();
    // Where the line before's key starts, past any `- ` of a list item.
    let mut key_at = indent(before);
    let mut rest = &before[key_at..];
    while let Some(after) = rest.strip_prefix("- ") {
        let spaces = after.len() - after.trim_start_matches(' ').len();
        key_at += 2 + spaces;
        rest = &after[spaces..];
    }
    let (key, value) = rest.split_once(": ")?;
    let value = value.trim();
    let holds_value =
        !value.is_empty() && !value.starts_with('#') && !value.starts_with(['|', '>']);
    let (key_here, _) = here.trim_start().split_once(':')?;
    (indent(here) > key_at && holds_value).then(|| {
        format!(
            "`{key_here}:` is indented more than `{key}:` on the line before, which already has a value: line it up with `{key}:` ({key_at} spaces) if it belongs beside it, or put it under a key of its own"
        )
    })
}

/// A YAML error in a user's words, with a hint when there is one to give: the parser's own
/// words name its options and internal counters.
pub fn error_words(e: &serde_saphyr::Error) -> (String, Option<String>) {
    use serde_saphyr::budget::BudgetBreach;
    let mut inner = e;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = inner
    {
        inner = error;
    }
    match inner {
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => (
            match key {
                Some(key) => format!("duplicate key `{key}`"),
                None => "duplicate key".to_string(),
            },
            Some("a key may appear only once in a mapping; remove or rename one of them".into()),
        ),
        serde_saphyr::Error::Budget { breach, .. } => {
            let what = match breach {
                BudgetBreach::Depth { .. } => {
                    return (
                        "nested more than 64 levels deep".into(),
                        Some("put a deeply nested event in a JSON file and name it with `event_file`".into()),
                    );
                }
                BudgetBreach::Nodes { .. } => "more than 100,000 values",
                BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. } => {
                    "too many aliases (`*name`)"
                }
                BudgetBreach::Events { .. } => "more than 1,000,000 YAML events",
                BudgetBreach::Anchors { .. } => "too many anchors (`&name`)",
                BudgetBreach::ScalarBytes { .. } => "more than 64 MiB of text",
                _ => "too large",
            };
            (
                format!("the document is too large: {what} once aliases are expanded"),
                Some(
                    "suites are far smaller; aliases that expand to aliases multiply (a YAML bomb)"
                        .into(),
                ),
            )
        }
        serde_saphyr::Error::MultipleDocuments { .. } => (
            "more than one YAML document (a `---` line starts another)".into(),
            Some("a suite file holds one document: remove the `---`, or split the file".into()),
        ),
        serde_saphyr::Error::RecursiveReferencesRequireWeakTypes { .. } => (
            "an alias refers to the mapping or list it is in".into(),
            Some("an alias (`*name`) must not refer to its own anchor (`&name`)".into()),
        ),
        serde_saphyr::Error::BinaryNotUtf8 { .. } => (
            "a `!!binary` value that is not UTF-8 text".into(),
            Some("write the value as text".into()),
        ),
        serde_saphyr::Error::Unexpected {
            expected: "string scalar",
            ..
        } => (
            "a mapping key must be text".into(),
            Some("write the key as a plain or quoted string".into()),
        ),
        _ => {
            let message = e.to_string();
            // The parser's message carries its own position; keep only the words.
            let message = message
                .split_once(" at line ")
                .map(|(m, _)| m.to_string())
                .unwrap_or(message);
            let hint = syntax_hint(&message).map(str::to_string);
            (message, hint)
        }
    }
}

/// What to do about the YAML parser's most common complaints.
fn syntax_hint(message: &str) -> Option<&'static str> {
    const HINTS: &[(&str, &str)] = &[
        (
            "unclosed quote",
            "end the text with the quote it starts with; inside double quotes write `\\\"` for a quote",
        ),
        (
            "unclosed bracket",
            "close every `[` with `]` and every `{` with `}`, or write the value as a block",
        ),
        (
            "tabs disallowed",
            "indent with spaces: YAML does not allow tabs in indentation",
        ),
        (
            "mapping values are not allowed",
            "quote a value that holds `: ` (`\"a: b\"`), or put each key on a line of its own",
        ),
        (
            "unknown escape character",
            "in double quotes a backslash starts an escape: write `\\\\` for a backslash, or use single quotes",
        ),
        (
            "unknown anchor",
            "define the anchor (`&name`) before an alias (`*name`) uses it",
        ),
        (
            "recursion limit exceeded",
            "a suite nests at most 64 levels; put a deeply nested event in a JSON file and name it with `event_file`",
        ),
        (
            "did not find expected",
            "check the indentation and the brackets on this line and the one before",
        ),
    ];
    HINTS
        .iter()
        .find(|(says, _)| message.contains(says))
        .map(|(_, hint)| *hint)
}

fn pos_of<T>(s: &Spanned<T>) -> Pos {
    Pos {
        line: s.referenced.line() as usize,
        column: s.referenced.column() as usize,
    }
}

fn into_node(s: Spanned<Value>) -> Node {
    Node {
        pos: pos_of(&s),
        value: s.value,
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor::<Child>::new())
    }
}

/// A suite's child value: where it stands, and what it is.
struct Child(Node);

impl<'de> Deserialize<'de> for Child {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::<Value>::deserialize(deserializer).map(|s| Child(into_node(s)))
    }
}

impl From<Child> for Node {
    fn from(child: Child) -> Node {
        child.0
    }
}

/// Reads one value whose list items and mapping values are read as `C`: a suite's plain
/// positioned values, or a template's, whose tags are read too.
pub(crate) struct ValueVisitor<C>(std::marker::PhantomData<C>);

impl<C> ValueVisitor<C> {
    pub(crate) fn new() -> Self {
        ValueVisitor(std::marker::PhantomData)
    }
}

impl<'de, C: Deserialize<'de> + Into<Node>> Visitor<'de> for ValueVisitor<C> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(|v| Value::Number(v.into()))
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        u64::try_from(v)
            .map(|v| Value::Number(v.into()))
            .map_err(|_| E::custom("integer out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite numbers cannot be sent as JSON"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<C>()? {
            items.push(item.into());
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<C>()?;
            let key = Key {
                pos: pos_of(&key),
                name: key.value,
            };
            entries.push((key, value.into()));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Regression: a line indented too far got the hint "quote a value that holds `: `".
    #[test]
    fn a_line_indented_past_a_key_with_a_value_gets_an_indentation_hint() {
        let at = |line| Some(Pos { line, column: 12 });
        let text = "function:\n  runtime: python3.11\n    handler: app.main\n";
        let hint = indentation_hint(text, at(3)).unwrap();
        assert!(
            hint.starts_with("`handler:` is indented more than `runtime:` on the line before"),
            "{hint}"
        );
        assert!(hint.contains("(2 spaces)"), "{hint}");
        let listed = "cases:\n  - name: a\n      event: {}\n";
        let hint = indentation_hint(listed, at(3)).unwrap();
        assert!(
            hint.contains("line it up with `name:` (4 spaces)"),
            "{hint}"
        );
        // A key with no value yet takes the deeper line: no indentation hint.
        assert_eq!(indentation_hint("function:\n    runtime: x\n", at(2)), None);
        // Not indented deeper: the parser's own hint stands.
        assert_eq!(indentation_hint("a: b\nc: d: e\n", at(2)), None);
    }

    fn json(text: &str) -> serde_json::Value {
        parse(text).unwrap().to_json()
    }

    #[test]
    fn yaml_1_1_booleans_and_octals_stay_strings() {
        let v = json("a: yes\nb: on\nc: '017'\nd: 017\ne: 1_000\nf: true\ng: 17\nh: off\n");
        assert_eq!(
            v,
            serde_json::json!({"a": "yes", "b": "on", "c": "017", "d": "017", "e": "1_000", "f": true, "g": 17, "h": "off"})
        );
    }

    #[test]
    fn positions_of_keys_and_values() {
        let node = parse("top:\n  inner: 5\n").unwrap();
        let Value::Map(entries) = &node.value else {
            panic!("not a map")
        };
        assert_eq!(entries[0].0.pos, Pos { line: 1, column: 1 });
        let Value::Map(inner) = &entries[0].1.value else {
            panic!("not a map")
        };
        assert_eq!(inner[0].0.pos, Pos { line: 2, column: 3 });
        assert_eq!(
            inner[0].1.pos,
            Pos {
                line: 2,
                column: 10
            }
        );
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        assert!(parse("a: 1\na: 2\n").is_err());
    }

    #[test]
    fn nulls_floats_and_nesting() {
        assert_eq!(
            json("a: ~\nb: 1.5\nc: [1, {d: x}]\n"),
            serde_json::json!({"a": null, "b": 1.5, "c": [1, {"d": "x"}]})
        );
    }
}
