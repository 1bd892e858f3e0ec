//! End to end, `run --target`: the suites' functions invoked through an Invoke API endpoint —
//! a `lambda-ci serve` of the same suites — instead of booted: the same verdicts and log
//! checks, a changed expectation failing, a function the target does not have and a target
//! that does not answer said as what they are.

mod common;

use std::path::Path;

use common::serve::{Server, free_port};
use common::*;

fn suites(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let code = fixture("functions/py");
    let says = write_suite(
        dir,
        "targeted",
        ("python3.11", &code),
        "  handler: app.say\n",
        "  - name: answers and logs\n    event: {print: [hello from the target], return: {ok: true}}\n    expect:\n      response: {ok: true}\n      logs: {contains: hello from the target}\n\
         \x20 - name: answers text\n    event: {return: plain}\n    expect: {response: plain}\n",
    );
    let fails = write_suite(
        dir,
        "failing",
        ("python3.11", &code),
        "  handler: app.fail\n",
        "  - name: raises\n    event: {message: nope}\n    expect:\n      error: {type: ValueError, message: nope}\n",
    );
    (says, fails)
}

#[test]
fn suites_run_against_a_serve_kept_open_with_the_same_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let (says, fails) = suites(dir.path());
    let mut server = Server::start(&[says.to_str().unwrap(), fails.to_str().unwrap()]);
    let target = server.url();
    let out = run(&[says.clone(), fails.clone()], &["--target", &target]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert_summary(&text, "3 passed, 0 failed");

    // An expectation the deployed function does not meet fails, as it would locally.
    let changed = dir.path().join("changed.yaml");
    let text = std::fs::read_to_string(&says)
        .unwrap()
        .replace("{ok: true}}", "{ok: false}}");
    std::fs::write(&changed, text).unwrap();
    let out = run(std::slice::from_ref(&changed), &["--target", &target]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL  answers and logs"), "{text}");

    // A function the target does not have is the service's own 404, named.
    let missing = write_suite(
        dir.path(),
        "nobody",
        ("python3.11", &fixture("functions/py")),
        "  handler: app.echo\n",
        "  - name: echoes\n    event: {a: 1}\n",
    );
    let out = run(std::slice::from_ref(&missing), &["--target", &target]);
    let text = stdout(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("ResourceNotFoundException"), "{text}");
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());

    // A target that does not answer is an error of the run, not a failing function.
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let out = run(std::slice::from_ref(&says), &["--target", &nowhere]);
    let text = stdout(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("the target {nowhere} did not answer")),
        "{text}"
    );

    let out = run(
        std::slice::from_ref(&says),
        &["--target", "https://example.com"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("https:// target is not supported yet"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_example_suites_pass_against_a_serve_of_themselves() {
    let cases = root().join("cases");
    let mut server = Server::start(&[cases.to_str().unwrap(), "--api-port", "0"]);
    let out = run(std::slice::from_ref(&cases), &["--target", &server.url()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains(" passed, 0 failed"), "{text}");
    // Nothing was booted by the run: every function (authorizers too) was called there.
    assert!(!stderr(&out).contains("booting"), "{}", stderr(&out));
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}

/// A proxy in front of an Invoke API that checks each call's SigV4 signature with botocore's
/// own signer (the same keys, the call's own time and signed headers) and refuses a wrong one
/// with 403, as the service does.
const SIGNATURE_PROXY: &str = r#"
import http.server, os, urllib.error, urllib.request
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
UPSTREAM, KEYS = os.environ["UPSTREAM"], Credentials(os.environ["KEY_ID"], os.environ["SECRET"])
class Proxy(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        auth = self.headers.get("authorization", "")
        try:
            signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
            presented = auth.split("Signature=")[1].strip()
            region = auth.split("Credential=")[1].split("/")[2]
        except IndexError:
            return self.answer(403, b'{"message":"Missing Authentication Token"}', {})
        request = AWSRequest(method="POST", url="http://" + self.headers["host"] + self.path, data=body,
                             headers={h: self.headers[h] for h in signed if h != "x-amz-date"})
        request.context["timestamp"] = self.headers["x-amz-date"]
        request.headers["X-Amz-Date"] = self.headers["x-amz-date"]
        signer = SigV4Auth(KEYS, "lambda", region)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if expected != presented:
            return self.answer(403, b'{"message":"The request signature we calculated does not match"}', {})
        forwarded = urllib.request.Request(UPSTREAM + self.path, data=body, method="POST",
                                           headers={"X-Amz-Log-Type": self.headers.get("x-amz-log-type", "None")})
        try:
            r = urllib.request.urlopen(forwarded)
        except urllib.error.HTTPError as e:
            r = e
        self.answer(r.status, r.read(), {k: v for k, v in r.headers.items() if k.lower().startswith("x-amz")})
    def answer(self, status, body, headers):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Proxy)
print("listening", flush=True)
server.serve_forever()
"#;

#[test]
fn sign_signs_each_call_as_botocore_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let (says, _) = suites(dir.path());
    let mut server = Server::start(&[says.to_str().unwrap()]);
    let port = free_port();
    let mut proxy = std::process::Command::new("python3");
    proxy
        .args(["-c", SIGNATURE_PROXY])
        .env("UPSTREAM", server.url())
        .env("PORT", port.to_string())
        .env("KEY_ID", "AKIDTARGET")
        .env("SECRET", "target-secret");
    let proxy = Background::start(proxy);
    proxy.wait_for("listening");
    let target = format!("http://127.0.0.1:{port}");
    let with_keys = |secret: &str, args: &[&str]| {
        let mut cmd = lambda_ci();
        cmd.args(["run", "--pull", "never"])
            .arg(&says)
            .args(args)
            .env("AWS_ACCESS_KEY_ID", "AKIDTARGET")
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_REGION", "eu-west-1")
            .env_remove("AWS_SESSION_TOKEN");
        cmd.output().unwrap()
    };
    let out = with_keys("target-secret", &["--target", &target, "--sign"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert_summary(&text, "2 passed, 0 failed");
    // Unsigned, or signed with another secret, the calls are refused.
    for args in [
        vec!["--target", &target],
        vec!["--target", &target, "--sign"],
    ] {
        let secret = if args.len() == 3 {
            "wrong"
        } else {
            "target-secret"
        };
        let out = with_keys(secret, &args);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        assert!(text.contains("403"), "{args:?}: {text}");
    }
    // No credentials to sign with: said before anything runs.
    let out = lambda_ci()
        .args(["run", "--pull", "never"])
        .arg(&says)
        .args(["--target", &target, "--sign"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--sign signs with the environment's AWS credentials"),
        "{}",
        stderr(&out)
    );
    drop(proxy);
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}
