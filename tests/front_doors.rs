//! End to end, `serve`'s front doors with real HTTP clients (Python's `requests`, curl): API
//! Gateway routes on `--api-port` and a function URL on its own port, answering as each
//! front door does.

mod common;

use common::serve::{Server, free_port};
use common::{fixture, root};

const CLIENT: &str = r#"
import os, requests
api, url = os.environ["API"], os.environ["URL"]

# A REST API: path parameters, the last of repeated query values, cookies both ways.
r = requests.get(api + "/orders/42?expand=items&expand=more", cookies={"a": "1", "b": "2"})
assert r.status_code == 200, (r.status_code, r.text)
assert r.json() == {"door": "rest", "id": "42", "query": {"expand": "more"}, "cookies": ["a=1", "b=2"]}, r.text
assert r.headers["set-cookie"] == "seen=1; Path=/", r.headers
assert "x-amzn-requestid" in r.headers and "x-amz-apigw-id" in r.headers, r.headers

# An HTTP API: a greedy path, repeated query values joined, cookies to Set-Cookie.
r = requests.get(api + "/items/a/b?tag=x&tag=y", cookies={"theme": "dark"})
assert r.json() == {"door": "http", "id": None, "query": {"tag": "x,y"}, "cookies": ["theme=dark"]}, r.text
assert r.headers["set-cookie"] == "seen=1; Path=/" and "apigw-requestid" in r.headers, r.headers

# Binary both ways: an upload reaches the function base64-encoded; a REST API sends bytes
# only to a client whose Accept names one of its binary media types.
r = requests.post(api + "/items/echo", data=bytes([0, 1, 2, 255]),
                  headers={"content-type": "application/octet-stream"})
assert r.json() == {"base64": True, "bytes": 4}, r.text
r = requests.get(api + "/files/pixel", headers={"accept": "image/png"})
assert r.content == bytes([0x89, 0x50, 0x4E, 0x47]) and r.headers["content-type"] == "image/png"
assert requests.get(api + "/files/pixel", headers={"accept": "text/html"}).text == "iVBORw=="

# What the function answers that is not a proxy response, and the front doors' own errors.
assert requests.get(api + "/items/plain").json() == {"door": "http", "plain": True}
r = requests.get(api + "/files/malformed")
assert (r.status_code, r.json()) == (502, {"message": "Internal server error"}), r.text
r = requests.get(api + "/items/boom")
assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"}), r.text
r = requests.get(api + "/nowhere")
assert (r.status_code, r.json()) == (404, {"message": "Not Found"}), r.text

# CORS, as the HTTP API is configured: a preflight answered without the function, the
# configured headers on a response to an allowed origin; another origin is refused.
app = "https://app.example.com"
r = requests.options(api + "/items/x", headers={"Origin": app, "Access-Control-Request-Method": "POST"})
assert r.status_code == 204 and r.headers["access-control-allow-origin"] == app, (r.status_code, r.headers)
assert r.headers["access-control-allow-methods"] == "GET,POST" and r.headers["access-control-max-age"] == "600"
r = requests.get(api + "/items/plain", headers={"Origin": app})
assert r.headers["access-control-allow-origin"] == app, r.headers
assert requests.get(api + "/items/plain", headers={"Origin": "https://evil.example"}).status_code == 403

# The function URL takes every method and path.
r = requests.delete(url + "/any/path?x=1")
assert r.status_code == 200 and r.json()["door"] == "url", r.text
r = requests.get(url + "/boom")
assert (r.status_code, r.text) == (502, "Internal Server Error"), r.text
print("front doors ok")
"#;

