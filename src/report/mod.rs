//! Report: reporters turn the runner's events into output. They never decide outcomes.
//!
//! The runner sends events down a channel; one reporter loop hands each to every reporter the
//! run chose, in order, as nextest does.

pub mod console;
pub mod github;
pub mod json;
pub mod junit;
#[cfg(test)]
pub(crate) mod sample;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use crate::config::{ReporterMode, RunConfig};
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

/// A report file written once, at the end of the run; a failure to write it is kept for
/// [`Reporter::finish`].
pub struct ReportFile {
    what: &'static str,
    pub path: std::path::PathBuf,
    error: Option<std::io::Error>,
}

impl ReportFile {
    pub fn new(what: &'static str, path: std::path::PathBuf) -> ReportFile {
        ReportFile {
            what,
            path,
            error: None,
        }
    }

    pub fn write(&mut self, text: &str) {
        if let Err(e) = std::fs::write(&self.path, text) {
            self.error = Some(e);
        }
    }

    pub fn finish(&mut self) -> Result<(), ReportError> {
        match self.error.take() {
            Some(source) => Err(ReportError {
                what: self.what,
                path: self.path.clone(),
                source,
            }),
            None => Ok(()),
        }
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

impl Reporters {
    /// The reporters a run's configuration asks for: the console on stdout (coloured when it
    /// is a terminal and NO_COLOR/CLICOLOR allow), and JUnit with `--junit`.
    pub fn for_run(config: &RunConfig) -> Reporters {
        let mut reporters = Reporters::default();
        let github = match config.reporter {
            ReporterMode::Github => true,
            ReporterMode::Human => false,
            ReporterMode::Auto => std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
        };
        if github {
            // First, so that a suite's group opens before the console writes into it.
            let var = |name| std::env::var_os(name).map(std::path::PathBuf::from);
            let files = github::GithubFiles {
                summary: var("GITHUB_STEP_SUMMARY"),
                outputs: var("GITHUB_OUTPUT"),
                junit: config.junit.clone(),
                json: config.json.clone(),
                workspace: var("GITHUB_WORKSPACE"),
            };
            reporters.push(github::Github::new(std::io::stdout(), files));
        }
        let color =
            anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never;
        // In GitHub mode no spinner shares a line with a workflow command.
        let progress = if github {
            console::Progress::Plain
        } else {
            console::Progress::Interactive
        };
        reporters.push(console::Console::new(std::io::stdout(), color, progress));
        if let Some(path) = &config.junit {
            reporters.push(junit::Junit::new(path.clone()));
        }
        if let Some(path) = &config.json {
            reporters.push(json::Json::new(path.clone(), config.settings()));
        }
        reporters
    }

    pub fn push(&mut self, reporter: impl Reporter + Send + 'static) {
        self.0.push(Box::new(reporter));
    }

    /// Starts the reporter loop: every event from `events`, in order, to every reporter, until
    /// the runner drops its end. Reporters write to blocking outputs, so the loop has a thread
    /// of its own; it hands the reporters back to be finished.
    pub fn spawn(mut self, mut events: UnboundedReceiver<Event>) -> JoinHandle<Reporters> {
        tokio::task::spawn_blocking(move || {
            while let Some(event) = events.blocking_recv() {
                self.report(&event);
            }
            self
        })
    }
}

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

/// Log lines as a reader should see them: runtimes join a multi-line message with CR so it
/// stays one log event, so CR splits it back into lines; each is made [`visible`].
pub fn readable_lines(logs: &[crate::docker::LogLine]) -> impl Iterator<Item = String> + '_ {
    logs.iter()
        .flat_map(|line| line.text.split('\r'))
        .map(visible)
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
