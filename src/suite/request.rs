//! Decodes a case's `request:`: an HTTP request to one of the function's front doors, matched
//! to the route it reaches and turned into the event that front door sends.

use std::collections::BTreeMap;

use crate::gateway::{self, Api, Request, Route};

use super::Function;
use super::fields::{Ctx, Fields};
use super::node::{Node, Value};
use super::read::{EVENT_LIMIT, read_limited};

const KEYS: &[&str] = &[
    "api",
    "method",
    "path",
    "query",
    "headers",
    "cookies",
    "body",
    "body_base64",
    "body_file",
    "source_ip",
];

/// A case sent through a front door: the route it reaches and the request, which the
/// function's answer is turned back into an HTTP response with.
#[derive(Debug, Clone, PartialEq)]
pub struct Front {
    pub route: Route,
    pub request: Request,
    /// The call's ids and time, which the event and the response share.
    pub call: gateway::Call,
    /// What the front door answers itself, without invoking the function (a CORS
    /// preflight).
    pub answered: Option<gateway::HttpResponse>,
    /// The case gives the identity (`authorizer: {context}`): the route's authorizer is not
    /// run.
    pub injected: bool,
}

impl Front {
    /// The Lambda authorizer to invoke before the function, unless the case injects an
    /// identity.
    pub fn lambda_authorizer(&self) -> Option<&gateway::Lambda> {
        let authorizer = self.route.authorizer.as_ref()?;
        authorizer.lambda().filter(|_| !self.injected)
    }
}

impl Function {
    /// Where `route`'s front door lives, as its events and responses name it: in the
    /// function's `AWS_REGION` (default `us-east-1`), under an id derived from its name.
    pub fn site(&self, route: &Route) -> gateway::Site {
        let region = self
            .environment
            .get("AWS_REGION")
            .map_or("us-east-1", String::as_str);
        gateway::Site::of(&self.name, route.api, route.api_name.as_deref(), region)
    }
}

