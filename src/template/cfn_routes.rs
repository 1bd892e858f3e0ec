//! Front doors declared with CloudFormation's own resources, as CDK synthesises them:
//! `AWS::ApiGateway::Method` (the path from its `AWS::ApiGateway::Resource` chain),
//! `AWS::ApiGatewayV2::Route` → `Integration`, an HTTP API's quick create, and inline OpenAPI
//! bodies with `x-amazon-apigateway-integration`. Only Lambda proxy integrations are routes:
//! a non-proxy integration (mapping templates, VTL) is said not to be emulated.

use super::function::Reader;
use super::intrinsic::{entry, resource_parts};
use super::routes::{Door, mentions, ref_target};
use crate::suite::node::{Node, Value};

/// The methods an OpenAPI path item may hold, and API Gateway's any-method extension.
const OPENAPI_METHODS: &[&str] = &[
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "x-amazon-apigateway-any-method",
];

impl Reader<'_, '_> {
    pub(super) fn cfn_routes(&mut self, id: &str, doors: &mut Vec<Door>) {
        let resources: Vec<(String, String, Node)> = self
            .stack
            .section("Resources")
            .iter()
            .filter_map(|(k, r)| {
                let (kind, props) = resource_parts(r);
                Some((k.name.clone(), kind?.to_string(), props?.clone()))
            })
            .collect();
        for (api_id, kind, props) in &resources {
            match kind.as_str() {
                "AWS::ApiGateway::Method" => self.rest_method(id, props, doors),
                "AWS::ApiGatewayV2::Route" => self.http_route(id, props, doors),
                "AWS::ApiGatewayV2::Api" => {
                    if entry(props, "Target").is_some_and(|t| mentions(t, id)) {
                        let mut door = self.http_stage(api_id, props.pos);
                        door.path = None;
                        doors.push(door);
                    }
                    self.openapi(id, api_id, "http", entry(props, "Body"), doors);
                }
                "AWS::ApiGateway::RestApi" => {
                    self.openapi(id, api_id, "rest", entry(props, "Body"), doors)
                }
                "AWS::Serverless::Api" => {
                    self.openapi(id, api_id, "rest", entry(props, "DefinitionBody"), doors)
                }
                "AWS::Serverless::HttpApi" => {
                    self.openapi(id, api_id, "http", entry(props, "DefinitionBody"), doors)
                }
                _ => {}
            }
        }
    }

    /// A proxy integration that invokes function `id`, or a non-proxy one (said).
    fn invokes(&mut self, id: &str, integration: &Node, kind_key: &str, uri_key: &str) -> bool {
        if !entry(integration, uri_key).is_some_and(|u| mentions(u, id)) {
            return false;
        }
        let kind = entry(integration, kind_key)
            .and_then(|t| self.scope.eval(t).text())
            .unwrap_or_default()
            .to_ascii_uppercase();
        if kind == "AWS_PROXY" {
            return true;
        }
        self.not_emulated.push(format!(
            "a non-proxy `{kind}` integration (mapping templates are not run; give the event with `event:`)"
        ));
        false
    }

    fn rest_method(&mut self, id: &str, props: &Node, doors: &mut Vec<Door>) {
        let Some(integration) = entry(props, "Integration") else {
            return;
        };
        if !self.invokes(id, integration, "Type", "Uri") {
            return;
        }
        let api = entry(props, "RestApiId")
            .and_then(ref_target)
            .map(str::to_string);
        let mut door = self.rest_stage(api.as_deref(), props.pos);
        door.method = entry(props, "HttpMethod").and_then(|m| self.text_of(m, "`HttpMethod`"));
        door.path = entry(props, "ResourceId").map(|r| self.resource_path(r, 0));
        door.authorizer = self.cfn_authorizer(props, true);
        doors.push(door);
    }

    /// The path of the `AWS::ApiGateway::Resource` `node` refers to, from the root.
    fn resource_path(&mut self, node: &Node, depth: usize) -> String {
        let parent = ref_target(node)
            .and_then(|r| self.scope.resource(r))
            .filter(|r| resource_parts(r).0 == Some("AWS::ApiGateway::Resource"))
            .and_then(|r| resource_parts(r).1);
        // The root resource (`Fn::GetAtt [Api, RootResourceId]`), or a cycle.
        let Some(props) = parent.filter(|_| depth < 64) else {
            return "/".into();
        };
        let part = entry(props, "PathPart")
            .and_then(|p| self.text_of(p, "`PathPart`"))
            .unwrap_or_default();
        let above = entry(props, "ParentId")
            .map(|p| self.resource_path(p, depth + 1))
            .unwrap_or_else(|| "/".into());
        format!("{}/{part}", above.trim_end_matches('/'))
    }

    /// A route of REST API `api`, with the stage its `AWS::ApiGateway::Stage` (or
    /// `Deployment`) gives and its binary media types.
    fn rest_stage(&mut self, api: Option<&str>, pos: crate::suite::node::Pos) -> Door {
        let mut door = Door {
            pos,
            api: "rest",
            name: api.map(str::to_string),
            ..Door::default()
        };
        let Some(api) = api else {
            return door;
        };
        if let Some(b) = self.property(api, "BinaryMediaTypes") {
            door.binary_media_types = self.binary_types_of(b);
        }
        self.stage_of(
            &mut door,
            api,
            &["AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment"],
            "RestApiId",
            "Variables",
        );
        door
    }

