//! The execution environment's life, as the service leads it: init when the container starts
//! (limited to 10 s, then retried inside the first invocation under the function's timeout),
//! one invocation at a time, answered as soon as the runtime posts its result but finished
//! only when the runtime asks for the next event, and a reset after a timeout or a crash (the
//! runtime killed, re-initialised by the next invocation; `/tmp` stays).
//!
//! Every runtime the sandbox starts is a generation with a Runtime API listener of its own; a
//! reset ends the listener and every connection to it, so nothing a dead runtime asked for can
//! take an event meant for the next one.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::watch;

mod invocation;
mod lifecycle;
mod runtime_side;

use crate::config::Config;
use crate::extensions::Extension;
use crate::output::Output;

/// How long a killed runtime may take to be gone.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// How long a shutdown may take with external extensions, and the runtime's part of it.
const SHUTDOWN_BUDGET: Duration = Duration::from_millis(2000);
const RUNTIME_GRACE: Duration = Duration::from_millis(300);

/// One event for the runtime, with what `/next` says of it.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub payload: Bytes,
    pub deadline_ms: u64,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
}

/// What the caller sends.
pub struct Request {
    pub payload: Bytes,
    pub client_context: Option<String>,
    pub trace_id: Option<String>,
}

/// An error the runtime reported: its document as posted, and the type header.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    pub body: Bytes,
    pub error_type: Option<String>,
}

/// What the runtime answered an invocation with.
#[derive(Debug)]
pub enum Reply {
    Response {
        body: Bytes,
        content_type: Option<String>,
    },
    Error(ErrorReport),
    /// It posted more than the service takes.
    TooLarge,
    /// It streams its response: the pieces come as they are posted.
    Stream {
        content_type: Option<String>,
        pieces: tokio::sync::mpsc::Receiver<crate::stream::Piece>,
    },
}

/// What an invocation amounted to, for the caller.
#[derive(Debug)]
pub enum Answer {
    /// What the runtime answered the invocation with.
    Replied(Reply),
    InitError(ErrorReport),
    Timeout,
    /// The runtime ended: how (`exit status 3`), empty when it gave no reason.
    Exit(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Init,
    Invoke,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Init => "init",
            Phase::Invoke => "invoke",
        }
    }
}

enum Init {
    /// No runtime: the next invocation initialises one.
    Needed,
    Running {
        started: Instant,
        phase: Phase,
        /// The runtime asked for its first event; init ends when every extension has too.
        runtime_ready: bool,
    },
    /// `report`: the next REPORT line carries `took` as its `Init Duration`.
    Done {
        took: Duration,
        report: bool,
    },
    Failed {
        error: ErrorReport,
    },
}

struct Runtime {
    generation: u64,
    /// The runtime's process group; 0 until it is started, after the extensions registered.
    pgid: i32,
    /// The external extensions' process groups.
    extension_pgids: Vec<i32>,
    /// The runtime's processes once its init was over: any other process of its group was
    /// started by an invocation.
    baseline: Vec<i32>,
    /// The external extensions whose process ended, by name.
    extensions_ended: Vec<String>,
    /// How it ended, once it has.
    ended: Option<String>,
    /// Serves this generation's Runtime API; ended (and awaited) at a reset.
    server: Option<tokio::task::JoinHandle<()>>,
}

struct Current {
    id: String,
    generation: u64,
    /// Waiting for the runtime's `/next`.
    event: Option<Event>,
    delivered: Option<Instant>,
    reply: Option<Reply>,
    replied_at: Option<Instant>,
    /// The runtime asked for the next event after replying.
    finished: bool,
    /// Processes earlier invocations left, thawed for this one.
    thawed: Vec<i32>,
}

pub(crate) struct State {
    generation: u64,
    runtime: Option<Runtime>,
    init: Init,
    current: Option<Current>,
    /// The extensions registered with the live generation.
    pub(crate) extensions: Vec<Extension>,
    /// Processes invocations left running, frozen until the next invocation.
    frozen: Vec<i32>,
}

