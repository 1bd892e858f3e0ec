//! Routes: path templates with `{name}` and greedy `{name+}` parameters, and the choice of the
//! one route a request reaches, by the rules API Gateway applies (a literal segment before a
//! parameter before a greedy one, a named method before `ANY`, `$default` last).

use std::collections::BTreeMap;

use super::{Api, Route};

/// An HTTP method a route answers, or every method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Any,
    /// Upper case, as API Gateway writes it.
    Named(String),
}

impl Method {
    /// The methods API Gateway routes, and `ANY`.
    pub const KNOWN: &[&'static str] = &[
        "ANY", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS",
    ];

    /// `text` in any case, if it is a method API Gateway routes.
    pub fn parse(text: &str) -> Option<Method> {
        let upper = text.trim().to_ascii_uppercase();
        match upper.as_str() {
            "ANY" | "*" => Some(Method::Any),
            m if Self::KNOWN.contains(&m) => Some(Method::Named(upper)),
            _ => None,
        }
    }

    fn answers(&self, method: &str) -> bool {
        match self {
            Method::Any => true,
            Method::Named(m) => m.eq_ignore_ascii_case(method),
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Method::Any => f.write_str("ANY"),
            Method::Named(m) => f.write_str(m),
        }
    }
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    Literal(String),
    /// `{name}`: one segment.
    Param(String),
    /// `{name+}`: the rest of the path, at least one segment; only last.
    Greedy(String),
}

/// A route's path: `/orders/{id}`, `/files/{proxy+}`, `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathTemplate {
    pub segments: Vec<Segment>,
}

impl PathTemplate {
    /// Reads a path as API Gateway takes it; `Err` says what is wrong with it.
    pub fn parse(text: &str) -> Result<PathTemplate, String> {
        let Some(rest) = text.strip_prefix('/') else {
            return Err(format!("`{text}` does not start with `/`"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let mut segments = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        for (i, part) in parts.iter().enumerate() {
            if part.is_empty() {
                return Err(format!("`{text}` has an empty segment (`//`)"));
            }
            let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
                if part.contains(['{', '}']) {
                    return Err(format!(
                        "segment `{part}` of `{text}` mixes text and a parameter; API Gateway takes a parameter as a whole segment (`/{{id}}`)"
                    ));
                }
                segments.push(Segment::Literal((*part).to_string()));
                continue;
            };
            let (name, greedy) = match inner.strip_suffix('+') {
                Some(name) => (name, true),
                None => (inner, false),
            };
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
            if !valid {
                return Err(format!("`{{{inner}}}` in `{text}` is not a parameter name"));
            }
            if names.contains(&name) {
                return Err(format!("parameter `{name}` appears twice in `{text}`"));
            }
            names.push(name);
            if greedy {
                if i + 1 != parts.len() {
                    return Err(format!(
                        "the greedy parameter `{{{name}+}}` must be the last segment of `{text}`"
                    ));
                }
                segments.push(Segment::Greedy(name.to_string()));
            } else {
                segments.push(Segment::Param(name.to_string()));
            }
        }
        Ok(PathTemplate { segments })
    }

    /// The parameters `path` gives this template, if it matches. `path` is as sent, without
    /// its query; its segments are compared as sent (case-sensitive), and parameters keep
    /// their percent-encoding, as a REST API passes them on.
    fn matches(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let parts: Vec<&str> = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('/').collect()
        };
        let mut params = BTreeMap::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(l) => {
                    if parts.get(i) != Some(&l.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let part = parts.get(i).filter(|p| !p.is_empty())?;
                    params.insert(name.clone(), (*part).to_string());
                }
                Segment::Greedy(name) => {
                    let rest = parts.get(i..).filter(|r| !r.is_empty())?;
                    params.insert(name.clone(), rest.join("/"));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// How specific the template is, segment by segment: lower sorts first and wins.
    fn rank(&self) -> Vec<u8> {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 0,
                Segment::Param(_) => 1,
                Segment::Greedy(_) => 2,
            })
            .collect()
    }
}

impl std::fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("/");
        }
        for s in &self.segments {
            match s {
                Segment::Literal(l) => write!(f, "/{l}")?,
                Segment::Param(p) => write!(f, "/{{{p}}}")?,
                Segment::Greedy(p) => write!(f, "/{{{p}+}}")?,
            }
        }
        Ok(())
    }
}

/// The route a request reached, with the path parameters it gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched<'r> {
    pub route: &'r Route,
    pub params: BTreeMap<String, String>,
}

/// Why no route of an API takes a request, as the API answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No route of this API has the path, or none has it with this method.
    NoRoute(Api),
}

/// The route of `api` among `routes` that `method` and `path` reach, by API Gateway's
/// precedence (see [`best`]).
pub fn matching<'r>(
    routes: &'r [Route],
    api: Api,
    method: &str,
    path: &str,
) -> Result<Matched<'r>, Refusal> {
    let of_api = routes.iter().filter(|r| r.api == api).map(|r| ((), r));
    match best(of_api, method, path) {
        Some(((), matched)) => Ok(matched),
        None => Err(Refusal::NoRoute(api)),
    }
}

