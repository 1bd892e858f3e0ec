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

/// The port a front door was printed at: `http://127.0.0.1:PORT` before `what`.
fn printed_port(printed: &str, what: &str) -> u16 {
    let line = printed
        .lines()
        .find(|l| l.contains(what) && l.contains("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no `{what}` line in:\n{printed}"));
    let after = line.split("http://127.0.0.1:").nth(1).unwrap();
    after
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn routes_and_a_function_url_answer_real_clients_as_each_front_door_does() {
    let suite = fixture("front-doors/serve.yaml");
    let api_port = free_port();
    let mut server = Server::start(&[suite.to_str().unwrap(), "--api-port", &api_port.to_string()]);
    let printed = server.printed();
    let url_port = printed_port(&printed, "function URL");
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
