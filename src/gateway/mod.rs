//! HTTP front doors: API Gateway REST APIs (payload 1.0), HTTP APIs (payload 2.0, or 1.0 when
//! configured) and Lambda function URLs. A front door turns an HTTP request into the exact event
//! its service sends for the route it matches, and the function's answer into the HTTP response
//! the client would get — the gateway's own errors included. Pure: no I/O; suites judge what it
//! returns, and `serve` writes it to a socket.

mod auth;
mod cors;
mod event;
mod event_v1;
mod event_v2;
mod lambda_auth;
mod own;
mod policy;
mod request;
mod respond;
mod route;
mod sigv4;
mod stream;

#[cfg(test)]
mod tests_auth;
#[cfg(test)]
mod tests_events;
#[cfg(test)]
mod tests_lambda_auth;
#[cfg(test)]
mod tests_respond;

pub use auth::{Authorizer, Jwt, authorize, injected, with_authorizer};
pub use cors::{Cors, decorate, is_preflight, preflight};
pub use event::{Call, Site, build};
pub use lambda_auth::{
    Cache, Lambda, LambdaKind, Source, event as authorizer_event, identity, method_arn,
    run as run_authorizer, verdict,
};
pub use own::{Own, own};
pub use request::{Request, header_value};
pub use respond::{HttpResponse, failed, respond, stamp};
pub use route::{Matched, Method, PathTemplate, Refusal, Segment, best, matching};
pub use sigv4::{Keys, sign as sign_v4, verify as verify_v4};
pub use stream::{Head, PRELUDE_WITHIN, head as stream_head};

use std::collections::BTreeMap;

/// Which kind of front door a route belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// An API Gateway REST API with a Lambda proxy integration.
    Rest,
    /// An API Gateway HTTP API with a Lambda integration.
    Http,
    /// A Lambda function URL.
    Url,
}

impl Api {
    /// Every kind by its name in suites.
    pub const NAMED: &[(&'static str, Api)] =
        &[("rest", Api::Rest), ("http", Api::Http), ("url", Api::Url)];

    /// The name suites give it.
    pub fn name(self) -> &'static str {
        Self::NAMED
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("", |(name, _)| name)
    }

    /// What AWS calls it.
    pub fn describe(self) -> &'static str {
        match self {
            Api::Rest => "REST API",
            Api::Http => "HTTP API",
            Api::Url => "function URL",
        }
    }

    /// The payload version it sends unless told otherwise: REST APIs have only 1.0.
    pub fn default_payload(self) -> Payload {
        match self {
            Api::Rest => Payload::V1,
            Api::Http | Api::Url => Payload::V2,
        }
    }

    /// The stage a route is served at unless told otherwise: SAM's implicit REST API is
    /// deployed to `Prod`; HTTP APIs and URLs have `$default`.
    pub fn default_stage(self) -> &'static str {
        match self {
            Api::Rest => "Prod",
            Api::Http | Api::Url => "$default",
        }
    }

    /// How long the front door waits for the function before answering on its own: 29 s for
    /// API Gateway's integrations (REST's default, HTTP API's 30 s less its own overhead is not
    /// modelled); a function URL waits for the function's own timeout.
    pub fn integration_timeout_ms(self) -> Option<u64> {
        match self {
            Api::Rest => Some(29_000),
            Api::Http => Some(30_000),
            Api::Url => None,
        }
    }
}

/// The shape of the event and of the response a front door expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Payload {
    #[serde(rename = "1.0")]
    V1,
    #[serde(rename = "2.0")]
    V2,
}

impl Payload {
    pub const NAMED: &[(&'static str, Payload)] = &[("1.0", Payload::V1), ("2.0", Payload::V2)];

    /// The version as API Gateway writes it (`"2.0"`).
    pub fn name(self) -> &'static str {
        Self::NAMED
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("", |(name, _)| name)
    }
}

/// How a function URL answers: the whole response at once, or streamed as it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvokeMode {
    #[default]
    Buffered,
    ResponseStream,
}

impl InvokeMode {
    pub const NAMED: &[(&'static str, InvokeMode)] = &[
        ("BUFFERED", InvokeMode::Buffered),
        ("RESPONSE_STREAM", InvokeMode::ResponseStream),
    ];
}

/// Who may call a function URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UrlAuth {
    #[default]
    None,
    AwsIam,
}

