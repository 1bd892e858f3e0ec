//! End to end, functions read from deployment templates: the test templates are ones
//! CloudFormation accepts (cfn-lint), lambda-ci reads SAM as AWS's own transform does
//! (aws-sam-translator), and `explain` says where each value came from.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, lambda_ci, root};
use serde_json::Value;

fn templates() -> Vec<PathBuf> {
    vec![
        fixture("templates/globals.yaml"),
        fixture("templates/secret/template.yaml"),
        fixture("templates/serve.yaml"),
        fixture("templates/events/template.yaml"),
        fixture("templates/tracing.yaml"),
        fixture("templates/inline.yaml"),
        fixture("templates/authorized/template.yaml"),
        root().join("examples/sam-app/template.yaml"),
    ]
}

/// `lambda-ci explain ID --template PATH --json`.
fn explained(template: &Path, id: &str) -> Value {
    let out = lambda_ci()
        .args(["explain", id, "--json", "--template"])
        .arg(template)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What AWS's own SAM transform makes of `template` (`sam_transform.py`, with `args`).
fn sam_transform(args: &[&str], template: &Path) -> Value {
    let out = Command::new("python3")
        .arg(fixture("templates/sam_transform.py"))
        .args(args)
        .arg(template)
        .output()
        .expect("python3 with aws-sam-translator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_test_templates_are_templates_cloudformation_accepts() {
    // E2533/W2531 date the runtimes: the stand-in images are python3.11's.
    let out = Command::new("cfn-lint")
        .args(["--ignore-checks", "E2533", "W2531", "--"])
        .args(templates())
        .output()
        .expect("cfn-lint (pip install cfn-lint)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sam_templates_are_read_as_aws_s_own_transform_reads_them() {
    let template = fixture("templates/globals.yaml");
    let transformed = sam_transform(&[], &template);
    let dir = template.parent().unwrap();
    let local = |v: &Value| -> String {
        let p = Path::new(v.as_str().unwrap());
        p.strip_prefix(dir).unwrap().display().to_string()
    };
    let functions = transformed.as_object().unwrap();
    assert_eq!(functions.len(), 2);
    for (id, theirs) in functions {
        let ours = &explained(&template, id)["function"];
        for key in [
            "runtime",
            "handler",
            "memory",
            "timeout",
            "environment",
            "architecture",
        ] {
            assert_eq!(ours[key], theirs[key], "{id}: {key}");
        }
        let layers: Vec<String> = ours["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(local)
            .collect();
        assert_eq!(
            serde_json::json!(layers),
            theirs["layers"],
            "{id}: layers, in order"
        );
        assert_eq!(local(&ours["code"]), theirs["code"], "{id}: code");
    }
}

#[test]
fn lambda_authorizers_are_read_as_aws_s_own_transform_reads_them_and_run() {
    let template = fixture("templates/authorized/template.yaml");
    let theirs = sam_transform(&["--authorizers"], &template);
    let ours = &explained(&template, "GuardedFunction")["function"]["http"];
    let routes = ours.as_array().unwrap();
    assert_eq!(routes.len(), theirs.as_object().unwrap().len(), "{ours:#}");
    for route in routes {
        let key = format!(
            "{} {}",
            route["method"].as_str().unwrap(),
            route["path"].as_str().unwrap()
        );
        assert_eq!(route["authorizer"], theirs[&key], "{key}");
    }
    // The suite's request cases go through them.
    passes(&fixture("templates/authorized/suite.yaml"), 5);
    // Served from the template, the authorizer is the template's own function, said once.
    let api_port = common::serve::free_port().to_string();
    let mut server = common::serve::Server::start(&[
        "--template",
        template.to_str().unwrap(),
        "--api-port",
        &api_port,
    ]);
    let curl = |token: &str| {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
            .arg(format!("Authorization: Bearer {token}"))
            .arg(format!("http://127.0.0.1:{api_port}/team/whoami"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(curl("allow"), "200", "{}", server.printed());
    assert_eq!(curl("deny"), "403", "{}", server.printed());
    assert!(
        !server.printed().contains("warning: function"),
        "{}",
        server.printed()
    );
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}

/// Runs the suites of `path`, which must all pass: `count` cases.
fn passes(path: &Path, count: usize) {
    let out = lambda_ci()
        .args(["run", "--pull", "never"])
        .arg(path)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{shown}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        shown.contains(&format!("{count} passed, 0 failed")),
        "{shown}"
    );
}

#[test]
fn explain_says_where_each_value_came_from() {
    let template = root().join("examples/sam-app/template.yaml");
    let doc = explained(&template, "GetOrderFunction");
    assert_eq!(doc["function"]["name"], "orders-get-dev");
    assert_eq!(doc["function"]["memory"], 256);
    assert_eq!(doc["origins"]["memory"], "Globals, line 23");
    assert_eq!(doc["origins"]["handler"], "the resource, line 48");
    assert_eq!(
        doc["origins"]["layers"],
        "Globals, then the resource (line 49)"
    );
    assert_eq!(doc["origins"]["ephemeral_storage"], "Lambda's default");
    // Each variable says where it came from: Globals, or the resource over them.
    assert_eq!(doc["origins"]["environment.STAGE"], "Globals, line 27");
    assert_eq!(
        doc["origins"]["environment.GREETING"],
        "the resource, line 52"
    );
    let out = lambda_ci()
        .args(["explain", "GetOrder", "--template"])
        .arg(&template)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("has no function `GetOrder`: did you mean `GetOrderFunction`? the template's functions: GetOrderFunction, ListOrdersFunction, CreateOrderFunction"),
        "{said}"
    );
}

#[test]
fn a_no_echo_parameter_passed_on_the_command_line_is_never_shown() {
    let suite = fixture("templates/secret/secret.yaml");
    // Without a value, the parameter is named at the template's line.
    let out = lambda_ci().args(["list"]).arg(&suite).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("template.yaml:22:18: environment variable `TOKEN`: `Ref ApiToken` cannot be resolved here: parameter `ApiToken` has no `Default` and no value was passed"), "{said}");
    let secret = "tok-7f3a9c2e51";
    let out = lambda_ci()
        .args(["run", "--pull", "never", "--parameter-overrides"])
        .arg(format!("ApiToken={secret} Stage=prod"))
        .arg(&suite)
        .output()
        .unwrap();
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("[redacted]"), "{shown}");
    assert!(!shown.contains(secret), "{shown}");
    // The other parameter was passed too: the stage matched.
    assert!(!shown.contains("\"dev\""), "{shown}");
    // `explain` shows the function's values, and not this one.
    let out = lambda_ci()
        .args(["explain", "Echo", "--template"])
        .arg(fixture("templates/secret"))
        .arg("--parameter-overrides")
        .arg(format!("ApiToken={secret}"))
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && shown.contains("TOKEN=[redacted]"),
        "{shown}"
    );
    assert!(!shown.contains(secret), "{shown}");
}

#[test]
fn list_shows_the_resource_and_the_template_it_came_from() {
    let out = lambda_ci()
        .current_dir(root())
        .args(["list", "cases/sam-orders.yaml"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "orders-get-dev::reads its configuration from the template\tcases/sam-orders.yaml:8\tGetOrderFunction in examples/sam-app/template.yaml\n\
         orders-get-dev::answers GET /orders/{id} through the template's REST API\tcases/sam-orders.yaml:24\tGetOrderFunction in examples/sam-app/template.yaml\n"
    );
}

const BOTO3: &str = r#"
import json, os, boto3
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url=os.environ["ENDPOINT"],
                   config=Config(read_timeout=30, retries={"max_attempts": 0}))
for name in ["Echo", "echo-fn", "arn:aws:lambda:us-east-1:123456789012:function:echo-fn", "Plain"]:
    r = lam.invoke(FunctionName=name, Payload=json.dumps({"n": name}))
    assert r["StatusCode"] == 200 and json.loads(r["Payload"].read()) == {"n": name}, (name, r)
try:
    lam.invoke(FunctionName="Imported", Payload=b"{}")
    raise SystemExit("Imported was served")
except lam.exceptions.ResourceNotFoundException:
    pass
print("boto3 ok")
"#;

#[test]
fn serve_template_answers_boto3_by_logical_id_and_function_name_and_names_what_it_cannot_serve() {
    // A copy, to change while it is served.
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("serve.yaml");
    std::fs::copy(fixture("templates/serve.yaml"), &template).unwrap();
    std::fs::create_dir(dir.path().join("code")).unwrap();
    std::fs::copy(
        fixture("templates/code/app.py"),
        dir.path().join("code/app.py"),
    )
    .unwrap();
    let mut server = common::serve::Server::start(&["--template", template.to_str().unwrap()]);
    assert!(common::serve::python(BOTO3, &server.url()).contains("boto3 ok"));
    // A change to the template reloads the functions it touched.
    let text = std::fs::read_to_string(&template).unwrap();
    let text = text.replace(
        "    Handler: app.handler\n",
        "    Handler: app.handler\n    MemorySize: 384\n",
    );
    assert!(text.contains("MemorySize: 384"), "{text}");
    std::fs::write(&template, text).unwrap();
    server.wait_for("serving the new version");
    let call = r#"
import json, os, boto3
lam = boto3.client("lambda", endpoint_url=os.environ["ENDPOINT"])
lam.invoke(FunctionName="Echo", Payload=b"{}")
print("called")
"#;
    common::serve::python(call, &server.url());
    server.wait_for("Memory Size: 384 MB");
    let printed = server.printed();
    assert!(
        printed.contains("warning: not serving `Imported`: ")
            && printed.contains("serve.yaml:28:18: environment variable `TABLE`: `Fn::ImportValue SharedTable` cannot be resolved here"),
        "{printed}"
    );
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}

#[test]
fn serve_template_refuses_two_functions_of_one_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("code")).unwrap();
    let text = "Resources:\n  A:\n    Type: AWS::Serverless::Function\n    Properties: {FunctionName: same, Runtime: python3.11, Handler: app.handler, CodeUri: code}\n  B:\n    Type: AWS::Serverless::Function\n    Properties: {FunctionName: same, Runtime: python3.11, Handler: app.handler, CodeUri: code}\n";
    std::fs::write(dir.path().join("template.yaml"), text).unwrap();
    std::fs::write(
        dir.path().join("code/app.py"),
        "def handler(e, c):\n    return e\n",
    )
    .unwrap();
    let out = lambda_ci()
        .env("TMPDIR", dir.path())
        .args(["serve", "--port", "0", "--template"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("`A` and `B` both have the FunctionName `same`"),
        "{said}"
    );
}

#[test]
fn init_template_writes_a_suite_per_function_whose_smoke_cases_pass() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    let out = lambda_ci()
        .args(["init", "--template"])
        .arg(fixture("templates/events"))
        .arg(&cases)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    // The function whose code is in S3 gets no suite, and the reason at its line.
    assert!(
        said.contains("warning: no suite for `Elsewhere`: ")
            && said.contains("template.yaml:51:16: the code of `Elsewhere` is in S3"),
        "{said}"
    );
    let mut written: Vec<String> = std::fs::read_dir(&cases)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["Consume.yaml", "GetItem.yaml", "Nightly.yaml"]);
    let api = std::fs::read_to_string(cases.join("GetItem.yaml")).unwrap();
    assert!(
        api.contains("request: {api: rest, method: GET, path: \"/items/1\"}"),
        "{api}"
    );
    // Each handler fails on any event but its source's: they pass as written.
    passes(&cases, 3);
}

