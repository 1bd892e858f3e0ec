//! The JSON report (`--json FILE`): a documented, versioned document (`"version": 1`, schema in
//! `schema/report-v1.json`) with the run's settings, totals, and every case with its outcome,
//! timings, request id, response, differences, diff and logs. Written once, when the run ends.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use super::{ReportError, ReportFile, Reporter, text, whole_lines};
use crate::event::{CaseResult, Event, EventKind};
use crate::judge::Verdict;
use crate::plan::{CaseId, SuiteId};

/// The report's format version; a change that breaks readers bumps it.
pub const VERSION: u64 = 1;

/// Collects the run and writes it to `path` when it finishes.
pub struct Json {
    file: ReportFile,
    /// The run's settings, as given.
    settings: Value,
    run: BTreeMap<&'static str, Value>,
    suites: BTreeMap<SuiteId, Value>,
    cases: BTreeMap<CaseId, Value>,
}

impl Json {
    pub fn new(path: PathBuf, settings: Value) -> Json {
        Json {
            file: ReportFile::new("JSON", path),
            settings,
            run: BTreeMap::new(),
            suites: BTreeMap::new(),
            cases: BTreeMap::new(),
        }
    }

    /// The document as it stands.
    pub fn document(&self) -> Value {
        let suites: Vec<Value> = self
            .suites
            .iter()
            .map(|(id, suite)| {
                let mut suite = suite.clone();
                suite["cases"] = self
                    .cases
                    .iter()
                    .filter(|(case, _)| case.suite == *id)
                    .map(|(_, c)| c.clone())
                    .collect();
                suite
            })
            .collect();
        let mut run: serde_json::Map<String, Value> = self
            .run
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        run.insert("settings".into(), self.settings.clone());
        json!({"version": VERSION, "run": run, "suites": suites, "totals": self.run.get("totals").cloned().unwrap_or(json!(null))})
    }
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

fn case_json(name: &str, line: usize, result: &CaseResult) -> Value {
    let (verdict, message, location, differences, diff, failures) = match &result.verdict {
        Verdict::Pass => ("pass", None, None, vec![], None, vec![]),
        Verdict::Fail(failures) => {
            let first = failures.first();
            (
                "fail",
                Some(text::cut(&crate::judge::headline(failures))),
                first.and_then(|f| f.pos).map(location_json),
                failures
                    .iter()
                    .flat_map(|f| f.mismatches.iter())
                    .map(mismatch_json)
                    .collect(),
                first.and_then(|f| f.diff.as_ref()).map(|d| d.to_plain()),
                failures.iter().map(failure_json).collect(),
            )
        }
        Verdict::Error(why) => (
            "error",
            Some(text::cut(&why.message)),
            None,
            vec![],
            None,
            vec![],
        ),
        Verdict::Skipped(m) => ("skipped", Some(text::cut(m)), None, vec![], None, vec![]),
    };
    let reported = &result.reported;
    json!({
        "name": name,
        "line": line,
        "verdict": verdict,
        "message": message,
        "error_kind": match &result.verdict {
            Verdict::Error(why) => Some(why.kind.name()),
            _ => None,
        },
        "expectation": location,
        "duration_ms": millis(result.duration),
        "handler_duration_ms": reported.duration.map(millis),
        "init_duration_ms": reported.init.map(millis),
        "timings": {
            "round_trip_ms": millis(result.duration),
            "handler_ms": reported.duration.map(millis),
            "init_ms": reported.init.map(millis),
        },
        "request_id": reported.request_id,
        "stream": reported.stream,
        "outcome": result.outcome,
        "response": result.outcome.as_ref().and_then(|o| o.response()),
        "differences": differences,
        "diff": diff,
        "failures": failures,
        "logs": whole_lines(&result.logs).collect::<Vec<_>>(),
    })
}

fn location_json(p: crate::suite::Pos) -> Value {
    json!({"line": p.line, "column": p.column})
}

fn mismatch_json(m: &crate::judge::Mismatch) -> Value {
    json!({"path": text::cut(&m.path), "text": text::cut(&m.to_string()), "kind": m.kind})
}

/// One check that does not hold: which, where, why, its differences and diff, and the file
/// with the whole actual value when the diff was cut.
fn failure_json(f: &crate::judge::Failure) -> Value {
    json!({
        "check": f.check,
        "message": text::cut(&f.message),
        "location": f.pos.map(location_json),
        "differences": f.mismatches.iter().map(mismatch_json).collect::<Vec<_>>(),
        "diff": f.diff.as_ref().map(|d| d.to_plain()),
        "attachment": f.attachment.as_ref().map(|p| p.display().to_string()),
    })
}

impl Reporter for Json {
    fn report(&mut self, event: &Event) {
        match &event.kind {
            EventKind::RunStarted { run_id, suites } => {
                let started = chrono::DateTime::<chrono::Utc>::from(event.at);
                self.run.insert("id", json!(run_id));
                self.run.insert("started_at", json!(started.to_rfc3339()));
                for planned in suites {
                    let s = &planned.suite;
                    self.suites.insert(
                        s.id,
                        json!({"file": s.file.display().to_string(), "function": s.function, "image": s.image}),
                    );
                }
            }
            EventKind::RuntimeApiFallback { reason } => {
                self.run.insert("runtime_api_fallback", json!(reason));
            }
            EventKind::ArtifactsDelivered { copied, reason } => {
                let mount = if *copied { "copy" } else { "bind" };
                self.run
                    .insert("delivery", json!({"mount": mount, "reason": reason}));
            }
            EventKind::CaseFinished { case, result } => {
                self.cases
                    .insert(case.id, case_json(&case.name, case.line, result));
            }
            EventKind::RunFinished { stats } => {
                self.run
                    .insert("duration_ms", json!(millis(stats.duration)));
                self.run.insert(
                    "totals",
                    json!({"total": stats.total(), "passed": stats.passed, "failed": stats.failed, "errors": stats.errors, "skipped": stats.skipped}),
                );
                let text = serde_json::to_string_pretty(&self.document()).unwrap_or_default();
                self.file.write(&(text + "\n"));
            }
            _ => {}
        }
    }

    fn finish(&mut self) -> Result<(), ReportError> {
        self.file.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_with_its_verdict_differences_and_logs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        let mut report = Json::new(path.clone(), json!({"paths": ["cases"]}));
        for event in crate::report::sample::events() {
            report.report(&event);
        }
        report.finish().unwrap();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["totals"]["total"], 3);
        assert_eq!(doc["run"]["settings"]["paths"][0], "cases");
        let cases = doc["suites"][0]["cases"].as_array().unwrap();
        let verdicts: Vec<&str> = cases
            .iter()
            .map(|c| c["verdict"].as_str().unwrap())
            .collect();
        assert_eq!(verdicts, vec!["pass", "fail", "error"]);
        assert_eq!(cases[1]["differences"][0]["path"], "$.body");
        assert_eq!(cases[1]["expectation"]["line"], 21);
        assert!(
            cases[1]["diff"]
                .as_str()
                .unwrap()
                .contains("+  \"body\": \"Hello, Bob\"")
        );
        assert_eq!(cases[1]["outcome"]["kind"], "success");
        assert!(
            cases[1]["logs"][1]
                .as_str()
                .unwrap()
                .contains("greeting Bob")
        );
    }
}
