//! End to end, a real CDK app (aws-cdk-lib from PyPI on the machine's Node.js) synthesised into
//! a cloud assembly: suites name its functions by construct path, send requests through the
//! REST API, HTTP API and function URL the app puts in front of one, and `serve --template
//! cdk.out` answers boto3.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, lambda_ci};

/// Synthesises tests/fixtures/cdk into `dir/cdk.out`, as `cdk synth` would (its context turns
/// on the path and asset metadata).
fn synth(dir: &Path) -> PathBuf {
    let out = dir.join("cdk.out");
    let done = Command::new("python3")
        .arg("app.py")
        .current_dir(fixture("cdk"))
        .env("CDK_OUTDIR", &out)
        .env("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
        .env(
            "CDK_CONTEXT_JSON",
            r#"{"aws:cdk:enable-path-metadata": true, "aws:cdk:enable-asset-metadata": true}"#,
        )
        .output()
        .expect("python3 with aws-cdk-lib (pip install aws-cdk-lib)");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    out
}

#[test]
fn suites_name_cdk_functions_by_construct_path_and_serve_answers_boto3() {
    let dir = tempfile::tempdir().unwrap();
    let assembly = synth(dir.path());
    let suite = dir.path().join("orders.yaml");
    let text = format!(
        "function:\n  template: {}\n  resource: OrdersStack/GetOrder\ncases:\n  - name: top\n    event: {{}}\n    expect:\n      response: {{where: top, memory: 256, layer: true}}\n",
        assembly.display()
    );
    std::fs::write(&suite, text).unwrap();
    let nested = dir.path().join("nested.yaml");
    let text = format!(
        "function:\n  template: {}\n  resource: OrdersStack/Nested/Deep\ncases:\n  - name: nested\n    event: {{}}\n    expect:\n      response: {{where: nested, memory: 128, layer: false}}\n",
        assembly.display()
    );
    std::fs::write(&nested, text).unwrap();
    // Routes read from CDK's AWS::ApiGateway::Method and Resource chain (LambdaRestApi's
    // proxy and root), AWS::ApiGatewayV2::Route and Integration, and AWS::Lambda::Url.
    let front = dir.path().join("front.yaml");
    let text = format!(
        r#"function:
  template: {}
  resource: OrdersStack/Front
cases:
  - name: rest proxy
    request: {{api: rest, path: /orders/7}}
    expect: {{status: 200, body: {{door: rest, path: /orders/7, stage: prod}}}}
  - name: rest root
    request: {{api: rest, method: POST, path: /}}
    expect: {{status: 200, body: {{door: rest, path: /, stage: prod}}}}
  - name: http route
    request: {{api: http, path: /items/3}}
    expect: {{status: 200, body: {{door: http, path: /items/3, stage: $default}}}}
  - name: function url
    request: {{api: url, path: /x}}
    expect: {{status: 200, body: {{door: url, path: /x, stage: $default}}}}
  - name: a token authorizer allows
    request: {{api: rest, path: /team, headers: {{Authorization: allow}}}}
    expect: {{status: 200, body: {{door: rest, path: /team, stage: prod}}}}
  - name: and denies
    request: {{api: rest, path: /team, headers: {{Authorization: nope}}}}
    expect: {{status: 403}}
  - name: an HTTP API's simple authorizer lets the secret in
    request: {{api: http, path: /members, headers: {{Authorization: secret}}}}
    expect: {{status: 200, body: {{door: http, path: /members, stage: $default}}}}
  - name: and no one else
    request: {{api: http, path: /members, headers: {{Authorization: guess}}}}
    expect: {{status: 403}}
"#,
        assembly.display()
    );
    std::fs::write(&front, text).unwrap();
    let out = lambda_ci()
        .args(["run", "--pull", "never"])
        .arg(&suite)
        .arg(&nested)
        .arg(&front)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("10 passed, 0 failed"), "{said}");

    // The whole assembly served: each function by its logical id.
    let mut server = common::serve::Server::start(&["--template", assembly.to_str().unwrap()]);
    let script = r#"
import glob, json, os, boto3
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url=os.environ["ENDPOINT"],
                   config=Config(read_timeout=30, retries={"max_attempts": 0}))
ids = {}
for path in glob.glob(os.environ["ASSEMBLY"] + "/*.template.json"):
    for rid, r in json.load(open(path))["Resources"].items():
        if r["Type"] == "AWS::Lambda::Function":
            ids[r["Metadata"]["aws:cdk:path"]] = rid
for path, where in [("OrdersStack/GetOrder/Resource", "top"), ("OrdersStack/Nested/Deep/Resource", "nested")]:
    r = lam.invoke(FunctionName=ids[path], Payload=b"{}")
    assert json.loads(r["Payload"].read())["where"] == where, path
print("boto3 ok")
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .env("ENDPOINT", server.url())
        .env("ASSEMBLY", &assembly)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("boto3 ok"),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        server.printed()
    );
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}
