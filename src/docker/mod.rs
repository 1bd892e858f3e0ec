//! The Docker adapter: the engine, the images it holds, and the containers lambda-ci owns there.
//! It takes plain container specs and knows nothing of suites or Lambda.

mod build;
mod container;
mod copy;
mod image;
mod logs;
mod owned;
mod probe;

use bollard::Docker;

pub use build::{BuildError, build_image, context_tar};
pub use container::{Artifact, Container, ContainerSpec, Delivery, StartError, State};
pub use image::{ImageError, PullPolicy, PullProgress, ensure_image};
pub use logs::{LogLine, LogStream, Logs};
pub use owned::OwnedContainers;
pub use probe::{PathProbe, probe_local_paths};

/// The label every container of lambda-ci carries, so leftovers can be found and swept.
pub const LABEL: &str = "lambda-ci";
/// The label naming the run a container belongs to.
pub const RUN_LABEL: &str = "lambda-ci.run";
/// The label naming the suite file a container serves.
pub const SUITE_LABEL: &str = "lambda-ci.suite";

/// The Docker engine could not be reached.
#[derive(Debug, thiserror::Error)]
#[error("cannot reach the Docker engine at {host}")]
pub struct ConnectError {
    pub host: String,
    #[source]
    pub source: bollard::errors::Error,
}

/// A connection to the Docker engine, as `DOCKER_HOST` (or the default socket) names it.
#[derive(Clone)]
pub struct Engine {
    pub(crate) docker: Docker,
}

impl Engine {
    /// Connects and agrees on an API version; fails when no engine answers.
    pub async fn connect() -> Result<Engine, ConnectError> {
        let host =
            std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
        let fail = |source| ConnectError {
            host: host.clone(),
            source,
        };
        let docker = Docker::connect_with_defaults().map_err(fail)?;
        let docker = docker.negotiate_version().await.map_err(fail)?;
        docker.ping().await.map_err(fail)?;
        Ok(Engine { docker })
    }

    /// Whether the engine holds `image` (by name, any platform).
    pub async fn has_image(&self, image: &str) -> bool {
        self.docker.inspect_image(image).await.is_ok()
    }

    /// The engine's CPU architecture as it names it (`x86_64`, `aarch64`), if it says.
    pub async fn architecture(&self) -> Option<String> {
        self.docker.info().await.ok()?.architecture
    }
}
