//! Worker: owns one function container for its whole life — boot, invoke, replace, retire.
//!
//! RIE takes one invocation at a time and crashes on a second, so [`Worker::invoke`] takes
//! `&mut self`: a worker can never have two invocations in flight. Parallelism means more
//! workers, each with a container of its own.

mod agent;
pub(crate) mod claim;
mod endpoint;
mod function;
mod rie;
mod streamed;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use agent::KEY_HEADER;
pub use agent::OnDisk as AgentOnDisk;
pub use agent::unavailable as agent_unavailable;
pub use endpoint::{Answer, GRACE, Pieces};
pub use function::{Blueprint, CallerCredentials, Placement, Starter};
pub use rie::classify as classify_rie;

use crate::docker::{
    Container, Engine, LogLine, Matcher, OwnedContainers, PathProbe, StartError, State, Witness,
};
use crate::outcome::{Outcome, Reported, TransportError};
use crate::suite::check::LogRule;
use crate::suite::{InvokeContext, RuntimeApi};
use endpoint::Endpoint;

/// How long a container may take from start until RIE answers.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// How long the agent gives a runtime's init phase, as the service does.
const INIT_LIMIT: Duration = Duration::from_secs(10);

pub use crate::plan::WorkerId;

/// Why a worker's container could not be booted.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    #[error(transparent)]
    Unmade(#[from] Unmade),
    #[error(transparent)]
    Container(#[from] StartError),
    #[error(
        "the engine cannot run {arch} containers (`exec format error`): install QEMU emulation for it (`docker run --privileged --rm tonistiigi/binfmt --install {arch}`), or run on an {arch} machine"
    )]
    CannotRun {
        arch: &'static str,
        logs: Vec<LogLine>,
    },
    #[error("cannot find two free ports on this machine for a function on the host's network")]
    Ports(#[source] std::io::Error),
    /// A container booted with a witness that it did not show; it was removed.
    #[error("the engine cannot see this machine's files: {0}")]
    Unseen(String),
    #[error(
        "{} in the container did not answer within {} s",
        crate::outcome::server(*by),
        READY_LIMIT.as_secs()
    )]
    NoAnswer {
        /// What the container wrote meanwhile.
        logs: Vec<LogLine>,
        by: RuntimeApi,
    },
}

/// Why what every container of a function is made from could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Unmade {
    #[error("cannot merge the layers into one directory for /opt")]
    Layers(#[source] Arc<std::io::Error>),
    #[error(transparent)]
    Network(#[from] crate::docker::NetworkError),
    #[error("`network: host` cannot be used here: {0}")]
    HostNetwork(String),
}

impl BootError {
    /// What the container wrote, for the errors that carry it.
    fn logs_mut(&mut self) -> Option<&mut Vec<LogLine>> {
        match self {
            BootError::Container(StartError::Exited { logs, .. })
            | BootError::NoAnswer { logs, .. }
            | BootError::CannotRun { logs, .. } => Some(logs),
            _ => None,
        }
    }

    /// What the container wrote before the boot failed, if it ran at all.
    pub fn into_logs(mut self) -> Vec<LogLine> {
        self.logs_mut().map(std::mem::take).unwrap_or_default()
    }
}

/// A witness for a booting container to show, and who is told what it showed, as soon as that
/// is known: other containers need not wait for this one to answer.
pub struct Witnessing<'a> {
    pub witness: Witness,
    pub told: Box<dyn FnOnce(&PathProbe) + Send + 'a>,
}

/// Who watches an invocation as it happens, besides its checks: its log lines, and the pieces
/// of a streamed response.
#[derive(Default)]
pub struct Taps {
    pub lines: Option<Matcher>,
    pub pieces: Option<Pieces>,
}

/// A container that answers.
#[derive(Debug, Clone)]
pub struct Ready {
    pub name: String,
    /// The URL that invokes the function.
    pub invoke_url: String,
    /// From create to RIE answering.
    pub took: Duration,
}

