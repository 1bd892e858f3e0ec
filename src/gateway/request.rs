//! An HTTP request as a front door receives it: method, path and query as sent, headers in
//! order with their names as sent, and the body's bytes.

/// One HTTP request to a front door.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// Upper case.
    pub method: String,
    /// As sent (percent-encoded), without the query.
    pub path: String,
    /// The query string as sent, without `?`.
    pub raw_query: String,
    /// In order, names as sent; a name may repeat.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The client's address, as the front door sees it.
    pub source_ip: String,
}

impl Request {
    /// A request for `target` (`/path?query`), without headers or body.
    pub fn new(method: &str, target: &str) -> Request {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Request {
            method: method.to_ascii_uppercase(),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            raw_query: query.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            source_ip: "127.0.0.1".into(),
        }
    }

    /// The query's pairs in order, decoded (`+` is a space, as browsers send forms).
    pub fn query(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.raw_query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// The last value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// Every value of header `name` (any case), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The cookies of the `Cookie` headers, one `name=value` each, in order.
    pub fn cookies(&self) -> Vec<String> {
        self.header_values("cookie")
            .into_iter()
            .flat_map(|v| v.split(';'))
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The body's media type, lower case, without parameters (`application/json`).
    pub fn media_type(&self) -> Option<String> {
        media_type(self.header("content-type")?)
    }
}

/// The last value of header `name` (any case) among `headers`.
pub fn header_value<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A `Content-Type` value's media type, lower case, without parameters.
pub(super) fn media_type(content_type: &str) -> Option<String> {
    let t = content_type.split(';').next()?.trim().to_ascii_lowercase();
    (!t.is_empty()).then_some(t)
}

/// Whether media type `media` matches pattern `pattern` (`image/png`, `image/*`, `*/*`), as
/// REST APIs compare `binaryMediaTypes`.
pub(super) fn media_matches(pattern: &str, media: &str) -> bool {
    let pattern = pattern.trim().to_ascii_lowercase();
    let media = media.to_ascii_lowercase();
    let split = |s: &str| {
        let (a, b) = s.split_once('/').unwrap_or((s, ""));
        (a.to_string(), b.to_string())
    };
    let ((pt, ps), (mt, ms)) = (split(&pattern), split(&media));
    (pt == "*" || pt == mt) && (ps == "*" || ps == ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_cookies_and_media_types_read_as_sent() {
        let mut r = Request::new("get", "/a%20b?x=1&x=2&q=a+b&e=%2F");
        r.headers = vec![
            ("Cookie".into(), "a=1; b=2".into()),
            ("cookie".into(), "c=3".into()),
            (
                "Content-Type".into(),
                "Application/JSON; charset=utf-8".into(),
            ),
        ];
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/a%20b");
        assert_eq!(
            r.query(),
            [("x", "1"), ("x", "2"), ("q", "a b"), ("e", "/")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
        );
        assert_eq!(r.cookies(), ["a=1", "b=2", "c=3"]);
        assert_eq!(r.media_type().as_deref(), Some("application/json"));
        assert!(media_matches("image/*", "image/png"));
        assert!(media_matches("*/*", "application/pdf"));
        assert!(!media_matches("image/png", "image/jpeg"));
        assert_eq!(Request::new("GET", "").path, "/");
    }
}
