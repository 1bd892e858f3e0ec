//! What one invocation amounted to, classified the way Lambda would describe it. Pure data:
//! the worker produces it, the judge reads it, reporters show it.

use crate::suite::RuntimeApi;
use base64::Engine as _;

/// A response body: JSON when it parses as JSON (nested at most [`crate::json::MAX_DEPTH`]
/// levels), text when it is UTF-8, bytes otherwise.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Body {
    Json(serde_json::Value),
    Text(String),
    /// Bytes that are not UTF-8, exactly as they came; base64 when serialised.
    Binary(#[serde(serialize_with = "as_base64")] Vec<u8>),
}

/// How many bytes of a binary body are shown in hex.
const SHOWN_BYTES: usize = 16;

impl Body {
    pub fn parse(bytes: &[u8]) -> Body {
        if let Ok(v) = crate::json::parse(bytes) {
            return Body::Json(v);
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Body::Text(text.to_string()),
            Err(_) => Body::Binary(bytes.to_vec()),
        }
    }
}

fn as_base64<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

impl std::fmt::Display for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Json(v) => write!(f, "{v}"),
            Body::Text(t) => f.write_str(t),
            // Shown, never printed raw: the bytes may hold anything a terminal acts on.
            Body::Binary(bytes) => {
                write!(f, "{} bytes that are not UTF-8 text:", bytes.len())?;
                for b in bytes.iter().take(SHOWN_BYTES) {
                    write!(f, " {b:02x}")?;
                }
                if bytes.len() > SHOWN_BYTES {
                    f.write_str(" …")?;
                }
                Ok(())
            }
        }
    }
}

/// What one invocation amounted to.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The handler returned; `body` is its result as the runtime serialised it.
    Success { body: Body },
    /// The handler raised: RIE answers 200 with an error document.
    FunctionError {
        error_type: String,
        message: String,
        body: serde_json::Value,
    },
    /// The function ran past its timeout and was stopped.
    Timeout { message: String },
    /// The runtime failed outside the handler: init error, crash, oversize response (HTTP 502),
    /// or any other status RIE answered with.
    RuntimeFailure {
        status: u16,
        error_type: Option<String>,
        message: Option<String>,
        body: Body,
        /// The engine reported the container out of memory during the invocation: the
        /// runtime was killed for exceeding the function's `memory`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        out_of_memory: bool,
    },
    /// No answer from RIE: connection refused or reset, or the host-side deadline passed.
    Transport {
        error: TransportError,
        /// The container was gone when the answer failed to come.
        container_gone: bool,
    },
    /// The container itself stopped.
    ContainerExited { exit_code: i64, oom_killed: bool },
}

/// The request id and timings RIE logs for an invocation.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Reported {
    /// The request id of the invocation's `START` line.
    pub request_id: Option<String>,
    /// `Duration`: the handler's own time.
    pub duration: Option<std::time::Duration>,
    /// `Init Duration`, on an invocation that initialised the runtime.
    pub init: Option<std::time::Duration>,
    /// How a streamed response arrived, for one that was streamed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<Streamed>,
}

/// How a streamed response arrived: its pieces, and when the first and last came after the
/// invocation was sent.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Streamed {
    pub chunks: u64,
    pub bytes: u64,
    pub first_chunk_ms: Option<f64>,
    pub last_chunk_ms: Option<f64>,
}

/// Why no answer came from what serves the invoke path in the container (`by`: lambda-ci's
/// agent or RIE, named in the message, not in reports' data).
#[derive(Debug, Clone, PartialEq, serde::Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TransportError {
    #[error(
        "no answer from {} within {secs:.0} s (the function's timeout plus {grace_secs} s)",
        server(*by)
    )]
    Deadline {
        secs: f64,
        grace_secs: u64,
        #[serde(skip)]
        by: RuntimeApi,
    },
    #[error("cannot connect to {} in the container", server(*by))]
    Connect {
        #[serde(skip)]
        by: RuntimeApi,
    },
    #[error("the connection to {} failed: {cause}", server(*by))]
    Broken {
        /// The innermost cause, as the HTTP client words it.
        cause: String,
        #[serde(skip)]
        by: RuntimeApi,
    },
    /// More came back than the service ever answers with: reading stopped there.
    #[error(
        "the container answered with more than {limit}, more than the service ever returns; reading stopped there (does the image run a server of its own on the invoke port?)"
    )]
    Oversized { limit: &'static str },
    /// The `--target` endpoint did not answer.
    #[error("the target {target} did not answer: {cause}")]
    Target { target: String, cause: String },
}

/// What serves the invoke path under `api`, as messages name it.
pub fn server(api: RuntimeApi) -> &'static str {
    match api {
        RuntimeApi::LambdaCi => "lambda-ci's agent",
        RuntimeApi::Rie => "RIE",
    }
}

impl Outcome {
    /// What the function answered, as checks read it: its result (a text result as a JSON
    /// string), or the error document of a raised or init error. `None` when there is none.
    pub fn response(&self) -> Option<serde_json::Value> {
        match self {
            Outcome::Success {
                body: Body::Json(v),
            }
            | Outcome::FunctionError { body: v, .. }
            | Outcome::RuntimeFailure {
                body: Body::Json(v),
                ..
            } => Some(v.clone()),
            Outcome::Success {
                body: Body::Text(t),
            } => Some(serde_json::Value::String(t.clone())),
            _ => None,
        }
    }

    /// Whether the container behind this outcome can no longer be trusted with another
    /// invocation: RIE crashes on a second request while one may still be in flight.
    pub fn container_lost(&self) -> bool {
        matches!(
            self,
            Outcome::Transport { .. } | Outcome::ContainerExited { .. }
        )
    }
}
