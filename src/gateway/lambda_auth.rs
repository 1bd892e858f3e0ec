//! Lambda authorizers, as API Gateway runs them: the identity a request presents (a REST
//! API's `TOKEN` header, or the identity sources of a `REQUEST` authorizer), the event the
//! authorizer function is sent, and what its answer allows — an IAM policy evaluated against
//! the method's ARN (wildcards included; an explicit deny wins), or an HTTP API's simple
//! response — with the context it passes to the function, or the front door's own refusal.
//! Answers are cached by identity for the authorizer's TTL. [`run`] is the whole of it; the
//! runner and `serve` give it the way to invoke the function.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::own::answer as refusal;
use super::{Api, HttpResponse, Payload, Request, Route, Site};
use crate::outcome::{Body, Outcome};

/// What an authorizer function reads to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaKind {
    /// A REST API's token authorizer: one header.
    Token,
    /// The request's parts.
    Request,
}

/// Where an identity source is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Header(String),
    Query(String),
    StageVariable(String),
}

impl Source {
    /// A source as API Gateway writes it: `method.request.header.Auth` (REST),
    /// `$request.querystring.token` (HTTP API), `stageVariables.name`; a bare name is a header.
    pub fn parse(text: &str) -> Result<Source, String> {
        let text = text.trim();
        let rest = text
            .strip_prefix("method.request.")
            .or_else(|| text.strip_prefix("$request."));
        if let Some(rest) = rest {
            return match rest.split_once('.') {
                Some(("header", name)) if !name.is_empty() => Ok(Source::Header(name.into())),
                Some(("querystring", name)) if !name.is_empty() => Ok(Source::Query(name.into())),
                _ => Err(format!("`{text}` is not a header or query string source")),
            };
        }
        let stage = text
            .strip_prefix("stageVariables.")
            .or_else(|| text.strip_prefix("$stageVariables."));
        match stage {
            Some(name) if !name.is_empty() => Ok(Source::StageVariable(name.into())),
            _ if text.starts_with('$') || text.contains('.') => Err(format!(
                "`{text}` is not a source lambda-ci reads (a header, a query string parameter or a stage variable)"
            )),
            _ if text.is_empty() => Err("an empty identity source".into()),
            _ => Ok(Source::Header(text.into())),
        }
    }

    fn read(&self, route: &Route, request: &Request) -> Option<String> {
        let value = match self {
            Source::Header(name) => request.header(name).map(str::to_string),
            Source::Query(name) => request
                .query()
                .into_iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v),
            Source::StageVariable(name) => route.stage_variables.get(name).cloned(),
        };
        value.filter(|v| !v.is_empty())
    }
}

/// A Lambda authorizer of a route.
#[derive(Debug, Clone, PartialEq)]
pub struct Lambda {
    pub kind: LambdaKind,
    /// The name of the function it invokes.
    pub function: String,
    /// What identifies a caller: the request is refused when one is missing, and answers are
    /// cached by their values.
    pub sources: Vec<Source>,
    /// How long an answer is cached, in seconds; 0 invokes the authorizer for every request.
    pub ttl: u32,
    /// The event an HTTP API sends it (a REST API's is its own shape).
    pub payload: Payload,
    /// An HTTP API's simple responses: `{"isAuthorized": true, "context": {...}}`.
    pub simple: bool,
    /// A token authorizer's `IdentityValidationExpression`: a token that does not match is
    /// refused without invoking.
    pub validation: Option<String>,
}

impl Lambda {
    /// The authorizer of a route of `api` as JSON reports write it: its sources as that API
    /// writes them (`method.request.header.Authorization`, `$request.header.Authorization`).
    pub fn to_json(&self, api: Api) -> Value {
        let rest = api == Api::Rest;
        let sources: Vec<String> = self
            .sources
            .iter()
            .map(|s| match (s, rest) {
                (Source::Header(n), true) => format!("method.request.header.{n}"),
                (Source::Query(n), true) => format!("method.request.querystring.{n}"),
                (Source::StageVariable(n), true) => format!("stageVariables.{n}"),
                (Source::Header(n), false) => format!("$request.header.{n}"),
                (Source::Query(n), false) => format!("$request.querystring.{n}"),
                (Source::StageVariable(n), false) => format!("$stageVariables.{n}"),
            })
            .collect();
        json!({
            "type": match self.kind { LambdaKind::Token => "token", LambdaKind::Request => "request" },
            "function": self.function,
            "identity_source": sources,
            "ttl": self.ttl,
            "payload": self.payload,
            "simple_responses": self.simple,
            "validation": self.validation,
        })
    }
}

