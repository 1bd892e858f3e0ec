//! One invocation, from the caller's request to the REPORT line: the runtime initialised if it
//! must be, the event handed over, the answer taken, and the invocation finished when the
//! runtime and extensions ask for more.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::extensions::{self, Extension};

impl Sandbox {
    /// One invocation, from the caller's request to what it amounted to; the request id with
    /// it. The sandbox stays busy after the answer until the runtime asks for the next event.
    pub async fn invoke(self: &Arc<Self>, request: Request) -> (String, Answer) {
        let gate = self.gate.clone().lock_owned().await;
        let id = crate::ids::request_id();
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        // A runtime reset by a timeout or a crash is started again inside this invocation,
        // and its init comes first, as the service logs it: INIT_START, the init's output,
        // then START.
        let early = if matches!(self.lock().init, Init::Needed) {
            self.start_runtime(Phase::Invoke);
            Some(self.ready(deadline).await)
        } else {
            None
        };
        self.output.opening(&format!(
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
        let ready = match early {
            Some(ready) => ready,
            None => self.ready(deadline).await,
        };
        let init = match ready {
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
            // As Lambda thaws the execution environment for an invocation.
            let thawed = std::mem::take(&mut state.frozen);
            if !thawed.is_empty() {
                self.output.platform(&crate::strays::thawed_line(&thawed));
                crate::strays::signal(&thawed, libc::SIGCONT);
            }
            state.current = Some(Current {
                id: id.clone(),
                generation,
                event: Some(event),
                delivered: None,
                reply: None,
                replied_at: None,
                finished: false,
                thawed,
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
                // The error, for the REPORT and telemetry.
                let error_type = match &reply {
                    Reply::Response { .. } | Reply::Stream { .. } => None,
                    Reply::Error(error) => Some(
                        error
                            .error_type
                            .clone()
                            .or_else(|| error_type_of(&error.body))
                            .unwrap_or_default(),
                    ),
                    Reply::TooLarge => Some("Function.ResponseSizeTooLarge".to_string()),
                };
                let answer = Answer::Replied(reply);
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
                self.freeze_strays();
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

    /// After an invocation, as Lambda freezes the execution environment: stops the processes of
    /// the runtime's group that were not there once init was over, naming those this
    /// invocation started, and ends the invocation.
    fn freeze_strays(&self) {
        let mut state = self.lock();
        let thawed = state.current.take().map(|c| c.thawed).unwrap_or_default();
        let Some(runtime) = state.runtime.as_ref() else {
            return;
        };
        let left: Vec<i32> = crate::strays::members(runtime.pgid)
            .into_iter()
            .filter(|pid| *pid != runtime.pgid && !runtime.baseline.contains(pid))
            .collect();
        if left.is_empty() {
            return;
        }
        crate::strays::signal(&left, libc::SIGSTOP);
        // Named: those this invocation started itself, not their children nor earlier ones.
        let new: Vec<i32> = left
            .iter()
            .copied()
            .filter(|p| !thawed.contains(p))
            .filter(|p| crate::strays::parent(*p).is_none_or(|parent| !left.contains(&parent)))
            .collect();
        if !new.is_empty() {
            self.output.platform(&crate::strays::frozen_line(&new));
        }
        state.frozen = left;
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
        for note in self.output.telemetry.take_notes() {
            self.output.platform(&note);
        }
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
}
