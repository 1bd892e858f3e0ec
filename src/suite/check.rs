//! What a case expects, as data: a list of checks, each with its own position in the suite
//! file, and the JSONPaths to ignore before any of them compares.

use std::fmt;

use serde_json::Value;

use super::node::Pos;

/// What a case requires of its invocation: every check must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expectation {
    /// In the order written (suite defaults after the case's own).
    pub checks: Vec<Check>,
    /// Removed from the response and from every expected value before any comparison.
    pub ignore: Vec<Query>,
    /// Where `expect:` is written, when the case has one.
    pub pos: Option<Pos>,
}

impl Expectation {
    /// Whether the invocation must fail: the case has an `error` or `error_contains` check.
    /// Otherwise it must succeed, which is a check of its own.
    pub fn expects_error(&self) -> bool {
        self.checks
            .iter()
            .any(|c| matches!(c.kind, CheckKind::Error { .. }))
    }

    /// The `logs:` entries, in the order written: the log reader is given them before the
    /// invocation and reports, in this order, what each found.
    pub fn log_rules(&self) -> impl Iterator<Item = &LogRule> {
        self.checks.iter().filter_map(|c| match &c.kind {
            CheckKind::Log(rule) => Some(rule),
            _ => None,
        })
    }

    /// Whether a check compares against the case's stored snapshot.
    pub fn has_snapshot(&self) -> bool {
        self.checks
            .iter()
            .any(|c| matches!(c.kind, CheckKind::Snapshot))
    }
}

/// One thing that must hold, where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub kind: CheckKind,
    pub pos: Pos,
}

/// How much of the actual value must match an expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Equal as JSON; key order never matters.
    Exact,
    /// Every key listed in the expectation must be present and match; others are ignored.
    /// Arrays must have the same length, their elements compared the same way.
    Subset,
}

/// The checks a case can make.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    /// `response` (exact) or `response_contains` (subset).
    Response { value: Value, mode: Mode },
    /// `error` (exact text or `/regex/`) or `error_contains` (substrings): the invocation must
    /// fail, with this type and message when given.
    Error {
        error_type: Option<TextMatch>,
        message: Option<TextMatch>,
    },
    /// `status`: the response's `statusCode`.
    Status(i64),
    /// One entry of `headers`: a header of the response, by name in any case.
    Header { name: String, value: TextMatch },
    /// `body` (exact) or `body_contains` (subset): the response's decoded `body`.
    Body { value: Value, mode: Mode },
    /// One entry of `assert`.
    Assert(Assertion),
    /// One entry of `logs`.
    Log(LogRule),
    /// `max_duration_ms`: the handler's time as RIE reports it.
    MaxDuration { millis: u64 },
    /// `stream`: the response was streamed, in at least `min_chunks` pieces, the first within
    /// `first_chunk_within_ms` of the invocation.
    Stream {
        min_chunks: Option<u64>,
        first_chunk_within_ms: Option<u64>,
    },
    /// `snapshot: true`: the response equals the case's stored snapshot.
    Snapshot,
    /// One entry of `response_bytes`: the response read as bytes.
    Bytes(BytesRule),
}

/// What `response_bytes` says of the response's bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum BytesRule {
    /// Exactly the bytes of a file (relative to the suite when written).
    File {
        path: std::path::PathBuf,
        bytes: Vec<u8>,
    },
    /// A SHA-256 digest, lowercase hex.
    Sha256(String),
    /// The first bytes.
    Prefix(Vec<u8>),
    /// How many bytes.
    Length(u64),
}

/// How a text is matched.
#[derive(Debug, Clone, PartialEq)]
pub enum TextMatch {
    /// The whole text.
    Exact(String),
    /// A regular expression, written `/regex/`, found anywhere in the text.
    Regex(Pattern),
    /// A substring.
    Contains(String),
}

impl TextMatch {
    pub fn is_match(&self, text: &str) -> bool {
        match self {
            TextMatch::Exact(e) => e == text,
            TextMatch::Regex(p) => p.regex.is_match(text),
            TextMatch::Contains(s) => text.contains(s.as_str()),
        }
    }
}

impl fmt::Display for TextMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextMatch::Exact(e) => write!(f, "{e:?}"),
            TextMatch::Regex(p) => write!(f, "{p}"),
            TextMatch::Contains(s) => write!(f, "text containing {s:?}"),
        }
    }
}

/// A compiled regular expression with the text it was written as.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub regex: regex::Regex,
}

impl Pattern {
    /// The pattern written between the slashes of `/regex/`, or why it does not compile.
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        regex::Regex::new(source).map(|regex| Pattern { regex })
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.regex.as_str() == other.regex.as_str()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.regex.as_str())
    }
}

/// A JSONPath (RFC 9535) as written in the suite.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub text: String,
    pub path: serde_json_path::JsonPath,
    pub pos: Pos,
}

impl Query {
    /// `text` parsed as a JSONPath, written at `pos`.
    pub fn parse(text: &str, pos: Pos) -> Result<Query, serde_json_path::ParseError> {
        Ok(Query {
            text: text.to_string(),
            path: serde_json_path::JsonPath::parse(text)?,
            pos,
        })
    }

