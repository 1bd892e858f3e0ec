//! End-to-end tests of the sandbox, as Lambda has it: read-only code and root, a writable
//! /tmp of `ephemeral_storage`, placeholder or inherited credentials that never reach a report,
//! and the environment Lambda sets.

mod common;

use common::*;

fn suite(handler: &str, extra: &str, cases: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    temp_suite(&format!(
        "function:\n  name: sandboxed\n  runtime: python3.11\n  handler: {handler}\n  code: CODE\n{extra}cases:\n{cases}"
    ))
}

#[test]
fn only_tmp_is_writable_and_it_holds_ephemeral_storage() {
    let (_dir, suite) = suite(
        "app.write",
        "  memory: 1024\n  timeout: 30\n",
        "  - name: code is read-only\n    event: {path: /var/task/new.txt}\n    expect:\n      response: {written: false, errno: 30, error: Read-only file system}\n\
         \x20 - name: the root is read-only\n    event: {path: /etc/new.conf}\n    expect:\n      response_contains: {written: false, errno: 30}\n\
         \x20 - name: tmp is writable\n    event: {path: /tmp/a.txt}\n    expect:\n      response: {written: true}\n\
         \x20 - name: tmp holds 512 MB by default\n    event: {path: /tmp/big, mb: 600}\n    expect:\n      response: {written: false, errno: 28, error: No space left on device}\n\
         \x20 - name: but not less\n    event: {path: /tmp/big, mb: 500}\n    expect:\n      response: {written: true}\n",
    );
    let out = run(&[suite], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert_summary(&text, "5 passed, 0 failed");
}

#[test]
fn placeholder_credentials_by_default_and_inherited_ones_never_reported() {
    let cases = "  - name: sees credentials\n    expect:\n      response_contains: {AWS_ACCESS_KEY_ID: LAMBDACIPLACEHOLDERKEY}\n";
    let (_a, placeholder) = suite("app.credentials", "", cases);
    let out = run(&[placeholder], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // Inherited, the caller's values reach the function; the case fails on purpose so that
    // its response, diff and logs are all reported, none with a credential in it.
    let (dir, inherit) = suite(
        "app.credentials",
        "  aws_credentials: inherit\n",
        "  - name: shows what it sees\n    expect:\n      response: {shown: nothing}\n",
    );
    let junit = dir.path().join("report.xml");
    let secrets = [
        ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLESECRETKEY1"),
        ("AWS_SECRET_ACCESS_KEY", "s3cr3t/Value+WITH=chars"),
        ("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN"),
    ];
    let mut cmd = lambda_ci();
    cmd.args(["run", "--pull", "never", "--junit"])
        .arg(&junit)
        .arg(&inherit);
    for (k, v) in secrets {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = stdout(&out);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("[redacted]"), "the function saw them\n{text}");
    for (_, value) in secrets {
        for (what, output) in [
            ("console", &text),
            ("stderr", &stderr(&out)),
            ("JUnit", &xml),
        ] {
            assert!(
                !output.contains(value),
                "{value} in the {what} output:\n{output}"
            );
        }
    }

    // `--aws-credentials inherit` does the same for every function; the judge sees the
    // values the function returned, reports never do.
    let (_b, plain) = suite(
        "app.credentials",
        "",
        &format!(
            "  - name: inherited by flag\n    expect:\n      response: {{AWS_ACCESS_KEY_ID: {}, AWS_SECRET_ACCESS_KEY: \"{}\", AWS_SESSION_TOKEN: null}}\n",
            secrets[0].1, secrets[1].1
        ),
    );
    let out = lambda_ci()
        .args(["run", "--pull", "never", "--aws-credentials", "inherit"])
        .arg(&plain)
        .env("AWS_ACCESS_KEY_ID", secrets[0].1)
        .env("AWS_SECRET_ACCESS_KEY", secrets[1].1)
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn the_environment_lambda_sets() {
    let names = [
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_EXECUTION_ENV",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
        "LANG",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
    ];
    let (_dir, suite) = suite(
        "app.env",
        "",
        &format!(
            "  - name: as the service sets it\n    event: {{names: [{}]}}\n    expect:\n      response:\n        AWS_LAMBDA_FUNCTION_NAME: sandboxed\n        AWS_LAMBDA_FUNCTION_VERSION: $LATEST\n        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: \"128\"\n        AWS_LAMBDA_LOG_GROUP_NAME: /aws/lambda/sandboxed\n        AWS_EXECUTION_ENV: AWS_Lambda_python3.11\n        AWS_REGION: us-east-1\n        AWS_DEFAULT_REGION: us-east-1\n        LAMBDA_TASK_ROOT: /var/task\n        LAMBDA_RUNTIME_DIR: /var/runtime\n        TZ: \":UTC\"\n        LANG: en_US.UTF-8\n        AWS_LAMBDA_INITIALIZATION_TYPE: on-demand\n\
             \x20 - name: a log stream like Lambda's\n    event: {{names: [AWS_LAMBDA_LOG_STREAM_NAME]}}\n    expect:\n      assert:\n        - {{path: $.AWS_LAMBDA_LOG_STREAM_NAME, matches: '^\\d{{4}}/\\d{{2}}/\\d{{2}}/\\[\\$LATEST\\][0-9a-f]{{32}}$'}}\n",
            names.join(", ")
        ),
    );
    let out = run(&[suite], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "2 passed, 0 failed");
}

#[test]
fn client_context_reaches_the_handler() {
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let (_dir, python) = suite(
        "app.invocation_context",
        "",
        &format!(
            // The trace reaches the handler as `Lambda-Runtime-Trace-Id`; with none given, the
            // invocation gets one of its own, as in the service.
            "  - name: python sees the client context\n    client_context: {{custom: {{tenant: acme}}, env: {{locale: en-GB}}}}\n    trace_id: \"{trace}\"\n    expect:\n      response: {{custom: {{tenant: acme}}, env: {{locale: en-GB}}, trace: \"{trace}\"}}\n\
             \x20 - name: and neither when not given\n    expect:\n      response_contains: {{custom: null, env: null}}\n      assert:\n        - {{path: $.trace, matches: '^Root=1-[0-9a-f]{{8}}-[0-9a-f]{{24}};Parent=[0-9a-f]{{16}};Sampled=0$'}}\n"
        ),
    );
    let node_dir = tempfile::tempdir().unwrap();
    let node = write_suite(
        node_dir.path(),
        "ctx",
        ("nodejs22.x", &fixture("functions/node")),
        "  handler: index.context\n",
        "  - name: node sees it\n    client_context: {custom: {tenant: acme}}\n    expect:\n      response_contains: {functionName: ctx, clientContext: {custom: {tenant: acme}}, remaining: true}\n",
    );
    let out = run(&[python, node], &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "3 passed, 0 failed");
}

#[test]
fn a_handler_has_no_capabilities_no_new_privileges_and_ports_only_on_loopback() {
    let (_dir, suite) = suite(
        "app.privileges",
        "",
        "  - name: no raw sockets, no capabilities\n    expect:\n      response: {raw_socket: Operation not permitted, no_new_privs: '1', capabilities: '0000000000000000'}\n",
    );
    let KeptRun {
        out,
        kept,
        temp: _temp,
        ..
    } = run_kept(&suite, &[]);
    let inspect = |format: &str| {
        let out = std::process::Command::new("docker")
            .args(["inspect", "-f", format, &kept[0]])
            .output()
            .unwrap();
        stdout(&out).trim().to_string()
    };
    let ports = inspect(
        "{{range $p, $b := .HostConfig.PortBindings}}{{range $b}}{{.HostIp}} {{end}}{{end}}",
    );
    let privileges =
        inspect("{{.HostConfig.Privileged}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}");
    let network = inspect("{{.HostConfig.NetworkMode}}");
    let mounts = inspect("{{range .Mounts}}{{.Destination}}:{{.RW}} {{end}}");
    for id in &kept {
        std::process::Command::new("docker")
            .args(["rm", "-f", id])
            .output()
            .unwrap();
    }
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(ports, "127.0.0.1");
    assert_eq!(privileges, "false [ALL] [no-new-privileges]");
    assert!(network != "host", "{network}");
    assert!(mounts.contains("/var/task:false"), "{mounts}");
}

#[test]
fn caller_variables_in_environment_reach_the_function_and_never_a_report() {
    let secret = "s3cr3t-from-the-caller-42";
    let (dir, suite) = suite(
        "app.env",
        "  environment:\n    DB_URL: postgres://app:${LAMBDA_CI_TEST_DB_PASSWORD}@db/orders\n    PRICE: $$5 and $${NOT_A_VAR}\n",
        "  - name: sees the value\n    event: {names: [DB_URL, PRICE]}\n    expect:\n      response: {DB_URL: 'postgres://app:s3cr3t-from-the-caller-42@db/orders', PRICE: '$5 and ${NOT_A_VAR}'}\n\
         \x20 - name: fails so that its response is reported\n    event: {names: [DB_URL]}\n    expect:\n      response: {DB_URL: other}\n",
    );
    let var = ("LAMBDA_CI_TEST_DB_PASSWORD", secret);
    let (out, junit, json) = run_with_reports(dir.path(), &suite, var);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_summary(&stdout(&out), "1 passed, 1 failed");
    let reports = [text, junit, json];
    for report in &reports {
        assert!(!report.contains(secret), "{report}");
    }
    assert!(
        reports[0].contains("postgres://app:[redacted]@db/orders"),
        "{}",
        reports[0]
    );

    // Not set: refused before anything runs, at the line that asks for it.
    let out = lambda_ci()
        .args(["run", "--pull", "never"])
        .arg(&suite)
        .env_remove("LAMBDA_CI_TEST_DB_PASSWORD")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("suite.yaml:7:13: `${LAMBDA_CI_TEST_DB_PASSWORD}` takes LAMBDA_CI_TEST_DB_PASSWORD from your environment, but it is not set"), "{err}");
    assert!(containers_of(&suite).is_empty());
}

/// The variable names the service shows a function (recorded on AWS for python3.11 and
/// nodejs22.x), besides the function's own.
const SERVICE_NAMES: [&str; 27] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_DEFAULT_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_XRAY_CONTEXT_MISSING",
    "AWS_XRAY_DAEMON_ADDRESS",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
    "LANG",
    "LD_LIBRARY_PATH",
    "PATH",
    "TZ",
    "_AWS_XRAY_DAEMON_ADDRESS",
    "_AWS_XRAY_DAEMON_PORT",
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "PWD",
    "SHLVL",
];

/// Names the image's own bootstrap script or language runtime adds, as it does on the
/// service: the search path, the shell's, and Python's locale coercion.
const IMAGE_NAMES: [&str; 6] = [
    "PYTHONPATH",
    "NODE_PATH",
    "OLDPWD",
    "LC_CTYPE",
    "PWD",
    "SHLVL",
];

// Regression: functions saw HOME and HOSTNAME (the engine's) and AWS_LAMBDA_FUNCTION_TIMEOUT
// (lambda-ci's), which the service never shows.
#[test]
fn a_function_sees_the_services_variable_names_and_no_others() {
    let dir = tempfile::tempdir().unwrap();
    let py = python_suite(
        dir.path(),
        "py",
        "  handler: app.environ\n",
        "  - name: names\n    expect:\n      assert: [{path: $, type: array}]\n",
    );
    let node = write_suite(
        dir.path(),
        "node",
        ("nodejs22.x", &fixture("functions/node")),
        "  handler: index.environ\n",
        "  - name: names\n    expect:\n      assert: [{path: $, type: array}]\n",
    );
    for (suite, family) in [(py, "python"), (node, "node")] {
        let (out, cases) = run_reported(&[suite], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        let names: Vec<&str> = cases[0]["response"]
            .as_array()
            .unwrap_or_else(|| panic!("{family}: {}", cases[0]))
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        let unknown: Vec<&&str> = names
            .iter()
            .filter(|n| !SERVICE_NAMES.contains(n) && !IMAGE_NAMES.contains(n))
            .collect();
        assert_eq!(unknown, Vec::<&&str>::new(), "{family}: {names:?}");
        let missing: Vec<&&str> = SERVICE_NAMES
            .iter()
            .filter(|n| !names.contains(n) && !IMAGE_NAMES.contains(n))
            .collect();
        assert_eq!(missing, Vec::<&&str>::new(), "{family}: {names:?}");
    }
}

// Regression: nothing bounded a function's processes or open files, so a fork bomb took the
// machine down; Lambda allows 1,024 of each.
#[test]
fn a_function_is_held_to_lambdas_process_and_file_limits() {
    let dir = tempfile::tempdir().unwrap();
    let suite = python_suite(
        dir.path(),
        "limits",
        "  handler: app.limits\n  memory: 512\n",
        "  - name: tries 1,500 threads\n    event: {threads: 1500}\n    expect:\n      assert:\n        - {path: $.threads, lt: 1024}\n        - {path: $.threads, gt: 900}\n      response_contains: {nofile: [1024, 1024]}\n",
    );
    let out = run(&[suite], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}
