//! The catalogue read by an independent reader of AWS's shapes: each template deserialises as
//! the `aws_lambda_events` type of its kind, and every field it holds is one that type knows,
//! with the same value once written back (a misspelt or misplaced key would be dropped).

use std::collections::BTreeMap;

use aws_lambda_events::event as aws;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{CATALOGUE, Kind};

/// The template of `name` read as `T` and written back as JSON.
fn through<T: DeserializeOwned + serde::Serialize>(name: &str) -> (Value, Value) {
    let template = Kind::named(name).unwrap().template();
    let typed: T = serde_json::from_value(template.clone())
        .unwrap_or_else(|e| panic!("{name} does not read as its aws_lambda_events type: {e}"));
    (template, serde_json::to_value(typed).unwrap())
}

/// Every leaf of `template` is in `back` with an equal value. Header maps are keyed in any
/// case (the `http` crate's map lowercases names), `null` may be left out, and timestamps are
/// compared as instants and numbers as numbers, since a typed reader writes them its own way.
pub(crate) fn holds(template: &Value, back: &Value, at: &str, problems: &mut Vec<String>) {
    match (template, back) {
        (Value::Object(t), Value::Object(b)) => {
            let headers = at.ends_with("eaders");
            for (key, value) in t {
                let found = b
                    .get(key)
                    .or_else(|| headers.then(|| b.get(&key.to_ascii_lowercase())).flatten());
                match found {
                    Some(found) => holds(value, found, &format!("{at}.{key}"), problems),
                    None if value.is_null() => {}
                    None => problems.push(format!("{at}.{key} is lost")),
                }
            }
        }
        (Value::Array(t), Value::Array(b)) if t.len() == b.len() => {
            for (i, (t, b)) in t.iter().zip(b).enumerate() {
                holds(t, b, &format!("{at}[{i}]"), problems);
            }
        }
        (Value::Number(t), Value::Number(b)) if t.as_f64() == b.as_f64() => {}
        // Kinesis's float arrival time is written back as text.
        (Value::Number(t), Value::String(b)) if b.parse::<f64>().ok() == t.as_f64() => {}
        // A typed reader reads a null map or list as an empty one.
        (Value::Null, Value::Object(b)) if b.is_empty() => {}
        (Value::Null, Value::Array(b)) if b.is_empty() => {}
        (Value::String(t), Value::String(b)) if same_instant(t, b) => {}
        // A multi-value header map written back as a single value, or the reverse.
        (Value::String(t), Value::Array(b)) if b.len() == 1 && b[0] == *t => {}
        (Value::Array(t), Value::String(b)) if t.len() == 1 && t[0] == *b => {}
        (t, b) if t == b => {}
        (t, b) => problems.push(format!("{at}: {t} came back as {b}")),
    }
}

fn same_instant(a: &str, b: &str) -> bool {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    a == b || matches!((parse(a), parse(b)), (Some(a), Some(b)) if a == b)
}

/// Fields AWS sends (and documents) that `aws_lambda_events` does not model, so its reader
/// drops them: each is checked to be the only thing lost.
const UNMODELLED: &[&str] = &[
    "apigw-v1 $.requestContext.extendedRequestId",
    "function-url $.routeKey",
    "function-url $.requestContext.routeKey",
    "function-url $.requestContext.stage",
];

fn check<T: DeserializeOwned + serde::Serialize>(name: &str, problems: &mut Vec<String>) {
    let (template, back) = through::<T>(name);
    let mut found = Vec::new();
    holds(&template, &back, "$", &mut found);
    problems.extend(
        found
            .into_iter()
            .map(|p| format!("{name} {p}"))
            .filter(|p| !UNMODELLED.iter().any(|u| p == &format!("{u} is lost"))),
    );
}

#[test]
fn every_template_reads_as_its_aws_lambda_events_type_and_keeps_every_field() {
    use aws::cognito::*;
    let mut p = Vec::new();
    check::<aws::apigw::ApiGatewayProxyRequest>("apigw-v1", &mut p);
    check::<aws::apigw::ApiGatewayV2httpRequest>("apigw-v2", &mut p);
    check::<aws::lambda_function_urls::LambdaFunctionUrlRequest>("function-url", &mut p);
    check::<aws::alb::AlbTargetGroupRequest>("alb", &mut p);
    check::<aws::sqs::SqsEvent>("sqs", &mut p);
    check::<aws::sns::SnsEvent>("sns", &mut p);
    check::<aws::s3::S3Event>("s3-put", &mut p);
    check::<aws::s3::S3Event>("s3-delete", &mut p);
    check::<aws::eventbridge::EventBridgeEvent>("eventbridge", &mut p);
    check::<aws::eventbridge::EventBridgeEvent>("scheduled", &mut p);
    check::<aws::cloudwatch_events::CloudWatchEvent>("scheduled", &mut p);
    check::<aws::dynamodb::Event>("dynamodb", &mut p);
    check::<aws::kinesis::KinesisEvent>("kinesis", &mut p);
    check::<CognitoEventUserPoolsPreSignup>("cognito-pre-sign-up", &mut p);
    check::<CognitoEventUserPoolsPostConfirmation>("cognito-post-confirmation", &mut p);
    check::<CognitoEventUserPoolsPreTokenGenV2>("cognito-pre-token-generation", &mut p);
    for kind in CATALOGUE.iter().filter(|k| k.edge.is_some()) {
        check::<CloudFrontEvent>(kind.name, &mut p);
    }
    assert!(
        p.is_empty(),
        "as read by aws_lambda_events:\n{}",
        p.join("\n")
    );
}

