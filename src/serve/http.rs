//! The HTTP side of `serve`: each connection, each Invoke request read (see [`super::api`]),
//! queued on its function, and answered as the service answers; `Event` calls are answered at
//! once and their outcome printed when it comes.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::api::{self, InvocationType, ServiceError};
use super::function::{Call, Function};
use super::guard::Guard;
use super::print::Printer;
use super::stream;
use crate::backend::Invocation;
use crate::report::visible;
use crate::suite::InvokeContext;

/// How many invocation ids are remembered to spot SDK retries.
const REMEMBERED_IDS: usize = 10_000;
/// How long a client may take to send a request's body, once its headers came.
pub const BODY_WITHIN: Duration = Duration::from_secs(30);

/// The endpoint: the functions by name, and what it prints.
pub struct Api {
    /// Swapped whole when a function's new version is ready.
    functions: std::sync::RwLock<HashMap<String, Arc<Function>>>,
    /// Other names a function answers to (a template resource's logical id), to its name.
    aliases: std::sync::RwLock<HashMap<String, String>>,
    region: String,
    printer: Printer,
    /// The `amz-sdk-invocation-id`s seen (hashed: a client may send ids of any length), to
    /// tell a retry of the same call.
    seen: Mutex<HashSet<u64>>,
    hasher: std::hash::RandomState,
    /// Who may call.
    guard: Guard,
    /// The refusals already printed, each said once.
    refusals: Mutex<HashSet<String>>,
}

/// An answer, whole or streamed.
pub type Answer = Response<http_body_util::combinators::BoxBody<Bytes, Infallible>>;

impl Api {
    pub fn new(functions: &[Arc<Function>], printer: Printer, guard: Guard) -> Api {
        Api {
            functions: std::sync::RwLock::new(
                functions
                    .iter()
                    .map(|f| (f.name.clone(), f.clone()))
                    .collect(),
            ),
            aliases: std::sync::RwLock::new(functions.iter().flat_map(|f| aliases(f)).collect()),
            region: "us-east-1".into(),
            printer,
            seen: Mutex::new(HashSet::new()),
            hasher: std::hash::RandomState::new(),
            guard,
            refusals: Mutex::new(HashSet::new()),
        }
    }

    /// Serves connections from `listener` until the task is dropped.
    pub async fn run(self: Arc<Self>, listener: TcpListener) {
        super::listen::serve(listener, move |request, _| {
            let api = self.clone();
            async move { api.handle(request).await }
        })
        .await;
    }

    /// The function `name` names: itself, its template resource's logical id, or with one
    /// function served, `function` (the name
    /// in RIE's own path).
    fn find(&self, name: &str) -> Option<Arc<Function>> {
        let functions = self.functions.read().unwrap_or_else(|e| e.into_inner());
        let aliases = self.aliases.read().unwrap_or_else(|e| e.into_inner());
        let aliased = || aliases.get(name).and_then(|n| functions.get(n));
        let found = functions.get(name).or_else(aliased).or_else(|| {
            (name == "function" && functions.len() == 1)
                .then(|| functions.values().next())
                .flatten()
        });
        found.cloned()
    }

    /// A call to a function not served: said on the server's output (once per name), and
    /// answered as the service answers, with the names served and a near one.
    fn not_served(&self, asked: &str) -> ServiceError {
        let mut names: Vec<String> = self.current().iter().map(|f| f.name.clone()).collect();
        names.sort();
        let name = crate::report::text::cut_line_at(&crate::report::text::visible(asked), 64);
        let near = crate::suite::closest(asked, names.iter().map(String::as_str));
        let served = match near {
            Some(near) => format!(
                "did you mean `{near}`? lambda-ci serves: {}",
                names.join(", ")
            ),
            None => format!("lambda-ci serves: {}", names.join(", ")),
        };
        self.say_once(
            &format!("not served: {name}"),
            &format!("warning: a call to `{name}`, which is not served; {served}"),
        );
        ServiceError::not_found(&name, &self.region, &served)
    }

    /// Prints `line` the first time `key` is refused (of at most 100 kinds): a client that
    /// keeps calling cannot flood the server's output.
    pub fn say_once(&self, key: &str, line: &str) {
        let mut said = self.refusals.lock().unwrap_or_else(|e| e.into_inner());
        if said.len() < 100 && said.insert(key.to_string()) {
            self.printer.line(line);
        }
    }

    /// The functions served now.
    pub fn current(&self) -> Vec<Arc<Function>> {
        let functions = self.functions.read().unwrap_or_else(|e| e.into_inner());
        functions.values().cloned().collect()
    }

    /// Serves `function` from now on in place of the version of the same name, which is
    /// handed back.
    pub fn swap(&self, function: Arc<Function>) -> Option<Arc<Function>> {
        self.aliases
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .extend(aliases(&function));
        let mut functions = self.functions.write().unwrap_or_else(|e| e.into_inner());
        functions.insert(function.name.clone(), function)
    }

