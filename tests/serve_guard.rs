//! End-to-end tests of who may call `lambda-ci serve`: web pages, rebinding hosts and callers
//! without the token are refused; idle and slow clients cannot hold it.

mod common;

use common::serve::*;
use common::*;

const HOSTILE: &str = r#"
import json, os, socket, time, urllib.request
from urllib.parse import urlparse
url = urlparse(os.environ["ENDPOINT"])
path = "/2015-03-31/functions/echo/invocations"
def call(headers):
    req = urllib.request.Request(os.environ["ENDPOINT"] + path, data=b'{"n": 1}', headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
# A page's no-cors fetch, a rebinding page's own Host, and a page's CORS call: refused.
status, body = call({"Origin": "https://evil.example", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "cross-site"})
assert status == 403 and b"--allow-origin" in body, (status, body)
status, body = call({"Host": "rebound.evil.example:" + str(url.port)})
assert status == 403, (status, body)
status, body = call({"Sec-Fetch-Mode": "navigate"})
assert status == 403, (status, body)
status, body = call({"Origin": "http://localhost:3000"})
assert status == 200 and json.loads(body) == {"n": 1}, (status, body)
# 500 idle connections and 50 that drip their headers a byte at a time.
idle = [socket.create_connection((url.hostname, url.port)) for _ in range(500)]
slow = [socket.create_connection((url.hostname, url.port)) for _ in range(50)]
for s in slow:
    s.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHo")
start = time.monotonic()
status, body = call({})
took = time.monotonic() - start
assert status == 200 and json.loads(body) == {"n": 1}, (status, body)
assert took < 1.0, took
print("guarded ok")
"#;

// Regression: serve answered any Host, Origin and Sec-Fetch-*, so a web page could invoke
// functions holding inherited credentials; idle and slow clients could hold it.
#[test]
fn web_pages_are_refused_and_idle_or_slow_clients_cannot_hold_the_server() {
    let (_dir, paths) = suites();
    let mut server = Server::start(&[
        paths[0].to_str().unwrap(),
        "--allow-origin",
        "http://localhost:3000",
        "--warm",
    ]);
    server.wait_for("echo ready");
    assert!(python(HOSTILE, &server.url()).contains("guarded ok"));
    let printed = server.printed();
    assert!(
        printed.contains("refused a request from a web page at https://evil.example"),
        "{printed}"
    );
    server.interrupt();
}

#[test]
fn a_host_beyond_loopback_needs_a_token_that_every_call_carries() {
    let err = refused(
        lambda_ci().args(["serve", "--host", "0.0.0.0", "--port", "1"]),
        2,
    );
    assert!(err.contains("give --token TOKEN"), "{err}");
    let (_dir, paths) = suites();
    let token = "t0ken-0123456789abcdef";
    let mut server = Server::start(&[paths[0].to_str().unwrap(), "--token", token]);
    let signed = |key: &str| {
        let script = format!(
            "import boto3, os\nlam = boto3.client('lambda', endpoint_url=os.environ['ENDPOINT'], aws_access_key_id='{key}', aws_secret_access_key='x', region_name='us-east-1')\ntry:\n    print(lam.invoke(FunctionName='echo', Payload=b'{{}}')['StatusCode'])\nexcept Exception as e:\n    print(type(e).__name__)\n"
        );
        python(&script, &server.url())
    };
    assert_eq!(signed(token).trim(), "200");
    assert_eq!(signed("someone-else").trim(), "ClientError");
    server.interrupt();
}
