//! A case whose route has a Lambda authorizer: the authorizer's function is invoked first, on
//! a slot of its own beside the pool's (booted when first needed, shared by the pool's slots),
//! its answers cached by identity for the authorizer's TTL; what it allows decides whether
//! the case's function is invoked, and with what `requestContext.authorizer`.

use tokio::sync::Mutex;

use super::slot::{NoWorker, Request, Slot, Unserved};
use super::{Emitter, Runner};
use crate::gateway::{self, HttpResponse};
use crate::lines::LogLine;
use crate::plan::SuiteId;
use crate::suite::{Case, Isolation, Suite};

/// Where the authorizers' slots are numbered from, apart from the pool's own.
const SLOTS_FROM: usize = 1 << 20;

/// The suites of a function's authorizers: each function as a suite of no cases, so that it
/// is prepared and booted as any function is, under a name of its own (`api.yaml#auth`).
pub(crate) fn suites_of(suite: &Suite) -> Vec<Suite> {
    suite
        .function
        .authorizers
        .iter()
        .map(|function| Suite {
            file: format!("{}#{}", suite.file.display(), function.name).into(),
            function: function.clone(),
            concurrency: 1,
            isolation: Isolation::Warm,
            runtime_api: suite.runtime_api,
            cases: Vec::new(),
            // Declared in the suite's file: a change there may change it.
            inputs: vec![std::path::absolute(&suite.file).unwrap_or_else(|_| suite.file.clone())],
        })
        .collect()
}

/// One authorizer function's slot, and whether its image was made ready.
struct Held<'a> {
    slot: Slot<'a>,
    ready: Option<Result<(), String>>,
}

/// The authorizers of one pool.
pub(super) struct Authorizers<'a> {
    suites: &'a [Suite],
    held: Vec<Mutex<Held<'a>>>,
    cache: gateway::Cache,
}

/// What the authorizer made of a case's request.
pub(super) enum Authorized {
    /// The event to send the function, with what the authorizer passes on.
    Allowed(Vec<u8>),
    /// The front door's own answer: the function is not invoked.
    Refused(HttpResponse),
    /// The authorizer's function could not be had: the case ends with this error.
    Unready { message: String, logs: Vec<LogLine> },
    /// The run stopped first.
    Stopped,
}

impl<'a> Authorizers<'a> {
    pub(super) fn new(runner: &Runner, suite: SuiteId, suites: &'a [Suite]) -> Authorizers<'a> {
        let held = suites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Mutex::new(Held {
                    slot: Slot::new(runner, (suite, s), SLOTS_FROM + i),
                    ready: None,
                })
            })
            .collect();
        Authorizers {
            suites,
            held,
            cache: gateway::Cache::default(),
        }
    }

    /// Ends the authorizers' slots, as the pool's end.
    pub(super) fn retire(self, runner: &Runner, keep: bool, out: &Emitter) {
        for held in self.held {
            held.into_inner().slot.retire(runner, keep, out);
        }
    }
}

impl Runner {
    /// What `case`'s Lambda authorizer makes of its request; `None` when it has none.
    pub(super) async fn authorize(
        &self,
        suite: &Suite,
        authorizers: &Authorizers<'_>,
        case: &Case,
        out: &Emitter,
    ) -> Option<Authorized> {
        let front = case.front.as_ref()?;
        if front.route.signed() && !front.injected {
            return Some(self.signed(suite, front));
        }
        let lambda = front.lambda_authorizer()?;
        let index = authorizers
            .suites
            .iter()
            .position(|s| s.function.name == lambda.function)?;
        let site = suite.function.site(&front.route);
        let invoke = async |sent: serde_json::Value| {
            let mut held = authorizers.held[index].lock().await;
            let suite = &authorizers.suites[index];
            self.invoke_authorizer(suite, &mut held, &sent, out).await
        };
        let at = (&front.route, &front.request, &site);
        let ran =
            gateway::run_authorizer(lambda, at, case.event.clone(), &authorizers.cache, invoke);
        Some(match ran.await {
            Ok(Ok(event)) => Authorized::Allowed(event.to_string().into_bytes()),
            Ok(Err(refusal)) => Authorized::Refused(refusal),
            Err(end) => end,
        })
    }

    /// A request to an `AWS_IAM` function URL, signed with the credentials lambda-ci runs
    /// with (unless the case signs it itself), and checked as the URL checks it.
    fn signed(&self, suite: &Suite, front: &crate::suite::request::Front) -> Authorized {
        let keys = gateway::Keys::from_pairs(self.caller.pairs());
        let mut request = front.request.clone();
        let site = suite.function.site(&front.route);
        if let Some(keys) = &keys
            && request.header("authorization").is_none()
        {
            let host = site.domain(front.route.api);
            if let Err(why) = gateway::sign_v4(keys, &mut request, &host, &site.region) {
                let why = format!("the request could not be signed: {why}");
                return Authorized::Refused(gateway::own(
                    front.route.api,
                    gateway::Own::Failed,
                    why,
                ));
            }
        }
        match gateway::verify_v4(keys.as_ref(), &request, std::time::SystemTime::now()) {
            Ok(iam) => {
                let matched = gateway::Matched {
                    route: &front.route,
                    params: Default::default(),
                };
                let event = gateway::build(&matched, &request, &site, &front.call);
                let event = gateway::with_authorizer(event, iam);
                Authorized::Allowed(event.to_string().into_bytes())
            }
            Err(refusal) => Authorized::Refused(refusal),
        }
    }

    /// Invokes an authorizer's function with `event`: its outcome, or how the case ends when
    /// the function could not be had.
    async fn invoke_authorizer(
        &self,
        suite: &Suite,
        held: &mut Held<'_>,
        event: &serde_json::Value,
        out: &Emitter,
    ) -> Result<crate::outcome::Outcome, Authorized> {
        let name = &suite.function.name;
        let unready = |why: String, logs: Vec<LogLine>| Authorized::Unready {
            message: format!("the route's Lambda authorizer `{name}` could not be started: {why}"),
            logs,
        };
        if held.ready.is_none() {
            let say = |kind| out.emit(kind);
            let ready = self.backend.prepare(suite, &say).await;
            held.ready = Some(ready.map_err(|problem| problem.brief));
        }
        if let Some(Err(why)) = &held.ready {
            return Err(unready(why.clone(), Vec::new()));
        }
        let payload = event.to_string();
        let request = Request {
            payload: payload.as_bytes(),
            context: &Default::default(),
            rules: &[],
            taps: Default::default(),
            cold: false,
        };
        match held.slot.invoke(self, out, request).await {
            Ok(invocation) => Ok(invocation.outcome),
            Err(Unserved::NoWorker(NoWorker::Failed { message, logs })) => {
                Err(unready(message, logs))
            }
            Err(Unserved::NoWorker(NoWorker::Stopped) | Unserved::Cut) => Err(Authorized::Stopped),
        }
    }
}
