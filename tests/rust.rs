//! Functions built with AWS's Rust runtime client (`lambda_runtime` from crates.io, in
//! tests/fixtures/rust-functions), run as custom runtimes: a plain one under lambda-ci's agent
//! and under RIE, and one that streams its response with `run_with_streaming_response`'s
//! channel, whose chunks arrive as the handler writes them; and a telemetry extension built
//! with AWS's `lambda-extension` crate, which parses every record it is sent.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::serve::Server;
use common::*;
use serde_json::Value;

/// The fixture functions, built once per machine (cargo's lock keeps concurrent tests to one
/// build); the directory holding `bin` as `bootstrap`.
fn function(bin: &str, dir: &Path) -> PathBuf {
    let code = dir.join(bin);
    std::fs::create_dir_all(&code).unwrap();
    std::fs::copy(built(bin), code.join("bootstrap")).unwrap();
    code
}

/// The fixture binary `bin`, built.
fn built(bin: &str) -> PathBuf {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rust-functions");
    let built = Command::new(env!("CARGO"))
        .args(["build", "--locked", "--quiet", "--manifest-path"])
        .arg(fixture("rust-functions/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("cargo builds the Rust fixture functions");
    assert!(built.success(), "the Rust fixture functions did not build");
    target.join("debug").join(bin)
}

fn suite(dir: &Path, name: &str, code: &Path, cases: &str) -> PathBuf {
    write_suite(
        dir,
        name,
        ("provided.al2023", code),
        "  handler: bootstrap\n",
        cases,
    )
}

#[test]
fn a_rust_lambda_runtime_function_passes_under_the_agent_and_under_rie() {
    let dir = tempfile::tempdir().unwrap();
    let code = function("echo", dir.path());
    let suite = suite(
        dir.path(),
        "rust-echo",
        &code,
        "  - name: echoes with its context\n    event: {a: 1}\n    expect:\n      response_contains: {event: {a: 1}, function_arn: \"arn:aws:lambda:us-east-1:012345678912:function:rust-echo\", remaining_ok: true}\n\
         \x20 - name: fails\n    event: {fail: nope}\n    expect:\n      error: {message: nope}\n",
    );
    for api in ["lambda-ci", "rie"] {
        let out = run(std::slice::from_ref(&suite), &["--runtime-api", api]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{api}: {text}");
        assert_summary(&text, "2 passed, 0 failed");
    }
}

#[test]
fn a_streamed_response_arrives_in_chunks_spread_as_the_handler_sleeps() {
    let dir = tempfile::tempdir().unwrap();
    let code = function("stream", dir.path());
    let suite = suite(
        dir.path(),
        "rust-stream",
        &code,
        "  - name: streams four chunks\n    event: {chunks: 4, gap_ms: 300}\n    expect:\n      status: 200\n      body: \"chunk 1\\nchunk 2\\nchunk 3\\nchunk 4\\n\"\n      stream: {min_chunks: 4, first_chunk_within_ms: 250}\n",
    );
    let json = dir.path().join("report.json");
    let out = run(
        std::slice::from_ref(&suite),
        &["--json", json.to_str().unwrap()],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("streamed in "), "{text}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_valid_report(&json);
    let stream = &report["suites"][0]["cases"][0]["stream"];
    assert!(stream["chunks"].as_u64().unwrap() >= 4, "{stream}");
    let first = stream["first_chunk_ms"].as_f64().unwrap();
    let last = stream["last_chunk_ms"].as_f64().unwrap();
    // Three gaps of 300 ms between the first chunk of text and the last.
    assert!(last - first >= 800.0, "{stream}");

    // RIE buffers the stream whole: the check says so.
    let out = run(std::slice::from_ref(&suite), &["--runtime-api", "rie"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("expected a streamed response, the function answered whole"),
        "{text}"
    );
}

/// boto3's `invoke_with_response_stream` against `serve`: each event with when it came.
const BOTO3_STREAM: &str = r#"
import json, os, time, boto3
client = boto3.client("lambda", endpoint_url=os.environ["ENDPOINT"])
started = time.monotonic()
answer = client.invoke_with_response_stream(
    FunctionName="rust-stream", Payload=json.dumps({"chunks": 4, "gap_ms": 300}), LogType="Tail")
for event in answer["EventStream"]:
    at = (time.monotonic() - started) * 1000
    if "PayloadChunk" in event:
        print(json.dumps({"at": at, "chunk": event["PayloadChunk"]["Payload"].decode("latin-1")}))
    if "InvokeComplete" in event:
        print(json.dumps({"at": at, "complete": event["InvokeComplete"]}))
"#;

#[test]
fn serve_streams_a_response_to_boto3_chunk_by_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let code = function("stream", dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = lambda_ci();
    cmd.args(["serve", "--pull", "never", "--port", &port.to_string()])
        .args([
            "--runtime",
            "provided.al2023",
            "--handler",
            "bootstrap",
            "--name",
            "rust-stream",
            "--code",
        ])
        .arg(&code);
    let mut server = Background::start(cmd);
    server.wait_for("serving ");
    let out = Command::new("python3")
        .args(["-c", BOTO3_STREAM])
        .env("ENDPOINT", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let chunks: Vec<&Value> = events.iter().filter(|e| e.get("chunk").is_some()).collect();
    let joined: String = chunks
        .iter()
        .map(|c| c["chunk"].as_str().unwrap())
        .collect();
    assert!(
        joined.ends_with("chunk 1\nchunk 2\nchunk 3\nchunk 4\n"),
        "{joined:?}"
    );
    let first_text = chunks
        .iter()
        .find(|c| c["chunk"].as_str().unwrap().contains("chunk 1"))
        .unwrap();
    let last = chunks.last().unwrap();
    // The pieces reached the client as the handler wrote them, not all at the end.
    let spread = last["at"].as_f64().unwrap() - first_text["at"].as_f64().unwrap();
    assert!(spread >= 800.0, "{events:?}");
    let complete = &events.last().unwrap()["complete"];
    assert!(complete.get("ErrorCode").is_none(), "{complete}");
    assert!(complete["LogResult"].as_str().is_some(), "{complete}");
    assert_eq!(server.interrupt(), Some(0), "{}", server.printed());
}

/// A client of a streamed function URL: the status, the headers, and each piece with when it
/// came (ms after the request).
const URL_CLIENT: &str = r#"
import json, os, time, requests
start = time.monotonic()
r = requests.get(os.environ["URL"] + "/report?chunks=3&gap_ms=400", stream=True)
print(json.dumps({"status": r.status_code, "headers": dict(r.headers)}), flush=True)
for piece in r.iter_content(chunk_size=None):
    print(json.dumps({"piece": piece.decode(), "at": (time.monotonic() - start) * 1000}), flush=True)
"#;

#[test]
fn a_streamed_function_url_sends_its_prelude_as_the_head_and_each_piece_as_it_comes() {
    let dir = tempfile::tempdir().unwrap();
    let code = function("stream", dir.path());
    let suite = write_suite(
        dir.path(),
        "url-stream",
        ("provided.al2023", &code),
        "  handler: bootstrap\n  http:\n    - {api: url, invoke_mode: RESPONSE_STREAM}\n",
        "  - name: streams through its URL\n    request: {path: /report, query: {chunks: \"3\", gap_ms: \"300\"}}\n    expect:\n      status: 201\n      headers: {content-type: text/plain, set-cookie: streamed=yes}\n      body: \"chunk 1\\nchunk 2\\nchunk 3\\n\"\n      stream: {min_chunks: 3}\n",
    );
    let out = run(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_summary(&text, "1 passed, 0 failed");

    let server = Server::start(&[suite.to_str().unwrap(), "--api-port", "0"]);
    let url = format!("http://127.0.0.1:{}", server.printed_port("function URL"));
    let out = Command::new("python3")
        .args(["-c", URL_CLIENT])
        .env("URL", url)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["status"], 201, "{text}");
    assert_eq!(lines[0]["headers"]["content-type"], "text/plain", "{text}");
    assert_eq!(lines[0]["headers"]["set-cookie"], "streamed=yes", "{text}");
    let pieces = &lines[1..];
    let joined: String = pieces
        .iter()
        .map(|p| p["piece"].as_str().unwrap())
        .collect();
    assert_eq!(joined, "chunk 1\nchunk 2\nchunk 3\n", "{text}");
    // The client read the pieces as the handler wrote them, 400 ms apart.
    let at = |i: usize| pieces[i]["at"].as_f64().unwrap();
    assert!(pieces.len() >= 3, "{text}");
    assert!(at(pieces.len() - 1) - at(0) >= 600.0, "{text}");
    let printed = server.printed();
    assert!(
        printed.contains("GET /report → function URL 201"),
        "{printed}"
    );
    assert!(printed.contains("(streamed)"), "{printed}");
}

#[test]
fn a_lambda_extension_crate_telemetry_extension_parses_every_record_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("layer");
    std::fs::create_dir_all(layer.join("extensions")).unwrap();
    std::fs::copy(built("telemetry"), layer.join("extensions/telemetry")).unwrap();
    let suite = write_suite(
        dir.path(),
        "observed-by-rust",
        ("python3.11", &fixture("functions/py")),
        &format!(
            "  handler: app.telemetry_seen\n  layers: [{}]\n",
            layer.display()
        ),
        "  - name: first\n  - name: what the extension parsed\n    event: {wait: true}\n",
    );
    let (out, cases) = run_reported(std::slice::from_ref(&suite), &[]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // The crate rejects a batch it cannot parse whole: what it wrote, it parsed.
    let kinds = [
        "platform.initStart",
        "platform.start",
        "platform.runtimeDone",
        "platform.report",
        "function",
    ];
    assert_telemetry_seen(&cases[1]["response"], &kinds, &cases[0]);
}
