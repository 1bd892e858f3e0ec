//! The HTTP front doors of `serve`: the functions' API Gateway routes on `--api-port`, and each
//! function URL on a port of its own. A request is matched to its route, turned into the event
//! that front door sends, queued on the function like any call, and answered with the HTTP
//! response the front door would return (see [`crate::gateway`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::function::{Call, Function};
use super::guard::Guard;
use super::http::{Answer, Api, BODY_WITHIN};
use super::print::Printer;
use crate::gateway::{self, Api as Kind, HttpResponse, Own};
use crate::suite::InvokeContext;

mod authorize;
mod streamed;

/// The most bytes of a request body API Gateway takes; a function URL takes Lambda's 6 MB.
const API_BODY_LIMIT: usize = 10 * 1024 * 1024;
const URL_BODY_LIMIT: usize = 6 * 1024 * 1024;
/// The most bytes of an event Lambda takes synchronously.
const EVENT_LIMIT: usize = 6 * 1024 * 1024;

/// The function a request reaches, its route, and the path parameters it gave.
type Reached = (
    Arc<Function>,
    gateway::Route,
    std::collections::BTreeMap<String, String>,
);

/// What one listener answers for.
#[derive(Debug, Clone, PartialEq)]
pub enum Door {
    /// Every REST and HTTP API route of every function served.
    Api,
    /// The function URL of the function of this name.
    Url(String),
}

/// One listening front door.
pub struct Doors {
    api: Arc<Api>,
    printer: Printer,
    guard: Guard,
    door: Door,
    /// The Lambda authorizers' answers, by identity.
    cache: gateway::Cache,
    /// The credentials an `AWS_IAM` function URL's requests must be signed with.
    keys: Option<gateway::Keys>,
}

impl Doors {
    pub fn new(api: Arc<Api>, printer: Printer, guard: Guard, door: Door) -> Doors {
        Doors {
            api,
            printer,
            guard,
            door,
            cache: gateway::Cache::default(),
            keys: None,
        }
    }

    /// Doors that check `AWS_IAM` signatures against `keys`.
    pub fn with_keys(mut self, keys: Option<gateway::Keys>) -> Doors {
        self.keys = keys;
        self
    }

    /// Serves connections from `listener` until the task is dropped.
    pub async fn run(self: Arc<Self>, listener: TcpListener) {
        super::listen::serve(listener, move |request, peer| {
            let doors = self.clone();
            async move { doors.handle(request, peer).await }
        })
        .await;
    }

    /// The function and route a request for `method` and `path` reaches, and the API kind
    /// that refuses it when none does.
    fn route(
        &self,
        functions: &[Arc<Function>],
        method: &str,
        path: &str,
    ) -> Result<Reached, Kind> {
        match &self.door {
            Door::Url(name) => {
                let function = functions.iter().find(|f| &f.name == name);
                let route = function.and_then(|f| {
                    f.suite()
                        .function
                        .http
                        .iter()
                        .find(|r| r.api == Kind::Url)
                        .cloned()
                });
                match (function, route) {
                    (Some(f), Some(r)) => Ok((f.clone(), r, Default::default())),
                    _ => Err(Kind::Url),
                }
            }
            Door::Api => {
                let routes = functions.iter().enumerate().flat_map(|(i, f)| {
                    f.suite()
                        .function
                        .http
                        .iter()
                        .filter(|r| r.api != Kind::Url)
                        .map(move |r| (i, r))
                });
                let rest_only = functions
                    .iter()
                    .flat_map(|f| f.suite().function.http.iter())
                    .all(|r| r.api != Kind::Http);
                match gateway::best(routes, method, path) {
                    Some((i, m)) => Ok((functions[i].clone(), m.route.clone(), m.params)),
                    None if rest_only => Err(Kind::Rest),
                    None => Err(Kind::Http),
                }
            }
        }
    }

