//! Who may call `serve`. It listens where any web page the developer opens can reach it, and
//! its functions may hold inherited credentials, so a request is refused unless its `Host` is
//! the address served (a DNS-rebinding page names its own), it does not come from a browser
//! (`Origin` or `Sec-Fetch-*`) or comes from an origin `--allow-origin` names, and, with
//! `--token`, it carries the token: as `Authorization: Bearer TOKEN`, or as the access key id
//! an AWS SDK signs with (`aws_access_key_id=TOKEN`), since SDKs cannot send a bearer token.

use hyper::HeaderMap;

use crate::docker::is_loopback;

/// What a request must show to be served.
#[derive(Debug, Clone)]
pub struct Guard {
    /// The `Host` values accepted; empty: any (a non-loopback address, where the token guards).
    hosts: Vec<String>,
    /// Browser origins allowed to call (`--allow-origin`); `*` allows every origin.
    origins: Vec<String>,
    token: Option<String>,
}

/// Why a request is refused, for the caller and for the server's output.
#[derive(Debug, PartialEq)]
pub struct Refusal {
    pub message: String,
}

impl Guard {
    /// The guard for a server bound to `host:port`.
    pub fn new(host: &str, port: u16, origins: Vec<String>, token: Option<String>) -> Guard {
        let hosts = if is_loopback(host) {
            let mut names = vec!["127.0.0.1".to_string(), "localhost".into(), "[::1]".into()];
            if !names.iter().any(|n| n.trim_matches(['[', ']']) == host) {
                names.push(host.to_string());
            }
            names.into_iter().map(|n| format!("{n}:{port}")).collect()
        } else {
            Vec::new()
        };
        Guard {
            hosts,
            origins: origins
                .into_iter()
                .map(|o| o.trim_end_matches('/').to_string())
                .collect(),
            token,
        }
    }

    /// The guard, also letting through the browser origins in `more` (a front door's CORS
    /// configuration allows them).
    pub fn with_origins(mut self, more: impl IntoIterator<Item = String>) -> Guard {
        self.origins.extend(
            more.into_iter()
                .map(|o| o.trim_end_matches('/').to_string()),
        );
        self
    }

    /// Whether the request's headers let it through.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if !self.hosts.is_empty() {
            let host = text("host").unwrap_or_default().to_ascii_lowercase();
            if !self.hosts.contains(&host) {
                return Err(Refusal {
                    message: format!(
                        "refused a request for Host `{}`: serve answers only for {} (a page that rebinds its own name to this address names itself)",
                        crate::report::visible(&host),
                        self.hosts.join(", ")
                    ),
                });
            }
        }
        let from_browser = headers.keys().any(|k| k.as_str().starts_with("sec-fetch-"));
        match text("origin") {
            Some(origin) if !self.allows(origin) => {
                return Err(Refusal {
                    message: format!(
                        "refused a request from a web page at {}: browsers' calls are refused unless `--allow-origin {}` names their origin",
                        crate::report::visible(origin),
                        crate::report::visible(origin)
                    ),
                });
            }
            None if from_browser => {
                return Err(Refusal {
                    message: "refused a request from a web browser (Sec-Fetch-* headers): browsers' calls are refused unless `--allow-origin ORIGIN` names their origin".into(),
                });
            }
            _ => {}
        }
        if let Some(token) = &self.token
            && !carries(text("authorization").unwrap_or_default(), token)
        {
            return Err(Refusal {
                message: "refused a request without the token: send `Authorization: Bearer TOKEN`, or sign with TOKEN as the access key id (boto3: aws_access_key_id=TOKEN)".into(),
            });
        }
        Ok(())
    }

    fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        self.origins.iter().any(|o| o == "*" || o == origin)
    }
}

/// Whether an `Authorization` header carries `token`: as a bearer token, or as the access key
/// id of a SigV4 signature (`Credential=TOKEN/20260101/us-east-1/lambda/aws4_request`).
fn carries(authorization: &str, token: &str) -> bool {
    let same = |a: &str| {
        a.len() == token.len()
            && a.bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                == 0
    };
    if let Some(bearer) = authorization.strip_prefix("Bearer ") {
        return same(bearer.trim());
    }
    authorization
        .split([' ', ','])
        .filter_map(|part| part.strip_prefix("Credential="))
        .any(|credential| same(credential.split('/').next().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_the_served_address_is_answered_on_loopback() {
        let guard = Guard::new("127.0.0.1", 9000, vec![], None);
        for host in [
            "127.0.0.1:9000",
            "localhost:9000",
            "LOCALHOST:9000",
            "[::1]:9000",
        ] {
            assert_eq!(guard.check(&headers(&[("host", host)])), Ok(()), "{host}");
        }
        for host in ["evil.example:9000", "127.0.0.1:9001", "localhost"] {
            let refused = guard.check(&headers(&[("host", host)])).unwrap_err();
            assert!(
                refused.message.contains("refused a request for Host"),
                "{host}"
            );
        }
        assert!(guard.check(&headers(&[])).is_err());
        // Bound elsewhere, the token guards instead.
        let open = Guard::new("0.0.0.0", 9000, vec![], Some("tok-123456".into()));
        let bearer = [
            ("host", "build-box:9000"),
            ("authorization", "Bearer tok-123456"),
        ];
        assert_eq!(open.check(&headers(&bearer)), Ok(()));
    }

    #[test]
    fn browsers_are_refused_unless_their_origin_is_allowed() {
        let guard = Guard::new(
            "127.0.0.1",
            9000,
            vec!["http://localhost:3000/".into()],
            None,
        );
        let host = ("host", "127.0.0.1:9000");
        let evil = headers(&[host, ("origin", "https://evil.example")]);
        assert!(
            guard
                .check(&evil)
                .unwrap_err()
                .message
                .contains("--allow-origin https://evil.example")
        );
        let fetch = headers(&[
            host,
            ("sec-fetch-mode", "no-cors"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(guard.check(&fetch).is_err());
        let allowed = headers(&[
            host,
            ("origin", "http://localhost:3000"),
            ("sec-fetch-mode", "cors"),
        ]);
        assert_eq!(guard.check(&allowed), Ok(()));
        let any = Guard::new("127.0.0.1", 9000, vec!["*".into()], None);
        assert_eq!(any.check(&evil), Ok(()));
    }

    #[test]
    fn the_token_is_taken_as_a_bearer_or_as_the_signing_access_key() {
        let guard = Guard::new("127.0.0.1", 9000, vec![], Some("tok-123456".into()));
        let host = ("host", "127.0.0.1:9000");
        let signed = "AWS4-HMAC-SHA256 Credential=tok-123456/20261207/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(
            guard.check(&headers(&[host, ("authorization", signed)])),
            Ok(())
        );
        assert_eq!(
            guard.check(&headers(&[host, ("authorization", "Bearer tok-123456")])),
            Ok(())
        );
        for wrong in [
            "Bearer tok-12345",
            "Bearer tok-1234567",
            "AWS4-HMAC-SHA256 Credential=test/x",
        ] {
            assert!(
                guard
                    .check(&headers(&[host, ("authorization", wrong)]))
                    .is_err(),
                "{wrong}"
            );
        }
        assert!(guard.check(&headers(&[host])).is_err());
    }
}
