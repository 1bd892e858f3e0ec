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

impl From<crate::config::ConfigError> for Error {
    fn from(e: crate::config::ConfigError) -> Error {
        match e {
            crate::config::ConfigError::Load(errors) => Error::Load(errors),
            crate::config::ConfigError::Usage(why) => Error::Usage(why),
        }
    }
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
            Error::Docker(e) if denied(e) => Some(format!(
                "the engine's socket is there, but this user may not use it: add the user to the `docker` group (`sudo usermod -aG docker $USER`, then log in again), or point DOCKER_HOST at a socket it may use (rootless Docker: unix://$XDG_RUNTIME_DIR/docker.sock); now {}",
                if e.from_env {
                    format!("DOCKER_HOST is {:?}", e.host)
                } else {
                    format!(
                        "DOCKER_HOST is not set, so the socket is {}",
                        crate::docker::DEFAULT_HOST
                    )
                }
            )),
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

/// Whether the engine's address refused this user: a socket without permission for it.
fn denied(e: &crate::docker::ConnectError) -> bool {
    crate::chain::chain(e).any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied)
            || cause
                .to_string()
                .contains("Permission denied (os error 13)")
    })
}
