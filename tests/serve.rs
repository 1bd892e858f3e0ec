//! End-to-end tests of `lambda-ci serve` with real clients: boto3 and the AWS CLI (PyPI) and
//! curl against the Invoke API, on the real engine with the stand-in images.

mod common;

use std::path::Path;
use std::process::Command;

use common::serve::*;
use common::*;

const BOTO3: &str = r#"
import base64, json, os, boto3
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url=os.environ["ENDPOINT"],
                   config=Config(read_timeout=30, retries={"max_attempts": 0}))
def call(**kw):
    r = lam.invoke(**kw)
    return r, r["Payload"].read()
for name in ["echo", "echo:live", "arn:aws:lambda:us-east-1:000000000000:function:echo",
             "000000000000:function:echo"]:
    r, body = call(FunctionName=name, Payload=json.dumps({"n": name}))
    assert r["StatusCode"] == 200 and json.loads(body) == {"n": name}, (name, r, body)
    assert "FunctionError" not in r and r["ExecutedVersion"] == "$LATEST", r
r, body = call(FunctionName="echo", Qualifier="$LATEST", Payload=b'{"q": 1}')
assert json.loads(body) == {"q": 1}
r, body = call(FunctionName="fail", Payload=json.dumps({"message": "no"}))
assert r["StatusCode"] == 200 and r["FunctionError"] == "Unhandled", r
assert json.loads(body)["errorMessage"] == "no", body
r, body = call(FunctionName="slow", Payload=json.dumps({"seconds": 3}))
doc = json.loads(body)
assert r["FunctionError"] == "Unhandled" and doc["errorType"] == "Sandbox.Timedout", (r, doc)
assert "Task timed out after 1.00 seconds" in doc["errorMessage"], doc
assert r["ResponseMetadata"]["RequestId"] in doc["errorMessage"], (r, doc)
try:
    lam.invoke(FunctionName="nope", Payload=b"{}")
    raise SystemExit("no error for a missing function")
except lam.exceptions.ResourceNotFoundException as e:
    assert "function:nope" in str(e), e
    assert "lambda-ci serves: echo, fail, slow" in str(e), e
try:
    lam.invoke(FunctionName="ecko", Payload=b"{}")
    raise SystemExit("no error for a missing function")
except lam.exceptions.ResourceNotFoundException as e:
    assert "did you mean `echo`?" in str(e), e
r, body = call(FunctionName="echo", Payload=b"{}", LogType="Tail")
log = base64.b64decode(r["LogResult"]).decode()
assert "REPORT RequestId: " + r["ResponseMetadata"]["RequestId"] in log, log
r = lam.invoke(FunctionName="echo", InvocationType="Event", Payload=b'{"async": true}')
assert r["StatusCode"] == 202, r
r = lam.invoke(FunctionName="echo", InvocationType="DryRun", Payload=b"{}")
assert r["StatusCode"] == 204, r
try:
    lam.invoke(FunctionName="echo", Payload=b"not json")
    raise SystemExit("no error for a body that is not JSON")
except lam.exceptions.InvalidRequestContentException:
    pass
ctx = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
r, body = call(FunctionName="echo", Payload=b"{}", ClientContext=ctx)
assert r["StatusCode"] == 200
print("boto3 ok")
"#;

#[test]
fn boto3_invokes_by_name_arn_and_qualifier_and_reads_errors_logs_and_types() {
    let (_dir, paths) = suites();
    let mut server = Server::start(&args(&paths));
    assert!(python(BOTO3, &server.url()).contains("boto3 ok"));
    // The Event call's outcome is printed once it ran.
    server.wait_for("(Event ");
    let printed = server.printed();
    assert!(
        printed.contains("200 Unhandled Sandbox.Timedout"),
        "{printed}"
    );
    assert!(printed.contains("echo | START RequestId: "), "{printed}");
    // Regression: a call to a function not served was answered but never said.
    assert!(
        printed.contains("warning: a call to `ecko`, which is not served; did you mean `echo`?"),
        "{printed}"
    );
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
    for suite in &paths {
        assert_eq!(containers_of(suite), Vec::<String>::new());
    }
}

#[test]
fn a_bad_client_context_is_refused_and_the_server_goes_on() {
    let (_dir, paths) = suites();
    let server = Server::start(&args(&paths[..1]));
    let call = |headers: &[&str]| {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"]);
        for h in headers {
            cmd.args(["-H", h]);
        }
        let url = format!("{}/2015-03-31/functions/echo/invocations", server.url());
        stdout(&cmd.args([&url, "-d", "{}"]).output().unwrap())
    };
    assert_eq!(call(&["X-Amz-Client-Context: %%%"]), "400");
    assert_eq!(call(&[]), "200");
}

