//! Authorizers a front door runs before it invokes the function: an HTTP API's JWT authorizer
//! and a REST API's Cognito user-pool authorizer (issuer, audience, the signing keys, scopes),
//! which let a request through with its claims in `requestContext.authorizer` or answer 401/403
//! themselves; and an identity a case injects in place of a real authorizer.

use serde_json::{Map, Value, json};

use super::{Api, HttpResponse, Payload, Request, Route};

/// An authorizer of a route.
#[derive(Debug, Clone, PartialEq)]
pub enum Authorizer {
    /// An HTTP API's JWT authorizer.
    Jwt(Jwt),
    /// A REST API's Cognito user-pool authorizer: the same checks on the pool's tokens.
    Cognito(Jwt),
    /// A Lambda authorizer: a function decides (see [`super::lambda_auth`]).
    Lambda(super::Lambda),
}

impl Authorizer {
    /// The authorizer of a route of `api` as JSON reports write it (a JWKS by its key ids).
    pub fn to_json(&self, api: Api) -> Value {
        match self {
            Authorizer::Jwt(jwt) | Authorizer::Cognito(jwt) => json!({
                "type": if matches!(self, Authorizer::Jwt(_)) { "jwt" } else { "cognito" },
                "issuer": jwt.issuer,
                "audience": jwt.audience,
                "identity_source": jwt.header,
                "scopes": jwt.scopes,
                "keys": jwt.jwks.keys.iter().filter_map(|k| k.common.key_id.clone()).collect::<Vec<_>>(),
            }),
            Authorizer::Lambda(lambda) => lambda.to_json(api),
        }
    }

    /// The Lambda authorizer, when it is one.
    pub fn lambda(&self) -> Option<&super::Lambda> {
        match self {
            Authorizer::Lambda(lambda) => Some(lambda),
            _ => None,
        }
    }
}

/// A JWT authorizer, as an HTTP API runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    /// The `iss` a token must have.
    pub issuer: String,
    /// The `aud` (or `client_id`) a token must have one of.
    pub audience: Vec<String>,
    /// The keys tokens are signed with (the issuer's JWKS, from a file).
    pub jwks: jsonwebtoken::jwk::JwkSet,
    /// The header the token comes in.
    pub header: String,
    /// The route's authorization scopes: a token must hold one of them.
    pub scopes: Vec<String>,
}

/// Why a token is refused, as the front door says it.
fn refused(status: u16, why: String) -> HttpResponse {
    let (body, challenge) = match status {
        401 => (
            r#"{"message":"Unauthorized"}"#,
            format!("Bearer error=\"invalid_token\" error_description=\"{why}\""),
        ),
        _ => (
            r#"{"message":"Forbidden"}"#,
            "Bearer error=\"insufficient_scope\"".to_string(),
        ),
    };
    HttpResponse {
        status,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("www-authenticate".into(), challenge),
        ],
        body: body.as_bytes().to_vec(),
        own: Some(format!("its authorizer refused the request: {why}")),
    }
}

/// What `route`'s token authorizer makes of `request` at `now` (seconds since the epoch): the
/// `requestContext.authorizer` it passes on (none without one), or its refusal. A Lambda
/// authorizer is its function's to decide: see [`super::verdict`].
pub fn authorize(
    route: &Route,
    request: &Request,
    now: u64,
) -> Result<Option<Value>, HttpResponse> {
    let (jwt, cognito) = match &route.authorizer {
        None | Some(Authorizer::Lambda(_)) => return Ok(None),
        Some(Authorizer::Jwt(jwt)) => (jwt, false),
        Some(Authorizer::Cognito(jwt)) => (jwt, true),
    };
    let Some(raw) = request.header(&jwt.header) else {
        return Err(refused(401, format!("no `{}` header", jwt.header)));
    };
    let token = raw.strip_prefix("Bearer ").unwrap_or(raw).trim();
    let claims = verify(jwt, token, now).map_err(|why| refused(401, why))?;
    let held = scopes(&claims);
    if !jwt.scopes.is_empty() && !jwt.scopes.iter().any(|s| held.contains(s)) {
        // A REST API answers a missing scope as it answers a bad token.
        return Err(refused(
            if cognito { 401 } else { 403 },
            format!(
                "the token holds none of the route's scopes ({})",
                jwt.scopes.join(", ")
            ),
        ));
    }
    if cognito {
        return Ok(Some(json!({"claims": claims_as_rest_text(&claims)})));
    }
    let scopes = if held.is_empty() {
        Value::Null
    } else {
        json!(held)
    };
    Ok(Some(
        json!({"jwt": {"claims": claims_as_text(&claims), "scopes": scopes}}),
    ))
}

