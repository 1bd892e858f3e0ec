//! The sample-event catalogue: realistic events of the services that invoke Lambda functions,
//! authored from AWS's documented shapes, kept as JSON files under `catalogue/`, with the
//! rules that build one event from a template (deep merge, `--set` paths, derived fields).
//!
//! It knows nothing of suites or Docker: `lambda-ci event` prints from it, and the suite loader
//! builds `event_template:` cases with it.

mod command;
mod derive;
mod keys;
mod path;

pub use command::{EventArgs, event};
pub use derive::derive;
pub use keys::{Unknown as UnknownKey, unknown as unknown_key};
pub use path::{Assignment, merge};

/// One kind of event in the catalogue.
#[derive(Debug)]
pub struct Kind {
    /// The name given to `lambda-ci event` and `event_template:`.
    pub name: &'static str,
    /// What it is, in one line, for `lambda-ci event list`.
    pub summary: &'static str,
    /// For a Lambda@Edge event, the CloudFront trigger it is sent to (`viewer-request`).
    pub edge: Option<&'static str>,
    text: &'static str,
}

macro_rules! kind {
    ($name:literal, $summary:literal) => {
        kind!($name, $summary, None)
    };
    ($name:literal, $summary:literal, $edge:expr) => {
        Kind {
            name: $name,
            summary: $summary,
            edge: $edge,
            text: include_str!(concat!("catalogue/", $name, ".json")),
        }
    };
}

/// Every kind, in the order `lambda-ci event list` shows them.
pub const CATALOGUE: &[Kind] = &[
    kind!(
        "apigw-v1",
        "API Gateway REST API (v1) Lambda proxy request: headers and multiValueHeaders, requestContext.identity"
    ),
    kind!(
        "apigw-v2",
        "API Gateway HTTP API (payload 2.0) request: lowercase headers, cookies, rawPath, rawQueryString"
    ),
    kind!(
        "function-url",
        "Lambda function URL request (payload 2.0, routeKey $default, auth type NONE)"
    ),
    kind!(
        "alb",
        "Application Load Balancer target-group request (query strings as sent, not decoded)"
    ),
    kind!(
        "sqs",
        "SQS batch of one message (md5OfBody derived from body)"
    ),
    kind!(
        "sns",
        "SNS notification of one message (PascalCase fields, MessageAttributes)"
    ),
    kind!(
        "s3-put",
        "S3 ObjectCreated:Put notification (object key URL-encoded, as S3 sends it)"
    ),
    kind!(
        "s3-delete",
        "S3 ObjectRemoved:Delete notification of a versioned object"
    ),
    kind!(
        "eventbridge",
        "EventBridge custom event (version 0, detail-type, source, detail)"
    ),
    kind!(
        "scheduled",
        "EventBridge scheduled rule (detail-type Scheduled Event, source aws.events, empty detail)"
    ),
    kind!(
        "dynamodb",
        "DynamoDB Streams MODIFY record: typed attribute values, old and new images"
    ),
    kind!(
        "kinesis",
        "Kinesis Data Streams record (data base64-encoded, arrival time in epoch seconds)"
    ),
    kind!(
        "cloudfront-viewer-request",
        "Lambda@Edge viewer-request event (CloudFront)",
        Some("viewer-request")
    ),
    kind!(
        "cloudfront-origin-request",
        "Lambda@Edge origin-request event (CloudFront, custom origin)",
        Some("origin-request")
    ),
    kind!(
        "cloudfront-origin-response",
        "Lambda@Edge origin-response event (CloudFront, request and origin's response)",
        Some("origin-response")
    ),
    kind!(
        "cloudfront-viewer-response",
        "Lambda@Edge viewer-response event (CloudFront, request and response)",
        Some("viewer-response")
    ),
    kind!(
        "cognito-pre-sign-up",
        "Cognito user pool pre sign-up trigger (PreSignUp_SignUp)"
    ),
    kind!(
        "cognito-post-confirmation",
        "Cognito user pool post confirmation trigger (PostConfirmation_ConfirmSignUp)"
    ),
    kind!(
        "cognito-pre-token-generation",
        "Cognito user pool pre token generation trigger, event version 2 (TokenGeneration_Authentication)"
    ),
];

impl Kind {
    /// The kind named `name`.
    pub fn named(name: &str) -> Option<&'static Kind> {
        CATALOGUE.iter().find(|k| k.name == name)
    }

    /// The template as the catalogue holds it.
    pub fn template(&self) -> serde_json::Value {
        // The files are embedded at build time and every one is parsed by the tests.
        serde_json::from_str(self.text).expect("catalogue templates are valid JSON")
    }

    /// The event made from the template with `over` merged over it, then its derived fields
    /// recomputed; `edge` is the function's Lambda@Edge trigger, if it has one.
    pub fn build(&self, over: Option<serde_json::Value>, edge: Option<&str>) -> serde_json::Value {
        let mut event = self.template();
        if let Some(over) = over {
            merge(&mut event, over);
        }
        derive(self, &mut event, edge);
        event
    }
}

/// Every kind's name, comma-separated, for hints.
pub fn names() -> String {
    CATALOGUE
        .iter()
        .map(|k| k.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The kind name closest to a misspelt one, if it is close enough to be a likely typo (the
/// suite loader's did-you-mean rule).
pub fn near(name: &str) -> Option<&'static str> {
    CATALOGUE
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k.name), k.name))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The hint for a kind that does not exist: a near name, and every name.
pub fn unknown_hint(name: &str) -> String {
    match near(name) {
        Some(near) => format!("did you mean `{near}`? the kinds are: {}", names()),
        None => format!(
            "the kinds are: {} (`lambda-ci event list` says what each is)",
            names()
        ),
    }
}

#[cfg(test)]
pub(crate) mod tests;
