//! A function's front doors as its template declares them: SAM's `Api` and `HttpApi` events
//! (with the `AWS::Serverless::Api`/`HttpApi` they name, or the implicit API), its
//! `FunctionUrlConfig` and `AWS::Lambda::Url` resources — put in the suite's `http:` words,
//! each at the template line that declares it. CloudFormation's own API resources are read
//! in `cfn_routes`.

use super::function::Reader;
use super::intrinsic::{entry, resource_parts};
use crate::suite::node::{Key, Node, Pos, Value};

/// One route in the suite's words, before it becomes an `http:` entry.
#[derive(Debug, Default)]
pub(super) struct Door {
    pub(super) pos: Pos,
    pub(super) api: &'static str,
    pub(super) method: Option<String>,
    /// `None` on an HTTP API: its `$default` route.
    pub(super) path: Option<String>,
    pub(super) payload: Option<String>,
    pub(super) stage: Option<String>,
    pub(super) stage_variables: Vec<(String, String)>,
    pub(super) binary_media_types: Vec<String>,
    pub(super) auth: Option<String>,
    pub(super) invoke_mode: Option<String>,
    /// The API's logical id.
    pub(super) name: Option<String>,
    /// Its CORS configuration, in the suite's words.
    pub(super) cors: Option<Node>,
    /// Its authorizer, in the suite's words.
    pub(super) authorizer: Option<Node>,
}

impl Door {
    fn node(&self) -> Node {
        let pos = self.pos;
        let text = |s: &str| Node {
            pos,
            value: Value::String(s.to_string()),
        };
        let mut entries = vec![("api", text(self.api))];
        let path = match (self.api, &self.path) {
            ("http", None) => Some("$default"),
            (_, p) => p.as_deref(),
        };
        let scalars = [
            ("method", self.method.as_deref()),
            ("path", path),
            ("payload", self.payload.as_deref()),
            ("stage", self.stage.as_deref()),
            ("auth", self.auth.as_deref()),
            ("invoke_mode", self.invoke_mode.as_deref()),
            ("name", self.name.as_deref()),
        ];
        entries.extend(scalars.into_iter().filter_map(|(k, v)| Some((k, text(v?)))));
        if !self.stage_variables.is_empty() {
            let vars = self
                .stage_variables
                .iter()
                .map(|(k, v)| (k.as_str(), text(v)))
                .collect();
            entries.push(("stage_variables", map(pos, vars)));
        }
        if !self.binary_media_types.is_empty() {
            let items = self.binary_media_types.iter().map(|t| text(t)).collect();
            entries.push((
                "binary_media_types",
                Node {
                    pos,
                    value: Value::Seq(items),
                },
            ));
        }
        if let Some(cors) = &self.cors {
            entries.push(("cors", cors.clone()));
        }
        if let Some(authorizer) = &self.authorizer {
            entries.push(("authorizer", authorizer.clone()));
        }
        map(pos, entries)
    }
}

pub(super) fn map(pos: Pos, entries: Vec<(&str, Node)>) -> Node {
    Node {
        pos,
        value: Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    (
                        Key {
                            pos,
                            name: k.to_string(),
                        },
                        v,
                    )
                })
                .collect(),
        ),
    }
}

/// Whether `node` refers to resource `id`: `Ref`, `Fn::GetAtt` or a `${id…}` in `Fn::Sub`,
/// anywhere inside.
pub(super) fn mentions(node: &Node, id: &str) -> bool {
    match &node.value {
        Value::Map(entries) if entries.len() == 1 => {
            let (k, v) = &entries[0];
            let direct = match (k.name.as_str(), &v.value) {
                ("Ref", Value::String(s)) => s == id,
                ("Fn::GetAtt", Value::String(s)) => s.split('.').next() == Some(id),
                ("Fn::GetAtt", Value::Seq(items)) => {
                    items.first().map(|n| &n.value) == Some(&Value::String(id.to_string()))
                }
                ("Fn::Sub", Value::String(s)) => sub_mentions(s, id),
                ("Fn::Sub", Value::Seq(items)) => items
                    .first()
                    .is_some_and(|n| matches!(&n.value, Value::String(s) if sub_mentions(s, id))),
                _ => false,
            };
            direct || mentions(v, id)
        }
        Value::Map(entries) => entries.iter().any(|(_, v)| mentions(v, id)),
        Value::Seq(items) => items.iter().any(|i| mentions(i, id)),
        _ => false,
    }
}

fn sub_mentions(text: &str, id: &str) -> bool {
    text.contains(&format!("${{{id}}}")) || text.contains(&format!("${{{id}."))
}