impl UrlAuth {
    pub const NAMED: &[(&'static str, UrlAuth)] =
        &[("NONE", UrlAuth::None), ("AWS_IAM", UrlAuth::AwsIam)];
}

/// One way in to a function: a route of an API, or its function URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub api: Api,
    /// The method it answers; `ANY` answers every method.
    pub method: Method,
    /// The path it answers, with `{name}` and `{name+}` parameters; `None` for an HTTP API's
    /// `$default` route and a function URL, which answer every path.
    pub path: Option<PathTemplate>,
    pub payload: Payload,
    /// The stage the API is deployed to (`Prod`, `$default`).
    pub stage: String,
    /// The stage's variables, passed in the event as `stageVariables`.
    pub stage_variables: BTreeMap<String, String>,
    /// A REST API's `BinaryMediaTypes`: request bodies of these types reach the function
    /// base64-encoded, and base64 responses go back as bytes to a client that accepts them.
    pub binary_media_types: Vec<String>,
    /// A function URL's auth type.
    pub auth: UrlAuth,
    /// A function URL's invoke mode.
    pub invoke_mode: InvokeMode,
    /// The API's name where it has one (a template's logical id), else the API kind.
    pub api_name: Option<String>,
    /// The API's (or URL's) CORS configuration.
    pub cors: Option<Cors>,
    /// What authorizes a request before the function is invoked.
    pub authorizer: Option<Authorizer>,
}

impl Route {
    /// A route of `api` for `method` and `path`, with that API's defaults.
    pub fn new(api: Api, method: Method, path: Option<PathTemplate>) -> Route {
        Route {
            api,
            method,
            path,
            payload: api.default_payload(),
            stage: api.default_stage().to_string(),
            stage_variables: BTreeMap::new(),
            binary_media_types: Vec::new(),
            auth: UrlAuth::None,
            invoke_mode: InvokeMode::Buffered,
            api_name: None,
            cors: None,
            authorizer: None,
        }
    }

    /// Whether requests must be signed: a function URL with `AWS_IAM` auth.
    pub fn signed(&self) -> bool {
        self.api == Api::Url && self.auth == UrlAuth::AwsIam
    }

    /// Whether the function's response is passed on as it is written: a function URL in
    /// `RESPONSE_STREAM` mode.
    pub fn streams(&self) -> bool {
        self.api == Api::Url && self.invoke_mode == InvokeMode::ResponseStream
    }

    /// `path` as the client sent it to the API: a named stage is its first segment.
    pub fn staged(&self, path: &str) -> String {
        if self.stage == "$default" {
            path.to_string()
        } else {
            format!("/{}{path}", self.stage)
        }
    }

    /// The route key as API Gateway writes it: `GET /orders/{id}`, `ANY /{proxy+}`,
    /// `$default`.
    pub fn key(&self) -> String {
        match &self.path {
            Some(path) => format!("{} {}", self.method, path),
            None => "$default".to_string(),
        }
    }

    /// The route with where it lives: `GET /orders/{id}: REST API ServerlessRestApi, stage
    /// Prod, payload 1.0`.
    pub fn describe(&self) -> String {
        let mut said = match self.api {
            Api::Url => {
                let auth = UrlAuth::NAMED.iter().find(|(_, a)| *a == self.auth);
                format!("function URL, auth {}", auth.map_or("NONE", |(n, _)| n))
            }
            api => format!("{}: {}", self.key(), api.describe()),
        };
        if let Some(name) = &self.api_name {
            said.push_str(&format!(" {name}"));
        }
        if self.api != Api::Url {
            said.push_str(&format!(
                ", stage {}, payload {}",
                self.stage,
                self.payload.name()
            ));
        } else if self.invoke_mode == InvokeMode::ResponseStream {
            said.push_str(", streamed");
        }
        said
    }

    /// The route as JSON reports write it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "api": self.api,
            "method": self.method.to_string(),
            "path": self.path.as_ref().map(ToString::to_string),
            "payload": self.payload,
            "stage": self.stage,
            "stage_variables": self.stage_variables,
            "binary_media_types": self.binary_media_types,
            "auth": self.auth,
            "invoke_mode": self.invoke_mode,
            "name": self.api_name,
            "authorizer": self.authorizer.as_ref().map(|a| a.to_json(self.api)),
        })
    }

    /// The route as reports show it: `GET /orders/{id} (REST API)`.
    pub fn label(&self) -> String {
        match (self.api, &self.path) {
            (Api::Url, _) => "function URL".to_string(),
            (api, _) => format!("{} ({})", self.key(), api.describe()),
        }
    }
}
