//! The errors that stop a run before or after it executes, each with the exit code it maps to,
//! and the one place where an error's chain of causes is walked. Problems with one case or
//! function are not errors: they are outcomes in the report.

use crate::docker::ConnectError;
use crate::exit;
use crate::report::ReportError;
use crate::suite::LoadErrors;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Suite files are invalid; every problem is listed.
    #[error("{0}")]
    Load(LoadErrors),
    /// A command-line value is invalid.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Docker(#[from] ConnectError),
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Load(_) | Error::Usage(_) => exit::INVALID_INPUT,
            Error::Docker(_) | Error::Report(_) => exit::INFRASTRUCTURE,
        }
    }

    /// A hint for the user, printed after the error and its causes.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Docker(e) if e.from_env => Some(format!(
                "is the engine running (`docker info`)? lambda-ci connects to DOCKER_HOST, set here to {:?}; unset it to use the default socket, {}",
                e.host,
                crate::docker::DEFAULT_HOST
            )),
            Error::Docker(_) => Some(format!(
                "is the engine running (`docker info`)? DOCKER_HOST is not set, so lambda-ci connects to the default socket, {}; set DOCKER_HOST to reach another engine",
                crate::docker::DEFAULT_HOST
            )),
            _ => None,
        }
    }
}

/// An error followed by its causes, outermost first.
pub fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| e.source())
}

/// The innermost cause of an error: what actually happened.
pub fn root_cause<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    chain(e).last().unwrap_or(e)
}

/// An error and its causes on one line, `a: b: c`, leaving out a cause its parent already
/// quotes.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    for cause in chain(e) {
        let cause = cause.to_string();
        if text.is_empty() {
            text = cause;
        } else if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot start the container")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn causes_are_joined_once_and_the_root_is_the_innermost() {
        let e = Outer(std::io::Error::other("no space left"));
        assert_eq!(one_line(&e), "cannot start the container: no space left");
        assert_eq!(root_cause(&e).to_string(), "no space left");
        assert_eq!(chain(&e).count(), 2);
    }
}
