//! Decodes a route's `authorizer:`: a JWT authorizer (an HTTP API's `jwt`, a REST API's
//! `cognito` user pool), whose JWKS file is read now, or a Lambda authorizer (`token`,
//! `request`) with the function it invokes, declared with the same keys as `function:`.

use crate::gateway::{Api, Authorizer, Lambda, LambdaKind, Payload, Source};

use super::fields::{Ctx, Fields};
use super::node::{Node, Value};

const KEYS: &[&str] = &[
    "type",
    "issuer",
    "audience",
    "jwks",
    "identity_source",
    "scopes",
    "function",
    "ttl",
    "payload",
    "simple_responses",
    "validation",
];

/// The keys only a token (JWT) authorizer takes, and only a Lambda authorizer.
const TOKEN_ONLY: &[&str] = &["issuer", "audience", "jwks", "scopes"];
const LAMBDA_ONLY: &[&str] = &[
    "function",
    "ttl",
    "payload",
    "simple_responses",
    "validation",
];

/// The longest a front door caches an authorizer's answer, in seconds.
const MAX_TTL: u64 = 3600;

impl Ctx<'_> {
    /// `authorizer: {type, ...}`: `jwt` (HTTP API) or `cognito` (REST API) by default.
    pub(super) fn authorizer(&mut self, node: &Node, api: Api) -> Option<Authorizer> {
        let f = self.fields(node, "`authorizer`", KEYS)?;
        let (token_kind, other) = match api {
            Api::Rest => ("cognito", "jwt"),
            _ => ("jwt", "cognito"),
        };
        let given = match f.get("type") {
            Some(t) => self.string(t, "authorizer `type`")?,
            None => token_kind.to_string(),
        };
        let kinds: &[&str] = match api {
            Api::Rest => &["cognito", "token", "request"],
            _ => &["jwt", "request"],
        };
        if !kinds.contains(&given.as_str()) {
            let hint = if given == other {
                format!(
                    "a `{other}` authorizer belongs on `api: {}`",
                    if other == "jwt" { "http" } else { "rest" }
                )
            } else if given == "token" {
                "an HTTP API's Lambda authorizer is `type: request`, with `identity_source`".into()
            } else {
                format!("{} route takes `type: {}`", an(api), kinds.join("`, `"))
            };
            let pos = f.get("type").map_or(node.pos, |t| t.pos);
            self.error(
                Some(pos),
                format!("{} route cannot have a `{given}` authorizer", an(api)),
                Some(hint),
            );
            return None;
        }
        let lambda = match given.as_str() {
            "token" => Some(LambdaKind::Token),
            "request" => Some(LambdaKind::Request),
            _ => None,
        };
        let (wrong, what) = match lambda {
            Some(_) => (TOKEN_ONLY, "a Lambda authorizer"),
            None => (LAMBDA_ONLY, "a JWT authorizer"),
        };
        if let Some(key) = wrong.iter().find_map(|k| f.key(k)) {
            self.error(
                Some(key.pos),
                format!("{what} has no `{}`", key.name),
                Some(format!(
                    "`type: {given}` takes {}",
                    self.keys_of(lambda.is_some())
                )),
            );
            return None;
        }
        match lambda {
            Some(kind) => self.lambda_authorizer(node, &f, api, kind),
            None => self.jwt_authorizer(node, &f, api),
        }
    }

    fn keys_of(&self, lambda: bool) -> String {
        let only = if lambda { TOKEN_ONLY } else { LAMBDA_ONLY };
        let keys: Vec<&str> = KEYS.iter().filter(|k| !only.contains(k)).copied().collect();
        format!("`{}`", keys.join("`, `"))
    }

    /// A Lambda authorizer: the function it invokes (decoded as `function:` is, named
    /// `<suite>-authorizer` unless it says), where the identity comes from, the cache's TTL.
    fn lambda_authorizer(
        &mut self,
        node: &Node,
        f: &Fields<'_>,
        api: Api,
        kind: LambdaKind,
    ) -> Option<Authorizer> {
        let what = "a Lambda `authorizer`";
        let function_node = self.required(f, node, "function", what, "the authorizer's function, with the keys of `function:` (`runtime`, `handler`, `code`, ...)")?;
        let function = self.authorizer_function(function_node)?;
        let sources = match f.get("identity_source") {
            Some(s) => {
                let texts = self.string_list(s, "authorizer `identity_source`")?;
                let parsed: Result<Vec<Source>, String> =
                    texts.iter().map(|t| Source::parse(t)).collect();
                match parsed {
                    Ok(sources) => sources,
                    Err(why) => {
                        self.error(Some(s.pos), format!("authorizer `identity_source`: {why}"), Some("for example `method.request.header.Authorization` (REST API) or `$request.header.Authorization` (HTTP API)".into()));
                        return None;
                    }
                }
            }
            None if kind == LambdaKind::Token => vec![Source::Header("Authorization".into())],
            None => Vec::new(),
        };
        if kind == LambdaKind::Token && sources.len() != 1 {
            let pos = f.get("identity_source").map_or(node.pos, |s| s.pos);
            self.error(
                Some(pos),
                "a token authorizer reads one header",
                Some("`identity_source: method.request.header.Authorization`".into()),
            );
            return None;
        }
        let ttl = match f.get("ttl") {
            Some(t) => self.integer(t, "authorizer `ttl`", 0, MAX_TTL, "seconds")?,
            // CloudFormation's defaults: REST APIs cache for 5 minutes, HTTP APIs do not.
            None if api == Api::Rest => 300,
            None => 0,
        };
        if ttl > 0 && sources.is_empty() {
            let pos = f.get("ttl").map_or(node.pos, |t| t.pos);
            self.error(
                Some(pos),
                format!("a request authorizer that caches (`ttl: {ttl}`) needs `identity_source`: answers are cached by it"),
                Some("name what identifies a caller, e.g. `identity_source: [method.request.header.Authorization]`, or say `ttl: 0`".into()),
            );
            return None;
        }
        let payload = match (api, f.get("payload")) {
            (Api::Rest, Some(p)) => {
                self.error(
                    Some(p.pos),
                    "a REST API's Lambda authorizer has no `payload`",
                    Some("its event is the REST API's own shape".into()),
                );
                return None;
            }
            (_, Some(p)) => self.payload(p)?,
            (Api::Rest, None) => Payload::V1,
            (_, None) => Payload::V2,
        };
        let simple = match f.get("simple_responses") {
            None => false,
            Some(s) => match (&s.value, api, payload) {
                (Value::Bool(b), Api::Http, Payload::V2) => *b,
                (Value::Bool(_), _, _) => {
                    self.error(
                        Some(s.pos),
                        "simple responses are an HTTP API's, with payload 2.0",
                        None,
                    );
                    return None;
                }
                _ => {
                    self.wrong_kind(s, "authorizer `simple_responses`", "true or false");
                    return None;
                }
            },
        };
        let validation = match f.get("validation") {
            None => None,
            Some(v) if kind == LambdaKind::Token => {
                let text = self.string(v, "authorizer `validation`")?;
                if let Err(e) = regex::Regex::new(&text) {
                    self.error(
                        Some(v.pos),
                        format!("authorizer `validation` is not a regular expression: {e}"),
                        None,
                    );
                    return None;
                }
                Some(text)
            }
            Some(v) => {
                self.error(
                    Some(v.pos),
                    "only a token authorizer has a `validation` expression",
                    None,
                );
                return None;
            }
        };
        Some(Authorizer::Lambda(Lambda {
            kind,
            function: function.name.clone(),
            sources,
            ttl,
            payload,
            simple,
            validation,
        }))
    }

    /// The authorizer's function, kept with the function's others; the same function on two
    /// routes is kept once, and two functions of one name are refused.
    fn authorizer_function(&mut self, node: &Node) -> Option<super::Function> {
        if let Value::Map(entries) = &node.value
            && let Some((key, _)) = entries.iter().find(|(k, _)| k.name == "http")
        {
            self.error(
                Some(key.pos),
                "an authorizer's function has no `http` of its own",
                None,
            );
            return None;
        }
        // A function read from a template keeps its name there; one declared here is named
        // after the suite unless it says.
        let named = matches!(&node.value, Value::Map(entries)
            if entries.iter().any(|(k, _)| ["name", "template", "resource"].contains(&k.name.as_str())));
        // Its decoding must not take the authorizers of the routes decoded before it.
        let kept = std::mem::take(&mut self.authorizers);
        let decoded = self.function(node);
        self.authorizers = kept;
        let mut function = decoded?;
        if !named {
            let stem = self
                .file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned());
            function.name = format!("{}-authorizer", stem.unwrap_or_else(|| "function".into()));
        }
        match self.authorizers.iter().find(|a| a.name == function.name) {
            Some(same) if super::same_function(same, &function) => {}
            Some(_) => {
                self.error(
                    Some(node.pos),
                    format!("two authorizer functions are named `{}`", function.name),
                    Some("give each its own `name:`".into()),
                );
                return None;
            }
            None => self.authorizers.push(function.clone()),
        }
        Some(function)
    }

    /// `type: jwt` (HTTP API) or `cognito` (REST API): issuer, audience, scopes and the JWKS
    /// file, read now, relative to the suite.
    fn jwt_authorizer(&mut self, node: &Node, f: &Fields<'_>, api: Api) -> Option<Authorizer> {
        let what = "a token `authorizer`";
        let issuer = self.required(f, node, "issuer", what, "the `iss` its tokens carry, e.g. `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCd`")?;
        let issuer = self.string(issuer, "authorizer `issuer`")?;
        let audience = match f.get("audience") {
            Some(a) => self.string_list(a, "authorizer `audience`")?,
            None => Vec::new(),
        };
        let scopes = match f.get("scopes") {
            Some(s) => self.string_list(s, "authorizer `scopes`")?,
            None => Vec::new(),
        };
        let header = match f.get("identity_source") {
            Some(s) => {
                let text = self.string(s, "authorizer `identity_source`")?;
                text.strip_prefix("$request.header.")
                    .unwrap_or(&text)
                    .to_string()
            }
            None => "Authorization".to_string(),
        };
        let jwks_node = self.required(f, node, "jwks", what, "name a file holding the issuer's JSON Web Key Set (what its `jwks_uri` serves), relative to this file")?;
        let path = self.file(jwks_node, "authorizer `jwks`")?;
        self.inputs
            .push(std::path::absolute(&path).unwrap_or_else(|_| path.clone()));
        let read = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                serde_json::from_slice::<jsonwebtoken::jwk::JwkSet>(&bytes)
                    .map_err(|e| e.to_string())
            });
        let jwks = match read {
            Ok(jwks) => jwks,
            Err(why) => {
                self.error(
                    Some(jwks_node.pos),
                    format!("`jwks` {} is not a JSON Web Key Set: {why}", path.display()),
                    Some(
                        "it holds `{\"keys\": [...]}`, as the issuer's `jwks_uri` serves it".into(),
                    ),
                );
                return None;
            }
        };
        let jwt = crate::gateway::Jwt {
            issuer,
            audience,
            jwks,
            header,
            scopes,
        };
        Some(match api {
            Api::Rest => Authorizer::Cognito(jwt),
            _ => Authorizer::Jwt(jwt),
        })
    }
}

/// The API with its article: `a REST API`, `an HTTP API`.
fn an(api: Api) -> String {
    let said = api.describe();
    match said.starts_with(['A', 'E', 'H', 'I', 'O', 'U']) {
        true => format!("an {said}"),
        false => format!("a {said}"),
    }
}
