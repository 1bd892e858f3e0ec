//! The errors that stop a run before or after it executes, each with the exit code it maps to.
//! Problems with one case or function are not errors: they are outcomes in the report. An
//! error's chain of causes is walked in [`crate::chain`], which every layer may use.

pub use crate::chain::{chain, one_line, root_cause};

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
