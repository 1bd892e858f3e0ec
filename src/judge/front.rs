//! A `request:` case is judged on the HTTP response its front door returns: the function's
//! outcome is turned into that response first, and when the front door answered on its own
//! (the function failed, answered something malformed, or took too long), a failing case says
//! why. Pure: no I/O.

use std::time::Duration;

use super::{Failure, Verdict};
use crate::outcome::{Body, Outcome};
use crate::suite::request::Front;

/// The outcome as the checks of a case sent through `front` read it: the HTTP response, as
/// an HTTP-style object. Outcomes no front door turns into a response (no answer at all, the
/// container gone) stay as they are, to be reported as the infrastructure problems they are.
pub fn response(
    front: &Front,
    outcome: &Outcome,
    took: Option<Duration>,
    timeout_s: u32,
) -> (Outcome, Option<String>) {
    if super::error::infrastructure(outcome).is_some() {
        return (outcome.clone(), None);
    }
    let http = match &front.answered {
        Some(answered) => answered.clone(),
        None => crate::gateway::respond(
            &front.route,
            &front.request,
            outcome,
            took,
            timeout_s,
            &front.call,
        ),
    };
    let own = http.own.clone().map(|why| {
        format!(
            "the {} answered {} on its own: {why}",
            front.route.api.describe(),
            http.status
        )
    });
    let seen = Outcome::Success {
        body: Body::Json(http.view()),
    };
    (seen, own)
}

/// The verdict, with why the front door answered on its own put first when the case failed.
pub fn explained(verdict: Verdict, own: Option<String>) -> Verdict {
    match (verdict, own) {
        (Verdict::Fail(mut failures), Some(why)) => {
            failures.insert(0, Failure::new("request", why, None));
            Verdict::Fail(failures)
        }
        (verdict, _) => verdict,
    }
}
