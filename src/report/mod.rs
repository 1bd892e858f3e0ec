//! Report: reporters turn the runner's events into output. They never decide outcomes.
//!
//! The runner sends events down a channel; one reporter loop hands each to every reporter the
//! run chose, in order, as nextest does.

pub mod console;
pub mod github;
#[cfg(test)]
mod hostile;
pub mod json;
pub mod junit;
mod progress;
#[cfg(test)]
pub(crate) mod sample;
pub mod text;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use crate::config::{ReporterMode, RunConfig};
use crate::event::Event;
pub use text::visible;

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

/// Whether the run reports in GitHub mode: `--reporter github`, or `auto` under
/// `GITHUB_ACTIONS=true`.
pub fn github_mode(config: &RunConfig) -> bool {
    match config.reporter {
        ReporterMode::Github => true,
        ReporterMode::Human => false,
        ReporterMode::Auto => config.env.github_actions,
    }
}

/// Where GitHub reads a step's summary and outputs, as its environment says.
pub fn github_files(config: &RunConfig) -> github::GithubFiles {
    let env = &config.env;
    github::GithubFiles {
        summary: env.github_summary.clone(),
        outputs: env.github_output.clone(),
        junit: config.junit.clone(),
        json: config.json.clone(),
        workspace: env.github_workspace.clone(),
    }
}

/// Several reporters fed the same events.
#[derive(Default)]
pub struct Reporters(pub Vec<Box<dyn Reporter + Send>>);

impl Reporters {
    /// The reporters a run's configuration asks for: the console on stdout (coloured when it
    /// is a terminal and NO_COLOR/CLICOLOR allow), and JUnit with `--junit`.
    pub fn for_run(config: &RunConfig) -> Reporters {
        let mut reporters = Reporters::default();
        let github = github_mode(config);
        if github {
            // First, so that a suite's group opens before the console writes into it.
            reporters.push(github::Github::new(std::io::stdout(), github_files(config)));
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

/// Log lines as a reader should see them: runtimes join a multi-line message with CR so it
/// stays one log event, so CR splits it back into lines; each is made [`visible`] and cut to
/// [`text::MAX_LINE_CHARS`].
pub fn readable_lines(logs: &[crate::lines::LogLine]) -> impl Iterator<Item = String> + '_ {
    whole_lines(logs).map(|l| text::cut_line(&l))
}

/// The longest log line the JSON report holds: a line the log window kept whole (8 KiB) and
/// its note of what it left out.
pub const JSON_LOG_LINE_CHARS: usize = crate::lines::LINE_BYTES + 100;

/// Log lines as [`readable_lines`] has them, but as whole as the log window kept them, for the
/// JSON report: data, not a screen.
pub fn whole_lines(logs: &[crate::lines::LogLine]) -> impl Iterator<Item = String> + '_ {
    logs.iter()
        .flat_map(|line| line.text.split('\r'))
        .map(|l| text::cut_line_at(&visible(l), JSON_LOG_LINE_CHARS))
}

#[cfg(test)]
mod tests {
    use super::sample::render_all;
    use super::*;

    // Regression: a 5 MB message made a 5 MB line in the console, the annotation, JUnit, the
    // summary (which then dropped the case) and the JSON report.
    #[test]
    fn huge_values_are_cut_in_every_report() {
        let huge = "x".repeat(5_000_000);
        for (what, out) in render_all(&sample::hostile_events(&huge, false)) {
            assert!(out.len() < 100_000, "{what}: {} bytes", out.len());
            // JSON keeps a line break as `\n`, so its lines are its strings.
            let longest = out.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            let bound = match what {
                "json" => JSON_LOG_LINE_CHARS + 100,
                _ => text::MAX_LINE_CHARS * 4,
            };
            assert!(longest < bound, "{what}: a line of {longest}");
            assert!(
                out.contains("more characters cut"),
                "{what}: no note of the cut"
            );
        }
    }

    // Regression: an error message's line breaks wrote Markdown into the job summary, and its
    // control and ANSI bytes reached the terminal raw.
    #[test]
    fn hostile_messages_and_names_inject_nothing() {
        let hostile =
            "\u{fffe}\u{ffff}\u{1}\u{1b}[2J\u{1b}]0;title\u{7}\r\n## ✅ all passed\n::warning::x";
        for (what, out) in render_all(&sample::hostile_events(hostile, true)) {
            assert!(!out.contains('\u{1b}'), "{what}: a raw ESC in {out:?}");
            // JSON holds any character, escaped or not, and its readers take them all.
            let json = what == "json";
            assert!(
                json || !out.contains('\u{fffe}') && !out.contains('\u{ffff}'),
                "{what}"
            );
            // A JUnit body keeps a message's lines, where no reader looks for Markdown.
            let body = what == "junit";
            assert!(
                body || !out
                    .lines()
                    .any(|l| l.starts_with("## ✅ all") || l.starts_with("::warning::")),
                "{what}: a line of its own in\n{out}"
            );
        }
    }
}
