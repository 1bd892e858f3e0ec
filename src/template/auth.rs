//! A route's authorizer, as a template declares it — SAM's `Auth` (the event's
//! `Auth.Authorizer`, else the API's `DefaultAuthorizer`, in `Auth.Authorizers`), an OpenAPI
//! body's `security` and `x-amazon-apigateway-authorizer`, CloudFormation's
//! `AWS::ApiGateway::Authorizer` and `AWS::ApiGatewayV2::Authorizer` named by a method's or
//! route's `AuthorizerId`. A Lambda authorizer (its function one of the template's) becomes the
//! route's `authorizer:` in the suite's words, its function read from the same template; JWT,
//! Cognito and IAM authorizers need what a template does not hold (the issuer's keys, signed
//! requests) and are said as not emulated.

use super::function::Reader;
use super::intrinsic::entry;
use super::routes::map;
use crate::suite::node::{Node, Pos, Value};

/// A Lambda authorizer as a template gives it, before it is written in the suite's words.
pub(super) struct Spec {
    pub(super) pos: Pos,
    pub(super) rest: bool,
    pub(super) request: bool,
    /// Identity sources as the API writes them.
    pub(super) sources: Vec<String>,
    pub(super) ttl: Option<u64>,
    pub(super) validation: Option<String>,
    pub(super) payload: Option<String>,
    pub(super) simple: bool,
    /// The logical id of its function.
    pub(super) function: String,
}

impl Reader<'_, '_> {
    /// The `authorizer:` of a route of an `Api` (`rest`) or `HttpApi` event with properties
    /// `event`, on an API whose merged properties are `api`.
    pub(super) fn sam_authorizer(
        &mut self,
        event: &Node,
        api: Option<&Node>,
        rest: bool,
    ) -> Option<Node> {
        let api_auth = api.and_then(|a| entry(a, "Auth"));
        let chosen = entry(event, "Auth")
            .and_then(|a| entry(a, "Authorizer"))
            .or_else(|| api_auth.and_then(|a| entry(a, "DefaultAuthorizer")))?;
        let name = self.text_of(chosen, "the route's `Authorizer`")?;
        match name.as_str() {
            "NONE" => return None,
            "AWS_IAM" => return self.unrun("an `AWS_IAM` authorizer on an API route"),
            _ => {}
        }
        let Some(found) = api_auth
            .and_then(|a| entry(a, "Authorizers"))
            .and_then(|a| entry(a, &name))
        else {
            self.error(
                chosen.pos,
                format!("authorizer `{name}` is not one of the API's `Auth.Authorizers`"),
                "name one the API declares, or `NONE`",
            );
            return None;
        };
        let Some(arn) = entry(found, "FunctionArn") else {
            let kind = match entry(found, "UserPoolArn") {
                Some(_) => "Cognito user-pool",
                None => "JWT",
            };
            return self.unrun(&format!("the {kind} authorizer `{name}`"));
        };
        let function = self.function_of(arn, &name)?;
        let identity = entry(found, "Identity");
        let read = |r: &mut Self, key: &str| {
            identity
                .and_then(|i| entry(i, key))
                .and_then(|n| r.text_of(n, &format!("`Identity.{key}`")))
        };
        let request = !rest
            || entry(found, "FunctionPayloadType")
                .and_then(|t| self.text_of(t, "`FunctionPayloadType`"))
                .is_some_and(|t| t == "REQUEST");
        let sources = self.sam_sources(identity, rest, request);
        let ttl = read(self, "ReauthorizeEvery").and_then(|t| t.parse().ok());
        let spec = Spec {
            pos: found.pos,
            rest,
            request,
            // SAM's default, where answers can be cached by something.
            ttl: ttl.or(Some(if rest && !sources.is_empty() { 300 } else { 0 })),
            sources,
            validation: read(self, "ValidationExpression"),
            payload: entry(found, "AuthorizerPayloadFormatVersion")
                .and_then(|p| self.text_of(p, "`AuthorizerPayloadFormatVersion`")),
            simple: entry(found, "EnableSimpleResponses").is_some_and(|s| self.is_true(s)),
            function,
        };
        Some(self.authorizer_node(spec))
    }

    /// Says an authorizer is not run, with what to do instead.
    pub(super) fn unrun(&mut self, what: &str) -> Option<Node> {
        self.not_emulated.push(format!(
            "{what} (not run: its keys or signed requests are not in the template; give the route's `authorizer:` in the suite, or inject an identity with `authorizer: {{context: ...}}`)"
        ));
        None
    }

    /// Whether `node` resolves to true (a boolean, or the text `true`).
    pub(super) fn is_true(&self, node: &Node) -> bool {
        let v = self.scope.eval(node);
        matches!(v.kind, super::value::Kind::Bool(true)) || v.text().as_deref() == Some("true")
    }

