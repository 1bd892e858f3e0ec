//! Decodes `expect:` (a case's, or the suite's `defaults:`) into checks, each at its own
//! position, and merges a case's checks with the suite's defaults.

use super::check::{Check, CheckKind, Expectation, LogRule, Mode, Pattern, Query, TextMatch};
use super::fields::Ctx;
use super::node::{Key, Node, Pos, Value};

/// The keys `expect:` takes.
const KEYS: &[&str] = &[
    "response",
    "response_contains",
    "error",
    "error_contains",
    "status",
    "headers",
    "body",
    "body_contains",
    "assert",
    "logs",
    "max_duration_ms",
    "stream",
    "ignore",
    "snapshot",
    "response_bytes",
];

/// Keys that require the invocation to fail.
const ERROR_KEYS: &[&str] = &["error", "error_contains"];

/// Keys that speak of a successful response, which an expected error rules out.
const SUCCESS_KEYS: &[&str] = &[
    "response",
    "response_contains",
    "status",
    "headers",
    "body",
    "body_contains",
    "response_bytes",
];

/// An `expect:` as written: its checks grouped by the key that declares them.
#[derive(Debug, Clone, Default)]
pub(super) struct Declared {
    keys: Vec<(String, Vec<Check>)>,
    ignore: Vec<Query>,
    pos: Option<Pos>,
}

impl Declared {
    pub(super) fn add_ignore(&mut self, queries: Vec<Query>) {
        self.ignore.extend(queries);
    }

    fn has(&self, keys: &[&str]) -> bool {
        self.keys.iter().any(|(k, _)| keys.contains(&k.as_str()))
    }