    /// The route whose CORS configuration answers a preflight: the one the method it asks
    /// for would reach, or any route of an HTTP API or URL with CORS (they answer every path).
    fn preflight_route(
        &self,
        functions: &[Arc<Function>],
        request: &gateway::Request,
    ) -> Option<(Arc<Function>, gateway::Route)> {
        let asked = request
            .header("access-control-request-method")
            .unwrap_or_default()
            .to_ascii_uppercase();
        if let Ok((f, route, _)) = self.route(functions, &asked, &request.path)
            && route.cors.is_some()
        {
            return Some((f, route));
        }
        functions.iter().find_map(|f| {
            let route = f.suite().function.http.iter().find(|r| {
                r.cors.is_some()
                    && match &self.door {
                        Door::Api => r.api == Kind::Http,
                        Door::Url(name) => &f.name == name && r.api == Kind::Url,
                    }
            })?;
            Some((f.clone(), route.clone()))
        })
    }

    async fn handle(&self, request: Request<Incoming>, peer: SocketAddr) -> Answer {
        let (parts, body) = request.into_parts();
        if let Err(refusal) = self.guard.check(&parts.headers) {
            let said = format!("warning: {}", refusal.message);
            self.api.say_once(&refusal.message, &said);
            let body = serde_json::json!({"message": "Forbidden"}).to_string();
            return plain(StatusCode::FORBIDDEN, body);
        }
        let method = parts.method.as_str().to_ascii_uppercase();
        let target = parts
            .uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        let mut request = gateway::Request::new(&method, &target);
        request.source_ip = peer.ip().to_string();
        request.headers = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((title_case(k.as_str()), v.to_str().ok()?.to_string())))
            .collect();
        let functions = self.api.current();
        if gateway::is_preflight(&request)
            && let Some((function, route)) = self.preflight_route(&functions, &request)
        {
            let cors = route.cors.as_ref().expect("found with CORS");
            let response = gateway::preflight(route.api, cors, &request);
            self.say(&function, &route, &request, &response, None);
            return answer(response);
        }
        let (function, route, params) = match self.route(&functions, &method, &request.path) {
            Ok(found) => found,
            Err(kind) => {
                let why = format!("no route takes {method} {}", request.path);
                self.printer
                    .line(&format!("{method} {} → {why}", request.path));
                return answer(gateway::own(kind, Own::NoRoute, why));
            }
        };
        let limit = match route.api {
            Kind::Url => URL_BODY_LIMIT,
            _ => API_BODY_LIMIT,
        };
        request.body =
            match tokio::time::timeout(BODY_WITHIN, Limited::new(body, limit).collect()).await {
                Ok(Ok(collected)) => collected.to_bytes().to_vec(),
                Ok(Err(_)) => return self.too_large(&function, &route, &request),
                Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, String::new()),
            };
        self.invoke(function, route, params, request).await
    }

    fn too_large(
        &self,
        f: &Function,
        route: &gateway::Route,
        request: &gateway::Request,
    ) -> Answer {
        let why = "the request is larger than the front door takes".to_string();
        let response = gateway::own(route.api, Own::TooLarge, why);
        self.say(f, route, request, &response, None);
        answer(response)
    }

    /// Sends the event of `request` to `function` and answers with what its front door makes
    /// of the outcome.
    async fn invoke(
        &self,
        function: Arc<Function>,
        route: gateway::Route,
        params: std::collections::BTreeMap<String, String>,
        request: gateway::Request,
    ) -> Answer {
        let site = function.suite().function.site(&route);
        let call = gateway::Call::now();
        let matched = gateway::Matched {
            route: &route,
            params,
        };
        let event = gateway::build(&matched, &request, &site, &call);
        let event = match gateway::authorize(&route, &request, call.epoch_secs()) {
            Ok(Some(authorizer)) => Ok(gateway::with_authorizer(event, authorizer)),
            Ok(None) if route.signed() => {
                let now = std::time::SystemTime::now();
                gateway::verify_v4(self.keys.as_ref(), &request, now)
                    .map(|iam| gateway::with_authorizer(event, iam))
            }
            Ok(None) => {
                self.lambda_authorize(&function, &route, &request, event)
                    .await
            }
            Err(refusal) => Err(refusal),
        };
        let event = match event {
            Ok(event) => event,
            Err(refusal) => {
                self.say(&function, &route, &request, &refusal, None);
                return answer(refusal);
            }
        };
        let payload = event.to_string().into_bytes();
        if payload.len() > EVENT_LIMIT {
            return self.too_large(&function, &route, &request);
        }
        let (reply, answered) = oneshot::channel();
        let (pieces, streamed) = super::function::pieces(route.streams());
        let queued = Call {
            payload,
            context: InvokeContext {
                client_context: None,
                trace_id: Some(call.trace_id.clone()),
            },
            tap: Some(self.printer.tap(&function.name)),
            pieces,
            reply,
        };
        let started = Instant::now();
        if function.call(queued).is_err() {
            let body = serde_json::json!({"message": "Too Many Requests"}).to_string();
            return plain(StatusCode::TOO_MANY_REQUESTS, body);
        }
        let asked = Asked {
            route,
            request,
            call,
            started,
        };
        if let Some(streamed) = streamed {
            return self.stream(function, asked, streamed, answered).await;
        }
        let response = asked.response(&function, answered).await;
        self.say(
            &function,
            &asked.route,
            &asked.request,
            &response,
            Some(started),
        );
        answer(response)
    }

    /// Prints the call's line.
    fn say(
        &self,
        f: &Function,
        route: &gateway::Route,
        request: &gateway::Request,
        response: &HttpResponse,
        started: Option<Instant>,
    ) {
        self.printer
            .of(&f.name, &line(route, request, response, started));
    }
}

