//! End-to-end test of `lambda-ci watch`: a change to one function's code runs again only the
//! suites that function's files make, on the real engine, and leaves nothing behind.

mod common;

use common::*;

#[test]
fn a_change_to_one_functions_code_reruns_only_its_suite() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["alpha", "beta"] {
        let code = dir.path().join(format!("code-{name}"));
        std::fs::create_dir(&code).unwrap();
        std::fs::write(
            code.join("app.py"),
            "def handler(event, context):\n    return {'v': 1}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            format!("function:\n  name: {name}\n  runtime: python3.11\n  handler: app.handler\n  code: code-{name}\ncases:\n  - name: {name} answers\n    event: {{}}\n    expect:\n      response: {{v: 1}}\n"),
        )
        .unwrap();
    }
    // A temp root of its own, to see what watching leaves in it.
    let temp = tempfile::tempdir().unwrap();
    let mut cmd = lambda_ci();
    cmd.env("TMPDIR", temp.path());
    cmd.args(["watch", "--pull", "never"]).arg(dir.path());
    let mut watching = Background::start(cmd);
    watching.wait_for("watching 2 suites for changes");
    assert_eq!(watching.count("alpha answers"), 1, "{}", watching.printed());
    assert_eq!(watching.count("beta answers"), 1, "{}", watching.printed());

    // alpha now answers 2: its suite runs again, and fails; beta's does not run.
    std::fs::write(
        dir.path().join("code-alpha/app.py"),
        "def handler(event, context):\n    return {'v': 2}\n",
    )
    .unwrap();
    watching.wait_for_times("watching 2 suites for changes", 2);
    let printed = watching.printed();
    assert_eq!(watching.count("alpha answers"), 3, "{printed}"); // the case line, and its failure
    assert_eq!(watching.count("beta answers"), 1, "{printed}");
    assert!(printed.contains("0 passed, 1 failed"), "{printed}");
    assert_eq!(watching.interrupt(), Some(0), "{}", watching.printed());
    for name in ["alpha", "beta"] {
        let suite = dir.path().join(format!("{name}.yaml"));
        assert!(containers_of(&suite).is_empty());
    }
    assert_eq!(
        temp_left(temp.path()),
        Vec::<String>::new(),
        "watch left temporary directories"
    );
}

/// The report `watch` rewrote for its latest run: each case's response and init, by function.
fn latest(report: &std::path::Path) -> Vec<(String, serde_json::Value, bool)> {
    let text = std::fs::read_to_string(report).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut seen = Vec::new();
    for suite in report["suites"].as_array().unwrap() {
        for case in suite["cases"].as_array().unwrap() {
            let name = suite["function"].as_str().unwrap_or_default().to_string();
            let init = !case["init_duration_ms"].is_null();
            seen.push((name, case["response"].clone(), init));
        }
    }
    seen
}

