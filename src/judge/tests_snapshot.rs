//! The judge on logs, handler durations, snapshots and long diffs.

use serde_json::{Value, json};

use super::tests::{api, exact, expect, failures, ok, run};
use super::*;
use crate::suite::check::{Pattern, Query};

#[test]
fn logs_and_duration() {
    let e = expect(vec![
        CheckKind::Log(LogRule::Contains("signed in".into())),
        CheckKind::Log(LogRule::NotContains("Traceback".into())),
        CheckKind::Log(LogRule::Matches(Pattern::new(r"user \d+").unwrap())),
        CheckKind::MaxDuration { millis: 100 },
    ]);
    assert_eq!(run(&e, &ok(json!(1))), Verdict::Pass);
    let e = expect(vec![
        CheckKind::Log(LogRule::Contains("signed out".into())),
        CheckKind::Log(LogRule::NotContains("user 42".into())),
        CheckKind::Log(LogRule::Matches(Pattern::new(r"^user \D").unwrap())),
        CheckKind::MaxDuration { millis: 5 },
    ]);
    let f = failures(run(&e, &ok(json!(1))));
    assert_eq!(f.len(), 4);
    assert_eq!(
        f[0].message,
        "logs contains: no line of the invocation's 3 log lines holds \"signed out\""
    );
    assert_eq!(
        f[1].message,
        "logs not_contains: a line holds \"user 42\": \"user 42 signed in\""
    );
    assert!(f[2].message.contains("matches /^user \\D/"));
    assert_eq!(
        f[3].message,
        "expected a handler duration of at most 5 ms, it took 12.00 ms"
    );
}

#[test]
fn snapshots_compare_record_and_report_a_missing_one() {
    let mut e = expect(vec![CheckKind::Snapshot]);
    e.ignore = vec![Query::of("$.body.at")];
    let r = ok(api(200, json!({"id": 1, "at": "now"})));
    let evidence = Evidence {
        outcome: &r,
        logs: LogsSeen::NONE,
        duration: None,
        stream: None,
    };
    let missing = judge(
        &e,
        evidence,
        Snapshot::Compare {
            stored: None,
            file: std::path::Path::new("s.snap.yaml"),
        },
    );
    let f = failures(missing.verdict);
    assert!(
        f[0].message.contains("--update-snapshots"),
        "{}",
        f[0].message
    );
    let recorded = judge(&e, evidence, Snapshot::Record);
    assert_eq!(recorded.verdict, Verdict::Pass);
    let stored = recorded.snapshot.unwrap();
    assert_eq!(
        stored["body"],
        json!({"id": 1}),
        "stored decoded, ignored paths removed"
    );
    assert_eq!(
        judge(
            &e,
            evidence,
            Snapshot::Compare {
                stored: Some(&stored),
                file: std::path::Path::new("s.snap.yaml")
            }
        )
        .verdict,
        Verdict::Pass
    );
    let changed = ok(api(200, json!({"id": 2, "at": "later"})));
    let evidence = Evidence {
        outcome: &changed,
        logs: LogsSeen::NONE,
        duration: None,
        stream: None,
    };
    let f = failures(
        judge(
            &e,
            evidence,
            Snapshot::Compare {
                stored: Some(&stored),
                file: std::path::Path::new("s.snap.yaml"),
            },
        )
        .verdict,
    );
    assert_eq!(f[0].mismatches[0].path, "$.body.id");
}

#[test]
fn a_cut_diff_keeps_the_whole_actual_value() {
    let big: Vec<Value> = (0..500).map(|i| json!({"i": i})).collect();
    let mut other = big.clone();
    for v in other.iter_mut().step_by(7) {
        v["i"] = json!(-1);
    }
    let f = failures(run(&expect(vec![exact(json!(big))]), &ok(json!(other))));
    let diff = f[0].diff.as_ref().unwrap();
    assert!(diff.left_out.is_some());
    assert!(f[0].actual.as_ref().unwrap().lines().count() > 1000);
}