/// The identity `request` presents to `lambda`: its sources' values in order, or the front
/// door's 401 when one is missing (or a token does not match the validation expression).
pub fn identity(
    lambda: &Lambda,
    route: &Route,
    request: &Request,
) -> Result<Vec<String>, HttpResponse> {
    let mut values = Vec::new();
    for source in &lambda.sources {
        match source.read(route, request) {
            Some(v) => values.push(v),
            None => {
                return Err(unauthorized(
                    route.api,
                    format!("the request has no {}", said(source)),
                ));
            }
        }
    }
    if let (Some(pattern), Some(token)) = (&lambda.validation, values.first()) {
        let anchored = format!("^(?:{pattern})$");
        if !regex::Regex::new(&anchored).is_ok_and(|r| r.is_match(token)) {
            let why = format!("the token does not match the validation expression `{pattern}`");
            return Err(unauthorized(route.api, why));
        }
    }
    Ok(values)
}

fn said(source: &Source) -> String {
    match source {
        Source::Header(n) => format!("`{n}` header"),
        Source::Query(n) => format!("`{n}` query string parameter"),
        Source::StageVariable(n) => format!("stage variable `{n}`"),
    }
}

/// The ARN of the method a request calls, as authorizers are given it:
/// `arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/Prod/GET/orders/42`.
pub fn method_arn(route: &Route, request: &Request, site: &Site) -> String {
    format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}{}",
        site.region,
        super::event::ACCOUNT,
        site.api_id,
        route.stage,
        request.method,
        request.path
    )
}

/// The event `lambda` is sent for a request whose function event is `event`.
pub fn event(
    lambda: &Lambda,
    route: &Route,
    event: &Value,
    identity: &[String],
    arn: &str,
) -> Value {
    if lambda.kind == LambdaKind::Token {
        let token = identity.first().cloned().unwrap_or_default();
        return json!({"type": "TOKEN", "authorizationToken": token, "methodArn": arn});
    }
    let mut out = event.as_object().cloned().unwrap_or_default();
    out.remove("body");
    out.remove("isBase64Encoded");
    if let Some(Value::Object(context)) = out.get_mut("requestContext") {
        context.remove("authorizer");
    }
    out.insert("type".into(), json!("REQUEST"));
    match (route.api, lambda.payload) {
        (Api::Rest, _) => {
            out.insert("methodArn".into(), json!(arn));
        }
        (_, Payload::V1) => {
            out.insert("methodArn".into(), json!(arn));
            out.insert("identitySource".into(), json!(identity.join(",")));
        }
        (_, Payload::V2) => {
            out.insert("routeArn".into(), json!(arn));
            out.insert("identitySource".into(), json!(identity));
        }
    }
    Value::Object(out)
}

