//! A function reached over the Invoke API instead of booted: any endpoint that speaks it — a
//! `lambda-ci serve` kept open, `sam local start-lambda`, LocalStack — given with
//! `--target http://HOST:PORT`. Each suite's function is invoked by its name with
//! `X-Amz-Log-Type: Tail`: the payload and `X-Amz-Function-Error` make the outcome, the log
//! tail its lines, their REPORT line the durations. Nothing is prepared, booted or removed.

use std::time::{Duration, Instant};

use base64::Engine as _;

use super::{Backend, Booted, Boxed, Instance, Invocation, Problem, Ready, Say, Taps};
use crate::lines::{LogLine, LogStream};
use crate::outcome::{Body, Outcome, TransportError};
use crate::plan::WorkerId;
use crate::suite::check::LogRule;
use crate::suite::{InvokeContext, Suite};

/// How long past the function's timeout a target may take to answer.
const GRACE: Duration = Duration::from_secs(10);
/// How many times a throttled call is sent again.
const RETRIES: usize = 5;

/// What a function name may hold unencoded in the invoke path, as the SDKs write it.
const NAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An Invoke API endpoint.
#[derive(Clone)]
pub struct Endpoint {
    base: String,
    client: reqwest::Client,
    /// `--sign`: the keys and region each call is signed with (SigV4, service `lambda`).
    signing: Option<(crate::gateway::Keys, String)>,
}

impl Endpoint {
    /// The endpoint at `base` (`http://127.0.0.1:9000`, no trailing slash needed).
    pub fn new(base: &str) -> Endpoint {
        Endpoint {
            base: base.trim_end_matches('/').to_string(),
            client: reqwest::Client::new(),
            signing: None,
        }
    }

    /// The endpoint, each call signed with `keys` for `region`.
    pub fn signed(mut self, keys: crate::gateway::Keys, region: String) -> Endpoint {
        self.signing = Some((keys, region));
        self
    }
}

impl Backend for Endpoint {
    fn shares(&self, _suite: &Suite) -> String {
        self.base.clone()
    }

    fn begin(&self, _suites: &[Suite]) {}

    fn prepare<'a>(&'a self, _suite: &'a Suite, _say: Say<'a>) -> Boxed<'a, Result<(), Problem>> {
        Box::pin(async { Ok(()) })
    }

    fn warning<'a>(&'a self, suite: &'a Suite) -> Boxed<'a, Option<String>> {
        Box::pin(async move { unjudgeable(suite) })
    }

    fn boot<'a>(&'a self, suite: &'a Suite, _id: WorkerId, _say: Say<'a>) -> Boxed<'a, Booted> {
        let caller = Caller {
            endpoint: self.clone(),
            name: suite.function.name.clone(),
            timeout: Duration::from_secs(suite.function.timeout.into()),
        };
        let ready = Ready {
            name: format!("{} at {}", caller.name, self.base),
            invoke_url: caller.url(),
            took: Duration::ZERO,
        };
        Box::pin(async move { Ok((Box::new(caller) as Box<dyn Instance>, ready)) })
    }

    fn reloads_in_place(&self, _suite: &Suite) -> bool {
        false
    }

    fn forget(&self, _suite: &Suite) {}
}

/// One function of a target, invoked by name.
struct Caller {
    endpoint: Endpoint,
    name: String,
    timeout: Duration,
}

impl Caller {
    fn url(&self) -> String {
        let name = percent_encoding::utf8_percent_encode(&self.name, NAME);
        format!(
            "{}/2015-03-31/functions/{name}/invocations",
            self.endpoint.base
        )
    }