    async fn handle(&self, request: Request<Incoming>) -> Answer {
        let (parts, body) = request.into_parts();
        if let Err(refusal) = self.guard.check(&parts.headers) {
            let said = format!("warning: {}", refusal.message);
            self.say_once(&refusal.message, &said);
            return refused(ServiceError::forbidden(&refusal.message));
        }
        let path = parts.uri.path().to_string();
        let streaming = api::streaming_function_in_path(&path);
        let is_streaming = streaming.is_some();
        let named = api::function_in_path(&path)
            .or(streaming)
            .filter(|_| parts.method == Method::POST);
        let Some(named) = named else {
            return refused(ServiceError::unknown_operation(
                parts.method.as_str(),
                &path,
            ));
        };
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let asked = match api::read_request(&named, parts.uri.query(), header) {
            Ok(asked) => asked,
            Err(e) => return refused(e),
        };
        let Some(function) = self.find(&asked.function) else {
            return refused(self.not_served(&asked.function));
        };
        if is_streaming && asked.invocation_type == InvocationType::Event {
            return refused(ServiceError::not_streamable());
        }
        let limit = match asked.invocation_type {
            InvocationType::Event => api::ASYNC_LIMIT,
            _ => api::SYNC_LIMIT,
        };
        let payload =
            match tokio::time::timeout(BODY_WITHIN, Limited::new(body, limit).collect()).await {
                Ok(Ok(collected)) => collected.to_bytes().to_vec(),
                Ok(Err(_)) => return refused(ServiceError::too_large(limit)),
                Err(_) => return refused(ServiceError::slow_body(BODY_WITHIN)),
            };
        // No payload is an empty event, as the service takes it.
        let payload = if payload.is_empty() {
            b"{}".to_vec()
        } else {
            payload
        };
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
            return refused(ServiceError::not_json(&e.to_string()));
        }
        self.spot_retry(&parts.headers, &function);
        let context = InvokeContext {
            client_context: asked.client_context.clone(),
            trace_id: header("x-amzn-trace-id").map(str::to_string),
        };
        if asked.invocation_type == InvocationType::DryRun {
            return respond(StatusCode::NO_CONTENT, &new_request_id(), Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        let (pieces, streamed) = super::function::pieces(is_streaming);
        let call = Call {
            payload,
            context,
            tap: Some(self.printer.tap(&function.name)),
            pieces,
            reply,
        };
        let started = Instant::now();
        if function.call(call).is_err() {
            let mut refused = refused(ServiceError::too_many());
            let wait = function.timeout().as_secs().max(1).to_string();
            if let Ok(value) = wait.parse() {
                refused.headers_mut().insert("Retry-After", value);
            }
            return refused;
        }
        if asked.invocation_type == InvocationType::Event {
            let (printer, name) = (self.printer.clone(), function.name.clone());
            let id = new_request_id();
            let queued = id.clone();
            tokio::spawn(async move {
                if let Ok(result) = answer.await {
                    let (request_id, answered, _) = answered(&result);
                    let words = outcome_words(&answered, &result);
                    printer.of(&name, &format!("{request_id} (Event {queued}) {words}"));
                }
            });
            return respond(StatusCode::ACCEPTED, &id, Vec::new());
        }
        if let Some(streamed) = streamed {
            return self.stream(function, streamed, answer, asked.tail, started);
        }
        let Ok(result) = answer.await else {
            return refused(ServiceError::stopping());
        };
        self.answer(&function, result, asked.tail, started)
    }

    /// The answer to `InvokeWithResponseStream`: the pieces as they come, then how it ended.
    fn stream(
        &self,
        function: Arc<Function>,
        mut pieces: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
        answer: oneshot::Receiver<Result<Invocation, String>>,
        tail: bool,
        started: Instant,
    ) -> Answer {
        let (events, body) = tokio::sync::mpsc::unbounded_channel();
        let printer = self.printer.clone();
        tokio::spawn(async move {
            let mut any = false;
            while let Some(piece) = pieces.recv().await {
                any = true;
                let _ = events.send(stream::chunk(piece));
            }
            let result = answer
                .await
                .unwrap_or_else(|_| Err("the server is stopping".into()));
            let (request_id, answered, log) = answered(&result);
            // A response that came whole (or an error document) is one piece.
            if !any && !answered.function_error {
                let _ = events.send(stream::chunk(answered.body.clone()));
            }
            let details = String::from_utf8_lossy(&answered.body).into_owned();
            let doc: serde_json::Value = serde_json::from_str(&details).unwrap_or_default();
            let code = doc["errorType"].as_str().unwrap_or("Unhandled").to_string();
            let error = answered
                .function_error
                .then_some((code.as_str(), details.as_str()));
            let _ = events.send(stream::complete(error, tail.then_some(log.as_str())));
            let words = outcome_words(&answered, &result);
            let took = started.elapsed().as_secs_f64() * 1000.0;
            printer.of(
                &function.name,
                &format!("{request_id} {words} (streamed) in {took:.1} ms"),
            );
        });
        let mut response = Response::new(stream::Events(body).boxed());
        let headers = response.headers_mut();
        headers.insert("Content-Type", stream::CONTENT_TYPE.parse().expect("ascii"));
        headers.insert("X-Amz-Executed-Version", "$LATEST".parse().expect("ascii"));
        if let Ok(value) = new_request_id().parse() {
            headers.insert("x-amzn-RequestId", value);
        }
        response
    }

    /// The answer to a synchronous call, and its line.
    fn answer(
        &self,
        function: &Function,
        result: Result<Invocation, String>,
        tail: bool,
        started: Instant,
    ) -> Answer {
        let (request_id, answered, log) = answered(&result);
        let words = outcome_words(&answered, &result);
        let took = started.elapsed().as_secs_f64() * 1000.0;
        self.printer.of(
            &function.name,
            &format!("{request_id} {words} in {took:.1} ms"),
        );
        let mut response = respond(StatusCode::OK, &request_id, answered.body);
        let headers = response.headers_mut();
        if answered.function_error {
            headers.insert("X-Amz-Function-Error", "Unhandled".parse().expect("ascii"));
        }
        if tail && let Ok(value) = log.parse() {
            headers.insert("X-Amz-Log-Result", value);
        }
        response
    }

    /// Says when an SDK sent the same call again: its handler then ran twice.
    fn spot_retry(&self, headers: &hyper::HeaderMap, function: &Function) {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let Some(id) = header("amz-sdk-invocation-id") else {
            return;
        };
        let attempt = header("amz-sdk-request")
            .and_then(|v| {
                v.split(';')
                    .find_map(|p| p.trim().strip_prefix("attempt="))
                    .and_then(|n| n.parse::<u32>().ok())
            })
            .unwrap_or(1);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() >= REMEMBERED_IDS {
            seen.clear();
        }
        let again = !seen.insert(std::hash::BuildHasher::hash_one(&self.hasher, id));
        if again && attempt > 1 {
            let id = crate::report::text::cut_line_at(&crate::report::text::visible(id), 64);
            let secs = function.timeout().as_secs();
            self.printer.of(
                &function.name,
                &format!(
                    "warning: the SDK retried call {id} (attempt {attempt}), so the handler ran again; give the client a read timeout of at least the function's timeout ({secs} s) and no retries, e.g. boto3's Config(read_timeout={}, retries={{'max_attempts': 0}})",
                    secs + 1
                ),
            );
        }
    }
}

/// What a call came to: its request id, the answer, and its log for `X-Amz-Log-Result`.
fn answered(result: &Result<Invocation, String>) -> (String, api::Answered, String) {
    match result {
        Ok(invocation) => {
            let id = invocation
                .reported
                .request_id
                .clone()
                .unwrap_or_else(new_request_id);
            let raw = invocation.answer.as_ref().map(|a| a.body.as_slice());
            let answered = api::answer(&invocation.outcome, raw, &id);
            let log = api::log_result(invocation.logs.iter().map(|l| l.text.as_str()));
            (id, answered, log)
        }
        Err(why) => {
            let doc =
                serde_json::json!({"errorType": "LambdaCi.ContainerFailed", "errorMessage": why});
            let answered = api::Answered {
                body: doc.to_string().into_bytes(),
                function_error: true,
            };
            (
                new_request_id(),
                answered,
                api::log_result(std::iter::empty()),
            )
        }
    }
}

/// How a call ended, in a few words (`200`, `200 Unhandled Sandbox.Timedout`), and its
/// init time when it was cold.
fn outcome_words(answered: &api::Answered, result: &Result<Invocation, String>) -> String {
    let mut words = "200".to_string();
    if answered.function_error {
        let doc: serde_json::Value = serde_json::from_slice(&answered.body).unwrap_or_default();
        let error_type = doc["errorType"].as_str().unwrap_or("error");
        words = format!("200 Unhandled {}", visible(error_type));
    }
    if let Ok(Invocation {
        reported: crate::outcome::Reported {
            init: Some(init), ..
        },
        ..
    }) = result
    {
        words.push_str(&format!(" (cold, init {} ms)", init.as_millis()));
    }
    words
}

/// A service error, as the service sends it.
fn refused(error: ServiceError) -> Answer {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = respond(status, &new_request_id(), error.body());
    if let Ok(value) = error.error_type.parse() {
        response.headers_mut().insert("X-Amzn-ErrorType", value);
    }
    response
}

fn respond(status: StatusCode, request_id: &str, body: Vec<u8>) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("Content-Type", "application/json".parse().expect("ascii"));
    headers.insert("X-Amz-Executed-Version", "$LATEST".parse().expect("ascii"));
    if let Ok(value) = request_id.parse() {
        headers.insert("x-amzn-RequestId", value);
    }
    response
}

/// A request id shaped like the service's (a UUID).
fn new_request_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The other names `f` answers to: its template resource's logical id, when not its name.
fn aliases(f: &Function) -> Vec<(String, String)> {
    let resource = f.suite().function.resource.as_ref();
    let names = resource.map(|r| [r.id.clone(), r.logical_id.clone()]);
    let mut aliases: Vec<(String, String)> = names
        .into_iter()
        .flatten()
        .filter(|n| *n != f.name)
        .map(|n| (n, f.name.clone()))
        .collect();
    aliases.dedup();
    aliases
}
