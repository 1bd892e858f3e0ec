//! JWT authorizers with a real RSA key pair (tests/fixtures/jwt): tokens signed here, verified
//! as an HTTP API verifies them.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::*;

const KEY: &[u8] = include_bytes!("../../tests/fixtures/jwt/test-key.der");
const JWKS: &str = include_str!("../../tests/fixtures/jwt/jwks.json");
const NOW: u64 = 1_800_000_000;

fn token(claims: Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-key".into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(KEY)).unwrap()
}

fn route(scopes: &[&str]) -> Route {
    let mut r = Route::new(
        Api::Http,
        Method::Any,
        Some(PathTemplate::parse("/x").unwrap()),
    );
    r.authorizer = Some(Authorizer::Jwt(Jwt {
        issuer: "https://issuer.example".into(),
        audience: vec!["app".into()],
        jwks: serde_json::from_str(JWKS).unwrap(),
        header: "Authorization".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
    }));
    r
}

fn with(token: &str) -> Request {
    let mut r = Request::new("GET", "/x");
    r.headers
        .push(("authorization".into(), format!("Bearer {token}")));
    r
}

fn good() -> Value {
    json!({"iss": "https://issuer.example", "aud": "app", "sub": "user-1", "exp": NOW + 60,
           "scope": "orders/read orders/write", "groups": ["a", "b"]})
}

#[test]
fn a_valid_token_passes_its_claims_and_scopes_on_as_text() {
    let passed = authorize(&route(&["orders/read"]), &with(&token(good())), NOW)
        .unwrap()
        .unwrap();
    let jwt = &passed["jwt"];
    assert_eq!(jwt["claims"]["sub"], "user-1");
    assert_eq!(jwt["claims"]["exp"], (NOW + 60).to_string());
    assert_eq!(jwt["claims"]["groups"], "[a b]");
    assert_eq!(jwt["scopes"], json!(["orders/read", "orders/write"]));
    // `client_id` stands for `aud` (access tokens), and no route without an authorizer asks.
    let mut access = good();
    access.as_object_mut().unwrap().remove("aud");
    access["client_id"] = json!("app");
    assert!(authorize(&route(&[]), &with(&token(access)), NOW).is_ok());
    let open = Route::new(Api::Http, Method::Any, None);
    assert_eq!(authorize(&open, &Request::new("GET", "/"), NOW), Ok(None));
}

#[test]
fn bad_tokens_get_401_and_missing_scopes_403() {
    let refused = |request: Request, scopes: &[&str]| {
        let r = authorize(&route(scopes), &request, NOW).unwrap_err();
        (r.status, r.own.unwrap())
    };
    let changed = |field: &str, value: Value| {
        let mut claims = good();
        claims[field] = value;
        with(&token(claims))
    };
    for (request, why) in [
        (Request::new("GET", "/x"), "no `Authorization` header"),
        (with("not-a-token"), "not a JWT"),
        (changed("exp", json!(NOW - 1)), "the token has expired"),
        (changed("nbf", json!(NOW + 100)), "not valid yet"),
        (
            changed("iss", json!("https://other.example")),
            "InvalidIssuer",
        ),
        (
            changed("aud", json!("someone-else")),
            "not one of the audience",
        ),
    ] {
        let (status, own) = refused(request, &[]);
        assert_eq!(status, 401, "{why}: {own}");
        assert!(own.contains(why), "{why}: {own}");
    }
    // A token signed with another key.
    let mut forged = token(good());
    forged.pop();
    forged.push('A');
    assert_eq!(refused(with(&forged), &[]).0, 401);
    let (status, own) = refused(with(&token(good())), &["admin"]);
    assert_eq!(status, 403);
    assert!(own.contains("none of the route's scopes (admin)"), "{own}");
}

#[test]
fn an_injected_identity_takes_each_front_doors_shape() {
    let ctx = json!({"sub": "user-1", "n": 3});
    let rest = Route::new(Api::Rest, Method::Any, None);
    assert_eq!(injected(&rest, &ctx), ctx);
    assert_eq!(injected(&route(&[]), &ctx)["jwt"]["claims"]["n"], "3");
    let lambda = Route::new(Api::Http, Method::Any, None);
    assert_eq!(injected(&lambda, &ctx), json!({"lambda": ctx}));
    let event = with_authorizer(json!({"requestContext": {"stage": "x"}}), json!({"a": 1}));
    assert_eq!(event["requestContext"]["authorizer"], json!({"a": 1}));
}

#[test]
fn a_rest_apis_cognito_authorizer_passes_claims_with_dates_and_refuses_with_401() {
    let mut r = route(&["orders/read"]);
    r.api = Api::Rest;
    let Some(Authorizer::Jwt(jwt)) = r.authorizer.take() else {
        panic!("the route has a JWT authorizer");
    };
    r.authorizer = Some(Authorizer::Cognito(jwt));
    let passed = authorize(&r, &with(&token(good())), NOW).unwrap().unwrap();
    assert_eq!(passed["claims"]["sub"], "user-1");
    assert_eq!(passed["claims"]["exp"], "Fri Jan 15 08:01:00 UTC 2027");
    let mut unscoped = good();
    unscoped["scope"] = json!("profile");
    assert_eq!(
        authorize(&r, &with(&token(unscoped)), NOW)
            .unwrap_err()
            .status,
        401
    );
    assert_eq!(
        injected(&r, &json!({"sub": "x"})),
        json!({"claims": {"sub": "x"}})
    );
}
