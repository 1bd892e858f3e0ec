//! A `request:` case is judged on the HTTP response its front door returns: the function's
//! outcome is turned into that response first, and when the front door answered on its own
//! (the function failed, answered something malformed, took too long, or an authorizer
//! refused), a failing case says why — and a case that does not check the status fails on such
//! an error, as an `event:` case fails on the function's. Pure: no I/O.

use std::time::Duration;

use super::{Failure, Verdict};
use crate::outcome::{Body, Outcome};
use crate::suite::check::{CheckKind, Expectation};
use crate::suite::request::Front;

/// Why the front door answered on its own, with the status it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Own {
    pub status: u16,
    pub words: String,
}

/// The outcome as the checks of a case sent through `front` read it: the HTTP response, as
/// an HTTP-style object. Outcomes no front door turns into a response (no answer at all, the
/// container gone) stay as they are, to be reported as the infrastructure problems they are.
/// `answered` is the front door's own answer when it gave one (the function was not
/// invoked); `streamed` when lambda-ci's agent read the response as a stream.
pub fn response(
    front: &Front,
    answered: Option<&crate::gateway::HttpResponse>,
    outcome: &Outcome,
    took: Option<Duration>,
    timeout_s: u32,
    streamed: bool,
) -> (Outcome, Option<Own>) {
    if super::error::infrastructure(outcome).is_some() {
        return (outcome.clone(), None);
    }
    let http = match answered {
        Some(answered) => answered.clone(),
        None => crate::gateway::respond(
            &front.route,
            &front.request,
            outcome,
            took,
            timeout_s,
            &front.call,
            streamed,
        ),
    };
    let own = http.own.clone().map(|why| Own {
        status: http.status,
        words: format!(
            "the {} answered {} on its own: {why}",
            front.route.api.describe(),
            http.status
        ),
    });
    let seen = Outcome::Success {
        body: Body::Json(http.view()),
    };
    (seen, own)
}

/// The verdict, with why the front door answered on its own put first when the case failed;
/// a case whose front door answered an error of its own fails unless it checks the status.
pub fn explained(verdict: Verdict, own: Option<Own>, expect: &Expectation) -> Verdict {
    let checks_status = expect
        .checks
        .iter()
        .any(|c| matches!(c.kind, CheckKind::Status(_)));
    match (verdict, own) {
        (Verdict::Fail(mut failures), Some(own)) => {
            failures.insert(0, Failure::new("request", own.words, None));
            Verdict::Fail(failures)
        }
        (Verdict::Pass, Some(own)) if own.status >= 400 && !checks_status => {
            let words = format!(
                "{}; expect `status: {}` if that is what this case tests",
                own.words, own.status
            );
            Verdict::Fail(vec![Failure::new("request", words, expect.pos)])
        }
        (verdict, _) => verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::check::Check;
    use crate::suite::node::Pos;

    fn expecting(kinds: Vec<CheckKind>) -> Expectation {
        Expectation {
            checks: kinds
                .into_iter()
                .map(|kind| Check {
                    kind,
                    pos: Pos::default(),
                })
                .collect(),
            ignore: Vec::new(),
            pos: None,
        }
    }

    #[test]
    fn a_case_that_does_not_check_the_status_fails_on_the_front_doors_own_error() {
        let own = |status| Own {
            status,
            words: format!("the REST API answered {status} on its own: the function failed"),
        };
        let unchecked = expecting(Vec::new());
        let Verdict::Fail(f) = explained(Verdict::Pass, Some(own(502)), &unchecked) else {
            panic!("a 502 of its own passed");
        };
        assert!(
            f[0].message
                .ends_with("expect `status: 502` if that is what this case tests")
        );
        // Checking the status is saying it is expected; a preflight's 204 is no error.
        let checked = expecting(vec![CheckKind::Status(502)]);
        assert_eq!(
            explained(Verdict::Pass, Some(own(502)), &checked),
            Verdict::Pass
        );
        assert_eq!(
            explained(Verdict::Pass, Some(own(204)), &unchecked),
            Verdict::Pass
        );
        // A failing case says first why the front door answered itself.
        let failed = Verdict::Fail(vec![Failure::new("status", "expected 200".into(), None)]);
        let Verdict::Fail(f) = explained(failed, Some(own(502)), &checked) else {
            panic!("not failed");
        };
        assert_eq!(f.len(), 2);
        assert!(f[0].message.starts_with("the REST API answered 502"));
    }
}
