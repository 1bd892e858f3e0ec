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
use serde_json::json;
use tokio::sync::watch;

use crate::config::Config;
use crate::extensions::{self, Extension};
use crate::output::{Output, diagnose};
use crate::{api, process};

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
}

/// What an invocation amounted to, for the caller.
#[derive(Debug)]
pub enum Answer {
    Response {
        body: Bytes,
        content_type: Option<String>,
    },
    FunctionError(ErrorReport),
    InitError(ErrorReport),
    Timeout,
    /// The runtime ended: how (`exit status 3`), empty when it gave no reason.
    Exit(String),
    TooLarge,
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
}

pub(crate) struct State {
    generation: u64,
    runtime: Option<Runtime>,
    init: Init,
    current: Option<Current>,
    /// The extensions registered with the live generation.
    pub(crate) extensions: Vec<Extension>,
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
            }),
            tick: watch::Sender::new(0),
            gate: Arc::new(tokio::sync::Mutex::new(())),
        })
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

    /// Whether the init phase is over (or never began): the sandbox can take an invocation
    /// without waiting for it.
    pub fn settled(&self) -> bool {
        !matches!(
            self.lock().init,
            Init::Running {
                phase: Phase::Init,
                ..
            }
        )
    }

    /// Starts the runtime as the container starts, and ends the init phase after its limit;
    /// nothing when a runtime was started already (by an invocation that came first).
    pub fn boot(self: &Arc<Self>) {
        if self.lock().generation > 0 {
            return;
        }
        let generation = self.start_runtime(Phase::Init);
        let this = self.clone();
        tokio::spawn(async move {
            let limit = tokio::time::Instant::now() + this.config.init_limit;
            let started = Instant::now();
            let settled = this
                .wait_for(Some(limit), |s| match &s.init {
                    Init::Running { .. } if s.live(generation) => s.ended().map(Err),
                    _ => Some(Ok(())),
                })
                .await;
            let took = ms(started.elapsed());
            match settled {
                None => {
                    this.output.platform(&format!(
                        "INIT_REPORT Init Duration: {took:.2} ms\tPhase: init\tStatus: timeout"
                    ));
                    this.reset(generation, "timeout").await;
                }
                Some(Err(_)) => {
                    this.output.platform(&format!(
                        "INIT_REPORT Init Duration: {took:.2} ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError"
                    ));
                    this.reset(generation, "failure").await;
                }
                Some(Ok(())) => {
                    if let Init::Failed { error } = &this.lock().init {
                        let kind = error.error_type.as_deref().unwrap_or("Runtime.Unknown");
                        this.output.platform(&format!(
                            "INIT_REPORT Init Duration: {took:.2} ms\tPhase: init\tStatus: error\tError Type: {kind}"
                        ));
                    }
                }
            }
        });
    }

    /// Starts a runtime of a new generation, with its Runtime API listener; returns the
    /// generation.
    fn start_runtime(self: &Arc<Self>, phase: Phase) -> u64 {
        self.output.platform(&format!(
            "INIT_START Runtime Version: {}\tRuntime Version ARN: arn:aws:lambda:{}::runtime:lambda-ci",
            self.config.runtime_version, self.config.region
        ));
        let telemetry = &self.output.telemetry;
        telemetry.begin_init();
        telemetry.platform(
            "platform.initStart",
            json!({
                "initializationType": "on-demand",
                "phase": phase.name(),
                "runtimeVersion": self.config.runtime_version,
                "runtimeVersionArn": format!("arn:aws:lambda:{}::runtime:lambda-ci", self.config.region),
                "functionName": self.config.name,
                "functionVersion": self.config.version,
            }),
        );
        let listener = api::listen(self.config.runtime_port);
        let mut state = self.lock();
        state.generation += 1;
        let generation = state.generation;
        let (server, listening) = match listener {
            Ok(listener) => {
                let task = tokio::spawn(api::serve(listener, self.clone(), generation));
                (task, Ok(()))
            }
            Err(e) => {
                let why = format!("cannot serve the Runtime API: {e}");
                (tokio::spawn(async {}), Err(why))
            }
        };
        if let Err(why) = &listening {
            diagnose(why);
        }
        state.runtime = Some(Runtime {
            generation,
            pgid: 0,
            extension_pgids: Vec::new(),
            extensions_ended: Vec::new(),
            ended: listening.err(),
            server: Some(server),
        });
        state.init = Init::Running {
            started: Instant::now(),
            phase,
            runtime_ready: false,
        };
        state.extensions.clear();
        let launching = state.ended().is_none();
        drop(state);
        self.changed();
        if launching {
            let this = self.clone();
            tokio::spawn(async move { this.launch(generation).await });
        }
        generation
    }

    /// Starts the external extensions, waits until each registered (or ended), then starts
    /// the runtime: extension init comes before runtime init, as in the service.
    async fn launch(self: &Arc<Self>, generation: u64) {
        let mut names = Vec::new();
        for path in extensions::external() {
            let started = match process::start_extension(&path, &self.config, &self.output) {
                Ok(started) => started,
                Err(why) => {
                    diagnose(&format!("extension {path} could not start: {why}"));
                    continue;
                }
            };
            {
                let mut state = self.lock();
                match state.runtime.as_mut() {
                    Some(r) if r.generation == generation => r.extension_pgids.push(started.pgid),
                    _ => {
                        process::signal(started.pgid, libc::SIGKILL);
                        return;
                    }
                }
            }
            let name = path.rsplit('/').next().unwrap_or(&path).to_string();
            let (this, ended, ending) = (self.clone(), started.ended, name.clone());
            tokio::spawn(async move {
                let _ = ended.await;
                if let Some(runtime) = this.lock().runtime.as_mut()
                    && runtime.generation == generation
                {
                    runtime.extensions_ended.push(ending);
                }
                this.changed();
            });
            names.push(name);
        }
        if !names.is_empty() {
            let deadline = tokio::time::Instant::now() + self.config.init_limit;
            self.wait_for(Some(deadline), |s| {
                let registered = |name: &String| s.extensions.iter().any(|e| &e.name == name);
                let all = names
                    .iter()
                    .all(|name| registered(name) || s.extension_ended(name));
                (all || !s.live(generation)).then_some(())
            })
            .await;
        }
        let started = process::start(&self.config, &self.output);
        let mut state = self.lock();
        let Some(runtime) = state
            .runtime
            .as_mut()
            .filter(|r| r.generation == generation)
        else {
            if let Ok(started) = started {
                process::signal(started.pgid, libc::SIGKILL);
            }
            return;
        };
        match started {
            Ok(started) => {
                runtime.pgid = started.pgid;
                let this = self.clone();
                tokio::spawn(async move {
                    let how = started.ended.await.unwrap_or_else(|e| e.to_string());
                    let mut state = this.lock();
                    if let Some(runtime) = state.runtime.as_mut()
                        && runtime.generation == generation
                    {
                        runtime.ended = Some(how);
                    }
                    drop(state);
                    this.changed();
                });
            }
            Err(why) => {
                diagnose(&why);
                runtime.ended = Some(why);
            }
        }
        drop(state);
        self.changed();
    }

    /// Ends init once the runtime and every extension have asked for their next event, and
    /// logs each extension as the service does.
    pub(crate) fn settle_init(&self, state: &mut State) {
        if let Init::Running {
            started,
            phase,
            runtime_ready: true,
        } = state.init
            && state
                .extensions
                .iter()
                .all(|e| e.idle || state.extension_ended(&e.name))
        {
            state.init = Init::Done {
                took: started.elapsed(),
                report: true,
            };
            for extension in &state.extensions {
                self.output.platform(&extensions::log_line(extension));
            }
            let telemetry = &self.output.telemetry;
            let phase = phase.name();
            telemetry.platform(
                "platform.initRuntimeDone",
                json!({"initializationType": "on-demand", "phase": phase, "status": "success"}),
            );
            telemetry.platform(
                "platform.initReport",
                json!({
                    "initializationType": "on-demand",
                    "phase": phase,
                    "status": "success",
                    "metrics": {"durationMs": ms(started.elapsed())},
                }),
            );
            telemetry.end_init();
        }
    }

    /// Whether `generation` is initialising: extensions may register only then.
    pub(crate) fn initialising(state: &State, generation: u64) -> bool {
        state.live(generation) && matches!(state.init, Init::Running { .. })
    }

    /// An extension failed to init: the init fails with its error.
    pub(crate) fn extension_init_error(state: &mut State, error: ErrorReport) {
        if matches!(state.init, Init::Running { .. }) {
            state.init = Init::Failed { error };
        }
    }

    /// Ends generation `generation`, if it is still the live one, as the service does: with
    /// no extension the runtime is killed; with extensions it gets SIGTERM and 300 ms, and
    /// each extension registered for it gets `SHUTDOWN` with `reason` and the rest of 2 s,
    /// before everything is killed. The generation's Runtime API ends with it; the next
    /// invocation initialises a new one.
    pub(crate) async fn reset(&self, generation: u64, reason: &str) {
        let (pgid, extension_pgids, graceful) = {
            let state = self.lock();
            match &state.runtime {
                Some(r) if r.generation == generation => (
                    r.pgid,
                    r.extension_pgids.clone(),
                    !state.extensions.is_empty(),
                ),
                _ => return,
            }
        };
        if graceful {
            self.shut_down(generation, pgid, reason).await;
        }
        for extension in extension_pgids {
            process::signal(extension, libc::SIGKILL);
        }
        process::signal(pgid, libc::SIGKILL);
        let deadline = tokio::time::Instant::now() + KILL_WAIT;
        self.wait_for(Some(deadline), |s| {
            (!s.live(generation) || s.ended().is_some()).then_some(())
        })
        .await;
        let server = {
            let mut state = self.lock();
            match state.runtime.as_mut() {
                Some(r) if r.generation == generation => r.server.take(),
                _ => return,
            }
        };
        // Its listener and every connection to it are gone once the task is, before the next
        // runtime may be started: that one's listener takes the same address.
        if let Some(server) = server {
            server.abort();
            let _ = server.await;
        }
        let mut state = self.lock();
        if state.live(generation) {
            state.init = Init::Needed;
            state.current = None;
            state.runtime = None;
            state.extensions.clear();
        }
        drop(state);
        self.changed();
    }

    /// The graceful part of a reset: SIGTERM to the runtime, `SHUTDOWN` to the extensions.
    async fn shut_down(&self, generation: u64, pgid: i32, reason: &str) {
        let budget = tokio::time::Instant::now() + SHUTDOWN_BUDGET;
        process::signal(pgid, libc::SIGTERM);
        let grace = tokio::time::Instant::now() + RUNTIME_GRACE;
        self.wait_for(Some(grace), |s| {
            (!s.live(generation) || s.ended().is_some()).then_some(())
        })
        .await;
        process::signal(pgid, libc::SIGKILL);
        let deadline_ms = crate::ids::epoch_ms() + SHUTDOWN_BUDGET.as_millis() as u64;
        let told: Vec<String> = {
            let mut state = self.lock();
            let mut told = Vec::new();
            for extension in state.extensions.iter_mut().filter(|e| e.shutdown) {
                let event = extensions::shutdown_event(reason, deadline_ms);
                extension.queue.push_back(event);
                extension.idle = false;
                told.push(extension.id.clone());
            }
            told
        };
        self.changed();
        // Done when each has asked for its next event again or ended, or the budget is spent.
        self.wait_for(Some(budget), |s| {
            let pending = s
                .extensions
                .iter()
                .any(|e| told.contains(&e.id) && !e.idle && !s.extension_ended(&e.name));
            (!pending || !s.live(generation)).then_some(())
        })
        .await;
    }

    /// One invocation, from the caller's request to what it amounted to; the request id with
    /// it. The sandbox stays busy after the answer until the runtime asks for the next event.
    pub async fn invoke(self: &Arc<Self>, request: Request) -> (String, Answer) {
        let gate = self.gate.clone().lock_owned().await;
        let id = crate::ids::request_id();
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        self.output.platform(&format!(
            "START RequestId: {id} Version: {}",
            self.config.version
        ));
        let trace_id = request.trace_id.unwrap_or_else(crate::ids::trace_id);
        self.output.telemetry.platform(
            "platform.start",
            json!({
                "requestId": id,
                "version": self.config.version,
                "tracing": {"type": "X-Amzn-Trace-Id", "value": trace_id},
            }),
        );
        let init = match self.ready(deadline).await {
            Ready::Done(init) => init,
            Ready::Failed(error) => {
                let generation = self.lock().generation;
                self.reset(generation, "failure").await;
                let kind = error.error_type.clone();
                let kind = kind.as_deref().unwrap_or("Runtime.Unknown");
                self.end(&id, started.elapsed(), None, Ended::Failure(kind));
                return (id, Answer::InitError(error));
            }
            Ready::Ended(how) => {
                let generation = self.lock().generation;
                self.reset(generation, "failure").await;
                let status = Ended::Failure("Runtime.ExitError");
                self.end(&id, started.elapsed(), None, status);
                return (id, Answer::Exit(how));
            }
            Ready::Deadline | Ready::Retry => {
                let generation = self.lock().generation;
                self.reset(generation, "timeout").await;
                self.end(&id, started.elapsed(), None, Ended::Timeout);
                return (id, Answer::Timeout);
            }
        };
        let event = Event {
            id: id.clone(),
            payload: request.payload,
            deadline_ms: crate::ids::epoch_ms() + self.config.timeout.as_millis() as u64,
            trace_id,
            client_context: request.client_context,
            cognito_identity: None,
        };
        let invoke =
            extensions::invoke_event(&id, event.deadline_ms, &self.config.arn(), &event.trace_id);
        let generation = {
            let mut state = self.lock();
            let generation = state.generation;
            for extension in state.extensions.iter_mut().filter(|e| e.invoke) {
                extension.queue.push_back(invoke.clone());
                extension.idle = false;
            }
            state.current = Some(Current {
                id: id.clone(),
                generation,
                event: Some(event),
                delivered: None,
                reply: None,
                replied_at: None,
                finished: false,
            });
            generation
        };
        self.changed();
        let handed = Instant::now();
        let got = self
            .wait_for(Some(deadline), |s| {
                if let Some(reply) = s.current.as_mut().and_then(|c| c.reply.take()) {
                    return Some(Ok(reply));
                }
                s.ended().map(Err)
            })
            .await;
        let ran = |s: &State| {
            let current = s.current.as_ref();
            let from = current.and_then(|c| c.delivered).unwrap_or(handed);
            let to = current
                .and_then(|c| c.replied_at)
                .unwrap_or_else(Instant::now);
            to.saturating_duration_since(from)
        };
        match got {
            Some(Ok(reply)) => {
                let (answer, error_type) = match reply {
                    Reply::Response { body, content_type } => {
                        (Answer::Response { body, content_type }, None)
                    }
                    Reply::Error(error) => {
                        let kind = error.error_type.clone();
                        let kind = kind.or_else(|| error_type_of(&error.body));
                        (Answer::FunctionError(error), Some(kind.unwrap_or_default()))
                    }
                    Reply::TooLarge => (
                        Answer::TooLarge,
                        Some("Function.ResponseSizeTooLarge".to_string()),
                    ),
                };
                let this = self.clone();
                let finishing = id.clone();
                tokio::spawn(async move {
                    let errored = error_type.as_deref();
                    this.finish(finishing, generation, init, deadline, errored)
                        .await;
                    drop(gate);
                });
                (id, answer)
            }
            Some(Err(how)) => {
                let duration = ran(&self.lock());
                self.reset(generation, "failure").await;
                self.end(&id, duration, init, Ended::Failure("Runtime.ExitError"));
                (id, Answer::Exit(how))
            }
            None => {
                let duration = ran(&self.lock());
                self.reset(generation, "timeout").await;
                let duration = duration.max(self.config.timeout);
                self.end(&id, duration, init, Ended::Timeout);
                (id, Answer::Timeout)
            }
        }
    }

    /// After the answer: waits for the runtime to ask for the next event, then logs END and
    /// REPORT. A runtime that ends or runs past the deadline meanwhile is reset.
    async fn finish(
        &self,
        id: String,
        generation: u64,
        init: Option<Duration>,
        deadline: tokio::time::Instant,
        error_type: Option<&str>,
    ) {
        let done = self
            .wait_for(Some(deadline), |s| {
                let current = s.current.as_ref()?;
                let done = |e: &Extension| e.idle || s.extension_ended(&e.name);
                if current.finished && s.extensions.iter().all(done) {
                    return Some(Ok(()));
                }
                s.ended().map(Err)
            })
            .await;
        let duration = {
            let state = self.lock();
            let current = state.current.as_ref();
            match current.and_then(|c| Some((c.delivered?, c.replied_at?))) {
                Some((from, to)) => to.saturating_duration_since(from),
                None => Duration::ZERO,
            }
        };
        match done {
            Some(Ok(())) => {
                self.lock().current = None;
                let ended = match error_type {
                    Some(kind) => Ended::FunctionError(kind),
                    None => Ended::Success,
                };
                self.end(&id, duration, init, ended);
            }
            Some(Err(_)) => {
                self.reset(generation, "failure").await;
                self.end(&id, duration, init, Ended::Failure("Runtime.ExitError"));
            }
            None => {
                self.reset(generation, "timeout").await;
                self.end(&id, self.config.timeout, init, Ended::Timeout);
            }
        }
        self.changed();
    }

    /// Waits until a runtime is initialised, starting one when none is.
    async fn ready(self: &Arc<Self>, deadline: tokio::time::Instant) -> Ready {
        loop {
            if matches!(self.lock().init, Init::Needed) {
                self.start_runtime(Phase::Invoke);
            }
            let found = self
                .wait_for(Some(deadline), |s| {
                    let ended = s.ended();
                    match &mut s.init {
                        Init::Done { took, report } => {
                            let init = std::mem::take(report).then_some(*took);
                            Some(Ready::Done(init))
                        }
                        Init::Failed { error } => Some(Ready::Failed(error.clone())),
                        Init::Needed => Some(Ready::Retry),
                        // The init phase's own watchdog settles a runtime that ends in it.
                        Init::Running {
                            phase: Phase::Invoke,
                            ..
                        } => ended.map(Ready::Ended),
                        Init::Running { .. } => None,
                    }
                })
                .await;
            match found {
                Some(Ready::Retry) => continue,
                Some(ready) => return ready,
                None => return Ready::Deadline,
            }
        }
    }

    /// Logs END and REPORT for an invocation, and tells telemetry.
    fn end(&self, id: &str, duration: Duration, init: Option<Duration>, ended: Ended<'_>) {
        self.output.platform(&format!("END RequestId: {id}"));
        let duration_ms = ms(duration);
        let mut line = format!(
            "REPORT RequestId: {id}\tDuration: {duration_ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            duration_ms.ceil().max(1.0) as u64,
            self.config.memory_mb,
            max_memory_used_mb().unwrap_or(self.config.memory_mb),
        );
        if let Some(init) = init {
            line.push_str(&format!("Init Duration: {:.2} ms\t", ms(init)));
        }
        // The service ends a REPORT that has a status with it, with no tab after.
        match ended {
            Ended::Success | Ended::FunctionError(_) => {}
            Ended::Failure(kind) => line.push_str(&format!("Status: error\tError Type: {kind}")),
            Ended::Timeout => line.push_str("Status: timeout"),
        }
        self.output.platform(&line);
        let (status, error_type) = match ended {
            Ended::Success => ("success", None),
            Ended::FunctionError(kind) => ("error", Some(kind)),
            Ended::Failure(kind) => ("failure", Some(kind)),
            Ended::Timeout => ("timeout", None),
        };
        let mut done = json!({
            "requestId": id,
            "status": status,
            "metrics": {"durationMs": duration_ms},
        });
        let mut metrics = json!({
            "durationMs": duration_ms,
            "billedDurationMs": duration_ms.ceil().max(1.0) as u64,
            "memorySizeMB": self.config.memory_mb,
            "maxMemoryUsedMB": max_memory_used_mb().unwrap_or(self.config.memory_mb),
        });
        if let Some(init) = init {
            metrics["initDurationMs"] = json!(ms(init));
        }
        let mut report = json!({"requestId": id, "status": status, "metrics": metrics});
        if let Some(kind) = error_type.filter(|k| !k.is_empty()) {
            done["errorType"] = json!(kind);
            report["errorType"] = json!(kind);
        }
        let telemetry = &self.output.telemetry;
        telemetry.platform("platform.runtimeDone", done);
        telemetry.platform("platform.report", report);
    }

    // --- What the Runtime API asks of the sandbox -------------------------------------

    /// The runtime of `generation` asks for its next event: this ends its init, or the
    /// invocation it replied to. `None` when the generation is no longer the live one.
    pub async fn next(&self, generation: u64) -> Option<Event> {
        {
            let mut state = self.lock();
            if !state.live(generation) {
                return None;
            }
            if let Init::Running { runtime_ready, .. } = &mut state.init {
                *runtime_ready = true;
            }
            self.settle_init(&mut state);
            if let Some(current) = state.current.as_mut()
                && current.generation == generation
                && current.replied_at.is_some()
            {
                current.finished = true;
            }
        }
        self.changed();
        self.wait_for(None, |s| {
            if !s.live(generation) {
                return Some(None);
            }
            let current = s.current.as_mut()?;
            if current.generation != generation {
                return None;
            }
            let event = current.event.take()?;
            current.delivered = Some(Instant::now());
            Some(Some(event))
        })
        .await
        .flatten()
    }

    /// Whether `id` is the invocation the runtime of `generation` may reply to now.
    pub fn may_reply(&self, generation: u64, id: &str) -> Result<(), Refusal> {
        let state = self.lock();
        match state.current.as_ref() {
            Some(c) if c.generation == generation && c.id == id && c.delivered.is_some() => {
                if c.replied_at.is_some() {
                    Err(Refusal::InvalidStateTransition)
                } else {
                    Ok(())
                }
            }
            _ => Err(Refusal::InvalidRequestId),
        }
    }

    /// The runtime's reply to invocation `id`.
    pub fn reply(&self, generation: u64, id: &str, reply: Reply) -> Result<(), Refusal> {
        self.may_reply(generation, id)?;
        if let Some(current) = self.lock().current.as_mut() {
            current.reply = Some(reply);
            current.replied_at = Some(Instant::now());
        }
        self.changed();
        Ok(())
    }

    /// The runtime could not initialise: the error is served to the invocation that waits for
    /// the init, or to the next one.
    pub fn init_error(&self, generation: u64, error: ErrorReport) -> Result<(), Refusal> {
        let mut state = self.lock();
        if !state.live(generation) || !matches!(state.init, Init::Running { .. }) {
            return Err(Refusal::InvalidStateTransition);
        }
        state.init = Init::Failed { error };
        drop(state);
        self.changed();
        Ok(())
    }

    /// Ends the sandbox when the agent is asked to stop: extensions are told `spindown`.
    pub async fn stop(&self) {
        let generation = self.lock().runtime.as_ref().map(|r| r.generation);
        if let Some(generation) = generation {
            self.reset(generation, "spindown").await;
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
