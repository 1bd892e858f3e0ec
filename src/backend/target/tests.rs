//! The target backend: Invoke API answers read back, the log tail, throttling, what a
//! target cannot give.

use super::*;
use serde_json::json;

#[test]
fn invoke_api_answers_are_read_back_into_outcomes() {
    let ok = outcome(200, false, None, br#"{"a": 1}"#);
    assert_eq!(
        ok,
        Outcome::Success {
            body: Body::Json(json!({"a": 1}))
        }
    );
    let raised = br#"{"errorType": "KeyError", "errorMessage": "'id'"}"#;
    assert!(
        matches!(outcome(200, true, None, raised), Outcome::FunctionError { error_type, .. } if error_type == "KeyError")
    );
    let timed = br#"{"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: 1 Error: Task timed out after 3.00 seconds"}"#;
    assert_eq!(
        outcome(200, true, None, timed),
        Outcome::Timeout {
            message: "Task timed out after 3.00 seconds".into()
        }
    );
    let oom = br#"{"errorType": "Runtime.OutOfMemory", "errorMessage": "RequestId: 1 Error: Runtime exited with error: signal: killed"}"#;
    assert!(matches!(
        outcome(200, true, None, oom),
        Outcome::RuntimeFailure {
            out_of_memory: true,
            ..
        }
    ));
    let missing = br#"{"Type": "User", "Message": "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"}"#;
    match outcome(
        404,
        false,
        Some("ResourceNotFoundException".into()),
        missing,
    ) {
        Outcome::RuntimeFailure {
            status: 404,
            error_type,
            message,
            ..
        } => {
            assert_eq!(error_type.as_deref(), Some("ResourceNotFoundException"));
            assert!(message.unwrap().starts_with("Function not found"));
        }
        other => panic!("{other:?}"),
    }
}

// A throttling target is a fault `serve` shows only under a full queue: a bare listener
// answers 429 twice, then the call.
#[tokio::test]
async fn a_throttled_call_is_sent_again_until_it_is_taken() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        for i in 0.. {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 65536];
            let _ = stream.read(&mut buf).await;
            let answer = if i < 2 {
                "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            } else {
                "HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}"
            };
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    let caller = Caller {
        endpoint: Endpoint::new(&format!("http://127.0.0.1:{port}")),
        name: "f".into(),
        timeout: Duration::from_secs(3),
    };
    let invoked = caller
        .invoke(b"{}", &InvokeContext::default(), &[], Taps::default())
        .await;
    assert_eq!(
        invoked.outcome,
        Outcome::Success {
            body: Body::Json(json!({"ok": true}))
        }
    );
}

#[test]
fn what_a_target_cannot_give_is_said() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("code")).unwrap();
    std::fs::write(
        dir.path().join("code/app.py"),
        "def handler(e, c):\n    return e\n",
    )
    .unwrap();
    let file = dir.path().join("s.yaml");
    std::fs::write(
        &file,
        "function: {runtime: python3.11, handler: app.handler, code: code}\ncases:\n  - name: a\n    isolation: cold\n  - name: b\n    expect: {stream: {min_chunks: 2}}\n",
    )
    .unwrap();
    let suite = crate::suite::load_paths(&[file]).unwrap().remove(0);
    let said = unjudgeable(&suite).unwrap();
    assert!(
        said.contains("`isolation: cold` is not applicable"),
        "{said}"
    );
    assert!(
        said.contains("`stream:` checks are not applicable"),
        "{said}"
    );
    let mut plain = suite.clone();
    plain.cases.truncate(0);
    assert_eq!(unjudgeable(&plain), None);
}

#[test]
fn the_log_tail_is_read_into_lines() {
    let log = base64::engine::general_purpose::STANDARD
        .encode("START RequestId: 1\nhello\nREPORT RequestId: 1\tDuration: 2.00 ms\t\n");
    let lines = tail(Some(&log));
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1].text, "hello");
    assert!(tail(Some("not base64!")).is_empty());
}
