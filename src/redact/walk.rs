//! Which parts of an event hold text a function or its container produced: every one of them
//! goes through the [`Redactor`] before a reporter sees the event.

use serde_json::Value;

use super::Redactor;
use crate::event::{CaseResult, EventKind};
use crate::judge::diff::{Diff, DiffLine};
use crate::judge::{Failure, Mismatch, MismatchKind, Verdict};
use crate::lines::LogLine;
use crate::outcome::{Body, Outcome, TransportError};
use crate::snapshot::Change;

/// Something that may hold a secret to be replaced before it is shown.
pub trait Redact {
    fn redact(&mut self, r: &Redactor);
}

impl Redact for String {
    fn redact(&mut self, r: &Redactor) {
        r.string(self);
    }
}

impl<T: Redact> Redact for Vec<T> {
    fn redact(&mut self, r: &Redactor) {
        self.iter_mut().for_each(|x| x.redact(r));
    }
}

impl<T: Redact> Redact for Option<T> {
    fn redact(&mut self, r: &Redactor) {
        if let Some(x) = self {
            x.redact(r);
        }
    }
}

impl<T: Redact> Redact for Box<T> {
    fn redact(&mut self, r: &Redactor) {
        (**self).redact(r);
    }
}

impl Redact for Value {
    fn redact(&mut self, r: &Redactor) {
        match self {
            Value::String(s) => s.redact(r),
            Value::Array(items) => items.redact(r),
            Value::Object(map) => {
                // Keys can hold a secret too; a map is rebuilt only when one does.
                if map.keys().any(|k| r.find_and_replace(k).is_some()) {
                    *map = std::mem::take(map)
                        .into_iter()
                        .map(|(mut k, v)| {
                            k.redact(r);
                            (k, v)
                        })
                        .collect();
                }
                map.values_mut().for_each(|v| v.redact(r));
            }
            // An all-digit secret can come back as a number.
            Value::Number(n) => {
                if let Some(clean) = r.find_and_replace(&n.to_string()) {
                    *self = Value::String(clean);
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }
}

/// The JSON path of the first part of `value` (a key, a string, a number) that holds a
/// secret, when one does.
pub fn secret_path(value: &Value, r: &Redactor) -> Option<String> {
    fn at(value: &Value, r: &Redactor, path: &mut String) -> bool {
        let len = path.len();
        match value {
            Value::String(s) => r.find_and_replace(s).is_some(),
            Value::Number(n) => r.find_and_replace(&n.to_string()).is_some(),
            Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
                path.push_str(&format!("[{i}]"));
                at(item, r, path) || {
                    path.truncate(len);
                    false
                }
            }),
            Value::Object(map) => map.iter().any(|(k, v)| {
                let plain = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                match plain {
                    true => path.push_str(&format!(".{k}")),
                    false => path.push_str(&format!("[{}]", serde_json::Value::from(k.as_str()))),
                }
                r.find_and_replace(k).is_some() || at(v, r, path) || {
                    path.truncate(len);
                    false
                }
            }),
            Value::Null | Value::Bool(_) => false,
        }
    }
    if r.is_empty() {
        return None;
    }
    let mut path = "$".to_string();
    at(value, r, &mut path).then_some(path)
}

impl Redact for LogLine {
    fn redact(&mut self, r: &Redactor) {
        self.text.redact(r);
    }
}

impl Redact for Body {
    fn redact(&mut self, r: &Redactor) {
        match self {
            Body::Json(v) => v.redact(r),
            Body::Text(t) => t.redact(r),
            Body::Binary(bytes) => r.bytes(bytes),
        }
    }
}

impl Redact for Outcome {
    fn redact(&mut self, r: &Redactor) {
        match self {
            Outcome::Success { body } => body.redact(r),
            Outcome::FunctionError {
                error_type,
                message,
                body,
            } => {
                error_type.redact(r);
                message.redact(r);
                body.redact(r);
            }
            Outcome::Timeout { message } => message.redact(r),
            Outcome::RuntimeFailure {
                error_type,
                message,
                body,
                ..
            } => {
                error_type.redact(r);
                message.redact(r);
                body.redact(r);
            }
            Outcome::Transport { error, .. } => {
                if let TransportError::Broken { cause, .. } = error {
                    cause.redact(r);
                }
            }
            Outcome::ContainerExited { .. } => {}
        }
    }
}

impl Redact for DiffLine {
    fn redact(&mut self, r: &Redactor) {
        // Word emphasis may split a secret across segments: then the line becomes one.
        let whole = self.text();
        if let Some(clean) = r.find_and_replace(&whole) {
            let changed = self.segments.iter().any(|(emphasis, _)| *emphasis);
            self.segments = vec![(changed, clean)];
        }
    }
}

impl Redact for Diff {
    fn redact(&mut self, r: &Redactor) {
        for hunk in &mut self.hunks {
            hunk.header.redact(r);
            hunk.lines.redact(r);
        }
    }
}

impl Redact for Mismatch {
    fn redact(&mut self, r: &Redactor) {
        self.path.redact(r);
        match &mut self.kind {
            MismatchKind::Value { expected, actual } => {
                expected.redact(r);
                actual.redact(r);
            }
            MismatchKind::MissingKey { expected } => expected.redact(r),
            MismatchKind::ExtraKey { actual } => actual.redact(r),
            MismatchKind::Type { .. } | MismatchKind::Length { .. } => {}
        }
    }
}

impl Redact for Failure {
    fn redact(&mut self, r: &Redactor) {
        self.message.redact(r);
        self.mismatches.redact(r);
        self.diff.redact(r);
        self.actual.redact(r);
    }
}

impl Redact for Verdict {
    fn redact(&mut self, r: &Redactor) {
        match self {
            Verdict::Pass => {}
            Verdict::Fail(failures) => failures.redact(r),
            Verdict::Error(why) => why.message.redact(r),
            Verdict::Skipped(why) => why.redact(r),
        }
    }
}

impl Redact for CaseResult {
    fn redact(&mut self, r: &Redactor) {
        self.verdict.redact(r);
        self.logs.redact(r);
        self.outcome.redact(r);
        // The request id is read from the function's output, which it can forge.
        self.reported.request_id.redact(r);
    }
}

impl Redact for EventKind {
    fn redact(&mut self, r: &Redactor) {
        match self {
            EventKind::CaseFinished { result, .. } => result.redact(r),
            EventKind::ContainerFailed { message, logs, .. } => {
                message.redact(r);
                logs.redact(r);
            }
            EventKind::Warning { message, .. } => message.redact(r),
            EventKind::ImageBuilding { line, .. } => line.redact(r),
            EventKind::SnapshotRecorded { change, .. } => {
                if let Change::Updated { diff } = change {
                    diff.redact(r);
                }
            }
            EventKind::SnapshotsWritten { error, .. } => error.redact(r),
            // Names, paths, ids and timings come from the suites and the engine.
            EventKind::RunStarted { .. }
            | EventKind::SuiteStarted { .. }
            | EventKind::SuiteFinished { .. }
            | EventKind::ImageChecking { .. }
            | EventKind::ImagePulling(_)
            | EventKind::ImageReady { .. }
            | EventKind::ImageBuilt { .. }
            | EventKind::ArtifactsDelivered { .. }
            | EventKind::RuntimeApiFallback { .. }
            | EventKind::ContainerStarting { .. }
            | EventKind::ContainerReady { .. }
            | EventKind::ContainerKept { .. }
            | EventKind::CaseStarted { .. }
            | EventKind::Progress { .. }
            | EventKind::RunFinished { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_path_of_a_secret_is_found_for_a_snapshot_to_refuse_it() {
        let r = Redactor::new(&[("S".into(), "0123456789abcdef".into())]);
        let v = json!({"a": [1, {"b": "x0123456789abcdefy"}], "c": 2});
        let keyed = json!({"a b": "0123456789abcdef"});
        assert_eq!(secret_path(&keyed, &r).as_deref(), Some("$[\"a b\"]"));
        assert_eq!(secret_path(&v, &r).as_deref(), Some("$.a[1].b"));
        assert_eq!(secret_path(&json!({"a": [1, "ok"]}), &r), None);
    }

    // Regression: a secret split by word emphasis across diff segments stayed readable.
    #[test]
    fn a_secret_split_across_diff_segments_is_redacted() {
        let secret = "s3cr3t/value+long";
        let r = Redactor::new(&[("S".into(), secret.into())]);
        let mut line = DiffLine {
            side: crate::judge::diff::Side::Actual,
            segments: vec![(false, "\"s3cr3t".into()), (true, "/value+long\"".into())],
        };
        line.redact(&r);
        assert_eq!(line.text(), "\"[redacted]\"");
    }

    #[test]
    fn json_keys_and_values_are_redacted() {
        let secret = "0123456789abcdef";
        let r = Redactor::new(&[("S".into(), secret.into())]);
        let mut v = json!({ secret: [secret, {"k": format!("x{secret}y")}], "n": 1 });
        v.redact(&r);
        assert_eq!(
            v,
            json!({"[redacted]": ["[redacted]", {"k": "x[redacted]y"}], "n": 1})
        );
        // Regression: an all-digit secret returned as a JSON number was shown.
        let r = Redactor::new(&[("PIN".into(), "4815162342".into())]);
        let mut v = json!({"pin": 4815162342u64, "other": 7});
        v.redact(&r);
        assert_eq!(v, json!({"pin": "[redacted]", "other": 7}));
    }
}
