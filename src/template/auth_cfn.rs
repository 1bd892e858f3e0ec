//! Authorizers as CloudFormation and OpenAPI write them: an `AWS::ApiGateway::Method`'s or
//! `AWS::ApiGatewayV2::Route`'s `AuthorizationType` and `AuthorizerId` (the
//! `AWS::ApiGateway::Authorizer` / `AWS::ApiGatewayV2::Authorizer` it names, as CDK writes
//! them), and an OpenAPI operation's `security` with its scheme's
//! `x-amazon-apigateway-authorizer` (as SAM's transform and hand-written bodies write them).

use super::auth::Spec;
use super::function::Reader;
use super::intrinsic::{entry, resource_parts};
use super::routes::ref_target;
use crate::suite::node::{Node, Value};

impl Reader<'_, '_> {
    /// The authorizer of a CloudFormation method (`rest`) or route, with properties `props`.
    pub(super) fn cfn_authorizer(&mut self, props: &Node, rest: bool) -> Option<Node> {
        let kind = entry(props, "AuthorizationType")
            .and_then(|t| self.text_of(t, "`AuthorizationType`"))?
            .to_ascii_uppercase();
        match kind.as_str() {
            "NONE" => return None,
            "CUSTOM" => {}
            "AWS_IAM" => return self.unrun("an `AWS_IAM` authorization on an API route"),
            other => return self.unrun(&format!("a `{other}` authorizer")),
        }
        let reference = entry(props, "AuthorizerId")?;
        let Some(id) = ref_target(reference).map(str::to_string) else {
            return self.unrun("a `CUSTOM` authorizer whose `AuthorizerId` is not a `Ref`");
        };
        let a = self
            .scope
            .resource(&id)
            .and_then(|r| resource_parts(r).1)?
            .clone();
        let kind_key = if rest { "Type" } else { "AuthorizerType" };
        let kind = entry(&a, kind_key)
            .and_then(|t| self.text_of(t, &format!("`{kind_key}`")))
            .unwrap_or_default()
            .to_ascii_uppercase();
        if !matches!(kind.as_str(), "TOKEN" | "REQUEST") {
            return self.unrun(&format!("the `{kind}` authorizer `{id}`"));
        }
        let uri = entry(&a, "AuthorizerUri")?;
        let function = self.function_of(uri, &id)?;
        let number = |r: &mut Self, key: &str| {
            entry(&a, key)
                .and_then(|n| r.text_of(n, &format!("`{key}`")))
                .and_then(|t| t.parse().ok())
        };
        let text = |r: &mut Self, key: &str| {
            entry(&a, key).and_then(|n| r.text_of(n, &format!("`{key}`")))
        };
        let spec = Spec {
            pos: a.pos,
            rest,
            request: kind == "REQUEST",
            sources: entry(&a, "IdentitySource")
                .map(|s| self.sources_of(s))
                .unwrap_or_default(),
            ttl: number(self, "AuthorizerResultTtlInSeconds"),
            validation: text(self, "IdentityValidationExpression"),
            payload: text(self, "AuthorizerPayloadFormatVersion"),
            simple: entry(&a, "EnableSimpleResponses").is_some_and(|s| self.is_true(s)),
            function,
        };
        Some(self.authorizer_node(spec))
    }

    /// The authorizer of an OpenAPI `operation` of `body`: its `security` (else the body's),
    /// the scheme it names and that scheme's `x-amazon-apigateway-authorizer`.
    pub(super) fn openapi_authorizer(
        &mut self,
        body: &Node,
        operation: &Node,
        rest: bool,
    ) -> Option<Node> {
        let security = entry(operation, "security").or_else(|| entry(body, "security"))?;
        let Value::Seq(requirements) = &security.value else {
            return None;
        };
        let name = requirements.iter().find_map(|r| match &r.value {
            Value::Map(entries) => entries.first().map(|(k, _)| k.name.clone()),
            _ => None,
        })?;
        if name == "NONE" {
            return None;
        }
        let schemes = entry(body, "securityDefinitions")
            .or_else(|| entry(body, "components").and_then(|c| entry(c, "securitySchemes")));
        let scheme = schemes.and_then(|s| entry(s, &name))?;
        let Some(a) = entry(scheme, "x-amazon-apigateway-authorizer") else {
            return self.unrun(&format!("the `{name}` security scheme"));
        };
        let kind = entry(a, "type")
            .and_then(|t| self.text_of(t, "the authorizer's `type`"))
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !matches!(kind.as_str(), "token" | "request") {
            return self.unrun(&format!("the `{kind}` authorizer `{name}`"));
        }
        let uri = entry(a, "authorizerUri")?;
        let function = self.function_of(uri, &name)?;
        let text =
            |r: &mut Self, key: &str| entry(a, key).and_then(|n| r.text_of(n, &format!("`{key}`")));
        let mut sources = entry(a, "identitySource")
            .map(|s| self.sources_of(s))
            .unwrap_or_default();
        // A token authorizer's header is its scheme's `name`.
        if kind == "token" && sources.is_empty() {
            let header = text_at(self, scheme, "name").unwrap_or_else(|| "Authorization".into());
            sources.push(format!("method.request.header.{header}"));
        }
        let spec = Spec {
            pos: a.pos,
            rest,
            request: kind == "request",
            sources,
            ttl: text(self, "authorizerResultTtlInSeconds").and_then(|t| t.parse().ok()),
            validation: text(self, "identityValidationExpression"),
            payload: text(self, "authorizerPayloadFormatVersion"),
            simple: entry(a, "enableSimpleResponses").is_some_and(|s| self.is_true(s)),
            function,
        };
        Some(self.authorizer_node(spec))
    }
}

fn text_at(r: &mut Reader<'_, '_>, node: &Node, key: &str) -> Option<String> {
    entry(node, key).and_then(|n| r.text_of(n, &format!("`{key}`")))
}