    /// The case's expectation: its own checks, then each default its own keys leave open.
    /// A key and its other form are one (`body` and `body_contains`, `response` and
    /// `response_contains`, `error` and `error_contains`); `headers` merge by header name; a
    /// case expecting an error drops default response checks, and the other way round;
    /// `ignore` lists add up.
    pub(super) fn with_defaults(self, defaults: &Declared) -> Expectation {
        let own_error = self.has(ERROR_KEYS);
        let own_success = self.has(SUCCESS_KEYS);
        let own_families: Vec<&str> = self.keys.iter().map(|(k, _)| family(k)).collect();
        let own_headers: Vec<String> = self
            .keys
            .iter()
            .flat_map(|(_, checks)| checks)
            .filter_map(|c| match &c.kind {
                CheckKind::Header { name, .. } => Some(name.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        let mut checks: Vec<Check> = self.keys.iter().flat_map(|(_, c)| c.clone()).collect();
        for (key, default) in &defaults.keys {
            let contradicts = (own_error && SUCCESS_KEYS.contains(&key.as_str()))
                || (own_success && ERROR_KEYS.contains(&key.as_str()));
            if contradicts {
                continue;
            }
            if key == "headers" {
                checks.extend(default.iter().filter(|c| {
                    !matches!(&c.kind, CheckKind::Header { name, .. } if own_headers.contains(&name.to_ascii_lowercase()))
                }).cloned());
            } else if !own_families.contains(&family(key)) {
                checks.extend(default.iter().cloned());
            }
        }
        let mut ignore = defaults.ignore.clone();
        ignore.extend(self.ignore);
        Expectation {
            checks,
            ignore,
            pos: self.pos,
        }
    }
}

/// A key and its other form count as one when a case overrides a default.
fn family(key: &str) -> &str {
    key.strip_suffix("_contains").unwrap_or(key)
}

/// A string written `/regex/`: the text between the slashes.
pub(super) fn slashed(s: &str) -> Option<&str> {
    (s.len() >= 2 && s.starts_with('/') && s.ends_with('/')).then(|| &s[1..s.len() - 1])
}

impl Ctx<'_> {
    /// `expect:` of a case or of the suite's defaults.
    pub(super) fn expectation(&mut self, node: &Node) -> Option<Declared> {
        let f = self.fields(node, "`expect`", KEYS)?;
        let mut out = Declared {
            pos: Some(node.pos),
            ..Declared::default()
        };
        let mut ok = true;
        let error_key = ERROR_KEYS.iter().find_map(|k| f.key(k));
        for (key, value) in f.entries {
            let name = key.name.as_str();
            if !KEYS.contains(&name) {
                continue;
            }
            if let Some(error_key) = error_key
                && SUCCESS_KEYS.contains(&name)
            {
                let order = |k: &Key| (k.pos.line, k.pos.column);
                let (first, second) = if order(key) < order(error_key) {
                    (key, error_key)
                } else {
                    (error_key, key)
                };
                self.error(
                    Some(second.pos),
                    format!("`{}` and `{}` cannot be combined", first.name, second.name),
                    Some(
                        "a failed invocation has no response; check the error document with `assert` or `snapshot`".into(),
                    ),
                );
                ok = false;
                // Its own problems are reported too.
                let _ = self.checks(name, value, key.pos);
                continue;
            }
            let checks = if name == "ignore" {
                match self.queries(value) {
                    Some(q) => out.ignore.extend(q),
                    None => ok = false,
                }
                continue;
            } else {
                self.checks(name, value, key.pos)
            };
            match checks {
                Some(c) => out.keys.push((name.to_string(), c)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn checks(&mut self, name: &str, value: &Node, key_pos: Pos) -> Option<Vec<Check>> {
        let one = |kind| Some(vec![Check { kind, pos: key_pos }]);
        match name {
            "response" => one(CheckKind::Response {
                value: value.to_json(),
                mode: Mode::Exact,
            }),
            "response_contains" => {
                if !matches!(value.value, Value::Map(_) | Value::Seq(_)) {
                    self.error(
                        Some(value.pos),
                        format!(
                            "`response_contains` must be a mapping or a list, found {}",
                            value.value.kind()
                        ),
                        Some("use `response` to compare a whole value".into()),
                    );
                    return None;
                }
                one(CheckKind::Response {
                    value: value.to_json(),
                    mode: Mode::Subset,
                })
            }
            "error" | "error_contains" => {
                let what = format!("`{name}`");
                let e = self.fields(value, &what, &["type", "message"])?;
                let contains = name == "error_contains";
                let mut text = |node: Option<&Node>, field: &str| -> Option<Option<TextMatch>> {
                    match node {
                        None => Some(None),
                        Some(n) if contains => {
                            let s = self.string(n, &format!("{name} `{field}`"))?;
                            Some(Some(TextMatch::Contains(s)))
                        }
                        Some(n) => self.text_match(n, &format!("error `{field}`")).map(Some),
                    }
                };
                let error_type = text(e.get("type"), "type");
                let message = text(e.get("message"), "message");
                one(CheckKind::Error {
                    error_type: error_type?,
                    message: message?,
                })
            }
            "status" => match &value.value {
                Value::Number(n) if n.as_i64().is_some_and(|s| (100..=599).contains(&s)) => {
                    one(CheckKind::Status(n.as_i64().unwrap_or_default()))
                }
                // `status: "200"`, as some write it.
                Value::String(s)
                    if s.trim()
                        .parse::<i64>()
                        .is_ok_and(|s| (100..=599).contains(&s)) =>
                {
                    one(CheckKind::Status(s.trim().parse().unwrap_or_default()))
                }
                _ => {
                    self.error(
                        Some(value.pos),
                        "`status` must be an HTTP status code from 100 to 599",
                        None,
                    );
                    None
                }
            },
            "headers" => {
                let Value::Map(entries) = &value.value else {
                    self.wrong_kind(value, "`headers`", "a mapping of header names to values");
                    return None;
                };
                let mut checks = Vec::new();
                let mut ok = true;
                for (k, v) in entries {
                    match self.text_match(v, &format!("header `{}`", k.name)) {
                        Some(m) => checks.push(Check {
                            kind: CheckKind::Header {
                                name: k.name.clone(),
                                value: m,
                            },
                            pos: k.pos,
                        }),
                        None => ok = false,
                    }
                }
                ok.then_some(checks)
            }
            "body" | "body_contains" => one(CheckKind::Body {
                value: value.to_json(),
                mode: if name == "body" {
                    Mode::Exact
                } else {
                    Mode::Subset
                },
            }),
            "assert" => {
                let Value::Seq(items) = &value.value else {
                    self.wrong_kind(value, "`assert`", "a list of `{path, <predicate>}` entries");
                    return None;
                };
                let mut checks = Vec::new();
                let mut ok = true;
                for item in items {
                    match self.assertion(item) {
                        Some(a) => checks.push(Check {
                            kind: CheckKind::Assert(a),
                            pos: item.pos,
                        }),
                        None => ok = false,
                    }
                }
                ok.then_some(checks)
            }
            "logs" => self.log_rules(value),
            "max_duration_ms" => {
                let millis =
                    self.integer(value, "`max_duration_ms`", 1, 900_000, "milliseconds")?;
                one(CheckKind::MaxDuration {
                    millis: millis.into(),
                })
            }
            "stream" => {
                let s = self.fields(value, "`stream`", &["min_chunks", "first_chunk_within_ms"])?;
                let min_chunks = match s.get("min_chunks") {
                    None => Some(None),
                    Some(n) => self
                        .integer(n, "`stream` `min_chunks`", 1, 1_000_000, "chunks")
                        .map(|n| Some(n.into())),
                };
                let first = match s.get("first_chunk_within_ms") {
                    None => Some(None),
                    Some(n) => self
                        .integer(
                            n,
                            "`stream` `first_chunk_within_ms`",
                            1,
                            900_000,
                            "milliseconds",
                        )
                        .map(|n| Some(n.into())),
                };
                one(CheckKind::Stream {
                    min_chunks: min_chunks?,
                    first_chunk_within_ms: first?,
                })
            }
            "response_bytes" => self.response_bytes(value),
            "snapshot" => match value.value {
                Value::Bool(true) => one(CheckKind::Snapshot),
                Value::Bool(false) => Some(Vec::new()),
                _ => {
                    self.wrong_kind(value, "`snapshot`", "true or false");
                    None
                }
            },
            _ => unreachable!("only known keys reach here"),
        }
    }

    /// A text written as-is or as `/regex/`.
    fn text_match(&mut self, node: &Node, what: &str) -> Option<TextMatch> {
        let text = self.scalar(node, what)?;
        match slashed(&text) {
            Some(source) => self.pattern(node, source, what).map(TextMatch::Regex),
            None => Some(TextMatch::Exact(text)),
        }
    }

    pub(super) fn pattern(&mut self, node: &Node, source: &str, what: &str) -> Option<Pattern> {
        match Pattern::new(source) {
            Ok(p) => Some(p),
            Err(e) => {
                let detail = e.to_string();
                let last = detail.lines().last().unwrap_or_default().trim().to_string();
                self.error(
                    Some(node.pos),
                    format!("{what}: invalid regular expression /{source}/: {last}"),
                    Some("the syntax is Rust's `regex` crate's (no look-around)".into()),
                );
                None
            }
        }
    }

    /// A JSONPath, parsed.
    pub(super) fn query(&mut self, node: &Node, what: &str) -> Option<Query> {
        let text = self.string(node, what)?;
        match Query::parse(&text, node.pos) {
            Ok(query) => Some(query),
            Err(e) => {
                self.error(
                    Some(node.pos),
                    format!("{what} `{text}` is not a valid JSONPath: {e}"),
                    Some("JSONPath as in RFC 9535: `$.body.items[0].id`, `$.headers['content-type']`".into()),
                );
                None
            }
        }
    }

    /// `ignore:` — one JSONPath or a list of them.
    pub(super) fn queries(&mut self, node: &Node) -> Option<Vec<Query>> {
        let items = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match self.query(item, "`ignore` path") {
                Some(q) => out.push(q),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// `logs: {contains, not_contains, matches}`, each a string or a list of them; one check
    /// per entry.
    fn log_rules(&mut self, node: &Node) -> Option<Vec<Check>> {
        let f = self.fields(node, "`logs`", &["contains", "not_contains", "matches"])?;
        let mut checks = Vec::new();
        let mut ok = true;
        for (key, value) in f.entries {
            let items: Vec<&Node> = match &value.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![value],
            };
            for item in items {
                let what = format!("`logs.{}` entry", key.name);
                let Some(text) = self.string(item, &what) else {
                    ok = false;
                    continue;
                };
                let rule = match key.name.as_str() {
                    "contains" => Some(LogRule::Contains(text)),
                    "not_contains" => Some(LogRule::NotContains(text)),
                    "matches" => {
                        let source = slashed(&text).unwrap_or(&text);
                        self.pattern(item, source, &what).map(LogRule::Matches)
                    }
                    _ => None,
                };
                match rule {
                    Some(rule) => checks.push(Check {
                        kind: CheckKind::Log(rule),
                        pos: item.pos,
                    }),
                    None => ok = false,
                }
            }
        }
        ok.then_some(checks)
    }
}