#[test]
fn the_seed_curl_line_and_the_aws_cli_reach_one_function_given_by_flags() {
    let code = fixture("functions/py");
    let server = Server::start(&[
        "--runtime",
        "python3.11",
        "--handler",
        "app.echo",
        "--code",
        code.to_str().unwrap(),
    ]);
    let url = format!("{}/2015-03-31/functions/function/invocations", server.url());
    let out = Command::new("curl")
        .args(["-s", "-X", "POST", &url, "-d", r#"{"seed": true}"#])
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), r#"{"seed": true}"#);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.json");
    let out = Command::new("aws")
        .args(["lambda", "invoke", "--endpoint-url", &server.url()])
        .args(["--function-name", "function", "--payload", r#"{"cli": 1}"#])
        .arg(&file)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(
        stdout(&out).contains(r#""StatusCode": 200"#),
        "{}",
        stdout(&out)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), r#"{"cli": 1}"#);
}

const CONCURRENT: &str = r#"
import json, os, threading, boto3
from botocore.config import Config
lam = boto3.client("lambda", endpoint_url=os.environ["ENDPOINT"],
                   config=Config(read_timeout=60, retries={"max_attempts": 0}, max_pool_connections=20))
results = {}
def one(i):
    r = lam.invoke(FunctionName="echo", Payload=json.dumps({"i": i}))
    results[i] = (r["StatusCode"], "FunctionError" in r, json.loads(r["Payload"].read()))
threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
[t.start() for t in threads]
[t.join() for t in threads]
assert sorted(results) == list(range(10)), results
for i, (status, failed, body) in results.items():
    assert status == 200 and not failed and body == {"i": i}, (i, status, failed, body)
print("concurrent ok")
"#;

/// Each container's log shows one invocation at a time, and no RIE panic.
fn assert_one_call_at_a_time(containers: &[String]) {
    for id in containers {
        let log = Command::new("docker").args(["logs", id]).output().unwrap();
        let text = format!("{}{}", stdout(&log), stderr(&log));
        assert!(alternates(&text), "{text}");
        assert!(!text.contains("panic"), "{text}");
    }
}

/// The START and END lines of a container's log alternate strictly: one invocation at a time.
fn alternates(log: &str) -> bool {
    let marks: Vec<&str> = log
        .lines()
        .filter_map(|l| {
            l.starts_with("START RequestId")
                .then_some("S")
                .or(l.starts_with("END RequestId").then_some("E"))
        })
        .collect();
    marks.chunks(2).all(|pair| pair == ["S", "E"])
}

#[test]
fn ten_concurrent_callers_on_two_containers_are_all_answered_one_at_a_time_each() {
    let (_dir, paths) = suites();
    let server = Server::start(&args(&paths[..1]));
    assert!(python(CONCURRENT, &server.url()).contains("concurrent ok"));
    let containers = containers_of(&paths[0]);
    assert!(
        !containers.is_empty() && containers.len() <= 2,
        "{containers:?}"
    );
    assert_one_call_at_a_time(&containers);
}

#[test]
fn a_retried_call_is_reported_as_a_second_run_of_the_handler() {
    let (_dir, paths) = suites();
    let server = Server::start(&args(&paths[..1]));
    let url = format!("{}/2015-03-31/functions/echo/invocations", server.url());
    for attempt in [1, 2] {
        let out = Command::new("curl")
            .args(["-s", "-X", "POST", &url, "-d", "{}"])
            .args([
                "-H",
                "amz-sdk-invocation-id: 4f9c3a52-0000-4000-8000-000000000001",
            ])
            .args(["-H", &format!("amz-sdk-request: attempt={attempt}; max=5")])
            .output()
            .unwrap();
        assert_eq!(stdout(&out), "{}");
    }
    server.wait_for("the SDK retried call 4f9c3a52-0000-4000-8000-000000000001 (attempt 2)");
}

#[test]
fn a_port_in_use_is_an_error_naming_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = lambda_ci()
        .args(["serve", "--port", &port])
        .arg(fixture("pass.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--port"), "{}", stderr(&out));
    assert!(containers_of(Path::new(&fixture("pass.yaml"))).is_empty());
}

const LOAD: &str = r#"
import http.client, json, os, socket, threading
from urllib.parse import urlparse
url = urlparse(os.environ["ENDPOINT"])
path = "/2015-03-31/functions/echo/invocations"
answers, errors = {}, []
lock = threading.Lock()
def client(c):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    for k in range(20):
        i = c * 20 + k
        conn.request("POST", path, json.dumps({"id": i}))
        r = conn.getresponse()
        body = r.read()
        with lock:
            if r.status != 200 or r.getheader("X-Amz-Function-Error"):
                errors.append((i, r.status, body))
            answers.setdefault(i, []).append(json.loads(body))
def walk_away():
    # Calls whose clients go before the answer comes: they must not wedge the queue.
    for _ in range(5):
        s = socket.create_connection((url.hostname, url.port))
        body = json.dumps({"id": -1}).encode()
        s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body)
        s.close()
threads = [threading.Thread(target=client, args=(c,)) for c in range(50)]
threads.append(threading.Thread(target=walk_away))
[t.start() for t in threads]
[t.join() for t in threads]
assert not errors, errors[:5]
assert sorted(answers) == list(range(1000)), len(answers)
for i, got in answers.items():
    assert got == [{"id": i}], (i, got)
print("load ok")
"#;

#[test]
fn a_thousand_calls_from_fifty_clients_are_each_answered_once_with_their_own_response() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("echo.yaml");
    std::fs::write(
        &suite,
        format!(
            "function:\n  name: echo\n  runtime: python3.11\n  handler: app.echo\n  code: {}\nconcurrency: 4\ncases:\n  - name: a\n    event: {{}}\n",
            fixture("functions/py").display()
        ),
    )
    .unwrap();
    let mut server = Server::start(&[suite.to_str().unwrap()]);
    assert!(python(LOAD, &server.url()).contains("load ok"));
    let containers = containers_of(&suite);
    assert!(
        !containers.is_empty() && containers.len() <= 4,
        "{containers:?}"
    );
    assert_one_call_at_a_time(&containers);
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
    assert!(containers_of(&suite).is_empty());
}

// Regression: serve printed the function's log lines as written, secrets and all.
#[test]
fn what_serve_prints_never_shows_an_inherited_secret() {
    let secret = "caller-secret-key-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("leaky.yaml");
    std::fs::write(
        &suite,
        format!(
            "function:\n  name: leaky\n  runtime: python3.11\n  handler: app.leak\n  code: {}\n  aws_credentials: inherit\ncases:\n  - name: a\n    event: {{}}\n",
            fixture("functions/py").display()
        ),
    )
    .unwrap();
    let port = free_port();
    let temp = tempfile::tempdir().unwrap();
    let mut cmd = lambda_ci();
    cmd.args(["serve", "--pull", "never", "--port", &port.to_string()])
        .arg(&suite)
        .env("TMPDIR", temp.path())
        .env("AWS_ACCESS_KEY_ID", "caller-access-key-id-42")
        .env("AWS_SECRET_ACCESS_KEY", secret);
    let mut server = Server {
        process: Background::start(cmd),
        port,
        temp,
    };
    server.wait_for("serving ");
    let url = format!("{}/2015-03-31/functions/leaky/invocations", server.url());
    // The caller gets the function's answer as it is: only what is printed is redacted.
    let (code, body) = curl_call(&url, "{}");
    assert_eq!(code, "200");
    assert!(body.contains("isBase64Encoded"), "{body}");
    server.wait_for("leaky | raw: [redacted]");
    assert_eq!(server.interrupt(), Some(0));
    let printed = server.printed();
    assert!(!printed.contains(secret), "{printed}");
}

#[test]
fn a_process_left_running_does_not_run_between_calls() {
    let dir = tempfile::tempdir().unwrap();
    let suite = write_suite(
        dir.path(),
        "orphan",
        ("python3.11", &fixture("functions/py")),
        "  handler: app.orphan\n",
        "  - name: forks\n",
    );
    let server = Server::start(&[suite.to_str().unwrap()]);
    let url = format!("{}/2015-03-31/functions/orphan/invocations", server.url());
    // The child prints ten lines 100 ms apart; between the two calls it has 1.5 s to print them
    // all, unless it is frozen as Lambda freezes the execution environment.
    let (code, _) = curl_call(&url, r#"{"fork": true}"#);
    assert_eq!(code, "200");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let idle = server.process.count("orphan line");
    assert!(idle <= 2, "it ran between the calls:\n{}", server.printed());
    let (code, _) = curl_call(&url, r#"{"fork": false, "wait": 0.5}"#);
    assert_eq!(code, "200");
    server.wait_for("an earlier invocation left running resume");
    let during = server.process.count("orphan line");
    assert!(
        during > idle,
        "it did not resume in the next call:\n{}",
        server.printed()
    );
    assert!(
        server
            .printed()
            .contains("lambda-ci: the handler left 1 process running after its response")
    );
}

// Regression: serve's own lines went to stdout and its load warnings to stderr, so with both
// redirected to one file they came out of order; every line of the server is on stdout now.
#[test]
fn the_servers_warnings_come_on_its_one_stream_in_order() {
    let (dir, paths) = suites();
    let again = dir.path().join("echo-again.yaml");
    std::fs::copy(&paths[0], &again).unwrap();
    let port = free_port().to_string();
    let mut child = lambda_ci()
        .args(["serve", "--pull", "never", "--port", &port])
        .arg(&paths[0])
        .arg(&again)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout_lines =
        std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let mut seen = Vec::new();
    for line in stdout_lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("serving ");
        seen.push(line);
        if done {
            break;
        }
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let warned = seen
        .iter()
        .position(|l| l.starts_with("warning: function echo is declared in "));
    let serving = seen.iter().position(|l| l.starts_with("serving "));
    assert!(warned.is_some() && warned < serving, "{seen:?}");
    assert!(!err.contains("is declared in"), "{err}");
}