#[test]
fn a_save_restarts_the_runtime_in_the_same_container_and_a_layer_change_reboots_only_its_function()
{
    let dir = tempfile::tempdir().unwrap();
    let handler = |v: u32| {
        format!(
            "import os, socket\ntry:\n    import helper\nexcept ImportError:\n    helper = None\n\ndef handler(event, context):\n    seen = sorted(os.listdir('/tmp'))\n    open('/tmp/mark-{v}', 'w').write('x')\n    return {{'v': {v}, 'tmp': seen, 'host': socket.gethostname(), 'layer': getattr(helper, 'VALUE', None)}}\n"
        )
    };
    for name in ["alpha", "beta"] {
        let code = dir.path().join(format!("code-{name}"));
        std::fs::create_dir(&code).unwrap();
        std::fs::write(code.join("app.py"), handler(1)).unwrap();
    }
    let layer = dir.path().join("layer-beta/python");
    std::fs::create_dir_all(&layer).unwrap();
    std::fs::write(layer.join("helper.py"), "VALUE = 1\n").unwrap();
    let suite = |name: &str, layers: &str| {
        format!(
            "function:\n  name: {name}\n  runtime: python3.11\n  handler: app.handler\n  code: code-{name}\n{layers}cases:\n  - name: {name} answers\n    event: {{}}\n"
        )
    };
    let suites = dir.path().join("suites");
    std::fs::create_dir(&suites).unwrap();
    std::fs::write(
        suites.join("alpha.yaml"),
        suite("alpha", "").replace("code-", "../code-"),
    )
    .unwrap();
    std::fs::write(
        suites.join("beta.yaml"),
        suite("beta", "  layers: [../layer-beta]\n").replace("code-", "../code-"),
    )
    .unwrap();
    let reports = tempfile::tempdir().unwrap();
    let report = reports.path().join("report.json");
    let mut cmd = lambda_ci();
    cmd.args([
        "watch",
        "--pull",
        "never",
        "--runtime-api",
        "lambda-ci",
        "--json",
    ])
    .arg(&report)
    .arg(&suites);
    let mut watching = Background::start(cmd);
    watching.wait_for("watching 2 suites for changes");
    let first = latest(&report);
    let host = |seen: &[(String, serde_json::Value, bool)], name: &str| {
        let found = seen.iter().find(|(n, ..)| n == name);
        found.map(|(_, r, _)| r["host"].as_str().unwrap().to_string())
    };
    let (alpha, beta) = (
        host(&first, "alpha").unwrap(),
        host(&first, "beta").unwrap(),
    );

    // Each save: alpha alone runs again, in the same container, its runtime started anew:
    // init reported again, and /tmp empty of what the earlier runtime wrote.
    for (round, v) in [2u32, 3].into_iter().enumerate() {
        std::fs::write(dir.path().join("code-alpha/app.py"), handler(v)).unwrap();
        watching.wait_for_times("watching 2 suites for changes", round + 2);
        let seen = latest(&report);
        let printed = watching.printed();
        assert_eq!(seen.len(), 1, "only alpha runs: {seen:?}\n{printed}");
        let (name, response, init) = &seen[0];
        assert_eq!(name, "alpha");
        assert_eq!(response["v"], v, "the new code answers: {printed}");
        assert_eq!(response["host"], alpha.as_str(), "the same container");
        assert_eq!(response["tmp"], serde_json::json!([]), "/tmp emptied");
        assert!(init, "the init is reported again: {seen:?}");
    }

    // A layer is merged into a copy: its change boots beta anew, and alpha keeps its container.
    std::fs::write(layer.join("helper.py"), "VALUE = 2\n").unwrap();
    watching.wait_for_times("watching 2 suites for changes", 4);
    let seen = latest(&report);
    assert_eq!(seen.len(), 1, "only beta runs: {seen:?}");
    assert_eq!(seen[0].1["layer"], 2, "{}", watching.printed());
    assert_ne!(host(&seen, "beta").unwrap(), beta, "a new container");
    let alpha_containers = containers_of(&suites.join("alpha.yaml"));
    assert_eq!(
        alpha_containers,
        std::slice::from_ref(&alpha),
        "alpha's warm container stays"
    );

    // A code directory deleted and made again (a build's clean output) is not the one the
    // container mounted: alpha boots anew, and answers with the new code.
    std::fs::remove_dir_all(dir.path().join("code-alpha")).unwrap();
    std::fs::create_dir(dir.path().join("code-alpha")).unwrap();
    std::fs::write(dir.path().join("code-alpha/app.py"), handler(4)).unwrap();
    watching.wait_for_times("watching 2 suites for changes", 5);
    // Removing and making a directory may come as two batches of changes: the last run counts.
    loop {
        let runs = watching.count("watching 2 suites for changes");
        std::thread::sleep(std::time::Duration::from_millis(1500));
        if watching.count("watching 2 suites for changes") == runs
            && watching.printed().trim_end().ends_with("Ctrl-C stops")
        {
            break;
        }
    }
    let seen = latest(&report);
    assert_eq!(seen[0].1["v"], 4, "{}", watching.printed());
    let reborn = host(&seen, "alpha").unwrap();
    assert_ne!(reborn, alpha, "a new container");
    // The directory made again is watched: a save in it runs alpha again, in place.
    let runs = watching.count("watching 2 suites for changes");
    std::fs::write(dir.path().join("code-alpha/app.py"), handler(5)).unwrap();
    watching.wait_for_times("watching 2 suites for changes", runs + 1);
    let seen = latest(&report);
    assert_eq!(seen[0].1["v"], 5, "{}", watching.printed());
    assert_eq!(host(&seen, "alpha").unwrap(), reborn, "restarted in place");

    assert_eq!(watching.interrupt(), Some(0), "{}", watching.printed());
    for name in ["alpha", "beta"] {
        let suite = suites.join(format!("{name}.yaml"));
        assert!(
            containers_of(&suite).is_empty(),
            "{name}'s containers removed"
        );
    }
}

