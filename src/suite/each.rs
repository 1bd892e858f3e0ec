//! Parametrised cases: an entry of `cases:` with `each:` rows stands for one case per row, its
//! `{{name}}` placeholders in `name`, `event` and `expect` filled from the row.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use super::diagnostics::closest;
use super::fields::Ctx;
use super::node::{Key, Node, Value};

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}").expect("a valid pattern")
});

/// The fields of a case that placeholders fill.
const FILLED: &[&str] = &["name", "event", "event_template", "expect"];

impl Ctx<'_> {
    /// The case entries an entry of `cases:` stands for: itself, or one per `each:` row, each
    /// at its row's position and named uniquely (` [N]` is added when rows share a name).
    /// `budget` is what is left of the values a suite may hold; rows that would make more
    /// are refused before a case is built.
    pub(super) fn expand(&mut self, item: &Node, budget: &mut usize) -> Option<Vec<Node>> {
        let Value::Map(entries) = &item.value else {
            return Some(vec![item.clone()]);
        };
        let Some((_, rows)) = entries.iter().find(|(k, _)| k.name == "each") else {
            return Some(vec![item.clone()]);
        };
        let Value::Seq(rows) = &rows.value else {
            self.wrong_kind(
                rows,
                "`each`",
                "a list of rows (mappings of placeholder values)",
            );
            return None;
        };
        if rows.is_empty() {
            self.error(
                Some(rows_pos(item)),
                "`each` is empty",
                Some("add a row per case, such as `- {name: Ada}`".into()),
            );
            return None;
        }
        let template: Vec<&Node> = entries
            .iter()
            .filter(|(k, _)| k.name != "each")
            .map(|(_, v)| v)
            .collect();
        let own: usize = template.iter().map(|n| values(n)).sum();
        let takes: usize = template.iter().map(|n| whole_placeholders(n)).sum();
        let made = rows.iter().fold(0usize, |sum, row| {
            sum.saturating_add(own.saturating_add(values(row).saturating_mul(takes)))
        });
        if made > *budget {
            self.error(
                Some(rows_pos(item)),
                format!(
                    "`each` makes {} cases of about {} values each, over the {},{:03} values a suite may hold",
                    rows.len(),
                    made / rows.len(),
                    super::node::MAX_VALUES / 1000,
                    super::node::MAX_VALUES % 1000
                ),
                Some("split the rows across suites, or keep large values in an `event_file`".into()),
            );
            return None;
        }
        *budget -= made;
        let mut cases = Vec::new();
        let mut ok = true;
        // Every name some row gives: a placeholder one row lacks is that row's mistake.
        let named: HashSet<&str> = rows
            .iter()
            .filter_map(|r| match &r.value {
                Value::Map(vars) => Some(vars.iter().map(|(k, _)| k.name.as_str())),
                _ => None,
            })
            .flatten()
            .collect();
        for row in rows {
            let Value::Map(vars) = &row.value else {
                self.wrong_kind(
                    row,
                    "an `each` row",
                    "a mapping of placeholder names to values",
                );
                ok = false;
                continue;
            };
            let vars = Row {
                vars: vars.iter().map(|(k, v)| (k.name.as_str(), v)).collect(),
                keys: vars.iter().map(|(k, _)| k).collect(),
                pos: row.pos,
                named_elsewhere: &named,
            };
            let mut filled: Vec<(Key, Node)> = Vec::new();
            for (key, value) in entries {
                if key.name == "each" {
                    continue;
                }
                if FILLED.contains(&key.name.as_str()) {
                    // A name is text, whatever the row's value is.
                    let value = match (key.name.as_str(), &value.value) {
                        ("name", Value::String(s)) => {
                            self.interpolate(value, s, &vars).map(|text| Node {
                                pos: value.pos,
                                value: Value::String(text),
                            })
                        }
                        _ => self.fill(value, &vars),
                    };
                    match value {
                        Some(v) => filled.push((key.clone(), v)),
                        None => ok = false,
                    }
                } else {
                    filled.push((key.clone(), value.clone()));
                }
            }
            cases.push(Node {
                pos: row.pos,
                value: Value::Map(filled),
            });
        }
        if !ok {
            return None;
        }
        number_repeated_names(&mut cases);
        Some(cases)
    }

    /// `node` with every placeholder filled from `vars`. A string that is only a placeholder
    /// takes the row's value as it is (a number stays a number); elsewhere the value is
    /// written into the text.
    fn fill(&mut self, node: &Node, vars: &Row) -> Option<Node> {
        let value = match &node.value {
            Value::String(s) => {
                if let Some(name) = only_placeholder(s) {
                    let var = self.var(node, name, vars)?;
                    return Some(Node {
                        pos: node.pos,
                        value: var.value.clone(),
                    });
                }
                Value::String(self.interpolate(node, s, vars)?)
            }
            Value::Seq(items) => {
                let filled: Vec<Option<Node>> = items.iter().map(|i| self.fill(i, vars)).collect();
                Value::Seq(filled.into_iter().collect::<Option<_>>()?)
            }
            Value::Map(entries) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (k, v) in entries {
                    let key = match self.interpolate(node, &k.name, vars) {
                        Some(name) => Key { pos: k.pos, name },
                        None => {
                            ok = false;
                            continue;
                        }
                    };
                    match self.fill(v, vars) {
                        Some(v) => out.push((key, v)),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Value::Map(out)
            }
            scalar => scalar.clone(),
        };
        Some(Node {
            pos: node.pos,
            value,
        })
    }

    /// `text` with each placeholder replaced by the row's value as text.
    fn interpolate(&mut self, node: &Node, text: &str, vars: &Row) -> Option<String> {
        let mut out = String::new();
        let mut last = 0;
        let mut ok = true;
        for c in PLACEHOLDER.captures_iter(text) {
            let whole = c.get(0).expect("group 0 always matches");
            out.push_str(&text[last..whole.start()]);
            match self.var(node, &c[1], vars) {
                Some(v) => out.push_str(&as_text(v)),
                None => ok = false,
            }
            last = whole.end();
        }
        out.push_str(&text[last..]);
        ok.then_some(out)
    }

    fn var<'n>(&mut self, node: &Node, name: &str, vars: &Row<'n>) -> Option<&'n Node> {
        if let Some(v) = vars.vars.get(name) {
            return Some(v);
        }
        let mut known: Vec<&str> = vars.keys.iter().map(|k| k.name.as_str()).collect();
        known.sort_unstable();
        let has = if known.is_empty() {
            "nothing".to_string()
        } else {
            known.join(", ")
        };
        let near = closest(name, known.iter().copied())
            .and_then(|k| vars.keys.iter().find(|key| key.name == k));
        let placeholder = format!("{{{{{name}}}}}");
        if vars.named_elsewhere.contains(name) || near.is_none() {
            // Other rows give the name (or none gives anything like it): this row lacks it.
            let (pos, hint) = match near {
                Some(key) => (
                    key.pos,
                    format!("did you mean `{name}` rather than `{}`?", key.name),
                ),
                None => (vars.pos, format!("add `{name}:` to the row; it has: {has}")),
            };
            self.error(
                Some(pos),
                format!(
                    "this `each` row (line {}) has no `{name}` for placeholder `{placeholder}`",
                    vars.pos.line
                ),
                Some(hint),
            );
        } else if let Some(key) = near {
            // No row gives the name, and this one gives a close one: the placeholder may be
            // the typo, or every row's key.
            self.error(
                Some(node.pos),
                format!(
                    "placeholder `{placeholder}` has no value in the `each` row at line {}",
                    vars.pos.line
                ),
                Some(format!(
                    "the row has `{0}`: write `{{{{{0}}}}}`, or name it `{name}` in the rows",
                    key.name
                )),
            );
        }
        None
    }
}