/// The logical id a `Ref` names, if `node` is one.
pub(super) fn ref_target(node: &Node) -> Option<&str> {
    match entry(node, "Ref").map(|r| &r.value) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// The suite's `cors` keys for the template's CORS properties.
const CORS_KEYS: &[(&str, &str)] = &[
    ("AllowOrigins", "allow_origins"),
    ("AllowOrigin", "allow_origins"),
    ("AllowMethods", "allow_methods"),
    ("AllowHeaders", "allow_headers"),
    ("ExposeHeaders", "expose_headers"),
    ("MaxAge", "max_age"),
    ("AllowCredentials", "allow_credentials"),
];

impl<'t> Reader<'_, 't> {
    /// A CORS configuration in the suite's words: HTTP API and function URL settings (lists,
    /// `true` for every origin), or a SAM REST API's, whose values are quoted header values
    /// (`"'*'"`, `"'GET,POST'"`; a string alone is the origin).
    pub(super) fn cors_of(&mut self, node: &Node, quoted: bool) -> Option<Node> {
        let pos = node.pos;
        let v = self.scope.eval(node);
        if let Some(u) = v.unresolved_part() {
            let fix = "give the route's `cors:` in the suite".to_string();
            self.unresolved("the CORS configuration", &u.clone(), fix);
            return None;
        }
        let text = |s: &str| Node {
            pos,
            value: Value::String(s.to_string()),
        };
        let unquote = |s: String| s.trim().trim_matches('\'').to_string();
        let list = |items: Vec<String>| Node {
            pos,
            value: Value::Seq(items.iter().map(|s| text(s)).collect()),
        };
        let mut entries: Vec<(&str, Node)> = Vec::new();
        match &v.kind {
            super::value::Kind::Bool(true) => {
                return Some(Node {
                    pos,
                    value: Value::Bool(true),
                });
            }
            super::value::Kind::String(s) if quoted => {
                entries.push(("allow_origins", list(vec![unquote(s.clone())])));
            }
            super::value::Kind::Map(_) => {
                for (property, key) in CORS_KEYS {
                    let Some(value) = v.get(property) else {
                        continue;
                    };
                    let node = match (&value.kind, *key) {
                        (super::value::Kind::Bool(b), _) => Node {
                            pos,
                            value: Value::Bool(*b),
                        },
                        (_, "max_age") => match value
                            .text()
                            .map(unquote)
                            .and_then(|t| t.parse::<u64>().ok())
                        {
                            Some(n) => Node {
                                pos,
                                value: Value::Number(n.into()),
                            },
                            None => continue,
                        },
                        (super::value::Kind::List(items), _) => {
                            list(items.iter().filter_map(|i| i.text()).collect())
                        }
                        (_, _) => {
                            let Some(t) = value.text() else { continue };
                            let t = if quoted { unquote(t) } else { t };
                            list(t.split(',').map(|p| p.trim().to_string()).collect())
                        }
                    };
                    entries.push((key, node));
                }
            }
            _ => return None,
        }
        Some(map(pos, entries))
    }

    /// Puts the function's front doors under `http`, unless the suite gives its own.
    pub(super) fn front_doors(&mut self, id: &str, resource: &Node, props: &Node) {
        if !self.wanted("http") {
            return;
        }
        let mut doors = Vec::new();
        self.sam_events(props, &mut doors);
        self.url_config(id, props, &mut doors);
        self.cfn_routes(id, &mut doors);
        // An API's OpenAPI body and the events that made it name the same routes.
        let mut seen = Vec::new();
        doors.retain(|d| {
            let key = (d.api, d.name.clone(), d.method.clone(), d.path.clone());
            let first = !seen.contains(&key);
            seen.push(key);
            first
        });
        if doors.is_empty() {
            return;
        }
        let nodes = doors.iter().map(Door::node).collect();
        let pos = entry(props, "Events").map_or(resource.pos, |e| e.pos);
        let node = Node {
            pos,
            value: Value::Seq(nodes),
        };
        self.put("http", pos, node, super::function::Origin::Resource(pos));
    }

    /// The text of `node` once its intrinsics are worked out; what cannot be known here is
    /// said at its line.
    pub(super) fn text_of(&mut self, node: &Node, what: &str) -> Option<String> {
        let v = self.scope.eval(node);
        if let Some(u) = v.unresolved_part() {
            let fix = "give the function's routes under `http:` in the suite".to_string();
            self.unresolved(what, &u.clone(), fix);
            return None;
        }
        v.text()
    }

    /// A list of texts (a single text is a list of one).
    pub(super) fn texts_of(&mut self, node: &Node, what: &str) -> Vec<String> {
        match &node.value {
            Value::Seq(items) => items.iter().filter_map(|i| self.text_of(i, what)).collect(),
            _ => self.text_of(node, what).into_iter().collect(),
        }
    }

    /// Property `name` of resource `id`, if both exist.
    pub(super) fn property(&self, id: &str, name: &str) -> Option<&'t Node> {
        self.scope
            .resource(id)
            .and_then(|r| resource_parts(r).1)
            .and_then(|p| entry(p, name))
    }

    /// An API's `BinaryMediaTypes`, with the `~1` they are written with for `/` (as the
    /// API Gateway patch syntax, and SAM, have it) read back as `/`.
    pub(super) fn binary_types_of(&mut self, node: &Node) -> Vec<String> {
        self.texts_of(node, "`BinaryMediaTypes`")
            .into_iter()
            .map(|t| t.replace("~1", "/"))
            .collect()
    }

    /// A mapping of names to texts.
    pub(super) fn pairs_of(&mut self, node: &Node, what: &str) -> Vec<(String, String)> {
        let Value::Map(entries) = &node.value else {
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|(k, v)| Some((k.name.clone(), self.text_of(v, what)?)))
            .collect()
    }

    /// SAM's `Api` and `HttpApi` events.
    fn sam_events(&mut self, props: &Node, doors: &mut Vec<Door>) {
        let Some(Value::Map(events)) = entry(props, "Events").map(|e| &e.value) else {
            return;
        };
        for (name, event) in events {
            let kind = entry(event, "Type").and_then(|t| self.text_of(t, "the event's `Type`"));
            let empty = Node {
                pos: event.pos,
                value: Value::Map(Vec::new()),
            };
            let p = entry(event, "Properties").unwrap_or(&empty);
            let what = format!("event `{}`", name.name);
            let mut door = Door {
                pos: name.pos,
                ..Door::default()
            };
            match kind.as_deref() {
                Some("Api") => door.api = "rest",
                Some("HttpApi") => door.api = "http",
                _ => continue,
            }
            door.path = entry(p, "Path").and_then(|n| self.text_of(n, &format!("{what} `Path`")));
            door.method = entry(p, "Method")
                .and_then(|n| self.text_of(n, &format!("{what} `Method`")))
                .map(|m| if m == "*" { "ANY".into() } else { m });
            if door.api == "http" {
                door.payload = entry(p, "PayloadFormatVersion")
                    .and_then(|n| self.text_of(n, &format!("{what} `PayloadFormatVersion`")));
                if door.method.is_none() && door.path.is_some() {
                    door.method = Some("ANY".into());
                }
            }
            let (reference, kind, implicit) = match door.api {
                "rest" => ("RestApiId", "Api", "ServerlessRestApi"),
                _ => ("ApiId", "HttpApi", "ServerlessHttpApi"),
            };
            let named = entry(p, reference).and_then(ref_target).map(str::to_string);
            let api = self.serverless_api(&mut door, named.as_deref(), kind);
            door.authorizer = self.sam_authorizer(p, api.as_ref(), door.api == "rest");
            door.name = Some(named.unwrap_or_else(|| implicit.to_string()));
            doors.push(door);
        }
    }

    /// The settings of the `AWS::Serverless::<kind>` named `id` (or the implicit API), over
    /// `Globals.<kind>`: stage, stage variables, binary media types; the API's properties
    /// so merged.
    pub(super) fn serverless_api(
        &mut self,
        door: &mut Door,
        id: Option<&str>,
        kind: &str,
    ) -> Option<Node> {
        let own = id
            .and_then(|id| self.scope.resource(id))
            .and_then(|r| resource_parts(r).1)
            .cloned();
        let global = self.stack.globals(kind).cloned();
        let props = match (own, global) {
            (Some(own), Some(global)) => super::globals::merge(&global, &own),
            (own, global) => own.or(global)?,
        };
        door.stage = entry(&props, "StageName").and_then(|n| self.text_of(n, "`StageName`"));
        let cors = if kind == "Api" {
            "Cors"
        } else {
            "CorsConfiguration"
        };
        door.cors = entry(&props, cors).and_then(|c| self.cors_of(c, kind == "Api"));
        let variables = if kind == "Api" {
            "Variables"
        } else {
            "StageVariables"
        };
        if let Some(v) = entry(&props, variables) {
            door.stage_variables = self.pairs_of(v, &format!("`{variables}`"));
        }
        if kind == "Api"
            && let Some(b) = entry(&props, "BinaryMediaTypes")
        {
            door.binary_media_types = self.binary_types_of(b);
        }
        Some(props)
    }

    /// `FunctionUrlConfig`, and the `AWS::Lambda::Url` resources that target the function.
    fn url_config(&mut self, id: &str, props: &Node, doors: &mut Vec<Door>) {
        let mut configs: Vec<Node> = entry(props, "FunctionUrlConfig")
            .cloned()
            .into_iter()
            .collect();
        for (_, resource) in self.stack.section("Resources") {
            if let (Some("AWS::Lambda::Url"), Some(p)) = resource_parts(resource)
                && entry(p, "TargetFunctionArn").is_some_and(|t| mentions(t, id))
            {
                configs.push(p.clone());
            }
        }
        for config in configs {
            let mut door = Door {
                pos: config.pos,
                api: "url",
                ..Door::default()
            };
            door.auth = entry(&config, "AuthType").and_then(|n| self.text_of(n, "`AuthType`"));
            door.invoke_mode =
                entry(&config, "InvokeMode").and_then(|n| self.text_of(n, "`InvokeMode`"));
            door.cors = entry(&config, "Cors").and_then(|c| self.cors_of(c, false));
            doors.push(door);
        }
    }
}