// aws_lambda_events has no Lambda@Edge types, so the CloudFront templates are read by this
// model of the shape the CloudFront Developer Guide documents ("Lambda@Edge event
// structure"), which refuses any field it does not name.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct CloudFrontEvent {
    #[serde(rename = "Records")]
    records: Vec<CloudFrontRecord>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct CloudFrontRecord {
    cf: CloudFront,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct CloudFront {
    config: CloudFrontConfig,
    request: CloudFrontRequest,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<CloudFrontResponse>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CloudFrontConfig {
    distribution_domain_name: String,
    distribution_id: String,
    event_type: String,
    request_id: String,
}

type CloudFrontHeaders = BTreeMap<String, Vec<CloudFrontHeader>>;

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct CloudFrontHeader {
    key: String,
    value: String,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CloudFrontRequest {
    client_ip: String,
    headers: CloudFrontHeaders,
    method: String,
    querystring: String,
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<CloudFrontOrigin>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
enum CloudFrontOrigin {
    Custom(CustomOrigin),
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CustomOrigin {
    custom_headers: CloudFrontHeaders,
    domain_name: String,
    keepalive_timeout: u32,
    path: String,
    port: u16,
    protocol: String,
    read_timeout: u32,
    ssl_protocols: Vec<String>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CloudFrontResponse {
    headers: CloudFrontHeaders,
    status: String,
    status_description: String,
}

#[test]
fn cloudfront_templates_match_their_trigger_with_lowercase_header_keys() {
    for kind in CATALOGUE.iter().filter(|k| k.edge.is_some()) {
        let event: CloudFrontEvent = serde_json::from_value(kind.template()).unwrap();
        let cf = &event.records[0].cf;
        assert_eq!(Some(cf.config.event_type.as_str()), kind.edge);
        let trigger = kind.edge.unwrap();
        assert_eq!(cf.request.origin.is_some(), trigger.starts_with("origin"));
        assert_eq!(cf.response.is_some(), trigger.ends_with("response"));
        let mut headers: Vec<&CloudFrontHeaders> = vec![&cf.request.headers];
        headers.extend(cf.response.as_ref().map(|r| &r.headers));
        for (name, values) in headers.into_iter().flatten() {
            assert_eq!(*name, name.to_ascii_lowercase(), "{}", kind.name);
            assert!(values.iter().all(|h| h.key.to_ascii_lowercase() == *name));
        }
    }
}

#[test]
fn the_details_aws_documents_are_right() {
    let t = |name: &str| Kind::named(name).unwrap().template();
    let v2 = t("apigw-v2");
    assert!(
        v2["headers"]
            .as_object()
            .unwrap()
            .keys()
            .all(|k| *k == k.to_ascii_lowercase())
    );
    assert!(v2["cookies"].is_array());
    let url = t("function-url");
    assert_eq!(url["routeKey"], "$default");
    assert_eq!(url["requestContext"]["accountId"], "anonymous");
    assert!(
        url["headers"]["host"]
            .as_str()
            .unwrap()
            .ends_with(".lambda-url.us-east-1.on.aws")
    );
    // The ALB passes query strings on as the client sent them, percent-encoding and all.
    assert_eq!(t("alb")["queryStringParameters"]["search"], "blue%20ink");
    assert_eq!(t("s3-put")["Records"][0]["eventName"], "ObjectCreated:Put");
    assert_eq!(
        t("s3-delete")["Records"][0]["eventName"],
        "ObjectRemoved:Delete"
    );
    assert_eq!(
        t("s3-put")["Records"][0]["s3"]["object"]["key"],
        "invoices/March+2025/ord-1001.pdf"
    );
    assert_eq!(t("scheduled")["detail-type"], "Scheduled Event");
    assert_eq!(t("scheduled")["source"], "aws.events");
    assert_eq!(t("eventbridge")["version"], "0");
    assert!(t("kinesis")["Records"][0]["kinesis"]["approximateArrivalTimestamp"].is_f64());
    assert_eq!(t("cognito-pre-token-generation")["version"], "2");
    // A template's derived fields already hold: deriving changes nothing.
    for kind in CATALOGUE {
        assert_eq!(
            kind.build(None, kind.edge),
            kind.template(),
            "{}",
            kind.name
        );
    }
}

#[test]
fn kind_names_are_unique_and_misspellings_are_caught() {
    let mut names: Vec<&str> = CATALOGUE.iter().map(|k| k.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CATALOGUE.len());
    assert_eq!(
        super::near("cloudfront-viewer-requst"),
        Some("cloudfront-viewer-request")
    );
    assert_eq!(super::near("kafka"), None);
}
