//! Text made safe and short for every report: control and ANSI bytes made visible, characters
//! XML cannot hold escaped, and every line cut to a bound with a note of what was cut.

/// The most characters a report shows of one line of a message, difference, annotation or
/// summary row (the same bound as a diff line's); the rest is cut with a note of how much.
pub const MAX_LINE_CHARS: usize = crate::judge::diff::MAX_LINE_CHARS;

/// The most lines a report shows of one message; the rest is cut with a note of how many.
pub const MAX_MESSAGE_LINES: usize = 40;

/// Text made safe to show anywhere on one line: ANSI CSI sequences (colours, cursor moves) are
/// removed; other control characters except tab (line breaks too), and U+FFFE/U+FFFF, which
/// XML cannot hold, become visible `\u{..}` escapes.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            // CSI: ESC [ parameter and intermediate bytes, then one final byte in @..~.
            chars.next();
            while let Some(&n) = chars.peek() {
                chars.next();
                if ('@'..='~').contains(&n) {
                    break;
                }
            }
        } else if (c.is_control() && c != '\t') || matches!(c, '\u{fffe}' | '\u{ffff}') {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `line` cut after [`MAX_LINE_CHARS`] characters, with a note of how many more there were.
pub fn cut_line(line: &str) -> String {
    cut_line_at(line, MAX_LINE_CHARS)
}

/// `line` cut after `max` characters, with a note of how many more there were.
pub fn cut_line_at(line: &str, max: usize) -> String {
    match line.char_indices().nth(max) {
        None => line.to_string(),
        Some((end, _)) => {
            let more = line[end..].chars().count();
            format!("{}… ({more} more characters cut)", &line[..end])
        }
    }
}

/// A message as a report shows it: each line made [`visible`] and cut to [`MAX_LINE_CHARS`],
/// at most [`MAX_MESSAGE_LINES`] of them, then a note of how many more there were.
pub fn message_lines(text: &str) -> Vec<String> {
    lines(text, |l| cut_line(&visible(l)))
}

/// A message cut like [`message_lines`] but not made [`visible`]: for the JSON report, whose
/// strings are escaped by JSON itself.
pub fn cut(text: &str) -> String {
    lines(text, cut_line).join("\n")
}

fn lines(text: &str, each: impl Fn(&str) -> String) -> Vec<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut shown: Vec<String> = lines
        .iter()
        .take(MAX_MESSAGE_LINES)
        .map(|l| each(l.strip_suffix('\r').unwrap_or(l)))
        .collect();
    if lines.len() > MAX_MESSAGE_LINES {
        shown.push(format!(
            "… ({} more lines cut)",
            lines.len() - MAX_MESSAGE_LINES
        ));
    }
    shown
}

/// A name or path on one line: made [`visible`] (a line break shows as `\u{a}`) and cut.
pub fn one_line(text: &str) -> String {
    cut_line(&visible(text))
}

/// A message's first line, made [`visible`] and cut: for places that hold one line.
pub fn first_line(text: &str) -> String {
    let first = text.split('\n').next().unwrap_or_default();
    let more = text.split('\n').count() - 1;
    let mut line = cut_line(&visible(first.strip_suffix('\r').unwrap_or(first)));
    if more > 0 {
        line.push_str(&format!(
            " … ({more} more line{})",
            if more == 1 { "" } else { "s" }
        ));
    }
    line
}

/// A message as one string of [`message_lines`] joined by line breaks.
pub fn message(text: &str) -> String {
    message_lines(text).join("\n")
}

/// Text XML 1.0 can hold and quick-junit passes through whole: every line made [`visible`]
/// (which escapes the characters XML's `Char` production excludes and the stray ESC that
/// quick-junit's escape stripper would swallow text after) with tabs as two spaces.
pub fn xml(text: &str) -> String {
    text.split('\n')
        .map(|l| inert_attachments(&visible(l.strip_suffix('\r').unwrap_or(l)).replace('\t', "  ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` with every `[[ATTACHMENT|` written `[[ATTACHMENT¦`: Jenkins' attachments plugin
/// attaches the file such a marker names, and only lambda-ci's own lines may name one.
pub fn inert_attachments(text: &str) -> String {
    text.replace("[[ATTACHMENT|", "[[ATTACHMENT¦")
}

/// Whether XML 1.0's `Char` production admits `c`.
#[cfg(test)]
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_dropped_and_other_controls_made_visible() {
        assert_eq!(visible("\u{1b}[31mred\u{1b}[0m ok"), "red ok");
        assert_eq!(
            visible("a\u{0}b\u{7}\u{1b}\u{7f}\tc"),
            "a\\u{0}b\\u{7}\\u{1b}\\u{7f}\tc"
        );
        assert_eq!(visible("]]> <tag> &"), "]]> <tag> &");
    }

    // Regression: U+FFFE/U+FFFF and lone C0 controls reached the JUnit file, which no XML
    // reader accepts.
    #[test]
    fn junit_text_holds_only_characters_xml_allows() {
        let hostile: String = (0u32..0x20)
            .chain([0x7f, 0x85, 0xfffe, 0xffff, 0xfffd, 0x1fffe])
            .filter_map(char::from_u32)
            .collect();
        let safe = xml(&hostile);
        assert!(safe.chars().all(is_xml_char), "{safe:?}");
        assert!(
            safe.contains("\\u{fffe}") && safe.contains("\\u{ffff}"),
            "{safe}"
        );
        assert!(safe.contains('\n'), "line breaks are kept in bodies");
        assert!(!safe.contains('\u{1b}') && !safe.contains('\t'), "{safe:?}");
    }

    // Regression: a 5 MB value made a 5 MB line in every report.
    #[test]
    fn huge_values_are_cut_with_a_note_of_what_was_cut() {
        let huge = "x".repeat(5_000_000);
        let line = cut_line(&huge);
        assert_eq!(
            line,
            format!(
                "{}… (4999500 more characters cut)",
                "x".repeat(MAX_LINE_CHARS)
            )
        );
        let many: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let lines = message_lines(&many);
        assert_eq!(lines.len(), MAX_MESSAGE_LINES + 1);
        assert_eq!(lines.last().unwrap(), "… (61 more lines cut)");
        assert_eq!(cut_line("short"), "short");
        assert_eq!(first_line("one\ntwo\nthree"), "one … (2 more lines)");
    }
}
