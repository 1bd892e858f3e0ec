//! Runs a plan: checks images, boots containers, invokes cases one at a time, judges them, and
//! reports everything as events through a callback. Knows nothing of reporters.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::docker::{
    self, BootError, Container, ContainerSpec, Engine, LogLine, LogStream, PullPolicy, Registry,
    State,
};
use crate::event::{CaseResult, Event, EventKind, Stats};
use crate::invoke::{Outcome, Rie};
use crate::judge::{self, Verdict};
use crate::plan::{Plan, Unit, case_ref, suite_ref};
use crate::suite::Suite;

/// How long a container may take from start until RIE answers.
const READY_LIMIT: Duration = Duration::from_secs(30);

/// What a run needs besides the plan.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub pull: PullPolicy,
    /// Leave containers running after the run, for debugging.
    pub keep: bool,
    pub run_id: String,
}

/// Executes a plan against an engine.
pub struct Runner {
    pub engine: Engine,
    pub registry: Registry,
    pub suites: Arc<Vec<Suite>>,
    pub plan: Plan,
    pub config: RunConfig,
}

/// A booted container with its RIE client.
struct Live {
    container: Container,
    rie: Rie,
    /// The log mark where the next invocation's lines begin.
    claimed: usize,
}

impl Runner {
    /// Runs every unit of the plan and returns the counts. Failing cases are data, not errors.
    pub async fn execute(&self, mut emit: impl FnMut(Event)) -> Stats {
        let started = Instant::now();
        let mut emit = |kind: EventKind| {
            emit(Event {
                at: SystemTime::now(),
                elapsed: started.elapsed(),
                kind,
            })
        };
        let suites = &self.suites;
        emit(EventKind::RunStarted {
            run_id: self.config.run_id.clone(),
            suites: self
                .plan
                .units
                .iter()
                .map(|u| {
                    let cases = u
                        .cases
                        .iter()
                        .map(|c| case_ref(suites, u.suite, *c))
                        .collect();
                    (suite_ref(suites, u.suite), cases)
                })
                .collect(),
        });
        let mut stats = Stats::default();
        let mut images: HashMap<String, Result<(), String>> = HashMap::new();
        for image in self.plan.images(suites) {
            emit(EventKind::ImageChecking {
                image: image.to_string(),
            });
            let t = Instant::now();
            let mut pulled = false;
            let result = docker::ensure_image(&self.engine, image, self.config.pull, |p| {
                pulled = true;
                emit(EventKind::ImagePulling(p));
            })
            .await
            .map_err(|e| error_chain(&e));
            if result.is_ok() {
                emit(EventKind::ImageReady {
                    image: image.to_string(),
                    pulled,
                    took: t.elapsed(),
                });
            }
            images.insert(image.to_string(), result);
        }
        for (seq, unit) in self.plan.units.iter().enumerate() {
            let image = &suites[unit.suite].function.image;
            let image_problem = images.get(image).and_then(|r| r.as_ref().err()).cloned();
            self.run_unit(seq, unit, image_problem, &mut stats, &mut emit)
                .await;
        }
        stats.duration = started.elapsed();
        emit(EventKind::RunFinished { stats });
        stats
    }

