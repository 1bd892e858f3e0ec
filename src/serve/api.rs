//! The Lambda Invoke API as the service speaks it (botocore's `service-2.json`): which function
//! a request names, what it asks for, and the answers — the function's own, and the service's
//! errors with the status, `X-Amzn-ErrorType` and body that SDKs map to their modeled
//! exceptions. Pure: no I/O, so every rule is unit-tested here.

use base64::prelude::{BASE64_STANDARD, Engine as _};

use crate::outcome::Outcome;

/// The largest payload of a synchronous invocation.
pub const SYNC_LIMIT: usize = 6_291_456;
/// The largest payload of an asynchronous (`Event`) invocation.
pub const ASYNC_LIMIT: usize = 1_048_576;
/// How much of the log `X-Amz-Log-Result` carries.
const TAIL_BYTES: usize = 4096;
/// The account in the ARNs lambda-ci makes up.
pub const ACCOUNT: &str = "000000000000";

/// `X-Amz-Invocation-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

/// What one Invoke request asks for, once read.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The function's name, from a name, `name:qualifier`, or a full or partial ARN.
    pub function: String,
    pub qualifier: Option<String>,
    pub invocation_type: InvocationType,
    /// `X-Amz-Log-Type: Tail`.
    pub tail: bool,
    /// `X-Amz-Client-Context`, decoded.
    pub client_context: Option<serde_json::Value>,
}

/// The service's own error: its status, error type and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub status: u16,
    pub error_type: &'static str,
    pub message: String,
}

impl ServiceError {
    fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError {
            status,
            error_type,
            message: message.into(),
        }
    }

    /// A function that is not served; `served` says which are (and a near name).
    pub fn not_found(function: &str, region: &str, served: &str) -> ServiceError {
        ServiceError::new(
            404,
            "ResourceNotFoundException",
            format!(
                "Function not found: arn:aws:lambda:{region}:{ACCOUNT}:function:{function} ({served})"
            ),
        )
    }

    /// A payload over the limit of its invocation type.
    pub fn too_large(limit: usize) -> ServiceError {
        ServiceError::new(
            413,
            "RequestTooLargeException",
            format!("Request must be smaller than {limit} bytes for the InvokeFunction operation"),
        )
    }

    /// A function whose queue of calls is full.
    /// A request `serve` does not take from this caller (see `guard`).
    pub fn forbidden(message: &str) -> ServiceError {
        ServiceError::new(403, "AccessDeniedException", message)
    }

    /// A request body that did not arrive in time.
    pub fn slow_body(within: std::time::Duration) -> ServiceError {
        ServiceError::new(
            408,
            "RequestTimeoutException",
            format!(
                "The request body did not arrive within {} s.",
                within.as_secs()
            ),
        )
    }

    pub fn too_many() -> ServiceError {
        ServiceError::new(429, "TooManyRequestsException", "Rate Exceeded.")
    }

    /// A body that is not JSON.
    pub fn not_json(why: &str) -> ServiceError {
        ServiceError::new(
            400,
            "InvalidRequestContentException",
            format!("Could not parse request body into json: {why}"),
        )
    }

    /// A call cut short because the server stops.
    /// `InvokeWithResponseStream` takes `RequestResponse` and `DryRun` only.
    pub fn not_streamable() -> ServiceError {
        ServiceError::new(
            400,
            "InvalidRequestContentException",
            "InvokeWithResponseStream does not take X-Amz-Invocation-Type: Event; call Invoke for an asynchronous invocation",
        )
    }

    pub fn stopping() -> ServiceError {
        ServiceError::new(503, "ServiceException", "lambda-ci serve is stopping")
    }

    /// A path or method the Invoke API does not have.
    pub fn unknown_operation(method: &str, path: &str) -> ServiceError {
        ServiceError::new(
            404,
            "UnknownOperationException",
            format!(
                "lambda-ci serves the Invoke API only (POST /2015-03-31/functions/NAME/invocations), not {method} {path}"
            ),
        )
    }

    /// The body: `Message` or `message` as the model spells it for each exception, `Type`,
    /// and `__type` for parsers that read the error code from the body.
    pub fn body(&self) -> Vec<u8> {
        let key = match self.error_type {
            "ResourceNotFoundException" | "ServiceException" => "Message",
            _ => "message",
        };
        let mut doc =
            serde_json::json!({"Type": "User", key: self.message, "__type": self.error_type});
        if self.status == 429 {
            doc["Reason"] = "ReservedFunctionConcurrentInvocationLimitExceeded".into();
        }
        doc.to_string().into_bytes()
    }
}

/// The function name of an invocation path, `/2015-03-31/functions/{FunctionName}/invocations`,
/// percent-decoded; `None` for any other path.
pub fn function_in_path(path: &str) -> Option<String> {
    name_between(path, "/2015-03-31/functions/", "/invocations")
}

/// The function named in the path of `InvokeWithResponseStream`
/// (`/2021-11-15/functions/{name}/response-streaming-invocations`), percent-decoded.
pub fn streaming_function_in_path(path: &str) -> Option<String> {
    name_between(
        path,
        "/2021-11-15/functions/",
        "/response-streaming-invocations",
    )
}

/// The one path segment between `prefix` and `suffix`, percent-decoded.
fn name_between(path: &str, prefix: &str, suffix: &str) -> Option<String> {
    let name = path.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(name)
        .decode_utf8()
        .ok()?;
    Some(decoded.into_owned())
}