    /// The function `arn` names (`!GetAtt Fn.Arn`, `!Ref Fn`, a `Fn::Sub`/`Fn::Join` around
    /// `${Fn.Arn}`), when it is one of the template's; else said at its line.
    pub(super) fn function_of(&mut self, arn: &Node, name: &str) -> Option<String> {
        let found = self
            .stack
            .section("Resources")
            .iter()
            .find_map(|(key, resource)| {
                let kind = super::intrinsic::resource_parts(resource).0?;
                let function =
                    matches!(kind, "AWS::Serverless::Function" | "AWS::Lambda::Function");
                (function && super::routes::mentions(arn, &key.name)).then(|| key.name.clone())
            });
        if found.is_none() {
            self.error(
                arn.pos,
                format!("authorizer `{name}` invokes no function of this template"),
                "its function must be in the same template (`FunctionArn: !GetAtt AuthorizerFunction.Arn`)",
            );
        }
        found
    }

    /// The identity sources of a SAM `Identity` as the API writes them: a token authorizer's
    /// `Header` (default `Authorization`); a request authorizer's `Headers`, `QueryStrings`
    /// and `StageVariables` (`Context` ones are said as not emulated).
    fn sam_sources(&mut self, identity: Option<&Node>, rest: bool, request: bool) -> Vec<String> {
        let (header, query, stage) = match rest {
            true => (
                "method.request.header.",
                "method.request.querystring.",
                "stageVariables.",
            ),
            false => (
                "$request.header.",
                "$request.querystring.",
                "$stageVariables.",
            ),
        };
        if !request {
            let name = identity
                .and_then(|i| entry(i, "Header"))
                .and_then(|h| self.text_of(h, "`Identity.Header`"));
            return vec![format!(
                "{header}{}",
                name.unwrap_or_else(|| "Authorization".into())
            )];
        }
        let mut sources = Vec::new();
        for (property, prefix) in [
            ("Headers", header),
            ("QueryStrings", query),
            ("StageVariables", stage),
        ] {
            if let Some(list) = identity.and_then(|i| entry(i, property)) {
                let names = self.texts_of(list, &format!("`Identity.{property}`"));
                sources.extend(names.into_iter().map(|n| format!("{prefix}{n}")));
            }
        }
        if identity.and_then(|i| entry(i, "Context")).is_some() {
            self.not_emulated.push("a Lambda authorizer's `Identity.Context` sources (headers, query strings and stage variables are read)".into());
        }
        sources
    }

    /// Identity sources written as one text (`method.request.header.A, method.request.querystring.b`)
    /// or a list; `$context.` ones are left out, and said.
    pub(super) fn sources_of(&mut self, node: &Node) -> Vec<String> {
        let texts = self.texts_of(node, "`IdentitySource`");
        let all: Vec<String> = texts
            .iter()
            .flat_map(|t| t.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let (context, read): (Vec<String>, Vec<String>) = all
            .into_iter()
            .partition(|s| s.starts_with("context.") || s.starts_with("$context."));
        if !context.is_empty() {
            self.not_emulated.push(format!(
                "a Lambda authorizer's context identity sources ({}; headers, query strings and stage variables are read)",
                context.join(", ")
            ));
        }
        read
    }

    /// A Lambda authorizer in the suite's words, its function read from this template.
    pub(super) fn authorizer_node(&self, spec: Spec) -> Node {
        let pos = spec.pos;
        let text = |s: &str| Node {
            pos,
            value: Value::String(s.to_string()),
        };
        let kind = if spec.request { "request" } else { "token" };
        let mut entries: Vec<(&str, Node)> = vec![("type", text(kind))];
        if !spec.sources.is_empty() {
            let items = spec.sources.iter().map(|s| text(s)).collect();
            entries.push((
                "identity_source",
                Node {
                    pos,
                    value: Value::Seq(items),
                },
            ));
        }
        // CloudFormation's defaults: REST APIs cache for 5 minutes, HTTP APIs do not; a request
        // authorizer without sources cannot cache.
        let ttl = match spec.ttl {
            Some(ttl) => ttl,
            None if spec.rest && !(spec.request && spec.sources.is_empty()) => 300,
            None => 0,
        };
        entries.push((
            "ttl",
            Node {
                pos,
                value: Value::Number(ttl.into()),
            },
        ));
        if let Some(v) = &spec.validation {
            entries.push(("validation", text(v)));
        }
        if !spec.rest {
            let payload = match spec.payload.as_deref() {
                Some("1.0") | Some("1") => "1.0",
                _ => "2.0",
            };
            entries.push(("payload", text(payload)));
            if spec.simple && payload == "2.0" {
                entries.push((
                    "simple_responses",
                    Node {
                        pos,
                        value: Value::Bool(true),
                    },
                ));
            }
        }
        let file =
            std::path::absolute(&self.stack.file).unwrap_or_else(|_| self.stack.file.clone());
        let function = map(
            pos,
            vec![
                ("template", text(&file.display().to_string())),
                ("resource", text(&spec.function)),
            ],
        );
        entries.push(("function", function));
        map(pos, entries)
    }
}