/// The route among `routes` (each with what it belongs to) that `method` and `path` reach:
/// the most specific path (literal segments before `{param}` before `{proxy+}`), then a
/// named method before `ANY`, then the first declared; a route without a path (an HTTP API's
/// `$default`, a function URL) takes what no other does.
pub fn best<'r, T: Copy>(
    routes: impl IntoIterator<Item = (T, &'r Route)>,
    method: &str,
    path: &str,
) -> Option<(T, Matched<'r>)> {
    let mut found: Option<(Vec<u8>, bool, T, Matched<'r>)> = None;
    let mut fallback = None;
    for (owner, route) in routes {
        let Some(template) = &route.path else {
            fallback.get_or_insert((owner, route));
            continue;
        };
        if !route.method.answers(method) {
            continue;
        }
        let Some(params) = template.matches(path) else {
            continue;
        };
        let rank = (template.rank(), route.method == Method::Any);
        let better = match &found {
            None => true,
            Some((r, a, _, _)) => (&rank.0, rank.1) < (r, *a),
        };
        if better {
            found = Some((rank.0, rank.1, owner, Matched { route, params }));
        }
    }
    match (found, fallback) {
        (Some((_, _, owner, matched)), _) => Some((owner, matched)),
        (None, Some((owner, route))) => Some((
            owner,
            Matched {
                route,
                params: BTreeMap::new(),
            },
        )),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(api: Api, method: &str, path: &str) -> Route {
        let path = (path != "$default").then(|| PathTemplate::parse(path).unwrap());
        Route::new(api, Method::parse(method).unwrap(), path)
    }

    #[test]
    fn templates_parse_and_print_as_written() {
        for text in [
            "/",
            "/orders",
            "/orders/{id}",
            "/files/{proxy+}",
            "/a/{b}/c",
        ] {
            assert_eq!(PathTemplate::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            PathTemplate::parse("/orders/").unwrap().to_string(),
            "/orders"
        );
        for (bad, words) in [
            ("orders", "does not start with `/`"),
            ("/a//b", "empty segment"),
            ("/a/{proxy+}/b", "must be the last segment"),
            ("/a/x{id}", "mixes text and a parameter"),
            ("/a/{}", "is not a parameter name"),
            ("/{id}/{id}", "appears twice"),
        ] {
            let e = PathTemplate::parse(bad).unwrap_err();
            assert!(e.contains(words), "{bad}: {e}");
        }
    }

    #[test]
    fn path_parameters_keep_their_encoding_and_greedy_ones_take_the_rest() {
        let t = PathTemplate::parse("/orders/{id}").unwrap();
        assert_eq!(t.matches("/orders/a%20b").unwrap()["id"], "a%20b");
        // A trailing slash is not part of the match.
        assert_eq!(t.matches("/orders/7/").unwrap()["id"], "7");
        assert!(t.matches("/orders").is_none());
        assert!(t.matches("/orders/1/items").is_none());
        let g = PathTemplate::parse("/files/{proxy+}").unwrap();
        assert_eq!(g.matches("/files/a/b/c.txt").unwrap()["proxy"], "a/b/c.txt");
        // A greedy parameter needs at least one segment.
        assert!(g.matches("/files").is_none());
        assert!(g.matches("/files/").is_none());
        // Literal segments are case-sensitive.
        assert!(
            PathTemplate::parse("/Orders")
                .unwrap()
                .matches("/orders")
                .is_none()
        );
    }

    #[test]
    fn the_most_specific_route_wins_then_a_named_method() {
        let routes = vec![
            route(Api::Rest, "ANY", "/{proxy+}"),
            route(Api::Rest, "GET", "/orders/{id}"),
            route(Api::Rest, "ANY", "/orders/latest"),
            route(Api::Rest, "GET", "/orders/latest"),
        ];
        let key = |m: &str, p: &str| matching(&routes, Api::Rest, m, p).map(|m| m.route.key());
        assert_eq!(key("GET", "/orders/42").unwrap(), "GET /orders/{id}");
        assert_eq!(key("GET", "/orders/latest").unwrap(), "GET /orders/latest");
        assert_eq!(key("POST", "/orders/latest").unwrap(), "ANY /orders/latest");
        assert_eq!(key("POST", "/orders/42").unwrap(), "ANY /{proxy+}");
        assert_eq!(key("GET", "/x/y").unwrap(), "ANY /{proxy+}");
        // The root is not reached by a greedy parameter.
        assert_eq!(key("GET", "/").unwrap_err(), Refusal::NoRoute(Api::Rest));
    }

    #[test]
    fn default_routes_and_function_urls_take_what_nothing_else_does() {
        let routes = vec![
            route(Api::Http, "GET", "/items"),
            route(Api::Http, "ANY", "$default"),
            route(Api::Url, "ANY", "$default"),
        ];
        let http = |m: &str, p: &str| matching(&routes, Api::Http, m, p).unwrap().route.key();
        assert_eq!(http("GET", "/items"), "GET /items");
        assert_eq!(http("POST", "/items"), "$default");
        assert_eq!(http("GET", "/anything/else"), "$default");
        let url = matching(&routes, Api::Url, "DELETE", "/x").unwrap();
        assert_eq!(url.route.api, Api::Url);
        // A REST API with no routes refuses.
        assert!(matching(&routes, Api::Rest, "GET", "/items").is_err());
    }
}
