//! The HTTP client for what serves the invoke path in one container (RIE, or lambda-ci's
//! agent): a readiness probe and one invocation at a time.

use std::time::{Duration, Instant};

use base64::prelude::{BASE64_STANDARD, Engine as _};

use crate::outcome::TransportError;
use crate::suite::{InvokeContext, RuntimeApi};

/// The invoke path RIE and the agent serve; the name segment must be literally `function`.
use lambda_ci_wire::INVOKE_PATH;

/// The most of a whole answer that is read: the service answers with at most 6 MB (and an
/// error document), so more is not the Runtime API's.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// How long the host waits beyond the function's own timeout before giving up on an answer.
pub const GRACE: Duration = Duration::from_secs(5);

/// Where the pieces of a streamed response go as they arrive.
pub type Pieces = tokio::sync::mpsc::UnboundedSender<Vec<u8>>;

/// A client for one container's invoke path.
pub struct Endpoint {
    client: reqwest::Client,
    /// What lambda-ci's agent asks every caller to show.
    key: Option<String>,
    base: String,
    deadline: Duration,
    api: RuntimeApi,
}

/// An HTTP answer, as it came.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// What the agent says the invocation amounted to (RIE says nothing).
    pub outcome: Option<String>,
    /// A streamed response, as it arrived.
    pub stream: Option<super::streamed::Stream>,
}

impl Endpoint {
    /// `api` at `base` (`http://host:port`), for a function whose timeout is `timeout`; an
    /// agent's `key` goes with every call.
    pub fn new(base: String, timeout: Duration, api: RuntimeApi, key: Option<&str>) -> Endpoint {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(value) = key.and_then(|k| reqwest::header::HeaderValue::from_str(k).ok()) {
            headers.insert(super::agent::KEY_HEADER, value);
        }
        let client = reqwest::Client::builder()
            .no_proxy()
            .default_headers(headers)
            .build()
            .expect("a plain-HTTP client with no TLS always builds");
        Endpoint {
            client,
            key: key.map(str::to_string),
            base,
            deadline: timeout + GRACE,
            api,
        }
    }

    /// What lambda-ci's agent asks every caller to show in its `Lambda-Ci-Key` header.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The URL that invokes the function, for people who want to call it themselves.
    pub fn invoke_url(&self) -> String {
        format!("{}{INVOKE_PATH}", self.base)
    }

    /// Whether the server in the container answers. A bare TCP connect is no proof (Docker's
    /// port proxy accepts before anything listens). RIE answers `GET /` with 404, and its
    /// invoke path is never used to probe since RIE runs the function whatever the method;
    /// the agent has a path of its own.
    pub async fn probe(&self) -> bool {
        let (path, expected) = match self.api {
            RuntimeApi::Rie => ("/", reqwest::StatusCode::NOT_FOUND),
            RuntimeApi::LambdaCi => (super::agent::READY_PATH, reqwest::StatusCode::OK),
        };
        let answer = self
            .client
            .get(format!("{}{path}", self.base))
            .timeout(Duration::from_millis(500))
            .send()
            .await;
        matches!(answer, Ok(r) if r.status() == expected)
    }

    /// Tells an agent that holds its init (`--hold-init`) to begin it; the first invocation
    /// would begin it otherwise, so a failure here costs nothing but time.
    pub async fn start_init(&self) {
        let _ = self
            .client
            .post(format!("{}{}", self.base, super::agent::INIT_PATH))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
    }

    /// Asks lambda-ci's agent for a new execution environment from the code as it now is
    /// ([`lambda_ci_wire::RELOAD_PATH`]), and waits until its init phase is over (at most
    /// `init_limit` beyond the call); the agent's own part of it, or why it did not answer.
    pub async fn reload(&self, init_limit: Duration) -> Result<Duration, String> {
        let answer = self
            .client
            .post(format!("{}{}", self.base, lambda_ci_wire::RELOAD_PATH))
            .timeout(init_limit + GRACE)
            .send()
            .await
            .map_err(|e| crate::chain::one_line(&e))?;
        if !answer.status().is_success() {
            return Err(format!("the agent answered {}", answer.status()));
        }
        let own = answer
            .headers()
            .get(lambda_ci_wire::RELOADED_HEADER)
            .and_then(|v| v.to_str().ok()?.parse::<f64>().ok())
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
            .unwrap_or_default();
        Ok(own)
    }