    async fn run_unit(
        &self,
        seq: usize,
        unit: &Unit,
        image_problem: Option<String>,
        stats: &mut Stats,
        emit: &mut impl FnMut(EventKind),
    ) {
        let suite = &self.suites[unit.suite];
        let sref = suite_ref(&self.suites, unit.suite);
        let spec =
            ContainerSpec::for_function(&suite.function, &suite.file, &self.config.run_id, seq);
        let mut live: Option<Live> = None;
        let mut boots = 0;
        // Once a container cannot be booted, the remaining cases end with the same error; the
        // first of them carries what the container wrote.
        let mut boot_problem = image_problem;
        let mut boot_logs = Vec::new();
        for &case_index in &unit.cases {
            let case = &suite.cases[case_index];
            let cref = case_ref(&self.suites, unit.suite, case_index);
            emit(EventKind::CaseStarted { case: cref.clone() });
            if live.is_none() && boot_problem.is_none() {
                emit(EventKind::ContainerStarting {
                    suite: sref.clone(),
                });
                // A replacement gets a name of its own, in case the old one is not gone yet.
                let mut spec = spec.clone();
                if boots > 0 {
                    spec.name = format!("{}-{boots}", spec.name);
                }
                boots += 1;
                match self.boot(&spec, suite).await {
                    Ok((l, took)) => {
                        // Fault injection for the cleanup tests: a panic with a live container.
                        #[cfg(debug_assertions)]
                        if std::env::var_os("LAMBDA_CI_PANIC_AFTER_BOOT").is_some() {
                            panic!("LAMBDA_CI_PANIC_AFTER_BOOT is set");
                        }
                        emit(EventKind::ContainerReady {
                            suite: sref.clone(),
                            name: l.container.name.clone(),
                            port: l.container.port,
                            took,
                        });
                        live = Some(l);
                    }
                    Err((message, logs)) => {
                        emit(EventKind::ContainerFailed {
                            suite: sref.clone(),
                            message: message.clone(),
                            logs: logs.clone(),
                        });
                        boot_problem = Some(message);
                        boot_logs = logs;
                    }
                }
            }
            let result = match (&mut live, &boot_problem) {
                (Some(l), _) => invoke_case(l, &case.event, &case.expect).await,
                (None, problem) => CaseResult {
                    verdict: Verdict::Error(problem.clone().unwrap_or_default()),
                    duration: Duration::ZERO,
                    logs: std::mem::take(&mut boot_logs),
                    outcome: None,
                },
            };
            // After a transport failure an invocation may still be in flight, and RIE crashes on
            // a second one: replace the container before the next case.
            if matches!(
                result.outcome,
                Some(Outcome::Transport { .. } | Outcome::ContainerExited { .. })
            ) && let Some(l) = live.take()
            {
                l.container.remove().await;
            }
            stats.record(&result.verdict);
            emit(EventKind::CaseFinished {
                case: cref,
                result: Box::new(result),
            });
        }
        if let Some(l) = live {
            if self.config.keep {
                let (name, port) = (l.container.name.clone(), l.container.port);
                l.container.keep();
                emit(EventKind::ContainerKept {
                    suite: sref,
                    name,
                    port,
                });
            } else {
                l.container.remove().await;
            }
        }
    }

    /// Boots the suite's container and waits until RIE answers.
    async fn boot(
        &self,
        spec: &ContainerSpec,
        suite: &Suite,
    ) -> Result<(Live, Duration), (String, Vec<LogLine>)> {
        let started = Instant::now();
        let booted = Container::boot(&self.engine, &self.registry, spec).await;
        let mut container = booted.map_err(boot_failure)?;
        let rie = Rie::new(
            container.port,
            Duration::from_secs(suite.function.timeout.into()),
        );
        loop {
            if rie.probe().await {
                return Ok((
                    Live {
                        container,
                        rie,
                        claimed: 0,
                    },
                    started.elapsed(),
                ));
            }
            container = match container.fail_at_start().await {
                Ok(exited) => return Err(boot_failure(exited)),
                Err(running) => running,
            };
            if started.elapsed() > READY_LIMIT {
                let logs = container.logs.since(0);
                container.remove().await;
                return Err((
                    format!(
                        "RIE in the container did not answer within {} s",
                        READY_LIMIT.as_secs()
                    ),
                    logs,
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A boot error as the message and output the cases report.
fn boot_failure(e: BootError) -> (String, Vec<LogLine>) {
    let message = error_chain(&e);
    match e {
        BootError::Exited { logs, .. } => (message, logs),
        _ => (message, vec![]),
    }
}

/// Invokes one case on a live container and judges it.
async fn invoke_case(
    live: &mut Live,
    event: &serde_json::Value,
    expect: &crate::suite::Expectation,
) -> CaseResult {
    let logs = live.container.logs.clone();
    let started = Instant::now();
    let answer = live.rie.invoke(event).await;
    let duration = started.elapsed();
    let outcome = match &answer {
        Ok(a) => Outcome::classify(a.status, &a.body),
        Err(message) => transport_failure(&live.container, message).await,
    };
    let completed = matches!(&answer, Ok(a) if a.status == 200);
    let (lines, next) = logs.claim_invocation(live.claimed, completed).await;
    live.claimed = next;
    let lines = lines.into_iter().filter(|l| !is_rie_info(l)).collect();
    CaseResult {
        verdict: judge::judge(expect, &outcome),
        duration,
        logs: lines,
        outcome: Some(outcome),
    }
}

/// What a lost connection means: the engine may take a moment to record that the container
/// stopped, so its state is watched briefly before calling it a transport failure.
async fn transport_failure(container: &Container, message: &str) -> Outcome {
    for _ in 0..10 {
        match container.state().await {
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
                    message: format!("{message}; the container is gone"),
                };
            }
            State::Running => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    Outcome::Transport {
        message: message.to_string(),
    }
}

/// RIE's own informational lines (`[INFO] (rapid) ...` on stderr) say nothing about the case.
fn is_rie_info(line: &LogLine) -> bool {
    line.stream == LogStream::Stderr && line.text.contains("[INFO] (rapid)")
}

/// An error and its causes on one line: `a: b: c`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}
