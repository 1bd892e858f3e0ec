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

/// Log text made safe to show: control characters other than tab become visible escapes.
pub fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
