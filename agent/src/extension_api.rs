//! The Extensions API's endpoints on the Runtime API's listener: `register`, `event/next`,
//! `init/error` and `exit/error`, answered as the service answers them.

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::json;

use crate::api::{Body, header, json};
use crate::extensions::{self, Extension, Refused};
use crate::sandbox::{ErrorReport, Sandbox};

/// The most a registration or error report may hold.
const BODY_LIMIT: usize = 1024 * 1024;

pub async fn handle(
    sandbox: &Sandbox,
    generation: u64,
    request: Request<Incoming>,
    rest: &str,
) -> Response<Body> {
    let answer = match (request.method(), rest) {
        (&Method::POST, "register") => register(sandbox, generation, request).await,
        (&Method::GET, "event/next") => next(sandbox, generation, &request).await,
        (&Method::POST, "init/error") => error(sandbox, request, true).await,
        (&Method::POST, "exit/error") => error(sandbox, request, false).await,
        _ => {
            return json(
                StatusCode::NOT_FOUND,
                r#"{"errorMessage":"Unknown path","errorType":"NotFound"}"#,
            );
        }
    };
    answer.unwrap_or_else(|refused| refusal(&refused))
}

async fn register(
    sandbox: &Sandbox,
    generation: u64,
    request: Request<Incoming>,
) -> Result<Response<Body>, Refused> {
    let name = header(request.headers(), "Lambda-Extension-Name").ok_or_else(|| {
        Refused::new(
            403,
            "Extension.MissingHeader",
            "Missing Lambda-Extension-Name header",
        )
    })?;
    let account = header(request.headers(), "Lambda-Extension-Accept-Feature")
        .is_some_and(|f| f.split(',').any(|f| f.trim() == "accountId"));
    let body = read(request).await?;
    let (invoke, shutdown) = extensions::events(&body)?;
    let external = std::path::Path::new(extensions::DIR).join(&name).is_file();
    let id = crate::ids::request_id();
    {
        let mut state = sandbox.lock();
        if !Sandbox::initialising(&state, generation) {
            return Err(Refused::new(
                403,
                "Extension.InvalidState",
                "State transition from Ready to ExtensionRegistered failed: extensions register during init",
            ));
        }
        if state.extensions.len() >= extensions::MAX {
            return Err(Refused::new(
                403,
                "Extension.TooManyExtensions",
                format!("a function may have at most {} extensions", extensions::MAX),
            ));
        }
        if state.extensions.iter().any(|e| e.name == name) {
            return Err(Refused::new(
                403,
                "Extension.AlreadyRegistered",
                format!("extension {name} is registered already"),
            ));
        }
        if !external && shutdown {
            return Err(Refused::new(
                403,
                "ShutdownEventNotSupportedForInternalExtension",
                "internal extensions cannot register for SHUTDOWN",
            ));
        }
        state.extensions.push(Extension {
            id: id.clone(),
            name,
            invoke,
            shutdown,
            queue: Default::default(),
            idle: false,
        });
    }
    sandbox.changed();
    let config = &sandbox.config;
    let mut answer = json!({
        "functionName": config.name,
        "functionVersion": config.version,
        "handler": config.handler.clone().unwrap_or_default(),
    });
    if account {
        answer["accountId"] = json!(crate::config::ACCOUNT);
    }
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .header("Lambda-Extension-Identifier", id)
        .body(Full::new(Bytes::from(answer.to_string())))
        .unwrap_or_else(|_| json(StatusCode::INTERNAL_SERVER_ERROR, "{}")))
}

async fn next(
    sandbox: &Sandbox,
    generation: u64,
    request: &Request<Incoming>,
) -> Result<Response<Body>, Refused> {
    let id = identifier(request)?;
    {
        let mut state = sandbox.lock();
        let extension = state
            .extensions
            .iter_mut()
            .find(|e| e.id == id)
            .ok_or_else(unknown)?;
        extension.idle = extension.queue.is_empty();
        sandbox.settle_init(&mut state);
    }
    sandbox.changed();
    let event = sandbox
        .wait_for(None, |s| {
            if !s.live(generation) {
                return Some(None);
            }
            let extension = s.extensions.iter_mut().find(|e| e.id == id)?;
            let event = extension.queue.pop_front()?;
            extension.idle = false;
            Some(Some(event))
        })
        .await
        .flatten();
    let Some(event) = event else {
        return Err(Refused::new(
            500,
            "Extension.Reset",
            "the execution environment was reset; the extension should exit",
        ));
    };
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .header(
            "Lambda-Extension-Event-Identifier",
            crate::ids::request_id(),
        )
        .body(Full::new(Bytes::from(event.to_string())))
        .unwrap_or_else(|_| json(StatusCode::INTERNAL_SERVER_ERROR, "{}")))
}

async fn error(
    sandbox: &Sandbox,
    request: Request<Incoming>,
    init: bool,
) -> Result<Response<Body>, Refused> {
    let id = identifier(&request)?;
    let error_type =
        header(request.headers(), "Lambda-Extension-Function-Error-Type").ok_or_else(|| {
            Refused::new(
                403,
                "Extension.MissingHeader",
                "Missing Lambda-Extension-Function-Error-Type header",
            )
        })?;
    let body = read(request).await?;
    let name = {
        let mut state = sandbox.lock();
        let name = state
            .extensions
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.name.clone())
            .ok_or_else(unknown)?;
        if init {
            let body = if body.iter().all(u8::is_ascii_whitespace) {
                Bytes::from(
                    json!({"errorType": error_type, "errorMessage": format!("extension {name} failed to init")})
                        .to_string(),
                )
            } else {
                body
            };
            let error = ErrorReport {
                body,
                error_type: Some(error_type.clone()),
            };
            Sandbox::extension_init_error(&mut state, error);
        }
        name
    };
    sandbox.changed();
    let phase = if init { "init" } else { "exit" };
    crate::output::diagnose(&format!(
        "extension {name} reported an {phase} error: {error_type}"
    ));
    Ok(json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
}

/// `PUT /2022-07-01/telemetry`: a registered extension subscribes to the Telemetry API.
pub async fn subscribe(sandbox: &Sandbox, request: Request<Incoming>) -> Response<Body> {
    let subscribed = async {
        let id = identifier(&request)?;
        let name = match sandbox.lock().extensions.iter().find(|e| e.id == id) {
            Some(extension) => extension.name.clone(),
            None => return Err(unknown()),
        };
        let body = read(request).await?;
        sandbox.output.telemetry.subscribe(&id, &name, &body)
    };
    match subscribed.await {
        Ok(()) => {
            let mut ok = Response::new(Full::new(Bytes::from_static(b"OK")));
            ok.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain"),
            );
            ok
        }
        Err(refused) => refusal(&refused),
    }
}

fn identifier(request: &Request<Incoming>) -> Result<String, Refused> {
    header(request.headers(), "Lambda-Extension-Identifier").ok_or_else(|| {
        Refused::new(
            403,
            "Extension.MissingExtensionIdentifier",
            "Missing Lambda-Extension-Identifier header",
        )
    })
}

fn unknown() -> Refused {
    Refused::new(
        403,
        "Extension.UnknownExtensionIdentifier",
        "Unknown extension identifier",
    )
}

async fn read(request: Request<Incoming>) -> Result<Bytes, Refused> {
    match Limited::new(request.into_body(), BODY_LIMIT)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(Refused::new(
            400,
            "InvalidRequestFormat",
            "unreadable request body",
        )),
    }
}

fn refusal(refused: &Refused) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(refused.body())));
    *response.status_mut() =
        StatusCode::from_u16(refused.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}