/// `lambda` run for `request` to `route` (whose API lives at `site`), whose function event is
/// `event`: the identity read, the cached answer or the one `invoke` gets from the
/// authorizer's function (then cached), and the verdict — `event` with what the authorizer
/// passes on, or the front door's refusal. `invoke`'s own error ends it (the function could
/// not be had).
pub async fn run<E, F>(
    lambda: &Lambda,
    (route, request, site): (&Route, &Request, &Site),
    event: Value,
    cache: &Cache,
    invoke: impl FnOnce(Value) -> F,
) -> Result<Result<Value, HttpResponse>, E>
where
    F: std::future::Future<Output = Result<Outcome, E>>,
{
    let identity = match identity(lambda, route, request) {
        Ok(identity) => identity,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let arn = method_arn(route, request, site);
    let started = Instant::now();
    let outcome = match cache.get(lambda, &identity, started) {
        Some(outcome) => outcome,
        None => {
            let outcome = invoke(self::event(lambda, route, &event, &identity, &arn)).await?;
            cache.put(lambda, &identity, started, &outcome);
            outcome
        }
    };
    let verdict = verdict(lambda, route, &arn, &outcome, started.elapsed());
    Ok(verdict.map(|passed| super::with_authorizer(event, passed)))
}

/// What `lambda` answered with `outcome`, in `took`, allows at `arn`: the
/// `requestContext.authorizer` the function gets, or the front door's refusal.
pub fn verdict(
    lambda: &Lambda,
    route: &Route,
    arn: &str,
    outcome: &Outcome,
    took: Duration,
) -> Result<Value, HttpResponse> {
    let answer = match outcome {
        Outcome::Success {
            body: Body::Json(Value::Object(answer)),
        } => answer,
        // A function that raises `Unauthorized` asks for a 401.
        Outcome::FunctionError { message, .. } if message == "Unauthorized" => {
            return Err(unauthorized(
                route.api,
                "its Lambda authorizer raised `Unauthorized`".into(),
            ));
        }
        Outcome::FunctionError {
            error_type,
            message,
            ..
        } => {
            return Err(misconfigured(
                route.api,
                format!("its Lambda authorizer failed: {error_type}: {message}"),
            ));
        }
        Outcome::Success { .. } => {
            return Err(misconfigured(
                route.api,
                "its Lambda authorizer answered something that is not a JSON object".into(),
            ));
        }
        other => {
            let why = super::respond::failed(other);
            return Err(misconfigured(
                route.api,
                format!("its Lambda authorizer did not answer: {why}"),
            ));
        }
    };
    if lambda.simple {
        return simple(route, answer);
    }
    let principal = answer.get("principalId").and_then(Value::as_str);
    let (Some(principal), Some(policy)) = (principal, answer.get("policyDocument")) else {
        return Err(misconfigured(
            route.api,
            "its Lambda authorizer's answer has no `principalId` and `policyDocument`".into(),
        ));
    };
    let allowed = super::policy::evaluate(policy, arn).map_err(|why| {
        misconfigured(
            route.api,
            format!("its Lambda authorizer's policy is malformed: {why}"),
        )
    })?;
    if let Err(explicit) = allowed {
        return Err(denied(route.api, explicit));
    }
    let context = context_of(route.api, answer)?;
    Ok(match route.api {
        Api::Rest => {
            let mut passed = Map::new();
            passed.insert("principalId".into(), json!(principal));
            passed.insert("integrationLatency".into(), json!(took.as_millis() as u64));
            for (k, v) in context {
                passed.insert(k, v);
            }
            Value::Object(passed)
        }
        _ => json!({"lambda": context, "principalId": principal}),
    })
}

/// An HTTP API's simple response: `isAuthorized`, and the context passed on.
fn simple(route: &Route, answer: &Map<String, Value>) -> Result<Value, HttpResponse> {
    match answer.get("isAuthorized") {
        Some(Value::Bool(true)) => Ok(json!({"lambda": context_of(route.api, answer)?})),
        Some(Value::Bool(false)) => Err(denied(route.api, false)),
        _ => Err(misconfigured(
            route.api,
            "its Lambda authorizer's simple response has no `isAuthorized` true or false".into(),
        )),
    }
}

/// The answer's `context`: values a REST API passes on as text; an object or list in it is
/// the authorizer's misconfiguration.
fn context_of(api: Api, answer: &Map<String, Value>) -> Result<Map<String, Value>, HttpResponse> {
    let Some(given) = answer.get("context") else {
        return Ok(Map::new());
    };
    let Value::Object(given) = given else {
        return Err(misconfigured(
            api,
            "its Lambda authorizer's `context` is not an object".into(),
        ));
    };
    let mut out = Map::new();
    for (k, v) in given {
        let v = match v {
            Value::Object(_) | Value::Array(_) => {
                return Err(misconfigured(
                    api,
                    format!(
                        "its Lambda authorizer's `context.{k}` is not a string, number or boolean"
                    ),
                ));
            }
            Value::String(_) | Value::Null => v.clone(),
            other if api == Api::Rest => json!(other.to_string()),
            other => other.clone(),
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

fn unauthorized(api: Api, why: String) -> HttpResponse {
    let error_type = (api == Api::Rest).then_some("UnauthorizedException");
    refusal(401, r#"{"message":"Unauthorized"}"#, error_type, why)
}

fn denied(api: Api, explicit: bool) -> HttpResponse {
    let why = match explicit {
        true => "its Lambda authorizer's policy denies the method".to_string(),
        false => "its Lambda authorizer did not allow the method".to_string(),
    };
    match (api, explicit) {
        (Api::Rest, true) => refusal(
            403,
            r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#,
            Some("AccessDeniedException"),
            why,
        ),
        (Api::Rest, false) => refusal(
            403,
            r#"{"Message":"User is not authorized to access this resource"}"#,
            Some("AccessDeniedException"),
            why,
        ),
        _ => refusal(403, r#"{"message":"Forbidden"}"#, None, why),
    }
}

fn misconfigured(api: Api, why: String) -> HttpResponse {
    match api {
        Api::Rest => refusal(
            500,
            r#"{"message": null}"#,
            Some("AuthorizerConfigurationException"),
            why,
        ),
        _ => refusal(500, r#"{"message":"Internal Server Error"}"#, None, why),
    }
}

/// Authorizers' answers by identity, each kept for its authorizer's TTL.
#[derive(Debug, Default)]
pub struct Cache(Mutex<HashMap<Identity, (Instant, Outcome)>>);

/// An authorizer's function and the identity it answered.
type Identity = (String, Vec<String>);

impl Cache {
    /// The answer `lambda` gave `identity` within its TTL of `now`.
    pub fn get(&self, lambda: &Lambda, identity: &[String], now: Instant) -> Option<Outcome> {
        let key = (lambda.function.clone(), identity.to_vec());
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (at, outcome) = entries.get(&key)?;
        (now.duration_since(*at) < Duration::from_secs(lambda.ttl.into())).then(|| outcome.clone())
    }

    /// Keeps `outcome` for `identity`, when `lambda` caches and the answer was one (an error is
    /// asked again).
    pub fn put(&self, lambda: &Lambda, identity: &[String], now: Instant, outcome: &Outcome) {
        let answered = matches!(
            outcome,
            Outcome::Success {
                body: Body::Json(Value::Object(_))
            }
        );
        if lambda.ttl == 0 || identity.is_empty() || !answered {
            return;
        }
        let key = (lambda.function.clone(), identity.to_vec());
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries.insert(key, (now, outcome.clone()));
    }
}
