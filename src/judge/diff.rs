//! A line diff kept as data: the console renders it in colour, JUnit as plain text.

use std::time::Duration;

use similar::{Algorithm, ChangeTag, TextDiff};

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// The most diff lines shown; past them, hunks are left out and counted.
pub const MAX_LINES: usize = 120;

/// The most characters shown of one diff line.
pub const MAX_LINE_CHARS: usize = 500;

/// A unified diff from the expected text to the actual one, cut to [`MAX_LINES`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Diff {
    pub hunks: Vec<Hunk>,
    /// What was cut from a long diff.
    pub left_out: Option<LeftOut>,
}

/// The part of a long diff that is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LeftOut {
    pub hunks: usize,
    pub lines: usize,
    /// Lines cut at [`MAX_LINE_CHARS`].
    pub long_lines: usize,
}

/// A run of changed lines with their context.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hunk {
    /// `@@ -a,b +c,d @@`
    pub header: String,
    pub lines: Vec<DiffLine>,
}

/// Whether a line is only in the expectation, only in the response, or in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Both,
    Expected,
    Actual,
}

/// One line of a hunk, split into segments; `true` marks the words that changed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DiffLine {
    pub side: Side,
    pub segments: Vec<(bool, String)>,
}

impl DiffLine {
    pub fn text(&self) -> String {
        self.segments.iter().map(|(_, s)| s.as_str()).collect()
    }
}

impl Diff {
    /// The diff from `expected` to `actual`, line by line with word emphasis.
    pub fn new(expected: &str, actual: &str) -> Diff {
        let expected = with_final_newline(expected);
        let actual = with_final_newline(actual);
        let diff = TextDiff::configure()
            .algorithm(Algorithm::Patience)
            .timeout(Duration::from_millis(500))
            .diff_lines(expected.as_str(), actual.as_str());
        let hunks: Vec<Hunk> = diff
            .grouped_ops(CONTEXT)
            .into_iter()
            .filter(|ops| !ops.is_empty())
            .map(|ops| {
                let header = similar::udiff::UnifiedHunkHeader::new(&ops).to_string();
                let lines = ops
                    .iter()
                    .flat_map(|op| diff.iter_inline_changes(op))
                    .map(|change| DiffLine {
                        side: match change.tag() {
                            ChangeTag::Equal => Side::Both,
                            ChangeTag::Delete => Side::Expected,
                            ChangeTag::Insert => Side::Actual,
                        },
                        segments: change
                            .iter_strings_lossy()
                            .map(|(emph, s)| (emph, s.trim_end_matches('\n').to_string()))
                            .filter(|(_, s)| !s.is_empty())
                            .collect(),
                    })
                    .collect();
                Hunk { header, lines }
            })
            .collect();
        cut(hunks)
    }

    /// One line saying what a cut diff leaves out, if anything.
    pub fn left_out_note(&self) -> Option<String> {
        self.left_out.map(|l| {
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            let mut parts = Vec::new();
            if l.lines > 0 {
                parts.push(format!(
                    "{} more diff line{} in {} more hunk{} left out",
                    l.lines,
                    plural(l.lines),
                    l.hunks,
                    plural(l.hunks)
                ));
            }
            if l.long_lines > 0 {
                parts.push(format!(
                    "{} long line{} cut at {MAX_LINE_CHARS} characters",
                    l.long_lines,
                    plural(l.long_lines)
                ));
            }
            format!("… {}", parts.join("; "))
        })
    }

    /// The diff as plain unified-diff text, with `--- expected` / `+++ actual` headers.
    pub fn to_plain(&self) -> String {
        let mut out = String::from("--- expected\n+++ actual\n");
        for hunk in &self.hunks {
            out.push_str(&hunk.header);
            out.push('\n');
            for line in &hunk.lines {
                out.push(match line.side {
                    Side::Both => ' ',
                    Side::Expected => '-',
                    Side::Actual => '+',
                });
                out.push_str(&line.text());
                out.push('\n');
            }
        }
        if let Some(note) = self.left_out_note() {
            out.push_str(&note);
            out.push('\n');
        }
        out
    }
}

