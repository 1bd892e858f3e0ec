//! Decodes a function's `http:` front doors: routes of REST and HTTP APIs, and its function
//! URL, each checked as API Gateway and Lambda would check them.

use crate::gateway::{Api, InvokeMode, Method, PathTemplate, Payload, Route, UrlAuth};

use super::fields::Ctx;
use super::node::{Node, Value};

const KEYS: &[&str] = &[
    "api",
    "method",
    "path",
    "payload",
    "stage",
    "stage_variables",
    "binary_media_types",
    "auth",
    "invoke_mode",
    "name",
    "cors",
    "authorizer",
];

const CORS_KEYS: &[&str] = &[
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "max_age",
    "allow_credentials",
];

/// Keys only a function URL takes, and keys it does not.
const URL_ONLY: &[&str] = &["auth", "invoke_mode"];
const NOT_URL: &[&str] = &[
    "method",
    "path",
    "payload",
    "stage",
    "stage_variables",
    "binary_media_types",
];

impl Ctx<'_> {
    /// `http:`: a list of routes.
    pub(super) fn routes(&mut self, node: &Node) -> Option<Vec<Route>> {
        let Value::Seq(items) = &node.value else {
            self.wrong_kind(
                node,
                "`http`",
                "a list of routes (`- {api: rest, method: GET, path: /orders/{id}}`)",
            );
            return None;
        };
        let mut routes: Vec<(Route, &Node)> = Vec::new();
        let mut ok = true;
        for item in items {
            let Some(route) = self.route(item) else {
                ok = false;
                continue;
            };
            let same = routes.iter().find(|(r, _)| {
                r.api == route.api && r.api_name == route.api_name && r.key() == route.key()
            });
            if let Some((_, first)) = same {
                let what = match route.api {
                    Api::Url => "a second function URL".to_string(),
                    _ => format!(
                        "route `{}` twice in its {}",
                        route.key(),
                        route.api.describe()
                    ),
                };
                self.error(
                    Some(item.pos),
                    format!("`http` declares {what}"),
                    Some(format!("the first is at line {}", first.pos.line)),
                );
                ok = false;
                continue;
            }
            routes.push((route, item));
        }
        let mut routes: Vec<Route> = routes.into_iter().map(|(r, _)| r).collect();
        // CORS is the API's: one route's configuration is every route's of its API.
        for i in 0..routes.len() {
            if routes[i].cors.is_some() {
                continue;
            }
            let (api, name) = (routes[i].api, routes[i].api_name.clone());
            routes[i].cors = routes
                .iter()
                .find(|r| r.api == api && r.api_name == name && r.cors.is_some())
                .and_then(|r| r.cors.clone());
        }
        ok.then_some(routes)
    }

    /// `cors: true` (every origin, method and header) or its settings.
    fn cors(&mut self, node: &Node) -> Option<crate::gateway::Cors> {
        let every = || vec!["*".to_string()];
        if node.value == Value::Bool(true) {
            return Some(crate::gateway::Cors {
                allow_origins: every(),
                allow_methods: every(),
                allow_headers: every(),
                ..Default::default()
            });
        }
        let f = self.fields(node, "`cors`", CORS_KEYS)?;
        let mut cors = crate::gateway::Cors::default();
        let mut ok = true;
        for (key, list) in [
            ("allow_origins", &mut cors.allow_origins),
            ("allow_methods", &mut cors.allow_methods),
            ("allow_headers", &mut cors.allow_headers),
            ("expose_headers", &mut cors.expose_headers),
        ] {
            if let Some(v) = f.get(key) {
                match self.string_list(v, &format!("`cors.{key}`")) {
                    Some(items) => *list = items,
                    None => ok = false,
                }
            }
        }
        if let Some(age) = f.get("max_age") {
            cors.max_age = self.integer(age, "`cors.max_age`", 0, 86_400, "seconds");
            ok &= cors.max_age.is_some();
        }
        match f.get("allow_credentials").map(|c| &c.value) {
            None => {}
            Some(Value::Bool(b)) => cors.allow_credentials = *b,
            Some(_) => {
                let node = f.get("allow_credentials").expect("present");
                self.wrong_kind(node, "`cors.allow_credentials`", "true or false");
                ok = false;
            }
        }
        ok.then_some(cors)
    }

    fn route(&mut self, node: &Node) -> Option<Route> {
        let f = self.fields(node, "a route of `http`", KEYS)?;
        let api_node = self.required(&f, node, "api", "a route of `http`", "say which front door: `api: rest` (API Gateway REST API, payload 1.0), `api: http` (HTTP API, payload 2.0) or `api: url` (function URL)")?;
        let api = self.choice(api_node, "`api`", Api::NAMED)?;
        let (refused, words) = match api {
            Api::Url => (NOT_URL, "a function URL answers every method and path"),
            _ => (URL_ONLY, "only a function URL (`api: url`) has it"),
        };
        let mut ok = true;
        for key in refused {
            if let Some(k) = f.key(key) {
                self.error(
                    Some(k.pos),
                    format!("`{key}` does not apply to a route of a {}", api.describe()),
                    Some(words.into()),
                );
                ok = false;
            }
        }
        let method = match f.get("method") {
            None => Some(Method::Any),
            Some(m) => {
                let text = self.string(m, "`method`")?;
                let parsed = Method::parse(&text);
                if parsed.is_none() {
                    self.error(
                        Some(m.pos),
                        format!("unknown `method` `{text}`"),
                        Some(format!("API Gateway routes: {}", Method::KNOWN.join(", "))),
                    );
                }
                parsed
            }
        };
        let path = match (api, f.get("path")) {
            (Api::Url, _) => Some(None),
            (Api::Http, Some(p)) if p.value == Value::String("$default".into()) => Some(None),
            (_, Some(p)) => self.route_path(p).map(Some),
            (_, None) => {
                self.error(
                    Some(node.pos),
                    format!("a route of a {} without `path`", api.describe()),
                    Some(match api {
                        Api::Http => "for example `path: /items/{id}`, or `path: $default` for the route that takes what no other does".into(),
                        _ => "for example `path: /orders/{id}` or `path: /{proxy+}`".into(),
                    }),
                );
                None
            }
        };
        let mut route = Route::new(api, method?, path?);
        if let Some(p) = f.get("payload") {
            let payload = self.payload(p)?;
            if api == Api::Rest && payload != Payload::V1 {
                self.error(
                    Some(p.pos),
                    "a REST API sends payload 1.0 only",
                    Some("use `api: http` for payload 2.0".into()),
                );
                ok = false;
            }
            route.payload = payload;
        }
        if let Some(s) = f.get("stage") {
            route.stage = self.string(s, "`stage`")?;
        }
        if let Some(v) = f.get("stage_variables") {
            route.stage_variables = self.string_map(v, "`stage_variables`")?;
        }
        if let Some(b) = f.get("binary_media_types") {
            if api != Api::Rest {
                self.error(
                    Some(b.pos),
                    "`binary_media_types` is a REST API setting",
                    Some(
                        "an HTTP API base64-encodes every body that is not text, by itself".into(),
                    ),
                );
                ok = false;
            }
            route.binary_media_types = self.string_list(b, "`binary_media_types`")?;
        }
        if let Some(a) = f.get("auth") {
            route.auth = self.choice(a, "`auth`", UrlAuth::NAMED)?;
        }
        if let Some(m) = f.get("invoke_mode") {
            route.invoke_mode = self.choice(m, "`invoke_mode`", InvokeMode::NAMED)?;
        }
        if let Some(n) = f.get("name") {
            route.api_name = Some(self.string(n, "`name`")?);
        }
        if let Some(c) = f.get("cors") {
            route.cors = Some(self.cors(c)?);
        }
        if let Some(a) = f.get("authorizer") {
            if api == Api::Url {
                self.error(
                    Some(a.pos),
                    "a function URL has no authorizer: its `auth` is NONE or AWS_IAM",
                    Some(
                        "put the route behind `api: http` or `api: rest`, which take authorizers"
                            .into(),
                    ),
                );
                return None;
            }
            route.authorizer = Some(self.authorizer(a, api)?);
        }
        ok.then_some(route)
    }

    fn route_path(&mut self, node: &Node) -> Option<PathTemplate> {
        let text = self.string(node, "`path`")?;
        match PathTemplate::parse(&text) {
            Ok(p) => Some(p),
            Err(why) => {
                self.error(Some(node.pos), format!("`path` {why}"), None);
                None
            }
        }
    }

    /// `payload: "1.0"` or `"2.0"` (a number is taken as written).
    pub(super) fn payload(&mut self, node: &Node) -> Option<Payload> {
        let text = match &node.value {
            Value::Number(n) => format!("{:.1}", n.as_f64().unwrap_or_default()),
            _ => self.scalar(node, "`payload`")?,
        };
        match Payload::NAMED.iter().find(|(name, _)| *name == text) {
            Some((_, p)) => Some(*p),
            None => {
                self.error(
                    Some(node.pos),
                    format!("unknown `payload` `{text}`"),
                    Some("`payload` is \"1.0\" or \"2.0\"".into()),
                );
                None
            }
        }
    }

    /// A mapping of names to scalar values, as text.
    pub(super) fn string_map(
        &mut self,
        node: &Node,
        what: &str,
    ) -> Option<std::collections::BTreeMap<String, String>> {
        let Value::Map(entries) = &node.value else {
            self.wrong_kind(node, what, "a mapping of names to values");
            return None;
        };
        let mut out = std::collections::BTreeMap::new();
        let mut ok = true;
        for (k, v) in entries {
            match self.scalar(v, &format!("{what} `{}`", k.name)) {
                Some(v) => {
                    out.insert(k.name.clone(), v);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A string, or a list of strings.
    pub(super) fn string_list(&mut self, node: &Node, what: &str) -> Option<Vec<String>> {
        match &node.value {
            Value::Seq(items) => {
                let all: Vec<_> = items.iter().map(|i| self.string(i, what)).collect();
                all.into_iter().collect()
            }
            _ => self.string(node, what).map(|s| vec![s]),
        }
    }
}