    /// A JSONPath known to be valid, for tests.
    #[cfg(test)]
    pub fn of(text: &str) -> Query {
        Query::parse(text, Pos::default()).expect("a valid JSONPath")
    }

    /// Whether the path goes on past `$.body`, into the body a string holds: `$.body.items`,
    /// `$['body'][0]`. Such a path reads the decoded body.
    pub fn enters_body(&self) -> bool {
        let t: String = self.text.chars().filter(|c| !c.is_whitespace()).collect();
        ["$.body", "$['body']", "$[\"body\"]"]
            .iter()
            .any(|p| t.len() > p.len() && t.starts_with(p) && t[p.len()..].starts_with(['.', '[']))
    }
}

/// One `assert:` entry: a path, how its nodes combine, and what must hold of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    pub query: Query,
    pub predicate: Predicate,
    pub quantifier: Quantifier,
}

/// How the nodes a path selects combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// Exactly one node.
    One,
    /// `all: true`: every node (at least one).
    All,
    /// `any: true`: at least one node.
    Any,
}

/// What must hold of a selected value.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    Equals(Value),
    NotEquals(Value),
    /// A string matching the regex.
    Matches(Pattern),
    /// A string holding the substring, an array holding an element matching the value as a
    /// subset, or an object holding the value as a subset.
    Contains(Value),
    /// Whether the path selects anything.
    Exists(bool),
    Type(JsonType),
    /// Characters of a string, elements of an array, keys of an object.
    Length(u64),
    Gt(serde_json::Number),
    Gte(serde_json::Number),
    Lt(serde_json::Number),
    Lte(serde_json::Number),
}

impl Predicate {
    /// The key it is written with.
    pub fn name(&self) -> &'static str {
        match self {
            Predicate::Equals(_) => "equals",
            Predicate::NotEquals(_) => "not_equals",
            Predicate::Matches(_) => "matches",
            Predicate::Contains(_) => "contains",
            Predicate::Exists(_) => "exists",
            Predicate::Type(_) => "type",
            Predicate::Length(_) => "length",
            Predicate::Gt(_) => "gt",
            Predicate::Gte(_) => "gte",
            Predicate::Lt(_) => "lt",
            Predicate::Lte(_) => "lte",
        }
    }
}

/// The JSON types `type:` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Number,
    /// A number with no fractional part.
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

impl JsonType {
    /// Every type by its name in suites.
    pub const NAMED: &[(&'static str, JsonType)] = &[
        ("string", JsonType::String),
        ("number", JsonType::Number),
        ("integer", JsonType::Integer),
        ("boolean", JsonType::Boolean),
        ("array", JsonType::Array),
        ("object", JsonType::Object),
        ("null", JsonType::Null),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMED
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("", |(n, _)| n)
    }

    pub fn of(self, v: &Value) -> bool {
        match self {
            JsonType::String => v.is_string(),
            JsonType::Number => v.is_number(),
            JsonType::Integer => match v {
                Value::Number(n) => {
                    n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
                }
                _ => false,
            },
            JsonType::Boolean => v.is_boolean(),
            JsonType::Array => v.is_array(),
            JsonType::Object => v.is_object(),
            JsonType::Null => v.is_null(),
        }
    }
}

/// One `logs:` entry, over the invocation's log lines.
#[derive(Debug, Clone, PartialEq)]
pub enum LogRule {
    /// `contains`: some line holds the text.
    Contains(String),
    /// `not_contains`: no line holds the text.
    NotContains(String),
    /// `matches`: some line matches the regex.
    Matches(Pattern),
}

impl LogRule {
    /// Whether `line` is what the rule looks for: it holds the text (`contains`,
    /// `not_contains`) or matches the regex.
    pub fn finds(&self, line: &str) -> bool {
        match self {
            LogRule::Contains(text) | LogRule::NotContains(text) => line.contains(text.as_str()),
            LogRule::Matches(re) => re.regex.is_match(line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_continue_past_body_enter_it() {
        for p in [
            "$.body.id",
            "$.body[0]",
            "$['body'].id",
            "$[\"body\"]['x']",
            "$ .body .id",
        ] {
            assert!(Query::of(p).enters_body(), "{p}");
        }
        for p in [
            "$.body",
            "$.bodyText.x",
            "$.headers.body",
            "$..id",
            "$['body']",
        ] {
            assert!(!Query::of(p).enters_body(), "{p}");
        }
    }

    #[test]
    fn integers_include_whole_floats() {
        assert!(JsonType::Integer.of(&serde_json::json!(3)));
        assert!(JsonType::Integer.of(&serde_json::json!(3.0)));
        assert!(!JsonType::Integer.of(&serde_json::json!(3.5)));
        assert!(!JsonType::Integer.of(&serde_json::json!("3")));
        assert!(JsonType::Number.of(&serde_json::json!(3.5)));
    }

    #[test]
    fn text_matches() {
        assert!(TextMatch::Exact("a b".into()).is_match("a b"));
        assert!(!TextMatch::Exact("a".into()).is_match("a b"));
        assert!(TextMatch::Contains("b".into()).is_match("a b"));
        let re = TextMatch::Regex(Pattern::new("^id-[0-9]+$").unwrap());
        assert!(re.is_match("id-42"));
        assert!(!re.is_match("id-x"));
        assert_eq!(re.to_string(), "/^id-[0-9]+$/");
    }
}