impl State {
    pub(crate) fn live(&self, generation: u64) -> bool {
        self.runtime
            .as_ref()
            .is_some_and(|r| r.generation == generation)
    }

    fn extension_ended(&self, name: &str) -> bool {
        self.runtime
            .as_ref()
            .is_some_and(|r| r.extensions_ended.iter().any(|n| n == name))
    }

    fn ended(&self) -> Option<String> {
        self.runtime.as_ref().and_then(|r| r.ended.clone())
    }
}

/// Why the runtime's call cannot be taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    InvalidRequestId,
    InvalidStateTransition,
}

pub struct Sandbox {
    pub config: Config,
    pub output: Arc<Output>,
    state: Mutex<State>,
    tick: watch::Sender<u64>,
    gate: Arc<tokio::sync::Mutex<()>>,
    /// On the host's network, the Runtime API's socket, bound once for the container's life:
    /// unbound between a reset and the next runtime, its port could be taken by any process of
    /// the host.
    held: Mutex<Option<std::net::TcpListener>>,
}

impl Sandbox {
    pub fn new(config: Config, output: Arc<Output>) -> Arc<Sandbox> {
        Arc::new(Sandbox {
            config,
            output,
            state: Mutex::new(State {
                generation: 0,
                runtime: None,
                init: Init::Needed,
                current: None,
                extensions: Vec::new(),
                frozen: Vec::new(),
            }),
            tick: watch::Sender::new(0),
            gate: Arc::new(tokio::sync::Mutex::new(())),
            held: Mutex::new(None),
        })
    }

    /// The Runtime API's listener for a new runtime generation: bound anew in the container's
    /// own network, and on the host's network a handle on the socket bound once.
    pub(crate) fn runtime_listener(&self) -> std::io::Result<tokio::net::TcpListener> {
        if !self.config.loopback_only {
            return crate::api::listen(self.config.runtime_port);
        }
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_none() {
            let socket = std::net::TcpListener::bind(("127.0.0.1", self.config.runtime_port))?;
            socket.set_nonblocking(true)?;
            *held = Some(socket);
        }
        let socket = held.as_ref().expect("bound above").try_clone()?;
        tokio::net::TcpListener::from_std(socket)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn changed(&self) {
        self.tick.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Waits until `f` finds what it looks for in the state, or `deadline` passes (`None`).
    pub(crate) async fn wait_for<T>(
        &self,
        deadline: Option<tokio::time::Instant>,
        mut f: impl FnMut(&mut State) -> Option<T>,
    ) -> Option<T> {
        let mut ticks = self.tick.subscribe();
        loop {
            ticks.borrow_and_update();
            if let Some(found) = f(&mut self.lock()) {
                return Some(found);
            }
            match deadline {
                Some(deadline) => {
                    tokio::select! {
                        _ = ticks.changed() => {}
                        _ = tokio::time::sleep_until(deadline) => return None,
                    }
                }
                None => {
                    let _ = ticks.changed().await;
                }
            }
        }
    }
}

/// How an invocation ended, for its REPORT line and telemetry.
#[derive(Debug, Clone, Copy)]
enum Ended<'a> {
    Success,
    /// The runtime reported an error of this type.
    FunctionError(&'a str),
    /// The runtime failed (ended, could not init): this type.
    Failure(&'a str),
    Timeout,
}

/// `errorType` of an error document.
fn error_type_of(body: &[u8]) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    Some(doc.get("errorType")?.as_str()?.to_string())
}

enum Ready {
    /// Initialised; the init's duration when the REPORT line is still to say it.
    Done(Option<Duration>),
    Failed(ErrorReport),
    Ended(String),
    Deadline,
    Retry,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The container's peak memory, as the cgroup counts it, in MB rounded up.
fn max_memory_used_mb() -> Option<u64> {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
    };
    let bytes = read("/sys/fs/cgroup/memory.peak")
        .or_else(|| read("/sys/fs/cgroup/memory/memory.max_usage_in_bytes"))?;
    Some(bytes.div_ceil(1024 * 1024).max(1))
}