    /// A route of HTTP API `api`, with its stage.
    fn http_stage(&mut self, api: &str, pos: crate::suite::node::Pos) -> Door {
        let mut door = Door {
            pos,
            api: "http",
            name: Some(api.to_string()),
            ..Door::default()
        };
        if let Some(c) = self.property(api, "CorsConfiguration") {
            door.cors = self.cors_of(c, false);
        }
        self.stage_of(
            &mut door,
            api,
            &["AWS::ApiGatewayV2::Stage"],
            "ApiId",
            "StageVariables",
        );
        door
    }

    /// The first stage resource of `kinds` whose `reference` is `api`: its name and
    /// variables.
    fn stage_of(
        &mut self,
        door: &mut Door,
        api: &str,
        kinds: &[&str],
        reference: &str,
        variables: &str,
    ) {
        let stage = self.stack.section("Resources").iter().find_map(|(_, r)| {
            let (kind, props) = resource_parts(r);
            (kinds.contains(&kind?)
                && entry(props?, reference).and_then(ref_target) == Some(api)
                && entry(props?, "StageName").is_some())
            .then(|| props.cloned())
            .flatten()
        });
        if let Some(props) = stage {
            door.stage = entry(&props, "StageName").and_then(|s| self.text_of(s, "`StageName`"));
            if let Some(v) = entry(&props, variables) {
                door.stage_variables = self.pairs_of(v, &format!("`{variables}`"));
            }
        }
    }

    fn http_route(&mut self, id: &str, props: &Node, doors: &mut Vec<Door>) {
        let Some(target) = entry(props, "Target") else {
            return;
        };
        // `integrations/<Integration>`: the integration must invoke this function.
        let integration = self.stack.section("Resources").iter().find_map(|(k, r)| {
            let (kind, p) = resource_parts(r);
            (kind == Some("AWS::ApiGatewayV2::Integration") && mentions(target, &k.name))
                .then(|| p.cloned())
                .flatten()
        });
        let Some(integration) = integration else {
            return;
        };
        if !self.invokes(id, &integration, "IntegrationType", "IntegrationUri") {
            return;
        }
        let api = entry(props, "ApiId")
            .and_then(ref_target)
            .unwrap_or_default()
            .to_string();
        let mut door = self.http_stage(&api, props.pos);
        door.payload = entry(&integration, "PayloadFormatVersion")
            .and_then(|p| self.text_of(p, "`PayloadFormatVersion`"));
        door.authorizer = self.cfn_authorizer(props, false);
        let key = entry(props, "RouteKey").and_then(|k| self.text_of(k, "`RouteKey`"));
        match key.as_deref().and_then(|k| k.split_once(' ')) {
            Some((method, path)) => {
                door.method = Some(method.to_string());
                door.path = Some(path.to_string());
            }
            None => door.path = None,
        }
        doors.push(door);
    }

    /// Routes an inline OpenAPI `body` of API `api_id` sends to function `id`.
    fn openapi(
        &mut self,
        id: &str,
        api_id: &str,
        api: &'static str,
        body: Option<&Node>,
        doors: &mut Vec<Door>,
    ) {
        let Some(Value::Map(paths)) = body.and_then(|b| entry(b, "paths")).map(|p| &p.value) else {
            return;
        };
        let sam = self
            .scope
            .resource(api_id)
            .and_then(|r| resource_parts(r).0)
            .is_some_and(|k| k.starts_with("AWS::Serverless::"));
        let base = match api {
            // A SAM API's settings, over `Globals`.
            _ if sam => {
                let mut d = Door {
                    pos: paths.first().map_or_else(Default::default, |p| p.0.pos),
                    api,
                    ..Door::default()
                };
                let kind = if api == "rest" { "Api" } else { "HttpApi" };
                self.serverless_api(&mut d, Some(api_id), kind);
                d
            }
            "rest" => self.rest_stage(
                Some(api_id),
                paths.first().map_or_else(Default::default, |p| p.0.pos),
            ),
            _ => self.http_stage(api_id, Default::default()),
        };
        for (path, item) in paths {
            let Value::Map(methods) = &item.value else {
                continue;
            };
            for (method, operation) in methods {
                if !OPENAPI_METHODS.contains(&method.name.as_str()) {
                    continue;
                }
                let Some(integration) = entry(operation, "x-amazon-apigateway-integration") else {
                    continue;
                };
                if !self.invokes(id, integration, "type", "uri") {
                    continue;
                }
                let method = match method.name.as_str() {
                    "x-amazon-apigateway-any-method" => "ANY".to_string(),
                    m => m.to_ascii_uppercase(),
                };
                let default = path.name == "$default";
                let authorizer =
                    body.and_then(|b| self.openapi_authorizer(b, operation, api == "rest"));
                doors.push(Door {
                    pos: method_pos(methods, &method),
                    api,
                    method: (!default).then_some(method),
                    path: (!default).then(|| path.name.clone()),
                    payload: entry(integration, "payloadFormatVersion")
                        .and_then(|p| self.scope.eval(p).text()),
                    stage: base.stage.clone(),
                    stage_variables: base.stage_variables.clone(),
                    binary_media_types: base.binary_media_types.clone(),
                    cors: base.cors.clone(),
                    name: Some(api_id.to_string()),
                    authorizer,
                    ..Door::default()
                });
            }
        }
    }
}

fn method_pos(
    methods: &[(crate::suite::node::Key, Node)],
    method: &str,
) -> crate::suite::node::Pos {
    methods
        .iter()
        .find(|(k, _)| {
            k.name.eq_ignore_ascii_case(method)
                || (method == "ANY" && k.name.starts_with("x-amazon"))
        })
        .map_or_else(Default::default, |(k, _)| k.pos)
}
