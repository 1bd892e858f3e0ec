//! A function URL's `AWS_IAM` auth: a request must be signed with Signature Version 4 for the
//! `lambda` service, with the AWS credentials lambda-ci runs with (its environment's
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`). The signature is checked
//! by signing the same request again with `aws-sigv4` (the AWS SDK for Rust's signer) and
//! comparing; one that does not match, by other keys, or more than 5 minutes off is the URL's
//! 403. A request that passes reaches the function with its caller under
//! `requestContext.authorizer.iam`.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::{HttpResponse, Request};

const SERVICE: &str = "lambda";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a signature's time may be from now.
const SKEW: Duration = Duration::from_secs(5 * 60);

/// The credentials requests are signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    pub access_key: String,
    pub secret: String,
    pub token: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys({})", self.access_key)
    }
}

impl Keys {
    /// The keys among `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` pairs;
    /// none without both of the first two.
    pub fn from_pairs(pairs: &[(String, String)]) -> Option<Keys> {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        Some(Keys {
            access_key: get("AWS_ACCESS_KEY_ID")?,
            secret: get("AWS_SECRET_ACCESS_KEY")?,
            token: get("AWS_SESSION_TOKEN"),
        })
    }
}

/// The signature of `request` for `host` in `region` at `time`, and the headers it adds
/// (`x-amz-date`, `authorization`, `x-amz-security-token`); `headers` are the ones signed.
fn signature(
    keys: &Keys,
    request: &Request,
    headers: &[(String, String)],
    region: &str,
    time: SystemTime,
) -> Result<(String, Vec<(String, String)>), String> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let credentials = aws_credential_types::Credentials::new(
        &keys.access_key,
        &keys.secret,
        keys.token.clone(),
        None,
        "lambda-ci",
    );
    let identity = credentials.into();
    let mut settings = SigningSettings::default();
    // Every header the client signed is signed again, whatever it is.
    settings.excluded_headers = Some(Vec::new());
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let host = headers
        .iter()
        .find(|(k, _)| k == "host")
        .map_or("localhost", |(_, v)| v.as_str());
    let mut uri = format!("https://{host}{}", request.path);
    if !request.raw_query.is_empty() {
        uri.push('?');
        uri.push_str(&request.raw_query);
    }
    let signable = SignableRequest::new(
        &request.method,
        uri,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&request.body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, signature) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    let added = instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok((signature, added))
}

/// Signs `request` for `host` in `region` now, as an SDK would: every header it has and
/// `Host` signed, `X-Amz-Date`, `Authorization` (and `X-Amz-Security-Token`) added.
pub fn sign(keys: &Keys, request: &mut Request, host: &str, region: &str) -> Result<(), String> {
    request
        .headers
        .retain(|(k, _)| !k.eq_ignore_ascii_case("host"));
    request.headers.push(("Host".into(), host.into()));
    let mut headers: Vec<(String, String)> = Vec::new();
    for (k, v) in &request.headers {
        let name = k.to_ascii_lowercase();
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(v);
            }
            None => headers.push((name, v.clone())),
        }
    }
    let (_, added) = signature(keys, request, &headers, region, SystemTime::now())?;
    request.headers.extend(added);
    Ok(())
}

/// A signature's parts, from its `Authorization` header.
struct Presented<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed: Vec<&'a str>,
    signature: &'a str,
}

fn presented(header: &str) -> Option<Presented<'_>> {
    let rest = header.strip_prefix(ALGORITHM)?.trim();
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=')? {
            ("Credential", v) => credential = Some(v),
            ("SignedHeaders", v) => signed = Some(v.split(';').collect()),
            ("Signature", v) => signature = Some(v),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let parts = Presented {
        access_key: scope.next()?,
        date: scope.next()?,
        region: scope.next()?,
        service: scope.next()?,
        signed: signed?,
        signature: signature?,
    };
    (scope.next() == Some("aws4_request")).then_some(parts)
}

/// The URL's refusal of a request whose signature does not hold.
fn forbidden(why: String) -> HttpResponse {
    let why = format!("the function URL refused the request: {why}");
    super::own::answer(
        403,
        r#"{"Message":"Forbidden"}"#,
        Some("AccessDeniedException"),
        why,
    )
}

/// Whether `request` is signed with `keys` (lambda-ci's credentials, if it has any) within
/// five minutes of `now`: the caller the function is told of
/// (`requestContext.authorizer.iam`), or the URL's 403.
pub fn verify(
    keys: Option<&Keys>,
    request: &Request,
    now: SystemTime,
) -> Result<Value, HttpResponse> {
    let Some(keys) = keys else {
        return Err(forbidden("lambda-ci has no AWS credentials to check its signature with (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)".into()));
    };
    let Some(header) = request.header("authorization") else {
        return Err(forbidden(
            "the request is not signed (an AWS_IAM URL takes SigV4-signed requests)".into(),
        ));
    };
    let Some(p) = presented(header) else {
        return Err(forbidden(format!(
            "its `Authorization` is not an {ALGORITHM} signature"
        )));
    };
    if p.access_key != keys.access_key {
        return Err(forbidden(format!(
            "it is signed by access key {}, not by the one lambda-ci runs with",
            p.access_key
        )));
    }
    if p.service != SERVICE {
        return Err(forbidden(format!(
            "it is signed for `{}`, not `{SERVICE}`",
            p.service
        )));
    }
    let stamp = request.header("x-amz-date").unwrap_or_default();
    let time = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .ok()
        .filter(|t| t.format("%Y%m%d").to_string() == p.date)
        .map(|t| {
            SystemTime::UNIX_EPOCH + Duration::from_secs(t.and_utc().timestamp().max(0) as u64)
        });
    let Some(time) = time else {
        return Err(forbidden(
            "its `X-Amz-Date` is missing or not the signature's date".into(),
        ));
    };
    let off = now.duration_since(time).unwrap_or_else(|e| e.duration());
    if off > SKEW {
        return Err(forbidden(format!(
            "the signature is {} s from now (at most 300 s)",
            off.as_secs()
        )));
    }
    // The signer adds the date and token headers itself.
    let mut headers = Vec::new();
    for name in p
        .signed
        .iter()
        .filter(|n| !["x-amz-date", "x-amz-security-token"].contains(n))
    {
        let values = request.header_values(name);
        if values.is_empty() {
            return Err(forbidden(format!(
                "the signed header `{name}` is not in the request"
            )));
        }
        headers.push((name.to_string(), values.join(",")));
    }
    let (expected, _) = signature(keys, request, &headers, p.region, time).map_err(forbidden)?;
    if !same(expected.as_bytes(), p.signature.as_bytes()) {
        return Err(forbidden("the signature does not match the request (signed with another secret, or the request changed since)".into()));
    }
    let user = format!(
        "AIDA{}",
        keys.access_key
            .chars()
            .rev()
            .take(16)
            .collect::<String>()
            .to_ascii_uppercase()
    );
    Ok(json!({"iam": {
        "accessKey": keys.access_key,
        "accountId": super::event::ACCOUNT,
        "callerId": user,
        "cognitoIdentity": null,
        "principalOrgId": null,
        "userArn": format!("arn:aws:iam::{}:user/lambda-ci", super::event::ACCOUNT),
        "userId": user,
    }}))
}

/// Equal bytes, compared in a time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys {
            access_key: "AKIDEXAMPLE".into(),
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            token: None,
        }
    }

    fn signed() -> Request {
        let mut r = Request::new("POST", "/orders?x=1");
        r.body = b"{\"a\": 1}".to_vec();
        sign(
            &keys(),
            &mut r,
            "abc.lambda-url.us-east-1.on.aws",
            "us-east-1",
        )
        .unwrap();
        r
    }

    #[test]
    fn a_request_signed_with_lambda_cis_keys_passes_with_its_caller() {
        let r = signed();
        let iam = verify(Some(&keys()), &r, SystemTime::now()).unwrap();
        assert_eq!(iam["iam"]["accessKey"], "AKIDEXAMPLE");
        assert_eq!(iam["iam"]["accountId"], "123456789012");
    }

    #[test]
    fn a_changed_unsigned_foreign_or_stale_request_is_refused() {
        let why = |r: &Request, k: Option<&Keys>, at: SystemTime| {
            let refused = verify(k, r, at).unwrap_err();
            assert_eq!(
                (refused.status, refused.body.as_slice()),
                (403, &br#"{"Message":"Forbidden"}"#[..])
            );
            refused.own.unwrap()
        };
        let now = SystemTime::now();
        let mut changed = signed();
        changed.body = b"{\"a\": 2}".to_vec();
        assert!(why(&changed, Some(&keys()), now).contains("does not match"));
        assert!(why(&Request::new("GET", "/"), Some(&keys()), now).contains("not signed"));
        let other = Keys {
            access_key: "AKIDOTHER".into(),
            ..keys()
        };
        assert!(why(&signed(), Some(&other), now).contains("access key AKIDEXAMPLE"));
        let secret = Keys {
            secret: "another".into(),
            ..keys()
        };
        assert!(why(&signed(), Some(&secret), now).contains("does not match"));
        let later = now + Duration::from_secs(600);
        assert!(why(&signed(), Some(&keys()), later).contains("from now"));
        assert!(why(&signed(), None, now).contains("no AWS credentials"));
    }
}
