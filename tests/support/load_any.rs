// The suite loader and the expectation decoder on any bytes, shared by the fuzz target
// (`fuzz/fuzz_targets/load.rs`) and the bounded run in the tests (`tests/fuzz.rs`): a suite
// file, then optionally a line `%%` and a response that every loaded case's expectations are
// judged against. Nothing may panic; every refusal names the file and says what is wrong.

/// Loads `data` as the suite `dir/fuzzed.yaml` and judges what it expects.
pub fn load_any(dir: &std::path::Path, data: &[u8]) {
    use lambda_ci::judge::{Evidence, LogsSeen, Snapshot, judge};
    use lambda_ci::outcome::{Body, Outcome};

    let (suite, response) = match data.windows(4).position(|w| w == b"\n%%\n") {
        Some(at) => (&data[..at + 1], Some(&data[at + 4..])),
        None => (data, None),
    };
    let file = dir.join("fuzzed.yaml");
    let suite = match lambda_ci::suite::load_bytes(&file, suite.to_vec()) {
        Ok(suite) => suite,
        Err(errors) => {
            assert!(!errors.0.is_empty(), "refused with no reason");
            for e in &errors.0 {
                assert_eq!(e.file, file, "{e}");
                assert!(!e.message.is_empty(), "{e}");
            }
            return;
        }
    };
    let Some(response) = response else { return };
    let outcomes = [
        Outcome::Success {
            body: Body::parse(response),
        },
        Outcome::FunctionError {
            error_type: String::from_utf8_lossy(response).chars().take(40).collect(),
            message: String::from_utf8_lossy(response).into_owned(),
            body: lambda_ci::json::parse(response).unwrap_or_default(),
        },
    ];
    let snapshot_file = dir.join("fuzzed.snap.yaml");
    for case in &suite.cases {
        for outcome in &outcomes {
            let evidence = Evidence {
                outcome,
                logs: LogsSeen::NONE,
                duration: None,
                stream: None,
            };
            let snapshot = Snapshot::Compare {
                stored: None,
                file: &snapshot_file,
            };
            let judged = judge(&case.expect, evidence, snapshot);
            let _ = format!("{:?}", judged.verdict);
        }
    }
}
