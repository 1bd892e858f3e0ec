//! The execution environment's generations: the init phase at start and its limit, the
//! extensions and then the runtime started, init ended when all asked for their next event,
//! and the reset that ends a generation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::output::diagnose;
use crate::{api, extensions, process};

impl Sandbox {
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
        self.init_phase();
    }

    /// A new deployment of the code as it now is: once the invocation under way (if any) is
    /// finished, the live generation is shut down as the service retires an execution
    /// environment (`SHUTDOWN` with reason `spindown`), `/tmp` is emptied, and a new
    /// generation's init phase starts; returns when that is over, with how long the agent's
    /// own part took (up to the new runtime's start, not its init).
    pub async fn redeploy(self: &Arc<Self>) -> Duration {
        let _gate = self.gate.clone().lock_owned().await;
        let began = Instant::now();
        let live = self.lock().runtime.as_ref().map(|r| r.generation);
        if let Some(generation) = live {
            self.reset(generation, "spindown").await;
        }
        // Processes a reset could not reach still hold nothing: their group was killed.
        empty_dir(std::path::Path::new("/tmp"));
        let generation = self.init_phase();
        let own = began.elapsed();
        let limit = tokio::time::Instant::now() + self.config.init_limit;
        self.wait_for(Some(limit), |s| {
            let running = matches!(
                s.init,
                Init::Running {
                    phase: Phase::Init,
                    ..
                }
            );
            (!running || !s.live(generation)).then_some(())
        })
        .await;
        own
    }

    /// Starts a generation's runtime in the init phase, and ends that phase after its limit;
    /// the generation.
    fn init_phase(self: &Arc<Self>) -> u64 {
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
        generation
    }

    /// Starts a runtime of a new generation, with its Runtime API listener; returns the
    /// generation.
    pub(super) fn start_runtime(self: &Arc<Self>, phase: Phase) -> u64 {
        let line = format!(
            "INIT_START Runtime Version: {}\tRuntime Version ARN: arn:aws:lambda:{}::runtime:lambda-ci",
            self.config.runtime_version, self.config.region
        );
        // Inside an invocation, its logs begin here.
        match phase {
            Phase::Invoke => self.output.opening(&line),
            Phase::Init => self.output.platform(&line),
        }
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
        let listener = self.runtime_listener();
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
            baseline: Vec::new(),
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
            if let Some(runtime) = state.runtime.as_mut() {
                runtime.baseline = crate::strays::members(runtime.pgid);
            }
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
            // Killed with the runtime's process group.
            state.frozen.clear();
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

    /// Ends the sandbox when the agent is asked to stop: extensions are told `spindown`.
    pub async fn stop(&self) {
        let generation = self.lock().runtime.as_ref().map(|r| r.generation);
        if let Some(generation) = generation {
            self.reset(generation, "spindown").await;
        }
    }
}

/// Removes everything in `dir`, leaving `dir`: a new execution environment's `/tmp` is empty.
fn empty_dir(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let removed = match entry.file_type() {
            Ok(kind) if kind.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
        if let Err(e) = removed {
            diagnose(&format!("cannot empty /tmp of {}: {e}", path.display()));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn emptying_a_directory_leaves_it_and_nothing_in_it() {
        let dir = std::env::temp_dir().join(format!("agent-empty-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/c"), "x").unwrap();
        std::fs::write(dir.join("d"), "x").unwrap();
        super::empty_dir(&dir);
        assert!(dir.is_dir());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir(&dir).unwrap();
    }
}