/// The call's line: the request, the route it reached, the status, and why the front door
/// answered on its own when it did.
fn line(
    route: &gateway::Route,
    request: &gateway::Request,
    response: &HttpResponse,
    started: Option<Instant>,
) -> String {
    let path = crate::report::visible(&request.path);
    let mut line = format!(
        "{} {path} → {} {}",
        request.method,
        route.label(),
        response.status
    );
    if let Some(started) = started {
        line.push_str(&format!(
            " in {:.1} ms",
            started.elapsed().as_secs_f64() * 1000.0
        ));
    }
    if let Some(own) = &response.own {
        line.push_str(&format!(" ({})", crate::report::visible(own)));
    }
    line
}

/// A request on its way through a front door: the route it reached, the call's ids, and when
/// it was queued.
struct Asked {
    route: gateway::Route,
    request: gateway::Request,
    call: gateway::Call,
    started: Instant,
}

impl Asked {
    /// The response the front door returns once the invocation ended.
    async fn response(&self, function: &Function, answered: Answered) -> HttpResponse {
        let timeout_s = function.timeout().as_secs() as u32;
        match answered.await {
            Ok(Ok(invocation)) => gateway::respond(
                &self.route,
                &self.request,
                &invocation.outcome,
                invocation.reported.duration,
                timeout_s,
                &self.call,
                invocation.reported.stream.is_some(),
            ),
            Ok(Err(why)) => gateway::own(self.route.api, Own::Failed, why),
            Err(_) => gateway::own(self.route.api, Own::Failed, "the server is stopping".into()),
        }
    }
}

/// How an invocation queued on a function ends.
type Answered = oneshot::Receiver<Result<crate::backend::Invocation, String>>;

/// A header name as HTTP/1.1 clients write it (`Content-Type`): the server reads names in
/// lower case, and a REST API passes on the case a client sent.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The HTTP response as hyper sends it.
fn answer(response: HttpResponse) -> Answer {
    let mut out = Response::new(Full::new(Bytes::from(response.body)).boxed());
    *out.status_mut() = StatusCode::from_u16(response.status).unwrap_or(StatusCode::BAD_GATEWAY);
    append_headers(out.headers_mut(), &response.headers);
    out
}

/// Headers as hyper sends them; a name or value it cannot send is left out.
fn append_headers(to: &mut hyper::HeaderMap, headers: &[(String, String)]) {
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            to.append(name, value);
        }
    }
}

fn plain(status: StatusCode, body: String) -> Answer {
    let mut out = Response::new(Full::new(Bytes::from(body)).boxed());
    *out.status_mut() = status;
    out.headers_mut()
        .insert("Content-Type", "application/json".parse().expect("ascii"));
    out
}
