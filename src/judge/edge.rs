//! Lambda@Edge's quota on generated responses: CloudFront refuses a response larger than its
//! trigger allows (40 KB for viewer triggers, 1 MB for origin triggers, headers and body), so a
//! case whose response is larger fails here. Pure: no I/O.

use super::{Failure, Verdict};
use crate::outcome::Outcome;
use crate::suite::edge::EdgeTrigger;

/// The verdict, failed if a successful response is larger than `trigger` allows.
pub fn response_limit(trigger: EdgeTrigger, outcome: &Outcome, verdict: Verdict) -> Verdict {
    let Outcome::Success { body } = outcome else {
        return verdict;
    };
    let size = body.to_string().len();
    let max = trigger.max_response_bytes();
    if size <= max {
        return verdict;
    }
    let failure = Failure::new(
        "edge",
        format!(
            "the response is {size} bytes; CloudFront accepts at most {} KB from a {} function (Lambda@Edge quota on generated responses)",
            max / 1024,
            trigger.name()
        ),
        None,
    );
    match verdict {
        Verdict::Pass => Verdict::Fail(vec![failure]),
        Verdict::Fail(mut failures) => {
            failures.push(failure);
            Verdict::Fail(failures)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Body;

    fn success(bytes: usize) -> Outcome {
        Outcome::Success {
            body: Body::Text("x".repeat(bytes)),
        }
    }

    #[test]
    fn viewer_responses_over_40_kb_fail_and_origin_ones_may_reach_1_mb() {
        let viewer = EdgeTrigger::ViewerRequest;
        assert_eq!(
            response_limit(viewer, &success(40 * 1024), Verdict::Pass),
            Verdict::Pass
        );
        let Verdict::Fail(f) = response_limit(viewer, &success(40 * 1024 + 1), Verdict::Pass)
        else {
            panic!("expected a failure");
        };
        let f = &f[0];
        assert!(
            f.message
                .starts_with("the response is 40961 bytes; CloudFront accepts at most 40 KB from a viewer-request function"),
            "{}",
            f.message
        );
        let origin = EdgeTrigger::OriginResponse;
        assert_eq!(
            response_limit(origin, &success(500 * 1024), Verdict::Pass),
            Verdict::Pass
        );
        // A case that already failed keeps its own reason.
        let failed = Verdict::Error(crate::judge::Unjudged::new(
            crate::judge::ErrorKind::Transport,
            "boom",
        ));
        assert_eq!(
            response_limit(viewer, &success(50_000), failed.clone()),
            failed
        );
    }
}
