//! Report: reporters turn the runner's events into output. They never decide outcomes.

pub mod console;
pub mod junit;

use crate::event::Event;

/// Something that consumes the run's events.
pub trait Reporter {
    /// Takes one event. Output problems are kept for [`Reporter::finish`], not raised here, so
    /// one broken reporter never stops the run.
    fn report(&mut self, event: &Event);

    /// Flushes whatever the reporter writes at the end.
    fn finish(&mut self) -> Result<(), ReportError> {
        Ok(())
    }
}

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the {what} report to {path}")]
pub struct ReportError {
    pub what: &'static str,
    pub path: std::path::PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Several reporters fed the same events.
#[derive(Default)]
pub struct Reporters(pub Vec<Box<dyn Reporter + Send>>);

impl Reporter for Reporters {
    fn report(&mut self, event: &Event) {
        for r in &mut self.0 {
            r.report(event);
        }
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        let mut first = Ok(());
        for r in &mut self.0 {
            let result = r.finish();
            if first.is_ok() {
                first = result;
            }
        }
        first
    }
}

/// Log text made safe to show anywhere: ANSI CSI sequences (colours, cursor moves) are
/// removed, other control characters except tab become visible `\u{..}` escapes.
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
        } else if c.is_control() && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::visible;

    #[test]
    fn colours_are_dropped_and_other_controls_made_visible() {
        assert_eq!(visible("\u{1b}[31mred\u{1b}[0m ok"), "red ok");
        assert_eq!(
            visible("a\u{0}b\u{7}\u{1b}\u{7f}\tc"),
            "a\\u{0}b\\u{7}\\u{1b}\\u{7f}\tc"
        );
        assert_eq!(visible("]]> <tag> &"), "]]> <tag> &");
    }
}