/// One `each:` row, as placeholders read it.
struct Row<'n> {
    vars: HashMap<&'n str, &'n Node>,
    keys: Vec<&'n Key>,
    pos: super::node::Pos,
    /// The names any row of the entry gives.
    named_elsewhere: &'n HashSet<&'n str>,
}

/// How many values (scalars, lists, mappings) `node` holds.
fn values(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(values).sum(),
        Value::Map(entries) => entries.iter().map(|(_, v)| values(v)).sum(),
        _ => 0,
    }
}

/// The name of the placeholder `s` is, when it is one and nothing else: it takes a row's
/// value as it is.
fn only_placeholder(s: &str) -> Option<&str> {
    let c = PLACEHOLDER.captures(s)?;
    (c.get(0)?.as_str() == s).then(|| c.get(1).map(|m| m.as_str()))?
}

/// How many strings under `node` are a placeholder alone, each taking a row's value whole.
fn whole_placeholders(node: &Node) -> usize {
    match &node.value {
        Value::String(s) => usize::from(only_placeholder(s).is_some()),
        Value::Seq(items) => items.iter().map(whole_placeholders).sum(),
        Value::Map(entries) => entries.iter().map(|(_, v)| whole_placeholders(v)).sum(),
        _ => 0,
    }
}

/// Where `each:` is written in a case entry.
fn rows_pos(item: &Node) -> super::node::Pos {
    match &item.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.name == "each")
            .map_or(item.pos, |(k, _)| k.pos),
        _ => item.pos,
    }
}

/// A row's value written into a text: strings as they are, anything else as JSON.
fn as_text(v: &Node) -> String {
    match &v.value {
        Value::String(s) => s.clone(),
        other => other.to_json().to_string(),
    }
}

/// When rows share a case name, every row's name gets its row number: `name [2]`.
fn number_repeated_names(cases: &mut [Node]) {
    let names: Vec<Option<String>> = cases.iter().map(name_of).collect();
    let mut seen = std::collections::HashSet::new();
    let repeated = names.iter().flatten().any(|n| !seen.insert(n.clone()));
    if !repeated {
        return;
    }
    for (i, case) in cases.iter_mut().enumerate() {
        if let Value::Map(entries) = &mut case.value
            && let Some((_, name)) = entries.iter_mut().find(|(k, _)| k.name == "name")
            && let Value::String(s) = &mut name.value
        {
            s.push_str(&format!(" [{}]", i + 1));
        }
    }
}

fn name_of(case: &Node) -> Option<String> {
    match &case.value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.name == "name")
            .and_then(|(_, v)| match &v.value {
                Value::String(s) => Some(s.clone()),
                _ => None,
            }),
        _ => None,
    }
}