    async fn call(
        &self,
        payload: &[u8],
        context: &InvokeContext,
    ) -> Result<reqwest::Response, String> {
        let mut headers = vec![("X-Amz-Log-Type".to_string(), "Tail".to_string())];
        if let Some(client_context) = &context.client_context {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(client_context.to_string());
            headers.push(("X-Amz-Client-Context".into(), encoded));
        }
        if let Some((keys, region)) = &self.endpoint.signing {
            headers = self.signed(headers, payload, keys, region)?;
        }
        let mut request = self
            .endpoint
            .client
            .post(self.url())
            .timeout(self.timeout + GRACE)
            .body(payload.to_vec());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        // Not signed: tracing may rewrite it on the way.
        if let Some(trace) = &context.trace_id {
            request = request.header("X-Amzn-Trace-Id", trace);
        }
        request.send().await.map_err(|e| crate::chain::one_line(&e))
    }

    /// `headers` with what SigV4 adds for this call (`X-Amz-Date`, `Authorization`, the
    /// session token), signed with the host and every header; `Host` itself is the client's.
    fn signed(
        &self,
        headers: Vec<(String, String)>,
        payload: &[u8],
        keys: &crate::gateway::Keys,
        region: &str,
    ) -> Result<Vec<(String, String)>, String> {
        let url = reqwest::Url::parse(&self.url()).map_err(|e| e.to_string())?;
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let mut request = crate::gateway::Request::new("POST", url.path());
        request.headers = headers;
        request.body = payload.to_vec();
        crate::gateway::sign_v4(keys, &mut request, &host, region)
            .map_err(|e| format!("the call could not be signed: {e}"))?;
        request
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("host"));
        Ok(request.headers)
    }

    /// The call, sent again after a pause while the target throttles it (429
    /// `TooManyRequestsException`), at most [`RETRIES`] times, the pause doubling from 100 ms.
    async fn call_through_throttling(
        &self,
        payload: &[u8],
        context: &InvokeContext,
    ) -> Result<reqwest::Response, String> {
        let mut pause = Duration::from_millis(100);
        for _ in 0..RETRIES {
            match self.call(payload, context).await {
                Ok(r) if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                other => return other,
            }
        }
        self.call(payload, context).await
    }

    async fn invoke(
        &self,
        payload: &[u8],
        context: &InvokeContext,
        rules: &[&LogRule],
        taps: Taps,
    ) -> Invocation {
        let sent = Instant::now();
        let answered = match self.call_through_throttling(payload, context).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let header = |name: &str| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string)
                };
                let (error, log) = (header("x-amz-function-error"), header("x-amz-log-result"));
                let kind = header("x-amzn-errortype");
                match response.bytes().await {
                    Ok(body) => Ok((status, error, log, kind, body.to_vec())),
                    Err(e) => Err(crate::chain::one_line(&e)),
                }
            }
            Err(why) => Err(why),
        };
        let round_trip = sent.elapsed();
        let (outcome, logs) = match answered {
            Ok((status, error, log, kind, body)) => {
                let logs = tail(log.as_deref());
                (outcome(status, error.is_some(), kind, &body), logs)
            }
            Err(cause) => {
                let error = TransportError::Target {
                    target: self.endpoint.base.clone(),
                    cause,
                };
                (
                    Outcome::Transport {
                        error,
                        container_gone: false,
                    },
                    Vec::new(),
                )
            }
        };
        if let Some(tap) = &taps.lines {
            for line in &logs {
                tap(&line.text);
            }
        }
        let found = rules
            .iter()
            .map(|r| {
                logs.iter()
                    .find(|l| r.finds(&l.text))
                    .map(|l| l.text.clone())
            })
            .collect();
        let reported = crate::worker::claim::reported(&logs);
        Invocation {
            answer: None,
            outcome,
            log_lines: logs.len() as u64,
            logs,
            found,
            round_trip,
            reported,
        }
    }
}