/// Reads a request: the function named in the path (`name`, `name:qualifier`,
/// `arn:aws:lambda:REGION:ACCOUNT:function:name[:qualifier]`, `ACCOUNT:function:name[:qualifier]`),
/// `?Qualifier=`, and the headers `header` gives by lowercase name.
pub fn read_request<'h>(
    named: &str,
    query: Option<&str>,
    header: impl Fn(&str) -> Option<&'h str>,
) -> Result<Request, ServiceError> {
    let (function, from_name) = split_name(named)?;
    let from_query = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "Qualifier")
            .map(|(_, v)| v.into_owned())
    });
    let qualifier = match (from_name, from_query) {
        (Some(a), Some(b)) if a != b => {
            return Err(ServiceError::new(
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
        (a, b) => a.or(b),
    };
    let invocation_type = match header("x-amz-invocation-type") {
        None | Some("RequestResponse") => InvocationType::RequestResponse,
        Some("Event") => InvocationType::Event,
        Some("DryRun") => InvocationType::DryRun,
        Some(other) => {
            return Err(ServiceError::new(
                400,
                "InvalidParameterValueException",
                format!(
                    "X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not {other:?}"
                ),
            ));
        }
    };
    let tail = match header("x-amz-log-type") {
        None | Some("None") => false,
        Some("Tail") => true,
        Some(other) => {
            return Err(ServiceError::new(
                400,
                "InvalidParameterValueException",
                format!("X-Amz-Log-Type must be None or Tail, not {other:?}"),
            ));
        }
    };
    let client_context = header("x-amz-client-context")
        .map(|encoded| {
            let bytes = BASE64_STANDARD.decode(encoded.trim()).ok();
            bytes
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .filter(serde_json::Value::is_object)
                .ok_or_else(|| {
                    ServiceError::new(
                        400,
                        "InvalidRequestContentException",
                        "Client context must be a valid Base64-encoded JSON object.",
                    )
                })
        })
        .transpose()?;
    Ok(Request {
        function,
        qualifier,
        invocation_type,
        tail,
        client_context,
    })
}

/// The function and qualifier a `FunctionName` holds.
fn split_name(named: &str) -> Result<(String, Option<String>), ServiceError> {
    let parts: Vec<&str> = named.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        [name] => (*name, None),
        [name, qualifier] => (*name, Some(*qualifier)),
        ["arn", _, "lambda", _, _, "function", name] => (*name, None),
        ["arn", _, "lambda", _, _, "function", name, qualifier] => (*name, Some(*qualifier)),
        [_, "function", name] => (*name, None),
        [_, "function", name, qualifier] => (*name, Some(*qualifier)),
        _ => ("", None),
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !valid(name) {
        return Err(ServiceError::new(
            400,
            "InvalidParameterValueException",
            format!(
                "{named:?} is not a function name, name:qualifier, or a full or partial function ARN"
            ),
        ));
    }
    Ok((name.to_string(), qualifier.map(str::to_string)))
}

/// A function's answer: the body, and `X-Amz-Function-Error` when the function failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    pub body: Vec<u8>,
    pub function_error: bool,
}

/// What an invocation's outcome answers, as the service would: every failure of the function
/// (raised, timed out, crashed, out of memory, cut) is a 200 with an error document, never a
/// 5xx that would make an SDK retry and run the handler again.
pub fn answer(outcome: &Outcome, raw: Option<&[u8]>, request_id: &str) -> Answered {
    let failed = |error_type: &str, message: String| Answered {
        body: serde_json::json!({"errorType": error_type, "errorMessage": message})
            .to_string()
            .into_bytes(),
        function_error: true,
    };
    match outcome {
        Outcome::Success { .. } => Answered {
            body: raw.unwrap_or_default().to_vec(),
            function_error: false,
        },
        Outcome::FunctionError { .. } => Answered {
            body: raw.unwrap_or_default().to_vec(),
            function_error: true,
        },
        Outcome::Timeout { message } => failed(
            "Sandbox.Timedout",
            format!("RequestId: {request_id} Error: {message}"),
        ),
        Outcome::RuntimeFailure {
            out_of_memory: true,
            ..
        } => failed(
            "Runtime.OutOfMemory",
            format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed"),
        ),
        Outcome::RuntimeFailure {
            error_type,
            message,
            ..
        } => match raw.filter(|r| is_error_document(r)) {
            Some(doc) => Answered {
                body: doc.to_vec(),
                function_error: true,
            },
            None => failed(
                error_type.as_deref().unwrap_or("Runtime.Unknown"),
                message
                    .clone()
                    .unwrap_or_else(|| "the runtime failed without an error document".into()),
            ),
        },
        Outcome::ContainerExited {
            oom_killed: true, ..
        } => failed(
            "Runtime.OutOfMemory",
            format!("RequestId: {request_id} Error: Runtime exited with error: signal: killed"),
        ),
        Outcome::ContainerExited { exit_code, .. } => failed(
            "Runtime.ExitError",
            format!(
                "RequestId: {request_id} Error: Runtime exited with error: exit status {exit_code}"
            ),
        ),
        Outcome::Transport { error, .. } => failed(
            "Runtime.ExitError",
            format!("RequestId: {request_id} Error: Runtime exited without answering: {error}"),
        ),
    }
}

fn is_error_document(raw: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(raw)
        .is_ok_and(|v| v.get("errorType").is_some() || v.get("errorMessage").is_some())
}

/// `X-Amz-Log-Result`: the last 4 KB of the invocation's log, base64-encoded, cut at a line
/// start when one is in reach.
pub fn log_result<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    let mut log = String::new();
    for line in lines {
        log.push_str(line);
        log.push('\n');
    }
    let mut start = log.len().saturating_sub(TAIL_BYTES);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    BASE64_STANDARD.encode(&log.as_bytes()[start..])
}

#[cfg(test)]
mod tests;
