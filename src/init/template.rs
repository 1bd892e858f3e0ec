//! `lambda-ci init --template PATH`: one suite per function of a template, naming its resource,
//! with one smoke case made from its first event source (an `Api` event → a request to that
//! route, `SQS` → the sample SQS batch, ...).

use std::io::Write;
use std::path::Path;

use super::{place, plain, write_new};
use crate::error::Error;
use crate::suite::node::{Node, Value};
use crate::suite::{self, LoadOptions};
use crate::template::intrinsic::{entry, resource_parts};
use crate::template::{locate, passed};

/// Writes the suites into `cases`; says what it wrote on `out`, what it could not on `err`.
pub fn init(
    template: &Path,
    cases: &Path,
    load: &LoadOptions,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<u8, Error> {
    let env = load.config_env.as_deref();
    let (options, _) = passed::options(template, &load.parameters, env).map_err(Error::Usage)?;
    let stacks = locate::stacks(template, &options).map_err(Error::Load)?;
    let functions = locate::functions(&stacks);
    if functions.is_empty() {
        return Err(Error::Usage(format!(
            "{} has no AWS::Serverless::Function or AWS::Lambda::Function",
            stacks[0].stack.file.display()
        )));
    }
    std::fs::create_dir_all(cases).map_err(|e| {
        Error::Usage(format!(
            "cannot make {}: {e}; check that the directory is writable",
            cases.display()
        ))
    })?;
    let written_template = place::relative(template, cases);
    let mut wrote = 0;
    for found in &functions {
        let address = found.address();
        let suite = cases.join(format!("{}.yaml", suite::safe_name(&address)));
        let resource = resource_node(found);
        let text = render(&written_template, &address, &smoke_case(resource));
        // Only a suite that loads is written: one that names a function that cannot run here
        // would fail every run.
        let probe = suite::load_bytes_with(&suite, text.clone().into_bytes(), load);
        if let Err(errors) = probe {
            let said = errors.to_string().replace('\n', "\n  ");
            let _ = writeln!(err, "warning: no suite for `{address}`: {said}");
            continue;
        }
        write_new(&suite, &text)?;
        let _ = writeln!(
            out,
            "wrote {}: `{address}` of {}",
            suite.display(),
            template.display()
        );
        wrote += 1;
    }
    if wrote == 0 {
        return Err(Error::Usage(format!(
            "no function of {} can run here; see the warnings",
            template.display()
        )));
    }
    // The values passed here are needed by every run of these suites.
    let mut again = String::new();
    for (key, value) in &load.parameters {
        again.push_str(&format!(
            " --parameter-overrides {}",
            plain(&format!("{key}={value}"))
        ));
    }
    if let Some(env) = &load.config_env {
        again.push_str(&format!(" --config-env {}", plain(env)));
    }
    let _ = writeln!(
        out,
        "run them with: lambda-ci run {}{again}",
        cases.display()
    );
    Ok(crate::exit::SUCCESS)
}

fn resource_node(found: &locate::Found) -> Option<Node> {
    found
        .reached
        .stack
        .section("Resources")
        .iter()
        .find(|(k, _)| k.name == found.id)
        .map(|(_, r)| r.clone())
}

/// A case: its name, and the lines under it (`event_template`, `event`, `request`).
struct Smoke {
    name: String,
    lines: Vec<String>,
    /// A request through a front door, whose checks speak of the HTTP response.
    request: bool,
}

fn text_at(node: Option<&Node>) -> Option<String> {
    match &node?.value {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The smoke case for a function's first event source.
fn smoke_case(resource: Option<Node>) -> Smoke {
    let events = resource
        .as_ref()
        .and_then(|r| resource_parts(r).1)
        .and_then(|p| entry(p, "Events"));
    let first = match events.map(|e| &e.value) {
        Some(Value::Map(entries)) => entries.first().map(|(_, e)| e.clone()),
        _ => None,
    };
    let kind = first.as_ref().and_then(|e| text_at(entry(e, "Type")));
    let props = first.as_ref().and_then(|e| entry(e, "Properties").cloned());
    let prop = |name: &str| text_at(props.as_ref().and_then(|p| entry(p, name)));
    let url = resource
        .as_ref()
        .and_then(|r| resource_parts(r).1)
        .and_then(|p| entry(p, "FunctionUrlConfig"))
        .is_some();
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    // A front door's case is a request to the route, judged as the HTTP response.
    let request = |api: &str| {
        let path = prop("Path").unwrap_or_else(|| "/".into());
        let method = prop("Method")
            .unwrap_or_else(|| "get".into())
            .to_uppercase();
        let method = if method == "ANY" || method == "*" {
            "GET".into()
        } else {
            method
        };
        let (concrete, _) = fill(&path);
        Smoke {
            name: format!("answers {method} {path}"),
            lines: vec![format!(
                "request: {{api: {api}, method: {method}, path: {}}}",
                quote(&concrete)
            )],
            request: true,
        }
    };
    let sample = |template: &str, what: &str| Smoke {
        name: format!("handles {what}"),
        lines: vec![format!("event_template: {template}")],
        request: false,
    };
    match kind.as_deref() {
        Some("Api") => request("rest"),
        Some("HttpApi") => request("http"),
        Some("SQS") => sample("sqs", "an SQS batch"),
        Some("SNS") => sample("sns", "an SNS notification"),
        Some("S3") => sample("s3-put", "an S3 notification"),
        Some("Schedule" | "ScheduleV2") => sample("scheduled", "a scheduled event"),
        Some("EventBridgeRule" | "CloudWatchEvent") => {
            sample("eventbridge", "an EventBridge event")
        }
        Some("DynamoDB") => sample("dynamodb", "a DynamoDB Streams record"),
        Some("Kinesis") => sample("kinesis", "a Kinesis record"),
        _ if url => Smoke {
            name: "answers a request to its function URL".into(),
            lines: vec!["request: {api: url, path: /}".into()],
            request: true,
        },
        _ => Smoke {
            name: "answers an empty event".into(),
            lines: vec!["event: {}".into()],
            request: false,
        },
    }
}

/// A path with each `{param}` filled with `1`, and the path parameters as YAML pairs.
fn fill(path: &str) -> (String, String) {
    let mut params = Vec::new();
    let concrete: Vec<String> = path
        .split('/')
        .map(
            |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => {
                    let name = name.trim_end_matches('+');
                    params.push(format!(
                        "{}: \"1\"",
                        serde_json::to_string(name).unwrap_or_default()
                    ));
                    "1".to_string()
                }
                None => part.to_string(),
            },
        )
        .collect();
    (concrete.join("/"), params.join(", "))
}

fn render(template: &str, address: &str, smoke: &Smoke) -> String {
    let mut text = format!(
        "# The test suite of `{address}`, written by `lambda-ci init --template`; run it with\n\
         # `lambda-ci run`. Runtime, handler, code, layers, environment and limits are read from\n\
         # the template (`lambda-ci explain {address} --template ...` shows each value and where\n\
         # it came from); a key written under `function:` here wins over the template's.\n\
         function:\n  template: {}\n  resource: {}\ncases:\n  - name: {}\n",
        plain(template),
        plain(address),
        serde_json::to_string(&smoke.name).unwrap_or_default()
    );
    for line in &smoke.lines {
        text.push_str(&format!("    {line}\n"));
    }
    if smoke.request {
        text.push_str(
            "    # Without `expect:` a case passes when the front door passes the function's answer on\n\
             \x20   # (no error of its own). Say what must come back once you know, for example:\n\
             \x20   # expect:\n\
             \x20   #   status: 200\n",
        );
        return text;
    }
    text.push_str(
        "    # Without `expect:` a case passes when the invocation succeeds (no error, no timeout).\n\
         \x20   # Say what must come back once you know, for example:\n\
         \x20   # expect:\n\
         \x20   #   response_contains: {statusCode: 200}\n",
    );
    text
}