/// A container left running after the run, and how to reach it.
#[derive(Debug, Clone)]
pub struct Kept {
    pub name: String,
    pub invoke_url: String,
    /// What lambda-ci's agent in it asks every caller to show (its `Lambda-Ci-Key` header).
    pub key: Option<String>,
}

/// One invocation: what came back, what it amounted to, its logs and timings.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// RIE's HTTP answer, when one came.
    pub answer: Option<Answer>,
    pub outcome: Outcome,
    /// The invocation's log lines, START to REPORT: the first and last of them (see
    /// [`crate::docker::KEPT_LINES`]).
    pub logs: Vec<LogLine>,
    /// How many log lines the invocation wrote, kept or not.
    pub log_lines: u64,
    /// For each log rule given to [`Worker::invoke`], the first line it found, seen as the
    /// lines were written.
    pub found: Vec<Option<String>>,
    /// The HTTP round trip.
    pub round_trip: Duration,
    /// What RIE's REPORT line says.
    pub reported: Reported,
}

/// A booted function container with its RIE client.
pub struct Worker {
    /// The directories its container bind-mounts, as they were when it booted.
    bound: Vec<(std::path::PathBuf, Option<(u64, u64)>)>,
    engine: Engine,
    owned: OwnedContainers,
    blueprint: Arc<Blueprint>,
    container: Container,
    endpoint: Endpoint,
}

