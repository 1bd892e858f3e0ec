//! The container backend: each function in its base image through the Docker Engine API, with
//! lambda-ci's agent (or the image's RIE) serving the Runtime API. What it prepares once per
//! session — images, how artifacts reach the containers, the agent, blueprints — is kept in
//! [`Prepared`]; each instance is a [`Worker`], one container for its whole life.

mod delivery;
mod images;
mod prepared;

use std::sync::Arc;

pub use prepared::Prepared;

use super::{
    Backend, Booted, Boxed, Failed, Instance, Invocation, Kept, Problem, Ready, Say, Taps,
};
use crate::artifact::Unpacked;
use crate::chain::one_line;
use crate::config::MountMode;
use crate::docker::{Engine, OwnedContainers, PullPolicy};
use crate::plan::WorkerId;
use crate::suite::check::LogRule;
use crate::suite::{Architecture, Credentials, InvokeContext, RuntimeApi, Suite};
use crate::worker::{BootError, CallerCredentials, Worker};

/// Functions in local containers, for one runner of a session.
#[derive(Clone)]
pub struct Containers {
    pub(crate) engine: Engine,
    pub(crate) owned: OwnedContainers,
    /// Labels the session's containers.
    pub(crate) run_id: String,
    /// What the session prepared, shared with its other runners.
    pub(crate) prepared: Arc<Prepared>,
    /// Where each zipped artifact was unpacked.
    pub(crate) unpacked: Arc<Unpacked>,
    pub(crate) pull: PullPolicy,
    /// `--aws-credentials`: overrides every function's `aws_credentials`.
    pub(crate) credentials: Option<Credentials>,
    /// `--runtime-api`: overrides every suite's `runtime_api`.
    pub(crate) runtime_api: Option<RuntimeApi>,
    /// The caller's credentials, for functions that inherit them.
    pub(crate) caller: CallerCredentials,
    /// How code and layers reach the containers.
    pub(crate) mount: MountMode,
    /// The host the containers' published ports are reached at.
    pub(crate) invoke_host: String,
    /// Containers (and the agent's files) are left after the run.
    pub(crate) keep: bool,
}

impl Containers {
    /// What a failed boot tells: the engine gone, said plainly, or the error's chain.
    fn failed(engine: &Engine, e: BootError) -> Failed {
        let message = engine.gone_message(&e).unwrap_or_else(|| one_line(&e));
        Failed {
            message,
            logs: e.into_logs(),
        }
    }
}

impl Backend for Containers {
    fn shares(&self, suite: &Suite) -> String {
        format!("{:?}", images::image_key(&suite.function))
    }

    fn begin(&self, suites: &[Suite]) {
        // The run's network is made while images are checked, not on the first boot's path.
        if self.engine.own_network.is_none() && suites.iter().any(|s| s.function.network.is_none())
        {
            self.owned.make_network_soon(&self.engine, &self.run_id);
        }
    }

    fn prepare<'a>(&'a self, suite: &'a Suite, say: Say<'a>) -> Boxed<'a, Result<(), Problem>> {
        Box::pin(async move { self.image(suite, say).await.map(drop) })
    }

    fn warning<'a>(&'a self, suite: &'a Suite) -> Boxed<'a, Option<String>> {
        Box::pin(async move {
            let f = &suite.function;
            let engine_arch = self
                .engine
                .architecture()
                .and_then(Architecture::from_engine)
                .filter(|a| *a != f.architecture)?;
            Some(format!(
                "{} is built for {} and this engine runs {}: it runs under emulation, if at all, and its timings are not representative",
                f.name,
                f.architecture.name(),
                engine_arch.name()
            ))
        })
    }

    fn boot<'a>(&'a self, suite: &'a Suite, id: WorkerId, say: Say<'a>) -> Boxed<'a, Booted> {
        Box::pin(async move {
            let image = self.image(suite, say).await.map_err(|p| Failed {
                message: p.full,
                logs: Vec::new(),
            })?;
            match self.boot_first(suite, &image, id, say).await {
                Ok((worker, ready)) => Ok((Box::new(worker) as Box<dyn Instance>, ready)),
                Err(e) => Err(Self::failed(&self.engine, e)),
            }
        })
    }

    fn reloads_in_place(&self, suite: &Suite) -> bool {
        match self.prepared.blueprint(&suite.file).get() {
            Some(Ok(blueprint)) => blueprint.in_place,
            Some(Err(_)) => false,
            None => true,
        }
    }

    fn forget(&self, suite: &Suite) {
        self.prepared
            .forget(&suite.file, images::image_key(&suite.function));
    }
}

impl Instance for Worker {
    fn invoke<'a>(
        &'a mut self,
        payload: &'a [u8],
        context: &'a InvokeContext,
        rules: &'a [&'a LogRule],
        taps: Taps,
    ) -> Boxed<'a, Invocation> {
        Box::pin(Worker::invoke(self, payload, context, rules, taps))
    }

    fn reloads_in_place(&self) -> bool {
        Worker::reloads_in_place(self)
    }

    fn reload(&mut self) -> Boxed<'_, Result<Ready, String>> {
        Box::pin(Worker::reload(self))
    }

    fn replace(self: Box<Self>, id: WorkerId) -> Boxed<'static, Booted> {
        let engine = self.engine().clone();
        Box::pin(async move {
            match Worker::replace(*self, id).await {
                Ok((worker, ready)) => Ok((Box::new(worker) as Box<dyn Instance>, ready)),
                Err(e) => Err(Containers::failed(&engine, e)),
            }
        })
    }

    fn retire(self: Box<Self>, keep: bool) -> Option<Kept> {
        Worker::retire(*self, keep)
    }
}