/// Runs one suite per `(resource, expect)` of `template` with `TMPDIR` at `temp`, asserting
/// every case passed.
fn all_pass(template: &Path, cases: &[(&str, String)], temp: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let mut suites = Vec::new();
    for (resource, expect) in cases {
        let suite = dir.path().join(format!("{resource}.yaml"));
        let text = format!(
            "function:\n  template: {}\n  resource: {resource}\ncases:\n  - name: a\n    event: {{}}\n    expect:\n{expect}",
            template.display()
        );
        std::fs::write(&suite, text).unwrap();
        suites.push(suite);
    }
    let out = lambda_ci()
        .env("TMPDIR", temp)
        .args(["run", "--pull", "never"])
        .args(&suites)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{shown}{err}");
    assert!(
        shown.contains(&format!("{} passed, 0 failed", cases.len())),
        "{shown}"
    );
}

#[test]
fn active_tracing_gives_each_invocation_a_sampled_trace_header() {
    let temp = tempfile::tempdir().unwrap();
    let expect = |sampled: u8| {
        format!(
            "      assert:\n        - {{path: $, matches: \"^Root=1-[0-9a-f]{{8}}-[0-9a-f]{{24}};Parent=[0-9a-f]{{16}};Sampled={sampled}$\"}}\n"
        )
    };
    let cases = [
        ("Traced", expect(1)),
        ("TracedByConfig", expect(1)),
        ("Untraced", expect(0)),
    ];
    all_pass(&fixture("templates/tracing.yaml"), &cases, temp.path());
}

#[test]
fn inline_code_runs_from_a_directory_removed_after_the_run() {
    let temp = tempfile::tempdir().unwrap();
    let expect = |runtime: &str, file: &str| {
        format!("      response: {{inline: {runtime}, file: {file}}}\n")
    };
    let cases = [
        ("InlinePython", expect("python", "/var/task/index.py")),
        ("InlineNode", expect("node", "/var/task/index.js")),
    ];
    all_pass(&fixture("templates/inline.yaml"), &cases, temp.path());
    let left: Vec<_> = std::fs::read_dir(temp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}
