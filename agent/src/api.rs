//! The Runtime API (2018-06-01) on `127.0.0.1:9001`, answered as the service answers it:
//! `/next` long-polls with the invocation's headers and a real epoch deadline; `/response`,
//! `/error` and `/init/error` take chunked bodies with trailers and answer 202; a wrong id is
//! 400 `InvalidRequestID`, a second reply 403 `InvalidStateTransition`, a result over
//! 6,291,556 bytes 413.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::sandbox::{ErrorReport, Refusal, Reply, Sandbox};

/// The most a runtime may post: 6 MiB and 100 bytes, as the service takes.
pub const MAX_PAYLOAD: usize = 6 * 1024 * 1024 + 100;

const BASE: &str = "/2018-06-01/runtime";

pub type Body = Full<Bytes>;

/// Binds the Runtime API's address anew for a runtime generation.
pub fn listen(port: u16) -> std::io::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(64)
}

/// Serves one runtime generation's connections; aborting the task ends every one of them.
pub async fn serve(listener: TcpListener, sandbox: Arc<Sandbox>, generation: u64) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let sandbox = sandbox.clone();
                connections.spawn(async move {
                    let service = service_fn(move |request| {
                        let sandbox = sandbox.clone();
                        async move { Ok::<_, Infallible>(handle(&sandbox, generation, request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(sandbox: &Sandbox, generation: u64, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_string();
    if let Some(rest) = path.strip_prefix("/2020-01-01/extension/") {
        return crate::extension_api::handle(sandbox, generation, request, rest).await;
    }
    if path == "/2022-07-01/telemetry" && request.method() == Method::PUT {
        return crate::extension_api::subscribe(sandbox, request).await;
    }
    // The older Logs API is not served: answered as RIE answers it.
    if path == "/2020-08-15/logs" {
        return json(
            StatusCode::ACCEPTED,
            r#"{"errorMessage":"Logs API is not supported","errorType":"Logs.NotSupported"}"#,
        );
    }
    let Some(rest) = path.strip_prefix(BASE) else {
        return not_found();
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (request.method(), segments.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => match sandbox.next(generation).await {
            Some(event) => next_response(sandbox, event),
            None => json(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"errorMessage":"Container error. Non-recoverable state. Runtime should exit promptly.","errorType":"Runtime.Reset"}"#,
            ),
        },
        (&Method::POST, ["invocation", id, "response"]) => {
            response(sandbox, generation, id, request).await
        }
        (&Method::POST, ["invocation", id, "error"]) => {
            if let Err(refusal) = sandbox.may_reply(generation, id) {
                return refused(refusal);
            }
            match error_report(request).await {
                Ok(error) => accepted(sandbox.reply(generation, id, Reply::Error(error))),
                Err(answer) => answer,
            }
        }
        (&Method::POST, ["init", "error"]) => match error_report(request).await {
            Ok(error) => accepted(sandbox.init_error(generation, error)),
            Err(answer) => answer,
        },
        _ => not_found(),
    }
}

fn next_response(sandbox: &Sandbox, event: crate::sandbox::Event) -> Response<Body> {
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .header("Lambda-Runtime-Aws-Request-Id", &event.id)
        .header("Lambda-Runtime-Deadline-Ms", event.deadline_ms.to_string())
        .header("Lambda-Runtime-Invoked-Function-Arn", sandbox.config.arn())
        .header("Lambda-Runtime-Trace-Id", &event.trace_id);
    if let Some(context) = &event.client_context {
        response = response.header("Lambda-Runtime-Client-Context", context);
    }
    if let Some(identity) = &event.cognito_identity {
        response = response.header("Lambda-Runtime-Cognito-Identity", identity);
    }
    response
        .body(Full::new(event.payload))
        .unwrap_or_else(|_| json(StatusCode::INTERNAL_SERVER_ERROR, "{}"))
}

async fn response(
    sandbox: &Sandbox,
    generation: u64,
    id: &str,
    request: Request<Incoming>,
) -> Response<Body> {
    if let Err(refusal) = sandbox.may_reply(generation, id) {
        return refused(refusal);
    }
    let mode = header(request.headers(), "Lambda-Runtime-Function-Response-Mode");
    if mode
        .as_deref()
        .is_some_and(|m| !m.eq_ignore_ascii_case("streaming"))
    {
        return json(
            StatusCode::BAD_REQUEST,
            r#"{"errorMessage":"Invalid function response mode","errorType":"InvalidFunctionResponseMode"}"#,
        );
    }
    let content_type = header(request.headers(), "Content-Type");
    if mode.is_some() {
        return stream(sandbox, generation, id, content_type, request).await;
    }
    let collected = match Limited::new(request.into_body(), MAX_PAYLOAD)
        .collect()
        .await
    {
        Ok(collected) => collected,
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            let _ = sandbox.reply(generation, id, Reply::TooLarge);
            return too_large();
        }
        Err(_) => return truncated(),
    };
    // A failure part way through a stream comes in the trailers.
    if let Some(trailers) = collected.trailers()
        && let Some(error_type) = header(trailers, "Lambda-Runtime-Function-Error-Type")
    {
        use base64::Engine as _;
        let body = header(trailers, "Lambda-Runtime-Function-Error-Body")
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .unwrap_or_default();
        let error = ErrorReport {
            body: Bytes::from(body),
            error_type: Some(error_type),
        };
        return accepted(sandbox.reply(generation, id, Reply::Error(error)));
    }
    let body = collected.to_bytes();
    accepted(sandbox.reply(generation, id, Reply::Response { body, content_type }))
}

/// Passes a streamed response to the caller piece by piece, and its failure, if the trailers
/// say one, at the end.
async fn stream(
    sandbox: &Sandbox,
    generation: u64,
    id: &str,
    content_type: Option<String>,
    request: Request<Incoming>,
) -> Response<Body> {
    use crate::stream::{LIMIT, Piece};
    let (pieces, taken) = tokio::sync::mpsc::channel(64);
    let reply = Reply::Stream {
        content_type,
        pieces: taken,
    };
    if let Err(refusal) = sandbox.reply(generation, id, reply) {
        return refused(refusal);
    }
    let mut body = request.into_body();
    let mut total = 0;
    let answer = loop {
        match body.frame().await {
            None => break accepted(Ok(())),
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    total += data.len();
                    if total > LIMIT {
                        let _ = pieces
                            .send(Piece::Error {
                                error_type: "Function.ResponseSizeTooLarge".into(),
                                body: Bytes::from_static(b"Response payload size exceeded maximum allowed payload size (209715200 bytes)."),
                            })
                            .await;
                        break json(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            r#"{"errorMessage":"Exceeded maximum allowed payload size (209715200 bytes).","errorType":"RequestEntityTooLarge"}"#,
                        );
                    }
                    // A caller that went away takes nothing more; the runtime still finishes.
                    let _ = pieces.send(Piece::Data(data.clone())).await;
                } else if let Some(trailers) = frame.trailers_ref()
                    && let Some(error_type) = header(trailers, "Lambda-Runtime-Function-Error-Type")
                {
                    use base64::Engine as _;
                    let body = header(trailers, "Lambda-Runtime-Function-Error-Body")
                        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                        .unwrap_or_default();
                    let piece = Piece::Error {
                        error_type,
                        body: Bytes::from(body),
                    };
                    let _ = pieces.send(piece).await;
                }
            }
            Some(Err(_)) => {
                let piece = Piece::Error {
                    error_type: "Runtime.TruncatedResponse".into(),
                    body: Bytes::from_static(b"the runtime's streamed response was cut short"),
                };
                let _ = pieces.send(piece).await;
                break truncated();
            }
        }
    };
    sandbox.stream_ended(generation, id);
    answer
}

/// The error a runtime posts: its body (the error document) and type header.
async fn error_report(request: Request<Incoming>) -> Result<ErrorReport, Response<Body>> {
    let error_type = header(request.headers(), "Lambda-Runtime-Function-Error-Type");
    match Limited::new(request.into_body(), MAX_PAYLOAD)
        .collect()
        .await
    {
        Ok(collected) => Ok(ErrorReport {
            body: collected.to_bytes(),
            error_type,
        }),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_large())
        }
        Err(_) => Err(truncated()),
    }
}

pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn accepted(result: Result<(), Refusal>) -> Response<Body> {
    match result {
        Ok(()) => json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#),
        Err(refusal) => refused(refusal),
    }
}

fn refused(refusal: Refusal) -> Response<Body> {
    match refusal {
        Refusal::InvalidRequestId => json(
            StatusCode::BAD_REQUEST,
            r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#,
        ),
        Refusal::InvalidStateTransition => json(
            StatusCode::FORBIDDEN,
            r#"{"errorMessage":"State transition from RuntimeResponseSent to InvocationResponse failed for runtime. Error: State transition is not allowed","errorType":"InvalidStateTransition"}"#,
        ),
    }
}

/// What the runtime is told of a result over the limit.
fn too_large() -> Response<Body> {
    json(
        StatusCode::PAYLOAD_TOO_LARGE,
        r#"{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#,
    )
}

fn truncated() -> Response<Body> {
    json(
        StatusCode::BAD_REQUEST,
        r#"{"errorMessage":"HTTP request detected as truncated","errorType":"TruncatedHTTPRequest"}"#,
    )
}

fn not_found() -> Response<Body> {
    json(
        StatusCode::NOT_FOUND,
        r#"{"errorMessage":"Unknown path","errorType":"NotFound"}"#,
    )
}

pub fn json(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
