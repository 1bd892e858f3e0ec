//! One window of output: its first and last lines kept, the lines between counted exactly, and
//! every line shown to the reader's matchers as it goes by.

use std::collections::VecDeque;

use super::lines::Line;
use super::{LogLine, Matcher, Role};

/// How many lines of one window are kept: the first half and the last half.
pub const KEPT_LINES: usize = 2000;
pub use crate::lines::LINE_BYTES;

/// What a window of output came to.
#[derive(Debug, Default)]
pub struct Taken {
    /// The first and last lines, with a note of how many between were left out.
    pub lines: Vec<LogLine>,
    /// How many lines were seen in all.
    pub seen: u64,
    /// For each matcher, the first line it found (cut as kept lines are).
    pub found: Vec<Option<String>>,
    /// Whether the window ended with its closing line.
    pub closed: bool,
}

#[derive(Default)]
pub struct Window {
    head: Vec<LogLine>,
    tail: VecDeque<LogLine>,
    omitted: u64,
    seen: u64,
    matchers: Vec<Matcher>,
    found: Vec<Option<String>>,
    /// Watched for an invocation: noise is dropped, not kept.
    armed: bool,
    /// Its opening line came; what came before it was dropped.
    pub opened: bool,
    /// Its closing line, held until the window is taken.
    closing: Option<Line>,
}

impl Window {
    /// A window for what comes next, seen by `matchers`.
    #[cfg(test)]
    pub fn armed(matchers: Vec<Matcher>) -> Window {
        let mut window = Window::default();
        window.arm(matchers);
        window
    }

    /// Watches the window: `matchers` see the lines that come from now on, noise is dropped.
    pub fn arm(&mut self, matchers: Vec<Matcher>) {
        self.found = vec![None; matchers.len()];
        self.matchers = matchers;
        self.armed = true;
    }

    pub fn is_closed(&self) -> bool {
        self.closing.is_some()
    }

    /// Takes one line in, as `role` says.
    pub fn push(&mut self, line: Line, role: Role) {
        match role {
            Role::Noise if self.armed => return,
            // What came before the opening line was output of what ran before.
            Role::Opens if !self.opened => {
                self.head.clear();
                self.tail.clear();
                self.omitted = 0;
                self.seen = 0;
                self.found = vec![None; self.matchers.len()];
                self.opened = true;
            }
            Role::Closes if self.opened => {
                self.closing = Some(line);
                return;
            }
            _ => {}
        }
        let text = String::from_utf8_lossy(&line.bytes);
        self.keep(&line, &text);
    }

    fn keep(&mut self, line: &Line, text: &str) {
        self.seen += 1;
        for (matcher, found) in self.matchers.iter().zip(&mut self.found) {
            if found.is_none() && matcher(text) {
                *found = Some(kept_text(line, text));
            }
        }
        let kept = LogLine {
            stream: line.stream,
            text: kept_text(line, text),
            platform: line.platform,
        };
        if self.head.len() < KEPT_LINES / 2 {
            self.head.push(kept);
            return;
        }
        if self.tail.len() == KEPT_LINES / 2 {
            self.tail.pop_front();
            self.omitted += 1;
        }
        self.tail.push_back(kept);
    }

    /// The lines kept so far, with a note of how many between were left out.
    pub fn lines(&self) -> Vec<LogLine> {
        let mut lines = self.head.clone();
        if self.omitted > 0 {
            lines.push(LogLine {
                stream: super::LogStream::Stdout,
                text: format!("[lambda-ci: {} lines omitted]", self.omitted),
                platform: false,
            });
        }
        lines.extend(self.tail.iter().cloned());
        lines
    }

    /// What the window came to, its closing line changed by `amend` first.
    pub fn take(mut self, amend: impl FnOnce(&mut String)) -> Taken {
        let closed = self.closing.is_some();
        if let Some(line) = self.closing.take() {
            let mut text = String::from_utf8_lossy(&line.bytes).into_owned();
            amend(&mut text);
            let len = line.len + text.len() as u64 - line.bytes.len() as u64;
            let line = Line {
                bytes: text.clone().into_bytes(),
                len,
                ..line
            };
            self.keep(&line, &text);
        }
        Taken {
            lines: self.lines(),
            seen: self.seen,
            found: self.found,
            closed,
        }
    }
}

