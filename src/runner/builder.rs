//! The one way a [`Runner`] is made: the session it runs in (the engine, what it owns, what it
//! prepared), the suites and their unpacked artifacts, then each option of the plan, at its
//! default unless set. `run`, `watch`, `serve` and the tests make theirs here; no other module writes the
//! struct out.

use std::sync::Arc;

use super::{Cancellation, Runner, Session};
use crate::artifact::Unpacked;
use crate::backend::container::Containers;
use crate::config::MountMode;
use crate::docker::PullPolicy;
use crate::snapshot::Snapshots;
use crate::suite::{Credentials, RuntimeApi, Suite};
use crate::worker::CallerCredentials;

/// A [`Runner`] being made, with the container backend it runs on (none for a runner on
/// another backend).
pub struct RunnerBuilder {
    runner: Runner,
    containers: Option<Containers>,
}

impl Runner {
    /// A runner of `suites` (their artifacts `unpacked`) in `session`. Until set: images pulled when missing, each suite's own
    /// credentials and Runtime API, artifacts delivered as the first container finds, ports
    /// reached at the engine's host, no cap on failures, `--jobs`' default, containers removed,
    /// no snapshots, whole actual values under `lambda-ci-actual`, never stopped from outside.
    pub fn builder(
        session: &Session,
        suites: Vec<Suite>,
        unpacked: Arc<Unpacked>,
    ) -> RunnerBuilder {
        let Session {
            engine,
            owned,
            run_id,
            prepared,
            containers,
            boots,
        } = session.clone();
        let invoke_host = engine.host.clone();
        let containers = Containers {
            engine,
            owned,
            run_id: run_id.clone(),
            prepared: containers,
            unpacked,
            pull: PullPolicy::default(),
            credentials: None,
            runtime_api: None,
            caller: CallerCredentials::default(),
            mount: MountMode::default(),
            invoke_host,
            keep: false,
        };
        RunnerBuilder {
            // Set again by `build`, with the options given.
            runner: defaults(
                Arc::new(containers.clone()),
                suites,
                (prepared, boots),
                run_id,
            ),
            containers: Some(containers),
        }
    }

    /// A runner of `suites` on `backend`, which is not the engine's: no session, nothing of
    /// the container options applies.
    pub fn builder_on(
        backend: Arc<dyn crate::backend::Backend>,
        suites: Vec<Suite>,
    ) -> RunnerBuilder {
        let fresh = (
            Arc::default(),
            Arc::new(tokio::sync::Semaphore::new(super::boots_at_once())),
        );
        RunnerBuilder {
            runner: defaults(backend, suites, fresh, crate::run_id()),
            containers: None,
        }
    }
}

/// A runner of `suites` on `backend`, with what its session shares (what is prepared, the
/// boot limit) and its run id, every option at its default.
fn defaults(
    backend: Arc<dyn crate::backend::Backend>,
    suites: Vec<Suite>,
    (prepared, boots): (Arc<super::Prepared>, Arc<tokio::sync::Semaphore>),
    run_id: String,
) -> Runner {
    Runner {
        backend,
        suites: Arc::new(suites),
        prepared,
        boots,
        warm: false,
        credentials: None,
        caller: CallerCredentials::default(),
        cancellation: Cancellation::default(),
        jobs: crate::config::default_jobs(),
        keep: false,
        run_id,
        snapshots: Snapshots::default(),
        update_snapshots: false,
        attachments: "lambda-ci-actual".into(),
        stop: tokio::sync::watch::channel(None).1,
    }
}

impl RunnerBuilder {
    pub fn pull(mut self, pull: PullPolicy) -> Self {
        if let Some(c) = &mut self.containers {
            c.pull = pull;
        }
        self
    }

    /// `--aws-credentials`: over every function's `aws_credentials`.
    pub fn credentials(mut self, credentials: Option<Credentials>) -> Self {
        self.runner.credentials = credentials;
        if let Some(c) = &mut self.containers {
            c.credentials = credentials;
        }
        self
    }

    /// `--runtime-api`: over every suite's `runtime_api`.
    pub fn runtime_api(mut self, api: Option<RuntimeApi>) -> Self {
        if let Some(c) = &mut self.containers {
            c.runtime_api = api;
        }
        self
    }

    /// The caller's credentials, for the functions that inherit them.
    pub fn caller(mut self, caller: CallerCredentials) -> Self {
        if let Some(c) = &mut self.containers {
            c.caller = caller.clone();
        }
        self.runner.caller = caller;
        self
    }

    pub fn mount(mut self, mount: MountMode) -> Self {
        if let Some(c) = &mut self.containers {
            c.mount = mount;
        }
        self
    }

    /// `--invoke-host`: where the containers' published ports are reached, when not the
    /// engine's host.
    pub fn invoke_host(mut self, host: Option<String>) -> Self {
        if let (Some(host), Some(c)) = (host, &mut self.containers) {
            c.invoke_host = host;
        }
        self
    }

    pub fn cancellation(mut self, cancellation: Cancellation) -> Self {
        self.runner.cancellation = cancellation;
        self
    }

    pub fn jobs(mut self, jobs: usize) -> Self {
        self.runner.jobs = jobs;
        self
    }

    /// `watch`: containers kept warm for the session's next plan when they can start their
    /// runtime again in place (see [`crate::backend::Instance::reload`]).
    pub fn warm(mut self, warm: bool) -> Self {
        self.runner.warm = warm;
        self
    }

    /// `--keep`: containers left running after the run.
    pub fn keep(mut self, keep: bool) -> Self {
        self.runner.keep = keep;
        if let Some(c) = &mut self.containers {
            c.keep = keep;
        }
        self
    }

    /// The stored snapshots, and whether to record what `snapshot` checks see.
    pub fn snapshots(mut self, snapshots: Snapshots, update: bool) -> Self {
        self.runner.snapshots = snapshots;
        self.runner.update_snapshots = update;
        self
    }

    /// Where the whole actual value of a failure with a cut diff is written.
    pub fn attachments(mut self, dir: std::path::PathBuf) -> Self {
        self.runner.attachments = dir;
        self
    }

    /// Told, with a reason, when the run is to stop early.
    pub fn stop(mut self, stop: tokio::sync::watch::Receiver<Option<String>>) -> Self {
        self.runner.stop = stop;
        self
    }

    pub fn build(mut self) -> Runner {
        if let Some(containers) = self.containers {
            self.runner.backend = Arc::new(containers);
        }
        self.runner
    }
}
