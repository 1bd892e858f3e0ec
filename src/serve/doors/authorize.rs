//! A route's Lambda authorizer in `serve`: its function (served beside the others, by its
//! name) is called with the authorizer's event before the route's function, its answers
//! cached by identity for the TTL, and what it allows decides the call.

use std::time::Instant;

use serde_json::Value;
use tokio::sync::oneshot;

use super::Doors;
use crate::gateway::{self, HttpResponse, Lambda, Route};
use crate::outcome::Outcome;
use crate::serve::function::{Call, Function};
use crate::suite::InvokeContext;

impl Doors {
    /// What `route`'s Lambda authorizer (when it has one) makes of `request`, whose event
    /// for `function` is `event`: the event with what it passes on, or its refusal.
    pub(super) async fn lambda_authorize(
        &self,
        function: &Function,
        route: &Route,
        request: &gateway::Request,
        event: Value,
    ) -> Result<Value, HttpResponse> {
        let Some(lambda) = route.authorizer.as_ref().and_then(|a| a.lambda()) else {
            return Ok(event);
        };
        let site = function.suite().function.site(route);
        let invoke = |sent| self.call_authorizer(lambda, route, sent);
        let at = (route, request, &site);
        gateway::run_authorizer(lambda, at, event, &self.cache, invoke).await?
    }

    /// Calls the authorizer's function with `event`: its outcome, or the API's 500 when it
    /// is not served or could not answer.
    async fn call_authorizer(
        &self,
        lambda: &Lambda,
        route: &Route,
        event: Value,
    ) -> Result<Outcome, HttpResponse> {
        let failed = |why: String| {
            let why = format!("its Lambda authorizer `{}` {why}", lambda.function);
            gateway::own(route.api, gateway::Own::Failed, why)
        };
        let functions = self.api.current();
        let Some(authorizer) = functions.iter().find(|f| f.name == lambda.function) else {
            return Err(failed("is not served".into()));
        };
        let (reply, answered) = oneshot::channel();
        let call = Call {
            payload: event.to_string().into_bytes(),
            context: InvokeContext::default(),
            tap: Some(self.printer.tap(&authorizer.name)),
            pieces: None,
            reply,
        };
        if authorizer.call(call).is_err() {
            return Err(failed("has too many calls waiting".into()));
        }
        let started = Instant::now();
        let outcome = match answered.await {
            Ok(Ok(invocation)) => invocation.outcome,
            Ok(Err(why)) => return Err(failed(format!("could not be called: {why}"))),
            Err(_) => return Err(failed("could not be called: the server is stopping".into())),
        };
        let took = started.elapsed().as_secs_f64() * 1000.0;
        let said = match &outcome {
            Outcome::Success { .. } => "answered".to_string(),
            other => format!(
                "failed: {}",
                crate::report::visible(&gateway::failed(other))
            ),
        };
        let line = format!("authorizer for {} {said} in {took:.1} ms", route.label());
        self.printer.of(&authorizer.name, &line);
        Ok(outcome)
    }
}
