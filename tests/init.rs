//! End-to-end tests of `lambda-ci init`: in a Python, a Node.js and a custom-runtime project it
//! writes a suite that the real binary then runs and passes against the real engine, and it
//! never overwrites a suite.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;

/// A project directory `name` holding `files` (name, text, executable).
fn project(root: &Path, name: &str, files: &[(&str, &str, bool)]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir(&dir).unwrap();
    for (file, text, executable) in files {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        if *executable {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    dir
}

fn init(dir: &Path) -> std::process::Output {
    lambda_ci().arg("init").current_dir(dir).output().unwrap()
}

/// `init` in `dir` writes `cases/<name>.yaml` naming `runtime`, and a run of it passes.
fn assert_init_passes(dir: &Path, name: &str, runtime: &str) {
    let out = init(dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let suite = dir.join("cases").join(format!("{name}.yaml"));
    assert!(
        stdout(&out).contains(&format!("wrote cases/{name}.yaml")),
        "{}",
        stdout(&out)
    );
    let text = std::fs::read_to_string(&suite).unwrap();
    assert!(text.contains(&format!("  runtime: {runtime} ")), "{text}");
    let out = run(std::slice::from_ref(&suite), &[]);
    let printed = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{printed}\n{}", stderr(&out));
    assert_summary(&printed, "1 passed, 0 failed");
}

#[test]
fn init_in_a_python_project_writes_a_suite_that_passes() {
    let root = tempfile::tempdir().unwrap();
    let dir = project(
        root.path(),
        "orders",
        &[
            ("util.py", "def helper():\n    return 1\n", false),
            (
                "lambda_function.py",
                "import json\n\n\ndef lambda_handler(event, context):\n    return {\"statusCode\": 200, \"body\": json.dumps(event)}\n",
                false,
            ),
        ],
    );
    assert_init_passes(&dir, "orders", "python3.11");
    let text = std::fs::read_to_string(dir.join("cases/orders.yaml")).unwrap();
    assert!(
        text.contains("handler: lambda_function.lambda_handler "),
        "{text}"
    );
}

#[test]
fn init_in_a_node_project_writes_a_suite_that_passes() {
    let root = tempfile::tempdir().unwrap();
    let dir = project(
        root.path(),
        "greeter",
        &[
            (
                "package.json",
                r#"{"name": "greeter", "main": "app.js"}"#,
                false,
            ),
            (
                "app.js",
                "exports.handler = async (event) => ({ statusCode: 200, body: 'hi' });\n",
                false,
            ),
        ],
    );
    assert_init_passes(&dir, "greeter", "nodejs22.x");
    let text = std::fs::read_to_string(dir.join("cases/greeter.yaml")).unwrap();
    assert!(text.contains("handler: app.handler "), "{text}");
}

#[test]
fn init_in_a_custom_runtime_project_writes_a_suite_that_passes() {
    let root = tempfile::tempdir().unwrap();
    let bootstrap = "#!/bin/bash\nset -euo pipefail\nAPI=\"http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime\"\nwhile true; do\n  HEADERS=\"$(mktemp)\"\n  curl -sS -LD \"$HEADERS\" -o /dev/null \"$API/invocation/next\"\n  ID=\"$(grep -Fi Lambda-Runtime-Aws-Request-Id \"$HEADERS\" | tr -d '[:space:]' | cut -d: -f2)\"\n  curl -sS -o /dev/null \"$API/invocation/$ID/response\" -d '{\"ok\": true}'\ndone\n";
    let dir = project(root.path(), "worker", &[("bootstrap", bootstrap, true)]);
    assert_init_passes(&dir, "worker", "provided.al2023");
}

#[test]
fn init_never_overwrites_a_suite_and_says_which() {
    let root = tempfile::tempdir().unwrap();
    let dir = project(
        root.path(),
        "svc",
        &[(
            "app.py",
            "def handler(event, context):\n    return event\n",
            false,
        )],
    );
    std::fs::create_dir(dir.join("cases")).unwrap();
    std::fs::write(dir.join("cases/svc.yaml"), "# mine\n").unwrap();
    let out = init(&dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "error: cases/svc.yaml already exists; `lambda-ci init` never overwrites a suite"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("cases/svc.yaml")).unwrap(),
        "# mine\n"
    );
    let empty = project(root.path(), "empty", &[]);
    let out = init(&empty);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("found no Lambda function in"),
        "{}",
        stderr(&out)
    );
}

// Regression: `lambda-ci init code` wrote `code/cases/code.yaml`: the suite inside the deployed
// directory, the function named "code", the `layer.zip` beside it ignored; and at the project's
// root, `init` did not look in `code/`.
#[test]
fn init_at_a_project_root_finds_the_code_below_it_and_writes_the_suite_outside_it() {
    let root = tempfile::tempdir().unwrap();
    let project = root.path().join("users-api");
    let code = project.join("code");
    std::fs::create_dir_all(&code).unwrap();
    std::fs::write(
        code.join("app.py"),
        "import helper\n\ndef handler(event, context):\n    return {\"v\": helper.VALUE}\n",
    )
    .unwrap();
    let mut zip = zip::ZipWriter::new(std::fs::File::create(project.join("layer.zip")).unwrap());
    zip.start_file("python/helper.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, b"VALUE = 7\n").unwrap();
    zip.finish().unwrap();
    let out = init(&project);
    let said = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{said}{}", stderr(&out));
    assert!(said.contains("wrote cases/users-api.yaml: python3.11 function `users-api`, handler app.handler in code"), "{said}");
    assert!(
        said.contains("with the layers found beside the code: ../layer.zip"),
        "{said}"
    );
    let suite = project.join("cases/users-api.yaml");
    let text = std::fs::read_to_string(&suite).unwrap();
    assert!(text.contains("  code: ../code "), "{text}");
    assert!(text.contains("  layers: [../layer.zip] "), "{text}");
    assert!(!code.join("cases").exists());
    let out = run(std::slice::from_ref(&suite), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_summary(&stdout(&out), "1 passed, 0 failed");
}
