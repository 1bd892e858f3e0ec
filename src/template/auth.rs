//! A SAM route's authorizer, as its API's `Auth` declares it: the event's `Auth.Authorizer`,
//! else the API's `DefaultAuthorizer`, looked up in `Auth.Authorizers`. A Lambda authorizer
//! (`FunctionArn` naming a function of the template) becomes the route's `authorizer:` in the
//! suite's words, its function read from the same template; JWT, Cognito and IAM authorizers
//! need what a template does not hold (the issuer's keys, signed requests) and are said as
//! not emulated.

use super::function::Reader;
use super::intrinsic::entry;
use super::routes::map;
use crate::suite::node::{Node, Value};

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
        if name == "NONE" {
            return None;
        }
        if name == "AWS_IAM" {
            self.not_emulated.push(
                "an `AWS_IAM` authorizer on an API route (requests reach the function unsigned)"
                    .into(),
            );
            return None;
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
            let kind = if entry(found, "UserPoolArn").is_some() {
                "Cognito user-pool"
            } else {
                "JWT"
            };
            self.not_emulated.push(format!(
                "the {kind} authorizer `{name}` (its keys are not in the template: give the route's `authorizer:` in the suite with the issuer's JWKS file)"
            ));
            return None;
        };
        let Some(function) = self.function_named(arn) else {
            self.error(
                arn.pos,
                format!("authorizer `{name}`'s `FunctionArn` names no function of this template"),
                "`FunctionArn: !GetAtt AuthorizerFunction.Arn`, a function of the same template",
            );
            return None;
        };
        let pos = found.pos;
        let text = |s: &str| Node {
            pos,
            value: Value::String(s.to_string()),
        };
        let identity = entry(found, "Identity");
        let request = match rest {
            true => entry(found, "FunctionPayloadType")
                .and_then(|t| self.text_of(t, "`FunctionPayloadType`"))
                .is_some_and(|t| t == "REQUEST"),
            false => true,
        };
        let mut entries: Vec<(&str, Node)> =
            vec![("type", text(if request { "request" } else { "token" }))];
        let sources = self.identity_sources(identity, rest, request);
        let ttl = identity
            .and_then(|i| entry(i, "ReauthorizeEvery"))
            .and_then(|r| self.text_of(r, "`ReauthorizeEvery`"))
            .and_then(|t| t.parse::<u64>().ok())
            // SAM's default, where answers can be cached by something.
            .unwrap_or(if rest && !sources.is_empty() { 300 } else { 0 });
        if !sources.is_empty() {
            let items = sources.iter().map(|s| text(s)).collect();
            entries.push((
                "identity_source",
                Node {
                    pos,
                    value: Value::Seq(items),
                },
            ));
        }
        entries.push((
            "ttl",
            Node {
                pos,
                value: Value::Number(ttl.into()),
            },
        ));
        if let Some(v) = identity
            .and_then(|i| entry(i, "ValidationExpression"))
            .and_then(|v| self.text_of(v, "`ValidationExpression`"))
        {
            entries.push(("validation", text(&v)));
        }
        if !rest {
            let payload = entry(found, "AuthorizerPayloadFormatVersion")
                .and_then(|p| self.text_of(p, "`AuthorizerPayloadFormatVersion`"));
            let payload = match payload.as_deref() {
                Some("1.0") | Some("1") => "1.0",
                _ => "2.0",
            };
            entries.push(("payload", text(payload)));
            let simple = entry(found, "EnableSimpleResponses")
                .map(|s| self.scope.eval(s))
                .is_some_and(|v| {
                    matches!(v.kind, super::value::Kind::Bool(true))
                        || v.text().as_deref() == Some("true")
                });
            if simple {
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
        let function_node = map(
            pos,
            vec![
                ("template", text(&file.display().to_string())),
                ("resource", text(&function)),
            ],
        );
        entries.push(("function", function_node));
        Some(map(pos, entries))
    }

    /// The logical id of the function `arn` names (`!GetAtt Fn.Arn`, `!Ref Fn`, a `Fn::Sub`
    /// of `${Fn.Arn}`), when it is a function of the template.
    fn function_named(&self, arn: &Node) -> Option<String> {
        self.stack
            .section("Resources")
            .iter()
            .find_map(|(key, resource)| {
                let kind = super::intrinsic::resource_parts(resource).0?;
                let function =
                    matches!(kind, "AWS::Serverless::Function" | "AWS::Lambda::Function");
                (function && super::routes::mentions(arn, &key.name)).then(|| key.name.clone())
            })
    }

    /// The identity sources of a SAM `Identity`, in the suite's words: a token authorizer's
    /// `Header` (default `Authorization`); a request authorizer's `Headers`, `QueryStrings`
    /// and `StageVariables` (`Context` ones are said as not emulated).
    fn identity_sources(
        &mut self,
        identity: Option<&Node>,
        rest: bool,
        request: bool,
    ) -> Vec<String> {
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
}
