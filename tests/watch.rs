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
