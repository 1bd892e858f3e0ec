//! Parsing JSON that users and functions write, nested as deep as real documents go: past
//! serde_json's own limit of 128 levels, and up to [`MAX_DEPTH`], a bound that keeps a hostile
//! document from overflowing the stack of whatever walks it next (comparison, diff, drop).

use serde::Deserialize;
use serde_json::Value;

/// The deepest nesting of arrays and objects accepted. Serialising, cloning and dropping a
/// value recurse once per level: this many levels fit in half of a tokio worker's 2 MiB stack
/// even in a debug build (measured: 1,000 do not), and comparison grows its stack as it goes.
pub const MAX_DEPTH: usize = 512;

/// Why a text is not JSON that lambda-ci takes.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    #[error("{0}")]
    Syntax(#[from] serde_json::Error),
    #[error("nested more than {MAX_DEPTH} levels deep")]
    TooDeep,
}

impl JsonError {
    /// The 1-based line and column of a syntax error.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            JsonError::Syntax(e) => Some((e.line(), e.column())),
            JsonError::TooDeep => None,
        }
    }
}

/// Parses `bytes` as one JSON document of at most [`MAX_DEPTH`] levels.
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    if depth(bytes) > MAX_DEPTH {
        return Err(JsonError::TooDeep);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    de.disable_recursion_limit();
    // The parser recurses per level too; on a small stack it grows one on the heap.
    let value = Value::deserialize(serde_stacker::Deserializer::new(&mut de))?;
    de.end()?;
    Ok(value)
}

/// How deeply arrays and objects nest in a JSON text, brackets in strings aside. Counted on
/// the bytes, before parsing, so that a too-deep document never becomes a value.
fn depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn json_deeper_than_serde_jsons_128_levels_parses_up_to_the_bound() {
        assert!(parse(nested(500).as_bytes()).is_ok());
        assert!(parse(nested(MAX_DEPTH).as_bytes()).is_ok());
        assert!(matches!(
            parse(nested(MAX_DEPTH + 1).as_bytes()),
            Err(JsonError::TooDeep)
        ));
        // Hostile depth is refused before parsing, without a stack overflow.
        assert!(matches!(
            parse(nested(1_000_000).as_bytes()),
            Err(JsonError::TooDeep)
        ));
    }

    #[test]
    fn brackets_in_strings_do_not_count() {
        assert_eq!(depth(br#"{"a": "[[[[\"[[", "b": [1]}"#), 2);
        assert!(parse(br#"{"a": 1} x"#).is_err());
        assert_eq!(
            parse(br#"{"a": [1, "]"]}"#).unwrap(),
            serde_json::json!({"a": [1, "]"]})
        );
    }

    /// The verdict on `outcome` against one check of `kind`, as the judge gives it.
    fn judge_one(
        kind: crate::suite::CheckKind,
        outcome: &crate::outcome::Outcome,
    ) -> crate::judge::Verdict {
        use crate::judge::{Evidence, LogsSeen, Snapshot, judge};
        use crate::suite::{Check, Expectation, Pos};
        let expect = Expectation {
            checks: vec![Check {
                kind,
                pos: Pos::default(),
            }],
            ignore: Vec::new(),
            pos: None,
        };
        let evidence = Evidence {
            outcome,
            logs: LogsSeen::NONE,
            duration: None,
            stream: None,
        };
        let file = std::path::Path::new("s.snap.yaml");
        judge(&expect, evidence, Snapshot::Compare { stored: None, file }).verdict
    }

    /// Judges a response body of `levels` levels against an expectation of the same shape
    /// with a different leaf, on a thread with half of a tokio worker's 2 MiB stack, and
    /// renders the failure.
    fn judge_deep(levels: usize) -> String {
        use crate::judge::Verdict;
        use crate::suite::{CheckKind, Mode};
        std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || {
                let body = nested(levels);
                let outcome = crate::worker::classify_rie(200, body.as_bytes());
                // Past the bound, expect a shallow array: suites nest at most 64 levels.
                let expected = parse(body.replace('1', "2").as_bytes())
                    .unwrap_or_else(|_| serde_json::json!([[2]]));
                let kind = CheckKind::Response {
                    value: expected,
                    mode: Mode::Exact,
                };
                match judge_one(kind, &outcome) {
                    Verdict::Fail(failures) => failures
                        .iter()
                        .map(|f| {
                            format!("{} {:?}", f.message, f.diff.as_ref().map(|d| d.to_plain()))
                        })
                        .collect(),
                    other => format!("{other:?}"),
                }
            })
            .unwrap()
            .join()
            .expect("judged without overflowing the stack")
    }

    // A valid 500-deep response was judged "a string"; deep ones must not overflow the stack.
    #[test]
    fn deep_responses_are_judged_as_json_without_overflowing_the_stack() {
        let at_500 = judge_deep(500);
        assert!(
            at_500.contains("does not match: 1 difference"),
            "{}",
            &at_500[..at_500.len().min(400)]
        );
        let at_max = judge_deep(MAX_DEPTH);
        assert!(
            at_max.contains("does not match: 1 difference"),
            "{}",
            &at_max[..at_max.len().min(400)]
        );
        // Past the bound, the response is text: judged, not crashed on.
        let past = judge_deep(10_000);
        assert!(
            past.contains(r#"+\"[[[["#),
            "{}",
            &past[..past.len().min(400)]
        );
    }

    // A `body:` written as a JSON string deeper than 128 levels was compared as text.
    #[test]
    fn a_body_written_as_deep_json_text_is_compared_as_json() {
        use crate::judge::Verdict;
        use crate::suite::{CheckKind, Mode};
        let response = serde_json::json!({"statusCode": 200, "body": nested(200)});
        let outcome = crate::worker::classify_rie(200, response.to_string().as_bytes());
        let kind = CheckKind::Body {
            value: Value::String(nested(200).replace('1', "2")),
            mode: Mode::Exact,
        };
        let verdict = judge_one(kind, &outcome);
        let Verdict::Fail(failures) = verdict else {
            panic!("{verdict:?}")
        };
        // Compared as JSON, the difference is at the leaf, not the whole text.
        let text = format!("{:?}", failures[0]);
        assert!(
            text.contains("[0][0][0]"),
            "{}",
            &text[..text.len().min(700)]
        );
    }
}