impl Worker {
    /// Boots a container from `blueprint`, named by `id`, and waits until it answers: RIE, or
    /// the agent once the function's init phase is over. With a `witness`, the container must
    /// show it too, or it is removed and [`BootError::Unseen`] says why. RIE starts the
    /// function only when the first invocation comes, and the agent is told to hold its init
    /// until the witness is seen, so no code runs from files the witness would not vouch for.
    pub async fn boot(
        id: WorkerId,
        engine: &Engine,
        owned: &OwnedContainers,
        blueprint: Arc<Blueprint>,
        witness: Option<Witnessing<'_>>,
    ) -> Result<(Worker, Ready), BootError> {
        let started = Instant::now();
        let mut spec = blueprint.spec(id);
        // On the host's network the agent listens on ports of this machine's, one pair each.
        if spec.network.as_deref() == Some("host")
            && let Some(entrypoint) = spec.entrypoint.as_mut()
        {
            let port = agent::share_host_network(entrypoint).map_err(BootError::Ports)?;
            spec.host_port = Some(port);
        }
        // The agent starts the runtime at once; with a witness to show, only once it is seen.
        let hold = witness.is_some() && blueprint.api == RuntimeApi::LambdaCi;
        if hold && let Some(entrypoint) = spec.entrypoint.as_mut() {
            agent::hold_init(entrypoint);
        }
        let cannot_run = |e: StartError| match e {
            // The kernel refused the image's binaries: they are for another architecture.
            StartError::Exited { logs, .. }
                if logs.iter().any(|l| l.text.contains("exec format error")) =>
            {
                BootError::CannotRun {
                    arch: blueprint.architecture.name(),
                    logs,
                }
            }
            other => BootError::Container(other),
        };
        // Each agent gets a key of its own: it marks the platform's lines and admits lambda-ci.
        let key = (blueprint.api == RuntimeApi::LambdaCi).then(agent::new_key);
        let framing = match &key {
            None => claim::RieFraming::framing(),
            Some(key) => {
                spec.env.push((agent::KEY_ENV.to_string(), key.clone()));
                agent::AgentFraming::framing(key)
            }
        };
        let container = match Container::start(engine, owned, &spec, framing).await {
            Ok(container) => container,
            // An engine that cannot see a bind mount's source refuses the container.
            Err(StartError::Create {
                source: bollard::errors::Error::DockerResponseServerError { message, .. },
                ..
            }) if let Some(witnessing) = witness => {
                let why = format!("it refused a bind mount of a local directory ({message})");
                (witnessing.told)(&PathProbe::Unseen(why.clone()));
                return Err(BootError::Unseen(why));
            }
            Err(e) => return Err(cannot_run(e)),
        };
        let endpoint = Endpoint::new(
            match &container.address {
                Some(address) => base_url(address, function::RIE_PORT),
                None => base_url(&blueprint.invoke_host, container.port),
            },
            blueprint.timeout,
            blueprint.api,
            key.as_deref(),
        );
        let container_id = container.id.clone();
        let shown = async {
            let witnessing = witness?;
            let shown = witnessing.witness.seen_in(engine, &container_id).await;
            (witnessing.told)(&shown);
            Some(shown)
        };
        let ready = async {
            let mut container = container;
            while !endpoint.probe().await {
                container = container.still_running().await.map_err(cannot_run)?;
                if started.elapsed() > READY_LIMIT {
                    let logs = container.logs.so_far();
                    container.remove().await;
                    return Err(BootError::NoAnswer {
                        logs,
                        by: blueprint.api,
                    });
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(container)
        };
        let (shown, container) = tokio::join!(shown, ready);
        let container = match (shown, container) {
            (Some(PathProbe::Unseen(why)), container) => {
                if let Ok(container) = container {
                    container.remove().await;
                }
                return Err(BootError::Unseen(why));
            }
            (_, container) => container?,
        };
        if hold {
            endpoint.start_init().await;
        }
        let ready = Ready {
            name: container.name.clone(),
            invoke_url: endpoint.invoke_url(),
            took: started.elapsed(),
        };
        let worker = Worker {
            bound: blueprint.bound(),
            engine: engine.clone(),
            owned: owned.clone(),
            blueprint,
            container,
            endpoint,
        };
        Ok((worker, ready))
    }

    /// Sends one payload (an event's JSON) and classifies what comes back, with the
    /// invocation's log lines; each of `rules` sees every line as it is written, and so do
    /// `taps`, which also get each piece of a streamed response as it arrives.
    pub async fn invoke(
        &mut self,
        payload: &[u8],
        context: &InvokeContext,
        rules: &[&LogRule],
        taps: Taps,
    ) -> Invocation {
        let Taps { lines: tap, pieces } = taps;
        let mut matchers: Vec<Matcher> = rules
            .iter()
            .map(|rule| {
                let rule = (*rule).clone();
                Box::new(move |line: &str| rule.finds(line)) as Matcher
            })
            .collect();
        matchers.extend(tap);
        self.container.logs.watch(matchers);
        let ooms = self.container.oom_count();
        let sampled;
        let context = match &context.trace_id {
            None if self.blueprint.tracing => {
                sampled = InvokeContext {
                    trace_id: Some(sampled_trace_id()),
                    ..context.clone()
                };
                &sampled
            }
            _ => context,
        };
        let (answer, round_trip) = self.endpoint.invoke(payload, context, pieces).await;
        let outcome = match &answer {
            Ok(a) => self.endpoint.outcome(a),
            Err(error) => self.transport_failure(error.clone()).await,
        };
        let outcome = self.out_of_memory(outcome, ooms).await;
        let completed = matches!(&answer, Ok(a) if a.status == 200);
        let timed_out = matches!(outcome, Outcome::Timeout { .. });
        let mut taken = claim::claim(&self.container.logs, completed, timed_out).await;
        // RIE writes no line for a timeout; the agent writes its REPORT as the service does.
        if let Outcome::Timeout { message } = &outcome
            && self.endpoint.api() == RuntimeApi::Rie
        {
            claim::log_timeout(&mut taken, message, rules);
        }
        let mut reported = claim::reported(&taken.lines);
        reported.stream = answer
            .as_ref()
            .ok()
            .and_then(|a| a.stream.as_ref())
            .map(streamed::Stream::stats);
        Invocation {
            answer: answer.ok(),
            outcome,
            reported,
            logs: taken.lines,
            log_lines: taken.seen,
            found: taken.found.into_iter().take(rules.len()).collect(),
            round_trip,
        }
    }

    /// The engine its container runs on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether [`Worker::reload`] gives the function a new execution environment in this
    /// container, from its code as it now is: lambda-ci's agent can, with code and layers
    /// bind-mounted from directories that are still the ones it mounted; RIE cannot, a zip's
    /// or a volume's copy would be the old code, and a directory deleted and made again is
    /// not the one mounted, so those containers are booted anew.
    pub fn reloads_in_place(&self) -> bool {
        self.blueprint.in_place
            && self
                .bound
                .iter()
                .all(|(path, was)| function::identity(path) == *was)
    }

    /// A new execution environment in the same container, as a new deployment gets: the
    /// runtime and its extensions shut down, `/tmp` emptied, the runtime started again from the
    /// code as it now is and its init run; returns once that init is over. The next invocation
    /// reports the init, as a fresh container's first does.
    pub async fn reload(&mut self) -> Result<Ready, String> {
        if !self.reloads_in_place() {
            return Err("RIE cannot start its runtime again in place".into());
        }
        let started = Instant::now();
        match self.endpoint.reload(INIT_LIMIT).await {
            Ok(_) => Ok(Ready {
                name: self.container.name.clone(),
                invoke_url: self.endpoint.invoke_url(),
                took: started.elapsed(),
            }),
            Err(why) => match self.container.state().await {
                State::Running => Err(why),
                _ => Err(format!("its container stopped ({why})")),
            },
        }
    }

    /// Removes the container and boots a fresh one, as `id`, from the same blueprint: after a
    /// lost connection an invocation may still be in flight in the old one.
    pub async fn replace(self, id: WorkerId) -> Result<(Worker, Ready), BootError> {
        let (engine, owned) = (self.engine.clone(), self.owned.clone());
        let blueprint = self.blueprint.clone();
        self.container.remove().await;
        Self::boot(id, &engine, &owned, blueprint, None).await
    }

    /// Ends the worker: removes its container in the background (the run's sweep waits for
    /// it), or with `keep` leaves it running (with its files) and says how to reach it.
    pub fn retire(self, keep: bool) -> Option<Kept> {
        if !keep {
            self.container.remove_later();
            return None;
        }
        self.blueprint.keep_files();
        let kept = Kept {
            name: self.container.name.clone(),
            invoke_url: self.endpoint.invoke_url(),
            key: self.endpoint.key().map(str::to_string),
        };
        self.container.keep();
        Some(kept)
    }

    /// A runtime failure during which the engine reported the container out of memory
    /// (before the invocation it had reported `before`) is one for certain. The engine's event
    /// may come a moment after RIE's answer, so it is waited for briefly.
    async fn out_of_memory(&self, mut outcome: Outcome, before: u64) -> Outcome {
        if let Outcome::RuntimeFailure {
            out_of_memory,
            message: Some(message),
            ..
        } = &mut outcome
            && message.contains("signal: killed")
        {
            for _ in 0..10 {
                if self.container.oom_count() > before {
                    *out_of_memory = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        outcome
    }

    /// What a lost connection means: the engine may take a moment to record that the container
    /// stopped, so its state is watched briefly before calling it a transport failure.
    async fn transport_failure(&self, error: TransportError) -> Outcome {
        for _ in 0..10 {
            match self.container.state().await {
                State::Exited {
                    exit_code,
                    oom_killed,
                } => {
                    return Outcome::ContainerExited {
                        exit_code,
                        oom_killed,
                    };
                }
                State::Gone => {
                    return Outcome::Transport {
                        error,
                        container_gone: true,
                    };
                }
                State::Running => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        Outcome::Transport {
            error,
            container_gone: false,
        }
    }
}

/// `http://host:port`, with an IPv6 host in brackets.
fn base_url(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("http://[{host}]:{port}")
    } else {
        format!("http://{host}:{port}")
    }
}

/// An X-Ray trace header for a sampled invocation, as Lambda makes one under active tracing:
/// `Root=1-<epoch seconds, hex>-<24 hex>;Parent=<16 hex>;Sampled=1`.
fn sampled_trace_id() -> String {
    let mut bytes = [0u8; 20];
    let _ = getrandom::fill(&mut bytes);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=1",
        hex(&bytes[..12]),
        hex(&bytes[12..])
    )
}