impl Instance for Caller {
    fn invoke<'a>(
        &'a mut self,
        payload: &'a [u8],
        context: &'a InvokeContext,
        rules: &'a [&'a LogRule],
        taps: Taps,
    ) -> Boxed<'a, Invocation> {
        Box::pin(Caller::invoke(self, payload, context, rules, taps))
    }

    fn reloads_in_place(&self) -> bool {
        false
    }

    fn reload(&mut self) -> Boxed<'_, Result<Ready, String>> {
        Box::pin(async { Err("a target's function is not reloaded by lambda-ci".to_string()) })
    }

    fn replace(self: Box<Self>, _id: WorkerId) -> Boxed<'static, Booted> {
        let ready = Ready {
            name: format!("{} at {}", self.name, self.endpoint.base),
            invoke_url: self.url(),
            took: Duration::ZERO,
        };
        Box::pin(async move { Ok((self as Box<dyn Instance>, ready)) })
    }

    fn retire(self: Box<Self>, _keep: bool) -> Option<super::Kept> {
        None
    }
}

/// What a target cannot give `suite`'s cases, said once: a fresh execution environment for
/// `isolation: cold` (the target's function is as warm as it is), and a streamed response for
/// `stream:` checks (the Invoke API answers whole; they fail saying so).
fn unjudgeable(suite: &Suite) -> Option<String> {
    use crate::suite::Isolation;
    let cold = suite.isolation == Isolation::Cold
        || suite
            .cases
            .iter()
            .any(|c| c.isolation == Some(Isolation::Cold));
    let streams = suite.cases.iter().any(|c| {
        c.expect
            .checks
            .iter()
            .any(|k| matches!(k.kind, crate::suite::CheckKind::Stream { .. }))
    });
    let mut said = Vec::new();
    if cold {
        said.push("`isolation: cold` is not applicable: its cases run on the target's function, warm or not as the target has it");
    }
    if streams {
        said.push(
            "`stream:` checks are not applicable: the Invoke API answers whole, so they fail",
        );
    }
    (!said.is_empty()).then(|| format!("on a target, {}", said.join("; ")))
}

/// The log lines of `X-Amz-Log-Result` (the last 4 KB, base64).
fn tail(log: Option<&str>) -> Vec<LogLine> {
    let Some(bytes) = log.and_then(|l| {
        base64::engine::general_purpose::STANDARD
            .decode(l.trim())
            .ok()
    }) else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .map(|text| LogLine {
            stream: LogStream::Stdout,
            text: text.to_string(),
            platform: false,
        })
        .collect()
}

/// What an Invoke API answer amounts to: a 200 is the function's outcome (its error document
/// with `X-Amz-Function-Error`, a timeout or a runtime failure told by its error type); any
/// other status is the service's own error.
fn outcome(status: u16, function_error: bool, kind: Option<String>, body: &[u8]) -> Outcome {
    let parsed = Body::parse(body);
    if status == 200 && !function_error {
        return Outcome::Success { body: parsed };
    }
    let doc = match &parsed {
        Body::Json(v) => v.clone(),
        _ => serde_json::Value::Null,
    };
    let text = |key: &str| doc.get(key).and_then(|v| v.as_str()).map(str::to_string);
    if status == 200 {
        let error_type = text("errorType").unwrap_or_default();
        let message = text("errorMessage").unwrap_or_default();
        // The service words its own failures `RequestId: ... Error: <what happened>`.
        let said = message
            .split_once(" Error: ")
            .map_or(message.as_str(), |(_, m)| m)
            .to_string();
        return match error_type.as_str() {
            "Sandbox.Timedout" => Outcome::Timeout { message: said },
            "Runtime.OutOfMemory" | "Runtime.ExitError" | "Runtime.Unknown" => {
                Outcome::RuntimeFailure {
                    status,
                    error_type: Some(error_type.clone()),
                    message: Some(said),
                    body: parsed,
                    out_of_memory: error_type == "Runtime.OutOfMemory",
                }
            }
            _ => Outcome::FunctionError {
                error_type,
                message,
                body: doc,
            },
        };
    }
    // The service's error (a function not found, throttled, a payload too large).
    let error_type = kind.or_else(|| text("Type")).or_else(|| text("__type"));
    let message = text("Message").or_else(|| text("message"));
    Outcome::RuntimeFailure {
        status,
        error_type,
        message,
        body: parsed,
        out_of_memory: false,
    }
}

#[cfg(test)]
mod tests;