impl Ctx<'_> {
    /// The front door and event of a `request:` case, `f` being the case's fields: a case
    /// sends a request or an event, and judges the HTTP response, never the function's error.
    pub(super) fn request_event(
        &mut self,
        f: &Fields<'_>,
        node: &Node,
        function: Option<&Function>,
    ) -> Option<(Front, serde_json::Value)> {
        let mut ok = true;
        for key in ["event", "event_file", "event_template", "event_add"] {
            if let Some(k) = f.key(key) {
                self.error(
                    Some(k.pos),
                    format!("`request` and `{key}` are exclusive"),
                    Some(
                        "a `request:` case sends the event its front door makes; keep one of them"
                            .into(),
                    ),
                );
                ok = false;
            }
        }
        if let Some(Value::Map(expect)) = f.get("expect").map(|e| &e.value) {
            for (k, _) in expect.iter().filter(|(k, _)| k.name.starts_with("error")) {
                self.error(
                    Some(k.pos),
                    format!("`{}` does not apply to a `request:` case", k.name),
                    Some("the client sees the front door's response: a function error comes back as its own (a REST API's 502 {\"message\": \"Internal server error\"}); check `status` and `body`".into()),
                );
                ok = false;
            }
        }
        let injected = match f.get("authorizer") {
            None => None,
            Some(a) => {
                let given = self.fields(a, "`authorizer`", &["context"]);
                match given.as_ref().and_then(|g| g.get("context")) {
                    Some(c) if matches!(c.value, Value::Map(_)) => Some(c.to_json()),
                    Some(c) => {
                        self.wrong_kind(c, "`authorizer.context`", "a mapping");
                        ok = false;
                        None
                    }
                    None => {
                        self.error(
                            Some(a.pos),
                            "`authorizer` without `context`",
                            Some("give the identity the authorizer would pass on: `authorizer: {context: {sub: user-1}}`".into()),
                        );
                        ok = false;
                        None
                    }
                }
            }
        };
        let built = self.request(node, function, injected.as_ref());
        if let (Some(_), Some(a)) = (&built, f.key("authorizer")) {
            self.warn(
                a.pos,
                "this case injects its identity: the route's authorizer is not run for it",
                "remove `authorizer:` to send the request through the authorizer".into(),
            );
        }
        if ok { built } else { None }
    }

    /// The request `node` describes, its route among `function`'s, and the event it makes.
    pub(super) fn request(
        &mut self,
        node: &Node,
        function: Option<&Function>,
        injected: Option<&serde_json::Value>,
    ) -> Option<(Front, serde_json::Value)> {
        let f = self.fields(node, "`request`", KEYS)?;
        let api = match f.get("api") {
            None => Some(None),
            Some(a) => self.choice(a, "`api`", Api::NAMED).map(Some),
        };
        let method = match f.get("method") {
            None => Some("GET".to_string()),
            Some(m) => self.string(m, "`method`"),
        };
        let target = match f.get("path") {
            None => Some("/".to_string()),
            Some(p) => self.string(p, "`path`").filter(|p| {
                let ok = p.starts_with('/');
                if !ok {
                    self.error(
                        Some(node.pos),
                        format!("`path` `{p}` does not start with `/`"),
                        None,
                    );
                }
                ok
            }),
        };
        let mut request = Request::new(&method?, &target?);
        if let Some(q) = f.get("query") {
            let pairs = self.pairs(q, "`query`")?;
            let mut all: Vec<String> = (!request.raw_query.is_empty())
                .then(|| request.raw_query.clone())
                .into_iter()
                .collect();
            all.extend(
                pairs
                    .iter()
                    .map(|(k, v)| format!("{}={}", encode(k), encode(v))),
            );
            request.raw_query = all.join("&");
        }
        if let Some(h) = f.get("headers") {
            request.headers = self.pairs(h, "`headers`")?;
        }
        if let Some(c) = f.get("cookies") {
            let cookies = self.pairs(c, "`cookies`")?;
            let line: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request.headers.push(("Cookie".into(), line.join("; ")));
        }
        if request.header("user-agent").is_none() {
            request
                .headers
                .push(("User-Agent".into(), "lambda-ci".into()));
        }
        request.body = self.request_body(&f, &mut request.headers)?;
        if let Some(ip) = f.get("source_ip") {
            request.source_ip = self.string(ip, "`source_ip`")?;
        }
        let function = function?;
        let api = api?;
        // A preflight to an API with CORS is the front door's to answer.
        let answering = gateway::is_preflight(&request)
            .then(|| {
                function
                    .http
                    .iter()
                    .find(|r| r.cors.is_some() && api.is_none_or(|a| a == r.api))
            })
            .flatten();
        if let Some(route) = answering {
            let cors = route.cors.as_ref().expect("found with CORS");
            let answered = gateway::preflight(route.api, cors, &request);
            let front = Front {
                route: route.clone(),
                request,
                call: gateway::Call::now(),
                answered: Some(answered),
                injected: false,
            };
            return Some((front, serde_json::json!({})));
        }
        let route = self.route_of(node, &request, api, &function.http)?;
        let site = function.site(route.route);
        let call = gateway::Call::now();
        let event = gateway::build(&route, &request, &site, &call);
        // The route's authorizer runs now: it lets the request through with its identity, or
        // answers itself.
        let (event, answered) = match injected {
            Some(context) => {
                let authorizer = gateway::injected(route.route, context);
                (gateway::with_authorizer(event, authorizer), None)
            }
            None => match gateway::authorize(route.route, &request, call.epoch_secs()) {
                Ok(Some(authorizer)) => (gateway::with_authorizer(event, authorizer), None),
                Ok(None) => (event, None),
                Err(refusal) => (event, Some(refusal)),
            },
        };
        // An event Lambda would refuse never reaches the function: the front door answers
        // 413 itself, as it does in `serve`.
        let size = serde_json::to_vec(&event).map_or(0, |v| v.len()) as u64;
        let answered = if size > EVENT_LIMIT && answered.is_none() {
            let why = format!("the event is {size} bytes, over Lambda's {EVENT_LIMIT}");
            Some(gateway::own(route.route.api, gateway::Own::TooLarge, why))
        } else {
            answered
        };
        let front = Front {
            route: route.route.clone(),
            request,
            call,
            answered,
            injected: injected.is_some(),
        };
        Some((front, event))
    }

    /// The body from `body` (a string as is, anything else as JSON), `body_base64` or
    /// `body_file`; a JSON body gets `content-type: application/json` unless one is given.
    fn request_body(
        &mut self,
        f: &Fields<'_>,
        headers: &mut Vec<(String, String)>,
    ) -> Option<Vec<u8>> {
        self.exclusive(f, &["body", "body_base64", "body_file"])
            .ok()?;
        let typed = |headers: &mut Vec<(String, String)>, t: &str| {
            if gateway::header_value(headers, "content-type").is_none() {
                headers.push(("Content-Type".into(), t.into()));
            }
        };
        if let Some(b) = f.get("body") {
            return Some(match &b.value {
                Value::String(s) => s.clone().into_bytes(),
                Value::Null => Vec::new(),
                _ => {
                    typed(headers, "application/json");
                    b.to_json().to_string().into_bytes()
                }
            });
        }
        if let Some(b) = f.get("body_base64") {
            use base64::Engine as _;
            let text = self.string(b, "`body_base64`")?;
            return match base64::engine::general_purpose::STANDARD.decode(text.trim()) {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    self.error(
                        Some(b.pos),
                        format!("`body_base64` is not base64: {e}"),
                        None,
                    );
                    None
                }
            };
        }
        if let Some(b) = f.get("body_file") {
            let path = self.file(b, "`body_file`")?;
            self.inputs
                .push(std::path::absolute(&path).unwrap_or_else(|_| path.clone()));
            return match read_limited(&path, EVENT_LIMIT) {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    self.error(
                        Some(b.pos),
                        format!("`body_file` {} {e}", path.display()),
                        e.hint(),
                    );
                    None
                }
            };
        }
        Some(Vec::new())
    }

    /// A mapping of names to a value or a list of values, as ordered pairs.
    fn pairs(&mut self, node: &Node, what: &str) -> Option<Vec<(String, String)>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_kind(
                node,
                what,
                "a mapping of names to a value or a list of values",
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for (k, v) in entries {
            let values: Vec<&Node> = match &v.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![v],
            };
            for value in values {
                match self.scalar(value, &format!("{what} `{}`", k.name)) {
                    Some(s) => out.push((k.name.clone(), s)),
                    None => ok = false,
                }
            }
        }
        ok.then_some(out)
    }

    /// The route among `routes` (of `api`, when the case names one) that `request` reaches;
    /// a load error naming the routes when none does.
    fn route_of<'r>(
        &mut self,
        node: &Node,
        request: &Request,
        api: Option<Api>,
        routes: &'r [Route],
    ) -> Option<gateway::Matched<'r>> {
        if routes.is_empty() {
            self.error(
                Some(node.pos),
                "a `request:` case needs a front door, and the function has none",
                Some("declare its routes under `function:`, as `http: [{api: rest, method: GET, path: \"/orders/{id}\"}]`, or read them from its template".into()),
            );
            return None;
        }
        let apis: Vec<Api> = {
            let mut all: Vec<Api> = routes.iter().map(|r| r.api).collect();
            all.sort();
            all.dedup();
            all
        };
        let api = match (api, apis.as_slice()) {
            (Some(api), _) => api,
            (None, [only]) => *only,
            (None, _) => {
                let names: Vec<&str> = apis.iter().map(|a| a.name()).collect();
                self.error(
                    Some(node.pos),
                    format!("the function has several front doors ({}): say which this request goes through", names.join(", ")),
                    Some(format!("add `api: {}` to the request", names[0])),
                );
                return None;
            }
        };
        match gateway::matching(routes, api, &request.method, &request.path) {
            Ok(m) => Some(m),
            Err(_) => {
                let listed: BTreeMap<String, ()> = routes
                    .iter()
                    .filter(|r| r.api == api)
                    .map(|r| (r.key(), ()))
                    .collect();
                let listed: Vec<String> = listed.into_keys().collect();
                let (status, words) = match api {
                    Api::Rest => (403, "Missing Authentication Token"),
                    _ => (404, "Not Found"),
                };
                let routes_words = if listed.is_empty() {
                    format!("the function has no {} routes", api.describe())
                } else {
                    format!("its routes: {}", listed.join(", "))
                };
                self.error(
                    Some(node.pos),
                    format!(
                        "no route of the function's {} takes {} {} (the API would answer {status} {words})",
                        api.describe(),
                        request.method,
                        request.path
                    ),
                    Some(routes_words),
                );
                None
            }
        }
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
