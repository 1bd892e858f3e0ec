//! Whether the invocation succeeded or failed as the case expects: infrastructure problems,
//! unexpected failures, and `error` / `error_contains` checks. Pure: no I/O.

use super::{Diff, Failure, QUOTED, shorten};
use crate::outcome::Outcome;
use crate::suite::Pos;
use crate::suite::check::TextMatch;

/// The error type of a timed-out invocation, as Lambda reports it.
pub const TIMEOUT_TYPE: &str = "Sandbox.Timedout";

/// The error of a case that could not be judged: no answer came, or the container stopped.
pub(super) fn infrastructure(outcome: &Outcome) -> Option<super::Unjudged> {
    use super::{ErrorKind, Unjudged};
    match outcome {
        Outcome::Transport {
            error,
            container_gone,
        } => {
            let gone = if *container_gone {
                "; the container is gone"
            } else {
                ""
            };
            Some(Unjudged::new(
                ErrorKind::Transport,
                format!("{error}{gone}"),
            ))
        }
        Outcome::ContainerExited {
            exit_code,
            oom_killed,
        } => Some(Unjudged::new(
            ErrorKind::Exited,
            if *oom_killed {
                format!(
                    "the container was killed for exceeding its memory limit (exit code {exit_code})"
                )
            } else {
                format!("the container exited with code {exit_code}")
            },
        )),
        _ => None,
    }
}

/// What happened, for a case that expected success and got something else.
pub(super) fn what_happened(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Success { body } => {
            format!(
                "the function returned {}",
                shorten(&body.to_string(), QUOTED)
            )
        }
        Outcome::FunctionError {
            error_type,
            message,
            ..
        } => format!("the function failed with {error_type}: {message}"),
        Outcome::Timeout { message } => format!("the function timed out: {message}"),
        Outcome::RuntimeFailure {
            status,
            error_type,
            message,
            body,
            out_of_memory,
        } => {
            let what = match (error_type, message) {
                (Some(t), Some(m)) => format!("{t}: {m}"),
                _ if body.to_string().trim().is_empty() => "an empty answer".to_string(),
                _ => shorten(&body.to_string(), QUOTED),
            };
            // The kernel's OOM killer shows up as a killed runtime; the engine's `oom` event
            // says it for certain.
            let oom = if *out_of_memory {
                "; out of memory: the engine killed the runtime for exceeding the function's `memory`"
            } else if what.contains("signal: killed") {
                "; the runtime was killed by SIGKILL, and the engine reported no out-of-memory"
            } else {
                ""
            };
            // RIE answers such failures with an HTTP status of their own; lambda-ci's agent,
            // as the service, with 200.
            if *status == 200 {
                format!("the runtime failed: {what}{oom}")
            } else {
                format!("the runtime failed (HTTP {status}): {what}{oom}")
            }
        }
        Outcome::Transport { .. } | Outcome::ContainerExited { .. } => infrastructure(outcome)
            .map(|u| u.message)
            .unwrap_or_default(),
    }
}

/// The failure of a case that expects success, if the invocation did not succeed.
pub(super) fn unexpected_failure(outcome: &Outcome, pos: Option<Pos>) -> Option<Failure> {
    let message = match outcome {
        Outcome::Success { .. } => return None,
        Outcome::FunctionError {
            error_type,
            message,
            ..
        } => format!("expected success, the function failed with {error_type}: {message}"),
        other => what_happened(other),
    };
    Some(Failure::new("expect", message, pos))
}

/// An `error` / `error_contains` check against the outcome.
pub(super) fn expected_failure(
    outcome: &Outcome,
    error_type: Option<&TextMatch>,
    message: Option<&TextMatch>,
    pos: Pos,
) -> Option<Failure> {
    let expected = describe(error_type, message);
    let fail = |text: String| Some(Failure::new("error", text, Some(pos)));
    let (t, m): (&str, &str) = match outcome {
        Outcome::FunctionError {
            error_type,
            message,
            ..
        }
        | Outcome::RuntimeFailure {
            error_type: Some(error_type),
            message: Some(message),
            ..
        } => (error_type, message),
        // Lambda reports a timeout with this type.
        Outcome::Timeout { message } => (TIMEOUT_TYPE, message),
        // An empty `error: {}` asks only that the invocation fail, whichever way.
        Outcome::RuntimeFailure { .. } if error_type.is_none() && message.is_none() => {
            return None;
        }
        Outcome::Success { body } => {
            return fail(format!(
                "expected the function to fail with {expected}, it succeeded and returned {}",
                shorten(&body.to_string(), QUOTED)
            ));
        }
        other => {
            return fail(format!(
                "expected the function to fail with {expected}; {}",
                what_happened(other)
            ));
        }
    };
    let type_ok = error_type.is_none_or(|e| e.is_match(t));
    let message_ok = message.is_none_or(|e| e.is_match(m));
    if type_ok && message_ok {
        return None;
    }
    let actual = format!("{t}: {m}");
    let mut failure = Failure::new(
        "error",
        format!("expected the function to fail with {expected}, it failed with {actual}"),
        Some(pos),
    );
    failure.diff = Some(Diff::new(&expected, &actual));
    Some(failure)
}

/// The error a case expects, in words: `ValueError: name is required`,
/// `an error with a message matching /^name/`.
fn describe(error_type: Option<&TextMatch>, message: Option<&TextMatch>) -> String {
    let kind = error_type.map(|t| match t {
        TextMatch::Exact(t) => t.clone(),
        TextMatch::Regex(p) => format!("a type matching {p}"),
        TextMatch::Contains(s) => format!("a type containing {s:?}"),
    });
    let text = message.map(|m| match m {
        TextMatch::Exact(m) => m.clone(),
        TextMatch::Regex(p) => format!("a message matching {p}"),
        TextMatch::Contains(s) => format!("a message containing {s:?}"),
    });
    match (kind, text, message) {
        (Some(k), Some(t), _) => format!("{k}: {t}"),
        (Some(k), None, _) => k,
        (None, Some(t), Some(TextMatch::Exact(_))) => format!("an error saying {t:?}"),
        (None, Some(t), _) => format!("an error with {t}"),
        (None, None, _) => "an error".to_string(),
    }
}
