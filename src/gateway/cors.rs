//! CORS as each front door applies its configuration: an HTTP API and a function URL answer a
//! preflight themselves and put the configured headers on every response to an allowed origin
//! (in place of any the function set); a REST API (SAM's `Cors`) answers a preflight from the
//! `OPTIONS` method SAM adds, and leaves the function's responses as they are.

use super::{Api, HttpResponse, Request};

/// A front door's CORS configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cors {
    /// Origins allowed (`https://app.example.com`), or `*`.
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<String>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    /// Seconds a browser may keep a preflight's answer.
    pub max_age: Option<u32>,
    pub allow_credentials: bool,
}

impl Cors {
    /// What `Access-Control-Allow-Origin` says to `origin`, if it is allowed.
    pub fn allows(&self, origin: &str) -> Option<String> {
        let origin = origin.trim_end_matches('/');
        if self.allow_origins.iter().any(|o| o == "*") {
            // With credentials a browser takes no wildcard: the origin is named.
            return Some(if self.allow_credentials {
                origin.to_string()
            } else {
                "*".to_string()
            });
        }
        self.allow_origins
            .iter()
            .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
            .then(|| origin.to_string())
    }
}

/// Whether `request` is a CORS preflight: `OPTIONS` with an `Origin` and the method it asks
/// for.
pub fn is_preflight(request: &Request) -> bool {
    request.method == "OPTIONS"
        && request.header("origin").is_some()
        && request.header("access-control-request-method").is_some()
}

/// The front door's answer to a preflight under `cors`, without invoking the function.
pub fn preflight(api: Api, cors: &Cors, request: &Request) -> HttpResponse {
    let status = match api {
        Api::Http => 204,
        Api::Rest | Api::Url => 200,
    };
    let mut response = HttpResponse {
        status,
        headers: Vec::new(),
        body: Vec::new(),
        own: Some(format!(
            "the {} answers a CORS preflight itself",
            api.describe()
        )),
    };
    let Some(allowed) = request.header("origin").and_then(|o| cors.allows(o)) else {
        return response;
    };
    let mut put = |name: &str, value: String| {
        if !value.is_empty() {
            response.headers.push((name.to_string(), value));
        }
    };
    put("Access-Control-Allow-Origin", allowed);
    let methods = if cors.allow_methods.is_empty() {
        request
            .header("access-control-request-method")
            .unwrap_or_default()
            .to_string()
    } else {
        cors.allow_methods.join(",")
    };
    put("Access-Control-Allow-Methods", methods);
    put("Access-Control-Allow-Headers", cors.allow_headers.join(","));
    if let Some(age) = cors.max_age {
        put("Access-Control-Max-Age", age.to_string());
    }
    if cors.allow_credentials {
        put("Access-Control-Allow-Credentials", "true".into());
    }
    response
}

/// Puts the CORS headers `cors` gives `request`'s origin on `response`, in place of the
/// function's, as an HTTP API and a function URL do; a REST API passes the function's on.
pub fn decorate(api: Api, cors: &Cors, request: &Request, response: &mut HttpResponse) {
    if api == Api::Rest {
        return;
    }
    let Some(allowed) = request.header("origin").and_then(|o| cors.allows(o)) else {
        return;
    };
    response
        .headers
        .retain(|(k, _)| !k.to_ascii_lowercase().starts_with("access-control-"));
    response
        .headers
        .push(("Access-Control-Allow-Origin".into(), allowed));
    if !cors.expose_headers.is_empty() {
        response.headers.push((
            "Access-Control-Expose-Headers".into(),
            cors.expose_headers.join(","),
        ));
    }
    if cors.allow_credentials {
        response
            .headers
            .push(("Access-Control-Allow-Credentials".into(), "true".into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, origin: Option<&str>) -> Request {
        let mut r = Request::new(method, "/items");
        if let Some(o) = origin {
            r.headers.push(("Origin".into(), o.into()));
        }
        r.headers
            .push(("Access-Control-Request-Method".into(), "PUT".into()));
        r
    }

    fn cors(origins: &[&str]) -> Cors {
        Cors {
            allow_origins: origins.iter().map(|o| o.to_string()).collect(),
            allow_methods: vec!["GET".into(), "PUT".into()],
            allow_headers: vec!["content-type".into()],
            max_age: Some(300),
            ..Cors::default()
        }
    }

    fn header<'r>(r: &'r HttpResponse, name: &str) -> Option<&'r str> {
        super::super::header_value(&r.headers, name)
    }

    #[test]
    fn preflights_are_answered_for_allowed_origins_only() {
        let c = cors(&["https://app.example.com"]);
        let ok = request("OPTIONS", Some("https://app.example.com"));
        assert!(is_preflight(&ok));
        let r = preflight(Api::Http, &c, &ok);
        assert_eq!(r.status, 204);
        assert_eq!(
            header(&r, "access-control-allow-origin"),
            Some("https://app.example.com")
        );
        assert_eq!(header(&r, "access-control-allow-methods"), Some("GET,PUT"));
        assert_eq!(header(&r, "access-control-max-age"), Some("300"));
        let other = preflight(
            Api::Http,
            &c,
            &request("OPTIONS", Some("https://evil.example")),
        );
        assert!(header(&other, "access-control-allow-origin").is_none());
        assert!(!is_preflight(&request("OPTIONS", None)));
        assert!(!is_preflight(&request(
            "GET",
            Some("https://app.example.com")
        )));
        // A wildcard names the origin once credentials are allowed.
        let mut any = cors(&["*"]);
        assert_eq!(any.allows("https://x.example").as_deref(), Some("*"));
        any.allow_credentials = true;
        assert_eq!(
            any.allows("https://x.example").as_deref(),
            Some("https://x.example")
        );
    }

    #[test]
    fn http_apis_and_urls_replace_the_functions_cors_headers_and_rest_apis_keep_them() {
        let mut c = cors(&["*"]);
        c.expose_headers = vec!["x-total".into()];
        let req = request("GET", Some("https://app.example.com"));
        let from_function = || HttpResponse {
            status: 200,
            headers: vec![("Access-Control-Allow-Origin".into(), "https://old".into())],
            body: Vec::new(),
            own: None,
        };
        let mut url = from_function();
        decorate(Api::Url, &c, &req, &mut url);
        assert_eq!(header(&url, "access-control-allow-origin"), Some("*"));
        assert_eq!(url.headers.len(), 2);
        assert_eq!(
            header(&url, "access-control-expose-headers"),
            Some("x-total")
        );
        let mut rest = from_function();
        decorate(Api::Rest, &c, &req, &mut rest);
        assert_eq!(rest, from_function());
    }
}