/// The token's claims, once its signature, issuer, audience and times hold.
fn verify(jwt: &Jwt, token: &str, now: u64) -> Result<Map<String, Value>, String> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("not a JWT: {e}"))?;
    let key = match &header.kid {
        Some(kid) => jwt.jwks.find(kid),
        None => jwt.jwks.keys.first(),
    }
    .ok_or_else(|| format!("no key `{}` in the JWKS", header.kid.unwrap_or_default()))?;
    let key = DecodingKey::from_jwk(key).map_err(|e| format!("the JWKS key cannot verify: {e}"))?;
    // API Gateway verifies RSA signatures only.
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
    ) {
        return Err(format!("{:?} is not an RSA signature", header.alg));
    }
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&jwt.issuer]);
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.set_required_spec_claims::<&str>(&[]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|e| format!("{e}"))?;
    let claims = data.claims;
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    match number("exp") {
        Some(exp) if exp <= now => return Err("the token has expired".into()),
        None => return Err("the token has no `exp`".into()),
        _ => {}
    }
    if number("nbf").is_some_and(|nbf| nbf > now) {
        return Err("the token is not valid yet (`nbf`)".into());
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(all)) => all.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let client = claims.get("client_id").and_then(Value::as_str);
    let fits = |a: &str| jwt.audience.iter().any(|want| want == a);
    if !jwt.audience.is_empty() && !audiences.iter().any(|a| fits(a)) && !client.is_some_and(fits) {
        return Err("the token's `aud` (or `client_id`) is not one of the audience".into());
    }
    Ok(claims)
}

/// The scopes a token holds: `scope` (space-separated) or `scp`.
fn scopes(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("scope").or_else(|| claims.get("scp")) {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        Some(Value::Array(all)) => all
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Claims as an HTTP API passes them on: every value as text, a list as `[a b]`.
fn claims_as_text(claims: &Map<String, Value>) -> Value {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect();
            format!("[{}]", items.join(" "))
        }
        other => other.to_string(),
    };
    Value::Object(
        claims
            .iter()
            .map(|(k, v)| (k.clone(), json!(text(v))))
            .collect(),
    )
}

/// Claims as a REST API's Cognito authorizer passes them on: as text, its times (`exp`,
/// `iat`, `auth_time`) written as dates (`Sat Mar 14 12:00:00 UTC 2026`).
fn claims_as_rest_text(claims: &Map<String, Value>) -> Value {
    let Value::Object(mut text) = claims_as_text(claims) else {
        return Value::Null;
    };
    for time in ["exp", "iat", "auth_time"] {
        let date = claims
            .get(time)
            .and_then(Value::as_i64)
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0));
        if let Some(date) = date {
            text.insert(
                time.into(),
                json!(date.format("%a %b %d %H:%M:%S UTC %Y").to_string()),
            );
        }
    }
    Value::Object(text)
}

/// `requestContext.authorizer` for an identity a case injects instead of running the route's
/// authorizer: a REST API's (or payload 1.0's) context as it is, an HTTP API's under `jwt`
/// (as claims) or `lambda`, a function URL's under `iam`.
pub fn injected(route: &Route, context: &Value) -> Value {
    match (route.api, route.payload, &route.authorizer) {
        (Api::Rest, _, Some(Authorizer::Cognito(_))) => json!({"claims": context}),
        (Api::Rest, _, _) | (_, Payload::V1, None) => context.clone(),
        (Api::Url, _, _) => json!({"iam": context}),
        (_, _, Some(Authorizer::Jwt(_))) => {
            let claims = context
                .as_object()
                .map(claims_as_text)
                .unwrap_or(Value::Null);
            json!({"jwt": {"claims": claims, "scopes": null}})
        }
        _ => json!({"lambda": context}),
    }
}

/// `event` with `requestContext.authorizer` set to `authorizer`.
pub fn with_authorizer(mut event: Value, authorizer: Value) -> Value {
    if let Some(context) = event
        .get_mut("requestContext")
        .and_then(Value::as_object_mut)
    {
        context.insert("authorizer".into(), authorizer);
    }
    event
}