#[test]
fn routes_and_a_function_url_answer_real_clients_as_each_front_door_does() {
    let suite = fixture("front-doors/serve.yaml");
    let api_port = free_port();
    let mut server = Server::start(&[suite.to_str().unwrap(), "--api-port", &api_port.to_string()]);
    let url_port = server.printed_port("function URL");
    let out = std::process::Command::new("python3")
        .args(["-c", CLIENT])
        .env("API", format!("http://127.0.0.1:{api_port}"))
        .env("URL", format!("http://127.0.0.1:{url_port}"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("front doors ok"),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        server.printed()
    );
    // Each call's line shows the route it reached.
    let printed = server.printed();
    assert!(
        printed.contains("GET /orders/42 → GET /orders/{id} (REST API) 200"),
        "{printed}"
    );
    assert!(
        printed.contains("GET /items/boom → ANY /items/{proxy+} (HTTP API) 500"),
        "{printed}"
    );
    // The preflight never reached the function.
    assert!(
        printed.contains("OPTIONS /items/x → ANY /items/{proxy+} (HTTP API) 204 (the HTTP API answers a CORS preflight itself)"),
        "{printed}"
    );
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}

#[test]
fn a_templates_rest_api_answers_curl_and_refuses_what_it_has_no_route_for() {
    let api_port = free_port();
    let suite = root().join("cases/sam-orders.yaml");
    let mut server = Server::start(&[suite.to_str().unwrap(), "--api-port", &api_port.to_string()]);
    let curl = |path: &str| {
        let out = std::process::Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}"])
            .arg(format!("http://127.0.0.1:{api_port}{path}"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let found = curl("/orders/42");
    assert!(found.ends_with("\n200"), "{found}");
    assert!(found.contains(r#""id": "42""#), "{found}");
    // A REST API answers a path it has no route for with 403.
    assert_eq!(
        curl("/nowhere"),
        "{\"message\":\"Missing Authentication Token\"}\n403"
    );
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}

/// Makes a fresh RSA key pair, the issuer's JWKS file, and tokens: a good one, an expired
/// one, one without the route's scope. Prints each token on a line of its own.
const TOKENS: &str = r#"
import base64, json, os, sys, time, jwt
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pub = key.public_key().public_numbers()
b64 = lambda n: base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
jwks = {"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": b64(pub.n), "e": b64(pub.e)}]}
open(os.path.join(sys.argv[1], "jwks.json"), "w").write(json.dumps(jwks))
now = int(time.time())
def sign(**claims):
    base = {"iss": "https://issuer.example", "aud": "app", "sub": "user-1", "exp": now + 600,
            "scope": "orders/read"}
    base.update(claims)
    return jwt.encode(base, key, algorithm="RS256", headers={"kid": "k1"})
print(sign())
print(sign(exp=now - 10))
print(sign(scope="profile"))
"#;

#[test]
fn a_jwt_authorizer_passes_valid_tokens_claims_on_and_refuses_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("python3")
        .args(["-c", TOKENS])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let text = String::from_utf8_lossy(&made.stdout).into_owned();
    let tokens: Vec<&str> = text.lines().collect();
    let (good, expired, unscoped) = (tokens[0], tokens[1], tokens[2]);
    let code = root().join("examples/front-doors");
    let suite = dir.path().join("jwt.yaml");
    std::fs::write(
        &suite,
        format!(
            r#"function:
  name: jwt
  runtime: python3.11
  handler: app.handler
  code: {code}
  http:
    - api: http
      path: "/{{proxy+}}"
      authorizer: {{issuer: "https://issuer.example", audience: [app], jwks: jwks.json, scopes: [orders/read]}}
cases:
  - name: a valid token reaches the function with its claims
    request: {{path: /whoami, headers: {{authorization: "Bearer {good}"}}}}
    expect:
      status: 200
      body_contains: {{authorizer: {{jwt: {{claims: {{sub: user-1, iss: "https://issuer.example"}}, scopes: [orders/read]}}}}}}
  - name: an expired token is refused
    request: {{path: /whoami, headers: {{authorization: "Bearer {expired}"}}}}
    expect: {{status: 401, body: {{message: Unauthorized}}}}
  - name: no token is refused
    request: {{path: /whoami}}
    expect: {{status: 401}}
  - name: a token without the route's scope is forbidden
    request: {{path: /whoami, headers: {{authorization: "Bearer {unscoped}"}}}}
    expect: {{status: 403, body: {{message: Forbidden}}}}
  - name: an injected identity skips the authorizer
    authorizer: {{context: {{sub: someone}}}}
    request: {{path: /whoami}}
    expect: {{status: 200, body_contains: {{authorizer: {{jwt: {{claims: {{sub: someone}}}}}}}}}}
"#,
            code = code.display()
        ),
    )
    .unwrap();
    let out = common::lambda_ci()
        .args(["run", "--pull", "never"])
        .arg(&suite)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("5 passed, 0 failed"), "{said}");
    assert!(said.contains("injects its identity"), "{said}");
    // serve runs the same authorizer in front of the function.
    let api_port = free_port();
    let mut server = Server::start(&[suite.to_str().unwrap(), "--api-port", &api_port.to_string()]);
    let status = |token: &str| {
        let out = std::process::Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
            .arg(format!("Authorization: Bearer {token}"))
            .arg(format!("http://127.0.0.1:{api_port}/whoami"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(status(good), "200");
    assert_eq!(status(expired), "401");
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}

/// A client of the Lambda authorizers of `cases/authorizers.yaml`, served.
const AUTHORIZED_CLIENT: &str = r#"
import os, requests
api = os.environ["API"]
def get(path, method="GET", **headers):
    return requests.request(method, api + path, headers=headers)
r = get("/team/whoami", Authorization="Bearer allow")
assert r.status_code == 200, r.text
assert r.json()["authorizer"]["user"] == "alice" and r.json()["authorizer"]["calls"] == "1", r.text
# The same token again: the answer comes from the authorizer's cache.
r = get("/team/whoami", "POST", Authorization="Bearer allow")
assert r.status_code == 200 and r.json()["authorizer"]["calls"] == "1", r.text
r = get("/team/whoami", Authorization="Bearer deny")
assert r.status_code == 403 and "explicit deny" in r.json()["Message"], r.text
r = get("/team/whoami", "POST", Authorization="Bearer reader")
assert r.status_code == 403, r.text
r = get("/team/whoami")
assert r.status_code == 401 and r.json() == {"message": "Unauthorized"}, r.text
r = get("/team/whoami", Authorization="Bearer broken")
assert r.status_code == 500 and r.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException", r.text
r = get("/members/whoami", Authorization="secret")
assert r.status_code == 200 and r.json()["authorizer"] == {"lambda": {"user": "bob", "calls": 1}}, r.text
r = get("/members/whoami", Authorization="guess")
assert r.status_code == 403 and r.json() == {"message": "Forbidden"}, r.text
print("authorizers ok")
"#;

#[test]
fn served_lambda_authorizers_allow_deny_cache_and_pass_their_context_on() {
    let suite = root().join("cases/authorizers.yaml");
    let api_port = free_port();
    let mut server = Server::start(&[suite.to_str().unwrap(), "--api-port", &api_port.to_string()]);
    let out = std::process::Command::new("python3")
        .args(["-c", AUTHORIZED_CLIENT])
        .env("API", format!("http://127.0.0.1:{api_port}"))
        .output()
        .unwrap();
    let printed = server.printed();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("authorizers ok"),
        "{}{printed}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The authorizer's calls are said on its own lines; a refusal says why.
    assert!(
        printed.contains("authorizer for ANY /team/{proxy+} (REST API) answered"),
        "{printed}"
    );
    assert!(
        printed.contains("403 (its Lambda authorizer's policy denies the method)"),
        "{printed}"
    );
    assert_eq!(server.interrupt(), Some(0), "{printed}");
}

/// Requests to an `AWS_IAM` function URL signed by botocore's own SigV4 signer (and one
/// unsigned, one signed with another secret).
const SIGNED_CLIENT: &str = r#"
import os, requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url = os.environ["URL"] + "/whoami?tag=a&b=%2F2"
def signed(secret):
    request = AWSRequest(method="POST", url=url, data=b'{"n": 1}', headers={"content-type": "application/json"})
    SigV4Auth(Credentials("AKIDLAMBDACI", secret), "lambda", "us-east-1").add_auth(request)
    return requests.post(url, data=request.body, headers=dict(request.headers))
r = signed("the-secret")
assert r.status_code == 200, r.text
assert r.json()["authorizer"]["iam"]["accessKey"] == "AKIDLAMBDACI", r.text
r = signed("another-secret")
assert r.status_code == 403 and r.json() == {"Message": "Forbidden"}, r.text
r = requests.post(url, data=b"{}")
assert r.status_code == 403, r.text
print("signed ok")
"#;

#[test]
fn an_aws_iam_function_url_takes_requests_signed_with_lambda_cis_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let code = root().join("examples/front-doors");
    let suite = dir.path().join("iam.yaml");
    std::fs::write(
        &suite,
        format!(
            r#"function:
  name: iam
  runtime: python3.11
  handler: app.handler
  code: {code}
  http:
    - {{api: url, auth: AWS_IAM}}
cases:
  - name: lambda-ci signs the request and the function is told who called
    request: {{path: /whoami}}
    expect:
      status: 200
      body_contains: {{authorizer: {{iam: {{accessKey: AKIDLAMBDACI, accountId: "123456789012"}}}}}}
  - name: a signature by other keys is refused
    request:
      path: /whoami
      headers: {{authorization: "AWS4-HMAC-SHA256 Credential=AKIDOTHER/20261207/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"}}
    expect:
      status: 403
      body: {{Message: Forbidden}}
"#,
            code = code.display()
        ),
    )
    .unwrap();
    let with_keys = |mut cmd: std::process::Command| {
        cmd.env("AWS_ACCESS_KEY_ID", "AKIDLAMBDACI")
            .env("AWS_SECRET_ACCESS_KEY", "the-secret")
            .env_remove("AWS_SESSION_TOKEN");
        cmd
    };
    let out = with_keys(common::lambda_ci())
        .args(["run", "--pull", "never"])
        .arg(&suite)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("2 passed, 0 failed"), "{text}");

    let mut cmd = with_keys(common::lambda_ci());
    cmd.args([
        "serve",
        "--pull",
        "never",
        "--port",
        &free_port().to_string(),
    ])
    .args(["--api-port", "0"])
    .arg(&suite);
    let mut server = common::Background::start(cmd);
    server.wait_for("serving ");
    let printed = server.printed();
    let line = printed
        .lines()
        .find(|l| l.contains("function URL"))
        .unwrap();
    let port = line
        .split("127.0.0.1:")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", SIGNED_CLIENT])
        .env("URL", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("signed ok"),
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        server.printed()
    );
    assert!(
        server
            .printed()
            .contains("the signature does not match the request"),
        "{}",
        server.printed()
    );
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}