/// Each case's verdict in the report `watch` wrote for its latest run, by suite file and case.
fn verdicts(report: &std::path::Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(report).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut seen = Vec::new();
    for suite in report["suites"].as_array().unwrap() {
        let file = suite["file"].as_str().unwrap_or_default().to_string();
        for case in suite["cases"].as_array().unwrap() {
            let verdict = serde_json::json!([case["verdict"], case["error_kind"], case["message"]])
                .to_string();
            seen.push((
                file.clone(),
                case["name"].as_str().unwrap().to_string(),
                verdict,
            ));
        }
    }
    seen
}

// The reload in place must be a new deployment as a fresh container's is: every example case
// comes to the same verdict when its suite runs again on warm containers.
#[test]
fn every_example_case_has_the_same_verdict_after_a_reload_in_place_as_in_a_fresh_run() {
    let dir = tempfile::tempdir().unwrap();
    for tree in ["cases", "examples"] {
        let copied = std::process::Command::new("cp")
            .args(["-r", root().join(tree).to_str().unwrap()])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(copied.success());
    }
    let cases = dir.path().join("cases");
    let reports = tempfile::tempdir().unwrap();
    let report = reports.path().join("report.json");
    let mut cmd = lambda_ci();
    cmd.args(["watch", "--pull", "never", "--json"])
        .arg(&report)
        .arg(&cases);
    let mut watching = Background::start(cmd);
    let ready = "suites for changes";
    watching.wait_for(ready);
    let mut fresh = verdicts(&report);
    fresh.sort();
    assert_eq!(fresh.len(), example_cases(), "{}", watching.printed());
    let mut warm = containers_of(&cases.join("hello.yaml"));
    warm.sort();
    assert!(!warm.is_empty(), "hello's containers are kept warm");

    // Every suite file saved: each suite runs again (perhaps over more than one run).
    for entry in std::fs::read_dir(&cases).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml")
            && !path.to_string_lossy().contains(".snap.")
        {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, format!("{text}\n")).unwrap();
        }
    }
    let mut again: Vec<(String, String, String)> = Vec::new();
    let mut runs = 1;
    while again.len() < fresh.len() {
        runs += 1;
        watching.wait_for_times(ready, runs);
        for seen in verdicts(&report) {
            again.retain(|(f, c, _)| (f, c) != (&seen.0, &seen.1));
            again.push(seen);
        }
    }
    again.sort();
    assert_eq!(again, fresh, "{}", watching.printed());
    // hello's code and layer are directories: its containers restarted their runtime in place.
    let mut after = containers_of(&cases.join("hello.yaml"));
    after.sort();
    assert_eq!(after, warm, "{}", watching.printed());
    assert_eq!(watching.interrupt(), Some(0), "{}", watching.printed());
}