/// A line as it is kept: its first [`LINE_BYTES`] (whole characters), then a note of how many
/// bytes of it were left out.
fn kept_text(line: &Line, text: &str) -> String {
    let mut keep = LINE_BYTES.min(line.bytes.len());
    if keep == line.bytes.len() && !line.is_cut() {
        return text.to_string();
    }
    // Back to the start of a character, so no valid character is cut in two.
    while keep > 0 && keep < line.bytes.len() && line.bytes[keep] & 0xC0 == 0x80 {
        keep -= 1;
    }
    let left_out = line.len - keep as u64;
    let kept = String::from_utf8_lossy(&line.bytes[..keep]);
    format!("{kept}… [lambda-ci: {left_out} more bytes of this line omitted]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::LogStream;

    fn line(text: &str) -> Line {
        Line::new(LogStream::Stdout, text.as_bytes())
    }

    fn texts(taken: &Taken) -> Vec<&str> {
        taken.lines.iter().map(|l| l.text.as_str()).collect()
    }

    // Regression: the omitted-lines note undercounted; it says exactly how many were dropped.
    #[test]
    fn a_flood_keeps_head_and_tail_and_counts_exactly_what_was_left_out() {
        let mut w = Window::armed(Vec::new());
        let n = 200_000;
        for i in 0..n {
            w.push(line(&format!("line {i}")), Role::Plain);
        }
        let taken = w.take(|_| {});
        assert_eq!(taken.seen, n as u64);
        assert_eq!(taken.lines.len(), KEPT_LINES + 1);
        assert_eq!(taken.lines[0].text, "line 0");
        assert_eq!(
            taken.lines[KEPT_LINES / 2].text,
            format!("[lambda-ci: {} lines omitted]", n - KEPT_LINES)
        );
        assert_eq!(taken.lines.last().unwrap().text, format!("line {}", n - 1));
    }

    // Regression: `logs:` checks saw only the kept lines; matchers see every line.
    #[test]
    fn matchers_see_every_line_even_those_left_out() {
        let matchers: Vec<Matcher> = vec![
            Box::new(|t| t == "line 150000"),
            Box::new(|t| t.starts_with("line 1")),
            Box::new(|t| t == "never"),
        ];
        let mut w = Window::armed(matchers);
        for i in 0..200_000 {
            w.push(line(&format!("line {i}")), Role::Plain);
        }
        let taken = w.take(|_| {});
        assert_eq!(
            taken.found,
            vec![Some("line 150000".into()), Some("line 1".into()), None]
        );
    }

    #[test]
    fn output_before_the_opening_line_is_dropped_and_noise_is_not_kept() {
        let mut w = Window::armed(vec![Box::new(|t: &str| t == "spill")]);
        w.push(line("spill"), Role::Plain);
        w.push(line("REPORT RequestId: 0"), Role::Closes);
        w.push(line("START RequestId: 1"), Role::Opens);
        w.push(line("[INFO] (rapid) x"), Role::Noise);
        w.push(line("out"), Role::Plain);
        w.push(line("START RequestId: 2"), Role::Opens);
        assert!(!w.is_closed());
        w.push(line("REPORT RequestId: 1\t"), Role::Closes);
        assert!(w.is_closed());
        let taken = w.take(|t| t.push_str("Status: timeout"));
        assert_eq!(
            texts(&taken),
            vec![
                "START RequestId: 1",
                "out",
                "START RequestId: 2",
                "REPORT RequestId: 1\tStatus: timeout"
            ]
        );
        assert_eq!(taken.found, vec![None]);
        assert_eq!(taken.seen, 4);
        assert!(taken.closed);
    }

    #[test]
    fn a_window_not_watched_keeps_everything() {
        let mut w = Window::default();
        w.push(line("[INFO] (rapid) exec"), Role::Noise);
        w.push(line("boom"), Role::Plain);
        let taken = w.take(|_| {});
        assert_eq!(texts(&taken), vec!["[INFO] (rapid) exec", "boom"]);
        assert!(!taken.closed);
    }

    // Regression: one 30 MB line was kept (as 12 MB); a kept line is cut with a note of how much.
    #[test]
    fn a_long_line_is_kept_cut_with_a_note_of_how_much() {
        let mut long = Line::new(LogStream::Stdout, &vec![b'y'; 20_000]);
        long.len = 30_000_000;
        let mut w = Window::armed(vec![Box::new(|t: &str| t.starts_with("yyy"))]);
        w.push(long, Role::Plain);
        // A character is never cut in two: "é" is two bytes across the cut.
        let mut accented = vec![b'a'; LINE_BYTES - 1];
        accented.extend_from_slice("é and more".as_bytes());
        w.push(Line::new(LogStream::Stdout, &accented), Role::Plain);
        let taken = w.take(|_| {});
        let kept = &taken.lines[0].text;
        assert!(kept.starts_with(&"y".repeat(LINE_BYTES)));
        assert!(kept.ends_with(&format!(
            "y… [lambda-ci: {} more bytes of this line omitted]",
            30_000_000 - LINE_BYTES
        )));
        assert_eq!(taken.found[0].as_deref(), Some(kept.as_str()));
        let accented = &taken.lines[1].text;
        assert!(accented.ends_with("a… [lambda-ci: 11 more bytes of this line omitted]"));
        assert!(!accented.contains('\u{fffd}'));
    }
}
