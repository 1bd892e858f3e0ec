//! A function's output, line by line, as every place it runs yields it: which stream, the
//! text, whether the platform wrote it; and what watches lines as they are written. Shared
//! vocabulary: the runner, the judge and the reporters read it without knowing where the
//! function ran.

/// How many bytes of one kept line are kept; the rest is replaced by a note of how much.
pub const LINE_BYTES: usize = 8 * 1024;

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One line of a function's output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogLine {
    pub stream: LogStream,
    /// The line without its newline; invalid UTF-8 is replaced, never dropped.
    pub text: String,
    /// Written by the platform itself, as its framing's mark proved (not the function, which
    /// may print the same text); never for a framing without a mark.
    #[serde(skip)]
    pub platform: bool,
}

/// Says whether a line (its first `READ_BYTES`) is what the reader looks for.
pub type Matcher = Box<dyn Fn(&str) -> bool + Send>;