/// Keeps whole hunks while they fit in [`MAX_LINES`] (at least the first, cut to fit), and
/// counts the rest.
fn cut(hunks: Vec<Hunk>) -> Diff {
    let total: usize = hunks.iter().map(|h| h.lines.len()).sum();
    let count = hunks.len();
    let mut kept = Vec::new();
    let mut shown = 0;
    for mut hunk in hunks {
        if shown + hunk.lines.len() > MAX_LINES {
            if kept.is_empty() {
                hunk.lines.truncate(MAX_LINES);
                shown += hunk.lines.len();
                kept.push(hunk);
            }
            break;
        }
        shown += hunk.lines.len();
        kept.push(hunk);
    }
    let long_lines = kept
        .iter_mut()
        .flat_map(|h| h.lines.iter_mut())
        .map(shorten_line)
        .filter(|cut| *cut)
        .count();
    let left_out = (shown < total || long_lines > 0).then(|| LeftOut {
        hunks: count - kept.len(),
        lines: total - shown,
        long_lines,
    });
    Diff {
        hunks: kept,
        left_out,
    }
}

/// Cuts a line at [`MAX_LINE_CHARS`]; whether it was longer.
fn shorten_line(line: &mut DiffLine) -> bool {
    let mut budget = MAX_LINE_CHARS;
    let mut cut = false;
    let mut kept = Vec::new();
    for (emph, text) in line.segments.drain(..) {
        if cut {
            continue;
        }
        let n = text.chars().count();
        if n <= budget {
            budget -= n;
            kept.push((emph, text));
        } else {
            kept.push((
                emph,
                format!("{}…", text.chars().take(budget).collect::<String>()),
            ));
            cut = true;
        }
    }
    line.segments = kept;
    cut
}

fn with_final_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_rendering_is_a_unified_diff() {
        let d = Diff::new(
            "{\n  \"a\": 1,\n  \"b\": 2\n}",
            "{\n  \"a\": 1,\n  \"b\": 3\n}",
        );
        assert_eq!(
            d.to_plain(),
            "--- expected\n+++ actual\n@@ -1,4 +1,4 @@\n {\n   \"a\": 1,\n-  \"b\": 2\n+  \"b\": 3\n }\n"
        );
    }

    #[test]
    fn changed_words_are_marked() {
        let d = Diff::new("hello ada\n", "hello bob\n");
        let removed = &d.hunks[0].lines[0];
        assert_eq!(removed.side, Side::Expected);
        assert!(
            removed
                .segments
                .iter()
                .any(|(emph, s)| *emph && s.contains("ada"))
        );
    }

    #[test]
    fn long_diffs_are_cut_with_a_note() {
        let expected: String = (0..400).map(|i| format!("line {i}\n")).collect();
        let actual: String = (0..400)
            .map(|i| {
                if i % 10 == 0 {
                    format!("LINE {i}\n")
                } else {
                    format!("line {i}\n")
                }
            })
            .collect();
        let d = Diff::new(&expected, &actual);
        let shown: usize = d.hunks.iter().map(|h| h.lines.len()).sum();
        assert!(shown <= MAX_LINES, "{shown}");
        let left = d.left_out.expect("cut");
        assert!(left.hunks > 0 && left.lines > 0);
        let plain = d.to_plain();
        assert!(plain.contains("-line 0\n+LINE 0"), "{plain}");
        assert!(!plain.contains("LINE 390"), "the tail is left out");
        assert!(plain.trim_end().ends_with("left out"), "{plain}");
    }

    #[test]
    fn long_lines_are_cut_with_a_note() {
        let d = Diff::new(&"a".repeat(2000), &"b".repeat(2000));
        let left = d.left_out.expect("cut");
        assert_eq!((left.lines, left.long_lines), (0, 2));
        assert!(
            d.hunks[0]
                .lines
                .iter()
                .all(|l| l.text().chars().count() == MAX_LINE_CHARS + 1)
        );
        assert_eq!(
            d.left_out_note().unwrap(),
            "… 2 long lines cut at 500 characters"
        );
    }

    #[test]
    fn equal_texts_have_no_hunks() {
        assert!(Diff::new("same", "same\n").hunks.is_empty());
    }
}
