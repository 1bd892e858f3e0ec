//! Every reporter on hostile outcomes, generated: messages, differences, log lines and case
//! names made of any characters and of the fragments that break terminals, CI runners, XML
//! and Markdown. JUnit stays well-formed XML with every case, JSON stays JSON with every
//! string as it was, and nothing reaches the console, the GitHub log or the job summary that
//! could move a cursor, issue a workflow command or open a Markdown block.

use proptest::prelude::*;

use super::sample::{hostile_events, render_all};

/// What breaks one reader or another.
const FRAGMENTS: &[&str] = &[
    "\u{1b}[2J",
    "\u{1b}[1A\u{1b}[31m",
    "\u{1b}]0;title\u{7}",
    "\u{9b}31m",
    "\r",
    "\n",
    "\r\n",
    "\u{8}",
    "\u{7f}",
    "\u{0}",
    "\u{b}",
    "\u{c}",
    "\u{85}",
    "\u{2028}",
    "\u{fffe}",
    "\u{ffff}",
    "\u{feff}",
    "\n::error::forged",
    "\n::add-mask::forged",
    "\n::stop-commands::forged",
    "\n::endgroup::",
    "%0A::warning::x",
    "]]>",
    "<![CDATA[",
    "<!--",
    "-->",
    "</failure>",
    "&amp;",
    "&",
    "\"",
    "'",
    "\n## ✅ all passed",
    "\n| a | b |",
    "\n```",
    "\n<details>",
    "`",
    "\\",
    "\\u0000",
    "\t",
];

fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        proptest::sample::select(FRAGMENTS).prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// The GitHub log's lines that are workflow commands: outside `::stop-commands::TOKEN` spans,
/// a line that starts with `::`.
fn workflow_commands(log: &str) -> Vec<&str> {
    let mut commands = Vec::new();
    let mut stopped: Option<String> = None;
    for line in log.lines() {
        match &stopped {
            Some(token) => {
                if line == format!("::{token}::") {
                    stopped = None;
                }
            }
            None => {
                if let Some(token) = line.strip_prefix("::stop-commands::") {
                    stopped = Some(token.to_string());
                } else if line.starts_with("::") {
                    commands.push(line);
                }
            }
        }
    }
    commands
}

/// What a terminal, a CI log or a Markdown page must never be given raw.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || c == '\u{fffe}' || c == '\u{ffff}'
}

/// The cases JUnit holds.
fn junit_cases(xml: &str) -> usize {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count()
}

/// The names of the JSON report's cases.
fn json_names(json: &str) -> Vec<String> {
    let doc: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}\n{json}"));
    doc["suites"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["cases"].as_array().unwrap())
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn rendered(hostile: &str, in_names: bool) -> std::collections::HashMap<&'static str, String> {
    render_all(&hostile_events(hostile, in_names))
        .into_iter()
        .collect()
}

proptest! {
    // 300 in every test run; PROPTEST_CASES=N for a longer one.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300),
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_outcomes_leave_every_report_readable_and_inert(text in hostile(), in_names in any::<bool>()) {
        let plain = rendered("", false);
        let out = rendered(&text, in_names);
        // JUnit: well-formed, every case in it.
        prop_assert_eq!(junit_cases(&out["junit"]), junit_cases(&plain["junit"]));
        // JSON: parses, and every case name is the one given, character for character.
        let names = json_names(&out["json"]);
        let plain_names = json_names(&plain["json"]);
        prop_assert_eq!(names.len(), plain_names.len());
        if in_names {
            for (name, plain) in names.iter().zip(&plain_names) {
                prop_assert_eq!(name, &format!("{plain}{text}"));
            }
        }
        // What people and runners read: nothing raw that acts.
        for what in ["console", "github", "summary"] {
            let bad = out[what].chars().find(|c| unsafe_char(*c));
            prop_assert!(bad.is_none(), "{}: {:?} in {:?}", what, bad, out[what]);
        }
        prop_assert_eq!(workflow_commands(&out["github"]).len(), workflow_commands(&plain["github"]).len(), "{}", out["github"]);
        let headings = |s: &str| s.lines().filter(|l| l.starts_with('#') || l.starts_with("```") || l.starts_with('|')).count();
        prop_assert_eq!(headings(&out["summary"]), headings(&plain["summary"]), "{}", out["summary"]);
    }
}