    /// What an answer amounted to, as the server in the container tells it.
    pub fn outcome(&self, answer: &Answer) -> crate::outcome::Outcome {
        match self.api {
            RuntimeApi::Rie => super::rie::classify(answer.status, &answer.body),
            RuntimeApi::LambdaCi => super::agent::outcome(answer),
        }
    }

    pub fn api(&self) -> RuntimeApi {
        self.api
    }

    /// Sends one payload and returns the answer with its round trip. `&mut self`: RIE exits on a
    /// second request while one is in flight (the agent queues it), so a client never sends
    /// two at once.
    pub async fn invoke(
        &mut self,
        payload: &[u8],
        context: &InvokeContext,
        pieces: Option<Pieces>,
    ) -> (Result<Answer, TransportError>, Duration) {
        let started = Instant::now();
        let answer = self.send(payload, context, pieces).await;
        (answer, started.elapsed())
    }

    async fn send(
        &self,
        payload: &[u8],
        context: &InvokeContext,
        pieces: Option<Pieces>,
    ) -> Result<Answer, TransportError> {
        let mut request = self
            .client
            .post(self.invoke_url())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(client_context) = &context.client_context {
            let encoded = BASE64_STANDARD.encode(client_context.to_string());
            request = request.header("X-Amz-Client-Context", encoded);
        }
        if let Some(trace_id) = &context.trace_id {
            request = request.header("X-Amzn-Trace-Id", trace_id);
        }
        let sent = Instant::now();
        let response = request
            .body(payload.to_vec())
            .timeout(self.deadline)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status().as_u16();
        let outcome = response
            .headers()
            .get(super::agent::OUTCOME)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if outcome.as_deref() == Some(lambda_ci_wire::Outcome::Stream.as_str()) {
            let content_type = response
                .headers()
                .get(lambda_ci_wire::CONTENT_TYPE_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let mut stream = super::streamed::Stream::new(content_type);
            let mut response = response;
            while let Some(bytes) = response
                .chunk()
                .await
                .map_err(|e| self.transport_error(&e))?
            {
                stream.take(&bytes, sent, |piece| {
                    if let Some(pieces) = &pieces {
                        let _ = pieces.send(piece.to_vec());
                    }
                })?;
            }
            return Ok(Answer {
                status,
                body: stream.response(),
                outcome,
                stream: Some(stream),
            });
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(bytes) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e))?
        {
            if body.len() + bytes.len() > MAX_BODY {
                return Err(TransportError::Oversized { limit: "8 MiB" });
            }
            body.extend_from_slice(&bytes);
        }
        Ok(Answer {
            status,
            body,
            outcome,
            stream: None,
        })
    }

    fn transport_error(&self, e: &reqwest::Error) -> TransportError {
        if e.is_timeout() {
            TransportError::Deadline {
                secs: self.deadline.as_secs_f64(),
                grace_secs: GRACE.as_secs(),
                by: self.api,
            }
        } else if e.is_connect() {
            TransportError::Connect { by: self.api }
        } else {
            // The innermost cause says what happened ("connection closed before message completed").
            TransportError::Broken {
                cause: crate::chain::root_cause(e).to_string(),
                by: self.api,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Regression: a whole answer was read however large it was; whatever answers on the
    // container's port (an image's own server under `runtime_api: rie`) could send gigabytes.
    #[tokio::test]
    async fn an_answer_larger_than_the_service_ever_gives_is_not_read_whole() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = written.clone();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 64 * 1024];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n";
            socket.write_all(head.as_bytes()).await.unwrap();
            let chunk = vec![b'x'; 1024 * 1024];
            while socket.write_all(&chunk).await.is_ok() {
                counted.fetch_add(chunk.len(), std::sync::atomic::Ordering::SeqCst);
            }
        });
        let base = format!("http://127.0.0.1:{port}");
        let mut endpoint = Endpoint::new(base, Duration::from_secs(10), RuntimeApi::Rie, None);
        let (answer, _) = endpoint
            .invoke(b"{}", &InvokeContext::default(), None)
            .await;
        assert!(
            matches!(answer, Err(TransportError::Oversized { .. })),
            "{answer:?}"
        );
        let sent = written.load(std::sync::atomic::Ordering::SeqCst);
        assert!(sent < 64 * 1024 * 1024, "{sent} bytes were taken");
    }
}
