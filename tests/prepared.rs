//! End-to-end test of what a runner keeps from one plan to the next, as a long-running server
//! will: images checked once, blueprints made once, and one function's part rebuilt alone.

mod common;

use std::sync::Arc;

use common::*;
use lambda_ci::docker::{Engine, OwnedContainers, PullPolicy};
use lambda_ci::event::EventKind;
use lambda_ci::plan::{Plan, SuiteId};
use lambda_ci::runner::{Runner, Session};

#[test]
fn a_runner_checks_each_image_once_across_plans_and_after_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let py = fixture("functions/py");
    // Two layers are merged into a copy when the blueprint is made: an edit of the first shows
    // only once `rebuild` has the blueprint made anew.
    let (first, second) = (dir.path().join("first"), dir.path().join("second"));
    std::fs::create_dir_all(first.join("python")).unwrap();
    std::fs::create_dir_all(second.join("python")).unwrap();
    let helper = first.join("python/helper.py");
    std::fs::write(&helper, "VALUE = {'v': 1}\n").unwrap();
    std::fs::write(second.join("python/other.py"), "").unwrap();
    let layered = format!(
        "  handler: app.layer\n  layers: [{}, {}]\n",
        first.display(),
        second.display()
    );
    let paths = vec![
        write_suite(
            dir.path(),
            "one",
            ("python3.11", &py),
            "  handler: app.echo\n",
            "  - name: a\n",
        ),
        write_suite(
            dir.path(),
            "two",
            ("python3.11", &py),
            &layered,
            "  - name: b\n    expect:\n      response: {v: 1}\n",
        ),
    ];
    let suites = lambda_ci::suite::load_paths(&paths).unwrap();
    let plan = Plan::new(&suites, &Default::default());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let engine = Engine::connect(lambda_ci::docker::DEFAULT_TIMEOUT, &Default::default())
            .await
            .unwrap();
        let owned = OwnedContainers::default();
        let run_id = format!("prepared{}", std::process::id());
        let unpacked = Arc::new(lambda_ci::artifact::Unpacked::unpack(&suites).unwrap());
        let snapshots = lambda_ci::snapshot::Snapshots::load(&suites).unwrap();
        let session = Session::new(engine.clone(), owned.clone(), run_id.clone());
        let runner = Runner::builder(&session, suites, unpacked)
            .pull(PullPolicy::Never)
            .jobs(4)
            .snapshots(snapshots, false)
            .attachments(dir.path().join("actual"))
            .build();
        let (mut seen, mut passed) = (Vec::new(), Vec::new());
        for round in 0..3 {
            if round == 1 {
                std::fs::write(&helper, "VALUE = {'v': 2}\n").unwrap();
            }
            if round == 2 {
                runner.rebuild(SuiteId(1));
            }
            let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
            let stats = runner.execute(&plan, events).await;
            passed.push(stats.passed);
            let mut checks = 0;
            while let Some(e) = received.recv().await {
                if matches!(e.kind, EventKind::ImageChecking { .. }) {
                    checks += 1;
                }
            }
            seen.push(checks);
        }
        owned.sweep(&engine, &run_id).await;
        // The image is checked by the first plan only; a rebuild of a function that is not
        // built from a context keeps its image, and makes its blueprint (the merged layers)
        // anew: the edit shows after it, not before.
        assert_eq!(seen, [1, 0, 0]);
        assert_eq!(passed, [2, 2, 1], "cases passed in each round");
        assert_eq!(containers_of_run(&run_id), Vec::<String>::new());
    });
}
