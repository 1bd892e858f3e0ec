//! What a front door answers on its own, as each service words it: its errors when the
//! function failed or took too long, when no route takes a request, when a request is too
//! large.

use super::{Api, HttpResponse};

/// Why a front door answers on its own.
#[derive(Debug, Clone, Copy)]
pub enum Own {
    /// The function failed or answered something the front door cannot read.
    Failed,
    /// The integration timed out.
    Timeout,
    /// No route takes the request.
    NoRoute,
    /// The request is larger than the front door or Lambda takes.
    TooLarge,
}

/// The front door's own answer, as each service words it.
pub fn own(api: Api, kind: Own, why: String) -> HttpResponse {
    let (status, body, error_type) = match (api, kind) {
        (Api::Rest, Own::Failed) => (
            502,
            r#"{"message": "Internal server error"}"#,
            Some("InternalServerErrorException"),
        ),
        (Api::Rest, Own::Timeout) => (
            504,
            r#"{"message": "Endpoint request timed out"}"#,
            Some("IntegrationTimeoutException"),
        ),
        (Api::Http, Own::Failed) => (500, r#"{"message":"Internal Server Error"}"#, None),
        (Api::Http, Own::Timeout) => (503, r#"{"message":"Service Unavailable"}"#, None),
        (Api::Rest, Own::NoRoute) => (
            403,
            r#"{"message":"Missing Authentication Token"}"#,
            Some("MissingAuthenticationTokenException"),
        ),
        (Api::Http, Own::NoRoute) => (404, r#"{"message":"Not Found"}"#, None),
        (Api::Rest, Own::TooLarge) => (413, r#"{"message":"Request Too Long"}"#, None),
        (Api::Http, Own::TooLarge) => (413, r#"{"message":"Request Entity Too Large"}"#, None),
        (Api::Url, Own::TooLarge) => (
            413,
            r#"{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation","Type":"User"}"#,
            Some("RequestEntityTooLargeException"),
        ),
        // A function URL takes every path; a URL with no function is refused as AWS does.
        (Api::Url, Own::NoRoute) => (403, r#"{"Message":null}"#, Some("AccessDeniedException")),
        (Api::Url, _) => (502, "Internal Server Error", None),
    };
    answer(status, body, error_type, why)
}

/// A front door's own answer: `body` (JSON when it looks like it, else text), with the
/// error type it names, and why it answered.
pub(super) fn answer(
    status: u16,
    body: &str,
    error_type: Option<&str>,
    why: String,
) -> HttpResponse {
    let content_type = if body.starts_with('{') {
        "application/json"
    } else {
        "text/plain"
    };
    let mut headers = vec![("Content-Type".to_string(), content_type.to_string())];
    if let Some(t) = error_type {
        headers.push(("x-amzn-ErrorType".into(), t.into()));
    }
    HttpResponse {
        status,
        headers,
        body: body.as_bytes().to_vec(),
        own: Some(why),
    }
}
