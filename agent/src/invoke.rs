//! The caller's side, on the container's published port: the Invoke API's invocation path,
//! answered as the service answers it (HTTP 200, `X-Amz-Function-Error: Unhandled` and an
//! error document for every failure), and with `Lambda-Ci-Outcome` saying which failure it
//! was, so lambda-ci never has to guess from a body's shape.

use std::convert::Infallible;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::api::json;

/// What the caller is answered with: whole, or streamed.
type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

fn whole(response: Response<Full<Bytes>>) -> Response<Body> {
    response.map(BodyExt::boxed)
}
use crate::sandbox::{Answer, ErrorReport, Reply, Sandbox};

use lambda_ci_wire::{
    CONTENT_TYPE_HEADER, INIT_PATH, INVOKE_PATH, KEY_HEADER, OUTCOME_HEADER, Outcome, READY_PATH,
    RELOAD_PATH, RELOADED_HEADER,
};

/// The most a caller may send, as the Invoke API takes.
const MAX_REQUEST: usize = 6 * 1024 * 1024;

pub async fn serve(listener: TcpListener, sandbox: Arc<Sandbox>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let sandbox = sandbox.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let sandbox = sandbox.clone();
                async move { Ok::<_, Infallible>(handle(&sandbox, request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(sandbox: &Arc<Sandbox>, request: Request<Incoming>) -> Response<Body> {
    // With a key, only lambda-ci calls: not another container, nor a process of the host when
    // the container shares the host's network.
    if let Some(key) = &sandbox.config.key {
        let shown = request.headers().get(KEY_HEADER).map(|v| v.as_bytes());
        if !shown.is_some_and(|shown| same(shown, key.as_bytes())) {
            return whole(json(
                StatusCode::FORBIDDEN,
                r#"{"Type":"User","message":"this function is lambda-ci's to invoke"}"#,
            ));
        }
    }
    match (request.method(), request.uri().path()) {
        // Ready once the init phase is over, so that no invocation's time includes it.
        (&Method::GET, READY_PATH) if sandbox.settled() => whole(Response::new(Full::new(
            Bytes::from_static(b"lambda-ci-agent\n"),
        ))),
        (&Method::GET, READY_PATH) => whole(json(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"message":"initialising"}"#,
        )),
        (&Method::POST, INIT_PATH) => {
            sandbox.boot();
            whole(json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
        }
        (&Method::POST, RELOAD_PATH) => {
            let own = sandbox.redeploy().await;
            let mut answer = json(StatusCode::OK, r#"{"status":"OK"}"#);
            if let Ok(value) = HeaderValue::from_str(&format!("{:.3}", own.as_secs_f64() * 1000.0))
            {
                answer.headers_mut().insert(RELOADED_HEADER, value);
            }
            whole(answer)
        }
        (&Method::POST, INVOKE_PATH) => invoke(sandbox, request).await,
        _ => whole(json(
            StatusCode::NOT_FOUND,
            r#"{"Type":"User","message":"Unknown path: invoke POST /2015-03-31/functions/function/invocations"}"#,
        )),
    }
}

async fn invoke(sandbox: &Arc<Sandbox>, request: Request<Incoming>) -> Response<Body> {
    let text = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    // The Invoke API takes the client context in base64; the runtime is given its JSON text.
    let client_context = text("X-Amz-Client-Context").and_then(|c| {
        let decoded = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
        String::from_utf8(decoded).ok()
    });
    let trace_id = text("X-Amzn-Trace-Id");
    let payload = match Limited::new(request.into_body(), MAX_REQUEST)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return whole(json(
                StatusCode::PAYLOAD_TOO_LARGE,
                r#"{"Type":"User","message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}"#,
            ));
        }
    };
    let request = crate::sandbox::Request {
        payload,
        client_context,
        trace_id,
    };
    let (id, answer) = sandbox.invoke(request).await;
    answered(&id, answer, sandbox.config.timeout.as_secs_f64())
}

/// Whether `a` and `b` are the same bytes, in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn answered(id: &str, answer: Answer, timeout_secs: f64) -> Response<Body> {
    let failed = |error_type: &str, message: String| {
        serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string()
    };
    let (outcome, body, content_type, function_error) = match answer {
        Answer::Replied(Reply::Stream {
            content_type,
            pieces,
        }) => return streamed(id, content_type, pieces),
        Answer::Replied(Reply::Response { body, content_type }) => {
            (Outcome::Response, body, content_type, false)
        }
        Answer::Replied(Reply::Error(error)) => (Outcome::Error, document(error), None, true),
        Answer::InitError(error) => (Outcome::InitError, document(error), None, true),
        Answer::Timeout => {
            let message =
                format!("RequestId: {id} Error: Task timed out after {timeout_secs:.2} seconds");
            (
                Outcome::Timeout,
                failed("Sandbox.Timedout", message).into(),
                None,
                true,
            )
        }
        Answer::Exit(how) => {
            let message = if how.is_empty() {
                format!("RequestId: {id} Error: Runtime exited without providing a reason")
            } else {
                format!("RequestId: {id} Error: Runtime exited with error: {how}")
            };
            (
                Outcome::Exit,
                failed("Runtime.ExitError", message).into(),
                None,
                true,
            )
        }
        Answer::Replied(Reply::TooLarge) => {
            let message =
                "Response payload size exceeded maximum allowed payload size (6291556 bytes).";
            let body = failed("Function.ResponseSizeTooLarge", message.into());
            (Outcome::TooLarge, body.into(), None, true)
        }
    };
    let mut response = Response::new(Full::new(body).boxed());
    let headers = response.headers_mut();
    let content_type = content_type.unwrap_or_else(|| "application/json".into());
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(http::header::CONTENT_TYPE, value);
    }
    if function_error {
        headers.insert(
            "X-Amz-Function-Error",
            HeaderValue::from_static("Unhandled"),
        );
    }
    said(headers, id, outcome);
    response
}

/// What every answer says: how the invocation went, the version, the request id.
fn said(headers: &mut http::HeaderMap, id: &str, outcome: Outcome) {
    headers.insert(OUTCOME_HEADER, HeaderValue::from_static(outcome.as_str()));
    headers.insert(
        "X-Amz-Executed-Version",
        HeaderValue::from_static("$LATEST"),
    );
    if let Ok(value) = HeaderValue::from_str(id) {
        headers.insert("X-Amzn-RequestId", value);
    }
}

/// A streamed answer: the pieces, framed, as they come; the runtime's content type beside.
fn streamed(
    id: &str,
    content_type: Option<String>,
    pieces: tokio::sync::mpsc::Receiver<crate::stream::Piece>,
) -> Response<Body> {
    let mut response = Response::new(crate::stream::Framed(pieces).boxed());
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(crate::stream::CONTENT_TYPE),
    );
    if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(CONTENT_TYPE_HEADER, value);
    }
    said(headers, id, Outcome::Stream);
    response
}

/// The error document a runtime posted, or one made from its type header when it posted none.
fn document(error: ErrorReport) -> Bytes {
    if !error.body.iter().all(u8::is_ascii_whitespace) {
        return error.body;
    }
    let error_type = error.error_type.unwrap_or_else(|| "Runtime.Unknown".into());
    serde_json::json!({"errorType": error_type, "errorMessage": ""})
        .to_string()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_the_same_only_byte_for_byte() {
        assert!(same(b"0123abcd", b"0123abcd"));
        assert!(!same(b"0123abcd", b"0123abce"));
        assert!(!same(b"0123abcd", b"0123abc"));
        assert!(!same(b"", b"0123abcd"));
    }
}
